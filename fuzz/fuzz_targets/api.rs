//! The management API (`hookline_api::Api::handle`) over the in-memory store: any method, path,
//! query, headers and body. Never a panic, never a 5xx, and every answer is JSON in one of
//! Svix's two error shapes or a success; whatever the API created can be read back.
#![no_main]

use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use hookline_api::memory::MemoryStore;
use hookline_api::{Api, Env, Outbox, Settings};
use hookline_core::api::auth::{Scope, Token, Tokens};
use hookline_core::api::model::UrlPolicy;
use hookline_core::secret::Secret;
use hookline_core::ssrf::SsrfPolicy;
use hookline_core::time::Timestamp;
use libfuzzer_sys::fuzz_target;

struct Fixed;
impl Env for Fixed {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_secs(1_800_000_000)
    }
    fn random(&self, buf: &mut [u8]) {
        // Deterministic but distinct enough: ids only need to differ within one input.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_be_bytes();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = n[i % 8] ^ (i as u8);
        }
    }
}

struct Sink;
#[async_trait::async_trait]
impl Outbox for Sink {
    async fn send(&self, body: String) -> Result<(), String> {
        // What the API enqueues must be an outbound message the sender reads.
        assert!(
            hookline_core::envelope::OutboundMessage::from_json(body.as_bytes()).is_ok(),
            "the API enqueued what the sender would refuse: {body}"
        );
        Ok(())
    }
}

fn now() -> Timestamp {
    Timestamp::from_unix_secs(1_800_000_000)
}

/// The futures here never wait (memory store, memory outbox): poll to completion.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const AUTH: [&str; 6] = [
    "Bearer root",
    "Bearer acme",
    "Bearer wrong",
    "",
    // Portal tokens' form: one never minted (looked up, unknown), one expired (refused unread).
    "Bearer hlp_4102444800_WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa",
    "Bearer hlp_1_WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa",
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    // The rest: path, query and body separated by NUL bytes.
    let mut parts = rest.splitn(3, |b| *b == 0);
    let path = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default().to_vec();
    let store = Arc::new(MemoryStore::new(now));
    let tokens = Tokens::new(vec![
        Token::new(&Secret::new("root").unwrap(), Scope::All),
        Token::new(&Secret::new("acme").unwrap(), Scope::App("acme".into())),
    ]);
    let api = Api::new(
        store,
        Arc::new(Sink),
        Arc::new(Fixed),
        Settings {
            tokens,
            urls: UrlPolicy {
                ssrf: SsrfPolicy::new(vec![]),
                allow_http: sel & 0x40 != 0,
            },
            retention: std::time::Duration::from_secs(86_400),
            operational_endpoints: Vec::new(),
            configured: Vec::new(),
            portal: hookline_api::service::PortalSettings::default(),
        },
    );
    let method = METHODS[usize::from(sel) % METHODS.len()];
    let auth = AUTH[usize::from(sel >> 3) % AUTH.len()];
    // Seed an application and an endpoint so deeper routes are reachable.
    let seed = |m: &str, p: &str, b: &str| {
        let req = http::Request::builder()
            .method(m)
            .uri(p)
            .header("authorization", "Bearer root")
            .body(bytes::Bytes::from(b.to_owned()))
            .unwrap();
        block_on(api.handle(req))
    };
    let app = seed("POST", "/api/v1/app", r#"{"name":"Acme","uid":"acme"}"#);
    assert_eq!(app.status(), 201);
    seed("POST", "/api/v1/event-type", r#"{"name":"a.b","description":"d"}"#);
    let ep = seed("POST", "/api/v1/app/acme/endpoint", r#"{"url":"https://example.com/h","uid":"ep1"}"#);
    assert_eq!(ep.status(), 201, "{}", ep.body());

    let uri = if query.is_empty() {
        format!("/api/v1/{path}")
    } else {
        format!("/api/v1/{path}?{query}")
    };
    let Ok(mut req) = http::Request::builder()
        .method(method)
        .uri(&uri)
        .body(bytes::Bytes::from(body))
    else {
        return;
    };
    if !auth.is_empty() {
        req.headers_mut()
            .insert("authorization", http::HeaderValue::from_static(auth));
    }
    if sel & 0x80 != 0 {
        req.headers_mut()
            .insert("idempotency-key", http::HeaderValue::from_static("k1"));
    }
    let resp = block_on(api.handle(req));
    let status = resp.status().as_u16();
    assert!(status < 500, "{method} {uri}: {status} {}", resp.body());
    if status == 204 {
        assert!(resp.body().is_empty());
        return;
    }
    let v: serde_json::Value = serde_json::from_str(resp.body())
        .unwrap_or_else(|e| panic!("{method} {uri}: not JSON ({e}): {}", resp.body()));
    if status >= 400 {
        let shaped = (v["code"].is_string() && v["detail"].is_string())
            || (status == 422 && v["detail"].is_array());
        assert!(shaped, "{method} {uri}: {status} not in Svix's error shape: {v}");
    }
});
