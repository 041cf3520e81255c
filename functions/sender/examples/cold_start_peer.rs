//! The peer `bench/cold_start.py` measures the sender against: the smallest useful Lambda fed by
//! SQS, as the `lambda_runtime` examples write it. It answers every `SqsEvent` with an empty
//! `SqsBatchResponse` and does nothing else, so its cold start is what any Rust function on
//! `lambda_runtime` pays (exec, the tokio runtime, the runtime client's first poll) and the
//! difference to the sender is the sender's own.
//!
//!     cargo build --release -p hookline-sender --example cold_start_peer

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};

async fn handler(_event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    Ok(SqsBatchResponse::default())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}
