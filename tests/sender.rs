//! The sender suite: the Lambda handler against a real SQS API (moto on loopback) through the
//! local event source mapping, delivering over real HTTP to a sink that checks every signature
//! with the official `standardwebhooks` library. Needs `tests/harness/setup.sh` (tests/run does
//! it); without moto these tests fail, they never pass silently.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsEvent;
use hookline_sender::{Sender, Settings, SystemClock, dlq_attr};
use hookline_tests::harness::{Moto, Sink, poll_until};
use hookline_tests::sender_world::{SINK_SECRET, SenderWorld, attr};
use serde_json::{Value, json};

/// One moto server for the whole suite; every test uses its own queues.
fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

/// The sender suite's world: every test builds its own over fresh queues.
type World = SenderWorld;

/// A sender over fresh queues, configured with `endpoints` (TOML) and loopback allowed unless
/// `allow_loopback` is false.
async fn world(endpoints_toml: &str, allow_loopback: bool) -> World {
    world_sized(
        endpoints_toml,
        allow_loopback,
        hookline_sqs::limits::MAX_MESSAGE_BYTES,
    )
    .await
}

/// [`world`] with a sender that plans for queues taking `max_message_bytes` (moto's queues take
/// 1 MiB, and so do its batches).
async fn world_sized(
    endpoints_toml: &str,
    allow_loopback: bool,
    max_message_bytes: usize,
) -> World {
    let allow = if allow_loopback {
        "ssrf_allow = [\"127.0.0.0/8\"]"
    } else {
        ""
    };
    let toml = format!(
        "[delivery]\ntimeout = \"2s\"\n{allow}\n[delivery.retry]\nschedule = [\"1s\", \"1s\"]\njitter = 0.0\n\n{endpoints_toml}"
    );
    SenderWorld::start(moto(), "sender", &toml, |settings, sqs, log| {
        let settings = Settings {
            max_message_bytes,
            ..settings
        };
        Sender::new(settings, sqs, log).unwrap()
    })
    .await
}

/// A sink, and a world whose endpoints `(name, path)` post to the sink's `path`s.
async fn world_on_sink(endpoints: &[(&str, &str)]) -> (Sink, World) {
    let sink = Sink::start(&[SINK_SECRET]);
    let toml: String = endpoints
        .iter()
        .map(|(name, path)| sink_endpoint(&sink, name, path, ""))
        .collect();
    let w = world(&toml, true).await;
    (sink, w)
}

/// An endpoint `name` posting to the sink's `path`, followed by `rules` (more of its TOML).
fn sink_endpoint(sink: &Sink, name: &str, path: &str, rules: &str) -> String {
    endpoint(name, &format!("{}{path}", sink.base_url)) + rules
}

fn endpoint(name: &str, url: &str) -> String {
    format!("[endpoints.{name}]\nurl = \"{url}\"\nsecrets = [\"env:SINK_WHSEC\"]\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn handler_takes_a_real_sqs_event() {
    // The fixture is the SQS event example from the AWS Lambda developer guide, with its body
    // replaced by an outbound message.
    let (sink, w) = world_on_sink(&[("billing", "/ok/billing")]).await;
    let mut event: Value = serde_json::from_str(include_str!("fixtures/sqs-event.json")).unwrap();
    event["Records"][0]["body"] = json!(
        json!({"type": "invoice.paid", "id": "evt_fixture", "data": {"amount": 42}}).to_string()
    );
    let event: SqsEvent = serde_json::from_value(event).unwrap();
    let resp = w.sender.handle(event, &SystemClock).await;
    // Both records finished: the first delivered, the second ("Test message.") dead-lettered.
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    let dlq = w.dlq_messages().await;
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].body(), Some("Test message."));
    let got = sink.wait_for(1, Duration::from_secs(5));
    assert_eq!(got[0]["signature_valid"], true, "{got:?}");
    assert_eq!(got[0]["webhook_id"], "evt_fixture");
    let body: Value = serde_json::from_str(got[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["type"], "invoice.paid");
    assert_eq!(body["data"], json!({"amount": 42}));
}

#[tokio::test(flavor = "multi_thread")]
async fn delivers_signed_and_deletes() {
    let (sink, w) = world_on_sink(&[("billing", "/ok/d")]).await;
    w.send(&json!({"type": "invoice.paid", "data": {"n": 1}}))
        .await;
    w.pump_until(Duration::from_secs(10), || !sink.deliveries().is_empty())
        .await;
    let got = sink.deliveries();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["signature_valid"], true);
    assert!(got[0]["webhook_id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(w.queue_depth().await, (0, 0), "delivered message deleted");
    assert!(w.dlq_messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn server_error_then_success_waits_the_visibility_delay_and_keeps_the_webhook_id() {
    let (sink, w) = world_on_sink(&[("e", "/fail/1/then/200/x")]).await;
    w.send(&json!({"type": "a.b", "id": "evt_retry", "data": {}}))
        .await;
    let first = w.poll().await;
    assert_eq!((first.received, first.failed), (1, 1));
    // The retry policy's 1 s delay hides the message: an immediate poll sees nothing.
    assert_eq!(
        w.poll().await.received,
        0,
        "message visible before its retry delay"
    );
    w.pump_until(Duration::from_secs(10), || sink.deliveries().len() >= 2)
        .await;
    let got = sink.deliveries();
    let gap = got[1]["received_at"].as_f64().unwrap() - got[0]["received_at"].as_f64().unwrap();
    assert!(gap >= 0.95, "retried after {gap}s, before the 1 s delay");
    assert_eq!(got[0]["webhook_id"], "evt_retry");
    assert_eq!(
        got[1]["webhook_id"], "evt_retry",
        "webhook-id is stable across retries"
    );
    assert!(got.iter().all(|d| d["signature_valid"] == true));
    assert_eq!(w.queue_depth().await, (0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_attempt_failing_ends_in_the_dlq_with_metadata() {
    let (sink, w) = world_on_sink(&[("down", "/status/503/y")]).await;
    w.send(&json!({"type": "a.b", "id": "evt_dead", "data": {"k": "v"}}))
        .await;
    w.pump_until(Duration::from_secs(15), || sink.deliveries().len() >= 3)
        .await;
    // Three attempts (schedule of two retries); the third failure dead-letters.
    let dlq = w.wait_dlq(1).await;
    let m = &dlq[0];
    assert_eq!(attr(m, dlq_attr::STATUS), Some("503"));
    assert_eq!(attr(m, dlq_attr::ATTEMPTS), Some("3"));
    assert_eq!(attr(m, dlq_attr::ENDPOINT), Some("down"));
    assert!(
        attr(m, dlq_attr::ERROR).unwrap().starts_with("exhausted"),
        "{:?}",
        attr(m, dlq_attr::ERROR)
    );
    let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
    assert_eq!(body["hookline"], "delivery");
    assert_eq!(body["message_id"], "evt_dead");
    assert_eq!(body["data"], json!({"k": "v"}));
    assert_eq!(sink.deliveries().len(), 3);
    assert_eq!(w.queue_depth().await, (0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn gone_is_not_retried() {
    let (sink, w) = world_on_sink(&[("old", "/status/410/z")]).await;
    w.send(&json!({"type": "a.b", "data": {}})).await;
    w.pump_until(Duration::from_secs(10), || !sink.deliveries().is_empty())
        .await;
    let dlq = w.wait_dlq(1).await;
    assert_eq!(attr(&dlq[0], dlq_attr::STATUS), Some("410"));
    assert_eq!(attr(&dlq[0], dlq_attr::ATTEMPTS), Some("1"));
    assert!(attr(&dlq[0], dlq_attr::ERROR).unwrap().starts_with("gone"));
    assert_eq!(sink.deliveries().len(), 1, "410 Gone must not be retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_is_honoured() {
    let (sink, w) = world_on_sink(&[("busy", "/retry-after/3/r")]).await;
    w.send(&json!({"type": "a.b", "data": {}})).await;
    let first = w.poll().await;
    assert_eq!(first.failed, 1);
    w.pump_until(Duration::from_secs(12), || sink.deliveries().len() >= 2)
        .await;
    let got = sink.deliveries();
    let gap = got[1]["received_at"].as_f64().unwrap() - got[0]["received_at"].as_f64().unwrap();
    // The schedule says 1 s; the endpoint said 3 s: the later one wins.
    assert!(gap >= 2.9, "retried after {gap}s despite Retry-After: 3");
}

#[tokio::test(flavor = "multi_thread")]
async fn timeouts_and_refused_connections_are_retried() {
    let sink = Sink::start(&[SINK_SECRET]);
    // A port nothing listens on: bind, read the port, close.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let toml = [
        sink_endpoint(
            &sink,
            "hang",
            "/hang/t",
            "timeout = \"1s\"\nevents = [\"hang.*\"]\n",
        ),
        endpoint("refused", &format!("http://127.0.0.1:{closed}/x")),
        "events = [\"refused.*\"]\n".to_owned(),
    ]
    .concat();
    let w = world(&toml, true).await;
    w.send(&json!({"type": "hang.now", "data": {}})).await;
    w.send(&json!({"type": "refused.now", "data": {}})).await;
    w.pump_until(Duration::from_secs(15), || {
        let logs = w.log_text();
        logs.contains("timed out") && logs.contains("onnection refused")
    })
    .await;
    let logs = w.log_text();
    assert!(logs.contains("\"outcome\":\"retry\""), "{logs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn fan_out_delivers_to_the_healthy_endpoint_at_once() {
    let (sink, w) = world_on_sink(&[("up", "/ok/up"), ("down", "/status/500/down")]).await;
    w.send(&json!({"type": "order.created", "id": "evt_fan", "data": {}}))
        .await;
    // Poll 1 fans out into two delivery messages; poll 2 delivers both (one fails).
    let started = Instant::now();
    w.pump_until(Duration::from_secs(10), || {
        sink.deliveries().iter().any(|d| d["path"] == "/ok/up")
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "healthy endpoint waited for the failing one"
    );
    let got = sink.deliveries();
    let up: Vec<_> = got.iter().filter(|d| d["path"] == "/ok/up").collect();
    assert_eq!(up.len(), 1);
    assert_eq!(up[0]["webhook_id"], "evt_fan");
    assert!(got.iter().any(|d| d["path"] == "/status/500/down"));
}

#[tokio::test(flavor = "multi_thread")]
async fn ssrf_blocked_targets_are_dead_lettered_without_a_request() {
    let sink = Sink::start(&[SINK_SECRET]);
    let toml = [
        sink_endpoint(&sink, "loopback", "/ok/never", "events = [\"l.*\"]\n"),
        endpoint("metadata", "http://169.254.169.254/latest/meta-data/"),
        "events = [\"m.*\"]\n".to_owned(),
        endpoint(
            "localhost",
            &sink.base_url.replace("127.0.0.1", "localhost"),
        ),
        "events = [\"h.*\"]\n".to_owned(),
    ]
    .concat();
    let w = world(&toml, false).await;
    for t in ["l.x", "m.x", "h.x"] {
        w.send(&json!({"type": t, "data": {}})).await;
    }
    let dlq = w.pump_until_dead_lettered(3, Duration::from_secs(10)).await;
    for m in &dlq {
        let err = attr(m, dlq_attr::ERROR).unwrap();
        assert!(err.starts_with("blocked"), "{err}");
    }
    assert!(
        sink.deliveries().is_empty(),
        "a blocked target was contacted"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_message_goes_to_the_dlq_and_does_not_poison_the_batch() {
    let (sink, w) = world_on_sink(&[("e", "/ok/m")]).await;
    w.send_raw("{not json").await;
    w.send(&json!({"type": "", "data": {}})).await;
    w.send(&json!({"type": "good.one", "data": {}})).await;
    w.pump_until(Duration::from_secs(10), || !sink.deliveries().is_empty())
        .await;
    let dlq = w.wait_dlq(2).await;
    let errors: Vec<&str> = dlq
        .iter()
        .map(|m| attr(m, dlq_attr::ERROR).unwrap())
        .collect();
    assert!(
        errors.iter().all(|e| e.starts_with("malformed")),
        "{errors:?}"
    );
    assert!(
        dlq.iter().any(|m| m.body() == Some("{not json")),
        "original body kept"
    );
    assert_eq!(w.queue_depth().await, (0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_not_followed() {
    let (sink, w) = world_on_sink(&[("moved", "/redirect/x")]).await;
    w.send(&json!({"type": "a.b", "data": {}})).await;
    let first = w.poll().await;
    assert_eq!(first.failed, 1, "a 302 is not a success");
    assert!(
        sink.deliveries()
            .iter()
            .all(|d| d["path"] != "/ok/redirected")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_never_contain_secrets_or_signatures() {
    let (sink, w) = world_on_sink(&[("e", "/fail/1/then/200/s")]).await;
    w.send(&json!({"type": "a.b", "data": {"card": "4242424242424242"}}))
        .await;
    w.pump_until(Duration::from_secs(10), || sink.deliveries().len() >= 2)
        .await;
    let logs = w.log_text();
    assert!(logs.contains("delivery_attempt"));
    let sigs: Vec<String> = sink
        .deliveries()
        .iter()
        .map(|d| {
            d["headers"]["webhook-signature"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for needle in [
        SINK_SECRET,
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "4242424242424242",
    ]
    .into_iter()
    .chain(sigs.iter().map(|s| s.trim_start_matches("v1,")))
    {
        assert!(!logs.contains(needle), "logs leak {needle}");
    }
}

/// A delivery message as an app (or anyone with write access to the queue) could put it there.
fn delivery(message_id: &str, endpoint: &str, event_type: &str, data: Value) -> Value {
    json!({
        "hookline": "delivery", "version": 1, "message_id": message_id, "endpoint": endpoint,
        "type": event_type, "timestamp": "2026-11-23T12:00:00Z", "data": data,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_rules_hold_for_delivery_messages_put_on_the_queue() {
    let sink = Sink::start(&[SINK_SECRET]);
    let toml = [
        sink_endpoint(
            &sink,
            "billing",
            "/ok/billing",
            "events = [\"invoice.*\"]\nfilter = \"data.amount >= 100\"\n",
        ),
        sink_endpoint(&sink, "off", "/ok/off", "enabled = false\n"),
    ]
    .concat();
    let w = world(&toml, true).await;
    // Refused: delivery messages with a type the endpoint does not subscribe to, data its
    // filter refuses, or for a disabled endpoint (dead-lettered); and an outbound message naming
    // an endpoint whose rules refuse it (not routed, not dead-lettered: the endpoint's own
    // configuration at work, as for a relay source's named endpoints).
    for (id, endpoint, event_type, amount) in [
        ("d_type", "billing", "user.created", 500),
        ("d_filter", "billing", "invoice.paid", 1),
        ("d_off", "off", "invoice.paid", 500),
    ] {
        w.send(&delivery(
            id,
            endpoint,
            event_type,
            json!({ "amount": amount }),
        ))
        .await;
    }
    w.send(&json!({"type": "user.created", "id": "o_named", "endpoints": ["billing"], "data": {"amount": 500}}))
        .await;
    // Admitted: the control, proving the endpoint works.
    w.send(&delivery(
        "d_ok",
        "billing",
        "invoice.paid",
        json!({"amount": 150}),
    ))
    .await;
    let dlq = poll_until(Duration::from_secs(10), || async {
        w.poll().await;
        let m = w.dlq_messages().await;
        let o_named_seen = w
            .log_text()
            .lines()
            .any(|l| l.contains("\"msg\":\"not_subscribed\"") && l.contains("o_named"));
        (m.len() >= 3 && !sink.deliveries().is_empty() && o_named_seen).then_some(m)
    })
    .await;
    let mut refused: Vec<(String, String)> = dlq
        .iter()
        .map(|m| {
            let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            let err = attr(m, dlq_attr::ERROR).unwrap().to_owned();
            (body["message_id"].as_str().unwrap().to_owned(), err)
        })
        .collect();
    refused.sort();
    let ids: Vec<&str> = refused.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["d_filter", "d_off", "d_type"], "{refused:?}");
    for (id, err) in &refused {
        assert!(err.starts_with("not_subscribed: endpoint"), "{id}: {err}");
    }
    assert!(refused[0].1.contains("filter"), "{refused:?}");
    assert!(refused[1].1.contains("disabled"), "{refused:?}");
    assert!(refused[2].1.contains("events"), "{refused:?}");
    let got = sink.deliveries();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["webhook_id"], "d_ok");
    // o_named was handled (logged as not_subscribed), neither delivered nor dead-lettered.
    assert_eq!(w.queue_depth().await, (0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn data_a_filter_cannot_read_is_dead_lettered_not_read_as_null() {
    // Valid JSON nested deeper than a parser builds values for: a filter reading it as `null`
    // would let `not data.blocked == true` through.
    let sink = Sink::start(&[SINK_SECRET]);
    let toml = sink_endpoint(
        &sink,
        "guarded",
        "/ok/g",
        "filter = \"not data.blocked == true\"\n",
    );
    let w = world(&toml, true).await;
    let nested = format!("{}{}", "[".repeat(200), "]".repeat(200));
    for body in [
        format!(r#"{{"type":"a.b","id":"o_deep","data":{nested}}}"#),
        format!(
            r#"{{"hookline":"delivery","version":1,"message_id":"d_deep","endpoint":"guarded","type":"a.b","timestamp":"2026-11-23T12:00:00Z","data":{nested}}}"#
        ),
    ] {
        w.send_raw(body).await;
    }
    let dlq = w.pump_until_dead_lettered(2, Duration::from_secs(10)).await;
    for m in &dlq {
        let err = attr(m, dlq_attr::ERROR).unwrap();
        assert!(
            err.starts_with("malformed: endpoint \"guarded\": data"),
            "{err}"
        );
        assert_eq!(attr(m, dlq_attr::ENDPOINT), Some("guarded"));
    }
    assert!(sink.deliveries().is_empty(), "{:?}", sink.deliveries());
    assert_eq!(w.queue_depth().await, (0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn fan_out_of_a_large_message_keeps_each_batch_within_the_byte_limit() {
    // A queue taking 1 MiB messages (moto's default, and its batch limit). Three deliveries of
    // ~400 KB: by count they are one batch of ~1.2 MB, which SQS refuses whole
    // (BatchRequestTooLong); by bytes they are two batches.
    let sink = Sink::start(&[SINK_SECRET]);
    let toml = ["a", "b", "c"]
        .iter()
        .map(|n| sink_endpoint(&sink, n, &format!("/ok/{n}"), ""))
        .collect::<String>();
    let w = world_sized(&toml, true, hookline_sqs::limits::MAX_MESSAGE_BYTES_CEILING).await;
    let blob = "x".repeat(400_000);
    w.send(&json!({"type": "big.one", "id": "evt_big", "data": {"blob": blob}}))
        .await;
    w.pump_until(Duration::from_secs(15), || sink.deliveries().len() >= 3)
        .await;
    let mut paths: Vec<String> = sink
        .deliveries()
        .iter()
        .map(|d| d["path"].as_str().unwrap().to_owned())
        .collect();
    paths.sort();
    assert_eq!(paths, ["/ok/a", "/ok/b", "/ok/c"]);
    assert!(w.dlq_messages().await.is_empty());
    assert!(!w.log_text().contains("fan_out_failed"), "{}", w.log_text());
    assert_eq!(w.queue_depth().await, (0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_over_the_queue_limit_is_dead_lettered_as_too_large_not_retried() {
    use hookline_core::envelope::{DeliveryMessage, OutboundMessage};
    use hookline_sqs::limits::MAX_MESSAGE_BYTES as MAX_SQS_MESSAGE_BYTES;
    let (sink, w) = world_on_sink(&[("a", "/ok/a"), ("b", "/ok/b")]).await;
    // An outbound message the queue takes, whose delivery messages it would not.
    let make = |n: usize| {
        let text = json!({"type": "big.one", "id": "evt_edge", "data": "y".repeat(n)}).to_string();
        (OutboundMessage::from_json(text.as_bytes()).unwrap(), text)
    };
    let n = MAX_SQS_MESSAGE_BYTES - 120;
    let (msg, text) = make(n);
    let d = DeliveryMessage::new(
        "evt_edge".into(),
        "a".into(),
        &msg,
        hookline_core::time::Timestamp::from_unix_millis(0),
    );
    assert!(text.len() <= MAX_SQS_MESSAGE_BYTES, "{}", text.len());
    assert!(
        d.to_json().len() > MAX_SQS_MESSAGE_BYTES,
        "{}",
        d.to_json().len()
    );
    w.send_raw(text).await;
    let dlq = w.pump_until_dead_lettered(2, Duration::from_secs(10)).await;
    let mut endpoints = Vec::new();
    for m in &dlq {
        let err = attr(m, dlq_attr::ERROR).unwrap();
        assert!(err.starts_with("too_large:"), "{err}");
        assert!(err.contains(&MAX_SQS_MESSAGE_BYTES.to_string()), "{err}");
        // The dead letter is an outbound message for that one endpoint, keeping the id: a
        // replay delivers it directly.
        let body = OutboundMessage::from_json(m.body().unwrap().as_bytes()).unwrap();
        assert_eq!(body.id.as_deref(), Some("evt_edge"));
        let only = body.endpoints.unwrap();
        assert_eq!(only.len(), 1);
        assert_eq!(attr(m, dlq_attr::ENDPOINT), Some(only[0].as_str()));
        endpoints.push(only[0].clone());
    }
    endpoints.sort();
    assert_eq!(endpoints, ["a", "b"]);
    // Finished, not retried: the queue is empty at once.
    assert_eq!(w.queue_depth().await, (0, 0));
    assert!(sink.deliveries().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn ids_with_a_dot_left_on_the_queue_are_dead_lettered_with_the_reason() {
    // Written before ids lost `.` (a relayed `stripe.evt_...`, an app's own id): never signed,
    // never dropped, kept in the dead-letter queue with the field at fault.
    let (sink, w) = world_on_sink(&[("billing", "/ok/dot")]).await;
    let outbound = json!({"type": "invoice.paid", "id": "stripe.evt_1", "data": {}});
    let delivery = delivery("inv_1.1795435200", "billing", "invoice.paid", json!({}));
    w.send(&outbound).await;
    w.send(&delivery).await;
    let dlq = w.pump_until_dead_lettered(2, Duration::from_secs(10)).await;
    let mut got: Vec<(String, String)> = dlq
        .iter()
        .map(|m| {
            (
                attr(m, dlq_attr::ERROR).unwrap().to_owned(),
                m.body().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    assert!(
        got[0]
            .0
            .starts_with("malformed: id: must not contain \".\""),
        "{got:?}"
    );
    assert_eq!(serde_json::from_str::<Value>(&got[0].1).unwrap(), outbound);
    assert!(
        got[1]
            .0
            .starts_with("malformed: message_id: must not contain \".\""),
        "{got:?}"
    );
    assert_eq!(serde_json::from_str::<Value>(&got[1].1).unwrap(), delivery);
    assert!(sink.deliveries().is_empty());
    assert_eq!(w.queue_depth().await, (0, 0));
}

/// Endpoints registered through the API (here written straight into an in-memory store): a
/// message naming the application reaches exactly those whose event types and channels take it,
/// each signed with its own secret, with the payload as sent and the message id as `webhook-id`;
/// every attempt is recorded; a message for an unknown application is dead-lettered.
mod registry {
    use super::*;
    use hookline_api::memory::MemoryStore;
    use hookline_api::{Kind, Registry, Store};
    use hookline_core::api::model::{Application, Attempt, AttemptStatus, Endpoint};
    use hookline_core::config::Config;
    use hookline_sender::registry::RegistryCache;
    use std::sync::Arc;

    const SECRETS: [&str; 4] = [
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
        "whsec_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC",
        "whsec_DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD",
    ];

    use hookline_tests::now;

    fn endpoint(id: &str, url: String, secret: &str) -> Endpoint {
        hookline_tests::endpoint("app_1", id, url, secret)
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn application_messages_reach_the_endpoints_that_take_them() {
        let sink = Sink::start(&SECRETS);
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new(now));
        let app = Application {
            id: "app_1".into(),
            uid: Some("acme".into()),
            name: "Acme".into(),
            throttle_rate: None,
            metadata: Default::default(),
            created_at: String::new(),
            updated_at: String::new(),
        };
        store
            .create(
                Kind::Application,
                "",
                "app_1",
                &["u:acme"],
                &serde_json::to_string(&app).unwrap(),
                None,
            )
            .await
            .unwrap();
        let mut typed = endpoint("ep_typed", sink.url("/ok/typed"), SECRETS[0]);
        typed.event_types = Some(vec!["invoice.paid".into()]);
        typed.headers.insert("X-Tenant".into(), "acme".into());
        let mut eu = endpoint("ep_eu", sink.url("/ok/eu"), SECRETS[1]);
        eu.channels = Some(vec!["eu".into()]);
        let mut off = endpoint("ep_off", sink.url("/ok/off"), SECRETS[2]);
        off.disabled = true;
        let mut other = endpoint("ep_other", sink.url("/ok/other"), SECRETS[3]);
        other.event_types = Some(vec!["invoice.voided".into()]);
        let mut us = endpoint("ep_us", sink.url("/ok/us"), SECRETS[3]);
        us.channels = Some(vec!["us".into()]);
        for e in [&typed, &eu, &off, &other, &us] {
            hookline_tests::seed_endpoint(&*store, e).await;
        }
        let toml = "[delivery]\ntimeout = \"2s\"\nssrf_allow = [\"127.0.0.0/8\"]\n[delivery.retry]\nschedule = [\"1s\"]\njitter = 0.0\n";
        let delivery = Config::from_toml(toml).unwrap().delivery;
        let cache_store = Arc::clone(&store);
        let w = SenderWorld::start(moto(), "registry", toml, move |settings, sqs, log| {
            Sender::new(settings, sqs, log)
                .unwrap()
                .with_registry(RegistryCache::new(
                    cache_store,
                    Duration::from_secs(30),
                    Duration::from_secs(3600),
                    delivery,
                ))
        })
        .await;
        // The payload's own spacing and key order are kept: it is the delivered body.
        let payload = r#"{"z": 1,"a":[true, null]}"#;
        w.send_raw(format!(
            r#"{{"type":"invoice.paid","application":"acme","id":"msg_reg1","channels":["eu"],"data":{payload}}}"#
        ))
        .await;
        w.pump_until(Duration::from_secs(15), || sink.deliveries().len() >= 2)
            .await;
        let got = sink.deliveries();
        let mut paths: Vec<&str> = got.iter().map(|d| d["path"].as_str().unwrap()).collect();
        paths.sort_unstable();
        assert_eq!(paths, ["/ok/eu", "/ok/typed"], "{got:#?}");
        for d in &got {
            assert_eq!(d["signature_valid"], true, "{d}");
            assert_eq!(d["webhook_id"], "msg_reg1");
            assert_eq!(d["body"], payload, "the payload exactly");
            let expected = if d["path"] == "/ok/typed" { 0 } else { 1 };
            assert_eq!(
                d["matched_secret_index"], expected,
                "signed with its own secret: {d}"
            );
        }
        let typed_delivery = got.iter().find(|d| d["path"] == "/ok/typed").unwrap();
        assert_eq!(typed_delivery["headers"]["x-tenant"], "acme");
        assert!(w.dlq_messages().await.is_empty());

        // Both attempts are in the history, under the message and under each endpoint.
        let registry = Registry::new(Arc::clone(&store));
        let by_msg = registry
            .store()
            .list(Kind::AttemptByMessage, "app_1/msg_reg1", None, 10)
            .await
            .unwrap();
        assert_eq!(by_msg.len(), 2);
        for item in &by_msg {
            let a: Attempt = serde_json::from_str(&item.doc).unwrap();
            assert_eq!(
                (a.status, a.response_status_code, a.trigger, a.attempt),
                (
                    AttemptStatus::Success,
                    200,
                    hookline_core::envelope::Trigger::Scheduled,
                    1
                )
            );
            assert!(a.id.starts_with("atmpt_"));
        }
        let by_ep = registry
            .store()
            .list(Kind::AttemptByEndpoint, "app_1/ep_eu", None, 10)
            .await
            .unwrap();
        assert_eq!(by_ep.len(), 1);
        // A message straight from the queue is remembered, so it can be listed.
        assert!(
            registry
                .message("app_1", "msg_reg1")
                .await
                .unwrap()
                .is_some()
        );

        // A resend names one endpoint (even one whose filters would not match) and is manual.
        w.send(
            &json!({"type": "invoice.paid", "application": "app_1", "id": "msg_reg1",
            "endpoints": ["ep_other"], "trigger": "manual", "data": {"n": 2}}),
        )
        .await;
        w.pump_until(Duration::from_secs(15), || sink.deliveries().len() >= 3)
            .await;
        let got = sink.deliveries();
        let resent = got.iter().find(|d| d["path"] == "/ok/other").unwrap();
        assert_eq!(resent["signature_valid"], true);
        assert_eq!(resent["matched_secret_index"], 3);

        // Named without being a resend, an endpoint must take the type, one or several alike.
        w.send(
            &json!({"type": "invoice.paid", "application": "acme", "id": "msg_reg2",
            "endpoints": ["ep_other", "ep_eu"], "data": {}}),
        )
        .await;
        let dead = w.pump_until_dead_lettered(1, Duration::from_secs(15)).await;
        assert!(
            attr(&dead[0], dlq_attr::ERROR)
                .unwrap()
                .starts_with("not_subscribed"),
            "{:?}",
            attr(&dead[0], dlq_attr::ERROR)
        );
        w.pump_until(Duration::from_secs(15), || sink.deliveries().len() >= 4)
            .await;
        assert_eq!(sink.deliveries()[3]["path"], "/ok/eu");

        // An unknown application: dead-lettered with the reason, nothing delivered.
        w.send(&json!({"type": "invoice.paid", "application": "nobody", "data": {}}))
            .await;
        let dead = w.pump_until_dead_lettered(1, Duration::from_secs(15)).await;
        assert!(
            attr(&dead[0], dlq_attr::ERROR)
                .unwrap()
                .starts_with("unknown_application"),
            "{:?}",
            attr(&dead[0], dlq_attr::ERROR)
        );
        assert_eq!(sink.deliveries().len(), 4);

        // Created a moment later, it is found at once: "unknown" is never cached.
        let late = Application {
            id: "app_late".into(),
            uid: Some("nobody".into()),
            ..app.clone()
        };
        store
            .create(
                Kind::Application,
                "",
                "app_late",
                &["u:nobody"],
                &serde_json::to_string(&late).unwrap(),
                None,
            )
            .await
            .unwrap();
        let mut ep = endpoint("ep_late", sink.url("/ok/late"), SECRETS[2]);
        ep.app_id = "app_late".into();
        store
            .create(
                Kind::Endpoint,
                "app_late",
                "ep_late",
                &[],
                &serde_json::to_string(&ep).unwrap(),
                None,
            )
            .await
            .unwrap();
        w.send(&json!({"type": "invoice.paid", "application": "nobody", "data": {}}))
            .await;
        w.pump_until(Duration::from_secs(15), || sink.deliveries().len() >= 5)
            .await;
        assert_eq!(sink.deliveries()[4]["path"], "/ok/late");
    }
}
