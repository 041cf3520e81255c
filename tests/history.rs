//! The delivery history suite: the real sender, with a registry in memory (as the API writes
//! it), over SQS on moto and real HTTP sinks on loopback. It checks what the sender writes after
//! each attempt (attempts with their number, class and next attempt; a message's status at each
//! endpoint), endpoint health (auto-disable after the policy, at once on 410), messages skipped
//! while an endpoint is disabled, the operational webhooks, and that a failing history store
//! never changes a delivery. Needs `tests/harness/setup.sh`, like the sender suite.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hookline_api::hooked::{Call, Hooked};
use hookline_api::memory::MemoryStore;
use hookline_api::{Kind, Registry, Store, StoreError};
use hookline_core::api::history::{
    CONFIG_APP, Destination, ErrorClass, Health, MessageStatus, OPERATIONAL_APP,
};
use hookline_core::api::model::{Attempt, AttemptStatus, Endpoint, Message};
use hookline_core::time::Timestamp;
use hookline_tests::harness::{Moto, Sink, poll_until};
use hookline_tests::now;
use hookline_tests::sender_world::{SINK_SECRET, SenderWorld, attr};
use serde_json::{Value, json};

/// One moto server for the whole suite; every test uses its own queues.
fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

/// The application's endpoints' secret, and the operational endpoint's.
const APP_SECRET: &str = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const OP_SECRET: &str = "whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

/// The sinks accept all three secrets; `matched_secret_index` says which signed.
const SECRETS: [&str; 3] = [APP_SECRET, OP_SECRET, SINK_SECRET];

/// An endpoint as the API stores it, with a uid (`{id}-uid`).
fn endpoint(app_id: &str, id: &str, url: String, secret: &str) -> Endpoint {
    Endpoint {
        uid: Some(format!("{id}-uid")),
        ..hookline_tests::endpoint(app_id, id, url, secret)
    }
}

/// A sink, a store holding application `app_1` (uid `acme`) with `endpoints` (id, sink path)
/// and an operational-webhook endpoint at the sink's `/ok/op`, and a sender over it configured
/// by `toml` (its `[delivery]` and more).
struct World {
    sink: Sink,
    store: Arc<MemoryStore>,
    w: SenderWorld,
}

async fn world(suite: &str, endpoints: &[(&str, &str)], toml: &str) -> World {
    world_over(suite, endpoints, toml, |s| s).await
}

/// [`world`] with the sender's store made from the memory store by `wrap`.
async fn world_over(
    suite: &str,
    endpoints: &[(&str, &str)],
    toml: &str,
    wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
) -> World {
    let sink = Sink::start(&SECRETS);
    let store = Arc::new(MemoryStore::new(now));
    hookline_tests::seed_application(&*store, "app_1", "acme").await;
    let op = endpoint(OPERATIONAL_APP, "ep_op", sink.url("/ok/op"), OP_SECRET);
    let mut all = vec![op];
    for (id, path) in endpoints {
        all.push(endpoint("app_1", id, sink.url(path), APP_SECRET));
    }
    for e in &all {
        hookline_tests::seed_endpoint(&*store, e).await;
    }
    let toml = toml.replace("{sink}", &sink.base_url);
    let w = SenderWorld::start_with_store(moto(), suite, &toml, wrap(store.clone())).await;
    World { sink, store, w }
}

/// `[delivery]` with loopback allowed, retries every second (`attempts` in all) and `disable`
/// as `[delivery.auto_disable]`.
fn delivery(attempts: usize, disable: &str) -> String {
    let schedule = vec!["\"1s\""; attempts - 1].join(", ");
    format!(
        "[delivery]\ntimeout = \"2s\"\nssrf_allow = [\"127.0.0.0/8\"]\n\
         [delivery.retry]\nschedule = [{schedule}]\njitter = 0.0\n\
         [delivery.auto_disable]\n{disable}\n"
    )
}

impl World {
    fn registry(&self) -> Registry {
        Registry::new(self.store.clone())
    }

    async fn attempts(&self, app: &str, endpoint: &str) -> Vec<Attempt> {
        self.store
            .list(
                Kind::AttemptByEndpoint,
                &format!("{app}/{endpoint}"),
                None,
                100,
            )
            .await
            .unwrap()
            .iter()
            .map(|i| serde_json::from_str(&i.doc).unwrap())
            .collect()
    }

    async fn destination(&self, app: &str, endpoint: &str, msg: &str) -> Option<Destination> {
        self.registry()
            .destination(app, endpoint, msg)
            .await
            .unwrap()
    }

    async fn endpoint_disabled(&self, id: &str) -> bool {
        self.registry()
            .endpoint("app_1", id)
            .await
            .unwrap()
            .unwrap()
            .disabled
    }

    /// The operational webhooks the sink received at `path`, as (type, data), each checked to
    /// be signed with `secret_index`'s secret.
    fn operational(&self, path: &str, secret_index: u64) -> Vec<(String, Value)> {
        self.sink
            .deliveries()
            .iter()
            .filter(|d| d["path"] == path)
            .map(|d| {
                assert_eq!(d["signature_valid"], true, "{d}");
                assert_eq!(d["matched_secret_index"], secret_index, "{d}");
                let body: Value = serde_json::from_str(d["body"].as_str().unwrap()).unwrap();
                (
                    body["type"].as_str().unwrap().to_owned(),
                    body["data"].clone(),
                )
            })
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn attempts_and_statuses_are_recorded_for_registered_and_configured_endpoints() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let toml = delivery(3, "failures = 100")
        + &format!(
            "[endpoints.cfg]\nurl = \"http://127.0.0.1:{closed}/x\"\nsecrets = [\"env:SINK_WHSEC\"]\n"
        );
    let h = world(
        "hist-attempts",
        &[("ep_flaky", "/fail/1/then/200/a")],
        &toml,
    )
    .await;
    h.w.send(&json!({"type": "invoice.paid", "application": "acme", "id": "evt_h1", "data": {}}))
        .await;
    h.w.send(&json!({"type": "invoice.paid", "id": "evt_cfg", "data": {}}))
        .await;
    // The registered endpoint: one failure (500), then a success.
    poll_until(Duration::from_secs(15), || async {
        h.w.poll().await;
        (h.sink.hits("/fail/1/then/200/a") >= 2).then_some(())
    })
    .await;
    let attempts = h.attempts("app_1", "ep_flaky").await;
    assert_eq!(attempts.len(), 2, "{attempts:#?}");
    let (first, second) = (&attempts[0], &attempts[1]);
    assert_eq!(
        (first.attempt, first.status, first.response_status_code),
        (1, AttemptStatus::Fail, 500)
    );
    assert_eq!(first.error_class, Some(ErrorClass::Status));
    assert_eq!(first.msg_id, "evt_h1");
    assert_eq!(first.url, h.sink.url("/fail/1/then/200/a"));
    // The next attempt is due the retry delay (1 s, no jitter) after the first.
    let made = Timestamp::parse_rfc3339(&first.timestamp).unwrap();
    let due = Timestamp::parse_rfc3339(first.next_attempt.as_deref().unwrap()).unwrap();
    assert_eq!(due.unix_millis() - made.unix_millis(), 1000);
    assert_eq!(
        (second.attempt, second.status, second.response_status_code),
        (2, AttemptStatus::Success, 200)
    );
    assert_eq!(
        (second.error_class, second.next_attempt.as_deref()),
        (None, None)
    );
    let dest = h.destination("app_1", "ep_flaky", "evt_h1").await.unwrap();
    assert_eq!((dest.status, dest.attempts), (MessageStatus::Success, 2));
    assert_eq!(dest.last_attempt.as_ref().unwrap().id, second.id);
    assert_eq!(dest.next_attempt, None);
    // A success ends the endpoint's run of failures.
    assert_eq!(
        h.registry().health("app_1", "ep_flaky").await.unwrap(),
        Health::default()
    );
    // The message, put straight on the queue, is in the store.
    assert!(
        h.registry()
            .message("app_1", "evt_h1")
            .await
            .unwrap()
            .is_some()
    );

    // The configured endpoint (a closed port): its attempts and status are kept under `_config`
    // by its name, with the class of the failure, until it is dead-lettered.
    let dead =
        h.w.pump_until_dead_lettered(1, Duration::from_secs(15))
            .await;
    assert_eq!(
        attr(&dead[0], hookline_sender::dlq_attr::ENDPOINT),
        Some("cfg")
    );
    let attempts = h.attempts(CONFIG_APP, "cfg").await;
    assert_eq!(attempts.len(), 3, "{attempts:#?}");
    for (i, a) in attempts.iter().enumerate() {
        assert_eq!(a.attempt, u32::try_from(i).unwrap() + 1);
        assert_eq!(
            (a.error_class, a.response_status_code),
            (Some(ErrorClass::Connection), 0)
        );
        assert_eq!(a.next_attempt.is_some(), i < 2, "{a:?}");
    }
    let dest = h.destination(CONFIG_APP, "cfg", "evt_cfg").await.unwrap();
    assert_eq!((dest.status, dest.attempts), (MessageStatus::Fail, 3));
    // Exhausted, said to the operational endpoint: a configured endpoint's message has no
    // record, and its id is the `id` the app gave it.
    h.w.settle(&h.sink, Duration::from_secs(10), || {
        !h.operational("/ok/op", 1).is_empty()
    })
    .await;
    let ops = h.operational("/ok/op", 1);
    assert_eq!(ops.len(), 1, "{ops:#?}");
    let (kind, data) = &ops[0];
    assert_eq!(kind, "message.attempt.exhausted");
    assert_eq!(
        (&data["appId"], &data["endpointId"]),
        (&json!(CONFIG_APP), &json!("cfg"))
    );
    assert_eq!(
        (&data["msgId"], &data["msgEventId"]),
        (&json!("evt_cfg"), &json!("evt_cfg"))
    );
    assert_eq!(data["lastAttempt"]["id"], attempts[2].id);
    // Its health is counted (not acted on: configured endpoints are not disabled).
    assert_eq!(
        h.registry()
            .health(CONFIG_APP, "cfg")
            .await
            .unwrap()
            .failures,
        3
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_failing_as_the_policy_says_is_disabled_once_and_then_skipped() {
    let toml = delivery(5, "failures = 3\nfailing_for = \"0s\"");
    let h = world("hist-disable", &[("ep_down", "/status/500/down")], &toml).await;
    // Three messages in one batch: their first attempts fail together, the third failure (in
    // whichever order) disables the endpoint, by conditional write, exactly once.
    for i in 1..=3 {
        h.w.send(
            &json!({"type": "a.b", "application": "acme", "id": format!("evt_d{i}"), "data": {}}),
        )
        .await;
    }
    h.w.settle(&h.sink, Duration::from_secs(20), || {
        !h.operational("/ok/op", 1).is_empty()
    })
    .await;
    assert!(h.endpoint_disabled("ep_down").await);
    // The third failure disables it. A record of the same batch that read the endpoint before
    // that may still make its attempt; none is made once the batch is over.
    let hits = h.sink.hits("/status/500/down");
    assert!((3..=5).contains(&hits), "{hits}");
    let ops = h.operational("/ok/op", 1);
    assert_eq!(ops.len(), 1, "{ops:#?}");
    let (kind, data) = &ops[0];
    assert_eq!(kind, "endpoint.disabled");
    assert_eq!(data["appId"], "app_1");
    assert_eq!(data["appUid"], "acme");
    assert_eq!(data["endpointId"], "ep_down");
    assert_eq!(data["endpointUid"], "ep_down-uid");
    assert_eq!(data["trigger"], "automatic");
    assert!(data["failSince"].is_string(), "{data}");
    // Every message is skipped, none dead-lettered, all in the store for `recover`. (Which
    // message made which of the three attempts depends on how moto hands them out.)
    let mut attempts = 0;
    for i in 1..=3 {
        let id = format!("evt_d{i}");
        let dest = h.destination("app_1", "ep_down", &id).await.unwrap();
        assert_eq!(dest.status, MessageStatus::Skipped, "{dest:?}");
        attempts += dest.attempts;
        if dest.attempts > 0 {
            assert_eq!(dest.last_attempt.unwrap().response_status_code, 500);
        }
        assert!(h.registry().message("app_1", &id).await.unwrap().is_some());
    }
    assert_eq!(
        attempts as usize, hits,
        "every attempt is counted in the statuses"
    );
    assert!(h.w.dlq_messages().await.is_empty());

    // While it is disabled, a new message is skipped at fan-out: recorded, never sent.
    h.w.send(&json!({"type": "a.b", "application": "acme", "id": "evt_later", "data": {}}))
        .await;
    h.w.settle(&h.sink, Duration::from_secs(10), || true).await;
    let dest = poll_until(Duration::from_secs(5), || async {
        h.destination("app_1", "ep_down", "evt_later").await
    })
    .await;
    assert_eq!((dest.status, dest.attempts), (MessageStatus::Skipped, 0));
    assert!(
        h.registry()
            .message("app_1", "evt_later")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(h.sink.hits("/status/500/down"), 3);
    assert_eq!(h.operational("/ok/op", 1).len(), 1, "still exactly one");
    assert!(h.w.log_text().contains("\"EndpointDisabled\""));
    assert!(h.w.log_text().contains("\"Skipped\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn gone_disables_at_once_and_dead_letters() {
    let toml = delivery(5, "failures = 100");
    let h = world(
        "hist-gone",
        &[("ep_gone", "/status/410/g"), ("ep_ok", "/ok/fine")],
        &toml,
    )
    .await;
    h.w.send(&json!({"type": "a.b", "application": "acme", "endpoints": ["ep_gone"], "id": "evt_g1", "data": {}}))
        .await;
    h.w.settle(&h.sink, Duration::from_secs(15), || {
        h.operational("/ok/op", 1).len() >= 2
    })
    .await;
    assert_eq!(h.sink.hits("/status/410/g"), 1);
    assert!(h.endpoint_disabled("ep_gone").await);
    assert!(!h.endpoint_disabled("ep_ok").await);
    // Finished as a give-up: dead-lettered (nothing lost), status failed.
    let dlq = h.w.wait_dlq(1).await;
    assert!(
        attr(&dlq[0], hookline_sender::dlq_attr::ERROR)
            .unwrap()
            .starts_with("gone")
    );
    let attempts = h.attempts("app_1", "ep_gone").await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].error_class, Some(ErrorClass::Gone));
    assert_eq!(attempts[0].next_attempt, None);
    let dest = h.destination("app_1", "ep_gone", "evt_g1").await.unwrap();
    assert_eq!((dest.status, dest.attempts), (MessageStatus::Fail, 1));
    let mut kinds: Vec<String> = h
        .operational("/ok/op", 1)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["endpoint.disabled", "message.attempt.exhausted"]);
    // The other endpoint still takes messages; the gone one skips them.
    h.w.send(&json!({"type": "a.b", "application": "acme", "id": "evt_g2", "data": {}}))
        .await;
    h.w.settle(&h.sink, Duration::from_secs(10), || {
        h.sink.hits("/ok/fine") >= 1
    })
    .await;
    let dest = h.destination("app_1", "ep_gone", "evt_g2").await.unwrap();
    assert_eq!(dest.status, MessageStatus::Skipped);
    assert_eq!(h.sink.hits("/status/410/g"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_recovered_and_exhausted_reach_registered_and_configured_operational_endpoints() {
    // Five attempts; never disabled. The configured endpoint `ops` gets the webhooks too.
    let toml = delivery(5, "enabled = false")
        + "[api]\noperational_endpoints = [\"ops\"]\n\
           [endpoints.ops]\nurl = \"{sink}/ok/cfgops\"\nsecrets = [\"env:SINK_WHSEC\"]\n";
    let h = world(
        "hist-ops",
        &[
            ("ep_flaky", "/fail/4/then/200/f"),
            ("ep_dead", "/status/503/d"),
        ],
        &toml,
    )
    .await;
    // `evt_x` is in the store already, as the API writes a message, with the `eventId` the app
    // gave it; `evt_f` is recorded by the sender, its `id` being the app's.
    let stored = Message {
        id: "evt_x".into(),
        app_id: "app_1".into(),
        event_id: Some("order-x".into()),
        event_type: "a.b".into(),
        payload: serde_json::value::to_raw_value(&json!({})).unwrap(),
        channels: None,
        timestamp: "2026-11-23T12:00:00Z".into(),
        enqueued: true,
    };
    h.store
        .create(
            Kind::Message,
            "app_1",
            "evt_x",
            &["e:order-x"],
            &serde_json::to_string(&stored).unwrap(),
            None,
        )
        .await
        .unwrap();
    h.w.send(&json!({"type": "a.b", "application": "acme", "endpoints": ["ep_flaky"], "id": "evt_f", "data": {}}))
        .await;
    h.w.send(&json!({"type": "a.b", "application": "acme", "endpoints": ["ep_dead"], "id": "evt_x", "data": {}}))
        .await;
    h.w.settle(&h.sink, Duration::from_secs(30), || {
        h.operational("/ok/op", 1).len() >= 4 && h.sink.hits("/ok/cfgops") >= 4
    })
    .await;
    assert_eq!(h.sink.hits("/fail/4/then/200/f"), 5);
    assert_eq!(h.sink.hits("/status/503/d"), 5);
    let mut got: Vec<(String, String, u64)> = h
        .operational("/ok/op", 1)
        .into_iter()
        .map(|(kind, data)| {
            assert_eq!(data["appUid"], "acme", "{data}");
            // The `eventId` of the stored message.
            let event_id = match data["msgId"].as_str().unwrap() {
                "evt_x" => "order-x",
                other => other,
            };
            assert_eq!(data["msgEventId"], event_id, "{data}");
            let last = &data["lastAttempt"];
            assert!(last["id"].as_str().unwrap().starts_with("atmpt_"), "{data}");
            (
                kind,
                data["msgId"].as_str().unwrap().to_owned(),
                last["responseStatusCode"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "message.attempt.exhausted".to_owned(),
                "evt_x".to_owned(),
                503
            ),
            (
                "message.attempt.failing".to_owned(),
                "evt_f".to_owned(),
                500
            ),
            (
                "message.attempt.failing".to_owned(),
                "evt_x".to_owned(),
                503
            ),
            (
                "message.attempt.recovered".to_owned(),
                "evt_f".to_owned(),
                200
            ),
        ]
    );
    // The configured operational endpoint got the same four, signed with its own secret.
    let mut cfg: Vec<String> = h
        .operational("/ok/cfgops", 2)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    cfg.sort();
    assert_eq!(
        cfg,
        [
            "message.attempt.exhausted",
            "message.attempt.failing",
            "message.attempt.failing",
            "message.attempt.recovered"
        ]
    );
    let flaky = h.destination("app_1", "ep_flaky", "evt_f").await.unwrap();
    assert_eq!(
        (flaky.status, flaky.attempts, flaky.failing_sent),
        (MessageStatus::Success, 5, true)
    );
    let dead = h.destination("app_1", "ep_dead", "evt_x").await.unwrap();
    assert_eq!((dead.status, dead.attempts), (MessageStatus::Fail, 5));
    // The operational deliveries themselves are recorded, and never reported on (no loops):
    // the registered one under `_operational`, the configured one under `_config`.
    assert_eq!(h.attempts(OPERATIONAL_APP, "ep_op").await.len(), 4);
    assert_eq!(h.attempts(CONFIG_APP, "ops").await.len(), 4);
    assert!(!h.endpoint_disabled("ep_dead").await, "auto-disable is off");
}

/// A store that, while `down` is on, fails every history write and read (attempts, statuses,
/// health, messages), and always serves the endpoints as the real one: what delivery needs.
fn history_down(store: Arc<dyn Store>, down: Arc<AtomicBool>) -> Arc<dyn Store> {
    Arc::new(Hooked::new(store, move |call: &Call<'_>| {
        let history = !matches!(call.kind, Kind::Application | Kind::Endpoint);
        if history && down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("history store down (test)".into()));
        }
        Ok(())
    }))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_history_store_does_not_change_delivery() {
    let toml = delivery(3, "failures = 1\nfailing_for = \"0s\"")
        + "[endpoints.cfg]\nurl = \"{sink}/fail/1/then/200/cfg\"\nsecrets = [\"env:SINK_WHSEC\"]\n";
    let h = world_over(
        "hist-down",
        &[("ep_ok", "/ok/up"), ("ep_retry", "/fail/1/then/200/r")],
        &toml,
        |s| history_down(s, Arc::new(AtomicBool::new(true))),
    )
    .await;
    h.w.send(&json!({"type": "a.b", "application": "acme", "id": "evt_u", "data": {}}))
        .await;
    h.w.send(&json!({"type": "a.b", "id": "evt_c", "data": {}}))
        .await;
    // Delivered, and retried, exactly as without history (a policy of one failure would have
    // disabled `ep_retry` had its health been written); nothing dead-lettered.
    h.w.settle(&h.sink, Duration::from_secs(20), || {
        h.sink.hits("/ok/up") >= 1
            && h.sink.hits("/fail/1/then/200/r") >= 2
            && h.sink.hits("/fail/1/then/200/cfg") >= 2
    })
    .await;
    assert_eq!(h.sink.hits("/ok/up"), 1);
    assert_eq!(h.sink.hits("/fail/1/then/200/r"), 2);
    assert_eq!(h.sink.hits("/fail/1/then/200/cfg"), 2);
    assert!(h.w.dlq_messages().await.is_empty());
    assert!(!h.endpoint_disabled("ep_retry").await);
    // Nothing was written, and every failed write was logged and counted.
    assert!(h.attempts("app_1", "ep_ok").await.is_empty());
    let logs = h.w.log_text();
    assert!(logs.contains("\"msg\":\"history_write_failed\""), "{logs}");
    assert!(logs.contains("\"HistoryWriteFailed\""), "{logs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_skip_the_store_cannot_take_is_dead_lettered_and_the_other_endpoints_are_served() {
    let down = Arc::new(AtomicBool::new(true));
    let switch = Arc::clone(&down);
    let h = world_over(
        "hist-skipfail",
        &[("ep_off", "/ok/off"), ("ep_on", "/ok/on")],
        &delivery(3, "failures = 100"),
        move |s| history_down(s, switch),
    )
    .await;
    let mut off = h
        .registry()
        .endpoint("app_1", "ep_off")
        .await
        .unwrap()
        .unwrap();
    off.disabled = true;
    h.store
        .put(
            Kind::Endpoint,
            "app_1",
            "ep_off",
            &serde_json::to_string(&off).unwrap(),
            None,
        )
        .await
        .unwrap();

    // With the history store down: a message fanned out to both endpoints, and a delivery
    // message (a retry, or a fan-out made before the endpoint was disabled) for the disabled one.
    h.w.send(&json!({"type": "a.b", "application": "acme", "id": "evt_s1", "data": {}}))
        .await;
    h.w.send(&json!({
        "hookline": "delivery", "version": 1, "message_id": "evt_s2", "endpoint": "ep_off",
        "type": "a.b", "timestamp": "2026-11-23T12:00:00Z", "application": "app_1", "data": {},
    }))
    .await;
    // The skips cannot be written, so both go to the dead-letter queue, and the enabled
    // endpoint is served without waiting for the store.
    let mut dead = Vec::new();
    let until = std::time::Instant::now() + Duration::from_secs(15);
    while dead.len() < 2 || h.sink.hits("/ok/on") < 1 || h.w.queue_depth().await != (0, 0) {
        assert!(
            std::time::Instant::now() < until,
            "dead letters: {dead:#?}\nlogs:\n{}",
            h.w.log_text()
        );
        h.w.poll().await;
        for m in h.w.dlq_messages().await {
            hookline_tests::harness::delete(&h.w.sqs, &h.w.dlq, &m).await;
            dead.push(m);
        }
    }
    assert_eq!(dead.len(), 2, "{dead:#?}");
    assert_eq!(h.sink.hits("/ok/on"), 1);
    assert_eq!(h.sink.hits("/ok/off"), 0);
    let mut ids = Vec::new();
    for m in &dead {
        let error = attr(m, hookline_sender::dlq_attr::ERROR).unwrap();
        assert!(
            error.starts_with(
                "endpoint_disabled: endpoint \"ep_off\" of application \"app_1\" is disabled \
                 (could not record it as skipped: "
            ),
            "{error}"
        );
        assert!(error.contains("history store down (test)"), "{error}");
        assert_eq!(attr(m, hookline_sender::dlq_attr::ENDPOINT), Some("ep_off"));
        assert_eq!(attr(m, hookline_sender::dlq_attr::ATTEMPTS), Some("0"));
        let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
        assert_eq!(
            (&body["endpoint"], &body["application"]),
            (&json!("ep_off"), &json!("app_1"))
        );
        ids.push(body["message_id"].as_str().unwrap().to_owned());
    }
    ids.sort();
    assert_eq!(ids, ["evt_s1", "evt_s2"]);
    assert!(h.w.log_text().contains("\"msg\":\"skip_write_failed\""));

    // Kept, so replayable: once the store is back, a replay records both as skipped.
    down.store(false, Ordering::SeqCst);
    for m in &dead {
        h.w.send_raw(m.body().unwrap()).await;
    }
    h.w.settle(&h.sink, Duration::from_secs(10), || true).await;
    for id in ["evt_s1", "evt_s2"] {
        let dest = h.destination("app_1", "ep_off", id).await.unwrap();
        assert_eq!((dest.status, dest.attempts), (MessageStatus::Skipped, 0));
        assert!(h.registry().message("app_1", id).await.unwrap().is_some());
    }
    assert_eq!(h.sink.hits("/ok/off"), 0);
    assert!(h.w.dlq_messages().await.is_empty());
}
