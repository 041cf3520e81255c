//! Anything on the outbound SQS queue: an app's message or one of the sender's deliveries.

use serde::de::Deserializer;
use serde::{Deserialize, Serialize, Serializer};

use super::delivery::DeliveryMessage;
use super::error::{Fault, MessageError};
use super::outbound::OutboundMessage;
use super::wire::{self, FromObject, RawObject, decode_message, encode};

/// Anything on the outbound SQS queue: an app's message or one of the sender's deliveries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueMessage {
    /// An app's message, still to be fanned out.
    Outbound(OutboundMessage),
    /// A delivery to one endpoint.
    Delivery(DeliveryMessage),
}

impl QueueMessage {
    /// Decodes untrusted bytes (at most
    /// [`MAX_DECODE_BYTES`](crate::envelope::MAX_DECODE_BYTES)): a delivery when the object
    /// has a `hookline` field, which must then be `"delivery"`; an outbound message otherwise.
    pub fn from_json(bytes: &[u8]) -> Result<QueueMessage, MessageError> {
        decode_message(bytes)
    }

    /// Encodes as compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        encode(self)
    }
}

impl FromObject for QueueMessage {
    type Error = MessageError;

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
        wire::deserialize(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::tests::value;
    use crate::time::Timestamp;
    use serde_json::json;

    #[test]
    fn delivery_new_and_dispatch() {
        let text = include_str!("../../../docs/schemas/examples/outbound-full.json");
        let msg = OutboundMessage::from_json(text.as_bytes()).unwrap();
        let seen = Timestamp::from_unix_secs(2_000_000_000);

        // The app's timestamp wins over when the sender saw the message...
        let d = DeliveryMessage::new("inv_123:paid".into(), "billing".into(), &msg, seen);
        assert_eq!(d.timestamp, msg.timestamp.unwrap());
        assert_eq!(d.event_type, msg.event_type);
        assert_eq!(d.data, msg.data);
        let expected = include_str!("../../../docs/schemas/examples/delivery.json");
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
}
