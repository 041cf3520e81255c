//! What the fault-injection suites (`functions/sender/tests/faults.rs`, `cli/tests/cli/faults.rs`) put between hookline
//! and the services it talks to:
//!
//! - [`FaultProxy`]: a TCP proxy on loopback in front of a real server (moto) that can be switched
//!   off and on. Off, it resets every open connection and every new one, which is what a client
//!   sees when SQS is unreachable, while the server behind keeps its messages (moto keeps them in
//!   memory, so stopping moto itself would lose the queue's contents, which real SQS never does).
//! - [`LambdaRuntime`]: the Lambda Runtime API (`/2018-06-01/runtime/...`) on loopback, so the real
//!   sender bootstrap runs as its own process, fed the way Lambda feeds it, and can be killed with
//!   SIGKILL in the middle of a batch. An invocation whose process died never gets a response and
//!   fails by timeout, as on Lambda.
//! - [`Ledger`]: the accounting every suite reports.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

/// The number of events per fault test: `HOOKLINE_FAULT_EVENTS`, else `default`.
pub fn fault_events(default: usize) -> usize {
    std::env::var("HOOKLINE_FAULT_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// How long a phase of a fault test may take: `base` seconds for the default sizes, more for
/// larger runs.
pub fn settle_time(n: usize, base: u64) -> Duration {
    Duration::from_secs(base + n as u64 / 4)
}

// ---- FaultProxy -------------------------------------------------------------------------------

/// A TCP proxy that can be taken down (connections reset) and brought back.
pub struct FaultProxy {
    /// `http://127.0.0.1:<port>`: give this to clients instead of the server's own URL.
    pub endpoint: String,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
    /// Connections refused while down.
    refused: Arc<AtomicU64>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `target` (an `http://host:port` URL).
    pub async fn start(target: &str) -> FaultProxy {
        let target = target
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let refused = Arc::new(AtomicU64::new(0));
        let accept = {
            let (up, conns, refused) = (Arc::clone(&up), Arc::clone(&conns), Arc::clone(&refused));
            tokio::spawn(async move {
                loop {
                    let Ok((client, _)) = listener.accept().await else {
                        continue;
                    };
                    if !up.load(Ordering::SeqCst) {
                        refused.fetch_add(1, Ordering::Relaxed);
                        reset(client);
                        continue;
                    }
                    let target = target.clone();
                    let task = tokio::spawn(async move {
                        let Ok(mut server) = TcpStream::connect(&target).await else {
                            reset(client);
                            return;
                        };
                        let mut client = client;
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    });
                    let mut conns = conns.lock().unwrap();
                    conns.retain(|c| !c.is_finished());
                    conns.push(task.abort_handle());
                }
            })
            .abort_handle()
        };
        FaultProxy {
            endpoint,
            up,
            conns,
            accept,
            refused,
        }
    }

    /// Down: every open connection is dropped and new ones are reset. Up: forwarding again.
    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            for c in self.conns.lock().unwrap().drain(..) {
                c.abort();
            }
        }
    }

    /// Connections reset while the proxy was down.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.set_up(false);
    }
}

/// Closes with a TCP RST rather than a FIN. (A zero linger never blocks, which is what the
/// deprecation warns about.)
#[allow(deprecated)]
fn reset(stream: TcpStream) {
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

// ---- LambdaRuntime ----------------------------------------------------------------------------

type Outcome = Result<Vec<u8>, String>;

struct Pending {
    payload: Vec<u8>,
    done: oneshot::Sender<Outcome>,
}

/// The Lambda Runtime API, one function, one invocation at a time per polling process.
pub struct LambdaRuntime {
    /// `127.0.0.1:<port>`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    queue: mpsc::Sender<Pending>,
    server: AbortHandle,
    state: Arc<RuntimeState>,
    /// Init errors the runtime reported (`/runtime/init/error`).
    pub init_errors: Arc<Mutex<Vec<String>>>,
}

struct RuntimeState {
    queue: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    inflight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    next_id: AtomicU64,
    timeout: Duration,
    init_errors: Arc<Mutex<Vec<String>>>,
}

impl LambdaRuntime {
    /// Listens on a free loopback port. `timeout` is the function's timeout: it becomes the
    /// deadline header, and an invocation not answered by then fails.
    pub async fn start(timeout: Duration) -> LambdaRuntime {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (tx, rx) = mpsc::channel(1);
        let init_errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let state = Arc::new(RuntimeState {
            queue: tokio::sync::Mutex::new(rx),
            inflight: Mutex::default(),
            next_id: AtomicU64::new(1),
            timeout,
            init_errors: Arc::clone(&init_errors),
        });
        let server = {
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    tokio::spawn(serve_runtime(stream, Arc::clone(&state)));
                }
            })
            .abort_handle()
        };
        LambdaRuntime {
            address,
            queue: tx,
            server,
            state,
            init_errors,
        }
    }

    /// Invocations handed to a process and not answered yet.
    pub fn inflight(&self) -> usize {
        self.state.inflight.lock().unwrap().len()
    }

    /// Invokes the function with `payload` and waits for its response, at most `timeout`
    /// (including the wait for a process to ask for work). `Err` for a function error, a timeout,
    /// or a process that died with the invocation.
    pub async fn invoke(&self, payload: Vec<u8>, timeout: Duration) -> Outcome {
        let (done, result) = oneshot::channel();
        let send = self.queue.send(Pending { payload, done });
        match tokio::time::timeout(timeout, async {
            send.await.map_err(|_| "runtime stopped".to_owned())?;
            result.await.map_err(|_| "invocation dropped".to_owned())?
        })
        .await
        {
            Ok(r) => r,
            Err(_) => Err(format!("timed out after {timeout:?}")),
        }
    }
}

impl Drop for LambdaRuntime {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Reads one HTTP/1.1 request: (method, path, body). `None` when the peer closed.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Option<(String, String, Vec<u8>)> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let length: usize = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 65536];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..head_end + length].to_vec();
    buf.drain(..head_end + length);
    Some((method, path, body))
}

async fn write_response(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).await?;
    stream.flush().await
}

async fn serve_runtime(mut stream: TcpStream, state: Arc<RuntimeState>) {
    let mut buf = Vec::new();
    while let Some((method, path, body)) = read_request(&mut stream, &mut buf).await {
        let path = path.trim_start_matches("/2018-06-01/runtime");
        if method == "GET" && path == "/invocation/next" {
            // Held until there is work, as Lambda holds it.
            // A process killed while its poll is held closes the connection: give up the turn.
            let pending = {
                let mut queue = state.queue.lock().await;
                let mut probe = [0u8; 1];
                tokio::select! {
                    p = queue.recv() => p,
                    _ = stream.read(&mut probe) => None,
                }
            };
            let Some(pending) = pending else {
                return;
            };
            let id = format!("req-{}", state.next_id.fetch_add(1, Ordering::Relaxed));
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + state.timeout.as_millis();
            let headers = [
                ("content-type", "application/json".to_owned()),
                ("lambda-runtime-aws-request-id", id.clone()),
                ("lambda-runtime-deadline-ms", deadline.to_string()),
                (
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:us-east-1:000000000000:function:hookline-sender".to_owned(),
                ),
                (
                    "lambda-runtime-trace-id",
                    "Root=1-00000000-000000000000000000000000".to_owned(),
                ),
            ];
            state
                .inflight
                .lock()
                .unwrap()
                .insert(id.clone(), pending.done);
            if write_response(&mut stream, "200 OK", &headers, &pending.payload)
                .await
                .is_err()
            {
                // The process died while its poll was held: the invocation fails now.
                if let Some(done) = state.inflight.lock().unwrap().remove(&id) {
                    let _ = done.send(Err("runtime connection lost".to_owned()));
                }
                return;
            }
        } else if method == "POST" && path.starts_with("/invocation/") {
            let rest = path.trim_start_matches("/invocation/");
            let (id, what) = rest.split_once('/').unwrap_or((rest, ""));
            if let Some(done) = state.inflight.lock().unwrap().remove(id) {
                let _ = done.send(if what == "response" {
                    Ok(body)
                } else {
                    Err(String::from_utf8_lossy(&body).into_owned())
                });
            }
            if write_response(&mut stream, "202 Accepted", &[], b"{}")
                .await
                .is_err()
            {
                return;
            }
        } else if method == "POST" && path == "/init/error" {
            state
                .init_errors
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let _ = write_response(&mut stream, "202 Accepted", &[], b"{}").await;
        } else {
            let _ = write_response(&mut stream, "404 Not Found", &[], b"{}").await;
        }
    }
}

// ---- Ledger -----------------------------------------------------------------------------------

/// Where each event ended, and how often: the figures a fault suite reports.
#[derive(Debug, Default)]
pub struct Ledger {
    /// The suite's name, for the report.
    pub name: String,
    /// Events the suite tried to hand over.
    pub injected: usize,
    /// Events acknowledged by hookline (a 2xx from the receiver, or on the queue for the sender).
    pub acked: Vec<String>,
    /// Event id → number of times it arrived where it was going (an endpoint, SQS).
    pub delivered: BTreeMap<String, usize>,
    /// Event id → the dead-letter reasons it was recorded with.
    pub dead_lettered: BTreeMap<String, Vec<String>>,
    /// Faults injected, by kind.
    pub faults: BTreeMap<String, usize>,
    /// Other figures worth reporting (answers seen, connections reset, ...).
    pub notes: BTreeMap<String, Value>,
}

impl Ledger {
    /// An empty ledger for the suite `name`.
    pub fn new(name: &str) -> Ledger {
        Ledger {
            name: name.to_owned(),
            ..Ledger::default()
        }
    }

    /// Counts a fault of `kind`.
    pub fn fault(&mut self, kind: &str) {
        *self.faults.entry(kind.to_owned()).or_default() += 1;
    }

    /// Acked events that are neither delivered nor dead-lettered.
    pub fn lost(&self) -> Vec<&String> {
        self.acked
            .iter()
            .filter(|id| !self.delivered.contains_key(*id) && !self.dead_lettered.contains_key(*id))
            .collect()
    }

    /// Whether every acked event is accounted for; once `deadline` has passed with events still
    /// lost, panics naming them as `what`, followed by `detail()` (a log tail, the report).
    pub fn nothing_lost_by(
        &self,
        deadline: std::time::Instant,
        what: &str,
        detail: impl FnOnce() -> String,
    ) -> bool {
        let lost = self.lost();
        if lost.is_empty() {
            return true;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} {what}: {:?}\n{}",
            lost.len(),
            lost.iter().take(10).collect::<Vec<_>>(),
            detail()
        );
        false
    }

    /// Events that arrived without having been acked.
    pub fn unacked_arrivals(&self) -> usize {
        let acked: std::collections::HashSet<&String> = self.acked.iter().collect();
        self.delivered
            .keys()
            .chain(self.dead_lettered.keys())
            .filter(|id| !acked.contains(id))
            .count()
    }

    /// Extra arrivals beyond the first, summed over events.
    pub fn duplicates(&self) -> usize {
        self.delivered
            .values()
            .map(|n| n.saturating_sub(1))
            .sum::<usize>()
            + self
                .dead_lettered
                .values()
                .map(|r| r.len().saturating_sub(1))
                .sum::<usize>()
    }

    /// The report, as one JSON object.
    pub fn report(&self) -> Value {
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for rs in self.dead_lettered.values() {
            for r in rs {
                let kind = r.split([':', ' ']).next().unwrap_or(r).to_owned();
                *reasons.entry(kind).or_default() += 1;
            }
        }
        json!({
            "suite": self.name,
            "injected": self.injected,
            "acked": self.acked.len(),
            "delivered": self.delivered.len(),
            "dead_lettered": self.dead_lettered.len(),
            "dead_letter_reasons": reasons,
            "both_delivered_and_dead_lettered": self.delivered.keys().filter(|k| self.dead_lettered.contains_key(*k)).count(),
            "duplicates": self.duplicates(),
            // Arrived although hookline never acked them (an enqueue that succeeded and still
            // answered an error): allowed, at least once, and counted.
            "arrived_unacked": self.unacked_arrivals(),
            "lost": self.lost().len(),
            "faults": self.faults,
            "notes": self.notes,
        })
    }

    /// Prints the report (one `FAULTS {...}` line, and appended to `$HOOKLINE_FAULTS_JSON` when
    /// set), then asserts that nothing acked was lost.
    #[allow(clippy::print_stderr)] // the report is the point
    pub fn finish(&self) -> Value {
        let report = self.report();
        eprintln!("FAULTS {report}");
        if let Some(path) = std::env::var_os("HOOKLINE_FAULTS_JSON") {
            use std::io::Write as _;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = writeln!(f, "{report}");
            }
        }
        let lost = self.lost();
        assert!(
            lost.is_empty(),
            "{}: {} acked event(s) lost: {:?}",
            self.name,
            lost.len(),
            lost.iter().take(20).collect::<Vec<_>>()
        );
        report
    }
}

/// `SocketAddr` of an `http://host:port` URL (for tests that need the raw address).
pub fn socket_addr(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap()
}
