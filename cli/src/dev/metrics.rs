//! `hookline dev`'s counters, served as `GET /metrics` in Prometheus's text format.
//!
//! They are read from the same lines CloudWatch reads in AWS: the sender writes every metric as
//! an Embedded Metric Format line through its `Logger`, and `hookline dev`'s logger sink hands
//! each line here. A metric the sender adds (or a dimension, such as `Application`) shows up
//! here without a change: names and labels come from the EMF directive itself.
//!
//! - a `Count` metric `Delivered` becomes the counter `hookline_delivered_total`;
//! - a `Milliseconds` metric `DeliveryLatency` becomes the histogram
//!   `hookline_delivery_latency_milliseconds` ([`LATENCY_BUCKETS_MS`]);
//! - any other unit `U` of a metric `M` becomes the counter `hookline_m_u_total` (the sum);
//! - each dimension (`Endpoint`, `Application`) becomes a label (`endpoint`, `application`).
//!
//! The queues' depths (the dead-letter queue's among them) are read from the store when
//! `/metrics` is asked, as gauges. Everything counts from the start of this `hookline dev`:
//! counters restart at zero, as Prometheus expects of a restarted process.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use serde_json::Value;

/// The latency histogram's upper bounds, in milliseconds (`+Inf` follows).
pub const LATENCY_BUCKETS_MS: [f64; 12] = [
    5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0, 30_000.0,
];
/// Every metric name starts with this.
const PREFIX: &str = "hookline_";
/// The counter of EMF lines that could not be read (so a change in the sender's lines shows).
const UNREADABLE: &str = "hookline_dev_unreadable_metric_lines_total";

/// A series' labels, in name order.
type Labels = Vec<(String, String)>;

/// One series' value.
#[derive(Clone, Debug, PartialEq)]
enum Series {
    /// A running sum.
    Counter(f64),
    /// Counts per bucket (not cumulative), then the sum and the count.
    Histogram {
        buckets: [u64; LATENCY_BUCKETS_MS.len()],
        sum: f64,
        count: u64,
    },
}

/// The counters, by metric name then labels.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<String, BTreeMap<Labels, Series>>>,
}

/// A gauge read when `/metrics` is asked: name, labels, value.
pub type Gauge = (&'static str, Labels, u64);

/// Why an EMF line could not be read.
#[derive(Debug, PartialEq, Eq)]
struct Unreadable;

/// `DeliveryLatency` → `delivery_latency`; anything but ASCII letters and digits becomes `_`.
fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = true;
        } else {
            out.push('_');
            prev_lower = false;
        }
    }
    out
}

/// A label value as Prometheus's text format writes it: `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn label_text(labels: &[(String, String)], extra: Option<(&str, &str)>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{}\"", escape(v)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

impl Metrics {
    /// Reads one line of the sender's log: an EMF line is counted, any other line is not ours.
    /// Returns whether it was a metric line (an unreadable one counts as one: it is counted as
    /// unreadable, and is nothing to print either).
    pub fn observe(&self, line: &str) -> bool {
        // Cheap test first: most lines are not metrics.
        if !line.contains("\"_aws\"") {
            return false;
        }
        // Read as the object's members, each value left as its JSON text: one per delivery,
        // so no tree of it is built (its names and values are read from the text below).
        let parsed = match serde_json::from_str::<Members<'_>>(line) {
            Ok(members) => match members.get("_aws") {
                None => return false, // the text was in a string: not an EMF line
                Some(aws) => parse(aws, &members),
            },
            // Not an object of members (or one with an escaped name): read as any JSON is.
            Err(_) => match serde_json::from_str::<Value>(line) {
                Ok(v) if v.get("_aws").is_none() => return false,
                _ => Err(Unreadable),
            },
        };
        match parsed {
            Ok(points) => {
                if let Ok(mut series) = self.series.lock() {
                    for (name, unit, labels, value) in points {
                        add(&mut series, &name, &unit, labels, value);
                    }
                }
            }
            Err(Unreadable) => self.unreadable(),
        }
        true
    }

    fn unreadable(&self) {
        if let Ok(mut series) = self.series.lock()
            && let Series::Counter(n) = series
                .entry(UNREADABLE.to_owned())
                .or_default()
                .entry(Vec::new())
                .or_insert(Series::Counter(0.0))
        {
            *n += 1.0;
        }
    }

    /// Everything, in Prometheus's text format (version 0.0.4), the gauges last.
    pub fn render(&self, gauges: &[Gauge]) -> String {
        let mut out = String::new();
        // A poisoned lock means a panic while counting: show what there is.
        let series = match self.series.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        for (name, by_labels) in &series {
            let kind = match by_labels.values().next() {
                Some(Series::Histogram { .. }) => "histogram",
                _ => "counter",
            };
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, value) in by_labels {
                match value {
                    Series::Counter(n) => {
                        let _ = writeln!(out, "{name}{} {n}", label_text(labels, None));
                    }
                    Series::Histogram {
                        buckets,
                        sum,
                        count,
                    } => {
                        let mut cumulative = 0;
                        for (le, n) in LATENCY_BUCKETS_MS.iter().zip(buckets) {
                            cumulative += n;
                            let le = le.to_string();
                            let _ = writeln!(
                                out,
                                "{name}_bucket{} {cumulative}",
                                label_text(labels, Some(("le", &le)))
                            );
                        }
                        let _ = writeln!(
                            out,
                            "{name}_bucket{} {count}",
                            label_text(labels, Some(("le", "+Inf")))
                        );
                        let _ = writeln!(out, "{name}_sum{} {sum}", label_text(labels, None));
                        let _ = writeln!(out, "{name}_count{} {count}", label_text(labels, None));
                    }
                }
            }
        }
        let mut typed: Vec<&str> = Vec::new();
        for (name, labels, value) in gauges {
            if !typed.contains(name) {
                let _ = writeln!(out, "# TYPE {name} gauge");
                typed.push(name);
            }
            let _ = writeln!(out, "{name}{} {value}", label_text(labels, None));
        }
        out
    }
}

/// One metric of one line: its name, unit, labels and value.
type Point = (String, String, Labels, f64);

/// A line's members: each name with its value's JSON text.
type Members<'a> = std::collections::HashMap<&'a str, &'a serde_json::value::RawValue>;

/// `_aws` of an EMF line: its metric directives.
#[derive(serde::Deserialize)]
struct Aws<'a> {
    #[serde(rename = "CloudWatchMetrics", borrow)]
    directives: Vec<Directive<'a>>,
}

/// One directive: the dimension sets and the metrics they apply to.
#[derive(serde::Deserialize)]
struct Directive<'a> {
    #[serde(rename = "Dimensions", borrow)]
    dimensions: Vec<Vec<Cow<'a, str>>>,
    #[serde(rename = "Metrics", borrow)]
    metrics: Vec<MetricDef<'a>>,
}

/// One metric of a directive.
#[derive(serde::Deserialize)]
struct MetricDef<'a> {
    #[serde(rename = "Name", borrow)]
    name: Cow<'a, str>,
    /// EMF's default unit is `None`.
    #[serde(rename = "Unit", borrow, default)]
    unit: Option<Cow<'a, str>>,
}

/// The metrics of one EMF line (`aws`, its `_aws` member; `members`, all of them): every
/// directive's metrics, each labelled with every dimension the directive names (one series,
/// whatever the dimension sets: CloudWatch's rollups are sums Prometheus makes with `sum by`).
fn parse(
    aws: &serde_json::value::RawValue,
    members: &Members<'_>,
) -> Result<Vec<Point>, Unreadable> {
    let aws: Aws<'_> = serde_json::from_str(aws.get()).map_err(|_| Unreadable)?;
    let member = |name: &str| members.get(name).map(|raw| raw.get()).ok_or(Unreadable);
    let mut points = Vec::new();
    for d in &aws.directives {
        let mut dims: Vec<&str> = Vec::new();
        for dim in d.dimensions.iter().flatten() {
            if !dims.contains(&dim.as_ref()) {
                dims.push(dim);
            }
        }
        let mut labels: Labels = dims
            .iter()
            .map(|d| {
                let value: String = serde_json::from_str(member(d)?).map_err(|_| Unreadable)?;
                Ok((snake(d), value))
            })
            .collect::<Result<_, Unreadable>>()?;
        labels.sort();
        for m in &d.metrics {
            let value: f64 = serde_json::from_str(member(&m.name)?).map_err(|_| Unreadable)?;
            let unit = m.unit.as_deref().unwrap_or("None");
            points.push((
                m.name.clone().into_owned(),
                unit.to_owned(),
                labels.clone(),
                value,
            ));
        }
    }
    Ok(points)
}

/// Adds one point to its series.
fn add(
    series: &mut BTreeMap<String, BTreeMap<Labels, Series>>,
    name: &str,
    unit: &str,
    labels: Labels,
    value: f64,
) {
    let base = format!("{PREFIX}{}", snake(name));
    let (full, histogram) = match unit {
        "Count" => (format!("{base}_total"), false),
        "Milliseconds" => (format!("{base}_milliseconds"), true),
        other => (format!("{base}_{}_total", snake(other)), false),
    };
    let slot = series.entry(full).or_default().entry(labels);
    if histogram {
        let entry = slot.or_insert(Series::Histogram {
            buckets: [0; LATENCY_BUCKETS_MS.len()],
            sum: 0.0,
            count: 0,
        });
        if let Series::Histogram {
            buckets,
            sum,
            count,
        } = entry
        {
            // The first bucket whose bound holds the value; above the last, only +Inf (count).
            if let Some(b) = LATENCY_BUCKETS_MS
                .iter()
                .position(|le| value <= *le)
                .and_then(|i| buckets.get_mut(i))
            {
                *b += 1;
            }
            *sum += value;
            *count += 1;
        }
    } else if let Series::Counter(n) = slot.or_insert(Series::Counter(0.0)) {
        *n += value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookline_sender::observe::Logger;

    /// The sender's own logger, its lines fed to `metrics`.
    fn logger(metrics: &std::sync::Arc<Metrics>) -> Logger {
        let m = std::sync::Arc::clone(metrics);
        Logger::with_sink(move |line| {
            m.observe(line);
        })
    }

    #[test]
    fn the_sender_s_metric_lines_become_counters_and_a_latency_histogram_per_endpoint() {
        let metrics = std::sync::Arc::new(Metrics::default());
        let log = logger(&metrics);
        log.metric("Delivered", "Count", 1.0, "billing", 0);
        log.metric("Delivered", "Count", 1.0, "billing", 0);
        log.metric("Delivered", "Count", 1.0, "crm", 0);
        log.metric("DeadLettered", "Count", 1.0, "crm", 0);
        log.metric("DeliveryLatency", "Milliseconds", 7.0, "billing", 0);
        log.metric("DeliveryLatency", "Milliseconds", 40_000.0, "billing", 0);
        // Log lines are not metrics.
        log.event(serde_json::json!({"level": "info", "msg": "delivery_attempt", "x": "\"_aws\""}));
        let text = metrics.render(&[(
            "hookline_queue_messages",
            vec![("queue".into(), "hookline-outbound-dlq".into())],
            3,
        )]);
        let expect = [
            "# TYPE hookline_delivered_total counter",
            "hookline_delivered_total{endpoint=\"billing\"} 2",
            "hookline_delivered_total{endpoint=\"crm\"} 1",
            "hookline_dead_lettered_total{endpoint=\"crm\"} 1",
            "# TYPE hookline_delivery_latency_milliseconds histogram",
            "hookline_delivery_latency_milliseconds_bucket{endpoint=\"billing\",le=\"5\"} 0",
            "hookline_delivery_latency_milliseconds_bucket{endpoint=\"billing\",le=\"10\"} 1",
            "hookline_delivery_latency_milliseconds_bucket{endpoint=\"billing\",le=\"30000\"} 1",
            "hookline_delivery_latency_milliseconds_bucket{endpoint=\"billing\",le=\"+Inf\"} 2",
            "hookline_delivery_latency_milliseconds_sum{endpoint=\"billing\"} 40007",
            "hookline_delivery_latency_milliseconds_count{endpoint=\"billing\"} 2",
            "# TYPE hookline_queue_messages gauge",
            "hookline_queue_messages{queue=\"hookline-outbound-dlq\"} 3",
        ];
        for line in expect {
            assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
        }
        assert!(!text.contains("unreadable"), "{text}");
    }

    #[test]
    fn every_dimension_becomes_a_label_and_values_are_escaped() {
        let metrics = Metrics::default();
        let line = serde_json::json!({
            "_aws": {"Timestamp": 0, "CloudWatchMetrics": [{
                "Namespace": "hookline",
                "Dimensions": [["Application", "Endpoint"], ["Application"]],
                "Metrics": [{"Name": "Skipped", "Unit": "Count"}, {"Name": "Bytes", "Unit": "Bytes"}],
            }]},
            "Application": "app_1", "Endpoint": "a\"b\\c\nd", "Skipped": 1, "Bytes": 10,
        });
        metrics.observe(&line.to_string());
        metrics.observe(&line.to_string());
        let text = metrics.render(&[]);
        assert!(
            text.contains(
                "hookline_skipped_total{application=\"app_1\",endpoint=\"a\\\"b\\\\c\\nd\"} 2\n"
            ),
            "{text}"
        );
        assert!(text.contains("hookline_bytes_bytes_total{"), "{text}");
    }

    #[test]
    fn a_metric_line_that_cannot_be_read_is_counted_not_dropped() {
        let metrics = Metrics::default();
        metrics.observe(r#"{"_aws": {"CloudWatchMetrics": [{"Dimensions": [["Endpoint"]]}]}}"#);
        metrics.observe(r#"{"_aws": "#);
        let text = metrics.render(&[]);
        assert!(
            text.contains("hookline_dev_unreadable_metric_lines_total 2\n"),
            "{text}"
        );
    }

    #[test]
    fn names_become_snake_case() {
        assert_eq!(snake("DeliveryLatency"), "delivery_latency");
        assert_eq!(snake("DeadLettered"), "dead_lettered");
        assert_eq!(snake("EndpointDisabled"), "endpoint_disabled");
        assert_eq!(snake("HTTPStatus"), "httpstatus");
        assert_eq!(snake("a-b c"), "a_b_c");
    }
}
