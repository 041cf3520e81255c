//! `hookline log` end to end: a real `hookline dev` delivering to the Python sink through
//! endpoints registered with the management API, and the real binary reading the history back
//! (through `api.json` in dev's data directory, or `--api` and `--token`); and dev's
//! `/metrics` counting the same deliveries.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hookline_tests::harness::{Sink, free_port};
use serde_json::{Value, json};

use super::common::{Dev, bin, stderr, stdout};

/// One source (dev needs none, but the demo's would bring endpoints), loopback endpoints
/// allowed, one retry a second later: a failing endpoint is dead-lettered at its second attempt.
const CONFIG: &str = "[sources.gh]\nscheme = \"github\"\nsecrets = [\"literal:s\"]\n\
                      [delivery]\nssrf_allow = [\"127.0.0.0/8\"]\n\
                      retry = { schedule = [\"1s\"], jitter = 0.0 }\n";
/// A secret for the sink; the API makes the endpoints' own, so signatures are not checked here.
const ANY_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Runs `hookline args...` with none of the variables that would point it elsewhere.
fn hookline(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("HOOKLINE_API_URL")
        .env_remove("HOOKLINE_API_TOKEN")
        .env_remove("HOOKLINE_DATA_DIR")
        .env_remove("NO_COLOR")
        .output()
        .expect("run hookline")
}

/// `hookline --json log --data-dir DIR args...`: its JSON lines.
fn log_json(data_dir: &Path, args: &[&str]) -> Vec<Value> {
    let dir = data_dir.to_str().unwrap();
    let out = hookline(&[&["--json", "log", "--data-dir", dir][..], args].concat());
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Polls `f` every 200 ms (each poll may start a process) until it gives a value.
fn poll<T>(deadline: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + deadline;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

async fn api(dev: &Dev, token: &str, path: &str, body: Value) -> Value {
    let resp = reqwest::Client::new()
        .post(dev.url(&format!("/api/v1{path}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let answer: Value = resp.json().await.unwrap();
    assert!((200..300).contains(&status), "{path}: {status} {answer}");
    answer
}

/// A running dev with application `acme`, endpoints `good` (answers 200) and `bad` (500), and
/// one message sent to both, whose attempts are all in the history: one success at `good`, two
/// failures at `bad` (the second dead-letters it).
struct World {
    dir: tempfile::TempDir,
    dev: Dev,
    _sink: Sink,
    token: String,
    good: String,
    bad: String,
    msg: String,
}

impl World {
    async fn start() -> World {
        let sink = Sink::start(&[ANY_SECRET]);
        let dir = tempfile::tempdir().unwrap();
        let dev = Dev::start(dir.path(), CONFIG, free_port());
        let token = dev.ready()["api_token"].as_str().unwrap().to_owned();
        api(&dev, &token, "/app", json!({"name": "Acme", "uid": "acme"})).await;
        let mut ids = Vec::new();
        for (uid, path) in [("good", "/ok/good"), ("bad", "/status/500/bad")] {
            let ep = api(
                &dev,
                &token,
                "/app/acme/endpoint",
                json!({"uid": uid, "url": sink.url(path)}),
            )
            .await;
            ids.push(ep["id"].as_str().unwrap().to_owned());
        }
        let msg = api(
            &dev,
            &token,
            "/app/acme/msg",
            json!({"eventType": "user.created", "payload": {"n": 1}}),
        )
        .await;
        let world = World {
            token,
            good: ids.remove(0),
            bad: ids.remove(0),
            msg: msg["id"].as_str().unwrap().to_owned(),
            dir,
            dev,
            _sink: sink,
        };
        poll(Duration::from_secs(30), "all three attempts", || {
            (log_json(&world.data_dir(), &["--app", "acme"]).len() == 3).then_some(())
        });
        world
    }

    fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn data(&self) -> String {
        self.data_dir().to_str().unwrap().to_owned()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn log_lists_a_delivered_and_a_failing_message_s_attempts_as_a_table_and_as_json() {
    let w = World::start().await;
    let rows = log_json(&w.data_dir(), &[]);
    assert_eq!(rows.len(), 3, "{rows:#?}");
    // Oldest first.
    let times: Vec<&str> = rows.iter().map(|r| r["time"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    for r in &rows {
        assert_eq!(r["kind"], "attempt");
        assert_eq!(r["app_uid"], "acme");
        assert_eq!(r["msg_id"], w.msg.as_str());
        assert_eq!(r["event_type"], "user.created");
        assert_eq!(r["trigger"], "scheduled");
        assert!(r["duration_ms"].is_u64(), "{r}");
        assert!(
            r["attempt_id"].as_str().unwrap().starts_with("atmpt_"),
            "{r}"
        );
    }
    let good: Vec<&Value> = rows
        .iter()
        .filter(|r| r["endpoint_uid"] == "good")
        .collect();
    assert_eq!(good.len(), 1, "{rows:#?}");
    assert_eq!(good[0]["endpoint_id"], w.good.as_str());
    assert_eq!(good[0]["status"], "success");
    assert_eq!(good[0]["http_status"], 200);
    assert_eq!(good[0]["attempt"], 1);
    let bad: Vec<&Value> = rows.iter().filter(|r| r["endpoint_uid"] == "bad").collect();
    assert_eq!(
        bad.iter()
            .map(|r| (
                r["status"].clone(),
                r["http_status"].clone(),
                r["attempt"].clone()
            ))
            .collect::<Vec<_>>(),
        [
            (json!("fail"), json!(500), json!(1)),
            (json!("fail"), json!(500), json!(2))
        ],
        "{rows:#?}"
    );

    // The same facts for people: a header, then one aligned row per attempt.
    let out = hookline(&["log", "--data-dir", &w.data()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("TIME "), "{text}");
    let status_col = lines[0].find("STATUS").unwrap();
    // Oldest first. `good` and `bad` got their first attempt in the same moment, so only the
    // order at one endpoint is fixed: good's one success, bad's two failures in order.
    let table = &lines[1..];
    let good: Vec<&&str> = table.iter().filter(|l| l.contains(" good ")).collect();
    let bad: Vec<&&str> = table.iter().filter(|l| l.contains(" bad ")).collect();
    assert_eq!((good.len(), bad.len()), (1, 2), "{text}");
    for (line, status) in good.iter().chain(&bad).zip(["success", "fail", "fail"]) {
        assert!(line.contains("acme") && line.contains(&w.msg), "{line}");
        assert!(line.contains("user.created"), "{line}");
        assert_eq!(
            line.get(status_col..status_col + status.len()),
            Some(status),
            "{text}"
        );
    }
    assert!(good[0].contains("200"), "{text}");
    assert!(bad.iter().all(|l| l.contains("500")), "{text}");
    assert_eq!(
        table.last(),
        bad.last().copied(),
        "the retry is the newest: {text}"
    );
    assert!(!text.contains('\u{1b}'), "no colours off a terminal");

    // One message, one endpoint, one status.
    let only_bad = log_json(&w.data_dir(), &["--msg", &w.msg, "--endpoint", "bad"]);
    assert_eq!(only_bad.len(), 2, "{only_bad:#?}");
    assert!(only_bad.iter().all(|r| r["endpoint_uid"] == "bad"));
    let at_bad = log_json(&w.data_dir(), &["--app", "acme", "--endpoint", &w.bad]);
    assert_eq!(at_bad, only_bad, "by endpoint id, as by message");
    let ok = log_json(&w.data_dir(), &["--status", "success"]);
    assert_eq!(ok.len(), 1, "{ok:#?}");
    assert_eq!(ok[0]["endpoint_uid"], "good");

    // --limit keeps the newest, and says so on stderr.
    let out = hookline(&["--json", "log", "--data-dir", &w.data(), "--limit", "1"]);
    let newest: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(newest, [rows[2].clone()]);
    assert!(
        stderr(&out).contains("showing the newest 1 of 3 attempts"),
        "{}",
        stderr(&out)
    );
    // Nothing after a time: nothing on stdout, a note on stderr, success.
    let out = hookline(&[
        "log",
        "--data-dir",
        &w.data(),
        "--since",
        "2099-01-01T00:00:00Z",
    ]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("no attempts found"),
        "{}",
        stderr(&out)
    );

    // --api and --token read the same history, without dev's file.
    let empty = tempfile::tempdir().unwrap();
    let api_url = w.dev.ready()["api_url"].as_str().unwrap().to_owned();
    let same = log_json(empty.path(), &["--api", &api_url, "--token", &w.token]);
    assert_eq!(same, rows);
    // The base URL, as the SDKs take it, works too.
    let same = log_json(
        empty.path(),
        &["--api", &w.dev.url(""), "--token", &w.token],
    );
    assert_eq!(same, rows);
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_s_metrics_count_the_deliveries_failures_latency_and_dead_letters_per_endpoint() {
    let w = World::start().await;
    let client = reqwest::Client::new();
    let get = || async {
        let resp = client.get(w.dev.url("/metrics")).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4"),
        );
        resp.text().await.unwrap()
    };
    // The value of the one series of `name` whose labels include `label`.
    let value = |text: &str, name: &str, label: &str| -> Option<String> {
        let found: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(label))
            .collect();
        assert!(found.len() <= 1, "{found:?}");
        found
            .first()
            .and_then(|l| l.rsplit(' ').next())
            .map(str::to_owned)
    };
    let good = format!("endpoint=\"{}\"", w.good);
    let bad = format!("endpoint=\"{}\"", w.bad);
    // The dead letter's metric line is written as it is put on the dead-letter queue.
    let mut text = String::new();
    for _ in 0..150 {
        text = get().await;
        if value(&text, "hookline_dead_lettered_total", &bad).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        value(&text, "hookline_delivered_total", &good).as_deref(),
        Some("1"),
        "{text}"
    );
    assert_eq!(
        value(&text, "hookline_delivered_total", &bad),
        None,
        "{text}"
    );
    assert_eq!(
        value(&text, "hookline_retried_total", &bad).as_deref(),
        Some("1"),
        "{text}"
    );
    assert_eq!(
        value(&text, "hookline_dead_lettered_total", &bad).as_deref(),
        Some("1"),
        "{text}"
    );
    assert_eq!(
        value(&text, "hookline_delivery_latency_milliseconds_count", &good).as_deref(),
        Some("1"),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "hookline_delivery_latency_milliseconds_bucket",
            &format!("{good},le=\"+Inf\"")
        )
        .as_deref(),
        Some("1"),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "hookline_queue_messages",
            "queue=\"hookline-outbound-dlq\",state=\"visible\""
        )
        .as_deref(),
        Some("1"),
        "the DLQ's depth: {text}"
    );
    assert!(!text.contains("unreadable"), "{text}");

    // Local programs only, as /events; and only read.
    let resp = client
        .get(w.dev.url("/metrics"))
        .header("origin", "https://attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    let resp = client.post(w.dev.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(resp.headers()["allow"], "GET, HEAD");
}

#[tokio::test(flavor = "multi_thread")]
async fn log_errors_say_what_to_do_and_exit_with_their_codes() {
    // No hookline dev ran in this directory.
    let empty = tempfile::tempdir().unwrap();
    let out = hookline(&["log", "--data-dir", empty.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("start `hookline dev`"),
        "{}",
        stderr(&out)
    );
    // A token on plain http to another machine is refused before anything is sent.
    let out = hookline(&["log", "--api", "http://hooks.example.com", "--token", "t"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("use https://"), "{}", stderr(&out));

    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(dir.path(), CONFIG, free_port());
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    // The history's retention is enforced from the start: one sweep (nothing to expire yet).
    let swept = super::common::wait_until(Duration::from_secs(10), "the first sweep", || {
        dev.events("history_swept").first().cloned()
    });
    assert_eq!(swept["expired"], 0, "{swept}");
    // dev's file: its address and token, for its owner's eyes only.
    let file: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("data/api.json")).unwrap()).unwrap();
    assert_eq!(file["url"], dev.ready()["api_url"]);
    assert_eq!(file["token"], dev.ready()["api_token"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("data/api.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Read with it: no applications yet, so nothing, and success.
    let out = hookline(&["log", "--data-dir", data]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no attempts found"),
        "{}",
        stderr(&out)
    );

    // A wrong token: the API's answer, which token to use, exit 78; as JSON with --json.
    let out = hookline(&["log", "--data-dir", data, "--token", "hl_dev_wrong"]);
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("401 authentication_failed"), "{err}");
    assert!(
        err.contains("use the token `hookline dev` printed at start"),
        "{err}"
    );
    assert!(
        !err.contains("hl_dev_wrong"),
        "the token is never printed: {err}"
    );
    let out = hookline(&[
        "--json",
        "log",
        "--data-dir",
        data,
        "--token",
        "hl_dev_wrong",
    ]);
    assert_eq!(out.status.code(), Some(78));
    let line: Value = serde_json::from_str(stderr(&out).trim()).unwrap();
    assert!(
        line["error"]
            .as_str()
            .unwrap()
            .contains("authentication_failed"),
        "{line}"
    );
    // No such application, message or endpoint: exit 1, and what to check.
    for args in [
        &["--app", "nope"][..],
        &["--msg", "msg_nope"],
        &["--endpoint", "nope"],
    ] {
        let out = hookline(&[&["log", "--data-dir", data][..], args].concat());
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("not found") && stderr(&out).contains("--app"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // A bad --status or --since: usage, exit 2.
    let out = hookline(&["log", "--data-dir", data, "--status", "canceled"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("success, pending, fail, sending, skipped"));
    let out = hookline(&["log", "--data-dir", data, "--since", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--since soon"), "{}", stderr(&out));

    // dev killed: its file stays, and the message says what to start.
    dev.kill_9();
    let out = hookline(&["log", "--data-dir", data]);
    assert_eq!(out.status.code(), Some(69), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot reach the management API"),
        "{}",
        stderr(&out)
    );
}

/// Needs the history routes (`/endpoint/{ep}/msg`, `/endpoint/{ep}/stats`) and the sender's
/// error classes.
#[tokio::test(flavor = "multi_thread")]
async fn log_shows_an_endpoint_s_messages_its_stats_and_why_attempts_failed() {
    let w = World::start().await;
    // Wait for the dead letter: the bad endpoint's message is then failed for good.
    let messages = poll(Duration::from_secs(30), "the failed message", || {
        let rows = log_json(
            &w.data_dir(),
            &["--app", "acme", "--endpoint", "bad", "--messages"],
        );
        (rows.first().is_some_and(|r| r["status"] == "fail")).then_some(rows)
    });
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let m = &messages[0];
    assert_eq!(m["kind"], "message");
    assert_eq!(m["msg_id"], w.msg.as_str());
    assert_eq!(m["event_type"], "user.created");
    assert_eq!(m["endpoint_uid"], "bad");
    let ok = log_json(
        &w.data_dir(),
        &[
            "--app",
            "acme",
            "--endpoint",
            "good",
            "--messages",
            "--status",
            "success",
        ],
    );
    assert_eq!(ok.len(), 1, "{ok:#?}");
    let none = log_json(
        &w.data_dir(),
        &[
            "--app",
            "acme",
            "--endpoint",
            "good",
            "--messages",
            "--status",
            "fail",
        ],
    );
    assert_eq!(none, Vec::<Value>::new());

    let stats = log_json(&w.data_dir(), &["--app", "acme", "--stats"]);
    let by_uid = |uid: &str| {
        stats
            .iter()
            .find(|s| s["endpoint_uid"] == uid)
            .unwrap_or_else(|| panic!("no {uid} in {stats:#?}"))
            .clone()
    };
    let good = by_uid("good");
    assert_eq!(
        [&good["success"], &good["fail"], &good["pending"]],
        [&json!(1), &json!(0), &json!(0)],
        "{good}"
    );
    let bad = by_uid("bad");
    assert_eq!(
        [&bad["success"], &bad["fail"], &bad["skipped"]],
        [&json!(0), &json!(1), &json!(0)],
        "{bad}"
    );
    let out = hookline(&["log", "--data-dir", &w.data(), "--stats"]);
    let text = stdout(&out);
    assert!(text.lines().next().unwrap().starts_with("APP "), "{text}");
    assert_eq!(text.lines().count(), 3, "{text}");

    // Each failed attempt says why.
    let attempts = log_json(&w.data_dir(), &["--endpoint", "bad"]);
    assert!(
        attempts.iter().all(|a| a["error_class"] == "status"),
        "{attempts:#?}"
    );
    // The first failure said when the next try was due.
    assert!(attempts[0]["next_attempt"].is_string(), "{attempts:#?}");
}
