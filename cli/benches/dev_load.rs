//! Load on `hookline dev`: end-to-end throughput (signed webhooks received, verified, committed to
//! the SQLite queue, relayed, signed again and delivered to a local sink that verifies every
//! signature) and the receive latency (request sent → `200` after the durable commit).
//!
//!     cargo bench -p hookline-cli --bench dev_load
//!
//! Peers measured in the same run, against the same process: `GET /healthz` (same HTTP stack,
//! no verification, no commit) for latency, and a bare POST loop straight to the sink for
//! delivery throughput. The ratios are the stable figures on a noisy machine.
//!
//! Environment: `HOOKLINE_BENCH_EVENTS` (default 3000), `HOOKLINE_BENCH_CONCURRENCY` (default 32).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    missing_docs
)]

use std::convert::Infallible;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::StreamExt as _;
use hookline_core::headers::Headers;
use hookline_core::secret::Secret;
use hookline_core::time::Timestamp;
use hookline_core::verify::{Request, Scheme, Signer, Verifier};
use hookline_tests::bench;
use http_body_util::{BodyExt as _, Full};

const IN_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OUT_SECRET: &str = "whsec_aG9va2xpbmUtZGVtby1vdXRib3VuZC1rZXkhIQ==";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    Timestamp::from_unix_millis(ms as i64)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A sink on loopback that verifies each delivery's signature and counts the valid ones.
async fn start_sink() -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let valid = Arc::new(AtomicUsize::new(0));
    let invalid = Arc::new(AtomicUsize::new(0));
    let verifier = Arc::new(
        Verifier::new(
            Scheme::StandardWebhooks,
            vec![Secret::new(OUT_SECRET).unwrap()],
        )
        .unwrap(),
    );
    let (v, i) = (Arc::clone(&valid), Arc::clone(&invalid));
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (v, i, verifier) = (Arc::clone(&v), Arc::clone(&i), Arc::clone(&verifier));
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let (v, i, verifier) =
                            (Arc::clone(&v), Arc::clone(&i), Arc::clone(&verifier));
                        async move {
                            let direct = req.uri().path() == "/direct";
                            let mut headers = Headers::new();
                            for (k, val) in req.headers() {
                                headers.push(k.as_str(), val.to_str().unwrap_or("").to_owned());
                            }
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let r = Request {
                                method: "POST",
                                url: "http://127.0.0.1/",
                                headers: &headers,
                                body: &body,
                            };
                            if direct {
                                // The peer's requests: read, not verified.
                            } else if verifier.verify(&r, now()).is_ok() {
                                v.fetch_add(1, Ordering::Relaxed);
                            } else {
                                i.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok::<_, Infallible>(hyper::Response::new(Full::new(
                                Bytes::from_static(b"ok"),
                            )))
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), valid, invalid)
}

/// One request: URL, headers, and a body to POST (`None` = GET).
type Planned = (String, Vec<(String, String)>, Option<Vec<u8>>);

/// Sends every request with `concurrency` in flight; returns each one's latency and the wall time.
async fn drive(
    client: &reqwest::Client,
    requests: Vec<Planned>,
    concurrency: usize,
) -> (Vec<Duration>, Duration) {
    let started = Instant::now();
    let futs: Vec<_> = requests
        .into_iter()
        .map(|(url, headers, body)| {
            let client = client.clone();
            async move {
                let mut req = match body {
                    Some(b) => client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(b),
                    None => client.get(&url),
                };
                for (k, v) in &headers {
                    req = req.header(k.as_str(), v.as_str());
                }
                let t = Instant::now();
                let resp = req.send().await.unwrap();
                let status = resp.status().as_u16();
                let _ = resp.bytes().await;
                assert!(status < 300, "{url}: {status}");
                t.elapsed()
            }
        })
        .collect();
    let lat: Vec<Duration> = futures_util::stream::iter(futs)
        .buffer_unordered(concurrency)
        .collect()
        .await;
    (lat, started.elapsed())
}

/// Prints one line; returns p50, p99 (ms) and the rate (per second).
fn report(name: &str, mut lat: Vec<Duration>, wall: Duration) -> (f64, f64, f64) {
    lat.sort();
    let (p50, p99) = (percentile(&lat, 50.0), percentile(&lat, 99.0));
    let rate = lat.len() as f64 / wall.as_secs_f64();
    println!(
        "{name:<34} n={:<5} {rate:>8.0}/s  p50 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms",
        lat.len(),
        ms(p50),
        ms(p99),
        ms(*lat.last().unwrap())
    );
    (ms(p50), ms(p99), rate)
}

/// One figure for BENCHMARKS.md (see `hookline_tests::bench`).
fn figure(name: &str, value: f64, unit: &str, peer: (&str, f64), goal: Option<(&str, bool)>) {
    bench::record(&bench::Figure {
        bench: "dev_load",
        figure: name,
        value,
        unit,
        peer: Some(peer),
        goal,
    });
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks harness=false benches to list themselves
    }
    let events = env_usize("HOOKLINE_BENCH_EVENTS", 3000);
    let concurrency = env_usize("HOOKLINE_BENCH_CONCURRENCY", 32);
    let (sink, valid, invalid) = start_sink().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hookline.toml");
    std::fs::write(
        &config,
        format!(
            "[sources.demo]\nscheme = \"standard-webhooks\"\nsecrets = [\"literal:{IN_SECRET}\"]\n\
             destination = \"relay\"\n\n[endpoints.sink]\nurl = \"{sink}/hook\"\n\
             secrets = [\"literal:{OUT_SECRET}\"]\n\n[delivery]\nssrf_allow = [\"127.0.0.0/8\"]\n"
        ),
    )
    .unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_hookline"))
        .args(["--json", "dev", "--port", &port.to_string(), "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 && !line.contains("\"ready\"") {
        line.clear();
    }
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in out.lines() {});
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();

    let signer = Signer::new(
        Scheme::StandardWebhooks,
        vec![Secret::new(IN_SECRET).unwrap()],
    )
    .unwrap();
    let signed = |n: usize, tag: &str| {
        (0..n)
            .map(|i| {
                let body = format!(
                    r#"{{"type":"order.created","data":{{"id":{i},"tag":"{tag}","items":[{{"sku":"A-1","qty":2}}],"total":"19.98"}}}}"#
                )
                .into_bytes();
                let none = Headers::new();
                let req = Request {
                    method: "POST",
                    url: "http://127.0.0.1/",
                    headers: &none,
                    body: &body,
                };
                let headers = signer.sign(&req, &format!("msg_{tag}_{i}"), now()).unwrap();
                (format!("{base}/hooks/demo"), headers, Some(body))
            })
            .collect::<Vec<_>>()
    };

    println!(
        "hookline dev load: {events} events, {concurrency} in flight, sink verifies every signature"
    );
    // Warm up (connections, SQLite pages), then wait for those deliveries.
    drive(&client, signed(200, "warm"), concurrency).await;
    while valid.load(Ordering::Relaxed) < 200 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Latency alone: one request at a time, so nothing waits behind another commit.
    let one = 500.min(events);
    let health: Vec<_> = (0..one)
        .map(|_| (format!("{base}/healthz"), Vec::new(), None))
        .collect();
    let (hl, hw) = drive(&client, health, 1).await;
    let (s50, s99, _) = report("GET /healthz, 1 in flight (peer)", hl, hw);
    let before = valid.load(Ordering::Relaxed);
    let (rl, rw) = drive(&client, signed(one, "one"), 1).await;
    let (o50, o99, _) = report("POST /hooks/demo, 1 in flight", rl, rw);
    while valid.load(Ordering::Relaxed) < before + one {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!(
        "ratios (1 in flight): receive p50 {:.2}x and p99 {:.2}x of /healthz",
        o50 / s50,
        o99 / s99
    );
    let healthz = "GET /healthz, same process";
    figure("receive p50, 1 in flight", o50, "ms", (healthz, s50), None);
    figure("receive p99, 1 in flight", o99, "ms", (healthz, s99), None);

    let health: Vec<_> = (0..events)
        .map(|_| (format!("{base}/healthz"), Vec::new(), None))
        .collect();
    let (hl, hw) = drive(&client, health, concurrency).await;
    let (h50, h99, hrate) = report("GET /healthz (peer)", hl, hw);

    let before = valid.load(Ordering::Relaxed);
    let started = Instant::now();
    let (rl, rw) = drive(&client, signed(events, "load"), concurrency).await;
    let (r50, r99, rrate) = report("POST /hooks/demo → 200 (committed)", rl, rw);
    while valid.load(Ordering::Relaxed) < before + events {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "only {} of {events} delivered",
            valid.load(Ordering::Relaxed) - before
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let e2e = started.elapsed();
    println!(
        "end to end: {events} received and delivered in {:.2} s = {:.0} events/s (receive alone {:.0}/s)",
        e2e.as_secs_f64(),
        events as f64 / e2e.as_secs_f64(),
        events as f64 / rw.as_secs_f64()
    );

    // Peer: the same number of POSTs straight to the sink, same client, same concurrency.
    let direct: Vec<_> = (0..events)
        .map(|i| {
            (
                format!("{sink}/direct"),
                Vec::new(),
                Some(format!("{{\"i\":{i}}}").into_bytes()),
            )
        })
        .collect();
    let (dl, dw) = drive(&client, direct, concurrency).await;
    let (_, _, drate) = report("POST straight to the sink (peer)", dl, dw);
    let e2e_rate = events as f64 / e2e.as_secs_f64();
    println!(
        "ratios ({concurrency} in flight): receive p50 {:.2}x and p99 {:.2}x of /healthz; end-to-end rate {:.2}x of bare POSTs to the sink",
        r50 / h50,
        r99 / h99,
        e2e_rate / drate
    );
    let at = |what: &str| format!("{what}, {concurrency} in flight");
    figure(&at("receives/s"), rrate, "req/s", (healthz, hrate), None);
    figure(&at("receive p50"), r50, "ms", (healthz, h50), None);
    figure(&at("receive p99"), r99, "ms", (healthz, h99), None);
    figure(
        &format!(
            "end to end (received → delivered, signature checked), {events} events, {concurrency} in flight"
        ),
        e2e_rate,
        "events/s",
        ("bare POSTs to the same sink", drate),
        Some((">= 2,000 events/s", e2e_rate >= 2000.0)),
    );
    assert_eq!(
        invalid.load(Ordering::Relaxed),
        0,
        "a delivery failed verification"
    );
    let _ = child.kill();
    let _ = child.wait();
}
