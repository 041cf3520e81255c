//! `hookline check` end to end: the real binary on the repository's own files (which must pass)
//! and on broken fixtures in `cli/tests/cli/fixtures/check/` (which must fail, naming the path).

use std::path::PathBuf;
use std::process::{Command, Output};

use super::common::{assert_stderr_contains, bin, hookline, stderr, stdout};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the cli crate lives in the workspace")
        .to_path_buf()
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cli/fixtures/check")
}

/// Runs `hookline --color never check args...` in `dir` (so default file names resolve there).
fn check_in(dir: &PathBuf, args: &[&str]) -> Output {
    Command::new(bin())
        .current_dir(dir)
        .args(["--color", "never", "check"])
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run hookline check")
}

/// The shipped hookline.toml, wrangler.toml and template.yaml agree: no error and no warning
/// (`tests/run` runs the same `check --strict`).
#[test]
fn check_strict_passes_on_the_repositorys_own_files() {
    let out = check_in(&repo_root(), &["--strict"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert!(
        !text.contains("error  ") && !text.contains("warn   "),
        "{text}"
    );
    let summary = text.lines().last().unwrap_or_default();
    assert!(summary.starts_with("ok: 0 errors, 0 warnings"), "{summary}");
    assert!(
        summary.contains("wrangler.toml") && summary.contains("template.yaml"),
        "{summary}"
    );
}

#[test]
fn check_broken_wrangler_fails_and_names_each_path() {
    let out = check_in(&fixtures(), &["--wrangler", "broken-wrangler.toml"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for line in [
        "error  broken-wrangler.toml: vars.HOOKLINE_CONFIG.sources.stripe.secrets[0]: a literal secret",
        "error  broken-wrangler.toml: vars.HOOKLINE_CONFIG.sources.shop.scheme: unknown scheme \"shopfy\" (did you mean \"shopify\"?)",
        "error  broken-wrangler.toml: vars.GITHUB_WEBHOOK_SECRET: a secret set as a plain var",
        "error  broken-wrangler.toml: queues.consumers[0].dead_letter_queue: missing",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    // Values are never echoed, and the absent defaults were skipped with a note.
    assert!(
        !text.contains("whsec_fixture") && !text.contains("not-really-a-secret"),
        "{text}"
    );
    assert!(
        text.contains("note   hookline.toml: not found, skipped"),
        "{text}"
    );
    assert!(
        text.lines()
            .last()
            .unwrap_or_default()
            .starts_with("failed: 4 errors"),
        "{text}"
    );
    // The verdict is said once, on stdout; stderr has nothing to add.
    assert_eq!(stderr(&out), "", "the result is reported once");
}

#[test]
fn check_broken_template_fails_and_names_each_path() {
    let out = check_in(&fixtures(), &["--template", "broken-template.yaml"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let vars = "Resources.SenderFunction.Properties.Environment.Variables";
    for line in [
        format!("error  broken-template.yaml: {vars}.HOOKLINE_DLQ_URL: missing"),
        format!("error  broken-template.yaml: {vars}.BILLING_WHSEC: missing: {vars}.HOOKLINE_CONFIG.endpoints.billing.secrets[0] reads env:BILLING_WHSEC"),
        "error  broken-template.yaml: Resources.SenderFunction.Properties.Events.OutboundQueue.Properties.FunctionResponseTypes: must include ReportBatchItemFailures".to_owned(),
        "error  broken-template.yaml: Resources.OutboundQueue.Properties.RedrivePolicy: missing".to_owned(),
        "error  broken-template.yaml: Resources.OutboundQueue.Properties.VisibilityTimeout: the queue's visibility timeout (30s) is shorter than the function's timeout (60s".to_owned(),
    ] {
        assert!(text.contains(&line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn check_broken_hookline_toml_fails() {
    let out = check_in(&fixtures(), &["--config", "broken-hookline.toml"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("error  broken-hookline.toml: sources.pay.scheme: unknown scheme \"strpe\" (did you mean \"stripe\"?)"), "{text}");
    assert!(text.contains("error  broken-hookline.toml: sources.pay.secrets: at least one secret reference is required"), "{text}");
}

#[test]
fn check_relay_endpoints_across_files() {
    let out = check_in(
        &fixtures(),
        &[
            "--config",
            "relay-hookline.toml",
            "--wrangler",
            "relay-wrangler.toml",
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("error  relay-wrangler.toml: vars.HOOKLINE_CONFIG.sources.stripe.relay_endpoints[1]: no endpoint named \"invoicing\" in the sender's configuration (relay-hookline.toml [endpoints])"),
        "{text}"
    );
    assert!(
        !text.contains("relay_endpoints[0]"),
        "billing exists: {text}"
    );
}

#[test]
fn check_json_prints_one_object_per_finding_and_a_summary() {
    let out = check_in(
        &fixtures(),
        &["--json", "--wrangler", "broken-wrangler.toml"],
    );
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    let (summary, findings) = lines.split_last().expect("a summary line");
    assert!(!findings.is_empty());
    for f in findings {
        for key in ["severity", "file", "path", "message"] {
            assert!(f[key].is_string(), "{key} in {f}");
        }
        assert!(
            ["error", "warning", "note"].contains(&f["severity"].as_str().unwrap()),
            "{f}"
        );
    }
    assert!(
        findings
            .iter()
            .any(|f| f["path"] == "queues.consumers[0].dead_letter_queue"
                && f["severity"] == "error"
                && f["file"] == "broken-wrangler.toml")
    );
    let s = &summary["summary"];
    assert_eq!(s["ok"], false);
    assert_eq!(s["errors"], 4);
    assert_eq!(s["files"], serde_json::json!(["broken-wrangler.toml"]));
    // No colour codes in JSON, and the verdict is the summary alone: nothing more on stderr.
    assert!(!stdout(&out).contains('\u{1b}'));
    assert_eq!(stderr(&out), "", "the result is reported once");
}

#[test]
fn check_missing_explicit_file_exits_74() {
    let out = hookline(&["check", "--config", "/nonexistent/hookline.toml"]);
    assert_eq!(out.status.code(), Some(74), "{}", stderr(&out));
    assert_stderr_contains(&out, "/nonexistent/hookline.toml");
    assert_stderr_contains(&out, "--config");
}

#[test]
fn check_with_no_files_is_ok_with_notes() {
    let dir = tempfile::tempdir().unwrap();
    let out = check_in(&dir.path().to_path_buf(), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(text.matches("not found, skipped").count(), 3, "{text}");
}

#[test]
fn check_strict_fails_on_warnings_only() {
    let args = ["--wrangler", "warnings-wrangler.toml"];
    let out = check_in(&fixtures(), &args);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("warn   warnings-wrangler.toml: r2_buckets: no R2 binding BODIES"),
        "{text}"
    );
    let strict = check_in(&fixtures(), &["--strict", args[0], args[1]]);
    assert_eq!(strict.status.code(), Some(1), "{}", stdout(&strict));
    let summary = stdout(&strict);
    let summary = summary.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("failed (--strict): 0 errors, 1 warning"),
        "{summary}"
    );
    assert_eq!(stderr(&strict), "", "the result is reported once");
}

#[test]
fn check_colours_only_when_asked() {
    let out = Command::new(bin())
        .current_dir(fixtures())
        .args([
            "--color",
            "always",
            "check",
            "--wrangler",
            "broken-wrangler.toml",
        ])
        .output()
        .expect("run hookline check");
    let text = stdout(&out);
    assert!(
        text.contains("\u{1b}[31merror\u{1b}[0m  broken-wrangler.toml: "),
        "{text}"
    );
}

// ---- --help, for every command ---------------------------------------------------------------

/// `hookline [command] --help` as an 80-column terminal shows it.
fn help_at_80_columns(command: &[&str]) -> String {
    let out = Command::new(bin())
        .args(command)
        .arg("--help")
        .env("COLUMNS", "80")
        .output()
        .expect("run hookline --help");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
}

/// Every example in every `--help`, as printed on an 80-column terminal, is a whole command
/// that runs as pasted: no line of one was wrapped (a wrapped URL or flag would start a line of
/// its own here), and each `hookline` command in it parses (run with `--help` appended, so
/// nothing starts or sends).
#[test]
fn help_examples_are_whole_commands_that_parse_as_printed() {
    let commands: [&[&str]; 8] = [
        &[],
        &["dev"],
        &["sign"],
        &["listen"],
        &["send"],
        &["replay"],
        &["log"],
        &["check"],
    ];
    for command in commands {
        let help = help_at_80_columns(command);
        let block = help
            .split("Examples:\n")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .unwrap_or_else(|| panic!("no examples in {command:?}:\n{help}"));
        let mut examples = Vec::new();
        let mut current = String::new();
        for line in block.lines() {
            assert!(line.chars().count() <= 80, "{command:?}: {line:?}");
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            let line = line.split("  #").next().unwrap_or_default().trim_end();
            match line.strip_suffix('\\') {
                Some(head) => current.push_str(head),
                None => {
                    current.push_str(line);
                    examples.push(std::mem::take(&mut current));
                }
            }
        }
        assert!(
            current.is_empty(),
            "{command:?}: a continuation ends the block"
        );
        assert!(!examples.is_empty(), "{command:?}");
        for example in &examples {
            assert!(
                ["hookline ", "echo ", "ngrok "]
                    .iter()
                    .any(|p| example.starts_with(p)),
                "{command:?}: {example:?} is not a whole command (a wrapped line?)"
            );
            for part in example.split(" | ") {
                if !part.trim_start().starts_with("hookline ") {
                    continue;
                }
                let out = Command::new("bash")
                    .arg("-c")
                    .arg(format!(
                        "hookline() {{ \"$HOOKLINE_BIN\" \"$@\" --help >/dev/null; }}; {part}"
                    ))
                    .env("HOOKLINE_BIN", bin())
                    .output()
                    .expect("run bash");
                assert!(
                    out.status.success(),
                    "{command:?}: {part:?} does not parse: {}",
                    stderr(&out)
                );
            }
        }
    }
}

/// `replay --help` lists how to connect and what to do first, then the queues, then the
/// filters: not `--dev` after the filters, and `--inbound` (which needs `--dev`) before it.
#[test]
fn replay_help_orders_its_flags_connection_then_queues_then_filters() {
    let help = help_at_80_columns(&["replay"]);
    // The line where a flag (or a heading) is listed: the flag, then a space, `<` or the end.
    let at = |flag: &str| {
        help.lines()
            .position(|l| {
                l.trim_start()
                    .strip_prefix(flag)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '<', ':', '(']))
            })
            .unwrap_or_else(|| panic!("{flag} missing:\n{help}"))
    };
    let order = [
        "--dev",
        "--dev-url",
        "--endpoint-url",
        "--region",
        "--dry-run",
        "--limit",
        "--visibility-timeout",
        "Queues",
        "--from",
        "--to",
        "--inbound",
        "Filters",
        "--type",
        "--endpoint",
        "--error",
        "--since",
        "--until",
    ];
    let positions: Vec<usize> = order.iter().map(|f| at(f)).collect();
    for (pair, names) in positions.windows(2).zip(order.windows(2)) {
        assert!(
            pair[0] < pair[1],
            "{} should come before {}:\n{help}",
            names[0],
            names[1]
        );
    }
}

/// A config file can hold any character (TOML's `\u001b`): `check` quotes names and values from
/// it without letting one drive the terminal, in human and JSON output.
#[test]
fn check_quotes_config_values_without_terminal_escapes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hookline.toml"),
        "[sources.\"a\\u001b]0;pwned\\u0007\\u009b2J\\u202e\"]\n\
         scheme = \"shopfy\\u001b]52;c;cHduZWQ=\\u0007\\r\"\n\
         secrets = [\"env:X\"]\n",
    )
    .unwrap();
    let raw = |c: char| c.is_control() || c == '\u{202e}';
    let human = check_in(&dir.path().to_path_buf(), &[]);
    let text = stdout(&human);
    assert_eq!(human.status.code(), Some(1), "{text}");
    for line in text.lines() {
        assert!(!line.chars().any(raw), "raw control character in {line:?}");
    }
    assert!(text.contains(r"\u{1b}]52;c;cHduZWQ=\u{7}"), "{text}");
    let json = Command::new(bin())
        .current_dir(dir.path())
        .args(["--json", "check"])
        .output()
        .expect("run hookline check");
    let text = stdout(&json);
    for line in text.lines() {
        assert!(!line.chars().any(raw), "raw control character in {line:?}");
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    assert!(text.contains(r"\u001b]52;c;cHduZWQ=\u0007"), "{text}");
}
