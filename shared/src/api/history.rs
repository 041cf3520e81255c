//! Delivery history and endpoint health, without I/O: a message's status at each endpoint, how a
//! failed attempt is classed, when an endpoint that keeps failing is disabled, and the
//! operational webhooks (Svix's shapes) hookline sends about its own work.
//!
//! The sender decides with these after each attempt and writes the records through
//! `hookline-api`'s `Registry`; the API reads them back in Svix's shapes.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::time::Timestamp;

/// The application id under which operational-webhook endpoints are kept. It is not an
/// application: no application record has it, and the application routes never reach it (an
/// application whose `uid` is `_operational` is a different record).
pub const OPERATIONAL_APP: &str = "_operational";

/// The application id under which the history and health of the configuration's endpoints
/// (`[endpoints]`, which belong to no application) are kept, with the endpoint's name as its id.
pub const CONFIG_APP: &str = "_config";

/// A message's status at one endpoint (Svix's `MessageStatus`; hookline's *skipped*, a message
/// not sent because the endpoint was disabled, is Svix's `canceled`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum MessageStatus {
    /// Delivered (a 2xx).
    Success,
    /// Failed for now; another attempt is scheduled (`next_attempt`).
    Pending,
    /// Every attempt failed (dead-lettered), or the endpoint refused it for good.
    Fail,
    /// An attempt is under way.
    Sending,
    /// Not sent: the endpoint was disabled. `recover` sends it once the endpoint is enabled.
    Skipped,
}

impl From<MessageStatus> for u8 {
    fn from(s: MessageStatus) -> u8 {
        match s {
            MessageStatus::Success => 0,
            MessageStatus::Pending => 1,
            MessageStatus::Fail => 2,
            MessageStatus::Sending => 3,
            MessageStatus::Skipped => 4,
        }
    }
}

impl TryFrom<u8> for MessageStatus {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        match n {
            0 => Ok(Self::Success),
            1 => Ok(Self::Pending),
            2 => Ok(Self::Fail),
            3 => Ok(Self::Sending),
            4 => Ok(Self::Skipped),
            other => Err(format!("unknown message status {other}")),
        }
    }
}

impl MessageStatus {
    /// Every status, in Svix's numbering.
    pub const ALL: [MessageStatus; 5] = [
        Self::Success,
        Self::Pending,
        Self::Fail,
        Self::Sending,
        Self::Skipped,
    ];

    /// Svix's `statusText` (`canceled` for skipped).
    pub const fn text(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Pending => "pending",
            Self::Fail => "fail",
            Self::Sending => "sending",
            Self::Skipped => "canceled",
        }
    }

    /// Whether `recover` sends the message again: it failed, or was skipped.
    pub const fn recoverable(self) -> bool {
        matches!(self, Self::Fail | Self::Skipped)
    }
}

/// Why an attempt failed, as a stable code (the attempt's `errorClass`, the logs' `error_class`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// No response within the endpoint's timeout.
    Timeout,
    /// The connection was refused or reset.
    Connection,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// The SSRF guard refused the address (private, loopback, metadata...).
    Ssrf,
    /// The endpoint answered, with a status that is not 2xx.
    Status,
    /// The endpoint answered `410 Gone`: it asks to get nothing more.
    Gone,
    /// The delivery could not be made (rendering, signing, a bad URL).
    Request,
}

impl ErrorClass {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::Dns => "dns",
            Self::Tls => "tls",
            Self::Ssrf => "ssrf",
            Self::Status => "status",
            Self::Gone => "gone",
            Self::Request => "request",
        }
    }
}

/// The last attempt of a message at an endpoint (Svix's `MessageAttempetLast`, sic).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastAttempt {
    /// The attempt's id.
    pub id: String,
    /// Its HTTP status, 0 without a response.
    pub response_status_code: u16,
    /// When it was made, RFC 3339.
    pub timestamp: String,
}

/// A message's status at one endpoint: the store keeps one per (endpoint, message), under
/// `{app}/{endpoint}` with the message id as its id, so an endpoint's messages list in creation
/// order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    /// The application's id.
    pub app_id: String,
    /// The endpoint's id.
    pub endpoint_id: String,
    /// The message's id.
    pub msg_id: String,
    /// Where it stands.
    pub status: MessageStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (RFC 3339), while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<String>,
    /// The last attempt, once there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt: Option<LastAttempt>,
    /// Whether `message.attempt.failing` was sent for it (then a later success sends
    /// `message.attempt.recovered`).
    #[serde(default)]
    pub failing_sent: bool,
    /// When this record last changed, RFC 3339.
    pub updated_at: String,
}

/// When an endpoint that keeps failing is disabled (`[delivery.auto_disable]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthPolicy {
    /// Whether endpoints are disabled automatically at all.
    pub enabled: bool,
    /// At least this many failed attempts in a row...
    pub failures: u32,
    /// ...spanning at least this long since the first of them (Svix: five days).
    pub failing_for: Duration,
    /// Disable at once on `410 Gone` (Standard Webhooks' advice).
    pub on_gone: bool,
}

impl HealthPolicy {
    /// The default: disabled after 5 failures in a row spanning 5 days, at once on 410.
    pub const DEFAULT: HealthPolicy = HealthPolicy {
        enabled: true,
        failures: 5,
        failing_for: Duration::from_secs(5 * 24 * 3600),
        on_gone: true,
    };
}

impl Default for HealthPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// An endpoint's run of failures, kept by the store under the application with the endpoint's
/// id, and changed only by a conditional write (so concurrent senders cannot lose a count).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Failed attempts in a row.
    pub failures: u32,
    /// When the first of them was made (milliseconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since_ms: Option<i64>,
    /// An endpoint of the configuration ([`CONFIG_APP`]) that the sender disabled: the
    /// configuration is read once per cold start, so "disabled" is kept here, where every
    /// sender reads it. Registered endpoints keep using their own record's `disabled`. Deleting
    /// this record enables the endpoint again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// How an attempt went, as endpoint health sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observed {
    /// A 2xx.
    Success,
    /// Any other failure.
    Failure,
    /// `410 Gone`.
    Gone,
}

/// What to do about an endpoint after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Keep delivering.
    Keep,
    /// Disable it: it has failed since `fail_since` (or answered 410).
    Disable {
        /// When its failures began.
        fail_since: Timestamp,
        /// Why, for the logs and the operator.
        reason: DisableReason,
    },
    /// It is disabled already ([`Health::disabled`]): nothing changes, nothing is sent.
    Disabled,
}

/// Why an endpoint was disabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisableReason {
    /// It failed as often and as long as the policy allows.
    Failing,
    /// It answered `410 Gone`.
    Gone,
}

impl DisableReason {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Failing => "failing",
            Self::Gone => "gone",
        }
    }
}

/// The endpoint's health after an attempt observed as `seen` at `now`, and what to do. `None`
/// for the new health means it does not change (a success on a healthy endpoint writes nothing).
pub fn observe(
    health: &Health,
    seen: Observed,
    now: Timestamp,
    policy: &HealthPolicy,
) -> (Option<Health>, Verdict) {
    if health.disabled {
        // Only an attempt already under way when the endpoint was disabled gets here: its
        // outcome must neither re-enable the endpoint (a success) nor disable it again.
        return (None, Verdict::Disabled);
    }
    match seen {
        Observed::Success => {
            let next = (*health != Health::default()).then(Health::default);
            (next, Verdict::Keep)
        }
        Observed::Failure | Observed::Gone => {
            // Concurrent senders take `now` before their writes land, so a failure may be
            // counted after one stamped a little later: the run began at the earlier of the two,
            // and the time it has lasted is never negative.
            let since_ms = health
                .failing_since_ms
                .map_or(now.unix_millis(), |s| s.min(now.unix_millis()));
            let next = Health {
                failures: health.failures.saturating_add(1),
                failing_since_ms: Some(since_ms),
                disabled: false,
            };
            let fail_since = Timestamp::from_unix_millis(since_ms);
            let verdict = if !policy.enabled {
                Verdict::Keep
            } else if seen == Observed::Gone && policy.on_gone {
                Verdict::Disable {
                    fail_since,
                    reason: DisableReason::Gone,
                }
            } else if next.failures >= policy.failures
                && now.unix_millis().saturating_sub(since_ms)
                    >= i64::try_from(policy.failing_for.as_millis()).unwrap_or(i64::MAX)
            {
                Verdict::Disable {
                    fail_since,
                    reason: DisableReason::Failing,
                }
            } else {
                Verdict::Keep
            };
            (Some(next), verdict)
        }
    }
}

/// After which failed attempt of a message `message.attempt.failing` is sent (Svix: the 4th).
pub const FAILING_AFTER_ATTEMPT: u32 = 4;

/// The operational webhooks hookline sends (Svix's event type names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationalEvent {
    /// An endpoint was created through the API.
    EndpointCreated,
    /// An endpoint was changed through the API.
    EndpointUpdated,
    /// An endpoint was deleted through the API.
    EndpointDeleted,
    /// An endpoint was disabled, automatically or through the API.
    EndpointDisabled,
    /// A message's every attempt at an endpoint failed.
    AttemptExhausted,
    /// A message has failed [`FAILING_AFTER_ATTEMPT`] times at an endpoint, and is retried.
    AttemptFailing,
    /// A message that was failing at an endpoint was delivered.
    AttemptRecovered,
}

impl OperationalEvent {
    /// Every event, for documents and subscriptions.
    pub const ALL: [OperationalEvent; 7] = [
        Self::EndpointCreated,
        Self::EndpointUpdated,
        Self::EndpointDeleted,
        Self::EndpointDisabled,
        Self::AttemptExhausted,
        Self::AttemptFailing,
        Self::AttemptRecovered,
    ];

    /// The event type.
    pub const fn event_type(self) -> &'static str {
        match self {
            Self::EndpointCreated => "endpoint.created",
            Self::EndpointUpdated => "endpoint.updated",
            Self::EndpointDeleted => "endpoint.deleted",
            Self::EndpointDisabled => "endpoint.disabled",
            Self::AttemptExhausted => "message.attempt.exhausted",
            Self::AttemptFailing => "message.attempt.failing",
            Self::AttemptRecovered => "message.attempt.recovered",
        }
    }
}

/// Who an operational webhook is about: the application and endpoint, with their uids.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// The application's id.
    pub app_id: &'a str,
    /// The application's uid.
    pub app_uid: Option<&'a str>,
    /// The endpoint's id.
    pub endpoint_id: &'a str,
    /// The endpoint's uid.
    pub endpoint_uid: Option<&'a str>,
}

impl Subject<'_> {
    fn base(&self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("appId".into(), json!(self.app_id));
        m.insert("appUid".into(), json!(self.app_uid));
        m.insert("endpointId".into(), json!(self.endpoint_id));
        m
    }

    /// `EndpointCreatedEventData` (and updated, deleted).
    pub fn endpoint_data(&self) -> Value {
        let mut m = self.base();
        m.insert("endpointUid".into(), json!(self.endpoint_uid));
        Value::Object(m)
    }

    /// `EndpointDisabledEventData`: `trigger` is `automatic` or `manual`.
    pub fn disabled_data(&self, fail_since: Timestamp, automatic: bool) -> Value {
        let mut m = self.base();
        m.insert("endpointUid".into(), json!(self.endpoint_uid));
        m.insert("failSince".into(), json!(fail_since.to_rfc3339()));
        m.insert(
            "trigger".into(),
            json!(if automatic { "automatic" } else { "manual" }),
        );
        Value::Object(m)
    }

    /// `MessageAttemptExhaustedEventData` (and failing, recovered).
    pub fn attempt_data(
        &self,
        msg_id: &str,
        msg_event_id: Option<&str>,
        last: &LastAttempt,
    ) -> Value {
        let mut m = self.base();
        m.insert("msgId".into(), json!(msg_id));
        m.insert("msgEventId".into(), json!(msg_event_id));
        m.insert("lastAttempt".into(), json!(last));
        Value::Object(m)
    }
}

/// The outbound message (its JSON) that carries operational event `event` with `data` to the
/// operational endpoints: an ordinary message of [`OPERATIONAL_APP`], so it is signed, retried
/// and recorded like any other.
pub fn operational_message(event: OperationalEvent, data: Value, now: Timestamp) -> Value {
    json!({
        "type": event.event_type(),
        "application": OPERATIONAL_APP,
        "timestamp": now.to_rfc3339(),
        "data": data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_795_435_200_000;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms)
    }

    #[test]
    fn statuses_use_svix_numbers_and_skipped_is_canceled() {
        for s in MessageStatus::ALL {
            let n = u8::from(s);
            assert_eq!(MessageStatus::try_from(n), Ok(s));
        }
        assert_eq!(u8::from(MessageStatus::Skipped), 4);
        assert_eq!(MessageStatus::Skipped.text(), "canceled");
        assert!(MessageStatus::try_from(5).is_err());
        assert!(MessageStatus::Skipped.recoverable() && MessageStatus::Fail.recoverable());
        assert!(!MessageStatus::Pending.recoverable());
    }

    #[test]
    fn a_success_on_a_healthy_endpoint_writes_nothing() {
        let (next, v) = observe(
            &Health::default(),
            Observed::Success,
            at(T0),
            &HealthPolicy::DEFAULT,
        );
        assert_eq!((next, v), (None, Verdict::Keep));
    }

    #[test]
    fn a_success_ends_a_run_of_failures() {
        let h = Health {
            failures: 3,
            failing_since_ms: Some(T0),
            disabled: false,
        };
        let (next, v) = observe(&h, Observed::Success, at(T0 + 1), &HealthPolicy::DEFAULT);
        assert_eq!((next, v), (Some(Health::default()), Verdict::Keep));
    }

    #[test]
    fn both_the_count_and_the_duration_must_be_reached() {
        let policy = HealthPolicy {
            failures: 3,
            failing_for: Duration::from_secs(60),
            ..HealthPolicy::DEFAULT
        };
        let mut h = Health::default();
        // Three failures within a second: the count is reached, the duration is not.
        for i in 0..3 {
            let (next, v) = observe(&h, Observed::Failure, at(T0 + i), &policy);
            assert_eq!(v, Verdict::Keep);
            h = next.unwrap();
        }
        assert_eq!(
            h,
            Health {
                failures: 3,
                failing_since_ms: Some(T0),
                disabled: false,
            }
        );
        // A minute after the first failure, the next one disables it.
        let (_, v) = observe(&h, Observed::Failure, at(T0 + 60_000), &policy);
        assert_eq!(
            v,
            Verdict::Disable {
                fail_since: at(T0),
                reason: DisableReason::Failing
            }
        );
        // A long run of too few failures does not.
        let few = Health {
            failures: 1,
            failing_since_ms: Some(T0),
            disabled: false,
        };
        let (_, v) = observe(&few, Observed::Failure, at(T0 + 3_600_000), &policy);
        assert_eq!(v, Verdict::Keep);
    }

    #[test]
    fn a_failure_stamped_before_the_run_began_still_counts_its_whole_run() {
        // Three concurrent failures, the last one written stamped 1 ms before the first.
        let policy = HealthPolicy {
            failures: 3,
            failing_for: Duration::ZERO,
            ..HealthPolicy::DEFAULT
        };
        let h = Health {
            failures: 2,
            failing_since_ms: Some(T0 + 1),
            disabled: false,
        };
        let (next, v) = observe(&h, Observed::Failure, at(T0), &policy);
        assert_eq!(next.unwrap().failing_since_ms, Some(T0));
        assert!(matches!(v, Verdict::Disable { .. }), "{v:?}");
    }

    #[test]
    fn gone_disables_at_once_unless_the_policy_says_not() {
        let (next, v) = observe(
            &Health::default(),
            Observed::Gone,
            at(T0),
            &HealthPolicy::DEFAULT,
        );
        assert_eq!(
            next,
            Some(Health {
                failures: 1,
                failing_since_ms: Some(T0),
                disabled: false,
            })
        );
        assert_eq!(
            v,
            Verdict::Disable {
                fail_since: at(T0),
                reason: DisableReason::Gone
            }
        );
        let keep = HealthPolicy {
            on_gone: false,
            ..HealthPolicy::DEFAULT
        };
        assert_eq!(
            observe(&Health::default(), Observed::Gone, at(T0), &keep).1,
            Verdict::Keep
        );
        let off = HealthPolicy {
            enabled: false,
            failures: 1,
            failing_for: Duration::ZERO,
            on_gone: true,
        };
        assert_eq!(
            observe(&Health::default(), Observed::Gone, at(T0), &off).1,
            Verdict::Keep
        );
    }

    #[test]
    fn a_disabled_health_stays_disabled_whatever_an_attempt_under_way_did() {
        let disabled = Health {
            failures: 3,
            failing_since_ms: Some(T0),
            disabled: true,
        };
        for seen in [Observed::Success, Observed::Failure, Observed::Gone] {
            assert_eq!(
                observe(&disabled, seen, at(T0 + 1), &HealthPolicy::DEFAULT),
                (None, Verdict::Disabled),
                "{seen:?}"
            );
        }
    }

    #[test]
    fn disabled_is_stored_only_when_set() {
        // Records written before the field existed (and every registered endpoint's) read as
        // enabled, and an enabled one is written as it was.
        let h: Health = serde_json::from_str(r#"{"failures":2,"failingSinceMs":5}"#).unwrap();
        assert!(!h.disabled);
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"failures":2,"failingSinceMs":5}"#
        );
        let off = Health {
            disabled: true,
            ..Health::default()
        };
        assert_eq!(
            serde_json::to_string(&off).unwrap(),
            r#"{"failures":0,"disabled":true}"#
        );
    }

    #[test]
    fn operational_payloads_have_svix_names() {
        let s = Subject {
            app_id: "app_1",
            app_uid: Some("acme"),
            endpoint_id: "ep_1",
            endpoint_uid: None,
        };
        let d = s.disabled_data(at(T0), true);
        assert_eq!(d["appUid"], "acme");
        assert_eq!(d["endpointUid"], Value::Null);
        assert_eq!(d["failSince"], at(T0).to_rfc3339());
        assert_eq!(d["trigger"], "automatic");
        let last = LastAttempt {
            id: "atmpt_1".into(),
            response_status_code: 500,
            timestamp: at(T0).to_rfc3339(),
        };
        let a = s.attempt_data("msg_1", Some("evt"), &last);
        assert_eq!(a["lastAttempt"]["responseStatusCode"], 500);
        assert_eq!(a["msgEventId"], "evt");
        let m = operational_message(OperationalEvent::EndpointDisabled, d, at(T0));
        assert_eq!(m["type"], "endpoint.disabled");
        assert_eq!(m["application"], OPERATIONAL_APP);
    }
}
