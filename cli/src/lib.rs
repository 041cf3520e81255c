//! # hookline-cli
//!
//! The `hookline` command. Every subcommand is a thin adapter over the same core the Worker and
//! the Lambda run (`hookline-core`, and the sender's delivery code from `hookline-sender`):
//!
//! - [`dev`]: the whole system in one process: the receiver's routes, an embedded durable queue
//!   with SQS semantics (SQLite, served over the SQS JSON protocol so the real SQS client and the
//!   sender's own event-source loop run against it), and the sender's delivery loop.
//! - [`sign`]: the headers (or a `curl` command) a provider would send, for testing.
//! - [`listen`]: a local sink that verifies Standard Webhooks signatures and prints deliveries.
//! - [`send`]: enqueue an outbound event on SQS or on `hookline dev`.
//! - [`replay`]: move dead-lettered messages back to their queue.
//! - [`log`]: the delivery history and endpoint statistics, through the management API.
//! - [`check`]: validate `hookline.toml`, `wrangler.toml` and `template.yaml` together.
//!
//! No feature flags.

pub mod api_store;
pub mod check;
pub mod dev;
pub mod error;
pub mod listen;
pub mod log;
pub mod replay;
pub mod send;
pub mod sign;
pub mod sqs_api;
pub mod sqs_target;
pub mod store;
#[cfg(test)]
mod testing;
pub mod ui;

pub use error::CliError;

/// The system clock as the core's timestamp (the core never reads a clock itself).
pub use hookline_api::system_now as now;
pub use ui::Ui;
