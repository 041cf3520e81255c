//! The CLI's one error type, and the exit codes it maps to.

use std::process::ExitCode;

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
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Wrong arguments the parser could not catch.
    #[error("{0}")]
    Usage(String),
    /// The configuration is invalid (every problem listed).
    #[error("{0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
    /// A service could not be reached or refused the request.
    #[error("{0}")]
    Unavailable(String),
    /// The command ran and found problems (already printed).
    #[error("{0}")]
    Problems(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::Usage(_) => exit::USAGE,
            CliError::Config(_) => exit::CONFIG,
            CliError::Io(_) => exit::IO,
            CliError::Unavailable(_) => exit::UNAVAILABLE,
            CliError::Problems(_) => exit::PROBLEMS,
        })
    }
}
