//! The management API's decisions, without I/O: the records (applications, event types,
//! endpoints, messages, attempts) with Svix's v1 JSON names, how request bodies create and change
//! them, endpoint URL rules, ids, token scopes and errors. `hookline-api` serves them over HTTP
//! against a store; the sender reads endpoints and writes attempts through the same types.

pub mod auth;
pub mod body;
pub mod error;
pub mod history;
pub mod id;
pub mod model;
pub mod portal;

pub use error::{ApiError, FieldError};
