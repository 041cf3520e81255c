//! What the receiver does with one request, decided without I/O: the routing of
//! `/hooks/{source}[/{handler}]`, verification, validation, provider handshakes and the
//! [`InboundEnvelope`] to enqueue.
//!
//! The Cloudflare Worker and `hookline dev` are thin adapters over this module: they read the
//! body (stopping at [`ResolvedSource::max_body_bytes`]), call [`receive`], then either answer
//! the handshake, or enqueue the envelope durably and only then answer
//! [`ok_body`] with status 200. Every refusal is a [`Rejection`]: a status and a stable JSON
//! error code, never a panic.
//!
//! | status | code | when |
//! |---|---|---|
//! | 404 | `not_found` | the path is not `/hooks/{source}[/{handler}]` or `/healthz` |
//! | 404 | `unknown_source` | no source has that name |
//! | 405 | `method_not_allowed` | not `POST` (not `GET` for `/healthz`) |
//! | 413 | `payload_too_large` | the body is over the source's `max_body_bytes` |
//! | 401 | a [`VerifyError::code`] | missing or bad signature, replayed or stale timestamp |
//! | 400 | `invalid_json` | the body claims to be JSON (`Content-Type`) and does not parse |
//! | 400 | `unreadable_body` | (adapter) the body stream broke off |
//! | 400 | `invalid_handshake` | a handshake the provider would never send (no challenge) |
//! | 503 | `queue_unavailable` | (adapter) the durable enqueue failed: the provider retries |
//! | 500 | `configuration_error` | (adapter) the configuration does not load |

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::ResolvedSource;
use crate::envelope::{
    Body, ClaimCheck, ClaimStore, InboundEnvelope, MAX_CF_QUEUE_MESSAGE_BYTES,
    is_json_content_type, is_valid_event_type, is_valid_message_id,
};
use crate::headers::Headers;
use crate::lazy_json::LazyJson;
use crate::time::Timestamp;
use crate::verify::{Handshake, Request, Verified, VerifyError};

/// A refusal: the HTTP status and the JSON error code of the response body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The HTTP status.
    pub status: u16,
    /// The stable error code, `{"error":"<code>"}`.
    pub code: &'static str,
}

impl Rejection {
    /// 404 `not_found`: a path the receiver does not serve.
    pub const NOT_FOUND: Self = Self::new(404, "not_found");
    /// 404 `unknown_source`: `/hooks/{source}` names no configured source.
    pub const UNKNOWN_SOURCE: Self = Self::new(404, "unknown_source");
    /// 405 `method_not_allowed`.
    pub const METHOD_NOT_ALLOWED: Self = Self::new(405, "method_not_allowed");
    /// 413 `payload_too_large`: the body is over the source's limit.
    pub const PAYLOAD_TOO_LARGE: Self = Self::new(413, "payload_too_large");
    /// 400 `invalid_json`: the body says it is JSON and is not.
    pub const INVALID_JSON: Self = Self::new(400, "invalid_json");
    /// 400 `unreadable_body`: the request body could not be read to its end.
    pub const UNREADABLE_BODY: Self = Self::new(400, "unreadable_body");
    /// 400 `invalid_handshake`: a handshake without the value the provider expects back.
    pub const INVALID_HANDSHAKE: Self = Self::new(400, "invalid_handshake");
    /// 503 `queue_unavailable`: the enqueue failed, nothing was accepted; the provider retries.
    pub const QUEUE_UNAVAILABLE: Self = Self::new(503, "queue_unavailable");
    /// 500 `configuration_error`: the receiver's configuration does not load.
    pub const CONFIGURATION_ERROR: Self = Self::new(500, "configuration_error");

    const fn new(status: u16, code: &'static str) -> Self {
        Self { status, code }
    }

    /// A signature failure: 401 with the verifier's code.
    pub fn unauthorized(error: &VerifyError) -> Self {
        Self::new(401, error.code())
    }

    /// The response body, `{"error":"<code>"}` and a newline (so a terminal prompt does not
    /// run on after it).
    pub fn body(&self) -> String {
        format!("{{\"error\":\"{}\"}}\n", self.code)
    }

    /// The `Allow` header value that goes with a 405 on a path, if any.
    pub fn allow(route: &Route<'_>) -> &'static str {
        match route {
            Route::Health => "GET, HEAD",
            _ => "POST",
        }
    }
}

/// The 200 body of `GET /healthz`: `{"ok":true}` and a newline.
pub const HEALTH_BODY: &str = "{\"ok\":true}\n";

/// The 200 body for an accepted event: `{"ok":true,"id":"<id>"}` and a newline.
pub fn ok_body(id: &str) -> String {
    let mut out = String::from("{\"ok\":true,\"id\":");
    // A string always serialises.
    out.push_str(&serde_json::to_string(id).unwrap_or_default());
    out.push_str("}\n");
    out
}

/// Where a request path leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// `/healthz`.
    Health,
    /// `/hooks/{source}` or `/hooks/{source}/{handler}`.
    Hook {
        /// The source name (not yet looked up).
        source: &'a str,
        /// The handler segment, if any.
        handler: Option<&'a str>,
    },
}

/// Routes a request path (without the query). Names are matched exactly: no percent-decoding,
/// no trailing slash, no empty segment, so one path has one meaning.
pub fn route(path: &str) -> Result<Route<'_>, Rejection> {
    if path == "/healthz" {
        return Ok(Route::Health);
    }
    let rest = path.strip_prefix("/hooks/").ok_or(Rejection::NOT_FOUND)?;
    let mut parts = rest.split('/');
    let source = parts.next().filter(|s| !s.is_empty());
    let handler = parts.next();
    match (source, handler, parts.next()) {
        (Some(source), None, None) => Ok(Route::Hook {
            source,
            handler: None,
        }),
        (Some(source), Some(handler), None) if is_handler_name(handler) => Ok(Route::Hook {
            source,
            handler: Some(handler),
        }),
        _ => Err(Rejection::NOT_FOUND),
    }
}

/// Handlers are free-form labels for consumers: `[A-Za-z0-9._-]{1,63}`.
fn is_handler_name(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// One request as the adapter read it.
#[derive(Clone, Copy, Debug)]
pub struct Incoming<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The full URL as the receiver saw it (used for schemes that sign the URL, unless the
    /// source sets `public_url`).
    pub url: &'a str,
    /// The request headers.
    pub headers: &'a Headers,
    /// The raw body, complete (the adapter refuses over-long bodies before calling).
    pub body: &'a [u8],
    /// The `{handler}` path segment.
    pub handler: Option<&'a str>,
}

/// What to do with a request that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// A provider handshake: answer 200 with this body; nothing is enqueued.
    Handshake {
        /// The response's `Content-Type`.
        content_type: &'static str,
        /// The response body.
        body: String,
    },
    /// A verified event: enqueue it durably, then answer 200 [`ok_body`].
    Event(Box<InboundEnvelope>),
}

/// Checks one request against its source and decides the answer. `now` is the receiver's
/// clock, used for the replay window and `received_at`.
pub fn receive(
    source: &ResolvedSource,
    req: &Incoming<'_>,
    now: Timestamp,
) -> Result<Accepted, Rejection> {
    if req.method != "POST" {
        return Err(Rejection::METHOD_NOT_ALLOWED);
    }
    if u64::try_from(req.body.len()).map_or(true, |n| n > source.max_body_bytes) {
        return Err(Rejection::PAYLOAD_TOO_LARGE);
    }
    let signed_url = signed_url(source.public_url.as_deref(), req.url);
    let verified = source
        .verifier
        .verify(
            &Request {
                method: req.method,
                url: &signed_url,
                headers: req.headers,
                body: req.body,
            },
            now,
        )
        .map_err(|e| Rejection::unauthorized(&e))?;

    // Whether a body is JSON is read from its bytes, which are signed, never from the
    // `Content-Type`, which is not: the same signed bytes get the same id, type, handshake and
    // body encoding whatever content type a replay puts on them. The content type only decides
    // whether a body that is not JSON is refused (it claims to be JSON) or kept as bytes.
    // Validated in one pass that builds nothing; fields are read from it on demand.
    let json = match LazyJson::parse(req.body) {
        Some(json) => Some(json),
        None if req
            .headers
            .get_all("content-type")
            .next()
            .is_some_and(is_json_content_type) =>
        {
            return Err(Rejection::INVALID_JSON);
        }
        None => None,
    };

    if let Some(answer) = handshake(source, json.as_ref())? {
        return Ok(answer);
    }

    let id = event_id(source, req, &verified, json.as_ref());
    let event_type = source
        .event_type
        .as_ref()
        .and_then(|f| f.extract(req.headers, json.as_ref()))
        .filter(|t| is_valid_event_type(t));
    Ok(Accepted::Event(Box::new(InboundEnvelope {
        version: InboundEnvelope::VERSION,
        id,
        source: source.name.clone(),
        handler: req.handler.map(str::to_owned),
        event_type,
        received_at: now,
        headers: forwarded_headers(source, req.headers),
        body: match &json {
            // Already validated: the envelope takes the bytes as they are, without a second pass.
            Some(json) => Body::from_validated_json(req.body, json.raw()),
            None => Body::Base64(req.body.to_vec()),
        },
    })))
}

/// The URL the provider signed: `public_url` when set (with the request's query string when
/// `public_url` has none), otherwise the request's own URL.
pub fn signed_url<'a>(public_url: Option<&'a str>, request_url: &'a str) -> Cow<'a, str> {
    match public_url {
        None => Cow::Borrowed(request_url),
        Some(public) if public.contains('?') => Cow::Borrowed(public),
        Some(public) => match request_url.split_once('?') {
            Some((_, query)) => Cow::Owned(format!("{public}?{query}")),
            None => Cow::Borrowed(public),
        },
    }
}

/// Provider handshakes, answered only after the request verified (a handshake answer made
/// with the secret, such as Zoom's, would otherwise be a signing oracle).
fn handshake(
    source: &ResolvedSource,
    json: Option<&LazyJson<'_>>,
) -> Result<Option<Accepted>, Rejection> {
    let Some(json) = json else {
        return Ok(None);
    };
    let reply = |value: Value| {
        Ok(Some(Accepted::Handshake {
            content_type: "application/json",
            body: value.to_string(),
        }))
    };
    // Each handshake's documentation is linked from its `Handshake` variant.
    match source.verifier.scheme().spec().handshake {
        Some(Handshake::SlackUrlVerification)
            if json.get("type").as_ref().and_then(Value::as_str) == Some("url_verification") =>
        {
            let challenge = json.get("challenge");
            let challenge = challenge
                .as_ref()
                .and_then(Value::as_str)
                .ok_or(Rejection::INVALID_HANDSHAKE)?;
            reply(serde_json::json!({ "challenge": challenge }))
        }
        Some(Handshake::DiscordPing)
            if json.get("type").as_ref().and_then(Value::as_u64) == Some(1) =>
        {
            reply(serde_json::json!({ "type": 1 }))
        }
        Some(Handshake::ZoomUrlValidation)
            if json.get("event").as_ref().and_then(Value::as_str)
                == Some("endpoint.url_validation") =>
        {
            let plain = json.pointer("/payload/plainToken");
            let plain = plain
                .as_ref()
                .and_then(Value::as_str)
                .ok_or(Rejection::INVALID_HANDSHAKE)?;
            let encrypted = source
                .verifier
                .zoom_encrypted_token(plain)
                .ok_or(Rejection::INVALID_HANDSHAKE)?;
            reply(serde_json::json!({ "plainToken": plain, "encryptedToken": encrypted }))
        }
        _ => Ok(None),
    }
}

/// The envelope id: the provider's id read from what it signs (a JSON pointer into the body,
/// or the signed Standard Webhooks `webhook-id`), else a digest of the source and the signed
/// content (Twilio's string to sign, or the body). Nothing unsigned goes into it: not a
/// delivery header, not the `Content-Type`, not the `{handler}` path segment. A provider's
/// retry carries the same id or the same body, and a replay of a captured request the same
/// signed content, so the id is stable across both and consumers can dedupe on it.
fn event_id(
    source: &ResolvedSource,
    req: &Incoming<'_>,
    verified: &Verified<'_>,
    json: Option<&LazyJson<'_>>,
) -> String {
    let provided = source
        .event_id
        .as_ref()
        .and_then(|f| f.extract(req.headers, json))
        .or_else(|| verified.signed_id().map(str::to_owned));
    match provided {
        Some(id) if is_valid_message_id(&id) => id,
        // An id with characters that would be awkward downstream (or over 256 bytes) is
        // replaced by its digest: still stable, still unique.
        Some(id) => format!("h-{}", short_digest(&[id.as_bytes()])),
        // Twilio signs the URL and its form parameters sorted and de-duplicated (requests that
        // differ only in their layout verify alike, so they get one id too); a generic template
        // may sign headers, the method or the URL besides the body. (The `form` tag predates
        // the generic case; kept so that Twilio ids stay what they were.)
        None => match verified.canonical_digest() {
            Some(canonical) => format!(
                "b-{}",
                short_digest(&[source.name.as_bytes(), &[0], b"form", &[0], canonical])
            ),
            None => format!(
                "b-{}",
                short_digest(&[source.name.as_bytes(), &[0], req.body])
            ),
        },
    }
}

/// The first 128 bits of SHA-256 over `parts`, in hex.
pub(crate) fn short_digest(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    let digest = h.finalize();
    let mut out = String::with_capacity(32);
    for b in digest.iter().take(16) {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The allow-listed headers, lower-case, repeated headers joined with `, `; signature headers
/// never, even when listed.
fn forwarded_headers(source: &ResolvedSource, headers: &Headers) -> BTreeMap<String, String> {
    let secret_ones = source.verifier.scheme().kind().signature_headers();
    let mut out = BTreeMap::new();
    for name in &source.forward_headers {
        if secret_ones.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            continue;
        }
        let mut values = headers.get_all(name);
        let Some(first) = values.next() else {
            continue;
        };
        let mut joined = first.to_owned();
        for value in values {
            joined.push_str(", ");
            joined.push_str(value);
        }
        out.insert(name.to_ascii_lowercase(), joined);
    }
    out
}

/// The largest envelope sent to a Cloudflare Queue as is: the queue's limit less room for
/// Cloudflare's own per-message metadata.
pub const MAX_INLINE_ENVELOPE_BYTES: usize = MAX_CF_QUEUE_MESSAGE_BYTES - 1_000;

/// Whether an envelope whose JSON is `encoded_len` bytes must carry its body by claim check.
pub fn needs_claim_check(encoded_len: usize) -> bool {
    encoded_len > MAX_INLINE_ENVELOPE_BYTES
}

/// Replaces the envelope's inline body by a claim check for an object stored in
/// `store`/`bucket`; returns the key and the body bytes to store there. Call it only on an
/// envelope whose body is inline (as [`receive`] makes them): a body already claim-checked is
/// returned unchanged, with `None`.
///
/// The key is `{source}/{yyyy-mm-dd}/{sha256 of the body}`: content-addressed, so keys sort by
/// source and day, and a write to a key can only ever store the bytes that hash to it. A
/// replayed request, whatever id or headers it carries, cannot replace a stored body (R2 also
/// refuses an upload whose bytes do not match the SHA-256 it is given).
pub fn claim_check(
    envelope: &mut InboundEnvelope,
    store: ClaimStore,
    bucket: &str,
) -> Option<(String, Vec<u8>)> {
    let sha256: [u8; 32] = Sha256::digest(envelope.body.as_bytes()?).into();
    claim_check_hashed(envelope, store, bucket, sha256)
}

/// [`claim_check`] with the SHA-256 of the body's bytes computed by the caller (the Worker
/// hashes with WebCrypto). The key and the check are made from `sha256`; the store refuses an
/// upload whose bytes do not hash to it (R2's `sha256` option), so a wrong one fails the
/// request rather than storing a body under another body's key.
pub fn claim_check_hashed(
    envelope: &mut InboundEnvelope,
    store: ClaimStore,
    bucket: &str,
    sha256: [u8; 32],
) -> Option<(String, Vec<u8>)> {
    let bytes = envelope.body.decoded_bytes()?;
    let day = envelope
        .received_at
        .to_rfc3339()
        .get(..10)
        .unwrap_or("unknown")
        .to_owned();
    let mut check = ClaimCheck {
        store,
        bucket: bucket.to_owned(),
        key: String::new(),
        size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
        sha256,
        content_type: envelope.headers.get("content-type").cloned(),
    };
    check.key = format!("{}/{day}/{}", envelope.source, check.sha256_hex());
    let key = check.key.clone();
    envelope.body = Body::ClaimCheck(check);
    Some((key, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::secret::Secret;
    use crate::verify::{Scheme, SchemeKind, Signer, twilio_body_sha256_hex};

    const NOW: Timestamp = Timestamp::from_unix_secs(1_795_435_200);
    const STRIPE_SECRET: &str = "whsec_test_secret";

    fn sources(toml: &str) -> BTreeMap<String, ResolvedSource> {
        let config = Config::from_toml(toml).unwrap();
        config.validate().unwrap();
        config.resolve_sources(|_| None).unwrap()
    }

    fn stripe() -> ResolvedSource {
        sources(&format!(
            "[sources.stripe]\nscheme = \"stripe\"\nsecrets = [\"literal:{STRIPE_SECRET}\"]\nmax_body_bytes = 4096\n"
        ))
        .remove("stripe")
        .unwrap()
    }

    fn signed(
        scheme: impl Into<Scheme>,
        secret: &str,
        url: &str,
        headers: Headers,
        body: &[u8],
        at: Timestamp,
    ) -> Headers {
        let req = Request::post(url, &headers, body);
        Signer::new(
            scheme,
            vec![Secret::new(secret.as_bytes().to_vec()).unwrap()],
        )
        .unwrap()
        .signed_headers(&req, "msg_1", at)
        .unwrap()
    }

    /// `json_headers()` signed as Stripe would with [`STRIPE_SECRET`].
    fn stripe_signed(body: &[u8], at: Timestamp) -> Headers {
        signed(
            SchemeKind::Stripe,
            STRIPE_SECRET,
            URL,
            json_headers(),
            body,
            at,
        )
    }

    fn json_headers() -> Headers {
        let mut h = Headers::new();
        h.push("Content-Type", "application/json; charset=utf-8");
        h.push("User-Agent", "Stripe/1.0");
        h.push("X-Not-Forwarded", "1");
        h
    }

    const URL: &str = "https://hooks.example.com/hooks/stripe";
    const STRIPE_BODY: &[u8] = br#"{"id":"evt_123","type":"invoice.paid","data":{}}"#;

    fn call(
        source: &ResolvedSource,
        headers: &Headers,
        body: &[u8],
    ) -> Result<Accepted, Rejection> {
        post(source, URL, headers, body, Some("billing"), NOW)
    }
    /// `receive` for a POST of `body` to `url`.
    fn post(
        source: &ResolvedSource,
        url: &str,
        headers: &Headers,
        body: &[u8],
        handler: Option<&str>,
        at: Timestamp,
    ) -> Result<Accepted, Rejection> {
        receive(
            source,
            &Incoming {
                method: "POST",
                url,
                headers,
                body,
                handler,
            },
            at,
        )
    }

    fn event(a: Result<Accepted, Rejection>) -> InboundEnvelope {
        match a {
            Ok(Accepted::Event(e)) => *e,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    #[test]
    fn routes() {
        assert_eq!(route("/healthz"), Ok(Route::Health));
        assert_eq!(
            route("/hooks/stripe"),
            Ok(Route::Hook {
                source: "stripe",
                handler: None
            })
        );
        assert_eq!(
            route("/hooks/stripe/Billing_v2.x-1"),
            Ok(Route::Hook {
                source: "stripe",
                handler: Some("Billing_v2.x-1")
            })
        );
        for bad in [
            "/",
            "/hooks",
            "/hooks/",
            "/hooks//x",
            "/hooks/stripe/",
            "/hooks/stripe/a/b",
            "/hooks/stripe/a%20b",
            "/hooks/stripe/a b",
            "/healthz/",
            "/HOOKS/stripe",
            "/other/stripe",
        ] {
            assert_eq!(route(bad), Err(Rejection::NOT_FOUND), "{bad}");
        }
        let long = format!("/hooks/s/{}", "a".repeat(64));
        assert_eq!(route(&long), Err(Rejection::NOT_FOUND));
    }

    #[test]
    fn a_signed_stripe_event_becomes_an_envelope() {
        let source = stripe();
        let headers = stripe_signed(STRIPE_BODY, NOW);
        let env = event(call(&source, &headers, STRIPE_BODY));
        assert_eq!(env.id, "evt_123");
        assert_eq!(env.source, "stripe");
        assert_eq!(env.handler.as_deref(), Some("billing"));
        assert_eq!(env.event_type.as_deref(), Some("invoice.paid"));
        assert_eq!(env.received_at, NOW);
        assert_eq!(
            env.headers.keys().collect::<Vec<_>>(),
            ["content-type", "user-agent"],
            "only allow-listed headers, never the signature"
        );
        assert_eq!(env.body.as_bytes(), Some(STRIPE_BODY));
        assert_eq!(env.body.encoding(), "json");
        // The envelope round-trips through its own decoder.
        assert_eq!(InboundEnvelope::from_json(&env.to_json()).unwrap(), env);
    }

    #[test]
    fn refusals_carry_status_and_code() {
        let source = stripe();
        let good = stripe_signed(STRIPE_BODY, NOW);

        let get = receive(
            &source,
            &Incoming {
                method: "GET",
                url: URL,
                headers: &good,
                body: b"",
                handler: None,
            },
            NOW,
        );
        assert_eq!(get, Err(Rejection::METHOD_NOT_ALLOWED));

        let big = vec![b' '; 4097];
        let big_headers = stripe_signed(&big, NOW);
        assert_eq!(
            call(&source, &big_headers, &big),
            Err(Rejection::PAYLOAD_TOO_LARGE)
        );

        let tampered = br#"{"id":"evt_123","type":"invoice.paid","data":{"x":1}}"#;
        let r = call(&source, &good, tampered).unwrap_err();
        assert_eq!((r.status, r.code), (401, "signature_mismatch"));

        let wrong = signed(
            SchemeKind::Stripe,
            "whsec_other",
            URL,
            json_headers(),
            STRIPE_BODY,
            NOW,
        );
        assert_eq!(
            call(&source, &wrong, STRIPE_BODY).unwrap_err().code,
            "signature_mismatch"
        );

        let stale_at = NOW.saturating_sub(std::time::Duration::from_secs(301));
        let stale = stripe_signed(STRIPE_BODY, stale_at);
        let r = call(&source, &stale, STRIPE_BODY).unwrap_err();
        assert_eq!((r.status, r.code), (401, "timestamp_too_old"));

        let r = call(&source, &json_headers(), STRIPE_BODY).unwrap_err();
        assert_eq!((r.status, r.code), (401, "missing_header"));
        assert_eq!(r.body(), "{\"error\":\"missing_header\"}\n");

        // Signed, but not the JSON it claims to be: 400, checked only after the signature.
        let not_json = b"{\"id\": ";
        let h = stripe_signed(not_json, NOW);
        assert_eq!(call(&source, &h, not_json), Err(Rejection::INVALID_JSON));
        assert_eq!(
            call(&source, &json_headers(), not_json).unwrap_err().status,
            401
        );
    }

    #[test]
    fn replays_under_a_fresh_unsigned_id_or_a_reordered_form_keep_their_id() {
        // Shopify signs the body only: its X-Shopify-Webhook-Id can be anything on a replay.
        let shop =
            sources("[sources.shop]\nscheme = \"shopify\"\nsecrets = [\"literal:s3cret\"]\n")
                .remove("shop")
                .unwrap();
        let body = br#"{"id":820982911946154508,"email":"jon@example.com"}"#;
        let with_id = |id: &str| {
            let mut h = json_headers();
            h.push("X-Shopify-Webhook-Id", id);
            h.push("X-Shopify-Topic", "orders/create");
            signed(SchemeKind::Shopify, "s3cret", URL, h, body, NOW)
        };
        let original = event(call(
            &shop,
            &with_id("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"),
            body,
        ));
        let replay = event(call(&shop, &with_id("00000000-replayed"), body));
        assert_eq!(original.id, replay.id);
        assert!(original.id.starts_with("b-"), "{}", original.id);
        assert_eq!(
            original.headers["x-shopify-webhook-id"],
            "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
        );

        // Twilio signs the URL and its form parameters sorted, joined without separators:
        // whatever verifies under the same signature gets the same id (reordered, repeated, a
        // name/value boundary moved, an empty pair added); other parameters get another.
        let twilio = sources("[sources.tw]\nscheme = \"twilio\"\nsecrets = [\"literal:12345\"]\n")
            .remove("tw")
            .unwrap();
        let form = || {
            let mut h = Headers::new();
            h.push("Content-Type", "application/x-www-form-urlencoded");
            h
        };
        let a = b"CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675310";
        let b = b"From=%2B14158675310&CallSid=CA1234567890ABCDE&Digits=1234&Digits=1234";
        let signed_a = signed(SchemeKind::Twilio, "12345", URL, form(), a, NOW);
        let sig = signed_a
            .get_all("x-twilio-signature")
            .next()
            .unwrap()
            .to_owned();
        let mut signed_b = form();
        signed_b.push("X-Twilio-Signature", sig.clone());
        let first = event(call(&twilio, &signed_a, a));
        let reordered = event(call(&twilio, &signed_b, b));
        assert_eq!(first.id, reordered.id);
        for same in [
            &b"CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675310&="[..],
            b"CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675310&&",
            // `CallSid`+`CA12...` signs as `CallSidC`+`A12...`: same bytes, same order.
            b"CallSidC=A1234567890ABCDE&Digits=1234&From=%2B14158675310",
        ] {
            let mut h = form();
            h.push("X-Twilio-Signature", sig.clone());
            assert_eq!(
                event(call(&twilio, &h, same)).id,
                first.id,
                "{}",
                String::from_utf8_lossy(same)
            );
        }
        let c = b"CallSid=CA1234567890ABCDE&Digits=9999&From=%2B14158675310";
        let signed_c = signed(SchemeKind::Twilio, "12345", URL, form(), c, NOW);
        assert_ne!(event(call(&twilio, &signed_c, c)).id, first.id);
        // Empty forms sent to two signed URLs are two events.
        let empty = |url: &str| {
            let h = signed(SchemeKind::Twilio, "12345", url, form(), b"", NOW);
            event(post(&twilio, url, &h, b"", None, NOW)).id
        };
        assert_ne!(empty(URL), empty(&format!("{URL}?CallStatus=completed")));
        assert_eq!(
            empty(URL),
            empty("https://hooks.example.com:443/hooks/stripe")
        );
    }

    /// One source of each scheme with a body that provider would send, the secret to sign with
    /// and the headers the provider adds besides its signature.
    /// A source, the secret its provider signs with, the provider's other headers, a body.
    type SchemeCase = (
        ResolvedSource,
        String,
        Vec<(&'static str, &'static str)>,
        Vec<u8>,
    );

    fn every_scheme() -> Vec<SchemeCase> {
        let discord_seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
        let discord_public = ed25519_dalek::SigningKey::from_bytes(&[
            0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec,
            0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03,
            0x1c, 0xae, 0x7f, 0x60,
        ])
        .verifying_key()
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
        let linear_body = format!(
            r#"{{"action":"create","type":"Issue","data":{{"id":"i1"}},"webhookTimestamp":{}}}"#,
            NOW.unix_millis()
        );
        let one = |scheme: &str, verify_secret: &str, extra: &str| {
            sources(&format!(
                "[sources.s]\nscheme = \"{scheme}\"\nsecrets = [\"literal:{verify_secret}\"]\n{extra}"
            ))
            .remove("s")
            .unwrap()
        };
        let sw = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        vec![
            (
                one("standard-webhooks", sw, ""),
                sw.to_owned(),
                vec![],
                br#"{"type":"user.created"}"#.to_vec(),
            ),
            (
                one("stripe", "k", ""),
                "k".to_owned(),
                vec![],
                STRIPE_BODY.to_vec(),
            ),
            (
                one("github", "k", ""),
                "k".to_owned(),
                vec![("X-GitHub-Event", "push")],
                br#"{"ref":"refs/heads/main"}"#.to_vec(),
            ),
            (
                one("slack", "k", ""),
                "k".to_owned(),
                vec![],
                br#"{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}"#
                    .to_vec(),
            ),
            (
                one("shopify", "k", ""),
                "k".to_owned(),
                vec![("X-Shopify-Topic", "orders/create")],
                br#"{"id":820982911946154508}"#.to_vec(),
            ),
            (
                one("paddle", "k", ""),
                "k".to_owned(),
                vec![],
                br#"{"event_id":"evt_01","event_type":"transaction.completed"}"#.to_vec(),
            ),
            (
                one("zendesk", "k", ""),
                "k".to_owned(),
                vec![],
                br#"{"id":"zd_1","type":"ticket.created"}"#.to_vec(),
            ),
            (
                one("linear", "k", ""),
                "k".to_owned(),
                vec![("Linear-Event", "Issue")],
                linear_body.into_bytes(),
            ),
            (
                one("intercom", "k", ""),
                "k".to_owned(),
                vec![],
                br#"{"id":"notif_1","topic":"conversation.user.created"}"#.to_vec(),
            ),
            (
                one("discord", &discord_public, ""),
                discord_seed.to_owned(),
                vec![],
                br#"{"id":"112233","type":"2"}"#.to_vec(),
            ),
            (
                one("zoom", "k", ""),
                "k".to_owned(),
                vec![],
                br#"{"event":"meeting.started","payload":{}}"#.to_vec(),
            ),
            (
                one(
                    "generic",
                    "k",
                    "event_type = { pointer = \"/event\" }\n[sources.s.generic]\nheader = \"X-Sig\"\nsigned_content = \"{timestamp}.{body}\"\ntimestamp_header = \"X-Ts\"\n",
                ),
                "k".to_owned(),
                vec![],
                br#"{"event":"thing.happened"}"#.to_vec(),
            ),
        ]
    }

    fn sign_for(
        source: &ResolvedSource,
        secret: &str,
        content_type: Option<&str>,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> Headers {
        let mut h = Headers::new();
        if let Some(ct) = content_type {
            h.push("Content-Type", ct);
        }
        for (name, value) in extra {
            h.push(*name, *value);
        }
        signed(source.verifier.scheme().clone(), secret, URL, h, body, NOW)
    }

    #[test]
    fn content_type_changes_nothing_about_an_events_identity() {
        // The same signed bytes under every content type a replay could put on them: the id,
        // the type and the body are those of the provider's own request, scheme by scheme.
        let content_types = [
            None,
            Some("text/plain"),
            Some("application/jsonx"),
            Some("application/octet-stream"),
            Some("application/x-www-form-urlencoded"),
            Some("APPLICATION/JSON ; charset=utf-8"),
            Some("application/vnd.api+json"),
        ];
        for (source, secret, extra, body) in every_scheme() {
            let scheme = source.verifier.scheme().kind();
            let as_sent = event(call(
                &source,
                &sign_for(&source, &secret, Some("application/json"), &extra, &body),
                &body,
            ));
            // GitHub and Shopify sign no type (only unsigned headers carry it): none is read.
            let signs_a_type = !matches!(scheme, SchemeKind::Github | SchemeKind::Shopify);
            assert_eq!(
                as_sent.event_type.is_some(),
                signs_a_type,
                "{scheme}: the provider's type is read only when signed"
            );
            assert_eq!(as_sent.body.encoding(), "json", "{scheme}");
            // Nor does the unsigned `{handler}` path segment.
            let headers = sign_for(&source, &secret, Some("application/json"), &extra, &body);
            for handler in [None, Some("other")] {
                let elsewhere = event(post(&source, URL, &headers, &body, handler, NOW));
                assert_eq!(elsewhere.id, as_sent.id, "{scheme} via {handler:?}");
            }
            for ct in content_types {
                let replay = event(call(
                    &source,
                    &sign_for(&source, &secret, ct, &extra, &body),
                    &body,
                ));
                assert_eq!(
                    (&replay.id, &replay.event_type, &replay.body),
                    (&as_sent.id, &as_sent.event_type, &as_sent.body),
                    "{scheme} under {ct:?}"
                );
            }
        }
    }

    #[test]
    fn handshakes_do_not_depend_on_the_content_type() {
        // A Slack url_verification sent as text/plain is the same signed handshake: answered,
        // never queued as an event.
        let slack = sources("[sources.slack]\nscheme = \"slack\"\nsecrets = [\"literal:k\"]\n")
            .remove("slack")
            .unwrap();
        let body = br#"{"token":"t","challenge":"c-123","type":"url_verification"}"#;
        for ct in [Some("application/json"), Some("text/plain"), None] {
            let h = sign_for(&slack, "k", ct, &[], body);
            assert_eq!(
                call(&slack, &h, body),
                Ok(Accepted::Handshake {
                    content_type: "application/json",
                    body: r#"{"challenge":"c-123"}"#.to_owned()
                }),
                "{ct:?}"
            );
        }
        // A body that claims to be JSON must be: the claim is refused, not ignored.
        let h = sign_for(&slack, "k", Some("application/json"), &[], b"a=1");
        assert_eq!(call(&slack, &h, b"a=1"), Err(Rejection::INVALID_JSON));
        let h = sign_for(&slack, "k", Some("text/plain"), &[], b"a=1");
        assert_eq!(event(call(&slack, &h, b"a=1")).body.encoding(), "base64");
    }

    #[test]
    fn standard_webhooks_ids_with_a_dot_are_refused() {
        // `{id}.{timestamp}.{body}`: an id holding the separator could be re-split.
        let sw = sources("[sources.sw]\nscheme = \"standard-webhooks\"\nsecrets = [\"literal:whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]\n")
            .remove("sw")
            .unwrap();
        let key = || vec![Secret::new(b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_vec()).unwrap()];
        let body = br#"{"type":"a.b"}"#;
        let none = Headers::new();
        let req = Request::post(URL, &none, body);
        let signer = Signer::new(SchemeKind::StandardWebhooks, key()).unwrap();
        for id in ["msg.1", "stripe.evt_1", ".", "a.", ".a", ""] {
            assert!(
                matches!(
                    signer.sign(&req, id, NOW),
                    Err(crate::verify::SignError::InvalidId)
                ),
                "signing {id:?}"
            );
        }
        // Sign `msg` with a body that starts `1.` and present it as id `msg.<ts>.1`... any
        // split: the verifier refuses an id with a dot before it looks at the signature.
        let good: Headers = signer.sign(&req, "msg", NOW).unwrap().into_iter().collect();
        let sig = good.get_all("webhook-signature").next().unwrap().to_owned();
        for (prefix, id) in [
            ("webhook", "msg.1"),
            ("svix", "msg.1"),
            ("webhook", "a.b.c"),
        ] {
            let mut h = Headers::new();
            h.push(format!("{prefix}-id"), id);
            h.push(format!("{prefix}-timestamp"), NOW.unix_secs().to_string());
            h.push(format!("{prefix}-signature"), sig.clone());
            let r = call(&sw, &h, body).unwrap_err();
            assert_eq!(
                (r.status, r.code),
                (401, "malformed_header"),
                "{prefix} {id}"
            );
        }
        assert!(event(call(&sw, &good, body)).id == "msg");
    }

    #[test]
    fn twilio_ids_cover_exactly_what_twilio_signs() {
        let twilio = sources("[sources.tw]\nscheme = \"twilio\"\nsecrets = [\"literal:12345\"]\n")
            .remove("tw")
            .unwrap();
        let at = |url: &str, content_type: Option<&str>, body: &[u8], sig_body: &[u8]| {
            let mut h = Headers::new();
            if let Some(ct) = content_type {
                h.push("Content-Type", ct);
            }
            // The signature is made over `sig_body` (a form) and sent with `body`.
            let mut form = Headers::new();
            form.push("Content-Type", "application/x-www-form-urlencoded");
            let sig = signed(SchemeKind::Twilio, "12345", url, form, sig_body, NOW);
            h.push(
                "X-Twilio-Signature",
                sig.get_all("x-twilio-signature").next().unwrap(),
            );
            post(&twilio, url, &h, body, None, NOW)
        };
        let form = Some("application/x-www-form-urlencoded");
        // Parameters only in the query string, empty body: two signed URLs are two events,
        // with a form content type or without one.
        let status = format!("{URL}?CallSid=CA1&CallStatus=completed");
        let ringing = format!("{URL}?CallSid=CA1&CallStatus=ringing");
        let id = |url: &str, ct| event(at(url, ct, b"", b"")).id;
        assert_ne!(id(&status, None), id(&ringing, None));
        assert_ne!(id(&status, form), id(&ringing, form));
        assert_eq!(id(&status, None), id(&status, form));
        assert_eq!(id(&status, Some("text/plain")), id(&status, form));
        // A JSON body signed through bodySHA256 (in the signed URL): the id follows the body,
        // whatever the content type.
        let json = br#"{"a":1}"#;
        let other = br#"{"a":2}"#;
        let url_for = |body: &[u8]| format!("{URL}?bodySHA256={}", twilio_body_sha256_hex(body));
        let json_id = |body: &[u8], ct| event(at(&url_for(body), ct, body, b"")).id;
        assert_ne!(
            json_id(json, Some("application/json")),
            json_id(other, Some("application/json"))
        );
        assert_eq!(json_id(json, Some("application/json")), json_id(json, None));
        // Lenient form decoding would let bytes that mean something else verify under the
        // same signature: `%FF` and `%FE` both decode to U+FFFD, `%ZZ` to itself.
        for (sent, signed_as) in [
            (&b"Body=%FF"[..], &b"Body=%EF%BF%BD"[..]),
            (b"Body=%FE&To=1", b"Body=%EF%BF%BD&To=1"),
            (b"Body=%ZZ", b"Body=%25ZZ"),
            (b"Body=100%", b"Body=100%25"),
            (b"Body=%4", b"Body=%254"),
            (b"Na%FFme=x", b"Na%EF%BF%BDme=x"),
        ] {
            let r = at(URL, form, sent, signed_as).unwrap_err();
            assert_eq!(
                (r.status, r.code),
                (401, "malformed_form"),
                "{}",
                String::from_utf8_lossy(sent)
            );
            // The strictly encoded body itself verifies.
            assert!(at(URL, form, signed_as, signed_as).is_ok());
        }
    }

    #[test]
    fn generic_ids_cover_every_signed_header_and_no_timestamp() {
        // Two requests with one body but a different signed header are two events: one id would
        // let consumers' dedup drop the second. A retry re-stamped with a new timestamp is the
        // same event.
        let g = sources(
            "[sources.g]\nscheme = \"generic\"\nsecrets = [\"literal:k\"]\n[sources.g.generic]\nheader = \"X-Sig\"\nsigned_content = \"{timestamp}|{header:X-Event}\\n{body}\"\ntimestamp_header = \"X-Ts\"\n",
        )
        .remove("g")
        .unwrap();
        let body = br#"{"amount":100}"#;
        let id = |event: &str, at: Timestamp| {
            let mut h = Headers::new();
            h.push("X-Event", event);
            let h = signed(g.verifier.scheme().clone(), "k", URL, h, body, at);
            event_at(&g, &h, body, at).id
        };
        let later = NOW.saturating_add(std::time::Duration::from_secs(30));
        assert_ne!(id("charge", NOW), id("refund", NOW));
        assert_eq!(id("charge", NOW), id("charge", later));
        assert!(id("charge", NOW).starts_with("b-"));
        // Without a signed header the id stays the body's digest, as before.
        let (plain, secret, extra, body) = every_scheme().pop().unwrap();
        let h = sign_for(&plain, &secret, None, &extra, &body);
        assert_eq!(
            event(call(&plain, &h, &body)).id,
            format!("b-{}", short_digest(&[plain.name.as_bytes(), &[0], &body]))
        );
    }

    fn event_at(
        source: &ResolvedSource,
        headers: &Headers,
        body: &[u8],
        at: Timestamp,
    ) -> InboundEnvelope {
        event(post(source, URL, headers, body, None, at))
    }

    #[test]
    fn unsigned_headers_cannot_name_the_id_or_the_type() {
        let refused = |toml: &str, field: &str| {
            let errors = Config::from_toml(toml)
                .and_then(|c| c.validate())
                .unwrap_err()
                .to_string();
            assert!(errors.contains(field), "{errors}");
        };
        // A relabelled replay of a captured Shopify `orders/create` as `orders/paid` would reach
        // endpoints subscribed to payments only.
        refused(
            "[sources.s]\nscheme = \"shopify\"\nsecrets = [\"literal:k\"]\nevent_type = { header = \"X-Shopify-Topic\" }\n",
            "sources.s.event_type",
        );
        refused(
            "[sources.s]\nscheme = \"github\"\nsecrets = [\"literal:k\"]\nevent_type = { header = \"X-GitHub-Event\" }\n",
            "sources.s.event_type",
        );
        // Standard Webhooks signs one family of headers per request (`webhook-*`, else
        // `svix-*`): naming either as the id would let the other, unsigned one in.
        for h in ["svix-id", "webhook-id"] {
            refused(
                &format!(
                    "[sources.s]\nscheme = \"standard-webhooks\"\nsecrets = [\"literal:whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]\nevent_id = {{ header = \"{h}\" }}\n"
                ),
                "sources.s.event_id",
            );
        }
        // A header the generic scheme signs may name the type.
        let g = sources(
            "[sources.g]\nscheme = \"generic\"\nsecrets = [\"literal:k\"]\nevent_type = { header = \"X-Event\" }\n[sources.g.generic]\nheader = \"X-Sig\"\nsigned_content = \"{header:X-Event}\\n{body}\"\n",
        )
        .remove("g")
        .unwrap();
        let mut h = Headers::new();
        h.push("X-Event", "charge.created");
        let h = signed(g.verifier.scheme().clone(), "k", URL, h, b"{}", NOW);
        assert_eq!(
            event(call(&g, &h, b"{}")).event_type.as_deref(),
            Some("charge.created")
        );
    }

    #[test]
    fn ids_are_stable_per_delivery() {
        let github = sources("[sources.gh]\nscheme = \"github\"\nsecrets = [\"literal:s3cret\"]\n")
            .remove("gh")
            .unwrap();
        let body = br#"{"zen":"Keep it logically awesome."}"#;
        let mut h = json_headers();
        h.push("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958");
        h.push("X-GitHub-Event", "ping");
        let h = signed(SchemeKind::Github, "s3cret", URL, h, body, NOW);
        let env = event(call(&github, &h, body));
        // GitHub does not sign its delivery id: the id derives from source and signed body.
        assert!(env.id.starts_with("b-") && env.id.len() == 34, "{}", env.id);
        // Nor its event: `X-GitHub-Event` is forwarded as the unsigned header it is, and is not
        // the envelope's type.
        assert_eq!(env.event_type, None);
        assert_eq!(env.headers["x-github-event"], "ping");
        assert_eq!(
            env.headers["x-github-delivery"],
            "72d3162e-cc78-11e3-81ab-4c9367dc0958"
        );

        // A captured request replayed under a fresh delivery id keeps its envelope id (so
        // consumers' dedup catches it), and so does a retry without the header.
        let mut replay = json_headers();
        replay.push("X-GitHub-Delivery", "00000000-0000-0000-0000-000000000000");
        replay.push("X-GitHub-Event", "ping");
        let replay = signed(SchemeKind::Github, "s3cret", URL, replay, body, NOW);
        assert_eq!(event(call(&github, &replay, body)).id, env.id);
        let bare = signed(SchemeKind::Github, "s3cret", URL, json_headers(), body, NOW);
        let first = event(call(&github, &bare, body)).id;
        let retry = event(call(&github, &bare, body)).id;
        assert_eq!(first, retry);
        assert_eq!(first, env.id);
        let other = br#"{"zen":"Design for failure."}"#;
        let h2 = signed(
            SchemeKind::Github,
            "s3cret",
            URL,
            json_headers(),
            other,
            NOW,
        );
        assert_ne!(event(call(&github, &h2, other)).id, first);

        // An unsigned delivery header cannot be made the id: configuration refuses it.
        let refused = Config::from_toml(
            "[sources.gh]\nscheme = \"github\"\nsecrets = [\"literal:s3cret\"]\nevent_id = { header = \"X-GitHub-Delivery\" }\n",
        )
        .and_then(|c| c.validate())
        .unwrap_err();
        assert!(
            refused.to_string().contains("sources.gh.event_id"),
            "{refused}"
        );
        // A header the generic scheme signs can be; one with characters unsafe downstream is
        // replaced by its digest.
        let by_header = sources(
            "[sources.g]\nscheme = \"generic\"\nsecrets = [\"literal:k\"]\nevent_id = { header = \"X-Delivery\" }\n[sources.g.generic]\nheader = \"X-Sig\"\nsigned_content = \"{header:X-Delivery}\\n{body}\"\n",
        )
        .remove("g")
        .unwrap();
        let with_delivery = |delivery: &str| {
            let mut h = Headers::new();
            h.push("X-Delivery", delivery);
            signed(by_header.verifier.scheme().clone(), "k", URL, h, body, NOW)
        };
        assert_eq!(
            event(call(&by_header, &with_delivery("dlv_1"), body)).id,
            "dlv_1"
        );
        let id = event(call(&by_header, &with_delivery("a/b c"), body)).id;
        assert!(id.starts_with("h-") && is_valid_message_id(&id), "{id}");

        // Standard Webhooks: the signed webhook-id.
        let sw = sources("[sources.sw]\nscheme = \"standard-webhooks\"\nsecrets = [\"literal:whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]\n")
            .remove("sw")
            .unwrap();
        let h = signed(
            SchemeKind::StandardWebhooks,
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            URL,
            json_headers(),
            br#"{"type":"user.created"}"#,
            NOW,
        );
        let env = event(call(&sw, &h, br#"{"type":"user.created"}"#));
        assert_eq!(env.id, "msg_1");
        assert_eq!(env.event_type.as_deref(), Some("user.created"));
    }

    #[test]
    fn slack_url_verification_is_answered_only_when_signed() {
        let slack = sources("[sources.slack]\nscheme = \"slack\"\nsecrets = [\"literal:8f742231b10e8888abcd99yyyzzz85a5\"]\n")
            .remove("slack")
            .unwrap();
        let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
        let h = signed(
            SchemeKind::Slack,
            "8f742231b10e8888abcd99yyyzzz85a5",
            URL,
            json_headers(),
            body,
            NOW,
        );
        assert_eq!(
            call(&slack, &h, body),
            Ok(Accepted::Handshake {
                content_type: "application/json",
                body: r#"{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#
                    .to_owned()
            })
        );
        assert_eq!(call(&slack, &json_headers(), body).unwrap_err().status, 401);
        let no_challenge = br#"{"type":"url_verification"}"#;
        let h = signed(
            SchemeKind::Slack,
            "8f742231b10e8888abcd99yyyzzz85a5",
            URL,
            json_headers(),
            no_challenge,
            NOW,
        );
        assert_eq!(
            call(&slack, &h, no_challenge),
            Err(Rejection::INVALID_HANDSHAKE)
        );
        // An ordinary event is enqueued.
        let ev = br#"{"type":"event_callback","event_id":"Ev123","event":{"type":"app_mention"}}"#;
        let h = signed(
            SchemeKind::Slack,
            "8f742231b10e8888abcd99yyyzzz85a5",
            URL,
            json_headers(),
            ev,
            NOW,
        );
        let env = event(call(&slack, &h, ev));
        assert_eq!(
            (env.id.as_str(), env.event_type.as_deref()),
            ("Ev123", Some("app_mention"))
        );
    }

    #[test]
    fn zoom_url_validation_is_answered_with_the_secret_only_when_signed() {
        let zoom = sources(
            "[sources.zoom]\nscheme = \"zoom\"\nsecrets = [\"literal:zoom_secret_token\"]\n",
        )
        .remove("zoom")
        .unwrap();
        let body = br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
        let h = signed(
            SchemeKind::Zoom,
            "zoom_secret_token",
            URL,
            json_headers(),
            body,
            NOW,
        );
        let Ok(Accepted::Handshake { body: answer, .. }) = call(&zoom, &h, body) else {
            panic!("expected a handshake");
        };
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(answer["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
        // hex(HMAC-SHA256("zoom_secret_token", "qgg8vlvZRS6UYooatFL8Aw")), by Python's hmac.
        assert_eq!(
            answer["encryptedToken"],
            "bd48235863f4a6323ccc4963c594908b7c97f88b4a6a95278f4f093690b12726"
        );
        assert_eq!(call(&zoom, &json_headers(), body).unwrap_err().status, 401);
        let no_token = br#"{"payload":{},"event":"endpoint.url_validation"}"#;
        let h = signed(
            SchemeKind::Zoom,
            "zoom_secret_token",
            URL,
            json_headers(),
            no_token,
            NOW,
        );
        assert_eq!(call(&zoom, &h, no_token), Err(Rejection::INVALID_HANDSHAKE));
    }

    #[test]
    fn public_url_is_what_gets_verified() {
        assert_eq!(signed_url(None, "http://a/x?q=1"), "http://a/x?q=1");
        assert_eq!(
            signed_url(Some("https://p/x"), "http://a/x?q=1"),
            "https://p/x?q=1"
        );
        assert_eq!(
            signed_url(Some("https://p/x?k=v"), "http://a/x?q=1"),
            "https://p/x?k=v"
        );
        assert_eq!(signed_url(Some("https://p/x"), "http://a/x"), "https://p/x");
    }

    #[test]
    fn claim_checks_keep_the_body_whole() {
        let source = stripe();
        let headers = stripe_signed(STRIPE_BODY, NOW);
        let mut env = event(call(&source, &headers, STRIPE_BODY));
        let (key, bytes) = claim_check(&mut env, ClaimStore::R2, "bodies").unwrap();
        assert_eq!(bytes, STRIPE_BODY);
        let expected: [u8; 32] = Sha256::digest(STRIPE_BODY).into();
        let hex: String = expected.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(key, format!("stripe/2026-11-23/{hex}"));
        let Body::ClaimCheck(c) = &env.body else {
            panic!("{:?}", env.body)
        };
        assert_eq!(
            (c.bucket.as_str(), c.key.as_str(), c.size),
            ("bodies", key.as_str(), STRIPE_BODY.len() as u64)
        );
        assert_eq!(c.sha256, expected);
        assert_eq!(
            c.content_type.as_deref(),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(claim_check(&mut env, ClaimStore::R2, "bodies"), None);
        assert!(!needs_claim_check(MAX_INLINE_ENVELOPE_BYTES));
        assert!(needs_claim_check(MAX_INLINE_ENVELOPE_BYTES + 1));
        assert_eq!(InboundEnvelope::from_json(&env.to_json()).unwrap(), env);
    }

    #[test]
    fn claim_check_keys_depend_on_the_stored_bytes_only() {
        // A replay chooses the id (where it comes from a header), the handler, the content type
        // and every other unsigned header: none of them may pick the key, or a replay could
        // overwrite a stored body with another request's. The key names the bytes it holds.
        let source = stripe();
        let key_of = |env: &InboundEnvelope| {
            let mut env = env.clone();
            claim_check(&mut env, ClaimStore::R2, "bodies").unwrap().0
        };
        let original = event(call(&source, &stripe_signed(STRIPE_BODY, NOW), STRIPE_BODY));
        let mut replayed = original.clone();
        replayed.id = "h-chosen-by-the-sender".to_owned();
        replayed.handler = Some("other".to_owned());
        replayed
            .headers
            .insert("content-type".to_owned(), "text/plain".to_owned());
        assert_eq!(key_of(&original), key_of(&replayed));
        let mut other_body = original.clone();
        other_body.body = Body::Base64(b"another body".to_vec());
        assert_ne!(key_of(&original), key_of(&other_body));
        // Ids with path syntax cannot reach the key at all.
        let mut odd = original.clone();
        odd.id = "../../stripe/2026-11-23/x".to_owned();
        assert_eq!(key_of(&odd), key_of(&original));
    }

    #[test]
    fn ok_body_escapes_the_id() {
        assert_eq!(ok_body("evt_1"), "{\"ok\":true,\"id\":\"evt_1\"}\n");
        assert_eq!(ok_body("a\"b"), "{\"ok\":true,\"id\":\"a\\\"b\"}\n");
    }
}
