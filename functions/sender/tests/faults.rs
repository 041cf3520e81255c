//! Fault injection with accounting: events go through each path while faults are injected, then
//! every event is counted. Whatever hookline acknowledged must be delivered or dead-lettered with
//! its reason; duplicates are allowed (at least once, under a stable id) and counted; losses must
//! be zero. Each test prints one `FAULTS {...}` line with its figures (and appends it to
//! `$HOOKLINE_FAULTS_JSON` when set); `HOOKLINE_FAULT_EVENTS` scales the number of events (the
//! defaults keep each test under a minute).
//!
//! - outbound, in process: endpoints answering 500, 429 with `Retry-After`, hanging past the
//!   timeout and resetting connections (the sink's `/chaos/` path), while SQS becomes unreachable
//!   for a while (a proxy in front of moto resets every connection); the delivery history is
//!   accounted too (every attempt recorded, each pair's status where it ended), also with a
//!   history store that fails writes at random (every missing attempt counted);
//! - outbound, the real bootstrap as a Lambda process fed through the Runtime API, killed with
//!   SIGKILL in the middle of batches and restarted;
//! - inbound, the Worker in workerd with its Cloudflare Queue send failing (before and after the
//!   message is taken) and slow, and the SQS server the consumer forwards to stopped and restarted.
//!
//! `hookline dev` killed with `kill -9` mid-delivery is in `cli/tests/cli/faults.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::types::QueueAttributeName;
use hookline_api::hooked::{Call, Hook, Hooked};
use hookline_api::memory::MemoryStore;
use hookline_api::{Kind, Registry, Store, StoreError};
use hookline_core::api::history::{CONFIG_APP, MessageStatus};
use hookline_core::api::model::{Attempt, AttemptStatus};
use hookline_core::config::Config;
use hookline_core::envelope::InboundEnvelope;
use hookline_core::verify::SchemeKind;
use hookline_sender::local::LocalEventSource;
use hookline_sender::observe::Logger;
use hookline_sender::registry::RegistryCache;
use hookline_sender::{Sender, Settings, SystemClock, dlq_attr};
use hookline_tests::faults::{FaultProxy, LambdaRuntime, Ledger, fault_events, settle_time};
use hookline_tests::harness::{
    Moto, ReceiverBuild, Sink, Workerd, delete, fresh_queue, queue_counts, queue_with_dlq,
    receive_batch, sqs_client,
};
use hookline_tests::leaks::Needles;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncBufReadExt as _, BufReader};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What the sink's `/chaos/` path does to `attempt` of `id` (the same rule as `chaos_plan` in
/// tests/harness/sink.py): the number of failing attempts, and the kind of each.
fn chaos_failures(id: &str) -> u32 {
    h(id) % 6
}

fn h(x: &str) -> u32 {
    let d = Sha256::digest(x.as_bytes());
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

fn chaos_fault(id: &str, attempt: u32) -> &'static str {
    ["500", "429", "hang", "reset"][(h(&format!("{id}/{attempt}")) % 4) as usize]
}

async fn set_visibility(sqs: &aws_sdk_sqs::Client, queue: &str, secs: u32) {
    sqs.set_queue_attributes()
        .queue_url(queue)
        .attributes(QueueAttributeName::VisibilityTimeout, secs.to_string())
        .send()
        .await
        .unwrap();
}

/// Sends `bodies` to `queue` in batches within SQS's limits (the same batcher the sender uses).
async fn enqueue(sqs: &aws_sdk_sqs::Client, queue: &str, bodies: &[Value]) {
    use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
    use hookline_sqs::{BatchLimits, batches};
    let texts: Vec<String> = bodies.iter().map(Value::to_string).collect();
    let sizes: Vec<usize> = texts.iter().map(String::len).collect();
    for range in batches(&sizes, BatchLimits::default()) {
        let chunk = &texts[range];
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, b)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(b.to_string())
                    .build()
                    .unwrap()
            })
            .collect();
        let out = sqs
            .send_message_batch()
            .queue_url(queue)
            .set_entries(Some(entries))
            .send()
            .await
            .unwrap();
        assert!(out.failed().is_empty(), "{:?}", out.failed());
    }
}

/// Receives and deletes everything on the dead-letter queue, into the ledger (keys
/// `message_id@endpoint`, reason from the `hookline-error` attribute).
async fn drain_dlq(sqs: &aws_sdk_sqs::Client, dlq: &str, ledger: &mut Ledger) -> usize {
    let mut n = 0;
    loop {
        let messages = receive_batch(sqs, dlq).await;
        if messages.is_empty() {
            return n;
        }
        for m in &messages {
            let body: Value = serde_json::from_str(m.body().unwrap_or("")).unwrap_or(Value::Null);
            let key = format!(
                "{}@{}",
                body["message_id"].as_str().unwrap_or("?"),
                body["endpoint"].as_str().unwrap_or("?")
            );
            let reason = m
                .message_attributes()
                .and_then(|a| a.get(dlq_attr::ERROR))
                .and_then(|v| v.string_value())
                .unwrap_or("(no reason: moved by the redrive policy)")
                .to_owned();
            ledger.dead_lettered.entry(key).or_default().push(reason);
            delete(sqs, dlq, m).await;
            n += 1;
        }
    }
}

/// The sink's successful deliveries into the ledger (keys `webhook_id@endpoint`), checking that
/// every request the sink saw carried a valid signature. Returns the signatures seen.
fn count_deliveries(sink: &Sink, endpoints: &[(&str, &str)], ledger: &mut Ledger) -> Vec<String> {
    ledger.delivered.clear();
    let mut signatures = Vec::new();
    for d in sink.deliveries() {
        let path = d["path"].as_str().unwrap_or("");
        let Some((name, _)) = endpoints.iter().find(|(_, p)| path.starts_with(p)) else {
            panic!("a request to an unknown path: {d}");
        };
        assert_eq!(d["signature_valid"], true, "{d}");
        if let Some(s) = d["headers"]["webhook-signature"].as_str() {
            signatures.push(s.to_owned());
        }
        let ok = d["response_status"]
            .as_u64()
            .is_some_and(|s| (200..300).contains(&s));
        if ok {
            let key = format!("{}@{name}", d["webhook_id"].as_str().unwrap_or("?"));
            *ledger.delivered.entry(key).or_default() += 1;
        }
    }
    signatures
}

/// Drains the dead-letter queue and counts the sink's deliveries until every acked pair is in
/// one of them and the queue is empty, or panics after `within`.
async fn settle(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    dlq: &str,
    sink: &Sink,
    endpoints: &[(&str, &str)],
    ledger: &mut Ledger,
    within: Duration,
) {
    let deadline = Instant::now() + within;
    loop {
        drain_dlq(sqs, dlq, ledger).await;
        count_deliveries(sink, endpoints, ledger);
        if ledger.lost().is_empty() && queue_counts(sqs, queue).await.total() == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not settled: {} pending\n{}",
            ledger.lost().len(),
            ledger.report()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

// ---- outbound, in process ---------------------------------------------------------------------

/// The in-process sender of a fault test: `config`'s endpoints, signed with the sink's secret,
/// their history in `history`; with the log lines it writes.
fn fault_sender(
    config: &Config,
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    dlq: &str,
    history: Arc<dyn Store>,
) -> (Sender, Arc<Mutex<Vec<String>>>) {
    let settings = Settings::from_config(config, queue.to_owned(), dlq.to_owned(), |name| {
        (name == "SINK_WHSEC").then(|| SECRET.to_owned())
    })
    .unwrap();
    let (log, logs) = Logger::capture();
    let sender = Sender::new(settings, sqs.clone(), log)
        .unwrap()
        .with_registry(RegistryCache::new(
            history,
            config.api.registry_cache,
            config.api.retention,
            config.delivery.clone(),
        ));
    (sender, logs)
}

/// `count` pollers handing `queue`'s batches to `sender`, as Lambda's event source mapping
/// does, until `stop`; a poll that fails is counted in `errors` and retried after 200 ms.
fn spawn_pollers(
    sender: &Sender,
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    count: usize,
    stop: &Arc<std::sync::atomic::AtomicBool>,
    errors: &Arc<std::sync::atomic::AtomicU64>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..count)
        .map(|_| {
            let (sender, stop, errors) = (sender.clone(), Arc::clone(stop), Arc::clone(errors));
            let source = LocalEventSource::new(sqs.clone(), queue.to_owned(), 10, 1);
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let sender = &sender;
                    let r = source
                        .poll_once(|event: SqsEvent| async move {
                            Ok::<SqsBatchResponse, std::convert::Infallible>(
                                sender.handle(event, &SystemClock).await,
                            )
                        })
                        .await;
                    if r.is_err() {
                        errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbound_endpoint_faults_and_an_sqs_outage_lose_nothing() {
    let n = fault_events(120);
    let moto = Moto::start();
    let direct = sqs_client(&moto.endpoint).await;
    let proxy = FaultProxy::start(&moto.endpoint).await;
    let sqs = sqs_client(&proxy.endpoint).await;
    let (queue, dlq) = queue_with_dlq(&direct, "faults-out", 50).await;
    // Lambda's advice: at least six times the function's timeout (here about a second).
    set_visibility(&direct, &queue, 6).await;
    let sink = Sink::start(&[SECRET]);
    // Every event goes to `chaos`; one in three also to `steady`, so fan-out is exercised.
    let endpoints = [("chaos", "/chaos/c"), ("steady", "/ok/s")];
    let toml = format!(
        r#"[delivery]
timeout = "1s"
ssrf_allow = ["127.0.0.0/8"]
[delivery.retry]
schedule = ["1s", "1s", "1s", "1s"]
jitter = 0.0

[endpoints.chaos]
url = "{}"
secrets = ["env:SINK_WHSEC"]

[endpoints.steady]
url = "{}"
secrets = ["env:SINK_WHSEC"]
events = ["both.*"]
"#,
        sink.url("/chaos/c"),
        sink.url("/ok/s")
    );
    let config = Config::from_toml(&toml).unwrap();
    // The configured endpoints' history is recorded under `_config`, as with the API's table.
    let history = Arc::new(MemoryStore::new(hookline_tests::now));
    let (sender, logs) = fault_sender(&config, &sqs, &queue, &dlq, history.clone());

    let mut ledger = Ledger::new("outbound: endpoint faults + SQS unreachable");
    let mut bodies = Vec::new();
    for i in 0..n {
        let id = format!("evt_out_{i:04}");
        let kind = if i.is_multiple_of(3) {
            "both.created"
        } else {
            "one.created"
        };
        bodies.push(json!({"id": id, "type": kind, "data": {"i": i}}));
        ledger.acked.push(format!("{id}@chaos"));
        if i.is_multiple_of(3) {
            ledger.acked.push(format!("{id}@steady"));
        }
        // What the sink will do, to report the faults injected.
        let fails = chaos_failures(&id).min(5);
        for k in 1..=fails {
            ledger.fault(&format!("endpoint {}", chaos_fault(&id, k)));
        }
    }
    ledger.injected = ledger.acked.len();
    // Enqueued directly: on SQS, the messages are acked for the sender.
    enqueue(&direct, &queue, &bodies).await;

    // Three pollers, as Lambda runs several batches at once.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poll_errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let pollers = spawn_pollers(&sender, &sqs, &queue, 3, &stop, &poll_errors);

    // SQS goes away for a while once deliveries are under way.
    let started = Instant::now();
    while sink.deliveries().len() < n / 3 {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    proxy.set_up(false);
    ledger.fault("SQS unreachable (4 s)");
    tokio::time::sleep(Duration::from_secs(4)).await;
    proxy.set_up(true);

    // Until every pair is delivered or dead-lettered and the queue is empty.
    settle(
        &direct,
        &queue,
        &dlq,
        &sink,
        &endpoints,
        &mut ledger,
        settle_time(n, 150),
    )
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for p in pollers {
        p.await.unwrap();
    }
    let signatures = count_deliveries(&sink, &endpoints, &mut ledger);
    ledger
        .notes
        .insert("SQS connections reset".into(), json!(proxy.refused()));
    ledger.notes.insert(
        "failed polls".into(),
        json!(poll_errors.load(std::sync::atomic::Ordering::Relaxed)),
    );

    // Where each id was planned to end: dead-lettered as `exhausted` when the sink fails all five
    // of its attempts, delivered otherwise. Two things move an id off its plan, both allowed and
    // counted: the attempt number is the message's receive count, as on Lambda, so a receive
    // whose answer the outage cut off spends an attempt the sink never saw (dead-lettered early);
    // and a batch slower than the visibility timeout (moto under load) is received again while
    // still running, so the sink counts attempts from two runs (delivered past its plan). What
    // may not happen: a dead letter without the `exhausted` reason, or an id in neither place.
    let (mut early, mut past_plan) = (0, 0);
    for i in 0..n {
        let id = format!("evt_out_{i:04}");
        let key = format!("{id}@chaos");
        let delivered = ledger.delivered.contains_key(&key);
        if let Some(reasons) = ledger.dead_lettered.get(&key) {
            assert!(
                reasons.iter().all(|r| r.starts_with("exhausted")),
                "{key}: {reasons:?}"
            );
        }
        match (chaos_failures(&id) >= 5, delivered) {
            (true, true) => past_plan += 1,
            (false, false) => early += 1,
            _ => {}
        }
        if i.is_multiple_of(3) {
            let steady = format!("{id}@steady");
            assert!(
                ledger.delivered.contains_key(&steady)
                    || ledger.dead_lettered.contains_key(&steady),
                "{steady}"
            );
        }
    }
    ledger.notes.insert(
        "dead-lettered before the planned attempts (receives lost in the outage)".into(),
        json!(early),
    );
    ledger.notes.insert(
        "delivered past the planned failures (overlapping redeliveries)".into(),
        json!(past_plan),
    );
    let lines = logs.lock().unwrap().clone();
    let figures = account_history(&history, &endpoints, &ledger, &lines, None).await;
    ledger.notes.insert("history".into(), figures);
    let report = ledger.finish();
    assert!(report["dead_lettered"].as_u64().unwrap() > 0);

    // Nothing secret in what the sender logged.
    let mut needles = Needles::new().secret(SECRET);
    for s in &signatures {
        needles = needles.signature(s);
    }
    needles.assert_clean("sender (in process)", &lines);
}

// ---- the delivery history's accounting --------------------------------------------------------

/// A hook that fails the history writes (not the registry's) whose kind, key and document hash
/// into `per_1000` of every 1000, always the same ones for the same write. The error names the
/// write (`injected: <op> <Kind>`), and the attempts it kept out are noted with their status, so
/// that every missing attempt can be accounted for.
struct FaultyHistory {
    per_1000: u32,
    injected: Mutex<BTreeMap<String, usize>>,
    /// Attempt id → whether it was a success, for attempts one of whose writes failed.
    lost_attempts: Mutex<BTreeMap<String, bool>>,
}

impl FaultyHistory {
    fn new(per_1000: u32) -> Self {
        Self {
            per_1000,
            injected: Mutex::default(),
            lost_attempts: Mutex::default(),
        }
    }
}

impl Hook for FaultyHistory {
    async fn before(&self, call: &Call<'_>) -> Result<(), StoreError> {
        // Reads are never failed.
        if !call.op.is_write() {
            return Ok(());
        }
        let Call {
            kind, parent, id, ..
        } = *call;
        let op = call.op.as_str();
        // A delete has no document: it hashes as an empty one.
        let doc = call.doc.unwrap_or("");
        if matches!(kind, Kind::Application | Kind::Endpoint)
            || h(&format!("{op}|{kind:?}|{parent}|{id}|{doc}")) % 1000 >= self.per_1000
        {
            return Ok(());
        }
        let what = format!("{op} {kind:?}");
        *self
            .injected
            .lock()
            .unwrap()
            .entry(what.clone())
            .or_default() += 1;
        if matches!(kind, Kind::AttemptByMessage | Kind::AttemptByEndpoint) {
            let a: Attempt = serde_json::from_str(doc).unwrap();
            self.lost_attempts
                .lock()
                .unwrap()
                .insert(a.id, a.status == AttemptStatus::Success);
        }
        Err(StoreError::Unavailable(format!("injected: {what}")))
    }
}

/// Every record of `kind` under `parent`, page by page.
async fn list_all<T: serde::de::DeserializeOwned>(
    store: &MemoryStore,
    kind: Kind,
    parent: &str,
) -> Vec<T> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list(kind, parent, after.as_deref(), 250)
            .await
            .unwrap();
        let full = page.len() == 250;
        for item in page {
            out.push(serde_json::from_str(&item.doc).unwrap());
            after = Some(item.id);
        }
        if !full {
            return out;
        }
    }
}

/// Accounts for the history of the configured `endpoints` (recorded under `_config`) against
/// where each acked pair ended and what the sender logged, and returns the figures for the
/// report. An attempt is recorded when both its records are (under its message and under its
/// endpoint); the attempts made are the sender's `delivery_attempt` lines.
///
/// Always: every attempt made is recorded, or counted as a failed history write; the sink's
/// deliveries (2xx) are the success attempts recorded, the shortfall being `HistoryWriteFailed`.
/// With a store that never fails (`faulty` is `None`), also per pair: a delivered one has a
/// success attempt and its status is success; a dead-lettered one has failed attempts only, its
/// status is fail and names the last of them. A pair both delivered and dead-lettered
/// (overlapping redeliveries, allowed) ends with whichever run wrote last.
async fn account_history(
    store: &Arc<MemoryStore>,
    endpoints: &[(&str, &str)],
    ledger: &Ledger,
    lines: &[String],
    faulty: Option<&FaultyHistory>,
) -> Value {
    let logs: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let made = logs
        .iter()
        .filter(|v| v["msg"] == "delivery_attempt")
        .count();
    let history_write_failed = logs
        .iter()
        .filter(|v| v.get("HistoryWriteFailed").is_some())
        .count();
    // The failed writes that were an attempt's (the store's error names the kind).
    let attempt_write_failed = logs
        .iter()
        .filter(|v| {
            v["msg"] == "history_write_failed" && v["error"].as_str().unwrap().contains("AttemptBy")
        })
        .count();
    let registry = Registry::new(store.clone());

    let mut by_endpoint = std::collections::HashSet::new();
    for (name, _) in endpoints {
        let listed: Vec<Attempt> = list_all(
            store,
            Kind::AttemptByEndpoint,
            &format!("{CONFIG_APP}/{name}"),
        )
        .await;
        by_endpoint.extend(listed.into_iter().map(|a| a.id));
    }
    let (mut recorded, mut success_recorded, mut only_under_message) = (0, 0, 0);
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for key in &ledger.acked {
        let (id, endpoint) = key.split_once('@').unwrap();
        let listed: Vec<Attempt> =
            list_all(store, Kind::AttemptByMessage, &format!("{CONFIG_APP}/{id}")).await;
        let mut attempts = Vec::new();
        for a in listed.into_iter().filter(|a| a.endpoint_id == endpoint) {
            if by_endpoint.contains(&a.id) {
                attempts.push(a);
            } else {
                only_under_message += 1;
            }
        }
        recorded += attempts.len();
        let successes = attempts
            .iter()
            .filter(|a| a.status == AttemptStatus::Success)
            .count();
        success_recorded += successes;
        let dest = registry
            .destination(CONFIG_APP, endpoint, id)
            .await
            .unwrap();
        *statuses
            .entry(
                dest.as_ref()
                    .map_or("none".into(), |d| format!("{:?}", d.status)),
            )
            .or_default() += 1;
        if faulty.is_some() {
            continue;
        }
        let delivered = ledger.delivered.contains_key(key);
        let dead = ledger.dead_lettered.contains_key(key);
        let dest = dest.unwrap_or_else(|| panic!("{key}: no status; attempts {attempts:#?}"));
        match (delivered, dead) {
            (true, false) => {
                assert!(
                    successes > 0,
                    "{key}: delivered, no success attempt: {attempts:#?}"
                );
                assert_eq!(dest.status, MessageStatus::Success, "{key}: {dest:?}");
            }
            (false, true) => {
                assert_eq!(successes, 0, "{key}: dead-lettered: {attempts:#?}");
                assert!(
                    !attempts.is_empty(),
                    "{key}: dead-lettered, no attempt recorded"
                );
                assert_eq!(dest.status, MessageStatus::Fail, "{key}: {dest:?}");
                let last = dest.last_attempt.as_ref().unwrap();
                let made_last = attempts.iter().find(|a| a.id == last.id);
                assert!(made_last.is_some(), "{key}: {dest:?} not in {attempts:#?}");
                let highest = attempts.iter().map(|a| a.attempt).max().unwrap();
                assert_eq!(dest.attempts, highest, "{key}: {dest:?}");
            }
            (true, true) => {
                assert!(
                    successes > 0,
                    "{key}: delivered, no success attempt: {attempts:#?}"
                );
                assert!(
                    matches!(dest.status, MessageStatus::Success | MessageStatus::Fail),
                    "{key}: {dest:?}"
                );
            }
            (false, false) => panic!("{key}: lost (the ledger says so too)"),
        }
    }
    let sink: usize = ledger.delivered.values().sum();
    let figures = json!({
        "attempts made": made,
        "attempts recorded": recorded,
        "attempts recorded under their message only": only_under_message,
        "success attempts recorded": success_recorded,
        "sink deliveries (2xx)": sink,
        "HistoryWriteFailed": history_write_failed,
        "HistoryWriteFailed (attempts)": attempt_write_failed,
        "statuses": statuses,
        "injected": faulty.map(|f| json!(*f.injected.lock().unwrap())),
    });
    assert_eq!(
        recorded + attempt_write_failed,
        made,
        "every attempt made is recorded or counted: {figures}"
    );
    match faulty {
        None => assert!(
            sink == success_recorded || sink - success_recorded == history_write_failed,
            "the sink's deliveries are the success attempts, or the shortfall is counted: {figures}"
        ),
        Some(f) => {
            let lost = f.lost_attempts.lock().unwrap();
            let lost_successes = lost.values().filter(|s| **s).count();
            assert_eq!(lost.len(), attempt_write_failed, "{figures}");
            assert_eq!(sink, success_recorded + lost_successes, "{figures}");
        }
    }
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbound_history_store_failing_at_random_changes_no_delivery_and_counts_every_loss() {
    let n = fault_events(40);
    let moto = Moto::start();
    let sqs = sqs_client(&moto.endpoint).await;
    let (queue, dlq) = queue_with_dlq(&sqs, "faults-hist", 50).await;
    set_visibility(&sqs, &queue, 6).await;
    let sink = Sink::start(&[SECRET]);
    // Every event goes to both; `flaky` fails its first n/2 requests, so about half its
    // deliveries are retried (and five attempts leave none dead-lettered).
    let flaky = format!("/fail/{}/then/200/f", n / 2);
    let endpoints = [("flaky", flaky.as_str()), ("steady", "/ok/s")];
    let toml = format!(
        r#"[delivery]
timeout = "1s"
ssrf_allow = ["127.0.0.0/8"]
[delivery.retry]
schedule = ["1s", "1s", "1s", "1s"]
jitter = 0.0

[endpoints.flaky]
url = "{}"
secrets = ["env:SINK_WHSEC"]

[endpoints.steady]
url = "{}"
secrets = ["env:SINK_WHSEC"]
"#,
        sink.url(&flaky),
        sink.url("/ok/s")
    );
    let config = Config::from_toml(&toml).unwrap();
    let history = Arc::new(MemoryStore::new(hookline_tests::now));
    // About one history write in five fails: attempts, statuses and health alike.
    let faulty = Arc::new(Hooked::new(history.clone(), FaultyHistory::new(200)));
    let (sender, logs) = fault_sender(&config, &sqs, &queue, &dlq, faulty.clone());

    let mut ledger = Ledger::new("outbound: history store failing writes at random");
    let mut bodies = Vec::new();
    for i in 0..n {
        let id = format!("evt_hist_{i:04}");
        bodies.push(json!({"id": id, "type": "order.paid", "data": {"i": i}}));
        for (name, _) in &endpoints {
            ledger.acked.push(format!("{id}@{name}"));
        }
    }
    ledger.injected = ledger.acked.len();
    enqueue(&sqs, &queue, &bodies).await;

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poll_errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let pollers = spawn_pollers(&sender, &sqs, &queue, 2, &stop, &poll_errors);
    settle(
        &sqs,
        &queue,
        &dlq,
        &sink,
        &endpoints,
        &mut ledger,
        settle_time(n, 60),
    )
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for p in pollers {
        p.await.unwrap();
    }
    count_deliveries(&sink, &endpoints, &mut ledger);
    for (what, count) in faulty.hook().injected.lock().unwrap().iter() {
        *ledger
            .faults
            .entry(format!("history {what} failed"))
            .or_default() += count;
    }
    let lines = logs.lock().unwrap().clone();
    let figures = account_history(&history, &endpoints, &ledger, &lines, Some(faulty.hook())).await;
    assert!(
        figures["HistoryWriteFailed (attempts)"].as_u64().unwrap() > 0,
        "the faults did not reach an attempt: {figures}"
    );
    ledger.notes.insert("history".into(), figures);
    let report = ledger.finish();
    // History never decides delivery: every pair arrives, none is dead-lettered.
    assert_eq!(report["dead_lettered"], 0, "{report}");
    assert_eq!(report["delivered"].as_u64().unwrap() as usize, 2 * n);
}

// ---- outbound, the bootstrap process killed mid-batch --------------------------------------------

/// The real bootstrap (`hookline-sender`), fed by `runtime`; its output lines go to `logs`, read
/// by the returned tasks until the pipes close.
fn spawn_bootstrap(
    runtime: &LambdaRuntime,
    sqs_endpoint: &str,
    queue: &str,
    dlq: &str,
    config: &Value,
    logs: &Arc<Mutex<Vec<String>>>,
) -> (tokio::process::Child, Vec<tokio::task::JoinHandle<()>>) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hookline-sender"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &runtime.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "hookline-sender")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "faults")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "faults")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_ENDPOINT_URL", sqs_endpoint)
        .env("HOOKLINE_CONFIG", config.to_string())
        .env("HOOKLINE_QUEUE_URL", queue)
        .env("HOOKLINE_DLQ_URL", dlq)
        .env("SINK_WHSEC", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut readers = Vec::new();
    for pipe in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn tokio::io::AsyncRead + Send + Unpin>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let logs = Arc::clone(logs);
        readers.push(tokio::spawn(async move {
            let mut lines = BufReader::new(pipe).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                logs.lock().unwrap().push(line);
            }
        }));
    }
    (child, readers)
}

/// SIGKILL, then wait for the process and for its output to be read to the end.
async fn kill_bootstrap(
    child: &mut tokio::process::Child,
    readers: Vec<tokio::task::JoinHandle<()>>,
) {
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    for r in readers {
        r.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbound_bootstrap_killed_mid_batch_loses_nothing() {
    let n = fault_events(150);
    let moto = Moto::start();
    let sqs = sqs_client(&moto.endpoint).await;
    let (queue, dlq) = queue_with_dlq(&sqs, "faults-kill", 50).await;
    set_visibility(&sqs, &queue, 4).await;
    let sink = Sink::start(&[SECRET]);
    // Slow enough that a batch of ten is in flight for a while.
    let endpoints = [("slow", "/slow/40/k")];
    let config = json!({
        "delivery": {
            "timeout": "2s",
            "ssrf_allow": ["127.0.0.0/8"],
            "retry": {"schedule": ["1s", "1s"], "jitter": 0.0},
        },
        "endpoints": {"slow": {"url": sink.url("/slow/40/k"), "secrets": ["env:SINK_WHSEC"]}},
    });
    let runtime = Arc::new(LambdaRuntime::start(Duration::from_secs(6)).await);
    let logs: Arc<Mutex<Vec<String>>> = Arc::default();

    let mut ledger = Ledger::new("outbound: bootstrap process killed mid-batch");
    let bodies: Vec<Value> = (0..n)
        .map(|i| json!({"id": format!("evt_kill_{i:04}"), "type": "order.paid", "data": {"i": i}}))
        .collect();
    for b in &bodies {
        ledger
            .acked
            .push(format!("{}@slow", b["id"].as_str().unwrap()));
    }
    ledger.injected = n;
    enqueue(&sqs, &queue, &bodies).await;

    // Lambda's event source mapping: poll, invoke through the Runtime API, delete the successes.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let failed_invocations = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let esm = {
        let (runtime, stop, failed) = (
            Arc::clone(&runtime),
            Arc::clone(&stop),
            Arc::clone(&failed_invocations),
        );
        let source = LocalEventSource::new(sqs.clone(), queue.clone(), 10, 1);
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let runtime = &runtime;
                let failed = &failed;
                let r = source
                    .poll_once(|event: SqsEvent| async move {
                        let payload = serde_json::to_vec(&event).unwrap();
                        match runtime.invoke(payload, Duration::from_secs(6)).await {
                            Ok(body) => serde_json::from_slice::<SqsBatchResponse>(&body)
                                .map_err(|e| e.to_string()),
                            Err(e) => {
                                failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                Err(e)
                            }
                        }
                    })
                    .await;
                if r.is_err() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        })
    };

    let (mut child, mut readers) =
        spawn_bootstrap(&runtime, &moto.endpoint, &queue, &dlq, &config, &logs);
    // Kill it three times, each time once deliveries have moved on since the last kill and while
    // the process holds a batch (polled every 10 ms: a batch of ten takes about half a second).
    let mut kills = 0;
    let mut seen = 0;
    let deadline = Instant::now() + settle_time(n, 120);
    while kills < 3 {
        assert!(Instant::now() < deadline, "no progress between kills");
        tokio::time::sleep(Duration::from_millis(10)).await;
        let now = sink.deliveries().len();
        if now >= seen + n / 6 && runtime.inflight() > 0 {
            kill_bootstrap(&mut child, std::mem::take(&mut readers)).await;
            kills += 1;
            ledger.fault("bootstrap SIGKILL");
            seen = now;
            (child, readers) =
                spawn_bootstrap(&runtime, &moto.endpoint, &queue, &dlq, &config, &logs);
        }
    }

    settle(
        &sqs,
        &queue,
        &dlq,
        &sink,
        &endpoints,
        &mut ledger,
        settle_time(n, 120),
    )
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    esm.abort();
    kill_bootstrap(&mut child, readers).await;
    let signatures = count_deliveries(&sink, &endpoints, &mut ledger);
    ledger
        .notes
        .insert("kills while a batch was in flight".into(), json!(kills));
    ledger.notes.insert(
        "failed invocations".into(),
        json!(failed_invocations.load(std::sync::atomic::Ordering::Relaxed)),
    );
    let report = ledger.finish();
    assert_eq!(
        report["dead_lettered"], 0,
        "a healthy endpoint: everything is delivered"
    );
    assert!(runtime.init_errors.lock().unwrap().is_empty());

    let mut needles = Needles::new().secret(SECRET);
    for s in &signatures {
        needles = needles.signature(s);
    }
    let lines = logs.lock().unwrap().clone();
    needles.assert_clean("sender bootstrap", &lines);
}

// ---- inbound: the Worker's queue failing and slow, SQS stopped and restarted ----------------------

const STRIPE_SECRET: &str = "whsec_faults_stripe_signing_secret_0123";

/// Signs `body` as Stripe does, now (each retry is signed afresh, as Stripe's are).
fn stripe_headers(body: &[u8]) -> Vec<(String, String)> {
    hookline_tests::sign_now(SchemeKind::Stripe, STRIPE_SECRET, "", body)
}

/// What posting one event came to: acked, the answers seen, the signature values sent.
type Posted = (bool, Vec<u16>, Vec<String>);

/// Posts one event the way a provider does: retried on anything but a 2xx, at most `tries`
/// times. Returns (acked, answers seen, signature values sent).
async fn provider_post(client: &reqwest::Client, url: &str, id: &str, tries: usize) -> Posted {
    let body = format!(
        r#"{{"id":"{id}","object":"event","type":"invoice.paid","data":{{"object":{{"id":"in_1","amount_paid":4200}}}}}}"#
    )
    .into_bytes();
    let mut answers = Vec::new();
    let mut signatures = Vec::new();
    for _ in 0..tries {
        let headers = stripe_headers(&body);
        let mut req = client
            .post(url)
            .header("content-type", "application/json")
            .body(body.clone());
        for (k, v) in &headers {
            if k.eq_ignore_ascii_case("stripe-signature") {
                signatures.push(v.clone());
            }
            req = req.header(k.as_str(), v.as_str());
        }
        let status = match req.send().await {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        };
        answers.push(status);
        if (200..300).contains(&status) {
            return (true, answers, signatures);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (false, answers, signatures)
}

/// Receives and deletes everything on `queue`, counting envelope ids into `ledger.delivered`.
async fn drain_inbound(sqs: &aws_sdk_sqs::Client, queue: &str, ledger: &mut Ledger) -> usize {
    let mut n = 0;
    loop {
        let Ok(out) = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .send()
            .await
        else {
            return n;
        };
        let messages = out.messages();
        if messages.is_empty() {
            return n;
        }
        for m in messages {
            let env = InboundEnvelope::from_json(m.body().unwrap_or("").as_bytes())
                .unwrap_or_else(|e| panic!("not an envelope ({e}): {:?}", m.body()));
            *ledger.delivered.entry(env.id).or_default() += 1;
            delete(sqs, queue, m).await;
            n += 1;
        }
    }
}

/// Drains until every acked id arrived, or panics at the deadline.
async fn drain_until_all_arrived(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    ledger: &mut Ledger,
    worker: &Workerd,
    deadline: Duration,
) {
    let until = Instant::now() + deadline;
    loop {
        drain_inbound(sqs, queue, ledger).await;
        for d in worker.dead_letters() {
            let body = d["body"].as_str().unwrap_or("");
            if let Ok(env) = InboundEnvelope::from_json(body.as_bytes()) {
                let reasons = ledger.dead_lettered.entry(env.id).or_default();
                if reasons.is_empty() {
                    reasons.push(format!("cloudflare dlq after {} attempts", d["attempts"]));
                }
            }
        }
        if ledger.nothing_lost_by(until, "acked events not in SQS", || worker.log_tail()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn inbound_queue_faults_and_an_sqs_restart_lose_nothing() {
    use futures_util::StreamExt as _;
    let n = fault_events(160);
    let port = hookline_tests::harness::free_port();
    let moto = Moto::start_on(port);
    let sqs = sqs_client(&moto.endpoint).await;
    let queue = fresh_queue(&sqs, "faults-in", &[]).await;
    // Re-created under the same name (and so URL) when SQS comes back.
    let queue_name = queue.rsplit('/').next().unwrap().to_owned();
    let vars = json!({
        "HOOKLINE_CONFIG": {"sources": {"stripe": {"scheme": "stripe", "secrets": ["env:STRIPE_SECRET"]}}},
        "STRIPE_SECRET": STRIPE_SECRET,
        "HOOKLINE_SQS_QUEUE_URL": queue,
        "HOOKLINE_SQS_OUTBOUND_URL": "",
        "HOOKLINE_SQS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "HOOKLINE_FORWARD_RETRY_BASE": "1s",
        "HOOKLINE_FORWARD_RETRY_MAX": "2s",
    });
    let plan = json!({"failBeforeEvery": 7, "failAfterEvery": 11, "slowEvery": 5, "slowMs": 300});
    let worker = Workerd::start_with(
        ReceiverBuild::Release,
        json!({"vars": vars, "consumer": true, "maxRetries": 100, "queueFaults": plan}),
    );
    let url = worker.url("/hooks/stripe");
    let client = reqwest::Client::new();
    let mut ledger = Ledger::new("inbound: queue send failing and slow, SQS stopped and restarted");
    let signatures: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut answers: BTreeMap<u16, usize> = BTreeMap::new();

    // Posts ids[range] eight at a time, as providers do, into the ledger.
    async fn phase(
        client: &reqwest::Client,
        url: &str,
        ids: Vec<String>,
        ledger: &mut Ledger,
        answers: &mut BTreeMap<u16, usize>,
        signatures: &Mutex<Vec<String>>,
    ) {
        let results: Vec<(String, Posted)> = futures_util::stream::iter(ids)
            .map(|id| async move {
                let r = provider_post(client, url, &id, 10).await;
                (id, r)
            })
            .buffer_unordered(8)
            .collect()
            .await;
        for (id, (acked, seen, sigs)) in results {
            ledger.injected += 1;
            for s in seen {
                *answers.entry(s).or_default() += 1;
            }
            signatures.lock().unwrap().extend(sigs);
            if acked {
                ledger.acked.push(id);
            }
        }
    }

    let ids: Vec<String> = (0..n).map(|i| format!("evt_in_{i:04}")).collect();
    let (first, second) = ids.split_at(n / 2);
    phase(
        &client,
        &url,
        first.to_vec(),
        &mut ledger,
        &mut answers,
        &signatures,
    )
    .await;
    drain_until_all_arrived(&sqs, &queue, &mut ledger, &worker, settle_time(n, 60)).await;
    // Let copies still on the Cloudflare Queue arrive, then stop SQS: nothing is left in it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    drain_inbound(&sqs, &queue, &mut ledger).await;
    drop(moto);
    ledger.fault("SQS server stopped");

    // SQS is down: the receiver still accepts (the Cloudflare Queue holds the events) and the
    // consumer retries them.
    phase(
        &client,
        &url,
        second.to_vec(),
        &mut ledger,
        &mut answers,
        &signatures,
    )
    .await;
    worker
        .wait_for_log("did not reach SQS", Duration::from_secs(20))
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    // SQS comes back where it was, with an empty queue of the same name.
    let moto = Moto::start_on(port);
    ledger.fault("SQS server restarted");
    let sqs = sqs_client(&moto.endpoint).await;
    sqs.create_queue()
        .queue_name(&queue_name)
        .send()
        .await
        .unwrap();
    drain_until_all_arrived(&sqs, &queue, &mut ledger, &worker, settle_time(n, 90)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    drain_inbound(&sqs, &queue, &mut ledger).await;

    let counts = worker.control("GET", "/faults", &Value::Null);
    for (k, v) in [
        ("queue send failed before sending", "failedBefore"),
        ("queue send failed after sending", "failedAfter"),
        ("queue send slowed 300 ms", "slowed"),
    ] {
        let c = counts[v].as_u64().unwrap() as usize;
        assert!(c > 0, "{v}: the plan did not fire: {counts}");
        *ledger.faults.entry(k.to_owned()).or_default() += c;
    }
    for (status, c) in &answers {
        ledger.notes.insert(format!("answers {status}"), json!(c));
    }
    // Every answer is a 200 or the 503 of a failed send: nothing else, never a 500.
    assert!(
        answers.keys().all(|s| *s == 200 || *s == 503),
        "{answers:?}"
    );
    assert_eq!(ledger.acked.len(), n, "every event acked within ten tries");
    let report = ledger.finish();
    // A send that failed after the message was taken makes the provider retry: a duplicate
    // under the same envelope id, never a loss.
    assert!(report["duplicates"].as_u64().unwrap() > 0, "{report}");

    let mut needles = Needles::new().secret(STRIPE_SECRET);
    for s in signatures.lock().unwrap().iter() {
        needles = needles.signature(s);
    }
    // Every line workerd and the Worker printed, read to the end once it stopped.
    let lines = worker.stop();
    needles.assert_clean("receiver (workerd)", &lines);
}
