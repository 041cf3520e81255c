//! The conformance suite every [`Store`] passes: the SQLite store's tests and the DynamoDB
//! store's tests (against moto's DynamoDB API) call [`run`].
//!
//! It panics on the first broken rule, naming it. `ns` keeps runs apart in a shared database.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::future::poll_fn;
use std::task::Poll;

use hookline_core::time::Timestamp;

use crate::store::{Item, Kind, Store, StoreError};

/// Runs every check against `store`, under names that start with `ns`.
pub async fn run(store: &dyn Store, ns: &str) {
    create_get_and_conflicts(store, ns).await;
    aliases_follow_replace_and_delete(store, ns).await;
    lists_page_in_id_order(store, ns).await;
    parents_and_kinds_are_apart(store, ns).await;
    expired_records_are_gone(store, ns).await;
    documents_round_trip(store, ns).await;
    every_kind_is_its_own_space(store, ns).await;
    put_creates_and_overwrites(store, ns).await;
    put_keeps_aliases_of_a_live_record_only(store, ns).await;
    swap_writes_only_over_what_was_read(store, ns).await;
    swap_keeps_aliases_and_treats_expired_as_absent(store, ns).await;
    swap_compares_large_documents_exactly(store, ns).await;
    concurrent_swaps_lose_no_increment(store, ns).await;
}

async fn create_get_and_conflicts(store: &dyn Store, ns: &str) {
    let parent = format!("{ns}-p1");
    let k = Kind::Application;
    store
        .create(k, &parent, "a1", &["u1"], r#"{"v":1}"#, None)
        .await
        .unwrap();
    assert_eq!(
        store.get(k, &parent, "a1").await.unwrap().as_deref(),
        Some(r#"{"v":1}"#)
    );
    assert_eq!(store.get(k, &parent, "missing").await.unwrap(), None);
    assert_eq!(
        store.resolve(k, &parent, "u1").await.unwrap().as_deref(),
        Some("a1")
    );
    // The same id again: conflict, the first document stays.
    let again = store
        .create(k, &parent, "a1", &[], r#"{"v":2}"#, None)
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict)),
        "same id: {again:?}"
    );
    // A taken alias: conflict, and nothing of the second record is written.
    let taken = store
        .create(k, &parent, "a2", &["u2", "u1"], r#"{"v":3}"#, None)
        .await;
    assert!(
        matches!(taken, Err(StoreError::Conflict)),
        "taken alias: {taken:?}"
    );
    assert_eq!(
        store.get(k, &parent, "a2").await.unwrap(),
        None,
        "half-written record"
    );
    assert_eq!(
        store.resolve(k, &parent, "u2").await.unwrap(),
        None,
        "half-claimed alias"
    );
    assert_eq!(
        store.get(k, &parent, "a1").await.unwrap().as_deref(),
        Some(r#"{"v":1}"#)
    );
}

async fn aliases_follow_replace_and_delete(store: &dyn Store, ns: &str) {
    let parent = format!("{ns}-p2");
    let k = Kind::Endpoint;
    store
        .create(k, &parent, "e1", &["old"], "1", None)
        .await
        .unwrap();
    store
        .create(k, &parent, "e2", &["other"], "2", None)
        .await
        .unwrap();
    // Replacing into another record's alias fails and changes nothing.
    let r = store
        .replace(k, &parent, "e1", &["old"], &["other"], "x")
        .await;
    assert!(
        matches!(r, Err(StoreError::Conflict)),
        "claim taken alias: {r:?}"
    );
    assert_eq!(
        store.get(k, &parent, "e1").await.unwrap().as_deref(),
        Some("1")
    );
    assert_eq!(
        store.resolve(k, &parent, "old").await.unwrap().as_deref(),
        Some("e1")
    );
    // A rename moves the alias.
    store
        .replace(k, &parent, "e1", &["old"], &["new"], "3")
        .await
        .unwrap();
    assert_eq!(
        store.get(k, &parent, "e1").await.unwrap().as_deref(),
        Some("3")
    );
    assert_eq!(store.resolve(k, &parent, "old").await.unwrap(), None);
    assert_eq!(
        store.resolve(k, &parent, "new").await.unwrap().as_deref(),
        Some("e1")
    );
    // Replacing without alias changes keeps them.
    store
        .replace(k, &parent, "e1", &[], &[], "4")
        .await
        .unwrap();
    assert_eq!(
        store.resolve(k, &parent, "new").await.unwrap().as_deref(),
        Some("e1")
    );
    // Replacing a missing record.
    let r = store.replace(k, &parent, "nope", &[], &[], "x").await;
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "replace missing: {r:?}"
    );
    assert_eq!(store.get(k, &parent, "nope").await.unwrap(), None);
    // Delete releases the alias, which can then be claimed again.
    assert!(store.delete(k, &parent, "e1", &["new"]).await.unwrap());
    assert!(!store.delete(k, &parent, "e1", &["new"]).await.unwrap());
    assert_eq!(store.get(k, &parent, "e1").await.unwrap(), None);
    assert_eq!(store.resolve(k, &parent, "new").await.unwrap(), None);
    store
        .create(k, &parent, "e3", &["new"], "5", None)
        .await
        .unwrap();
}

async fn lists_page_in_id_order(store: &dyn Store, ns: &str) {
    let parent = format!("{ns}-p3");
    let k = Kind::Message;
    // Created out of order; listed in id order.
    for id in ["m05", "m01", "m04", "m02", "m03"] {
        store
            .create(k, &parent, id, &[], &format!("\"{id}\""), None)
            .await
            .unwrap();
    }
    let ids = |items: Vec<Item>| items.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list(k, &parent, None, 2).await.unwrap()),
        ["m01", "m02"]
    );
    assert_eq!(
        ids(store.list(k, &parent, Some("m02"), 2).await.unwrap()),
        ["m03", "m04"]
    );
    assert_eq!(
        ids(store.list(k, &parent, Some("m04"), 2).await.unwrap()),
        ["m05"]
    );
    assert!(
        store
            .list(k, &parent, Some("m05"), 2)
            .await
            .unwrap()
            .is_empty()
    );
    // `after` need not be an existing id.
    assert_eq!(
        ids(store.list(k, &parent, Some("m035"), 10).await.unwrap()),
        ["m04", "m05"]
    );
    let all = store.list(k, &parent, None, 100).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[0].doc, "\"m01\"");
}

async fn parents_and_kinds_are_apart(store: &dyn Store, ns: &str) {
    let (a, b) = (format!("{ns}-pa"), format!("{ns}-pb"));
    store
        .create(Kind::Endpoint, &a, "x", &["alias"], "a", None)
        .await
        .unwrap();
    // Same id and alias under another parent, or of another kind: no conflict.
    store
        .create(Kind::Endpoint, &b, "x", &["alias"], "b", None)
        .await
        .unwrap();
    store
        .create(Kind::Message, &a, "x", &["alias"], "c", None)
        .await
        .unwrap();
    assert_eq!(
        store.get(Kind::Endpoint, &a, "x").await.unwrap().as_deref(),
        Some("a")
    );
    assert_eq!(
        store.get(Kind::Endpoint, &b, "x").await.unwrap().as_deref(),
        Some("b")
    );
    assert_eq!(
        store.get(Kind::Message, &a, "x").await.unwrap().as_deref(),
        Some("c")
    );
    assert_eq!(
        store
            .list(Kind::Endpoint, &a, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // A parent that is a prefix of another does not list the other's records.
    let (p, pq) = (format!("{ns}-q"), format!("{ns}-q/x"));
    store
        .create(Kind::AttemptByMessage, &pq, "z", &[], "z", None)
        .await
        .unwrap();
    assert!(
        store
            .list(Kind::AttemptByMessage, &p, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn expired_records_are_gone(store: &dyn Store, ns: &str) {
    let parent = format!("{ns}-p4");
    let k = Kind::Idempotency;
    let past = Timestamp::from_unix_secs(1_000_000_000);
    let future = Timestamp::from_unix_secs(4_000_000_000);
    store
        .create(k, &parent, "old", &["old-alias"], "1", Some(past))
        .await
        .unwrap();
    store
        .create(k, &parent, "new", &[], "2", Some(future))
        .await
        .unwrap();
    assert_eq!(
        store.get(k, &parent, "old").await.unwrap(),
        None,
        "expired get"
    );
    assert_eq!(
        store.resolve(k, &parent, "old-alias").await.unwrap(),
        None,
        "expired alias"
    );
    let listed: Vec<_> = store
        .list(k, &parent, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed, ["new"], "expired listed");
    // An expired record's id and aliases can be taken again.
    store
        .create(k, &parent, "old", &["old-alias"], "3", None)
        .await
        .unwrap();
    assert_eq!(
        store.get(k, &parent, "old").await.unwrap().as_deref(),
        Some("3")
    );
}

async fn documents_round_trip(store: &dyn Store, ns: &str) {
    let parent = format!("{ns}-p5");
    let doc = "{\"payload\":{\"é\":\"\\u0000 ünïcode ✓\",\"n\":1.50,\"big\":\"".to_owned()
        + &"x".repeat(200_000)
        + "\"}}";
    store
        .create(Kind::Message, &parent, "big", &[], &doc, None)
        .await
        .unwrap();
    assert_eq!(
        store
            .get(Kind::Message, &parent, "big")
            .await
            .unwrap()
            .as_deref(),
        Some(doc.as_str())
    );
}

/// Long ago and far ahead: expired and live whatever clock the store reads.
const PAST: Timestamp = Timestamp::from_unix_secs(1_000_000_000);
const FUTURE: Timestamp = Timestamp::from_unix_secs(4_000_000_000);

async fn ids(store: &dyn Store, k: Kind, parent: &str) -> Vec<String> {
    store
        .list(k, parent, None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect()
}

async fn every_kind_is_its_own_space(store: &dyn Store, ns: &str) {
    // Every kind, the history's included: no adapter may keep a table or list per kind that
    // misses one.
    let parent = format!("{ns}-kinds");
    for k in Kind::ALL {
        store
            .put(k, &parent, "same", &format!("\"{}\"", k.as_str()), None)
            .await
            .unwrap_or_else(|e| panic!("put {k:?}: {e}"));
    }
    for k in Kind::ALL {
        assert_eq!(
            store.get(k, &parent, "same").await.unwrap(),
            Some(format!("\"{}\"", k.as_str())),
            "{k:?}"
        );
        assert_eq!(ids(store, k, &parent).await, ["same"], "{k:?}");
    }
}

async fn put_creates_and_overwrites(store: &dyn Store, ns: &str) {
    // A message's status at an endpoint, as the sender writes it.
    let parent = format!("{ns}-app/ep");
    let k = Kind::Destination;
    store
        .put(k, &parent, "m2", "\"pending\"", None)
        .await
        .unwrap();
    assert_eq!(
        store.get(k, &parent, "m2").await.unwrap().as_deref(),
        Some("\"pending\"")
    );
    store
        .put(k, &parent, "m2", "\"success\"", None)
        .await
        .unwrap();
    assert_eq!(
        store.get(k, &parent, "m2").await.unwrap().as_deref(),
        Some("\"success\"")
    );
    store
        .put(k, &parent, "m1", "\"fail\"", Some(FUTURE))
        .await
        .unwrap();
    assert_eq!(ids(store, k, &parent).await, ["m1", "m2"], "id order");
    // Expiry is honoured: a past one hides the record, from get and from list.
    store
        .put(k, &parent, "m3", "\"old\"", Some(PAST))
        .await
        .unwrap();
    assert_eq!(
        store.get(k, &parent, "m3").await.unwrap(),
        None,
        "expired put"
    );
    assert_eq!(
        ids(store, k, &parent).await,
        ["m1", "m2"],
        "expired put listed"
    );
    // Writing it again revives it with the new document only.
    store.put(k, &parent, "m3", "\"new\"", None).await.unwrap();
    assert_eq!(
        store.get(k, &parent, "m3").await.unwrap().as_deref(),
        Some("\"new\"")
    );
    // An overwrite sets the expiry too, whichever way.
    store
        .put(k, &parent, "m2", "\"gone\"", Some(PAST))
        .await
        .unwrap();
    assert_eq!(
        store.get(k, &parent, "m2").await.unwrap(),
        None,
        "shortened"
    );
    store.put(k, &parent, "m1", "\"kept\"", None).await.unwrap();
    assert_eq!(ids(store, k, &parent).await, ["m1", "m3"]);
    // A put creates a record that create then refuses, and delete removes.
    let again = store.create(k, &parent, "m1", &[], "x", None).await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    assert!(store.delete(k, &parent, "m1", &[]).await.unwrap());
    assert_eq!(store.get(k, &parent, "m1").await.unwrap(), None);
}

async fn put_keeps_aliases_of_a_live_record_only(store: &dyn Store, ns: &str) {
    let parent = format!("{ns}-put-aliases");
    let k = Kind::Endpoint;
    store
        .create(k, &parent, "e1", &["u1", "u2"], "1", None)
        .await
        .unwrap();
    store.put(k, &parent, "e1", "2", None).await.unwrap();
    assert_eq!(
        store.get(k, &parent, "e1").await.unwrap().as_deref(),
        Some("2")
    );
    for a in ["u1", "u2"] {
        assert_eq!(
            store.resolve(k, &parent, a).await.unwrap().as_deref(),
            Some("e1"),
            "alias {a} after put"
        );
    }
    // Still held: another record cannot take one.
    let taken = store.create(k, &parent, "e2", &["u1"], "3", None).await;
    assert!(matches!(taken, Err(StoreError::Conflict)), "{taken:?}");
    // And still the record's to release.
    store
        .replace(k, &parent, "e1", &["u2"], &[], "4")
        .await
        .unwrap();
    assert_eq!(store.resolve(k, &parent, "u2").await.unwrap(), None);
    // An expired record is absent: a put over it does not bring its aliases back.
    store
        .create(k, &parent, "old", &["stale"], "1", Some(PAST))
        .await
        .unwrap();
    store.put(k, &parent, "old", "2", None).await.unwrap();
    assert_eq!(
        store.get(k, &parent, "old").await.unwrap().as_deref(),
        Some("2")
    );
    assert_eq!(
        store.resolve(k, &parent, "stale").await.unwrap(),
        None,
        "an expired record's alias came back with a put"
    );
    store
        .create(k, &parent, "other", &["stale"], "3", None)
        .await
        .unwrap();
}

async fn swap_writes_only_over_what_was_read(store: &dyn Store, ns: &str) {
    let parent = format!("{ns}-swap");
    let k = Kind::Health;
    // Absent: only a create-if-absent writes.
    assert!(
        !store
            .swap(k, &parent, "ep", Some("0"), "1", None)
            .await
            .unwrap(),
        "swap over a missing record"
    );
    assert_eq!(store.get(k, &parent, "ep").await.unwrap(), None);
    assert!(store.swap(k, &parent, "ep", None, "1", None).await.unwrap());
    assert_eq!(
        store.get(k, &parent, "ep").await.unwrap().as_deref(),
        Some("1")
    );
    // Present: create-if-absent refuses and leaves it.
    assert!(!store.swap(k, &parent, "ep", None, "9", None).await.unwrap());
    assert_eq!(
        store.get(k, &parent, "ep").await.unwrap().as_deref(),
        Some("1")
    );
    // A stale read refuses, an exact one replaces.
    assert!(
        !store
            .swap(k, &parent, "ep", Some("0"), "9", None)
            .await
            .unwrap()
    );
    assert!(
        store
            .swap(k, &parent, "ep", Some("1"), "2", None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .swap(k, &parent, "ep", Some("1"), "9", None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.get(k, &parent, "ep").await.unwrap().as_deref(),
        Some("2")
    );
    // Exactly: the same JSON spelled differently is another document.
    store
        .put(k, &parent, "json", r#"{"a":1,"b":2}"#, None)
        .await
        .unwrap();
    for near in [
        r#"{"a":1, "b":2}"#,
        r#"{"b":2,"a":1}"#,
        r#"{"a":1,"b":2} "#,
        "",
    ] {
        assert!(
            !store
                .swap(k, &parent, "json", Some(near), "9", None)
                .await
                .unwrap(),
            "swap matched {near:?}"
        );
    }
    assert_eq!(
        store.get(k, &parent, "json").await.unwrap().as_deref(),
        Some(r#"{"a":1,"b":2}"#)
    );
    // A swap sets the expiry it is given.
    assert!(
        store
            .swap(k, &parent, "ep", Some("2"), "3", Some(FUTURE))
            .await
            .unwrap()
    );
    assert_eq!(
        store.get(k, &parent, "ep").await.unwrap().as_deref(),
        Some("3")
    );
    assert!(
        store
            .swap(k, &parent, "ep", Some("3"), "4", Some(PAST))
            .await
            .unwrap()
    );
    assert_eq!(
        store.get(k, &parent, "ep").await.unwrap(),
        None,
        "swapped to expired"
    );
    assert_eq!(ids(store, k, &parent).await, ["json"]);
}

async fn swap_keeps_aliases_and_treats_expired_as_absent(store: &dyn Store, ns: &str) {
    let parent = format!("{ns}-swap-aliases");
    let k = Kind::Endpoint;
    store
        .create(k, &parent, "e1", &["uid"], "1", None)
        .await
        .unwrap();
    assert!(
        store
            .swap(k, &parent, "e1", Some("1"), "2", None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.resolve(k, &parent, "uid").await.unwrap().as_deref(),
        Some("e1"),
        "alias after swap"
    );
    let taken = store.create(k, &parent, "e2", &["uid"], "x", None).await;
    assert!(matches!(taken, Err(StoreError::Conflict)), "{taken:?}");
    // An expired record: its document no longer matches anything, and it counts as absent.
    store
        .create(k, &parent, "old", &["stale"], "1", Some(PAST))
        .await
        .unwrap();
    assert!(
        !store
            .swap(k, &parent, "old", Some("1"), "2", None)
            .await
            .unwrap(),
        "swap over an expired record's document"
    );
    assert_eq!(store.get(k, &parent, "old").await.unwrap(), None);
    assert!(
        store
            .swap(k, &parent, "old", None, "3", None)
            .await
            .unwrap(),
        "create-if-absent over an expired record"
    );
    assert_eq!(
        store.get(k, &parent, "old").await.unwrap().as_deref(),
        Some("3")
    );
    assert_eq!(
        store.resolve(k, &parent, "stale").await.unwrap(),
        None,
        "an expired record's alias came back with a swap"
    );
    // A record that a swap created expired: absent again.
    assert!(
        store
            .swap(k, &parent, "brief", None, "1", Some(PAST))
            .await
            .unwrap()
    );
    assert_eq!(store.get(k, &parent, "brief").await.unwrap(), None);
    assert!(
        store
            .swap(k, &parent, "brief", None, "2", None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.get(k, &parent, "brief").await.unwrap().as_deref(),
        Some("2")
    );
}

async fn swap_compares_large_documents_exactly(store: &dyn Store, ns: &str) {
    // Large enough that a store may keep them compressed (DynamoDB: above 32 KiB).
    let parent = format!("{ns}-swap-large");
    let k = Kind::Endpoint;
    let big = |tail: &str| format!("{{\"d\":\"{}{tail}\"}}", "abcdefgh".repeat(10_000));
    let (a, b, c) = (big("a"), big("b"), big("c"));
    assert!(store.swap(k, &parent, "e", None, &a, None).await.unwrap());
    // Differs only in its last bytes.
    assert!(
        !store
            .swap(k, &parent, "e", Some(&b), &c, None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .swap(k, &parent, "e", Some("{}"), &c, None)
            .await
            .unwrap()
    );
    assert!(
        store
            .swap(k, &parent, "e", Some(&a), &b, None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.get(k, &parent, "e").await.unwrap().as_deref(),
        Some(b.as_str())
    );
    // From large to small and back.
    assert!(
        store
            .swap(k, &parent, "e", Some(&b), "{}", None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .swap(k, &parent, "e", Some(&b), &c, None)
            .await
            .unwrap()
    );
    assert!(
        store
            .swap(k, &parent, "e", Some("{}"), &c, None)
            .await
            .unwrap()
    );
    // A put's large document compares as well as a swap's.
    store.put(k, &parent, "e", &a, None).await.unwrap();
    assert!(
        store
            .swap(k, &parent, "e", Some(&a), &b, None)
            .await
            .unwrap()
    );
    // And a create's and a replace's.
    store.create(k, &parent, "f", &[], &a, None).await.unwrap();
    assert!(
        store
            .swap(k, &parent, "f", Some(&a), &b, None)
            .await
            .unwrap()
    );
    store.replace(k, &parent, "f", &[], &[], &c).await.unwrap();
    assert!(
        !store
            .swap(k, &parent, "f", Some(&b), &a, None)
            .await
            .unwrap()
    );
    assert!(
        store
            .swap(k, &parent, "f", Some(&c), &a, None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.get(k, &parent, "f").await.unwrap().as_deref(),
        Some(a.as_str())
    );
}

/// How many tasks race to increment one counter.
const RACERS: usize = 20;

/// Gives the other tasks of a `join_all` their turn: each racer reads, yields, then swaps, so
/// the reads and swaps of all racers interleave even on a store whose calls never suspend (the
/// memory store).
async fn yield_once() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

async fn concurrent_swaps_lose_no_increment(store: &dyn Store, ns: &str) {
    // Senders counting an endpoint's failures at once, each by read, decide, conditional write.
    let parent = format!("{ns}-race");
    let k = Kind::Health;
    let racer = |_| async {
        // Each loss means another racer won in between, and each racer wins once: none loses
        // more than RACERS - 1 times.
        for refused in 0..RACERS {
            let doc = store.get(k, &parent, "ep").await.unwrap();
            let count: usize = doc.as_deref().map_or(0, |d| d.parse().unwrap());
            yield_once().await;
            let next = (count + 1).to_string();
            if store
                .swap(k, &parent, "ep", doc.as_deref(), &next, None)
                .await
                .unwrap()
            {
                return refused;
            }
        }
        panic!("a racer lost {RACERS} swaps in a row");
    };
    let refused: usize = futures_util::future::join_all((0..RACERS).map(racer))
        .await
        .into_iter()
        .sum();
    assert_eq!(
        store.get(k, &parent, "ep").await.unwrap(),
        Some(RACERS.to_string()),
        "increments lost ({refused} swaps refused)"
    );
    // The racers did meet: without refusals this would not have tested the condition.
    assert!(refused > 0, "no swap was ever refused");
}
