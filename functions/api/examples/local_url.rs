//! The API Lambda on loopback for clients outside Rust (the Python and JavaScript svix suites):
//! moto, the function's bootstrap fed through the Lambda Runtime API, and its Function URL as a
//! plain HTTP server (`hookline_tests::lambda_url`).
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
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use hookline_tests::harness::Moto;
use hookline_tests::lambda_url::ApiLambda;

#[tokio::main]
async fn main() {
    let moto = Moto::start();
    let api = ApiLambda::start(&ApiLambda::binary(), &moto.endpoint).await;
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
