//! Operational webhooks: the operational-webhook endpoint API, and the events endpoint writes
//! send.

use hookline_core::api::history::OPERATIONAL_APP;

use super::*;

const OPS: &str = "/operational-webhook/endpoint";

/// Every operational-webhook endpoint route, with a body each would accept (all-applications
/// tokens only).
pub(super) const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", OPS, ""),
    ("POST", OPS, r#"{"url":"https://ops.example/"}"#),
    ("GET", "/operational-webhook/endpoint/ops", ""),
    (
        "PUT",
        "/operational-webhook/endpoint/ops",
        r#"{"url":"https://ops.example/"}"#,
    ),
    ("DELETE", "/operational-webhook/endpoint/ops", ""),
    ("GET", "/operational-webhook/endpoint/ops/secret", ""),
    (
        "POST",
        "/operational-webhook/endpoint/ops/secret/rotate",
        "{}",
    ),
    ("GET", "/operational-webhook/endpoint/ops/headers", ""),
    (
        "PUT",
        "/operational-webhook/endpoint/ops/headers",
        r#"{"headers":{}}"#,
    ),
];

/// The operational events on the queue, as (type, data).
fn events(w: &World) -> Vec<(String, Value)> {
    w.sent()
        .into_iter()
        .filter(|m| m["application"] == OPERATIONAL_APP)
        .map(|m| (m["type"].as_str().unwrap().to_owned(), m["data"].clone()))
        .collect()
}

fn types(w: &World) -> Vec<String> {
    events(w).into_iter().map(|(t, _)| t).collect()
}

#[tokio::test]
async fn operational_endpoints_have_their_own_routes() {
    let w = world();
    let v = w
        .ok(
            "POST",
            OPS,
            r#"{"url":"https://ops.example/","uid":"ops","description":"d","eventTypes":["endpoint.disabled"],"channels":["x"],"metadata":{"k":"v"}}"#,
            201,
        )
        .await;
    let id = v["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ep_"));
    // Svix's OperationalWebhookEndpointOut: no application, channels or older names.
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "createdAt",
            "description",
            "disabled",
            "eventTypes",
            "id",
            "metadata",
            "throttleRate",
            "uid",
            "updatedAt",
            "url"
        ]
    );
    assert_eq!(v["eventTypes"], json!(["endpoint.disabled"]));
    let stored = w
        .api
        .registry
        .endpoint(OPERATIONAL_APP, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.channels, None, "channels are not a field of it");
    // By id and by uid.
    for name in [id.as_str(), "ops"] {
        let got = w.ok("GET", &format!("{OPS}/{name}"), "", 200).await;
        assert_eq!(got, v);
    }
    let list = w.ok("GET", OPS, "", 200).await;
    assert_eq!(ids(&list), [id.as_str()]);
    // Not an application's endpoint: no application route reaches it.
    let (status, _) = w
        .call("GET", &format!("/app/{OPERATIONAL_APP}/endpoint/{id}"), "")
        .await;
    assert_eq!(status, 404);

    // The secret: read, rotated (204, as Svix), read again.
    let s1 = w.ok("GET", &format!("{OPS}/ops/secret"), "", 200).await["key"].clone();
    assert!(s1.as_str().unwrap().starts_with("whsec_"));
    w.ok("POST", &format!("{OPS}/ops/secret/rotate"), "{}", 204)
        .await;
    let s2 = w.ok("GET", &format!("{OPS}/ops/secret"), "", 200).await["key"].clone();
    assert_ne!(s1, s2);
    // Headers.
    w.ok(
        "PUT",
        &format!("{OPS}/ops/headers"),
        r#"{"headers":{"X-Ops":"1"}}"#,
        204,
    )
    .await;
    let h = w.ok("GET", &format!("{OPS}/ops/headers"), "", 200).await;
    assert_eq!(h, json!({"headers": {"X-Ops": "1"}, "sensitive": []}));
    let (status, v) = w
        .call(
            "PUT",
            &format!("{OPS}/ops/headers"),
            r#"{"headers":{"Host":"x"}}"#,
        )
        .await;
    assert_eq!(
        (status, loc(&v)),
        (422, vec!["body".into(), "headers".into(), "Host".into()])
    );
    let (status, _) = w
        .call("PATCH", &format!("{OPS}/ops/headers"), r#"{"headers":{}}"#)
        .await;
    assert_eq!(status, 405);

    // Upsert: replaces it (keeping its secret and headers), or creates one named by the path.
    let v = w
        .ok(
            "PUT",
            &format!("{OPS}/ops"),
            r#"{"url":"https://ops2.example/"}"#,
            200,
        )
        .await;
    assert_eq!(
        (&v["url"], &v["eventTypes"]),
        (&json!("https://ops2.example/"), &Value::Null)
    );
    assert_eq!(
        w.ok("GET", &format!("{OPS}/ops/secret"), "", 200).await["key"],
        s2
    );
    let v = w
        .ok(
            "PUT",
            &format!("{OPS}/second"),
            r#"{"url":"https://ops3.example/"}"#,
            201,
        )
        .await;
    assert_eq!(v["uid"], "second");
    assert_eq!(ids(&w.ok("GET", OPS, "", 200).await).len(), 2);

    // Bad input.
    for (m, path, body, want) in [
        (
            "POST",
            OPS.to_owned(),
            r#"{"url":"ftp://x/"}"#,
            vec!["body", "url"],
        ),
        ("POST", OPS.to_owned(), r#"{}"#, vec!["body", "url"]),
        (
            "POST",
            OPS.to_owned(),
            r#"{"url":"https://x.example/","eventTypes":["endpoint.disabled","invoice.paid"]}"#,
            vec!["body", "eventTypes", "1"],
        ),
        (
            "PUT",
            format!("{OPS}/ops"),
            r#"{"url":"https://x.example/","eventTypes":["nope"]}"#,
            vec!["body", "eventTypes", "0"],
        ),
        (
            "POST",
            format!("{OPS}/ops/secret/rotate"),
            r#"{"key":"short"}"#,
            vec!["body", "key"],
        ),
        ("GET", format!("{OPS}?limit=0"), "", vec!["query", "limit"]),
    ] {
        let (status, v) = w.call(m, &path, body).await;
        let want: Vec<String> = want.into_iter().map(str::to_owned).collect();
        assert_eq!((status, loc(&v)), (422, want), "{m} {path} {body}: {v}");
    }
    let (status, _) = w
        .call("POST", OPS, r#"{"url":"https://x.example/","uid":"ops"}"#)
        .await;
    assert_eq!(status, 409);

    // Delete, then it is gone.
    w.ok("DELETE", &format!("{OPS}/ops"), "", 204).await;
    for (m, path) in [
        ("GET", format!("{OPS}/ops")),
        ("DELETE", format!("{OPS}/ops")),
        ("GET", format!("{OPS}/ops/secret")),
        ("GET", format!("{OPS}/nope/headers")),
        ("GET", format!("{OPS}/%00")),
    ] {
        let (status, _) = w.call(m, &path, "").await;
        assert_eq!(status, 404, "{m} {path}");
    }
    // Nothing about operational endpoints themselves is ever sent.
    assert!(w.sent().is_empty(), "{:?}", w.sent());
}

#[tokio::test]
async fn endpoint_writes_send_operational_webhooks() {
    let w = world();
    let app = w.app("acme").await;
    // With no operational endpoint, nothing is sent for endpoint writes.
    let quiet = w.endpoint(&app, json!({"url": "https://a.example/"})).await;
    w.ok("DELETE", &format!("/app/{app}/endpoint/{quiet}"), "", 204)
        .await;
    assert!(w.sent().is_empty());

    w.ok("POST", OPS, r#"{"url":"https://ops.example/"}"#, 201)
        .await;
    let ep = w
        .endpoint(&app, json!({"url": "https://a.example/", "uid": "hook"}))
        .await;
    let path = format!("/app/{app}/endpoint/{ep}");
    w.ok("PATCH", &path, r#"{"description":"x"}"#, 200).await;
    w.tick(1000);
    w.ok("PATCH", &path, r#"{"disabled":true}"#, 200).await;
    // Headers and secrets are not what the events are about.
    w.ok("PUT", &format!("{path}/headers"), r#"{"headers":{}}"#, 204)
        .await;
    // A PUT that names it by uid keeps the uid (the next upsert finds it again).
    let by_uid = format!("/app/{app}/endpoint/hook");
    let v = w
        .ok("PUT", &by_uid, r#"{"url":"https://a.example/"}"#, 200)
        .await;
    assert_eq!((&v["id"], &v["uid"]), (&json!(ep), &json!("hook")));
    w.ok("DELETE", &path, "", 204).await;
    assert_eq!(
        types(&w),
        [
            "endpoint.created",
            "endpoint.updated",
            "endpoint.updated",
            "endpoint.disabled",
            "endpoint.updated",
            "endpoint.deleted"
        ]
    );
    let evs = events(&w);
    for (_, data) in &evs {
        assert_eq!(
            (
                &data["appId"],
                &data["appUid"],
                &data["endpointId"],
                &data["endpointUid"]
            ),
            (&json!(app), &json!("acme"), &json!(ep), &json!("hook"))
        );
    }
    let disabled = &evs[3].1;
    assert_eq!(disabled["trigger"], "manual");
    assert_eq!(
        disabled["failSince"],
        Timestamp::from_unix_millis(START_MS + 1000).to_rfc3339()
    );
    // Each is an ordinary outbound message of the operational "application".
    let raw: Value = w.sent()[0].clone();
    assert!(
        raw["timestamp"].is_string() && raw.get("endpoints").is_none(),
        "{raw}"
    );

    // An operational endpoint's event types choose what is sent for it.
    let w = world();
    let app = w.app("acme").await;
    w.ok(
        "POST",
        OPS,
        r#"{"url":"https://ops.example/","eventTypes":["endpoint.deleted"]}"#,
        201,
    )
    .await;
    let ep = w.endpoint(&app, json!({"url": "https://a.example/"})).await;
    w.ok("DELETE", &format!("/app/{app}/endpoint/{ep}"), "", 204)
        .await;
    assert_eq!(types(&w), ["endpoint.deleted"]);
    // A disabled operational endpoint takes none.
    let w = world();
    let app = w.app("acme").await;
    w.ok(
        "POST",
        OPS,
        r#"{"url":"https://ops.example/","disabled":true}"#,
        201,
    )
    .await;
    w.endpoint(&app, json!({"url": "https://a.example/"})).await;
    assert!(w.sent().is_empty());
}

#[tokio::test]
async fn configured_operational_endpoints_get_a_copy_by_name() {
    let w = world_with(vec!["ops-a".into(), "ops-b".into()]);
    let app = w.app("acme").await;
    let ep = w.endpoint(&app, json!({"url": "https://a.example/"})).await;
    // No registered operational endpoint: only the configuration's copy.
    let sent = w.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["type"], "endpoint.created");
    assert_eq!(sent[0]["endpoints"], json!(["ops-a", "ops-b"]));
    assert!(sent[0].get("application").is_none(), "{}", sent[0]);
    assert_eq!(sent[0]["data"]["endpointId"], json!(ep));
    // It is a valid outbound message (what the sender reads).
    hookline_core::envelope::OutboundMessage::from_json(w.raw_sent()[0].as_bytes()).unwrap();
    let registered = hookline_core::envelope::OutboundMessage::from_json(
        serde_json::to_string(&hookline_core::api::history::operational_message(
            OperationalEvent::EndpointCreated,
            json!({}),
            store_now(),
        ))
        .unwrap()
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(registered.application.as_deref(), Some(OPERATIONAL_APP));
    // With one registered too: both.
    w.ok("POST", OPS, r#"{"url":"https://ops.example/"}"#, 201)
        .await;
    w.ok("DELETE", &format!("/app/{app}/endpoint/{ep}"), "", 204)
        .await;
    let sent = w.sent();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[1]["application"], OPERATIONAL_APP);
    assert_eq!(sent[2]["endpoints"], json!(["ops-a", "ops-b"]));
}

#[tokio::test]
async fn an_event_the_queue_refuses_leaves_the_write_made_and_is_counted() {
    let w = world_with(vec!["ops".into()]);
    let app = w.app("acme").await;
    w.ok("POST", OPS, r#"{"url":"https://ops.example/"}"#, 201)
        .await;
    w.outbox.failing.store(true, Ordering::SeqCst);
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("{PREFIX}/app/{app}/endpoint"))
        .header("authorization", format!("Bearer {ROOT}"))
        .body(Bytes::from(r#"{"url":"https://a.example/","uid":"hook"}"#))
        .unwrap();
    let resp = w.api.handle(req).await;
    w.outbox.failing.store(false, Ordering::SeqCst);
    assert_eq!(resp.status(), 201);
    // Two copies (registered, configured), neither sent.
    assert_eq!(resp.headers()[UNSENT_HEADER], "2");
    assert!(
        w.ok("GET", &format!("/app/{app}/endpoint/hook"), "", 200)
            .await["id"]
            .is_string()
    );
    // A write whose events went out has no such header.
    let req = http::Request::builder()
        .method("DELETE")
        .uri(format!("{PREFIX}/app/{app}/endpoint/hook"))
        .header("authorization", format!("Bearer {ROOT}"))
        .body(Bytes::new())
        .unwrap();
    let resp = w.api.handle(req).await;
    assert_eq!(resp.status(), 204);
    assert!(resp.headers().get(UNSENT_HEADER).is_none());
    assert_eq!(types(&w), ["endpoint.deleted"]);
}

#[tokio::test]
async fn operational_routes_answer_405_to_other_methods() {
    let w = world();
    for (m, path) in [
        ("PATCH", OPS.to_owned()),
        ("DELETE", OPS.to_owned()),
        ("POST", format!("{OPS}/x")),
        ("PATCH", format!("{OPS}/x")),
        ("PUT", format!("{OPS}/x/secret")),
        ("GET", format!("{OPS}/x/secret/rotate")),
        ("DELETE", format!("{OPS}/x/headers")),
    ] {
        let (status, v) = w.call(m, &path, "").await;
        assert_eq!(
            (status, &v["code"]),
            (405, &json!("method_not_allowed")),
            "{m} {path}"
        );
    }
    let (status, _) = w.call("GET", "/operational-webhook", "").await;
    assert_eq!(status, 404);
    let (status, _) = w.call("GET", &format!("{OPS}/x/y"), "").await;
    assert_eq!(status, 404);
}
