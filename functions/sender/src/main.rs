//! The Lambda bootstrap: build the sender once, then serve invocations.
//!
//! A cold start builds only what the first event needs. The SQS client waits for the first
//! record that calls SQS, and the AWS credentials and region are the ones Lambda puts in the
//! environment, read directly: the SDK's default chains would build an STS client for web
//! identity and an IMDS client, and every SDK client reads the system's certificate store when
//! it is built.

use std::sync::Arc;

use aws_config::BehaviorVersion;
use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_lambda_events::event::sqs::SqsEvent;
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
    let sdk = sdk_config().await;
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

/// The SDK configuration from the environment, as `aws_config::load_from_env` makes it. Each of
/// its default chains tries the environment first; where Lambda always sets the variables (keys,
/// region), only that first link is kept. Without them, the chains run as before (profiles, SSO,
/// ECS, IMDS).
async fn sdk_config() -> aws_config::SdkConfig {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY") {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    if set("AWS_REGION") || set("AWS_DEFAULT_REGION") {
        loader = loader.region(EnvironmentVariableRegionProvider::new());
    }
    loader.load().await
}
