//! The configuration's endpoints under `_config`: their history read as the sender writes it,
//! every write refused but re-enabling, and the all-applications scope.

use hookline_core::api::history::{CONFIG_APP, Destination, MessageStatus};

use super::*;

fn configured() -> Vec<ConfiguredEndpoint> {
    vec![
        ConfiguredEndpoint {
            name: "billing".into(),
            url: "https://billing.example/hook".into(),
            event_types: Some(vec!["invoice.paid".into()]),
            enabled: true,
        },
        ConfiguredEndpoint {
            name: "slack".into(),
            url: "env:SLACK_URL".into(),
            event_types: None,
            enabled: true,
        },
    ]
}

fn config_world() -> World {
    world_settings(Vec::new(), configured())
}

/// A status and an attempt of message `msg` at configured endpoint `ep`, as the sender writes
/// them (under `_config`, the endpoint's name as its id).
async fn delivered(w: &World, ep: &str, msg: &str, status: MessageStatus, code: u16) {
    let at_status = if status == MessageStatus::Success {
        AttemptStatus::Success
    } else {
        AttemptStatus::Fail
    };
    let a = attempt(w, CONFIG_APP, msg, ep, at_status, code);
    w.api.registry.record_attempt(&a, None).await.unwrap();
    let d = Destination {
        app_id: CONFIG_APP.to_owned(),
        endpoint_id: ep.to_owned(),
        msg_id: msg.to_owned(),
        status,
        attempts: 1,
        next_attempt: None,
        last_attempt: None,
        failing_sent: false,
        updated_at: w.env.now().to_rfc3339(),
    };
    w.api.registry.put_destination(&d, None).await.unwrap();
}

#[tokio::test]
async fn the_configured_endpoints_read_as_an_application() {
    let w = config_world();
    let app = w.ok("GET", "/app/_config", "", 200).await;
    assert_eq!(app["id"], "_config");
    assert_eq!(app["uid"], Value::Null);
    assert_eq!(app["createdAt"], "1970-01-01T00:00:00Z");
    let eps = w.ok("GET", "/app/_config/endpoint", "", 200).await;
    assert_eq!(ids(&eps), ["billing", "slack"]);
    assert_eq!(eps["done"], true);
    // The env: reference is shown, never what it resolves to.
    assert_eq!(eps["data"][1]["url"], "env:SLACK_URL");
    assert_eq!(eps["data"][1]["eventTypes"], Value::Null);
    let p1 = w.ok("GET", "/app/_config/endpoint?limit=1", "", 200).await;
    assert_eq!(
        (ids(&p1), &p1["done"]),
        (vec!["billing".into()], &json!(false))
    );
    let p2 = w
        .ok(
            "GET",
            "/app/_config/endpoint?limit=1&iterator=billing",
            "",
            200,
        )
        .await;
    assert_eq!(
        (ids(&p2), &p2["done"]),
        (vec!["slack".into()], &json!(true))
    );
    let ep = w.ok("GET", "/app/_config/endpoint/billing", "", 200).await;
    assert_eq!(ep["url"], "https://billing.example/hook");
    assert_eq!(ep["eventTypes"], json!(["invoice.paid"]));
    assert_eq!(ep["disabled"], false);
    // Unknown names are 404, and so are the secret and headers (they live in the file).
    for path in [
        "/app/_config/endpoint/nope",
        "/app/_config/endpoint/nope/stats",
        "/app/_config/attempt/endpoint/nope",
        "/app/_config/endpoint/nope/msg",
        "/app/_config/endpoint/billing/secret",
        "/app/_config/endpoint/billing/headers",
        "/app/_config/msg",
        "/app/_config/msg/m1",
    ] {
        let (status, v) = w.call("GET", path, "").await;
        assert_eq!(status, 404, "{path}: {v}");
        assert_eq!(v["code"], "not_found", "{path}");
    }
}

#[tokio::test]
async fn without_configured_endpoints_config_is_an_unknown_application() {
    let w = world();
    let (status, _) = w.call("GET", "/app/_config", "").await;
    assert_eq!(status, 404);
    let (status, _) = w.call("GET", "/app/_config/endpoint", "").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn history_written_by_the_sender_is_read_back() {
    let w = config_world();
    delivered(&w, "billing", "m1", MessageStatus::Success, 200).await;
    w.tick(1000);
    delivered(&w, "billing", "m2", MessageStatus::Fail, 500).await;
    delivered(&w, "slack", "m2", MessageStatus::Success, 200).await;

    let by_ep = w
        .ok("GET", "/app/_config/attempt/endpoint/billing", "", 200)
        .await;
    let msgs: Vec<&Value> = by_ep["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["msgId"])
        .collect();
    assert_eq!(msgs, [&json!("m1"), &json!("m2")], "{by_ep}");
    assert_eq!(by_ep["data"][1]["responseStatusCode"], 500);
    let failed = w
        .ok(
            "GET",
            "/app/_config/attempt/endpoint/billing?status=2",
            "",
            200,
        )
        .await;
    assert_eq!(failed["data"].as_array().unwrap().len(), 1);

    let by_msg = w.ok("GET", "/app/_config/attempt/msg/m2", "", 200).await;
    assert_eq!(by_msg["data"].as_array().unwrap().len(), 2, "{by_msg}");
    let only = w
        .ok(
            "GET",
            "/app/_config/attempt/msg/m2?endpoint_id=slack",
            "",
            200,
        )
        .await;
    assert_eq!(only["data"].as_array().unwrap().len(), 1);
    assert_eq!(only["data"][0]["endpointId"], "slack");

    let dests = w.ok("GET", "/app/_config/msg/m2/endpoint", "", 200).await;
    assert_eq!(ids(&dests), ["billing", "slack"]);
    assert_eq!(dests["data"][0]["status"], 2);
    assert_eq!(dests["data"][1]["statusText"], "success");
    let dests = w.ok("GET", "/app/_config/msg/m1/endpoint", "", 200).await;
    assert_eq!(ids(&dests), ["billing"]);
    // The message itself, as its status records know it (`hookline log --msg` reads it).
    let m2 = w.ok("GET", "/app/_config/msg/m2", "", 200).await;
    assert_eq!(
        (&m2["id"], &m2["eventId"]),
        (&json!("m2"), &json!("m2")),
        "{m2}"
    );
    assert_eq!(m2["payload"], json!({}));
    let (status, v) = w.call("GET", "/app/_config/msg/m9", "").await;
    assert_eq!((status, &v["code"]), (404, &json!("not_found")), "{v}");

    let msgs = w
        .ok("GET", "/app/_config/endpoint/billing/msg", "", 200)
        .await;
    assert_eq!(ids(&msgs), ["m1", "m2"], "{msgs}");
    assert_eq!(msgs["data"][0]["eventType"], "");
    assert_eq!(msgs["data"][0]["payload"], json!({}));
    assert_eq!(msgs["data"][1]["status"], 2);
    let failed = w
        .ok("GET", "/app/_config/endpoint/billing/msg?status=2", "", 200)
        .await;
    assert_eq!(ids(&failed), ["m2"]);
    // Filtering by the message needs the message, which is not stored.
    let (status, v) = w
        .call("GET", "/app/_config/endpoint/billing/msg?event_types=a", "")
        .await;
    assert_eq!(status, 422, "{v}");

    w.tick(1000);
    let stats = w
        .ok("GET", "/app/_config/endpoint/billing/stats", "", 200)
        .await;
    assert_eq!(
        (&stats["success"], &stats["fail"], &stats["pending"]),
        (&json!(1), &json!(1), &json!(0)),
        "{stats}"
    );
}

#[tokio::test]
async fn every_write_is_refused_with_one_error() {
    let w = config_world();
    delivered(&w, "billing", "m1", MessageStatus::Fail, 500).await;
    let mut writes = 0;
    for (method, path, body) in app_routes("_config", "billing", "m1") {
        if method == "GET" {
            continue;
        }
        writes += 1;
        let (status, v) = w.call(method, &path, &body).await;
        assert_eq!(status, 409, "{method} {path}: {v}");
        assert_eq!(v["code"], "configured_endpoint", "{method} {path}");
        assert!(v["detail"].as_str().unwrap().contains("hookline.toml"));
    }
    assert!(writes > 10);
    // A PATCH that changes anything but `disabled: false` is a write too.
    for body in [r#"{"url":"https://x.example/"}"#, r#"{"disabled":true}"#] {
        let (status, _) = w.call("PATCH", "/app/_config/endpoint/billing", body).await;
        assert_eq!(status, 409, "{body}");
    }
    // A method no application route takes is still 405.
    let (status, _) = w.call("POST", "/app/_config", "{}").await;
    assert_eq!(status, 405);
    // Nothing was sent, and the history is as it was.
    assert!(w.sent().is_empty());
    let msgs = w
        .ok("GET", "/app/_config/endpoint/billing/msg", "", 200)
        .await;
    assert_eq!(msgs["data"][0]["status"], 2);
}

#[tokio::test]
async fn enabling_a_disabled_configured_endpoint_resets_its_health() {
    let w = config_world();
    // The sender's mark: `disabled` in the endpoint's health record.
    let doc = json!({"failures": 7, "failingSinceMs": START_MS, "disabled": true}).to_string();
    w.api
        .store()
        .put(Kind::Health, CONFIG_APP, "billing", &doc, None)
        .await
        .unwrap();
    let ep = w.ok("GET", "/app/_config/endpoint/billing", "", 200).await;
    assert_eq!(ep["disabled"], true);
    let ep = w
        .ok(
            "PATCH",
            "/app/_config/endpoint/billing",
            r#"{"disabled": false}"#,
            200,
        )
        .await;
    assert_eq!(ep["disabled"], false);
    assert_eq!(
        w.api.registry.health(CONFIG_APP, "billing").await.unwrap(),
        Default::default()
    );
    assert_eq!(
        w.ok("GET", "/app/_config/endpoint/billing", "", 200).await["disabled"],
        false
    );
    let (status, _) = w
        .call(
            "PATCH",
            "/app/_config/endpoint/nope",
            r#"{"disabled": false}"#,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_endpoint_disabled_in_the_file_is_enabled_only_there() {
    let mut eps = configured();
    eps[0].enabled = false;
    let w = world_settings(Vec::new(), eps);
    let ep = w.ok("GET", "/app/_config/endpoint/billing", "", 200).await;
    assert_eq!(ep["disabled"], true);
    let (status, v) = w
        .call(
            "PATCH",
            "/app/_config/endpoint/billing",
            r#"{"disabled": false}"#,
        )
        .await;
    assert_eq!(status, 409);
    assert!(v["detail"].as_str().unwrap().contains("enabled = false"));
}

#[tokio::test]
async fn a_damaged_health_record_is_not_read_as_enabled() {
    let w = config_world();
    w.api
        .store()
        .put(
            Kind::Health,
            CONFIG_APP,
            "billing",
            r#"{"disabled":"yes"}"#,
            None,
        )
        .await
        .unwrap();
    let (status, _) = w.call("GET", "/app/_config/endpoint/billing", "").await;
    assert_eq!(status, 503);
}

#[tokio::test]
async fn a_scoped_token_gets_403_on_config() {
    let w = config_world();
    delivered(&w, "billing", "m1", MessageStatus::Success, 200).await;
    for (method, path, body) in app_routes("_config", "billing", "m1") {
        let (status, v) = w.call_with(method, &path, Some(ACME), &body, &[]).await;
        assert_eq!(status, 403, "{method} {path}: {v}");
    }
    // Unknown names too: a scoped token learns nothing of the configuration.
    let (status, _) = w
        .call_with("GET", "/app/_config/endpoint/nope", Some(ACME), "", &[])
        .await;
    assert_eq!(status, 403);
}
