//! moto on loopback: the SQS API the sender, the Worker's consumer and `hookline dev`'s
//! forwarder talk to in tests.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::locate::{harness_file, harness_tool};
use super::process::{LogTail, POLL_INTERVAL, STARTUP_DEADLINE, drain, free_port, stop_child};
use crate::raw_http::request as http;

/// A moto server (the SQS API) on a free loopback port, stopped on drop or when the test binary
/// exits. Fresh queues per test (see [`fresh_queue`]) are cheaper than [`Moto::reset`], and moto
/// slows down with deep queues.
pub struct Moto {
    /// `http://127.0.0.1:<port>`: the endpoint URL for [`sqs_client`].
    pub endpoint: String,
    addr: SocketAddr,
    child: Child,
    log: LogTail,
}

impl Moto {
    /// Starts `tests/harness/moto_server.py -H 127.0.0.1 -p <free port>` (moto_server with each
    /// DynamoDB request atomic) on the harness venv's python and waits (at most 20 s) until it
    /// answers. Panics, naming `tests/harness/setup.sh`, when the harness is not installed.
    pub fn start() -> Moto {
        let mut failures = String::new();
        // A port taken between our probe and moto's bind makes moto exit: try another.
        for _ in 0..3 {
            match Self::try_start_on(free_port()) {
                Ok(moto) => return moto,
                Err(why) => failures.push_str(&why),
            }
        }
        panic!("moto_server failed to start:\n{failures}");
    }

    /// Starts moto on a given loopback port (to bring an SQS endpoint up where a client was
    /// already told to look); panics if it does not come up.
    pub fn start_on(port: u16) -> Moto {
        Self::try_start_on(port).unwrap_or_else(|why| panic!("{why}"))
    }

    fn try_start_on(port: u16) -> Result<Moto, String> {
        let python = harness_tool("python");
        let moto = harness_file("moto_server.py");
        let guard = harness_file("guard.py");
        {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let log = LogTail::default();
            let mut child = Command::new(&python)
                .arg(&guard)
                .arg("--")
                .arg(&python)
                .arg(&moto)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("spawning {}: {e}", moto.display()));
            drain(child.stdout.take().unwrap(), log.clone(), None);
            drain(child.stderr.take().unwrap(), log.clone(), None);
            let until = Instant::now() + STARTUP_DEADLINE;
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "moto_server on port {port} exited ({status}):\n{}\n",
                        log.text()
                    ));
                }
                // Only moto answers this; another server that grabbed the port does not.
                if let Ok((200, _)) =
                    http(addr, "POST", "/moto-api/reset", b"", Duration::from_secs(2))
                {
                    return Ok(Moto {
                        endpoint: format!("http://{addr}"),
                        addr,
                        child,
                        log,
                    });
                }
                if Instant::now() >= until {
                    stop_child(&mut child, Duration::from_secs(1));
                    panic!(
                        "moto_server did not answer on {addr} within {STARTUP_DEADLINE:?}:\n{}",
                        log.text()
                    );
                }
                std::thread::sleep(POLL_INTERVAL);
            }
        }
    }

    /// Wipes every queue (`POST /moto-api/reset`). It affects every test sharing this server.
    pub fn reset(&self) {
        match http(
            self.addr,
            "POST",
            "/moto-api/reset",
            b"",
            Duration::from_secs(10),
        ) {
            Ok((200, _)) => {}
            other => panic!("moto reset failed: {other:?}\n{}", self.log_tail()),
        }
    }

    /// Creates IAM credentials on this moto, then makes it check the SigV4 signature of every
    /// later request (`tests/harness/moto_auth.py`). Returns `{"user": {access_key_id,
    /// secret_access_key}, "session": {.., session_token}}`. Irreversible: use a moto of its own.
    pub fn enable_auth(&self) -> Value {
        let out = Command::new(harness_tool("python"))
            .arg(harness_file("moto_auth.py"))
            .arg(&self.endpoint)
            .output()
            .unwrap();
        if !out.status.success() {
            panic!(
                "moto_auth.py failed: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                self.log_tail()
            );
        }
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The last lines moto wrote (its request log), for failure messages.
    pub fn log_tail(&self) -> String {
        self.log.text()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        stop_child(&mut self.child, Duration::from_secs(5));
    }
}
