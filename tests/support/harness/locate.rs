//! Finding the harness: the venv `tests/harness/setup.sh` makes, the files of `tests/harness`,
//! and the repository root.

use std::path::{Path, PathBuf};

/// The variable naming the harness venv's `bin` directory (the output of `tests/harness/setup.sh`).
pub const HARNESS_BIN_VAR: &str = "HOOKLINE_HARNESS_BIN";
/// Optional override of the directory holding `sink.py` and `guard.py`.
pub const HARNESS_DIR_VAR: &str = "HOOKLINE_HARNESS_DIR";

fn setup_hint() -> String {
    format!(
        "run `export {HARNESS_BIN_VAR}=$(tests/harness/setup.sh)` from the repository root \
         (tests/run does it); tests that need moto or the webhook sink fail without it"
    )
}

/// The harness venv's `bin` directory, or a panic that says how to make one.
pub fn harness_bin() -> PathBuf {
    let Some(dir) = std::env::var_os(HARNESS_BIN_VAR).filter(|v| !v.is_empty()) else {
        panic!("{HARNESS_BIN_VAR} is not set: {}", setup_hint());
    };
    let dir = PathBuf::from(dir);
    if !dir.is_absolute() {
        panic!(
            "{HARNESS_BIN_VAR}={} is not an absolute path: {}",
            dir.display(),
            setup_hint()
        );
    }
    dir
}

/// A program in the harness venv's `bin` directory, or a panic naming `tests/harness/setup.sh`.
pub(crate) fn harness_tool(name: &str) -> PathBuf {
    let path = harness_bin().join(name);
    if !path.is_file() {
        panic!("{} is missing: {}", path.display(), setup_hint());
    }
    path
}

/// A file of `tests/harness`.
pub(crate) fn harness_file(name: &str) -> PathBuf {
    let dir = std::env::var_os(HARNESS_DIR_VAR)
        .filter(|v| !v.is_empty())
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("harness"),
            PathBuf::from,
        );
    let path = dir.join(name);
    if !path.is_file() {
        panic!(
            "{} is missing (set {HARNESS_DIR_VAR} to tests/harness)",
            path.display()
        );
    }
    path
}

/// The repository root (this crate's parent).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}
