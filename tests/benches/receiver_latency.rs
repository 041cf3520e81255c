//! Latency of the receiver's 200 path in workerd on loopback: a 1 KiB Stripe-signed event is
//! verified, enveloped and sent to the Cloudflare Queue (the send awaited) before the answer.
//! The peer, measured in the same run against the same Worker, is `GET /healthz`, which crosses
//! the same runtime, HTTP stack and config cache but does no verification and no queue send: the
//! ratio is what hookline's work costs on top of the platform. An unsigned POST of the same body
//! (refused with 401 before any envelope or queue send) separates the queue send's share.
//!
//!     infra/build-receiver.sh && cargo bench -p hookline-tests --bench receiver_latency
//!
//! Environment: `HOOKLINE_BENCH_REQUESTS` (default 2000 per path, after 200 warm-up requests).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use hookline_core::time::Timestamp;
use hookline_core::verify::SchemeKind;
use hookline_tests::STRIPE_SECRET;
use hookline_tests::bench::{Latencies, env_usize, ms};
use hookline_tests::harness::{ReceiverBuild, Workerd};
use serde_json::json;

/// Prints one line; returns p50 and p99.
fn report(name: &str, samples: Vec<Duration>) -> (Duration, Duration) {
    let l = Latencies::of(samples);
    println!(
        "{name:<32} n={:<5} p50 {:>7.3} ms  p90 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms",
        l.n,
        ms(l.p50),
        ms(l.p90),
        ms(l.p99),
        ms(l.max),
    );
    (l.p50, l.p99)
}

/// Sends `req` and reads the whole answer, which must have `status`; returns how long it took.
async fn timed(req: reqwest::RequestBuilder, status: u16) -> Duration {
    let start = Instant::now();
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), status);
    res.bytes().await.unwrap();
    start.elapsed()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n = env_usize("HOOKLINE_BENCH_REQUESTS", 2000);
    let vars = json!({
        "HOOKLINE_CONFIG": { "sources": { "stripe": { "scheme": "stripe", "secrets": ["env:STRIPE_SECRET"] } } },
        "STRIPE_SECRET": STRIPE_SECRET,
    });
    let worker = Workerd::start(ReceiverBuild::Release, vars, false, 0);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let signer = hookline_tests::signer(SchemeKind::Stripe, STRIPE_SECRET);

    // Each request is a distinct event (its own id), signed now, as Stripe would send it.
    let event = |i: usize| {
        let mut body = format!(
            r#"{{"id":"evt_bench_{i:08}","object":"event","type":"invoice.paid","data":{{"object":{{"id":"in_1","memo":"PAD"}}}}}}"#
        );
        let pad = 1024 + 3 - body.len();
        body = body.replace("PAD", &"x".repeat(pad));
        let now = Timestamp::from_unix_secs(hookline_tests::now().unix_secs());
        let sig = hookline_tests::sign_post(&signer, "", "", body.as_bytes(), now);
        (body, sig)
    };
    let hook = worker.url("/hooks/stripe");
    let health = worker.url("/healthz");

    let post = |i: usize| {
        let (body, sig) = event(i);
        let mut req = client
            .post(&hook)
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in sig {
            req = req.header(name, value);
        }
        timed(req, 200)
    };
    let get = || timed(client.get(&health), 200);
    // The same body, unsigned: read, routed and refused (401) before any envelope or queue send.
    let unsigned = |i: usize| {
        let req = client
            .post(&hook)
            .header("content-type", "application/json")
            .body(event(i).0);
        timed(req, 401)
    };

    for i in 0..200 {
        post(1_000_000 + i).await;
        get().await;
        unsigned(i).await;
    }
    // Interleaved, so every path sees the same machine load.
    let (mut hooks, mut healths, mut refused) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for i in 0..n {
        hooks.push(post(i).await);
        healths.push(get().await);
        refused.push(unsigned(i).await);
    }
    println!("receiver in workerd (Miniflare 4.20260730.0), 1 connection, loopback:");
    let (p50, p99) = report("POST /hooks/stripe (1 KiB, 200)", hooks);
    let (h50, h99) = report("GET /healthz (peer)", healths);
    report("POST unsigned (401, no enqueue)", refused);
    println!(
        "ratio to the peer: p50 {:.2}x, p99 {:.2}x",
        p50.as_secs_f64() / h50.as_secs_f64(),
        p99.as_secs_f64() / h99.as_secs_f64()
    );
}
