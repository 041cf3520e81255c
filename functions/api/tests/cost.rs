//! The API Lambda's AWS requests per `message.create`, counted on a moto of its own
//! (`tests/harness/moto_server.py`) and asserted against `infra/cost-counts.json`, which
//! `infra/cost.py` prices in `docs/cost.md`. The calls are the official svix SDKs': each POST
//! carries an `idempotency-key`. Needs `tests/harness/setup.sh`, like the Lambda suite.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::path::Path;

use hookline_tests::cost::{DYNAMO_READS, DYNAMO_WRITES, Requests, assert_count};
use hookline_tests::harness::Moto;
use hookline_tests::lambda_url::ApiLambda;
use serde_json::{Value, json};

/// Messages created in the measured run.
const MESSAGES: u64 = 10;

async fn post(api: &ApiLambda, path: &str, key: &str, body: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", api.base_url))
        .header("authorization", format!("Bearer {}", api.token))
        .header("idempotency-key", key)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_create() {
    let moto = Moto::start();
    let api = ApiLambda::start(
        Path::new(env!("CARGO_BIN_EXE_hookline-api-lambda")),
        &moto.endpoint,
    )
    .await;
    let (s, app) = post(
        &api,
        "/api/v1/app",
        "k-app",
        json!({"name": "Billing", "uid": "billing"}),
    )
    .await;
    assert_eq!(s, 201, "{app}\n{}", api.log.text());
    let (s, ep) = post(
        &api,
        "/api/v1/app/billing/endpoint",
        "k-ep",
        json!({"url": "https://billing.example.com/hooks"}),
    )
    .await;
    assert_eq!(s, 201, "{ep}");
    // One message first: the function's cold start and first reads are not what a steady stream
    // of messages costs.
    let (s, m) = post(
        &api,
        "/api/v1/app/billing/msg",
        "k-warm",
        json!({"eventType": "invoice.paid", "eventId": "evt-warm", "payload": {"n": 0}}),
    )
    .await;
    assert_eq!(s, 202, "{m}");

    let before = Requests::read(&moto.endpoint).await;
    for i in 0..MESSAGES {
        let (s, m) = post(
            &api,
            "/api/v1/app/billing/msg",
            &format!("k-{i}"),
            json!({"eventType": "invoice.paid", "eventId": format!("evt-{i}"), "payload": {"amount": 4200, "n": i}}),
        )
        .await;
        assert_eq!(s, 202, "{m}\n{}", api.log.text());
    }
    let used = Requests::read(&moto.endpoint).await.since(&before);
    println!("message.create x{MESSAGES}: {used:#?}");
    let context = format!("{used:#?}");
    let n = MESSAGES as f64;
    assert_count(
        "api.dynamodb_reads_per_create",
        used.requests("dynamodb", &DYNAMO_READS) as f64 / n,
        &context,
    );
    assert_count(
        "api.dynamodb_writes_per_create",
        used.requests("dynamodb", &DYNAMO_WRITES) as f64 / n,
        &context,
    );
    assert_count(
        "api.dynamodb_write_units_per_create_at_most",
        used.dynamo_write_units_at_most() as f64 / n,
        &context,
    );
    assert_count(
        "api.sqs_requests_per_create",
        used.requests("sqs", &[]) as f64 / n,
        &context,
    );
}
