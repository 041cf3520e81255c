//! Logs and metrics: one JSON line per delivery attempt, and CloudWatch Embedded Metric Format
//! lines that CloudWatch turns into metrics without an API call. Never a secret, a signature or
//! a body: only ids, names, statuses and timings.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// The metric namespace.
pub const NAMESPACE: &str = "hookline";

/// Where log lines go: stdout in the Lambda (CloudWatch Logs collects it), a buffer in tests.
#[derive(Clone)]
pub struct Logger {
    sink: Arc<dyn Fn(&str) + Send + Sync>,
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Logger")
    }
}

impl Logger {
    /// Writes each line to stdout.
    pub fn stdout() -> Self {
        Self {
            sink: Arc::new(|line| {
                use std::io::Write as _;
                let mut out = std::io::stdout().lock();
                // A log line that cannot be written is not worth failing a delivery for.
                let _ = writeln!(out, "{line}");
            }),
        }
    }

    /// Collects lines in memory; returns the logger and the buffer.
    pub fn capture() -> (Self, Arc<Mutex<Vec<String>>>) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let b = Arc::clone(&buf);
        let logger = Self {
            sink: Arc::new(move |line| {
                if let Ok(mut v) = b.lock() {
                    v.push(line.to_owned());
                }
            }),
        };
        (logger, buf)
    }

    /// Writes one structured line.
    pub fn event(&self, value: Value) {
        (self.sink)(&value.to_string());
    }

    /// Writes one EMF line: `name` (a count of 1, or `value` milliseconds for latency) with the
    /// endpoint as a dimension.
    pub fn metric(&self, name: &str, unit: &str, value: f64, endpoint: &str, now_ms: i64) {
        self.event(json!({
            "_aws": {
                "Timestamp": now_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Endpoint"]],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }],
            },
            "Endpoint": endpoint,
            name: value,
        }));
    }
}
