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
use hookline_sender::observe::Logger;
use hookline_sender::{Sender, Settings, SystemClock};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Configuration errors fail the cold start loudly: every message stays on the queue.
    let settings = Settings::from_lookup(|name| std::env::var(name).ok())?;
    let sender = Arc::new(Sender::with_deferred_sqs(
        settings,
        sqs_config().await,
        Logger::stdout().with_level(&std::env::var("RUST_LOG").unwrap_or_default()),
    )?);
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
async fn sqs_config() -> aws_sdk_sqs::Config {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY") {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    if set("AWS_REGION") || set("AWS_DEFAULT_REGION") {
        loader = loader.region(EnvironmentVariableRegionProvider::new());
    }
    aws_sdk_sqs::Config::from(&loader.load().await)
}
