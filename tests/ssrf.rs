//! The SSRF table (issue 7): endpoint URLs that must be refused, each with the layer that refuses
//! it, and targets that must be allowed.
//!
//! Every refused URL is delivered for real: the sender (`Sender::with_lookup`) behind the local
//! event source mapping, on moto's SQS, with a resolver the test controls ([`TestDns`]), so
//! "DNS names" resolve to whatever the table says without any real DNS. The layers:
//!
//! - **config**: `Config::from_toml` refuses the URL (a fragment, a scheme other than http(s), a
//!   host the URL parser rejects); nothing is built.
//! - **literal**: an IP host in any notation the URL parser accepts (decimal, octal, hex,
//!   shortened, IPv4-mapped, ...) is checked before the request (`Http::post`); the resolver is
//!   never asked. Dead-lettered as `blocked: refused <addr>: <class>` after one attempt.
//! - **resolver**: a name is looked up by [`TestDns`] and refused by the guard in the resolver
//!   because one of its addresses is; same dead letter, and [`TestDns`] saw the name.
//! - **redirect**: the endpoint (the sink, on loopback) answers 302 to an internal target. The
//!   redirect is not followed: every attempt fails, the last one is dead-lettered as
//!   `exhausted: HTTP 302`, nothing arrives at the target and its name is never looked up.
//!
//! Network rule: nothing here connects anywhere but loopback, as long as the guard works, and a
//! broken guard is caught on loopback first. Before anything is sent, each row's address goes
//! through the same policy's pure check (`SsrfPolicy::check`), so a classifier regression fails
//! without a packet. Rows are then sent in two phases ([`Phase`]): first those that a bypass would
//! send to this machine (the sink records them, or nothing listens), and only once all of those
//! have passed, those that a bypass would send elsewhere. The local rows catch, on loopback, each
//! way the guard in `functions/sender/src/http.rs` could break: no literal-IP check, a resolver
//! that checks only the first or the last answer or drops the refused ones, redirects followed
//! (each was tried as a mutation: the test failed in the local phase). Allowed public targets are
//! checked with the pure check only; allowed deliveries go to names [`TestDns`] maps to loopback.
//!
//! Loopback written in any notation is refused under the default policy; the sink (needed for
//! the redirect rows and as a tripwire: loopback rows use its port, so a bypass would show up in
//! its records) is reachable only in the group that runs with `ssrf_allow = ["127.0.0.0/8"]`.
//!
//! Needs the harness venv (`tests/harness/setup.sh`), like `tests/sender.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    // The table and its counts are printed on purpose (`-- --nocapture` shows every row).
    clippy::print_stderr
)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::Message;
use hookline_core::config::Config;
use hookline_core::ssrf::SsrfPolicy;
use hookline_sender::{Lookup, LookupFuture, Sender, dlq_attr};
use hookline_tests::harness::{Moto, Sink};
use hookline_tests::leaks::Needles;
use hookline_tests::sender_world::{SINK_SECRET, SenderWorld, attr};
use serde_json::{Value, json};

/// The table may grow, never shrink below this.
const MIN_REFUSED: usize = 30;

/// One moto server for the whole suite; every world uses its own queues.
fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

// ---- the resolver the test controls --------------------------------------------------------------

/// What [`TestDns`] answers, name (as the URL parser normalises it: lower-case, a trailing dot
/// kept) to addresses in the order returned. Names the table uses as redirect targets are here
/// too, so following a redirect would resolve (and be caught), not fail on an unknown name.
const NAMES: &[(&str, &[&str])] = &[
    ("localhost", &["127.0.0.1", "::1"]),
    ("metadata.google.internal", &["169.254.169.254"]),
    ("metadata.google.internal.", &["169.254.169.254"]),
    ("instance-data.ec2.internal", &["169.254.169.254"]),
    ("private.test", &["10.0.0.5"]),
    ("v6-private.test", &["fd00::1"]),
    ("v6-imds.test", &["fd00:ec2::254"]),
    ("v6-loopback.test", &["::1"]),
    ("mapped-private.test", &["::ffff:10.0.0.1"]),
    ("nat64-metadata.test", &["64:ff9b::a9fe:a9fe"]),
    ("cgnat.test", &["100.64.0.1"]),
    ("zero.test", &["0.0.0.0"]),
    ("127.0.0.1.nip.test", &["127.0.0.1"]),
    // A public answer first: a guard that checked only the first address, or dropped the refused
    // ones, would connect to 8.8.8.8. Runs after the loopback rows that catch that bug.
    ("public-then-private.test", &["8.8.8.8", "10.0.0.1"]),
    ("public-then-metadata.test", &["1.1.1.1", "169.254.169.254"]),
    // An allowed loopback answer beside a refused one (under ssrf_allow = 127.0.0.0/8): the same
    // bug would connect to the sink, which records it.
    ("allowed-then-private.test", &["127.0.0.1", "10.0.0.1"]),
    ("private-then-allowed.test", &["10.0.0.1", "127.0.0.1"]),
    (
        "allowed-then-metadata.test",
        &["127.0.0.1", "169.254.169.254"],
    ),
    ("allowed-then-v6-loopback.test", &["127.0.0.1", "::1"]),
    // A refused local answer, then an allowed one: a guard that checked only the last address
    // would try ::1 (nothing listens there), then the sink.
    ("v6-loopback-then-allowed.test", &["::1", "127.0.0.1"]),
    // Allowed: loopback under ssrf_allow = 127.0.0.0/8.
    ("hooks.allowed.test", &["127.0.0.1"]),
    ("hooks.allowed.test.", &["127.0.0.1"]),
    ("multi.allowed.test", &["127.0.0.1", "127.0.0.2"]),
    ("redirect-target.test", &["127.0.0.1"]),
];

/// A resolver with a fixed table, recording every name it is asked for. Unknown names fail (so an
/// unexpected lookup turns a row's `blocked` into a connect error, and is listed in `asked`).
struct TestDns {
    names: HashMap<String, Vec<IpAddr>>,
    asked: Mutex<Vec<String>>,
}

impl TestDns {
    fn new() -> Arc<Self> {
        let names = NAMES
            .iter()
            .map(|(name, ips)| {
                let ips = ips.iter().map(|ip| ip.parse().unwrap()).collect();
                ((*name).to_owned(), ips)
            })
            .collect();
        Arc::new(Self {
            names,
            asked: Mutex::new(Vec::new()),
        })
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl Lookup for TestDns {
    fn lookup(&self, host: &str) -> LookupFuture {
        self.asked.lock().unwrap().push(host.to_owned());
        let found = self.names.get(host).cloned();
        let host = host.to_owned();
        Box::pin(async move {
            found.ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("{host}: not in TestDns"))
            })
        })
    }
}

// ---- the table ---------------------------------------------------------------------------------

/// Which `[delivery].ssrf_allow` a row runs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Policy {
    /// `ssrf_allow = ["127.0.0.0/8"]`: the sink is reachable; runs first.
    Loopback,
    /// No allow-list: every loopback notation must be refused.
    Default,
}

impl Policy {
    fn toml(self) -> &'static str {
        match self {
            Self::Loopback => "ssrf_allow = [\"127.0.0.0/8\"]",
            Self::Default => "",
        }
    }
}

/// The layer that refuses a row, and what it must say.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// `Config::from_toml` fails on the endpoint's `url` with a message containing this.
    Config(&'static str),
    /// Refused before the request: `blocked: refused <this>`; nothing looked up.
    Literal(&'static str),
    /// Refused by the guard in the resolver: `blocked: refused <this>`; the host was looked up.
    Resolver(&'static str),
    /// The URL is the redirect *target*; the endpoint is the sink answering 302 to it.
    Redirect,
}

impl Expect {
    fn layer(self) -> &'static str {
        match self {
            Self::Config(_) => "config",
            Self::Literal(_) => "literal check",
            Self::Resolver(_) => "resolver",
            Self::Redirect => "redirect",
        }
    }
}

/// One refused target. In `url`, `{sink}` stands for the sink's `http://127.0.0.1:<port>` and
/// `{port}` for its port: loopback rows use them so that a bypass would land in its records.
struct Row {
    policy: Policy,
    url: &'static str,
    expect: Expect,
    what: &'static str,
}

const fn row(policy: Policy, url: &'static str, expect: Expect, what: &'static str) -> Row {
    Row {
        policy,
        url,
        expect,
        what,
    }
}

/// Every refused target. Kept one row per line (hence `rustfmt::skip`): policy, URL, the layer
/// that refuses it with what it must say, and what the row is about.
#[rustfmt::skip]
fn refused_table() -> Vec<Row> {
    use Expect::{Config as C, Literal as L, Redirect as R, Resolver as D};
    use Policy::{Default as Def, Loopback as Lo};
    vec![
        // -- refused at config load ---------------------------------------------------------
        row(Def, "http://127.0.0.1#@example.com/", C("#fragment"), "fragment hides the host from a naive parser"),
        row(Def, "gopher://127.0.0.1:6379/_INFO", C("scheme \"gopher\""), "gopher to redis"),
        row(Def, "file:///etc/passwd", C("scheme \"file\""), "file scheme"),
        row(Def, "http://[fe80::1%25eth0]/", C("not a valid URL"), "IPv6 zone id"),
        row(Def, "http://127.0.0.1.1/", C("not a valid URL"), "five dotted numbers"),
        row(Def, "http://4294967296/", C("not a valid URL"), "decimal IPv4 out of range"),
        // -- loopback in every notation, default policy: refused before the request ----------
        row(Def, "{sink}/ok/t", L("127.0.0.1: loopback address"), "loopback"),
        row(Def, "https://127.0.0.1:{port}/ok/t", L("127.0.0.1: loopback address"), "loopback over https (before TLS)"),
        row(Def, "http://127.1:{port}/ok/t", L("127.0.0.1: loopback address"), "shortened dotted"),
        row(Def, "http://2130706433:{port}/ok/t", L("127.0.0.1: loopback address"), "decimal"),
        row(Def, "http://0177.0.0.1:{port}/ok/t", L("127.0.0.1: loopback address"), "octal first byte"),
        row(Def, "http://017700000001:{port}/ok/t", L("127.0.0.1: loopback address"), "octal whole"),
        row(Def, "http://0x7f.0.0.1:{port}/ok/t", L("127.0.0.1: loopback address"), "hex first byte"),
        row(Def, "http://0x7f000001:{port}/ok/t", L("127.0.0.1: loopback address"), "hex whole"),
        row(Def, "http://0x7f.1:{port}/ok/t", L("127.0.0.1: loopback address"), "hex, shortened"),
        row(Def, "http://127.000.000.001:{port}/ok/t", L("127.0.0.1: loopback address"), "zero-padded (octal) bytes"),
        row(Def, "http://127.255.255.254:{port}/ok/t", L("127.255.255.254: loopback address"), "top of 127/8"),
        row(Def, "http://[::1]:{port}/ok/t", L("::1: loopback address"), "IPv6 loopback"),
        row(Def, "http://[0:0:0:0:0:0:0:1]:{port}/ok/t", L("::1: loopback address"), "IPv6 loopback, long form"),
        row(Def, "http://[::]:{port}/ok/t", L("::: unspecified address"), "IPv6 unspecified (connects locally)"),
        row(Def, "http://0.0.0.0:{port}/ok/t", L("0.0.0.0: unspecified address"), "0.0.0.0 (connects locally)"),
        row(Def, "http://0:{port}/ok/t", L("0.0.0.0: unspecified address"), "0"),
        row(Def, "http://[::ffff:127.0.0.1]:{port}/ok/t", L("::ffff:127.0.0.1: loopback address"), "IPv4-mapped loopback"),
        row(Def, "http://[::ffff:7f00:1]:{port}/ok/t", L("::ffff:127.0.0.1: loopback address"), "IPv4-mapped loopback, hex"),
        row(Def, "http://[64:ff9b::7f00:1]:{port}/ok/t", L("64:ff9b::7f00:1: loopback address"), "NAT64 of loopback"),
        row(Def, "http://[::127.0.0.1]:{port}/ok/t", L("::7f00:1: IPv4-compatible IPv6 address"), "IPv4-compatible"),
        row(Def, "http://[2002:7f00:1::]:{port}/ok/t", L("2002:7f00:1::: 6to4 address"), "6to4 of loopback"),
        row(Def, "http://example.com@127.0.0.1:{port}/ok/t", L("127.0.0.1: loopback address"), "userinfo looks like the host"),
        row(Def, "http://127.0.0.1:{port}\\@example.com/", L("127.0.0.1: loopback address"), "backslash ends the authority"),
        // -- private, link-local, metadata, CGNAT, ... -----------------------------------------
        row(Def, "http://10.0.0.1/", L("10.0.0.1: private address"), "10/8"),
        row(Def, "http://172.16.0.1/", L("172.16.0.1: private address"), "172.16/12, bottom"),
        row(Def, "http://172.31.255.254/", L("172.31.255.254: private address"), "172.16/12, top"),
        row(Def, "http://192.168.1.1/", L("192.168.1.1: private address"), "192.168/16"),
        row(Def, "http://0xc0a80101/", L("192.168.1.1: private address"), "192.168/16 in hex"),
        row(Def, "http://169.254.169.254/latest/meta-data/", L("169.254.169.254: cloud metadata endpoint"), "AWS/GCP/Azure IMDS"),
        row(Def, "http://2852039166/latest/meta-data/", L("169.254.169.254: cloud metadata endpoint"), "IMDS in decimal"),
        row(Def, "http://[::ffff:169.254.169.254]/", L("::ffff:169.254.169.254: cloud metadata endpoint"), "IPv4-mapped IMDS"),
        row(Def, "http://[fd00:ec2::254]/latest/meta-data/", L("fd00:ec2::254: cloud metadata endpoint"), "AWS IMDS over IPv6"),
        row(Def, "http://169.254.170.2/v2/credentials", L("169.254.170.2: cloud metadata endpoint"), "ECS task credentials"),
        row(Def, "http://100.100.100.200/latest/meta-data/", L("100.100.100.200: cloud metadata endpoint"), "Alibaba metadata"),
        row(Def, "http://168.63.129.16/machine", L("168.63.129.16: cloud metadata endpoint"), "Azure WireServer"),
        row(Def, "http://169.254.1.1/", L("169.254.1.1: link-local address"), "IPv4 link-local"),
        row(Def, "http://[fe80::1]/", L("fe80::1: link-local address"), "IPv6 link-local"),
        row(Def, "http://100.64.0.1/", L("100.64.0.1: shared (carrier-grade NAT) address"), "CGNAT"),
        row(Def, "http://[fc00::1]/", L("fc00::1: unique local address"), "unique-local fc00::/8"),
        row(Def, "http://[fd12:3456::1]/", L("fd12:3456::1: unique local address"), "unique-local fd00::/8"),
        row(Def, "http://224.0.0.1/", L("224.0.0.1: multicast address"), "multicast"),
        row(Def, "http://255.255.255.255/", L("255.255.255.255: broadcast address"), "broadcast"),
        row(Def, "http://[2001::a9fe:a9fe]/", L("2001::a9fe:a9fe: Teredo address"), "Teredo"),
        // -- names, through the resolver the test controls --------------------------------------
        row(Def, "http://localhost:{port}/ok/t", D("127.0.0.1: loopback address"), "localhost"),
        row(Def, "http://127.0.0.1.nip.test:{port}/ok/t", D("127.0.0.1: loopback address"), "wildcard DNS embedding the address"),
        row(Def, "http://v6-loopback.test:{port}/ok/t", D("::1: loopback address"), "AAAA ::1"),
        row(Def, "http://zero.test:{port}/ok/t", D("0.0.0.0: unspecified address"), "A 0.0.0.0"),
        row(Def, "http://metadata.google.internal/computeMetadata/v1/", D("169.254.169.254: cloud metadata endpoint"), "GCP metadata name"),
        row(Def, "http://METADATA.Google.Internal./computeMetadata/v1/", D("169.254.169.254: cloud metadata endpoint"), "GCP metadata name, upper-case with a trailing dot"),
        row(Def, "http://instance-data.ec2.internal/latest/meta-data/", D("169.254.169.254: cloud metadata endpoint"), "AWS metadata name"),
        row(Def, "http://private.test/", D("10.0.0.5: private address"), "A record in 10/8"),
        row(Def, "http://127.0.0.1:{port}@private.test/", D("10.0.0.5: private address"), "loopback-looking userinfo, private host"),
        row(Def, "http://cgnat.test/", D("100.64.0.1: shared (carrier-grade NAT) address"), "A record in CGNAT"),
        row(Def, "http://v6-private.test/", D("fd00::1: unique local address"), "AAAA unique-local"),
        row(Def, "http://v6-imds.test/", D("fd00:ec2::254: cloud metadata endpoint"), "AAAA AWS IMDS"),
        row(Def, "http://mapped-private.test/", D("::ffff:10.0.0.1: private address"), "AAAA IPv4-mapped private"),
        row(Def, "http://nat64-metadata.test/", D("64:ff9b::a9fe:a9fe: cloud metadata endpoint"), "AAAA NAT64 of IMDS"),
        row(Def, "http://public-then-private.test/", D("10.0.0.1: private address"), "public and private answers"),
        row(Def, "http://public-then-metadata.test/", D("169.254.169.254: cloud metadata endpoint"), "public and metadata answers"),
        // -- with loopback allowed: what the allowance must not open ----------------------------
        row(Lo, "http://[::1]:{port}/ok/t", L("::1: loopback address"), "127/8 does not open ::1"),
        row(Lo, "http://[64:ff9b::7f00:1]:{port}/ok/t", L("64:ff9b::7f00:1: loopback address"), "127/8 does not open NAT64 of loopback"),
        row(Lo, "http://[::127.0.0.1]:{port}/ok/t", L("::7f00:1: IPv4-compatible IPv6 address"), "127/8 does not open IPv4-compatible"),
        row(Lo, "http://[::ffff:0:7f00:1]:{port}/ok/t", L("::ffff:0:7f00:1: reserved address"), "IPv4-translated"),
        row(Lo, "http://169.254.169.254/latest/meta-data/", L("169.254.169.254: cloud metadata endpoint"), "IMDS beside an allowance"),
        row(Lo, "http://allowed-then-private.test:{port}/ok/t", D("10.0.0.1: private address"), "allowed answer, then private"),
        row(Lo, "http://private-then-allowed.test:{port}/ok/t", D("10.0.0.1: private address"), "private answer, then allowed"),
        row(Lo, "http://allowed-then-metadata.test:{port}/ok/t", D("169.254.169.254: cloud metadata endpoint"), "allowed answer, then IMDS"),
        row(Lo, "http://allowed-then-v6-loopback.test:{port}/ok/t", D("::1: loopback address"), "allowed answer, then ::1"),
        row(Lo, "http://v6-loopback-then-allowed.test:{port}/ok/t", D("::1: loopback address"), "::1, then an allowed answer"),
        // -- redirects from a reachable endpoint (the sink) -------------------------------------
        row(Lo, "http://169.254.169.254/latest/meta-data/", R, "302 to IMDS"),
        row(Lo, "http://metadata.google.internal/computeMetadata/v1/", R, "302 to a name resolving to IMDS"),
        row(Lo, "http://10.0.0.1/admin", R, "302 to a private address"),
        row(Lo, "{sink}/ok/landed", R, "302 to an allowed loopback URL (would be recorded)"),
        row(Lo, "http://redirect-target.test:{port}/ok/landed-by-name", R, "302 to a name resolving to the sink"),
    ]
}

// ---- the world ---------------------------------------------------------------------------------

/// A [`SenderWorld`] whose sender resolves names with its [`TestDns`].
struct World {
    sender: SenderWorld,
    dns: Arc<TestDns>,
}

impl std::ops::Deref for World {
    type Target = SenderWorld;

    fn deref(&self) -> &SenderWorld {
        &self.sender
    }
}

/// A sender over fresh queues with `endpoints` (TOML), the policy's allow-list, one retry after
/// 1 s, and [`TestDns`] as its resolver.
async fn world(policy: Policy, endpoints_toml: &str) -> World {
    let toml = format!(
        "[delivery]\ntimeout = \"2s\"\n{}\n[delivery.retry]\nschedule = [\"1s\"]\njitter = 0.0\n\n{endpoints_toml}",
        policy.toml()
    );
    let dns = TestDns::new();
    let lookup: Arc<dyn Lookup> = dns.clone();
    let sender = SenderWorld::start(moto(), "ssrf", &toml, |settings, sqs, log| {
        Sender::with_lookup(settings, sqs, log, lookup).unwrap()
    })
    .await;
    World { sender, dns }
}

impl World {
    fn policy(&self) -> &SsrfPolicy {
        &self.sender.sender.settings().ssrf
    }

    /// Polls the queue until `letters` holds `n` dead letters. A received message stays hidden
    /// for a while, so they are collected across receives (and phases) into `letters`, once each.
    /// Fails at once if the sink records anything but a `/redirect-to/` request (a bypass).
    async fn pump_until_dead_lettered(
        &self,
        letters: &mut DeadLetters,
        n: usize,
        sink: &Sink,
        deadline: Duration,
    ) {
        let until = Instant::now() + deadline;
        let DeadLetters { seen, by_endpoint } = letters;
        loop {
            self.poll().await;
            assert_only_redirects_reached(sink);
            loop {
                let messages = self.dlq_messages().await;
                if messages.is_empty() {
                    break;
                }
                for m in &messages {
                    if seen.insert(m.message_id().unwrap_or_default().to_owned()) {
                        let endpoint = attr(m, dlq_attr::ENDPOINT).unwrap_or("?").to_owned();
                        by_endpoint.entry(endpoint).or_default().push(m.clone());
                    }
                }
            }
            if seen.len() >= n {
                return;
            }
            assert!(
                Instant::now() < until,
                "{} of {n} dead letters within {deadline:?}: {:?}\n{}",
                seen.len(),
                by_endpoint.keys().collect::<Vec<_>>(),
                self.log_lines().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The dead letters a world collected so far, by endpoint name.
#[derive(Default)]
struct DeadLetters {
    seen: HashSet<String>,
    by_endpoint: BTreeMap<String, Vec<Message>>,
}

/// An endpoint subscribed to its own event type `<name>.x`. URLs go in TOML literal strings, so
/// a backslash stays a backslash.
fn endpoint(name: &str, url: &str) -> String {
    assert!(!url.contains('\''), "{url}");
    format!(
        "[endpoints.{name}]\nurl = '{url}'\nsecrets = [\"env:SINK_WHSEC\"]\nevents = [\"{name}.*\"]\n"
    )
}

/// Every byte but the unreserved ones percent-encoded: one path segment for `/redirect-to/`.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The host of `url` as the URL parser normalises it (IPv6 without brackets).
fn host_of(url: &str) -> String {
    let parsed = reqwest::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    let host = parsed
        .host_str()
        .unwrap_or_else(|| panic!("{url}: no host"));
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned()
}

/// A literal IP host of `url`, as the sender's pre-request check sees it.
fn literal_ip(url: &str) -> Option<IpAddr> {
    host_of(url).parse().ok()
}

/// The sink's records, with what to scan the logs for: the secret and every signature it saw.
fn needles(sinks_records: &[Value]) -> Needles {
    let mut needles = Needles::new().secret(SINK_SECRET);
    for d in sinks_records {
        if let Some(sig) = d["headers"]["webhook-signature"].as_str() {
            needles = needles.signature(sig);
        }
    }
    needles
}

// ---- the suites --------------------------------------------------------------------------------

/// A row made concrete for one run.
struct Target<'a> {
    row: &'a Row,
    /// The endpoint's name in the world's config.
    name: String,
    /// The URL the endpoint is configured with (for redirects: the sink's `/redirect-to/`).
    endpoint_url: String,
    /// The row's URL with `{sink}` and `{port}` filled in (for redirects: the target).
    url: String,
    /// Where a guard that failed on this row would connect first.
    phase: Phase,
}

/// Rows are sent in two phases, so that a broken guard is caught on loopback before any row
/// could make it connect elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Were the guard bypassed, the first connection would stay on this machine (127/8, ::1,
    /// 0.0.0.0, ::, or IPv4-mapped loopback): the sink records it or nothing listens.
    Local,
    /// Were the guard bypassed, the first connection would leave this machine. Sent only after
    /// every local row passed.
    Remote,
}

fn is_local(ip: IpAddr) -> bool {
    let v4_local = |v4: std::net::Ipv4Addr| v4.is_loopback() || v4.is_unspecified();
    match ip {
        IpAddr::V4(v4) => v4_local(v4),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.is_unspecified() || v6.to_ipv4_mapped().is_some_and(v4_local)
        }
    }
}

/// The phase of a row: where its target (for redirects, the redirect's target) would be
/// connected to first, the literal address or the first answer of [`TestDns`].
fn phase_of(url: &str, dns: &TestDns) -> Phase {
    let first = literal_ip(url).or_else(|| {
        let host = host_of(url);
        dns.names.get(&host).and_then(|ips| ips.first().copied())
    });
    match first {
        Some(ip) if is_local(ip) => Phase::Local,
        _ => Phase::Remote,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_targets_are_refused_at_the_layer_the_table_names() {
    let started = Instant::now();
    let table = refused_table();
    let sink = Sink::start(&[SINK_SECRET]);
    let port = sink.base_url.rsplit(':').next().unwrap().to_owned();
    let dns = TestDns::new();
    let targets: Vec<Target<'_>> = table
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let url = row
                .url
                .replace("{sink}", &sink.base_url)
                .replace("{port}", &port);
            let name = format!("c{i}");
            let endpoint_url = match row.expect {
                Expect::Redirect => {
                    sink.url(&format!("/redirect-to/{}/{name}", percent_encode(&url)))
                }
                _ => url.clone(),
            };
            let phase = match row.expect {
                Expect::Config(_) => Phase::Local,
                _ => phase_of(&url, &dns),
            };
            Target {
                row,
                name,
                endpoint_url,
                url,
                phase,
            }
        })
        .collect();

    // The table's shape: enough rows, every layer, no duplicate row.
    let mut per_layer: BTreeMap<&str, usize> = BTreeMap::new();
    let mut distinct = HashSet::new();
    for t in &targets {
        *per_layer.entry(t.row.expect.layer()).or_default() += 1;
        assert!(
            distinct.insert((t.row.policy, t.row.url, t.row.expect.layer())),
            "duplicate row {}",
            t.row.url
        );
    }
    eprintln!(
        "ssrf table: {} refused targets ({})",
        targets.len(),
        per_layer
            .iter()
            .map(|(layer, n)| format!("{layer} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(
        targets.len() >= MIN_REFUSED,
        "the SSRF table shrank to {} refused targets (at least {MIN_REFUSED})",
        targets.len()
    );
    assert_eq!(
        per_layer.len(),
        4,
        "every layer is exercised: {per_layer:?}"
    );

    // Layer 1: refused at config load. Each alone, so one error cannot hide another.
    for t in targets
        .iter()
        .filter(|t| matches!(t.row.expect, Expect::Config(_)))
    {
        let Expect::Config(needle) = t.row.expect else {
            unreachable!()
        };
        let toml = endpoint(&t.name, &t.endpoint_url);
        let err = Config::from_toml(&toml)
            .map(|_| ())
            .expect_err(&format!("config accepted {} ({})", t.url, t.row.what))
            .to_string();
        let field = format!("endpoints.{}.url", t.name);
        assert!(
            err.contains(&field) && err.contains(needle),
            "{}: expected {field}: ...{needle}..., got {err}",
            t.url
        );
        eprintln!("  refused [config       ] {:<55} {}", t.url, t.row.what);
    }

    // Layers 2 to 4: one world per policy, over the whole run.
    let mut worlds = Vec::new();
    for policy in [Policy::Loopback, Policy::Default] {
        let group: Vec<&Target<'_>> = targets
            .iter()
            .filter(|t| t.row.policy == policy && !matches!(t.row.expect, Expect::Config(_)))
            .collect();
        let toml: String = group
            .iter()
            .map(|t| endpoint(&t.name, &t.endpoint_url))
            .collect();
        let w = world(policy, &toml).await;
        // Before anything is sent: the pure check of the same policy refuses what each row
        // expects, so a classifier regression fails here, without a packet.
        for t in &group {
            preflight(t, &w, &sink);
        }
        worlds.push((policy, w, group, DeadLetters::default()));
    }

    // Local rows first: a guard that lets them through connects to this machine (the sink
    // records it, or nothing listens), and the checks below fail before any remote row is sent.
    let mut all_logs = Vec::new();
    for phase in [Phase::Local, Phase::Remote] {
        for (policy, w, group, letters) in &mut worlds {
            let rows: Vec<&Target<'_>> =
                group.iter().copied().filter(|t| t.phase == phase).collect();
            for t in &rows {
                w.send(&json!({"type": format!("{}.x", t.name), "id": format!("evt_{}", t.name), "data": {}}))
                    .await;
            }
            let expected = letters.seen.len() + rows.len();
            w.pump_until_dead_lettered(letters, expected, &sink, Duration::from_secs(30))
                .await;
            let asked = w.dns.asked();
            for t in &rows {
                check_dead_letter(t, &letters.by_endpoint, &asked);
                eprintln!(
                    "  refused [{:<13}] {:<55} {} ({policy:?} policy, {phase:?})",
                    t.row.expect.layer(),
                    t.url,
                    t.row.what
                );
            }
            // Every lookup was one the table expects; nothing else was resolved.
            for name in &asked {
                assert!(
                    w.dns.names.contains_key(name),
                    "unexpected lookup of {name}"
                );
            }
            assert!(
                w.queue_depth().await == (0, 0),
                "messages left on the queue"
            );
        }
        assert_only_redirects_reached(&sink);
    }
    for (_, w, _, _) in &worlds {
        all_logs.extend(w.log_lines());
    }

    // The sink saw each redirect row's two attempts, signed, answered 302; nothing else.
    let records = sink.deliveries();
    let redirects = targets
        .iter()
        .filter(|t| matches!(t.row.expect, Expect::Redirect))
        .count();
    for d in &records {
        assert_eq!(d["response_status"], 302, "{d}");
        assert_eq!(d["signature_valid"], true, "{d}");
    }
    assert_eq!(
        records.len(),
        2 * redirects,
        "two attempts per redirect row"
    );

    let scanned = needles(&records).assert_clean("sender logs", &all_logs);
    let local = targets.iter().filter(|t| t.phase == Phase::Local).count();
    eprintln!(
        "ssrf table: {} refused targets checked ({local} local first, then {} remote), \
         {scanned} log lines clean, in {:.1?}",
        targets.len(),
        targets.len() - local,
        started.elapsed()
    );
}

/// The tripwire: the sink must have seen nothing but the redirecting endpoints' own requests.
fn assert_only_redirects_reached(sink: &Sink) {
    for d in sink.deliveries() {
        let path = d["path"].as_str().unwrap_or_default();
        assert!(
            path.starts_with("/redirect-to/"),
            "a request reached {path}: {d}"
        );
    }
}

/// Asserts, before anything is sent, that the row's policy refuses what the row expects.
fn preflight(t: &Target<'_>, w: &World, sink: &Sink) {
    match t.row.expect {
        Expect::Literal(expect) => {
            let ip =
                literal_ip(&t.url).unwrap_or_else(|| panic!("{}: not a literal IP host", t.url));
            let blocked = w.policy().check(ip).expect_err(&t.url);
            assert_eq!(
                blocked.to_string(),
                format!("refused {expect}"),
                "{}",
                t.url
            );
        }
        Expect::Resolver(expect) => {
            let host = host_of(&t.url);
            assert!(literal_ip(&t.url).is_none(), "{}: a literal IP", t.url);
            let ips = w
                .dns
                .names
                .get(&host)
                .unwrap_or_else(|| panic!("{}: {host} is not in TestDns", t.url));
            let first_refused = ips.iter().find_map(|ip| w.policy().check(*ip).err());
            assert_eq!(
                first_refused.map(|b| b.to_string()),
                Some(format!("refused {expect}")),
                "{}",
                t.url
            );
        }
        Expect::Redirect => {
            let sink_ip = literal_ip(&sink.base_url).unwrap();
            assert!(w.policy().check(sink_ip).is_ok(), "the sink is reachable");
        }
        Expect::Config(_) => unreachable!("config rows build no world"),
    }
}

/// Asserts the row's one dead letter says what its layer must say.
fn check_dead_letter(t: &Target<'_>, dead: &BTreeMap<String, Vec<Message>>, asked: &[String]) {
    let letters = dead
        .get(&t.name)
        .unwrap_or_else(|| panic!("{}: not dead-lettered", t.url));
    assert_eq!(
        letters.len(),
        1,
        "{}: {} dead letters",
        t.url,
        letters.len()
    );
    let m = &letters[0];
    let error = attr(m, dlq_attr::ERROR).unwrap_or_default();
    let attempts = attr(m, dlq_attr::ATTEMPTS).unwrap_or_default();
    let host = host_of(&t.url);
    let looked_up = asked.contains(&host);
    match t.row.expect {
        Expect::Literal(expect) | Expect::Resolver(expect) => {
            assert_eq!(error, format!("blocked: refused {expect}"), "{}", t.url);
            assert_eq!(attempts, "1", "{}: a refusal is not retried", t.url);
            assert_eq!(attr(m, dlq_attr::STATUS), None, "{}", t.url);
            if matches!(t.row.expect, Expect::Literal(_)) {
                assert!(!looked_up, "{}: literal {host} was looked up", t.url);
            } else {
                assert!(looked_up, "{}: {host} was never looked up", t.url);
            }
        }
        Expect::Redirect => {
            assert_eq!(error, "exhausted: HTTP 302", "{}", t.url);
            assert_eq!(attr(m, dlq_attr::STATUS), Some("302"), "{}", t.url);
            assert_eq!(attempts, "2", "{}: every attempt got the 302", t.url);
            assert!(!looked_up, "{}: the redirect target was looked up", t.url);
        }
        Expect::Config(_) => unreachable!("config rows build no world"),
    }
}

/// Public addresses the default policy must allow. Checked with the pure classifier only: the
/// tests never connect to a public address.
const PUBLIC: &[&str] = &[
    "8.8.8.8",
    "1.1.1.1",
    "9.9.9.9",
    "93.184.215.14",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    // Neighbours of refused blocks.
    "172.32.0.1",
    "100.128.0.1",
    "169.255.0.1",
    "168.63.129.17",
];

#[test]
fn public_addresses_pass_the_pure_check() {
    let loopback: SsrfPolicy = Config::from_toml("[delivery]\nssrf_allow = [\"127.0.0.0/8\"]\n")
        .map(|c| SsrfPolicy::new(c.delivery.ssrf_allow))
        .unwrap();
    for policy in [SsrfPolicy::default(), loopback] {
        for addr in PUBLIC {
            let ip: IpAddr = addr.parse().unwrap();
            assert_eq!(policy.check(ip), Ok(()), "{addr}");
        }
    }
    eprintln!("ssrf allowed (pure check): {}", PUBLIC.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn allowed_targets_are_delivered_signed() {
    let sink = Sink::start(&[SINK_SECRET]);
    let port = sink.base_url.rsplit(':').next().unwrap().to_owned();
    // (URL, the path the sink must record), under ssrf_allow = ["127.0.0.0/8"].
    let allowed: Vec<(String, String)> = [
        ("http://hooks.allowed.test:{port}/ok/a0", "/ok/a0"),
        ("http://HOOKS.Allowed.test.:{port}/ok/a1", "/ok/a1"),
        ("http://multi.allowed.test:{port}/ok/a2", "/ok/a2"),
        ("{sink}/ok/a3", "/ok/a3"),
        // The notations refused under the default policy reach the same address here: the
        // refusals above are about the address, not the spelling.
        ("http://127.1:{port}/ok/a4", "/ok/a4"),
        ("http://2130706433:{port}/ok/a5", "/ok/a5"),
        ("http://0x7f000001:{port}/ok/a6", "/ok/a6"),
    ]
    .iter()
    .map(|(url, path)| {
        (
            url.replace("{sink}", &sink.base_url)
                .replace("{port}", &port),
            (*path).to_owned(),
        )
    })
    .collect();
    let toml: String = allowed
        .iter()
        .enumerate()
        .map(|(i, (url, _))| endpoint(&format!("a{i}"), url))
        .collect();
    let w = world(Policy::Loopback, &toml).await;
    for i in 0..allowed.len() {
        w.send(&json!({"type": format!("a{i}.x"), "id": format!("evt_a{i}"), "data": {}}))
            .await;
    }
    let until = Instant::now() + Duration::from_secs(20);
    while sink.deliveries().len() < allowed.len() {
        assert!(Instant::now() < until, "{:#?}", sink.deliveries());
        w.poll().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let records = sink.deliveries();
    for (i, (url, path)) in allowed.iter().enumerate() {
        let got: Vec<&Value> = records.iter().filter(|d| d["path"] == **path).collect();
        assert_eq!(got.len(), 1, "{url}: {records:#?}");
        assert_eq!(got[0]["signature_valid"], true, "{url}: {}", got[0]);
        assert_eq!(got[0]["webhook_id"], format!("evt_a{i}"), "{url}");
    }
    assert_eq!(records.len(), allowed.len());
    let asked: HashSet<String> = w.dns.asked().into_iter().collect();
    let names: HashSet<String> = allowed
        .iter()
        .map(|(url, _)| host_of(url))
        .filter(|h| h.parse::<IpAddr>().is_err())
        .collect();
    assert_eq!(
        asked, names,
        "only the names were looked up, each through TestDns"
    );
    assert!(w.queue_depth().await == (0, 0));
    needles(&records).assert_clean("sender logs", &w.log_lines());
    eprintln!(
        "ssrf allowed (delivered through the sender): {}",
        allowed.len()
    );
}
