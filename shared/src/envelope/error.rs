//! The decoders' errors, and the fault the shared field readers report.

use std::fmt;

use super::inbound::InboundEnvelope;
use super::outbound::OutboundMessage;

/// Why bytes are not a valid [`InboundEnvelope`]; `Display` starts with the field's path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvelopeError {
    /// The input is larger than the limit, so it was not parsed.
    TooLarge {
        /// The input's length in bytes.
        size: usize,
        /// The limit it exceeded ([`MAX_DECODE_BYTES`]).
        max: usize,
    },
    /// Not well-formed JSON, not an object, or a key repeated in the same object.
    Json(String),
    /// `version` is not 1.
    UnsupportedVersion(u32),
    /// A required field is absent (its path, such as `body.data`).
    MissingField(&'static str),
    /// A field is present but its value breaks the format.
    InvalidField {
        /// The field's path, such as `body.data.sha256`.
        field: String,
        /// What is wrong, such as `must not be empty`.
        reason: String,
    },
    /// `body.data` of a `base64` body is not canonical standard base64 (RFC 4648, padded).
    InvalidBase64(String),
}

impl EnvelopeError {
    /// The path of the field at fault, or `envelope` when the whole input is.
    pub fn field(&self) -> &str {
        match self {
            Self::TooLarge { .. } | Self::Json(_) => "envelope",
            Self::UnsupportedVersion(_) => "version",
            Self::MissingField(field) => field,
            Self::InvalidField { field, .. } => field,
            Self::InvalidBase64(_) => "body.data",
        }
    }
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { size, max } => {
                write!(f, "envelope: {size} bytes is over the {max}-byte limit")
            }
            Self::Json(msg) => write!(f, "envelope: invalid JSON: {msg}"),
            Self::UnsupportedVersion(v) => write!(
                f,
                "version: unsupported version {v} (this build reads version {})",
                InboundEnvelope::VERSION
            ),
            Self::MissingField(field) => write!(f, "{field}: missing"),
            Self::InvalidField { field, reason } => write!(f, "{field}: {reason}"),
            Self::InvalidBase64(msg) => write!(f, "body.data: invalid base64: {msg}"),
        }
    }
}

impl std::error::Error for EnvelopeError {}

/// Why bytes are not a valid outbound or delivery message; `Display` starts with the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageError {
    /// The input is larger than the limit, so it was not parsed.
    TooLarge {
        /// The input's length in bytes.
        size: usize,
        /// The limit it exceeded ([`MAX_DECODE_BYTES`]).
        max: usize,
    },
    /// Not well-formed JSON, not an object, or a key repeated in the same object.
    Json(String),
    /// `version` is not 1.
    UnsupportedVersion(u32),
    /// A required field is absent.
    MissingField(&'static str),
    /// A field is present but its value breaks the format.
    InvalidField {
        /// The field's path, such as `endpoints[1]`.
        field: String,
        /// What is wrong, such as `must not be empty`.
        reason: String,
    },
}

impl MessageError {
    /// The path of the field at fault, or `message` when the whole input is.
    pub fn field(&self) -> &str {
        match self {
            Self::TooLarge { .. } | Self::Json(_) => "message",
            Self::UnsupportedVersion(_) => "version",
            Self::MissingField(field) => field,
            Self::InvalidField { field, .. } => field,
        }
    }
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { size, max } => {
                write!(f, "message: {size} bytes is over the {max}-byte limit")
            }
            Self::Json(msg) => write!(f, "message: invalid JSON: {msg}"),
            Self::UnsupportedVersion(v) => write!(
                f,
                "version: unsupported version {v} (this build reads version {})",
                OutboundMessage::VERSION
            ),
            Self::MissingField(field) => write!(f, "{field}: missing"),
            Self::InvalidField { field, reason } => write!(f, "{field}: {reason}"),
        }
    }
}

impl std::error::Error for MessageError {}

/// What the shared field readers report; each public decoder turns it into its own error.
#[derive(Debug)]
pub(super) enum Fault {
    Missing(&'static str),
    Invalid { field: String, reason: String },
    Version(u32),
    Base64(String),
}

pub(super) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Fault {
    Fault::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

impl From<Fault> for EnvelopeError {
    fn from(fault: Fault) -> Self {
        match fault {
            Fault::Missing(field) => Self::MissingField(field),
            Fault::Invalid { field, reason } => Self::InvalidField { field, reason },
            Fault::Version(v) => Self::UnsupportedVersion(v),
            Fault::Base64(msg) => Self::InvalidBase64(msg),
        }
    }
}

impl From<Fault> for MessageError {
    fn from(fault: Fault) -> Self {
        match fault {
            Fault::Missing(field) => Self::MissingField(field),
            Fault::Invalid { field, reason } => Self::InvalidField { field, reason },
            Fault::Version(v) => Self::UnsupportedVersion(v),
            // Only envelope bodies are base64; kept total rather than unreachable.
            Fault::Base64(msg) => Self::InvalidField {
                field: "data".into(),
                reason: format!("invalid base64: {msg}"),
            },
        }
    }
}
