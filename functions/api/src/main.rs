//! The Lambda bootstrap: build the API once per cold start, then answer Function URL events.
//!
//! AWS credentials and the region come from the environment Lambda sets, read directly (as the
//! sender does): the SDK's default chains would build STS and IMDS clients it never uses.
//! `AWS_ENDPOINT_URL` (tests: moto on loopback) is honoured by the SDK's loader.

use std::sync::Arc;

use aws_config::BehaviorVersion;
use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use hookline_api_lambda::{Setup, handle};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // A configuration error fails the cold start loudly (Lambda answers 502 and logs it).
    let setup = Setup::from_lookup(|name| std::env::var(name).ok())?;
    let aws = aws_config().await;
    let api = Arc::new(setup.into_api(
        aws_sdk_dynamodb::Client::new(&aws),
        aws_sdk_sqs::Client::new(&aws),
    ));
    // The event is read as JSON and parsed by `handle`, so a malformed one is a 400, not an
    // invocation error.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let api = Arc::clone(&api);
        async move { Ok::<_, Error>(handle(&api, event.payload).await) }
    }))
    .await
}

/// The SDK configuration from the environment, keeping only the first link of each default
/// chain where Lambda always sets the variables.
async fn aws_config() -> aws_config::SdkConfig {
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
