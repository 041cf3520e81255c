//! The integration-test harness: moto (the SQS API on loopback, [`moto`]) and helpers for its
//! queues ([`sqs`]), the webhook sink (`tests/harness/sink.py`, which checks every signature with
//! the official `standardwebhooks` library, [`sink`]), the receiver Worker in workerd
//! ([`workerd`]), and what they share: finding the harness ([`locate`]) and child processes,
//! ports and polling with a deadline ([`process`]). Suites import the parts from here.
//!
//! Everything runs on 127.0.0.1 and needs the harness venv:
//!
//! ```sh
//! export HOOKLINE_HARNESS_BIN=$(tests/harness/setup.sh)   # tests/run does this
//! ```
//!
//! Without it, [`Moto::start`] and [`Sink::start`] panic: a test that needs them fails, it never
//! passes silently. `HOOKLINE_HARNESS_DIR` overrides where `sink.py` and `guard.py` are looked
//! for (default: `tests/harness` beside this crate's manifest).
//!
//! Child processes watch their standard input and exit when it closes, so they die with the test
//! binary even when they are never dropped (a `static` [`Moto`] shared by a whole suite) or the
//! binary is killed.

pub mod locate;
pub mod moto;
pub mod process;
pub mod sink;
pub mod sqs;
pub mod workerd;

pub use crate::raw_http::chunked_post;
pub use locate::{HARNESS_BIN_VAR, HARNESS_DIR_VAR, harness_bin, repo_root};
pub use moto::Moto;
pub use process::{free_port, poll_until};
pub use sink::Sink;
pub use sqs::{
    QueueCounts, delete, fresh_queue, queue_arn, queue_counts, queue_with_dlq, receive_batch,
    receive_batch_waiting, sqs_client,
};
pub use workerd::{ReceiverBuild, Workerd};
