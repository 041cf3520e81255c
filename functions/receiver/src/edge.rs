//! The Worker's entry points: the wiring between the Workers runtime and the pure code in
//! [`hookline_core::inbound`], [`crate::settings`], [`crate::forward`] and [`crate::sqs`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::future::{Either, select};
use hookline_core::config::ResolvedSource;
use hookline_core::envelope::{Body, ClaimCheck, ClaimStore, InboundEnvelope};
use hookline_core::headers::Headers as CoreHeaders;
use hookline_core::inbound::{
    Accepted, HEALTH_BODY, Incoming, Rejection, Route, claim_check, claim_check_hashed,
    needs_claim_check, ok_body, receive, route, signed_url,
};
use hookline_core::time::Timestamp;
use hookline_core::verify::{
    Algorithm, MacJob, MacPart, Request as SignedRequest, SuppliedMac, with_supplied_macs,
};
use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::worker_sys::web_sys::{self, ResponseInit};
use worker::{
    Context, Date, Delay, Env, Fetch, MessageBatch, MessageExt as _, Method,
    QueueRetryOptionsBuilder, Request, RequestInit, event,
};

use crate::forward::{Target, entry_index, plan};
use crate::settings::{CONFIG_VAR, Settings, SettingsError};
use crate::sqs;

use hookline_core::contract::receiver::{BUCKET_BINDING, QUEUE_BINDING};

thread_local! {
    /// Settings are read once per isolate: vars and secrets only change with a new deployment,
    /// which starts new isolates.
    static SETTINGS: RefCell<Option<Rc<Settings>>> = const { RefCell::new(None) };
}

fn settings(env: &Env) -> Result<Rc<Settings>, SettingsError> {
    if let Some(s) = SETTINGS.with(|c| c.borrow().clone()) {
        return Ok(s);
    }
    // As `env.object_var` reads it: only a plain object (the var written as tables) is a
    // configuration. Anything else, a string of JSON included, reads as none.
    let var = js_sys::Reflect::get(env, &JsValue::from_str(CONFIG_VAR)).unwrap_or_default();
    let config = (var.is_object()
        && js_sys::Object::from(var.clone()).constructor().name() == "Object")
        .then(|| json_value(&var))
        .flatten()
        .map(|value| value.to_string());
    let lookup = |name: &str| {
        env.secret(name)
            .map(|s| s.to_string())
            .or_else(|_| env.var(name).map(|v| v.to_string()))
            .ok()
    };
    let loaded = Rc::new(Settings::load(config.as_deref(), lookup)?);
    SETTINGS.with(|c| *c.borrow_mut() = Some(Rc::clone(&loaded)));
    Ok(loaded)
}

/// A JSON value from a var as a `serde_json::Value`, the one serde-wasm-bindgen (behind
/// `env.object_var::<serde_json::Value>`) makes of it: numbers that are safe integers become
/// integers, other numbers floats, strings are read as UTF-8 (a lone surrogate becomes U+FFFD),
/// object keys keep their order. `None` for what a var cannot hold (functions, `Map`s, binary
/// data, ...).
///
/// Written out because that deserializer was 2 KB of the gzipped bundle, for reading one var
/// once per isolate.
fn json_value(value: &JsValue) -> Option<serde_json::Value> {
    use serde_json::Value;
    if value.is_null() || value.is_undefined() {
        Some(Value::Null)
    } else if let Some(b) = value.as_bool() {
        Some(Value::Bool(b))
    } else if let Some(n) = value.as_f64() {
        Some(if js_sys::Number::is_safe_integer(value) {
            // Exact: a safe integer is at most 2^53 - 1 in magnitude.
            Value::from(n as i64)
        } else {
            serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
        })
    } else if let Some(s) = value.as_string() {
        Some(Value::String(s))
    } else if let Some(array) = value.dyn_ref::<js_sys::Array>() {
        array
            .iter()
            .map(|v| json_value(&v))
            .collect::<Option<_>>()
            .map(Value::Array)
    } else if value.is_object()
        && !value.is_instance_of::<js_sys::ArrayBuffer>()
        && !js_sys::Reflect::has(value, &js_sys::Symbol::iterator()).unwrap_or(true)
    {
        let mut map = serde_json::Map::new();
        for entry in js_sys::Object::entries(value.unchecked_ref()).iter() {
            let entry: js_sys::Array = entry.unchecked_into();
            map.insert(entry.get(0).as_string()?, json_value(&entry.get(1))?);
        }
        Some(Value::Object(map))
    } else {
        None
    }
}

fn now(env: &Env) -> Timestamp {
    #[cfg(feature = "test-clock")]
    if let Some(secs) = env
        .var("HOOKLINE_TEST_NOW")
        .ok()
        .and_then(|v| v.to_string().parse::<i64>().ok())
    {
        return Timestamp::from_unix_secs(secs);
    }
    let _ = env;
    Timestamp::from_unix_millis(i64::try_from(Date::now().as_millis()).unwrap_or(i64::MAX))
}

thread_local! {
    /// A `ResponseInit` (`{status, headers}`) per status, made once per isolate: the runtime
    /// copies an init's headers into each new Response, so one object serves every answer with
    /// that status (never mutate it). An answer is then one call into JavaScript,
    /// `new Response(body, init)`, where `Response::builder` made and filled an init and a
    /// headers object and copied the body into a `Uint8Array` first.
    static JSON_INITS: RefCell<Vec<(u16, ResponseInit)>> = const { RefCell::new(Vec::new()) };
}

fn json_init(status: u16, extra: Option<(&str, &str)>) -> ResponseInit {
    let headers = web_sys::Headers::new().ok();
    if let Some(h) = &headers {
        let _ = h.set("content-type", "application/json");
        let _ = h.set("cache-control", "no-store");
        if let Some((name, value)) = extra {
            let _ = h.set(name, value);
        }
    }
    let init = ResponseInit::new();
    init.set_status(status);
    if let Some(h) = &headers {
        init.set_headers(h);
    }
    init
}

fn respond(body: &str, init: &ResponseInit) -> JsValue {
    web_sys::Response::new_with_opt_str_and_init(Some(body), init).map_or_else(|e| e, JsValue::from)
}

fn json_response(status: u16, body: &str) -> JsValue {
    JSON_INITS.with(|inits| {
        if let Some((_, init)) = inits.borrow().iter().find(|(s, _)| *s == status) {
            return respond(body, init);
        }
        let init = json_init(status, None);
        let response = respond(body, &init);
        inits.borrow_mut().push((status, init));
        response
    })
}

/// A JSON answer with one more header (or another value for one of the usual ones).
fn json_response_with(status: u16, body: &str, name: &str, value: &str) -> JsValue {
    respond(body, &json_init(status, Some((name, value))))
}

/// The fetch handler, exported by hand rather than by `#[event(fetch)]`: that glue turned every
/// request into a `worker::Request` first (its method, URL, path, headers and `cf` object, five
/// calls into JavaScript and three strings, whatever the request) and every answer back from a
/// `worker::Response`. Here the runtime's own Request is read only for what each step needs.
///
/// The entry module (infra/receiver-entry.mjs) calls it for every request that
/// [`fetch_small`] does not take.
#[wasm_bindgen]
pub async fn fetch(req: web_sys::Request, env: Env, _ctx: JsValue) -> Result<JsValue, JsValue> {
    Ok(handle(&req, &env, None)
        .await
        .unwrap_or_else(|rejection| refusal(&req, rejection)))
}

/// [`fetch`] for a request whose body the entry module has already read (`body`, all of it), and
/// perhaps its MACs (`macs`, as [`fetch_small`] takes them): what [`fetch_small`] hands back.
#[wasm_bindgen]
pub async fn fetch_read(
    req: web_sys::Request,
    env: Env,
    body: Uint8Array,
    macs: JsValue,
) -> Result<JsValue, JsValue> {
    let macs = macs.dyn_into::<js_sys::Array>().ok();
    Ok(handle(&req, &env, Some((body, macs)))
        .await
        .unwrap_or_else(|rejection| refusal(&req, rejection)))
}

/// The entry module reads a body declared shorter than this before anything else is checked
/// (then [`fetch_small`] checks it all); from this length on, it asks [`body_limit`] first. Below
/// every source's `max_body_bytes`, so that no more than a source's limit is ever read, and below
/// the bodies whose MACs WebCrypto computes, so that the common small webhook takes one call
/// into wasm. 0 while the settings do not load (every request then gets their 500).
#[wasm_bindgen]
pub fn read_first_below(env: Env) -> f64 {
    let Ok(settings) = settings(&env) else {
        return 0.0;
    };
    let smallest = settings
        .sources
        .values()
        .map(|s| s.max_body_bytes)
        .min()
        .unwrap_or(0);
    // Exact: at most 4 KiB.
    smallest.min(WEBCRYPTO_MIN_BODY_BYTES as u64) as f64
}

/// Before the entry module reads a body of [`read_first_below`] bytes or more: `undefined` when
/// the request may go on (a `POST` to a source whose limit its declared length is within, the
/// runtime then delivering exactly that many bytes), else the answer (a refusal: 404, 405, 413,
/// 500; or the health check).
#[wasm_bindgen]
pub fn body_limit(req: web_sys::Request, env: Env) -> JsValue {
    let check = || {
        let url = req.url();
        let method = req.method();
        Ok(match start(&req, &env, &url, &method)? {
            Start::Answer(answer) => Some(answer),
            Start::Hook(_) => None,
        })
    };
    match check() {
        Ok(Some(answer)) => answer,
        Ok(None) => JsValue::UNDEFINED,
        Err(rejection) => refusal(&req, rejection),
    }
}

/// The synchronous path of a `POST` whose body the entry module has already read (`body`, all of
/// it): everything but the I/O, so that no Rust future, promise or closure is made for the
/// request. It answers with one of
/// - a Response: the request is answered (a refusal, a health check, a handshake);
/// - `[queue, text, options, response]`: the event is accepted once `queue.send(text, options)`
///   has resolved, and only then answered with `response` (the 200); if the send fails, the
///   answer is [`queue_failed`]'s;
/// - `{jobs}`, when the body's MACs are WebCrypto's (a body of 4 KiB or more) and `macs` is `undefined`: the MACs to compute, each `[key id, hash name, raw key,
///   parts]`, the parts Uint8Arrays with `null` where the body goes; then call again with
///   `macs`, an Array of each job's MAC (a Uint8Array, or `null` if WebCrypto failed: the core
///   then computes that one itself);
/// - `undefined`: the request needs the asynchronous path, [`fetch_read`] (an envelope too large
///   for a queue message, whose body goes to R2 first).
#[wasm_bindgen]
pub fn fetch_small(req: web_sys::Request, env: Env, body: Uint8Array, macs: JsValue) -> JsValue {
    let macs = macs.dyn_into::<js_sys::Array>().ok();
    match small(&req, &env, &body, macs.as_ref()) {
        Ok(Some(answer)) => answer,
        Ok(None) => JsValue::UNDEFINED,
        Err(rejection) => refusal(&req, rejection),
    }
}

/// The answer when the queue send of [`fetch_small`]'s event failed (`error`, logged): 503, so
/// that the provider retries; nothing was accepted.
#[wasm_bindgen]
pub fn queue_failed(error: JsValue) -> JsValue {
    worker::console_error!("hookline: queue send failed: {error:?}");
    let rejection = Rejection::QUEUE_UNAVAILABLE;
    json_response(rejection.status, &rejection.body())
}

/// The JSON answer to a refused request.
fn refusal(req: &web_sys::Request, rejection: Rejection) -> JsValue {
    if rejection == Rejection::METHOD_NOT_ALLOWED {
        let url = req.url();
        let allow = route(path_of(&url)).map_or("POST", |r| Rejection::allow(&r));
        return json_response_with(rejection.status, &rejection.body(), "allow", allow);
    }
    json_response(rejection.status, &rejection.body())
}

/// A request with this header makes the test build trap (tests only: the header means nothing to
/// the release build).
#[cfg(feature = "test-clock")]
const TEST_TRAP_HEADER: &str = "x-hookline-test-trap";

/// The path of the runtime's URL (already serialised, WHATWG): from the first `/` after the
/// authority to the query or fragment; as `worker::Request::path` cuts it.
fn path_of(url: &str) -> &str {
    let Some(scheme_end) = url.find("://") else {
        return url;
    };
    let rest = url.get(scheme_end + 3..).unwrap_or_default();
    let Some(slash) = rest.find('/') else {
        return "/";
    };
    let path = rest.get(slash..).unwrap_or_default();
    path.get(..path.find(['?', '#']).unwrap_or(path.len()))
        .unwrap_or_default()
}

/// Where a request goes, decided before its body is read.
enum Start<'u> {
    /// Answered without a body (the health check).
    Answer(JsValue),
    /// A webhook that passed every check made before its body is read.
    Hook(Hook<'u>),
}

/// A webhook request before its body is read: its source is known, its declared length within
/// that source's limit.
struct Hook<'u> {
    settings: Rc<Settings>,
    /// The source's name, present in `settings` ([`start`] looked it up).
    source: &'u str,
    handler: Option<&'u str>,
    headers: CoreHeaders,
    declared: Option<u64>,
}

impl Hook<'_> {
    fn source(&self) -> Result<&ResolvedSource, Rejection> {
        self.settings
            .sources
            .get(self.source)
            .ok_or(Rejection::UNKNOWN_SOURCE)
    }
}

/// What every request checks first, before its body: the route, the method, the settings, the
/// source, and the declared length against the source's limit.
fn start<'u>(
    req: &web_sys::Request,
    env: &Env,
    url: &'u str,
    method: &str,
) -> Result<Start<'u>, Rejection> {
    test_trap(req);
    let target = route(path_of(url))?;
    let Route::Hook { source, handler } = target else {
        return match method {
            "GET" | "HEAD" => match settings(env) {
                Ok(_) => Ok(Start::Answer(json_response(200, HEALTH_BODY))),
                Err(e) => {
                    worker::console_error!("hookline: {e}");
                    Err(Rejection::CONFIGURATION_ERROR)
                }
            },
            _ => Err(Rejection::METHOD_NOT_ALLOWED),
        };
    };
    if method != "POST" {
        return Err(Rejection::METHOD_NOT_ALLOWED);
    }
    let settings = settings(env).map_err(|e| {
        worker::console_error!("hookline: {e}");
        Rejection::CONFIGURATION_ERROR
    })?;
    let limit = settings
        .sources
        .get(source)
        .ok_or(Rejection::UNKNOWN_SOURCE)?
        .max_body_bytes;
    // Read before the body: the declared length comes from them (no separate `get`).
    let headers = request_headers(req);
    let declared = declared_length(&headers, limit)?;
    Ok(Start::Hook(Hook {
        settings,
        source,
        handler,
        headers,
        declared,
    }))
}

/// The request's declared body length; a body over `limit` by it is refused before it is read.
fn declared_length(headers: &CoreHeaders, limit: u64) -> Result<Option<u64>, Rejection> {
    let declared = headers
        .get_all("content-length")
        .next()
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(Rejection::PAYLOAD_TOO_LARGE);
    }
    Ok(declared)
}

/// A body the entry module read, held to `limit`, copied into wasm memory.
fn read_body(body: &Uint8Array, limit: u64) -> Result<Vec<u8>, Rejection> {
    if u64::from(body.length()) > limit {
        return Err(Rejection::PAYLOAD_TOO_LARGE);
    }
    Ok(body.to_vec())
}

/// The test build traps on demand, in the middle of a request as a panic would, so that the
/// workerd suite can check that the instance is made anew before the next request
/// (infra/receiver-entry.mjs).
fn test_trap(req: &web_sys::Request) {
    #[cfg(feature = "test-clock")]
    if req.headers().has(TEST_TRAP_HEADER).unwrap_or(false) {
        core::arch::wasm32::unreachable();
    }
    let _ = req;
}

/// [`fetch_small`]'s work: `Ok(None)` sends the request down the asynchronous path.
fn small(
    req: &web_sys::Request,
    env: &Env,
    body_js: &Uint8Array,
    macs: Option<&js_sys::Array>,
) -> Result<Option<JsValue>, Rejection> {
    let url = req.url();
    let method = req.method();
    let hook = match start(req, env, &url, &method)? {
        Start::Answer(answer) => return Ok(Some(answer)),
        Start::Hook(hook) => hook,
    };
    let (source, headers, handler) = (hook.source()?, &hook.headers, hook.handler);
    let body = read_body(body_js, source.max_body_bytes)?;
    let now = now(env);
    let mut supplied = Vec::new();
    let signed;
    if by_webcrypto(body.len()) {
        signed = signed_url(source.public_url.as_deref(), &url);
        let jobs = mac_jobs(source, &signed, headers, &body, now);
        match macs {
            Some(macs) => supplied = with_macs(jobs, macs),
            None if jobs.is_empty() => {}
            None => return Ok(Some(job_list(&source.name, &jobs))),
        }
    }
    let incoming = Incoming {
        method: "POST",
        url: &url,
        headers,
        body: &body,
        handler,
    };
    match with_supplied_macs(supplied, || receive(source, &incoming, now))? {
        Accepted::Handshake { content_type, body } => Ok(Some(json_response_with(
            200,
            &body,
            "content-type",
            content_type,
        ))),
        // The asynchronous path stores the body in R2 first.
        Accepted::Event(envelope) if needs_claim_check(envelope.encoded_len()) => Ok(None),
        Accepted::Event(envelope) => {
            let queue = queue_binding(env).map_err(|e| {
                worker::console_error!("hookline: queue send failed: {e:?}");
                Rejection::QUEUE_UNAVAILABLE
            })?;
            let text = JsValue::from_str(&envelope.to_json_string());
            let accepted = json_response(200, &ok_body(&envelope.id));
            Ok(Some(TEXT_MESSAGE.with(|options| {
                js_sys::Array::of4(&queue, &text, options, &accepted).into()
            })))
        }
    }
}

/// The MACs `source`'s verifier needs for a `POST` of `body` to `signed` (the URL as the
/// provider signed it) with `headers`, for WebCrypto to compute.
fn mac_jobs<'a>(
    source: &ResolvedSource,
    signed: &'a str,
    headers: &'a CoreHeaders,
    body: &'a [u8],
    now: Timestamp,
) -> Vec<MacJob<'a>> {
    let request = SignedRequest {
        method: "POST",
        url: signed,
        headers,
        body,
    };
    source.verifier.mac_jobs(&request, now)
}

/// `{jobs}`, as [`fetch_small`] hands MAC jobs to the entry module.
fn job_list(source: &str, jobs: &[MacJob<'_>]) -> JsValue {
    let list = js_sys::Array::new();
    for job in jobs {
        let parts = js_sys::Array::new();
        for part in job.parts() {
            parts.push(&match part {
                MacPart::Body => JsValue::NULL,
                MacPart::Bytes(b) => Uint8Array::from(b.as_slice()).into(),
            });
        }
        let id = JsValue::from_str(&format!("{source}\n{}", job.key_index()));
        let key = Uint8Array::from(job.key());
        list.push(&js_sys::Array::of4(
            &id,
            &hash_name(job.algorithm()).into(),
            &key,
            &parts,
        ));
    }
    let out = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&out, &"jobs".into(), &list);
    out.into()
}

/// The jobs with the MACs the entry module computed for them, in the same order. A job without
/// one (WebCrypto failed, or the list is short) is left out: the core then computes that MAC
/// itself, so the outcome is the same either way.
fn with_macs<'a>(jobs: Vec<MacJob<'a>>, macs: &js_sys::Array) -> Vec<SuppliedMac<'a>> {
    jobs.into_iter()
        .zip(macs.iter())
        .filter_map(|(job, mac)| {
            let mac = mac.dyn_into::<Uint8Array>().ok()?;
            job.with_mac(&mac.to_vec())
        })
        .collect()
}

async fn handle(
    req: &web_sys::Request,
    env: &Env,
    pre_read: Option<(Uint8Array, Option<js_sys::Array>)>,
) -> Result<JsValue, Rejection> {
    let url = req.url();
    let method = req.method();
    let hook = match start(req, env, &url, &method)? {
        Start::Answer(answer) => return Ok(answer),
        Start::Hook(hook) => hook,
    };
    let (source, headers, handler) = (hook.source()?, &hook.headers, hook.handler);
    let (limit, declared) = (source.max_body_bytes, hook.declared);
    let (body, body_js, pre_macs) = match pre_read {
        Some((js, macs)) => (read_body(&js, limit)?, Some(js), macs),
        None => {
            let (body, body_js) = read_limited(req, declared, limit).await?;
            (body, body_js, None)
        }
    };

    let now = now(env);
    // Above a size, the body's MACs are computed by the runtime's WebCrypto (native code)
    // rather than in wasm; the scheme logic, the comparison, the replay window and rotation stay
    // in the core, which takes each supplied MAC only for its own key and message.
    let signed;
    let macs = if by_webcrypto(body.len()) {
        signed = signed_url(source.public_url.as_deref(), &url);
        let jobs = mac_jobs(source, &signed, headers, &body, now);
        match &pre_macs {
            Some(macs) => with_macs(jobs, macs),
            None => webcrypto_macs(&source.name, jobs, body_js.as_ref()).await,
        }
    } else {
        Vec::new()
    };
    let incoming = Incoming {
        method: "POST",
        url: &url,
        headers,
        body: &body,
        handler,
    };
    match with_supplied_macs(macs, || receive(source, &incoming, now))? {
        Accepted::Handshake { content_type, body } => {
            Ok(json_response_with(200, &body, "content-type", content_type))
        }
        Accepted::Event(mut envelope) => {
            // Decided on the length, counted without encoding: the envelope is encoded once.
            if needs_claim_check(envelope.encoded_len()) {
                let Some(bucket) = hook.settings.bucket.as_deref() else {
                    worker::console_error!(
                        "hookline: a {} byte body from {} needs the BODIES R2 binding and HOOKLINE_BODIES_BUCKET",
                        body.len(),
                        envelope.source
                    );
                    return Err(Rejection::PAYLOAD_TOO_LARGE);
                };
                // The body's SHA-256 by WebCrypto when the runtime holds the body (R2 checks it
                // against the bytes either way).
                let sha256 = match &body_js {
                    Some(js) => webcrypto_sha256(js).await,
                    None => None,
                };
                let (key, bytes) = match sha256 {
                    Some(sha256) => {
                        claim_check_hashed(&mut envelope, ClaimStore::R2, bucket, sha256)
                    }
                    None => claim_check(&mut envelope, ClaimStore::R2, bucket),
                }
                .ok_or(Rejection::QUEUE_UNAVAILABLE)?;
                let Body::ClaimCheck(check) = &envelope.body else {
                    return Err(Rejection::QUEUE_UNAVAILABLE);
                };
                store_body(env, check, bytes, &envelope)
                    .await
                    .map_err(|e| {
                        worker::console_error!("hookline: R2 put {key} failed: {e}");
                        Rejection::QUEUE_UNAVAILABLE
                    })?;
            }
            enqueue(env, envelope.to_json_string()).await.map_err(|e| {
                worker::console_error!("hookline: queue send failed: {e:?}");
                Rejection::QUEUE_UNAVAILABLE
            })?;
            Ok(json_response(200, &ok_body(&envelope.id)))
        }
    }
}

/// The request's headers, as the runtime holds them (repeated headers already joined with
/// `, `), read in one string: `Array.from(headers).flat().join("\n")`. A name or value can never
/// hold a newline (the runtime refuses one), so the split is exact. Four calls into JavaScript,
/// where iterating `entries()` took five per header.
fn request_headers(req: &web_sys::Request) -> CoreHeaders {
    let joined = String::from(js_sys::Array::from(&req.headers()).flat(1).join("\n"));
    let mut headers = CoreHeaders::new();
    let mut items = joined.split('\n');
    while let (Some(name), Some(value)) = (items.next(), items.next()) {
        headers.push(name, value);
    }
    headers
}

/// The smallest body whose MACs go to WebCrypto: below it, the call into JavaScript and its
/// promise cost about what HMAC in wasm saves. Measured with `receiver_load`'s 401 rows (CPU
/// per request ÷ the WebCrypto floor, same run; 2026-12-07, loaded 2-core machine): HMAC in
/// wasm 1.74x at 16 KiB, 1.86x at 64 KiB, 2.65x at 256 KiB, 2.63x at 1 MiB; by WebCrypto
/// 1.56-1.74x, 1.20-1.71x, 1.22-1.38x, 1.06-1.25x. Even at 16 KiB, so the crossover is at or
/// below it; 1 KiB stays in wasm: with the threshold at 1 KiB, the 1 KiB 401 row was 1.46x the
/// JS peer's CPU where wasm HMAC gave 0.86-1.05x (2026-12-07, same machine, 3000 requests).
#[cfg(not(feature = "test-clock"))]
const WEBCRYPTO_MIN_BODY_BYTES: usize = 4 * 1024;
/// Whether the MACs of a body this long are computed by WebCrypto.
// The test build's threshold is 0 (always), which clippy would call an absurd comparison.
#[allow(clippy::absurd_extreme_comparisons)]
fn by_webcrypto(body_len: usize) -> bool {
    body_len >= WEBCRYPTO_MIN_BODY_BYTES
}

/// The test build sends every MAC through WebCrypto, so that the workerd suite
/// (tests/receiver.rs) replays every signature vector, good and bad, through the supplied-MAC
/// path and holds it to the same answers.
#[cfg(feature = "test-clock")]
const WEBCRYPTO_MIN_BODY_BYTES: usize = 0;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = importKey, catch)]
    fn subtle_import_key(
        format: &str,
        key: &Uint8Array,
        algorithm: &JsValue,
        extractable: bool,
        usages: &js_sys::Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = digest, catch)]
    fn subtle_digest(algorithm: &str, data: &Uint8Array) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = sign, catch)]
    fn subtle_sign(algorithm: &str, key: &JsValue, data: &Uint8Array) -> Result<Promise, JsValue>;

    /// A queue producer binding.
    type QueueBinding;

    #[wasm_bindgen(method, catch)]
    fn send(this: &QueueBinding, message: &JsValue, options: &JsValue) -> Result<Promise, JsValue>;
}

thread_local! {
    /// WebCrypto HMAC keys, imported once per isolate, by source name and key index (a
    /// verifier's keys keep their order; settings only change with a new isolate).
    static CRYPTO_KEYS: RefCell<HashMap<(String, usize), JsValue>> = RefCell::new(HashMap::new());
    /// `{contentType: "text"}`, the queue send's options, made once.
    static TEXT_MESSAGE: JsValue = {
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"contentType".into(), &"text".into());
        options.into()
    };
}

fn hash_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::Sha1 => "SHA-1",
        Algorithm::Sha256 => "SHA-256",
        Algorithm::Sha512 => "SHA-512",
    }
}

async fn crypto_key(source: &str, job: &MacJob<'_>) -> Result<JsValue, JsValue> {
    let id = (source.to_owned(), job.key_index());
    if let Some(key) = CRYPTO_KEYS.with(|k| k.borrow().get(&id).cloned()) {
        return Ok(key);
    }
    let algorithm = js_sys::Object::new();
    js_sys::Reflect::set(&algorithm, &"name".into(), &"HMAC".into())?;
    js_sys::Reflect::set(
        &algorithm,
        &"hash".into(),
        &hash_name(job.algorithm()).into(),
    )?;
    let usages = js_sys::Array::of1(&"sign".into());
    let raw = Uint8Array::from(job.key());
    let key = JsFuture::from(subtle_import_key("raw", &raw, &algorithm, false, &usages)?).await?;
    CRYPTO_KEYS.with(|k| k.borrow_mut().insert(id, key.clone()));
    Ok(key)
}

/// One job's MAC by WebCrypto. The message is put together on the JavaScript side, the body
/// taken from the runtime's own copy when there is one (no copy out of wasm memory):
/// `body_js` is the buffer `read_limited` copied the job's body from, so the same bytes.
async fn webcrypto_mac(
    source: &str,
    job: &MacJob<'_>,
    body_js: Option<&Uint8Array>,
) -> Result<Vec<u8>, JsValue> {
    let key = crypto_key(source, job).await?;
    let body = job.body();
    let whole_body = matches!(job.parts(), [MacPart::Body]);
    let message = match body_js {
        Some(js) if whole_body => js.clone(),
        _ => {
            let len = job.parts().iter().fold(0usize, |n, p| {
                n + match p {
                    MacPart::Body => body.len(),
                    MacPart::Bytes(b) => b.len(),
                }
            });
            let message = Uint8Array::new_with_length(js_len(len)?);
            let mut at = 0usize;
            for part in job.parts() {
                let end = at
                    + match part {
                        MacPart::Body => body.len(),
                        MacPart::Bytes(b) => b.len(),
                    };
                match (part, body_js) {
                    (MacPart::Body, Some(js)) => message.set(js, js_len(at)?),
                    (MacPart::Body, None) => {
                        message.subarray(js_len(at)?, js_len(end)?).copy_from(body)
                    }
                    (MacPart::Bytes(b), _) => {
                        message.subarray(js_len(at)?, js_len(end)?).copy_from(b)
                    }
                }
                at = end;
            }
            message
        }
    };
    let mac = JsFuture::from(subtle_sign("HMAC", &key, &message)?).await?;
    Ok(Uint8Array::new(&mac).to_vec())
}

/// SHA-256 of `data` by WebCrypto; `None` if it fails (the caller then hashes in wasm).
async fn webcrypto_sha256(data: &Uint8Array) -> Option<[u8; 32]> {
    let promise = subtle_digest("SHA-256", data).ok()?;
    let digest = JsFuture::from(promise).await.ok()?;
    Uint8Array::new(&digest).to_vec().try_into().ok()
}

fn js_len(n: usize) -> Result<u32, JsValue> {
    u32::try_from(n).map_err(|_| JsValue::from_str("message too long"))
}

/// The MACs of `jobs` by WebCrypto. A job WebCrypto fails on is left out: the core then
/// computes that MAC itself, so the outcome is the same either way.
async fn webcrypto_macs<'a>(
    source: &str,
    jobs: Vec<MacJob<'a>>,
    body_js: Option<&Uint8Array>,
) -> Vec<SuppliedMac<'a>> {
    let mut out = Vec::with_capacity(jobs.len());
    for job in jobs {
        match webcrypto_mac(source, &job, body_js).await {
            Ok(mac) => out.extend(job.with_mac(&mac)),
            Err(e) => worker::console_error!("hookline: WebCrypto HMAC failed: {e:?}"),
        }
    }
    out
}

/// Reads the body, refusing it as soon as it passes `limit`: a lying or missing
/// `Content-Length` cannot make the Worker buffer more than the limit.
///
/// With a declared length (already checked against `limit`), the runtime delivers exactly that
/// many bytes, so the body is read in one `arrayBuffer()` call: one copy into wasm memory and one
/// await, where the chunked stream costs a promise, a copy and a wake-up per chunk. Without one
/// (chunked transfer), the stream is read chunk by chunk and stopped at the limit.
async fn read_limited(
    req: &web_sys::Request,
    declared: Option<u64>,
    limit: u64,
) -> Result<(Vec<u8>, Option<Uint8Array>), Rejection> {
    if declared.is_some() {
        let promise = req.array_buffer().map_err(|_| Rejection::UNREADABLE_BODY)?;
        let buffer = JsFuture::from(promise)
            .await
            .map_err(|_| Rejection::UNREADABLE_BODY)?;
        let js = Uint8Array::new(&buffer);
        // Belt and braces: never hand on more than the limit, whatever the runtime did.
        if u64::from(js.length()) > limit {
            return Err(Rejection::PAYLOAD_TOO_LARGE);
        }
        return Ok((js.to_vec(), Some(js)));
    }
    // The runtime's Request handle, not `Request.clone()` (which tees the body).
    let mut stream = match Request::from(Clone::clone(req)).stream() {
        Ok(stream) => stream,
        // No body at all.
        Err(_) => return Ok((Vec::new(), None)),
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| Rejection::UNREADABLE_BODY)?;
        if u64::try_from(body.len() + chunk.len()).map_or(true, |n| n > limit) {
            return Err(Rejection::PAYLOAD_TOO_LARGE);
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, None))
}

/// Stores a claim-checked body in R2 under the check's content-addressed key; R2 refuses the
/// upload unless the bytes hash to the check's SHA-256. The object carries nothing that a
/// request chooses (no id, no content type: those travel in the envelope), so a replay that
/// writes the same key again writes the very same object.
async fn store_body(
    env: &Env,
    check: &ClaimCheck,
    bytes: Vec<u8>,
    envelope: &InboundEnvelope,
) -> worker::Result<()> {
    let mut metadata = HashMap::new();
    metadata.insert("hookline-source".to_owned(), envelope.source.clone());
    env.bucket(BUCKET_BINDING)?
        .put(&check.key, bytes)
        .custom_metadata(metadata)
        .sha256(check.sha256.to_vec())
        .execute()
        .await
        .map(|_| ())
}

/// Sends the envelope to the inbound queue as text (what the consumer and the SQS forwarder
/// read), straight through the binding with options made once per isolate: `worker`'s
/// `send_raw` serialised its options with serde on every call.
async fn enqueue(env: &Env, text: String) -> Result<(), JsValue> {
    let queue = queue_binding(env)?;
    let promise = TEXT_MESSAGE.with(|options| queue.send(&JsValue::from_str(&text), options))?;
    JsFuture::from(promise).await.map(|_| ())
}

/// The inbound queue's producer binding.
fn queue_binding(env: &Env) -> Result<QueueBinding, JsValue> {
    Ok(
        js_sys::Reflect::get(env, &JsValue::from_str(QUEUE_BINDING))?
            .dyn_into::<js_sys::Object>()
            .map_err(|_| JsValue::from_str("no INBOUND_QUEUE binding"))?
            .unchecked_into(),
    )
}

// ------------------------------------------------------------------------------------------
// Queue consumer
// ------------------------------------------------------------------------------------------

#[event(queue)]
async fn queue(batch: MessageBatch<JsValue>, env: Env, _ctx: Context) -> worker::Result<()> {
    // Never return an error: the runtime would retry the whole batch, including messages this
    // run already delivered. Each message is acked or retried explicitly instead.
    consume(&batch, &env).await;
    Ok(())
}

async fn consume(batch: &MessageBatch<JsValue>, env: &Env) {
    let messages: Vec<_> = batch.raw_iter().collect();
    let settings = match settings(env) {
        Ok(s) => s,
        Err(e) => {
            worker::console_error!("hookline: consumer cannot start: {e}");
            batch.retry_all_with_options(
                &QueueRetryOptionsBuilder::new()
                    .with_delay_seconds(60)
                    .build(),
            );
            return;
        }
    };
    // Cloudflare acks every message the handler neither acked nor retried: each one is settled
    // explicitly, and whatever is still unsettled at the end is retried.
    let mut settled = vec![false; messages.len()];
    let now_ms = Date::now().as_millis();
    let retry = |index: usize, settled: &mut [bool]| {
        let (Some(m), Some(done)) = (messages.get(index), settled.get_mut(index)) else {
            return;
        };
        let age = Duration::from_millis(now_ms.saturating_sub(m.timestamp().as_millis()));
        m.retry_with_options(
            &QueueRetryOptionsBuilder::new()
                .with_delay_seconds(settings.forward.retry_delay(age))
                .build(),
        );
        *done = true;
    };
    let bodies: Vec<String> = messages
        .iter()
        .map(|m| m.body().as_string().unwrap_or_default())
        .collect();
    let forward = &settings.forward;
    let queue_for = |t: Target| match t {
        Target::Queue => forward.queue.as_ref(),
        Target::Outbound => forward.outbound.as_ref(),
    };
    let plan = plan(&bodies, &settings.sources, |t| {
        queue_for(t).map(|q| q.url.ends_with(".fifo"))
    });
    for (index, hold) in &plan.holds {
        worker::console_error!("hookline: holding message {index}: {hold}");
        retry(*index, &mut settled);
    }
    for (target, entries) in plan.sends {
        // Settings only set a queue together with credentials; without either, hold.
        let (Some(queue), Some(creds)) = (queue_for(target), forward.credentials.as_ref()) else {
            continue;
        };
        for chunk in sqs::chunk(entries, sqs::BatchLimits::default()) {
            let accepted = send_chunk(queue, creds, &chunk).await;
            for entry in &chunk {
                let Some(index) = entry_index(&entry.id) else {
                    continue;
                };
                if accepted.contains(&entry.id) {
                    if let (Some(m), Some(done)) = (messages.get(index), settled.get_mut(index)) {
                        m.ack();
                        *done = true;
                    }
                } else {
                    retry(index, &mut settled);
                }
            }
        }
    }
    for index in 0..messages.len() {
        if settled.get(index) == Some(&false) {
            retry(index, &mut settled);
        }
    }
}

/// How long one `SendMessageBatch` may take before it counts as failed (and is retried).
const SQS_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends one batch; returns the entry ids SQS accepted (none on any transport error).
async fn send_chunk(
    queue: &sqs::Queue,
    creds: &sqs::Credentials,
    entries: &[sqs::Entry],
) -> Vec<String> {
    let unix = Date::now().as_millis() / 1000;
    let request = match sqs::send_message_batch(queue, creds, entries, unix) {
        Ok(r) => r,
        Err(e) => {
            worker::console_error!("hookline: cannot build SendMessageBatch: {e}");
            return Vec::new();
        }
    };
    let call = async {
        let headers = worker::Headers::new();
        for (name, value) in &request.headers {
            headers.set(name, value)?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(
                js_sys::Uint8Array::from(request.body.as_slice()).into(),
            ));
        let req = Request::new_with_init(&request.url, &init)?;
        let mut response = Fetch::Request(req).send().await?;
        let status = response.status_code();
        let body = response.bytes().await?;
        Ok::<_, worker::Error>((status, body))
    };
    let result = match select(Box::pin(call), Box::pin(Delay::from(SQS_TIMEOUT))).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(worker::Error::RustError(format!(
            "no answer within {}s",
            SQS_TIMEOUT.as_secs()
        ))),
    };
    match result {
        Ok((status, body)) => match sqs::parse_send_message_batch(status, &body, entries) {
            Ok(outcome) => {
                for f in &outcome.failed {
                    worker::console_error!(
                        "hookline: SQS refused {}: {} {}",
                        f.id,
                        f.code,
                        f.message
                    );
                }
                outcome.successful
            }
            Err(e) => {
                worker::console_error!("hookline: SendMessageBatch failed: {e}");
                Vec::new()
            }
        },
        Err(e) => {
            worker::console_error!("hookline: SendMessageBatch did not reach SQS: {e}");
            Vec::new()
        }
    }
}
