//! The outbound message: what an app puts on the outbound SQS queue.

use serde::de::Deserializer;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::error::{Fault, MessageError, invalid};
use super::raw::RawJson;
use super::rules::{
    check_channels, check_endpoints, check_event_type, check_outbound_id, check_registry_name,
};
use super::wire::{self, RawObject, check_version, read_string, read_timestamp};
use crate::time::Timestamp;

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
    /// The application (id or `uid`) whose registered endpoints take the message; `None` means
    /// the endpoints of the configuration. With an application, `endpoints` names endpoint ids
    /// or `uid`s of that application.
    pub application: Option<String>,
    /// The message's channels: an application's endpoint that lists channels takes only
    /// messages on one of them.
    pub channels: Option<Vec<String>>,
    /// Why it is sent: scheduled (the first time), or a manual resend.
    pub trigger: Trigger,
}

/// Why a message is sent (Svix's `triggerType`), recorded with each attempt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Trigger {
    /// Sent because it was created (`"scheduled"`, the default, left out on the wire).
    #[default]
    Scheduled,
    /// Sent again because someone asked (`"manual"`: the API's resend).
    Manual,
    /// Sent again by an endpoint's `recover` (`"recovery"`): a message that failed or was
    /// skipped while the endpoint was disabled.
    Recovery,
}

impl Trigger {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Manual => "manual",
            Self::Recovery => "recovery",
        }
    }

    /// The trigger of a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "scheduled" => Some(Self::Scheduled),
            "manual" => Some(Self::Manual),
            "recovery" => Some(Self::Recovery),
            _ => None,
        }
    }

    pub(super) fn is_scheduled(&self) -> bool {
        *self == Self::Scheduled
    }
}

impl Serialize for Trigger {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Trigger {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown trigger \"{s}\"")))
    }
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
    #[serde(skip_serializing_if = "Option::is_none")]
    application: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channels: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Trigger::is_scheduled")]
    trigger: Trigger,
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
            application: None,
            channels: None,
            trigger: Trigger::Scheduled,
        }
    }

    fn check(&self) -> Result<(), Fault> {
        check_event_type(&self.event_type, "type")?;
        if let Some(id) = &self.id {
            check_outbound_id(id, "id")?;
        }
        if let Some(app) = &self.application {
            check_registry_name(app, "application")?;
        }
        if let Some(endpoints) = &self.endpoints {
            check_endpoints(endpoints, self.application.is_some())?;
        }
        if let Some(channels) = &self.channels {
            check_channels(channels)?;
        }
        Ok(())
    }
}

wire::message_codec! {
    OutboundMessage {
        /// Encodes as compact JSON, with `"version": 1` written out.
        to_json;
        /// Decodes and validates untrusted bytes (at most
        /// [`MAX_DECODE_BYTES`](crate::envelope::MAX_DECODE_BYTES)); unknown fields are ignored,
        /// but `hookline` is refused so the two formats sharing a queue never overlap.
        from_json;
        /// Checks the field rules on a message built in code, before sending it.
        validate;
    }
}

impl OutboundMessage {
    /// Reads and validates every field of `obj` (see [`wire::FromObject`]).
    fn read_fields(mut obj: RawObject) -> Result<Self, Fault> {
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
        let application = obj
            .optional("application")
            .map(|raw| read_string(&raw, "application"))
            .transpose()?;
        let channels = match obj.optional("channels") {
            None => None,
            Some(raw) => {
                let items: Vec<Box<RawValue>> = serde_json::from_str(raw.get())
                    .map_err(|_| invalid("channels", "must be an array of channel names"))?;
                let mut names = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    names.push(read_string(item, &format!("channels[{i}]"))?);
                }
                Some(names)
            }
        };
        let trigger = match obj.optional("trigger") {
            None => Trigger::Scheduled,
            Some(raw) => {
                let t = read_string(&raw, "trigger")?;
                Trigger::parse(&t).ok_or_else(|| {
                    invalid(
                        "trigger",
                        "must be \"scheduled\", \"manual\" or \"recovery\"",
                    )
                })?
            }
        };
        let msg = Self {
            event_type,
            data,
            id,
            endpoints,
            timestamp,
            application,
            channels,
            trigger,
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
            application: self.application.as_deref(),
            channels: self.channels.as_deref(),
            trigger: self.trigger,
            data: &self.data,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for OutboundMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        wire::deserialize(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{
        DeliveryMessage, InboundEnvelope, QueueMessage, is_valid_message_id, is_valid_outbound_id,
    };
    use serde_json::{Value, json};

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
        let env = include_str!("../../../docs/schemas/examples/inbound-base64-body.json");
        assert!(
            InboundEnvelope::from_json(env.as_bytes())
                .unwrap()
                .id
                .contains('.')
        );
    }
}
