//! The cost suite: what one event costs in billed requests, counted, never assumed. Each test
//! runs a path on loopback with a moto of its own (`tests/harness/moto_server.py` counts every
//! AWS request by action) and asserts each count per event equals `infra/cost-counts.json`,
//! which `infra/cost.py` prices and `docs/cost.md` shows. Needs `tests/harness/setup.sh` and,
//! for the inbound test, the Worker's release build and node_modules (tests/run does both);
//! without them these tests fail, they never pass silently.
//!
//! - inbound: 1 KiB Stripe events through the Worker in workerd (Miniflare: its Queue and the
//!   consumer with wrangler.toml's batching), forwarded to SQS;
//! - outbound: messages on SQS through the local event source mapping (the Lambda's, batch 10)
//!   and the sender, delivered to a sink, with no history (configured endpoints, no table) and
//!   with it (an application's endpoint, the registry and history on DynamoDB).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hookline_core::headers::Headers;
use hookline_core::time::Timestamp;
use hookline_core::verify::{Request, SchemeKind};
use hookline_dynamodb::DynamoStore;
use hookline_sender::Sender;
use hookline_tests::cost::{DYNAMO_READS, DYNAMO_WRITES, Requests, assert_count, expected};
use hookline_tests::dynamo::{dynamo_client, fresh_table};
use hookline_tests::harness::{
    Moto, ReceiverBuild, Sink, Workerd, fresh_queue, poll_until, sqs_client,
};
use hookline_tests::sender_world::{SINK_SECRET, SenderWorld};
use hookline_tests::{STRIPE_SECRET, signer};
use serde_json::json;

/// Events per run: two full batches of 10 (the sender's `BatchSize` and the consumer's
/// `max_batch_size`).
const EVENTS: u64 = 20;

/// Polls the world until the sink holds `n` deliveries; returns the invocations (polls that
/// handed the sender a batch) and the messages they carried.
async fn pump(w: &SenderWorld, sink: &Sink, path: &str, n: usize) -> (u64, u64) {
    let (mut invocations, mut messages) = (0, 0);
    let until = std::time::Instant::now() + Duration::from_secs(60);
    while sink.hits(path) < n {
        assert!(
            std::time::Instant::now() < until,
            "{} of {n} delivered\n{}",
            sink.hits(path),
            w.log_text()
        );
        let stats = w.poll().await;
        assert_eq!(stats.failed, 0, "{}", w.log_text());
        if stats.received > 0 {
            invocations += 1;
            messages += stats.received as u64;
        }
    }
    (invocations, messages)
}

/// The requests the event source mapping and the sender made for `EVENTS` events: asserts the
/// counts every outbound path shares (one receive and one delete per batch, batches of 10, no
/// SQS request of the sender's own for a delivery that succeeds at once).
fn assert_outbound_sqs(used: &Requests, invocations: u64, messages: u64) {
    let context = format!("{invocations} invocations, {messages} messages; moto served {used:#?}");
    assert_eq!(messages, EVENTS, "{context}");
    assert_count(
        "outbound.messages_per_invocation",
        messages as f64 / invocations as f64,
        &context,
    );
    assert_count(
        "outbound.esm_receive_per_invocation",
        used.get("sqs.ReceiveMessage").requests as f64 / invocations as f64,
        &context,
    );
    assert_count(
        "outbound.esm_delete_per_invocation",
        used.get("sqs.DeleteMessageBatch").requests as f64 / invocations as f64,
        &context,
    );
    let sender_own =
        used.requests("sqs", &[]) - used.requests("sqs", &["ReceiveMessage", "DeleteMessageBatch"]);
    assert_count(
        "outbound.sender_sqs_requests_per_event",
        sender_own as f64 / EVENTS as f64,
        &context,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn outbound_without_history() {
    let moto = Moto::start();
    let sink = Sink::start(&[SINK_SECRET]);
    let toml = format!(
        "[delivery]\ntimeout = \"2s\"\nssrf_allow = [\"127.0.0.0/8\"]\n\
         [endpoints.billing]\nurl = \"{}/ok/billing\"\nsecrets = [\"env:SINK_WHSEC\"]\n",
        sink.base_url
    );
    let w = SenderWorld::start(&moto, "cost", &toml, |s, sqs, log| {
        Sender::new(s, sqs, log).unwrap()
    })
    .await;
    for i in 0..EVENTS {
        w.send(&json!({"type": "invoice.paid", "id": format!("evt_{i}"), "data": {"n": i}}))
            .await;
    }
    let before = Requests::read(&moto.endpoint).await;
    let (invocations, messages) = pump(&w, &sink, "/ok/billing", EVENTS as usize).await;
    let used = Requests::read(&moto.endpoint).await.since(&before);
    println!("outbound without history: {invocations} invocations; {used:#?}");
    assert_outbound_sqs(&used, invocations, messages);
    assert_count(
        "outbound.dynamodb_requests_per_event_without_history",
        used.requests("dynamodb", &[]) as f64 / EVENTS as f64,
        &format!("{used:#?}"),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn outbound_with_history() {
    let moto = Moto::start();
    let sink = Sink::start(&[SINK_SECRET]);
    let dynamo = dynamo_client(&moto.endpoint);
    let table = fresh_table(&dynamo, "cost").await;
    let store = Arc::new(DynamoStore::new(dynamo, table));
    hookline_tests::seed_application(&*store, "app_1", "acme").await;
    let ep = hookline_tests::endpoint("app_1", "ep_1", sink.url("/ok/app"), SINK_SECRET);
    hookline_tests::seed_endpoint(&*store, &ep).await;
    // The default registry cache (30 s) and retention.
    let toml = "[delivery]\ntimeout = \"2s\"\nssrf_allow = [\"127.0.0.0/8\"]\n";
    let w = SenderWorld::start_with_store(&moto, "cost", toml, store.clone()).await;
    let api_message = |i: u64| {
        json!({"type": "invoice.paid", "application": "acme",
               "id": format!("msg_{i:027}"), "data": {"n": i}})
    };

    // One message into a cold instance: the registry (the application by uid, its endpoints)
    // and the endpoint's health are read once, for the `registry_cache` window.
    w.send(&api_message(1000)).await;
    let before = Requests::read(&moto.endpoint).await;
    pump(&w, &sink, "/ok/app", 1).await;
    let used = Requests::read(&moto.endpoint).await.since(&before);
    println!("outbound with history, first message: {used:#?}");
    assert_count(
        "history.dynamodb_reads_per_cache_window",
        used.requests("dynamodb", &DYNAMO_READS) as f64,
        &format!("{used:#?}"),
    );

    // Messages as the API puts them: ids it minted, so the sender does not store the message.
    // Same instance, same window: no read.
    for i in 0..EVENTS {
        w.send(&api_message(i)).await;
    }
    let before = Requests::read(&moto.endpoint).await;
    let (invocations, messages) = pump(&w, &sink, "/ok/app", 1 + EVENTS as usize).await;
    let used = Requests::read(&moto.endpoint).await.since(&before);
    println!("outbound with history (API ids): {invocations} invocations; {used:#?}");
    let context = format!("{used:#?}");
    assert_outbound_sqs(&used, invocations, messages);
    assert_eq!(used.requests("dynamodb", &DYNAMO_READS), 0, "{context}");
    assert_count(
        "history.dynamodb_writes_per_delivery",
        used.requests("dynamodb", &DYNAMO_WRITES) as f64 / EVENTS as f64,
        &context,
    );
    assert_count(
        "history.dynamodb_write_units_per_delivery_at_most",
        used.dynamo_write_units_at_most() as f64 / EVENTS as f64,
        &context,
    );

    // Messages an app puts on the queue itself, with its own ids: the sender also stores each
    // message, on its first receive. Same instance, same cache window: no read.
    for i in 0..EVENTS {
        w.send(&json!({"type": "invoice.paid", "application": "acme",
                       "id": format!("order-{i}"), "data": {"n": i}}))
            .await;
    }
    let before = Requests::read(&moto.endpoint).await;
    let (invocations, messages) = pump(&w, &sink, "/ok/app", 1 + 2 * EVENTS as usize).await;
    let used = Requests::read(&moto.endpoint).await.since(&before);
    println!("outbound with history (app ids): {invocations} invocations; {used:#?}");
    let context = format!("{used:#?}");
    assert_outbound_sqs(&used, invocations, messages);
    assert_eq!(used.requests("dynamodb", &DYNAMO_READS), 0, "{context}");
    assert_count(
        "history.dynamodb_writes_per_delivery_app_id",
        used.requests("dynamodb", &DYNAMO_WRITES) as f64 / EVENTS as f64,
        &context,
    );
    assert_count(
        "history.dynamodb_write_units_per_delivery_app_id_at_most",
        used.dynamo_write_units_at_most() as f64 / EVENTS as f64,
        &context,
    );

    // A full batch into a cold instance: its deliveries run at once and miss the cache together.
    // Their misses of the application share one read; each success at an endpoint not yet known
    // clean reads its health, so the batch reads at most the application once and the health
    // once per delivery.
    let cold = SenderWorld::start_with_store(&moto, "cost-cold", toml, store).await;
    for i in 0..10 {
        cold.send(&api_message(2000 + i)).await;
    }
    let before = Requests::read(&moto.endpoint).await;
    pump(&cold, &sink, "/ok/app", 1 + 2 * EVENTS as usize + 10).await;
    let used = Requests::read(&moto.endpoint).await.since(&before);
    let reads = used.requests("dynamodb", &DYNAMO_READS) as f64;
    println!("outbound with history, a cold batch of 10: {reads} reads; {used:#?}");
    let window = expected("history.dynamodb_reads_per_cache_window");
    assert!(
        reads >= window && reads <= expected("history.dynamodb_reads_per_cold_batch_at_most"),
        "{reads} reads: {used:#?}"
    );
}

fn now() -> Timestamp {
    Timestamp::from_unix_secs(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    )
}

/// A 1 KiB Stripe event and the headers Stripe would send with it.
fn stripe_request(id: &str) -> (Vec<u8>, Vec<(String, String)>) {
    let mut body = format!(
        r#"{{"id":"{id}","object":"event","type":"invoice.paid","data":{{"object":{{"id":"in_1","amount_paid":4200,"memo":"PAD"}}}}}}"#
    );
    let pad = 1024 - body.len() + 3;
    body = body.replace("PAD", &"x".repeat(pad));
    let headers: Headers = [("content-type", "application/json; charset=utf-8".to_owned())]
        .into_iter()
        .collect();
    let req = Request::post("https://hooks.example.com/", &headers, body.as_bytes());
    let signed: Vec<(String, String)> = signer(SchemeKind::Stripe, STRIPE_SECRET)
        .signed_headers(&req, "unused", now())
        .unwrap()
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    (body.into_bytes(), signed)
}

#[tokio::test(flavor = "multi_thread")]
async fn inbound() {
    let moto = Moto::start();
    let sqs = sqs_client(&moto.endpoint).await;
    let queue = fresh_queue(&sqs, "cost-inbound", &[]).await;
    // The consumer batches as wrangler.toml deploys it: 10 messages or 5 seconds.
    let worker = Workerd::start_with(
        ReceiverBuild::Release,
        json!({
            "vars": {
                "HOOKLINE_CONFIG": {"sources": {"stripe": {"scheme": "stripe", "secrets": ["env:STRIPE_SECRET"]}}},
                "STRIPE_SECRET": STRIPE_SECRET,
                "HOOKLINE_SQS_QUEUE_URL": queue,
                "HOOKLINE_SQS_REGION": "us-east-1",
                "HOOKLINE_BODIES_BUCKET": "hookline-bodies",
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
            },
            "consumer": true,
            "maxRetries": 10,
            "maxBatchTimeout": 5,
        }),
    );
    let before = Requests::read(&moto.endpoint).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut fetches = 0u64;
    for i in 0..EVENTS {
        let (body, headers) = stripe_request(&format!("evt_cost{i}"));
        let mut req = client.post(worker.url("/hooks/stripe")).body(body);
        for (n, v) in &headers {
            req = req.header(n.as_str(), v.as_str());
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{}", worker.log_tail());
        fetches += 1;
    }
    let _forwarded: Requests = poll_until(Duration::from_secs(30), || async {
        let used = Requests::read(&moto.endpoint).await.since(&before);
        (used.get("sqs.SendMessageBatch").entries >= EVENTS).then_some(used)
    })
    .await;
    // Anything still in flight would show now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let used = Requests::read(&moto.endpoint).await.since(&before);
    println!("inbound: {fetches} fetches; {used:#?}");
    let context = format!("{used:#?}\n{}", worker.log_tail());
    let send = used.get("sqs.SendMessageBatch");
    assert_count(
        "inbound.worker_fetch_per_event",
        fetches as f64 / EVENTS as f64,
        &context,
    );
    // Each event is one queue message, forwarded once: SQS got one entry per event.
    assert_count(
        "inbound.queue_messages_per_event",
        send.entries as f64 / EVENTS as f64,
        &context,
    );
    // Full consumer batches (10) make one SendMessageBatch each.
    assert_count(
        "inbound.sqs_entries_per_send_batch",
        send.entries as f64 / send.requests as f64,
        &context,
    );
    assert_eq!(send.max_entries, 10, "{context}");
    assert_eq!(
        used.requests("sqs", &[]),
        send.requests,
        "only sends: {context}"
    );
    // Each request carried 10 envelopes of a 1 KiB event in one 64 KB chunk: so one queue
    // message is well under the 64 KB of one Cloudflare Queue operation.
    assert_count(
        "inbound.sqs_chunks_per_send_batch_1kib",
        send.chunks64k as f64 / send.requests as f64,
        &context,
    );
    let per_entry = send.bytes as f64 / send.entries as f64;
    assert!(
        per_entry < 64_000.0 - 100.0,
        "{per_entry} bytes per entry: {context}"
    );
    assert!(worker.dead_letters().is_empty(), "{context}");
}
