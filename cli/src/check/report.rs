//! Collecting one file's findings, and the wording helpers every check shares.

use std::collections::BTreeSet;

use hookline_core::config::{ConfigError, redact_values};

use super::{Finding, Severity};

/// Findings for one file.
pub(super) struct Report {
    pub(super) file: String,
    pub(super) findings: Vec<Finding>,
}

impl Report {
    pub(super) fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            findings: Vec::new(),
        }
    }

    pub(super) fn add(
        &mut self,
        severity: Severity,
        path: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.findings.push(Finding {
            severity,
            file: self.file.clone(),
            path: path.into(),
            message: message.into(),
        });
    }

    pub(super) fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.add(Severity::Error, path, message);
    }

    pub(super) fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.add(Severity::Warning, path, message);
    }

    pub(super) fn note(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.add(Severity::Note, path, message);
    }

    /// The config loader's problems, under `prefix` (`vars.HOOKLINE_CONFIG`).
    pub(super) fn config_errors(&mut self, prefix: &str, errors: &[ConfigError]) {
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

pub(super) fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_owned()
    } else {
        format!("{prefix}.{rest}")
    }
}

/// [`redact_values`] for a finding: parser messages may quote a value (`invalid type: string
/// "whsec_...", expected ...`). Trailing whitespace goes too: a finding prints on one line, and
/// parsers' messages may end with a newline.
pub(super) fn redact(message: &str) -> String {
    redact_values(message).trim_end().to_owned()
}

pub(super) fn names(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}
