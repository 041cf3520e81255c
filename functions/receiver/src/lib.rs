//! # hookline-receiver
//!
//! The inbound half of hookline: a Cloudflare Worker (wasm32) that receives webhooks at
//! `POST /hooks/{source}[/{handler}]`, verifies them, hands each one durably to a Cloudflare
//! Queue and only then answers 200; and, in the same Worker, the queue consumer that forwards
//! verified events to SQS (or, for relay sources, to the sender's outbound queue).
//!
//! The request logic lives in [`hookline_core::inbound`]; this crate holds the settings, the
//! consumer's plan, the SigV4 SQS client, and (on wasm32 only) the runtime wiring. Everything
//! but the wiring builds and is tested natively.
//!
//! Feature `test-clock`: the `HOOKLINE_TEST_NOW` var (unix seconds) replaces the clock, so the
//! signature vectors, signed at fixed times, can be replayed in workerd. Tests only.

pub mod forward;
pub mod settings;
pub mod sqs;

#[cfg(target_arch = "wasm32")]
mod edge;
