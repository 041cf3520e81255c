//! The service over [`MemoryStore`]: every route's status codes, authorization, pagination,
//! idempotency, and the answers the official SDKs parse (tests/api runs the SDKs themselves).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use hookline_core::api::auth::Token;
use hookline_core::api::model::AttemptStatus;
use hookline_core::secret::Secret;
use hookline_core::ssrf::SsrfPolicy;

use super::*;
use crate::memory::MemoryStore;

mod configured;
mod history;
mod operational;
mod portal;

const ROOT: &str = "root-token";
const ACME: &str = "acme-token";
const START_MS: i64 = 1_800_000_000_000;

fn store_now() -> Timestamp {
    Timestamp::from_unix_millis(START_MS)
}

#[derive(Default)]
struct TestOutbox {
    sent: Mutex<Vec<String>>,
    failing: AtomicBool,
}

#[async_trait]
impl Outbox for TestOutbox {
    async fn send(&self, body: String) -> Result<(), String> {
        if self.failing.load(Ordering::SeqCst) {
            return Err("down".into());
        }
        self.sent.lock().unwrap().push(body);
        Ok(())
    }
}

/// A clock the test moves, and random bytes from a counter (ids then sort in creation order).
struct TestEnv {
    now_ms: AtomicI64,
    counter: AtomicU64,
}

impl Env for TestEnv {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.now_ms.load(Ordering::SeqCst))
    }

    fn random(&self, buf: &mut [u8]) {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        buf.fill(0x5a);
        for (b, c) in buf.iter_mut().zip(n.to_be_bytes()) {
            *b = c;
        }
    }
}

struct World {
    api: Api,
    outbox: Arc<TestOutbox>,
    env: Arc<TestEnv>,
}

fn world() -> World {
    world_with(Vec::new())
}

/// A world whose settings name `operational_endpoints` of the configuration.
fn world_with(operational_endpoints: Vec<String>) -> World {
    world_settings(operational_endpoints, Vec::new())
}

/// A world with `operational_endpoints` and the configuration's endpoints `configured`.
fn world_settings(
    operational_endpoints: Vec<String>,
    configured: Vec<ConfiguredEndpoint>,
) -> World {
    let outbox = Arc::new(TestOutbox::default());
    let env = Arc::new(TestEnv {
        now_ms: AtomicI64::new(START_MS),
        counter: AtomicU64::new(1),
    });
    let settings = Settings {
        tokens: Tokens::new(vec![
            Token::new(&Secret::new(ROOT).unwrap(), Scope::All),
            Token::new(&Secret::new(ACME).unwrap(), Scope::App("acme".into())),
        ]),
        urls: UrlPolicy {
            ssrf: SsrfPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]),
            allow_http: true,
        },
        retention: Duration::from_secs(7 * 24 * 3600),
        operational_endpoints,
        configured,
        portal: PortalSettings::default(),
    };
    let api = Api::new(
        Arc::new(MemoryStore::new(store_now)),
        Arc::clone(&outbox) as Arc<dyn Outbox>,
        Arc::clone(&env) as Arc<dyn Env>,
        settings,
    );
    World { api, outbox, env }
}

impl World {
    async fn call_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &str,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut req = http::Request::builder()
            .method(method)
            .uri(format!("{PREFIX}{path}"));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .api
            .handle(req.body(Bytes::from(body.to_owned())).unwrap())
            .await;
        let status = resp.status().as_u16();
        let body = resp.into_body();
        let v = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{body}: {e}"))
        };
        (status, v)
    }

    async fn call(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        self.call_with(method, path, Some(ROOT), body, &[]).await
    }

    async fn ok(&self, method: &str, path: &str, body: &str, want: u16) -> Value {
        let (status, v) = self.call(method, path, body).await;
        assert_eq!(status, want, "{method} {path} {body}: {v}");
        v
    }

    async fn app(&self, uid: &str) -> String {
        let v = self
            .ok(
                "POST",
                "/app",
                &json!({"name": uid, "uid": uid}).to_string(),
                201,
            )
            .await;
        v["id"].as_str().unwrap().to_owned()
    }

    async fn endpoint(&self, app: &str, body: Value) -> String {
        let v = self
            .ok(
                "POST",
                &format!("/app/{app}/endpoint"),
                &body.to_string(),
                201,
            )
            .await;
        v["id"].as_str().unwrap().to_owned()
    }

    async fn message(&self, app: &str, body: Value) -> Value {
        self.ok("POST", &format!("/app/{app}/msg"), &body.to_string(), 202)
            .await
    }

    /// An application `uid` with one endpoint (`https://example.com/`) and one message:
    /// `(app id, endpoint id, message id)`, what a route table such as [`app_routes`] needs.
    async fn seeded(&self, uid: &str) -> (String, String, String) {
        let app = self.app(uid).await;
        let ep = self
            .endpoint(&app, json!({"url": "https://example.com/"}))
            .await;
        let msg = self
            .message(&app, json!({"eventType": "a", "payload": {}}))
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        (app, ep, msg)
    }

    fn tick(&self, ms: i64) {
        self.env.now_ms.fetch_add(ms, Ordering::SeqCst);
    }

    fn sent(&self) -> Vec<Value> {
        self.raw_sent()
            .iter()
            .map(|b| serde_json::from_str(b).unwrap())
            .collect()
    }

    fn raw_sent(&self) -> Vec<String> {
        self.outbox.sent.lock().unwrap().clone()
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().or(v["name"].as_str()).unwrap().to_owned())
        .collect()
}

fn loc(v: &Value) -> Vec<String> {
    v["detail"][0]["loc"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// Every route of an application, with a body each would accept.
fn app_routes(app: &str, ep: &str, msg: &str) -> Vec<(&'static str, String, String)> {
    let a = format!("/app/{app}");
    let e = format!("{a}/endpoint/{ep}");
    vec![
        ("GET", a.clone(), String::new()),
        ("PUT", a.clone(), r#"{"name":"x"}"#.into()),
        ("PATCH", a.clone(), r#"{"name":"x"}"#.into()),
        ("DELETE", a.clone(), String::new()),
        ("GET", format!("{a}/endpoint"), String::new()),
        (
            "POST",
            format!("{a}/endpoint"),
            r#"{"url":"https://example.com/"}"#.into(),
        ),
        ("GET", e.clone(), String::new()),
        ("PUT", e.clone(), r#"{"url":"https://example.com/"}"#.into()),
        ("PATCH", e.clone(), "{}".into()),
        ("DELETE", e.clone(), String::new()),
        ("GET", format!("{e}/secret"), String::new()),
        ("POST", format!("{e}/secret/rotate"), "{}".into()),
        ("GET", format!("{e}/headers"), String::new()),
        ("PUT", format!("{e}/headers"), r#"{"headers":{}}"#.into()),
        ("PATCH", format!("{e}/headers"), r#"{"headers":{}}"#.into()),
        ("GET", format!("{e}/msg"), String::new()),
        ("GET", format!("{e}/stats"), String::new()),
        (
            "POST",
            format!("{e}/recover"),
            r#"{"since":"2027-01-15T07:00:00Z"}"#.into(),
        ),
        (
            "POST",
            format!("{e}/send-example"),
            r#"{"eventType":"svix.ping"}"#.into(),
        ),
        ("GET", format!("{a}/msg"), String::new()),
        (
            "POST",
            format!("{a}/msg"),
            r#"{"eventType":"a","payload":{}}"#.into(),
        ),
        ("GET", format!("{a}/msg/{msg}"), String::new()),
        ("GET", format!("{a}/msg/{msg}/endpoint"), String::new()),
        ("GET", format!("{a}/attempt/msg/{msg}"), String::new()),
        ("GET", format!("{a}/attempt/endpoint/{ep}"), String::new()),
        (
            "POST",
            format!("{a}/msg/{msg}/endpoint/{ep}/resend"),
            String::new(),
        ),
    ]
}

// ---- authorization ----

#[tokio::test]
async fn every_route_needs_a_bearer_token_in_the_header() {
    let w = world();
    let (app, ep, msg) = w.seeded("acme").await;
    let mut routes = app_routes(&app, &ep, &msg);
    routes.extend([
        ("GET", "/app".to_owned(), String::new()),
        ("POST", "/app".to_owned(), r#"{"name":"x"}"#.to_owned()),
        ("GET", "/event-type".to_owned(), String::new()),
        (
            "POST",
            "/event-type".to_owned(),
            r#"{"name":"a","description":"d"}"#.to_owned(),
        ),
        ("GET", "/event-type/a".to_owned(), String::new()),
        ("DELETE", "/event-type/a".to_owned(), String::new()),
    ]);
    for (m, path, body) in &routes {
        for token in [None, Some("wrong"), Some("root-token2"), Some("")] {
            let (status, v) = w.call_with(m, path, token, body, &[]).await;
            assert_eq!(status, 401, "{m} {path} {token:?}: {v}");
            assert_eq!(v["code"], "authentication_failed");
        }
        // A token in the query string is not looked at.
        for q in ["token", "access_token", "authorization"] {
            let sep = if path.contains('?') { '&' } else { '?' };
            let (status, _) = w
                .call_with(m, &format!("{path}{sep}{q}={ROOT}"), None, body, &[])
                .await;
            assert_eq!(status, 401, "{m} {path} ?{q}=");
        }
    }
    // Nothing was changed by any of them.
    assert_eq!(w.sent().len(), 1);
    // The OpenAPI document is public.
    let (status, v) = w.call_with("GET", "/openapi.json", None, "", &[]).await;
    assert_eq!(status, 200);
    assert!(v["paths"].is_object());
}

#[tokio::test]
async fn a_scoped_token_reaches_its_application_only() {
    let w = world();
    let mine = w.app("acme").await;
    let (other, other_ep, other_msg) = w.seeded("globex").await;
    // Another application (by id or uid), or one that does not exist: 403, never 404, so the
    // token cannot tell which exist.
    for app in [
        other.as_str(),
        "globex",
        "no-such-app",
        "app_0000000000000000000000000000",
    ] {
        for (m, path, body) in app_routes(app, &other_ep, &other_msg) {
            let (status, v) = w.call_with(m, &path, Some(ACME), &body, &[]).await;
            assert_eq!(status, 403, "{m} {path}: {v}");
            assert_eq!(v["code"], "insufficient_access");
        }
    }
    // The global routes.
    for (m, path, body) in [
        ("GET", "/app", ""),
        ("POST", "/app", r#"{"name":"x"}"#),
        ("POST", "/event-type", r#"{"name":"a","description":"d"}"#),
        ("PUT", "/event-type/a", r#"{"description":"d"}"#),
        ("DELETE", "/event-type/a", ""),
    ]
    .into_iter()
    .chain(operational::ROUTES.iter().copied())
    {
        let (status, _) = w.call_with(m, path, Some(ACME), body, &[]).await;
        assert_eq!(status, 403, "{m} {path}");
    }
    // Its own application, by id and by uid; event types may be read.
    for a in [mine.as_str(), "acme"] {
        let (status, v) = w
            .call_with("GET", &format!("/app/{a}"), Some(ACME), "", &[])
            .await;
        assert_eq!((status, v["id"].as_str()), (200, Some(mine.as_str())));
    }
    let (status, _) = w
        .call_with(
            "POST",
            "/app/acme/endpoint",
            Some(ACME),
            r#"{"url":"https://example.com/"}"#,
            &[],
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = w.call_with("GET", "/event-type", Some(ACME), "", &[]).await;
    assert_eq!(status, 200);
    // Deleting an application is global: not even its own.
    let (status, _) = w
        .call_with("DELETE", "/app/acme", Some(ACME), "", &[])
        .await;
    assert_eq!(status, 403);
    // And a message cannot create another application.
    let (status, _) = w
        .call_with(
            "POST",
            "/app/initech/msg",
            Some(ACME),
            r#"{"eventType":"a","payload":{},"application":{"name":"i","uid":"initech"}}"#,
            &[],
        )
        .await;
    assert_eq!(status, 403);
}

// ---- applications ----

#[tokio::test]
async fn application_routes() {
    let w = world();
    let v = w
        .ok(
            "POST",
            "/app",
            r#"{"name":"Acme","uid":"acme","metadata":{"k":"v"},"throttleRate":3}"#,
            201,
        )
        .await;
    let id = v["id"].as_str().unwrap().to_owned();
    for field in ["id", "name", "metadata", "createdAt", "updatedAt"] {
        assert!(!v[field].is_null(), "ApplicationOut needs {field}: {v}");
    }
    assert!(Timestamp::parse_rfc3339(v["createdAt"].as_str().unwrap()).is_some());
    let (status, v) = w.call("POST", "/app", r#"{"name":"B","uid":"acme"}"#).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("conflict")));
    let v = w
        .ok(
            "POST",
            "/app?get_if_exists=true",
            r#"{"name":"B","uid":"acme"}"#,
            200,
        )
        .await;
    assert_eq!(v["id"], id.as_str());
    assert_eq!(w.ok("GET", "/app/acme", "", 200).await["id"], id.as_str());
    w.ok("GET", "/app/nope", "", 404).await;
    let v = w
        .ok("PUT", &format!("/app/{id}"), r#"{"name":"Acme 2"}"#, 200)
        .await;
    assert_eq!(
        (v["name"].as_str(), v["uid"].is_null()),
        (Some("Acme 2"), true)
    );
    let v = w
        .ok("PATCH", &format!("/app/{id}"), r#"{"uid":"acme2"}"#, 200)
        .await;
    assert_eq!(
        (v["name"].as_str(), v["uid"].as_str()),
        (Some("Acme 2"), Some("acme2"))
    );
    // PUT to a name that does not exist creates it with that uid.
    let v = w.ok("PUT", "/app/fresh", r#"{"name":"F"}"#, 201).await;
    assert_eq!(v["uid"], "fresh");
    w.ok("PATCH", "/app/missing", r#"{"name":"x"}"#, 404).await;
    w.ok("DELETE", "/app/acme2", "", 204).await;
    w.ok("GET", &format!("/app/{id}"), "", 404).await;
    w.ok("DELETE", &format!("/app/{id}"), "", 404).await;
    // The wrong shapes.
    let (status, v) = w.call("POST", "/app", "{").await;
    assert_eq!((status, v["code"].as_str()), (400, Some("invalid_json")));
    let (status, v) = w.call("POST", "/app", r#"{"name":"x","uid":"a b"}"#).await;
    assert_eq!(
        (status, loc(&v)),
        (422, vec!["body".to_owned(), "uid".into()])
    );
    let (status, v) = w.call("POST", "/app", r#"{}"#).await;
    assert_eq!(
        (status, loc(&v)),
        (422, vec!["body".to_owned(), "name".into()])
    );
    w.ok("POST", "/app/fresh", "{}", 405).await;
    w.ok("GET", "/nothing-here", "", 404).await;
    let (status, _) = w.call_with("GET", "/../app", Some(ROOT), "", &[]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn lists_page_as_svix_does() {
    let w = world();
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(w.app(&format!("a{i}")).await);
    }
    // Pages of two: `done` is exact, `iterator` is the last id, even on the last page.
    let p1 = w.ok("GET", "/app?limit=2", "", 200).await;
    assert_eq!(ids(&p1), made[..2]);
    assert_eq!(
        (p1["done"].as_bool(), p1["iterator"].as_str()),
        (Some(false), Some(made[1].as_str()))
    );
    assert!(p1["prevIterator"].is_null() && p1.get("prevIterator").is_some());
    let p2 = w
        .ok(
            "GET",
            &format!("/app?limit=2&iterator={}", made[1]),
            "",
            200,
        )
        .await;
    assert_eq!(ids(&p2), made[2..4]);
    assert_eq!(p2["done"], false);
    let p3 = w
        .ok(
            "GET",
            &format!("/app?limit=2&iterator={}", made[3]),
            "",
            200,
        )
        .await;
    assert_eq!(ids(&p3), made[4..]);
    assert_eq!(
        (p3["done"].as_bool(), p3["iterator"].as_str()),
        (Some(true), Some(made[4].as_str()))
    );
    // A page that ends exactly at the end is done: no empty page after it.
    let p = w
        .ok(
            "GET",
            &format!("/app?limit=2&iterator={}", made[2]),
            "",
            200,
        )
        .await;
    assert_eq!(
        (ids(&p), p["done"].as_bool()),
        (made[3..].to_vec(), Some(true))
    );
    // Coming back with the last iterator: nothing new yet.
    let p = w
        .ok("GET", &format!("/app?iterator={}", made[4]), "", 200)
        .await;
    assert_eq!(
        (ids(&p).len(), p["done"].as_bool(), p["iterator"].is_null()),
        (0, Some(true), true)
    );
    let all = w.ok("GET", "/app", "", 200).await;
    assert_eq!(
        (ids(&all), all["done"].as_bool()),
        (made.clone(), Some(true))
    );
    let (status, v) = w.call("GET", "/app?limit=250&order=ascending", "").await;
    assert_eq!((status, ids(&v).len()), (200, 5));
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=251", "limit"),
        ("limit=x", "limit"),
        ("iterator=ep_0000000000000000000000000000", "iterator"),
        ("iterator=nonsense", "iterator"),
        ("order=descending", "order"),
    ] {
        let (status, v) = w.call("GET", &format!("/app?{q}"), "").await;
        assert_eq!(
            (status, loc(&v)),
            (422, vec!["query".to_owned(), field.into()]),
            "{q}"
        );
    }
}

// ---- event types ----

#[tokio::test]
async fn event_type_routes() {
    let w = world();
    let v = w
        .ok(
            "POST",
            "/event-type",
            r#"{"name":"a.created","description":"A","schemas":{"1":{"type":"object"}}}"#,
            201,
        )
        .await;
    for field in [
        "name",
        "description",
        "deprecated",
        "createdAt",
        "updatedAt",
    ] {
        assert!(!v[field].is_null(), "EventTypeOut needs {field}: {v}");
    }
    // with_content=false (the SDKs' default) leaves the schemas out.
    let l = w.ok("GET", "/event-type?with_content=false", "", 200).await;
    assert!(l["data"][0].get("schemas").is_none());
    let l = w.ok("GET", "/event-type", "", 200).await;
    assert!(l["data"][0]["schemas"].is_object());
    w.ok(
        "POST",
        "/event-type",
        r#"{"name":"a.created","description":"B"}"#,
        409,
    )
    .await;
    w.ok("GET", "/event-type/a.created", "", 200).await;
    w.ok("GET", "/event-type/nope", "", 404).await;
    // PUT replaces: the schemas not given are gone.
    let v = w
        .ok(
            "PUT",
            "/event-type/a.created",
            r#"{"description":"A2"}"#,
            200,
        )
        .await;
    assert!(v.get("schemas").is_none(), "{v}");
    w.ok(
        "PUT",
        "/event-type/b.created",
        r#"{"description":"B"}"#,
        201,
    )
    .await;
    let v = w
        .ok(
            "PATCH",
            "/event-type/b.created",
            r#"{"deprecated":true}"#,
            200,
        )
        .await;
    assert_eq!(
        (v["description"].as_str(), v["deprecated"].as_bool()),
        (Some("B"), Some(true))
    );
    w.ok("PATCH", "/event-type/nope", r#"{"description":"x"}"#, 404)
        .await;
    // Archive: hidden unless asked for, still readable, back on create.
    w.ok("DELETE", "/event-type/a.created", "", 204).await;
    assert_eq!(
        w.ok("GET", "/event-type/a.created", "", 200).await["archived"],
        true
    );
    assert_eq!(
        ids(&w.ok("GET", "/event-type", "", 200).await),
        ["b.created"]
    );
    assert_eq!(
        ids(&w
            .ok("GET", "/event-type?include_archived=true", "", 200)
            .await),
        ["a.created", "b.created"]
    );
    let created_at = w.ok("GET", "/event-type/a.created", "", 200).await["createdAt"].clone();
    w.tick(1000);
    let v = w
        .ok(
            "POST",
            "/event-type",
            r#"{"name":"a.created","description":"again"}"#,
            201,
        )
        .await;
    assert_eq!(
        (v["archived"].as_bool(), v["description"].as_str()),
        (Some(false), Some("again"))
    );
    assert_eq!(v["createdAt"], created_at);
    // Expunge: gone.
    w.ok("DELETE", "/event-type/a.created?expunge=true", "", 204)
        .await;
    w.ok("GET", "/event-type/a.created", "", 404).await;
    w.ok("DELETE", "/event-type/a.created", "", 404).await;
    let (status, v) = w
        .call("DELETE", "/event-type/b.created?expunge=maybe", "")
        .await;
    assert_eq!(
        (status, loc(&v)),
        (422, vec!["query".to_owned(), "expunge".into()])
    );
}

#[tokio::test]
async fn archived_event_types_do_not_leave_short_pages() {
    let w = world();
    for n in ["a", "b", "c", "d", "e"] {
        w.ok(
            "POST",
            "/event-type",
            &json!({"name": n, "description": n}).to_string(),
            201,
        )
        .await;
    }
    for n in ["b", "c"] {
        w.ok("DELETE", &format!("/event-type/{n}"), "", 204).await;
    }
    let p = w.ok("GET", "/event-type?limit=2", "", 200).await;
    assert_eq!(
        (ids(&p), p["done"].as_bool()),
        (vec!["a".to_owned(), "d".into()], Some(false))
    );
    let p = w.ok("GET", "/event-type?limit=2&iterator=d", "", 200).await;
    assert_eq!(
        (ids(&p), p["done"].as_bool()),
        (vec!["e".to_owned()], Some(true))
    );
    // Two visible types and an archived one after them: the first page is already done.
    let p = w.ok("GET", "/event-type?limit=2&iterator=a", "", 200).await;
    assert_eq!(
        (ids(&p), p["done"].as_bool()),
        (vec!["d".to_owned(), "e".into()], Some(true))
    );
}

// ---- endpoints ----

#[tokio::test]
async fn endpoint_routes() {
    let w = world();
    let app = w.app("acme").await;
    let base = format!("/app/{app}/endpoint");
    let v = w
        .ok(
            "POST",
            &base,
            &json!({
                "url": "https://example.com/a", "uid": "main", "description": "d",
                "eventTypes": ["a.b"], "channels": ["eu"], "metadata": {"k": "v"},
                "throttleRate": 5, "disabled": true, "headers": {"X-Api-Key": "k"},
            })
            .to_string(),
            201,
        )
        .await;
    let ep = v["id"].as_str().unwrap().to_owned();
    for field in [
        "id",
        "url",
        "description",
        "metadata",
        "createdAt",
        "updatedAt",
    ] {
        assert!(!v[field].is_null(), "EndpointOut needs {field}: {v}");
    }
    assert!(
        v.get("secret").is_none() && v.get("headers").is_none(),
        "{v}"
    );
    assert_eq!(v["eventTypes"], json!(["a.b"]));
    let e = format!("{base}/{ep}");
    assert_eq!(
        w.ok("GET", &format!("{base}/main"), "", 200).await["id"],
        ep.as_str()
    );
    w.ok("GET", &format!("{base}/nope"), "", 404).await;
    assert_eq!(ids(&w.ok("GET", &base, "", 200).await), vec![ep.clone()]);
    let v = w
        .ok("PUT", &e, r#"{"url":"https://example.com/b"}"#, 200)
        .await;
    assert_eq!(
        (
            v["disabled"].as_bool(),
            v["eventTypes"].is_null(),
            v["uid"].is_null()
        ),
        (Some(false), true, true)
    );
    let v = w.ok("PATCH", &e, r#"{"description":"p"}"#, 200).await;
    assert_eq!(
        (v["description"].as_str(), v["url"].as_str()),
        (Some("p"), Some("https://example.com/b"))
    );
    // PUT to an endpoint that does not exist creates it; the path becomes its uid (over the
    // body's, as for applications), and a path shaped like an id is no uid.
    let v = w
        .ok(
            "PUT",
            &format!("{base}/by-put"),
            r#"{"url":"https://example.com/c","uid":"main"}"#,
            201,
        )
        .await;
    assert_eq!(v["uid"], "by-put");
    let v = w
        .ok(
            "PUT",
            &format!("{base}/ep_0000000000000000000000000000"),
            r#"{"url":"https://example.com/d"}"#,
            201,
        )
        .await;
    assert!(v["uid"].is_null(), "{v}");
    w.ok("PATCH", &format!("{base}/nope"), "{}", 404).await;
    w.ok(
        "PUT",
        "/app/nope/endpoint/x",
        r#"{"url":"https://example.com/c"}"#,
        404,
    )
    .await;

    // The secret: read, rotated (JSON, as the SDKs parse it), rotated to a given key.
    let first = w.ok("GET", &format!("{e}/secret"), "", 200).await["key"].clone();
    let v = w.ok("POST", &format!("{e}/secret/rotate"), "", 200).await;
    assert!(v["key"].as_str().unwrap().starts_with("whsec_"));
    assert_ne!(v["key"], first);
    assert_eq!(
        w.ok("GET", &format!("{e}/secret"), "", 200).await["key"],
        v["key"]
    );
    let given = format!("whsec_{}", "B".repeat(32));
    w.ok(
        "POST",
        &format!("{e}/secret/rotate"),
        &json!({"key": given}).to_string(),
        200,
    )
    .await;
    assert_eq!(
        w.ok("GET", &format!("{e}/secret"), "", 200).await["key"],
        given.as_str()
    );
    let (status, v) = w
        .call("POST", &format!("{e}/secret/rotate"), r#"{"key":"short"}"#)
        .await;
    assert_eq!(
        (status, loc(&v)),
        (422, vec!["body".to_owned(), "key".into()])
    );

    // Headers: given at create, replaced, patched (set, removed by null and by deleteHeaders).
    let h = w.ok("GET", &format!("{e}/headers"), "", 200).await;
    assert_eq!(h, json!({"headers": {"X-Api-Key": "k"}, "sensitive": []}));
    w.ok(
        "PUT",
        &format!("{e}/headers"),
        r#"{"headers":{"X-A":"1","X-B":"2","X-C":"3"}}"#,
        204,
    )
    .await;
    w.ok(
        "PATCH",
        &format!("{e}/headers"),
        r#"{"headers":{"x-a":"one","X-B":null,"X-D":"4"},"deleteHeaders":["x-c"]}"#,
        204,
    )
    .await;
    let h = w.ok("GET", &format!("{e}/headers"), "", 200).await;
    assert_eq!(h["headers"], json!({"x-a": "one", "X-D": "4"}));
    let (status, v) = w
        .call(
            "PATCH",
            &format!("{e}/headers"),
            r#"{"headers":{"Host":"x"}}"#,
        )
        .await;
    assert_eq!(
        (status, loc(&v)),
        (
            422,
            vec!["body".to_owned(), "headers".into(), "Host".into()]
        )
    );
    let (status, _) = w
        .call(
            "POST",
            &base,
            r#"{"url":"https://example.com/","headers":{"webhook-id":"x"}}"#,
        )
        .await;
    assert_eq!(status, 422);

    w.ok("DELETE", &e, "", 204).await;
    w.ok("GET", &e, "", 404).await;
    w.ok("DELETE", &e, "", 404).await;
}

#[tokio::test]
async fn endpoint_urls_the_ssrf_guard_refuses_are_422_on_url() {
    let w = world();
    let app = w.app("acme").await;
    for url in [
        "http://10.0.0.1/",
        "https://10.0.0.1/hook",
        "http://169.254.169.254/latest",
        "https://[::ffff:169.254.169.254]/",
        "ftp://example.com/",
    ] {
        let (status, v) = w
            .call(
                "POST",
                &format!("/app/{app}/endpoint"),
                &json!({"url": url}).to_string(),
            )
            .await;
        assert_eq!(
            (status, loc(&v)),
            (422, vec!["body".to_owned(), "url".into()]),
            "{url}: {v}"
        );
        assert_eq!(v["detail"][0]["type"], "value_error");
    }
    // Loopback is open in this configuration (as in hookline dev).
    w.endpoint(&app, json!({"url": "http://127.0.0.1:9000/hook"}))
        .await;
}

// ---- messages ----

#[tokio::test]
async fn message_routes() {
    let w = world();
    let app = w.app("acme").await;
    let m = w
        .message(
            &app,
            json!({"eventType": "a.b", "eventId": "evt-1", "payload": {"z": 1}, "channels": ["eu"]}),
        )
        .await;
    for field in ["id", "eventType", "payload", "timestamp"] {
        assert!(!m[field].is_null(), "MessageOut needs {field}: {m}");
    }
    assert_eq!(m["payload"], json!({"z": 1}));
    let id = m["id"].as_str().unwrap().to_owned();
    let sent = w.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0]["id"].as_str(), sent[0]["application"].as_str()),
        (Some(id.as_str()), Some(app.as_str()))
    );
    // with_content=false (the SDKs' default): the payload is left out.
    let v = w
        .ok(
            "POST",
            &format!("/app/{app}/msg?with_content=false"),
            r#"{"eventType":"a.c","payload":{"y":2}}"#,
            202,
        )
        .await;
    assert_eq!(v["payload"], json!({}));
    let second = v["id"].as_str().unwrap().to_owned();
    assert_eq!(
        w.ok("GET", &format!("/app/{app}/msg/{id}"), "", 200).await["payload"],
        json!({"z": 1})
    );
    assert_eq!(
        w.ok("GET", "/app/acme/msg/evt-1", "", 200).await["id"],
        id.as_str()
    );
    assert_eq!(
        w.ok(
            "GET",
            &format!("/app/{app}/msg/{id}?with_content=false"),
            "",
            200
        )
        .await["payload"],
        json!({})
    );
    w.ok("GET", &format!("/app/{app}/msg/nope"), "", 404).await;
    w.ok("GET", "/app/nope/msg", "", 404).await;
    w.ok(
        "POST",
        "/app/nope/msg",
        r#"{"eventType":"a","payload":{}}"#,
        404,
    )
    .await;
    // The same eventId again: 409, and nothing more on the queue.
    let (status, v) = w
        .call(
            "POST",
            &format!("/app/{app}/msg"),
            r#"{"eventType":"a.b","eventId":"evt-1","payload":{}}"#,
        )
        .await;
    assert_eq!((status, v["code"].as_str()), (409, Some("conflict")));
    assert_eq!(w.sent().len(), 2);
    let (status, v) = w
        .call(
            "POST",
            &format!("/app/{app}/msg"),
            r#"{"eventType":"a.b","payload":[1]}"#,
        )
        .await;
    assert_eq!(
        (status, loc(&v)),
        (422, vec!["body".to_owned(), "payload".into()])
    );

    // Lists and the filters the SDKs send.
    let list = |q: &str| format!("/app/{app}/msg?{q}");
    assert_eq!(
        ids(&w.ok("GET", &list(""), "", 200).await),
        [id.clone(), second.clone()]
    );
    let l = w.ok("GET", &list("with_content=false"), "", 200).await;
    assert_eq!(l["data"][0]["payload"], json!({}));
    assert_eq!(
        ids(&w.ok("GET", &list("channel=eu"), "", 200).await),
        vec![id.clone()]
    );
    assert_eq!(
        ids(&w.ok("GET", &list("channel=us"), "", 200).await),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&w.ok("GET", &list("event_types=a.c"), "", 200).await),
        vec![second.clone()]
    );
    assert_eq!(
        ids(&w.ok("GET", &list("event_types=a.c,a.b"), "", 200).await),
        [id.clone(), second.clone()]
    );
    assert_eq!(
        ids(&w.ok("GET", &list("event_types%5B%5D=a.b"), "", 200).await),
        vec![id.clone()]
    );
    assert_eq!(
        ids(&w.ok("GET", &list("tag=x"), "", 200).await),
        Vec::<String>::new()
    );
    w.tick(60_000);
    let later = w
        .message(&app, json!({"eventType": "a.b", "payload": {}}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cut = Timestamp::from_unix_millis(START_MS + 30_000).to_rfc3339();
    assert_eq!(
        ids(&w.ok("GET", &list(&format!("after={cut}")), "", 200).await),
        vec![later.clone()]
    );
    assert_eq!(
        ids(&w
            .ok(
                "GET",
                &list(&format!("before={}", cut.replace('Z', "%2B00:00"))),
                "",
                200
            )
            .await),
        [id.clone(), second.clone()]
    );
    // A filtered page still fills up and says exactly whether it is done.
    let p = w.ok("GET", &list("event_types=a.b&limit=1"), "", 200).await;
    assert_eq!(
        (ids(&p), p["done"].as_bool()),
        (vec![id.clone()], Some(false))
    );
    let p = w
        .ok(
            "GET",
            &list(&format!("event_types=a.b&limit=1&iterator={id}")),
            "",
            200,
        )
        .await;
    assert_eq!(
        (ids(&p), p["done"].as_bool()),
        (vec![later.clone()], Some(true))
    );
    for (q, field) in [
        ("before=yesterday", "before"),
        ("after=2026-01-01", "after"),
        ("channel=a%20b", "channel"),
        ("event_types=a,,b", "event_types"),
        ("with_content=1", "with_content"),
    ] {
        let (status, v) = w.call("GET", &list(q), "").await;
        assert_eq!(
            (status, loc(&v)),
            (422, vec!["query".to_owned(), field.into()]),
            "{q}"
        );
    }
}

#[tokio::test]
async fn the_payload_goes_on_the_queue_byte_for_byte() {
    let w = world();
    let app = w.app("acme").await;
    let payload = r#"{"z":1, "a":[2,3],"\u00e9":"é","n":1.50}"#;
    let body = format!(r#"{{"eventType":"a","payload":{payload}}}"#);
    w.ok("POST", &format!("/app/{app}/msg"), &body, 202).await;
    let raw = w.raw_sent();
    assert_eq!(raw.len(), 1);
    assert!(
        raw[0].contains(&format!(r#""data":{payload}"#)),
        "{}",
        raw[0]
    );
    // Resends too.
    let id = w.sent()[0]["id"].as_str().unwrap().to_owned();
    let ep = w
        .endpoint(&app, json!({"url": "https://example.com/"}))
        .await;
    w.ok(
        "POST",
        &format!("/app/{app}/msg/{id}/endpoint/{ep}/resend"),
        "",
        202,
    )
    .await;
    assert!(w.raw_sent()[1].contains(&format!(r#""data":{payload}"#)));
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_answer() {
    let w = world();
    let app = w.app("acme").await;
    let path = format!("/app/{app}/msg");
    let body = r#"{"eventType":"a","payload":{"n":1}}"#;
    let key = [("idempotency-key", "k-1")];
    let (s1, one) = w.call_with("POST", &path, Some(ROOT), body, &key).await;
    let (s2, two) = w.call_with("POST", &path, Some(ROOT), body, &key).await;
    assert_eq!((s1, s2), (202, 202));
    assert_eq!(one, two);
    assert_eq!(w.sent().len(), 1, "one message on the queue");
    // Another key, or none: another message.
    let (_, three) = w
        .call_with(
            "POST",
            &path,
            Some(ROOT),
            body,
            &[("idempotency-key", "k-2")],
        )
        .await;
    assert_ne!(three["id"], one["id"]);
    let (_, four) = w.call_with("POST", &path, Some(ROOT), body, &[]).await;
    assert_ne!(four["id"], one["id"]);
    // The same key on another route is another request.
    let (s, app2) = w
        .call_with("POST", "/app", Some(ROOT), r#"{"name":"x"}"#, &key)
        .await;
    assert_eq!(
        (s, app2["id"].as_str().unwrap().starts_with("app_")),
        (201, true)
    );
    let (s, again) = w
        .call_with("POST", "/app", Some(ROOT), r#"{"name":"x"}"#, &key)
        .await;
    assert_eq!((s, &again), (201, &app2));
    assert_eq!(ids(&w.ok("GET", "/app", "", 200).await).len(), 2);
    // Keys are kept apart by token scope.
    let (s, _) = w
        .call_with("POST", "/app/acme/msg", Some(ACME), body, &key)
        .await;
    assert_eq!(s, 202);
    assert_eq!(w.sent().len(), 4);
    // Only POST replays; a bad key is a 422.
    let (s, v) = w
        .call_with(
            "POST",
            &path,
            Some(ROOT),
            body,
            &[("idempotency-key", &"x".repeat(257))],
        )
        .await;
    assert_eq!(
        (s, loc(&v)),
        (422, vec!["header".to_owned(), "idempotency-key".into()])
    );
}

#[tokio::test]
async fn a_queue_failure_is_503_and_the_retry_sends_the_same_message() {
    let w = world();
    let app = w.app("acme").await;
    let path = format!("/app/{app}/msg");
    let body = r#"{"eventType":"a","eventId":"e-1","payload":{}}"#;
    let key = [("idempotency-key", "k")];
    w.outbox.failing.store(true, Ordering::SeqCst);
    let (s, v) = w.call_with("POST", &path, Some(ROOT), body, &key).await;
    assert_eq!((s, v["code"].as_str()), (503, Some("service_unavailable")));
    w.outbox.failing.store(false, Ordering::SeqCst);
    let (s, v) = w.call_with("POST", &path, Some(ROOT), body, &key).await;
    assert_eq!(s, 202);
    let sent = w.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["id"], v["id"]);
    // Without the key, the same eventId after a failure is sent too (it was never acknowledged).
    w.outbox.failing.store(true, Ordering::SeqCst);
    let other = r#"{"eventType":"a","eventId":"e-2","payload":{}}"#;
    assert_eq!(w.call("POST", &path, other).await.0, 503);
    w.outbox.failing.store(false, Ordering::SeqCst);
    assert_eq!(w.call("POST", &path, other).await.0, 202);
    assert_eq!(w.call("POST", &path, other).await.0, 409);
    assert_eq!(w.sent().len(), 2);
}

#[tokio::test]
async fn a_message_creates_the_application_it_names() {
    let w = world();
    let body = |uid: &str| {
        json!({"eventType": "a", "payload": {}, "application": {"name": "Initech", "uid": uid}})
            .to_string()
    };
    let (s, v) = w.call("POST", "/app/initech/msg", &body("other")).await;
    assert_eq!(
        (s, loc(&v)),
        (
            422,
            vec!["body".to_owned(), "application".into(), "uid".into()]
        )
    );
    let (s, v) = w
        .call(
            "POST",
            "/app/initech/msg",
            r#"{"eventType":"a","payload":{},"application":{"uid":"initech"}}"#,
        )
        .await;
    assert_eq!(
        (s, loc(&v)),
        (
            422,
            vec!["body".to_owned(), "application".into(), "name".into()]
        )
    );
    w.ok("GET", "/app/initech", "", 404).await;
    let m = w
        .ok("POST", "/app/initech/msg", &body("initech"), 202)
        .await;
    let app = w.ok("GET", "/app/initech", "", 200).await;
    assert_eq!(app["name"], "Initech");
    assert_eq!(w.sent()[0]["application"], app["id"]);
    assert_eq!(
        w.ok(
            "GET",
            &format!("/app/initech/msg/{}", m["id"].as_str().unwrap()),
            "",
            200
        )
        .await["id"],
        m["id"]
    );
    // Once it exists, `application` is ignored.
    let (s, _) = w
        .call("POST", "/app/initech/msg", &json!({"eventType": "a", "payload": {}, "application": {"name": "Other", "uid": "initech"}}).to_string())
        .await;
    assert_eq!(s, 202);
    assert_eq!(
        w.ok("GET", "/app/initech", "", 200).await["name"],
        "Initech"
    );
}

// ---- attempts and resend ----

fn attempt(w: &World, app: &str, msg: &str, ep: &str, status: AttemptStatus, code: u16) -> Attempt {
    let mut r = [0u8; 16];
    w.api.env.random(&mut r);
    Attempt {
        id: id::new_id(IdKind::Attempt, w.env.now(), r),
        app_id: app.to_owned(),
        msg_id: msg.to_owned(),
        endpoint_id: ep.to_owned(),
        url: "https://example.com/".into(),
        response: "the response".into(),
        response_status_code: code,
        response_duration_ms: 12,
        status,
        trigger: hookline_core::envelope::Trigger::Scheduled,
        attempt: 1,
        error_class: None,
        next_attempt: None,
        timestamp: w.env.now().to_rfc3339(),
    }
}

#[tokio::test]
async fn attempt_lists_and_their_filters() {
    let w = world();
    let app = w.app("acme").await;
    let ep1 = w
        .endpoint(&app, json!({"url": "https://example.com/1", "uid": "one"}))
        .await;
    let ep2 = w
        .endpoint(&app, json!({"url": "https://example.com/2"}))
        .await;
    let m1 = w
        .message(
            &app,
            json!({"eventType": "a", "payload": {}, "channels": ["eu"]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let m2 = w
        .message(&app, json!({"eventType": "b", "payload": {}}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let recorded = [
        attempt(&w, &app, &m1, &ep1, AttemptStatus::Fail, 500),
        attempt(&w, &app, &m1, &ep1, AttemptStatus::Success, 200),
        attempt(&w, &app, &m1, &ep2, AttemptStatus::Fail, 0),
        attempt(&w, &app, &m2, &ep1, AttemptStatus::Success, 204),
    ];
    for a in &recorded {
        w.api.registry.record_attempt(a, None).await.unwrap();
    }
    let by_msg = |q: &str| format!("/app/{app}/attempt/msg/{m1}?{q}");
    let by_ep = |q: &str| format!("/app/{app}/attempt/endpoint/{ep1}?{q}");
    let all = w.ok("GET", &by_msg(""), "", 200).await;
    assert_eq!(
        ids(&all),
        recorded[..3]
            .iter()
            .map(|a| a.id.clone())
            .collect::<Vec<_>>()
    );
    let first = &all["data"][0];
    for field in [
        "id",
        "msgId",
        "endpointId",
        "url",
        "response",
        "responseStatusCode",
        "responseDurationMs",
        "status",
        "statusText",
        "triggerType",
        "timestamp",
    ] {
        assert!(
            !first[field].is_null(),
            "MessageAttemptOut needs {field}: {first}"
        );
    }
    assert_eq!(
        (first["status"].as_u64(), first["statusText"].as_str()),
        (Some(2), Some("fail"))
    );
    assert_eq!(first["response"], "the response");
    // with_content=false (the SDKs' default): Svix answers "{}" for the response body.
    let l = w
        .ok(
            "GET",
            &by_msg("with_content=false&expanded_statuses=true"),
            "",
            200,
        )
        .await;
    assert_eq!(l["data"][0]["response"], "{}");
    let pick = |v: &Value| ids(v).len();
    assert_eq!(pick(&w.ok("GET", &by_msg("status=0"), "", 200).await), 1);
    assert_eq!(pick(&w.ok("GET", &by_msg("status=2"), "", 200).await), 2);
    assert_eq!(pick(&w.ok("GET", &by_msg("status=4"), "", 200).await), 0);
    assert_eq!(
        pick(&w.ok("GET", &by_msg("status_code_class=500"), "", 200).await),
        1
    );
    assert_eq!(
        pick(&w.ok("GET", &by_msg("status_code_class=0"), "", 200).await),
        1
    );
    assert_eq!(
        pick(
            &w.ok("GET", &by_msg(&format!("endpoint_id={ep2}")), "", 200)
                .await
        ),
        1
    );
    assert_eq!(
        pick(&w.ok("GET", &by_msg("endpoint_id=one"), "", 200).await),
        2
    );
    w.ok("GET", &by_msg("endpoint_id=nope"), "", 404).await;
    assert_eq!(pick(&w.ok("GET", &by_msg("channel=eu"), "", 200).await), 3);
    assert_eq!(pick(&w.ok("GET", &by_msg("channel=us"), "", 200).await), 0);
    assert_eq!(
        pick(&w.ok("GET", &by_msg("event_types=b"), "", 200).await),
        0
    );
    let p = w.ok("GET", &by_msg("limit=2"), "", 200).await;
    assert_eq!((pick(&p), p["done"].as_bool()), (2, Some(false)));

    let l = w.ok("GET", &by_ep(""), "", 200).await;
    assert_eq!(pick(&l), 3);
    assert!(l["data"][0].get("msg").is_none());
    let l = w.ok("GET", &by_ep("with_msg=true"), "", 200).await;
    assert_eq!(l["data"][0]["msg"]["id"], m1.as_str());
    assert_eq!(l["data"][2]["msg"]["eventType"], "b");
    assert_eq!(
        ids(&w.ok("GET", &by_ep("event_types=b"), "", 200).await),
        [recorded[3].id.clone()]
    );
    assert_eq!(pick(&w.ok("GET", &by_ep("channel=eu"), "", 200).await), 2);
    assert_eq!(
        pick(
            &w.ok("GET", &by_ep("status=0&status_code_class=200"), "", 200)
                .await
        ),
        2
    );
    w.ok("GET", &format!("/app/{app}/attempt/endpoint/nope"), "", 404)
        .await;
    w.ok("GET", &format!("/app/{app}/attempt/msg/nope"), "", 404)
        .await;
    for (q, field) in [
        ("status=9", "status"),
        ("status_code_class=250", "status_code_class"),
        ("with_msg=yes", "with_msg"),
    ] {
        let (status, v) = w.call("GET", &by_ep(q), "").await;
        assert_eq!(
            (status, loc(&v)),
            (422, vec!["query".to_owned(), field.into()]),
            "{q}"
        );
    }
}

#[tokio::test]
async fn resend_queues_the_message_for_one_endpoint() {
    let w = world();
    let app = w.app("acme").await;
    let ep = w
        .endpoint(&app, json!({"url": "https://example.com/"}))
        .await;
    let m = w
        .message(&app, json!({"eventType": "a", "payload": {"k": 1}}))
        .await;
    let id = m["id"].as_str().unwrap();
    // JSON, not an empty 204: the SDKs parse an EmptyResponse.
    let v = w
        .ok(
            "POST",
            &format!("/app/{app}/msg/{id}/endpoint/{ep}/resend"),
            "",
            202,
        )
        .await;
    assert_eq!(v, json!({}));
    let sent = w.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        (sent[1]["id"].as_str(), sent[1]["trigger"].as_str()),
        (Some(id), Some("manual"))
    );
    assert_eq!(sent[1]["endpoints"], json!([ep]));
    assert_eq!(sent[1]["data"], json!({"k": 1}));
    w.ok(
        "POST",
        &format!("/app/{app}/msg/nope/endpoint/{ep}/resend"),
        "",
        404,
    )
    .await;
    w.ok(
        "POST",
        &format!("/app/{app}/msg/{id}/endpoint/nope/resend"),
        "",
        404,
    )
    .await;
    w.ok(
        "GET",
        &format!("/app/{app}/msg/{id}/endpoint/{ep}/resend"),
        "",
        405,
    )
    .await;
}

/// A message an app put straight on the queue is stored by the sender under its own id
/// (`A-Z a-z 0-9 _ : -`): it can be fetched, its attempts listed, and a page may end on it.
#[tokio::test]
async fn messages_from_the_queue_keep_their_own_ids() {
    let w = world();
    let app = w.app("acme").await;
    let msg = Message {
        id: "inv_123:paid".into(),
        app_id: app.clone(),
        event_id: None,
        event_type: "invoice.paid".into(),
        payload: serde_json::value::RawValue::from_string("{}".into()).unwrap(),
        channels: None,
        timestamp: store_now().to_rfc3339(),
        enqueued: true,
    };
    w.api
        .store()
        .create(Kind::Message, &app, &msg.id, &[], &encode(&msg), None)
        .await
        .unwrap();
    let got = w
        .ok("GET", &format!("/app/{app}/msg/inv_123:paid"), "", 200)
        .await;
    assert_eq!(got["id"], "inv_123:paid");
    w.ok(
        "GET",
        &format!("/app/{app}/attempt/msg/inv_123:paid"),
        "",
        200,
    )
    .await;
    let page = w
        .ok(
            "GET",
            &format!("/app/{app}/msg?iterator=inv_123:paid"),
            "",
            200,
        )
        .await;
    assert_eq!(page["done"], true);
    // Still refused: what no message id can be.
    let (status, _) = w
        .call("GET", &format!("/app/{app}/msg?iterator=a%20b"), "")
        .await;
    assert_eq!(status, 422);
}
