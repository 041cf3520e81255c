//! End-to-end tests of the `hookline` binary: each test starts the real binary (and, where it
//! needs them, moto and the Python sink from the harness) and checks what it does.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod check;
mod common;
mod dev;
mod send_replay;
mod sign_listen;
