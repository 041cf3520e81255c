//! Reading JSON objects field by field, and writing them, for every format here.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::MAX_DECODE_BYTES;
use super::error::{Fault, MessageError, invalid};
use crate::time::Timestamp;

/// A JSON object whose values are left unparsed, so each field can be read, and blamed, on its
/// own. Building it rejects repeated keys (see the module docs).
pub(super) struct RawObject(pub(super) BTreeMap<String, Box<RawValue>>);

impl<'de> Deserialize<'de> for RawObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = RawObject;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawObject, A::Error> {
                // A BTreeMap keeps the duplicate check O(log n) per key, so an object with very
                // many keys cannot make decoding quadratic.
                let mut fields = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: Box<RawValue> = map.next_value()?;
                    if fields.contains_key(&key) {
                        return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
                    }
                    fields.insert(key, value);
                }
                Ok(RawObject(fields))
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

impl RawObject {
    /// The key for a field path: its last segment (`body.data` is key `data`).
    fn key(path: &str) -> &str {
        path.rsplit('.').next().unwrap_or(path)
    }

    pub(super) fn contains(&self, path: &str) -> bool {
        self.0.contains_key(Self::key(path))
    }

    /// A required field; JSON `null` counts as present (the type check that follows rejects it
    /// where null is not allowed).
    pub(super) fn required(&mut self, path: &'static str) -> Result<Box<RawValue>, Fault> {
        self.0.remove(Self::key(path)).ok_or(Fault::Missing(path))
    }

    /// An optional field; absent and `null` both read as `None`, because many JSON encoders
    /// write `null` for an unset optional.
    pub(super) fn optional(&mut self, path: &str) -> Option<Box<RawValue>> {
        self.0
            .remove(Self::key(path))
            .filter(|raw| raw.get() != "null")
    }
}

pub(super) fn read_object(raw: &RawValue, path: &str) -> Result<RawObject, Fault> {
    serde_json::from_str(raw.get()).map_err(|e| {
        if raw.get().starts_with('{') {
            // Well-formed (it was already validated) but with a repeated key.
            invalid(path, e.to_string())
        } else {
            invalid(path, "must be an object")
        }
    })
}

pub(super) fn read_string(raw: &RawValue, path: &str) -> Result<String, Fault> {
    serde_json::from_str(raw.get()).map_err(|_| invalid(path, "must be a string"))
}

pub(super) fn read_u64(raw: &RawValue, path: &str) -> Result<u64, Fault> {
    serde_json::from_str(raw.get()).map_err(|_| invalid(path, "must be a non-negative integer"))
}

pub(super) fn read_timestamp(raw: &RawValue, path: &str) -> Result<Timestamp, Fault> {
    let text = read_string(raw, path)?;
    Timestamp::parse_rfc3339(&text).ok_or_else(|| {
        invalid(
            path,
            "must be an RFC 3339 date-time such as 2026-11-23T12:00:00Z",
        )
    })
}

pub(super) fn read_non_empty(raw: &RawValue, path: &str) -> Result<String, Fault> {
    let text = read_string(raw, path)?;
    if text.is_empty() {
        return Err(invalid(path, "must not be empty"));
    }
    Ok(text)
}

/// Checks `version` (required or not, by the caller) is 1. Runs before any other field is read,
/// so a newer format is reported as a version problem, not as whatever field moved.
pub(super) fn check_version(raw: &RawValue) -> Result<(), Fault> {
    let version = read_u64(raw, "version")?;
    match u32::try_from(version) {
        Ok(1) => Ok(()),
        Ok(other) => Err(Fault::Version(other)),
        Err(_) => Err(invalid(
            "version",
            "unsupported version (this build reads version 1)",
        )),
    }
}

pub(super) fn parse_top<E>(
    bytes: &[u8],
    too_large: impl FnOnce(usize) -> E,
    json: impl FnOnce(String) -> E,
) -> Result<RawObject, E> {
    if bytes.len() > MAX_DECODE_BYTES {
        return Err(too_large(bytes.len()));
    }
    serde_json::from_slice(bytes).map_err(|e| json(e.to_string()))
}

/// [`parse_top`] with the message decoders' errors.
fn parse_message(bytes: &[u8]) -> Result<RawObject, MessageError> {
    parse_top(
        bytes,
        |size| MessageError::TooLarge {
            size,
            max: MAX_DECODE_BYTES,
        },
        MessageError::Json,
    )
}

/// Encodes a value whose `Serialize` cannot fail.
pub(super) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // serde_json only fails on a failing `Serialize` impl or a non-string map key. Every type in
    // this module serialises strings, integers, string-keyed maps and validated raw JSON, so the
    // fallback is unreachable; it exists so that encoding is infallible without a panic path.
    serde_json::to_vec(value).unwrap_or_default()
}

/// [`encode`] as text (an SQS message body), for the same reasons infallible.
pub(super) fn encode_string<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The four codec methods of an outbound-queue format (`to_json`, `to_json_string`,
/// `from_json`, `validate`), each documented by the caller, and its [`FromObject`] impl with
/// [`MessageError`]; the type provides `fn check(&self) -> Result<(), Fault>` and
/// `fn read_fields(obj: RawObject) -> Result<Self, Fault>`.
macro_rules! message_codec {
    (
        $ty:ident {
            $(#[$to_json:meta])* to_json;
            $(#[$from_json:meta])* from_json;
            $(#[$validate:meta])* validate;
        }
    ) => {
        impl $ty {
            $(#[$to_json])*
            pub fn to_json(&self) -> Vec<u8> {
                $crate::envelope::wire::encode(self)
            }

            /// [`Self::to_json`] as text, such as an SQS message body.
            pub fn to_json_string(&self) -> String {
                $crate::envelope::wire::encode_string(self)
            }

            $(#[$from_json])*
            pub fn from_json(bytes: &[u8]) -> Result<Self, MessageError> {
                $crate::envelope::wire::decode_message(bytes)
            }

            $(#[$validate])*
            pub fn validate(&self) -> Result<(), MessageError> {
                self.check().map_err(MessageError::from)
            }
        }

        impl $crate::envelope::wire::FromObject for $ty {
            type Error = MessageError;

            fn from_object(obj: $crate::envelope::wire::RawObject) -> Result<Self, Fault> {
                Self::read_fields(obj)
            }
        }
    };
}
pub(super) use message_codec;

/// A format read from a [`RawObject`], and the public error its decoder reports, so every
/// format shares one `from_json` and one `Deserialize` path.
pub(super) trait FromObject: Sized {
    /// What a [`Fault`] becomes at this format's boundary.
    type Error: From<Fault> + fmt::Display;

    /// Reads and validates every field of `obj`.
    fn from_object(obj: RawObject) -> Result<Self, Fault>;
}

/// Decodes an outbound-queue format from untrusted bytes (at most [`MAX_DECODE_BYTES`]).
pub(super) fn decode_message<T: FromObject<Error = MessageError>>(
    bytes: &[u8],
) -> Result<T, MessageError> {
    let obj = parse_message(bytes)?;
    T::from_object(obj).map_err(MessageError::from)
}

/// The `Deserialize` impl of every format: `from_json`'s validation without its size cap.
pub(super) fn deserialize<'de, T: FromObject, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    let obj = RawObject::deserialize(deserializer)?;
    T::from_object(obj).map_err(|f| de::Error::custom(T::Error::from(f)))
}
