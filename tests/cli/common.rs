//! What every CLI test uses: the binary's path and a way to run it.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The `hookline` binary cargo built for this test run.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hookline"))
}

/// Runs `hookline args...` to completion (no colours, no inherited `NO_COLOR` surprises).
pub fn hookline(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run hookline")
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
