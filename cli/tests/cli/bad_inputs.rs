//! The bad-input table (issue 7, items 2 and 5): malformed requests against the receiver Worker
//! in workerd and against `hookline dev`, each with the status and error code it must get. None
//! may crash either process or get a 5xx other than `503`; after the table, every line both
//! printed is scanned for the configured secrets and for every signature the suite made.
//!
//! One table ([`table`]) runs against both targets. Where they legitimately differ, the row says
//! so and why: almost always the HTTP layer in front of hookline (hyper in `hookline dev`,
//! workerd's kj-http in front of the Worker) refusing a request before hookline sees it, each
//! with its own limits. Requests go over raw TCP, so anything can be sent: duplicated headers,
//! bytes that are not UTF-8, control characters, unnormalised paths, lying lengths, odd methods.
//!
//! Signatures are made at send time with the core's own [`Signer`], keyed with the secrets of
//! `tests/vectors/*.json`, then broken; replay windows are real (the release build of the
//! Worker, and `hookline dev`, use the wall clock), so Paddle's 5 s window is honoured.

// The per-target counts and the findings are reported on stderr (`-- --nocapture` shows them).
#![allow(clippy::print_stderr)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use hookline_core::headers::Headers;
use hookline_core::secret::Secret;
use hookline_core::time::Timestamp;
use hookline_core::verify::{Request, Scheme, SchemeKind, Signer};
use hookline_tests::harness::{ReceiverBuild, Workerd, free_port};
use hookline_tests::leaks::Needles;
use hookline_tests::{load_vectors, scheme_for};
use serde_json::{Value, json};

use super::common::{Dev, now};

/// The table must not shrink silently.
const MIN_CASES: usize = 50;
/// The `max_body_bytes` of the `small` source.
const SMALL_LIMIT: usize = 4096;
/// The default `max_body_bytes` (docs/config.md).
const DEFAULT_LIMIT: usize = 1 << 20;
/// The URL Twilio is configured to sign (the source's `public_url`), the same on both targets.
const TWILIO_URL: &str = "https://hooks.example.com/hooks/twilio";
/// How far outside every replay window a stale or future signature is (the largest window a
/// configuration may set is 1 h).
const OUTSIDE_WINDOW: i64 = 2 * 3600;
/// How much of its output the harness keeps for workerd (`LOG_TAIL` in tests/support/harness.rs).
const WORKERD_LOG_KEPT: usize = 32 * 1024;

// ---- the two targets ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Dev,
    Worker,
}

/// What a request must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// 200 `{"ok":true,"id":"..."}`: verified and enqueued.
    Accepted,
    /// 200 `{"ok":true}` from `/healthz` (no body for `HEAD`).
    Healthy,
    /// hookline's refusal: this status and exactly `{"error":"<code>"}`, `no-store`.
    Refused(u16, &'static str),
    /// Refused by the HTTP layer in front of hookline (hyper, or workerd's kj-http) before
    /// hookline saw the request: this status, the server's own body.
    Http(u16),
    /// workerd's own HTTP server answers this 5xx before the Worker runs (no hookline code is
    /// involved; Cloudflare's edge, not kj-http, faces the internet in production). Allowed for
    /// the Worker only, printed as a finding on every run so a change shows.
    RuntimeFault(u16),
}

const MISSING: Want = Want::Refused(401, "missing_header");
const MISMATCH: Want = Want::Refused(401, "signature_mismatch");
const UNSUPPORTED: Want = Want::Refused(401, "unsupported_signature_version");
const MALFORMED: Want = Want::Refused(401, "malformed_header");
const NO_TIMESTAMP: Want = Want::Refused(401, "missing_timestamp");
const BAD_TIMESTAMP: Want = Want::Refused(401, "invalid_timestamp");
const TOO_OLD: Want = Want::Refused(401, "timestamp_too_old");
const IN_FUTURE: Want = Want::Refused(401, "timestamp_in_future");
const INVALID_JSON: Want = Want::Refused(400, "invalid_json");
const UNREADABLE: Want = Want::Refused(400, "unreadable_body");
const TOO_LARGE: Want = Want::Refused(413, "payload_too_large");
const NOT_FOUND: Want = Want::Refused(404, "not_found");
const UNKNOWN_SOURCE: Want = Want::Refused(404, "unknown_source");
const NOT_ALLOWED: Want = Want::Refused(405, "method_not_allowed");

// ---- the sources ------------------------------------------------------------------------------

/// One configured source per scheme, named after it, keyed as in its test vectors.
struct Src {
    kind: SchemeKind,
    scheme: Scheme,
    /// The configured secret (Discord: the public key).
    secret: String,
    /// What signs (Discord: the private key; otherwise the secret).
    signing_key: String,
    /// Another key of the same kind, for "signed with the wrong secret".
    wrong_key: String,
    /// The generic scheme's parameters.
    params: Option<Value>,
    /// The header carrying the signature.
    sig_header: String,
    /// The header carrying the signed timestamp, when it has its own.
    ts_header: Option<&'static str>,
}

impl Src {
    fn name(&self) -> &'static str {
        self.kind.name()
    }
}

fn sources() -> Vec<Src> {
    let files = load_vectors();
    let mut out = Vec::new();
    for kind in SchemeKind::ALL {
        let file = files
            .iter()
            .find(|f| f.scheme == kind.name())
            .unwrap_or_else(|| panic!("no vectors for {kind}"));
        // The generic vector with a prefix and a signed timestamp exercises the most of it.
        let case = file
            .cases
            .iter()
            .filter(|c| c.expect == "valid")
            .find(|c| kind != SchemeKind::Generic || c.name == "unix-ms-timestamp")
            .unwrap_or_else(|| panic!("no valid vector for {kind}"));
        let secret = case.secrets[0].clone();
        let scheme = scheme_for(file, case);
        let sig_header = match &scheme {
            Scheme::Generic(g) => g.header.clone(),
            _ => kind.signature_headers()[0].to_owned(),
        };
        let ts_header = match kind {
            SchemeKind::StandardWebhooks => Some("webhook-timestamp"),
            SchemeKind::Slack => Some("x-slack-request-timestamp"),
            SchemeKind::Zendesk => Some("x-zendesk-webhook-signature-timestamp"),
            SchemeKind::Discord => Some("x-signature-timestamp"),
            SchemeKind::Zoom => Some("x-zm-request-timestamp"),
            SchemeKind::Generic => Some("x-timestamp-ms"),
            _ => None,
        };
        let wrong_key = match kind {
            SchemeKind::StandardWebhooks => "whsec_d3Jvbmcga2V5IGZvciBiYWQgaW5wdXRzIQ==".to_owned(),
            SchemeKind::Discord => "11".repeat(32),
            _ => "wrong-secret-for-the-bad-input-table".to_owned(),
        };
        out.push(Src {
            kind,
            scheme,
            signing_key: case.signing_key.clone().unwrap_or_else(|| secret.clone()),
            secret,
            wrong_key,
            params: case.params.clone().filter(|_| kind == SchemeKind::Generic),
            sig_header,
            ts_header,
        });
    }
    out
}

/// `[A-Za-z_][A-Za-z0-9_]*`: the variable holding a source's secret on the Worker.
fn secret_var(source: &str) -> String {
    format!(
        "BAD_INPUTS_{}",
        source.to_ascii_uppercase().replace('-', "_")
    )
}

/// The configuration of both targets: a source per scheme, and `small` (Standard Webhooks with a
/// 4 KiB limit). `secret_ref` turns a source name and secret into a reference.
fn config(srcs: &[Src], secret_ref: impl Fn(&str, &str) -> String) -> Value {
    let mut sources = serde_json::Map::new();
    for s in srcs {
        let mut source =
            json!({ "scheme": s.name(), "secrets": [secret_ref(s.name(), &s.secret)] });
        if let Some(p) = &s.params {
            source["generic"] = p.clone();
        }
        if s.kind == SchemeKind::Twilio {
            source["public_url"] = json!(TWILIO_URL);
        }
        sources.insert(s.name().to_owned(), source);
    }
    let standard = &srcs[0];
    assert_eq!(standard.kind, SchemeKind::StandardWebhooks);
    sources.insert(
        "small".to_owned(),
        json!({
            "scheme": "standard-webhooks",
            "secrets": [secret_ref("small", &standard.secret)],
            "max_body_bytes": SMALL_LIMIT,
        }),
    );
    json!({ "sources": sources })
}

/// A JSON value written as TOML: `{ sources = { name = { ... } } }` as `[sources."name"]` tables
/// of inline values.
fn toml_config(config: &Value) -> String {
    fn inline(v: &Value) -> String {
        match v {
            Value::Object(m) => {
                let items: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{} = {}", Value::from(k.as_str()), inline(v)))
                    .collect();
                format!("{{ {} }}", items.join(", "))
            }
            Value::Array(a) => {
                let items: Vec<String> = a.iter().map(inline).collect();
                format!("[{}]", items.join(", "))
            }
            // JSON strings, numbers and booleans are TOML's too.
            other => other.to_string(),
        }
    }
    let mut out = String::new();
    for (name, source) in config["sources"].as_object().unwrap() {
        writeln!(out, "[sources.{}]", Value::from(name.as_str())).unwrap();
        for (k, v) in source.as_object().unwrap() {
            writeln!(out, "{} = {}", Value::from(k.as_str()), inline(v)).unwrap();
        }
        out.push('\n');
    }
    out
}

// ---- requests -----------------------------------------------------------------------------------

/// Which key signs a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    /// The configured one.
    Right,
    /// Another key of the same kind.
    Wrong,
    /// No signature at all.
    Unsigned,
}

/// Which header an [`Edit`] changes.
#[derive(Clone, Debug)]
enum Hdr {
    /// The scheme's signature header.
    Sig,
    /// The scheme's timestamp header.
    Ts,
    Named(&'static str),
}

/// A change made to the signed headers before sending.
#[derive(Clone, Debug)]
enum Edit {
    Remove(Hdr),
    /// Sent twice with the same value (as a proxy that duplicates headers would).
    Duplicate(Hdr),
    /// The value's last `n` characters dropped.
    Truncate(Hdr, usize),
    Set(Hdr, &'static [u8]),
    /// The first `from` in the value replaced by `to`.
    Replace(Hdr, &'static str, &'static str),
    Map(Hdr, fn(&str) -> String),
    /// Raw bytes appended to the value (they need not be UTF-8).
    AppendRaw(Hdr, &'static [u8]),
}

/// How the body travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// `Content-Length` of the body.
    Length,
    /// `Transfer-Encoding: chunked`, 1 KiB chunks, no `Content-Length`.
    Chunked,
    /// Neither (the body, if any, is written raw after the head).
    Bare,
    /// `Content-Length: n` whatever the body, and the write side closed after the body.
    Declared(u64),
}

/// The body of a request.
#[derive(Clone, Debug)]
enum BodyOf {
    /// The scheme's ordinary event, made at the signing time.
    Event,
    Bytes(Vec<u8>),
}

/// How one request is made, declaratively, so the row reads as what it sends.
#[derive(Clone, Debug)]
struct Recipe {
    /// The source whose scheme and key sign the request.
    source: &'static str,
    key: Key,
    body: BodyOf,
    /// `None`: the scheme's usual content type; `Some(None)`: no `Content-Type`.
    content_type: Option<Option<&'static str>>,
    /// Signing time, seconds from now.
    at: i64,
    edits: Vec<Edit>,
    /// Raw header lines added as they are.
    extra: Vec<Vec<u8>>,
    framing: Framing,
    /// Sent instead of the body that was signed.
    send_body: Option<Vec<u8>>,
}

fn recipe(source: &'static str) -> Recipe {
    Recipe {
        source,
        key: Key::Right,
        body: BodyOf::Event,
        content_type: None,
        at: 0,
        edits: Vec::new(),
        extra: Vec::new(),
        framing: Framing::Length,
        send_body: None,
    }
}

impl Recipe {
    fn key(mut self, key: Key) -> Self {
        self.key = key;
        self
    }
    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = BodyOf::Bytes(body.into());
        self
    }
    fn content_type(mut self, ct: Option<&'static str>) -> Self {
        self.content_type = Some(ct);
        self
    }
    fn at(mut self, secs: i64) -> Self {
        self.at = secs;
        self
    }
    fn edit(mut self, e: Edit) -> Self {
        self.edits.push(e);
        self
    }
    fn extra(mut self, line: impl Into<Vec<u8>>) -> Self {
        self.extra.push(line.into());
        self
    }
    fn framing(mut self, f: Framing) -> Self {
        self.framing = f;
        self
    }
    fn send_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.send_body = Some(body.into());
        self
    }
}

/// One row of the table.
struct Case {
    name: String,
    category: &'static str,
    method: &'static str,
    /// The request-target, as raw bytes.
    path: Vec<u8>,
    recipe: Recipe,
    dev: Want,
    worker: Want,
    /// Why the two targets answer differently (empty when they agree).
    why: &'static str,
}

fn case(category: &'static str, name: impl Into<String>, recipe: Recipe, want: Want) -> Case {
    Case {
        name: name.into(),
        category,
        method: "POST",
        path: format!("/hooks/{}", recipe.source).into_bytes(),
        recipe,
        dev: want,
        worker: want,
        why: "",
    }
}

impl Case {
    fn method(mut self, m: &'static str) -> Self {
        self.method = m;
        self
    }
    fn path(mut self, p: impl Into<Vec<u8>>) -> Self {
        self.path = p.into();
        self
    }
    /// workerd answers otherwise, for the reason given.
    fn worker(mut self, want: Want, why: &'static str) -> Self {
        self.worker = want;
        self.why = why;
        self
    }
    fn want(&self, t: Target) -> Want {
        match t {
            Target::Dev => self.dev,
            Target::Worker => self.worker,
        }
    }
}

/// A request ready to write.
struct Wire {
    head: Vec<u8>,
    body: Vec<u8>,
    half_close: bool,
}

/// Signs requests at send time and remembers every signature value it made (for the leak scan).
struct Signing {
    srcs: Vec<Src>,
    made: RefCell<Vec<String>>,
}

impl Signing {
    fn src(&self, name: &str) -> &Src {
        self.srcs
            .iter()
            .find(|s| s.name() == name)
            .unwrap_or_else(|| panic!("no source {name}"))
    }

    /// The scheme's ordinary event at `at`, and its content type.
    fn event(kind: SchemeKind, at: Timestamp) -> (Vec<u8>, &'static str) {
        const JSON: &str = "application/json";
        let ms = at.unix_millis();
        let body = match kind {
            SchemeKind::StandardWebhooks => {
                r#"{"type":"user.created","data":{"id":"u_1"}}"#.to_owned()
            }
            SchemeKind::Stripe => r#"{"id":"evt_bad_inputs","type":"invoice.paid"}"#.to_owned(),
            SchemeKind::Github => r#"{"zen":"Keep it logically awesome.","hook_id":1}"#.to_owned(),
            SchemeKind::Slack => {
                r#"{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}"#
                    .to_owned()
            }
            SchemeKind::Shopify => {
                r#"{"id":820982911946154508,"email":"a@example.com"}"#.to_owned()
            }
            SchemeKind::Twilio => {
                return (
                    b"Body=Hello&From=%2B15005550006&To=%2B15005550001".to_vec(),
                    "application/x-www-form-urlencoded",
                );
            }
            SchemeKind::Paddle => {
                r#"{"event_id":"evt_01","event_type":"transaction.completed"}"#.to_owned()
            }
            SchemeKind::Zendesk => r#"{"id":"z1","type":"zen:event-type:user.created"}"#.to_owned(),
            SchemeKind::Linear => {
                format!(r#"{{"action":"create","type":"Issue","webhookTimestamp":{ms}}}"#)
            }
            SchemeKind::Intercom => r#"{"id":"notif_1","topic":"ping"}"#.to_owned(),
            SchemeKind::Discord => r#"{"type":2,"id":"int_1"}"#.to_owned(),
            SchemeKind::Zoom => {
                format!(r#"{{"event":"meeting.started","payload":{{}},"event_ts":{ms}}}"#)
            }
            SchemeKind::Generic => r#"{"hello":"world"}"#.to_owned(),
        };
        (body.into_bytes(), JSON)
    }

    /// Builds the request bytes for `case`, signing now.
    fn wire(&self, case: &Case, port: u16) -> Wire {
        let r = &case.recipe;
        let src = self.src(r.source);
        let at = Timestamp::from_unix_secs(now().unix_secs().saturating_add(r.at));
        let (event, usual_ct) = Self::event(src.kind, at);
        let body = match &r.body {
            BodyOf::Event => event,
            BodyOf::Bytes(b) => b.clone(),
        };
        let ct = r.content_type.unwrap_or(Some(usual_ct));
        let mut base = Headers::new();
        if let Some(ct) = ct {
            base.push("Content-Type", ct);
        }
        let mut headers: Vec<(String, Vec<u8>)> = base
            .iter()
            .map(|(n, v)| (n.to_owned(), v.as_bytes().to_vec()))
            .collect();
        if r.key != Key::Unsigned {
            let key = if r.key == Key::Right {
                &src.signing_key
            } else {
                &src.wrong_key
            };
            let signer = Signer::new(
                src.scheme.clone(),
                vec![Secret::new(key.as_bytes().to_vec()).unwrap()],
            )
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            let url = if src.kind == SchemeKind::Twilio {
                TWILIO_URL.to_owned()
            } else {
                format!("http://127.0.0.1:{port}/hooks/{}", r.source)
            };
            let signed = signer
                .sign(
                    &Request {
                        method: "POST",
                        url: &url,
                        headers: &base,
                        body: &body,
                    },
                    "msg_bad_inputs",
                    at,
                )
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            for (n, v) in signed {
                if n.eq_ignore_ascii_case(&src.sig_header) {
                    self.made.borrow_mut().push(v.clone());
                }
                headers.push((n, v.into_bytes()));
            }
        }
        for e in &r.edits {
            apply(&mut headers, src, e, &case.name);
        }
        let body = r.send_body.clone().unwrap_or(body);

        let mut head = Vec::new();
        head.extend_from_slice(case.method.as_bytes());
        head.push(b' ');
        head.extend_from_slice(&case.path);
        head.extend_from_slice(format!(" HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n").as_bytes());
        for (n, v) in &headers {
            head.extend_from_slice(n.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(v);
            head.extend_from_slice(b"\r\n");
        }
        for line in &r.extra {
            head.extend_from_slice(line);
            head.extend_from_slice(b"\r\n");
        }
        let (body, half_close) = match r.framing {
            Framing::Length => {
                head.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
                (body, false)
            }
            Framing::Declared(n) => {
                head.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes());
                (body, true)
            }
            Framing::Chunked => {
                head.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
                let mut chunked = Vec::new();
                for chunk in body.chunks(1024) {
                    chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    chunked.extend_from_slice(chunk);
                    chunked.extend_from_slice(b"\r\n");
                }
                chunked.extend_from_slice(b"0\r\n\r\n");
                (chunked, false)
            }
            Framing::Bare => (body, false),
        };
        head.extend_from_slice(b"Connection: close\r\n\r\n");
        Wire {
            head,
            body,
            half_close,
        }
    }
}

fn apply(headers: &mut Vec<(String, Vec<u8>)>, src: &Src, edit: &Edit, case: &str) {
    let name = |h: &Hdr| -> String {
        match h {
            Hdr::Sig => src.sig_header.clone(),
            Hdr::Ts => src
                .ts_header
                .unwrap_or_else(|| panic!("{case}: {} has no timestamp header", src.name()))
                .to_owned(),
            Hdr::Named(n) => (*n).to_owned(),
        }
    };
    let find = |headers: &Vec<(String, Vec<u8>)>, n: &str| {
        headers
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(n))
            .unwrap_or_else(|| panic!("{case}: no header {n} to edit"))
    };
    let text = |v: &[u8]| String::from_utf8(v.to_vec()).unwrap();
    match edit {
        Edit::Remove(h) => {
            let n = name(h);
            let i = find(headers, &n);
            headers.remove(i);
        }
        Edit::Duplicate(h) => {
            let i = find(headers, &name(h));
            let copy = headers[i].clone();
            headers.insert(i + 1, copy);
        }
        Edit::Truncate(h, k) => {
            let i = find(headers, &name(h));
            let v = &mut headers[i].1;
            assert!(v.len() > *k, "{case}: nothing left to truncate");
            v.truncate(v.len() - k);
        }
        Edit::Set(h, value) => {
            let n = name(h);
            match headers.iter().position(|(k, _)| k.eq_ignore_ascii_case(&n)) {
                Some(i) => headers[i].1 = value.to_vec(),
                None => headers.push((n, value.to_vec())),
            }
        }
        Edit::Replace(h, from, to) => {
            let i = find(headers, &name(h));
            let v = text(&headers[i].1);
            assert!(v.contains(from), "{case}: {v} has no {from}");
            headers[i].1 = v.replacen(from, to, 1).into_bytes();
        }
        Edit::Map(h, f) => {
            let i = find(headers, &name(h));
            headers[i].1 = f(&text(&headers[i].1)).into_bytes();
        }
        Edit::AppendRaw(h, bytes) => {
            let i = find(headers, &name(h));
            headers[i].1.extend_from_slice(bytes);
        }
    }
}

// ---- raw HTTP/1.1 ---------------------------------------------------------------------------------

/// An answer: status, headers (lower-case names), body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request over its own connection and reads the answer. The request is written on a
/// second thread while this one reads, so a server that answers without reading a large body
/// (413) cannot deadlock the exchange.
fn exchange(port: u16, method: &str, wire: Wire) -> Result<Answer, String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    let timeout = Some(Duration::from_secs(15));
    stream.set_read_timeout(timeout).unwrap();
    stream.set_write_timeout(timeout).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        // The server may answer and close before everything is written: not an error here.
        let _ = writer.write_all(&wire.head);
        let _ = writer.write_all(&wire.body);
        if wire.half_close {
            let _ = writer.shutdown(Shutdown::Write);
        }
    });
    let answer = read_answer(&stream, method == "HEAD");
    let _ = stream.shutdown(Shutdown::Both);
    let _ = sender.join();
    answer
}

fn read_answer(mut stream: &TcpStream, head_only: bool) -> Result<Answer, String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let mut read_more = |buf: &mut Vec<u8>| -> Result<bool, String> {
        match stream.read(&mut chunk) {
            Ok(0) => Ok(false),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e) => Err(e.to_string()),
        }
    };
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match read_more(&mut buf) {
            Ok(true) => {}
            Ok(false) => return Err(format!("closed without an answer ({} bytes)", buf.len())),
            Err(e) => return Err(format!("no answer: {e} ({} bytes)", buf.len())),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line: {head:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = buf[end + 4..].to_vec();
    if head_only || status == 204 || status == 304 {
        return Ok(Answer {
            status,
            headers,
            body: Vec::new(),
        });
    }
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    if let Some(len) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        while body.len() < len {
            match read_more(&mut body) {
                Ok(true) => {}
                _ => return Err(format!("body cut short: {} of {len} bytes", body.len())),
            }
        }
        body.truncate(len);
    } else if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        while !body.ends_with(b"0\r\n\r\n") {
            match read_more(&mut body) {
                Ok(true) => {}
                _ => return Err("chunked body cut short".to_owned()),
            }
        }
        body = dechunk(&body)?;
    } else {
        // Delimited by the end of the connection (`Connection: close` was asked for).
        while let Ok(true) = read_more(&mut body) {}
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunk")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(data.get(..size).ok_or("short chunk")?);
        data = data.get(size + 2..).ok_or("short chunk")?;
    }
}

/// `GET /healthz` must answer 200 `{"ok":true}`.
fn healthy(port: u16) -> Result<(), String> {
    let wire = Wire {
        head: format!(
            "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        )
        .into_bytes(),
        body: Vec::new(),
        half_close: false,
    };
    let a = exchange(port, "GET", wire)?;
    let json: Option<Value> = serde_json::from_slice(&a.body).ok();
    if a.status == 200 && json == Some(json!({ "ok": true })) {
        Ok(())
    } else {
        Err(format!(
            "/healthz: {} {}",
            a.status,
            String::from_utf8_lossy(&a.body)
        ))
    }
}

/// Whether `answer` is what `want` says; `Err` explains what differs.
fn check(case: &Case, want: Want, answer: &Answer) -> Result<(), String> {
    let body = String::from_utf8_lossy(&answer.body);
    let got = || format!("got {} {body}", answer.status);
    if answer.status >= 500 && answer.status != 503 && !matches!(want, Want::RuntimeFault(_)) {
        return Err(format!("a 5xx other than 503: {}", got()));
    }
    let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
    let hookline_headers = || -> Result<(), String> {
        if answer.header("cache-control") != Some("no-store") {
            return Err(format!(
                "no `cache-control: no-store`: {:?}",
                answer.headers
            ));
        }
        Ok(())
    };
    match want {
        Want::Accepted => {
            let id_ok = json
                .as_ref()
                .and_then(|j| j["id"].as_str())
                .is_some_and(|id| !id.is_empty());
            if answer.status != 200
                || json.as_ref().map(|j| &j["ok"]) != Some(&json!(true))
                || !id_ok
            {
                return Err(format!("want 200 {{\"ok\":true,\"id\":..}}, {}", got()));
            }
            hookline_headers()
        }
        Want::Healthy => {
            let body_ok = case.method == "HEAD" || json == Some(json!({ "ok": true }));
            if answer.status != 200 || !body_ok {
                return Err(format!("want 200 {{\"ok\":true}}, {}", got()));
            }
            hookline_headers()
        }
        Want::Refused(status, code) => {
            let body_ok = case.method == "HEAD" || json == Some(json!({ "error": code }));
            if answer.status != status || !body_ok {
                return Err(format!("want {status} {{\"error\":\"{code}\"}}, {}", got()));
            }
            if status == 405 {
                let allow = if case.path.starts_with(b"/healthz") {
                    "GET, HEAD"
                } else {
                    "POST"
                };
                if answer.header("allow") != Some(allow) {
                    return Err(format!(
                        "405 without `allow: {allow}`: {:?}",
                        answer.headers
                    ));
                }
            }
            hookline_headers()
        }
        Want::Http(status) | Want::RuntimeFault(status) => {
            if answer.status != status {
                return Err(format!("want {status} from the HTTP layer, {}", got()));
            }
            // Not hookline's answer: it never reached the receiver.
            if json.as_ref().is_some_and(|j| j.get("error").is_some()) {
                return Err(format!("want the HTTP layer's own {status}, {}", got()));
            }
            Ok(())
        }
    }
}

// ---- the table ------------------------------------------------------------------------------------

/// A JSON document of exactly `n` bytes.
fn json_of_size(n: usize) -> Vec<u8> {
    let (head, tail) = (r#"{"type":"pad.test","pad":""#, r#""}"#);
    let pad = n - head.len() - tail.len();
    format!("{head}{}{tail}", "x".repeat(pad)).into_bytes()
}

fn nested_arrays(depth: usize) -> Vec<u8> {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
}

fn header_line(name: &str, value: &[u8]) -> Vec<u8> {
    let mut line = format!("{name}: ").into_bytes();
    line.extend_from_slice(value);
    line
}

/// Every row. Statuses and codes follow `shared/src/inbound.rs` (check order: route, method,
/// source, size, signature, JSON) and each scheme's parser in `shared/src/verify/`.
fn table(srcs: &[Src]) -> Vec<Case> {
    let mut t = Vec::new();

    // -- every scheme: the signed request itself, then its signature header broken five ways --
    //    missing, empty, truncated by 4 characters (still valid hex or base64, just shorter),
    //    sent twice with the same valid value, replaced by garbage.
    //
    // Duplicates: both targets hand hookline one `a, b` value (workerd joins repeated headers,
    // and `hookline dev` joins them the same way, cli/src/dev.rs `receive`), so no target ever
    // answers `duplicate_header`: a single-value header then fails to parse or to match, and a
    // list header (Standard Webhooks, Paddle) still holds the valid entry (docs/security.md).
    let breaks: [(SchemeKind, [Want; 5]); 13] = [
        (
            SchemeKind::StandardWebhooks,
            [MISSING, UNSUPPORTED, MISMATCH, Want::Accepted, UNSUPPORTED],
        ),
        (
            SchemeKind::Stripe,
            [MISSING, NO_TIMESTAMP, MISMATCH, MALFORMED, NO_TIMESTAMP],
        ),
        (
            SchemeKind::Github,
            [MISSING, UNSUPPORTED, MISMATCH, MISMATCH, UNSUPPORTED],
        ),
        (
            SchemeKind::Slack,
            [MISSING, UNSUPPORTED, MISMATCH, MISMATCH, UNSUPPORTED],
        ),
        (
            SchemeKind::Shopify,
            [MISSING, MISMATCH, MISMATCH, MISMATCH, MISMATCH],
        ),
        (
            SchemeKind::Twilio,
            [MISSING, MISMATCH, MISMATCH, MISMATCH, MISMATCH],
        ),
        (
            SchemeKind::Paddle,
            [
                MISSING,
                NO_TIMESTAMP,
                MISMATCH,
                Want::Accepted,
                NO_TIMESTAMP,
            ],
        ),
        (
            SchemeKind::Zendesk,
            [MISSING, MISMATCH, MISMATCH, MISMATCH, MISMATCH],
        ),
        (
            SchemeKind::Linear,
            [MISSING, MISMATCH, MISMATCH, MISMATCH, MISMATCH],
        ),
        (
            SchemeKind::Intercom,
            [MISSING, UNSUPPORTED, MISMATCH, MISMATCH, UNSUPPORTED],
        ),
        (
            SchemeKind::Discord,
            [MISSING, MISMATCH, MISMATCH, MISMATCH, MISMATCH],
        ),
        (
            SchemeKind::Zoom,
            [MISSING, UNSUPPORTED, MISMATCH, MISMATCH, UNSUPPORTED],
        ),
        (
            SchemeKind::Generic,
            [MISSING, UNSUPPORTED, MISMATCH, MISMATCH, UNSUPPORTED],
        ),
    ];
    assert_eq!(breaks.len(), srcs.len());
    for (kind, [missing, empty, truncated, duplicated, garbage]) in breaks {
        let s = kind.name();
        t.push(case(
            "baseline",
            format!("{s}: signed"),
            recipe(s),
            Want::Accepted,
        ));
        t.push(case(
            "signature",
            format!("{s}: signature header missing"),
            recipe(s).edit(Edit::Remove(Hdr::Sig)),
            missing,
        ));
        t.push(case(
            "signature",
            format!("{s}: signature header empty"),
            recipe(s).edit(Edit::Set(Hdr::Sig, b"")),
            empty,
        ));
        t.push(case(
            "signature",
            format!("{s}: signature truncated"),
            recipe(s).edit(Edit::Truncate(Hdr::Sig, 4)),
            truncated,
        ));
        t.push(case(
            "signature",
            format!("{s}: signature header sent twice"),
            recipe(s).edit(Edit::Duplicate(Hdr::Sig)),
            duplicated,
        ));
        t.push(case(
            "signature",
            format!("{s}: signature header garbage"),
            recipe(s).edit(Edit::Set(Hdr::Sig, b"not-a-signature")),
            garbage,
        ));
        t.push(case(
            "signature",
            format!("{s}: signed with another secret"),
            recipe(s).key(Key::Wrong),
            MISMATCH,
        ));
        t.push(case(
            "signature",
            format!("{s}: body changed after signing"),
            recipe(s).send_body(br#"{"changed":true}"#.to_vec()),
            MISMATCH,
        ));
        if kind.signs_timestamp() {
            t.push(case(
                "timestamp",
                format!("{s}: signed two hours ago"),
                recipe(s).at(-OUTSIDE_WINDOW),
                TOO_OLD,
            ));
            t.push(case(
                "timestamp",
                format!("{s}: signed two hours ahead"),
                recipe(s).at(OUTSIDE_WINDOW),
                IN_FUTURE,
            ));
        }
    }

    // -- wrong version prefixes: only the scheme's own versions count --
    for (s, from, to) in [
        ("standard-webhooks", "v1,", "v2,"),
        ("stripe", "v1=", "v0="),
        ("github", "sha256=", "sha1="),
        ("slack", "v0=", "v1="),
        ("paddle", "h1=", "h2="),
        ("intercom", "sha1=", "sha256="),
        ("zoom", "v0=", "v1="),
        ("generic", "sha256=", "sha512="),
    ] {
        t.push(case(
            "signature",
            format!("{s}: version prefix {from} changed to {to}"),
            recipe(s).edit(Edit::Replace(Hdr::Sig, from, to)),
            UNSUPPORTED,
        ));
    }

    // -- timestamps in headers of their own: sent twice (joined, they no longer parse), odd --
    for s in [
        "standard-webhooks",
        "slack",
        "zendesk",
        "discord",
        "zoom",
        "generic",
    ] {
        t.push(case(
            "timestamp",
            format!("{s}: timestamp header sent twice"),
            recipe(s).edit(Edit::Duplicate(Hdr::Ts)),
            BAD_TIMESTAMP,
        ));
    }
    t.push(case(
        "timestamp",
        "stripe: negative t=",
        recipe("stripe").edit(Edit::Replace(Hdr::Sig, "t=", "t=-")),
        BAD_TIMESTAMP,
    ));
    t.push(case(
        "timestamp",
        "slack: timestamp -1",
        recipe("slack").edit(Edit::Set(Hdr::Ts, b"-1")),
        BAD_TIMESTAMP,
    ));
    t.push(case(
        "timestamp",
        "slack: timestamp not UTF-8",
        recipe("slack").edit(Edit::Set(Hdr::Ts, b"\xff\xfe1700000000")),
        BAD_TIMESTAMP,
    ));
    // Thirteen digits: more than the twelve a unix time in seconds may have.
    t.push(case(
        "timestamp",
        "standard-webhooks: timestamp in milliseconds",
        recipe("standard-webhooks").edit(Edit::Map(Hdr::Ts, |v| format!("{v}000"))),
        BAD_TIMESTAMP,
    ));
    t.push(case(
        "timestamp",
        "linear: signed body without webhookTimestamp",
        recipe("linear").body(br#"{"action":"create","type":"Issue"}"#.to_vec()),
        NO_TIMESTAMP,
    ));

    // -- signature headers that are too much --
    t.push(case(
        "signature",
        "standard-webhooks: 17 signatures in one header",
        recipe("standard-webhooks").edit(Edit::Map(Hdr::Sig, |v| vec![v; 17].join(" "))),
        MALFORMED,
    ));
    t.push(case(
        "signature",
        "stripe: 17 v1= entries",
        recipe("stripe").edit(Edit::Map(Hdr::Sig, |v| {
            let sig = v.split_once(",v1=").map(|(_, s)| s).unwrap_or_default();
            format!("{v}{}", format!(",v1={sig}").repeat(16))
        })),
        MALFORMED,
    ));
    t.push(case(
        "signature",
        "stripe: 16 KiB signature header",
        recipe("stripe").edit(Edit::Map(Hdr::Sig, |v| format!("{v}{}", "a".repeat(16384)))),
        MISMATCH,
    ));
    t.push(case(
        "signature",
        "discord: 16 KiB signature header",
        recipe("discord").edit(Edit::Map(Hdr::Sig, |v| format!("{v}{}", "0".repeat(16384)))),
        MISMATCH,
    ));
    t.push(case(
        "utf-8",
        "github: signature with bytes that are not UTF-8",
        recipe("github").edit(Edit::AppendRaw(Hdr::Sig, b"\xff\xfe\xc3\x28")),
        MISMATCH,
    ));
    t.push(case(
        "utf-8",
        "shopify: signature of Latin-1 bytes",
        recipe("shopify").edit(Edit::Set(Hdr::Sig, b"\xe9t\xe9\xa0\xff")),
        MISMATCH,
    ));

    // -- content types: JSON is checked only after the signature --
    let not_json = b"{\"id\": \"evt_1\", ".to_vec();
    t.push(case(
        "content-type",
        "JSON claimed, not JSON, signed",
        recipe("stripe").body(not_json.clone()),
        INVALID_JSON,
    ));
    t.push(case(
        "content-type",
        "JSON claimed, not JSON, unsigned",
        recipe("stripe").body(not_json.clone()).key(Key::Unsigned),
        MISSING,
    ));
    t.push(case(
        "content-type",
        "JSON claimed, not JSON, wrong secret",
        recipe("stripe").body(not_json.clone()).key(Key::Wrong),
        MISMATCH,
    ));
    t.push(case(
        "content-type",
        "application/vnd.api+json, not JSON, signed",
        recipe("stripe")
            .body(not_json.clone())
            .content_type(Some("application/vnd.api+json")),
        INVALID_JSON,
    ));
    t.push(case(
        "content-type",
        "APPLICATION/JSON; charset=utf-8, not JSON, signed",
        recipe("stripe")
            .body(not_json.clone())
            .content_type(Some("APPLICATION/JSON; charset=utf-8")),
        INVALID_JSON,
    ));
    t.push(case(
        "content-type",
        "text/plain, not JSON, signed",
        recipe("stripe")
            .body(not_json.clone())
            .content_type(Some("text/plain")),
        Want::Accepted,
    ));
    t.push(case(
        "content-type",
        "no content type, not JSON, signed",
        recipe("stripe").body(not_json.clone()).content_type(None),
        Want::Accepted,
    ));
    t.push(case(
        "content-type",
        "form content type, JSON body, signed",
        recipe("stripe").content_type(Some("application/x-www-form-urlencoded")),
        Want::Accepted,
    ));
    // Joined into `application/json, application/json`, which is no JSON media type: kept as
    // bytes, on both targets.
    t.push(case(
        "content-type",
        "content type sent twice, not JSON, signed",
        recipe("stripe")
            .body(not_json.clone())
            .edit(Edit::Duplicate(Hdr::Named("content-type"))),
        Want::Accepted,
    ));
    t.push(case(
        "content-type",
        "twilio: JSON body without bodySHA256",
        recipe("twilio")
            .body(br#"{"Body":"Hello"}"#.to_vec())
            .content_type(Some("application/json")),
        Want::Refused(401, "body_not_signed"),
    ));

    // -- bodies that are not UTF-8, or JSON only almost --
    t.push(case(
        "utf-8",
        "JSON claimed, body not UTF-8, signed",
        recipe("stripe").body(b"{\"id\":\"\xff\xfe\"}".to_vec()),
        INVALID_JSON,
    ));
    t.push(case(
        "utf-8",
        "JSON claimed, overlong UTF-8, signed",
        recipe("stripe").body(b"{\"id\":\"\xc0\xaf\"}".to_vec()),
        INVALID_JSON,
    ));
    t.push(case(
        "utf-8",
        "octet-stream, body not UTF-8, signed",
        recipe("stripe")
            .body(b"\xff\xfe\x00\x01binary".to_vec())
            .content_type(Some("application/octet-stream")),
        Want::Accepted,
    ));
    t.push(case(
        "utf-8",
        "generic: body not UTF-8, no content type, signed",
        recipe("generic")
            .body(b"\x80\x81\x82".to_vec())
            .content_type(None),
        Want::Accepted,
    ));
    t.push(case(
        "utf-8",
        "User-Agent not UTF-8 on a signed request",
        recipe("stripe").extra(header_line("User-Agent", b"agent/\xff\xfe")),
        Want::Accepted,
    ));
    t.push(case(
        "json",
        "JSON with a lone surrogate escape, signed",
        recipe("stripe").body(br#"{"id":"\ud800"}"#.to_vec()),
        INVALID_JSON,
    ));
    t.push(case(
        "json",
        "JSON with a byte-order mark, signed",
        recipe("stripe").body(b"\xef\xbb\xbf{\"id\":\"evt_1\"}".to_vec()),
        INVALID_JSON,
    ));
    t.push(case(
        "json",
        "JSON with trailing bytes, signed",
        recipe("stripe").body(br#"{"id":"evt_1"} {}"#.to_vec()),
        INVALID_JSON,
    ));
    t.push(case(
        "json",
        "JSON with a number past f64, signed",
        recipe("stripe").body(br#"{"n":1e400}"#.to_vec()),
        INVALID_JSON,
    ));

    // -- nesting: serde_json's limit (127) is the receiver's --
    t.push(case(
        "json",
        "arrays nested 127 deep, signed",
        recipe("stripe").body(nested_arrays(127)),
        Want::Accepted,
    ));
    t.push(case(
        "json",
        "arrays nested 128 deep, signed",
        recipe("stripe").body(nested_arrays(128)),
        INVALID_JSON,
    ));
    t.push(case(
        "json",
        "objects nested 128 deep, signed",
        recipe("stripe")
            .body(format!("{}1{}", r#"{"a":"#.repeat(128), "}".repeat(128)).into_bytes()),
        INVALID_JSON,
    ));
    t.push(case(
        "json",
        "arrays nested 200000 deep, signed",
        recipe("stripe").body(nested_arrays(200_000)),
        INVALID_JSON,
    ));
    t.push(case(
        "json",
        "arrays nested 200000 deep, unsigned",
        recipe("stripe")
            .body(nested_arrays(200_000))
            .key(Key::Unsigned),
        MISSING,
    ));
    t.push(case(
        "json",
        "linear: signed body nested 200000 deep",
        recipe("linear").body(nested_arrays(200_000)),
        NO_TIMESTAMP,
    ));

    // -- empty bodies --
    t.push(case(
        "empty",
        "empty body, JSON claimed, signed",
        recipe("stripe").body(Vec::new()),
        INVALID_JSON,
    ));
    t.push(case(
        "empty",
        "empty body, no content type, signed",
        recipe("stripe").body(Vec::new()).content_type(None),
        Want::Accepted,
    ));
    t.push(case(
        "empty",
        "empty body, unsigned",
        recipe("stripe").body(Vec::new()).key(Key::Unsigned),
        MISSING,
    ));
    t.push(case(
        "empty",
        "no body and no Content-Length, unsigned",
        recipe("stripe")
            .body(Vec::new())
            .key(Key::Unsigned)
            .framing(Framing::Bare),
        MISSING,
    ));
    t.push(case(
        "empty",
        "empty chunked body, no content type, signed",
        recipe("stripe")
            .body(Vec::new())
            .content_type(None)
            .framing(Framing::Chunked),
        Want::Accepted,
    ));
    t.push(case(
        "empty",
        "twilio: empty form, signed",
        recipe("twilio").body(Vec::new()),
        Want::Accepted,
    ));
    t.push(case(
        "empty",
        "linear: empty body, signed",
        recipe("linear").body(Vec::new()),
        NO_TIMESTAMP,
    ));
    t.push(case(
        "empty",
        "discord: empty body, JSON claimed, signed",
        recipe("discord").body(Vec::new()),
        INVALID_JSON,
    ));

    // -- body limits: `small` takes 4096 bytes --
    // Signed as the Standard Webhooks source (same secret), sent to `small`.
    let small = || recipe("standard-webhooks");
    let at_limit = json_of_size(SMALL_LIMIT);
    let past_limit = json_of_size(SMALL_LIMIT + 1);
    t.push(
        case(
            "size",
            "at the limit, Content-Length, signed",
            small().body(at_limit.clone()),
            Want::Accepted,
        )
        .path("/hooks/small"),
    );
    t.push(
        case(
            "size",
            "at the limit, chunked, signed",
            small().body(at_limit.clone()).framing(Framing::Chunked),
            Want::Accepted,
        )
        .path("/hooks/small"),
    );
    t.push(
        case(
            "size",
            "one byte past the limit, Content-Length, signed",
            small().body(past_limit.clone()),
            TOO_LARGE,
        )
        .path("/hooks/small"),
    );
    t.push(
        case(
            "size",
            "one byte past the limit, chunked, signed",
            small().body(past_limit.clone()).framing(Framing::Chunked),
            TOO_LARGE,
        )
        .path("/hooks/small"),
    );
    t.push(
        case(
            "size",
            "one byte past the limit, unsigned (size before signature)",
            small().body(past_limit.clone()).key(Key::Unsigned),
            TOO_LARGE,
        )
        .path("/hooks/small"),
    );
    t.push(
        case(
            "size",
            "64 KiB chunked into a 4 KiB limit",
            small()
                .body(vec![b'x'; 64 * 1024])
                .framing(Framing::Chunked),
            TOO_LARGE,
        )
        .path("/hooks/small"),
    );
    t.push(
        case(
            "size",
            "Content-Length of a terabyte, nothing sent",
            small().body(Vec::new()).framing(Framing::Declared(1 << 40)),
            TOO_LARGE,
        )
        .path("/hooks/small"),
    );
    t.push(case(
        "size",
        "one byte past the default 1 MiB, signed",
        recipe("stripe").body(json_of_size(DEFAULT_LIMIT + 1)),
        TOO_LARGE,
    ));
    // At the default limit the envelope is over a queue message, and without an R2 bucket
    // (HOOKLINE_BODIES_BUCKET unset; `hookline dev` has none) the answer is 413, never a
    // truncated body.
    t.push(case(
        "size",
        "at the default 1 MiB, signed, no claim-check bucket",
        recipe("stripe").body(json_of_size(DEFAULT_LIMIT)),
        TOO_LARGE,
    ));

    // -- framing --
    t.push(case(
        "framing",
        "Content-Length 100, 2 bytes, then end of stream",
        recipe("stripe")
            .body(b"{}".to_vec())
            .framing(Framing::Declared(100)),
        UNREADABLE,
    ));
    t.push(case(
        "framing",
        "malformed chunk size",
        recipe("stripe")
            .extra("Transfer-Encoding: chunked")
            .framing(Framing::Bare)
            .send_body(b"zz\r\nabc\r\n0\r\n\r\n".to_vec()),
        UNREADABLE,
    ));
    // Transfer-Encoding wins: the body is the empty chunked one, not what was signed.
    t.push(case(
        "framing",
        "Content-Length and Transfer-Encoding together",
        recipe("stripe")
            .extra("Transfer-Encoding: chunked")
            .extra("Content-Length: 5")
            .framing(Framing::Bare)
            .send_body(b"0\r\n\r\n".to_vec()),
        MISMATCH,
    ));
    t.push(
        case(
            "framing",
            "Content-Length not a number",
            recipe("stripe")
                .extra("Content-Length: abc")
                .framing(Framing::Bare)
                .send_body(Vec::new()),
            Want::Http(400),
        )
        .worker(
            Want::RuntimeFault(500),
            "workerd's kj-http: `invalid Content-Length header value` is an uncaught exception",
        ),
    );

    // -- header tricks --
    t.push(case(
        "header",
        "16 KiB header value on a signed request",
        recipe("stripe").extra(header_line("X-Pad", &[b'a'; 16 * 1024])),
        Want::Accepted,
    ));
    t.push(case(
        "header",
        "100 KiB header value on a signed request",
        recipe("stripe").extra(header_line("X-Pad", &[b'a'; 100 * 1024])),
        Want::Accepted,
    ));
    t.push(
        case(
            "header",
            "256 KiB header value on a signed request",
            recipe("stripe").extra(header_line("X-Pad", &[b'a'; 256 * 1024])),
            Want::Accepted,
        )
        .worker(
            Want::Http(431),
            "workerd takes at most 128 KiB of request head; hyper about 400 KiB",
        ),
    );
    t.push(case(
        "header",
        "1 MiB header value",
        recipe("stripe").extra(header_line("X-Pad", &vec![b'a'; 1 << 20])),
        Want::Http(431),
    ));
    t.push(
        case(
            "header",
            "200 headers on a signed request",
            (0..200).fold(recipe("stripe"), |r, i| r.extra(format!("X-H{i}: v"))),
            Want::Http(431),
        )
        .worker(
            Want::Accepted,
            "hyper takes at most 100 headers; workerd has no count limit",
        ),
    );
    t.push(case(
        "header",
        "NUL in a header value",
        recipe("stripe").extra(header_line("X-C", b"a\x00b")),
        Want::Http(400),
    ));
    t.push(
        case(
            "header",
            "control character in a header value",
            recipe("stripe").extra(header_line("X-C", b"a\x01b")),
            Want::Http(400),
        )
        .worker(
            Want::Accepted,
            "hyper refuses control characters in values; workerd passes them on",
        ),
    );
    t.push(
        case(
            "header",
            "obsolete line folding",
            recipe("stripe").extra("X-F: a\r\n b"),
            Want::Http(400),
        )
        .worker(Want::Accepted, "hyper refuses obs-fold; workerd unfolds it"),
    );
    t.push(case(
        "header",
        "space in a header name",
        recipe("stripe").extra("X Bad: 1"),
        Want::Http(400),
    ));
    t.push(case(
        "header",
        "header line without a colon",
        recipe("stripe").extra("X-No-Colon"),
        Want::Http(400),
    ));

    // -- path tricks: the Worker reads a WHATWG-parsed URL (dot segments resolved, `\` as `/`,
    //    no percent-decoding); `hookline dev` reads paths the same way (cli/src/dev.rs
    //    `worker_target`) --
    for (path, want) in [
        ("/hooks/../hooks/stripe", Want::Accepted),
        ("/hooks/%2e%2e/hooks/stripe", Want::Accepted),
        ("/hooks/x/../stripe", Want::Accepted),
        ("/hooks\\stripe", Want::Accepted),
        ("/hooks/stripe/..", NOT_FOUND),
        ("/hooks/stripe/.", NOT_FOUND),
        ("/hooks/stripe/%2e%2e", NOT_FOUND),
        ("/hooks/..%2fstripe", UNKNOWN_SOURCE),
        ("/hooks/%73tripe", UNKNOWN_SOURCE),
        ("/hooks/stripe%00", UNKNOWN_SOURCE),
        ("/hooks/STRIPE", UNKNOWN_SOURCE),
        ("/HOOKS/stripe", NOT_FOUND),
        ("/hooks/stripe/extra", Want::Accepted),
        ("/hooks/stripe/a/b", NOT_FOUND),
        ("/hooks/stripe/", NOT_FOUND),
        ("/hooks//stripe", NOT_FOUND),
        ("//hooks/stripe", NOT_FOUND),
        ("/hooks/", NOT_FOUND),
        ("/hooks/str%C3%AFpe", UNKNOWN_SOURCE),
        ("/hooks/stripe/bill%20ing", NOT_FOUND),
        ("/hooks/stripe?x=1&y=%00", Want::Accepted),
        ("/hooks/stripe#fragment", Want::Accepted),
        ("/hooks/nope", UNKNOWN_SOURCE),
        ("/nope", NOT_FOUND),
        ("/healthz/", NOT_FOUND),
    ] {
        t.push(case("path", format!("path {path}"), recipe("stripe"), want).path(path));
    }
    t.push(
        case(
            "path",
            "path with raw UTF-8 bytes",
            recipe("stripe"),
            UNKNOWN_SOURCE,
        )
        .path(b"/hooks/str\xc3\xafpe".to_vec()),
    );
    t.push(
        case(
            "path",
            "path with a raw NUL",
            recipe("stripe"),
            Want::Http(400),
        )
        .path(b"/hooks/stripe\x00".to_vec()),
    );
    t.push(
        case(
            "path",
            "source name of 300 characters",
            recipe("stripe"),
            UNKNOWN_SOURCE,
        )
        .path(format!("/hooks/{}", "a".repeat(300))),
    );
    t.push(
        case(
            "path",
            "handler of 63 characters",
            recipe("stripe"),
            Want::Accepted,
        )
        .path(format!("/hooks/stripe/{}", "h".repeat(63))),
    );
    t.push(
        case(
            "path",
            "handler of 64 characters",
            recipe("stripe"),
            NOT_FOUND,
        )
        .path(format!("/hooks/stripe/{}", "h".repeat(64))),
    );
    t.push(
        case("path", "path of 100 KB", recipe("stripe"), Want::Http(414))
            .path(format!("/hooks/{}", "a".repeat(100_000)))
            .worker(
                UNKNOWN_SOURCE,
                "hyper refuses request-targets over 64 KiB; workerd passes them on",
            ),
    );
    t.push(
        case(
            "path",
            "absolute-form request-target",
            recipe("stripe"),
            Want::Accepted,
        )
        .path("http://evil.example/hooks/stripe")
        .worker(
            Want::RuntimeFault(500),
            "workerd's server: `invalid URL` is an uncaught exception before the Worker runs",
        ),
    );

    // -- methods: 405 on the hook routes (with `Allow: POST`), whatever the method --
    for m in [
        "GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND",
    ] {
        let r = if matches!(m, "GET" | "HEAD") {
            recipe("stripe").body(Vec::new())
        } else {
            recipe("stripe")
        };
        t.push(case("method", format!("{m} /hooks/stripe"), r, NOT_ALLOWED).method(m));
    }
    for m in ["FROB", "post"] {
        t.push(
            case(
                "method",
                format!("{m} /hooks/stripe"),
                recipe("stripe"),
                NOT_ALLOWED,
            )
            .method(m)
            .worker(
                Want::RuntimeFault(501),
                "workerd's kj-http knows a fixed list of methods and answers 501 to others",
            ),
        );
    }
    t.push(
        case(
            "method",
            "CONNECT /hooks/stripe",
            recipe("stripe"),
            NOT_ALLOWED,
        )
        .method("CONNECT")
        .worker(
            Want::Http(400),
            "workerd refuses CONNECT; hyper hands it to hookline",
        ),
    );
    t.push(
        case(
            "method",
            "GET /hooks/nope (method before source)",
            recipe("stripe").body(Vec::new()),
            NOT_ALLOWED,
        )
        .method("GET")
        .path("/hooks/nope"),
    );
    t.push(
        case(
            "method",
            "PUT /hooks/small, over the limit (method before size)",
            small().body(past_limit.clone()),
            NOT_ALLOWED,
        )
        .method("PUT")
        .path("/hooks/small"),
    );
    t.push(
        case(
            "order",
            "unknown source, over every limit (source before size)",
            small().body(past_limit.clone()),
            UNKNOWN_SOURCE,
        )
        .path("/hooks/nope"),
    );
    t.push(
        case(
            "order",
            "GET /nope (route before method)",
            recipe("stripe").body(Vec::new()),
            NOT_FOUND,
        )
        .method("GET")
        .path("/nope"),
    );
    t.push(case("method", "POST /healthz", recipe("stripe"), NOT_ALLOWED).path("/healthz"));
    t.push(
        case(
            "method",
            "DELETE /healthz",
            recipe("stripe").body(Vec::new()),
            NOT_ALLOWED,
        )
        .method("DELETE")
        .path("/healthz"),
    );
    t.push(
        case(
            "method",
            "GET /healthz",
            recipe("stripe").body(Vec::new()).key(Key::Unsigned),
            Want::Healthy,
        )
        .method("GET")
        .path("/healthz"),
    );
    t.push(
        case(
            "method",
            "HEAD /healthz",
            recipe("stripe").body(Vec::new()).key(Key::Unsigned),
            Want::Healthy,
        )
        .method("HEAD")
        .path("/healthz"),
    );
    t
}

// ---- the run --------------------------------------------------------------------------------------

struct Run {
    target: Target,
    port: u16,
    failures: Vec<String>,
    findings: Vec<String>,
    counts: BTreeMap<&'static str, usize>,
    /// Time spent on this target (requests and liveness checks).
    spent: Duration,
}

impl Run {
    fn new(target: Target, port: u16) -> Run {
        Run {
            target,
            port,
            failures: Vec::new(),
            findings: Vec::new(),
            counts: BTreeMap::new(),
            spent: Duration::ZERO,
        }
    }

    fn one(&mut self, case: &Case, signing: &Signing) {
        let want = case.want(self.target);
        let wire = signing.wire(case, self.port);
        let answer = exchange(self.port, case.method, wire);
        *self.counts.entry(case.category).or_default() += 1;
        let result = answer.and_then(|a| {
            if let Want::RuntimeFault(s) = want {
                assert_eq!(
                    self.target,
                    Target::Worker,
                    "{}: faults are workerd's",
                    case.name
                );
                if a.status == s {
                    self.findings.push(format!(
                        "{}: workerd answered {s} before the Worker ran ({})",
                        case.name, case.why
                    ));
                }
            }
            check(case, want, &a)
        });
        if let Err(e) = result {
            self.failures
                .push(format!("{:?} / {}: {e}", self.target, case.name));
        }
    }
}

#[test]
fn malformed_requests_get_the_right_answer_on_both_targets_and_leak_nothing() {
    let started = Instant::now();
    let srcs = sources();
    let cases = table(&srcs);

    // The table is what it claims: unique names, enough rows, every scheme broken five ways,
    // and every difference between the targets explained.
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names must be unique");
    assert!(
        cases.len() >= MIN_CASES,
        "the table shrank to {} cases (at least {MIN_CASES})",
        cases.len()
    );
    for kind in SchemeKind::ALL {
        let broken = cases
            .iter()
            .filter(|c| c.name.starts_with(&format!("{}: signature", kind.name())))
            .count();
        assert!(broken >= 5, "{kind}: {broken} broken signature headers");
    }
    for c in &cases {
        assert_eq!(
            c.dev != c.worker,
            !c.why.is_empty(),
            "{}: a difference between the targets needs its reason, and only a difference",
            c.name
        );
        assert!(
            !matches!(c.dev, Want::RuntimeFault(_)),
            "{}: hookline dev may not answer 5xx",
            c.name
        );
    }

    // One Worker and one `hookline dev` for the whole table.
    let worker_config = config(&srcs, |name, _| format!("env:{}", secret_var(name)));
    let mut vars = json!({ "HOOKLINE_CONFIG": worker_config });
    for s in &srcs {
        vars[secret_var(s.name())] = json!(s.secret);
    }
    vars[secret_var("small")] = json!(srcs[0].secret);
    let worker = Workerd::start(ReceiverBuild::Release, vars, false, 0);
    let worker_port: u16 = worker
        .url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dev_config = toml_config(&config(&srcs, |_, secret| format!("literal:{secret}")));
    let mut dev = Dev::start(dir.path(), &dev_config, free_port());
    let started_up = started.elapsed();

    let signing = Signing {
        srcs,
        made: RefCell::new(Vec::new()),
    };
    let mut runs = [
        Run::new(Target::Dev, dev.port),
        Run::new(Target::Worker, worker_port),
    ];
    for case in &cases {
        for run in &mut runs {
            let began = Instant::now();
            run.one(case, &signing);
            // Still up and answering after every case.
            let alive = match run.target {
                Target::Dev => {
                    if dev.is_running() {
                        healthy(run.port)
                    } else {
                        Err("the process exited".to_owned())
                    }
                }
                Target::Worker => healthy(run.port),
            };
            if let Err(e) = alive {
                let log = match run.target {
                    Target::Dev => dev.output().join("\n"),
                    Target::Worker => worker.log_tail(),
                };
                panic!("{:?} is down after `{}`: {e}\n{log}", run.target, case.name);
            }
            run.spent += began.elapsed();
        }
    }

    let mut failures = Vec::new();
    for run in &runs {
        let ran: usize = run.counts.values().sum();
        assert_eq!(ran, cases.len(), "{:?}: every case runs", run.target);
        eprintln!(
            "bad inputs: {:?}: {ran} distinct cases ({}), {} wrong, in {:.1?}",
            run.target,
            run.counts
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", "),
            run.failures.len(),
            run.spent,
        );
        for f in &run.findings {
            eprintln!("FINDING (outside hookline): {f}");
        }
        failures.extend(run.failures.iter().cloned());
    }
    assert!(
        failures.is_empty(),
        "{} of {} answers were wrong:\n{}\n\nworkerd:\n{}",
        failures.len(),
        2 * cases.len(),
        failures.join("\n"),
        worker.log_tail()
    );

    // Item 5: nothing either printed holds a configured secret or a signature the suite made.
    let mut needles = Needles::new();
    for s in &signing.srcs {
        needles = needles
            .secret(&s.secret)
            .secret(&s.signing_key)
            .secret(&s.wrong_key);
    }
    let made = signing.made.borrow();
    assert!(
        made.len() >= SchemeKind::ALL.len(),
        "{} signatures made",
        made.len()
    );
    for sig in made.iter() {
        needles = needles.signature(sig);
        // Each MAC on its own, `=` padding included (a base64 value's `=` is not a separator).
        for part in sig.split([' ', ',', ';']) {
            let bare = match part.split_once('=') {
                Some((k, v))
                    if !v.is_empty()
                        && k.len() <= 6
                        && k.bytes().all(|b| b.is_ascii_alphanumeric()) =>
                {
                    v
                }
                _ => part,
            };
            if bare.len() >= 16 && !bare.bytes().all(|b| b.is_ascii_digit()) {
                needles = needles.value("signature value", bare);
            }
        }
    }
    let dev_lines = dev.output();
    let scanned = needles.assert_clean("hookline dev", &dev_lines);
    let worker_log = worker.log_tail();
    // The harness keeps only the last 32 KiB of workerd's output: the scan covers all of it only
    // if less than that was printed (the kept text never shrinks below it once cut).
    assert!(
        worker_log.len() < WORKERD_LOG_KEPT - 256,
        "workerd printed {} bytes, more than the harness keeps: the scan would miss some",
        worker_log.len()
    );
    let worker_lines: Vec<&str> = worker_log.lines().collect();
    let scanned_worker = needles.assert_clean("workerd", &worker_lines);
    eprintln!(
        "bad inputs: leak scan: {} needles over {scanned} lines of hookline dev and {scanned_worker} of workerd; {} cases per target, {:.1?} in all ({:.1?} to start both)",
        needles.len(),
        cases.len(),
        started.elapsed(),
        started_up
    );
}
