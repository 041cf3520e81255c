//! Store reads per message for messages naming an application, with the sender's registry cache
//! (`api.registry_cache`, 30 s) beside the same sender with the cache off (0 s), in the same run.
//!
//!     cargo bench -p hookline-sender --bench registry_reads
//!
//! The store counts every read call (`get`, `resolve`, `list`): on DynamoDB each is one request
//! (`GetItem` or one `Query` page, `hookline-dynamodb`), so the figure is DynamoDB reads per
//! message. Reads of the registry (applications, endpoints) are counted apart from the
//! history's (the endpoint's health, read by a success only when this sender has not found it
//! healthy within `api.registry_cache`: once in the cached run, at every delivery with the cache
//! off), and so are writes (the attempt under the message and under the endpoint, and the
//! message's status: three per delivery; see `handler/history.rs`). Messages name the
//! application by `uid`, as apps putting them straight on SQS do; deliveries go to a local sink.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use hookline_api::hooked::{Call, Hook, Hooked};
use hookline_api::memory::MemoryStore;
use hookline_api::{Kind, Store, StoreError};
use hookline_core::config::Config;
use hookline_sender::observe::Logger;
use hookline_sender::registry::RegistryCache;
use hookline_sender::{Sender, Settings, SystemClock};
use hookline_tests::bench;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MESSAGES: u64 = 500;

/// Counts reads (of the registry, and of the history) and writes, around the memory store.
#[derive(Default)]
struct Counting {
    reads: AtomicU64,
    history_reads: AtomicU64,
    writes: AtomicU64,
}

impl Hook for Counting {
    async fn before(&self, call: &Call<'_>) -> Result<(), StoreError> {
        let counter = if call.op.is_write() {
            &self.writes
        } else if matches!(call.kind, Kind::Application | Kind::Endpoint) {
            &self.reads
        } else {
            &self.history_reads
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

use hookline_tests::now;

/// A keep-alive sink answering 204 to every request.
async fn sink() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    // One request per read is enough for this bench's small bodies; answer each
                    // complete head+body seen.
                    while let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                        if buf.len() < i + 4 + len {
                            break;
                        }
                        buf.drain(..i + 4 + len);
                        if sock
                            .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

/// Store calls per message for `MESSAGES` messages with cache staleness `ttl`.
struct PerMessage {
    /// Registry reads (applications, endpoints).
    reads: f64,
    /// History reads (health, statuses).
    history_reads: f64,
    /// Writes (all history).
    writes: f64,
}

async fn run(ttl: Duration, port: u16) -> PerMessage {
    let inner = Arc::new(MemoryStore::new(now));
    hookline_tests::seed_application(&*inner, "app_1", "acme").await;
    let ep = hookline_tests::endpoint(
        "app_1",
        "ep_1",
        format!("http://127.0.0.1:{port}/h"),
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    );
    hookline_tests::seed_endpoint(&*inner, &ep).await;
    let config = Config::from_toml("[delivery]\nssrf_allow = [\"127.0.0.0/8\"]\n").unwrap();
    let settings = Settings::from_config(&config, "q".into(), "dlq".into(), |_| None).unwrap();
    let sqs = hookline_tests::bench::offline_sqs();
    let (log, _buf) = Logger::capture();
    let store = Arc::new(Hooked::new(inner, Counting::default()));
    let dyn_store: Arc<dyn Store> = store.clone();
    let sender = Sender::new(settings, sqs, log)
        .unwrap()
        .with_registry(RegistryCache::new(
            dyn_store,
            ttl,
            Duration::from_secs(86_400),
            config.delivery.clone(),
        ));
    for i in 0..MESSAGES {
        let mut ev = SqsEvent::default();
        let mut rec = SqsMessage::default();
        rec.message_id = Some(format!("m{i}"));
        rec.receipt_handle = Some("r".into());
        // An API-minted id, so the sender does not also record the message itself.
        rec.body = Some(format!(
            r#"{{"type":"invoice.paid","application":"acme","id":"msg_{i:027}","data":{{"n":{i}}}}}"#
        ));
        rec.attributes
            .insert("ApproximateReceiveCount".into(), "1".into());
        ev.records.push(rec);
        let resp = sender.handle(ev, &SystemClock).await;
        assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    }
    let n = MESSAGES as f64;
    PerMessage {
        reads: store.hook().reads.load(Ordering::Relaxed) as f64 / n,
        history_reads: store.hook().history_reads.load(Ordering::Relaxed) as f64 / n,
        writes: store.hook().writes.load(Ordering::Relaxed) as f64 / n,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let port = sink().await;
    let cached = run(Duration::from_secs(30), port).await;
    let uncached = run(Duration::ZERO, port).await;
    println!(
        "store reads per message: {:.3} with the 30 s cache, {:.3} without; history reads per message: {:.3} / {:.3}; writes per message: {:.2} / {:.2}",
        cached.reads,
        uncached.reads,
        cached.history_reads,
        uncached.history_reads,
        cached.writes,
        uncached.writes
    );
    let record = bench::recorder("registry_reads");
    record(
        &format!(
            "store (DynamoDB) reads per message, registry cache 30 s ({MESSAGES} messages, one application)"
        ),
        cached.reads,
        "reads",
        Some(("the same sender, cache off", uncached.reads)),
        None,
    );
    record(
        &format!(
            "store reads per delivery for the history, registry cache 30 s (endpoint health, read once while it stays healthy; {MESSAGES} messages, one endpoint)"
        ),
        cached.history_reads,
        "reads",
        Some((
            "the same sender, cache off (health read at every delivery)",
            uncached.history_reads,
        )),
        None,
    );
    record(
        &format!(
            "store writes per delivery (attempt x2, message status x1; {MESSAGES} messages, one endpoint)"
        ),
        cached.writes,
        "writes",
        None,
        None,
    );
}
