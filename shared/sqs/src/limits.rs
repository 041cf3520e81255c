//! SQS's limits, each written once.

/// The historic SQS message limit, 256 KiB: hookline's default budget for one SQS message.
///
/// Since August 2025 SQS accepts messages of up to 1 MiB ([`MAX_MESSAGE_BYTES_CEILING`]) when
/// the queue's `MaximumMessageSize` attribute allows it; 256 KiB is what every queue has always
/// accepted, so code that must work on any queue plans for this and treats more as opt-in.
pub const MAX_MESSAGE_BYTES: usize = 262_144;

/// The most any SQS queue can be set to accept: 1 MiB, the ceiling of `MaximumMessageSize`
/// (since August 2025). It bounds one message and one batch request's total payload.
pub const MAX_MESSAGE_BYTES_CEILING: usize = 1_048_576;

/// The most entries one SQS batch request (`SendMessageBatch`, `DeleteMessageBatch`,
/// `ChangeMessageVisibilityBatch`) may carry, and the most messages one `ReceiveMessage` returns.
pub const MAX_BATCH_ENTRIES: usize = 10;

/// The longest batch entry id (`[A-Za-z0-9_-]{1,80}`), and the longest queue name.
pub const MAX_ENTRY_ID_LEN: usize = 80;

/// The longest long poll (`WaitTimeSeconds`) one `ReceiveMessage` may ask for, in seconds.
pub const MAX_WAIT_SECONDS: u64 = 20;

/// The longest visibility timeout, in seconds (12 hours).
pub const MAX_VISIBILITY_TIMEOUT_SECONDS: u64 = 43_200;

/// The longest `DelaySeconds` of a send, in seconds (15 minutes).
pub const MAX_DELAY_SECONDS: u64 = 900;

/// Whether `name` is a valid queue name: 1 to 80 of `[A-Za-z0-9_-]`, `.fifo` suffix included.
pub fn is_valid_queue_name(name: &str) -> bool {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    name.len() <= MAX_ENTRY_ID_LEN && is_id_chars(base)
}

/// Whether `id` is a valid batch entry id: 1 to 80 of `[A-Za-z0-9_-]`.
pub fn is_valid_entry_id(id: &str) -> bool {
    id.len() <= MAX_ENTRY_ID_LEN && is_id_chars(id)
}

fn is_id_chars(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_the_documented_values() {
        assert_eq!(MAX_MESSAGE_BYTES, 256 * 1024);
        assert_eq!(MAX_MESSAGE_BYTES_CEILING, 1024 * 1024);
        assert_eq!(MAX_BATCH_ENTRIES, 10);
        assert_eq!(MAX_ENTRY_ID_LEN, 80);
        assert_eq!(MAX_VISIBILITY_TIMEOUT_SECONDS, 12 * 3600);
        assert_eq!(MAX_DELAY_SECONDS, 15 * 60);
    }

    #[test]
    fn names_and_ids() {
        for ok in [
            "q",
            "a-b_C9",
            "orders.fifo",
            &"a".repeat(80),
            &format!("{}.fifo", "a".repeat(75)),
        ] {
            assert!(is_valid_queue_name(ok), "{ok}");
        }
        for bad in [
            "",
            ".fifo",
            "a.b",
            "bad name",
            "q\u{e9}",
            &"a".repeat(81),
            &format!("{}.fifo", "a".repeat(76)),
        ] {
            assert!(!is_valid_queue_name(bad), "{bad}");
        }
        assert!(is_valid_entry_id("m-1_X") && is_valid_entry_id(&"a".repeat(80)));
        for bad in ["", "dot.ted", "a.fifo", "has space", &"a".repeat(81)] {
            assert!(!is_valid_entry_id(bad), "{bad}");
        }
    }
}
