//! The dead-letter queue's replay keeps working for registered endpoints and records its
//! attempts: a message whose retries ran out at an endpoint (status `fail` there, in the DLQ) is
//! replayed with `hookline replay --dev` once the endpoint is fixed, delivered with the same
//! `webhook-id`, and the new attempt is listed beside the failed ones, the status now `success`.

use hookline_tests::harness::{Sink, free_port};
use reqwest::Method;
use serde_json::{Value, json};

use super::common::{Dev, hookline, stdout};
use super::dev::{api, token_of};
use super::history_kill::{DEADLINE, data, poll};

const ENDPOINT_SECRET: &str = "whsec_cmVwbGF5LXJlY29yZHMtaXRzLWF0dGVtcHRzLW9r";

/// One retry a second after the first try: two attempts, then the dead-letter queue.
const CONFIG: &str = r#"[api]
allow_http = true
registry_cache = "0s"

[delivery]
ssrf_allow = ["127.0.0.0/8"]
retry = { schedule = ["1s"], jitter = 0.0 }
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_dead_letter_is_delivered_and_recorded() {
    let sink = Sink::start(&[ENDPOINT_SECRET]);
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(dir.path(), CONFIG, free_port());
    let token = token_of(&dev);
    let (status, app) = api(
        &dev,
        Method::POST,
        "/app",
        Some(&token),
        Some(json!({"name": "Replay", "uid": "replay"})),
    )
    .await;
    assert_eq!(status, 201, "{app}");
    let (status, ep) = api(
        &dev,
        Method::POST,
        "/app/replay/endpoint",
        Some(&token),
        Some(json!({"url": sink.url("/status/500/broken"), "uid": "hook", "secret": ENDPOINT_SECRET})),
    )
    .await;
    assert_eq!(status, 201, "{ep}");
    let (status, msg) = api(
        &dev,
        Method::POST,
        "/app/replay/msg",
        Some(&token),
        Some(json!({"eventType": "order.paid", "payload": {"n": 7}})),
    )
    .await;
    assert_eq!(status, 202, "{msg}");
    let msg_id = msg["id"].as_str().unwrap();
    let attempts = format!("/app/replay/attempt/msg/{msg_id}");
    let statuses = format!("/app/replay/msg/{msg_id}/endpoint");

    // Both tries fail: the message's status at the endpoint is `fail` (it is in the DLQ).
    poll(&dev, &token, &statuses, |p| {
        data(p).first().is_some_and(|d| d["status"] == 2)
    })
    .await;
    let failed = poll(&dev, &token, &attempts, |p| data(p).len() == 2).await;
    for a in data(&failed) {
        assert_eq!(
            (&a["status"], &a["responseStatusCode"]),
            (&json!(2), &json!(500)),
            "{a}"
        );
    }

    // Fix the endpoint, then replay the dead-letter queue.
    let (status, fixed) = api(
        &dev,
        Method::PATCH,
        "/app/replay/endpoint/hook",
        Some(&token),
        Some(json!({"url": sink.url("/ok/fixed")})),
    )
    .await;
    assert_eq!(status, 200, "{fixed}");
    let out = hookline(&["--json", "replay", "--dev", "--dev-url", &dev.url("")]);
    assert!(out.status.success(), "{out:?}");
    let summary = stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["kind"] == "summary")
        .unwrap();
    assert_eq!(summary["moved"], 1, "{summary}");

    // Delivered once, with the message's id as its webhook-id, and recorded.
    let got = sink.wait_for(3, DEADLINE);
    let ok: Vec<&Value> = got.iter().filter(|d| d["response_status"] == 200).collect();
    assert_eq!(ok.len(), 1, "{got:?}");
    assert_eq!(ok[0]["webhook_id"], msg_id, "{got:?}");
    assert_eq!(ok[0]["signature_valid"], true, "{got:?}");
    let all = poll(&dev, &token, &attempts, |p| data(p).len() == 3).await;
    let last = &data(&all)[2];
    assert_eq!(
        (
            &last["status"],
            &last["responseStatusCode"],
            &last["endpointId"]
        ),
        (&json!(0), &json!(200), &ep["id"]),
        "{all}"
    );
    assert!(
        last["url"].as_str().unwrap().ends_with("/ok/fixed"),
        "{last}"
    );
    poll(&dev, &token, &statuses, |p| {
        data(p).first().is_some_and(|d| d["status"] == 0)
    })
    .await;
}
