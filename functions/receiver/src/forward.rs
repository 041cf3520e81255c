//! The queue consumer's plan for one batch: which SQS queue each envelope goes to and as what.
//!
//! Where each envelope goes, with what body and attributes, is `hookline_core::route`'s decision
//! (the same one `hookline dev` makes); this module groups the routes of a batch by queue.
//!
//! Pure: the Worker's `#[event(queue)]` entry reads the batch, calls [`plan`], sends each
//! target's entries with `SendMessageBatch`, and acks exactly the messages SQS accepted. Every
//! other message is retried with a delay; with a dead-letter queue configured, a message that
//! keeps failing ends there. Nothing is acked that SQS did not take.

use hookline_core::config::{Destination, ResolvedSource};
use hookline_core::envelope::InboundEnvelope;
use hookline_core::route::{RouteError, route};
use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::sqs::Entry;

/// Which SQS queue an entry is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// `HOOKLINE_SQS_QUEUE_URL`: verified events for your consumers.
    Queue,
    /// `HOOKLINE_SQS_OUTBOUND_URL`: outbound messages for the sender.
    Outbound,
}

/// Why a message cannot be forwarded now. It is retried (and dead-lettered in the end), never
/// dropped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Hold {
    /// The message is not an inbound envelope (someone else wrote to the queue).
    #[error("not an inbound envelope: {0}")]
    NotAnEnvelope(String),
    /// The envelope's source is no longer configured, so its destination is unknown.
    #[error("source {0:?} is not configured")]
    UnknownSource(String),
    /// The destination's queue URL is not set.
    #[error("{0} is not set")]
    NoQueue(&'static str),
    /// The relay message could not be built.
    #[error("cannot build the relay message: {0}")]
    Relay(String),
}

/// The plan for a batch: entries per target (each entry's id is `m{index}` of its message in the
/// batch), and the messages to hold.
#[derive(Debug, Default)]
pub struct Plan {
    /// Entries to send, by target.
    pub sends: BTreeMap<Target, Vec<Entry>>,
    /// Messages (by index in the batch) that cannot be forwarded now, and why.
    pub holds: Vec<(usize, Hold)>,
}

/// The batch-entry id of the message at `index`.
pub fn entry_id(index: usize) -> String {
    format!("m{index}")
}

/// The index back from an entry id made by [`entry_id`].
pub fn entry_index(id: &str) -> Option<usize> {
    id.strip_prefix('m')?.parse().ok()
}

/// Plans a batch of message bodies. `has_queue` tells, per target, whether its queue is
/// configured (`None`: not set) and FIFO (`Some(true)`: entries then carry a group id, the
/// source, and a deduplication id derived from the event id).
pub fn plan(
    bodies: &[String],
    sources: &BTreeMap<String, ResolvedSource>,
    has_queue: impl Fn(Target) -> Option<bool>,
) -> Plan {
    let mut plan = Plan::default();
    for (index, body) in bodies.iter().enumerate() {
        match entry_for(index, body, sources, &has_queue) {
            Ok((target, entry)) => plan.sends.entry(target).or_default().push(entry),
            Err(hold) => plan.holds.push((index, hold)),
        }
    }
    plan
}

fn entry_for(
    index: usize,
    body: &str,
    sources: &BTreeMap<String, ResolvedSource>,
    has_queue: &impl Fn(Target) -> Option<bool>,
) -> Result<(Target, Entry), Hold> {
    let envelope = InboundEnvelope::from_json(body.as_bytes())
        .map_err(|e| Hold::NotAnEnvelope(e.to_string()))?;
    let source = sources
        .get(&envelope.source)
        .ok_or_else(|| Hold::UnknownSource(envelope.source.clone()))?;
    let (target, var) = match source.destination {
        Destination::Queue => (Target::Queue, crate::settings::SQS_QUEUE_VAR),
        Destination::Relay => (Target::Outbound, crate::settings::SQS_OUTBOUND_VAR),
    };
    let fifo = has_queue(target).ok_or(Hold::NoQueue(var))?;
    let routed = route(&envelope, Cow::Borrowed(body), source, fifo).map_err(|e| match e {
        RouteError::RelayMessage(e) => Hold::Relay(e.to_string()),
    })?;
    let (group_id, dedup_id) = match routed.fifo {
        Some(ids) => (Some(ids.group_id), Some(ids.dedup_id)),
        None => (None, None),
    };
    Ok((
        target,
        Entry {
            id: entry_id(index),
            body: routed.body,
            attributes: routed
                .attributes
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
            group_id,
            dedup_id,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookline_core::config::Config;
    use hookline_core::envelope::{Body, OutboundMessage};
    use hookline_core::time::Timestamp;

    fn sources() -> BTreeMap<String, ResolvedSource> {
        let config = Config::from_toml(
            "[sources.stripe]\nscheme = \"stripe\"\nsecrets = [\"literal:whsec_x\"]\n\
             [sources.gh]\nscheme = \"github\"\nsecrets = [\"literal:s\"]\ndestination = \"relay\"\n",
        )
        .unwrap();
        config.resolve_sources(|_| None).unwrap()
    }

    fn envelope(source: &str, id: &str) -> String {
        let env = InboundEnvelope {
            version: 1,
            id: id.to_owned(),
            source: source.to_owned(),
            handler: None,
            event_type: Some("invoice.paid".to_owned()),
            received_at: Timestamp::from_unix_secs(1_795_435_200),
            headers: BTreeMap::new(),
            body: Body::from_bytes(br#"{"id":1}"#, Some("application/json")),
        };
        String::from_utf8(env.to_json()).unwrap()
    }

    #[test]
    fn each_message_goes_to_its_sources_destination() {
        let bodies = vec![
            envelope("stripe", "evt_1"),
            envelope("gh", "d-1"),
            "not json".to_owned(),
            envelope("gone", "x"),
        ];
        let plan = plan(&bodies, &sources(), |_| Some(false));
        let queue = &plan.sends[&Target::Queue];
        assert_eq!(queue.len(), 1);
        assert_eq!(queue[0].id, "m0");
        assert_eq!(queue[0].body, bodies[0], "the envelope is forwarded as is");
        assert!(
            queue[0]
                .attributes
                .contains(&("hookline-type".to_owned(), "invoice.paid".to_owned()))
        );
        assert_eq!(
            (queue[0].group_id.as_ref(), queue[0].dedup_id.as_ref()),
            (None, None)
        );
        let outbound = &plan.sends[&Target::Outbound];
        assert_eq!(outbound[0].id, "m1");
        let msg = OutboundMessage::from_json(outbound[0].body.as_bytes()).unwrap();
        assert_eq!(msg.id.as_deref(), Some("gh:d-1"));
        assert_eq!(plan.holds.len(), 2);
        assert_eq!(plan.holds[0].0, 2);
        assert!(matches!(plan.holds[0].1, Hold::NotAnEnvelope(_)));
        assert_eq!(plan.holds[1], (3, Hold::UnknownSource("gone".to_owned())));
        assert_eq!(entry_index("m3"), Some(3));
        assert_eq!(entry_index("x3"), None);
    }

    #[test]
    fn an_unset_queue_holds_and_fifo_queues_get_group_and_dedup_ids() {
        let bodies = vec![envelope("stripe", "evt_1"), envelope("gh", "d-1")];
        let plan = plan(&bodies, &sources(), |t| {
            (t == Target::Queue).then_some(true)
        });
        assert_eq!(
            plan.holds,
            vec![(1, Hold::NoQueue(crate::settings::SQS_OUTBOUND_VAR))]
        );
        let e = &plan.sends[&Target::Queue][0];
        assert_eq!(e.group_id.as_deref(), Some("stripe"));
        let dedup = e.dedup_id.clone().unwrap();
        assert_eq!(dedup.len(), 64);
        // Stable: the same event planned again gets the same deduplication id.
        let again = super::plan(&bodies, &sources(), |t| {
            (t == Target::Queue).then_some(true)
        });
        assert_eq!(
            again.sends[&Target::Queue][0].dedup_id.as_deref(),
            Some(dedup.as_str())
        );
    }
}
