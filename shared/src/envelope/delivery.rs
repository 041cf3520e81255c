//! The delivery message: one outbound message bound for one endpoint.

use serde::de::Deserializer;
use serde::{Deserialize, Serialize, Serializer};

use super::DELIVERY_MARKER;
use super::error::{Fault, MessageError, invalid};
use super::outbound::{OutboundMessage, Trigger};
use super::raw::RawJson;
use super::rules::{check_endpoint, check_event_type, check_outbound_id, check_registry_name};
use super::wire::{self, RawObject, check_version, read_string, read_timestamp};
use crate::time::Timestamp;

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
    /// The application whose registered endpoint `endpoint` is (its id); `None` for an
    /// endpoint of the configuration.
    pub application: Option<String>,
    /// Why it is sent.
    pub trigger: Trigger,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    application: Option<&'a str>,
    #[serde(skip_serializing_if = "Trigger::is_scheduled")]
    trigger: Trigger,
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
            application: None,
            trigger: msg.trigger,
        }
    }

    fn check(&self) -> Result<(), Fault> {
        check_outbound_id(&self.message_id, "message_id")?;
        match &self.application {
            Some(app) => {
                check_registry_name(app, "application")?;
                check_registry_name(&self.endpoint, "endpoint")?;
            }
            None => check_endpoint(&self.endpoint, "endpoint")?,
        }
        check_event_type(&self.event_type, "type")
    }
}

wire::message_codec! {
    DeliveryMessage {
        /// Encodes as compact JSON, marker and version included.
        to_json;
        /// Decodes and validates untrusted bytes (at most
        /// [`MAX_DECODE_BYTES`](crate::envelope::MAX_DECODE_BYTES)); unknown fields are ignored.
        from_json;
        /// Checks the field rules, e.g. on a message built with [`DeliveryMessage::new`].
        validate;
    }
}

impl DeliveryMessage {
    /// Reads and validates every field of `obj` (see [`wire::FromObject`]).
    fn read_fields(mut obj: RawObject) -> Result<Self, Fault> {
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
        let application = obj
            .optional("application")
            .map(|raw| read_string(&raw, "application"))
            .transpose()?;
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
            message_id,
            endpoint,
            event_type,
            data,
            timestamp,
            application,
            trigger,
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
            application: self.application.as_deref(),
            trigger: self.trigger,
            data: &self.data,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for DeliveryMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        wire::deserialize(deserializer)
    }
}
