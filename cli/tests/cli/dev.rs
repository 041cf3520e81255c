//! `hookline dev` end to end: the real binary, real HTTP, the Python sink that checks signatures
//! with the official `standardwebhooks` library, and `aws-sdk-sqs` against the embedded queue.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hookline_tests::harness::{
    Sink, chunked_post, delete, free_port, receive_batch_waiting, sqs_client,
};
use serde_json::{Value, json};

use super::common::{
    Dev, bin, demo_config, post, repo_file, standard_headers, stripe_headers, wait_until,
};

/// The demo's inbound secret (hookline.toml, `[sources.demo]`).
const DEMO_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The demo's endpoint secret (hookline.toml, `[endpoints.listener]`).
const LISTENER_SECRET: &str = "whsec_aG9va2xpbmUtZGVtby1vdXRib3VuZC1rZXkhIQ==";
/// A configuration with one GitHub source and no endpoints.
const GITHUB_ONLY: &str = "[sources.gh]\nscheme = \"github\"\nsecrets = [\"literal:s\"]\n";
/// The demo's Stripe secret.
const STRIPE_SECRET: &str = "whsec_demo_stripe_signing_secret";

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_relays_a_signed_webhook_to_a_verifying_sink() {
    let sink = Sink::start(&[LISTENER_SECRET]);
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(
        dir.path(),
        &demo_config(&sink.url("/ok/demo"), "[\"1s\"]"),
        free_port(),
    );
    let ready = dev.ready();
    assert_eq!(ready["sources"][0]["name"], "demo");

    let body = br#"{"type":"order.created","data":{"id":42,"total":"9.99"}}"#.to_vec();
    let headers = standard_headers(DEMO_SECRET, "msg_demo_1", &body);
    let (status, answer) = post(&dev.url("/hooks/demo"), &headers, body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({"ok": true, "id": "msg_demo_1"}));

    let got = sink.wait_for(1, Duration::from_secs(20));
    let d = &got[0];
    assert_eq!(d["signature_valid"], true, "{d}");
    assert_eq!(d["path"], "/ok/demo");
    let delivered: Value = serde_json::from_str(d["body"].as_str().unwrap()).unwrap();
    assert_eq!(delivered["type"], "order.created");
    // The relayed event's data is the provider's JSON body, unchanged.
    assert_eq!(delivered["data"]["data"]["id"], 42);
    // The webhook-id is stable and derived from the source and the provider's id.
    assert_eq!(d["webhook_id"], "demo:msg_demo_1");
    wait_until(Duration::from_secs(5), "the delivery log line", || {
        dev.events("delivery_attempt")
            .into_iter()
            .find(|e| e["outcome"] == "delivered")
    });
    let received = dev.events("received");
    assert_eq!(received[0]["queue"], "hookline-outbound");
}

/// Both `--durability` settings keep what they acknowledged through a `kill -9` (the default,
/// `process`, is the one every other test here runs); the banner says which is on.
#[tokio::test(flavor = "multi_thread")]
async fn each_durability_keeps_what_it_acknowledged_through_kill_9() {
    for durability in ["power", "process"] {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        // The endpoint is down: everything stays pending.
        let dead_port = free_port();
        let dev = Dev::start_with(
            dir.path(),
            &demo_config(
                &format!("http://127.0.0.1:{dead_port}/ok/down"),
                "[\"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\"]",
            ),
            port,
            &["--durability", durability],
        );
        assert_eq!(dev.ready()["durability"], durability);
        let mut relayed = Vec::new();
        for i in 0..8 {
            let body = format!(r#"{{"type":"order.paid","data":{{"n":{i}}}}}"#).into_bytes();
            let id = format!("msg_{durability}_{i}");
            let (status, answer) = post(
                &dev.url("/hooks/demo"),
                &standard_headers(DEMO_SECRET, &id, &body),
                body,
            )
            .await;
            assert_eq!(status, 200, "{answer}");
            relayed.push(format!("demo:{id}"));
        }
        // Answered, so committed: kill -9 loses nothing.
        dev.kill_9();

        let sink = Sink::start(&[LISTENER_SECRET]);
        let dev = Dev::start(
            dir.path(),
            &demo_config(&sink.url("/ok/up"), "[\"1s\"]"),
            port,
        );
        assert_eq!(dev.ready()["durability"], "process", "the default");
        let got = sink.wait_for(relayed.len(), Duration::from_secs(30));
        let mut ids: Vec<String> = got
            .iter()
            .map(|d| {
                assert_eq!(d["signature_valid"], true, "{d}");
                d["webhook_id"].as_str().unwrap().to_owned()
            })
            .collect();
        ids.sort();
        ids.dedup();
        relayed.sort();
        assert_eq!(ids, relayed, "{durability}: every acknowledged event");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_with_messages_pending_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // Phase 1: the endpoint is down (nothing listens on this port), so everything is pending.
    let dead_port = free_port();
    let dev = Dev::start(
        dir.path(),
        &demo_config(
            &format!("http://127.0.0.1:{dead_port}/ok/down"),
            "[\"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\"]",
        ),
        port,
    );
    let mut relayed = Vec::new();
    for i in 0..20 {
        let body = format!(r#"{{"type":"order.paid","data":{{"n":{i}}}}}"#).into_bytes();
        let id = format!("msg_kill_{i}");
        let (status, answer) = post(
            &dev.url("/hooks/demo"),
            &standard_headers(DEMO_SECRET, &id, &body),
            body,
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        relayed.push(format!("demo:{id}"));
    }
    for i in 0..5 {
        let body = format!(r#"{{"id":"evt_{i}","type":"invoice.paid","data":{{}}}}"#).into_bytes();
        let (status, answer) = post(
            &dev.url("/hooks/stripe"),
            &stripe_headers(STRIPE_SECRET, &body),
            body,
        )
        .await;
        assert_eq!(status, 200, "{answer}");
    }
    let (status, answer) = post(
        &dev.url("/events"),
        &[],
        br#"[{"type":"user.created","id":"app_1","data":{}},{"type":"user.created","id":"app_2","data":{}}]"#.to_vec(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    relayed.extend(["app_1".to_owned(), "app_2".to_owned()]);
    // Let some deliveries fail and get scheduled, others be in flight, then kill -9.
    wait_until(Duration::from_secs(10), "a failed attempt", || {
        dev.events("delivery_attempt").first().cloned()
    });
    dev.kill_9();

    // Phase 2: the endpoint is up; the same data directory.
    let sink = Sink::start(&[LISTENER_SECRET]);
    let dev = Dev::start(
        dir.path(),
        &demo_config(&sink.url("/ok/up"), "[\"1s\"]"),
        port,
    );
    let got = sink.wait_for(22, Duration::from_secs(30));
    let mut ids: Vec<String> = got
        .iter()
        .map(|d| {
            assert_eq!(d["signature_valid"], true, "{d}");
            d["webhook_id"].as_str().unwrap().to_owned()
        })
        .collect();
    ids.sort();
    ids.dedup();
    relayed.sort();
    assert_eq!(
        ids, relayed,
        "every acknowledged event is delivered after the restart"
    );

    // The Stripe events stayed on the inbound queue, readable with the AWS SDK.
    let sqs = sqs_client(&dev.url("")).await;
    let inbound = dev.ready()["queues"]["inbound"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let msgs = receive_batch_waiting(&sqs, &inbound, Some(1)).await;
        assert!(!msgs.is_empty(), "only {} inbound events", seen.len());
        for m in msgs {
            let env: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            assert_eq!(env["source"], "stripe");
            assert_eq!(
                m.message_attributes().unwrap()["hookline-source"].string_value(),
                Some("stripe")
            );
            seen.push(env["id"].as_str().unwrap().to_owned());
            delete(&sqs, &inbound, &m).await;
        }
    }
    seen.sort();
    assert_eq!(seen, ["evt_0", "evt_1", "evt_2", "evt_3", "evt_4"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_endpoints_are_retried_then_dead_lettered_on_the_embedded_dlq() {
    let sink = Sink::start(&[LISTENER_SECRET]);
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(
        dir.path(),
        &demo_config(&sink.url("/status/500/always"), "[\"1s\"]"),
        free_port(),
    );
    let (status, _) = post(
        &dev.url("/events"),
        &[],
        br#"{"type":"order.created","id":"ord_1","data":{"id":1}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 202);
    let got = sink.wait_for(2, Duration::from_secs(20));
    assert_eq!(
        got[0]["webhook_id"], got[1]["webhook_id"],
        "same id on retry"
    );
    assert!(got.iter().all(|d| d["signature_valid"] == true));

    let sqs = sqs_client(&dev.url("")).await;
    let dlq = dev.ready()["queues"]["outbound_dlq"]
        .as_str()
        .unwrap()
        .to_owned();
    let msg = hookline_tests::harness::poll_until(Duration::from_secs(20), || {
        let sqs = sqs.clone();
        let dlq = dlq.clone();
        async move {
            let out = sqs
                .receive_message()
                .queue_url(&dlq)
                .message_attribute_names("All")
                .send()
                .await
                .unwrap();
            out.messages().first().cloned()
        }
    })
    .await;
    let attrs = msg.message_attributes().unwrap();
    assert_eq!(attrs["hookline-status"].string_value(), Some("500"));
    assert_eq!(attrs["hookline-attempts"].string_value(), Some("2"));
    assert_eq!(attrs["hookline-endpoint"].string_value(), Some("listener"));
    let body: Value = serde_json::from_str(msg.body().unwrap()).unwrap();
    assert_eq!(body["message_id"], "ord_1");
    let outcomes: Vec<Value> = dev
        .events("delivery_attempt")
        .iter()
        .map(|e| e["outcome"].clone())
        .collect();
    assert_eq!(outcomes, [json!("retry"), json!("dead_lettered")]);
    // Nothing is left on the outbound queue.
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(dev.ready()["queues"]["outbound"].as_str().unwrap())
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let a = attrs.attributes().unwrap();
    assert_eq!(
        a[&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages],
        "0"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_embedded_queue_speaks_sqs_to_the_aws_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(dir.path(), GITHUB_ONLY, free_port());
    let sqs = sqs_client(&dev.url("")).await;
    let url = sqs
        .get_queue_url()
        .queue_name("hookline-inbound")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    assert_eq!(url, dev.url("/000000000000/hookline-inbound"));
    let sent = sqs
        .send_message()
        .queue_url(&url)
        .message_body("hello")
        .message_attributes(
            "k",
            aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value("v")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent.md5_of_message_body(),
        Some("5d41402abc4b2a76b9719d911017c592")
    );
    assert_eq!(
        sent.md5_of_message_attributes(),
        Some("0a77b0642718c3d9dd47090567d11e0d")
    );
    let got = sqs
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(1)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap();
    let m = &got.messages()[0];
    assert_eq!(m.body(), Some("hello"));
    assert_eq!(m.message_id(), sent.message_id());
    // Hidden for the visibility timeout, back after it, with the receive count up.
    let empty = sqs.receive_message().queue_url(&url).send().await.unwrap();
    assert!(empty.messages().is_empty());
    let again = sqs
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(3)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap();
    let m2 = &again.messages()[0];
    let count = &m2.attributes().unwrap()
        [&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount];
    assert_eq!(count, "2");
    // A stale receipt cannot change visibility; the current one deletes.
    let err = sqs
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(m.receipt_handle().unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("ReceiptHandleIsInvalid"),
        "{err:?}"
    );
    delete(&sqs, &url, m2).await;
    // Unknown queues map to the SDK's typed error.
    let err = sqs
        .send_message()
        .queue_url(dev.url("/000000000000/nope"))
        .message_body("x")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_queue_does_not_exist()),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_receiver_routes_answer_like_the_worker() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(
        dir.path(),
        "[sources.gh]\nscheme = \"github\"\nsecrets = [\"literal:s3cret\"]\nmax_body_bytes = 1000\n",
        free_port(),
    );
    let client = reqwest::Client::new();
    let health = client.get(dev.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    for (path, status, code) in [
        ("/nope", 404, "not_found"),
        ("/hooks/unknown", 404, "unknown_source"),
        ("/hooks/gh", 401, "missing_header"),
    ] {
        let (s, body) = post(&dev.url(path), &[], b"{}".to_vec()).await;
        assert_eq!(
            (s, body["error"].as_str().unwrap()),
            (status, code),
            "{path}"
        );
    }
    let get = client.get(dev.url("/hooks/gh")).send().await.unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    // 413 from Content-Length, and from a chunked body without one.
    let (s, _) = post(&dev.url("/hooks/gh"), &[], vec![b'x'; 2000]).await;
    assert_eq!(s, 413);
    assert_eq!(chunked_post(&dev.url("/hooks/gh"), 4096), 413);
    // Signed but not JSON: 400 invalid_json, after the signature passed.
    let body = b"not json".to_vec();
    let sig = {
        use hmac::{KeyInit as _, Mac as _};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(&body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    let headers = vec![
        ("x-hub-signature-256".to_owned(), sig.clone()),
        ("x-github-event".to_owned(), "push".to_owned()),
        ("x-github-delivery".to_owned(), "d-1".to_owned()),
    ];
    let (s, b) = post(&dev.url("/hooks/gh"), &headers, body).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_json")));
    let (s, b) = post(&dev.url("/hooks/gh"), &headers, b"{\"a\":1}".to_vec()).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (401, Some("signature_mismatch")),
        "{b}"
    );
    // POST /events refuses what SQS's consumers could not read.
    let (s, b) = post(&dev.url("/events"), &[], b"{\"data\":{}}".to_vec()).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_message")),
        "{b}"
    );
    // A web page cannot drive it: a foreign Origin, or a rebound host name, gets 403.
    let origin = [("origin".to_owned(), "https://attacker.example".to_owned())];
    let (s, b) = post(
        &dev.url("/events"),
        &origin,
        br#"{"type":"x.y","data":{}}"#.to_vec(),
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (403, Some("forbidden_origin")));
    let rebound = [
        ("host".to_owned(), "rebind.attacker.example".to_owned()),
        ("x-amz-target".to_owned(), "AmazonSQS.ListQueues".to_owned()),
    ];
    let (s, b) = post(&dev.url("/"), &rebound, b"{}".to_vec()).await;
    assert_eq!((s, b["error"].as_str()), (403, Some("forbidden_host")));
    // The receiver's routes stay open to tunnels (a public Host), as on the Worker: the
    // signature is their guard.
    let resp = client
        .post(dev.url("/hooks/gh"))
        .header("host", "abc.ngrok-free.app")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let rejected = dev.events("rejected");
    assert!(rejected.iter().any(|e| e["error"] == "unknown_source"));
}

#[test]
fn startup_failures_exit_with_their_codes() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[sources.x]\nscheme = \"strpe\"\nsecrets = [\"literal:a\"]\n",
    )
    .unwrap();
    let out = Command::new(bin())
        .args(["dev", "--config"])
        .arg(&bad)
        .arg("--data-dir")
        .arg(dir.path().join("d"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sources.x.scheme") && err.contains("stripe"),
        "{err}"
    );

    let out = Command::new(bin())
        .args(["dev", "--config", "/nonexistent/hookline.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(74));

    // A second `hookline dev` on a data directory in use would take the first one's messages.
    let running = Dev::start(dir.path(), GITHUB_ONLY, free_port());
    let out = Command::new(bin())
        .args(["dev", "--port", &free_port().to_string(), "--data-dir"])
        .arg(dir.path().join("data"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(69), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use by another `hookline dev`"));
    drop(running);

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = Command::new(bin())
        .args(["dev", "--port", &port.to_string(), "--data-dir"])
        .arg(dir.path().join("d"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(69));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--port"));
}

/// A process started through `bash -c 'exec ...'`, its stdout and stderr collected.
struct Shell {
    child: Child,
    out: Arc<Mutex<String>>,
}

impl Shell {
    fn start(dir: &Path, command: &str) -> Shell {
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(format!("exec {command}"))
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = Arc::new(Mutex::new(String::new()));
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let out = Arc::clone(&out);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut o = out.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        Shell { child, out }
    }

    /// Waits for `needle` to appear `count` times; the panic shows what the process printed
    /// (a port already taken by another `hookline dev` or `listen` shows up there).
    fn wait_for(&self, needle: &str, count: usize) {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.out.lock().unwrap().clone();
            if text.matches(needle).count() >= count {
                return;
            }
            assert!(
                Instant::now() < until,
                "timed out waiting for {needle:?}; the process printed:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The README's "Run it" section, run as written (with `cargo run ... --` standing for the binary
/// this test run built), on the ports it names, from a directory without a `hookline.toml`, so
/// the built-in demo is what answers.
#[test]
fn the_readme_quickstart_works_as_written() {
    let readme = std::fs::read_to_string(repo_file("README.md")).unwrap();
    let section = &readme[readme.find("## Run it").unwrap()..];
    let blocks: Vec<&str> = section
        .split("```sh\n")
        .skip(1)
        .take(2)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    let bin = bin().display().to_string();
    let local = |line: &str| {
        line.replace("cargo run -q -p hookline-cli --", &bin)
            .replace("cargo run -p hookline-cli --", &bin)
    };
    let run_it: Vec<&str> = blocks[0].lines().collect();
    assert_eq!(run_it, ["cargo run -p hookline-cli -- dev"]);
    let demo: Vec<String> = blocks[1].lines().map(local).collect();
    assert_eq!(demo.len(), 3, "{demo:?}");

    let dir = tempfile::tempdir().unwrap();
    let dev = Shell::start(dir.path(), &local(run_it[0]));
    dev.wait_for("ready", 1);
    let listen = Shell::start(dir.path(), &demo[0]);
    listen.wait_for("listening on http://127.0.0.1:9000", 1);

    let signed = Command::new("bash")
        .arg("-c")
        .arg(&demo[1])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(signed.status.success(), "{signed:?}");
    assert!(
        String::from_utf8_lossy(&signed.stdout).starts_with("{\"ok\":true,\"id\":\"msg_"),
        "{signed:?}"
    );
    let sent = Command::new("bash")
        .arg("-c")
        .arg(&demo[2])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(sent.status.success(), "{sent:?}");
    assert!(String::from_utf8_lossy(&sent.stdout).contains("queued order.created"));

    listen.wait_for("✔ verified", 2);
    let seen = listen.out.lock().unwrap().clone();
    assert!(
        seen.contains("hookline.test") && seen.contains("order.created"),
        "{seen}"
    );
    dev.wait_for("→ delivered", 2);

    // The API part: the README's Python block, with the token dev's banner printed.
    let python = section
        .split("```python\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap();
    let banner = dev.out.lock().unwrap().clone();
    let token = banner
        .lines()
        .find(|l| l.contains("/api/v1") && l.contains("token"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("no API token in the banner:\n{banner}"))
        .to_owned();
    assert!(token.starts_with("hl_dev_"), "{token}");
    let sdk = Command::new(hookline_tests::harness::harness_bin().join("python"))
        .arg("-c")
        .arg(python)
        .env("HOOKLINE_API_TOKEN", &token)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(sdk.status.success(), "{sdk:?}");
    assert!(
        String::from_utf8_lossy(&sdk.stdout).starts_with("sent msg_"),
        "{sdk:?}"
    );
    listen.wait_for("✔ verified", 3);
    let seen = listen.out.lock().unwrap().clone();
    assert!(
        seen.contains("invoice.paid") || seen.contains("4200"),
        "{seen}"
    );
}

/// The operator's loop on the embedded queue: `send --dev` enqueues, a `410` dead-letters,
/// `replay --dev --type` moves only the matching dead letter back, and it is delivered again.
#[tokio::test(flavor = "multi_thread")]
async fn send_and_replay_work_against_dev() {
    let sink = Sink::start(&[LISTENER_SECRET]);
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(
        dir.path(),
        // A 410 would also disable the endpoint (`[delivery.auto_disable] on_gone`), and the
        // second message would then be dead-lettered without a POST: this test is about send
        // and replay, so the endpoint stays enabled.
        &(demo_config(&sink.url("/status/410/gone"), "[\"1s\"]")
            + "\n[delivery.auto_disable]\non_gone = false\n"),
        free_port(),
    );
    let dev_url = dev.url("");
    for (t, id) in [("invoice.paid", "inv_1"), ("user.created", "usr_1")] {
        let out = super::common::hookline(&[
            "send",
            "--dev",
            "--dev-url",
            &dev_url,
            "--type",
            t,
            "--id",
            id,
            "--data",
            "{}",
        ]);
        assert!(out.status.success(), "{out:?}");
    }
    sink.wait_for(2, Duration::from_secs(20));
    // 410 Gone is not retried: both go to the dead-letter queue.
    wait_until(Duration::from_secs(10), "two dead letters", || {
        (dev.events("delivery_attempt")
            .iter()
            .filter(|e| e["outcome"] == "dead_lettered")
            .count()
            == 2)
            .then_some(())
    });
    let out = super::common::hookline(&[
        "--json",
        "replay",
        "--dev",
        "--dev-url",
        &dev_url,
        "--type",
        "invoice.*",
    ]);
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<Value> = super::common::stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    let summary = lines.iter().find(|v| v["kind"] == "summary").unwrap();
    assert_eq!(summary["moved"], 1, "{summary}");
    let user = lines.iter().find(|v| v["type"] == "user.created").unwrap();
    assert_eq!(
        (&user["action"], &user["reason"]),
        (&json!("skipped"), &json!("filter"))
    );
    // The moved message fails again (410) and comes back with a new id while the replay runs:
    // it is left for the next run rather than moved again, so the replay ends.
    let got = sink.wait_for(3, Duration::from_secs(20));
    assert_eq!(
        got[2]["webhook_id"], "inv_1",
        "the replayed message keeps its id"
    );
    assert_eq!(got[2]["signature_valid"], true);
}

/// Nothing a webhook carries reaches the terminal raw in `hookline dev`'s human log, and the
/// sender's retry line says the wait the queue really keeps: the policy's delay rounded up to
/// whole seconds (the old line said "500 ms" and "2 min").
#[test]
fn dev_prints_no_escape_sequence_and_the_real_retry_delay() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on the endpoint's port: every attempt fails to connect.
    let dead = format!("http://127.0.0.1:{}/webhooks", free_port());
    let config = demo_config(&dead, r#"["500ms", "150s"]"#);
    std::fs::write(dir.path().join("hookline.toml"), config).unwrap();
    let port = free_port();
    let dev = Shell::start(
        dir.path(),
        &format!(
            "{} --color never dev --port {port} --data-dir data",
            bin().display()
        ),
    );
    dev.wait_for("ready", 1);
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Relayed to the dead endpoint: the retry lines.
    let body = br#"{"type":"order.created","data":{"id":1}}"#.to_vec();
    let headers = standard_headers(DEMO_SECRET, "msg_retry", &body);
    let (status, answer) = rt.block_on(post(
        &format!("http://127.0.0.1:{port}/hooks/demo"),
        &headers,
        body,
    ));
    assert_eq!(status, 200, "{answer}");
    // A Stripe event (its type is read from the body) whose type and id drive the terminal.
    let nasty = "order.\u{1b}]52;c;cHduZWQ=\u{7}\u{1b}[2K\rforged\u{9b}31m\u{202e}x";
    let body = json!({ "id": format!("evt_{nasty}"), "type": nasty, "data": {} }).to_string();
    let headers = stripe_headers(STRIPE_SECRET, body.as_bytes());
    let (status, answer) = rt.block_on(post(
        &format!("http://127.0.0.1:{port}/hooks/stripe"),
        &headers,
        body.into_bytes(),
    ));
    assert_eq!(status, 200, "{answer}");
    dev.wait_for("← received stripe", 1);
    // Attempt 1 fails after 500 ms of policy delay, which SQS keeps as 1 s; attempt 2's 150 s
    // is 2 minutes 30 seconds, not "2 min".
    dev.wait_for("next attempt in 1s)", 1);
    dev.wait_for("next attempt in 2m30s)", 1);
    let text = dev.out.lock().unwrap().clone();
    for line in text.lines() {
        assert!(
            !line.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "raw control or format character in {line:?}"
        );
    }
    // The core already keeps such a type and id out of the envelope; whatever it lets through
    // is printed through `ui::untrusted` (unit-tested in cli/src/ui.rs).
    assert!(text.contains("← received stripe       200 "), "{text}");
}

/// Every JSON answer of `hookline dev` ends with a newline (`curl` leaves the prompt on a line
/// of its own); the SQS API's too.
#[tokio::test(flavor = "multi_thread")]
async fn dev_json_answers_end_with_a_newline() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(
        dir.path(),
        &demo_config("http://127.0.0.1:9/x", r#"["1s"]"#),
        free_port(),
    );
    let client = reqwest::Client::new();
    let body = br#"{"type":"a.b","data":{}}"#.to_vec();
    let signed = standard_headers(DEMO_SECRET, "msg_nl", &body);
    let mut answers = Vec::new();
    let send = |req: reqwest::RequestBuilder| async move {
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap())
    };
    answers.push(send(client.get(dev.url("/healthz"))).await);
    answers.push(send(client.post(dev.url("/nope"))).await);
    answers.push(send(client.post(dev.url("/hooks/unknown"))).await);
    answers.push(send(client.post(dev.url("/hooks/demo")).body("{}")).await);
    answers.push(send(client.get(dev.url("/hooks/demo"))).await);
    let mut ok = client
        .post(dev.url("/hooks/demo"))
        .header("content-type", "application/json")
        .body(body);
    for (n, v) in &signed {
        ok = ok.header(n.as_str(), v.as_str());
    }
    answers.push(send(ok).await);
    answers.push(send(client.post(dev.url("/events")).body("[]")).await);
    answers.push(
        send(
            client
                .post(dev.url("/events"))
                .body(r#"{"type":"a.b","data":{}}"#),
        )
        .await,
    );
    answers.push(
        send(
            client
                .post(dev.url("/events"))
                .header("origin", "https://attacker.example")
                .body("{}"),
        )
        .await,
    );
    answers.push(
        send(
            client
                .post(dev.url("/"))
                .header("x-amz-target", "AmazonSQS.ListQueues")
                .header("content-type", "application/x-amz-json-1.0")
                .body("{}"),
        )
        .await,
    );
    // The management API's answers, refused and not.
    answers.push(send(client.get(dev.url("/api/v1/app"))).await);
    let token = dev.ready()["api_token"].as_str().unwrap().to_owned();
    answers.push(send(client.get(dev.url("/api/v1/app")).bearer_auth(&token)).await);
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses,
        [200, 404, 404, 401, 405, 200, 400, 202, 403, 200, 401, 200]
    );
    for (status, text) in &answers {
        assert!(text.ends_with("}\n"), "{status}: {text:?}");
        assert_eq!(text.matches('\n').count(), 1, "{status}: {text:?}");
        serde_json::from_str::<Value>(text).unwrap();
    }
}

// ---- the management API (issue 17) ----------------------------------------------------------

/// A token for the tests that set `HOOKLINE_API_TOKEN`.
const CUSTOM_API_TOKEN: &str = "test-dev-api-token-7f3c9a";

/// One API request: `token` as a bearer token when given; the status and the JSON answer.
pub(super) async fn api(
    dev: &Dev,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    api_at(&dev.url(""), method, path, token, body).await
}

async fn api_at(
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{base}/api/v1{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    assert_eq!(resp.headers()["cache-control"], "no-store", "{path}");
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The development token of a running `hookline dev --json`.
pub(super) fn token_of(dev: &Dev) -> String {
    dev.ready()["api_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ready_line_names_the_api_and_a_fresh_token_and_hookline_api_token_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(dir.path(), GITHUB_ONLY, free_port());
    let ready = dev.ready();
    assert_eq!(ready["api_url"], dev.url("/api/v1"));
    let token = token_of(&dev);
    let random = token.strip_prefix("hl_dev_").unwrap();
    assert_eq!(random.len(), 32, "{token}");
    assert!(random.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");
    let (status, list) = api(&dev, reqwest::Method::GET, "/app", Some(&token), None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"], json!([]));
    drop(dev);

    // Each start makes another.
    let dev = Dev::start(dir.path(), GITHUB_ONLY, free_port());
    assert_ne!(token_of(&dev), token);
    drop(dev);

    // HOOKLINE_API_TOKEN replaces it: in the ready line, and in the human banner.
    let port = free_port();
    std::fs::write(dir.path().join("hookline.toml"), GITHUB_ONLY).unwrap();
    let start = |json: &str, port: u16| {
        Shell::start(
            dir.path(),
            &format!(
                "env HOOKLINE_API_TOKEN={CUSTOM_API_TOKEN} {} --color never {json} dev --port \
                 {port} --data-dir data",
                bin().display()
            ),
        )
    };
    let shell = start("--json", port);
    shell.wait_for("\"event\":\"ready\"", 1);
    let text = shell.out.lock().unwrap().clone();
    let ready: Value = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "ready")
        .unwrap();
    assert_eq!(ready["api_token"], CUSTOM_API_TOKEN);
    let base = format!("http://127.0.0.1:{port}");
    let (status, _) = api_at(
        &base,
        reqwest::Method::GET,
        "/app",
        Some(CUSTOM_API_TOKEN),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = api_at(&base, reqwest::Method::GET, "/app", Some(&token), None).await;
    assert_eq!(status, 401, "the generated token is gone");
    drop(shell);

    let port = free_port();
    let shell = start("", port);
    shell.wait_for("ready", 1);
    let text = shell.out.lock().unwrap().clone();
    assert!(
        text.contains(&format!(
            "  API      http://127.0.0.1:{port}/api/v1  token {CUSTOM_API_TOKEN}\n"
        )),
        "{text}"
    );
    drop(shell);
    // The help says where the API is.
    let help = super::common::hookline(&["dev", "--help"]);
    assert!(
        super::common::stdout(&help).contains("http://127.0.0.1:8787/api/v1"),
        "{help:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn api_applications_are_created_read_and_kept_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let dev = Dev::start(dir.path(), GITHUB_ONLY, port);
    let token = token_of(&dev);
    let (status, created) = api(
        &dev,
        reqwest::Method::POST,
        "/app",
        Some(&token),
        Some(json!({"name": "Acme", "uid": "acme"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("app_"), "{created}");
    assert_eq!(created["name"], "Acme");
    let (status, got) = api(
        &dev,
        reqwest::Method::GET,
        &format!("/app/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(got, created);
    let (status, by_uid) = api(&dev, reqwest::Method::GET, "/app/acme", Some(&token), None).await;
    assert_eq!((status, &by_uid), (200, &created));
    // The uid is taken.
    let (status, again) = api(
        &dev,
        reqwest::Method::POST,
        "/app",
        Some(&token),
        Some(json!({"name": "Other", "uid": "acme"})),
    )
    .await;
    assert_eq!(status, 409, "{again}");
    // Answered, so committed: kill -9 loses nothing.
    dev.kill_9();

    let dev = Dev::start(dir.path(), GITHUB_ONLY, port);
    let fresh = token_of(&dev);
    assert_ne!(fresh, token);
    let (status, got) = api(
        &dev,
        reqwest::Method::GET,
        &format!("/app/{id}"),
        Some(&fresh),
        None,
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got, created, "the SQLite file kept it");
    let (status, list) = api(&dev, reqwest::Method::GET, "/app", Some(&fresh), None).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"], json!([created]));
    let (status, _) = api(&dev, reqwest::Method::GET, "/app", Some(&token), None).await;
    assert_eq!(status, 401, "the last run's token does not outlive it");
    // One data directory, one database: the API's tables are in the queue's file.
    assert!(!dir.path().join("data/api.sqlite3").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn api_routes_answer_401_without_the_token_in_the_authorization_header() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(dir.path(), GITHUB_ONLY, free_port());
    let token = token_of(&dev);
    let (status, app) = api(
        &dev,
        reqwest::Method::POST,
        "/app",
        Some(&token),
        Some(json!({"name": "Acme"})),
    )
    .await;
    assert_eq!(status, 201);
    let id = app["id"].as_str().unwrap();
    let msg = json!({"eventType": "user.created", "payload": {}});
    let routes = [
        (reqwest::Method::GET, "/app".to_owned(), None),
        (
            reqwest::Method::POST,
            "/app".to_owned(),
            Some(json!({"name": "Intruder"})),
        ),
        (reqwest::Method::GET, format!("/app/{id}"), None),
        (reqwest::Method::POST, format!("/app/{id}/msg"), Some(msg)),
        (reqwest::Method::GET, "/event-type".to_owned(), None),
    ];
    // What is sent: the query string and the Authorization header.
    let credentials: [(&str, String, Option<String>); 6] = [
        ("no token", String::new(), None),
        (
            "a wrong token",
            String::new(),
            Some(format!("Bearer {token}x")),
        ),
        (
            "the token with another scheme",
            String::new(),
            Some(format!("Basic {token}")),
        ),
        (
            "an empty bearer token",
            String::new(),
            Some("Bearer ".into()),
        ),
        ("the token in ?token=", format!("?token={token}"), None),
        (
            "the token in ?access_token=",
            format!("?access_token={token}"),
            None,
        ),
    ];
    let client = reqwest::Client::new();
    for (method, path, body) in &routes {
        for (what, query, header) in &credentials {
            let url = dev.url(&format!("/api/v1{path}{query}"));
            let mut req = client.request(method.clone(), url);
            if let Some(h) = header {
                req = req.header("authorization", h);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let answer: Value = resp.json().await.unwrap();
            assert_eq!(status, 401, "{method} {path} with {what}: {answer}");
            assert_eq!(
                answer["code"], "authentication_failed",
                "{method} {path} with {what}"
            );
            assert!(answer["detail"].is_string(), "{answer}");
        }
    }
    // Nothing was written, nothing queued.
    let (_, list) = api(&dev, reqwest::Method::GET, "/app", Some(&token), None).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "{list}");
    assert!(dev.events("fan_out").is_empty());
    // Every request is logged (its line is written before the answer, and read by the test's
    // reader thread a moment later)...
    let requests = 2 + routes.len() * credentials.len();
    wait_until(Duration::from_secs(10), "every request's line", || {
        (dev.events("api").len() >= requests).then_some(())
    });
    assert_eq!(dev.events("api").len(), requests);
    // ...and the token is printed in the ready line only (the refused requests' queries are not).
    let output = dev.output();
    let with_token: Vec<&String> = output.iter().filter(|l| l.contains(&token)).collect();
    assert_eq!(with_token.len(), 1, "{with_token:?}");
    assert!(with_token[0].contains("\"event\":\"ready\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn api_bodies_over_the_limit_get_413_in_the_api_s_shape() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(dir.path(), GITHUB_ONLY, free_port());
    let token = token_of(&dev);
    let client = reqwest::Client::new();
    let limit = hookline_api::service::MAX_BODY;
    // A JSON document of `n` bytes: an application whose uid is far too long.
    let doc = |n: usize| {
        let (head, tail) = (r#"{"name":"a","uid":""#, r#""}"#);
        format!("{head}{}{tail}", "x".repeat(n - head.len() - tail.len()))
    };
    for (what, token) in [("with the token", Some(&token)), ("without a token", None)] {
        let mut req = client
            .post(dev.url("/api/v1/app"))
            .header("content-type", "application/json")
            .body(doc(limit + 1));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 413, "{what}");
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let answer: Value = resp.json().await.unwrap();
        assert_eq!(answer["code"], "payload_too_large", "{what}: {answer}");
        assert!(
            answer["detail"]
                .as_str()
                .unwrap()
                .contains(&limit.to_string()),
            "{answer}"
        );
    }
    // At the limit the body is read, and judged on its fields.
    let resp = client
        .post(dev.url("/api/v1/app"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(doc(limit))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(
        answer["detail"][0]["loc"],
        json!(["body", "uid"]),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn api_messages_are_on_the_outbound_queue_before_the_202() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let dev = Dev::start(dir.path(), GITHUB_ONLY, port);
    let token = token_of(&dev);
    let (_, app) = api(
        &dev,
        reqwest::Method::POST,
        "/app",
        Some(&token),
        Some(json!({"name": "Acme", "uid": "acme"})),
    )
    .await;
    let (status, msg) = api(
        &dev,
        reqwest::Method::POST,
        "/app/acme/msg",
        Some(&token),
        Some(json!({"eventType": "user.created", "eventId": "evt-1", "payload": {"n": 1}})),
    )
    .await;
    assert_eq!(status, 202, "{msg}");
    let id = msg["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("msg_"), "{msg}");
    assert_eq!(msg["eventType"], "user.created");
    // kill -9 as soon as the 202 is in: the message is on the embedded queue (or already taken
    // from it by the sender), never lost between the answer and a later commit.
    let first = dev.kill_9_and_output();
    let fanned_out = |v: &Value| v["msg"] == "fan_out" && v["message_id"] == id.as_str();
    let seen_first = first
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| fanned_out(v));
    let dev = Dev::start(dir.path(), GITHUB_ONLY, port);
    let line = match seen_first {
        Some(line) => line,
        None => wait_until(Duration::from_secs(20), "the message's fan-out", || {
            dev.events("fan_out").into_iter().find(|v| fanned_out(v))
        }),
    };
    assert_eq!(line["event_type"], "user.created", "{line}");
    // And the message is the API's record too.
    let fresh = token_of(&dev);
    let app_id = app["id"].as_str().unwrap();
    let (status, got) = api(
        &dev,
        reqwest::Method::GET,
        &format!("/app/{app_id}/msg/{id}"),
        Some(&fresh),
        None,
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["payload"], json!({"n": 1}));
    // The same eventId again is a conflict, and puts nothing more on the queue.
    let (status, again) = api(
        &dev,
        reqwest::Method::POST,
        "/app/acme/msg",
        Some(&fresh),
        Some(json!({"eventType": "user.created", "eventId": "evt-1", "payload": {}})),
    )
    .await;
    assert_eq!(status, 409, "{again}");
}
