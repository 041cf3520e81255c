//! The history routes: a message's status at each endpoint, an endpoint's messages, its
//! statistics, recover, and endpoint health on enable and delete.

use hookline_core::api::history::{Destination, HealthPolicy, MessageStatus, Observed};

use super::*;

const HOUR_MS: i64 = 3_600_000;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms)
}

/// Writes a message's status at an endpoint, as the sender does, last changed at `changed_ms`.
async fn dest(w: &World, app: &str, ep: &str, msg: &str, status: MessageStatus, changed_ms: i64) {
    let d = Destination {
        app_id: app.to_owned(),
        endpoint_id: ep.to_owned(),
        msg_id: msg.to_owned(),
        status,
        attempts: 1,
        next_attempt: (status == MessageStatus::Pending)
            .then(|| at(changed_ms + 60_000).to_rfc3339()),
        last_attempt: None,
        failing_sent: false,
        updated_at: at(changed_ms).to_rfc3339(),
    };
    w.api.registry.put_destination(&d, None).await.unwrap();
}

async fn msg_id(w: &World, app: &str, body: Value) -> String {
    w.message(app, body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_message_lists_the_endpoints_that_have_a_status_for_it() {
    let w = world();
    let app = w.app("acme").await;
    let ep1 = w.endpoint(&app, json!({"url": "https://a.example/"})).await;
    let ep2 = w.endpoint(&app, json!({"url": "https://b.example/"})).await;
    let ep3 = w.endpoint(&app, json!({"url": "https://c.example/"})).await;
    let m = msg_id(
        &w,
        &app,
        json!({"eventType": "a", "payload": {}, "eventId": "evt-1"}),
    )
    .await;
    dest(&w, &app, &ep1, &m, MessageStatus::Success, START_MS).await;
    dest(&w, &app, &ep3, &m, MessageStatus::Pending, START_MS).await;
    // By id and by eventId alike.
    for name in [m.as_str(), "evt-1"] {
        let v = w
            .ok("GET", &format!("/app/acme/msg/{name}/endpoint"), "", 200)
            .await;
        assert_eq!(ids(&v), [ep1.clone(), ep3.clone()], "{v}");
        let first = &v["data"][0];
        assert_eq!(
            (&first["status"], &first["statusText"]),
            (&json!(0), &json!("success"))
        );
        assert_eq!(first["url"], "https://a.example/");
        assert_eq!(v["data"][1]["status"], 1);
        assert_eq!(
            v["data"][1]["nextAttempt"],
            at(START_MS + 60_000).to_rfc3339()
        );
        assert_eq!(first["nextAttempt"], Value::Null);
    }
    // Paged by endpoint id: the second endpoint has no status and is not shown.
    let p1 = w
        .ok(
            "GET",
            &format!("/app/{app}/msg/{m}/endpoint?limit=1"),
            "",
            200,
        )
        .await;
    assert_eq!((ids(&p1), &p1["done"]), (vec![ep1.clone()], &json!(false)));
    let p2 = w
        .ok(
            "GET",
            &format!("/app/{app}/msg/{m}/endpoint?limit=1&iterator={ep1}"),
            "",
            200,
        )
        .await;
    assert_eq!((ids(&p2), &p2["done"]), (vec![ep3.clone()], &json!(true)));
    let _ = ep2;
    // Bad input and missing records.
    let (status, v) = w
        .call("GET", &format!("/app/{app}/msg/{m}/endpoint?limit=0"), "")
        .await;
    assert_eq!(
        (status, loc(&v)),
        (422, vec!["query".into(), "limit".into()])
    );
    let (status, _) = w
        .call("GET", &format!("/app/{app}/msg/nope/endpoint"), "")
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .call("GET", &format!("/app/nope/msg/{m}/endpoint"), "")
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .call_with(
            "GET",
            &format!("/app/{app}/msg/{m}/endpoint"),
            Some(ACME),
            "",
            &[],
        )
        .await;
    assert_eq!(status, 200, "its own application");
}

#[tokio::test]
async fn an_endpoint_lists_its_messages_by_status_and_time() {
    let w = world();
    let app = w.app("acme").await;
    let ep = w.endpoint(&app, json!({"url": "https://a.example/"})).await;
    let m1 = msg_id(
        &w,
        &app,
        json!({"eventType": "a", "payload": {"n": 1}, "channels": ["eu"]}),
    )
    .await;
    w.tick(HOUR_MS);
    let m2 = msg_id(&w, &app, json!({"eventType": "b", "payload": {"n": 2}})).await;
    w.tick(HOUR_MS);
    let m3 = msg_id(&w, &app, json!({"eventType": "a", "payload": {"n": 3}})).await;
    // A message that never had a status here is not listed.
    let _m4 = msg_id(&w, &app, json!({"eventType": "a", "payload": {}})).await;
    dest(&w, &app, &ep, &m1, MessageStatus::Success, START_MS).await;
    dest(&w, &app, &ep, &m2, MessageStatus::Fail, START_MS).await;
    dest(&w, &app, &ep, &m3, MessageStatus::Skipped, START_MS).await;
    let list = |q: &str| format!("/app/{app}/endpoint/{ep}/msg?{q}");

    let all = w.ok("GET", &list(""), "", 200).await;
    assert_eq!(ids(&all), [m1.clone(), m2.clone(), m3.clone()]);
    assert_eq!(all["data"][0]["payload"], json!({"n": 1}));
    assert_eq!(all["data"][0]["eventType"], "a");
    assert_eq!(
        (&all["data"][2]["status"], &all["data"][2]["statusText"]),
        (&json!(4), &json!("canceled"))
    );
    // Older clients see canceled as success (Svix's `expanded_statuses=false`).
    let old = w.ok("GET", &list("expanded_statuses=false"), "", 200).await;
    assert_eq!(old["data"][2]["status"], 0);

    let cases: Vec<(String, Vec<String>)> = vec![
        ("status=2".into(), vec![m2.clone()]),
        ("status=4".into(), vec![m3.clone()]),
        ("status=1".into(), vec![]),
        ("channel=eu".into(), vec![m1.clone()]),
        ("event_types=a".into(), vec![m1.clone(), m3.clone()]),
        // The messages were made an hour apart: after/before are exclusive.
        (
            format!("after={}", at(START_MS).to_rfc3339()),
            vec![m2.clone(), m3.clone()],
        ),
        (
            format!("before={}", at(START_MS + HOUR_MS).to_rfc3339()),
            vec![m1.clone()],
        ),
        (
            format!(
                "after={}&before={}",
                at(START_MS + 1).to_rfc3339(),
                at(START_MS + 2 * HOUR_MS).to_rfc3339()
            ),
            vec![m2.clone()],
        ),
    ];
    for (q, want) in cases {
        let v = w.ok("GET", &list(&q), "", 200).await;
        assert_eq!(ids(&v), want, "{q}");
    }
    let bare = w.ok("GET", &list("with_content=false"), "", 200).await;
    assert_eq!(bare["data"][0]["payload"], json!({}));
    let page = w.ok("GET", &list("limit=2"), "", 200).await;
    assert_eq!(
        (ids(&page), &page["done"]),
        (vec![m1.clone(), m2.clone()], &json!(false))
    );
    let rest = w
        .ok("GET", &list(&format!("limit=2&iterator={m2}")), "", 200)
        .await;
    assert_eq!(
        (ids(&rest), &rest["done"]),
        (vec![m3.clone()], &json!(true))
    );

    for (q, field) in [
        ("status=5", "status"),
        ("status=x", "status"),
        ("before=yesterday", "before"),
        ("after=1", "after"),
        ("with_content=maybe", "with_content"),
        ("expanded_statuses=2", "expanded_statuses"),
        ("channel=a%20b", "channel"),
        ("iterator=bad%20one", "iterator"),
    ] {
        let (status, v) = w.call("GET", &list(q), "").await;
        assert_eq!(
            (status, loc(&v)),
            (422, vec!["query".to_owned(), field.to_owned()]),
            "{q}: {v}"
        );
    }
    let (status, _) = w
        .call("GET", &format!("/app/{app}/endpoint/nope/msg"), "")
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_message_from_the_queue_is_placed_in_time_by_its_timestamp() {
    let w = world();
    let app = w.app("acme").await;
    let ep = w.endpoint(&app, json!({"url": "https://a.example/"})).await;
    // The sender records a message put straight on the queue under the id its sender chose,
    // which holds no time.
    let payload = serde_json::value::RawValue::from_string("{}".into()).unwrap();
    let queued = Message {
        id: "order-1".into(),
        app_id: app.clone(),
        event_id: None,
        event_type: "a".into(),
        payload,
        channels: None,
        timestamp: at(START_MS + 2 * HOUR_MS).to_rfc3339(),
        enqueued: true,
    };
    w.api
        .store()
        .create(Kind::Message, &app, "order-1", &[], &encode(&queued), None)
        .await
        .unwrap();
    dest(&w, &app, &ep, "order-1", MessageStatus::Success, START_MS).await;
    let list = |q: String| format!("/app/{app}/endpoint/{ep}/msg?{q}");
    let after = |ms: i64| format!("after={}", at(ms).to_rfc3339());
    let v = w.ok("GET", &list(after(START_MS + HOUR_MS)), "", 200).await;
    assert_eq!(ids(&v), ["order-1"]);
    let v = w
        .ok("GET", &list(after(START_MS + 3 * HOUR_MS)), "", 200)
        .await;
    assert!(ids(&v).is_empty());
}

#[tokio::test]
async fn stats_count_the_statuses_that_changed_in_the_period() {
    let w = world();
    let app = w.app("acme").await;
    let ep = w.endpoint(&app, json!({"url": "https://a.example/"})).await;
    let mut msgs = Vec::new();
    for _ in 0..6 {
        msgs.push(msg_id(&w, &app, json!({"eventType": "a", "payload": {}})).await);
    }
    let day = 24 * HOUR_MS;
    // Now is START + 30 days; the default period is the 28 days before.
    w.tick(30 * day);
    let now = START_MS + 30 * day;
    dest(
        &w,
        &app,
        &ep,
        &msgs[0],
        MessageStatus::Success,
        now - HOUR_MS,
    )
    .await;
    dest(
        &w,
        &app,
        &ep,
        &msgs[1],
        MessageStatus::Success,
        now - 2 * HOUR_MS,
    )
    .await;
    dest(&w, &app, &ep, &msgs[2], MessageStatus::Fail, now - day).await;
    dest(
        &w,
        &app,
        &ep,
        &msgs[3],
        MessageStatus::Skipped,
        now - 3 * day,
    )
    .await;
    dest(&w, &app, &ep, &msgs[4], MessageStatus::Sending, now - 10).await;
    // Outside the default period.
    dest(&w, &app, &ep, &msgs[5], MessageStatus::Fail, now - 29 * day).await;
    let stats = |q: &str| format!("/app/{app}/endpoint/{ep}/stats?{q}");
    let v = w.ok("GET", &stats(""), "", 200).await;
    assert_eq!(
        v,
        json!({"success": 2, "pending": 0, "fail": 1, "sending": 1, "canceled": 1})
    );
    let since = at(now - 2 * day).to_rfc3339();
    let until = at(now - 90 * 60_000).to_rfc3339();
    let v = w
        .ok(
            "GET",
            &stats(&format!("since={since}&until={until}")),
            "",
            200,
        )
        .await;
    assert_eq!(
        v,
        json!({"success": 1, "pending": 0, "fail": 1, "sending": 0, "canceled": 0})
    );
    // Svix's range rules: 400 invalid_range.
    for q in [
        format!("until={}", at(now + 1000).to_rfc3339()),
        format!("since={}", at(now - 29 * day).to_rfc3339()),
        format!(
            "since={}&until={}",
            at(now - day).to_rfc3339(),
            at(now - 2 * day).to_rfc3339()
        ),
    ] {
        let (status, v) = w.call("GET", &stats(&q), "").await;
        assert_eq!(
            (status, &v["code"]),
            (400, &json!("invalid_range")),
            "{q}: {v}"
        );
    }
    let (status, v) = w.call("GET", &stats("since=last-week"), "").await;
    assert_eq!(
        (status, loc(&v)),
        (422, vec!["query".into(), "since".into()])
    );
    let (status, _) = w
        .call("GET", &format!("/app/{app}/endpoint/nope/stats"), "")
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn recover_sends_exactly_the_failed_and_skipped_messages_of_the_period() {
    let w = world();
    let app = w.app("acme").await;
    let ep = w
        .endpoint(&app, json!({"url": "https://a.example/", "uid": "hook"}))
        .await;
    let other = w.endpoint(&app, json!({"url": "https://b.example/"})).await;
    let mut m = Vec::new();
    for i in 0..7 {
        m.push(
            msg_id(
                &w,
                &app,
                json!({"eventType": "a", "payload": {"n": i}, "channels": ["eu"]}),
            )
            .await,
        );
    }
    let sent_before = w.sent().len();
    let t = START_MS + 5 * HOUR_MS;
    dest(&w, &app, &ep, &m[0], MessageStatus::Fail, t).await;
    dest(&w, &app, &ep, &m[1], MessageStatus::Skipped, t + 1).await;
    dest(&w, &app, &ep, &m[2], MessageStatus::Success, t).await;
    dest(&w, &app, &ep, &m[3], MessageStatus::Pending, t).await;
    // Failed before `since`.
    dest(&w, &app, &ep, &m[4], MessageStatus::Fail, t - 2 * HOUR_MS).await;
    // Failed, but its message has expired.
    dest(&w, &app, &ep, "msg_expired", MessageStatus::Fail, t).await;
    // Failed at another endpoint.
    dest(&w, &app, &other, &m[5], MessageStatus::Fail, t).await;
    // Failed after `until`.
    dest(&w, &app, &ep, &m[6], MessageStatus::Fail, t + 3 * HOUR_MS).await;
    w.tick(10 * HOUR_MS);
    let body = json!({
        "since": at(t - HOUR_MS).to_rfc3339(),
        "until": at(t + 2 * HOUR_MS).to_rfc3339(),
    })
    .to_string();
    let v = w
        .ok("POST", "/app/acme/endpoint/hook/recover", &body, 202)
        .await;
    assert_eq!(
        (&v["status"], &v["task"]),
        (&json!("finished"), &json!("endpoint.recover"))
    );
    assert!(v["id"].as_str().unwrap().starts_with("qtask_"), "{v}");
    assert_eq!(v["updatedAt"], w.env.now().to_rfc3339());
    let sent: Vec<Value> = w.sent().into_iter().skip(sent_before).collect();
    let got: Vec<&str> = sent.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(got, [m[0].as_str(), m[1].as_str()]);
    for (s, n) in sent.iter().zip([0, 1]) {
        // The same message id (so the same webhook-id), for this endpoint only.
        assert_eq!(s["trigger"], "recovery");
        assert_eq!(s["endpoints"], json!([ep]));
        assert_eq!(s["application"], json!(app));
        assert_eq!(s["type"], "a");
        assert_eq!(s["data"], json!({"n": n}));
        assert_eq!(s["channels"], json!(["eu"]));
    }
    // Both are pending now; the rest are as they were.
    for (msg, want) in [
        (&m[0], MessageStatus::Pending),
        (&m[1], MessageStatus::Pending),
        (&m[2], MessageStatus::Success),
        (&m[4], MessageStatus::Fail),
        (&m[6], MessageStatus::Fail),
    ] {
        let d = w
            .api
            .registry
            .destination(&app, &ep, msg)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.status, want, "{msg}");
    }
    // Run again: nothing is left to recover in that period.
    w.ok(
        "POST",
        &format!("/app/{app}/endpoint/{ep}/recover"),
        &body,
        202,
    )
    .await;
    assert_eq!(w.sent().len(), sent_before + 2);
    // `until` defaults to now: the later failure goes too.
    let since = json!({"since": at(t + HOUR_MS).to_rfc3339()}).to_string();
    w.ok(
        "POST",
        &format!("/app/{app}/endpoint/{ep}/recover"),
        &since,
        202,
    )
    .await;
    assert_eq!(w.sent().last().unwrap()["id"], json!(m[6]));

    // The queue failing is a 503, and the status stays recoverable for the retry.
    dest(
        &w,
        &app,
        &ep,
        &m[4],
        MessageStatus::Fail,
        w.env.now().unix_millis() - 1,
    )
    .await;
    w.outbox.failing.store(true, Ordering::SeqCst);
    let (status, _) = w
        .call("POST", &format!("/app/{app}/endpoint/{ep}/recover"), &since)
        .await;
    w.outbox.failing.store(false, Ordering::SeqCst);
    assert_eq!(status, 503);
    let d = w
        .api
        .registry
        .destination(&app, &ep, &m[4])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.status, MessageStatus::Fail);
    w.ok(
        "POST",
        &format!("/app/{app}/endpoint/{ep}/recover"),
        &since,
        202,
    )
    .await;
    assert_eq!(w.sent().last().unwrap()["id"], json!(m[4]));
}

#[tokio::test]
async fn recover_refuses_a_disabled_endpoint_and_bad_periods() {
    let w = world();
    let app = w.app("acme").await;
    let ep = w
        .endpoint(&app, json!({"url": "https://a.example/", "disabled": true}))
        .await;
    let path = format!("/app/{app}/endpoint/{ep}/recover");
    let now = START_MS;
    let since = json!({"since": at(now - HOUR_MS).to_rfc3339()}).to_string();
    let (status, v) = w.call("POST", &path, &since).await;
    assert_eq!((status, &v["code"]), (409, &json!("conflict")), "{v}");
    for (body, field) in [
        ("{}".to_owned(), "since"),
        (r#"{"since":"yesterday"}"#.to_owned(), "since"),
        (r#"{"since":5}"#.to_owned(), "since"),
        (
            json!({"since": at(now - HOUR_MS).to_rfc3339(), "until": "soon"}).to_string(),
            "until",
        ),
        // More than 14 days.
        (
            json!({"since": at(now - 15 * 24 * HOUR_MS).to_rfc3339()}).to_string(),
            "since",
        ),
        // `since` after `until`.
        (
            json!({"since": at(now - HOUR_MS).to_rfc3339(), "until": at(now - 2 * HOUR_MS).to_rfc3339()})
                .to_string(),
            "since",
        ),
    ] {
        let (status, v) = w.call("POST", &path, &body).await;
        assert_eq!((status, loc(&v)), (422, vec!["body".to_owned(), field.to_owned()]), "{body}: {v}");
    }
    let (status, _) = w.call("POST", &path, "[1]").await;
    assert_eq!(status, 422);
    let (status, _) = w.call("POST", &path, "{").await;
    assert_eq!(status, 400);
    let (status, _) = w
        .call("POST", &format!("/app/{app}/endpoint/nope/recover"), &since)
        .await;
    assert_eq!(status, 404);
    // Other methods on the route: 405.
    let (status, _) = w.call("GET", &path, "").await;
    assert_eq!(status, 405);
    assert!(w.sent().is_empty());
}

#[tokio::test]
async fn enabling_again_or_deleting_an_endpoint_forgets_its_failures() {
    let w = world();
    let app = w.app("acme").await;
    let ep = w.endpoint(&app, json!({"url": "https://a.example/"})).await;
    let reg = &w.api.registry;
    let fail = || {
        reg.observe_health(
            &app,
            &ep,
            Observed::Failure,
            store_now(),
            &HealthPolicy::DEFAULT,
        )
    };
    fail().await.unwrap();
    fail().await.unwrap();
    let path = format!("/app/{app}/endpoint/{ep}");
    // Other changes, disabling included, keep the run.
    w.ok("PATCH", &path, r#"{"description":"x"}"#, 200).await;
    w.ok("PATCH", &path, r#"{"disabled":true}"#, 200).await;
    assert_eq!(reg.health(&app, &ep).await.unwrap().failures, 2);
    // Enabled again (PATCH or PUT): forgotten.
    w.ok("PATCH", &path, r#"{"disabled":false}"#, 200).await;
    assert_eq!(reg.health(&app, &ep).await.unwrap(), Default::default());
    fail().await.unwrap();
    w.ok("PATCH", &path, r#"{"disabled":true}"#, 200).await;
    w.ok("PUT", &path, r#"{"url":"https://a.example/"}"#, 200)
        .await;
    assert_eq!(reg.health(&app, &ep).await.unwrap(), Default::default());
    // Deleted: forgotten with it.
    fail().await.unwrap();
    w.ok("DELETE", &path, "", 204).await;
    assert_eq!(reg.health(&app, &ep).await.unwrap(), Default::default());
}

#[tokio::test]
async fn attempts_filter_by_trigger_and_show_the_history_fields() {
    let w = world();
    let app = w.app("acme").await;
    let ep = w.endpoint(&app, json!({"url": "https://a.example/"})).await;
    let m = msg_id(&w, &app, json!({"eventType": "a", "payload": {}})).await;
    let mut first = attempt(&w, &app, &m, &ep, AttemptStatus::Fail, 503);
    first.error_class = Some(hookline_core::api::history::ErrorClass::Status);
    first.next_attempt = Some(at(START_MS + 5000).to_rfc3339());
    let mut again = attempt(&w, &app, &m, &ep, AttemptStatus::Success, 200);
    again.trigger = Trigger::Recovery;
    for a in [&first, &again] {
        w.api.registry.record_attempt(a, None).await.unwrap();
    }
    let by_ep = |q: &str| format!("/app/{app}/attempt/endpoint/{ep}?{q}");
    let v = w.ok("GET", &by_ep("trigger=recovery"), "", 200).await;
    assert_eq!(ids(&v), [again.id.clone()]);
    assert_eq!(v["data"][0]["trigger"], "recovery");
    let v = w
        .ok("GET", &by_ep("trigger=scheduled&status=2"), "", 200)
        .await;
    assert_eq!(ids(&v), [first.id.clone()]);
    assert_eq!(v["data"][0]["errorClass"], "status");
    assert_eq!(
        v["data"][0]["nextAttempt"],
        at(START_MS + 5000).to_rfc3339()
    );
    let v = w
        .ok(
            "GET",
            &format!("/app/{app}/attempt/msg/{m}?trigger=manual"),
            "",
            200,
        )
        .await;
    assert!(ids(&v).is_empty());
    let (status, v) = w.call("GET", &by_ep("trigger=later"), "").await;
    assert_eq!(
        (status, loc(&v)),
        (422, vec!["query".into(), "trigger".into()])
    );
}
