//! The API Lambda as AWS runs it, on loopback: its real bootstrap binary as a process, fed
//! through the Lambda Runtime API ([`crate::faults::LambdaRuntime`]), behind an HTTP front that
//! turns each request into a Function URL event (payload format 2.0) and each response back, as
//! a Function URL does. Its DynamoDB table and its outbound queue are moto's. Any HTTP client (the
//! official svix SDKs included) talks to [`ApiLambda::base_url`] as to the function's URL.
//!
//! ```no_run
//! # async fn example() {
//! use hookline_tests::harness::Moto;
//! use hookline_tests::lambda_url::ApiLambda;
//! let moto = Moto::start();
//! // A test of the functions/api package names its binary with env!("CARGO_BIN_EXE_...");
//! // elsewhere, build it first (`cargo build -p hookline-api-lambda`) and use [`ApiLambda::binary`].
//! let api = ApiLambda::start(&ApiLambda::binary(), &moto.endpoint).await;
//! // svix: Svix::new(api.token, SvixOptions { server_url: Some(api.base_url), .. })
//! let _ = (&api.base_url, &api.token, &api.queue_url, &api.table);
//! # }
//! ```
//!
//! Outside Rust (the Python and JavaScript svix suites), the `local_url` example of
//! `functions/api` starts the same stack and prints `HOOKLINE_API_URL=...`,
//! `HOOKLINE_API_TOKEN=...` and `HOOKLINE_API_QUEUE_URL=...` lines, then serves until its standard
//! input closes:
//!
//! ```sh
//! export HOOKLINE_HARNESS_BIN=$(tests/harness/setup.sh)
//! cargo build -p hookline-api-lambda --bins --examples
//! target/debug/examples/local_url    # prints the lines above, serves until stdin closes
//! ```
//!
//! What differs from AWS: one invocation at a time (one process, as one Lambda instance), no
//! 6 MB payload limit beyond [`MAX_REQUEST_BYTES`], and the function's logs go to this process's
//! log tail ([`ApiLambda::log`]).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::AbortHandle;

use crate::dynamo::{dynamo_client, fresh_table};
use crate::faults::LambdaRuntime;
use crate::harness::fresh_queue;
use crate::harness::process::LogTail;
use crate::harness::sqs_client;

/// The bearer token the function is configured with (`[api] tokens`, read from `API_TOKEN`).
pub const TOKEN: &str = "hookline-test-api-token";
/// The largest request the front accepts (a Function URL's payload limit is 6 MB).
pub const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;
/// How long one invocation may take (the template's function timeout).
pub const INVOKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The API Lambda behind its URL, over moto. Dropping it stops the process and the servers.
pub struct ApiLambda {
    /// `http://127.0.0.1:<port>`: the function URL (the svix SDKs' server URL).
    pub base_url: String,
    /// A token with every scope.
    pub token: String,
    /// The outbound queue the API puts messages on.
    pub queue_url: String,
    /// The DynamoDB table.
    pub table: String,
    /// What the function process wrote (its logs).
    pub log: LogTail,
    front: AbortHandle,
    _runtime: Arc<LambdaRuntime>,
    _child: tokio::process::Child,
}

impl ApiLambda {
    /// The bootstrap where `cargo build -p hookline-api-lambda` puts it, beside this
    /// executable's target directory (`target/debug/hookline-api-lambda`);
    /// `HOOKLINE_API_BOOTSTRAP` overrides it.
    pub fn binary() -> PathBuf {
        if let Some(p) = std::env::var_os("HOOKLINE_API_BOOTSTRAP") {
            return PathBuf::from(p);
        }
        let exe = std::env::current_exe().unwrap();
        // target/debug/deps/<test> or target/debug/examples/<example>
        let profile_dir = exe
            .ancestors()
            .find(|d| d.join("hookline-api-lambda").is_file())
            .unwrap_or_else(|| {
                panic!(
                    "no hookline-api-lambda binary above {}: run `cargo build -p \
                     hookline-api-lambda` or set HOOKLINE_API_BOOTSTRAP",
                    exe.display()
                )
            });
        profile_dir.join("hookline-api-lambda")
    }

    /// A fresh table and queue on the moto at `moto_endpoint`, the function (`bootstrap`)
    /// started against them through the Runtime API, and the HTTP front on a free loopback port.
    /// `config` is merged into the function's `HOOKLINE_CONFIG` (its `api.tokens` is set here).
    pub async fn start(bootstrap: &Path, moto_endpoint: &str) -> ApiLambda {
        Self::start_with(bootstrap, moto_endpoint, json!({})).await
    }

    /// [`ApiLambda::start`] with more configuration (`delivery`, `api.allow_http`, ...).
    pub async fn start_with(bootstrap: &Path, moto_endpoint: &str, config: Value) -> ApiLambda {
        let table = fresh_table(&dynamo_client(moto_endpoint), "api").await;
        let queue_url = fresh_queue(&sqs_client(moto_endpoint).await, "api-outbound", &[]).await;
        let mut config = config;
        config["api"]["tokens"] = json!([{"secret": "env:API_TOKEN"}]);
        let runtime = Arc::new(LambdaRuntime::start(INVOKE_TIMEOUT).await);
        let log = LogTail::default();
        let mut child = tokio::process::Command::new(bootstrap)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", &runtime.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", "hookline-api")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "local")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_ENDPOINT_URL", moto_endpoint)
            .env("HOOKLINE_CONFIG", config.to_string())
            .env("HOOKLINE_QUEUE_URL", &queue_url)
            .env("HOOKLINE_TABLE", &table)
            .env("API_TOKEN", TOKEN)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", bootstrap.display()));
        for out in [
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|o| Box::new(o) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            let log = log.clone();
            tokio::spawn(async move {
                use tokio::io::AsyncBufReadExt as _;
                let mut lines = tokio::io::BufReader::new(out).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.push(&format!("{line}\n"));
                }
            });
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let front = {
            let runtime = Arc::clone(&runtime);
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let runtime = Arc::clone(&runtime);
                    tokio::spawn(async move {
                        let service = service_fn(move |req| {
                            let runtime = Arc::clone(&runtime);
                            async move { Ok::<_, Infallible>(forward(&runtime, req).await) }
                        });
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            })
            .abort_handle()
        };
        let api = ApiLambda {
            base_url,
            token: TOKEN.to_owned(),
            queue_url,
            table,
            log,
            front,
            _runtime: runtime,
            _child: child,
        };
        api.wait_ready().await;
        api
    }

    /// Waits until the function answers (its cold start done), at most 20 s.
    async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        let url = format!("{}/api/v1/openapi.json", self.base_url);
        let until = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = client.get(&url).send().await
                && r.status() == 200
            {
                return;
            }
            assert!(
                std::time::Instant::now() < until,
                "the API Lambda did not answer within 20 s:\n{}",
                self.log.text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ApiLambda {
    fn drop(&mut self) {
        self.front.abort();
    }
}

type Response = hyper::Response<Full<Bytes>>;

fn plain(status: u16, body: &str) -> Response {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

/// One HTTP request through the function, as its Function URL would pass it.
async fn forward(runtime: &LambdaRuntime, req: hyper::Request<Incoming>) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = http_body_util::Limited::new(body, MAX_REQUEST_BYTES)
        .collect()
        .await
    else {
        return plain(413, r#"{"message":"Request Entity Too Large"}"#);
    };
    let event = url_event(&parts, &body.to_bytes());
    match runtime
        .invoke(serde_json::to_vec(&event).unwrap(), INVOKE_TIMEOUT)
        .await
    {
        Ok(payload) => url_response(&payload),
        // What a Function URL answers when the function fails or times out.
        Err(_) => plain(502, r#"{"message":"Internal Server Error"}"#),
    }
}

/// The Function URL event (payload format 2.0) for a request. Bodies that are UTF-8 travel as
/// text, others base64-encoded, as AWS does for text and binary content.
pub fn url_event(parts: &http::request::Parts, body: &[u8]) -> Value {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in &parts.headers {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        headers
            .entry(k.as_str().to_owned())
            .and_modify(|e| {
                e.push(',');
                e.push_str(&v);
            })
            .or_insert(v);
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let (body, b64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) => (json!(text), false),
        Err(_) => (
            json!(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        ),
    };
    let path = parts.uri.path();
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": parts.uri.query().unwrap_or_default(),
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": parts.method.as_str(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": parts.headers.get("user-agent")
                    .and_then(|v| v.to_str().ok()).unwrap_or_default(),
            },
            "requestId": format!("local-{}", NEXT.fetch_add(1, Ordering::Relaxed)),
            "routeKey": "$default",
            "stage": "$default",
            "time": "",
            "timeEpoch": u64::try_from(now.as_millis()).unwrap(),
        },
        "isBase64Encoded": b64,
    });
    if !body.is_null() {
        event["body"] = body;
    }
    event
}

/// The HTTP response for a function's result, as a Function URL makes it: `statusCode`,
/// `headers`, `body` (`isBase64Encoded`); a result without `statusCode` is a 200 with the result
/// as its JSON body.
pub fn url_response(payload: &[u8]) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(payload) else {
        return plain(502, r#"{"message":"Internal Server Error"}"#);
    };
    let Some(status) = v.get("statusCode").and_then(Value::as_u64) else {
        return plain(200, &v.to_string());
    };
    let body = match v.get("body").and_then(Value::as_str) {
        None => Vec::new(),
        Some(b) if v.get("isBase64Encoded") == Some(&json!(true)) => {
            match base64::engine::general_purpose::STANDARD.decode(b) {
                Ok(b) => b,
                Err(_) => return plain(502, r#"{"message":"Internal Server Error"}"#),
            }
        }
        Some(b) => b.as_bytes().to_vec(),
    };
    let mut resp = hyper::Response::builder().status(u16::try_from(status).unwrap_or(502));
    if let Some(h) = v.get("headers").and_then(Value::as_object) {
        for (k, val) in h {
            if let Some(val) = val.as_str() {
                resp = resp.header(k.as_str(), val);
            }
        }
    }
    resp.body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| plain(502, r#"{"message":"Internal Server Error"}"#))
}
