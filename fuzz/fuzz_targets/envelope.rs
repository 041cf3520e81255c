//! The queue message decoders: inbound envelopes, outbound and delivery messages. Never a panic,
//! and whatever decodes re-encodes to something that decodes to the same value (the inbound
//! envelope's encoder also byte for byte as serde_json writes it).
#![no_main]

use hookline_core::envelope::{InboundEnvelope, QueueMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = InboundEnvelope::from_json(data) {
        let again =
            InboundEnvelope::from_json(&env.to_json()).expect("re-encoded envelope decodes");
        assert_eq!(env, again);
        // The hand-written encoder writes the `Serialize` impl's bytes, and counts them right.
        let encoded = env.to_json();
        assert_eq!(encoded, serde_json::to_vec(&env).expect("serialises"));
        assert_eq!(env.encoded_len(), encoded.len());
    }
    if let Ok(msg) = QueueMessage::from_json(data) {
        let again = QueueMessage::from_json(&msg.to_json()).expect("re-encoded message decodes");
        assert_eq!(msg, again);
    }
});
