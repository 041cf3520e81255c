//! Messages that name an application: fanned out to its registered endpoints, delivered to one
//! of them, or skipped at an endpoint that is disabled.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsMessage;
use hookline_core::api::model::{self, Message};
use hookline_core::envelope::{DeliveryMessage, OutboundMessage, Trigger};
use hookline_core::fanout::{self, Refusal, Unroutable};
use hookline_core::time::Timestamp;
use serde_json::json;

use super::history::{Target, no_registry};
use super::{DeadLetter, Sender, Unfinished, code, delivery_dead_letter, unroutable_error};
use crate::clock::Clock;
use crate::registry::AppEndpoints;
use crate::settings::Endpoint;

/// A registered endpoint of an application, as one delivery sees it.
#[derive(Clone, Copy)]
pub(super) struct Registered<'a> {
    /// The application.
    pub app: &'a AppEndpoints,
    /// The endpoint's record.
    pub endpoint: &'a model::Endpoint,
}

impl Sender {
    /// The application's endpoints, or why not: `Err(Ok(()))` means finished (dead-lettered),
    /// `Err(Err(Unfinished))` means the store did not answer and the record is retried.
    async fn app_endpoints(
        &self,
        app: &str,
        body: impl FnOnce() -> String,
        attempt: u32,
        endpoint: Option<&str>,
        now: Timestamp,
    ) -> Result<Arc<AppEndpoints>, Result<(), Unfinished>> {
        let found = match &self.registry {
            None => None,
            Some(registry) => match registry.app(app, now).await {
                Ok(found) => found,
                Err(e) => {
                    // The store did not answer: the record comes back and is tried again.
                    self.log.event(json!({
                        "level": "warn", "msg": "registry_unavailable", "application": app,
                        "error": e.to_string(),
                    }));
                    return Err(Err(Unfinished));
                }
            },
        };
        match found {
            Some(eps) => Ok(eps),
            None => {
                let why = if self.registry.is_none() {
                    "this sender has no registry (deploy the API's table, or drop `application`)"
                } else {
                    "no such application"
                };
                Err(self
                    .dead_letter(DeadLetter {
                        body: body(),
                        error: format!("{}: \"{app}\": {why}", code::UNKNOWN_APPLICATION),
                        status: None,
                        attempts: attempt,
                        endpoint,
                    })
                    .await)
            }
        }
    }

    /// Fans a message for an application out to its endpoints that take it (event type and
    /// channels, `hookline_core::api::model::Endpoint::takes`), or to the endpoints it names (a
    /// resend). The delivered body is the payload as sent, the `webhook-id` the message id.
    /// An endpoint that would take it but is disabled gets it recorded as skipped.
    pub(super) async fn fan_out_app(
        &self,
        rec: &SqsMessage,
        msg: &OutboundMessage,
        app: &str,
        attempt: u32,
        clock: &dyn Clock,
    ) -> Result<(), Unfinished> {
        let now = clock.now();
        let eps = match self
            .app_endpoints(app, || msg.to_json_string(), attempt, None, now)
            .await
        {
            Ok(eps) => eps,
            Err(done) => return done,
        };
        let message_id = fanout::message_id(msg, rec.message_id.as_deref());
        let mut targets: Vec<&(model::Endpoint, Endpoint)> = Vec::new();
        let mut skipped: Vec<&model::Endpoint> = Vec::new();
        match &msg.endpoints {
            // Named endpoints: each must exist and take the event type unless this is a manual
            // resend (which goes to the endpoint asked for, as Svix's does); a disabled one
            // that would take it skips it. `deliver_app` holds delivery messages to the same
            // rule.
            Some(refs) => {
                for r in refs {
                    match eps.find(r) {
                        Some(pair) if named_subscribed(&pair.0, &msg.event_type, msg.trigger) => {
                            if pair.0.disabled {
                                skipped.push(&pair.0);
                            } else {
                                targets.push(pair);
                            }
                        }
                        found => {
                            let (code, why) = match found {
                                Some(_) => (code::NOT_SUBSCRIBED, "does not take this event type"),
                                None => (code::UNKNOWN_ENDPOINT, "does not exist"),
                            };
                            let mut d =
                                DeliveryMessage::new(message_id.clone(), r.clone(), msg, now);
                            d.application = Some(eps.app_id.clone());
                            self.dead_letter(DeadLetter {
                                body: d.to_json_string(),
                                error: format!(
                                    "{code}: endpoint \"{r}\" of application \"{app}\" {why}"
                                ),
                                status: None,
                                attempts: 0,
                                endpoint: Some(r),
                            })
                            .await?;
                        }
                    }
                }
            }
            None => {
                for pair in eps.endpoints.values() {
                    if !pair.0.subscribed(&msg.event_type, msg.channels.as_deref()) {
                        continue;
                    }
                    if pair.0.disabled {
                        skipped.push(&pair.0);
                    } else {
                        targets.push(pair);
                    }
                }
            }
        }
        // A message put straight on the queue is recorded so that it and its attempts can be
        // listed; one the API minted an id for is in the store already. A message skipped
        // somewhere must be in the store whatever its id (`recover` sends it from there), so
        // then the write is not optional: without it the record stays on the queue.
        let minted =
            hookline_core::api::id::is_id(hookline_core::api::id::IdKind::Message, &message_id);
        let record = || outbound_record(msg, &eps.app_id, &message_id, now);
        let delivery = |endpoint_id: &str| {
            let mut d = DeliveryMessage::new(message_id.clone(), endpoint_id.to_owned(), msg, now);
            d.application = Some(eps.app_id.clone());
            d
        };
        if !skipped.is_empty() {
            self.store_skipped(&record(), &eps, &skipped, attempt, delivery, now)
                .await?;
        } else if attempt == 1 && !minted {
            self.remember_message(&record(), now).await;
        }
        self.log.event(json!({
            "level": "info", "msg": "fan_out", "message_id": message_id, "application": eps.app_id,
            "event_type": msg.event_type, "endpoints": targets.iter().map(|(m, _)| &m.id).collect::<Vec<_>>(),
            "skipped": skipped.iter().map(|m| &m.id).collect::<Vec<_>>(),
        }));
        match targets.as_slice() {
            [] => {
                if skipped.is_empty() {
                    self.log.app_metric(
                        "Unrouted",
                        "Count",
                        1.0,
                        &eps.app_id,
                        "-",
                        now.unix_millis(),
                    );
                }
                Ok(())
            }
            [(m, only)] => {
                let d = delivery(&only.name);
                let reg = Registered {
                    app: &eps,
                    endpoint: m,
                };
                self.deliver_admitted(rec, &d, only, Some(reg), attempt, clock)
                    .await
            }
            many => {
                let deliveries: Vec<DeliveryMessage> =
                    many.iter().map(|(_, e)| delivery(&e.name)).collect();
                self.enqueue(msg, &deliveries, now).await
            }
        }
    }

    /// Writes the message (if it is not in the store yet) and its status, skipped, at each of
    /// `skipped`. Both writes must succeed for an endpoint's skip to stand: the store is then
    /// the only place the message is kept for it (`recover` sends it from there). Where they
    /// fail, that endpoint's delivery message (made by `delivery`) goes to the dead-letter queue
    /// instead, where it is kept and can be replayed, and the fan-out goes on: a store that
    /// does not answer must not hold the message's other, enabled, endpoints. `Unfinished`
    /// only when the dead-letter queue does not take it either.
    async fn store_skipped(
        &self,
        message: &Message,
        eps: &AppEndpoints,
        skipped: &[&model::Endpoint],
        attempt: u32,
        delivery: impl Fn(&str) -> DeliveryMessage,
        now: Timestamp,
    ) -> Result<(), Unfinished> {
        // Every skip needs the message's record; without it none can be written.
        let remembered = match &self.registry {
            Some(registry) => registry
                .remember_message(message, now)
                .await
                .map_err(|e| e.to_string()),
            None => Err(no_registry().to_string()),
        };
        for m in skipped {
            let written = match &remembered {
                Ok(()) => {
                    let target = Target::registered(Registered {
                        app: eps,
                        endpoint: m,
                    });
                    self.put_skipped(&target, &message.id, attempt, None, now)
                        .await
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(e.clone()),
            };
            if let Err(e) = written {
                // Not attempted at this endpoint by this fan-out, as every fan-out dead letter.
                self.skip_unrecorded(&delivery(&m.id), &eps.app_id, 0, &e)
                    .await?;
            }
        }
        Ok(())
    }

    /// A message for a disabled endpoint (`d`) that could not be recorded as skipped there
    /// (`error`): dead-lettered as [`code::ENDPOINT_DISABLED`] with `attempts` made, and
    /// finished once the dead-letter queue has it. A replay delivers it if the endpoint was
    /// enabled since, or records it as skipped then.
    async fn skip_unrecorded(
        &self,
        d: &DeliveryMessage,
        app_id: &str,
        attempts: u32,
        error: &str,
    ) -> Result<(), Unfinished> {
        self.log.event(json!({
            "level": "warn", "msg": "skip_write_failed", "message_id": d.message_id,
            "application": app_id, "endpoint": d.endpoint, "error": error,
        }));
        self.dead_letter(delivery_dead_letter(
            d,
            format!(
                "{}: endpoint \"{}\" of application \"{app_id}\" is disabled (could not record it as skipped: {error})",
                code::ENDPOINT_DISABLED,
                d.endpoint
            ),
            None,
            attempts,
        ))
        .await
    }

    /// Delivers a delivery message bound for an application's endpoint, which must still exist
    /// and take the event type (anyone who can write to the queue can write one). At an
    /// endpoint that is disabled now (a retry, or a fan-out made before it was disabled), the
    /// message is recorded as skipped and the record finished.
    pub(super) async fn deliver_app(
        &self,
        rec: &SqsMessage,
        d: &DeliveryMessage,
        app: &str,
        attempt: u32,
        clock: &dyn Clock,
    ) -> Result<(), Unfinished> {
        let now = clock.now();
        let eps = match self
            .app_endpoints(app, || d.to_json_string(), attempt, Some(&d.endpoint), now)
            .await
        {
            Ok(eps) => eps,
            Err(done) => return done,
        };
        let why = match eps.find(&d.endpoint) {
            None => Unroutable::UnknownEndpoint,
            Some((m, e)) => {
                let reg = Registered {
                    app: &eps,
                    endpoint: m,
                };
                if named_subscribed(m, &d.event_type, d.trigger) {
                    if m.disabled {
                        return self.skip_delivery(d, reg, attempt, now).await;
                    }
                    return self
                        .deliver_admitted(rec, d, e, Some(reg), attempt, clock)
                        .await;
                }
                Unroutable::Refused(Refusal::NotSubscribed)
            }
        };
        self.log
            .metric("DeadLettered", "Count", 1.0, &d.endpoint, now.unix_millis());
        self.dead_letter(delivery_dead_letter(
            d,
            unroutable_error(&d.endpoint, &why),
            None,
            attempt,
        ))
        .await
    }

    /// Records a delivery message as skipped at its disabled endpoint and finishes it; if the
    /// store does not take the records, it is dead-lettered instead ([`Sender::skip_unrecorded`]).
    async fn skip_delivery(
        &self,
        d: &DeliveryMessage,
        reg: Registered<'_>,
        attempt: u32,
        now: Timestamp,
    ) -> Result<(), Unfinished> {
        let target = Target::registered(reg);
        match self.record_skipped(d, &target, attempt, None, now).await {
            Ok(()) => {
                self.log.event(json!({
                    "level": "info", "msg": "skipped", "message_id": d.message_id,
                    "application": target.app_id, "endpoint": target.endpoint_id,
                    "reason": "endpoint disabled",
                }));
                Ok(())
            }
            Err(e) => {
                // This receive made no attempt; each one before it may have.
                let attempts = attempt.saturating_sub(1);
                self.skip_unrecorded(d, target.app_id, attempts, &e.to_string())
                    .await
            }
        }
    }

    /// Records a message that came straight from the queue, when it is first seen; a failed
    /// write is counted and logged, and delivery goes on.
    async fn remember_message(&self, record: &Message, now: Timestamp) {
        let Some(registry) = &self.registry else {
            return;
        };
        if let Err(e) = registry.remember_message(record, now).await {
            self.history_failed(&record.id, &e.to_string(), now);
        }
    }
}

/// The store's record of an outbound message for application `app_id`.
fn outbound_record(
    msg: &OutboundMessage,
    app_id: &str,
    message_id: &str,
    now: Timestamp,
) -> Message {
    Message {
        id: message_id.to_owned(),
        app_id: app_id.to_owned(),
        event_id: msg.id.clone(),
        event_type: msg.event_type.clone(),
        payload: msg.data.clone().into_raw_value(),
        channels: msg.channels.clone(),
        timestamp: msg.timestamp.unwrap_or(now).to_rfc3339(),
        enqueued: true,
    }
}

/// The store's record of the message a delivery message carries, for when it may not be in the
/// store yet. A delivery message does not carry the message's `eventId` or channels: a record
/// written from one lacks them (one the API or the fan-out wrote is kept as it is).
pub(super) fn delivery_record(d: &DeliveryMessage, app_id: &str) -> Message {
    Message {
        id: d.message_id.clone(),
        app_id: app_id.to_owned(),
        event_id: None,
        event_type: d.event_type.clone(),
        payload: d.data.clone().into_raw_value(),
        channels: None,
        timestamp: d.timestamp.to_rfc3339(),
        enqueued: true,
    }
}

/// Whether a registered endpoint a message names would take it, enabled or not: subscribed to
/// its type unless the message is a manual resend. Channels are not checked: naming the
/// endpoint chose it.
fn named_subscribed(m: &model::Endpoint, event_type: &str, trigger: Trigger) -> bool {
    trigger == Trigger::Manual
        || m.event_types
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t == event_type))
}
