//! # hookline-sender
//!
//! The outbound half of hookline: an AWS Lambda fed by an SQS event source mapping with
//! `ReportBatchItemFailures`. Apps put outbound messages on the queue; the sender fans each out
//! to the endpoints subscribed to its type, renders and signs every delivery (Standard Webhooks
//! headers), POSTs it behind an SSRF guard, and retries on SQS itself: a failed delivery's
//! visibility timeout is set to the retry policy's next delay, and after the last attempt (or a
//! `410 Gone`, or a permanent error) the delivery goes to the dead-letter queue with its last
//! status, error and attempt count.
//!
//! The entry point (`main.rs`) only wires things up: [`Settings`] and the clients are built once
//! per cold start (the SQS client when a record first needs it, see
//! [`Sender::with_deferred_sqs`]), and [`Sender::handle`] does the work, so tests call it
//! directly with real `SqsEvent` JSON. Which endpoints a message goes to is the core's decision
//! (`hookline_core::fanout`); the time and the retry jitter are [`Clock`] arguments, so tests fix
//! them. [`local::LocalEventSource`] stands in for the event source
//! mapping in the integration tests and in `hookline dev`.
//!
//! No feature flags.

pub mod clock;
mod handler;
mod http;
pub mod local;
pub mod observe;
pub mod registry;
pub mod settings;

pub use clock::{Clock, FixedClock, SystemClock};
pub use handler::code;
pub use handler::{Sender, dlq_attr};
pub use http::{
    Attempt, ClientError, Http, Lookup, LookupFuture, RequestHeaders, SystemLookup, TlsRoots,
    UnknownTlsRoots,
};
pub use settings::{Endpoint, EventData, Refusal, Settings, SettingsError};
