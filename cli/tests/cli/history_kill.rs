//! Delivery history survives a `kill -9` of `hookline dev`: what the management API listed before
//! the kill (each attempt, and the message's status at each endpoint) is listed the same by a dev
//! restarted on the same data directory, and the retries that were due go on from there.

use std::time::{Duration, Instant};

use hookline_tests::harness::{Sink, free_port};
use reqwest::Method;
use serde_json::{Value, json};

use super::common::Dev;
use super::dev::{api, token_of};

/// The endpoints' signing secret, given at creation so the sink can check every delivery.
const ENDPOINT_SECRET: &str = "whsec_aGlzdG9yeS1zdXJ2aXZlcy1raWxsLTktb2YtZGV2";

/// Loopback opened for the sink, and retries every second for longer than the test runs, so the
/// failing endpoint's message is still pending when dev is killed and after it is back.
const CONFIG: &str = r#"[sources.gh]
scheme = "github"
secrets = ["literal:s"]

[api]
allow_http = true
registry_cache = "0s"

[delivery]
ssrf_allow = ["127.0.0.0/8"]
retry = { schedule = ["1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s"], jitter = 0.0 }
"#;

/// How long a delivery, or its record, may take.
pub(super) const DEADLINE: Duration = Duration::from_secs(20);

/// Polls `GET path` until `done` holds for its JSON answer, and returns that answer.
pub(super) async fn poll(
    dev: &Dev,
    token: &str,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let until = Instant::now() + DEADLINE;
    loop {
        let (status, got) = api(dev, Method::GET, path, Some(token), None).await;
        assert_eq!(status, 200, "GET {path}: {got}");
        if done(&got) {
            return got;
        }
        assert!(Instant::now() < until, "timed out polling {path}: {got}");
        // Records appear as the sender writes them; there is nothing to wait on but the clock.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `data` of a list answer.
pub(super) fn data(page: &Value) -> &[Value] {
    page["data"].as_array().map_or(&[], Vec::as_slice)
}

/// The attempts of a list at one endpoint.
fn at<'a>(page: &'a Value, endpoint: &Value) -> Vec<&'a Value> {
    data(page)
        .iter()
        .filter(|a| a["endpointId"] == endpoint["id"])
        .collect()
}

/// What must not change about an attempt across a restart.
fn essentials(a: &Value) -> Value {
    json!([
        a["id"],
        a["endpointId"],
        a["status"],
        a["responseStatusCode"],
        a["attempt"],
        a["trigger"],
        a["errorClass"],
        a["timestamp"],
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn delivery_history_survives_kill_9_of_dev() {
    let sink = Sink::start(&[ENDPOINT_SECRET]);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let dev = Dev::start(dir.path(), CONFIG, port);
    let token = token_of(&dev);

    let (status, app) = api(
        &dev,
        Method::POST,
        "/app",
        Some(&token),
        Some(json!({"name": "Kill", "uid": "kill"})),
    )
    .await;
    assert_eq!(status, 201, "{app}");
    let mut endpoints = Vec::new();
    for (uid, path) in [("ok", "/ok/kill"), ("down", "/status/500/kill")] {
        let (status, ep) = api(
            &dev,
            Method::POST,
            "/app/kill/endpoint",
            Some(&token),
            Some(json!({"url": sink.url(path), "uid": uid, "secret": ENDPOINT_SECRET})),
        )
        .await;
        assert_eq!(status, 201, "{ep}");
        endpoints.push(ep);
    }
    let (ok, down) = (&endpoints[0], &endpoints[1]);
    let (status, msg) = api(
        &dev,
        Method::POST,
        "/app/kill/msg",
        Some(&token),
        Some(json!({"eventType": "order.paid", "payload": {"n": 1}})),
    )
    .await;
    assert_eq!(status, 202, "{msg}");
    let msg_id = msg["id"].as_str().unwrap();
    let attempts_path = format!("/app/kill/attempt/msg/{msg_id}?limit=250");
    let destinations_path = format!("/app/kill/msg/{msg_id}/endpoint");

    // Delivered at `ok`, failed at least twice at `down`: then kill -9.
    let before = poll(&dev, &token, &attempts_path, |page| {
        at(page, ok).len() == 1 && at(page, down).len() >= 2
    })
    .await;
    for d in sink.wait_for(1, DEADLINE) {
        assert_eq!(d["signature_valid"], true, "{d}");
    }
    assert_eq!(at(&before, ok)[0]["status"], 0, "{before}");
    assert_eq!(at(&before, ok)[0]["responseStatusCode"], 200);
    for a in at(&before, down) {
        assert_eq!(a["responseStatusCode"], 500, "{a}");
        assert_ne!(a["status"], 0, "{a}");
    }
    let statuses = poll(&dev, &token, &destinations_path, |page| {
        let of = |ep: &Value| {
            data(page)
                .iter()
                .find(|d| d["id"] == ep["id"])
                .map(|d| d["status"].clone())
        };
        of(ok) == Some(json!(0)) && of(down) == Some(json!(1))
    })
    .await;
    // Read once more right before the kill, so nothing listed is missing after it.
    let (_, before) = api(&dev, Method::GET, &attempts_path, Some(&token), None).await;
    dev.kill_9();

    // The same data directory: a fresh token, the same history.
    let dev = Dev::start(dir.path(), CONFIG, port);
    let token = token_of(&dev);
    let (status, after) = api(&dev, Method::GET, &attempts_path, Some(&token), None).await;
    assert_eq!(status, 200, "{after}");
    let kept: Vec<Value> = data(&after).iter().map(essentials).collect();
    for a in data(&before) {
        assert!(
            kept.contains(&essentials(a)),
            "attempt {a} listed before the kill is gone after it: {after}"
        );
    }
    let (status, now) = api(&dev, Method::GET, &destinations_path, Some(&token), None).await;
    assert_eq!(status, 200, "{now}");
    let ok_now = data(&now).iter().find(|d| d["id"] == ok["id"]);
    let ok_then = data(&statuses).iter().find(|d| d["id"] == ok["id"]);
    assert_eq!(
        ok_now, ok_then,
        "the delivered message's status at ok: {now}"
    );

    // The retries that were due go on after the restart, each recorded beside the old ones.
    let n = at(&before, down).len();
    poll(&dev, &token, &attempts_path, |page| {
        at(page, down).len() > n
    })
    .await;
}
