//! The message formats hookline puts on, and reads from, its queues.
//!
//! | type | written by | read by | queue |
//! |---|---|---|---|
//! | [`InboundEnvelope`] | the receiver, after verifying a webhook | your consumers | Cloudflare Queues (or SQS) |
//! | [`OutboundMessage`] | your apps | the sender | the outbound SQS queue |
//! | [`DeliveryMessage`] | the sender (one per endpoint, fanned out) | the sender | the same SQS queue |
//!
//! All three are JSON objects with a `version` field; this build reads and writes version 1.
//! The user-facing reference is `docs/formats.md`; `docs/schemas/` holds a JSON Schema
//! (draft 2020-12) for each format, with examples that the tests below also decode.
//!
//! # Compatibility
//!
//! * A decoder rejects any `version` other than 1 with a dedicated error
//!   ([`EnvelopeError::UnsupportedVersion`], [`MessageError::UnsupportedVersion`]) before it
//!   looks at any other field, so an old consumer fails loudly (and the message can go to a
//!   dead-letter queue) instead of misreading a format it does not know.
//! * Within version 1, new *optional* fields may be added. Decoders therefore accept and ignore
//!   fields they do not know; they are not kept, so re-encoding drops them. Removing or renaming
//!   a field, or changing its meaning, needs version 2.
//! * A key that appears twice in the same object is rejected: two JSON parsers that disagree on
//!   which copy wins (first or last) would let one message mean two things.
//!
//! # Untrusted input
//!
//! Every `from_json` reads bytes that came from a queue or from an app. It refuses inputs over
//! [`MAX_DECODE_BYTES`] before parsing, never panics, and names the offending field in its
//! error ("type: must not be empty").
//!
//! # JSON payloads are kept byte for byte
//!
//! Webhook bodies and app `data` are held as [`RawJson`] (serde_json's `RawValue`), not as a
//! parsed `serde_json::Value`: the text is validated but never re-serialised, so key order,
//! number spelling (`1.0` stays `1.0`, big integers keep every digit), escapes and inner
//! whitespace are exactly what the provider or app sent. A consumer can hash or re-verify an
//! inbound JSON body, and a delivered `data` is the app's own JSON. It is also cheaper: nothing
//! is built but one string. (This needs serde_json's `raw_value` feature.)
//!
//! The `Deserialize` impls here go through the same validation as `from_json` (minus the size
//! cap) but, because of `RawValue`, work only with `serde_json` and not inside
//! `#[serde(flatten)]` or internally tagged enums. Prefer `from_json`.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::time::Timestamp;

/// The Cloudflare Queues message limit: 128 KB, where Cloudflare counts 1 KB as 1,000 bytes.
///
/// Cloudflare adds up to about 100 bytes of its own metadata to each message, so the receiver
/// should keep an envelope a little below this and use a claim check above it.
pub const MAX_CF_QUEUE_MESSAGE_BYTES: usize = 128_000;

// The SQS facts the formats are sized by live in hookline-sqs; re-exported under the names
// callers already use.
pub use hookline_sqs::limits::{
    MAX_BATCH_ENTRIES as MAX_SQS_BATCH_ENTRIES, MAX_MESSAGE_BYTES as MAX_SQS_MESSAGE_BYTES,
    MAX_MESSAGE_BYTES_CEILING as MAX_SQS_MESSAGE_BYTES_CEILING,
};
pub use hookline_sqs::{BatchLimits, batches};

/// The largest input any `from_json` here accepts: 1 MiB, the most SQS can ever deliver.
///
/// It is a guard against oversized input, not a queue limit: no queue hookline reads can carry
/// more, so anything bigger did not come from one.
pub const MAX_DECODE_BYTES: usize = MAX_SQS_MESSAGE_BYTES_CEILING;

/// The value of the `hookline` field that marks a [`DeliveryMessage`].
pub const DELIVERY_MARKER: &str = "delivery";

// ------------------------------------------------------------------------------------------
// RawJson
// ------------------------------------------------------------------------------------------

/// A JSON value kept as the exact text it arrived as (see the module docs for why).
///
/// Equality and hashing compare the text, so `{"a":1}` and `{ "a": 1 }` are different values.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// Validates `json` as one JSON value; surrounding whitespace is trimmed.
    pub fn from_string(json: String) -> Result<Self, serde_json::Error> {
        RawValue::from_string(json).map(Self)
    }

    /// Serialises `value` to compact JSON.
    pub fn from_value<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(Self)
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Parses the text into a `serde_json::Value` (which may reorder keys and round numbers).
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(self.get())
    }

    /// Borrows the underlying `RawValue`.
    pub fn as_raw_value(&self) -> &RawValue {
        &self.0
    }

    /// Unwraps into the underlying `RawValue`.
    pub fn into_raw_value(self) -> Box<RawValue> {
        self.0
    }
}

impl From<Box<RawValue>> for RawJson {
    fn from(raw: Box<RawValue>) -> Self {
        Self(raw)
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for RawJson {}

impl Hash for RawJson {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.get().hash(state);
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

// ------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------

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
enum Fault {
    Missing(&'static str),
    Invalid { field: String, reason: String },
    Version(u32),
    Base64(String),
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Fault {
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

// ------------------------------------------------------------------------------------------
// Reading JSON objects field by field
// ------------------------------------------------------------------------------------------

/// A JSON object whose values are left unparsed, so each field can be read, and blamed, on its
/// own. Building it rejects repeated keys (see the module docs).
struct RawObject(BTreeMap<String, Box<RawValue>>);

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

    fn contains(&self, path: &str) -> bool {
        self.0.contains_key(Self::key(path))
    }

    /// A required field; JSON `null` counts as present (the type check that follows rejects it
    /// where null is not allowed).
    fn required(&mut self, path: &'static str) -> Result<Box<RawValue>, Fault> {
        self.0.remove(Self::key(path)).ok_or(Fault::Missing(path))
    }

    /// An optional field; absent and `null` both read as `None`, because many JSON encoders
    /// write `null` for an unset optional.
    fn optional(&mut self, path: &str) -> Option<Box<RawValue>> {
        self.0
            .remove(Self::key(path))
            .filter(|raw| raw.get() != "null")
    }
}

fn read_object(raw: &RawValue, path: &str) -> Result<RawObject, Fault> {
    serde_json::from_str(raw.get()).map_err(|e| {
        if raw.get().starts_with('{') {
            // Well-formed (it was already validated) but with a repeated key.
            invalid(path, e.to_string())
        } else {
            invalid(path, "must be an object")
        }
    })
}

fn read_string(raw: &RawValue, path: &str) -> Result<String, Fault> {
    serde_json::from_str(raw.get()).map_err(|_| invalid(path, "must be a string"))
}

fn read_u64(raw: &RawValue, path: &str) -> Result<u64, Fault> {
    serde_json::from_str(raw.get()).map_err(|_| invalid(path, "must be a non-negative integer"))
}

fn read_timestamp(raw: &RawValue, path: &str) -> Result<Timestamp, Fault> {
    let text = read_string(raw, path)?;
    Timestamp::parse_rfc3339(&text).ok_or_else(|| {
        invalid(
            path,
            "must be an RFC 3339 date-time such as 2026-11-23T12:00:00Z",
        )
    })
}

fn read_non_empty(raw: &RawValue, path: &str) -> Result<String, Fault> {
    let text = read_string(raw, path)?;
    if text.is_empty() {
        return Err(invalid(path, "must not be empty"));
    }
    Ok(text)
}

/// Checks `version` (required or not, by the caller) is 1. Runs before any other field is read,
/// so a newer format is reported as a version problem, not as whatever field moved.
fn check_version(raw: &RawValue) -> Result<(), Fault> {
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

fn parse_top<E>(
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
fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // serde_json only fails on a failing `Serialize` impl or a non-string map key. Every type in
    // this module serialises strings, integers, string-keyed maps and validated raw JSON, so the
    // fallback is unreachable; it exists so that encoding is infallible without a panic path.
    serde_json::to_vec(value).unwrap_or_default()
}

/// [`encode`] as text (an SQS message body), for the same reasons infallible.
fn encode_string<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

// ------------------------------------------------------------------------------------------
// Field rules shared by the outbound formats
// ------------------------------------------------------------------------------------------

/// Whether `s` is a valid event type: 1 to 256 bytes of printable ASCII, no spaces.
pub fn is_valid_event_type(s: &str) -> bool {
    (1..=256).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())
}

/// Whether `s` is a valid message id: 1 to 256 bytes from `A-Z a-z 0-9 . _ : -`.
pub fn is_valid_message_id(s: &str) -> bool {
    (1..=256).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Whether `s` is a valid outbound id (an [`OutboundMessage`]'s `id`, a [`DeliveryMessage`]'s
/// `message_id`): a valid message id ([`is_valid_message_id`]) without `.`.
///
/// The sender signs deliveries with Standard Webhooks, whose signed content is
/// `{webhook-id}.{webhook-timestamp}.{body}`: an id with a `.` in it could be re-split between
/// id, timestamp and body, so it is refused where it enters, not only when signing. Inbound
/// envelope ids keep the wider rule: nothing signs them with a `.` separator.
pub fn is_valid_outbound_id(s: &str) -> bool {
    is_valid_message_id(s) && !s.contains('.')
}

/// Whether `s` is a valid endpoint name: `[a-z0-9][a-z0-9_-]{0,62}`.
pub fn is_valid_endpoint_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    first_ok
        && s.len() <= 63
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn check_event_type(s: &str, path: &str) -> Result<(), Fault> {
    if s.is_empty() {
        Err(invalid(path, "must not be empty"))
    } else if s.len() > 256 {
        Err(invalid(path, "must be at most 256 bytes"))
    } else if !is_valid_event_type(s) {
        Err(invalid(path, "must be printable ASCII without spaces"))
    } else {
        Ok(())
    }
}

fn check_outbound_id(s: &str, path: &str) -> Result<(), Fault> {
    if s.is_empty() {
        Err(invalid(path, "must not be empty"))
    } else if s.len() > 256 {
        Err(invalid(path, "must be at most 256 bytes"))
    } else if s.contains('.') {
        Err(invalid(
            path,
            "must not contain \".\" (it separates the id from the timestamp in the signed content)",
        ))
    } else if !is_valid_outbound_id(s) {
        Err(invalid(path, "may contain only A-Z a-z 0-9 _ : -"))
    } else {
        Ok(())
    }
}

fn check_endpoint(s: &str, path: &str) -> Result<(), Fault> {
    if is_valid_endpoint_name(s) {
        Ok(())
    } else {
        Err(invalid(
            path,
            "must be an endpoint name: 1 to 63 of a-z 0-9 _ -, starting with a letter or digit",
        ))
    }
}

fn check_endpoints(endpoints: &[String]) -> Result<(), Fault> {
    if endpoints.is_empty() {
        return Err(invalid(
            "endpoints",
            "must not be empty (leave it out to deliver to every subscribed endpoint)",
        ));
    }
    for (i, name) in endpoints.iter().enumerate() {
        let path = format!("endpoints[{i}]");
        check_endpoint(name, &path)?;
        // Endpoint lists are short (one per configured endpoint), so a linear scan is fine;
        // the size cap bounds the worst case.
        if endpoints.iter().take(i).any(|earlier| earlier == name) {
            return Err(invalid(path, "repeats an earlier endpoint"));
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Inbound envelope
// ------------------------------------------------------------------------------------------

/// Where a claim-checked body is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimStore {
    /// Cloudflare R2.
    R2,
    /// Amazon S3.
    S3,
}

impl ClaimStore {
    /// The wire name: `r2` or `s3`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::R2 => "r2",
            Self::S3 => "s3",
        }
    }
}

/// A pointer to a body too large for the queue, stored whole (never truncated) elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ClaimCheck {
    /// The object store holding the body.
    pub store: ClaimStore,
    /// The bucket name.
    pub bucket: String,
    /// The object key.
    pub key: String,
    /// The body's length in bytes.
    pub size: u64,
    /// SHA-256 of the body, to check the fetched object (lower-case hex on the wire).
    #[serde(serialize_with = "serialize_hex")]
    pub sha256: [u8; 32],
    /// The webhook's `Content-Type`, if it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

fn serialize_hex<S: Serializer>(bytes: &[u8; 32], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&to_hex(bytes))
}

fn to_hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Lower-case hex only, so that every digest has exactly one spelling and round-trips.
fn from_hex_32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (slot, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        let mut value = 0u8;
        for &c in pair {
            let digit = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => return None,
            };
            value = value << 4 | digit;
        }
        *slot = value;
    }
    Some(out)
}

impl ClaimCheck {
    /// The digest as 64 lower-case hex digits, as it appears on the wire.
    pub fn sha256_hex(&self) -> String {
        to_hex(&self.sha256)
    }

    fn from_object(mut obj: RawObject) -> Result<Self, Fault> {
        let store =
            match read_string(&obj.required("body.data.store")?, "body.data.store")?.as_str() {
                "r2" => ClaimStore::R2,
                "s3" => ClaimStore::S3,
                _ => return Err(invalid("body.data.store", "must be \"r2\" or \"s3\"")),
            };
        let bucket = read_non_empty(&obj.required("body.data.bucket")?, "body.data.bucket")?;
        let key = read_non_empty(&obj.required("body.data.key")?, "body.data.key")?;
        let size = read_u64(&obj.required("body.data.size")?, "body.data.size")?;
        let sha256 = from_hex_32(&read_string(
            &obj.required("body.data.sha256")?,
            "body.data.sha256",
        )?)
        .ok_or_else(|| invalid("body.data.sha256", "must be 64 lower-case hex digits"))?;
        let content_type = obj
            .optional("body.data.content_type")
            .map(|raw| read_string(&raw, "body.data.content_type"))
            .transpose()?;
        Ok(Self {
            store,
            bucket,
            key,
            size,
            sha256,
            content_type,
        })
    }
}

impl<'de> Deserialize<'de> for ClaimCheck {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let obj = RawObject::deserialize(deserializer)?;
        Self::from_object(obj).map_err(|f| de::Error::custom(EnvelopeError::from(f)))
    }
}

/// A webhook body, as the `body` object of an [`InboundEnvelope`]:
/// `{"encoding": "json" | "base64" | "claim_check", "data": ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Body {
    /// `"json"`: the body was JSON, embedded verbatim (its exact bytes).
    Json(RawJson),
    /// `"base64"`: any other body, as standard padded base64 on the wire; holds the raw bytes.
    Base64(Vec<u8>),
    /// `"claim_check"`: the body was too large for the queue and is stored elsewhere.
    ClaimCheck(ClaimCheck),
}

/// Whether a `Content-Type` names JSON: `application/json` or any `type/subtype+json`, with or
/// without parameters, in any case.
pub(crate) fn is_json_content_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    (kind == "application" && subtype == "json")
        || (!kind.is_empty()
            && subtype.len() > "+json".len()
            && subtype.ends_with("+json")
            && !subtype.contains('/'))
}

impl Body {
    /// Chooses the encoding for a webhook body: `Json` when `content_type` names JSON and the
    /// bytes are one JSON value with no surrounding whitespace, otherwise `Base64`.
    ///
    /// Either way [`Body::decoded_bytes`] gives back exactly `bytes`. That is why a JSON body
    /// with leading or trailing whitespace (a final newline, say) goes as base64: embedding
    /// would drop the whitespace, and consumers may need the exact bytes to re-verify a
    /// signature or compute a hash.
    pub fn from_bytes(bytes: &[u8], content_type: Option<&str>) -> Body {
        if content_type.is_some_and(is_json_content_type)
            && let Ok(text) = std::str::from_utf8(bytes)
            && let Ok(raw) = serde_json::from_str::<&RawValue>(text)
            && raw.get().len() == text.len()
        {
            return Body::Json(RawJson(raw.to_owned()));
        }
        Body::Base64(bytes.to_vec())
    }

    /// [`Body::from_bytes`] for a JSON body already validated, `raw` being `bytes` parsed (as
    /// [`crate::lazy_json::LazyJson`] does): no second pass over the bytes. The body is kept
    /// as JSON when `raw` is all of it (no surrounding whitespace), as `from_bytes` does.
    pub fn from_validated_json(bytes: &[u8], raw: &RawValue) -> Body {
        if raw.get().len() == bytes.len() {
            return Body::Json(RawJson(raw.to_owned()));
        }
        Body::Base64(bytes.to_vec())
    }

    /// The body's bytes without copying; `None` for a claim check.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Body::Json(raw) => Some(raw.get().as_bytes()),
            Body::Base64(bytes) => Some(bytes),
            Body::ClaimCheck(_) => None,
        }
    }

    /// The body's bytes; `None` for a claim check (fetch the object instead).
    pub fn decoded_bytes(&self) -> Option<Vec<u8>> {
        self.as_bytes().map(<[u8]>::to_vec)
    }

    /// The wire name of the encoding: `json`, `base64` or `claim_check`.
    pub fn encoding(&self) -> &'static str {
        match self {
            Body::Json(_) => "json",
            Body::Base64(_) => "base64",
            Body::ClaimCheck(_) => "claim_check",
        }
    }

    fn from_object(mut obj: RawObject) -> Result<Self, Fault> {
        let encoding = read_string(&obj.required("body.encoding")?, "body.encoding")?;
        let data = obj.required("body.data")?;
        match encoding.as_str() {
            "json" => Ok(Body::Json(RawJson(data))),
            "base64" => {
                let text = read_string(&data, "body.data")?;
                BASE64
                    .decode(text)
                    .map(Body::Base64)
                    .map_err(|e| Fault::Base64(e.to_string()))
            }
            "claim_check" => {
                ClaimCheck::from_object(read_object(&data, "body.data")?).map(Body::ClaimCheck)
            }
            _ => Err(invalid(
                "body.encoding",
                "must be \"json\", \"base64\" or \"claim_check\"",
            )),
        }
    }
}

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a, T: Serialize> {
            encoding: &'static str,
            data: &'a T,
        }
        let encoding = self.encoding();
        match self {
            Body::Json(raw) => Wire {
                encoding,
                data: raw,
            }
            .serialize(serializer),
            Body::Base64(bytes) => Wire {
                encoding,
                data: &BASE64.encode(bytes),
            }
            .serialize(serializer),
            Body::ClaimCheck(claim) => Wire {
                encoding,
                data: claim,
            }
            .serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let obj = RawObject::deserialize(deserializer)?;
        Self::from_object(obj).map_err(|f| de::Error::custom(EnvelopeError::from(f)))
    }
}

/// Whether `name` is a lower-case HTTP field name (an RFC 9110 token without upper case).
fn is_lower_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
        })
}

/// What the receiver puts on the queue for each verified webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InboundEnvelope {
    /// Format version; [`InboundEnvelope::VERSION`].
    pub version: u32,
    /// Stable per provider delivery (a retried webhook keeps its id), so consumers can dedupe.
    pub id: String,
    /// The configured source name.
    pub source: String,
    /// The handler from `/hooks/{source}/{handler}`, if the URL had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// The provider's event type, when the receiver knows how to find it.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// When the receiver accepted the webhook.
    pub received_at: Timestamp,
    /// An allow-listed subset of the request headers, names in lower case; never signatures.
    pub headers: BTreeMap<String, String>,
    /// The request body.
    pub body: Body,
}

impl InboundEnvelope {
    /// The format version this build reads and writes.
    pub const VERSION: u32 = 1;

    /// Encodes as compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes and validates untrusted bytes (at most [`MAX_DECODE_BYTES`]); unknown fields are
    /// ignored.
    pub fn from_json(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let obj = parse_top(
            bytes,
            |size| EnvelopeError::TooLarge {
                size,
                max: MAX_DECODE_BYTES,
            },
            EnvelopeError::Json,
        )?;
        Self::from_object(obj).map_err(EnvelopeError::from)
    }

    fn from_object(mut obj: RawObject) -> Result<Self, Fault> {
        check_version(&obj.required("version")?)?;
        let id = read_non_empty(&obj.required("id")?, "id")?;
        let source = read_non_empty(&obj.required("source")?, "source")?;
        let handler = obj
            .optional("handler")
            .map(|raw| read_non_empty(&raw, "handler"))
            .transpose()?;
        let event_type = obj
            .optional("type")
            .map(|raw| read_non_empty(&raw, "type"))
            .transpose()?;
        let received_at = read_timestamp(&obj.required("received_at")?, "received_at")?;
        let mut headers = BTreeMap::new();
        for (name, value) in read_object(&obj.required("headers")?, "headers")?.0 {
            if !is_lower_header_name(&name) {
                return Err(invalid(
                    "headers",
                    "names must be lower-case HTTP header names",
                ));
            }
            let value = read_string(&value, &format!("headers.{name}"))?;
            headers.insert(name, value);
        }
        let body = Body::from_object(read_object(&obj.required("body")?, "body")?)?;
        Ok(Self {
            version: Self::VERSION,
            id,
            source,
            handler,
            event_type,
            received_at,
            headers,
            body,
        })
    }
}

impl<'de> Deserialize<'de> for InboundEnvelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let obj = RawObject::deserialize(deserializer)?;
        Self::from_object(obj).map_err(|f| de::Error::custom(EnvelopeError::from(f)))
    }
}

// ------------------------------------------------------------------------------------------
// Outbound message
// ------------------------------------------------------------------------------------------

/// What an app puts on the outbound SQS queue: one event to deliver to its endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboundMessage {
    /// The event type (`type` on the wire), such as `invoice.paid`.
    pub event_type: String,
    /// The event payload, any JSON value, delivered as sent.
    pub data: RawJson,
    /// The app's idempotency key; also the delivered message id.
    pub id: Option<String>,
    /// The endpoints to deliver to; `None` means every endpoint subscribed to the type.
    pub endpoints: Option<Vec<String>>,
    /// When the event happened; `None` means when the sender first saw the message.
    pub timestamp: Option<Timestamp>,
}

#[derive(Serialize)]
struct OutboundWire<'a> {
    version: u32,
    #[serde(rename = "type")]
    event_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoints: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<Timestamp>,
    data: &'a RawJson,
}

impl OutboundMessage {
    /// The format version this build reads and writes (`version` may be left out: it means 1).
    pub const VERSION: u32 = 1;

    /// A message with only the required fields.
    pub fn new(event_type: impl Into<String>, data: RawJson) -> Self {
        Self {
            event_type: event_type.into(),
            data,
            id: None,
            endpoints: None,
            timestamp: None,
        }
    }

    /// Encodes as compact JSON, with `"version": 1` written out.
    pub fn to_json(&self) -> Vec<u8> {
        encode(self)
    }

    /// [`Self::to_json`] as text, such as an SQS message body.
    pub fn to_json_string(&self) -> String {
        encode_string(self)
    }

    /// Decodes and validates untrusted bytes (at most [`MAX_DECODE_BYTES`]); unknown fields are
    /// ignored, but `hookline` is refused so the two formats sharing a queue never overlap.
    pub fn from_json(bytes: &[u8]) -> Result<Self, MessageError> {
        let obj = parse_message(bytes)?;
        Self::from_object(obj).map_err(MessageError::from)
    }

    /// Checks the field rules on a message built in code, before sending it.
    pub fn validate(&self) -> Result<(), MessageError> {
        self.check().map_err(MessageError::from)
    }

    fn check(&self) -> Result<(), Fault> {
        check_event_type(&self.event_type, "type")?;
        if let Some(id) = &self.id {
            check_outbound_id(id, "id")?;
        }
        if let Some(endpoints) = &self.endpoints {
            check_endpoints(endpoints)?;
        }
        Ok(())
    }

    fn from_object(mut obj: RawObject) -> Result<Self, Fault> {
        if let Some(raw) = obj.optional("version") {
            check_version(&raw)?;
        }
        if obj.contains("hookline") {
            return Err(invalid(
                "hookline",
                "is reserved for hookline's own delivery messages",
            ));
        }
        let event_type = read_string(&obj.required("type")?, "type")?;
        let data = RawJson(obj.required("data")?);
        let id = obj
            .optional("id")
            .map(|raw| read_string(&raw, "id"))
            .transpose()?;
        let endpoints = match obj.optional("endpoints") {
            None => None,
            Some(raw) => {
                let items: Vec<Box<RawValue>> = serde_json::from_str(raw.get())
                    .map_err(|_| invalid("endpoints", "must be an array of endpoint names"))?;
                let mut names = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    names.push(read_string(item, &format!("endpoints[{i}]"))?);
                }
                Some(names)
            }
        };
        let timestamp = obj
            .optional("timestamp")
            .map(|raw| read_timestamp(&raw, "timestamp"))
            .transpose()?;
        let msg = Self {
            event_type,
            data,
            id,
            endpoints,
            timestamp,
        };
        msg.check()?;
        Ok(msg)
    }
}

impl Serialize for OutboundMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        OutboundWire {
            version: Self::VERSION,
            event_type: &self.event_type,
            id: self.id.as_deref(),
            endpoints: self.endpoints.as_deref(),
            timestamp: self.timestamp,
            data: &self.data,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for OutboundMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let obj = RawObject::deserialize(deserializer)?;
        Self::from_object(obj).map_err(|f| de::Error::custom(MessageError::from(f)))
    }
}

// ------------------------------------------------------------------------------------------
// Delivery message
// ------------------------------------------------------------------------------------------

/// The sender's own message: one [`OutboundMessage`] bound for one endpoint, so each endpoint
/// is retried on its own. Marked on the wire by `"hookline": "delivery"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryMessage {
    /// The delivered message's id: the app's `id`, or one the sender made up. The same for
    /// every endpoint and every retry, so receivers can dedupe.
    pub message_id: String,
    /// The endpoint to deliver to.
    pub endpoint: String,
    /// The event type (`type` on the wire).
    pub event_type: String,
    /// The event payload, as the app sent it.
    pub data: RawJson,
    /// When the event happened.
    pub timestamp: Timestamp,
}

#[derive(Serialize)]
struct DeliveryWire<'a> {
    hookline: &'static str,
    version: u32,
    message_id: &'a str,
    endpoint: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: Timestamp,
    data: &'a RawJson,
}

impl DeliveryMessage {
    /// The format version this build reads and writes.
    pub const VERSION: u32 = 1;

    /// The delivery of `msg` to `endpoint`. `timestamp` is when the sender first saw `msg`; it
    /// is used only when the app gave no `timestamp` of its own.
    ///
    /// The core draws no random numbers, so the caller supplies `message_id` (the app's `id`
    /// when there is one) and must pass a valid id and endpoint name (see [`Self::validate`]).
    pub fn new(
        message_id: String,
        endpoint: String,
        msg: &OutboundMessage,
        timestamp: Timestamp,
    ) -> DeliveryMessage {
        DeliveryMessage {
            message_id,
            endpoint,
            event_type: msg.event_type.clone(),
            data: msg.data.clone(),
            timestamp: msg.timestamp.unwrap_or(timestamp),
        }
    }

    /// Encodes as compact JSON, marker and version included.
    pub fn to_json(&self) -> Vec<u8> {
        encode(self)
    }

    /// [`Self::to_json`] as text, such as an SQS message body.
    pub fn to_json_string(&self) -> String {
        encode_string(self)
    }

    /// Decodes and validates untrusted bytes (at most [`MAX_DECODE_BYTES`]); unknown fields are
    /// ignored.
    pub fn from_json(bytes: &[u8]) -> Result<Self, MessageError> {
        let obj = parse_message(bytes)?;
        Self::from_object(obj).map_err(MessageError::from)
    }

    /// Checks the field rules, e.g. on a message built with [`DeliveryMessage::new`].
    pub fn validate(&self) -> Result<(), MessageError> {
        self.check().map_err(MessageError::from)
    }

    fn check(&self) -> Result<(), Fault> {
        check_outbound_id(&self.message_id, "message_id")?;
        check_endpoint(&self.endpoint, "endpoint")?;
        check_event_type(&self.event_type, "type")
    }

    fn from_object(mut obj: RawObject) -> Result<Self, Fault> {
        check_version(&obj.required("version")?)?;
        let marker = read_string(&obj.required("hookline")?, "hookline")?;
        if marker != DELIVERY_MARKER {
            return Err(invalid("hookline", "must be \"delivery\""));
        }
        let message_id = read_string(&obj.required("message_id")?, "message_id")?;
        let endpoint = read_string(&obj.required("endpoint")?, "endpoint")?;
        let event_type = read_string(&obj.required("type")?, "type")?;
        let data = RawJson(obj.required("data")?);
        let timestamp = read_timestamp(&obj.required("timestamp")?, "timestamp")?;
        let msg = Self {
            message_id,
            endpoint,
            event_type,
            data,
            timestamp,
        };
        msg.check()?;
        Ok(msg)
    }
}

impl Serialize for DeliveryMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        DeliveryWire {
            hookline: DELIVERY_MARKER,
            version: Self::VERSION,
            message_id: &self.message_id,
            endpoint: &self.endpoint,
            event_type: &self.event_type,
            timestamp: self.timestamp,
            data: &self.data,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for DeliveryMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let obj = RawObject::deserialize(deserializer)?;
        Self::from_object(obj).map_err(|f| de::Error::custom(MessageError::from(f)))
    }
}

// ------------------------------------------------------------------------------------------
// Queue message
// ------------------------------------------------------------------------------------------

/// Anything on the outbound SQS queue: an app's message or one of the sender's deliveries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueMessage {
    /// An app's message, still to be fanned out.
    Outbound(OutboundMessage),
    /// A delivery to one endpoint.
    Delivery(DeliveryMessage),
}

impl QueueMessage {
    /// Decodes untrusted bytes (at most [`MAX_DECODE_BYTES`]): a delivery when the object has a
    /// `hookline` field, which must then be `"delivery"`; an outbound message otherwise.
    pub fn from_json(bytes: &[u8]) -> Result<QueueMessage, MessageError> {
        let obj = parse_message(bytes)?;
        Self::from_object(obj).map_err(MessageError::from)
    }

    /// Encodes as compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        encode(self)
    }

    fn from_object(obj: RawObject) -> Result<Self, Fault> {
        if obj.contains("hookline") {
            DeliveryMessage::from_object(obj).map(QueueMessage::Delivery)
        } else {
            OutboundMessage::from_object(obj).map(QueueMessage::Outbound)
        }
    }
}

impl Serialize for QueueMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            QueueMessage::Outbound(msg) => msg.serialize(serializer),
            QueueMessage::Delivery(msg) => msg.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for QueueMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let obj = RawObject::deserialize(deserializer)?;
        Self::from_object(obj).map_err(|f| de::Error::custom(MessageError::from(f)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    // The same files docs/schemas/check_schemas.py validates against the JSON Schemas.
    const VALID: &[(&str, &str)] = &[
        (
            "inbound-json-body.json",
            include_str!("../../docs/schemas/examples/inbound-json-body.json"),
        ),
        (
            "inbound-base64-body.json",
            include_str!("../../docs/schemas/examples/inbound-base64-body.json"),
        ),
        (
            "inbound-claim-check.json",
            include_str!("../../docs/schemas/examples/inbound-claim-check.json"),
        ),
        (
            "outbound-minimal.json",
            include_str!("../../docs/schemas/examples/outbound-minimal.json"),
        ),
        (
            "outbound-full.json",
            include_str!("../../docs/schemas/examples/outbound-full.json"),
        ),
        (
            "delivery.json",
            include_str!("../../docs/schemas/examples/delivery.json"),
        ),
    ];

    const INVALID: &[(&str, &str)] = &[
        (
            "delivery-missing-timestamp.json",
            include_str!("../../docs/schemas/examples/invalid/delivery-missing-timestamp.json"),
        ),
        (
            "delivery-wrong-marker.json",
            include_str!("../../docs/schemas/examples/invalid/delivery-wrong-marker.json"),
        ),
        (
            "delivery-id-with-dot.json",
            include_str!("../../docs/schemas/examples/invalid/delivery-id-with-dot.json"),
        ),
        (
            "outbound-id-with-dot.json",
            include_str!("../../docs/schemas/examples/invalid/outbound-id-with-dot.json"),
        ),
        (
            "inbound-bad-base64.json",
            include_str!("../../docs/schemas/examples/invalid/inbound-bad-base64.json"),
        ),
        (
            "inbound-bad-sha256.json",
            include_str!("../../docs/schemas/examples/invalid/inbound-bad-sha256.json"),
        ),
        (
            "inbound-missing-body.json",
            include_str!("../../docs/schemas/examples/invalid/inbound-missing-body.json"),
        ),
        (
            "inbound-uppercase-header.json",
            include_str!("../../docs/schemas/examples/invalid/inbound-uppercase-header.json"),
        ),
        (
            "inbound-version-2.json",
            include_str!("../../docs/schemas/examples/invalid/inbound-version-2.json"),
        ),
        (
            "outbound-bad-endpoint.json",
            include_str!("../../docs/schemas/examples/invalid/outbound-bad-endpoint.json"),
        ),
        (
            "outbound-bad-id.json",
            include_str!("../../docs/schemas/examples/invalid/outbound-bad-id.json"),
        ),
        (
            "outbound-empty-endpoints.json",
            include_str!("../../docs/schemas/examples/invalid/outbound-empty-endpoints.json"),
        ),
        (
            "outbound-empty-type.json",
            include_str!("../../docs/schemas/examples/invalid/outbound-empty-type.json"),
        ),
        (
            "outbound-missing-data.json",
            include_str!("../../docs/schemas/examples/invalid/outbound-missing-data.json"),
        ),
        (
            "outbound-missing-type.json",
            include_str!("../../docs/schemas/examples/invalid/outbound-missing-type.json"),
        ),
        (
            "outbound-version-2.json",
            include_str!("../../docs/schemas/examples/invalid/outbound-version-2.json"),
        ),
    ];

    fn value(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    /// Decodes an example with the decoder its name picks and re-encodes it.
    fn decode_encode(name: &str, text: &str) -> Result<Vec<u8>, String> {
        let bytes = text.as_bytes();
        if name.starts_with("inbound-") {
            let env = InboundEnvelope::from_json(bytes).map_err(|e| e.to_string())?;
            // The serde path must agree with from_json.
            let via_serde: InboundEnvelope =
                serde_json::from_str(text).map_err(|e| e.to_string())?;
            assert_eq!(env, via_serde);
            Ok(env.to_json())
        } else if name.starts_with("outbound-") {
            let msg = OutboundMessage::from_json(bytes).map_err(|e| e.to_string())?;
            assert_eq!(
                QueueMessage::from_json(bytes).map_err(|e| e.to_string())?,
                QueueMessage::Outbound(msg.clone())
            );
            Ok(msg.to_json())
        } else if name.starts_with("delivery") {
            let msg = DeliveryMessage::from_json(bytes).map_err(|e| e.to_string())?;
            assert_eq!(
                QueueMessage::from_json(bytes).map_err(|e| e.to_string())?,
                QueueMessage::Delivery(msg.clone())
            );
            Ok(msg.to_json())
        } else {
            panic!("{name}: no decoder for this name")
        }
    }

    #[test]
    fn every_example_decodes_and_round_trips() {
        for (name, text) in VALID {
            let encoded = decode_encode(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut expected: Value = serde_json::from_str(text).unwrap();
            // The encoder always writes the version, which an outbound message may leave out.
            if name.starts_with("outbound-") {
                expected
                    .as_object_mut()
                    .unwrap()
                    .entry("version")
                    .or_insert(json!(1));
            }
            assert_eq!(value(&encoded), expected, "{name}");
            // And the re-encoded form decodes to the same thing, byte for byte.
            assert_eq!(
                decode_encode(name, std::str::from_utf8(&encoded).unwrap()).unwrap(),
                encoded,
                "{name}"
            );
        }
    }

    #[test]
    fn every_invalid_example_is_rejected() {
        for (name, text) in INVALID {
            let result = decode_encode(name, text);
            assert!(result.is_err(), "{name} was accepted");
        }
    }

    #[test]
    fn invalid_examples_fail_for_the_intended_reason() {
        let find = |name: &str| {
            INVALID
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap()
                .1
                .as_bytes()
        };
        let inbound = |name| InboundEnvelope::from_json(find(name)).unwrap_err();
        let outbound = |name| OutboundMessage::from_json(find(name)).unwrap_err();
        let delivery = |name| QueueMessage::from_json(find(name)).unwrap_err();
        assert_eq!(
            inbound("inbound-version-2.json"),
            EnvelopeError::UnsupportedVersion(2)
        );
        assert!(matches!(
            inbound("inbound-bad-base64.json"),
            EnvelopeError::InvalidBase64(_)
        ));
        assert_eq!(
            inbound("inbound-missing-body.json"),
            EnvelopeError::MissingField("body")
        );
        assert_eq!(
            inbound("inbound-bad-sha256.json").field(),
            "body.data.sha256"
        );
        assert_eq!(inbound("inbound-uppercase-header.json").field(), "headers");
        assert_eq!(
            outbound("outbound-version-2.json"),
            MessageError::UnsupportedVersion(2)
        );
        assert_eq!(
            outbound("outbound-missing-type.json"),
            MessageError::MissingField("type")
        );
        assert_eq!(
            outbound("outbound-empty-type.json").to_string(),
            "type: must not be empty"
        );
        assert_eq!(
            outbound("outbound-missing-data.json"),
            MessageError::MissingField("data")
        );
        assert_eq!(
            outbound("outbound-bad-endpoint.json").field(),
            "endpoints[0]"
        );
        assert_eq!(
            outbound("outbound-empty-endpoints.json").field(),
            "endpoints"
        );
        assert_eq!(outbound("outbound-bad-id.json").field(), "id");
        assert_eq!(delivery("delivery-wrong-marker.json").field(), "hookline");
        assert_eq!(
            delivery("delivery-missing-timestamp.json"),
            MessageError::MissingField("timestamp")
        );
    }

    /// Every file in docs/schemas/examples is in the lists above, so none escapes the tests.
    #[test]
    fn the_lists_cover_every_example_file() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schemas/examples");
        for (sub, list) in [("", VALID), ("invalid", INVALID)] {
            let mut on_disk: Vec<String> = std::fs::read_dir(dir.join(sub))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n.ends_with(".json"))
                .collect();
            on_disk.sort();
            let mut listed: Vec<String> = list.iter().map(|(n, _)| n.to_string()).collect();
            listed.sort();
            assert_eq!(on_disk, listed, "examples/{sub}");
        }
    }

    fn envelope(body: Body) -> InboundEnvelope {
        InboundEnvelope {
            version: InboundEnvelope::VERSION,
            id: "evt_1".into(),
            source: "stripe".into(),
            handler: None,
            event_type: Some("invoice.paid".into()),
            received_at: Timestamp::from_unix_millis(1_795_435_200_123),
            headers: BTreeMap::from([("content-type".into(), "application/json".into())]),
            body,
        }
    }

    #[test]
    fn json_content_types() {
        for ct in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            " application/json ;charset=UTF-8",
            "application/vnd.api+json",
            "application/cloudevents+json; charset=utf-8",
            "text/x-custom+JSON",
        ] {
            assert!(is_json_content_type(ct), "{ct}");
        }
        for ct in [
            "",
            "json",
            "text/plain",
            "application/jsonp",
            "application/json-seq",
            "application/+json",
            "/+json",
            "application/x-www-form-urlencoded",
            "text/json",
        ] {
            assert!(!is_json_content_type(ct), "{ct}");
        }
    }

    #[test]
    fn from_bytes_picks_json_only_for_exact_json_with_a_json_type() {
        let json = br#"{"b": 1.0, "a":  [1e400, 12345678901234567890123], "s": "\u00e9"}"#;
        let body = Body::from_bytes(json, Some("application/json"));
        assert_eq!(body.encoding(), "json");
        // Kept byte for byte: spacing, key order, number spelling and escapes.
        assert_eq!(body.as_bytes().unwrap(), json);

        let cases: &[(&[u8], Option<&str>)] = &[
            (br#"{"a":1}"#, None),
            (br#"{"a":1}"#, Some("text/plain")),
            (b"{\"a\":1}\n", Some("application/json")),
            (b" {\"a\":1}", Some("application/json")),
            (b"{\"a\":1", Some("application/json")),
            (b"", Some("application/json")),
            (b"\xff\xfe{}", Some("application/json")),
            (b"\xef\xbb\xbf{}", Some("application/json")),
            (b"{} {}", Some("application/json")),
            (b"hello", Some("application/json")),
        ];
        for (bytes, ct) in cases {
            let body = Body::from_bytes(bytes, *ct);
            assert_eq!(body.encoding(), "base64", "{bytes:?} {ct:?}");
            assert_eq!(body.decoded_bytes().unwrap(), *bytes);
        }
        // Scalars are JSON too.
        for scalar in [&b"null"[..], b"42", b"\"x\"", b"true", b"[]"] {
            assert_eq!(
                Body::from_bytes(scalar, Some("application/json")).encoding(),
                "json"
            );
        }
    }

    #[test]
    fn bodies_survive_the_envelope_byte_for_byte() {
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let inputs: Vec<(Vec<u8>, Option<&str>)> = vec![
            (
                br#"{"z":1,"a":{"nested":[1,2,3]},"s":"a\"b\\c\u2028"}"#.to_vec(),
                Some("application/json"),
            ),
            (
                b"{\n  \"pretty\": true\n}".to_vec(),
                Some("application/json"),
            ),
            (deep.into_bytes(), Some("application/json")),
            ((0..=255u8).collect(), Some("application/octet-stream")),
            (
                b"a=1&b=2".to_vec(),
                Some("application/x-www-form-urlencoded"),
            ),
            (Vec::new(), None),
        ];
        for (bytes, ct) in inputs {
            let env = envelope(Body::from_bytes(&bytes, ct));
            let encoded = env.to_json();
            let back = InboundEnvelope::from_json(&encoded).unwrap();
            assert_eq!(back, env);
            assert_eq!(back.body.decoded_bytes().unwrap(), bytes);
        }
    }

    #[test]
    fn claim_checks_round_trip_and_have_no_bytes() {
        let claim = ClaimCheck {
            store: ClaimStore::S3,
            bucket: "bodies".into(),
            key: "a/b".into(),
            size: u64::MAX,
            sha256: [0xab; 32],
            content_type: None,
        };
        let env = envelope(Body::ClaimCheck(claim.clone()));
        let v = value(&env.to_json());
        assert_eq!(v["body"]["encoding"], "claim_check");
        assert_eq!(v["body"]["data"]["sha256"], "ab".repeat(32));
        assert_eq!(v["body"]["data"]["size"], json!(u64::MAX));
        assert!(v["body"]["data"].get("content_type").is_none());
        let back = InboundEnvelope::from_json(&env.to_json()).unwrap();
        assert_eq!(back.body, Body::ClaimCheck(claim.clone()));
        assert_eq!(back.body.decoded_bytes(), None);
        assert_eq!(claim.sha256_hex(), "ab".repeat(32));
    }

    #[test]
    fn envelope_encoding_omits_absent_options() {
        let mut env = envelope(Body::Base64(b"hi".to_vec()));
        env.event_type = None;
        let v = value(&env.to_json());
        assert_eq!(
            v,
            json!({
                "version": 1,
                "id": "evt_1",
                "source": "stripe",
                "received_at": "2026-11-23T12:00:00.123Z",
                "headers": {"content-type": "application/json"},
                "body": {"encoding": "base64", "data": "aGk="}
            })
        );
    }

    type Patch = Box<dyn FnOnce(&mut Value)>;

    fn inbound_with(patch: impl FnOnce(&mut Value)) -> Result<InboundEnvelope, EnvelopeError> {
        let mut v = json!({
            "version": 1,
            "id": "evt_1",
            "source": "stripe",
            "received_at": "2026-11-23T12:00:00Z",
            "headers": {},
            "body": {"encoding": "json", "data": {}}
        });
        patch(&mut v);
        InboundEnvelope::from_json(&serde_json::to_vec(&v).unwrap())
    }

    #[test]
    fn inbound_decoding_errors() {
        assert!(inbound_with(|_| {}).is_ok());
        // Unknown fields are ignored (forward compatibility), also inside the body.
        let env = inbound_with(|v| {
            v["future"] = json!({"x": 1});
            v["body"]["future"] = json!(true);
        })
        .unwrap();
        assert!(!String::from_utf8(env.to_json()).unwrap().contains("future"));
        // Null optionals read as absent.
        assert!(inbound_with(|v| v["handler"] = Value::Null).is_ok());

        let cases: Vec<(Patch, EnvelopeError)> = vec![
            (
                Box::new(|v| v["version"] = json!(0)),
                EnvelopeError::UnsupportedVersion(0),
            ),
            (
                Box::new(|v| {
                    // A future version is reported as such even if its shape moved on.
                    *v = json!({"version": 7, "totally": "different"});
                }),
                EnvelopeError::UnsupportedVersion(7),
            ),
            (
                Box::new(|v| {
                    v.as_object_mut().unwrap().remove("version");
                }),
                EnvelopeError::MissingField("version"),
            ),
            (
                Box::new(|v| {
                    v.as_object_mut().unwrap().remove("id");
                }),
                EnvelopeError::MissingField("id"),
            ),
            (
                Box::new(|v| {
                    v["body"].as_object_mut().unwrap().remove("data");
                }),
                EnvelopeError::MissingField("body.data"),
            ),
            (
                Box::new(|v| v["body"] = json!({"encoding": "base64", "data": "QQ"})),
                EnvelopeError::InvalidBase64("Invalid padding".into()),
            ),
        ];
        for (patch, expected) in cases {
            let got = inbound_with(patch).unwrap_err();
            match (&got, &expected) {
                (EnvelopeError::InvalidBase64(_), EnvelopeError::InvalidBase64(_)) => {}
                _ => assert_eq!(got, expected),
            }
        }

        let field = |patch: Patch| inbound_with(patch).unwrap_err();
        for (patch, path) in [
            (
                Box::new(|v: &mut Value| v["version"] = json!("1")) as Patch,
                "version",
            ),
            (
                Box::new(|v: &mut Value| v["version"] = json!(1.5)),
                "version",
            ),
            (
                Box::new(|v: &mut Value| v["version"] = json!(1u64 << 40)),
                "version",
            ),
            (Box::new(|v: &mut Value| v["id"] = json!("")), "id"),
            (Box::new(|v: &mut Value| v["id"] = json!(5)), "id"),
            (
                Box::new(|v: &mut Value| v["source"] = Value::Null),
                "source",
            ),
            (
                Box::new(|v: &mut Value| v["handler"] = json!("")),
                "handler",
            ),
            (Box::new(|v: &mut Value| v["type"] = json!([])), "type"),
            (
                Box::new(|v: &mut Value| v["received_at"] = json!("yesterday")),
                "received_at",
            ),
            (
                Box::new(|v: &mut Value| v["headers"] = json!([])),
                "headers",
            ),
            (
                Box::new(|v: &mut Value| v["headers"] = json!({"x-a": 1})),
                "headers.x-a",
            ),
            (
                Box::new(|v: &mut Value| v["headers"] = json!({"": "x"})),
                "headers",
            ),
            (
                Box::new(|v: &mut Value| v["headers"] = json!({"a b": "x"})),
                "headers",
            ),
            (Box::new(|v: &mut Value| v["body"] = json!("x")), "body"),
            (
                Box::new(|v: &mut Value| v["body"]["encoding"] = json!("gzip")),
                "body.encoding",
            ),
            (
                Box::new(|v: &mut Value| v["body"] = json!({"encoding": "base64", "data": 1})),
                "body.data",
            ),
            (
                Box::new(|v: &mut Value| {
                    v["body"] = json!({"encoding": "claim_check", "data": []})
                }),
                "body.data",
            ),
        ] {
            let err = field(patch);
            assert_eq!(err.field(), path, "{err}");
            assert!(err.to_string().starts_with(&format!("{path}: ")), "{err}");
        }

        let claim = |data: Value| {
            inbound_with(|v| v["body"] = json!({"encoding": "claim_check", "data": data}))
        };
        let good =
            json!({"store": "r2", "bucket": "b", "key": "k", "size": 1, "sha256": "0".repeat(64)});
        assert!(claim(good.clone()).is_ok());
        for (key, bad, path) in [
            ("store", json!("gcs"), "body.data.store"),
            ("bucket", json!(""), "body.data.bucket"),
            ("key", json!(null), "body.data.key"),
            ("size", json!(-1), "body.data.size"),
            ("sha256", json!("A".repeat(64)), "body.data.sha256"),
            ("sha256", json!("0".repeat(63)), "body.data.sha256"),
            ("sha256", json!("é".repeat(32)), "body.data.sha256"),
            ("content_type", json!(1), "body.data.content_type"),
        ] {
            let mut data = good.clone();
            data[key] = bad;
            assert_eq!(claim(data).unwrap_err().field(), path);
        }
        let mut data = good;
        data.as_object_mut().unwrap().remove("size");
        assert_eq!(
            claim(data).unwrap_err(),
            EnvelopeError::MissingField("body.data.size")
        );
    }

    #[test]
    fn base64_must_be_canonical() {
        for bad in [
            "QQ", "QR==", "QQ==QQ==", "Q===", "aGk=\n", " aGk=", "aGk-", "@@@@",
        ] {
            let err = inbound_with(|v| v["body"] = json!({"encoding": "base64", "data": bad}))
                .unwrap_err();
            assert!(
                matches!(err, EnvelopeError::InvalidBase64(_)),
                "{bad}: {err}"
            );
            assert!(err.to_string().starts_with("body.data: invalid base64"));
        }
        let env = inbound_with(|v| v["body"] = json!({"encoding": "base64", "data": ""})).unwrap();
        assert_eq!(env.body, Body::Base64(Vec::new()));
    }

    #[test]
    fn whole_document_errors() {
        let big = vec![b' '; MAX_DECODE_BYTES + 1];
        assert_eq!(
            InboundEnvelope::from_json(&big).unwrap_err(),
            EnvelopeError::TooLarge {
                size: MAX_DECODE_BYTES + 1,
                max: MAX_DECODE_BYTES
            }
        );
        assert!(matches!(
            OutboundMessage::from_json(&big).unwrap_err(),
            MessageError::TooLarge { .. }
        ));
        assert!(matches!(
            DeliveryMessage::from_json(&big).unwrap_err(),
            MessageError::TooLarge { .. }
        ));
        assert!(matches!(
            QueueMessage::from_json(&big).unwrap_err(),
            MessageError::TooLarge { .. }
        ));
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            b"null",
            b"\"x\"",
            b"{\"type\":}",
            b"\xff",
        ] {
            assert!(matches!(
                InboundEnvelope::from_json(bad).unwrap_err(),
                EnvelopeError::Json(_)
            ));
            let err = QueueMessage::from_json(bad).unwrap_err();
            assert!(matches!(err, MessageError::Json(_)));
            assert_eq!(err.field(), "message");
            assert!(
                err.to_string().starts_with("message: invalid JSON"),
                "{err}"
            );
        }
        // Repeated keys are refused at the top level and inside objects we read.
        let err = OutboundMessage::from_json(br#"{"type":"a","type":"b","data":1}"#).unwrap_err();
        assert!(matches!(err, MessageError::Json(ref m) if m.contains("duplicate key `type`")));
        let err = InboundEnvelope::from_json(
            br#"{"version":1,"id":"e","source":"s","received_at":"2026-11-23T12:00:00Z","headers":{"a":"1","a":"2"},"body":{"encoding":"json","data":1}}"#,
        )
        .unwrap_err();
        assert_eq!(err.field(), "headers");
        // ...but not inside a webhook body or app data, which are passed on as they are.
        let msg = OutboundMessage::from_json(br#"{"type":"a","data":{"k":1,"k":2}}"#).unwrap();
        assert_eq!(msg.data.get(), r#"{"k":1,"k":2}"#);
    }

    fn outbound_err(v: Value) -> MessageError {
        OutboundMessage::from_json(&serde_json::to_vec(&v).unwrap()).unwrap_err()
    }

    #[test]
    fn outbound_field_rules() {
        let ok = |v: Value| OutboundMessage::from_json(&serde_json::to_vec(&v).unwrap()).unwrap();
        let msg = ok(json!({"type": "a", "data": null}));
        assert_eq!(msg.data.get(), "null");
        assert_eq!(
            msg,
            OutboundMessage::new("a", RawJson::from_value(&()).unwrap())
        );
        let msg = ok(json!({
            "type": "~!x.y/z:1", "data": 1, "id": "A".repeat(256), "version": null,
            "endpoints": ["a", "0-_", "z".repeat(63)], "timestamp": "2026-11-23T13:00:00+01:00",
            "unknown": {"ignored": true}
        }));
        assert_eq!(
            msg.timestamp,
            Timestamp::parse_rfc3339("2026-11-23T12:00:00Z")
        );
        let msg =
            ok(json!({"type": "a", "data": {}, "id": null, "endpoints": null, "timestamp": null}));
        assert_eq!((msg.id, msg.endpoints, msg.timestamp), (None, None, None));

        let cases = [
            (json!({"type": "", "data": 1}), "type: must not be empty"),
            (
                json!({"type": "a b", "data": 1}),
                "type: must be printable ASCII without spaces",
            ),
            (
                json!({"type": "é", "data": 1}),
                "type: must be printable ASCII without spaces",
            ),
            (
                json!({"type": "a\n", "data": 1}),
                "type: must be printable ASCII without spaces",
            ),
            (
                json!({"type": "a".repeat(257), "data": 1}),
                "type: must be at most 256 bytes",
            ),
            (json!({"type": 1, "data": 1}), "type: must be a string"),
            (json!({"data": 1}), "type: missing"),
            (json!({"type": "a"}), "data: missing"),
            (
                json!({"type": "a", "data": 1, "id": ""}),
                "id: must not be empty",
            ),
            (
                json!({"type": "a", "data": 1, "id": "x".repeat(257)}),
                "id: must be at most 256 bytes",
            ),
            (
                json!({"type": "a", "data": 1, "id": "a/b"}),
                "id: may contain only A-Z a-z 0-9 _ : -",
            ),
            (
                json!({"type": "a", "data": 1, "endpoints": "billing"}),
                "endpoints: must be an array of endpoint names",
            ),
            (
                json!({"type": "a", "data": 1, "endpoints": ["a", 1]}),
                "endpoints[1]: must be a string",
            ),
            (
                json!({"type": "a", "data": 1, "endpoints": ["a", "a"]}),
                "endpoints[1]: repeats an earlier endpoint",
            ),
            (
                json!({"type": "a", "data": 1, "timestamp": "2026-13-01T00:00:00Z"}),
                "timestamp: must be an RFC 3339 date-time such as 2026-11-23T12:00:00Z",
            ),
            (
                json!({"type": "a", "data": 1, "timestamp": 1_795_435_200}),
                "timestamp: must be a string",
            ),
            (
                json!({"type": "a", "data": 1, "version": 2}),
                "version: unsupported version 2 (this build reads version 1)",
            ),
            (
                json!({"type": "a", "data": 1, "version": "1"}),
                "version: must be a non-negative integer",
            ),
            (
                json!({"type": "a", "data": 1, "hookline": "delivery"}),
                "hookline: is reserved for hookline's own delivery messages",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(outbound_err(input.clone()).to_string(), expected, "{input}");
        }
        for bad in ["", "-a", "_a", "A", "a.b", "a b", "é", &"a".repeat(64)] {
            let err = outbound_err(json!({"type": "a", "data": 1, "endpoints": ["ok", bad]}));
            assert_eq!(err.field(), "endpoints[1]", "{bad:?}");
        }
    }

    #[test]
    fn field_rule_predicates() {
        assert!(is_valid_event_type("invoice.paid"));
        assert!(is_valid_event_type(&"!".repeat(256)));
        assert!(!is_valid_event_type(&"!".repeat(257)));
        assert!(!is_valid_event_type("a\u{7f}"));
        assert!(is_valid_message_id("msg_01J:abc.def-1"));
        assert!(!is_valid_message_id("msg 1"));
        assert!(is_valid_endpoint_name("0"));
        assert!(is_valid_endpoint_name(&format!("a{}", "-".repeat(62))));
        assert!(!is_valid_endpoint_name(&format!("a{}", "-".repeat(63))));
    }

    #[test]
    fn validate_checks_messages_built_in_code() {
        let mut msg =
            OutboundMessage::new("invoice.paid", RawJson::from_value(&json!({})).unwrap());
        assert!(msg.validate().is_ok());
        msg.endpoints = Some(vec![]);
        assert_eq!(msg.validate().unwrap_err().field(), "endpoints");
        msg.endpoints = None;
        msg.event_type = String::new();
        assert_eq!(
            msg.validate().unwrap_err().to_string(),
            "type: must not be empty"
        );

        let ok = OutboundMessage::new("a", RawJson::from_value(&1).unwrap());
        let at = Timestamp::from_unix_secs(1);
        let d = DeliveryMessage::new("Bad Id".into(), "billing".into(), &ok, at);
        assert_eq!(d.validate().unwrap_err().field(), "message_id");
        let d = DeliveryMessage::new("msg_1".into(), "Billing".into(), &ok, at);
        assert_eq!(d.validate().unwrap_err().field(), "endpoint");
    }

    #[test]
    fn outbound_encoding_writes_version_and_skips_absent_options() {
        let msg = OutboundMessage::new("a", RawJson::from_string(" [1, 2] ".into()).unwrap());
        assert_eq!(msg.to_json(), br#"{"version":1,"type":"a","data":[1, 2]}"#);
        // The serde path produces the same thing.
        assert_eq!(serde_json::to_vec(&msg).unwrap(), msg.to_json());
        let back: OutboundMessage = serde_json::from_slice(&msg.to_json()).unwrap();
        assert_eq!(back, msg);
    }

    #[test]
    fn delivery_new_and_dispatch() {
        let text = VALID
            .iter()
            .find(|(n, _)| *n == "outbound-full.json")
            .unwrap()
            .1;
        let msg = OutboundMessage::from_json(text.as_bytes()).unwrap();
        let seen = Timestamp::from_unix_secs(2_000_000_000);

        // The app's timestamp wins over when the sender saw the message...
        let d = DeliveryMessage::new("inv_123:paid".into(), "billing".into(), &msg, seen);
        assert_eq!(d.timestamp, msg.timestamp.unwrap());
        assert_eq!(d.event_type, msg.event_type);
        assert_eq!(d.data, msg.data);
        let expected = VALID.iter().find(|(n, _)| *n == "delivery.json").unwrap().1;
        assert_eq!(value(&d.to_json()), value(expected.as_bytes()));

        // ...which is used when the app gave none.
        let mut untimed = msg.clone();
        untimed.timestamp = None;
        let d2 = DeliveryMessage::new("msg_x".into(), "audit".into(), &untimed, seen);
        assert_eq!(d2.timestamp, seen);
        assert!(d2.validate().is_ok());

        // Both kinds share the queue and are told apart by the marker.
        let q = QueueMessage::Delivery(d2.clone());
        assert_eq!(QueueMessage::from_json(&q.to_json()).unwrap(), q);
        let q = QueueMessage::Outbound(msg.clone());
        assert_eq!(QueueMessage::from_json(&q.to_json()).unwrap(), q);
        let via_serde: QueueMessage = serde_json::from_slice(&d2.to_json()).unwrap();
        assert_eq!(via_serde, QueueMessage::Delivery(d2.clone()));

        // A delivery is not an outbound message, and the reverse.
        assert_eq!(
            OutboundMessage::from_json(&d2.to_json())
                .unwrap_err()
                .field(),
            "hookline"
        );
        assert_eq!(
            DeliveryMessage::from_json(&msg.to_json()).unwrap_err(),
            MessageError::MissingField("hookline")
        );
        for marker in [json!("Delivery"), json!(null), json!(1)] {
            let mut v = value(&d2.to_json());
            v["hookline"] = marker;
            let err = QueueMessage::from_json(&serde_json::to_vec(&v).unwrap()).unwrap_err();
            assert_eq!(err.field(), "hookline");
        }
        let mut v = value(&d2.to_json());
        v["version"] = json!(3);
        assert_eq!(
            QueueMessage::from_json(&serde_json::to_vec(&v).unwrap()).unwrap_err(),
            MessageError::UnsupportedVersion(3)
        );
        v.as_object_mut().unwrap().remove("version");
        assert_eq!(
            QueueMessage::from_json(&serde_json::to_vec(&v).unwrap()).unwrap_err(),
            MessageError::MissingField("version")
        );
    }

    #[test]
    fn raw_json_equality_is_textual() {
        let a = RawJson::from_string(r#"{"a":1}"#.into()).unwrap();
        let b = RawJson::from_string(r#"{ "a": 1 }"#.into()).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.to_value().unwrap(), b.to_value().unwrap());
        assert_eq!(a.to_string(), r#"{"a":1}"#);
        assert!(RawJson::from_string("{".into()).is_err());
        assert_eq!(RawJson::from(a.clone().into_raw_value()), a);
        assert_eq!(a.as_raw_value().get(), a.get());
    }

    #[test]
    fn size_limits() {
        assert_eq!(MAX_SQS_MESSAGE_BYTES, 256 * 1024);
        assert_eq!(MAX_CF_QUEUE_MESSAGE_BYTES, 128_000);
        assert_eq!(MAX_DECODE_BYTES, 1024 * 1024);
        // A message at the limit is parsed (and here rejected for its content, not its size).
        let mut at_limit = br#"{"type":"a","data":""#.to_vec();
        at_limit.resize(MAX_DECODE_BYTES - 2, b'x');
        at_limit.extend_from_slice(b"\"}");
        assert_eq!(at_limit.len(), MAX_DECODE_BYTES);
        assert!(OutboundMessage::from_json(&at_limit).is_ok());
    }

    /// A small deterministic fuzz: truncations, byte flips and random bytes never panic, and
    /// whatever decodes re-encodes to something that decodes to the same value.
    #[test]
    fn decoders_never_panic_on_mangled_input() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let check = |bytes: &[u8]| {
            if let Ok(env) = InboundEnvelope::from_json(bytes) {
                assert_eq!(InboundEnvelope::from_json(&env.to_json()).unwrap(), env);
            }
            if let Ok(msg) = QueueMessage::from_json(bytes) {
                assert_eq!(QueueMessage::from_json(&msg.to_json()).unwrap(), msg);
            }
            let _ = OutboundMessage::from_json(bytes);
            let _ = DeliveryMessage::from_json(bytes);
            let body = Body::from_bytes(bytes, Some("application/json"));
            assert_eq!(body.decoded_bytes().unwrap(), bytes);
        };
        for (_, text) in VALID.iter().chain(INVALID) {
            let bytes = text.as_bytes();
            for end in 0..bytes.len() {
                check(&bytes[..end]);
            }
            for _ in 0..300 {
                let mut mangled = bytes.to_vec();
                for _ in 0..=(next() % 3) {
                    let i = (next() % mangled.len() as u64) as usize;
                    let alphabet = b"{}[]\":,0 -1.e\\u\xffaZ";
                    mangled[i] = alphabet[(next() % alphabet.len() as u64) as usize];
                }
                check(&mangled);
            }
        }
        for _ in 0..2000 {
            let len = (next() % 64) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| (next() % 256) as u8).collect();
            check(&bytes);
        }
    }

    #[test]
    fn outbound_and_delivery_ids_may_not_contain_a_dot() {
        // Standard Webhooks signs `{id}.{timestamp}.{body}`: a `.` in the id is ambiguous.
        for bad in ["stripe.evt_1", ".a", "a.", ".", "a..b", "1795435200.5"] {
            let err = outbound_err(json!({"type": "a", "data": 1, "id": bad}));
            assert_eq!(err.field(), "id", "{bad:?}");
            assert!(err.to_string().contains("must not contain \".\""), "{err}");
            let delivery = json!({
                "hookline": "delivery", "version": 1, "message_id": bad, "endpoint": "billing",
                "type": "a", "timestamp": "2026-11-23T12:00:00Z", "data": 1,
            });
            let bytes = serde_json::to_vec(&delivery).unwrap();
            let err = DeliveryMessage::from_json(&bytes).unwrap_err();
            assert_eq!(err.field(), "message_id", "{bad:?}");
            assert_eq!(QueueMessage::from_json(&bytes).unwrap_err(), err);
            // Built in code: `validate` says the same.
            let mut msg = OutboundMessage::new("a", RawJson::from_value(&1).unwrap());
            msg.id = Some(bad.to_owned());
            assert_eq!(msg.validate().unwrap_err().field(), "id");
            let d = DeliveryMessage::new(
                bad.to_owned(),
                "billing".into(),
                &msg,
                Timestamp::from_unix_millis(0),
            );
            assert_eq!(d.validate().unwrap_err().field(), "message_id");
            assert!(
                !is_valid_outbound_id(bad) && is_valid_message_id(bad),
                "{bad:?}"
            );
        }
        assert!(is_valid_outbound_id("stripe:evt_1"));
        assert!(is_valid_outbound_id("msg_01J:abc-1"));
        // Inbound envelope ids keep `.` (nothing signs them with a `.` separator).
        let env = include_str!("../../docs/schemas/examples/inbound-base64-body.json");
        assert!(
            InboundEnvelope::from_json(env.as_bytes())
                .unwrap()
                .id
                .contains('.')
        );
    }
}
