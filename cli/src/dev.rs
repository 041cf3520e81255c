//! `hookline dev`: the whole system in one process, no cloud account.
//!
//! - **Receiver**: the Worker's routes (`POST /hooks/{source}[/{handler}]`, `GET /healthz`) with
//!   the same checks, order and status codes, because both call `hookline_core::inbound`.
//!   Verified events are committed to the embedded queue before the `200`, to the queue, with
//!   the body and attributes, that `hookline_core::route` decides for the Worker too.
//! - **Embedded queue**: SQLite with SQS semantics ([`crate::store`]), served over the SQS JSON
//!   protocol ([`crate::sqs_api`]) on the same port: `hookline-inbound` (what your consumers
//!   read), `hookline-outbound` (what the sender delivers) and a dead-letter queue for each.
//! - **Outbound events**: `POST /events` takes the same JSON an app puts on SQS (one message, or
//!   an array of them) and answers `202` once it is stored.
//! - **Management API**: Svix's v1 REST API under `/api/v1` (`hookline_api::Api`), its records
//!   in the queue's own SQLite file, on its thread ([`crate::api_store`]), its messages put on
//!   `hookline-outbound` before the `202`. Every route needs a bearer token: the configuration's
//!   `[api]` tokens, and a development token printed at start (`HOOKLINE_API_TOKEN`, or a fresh
//!   random one each start).
//! - **Sender**: the Lambda's own handler (`hookline_sender::Sender`) fed by the same
//!   event-source loop the tests use, which receives and deletes in the process ([`poll`]); the
//!   handler's own queue calls go to the embedded queue through `aws-sdk-sqs`: the same fan-out,
//!   signing, SSRF guard, retries (visibility timeouts) and dead-lettering.
//!
//! - **Metrics**: `GET /metrics`, Prometheus's text format: the sender's own CloudWatch metric
//!   lines counted ([`metrics`]), and the queues' depths.
//! - **`hookline log`**: the API's address and the development token are written to `api.json`
//!   in the data directory (readable by its owner only), where `hookline log` finds them.
//!
//! Everything it receives and delivers is printed as it happens (`--json` for JSON lines).

use std::borrow::Cow;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hookline_api::service::MAX_BODY as MAX_API_V1_BODY;
use hookline_core::api::error::ApiError;
use hookline_core::api::model::UrlPolicy;
use hookline_core::config::{Config, ConfigErrors, Destination, ResolvedSource};
use hookline_core::envelope::{InboundEnvelope, OutboundMessage};
use hookline_core::headers::Headers;
use hookline_core::inbound::{self, Accepted, Incoming, Rejection, Route};
use hookline_core::route;
use hookline_core::time::Timestamp;
use hookline_sender::local::LocalEventSource;
use hookline_sender::observe::Logger;
use hookline_sender::{Sender, Settings, SystemClock};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming as HyperBody;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

mod metrics;
mod poll;

use crate::api_store::SqliteStore;
use crate::error::{DevStoreError, FileError, ListenError};
use crate::log::client::DevApi;
use crate::sqs_api::SqsApi;
use crate::store::{Attribute, Durability, QueueSpec, Store, StoreError, StoreThread};
use crate::ui::{Style, untrusted};
use crate::{CliError, Ui};

/// The configuration `hookline dev` runs when there is no `hookline.toml` (the repository's own
/// sample, built in).
pub const DEMO_CONFIG: &str = include_str!("../../hookline.toml");
// The queues dev serves are named once, where `send` and `replay` look them up too.
pub use crate::sqs_target::dev_queue::{
    INBOUND as INBOUND_QUEUE, INBOUND_DLQ, OUTBOUND as OUTBOUND_QUEUE, OUTBOUND_DLQ,
};
/// Where `hookline dev` keeps its data, and where `hookline log` looks for it, by default.
pub const DEFAULT_DATA_DIR: &str = ".hookline";
/// The largest `POST /events` or SQS request body.
const MAX_API_BODY: usize = 2 * 1024 * 1024;

/// `hookline dev` options.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  hookline dev                # ./hookline.toml, or the built-in demo
  hookline dev --config prod-like.toml --port 8788
  hookline dev --reset        # start with empty queues

Then POST webhooks to
  http://127.0.0.1:8787/hooks/{source}
outbound events to
  http://127.0.0.1:8787/events
the management API (Svix's v1 REST API; the bearer token is printed at start,
or set it with HOOKLINE_API_TOKEN) at
  http://127.0.0.1:8787/api/v1
and point any SQS client at
  http://127.0.0.1:8787")]
pub struct Args {
    /// The configuration file [default: ./hookline.toml if it exists, else the built-in demo].
    #[arg(long, short, env = "HOOKLINE_CONFIG_FILE")]
    pub config: Option<PathBuf>,
    /// The address to listen on. The SQS API has no authentication: keep it on loopback.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// The port to listen on.
    #[arg(long, short, default_value_t = 8787, env = "HOOKLINE_DEV_PORT")]
    pub port: u16,
    /// Where the queue and API databases live (and api.json, which `hookline log` reads).
    #[arg(long, default_value = DEFAULT_DATA_DIR, env = "HOOKLINE_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Delete every queued message before starting.
    #[arg(long)]
    pub reset: bool,
    /// How many delivery loops run at once (each takes batches of 10).
    // 16: at 4, delivery fell behind the receives under load (3,000 to 3,600 events/s end to end
    // against 4,900 received; `cargo bench -p hookline-cli --bench dev_load`); at 16 it keeps up
    // with them (see docs/cli.md).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: u16,
    /// What an acknowledged event survives: `process` (kill -9, a crash of hookline dev; the
    /// last commits can be lost on a power cut) or `power` (also a power cut: a disk sync
    /// before each answer, slower).
    #[arg(long, value_enum, default_value_t = Durability::Process, env = "HOOKLINE_DEV_DURABILITY")]
    pub durability: Durability,
}

/// Milliseconds since the epoch, from the system clock.
pub fn now_ms() -> i64 {
    crate::now().unix_millis()
}

/// The loaded configuration and where it came from.
struct Loaded {
    config: Config,
    origin: String,
}

impl Loaded {
    /// The configuration's problems, said of where it came from.
    fn invalid(&self, errors: ConfigErrors) -> CliError {
        CliError::InvalidConfig {
            origin: self.origin.clone(),
            errors,
        }
    }
}

fn load_config(path: Option<&Path>) -> Result<Loaded, CliError> {
    let (text, origin) = match path {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|source| FileError::Unreadable {
                path: p.to_owned(),
                flag: None,
                source,
            })?,
            p.display().to_string(),
        ),
        None if Path::new("hookline.toml").is_file() => (
            std::fs::read_to_string("hookline.toml").map_err(|source| FileError::Unreadable {
                path: PathBuf::from("hookline.toml"),
                flag: None,
                source,
            })?,
            "hookline.toml".to_owned(),
        ),
        None => (DEMO_CONFIG.to_owned(), "the built-in demo".to_owned()),
    };
    let config = Config::from_toml(&text).map_err(|errors| CliError::InvalidConfig {
        origin: origin.clone(),
        errors,
    })?;
    Ok(Loaded { config, origin })
}

/// Everything a request needs.
struct App {
    /// Listening beyond loopback (`--host`): any `Host` header is accepted.
    open_host: bool,
    sources: std::collections::BTreeMap<String, ResolvedSource>,
    sqs: SqsApi,
    /// The management API, under `/api/v1`.
    api: hookline_api::Api,
    /// The sender's metrics, for `GET /metrics`.
    metrics: Arc<metrics::Metrics>,
    out: Printer,
}

/// Prints what happens, for people (`--json`: for scripts).
#[derive(Clone, Copy)]
struct Printer {
    ui: Ui,
}

impl Printer {
    fn clock(&self) -> String {
        let secs = now_ms().div_euclid(1000).rem_euclid(86_400);
        self.ui.paint(
            Style::Dim,
            &format!(
                "{:02}:{:02}:{:02}",
                secs / 3600,
                (secs / 60) % 60,
                secs % 60
            ),
        )
    }

    /// One line about a request: `json` is what `--json` prints, `detail` what a person reads
    /// after the source and the status; only the one printed is made.
    fn received(
        &self,
        source: &str,
        status: u16,
        detail: impl FnOnce() -> String,
        json: impl FnOnce() -> Value,
    ) {
        if self.ui.json {
            self.ui.json_line(&json());
            return;
        }
        self.received_line(source, status, &detail());
    }

    /// [`Printer::received`] for an accepted event, the line printed at every receive: its JSON
    /// written straight from the fields (no `Value` tree), the same object as the others'.
    fn accepted(&self, source: &str, envelope: &InboundEnvelope, queue: &str, message_id: &str) {
        if self.ui.json {
            /// `{"event":"received",...}`, keys in the order `json!` writes them (sorted).
            #[derive(serde::Serialize)]
            struct Line<'a> {
                event: &'static str,
                id: &'a str,
                message_id: &'a str,
                queue: &'a str,
                source: &'a str,
                status: u16,
                r#type: Option<&'a str>,
            }
            let line = Line {
                event: "received",
                id: &envelope.id,
                message_id,
                queue,
                source,
                status: 200,
                r#type: envelope.event_type.as_deref(),
            };
            self.ui.json_line(&line);
            return;
        }
        let event_type = envelope.event_type.as_deref().unwrap_or("-");
        self.received_line(
            source,
            200,
            &format!(
                "{} {} → {queue}",
                untrusted(event_type),
                self.ui.paint(Style::Dim, &untrusted(&envelope.id))
            ),
        );
    }

    fn received_line(&self, source: &str, status: u16, detail: &str) {
        let style = if status < 300 {
            Style::Green
        } else {
            Style::Red
        };
        // `source` and `detail` carry what the request sent (a path, an event type, an id):
        // callers pass them through `untrusted`.
        self.ui.line(&format!(
            "{} {} {:<12} {} {}",
            self.clock(),
            self.ui.paint(Style::Cyan, "← received"),
            untrusted(source),
            self.ui.paint(style, &status.to_string()),
            detail
        ));
    }

    /// One line of the sender's log, reworded.
    fn sender_line(&self, line: &str) {
        if let Some(text) = self.sender_text(line) {
            self.ui.line(&text);
        }
    }

    /// What [`Printer::sender_line`] prints for a line of the sender's log, if anything.
    fn sender_text(&self, line: &str) -> Option<String> {
        if self.ui.json && !line.contains("\"_aws\"") {
            // Not a metric line: printed as it is, once checked to be JSON (without building
            // its tree, as this is done for every delivery).
            serde_json::from_str::<serde::de::IgnoredAny>(line).ok()?;
            return Some(crate::ui::json_escape(line).into_owned());
        }
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            return None;
        };
        if v.get("_aws").is_some() {
            return None; // metrics: CloudWatch's business, not a person's
        }
        if self.ui.json {
            return Some(crate::ui::json_escape(line).into_owned());
        }
        // Event types, ids and errors (which may quote an endpoint's answer) are untrusted.
        let s = |k: &str| untrusted(v.get(k).and_then(Value::as_str).unwrap_or("")).into_owned();
        match v.get("msg").and_then(Value::as_str) {
            Some("delivery_attempt") => {
                let status = v
                    .get("status")
                    .and_then(Value::as_u64)
                    .map_or_else(|| s("error"), |n| n.to_string());
                let attempt = v.get("attempt").and_then(Value::as_u64).unwrap_or(1);
                let ms = v.get("latency_ms").and_then(Value::as_u64).unwrap_or(0);
                let (label, style, extra) = match s("outcome").as_str() {
                    "delivered" => ("→ delivered", Style::Green, String::new()),
                    "retry" => {
                        let next = v.get("next_delay_ms").and_then(Value::as_u64).unwrap_or(0);
                        (
                            "↻ retrying",
                            Style::Yellow,
                            format!(", next attempt in {}", next_attempt_in(next)),
                        )
                    }
                    _ => ("✘ dead-lettered", Style::Red, String::new()),
                };
                Some(format!(
                    "{} {} {:<12} {} {} {} ({} ms, attempt {attempt}{extra})",
                    self.clock(),
                    self.ui.paint(style, label),
                    s("endpoint"),
                    status,
                    s("event_type"),
                    self.ui.paint(Style::Dim, &s("message_id")),
                    ms
                ))
            }
            Some("fan_out") => None,
            Some(msg) if s("level") != "info" && s("level") != "debug" => {
                let msg = untrusted(msg);
                let detail = s("error");
                Some(format!(
                    "{} {} {msg} {detail}",
                    self.clock(),
                    self.ui.paint(Style::Yellow, "! sender")
                ))
            }
            _ => None,
        }
    }
}

/// The wait before the next attempt as the queue will keep it: the sender hides the message for
/// the policy's delay rounded up to whole seconds (SQS's visibility timeouts count seconds), so
/// that is what is printed, in the `1m30s` form the config's schedules use.
fn next_attempt_in(delay_ms: u64) -> String {
    hookline_core::time::format_duration(Duration::from_secs(delay_ms.div_ceil(1000)))
}

type Resp = Response<Full<Bytes>>;

/// A JSON answer; the body ends with a newline (added when the text lacks one).
fn json_response(status: u16, mut body: String) -> Resp {
    if !body.ends_with('\n') {
        body.push('\n');
    }
    response(status, body)
}

/// An answer whose body is sent exactly as given (a provider's handshake).
fn response(status: u16, body: String) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    // As the Worker: answers are about one request, never to be cached.
    r.headers_mut().insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-store"),
    );
    r
}

fn reject(r: Rejection, path: &str) -> Resp {
    let mut resp = json_response(r.status, r.body());
    if r == Rejection::METHOD_NOT_ALLOWED {
        let allow = inbound::route(path).map_or("POST", |r| Rejection::allow(&r));
        resp.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static(allow),
        );
    }
    resp
}

/// Reads a body, refusing it once it passes `limit` bytes (with or without `Content-Length`).
async fn read_limited(body: HyperBody, limit: usize) -> Result<Bytes, Rejection> {
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(Rejection::PAYLOAD_TOO_LARGE),
        Err(_) => Err(Rejection::UNREADABLE_BODY),
    }
}

/// Refuses what a web page could make a browser send to this loopback server: a request from a
/// page of another origin (browsers always send `Origin` on cross-origin POSTs; providers and SQS
/// SDKs never do), or one addressed to a foreign host name (DNS rebinding). `hookline dev` has
/// no authentication; this keeps it reachable from this machine's programs only.
/// `hookline listen` puts the same guard on every request.
pub(crate) fn browser_guard(headers: &hyper::HeaderMap, open_host: bool) -> Option<&'static str> {
    if let Some(origin) = headers.get(hyper::header::ORIGIN) {
        let host = origin
            .to_str()
            .ok()
            .and_then(|o| url::Url::parse(o).ok())
            .and_then(|u| u.host_str().map(str::to_owned));
        if !host
            .as_deref()
            .is_some_and(crate::sqs_target::is_loopback_host)
        {
            return Some("forbidden_origin");
        }
    }
    if !open_host {
        let host = headers
            .get(hyper::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(host_without_port);
        if host.is_some_and(|h| !crate::sqs_target::is_loopback_host(h)) {
            return Some("forbidden_host");
        }
    }
    None
}

fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split(']')
            .next()
            .map_or(host, |h| h.trim_start_matches('['));
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

/// The request's path and query as the Worker reads them. The Workers runtime hands the Worker a
/// WHATWG-parsed URL: dot segments (`/hooks/../hooks/x`, `%2e%2e`) are resolved, `\` reads as
/// `/`, and the rest is kept as sent (no percent-decoding). Routing hyper's raw path instead would
/// answer such requests differently from the Worker, and take `/hooks/x/..` for a handler named
/// `..`.
fn worker_target(uri: &hyper::Uri) -> String {
    let raw = uri.path_and_query().map_or("/", |p| p.as_str());
    if !raw.starts_with('/') {
        return raw.to_owned();
    }
    // A fixed origin: the Host header must not change how the path is read.
    match url::Url::parse(&format!("http://localhost{raw}")) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        },
        Err(_) => raw.to_owned(),
    }
}

async fn serve(req: Request<HyperBody>, app: Arc<App>) -> Result<Resp, Infallible> {
    let target = worker_target(req.uri());
    let path = target.split('?').next().unwrap_or_default().to_owned();
    if is_api_v1(&path) {
        return Ok(api_v1(req, &app, &target).await);
    }
    if is_portal(&path) {
        return Ok(portal(req, &app, &target).await);
    }
    let local_api = path == "/" || path == "/events";
    // The SQS API and /events act without a signature: only this machine's programs may use
    // them. The receiver's routes verify signatures, and tunnels (ngrok, cloudflared) pass a
    // public Host through, so they are left open as on the Worker.
    if local_api && let Some(code) = browser_guard(req.headers(), app.open_host) {
        return Ok(json_response(403, json!({ "error": code }).to_string()));
    }
    if path == "/" && req.method() == Method::POST {
        let target = req
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        return Ok(match target {
            Some(target) => sqs(req, &target, &app).await,
            // An SDK speaking the older query protocol (form-encoded `Action=...`).
            None => sqs_error(&crate::sqs_api::SqsError {
                code: "UnsupportedOperation",
                message: "hookline dev speaks the SQS JSON protocol (X-Amz-Target); this \
                          client uses the query protocol: update its SDK"
                    .to_owned(),
            }),
        });
    }
    if path == "/events" {
        return Ok(events(req, &app).await);
    }
    if path == "/metrics" {
        // The counters name endpoints and applications: for this machine's programs only.
        if let Some(code) = browser_guard(req.headers(), app.open_host) {
            return Ok(json_response(403, json!({ "error": code }).to_string()));
        }
        return Ok(metrics_page(req.method(), &app).await);
    }
    Ok(match hook(req, &app, &target).await {
        Ok(resp) => resp,
        Err(r) => reject(r, &path),
    })
}

/// Whether `path` is the management API's: `/api/v1` or below it.
fn is_api_v1(path: &str) -> bool {
    path.strip_prefix(hookline_api::service::PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Whether `path` is the portal's: `/portal` or below it.
fn is_portal(path: &str) -> bool {
    path.strip_prefix(hookline_api::service::PORTAL_PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `/portal/...`: the portal's pages, answered by the API (the same files and headers as the
/// API Lambda serves). Like `/api/v1`, not behind [`browser_guard`]: the pages hold no data, and
/// what they show comes from the API with the token of the link that opened them.
async fn portal(req: Request<HyperBody>, app: &App, target: &str) -> Resp {
    // The pages take no body: none is read.
    let (parts, _) = req.into_parts();
    let mut request = Request::from_parts(parts, Bytes::new());
    if let Ok(uri) = target.parse::<hyper::Uri>() {
        *request.uri_mut() = uri;
    }
    let (parts, body) = app.api.handle(request).await.into_parts();
    Response::from_parts(parts, Full::new(Bytes::from(body)))
}

/// `/api/v1/...`: the management API. Not behind [`browser_guard`]: every route but the OpenAPI
/// document needs a bearer token, which a page of another origin does not have (and cannot read:
/// no CORS header is sent), and a portal in a browser will call it. `target` is the path and
/// query as [`worker_target`] reads them, so the API routes what the dispatch above saw.
async fn api_v1(req: Request<HyperBody>, app: &App, target: &str) -> Resp {
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let body = match read_limited(body, MAX_API_V1_BODY).await {
        Ok(b) => b,
        Err(r) if r == Rejection::PAYLOAD_TOO_LARGE => {
            return api_v1_answer(app, &method, target, &ApiError::too_large(MAX_API_V1_BODY));
        }
        Err(_) => {
            let e = ApiError::bad_request("unreadable_body", "The request body could not be read.");
            return api_v1_answer(app, &method, target, &e);
        }
    };
    let mut request = Request::from_parts(parts, body);
    match target.parse::<hyper::Uri>() {
        Ok(uri) => *request.uri_mut() = uri,
        // worker_target only resolves dot segments of what hyper parsed: it stays a valid URI.
        Err(_) => {
            let e = ApiError::not_found("No such route.");
            return api_v1_answer(app, &method, target, &e);
        }
    }
    let (parts, mut body) = app.api.handle(request).await.into_parts();
    // As every JSON answer of hookline dev (`json_response`); a 204's empty body stays empty.
    if !body.is_empty() && !body.ends_with('\n') {
        body.push('\n');
    }
    let mut resp = Response::from_parts(parts, Full::new(Bytes::from(body)));
    resp.headers_mut().insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-store"),
    );
    api_v1_printed(app, &method, target, resp.status().as_u16());
    resp
}

/// An error answered before the API saw the request, in the API's shape.
fn api_v1_answer(app: &App, method: &Method, target: &str, e: &ApiError) -> Resp {
    api_v1_printed(app, method, target, e.status());
    json_response(e.status(), e.body())
}

/// Prints one API request: its method, path and status. Never the query (a client that puts a
/// token there, wrongly, must not find it in the log) nor any header.
fn api_v1_printed(app: &App, method: &Method, target: &str, status: u16) {
    let path = target.split('?').next().unwrap_or_default();
    app.out.received(
        "api",
        status,
        || format!("{method} {}", untrusted(path)),
        || json!({"event": "api", "method": method.as_str(), "path": path, "status": status}),
    );
}

/// The management API's outbound queue: `hookline-outbound`, committed before `Ok`.
struct DevOutbox {
    sqs: SqsApi,
}

#[async_trait::async_trait]
impl hookline_api::Outbox for DevOutbox {
    async fn send(&self, body: String) -> Result<(), String> {
        // send_local answers once the commit that holds the message is done.
        self.sqs
            .send_local(OUTBOUND_QUEUE, body, Vec::new())
            .await
            .map_err(|e| e.to_string())?;
        self.sqs.notify();
        Ok(())
    }
}

/// The environment variable that sets the development API token.
const API_TOKEN_VAR: &str = "HOOKLINE_API_TOKEN";
/// What a generated development token starts with.
const DEV_TOKEN_PREFIX: &str = "hl_dev_";
/// How many random characters follow [`DEV_TOKEN_PREFIX`] (about 190 bits).
const DEV_TOKEN_CHARS: usize = 32;

/// The development API token: `from_env` when set and not empty, else `hl_dev_` and 32 random
/// base62 characters, read from `random`.
fn dev_token(
    from_env: Option<String>,
    mut random: impl FnMut(&mut [u8]) -> Result<(), getrandom::Error>,
) -> Result<String, getrandom::Error> {
    if let Some(t) = from_env.filter(|t| !t.is_empty()) {
        return Ok(t);
    }
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut token = String::with_capacity(DEV_TOKEN_PREFIX.len() + DEV_TOKEN_CHARS);
    token.push_str(DEV_TOKEN_PREFIX);
    let mut chars = 0;
    while chars < DEV_TOKEN_CHARS {
        let mut bytes = [0u8; 64];
        random(&mut bytes)?;
        // 248 = 4 × 62: bytes from 248 up are dropped, so every character is equally likely.
        for b in bytes
            .iter()
            .filter(|b| **b < 248)
            .take(DEV_TOKEN_CHARS - chars)
        {
            if let Some(c) = ALPHABET.get(usize::from(*b % 62)) {
                token.push(char::from(*c));
                chars += 1;
            }
        }
    }
    Ok(token)
}

fn sqs_error(e: &crate::sqs_api::SqsError) -> Resp {
    let (status, query, body) = e.to_response();
    sqs_response(status, Some(query), body)
}

fn sqs_response(status: u16, query_error: Option<String>, body: String) -> Resp {
    let mut resp = json_response(status, body);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(hookline_sqs::json::CONTENT_TYPE),
    );
    if let Some(q) = query_error.and_then(|q| hyper::header::HeaderValue::from_str(&q).ok()) {
        resp.headers_mut().insert("x-amzn-query-error", q);
    }
    resp
}

async fn sqs(req: Request<HyperBody>, target: &str, app: &App) -> Resp {
    let body = match read_limited(req.into_body(), MAX_API_BODY).await {
        Ok(b) => b,
        Err(r) => {
            return sqs_error(&crate::sqs_api::SqsError {
                code: if r == Rejection::PAYLOAD_TOO_LARGE {
                    "BatchRequestTooLong"
                } else {
                    "MalformedQueryString"
                },
                message: format!("the request body could not be read ({})", r.code),
            });
        }
    };
    match app.sqs.handle(target, &body).await {
        Ok(v) => sqs_response(200, None, v.to_string()),
        Err(e) => sqs_error(&e),
    }
}

/// `POST /events`: one outbound message, or an array of them, stored in one transaction.
async fn events(req: Request<HyperBody>, app: &App) -> Resp {
    if req.method() != Method::POST {
        let mut r = json_response(405, Rejection::METHOD_NOT_ALLOWED.body());
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("POST"),
        );
        return r;
    }
    let body = match read_limited(req.into_body(), MAX_API_BODY).await {
        Ok(b) => b,
        Err(r) => return json_response(r.status, r.body()),
    };
    let bad = |detail: String| {
        json_response(
            400,
            json!({"error": "invalid_message", "detail": detail}).to_string(),
        )
    };
    let items: Vec<Box<serde_json::value::RawValue>> =
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'[') => match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(e) => return bad(format!("not a JSON array of messages: {e}")),
            },
            _ => match serde_json::from_slice(&body) {
                Ok(v) => vec![v],
                Err(e) => return bad(format!("not JSON: {e}")),
            },
        };
    if items.is_empty() {
        return bad("an empty array holds no messages".to_owned());
    }
    let mut batch = Vec::with_capacity(items.len());
    let mut types = Vec::with_capacity(items.len());
    for (i, raw) in items.iter().enumerate() {
        match OutboundMessage::from_json(raw.get().as_bytes()) {
            Ok(m) => {
                types.push(m.event_type.clone());
                let body = m.to_json_string();
                if body.len() > crate::sqs_api::MAX_MESSAGE_BYTES {
                    return bad(format!(
                        "message {i} is {} bytes; SQS takes at most {}",
                        body.len(),
                        crate::sqs_api::MAX_MESSAGE_BYTES
                    ));
                }
                batch.push((body, Vec::new(), Duration::ZERO));
            }
            Err(e) if items.len() == 1 => return bad(e.to_string()),
            Err(e) => return bad(format!("message {i}: {e}")),
        }
    }
    let now = now_ms();
    let stored = app
        .sqs
        .store()
        .run(move |s| s.send_batch(OUTBOUND_QUEUE, &batch, now))
        .await;
    match stored {
        Ok(sent) => {
            let ids: Vec<&str> = sent.iter().map(|s| s.message_id.as_str()).collect();
            app.out.received(
                "/events",
                202,
                || format!("{} queued on {OUTBOUND_QUEUE}", untrusted(&types.join(", "))),
                || json!({"event": "queued", "queue": OUTBOUND_QUEUE, "types": types, "message_ids": ids}),
            );
            app.sqs.notify();
            json_response(202, json!({"ok": true, "message_ids": ids}).to_string())
        }
        Err(e) => {
            app.out
                .ui
                .note(&format!("hookline dev: enqueue failed: {e}"));
            json_response(503, Rejection::QUEUE_UNAVAILABLE.body())
        }
    }
}

/// The queues whose depths `/metrics` shows (the dead-letter queues' are the ones to alarm on).
const METRIC_QUEUES: [&str; 4] = [INBOUND_QUEUE, OUTBOUND_QUEUE, INBOUND_DLQ, OUTBOUND_DLQ];

/// `GET /metrics`: the sender's counters, then each queue's messages by state.
async fn metrics_page(method: &Method, app: &App) -> Resp {
    if *method != Method::GET && *method != Method::HEAD {
        let mut r = json_response(405, Rejection::METHOD_NOT_ALLOWED.body());
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("GET, HEAD"),
        );
        return r;
    }
    let now = now_ms();
    let counted = app
        .sqs
        .store()
        .run(move |s| {
            METRIC_QUEUES
                .iter()
                .map(|q| s.counts(q, now).map(|c| (*q, c)))
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .await;
    let counts = match counted {
        Ok(c) => c,
        Err(e) => {
            app.out
                .ui
                .note(&format!("hookline dev: /metrics: the queues' counts: {e}"));
            return json_response(503, Rejection::QUEUE_UNAVAILABLE.body());
        }
    };
    let mut gauges = Vec::with_capacity(counts.len() * 3);
    for (queue, c) in counts {
        for (state, n) in [
            ("visible", c.visible),
            ("in_flight", c.in_flight),
            ("delayed", c.delayed),
        ] {
            gauges.push((
                "hookline_queue_messages",
                vec![
                    ("queue".to_owned(), queue.to_owned()),
                    ("state".to_owned(), state.to_owned()),
                ],
                n,
            ));
        }
    }
    let mut r = response(200, app.metrics.render(&gauges));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// The receiver's routes, as the Worker answers them.
async fn hook(req: Request<HyperBody>, app: &App, target: &str) -> Result<Resp, Rejection> {
    let path = target.split('?').next().unwrap_or_default();
    let route = inbound::route(path)?;
    let Route::Hook { source, handler } = route else {
        return match *req.method() {
            Method::GET | Method::HEAD => Ok(json_response(200, inbound::HEALTH_BODY.to_owned())),
            _ => Err(Rejection::METHOD_NOT_ALLOWED),
        };
    };
    if req.method() != Method::POST {
        return Err(Rejection::METHOD_NOT_ALLOWED);
    }
    let name = source.to_owned();
    let handler = handler.map(str::to_owned);
    let Some(source) = app.sources.get(&name) else {
        app.out.received(
            &name,
            404,
            || "unknown_source".to_owned(),
            || json!({"event": "rejected", "source": name, "status": 404, "error": "unknown_source"}),
        );
        return Err(Rejection::UNKNOWN_SOURCE);
    };
    let result = receive(req, source, handler.as_deref(), app, target).await;
    if let Err(r) = &result {
        app.out.received(
            &name,
            r.status,
            || r.code.to_owned(),
            || json!({"event": "rejected", "source": name, "status": r.status, "error": r.code}),
        );
    }
    result
}

async fn receive(
    req: Request<HyperBody>,
    source: &ResolvedSource,
    handler: Option<&str>,
    app: &App,
    target: &str,
) -> Result<Resp, Rejection> {
    let limit = source.max_body_bytes;
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(Rejection::PAYLOAD_TOO_LARGE);
    }
    // One entry per name, repeated values joined with ", ", as the Workers runtime presents
    // them: the same request verifies (or not) the same way on both.
    let mut headers = Headers::new();
    for name in req.headers().keys() {
        let joined: Vec<String> = req
            .headers()
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        headers.push(name.as_str(), joined.join(", "));
    }
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let url = format!("http://{host}{target}");
    let body = read_limited(
        req.into_body(),
        usize::try_from(limit).unwrap_or(usize::MAX),
    )
    .await?;
    let incoming = Incoming {
        method: "POST",
        url: &url,
        headers: &headers,
        body: &body,
        handler,
    };
    match inbound::receive(source, &incoming, Timestamp::from_unix_millis(now_ms()))? {
        Accepted::Handshake { content_type, body } => {
            app.out.received(
                &source.name,
                200,
                || "handshake answered".to_owned(),
                || json!({"event": "handshake", "source": source.name}),
            );
            let mut resp = response(200, body);
            if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
                resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
            }
            Ok(resp)
        }
        Accepted::Event(envelope) => {
            // Encoded once: its size decides the claim check, and it is the inbound queue's body.
            let json = envelope.to_json_string();
            if inbound::needs_claim_check(json.len()) {
                // The Worker stores such bodies in R2 and queues a claim check; dev has no
                // bucket, so it answers as the Worker does without one.
                return Err(Rejection::PAYLOAD_TOO_LARGE);
            }
            let (queue, message_id) = enqueue(&envelope, json, source, app).await?;
            app.out
                .accepted(&source.name, &envelope, queue, &message_id);
            // Woken only now, so the delivery's line never comes before this one.
            app.sqs.notify();
            Ok(json_response(200, inbound::ok_body(&envelope.id)))
        }
    }
}

/// Commits the event (`json`, its envelope encoded) to its queue (the inbound queue, or the
/// outbound queue as a relay message) before anything is answered.
async fn enqueue(
    envelope: &InboundEnvelope,
    json: String,
    source: &ResolvedSource,
    app: &App,
) -> Result<(&'static str, String), Rejection> {
    // The embedded queues are standard queues: no FIFO ids.
    let routed = route::route(envelope, Cow::Owned(json), source, false)
        .map_err(|_| Rejection::QUEUE_UNAVAILABLE)?;
    let queue = match routed.destination {
        Destination::Queue => INBOUND_QUEUE,
        Destination::Relay => OUTBOUND_QUEUE,
    };
    let attributes = routed
        .attributes
        .iter()
        .map(|(name, value)| text_attr(name, value))
        .collect();
    let body = routed.body;
    match app.sqs.send_local(queue, body, attributes).await {
        Ok(id) => Ok((queue, id)),
        Err(e) => {
            app.out
                .ui
                .note(&format!("hookline dev: enqueue on {queue} failed: {e}"));
            Err(Rejection::QUEUE_UNAVAILABLE)
        }
    }
}

fn text_attr(name: &str, value: &str) -> Attribute {
    Attribute {
        name: name.to_owned(),
        data_type: "String".to_owned(),
        value: value.to_owned(),
    }
}

fn open_store(
    dir: &Path,
    reset: bool,
    durability: Durability,
) -> Result<(Store, PathBuf), CliError> {
    std::fs::create_dir_all(dir).map_err(|source| DevStoreError::CreateDir {
        dir: dir.to_owned(),
        source,
    })?;
    let path = dir.join("dev.sqlite3");
    let store = Store::open_with(&path, durability).map_err(|e| match e {
        StoreError::InUse => DevStoreError::InUse { path: path.clone() },
        source => DevStoreError::Open {
            path: path.clone(),
            source,
        },
    })?;
    let prepare = |source| DevStoreError::Prepare {
        path: path.clone(),
        source,
    };
    let spec = |name: &str, vt: u64, redrive: Option<(&str, u32)>| QueueSpec {
        name: name.to_owned(),
        visibility_timeout: Duration::from_secs(vt),
        redrive: redrive.map(|(d, n)| (d.to_owned(), n)),
    };
    let queues = [
        spec(INBOUND_DLQ, 30, None),
        spec(OUTBOUND_DLQ, 30, None),
        // As wrangler.toml's consumer: ten tries, then the dead-letter queue.
        spec(INBOUND_QUEUE, 30, Some((INBOUND_DLQ, 10))),
        // The sender dead-letters by itself after its last retry; the redrive is the safety
        // net (template.yaml's MaxReceiveCount plays the same part), set above any schedule.
        spec(OUTBOUND_QUEUE, 60, Some((OUTBOUND_DLQ, 100))),
    ];
    for q in &queues {
        store.ensure_queue(q).map_err(prepare)?;
        if reset {
            store.purge(&q.name).map_err(prepare)?;
        }
    }
    Ok((store, path))
}

/// The API's tokens: the configuration's `[api]` tokens, and the development token with every
/// application in its scope. (`Tokens` takes no token once built, so the development token joins
/// the configured ones as one more `literal:` entry, resolved with them.)
fn api_tokens(
    loaded: &Loaded,
    dev_token: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<hookline_core::api::auth::Tokens, CliError> {
    let mut api = loaded.config.api.clone();
    api.tokens.push(hookline_core::config::ApiTokenConfig {
        secret: format!("literal:{dev_token}"),
        app: None,
    });
    api.resolve_tokens(lookup)
        .map_err(|errors| loaded.invalid(errors))
}

/// Runs `hookline dev` until interrupted.
pub async fn run(args: Args, ui: Ui) -> Result<(), CliError> {
    let loaded = load_config(args.config.as_deref())?;
    let lookup = |name: &str| std::env::var(name).ok();
    let sources = loaded
        .config
        .resolve_sources(lookup)
        .map_err(|errors| loaded.invalid(errors))?;
    let addr = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ListenError::DevBind { addr, source })?;
    let local = listener.local_addr().map_err(|source| ListenError::Bind {
        addr: addr.to_string(),
        source,
    })?;
    let base_url = format!("http://{local}");
    let (store, db_path) = open_store(&args.data_dir, args.reset, args.durability)?;
    // Only the outbound queue is this process's alone to release; your consumers hold the
    // inbound queue's receipts.
    let released = store
        .release_leases(OUTBOUND_QUEUE, now_ms())
        .map_err(DevStoreError::from)?;
    let pending: u64 = [INBOUND_QUEUE, OUTBOUND_QUEUE]
        .iter()
        .filter_map(|q| store.counts(q, now_ms()).ok())
        .map(|c| c.visible + c.in_flight + c.delayed)
        .sum();
    let store = StoreThread::spawn(store).map_err(DevStoreError::from)?;
    // The API's tables live in the same file, on the same thread, in the same group commits.
    let sqlite = Arc::new(
        SqliteStore::on_queue(store.clone(), crate::now)
            .await
            .map_err(|e| DevStoreError::ApiTables {
                path: db_path.clone(),
                reason: e.to_string(),
            })?,
    );
    let api_store: Arc<dyn hookline_api::Store> = sqlite.clone();
    let sqs_api = SqsApi::new(store, base_url.clone(), now_ms);
    let client = crate::sqs_target::local_client(&base_url, None, false);
    let printer = Printer { ui };
    let mut settings = Settings::from_config(
        &loaded.config,
        sqs_api.queue_url(OUTBOUND_QUEUE),
        sqs_api.queue_url(OUTBOUND_DLQ),
        lookup,
    )
    .map_err(|errors| loaded.invalid(errors))?;
    // The embedded queues take what SQS's largest queues do: fan-out plans with their limit.
    settings.max_message_bytes = crate::sqs_api::MAX_MESSAGE_BYTES;
    let metrics = Arc::new(metrics::Metrics::default());
    let counted = Arc::clone(&metrics);
    let log = Logger::with_sink(move |line| {
        // A metric line is parsed once, to count it, and never printed.
        if !counted.observe(line) {
            printer.sender_line(line);
        }
    })
    .with_level(&std::env::var("RUST_LOG").unwrap_or_default());
    // Messages naming an application go to the endpoints registered through the API.
    let registry = hookline_sender::registry::RegistryCache::new(
        Arc::clone(&api_store),
        loaded.config.api.registry_cache,
        loaded.config.api.retention,
        loaded.config.delivery.clone(),
    );
    let sender = Arc::new(
        Sender::new(settings, client.clone(), log)
            .map_err(|e| CliError::HttpClient(Box::new(e)))?
            .with_registry(registry),
    );
    let api_token = dev_token(std::env::var(API_TOKEN_VAR).ok(), getrandom::fill).map_err(|e| {
        CliError::HttpClient(format!("no random source for the API token: {e}").into())
    })?;
    let api = hookline_api::Api::new(
        Arc::clone(&api_store),
        Arc::new(DevOutbox {
            sqs: sqs_api.clone(),
        }),
        Arc::new(hookline_api::SystemEnv),
        hookline_api::Settings {
            tokens: api_tokens(&loaded, &api_token, lookup)?,
            urls: UrlPolicy {
                ssrf: sender.settings().ssrf.clone(),
                allow_http: true,
            },
            retention: loaded.config.api.retention,
            operational_endpoints: loaded.config.api.operational_endpoints.clone(),
            configured: hookline_api::service::ConfiguredEndpoint::from_config(&loaded.config),
            // Links name the address dev listens on unless the configuration names another.
            portal: {
                let mut portal =
                    hookline_api::service::PortalSettings::from_config(&loaded.config.api.portal);
                portal.url.get_or_insert_with(|| base_url.clone());
                portal
            },
        },
    );
    let app = Arc::new(App {
        open_host: !args.host.is_loopback(),
        sources,
        sqs: sqs_api.clone(),
        api,
        metrics,
        out: printer,
    });
    let api_file = write_api_file(ui, &args.data_dir, &base_url, &api_token);
    banner(
        ui,
        &loaded,
        &app,
        &sender,
        &base_url,
        (&db_path, args.durability),
        released,
        pending,
        &api_token,
    );

    // From here on lines are written a few at a time by a thread of their own (`ui`); what is
    // left is written when `run` returns. The delivery loops write them out before each delete
    // (`poll`), so a delivery's lines are never lost to a kill that its delete outlived.
    crate::ui::write_lines_in_background();
    let _flush = FlushOnReturn;

    // History past its retention goes (DynamoDB's TTL does it on AWS): now, then every few
    // minutes.
    tokio::spawn(sweep_loop(printer, SWEEP_EVERY, move |now| {
        let sqlite = Arc::clone(&sqlite);
        async move { sqlite.sweep_expired(now).await }
    }));

    // The loops read and delete in the process (no HTTP round trip to dev's own SQS API); the
    // sender's other queue calls (retries, dead letters, fan-out) go through `client`.
    let outbound: Arc<dyn hookline_sender::local::PollQueue> =
        Arc::new(poll::InProcess::new(sqs_api.clone(), OUTBOUND_QUEUE));
    for _ in 0..args.workers {
        let source = LocalEventSource::with_queue(Arc::clone(&outbound), OUTBOUND_QUEUE, 10, 1);
        let sender = Arc::clone(&sender);
        tokio::spawn(deliver_loop(source, sender, printer.ui));
    }

    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let app = Arc::clone(&app);
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let service = hyper::service::service_fn(move |req| serve(req, Arc::clone(&app)));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    if let Some(path) = api_file
        && let Err(e) = std::fs::remove_file(&path)
    {
        ui.note(&format!(
            "hookline dev: cannot remove {}: {e} (its token is no longer valid)",
            path.display()
        ));
    }
    ui.emit(
        || "hookline dev stopped; queued messages are kept for the next start".to_owned(),
        || json!({"event": "stopped"}),
    );
    Ok(())
}

/// Writes out the lines not yet written when dropped (when `run` returns).
struct FlushOnReturn;

impl Drop for FlushOnReturn {
    fn drop(&mut self) {
        crate::ui::flush_lines();
    }
}

/// Writes the API's address and token where `hookline log` looks for them; returns the file, or
/// `None` (said on stderr) when it could not be written: everything else works without it.
fn write_api_file(ui: Ui, data_dir: &Path, base_url: &str, token: &str) -> Option<PathBuf> {
    let dev = DevApi {
        url: format!("{base_url}{}", hookline_api::service::PREFIX),
        token: token.to_owned(),
    };
    match dev.write(data_dir) {
        Ok(()) => Some(DevApi::path(data_dir)),
        Err(e) => {
            ui.note(&format!(
                "hookline dev: cannot write {}: {e}; `hookline log` will need --api and --token",
                DevApi::path(data_dir).display()
            ));
            None
        }
    }
}

/// How often `hookline dev` deletes the history records past the retention period (and once at
/// start). Each sweep deletes in short steps on the store's thread, so queue work and API
/// requests barely wait for it.
const SWEEP_EVERY: Duration = Duration::from_secs(5 * 60);

/// Calls `sweep` with the time now, then every `every`, and says how many records expired (with
/// `--json`: every sweep, as `{"event":"history_swept","expired":n}`; for people only when some
/// did). A failed sweep is said and tried again at the next tick: what it left stays expired,
/// and expired records are never read.
async fn sweep_loop<F, Fut>(out: Printer, every: Duration, mut sweep: F)
where
    F: FnMut(Timestamp) -> Fut,
    Fut: std::future::Future<Output = Result<usize, hookline_api::StoreError>>,
{
    let mut tick = tokio::time::interval(every);
    // After a stall (a suspended laptop), one sweep, not a burst of them.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match sweep(crate::now()).await {
            Ok(n) if out.ui.json => out
                .ui
                .json_line(&json!({"event": "history_swept", "expired": n})),
            Ok(0) => {}
            Ok(n) => out.ui.line(&format!(
                "{} {} {n} history record(s) past the retention period",
                out.clock(),
                out.ui.paint(Style::Dim, "⌫ expired")
            )),
            Err(e) => out.ui.note(&format!(
                "hookline dev: the history sweep failed ({e}); it runs again in {}",
                hookline_core::time::format_duration(every)
            )),
        }
    }
}

/// One delivery loop: what Lambda's event source mapping does, against the embedded queue.
async fn deliver_loop(source: LocalEventSource, sender: Arc<Sender>, ui: Ui) {
    loop {
        let polled = source
            .poll_once(|event| handle_batch(Arc::clone(&sender), event))
            .await;
        if let Err(e) = polled {
            ui.note(&format!("hookline dev: delivery loop: {e}"));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

async fn handle_batch(
    sender: Arc<Sender>,
    event: aws_lambda_events::event::sqs::SqsEvent,
) -> Result<aws_lambda_events::event::sqs::SqsBatchResponse, Infallible> {
    Ok(sender.handle(event, &SystemClock).await)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The portal's address with the development token in its fragment (never sent to a server).
fn portal_link(base_url: &str, api_token: &str) -> String {
    format!(
        "{base_url}{}/#token={api_token}",
        hookline_api::service::PORTAL_PATH
    )
}

#[allow(clippy::too_many_arguments)]
fn banner(
    ui: Ui,
    loaded: &Loaded,
    app: &App,
    sender: &Sender,
    base_url: &str,
    (db_path, durability): (&Path, Durability),
    released: usize,
    pending: u64,
    api_token: &str,
) {
    let sources: Vec<Value> = app
        .sources
        .values()
        .map(|s| {
            json!({
                "name": s.name,
                "url": format!("{base_url}/hooks/{}", s.name),
                "scheme": s.verifier.scheme().kind().name(),
                "destination": match s.destination { Destination::Queue => INBOUND_QUEUE, Destination::Relay => OUTBOUND_QUEUE },
            })
        })
        .collect();
    let endpoints: Vec<Value> = sender
        .settings()
        .endpoints
        .values()
        .map(|e| json!({"name": e.name, "url": e.url, "events": e.config.events}))
        .collect();
    if ui.json {
        ui.json_line(&json!({
            "event": "ready", "url": base_url, "config": loaded.origin,
            "database": db_path.display().to_string(), "durability": durability.name(),
            "pending": pending,
            "released": released, "sources": sources, "endpoints": endpoints,
            "sqs_endpoint": base_url,
            "api_url": format!("{base_url}{}", hookline_api::service::PREFIX),
            "api_token": api_token,
            "portal_url": portal_link(base_url, api_token),
            "queues": {
                "inbound": app.sqs.queue_url(INBOUND_QUEUE),
                "outbound": app.sqs.queue_url(OUTBOUND_QUEUE),
                "inbound_dlq": app.sqs.queue_url(INBOUND_DLQ),
                "outbound_dlq": app.sqs.queue_url(OUTBOUND_DLQ),
            },
        }));
        return;
    }
    let b = |t: &str| ui.paint(Style::Bold, t);
    ui.line(&format!(
        "{} {}  ({}; queue {}, durability {}, {pending} pending{})",
        b("hookline dev"),
        ui.paint(Style::Cyan, base_url),
        loaded.origin,
        db_path.display(),
        durability.name(),
        if released > 0 {
            format!(", {released} in-flight released")
        } else {
            String::new()
        }
    ));
    // Both lists are built just above with string fields: the "" never shows.
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    for s in &sources {
        ui.line(&format!(
            "  {} POST {}  {} → {}",
            b("source  "),
            text(s, "url"),
            text(s, "scheme"),
            text(s, "destination")
        ));
    }
    for e in &endpoints {
        ui.line(&format!(
            "  {} {}  {}  {}",
            b("endpoint"),
            text(e, "name"),
            text(e, "url"),
            e.get("events").map(Value::to_string).unwrap_or_default()
        ));
    }
    ui.line(&format!(
        "  {} POST {base_url}/events  (outbound messages, the JSON you would put on SQS)",
        b("events  ")
    ));
    ui.line(&format!(
        "  {} {base_url}  (queues {INBOUND_QUEUE}, {OUTBOUND_QUEUE}, {INBOUND_DLQ}, {OUTBOUND_DLQ})",
        b("sqs api ")
    ));
    ui.line(&format!(
        "  {} {base_url}{}  token {api_token}",
        b("API     "),
        hookline_api::service::PREFIX
    ));
    ui.line(&format!(
        "  {} {}  (every application, with the token above)",
        b("portal  "),
        ui.paint(Style::Cyan, &portal_link(base_url, api_token))
    ));
    ui.line("ready: press Ctrl-C to stop (queued messages are kept)");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_lines_print_no_control_or_format_character_from_the_log() {
        // The sender's log quotes what endpoints and apps chose: an endpoint's error text, an
        // app's event type and id. None of it may reach the terminal as a control sequence.
        let evil = "x\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{202e}\r\u{9b}31m";
        let lines = [
            json!({"level":"info","msg":"delivery_attempt","outcome":"delivered","endpoint":evil,
                   "status":200,"event_type":evil,"message_id":evil,"attempt":1,"latency_ms":3}),
            json!({"level":"warn","msg":"delivery_attempt","outcome":"retry","endpoint":"e",
                   "error":evil,"event_type":"t","message_id":"m","attempt":2,"next_delay_ms":1500}),
            json!({"level":"warn","msg":evil,"error":evil}),
        ];
        for json in [false, true] {
            let printer = Printer {
                ui: Ui::new(crate::ui::ColorChoice::Never, json),
            };
            for line in &lines {
                let text = printer.sender_text(&line.to_string()).unwrap();
                assert!(
                    !text.chars().any(crate::ui::is_unsafe),
                    "json={json}: {text:?}"
                );
                // The content is still there, written out.
                assert!(text.contains("]52;c;ZXZpbA=="), "{text:?}");
            }
        }
    }

    #[test]
    fn the_development_token_is_the_environment_s_or_32_random_base62_characters() {
        let token = dev_token(None, getrandom::fill).unwrap();
        let random = token.strip_prefix("hl_dev_").unwrap();
        assert_eq!(random.len(), 32);
        assert!(random.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");
        assert_ne!(token, dev_token(None, getrandom::fill).unwrap());
        assert_eq!(
            dev_token(Some("mine".into()), getrandom::fill).unwrap(),
            "mine"
        );
        // An empty variable is as good as none.
        assert!(
            dev_token(Some(String::new()), getrandom::fill)
                .unwrap()
                .starts_with("hl_dev_")
        );
        // Bytes from 248 up are skipped (no bias), so an unlucky source still makes 32.
        let mut calls = 0;
        let skewed = dev_token(None, |buf: &mut [u8]| {
            calls += 1;
            for (i, b) in buf.iter_mut().enumerate() {
                *b = if i % 8 == 0 { 61 } else { 250 };
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(skewed, format!("hl_dev_{}", "z".repeat(32)));
        assert_eq!(calls, 4);
    }

    #[test]
    fn only_api_v1_and_below_go_to_the_api() {
        assert!(is_api_v1("/api/v1"));
        assert!(is_api_v1("/api/v1/"));
        assert!(is_api_v1("/api/v1/app/x"));
        assert!(!is_api_v1("/api/v10"));
        assert!(!is_api_v1("/api/v1x/app"));
        assert!(!is_api_v1("/api"));
        assert!(!is_api_v1("/hooks/api/v1"));
    }

    /// Counts the calls of a fake sweep whose second call fails.
    fn fake_sweep(
        calls: Arc<std::sync::Mutex<usize>>,
    ) -> impl FnMut(Timestamp) -> std::future::Ready<Result<usize, hookline_api::StoreError>> {
        move |_now| {
            let mut n = calls.lock().unwrap();
            *n += 1;
            std::future::ready(if *n == 2 {
                Err(hookline_api::StoreError::Unavailable("disk".into()))
            } else {
                Ok(*n)
            })
        }
    }

    fn wait_for_calls(calls: &Arc<std::sync::Mutex<usize>>, n: usize) {
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while *calls.lock().unwrap() < n {
            assert!(std::time::Instant::now() < until, "{n} sweeps");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_history_is_swept_at_start_then_every_period_and_a_failure_is_retried() {
        let printer = Printer { ui: Ui::plain() };
        // At start, without waiting for the first period.
        let calls = Arc::new(std::sync::Mutex::new(0));
        let task = tokio::spawn(sweep_loop(
            printer,
            SWEEP_EVERY,
            fake_sweep(Arc::clone(&calls)),
        ));
        tokio::task::spawn_blocking({
            let calls = Arc::clone(&calls);
            move || wait_for_calls(&calls, 1)
        })
        .await
        .unwrap();
        assert_eq!(
            *calls.lock().unwrap(),
            1,
            "not again before {SWEEP_EVERY:?}"
        );
        task.abort();
        // Then every period, on after the second one failed.
        let calls = Arc::new(std::sync::Mutex::new(0));
        let task = tokio::spawn(sweep_loop(
            printer,
            Duration::from_millis(10),
            fake_sweep(Arc::clone(&calls)),
        ));
        tokio::task::spawn_blocking({
            let calls = Arc::clone(&calls);
            move || wait_for_calls(&calls, 4)
        })
        .await
        .unwrap();
        task.abort();
    }

    #[test]
    fn the_retry_line_says_the_wait_the_queue_keeps() {
        // The sender rounds the policy's delay up to whole seconds of visibility timeout.
        assert_eq!(next_attempt_in(0), "0s");
        assert_eq!(next_attempt_in(1), "1s");
        assert_eq!(next_attempt_in(800), "1s");
        assert_eq!(next_attempt_in(1_000), "1s");
        assert_eq!(next_attempt_in(9_001), "10s");
        assert_eq!(next_attempt_in(150_000), "2m30s");
        assert_eq!(next_attempt_in(330_400), "5m31s");
        assert_eq!(next_attempt_in(12 * 3_600_000), "12h");
    }

    fn headers(pairs: &[(&str, &str)]) -> hyper::HeaderMap {
        let mut h = hyper::HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn paths_are_read_as_the_worker_reads_them() {
        let target = |s: &str| worker_target(&s.parse::<hyper::Uri>().unwrap());
        // Dot segments, plain or percent-encoded, are resolved as the Workers runtime does.
        assert_eq!(target("/hooks/../hooks/stripe"), "/hooks/stripe");
        assert_eq!(target("/hooks/%2e%2E/hooks/stripe"), "/hooks/stripe");
        assert_eq!(target("/hooks/x/../stripe?a=1"), "/hooks/stripe?a=1");
        // So `..` and `.` are never handler names.
        assert_eq!(target("/hooks/stripe/.."), "/hooks/");
        assert_eq!(target("/hooks/stripe/."), "/hooks/stripe/");
        assert_eq!(target("/hooks\\stripe"), "/hooks/stripe");
        // Everything else is kept as sent: no percent-decoding, no merged slashes.
        assert_eq!(target("/hooks/%73tripe"), "/hooks/%73tripe");
        assert_eq!(target("/hooks/stripe%00"), "/hooks/stripe%00");
        assert_eq!(target("//hooks/stripe"), "//hooks/stripe");
        assert_eq!(target("/hooks/stripe/"), "/hooks/stripe/");
        assert_eq!(target("/healthz?x=%2e%2e"), "/healthz?x=%2e%2e");
        // The absolute form names a host; the path is read the same way.
        assert_eq!(
            target("http://evil.example/hooks/../hooks/stripe"),
            "/hooks/stripe"
        );
        assert_eq!(target("*"), "*");
    }

    #[test]
    fn browsers_on_other_origins_and_rebound_host_names_are_refused() {
        let ok = |pairs: &[(&str, &str)]| browser_guard(&headers(pairs), false);
        assert_eq!(ok(&[("host", "127.0.0.1:8787")]), None);
        assert_eq!(ok(&[("host", "localhost:8787")]), None);
        assert_eq!(ok(&[("host", "[::1]:8787")]), None);
        assert_eq!(ok(&[("host", "api.localhost")]), None);
        assert_eq!(ok(&[]), None, "HTTP/1.0 clients send no Host");
        assert_eq!(
            ok(&[
                ("host", "127.0.0.1:8787"),
                ("origin", "http://localhost:3000")
            ]),
            None
        );
        assert_eq!(
            ok(&[
                ("host", "127.0.0.1:8787"),
                ("origin", "https://attacker.example")
            ]),
            Some("forbidden_origin")
        );
        assert_eq!(
            ok(&[("host", "127.0.0.1:8787"), ("origin", "null")]),
            Some("forbidden_origin"),
            "sandboxed frames send Origin: null"
        );
        assert_eq!(
            ok(&[("host", "rebind.attacker.example:8787")]),
            Some("forbidden_host")
        );
        assert_eq!(
            ok(&[("host", "127.0.0.1.attacker.example")]),
            Some("forbidden_host")
        );
        // Listening beyond loopback (--host 0.0.0.0): any Host, but still no foreign Origin.
        let open = |pairs: &[(&str, &str)]| browser_guard(&headers(pairs), true);
        assert_eq!(open(&[("host", "devbox.lan:8787")]), None);
        assert_eq!(
            open(&[("host", "devbox.lan:8787"), ("origin", "https://x.example")]),
            Some("forbidden_origin")
        );
    }
}
