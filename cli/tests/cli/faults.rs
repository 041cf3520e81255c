//! `hookline dev` killed with `kill -9` in the middle of deliveries and restarted on the same
//! data directory, while providers keep posting and endpoints misbehave, with accounting: every
//! event dev answered 2xx for is delivered or on its dead-letter queue with a reason; duplicates
//! are counted; nothing is lost. The other fault suites are in `functions/sender/tests/faults.rs`.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hookline_tests::faults::{Ledger, fault_events, settle_time};
use hookline_tests::harness::{Sink, free_port, queue_counts, sqs_client};
use hookline_tests::leaks::Needles;
use serde_json::Value;

use super::common::{Dev, standard_headers};

const SOURCE_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ENDPOINT_SECRET: &str = "whsec_aG9va2xpbmUtZGVtby1vdXRib3VuZC1rZXkhIQ==";

fn config(sink: &Sink) -> String {
    format!(
        r#"[sources.s]
scheme = "standard-webhooks"
secrets = ["literal:{SOURCE_SECRET}"]
destination = "relay"
relay_endpoints = ["chaos"]

[endpoints.chaos]
url = "{}"
secrets = ["literal:{ENDPOINT_SECRET}"]

[delivery]
timeout = "1s"
ssrf_allow = ["127.0.0.0/8"]
retry = {{ schedule = ["1s", "1s", "1s", "1s"], jitter = 0.0 }}
"#,
        sink.url("/chaos/dev")
    )
}

/// One event, posted as a provider would until it gets a 2xx (dev may be down: connection
/// refused or reset count as failures too). Half go through `/hooks/s` (signed, relayed), half
/// through `/events` (an app's outbound message). Returns (the outbound message id, acked,
/// signature values sent).
async fn post_until_acked(
    client: &reqwest::Client,
    port: u16,
    i: usize,
) -> (String, bool, Vec<String>) {
    let mut signatures = Vec::new();
    let until = Instant::now() + Duration::from_secs(60);
    let (id, path, body) = if i.is_multiple_of(2) {
        let id = format!("msg_dev_{i:04}");
        let body = format!(r#"{{"type":"order.created","data":{{"i":{i}}}}}"#);
        (format!("s:{id}"), "/hooks/s", (id, body))
    } else {
        let id = format!("evt_dev_{i:04}");
        let body = format!(r#"{{"id":"{id}","type":"order.created","data":{{"i":{i}}}}}"#);
        (id.clone(), "/events", (id, body))
    };
    while Instant::now() < until {
        let mut req = client
            .post(format!("http://127.0.0.1:{port}{path}"))
            .header("content-type", "application/json")
            .body(body.1.clone());
        if path == "/hooks/s" {
            for (k, v) in standard_headers(SOURCE_SECRET, &body.0, body.1.as_bytes()) {
                if k == "webhook-signature" {
                    signatures.push(v.clone());
                }
                req = req.header(k, v);
            }
        }
        if let Ok(r) = req.send().await
            && r.status().is_success()
        {
            return (id, true, signatures);
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    (id, false, signatures)
}

/// Everything on dev's outbound dead-letter queue, into the ledger (deleted as read).
async fn drain_dlq(port: u16, ledger: &mut Ledger) {
    let Some((sqs, url)) = dev_queue(port, "hookline-outbound-dlq").await else {
        return;
    };
    loop {
        let Ok(out) = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .send()
            .await
        else {
            return;
        };
        if out.messages().is_empty() {
            return;
        }
        for m in out.messages() {
            let body: Value = serde_json::from_str(m.body().unwrap_or("")).unwrap_or(Value::Null);
            let id = body["message_id"]
                .as_str()
                .or(body["id"].as_str())
                .unwrap_or("?")
                .to_owned();
            let reason = m
                .message_attributes()
                .and_then(|a| a.get("hookline-error"))
                .and_then(|v| v.string_value())
                .unwrap_or("(no reason)")
                .to_owned();
            ledger.dead_lettered.entry(id).or_default().push(reason);
            let _ = sqs
                .delete_message()
                .queue_url(&url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await;
        }
    }
}

/// Messages of dev's outbound queue leased to its delivery workers right now (received, not yet
/// deleted: being delivered, or waiting out a retry's delay).
async fn leased(port: u16) -> i64 {
    let Some((sqs, url)) = dev_queue(port, "hookline-outbound").await else {
        return 0;
    };
    queue_counts(&sqs, &url).await.in_flight
}

/// A client on dev's SQS API and the URL of its queue `name`; `None` while dev cannot answer
/// (it is down in a fault, or not up yet), which the callers read as "nothing there yet".
async fn dev_queue(port: u16, name: &str) -> Option<(aws_sdk_sqs::Client, String)> {
    let sqs = sqs_client(&format!("http://127.0.0.1:{port}")).await;
    let out = sqs.get_queue_url().queue_name(name).send().await.ok()?;
    let url = out.queue_url().unwrap_or_default().to_owned();
    Some((sqs, url))
}

fn count_deliveries(sink: &Sink, ledger: &mut Ledger) -> Vec<String> {
    ledger.delivered.clear();
    let mut signatures = Vec::new();
    for d in sink.deliveries() {
        assert_eq!(d["signature_valid"], true, "{d}");
        if let Some(s) = d["headers"]["webhook-signature"].as_str() {
            signatures.push(s.to_owned());
        }
        if d["response_status"]
            .as_u64()
            .is_some_and(|s| (200..300).contains(&s))
        {
            let id = d["webhook_id"].as_str().unwrap_or("?").to_owned();
            *ledger.delivered.entry(id).or_default() += 1;
        }
    }
    signatures
}

fn start(dir: &Path, config: &str, port: u16, outputs: &Mutex<Vec<String>>, dev: &mut Option<Dev>) {
    if let Some(old) = dev.take() {
        outputs.lock().unwrap().extend(old.kill_9_and_output());
    }
    *dev = Some(Dev::start(dir, config, port));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dev_killed_mid_delivery_loses_nothing() {
    let n = fault_events(160);
    let sink = Sink::start(&[ENDPOINT_SECRET]);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = config(&sink);
    let outputs: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut dev = None;
    start(dir.path(), &cfg, port, &outputs, &mut dev);

    // Providers and apps post the whole time, eight at a time, retrying until acked.
    let posting = tokio::spawn(async move {
        use futures_util::StreamExt as _;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let client = &client;
        futures_util::stream::iter(0..n)
            .map(|i| async move { post_until_acked(client, port, i).await })
            .buffer_unordered(8)
            .collect::<Vec<_>>()
            .await
    });

    // kill -9 three times, each once deliveries moved on, then restart on the same data.
    let mut kills = 0;
    let mut mid_delivery = 0;
    let mut seen = 0;
    let deadline = Instant::now() + settle_time(n, 90);
    while kills < 3 {
        assert!(Instant::now() < deadline, "no deliveries between kills");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = sink.deliveries().len();
        // Only while deliveries are leased: the kill lands in the middle of them.
        if now >= seen + n / 8 && leased(port).await > 0 {
            mid_delivery += 1;
            start(dir.path(), &cfg, port, &outputs, &mut dev);
            kills += 1;
            seen = now;
        }
    }
    let posted = posting.await.unwrap();

    let mut ledger = Ledger::new("hookline dev: kill -9 mid-delivery, endpoint faults");
    for _ in 0..kills {
        ledger.fault("dev SIGKILL + restart");
    }
    assert!(
        mid_delivery > 0,
        "no kill landed while deliveries were leased"
    );
    ledger.notes.insert(
        "kills while deliveries were leased".into(),
        serde_json::json!(mid_delivery),
    );
    let mut signatures = Vec::new();
    for (id, acked, sigs) in posted {
        ledger.injected += 1;
        signatures.extend(sigs);
        if acked {
            ledger.acked.push(id);
        }
    }
    assert_eq!(ledger.acked.len(), n, "every post acked in the end");

    let deadline = Instant::now() + settle_time(n, 120);
    loop {
        drain_dlq(port, &mut ledger).await;
        count_deliveries(&sink, &mut ledger);
        let what = "acked events neither delivered nor dead-lettered";
        if ledger.nothing_lost_by(deadline, what, || ledger.report().to_string()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for r in ledger.dead_lettered.values().flatten() {
        assert!(
            !r.starts_with("(no reason"),
            "dead-lettered without a reason"
        );
    }
    let fault_kinds: Vec<String> = sink
        .deliveries()
        .iter()
        .filter_map(|d| d["chaos"].as_str().map(str::to_owned))
        .filter(|c| c != "200")
        .collect();
    for k in &fault_kinds {
        ledger.fault(&format!("endpoint {k}"));
    }
    let signatures_out = count_deliveries(&sink, &mut ledger);
    let report = ledger.finish();
    assert!(report["dead_lettered"].as_u64().unwrap() > 0, "{report}");

    let dev = dev.take().unwrap();
    outputs.lock().unwrap().extend(dev.kill_9_and_output());
    let mut needles = Needles::new().secret(SOURCE_SECRET).secret(ENDPOINT_SECRET);
    for s in signatures.iter().chain(&signatures_out) {
        needles = needles.signature(s);
    }
    let lines = outputs.lock().unwrap().clone();
    needles.assert_clean("hookline dev", &lines);
}
