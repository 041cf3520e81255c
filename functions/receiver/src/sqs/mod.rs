//! I/O-free SQS `SendMessageBatch` over the AWS JSON 1.0 protocol, signed with SigV4.
//!
//! Nothing here performs I/O or reads the clock: the caller passes the current Unix time
//! (in a Worker, `Date.now() / 1000`), sends the returned [`HttpRequest`] with its own HTTP
//! client (the Workers `fetch` API) and hands the status and body back to
//! [`parse_send_message_batch`]. That keeps the module usable on `wasm32-unknown-unknown`, where
//! `SystemTime::now()` panics.
//!
//! The protocol's facts (limits, the batcher, attribute digests, JSON types, error codes, SigV4)
//! are hookline-sqs's; this module is the client around them, split along its seams: [`queue`]
//! (which queue URLs are accepted), [`request`] (validating, serializing and signing a batch),
//! [`response`] (reading the answer, entry by entry).

use std::fmt;

use hookline_sqs::limits::{MAX_BATCH_ENTRIES, MAX_ENTRY_ID_LEN};

pub use hookline_sqs::sigv4::Credentials;
pub use hookline_sqs::{BatchLimits, Entry, chunk};

pub mod queue;
pub mod request;
pub mod response;

/// What the request and response tests build on: one queue, example credentials, an entry.
#[cfg(test)]
mod fixtures {
    use super::{Credentials, Entry, Queue};

    /// The example credentials of the AWS SigV4 test suite.
    pub fn creds() -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    /// A queue in us-east-1.
    pub fn queue() -> Queue {
        Queue::parse(
            "https://sqs.us-east-1.amazonaws.com/123456789012/my-queue",
            None,
        )
        .unwrap()
    }

    /// An entry without attributes.
    pub fn entry(id: &str, body: &str) -> Entry {
        Entry::new(id, body)
    }
}

pub use queue::Queue;
pub use request::{send_message_batch, signed_json_request};
pub use response::{parse_send_message_batch, parse_send_message_batch_response};

/// Failure code given to a sent entry whose MD5 digests in the response do not match.
pub const CODE_MD5_MISMATCH: &str = "MD5Mismatch";
/// Failure code given to a sent entry that the response lists neither as successful nor failed.
pub const CODE_MISSING_FROM_RESPONSE: &str = "MissingFromResponse";

/// An HTTP request for the caller to send (e.g. with the Workers `fetch` API).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Always `POST`.
    pub method: &'static str,
    /// The queue URL's origin followed by `/`, e.g. `https://sqs.us-east-1.amazonaws.com/`.
    pub url: String,
    /// Headers to send as-is (lower-case names). `Host` and `Content-Length` are left to the
    /// HTTP client; the signature covers `host` as derived from `url`.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The value of the first header named `name` (ASCII case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                if n.eq_ignore_ascii_case("x-amz-security-token")
                    || n.eq_ignore_ascii_case("authorization")
                {
                    (n.as_str(), "** redacted **")
                } else {
                    (n.as_str(), v.as_str())
                }
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The per-entry result of a `SendMessageBatch` call. Every id that was sent appears exactly once,
/// in `successful` or in `failed`, in the order the entries were sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchOutcome {
    /// Ids SQS accepted and whose MD5 digests matched what was sent.
    pub successful: Vec<String>,
    /// Everything else.
    pub failed: Vec<Failure>,
}

/// Why one entry of a batch was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The entry id.
    pub id: String,
    /// SQS's code (e.g. `InvalidParameterValue`), or [`CODE_MD5_MISMATCH`] /
    /// [`CODE_MISSING_FROM_RESPONSE`] for failures detected here.
    pub code: String,
    /// True when SQS says the entry itself is at fault (resending it unchanged will fail again).
    pub sender_fault: bool,
    /// Human-readable detail.
    pub message: String,
}

/// Errors of this module. `Display` never includes credentials or the queue URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SqsError {
    /// The queue URL is not one this module accepts.
    #[error("invalid queue URL: {0}")]
    InvalidQueueUrl(&'static str),
    /// The URL's host does not name a region and no region was given.
    #[error("the queue URL does not name a region; a region override is required")]
    RegionRequired,
    /// The region is not of the form `[a-z0-9-]+`.
    #[error("invalid region")]
    InvalidRegion,
    /// The credentials cannot be used (empty, or characters not allowed in a header).
    #[error("invalid credentials: {0}")]
    InvalidCredentials(&'static str),
    /// A batch must hold 1 to 10 entries.
    #[error("a batch must hold 1 to {MAX_BATCH_ENTRIES} entries, not {0}")]
    BatchSize(usize),
    /// An entry id is empty, too long or has characters outside `[A-Za-z0-9_-]`.
    #[error("entry #{index} has an invalid id (1 to {MAX_ENTRY_ID_LEN} of [A-Za-z0-9_-])")]
    InvalidEntryId {
        /// Position of the entry in the batch.
        index: usize,
    },
    /// Two entries share an id.
    #[error("entry id {0:?} appears more than once in the batch")]
    DuplicateEntryId(String),
    /// An entry has two attributes with the same name.
    #[error("entry {id:?} has more than one attribute named {name:?}")]
    DuplicateAttribute {
        /// The entry id.
        id: String,
        /// The repeated attribute name.
        name: String,
    },
    /// The batch is over [`request::MAX_BATCH_BYTES`].
    #[error("the batch is {size} bytes, over the {max}-byte limit")]
    BatchTooLarge {
        /// Counted size (see [`Entry::size_bytes`]).
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The timestamp is past year 9999.
    #[error("timestamp out of range")]
    InvalidTime,
    /// The request could not be built or signed.
    #[error("could not build the request: {0}")]
    Request(String),
    /// A 2xx response whose body is not a `SendMessageBatch` result. The entries' fate is
    /// unknown: treat them all as failed (and retryable).
    #[error("unreadable SendMessageBatch response (HTTP {status}): {reason}")]
    InvalidResponse {
        /// HTTP status.
        status: u16,
        /// What was wrong.
        reason: String,
    },
    /// SQS refused the whole call.
    #[error("SQS error {code} (HTTP {status}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Error code: the part of `__type` after `#`, else the query-protocol code.
        code: String,
        /// Server's message.
        message: String,
        /// True for 5xx, 429, throttling and transient codes.
        retryable: bool,
    },
}

impl From<hookline_sqs::sigv4::SigningError> for SqsError {
    fn from(e: hookline_sqs::sigv4::SigningError) -> Self {
        use hookline_sqs::sigv4::SigningError;
        match e {
            SigningError::InvalidCredentials(why) => SqsError::InvalidCredentials(why),
            SigningError::InvalidTime => SqsError::InvalidTime,
            SigningError::InvalidTarget => SqsError::Request("invalid X-Amz-Target".to_owned()),
        }
    }
}

impl SqsError {
    /// Whether sending the same batch again later may succeed.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            SqsError::Api { retryable, .. } => *retryable,
            SqsError::InvalidResponse { .. } => true,
            _ => false,
        }
    }
}
