//! Figures for `BENCHMARKS.md`: a benchmark calls [`record`] for each figure it reports, and
//! when `HOOKLINE_BENCH_JSON` names a file (as `infra/bench.sh` sets it), the figure is appended
//! to it as one JSON line, which `infra/bench.py` turns into the table.
//!
//! It also holds what the soaks share (`HOOKLINE_SOAK_SECONDS`, run by `infra/soak.sh`): the
//! resident-memory sampler, the "flat" criterion ([`FLAT_RATIO`]) and the answer counters.
// The soak's sampler and summary report on stdout, as the benchmarks that call them do.
#![allow(clippy::print_stdout)]

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// An SQS client whose endpoint is a closed loopback port: for the sender's benches, whose
/// deliveries succeed and so never retry or dead-letter through it.
pub fn offline_sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .build(),
    )
}

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

/// A peer's name and value (see [`Figure::peer`]).
pub type Peer<'a> = Option<(&'a str, f64)>;
/// A goal in words and whether it was met (see [`Figure::goal`]).
pub type Goal<'a> = Option<(&'a str, bool)>;

/// A function recording figures of `bench` (see [`record`]): figure, value, unit, peer, goal.
pub fn recorder(bench: &str) -> impl Fn(&str, f64, &str, Peer<'_>, Goal<'_>) + '_ {
    move |figure, value, unit, peer, goal| {
        record(&Figure {
            bench,
            figure,
            value,
            unit,
            peer,
            goal,
        });
    }
}

/// The two answer counts every soak reports: requests answered, and unexpected answers (the goal:
/// none).
pub fn record_soak_answers(bench: &str, total: u64, errors: u64) {
    for (figure, value, goal) in [
        ("requests answered (warm-up included)", total, None),
        (
            "unexpected answers (anything but 200 with the event's id, or 401 for a wrong signature)",
            errors,
            Some(("0", errors == 0)),
        ),
    ] {
        record(&Figure {
            bench,
            figure,
            value: value as f64,
            unit: "requests",
            peer: None,
            goal,
        });
    }
}

// ---- statistics and the environment -------------------------------------------------------------

/// The `p`th percentile of `sorted` (ascending, not empty), by nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of `values` (not empty): the middle one, or the mean of the middle two.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// `d` in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A latency distribution, summarised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latencies {
    /// How many samples.
    pub n: usize,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// The slowest sample.
    pub max: Duration,
}

impl Latencies {
    /// Summarises `samples` (not empty, in any order).
    pub fn of(mut samples: Vec<Duration>) -> Latencies {
        samples.sort();
        Latencies {
            n: samples.len(),
            p50: percentile(&samples, 50.0),
            p90: percentile(&samples, 90.0),
            p99: percentile(&samples, 99.0),
            max: *samples.last().expect("at least one sample"),
        }
    }
}

/// The positive integer in the variable `name`, or `default` when it is unset; anything else
/// stops the benchmark (a typo must not silently measure something else).
pub fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or_else(|| panic!("{name}={v}: expected a positive integer")),
        Err(_) => default,
    }
}

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`), to print beside figures; empty where
/// there is no such file (it only explains the figures, it is not one).
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

// ---- soak ----------------------------------------------------------------------------------------

/// `HOOKLINE_SOAK_SECONDS`: when set to a positive number of seconds, the load benchmarks
/// (`receiver_load`, `dev_load`) run one sustained phase that long instead of their fixed phases,
/// and sample the resident memory of the process under test (see [`Memory`]). `infra/soak.sh`
/// sets it. Anything else than a positive integer stops the benchmark.
pub fn soak_seconds() -> Option<u64> {
    let value = std::env::var("HOOKLINE_SOAK_SECONDS").ok()?;
    match value.trim().parse::<u64>() {
        Ok(n) if n > 0 => Some(n),
        _ => panic!("HOOKLINE_SOAK_SECONDS={value}: expected a positive number of seconds"),
    }
}

/// The warm-up before a soak's measured phase, under the same load: a sixth of it, 30 to 60 s
/// (30 s for a 3-minute soak). Allocators, caches, connection pools, V8's heap sizing and the JIT
/// settle there, not in the figures: workerd's resident set climbs for its first 20 to 30 s under
/// load (by ~150 to 250 MiB, even for a Worker that only forwards the body to a queue), then holds.
pub fn soak_warm_up(seconds: u64) -> Duration {
    Duration::from_secs((seconds / 6).clamp(30, 60))
}

/// How often [`RssSampler`] samples: every 2 s, more often for a short soak so that it still
/// has 30 samples (a fifth of them at each end for [`Memory`]).
pub fn soak_sample_interval(seconds: u64) -> Duration {
    Duration::from_millis((seconds * 1000 / 30).clamp(100, 2000))
}

/// The resident set (`VmRSS` in `/proc/<pid>/status`) of `pid`, in KiB; `None` once it has
/// ended.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// The peak resident set (`VmHWM`) of `pid` since it started, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

/// Summarises and records the memory of a soak's measured phase (`process`: what was sampled);
/// returns whether it stayed flat (not, when there were too few samples to tell).
pub fn record_soak_memory(bench: &str, process: &str, samples: &[RssSample]) -> bool {
    let memory = Memory::from_samples(samples);
    match &memory {
        Some(m) => m.record(bench, process),
        None => println!(
            "too few RSS samples ({}): is {process} still running?",
            samples.len()
        ),
    }
    memory.is_some_and(|m| m.flat())
}

/// Prints a soak's verdict and returns it: passed when the memory stayed flat and every count
/// of something that went wrong (with what it counts) is zero.
pub fn soak_verdict(flat: bool, wrong: &[(u64, &str)]) -> bool {
    let passed = flat && wrong.iter().all(|&(n, _)| n == 0);
    if passed {
        println!("soak: passed");
    } else {
        let counts: Vec<String> = wrong
            .iter()
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        println!(
            "soak: FAILED ({}, memory {})",
            counts.join(", "),
            if flat { "flat" } else { "not flat" }
        );
    }
    passed
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    // `VmRSS:	  123456 kB`
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// One sample: when (since the sampler started) and the summed resident set of the processes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RssSample {
    /// Time since the sampler started.
    pub at: Duration,
    /// `VmRSS` summed over the sampled processes, in KiB.
    pub kib: u64,
}

/// Samples the resident set of some processes on a thread of its own, every `interval`, and
/// prints one line per sample with what `progress` says (request counts, backlog).
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Vec<RssSample>>>,
}

impl RssSampler {
    /// Starts sampling `pids` (summed: workerd may run more than one process); the first sample
    /// is taken at once. A process that has ended stops the benchmark when the samples are read.
    pub fn start(
        pids: Vec<u32>,
        interval: Duration,
        progress: impl Fn() -> String + Send + 'static,
    ) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut samples = Vec::new();
            let mut next = started;
            loop {
                let kib: Option<u64> = pids.iter().map(|&p| rss_kib(p)).sum();
                let Some(kib) = kib else {
                    println!("soak: a sampled process ({pids:?}) has ended");
                    return Vec::new();
                };
                let at = started.elapsed();
                samples.push(RssSample { at, kib });
                println!(
                    "  {:>6.1} s  RSS {:>8.1} MiB  {}",
                    at.as_secs_f64(),
                    kib as f64 / 1024.0,
                    progress()
                );
                next += interval;
                while Instant::now() < next {
                    if flag.load(Ordering::Relaxed) {
                        return samples;
                    }
                    std::thread::sleep(Duration::from_millis(20).min(interval));
                }
            }
        });
        RssSampler {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops sampling and returns the samples.
    pub fn finish(mut self) -> Vec<RssSample> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .map(|t| t.join().unwrap_or_default())
            .unwrap_or_default()
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Memory is flat over a soak when its end (median of the last fifth of the samples) is within
/// [`FLAT_RATIO`] of its start (median of the first fifth) or within [`FLAT_ALLOWANCE_MIB`] of
/// it, whichever allows more. The ratio scales with a large process (workerd: hundreds of MiB,
/// where a leak of 1 KiB per request would add ~100 MiB at 500 req/s over a 3-minute soak); the
/// allowance keeps allocator noise on a small one (`hookline dev`: tens of MiB, where glibc's
/// per-thread arenas and SQLite's 2 MiB page cache settle in steps of a few MiB) from failing it.
pub const FLAT_RATIO: f64 = 1.10;
/// See [`FLAT_RATIO`].
pub const FLAT_ALLOWANCE_MIB: f64 = 8.0;
/// [`FLAT_RATIO`] and [`FLAT_ALLOWANCE_MIB`] in words, for the table's goal column.
pub const FLAT_GOAL: &str = "end ≤ 1.10 × start, or ≤ start + 8 MiB";

/// The resident set over a soak's measured phase, summarised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Memory {
    /// Median of the first fifth of the samples, in MiB: the start of the steady state.
    pub start_mib: f64,
    /// Median of the last fifth, in MiB.
    pub end_mib: f64,
    /// The largest sample, in MiB.
    pub max_mib: f64,
    /// Least-squares slope over all samples, in MiB per minute (for the log; too noisy to judge).
    pub slope_mib_per_min: f64,
    /// How many samples.
    pub samples: usize,
}

impl Memory {
    /// Summarises `samples`; `None` with fewer than 5 (a fifth would be no sample at all).
    pub fn from_samples(samples: &[RssSample]) -> Option<Memory> {
        if samples.len() < 5 {
            return None;
        }
        let mib = |s: &RssSample| s.kib as f64 / 1024.0;
        let fifth = samples.len() / 5;
        let start = median(samples[..fifth].iter().map(mib).collect());
        let end = median(samples[samples.len() - fifth..].iter().map(mib).collect());
        let max = samples.iter().map(mib).fold(f64::MIN, f64::max);
        let n = samples.len() as f64;
        let mean_t = samples.iter().map(|s| s.at.as_secs_f64()).sum::<f64>() / n;
        let mean_m = samples.iter().map(mib).sum::<f64>() / n;
        let (mut cov, mut var) = (0.0, 0.0);
        for s in samples {
            let dt = s.at.as_secs_f64() - mean_t;
            cov += dt * (mib(s) - mean_m);
            var += dt * dt;
        }
        Some(Memory {
            start_mib: start,
            end_mib: end,
            max_mib: max,
            slope_mib_per_min: if var > 0.0 { cov / var * 60.0 } else { 0.0 },
            samples: samples.len(),
        })
    }

    /// end ÷ start.
    pub fn ratio(&self) -> f64 {
        self.end_mib / self.start_mib
    }

    /// Whether the memory stayed flat (see [`FLAT_RATIO`]).
    pub fn flat(&self) -> bool {
        self.end_mib <= (self.start_mib * FLAT_RATIO).max(self.start_mib + FLAT_ALLOWANCE_MIB)
    }

    /// Prints the summary and records its figures (`process`: what was sampled, e.g. `workerd`).
    pub fn record(&self, bench: &str, process: &str) {
        println!(
            "RSS of {process}: start {:.1} MiB, end {:.1} MiB (x{:.3}), max {:.1} MiB, \
             trend {:+.2} MiB/min over {} samples: {}",
            self.start_mib,
            self.end_mib,
            self.ratio(),
            self.max_mib,
            self.slope_mib_per_min,
            self.samples,
            if self.flat() { "flat" } else { "NOT flat" }
        );
        let round = |v: f64| (v * 10.0).round() / 10.0;
        record(&Figure {
            bench,
            figure: &format!("RSS of {process}, end (median of the last 20% of samples)"),
            value: round(self.end_mib),
            unit: "MiB",
            peer: Some((
                "start of steady state (median of the first 20%)",
                round(self.start_mib),
            )),
            goal: Some((FLAT_GOAL, self.flat())),
        });
        record(&Figure {
            bench,
            figure: &format!("RSS of {process}, max of {} samples", self.samples),
            value: round(self.max_mib),
            unit: "MiB",
            ..Figure::default()
        });
        record(&Figure {
            bench,
            figure: &format!("RSS of {process}, trend (least squares over the samples)"),
            value: (self.slope_mib_per_min * 100.0).round() / 100.0,
            unit: "MiB/min",
            ..Figure::default()
        });
    }
}

/// The closed loop a soak's senders share: event numbers, the backlog gate, the stop switch.
#[derive(Debug, Default)]
pub struct SoakGate {
    /// The last event number handed out.
    seq: AtomicU64,
    /// Times a sender waited because the backlog was full.
    pub waits: AtomicU64,
    stop: AtomicBool,
}

impl SoakGate {
    /// The next event number, once `backlog()` (accepted, not yet consumed) is under `cap`,
    /// checking again every 5 ms; `None` once the soak is stopped.
    pub async fn next(&self, cap: u64, backlog: impl Fn() -> u64) -> Option<u64> {
        while !self.stopped() {
            if backlog() >= cap {
                self.waits.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
            return Some(self.seq.fetch_add(1, Ordering::Relaxed) + 1);
        }
        None
    }

    /// Ends the loop: [`SoakGate::next`] hands out no more numbers.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Whether [`SoakGate::stop`] was called.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Answers of a soak, counted from many tasks: the expected ones by kind, and the unexpected
/// ones (a transport error, another status or body), of which the first few are kept to print.
#[derive(Debug, Default)]
pub struct Answers {
    /// 200s with the expected body.
    pub accepted: AtomicU64,
    /// 401s with the expected body (the share of requests sent with a wrong signature).
    pub refused: AtomicU64,
    /// Anything else.
    pub errors: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

impl Answers {
    /// Counts one unexpected answer, described by `what`.
    pub fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_errors.lock().unwrap_or_else(|e| e.into_inner());
        if first.len() < 10 {
            first.push(what);
        }
    }

    /// The first unexpected answers (at most 10).
    pub fn first_errors(&self) -> Vec<String> {
        self.first_errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Requests answered, expected or not.
    pub fn total(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
            + self.refused.load(Ordering::Relaxed)
            + self.errors.load(Ordering::Relaxed)
    }
}

/// A rate between successive readings of a growing count, for the soaks' progress lines.
#[derive(Debug)]
pub struct RateSince(Mutex<(Instant, u64)>);

impl RateSince {
    /// Starts from the count `total`, now.
    pub fn new(total: u64) -> RateSince {
        RateSince(Mutex::new((Instant::now(), total)))
    }

    /// Per second since the last reading (or the start), given the count now.
    pub fn rate(&self, total: u64) -> f64 {
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let rate = total.saturating_sub(last.1) as f64 / last.0.elapsed().as_secs_f64();
        *last = (Instant::now(), total);
        rate
    }
}

/// One in this many soak requests carries a wrong signature (401 expected), so that the error
/// path is soaked too: 5%.
pub const SOAK_BAD_EVERY: u64 = 20;

/// The most accepted-but-not-yet-consumed events a soak lets build up before its senders wait:
/// the load is then what the system sustains end to end, not a burst that a growing queue (and
/// the memory holding it) absorbs. `HOOKLINE_SOAK_BACKLOG` overrides it.
pub fn soak_backlog() -> u64 {
    u64::try_from(env_usize("HOOKLINE_SOAK_BACKLOG", 5000)).unwrap()
}

/// Connections (requests in flight) of a soak: 16, or `HOOKLINE_SOAK_CONCURRENCY`.
pub fn soak_concurrency() -> usize {
    env_usize("HOOKLINE_SOAK_CONCURRENCY", 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(mib: &[f64]) -> Vec<RssSample> {
        mib.iter()
            .enumerate()
            .map(|(i, &m)| RssSample {
                at: Duration::from_secs(2 * i as u64),
                kib: (m * 1024.0) as u64,
            })
            .collect()
    }

    #[test]
    fn start_and_end_are_medians_of_a_fifth() {
        let m = Memory::from_samples(&samples(&[
            100.0, 90.0, 300.0, 100.0, 100.0, 100.0, 100.0, 100.0, 120.0, 110.0,
        ]))
        .unwrap();
        assert_eq!((m.start_mib, m.end_mib, m.max_mib), (95.0, 115.0, 300.0));
        assert!((m.ratio() - 115.0 / 95.0).abs() < 1e-9);
        assert!(!m.flat(), "21% and 20 MiB more is growth");
        assert!(Memory::from_samples(&samples(&[1.0; 4])).is_none());
    }

    #[test]
    fn flat_allows_ten_percent_or_eight_mib() {
        let flat = |start: f64, end: f64| {
            Memory::from_samples(&samples(&[
                start, start, start, start, start, end, end, end,
            ]))
            .unwrap()
            .flat()
        };
        assert!(flat(300.0, 330.0));
        assert!(!flat(300.0, 331.0));
        // A small process: 8 MiB more is still flat although it is 40%.
        assert!(flat(20.0, 28.0));
        assert!(!flat(20.0, 28.5));
    }

    #[test]
    fn the_trend_is_per_minute() {
        let m = Memory::from_samples(&samples(&[10.0, 11.0, 12.0, 13.0, 14.0])).unwrap();
        // 1 MiB every 2 s.
        assert!((m.slope_mib_per_min - 30.0).abs() < 1e-9);
    }

    #[test]
    fn percentiles_are_nearest_rank_and_medians_average_the_middle_two() {
        let ms = |v: u64| Duration::from_millis(v);
        let l = Latencies::of((1..=100).rev().map(ms).collect());
        assert_eq!(
            (l.n, l.p50, l.p90, l.p99, l.max),
            (100, ms(50), ms(90), ms(99), ms(100))
        );
        let one = Latencies::of(vec![ms(7)]);
        assert_eq!((one.p50, one.p99, one.max), (ms(7), ms(7), ms(7)));
        assert_eq!(percentile(&[ms(1), ms(2), ms(3)], 0.0), ms(1));
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn rss_of_this_process() {
        let pid = std::process::id();
        assert!(rss_kib(pid).unwrap() > 0);
        assert!(peak_rss_kib(pid).unwrap() >= rss_kib(pid).unwrap() / 2);
    }
}
