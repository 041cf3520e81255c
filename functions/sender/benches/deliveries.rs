//! Deliveries per second of the sender's handler against a local HTTP sink, beside a peer
//! measured in the same run: bare `reqwest` POSTing the same bodies with the same concurrency.
//! The handler does everything a delivery needs (decode, render, sign, SSRF-checked POST, retry
//! decision, log lines); the ratio says what that costs over the bare HTTP round trip.
//!
//!     cargo bench -p hookline-sender --bench deliveries            # both runtimes
//!
//! The same handler runs again with the delivery history on (every attempt and the message's
//! status are written, 3 writes per delivery, and the endpoint's health read once while it stays
//! healthy, per `api.registry_cache`), beside itself with history off: the CPU the history costs
//! the sender, not a database's latency. Twice: over a store that takes each write and keeps
//! nothing (`Remote`: as a database elsewhere does, from the sender's side: the record is encoded
//! and handed over; the goal is checked on this one), and over the in-memory store, which also
//! does the database's own work (keeping every record in the sender's heap: a few hundred MB by
//! the end of the run).
//!
//! Batches of 10 (the event source mapping's default), concurrent within the batch, connections
//! reused. Runs once on a one-thread runtime (the per-core figure; the sink shares that thread)
//! and once multi-threaded. With `HOOKLINE_BENCH_JSON` naming a file, one JSON object per figure
//! is appended to it (`hookline_tests::bench::record`).
// A benchmark, not attacker-facing code: panics on a broken setup are what we want.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use hookline_api::memory::MemoryStore;
use hookline_api::{Item, Kind, Store, StoreError};
use hookline_core::config::Config;
use hookline_core::envelope::{DeliveryMessage, OutboundMessage};
use hookline_core::time::Timestamp;
use hookline_sender::observe::Logger;
use hookline_sender::registry::RegistryCache;
use hookline_sender::{Sender, Settings, SystemClock};
use hookline_tests::bench;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BATCH: usize = 10;
const RUN: Duration = Duration::from_secs(3);
/// The goal, in deliveries per second on one core.
const GOAL_PER_CORE: f64 = 5_000.0;
/// The goal against the peer (issue 20): the handler at least this share of bare reqwest's rate.
const GOAL_BARE_RATIO: f64 = 0.85;
/// The goal for history on, as a share of the same handler's rate with history off.
const GOAL_HISTORY_RATIO: f64 = 0.8;

/// A keep-alive HTTP/1.1 sink that answers 204 to everything and counts requests.
async fn sink(count: Arc<AtomicU64>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(8192);
                let mut chunk = [0u8; 8192];
                loop {
                    // Read one request: head, then Content-Length bytes of body.
                    let (head_end, len) = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                            let len = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                            break (i + 4, len);
                        }
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    };
                    while buf.len() < head_end + len {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    buf.drain(..head_end + len);
                    count.fetch_add(1, Ordering::Relaxed);
                    if sock
                        .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// One configured endpoint, the sink at `url` (loopback, allowed by the SSRF guard).
fn sink_config(url: &str) -> Config {
    Config::from_toml(&format!(
        "[delivery]\nssrf_allow = [\"127.0.0.0/8\"]\n[endpoints.sink]\nurl = \"{url}\"\nsecrets = [\"literal:whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]\n"
    ))
    .unwrap()
}

fn event(i: u64) -> SqsEvent {
    let msg: OutboundMessage = OutboundMessage::from_json(
        br#"{"type":"invoice.paid","data":{"id":"in_1","amount":4200,"currency":"usd","customer":{"id":"cus_1","email":"ada@example.com"},"lines":[{"sku":"pro","qty":1}]}}"#,
    )
    .unwrap();
    let mut ev = SqsEvent::default();
    for j in 0..BATCH as u64 {
        let d = DeliveryMessage::new(
            format!("msg_{i}_{j}"),
            "sink".into(),
            &msg,
            Timestamp::from_unix_secs(1_763_900_000),
        );
        let mut rec = SqsMessage::default();
        rec.message_id = Some(format!("{i}-{j}"));
        rec.receipt_handle = Some("r".into());
        rec.body = Some(String::from_utf8(d.to_json()).unwrap());
        rec.attributes
            .insert("ApproximateReceiveCount".into(), "1".into());
        ev.records.push(rec);
    }
    ev
}

/// Deliveries per second of `sender` over `RUN`, after a warm-up.
async fn measure(sender: &Sender, count: &AtomicU64, buf: &std::sync::Mutex<Vec<String>>) -> f64 {
    for i in 0..20 {
        sender.handle(event(i), &SystemClock).await;
    }
    buf.lock().unwrap().clear();
    let before = count.load(Ordering::Relaxed);
    let start = Instant::now();
    // Only the handler is timed: building each batch's SqsEvent (what SQS and the Lambda runtime
    // hand the handler) is the bench's work, not the sender's, as the peer's request bodies are
    // made before its POSTs.
    let mut in_handler = Duration::ZERO;
    let mut i = 1000;
    while start.elapsed() < RUN {
        let ev = event(i);
        let t = Instant::now();
        let resp = sender.handle(ev, &SystemClock).await;
        in_handler += t.elapsed();
        assert!(resp.batch_item_failures.is_empty());
        i += 1;
        buf.lock().unwrap().clear();
    }
    (count.load(Ordering::Relaxed) - before) as f64 / in_handler.as_secs_f64()
}

/// What one runtime measured, in deliveries (or posts) per second.
struct Rates {
    handler: f64,
    bare: f64,
    history: f64,
    history_memory: f64,
}

/// A store elsewhere, from the sender's side: every write is taken (its bytes counted, so the
/// encoding cannot be optimised away) and nothing is kept; reads find nothing, so the endpoint
/// is healthy.
#[derive(Default)]
struct Remote {
    bytes: AtomicU64,
}

#[async_trait::async_trait]
impl Store for Remote {
    async fn create(
        &self,
        _: Kind,
        _: &str,
        _: &str,
        _: &[&str],
        doc: &str,
        _: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.bytes.fetch_add(doc.len() as u64, Ordering::Relaxed);
        Ok(())
    }
    async fn replace(
        &self,
        _: Kind,
        _: &str,
        _: &str,
        _: &[&str],
        _: &[&str],
        doc: &str,
    ) -> Result<(), StoreError> {
        self.bytes.fetch_add(doc.len() as u64, Ordering::Relaxed);
        Ok(())
    }
    async fn put(
        &self,
        _: Kind,
        _: &str,
        _: &str,
        doc: &str,
        _: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.bytes.fetch_add(doc.len() as u64, Ordering::Relaxed);
        Ok(())
    }
    async fn swap(
        &self,
        _: Kind,
        _: &str,
        _: &str,
        _: Option<&str>,
        doc: &str,
        _: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        self.bytes.fetch_add(doc.len() as u64, Ordering::Relaxed);
        Ok(true)
    }
    async fn get(&self, _: Kind, _: &str, _: &str) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
    async fn resolve(&self, _: Kind, _: &str, _: &str) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
    async fn list(
        &self,
        _: Kind,
        _: &str,
        _: Option<&str>,
        _: usize,
    ) -> Result<Vec<Item>, StoreError> {
        Ok(Vec::new())
    }
    async fn delete(&self, _: Kind, _: &str, _: &str, _: &[&str]) -> Result<bool, StoreError> {
        Ok(false)
    }
}

/// Measures the handler (history off, then on) and bare reqwest.
async fn run(label: &str) -> Rates {
    let count = Arc::new(AtomicU64::new(0));
    let port = sink(Arc::clone(&count)).await;
    let url = format!("http://127.0.0.1:{port}/hooks");
    let config = sink_config(&url);
    let settings = || Settings::from_config(&config, "q".into(), "dlq".into(), |_| None).unwrap();
    let sqs = hookline_tests::bench::offline_sqs();
    // Logs go nowhere: we measure the handler, not the terminal.
    let (log, buf) = Logger::capture();
    let sender = Sender::new(settings(), sqs.clone(), log.clone()).unwrap();
    let handler_rate = measure(&sender, &count, &buf).await;
    // History on: the configured endpoint's attempts, statuses and health (under `_config`),
    // over a store elsewhere, then over the in-memory store.
    let remote = Arc::new(Remote::default());
    let over = |store: Arc<dyn Store>| {
        Sender::new(settings(), sqs.clone(), log.clone())
            .unwrap()
            .with_registry(RegistryCache::new(
                store,
                config.api.registry_cache,
                config.api.retention,
                config.delivery.clone(),
            ))
    };
    let history_rate = measure(&over(remote.clone()), &count, &buf).await;
    assert!(
        remote.bytes.load(Ordering::Relaxed) > 0,
        "the history was written"
    );
    let history_memory_rate = measure(
        &over(Arc::new(MemoryStore::new(hookline_tests::now))),
        &count,
        &buf,
    )
    .await;

    // The peer: bare reqwest, same bodies, same concurrency, same reused connections.
    let client = reqwest::Client::new();
    let body = br#"{"type":"invoice.paid","timestamp":"2025-11-23T12:13:20Z","data":{"id":"in_1","amount":4200,"currency":"usd","customer":{"id":"cus_1","email":"ada@example.com"},"lines":[{"sku":"pro","qty":1}]}}"#.to_vec();
    let before = count.load(Ordering::Relaxed);
    let start = Instant::now();
    while start.elapsed() < RUN {
        let posts = (0..BATCH).map(|_| {
            client
                .post(&url)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
        });
        for r in futures_util::future::join_all(posts).await {
            assert_eq!(r.unwrap().status().as_u16(), 204);
        }
    }
    let bare_rate = (count.load(Ordering::Relaxed) - before) as f64 / start.elapsed().as_secs_f64();
    println!(
        "{label}: handler {handler_rate:.0} deliveries/s, bare reqwest {bare_rate:.0} posts/s, handler/bare = {:.2}; with history {history_rate:.0} deliveries/s, on/off = {:.2} (in-memory store: {history_memory_rate:.0}, {:.2})",
        handler_rate / bare_rate,
        history_rate / handler_rate,
        history_memory_rate / handler_rate
    );
    Rates {
        handler: handler_rate,
        bare: bare_rate,
        history: history_rate,
        history_memory: history_memory_rate,
    }
}

/// `HOOKLINE_BENCH_PROFILE=handler|history|bare`: only that measurement, on one thread, for
/// `HOOKLINE_BENCH_SECS` (default 10) seconds, for a profiler (`perf record`) to attach to.
fn profile(what: &str) {
    let secs = std::env::var("HOOKLINE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let count = Arc::new(AtomicU64::new(0));
            let port = sink(Arc::clone(&count)).await;
            let url = format!("http://127.0.0.1:{port}/hooks");
            let config = sink_config(&url);
            let settings =
                Settings::from_config(&config, "q".into(), "dlq".into(), |_| None).unwrap();
            let sqs = hookline_tests::bench::offline_sqs();
            let (log, buf) = Logger::capture();
            let mut sender = Sender::new(settings, sqs, log).unwrap();
            if what == "history" {
                sender = sender.with_registry(RegistryCache::new(
                    Arc::new(Remote::default()),
                    config.api.registry_cache,
                    config.api.retention,
                    config.delivery.clone(),
                ));
            }
            let start = Instant::now();
            let before = count.load(Ordering::Relaxed);
            let mut i = 0;
            while start.elapsed() < Duration::from_secs(secs) {
                sender.handle(event(i), &SystemClock).await;
                i += 1;
                buf.lock().unwrap().clear();
            }
            let rate =
                (count.load(Ordering::Relaxed) - before) as f64 / start.elapsed().as_secs_f64();
            println!("{what}: {rate:.0} deliveries/s");
        });
}

fn main() {
    if let Ok(what) = std::env::var("HOOKLINE_BENCH_PROFILE") {
        return profile(&what);
    }
    // What the multi-thread runtime starts.
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let one = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run("1 thread "));
    let multi = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(&format!("{threads} threads")));
    for (figure, value, bare, per_core) in [
        (
            "deliveries/s on one thread (the sink on the same thread)".to_owned(),
            one.handler,
            one.bare,
            true,
        ),
        (
            format!("deliveries/s on a multi-thread runtime ({threads} threads)"),
            multi.handler,
            multi.bare,
            false,
        ),
    ] {
        let ratio_met = value / bare >= GOAL_BARE_RATIO;
        bench::record(&bench::Figure {
            bench: "sender_deliveries",
            figure: &figure,
            value: value.round(),
            unit: "deliveries/s",
            peer: Some((
                "bare reqwest POSTs, same bodies and concurrency",
                bare.round(),
            )),
            goal: Some(if per_core {
                (
                    ">= 0.85x bare reqwest, and >= 5,000 deliveries/s per core",
                    ratio_met && value >= GOAL_PER_CORE,
                )
            } else {
                (">= 0.85x bare reqwest", ratio_met)
            }),
        });
    }
    for (runtime, r) in [
        ("one thread".to_owned(), &one),
        (format!("{threads} threads"), &multi),
    ] {
        let ratio = r.history / r.handler;
        bench::record(&bench::Figure {
            bench: "sender_deliveries",
            figure: &format!(
                "deliveries/s with the delivery history on, the store elsewhere ({runtime})"
            ),
            value: r.history.round(),
            unit: "deliveries/s",
            peer: Some(("the same handler, history off", r.handler.round())),
            goal: Some((">= 0.8x history off", ratio >= GOAL_HISTORY_RATIO)),
        });
        bench::record(&bench::Figure {
            bench: "sender_deliveries",
            figure: &format!(
                "deliveries/s with the delivery history on, in-memory store in the sender ({runtime})"
            ),
            value: r.history_memory.round(),
            unit: "deliveries/s",
            peer: Some(("the same handler, history off", r.handler.round())),
            goal: None,
        });
    }
}
