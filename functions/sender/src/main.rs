//! The Lambda bootstrap: build the sender once, then serve invocations.
//!
//! A cold start builds only what the first event needs. The SQS client waits for the first
//! record that calls SQS, and the AWS credentials, region and endpoint are the ones Lambda (or a
//! test) puts in the environment, read directly. The SDK's loader (`aws_config::load_from_env`)
//! is not called: its default chains (profile files, SSO, web identity through STS, ECS, IMDS)
//! would be linked into the bootstrap, and a Lambda never uses them (docs/sender.md, "AWS
//! credentials").

use std::sync::Arc;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::config::{BehaviorVersion, Region, SharedCredentialsProvider};
use hookline_core::config::Config;
use hookline_core::contract::sender::{CONFIG_VAR, TABLE_VAR};
use hookline_sender::observe::Logger;
use hookline_sender::registry::{DeferredStore, RegistryCache};
use hookline_sender::{Sender, Settings, SystemClock};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Configuration errors fail the cold start loudly: every message stays on the queue.
    let settings = Settings::from_lookup(|name| std::env::var(name).ok())?;
    let sdk = sdk_config(|name| std::env::var(name).ok())?;
    let mut sender = Sender::with_deferred_sqs(
        settings,
        aws_sdk_sqs::Config::from(&sdk),
        Logger::stdout().with_level(&std::env::var("RUST_LOG").unwrap_or_default()),
    )?;
    // With the API's table, messages naming an application go to its registered endpoints.
    if let Some(table) = std::env::var(TABLE_VAR).ok().filter(|t| !t.is_empty()) {
        // Settings::from_lookup has parsed this same text already: it cannot fail here.
        let config = Config::from_json(&std::env::var(CONFIG_VAR).unwrap_or_default())?;
        let dynamo = aws_sdk_dynamodb::Config::from(&sdk);
        let store = DeferredStore::new(move || {
            Arc::new(hookline_dynamodb::DynamoStore::new(
                aws_sdk_dynamodb::Client::from_conf(dynamo.clone()),
                table.clone(),
            ))
        });
        sender = sender.with_registry(RegistryCache::new(
            Arc::new(store),
            config.api.registry_cache,
            config.api.retention,
            config.delivery.clone(),
        ));
    }
    let sender = Arc::new(sender);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let sender = Arc::clone(&sender);
        async move { Ok::<_, Error>(sender.handle(event.payload, &SystemClock).await) }
    }))
    .await
}

/// The SDK configuration from the variables Lambda sets: the credentials from
/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (the function role's, read
/// by the SDK's environment provider), the region from `AWS_REGION` (or `AWS_DEFAULT_REGION`), and
/// `AWS_ENDPOINT_URL` when it is set (tests: moto on loopback). Without keys or a region the cold
/// start fails, naming the variables, rather than sending unsigned requests. Everything else
/// (retries, timeouts, the HTTP client) is the SDK client's default, as the loader would set it.
fn sdk_config(lookup: impl Fn(&str) -> Option<String>) -> Result<aws_config::SdkConfig, String> {
    let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    if var("AWS_ACCESS_KEY_ID").is_none() || var("AWS_SECRET_ACCESS_KEY").is_none() {
        return Err(
            "environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not \
                    set: the sender reads its AWS credentials from the environment Lambda sets"
                .to_owned(),
        );
    }
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .ok_or("environment variable AWS_REGION is not set")?;
    let mut sdk = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ));
    if let Some(url) = var("AWS_ENDPOINT_URL") {
        sdk = sdk.endpoint_url(url);
    }
    Ok(sdk.build())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    const KEYS: [(&str, &str); 2] = [("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "s")];

    #[test]
    fn the_region_and_endpoint_come_from_the_environment() {
        let sdk = sdk_config(env(&[
            KEYS[0],
            KEYS[1],
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
        ]))
        .unwrap();
        assert_eq!(sdk.region().map(Region::as_ref), Some("eu-west-1"));
        assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:4566"));
        assert!(sdk.credentials_provider().is_some());
        let sdk = sdk_config(env(&[
            KEYS[0],
            KEYS[1],
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ]))
        .unwrap();
        assert_eq!(sdk.region().map(Region::as_ref), Some("us-east-1"));
        assert_eq!(sdk.endpoint_url(), None);
    }

    #[test]
    fn without_keys_or_a_region_the_cold_start_fails_naming_them() {
        let e = sdk_config(env(&[("AWS_REGION", "us-east-1"), KEYS[0]])).unwrap_err();
        assert!(e.contains("AWS_SECRET_ACCESS_KEY"), "{e}");
        let e = sdk_config(env(&[KEYS[0], KEYS[1], ("AWS_REGION", " ")])).unwrap_err();
        assert!(e.contains("AWS_REGION"), "{e}");
    }
}
