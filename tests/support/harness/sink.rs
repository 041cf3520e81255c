//! The signature-checking webhook sink (`tests/harness/sink.py`).

use std::net::SocketAddr;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::locate::{harness_file, harness_tool};
use super::process::{LogTail, POLL_INTERVAL, STARTUP_DEADLINE, spawn_until_line, stop_child};
use crate::raw_http::request as http;

/// `tests/harness/sink.py` on a free loopback port: records every request and checks its
/// Standard Webhooks signature against the given secrets. See that file for the path grammar
/// (`/ok/...`, `/status/<code>/...`, `/fail/<n>/then/<code>/...`, ...) and the record format.
pub struct Sink {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub base_url: String,
    addr: SocketAddr,
    child: Child,
    log: LogTail,
}

impl Sink {
    /// Starts a sink that accepts signatures made with any of `secrets` (`whsec_...`), waiting at
    /// most 20 s for its `LISTENING` line.
    pub fn start(secrets: &[&str]) -> Sink {
        let python = harness_tool("python");
        let script = harness_file("sink.py");
        let mut cmd = Command::new(&python);
        cmd.arg(&script).args(["--port", "0"]);
        for s in secrets {
            cmd.args(["--secret", s]);
        }
        let what = format!("{} {}", python.display(), script.display());
        let started = spawn_until_line(&mut cmd, &what, "LISTENING ", STARTUP_DEADLINE);
        let base_url = started.ready;
        let addr: SocketAddr = base_url
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("sink.py printed an odd URL {base_url}"));
        Sink {
            base_url,
            addr,
            child: started.child,
            log: started.log,
        }
    }

    /// `base_url` + `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// How many requests were received at `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.deliveries()
            .iter()
            .filter(|d| d["path"] == path)
            .count()
    }

    /// Every request recorded so far, oldest first (`GET /_deliveries`). Each is an object with
    /// `path`, `method`, `headers` (lower-case names), `body` (`body_is_base64` when not UTF-8),
    /// `received_at` (unix seconds), `signature_valid`, `matched_secret_index`, `verify_error`,
    /// `webhook_id`, `attempt_number_for_path`, `behaviour`, `response_status`.
    pub fn deliveries(&self) -> Vec<Value> {
        match http(
            self.addr,
            "GET",
            "/_deliveries",
            b"",
            Duration::from_secs(10),
        ) {
            Ok((200, body)) => serde_json::from_slice(&body)
                .unwrap_or_else(|e| panic!("sink: /_deliveries is not JSON: {e}")),
            other => panic!(
                "sink: GET /_deliveries failed: {:?}\n{}",
                other.map(|(s, b)| (s, String::from_utf8_lossy(&b).into_owned())),
                self.log.text()
            ),
        }
    }

    /// Polls until at least `n` requests are recorded and returns them all; panics at `deadline`
    /// with what was recorded.
    pub fn wait_for(&self, n: usize, deadline: Duration) -> Vec<Value> {
        let until = Instant::now() + deadline;
        loop {
            let got = self.deliveries();
            if got.len() >= n {
                return got;
            }
            if Instant::now() >= until {
                panic!(
                    "sink: {} of {n} deliveries within {deadline:?}: {}",
                    got.len(),
                    serde_json::to_string_pretty(&got).unwrap_or_default()
                );
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Clears the records and the per-path counters (`POST /_reset`).
    pub fn reset(&self) {
        match http(self.addr, "POST", "/_reset", b"", Duration::from_secs(10)) {
            Ok((200, _)) => {}
            other => panic!("sink: POST /_reset failed: {other:?}\n{}", self.log.text()),
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        stop_child(&mut self.child, Duration::from_secs(3));
    }
}
