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

mod delivery;
mod error;
mod inbound;
mod outbound;
mod queue;
mod raw;
mod rules;
mod wire;

pub use delivery::DeliveryMessage;
pub use error::{EnvelopeError, MessageError};
pub(crate) use inbound::is_json_content_type;
pub use inbound::{Body, ClaimCheck, ClaimStore, InboundEnvelope};
pub use outbound::{OutboundMessage, Trigger};
pub use queue::QueueMessage;
pub use raw::RawJson;
pub use rules::{
    is_valid_endpoint_name, is_valid_event_type, is_valid_message_id, is_valid_outbound_id,
};

/// The Cloudflare Queues message limit: 128 KB, where Cloudflare counts 1 KB as 1,000 bytes.
///
/// Cloudflare adds up to about 100 bytes of its own metadata to each message, so the receiver
/// should keep an envelope a little below this and use a claim check above it.
pub const MAX_CF_QUEUE_MESSAGE_BYTES: usize = 128_000;

/// The largest input any `from_json` here accepts: 1 MiB, the most SQS can ever deliver.
///
/// It is a guard against oversized input, not a queue limit: no queue hookline reads can carry
/// more, so anything bigger did not come from one.
pub const MAX_DECODE_BYTES: usize = hookline_sqs::limits::MAX_MESSAGE_BYTES_CEILING;

/// The value of the `hookline` field that marks a [`DeliveryMessage`].
pub const DELIVERY_MARKER: &str = "delivery";
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    // The same files docs/schemas/check_schemas.py validates against the JSON Schemas.
    const VALID: &[(&str, &str)] = &[
        (
            "inbound-json-body.json",
            include_str!("../../../docs/schemas/examples/inbound-json-body.json"),
        ),
        (
            "inbound-base64-body.json",
            include_str!("../../../docs/schemas/examples/inbound-base64-body.json"),
        ),
        (
            "inbound-claim-check.json",
            include_str!("../../../docs/schemas/examples/inbound-claim-check.json"),
        ),
        (
            "outbound-minimal.json",
            include_str!("../../../docs/schemas/examples/outbound-minimal.json"),
        ),
        (
            "outbound-full.json",
            include_str!("../../../docs/schemas/examples/outbound-full.json"),
        ),
        (
            "delivery.json",
            include_str!("../../../docs/schemas/examples/delivery.json"),
        ),
        (
            "outbound-application.json",
            include_str!("../../../docs/schemas/examples/outbound-application.json"),
        ),
        (
            "delivery-application.json",
            include_str!("../../../docs/schemas/examples/delivery-application.json"),
        ),
    ];

    const INVALID: &[(&str, &str)] = &[
        (
            "outbound-too-many-channels.json",
            include_str!("../../../docs/schemas/examples/invalid/outbound-too-many-channels.json"),
        ),
        (
            "outbound-bad-trigger.json",
            include_str!("../../../docs/schemas/examples/invalid/outbound-bad-trigger.json"),
        ),
        (
            "delivery-bad-endpoint.json",
            include_str!("../../../docs/schemas/examples/invalid/delivery-bad-endpoint.json"),
        ),
        (
            "delivery-missing-timestamp.json",
            include_str!("../../../docs/schemas/examples/invalid/delivery-missing-timestamp.json"),
        ),
        (
            "delivery-wrong-marker.json",
            include_str!("../../../docs/schemas/examples/invalid/delivery-wrong-marker.json"),
        ),
        (
            "delivery-id-with-dot.json",
            include_str!("../../../docs/schemas/examples/invalid/delivery-id-with-dot.json"),
        ),
        (
            "outbound-id-with-dot.json",
            include_str!("../../../docs/schemas/examples/invalid/outbound-id-with-dot.json"),
        ),
        (
            "inbound-bad-base64.json",
            include_str!("../../../docs/schemas/examples/invalid/inbound-bad-base64.json"),
        ),
        (
            "inbound-bad-sha256.json",
            include_str!("../../../docs/schemas/examples/invalid/inbound-bad-sha256.json"),
        ),
        (
            "inbound-missing-body.json",
            include_str!("../../../docs/schemas/examples/invalid/inbound-missing-body.json"),
        ),
        (
            "inbound-uppercase-header.json",
            include_str!("../../../docs/schemas/examples/invalid/inbound-uppercase-header.json"),
        ),
        (
            "inbound-version-2.json",
            include_str!("../../../docs/schemas/examples/invalid/inbound-version-2.json"),
        ),
        (
            "outbound-bad-endpoint.json",
            include_str!("../../../docs/schemas/examples/invalid/outbound-bad-endpoint.json"),
        ),
        (
            "outbound-bad-id.json",
            include_str!("../../../docs/schemas/examples/invalid/outbound-bad-id.json"),
        ),
        (
            "outbound-empty-endpoints.json",
            include_str!("../../../docs/schemas/examples/invalid/outbound-empty-endpoints.json"),
        ),
        (
            "outbound-empty-type.json",
            include_str!("../../../docs/schemas/examples/invalid/outbound-empty-type.json"),
        ),
        (
            "outbound-missing-data.json",
            include_str!("../../../docs/schemas/examples/invalid/outbound-missing-data.json"),
        ),
        (
            "outbound-missing-type.json",
            include_str!("../../../docs/schemas/examples/invalid/outbound-missing-type.json"),
        ),
        (
            "outbound-version-2.json",
            include_str!("../../../docs/schemas/examples/invalid/outbound-version-2.json"),
        ),
    ];

    pub(super) fn value(bytes: &[u8]) -> Value {
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
            encode_queued(bytes, QueueMessage::Outbound(msg))
        } else if name.starts_with("delivery") {
            let msg = DeliveryMessage::from_json(bytes).map_err(|e| e.to_string())?;
            encode_queued(bytes, QueueMessage::Delivery(msg))
        } else {
            panic!("{name}: no decoder for this name")
        }
    }

    /// Re-encodes `decoded` with its own type's encoder, once [`QueueMessage`], which reads
    /// both formats from one queue, has read `bytes` as the same message.
    fn encode_queued(bytes: &[u8], decoded: QueueMessage) -> Result<Vec<u8>, String> {
        let queued = QueueMessage::from_json(bytes).map_err(|e| e.to_string())?;
        assert_eq!(queued, decoded);
        Ok(match decoded {
            QueueMessage::Outbound(msg) => msg.to_json(),
            QueueMessage::Delivery(msg) => msg.to_json(),
        })
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
    #[test]
    fn size_limits() {
        assert_eq!(hookline_sqs::limits::MAX_MESSAGE_BYTES, 256 * 1024);
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
        let mut next = crate::testkit::xorshift(0x9e37_79b9_7f4a_7c15);
        let check = |bytes: &[u8]| {
            if let Ok(env) = InboundEnvelope::from_json(bytes) {
                assert_eq!(InboundEnvelope::from_json(&env.to_json()).unwrap(), env);
                assert_eq!(env.to_json(), serde_json::to_vec(&env).unwrap());
                assert_eq!(env.encoded_len(), env.to_json().len());
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
}
