//! # hookline-api
//!
//! The management API, Svix's v1 REST API for the outbound flow: applications, event types,
//! endpoints, messages and attempts. [`service::Api`] answers one HTTP request at a time over a
//! [`store::Store`] and an [`service::Outbox`] (the outbound queue); `hookline dev` serves it on
//! its port under `/api/v1`, and the API Lambda behind a Function URL.
//!
//! The decisions (what a record holds, how a body changes it, URL rules, token scopes) are in
//! `hookline_core::api`; this crate wires them to storage and HTTP.
//!
//! [`hooked::Hooked`] wraps a store with a hook around each call, for tests, benches and
//! instrumentation.
//!
//! Feature `conformance`: the suite every store adapter's tests run ([`conformance::run`]).

pub mod history;
pub mod hooked;
pub mod memory;
pub mod registry;
pub mod service;
pub mod store;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

pub use registry::Registry;

/// The system clock as the core's timestamp (the core never reads a clock: its callers do, all
/// through this). A clock set before 1970 reads as the epoch.
pub fn system_now() -> hookline_core::time::Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    hookline_core::time::Timestamp::from_unix_millis(ms)
}
pub use service::{Api, Env, Outbox, Settings, SystemEnv};
pub use store::{Item, Kind, Store, StoreError};
