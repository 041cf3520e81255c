//! `hookline sign` and `hookline listen`, end to end: what `sign` prints verifies with the core
//! verifier and with the official Standard Webhooks library, its `--curl` command runs as
//! printed, and `listen` verifies, answers and prints as documented. Only loopback is used.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hookline_core::headers::Headers;
use hookline_core::secret::Secret;
use hookline_core::time::Timestamp;
use hookline_core::verify::{Request, Scheme, SchemeKind, Verifier};
use hookline_tests::harness::{free_port, harness_bin};
use serde_json::Value;

use super::common::{assert_stderr_contains, bin, hookline, stderr, stdout};

/// The Svix documentation's example secret.
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const BODY: &str = r#"{"type":"invoice.paid","data":{"id":"in_1","note":"it's $HOME"}}"#;
const DEADLINE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(10);

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

/// Runs `hookline args...` with `input` on stdin.
fn hookline_with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// `Name: value` lines, as `hookline sign` prints them.
fn header_lines(out: &Output) -> Vec<(String, String)> {
    assert!(out.status.success(), "{}", stderr(out));
    stdout(out)
        .lines()
        .map(|l| {
            let (n, v) = l
                .split_once(": ")
                .unwrap_or_else(|| panic!("not a header: {l}"));
            (n.to_owned(), v.to_owned())
        })
        .collect()
}

fn core_verify(
    kind: SchemeKind,
    secret: &str,
    headers: &[(String, String)],
    url: &str,
    body: &[u8],
    at: i64,
) -> Result<(), String> {
    let headers: Headers = headers.iter().cloned().collect();
    let verifier = Verifier::new(
        Scheme::from_kind(kind).unwrap(),
        vec![Secret::new(secret.as_bytes().to_vec()).unwrap()],
    )
    .unwrap();
    let req = Request {
        method: "POST",
        url,
        headers: &headers,
        body,
    };
    verifier
        .verify(&req, Timestamp::from_unix_secs(at))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A running `hookline listen`, killed when dropped.
struct Listen {
    child: Child,
    port: u16,
    out: Arc<Mutex<Vec<String>>>,
    err: Arc<Mutex<Vec<String>>>,
    /// The readers of stdout and stderr, finished once the pipes reach end of file.
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Listen {
    /// Starts `hookline [global...] listen --port <free> args...` and waits for its start line.
    fn start(global: &[&str], args: &[&str]) -> Listen {
        let port = free_port();
        let port_text = port.to_string();
        let mut all: Vec<&str> = global.to_vec();
        all.extend(["listen", "--port", &port_text]);
        all.extend(args);
        let mut child = Command::new(bin())
            .args(&all)
            .env_remove("HOOKLINE_LISTEN_SECRET")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (out, out_reader) = collect(child.stdout.take().unwrap(), None);
        let (started_tx, started_rx) = mpsc::channel();
        let (err, err_reader) = collect(child.stderr.take().unwrap(), Some(started_tx));
        let mut listen = Listen {
            child,
            port,
            out,
            err,
            readers: vec![out_reader, err_reader],
        };
        let started = Instant::now();
        loop {
            if started_rx.recv_timeout(POLL).is_ok() {
                return listen;
            }
            if let Some(status) = listen.child.try_wait().unwrap() {
                panic!("listen exited with {status}: {}", listen.stderr_text());
            }
            assert!(
                started.elapsed() < DEADLINE,
                "listen did not start: {}",
                listen.stderr_text()
            );
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn stdout_lines(&self) -> Vec<String> {
        self.out.lock().unwrap().clone()
    }

    fn stderr_text(&self) -> String {
        self.err.lock().unwrap().join("\n")
    }

    /// Waits until stdout has a line for which `pred` holds; returns it.
    fn wait_for_line(&self, pred: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self.stdout_lines().into_iter().find(|l| pred(l)) {
                return line;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "no matching line; stdout:\n{}\nstderr:\n{}",
                self.stdout_lines().join("\n"),
                self.stderr_text()
            );
            std::thread::sleep(POLL);
        }
    }

    /// Waits for the process to exit by itself, and for its output to be read to the end.
    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                for reader in self.readers.drain(..) {
                    reader.join().unwrap();
                }
                return status;
            }
            assert!(started.elapsed() < DEADLINE, "listen did not exit");
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Listen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Collects a pipe's lines; the first line starting with `listening on` is also signalled.
fn collect(
    pipe: impl std::io::Read + Send + 'static,
    started: Option<mpsc::Sender<()>>,
) -> (Arc<Mutex<Vec<String>>>, std::thread::JoinHandle<()>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("listening on")
                && let Some(tx) = &started
            {
                let _ = tx.send(());
            }
            sink.lock().unwrap().push(line);
        }
    });
    (lines, reader)
}

/// POSTs `body` with `headers` through curl; returns the status code.
fn post(url: &str, headers: &[(String, String)], body: &[u8]) -> u16 {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "POST",
        url,
    ]);
    for (n, v) in headers {
        cmd.args(["-H", &format!("{n}: {v}")]);
    }
    cmd.args(["--data-binary", "@-"]);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("curl");
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "curl: {}", stderr(&out));
    stdout(&out).trim().parse().unwrap()
}

fn signed_standard(body: &str) -> Vec<(String, String)> {
    header_lines(&hookline(&[
        "sign", "--scheme", "standard", "--secret", WHSEC, "--data", body,
    ]))
}

// ---- hookline sign ----------------------------------------------------------------------------

#[test]
fn sign_output_verifies_with_the_core_verifier_for_every_hmac_scheme() {
    let at = now_secs();
    let at_text = at.to_string();
    for (name, kind, secret) in [
        ("standard", SchemeKind::StandardWebhooks, WHSEC),
        ("svix", SchemeKind::StandardWebhooks, WHSEC),
        ("standard-webhooks", SchemeKind::StandardWebhooks, WHSEC),
        ("stripe", SchemeKind::Stripe, "whsec_stripe_test"),
        ("github", SchemeKind::Github, "gh-secret"),
        (
            "slack",
            SchemeKind::Slack,
            "8f742231b10e8888abcd99yyyzzz85a5",
        ),
        ("shopify", SchemeKind::Shopify, "shpss_test"),
        ("paddle", SchemeKind::Paddle, "pdl_ntfset_test"),
        ("zendesk", SchemeKind::Zendesk, "zd-secret"),
        ("linear", SchemeKind::Linear, "lin_wh_test"),
        ("intercom", SchemeKind::Intercom, "ic-secret"),
        ("zoom", SchemeKind::Zoom, "zoom-secret"),
    ] {
        // Linear's verifiers read the timestamp from the body.
        let body = if kind == SchemeKind::Linear {
            format!(r#"{{"type":"Issue","webhookTimestamp":{}}}"#, at * 1000)
        } else {
            BODY.to_owned()
        };
        let out = hookline(&[
            "sign",
            "--scheme",
            name,
            "--secret",
            secret,
            "--data",
            &body,
            "--timestamp",
            &at_text,
        ]);
        let headers = header_lines(&out);
        assert_eq!(
            headers[0],
            ("Content-Type".to_owned(), "application/json".to_owned()),
            "{name}"
        );
        core_verify(
            kind,
            secret,
            &headers,
            "http://localhost/",
            body.as_bytes(),
            at,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}\n{}", stdout(&out)));
        // Another secret does not verify it: the signature is real, not decorative.
        let other = if kind == SchemeKind::StandardWebhooks {
            "whsec_b3RoZXItc2VjcmV0LWtleQ=="
        } else {
            "other"
        };
        assert!(
            core_verify(
                kind,
                other,
                &headers,
                "http://localhost/",
                body.as_bytes(),
                at
            )
            .is_err(),
            "{name}"
        );
    }
}

/// `hookline --json sign <args>`, which must succeed, as JSON.
fn sign_json(args: &[&str]) -> Value {
    let out = hookline(&[&["--json", "sign"], args].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(stdout(&out).trim()).unwrap()
}

#[test]
fn sign_linear_demo_body_verifies_and_a_body_without_its_timestamp_is_flagged() {
    let v = sign_json(&["--scheme", "linear", "--secret", "lin"]);
    let body = v["body"].as_str().unwrap();
    assert!(body.contains("webhookTimestamp"), "{body}");
    let headers = vec![(
        "Linear-Signature".to_owned(),
        v["headers"]["Linear-Signature"]
            .as_str()
            .unwrap()
            .to_owned(),
    )];
    core_verify(
        SchemeKind::Linear,
        "lin",
        &headers,
        "http://x/",
        body.as_bytes(),
        now_secs(),
    )
    .unwrap();
    let out = hookline(&[
        "sign", "--scheme", "linear", "--secret", "lin", "--data", "{}",
    ]);
    assert!(out.status.success());
    assert_stderr_contains(&out, "webhookTimestamp");
}

#[test]
fn sign_secret_comes_from_the_environment_too() {
    let out = Command::new(bin())
        .args(["sign", "--scheme", "github", "--data", BODY])
        .env("HOOKLINE_SECRET", "gh-secret")
        .output()
        .unwrap();
    let headers = header_lines(&out);
    core_verify(
        SchemeKind::Github,
        "gh-secret",
        &headers,
        "http://x/",
        BODY.as_bytes(),
        0,
    )
    .unwrap();
}

#[test]
fn sign_json_output_carries_the_headers_and_the_exact_body() {
    let at = now_secs();
    let at_text = at.to_string();
    // Odd spacing and key order: re-encoding the JSON would break the signature.
    let body = r#"{ "b":1,   "a":[2, 3] }"#;
    let v = sign_json(&[
        "--scheme",
        "stripe",
        "--secret",
        "sk",
        "--data",
        body,
        "--timestamp",
        &at_text,
    ]);
    assert_eq!(v["body"], body);
    let headers: Vec<(String, String)> = v["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(n, v)| (n.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    assert!(
        v["headers"]["Stripe-Signature"]
            .as_str()
            .unwrap()
            .starts_with(&format!("t={at},v1="))
    );
    core_verify(
        SchemeKind::Stripe,
        "sk",
        &headers,
        "http://x/",
        body.as_bytes(),
        at,
    )
    .unwrap();
}

#[test]
fn sign_twilio_signs_the_url_and_says_where_to_send() {
    let v = sign_json(&[
        "--scheme",
        "twilio",
        "--secret",
        "auth-token",
        "--data",
        BODY,
        "--url",
        "https://example.com/sms",
    ]);
    let url = v["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://example.com/sms?bodySHA256="),
        "{url}"
    );
    let headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        (
            "X-Twilio-Signature".to_owned(),
            v["headers"]["X-Twilio-Signature"]
                .as_str()
                .unwrap()
                .to_owned(),
        ),
    ];
    core_verify(
        SchemeKind::Twilio,
        "auth-token",
        &headers,
        url,
        BODY.as_bytes(),
        0,
    )
    .unwrap();

    let form = "Body=Hi&From=%2B15551234567";
    let out = hookline(&[
        "sign",
        "--scheme",
        "twilio",
        "--secret",
        "auth-token",
        "--data",
        form,
        "--content-type",
        "application/x-www-form-urlencoded",
        "--url",
        "https://example.com/sms",
    ]);
    let headers = header_lines(&out);
    core_verify(
        SchemeKind::Twilio,
        "auth-token",
        &headers,
        "https://example.com/sms",
        form.as_bytes(),
        0,
    )
    .unwrap();
}

#[test]
fn sign_reads_the_body_from_a_file_or_stdin_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("event.json");
    let body = b"{\"a\":1}\n\n  \xc3\xa9 trailing  \n";
    std::fs::write(&path, body).unwrap();
    let common = [
        "sign",
        "--scheme",
        "standard",
        "--secret",
        WHSEC,
        "--id",
        "msg_fixed",
        "--timestamp",
        "1763900000",
    ];
    let mut from_file = common.to_vec();
    from_file.extend(["--body", path.to_str().unwrap()]);
    let file_headers = header_lines(&hookline(&from_file));
    let mut from_stdin = common.to_vec();
    from_stdin.extend(["--body", "-"]);
    let stdin_headers = header_lines(&hookline_with_stdin(&from_stdin, body));
    assert_eq!(file_headers, stdin_headers);
    assert!(file_headers.contains(&("webhook-id".to_owned(), "msg_fixed".to_owned())));
    core_verify(
        SchemeKind::StandardWebhooks,
        WHSEC,
        &file_headers,
        "http://x/",
        body,
        1_763_900_000,
    )
    .unwrap();
}

#[test]
fn sign_output_verifies_with_the_official_standardwebhooks_library() {
    let headers = signed_standard(BODY);
    let json_headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(n, v)| (n.clone(), Value::String(v.clone())))
        .collect();
    let script = "import json, sys\n\
        from standardwebhooks.webhooks import Webhook\n\
        secret, headers, body = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]\n\
        Webhook(secret).verify(body, headers)\n\
        print('ok')\n";
    let out = Command::new(harness_bin().join("python"))
        .args([
            "-c",
            script,
            WHSEC,
            &Value::Object(json_headers).to_string(),
            BODY,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "ok");
}

#[test]
fn sign_refuses_an_unknown_scheme_with_exit_2_and_the_valid_names() {
    let out = hookline(&["sign", "--scheme", "strpe", "--secret", "topsecret"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown scheme `strpe`"), "{err}");
    assert!(err.contains("did you mean `stripe`"), "{err}");
    assert!(
        err.contains("standard-webhooks, stripe, github, slack"),
        "{err}"
    );
    assert!(!err.contains("topsecret"), "{err}");
}

#[test]
fn sign_usage_mistakes_exit_2_without_echoing_the_secret() {
    for args in [
        // Twilio signs the URL.
        &["sign", "--scheme", "twilio", "--secret", "topsecret"][..],
        // Standard Webhooks secrets are base64.
        &["sign", "--scheme", "standard", "--secret", "topsecret!!"][..],
        // The generic scheme needs its parameters.
        &["sign", "--scheme", "generic", "--secret", "topsecret"][..],
        &["sign", "--secret", "topsecret", "--header", "no colon"][..],
    ] {
        let out = hookline(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).starts_with("error: "), "{args:?}");
        assert!(
            !stderr(&out).contains("topsecret"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn sign_missing_body_file_exits_74() {
    let out = hookline(&[
        "sign",
        "--scheme",
        "stripe",
        "--secret",
        "sk",
        "--body",
        "/nonexistent/event.json",
    ]);
    assert_eq!(out.status.code(), Some(74));
    assert_stderr_contains(&out, "cannot read the body file /nonexistent/event.json");
}

// ---- hookline sign --curl against hookline listen ---------------------------------------------

/// Runs a command `sign --curl` printed, as a shell would, and asserts it succeeded.
fn run_in_bash(command: &str) -> Output {
    let ran = Command::new("bash").args(["-c", command]).output().unwrap();
    assert!(ran.status.success(), "{}", stderr(&ran));
    ran
}

#[test]
fn sign_curl_command_runs_as_printed_and_listen_verifies_it() {
    let listen = Listen::start(&[], &["--secret", WHSEC]);
    // Quotes, `$`, backslashes and newlines must survive the shell untouched.
    let body = "{\"type\":\"quote.test\",\"text\":\"it's $HOME `id` \\\\ \\n\"}\n";
    let out = hookline(&[
        "sign",
        "--scheme",
        "standard",
        "--secret",
        WHSEC,
        "--data",
        body,
        "--curl",
        &listen.url("/hooks/inline"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let command = stdout(&out);
    assert!(command.starts_with("curl "), "{command}");
    let ran = run_in_bash(&command);
    // JSON answers end with a newline, so the shell's prompt starts on a line of its own.
    assert_eq!(stdout(&ran), "{\"status\":200}\n");
    let line = listen.wait_for_line(|l| l.contains("/hooks/inline"));
    assert!(line.contains("quote.test"), "{line}");
    assert!(line.contains("✔ verified"), "{line}");
    assert!(line.contains("→ 200"), "{line}");

    // A file is passed by name (here one whose path needs quoting).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("my event.json");
    std::fs::write(&path, BODY).unwrap();
    let out = hookline(&[
        "sign",
        "--scheme",
        "svix",
        "--secret",
        WHSEC,
        "--body",
        path.to_str().unwrap(),
        "--curl",
        &listen.url("/hooks/file"),
    ]);
    let command = stdout(&out);
    assert!(command.contains("--data-binary '@"), "{command}");
    run_in_bash(&command);
    let line = listen.wait_for_line(|l| l.contains("/hooks/file"));
    assert!(line.contains("invoice.paid  ✔ verified  → 200"), "{line}");
}

// ---- hookline listen --------------------------------------------------------------------------

#[test]
fn listen_answers_401_to_a_tampered_body() {
    let listen = Listen::start(&[], &["--secret", WHSEC]);
    let headers = signed_standard(BODY);
    assert_eq!(post(&listen.url("/ok"), &headers, BODY.as_bytes()), 200);
    let tampered = BODY.replace("in_1", "in_2");
    assert_eq!(
        post(&listen.url("/tampered"), &headers, tampered.as_bytes()),
        401
    );
    let line = listen.wait_for_line(|l| l.contains("/tampered"));
    assert!(
        line.contains("✘ no signature matches (signature_mismatch)  → 401"),
        "{line}"
    );
    // --accept-invalid still shows the failure but answers the configured status.
    let lenient = Listen::start(&[], &["--secret", WHSEC, "--accept-invalid"]);
    assert_eq!(post(&lenient.url("/t"), &headers, tampered.as_bytes()), 200);
}

#[test]
fn listen_verifies_what_the_official_standardwebhooks_library_signs() {
    let listen = Listen::start(&[], &["--secret", WHSEC, "--quiet"]);
    let script = "import json, sys, datetime\n\
        from standardwebhooks.webhooks import Webhook\n\
        secret, body = sys.argv[1], sys.argv[2]\n\
        now = datetime.datetime.now(tz=datetime.timezone.utc)\n\
        sig = Webhook(secret).sign('msg_python', now, body)\n\
        print(json.dumps({'webhook-id': 'msg_python', \
            'webhook-timestamp': str(int(now.timestamp())), 'webhook-signature': sig}))\n";
    let out = Command::new(harness_bin().join("python"))
        .args(["-c", script, WHSEC, BODY])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let headers: Vec<(String, String)> = v
        .as_object()
        .unwrap()
        .iter()
        .map(|(n, v)| (n.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(post(&listen.url("/py"), &headers, BODY.as_bytes()), 200);
    let line = listen.wait_for_line(|l| l.contains("/py"));
    assert!(
        line.contains("msg_python  invoice.paid  ✔ verified"),
        "{line}"
    );
}

#[test]
fn listen_answers_the_configured_status_after_fail_first() {
    let listen = Listen::start(&[], &["--status", "503", "--fail-first", "1", "--quiet"]);
    let headers = signed_standard(BODY);
    assert_eq!(post(&listen.url("/a"), &headers, BODY.as_bytes()), 500);
    assert_eq!(post(&listen.url("/b"), &headers, BODY.as_bytes()), 503);
    assert_eq!(post(&listen.url("/c"), &headers, BODY.as_bytes()), 503);
    let first = listen.wait_for_line(|l| l.contains("/a"));
    assert!(first.ends_with("→ 500 (--fail-first 1/1)"), "{first}");
    // Without --secret nothing is verified, and the start line said so.
    assert!(first.contains("· unverified (no --secret)"), "{first}");
    assert!(
        listen.stderr_text().contains("not verifying"),
        "{}",
        listen.stderr_text()
    );
}

#[test]
fn listen_json_output_is_one_object_per_request() {
    let listen = Listen::start(&["--json"], &["--secret", WHSEC]);
    let headers = signed_standard(BODY);
    assert_eq!(post(&listen.url("/j?x=1"), &headers, BODY.as_bytes()), 200);
    assert_eq!(post(&listen.url("/bad"), &[], b"plain text"), 401);
    let ok: Value = serde_json::from_str(&listen.wait_for_line(|l| l.contains("/j?x=1"))).unwrap();
    let id = headers.iter().find(|(n, _)| n == "webhook-id").unwrap();
    assert_eq!(ok["method"], "POST");
    assert_eq!(ok["path"], "/j?x=1");
    assert_eq!(ok["id"], id.1.as_str());
    assert!(ok["timestamp"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(ok["type"], "invoice.paid");
    assert_eq!(ok["verified"], true);
    assert_eq!(ok["error"], Value::Null);
    assert_eq!(ok["status"], 200);
    assert_eq!(ok["headers"]["content-type"], "application/json");
    assert_eq!(ok["body"]["data"]["id"], "in_1");
    let bad: Value = serde_json::from_str(&listen.wait_for_line(|l| l.contains("/bad"))).unwrap();
    assert_eq!(bad["verified"], false);
    assert_eq!(bad["error"], "missing_header");
    assert_eq!(bad["status"], 401);
    assert_eq!(bad["body"], "plain text");
    for line in listen.stdout_lines() {
        serde_json::from_str::<Value>(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
}

#[test]
fn listen_exit_on_invalid_stops_with_exit_1() {
    let mut listen = Listen::start(&[], &["--secret", WHSEC, "--exit-on-invalid"]);
    assert_eq!(post(&listen.url("/x"), &[], BODY.as_bytes()), 401);
    let status = listen.wait_exit();
    assert_eq!(status.code(), Some(1));
    assert!(
        listen.stderr_text().contains("--exit-on-invalid"),
        "{}",
        listen.stderr_text()
    );
}

#[cfg(unix)]
#[test]
fn listen_stops_cleanly_on_sigterm() {
    let mut listen = Listen::start(&[], &[]);
    assert_eq!(post(&listen.url("/x"), &[], b"{}"), 200);
    listen.wait_for_line(|l| l.contains("/x"));
    let killed = Command::new("kill")
        .args(["-TERM", &listen.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = listen.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", listen.stderr_text());
    let started = Instant::now();
    while !listen.stderr_text().contains("stopped after 1 request") {
        assert!(started.elapsed() < DEADLINE, "{}", listen.stderr_text());
        std::thread::sleep(POLL);
    }
}

#[test]
fn listen_on_a_port_in_use_exits_69() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = hookline(&["listen", "--port", &port]);
    assert_eq!(out.status.code(), Some(69));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("port {port} on 127.0.0.1 is already in use")),
        "{err}"
    );
    assert!(err.contains("--port"), "{err}");
}

#[test]
fn listen_refuses_a_secret_that_is_not_a_standard_webhooks_key() {
    let out = hookline(&["listen", "--port", "0", "--secret", "topsecret!!"]);
    assert_eq!(out.status.code(), Some(2));
    assert_stderr_contains(&out, "whsec_");
    assert!(!stderr(&out).contains("topsecret"), "{}", stderr(&out));
}

// ---- hookline listen: what a request cannot make it print or do -----------------------------

/// Sends `head` (request line and headers, without the final blank line) and `body` over one
/// raw connection, byte for byte (curl and reqwest refuse some of these bytes); returns the
/// status and the answer's body.
fn raw_request(port: u16, head: &[u8], body: &[u8]) -> (u16, Vec<u8>) {
    use std::io::Read as _;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut request = head.to_vec();
    request.extend_from_slice(
        format!(
            "\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    request.extend_from_slice(body);
    stream.write_all(&request).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let at = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of head in {text:?}"));
    (status, answer[at + 4..].to_vec())
}

/// Characters a terminal acts on (C0 and C1 controls, DEL) or that make a line read differently
/// from what it holds (bidi overrides and isolates, zero-width characters, the BOM, tags).
fn drives_the_terminal(c: char) -> bool {
    c.is_control()
        || ('\u{200b}'..='\u{200f}').contains(&c)
        || ('\u{2028}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
        || c == '\u{feff}'
        || ('\u{e0000}'..='\u{e007f}').contains(&c)
}

/// A title change, an OSC 52 clipboard write, erase-line and carriage return to forge a
/// "verified" line, the 8-bit CSI, a bidi override and a zero-width space.
const ESCAPES: &str = "\u{1b}]0;pwned\u{7}\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}\u{1b}[2K\r\
    12:00:00 POST /forged  ✔ verified  → 200\u{9b}31m\u{202e}txt.exe\u{200b}\u{7f}";

/// A JSON body whose `type` holds [`ESCAPES`] (as JSON escapes, decoded by the parser).
fn escaping_json_body() -> String {
    serde_json::json!({ "type": ESCAPES, "data": { "note": ESCAPES } }).to_string()
}

/// The raw head of a POST to `path` with `headers`, plus a header holding every byte HTTP lets
/// through (C1 and bidi characters as UTF-8; ESC itself is refused by the HTTP parser).
fn nasty_head(path: &str, headers: &[(String, String)]) -> Vec<u8> {
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n").into_bytes();
    for (n, v) in headers {
        head.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    head.extend_from_slice("X-Evil: a\u{9b}31m\u{9d}52;c;x\u{202e}b\u{2066}c".as_bytes());
    head
}

fn assert_nothing_reaches_the_terminal(lines: &[String]) {
    for line in lines {
        assert!(
            !line.chars().any(drives_the_terminal),
            "raw control or format character in {line:?}"
        );
        assert!(
            !line.starts_with("12:00:00 POST /forged"),
            "a request forged a line: {line:?}"
        );
    }
}

#[test]
fn listen_prints_no_escape_sequence_from_body_headers_or_type_verified_or_refused() {
    let listen = Listen::start(&[], &["--secret", WHSEC, "--headers", "--full"]);
    let body = escaping_json_body();
    let mut headers = signed_standard(&body);
    headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
    let (status, _) = raw_request(listen.port, &nasty_head("/ok", &headers), body.as_bytes());
    assert_eq!(status, 200, "{}", listen.stderr_text());
    // Refused (401): an unsigned text body and an id with C1 and bidi characters.
    let forged = [("webhook-id".to_owned(), "msg_\u{9b}2J\u{202e}".to_owned())];
    let text_body = format!("hello\n{ESCAPES}\n\r12:00:00 POST /forged  ✔ verified  → 200");
    let (status, _) = raw_request(
        listen.port,
        &nasty_head("/no", &forged),
        text_body.as_bytes(),
    );
    assert_eq!(status, 401);
    listen.wait_for_line(|l| l.contains("POST /ok") && l.ends_with("✔ verified  → 200"));
    let refused = listen.wait_for_line(|l| l.contains("POST /no") && l.contains("→ 401"));
    // The body's last line, indented, its carriage return written out.
    listen.wait_for_line(|l| l == r"  \r12:00:00 POST /forged  ✔ verified  → 200");
    // The text is still there to read, written out visibly.
    assert!(refused.contains(r"msg_\u{9b}2J\u{202e}"), "{refused}");
    let all = listen.stdout_lines().join("\n");
    assert!(all.contains(r"\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}"), "{all}");
    assert!(
        all.contains(r"x-evil: a\u{9b}31m\u{9d}52;c;x\u{202e}b\u{2066}c"),
        "{all}"
    );
    assert!(all.contains(r"\u{1b}[2K\r12:00:00"), "{all}");
    assert_nothing_reaches_the_terminal(&listen.stdout_lines());
    assert_nothing_reaches_the_terminal(&[listen.stderr_text()]);
}

#[test]
fn listen_json_output_escapes_every_control_and_format_character_and_keeps_the_values() {
    let listen = Listen::start(&["--json"], &["--secret", WHSEC, "--headers"]);
    let body = escaping_json_body();
    let mut headers = signed_standard(&body);
    headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
    let (status, _) = raw_request(listen.port, &nasty_head("/ok", &headers), body.as_bytes());
    assert_eq!(status, 200);
    let text_body = format!("{ESCAPES}\u{85}");
    let (status, _) = raw_request(listen.port, &nasty_head("/bad", &[]), text_body.as_bytes());
    assert_eq!(status, 401);
    let ok: Value = serde_json::from_str(&listen.wait_for_line(|l| l.contains("/ok"))).unwrap();
    assert_eq!(ok["type"], ESCAPES);
    assert_eq!(ok["body"]["data"]["note"], ESCAPES);
    assert_eq!(
        ok["headers"]["x-evil"],
        "a\u{9b}31m\u{9d}52;c;x\u{202e}b\u{2066}c"
    );
    let bad: Value = serde_json::from_str(&listen.wait_for_line(|l| l.contains("/bad"))).unwrap();
    assert_eq!(bad["body"], text_body.as_str());
    assert_nothing_reaches_the_terminal(&listen.stdout_lines());
}

#[test]
fn listen_refuses_browsers_on_other_origins_and_rebound_host_names() {
    let listen = Listen::start(&[], &["--secret", WHSEC, "--fail-first", "1"]);
    let body = BODY;
    let signed: Vec<(String, String)> = signed_standard(body);
    let head = |host: &str, origin: Option<&str>| {
        let mut head = format!("POST /hook HTTP/1.1\r\nHost: {host}").into_bytes();
        for (n, v) in signed
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .chain(origin.map(|o| ("Origin", o)))
        {
            head.extend_from_slice(format!("\r\n{n}: {v}").as_bytes());
        }
        head
    };
    let port = listen.port;
    let here = format!("127.0.0.1:{port}");
    for (host, origin, code) in [
        (
            here.as_str(),
            Some("https://attacker.example"),
            "forbidden_origin",
        ),
        (here.as_str(), Some("null"), "forbidden_origin"),
        ("rebind.attacker.example", None, "forbidden_host"),
        ("127.0.0.1.attacker.example:80", None, "forbidden_host"),
    ] {
        // Correctly signed, and still refused: the guard comes first.
        let (status, answer) = raw_request(port, &head(host, origin), body.as_bytes());
        assert_eq!(status, 403, "{host} {origin:?}");
        assert_eq!(
            String::from_utf8(answer).unwrap(),
            format!("{{\"error\":\"{code}\"}}\n"),
            "{host} {origin:?}"
        );
    }
    // This machine's own pages and clients pass; the refused requests did not use up
    // --fail-first, and printed no request line.
    let (status, answer) = raw_request(
        port,
        &head(&format!("localhost:{port}"), Some("http://localhost:3000")),
        body.as_bytes(),
    );
    assert_eq!(
        (status, answer.as_slice()),
        (500, &b"{\"attempt\":1,\"error\":\"fail_first\"}\n"[..])
    );
    let (status, answer) = raw_request(port, &head(&here, None), body.as_bytes());
    assert_eq!(
        (status, answer.as_slice()),
        (200, &b"{\"status\":200}\n"[..])
    );
    let (status, answer) = raw_request(port, &head(&here, None), b"tampered");
    assert_eq!(
        (status, answer.as_slice()),
        (401, &b"{\"error\":\"signature_mismatch\"}\n"[..])
    );
    listen.wait_for_line(|l| l.contains("→ 401"));
    let requests = listen
        .stdout_lines()
        .into_iter()
        .filter(|l| l.contains("POST /hook"))
        .count();
    assert_eq!(requests, 3, "{:?}", listen.stdout_lines());
    let notes = listen.stderr_text();
    assert_eq!(notes.matches("answered 403").count(), 4, "{notes}");
}
