//! A tiny local server for the management API: [`Api`] over a [`MemoryStore`], with an outbox
//! that keeps messages in memory. It delivers nothing (deliveries happen in `hookline dev` and
//! the sender); it is for trying the API with the official `svix` SDKs, and for
//! `tests/api/test_svix_python.py` and `tests/api/svix_sdk.test.mjs` parts (a)-(d).
//!
//! ```sh
//! HOOKLINE_API_TOKEN=testsk_local cargo run -p hookline-api --example serve -- 8787
//! ```
//!
//! It listens on 127.0.0.1 only (port 0 picks a free one) and prints one JSON line once it
//! listens: `{"event":"ready","api_url":"http://127.0.0.1:PORT"}`. The token is the only one,
//! scoped to every application; `http://` endpoint URLs are accepted and the SSRF guard lets
//! loopback through (as in `hookline dev`). `GET /_outbox` lists what was put on the queue.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use hookline_api::memory::MemoryStore;
use hookline_api::service::MAX_BODY;
use hookline_api::{Api, Outbox, Settings, SystemEnv};
use hookline_core::api::auth::{Scope, Token, Tokens};
use hookline_core::api::error::ApiError;
use hookline_core::api::model::UrlPolicy;
use hookline_core::secret::Secret;
use hookline_core::ssrf::SsrfPolicy;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

/// The environment variable holding the token.
const TOKEN_VAR: &str = "HOOKLINE_API_TOKEN";
/// How long messages are kept (the store is gone with the process anyway).
const RETENTION: Duration = Duration::from_secs(24 * 3600);

use hookline_api::system_now as now;

/// The outbound queue, in memory: every message the API accepted, in order.
#[derive(Default)]
struct MemoryOutbox(Mutex<Vec<String>>);

#[async_trait]
impl Outbox for MemoryOutbox {
    async fn send(&self, body: String) -> Result<(), String> {
        self.0
            .lock()
            .map_err(|_| "outbox poisoned".to_owned())?
            .push(body);
        Ok(())
    }
}

impl MemoryOutbox {
    fn json(&self) -> String {
        let items: Vec<serde_json::Value> = self
            .0
            .lock()
            .map(|v| {
                v.iter()
                    .map(|s| serde_json::from_str(s).unwrap_or(serde_json::Value::Null))
                    .collect()
            })
            .unwrap_or_default();
        serde_json::Value::Array(items).to_string()
    }
}

fn json_response(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

async fn serve(
    req: Request<Incoming>,
    api: Arc<Api>,
    outbox: Arc<MemoryOutbox>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() == "/_outbox" && req.method() == hyper::Method::GET {
        return Ok(json_response(StatusCode::OK, outbox.json()));
    }
    let (parts, body) = req.into_parts();
    let Ok(body) = Limited::new(body, MAX_BODY).collect().await else {
        let e = ApiError::too_large(MAX_BODY);
        return Ok(json_response(StatusCode::PAYLOAD_TOO_LARGE, e.body()));
    };
    let resp = api
        .handle(Request::from_parts(parts, body.to_bytes()))
        .await;
    let (parts, body) = resp.into_parts();
    Ok(Response::from_parts(parts, Full::new(Bytes::from(body))))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let port: u16 = match std::env::args().nth(1).map(|p| p.parse()) {
        None => 8787,
        Some(Ok(p)) => p,
        Some(Err(_)) => {
            eprintln!("usage: serve [PORT]   (with {TOKEN_VAR} set)");
            return ExitCode::from(2);
        }
    };
    let token = match std::env::var(TOKEN_VAR).map(Secret::new) {
        Ok(Ok(t)) => t,
        _ => {
            eprintln!("serve: set {TOKEN_VAR} to the bearer token clients will use");
            return ExitCode::from(2);
        }
    };
    let loopback = ["127.0.0.0/8", "::1/128"]
        .iter()
        .filter_map(|c| c.parse().ok())
        .collect();
    let settings = Settings {
        tokens: Tokens::new(vec![Token::new(&token, Scope::All)]),
        urls: UrlPolicy {
            ssrf: SsrfPolicy::new(loopback),
            allow_http: true,
        },
        retention: RETENTION,
        operational_endpoints: Vec::new(),
        configured: Vec::new(),
        portal: hookline_api::service::PortalSettings::default(),
    };
    let outbox = Arc::new(MemoryOutbox::default());
    let api = Arc::new(Api::new(
        Arc::new(MemoryStore::new(now)),
        Arc::clone(&outbox) as Arc<dyn Outbox>,
        Arc::new(SystemEnv),
        settings,
    ));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("serve: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().unwrap_or(addr);
    println!(
        "{}",
        serde_json::json!({"event": "ready", "api_url": format!("http://{local}")})
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let api = Arc::clone(&api);
        let outbox = Arc::clone(&outbox);
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let service = hyper::service::service_fn(move |req| {
                serve(req, Arc::clone(&api), Arc::clone(&outbox))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}
