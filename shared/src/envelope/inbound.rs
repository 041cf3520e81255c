//! The inbound envelope: what the receiver puts on the queue for each verified webhook.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::Deserializer;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::MAX_DECODE_BYTES;
use super::error::{EnvelopeError, Fault, invalid};
use super::raw::RawJson;
use super::wire::{
    self, FromObject, RawObject, check_version, encode_string, parse_top, read_non_empty,
    read_object, read_string, read_timestamp, read_u64,
};
use crate::time::Timestamp;

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
    serializer.serialize_str(&hex::encode(bytes))
}

/// Lower-case hex only, so that every digest has exactly one spelling and round-trips
/// (`hex` alone would also take upper case).
fn from_hex_32(text: &str) -> Option<[u8; 32]> {
    if text.bytes().any(|c| c.is_ascii_uppercase()) {
        return None;
    }
    let mut out = [0u8; 32];
    // A wrong length or a non-hex digit is the same failure to the caller: not a digest.
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

impl ClaimCheck {
    /// The digest as 64 lower-case hex digits, as it appears on the wire.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

impl FromObject for ClaimCheck {
    type Error = EnvelopeError;

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
        wire::deserialize(deserializer)
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
}

impl FromObject for Body {
    type Error = EnvelopeError;

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
        wire::deserialize(deserializer)
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

    /// Encodes as compact JSON: the bytes serde_json writes for the `Serialize` impl, written
    /// in one pass into a buffer of exactly [`Self::encoded_len`] bytes (the body copied once).
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.max_encoded_len());
        self.write_json(&mut out);
        out
    }

    /// An upper bound of [`Self::encoded_len`], cheaper to reach (nothing is formatted or
    /// escaped): the room [`Self::to_json`] reserves so that the buffer never grows.
    fn max_encoded_len(&self) -> usize {
        // serde_json writes a string's byte in at most 6 (`\u001f`), plus the quotes.
        let string = |s: &str| s.len().saturating_mul(6).saturating_add(2);
        // Every key and punctuation mark, the version, the timestamp (about 30 bytes at most)
        // and the body's encoding name; the claim check's own keys, size and digest.
        let fixed = 256;
        let optional = |s: &Option<String>| s.as_deref().map_or(0, string);
        let headers: usize = self
            .headers
            .iter()
            .map(|(k, v)| string(k).saturating_add(string(v)).saturating_add(2))
            .fold(0, usize::saturating_add);
        let body = match &self.body {
            Body::Json(raw) => raw.get().len(),
            Body::Base64(bytes) => base64_len(bytes.len()).saturating_add(2),
            Body::ClaimCheck(check) => string(&check.bucket)
                .saturating_add(string(&check.key))
                .saturating_add(optional(&check.content_type))
                .saturating_add(256),
        };
        [
            fixed,
            string(&self.id),
            string(&self.source),
            optional(&self.handler),
            optional(&self.event_type),
            headers,
            body,
        ]
        .into_iter()
        .fold(0, usize::saturating_add)
    }

    /// The length of [`Self::to_json`] in bytes, counted without encoding (the body is not
    /// copied): whether an envelope fits a queue message, or needs a claim check, is decided
    /// on this, and the envelope is then encoded once.
    pub fn encoded_len(&self) -> usize {
        let mut len = JsonLen(0);
        self.write_json(&mut len);
        len.0
    }

    /// [`Self::to_json`] as text, such as a queue message body.
    pub fn to_json_string(&self) -> String {
        // The JSON is UTF-8 (serde_json's output, UTF-8 raw JSON and base64), so the fallback,
        // the `Serialize` path, is never taken.
        String::from_utf8(self.to_json()).unwrap_or_else(|_| encode_string(self))
    }

    /// Writes the JSON of the derived `Serialize` impl, field for field in its order: strings
    /// with serde_json's escapes (copied as they are when they need none, as is usual), the
    /// body's bytes as they are.
    fn write_json(&self, out: &mut impl JsonSink) {
        out.raw(b"{\"version\":");
        out.value(&self.version);
        out.raw(b",\"id\":");
        out.string(&self.id);
        out.raw(b",\"source\":");
        out.string(&self.source);
        if let Some(handler) = &self.handler {
            out.raw(b",\"handler\":");
            out.string(handler);
        }
        if let Some(event_type) = &self.event_type {
            out.raw(b",\"type\":");
            out.string(event_type);
        }
        out.raw(b",\"received_at\":");
        let received_at = self.received_at.rfc3339_bytes();
        match received_at
            .as_ref()
            .and_then(|(text, len)| text.get(..*len))
        {
            // Digits, `-`, `:`, `.`, `T` and `Z`: nothing to escape.
            Some(text) => {
                out.raw(b"\"");
                out.raw(text);
                out.raw(b"\"");
            }
            None => out.value(&self.received_at),
        }
        out.raw(b",\"headers\":{");
        for (i, (name, value)) in self.headers.iter().enumerate() {
            if i > 0 {
                out.raw(b",");
            }
            out.string(name);
            out.raw(b":");
            out.string(value);
        }
        out.raw(b"},\"body\":{\"encoding\":\"");
        out.raw(self.body.encoding().as_bytes());
        out.raw(b"\",\"data\":");
        match &self.body {
            Body::Json(raw) => out.raw(raw.get().as_bytes()),
            Body::Base64(bytes) => {
                out.raw(b"\"");
                out.base64(bytes);
                out.raw(b"\"");
            }
            Body::ClaimCheck(check) => out.value(check),
        }
        out.raw(b"}}");
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
}

impl FromObject for InboundEnvelope {
    type Error = EnvelopeError;

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

/// Where [`InboundEnvelope::write_json`] writes: a buffer, or a count of the bytes.
trait JsonSink {
    /// Bytes that are JSON already.
    fn raw(&mut self, bytes: &[u8]);
    /// `bytes` as standard padded base64 (its alphabet needs no JSON escapes).
    fn base64(&mut self, bytes: &[u8]);
    /// A string as serde_json writes it, quoted and escaped.
    fn string(&mut self, s: &str);
    /// A small value as serde_json writes it.
    fn value<T: Serialize + ?Sized>(&mut self, value: &T);
}

/// Whether serde_json escapes any byte of `s`: a quote, a backslash or a control character
/// (under 0x20; it escapes nothing else). Without one, its output is `s` between quotes.
/// Every byte is looked at, without an early exit, so that the loop vectorises.
fn needs_escape(s: &str) -> bool {
    s.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// The length of `n` bytes in standard padded base64.
fn base64_len(n: usize) -> usize {
    n.div_ceil(3).saturating_mul(4)
}

impl JsonSink for Vec<u8> {
    fn raw(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    fn base64(&mut self, bytes: &[u8]) {
        let start = self.len();
        self.resize(start.saturating_add(base64_len(bytes.len())), 0);
        let written = self
            .get_mut(start..)
            .and_then(|tail| BASE64.encode_slice(bytes, tail).ok());
        // `encode_slice` only fails on a too short buffer, and it is exactly long enough; were
        // it not, the encoding is appended the allocating way instead.
        if written != Some(base64_len(bytes.len())) {
            self.truncate(start);
            self.extend_from_slice(BASE64.encode(bytes).as_bytes());
        }
    }

    fn string(&mut self, s: &str) {
        if needs_escape(s) {
            self.value(s);
        } else {
            self.reserve(s.len().saturating_add(2));
            self.push(b'"');
            self.extend_from_slice(s.as_bytes());
            self.push(b'"');
        }
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) {
        // Writing to a Vec cannot fail, and the values here (strings, integers, a timestamp,
        // a string map, a claim check) always serialise; see `wire::encode`.
        let _ = serde_json::to_writer(self, value);
    }
}

/// Counts bytes instead of writing them.
struct JsonLen(usize);

impl std::io::Write for JsonLen {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl JsonSink for JsonLen {
    fn raw(&mut self, bytes: &[u8]) {
        self.0 = self.0.saturating_add(bytes.len());
    }

    fn base64(&mut self, bytes: &[u8]) {
        self.0 = self.0.saturating_add(base64_len(bytes.len()));
    }

    fn string(&mut self, s: &str) {
        if needs_escape(s) {
            self.value(s);
        } else {
            self.0 = self.0.saturating_add(s.len()).saturating_add(2);
        }
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) {
        // Counting cannot fail; the values always serialise (as for `Vec<u8>` above).
        let _ = serde_json::to_writer(self, value);
    }
}

impl<'de> Deserialize<'de> for InboundEnvelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        wire::deserialize(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::tests::value;
    use serde_json::{Value, json};

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

    /// The hand-written encoder writes exactly the bytes of the derived `Serialize` impl, and
    /// `encoded_len` is their length, for every body encoding and optional field, and for
    /// strings serde_json escapes.
    #[test]
    fn to_json_is_the_serialize_impl_byte_for_byte() {
        let odd = "a\"b\\c\u{1}\u{1f}\n\t/é\u{2028}😀\u{7f}";
        let claim = |content_type: Option<&str>| ClaimCheck {
            store: ClaimStore::R2,
            bucket: "bodies".into(),
            key: odd.into(),
            size: 12_345,
            sha256: [7; 32],
            content_type: content_type.map(str::to_owned),
        };
        let bodies = [
            Body::from_bytes(
                br#"{"z":1,"s":"\u00e9\n","n":[1.0,-0,1e400]}"#,
                Some("application/json"),
            ),
            Body::from_bytes(b"[]", Some("application/json")),
            Body::Base64(Vec::new()),
            Body::Base64(b"a".to_vec()),
            Body::Base64(b"ab".to_vec()),
            Body::Base64(b"abc".to_vec()),
            Body::Base64((0..=255u8).cycle().take(1000).collect()),
            Body::ClaimCheck(claim(None)),
            Body::ClaimCheck(claim(Some(odd))),
        ];
        for body in bodies {
            for (handler, event_type) in [(None, None), (Some(odd), Some(odd)), (Some("h"), None)] {
                for headers in [
                    BTreeMap::new(),
                    BTreeMap::from([
                        ("content-type".to_owned(), "application/json".to_owned()),
                        ("x-odd".to_owned(), odd.to_owned()),
                    ]),
                ] {
                    let env = InboundEnvelope {
                        version: InboundEnvelope::VERSION,
                        id: odd.into(),
                        source: "src".into(),
                        handler: handler.map(str::to_owned),
                        event_type: event_type.map(str::to_owned),
                        received_at: Timestamp::from_unix_millis(1_795_435_200_123),
                        headers,
                        body: body.clone(),
                    };
                    let expected = serde_json::to_vec(&env).unwrap();
                    assert_eq!(
                        String::from_utf8(env.to_json()).unwrap(),
                        String::from_utf8(expected.clone()).unwrap()
                    );
                    assert_eq!(env.encoded_len(), expected.len());
                    assert!(env.max_encoded_len() >= expected.len());
                    assert_eq!(env.to_json_string().into_bytes(), expected);
                }
            }
        }
    }

    /// The copy-as-is path for strings is taken exactly when serde_json would escape nothing:
    /// each ASCII character, at every position of strings around the vector widths, and every
    /// kind of timestamp (with and without milliseconds, the first and last instants).
    #[test]
    fn unescaped_strings_and_timestamps_match_serde_json() {
        let mut env = envelope(Body::Base64(b"x".to_vec()));
        for c in (0u8..0x80).map(char::from).chain(['é', '\u{2028}', '😀']) {
            for len in [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64] {
                for at in [0, len / 2, len - 1] {
                    let text: String = (0..len).map(|i| if i == at { c } else { 'a' }).collect();
                    env.id = text.clone();
                    env.headers = BTreeMap::from([(text.clone(), text.clone())]);
                    env.event_type = Some(text);
                    let expected = serde_json::to_vec(&env).unwrap();
                    assert_eq!(env.to_json(), expected, "{c:?} at {at} of {len}");
                    assert_eq!(env.encoded_len(), expected.len());
                }
            }
        }
        for millis in [
            0,
            1,
            999,
            1_000,
            -1,
            1_795_435_200_000,
            1_795_435_200_120,
            Timestamp::MIN.unix_millis(),
            Timestamp::MAX.unix_millis(),
        ] {
            env.received_at = Timestamp::from_unix_millis(millis);
            let expected = serde_json::to_vec(&env).unwrap();
            assert_eq!(env.to_json(), expected, "{millis}");
            assert_eq!(env.encoded_len(), expected.len());
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
}
