//! The decoders' errors, and the fault the shared field readers report.

use std::fmt;

use super::inbound::InboundEnvelope;
use super::outbound::OutboundMessage;

/// Defines a decoder's public error: the variants every decoder shares, `field()`, `Display`
/// (which starts with the field's path, or `$whole` when the whole input is at fault) and the
/// conversion from [`Fault`]. With `base64: Variant`, the error has its own variant for a bad
/// base64 body; without, a base64 fault is reported as an invalid `data` field.
macro_rules! decode_error {
    (
        $(#[$doc:meta])*
        $name:ident {
            whole: $whole:literal,
            version: $version:expr,
            path_example: $example:literal
            $(, base64: $base64:ident)? $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum $name {
            /// The input is larger than the limit, so it was not parsed.
            TooLarge {
                /// The input's length in bytes.
                size: usize,
                /// The limit it exceeded ([`MAX_DECODE_BYTES`](super::MAX_DECODE_BYTES)).
                max: usize,
            },
            /// Not well-formed JSON, not an object, or a key repeated in the same object.
            Json(String),
            /// `version` is not 1.
            UnsupportedVersion(u32),
            /// A required field is absent (its path).
            MissingField(&'static str),
            /// A field is present but its value breaks the format.
            InvalidField {
                #[doc = concat!("The field's path, such as `", $example, "`.")]
                field: String,
                /// What is wrong, such as `must not be empty`.
                reason: String,
            },
            $(
                /// `body.data` of a `base64` body is not canonical standard base64 (RFC 4648,
                /// padded).
                $base64(String),
            )?
        }

        impl $name {
            #[doc = concat!("The path of the field at fault, or `", $whole, "` when the whole input is.")]
            pub fn field(&self) -> &str {
                match self {
                    Self::TooLarge { .. } | Self::Json(_) => $whole,
                    Self::UnsupportedVersion(_) => "version",
                    Self::MissingField(field) => field,
                    Self::InvalidField { field, .. } => field,
                    $(Self::$base64(_) => "body.data",)?
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    Self::TooLarge { size, max } => {
                        write!(f, concat!($whole, ": {} bytes is over the {}-byte limit"), size, max)
                    }
                    Self::Json(msg) => write!(f, concat!($whole, ": invalid JSON: {}"), msg),
                    Self::UnsupportedVersion(v) => write!(
                        f,
                        "version: unsupported version {v} (this build reads version {})",
                        $version
                    ),
                    Self::MissingField(field) => write!(f, "{field}: missing"),
                    Self::InvalidField { field, reason } => write!(f, "{field}: {reason}"),
                    $(Self::$base64(msg) => write!(f, "body.data: invalid base64: {msg}"),)?
                }
            }
        }

        impl std::error::Error for $name {}

        impl From<Fault> for $name {
            fn from(fault: Fault) -> Self {
                match fault {
                    Fault::Missing(field) => Self::MissingField(field),
                    Fault::Invalid { field, reason } => Self::InvalidField { field, reason },
                    Fault::Version(v) => Self::UnsupportedVersion(v),
                    Fault::Base64(msg) => decode_error!(@base64 msg $($base64)?),
                }
            }
        }
    };
    (@base64 $msg:ident $variant:ident) => {
        Self::$variant($msg)
    };
    // Only envelope bodies are base64; kept total rather than unreachable.
    (@base64 $msg:ident) => {
        Self::InvalidField {
            field: "data".into(),
            reason: format!("invalid base64: {}", $msg),
        }
    };
}

decode_error! {
    /// Why bytes are not a valid [`InboundEnvelope`]; `Display` starts with the field's path.
    EnvelopeError {
        whole: "envelope",
        version: InboundEnvelope::VERSION,
        path_example: "body.data.sha256",
        base64: InvalidBase64,
    }
}

decode_error! {
    /// Why bytes are not a valid outbound or delivery message; `Display` starts with the field.
    MessageError {
        whole: "message",
        version: OutboundMessage::VERSION,
        path_example: "endpoints[1]",
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Both errors come from one macro; their texts and fields must stay what callers match on.
    /// `{whole}` in a row stands for `envelope` or `message`.
    #[test]
    fn display_and_field_of_each_variant() {
        let invalid = |field: &str| (field.to_owned(), "must not be empty".to_owned());
        let (env_field, env_reason) = invalid("a.b");
        let (msg_field, msg_reason) = invalid("a.b");
        let rows = [
            (
                EnvelopeError::TooLarge { size: 9, max: 8 },
                MessageError::TooLarge { size: 9, max: 8 },
                "{whole}",
                "{whole}: 9 bytes is over the 8-byte limit",
            ),
            (
                EnvelopeError::Json("eof".into()),
                MessageError::Json("eof".into()),
                "{whole}",
                "{whole}: invalid JSON: eof",
            ),
            (
                EnvelopeError::UnsupportedVersion(2),
                MessageError::UnsupportedVersion(2),
                "version",
                "version: unsupported version 2 (this build reads version 1)",
            ),
            (
                EnvelopeError::MissingField("type"),
                MessageError::MissingField("type"),
                "type",
                "type: missing",
            ),
            (
                EnvelopeError::InvalidField {
                    field: env_field,
                    reason: env_reason,
                },
                MessageError::InvalidField {
                    field: msg_field,
                    reason: msg_reason,
                },
                "a.b",
                "a.b: must not be empty",
            ),
        ];
        for (env, msg, field, text) in rows {
            let expect = |whole| {
                (
                    field.replace("{whole}", whole),
                    text.replace("{whole}", whole),
                )
            };
            assert_eq!(
                (env.field().to_owned(), env.to_string()),
                expect("envelope")
            );
            assert_eq!((msg.field().to_owned(), msg.to_string()), expect("message"));
        }
        let env = EnvelopeError::from(Fault::Base64("bad".into()));
        assert_eq!(env, EnvelopeError::InvalidBase64("bad".into()));
        assert_eq!(env.field(), "body.data");
        assert_eq!(env.to_string(), "body.data: invalid base64: bad");
        let msg = MessageError::from(Fault::Base64("bad".into()));
        assert_eq!(msg.field(), "data");
        assert_eq!(msg.to_string(), "data: invalid base64: bad");
    }
}
