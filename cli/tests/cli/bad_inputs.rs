//! The bad-input table (issue 7, items 2 and 5): malformed requests against the receiver Worker
//! in workerd and against `hookline dev`, each with the status and error code it must get. None
//! may crash either process or get a 5xx other than `503`; after the table, every line both
//! printed is scanned for the configured secrets and for every signature the suite made.
//!
//! The table is data: `bad_inputs.toml` beside this file (its header says how a case reads).
//! This runner loads it, checks that it is what it claims, sends every case to both targets and
//! reports every wrong answer by case name. Where the targets legitimately differ, the case says
//! so and why: almost always the HTTP layer in front of hookline (hyper in `hookline dev`,
//! workerd's kj-http in front of the Worker) refusing a request before hookline sees it, each
//! with its own limits. Requests go over raw TCP, so anything can be sent: duplicated headers,
//! bytes that are not UTF-8, control characters, unnormalised paths, lying lengths, odd methods.
//!
//! Cases of category `api` are the management API's (`/api/v1`), which `hookline dev` serves and
//! the receiver Worker does not (it answers them `404 not_found`); they also run against
//! `hookline dev` alone, so they are checked where workerd is not built.
//!
//! Signatures are made at send time with the core's own [`Signer`], keyed with the secrets of
//! `tests/vectors/*.json`, then broken; replay windows are real (the release build of the
//! Worker, and `hookline dev`, use the wall clock), so Paddle's 5 s window is honoured.

// The per-target counts and the findings are reported on stderr (`-- --nocapture` shows them).
#![allow(clippy::print_stderr)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hookline_core::headers::Headers;
use hookline_core::secret::Secret;
use hookline_core::time::Timestamp;
use hookline_core::verify::{Request, Scheme, SchemeKind, Signer};
use hookline_tests::harness::{ReceiverBuild, Workerd, free_port};
use hookline_tests::leaks::Needles;
use hookline_tests::raw_http::{Answer, Wire, chunked, exchange};
use hookline_tests::{load_vectors, scheme_for};
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{Dev, now};

/// The table, beside this file.
const TABLE: &str = include_str!("bad_inputs.toml");
/// The number of cases in the table: it must not shrink (or grow) silently.
const CASES: usize = 289;
/// The `max_body_bytes` of the `small` source.
const SMALL_LIMIT: usize = 4096;
/// The URL Twilio is configured to sign (the source's `public_url`), the same on both targets.
const TWILIO_URL: &str = "https://hooks.example.com/hooks/twilio";
/// How much of its output the harness keeps for workerd (`process::LOG_TAIL` in the harness).
const WORKERD_LOG_KEPT: usize = hookline_tests::harness::process::LOG_TAIL;
/// How long one exchange may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(15);
/// The management API token `hookline dev` is configured with (`[api]`); `bearer = true` sends it.
const API_TOKEN: &str = "bad-inputs-api-token-5d1c";
/// The category of the management API's cases.
const API: &str = "api";
/// What the Worker answers an `api` case (unless the case says otherwise), and why.
const API_ON_THE_WORKER: (&str, &str) = (
    "404 not_found",
    "the management API is served by hookline dev and the API Lambda, not the receiver Worker",
);

// ---- the two targets ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Dev,
    Worker,
}

/// What a request must get (the table's `want` and `worker`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
enum Want {
    /// `accepted`: 200 `{"ok":true,"id":"..."}`, verified and enqueued.
    Accepted,
    /// `healthy`: 200 `{"ok":true}` from `/healthz` (no body for `HEAD`).
    Healthy,
    /// `<status> <code>`: hookline's refusal, this status and exactly `{"error":"<code>"}`,
    /// `no-store`.
    Refused(u16, String),
    /// `http <status>`: refused by the HTTP layer in front of hookline (hyper, or workerd's
    /// kj-http) before hookline saw the request; the server's own body.
    Http(u16),
    /// `runtime-fault <status>`: workerd's own HTTP server answers this 5xx before the Worker
    /// runs (no hookline code is involved; Cloudflare's edge, not kj-http, faces the internet in
    /// production). Allowed for the Worker only, printed as a finding on every run so a change
    /// shows.
    RuntimeFault(u16),
    /// `api <status> <code>`: the management API's refusal in Svix's shape, this status and
    /// `{"code":"<code>","detail":"..."}`; `api 422 <loc>`: Svix's validation shape,
    /// `{"detail":[{"loc":[...],...}]}` with an entry whose `loc`, joined with `.`, is `<loc>`.
    /// `no-store` either way.
    Api(u16, String),
}

impl TryFrom<String> for Want {
    type Error = String;

    fn try_from(text: String) -> Result<Want, String> {
        let status = |s: &str| {
            s.parse::<u16>()
                .map_err(|_| format!("{text:?}: {s:?} is not a status"))
        };
        match text.split_once(' ') {
            None if text == "accepted" => Ok(Want::Accepted),
            None if text == "healthy" => Ok(Want::Healthy),
            Some(("http", s)) => Ok(Want::Http(status(s)?)),
            Some(("runtime-fault", s)) => Ok(Want::RuntimeFault(status(s)?)),
            Some(("api", rest)) => match rest.split_once(' ') {
                Some((s, what)) if !what.is_empty() && !what.contains(' ') => {
                    Ok(Want::Api(status(s)?, what.to_owned()))
                }
                _ => Err(format!(
                    "{text:?}: expected \"api <status> <code>\" or \"api 422 <loc>\""
                )),
            },
            Some((s, code)) if !code.is_empty() && !code.contains(' ') => {
                Ok(Want::Refused(status(s)?, code.to_owned()))
            }
            _ => Err(format!(
                "{text:?}: expected accepted, healthy, \"<status> <code>\", \"http <status>\", \
                 \"runtime-fault <status>\" or \"api <status> <code or loc>\""
            )),
        }
    }
}

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
        let sig_header = match scheme.generic_params() {
            Some(g) => g.header.clone(),
            None => kind.signature_headers()[0].to_owned(),
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

/// `hookline dev`'s configuration: [`config`]'s sources, and [`API_TOKEN`] for the management API.
fn dev_config(srcs: &[Src]) -> String {
    let sources = toml_config(&config(srcs, |_, secret| format!("literal:{secret}")));
    format!("{sources}[api]\ntokens = [{{ secret = \"literal:{API_TOKEN}\" }}]\n")
}

// ---- the table ----------------------------------------------------------------------------------

/// `bad_inputs.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    case: Vec<Row>,
}

/// One case as written in the table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    name: String,
    category: String,
    method: Option<String>,
    path: Option<Bytes>,
    source: String,
    #[serde(default)]
    key: Key,
    #[serde(default)]
    at: i64,
    body: Option<Bytes>,
    content_type: Option<String>,
    #[serde(default)]
    no_content_type: bool,
    #[serde(default)]
    edits: Vec<Edit>,
    #[serde(default)]
    extra: Vec<Bytes>,
    #[serde(default)]
    framing: Framing,
    send_body: Option<Bytes>,
    #[serde(default)]
    bearer: bool,
    want: Want,
    worker: Option<Want>,
    #[serde(default)]
    why: String,
}

/// Bytes in the table: text with `\xNN` escapes, a generator, or a list of them concatenated.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum Bytes {
    Text(String),
    Made(Made),
    Parts(Vec<Bytes>),
}

/// The generators, for bytes too long or too regular to write out.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Made {
    /// The text, this many times.
    Repeat(String, usize),
    /// A JSON document of exactly this many bytes.
    JsonOfSize(usize),
    /// `[[[...]]]`, this deep.
    NestedArrays(usize),
    /// `{"a":{"a":...1...}}`, this deep.
    NestedObjects(usize),
    /// `X-H0: v`, `X-H1: v`, ...: this many header lines.
    NumberedHeaders(usize),
}

impl Bytes {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Bytes::Text(text) => unescape(text),
            Bytes::Made(Made::Repeat(text, n)) => unescape(text).repeat(*n),
            Bytes::Made(Made::JsonOfSize(n)) => {
                let (head, tail) = (r#"{"type":"pad.test","pad":""#, r#""}"#);
                let pad = n - head.len() - tail.len();
                format!("{head}{}{tail}", "x".repeat(pad)).into_bytes()
            }
            Bytes::Made(Made::NestedArrays(depth)) => {
                format!("{}{}", "[".repeat(*depth), "]".repeat(*depth)).into_bytes()
            }
            Bytes::Made(Made::NestedObjects(depth)) => {
                format!("{}1{}", r#"{"a":"#.repeat(*depth), "}".repeat(*depth)).into_bytes()
            }
            Bytes::Made(Made::NumberedHeaders(n)) => (0..*n)
                .map(|i| format!("X-H{i}: v"))
                .collect::<Vec<_>>()
                .join("\r\n")
                .into_bytes(),
            Bytes::Parts(parts) => parts.iter().flat_map(Bytes::bytes).collect(),
        }
    }
}

/// `\xNN` is the byte NN; everything else is as written (TOML literal strings keep backslashes).
fn unescape(text: &str) -> Vec<u8> {
    let raw = text.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let byte = raw
            .get(i..i + 4)
            .filter(|e| e.starts_with(b"\\x"))
            .and_then(|e| std::str::from_utf8(&e[2..]).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match byte {
            Some(b) => {
                out.push(b);
                i += 4;
            }
            None => {
                out.push(raw[i]);
                i += 1;
            }
        }
    }
    out
}

/// Which key signs a request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Key {
    /// The configured one.
    #[default]
    Right,
    /// Another key of the same kind.
    Wrong,
    /// No signature at all.
    Unsigned,
}

/// Which header an [`Edit`] changes.
#[derive(Clone, Debug, Deserialize)]
#[serde(from = "String")]
enum Hdr {
    /// `<signature>`: the scheme's signature header.
    Sig,
    /// `<timestamp>`: the scheme's timestamp header.
    Ts,
    Named(String),
}

impl From<String> for Hdr {
    fn from(name: String) -> Hdr {
        match name.as_str() {
            "<signature>" => Hdr::Sig,
            "<timestamp>" => Hdr::Ts,
            _ => Hdr::Named(name),
        }
    }
}

/// A change made to the signed headers before sending.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Edit {
    Remove(Hdr),
    /// Sent twice with the same value (as a proxy that duplicates headers would).
    Duplicate(Hdr),
    /// The value's last `n` characters dropped.
    Truncate(Hdr, usize),
    Set(Hdr, Bytes),
    /// The first `from` in the value replaced by `to`.
    Replace(Hdr, String, String),
    /// Bytes appended to the value (they need not be UTF-8).
    Append(Hdr, Bytes),
    /// The value `n` times, joined by the separator.
    Repeat(Hdr, usize, String),
    /// Stripe's `,v1=<sig>` entry appended `n` more times.
    StripeMoreV1(Hdr, usize),
}

/// How the body travels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Framing {
    /// `Content-Length` of the body.
    #[default]
    Length,
    /// `Transfer-Encoding: chunked`, 1 KiB chunks, no `Content-Length`.
    Chunked,
    /// Neither (the body, if any, is written raw after the head).
    Bare,
    /// `Content-Length: n` whatever the body, and the write side closed after the body.
    Declared(u64),
}

/// One case, its bytes made.
struct Case {
    name: String,
    category: String,
    method: String,
    /// The request-target, as raw bytes.
    path: Vec<u8>,
    /// The source whose scheme and key sign the request.
    source: String,
    key: Key,
    /// `None`: the scheme's ordinary event, made at the signing time.
    body: Option<Vec<u8>>,
    /// `None`: the scheme's usual content type; `Some(None)`: no `Content-Type`.
    content_type: Option<Option<String>>,
    /// Signing time, seconds from now.
    at: i64,
    edits: Vec<Edit>,
    /// Raw header lines added as they are.
    extra: Vec<Vec<u8>>,
    framing: Framing,
    /// Sent instead of the body that was signed.
    send_body: Option<Vec<u8>>,
    /// `Authorization: Bearer` with [`API_TOKEN`].
    bearer: bool,
    dev: Want,
    worker: Want,
    /// Why the two targets answer differently (empty when they agree).
    why: String,
}

impl Case {
    fn want(&self, t: Target) -> &Want {
        match t {
            Target::Dev => &self.dev,
            Target::Worker => &self.worker,
        }
    }
}

/// Every case of `bad_inputs.toml`; panics naming the first case that does not read.
fn table() -> Vec<Case> {
    let table: Table = toml::from_str(TABLE).unwrap_or_else(|e| panic!("bad_inputs.toml: {e}"));
    table
        .case
        .into_iter()
        .map(|row| {
            let content_type = match (row.no_content_type, row.content_type) {
                (false, None) => None,
                (false, Some(ct)) => Some(Some(ct)),
                (true, None) => Some(None),
                (true, Some(_)) => panic!("{}: content_type and no_content_type", row.name),
            };
            // The API's cases answer alike on the Worker, said once here.
            let (worker, why) = match row.worker {
                None if row.category == API => (
                    API_ON_THE_WORKER.0.to_owned().try_into().unwrap(),
                    API_ON_THE_WORKER.1.to_owned(),
                ),
                worker => (worker.unwrap_or_else(|| row.want.clone()), row.why),
            };
            Case {
                method: row.method.unwrap_or_else(|| "POST".to_owned()),
                path: row.path.map_or_else(
                    || format!("/hooks/{}", row.source).into_bytes(),
                    |p| p.bytes(),
                ),
                key: row.key,
                body: row.body.map(|b| b.bytes()),
                content_type,
                at: row.at,
                edits: row.edits,
                extra: row.extra.iter().map(Bytes::bytes).collect(),
                framing: row.framing,
                send_body: row.send_body.map(|b| b.bytes()),
                bearer: row.bearer,
                worker,
                dev: row.want,
                why,
                name: row.name,
                category: row.category,
                source: row.source,
            }
        })
        .collect()
}

// ---- requests -----------------------------------------------------------------------------------

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
        let src = self.src(&case.source);
        let at = Timestamp::from_unix_secs(now().unix_secs().saturating_add(case.at));
        let (event, usual_ct) = Self::event(src.kind, at);
        let body = case.body.clone().unwrap_or(event);
        let ct = case
            .content_type
            .clone()
            .unwrap_or(Some(usual_ct.to_owned()));
        let mut base = Headers::new();
        if let Some(ct) = ct {
            base.push("Content-Type", ct);
        }
        let mut headers: Vec<(String, Vec<u8>)> = base
            .iter()
            .map(|(n, v)| (n.to_owned(), v.as_bytes().to_vec()))
            .collect();
        if case.key != Key::Unsigned {
            let key = if case.key == Key::Right {
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
                format!("http://127.0.0.1:{port}/hooks/{}", case.source)
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
        for e in &case.edits {
            apply(&mut headers, src, e, &case.name);
        }
        if case.bearer {
            headers.push((
                "Authorization".to_owned(),
                format!("Bearer {API_TOKEN}").into_bytes(),
            ));
        }
        let body = case.send_body.clone().unwrap_or(body);

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
        for line in &case.extra {
            head.extend_from_slice(line);
            head.extend_from_slice(b"\r\n");
        }
        let (body, half_close) = match case.framing {
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
                (chunked(&body, 1024), false)
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
            Hdr::Named(n) => n.clone(),
        }
    };
    let find = |headers: &Vec<(String, Vec<u8>)>, h: &Hdr| {
        let n = name(h);
        headers
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(&n))
            .unwrap_or_else(|| panic!("{case}: no header {n} to edit"))
    };
    let text = |v: &[u8]| String::from_utf8(v.to_vec()).unwrap();
    match edit {
        Edit::Remove(h) => {
            let i = find(headers, h);
            headers.remove(i);
        }
        Edit::Duplicate(h) => {
            let i = find(headers, h);
            let copy = headers[i].clone();
            headers.insert(i + 1, copy);
        }
        Edit::Truncate(h, k) => {
            let i = find(headers, h);
            let v = &mut headers[i].1;
            assert!(v.len() > *k, "{case}: nothing left to truncate");
            v.truncate(v.len() - k);
        }
        Edit::Set(h, value) => {
            let n = name(h);
            match headers.iter().position(|(k, _)| k.eq_ignore_ascii_case(&n)) {
                Some(i) => headers[i].1 = value.bytes(),
                None => headers.push((n, value.bytes())),
            }
        }
        Edit::Replace(h, from, to) => {
            let i = find(headers, h);
            let v = text(&headers[i].1);
            assert!(v.contains(from.as_str()), "{case}: {v} has no {from}");
            headers[i].1 = v.replacen(from.as_str(), to, 1).into_bytes();
        }
        Edit::Append(h, bytes) => {
            let i = find(headers, h);
            headers[i].1.extend_from_slice(&bytes.bytes());
        }
        Edit::Repeat(h, n, separator) => {
            let i = find(headers, h);
            let v = text(&headers[i].1);
            headers[i].1 = vec![v; *n].join(separator).into_bytes();
        }
        Edit::StripeMoreV1(h, n) => {
            let i = find(headers, h);
            let v = text(&headers[i].1);
            let (_, sig) = v
                .split_once(",v1=")
                .unwrap_or_else(|| panic!("{case}: {v} has no v1= entry"));
            let more = format!(",v1={sig}").repeat(*n);
            headers[i].1 = format!("{v}{more}").into_bytes();
        }
    }
}

// ---- exchanges ----------------------------------------------------------------------------------

fn send(port: u16, method: &str, wire: Wire) -> Result<Answer, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    exchange(addr, wire, method == "HEAD", EXCHANGE_TIMEOUT)
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
    let a = send(port, "GET", wire)?;
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
fn check(case: &Case, want: &Want, answer: &Answer) -> Result<(), String> {
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
        &Want::Refused(status, ref code) => {
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
        &Want::Api(status, ref what) => {
            let want = || format!("want {status} in the API's shape ({what})");
            let Some(j) = json.as_ref().filter(|_| answer.status == status) else {
                return Err(format!("{}, {}", want(), got()));
            };
            let shaped = if status == 422 {
                j["detail"].as_array().is_some_and(|errors| {
                    errors.iter().any(|e| {
                        e["loc"].as_array().is_some_and(|loc| {
                            let parts: Vec<&str> = loc.iter().filter_map(Value::as_str).collect();
                            parts.join(".") == *what
                        }) && e["msg"].is_string()
                    })
                })
            } else {
                j.as_object().is_some_and(|o| o.len() == 2)
                    && j["code"] == json!(what)
                    && j["detail"].is_string()
            };
            if !shaped {
                return Err(format!("{}, {}", want(), got()));
            }
            hookline_headers()
        }
        &Want::Http(status) | &Want::RuntimeFault(status) => {
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

// ---- the run --------------------------------------------------------------------------------------

struct Run {
    target: Target,
    port: u16,
    failures: Vec<String>,
    findings: Vec<String>,
    counts: BTreeMap<String, usize>,
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
        let answer = send(self.port, &case.method, wire);
        *self.counts.entry(case.category.clone()).or_default() += 1;
        let result = answer.and_then(|a| {
            if let &Want::RuntimeFault(s) = want {
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

/// The table, checked to be what it claims: unique names, every case there, every scheme broken
/// five ways, signed by a configured scheme, and every difference between the targets explained.
fn checked_table() -> Vec<Case> {
    let cases = table();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names must be unique");
    assert_eq!(
        cases.len(),
        CASES,
        "bad_inputs.toml holds {} cases, not {CASES}: update CASES with the table",
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
        assert!(
            SchemeKind::ALL.iter().any(|k| k.name() == c.source),
            "{}: source {} is no scheme",
            c.name,
            c.source
        );
    }
    cases
}

#[test]
fn the_bad_input_table_reads_and_is_what_it_claims() {
    let cases = checked_table();
    // Every byte spelling reads: a raw byte, a generator, a concatenation.
    let find = |name: &str| cases.iter().find(|c| c.name == name).unwrap();
    assert_eq!(find("path with a raw NUL").path, b"/hooks/stripe\x00");
    let nested = [b"[".repeat(127), b"]".repeat(127)].concat();
    assert_eq!(
        find("arrays nested 127 deep, signed").body.as_deref(),
        Some(&nested[..])
    );
    assert_eq!(
        find("obsolete line folding").extra,
        [b"X-F: a\r\n b".to_vec()]
    );
    assert_eq!(
        find("at the limit, Content-Length, signed")
            .body
            .as_ref()
            .map(Vec::len),
        Some(SMALL_LIMIT)
    );
    assert_eq!(
        find("source name of 300 characters").path.len(),
        "/hooks/".len() + 300
    );
    assert_eq!(unescape(r"a\x41\xzz\u1"), b"aA\\xzz\\u1");
}

/// The management API's cases against `hookline dev` alone: the full run above needs workerd,
/// which not every machine has built.
#[test]
fn the_api_cases_get_the_right_answer_from_dev_and_leak_no_token() {
    let srcs = sources();
    let cases: Vec<Case> = checked_table()
        .into_iter()
        .filter(|c| c.category == API)
        .collect();
    assert!(cases.len() >= 15, "{} api cases", cases.len());
    let dir = tempfile::tempdir().unwrap();
    let mut dev = Dev::start(dir.path(), &dev_config(&srcs), free_port());
    let signing = Signing {
        srcs,
        made: RefCell::new(Vec::new()),
    };
    let mut run = Run::new(Target::Dev, dev.port);
    for case in &cases {
        run.one(case, &signing);
        assert!(
            dev.is_running() && healthy(dev.port).is_ok(),
            "hookline dev is down after `{}`:\n{}",
            case.name,
            dev.output().join("\n")
        );
    }
    assert!(
        run.failures.is_empty(),
        "{} of {} answers were wrong:\n{}",
        run.failures.len(),
        cases.len(),
        run.failures.join("\n")
    );
    Needles::new()
        .secret(API_TOKEN)
        .assert_clean("hookline dev", &dev.output());
}

#[test]
fn malformed_requests_get_the_right_answer_on_both_targets_and_leak_nothing() {
    let started = Instant::now();
    let srcs = sources();
    let cases = checked_table();

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
    let dev_config = dev_config(&srcs);
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
    let mut needles = Needles::new().secret(API_TOKEN);
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
        // The whole value and each MAC on its own (`Needles::signature` splits the entries).
        needles = needles.signature(sig);
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
