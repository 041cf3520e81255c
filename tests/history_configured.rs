//! Endpoint health for the configuration's `[endpoints]`: the real sender, with a registry in
//! memory, over SQS on moto and real HTTP sinks on loopback. A configured endpoint that fails
//! as the policy says is disabled once (its health record, under `_config`, says so), with one
//! `endpoint.disabled` webhook; while disabled its deliveries are never POSTed, but recorded as
//! skipped and dead-lettered `endpoint_disabled` (the store does not keep configured messages);
//! once its health is reset, a replay delivers them. A healthy one costs one health read per
//! `api.registry_cache`. Needs `tests/harness/setup.sh`, like the sender suite.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hookline_api::hooked::{Call, Hook, Hooked, Op};
use hookline_api::memory::MemoryStore;
use hookline_api::{Kind, Registry, StoreError};
use hookline_core::api::history::{CONFIG_APP, MessageStatus};
use hookline_tests::harness::{Moto, Sink};
use hookline_tests::now;
use hookline_tests::sender_world::{SINK_SECRET, SenderWorld, attr};
use serde_json::{Value, json};

/// One moto server for the whole suite; every test uses its own queues.
fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

/// Counts reads of endpoint health (a hook of `Hooked`).
#[derive(Default)]
struct HealthReads(AtomicUsize);

impl Hook for HealthReads {
    fn before(&self, call: &Call<'_>) -> impl Future<Output = Result<(), StoreError>> + Send {
        if call.op == Op::Get && call.kind == Kind::Health {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        std::future::ready(Ok(()))
    }
}

struct World {
    sink: Sink,
    store: Arc<Hooked<HealthReads>>,
    w: SenderWorld,
}

/// A sink, an empty registry and a sender configured by `toml` (`{sink}`: the sink's URL),
/// whose configured operational endpoint `ops` is at the sink's `/ok/cfgops`.
async fn world(suite: &str, toml: &str) -> World {
    let sink = Sink::start(&[SINK_SECRET]);
    let store = Arc::new(Hooked::new(
        Arc::new(MemoryStore::new(now)),
        HealthReads::default(),
    ));
    let toml = toml.replace("{sink}", &sink.base_url)
        + &format!(
            "[endpoints.ops]\nurl = \"{}/ok/cfgops\"\nsecrets = [\"env:SINK_WHSEC\"]\n",
            sink.base_url
        );
    let w = SenderWorld::start_with_store(moto(), suite, &toml, store.clone()).await;
    World { sink, store, w }
}

/// `[delivery]` with loopback allowed, 5 attempts a second apart, disabled after 3 failures,
/// and `[api]` with staleness `cache`.
fn config(cache: &str) -> String {
    format!(
        "[api]\noperational_endpoints = [\"ops\"]\nregistry_cache = \"{cache}\"\n\
         [delivery]\ntimeout = \"2s\"\nssrf_allow = [\"127.0.0.0/8\"]\n\
         [delivery.retry]\nschedule = [\"1s\", \"1s\", \"1s\", \"1s\"]\njitter = 0.0\n\
         [delivery.auto_disable]\nfailures = 3\nfailing_for = \"0s\"\n"
    )
}

fn message(id: &str) -> Value {
    json!({"type": "a.b", "id": id, "endpoints": ["cfg"], "data": {"n": id}})
}

impl World {
    fn registry(&self) -> Registry {
        Registry::new(self.store.clone())
    }

    async fn status(&self, msg: &str) -> Option<(MessageStatus, u32)> {
        self.registry()
            .destination(CONFIG_APP, "cfg", msg)
            .await
            .unwrap()
            .map(|d| (d.status, d.attempts))
    }

    /// The operational webhooks received at the configured operational endpoint, (type, data).
    fn operational(&self) -> Vec<(String, Value)> {
        self.sink
            .deliveries()
            .iter()
            .filter(|d| d["path"] == "/ok/cfgops")
            .map(|d| {
                assert_eq!(d["signature_valid"], true, "{d}");
                let body: Value = serde_json::from_str(d["body"].as_str().unwrap()).unwrap();
                (
                    body["type"].as_str().unwrap().to_owned(),
                    body["data"].clone(),
                )
            })
            .collect()
    }
}

/// The message id of a dead letter, after checking it was dead-lettered as disabled.
fn disabled_dead_letter(m: &aws_sdk_sqs::types::Message) -> String {
    assert_eq!(
        attr(m, "hookline-error"),
        Some(
            "endpoint_disabled: endpoint \"cfg\" was disabled after failing (re-enable it, then replay)"
        ),
        "{m:?}"
    );
    assert_eq!(attr(m, "hookline-endpoint"), Some("cfg"));
    let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
    assert_eq!(body["endpoint"], "cfg");
    body["message_id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_endpoint_failing_as_the_policy_says_is_disabled_once_then_dead_lettered_until_reset()
 {
    // No staleness: every delivery reads the health, so what another record of the same batch
    // did is seen at once (the cache's bound is the other test's subject).
    let toml = config("0s")
        + "[endpoints.cfg]\nurl = \"{sink}/fail/3/then/200/cfg\"\nsecrets = [\"env:SINK_WHSEC\"]\n";
    let h = world("histcfg-disable", &toml).await;
    // Three messages in one batch: their first attempts fail, and the third failure disables
    // the endpoint, by conditional write, exactly once.
    for i in 1..=3 {
        h.w.send(&message(&format!("evt_c{i}"))).await;
    }
    h.w.settle(&h.sink, Duration::from_secs(20), || {
        !h.operational().is_empty()
    })
    .await;
    let health = h.registry().health(CONFIG_APP, "cfg").await.unwrap();
    assert!(health.disabled, "{health:?}");
    assert_eq!(h.sink.hits("/fail/3/then/200/cfg"), 3);
    let ops = h.operational();
    assert_eq!(ops.len(), 1, "{ops:#?}");
    let (kind, data) = &ops[0];
    assert_eq!(kind, "endpoint.disabled");
    assert_eq!(data["appId"], CONFIG_APP);
    assert_eq!(data["endpointId"], "cfg");
    assert_eq!(data["trigger"], "automatic");
    assert!(data["failSince"].is_string(), "{data}");
    let logs = h.w.log_text();
    assert!(logs.contains("\"msg\":\"endpoint_disabled\""), "{logs}");
    assert!(logs.contains("\"EndpointDisabled\""));

    // None is retried: each is recorded as skipped, after its one attempt, and kept in the
    // dead-letter queue (the store does not keep configured messages).
    let mut dead = h.w.wait_dlq(3).await;
    let mut ids: Vec<String> = dead.iter().map(disabled_dead_letter).collect();
    ids.sort();
    assert_eq!(ids, ["evt_c1", "evt_c2", "evt_c3"]);
    for id in &ids {
        assert_eq!(
            h.status(id).await,
            Some((MessageStatus::Skipped, 1)),
            "{id}"
        );
        assert!(
            h.registry()
                .message(CONFIG_APP, id)
                .await
                .unwrap()
                .is_none()
        );
    }

    // While disabled, a new message is never POSTed: skipped and dead-lettered.
    h.w.send(&message("evt_later")).await;
    h.w.settle(&h.sink, Duration::from_secs(10), || true).await;
    let later = h.w.wait_dlq(1).await;
    assert_eq!(later.len(), 1, "{later:?}");
    assert_eq!(disabled_dead_letter(&later[0]), "evt_later");
    assert_eq!(attr(&later[0], "hookline-attempts"), Some("0"));
    assert_eq!(
        h.status("evt_later").await,
        Some((MessageStatus::Skipped, 0))
    );
    assert_eq!(h.sink.hits("/fail/3/then/200/cfg"), 3);
    assert_eq!(h.operational().len(), 1, "still exactly one");

    // Enabled again (what `PATCH /app/_config/endpoint/cfg {"disabled": false}` does), a replay
    // of the dead letters delivers every one.
    h.registry().reset_health(CONFIG_APP, "cfg").await.unwrap();
    dead.extend(later);
    for m in &dead {
        h.w.send_raw(m.body().unwrap()).await;
    }
    h.w.settle(&h.sink, Duration::from_secs(10), || {
        h.sink.hits("/fail/3/then/200/cfg") == 7
    })
    .await;
    for id in ["evt_c1", "evt_c2", "evt_c3", "evt_later"] {
        assert_eq!(
            h.status(id).await.map(|s| s.0),
            Some(MessageStatus::Success),
            "{id}"
        );
    }
    assert!(h.w.dlq_messages().await.is_empty());
    assert_eq!(h.operational().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_healthy_configured_endpoint_reads_its_health_once_per_cache_window() {
    let toml = config("30s")
        + "[endpoints.cfg]\nurl = \"{sink}/ok/cfg\"\nsecrets = [\"env:SINK_WHSEC\"]\n";
    let h = world("histcfg-cache", &toml).await;
    h.w.send(&message("evt_h0")).await;
    h.w.settle(&h.sink, Duration::from_secs(10), || {
        h.sink.hits("/ok/cfg") == 1
    })
    .await;
    // The first delivery reads it (clean), and its success then needs no read.
    assert_eq!(h.store.hook().0.load(Ordering::SeqCst), 1);
    for i in 1..=5 {
        h.w.send(&message(&format!("evt_h{i}"))).await;
    }
    h.w.settle(&h.sink, Duration::from_secs(10), || {
        h.sink.hits("/ok/cfg") == 6
    })
    .await;
    assert_eq!(
        h.store.hook().0.load(Ordering::SeqCst),
        1,
        "a steady stream within the window reads nothing more"
    );
    assert_eq!(h.status("evt_h5").await, Some((MessageStatus::Success, 1)));
    assert!(h.w.dlq_messages().await.is_empty());
}
