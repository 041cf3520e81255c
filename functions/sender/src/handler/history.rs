//! What the sender writes after each attempt: the attempt, the message's status at the endpoint,
//! the endpoint's health (and disabling it), and the operational webhooks that follow.
//!
//! History never decides delivery: every write here that fails is logged and counted
//! (`HistoryWriteFailed`, `OperationalWebhookFailed`) and the delivery's outcome stands. The one
//! exception is a *skip*: a message not sent because its endpoint is disabled is then kept only
//! in the store, so there its records must be written, or that endpoint's delivery goes to the
//! dead-letter queue (`endpoint_disabled`) instead, where it is kept for replay.
//!
//! Store calls per attempt (what the cost model and the bench count), with a registry:
//! - the attempt: 2 writes (under the message and under the endpoint);
//! - the message's status at the endpoint: 1 write, plus 1 read on attempts after
//!   [`FAILING_AFTER_ATTEMPT`] (whether `message.attempt.failing` went out, for
//!   `message.attempt.recovered`);
//! - the endpoint's health: 1 read, plus 1 conditional write unless a success finds it healthy;
//!   none at all for a success at an endpoint this sender found healthy less than
//!   `api.registry_cache` ago (`RegistryCache::observe_health` says what that costs);
//! - an endpoint of the configuration: its health is read before the POST (is it disabled?),
//!   under the same `api.registry_cache` bound, and that read serves the count after it;
//! - disabling: 1 read and 1 conditional write, once per endpoint;
//! - an operational webhook about the attempt (`failing`, `exhausted`, `recovered`) at a
//!   registered endpoint: 1 read, the message's `eventId`.
//!
//! So a successful first delivery to a healthy endpoint costs 3 writes, and 1 read per endpoint
//! per warm sender per `api.registry_cache` (and one more write for a message put straight on
//! the queue: the message itself, once).
//!
//! Latency, in sequential round trips to the store (the calls that do not depend on each other
//! are made at once, [`Sender::after_attempt`]): 1 for a success early in its run (the attempt,
//! the health and the status together); 2 for a failure (the attempt, the health and the
//! previous status together, then the status), more only when it disables the endpoint, is
//! skipped, or sends a webhook whose `eventId` was not read alongside.

use hookline_api::StoreError;
use hookline_core::api::history::{
    CONFIG_APP, Destination, DisableReason, FAILING_AFTER_ATTEMPT, LastAttempt, MessageStatus,
    OPERATIONAL_APP, Observed, OperationalEvent, Subject, Verdict, operational_message,
};
use hookline_core::api::model::{Attempt as Record, AttemptStatus, MAX_ATTEMPT_RESPONSE, truncate};
use hookline_core::envelope::DeliveryMessage;
use hookline_core::retry::Decision;
use hookline_core::time::Timestamp;
use serde_json::{Value, json};

use super::apps::{Registered, delivery_record};
use super::{Sender, Unfinished, delivery_dead_letter};
use crate::http::Attempt;
use crate::registry::RegistryCache;
use crate::settings::Endpoint;

/// Where an attempt went, as the history names it: a registered endpoint of an application, or
/// an endpoint of the configuration (under [`CONFIG_APP`], by name).
#[derive(Clone, Copy, Debug)]
pub(super) struct Target<'a> {
    /// The application's id.
    pub app_id: &'a str,
    /// Its `uid`.
    pub app_uid: Option<&'a str>,
    /// The endpoint's id (a configured endpoint's name).
    pub endpoint_id: &'a str,
    /// Its `uid`.
    pub endpoint_uid: Option<&'a str>,
    /// Where deliveries to it go.
    pub url: &'a str,
    /// Whether it is a registered endpoint, which the sender may disable.
    pub registered: bool,
}

impl<'a> Target<'a> {
    /// A registered endpoint.
    pub fn registered(r: Registered<'a>) -> Self {
        Self {
            app_id: &r.app.app_id,
            app_uid: r.app.app_uid.as_deref(),
            endpoint_id: &r.endpoint.id,
            endpoint_uid: r.endpoint.uid.as_deref(),
            url: &r.endpoint.url,
            registered: true,
        }
    }

    /// An endpoint of the configuration.
    pub fn configured(e: &'a Endpoint) -> Self {
        Self {
            app_id: CONFIG_APP,
            app_uid: None,
            endpoint_id: &e.name,
            endpoint_uid: None,
            url: &e.url,
            registered: false,
        }
    }

    fn subject(&self) -> Subject<'a> {
        Subject {
            app_id: self.app_id,
            app_uid: self.app_uid,
            endpoint_id: self.endpoint_id,
            endpoint_uid: self.endpoint_uid,
        }
    }
}

/// How an attempt ended, as the history sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// A 2xx.
    Delivered,
    /// Failed; tried again at `next`.
    Retry {
        /// When the next attempt is due.
        next: Timestamp,
    },
    /// Failed for good (dead-lettered).
    GiveUp,
}

impl Step {
    /// The step of the retry policy's `decision` taken at `now`.
    pub fn of(decision: &Decision, now: Timestamp) -> Self {
        match decision {
            Decision::Delivered => Self::Delivered,
            Decision::Retry { delay, .. } => Self::Retry {
                next: now.saturating_add(*delay),
            },
            Decision::GiveUp { .. } => Self::GiveUp,
        }
    }
}

/// What the handler does after the history is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// As the retry policy decided.
    AsDecided,
    /// The attempt disabled the endpoint (or found it disabled): the message was recorded as
    /// skipped instead of being retried, and the record is finished.
    Skipped,
    /// The attempt disabled an endpoint of the configuration (or found it disabled): no retry;
    /// the message was recorded as skipped where the store took it, and the delivery goes to
    /// the dead-letter queue (`endpoint_disabled`), the only place a configured endpoint's
    /// message is kept.
    Disabled,
}

/// A message's status at an endpoint after an attempt that came to `step` (its number
/// `attempt`), and the operational event it calls for. `failing_sent`: whether
/// `message.attempt.failing` already went out for this message at this endpoint.
pub(super) fn settle(
    step: Step,
    attempt: u32,
    failing_sent: bool,
) -> (MessageStatus, Option<OperationalEvent>) {
    match step {
        Step::Delivered => (
            MessageStatus::Success,
            failing_sent.then_some(OperationalEvent::AttemptRecovered),
        ),
        Step::Retry { .. } => (
            MessageStatus::Pending,
            (attempt == FAILING_AFTER_ATTEMPT && !failing_sent)
                .then_some(OperationalEvent::AttemptFailing),
        ),
        Step::GiveUp => (
            MessageStatus::Fail,
            Some(OperationalEvent::AttemptExhausted),
        ),
    }
}

/// How endpoint health counts an attempt: a 410 is `Gone` whatever the retry policy made of it.
pub(super) fn observed(step: Step, status: Option<u16>) -> Observed {
    match (step, status) {
        (Step::Delivered, _) => Observed::Success,
        (_, Some(410)) => Observed::Gone,
        _ => Observed::Failure,
    }
}

/// Whether the status written after attempt `attempt` depends on the one before it: only
/// `failing_sent` is carried over, and it can be set only by attempt [`FAILING_AFTER_ATTEMPT`]
/// of the same run, so earlier attempts need not read it.
fn reads_previous(attempt: u32) -> bool {
    attempt > FAILING_AFTER_ATTEMPT
}

/// Whether attempt `attempt` coming to `step` sends an operational webhook whatever the
/// previous status says (`exhausted` always; `failing` at its attempt, which reads no previous
/// status), so what the webhook needs can be read before the previous status is known.
fn event_is_certain(step: Step, attempt: u32) -> bool {
    let event_if = |failing_sent: bool| settle(step, attempt, failing_sent).1.is_some();
    event_if(false) && (!reads_previous(attempt) || event_if(true))
}

impl Sender {
    /// Writes the history of one attempt at `target` and acts on the endpoint's health. Never
    /// fails the delivery; `Next::Skipped` only when the endpoint was disabled and the message
    /// is safely recorded as skipped.
    ///
    /// The store calls that do not depend on each other are made at once (on DynamoDB each is a
    /// round trip of several milliseconds): the attempt's two writes, the endpoint's health, and
    /// the reads the status and a webhook need. Only the status waits, for what the health and
    /// the previous status decide. A success early in its run needs neither, so it is one round
    /// trip in all.
    pub(super) async fn after_attempt(
        &self,
        d: &DeliveryMessage,
        target: &Target<'_>,
        attempt: u32,
        result: &Attempt,
        step: Step,
        now: Timestamp,
    ) -> Next {
        let Some(registry) = self.registry.as_deref() else {
            return Next::AsDecided;
        };
        // Boxed: its joined store calls make a future of a few KB, which inline would size
        // every delivery's future, history on or off (each is moved as its batch starts it).
        Box::pin(self.record_attempt(registry, d, target, attempt, result, step, now)).await
    }

    /// [`Sender::after_attempt`] with the history on.
    #[allow(clippy::too_many_arguments)]
    async fn record_attempt(
        &self,
        registry: &RegistryCache,
        d: &DeliveryMessage,
        target: &Target<'_>,
        attempt: u32,
        result: &Attempt,
        step: Step,
        now: Timestamp,
    ) -> Next {
        let record = attempt_record(d, target, attempt, result, step, now);
        let last = LastAttempt {
            id: record.id.clone(),
            response_status_code: record.response_status_code,
            timestamp: record.timestamp.clone(),
        };
        let seen = observed(step, result.status);
        let write_attempt = async {
            if let Err(e) = registry.record(&record, now).await {
                self.history_failed(&d.message_id, &e.to_string(), now);
            }
        };
        let status = |status: MessageStatus, failing_sent: bool| Destination {
            app_id: target.app_id.to_owned(),
            endpoint_id: target.endpoint_id.to_owned(),
            msg_id: d.message_id.clone(),
            status,
            attempts: attempt,
            next_attempt: match step {
                Step::Retry { next } => Some(next.to_rfc3339()),
                Step::Delivered | Step::GiveUp => None,
            },
            last_attempt: Some(last.clone()),
            failing_sent,
            updated_at: now.to_rfc3339(),
        };

        if step == Step::Delivered && !reads_previous(attempt) {
            // A success never disables, and this early in its run nothing can have sent
            // `failing` (see `reads_previous`), so there is no `recovered` to send: its status
            // depends on nothing else. Built from the attempt's own fields (`updated_at` is the
            // attempt's `timestamp`, both `now`): nothing is formatted twice.
            let success = Destination {
                app_id: target.app_id.to_owned(),
                endpoint_id: target.endpoint_id.to_owned(),
                msg_id: d.message_id.clone(),
                status: MessageStatus::Success,
                attempts: attempt,
                next_attempt: None,
                updated_at: last.timestamp.clone(),
                last_attempt: Some(last),
                failing_sent: false,
            };
            tokio::join!(
                write_attempt,
                self.observe_health(registry, target, seen, now),
                self.write_status(registry, &success, now),
            );
            return Next::AsDecided;
        }

        // A webhook sure to go out has its `msgEventId` read alongside.
        let sure_event = event_is_certain(step, attempt) && self.emits_about(target);
        let previous = async {
            if !reads_previous(attempt) {
                return None;
            }
            match registry
                .destination(target.app_id, target.endpoint_id, &d.message_id)
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    // Without it, `recovered` is not sent: counted, and delivery goes on.
                    self.history_failed(&d.message_id, &e.to_string(), now);
                    None
                }
            }
        };
        let early_event_id = async {
            if sure_event {
                Some(
                    self.msg_event_id(registry, target, &d.message_id, now)
                        .await,
                )
            } else {
                None
            }
        };
        let ((), disabled, previous, early_event_id) = tokio::join!(
            write_attempt,
            self.observe_health(registry, target, seen, now),
            previous,
            early_event_id,
        );

        // Disabled (by this attempt or another sender): a retry would only be skipped when it
        // came back, so the message is recorded as skipped now. If that cannot be written, the
        // retry goes ahead as decided and is skipped when it comes back (or dead-lettered then,
        // if the store still does not take it: `skip_delivery`).
        if disabled && matches!(step, Step::Retry { .. }) && !target.registered {
            if let Err(e) = self
                .put_skipped(target, &d.message_id, attempt, Some(last.clone()), now)
                .await
            {
                // The dead-letter queue keeps the message; only its status is missing.
                self.history_failed(&d.message_id, &e.to_string(), now);
            }
            return Next::Disabled;
        }
        if disabled && matches!(step, Step::Retry { .. }) {
            match self
                .record_skipped(d, target, attempt, Some(last.clone()), now)
                .await
            {
                Ok(()) => return Next::Skipped,
                Err(e) => self.history_failed(&d.message_id, &e.to_string(), now),
            }
        }

        let failing_sent = previous.as_ref().is_some_and(|p| p.failing_sent);
        let (settled, event) = settle(step, attempt, failing_sent);
        let mut failing_sent = failing_sent;
        if let Some(event) = event
            && self.emits_about(target)
        {
            let event_id = match early_event_id {
                Some(id) => id,
                None => {
                    self.msg_event_id(registry, target, &d.message_id, now)
                        .await
                }
            };
            let data = target
                .subject()
                .attempt_data(&d.message_id, event_id.as_deref(), &last);
            let sent = self.emit(event, data, now).await;
            failing_sent |= sent && event == OperationalEvent::AttemptFailing;
        }
        self.write_status(registry, &status(settled, failing_sent), now)
            .await;
        Next::AsDecided
    }

    /// Writes a message's status at an endpoint after an attempt; a failure is counted.
    async fn write_status(&self, registry: &RegistryCache, d: &Destination, now: Timestamp) {
        if let Err(e) = registry.put_destination(d, now).await {
            self.history_failed(&d.msg_id, &e.to_string(), now);
        }
    }

    /// The `msgEventId` of the operational webhooks about message `msg_id` at `target`: the
    /// `eventId` the application gave it. A configured endpoint's message has no record: its id
    /// *is* the app's `id` (or, when the app gave none, the one the sender made for it, which is
    /// then the only id it has). A registered endpoint's is read from the stored message, one
    /// read, only when a webhook goes out (rarely: `failing`, `exhausted`, `recovered`). The
    /// webhook does not wait on the store: a failed read is counted and the field is null, as
    /// it is for a message stored without an `eventId`, or not stored (its write failed, and
    /// was counted then).
    async fn msg_event_id(
        &self,
        registry: &RegistryCache,
        target: &Target<'_>,
        msg_id: &str,
        now: Timestamp,
    ) -> Option<String> {
        if target.app_id == CONFIG_APP {
            return Some(msg_id.to_owned());
        }
        match registry.message(target.app_id, msg_id).await {
            Ok(found) => found.and_then(|m| m.event_id),
            Err(e) => {
                self.history_failed(msg_id, &e.to_string(), now);
                None
            }
        }
    }

    /// Counts the attempt into the endpoint's health and disables the endpoint (registered, or
    /// of the configuration) when the policy says so. True when the endpoint is disabled now (by this call or another).
    async fn observe_health(
        &self,
        registry: &RegistryCache,
        target: &Target<'_>,
        seen: Observed,
        now: Timestamp,
    ) -> bool {
        let verdict = match registry
            .observe_health(
                target.app_id,
                target.endpoint_id,
                seen,
                now,
                &self.settings.health,
            )
            .await
        {
            Ok(v) => v,
            Err(e) => {
                self.history_failed(target.endpoint_id, &e.to_string(), now);
                return false;
            }
        };
        let (fail_since, reason) = match verdict {
            Verdict::Keep => return false,
            // Disabled already (an endpoint of the configuration; another sender said so).
            Verdict::Disabled => return true,
            Verdict::Disable { fail_since, reason } => (fail_since, reason),
        };
        if !target.registered {
            // The configuration is read once per cold start, so "disabled" is kept in the
            // endpoint's health record, which every sender reads before delivering to it.
            return match registry.disable_configured(target.endpoint_id, now).await {
                Ok(flipped) => {
                    if flipped {
                        self.endpoint_disabled(registry, target, fail_since, reason, now)
                            .await;
                    }
                    // Not flipped: disabled already, by another sender (which said so).
                    true
                }
                Err(e) => {
                    self.history_failed(target.endpoint_id, &e.to_string(), now);
                    false
                }
            };
        }
        match registry
            .disable_endpoint(target.app_id, target.endpoint_id, now)
            .await
        {
            Ok(Some(_)) => {
                self.endpoint_disabled(registry, target, fail_since, reason, now)
                    .await;
                true
            }
            // Disabled already by another sender (which sent the webhook), or deleted.
            Ok(None) => true,
            Err(e) => {
                self.history_failed(target.endpoint_id, &e.to_string(), now);
                false
            }
        }
    }

    /// This sender disabled the endpoint: it stops using it at once, and says so.
    async fn endpoint_disabled(
        &self,
        registry: &RegistryCache,
        target: &Target<'_>,
        fail_since: Timestamp,
        reason: DisableReason,
        now: Timestamp,
    ) {
        self.log.event(json!({
            "level": "warn", "msg": "endpoint_disabled", "application": target.app_id,
            "endpoint": target.endpoint_id, "reason": reason.as_str(),
            "fail_since": fail_since.to_rfc3339(),
        }));
        self.log.app_metric(
            "EndpointDisabled",
            "Count",
            1.0,
            target.app_id,
            target.endpoint_id,
            now.unix_millis(),
        );
        // Other warm senders see it when their cache entry expires (`api.registry_cache`).
        registry.forget(target.app_id);
        if self.emits_about(target) {
            let data = target.subject().disabled_data(fail_since, true);
            self.emit(OperationalEvent::EndpointDisabled, data, now)
                .await;
        }
    }

    /// Whether a delivery to `endpoint` of the configuration must not be made, as the endpoint
    /// is disabled ([`RegistryCache::configured_disabled`]; without a registry nothing is
    /// ever disabled). Then it is handled here: its status at the endpoint is written as
    /// skipped (a failed write is counted: the message is not lost) and the delivery is
    /// dead-lettered as `endpoint_disabled`, where it is kept until a replay after the endpoint
    /// is enabled again. `None`: deliver. A store that does not answer does not hold up
    /// delivery (history never decides it): the failure is counted and the delivery made.
    pub(super) async fn skip_if_disabled(
        &self,
        d: &DeliveryMessage,
        endpoint: &Endpoint,
        attempt: u32,
        now: Timestamp,
    ) -> Option<Result<(), Unfinished>> {
        let registry = self.registry.as_deref()?;
        match registry.configured_disabled(&endpoint.name, now).await {
            Ok(false) => return None,
            Ok(true) => {}
            Err(e) => {
                self.history_failed(&d.message_id, &e.to_string(), now);
                return None;
            }
        }
        let target = Target::configured(endpoint);
        if let Err(e) = self
            .put_skipped(&target, &d.message_id, attempt, None, now)
            .await
        {
            self.history_failed(&d.message_id, &e.to_string(), now);
        }
        self.log.event(json!({
            "level": "info", "msg": "skipped", "message_id": d.message_id,
            "application": CONFIG_APP, "endpoint": endpoint.name,
            "reason": "endpoint disabled",
        }));
        // This receive made no attempt; each one before it may have.
        Some(
            self.dead_letter_disabled(d, None, attempt.saturating_sub(1), now)
                .await,
        )
    }

    /// Dead-letters a delivery to a disabled endpoint of the configuration, with `attempts`
    /// made (the last answering `status`).
    pub(super) async fn dead_letter_disabled(
        &self,
        d: &DeliveryMessage,
        status: Option<u16>,
        attempts: u32,
        now: Timestamp,
    ) -> Result<(), Unfinished> {
        self.log
            .metric("DeadLettered", "Count", 1.0, &d.endpoint, now.unix_millis());
        self.dead_letter(delivery_dead_letter(
            d,
            configured_disabled_error(&d.endpoint),
            status,
            attempts,
        ))
        .await
    }

    /// Records the message of `d` as skipped at `target`: the message in the store if it is
    /// not there, and its status (see [`Sender::put_skipped`]). Both must succeed before the
    /// record may be finished.
    pub(super) async fn record_skipped(
        &self,
        d: &DeliveryMessage,
        target: &Target<'_>,
        attempt: u32,
        last: Option<LastAttempt>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let Some(registry) = self.registry.as_deref() else {
            return Err(no_registry());
        };
        registry
            .remember_message(&delivery_record(d, target.app_id), now)
            .await?;
        self.put_skipped(target, &d.message_id, attempt, last, now)
            .await
    }

    /// Writes `msg_id`'s status, skipped, at `target`, for a record received `attempt` times.
    /// `last`: the attempt this record just made, when it made one (then it was attempt number
    /// `attempt`). Without one, a record received before may have made attempts: the status
    /// written then is read (one read, on this rare path) and its attempts are kept.
    pub(super) async fn put_skipped(
        &self,
        target: &Target<'_>,
        msg_id: &str,
        attempt: u32,
        last: Option<LastAttempt>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let Some(registry) = self.registry.as_deref() else {
            return Err(no_registry());
        };
        if last.is_some() {
            return self
                .put_status(target, msg_id, attempt, last, false, now)
                .await;
        }
        let previous = if attempt > 1 {
            registry
                .destination(target.app_id, target.endpoint_id, msg_id)
                .await?
        } else {
            None
        };
        match previous {
            Some(p) => {
                self.put_status(
                    target,
                    msg_id,
                    p.attempts,
                    p.last_attempt,
                    p.failing_sent,
                    now,
                )
                .await
            }
            None => self.put_status(target, msg_id, 0, None, false, now).await,
        }
    }

    async fn put_status(
        &self,
        target: &Target<'_>,
        msg_id: &str,
        attempts: u32,
        last_attempt: Option<LastAttempt>,
        failing_sent: bool,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let Some(registry) = self.registry.as_deref() else {
            return Err(no_registry());
        };
        let d = Destination {
            app_id: target.app_id.to_owned(),
            endpoint_id: target.endpoint_id.to_owned(),
            msg_id: msg_id.to_owned(),
            status: MessageStatus::Skipped,
            attempts,
            next_attempt: None,
            last_attempt,
            failing_sent,
            updated_at: now.to_rfc3339(),
        };
        registry.put_destination(&d, now).await?;
        self.log.app_metric(
            "Skipped",
            "Count",
            1.0,
            target.app_id,
            target.endpoint_id,
            now.unix_millis(),
        );
        Ok(())
    }

    /// Whether operational webhooks are sent about deliveries to `target`: never about the
    /// operational endpoints themselves (registered or configured), or they would feed on
    /// their own failures.
    pub(super) fn emits_about(&self, target: &Target<'_>) -> bool {
        target.app_id != OPERATIONAL_APP
            && !(target.app_id == CONFIG_APP
                && self
                    .settings
                    .operational_endpoints
                    .iter()
                    .any(|n| n == target.endpoint_id))
    }

    /// Puts operational event `event` on the outbound queue: as a message of
    /// [`OPERATIONAL_APP`] for the registered operational endpoints (when there are any), and
    /// as a message naming `[api] operational_endpoints` for the configured ones. One SQS call.
    /// True when it was sent (or nobody listens); a failure is logged and counted.
    async fn emit(&self, event: OperationalEvent, data: Value, now: Timestamp) -> bool {
        let message = operational_message(event, data, now);
        let mut bodies: Vec<String> = Vec::with_capacity(2);
        if self.operational_app_listens(now).await {
            bodies.push(message.to_string());
        }
        if !self.settings.operational_endpoints.is_empty() {
            let mut configured = message;
            // `operational_message` always builds an object.
            if let Some(o) = configured.as_object_mut() {
                o.remove("application");
                o.insert(
                    "endpoints".into(),
                    json!(self.settings.operational_endpoints),
                );
            }
            bodies.push(configured.to_string());
        }
        if bodies.is_empty() {
            return true;
        }
        let mut entries = Vec::with_capacity(bodies.len());
        for (i, body) in bodies.into_iter().enumerate() {
            match aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(body)
                .build()
            {
                Ok(e) => entries.push(e),
                Err(e) => return self.emit_failed(event, &e.to_string(), now),
            }
        }
        let out = self
            .sqs
            .client()
            .send_message_batch()
            .queue_url(&self.settings.queue_url)
            .set_entries(Some(entries))
            .send()
            .await;
        match out {
            Ok(o) if o.failed().is_empty() => {
                self.log.event(json!({
                    "level": "info", "msg": "operational_webhook", "type": event.event_type(),
                }));
                true
            }
            Ok(o) => {
                let errors: Vec<String> = o
                    .failed()
                    .iter()
                    .map(|f| format!("{}: {}", f.code(), f.message().unwrap_or("")))
                    .collect();
                self.emit_failed(event, &errors.join("; "), now)
            }
            Err(e) => self.emit_failed(event, &e.to_string(), now),
        }
    }

    /// Whether any operational-webhook endpoint is registered (read through the cache). When
    /// the store does not answer, the message is sent anyway: the fan-out reads again.
    async fn operational_app_listens(&self, now: Timestamp) -> bool {
        let Some(registry) = self.registry.as_deref() else {
            return false;
        };
        match registry.app(OPERATIONAL_APP, now).await {
            Ok(Some(eps)) => !eps.endpoints.is_empty(),
            Ok(None) => false,
            Err(_) => true,
        }
    }

    fn emit_failed(&self, event: OperationalEvent, error: &str, now: Timestamp) -> bool {
        self.log.event(json!({
            "level": "warn", "msg": "operational_webhook_failed", "type": event.event_type(),
            "error": error,
        }));
        self.log.metric(
            "OperationalWebhookFailed",
            "Count",
            1.0,
            "-",
            now.unix_millis(),
        );
        false
    }

    /// A history write failed: logged and counted; the delivery's outcome stands.
    pub(super) fn history_failed(&self, message_id: &str, error: &str, now: Timestamp) {
        self.log.event(json!({
            "level": "warn", "msg": "history_write_failed", "message_id": message_id, "error": error,
        }));
        self.log
            .metric("HistoryWriteFailed", "Count", 1.0, "-", now.unix_millis());
    }
}

/// The `hookline-error` of a delivery dead-lettered because endpoint `name` of the
/// configuration is disabled.
pub(super) fn configured_disabled_error(name: &str) -> String {
    format!(
        "{}: endpoint \"{name}\" was disabled after failing (re-enable it, then replay)",
        super::code::ENDPOINT_DISABLED
    )
}

/// Skipping needs a registered endpoint, and those come only from a registry: never seen.
pub(super) fn no_registry() -> StoreError {
    StoreError::Unavailable("this sender has no registry to record a skipped message in".into())
}

/// The history's record of one attempt.
fn attempt_record(
    d: &DeliveryMessage,
    target: &Target<'_>,
    attempt: u32,
    result: &Attempt,
    step: Step,
    now: Timestamp,
) -> Record {
    let response = match &result.error {
        Some(e) => e.clone(),
        None => truncate(&result.response, MAX_ATTEMPT_RESPONSE).to_owned(),
    };
    Record {
        id: attempt_id(d, attempt, now),
        app_id: target.app_id.to_owned(),
        msg_id: d.message_id.clone(),
        endpoint_id: target.endpoint_id.to_owned(),
        url: target.url.to_owned(),
        response,
        response_status_code: result.status.unwrap_or(0),
        response_duration_ms: u64::try_from(result.latency.as_millis()).unwrap_or(u64::MAX),
        status: match step {
            Step::Delivered => AttemptStatus::Success,
            Step::Retry { .. } | Step::GiveUp => AttemptStatus::Fail,
        },
        trigger: d.trigger,
        attempt,
        error_class: result.class,
        next_attempt: match step {
            Step::Retry { next } => Some(next.to_rfc3339()),
            Step::Delivered | Step::GiveUp => None,
        },
        timestamp: now.to_rfc3339(),
    }
}

/// An attempt's id: time-ordered like every API id, and the same for the same try of the same
/// delivery, so a write retried after a timeout does not record the attempt twice.
fn attempt_id(d: &DeliveryMessage, attempt: u32, now: Timestamp) -> String {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    for part in [
        d.message_id.as_bytes(),
        d.endpoint.as_bytes(),
        d.trigger.as_str().as_bytes(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.update(attempt.to_be_bytes());
    h.update(now.unix_millis().to_be_bytes());
    let digest = h.finalize();
    let mut random = [0u8; 16];
    for (r, b) in random.iter_mut().zip(digest.iter()) {
        *r = *b;
    }
    hookline_core::api::id::new_id(hookline_core::api::id::IdKind::Attempt, now, random)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEXT: Step = Step::Retry {
        next: Timestamp::from_unix_millis(1_795_435_200_000),
    };

    #[test]
    fn failing_is_sent_once_after_the_fourth_failure_that_is_retried() {
        for attempt in 1..FAILING_AFTER_ATTEMPT {
            assert_eq!(settle(NEXT, attempt, false), (MessageStatus::Pending, None));
        }
        assert_eq!(
            settle(NEXT, FAILING_AFTER_ATTEMPT, false),
            (
                MessageStatus::Pending,
                Some(OperationalEvent::AttemptFailing)
            )
        );
        // Already sent (a redelivery of the same attempt), or later attempts: not again.
        assert_eq!(
            settle(NEXT, FAILING_AFTER_ATTEMPT, true),
            (MessageStatus::Pending, None)
        );
        assert_eq!(
            settle(NEXT, FAILING_AFTER_ATTEMPT + 1, true),
            (MessageStatus::Pending, None)
        );
    }

    #[test]
    fn a_success_after_failing_is_recovered_and_a_give_up_is_exhausted() {
        assert_eq!(
            settle(Step::Delivered, 1, false),
            (MessageStatus::Success, None)
        );
        assert_eq!(
            settle(Step::Delivered, FAILING_AFTER_ATTEMPT + 1, true),
            (
                MessageStatus::Success,
                Some(OperationalEvent::AttemptRecovered)
            )
        );
        // A 4th attempt that gives up is exhausted, not failing.
        for attempt in [1, FAILING_AFTER_ATTEMPT, 9] {
            assert_eq!(
                settle(Step::GiveUp, attempt, false),
                (
                    MessageStatus::Fail,
                    Some(OperationalEvent::AttemptExhausted)
                )
            );
        }
    }

    #[test]
    fn only_attempts_after_the_failing_one_read_the_previous_status() {
        // `failing_sent` is set by attempt FAILING_AFTER_ATTEMPT: no earlier attempt can find
        // it set in its own run, so none pays for the read.
        assert!(!(1..=FAILING_AFTER_ATTEMPT).any(reads_previous));
        assert!(reads_previous(FAILING_AFTER_ATTEMPT + 1));
    }

    #[test]
    fn exhausted_and_the_failing_attempt_are_certain_recovered_is_not() {
        for attempt in [1, FAILING_AFTER_ATTEMPT, FAILING_AFTER_ATTEMPT + 1, 9] {
            assert!(event_is_certain(Step::GiveUp, attempt), "{attempt}");
            // Whether `recovered` goes out depends on the previous status.
            assert!(!event_is_certain(Step::Delivered, attempt), "{attempt}");
        }
        assert!(event_is_certain(NEXT, FAILING_AFTER_ATTEMPT));
        for attempt in [1, FAILING_AFTER_ATTEMPT - 1, FAILING_AFTER_ATTEMPT + 1] {
            assert!(!event_is_certain(NEXT, attempt), "{attempt}");
        }
    }

    #[test]
    fn a_disabled_configured_endpoint_names_itself_and_the_way_back() {
        assert_eq!(
            configured_disabled_error("orders"),
            "endpoint_disabled: endpoint \"orders\" was disabled after failing (re-enable it, then replay)"
        );
    }

    #[test]
    fn health_sees_410_as_gone_whatever_the_retry_policy_decided() {
        assert_eq!(observed(Step::Delivered, Some(200)), Observed::Success);
        assert_eq!(observed(Step::GiveUp, Some(410)), Observed::Gone);
        assert_eq!(observed(NEXT, Some(410)), Observed::Gone);
        assert_eq!(observed(NEXT, Some(500)), Observed::Failure);
        assert_eq!(observed(Step::GiveUp, None), Observed::Failure);
    }

    #[test]
    fn a_retry_step_carries_its_due_time() {
        let now = Timestamp::from_unix_millis(1_000);
        let d = Decision::Retry {
            delay: std::time::Duration::from_millis(1_500),
            reason: hookline_core::retry::RetryReason::Timeout,
        };
        assert_eq!(
            Step::of(&d, now),
            Step::Retry {
                next: Timestamp::from_unix_millis(2_500)
            }
        );
        assert_eq!(Step::of(&Decision::Delivered, now), Step::Delivered);
    }
}
