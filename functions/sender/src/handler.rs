//! The Lambda's work: one `SqsEvent` in, one `SqsBatchResponse` out.
//!
//! Each record is one of two messages (`hookline_core::envelope::QueueMessage`):
//! - an **outbound message** an app enqueued: fanned out as `hookline_core::fanout::plan`
//!   decides, to the endpoints it names or to every subscribed one. With one
//!   endpoint it is delivered right away; with several, one delivery message per endpoint goes
//!   back on the queue, so each endpoint retries on its own schedule;
//! - a **delivery message**: rendered, signed and POSTed to its endpoint.
//!
//! No message is lost: a record is reported as succeeded only after a 2xx, after it was fanned
//! out, or after it was written to the dead-letter queue. A retryable failure sets the record's
//! visibility timeout to the retry policy's next delay and reports the record in
//! `batchItemFailures`, so SQS redelivers it then; `ApproximateReceiveCount` is the attempt.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use futures_util::StreamExt as _;
use hookline_core::envelope::{DeliveryMessage, OutboundMessage, QueueMessage};
use hookline_core::render::render;
use hookline_core::retry::Decision;
use hookline_core::time::Timestamp;
use hookline_sqs::{BatchLimits, batches};
use serde_json::json;

use crate::clock::Clock;
use crate::http::{Attempt, ClientError, Http, Lookup, RequestHeaders, SystemLookup};
use crate::observe::Logger;
use crate::registry::RegistryCache;
use crate::settings::{Endpoint, Settings};
use hookline_core::fanout::{self, EventData, Refusal, Unroutable};

mod apps;
mod history;

use apps::Registered;
use history::{Next, Step, Target};

/// How many records of one batch are worked on at once.
const CONCURRENCY: usize = 32;

/// The message attributes a dead-lettered message carries.
pub mod dlq_attr {
    /// The last HTTP status, when there was one.
    pub const STATUS: &str = "hookline-status";
    /// Why the message was dead-lettered (a stable code, then detail).
    pub const ERROR: &str = "hookline-error";
    /// How many delivery attempts were made.
    pub const ATTEMPTS: &str = "hookline-attempts";
    /// The endpoint, for delivery messages.
    pub const ENDPOINT: &str = "hookline-endpoint";
}

/// The codes that start a dead letter's `hookline-error` (then `: ` and detail).
pub mod code {
    /// The message is not a valid outbound or delivery message (or its `data` cannot be read).
    pub const MALFORMED: &str = "malformed";
    /// The message names an endpoint the configuration does not have.
    pub const UNKNOWN_ENDPOINT: &str = "unknown_endpoint";
    /// The endpoint's own rules refuse the event: disabled, `events`, or `filter`.
    pub const NOT_SUBSCRIBED: &str = "not_subscribed";
    /// A delivery message would be over the queue's message limit, so it cannot be enqueued.
    pub const TOO_LARGE: &str = "too_large";
    /// The message names an application the registry does not have (or the sender has no
    /// registry).
    pub const UNKNOWN_APPLICATION: &str = "unknown_application";
    /// The endpoint is disabled. A registered one's message is kept here when it could not be
    /// recorded as skipped there (the store did not take the write), so that the message's
    /// other endpoints need not wait for the store; an endpoint of the configuration's always
    /// (the store does not keep its messages). Replay once it is enabled again.
    pub const ENDPOINT_DISABLED: &str = "endpoint_disabled";
}

/// The `hookline-error` text for a named endpoint that cannot take a message.
fn unroutable_error(endpoint: &str, u: &Unroutable) -> String {
    match u {
        Unroutable::UnknownEndpoint => {
            format!(
                "{}: no endpoint named \"{endpoint}\"",
                code::UNKNOWN_ENDPOINT
            )
        }
        Unroutable::Refused(r) => {
            let code = match r {
                Refusal::UnreadableData(_) => code::MALFORMED,
                Refusal::Disabled | Refusal::NotSubscribed | Refusal::Filtered => {
                    code::NOT_SUBSCRIBED
                }
            };
            format!("{code}: endpoint \"{endpoint}\": {r}")
        }
    }
}

/// A delivery message dead-lettered with `error`.
fn delivery_dead_letter(
    d: &DeliveryMessage,
    error: String,
    status: Option<u16>,
    attempts: u32,
) -> DeadLetter<'_> {
    DeadLetter {
        body: d.to_json_string(),
        error,
        status,
        attempts,
        endpoint: Some(d.endpoint.as_str()),
    }
}

/// The `delivery_attempt` log line, one per attempt: serialised as it stands, with no `Value`
/// tree built per delivery.
#[derive(serde::Serialize)]
struct AttemptLine<'a> {
    level: &'static str,
    msg: &'static str,
    message_id: &'a str,
    endpoint: &'a str,
    event_type: &'a str,
    attempt: u32,
    status: Option<u16>,
    error: Option<&'a str>,
    outcome: &'static str,
    latency_ms: u64,
    next_delay_ms: Option<u64>,
}

/// The `fan_out` log line of a message to the configuration's endpoints.
#[derive(serde::Serialize)]
struct FanOutLine<'a> {
    level: &'static str,
    msg: &'static str,
    message_id: &'a str,
    event_type: &'a str,
    endpoints: Vec<&'a str>,
}

/// Whole milliseconds, as a log line's number (saturating: no delay or latency comes near it).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The sender: settings, an HTTP client and an SQS client, made once per cold start.
#[derive(Clone, Debug)]
pub struct Sender {
    settings: Arc<Settings>,
    http: Http,
    sqs: Sqs,
    log: Logger,
    registry: Option<Arc<RegistryCache>>,
}

/// The SQS client, or the configuration to build it from when a record first needs it.
///
/// Building an SDK client reads and parses the system's root certificates (the SDK does so
/// eagerly, to fail early), which takes milliseconds of CPU. Most records never call SQS: a
/// delivery that succeeds is deleted by the event source mapping. Only fan-out, a retry's delay
/// and the dead-letter queue do.
#[derive(Clone, Debug)]
struct Sqs {
    config: aws_sdk_sqs::Config,
    client: Arc<OnceLock<aws_sdk_sqs::Client>>,
}

impl Sqs {
    fn ready(client: aws_sdk_sqs::Client) -> Self {
        Self {
            config: client.config().clone(),
            client: Arc::new(OnceLock::from(client)),
        }
    }

    fn deferred(config: aws_sdk_sqs::Config) -> Self {
        Self {
            config,
            client: Arc::new(OnceLock::new()),
        }
    }

    fn client(&self) -> &aws_sdk_sqs::Client {
        self.client
            .get_or_init(|| aws_sdk_sqs::Client::from_conf(self.config.clone()))
    }
}

/// Why one record could not be finished now (it stays on the queue).
#[derive(Debug)]
struct Unfinished;

/// Why a message is dead-lettered.
struct DeadLetter<'a> {
    body: String,
    error: String,
    status: Option<u16>,
    attempts: u32,
    endpoint: Option<&'a str>,
}

impl Sender {
    /// Builds the sender from its parts.
    pub fn new(
        settings: Settings,
        sqs: aws_sdk_sqs::Client,
        log: Logger,
    ) -> Result<Self, ClientError> {
        Self::with_parts(settings, Sqs::ready(sqs), log, Arc::new(SystemLookup))
    }

    /// Builds the sender for a cold start: the SQS client is made from `sqs` when a record first
    /// needs it (fan-out, a retry's delay, the dead-letter queue), not before the first event.
    pub fn with_deferred_sqs(
        settings: Settings,
        sqs: aws_sdk_sqs::Config,
        log: Logger,
    ) -> Result<Self, ClientError> {
        Self::with_parts(settings, Sqs::deferred(sqs), log, Arc::new(SystemLookup))
    }

    /// As [`Sender::new`], looking endpoint host names up with `lookup` instead of the system
    /// resolver: for tests that control DNS, and embedders with their own resolver. The SSRF
    /// guard still checks every address `lookup` returns (see [`Http::with_lookup`]).
    pub fn with_lookup(
        settings: Settings,
        sqs: aws_sdk_sqs::Client,
        log: Logger,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Self, ClientError> {
        Self::with_parts(settings, Sqs::ready(sqs), log, lookup)
    }

    fn with_parts(
        settings: Settings,
        sqs: Sqs,
        log: Logger,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Self, ClientError> {
        let http = Http::with_lookup(settings.ssrf.clone(), settings.tls_roots, lookup)?;
        Ok(Self {
            settings: Arc::new(settings),
            http,
            sqs,
            log,
            registry: None,
        })
    }

    /// Also delivers messages that name an application, to the endpoints registered for it
    /// through the API, read through `registry` (cached), and records each of their attempts.
    #[must_use]
    pub fn with_registry(mut self, registry: RegistryCache) -> Self {
        self.registry = Some(Arc::new(registry));
        self
    }

    /// The registry, when the sender has one.
    pub fn registry(&self) -> Option<&RegistryCache> {
        self.registry.as_deref()
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Handles one batch: every record is finished, or named in `batch_item_failures`. `clock`
    /// gives the time and the retry jitter ([`SystemClock`] outside tests).
    ///
    /// [`SystemClock`]: crate::clock::SystemClock
    pub async fn handle(&self, event: SqsEvent, clock: &dyn Clock) -> SqsBatchResponse {
        // The stream maps indices, not `&SqsMessage`: a closure taking a reference makes the
        // stream's future not `Send` (rust-lang/rust#102211), and `hookline dev` runs the handler
        // on spawned tasks. Futures are still made lazily, CONCURRENCY at a time.
        let records = &event.records;
        let results: Vec<(usize, Result<(), Unfinished>)> =
            futures_util::stream::iter(0..records.len())
                .map(|i| self.handle_at(records, i, clock))
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
        let mut response = SqsBatchResponse::default();
        for (i, result) in results {
            if result.is_err() {
                // The id is looked up (not cloned for every record) only for a failure.
                match records.get(i).and_then(|rec| rec.message_id.clone()) {
                    Some(id) => response.add_failure(id),
                    // Without an id a failure cannot be reported; Lambda never sends one.
                    None => self
                        .log
                        .event(json!({"level": "error", "msg": "record without messageId"})),
                }
            }
        }
        response
    }

    async fn handle_at(
        &self,
        records: &[SqsMessage],
        i: usize,
        clock: &dyn Clock,
    ) -> (usize, Result<(), Unfinished>) {
        match records.get(i) {
            Some(rec) => (i, self.handle_record(rec, clock).await),
            None => (i, Ok(())),
        }
    }

    async fn handle_record(&self, rec: &SqsMessage, clock: &dyn Clock) -> Result<(), Unfinished> {
        let body = rec.body.as_deref().unwrap_or("");
        // Lambda always sets ApproximateReceiveCount. Were it missing, counting this as the
        // first attempt keeps the message retrying, and the queue's redrive policy still ends it
        // in the dead-letter queue: nothing is dropped.
        let attempt = rec
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(1);
        match QueueMessage::from_json(body.as_bytes()) {
            Err(e) => {
                // A malformed message must not poison its batch: it goes to the DLQ with the
                // reason, and the rest of the batch carries on.
                self.log.event(json!({
                    "level": "warn", "msg": "malformed_message",
                    "sqs_message_id": rec.message_id, "error": e.to_string(),
                }));
                self.dead_letter(DeadLetter {
                    body: body.to_owned(),
                    error: format!("{}: {e}", code::MALFORMED),
                    status: None,
                    attempts: attempt,
                    endpoint: None,
                })
                .await
            }
            // Boxed: the fan-out's future (its registry reads, its batch send) would otherwise
            // size every record's future, deliveries included.
            Ok(QueueMessage::Outbound(msg)) => {
                Box::pin(self.fan_out(rec, &msg, attempt, clock)).await
            }
            Ok(QueueMessage::Delivery(d)) => self.deliver(rec, &d, attempt, clock).await,
        }
    }

    async fn fan_out(
        &self,
        rec: &SqsMessage,
        msg: &OutboundMessage,
        attempt: u32,
        clock: &dyn Clock,
    ) -> Result<(), Unfinished> {
        if let Some(app) = msg.application.as_deref() {
            return self.fan_out_app(rec, msg, app, attempt, clock).await;
        }
        let message_id = fanout::message_id(msg, rec.message_id.as_deref());
        let now = clock.now();
        // Synchronous, so the lazily parsed `data` never lives across an await.
        let plan = fanout::plan(&self.settings.endpoints, msg, &message_id);
        // Why the plan dead-letters some endpoints and only counts others: see `fanout::Plan`.
        // A delivery message that names an endpoint directly is held to the same rules in
        // `deliver`, and dead-lettered there.
        for (name, reason) in &plan.not_subscribed {
            self.log.event(json!({
                "level": "info", "msg": "not_subscribed", "message_id": message_id,
                "endpoint": name, "reason": reason.to_string(),
            }));
            self.log
                .metric("NotSubscribed", "Count", 1.0, name, now.unix_millis());
        }
        for (name, why) in &plan.dead_letters {
            let d = DeliveryMessage::new(message_id.clone(), name.clone(), msg, now);
            self.dead_letter(DeadLetter {
                body: d.to_json_string(),
                error: unroutable_error(name, why),
                status: None,
                attempts: 0,
                endpoint: Some(name),
            })
            .await?;
        }
        let targets = &plan.targets;
        if self.log.enabled("info") {
            self.log.write(
                Some("info"),
                &FanOutLine {
                    level: "info",
                    msg: "fan_out",
                    message_id: &message_id,
                    event_type: &msg.event_type,
                    endpoints: targets.iter().map(|e| e.name.as_str()).collect(),
                },
            );
        }
        match targets.as_slice() {
            [] => {
                if plan.is_unrouted() {
                    self.log
                        .metric("Unrouted", "Count", 1.0, "-", now.unix_millis());
                }
                Ok(())
            }
            [only] => {
                let d = DeliveryMessage::new(message_id, only.name.clone(), msg, now);
                self.deliver_admitted(rec, &d, only, None, attempt, clock)
                    .await
            }
            many => {
                let deliveries: Vec<DeliveryMessage> = many
                    .iter()
                    .map(|e| DeliveryMessage::new(message_id.clone(), e.name.clone(), msg, now))
                    .collect();
                self.enqueue(msg, &deliveries, now).await
            }
        }
    }

    /// Puts delivery messages on the outbound queue in batches within SQS's limits (entries and
    /// bytes, [`BatchLimits`]). A delivery over the queue's message limit could never be
    /// enqueued: it goes to the dead-letter queue as `too_large`, as an outbound message for
    /// that one endpoint, which a replay then delivers directly (one endpoint needs no
    /// delivery message).
    async fn enqueue(
        &self,
        msg: &OutboundMessage,
        deliveries: &[DeliveryMessage],
        now: Timestamp,
    ) -> Result<(), Unfinished> {
        let limits = BatchLimits::sqs(self.settings.max_message_bytes);
        let bodies: Vec<String> = deliveries
            .iter()
            .map(DeliveryMessage::to_json_string)
            .collect();
        let mut fits: Vec<(usize, &String)> = Vec::with_capacity(bodies.len());
        for (i, (d, body)) in deliveries.iter().zip(&bodies).enumerate() {
            if !limits.oversized(body.len()) {
                fits.push((i, body));
                continue;
            }
            let mut alone = msg.clone();
            alone.id = Some(d.message_id.clone());
            alone.endpoints = Some(vec![d.endpoint.clone()]);
            self.log
                .metric("DeadLettered", "Count", 1.0, &d.endpoint, now.unix_millis());
            self.dead_letter(DeadLetter {
                body: alone.to_json_string(),
                error: format!(
                    "{}: the delivery message for endpoint \"{}\" is {} bytes, over the queue's {}-byte message limit",
                    code::TOO_LARGE,
                    d.endpoint,
                    body.len(),
                    limits.max_bytes
                ),
                status: None,
                attempts: 0,
                endpoint: Some(&d.endpoint),
            })
            .await?;
        }
        let sizes: Vec<usize> = fits.iter().map(|(_, b)| b.len()).collect();
        for range in batches(&sizes, limits) {
            let mut entries = Vec::with_capacity(range.len());
            // `batches` returns ranges over `sizes`, one per item of `fits`: always in bounds.
            for (i, body) in fits.get(range).unwrap_or_default() {
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(*body)
                    .build();
                match entry {
                    Ok(entry) => entries.push(entry),
                    Err(e) => {
                        // Id and body are both set, so the builder has nothing to refuse; if it
                        // ever does, the message stays on the queue rather than losing a delivery.
                        self.log.event(json!({"level": "error", "msg": "fan_out_failed", "error": e.to_string()}));
                        return Err(Unfinished);
                    }
                }
            }
            let out = self
                .sqs
                .client()
                .send_message_batch()
                .queue_url(&self.settings.queue_url)
                .set_entries(Some(entries))
                .send();
            // Boxed, as every SDK call here: its future is several KB, and inline it would size
            // every record's future (moved as the batch starts it) for the rare path.
            let out = Box::pin(out).await;
            match out {
                Ok(o) if o.failed().is_empty() => {}
                Ok(o) => {
                    // Redelivering the whole message re-sends deliveries that did go out: at
                    // least once, with a stable webhook-id for endpoints to deduplicate on.
                    self.log.event(json!({
                        "level": "warn", "msg": "fan_out_partial", "failed": o.failed().len(),
                        "errors": o.failed().iter().map(|f| format!("{}: {}", f.code(), f.message().unwrap_or(""))).collect::<Vec<_>>(),
                    }));
                    return Err(Unfinished);
                }
                Err(e) => {
                    self.log.event(
                        json!({"level": "warn", "msg": "fan_out_failed", "error": e.to_string()}),
                    );
                    return Err(Unfinished);
                }
            }
        }
        Ok(())
    }

    /// Delivers a delivery message read from the queue: the endpoint's rules are checked again
    /// here, since anyone who can write to the queue can write a delivery message.
    async fn deliver(
        &self,
        rec: &SqsMessage,
        d: &DeliveryMessage,
        attempt: u32,
        clock: &dyn Clock,
    ) -> Result<(), Unfinished> {
        if let Some(app) = d.application.as_deref() {
            return self.deliver_app(rec, d, app, attempt, clock).await;
        }
        let admitted = fanout::admit(
            &self.settings.endpoints,
            &d.endpoint,
            &d.event_type,
            &d.message_id,
            &EventData::new(&d.data),
        );
        let endpoint = match admitted {
            Ok(endpoint) => endpoint,
            Err(why) => {
                if matches!(why, Unroutable::Refused(_)) {
                    self.log.metric(
                        "DeadLettered",
                        "Count",
                        1.0,
                        &d.endpoint,
                        clock.now().unix_millis(),
                    );
                }
                return self
                    .dead_letter(delivery_dead_letter(
                        d,
                        unroutable_error(&d.endpoint, &why),
                        None,
                        attempt,
                    ))
                    .await;
            }
        };
        self.deliver_admitted(rec, d, endpoint, None, attempt, clock)
            .await
    }

    /// Renders, signs and POSTs a delivery whose endpoint has admitted it (`reg`: the
    /// registered endpoint it is, `None` for an endpoint of the configuration), then writes the
    /// attempt's history and acts on the endpoint's health.
    async fn deliver_admitted(
        &self,
        rec: &SqsMessage,
        d: &DeliveryMessage,
        endpoint: &Endpoint,
        reg: Option<Registered<'_>>,
        attempt: u32,
        clock: &dyn Clock,
    ) -> Result<(), Unfinished> {
        let now = clock.now();
        // A registered endpoint's `disabled` was checked with its record; a configured one's
        // is kept in its health, read here (through the cache) before anything is sent.
        if reg.is_none()
            && let Some(done) = self.skip_if_disabled(d, endpoint, attempt, now).await
        {
            return done;
        }
        let target = match reg {
            Some(r) => Target::registered(r),
            None => Target::configured(endpoint),
        };
        let rendered = match render(&endpoint.format, d) {
            Ok(r) => r,
            Err(e) => {
                return self
                    .unsent(d, &target, attempt, format!("render: {e}"), now)
                    .await;
            }
        };
        // Converted as they are added: the configured headers copied, the content type and the
        // signature headers without a copy.
        let mut headers = RequestHeaders::with_capacity(endpoint.headers.len() + 4);
        for (name, value) in &endpoint.headers {
            headers.push(name, value);
        }
        headers.push_static("content-type", rendered.content_type);
        if let Some(signer) = &endpoint.signer {
            let none = hookline_core::headers::Headers::new();
            let req = hookline_core::verify::Request::post(&endpoint.url, &none, &rendered.body);
            // Refused ids (with a `.`) are refused at decode; a signing error still dead-letters.
            match signer.sign(&req, &d.message_id, now) {
                Ok(h) => {
                    for (name, value) in h {
                        headers.push_owned(&name, value);
                    }
                }
                Err(e) => {
                    return self
                        .unsent(d, &target, attempt, format!("sign: {e}"), now)
                        .await;
                }
            }
        }
        let result = self
            .http
            .post_with(&endpoint.url, headers, rendered.body, endpoint.timeout, now)
            .await;
        let decision = endpoint
            .retry
            .decide(attempt, &result.outcome, clock.jitter());
        self.log_attempt(d, attempt, &result, &decision);
        let step = Step::of(&decision, now);
        let next = self
            .after_attempt(d, &target, attempt, &result, step, now)
            .await;
        let metric = |name: &str, unit: &str, value: f64| {
            self.log.app_metric(
                name,
                unit,
                value,
                target.app_id,
                target.endpoint_id,
                now.unix_millis(),
            );
        };
        if decision != Decision::Delivered {
            metric("Failed", "Count", 1.0);
        }
        match next {
            Next::AsDecided => {}
            // The endpoint is disabled: recorded as skipped (after_attempt), not retried.
            Next::Skipped => return Ok(()),
            Next::Disabled => {
                return self
                    .dead_letter_disabled(d, result.status, attempt, now)
                    .await;
            }
        }
        match decision {
            Decision::Delivered => {
                metric("Delivered", "Count", 1.0);
                metric(
                    "DeliveryLatency",
                    "Milliseconds",
                    result.latency.as_secs_f64() * 1000.0,
                );
                Ok(())
            }
            Decision::Retry { delay, .. } => {
                metric("Retried", "Count", 1.0);
                self.delay(rec, delay).await;
                Err(Unfinished)
            }
            Decision::GiveUp { reason } => {
                metric("DeadLettered", "Count", 1.0);
                let detail = result
                    .error
                    .clone()
                    .or_else(|| result.status.map(|s| format!("HTTP {s}")))
                    .unwrap_or_default();
                self.dead_letter(delivery_dead_letter(
                    d,
                    format!("{}: {detail}", reason.as_str()),
                    result.status,
                    attempt,
                ))
                .await
            }
        }
    }

    /// A delivery that could not be made (rendering or signing failed): recorded as a failed
    /// attempt of class `request`, and dead-lettered with `error`, as no retry would change it.
    async fn unsent(
        &self,
        d: &DeliveryMessage,
        target: &Target<'_>,
        attempt: u32,
        error: String,
        now: Timestamp,
    ) -> Result<(), Unfinished> {
        let result = Attempt {
            outcome: hookline_core::retry::Outcome::Blocked,
            status: None,
            error: Some(error.clone()),
            class: Some(hookline_core::api::history::ErrorClass::Request),
            response: String::new(),
            latency: Duration::ZERO,
        };
        self.after_attempt(d, target, attempt, &result, Step::GiveUp, now)
            .await;
        self.dead_letter(delivery_dead_letter(d, error, None, attempt))
            .await
    }

    fn log_attempt(&self, d: &DeliveryMessage, attempt: u32, a: &Attempt, decision: &Decision) {
        let (outcome, next_delay_ms) = match decision {
            Decision::Delivered => ("delivered", None),
            Decision::Retry { delay, .. } => ("retry", Some(millis(*delay))),
            Decision::GiveUp { .. } => ("dead_lettered", None),
        };
        let level = if outcome == "delivered" {
            "info"
        } else {
            "warn"
        };
        if !self.log.enabled(level) {
            return;
        }
        self.log.write(
            Some(level),
            &AttemptLine {
                level,
                msg: "delivery_attempt",
                message_id: &d.message_id,
                endpoint: &d.endpoint,
                event_type: &d.event_type,
                attempt,
                status: a.status,
                error: a.error.as_deref(),
                outcome,
                latency_ms: millis(a.latency),
                next_delay_ms,
            },
        );
    }

    /// Hides the record until its next attempt is due. If this fails the record still comes
    /// back, after the queue's own visibility timeout.
    async fn delay(&self, rec: &SqsMessage, delay: Duration) {
        let Some(receipt) = rec.receipt_handle.as_deref() else {
            return;
        };
        // SQS counts whole seconds; round up so a 1.5 s delay is not cut to 1 s.
        let secs = i32::try_from(delay.as_millis().div_ceil(1000)).unwrap_or(i32::MAX);
        let sent = self
            .sqs
            .client()
            .change_message_visibility()
            .queue_url(&self.settings.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(secs)
            .send();
        if let Err(e) = Box::pin(sent).await {
            self.log.event(
                json!({"level": "warn", "msg": "change_visibility_failed", "error": e.to_string()}),
            );
        }
    }

    /// Writes a message to the DLQ; only once that succeeds is the record finished.
    async fn dead_letter(&self, dl: DeadLetter<'_>) -> Result<(), Unfinished> {
        // The builder refuses only a missing data type, which is always set here.
        let attr = |v: String, number: bool| {
            MessageAttributeValue::builder()
                .data_type(if number { "Number" } else { "String" })
                .string_value(v)
                .build()
                .ok()
        };
        let mut req = self
            .sqs
            .client()
            .send_message()
            .queue_url(&self.settings.dlq_url)
            .message_body(if dl.body.is_empty() {
                "(empty)".to_owned()
            } else {
                dl.body
            });
        // SQS attribute values are limited to 256 KiB; an error text is kept short anyway.
        let error: String = dl.error.chars().take(1024).collect();
        for (name, value) in [
            (dlq_attr::ERROR, attr(error, false)),
            (dlq_attr::ATTEMPTS, attr(dl.attempts.to_string(), true)),
            (
                dlq_attr::STATUS,
                dl.status.and_then(|s| attr(s.to_string(), true)),
            ),
            (
                dlq_attr::ENDPOINT,
                dl.endpoint.and_then(|e| attr(e.to_owned(), false)),
            ),
        ] {
            if let Some(v) = value {
                req = req.message_attributes(name, v);
            }
        }
        match Box::pin(req.send()).await {
            Ok(_) => Ok(()),
            Err(e) => {
                self.log.event(
                    json!({"level": "error", "msg": "dead_letter_failed", "error": e.to_string()}),
                );
                Err(Unfinished)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    use hookline_core::config::Config;
    use std::sync::Arc;

    fn record(id: &str, body: &str) -> SqsMessage {
        let mut rec = SqsMessage::default();
        rec.message_id = Some(id.to_owned());
        rec.receipt_handle = Some(format!("receipt-{id}"));
        rec.body = Some(body.to_owned());
        rec
    }

    #[tokio::test]
    async fn the_sqs_client_is_built_when_a_record_first_needs_it() {
        let config = Config::from_json(
            r#"{"endpoints":{"billing":{"url":"https://billing.example.com/hooks","secrets":["literal:whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],"events":["invoice.*"]}}}"#,
        )
        .unwrap();
        let mut settings =
            Settings::from_config(&config, "q".into(), "dlq".into(), |_| None).unwrap();
        settings.tls_roots = crate::http::TlsRoots::Mozilla;
        // A closed port and no retries: the dead-letter write fails at once.
        let (log, _lines) = Logger::capture();
        let sender = Sender::with_deferred_sqs(settings, unreachable_sqs(), log).unwrap();

        // Nobody subscribes to this type: handled without SQS, so no client yet.
        let mut event = SqsEvent::default();
        event
            .records
            .push(record("1", r#"{"type":"user.created","data":{}}"#));
        assert!(
            sender
                .handle(event, &SystemClock)
                .await
                .batch_item_failures
                .is_empty()
        );
        assert!(sender.sqs.client.get().is_none());

        // A malformed message goes to the DLQ: the client is built then, and a failed write
        // leaves the record on the queue as before.
        let mut event = SqsEvent::default();
        event.records.push(record("2", "not json"));
        let response = sender.handle(event, &SystemClock).await;
        assert!(sender.sqs.client.get().is_some());
        assert_eq!(response.batch_item_failures.len(), 1);
        assert_eq!(response.batch_item_failures[0].item_identifier, "2");
    }

    /// An SQS configuration for a closed port, without retries: every call fails at once.
    fn unreachable_sqs() -> aws_sdk_sqs::Config {
        aws_sdk_sqs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url("http://127.0.0.1:9")
            .retry_config(aws_sdk_sqs::config::retry::RetryConfig::disabled())
            .build()
    }

    #[test]
    fn operational_webhooks_are_never_about_operational_endpoints() {
        let config = Config::from_toml(
            "[api]\noperational_endpoints = [\"ops\"]\n\
             [delivery.auto_disable]\nfailures = 3\nfailing_for = \"1m\"\n\
             [endpoints.ops]\nurl = \"https://ops.example.com/\"\n\
             secrets = [\"literal:whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]\n\
             [endpoints.billing]\nurl = \"https://billing.example.com/\"\n\
             secrets = [\"literal:whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]\n",
        )
        .unwrap();
        let settings = Settings::from_config(&config, "q".into(), "dlq".into(), |_| None).unwrap();
        assert_eq!(settings.operational_endpoints, ["ops"]);
        assert_eq!(
            (settings.health.failures, settings.health.failing_for),
            (3, Duration::from_secs(60))
        );
        let (log, _) = Logger::capture();
        let sender = Sender::with_deferred_sqs(settings, unreachable_sqs(), log).unwrap();
        let configured = |name: &str| {
            let e = sender.settings.endpoints.get(name).unwrap();
            sender.emits_about(&Target::configured(e))
        };
        assert!(configured("billing"));
        assert!(!configured("ops"), "a configured operational endpoint");
        let registered = |app_id: &'static str| Target {
            app_id,
            app_uid: None,
            endpoint_id: "ep_1",
            endpoint_uid: None,
            url: "https://x.example.com/",
            registered: true,
        };
        assert!(sender.emits_about(&registered("app_1")));
        assert!(!sender.emits_about(&registered(hookline_core::api::history::OPERATIONAL_APP)));
        // A registered endpoint named like a configured operational endpoint is not one.
        let mut named_ops = registered("app_1");
        named_ops.endpoint_id = "ops";
        assert!(sender.emits_about(&named_ops));
    }

    #[tokio::test]
    async fn a_fixed_clock_fixes_the_time_and_the_retry_delay() {
        // An endpoint on a closed port: every attempt is a retryable connection failure.
        let config = Config::from_toml(
            "[delivery]\nssrf_allow = [\"127.0.0.0/8\"]\n[delivery.retry]\nschedule = [\"10s\"]\njitter = 0.2\n\
             [endpoints.billing]\nurl = \"http://127.0.0.1:9/hooks\"\n\
             secrets = [\"literal:whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]\n",
        )
        .unwrap();
        let settings = Settings::from_config(&config, "q".into(), "dlq".into(), |_| None).unwrap();
        let (log, lines) = Logger::capture();
        let sender = Sender::with_deferred_sqs(settings, unreachable_sqs(), log).unwrap();
        let clock = crate::clock::FixedClock {
            now: Timestamp::from_unix_secs(1_795_435_200),
            jitter: 0.0,
        };

        let mut event = SqsEvent::default();
        event.records.push(record(
            "1",
            r#"{"type":"invoice.paid","id":"evt_1","data":{}}"#,
        ));
        let response = sender.handle(event, &clock).await;
        assert_eq!(
            response.batch_item_failures.len(),
            1,
            "retried, so not finished"
        );

        let lines: Vec<serde_json::Value> = lines
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let attempt = lines
            .iter()
            .find(|v| v["msg"] == "delivery_attempt")
            .unwrap();
        assert_eq!(attempt["outcome"], "retry");
        // 10 s less the whole 20% jitter span: the lowest sample gives exactly 8 s.
        assert_eq!(attempt["next_delay_ms"], 8000);
        let retried = lines.iter().find(|v| v.get("Retried").is_some()).unwrap();
        assert_eq!(retried["_aws"]["Timestamp"], 1_795_435_200_000_i64);
    }

    /// A hook that notes each store call (`"<op> <Kind>"`, in the order they start) and how many
    /// were in flight at once; each call takes a few milliseconds, as a network store's do.
    #[derive(Default)]
    struct Traced {
        calls: std::sync::Mutex<Vec<String>>,
        inflight: std::sync::atomic::AtomicUsize,
        peak: std::sync::atomic::AtomicUsize,
    }

    impl hookline_api::hooked::Hook for Traced {
        async fn before(
            &self,
            call: &hookline_api::hooked::Call<'_>,
        ) -> Result<(), hookline_api::StoreError> {
            use std::sync::atomic::Ordering::SeqCst;
            let n = self.inflight.fetch_add(1, SeqCst) + 1;
            self.peak.fetch_max(n, SeqCst);
            self.calls
                .lock()
                .unwrap()
                .push(format!("{} {:?}", call.op.as_str(), call.kind));
            // Every call of one `join` starts before any of them ends.
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok(())
        }

        fn after(&self, _: &hookline_api::hooked::Call<'_>) {
            self.inflight
                .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    impl Traced {
        /// The calls since the last take, and the most that were in flight at once.
        fn take(&self) -> (Vec<String>, usize) {
            let calls = std::mem::take(&mut *self.calls.lock().unwrap());
            (
                calls,
                self.peak.swap(0, std::sync::atomic::Ordering::SeqCst),
            )
        }
    }

    /// An HTTP server on loopback answering `status` to every request (one per connection).
    async fn answering(status: u16) -> u16 {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let (mut sock, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    // The sender's small bodies: the head and body arrive before it waits.
                    let mut buf = vec![0u8; 65_536];
                    let mut got = Vec::new();
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        let n = sock.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        got.extend_from_slice(&buf[..n]);
                    }
                    let answer = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                    let _ = sock.write_all(answer.as_bytes()).await;
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn history_calls_that_do_not_depend_on_each_other_are_made_at_once() {
        let (ok, bad) = (answering(204).await, answering(500).await);
        let config = Config::from_toml(&format!(
            "[delivery]\nssrf_allow = [\"127.0.0.0/8\"]\n[delivery.retry]\nschedule = [\"1s\"]\n\
             [endpoints.ok]\nurl = \"http://127.0.0.1:{ok}/\"\nevents = [\"ok.*\"]\n\
             secrets = [\"literal:whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]\n\
             [endpoints.bad]\nurl = \"http://127.0.0.1:{bad}/\"\nevents = [\"bad.*\"]\n\
             secrets = [\"literal:whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]\n"
        ))
        .unwrap();
        let settings = Settings::from_config(&config, "q".into(), "dlq".into(), |_| None).unwrap();
        let now = Timestamp::from_unix_secs(1_795_435_200);
        let store = Arc::new(hookline_api::hooked::Hooked::new(
            Arc::new(hookline_api::memory::MemoryStore::new(|| {
                Timestamp::from_unix_secs(1_795_435_200)
            })),
            Traced::default(),
        ));
        let (log, _lines) = Logger::capture();
        let sender = Sender::with_deferred_sqs(settings, unreachable_sqs(), log)
            .unwrap()
            .with_registry(RegistryCache::new(
                store.clone(),
                Duration::from_secs(30),
                Duration::from_secs(3600),
                config.delivery.clone(),
            ));
        let clock = crate::clock::FixedClock { now, jitter: 0.5 };
        let send = |n: u32, kind: &str| {
            let mut event = SqsEvent::default();
            let mut rec = record(
                &n.to_string(),
                &format!(r#"{{"type":"{kind}.x","id":"evt_{n}","data":{{}}}}"#),
            );
            rec.attributes
                .insert("ApproximateReceiveCount".into(), "1".into());
            event.records.push(rec);
            sender.handle(event, &clock)
        };
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };

        // A success at a configured endpoint not seen yet: its health is read before the POST
        // (is it disabled?), then the attempt's two writes and the status write go at once (one
        // round trip); the health, found clean, is not read again.
        assert!(send(1, "ok").await.batch_item_failures.is_empty());
        let (calls, peak) = store.hook().take();
        assert_eq!(calls[0], "get Health", "{calls:?}");
        assert_eq!(
            sorted(calls[1..].to_vec()),
            [
                "put AttemptByEndpoint",
                "put AttemptByMessage",
                "put Destination"
            ]
        );
        assert_eq!(peak, 3);

        // Another success within `api.registry_cache`: the health, clean, is not read again.
        assert!(send(2, "ok").await.batch_item_failures.is_empty());
        let (calls, peak) = store.hook().take();
        assert_eq!(
            sorted(calls),
            [
                "put AttemptByEndpoint",
                "put AttemptByMessage",
                "put Destination"
            ]
        );
        assert_eq!(peak, 3);

        // A failure at an endpoint not seen yet: its health is read before the POST, then the
        // attempt's writes and the health's read together; the health's write follows its read,
        // and the status comes last (it depends on the health).
        assert_eq!(send(3, "bad").await.batch_item_failures.len(), 1);
        let (calls, peak) = store.hook().take();
        assert_eq!(peak, 3, "{calls:?}");
        assert_eq!(calls[0], "get Health", "{calls:?}");
        assert_eq!(
            sorted(calls[1..4].to_vec()),
            [
                "get Health",
                "put AttemptByEndpoint",
                "put AttemptByMessage"
            ]
        );
        assert_eq!(calls[4..], ["swap Health", "put Destination"]);
    }
}
