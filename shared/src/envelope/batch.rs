//! SQS batching: how many entries and bytes one batch request may carry.

use super::MAX_SQS_MESSAGE_BYTES;

/// The most any SQS queue can be set to accept: 1 MiB, the ceiling of `MaximumMessageSize`
/// (since August 2025). It bounds one message and one batch request's total payload.
pub const MAX_SQS_MESSAGE_BYTES_CEILING: usize = 1_048_576;

/// The most entries one SQS batch request (`SendMessageBatch`, `DeleteMessageBatch`,
/// `ChangeMessageVisibilityBatch`) may carry, and the most messages one `ReceiveMessage` returns.
pub const MAX_SQS_BATCH_ENTRIES: usize = 10;

/// How much one SQS batch request may carry: entries and total bytes of payload.
///
/// A `SendMessageBatch` may hold [`MAX_SQS_BATCH_ENTRIES`] messages whose bodies (and message
/// attributes) together stay within the queue's `MaximumMessageSize`, which is also the limit of
/// one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    /// The most entries in one batch (at least 1).
    pub max_entries: usize,
    /// The most bytes in one batch, and in one message.
    pub max_bytes: usize,
}

impl BatchLimits {
    /// SQS's limits for a queue that accepts messages of up to `max_message_bytes` (capped at
    /// [`MAX_SQS_MESSAGE_BYTES_CEILING`]).
    pub fn sqs(max_message_bytes: usize) -> Self {
        Self {
            max_entries: MAX_SQS_BATCH_ENTRIES,
            max_bytes: max_message_bytes.min(MAX_SQS_MESSAGE_BYTES_CEILING),
        }
    }
}

impl Default for BatchLimits {
    /// The limits every SQS queue accepts: 10 entries, [`MAX_SQS_MESSAGE_BYTES`] bytes.
    fn default() -> Self {
        Self::sqs(MAX_SQS_MESSAGE_BYTES)
    }
}

/// Splits items, given by their sizes in bytes, into consecutive batches (index ranges) within
/// `limits`: at most `max_entries` items and `max_bytes` bytes each, in order, none empty.
///
/// An item larger than `max_bytes` fits no batch; it goes alone, so its own refusal (by the
/// caller, or by SQS) names it and no other item. A caller that knows the queue's limit checks
/// such items before sending (see [`BatchLimits::oversized`]).
pub fn batches(sizes: &[usize], limits: BatchLimits) -> Vec<std::ops::Range<usize>> {
    let max_entries = limits.max_entries.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0usize;
    for (i, &size) in sizes.iter().enumerate() {
        let full = i - start >= max_entries || bytes.saturating_add(size) > limits.max_bytes;
        if i > start && full {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes = bytes.saturating_add(size);
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

impl BatchLimits {
    /// Whether an item of `size` bytes is over the message limit, so no batch can carry it.
    pub fn oversized(&self, size: usize) -> bool {
        size > self.max_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::MAX_DECODE_BYTES;

    #[test]
    fn batches_cap_entries_and_bytes() {
        let limits = BatchLimits::default();
        assert_eq!(
            limits,
            BatchLimits {
                max_entries: 10,
                max_bytes: MAX_SQS_MESSAGE_BYTES
            }
        );
        assert_eq!(batches(&[1; 25], limits), vec![0..10, 10..20, 20..25]);
        assert_eq!(batches(&[1; 10], limits), vec![0..10]);
        assert!(batches(&[], limits).is_empty());
        let half = MAX_SQS_MESSAGE_BYTES / 2;
        assert_eq!(batches(&[half, half, 1], limits), vec![0..2, 2..3]);
        assert_eq!(batches(&[half, half + 1], limits), vec![0..1, 1..2]);
        // Several large deliveries of one message: never two over the byte limit together.
        let big = 100_000;
        assert_eq!(batches(&[big; 5], limits), vec![0..2, 2..4, 4..5]);
        for range in batches(&[big; 5], limits) {
            assert!(range.len() * big <= MAX_SQS_MESSAGE_BYTES);
        }
        // An item over the byte limit goes alone, and the items around it keep batching.
        assert_eq!(
            batches(&[1, MAX_SQS_MESSAGE_BYTES + 1, 1, 1], limits),
            vec![0..1, 1..2, 2..4]
        );
        assert!(limits.oversized(MAX_SQS_MESSAGE_BYTES + 1));
        assert!(!limits.oversized(MAX_SQS_MESSAGE_BYTES));
        // Sizes that would overflow a sum still split.
        assert_eq!(batches(&[usize::MAX, usize::MAX], limits), vec![0..1, 1..2]);
        // A zero entry limit still makes progress.
        let one = BatchLimits {
            max_entries: 0,
            max_bytes: 10,
        };
        assert_eq!(batches(&[1, 1], one), vec![0..1, 1..2]);
    }

    #[test]
    fn sqs_batch_limits_follow_the_queue_and_stop_at_one_mib() {
        assert_eq!(
            BatchLimits::sqs(1_048_576).max_bytes,
            MAX_SQS_MESSAGE_BYTES_CEILING
        );
        assert_eq!(
            BatchLimits::sqs(4 << 20).max_bytes,
            MAX_SQS_MESSAGE_BYTES_CEILING
        );
        assert_eq!(BatchLimits::sqs(2048).max_bytes, 2048);
        assert_eq!(MAX_SQS_BATCH_ENTRIES, 10);
        assert_eq!(MAX_DECODE_BYTES, MAX_SQS_MESSAGE_BYTES_CEILING);
    }
}
