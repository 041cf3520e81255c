//! The cost suites' two instruments: the AWS requests moto served, per (service, action), as
//! `tests/harness/moto_server.py` counts them; and `infra/cost-counts.json`, the counts per event
//! that `infra/cost.py` prices and `docs/cost.md` shows. A suite measures a count and asserts it
//! equals the file's value, so a change in what hookline does per event fails a test until the
//! file (and, through `infra/cost.py --check`, the doc) says so.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::harness::repo_root;

/// What moto served for one `service.action` (`tests/harness/moto_server.py` documents each).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Served {
    /// Requests.
    pub requests: u64,
    /// Messages or items the batch calls carried.
    pub entries: u64,
    /// The most entries one request carried.
    pub max_entries: u64,
    /// Request body bytes.
    pub bytes: u64,
    /// 64 KB chunks of each request body, summed.
    pub chunks64k: u64,
    /// 1 KB units of each request body, summed.
    pub units1k: u64,
    /// 4 KB units of each request body, summed.
    pub units4k: u64,
}

/// The requests a moto had served, by `service.action` (`sqs.SendMessageBatch`,
/// `dynamodb.PutItem`, ...).
#[derive(Clone, Debug, Default)]
pub struct Requests(pub BTreeMap<String, Served>);

impl Requests {
    /// What the moto at `endpoint` (`http://127.0.0.1:PORT`) served so far.
    pub async fn read(endpoint: &str) -> Requests {
        let text = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|e| panic!("http client: {e}"))
            .get(format!("{endpoint}/hookline/requests"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("moto's request counts: {e}"))
            .text()
            .await
            .unwrap_or_else(|e| panic!("moto's request counts: {e}"));
        Requests(serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("moto's request counts are not JSON ({e}): {text}; is tests/harness/moto_server.py the counting one?")
        }))
    }

    /// What was served after `before`, action by action (actions with no request left out).
    pub fn since(&self, before: &Requests) -> Requests {
        let mut out = BTreeMap::new();
        for (action, now) in &self.0 {
            let was = before.0.get(action).copied().unwrap_or_default();
            let d = Served {
                requests: now.requests - was.requests,
                entries: now.entries - was.entries,
                // The largest batch since `before` is not recoverable from two totals: the
                // suites read it from a moto of their own, where `before` had none.
                max_entries: now.max_entries,
                bytes: now.bytes - was.bytes,
                chunks64k: now.chunks64k - was.chunks64k,
                units1k: now.units1k - was.units1k,
                units4k: now.units4k - was.units4k,
            };
            if d.requests > 0 {
                out.insert(action.clone(), d);
            }
        }
        Requests(out)
    }

    /// One action's figures (zero when it was not called).
    pub fn get(&self, action: &str) -> Served {
        self.0.get(action).copied().unwrap_or_default()
    }

    /// Requests to `service` (`sqs`, `dynamodb`) whose action is in `actions`, or every action of
    /// the service when `actions` is empty.
    pub fn requests(&self, service: &str, actions: &[&str]) -> u64 {
        self.0
            .iter()
            .filter(|(k, _)| {
                k.split_once('.').is_some_and(|(s, a)| {
                    s == service && (actions.is_empty() || actions.contains(&a))
                })
            })
            .map(|(_, v)| v.requests)
            .sum()
    }

    /// An upper bound on the DynamoDB write request units the writes cost: a write takes one
    /// unit per KB of its item, and its request body holds the item and more; a transaction
    /// takes two units per KB of each of its items (and at least two per item).
    pub fn dynamo_write_units_at_most(&self) -> u64 {
        DYNAMO_WRITES
            .iter()
            .map(|a| {
                let s = self.get(&format!("dynamodb.{a}"));
                if *a == "TransactWriteItems" {
                    2 * s.units1k.max(s.entries)
                } else {
                    s.units1k
                }
            })
            .sum()
    }
}

/// DynamoDB's read actions (each a read request of the store, see `hookline-dynamodb`).
pub const DYNAMO_READS: [&str; 4] = ["GetItem", "Query", "BatchGetItem", "Scan"];
/// DynamoDB's write actions.
pub const DYNAMO_WRITES: [&str; 5] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "TransactWriteItems",
    "BatchWriteItem",
];

/// `infra/cost-counts.json`'s value for `key` (`"outbound.esm_receive_per_batch"`, ...).
pub fn expected(key: &str) -> f64 {
    let path = repo_root().join("infra/cost-counts.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file["counts"][key]["value"]
        .as_f64()
        .unwrap_or_else(|| panic!("{} has no counts.{key}.value", path.display()))
}

/// Asserts that `measured` is `infra/cost-counts.json`'s `key`, to a millionth; `context` says
/// what was measured, for the failure message.
pub fn assert_count(key: &str, measured: f64, context: &str) {
    let want = expected(key);
    assert!(
        (measured - want).abs() < 1e-6,
        "{key}: measured {measured}, infra/cost-counts.json says {want}. If hookline now does \
         this on purpose, change the file and regenerate docs/cost.md (infra/cost.py --write).\n\
         {context}"
    );
}
