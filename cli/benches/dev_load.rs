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
//! Environment: `HOOKLINE_BENCH_EVENTS` (default 3000), `HOOKLINE_BENCH_CONCURRENCY` (default 32),
//! `HOOKLINE_BENCH_DURABILITY` (the `--durability` settings to measure, comma-separated; default
//! all: `process`, the default, whose rows carry the plain names and the goals, then `power`,
//! whose rows say so).
//!
//! **Soak** (`HOOKLINE_SOAK_SECONDS=N`, run by `infra/soak.sh`): instead of the phases above, a
//! sustained load for a warm-up and then N seconds over `HOOKLINE_SOAK_CONCURRENCY` (16)
//! connections, 1 request in 20 with a wrong signature (401 expected), the senders holding off
//! while more than `HOOKLINE_SOAK_BACKLOG` (5000) accepted events are undelivered; every answer
//! is checked, the queue is drained at the end and every accepted event must have reached the
//! sink (each carries a `"ref"` number the sink records), none of the refused ones; the hookline
//! process's resident memory is sampled every 2 s (`hookline_tests::bench::Memory`). It exits 1
//! on an unexpected answer, a lost or stray delivery, a bad signature, or memory that is not flat.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::print_stdout)]

use std::collections::HashSet;
use std::convert::Infallible;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt as _;
use hookline_core::headers::Headers;
use hookline_core::secret::Secret;
use hookline_core::verify::{Request, SchemeKind, Signer, Verifier};
use hookline_tests::bench::{self, Latencies, env_usize, loadavg, ms};
use hookline_tests::{now, sign_with};
use http_body_util::{BodyExt as _, Full};

const IN_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OUT_SECRET: &str = "whsec_aG9va2xpbmUtZGVtby1vdXRib3VuZC1rZXkhIQ==";

/// What the sink saw of the soak's events: the `"ref"` number of each verified delivery.
#[derive(Default)]
struct Delivered {
    refs: Mutex<HashSet<u64>>,
    /// `refs.len()`, readable without the lock.
    unique: AtomicU64,
}

/// The soak's events carry `"ref":<n>` in their body, which the relay keeps in `data`.
fn soak_ref(body: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\"ref\":";
    let at = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let digits: String = body[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| char::from(b))
        .collect();
    digits.parse().ok()
}

/// A sink on loopback that verifies each delivery's signature and counts the valid ones (and,
/// for the soak, records which events they were in `delivered`).
async fn start_sink(delivered: Arc<Delivered>) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let valid = Arc::new(AtomicUsize::new(0));
    let invalid = Arc::new(AtomicUsize::new(0));
    let verifier = Arc::new(
        Verifier::new(
            SchemeKind::StandardWebhooks,
            vec![Secret::new(OUT_SECRET).unwrap()],
        )
        .unwrap(),
    );
    let (v, i) = (Arc::clone(&valid), Arc::clone(&invalid));
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (v, i, verifier, d) = (
                Arc::clone(&v),
                Arc::clone(&i),
                Arc::clone(&verifier),
                Arc::clone(&delivered),
            );
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let (v, i, verifier, d) = (
                            Arc::clone(&v),
                            Arc::clone(&i),
                            Arc::clone(&verifier),
                            Arc::clone(&d),
                        );
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
                                if let Some(n) = soak_ref(&body)
                                    && d.refs.lock().unwrap().insert(n)
                                {
                                    d.unique.fetch_add(1, Ordering::Relaxed);
                                }
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
fn report(name: &str, lat: Vec<Duration>, wall: Duration) -> (f64, f64, f64) {
    let l = Latencies::of(lat);
    let rate = l.n as f64 / wall.as_secs_f64();
    println!(
        "{name:<34} n={:<5} {rate:>8.0}/s  p50 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms",
        l.n,
        ms(l.p50),
        ms(l.p99),
        ms(l.max)
    );
    (ms(l.p50), ms(l.p99), rate)
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

/// What the soak needs of the running `hookline dev` and its sink.
struct Soak {
    client: reqwest::Client,
    /// `POST` here: the `demo` source (Standard Webhooks, relayed to the sink).
    url: String,
    signer: Arc<Signer>,
    delivered: Arc<Delivered>,
    /// Deliveries whose signature verified at the sink, and those whose signature did not.
    valid: Arc<AtomicUsize>,
    invalid: Arc<AtomicUsize>,
    /// The hookline process.
    pid: u32,
}

/// What the soak's senders share.
struct SoakState {
    answers: bench::Answers,
    /// Every event answered 200, by its `"ref"` number.
    accepted: Mutex<HashSet<u64>>,
    gate: bench::SoakGate,
}

/// The soak (`HOOKLINE_SOAK_SECONDS`): `hookline dev` end to end (receive, verify, commit to the
/// SQLite queue, relay, sign, deliver to the sink, which verifies every signature) under a
/// sustained load for `seconds` after a warm-up, with the hookline process's resident memory
/// sampled all along. Events are signed when sent, over a fixed number of connections in a
/// closed loop, one in `SOAK_BAD_EVERY` with a wrong signature (401 expected); the senders hold
/// off while more than `soak_backlog()` accepted events are undelivered, so the load is what dev
/// sustains end to end. At the end it waits for the queue to drain: every accepted event must
/// reach the sink (by its `"ref"`), and no refused one. Returns whether it passed.
async fn soak(dev: Soak, seconds: u64) -> bool {
    let concurrency = bench::soak_concurrency();
    let cap = bench::soak_backlog();
    let warm_up = bench::soak_warm_up(seconds);
    let dev = Arc::new(dev);
    let state = Arc::new(SoakState {
        answers: bench::Answers::default(),
        accepted: Mutex::new(HashSet::new()),
        gate: bench::SoakGate::default(),
    });
    let unique_before = dev.delivered.unique.load(Ordering::Relaxed);
    let valid_before = dev.valid.load(Ordering::Relaxed) as u64;
    println!(
        "dev_load soak: hookline dev (pid {}), {concurrency} connections, 1 in {} with a wrong \
         signature, backlog held under {cap}; {} s warm-up, then {seconds} s measured; load \
         average {}",
        dev.pid,
        bench::SOAK_BAD_EVERY,
        warm_up.as_secs(),
        loadavg()
    );
    let delivered_now = {
        let dev = Arc::clone(&dev);
        move || dev.delivered.unique.load(Ordering::Relaxed) - unique_before
    };
    let senders: Vec<_> = (0..concurrency)
        .map(|_| {
            let (dev, state, delivered_now) =
                (Arc::clone(&dev), Arc::clone(&state), delivered_now.clone());
            tokio::spawn(async move {
                let answers = &state.answers;
                let backlog = || {
                    let done = delivered_now();
                    answers.accepted.load(Ordering::Relaxed).saturating_sub(done)
                };
                while let Some(n) = state.gate.next(cap, backlog).await {
                    let wrong = n % bench::SOAK_BAD_EVERY == 0;
                    let id = format!("msg_soak_{n}");
                    let body = format!(
                        r#"{{"type":"order.created","data":{{"ref":{n},"items":[{{"sku":"A-1","qty":2}}],"total":"19.98"}}}}"#
                    )
                    .into_bytes();
                    let mut headers = sign_with(&dev.signer, &id, &body);
                    if wrong {
                        // `v1,<base64>`: change the first character of the MAC (the last one
                        // may only carry padding bits).
                        let (_, value) = headers
                            .iter_mut()
                            .find(|(k, _)| k == "webhook-signature")
                            .unwrap();
                        let first = if value.as_bytes()[3] == b'A' { "B" } else { "A" };
                        value.replace_range(3..4, first);
                    }
                    let mut request = dev
                        .client
                        .post(&dev.url)
                        .header("content-type", "application/json")
                        .body(body);
                    for (k, v) in &headers {
                        request = request.header(k.as_str(), v.as_str());
                    }
                    let answer = match request.send().await {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            r.text().await.map(|body| (status, body))
                        }
                        Err(e) => Err(e),
                    };
                    let expected = if wrong {
                        (401, "{\"error\":\"signature_mismatch\"}\n".to_owned())
                    } else {
                        (200, format!("{{\"ok\":true,\"id\":\"{id}\"}}\n"))
                    };
                    match answer {
                        Ok(got) if got == expected => {
                            if wrong {
                                answers.refused.fetch_add(1, Ordering::Relaxed);
                            } else {
                                state.accepted.lock().unwrap().insert(n);
                                answers.accepted.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Ok((status, body)) => answers.error(format!(
                            "{id}: {status} {body} (expected {} {})",
                            expected.0, expected.1
                        )),
                        Err(e) => answers.error(format!("{id}: {e}")),
                    }
                }
            })
        })
        .collect();

    tokio::time::sleep(warm_up).await;
    let progress = {
        let (state, delivered_now) = (Arc::clone(&state), delivered_now.clone());
        let last = bench::RateSince::new(state.answers.total());
        move || {
            let total = state.answers.total();
            let rate = last.rate(total);
            let accepted = state.answers.accepted.load(Ordering::Relaxed);
            let delivered = delivered_now();
            format!(
                "{rate:>6.0} req/s  answered {total}  errors {}  delivered {delivered}  backlog {}",
                state.answers.errors.load(Ordering::Relaxed),
                accepted.saturating_sub(delivered)
            )
        }
    };
    let answered_before = state.answers.total();
    let delivered_before = delivered_now();
    let sampler = bench::RssSampler::start(
        vec![dev.pid],
        bench::soak_sample_interval(seconds),
        progress,
    );
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let answered = state.answers.total() - answered_before;
    let delivered_in_phase = delivered_now() - delivered_before;
    let elapsed = started.elapsed();
    let samples = sampler.finish();
    state.gate.stop();
    for s in senders {
        s.await.unwrap();
    }

    // The drain: every accepted event must reach the sink.
    let accepted = state.answers.accepted.load(Ordering::Relaxed);
    let drain_started = Instant::now();
    while delivered_now() < accepted && drain_started.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Late deliveries of refused events would show here.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let drain = drain_started.elapsed();
    let (lost, stray, delivered) = {
        let accepted = state.accepted.lock().unwrap();
        let delivered = dev.delivered.refs.lock().unwrap();
        (
            accepted.difference(&delivered).count() as u64,
            delivered.difference(&accepted).count() as u64,
            accepted.intersection(&delivered).count() as u64,
        )
    };
    let invalid = dev.invalid.load(Ordering::Relaxed) as u64;
    // At least once: a redelivery is allowed (same event, same signature scheme), so only shown.
    let duplicates =
        (dev.valid.load(Ordering::Relaxed) as u64 - valid_before).saturating_sub(delivered_now());

    let answers = &state.answers;
    let errors = answers.errors.load(Ordering::Relaxed);
    let refused = answers.refused.load(Ordering::Relaxed);
    let total = answers.total();
    let rate = answered as f64 / elapsed.as_secs_f64();
    let e2e = delivered_in_phase as f64 / elapsed.as_secs_f64();
    println!(
        "\n{answered} requests in {:.0} s = {rate:.0} req/s, {e2e:.0} events/s delivered; over the \
         whole soak (warm-up included) {total} answered: {accepted} accepted, {refused} refused \
         as expected, {errors} unexpected; drained in {:.1} s: {delivered} of the accepted \
         delivered ({lost} lost, {duplicates} delivered twice), {stray} deliveries of events not \
         accepted, {invalid} signatures failed at the sink; senders waited {} times; load \
         average {}",
        elapsed.as_secs_f64(),
        drain.as_secs_f64(),
        state.gate.waits.load(Ordering::Relaxed),
        loadavg()
    );
    for e in answers.first_errors() {
        println!("  unexpected: {e}");
    }
    if let Some(peak) = bench::peak_rss_kib(dev.pid) {
        println!(
            "hookline dev peak RSS (VmHWM) {:.1} MiB",
            peak as f64 / 1024.0
        );
    }
    let record = bench::recorder("dev_load");
    record(
        &format!(
            "requests/s, {concurrency} connections, 1 in {} with a wrong signature",
            bench::SOAK_BAD_EVERY
        ),
        rate.round(),
        "req/s",
        None,
        None,
    );
    record(
        "events/s delivered to the sink (signature checked)",
        e2e.round(),
        "events/s",
        None,
        None,
    );
    bench::record_soak_answers("dev_load", total, errors);
    let delivery_ok = lost == 0 && stray == 0 && invalid == 0;
    record(
        "accepted events delivered after the drain (signature checked)",
        delivered as f64,
        "events",
        Some(("events accepted (200)", accepted as f64)),
        Some(("all, 0 lost, none refused delivered", delivery_ok)),
    );
    let flat = bench::record_soak_memory("dev_load", "hookline dev", &samples);
    bench::soak_verdict(
        flat,
        &[
            (errors, "unexpected answers"),
            (lost, "lost"),
            (stray, "stray"),
            (invalid, "bad signatures"),
        ],
    )
}

/// The durability settings measured (`--durability`), the default first; its rows keep their
/// names, the others' say the setting. `HOOKLINE_BENCH_DURABILITY` (a comma-separated list)
/// picks some.
const DURABILITIES: [(&str, &str); 2] = [
    ("process", ""),
    ("power", "; --durability power (a disk sync at each commit)"),
];

/// A running `hookline dev` and where to reach it.
struct Dev {
    child: std::process::Child,
    base: String,
    /// Keeps the configuration and data directory alive.
    _dir: tempfile::TempDir,
}

impl Dev {
    /// Starts `hookline dev --durability {durability}` relaying the `demo` source to `sink`.
    fn start(sink: &str, durability: &str) -> Self {
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
            .args(["--json", "dev", "--port", &port.to_string(), "--durability"])
            .arg(durability)
            .arg("--config")
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
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` signed events for the `demo` source of `base`, ids tagged `tag`.
fn signed(base: &str, signer: &Signer, n: usize, tag: &str) -> Vec<Planned> {
    (0..n)
        .map(|i| {
            let body = format!(
                r#"{{"type":"order.created","data":{{"id":{i},"tag":"{tag}","items":[{{"sku":"A-1","qty":2}}],"total":"19.98"}}}}"#
            )
            .into_bytes();
            let headers = sign_with(signer, &format!("msg_{tag}_{i}"), &body);
            (format!("{base}/hooks/demo"), headers, Some(body))
        })
        .collect()
}

/// The sink and what it counts.
struct Sink {
    url: String,
    valid: Arc<AtomicUsize>,
    invalid: Arc<AtomicUsize>,
}

/// Waits until the sink has verified `until` deliveries (at most 600 s).
async fn delivered(sink: &Sink, until: usize) {
    let started = Instant::now();
    while sink.valid.load(Ordering::Relaxed) < until {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "only {} delivered, {until} expected",
            sink.valid.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The latency and throughput phases against one `hookline dev`; its rows' names end with
/// `suffix`, and only the default setting's carry the issue's goals.
async fn measure(
    dev: &Dev,
    sink: &Sink,
    client: &reqwest::Client,
    signer: &Signer,
    (events, concurrency): (usize, usize),
    (suffix, goals): (&str, bool),
) {
    let base = &dev.base;
    // Warm up (connections, SQLite pages), then wait for those deliveries.
    let before = sink.valid.load(Ordering::Relaxed);
    drive(client, signed(base, signer, 200, "warm"), concurrency).await;
    delivered(sink, before + 200).await;

    // Latency alone: one request at a time, so nothing waits behind another commit.
    let one = 500.min(events);
    let health: Vec<_> = (0..one)
        .map(|_| (format!("{base}/healthz"), Vec::new(), None))
        .collect();
    let (hl, hw) = drive(client, health, 1).await;
    let (s50, s99, _) = report("GET /healthz, 1 in flight (peer)", hl, hw);
    let before = sink.valid.load(Ordering::Relaxed);
    let (rl, rw) = drive(client, signed(base, signer, one, "one"), 1).await;
    let (o50, o99, _) = report("POST /hooks/demo, 1 in flight", rl, rw);
    delivered(sink, before + one).await;
    println!(
        "ratios (1 in flight): receive p50 {:.2}x and p99 {:.2}x of /healthz",
        o50 / s50,
        o99 / s99
    );
    let healthz = "GET /healthz, same process";
    let name = |what: &str| format!("{what}{suffix}");
    let p50_goal = goals.then_some(("<= 2x GET /healthz", o50 / s50 <= 2.0));
    figure(
        &name("receive p50, 1 in flight"),
        o50,
        "ms",
        (healthz, s50),
        p50_goal,
    );
    figure(
        &name("receive p99, 1 in flight"),
        o99,
        "ms",
        (healthz, s99),
        None,
    );

    let health: Vec<_> = (0..events)
        .map(|_| (format!("{base}/healthz"), Vec::new(), None))
        .collect();
    let (hl, hw) = drive(client, health, concurrency).await;
    let (h50, h99, hrate) = report("GET /healthz (peer)", hl, hw);

    let before = sink.valid.load(Ordering::Relaxed);
    let started = Instant::now();
    let (rl, rw) = drive(client, signed(base, signer, events, "load"), concurrency).await;
    let (r50, r99, rrate) = report("POST /hooks/demo → 200 (committed)", rl, rw);
    delivered(sink, before + events).await;
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
                format!("{}/direct", sink.url),
                Vec::new(),
                Some(format!("{{\"i\":{i}}}").into_bytes()),
            )
        })
        .collect();
    let (dl, dw) = drive(client, direct, concurrency).await;
    let (_, _, drate) = report("POST straight to the sink (peer)", dl, dw);
    let e2e_rate = events as f64 / e2e.as_secs_f64();
    println!(
        "ratios ({concurrency} in flight): receive p50 {:.2}x and p99 {:.2}x of /healthz; end-to-end rate {:.2}x of bare POSTs to the sink",
        r50 / h50,
        r99 / h99,
        e2e_rate / drate
    );
    let at = |what: &str| name(&format!("{what}, {concurrency} in flight"));
    figure(&at("receives/s"), rrate, "req/s", (healthz, hrate), None);
    figure(&at("receive p50"), r50, "ms", (healthz, h50), None);
    figure(&at("receive p99"), r99, "ms", (healthz, h99), None);
    let e2e_goal = goals.then_some((
        ">= 0.3x bare POSTs, and >= 2,000 events/s",
        e2e_rate / drate >= 0.3 && e2e_rate >= 2000.0,
    ));
    figure(
        &name(&format!(
            "end to end (received → delivered, signature checked), {events} events, {concurrency} in flight"
        )),
        e2e_rate,
        "events/s",
        ("bare POSTs to the same sink", drate),
        e2e_goal,
    );
    assert_eq!(
        sink.invalid.load(Ordering::Relaxed),
        0,
        "a delivery failed verification"
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks harness=false benches to list themselves
    }
    let events = env_usize("HOOKLINE_BENCH_EVENTS", 3000);
    let concurrency = env_usize("HOOKLINE_BENCH_CONCURRENCY", 32);
    let delivered_refs = Arc::new(Delivered::default());
    let (url, valid, invalid) = start_sink(Arc::clone(&delivered_refs)).await;
    let sink = Sink {
        url,
        valid,
        invalid,
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let signer = Arc::new(hookline_tests::signer(
        SchemeKind::StandardWebhooks,
        IN_SECRET,
    ));

    if let Some(seconds) = bench::soak_seconds() {
        // The soak runs the default setting.
        let dev = Dev::start(&sink.url, DURABILITIES[0].0);
        let before = sink.valid.load(Ordering::Relaxed);
        drive(
            &client,
            signed(&dev.base, &signer, 200, "warm"),
            concurrency,
        )
        .await;
        delivered(&sink, before + 200).await;
        let passed = soak(
            Soak {
                client: client.clone(),
                url: format!("{}/hooks/demo", dev.base),
                signer: Arc::clone(&signer),
                delivered: Arc::clone(&delivered_refs),
                valid: Arc::clone(&sink.valid),
                invalid: Arc::clone(&sink.invalid),
                pid: dev.child.id(),
            },
            seconds,
        )
        .await;
        dev.stop();
        if !passed {
            std::process::exit(1);
        }
        return;
    }

    let chosen = std::env::var("HOOKLINE_BENCH_DURABILITY").unwrap_or_default();
    for (i, (durability, suffix)) in DURABILITIES.iter().enumerate() {
        if !chosen.is_empty() && !chosen.split(',').any(|c| c.trim() == *durability) {
            continue;
        }
        println!(
            "hookline dev load (--durability {durability}): {events} events, {concurrency} in flight, sink verifies every signature"
        );
        let dev = Dev::start(&sink.url, durability);
        measure(
            &dev,
            &sink,
            &client,
            &signer,
            (events, concurrency),
            (suffix, i == 0),
        )
        .await;
        dev.stop();
    }
}
