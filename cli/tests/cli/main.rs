//! End-to-end tests of the `hookline` binary: each test starts the real binary (and, where it
//! needs them, moto and the Python sink from the harness) and checks what it does.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod bad_inputs;
mod check;
mod common;
mod dev;
mod faults;
mod history_kill;
mod history_replay;
mod log;
mod send_replay;
mod sign_listen;

#[test]
fn every_command_explains_itself_with_examples_and_usage_errors_exit_2() {
    for cmd in [
        vec!["--help"],
        vec!["dev", "--help"],
        vec!["sign", "--help"],
        vec!["listen", "--help"],
        vec!["send", "--help"],
        vec!["replay", "--help"],
        vec!["log", "--help"],
        vec!["check", "--help"],
    ] {
        let out = common::hookline(&cmd);
        assert!(out.status.success(), "{cmd:?}: {out:?}");
        assert!(common::stdout(&out).contains("Examples:"), "{cmd:?}");
    }
    let out = common::hookline(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("unrecognized subcommand"));
}
