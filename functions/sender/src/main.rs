//! The Lambda bootstrap: build the sender once, then serve invocations.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use hookline_sender::observe::Logger;
use hookline_sender::{Sender, Settings};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Configuration errors fail the cold start loudly: every message stays on the queue.
    let settings = Settings::from_lookup(|name| std::env::var(name).ok())?;
    let aws = aws_config::load_from_env().await;
    let sender = Arc::new(Sender::new(
        settings,
        aws_sdk_sqs::Client::new(&aws),
        Logger::stdout().with_level(&std::env::var("RUST_LOG").unwrap_or_default()),
    )?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let sender = Arc::clone(&sender);
        async move { Ok::<_, Error>(sender.handle(event.payload).await) }
    }))
    .await
}
