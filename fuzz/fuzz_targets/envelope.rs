//! The queue message decoders: inbound envelopes, outbound and delivery messages. Never a panic,
//! and whatever decodes re-encodes to something that decodes to the same value.
#![no_main]

use hookline_core::envelope::{InboundEnvelope, QueueMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = InboundEnvelope::from_json(data) {
        let again =
            InboundEnvelope::from_json(&env.to_json()).expect("re-encoded envelope decodes");
        assert_eq!(env, again);
    }
    if let Ok(msg) = QueueMessage::from_json(data) {
        let again = QueueMessage::from_json(&msg.to_json()).expect("re-encoded message decodes");
        assert_eq!(msg, again);
    }
});
