//! The portal: app-portal-access links, the sessions their tokens open (scope, capabilities,
//! expiry, logout, expire-all), send-example, and the pages' headers.

use hookline_core::api::portal::FrameAncestors;

use super::*;

impl World {
    /// A portal token for `app`, minted with `body` by the all-applications token.
    async fn portal_token(&self, app: &str, body: Value) -> String {
        let v = self
            .ok(
                "POST",
                &format!("/auth/app-portal-access/{app}"),
                &body.to_string(),
                200,
            )
            .await;
        let token = v["token"].as_str().unwrap().to_owned();
        assert_eq!(
            v["url"].as_str().unwrap(),
            format!("https://hooks.example.com/portal/#token={token}")
        );
        token
    }

    async fn as_token(&self, token: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
        self.call_with(method, path, Some(token), body, &[]).await
    }

    async fn page(&self, method: &str, path: &str) -> http::Response<String> {
        let req = http::Request::builder()
            .method(method)
            .uri(path)
            .body(Bytes::new())
            .unwrap();
        self.api.handle(req).await
    }
}

/// A world whose links start with `https://hooks.example.com`.
fn portal_world() -> World {
    let mut w = world();
    w.api.settings.portal.url = Some("https://hooks.example.com".into());
    w
}

#[tokio::test]
async fn a_link_opens_one_application_and_nothing_else() {
    let w = portal_world();
    let (mine, ep, msg) = w.seeded("acme").await;
    let other = w.app("globex").await;
    let other_ep = w
        .endpoint(&other, json!({"url": "https://example.com/"}))
        .await;
    let token = w.portal_token("acme", json!({})).await;

    let (status, s) = w.as_token(&token, "GET", "/auth/session", "").await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["scope"], "app");
    assert_eq!(s["app"]["id"], mine.as_str());
    assert_eq!(s["readOnly"], false);
    assert_eq!(s["capabilities"].as_array().unwrap().len(), 6);
    assert_eq!(
        s["expiresAt"],
        Timestamp::from_unix_secs(START_MS / 1000 + 3600).to_rfc3339()
    );

    // Everything of its application...
    for (m, path, body) in app_routes(&mine, &ep, &msg) {
        if m == "GET" || path.ends_with("/rotate") || path.ends_with("/resend") {
            let (status, v) = w.as_token(&token, m, &path, &body).await;
            assert!(status < 300, "{m} {path}: {status} {v}");
        }
    }
    // ...and nothing of another, nor of no application, nor anything global.
    for app in [other.as_str(), "globex", "no-such-app"] {
        for (m, path, body) in app_routes(app, &other_ep, &msg) {
            let (status, v) = w.as_token(&token, m, &path, &body).await;
            assert_eq!(status, 403, "{m} {path}: {v}");
        }
    }
    for (m, path, body) in [
        ("GET", "/app", ""),
        ("POST", "/app", r#"{"name":"x"}"#),
        ("POST", "/event-type", r#"{"name":"a","description":"d"}"#),
        ("POST", "/auth/app-portal-access/acme", "{}"),
        ("POST", "/auth/app-portal-access/globex", "{}"),
        ("POST", "/auth/app/acme/expire-all", "{}"),
    ]
    .into_iter()
    .chain(operational::ROUTES.iter().copied())
    {
        let (status, v) = w.as_token(&token, m, path, body).await;
        assert_eq!(status, 403, "{m} {path}: {v}");
    }
    // The catalogue may be read: the portal subscribes endpoints to it.
    assert_eq!(w.as_token(&token, "GET", "/event-type", "").await.0, 200);
    // Application writes and messages are the operator's.
    for (m, path, body) in [
        ("PATCH", format!("/app/{mine}"), r#"{"name":"x"}"#),
        ("DELETE", format!("/app/{mine}"), ""),
        (
            "POST",
            format!("/app/{mine}/msg"),
            r#"{"eventType":"a","payload":{}}"#,
        ),
    ] {
        assert_eq!(
            w.as_token(&token, m, &path, body).await.0,
            403,
            "{m} {path}"
        );
    }
    // A scoped API token cannot mint links, not even for its own application.
    let (status, _) = w
        .call_with(
            "POST",
            "/auth/app-portal-access/acme",
            Some(ACME),
            "{}",
            &[],
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn capabilities_limit_what_a_link_may_do() {
    let w = portal_world();
    let (app, ep, msg) = w.seeded("acme").await;
    let read_only = w.portal_token("acme", json!({"readOnly": true})).await;
    let (_, s) = w.as_token(&read_only, "GET", "/auth/session", "").await;
    assert_eq!(s["readOnly"], true);
    assert_eq!(s["capabilities"], json!(["ViewBase"]));
    for (m, path, body) in app_routes(&app, &ep, &msg) {
        let (status, v) = w.as_token(&read_only, m, &path, &body).await;
        if m == "GET" && !path.ends_with("/secret") {
            assert!(status < 300, "{m} {path}: {v}");
        } else {
            assert_eq!(status, 403, "{m} {path}: {v}");
        }
    }

    let e = format!("/app/{app}/endpoint/{ep}");
    let secrets = w
        .portal_token("acme", json!({"capabilities": ["ManageEndpointSecret"]}))
        .await;
    assert_eq!(
        w.as_token(&secrets, "GET", &format!("{e}/secret"), "")
            .await
            .0,
        200
    );
    assert_eq!(
        w.as_token(&secrets, "POST", &format!("{e}/secret/rotate"), "{}")
            .await
            .0,
        200
    );
    assert_eq!(w.as_token(&secrets, "PATCH", &e, "{}").await.0, 403);
    assert_eq!(
        w.as_token(
            &secrets,
            "POST",
            &format!("{e}/send-example"),
            r#"{"eventType":"svix.ping"}"#
        )
        .await
        .0,
        403
    );

    let attempts = w
        .portal_token(
            "acme",
            json!({"capabilities": ["ViewBase", "CreateAttempts"]}),
        )
        .await;
    assert_eq!(
        w.as_token(&attempts, "GET", &format!("{e}/secret"), "")
            .await
            .0,
        403
    );
    assert_eq!(
        w.as_token(
            &attempts,
            "POST",
            &format!("{e}/send-example"),
            r#"{"eventType":"svix.ping"}"#
        )
        .await
        .0,
        200
    );
    assert_eq!(
        w.as_token(
            &attempts,
            "POST",
            &format!("/app/{app}/msg/{msg}/endpoint/{ep}/resend"),
            ""
        )
        .await
        .0,
        202
    );
    assert_eq!(w.as_token(&attempts, "DELETE", &e, "").await.0, 403);

    let manage = w
        .portal_token("acme", json!({"capabilities": ["ManageEndpoint"]}))
        .await;
    assert_eq!(
        w.as_token(&manage, "PATCH", &e, r#"{"disabled":true}"#)
            .await
            .0,
        200
    );
    assert_eq!(
        w.as_token(&manage, "GET", &format!("{e}/secret"), "")
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn links_expire_and_can_be_ended() {
    let w = portal_world();
    w.app("acme").await;
    let token = w.portal_token("acme", json!({"expiry": 60})).await;
    assert_eq!(w.as_token(&token, "GET", "/auth/session", "").await.0, 200);
    w.tick(60_000);
    let (status, v) = w.as_token(&token, "GET", "/auth/session", "").await;
    assert_eq!((status, v["code"].as_str()), (401, Some("token_expired")));

    // A token whose written expiry is moved on is another token: unknown.
    let token = w.portal_token("acme", json!({"expiry": 60})).await;
    let (_, rest) = token.strip_prefix("hlp_").unwrap().split_once('_').unwrap();
    let forged = format!("hlp_{}_{rest}", START_MS / 1000 + 10_000_000);
    let (status, v) = w.as_token(&forged, "GET", "/auth/session", "").await;
    assert_eq!(
        (status, v["code"].as_str()),
        (401, Some("authentication_failed"))
    );
    for garbage in [
        "hlp_",
        "hlp_9999999999_AAAA",
        "hlp_x_y",
        &token.to_uppercase(),
    ] {
        let (status, v) = w.as_token(garbage, "GET", "/auth/session", "").await;
        assert_eq!(
            (status, v["code"].as_str()),
            (401, Some("authentication_failed")),
            "{garbage}"
        );
    }

    // Logout ends the token it is called with; an API token cannot be logged out.
    assert_eq!(w.as_token(&token, "POST", "/auth/logout", "").await.0, 204);
    assert_eq!(w.as_token(&token, "GET", "/auth/session", "").await.0, 401);
    let (status, v) = w.call("POST", "/auth/logout", "").await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("not_a_portal_token"))
    );
    assert_eq!(w.call("GET", "/auth/session", "").await.1["scope"], "all");

    // Out of Svix's range, or longer than 7 days: 422 on `expiry`.
    let (status, v) = w
        .call(
            "POST",
            "/auth/app-portal-access/acme",
            r#"{"expiry":604801}"#,
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(loc(&v), ["body", "expiry"]);
    // An application that does not exist: 404, unless the body creates it.
    assert_eq!(
        w.call("POST", "/auth/app-portal-access/initech", "{}")
            .await
            .0,
        404
    );
    w.portal_token(
        "initech",
        json!({"application": {"name": "Initech", "uid": "initech"}}),
    )
    .await;
}

#[tokio::test]
async fn expire_all_ends_an_applications_links_or_one_sessions() {
    let w = portal_world();
    w.app("acme").await;
    w.app("globex").await;
    let s1 = w.portal_token("acme", json!({"sessionId": "s1"})).await;
    let s2 = w.portal_token("acme", json!({"sessionId": "s2"})).await;
    let plain = w.portal_token("acme", json!({})).await;
    let globex = w.portal_token("globex", json!({})).await;
    let live = |t: &str| {
        let t = t.to_owned();
        let w = &w;
        async move { w.as_token(&t, "GET", "/auth/session", "").await.0 == 200 }
    };
    w.ok(
        "POST",
        "/auth/app/acme/expire-all",
        r#"{"sessionIds":["s1"]}"#,
        204,
    )
    .await;
    assert!(!live(&s1).await && live(&s2).await && live(&plain).await);
    // Within 30 s: still working now, not after.
    w.ok("POST", "/auth/app/acme/expire-all", r#"{"expiry":30}"#, 204)
        .await;
    assert!(live(&s2).await && live(&plain).await);
    w.tick(30_000);
    assert!(!live(&s2).await && !live(&plain).await);
    assert!(live(&globex).await, "another application's links stay");
    // An empty list names no session: every link of the application ends (Svix's reading).
    let s3 = w.portal_token("acme", json!({"sessionId": "s3"})).await;
    w.ok(
        "POST",
        "/auth/app/acme/expire-all",
        r#"{"sessionIds":[]}"#,
        204,
    )
    .await;
    assert!(!live(&s3).await);
}

#[tokio::test]
async fn links_are_never_replayed_from_an_idempotency_key() {
    // The stored answer would hold the token in the clear; each request mints its own.
    let w = portal_world();
    w.app("acme").await;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let (status, v) = w
            .call_with(
                "POST",
                "/auth/app-portal-access/acme",
                Some(ROOT),
                "{}",
                &[("idempotency-key", "same")],
            )
            .await;
        assert_eq!(status, 200);
        tokens.push(v["token"].as_str().unwrap().to_owned());
    }
    assert_ne!(tokens[0], tokens[1]);
    let doc = w
        .api
        .store()
        .list(Kind::Idempotency, "", None, 100)
        .await
        .unwrap();
    assert!(doc.iter().all(|i| !i.doc.contains("hlp_")), "{doc:?}");
}

#[tokio::test]
async fn send_example_delivers_the_catalogue_example_to_one_endpoint() {
    let w = portal_world();
    let app = w.app("acme").await;
    let ep = w
        .endpoint(&app, json!({"url": "https://example.com/a"}))
        .await;
    w.endpoint(&app, json!({"url": "https://example.com/b"}))
        .await;
    w.ok(
        "POST",
        "/event-type",
        &json!({"name": "invoice.paid", "description": "d",
                "schemas": {"1": {"examples": [{"invoice": "in_1", "note": "<b>x</b>"}]}}})
        .to_string(),
        201,
    )
    .await;
    w.ok(
        "POST",
        "/event-type",
        r#"{"name":"bare","description":"no example"}"#,
        201,
    )
    .await;
    let e = format!("/app/{app}/endpoint/{ep}/send-example");
    let m = w.ok("POST", &e, r#"{"eventType":"svix.ping"}"#, 200).await;
    assert_eq!(m["payload"], json!({"success": true}));
    let m = w
        .ok("POST", &e, r#"{"eventType":"invoice.paid"}"#, 200)
        .await;
    assert_eq!(m["eventType"], "invoice.paid");
    let sent = w.sent();
    assert_eq!(sent.len(), 2);
    for s in &sent {
        // This endpoint only, as a manual send.
        assert_eq!(s["endpoints"], json!([ep]), "{s}");
        assert_eq!(s["trigger"], "manual", "{s}");
    }
    assert_eq!(
        sent[1]["data"],
        json!({"invoice": "in_1", "note": "<b>x</b>"})
    );
    assert_eq!(sent[1]["id"], m["id"]);
    // The message is stored like any other.
    let id = m["id"].as_str().unwrap();
    w.ok("GET", &format!("/app/{app}/msg/{id}"), "", 200).await;

    let (status, v) = w.call("POST", &e, r#"{"eventType":"bare"}"#).await;
    assert_eq!((status, v["code"].as_str()), (400, Some("invalid_scheme")));
    let (status, _) = w.call("POST", &e, r#"{"eventType":"nope"}"#).await;
    assert_eq!(status, 404);
    let (status, v) = w.call("POST", &e, "{}").await;
    assert_eq!(status, 422);
    assert_eq!(loc(&v), ["body", "eventType"]);
    let (status, _) = w
        .call(
            "POST",
            &format!("/app/{app}/endpoint/ep_nope/send-example"),
            r#"{"eventType":"svix.ping"}"#,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(w.sent().len(), 2, "nothing queued for a refused request");
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_frame_only_where_allowed() {
    let mut w = portal_world();
    let resp = w.page("GET", "/portal/").await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    let csp = h["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "require-trusted-types-for 'script'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(resp.body(), INDEX_FOR_TESTS);

    for (path, kind) in [
        ("/portal/portal.js", "text/javascript; charset=utf-8"),
        ("/portal/portal.css", "text/css; charset=utf-8"),
    ] {
        let resp = w.page("GET", path).await;
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["content-type"], kind);
        assert!(resp.headers().contains_key("content-security-policy"));
    }
    let resp = w.page("GET", "/portal").await;
    assert_eq!(resp.status(), 308);
    assert_eq!(resp.headers()["location"], "/portal/");
    let resp = w.page("GET", "/portal/../etc/passwd").await;
    assert_eq!(resp.status(), 404);
    let resp = w.page("POST", "/portal/").await;
    assert_eq!((resp.status().as_u16(), resp.body().as_str()), (405, ""));
    let resp = w.page("HEAD", "/portal/").await;
    assert_eq!((resp.status().as_u16(), resp.body().as_str()), (200, ""));
    // Not the portal's: the API's JSON 404.
    let resp = w.page("GET", "/portalx").await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["content-type"], "application/json");

    w.api.settings.portal.frame_ancestors = FrameAncestors::new(&[
        "https://app.example.com".to_owned(),
        "http://127.0.0.1:5173".to_owned(),
    ])
    .unwrap();
    let resp = w.page("GET", "/portal/").await;
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.ends_with("frame-ancestors https://app.example.com http://127.0.0.1:5173"),
        "{csp}"
    );
    assert!(!resp.headers().contains_key("x-frame-options"));
}

#[tokio::test]
async fn links_name_the_configured_origin_or_the_requests_host() {
    let w = world();
    w.app("acme").await;
    let call = |host: Option<&'static str>| {
        let w = &w;
        async move {
            let mut req = http::Request::builder()
                .method("POST")
                .uri(format!("{PREFIX}/auth/app-portal-access/acme"))
                .header("authorization", format!("Bearer {ROOT}"));
            if let Some(h) = host {
                req = req.header("host", h);
            }
            let resp = w
                .api
                .handle(req.body(Bytes::from_static(b"{}")).unwrap())
                .await;
            let status = resp.status().as_u16();
            let v: Value = serde_json::from_str(resp.body()).unwrap();
            (status, v)
        }
    };
    let (_, v) = call(Some("abc.lambda-url.us-east-1.on.aws")).await;
    assert!(
        v["url"]
            .as_str()
            .unwrap()
            .starts_with("https://abc.lambda-url.us-east-1.on.aws/portal/#token=hlp_"),
        "{v}"
    );
    let (_, v) = call(Some("127.0.0.1:8787")).await;
    assert!(
        v["url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:8787/portal/#")
    );
    for bad in [None, Some("evil.com/x"), Some("a b"), Some("")] {
        let (status, v) = call(bad).await;
        assert_eq!(
            (status, v["code"].as_str()),
            (400, Some("portal_url_unknown")),
            "{bad:?}"
        );
    }
}

const INDEX_FOR_TESTS: &str = include_str!("../../../portal/index.html");
