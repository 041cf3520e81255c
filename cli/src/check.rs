//! `hookline check`: validates `hookline.toml`, `wrangler.toml` and `template.yaml`, each on its
//! own and against each other, and explains every problem with the file, the path inside it,
//! what is wrong and what to do.
//!
//! The work is in [`check`], a pure function from file texts to [`Finding`]s, so every rule is
//! unit-tested without touching the disk; [`run`] only reads the files and prints.
//!
//! Values are never echoed: a var or an environment variable may hold a secret.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hookline_core::config::{
    Config, ConfigError, DeliveryConfig, Destination, EndpointConfig, SourceConfig, edit_distance,
};
use hookline_core::secret::SecretRef;
use serde::Serialize;
use serde_norway::Value as Yaml;
use toml::{Table, Value as Toml};

use crate::ui::{Style, untrusted};
use crate::{CliError, Ui};

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
/// [`CliError::Problems`] when there are errors (or warnings, with `--strict`).
pub fn run(args: Args, ui: Ui) -> Result<(), CliError> {
    let mut findings = Vec::new();
    let mut read = |given: Option<PathBuf>, default: &str, flag: &str| {
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
        Err(CliError::Problems(String::new()))
    } else {
        Ok(())
    }
}

/// Reads one file: an explicitly named file must exist; a missing default is skipped with a note.
fn read_input(
    given: Option<PathBuf>,
    default: &str,
    flag: &str,
    findings: &mut Vec<Finding>,
) -> Result<Option<(String, String)>, CliError> {
    let explicit = given.is_some();
    let path = given.unwrap_or_else(|| PathBuf::from(default));
    let name = path.display().to_string();
    match std::fs::read(&path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Ok(Some((name, text))),
            Err(_) => Err(CliError::Io(format!("{name}: not UTF-8 text"))),
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
        Err(e) => Err(CliError::Io(format!(
            "cannot read {} (named with {flag}): {e}",
            show(&path)
        ))),
    }
}

fn show(path: &Path) -> String {
    path.display().to_string()
}

// ---------------------------------------------------------------------------------------------
// Collecting findings
// ---------------------------------------------------------------------------------------------

/// Findings for one file.
struct Report {
    file: String,
    findings: Vec<Finding>,
}

impl Report {
    fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            findings: Vec::new(),
        }
    }

    fn add(&mut self, severity: Severity, path: impl Into<String>, message: impl Into<String>) {
        self.findings.push(Finding {
            severity,
            file: self.file.clone(),
            path: path.into(),
            message: message.into(),
        });
    }

    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.add(Severity::Error, path, message);
    }

    fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.add(Severity::Warning, path, message);
    }

    fn note(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.add(Severity::Note, path, message);
    }

    /// The config loader's problems, under `prefix` (`vars.HOOKLINE_CONFIG`).
    fn config_errors(&mut self, prefix: &str, errors: &[ConfigError]) {
        for e in errors {
            let path = match (prefix.is_empty(), e.path.is_empty()) {
                (true, _) => e.path.clone(),
                (false, true) => prefix.to_owned(),
                (false, false) if e.path.starts_with("line ") => {
                    format!("{prefix} (JSON {})", e.path)
                }
                (false, false) => format!("{prefix}.{}", e.path),
            };
            self.error(path, e.message.clone());
        }
    }
}

fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_owned()
    } else {
        format!("{prefix}.{rest}")
    }
}

/// Parser messages may quote a value (`invalid type: string "whsec_...", expected ...`): quoted
/// values become `"…"`; field names, which parsers quote with backticks, stay.
fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let (mut quoted, mut escaped) = (false, false);
    for c in message.chars() {
        if quoted {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => {
                    quoted = false;
                    out.push_str("…\"");
                }
                _ => escaped = false,
            }
        } else {
            out.push(c);
            quoted = c == '"';
        }
    }
    out.trim_end().to_owned()
}

fn line_col(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {col}")
}

/// Every secret reference in a configuration's sources (what a Worker reads).
fn source_refs(config: &Config) -> Vec<(String, String)> {
    config
        .sources
        .iter()
        .flat_map(|(name, s)| {
            s.secrets
                .iter()
                .enumerate()
                .map(move |(i, r)| (format!("sources.{name}.secrets[{i}]"), r.clone()))
        })
        .collect()
}

/// Every secret reference in a configuration's endpoints (what the sender reads), `env:` URLs
/// included.
fn endpoint_refs(config: &Config) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, e) in &config.endpoints {
        if e.url.starts_with("env:") {
            out.push((format!("endpoints.{name}.url"), e.url.clone()));
        }
        for (i, r) in e.secrets.iter().enumerate() {
            out.push((format!("endpoints.{name}.secrets[{i}]"), r.clone()));
        }
    }
    out
}

fn env_name(reference: &str) -> Option<&str> {
    match reference.parse::<SecretRef>() {
        Ok(SecretRef::Env(_)) => reference.strip_prefix("env:"),
        _ => None,
    }
}

fn is_literal(reference: &str) -> bool {
    reference.starts_with("literal:")
}

const LITERAL_IN_DEPLOYABLE: &str = "a literal secret in a deployed file: literal: is for local \
    development only (the value would sit in version control and in the deployment's settings)";

/// Flags `literal:` secrets in a configuration that is deployed.
fn literal_secrets(r: &mut Report, prefix: &str, config: &Config, fix: &str) {
    for (path, reference) in source_refs(config).into_iter().chain(endpoint_refs(config)) {
        if is_literal(&reference) {
            r.error(
                join(prefix, &path),
                format!("{LITERAL_IN_DEPLOYABLE}; write \"env:NAME\" and {fix}"),
            );
        }
    }
}

fn names(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------------------------------------
// hookline.toml
// ---------------------------------------------------------------------------------------------

/// `hookline.toml`: parses and validates, lists the `env:` secrets it needs (resolving them with
/// `--env`). Returns the configuration when it could be read, even with validation errors, for
/// the cross-file checks.
fn check_hookline(text: &str, env: Option<Lookup<'_>>, r: &mut Report) -> Option<Config> {
    let config = match Config::from_toml(text) {
        Ok(config) => Some(config),
        Err(errors) => {
            r.config_errors("", &errors.0);
            toml::from_str::<Config>(text).ok()
        }
    };
    let config = config?;
    let refs: Vec<(String, String)> = source_refs(&config)
        .into_iter()
        .chain(endpoint_refs(&config))
        .collect();
    let mut needed = BTreeSet::new();
    for (path, reference) in &refs {
        if is_literal(reference) {
            r.note(
                path.as_str(),
                "a literal secret: fine for `hookline dev`, but it is copied into any \
                 configuration made from this file (the sender's ConfigJson): use env:NAME for \
                 anything deployed",
            );
        }
        let Some(name) = env_name(reference) else {
            continue;
        };
        match env {
            Some(lookup) => match lookup(name) {
                Some(v) if !v.is_empty() => {}
                Some(_) => r.warn(
                    path.as_str(),
                    format!("environment variable {name} is set but empty; set it to the secret"),
                ),
                None => r.warn(
                    path.as_str(),
                    format!(
                        "environment variable {name} is not set; `hookline dev` will refuse to \
                         start until it is (export {name}=...)"
                    ),
                ),
            },
            None => {
                needed.insert(name.to_owned());
            }
        }
    }
    if !needed.is_empty() {
        r.note(
            "",
            format!(
                "needs these environment variables at runtime: {} (check them with \
                 `hookline check --env`)",
                names(&needed)
            ),
        );
    }
    Some(config)
}

// ---------------------------------------------------------------------------------------------
// wrangler.toml
// ---------------------------------------------------------------------------------------------

/// What the cross-file checks need from `wrangler.toml`.
#[derive(Debug, Default)]
struct WorkerFacts {
    /// The Worker configuration of the top level (`vars.HOOKLINE_CONFIG`), when it loads.
    config: Option<Config>,
    /// Each `[env.NAME]`'s configuration, by path prefix (`env.production.vars.HOOKLINE_CONFIG`).
    env_configs: Vec<(String, Config)>,
}

const CONFIG_VAR: &str = "HOOKLINE_CONFIG";
const BUCKET_VAR: &str = "HOOKLINE_BODIES_BUCKET";
const SQS_QUEUE_VAR: &str = "HOOKLINE_SQS_QUEUE_URL";
const SQS_OUTBOUND_VAR: &str = "HOOKLINE_SQS_OUTBOUND_URL";
const REGION_VAR: &str = "HOOKLINE_SQS_REGION";
const RETRY_BASE_VAR: &str = "HOOKLINE_FORWARD_RETRY_BASE";
const RETRY_MAX_VAR: &str = "HOOKLINE_FORWARD_RETRY_MAX";
/// Every var the receiver reads (functions/receiver/src/settings.rs).
const WORKER_VARS: [&str; 7] = [
    CONFIG_VAR,
    BUCKET_VAR,
    SQS_QUEUE_VAR,
    SQS_OUTBOUND_VAR,
    REGION_VAR,
    RETRY_BASE_VAR,
    RETRY_MAX_VAR,
];
/// The AWS credentials the queue consumer signs with: Worker secrets, never vars.
const AWS_SECRETS: [&str; 3] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];
const QUEUE_BINDING: &str = "INBOUND_QUEUE";
const BUCKET_BINDING: &str = "BODIES";
/// Cloudflare's longest retry delay for a queue message.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(12 * 60 * 60);

fn check_wrangler(text: &str, r: &mut Report) -> WorkerFacts {
    let mut facts = WorkerFacts::default();
    let doc = match toml::from_str::<Table>(text) {
        Ok(doc) => doc,
        Err(e) => {
            let at = e
                .span()
                .map(|s| line_col(text, s.start))
                .unwrap_or_default();
            r.error(at, format!("not valid TOML: {}", redact(e.message())));
            return facts;
        }
    };
    if !doc.get("name").is_some_and(Toml::is_str) {
        r.error(
            "name",
            "missing: the Worker's name, e.g. name = \"hookline-receiver\" (wrangler deploy needs it)",
        );
    }
    facts.config = check_worker(&doc, "", None, r);
    if let Some(envs) = doc.get("env").and_then(Toml::as_table) {
        for (env_name, env) in envs {
            let Some(env) = env.as_table() else {
                r.error(format!("env.{env_name}"), "must be a table");
                continue;
            };
            let prefix = format!("env.{env_name}");
            if let Some(config) = check_worker(env, &prefix, Some(&doc), r) {
                facts
                    .env_configs
                    .push((format!("{prefix}.vars.{CONFIG_VAR}"), config));
            }
        }
    }
    facts
}

fn str_of<'a>(t: &'a Table, key: &str) -> Option<&'a str> {
    t.get(key).and_then(Toml::as_str)
}

fn tables(v: Option<&Toml>) -> Vec<(usize, &Table)> {
    v.and_then(Toml::as_array)
        .map(|a| {
            a.iter()
                .enumerate()
                .filter_map(|(i, t)| t.as_table().map(|t| (i, t)))
                .collect()
        })
        .unwrap_or_default()
}

/// One deployable Worker: the top level, or one `[env.NAME]` (`top` is then the top level,
/// from which `main` and `compatibility_date` are inherited; vars and bindings are not).
fn check_worker(w: &Table, prefix: &str, top: Option<&Table>, r: &mut Report) -> Option<Config> {
    let at = |rest: &str| join(prefix, rest);
    let not_inherited = if prefix.is_empty() {
        String::new()
    } else {
        format!(" (environments do not inherit vars and bindings: repeat them under [{prefix}])")
    };
    let inherited = |key: &str| w.get(key).or_else(|| top.and_then(|t| t.get(key)));
    if top.is_none() || w.contains_key("main") {
        match inherited("main") {
            None => r.error(
                at("main"),
                "missing: the Worker's entry module, main = \"functions/receiver/build/index.js\" \
                 (what infra/build-receiver.sh writes)",
            ),
            Some(v) if !v.is_str() => r.error(at("main"), "must be a string (a file path)"),
            Some(_) => {}
        }
    }
    if top.is_none() || w.contains_key("compatibility_date") {
        match inherited("compatibility_date") {
            None => r.error(
                at("compatibility_date"),
                "missing: wrangler refuses to deploy without one; set compatibility_date = \
                 \"YYYY-MM-DD\" (not newer than the pinned wrangler's workerd)",
            ),
            Some(Toml::String(s)) if !is_date(s) => r.error(
                at("compatibility_date"),
                "not a date: write it as \"YYYY-MM-DD\"",
            ),
            Some(Toml::String(_)) => {}
            Some(_) => r.error(
                at("compatibility_date"),
                "must be a string: write compatibility_date = \"YYYY-MM-DD\", quoted",
            ),
        }
    }

    let empty = Table::new();
    let vars = match w.get("vars") {
        Some(Toml::Table(t)) => t,
        Some(_) => {
            r.error(at("vars"), "must be a table ([vars])");
            &empty
        }
        None => &empty,
    };
    let var = |name: &str| {
        vars.get(name)
            .and_then(Toml::as_str)
            .filter(|v| !v.is_empty())
    };
    let var_at = |name: &str| at(&format!("vars.{name}"));
    let config_at = var_at(CONFIG_VAR);

    // The configuration.
    let config = match vars.get(CONFIG_VAR) {
        None => {
            r.error(
                config_at.clone(),
                format!(
                    "missing: the receiver answers 500 configuration_error without it; add \
                     [{config_at}.sources.NAME] tables (docs/receiver.md#adding-a-source){not_inherited}"
                ),
            );
            None
        }
        Some(Toml::Table(t)) => config_from_tables(t, &config_at, r),
        Some(Toml::String(json)) => config_from_json(json, &config_at, r),
        Some(_) => {
            r.error(
                config_at.clone(),
                "must be TOML tables ([vars.HOOKLINE_CONFIG.sources.NAME]) or a string of JSON",
            );
            None
        }
    };
    let (queue_sources, relay_sources): (BTreeSet<String>, BTreeSet<String>) = config
        .as_ref()
        .map(|c| {
            let pick = |d: Destination| {
                c.sources
                    .iter()
                    .filter(|(_, s)| s.destination == d)
                    .map(|(n, _)| n.clone())
                    .collect()
            };
            (pick(Destination::Queue), pick(Destination::Relay))
        })
        .unwrap_or_default();

    // Secrets: never in [vars], never literal.
    let mut secrets: BTreeSet<String> = BTreeSet::new();
    if let Some(config) = &config {
        literal_secrets(r, &config_at, config, "`npx wrangler secret put NAME`");
        if !config.endpoints.is_empty() {
            r.note(
                format!("{config_at}.endpoints"),
                "the receiver reads only [sources]; endpoints belong to the sender's \
                 configuration (template.yaml's ConfigJson)",
            );
        }
        for (path, reference) in source_refs(config) {
            let Some(name) = env_name(&reference) else {
                continue;
            };
            secrets.insert(name.to_owned());
            if vars.contains_key(name) {
                r.error(
                    var_at(name),
                    format!(
                        "a secret set as a plain var ({config_at}.{path} reads env:{name}): plain \
                         vars are readable in wrangler.toml, in version control and in the \
                         dashboard. Remove it here and run `npx wrangler secret put {name}`"
                    ),
                );
            }
        }
    }
    for name in AWS_SECRETS {
        if vars.contains_key(name) {
            r.error(
                var_at(name),
                format!(
                    "AWS credentials must be a Worker secret, not a plain var: remove it here and \
                     run `npx wrangler secret put {name}`"
                ),
            );
        }
    }
    for (name, value) in vars {
        if value.as_str().is_some_and(looks_like_secret) && !secrets.contains(name) {
            r.error(
                var_at(name),
                "looks like a signing secret (whsec_...): secrets must be Worker secrets \
                 (`npx wrangler secret put NAME`), not plain vars",
            );
        }
        if name.starts_with("HOOKLINE_") && !WORKER_VARS.contains(&name.as_str()) {
            let hint = closest(name, &WORKER_VARS)
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
            r.warn(
                var_at(name),
                format!(
                    "the receiver does not read this var{hint}; it reads {}",
                    WORKER_VARS.join(", ")
                ),
            );
        }
    }

    // Forwarding to SQS.
    let mut forwarding = false;
    for name in [SQS_QUEUE_VAR, SQS_OUTBOUND_VAR] {
        if let Some(url) = var(name) {
            forwarding = true;
            if let Err(msg) = check_sqs_url(url, var(REGION_VAR).is_some()) {
                r.error(var_at(name), msg);
            }
        }
    }
    for name in [RETRY_BASE_VAR, RETRY_MAX_VAR] {
        if let Some(text) = var(name)
            && hookline_core::time::parse_duration(text).is_none_or(|d| d > MAX_RETRY_DELAY)
        {
            r.error(
                var_at(name),
                "not a duration of at most 12h, like \"30s\", \"5m\" or \"1h\" (the consumer \
                 would refuse to start)",
            );
        }
    }
    if forwarding {
        secrets.extend(AWS_SECRETS.iter().take(2).map(|s| (*s).to_owned()));
    }
    if !relay_sources.is_empty() && var(SQS_OUTBOUND_VAR).is_none() {
        r.note(
            var_at(SQS_OUTBOUND_VAR),
            format!(
                "relay sources ({}) are forwarded to the sender's queue: set this var to the \
                 OutboundQueueUrl output of `sam deploy` (until then their events wait on the \
                 inbound queue)",
                names(&relay_sources)
            ),
        );
    }

    // Queues.
    let queues = w.get("queues").and_then(Toml::as_table);
    let producers = tables(queues.and_then(|q| q.get("producers")));
    let consumers = tables(queues.and_then(|q| q.get("consumers")));
    let producer = producers
        .iter()
        .find(|(_, p)| str_of(p, "binding") == Some(QUEUE_BINDING));
    let inbound = match producer {
        None => {
            r.error(
                at("queues.producers"),
                format!(
                    "no producer binding {QUEUE_BINDING}: the receiver cannot enqueue and answers \
                     503 to every webhook; add [[queues.producers]] binding = \"{QUEUE_BINDING}\", \
                     queue = \"hookline-inbound\"{not_inherited}"
                ),
            );
            None
        }
        Some((i, p)) => match str_of(p, "queue") {
            Some(q) => Some(q),
            None => {
                r.error(
                    at(&format!("queues.producers[{i}].queue")),
                    "missing: the name of the queue the binding sends to, e.g. \"hookline-inbound\"",
                );
                None
            }
        },
    };
    if let Some(inbound) = inbound {
        match consumers
            .iter()
            .find(|(_, c)| str_of(c, "queue") == Some(inbound))
        {
            None if forwarding => r.error(
                at("queues.consumers"),
                format!(
                    "no consumer for \"{inbound}\", but an SQS queue URL is set: nothing would be \
                     forwarded; add [[queues.consumers]] queue = \"{inbound}\" with a \
                     dead_letter_queue"
                ),
            ),
            // Relayed events reach the sender only through this Worker's consumer: without it
            // they wait on the queue until its retention deletes them.
            None if !relay_sources.is_empty() => r.warn(
                at("queues.consumers"),
                format!(
                    "no consumer for \"{inbound}\": relay sources ({}) reach the sender only \
                     through this Worker's consumer, so their events would wait on the queue \
                     until its retention period deletes them; add [[queues.consumers]] queue = \
                     \"{inbound}\" with a dead_letter_queue",
                    names(&relay_sources)
                ),
            ),
            // Not a warning: with no SQS URL, reading the queue with a consumer declared
            // elsewhere (an HTTP pull consumer, another Worker) is a documented way to run the
            // receiver (docs/receiver.md#reading-events), and this file cannot show it.
            None => r.note(
                at("queues.consumers"),
                format!(
                    "no consumer for \"{inbound}\" in this file: events wait on it, for the \
                     queue's retention period, until a consumer you attach reads them \
                     (docs/receiver.md#reading-events); to forward them to SQS add \
                     [[queues.consumers]] queue = \"{inbound}\" with a dead_letter_queue, and \
                     set {SQS_QUEUE_VAR}"
                ),
            ),
            Some((i, c)) => {
                let c_at = at(&format!("queues.consumers[{i}]"));
                match str_of(c, "dead_letter_queue") {
                    None => r.error(
                        format!("{c_at}.dead_letter_queue"),
                        format!(
                            "missing: without a dead-letter queue Cloudflare deletes a message \
                             after its last retry, so an event that could not be forwarded is \
                             lost; add dead_letter_queue = \"{inbound}-dlq\" (and create it with \
                             `npx wrangler queues create {inbound}-dlq`)"
                        ),
                    ),
                    Some(dlq) if dlq == inbound => r.error(
                        format!("{c_at}.dead_letter_queue"),
                        "is the queue itself: failed messages would loop; name another queue, \
                         e.g. \"hookline-inbound-dlq\"",
                    ),
                    Some(_) => {}
                }
                // A note, like the outbound URL's: a value to fill in before forwarding, and
                // nothing is lost meanwhile (held, then dead-lettered, replayable).
                if !queue_sources.is_empty() && var(SQS_QUEUE_VAR).is_none() {
                    r.note(
                        var_at(SQS_QUEUE_VAR),
                        format!(
                            "empty, but the consumer for \"{inbound}\" is configured: until it is \
                             set, events of queue sources ({}) are held and then dead-lettered \
                             after max_retries (nothing is lost). Set it to your SQS queue's URL, \
                             or remove the [[queues.consumers]] block and consume \"{inbound}\" \
                             yourself",
                            names(&queue_sources)
                        ),
                    );
                }
            }
        }
    }

    // Claim checks.
    let buckets = tables(w.get("r2_buckets"));
    match buckets
        .iter()
        .find(|(_, b)| str_of(b, "binding") == Some(BUCKET_BINDING))
    {
        None => r.warn(
            at("r2_buckets"),
            format!(
                "no R2 binding {BUCKET_BINDING}: webhooks whose envelope exceeds a queue message \
                 (128 KB) are refused with 413; add [[r2_buckets]] binding = \"{BUCKET_BINDING}\", \
                 bucket_name = \"hookline-bodies\"{not_inherited}"
            ),
        ),
        Some((i, b)) => {
            let bucket = str_of(b, "bucket_name");
            match (bucket, var(BUCKET_VAR)) {
                (_, None) => r.warn(
                    var_at(BUCKET_VAR),
                    format!(
                        "not set: claim checks are off and large bodies get 413; set it to the \
                         bucket_name of the {BUCKET_BINDING} binding"
                    ),
                ),
                (Some(bucket), Some(named)) if bucket != named => r.error(
                    var_at(BUCKET_VAR),
                    format!(
                        "names another bucket than the {BUCKET_BINDING} binding \
                         (r2_buckets[{i}].bucket_name = \"{bucket}\"): claim checks would point \
                         consumers at the wrong bucket; make them equal"
                    ),
                ),
                _ => {}
            }
        }
    }

    if !secrets.is_empty() {
        r.note(
            config_at,
            format!(
                "Worker secrets to set (`npx wrangler secret put NAME`; .dev.vars for wrangler \
                 dev): {}",
                names(&secrets)
            ),
        );
    }
    config
}

fn looks_like_secret(value: &str) -> bool {
    ["whsec_", "whpk_", "sk_live_", "sk_test_"]
        .iter()
        .any(|p| value.starts_with(p))
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// The Worker's `HOOKLINE_CONFIG` written as TOML tables. Each source, endpoint and the
/// delivery table is read on its own, so a problem is reported with its path (the whole-table
/// error would not say where).
fn config_from_tables(t: &Table, at: &str, r: &mut Report) -> Option<Config> {
    let mut config = Config::default();
    let mut readable = true;
    for (key, value) in t {
        let key_at = format!("{at}.{key}");
        match key.as_str() {
            "sources" | "endpoints" => {
                let Some(items) = value.as_table() else {
                    r.error(key_at, format!("must be a table of {key} by name"));
                    readable = false;
                    continue;
                };
                for (name, item) in items {
                    let item_at = format!("{key_at}.{name}");
                    let result = if key == "sources" {
                        item.clone()
                            .try_into::<SourceConfig>()
                            .map(|s| drop(config.sources.insert(name.clone(), s)))
                    } else {
                        item.clone()
                            .try_into::<EndpointConfig>()
                            .map(|e| drop(config.endpoints.insert(name.clone(), e)))
                    };
                    if let Err(e) = result {
                        r.error(item_at, redact(e.message()));
                        readable = false;
                    }
                }
            }
            "delivery" => match value.clone().try_into::<DeliveryConfig>() {
                Ok(d) => config.delivery = d,
                Err(e) => {
                    r.error(key_at, redact(e.message()));
                    readable = false;
                }
            },
            _ => {
                r.error(
                    key_at,
                    "unknown field, expected one of `sources`, `endpoints`, `delivery`",
                );
                readable = false;
            }
        }
    }
    if let Err(errors) = config.validate() {
        r.config_errors(at, &errors.0);
    }
    readable.then_some(config)
}

/// `HOOKLINE_CONFIG` (or the sender's `HOOKLINE_CONFIG`) written as a string of JSON.
fn config_from_json(json: &str, at: &str, r: &mut Report) -> Option<Config> {
    match Config::from_json(json) {
        Ok(config) => Some(config),
        Err(errors) => {
            let parsed = serde_json::from_str::<Config>(json).ok();
            if parsed.is_none()
                && serde_json::from_str::<serde_json::Value>(json).is_err()
                && toml::from_str::<Table>(json).is_ok()
            {
                r.error(
                    at,
                    "a string of TOML: the receiver reads a string as JSON; write the \
                     configuration as [vars.HOOKLINE_CONFIG.sources.NAME] tables instead",
                );
            } else {
                r.config_errors(at, &errors.0);
            }
            parsed
        }
    }
}

/// The shape the receiver's SQS client accepts (functions/receiver/src/sqs.rs), checked here
/// without its crate: `http(s)://host[:port]/ACCOUNT/NAME` naming its region.
fn check_sqs_url(raw: &str, region_set: bool) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("must be an https:// SQS queue URL".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a queue URL has no query string or fragment".to_owned());
    }
    let segments: Vec<&str> = url.path().trim_matches('/').split('/').collect();
    if segments.len() != 2 || segments.iter().any(|s| s.is_empty()) {
        return Err(
            "expected a queue URL https://sqs.REGION.amazonaws.com/ACCOUNT/NAME".to_owned(),
        );
    }
    let host = url.host_str().unwrap_or_default();
    let named_region = host
        .strip_prefix("sqs.")
        .and_then(|h| h.split_once('.'))
        .is_some_and(|(region, rest)| !region.is_empty() && rest.starts_with("amazonaws."));
    if !named_region && !region_set {
        return Err(format!(
            "the URL does not name its region (sqs.REGION.amazonaws.com): set {REGION_VAR} too"
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// template.yaml
// ---------------------------------------------------------------------------------------------

/// What the cross-file checks need from `template.yaml`.
#[derive(Debug, Default)]
struct SenderFacts {
    /// The sender function's path (`Resources.SenderFunction`).
    function: Option<String>,
    /// Its environment variable names, when it has a literal `Variables` map.
    env_vars: Option<BTreeSet<String>>,
    /// Its configuration, when `HOOKLINE_CONFIG` is a JSON string in the template.
    config: Option<Config>,
    /// The queue's `maxReceiveCount` with default parameters, and its path.
    max_receive: Option<(String, u64)>,
}

/// A key of a YAML mapping.
fn get<'a>(v: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    match v {
        Yaml::Mapping(m) => m.get(key),
        _ => None,
    }
}

fn entries(v: Option<&Yaml>) -> Vec<(String, &Yaml)> {
    match v {
        Some(Yaml::Mapping(m)) => m
            .iter()
            .filter_map(|(k, v)| scalar(k).map(|k| (k, v)))
            .collect(),
        _ => Vec::new(),
    }
}

fn scalar(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An intrinsic function: `!Ref X`, `!GetAtt A.B`, or the long form `{"Fn::GetAtt": ...}`.
fn intrinsic(v: &Yaml) -> Option<(String, &Yaml)> {
    match v {
        Yaml::Tagged(t) => {
            let tag = t.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let name = if matches!(tag, "Ref" | "Condition") {
                tag.to_owned()
            } else {
                format!("Fn::{tag}")
            };
            Some((name, &t.value))
        }
        Yaml::Mapping(m) if m.len() == 1 => {
            let (k, v) = m.iter().next()?;
            let k = k.as_str()?;
            (k == "Ref" || k == "Condition" || k.starts_with("Fn::")).then(|| (k.to_owned(), v))
        }
        _ => None,
    }
}

/// The logical name `!Ref X` or `!GetAtt X.Arn` points at.
fn referenced(v: &Yaml) -> Option<String> {
    let (f, arg) = intrinsic(v)?;
    match (f.as_str(), arg) {
        ("Ref", Yaml::String(name)) => Some(name.clone()),
        ("Fn::GetAtt", Yaml::String(s)) => s.split('.').next().map(str::to_owned),
        ("Fn::GetAtt", Yaml::Sequence(parts)) => parts.first().and_then(scalar),
        _ => None,
    }
}

/// A value with every intrinsic CloudFormation can evaluate before deployment evaluated:
/// `Ref` to parameters, `FindInMap`, `If`, and conditions (`Equals`, `Not`, `And`, `Or`).
#[derive(Clone, Debug, PartialEq)]
enum Ev {
    Scalar(String),
    List(Vec<Ev>),
    NoValue,
}

/// A template with one assignment of its parameters.
struct Cfn<'a> {
    root: &'a Yaml,
    params: BTreeMap<String, String>,
}

/// Deep enough for any real template; a cycle of conditions stops here instead of the stack.
const MAX_EVAL_DEPTH: u8 = 32;

impl Cfn<'_> {
    fn eval(&self, v: &Yaml, depth: u8) -> Option<Ev> {
        if depth > MAX_EVAL_DEPTH {
            return None;
        }
        let d = depth + 1;
        if let Some((f, arg)) = intrinsic(v) {
            let args = match arg {
                Yaml::Sequence(s) => s.as_slice(),
                other => std::slice::from_ref(other),
            };
            return match (f.as_str(), args) {
                ("Ref", [Yaml::String(name)]) if name == "AWS::NoValue" => Some(Ev::NoValue),
                ("Ref", [Yaml::String(name)]) => self.params.get(name).cloned().map(Ev::Scalar),
                ("Fn::FindInMap", [map, k1, k2]) => {
                    let key = |v: &Yaml| match self.eval(v, d) {
                        Some(Ev::Scalar(s)) => Some(s),
                        _ => None,
                    };
                    let (map, k1, k2) = (key(map)?, key(k1)?, key(k2)?);
                    let found = entries(get(self.root, "Mappings"))
                        .into_iter()
                        .find(|(k, _)| *k == map)
                        .and_then(|(_, m)| entries(Some(m)).into_iter().find(|(k, _)| *k == k1))
                        .and_then(|(_, m)| entries(Some(m)).into_iter().find(|(k, _)| *k == k2))?;
                    self.eval(found.1, d)
                }
                ("Fn::If", [Yaml::String(cond), then, other]) => {
                    if self.condition(cond, d)? {
                        self.eval(then, d)
                    } else {
                        self.eval(other, d)
                    }
                }
                ("Condition", [Yaml::String(cond)]) => {
                    self.condition(cond, d).map(|b| Ev::Scalar(b.to_string()))
                }
                ("Fn::Equals", [a, b]) => {
                    let (a, b) = (self.eval(a, d)?, self.eval(b, d)?);
                    Some(Ev::Scalar((a == b).to_string()))
                }
                ("Fn::Not", [a]) => Some(Ev::Scalar((!self.truth(a, d)?).to_string())),
                ("Fn::And", list) => {
                    let all: Option<Vec<bool>> = list.iter().map(|a| self.truth(a, d)).collect();
                    Some(Ev::Scalar(all?.iter().all(|b| *b).to_string()))
                }
                ("Fn::Or", list) => {
                    let all: Option<Vec<bool>> = list.iter().map(|a| self.truth(a, d)).collect();
                    Some(Ev::Scalar(all?.iter().any(|b| *b).to_string()))
                }
                _ => None,
            };
        }
        match v {
            Yaml::Sequence(items) => {
                let mut out = Vec::new();
                for item in items {
                    match self.eval(item, d)? {
                        Ev::NoValue => {}
                        ev => out.push(ev),
                    }
                }
                Some(Ev::List(out))
            }
            other => scalar(other).map(Ev::Scalar),
        }
    }

    fn truth(&self, v: &Yaml, depth: u8) -> Option<bool> {
        match self.eval(v, depth)? {
            Ev::Scalar(s) => Some(s == "true"),
            _ => None,
        }
    }

    fn condition(&self, name: &str, depth: u8) -> Option<bool> {
        let cond = get(get(self.root, "Conditions")?, name)?;
        self.truth(cond, depth)
    }

    fn number(&self, v: &Yaml) -> Option<u64> {
        match self.eval(v, 0)? {
            Ev::Scalar(s) => s.parse().ok(),
            _ => None,
        }
    }
}

/// Parameters and conditions a value depends on, followed through conditions.
fn dependencies(root: &Yaml, v: &Yaml, params: &mut BTreeSet<String>, seen: &mut BTreeSet<String>) {
    let mut follow_condition = |name: &str, params: &mut BTreeSet<String>| {
        if seen.insert(name.to_owned())
            && let Some(cond) = get(root, "Conditions").and_then(|c| get(c, name))
        {
            let cond = cond.clone();
            dependencies(root, &cond, params, seen);
        }
    };
    if let Some((f, arg)) = intrinsic(v) {
        match (f.as_str(), arg) {
            ("Ref", Yaml::String(name)) => {
                params.insert(name.clone());
            }
            ("Condition", Yaml::String(name)) => follow_condition(name, params),
            ("Fn::If", Yaml::Sequence(items)) => {
                if let Some(Yaml::String(name)) = items.first() {
                    follow_condition(name, params);
                }
                for item in items.iter().skip(1) {
                    dependencies(root, item, params, seen);
                }
            }
            (_, arg) => dependencies(root, arg, params, seen),
        }
        return;
    }
    match v {
        Yaml::Sequence(items) => {
            for item in items {
                dependencies(root, item, params, seen);
            }
        }
        Yaml::Mapping(m) => {
            for item in m.values() {
                dependencies(root, item, params, seen);
            }
        }
        _ => {}
    }
}

/// The values worth trying for a parameter: its `AllowedValues`, or its default and bounds.
fn candidates(root: &Yaml, name: &str) -> Vec<String> {
    let Some(p) = get(root, "Parameters").and_then(|p| get(p, name)) else {
        return Vec::new();
    };
    let mut out: Vec<String> = match get(p, "AllowedValues") {
        Some(Yaml::Sequence(values)) => values.iter().filter_map(scalar).collect(),
        _ => ["Default", "MinValue", "MaxValue"]
            .iter()
            .filter_map(|k| get(p, k).and_then(scalar))
            .collect(),
    };
    out.dedup();
    out
}

fn defaults(root: &Yaml) -> BTreeMap<String, String> {
    entries(get(root, "Parameters"))
        .into_iter()
        .filter_map(|(name, p)| get(p, "Default").and_then(scalar).map(|d| (name, d)))
        .collect()
}

/// Every assignment of the parameters `values` depend on (at most `MAX_ASSIGNMENTS`), each
/// parameter taking each of its [`candidates`]; `None` when there would be more.
fn assignments(root: &Yaml, values: &[&Yaml]) -> Option<Vec<BTreeMap<String, String>>> {
    const MAX_ASSIGNMENTS: usize = 4096;
    let (mut params, mut seen) = (BTreeSet::new(), BTreeSet::new());
    for v in values {
        dependencies(root, v, &mut params, &mut seen);
    }
    let mut out = vec![defaults(root)];
    for name in params {
        let values = candidates(root, &name);
        if values.is_empty() {
            continue;
        }
        let mut next = Vec::new();
        for base in &out {
            for value in &values {
                let mut a = base.clone();
                a.insert(name.clone(), value.clone());
                next.push(a);
            }
        }
        if next.len() > MAX_ASSIGNMENTS {
            return None;
        }
        out = next;
    }
    Some(out)
}

const SENDER_BINARY: &str = "hookline-sender";
const FUNCTION_TYPES: [&str; 2] = ["AWS::Serverless::Function", "AWS::Lambda::Function"];

fn check_template(text: &str, r: &mut Report) -> SenderFacts {
    let mut facts = SenderFacts::default();
    let root: Yaml = match serde_norway::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let at = e
                .location()
                .map(|l| format!("line {}, column {}", l.line(), l.column()))
                .unwrap_or_default();
            r.error(at, format!("not valid YAML: {}", redact(&e.to_string())));
            return facts;
        }
    };
    let resources = entries(get(&root, "Resources"));
    if resources.is_empty() {
        r.error("Resources", "missing or empty: a template needs resources");
        return facts;
    }
    let type_of = |v: &Yaml| {
        get(v, "Type")
            .and_then(Yaml::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let resource = |name: &str| resources.iter().find(|(n, _)| n == name).map(|(_, v)| *v);

    if resources
        .iter()
        .any(|(_, v)| type_of(v).starts_with("AWS::Serverless::"))
    {
        let transform = get(&root, "Transform");
        let has = match transform {
            Some(Yaml::String(s)) => s == "AWS::Serverless-2016-10-31",
            Some(Yaml::Sequence(s)) => s
                .iter()
                .any(|t| t.as_str() == Some("AWS::Serverless-2016-10-31")),
            _ => false,
        };
        if !has {
            r.error(
                "Transform",
                "AWS::Serverless resources need Transform: AWS::Serverless-2016-10-31",
            );
        }
    }

    // The sender: the function that builds hookline-sender or reads hookline's variables.
    let functions: Vec<&(String, &Yaml)> = resources
        .iter()
        .filter(|(_, v)| FUNCTION_TYPES.contains(&type_of(v).as_str()))
        .collect();
    let is_sender = |v: &Yaml| {
        let binary = get(v, "Metadata")
            .and_then(|m| get(m, "BuildProperties"))
            .and_then(|b| get(b, "Binary"))
            .and_then(Yaml::as_str);
        let vars = get(v, "Properties")
            .and_then(|p| get(p, "Environment"))
            .and_then(|e| get(e, "Variables"));
        binary == Some(SENDER_BINARY)
            || vars.is_some_and(|vars| get(vars, "HOOKLINE_CONFIG").is_some())
    };
    let mut senders: Vec<&(String, &Yaml)> = functions
        .iter()
        .copied()
        .filter(|(_, v)| is_sender(v))
        .collect();
    if senders.is_empty() && functions.len() == 1 {
        senders = functions.clone();
    }
    if senders.is_empty() {
        r.error(
            "Resources",
            "no sender function: expected an AWS::Serverless::Function built from \
             hookline-sender (Metadata.BuildProperties.Binary) with HOOKLINE_CONFIG in its \
             environment",
        );
        return facts;
    }
    let globals = get(&root, "Globals").and_then(|g| get(g, "Function"));
    let cfn = Cfn {
        root: &root,
        params: defaults(&root),
    };
    for (name, function) in senders {
        let at = format!("Resources.{name}");
        let serverless = type_of(function) == FUNCTION_TYPES[0];
        let props = get(function, "Properties");
        let prop = |key: &str| {
            props.and_then(|p| get(p, key)).or_else(|| {
                serverless
                    .then(|| globals.and_then(|g| get(g, key)))
                    .flatten()
            })
        };
        facts.function = Some(at.clone());

        // Runtime and architecture.
        if get(function, "Metadata")
            .and_then(|m| get(m, "BuildProperties"))
            .and_then(|b| get(b, "Binary"))
            .and_then(Yaml::as_str)
            .is_some_and(|b| b != SENDER_BINARY)
        {
            r.warn(
                format!("{at}.Metadata.BuildProperties.Binary"),
                format!("builds another binary than {SENDER_BINARY}, the sender"),
            );
        }
        let image = prop("PackageType").and_then(Yaml::as_str) == Some("Image");
        if !image {
            match prop("Runtime").and_then(|v| cfn.eval(v, 0)) {
                Some(Ev::Scalar(rt)) if rt == "provided.al2023" => {}
                Some(Ev::Scalar(rt)) if rt == "provided.al2" => r.warn(
                    format!("{at}.Properties.Runtime"),
                    "provided.al2 is the older OS-only runtime; use provided.al2023",
                ),
                Some(Ev::Scalar(_)) => r.error(
                    format!("{at}.Properties.Runtime"),
                    "the sender is a native binary (bootstrap): use Runtime: provided.al2023",
                ),
                None if prop("Runtime").is_none() => r.error(
                    format!("{at}.Properties.Runtime"),
                    "missing: use Runtime: provided.al2023 (the sender is a native binary)",
                ),
                _ => r.note(
                    format!("{at}.Properties.Runtime"),
                    "set by an expression that cannot be evaluated here; expected provided.al2023",
                ),
            }
        }
        match prop("Architectures").and_then(|v| cfn.eval(v, 0)) {
            Some(Ev::List(a)) if a == [Ev::Scalar("arm64".to_owned())] => {}
            None if prop("Architectures").is_some() => r.note(
                format!("{at}.Properties.Architectures"),
                "set by an expression that cannot be evaluated here; expected [arm64]",
            ),
            _ => r.warn(
                format!("{at}.Properties.Architectures"),
                "not [arm64]: the sender is built and tested for arm64 (Graviton, cheaper per \
                 GB-second); set Architectures: [arm64]",
            ),
        }

        // Environment.
        let vars_at = format!("{at}.Properties.Environment.Variables");
        let mut vars: BTreeMap<String, &Yaml> = BTreeMap::new();
        let mut vars_known = true;
        for source in [
            serverless
                .then(|| globals.and_then(|g| get(g, "Environment")))
                .flatten(),
            props.and_then(|p| get(p, "Environment")),
        ]
        .into_iter()
        .flatten()
        {
            match get(source, "Variables") {
                Some(v @ Yaml::Mapping(_)) => vars.extend(entries(Some(v))),
                Some(_) => vars_known = false,
                None => {}
            }
        }
        facts.env_vars = vars_known.then(|| vars.keys().cloned().collect());
        let var_at = |name: &str| format!("{vars_at}.{name}");

        // HOOKLINE_CONFIG.
        let mut config_secrets_from_default = None;
        match vars.get("HOOKLINE_CONFIG") {
            None if vars_known => r.error(
                var_at("HOOKLINE_CONFIG"),
                "missing: the sender refuses to start without its configuration; add \
                 HOOKLINE_CONFIG: !Ref ConfigJson",
            ),
            None => {}
            Some(Yaml::String(json)) => {
                let config = config_from_json(json, &var_at("HOOKLINE_CONFIG"), r);
                if let Some(config) = &config {
                    literal_secrets(
                        r,
                        &var_at("HOOKLINE_CONFIG"),
                        config,
                        "a Secrets Manager dynamic reference for NAME (docs/sender.md#secrets)",
                    );
                }
                facts.config = config;
            }
            Some(v) => match referenced(v)
                .filter(|_| intrinsic(v).is_some_and(|(f, _)| f == "Ref"))
                .and_then(|p| {
                    get(&root, "Parameters")
                        .and_then(|ps| get(ps, &p))
                        .map(|d| (p, d))
                }) {
                Some((param, decl)) => match get(decl, "Default").and_then(Yaml::as_str) {
                    Some(default) => {
                        let p_at = format!("Parameters.{param}.Default");
                        if let Some(config) = config_from_json(default, &p_at, r) {
                            literal_secrets(
                                r,
                                &p_at,
                                &config,
                                "a Secrets Manager dynamic reference for NAME",
                            );
                            config_secrets_from_default = Some((p_at, config));
                        }
                        r.note(
                            var_at("HOOKLINE_CONFIG"),
                            format!(
                                "comes from the {param} parameter at deploy time: only its \
                                 default was checked; check the JSON you deploy with `hookline \
                                 check` on the hookline.toml it is made from"
                            ),
                        );
                    }
                    None => r.note(
                        var_at("HOOKLINE_CONFIG"),
                        format!("comes from the {param} parameter at deploy time; not checked"),
                    ),
                },
                None => r.note(
                    var_at("HOOKLINE_CONFIG"),
                    "set by an intrinsic function (!Sub, !Join, ...): the configuration is \
                     only known at deploy time and was not checked",
                ),
            },
        }

        // Queue URLs.
        for name in ["HOOKLINE_QUEUE_URL", "HOOKLINE_DLQ_URL"] {
            if vars_known && !vars.contains_key(name) {
                let what = if name == "HOOKLINE_QUEUE_URL" {
                    "the outbound queue's URL (fan-out re-enqueues onto it): HOOKLINE_QUEUE_URL: !Ref OutboundQueue"
                } else {
                    "the dead-letter queue's URL: HOOKLINE_DLQ_URL: !Ref DeadLetterQueue"
                };
                r.error(
                    var_at(name),
                    format!("missing: the sender refuses to start without {what}"),
                );
            }
        }

        // Secrets in the environment.
        let literal_var = |name: &str| matches!(vars.get(name), Some(Yaml::String(_)));
        let needed: Vec<(String, String)> = facts
            .config
            .as_ref()
            .map(|c| (var_at("HOOKLINE_CONFIG"), c))
            .or(config_secrets_from_default
                .as_ref()
                .map(|(p, c)| (p.clone(), c)))
            .map(|(prefix, c)| {
                endpoint_refs(c)
                    .into_iter()
                    .map(|(path, reference)| (join(&prefix, &path), reference))
                    .collect()
            })
            .unwrap_or_default();
        for (path, reference) in &needed {
            let Some(env) = env_name(reference) else {
                continue;
            };
            if vars_known && !vars.contains_key(env) {
                r.error(
                    var_at(env),
                    format!(
                        "missing: {path} reads env:{env} and the sender refuses to start without \
                         it; add {env} as a dynamic reference like BILLING_WHSEC \
                         (docs/sender.md#secrets)"
                    ),
                );
            } else if literal_var(env) {
                r.error(
                    var_at(env),
                    format!(
                        "a secret written into the template ({path} reads env:{env}): use a \
                         {{{{resolve:secretsmanager:...}}}} dynamic reference instead"
                    ),
                );
            }
        }
        for (name, v) in &vars {
            if let Yaml::String(s) = v
                && looks_like_secret(s)
                && !needed
                    .iter()
                    .any(|(_, r)| env_name(r) == Some(name.as_str()))
            {
                r.error(
                    var_at(name),
                    "looks like a signing secret written into the template: use a \
                     {{resolve:secretsmanager:...}} dynamic reference instead",
                );
            }
        }
        let literal_bytes: usize = vars
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| k.len() + v.len()))
            .sum();
        if literal_bytes > 4096 {
            r.error(
                vars_at.clone(),
                "the variables written here already exceed Lambda's 4 KB limit for all of a \
                 function's environment variables together",
            );
        }

        // The event source.
        let mut sources: Vec<(String, &Yaml, Option<&Yaml>)> = Vec::new();
        for (event, e) in entries(props.and_then(|p| get(p, "Events"))) {
            if get(e, "Type").and_then(Yaml::as_str) == Some("SQS") {
                let p = get(e, "Properties");
                sources.push((
                    format!("{at}.Properties.Events.{event}.Properties"),
                    p.unwrap_or(e),
                    p.and_then(|p| get(p, "Queue")),
                ));
            }
        }
        for (res, v) in &resources {
            if type_of(v) == "AWS::Lambda::EventSourceMapping"
                && let Some(p) = get(v, "Properties")
                && get(p, "FunctionName").and_then(referenced).as_deref() == Some(name.as_str())
            {
                sources.push((
                    format!("Resources.{res}.Properties"),
                    p,
                    get(p, "EventSourceArn"),
                ));
            }
        }
        if sources.is_empty() {
            r.error(
                format!("{at}.Properties.Events"),
                "no SQS event source: the sender is never invoked; add an event of Type: SQS \
                 reading the outbound queue, with FunctionResponseTypes: [ReportBatchItemFailures]",
            );
        }
        let queue_url_ref = vars.get("HOOKLINE_QUEUE_URL").and_then(|v| referenced(v));
        let dlq_url_ref = vars.get("HOOKLINE_DLQ_URL").and_then(|v| referenced(v));
        for (src_at, src, queue) in sources {
            match get(src, "FunctionResponseTypes").and_then(|v| cfn.eval(v, 0)) {
                Some(Ev::List(t))
                    if t.contains(&Ev::Scalar("ReportBatchItemFailures".to_owned())) => {}
                _ => r.error(
                    format!("{src_at}.FunctionResponseTypes"),
                    "must include ReportBatchItemFailures: the sender reports which records to \
                     retry, and without it Lambda deletes the whole batch, failed deliveries \
                     included",
                ),
            }
            let queue_name = queue.and_then(referenced);
            let queue_res = queue_name
                .as_deref()
                .and_then(|q| resource(q).map(|v| (q, v)));
            let Some((queue_name, queue_res)) =
                queue_res.filter(|(_, v)| type_of(v) == "AWS::SQS::Queue")
            else {
                r.note(
                    format!("{src_at}.Queue"),
                    "the queue is not a resource of this template: its redrive policy and \
                     visibility timeout were not checked",
                );
                continue;
            };
            if let Some(url) = &queue_url_ref
                && url != queue_name
            {
                r.error(
                    var_at("HOOKLINE_QUEUE_URL"),
                    format!(
                        "names {url}, but the function reads {queue_name}: fan-out deliveries \
                         must go back onto the queue the function reads (!Ref {queue_name})"
                    ),
                );
            }
            let q_at = format!("Resources.{queue_name}.Properties");
            let q_props = get(queue_res, "Properties");
            let redrive = q_props.and_then(|p| get(p, "RedrivePolicy"));
            match redrive {
                None => r.error(
                    format!("{q_at}.RedrivePolicy"),
                    "missing: a message the function keeps failing on (crash, timeout, bad \
                     configuration) is received again and again until its retention ends, then \
                     lost; add RedrivePolicy: {deadLetterTargetArn: !GetAtt DeadLetterQueue.Arn, \
                     maxReceiveCount: 10}",
                ),
                Some(redrive) => {
                    match get(redrive, "deadLetterTargetArn") {
                        None => r.error(
                            format!("{q_at}.RedrivePolicy.deadLetterTargetArn"),
                            "missing: the dead-letter queue's ARN, e.g. !GetAtt DeadLetterQueue.Arn",
                        ),
                        Some(target) => {
                            let target = referenced(target);
                            if target.as_deref() == Some(queue_name) {
                                r.error(
                                    format!("{q_at}.RedrivePolicy.deadLetterTargetArn"),
                                    "is the queue itself; name a separate dead-letter queue",
                                );
                            }
                            if let (Some(target), Some(dlq)) = (&target, &dlq_url_ref)
                                && target != dlq
                            {
                                r.warn(
                                    var_at("HOOKLINE_DLQ_URL"),
                                    format!(
                                        "names {dlq}, but the queue's redrive policy moves \
                                         messages to {target}: dead letters would be in two places"
                                    ),
                                );
                            }
                        }
                    }
                    match get(redrive, "maxReceiveCount") {
                        None => r.error(
                            format!("{q_at}.RedrivePolicy.maxReceiveCount"),
                            "missing: SQS needs it with a dead-letter target",
                        ),
                        Some(v) => {
                            if let Some(n) = cfn.number(v) {
                                facts.max_receive =
                                    Some((format!("{q_at}.RedrivePolicy.maxReceiveCount"), n));
                            }
                        }
                    }
                }
            }
            if let Some(dlq) = &dlq_url_ref
                && dlq == queue_name
            {
                r.error(
                    var_at("HOOKLINE_DLQ_URL"),
                    "is the queue the function reads: dead letters would be delivered again; \
                     name the dead-letter queue",
                );
            }
            visibility(
                r,
                &root,
                &q_at,
                q_props,
                &format!("{at}.Properties.Timeout"),
                prop("Timeout"),
                get(src, "MaximumBatchingWindowInSeconds"),
            );
        }
    }
    facts
}

/// Lambda's and SQS's defaults, when the template sets none.
const DEFAULT_FUNCTION_TIMEOUT: u64 = 3;
const DEFAULT_VISIBILITY_TIMEOUT: u64 = 30;

/// The queue's visibility timeout against the function's timeout, for every combination of the
/// parameters both depend on: AWS refuses an event source whose queue's visibility timeout is
/// shorter than the function's timeout, and recommends 6 × (plus the batching window).
fn visibility(
    r: &mut Report,
    root: &Yaml,
    q_at: &str,
    q_props: Option<&Yaml>,
    timeout_at: &str,
    timeout: Option<&Yaml>,
    window: Option<&Yaml>,
) {
    let vt = q_props.and_then(|p| get(p, "VisibilityTimeout"));
    let values: Vec<&Yaml> = [vt, timeout, window].into_iter().flatten().collect();
    let Some(assignments) = assignments(root, &values) else {
        r.note(
            format!("{q_at}.VisibilityTimeout"),
            "depends on too many parameters to check every combination",
        );
        return;
    };
    let params_used: BTreeSet<String> = {
        let (mut p, mut s) = (BTreeSet::new(), BTreeSet::new());
        for v in &values {
            dependencies(root, v, &mut p, &mut s);
        }
        p
    };
    let mut error = None;
    let mut warning = None;
    for a in &assignments {
        let cfn = Cfn {
            root,
            params: a.clone(),
        };
        let value = |v: Option<&Yaml>, default: u64| match v {
            None => Some(default),
            Some(v) => cfn.number(v),
        };
        let (Some(vt), Some(t), Some(w)) = (
            value(vt, DEFAULT_VISIBILITY_TIMEOUT),
            value(timeout, DEFAULT_FUNCTION_TIMEOUT),
            value(window, 0),
        ) else {
            r.note(
                format!("{q_at}.VisibilityTimeout"),
                "cannot be evaluated here (it depends on something only known at deploy time); \
                 it must be at least the function's timeout, ideally 6 × it",
            );
            return;
        };
        let with = {
            let set: Vec<String> = a
                .iter()
                .filter(|(k, _)| params_used.contains(*k))
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            if set.is_empty() {
                String::new()
            } else {
                format!("with {}: ", set.join(", "))
            }
        };
        if vt < t && error.is_none() {
            error = Some(format!(
                "{with}the queue's visibility timeout ({vt}s) is shorter than the function's \
                 timeout ({t}s, {timeout_at}): AWS refuses such an event source; make it at least \
                 6 × the timeout ({}s)",
                6 * t + w
            ));
        } else if vt >= t && vt < 6 * t + w && warning.is_none() {
            warning = Some(format!(
                "{with}the queue's visibility timeout ({vt}s) is below the recommended 6 × the \
                 function's timeout{} ({}s): a throttled batch may reappear while it is still \
                 being worked on",
                if w > 0 {
                    " plus the batching window"
                } else {
                    ""
                },
                6 * t + w
            ));
        }
    }
    if let Some(e) = error {
        r.error(format!("{q_at}.VisibilityTimeout"), e);
    }
    if let Some(w) = warning {
        r.warn(format!("{q_at}.VisibilityTimeout"), w);
    }
}

// ---------------------------------------------------------------------------------------------
// Across files
// ---------------------------------------------------------------------------------------------

struct Cross<'a> {
    local: Option<(&'a str, &'a Config)>,
    worker: Option<(&'a str, &'a WorkerFacts)>,
    sender: Option<(&'a str, &'a SenderFacts)>,
}

impl Cross<'_> {
    fn check(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        self.relay_endpoints(&mut out);
        self.same_sources(&mut out);
        self.sender_env(&mut out);
        self.max_receive(&mut out);
        out
    }

    /// The configuration the sender runs with: the template's own, or hookline.toml's
    /// endpoints (from which ConfigJson is made, docs/sender.md).
    fn sender_config(&self) -> Option<(String, &Config)> {
        if let Some((name, facts)) = self.sender
            && let Some(c) = &facts.config
        {
            return Some((format!("{name}'s HOOKLINE_CONFIG"), c));
        }
        self.local
            .filter(|(_, c)| !c.endpoints.is_empty())
            .map(|(name, c)| (format!("{name} [endpoints]"), c))
    }

    /// Relay sources name endpoints that the sender has.
    fn relay_endpoints(&self, out: &mut Vec<Finding>) {
        let mut configs: Vec<(&str, String, &Config)> = Vec::new();
        if let Some((file, w)) = self.worker {
            if let Some(c) = &w.config {
                configs.push((file, format!("vars.{CONFIG_VAR}"), c));
            }
            for (prefix, c) in &w.env_configs {
                configs.push((file, prefix.clone(), c));
            }
        }
        // hookline.toml checks its own endpoints; against the template's only when it has one.
        if let (Some((file, c)), Some((_, s))) = (self.local, self.sender)
            && s.config.is_some()
        {
            configs.push((file, String::new(), c));
        }
        let sender = self.sender_config();
        for (file, prefix, config) in configs {
            let mut r = Report::new(file);
            for (name, source) in &config.sources {
                if source.destination != Destination::Relay || source.relay_endpoints.is_empty() {
                    continue;
                }
                let at = join(&prefix, &format!("sources.{name}.relay_endpoints"));
                match &sender {
                    None => r.note(
                        at,
                        "the sender's configuration is set at deploy time (no hookline.toml \
                         endpoints, and template.yaml's HOOKLINE_CONFIG is a parameter): these \
                         endpoint names were not checked",
                    ),
                    Some((from, s)) => {
                        for (i, e) in source.relay_endpoints.iter().enumerate() {
                            if !s.endpoints.contains_key(e) {
                                r.error(
                                    format!("{at}[{i}]"),
                                    format!(
                                        "no endpoint named \"{e}\" in the sender's configuration \
                                         ({from}): relayed events for it would be dead-lettered \
                                         as unknown_endpoint; add [endpoints.{e}] or fix the name"
                                    ),
                                );
                            }
                        }
                    }
                }
            }
            out.append(&mut r.findings);
        }
    }

    /// The Worker's sources and hookline.toml's match (warnings: dev and prod may differ).
    fn same_sources(&self, out: &mut Vec<Finding>) {
        let (Some((local_file, local)), Some((worker_file, w))) = (self.local, self.worker) else {
            return;
        };
        let Some(worker) = &w.config else {
            return;
        };
        // A hookline.toml without sources is a sender-only configuration (docs/sender.md).
        if local.sources.is_empty() {
            return;
        }
        let mut r = Report::new(worker_file);
        let mut l = Report::new(local_file);
        for (name, s) in &worker.sources {
            let at = format!("vars.{CONFIG_VAR}.sources.{name}");
            match local.sources.get(name) {
                None => r.warn(
                    at,
                    format!("not in {local_file}: `hookline dev` does not serve this source"),
                ),
                Some(ls) => {
                    if ls.scheme != s.scheme {
                        r.warn(
                            format!("{at}.scheme"),
                            format!(
                                "\"{}\" here but \"{}\" in {local_file}: the same provider should \
                                 verify the same way in both",
                                s.scheme, ls.scheme
                            ),
                        );
                    }
                    if ls.destination != s.destination {
                        r.warn(
                            format!("{at}.destination"),
                            format!(
                                "{} here but {} in {local_file}",
                                destination(s.destination),
                                destination(ls.destination)
                            ),
                        );
                    }
                }
            }
        }
        for name in local.sources.keys() {
            if !worker.sources.contains_key(name) {
                l.warn(
                    format!("sources.{name}"),
                    format!("not in {worker_file}'s {CONFIG_VAR}: the deployed Worker answers 404 unknown_source"),
                );
            }
        }
        out.append(&mut l.findings);
        out.append(&mut r.findings);
    }

    /// hookline.toml's endpoint secrets are variables of the sender function (when the
    /// template's configuration is a deploy-time parameter made from hookline.toml).
    fn sender_env(&self, out: &mut Vec<Finding>) {
        let (Some((local_file, local)), Some((file, s))) = (self.local, self.sender) else {
            return;
        };
        let (None, Some(vars), Some(function)) = (&s.config, &s.env_vars, &s.function) else {
            return;
        };
        let mut r = Report::new(file);
        for (path, reference) in endpoint_refs(local) {
            if let Some(name) = env_name(&reference)
                && !vars.contains(name)
            {
                r.warn(
                    format!("{function}.Properties.Environment.Variables"),
                    format!(
                        "has no {name}, which {local_file}'s {path} reads: a sender deployed \
                         with this configuration refuses to start; add {name} as a Secrets \
                         Manager dynamic reference (docs/sender.md#secrets)"
                    ),
                );
            }
        }
        out.append(&mut r.findings);
    }

    /// SQS's redrive must not cut hookline's own retries short.
    fn max_receive(&self, out: &mut Vec<Finding>) {
        let Some((file, s)) = self.sender else {
            return;
        };
        let (Some((at, receives)), Some((from, config))) = (&s.max_receive, self.sender_config())
        else {
            return;
        };
        let mut r = Report::new(file);
        let policies = std::iter::once(("[delivery].retry".to_owned(), &config.delivery.retry))
            .chain(config.endpoints.iter().filter_map(|(name, e)| {
                e.retry
                    .as_ref()
                    .map(|p| (format!("endpoints.{name}.retry"), p))
            }));
        if let Some((which, attempts)) = policies
            .map(|(which, p)| (which, u64::from(p.max_attempts())))
            .max_by_key(|(_, a)| *a)
            && *receives <= attempts
        {
            r.warn(
                at.as_str(),
                format!(
                    "{receives} (with default parameters), but {which} in {from} makes \
                     {attempts} attempts: SQS would dead-letter deliveries before hookline's \
                     retries are done, without hookline's attributes; make it larger than \
                     {attempts} (MaxReceiveCount)"
                ),
            );
        }
        out.append(&mut r.findings);
    }
}

fn destination(d: Destination) -> &'static str {
    match d {
        Destination::Queue => "destination = \"queue\"",
        Destination::Relay => "destination = \"relay\"",
    }
}

/// The candidate that extends `word` (or that `word` extends), else the closest within edit
/// distance 3, for "did you mean".
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    // A var missing its suffix (HOOKLINE_SQS_QUEUE) is as likely as a typo.
    if let Some(c) = candidates
        .iter()
        .find(|c| c.starts_with(word) || word.starts_with(**c))
    {
        return Some(c);
    }
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRANGLER: &str = r#"
name = "hookline-receiver"
main = "functions/receiver/build/index.js"
compatibility_date = "2026-07-01"

[[queues.producers]]
binding = "INBOUND_QUEUE"
queue = "hookline-inbound"

[[queues.consumers]]
queue = "hookline-inbound"
max_retries = 10
dead_letter_queue = "hookline-inbound-dlq"

[[r2_buckets]]
binding = "BODIES"
bucket_name = "hookline-bodies"

[vars]
HOOKLINE_BODIES_BUCKET = "hookline-bodies"
HOOKLINE_SQS_QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound"

[vars.HOOKLINE_CONFIG.sources.stripe]
scheme = "stripe"
secrets = ["env:STRIPE_WEBHOOK_SECRET"]
"#;

    const TEMPLATE: &str = r#"
Transform: AWS::Serverless-2016-10-31
Parameters:
  ConfigJson:
    Type: String
    Default: "{}"
  FunctionTimeout:
    Type: Number
    Default: 30
    AllowedValues: [10, 30, 60]
Mappings:
  Visibility:
    "10": { Value: 60 }
    "30": { Value: 180 }
    "60": { Value: 360 }
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: !FindInMap [Visibility, !Ref FunctionTimeout, Value]
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: 10
  Dlq:
    Type: AWS::SQS::Queue
  Sender:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: hookline-sender
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Architectures: [arm64]
      Timeout: !Ref FunctionTimeout
      Environment:
        Variables:
          HOOKLINE_CONFIG: !Ref ConfigJson
          HOOKLINE_QUEUE_URL: !Ref Queue
          HOOKLINE_DLQ_URL: !Ref Dlq
          BILLING_WHSEC: "{{resolve:secretsmanager:hookline/endpoints:SecretString:BILLING_WHSEC}}"
      Events:
        Outbound:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: 10
            FunctionResponseTypes: [ReportBatchItemFailures]
"#;

    const CONFIG: &str = r#"
[sources.stripe]
scheme = "stripe"
secrets = ["env:STRIPE_WEBHOOK_SECRET"]

[endpoints.billing]
url = "https://billing.example.com/webhooks"
secrets = ["env:BILLING_WHSEC"]
"#;

    fn run_check(
        config: Option<&str>,
        wrangler: Option<&str>,
        template: Option<&str>,
    ) -> Vec<Finding> {
        let inputs = Inputs {
            config: config.map(|text| Input {
                name: "hookline.toml",
                text,
            }),
            wrangler: wrangler.map(|text| Input {
                name: "wrangler.toml",
                text,
            }),
            template: template.map(|text| Input {
                name: "template.yaml",
                text,
            }),
        };
        check(&inputs, None)
    }

    fn wrangler(text: &str) -> Vec<Finding> {
        run_check(None, Some(text), None)
    }

    fn template(text: &str) -> Vec<Finding> {
        run_check(None, None, Some(text))
    }

    fn errors(findings: &[Finding]) -> Vec<&Finding> {
        findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect()
    }

    /// The one finding at `path` with `severity`, whose message contains `text`.
    #[track_caller]
    fn expect(findings: &[Finding], severity: Severity, path: &str, text: &str) {
        assert!(
            findings
                .iter()
                .any(|f| f.severity == severity && f.path == path && f.message.contains(text)),
            "no {severity:?} at {path:?} containing {text:?} in:\n{}",
            findings
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    #[track_caller]
    fn no_errors(findings: &[Finding]) {
        let e = errors(findings);
        assert!(e.is_empty(), "unexpected errors: {e:#?}");
    }

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
            Some(include_str!("../../wrangler.toml")),
            Some(include_str!("../../template.yaml")),
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

    // ---- hookline.toml ----

    #[test]
    fn config_syntax_error_has_a_line() {
        let f = run_check(Some("[sources.x\nscheme = 1"), None, None);
        assert!(errors(&f)[0].path.starts_with("line 1"), "{f:#?}");
    }

    #[test]
    fn config_validation_errors_have_paths() {
        let f = run_check(Some(&CONFIG.replace("\"stripe\"", "\"strpe\"")), None, None);
        expect(
            &f,
            Severity::Error,
            "sources.stripe.scheme",
            "did you mean \"stripe\"",
        );
    }

    #[test]
    fn config_env_secrets_are_listed_and_resolved_with_env() {
        let f = run_check(Some(CONFIG), None, None);
        expect(
            &f,
            Severity::Note,
            "",
            "BILLING_WHSEC, STRIPE_WEBHOOK_SECRET",
        );
        let inputs = Inputs {
            config: Some(Input {
                name: "hookline.toml",
                text: CONFIG,
            }),
            ..Inputs::default()
        };
        let lookup = |name: &str| (name == "BILLING_WHSEC").then(|| "whsec_x".to_owned());
        let f = check(&inputs, Some(&lookup));
        expect(
            &f,
            Severity::Warning,
            "sources.stripe.secrets[0]",
            "STRIPE_WEBHOOK_SECRET is not set",
        );
        assert!(
            !f.iter().any(|f| f.path.starts_with("endpoints.billing")),
            "{f:#?}"
        );
    }

    #[test]
    fn config_literal_secret_is_a_note_for_local_development() {
        let f = run_check(
            Some(&CONFIG.replace("env:BILLING_WHSEC", "literal:whsec_x")),
            None,
            None,
        );
        expect(
            &f,
            Severity::Note,
            "endpoints.billing.secrets[0]",
            "hookline dev",
        );
        assert!(!f.iter().any(|f| f.message.contains("whsec_x")));
    }

    // ---- wrangler.toml ----

    #[test]
    fn wrangler_syntax_error() {
        let f = wrangler("name = \n");
        expect(&f, Severity::Error, "line 1, column 8", "not valid TOML");
    }

    #[test]
    fn wrangler_missing_name_main_and_date() {
        let text = WRANGLER
            .replace("name = \"hookline-receiver\"", "")
            .replace("main = \"functions/receiver/build/index.js\"", "")
            .replace("compatibility_date = \"2026-07-01\"", "");
        let f = wrangler(&text);
        expect(&f, Severity::Error, "name", "missing");
        expect(&f, Severity::Error, "main", "entry module");
        expect(&f, Severity::Error, "compatibility_date", "missing");
    }

    #[test]
    fn wrangler_bad_compatibility_date() {
        let f = wrangler(&WRANGLER.replace("\"2026-07-01\"", "\"July 2026\""));
        expect(&f, Severity::Error, "compatibility_date", "YYYY-MM-DD");
        let f = wrangler(&WRANGLER.replace("\"2026-07-01\"", "2026-07-01"));
        expect(
            &f,
            Severity::Error,
            "compatibility_date",
            "must be a string",
        );
    }

    #[test]
    fn wrangler_missing_config_var() {
        let text = WRANGLER.replace("[vars.HOOKLINE_CONFIG.sources.stripe]\nscheme = \"stripe\"\nsecrets = [\"env:STRIPE_WEBHOOK_SECRET\"]\n", "");
        let f = wrangler(&text);
        expect(&f, Severity::Error, "vars.HOOKLINE_CONFIG", "missing");
    }

    #[test]
    fn wrangler_config_tables_are_validated_with_paths() {
        let f = wrangler(&WRANGLER.replace("scheme = \"stripe\"", "scheme = \"strpe\""));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_CONFIG.sources.stripe.scheme",
            "did you mean",
        );
        let f = wrangler(&WRANGLER.replace("secrets = [", "secret = ["));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_CONFIG.sources.stripe",
            "unknown field `secret`",
        );
        let f = wrangler(&format!(
            "{WRANGLER}\n[vars.HOOKLINE_CONFIG.source.x]\nscheme = \"github\"\n"
        ));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_CONFIG.source",
            "unknown field",
        );
    }

    #[test]
    fn wrangler_config_as_json_string() {
        let base = WRANGLER.replace(
            "[vars.HOOKLINE_CONFIG.sources.stripe]\nscheme = \"stripe\"\nsecrets = [\"env:STRIPE_WEBHOOK_SECRET\"]\n",
            "",
        );
        let ok = base.replace(
            "[vars]\n",
            "[vars]\nHOOKLINE_CONFIG = '{\"sources\":{\"stripe\":{\"scheme\":\"stripe\",\"secrets\":[\"env:S\"]}}}'\n",
        );
        no_errors(&wrangler(&ok));
        let bad = base.replace("[vars]\n", "[vars]\nHOOKLINE_CONFIG = '{\"sources\": '\n");
        expect(
            &wrangler(&bad),
            Severity::Error,
            "vars.HOOKLINE_CONFIG (JSON line 1, column 12)",
            "",
        );
        let toml_string = base.replace(
            "[vars]\n",
            "[vars]\nHOOKLINE_CONFIG = \"\"\"\n[sources.a]\nscheme = \"github\"\n\"\"\"\n",
        );
        expect(
            &wrangler(&toml_string),
            Severity::Error,
            "vars.HOOKLINE_CONFIG",
            "a string of TOML",
        );
    }

    #[test]
    fn wrangler_literal_secret_is_an_error() {
        let f = wrangler(&WRANGLER.replace("env:STRIPE_WEBHOOK_SECRET", "literal:whsec_abc"));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_CONFIG.sources.stripe.secrets[0]",
            "local development only",
        );
        assert!(!f.iter().any(|f| f.message.contains("whsec_abc")));
    }

    #[test]
    fn wrangler_secret_set_as_plain_var() {
        let f = wrangler(&WRANGLER.replace("[vars]\n", "[vars]\nSTRIPE_WEBHOOK_SECRET = \"x\"\n"));
        expect(
            &f,
            Severity::Error,
            "vars.STRIPE_WEBHOOK_SECRET",
            "wrangler secret put STRIPE_WEBHOOK_SECRET",
        );
    }

    #[test]
    fn wrangler_aws_credentials_as_plain_var() {
        let f = wrangler(&WRANGLER.replace("[vars]\n", "[vars]\nAWS_SECRET_ACCESS_KEY = \"x\"\n"));
        expect(
            &f,
            Severity::Error,
            "vars.AWS_SECRET_ACCESS_KEY",
            "Worker secret",
        );
    }

    #[test]
    fn wrangler_var_that_looks_like_a_secret() {
        let f = wrangler(&WRANGLER.replace("[vars]\n", "[vars]\nSOMETHING = \"whsec_abcdef\"\n"));
        expect(
            &f,
            Severity::Error,
            "vars.SOMETHING",
            "looks like a signing secret",
        );
        assert!(!f.iter().any(|f| f.message.contains("whsec_abcdef")));
    }

    #[test]
    fn wrangler_unknown_hookline_var() {
        let f = wrangler(&WRANGLER.replace("[vars]\n", "[vars]\nHOOKLINE_SQS_QUEUE = \"x\"\n"));
        expect(
            &f,
            Severity::Warning,
            "vars.HOOKLINE_SQS_QUEUE",
            "did you mean HOOKLINE_SQS_QUEUE_URL",
        );
    }

    #[test]
    fn wrangler_missing_producer() {
        let f = wrangler(&WRANGLER.replace("binding = \"INBOUND_QUEUE\"", "binding = \"QUEUE\""));
        expect(&f, Severity::Error, "queues.producers", "INBOUND_QUEUE");
    }

    #[test]
    fn wrangler_missing_consumer() {
        let text = WRANGLER.replace(
            "queue = \"hookline-inbound\"\nmax_retries",
            "queue = \"other\"\nmax_retries",
        );
        expect(
            &wrangler(&text),
            Severity::Error,
            "queues.consumers",
            "nothing would be forwarded",
        );
        let text = text.replace(
            "HOOKLINE_SQS_QUEUE_URL = \"https://sqs.eu-west-1.amazonaws.com/123456789012/inbound\"",
            "",
        );
        expect(
            &wrangler(&text),
            Severity::Note,
            "queues.consumers",
            "a consumer you attach",
        );
    }

    #[test]
    fn wrangler_consumer_without_dead_letter_queue() {
        let f = wrangler(&WRANGLER.replace("dead_letter_queue = \"hookline-inbound-dlq\"", ""));
        expect(
            &f,
            Severity::Error,
            "queues.consumers[0].dead_letter_queue",
            "lost",
        );
        let f = wrangler(&WRANGLER.replace("\"hookline-inbound-dlq\"", "\"hookline-inbound\""));
        expect(
            &f,
            Severity::Error,
            "queues.consumers[0].dead_letter_queue",
            "the queue itself",
        );
    }

    #[test]
    fn wrangler_consumer_without_sqs_url_dead_letters_everything() {
        let f = wrangler(&WRANGLER.replace(
            "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound",
            "",
        ));
        // A value still to fill in, and nothing is lost meanwhile: a note.
        expect(
            &f,
            Severity::Note,
            "vars.HOOKLINE_SQS_QUEUE_URL",
            "dead-lettered",
        );
    }

    #[test]
    fn wrangler_relay_sources_without_a_consumer_would_lose_events() {
        let text = WRANGLER
            .replace("queue = \"hookline-inbound\"\nmax_retries", "queue = \"other\"\nmax_retries")
            .replace(
                "HOOKLINE_SQS_QUEUE_URL = \"https://sqs.eu-west-1.amazonaws.com/123456789012/inbound\"",
                "",
            )
            .replace("scheme = \"stripe\"", "scheme = \"stripe\"\ndestination = \"relay\"");
        expect(
            &wrangler(&text),
            Severity::Warning,
            "queues.consumers",
            "retention period deletes them",
        );
    }

    #[test]
    fn wrangler_relay_source_needs_outbound_url() {
        let f = wrangler(&WRANGLER.replace(
            "scheme = \"stripe\"",
            "scheme = \"stripe\"\ndestination = \"relay\"",
        ));
        expect(
            &f,
            Severity::Note,
            "vars.HOOKLINE_SQS_OUTBOUND_URL",
            "relay sources (stripe)",
        );
    }

    #[test]
    fn wrangler_bad_sqs_url() {
        let f = wrangler(&WRANGLER.replace(
            "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound",
            "https://sqs.eu-west-1.amazonaws.com/inbound",
        ));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_SQS_QUEUE_URL",
            "ACCOUNT/NAME",
        );
        let f = wrangler(&WRANGLER.replace(
            "https://sqs.eu-west-1.amazonaws.com",
            "http://localhost:9324",
        ));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_SQS_QUEUE_URL",
            "HOOKLINE_SQS_REGION",
        );
        let f = wrangler(
            &WRANGLER
                .replace(
                    "https://sqs.eu-west-1.amazonaws.com",
                    "http://localhost:9324",
                )
                .replace("[vars]\n", "[vars]\nHOOKLINE_SQS_REGION = \"us-east-1\"\n"),
        );
        no_errors(&f);
    }

    #[test]
    fn wrangler_bad_retry_duration() {
        let f = wrangler(
            &WRANGLER.replace("[vars]\n", "[vars]\nHOOKLINE_FORWARD_RETRY_MAX = \"13h\"\n"),
        );
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_FORWARD_RETRY_MAX",
            "at most 12h",
        );
    }

    #[test]
    fn wrangler_bodies_bucket() {
        let f = wrangler(&WRANGLER.replace("binding = \"BODIES\"", "binding = \"B\""));
        expect(&f, Severity::Warning, "r2_buckets", "413");
        let f = wrangler(&WRANGLER.replace(
            "HOOKLINE_BODIES_BUCKET = \"hookline-bodies\"",
            "HOOKLINE_BODIES_BUCKET = \"other\"",
        ));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_BODIES_BUCKET",
            "another bucket",
        );
        let f = wrangler(&WRANGLER.replace("HOOKLINE_BODIES_BUCKET = \"hookline-bodies\"", ""));
        expect(
            &f,
            Severity::Warning,
            "vars.HOOKLINE_BODIES_BUCKET",
            "claim checks are off",
        );
    }

    #[test]
    fn wrangler_environment_does_not_inherit_vars() {
        let f = wrangler(&format!("{WRANGLER}\n[env.production]\nname = \"p\"\n"));
        expect(
            &f,
            Severity::Error,
            "env.production.vars.HOOKLINE_CONFIG",
            "do not inherit",
        );
        expect(
            &f,
            Severity::Error,
            "env.production.queues.producers",
            "INBOUND_QUEUE",
        );
        assert!(
            !f.iter().any(|f| f.path == "env.production.main"),
            "main is inherited"
        );
    }

    #[test]
    fn wrangler_secrets_to_set_are_listed() {
        let f = wrangler(WRANGLER);
        expect(
            &f,
            Severity::Note,
            "vars.HOOKLINE_CONFIG",
            "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, STRIPE_WEBHOOK_SECRET",
        );
    }

    // ---- template.yaml ----

    #[test]
    fn template_syntax_error() {
        let f = template("Resources: [\n");
        expect(&f, Severity::Error, "line 2, column 1", "not valid YAML");
    }

    #[test]
    fn template_needs_the_serverless_transform() {
        let f = template(&TEMPLATE.replace("Transform: AWS::Serverless-2016-10-31", ""));
        expect(
            &f,
            Severity::Error,
            "Transform",
            "AWS::Serverless-2016-10-31",
        );
    }

    #[test]
    fn template_without_sender_function() {
        let f = template("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n");
        expect(&f, Severity::Error, "Resources", "no sender function");
    }

    #[test]
    fn template_missing_environment_variables() {
        for var in ["HOOKLINE_CONFIG", "HOOKLINE_QUEUE_URL", "HOOKLINE_DLQ_URL"] {
            let text: String = TEMPLATE
                .lines()
                .filter(|l| !l.trim_start().starts_with(&format!("{var}:")))
                .map(|l| format!("{l}\n"))
                .collect();
            let f = template(&text);
            expect(
                &f,
                Severity::Error,
                &format!("Resources.Sender.Properties.Environment.Variables.{var}"),
                "missing",
            );
        }
    }

    #[test]
    fn template_literal_config_is_validated() {
        let f = template(&TEMPLATE.replace(
            "HOOKLINE_CONFIG: !Ref ConfigJson",
            r#"HOOKLINE_CONFIG: '{"endpoints":{"b":{"url":"ftp://x","secrets":["env:B"]}}}'
          B: "{{resolve:secretsmanager:s:SecretString:B}}""#,
        ));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.HOOKLINE_CONFIG.endpoints.b.url",
            "scheme \"ftp\"",
        );
    }

    #[test]
    fn template_literal_config_secret_variables() {
        let with = |config: &str| {
            TEMPLATE.replace(
                "HOOKLINE_CONFIG: !Ref ConfigJson",
                &format!("HOOKLINE_CONFIG: '{config}'"),
            )
        };
        let f = template(&with(
            r#"{"endpoints":{"b":{"url":"https://b.example","secrets":["env:B_WHSEC"]}}}"#,
        ));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.B_WHSEC",
            "refuses to start",
        );
        let f = template(&with(
            r#"{"endpoints":{"b":{"url":"https://b.example","secrets":["literal:whsec_x"]}}}"#,
        ));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.HOOKLINE_CONFIG.endpoints.b.secrets[0]",
            "local development only",
        );
        let text =
            with(r#"{"endpoints":{"b":{"url":"https://b.example","secrets":["env:B_WHSEC"]}}}"#)
                .replace(
                    "HOOKLINE_DLQ_URL: !Ref Dlq",
                    "HOOKLINE_DLQ_URL: !Ref Dlq\n          B_WHSEC: whsec_plain",
                );
        expect(
            &template(&text),
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.B_WHSEC",
            "dynamic reference",
        );
    }

    #[test]
    fn template_plain_secret_in_environment() {
        let f = template(&TEMPLATE.replace(
            "HOOKLINE_DLQ_URL: !Ref Dlq",
            "HOOKLINE_DLQ_URL: !Ref Dlq\n          X: whsec_abcdef",
        ));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.X",
            "looks like a signing secret",
        );
    }

    #[test]
    fn template_parameter_config_default_is_checked_and_intrinsics_skipped() {
        let f = template(TEMPLATE);
        expect(
            &f,
            Severity::Note,
            "Resources.Sender.Properties.Environment.Variables.HOOKLINE_CONFIG",
            "only its default",
        );
        let f = template(&TEMPLATE.replace("Default: \"{}\"", "Default: \"{\\\"x\\\":1}\""));
        expect(
            &f,
            Severity::Error,
            "Parameters.ConfigJson.Default.x",
            "unknown field",
        );
        let f = template(&TEMPLATE.replace("!Ref ConfigJson", "!Sub '${ConfigJson}'"));
        expect(
            &f,
            Severity::Note,
            "Resources.Sender.Properties.Environment.Variables.HOOKLINE_CONFIG",
            "not checked",
        );
    }

    #[test]
    fn template_queue_url_must_be_the_queue_read() {
        let f = template(&TEMPLATE.replace(
            "HOOKLINE_QUEUE_URL: !Ref Queue",
            "HOOKLINE_QUEUE_URL: !Ref Dlq",
        ));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.HOOKLINE_QUEUE_URL",
            "fan-out",
        );
        let f = template(
            &TEMPLATE.replace("HOOKLINE_DLQ_URL: !Ref Dlq", "HOOKLINE_DLQ_URL: !Ref Queue"),
        );
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.HOOKLINE_DLQ_URL",
            "is the queue the function reads",
        );
    }

    #[test]
    fn template_without_report_batch_item_failures() {
        let f = template(&TEMPLATE.replace(
            "            FunctionResponseTypes: [ReportBatchItemFailures]\n",
            "",
        ));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Events.Outbound.Properties.FunctionResponseTypes",
            "ReportBatchItemFailures",
        );
    }

    #[test]
    fn template_without_event_source() {
        let f = template(&TEMPLATE.replace("Type: SQS", "Type: Schedule"));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Events",
            "never invoked",
        );
    }

    #[test]
    fn template_event_source_mapping_resource_counts() {
        let text = TEMPLATE.replace("Type: SQS", "Type: Schedule").replace(
            "Resources:\n",
            "Resources:\n  Mapping:\n    Type: AWS::Lambda::EventSourceMapping\n    Properties:\n      FunctionName: !Ref Sender\n      EventSourceArn: !GetAtt Queue.Arn\n",
        );
        let f = template(&text);
        expect(
            &f,
            Severity::Error,
            "Resources.Mapping.Properties.FunctionResponseTypes",
            "ReportBatchItemFailures",
        );
        assert!(!f.iter().any(|f| f.message.contains("never invoked")));
    }

    #[test]
    fn template_queue_without_redrive_policy() {
        let f = template(&TEMPLATE.replace("      RedrivePolicy:\n        deadLetterTargetArn: !GetAtt Dlq.Arn\n        maxReceiveCount: 10\n", ""));
        expect(
            &f,
            Severity::Error,
            "Resources.Queue.Properties.RedrivePolicy",
            "lost",
        );
    }

    #[test]
    fn template_visibility_timeout_shorter_than_function_timeout() {
        let f = template(
            &TEMPLATE.replace("!FindInMap [Visibility, !Ref FunctionTimeout, Value]", "20"),
        );
        expect(
            &f,
            Severity::Error,
            "Resources.Queue.Properties.VisibilityTimeout",
            "with FunctionTimeout = 30",
        );
        // Missing: SQS's default of 30 s against a 60 s function.
        let f = template(&TEMPLATE.replace(
            "      VisibilityTimeout: !FindInMap [Visibility, !Ref FunctionTimeout, Value]\n",
            "",
        ));
        expect(
            &f,
            Severity::Error,
            "Resources.Queue.Properties.VisibilityTimeout",
            "FunctionTimeout = 60",
        );
    }

    #[test]
    fn template_visibility_timeout_checked_for_every_allowed_value() {
        // Only FunctionTimeout = 60 (not the default) breaks the 6 × rule.
        let f = template(&TEMPLATE.replace("\"60\": { Value: 360 }", "\"60\": { Value: 100 }"));
        expect(
            &f,
            Severity::Warning,
            "Resources.Queue.Properties.VisibilityTimeout",
            "with FunctionTimeout = 60: the queue's visibility timeout (100s) is below the recommended 6 ×",
        );
        no_errors(&f);
    }

    #[test]
    fn template_visibility_timeout_with_conditions_and_batching_window() {
        let text = TEMPLATE
            .replace(
                "Mappings:",
                "  Window:\n    Type: Number\n    Default: 0\n    MinValue: 0\n    MaxValue: 300\nConditions:\n  HasWindow: !Not [!Equals [!Ref Window, \"0\"]]\nMappings:",
            )
            .replace(
                "VisibilityTimeout: !FindInMap [Visibility, !Ref FunctionTimeout, Value]",
                "VisibilityTimeout: !If [HasWindow, 400, !FindInMap [Visibility, !Ref FunctionTimeout, Value]]",
            )
            .replace("BatchSize: 10", "BatchSize: 10\n            MaximumBatchingWindowInSeconds: !Ref Window");
        // With a 300 s window, 400 is short of 6 × 30 + 300 = 480.
        let f = template(&text);
        expect(
            &f,
            Severity::Warning,
            "Resources.Queue.Properties.VisibilityTimeout",
            "Window = 300",
        );
        no_errors(&f);
    }

    #[test]
    fn template_runtime_and_architecture() {
        let f = template(&TEMPLATE.replace("provided.al2023", "python3.12"));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Runtime",
            "provided.al2023",
        );
        let f = template(&TEMPLATE.replace("provided.al2023", "provided.al2"));
        expect(
            &f,
            Severity::Warning,
            "Resources.Sender.Properties.Runtime",
            "provided.al2023",
        );
        let f = template(&TEMPLATE.replace("[arm64]", "[x86_64]"));
        expect(
            &f,
            Severity::Warning,
            "Resources.Sender.Properties.Architectures",
            "arm64",
        );
    }

    #[test]
    fn template_globals_are_merged() {
        let text = TEMPLATE
            .replace("      Runtime: provided.al2023\n", "")
            .replace(
                "Resources:\n",
                "Globals:\n  Function:\n    Runtime: provided.al2023\nResources:\n",
            );
        no_errors(&template(&text));
    }

    #[test]
    fn cyclic_conditions_do_not_overflow() {
        let text = TEMPLATE
            .replace(
                "Mappings:",
                "Conditions:\n  A: !Condition B\n  B: !Condition A\nMappings:",
            )
            .replace(
                "Runtime: provided.al2023",
                "Runtime: !If [A, provided.al2023, provided.al2]",
            );
        let f = template(&text);
        expect(
            &f,
            Severity::Note,
            "Resources.Sender.Properties.Runtime",
            "cannot be evaluated",
        );
    }

    // ---- across files ----

    #[test]
    fn relay_endpoints_must_exist_in_the_senders_configuration() {
        let w = WRANGLER.replace(
            "scheme = \"stripe\"",
            "scheme = \"stripe\"\ndestination = \"relay\"\nrelay_endpoints = [\"billing\", \"biling\"]",
        );
        let f = run_check(Some(CONFIG), Some(&w), Some(TEMPLATE));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_CONFIG.sources.stripe.relay_endpoints[1]",
            "no endpoint named \"biling\"",
        );
        assert!(!f.iter().any(|f| f.path.ends_with("relay_endpoints[0]")));
        // Without a known sender configuration, a note.
        let f = run_check(None, Some(&w), Some(TEMPLATE));
        expect(
            &f,
            Severity::Note,
            "vars.HOOKLINE_CONFIG.sources.stripe.relay_endpoints",
            "not checked",
        );
    }

    #[test]
    fn relay_endpoints_checked_against_the_templates_literal_config() {
        let t = TEMPLATE.replace(
            "HOOKLINE_CONFIG: !Ref ConfigJson",
            r#"HOOKLINE_CONFIG: '{"endpoints":{"other":{"url":"https://o.example","secrets":["env:O"]}}}'
          O: "{{resolve:secretsmanager:s:SecretString:O}}""#,
        );
        let w = WRANGLER.replace(
            "scheme = \"stripe\"",
            "scheme = \"stripe\"\ndestination = \"relay\"\nrelay_endpoints = [\"billing\"]",
        );
        let f = run_check(Some(CONFIG), Some(&w), Some(&t));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_CONFIG.sources.stripe.relay_endpoints[0]",
            "template.yaml's HOOKLINE_CONFIG",
        );
    }

    #[test]
    fn sources_differ_between_hookline_toml_and_wrangler() {
        let c = CONFIG.replace("scheme = \"stripe\"", "scheme = \"github\"")
            + "\n[sources.local]\nscheme = \"github\"\nsecrets = [\"env:L\"]\n";
        let w = WRANGLER.to_owned()
            + "\n[vars.HOOKLINE_CONFIG.sources.prod]\nscheme = \"github\"\nsecrets = [\"env:P\"]\n";
        let f = run_check(Some(&c), Some(&w), None);
        expect(
            &f,
            Severity::Warning,
            "vars.HOOKLINE_CONFIG.sources.stripe.scheme",
            "\"stripe\" here but \"github\"",
        );
        expect(
            &f,
            Severity::Warning,
            "vars.HOOKLINE_CONFIG.sources.prod",
            "not in hookline.toml",
        );
        let local = f.iter().find(|f| f.path == "sources.local").unwrap();
        assert_eq!(
            (local.file.as_str(), local.severity),
            ("hookline.toml", Severity::Warning)
        );
        no_errors(&f);
    }

    #[test]
    fn hookline_toml_endpoint_secrets_need_template_variables() {
        let c = CONFIG.replace("env:BILLING_WHSEC", "env:AUDIT_WHSEC");
        let f = run_check(Some(&c), None, Some(TEMPLATE));
        expect(
            &f,
            Severity::Warning,
            "Resources.Sender.Properties.Environment.Variables",
            "has no AUDIT_WHSEC",
        );
    }

    #[test]
    fn max_receive_count_must_exceed_retry_attempts() {
        let c = CONFIG.to_owned()
            + "\n[delivery]\nretry = { schedule = [\"1s\",\"1s\",\"1s\",\"1s\",\"1s\",\"1s\",\"1s\",\"1s\",\"1s\",\"1s\"] }\n";
        let f = run_check(Some(&c), None, Some(TEMPLATE));
        expect(
            &f,
            Severity::Warning,
            "Resources.Queue.Properties.RedrivePolicy.maxReceiveCount",
            "makes 11 attempts",
        );
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
