//! Logs and metrics: one JSON line per delivery attempt, and CloudWatch Embedded Metric Format
//! lines that CloudWatch turns into metrics without an API call. Never a secret, a signature or
//! a body: only ids, names, statuses and timings.

use std::sync::{Arc, Mutex};

use serde_json::Value;

/// The metric namespace.
pub const NAMESPACE: &str = "hookline";

/// Where log lines go: stdout in the Lambda (CloudWatch Logs collects it), a buffer in tests.
#[derive(Clone)]
pub struct Logger {
    sink: Arc<dyn Fn(&str) + Send + Sync>,
    min: u8,
}

/// The first size of a thread's line buffer: an EMF line with both dimensions is about 300 bytes.
const LINE_CAPACITY: usize = 512;
/// A buffer grown past this by one long line is not kept for the next.
const MAX_KEPT_LINE: usize = 16 * 1024;

thread_local! {
    /// Where [`Logger::write`] serialises a line before the sink takes it.
    static LINE: std::cell::RefCell<Vec<u8>> =
        std::cell::RefCell::new(Vec::with_capacity(LINE_CAPACITY));
}

/// Orders log levels; lines below the logger's level are dropped.
fn rank(level: &str) -> Option<u8> {
    // Compared without case and without a lower-cased copy: this runs for every line.
    let level = level.trim();
    [
        ("trace", 0),
        ("debug", 1),
        ("info", 2),
        ("warn", 3),
        ("warning", 3),
        ("error", 4),
    ]
    .into_iter()
    .find_map(|(name, rank)| level.eq_ignore_ascii_case(name).then_some(rank))
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
            min: 0,
            sink: Arc::new(|line| {
                use std::io::Write as _;
                let mut out = std::io::stdout().lock();
                // A log line that cannot be written is not worth failing a delivery for.
                let _ = writeln!(out, "{line}");
            }),
        }
    }

    /// Hands each line to `sink` (`hookline dev` prints them its own way).
    pub fn with_sink(sink: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self {
            min: 0,
            sink: Arc::new(sink),
        }
    }

    /// Collects lines in memory; returns the logger and the buffer.
    pub fn capture() -> (Self, Arc<Mutex<Vec<String>>>) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let b = Arc::clone(&buf);
        let logger = Self {
            min: 0,
            sink: Arc::new(move |line| {
                if let Ok(mut v) = b.lock() {
                    v.push(line.to_owned());
                }
            }),
        };
        (logger, buf)
    }

    /// Drops lines below `level` (`error`, `warn`, `info`, `debug`, `trace`, as in `RUST_LOG`;
    /// anything else means `info`). Metric lines carry no level and are always written.
    pub fn with_level(mut self, level: &str) -> Self {
        self.min = rank(level).unwrap_or(2);
        self
    }

    /// Writes one structured line, unless its `level` is below the logger's.
    pub fn event(&self, value: Value) {
        let level = value.get("level").and_then(Value::as_str).and_then(rank);
        if level.is_some_and(|l| l < self.min) {
            return;
        }
        (self.sink)(&value.to_string());
    }

    /// Whether a line at `level` would be written: callers check it before they build a line.
    pub fn enabled(&self, level: &str) -> bool {
        rank(level).is_none_or(|l| l >= self.min)
    }

    /// Writes one line serialised straight from `line` (a struct, not a `Value` tree: no map is
    /// built per line), unless `level` is below the logger's. The line must carry `level` as
    /// its `"level"` field; lines without one (metrics) pass `None` and are always written.
    pub fn write(&self, level: Option<&str>, line: &impl serde::Serialize) {
        if level.is_some_and(|l| !self.enabled(l)) {
            return;
        }
        // Serialised into this thread's buffer, kept from line to line: no allocation per line
        // (an EMF line outgrows `to_string`'s first 128 bytes twice). A sink that logs from
        // inside itself finds the buffer taken and gets a fresh one.
        LINE.with(|buf| match buf.try_borrow_mut() {
            Ok(mut buf) => {
                buf.clear();
                self.write_with(&mut buf, line);
                if buf.capacity() > MAX_KEPT_LINE {
                    *buf = Vec::with_capacity(LINE_CAPACITY);
                }
            }
            Err(_) => self.write_with(&mut Vec::with_capacity(LINE_CAPACITY), line),
        });
    }

    fn write_with(&self, buf: &mut Vec<u8>, line: &impl serde::Serialize) {
        // Serialising ids, names and numbers cannot fail; were it ever to, the line is dropped
        // as an unwritable one is. serde_json writes UTF-8 only.
        if serde_json::to_writer(&mut *buf, line).is_ok()
            && let Ok(text) = std::str::from_utf8(buf)
        {
            (self.sink)(text);
        }
    }

    /// Writes one EMF line: `name` (a count of 1, or `value` milliseconds for latency) with the
    /// endpoint as a dimension.
    pub fn metric(&self, name: &str, unit: &str, value: f64, endpoint: &str, now_ms: i64) {
        self.write(
            None,
            &Emf {
                name,
                unit,
                value,
                endpoint,
                application: None,
                now_ms,
            },
        );
    }

    /// As [`Logger::metric`], counted per endpoint and per application from the same line: two
    /// dimension sets, so CloudWatch keeps one series by `Endpoint` (the same series `metric`
    /// writes, so alarms on it keep working) and one by `Application`. Endpoints of the
    /// configuration count under the application `_config`.
    pub fn app_metric(
        &self,
        name: &str,
        unit: &str,
        value: f64,
        application: &str,
        endpoint: &str,
        now_ms: i64,
    ) {
        self.write(
            None,
            &Emf {
                name,
                unit,
                value,
                endpoint,
                application: Some(application),
                now_ms,
            },
        );
    }
}

/// One EMF line: `{"_aws": {...}, "Endpoint": .., ["Application": ..,] name: value}`. Written
/// field by field (the metric's name is a key), as `json!` would build it, without the tree.
struct Emf<'a> {
    name: &'a str,
    unit: &'a str,
    value: f64,
    endpoint: &'a str,
    application: Option<&'a str>,
    now_ms: i64,
}

/// The dimension sets of an endpoint metric, and of one also counted per application.
const BY_ENDPOINT: &[&[&str]] = &[&["Endpoint"]];
const BY_ENDPOINT_AND_APPLICATION: &[&[&str]] = &[&["Endpoint"], &["Application"]];

impl serde::Serialize for Emf<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;

        #[derive(serde::Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Aws<'a> {
            timestamp: i64,
            cloud_watch_metrics: [Directive<'a>; 1],
        }
        #[derive(serde::Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Directive<'a> {
            namespace: &'static str,
            dimensions: &'static [&'static [&'static str]],
            metrics: [Metric<'a>; 1],
        }
        #[derive(serde::Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Metric<'a> {
            name: &'a str,
            unit: &'a str,
        }

        let aws = Aws {
            timestamp: self.now_ms,
            cloud_watch_metrics: [Directive {
                namespace: NAMESPACE,
                dimensions: if self.application.is_some() {
                    BY_ENDPOINT_AND_APPLICATION
                } else {
                    BY_ENDPOINT
                },
                metrics: [Metric {
                    name: self.name,
                    unit: self.unit,
                }],
            }],
        };
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("_aws", &aws)?;
        map.serialize_entry("Endpoint", self.endpoint)?;
        if let Some(application) = self.application {
            map.serialize_entry("Application", application)?;
        }
        map.serialize_entry(self.name, &self.value)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn level_filters_log_lines_but_never_metrics() {
        let (log, buf) = Logger::capture();
        let log = log.with_level("warn");
        log.event(json!({"level": "info", "msg": "a"}));
        log.event(json!({"level": "warn", "msg": "b"}));
        log.event(json!({"level": "error", "msg": "c"}));
        log.metric("Delivered", "Count", 1.0, "e", 0);
        let lines = buf.lock().unwrap().clone();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[0].contains("\"b\"") && lines[1].contains("\"c\""));
        assert!(lines[2].contains("CloudWatchMetrics"));
        let (log, buf) = Logger::capture();
        log.with_level("nonsense").event(json!({"level": "debug"}));
        assert!(buf.lock().unwrap().is_empty(), "unknown levels mean info");
    }

    /// The lines as they were built before (a `json!` tree per line): the typed lines say the
    /// same, field for field.
    #[test]
    fn metric_lines_say_what_the_json_trees_said() {
        let (log, buf) = Logger::capture();
        log.metric("DeliveryLatency", "Milliseconds", 12.5, "e\"1", -3);
        log.app_metric(
            "Delivered",
            "Count",
            1.0,
            "app_1",
            "ep_1",
            1_795_435_200_000,
        );
        let lines: Vec<Value> = buf
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0],
            json!({
                "_aws": {
                    "Timestamp": -3,
                    "CloudWatchMetrics": [{
                        "Namespace": NAMESPACE,
                        "Dimensions": [["Endpoint"]],
                        "Metrics": [{"Name": "DeliveryLatency", "Unit": "Milliseconds"}],
                    }],
                },
                "Endpoint": "e\"1",
                "DeliveryLatency": 12.5,
            })
        );
        assert_eq!(
            lines[1],
            json!({
                "_aws": {
                    "Timestamp": 1_795_435_200_000_i64,
                    "CloudWatchMetrics": [{
                        "Namespace": NAMESPACE,
                        "Dimensions": [["Endpoint"], ["Application"]],
                        "Metrics": [{"Name": "Delivered", "Unit": "Count"}],
                    }],
                },
                "Endpoint": "ep_1",
                "Application": "app_1",
                "Delivered": 1.0,
            })
        );
    }

    #[test]
    fn typed_lines_are_filtered_by_level_like_the_others() {
        #[derive(serde::Serialize)]
        struct Line {
            level: &'static str,
        }
        let (log, buf) = Logger::capture();
        let log = log.with_level("warn");
        assert!(!log.enabled("info") && log.enabled("warn") && log.enabled("error"));
        log.write(Some("info"), &Line { level: "info" });
        log.write(Some("error"), &Line { level: "error" });
        assert_eq!(*buf.lock().unwrap(), [r#"{"level":"error"}"#]);
    }

    #[test]
    fn app_metrics_count_per_endpoint_and_per_application_in_one_line() {
        let (log, buf) = Logger::capture();
        log.app_metric("Delivered", "Count", 1.0, "app_1", "ep_1", 7);
        log.metric("Delivered", "Count", 1.0, "ep_1", 7);
        let lines: Vec<Value> = buf
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let emf = &lines[0]["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(emf["Dimensions"], json!([["Endpoint"], ["Application"]]));
        assert_eq!(emf["Metrics"][0]["Name"], "Delivered");
        assert_eq!(
            (
                &lines[0]["Endpoint"],
                &lines[0]["Application"],
                &lines[0]["Delivered"]
            ),
            (&json!("ep_1"), &json!("app_1"), &json!(1.0))
        );
        // Every name and dimension of the endpoint-only line is in the application line too.
        assert_eq!(
            lines[1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Endpoint"]])
        );
        assert_eq!(lines[1]["Endpoint"], lines[0]["Endpoint"]);
    }
}
