//! What a verified event becomes, decided without I/O: which queue it goes to, the message body,
//! its attributes, and the key that deduplicates it.
//!
//! [`crate::inbound::receive`] decides whether a request is an event; this module decides where
//! the event goes. The Worker's queue consumer (forwarding to SQS) and `hookline dev` (committing
//! to its embedded queue) both call [`route`] and only send what it returns, so an event routed
//! by one is routed the same way by the other.
//!
//! | source's `destination` | queue | body | dedup key |
//! |---|---|---|---|
//! | `queue` | the inbound queue (your consumers) | the envelope's JSON as is | the envelope id |
//! | `relay` | the outbound queue (the sender) | [`relay_message`] | the relay message's id |

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use crate::config::{Destination, ResolvedSource};
use crate::envelope::{Body, InboundEnvelope, OutboundMessage, RawJson, is_valid_outbound_id};
use crate::inbound::short_digest;

/// The message attribute naming the event's source.
pub const SOURCE_ATTRIBUTE: &str = "hookline-source";
/// The message attribute holding the envelope id.
pub const ID_ATTRIBUTE: &str = "hookline-id";
/// The message attribute holding the event type, when the event has one.
pub const TYPE_ATTRIBUTE: &str = "hookline-type";

/// Where a verified event goes and as what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The queue: the inbound queue ([`Destination::Queue`]) or the outbound queue
    /// ([`Destination::Relay`]).
    pub destination: Destination,
    /// The message body.
    pub body: String,
    /// String message attributes, `(name, value)`, names unique.
    pub attributes: Vec<(&'static str, String)>,
    /// What makes two sends the same message (the provider retried, or the forwarder did):
    /// unique within the event's source.
    pub dedup_key: String,
    /// The FIFO group and deduplication ids, when asked for.
    pub fifo: Option<FifoIds>,
}

/// The ids a FIFO queue needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FifoIds {
    /// `MessageGroupId`: the source, so one source's events keep their order.
    pub group_id: String,
    /// `MessageDeduplicationId`: hex SHA-256 of `{source}\0{dedup key}`, which fits SQS's
    /// 128-character limit whatever the key, and cannot collide across sources.
    pub dedup_id: String,
}

/// Why an event cannot be routed.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// The relay message could not be built (the envelope could not be encoded as its `data`).
    #[error("cannot build the relay message: {0}")]
    RelayMessage(#[from] serde_json::Error),
}

/// Routes `envelope`, verified for `source`. `json` is the envelope's JSON (what the Worker took
/// off its queue, or [`InboundEnvelope::to_json`]), sent as is to the inbound queue: borrowed, it
/// is copied only for that destination; owned, it becomes the body without a copy. With `fifo`,
/// the route carries the FIFO group and deduplication ids.
pub fn route(
    envelope: &InboundEnvelope,
    json: Cow<'_, str>,
    source: &ResolvedSource,
    fifo: bool,
) -> Result<Route, RouteError> {
    let mut attributes = vec![
        (SOURCE_ATTRIBUTE, envelope.source.clone()),
        (ID_ATTRIBUTE, envelope.id.clone()),
    ];
    if let Some(t) = &envelope.event_type {
        attributes.push((TYPE_ATTRIBUTE, t.clone()));
    }
    let (body, dedup_key) = match source.destination {
        Destination::Queue => (json.into_owned(), envelope.id.clone()),
        Destination::Relay => {
            let id = relay_id(envelope);
            let msg = relay_message_with_id(envelope, &source.relay_endpoints, id.clone())?;
            (msg.to_json_string(), id)
        }
    };
    let fifo = fifo.then(|| FifoIds {
        group_id: envelope.source.clone(),
        dedup_id: hex::encode(Sha256::digest(format!("{}\0{dedup_key}", envelope.source))),
    });
    Ok(Route {
        destination: source.destination,
        body,
        attributes,
        dedup_key,
        fifo,
    })
}

/// The outbound message a `destination = "relay"` source puts on the sender's queue for a
/// verified event:
///
/// * `type`: the event's type, or `{source}.webhook` when it has none;
/// * `id`: `{source}:{envelope id}` (the sender's idempotency key and the delivered
///   `webhook-id`, stable across the provider's retries), or `{source}:h-{digest of the id}`
///   when the envelope id holds a character an outbound id may not (a `.`, which Standard
///   Webhooks uses to separate the signed id from the timestamp);
/// * `data`: the provider's JSON body as is; for any other body (form-encoded, binary, claim
///   check) the whole inbound envelope, so nothing is lost;
/// * `endpoints`: the source's `relay_endpoints`, or every subscribed endpoint when empty;
/// * `timestamp`: when the receiver accepted the webhook.
///
/// Fails only if the envelope cannot be encoded, which hookline's own envelopes always can.
pub fn relay_message(
    envelope: &InboundEnvelope,
    relay_endpoints: &[String],
) -> Result<OutboundMessage, serde_json::Error> {
    relay_message_with_id(envelope, relay_endpoints, relay_id(envelope))
}

/// The relay message's id (see [`relay_message`]).
fn relay_id(envelope: &InboundEnvelope) -> String {
    let id = format!("{}:{}", envelope.source, envelope.id);
    if is_valid_outbound_id(&id) {
        id
    } else {
        format!(
            "{}:h-{}",
            envelope.source,
            short_digest(&[envelope.id.as_bytes()])
        )
    }
}

fn relay_message_with_id(
    envelope: &InboundEnvelope,
    relay_endpoints: &[String],
    id: String,
) -> Result<OutboundMessage, serde_json::Error> {
    let event_type = envelope
        .event_type
        .clone()
        .unwrap_or_else(|| format!("{}.webhook", envelope.source));
    let data = match &envelope.body {
        Body::Json(raw) => raw.clone(),
        _ => RawJson::from_value(envelope)?,
    };
    Ok(OutboundMessage {
        event_type,
        data,
        id: Some(id),
        endpoints: (!relay_endpoints.is_empty()).then(|| relay_endpoints.to_vec()),
        timestamp: Some(envelope.received_at),
        application: None,
        channels: None,
        trigger: crate::envelope::Trigger::Scheduled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::time::Timestamp;
    use std::collections::BTreeMap;

    const NOW: Timestamp = Timestamp::from_unix_secs(1_795_435_200);
    const STRIPE_BODY: &[u8] = br#"{"id":"evt_123","type":"invoice.paid","data":{}}"#;

    fn sources() -> BTreeMap<String, ResolvedSource> {
        let config = Config::from_toml(
            "[sources.stripe]\nscheme = \"stripe\"\nsecrets = [\"literal:whsec_x\"]\n\
             [sources.gh]\nscheme = \"github\"\nsecrets = [\"literal:s\"]\ndestination = \"relay\"\n\
             relay_endpoints = [\"billing\"]\n",
        )
        .unwrap();
        config.resolve_sources(|_| None).unwrap()
    }

    fn envelope(source: &str, id: &str) -> InboundEnvelope {
        InboundEnvelope {
            version: 1,
            id: id.to_owned(),
            source: source.to_owned(),
            handler: None,
            event_type: Some("invoice.paid".to_owned()),
            received_at: NOW,
            headers: BTreeMap::new(),
            body: Body::from_bytes(STRIPE_BODY, Some("application/json")),
        }
    }

    fn route_of(env: &InboundEnvelope, fifo: bool) -> Route {
        let json = String::from_utf8(env.to_json()).unwrap();
        route(env, Cow::Borrowed(&json), &sources()[&env.source], fifo).unwrap()
    }

    #[test]
    fn a_queue_source_sends_the_envelope_as_is_keyed_by_its_id() {
        let env = envelope("stripe", "evt_1");
        let json = String::from_utf8(env.to_json()).unwrap();
        let r = route_of(&env, false);
        assert_eq!(r.destination, Destination::Queue);
        assert_eq!(r.body, json);
        assert_eq!(
            r.attributes,
            vec![
                ("hookline-source", "stripe".to_owned()),
                ("hookline-id", "evt_1".to_owned()),
                ("hookline-type", "invoice.paid".to_owned()),
            ]
        );
        assert_eq!(r.dedup_key, "evt_1");
        assert_eq!(r.fifo, None);
    }

    #[test]
    fn an_event_without_a_type_has_no_type_attribute() {
        let mut env = envelope("stripe", "evt_1");
        env.event_type = None;
        let names: Vec<&str> = route_of(&env, false)
            .attributes
            .iter()
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(names, vec![SOURCE_ATTRIBUTE, ID_ATTRIBUTE]);
    }

    #[test]
    fn a_relay_source_sends_its_relay_message_keyed_by_the_message_id() {
        let env = envelope("gh", "d-1");
        let r = route_of(&env, false);
        assert_eq!(r.destination, Destination::Relay);
        let msg = OutboundMessage::from_json(r.body.as_bytes()).unwrap();
        assert_eq!(msg, relay_message(&env, &["billing".to_owned()]).unwrap());
        assert_eq!(msg.id.as_deref(), Some("gh:d-1"));
        assert_eq!(r.dedup_key, "gh:d-1");
        assert!(r.attributes.contains(&(ID_ATTRIBUTE, "d-1".to_owned())));
    }

    #[test]
    fn fifo_ids_are_the_source_and_a_stable_hash_of_source_and_key() {
        let env = envelope("stripe", "evt_1");
        let ids = route_of(&env, true).fifo.unwrap();
        assert_eq!(ids.group_id, "stripe");
        assert_eq!(
            ids.dedup_id,
            hex::encode(Sha256::digest(b"stripe\0evt_1")),
            "hex SHA-256 of source NUL key"
        );
        assert_eq!(ids.dedup_id.len(), 64);
        // Stable: the same event routed again gets the same deduplication id.
        assert_eq!(route_of(&env, true).fifo.unwrap(), ids);
        // The same id from another source is another message.
        let other = route_of(&envelope("gh", "evt_1"), true).fifo.unwrap();
        assert_eq!(other.group_id, "gh");
        assert_ne!(other.dedup_id, ids.dedup_id);
        assert_eq!(
            other.dedup_id,
            hex::encode(Sha256::digest(b"gh\0gh:evt_1")),
            "a relayed event is deduplicated on its relay message id"
        );
    }

    #[test]
    fn relayed_events_keep_their_payload_and_id() {
        let env = envelope("stripe", "evt_123");
        let msg = relay_message(&env, &["billing".to_owned()]).unwrap();
        msg.validate().unwrap();
        assert_eq!(msg.event_type, "invoice.paid");
        assert_eq!(msg.data.get().as_bytes(), STRIPE_BODY);
        assert_eq!(msg.id.as_deref(), Some("stripe:evt_123"));
        assert_eq!(msg.endpoints, Some(vec!["billing".to_owned()]));
        assert_eq!(msg.timestamp, Some(NOW));
        assert_eq!(OutboundMessage::from_json(&msg.to_json()).unwrap(), msg);

        // A form body travels as the whole envelope; no type means `{source}.webhook`.
        let mut form = env.clone();
        form.body = Body::Base64(b"a=1&b=2".to_vec());
        form.event_type = None;
        form.id = "weird id".to_owned();
        let msg = relay_message(&form, &[]).unwrap();
        msg.validate().unwrap();
        assert_eq!(msg.event_type, "stripe.webhook");
        assert_eq!(msg.endpoints, None);
        assert!(msg.id.as_deref().unwrap().starts_with("stripe:h-"));
        // An envelope id holding a `.` (a provider's id read by pointer may) never reaches an
        // outbound id: Standard Webhooks would sign it ambiguously.
        let mut dotted = env.clone();
        dotted.id = "evt.123".to_owned();
        let id = relay_message(&dotted, &[]).unwrap().id.unwrap();
        assert!(id.starts_with("stripe:h-") && !id.contains('.'), "{id}");
        let inner = InboundEnvelope::from_json(msg.data.get().as_bytes()).unwrap();
        assert_eq!(inner, form);
    }
}
