//! What every CLI test uses: the binary's path, a way to run it, and a running `hookline dev`
//! with the helpers that sign and post to it.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use hookline_core::verify::SchemeKind;
use serde_json::Value;

/// The `hookline` binary cargo built for this test run.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hookline"))
}

/// Runs `hookline args...` to completion (no colours, no inherited `NO_COLOR` surprises).
pub fn hookline(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run hookline")
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the command's standard error contains `needle`, showing all of it otherwise.
pub fn assert_stderr_contains(out: &Output, needle: &str) {
    let err = stderr(out);
    assert!(err.contains(needle), "no {needle:?} in:\n{err}");
}

/// The repository's own `hookline.toml` with the listener's URL replaced and the retries
/// shortened, so the shipped demo is what runs.
pub fn demo_config(listener_url: &str, schedule: &str) -> String {
    let text = std::fs::read_to_string(repo_file("hookline.toml")).unwrap();
    assert!(text.contains("http://127.0.0.1:9000/webhooks"));
    text.replace("http://127.0.0.1:9000/webhooks", listener_url)
        .replace(
            "retry = { schedule = [\"1s\", \"5s\", \"30s\"] }",
            &format!("retry = {{ schedule = {schedule}, jitter = 0.0 }}"),
        )
}

pub fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// A running `hookline dev --json`, its output lines collected.
pub struct Dev {
    child: Child,
    pub port: u16,
    lines: Arc<Mutex<Vec<Value>>>,
    /// Every line it printed, stdout and stderr, as text (for the leak scans).
    raw: Arc<Mutex<Vec<String>>>,
    /// The threads reading stdout and stderr, finished when the pipes close.
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// Reads `pipe` line by line on a thread until it closes, keeping every line in `raw` and
/// handing each to `each`.
fn read_lines(
    pipe: impl std::io::Read + Send + 'static,
    raw: &Arc<Mutex<Vec<String>>>,
    mut each: impl FnMut(String) + Send + 'static,
) -> std::thread::JoinHandle<()> {
    let raw = Arc::clone(raw);
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            raw.lock().unwrap().push(line.clone());
            each(line);
        }
    })
}

impl Dev {
    pub fn start(dir: &Path, config: &str, port: u16) -> Dev {
        Self::start_with(dir, config, port, &[])
    }

    /// As [`Dev::start`], with more options for `hookline dev`.
    pub fn start_with(dir: &Path, config: &str, port: u16, options: &[&str]) -> Dev {
        let cfg = dir.join("hookline.toml");
        std::fs::write(&cfg, config).unwrap();
        let mut child = Command::new(bin())
            .args(["--json", "dev", "--port", &port.to_string()])
            .args(options)
            .arg("--config")
            .arg(&cfg)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let readers = vec![
            read_lines(child.stdout.take().unwrap(), &raw, {
                let lines = Arc::clone(&lines);
                move |line| {
                    if let Ok(v) = serde_json::from_str::<Value>(&line) {
                        let ready = v["event"] == "ready";
                        lines.lock().unwrap().push(v);
                        if ready {
                            let _ = tx.send(());
                        }
                    }
                }
            }),
            read_lines(child.stderr.take().unwrap(), &raw, {
                let stderr = Arc::clone(&stderr);
                move |line| {
                    let mut s = stderr.lock().unwrap();
                    s.push_str(&line);
                    s.push('\n');
                }
            }),
        ];
        if rx.recv_timeout(Duration::from_secs(20)).is_err() {
            let _ = child.kill();
            panic!(
                "hookline dev did not get ready:\n{}",
                stderr.lock().unwrap()
            );
        }
        Dev {
            child,
            port,
            lines,
            raw,
            readers,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn ready(&self) -> Value {
        self.lines.lock().unwrap()[0].clone()
    }

    /// The output lines whose `msg` or `event` is `kind`.
    pub fn events(&self, kind: &str) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|v| v["msg"] == kind || v["event"] == kind)
            .cloned()
            .collect()
    }

    /// Every line printed so far, stdout and stderr.
    pub fn output(&self) -> Vec<String> {
        self.raw.lock().unwrap().clone()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL, then every line it printed, read to the end.
    pub fn kill_9_and_output(mut self) -> Vec<String> {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        for reader in std::mem::take(&mut self.readers) {
            let _ = reader.join();
        }
        self.output()
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub use hookline_tests::now;

/// Headers a Standard Webhooks sender would send for `body`.
pub fn standard_headers(secret: &str, id: &str, body: &[u8]) -> Vec<(String, String)> {
    hookline_tests::sign_now(SchemeKind::StandardWebhooks, secret, id, body)
}

/// Headers Stripe would send for `body`.
pub fn stripe_headers(secret: &str, body: &[u8]) -> Vec<(String, String)> {
    hookline_tests::sign_now(SchemeKind::Stripe, secret, "", body)
}

pub async fn post(url: &str, headers: &[(String, String)], body: Vec<u8>) -> (u16, Value) {
    let client = reqwest::Client::new();
    // Providers send JSON with its content type (without it, the body is kept as bytes).
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub fn wait_until<T>(deadline: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + deadline;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}
