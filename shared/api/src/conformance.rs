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
