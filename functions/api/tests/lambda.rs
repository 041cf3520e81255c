//! The API Lambda end to end: its real bootstrap binary, fed through the Lambda Runtime API,
//! behind a Function URL on loopback (`hookline_tests::lambda_url`), over DynamoDB and SQS on
//! moto. Needs `tests/harness/setup.sh` (tests/run does it); without moto these tests fail,
//! they never pass silently.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::sync::OnceLock;

use hookline_tests::harness::{Moto, receive_batch_waiting, sqs_client};
use hookline_tests::lambda_url::ApiLambda;
use serde_json::{Value, json};

fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

async fn start() -> ApiLambda {
    ApiLambda::start(
        Path::new(env!("CARGO_BIN_EXE_hookline-api-lambda")),
        &moto().endpoint,
    )
    .await
}

async fn call(
    api: &ApiLambda,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", api.base_url));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status} {text:?}: {e}"))
    };
    (status, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_endpoint_and_message_through_the_function_url_reach_the_queue() {
    let api = start().await;
    let token = Some(api.token.as_str());
    let (s, app) = call(
        &api,
        reqwest::Method::POST,
        "/api/v1/app",
        token,
        Some(json!({"name": "Billing", "uid": "billing"})),
    )
    .await;
    assert_eq!(s, 201, "{app}\n{}", api.log.text());
    let app_id = app["id"].as_str().unwrap().to_owned();
    let (s, ep) = call(
        &api,
        reqwest::Method::POST,
        "/api/v1/app/billing/endpoint",
        token,
        Some(json!({"url": "https://billing.example.com/hooks", "filterTypes": ["invoice.paid"]})),
    )
    .await;
    assert_eq!(s, 201, "{ep}");
    assert!(ep["id"].as_str().unwrap().starts_with("ep_"), "{ep}");
    let (s, msg) = call(
        &api,
        reqwest::Method::POST,
        "/api/v1/app/billing/msg",
        token,
        Some(json!({"eventType": "invoice.paid", "eventId": "evt-1", "payload": {"amount": 42}})),
    )
    .await;
    assert_eq!(s, 202, "{msg}");
    let msg_id = msg["id"].as_str().unwrap();
    // Read back through the function: stored in DynamoDB.
    let (s, got) = call(
        &api,
        reqwest::Method::GET,
        &format!("/api/v1/app/{app_id}/msg/{msg_id}"),
        token,
        None,
    )
    .await;
    assert_eq!(s, 200, "{got}");
    assert_eq!(got["payload"], json!({"amount": 42}));
    // And on the outbound queue, for the sender.
    let sqs = sqs_client(&moto().endpoint).await;
    let received = receive_batch_waiting(&sqs, &api.queue_url, Some(10)).await;
    assert_eq!(received.len(), 1, "{received:?}");
    let body: Value = serde_json::from_str(received[0].body().unwrap()).unwrap();
    assert_eq!(body["type"], "invoice.paid", "{body}");
    assert_eq!(body["data"], json!({"amount": 42}), "{body}");
    assert!(body.to_string().contains(&app_id), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_token_are_401() {
    let api = start().await;
    for token in [None, Some("wrong-token")] {
        let (s, body) = call(&api, reqwest::Method::GET, "/api/v1/app", token, None).await;
        assert_eq!(s, 401, "{body}");
        assert!(
            body["code"].is_string() && body["detail"].is_string(),
            "{body}"
        );
    }
    // The token never appears in what the function logged.
    assert!(!api.log.text().contains(&api.token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_bodies_and_query_strings_pass_through() {
    let api = start().await;
    let token = Some(api.token.as_str());
    for name in ["a1", "a2", "a3"] {
        let (s, _) = call(
            &api,
            reqwest::Method::POST,
            "/api/v1/app",
            token,
            Some(json!({"name": name})),
        )
        .await;
        assert_eq!(s, 201);
    }
    let (s, page) = call(
        &api,
        reqwest::Method::GET,
        "/api/v1/app?limit=2",
        token,
        None,
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["data"].as_array().unwrap().len(), 2, "{page}");
    assert_eq!(page["done"], false);
    // A body that is not UTF-8 travels base64-encoded and is refused by the API, not the event
    // parser (a 4xx in Svix's shape, not a 502).
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/app", api.base_url))
        .header("authorization", format!("Bearer {}", api.token))
        .header("content-type", "application/json")
        .body(vec![0xff, 0xfe, 0x00])
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert!((400..500).contains(&status), "{status}");
    let v: Value = resp.json().await.unwrap();
    assert!(v["code"].is_string(), "{v}");
}
