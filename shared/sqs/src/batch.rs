//! The batcher: splits messages into SQS batch requests capped by entry count *and* bytes.
//!
//! Every caller that sends batches uses it, so no copy caps one and forgets the other (the
//! sender's fan-out once capped its batches by count only).

use std::ops::Range;

use crate::json::Entry;
use crate::limits::{MAX_BATCH_ENTRIES, MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES_CEILING};

/// How much one SQS batch request may carry: entries and total bytes of payload.
///
/// A `SendMessageBatch` may hold [`MAX_BATCH_ENTRIES`] messages whose bodies (and message
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
    /// [`MAX_MESSAGE_BYTES_CEILING`]).
    pub fn sqs(max_message_bytes: usize) -> Self {
        Self {
            max_entries: MAX_BATCH_ENTRIES,
            max_bytes: max_message_bytes.min(MAX_MESSAGE_BYTES_CEILING),
        }
    }

    /// Whether an item of `size` bytes is over the message limit, so no batch can carry it.
    pub fn oversized(&self, size: usize) -> bool {
        size > self.max_bytes
    }
}

impl Default for BatchLimits {
    /// The limits every SQS queue accepts: 10 entries, [`MAX_MESSAGE_BYTES`] bytes.
    fn default() -> Self {
        Self::sqs(MAX_MESSAGE_BYTES)
    }
}

/// Splits items, given by their sizes in bytes, into consecutive batches (index ranges) within
/// `limits`: at most `max_entries` items and `max_bytes` bytes each, in order, none empty.
///
/// An item larger than `max_bytes` fits no batch; it goes alone, so its own refusal (by the
/// caller, or by SQS) names it and no other item. A caller that knows the queue's limit checks
/// such items before sending (see [`BatchLimits::oversized`]).
pub fn batches(sizes: &[usize], limits: BatchLimits) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut fill = Fill::default();
    let mut start = 0;
    for (i, &size) in sizes.iter().enumerate() {
        if fill.closes_before(size, limits) {
            out.push(start..i);
            start = i;
            fill = Fill::default();
        }
        fill.add(size);
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

/// Splits `entries` into `SendMessageBatch` batches within `limits` (sizes as
/// [`Entry::size_bytes`] counts them), greedily and keeping the order, as [`batches`] does.
/// A new batch is also started when an id repeats within the current one, so no batch fails for
/// duplicate ids.
#[must_use]
pub fn chunk(entries: Vec<Entry>, limits: BatchLimits) -> Vec<Vec<Entry>> {
    let mut out = Vec::new();
    let mut fill = Fill::default();
    let mut current: Vec<Entry> = Vec::new();
    for entry in entries {
        let size = entry.size_bytes();
        let repeats = current.iter().any(|e| e.id == entry.id);
        if fill.closes_before(size, limits) || repeats {
            out.push(std::mem::take(&mut current));
            fill = Fill::default();
        }
        fill.add(size);
        current.push(entry);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The one rule for when a batch is full, shared by [`batches`] and [`chunk`]: what the current
/// batch holds so far.
#[derive(Default)]
struct Fill {
    entries: usize,
    bytes: usize,
}

impl Fill {
    /// Whether the current batch must be closed before an item of `size` bytes joins it: it is
    /// not empty and is full by count, or would go over the byte limit. An empty batch takes any
    /// item, so an oversized one goes alone, and a `max_entries` of 0 still makes progress.
    fn closes_before(&self, size: usize, limits: BatchLimits) -> bool {
        self.entries > 0
            && (self.entries >= limits.max_entries.max(1)
                || self.bytes.saturating_add(size) > limits.max_bytes)
    }

    fn add(&mut self, size: usize) {
        self.entries = self.entries.saturating_add(1);
        self.bytes = self.bytes.saturating_add(size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cap_entries_and_bytes() {
        let limits = BatchLimits::default();
        assert_eq!(
            limits,
            BatchLimits {
                max_entries: 10,
                max_bytes: MAX_MESSAGE_BYTES
            }
        );
        assert_eq!(batches(&[1; 25], limits), vec![0..10, 10..20, 20..25]);
        assert_eq!(batches(&[1; 10], limits), vec![0..10]);
        assert!(batches(&[], limits).is_empty());
        let half = MAX_MESSAGE_BYTES / 2;
        assert_eq!(batches(&[half, half, 1], limits), vec![0..2, 2..3]);
        assert_eq!(batches(&[half, half + 1], limits), vec![0..1, 1..2]);
        // Several large deliveries of one message: never two over the byte limit together.
        let big = 100_000;
        assert_eq!(batches(&[big; 5], limits), vec![0..2, 2..4, 4..5]);
        for range in batches(&[big; 5], limits) {
            assert!(range.len() * big <= MAX_MESSAGE_BYTES);
        }
        // An item over the byte limit goes alone, and the items around it keep batching.
        assert_eq!(
            batches(&[1, MAX_MESSAGE_BYTES + 1, 1, 1], limits),
            vec![0..1, 1..2, 2..4]
        );
        assert!(limits.oversized(MAX_MESSAGE_BYTES + 1));
        assert!(!limits.oversized(MAX_MESSAGE_BYTES));
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
            MAX_MESSAGE_BYTES_CEILING
        );
        assert_eq!(
            BatchLimits::sqs(4 << 20).max_bytes,
            MAX_MESSAGE_BYTES_CEILING
        );
        assert_eq!(BatchLimits::sqs(2048).max_bytes, 2048);
        assert_eq!(BatchLimits::sqs(2048).max_entries, MAX_BATCH_ENTRIES);
    }

    fn entry(id: &str, body: &str) -> Entry {
        Entry::new(id, body)
    }

    /// An entry whose body is `n` bytes.
    fn sized(id: &str, n: usize) -> Entry {
        entry(id, &"x".repeat(n))
    }

    fn limits(max_entries: usize, max_bytes: usize) -> BatchLimits {
        BatchLimits {
            max_entries,
            max_bytes,
        }
    }

    fn ids(batches: &[Vec<Entry>]) -> Vec<Vec<&str>> {
        batches
            .iter()
            .map(|b| b.iter().map(|e| e.id.as_str()).collect())
            .collect()
    }

    #[test]
    fn chunk_by_count() {
        let entries: Vec<Entry> = (0..23).map(|i| entry(&format!("e{i}"), "x")).collect();
        let batches = chunk(entries, BatchLimits::default());
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            [10, 10, 3]
        );
        let flat: Vec<String> = batches.into_iter().flatten().map(|e| e.id).collect();
        let expected: Vec<String> = (0..23).map(|i| format!("e{i}")).collect();
        assert_eq!(flat, expected);
        assert!(chunk(Vec::new(), limits(10, 100)).is_empty());
    }

    #[test]
    fn chunk_by_bytes() {
        let batches = chunk(
            vec![
                sized("a", 40),
                sized("b", 60),
                sized("c", 1),
                sized("d", 100),
            ],
            limits(10, 100),
        );
        assert_eq!(ids(&batches), vec![vec!["a", "b"], vec!["c"], vec!["d"]]);

        // Attributes count towards the size: 1 + (1 + 6 + 1) = 9.
        let mut with_attr = entry("a", "x");
        with_attr.attributes = vec![("k".into(), "v".into())];
        assert_eq!(with_attr.size_bytes(), 9);
        let batches = chunk(vec![with_attr, sized("b", 2)], limits(10, 10));
        assert_eq!(ids(&batches), vec![vec!["a"], vec!["b"]]);
    }

    #[test]
    fn chunk_oversized_entry_goes_alone() {
        let batches = chunk(
            vec![
                sized("a", 10),
                sized("big", 500),
                sized("b", 10),
                sized("c", 10),
            ],
            limits(10, 100),
        );
        assert_eq!(ids(&batches), vec![vec!["a"], vec!["big"], vec!["b", "c"]]);
        let batches = chunk(vec![sized("big", 500)], limits(10, 100));
        assert_eq!(ids(&batches), vec![vec!["big"]]);
    }

    #[test]
    fn chunk_splits_on_repeated_ids_and_handles_zero() {
        let batches = chunk(
            vec![
                entry("a", "1"),
                entry("b", "2"),
                entry("a", "3"),
                entry("c", "4"),
            ],
            limits(10, 100),
        );
        assert_eq!(ids(&batches), vec![vec!["a", "b"], vec!["a", "c"]]);
        // The bodies stay with their ids.
        assert_eq!(batches[1][0].body, "3");
        let batches = chunk(vec![entry("a", "1"), entry("b", "2")], limits(0, 100));
        assert_eq!(ids(&batches), vec![vec!["a"], vec!["b"]]);
    }
}
