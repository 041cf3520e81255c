//! `hookline check`: validates `hookline.toml`, `wrangler.toml` and `template.yaml`, each on its
//! own and against each other, and explains every problem with the file, the path inside it,
//! what is wrong and what to do.
//!
//! The work is in [`check`], a pure function from file texts to [`Finding`]s, so every rule is
//! unit-tested without touching the disk; [`run`] only reads the files and prints.
//!
//! Values are never echoed: a var or an environment variable may hold a secret.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::error::FileError;
use crate::ui::{Style, untrusted};
use crate::{CliError, Ui};

mod api;
mod cfn;
mod cross;
mod embedded;
mod hookline;
mod report;
mod secrets;
mod template;
#[cfg(test)]
mod test_support;
mod wrangler;

use cross::Cross;
use hookline::check_hookline;
use report::Report;
use template::check_template;
use wrangler::check_wrangler;

/// `hookline check` options.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  # hookline.toml, wrangler.toml and template.yaml in this directory
  hookline check
  hookline check --wrangler deploy/prod.toml  # name another file
  hookline check --env       # also resolve hookline.toml's env: secrets
  hookline --json check --strict   # for CI: warnings fail too, JSON out

Exit codes: 0 no errors, 1 errors (or warnings with --strict), 74 a named file is unreadable.")]
pub struct Args {
    /// The hookline configuration [default: hookline.toml, skipped when absent].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The receiver's wrangler configuration [default: wrangler.toml, skipped when absent].
    #[arg(long, value_name = "FILE")]
    pub wrangler: Option<PathBuf>,
    /// The sender's SAM template [default: template.yaml, skipped when absent].
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Also resolve hookline.toml's `env:` secret references against this environment, as
    /// `hookline dev` will (values are never printed).
    #[arg(long)]
    pub env: bool,
    /// Fail (exit 1) on warnings too, not only on errors.
    #[arg(long)]
    pub strict: bool,
}

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Will not deploy, will not start, or loses or exposes data: exit 1.
    Error,
    /// Probably a mistake, but may be deliberate (dev and prod differ): exit 0 unless `--strict`.
    Warning,
    /// Something to know or do (secrets to set, parts that could not be checked).
    Note,
}

impl Severity {
    fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warn",
            Severity::Note => "note",
        }
    }
}

/// One problem, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// The file, as named on the command line (or its default name).
    pub file: String,
    /// Where in the file: a dotted path such as `vars.HOOKLINE_CONFIG.sources.stripe.secrets[0]`,
    /// `line 3, column 9` for syntax errors, or empty for the whole file.
    pub path: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<5}  {}: ", self.severity.label(), self.file)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// One file to check: its display name and its text.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The name findings carry (the path as given).
    pub name: &'a str,
    /// The file's contents.
    pub text: &'a str,
}

/// The files to check; any may be absent.
#[derive(Clone, Copy, Debug, Default)]
pub struct Inputs<'a> {
    /// `hookline.toml`.
    pub config: Option<Input<'a>>,
    /// `wrangler.toml`.
    pub wrangler: Option<Input<'a>>,
    /// `template.yaml`.
    pub template: Option<Input<'a>>,
}

/// Looks up an environment variable (for `--env`).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Checks every given file and the files against each other. `env`, when given, resolves
/// `hookline.toml`'s `env:` references. Findings come grouped by file, in file order.
pub fn check(inputs: &Inputs<'_>, env: Option<Lookup<'_>>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let local = inputs.config.map(|i| {
        let mut r = Report::new(i.name);
        let config = check_hookline(i.text, env, &mut r);
        findings.append(&mut r.findings);
        (i.name, config)
    });
    let worker = inputs.wrangler.map(|i| {
        let mut r = Report::new(i.name);
        let facts = check_wrangler(i.text, &mut r);
        findings.append(&mut r.findings);
        (i.name, facts)
    });
    let sender = inputs.template.map(|i| {
        let mut r = Report::new(i.name);
        let facts = check_template(i.text, &mut r);
        findings.append(&mut r.findings);
        (i.name, facts)
    });
    let local = local.and_then(|(name, c)| c.map(|c| (name, c)));
    let cross = Cross {
        local: local.as_ref().map(|(n, c)| (*n, c)),
        worker: worker.as_ref().map(|(n, f)| (*n, f)),
        sender: sender.as_ref().map(|(n, f)| (*n, f)),
    };
    findings.extend(cross.check());
    let order = |f: &Finding| {
        [inputs.config, inputs.wrangler, inputs.template]
            .iter()
            .position(|i| i.is_some_and(|i| i.name == f.file))
            .unwrap_or(usize::MAX)
    };
    findings.sort_by_key(order);
    findings
}

/// Counts by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Notes.
    pub notes: usize,
}

impl Counts {
    /// Counts `findings`.
    pub fn of(findings: &[Finding]) -> Self {
        let mut c = Counts::default();
        for f in findings {
            match f.severity {
                Severity::Error => c.errors += 1,
                Severity::Warning => c.warnings += 1,
                Severity::Note => c.notes += 1,
            }
        }
        c
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Runs `hookline check`: reads the files, prints every finding and a summary, and fails with
/// [`CliError::Reported`] when there are errors (or warnings, with `--strict`).
pub fn run(args: Args, ui: Ui) -> Result<(), CliError> {
    let mut findings = Vec::new();
    let mut read = |given: Option<PathBuf>, default: &str, flag: &'static str| {
        read_input(given, default, flag, &mut findings)
    };
    let config = read(args.config, "hookline.toml", "--config")?;
    let wrangler = read(args.wrangler, "wrangler.toml", "--wrangler")?;
    let template = read(args.template, "template.yaml", "--template")?;
    fn as_input(f: &Option<(String, String)>) -> Option<Input<'_>> {
        f.as_ref().map(|(name, text)| Input {
            name: name.as_str(),
            text: text.as_str(),
        })
    }
    let inputs = Inputs {
        config: as_input(&config),
        wrangler: as_input(&wrangler),
        template: as_input(&template),
    };
    let lookup = |name: &str| std::env::var(name).ok();
    findings.extend(check(&inputs, args.env.then_some(&lookup as Lookup<'_>)));
    let files: Vec<&str> = [&config, &wrangler, &template]
        .iter()
        .filter_map(|f| f.as_ref().map(|(name, _)| name.as_str()))
        .collect();

    for f in &findings {
        ui.emit(
            || {
                let style = match f.severity {
                    Severity::Error => Style::Red,
                    Severity::Warning => Style::Yellow,
                    Severity::Note => Style::Cyan,
                };
                let label = format!("{:<5}", f.severity.label());
                let rest = f.to_string();
                // Names and paths quoted from the files: one line each, nothing for the terminal.
                let rest = untrusted(rest.get(label.len()..).unwrap_or_default());
                format!("{}{rest}", ui.paint(style, &label))
            },
            || serde_json::json!(f),
        );
    }
    let counts = Counts::of(&findings);
    let failed = counts.errors > 0 || (args.strict && counts.warnings > 0);
    ui.emit(
        || {
            let checked = if files.is_empty() {
                "no files".to_owned()
            } else {
                files.join(", ")
            };
            let verdict = if counts.errors > 0 {
                ui.paint(Style::Red, "failed")
            } else if failed {
                ui.paint(Style::Red, "failed (--strict)")
            } else {
                ui.paint(Style::Green, "ok")
            };
            format!(
                "{verdict}: {}, {}, {} ({checked})",
                plural(counts.errors, "error"),
                plural(counts.warnings, "warning"),
                plural(counts.notes, "note"),
            )
        },
        || {
            serde_json::json!({"summary": {
                "ok": !failed,
                "errors": counts.errors,
                "warnings": counts.warnings,
                "notes": counts.notes,
                "files": files,
            }})
        },
    );
    // The summary above is the verdict: the error carries no message, so it is not said twice.
    if failed {
        Err(CliError::Reported)
    } else {
        Ok(())
    }
}

/// Reads one file: an explicitly named file must exist; a missing default is skipped with a note.
fn read_input(
    given: Option<PathBuf>,
    default: &str,
    flag: &'static str,
    findings: &mut Vec<Finding>,
) -> Result<Option<(String, String)>, CliError> {
    let explicit = given.is_some();
    let path = given.unwrap_or_else(|| PathBuf::from(default));
    let name = path.display().to_string();
    match std::fs::read(&path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Ok(Some((name, text))),
            Err(_) => Err(FileError::NotUtf8 { path }.into()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            findings.push(Finding {
                severity: Severity::Note,
                file: name,
                path: String::new(),
                message: format!("not found, skipped (name another file with {flag} FILE)"),
            });
            Ok(None)
        }
        Err(source) => Err(FileError::Unreadable {
            path,
            flag: Some(flag),
            source,
        }
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test_support::*;

    #[test]
    fn baselines_are_clean() {
        let all = run_check(Some(CONFIG), Some(WRANGLER), Some(TEMPLATE));
        no_errors(&all);
        assert!(all.iter().all(|f| f.severity == Severity::Note), "{all:#?}");
    }

    #[test]
    fn the_repositorys_own_files_have_no_errors() {
        let findings = run_check(
            None,
            Some(include_str!("../../../wrangler.toml")),
            Some(include_str!("../../../template.yaml")),
        );
        no_errors(&findings);
    }

    #[test]
    fn human_line_has_severity_file_path_and_message() {
        let f = Finding {
            severity: Severity::Error,
            file: "wrangler.toml".into(),
            path: "vars.HOOKLINE_CONFIG.sources.stripe.secrets[0]".into(),
            message: "bad".into(),
        };
        assert_eq!(
            f.to_string(),
            "error  wrangler.toml: vars.HOOKLINE_CONFIG.sources.stripe.secrets[0]: bad"
        );
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["severity"], "error");
        assert_eq!(
            json["path"],
            "vars.HOOKLINE_CONFIG.sources.stripe.secrets[0]"
        );
        assert_eq!(Counts::of(&[f]).errors, 1);
    }

    #[test]
    fn findings_are_grouped_by_file() {
        let f = run_check(
            Some("[sources.x\n"),
            Some("name = \n"),
            Some("Resources: [\n"),
        );
        let files: Vec<&str> = f.iter().map(|f| f.file.as_str()).collect();
        assert_eq!(files, ["hookline.toml", "wrangler.toml", "template.yaml"]);
    }
}
