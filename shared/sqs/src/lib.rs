//! # hookline-sqs
//!
//! The SQS protocol as hookline speaks it, written once: the receiver Worker's SQS client, the
//! sender Lambda's fan-out, `hookline dev`'s SQS-compatible server and durable queue, and
//! `hookline send`/`replay` all take their SQS facts from here, so a limit or a digest cannot
//! drift between two copies.
//!
//! - [`limits`]: the numbers (message bytes, batch entries, id lengths, timeouts).
//! - [`batch`]: the one batcher, which caps every batch by entry count *and* bytes.
//! - [`attributes`]: message attributes, their size as SQS counts it, and the MD5 digests of
//!   bodies and attributes that SQS returns.
//! - [`json`]: the AWS JSON 1.0 protocol: the `SendMessageBatch` request and response types,
//!   targets, and the error codes a client reads and a server writes.
//! - `sigv4` (feature `sigv4`): AWS Signature Version 4 for JSON-protocol `POST`s.
//!
//! Pure: no I/O, no clock (signing takes the time as an argument), no randomness; it builds for
//! `wasm32-unknown-unknown`.
//!
//! ## Features
//!
//! - `sigv4` (off by default): the `sigv4` module, which signs requests with
//!   `sha2` and `hmac`. Written out for this one request shape instead of using `aws-sigv4`,
//!   whose dependency tree was a seventh of the receiver's gzipped bundle; the
//!   `sigv4_reference` test compares the two byte for byte. Only the receiver enables it; the
//!   native crates sign with the AWS SDK.

pub mod attributes;
pub mod batch;
pub mod json;
pub mod limits;
#[cfg(feature = "sigv4")]
pub mod sigv4;

pub use attributes::Attribute;
pub use batch::{BatchLimits, batches, chunk};
pub use json::Entry;
