//! The API Lambda on loopback for clients outside Rust (the Python and JavaScript svix suites):
//! moto, the function's bootstrap fed through the Lambda Runtime API, its Function URL as a plain
//! HTTP server (`hookline_tests::lambda_url`), and the sender's handler fed by the local event
//! source mapping from the same outbound queue, reading registered endpoints from the same
//! DynamoDB table: the whole AWS flow, so deliveries arrive.
//!
//! ```sh
//! export HOOKLINE_HARNESS_BIN=$(tests/harness/setup.sh)
//! cargo build -p hookline-api-lambda --bins --examples
//! target/debug/examples/local_url
//! ```
//!
//! Prints `HOOKLINE_API_URL=<base url>`, `HOOKLINE_API_TOKEN=<token>`,
//! `HOOKLINE_API_QUEUE_URL=<outbound queue>` and `HOOKLINE_SQS_ENDPOINT=<moto>`, then
//! `HOOKLINE_API_READY`, each on its own line, and serves until its standard input closes.
//! Endpoint URLs on loopback (`http://127.0.0.1:...`) are accepted, as in `hookline dev`.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use hookline_core::config::Config;
use hookline_dynamodb::DynamoStore;
use hookline_sender::local::LocalEventSource;
use hookline_sender::observe::Logger;
use hookline_sender::registry::RegistryCache;
use hookline_sender::{Sender, Settings, SystemClock};
use hookline_tests::dynamo::dynamo_client;
use hookline_tests::harness::{Moto, queue_with_dlq, sqs_client};
use hookline_tests::lambda_url::ApiLambda;
use serde_json::json;

#[tokio::main]
async fn main() {
    let moto = Moto::start();
    // The suites' [delivery] (loopback allowed, fast retries, the auto-disable policy that
    // tests/api/test_history.py reads) is tests/api/dev.toml's: one definition for both targets.
    let suites = Config::from_toml(include_str!("../../../tests/api/dev.toml")).unwrap();
    let config = json!({
        "api": {"allow_http": true, "registry_cache": "0s"},
        "delivery": suites.delivery,
    });
    let api = ApiLambda::start_with(&ApiLambda::binary(), &moto.endpoint, config.clone()).await;

    // The sender: the Lambda's handler with real SQS event JSON from the outbound queue.
    let sqs = sqs_client(&moto.endpoint).await;
    let (_, dlq) = queue_with_dlq(&sqs, "api-sender", 20).await;
    let parsed = Config::from_json(&config.to_string()).unwrap();
    let settings = Settings::from_config(&parsed, api.queue_url.clone(), dlq, |_| None).unwrap();
    let store = Arc::new(DynamoStore::new(
        dynamo_client(&moto.endpoint),
        api.table.clone(),
    ));
    let sender = Arc::new(
        Sender::new(
            settings,
            sqs.clone(),
            Logger::with_sink(|line| eprintln!("{line}")),
        )
        .unwrap()
        .with_registry(RegistryCache::new(
            store,
            parsed.api.registry_cache,
            parsed.api.retention,
            parsed.delivery.clone(),
        )),
    );
    let source = LocalEventSource::new(sqs, api.queue_url.clone(), 10, 1);
    tokio::spawn(async move {
        loop {
            let sender = Arc::clone(&sender);
            let polled = source
                .poll_once(|event: SqsEvent| async move {
                    Ok::<_, std::convert::Infallible>(sender.handle(event, &SystemClock).await)
                })
                .await;
            if polled.is_err() {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });

    println!("HOOKLINE_API_URL={}", api.base_url);
    println!("HOOKLINE_API_TOKEN={}", api.token);
    println!("HOOKLINE_API_QUEUE_URL={}", api.queue_url);
    println!("HOOKLINE_SQS_ENDPOINT={}", moto.endpoint);
    println!("HOOKLINE_API_READY");
    // Blocking read on a thread of its own: the runtime keeps serving meanwhile.
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    })
    .await;
    drop(api);
}
