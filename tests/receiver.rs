//! The receiver suite: the Worker's wasm bundle running in workerd (Miniflare 4, started by the
//! harness), with its Cloudflare Queue, dead-letter queue and R2 bucket, forwarding to a real SQS
//! API (moto on loopback). Needs the receiver builds, node_modules and the harness venv (tests/run
//! prepares all three); without them these tests fail, they never pass silently.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hookline_core::envelope::{Body, InboundEnvelope, OutboundMessage};
use hookline_core::headers::Headers;
use hookline_core::time::Timestamp;
use hookline_core::verify::{Request, Scheme, SchemeKind};
use hookline_tests::STRIPE_SECRET;
use hookline_tests::harness::{
    Moto, ReceiverBuild, Workerd, chunked_post, delete, free_port, fresh_queue, poll_until,
    receive_batch_waiting, sqs_client,
};
use hookline_tests::{load_vectors, signer};
use serde_json::{Value, json};
use sha2::Digest as _;

const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const GITHUB_SECRET: &str = "It's a Secret to Everybody";

fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn now() -> Timestamp {
    Timestamp::from_unix_secs(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    )
}

/// Headers a provider would send: `base` plus the scheme's signature made at `at`.
fn sign(
    scheme: impl Into<Scheme>,
    secret: &str,
    base: &[(&str, &str)],
    body: &[u8],
    at: Timestamp,
) -> Vec<(String, String)> {
    let headers: Headers = base.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
    let req = Request::post("https://hooks.example.com/", &headers, body);
    signer(scheme, secret)
        .signed_headers(&req, "msg_2Lh9KRb0pzN4LePd3XiXJk", at)
        .unwrap()
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

/// POSTs `body` to `url` with Stripe's headers, signed now: the answer's status and JSON.
async fn post_stripe(url: &str, body: &[u8]) -> (u16, Value) {
    post(url, &stripe_headers(body, now()), body.to_vec()).await
}

async fn post(url: &str, headers: &[(String, String)], body: Vec<u8>) -> (u16, Value) {
    let mut req = client().post(url).body(body);
    for (n, v) in headers {
        req = req.header(n.as_str(), v.as_str());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let bytes = res.bytes().await.unwrap();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("{status}: not JSON: {}", String::from_utf8_lossy(&bytes)));
    (status, json)
}

/// A 1 KiB Stripe event, as Stripe sends it.
fn stripe_event(id: &str) -> Vec<u8> {
    let mut body = format!(
        r#"{{"id":"{id}","object":"event","type":"invoice.paid","data":{{"object":{{"id":"in_1","amount_paid":4200,"memo":"PAD"}}}}}}"#
    );
    let pad = 1024 - body.len() + 3;
    body = body.replace("PAD", &"x".repeat(pad));
    assert_eq!(body.len(), 1024);
    body.into_bytes()
}

fn stripe_headers(body: &[u8], at: Timestamp) -> Vec<(String, String)> {
    sign(
        SchemeKind::Stripe,
        STRIPE_SECRET,
        &[
            ("content-type", "application/json; charset=utf-8"),
            ("user-agent", "Stripe/1.0"),
        ],
        body,
        at,
    )
}

fn config(sources: Value) -> Value {
    json!({ "sources": sources })
}

// ---- every scheme's vectors, in workerd -----------------------------------------------------

/// Every case of `tests/vectors/*.json`, replayed over HTTP into the test-clock build: valid ones
/// are answered 200 (enqueued, or the provider's handshake), invalid ones 401.
#[tokio::test(flavor = "multi_thread")]
async fn every_vector_gets_the_right_status() {
    let files = load_vectors();
    let mut by_now: BTreeMap<i64, Vec<(String, String, &hookline_tests::Case)>> = BTreeMap::new();
    for file in &files {
        for (i, case) in file.cases.iter().enumerate() {
            let name = format!("{}-{i}", file.scheme);
            by_now
                .entry(case.now)
                .or_default()
                .push((name, file.scheme.clone(), case));
        }
    }
    let mut checked = 0;
    for (at, cases) in &by_now {
        let mut sources = serde_json::Map::new();
        for (name, scheme, case) in cases {
            let mut source = json!({
                "scheme": scheme,
                "secrets": case.secrets.iter().map(|s| format!("literal:{s}")).collect::<Vec<_>>(),
                "public_url": case.url,
            });
            if scheme == "generic" {
                source["generic"] = case.params.clone().unwrap();
            }
            sources.insert(name.clone(), source);
        }
        let vars = json!({
            "HOOKLINE_CONFIG": config(Value::Object(sources)),
            "HOOKLINE_TEST_NOW": at.to_string(),
        });
        let worker = Workerd::start(ReceiverBuild::TestClock, vars, false, 0);
        for (name, scheme, case) in cases {
            let headers: Vec<(String, String)> = case
                .headers
                .iter()
                .filter(|(n, _)| {
                    !n.eq_ignore_ascii_case("host") && !n.eq_ignore_ascii_case("content-length")
                })
                .cloned()
                .collect();
            let body = case.body_bytes();
            let (status, json) = post(
                &worker.url(&format!("/hooks/{name}")),
                &headers,
                body.clone(),
            )
            .await;
            let ctx = format!(
                "{scheme}/{}: {status} {json}\n{}",
                case.name,
                worker.log_tail()
            );
            let parsed: Option<Value> = serde_json::from_slice(&body).ok();
            let declared_json = case.headers.iter().any(|(n, v)| {
                n.eq_ignore_ascii_case("content-type") && v.to_ascii_lowercase().contains("json")
            });
            if case.expect == "valid" && declared_json && parsed.is_none() {
                // Signed, but not the JSON it says it is: refused after the signature passed.
                assert_eq!(
                    (status, &json),
                    (400, &json!({ "error": "invalid_json" })),
                    "{ctx}"
                );
            } else if case.expect == "valid" {
                assert_eq!(status, 200, "{ctx}");
                match (scheme.as_str(), parsed.as_ref()) {
                    ("slack", Some(b)) if b["type"] == "url_verification" => {
                        assert_eq!(json, json!({ "challenge": b["challenge"] }), "{ctx}");
                    }
                    ("zoom", Some(b)) if b["event"] == "endpoint.url_validation" => {
                        let plain = b["payload"]["plainToken"].as_str().unwrap();
                        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::KeyInit>::new_from_slice(
                            case.secrets[0].as_bytes(),
                        )
                        .unwrap();
                        hmac::Mac::update(&mut mac, plain.as_bytes());
                        let expected: String = hmac::Mac::finalize(mac)
                            .into_bytes()
                            .iter()
                            .map(|b| format!("{b:02x}"))
                            .collect();
                        assert_eq!(
                            json,
                            json!({ "plainToken": plain, "encryptedToken": expected }),
                            "{ctx}"
                        );
                    }
                    ("discord", Some(b)) if b["type"] == 1 => {
                        assert_eq!(json, json!({ "type": 1 }), "{ctx}");
                    }
                    _ => {
                        assert_eq!(json["ok"], true, "{ctx}");
                        assert!(json["id"].as_str().is_some_and(|s| !s.is_empty()), "{ctx}");
                    }
                }
            } else {
                assert_eq!(status, 401, "{ctx}");
                assert!(json["error"].as_str().is_some(), "{ctx}");
            }
            checked += 1;
        }
    }
    let total: usize = files.iter().map(|f| f.cases.len()).sum();
    assert_eq!(checked, total);
    assert!(total >= 80, "only {total} vectors");
}

// ---- refusals ---------------------------------------------------------------------------------

fn stripe_only(max_body: u64) -> Value {
    json!({
        "HOOKLINE_CONFIG": config(json!({
            "stripe": { "scheme": "stripe", "secrets": ["env:STRIPE_SECRET"], "max_body_bytes": max_body },
        })),
        "STRIPE_SECRET": STRIPE_SECRET,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_are_json_with_the_right_status() {
    let worker = Workerd::start(ReceiverBuild::Release, stripe_only(2048), false, 0);
    let http = client();

    let res = http.get(worker.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "ok": true }));

    let res = http.get(worker.url("/hooks/stripe")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "POST");
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "error": "method_not_allowed" })
    );
    let res = http.post(worker.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET, HEAD");

    let body = stripe_event("evt_refusals");
    let good = stripe_headers(&body, now());
    for (path, status, code) in [
        ("/hooks/nope", 404, "unknown_source"),
        ("/nope", 404, "not_found"),
        ("/hooks/stripe/a/b", 404, "not_found"),
    ] {
        let (s, j) = post(&worker.url(path), &good, body.clone()).await;
        assert_eq!((s, j), (status, json!({ "error": code })), "{path}");
    }

    let (s, j) = post(&worker.url("/hooks/stripe"), &[], body.clone()).await;
    assert_eq!((s, j), (401, json!({ "error": "missing_header" })));
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    let (s, j) = post(&worker.url("/hooks/stripe"), &good, tampered).await;
    assert_eq!((s, j), (401, json!({ "error": "signature_mismatch" })));
    let stale = stripe_headers(&body, now().saturating_sub(Duration::from_secs(600)));
    let (s, j) = post(&worker.url("/hooks/stripe"), &stale, body.clone()).await;
    assert_eq!((s, j), (401, json!({ "error": "timestamp_too_old" })));
    // The same request signed right is accepted: the refusals above are about what they say.
    let (s, j) = post(&worker.url("/hooks/stripe"), &good, body.clone()).await;
    assert_eq!((s, j), (200, json!({ "ok": true, "id": "evt_refusals" })));

    let not_json = b"{\"id\": \"evt_1\", ".to_vec();
    let h = stripe_headers(&not_json, now());
    let (s, j) = post(&worker.url("/hooks/stripe"), &h, not_json).await;
    assert_eq!((s, j), (400, json!({ "error": "invalid_json" })));

    // Over the limit: refused by Content-Length, and by counting when there is none.
    let big = vec![b' '; 2049];
    let h = stripe_headers(&big, now());
    let (s, j) = post(&worker.url("/hooks/stripe"), &h, big).await;
    assert_eq!((s, j), (413, json!({ "error": "payload_too_large" })));
    assert_eq!(chunked_post(&worker.url("/hooks/stripe"), 64 * 1024), 413);
    // A chunked body under the limit is read whole (and then fails the signature, not the size).
    assert_eq!(chunked_post(&worker.url("/hooks/stripe"), 1024), 401);
}

/// A wasm trap (what a panic becomes) in the middle of a request leaves that instance unusable:
/// the entry module (infra/receiver-entry.mjs) must make a new one before the next request. The
/// test build traps on demand (`x-hookline-test-trap`); the trapped request itself never gets an
/// answer from the Worker, so the runtime answers it 500 (text, as before the entry module).
#[tokio::test(flavor = "multi_thread")]
async fn a_trap_is_followed_by_a_fresh_instance() {
    let worker = Workerd::start(ReceiverBuild::TestClock, stripe_only(1 << 20), false, 0);
    let http = client();
    // Warm: the instance served a request before it traps.
    let body = stripe_event("evt_before_trap");
    let (s, j) = post_stripe(&worker.url("/hooks/stripe"), &body).await;
    assert_eq!(
        (s, j),
        (200, json!({ "ok": true, "id": "evt_before_trap" }))
    );

    let body = stripe_event("evt_trapped");
    let mut req = http
        .post(worker.url("/hooks/stripe"))
        .header("x-hookline-test-trap", "1")
        .body(body.clone());
    for (n, v) in stripe_headers(&body, now()) {
        req = req.header(n, v);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 500);
    worker
        .wait_for_log("Critical RuntimeError", Duration::from_secs(10))
        .await;

    // Every later request is served by a new instance, the first of them included.
    for i in 0..3 {
        let id = format!("evt_after_trap_{i}");
        let body = stripe_event(&id);
        let (s, j) = post_stripe(&worker.url("/hooks/stripe"), &body).await;
        assert_eq!((s, j), (200, json!({ "ok": true, "id": id })));
    }
    worker
        .wait_for_log("Reinitializing Wasm application", Duration::from_secs(10))
        .await;
    let res = http.get(worker.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_enqueue_is_a_503_never_a_200() {
    // No queue binding: the send fails, so the event was not accepted and the provider must retry.
    let worker = Workerd::start_with(
        ReceiverBuild::Release,
        json!({ "vars": stripe_only(1 << 20), "noQueue": true }),
    );
    let body = stripe_event("evt_no_queue");
    let (s, j) = post_stripe(&worker.url("/hooks/stripe"), &body).await;
    assert_eq!((s, j), (503, json!({ "error": "queue_unavailable" })));
    // The log line reaches workerd's output a moment after the response.
    worker
        .wait_for_log("queue send failed", Duration::from_secs(10))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_configuration_refuses_everything_loudly() {
    // The secret the source references is not set.
    let vars = json!({
        "HOOKLINE_CONFIG": config(json!({ "stripe": { "scheme": "stripe", "secrets": ["env:MISSING"] } })),
    });
    let worker = Workerd::start(ReceiverBuild::Release, vars, false, 0);
    let res = client().get(worker.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 500);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "error": "configuration_error" })
    );
    let body = stripe_event("evt_cfg");
    let (s, j) = post_stripe(&worker.url("/hooks/stripe"), &body).await;
    assert_eq!((s, j), (500, json!({ "error": "configuration_error" })));
    worker
        .wait_for_log("MISSING", Duration::from_secs(10))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn handshakes_are_answered_after_verification() {
    let vars = json!({
        "HOOKLINE_CONFIG": config(json!({
            "slack": { "scheme": "slack", "secrets": ["env:SLACK_SECRET"] },
        })),
        "SLACK_SECRET": SLACK_SECRET,
    });
    let worker = Workerd::start(ReceiverBuild::Release, vars, false, 0);
    let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#.to_vec();
    let h = sign(
        SchemeKind::Slack,
        SLACK_SECRET,
        &[("content-type", "application/json")],
        &body,
        now(),
    );
    let (s, j) = post(&worker.url("/hooks/slack"), &h, body.clone()).await;
    assert_eq!(
        (s, j),
        (
            200,
            json!({ "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" })
        )
    );
    // Unsigned, the challenge is not echoed.
    let (s, _) = post(
        &worker.url("/hooks/slack"),
        &[("content-type".into(), "application/json".into())],
        body,
    )
    .await;
    assert_eq!(s, 401);
}

// ---- the queue, the consumer and SQS ------------------------------------------------------------

struct Sqs {
    client: aws_sdk_sqs::Client,
}

impl Sqs {
    async fn new() -> Sqs {
        Sqs {
            client: sqs_client(&moto().endpoint).await,
        }
    }

    /// Receives until `n` messages arrived (deleting them), or panics at the deadline.
    async fn take(
        &self,
        queue: &str,
        n: usize,
        worker: &Workerd,
    ) -> Vec<aws_sdk_sqs::types::Message> {
        let mut got = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while got.len() < n {
            if std::time::Instant::now() > deadline {
                panic!(
                    "{} of {n} messages on {queue}\n{}",
                    got.len(),
                    worker.log_tail()
                );
            }
            for m in receive_batch_waiting(&self.client, queue, Some(1)).await {
                delete(&self.client, queue, &m).await;
                got.push(m);
            }
        }
        got
    }
}

fn forwarding_vars(queue: &str, outbound: &str, extra: Value) -> Value {
    let mut vars = json!({
        "HOOKLINE_CONFIG": config(json!({
            "stripe": { "scheme": "stripe", "secrets": ["env:STRIPE_SECRET"] },
            "gh": {
                "scheme": "github",
                "secrets": ["env:GITHUB_SECRET"],
                "destination": "relay",
                "relay_endpoints": ["ci"],
            },
        })),
        "STRIPE_SECRET": STRIPE_SECRET,
        "GITHUB_SECRET": GITHUB_SECRET,
        "HOOKLINE_SQS_QUEUE_URL": queue,
        "HOOKLINE_SQS_OUTBOUND_URL": outbound,
        "HOOKLINE_SQS_REGION": "us-east-1",
        "HOOKLINE_BODIES_BUCKET": "hookline-bodies",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    });
    if let (Some(v), Some(e)) = (vars.as_object_mut(), extra.as_object()) {
        v.extend(e.clone());
    }
    vars
}

#[tokio::test(flavor = "multi_thread")]
async fn verified_events_travel_through_the_queue_to_sqs() {
    let sqs = Sqs::new().await;
    let inbound = fresh_queue(&sqs.client, "inbound", &[]).await;
    let outbound = fresh_queue(&sqs.client, "outbound", &[]).await;
    let worker = Workerd::start(
        ReceiverBuild::Release,
        forwarding_vars(&inbound, &outbound, json!({})),
        true,
        10,
    );

    // A Stripe event lands on the inbound queue as an envelope, body byte for byte.
    let body = stripe_event("evt_1QueueRoundTrip");
    let (s, j) = post_stripe(&worker.url("/hooks/stripe/billing"), &body).await;
    assert_eq!(
        (s, j),
        (200, json!({ "ok": true, "id": "evt_1QueueRoundTrip" }))
    );
    let messages = sqs.take(&inbound, 1, &worker).await;
    let envelope = InboundEnvelope::from_json(messages[0].body().unwrap().as_bytes()).unwrap();
    assert_eq!(envelope.id, "evt_1QueueRoundTrip");
    assert_eq!(envelope.source, "stripe");
    assert_eq!(envelope.handler.as_deref(), Some("billing"));
    assert_eq!(envelope.event_type.as_deref(), Some("invoice.paid"));
    assert_eq!(envelope.body.as_bytes(), Some(body.as_slice()));
    assert!(!envelope.headers.contains_key("stripe-signature"));
    let attrs = messages[0].message_attributes().unwrap();
    assert_eq!(attrs["hookline-source"].string_value(), Some("stripe"));
    assert_eq!(attrs["hookline-type"].string_value(), Some("invoice.paid"));

    // A relay source's event lands on the outbound queue in the sender's format.
    let push =
        br#"{"ref":"refs/heads/main","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"}"#.to_vec();
    let h = sign(
        SchemeKind::Github,
        GITHUB_SECRET,
        &[
            ("content-type", "application/json"),
            ("x-github-event", "push"),
            ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        ],
        &push,
        now(),
    );
    let (s, _) = post(&worker.url("/hooks/gh"), &h, push.clone()).await;
    assert_eq!(s, 200);
    let messages = sqs.take(&outbound, 1, &worker).await;
    let msg = OutboundMessage::from_json(messages[0].body().unwrap().as_bytes()).unwrap();
    // GitHub signs no event type: the relayed type is the source's, never the unsigned header.
    assert_eq!(msg.event_type, "gh.webhook");
    // GitHub does not sign X-GitHub-Delivery: the id is the digest of source and signed body.
    let id = msg.id.as_deref().unwrap();
    assert!(id.starts_with("gh:b-") && id.len() == 37, "{id}");
    assert_eq!(msg.endpoints, Some(vec!["ci".to_owned()]));
    assert_eq!(msg.data.get().as_bytes(), push.as_slice());

    // A body too large for a queue message goes to R2; the envelope carries the claim check.
    let mut large = stripe_event("evt_1LargeBody");
    let filler = format!(",\"filler\":\"{}\"}}", "y".repeat(200 * 1024));
    large.pop();
    large.extend_from_slice(filler.as_bytes());
    let (s, _) = post(
        &worker.url("/hooks/stripe"),
        &stripe_headers(&large, now()),
        large.clone(),
    )
    .await;
    assert_eq!(s, 200, "{}", worker.log_tail());
    let messages = sqs.take(&inbound, 1, &worker).await;
    let envelope = InboundEnvelope::from_json(messages[0].body().unwrap().as_bytes()).unwrap();
    assert_eq!(envelope.id, "evt_1LargeBody");
    let Body::ClaimCheck(check) = &envelope.body else {
        panic!("expected a claim check, got {:?}", envelope.body.encoding());
    };
    assert_eq!(check.bucket, "hookline-bodies");
    assert_eq!(check.size, large.len() as u64);
    let stored = worker.r2_object(&check.key).expect("the body is in R2");
    assert_eq!(stored, large);
    let digest: [u8; 32] = sha2::Sha256::digest(&stored).into();
    assert_eq!(check.sha256, digest);
    // The key is content-addressed, `{source}/{day}/{sha256}`: a write to it can only store these
    // bytes. A replay of the signed request under another content type (and so, before, under
    // another id) lands on the same key with the same id, and leaves the object as it was.
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        check.key.starts_with("stripe/") && check.key.ends_with(&format!("/{hex}")),
        "{}",
        check.key
    );
    let mut replay = stripe_headers(&large, now());
    for (name, value) in replay.iter_mut() {
        if name.eq_ignore_ascii_case("content-type") {
            *value = "text/plain".to_owned();
        }
    }
    let (s, _) = post(&worker.url("/hooks/stripe"), &replay, large.clone()).await;
    assert_eq!(s, 200, "{}", worker.log_tail());
    let messages = sqs.take(&inbound, 1, &worker).await;
    let again = InboundEnvelope::from_json(messages[0].body().unwrap().as_bytes()).unwrap();
    assert_eq!(again.id, "evt_1LargeBody");
    let Body::ClaimCheck(again) = &again.body else {
        panic!("expected a claim check, got {:?}", again.body.encoding());
    };
    assert_eq!(again.key, check.key);
    assert_eq!(worker.r2_object(&check.key).unwrap(), large);
    assert!(worker.dead_letters().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarding_waits_out_an_sqs_outage_and_loses_nothing() {
    // SQS is down: nothing listens where the queue URL points.
    let port = free_port();
    let queue_name = format!("outage-{port}");
    let queue = format!("http://127.0.0.1:{port}/123456789012/{queue_name}");
    let worker = Workerd::start(
        ReceiverBuild::Release,
        forwarding_vars(
            &queue,
            "",
            json!({ "HOOKLINE_FORWARD_RETRY_BASE": "1s", "HOOKLINE_FORWARD_RETRY_MAX": "2s" }),
        ),
        true,
        100,
    );
    let mut ids = Vec::new();
    for i in 0..3 {
        let id = format!("evt_outage_{i}");
        let body = stripe_event(&id);
        let (s, _) = post_stripe(&worker.url("/hooks/stripe"), &body).await;
        assert_eq!(
            s, 200,
            "accepted while SQS is down: the Cloudflare Queue holds it"
        );
        ids.push(id);
    }
    worker
        .wait_for_log("did not reach SQS", Duration::from_secs(20))
        .await;

    // SQS comes back at the same address; every event arrives, none dead-lettered.
    let moto = Moto::start_on(port);
    let client = sqs_client(&moto.endpoint).await;
    client
        .create_queue()
        .queue_name(&queue_name)
        .send()
        .await
        .unwrap();
    let sqs = Sqs { client };
    let messages = sqs.take(&queue, 3, &worker).await;
    let mut got: Vec<String> = messages
        .iter()
        .map(|m| {
            InboundEnvelope::from_json(m.body().unwrap().as_bytes())
                .unwrap()
                .id
        })
        .collect();
    got.sort();
    assert_eq!(got, ids);
    assert!(worker.dead_letters().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn what_cannot_be_forwarded_ends_in_the_dead_letter_queue() {
    let port = free_port();
    let queue = format!("http://127.0.0.1:{port}/123456789012/never-up");
    let worker = Workerd::start(
        ReceiverBuild::Release,
        forwarding_vars(&queue, "", json!({ "HOOKLINE_FORWARD_RETRY_BASE": "0s" })),
        true,
        1,
    );
    let body = stripe_event("evt_dead_letter");
    let (s, _) = post_stripe(&worker.url("/hooks/stripe"), &body).await;
    assert_eq!(s, 200);
    let dead = poll_until(Duration::from_secs(30), || async {
        let d = worker.dead_letters();
        (!d.is_empty()).then_some(d)
    })
    .await;
    assert_eq!(dead.len(), 1);
    let envelope =
        InboundEnvelope::from_json(dead[0]["body"].as_str().unwrap().as_bytes()).unwrap();
    assert_eq!(envelope.id, "evt_dead_letter");
    assert_eq!(envelope.body.as_bytes(), Some(body.as_slice()));
}

/// moto with its signature checks on: the Worker's SigV4 signatures (made in wasm, with a
/// session token) are accepted, and a wrong secret key is refused and the event kept.
#[tokio::test(flavor = "multi_thread")]
async fn sqs_checks_the_workers_sigv4_signatures() {
    let moto = Moto::start();
    let setup = sqs_client(&moto.endpoint).await;
    let queue = fresh_queue(&setup, "signed", &[]).await;
    let creds = moto.enable_auth();
    let session = &creds["session"];
    let with = |key: &str, secret: &str| {
        forwarding_vars(
            &queue,
            "",
            json!({
                "AWS_ACCESS_KEY_ID": key,
                "AWS_SECRET_ACCESS_KEY": secret,
                "AWS_SESSION_TOKEN": session["session_token"],
                "HOOKLINE_FORWARD_RETRY_BASE": "1s",
            }),
        )
    };
    let key = session["access_key_id"].as_str().unwrap();
    let secret = session["secret_access_key"].as_str().unwrap();

    // A wrong secret: SQS refuses the call, the consumer retries, nothing is acked.
    let forged = Workerd::start(ReceiverBuild::Release, with(key, "wrong-secret"), true, 100);
    let body = stripe_event("evt_forged_signature");
    let (s, _) = post_stripe(&forged.url("/hooks/stripe"), &body).await;
    assert_eq!(s, 200);
    forged
        .wait_for_log("SignatureDoesNotMatch", Duration::from_secs(20))
        .await;
    drop(forged);

    // The right credentials: the signed batch is accepted.
    let worker = Workerd::start(ReceiverBuild::Release, with(key, secret), true, 100);
    let body = stripe_event("evt_signed_batch");
    let (s, _) = post_stripe(&worker.url("/hooks/stripe"), &body).await;
    assert_eq!(s, 200);
    let reader = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .endpoint_url(&moto.endpoint)
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                key,
                secret,
                session["session_token"].as_str().map(str::to_owned),
                None,
                "moto-session",
            ))
            .build(),
    );
    let messages = Sqs { client: reader }.take(&queue, 1, &worker).await;
    let envelope = InboundEnvelope::from_json(messages[0].body().unwrap().as_bytes()).unwrap();
    assert_eq!(envelope.id, "evt_signed_batch");
}
