//! Figures for `BENCHMARKS.md`: a benchmark calls [`record`] for each figure it reports, and
//! when `HOOKLINE_BENCH_JSON` names a file (as `infra/bench.sh` sets it), the figure is appended
//! to it as one JSON line, which `infra/bench.py` turns into the table.

use std::io::Write as _;

use serde_json::{Value, json};

/// One figure: what was measured, and the peer it is compared with in the same run.
#[derive(Debug, Clone, Default)]
pub struct Figure<'a> {
    /// The benchmark's name, e.g. `dev_load`.
    pub bench: &'a str,
    /// What the figure is, e.g. `receive p50, 1 in flight`.
    pub figure: &'a str,
    /// hookline's value.
    pub value: f64,
    /// Its unit, e.g. `ms`, `events/s`.
    pub unit: &'a str,
    /// The peer measured in the same run, with its value.
    pub peer: Option<(&'a str, f64)>,
    /// The goal, in words (`>= 2000 events/s`), with whether it was met.
    pub goal: Option<(&'a str, bool)>,
}

/// Appends `figure` to the file named by `HOOKLINE_BENCH_JSON`, if any. A file that cannot be
/// written stops the benchmark: a figure silently missing from the table would be worse.
pub fn record(figure: &Figure<'_>) {
    let Ok(path) = std::env::var("HOOKLINE_BENCH_JSON") else {
        return;
    };
    let (peer, peer_value, ratio) = match figure.peer {
        Some((name, v)) => (json!(name), json!(v), json!(figure.value / v)),
        None => (Value::Null, Value::Null, Value::Null),
    };
    let (goal, met) = match figure.goal {
        Some((goal, met)) => (json!(goal), json!(met)),
        None => (Value::Null, Value::Null),
    };
    let line = json!({
        "bench": figure.bench,
        "figure": figure.figure,
        "value": figure.value,
        "unit": figure.unit,
        "peer": peer,
        "peer_value": peer_value,
        "ratio": ratio,
        "goal": goal,
        "met": met,
    });
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("HOOKLINE_BENCH_JSON={path}: {e}"));
    writeln!(file, "{line}").unwrap_or_else(|e| panic!("HOOKLINE_BENCH_JSON={path}: {e}"));
}
