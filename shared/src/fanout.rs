//! The sender's fan-out plan, decided without I/O: which endpoints an outbound message goes to,
//! which named endpoints cannot take it (kept in the dead-letter queue with the reason), and
//! which named ones their own rules turn away (logged and counted).
//!
//! The sender calls [`plan`] for an outbound message and [`admit`] for a delivery message (one
//! endpoint, named directly), then executes: it delivers, enqueues one delivery message per
//! endpoint, or dead-letters. An endpoint's rules are [`Rules`]: enabled, the event types it
//! subscribes to, its filter.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use crate::envelope::{OutboundMessage, RawJson};
use crate::filter::Filter;
use crate::pattern::EventPattern;

/// Why an endpoint refuses an event: its own rules, checked on every path to it (fan-out, a
/// delivery message put on the queue directly, `hookline dev`, a replay from the dead-letter
/// queue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The endpoint is disabled (`enabled = false`).
    Disabled,
    /// No pattern of the endpoint's `events` matches the event type.
    NotSubscribed,
    /// The endpoint's `filter` does not match the event.
    Filtered,
    /// The endpoint has a filter and the event's `data` could not be parsed for it.
    UnreadableData(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Disabled => "the endpoint is disabled",
            Self::NotSubscribed => "the endpoint's events do not include this type",
            Self::Filtered => "the endpoint's filter does not match this event",
            Self::UnreadableData(e) => {
                return write!(f, "data cannot be read for the endpoint's filter: {e}");
            }
        })
    }
}

/// An event's `data`, parsed at most once, and only when a filter first needs it.
#[derive(Debug)]
pub struct EventData<'a> {
    raw: &'a RawJson,
    parsed: OnceCell<Result<serde_json::Value, String>>,
}

impl<'a> EventData<'a> {
    /// Wraps the raw `data` of a message.
    pub fn new(raw: &'a RawJson) -> Self {
        Self {
            raw,
            parsed: OnceCell::new(),
        }
    }

    fn value(&self) -> Result<&serde_json::Value, Refusal> {
        self.parsed
            .get_or_init(|| self.raw.to_value().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Refusal::UnreadableData(e.clone()))
    }
}

/// An endpoint's rules for which events it takes.
#[derive(Clone, Copy, Debug)]
pub struct Rules<'a> {
    /// `enabled`: a disabled endpoint takes nothing.
    pub enabled: bool,
    /// The event types it subscribes to.
    pub events: &'a [EventPattern],
    /// The payload filter, if any.
    pub filter: Option<&'a Filter>,
}

/// An endpoint as the plan sees it: its rules. The sender's endpoints (with their signers and
/// clients) implement it.
pub trait Subscriber {
    /// The endpoint's rules.
    fn rules(&self) -> Rules<'_>;

    /// Whether the endpoint takes the event: enabled, subscribed to `event_type`, and matched by
    /// its filter (which sees `message_id` and the parsed `data`).
    fn admits(
        &self,
        event_type: &str,
        message_id: &str,
        data: &EventData<'_>,
    ) -> Result<(), Refusal> {
        let rules = self.rules();
        if !rules.enabled {
            return Err(Refusal::Disabled);
        }
        if !rules.events.iter().any(|p| p.matches(event_type)) {
            return Err(Refusal::NotSubscribed);
        }
        match rules.filter {
            Some(f) if !f.matches(event_type, message_id, data.value()?) => Err(Refusal::Filtered),
            _ => Ok(()),
        }
    }
}

impl Subscriber for Rules<'_> {
    fn rules(&self) -> Rules<'_> {
        *self
    }
}

/// Why a named endpoint cannot take a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unroutable {
    /// The configuration has no endpoint of that name.
    UnknownEndpoint,
    /// The endpoint refuses the event.
    Refused(Refusal),
}

/// What to do with one outbound message.
#[derive(Debug)]
pub struct Plan<'e, E> {
    /// The endpoints that take it, in name order for a message naming none, in the message's
    /// order otherwise.
    pub targets: Vec<&'e E>,
    /// Named endpoints that cannot take it (unknown, or `data` their filter cannot read): each
    /// is kept in the dead-letter queue with its reason.
    pub dead_letters: Vec<(String, Unroutable)>,
    /// Named endpoints whose own rules (disabled, `events`, `filter`) turn it away: that is
    /// their configuration working (a relay source names its endpoints for every event it
    /// relays, and their filters pick some), so these are logged and counted, not dead-lettered.
    pub not_subscribed: Vec<(String, Refusal)>,
}

impl<E> Plan<'_, E> {
    /// Whether the message goes nowhere and no endpoint was even considered for it: no endpoint
    /// subscribes to its type and it names none.
    pub fn is_unrouted(&self) -> bool {
        self.targets.is_empty() && self.dead_letters.is_empty() && self.not_subscribed.is_empty()
    }
}

/// The message id of an outbound message: its own `id`, or one derived from the SQS message id
/// (stable across redeliveries of that SQS message, so `webhook-id` stays the same).
pub fn message_id(msg: &OutboundMessage, sqs_message_id: Option<&str>) -> String {
    msg.id.clone().unwrap_or_else(|| {
        // Lambda always sets the SQS message id. Were it missing, the deliveries still go out,
        // under an id that is not unique.
        format!("msg_{}", sqs_message_id.unwrap_or("unknown"))
    })
}

/// The endpoint named `name`, if it takes the event.
pub fn admit<'e, E: Subscriber>(
    endpoints: &'e BTreeMap<String, E>,
    name: &str,
    event_type: &str,
    message_id: &str,
    data: &EventData<'_>,
) -> Result<&'e E, Unroutable> {
    let endpoint = endpoints.get(name).ok_or(Unroutable::UnknownEndpoint)?;
    endpoint
        .admits(event_type, message_id, data)
        .map_err(Unroutable::Refused)?;
    Ok(endpoint)
}

/// Plans the fan-out of `msg` (whose id is `message_id`) over `endpoints`: to the endpoints it
/// names, or to every endpoint subscribed to its type when it names none.
///
/// Unreadable `data` is never a routing decision: an endpoint whose filter cannot read it is a
/// dead letter, named or not.
pub fn plan<'e, E: Subscriber>(
    endpoints: &'e BTreeMap<String, E>,
    msg: &OutboundMessage,
    message_id: &str,
) -> Plan<'e, E> {
    let data = EventData::new(&msg.data);
    let mut plan = Plan {
        targets: Vec::new(),
        dead_letters: Vec::new(),
        not_subscribed: Vec::new(),
    };
    match &msg.endpoints {
        Some(names) => {
            for name in names {
                match admit(endpoints, name, &msg.event_type, message_id, &data) {
                    Ok(e) => plan.targets.push(e),
                    Err(Unroutable::Refused(r)) if !matches!(r, Refusal::UnreadableData(_)) => {
                        plan.not_subscribed.push((name.clone(), r));
                    }
                    Err(u) => plan.dead_letters.push((name.clone(), u)),
                }
            }
        }
        None => {
            for (name, e) in endpoints {
                match e.admits(&msg.event_type, message_id, &data) {
                    Ok(()) => plan.targets.push(e),
                    Err(r @ Refusal::UnreadableData(_)) => {
                        plan.dead_letters
                            .push((name.clone(), Unroutable::Refused(r)));
                    }
                    // Not subscribed, and not named: nothing to record.
                    Err(_) => {}
                }
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An endpoint reduced to its rules.
    struct Ep {
        enabled: bool,
        events: Vec<EventPattern>,
        filter: Option<Filter>,
    }

    impl Subscriber for Ep {
        fn rules(&self) -> Rules<'_> {
            Rules {
                enabled: self.enabled,
                events: &self.events,
                filter: self.filter.as_ref(),
            }
        }
    }

    fn ep(events: &[&str], filter: Option<&str>) -> Ep {
        Ep {
            enabled: true,
            events: events.iter().map(|p| p.parse().unwrap()).collect(),
            filter: filter.map(|f| f.parse().unwrap()),
        }
    }

    fn endpoints() -> BTreeMap<String, Ep> {
        let mut off = ep(&["*"], None);
        off.enabled = false;
        BTreeMap::from([
            ("billing".to_owned(), ep(&["invoice.*"], None)),
            (
                "big".to_owned(),
                ep(&["invoice.*"], Some("data.amount > 100")),
            ),
            ("users".to_owned(), ep(&["user.*"], None)),
            ("off".to_owned(), off),
        ])
    }

    fn msg(json: &str) -> OutboundMessage {
        OutboundMessage::from_json(json.as_bytes()).unwrap()
    }

    fn names<E>(plan: &Plan<'_, E>, all: &BTreeMap<String, E>) -> Vec<String> {
        plan.targets
            .iter()
            .map(|t| {
                all.iter()
                    .find(|(_, e)| std::ptr::eq(*e, *t))
                    .map(|(n, _)| n.clone())
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn a_message_naming_no_endpoint_goes_to_every_subscribed_one() {
        let all = endpoints();
        let m = msg(r#"{"type":"invoice.paid","data":{"amount":500}}"#);
        let p = plan(&all, &m, "m1");
        assert_eq!(names(&p, &all), vec!["big", "billing"]);
        assert!(p.dead_letters.is_empty() && p.not_subscribed.is_empty());

        let small = msg(r#"{"type":"invoice.paid","data":{"amount":5}}"#);
        let p = plan(&all, &small, "m1");
        assert_eq!(
            names(&p, &all),
            vec!["billing"],
            "the filter picks, quietly"
        );
        assert!(p.not_subscribed.is_empty());
    }

    #[test]
    fn a_type_nobody_subscribes_to_is_unrouted() {
        let all = endpoints();
        let p = plan(&all, &msg(r#"{"type":"order.created","data":{}}"#), "m1");
        assert!(p.is_unrouted());
        let named = msg(r#"{"type":"order.created","data":{},"endpoints":["billing"]}"#);
        let p = plan(&all, &named, "m1");
        assert!(!p.is_unrouted());
        assert_eq!(
            p.not_subscribed,
            vec![("billing".to_owned(), Refusal::NotSubscribed)]
        );
    }

    #[test]
    fn named_endpoints_are_unknown_refused_or_taken() {
        let all = endpoints();
        let m = msg(
            r#"{"type":"invoice.paid","data":{"amount":5},"endpoints":["billing","nope","big","off","users"]}"#,
        );
        let p = plan(&all, &m, "m1");
        assert_eq!(names(&p, &all), vec!["billing"]);
        assert_eq!(
            p.dead_letters,
            vec![("nope".to_owned(), Unroutable::UnknownEndpoint)]
        );
        assert_eq!(
            p.not_subscribed,
            vec![
                ("big".to_owned(), Refusal::Filtered),
                ("off".to_owned(), Refusal::Disabled),
                ("users".to_owned(), Refusal::NotSubscribed),
            ]
        );
    }

    #[test]
    fn data_a_filter_cannot_read_is_a_dead_letter_named_or_not() {
        let all = endpoints();
        // Well-formed JSON whose number no `f64` holds: the raw text is kept as is, but the
        // filter's parse refuses it.
        let m = msg(r#"{"type":"invoice.paid","data":{"amount":1e400}}"#);
        assert!(matches!(
            EventData::new(&m.data).value(),
            Err(Refusal::UnreadableData(_))
        ));
        let p = plan(&all, &m, "m1");
        assert_eq!(names(&p, &all), vec!["billing"]);
        assert!(matches!(
            p.dead_letters.as_slice(),
            [(n, Unroutable::Refused(Refusal::UnreadableData(_)))] if n == "big"
        ));
    }

    #[test]
    fn admit_checks_one_named_endpoint() {
        let all = endpoints();
        let m = msg(r#"{"type":"invoice.paid","data":{"amount":5}}"#);
        let data = EventData::new(&m.data);
        assert!(admit(&all, "billing", "invoice.paid", "m1", &data).is_ok());
        assert_eq!(
            admit(&all, "nope", "invoice.paid", "m1", &data).err(),
            Some(Unroutable::UnknownEndpoint)
        );
        assert_eq!(
            admit(&all, "big", "invoice.paid", "m1", &data).err(),
            Some(Unroutable::Refused(Refusal::Filtered))
        );
        assert_eq!(
            admit(&all, "off", "invoice.paid", "m1", &data).err(),
            Some(Unroutable::Refused(Refusal::Disabled))
        );
    }

    #[test]
    fn the_message_id_is_the_messages_own_or_derived_from_the_sqs_id() {
        let with = msg(r#"{"type":"a.b","data":{},"id":"evt_1"}"#);
        assert_eq!(message_id(&with, Some("sqs-1")), "evt_1");
        let without = msg(r#"{"type":"a.b","data":{}}"#);
        assert_eq!(message_id(&without, Some("sqs-1")), "msg_sqs-1");
        assert_eq!(message_id(&without, None), "msg_unknown");
    }
}
