//! What every part of the harness does with its child processes: start one and wait for the
//! line that says it is ready, keep its output for failure messages and leak scans, stop it;
//! loopback ports; polling with a deadline instead of sleeping.

use std::future::Future;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a child may take to come up.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(20);
/// The pause between two polls of a condition.
pub const POLL_INTERVAL: Duration = Duration::from_millis(25);
/// How much of a child's output is kept for failure messages.
pub const LOG_TAIL: usize = 32 * 1024;

/// What a child wrote: the last [`LOG_TAIL`] bytes for failure messages, and every line (up to
/// [`LOG_ALL`] bytes) for the secret-leak scans.
#[derive(Clone, Default)]
pub struct LogTail(Arc<Mutex<LogState>>);

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
    /// Keeps `line` (in the tail and, while under [`LOG_ALL`], in the full log).
    pub fn push(&self, line: &str) {
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

    /// The last [`LOG_TAIL`] bytes.
    pub fn text(&self) -> String {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .tail
            .clone()
    }

    /// Every line; panics if some were not kept, since a scan of part of a log proves nothing.
    pub fn lines(&self) -> Vec<String> {
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
pub fn drain(
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
pub fn stop_child(child: &mut Child, grace: Duration) {
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

/// A child with piped standard streams, both drained into one [`LogTail`].
pub struct Spawned {
    /// The process.
    pub child: Child,
    /// What it wrote on either stream.
    pub log: LogTail,
    /// The threads draining stdout and stderr (joined to read a log to its end).
    pub readers: Vec<JoinHandle<()>>,
    /// The rest of the ready line, after its prefix.
    pub ready: String,
}

/// Spawns `cmd` with piped stdin (the child exits when it closes), stdout and stderr, and waits
/// at most `deadline` for a line of stdout starting with `prefix`; panics with the child's output
/// if none comes (the child is stopped first). `what` names the child in messages.
pub fn spawn_until_line(
    cmd: &mut Command,
    what: &str,
    prefix: &str,
    deadline: Duration,
) -> Spawned {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {what}: {e}"));
    let log = LogTail::default();
    let (tx, rx) = mpsc::channel();
    let readers = vec![
        drain(child.stdout.take().unwrap(), log.clone(), Some(tx)),
        drain(child.stderr.take().unwrap(), log.clone(), None),
    ];
    let until = Instant::now() + deadline;
    let ready = loop {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(rest) = line.trim().strip_prefix(prefix) {
                    break rest.to_owned();
                }
            }
            Err(e) => {
                stop_child(&mut child, Duration::from_secs(1));
                panic!(
                    "{what} did not report {} ({e}):\n{}",
                    prefix.trim(),
                    log.text()
                );
            }
        }
    };
    Spawned {
        child,
        log,
        readers,
        ready,
    }
}

/// A loopback port free at the time of asking.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

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
