//! `hookline listen`: a local webhook sink, the laptop's answer to webhook.site. It verifies
//! Standard Webhooks signatures (`webhook-*` and `svix-*` headers) with the core's verifier,
//! prints each delivery at a glance, and answers whatever status a retry demo needs.
//!
//! The server only wires things up: [`inspect`] (what came in, and does it verify),
//! [`Responder::answer`] (which status to send), [`render_human`] and [`render_json`] are plain
//! functions the unit tests call directly.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use hookline_core::headers::Headers;
use hookline_core::secret::Secret;
use hookline_core::time::Timestamp;
use hookline_core::verify::{Request, SchemeKind, Verifier, VerifyError};
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::error::{ListenError, Problems, UsageError};
use crate::now;
use crate::ui::{Style, untrusted, untrusted_lines};
use crate::{CliError, Ui};

/// The largest body the sink reads; larger ones are answered 413.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// How much of a body is shown without `--full`: lines, then characters.
const SHOWN_LINES: usize = 60;
const SHOWN_CHARS: usize = 4_000;
/// What every line of a shown body starts with: summary lines start at column 0 with the time,
/// so no body line can pass for one.
const BODY_INDENT: &str = "  ";
/// How long open connections get to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// `hookline listen` options.
#[derive(Debug, clap::Args)]
#[command(after_help = LISTEN_EXAMPLES)]
pub struct Args {
    /// The address to listen on. Requests from browser pages of other origins are refused (403
    /// `forbidden_origin`); on loopback, so are requests addressed to another host name (403
    /// `forbidden_host`, DNS rebinding).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The port to listen on (0 picks a free one).
    #[arg(long, short = 'p', default_value_t = 9000)]
    pub port: u16,
    /// A Standard Webhooks secret (`whsec_...`, or a `whpk_...` public key) to verify with;
    /// repeat for several (any one may match). Without one, requests are printed unverified.
    #[arg(
        long,
        value_name = "SECRET",
        env = "HOOKLINE_LISTEN_SECRET",
        hide_env_values = true
    )]
    pub secret: Vec<String>,
    /// The status to answer (e.g. 500 to exercise retries, 410 to unsubscribe).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u16).range(200..=599))]
    pub status: u16,
    /// Answer 500 to the first N requests (not counting those refused with 401), then
    /// `--status`.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fail_first: u64,
    /// Answer `--status` even when the signature is invalid (instead of 401).
    #[arg(long)]
    pub accept_invalid: bool,
    /// Stop, exiting 1, after the first request whose signature is invalid.
    #[arg(long)]
    pub exit_on_invalid: bool,
    /// Show every request's headers.
    #[arg(long)]
    pub headers: bool,
    /// Show whole bodies (by default long ones are cut).
    #[arg(long, conflicts_with = "quiet")]
    pub full: bool,
    /// One line per request, no body.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

const LISTEN_EXAMPLES: &str = "\
Examples:
  hookline listen --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
  # every delivery fails: watch the retries
  hookline listen --port 9001 --status 503
  hookline listen --fail-first 2 --quiet    # two failures, then 200
  # scripts see what people see
  hookline --json listen | jq 'select(.verified|not)'
  # behind a tunnel, which must pass Host: localhost (DNS rebinding guard)
  ngrok http 9000 --host-header=rewrite";

/// How a request fared against the secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// A signature matched a configured secret.
    Verified,
    /// No `--secret` was given, so nothing was checked.
    Unverified,
    /// The request failed verification.
    Invalid(VerifyError),
}

/// One received request, and what the sink made of it.
#[derive(Clone, Debug)]
pub struct Inspection {
    /// When it arrived.
    pub received_at: Timestamp,
    /// The HTTP method.
    pub method: String,
    /// The path and query.
    pub path: String,
    /// Every header, in order.
    pub headers: Headers,
    /// The raw body.
    pub body: Bytes,
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<serde_json::Value>,
    /// `webhook-id` (or `svix-id`).
    pub id: Option<String>,
    /// `webhook-timestamp` (or `svix-timestamp`), when it is a number.
    pub timestamp: Option<i64>,
    /// The body's `type` field, when it is a string.
    pub event_type: Option<String>,
    /// The verification result.
    pub verification: Verification,
}

/// Looks at one request: its ids, its event type, and whether it verifies at `now`.
pub fn inspect(
    method: &str,
    path: &str,
    headers: Headers,
    body: Bytes,
    verifier: Option<&Verifier>,
    now: Timestamp,
) -> Inspection {
    let first = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|n| headers.get_all(n).next())
            .map(str::to_owned)
    };
    let id = first(["webhook-id", "svix-id"]);
    let timestamp =
        first(["webhook-timestamp", "svix-timestamp"]).and_then(|t| t.trim().parse::<i64>().ok());
    let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let event_type = json
        .as_ref()
        .and_then(|j| j.get("type"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    let verification = match verifier {
        None => Verification::Unverified,
        Some(v) => {
            let url = format!("http://localhost{path}");
            let req = Request {
                method,
                url: &url,
                headers: &headers,
                body: &body,
            };
            match v.verify(&req, now) {
                Ok(_) => Verification::Verified,
                Err(e) => Verification::Invalid(e),
            }
        }
    };
    Inspection {
        received_at: now,
        method: method.to_owned(),
        path: path.to_owned(),
        headers,
        body,
        json,
        id,
        timestamp,
        event_type,
        verification,
    }
}

/// Why a status was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// `--status` (200 by default).
    Configured,
    /// One of the first `--fail-first` requests: number `n` of them.
    FailFirst(u64),
    /// The signature is invalid.
    Invalid,
}

/// The status chosen for a request, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// Why.
    pub reason: Reason,
}

/// Chooses statuses: 401 for invalid signatures (unless accepted), 500 for the first
/// `fail_first` others, then the configured status.
#[derive(Debug)]
pub struct Responder {
    status: u16,
    fail_first: u64,
    accept_invalid: bool,
    accepted: AtomicU64,
}

impl Responder {
    /// A responder answering `status` after `fail_first` failures.
    pub fn new(status: u16, fail_first: u64, accept_invalid: bool) -> Self {
        Self {
            status,
            fail_first,
            accept_invalid,
            accepted: AtomicU64::new(0),
        }
    }

    /// The answer to a request with this verification result. Invalid requests are refused
    /// before `--fail-first` counts, so a wrong secret shows up as 401, not as a retry demo.
    pub fn answer(&self, verification: &Verification) -> Answer {
        if matches!(verification, Verification::Invalid(_)) && !self.accept_invalid {
            return Answer {
                status: 401,
                reason: Reason::Invalid,
            };
        }
        let n = self
            .accepted
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        if n <= self.fail_first {
            Answer {
                status: 500,
                reason: Reason::FailFirst(n),
            }
        } else {
            Answer {
                status: self.status,
                reason: Reason::Configured,
            }
        }
    }
}

/// How much of each request a person sees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct View {
    /// List the headers.
    pub headers: bool,
    /// Never cut the body.
    pub full: bool,
    /// One line, no body.
    pub quiet: bool,
}

/// The request as people read it: a summary line, then (unless quiet) headers and body.
pub fn render_human(
    i: &Inspection,
    answer: Answer,
    fail_first: u64,
    ui: &Ui,
    view: View,
) -> String {
    let rfc = i.received_at.to_rfc3339();
    let time = rfc.get(11..19).unwrap_or(&rfc);
    // Everything but the time, the verdict and the status came with the request: each piece
    // goes through `untrusted` (or `untrusted_lines`), so none can drive the terminal, and the
    // body is indented, so no line of it can pass for a summary line.
    let mut line = format!(
        "{} {} {}",
        ui.paint(Style::Dim, time),
        ui.paint(Style::Bold, &untrusted(&i.method)),
        untrusted(&i.path)
    );
    if let Some(id) = &i.id {
        line.push_str("  ");
        line.push_str(&ui.paint(Style::Cyan, &untrusted(id)));
    }
    if let Some(t) = &i.event_type {
        line.push_str("  ");
        line.push_str(&ui.paint(Style::Bold, &untrusted(t)));
    }
    line.push_str("  ");
    line.push_str(&match &i.verification {
        Verification::Verified => ui.paint(Style::Green, "✔ verified"),
        Verification::Unverified => ui.paint(Style::Yellow, "· unverified (no --secret)"),
        Verification::Invalid(e) => ui.paint(
            Style::Red,
            &format!("✘ {} ({})", untrusted(&e.to_string()), e.code()),
        ),
    });
    let status_style = if (200..300).contains(&answer.status) {
        Style::Green
    } else {
        Style::Red
    };
    line.push_str("  → ");
    line.push_str(&ui.paint(status_style, &answer.status.to_string()));
    if let Reason::FailFirst(n) = answer.reason {
        line.push_str(&ui.paint(Style::Dim, &format!(" (--fail-first {n}/{fail_first})")));
    }
    if view.quiet {
        return line;
    }
    let mut out = vec![line];
    if view.headers {
        for (name, value) in i.headers.iter() {
            out.push(ui.paint(
                Style::Dim,
                &format!("  {}: {}", untrusted(name), untrusted(value)),
            ));
        }
    }
    for body_line in untrusted_lines(&body_text(i, view.full)).split('\n') {
        out.push(format!("{BODY_INDENT}{body_line}"));
    }
    out.push(String::new());
    out.join("\n")
}

/// The body for people: pretty JSON, text, or a byte count; cut unless `full`.
fn body_text(i: &Inspection, full: bool) -> String {
    if i.body.is_empty() {
        return "(empty body)".to_owned();
    }
    let text = match (&i.json, std::str::from_utf8(&i.body)) {
        (Some(_), Ok(text)) => pretty_json(text),
        (Some(json), Err(_)) => serde_json::to_string_pretty(json).unwrap_or_default(),
        (None, Ok(text)) => text.to_owned(),
        (None, Err(_)) => return format!("({} bytes of binary data)", i.body.len()),
    };
    if full {
        return text;
    }
    let mut cut = text.len();
    if let Some((at, _)) = text.match_indices('\n').nth(SHOWN_LINES.saturating_sub(1)) {
        cut = cut.min(at);
    }
    if let Some((at, _)) = text.char_indices().nth(SHOWN_CHARS) {
        cut = cut.min(at);
    }
    match (text.get(..cut), text.len() - cut) {
        (Some(shown), hidden) if hidden > 0 => {
            format!("{shown}\n… {hidden} more bytes (--full shows everything)")
        }
        _ => text,
    }
}

/// Re-indents JSON text that is known to parse, two spaces a level. Unlike re-serialising a
/// `serde_json::Value`, it keeps the sender's key order and number spelling, which is what
/// someone debugging a payload wants to see.
fn pretty_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => escaped = false,
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.peek().is_some_and(|n| n.is_ascii_whitespace()) {
                    chars.next();
                }
                if let Some(&close @ ('}' | ']')) = chars.peek() {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// The request as one JSON object, for `--json`.
pub fn render_json(i: &Inspection, answer: Answer) -> serde_json::Value {
    let mut headers = serde_json::Map::new();
    for (name, value) in i.headers.iter() {
        // A repeated header is joined as HTTP allows; the verifier saw each occurrence.
        let joined = match headers.get(name).and_then(serde_json::Value::as_str) {
            Some(prev) => format!("{prev}, {value}"),
            None => value.to_owned(),
        };
        headers.insert(name.to_owned(), joined.into());
    }
    let body = match &i.json {
        Some(json) => json.clone(),
        None => String::from_utf8_lossy(&i.body).into_owned().into(),
    };
    let (verified, verification, error) = match &i.verification {
        Verification::Verified => (true, "verified", None),
        Verification::Unverified => (false, "unverified", None),
        Verification::Invalid(e) => (false, "invalid", Some(e.code())),
    };
    serde_json::json!({
        "received_at": i.received_at.to_rfc3339(),
        "method": i.method,
        "path": i.path,
        "id": i.id,
        "timestamp": i.timestamp,
        "type": i.event_type,
        "verified": verified,
        "verification": verification,
        "error": error,
        "status": answer.status,
        "headers": headers,
        "body": body,
    })
}

/// The verifier for `--secret`s, or `None` without any.
pub fn verifier(secrets: &[String]) -> Result<Option<Verifier>, CliError> {
    if secrets.is_empty() {
        return Ok(None);
    }
    let secrets = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Secret::new(s.trim().as_bytes().to_vec())
                .map_err(|_| UsageError::EmptySecret { index: i + 1 })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Verifier::new(SchemeKind::StandardWebhooks, secrets)
        .map(Some)
        .map_err(|source| {
            // Not the scheme's own hint, which names the private key that signs: a sink
            // verifies, with the secret or the public key.
            CliError::from(UsageError::BadSecret {
                source,
                expected: Some(
                    "Standard Webhooks secrets are `whsec_` followed by base64 (or a `whpk_` \
                     public key)",
                ),
            })
        })
}

/// The line printed (to stderr) once the port is bound; tests wait for it.
pub fn start_line(addr: SocketAddr, secrets: usize) -> String {
    let how = match secrets {
        0 => "not verifying: no --secret, requests are printed unverified".to_owned(),
        1 => "verifying with 1 secret".to_owned(),
        n => format!("verifying with {n} secrets"),
    };
    format!("listening on http://{addr} ({how})")
}

/// Everything the connection tasks share.
struct State {
    ui: Ui,
    /// Listening beyond loopback (`--host`): any `Host` header is accepted (the `Origin` check
    /// stays).
    open_host: bool,
    view: View,
    verifier: Option<Verifier>,
    responder: Responder,
    fail_first: u64,
    exit_on_invalid: bool,
    /// Set when `--exit-on-invalid` saw an invalid request: the code of its error.
    invalid: std::sync::Mutex<Option<&'static str>>,
    stop: Notify,
    seen: AtomicU64,
}

/// Runs `hookline listen`.
pub async fn run(args: Args, ui: Ui) -> Result<(), CliError> {
    let verifier = verifier(&args.secret)?;
    let listener = bind(&args.host, args.port).await?;
    let addr = listener.local_addr().map_err(ListenError::LocalAddr)?;
    ui.note(&start_line(addr, args.secret.len()));
    let state = Arc::new(State {
        ui,
        open_host: !crate::sqs_target::is_loopback_host(&args.host),
        view: View {
            headers: args.headers,
            full: args.full,
            quiet: args.quiet,
        },
        verifier,
        responder: Responder::new(args.status, args.fail_first, args.accept_invalid),
        fail_first: args.fail_first,
        exit_on_invalid: args.exit_on_invalid,
        invalid: std::sync::Mutex::new(None),
        stop: Notify::new(),
        seen: AtomicU64::new(0),
    });
    serve(listener, Arc::clone(&state), shutdown_signal()).await;
    let seen = state.seen.load(Ordering::Relaxed);
    let invalid = state.invalid.lock().map(|g| *g).unwrap_or(None);
    match invalid {
        Some(code) => Err(Problems::InvalidRequest { code }.into()),
        None => {
            ui.note(&format!(
                "stopped after {seen} request{}",
                if seen == 1 { "" } else { "s" }
            ));
            Ok(())
        }
    }
}

/// Binds the listening socket; a taken port says what to do.
async fn bind(host: &str, port: u16) -> Result<TcpListener, CliError> {
    TcpListener::bind((host, port)).await.map_err(|source| {
        CliError::from(match source.kind() {
            std::io::ErrorKind::AddrInUse => ListenError::PortInUse {
                host: host.to_owned(),
                port,
            },
            _ => ListenError::Bind {
                addr: format!("{host}:{port}"),
                source,
            },
        })
    })
}

/// Accepts connections until `shutdown` completes (or `--exit-on-invalid` fires), then lets
/// open connections finish their current request for up to [`SHUTDOWN_GRACE`].
async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            () = state.stop.notified() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let state = Arc::clone(&state);
                    let mut stop_rx = stop_rx.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |req| handle(req, Arc::clone(&state)));
                        let conn = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service);
                        tokio::pin!(conn);
                        tokio::select! {
                            _ = conn.as_mut() => {}
                            _ = stop_rx.changed() => {
                                conn.as_mut().graceful_shutdown();
                                let _ = conn.await;
                            }
                        }
                    });
                }
                // Running out of file descriptors is transient: back off instead of spinning.
                Err(e) => {
                    state.ui.note(&format!("warning: accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// One request: read, inspect, answer, print.
async fn handle(
    req: hyper::Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.to_string(), |p| p.as_str().to_owned());
    // A web page must not be able to make a browser post here (forged lines in the terminal,
    // `--exit-on-invalid` stops, `--fail-first` counts): the guard `hookline dev` puts on its
    // local API, before the body is read.
    if let Some(code) = crate::dev::browser_guard(&parts.headers, state.open_host) {
        state.ui.note(&format!(
            "{} {}: {code} (answered 403; see `hookline listen --help`)",
            parts.method,
            untrusted(&path)
        ));
        return Ok(respond(403, serde_json::json!({ "error": code })));
    }
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let (status, code) = if e.downcast_ref::<LengthLimitError>().is_some() {
                (413, "body_too_large")
            } else {
                (400, "body_unreadable")
            };
            state.ui.note(&format!(
                "{} {}: {code} (answered {status})",
                parts.method,
                untrusted(&path)
            ));
            return Ok(respond(status, serde_json::json!({ "error": code })));
        }
    };
    let headers: Headers = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let inspection = inspect(
        parts.method.as_str(),
        &path,
        headers,
        body,
        state.verifier.as_ref(),
        now(),
    );
    let answer = state.responder.answer(&inspection.verification);
    state.seen.fetch_add(1, Ordering::Relaxed);
    state.ui.emit(
        || render_human(&inspection, answer, state.fail_first, &state.ui, state.view),
        || render_json(&inspection, answer),
    );
    if let (true, Verification::Invalid(e)) = (state.exit_on_invalid, &inspection.verification) {
        if let Ok(mut slot) = state.invalid.lock() {
            slot.get_or_insert(e.code());
        }
        state.stop.notify_one();
    }
    let reply = match (&inspection.verification, answer.reason) {
        (Verification::Invalid(e), Reason::Invalid) => serde_json::json!({ "error": e.code() }),
        (_, Reason::FailFirst(n)) => serde_json::json!({ "error": "fail_first", "attempt": n }),
        _ => serde_json::json!({ "status": answer.status }),
    };
    Ok(respond(answer.status, reply))
}

fn respond(status: u16, body: serde_json::Value) -> Response<Full<Bytes>> {
    // JSON answers end with a newline, as a terminal running `curl` wants them.
    let mut response = Response::new(Full::new(Bytes::from(body.to_string() + "\n")));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use hookline_core::verify::Signer;

    use super::*;

    const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const NOW: Timestamp = Timestamp::from_unix_secs(1_763_900_000);
    const BODY: &[u8] = br#"{"type":"invoice.paid","data":{"id":1}}"#;

    fn signed(prefix: &str, body: &[u8], at: Timestamp) -> Headers {
        let signer = Signer::new(
            SchemeKind::StandardWebhooks,
            vec![Secret::new(WHSEC.as_bytes().to_vec()).unwrap()],
        )
        .unwrap();
        let none = Headers::new();
        let req = Request {
            method: "POST",
            url: "http://localhost/",
            headers: &none,
            body,
        };
        signer
            .sign(&req, "msg_1", at)
            .unwrap()
            .into_iter()
            .map(|(n, v)| (n.replace("webhook-", prefix), v))
            .collect()
    }

    fn check(headers: Headers, body: &[u8]) -> Inspection {
        let v = verifier(&[WHSEC.to_owned()]).unwrap();
        inspect(
            "POST",
            "/hooks/x?a=1",
            headers,
            Bytes::copy_from_slice(body),
            v.as_ref(),
            NOW,
        )
    }

    #[test]
    fn signed_requests_verify_under_both_header_prefixes() {
        for prefix in ["webhook-", "svix-"] {
            let i = check(signed(prefix, BODY, NOW), BODY);
            assert_eq!(i.verification, Verification::Verified, "{prefix}");
            assert_eq!(i.id.as_deref(), Some("msg_1"));
            assert_eq!(i.timestamp, Some(1_763_900_000));
            assert_eq!(i.event_type.as_deref(), Some("invoice.paid"));
        }
    }

    #[test]
    fn tampered_stale_and_unsigned_requests_are_invalid() {
        let i = check(
            signed("webhook-", BODY, NOW),
            b"{\"type\":\"invoice.paid\"}",
        );
        assert_eq!(
            i.verification,
            Verification::Invalid(VerifyError::SignatureMismatch)
        );
        let stale = NOW.saturating_sub(Duration::from_secs(3600));
        let i = check(signed("webhook-", BODY, stale), BODY);
        assert_eq!(
            i.verification,
            Verification::Invalid(VerifyError::TimestampTooOld)
        );
        let i = check(Headers::new(), BODY);
        assert!(matches!(
            i.verification,
            Verification::Invalid(VerifyError::MissingHeader(_))
        ));
    }

    #[test]
    fn without_a_secret_nothing_is_verified() {
        let i = inspect("GET", "/", Headers::new(), Bytes::new(), None, NOW);
        assert_eq!(i.verification, Verification::Unverified);
        assert_eq!(verifier(&[]).unwrap().map(|_| ()), None);
    }

    #[test]
    fn bad_secrets_are_usage_errors_that_do_not_echo_them() {
        let Err(e @ CliError::Usage(UsageError::BadSecret { .. })) =
            verifier(&["not*base64*topsecret".to_owned()])
        else {
            panic!()
        };
        let m = e.to_string();
        assert!(!m.contains("topsecret"), "{m}");
        assert!(m.contains("`whpk_` public key"), "{m}");
        assert!(matches!(
            verifier(&[" ".to_owned()]),
            Err(CliError::Usage(UsageError::EmptySecret { index: 1 }))
        ));
    }

    #[test]
    fn answers_refuse_invalid_then_fail_first_then_the_configured_status() {
        let r = Responder::new(503, 2, false);
        let invalid = Verification::Invalid(VerifyError::SignatureMismatch);
        assert_eq!(r.answer(&invalid).status, 401);
        assert_eq!(
            r.answer(&Verification::Verified).reason,
            Reason::FailFirst(1)
        );
        assert_eq!(r.answer(&Verification::Unverified).status, 500);
        assert_eq!(r.answer(&Verification::Verified).status, 503);
        let lenient = Responder::new(200, 0, true);
        assert_eq!(lenient.answer(&invalid).status, 200);
    }

    #[test]
    fn human_output_shows_the_facts_at_a_glance() {
        let i = check(signed("webhook-", BODY, NOW), BODY);
        let ok = Answer {
            status: 200,
            reason: Reason::Configured,
        };
        let text = render_human(&i, ok, 0, &Ui::plain(), View::default());
        let first = text.lines().next().unwrap();
        assert_eq!(
            first,
            "12:13:20 POST /hooks/x?a=1  msg_1  invoice.paid  ✔ verified  → 200"
        );
        assert!(text.contains("\"type\": \"invoice.paid\""), "{text}");
        let quiet = View {
            quiet: true,
            ..View::default()
        };
        assert_eq!(render_human(&i, ok, 0, &Ui::plain(), quiet), first);
        let bad = check(Headers::new(), BODY);
        let text = render_human(
            &bad,
            Answer {
                status: 401,
                reason: Reason::Invalid,
            },
            0,
            &Ui::plain(),
            quiet,
        );
        assert!(
            text.contains("✘ missing header `webhook-id` (missing_header)  → 401"),
            "{text}"
        );
        let text = render_human(
            &i,
            Answer {
                status: 500,
                reason: Reason::FailFirst(1),
            },
            2,
            &Ui::plain(),
            quiet,
        );
        assert!(text.ends_with("→ 500 (--fail-first 1/2)"), "{text}");
    }

    #[test]
    fn nothing_from_the_request_reaches_the_terminal_raw() {
        let nasty = "\u{1b}]52;c;aGk=\u{7}\u{1b}[1A\u{1b}[2K\rok\u{9b}0m\u{202e}\u{200b}";
        let body = serde_json::json!({ "type": nasty, "x": nasty }).to_string();
        let mut headers = signed("webhook-", body.as_bytes(), NOW);
        headers.push("X-Evil", nasty);
        let verified = check(headers, body.as_bytes());
        assert_eq!(verified.verification, Verification::Verified);
        let text_body = format!("line 1\n{nasty}\n12:13:20 POST /x  ✔ verified  → 200\tend");
        let refused = check(
            [("webhook-id", nasty)].into_iter().collect(),
            text_body.as_bytes(),
        );
        let view = View {
            headers: true,
            full: true,
            quiet: false,
        };
        for (i, status) in [(&verified, 200), (&refused, 401)] {
            let answer = Answer {
                status,
                reason: Reason::Configured,
            };
            for ui in [
                Ui::plain(),
                Ui {
                    color: true,
                    json: false,
                },
            ] {
                let text = render_human(i, answer, 0, &ui, view);
                for c in text.chars() {
                    // Colours are hookline's own ESC [ ... m, nothing else.
                    // Bodies keep newlines and tabs; colours are hookline's own ESC [ .. m.
                    assert!(
                        !crate::ui::is_unsafe(c) || matches!(c, '\n' | '\t' | '\u{1b}'),
                        "{c:?}"
                    );
                }
                let stripped = ["0", "1", "2", "31", "32", "33", "36"]
                    .iter()
                    .fold(text.clone(), |t, code| {
                        t.replace(&format!("\u{1b}[{code}m"), "")
                    });
                assert_eq!(
                    stripped.matches('\u{1b}').count(),
                    0,
                    "only colour codes may use ESC: {text:?}"
                );
                // Only the first line starts at column 0: no body line can pass for one.
                for line in stripped.lines().skip(1) {
                    assert!(line.is_empty() || line.starts_with("  "), "{line:?}");
                }
            }
        }
        let text = render_human(
            &refused,
            Answer {
                status: 401,
                reason: Reason::Invalid,
            },
            0,
            &Ui::plain(),
            view,
        );
        assert!(text.contains(r"\u{1b}]52;c;aGk=\u{7}"), "{text}");
        assert!(
            text.contains("  12:13:20 POST /x  ✔ verified  → 200\tend"),
            "{text}"
        );
    }

    #[test]
    fn long_bodies_are_cut_unless_full() {
        let body: String = (0..200).map(|n| format!("line {n}\n")).collect();
        let i = inspect(
            "POST",
            "/",
            Headers::new(),
            Bytes::from(body.clone()),
            None,
            NOW,
        );
        let cut = body_text(&i, false);
        assert_eq!(cut.lines().count(), SHOWN_LINES + 1, "{cut}");
        assert!(cut.ends_with("more bytes (--full shows everything)"));
        assert_eq!(body_text(&i, true), body);
        let wide = "é".repeat(SHOWN_CHARS * 2);
        let i = inspect("POST", "/", Headers::new(), Bytes::from(wide), None, NOW);
        assert!(body_text(&i, false).starts_with(&"é".repeat(SHOWN_CHARS)));
        let i = inspect(
            "POST",
            "/",
            Headers::new(),
            Bytes::from_static(b"\xff\xfe"),
            None,
            NOW,
        );
        assert_eq!(body_text(&i, false), "(2 bytes of binary data)");
    }

    #[test]
    fn bodies_are_pretty_printed_in_the_order_they_were_sent() {
        let text = r#" {"z" :1.50, "a":[ ], "s":"x,{\\\":y", "o":{}, "l":[1,{"k":null}]} "#;
        assert!(serde_json::from_str::<serde_json::Value>(text).is_ok());
        assert_eq!(
            pretty_json(text),
            "{\n  \"z\": 1.50,\n  \"a\": [],\n  \"s\": \"x,{\\\\\\\":y\",\n  \"o\": {},\n  \
             \"l\": [\n    1,\n    {\n      \"k\": null\n    }\n  ]\n}"
        );
        assert_eq!(pretty_json("\"a b\""), "\"a b\"");
    }

    #[test]
    fn json_output_has_every_field() {
        let mut headers = signed("webhook-", BODY, NOW);
        headers.push("X-Dup", "a");
        headers.push("x-dup", "b");
        let i = check(headers, BODY);
        let v = render_json(
            &i,
            Answer {
                status: 200,
                reason: Reason::Configured,
            },
        );
        assert_eq!(v["method"], "POST");
        assert_eq!(v["path"], "/hooks/x?a=1");
        assert_eq!(v["id"], "msg_1");
        assert_eq!(v["timestamp"], 1_763_900_000);
        assert_eq!(v["type"], "invoice.paid");
        assert_eq!(v["verified"], true);
        assert_eq!(v["error"], serde_json::Value::Null);
        assert_eq!(v["status"], 200);
        assert_eq!(v["headers"]["x-dup"], "a, b");
        assert_eq!(v["body"]["data"]["id"], 1);
        let bad = check(Headers::new(), b"not json");
        let v = render_json(
            &bad,
            Answer {
                status: 401,
                reason: Reason::Invalid,
            },
        );
        assert_eq!(v["error"], "missing_header");
        assert_eq!(v["body"], "not json");
        assert_eq!(v["verification"], "invalid");
    }

    #[test]
    fn the_start_line_counts_secrets() {
        let addr: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        assert_eq!(
            start_line(addr, 1),
            "listening on http://127.0.0.1:9000 (verifying with 1 secret)"
        );
        assert!(start_line(addr, 0).contains("unverified"));
        assert!(start_line(addr, 2).contains("2 secrets"));
    }
}
