//! The OpenAPI document (`openapi.json`) held to the server.
//!
//! Every operation the document lists is called through [`Api::handle`] with the document's own
//! examples (path parameters, request bodies), and every answer is checked: its status must be
//! one the operation documents, and its body must match the schema documented for that status
//! (objects may hold no field the schema does not name). Each operation is also called the ways
//! it can fail (no token, another application's token, an expired or a read-only portal token,
//! the store or the queue down, a body that is not JSON, not an object or too large, a record
//! that does not exist, a bad query value), and those answers are held to the document the same
//! way. In the other direction, the routes of `src/service.rs` (read from its source) must be
//! exactly the document's operations, and every other method on a documented path must answer
//! 405.
//!
//! The validator below understands the JSON Schema keywords the document uses, and fails on any
//! other, so a keyword added to the document cannot go unchecked.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use hookline_api::hooked::{self, Hook, Hooked};
use hookline_api::memory::MemoryStore;
use hookline_api::service::{MAX_BODY, OPENAPI};
use hookline_api::{Api, Env, Outbox, Registry, Settings, StoreError};
use hookline_core::api::auth::{Scope, Token, Tokens};
use hookline_core::api::history::{Destination, MessageStatus};
use hookline_core::api::id::{self, IdKind};
use hookline_core::api::model::{Attempt, AttemptStatus, UrlPolicy};
use hookline_core::secret::Secret;
use hookline_core::ssrf::SsrfPolicy;
use hookline_core::time::Timestamp;
use serde_json::{Value, json};

const ROOT_TOKEN: &str = "openapi-test-root-token";
const OTHER_APP_TOKEN: &str = "openapi-test-other-app-token";
/// A portal token of the right form whose written expiry (2001) is over: refused before any
/// store read.
const EXPIRED_PORTAL_TOKEN: &str = "hlp_1000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
/// The `Host` of every request, as a client sends it: portal links start with it.
const HOST: &str = "127.0.0.1:8787";

/// Every operation, in the order the happy run calls them: creates first, deletes last.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/app"),
    ("GET", "/api/v1/app"),
    ("GET", "/api/v1/app/{app_id}"),
    ("PUT", "/api/v1/app/{app_id}"),
    ("PATCH", "/api/v1/app/{app_id}"),
    ("POST", "/api/v1/event-type"),
    ("GET", "/api/v1/event-type"),
    ("GET", "/api/v1/event-type/{event_type_name}"),
    ("PUT", "/api/v1/event-type/{event_type_name}"),
    ("PATCH", "/api/v1/event-type/{event_type_name}"),
    ("POST", "/api/v1/app/{app_id}/endpoint"),
    ("GET", "/api/v1/app/{app_id}/endpoint"),
    ("GET", "/api/v1/app/{app_id}/endpoint/{endpoint_id}"),
    ("PUT", "/api/v1/app/{app_id}/endpoint/{endpoint_id}"),
    ("PATCH", "/api/v1/app/{app_id}/endpoint/{endpoint_id}"),
    ("GET", "/api/v1/app/{app_id}/endpoint/{endpoint_id}/secret"),
    (
        "POST",
        "/api/v1/app/{app_id}/endpoint/{endpoint_id}/secret/rotate",
    ),
    ("GET", "/api/v1/app/{app_id}/endpoint/{endpoint_id}/headers"),
    ("PUT", "/api/v1/app/{app_id}/endpoint/{endpoint_id}/headers"),
    (
        "PATCH",
        "/api/v1/app/{app_id}/endpoint/{endpoint_id}/headers",
    ),
    ("POST", "/api/v1/app/{app_id}/msg"),
    ("GET", "/api/v1/app/{app_id}/msg"),
    ("GET", "/api/v1/app/{app_id}/msg/{msg_id}"),
    ("GET", "/api/v1/app/{app_id}/attempt/msg/{msg_id}"),
    ("GET", "/api/v1/app/{app_id}/attempt/endpoint/{endpoint_id}"),
    (
        "POST",
        "/api/v1/app/{app_id}/msg/{msg_id}/endpoint/{endpoint_id}/resend",
    ),
    ("GET", "/api/v1/app/{app_id}/msg/{msg_id}/endpoint"),
    ("GET", "/api/v1/app/{app_id}/endpoint/{endpoint_id}/msg"),
    ("GET", "/api/v1/app/{app_id}/endpoint/{endpoint_id}/stats"),
    (
        "POST",
        "/api/v1/app/{app_id}/endpoint/{endpoint_id}/recover",
    ),
    (
        "POST",
        "/api/v1/app/{app_id}/endpoint/{endpoint_id}/send-example",
    ),
    // A portal link: its token is then the one `session` and `logout` are called with.
    ("POST", "/api/v1/auth/app-portal-access/{app_id}"),
    ("GET", "/api/v1/auth/session"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/app/{app_id}/expire-all"),
    ("DELETE", "/api/v1/event-type/{event_type_name}"),
    ("DELETE", "/api/v1/app/{app_id}/endpoint/{endpoint_id}"),
    ("DELETE", "/api/v1/app/{app_id}"),
    // After the application's: an operational endpoint would get events about its endpoints.
    ("POST", "/api/v1/operational-webhook/endpoint"),
    ("GET", "/api/v1/operational-webhook/endpoint"),
    ("GET", "/api/v1/operational-webhook/endpoint/{endpoint_id}"),
    ("PUT", "/api/v1/operational-webhook/endpoint/{endpoint_id}"),
    (
        "GET",
        "/api/v1/operational-webhook/endpoint/{endpoint_id}/secret",
    ),
    (
        "POST",
        "/api/v1/operational-webhook/endpoint/{endpoint_id}/secret/rotate",
    ),
    (
        "GET",
        "/api/v1/operational-webhook/endpoint/{endpoint_id}/headers",
    ),
    (
        "PUT",
        "/api/v1/operational-webhook/endpoint/{endpoint_id}/headers",
    ),
    (
        "DELETE",
        "/api/v1/operational-webhook/endpoint/{endpoint_id}",
    ),
];

/// Makes every missing name unique.
static MISSING: AtomicU64 = AtomicU64::new(0);

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

// ---- the service's surroundings, in memory ----

fn now() -> Timestamp {
    Timestamp::from_unix_secs(1_800_000_000)
}

/// Ids sort by time, then by their random part: a counter keeps creation order in id order.
struct TestEnv(AtomicU64);

impl Env for TestEnv {
    fn now(&self) -> Timestamp {
        now()
    }
    fn random(&self, buf: &mut [u8]) {
        let n = self.0.fetch_add(1, Ordering::Relaxed).to_be_bytes();
        buf.fill(0x5a);
        for (b, n) in buf.iter_mut().zip(n) {
            *b = n;
        }
    }
}

#[derive(Default)]
struct Queue {
    sent: Mutex<Vec<String>>,
    down: AtomicBool,
}

#[async_trait]
impl Outbox for Queue {
    async fn send(&self, body: String) -> Result<(), String> {
        if self.down.load(Ordering::SeqCst) {
            return Err("queue down".into());
        }
        self.sent.lock().unwrap().push(body);
        Ok(())
    }
}

/// A switch that makes every call of the in-memory store fail.
#[derive(Default)]
struct Flaky {
    down: AtomicBool,
}

impl Hook for Flaky {
    async fn before(&self, _: &hooked::Call<'_>) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("switched off by the test".into()))
        } else {
            Ok(())
        }
    }
}

struct Server {
    api: Api,
    store: Arc<Hooked<Flaky>>,
    queue: Arc<Queue>,
}

fn server() -> Server {
    let store = Arc::new(Hooked::new(
        Arc::new(MemoryStore::new(now)),
        Flaky::default(),
    ));
    let queue = Arc::new(Queue::default());
    let tokens = Tokens::new(vec![
        Token::new(&Secret::new(ROOT_TOKEN).unwrap(), Scope::All),
        Token::new(
            &Secret::new(OTHER_APP_TOKEN).unwrap(),
            Scope::App("other-app".into()),
        ),
    ]);
    let api = Api::new(
        store.clone(),
        queue.clone(),
        Arc::new(TestEnv(AtomicU64::new(1))),
        Settings {
            tokens,
            urls: UrlPolicy {
                ssrf: SsrfPolicy::default(),
                allow_http: false,
            },
            retention: Duration::from_secs(90 * 24 * 3600),
            operational_endpoints: Vec::new(),
            configured: Vec::new(),
            portal: hookline_api::service::PortalSettings::default(),
        },
    );
    Server { api, store, queue }
}

/// One request, as the test builds it.
#[derive(Clone, Debug)]
struct Call {
    method: &'static str,
    path: String,
    query: String,
    token: Option<String>,
    /// The `Host` header (real clients always send one).
    host: Option<&'static str>,
    idempotency_key: Option<String>,
    body: Vec<u8>,
}

struct Answer {
    status: u16,
    content_type: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl Server {
    async fn send(&self, c: &Call) -> Answer {
        let uri = if c.query.is_empty() {
            c.path.clone()
        } else {
            format!("{}?{}", c.path, c.query)
        };
        let mut req = http::Request::builder().method(c.method).uri(uri);
        if let Some(t) = &c.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(h) = c.host {
            req = req.header("host", h);
        }
        if let Some(k) = &c.idempotency_key {
            req = req.header("idempotency-key", k);
        }
        if !c.body.is_empty() {
            req = req.header("content-type", "application/json");
        }
        let resp = self
            .api
            .handle(req.body(Bytes::from(c.body.clone())).unwrap())
            .await;
        Answer {
            status: resp.status().as_u16(),
            content_type: resp
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned()),
            body: resp.into_body(),
        }
    }
}

// ---- the document ----

fn doc() -> Value {
    serde_json::from_str(OPENAPI).expect("openapi.json is JSON")
}

/// `#/components/...` to what it points at.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let ptr = r.strip_prefix('#').expect("local $ref");
            let target = doc
                .pointer(ptr)
                .unwrap_or_else(|| panic!("dangling $ref {r}"));
            resolve(doc, target)
        }
        None => v,
    }
}

fn operation<'a>(doc: &'a Value, method: &str, template: &str) -> &'a Value {
    doc["paths"][template]
        .get(method.to_ascii_lowercase())
        .unwrap_or_else(|| panic!("{method} {template} is not in the document"))
}

/// The parameters of an operation: the path item's and its own, resolved.
fn parameters<'a>(doc: &'a Value, method: &str, template: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    for list in [
        doc["paths"][template].get("parameters"),
        operation(doc, method, template).get("parameters"),
    ]
    .into_iter()
    .flatten()
    {
        for p in list.as_array().unwrap() {
            out.push(resolve(doc, p));
        }
    }
    out
}

fn documented_statuses(doc: &Value, method: &str, template: &str) -> BTreeSet<u16> {
    operation(doc, method, template)["responses"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.parse().unwrap())
        .collect()
}

fn request_example(doc: &Value, method: &str, template: &str) -> Option<Value> {
    let rb = operation(doc, method, template).get("requestBody")?;
    Some(resolve(doc, rb)["content"]["application/json"]["example"].clone())
}

fn has_param(doc: &Value, method: &str, template: &str, name: &str) -> bool {
    parameters(doc, method, template)
        .iter()
        .any(|p| p["name"] == name)
}

/// The path with each `{param}` replaced: from `values`, else the parameter's example. Path
/// parameters are declared on the path, once for all its operations.
fn fill(doc: &Value, template: &str, values: &BTreeMap<&str, String>) -> String {
    let mut path = template.to_owned();
    let declared = doc["paths"][template]
        .get("parameters")
        .and_then(Value::as_array);
    for p in declared.into_iter().flatten().map(|p| resolve(doc, p)) {
        assert_eq!(
            p["in"], "path",
            "{template}: only path parameters are declared on a path"
        );
        let name = p["name"].as_str().unwrap();
        let value = values.get(name).cloned().unwrap_or_else(|| {
            p["example"]
                .as_str()
                .unwrap_or_else(|| panic!("path parameter {name} has no example"))
                .to_owned()
        });
        path = path.replace(&format!("{{{name}}}"), &value);
    }
    assert!(
        !path.contains('{'),
        "{template}: a path parameter is not declared"
    );
    path
}

/// Holds one answer to the document: a documented status, and a body of its schema.
fn check_answer(doc: &Value, method: &str, template: &str, what: &str, a: &Answer) {
    let statuses = documented_statuses(doc, method, template);
    assert!(
        statuses.contains(&a.status),
        "{method} {template} ({what}): status {} is not documented ({statuses:?}); body {}",
        a.status,
        a.body
    );
    let resp = resolve(
        doc,
        &operation(doc, method, template)["responses"][a.status.to_string()],
    );
    match resp.get("content") {
        None => {
            assert!(
                a.body.is_empty() && a.content_type.is_none(),
                "{method} {template} ({what}): {} documents no body, got {:?}",
                a.status,
                a.body
            );
        }
        Some(content) => {
            assert_eq!(
                a.content_type.as_deref(),
                Some("application/json"),
                "{method} {template} ({what})"
            );
            let schema = &content["application/json"]["schema"];
            let mut errs = Vec::new();
            validate(doc, schema, &a.json(), "$", true, &mut errs);
            assert!(
                errs.is_empty(),
                "{method} {template} ({what}): the {} answer does not match the document:\n  {}\nbody: {}",
                a.status,
                errs.join("\n  "),
                a.body
            );
        }
    }
}

// ---- a JSON Schema subset ----

const KEYWORDS: &[&str] = &[
    "$ref",
    "anyOf",
    "type",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "maxProperties",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "format",
    // Annotations.
    "description",
    "example",
    "default",
];

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("unknown type {other:?}"),
    }
}

/// Checks `v` against `schema`, adding what is wrong to `errs`. `strict`: an object whose schema
/// names its `properties` may hold no other (for answers: a field the server adds must be
/// documented).
fn validate(
    doc: &Value,
    schema: &Value,
    v: &Value,
    at: &str,
    strict: bool,
    errs: &mut Vec<String>,
) {
    let s = schema.as_object().expect("a schema is an object");
    for k in s.keys() {
        assert!(
            KEYWORDS.contains(&k.as_str()),
            "the document uses {k:?}, which this validator does not check"
        );
    }
    if s.contains_key("$ref") {
        return validate(doc, resolve(doc, schema), v, at, strict, errs);
    }
    if let Some(alts) = s.get("anyOf") {
        let ok = alts.as_array().unwrap().iter().any(|alt| {
            let mut e = Vec::new();
            validate(doc, alt, v, at, strict, &mut e);
            e.is_empty()
        });
        if !ok {
            errs.push(format!("{at}: matches none of anyOf"));
        }
        return;
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_matches(t, v),
            Value::Array(ts) => ts.iter().any(|t| type_matches(t.as_str().unwrap(), v)),
            _ => panic!("bad type {t}"),
        };
        if !ok {
            errs.push(format!("{at}: {v} is not of type {t}"));
            return;
        }
    }
    if let Some(e) = s.get("enum")
        && !e.as_array().unwrap().contains(v)
    {
        errs.push(format!("{at}: {v} is not one of {e}"));
    }
    match v {
        Value::Object(o) => {
            for r in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if !o.contains_key(r.as_str().unwrap()) {
                    errs.push(format!("{at}: required {r} is missing"));
                }
            }
            let props = s.get("properties").and_then(Value::as_object);
            for (k, item) in o {
                let here = format!("{at}.{k}");
                if let Some(p) = props.and_then(|p| p.get(k)) {
                    validate(doc, p, item, &here, strict, errs);
                } else {
                    match s.get("additionalProperties") {
                        Some(Value::Bool(false)) => errs.push(format!("{here}: not allowed")),
                        Some(Value::Bool(true)) => {}
                        Some(extra) => validate(doc, extra, item, &here, strict, errs),
                        None if strict && props.is_some() => {
                            errs.push(format!("{here}: not in the document"));
                        }
                        None => {}
                    }
                }
            }
            if let Some(max) = s.get("maxProperties").and_then(Value::as_u64)
                && o.len() as u64 > max
            {
                errs.push(format!("{at}: more than {max} properties"));
            }
        }
        Value::Array(a) => {
            if let Some(items) = s.get("items") {
                for (i, item) in a.iter().enumerate() {
                    validate(doc, items, item, &format!("{at}[{i}]"), strict, errs);
                }
            }
            if let Some(n) = s.get("minItems").and_then(Value::as_u64)
                && (a.len() as u64) < n
            {
                errs.push(format!("{at}: fewer than {n} items"));
            }
            if let Some(n) = s.get("maxItems").and_then(Value::as_u64)
                && a.len() as u64 > n
            {
                errs.push(format!("{at}: more than {n} items"));
            }
            if s.get("uniqueItems") == Some(&Value::Bool(true)) {
                let distinct: BTreeSet<String> = a.iter().map(Value::to_string).collect();
                if distinct.len() != a.len() {
                    errs.push(format!("{at}: items repeat"));
                }
            }
        }
        Value::String(text) => {
            let chars = text.chars().count() as u64;
            if let Some(n) = s.get("minLength").and_then(Value::as_u64)
                && chars < n
            {
                errs.push(format!("{at}: shorter than {n}"));
            }
            if let Some(n) = s.get("maxLength").and_then(Value::as_u64)
                && chars > n
            {
                errs.push(format!("{at}: longer than {n}"));
            }
            if let Some(p) = s.get("pattern").and_then(Value::as_str)
                && !regex_lite::Regex::new(p).unwrap().is_match(text)
            {
                errs.push(format!("{at}: {text:?} does not match {p}"));
            }
            match s.get("format").and_then(Value::as_str) {
                Some("date-time") if Timestamp::parse_rfc3339(text).is_none() => {
                    errs.push(format!("{at}: {text:?} is not RFC 3339"));
                }
                Some("uri") if url::Url::parse(text).is_err() => {
                    errs.push(format!("{at}: {text:?} is not a URI"));
                }
                Some("date-time" | "uri") | None => {}
                Some(other) => panic!("unknown format {other:?}"),
            }
        }
        Value::Number(n) => {
            let n = n.as_f64().unwrap();
            if let Some(min) = s.get("minimum").and_then(Value::as_f64)
                && n < min
            {
                errs.push(format!("{at}: {n} < {min}"));
            }
            if let Some(max) = s.get("maximum").and_then(Value::as_f64)
                && n > max
            {
                errs.push(format!("{at}: {n} > {max}"));
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

// ---- the routes of service.rs, from its source ----

/// `(method, template)` of every `(&Method::X, [segments])` arm of `Api::route`, with the
/// handler's variable names mapped to the document's parameter names.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let src = include_str!("../src/service.rs");
    let arm = regex_lite::Regex::new(r"\(&Method::([A-Z]+),\s*\[([^\]]*)\]\)").unwrap();
    let mut out = BTreeSet::new();
    for c in arm.captures_iter(src) {
        let mut path = String::from("/api/v1");
        for seg in c[2].split(',').map(str::trim).filter(|s| !s.is_empty()) {
            path.push('/');
            match seg.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                Some(lit) => path.push_str(lit),
                None => path.push_str(match seg {
                    "a" => "{app_id}",
                    "e" => "{endpoint_id}",
                    "msg" => "{msg_id}",
                    "n" => "{event_type_name}",
                    other => panic!("service.rs binds an unknown path variable {other:?}"),
                }),
            }
        }
        out.insert((c[1].to_owned(), path));
    }
    // The one route matched another way: `segs == ["openapi.json"] && m == Method::GET`.
    assert!(src.contains(r#"segs.as_slice() == ["openapi.json"] && m == Method::GET"#));
    out.insert(("GET".into(), "/api/v1/openapi.json".into()));
    out
}

fn routes_in_document(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in item.as_object().unwrap().keys() {
            if m != "parameters" {
                out.insert((m.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn the_document_lists_exactly_the_routes_service_rs_serves() {
    let doc = doc();
    let listed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(listed.len(), ROUTES.len(), "ROUTES repeats an entry");
    assert_eq!(routes_in_document(&doc), routes_in_source());
    assert_eq!(routes_in_document(&doc), listed);
}

#[test]
fn every_example_matches_its_schema() {
    let doc = doc();
    let mut checked = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if let Some(ex) = schema.get("example") {
            let mut errs = Vec::new();
            validate(&doc, schema, ex, name, true, &mut errs);
            assert!(errs.is_empty(), "{name}'s example: {errs:?}");
            checked += 1;
        }
    }
    for (m, p) in ROUTES {
        if let Some(rb) = operation(&doc, m, p).get("requestBody") {
            let media = &resolve(&doc, rb)["content"]["application/json"];
            let mut errs = Vec::new();
            validate(
                &doc,
                &media["schema"],
                &media["example"],
                p,
                false,
                &mut errs,
            );
            assert!(errs.is_empty(), "{m} {p} request example: {errs:?}");
            checked += 1;
        }
        for param in parameters(&doc, m, p) {
            if let Some(ex) = param.get("example") {
                let mut errs = Vec::new();
                validate(&doc, &param["schema"], ex, p, false, &mut errs);
                assert!(errs.is_empty(), "{m} {p} parameter example: {errs:?}");
            }
        }
    }
    // Every request body has an example.
    assert!(checked > 20, "{checked}");
}

/// Calls every operation with the document's examples, in `ROUTES` order, and around each the
/// ways it can fail; every answer must be what the document says.
#[tokio::test]
async fn every_operation_answers_as_documented() {
    let doc = doc();
    let s = server();
    let mut ids: BTreeMap<&str, String> = BTreeMap::new();
    let mut key = 0;

    for &(method, template) in ROUTES {
        // `session` and `logout` act on the token presented: the link's, minted above (an API
        // token's session reads no store, and an API token cannot be logged out).
        let token = match template {
            SESSION | LOGOUT => ids["portal_token"].clone(),
            _ => ROOT_TOKEN.to_owned(),
        };
        let happy = Call {
            method,
            path: fill(&doc, template, &BTreeMap::new()),
            query: String::new(),
            token: Some(token),
            host: Some(HOST),
            idempotency_key: None,
            body: request_example(&doc, method, template)
                .map(|b| b.to_string().into_bytes())
                .unwrap_or_default(),
        };
        let authenticated = template != "/api/v1/openapi.json";
        let check = |what: &str, a: &Answer| check_answer(&doc, method, template, what, a);

        if authenticated {
            // The application exists from its POST to its DELETE: its links can be minted.
            let app = ids.get("app").map(String::as_str);
            failure_probes(&doc, &s, method, template, &happy, app).await;
        }

        if template == "/api/v1/app/{app_id}/attempt/msg/{msg_id}" {
            // Attempts are written by the sender: record one so that the list has an item.
            let attempt = Attempt {
                id: id::new_id(IdKind::Attempt, now(), [7; 16]),
                app_id: ids["app"].clone(),
                msg_id: ids["msg"].clone(),
                endpoint_id: ids["endpoint"].clone(),
                url: "https://hooks.acme.example/hookline".into(),
                response: "ok".into(),
                response_status_code: 200,
                response_duration_ms: 87,
                status: AttemptStatus::Success,
                trigger: hookline_core::envelope::Trigger::Scheduled,
                attempt: 1,
                error_class: None,
                next_attempt: None,
                timestamp: now().to_rfc3339(),
            };
            Registry::new(s.store.clone())
                .record_attempt(&attempt, None)
                .await
                .unwrap();
        }
        if template == "/api/v1/app/{app_id}/msg/{msg_id}/endpoint" {
            // So is the message's status at each endpoint: record one for the lists.
            let status = Destination {
                app_id: ids["app"].clone(),
                endpoint_id: ids["endpoint"].clone(),
                msg_id: ids["msg"].clone(),
                status: MessageStatus::Fail,
                attempts: 5,
                next_attempt: None,
                last_attempt: None,
                failing_sent: true,
                updated_at: now().to_rfc3339(),
            };
            Registry::new(s.store.clone())
                .put_destination(&status, None)
                .await
                .unwrap();
        }

        // Links of the application, one of the example's session and one of none, for
        // expire-all to tell apart.
        let expiring = if template == EXPIRE_ALL {
            Some((
                portal_token(&doc, &s, "acme", json!({"sessionId": "user_1FB8"})).await,
                portal_token(&doc, &s, "acme", json!({})).await,
            ))
        } else {
            None
        };

        let mut call = happy.clone();
        // As the SDKs do, on every POST; only the operations that document the header replay.
        let replayed = has_param(&doc, method, template, "idempotency-key");
        if method == "POST" {
            key += 1;
            call.idempotency_key = Some(format!("openapi-test-{key}"));
        }
        if (method, template) == ("POST", "/api/v1/app/{app_id}/msg") {
            message_retry_semantics(&doc, &s, &call).await;
        }
        let a = s.send(&call).await;
        check("happy path", &a);
        assert!(
            (200..300).contains(&a.status),
            "{method} {template}: {} {}",
            a.status,
            a.body
        );
        if a.status != 204 {
            let v = a.json();
            if let Some(data) = v.get("data") {
                // Lists hold the records made before, so their item schema is exercised.
                assert!(
                    !data.as_array().unwrap().is_empty(),
                    "{method} {template}: empty list"
                );
            }
            match (method, template) {
                ("POST", "/api/v1/app") => ids.insert("app", v["id"].as_str().unwrap().into()),
                ("POST", "/api/v1/app/{app_id}/endpoint") => {
                    ids.insert("endpoint", v["id"].as_str().unwrap().into())
                }
                ("POST", "/api/v1/app/{app_id}/msg") => {
                    ids.insert("msg", v["id"].as_str().unwrap().into())
                }
                ("POST", SEND_EXAMPLE) => ids.insert("example", v["id"].as_str().unwrap().into()),
                ("POST", PORTAL_ACCESS) => {
                    ids.insert("portal_token", v["token"].as_str().unwrap().into())
                }
                _ => None,
            };
        }
        if (method, template) == ("DELETE", "/api/v1/app/{app_id}") {
            // Gone: no link can be minted for it any more.
            ids.remove("app");
        }
        portal_effects(&doc, &s, template, &call, &a, &ids, expiring).await;
        if template == "/api/v1/openapi.json" {
            assert_eq!(a.json(), doc, "the served document is openapi.json");
        }
        if call.idempotency_key.is_some() && replayed {
            // The same request again is answered as the first time, and changes nothing.
            let sent = s.queue.sent.lock().unwrap().len();
            let again = s.send(&call).await;
            check("idempotent retry", &again);
            assert_eq!(again.status, a.status);
            if a.status != 204 {
                assert_eq!(again.json(), a.json());
            }
            assert_eq!(s.queue.sent.lock().unwrap().len(), sent);
        }
    }
    // The message went out once, the resend once more, for one endpoint, and the example to
    // that endpoint only; the recover's example period holds none of its messages.
    let sent = s.queue.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 3, "{sent:?}");
    let resend: Value = serde_json::from_str(&sent[1]).unwrap();
    assert_eq!(resend["trigger"], "manual");
    assert_eq!(resend["endpoints"], json!([ids["endpoint"]]));
    let example: Value = serde_json::from_str(&sent[2]).unwrap();
    assert_eq!(example["id"], ids["example"].as_str());
    assert_eq!(example["trigger"], "manual");
    assert_eq!(example["endpoints"], json!([ids["endpoint"]]));
    assert_eq!(example["data"], json!({"success": true}));
}

const SEND_EXAMPLE: &str = "/api/v1/app/{app_id}/endpoint/{endpoint_id}/send-example";
const PORTAL_ACCESS: &str = "/api/v1/auth/app-portal-access/{app_id}";
const SESSION: &str = "/api/v1/auth/session";
const LOGOUT: &str = "/api/v1/auth/logout";
const EXPIRE_ALL: &str = "/api/v1/auth/app/{app_id}/expire-all";

/// A portal link's token for `app`, minted with `body` as an operator's product does; the
/// answer is held to the document.
async fn portal_token(doc: &Value, s: &Server, app: &str, body: Value) -> String {
    let c = Call {
        method: "POST",
        path: format!("/api/v1/auth/app-portal-access/{app}"),
        query: String::new(),
        token: Some(ROOT_TOKEN.into()),
        host: Some(HOST),
        idempotency_key: None,
        body: body.to_string().into_bytes(),
    };
    let a = s.send(&c).await;
    check_answer(doc, "POST", PORTAL_ACCESS, "minting a link", &a);
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()["token"].as_str().unwrap().to_owned()
}

/// `GET /auth/session` with `token`, held to the document.
async fn session(doc: &Value, s: &Server, token: &str) -> Answer {
    let c = Call {
        method: "GET",
        path: SESSION.into(),
        query: String::new(),
        token: Some(token.into()),
        host: Some(HOST),
        idempotency_key: None,
        body: Vec::new(),
    };
    let a = s.send(&c).await;
    check_answer(doc, "GET", SESSION, "a session", &a);
    a
}

/// `now` and `secs` more, as the API writes it.
fn in_secs(secs: i64) -> String {
    Timestamp::from_unix_secs(now().unix_secs() + secs).to_rfc3339()
}

/// What the portal's operations did, beyond their answer to `call` (`a`): the link opens the
/// session its body asked for, a link is never replayed, logout and expire-all end tokens, and
/// an example needs one in the catalogue. Every answer is held to the document.
async fn portal_effects(
    doc: &Value,
    s: &Server,
    template: &str,
    call: &Call,
    a: &Answer,
    ids: &BTreeMap<&str, String>,
    expiring: Option<(String, String)>,
) {
    match template {
        PORTAL_ACCESS => {
            let token = ids["portal_token"].as_str();
            assert_eq!(
                a.json()["url"],
                format!("http://{HOST}/portal/#token={token}"),
                "a loopback Host makes an http link"
            );
            // Never from the idempotency-key: the answer would be kept with the token in it.
            let again = s.send(call).await;
            check_answer(doc, "POST", template, "the same key again", &again);
            assert_eq!(again.status, 200, "{}", again.body);
            assert_ne!(again.json()["token"], token, "a link was replayed");
            // With no [api.portal] url, the link starts with the request's Host: none, no link.
            let mut no_host = call.clone();
            no_host.host = None;
            let refused = s.send(&no_host).await;
            check_answer(doc, "POST", template, "no Host header", &refused);
            assert_eq!(
                (refused.status, refused.json()["code"].as_str()),
                (400, Some("portal_url_unknown"))
            );
            // An application that does not exist is made from `application`.
            portal_token(
                doc,
                s,
                "portal-made",
                json!({"application": {"name": "Made by a link", "uid": "portal-made"}}),
            )
            .await;
            let mut made = call.clone();
            made.method = "GET";
            made.path = "/api/v1/app/portal-made".into();
            made.body = Vec::new();
            made.idempotency_key = None;
            assert_eq!(s.send(&made).await.status, 200);
        }
        SESSION => {
            // The link's session: what the request example asked for.
            let v = a.json();
            assert_eq!(v["scope"], "app");
            assert_eq!(v["app"]["id"], ids["app"].as_str());
            assert_eq!(
                v["capabilities"],
                json!(["ViewBase", "ViewEndpointSecret", "CreateAttempts"])
            );
            assert_eq!(v["readOnly"], false);
            assert_eq!(v["expiresAt"], in_secs(3600));
            // An all-applications token's.
            let all = session(doc, s, ROOT_TOKEN).await;
            assert_eq!(all.status, 200, "{}", all.body);
            let v = all.json();
            assert_eq!((&v["scope"], &v["app"]), (&json!("all"), &Value::Null));
            assert_eq!(v["capabilities"].as_array().unwrap().len(), 6);
            assert_eq!(v["expiresAt"], Value::Null);
        }
        LOGOUT => {
            let after = session(doc, s, &ids["portal_token"]).await;
            assert_eq!(
                (after.status, after.json()["code"].as_str()),
                (401, Some("authentication_failed")),
                "a logged-out token still works"
            );
        }
        EXPIRE_ALL => {
            // The example's session ends within its 60 s; the other link keeps its hour.
            let (in_session, other) = expiring.unwrap();
            let v = session(doc, s, &in_session).await.json();
            assert_eq!(v["expiresAt"], in_secs(60), "{v}");
            let v = session(doc, s, &other).await.json();
            assert_eq!(v["expiresAt"], in_secs(3600), "{v}");
            // A list that names no session narrows nothing (as Svix): both end now.
            let mut all = call.clone();
            all.idempotency_key = None;
            all.body = br#"{"sessionIds": []}"#.to_vec();
            let a = s.send(&all).await;
            check_answer(doc, "POST", template, "sessionIds []", &a);
            assert_eq!(a.status, 204, "{}", a.body);
            for token in [&in_session, &other] {
                assert_eq!(session(doc, s, token).await.status, 401, "{token} lives on");
            }
        }
        SEND_EXAMPLE => {
            let v = a.json();
            assert_eq!(v["eventType"], "svix.ping");
            assert_eq!(v["payload"], json!({"success": true}));
            // invoice.paid is in the catalogue without an example; no.such.type is not in it.
            let sent = s.queue.sent.lock().unwrap().len();
            for (event_type, status, code) in [
                ("invoice.paid", 400, "invalid_scheme"),
                ("no.such.type", 404, "not_found"),
            ] {
                let mut c = call.clone();
                c.idempotency_key = None;
                c.body = json!({ "eventType": event_type }).to_string().into_bytes();
                let refused = s.send(&c).await;
                check_answer(doc, "POST", template, event_type, &refused);
                assert_eq!(
                    (refused.status, refused.json()["code"].as_str()),
                    (status, Some(code))
                );
            }
            assert_eq!(s.queue.sent.lock().unwrap().len(), sent);
        }
        _ => {}
    }
}

/// `POST /app/{app_id}/msg` when the queue fails, then retried: no loss, no second message.
async fn message_retry_semantics(doc: &Value, s: &Server, call: &Call) {
    let (m, t) = ("POST", "/api/v1/app/{app_id}/msg");
    s.queue.down.store(true, Ordering::SeqCst);
    let a = s.send(call).await;
    s.queue.down.store(false, Ordering::SeqCst);
    check_answer(doc, m, t, "queue down", &a);
    assert_eq!(a.status, 503, "{}", a.body);
    assert!(s.queue.sent.lock().unwrap().is_empty());
    // The retry (the caller's code below) enqueues the stored message; a different
    // request with the same eventId is then a conflict.
    let mut other = call.clone();
    other.idempotency_key = Some("another-key".into());
    let retried = s.send(call).await;
    check_answer(doc, m, t, "retry after the queue failed", &retried);
    assert_eq!(retried.status, 202);
    assert_eq!(s.queue.sent.lock().unwrap().len(), 1);
    let conflict = s.send(&other).await;
    check_answer(doc, m, t, "same eventId, another key", &conflict);
    assert_eq!(conflict.status, 409, "{}", conflict.body);
    let mut no_key = call.clone();
    no_key.idempotency_key = None;
    let conflict = s.send(&no_key).await;
    assert_eq!(conflict.status, 409, "{}", conflict.body);
    // The same request again (the same key) is answered with the same message, not sent again.
    let a = s.send(call).await;
    assert_eq!((a.status, a.json()), (202, retried.json()));
    assert_eq!(s.queue.sent.lock().unwrap().len(), 1, "sent twice");
}

/// Every way `method template` can fail, each answer held to the document. None changes what
/// the happy call reads (a read-only link of `app`, the application while it exists, is minted
/// for its probe).
async fn failure_probes(
    doc: &Value,
    s: &Server,
    method: &str,
    template: &str,
    happy: &Call,
    app: Option<&str>,
) {
    let check = |what: &str, a: &Answer| check_answer(doc, method, template, what, a);
    let expect = |what: &str, a: &Answer, status: u16| {
        check(what, a);
        assert_eq!(a.status, status, "{method} {template} ({what}): {}", a.body);
    };

    let mut c = happy.clone();
    c.token = None;
    expect("no token", &s.send(&c).await, 401);
    c.token = Some("not-a-configured-token".into());
    expect("unknown token", &s.send(&c).await, 401);
    c.token = Some(EXPIRED_PORTAL_TOKEN.into());
    let a = s.send(&c).await;
    expect("an expired portal token", &a, 401);
    assert_eq!(a.json()["code"], "token_expired");

    let mut c = happy.clone();
    c.token = Some(OTHER_APP_TOKEN.into());
    let a = s.send(&c).await;
    check("another application's token", &a);
    if template == LOGOUT {
        // It ends the token presented, and an API token is not one it can end.
        assert_eq!(
            (a.status, a.json()["code"].as_str()),
            (400, Some("not_a_portal_token"))
        );
    } else if documented_statuses(doc, method, template).contains(&403) {
        assert_eq!(a.status, 403, "{method} {template}: {}", a.body);
    } else {
        assert!(method == "GET", "{method} {template} must document 403");
    }

    s.store.hook().down.store(true, Ordering::SeqCst);
    let mut c = happy.clone();
    if method == "POST" {
        c.idempotency_key = Some("probe-store-down".into());
    }
    let a = s.send(&c).await;
    s.store.hook().down.store(false, Ordering::SeqCst);
    expect("store down", &a, 503);

    let mut c = happy.clone();
    c.body = vec![b' '; MAX_BODY + 1];
    expect("body too large", &s.send(&c).await, 413);

    if let Some(app) = app {
        // A read-only link of the application (`ViewBase`): it may read its application but
        // the secrets, and the catalogue, see its session and sign out; anything else is
        // refused.
        let mut c = happy.clone();
        c.token = Some(portal_token(doc, s, app, json!({"readOnly": true})).await);
        let a = s.send(&c).await;
        check("a read-only portal token", &a);
        let reads = method == "GET"
            && !template.ends_with("/secret")
            && ["/api/v1/app/{app_id}", "/api/v1/event-type", SESSION]
                .iter()
                .any(|p| template.starts_with(p));
        if reads || template == LOGOUT {
            assert!(
                (200..300).contains(&a.status),
                "{method} {template}: {}",
                a.body
            );
        } else {
            assert_eq!(a.status, 403, "{method} {template}: {}", a.body);
        }
    }

    if method == "POST" && has_param(doc, method, template, "idempotency-key") {
        let mut c = happy.clone();
        c.idempotency_key = Some("x".repeat(257));
        expect("idempotency-key too long", &s.send(&c).await, 422);
    } else if method == "POST" {
        // Only under /auth, where an answer would hold a token, is the key not looked at.
        assert!(
            template.starts_with("/api/v1/auth/"),
            "POST {template} must document idempotency-key"
        );
    }

    if request_example(doc, method, template).is_some() {
        let mut c = happy.clone();
        c.body = b"{\"name\": ".to_vec();
        expect("body not JSON", &s.send(&c).await, 400);
        c.body = b"[1, 2]".to_vec();
        expect("body not an object", &s.send(&c).await, 422);
        c.body = b"{}".to_vec();
        let a = s.send(&c).await;
        check("empty object", &a);
        // Every body schema but the rotation's requires a field, or (PATCH) changes nothing.
        assert!(
            matches!(a.status, 422 | 200 | 204),
            "{method} {template} with {{}}: {} {}",
            a.status,
            a.body
        );
        if a.status != 422 {
            assert!(matches!(method, "PATCH" | "POST"), "{method} {template}");
        }
    }

    for (param, value) in [("limit", "0"), ("limit", "251"), ("order", "descending")]
        .into_iter()
        .chain(
            [
                "with_content",
                "include_archived",
                "get_if_exists",
                "expunge",
            ]
            .into_iter()
            .map(|p| (p, "maybe")),
        )
    {
        if has_param(doc, method, template, param) {
            let mut c = happy.clone();
            c.query = format!("{param}={value}");
            let a = s.send(&c).await;
            expect(&format!("{param}={value}"), &a, 422);
            assert_eq!(a.json()["detail"][0]["loc"], json!(["query", param]));
        }
    }
    if has_param(doc, method, template, "iterator") {
        let mut c = happy.clone();
        c.query = "iterator=not-one-of-ours%20".into();
        expect("a foreign iterator", &s.send(&c).await, 422);
    }

    // A record that does not exist, one path parameter at a time.
    for name in ["app_id", "endpoint_id", "msg_id", "event_type_name"] {
        if !template.contains(&format!("{{{name}}}")) {
            continue;
        }
        // Unique, as PUT creates applications and event types that do not exist.
        let n = MISSING.fetch_add(1, Ordering::Relaxed);
        let missing = format!("missing-{}-{n}", name.replace('_', "-"));
        let mut c = happy.clone();
        c.path = fill(doc, template, &BTreeMap::from([(name, missing)]));
        let a = s.send(&c).await;
        check(&format!("missing {name}"), &a);
        assert!(
            a.status == 404 || (method == "PUT" && a.status == 201),
            "{method} {template} (missing {name}): {} {}",
            a.status,
            a.body
        );
    }
}

#[tokio::test]
async fn other_methods_on_documented_paths_are_405() {
    let doc = doc();
    let s = server();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path == "/api/v1/openapi.json" {
            continue;
        }
        for m in METHODS {
            if item.get(m.to_ascii_lowercase()).is_some() {
                continue;
            }
            let c = Call {
                method: m,
                path: fill(&doc, path, &BTreeMap::new()),
                query: String::new(),
                token: Some(ROOT_TOKEN.into()),
                host: Some(HOST),
                idempotency_key: None,
                body: Vec::new(),
            };
            let a = s.send(&c).await;
            assert_eq!(a.status, 405, "{m} {path}: {}", a.body);
            let mut errs = Vec::new();
            validate(
                &doc,
                &json!({"$ref": "#/components/schemas/HttpErrorOut"}),
                &a.json(),
                "$",
                true,
                &mut errs,
            );
            assert!(errs.is_empty(), "{errs:?}");
        }
    }
    // Outside the documented paths: 404, in the same shape.
    for path in ["/api/v1/nope", "/api/v2/app", "/api/v1/app/x/y/z"] {
        let c = Call {
            method: "GET",
            path: path.into(),
            query: String::new(),
            token: Some(ROOT_TOKEN.into()),
            host: Some(HOST),
            idempotency_key: None,
            body: Vec::new(),
        };
        let a = s.send(&c).await;
        assert_eq!(a.status, 404, "{path}");
        assert_eq!(a.json()["code"], "not_found");
    }
}
