//! The CLI's one error type, and the exit codes it maps to.

use std::path::PathBuf;
use std::process::ExitCode;

use hookline_core::config::ConfigErrors;

/// Exit codes, documented in `docs/cli.md`.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// The command ran and found a problem (`check` found errors, `listen --exit-on-invalid`
    /// saw a bad signature, `replay` could not move every message).
    pub const PROBLEMS: u8 = 1;
    /// The command line is wrong (clap's own code for usage errors).
    pub const USAGE: u8 = 2;
    /// A service the command needs is unreachable (SQS, `hookline dev`) or a port is taken.
    pub const UNAVAILABLE: u8 = 69;
    /// An input or output file could not be read or written.
    pub const IO: u8 = 74;
    /// The configuration is invalid.
    pub const CONFIG: u8 = 78;
}

/// Why a command failed; each variant says what to do next.
///
/// The typed variants come first. The variants carrying a bare `String` (`Usage`, `Config`,
/// `Io`, `Unavailable`, `Problems`) are the migration path for the commands not converted yet
/// (`dev`, `send`, `replay`, `sign`, `listen`, `sqs_target`): each is to become a typed payload
/// and then be removed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A file the command needs could not be read.
    #[error(transparent)]
    File(#[from] FileError),
    /// A configuration file is invalid (every problem listed).
    #[error("{origin} is not valid:\n{errors}")]
    InvalidConfig {
        /// Where the configuration came from (a path, or "the built-in demo").
        origin: String,
        /// Every problem, with its path in the file.
        errors: ConfigErrors,
    },
    /// The command ran and found problems, and has printed them with its verdict: nothing more
    /// to say.
    #[error("")]
    Reported,
    /// Wrong arguments the parser could not catch (migration path: a bare message).
    #[error("{0}")]
    Usage(String),
    /// The configuration is invalid (migration path: a bare message).
    #[error("{0}")]
    Config(String),
    /// A file could not be read or written (migration path: a bare message).
    #[error("{0}")]
    Io(String),
    /// A service could not be reached or refused the request (migration path: a bare message).
    #[error("{0}")]
    Unavailable(String),
    /// The command ran and found problems (migration path: a bare message).
    #[error("{0}")]
    Problems(String),
}

/// Why an input file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read (`flag` is the option that named it, if any).
    #[error(
        "cannot read {}{}: {source}",
        path.display(),
        flag.map(|f| format!(" (named with {f})")).unwrap_or_default()
    )]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The command-line option that named it.
        flag: Option<&'static str>,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file is not UTF-8 text.
    #[error("{}: not UTF-8 text", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::Usage(_) => exit::USAGE,
            CliError::InvalidConfig { .. } | CliError::Config(_) => exit::CONFIG,
            CliError::File(_) | CliError::Io(_) => exit::IO,
            CliError::Unavailable(_) => exit::UNAVAILABLE,
            CliError::Reported | CliError::Problems(_) => exit::PROBLEMS,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_errors_read_as_before_and_exit_74() {
        let e = CliError::from(FileError::Unreadable {
            path: PathBuf::from("deploy/prod.toml"),
            flag: Some("--wrangler"),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        });
        assert_eq!(
            e.to_string(),
            "cannot read deploy/prod.toml (named with --wrangler): permission denied"
        );
        assert_eq!(e.exit_code(), ExitCode::from(exit::IO));
        let e = FileError::Unreadable {
            path: PathBuf::from("hookline.toml"),
            flag: None,
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(e.to_string(), "cannot read hookline.toml: entity not found");
        let e = CliError::from(FileError::NotUtf8 {
            path: PathBuf::from("template.yaml"),
        });
        assert_eq!(e.to_string(), "template.yaml: not UTF-8 text");
    }

    #[test]
    fn reported_problems_say_nothing_more_and_exit_1() {
        assert_eq!(CliError::Reported.to_string(), "");
        assert_eq!(
            CliError::Reported.exit_code(),
            ExitCode::from(exit::PROBLEMS)
        );
    }

    #[test]
    fn invalid_config_lists_every_problem_and_exits_78() {
        let errors = hookline_core::config::Config::from_toml("[sources.x]\nscheme = \"nope\"\n")
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(!errors.is_empty());
        let e = CliError::InvalidConfig {
            origin: "hookline.toml".to_owned(),
            errors: ConfigErrors(errors),
        };
        assert!(
            e.to_string().starts_with("hookline.toml is not valid:\n"),
            "{e}"
        );
        assert_eq!(e.exit_code(), ExitCode::from(exit::CONFIG));
    }
}
