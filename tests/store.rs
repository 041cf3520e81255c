//! The DynamoDB store (`hookline-dynamodb`) against DynamoDB's API on loopback (moto), never a
//! mock: the conformance suite every store passes, plus what only DynamoDB makes hard (expired
//! items that TTL has not deleted yet filling `Query` pages, the 400 KB item limit), and the
//! number of DynamoDB requests each store operation makes. Needs `tests/harness/setup.sh`
//! (tests/run does it); without moto these tests fail, they never pass silently.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::sync::OnceLock;

use hookline_api::{Kind, Store, StoreError};
use hookline_core::time::Timestamp;
use hookline_dynamodb::{DynamoStore, MAX_ITEM_BYTES, Op};
use hookline_tests::dynamo::{dynamo_client, fresh_table};
use hookline_tests::harness::Moto;

/// One moto server for the whole suite; every test uses its own table.
fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

async fn store(prefix: &str) -> DynamoStore {
    let client = dynamo_client(&moto().endpoint);
    let table = fresh_table(&client, prefix).await;
    DynamoStore::new(client, table)
}

#[tokio::test]
async fn passes_the_conformance_suite() {
    let store = store("conformance").await;
    hookline_api::conformance::run(&store, "dynamo").await;
    // The figures for the store benchmark: DynamoDB requests per operation over the suite.
    println!("op       calls  reads  writes  (DynamoDB requests over the conformance suite)");
    for op in Op::ALL {
        let r = store.requests(op);
        println!(
            "{:<8} {:>5}  {:>5}  {:>6}",
            format!("{op:?}"),
            r.calls,
            r.reads,
            r.writes
        );
    }
    // One read per lookup, none to create, at most one (the record's expiry) to replace.
    for op in [Op::Get, Op::Resolve] {
        let r = store.requests(op);
        assert_eq!(r.reads, r.calls, "{op:?}: {r:?}");
    }
    assert_eq!(store.requests(Op::Create).reads, 0);
    let r = store.requests(Op::Replace);
    assert!(r.reads <= r.calls, "{r:?}");
    // A put or a swap (a delivery's status, an endpoint's health) is one write and no read.
    for op in [Op::Put, Op::Swap] {
        let r = store.requests(op);
        assert!(r.calls > 0, "{op:?} not exercised");
        assert_eq!((r.reads, r.writes), (0, r.calls), "{op:?}: {r:?}");
    }
}

/// The noise of `an_incompressible_document_over_the_item_limit_is_refused_whole`: hex of
/// xorshift output, which deflate can only halve.
fn noise(len: usize) -> String {
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b"0123456789abcdef"[(x % 16) as usize])
        })
        .collect()
}

#[tokio::test]
async fn a_swap_matches_a_document_deflated_before_digests_were_stored() {
    use aws_sdk_dynamodb::types::AttributeValue as Av;
    let store = store("legacy").await;
    let client = dynamo_client(&moto().endpoint);
    let doc = format!("{{\"d\":\"{}\"}}", "legacy ".repeat(10_000));
    // An item as `create` wrote them before `docsha`: `docz` alone.
    store
        .create(Kind::Endpoint, "app", "ep_1", &[], &doc, None)
        .await
        .unwrap();
    let key = |req: aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder| {
        req.table_name(store.table())
            .key("pk", Av::S("ep#app".into()))
            .key("sk", Av::S("ep_1".into()))
    };
    client
        .update_item()
        .table_name(store.table())
        .key("pk", Av::S("ep#app".into()))
        .key("sk", Av::S("ep_1".into()))
        .update_expression("REMOVE docsha")
        .send()
        .await
        .unwrap();
    let item = key(client.get_item()).send().await.unwrap().item.unwrap();
    assert!(item.contains_key("docz") && !item.contains_key("docsha"));
    assert_eq!(
        store
            .get(Kind::Endpoint, "app", "ep_1")
            .await
            .unwrap()
            .as_deref(),
        Some(doc.as_str())
    );
    let other = doc.replace("legacy", "LEGACY");
    assert!(
        !store
            .swap(Kind::Endpoint, "app", "ep_1", Some(&other), "{}", None)
            .await
            .unwrap()
    );
    assert!(
        store
            .swap(Kind::Endpoint, "app", "ep_1", Some(&doc), &other, None)
            .await
            .unwrap()
    );
    // Written again with its digest, it compares by that from now on.
    let item = key(client.get_item()).send().await.unwrap().item.unwrap();
    assert!(item.contains_key("docsha"), "{:?}", item.keys());
    assert!(
        store
            .swap(Kind::Endpoint, "app", "ep_1", Some(&other), "{}", None)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn put_and_swap_refuse_an_oversized_document_and_write_nothing() {
    let store = store("oversized").await;
    let n = noise(MAX_ITEM_BYTES);
    let doc = format!("{{\"payload\":\"{n}{n}\"}}");
    let k = Kind::Destination;
    let r = store.put(k, "app/ep", "msg_1", &doc, None).await;
    assert!(matches!(r, Err(StoreError::TooLarge(_))), "{r:?}");
    let r = store.swap(k, "app/ep", "msg_1", None, &doc, None).await;
    assert!(matches!(r, Err(StoreError::TooLarge(_))), "{r:?}");
    assert_eq!(store.get(k, "app/ep", "msg_1").await.unwrap(), None);
    store.put(k, "app/ep", "msg_1", "1", None).await.unwrap();
    let r = store
        .swap(k, "app/ep", "msg_1", Some("1"), &doc, None)
        .await;
    assert!(matches!(r, Err(StoreError::TooLarge(_))), "{r:?}");
    assert_eq!(
        store.get(k, "app/ep", "msg_1").await.unwrap().as_deref(),
        Some("1")
    );
    // Refused before any request.
    assert_eq!(store.requests(Op::Put).writes, 1);
    assert_eq!(store.requests(Op::Swap).writes, 0);
}

#[tokio::test]
async fn list_reads_past_expired_items_ttl_has_not_deleted() {
    let store = store("expired").await;
    let k = Kind::AttemptByEndpoint;
    let past = Timestamp::from_unix_secs(1_000_000_000);
    for i in 0..6 {
        store
            .create(k, "p", &format!("a{i}"), &[], "\"old\"", Some(past))
            .await
            .unwrap();
    }
    for id in ["b1", "b2", "b3"] {
        store
            .create(k, "p", id, &[], "\"new\"", None)
            .await
            .unwrap();
    }
    let before = store.requests(Op::List).reads;
    let page = store.list(k, "p", None, 2).await.unwrap();
    let ids: Vec<_> = page.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["b1", "b2"]);
    // The first pages came back empty or short because of the filter: more than one Query.
    assert!(store.requests(Op::List).reads - before > 1);
    let rest = store.list(k, "p", Some("b2"), 2).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].id, "b3");
}

#[tokio::test]
async fn a_message_of_one_mebibyte_of_json_fits_compressed() {
    let store = store("large").await;
    // What the API stores for a message with a payload of about 1 MiB (its body limit).
    let rows: Vec<String> = (0..20_000)
        .map(|i| {
            format!(
                r#"{{"id":{i},"sku":"SKU-{:06}","qty":{},"note":"ok"}}"#,
                i * 7,
                i % 9
            )
        })
        .collect();
    let doc = format!(r#"{{"payload":{{"rows":[{}]}}}}"#, rows.join(","));
    assert!(doc.len() > 1000 * 1024, "{}", doc.len());
    store
        .create(Kind::Message, "app", "msg_big", &["evt"], &doc, None)
        .await
        .unwrap();
    assert_eq!(
        store
            .get(Kind::Message, "app", "msg_big")
            .await
            .unwrap()
            .as_deref(),
        Some(doc.as_str())
    );
    let listed = store.list(Kind::Message, "app", None, 10).await.unwrap();
    assert_eq!(listed[0].doc, doc);
    // Replace switches between plain and deflated storage both ways.
    store
        .replace(
            Kind::Message,
            "app",
            "msg_big",
            &[],
            &[],
            "{\"small\":true}",
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .get(Kind::Message, "app", "msg_big")
            .await
            .unwrap()
            .as_deref(),
        Some("{\"small\":true}")
    );
    store
        .replace(Kind::Message, "app", "msg_big", &[], &[], &doc)
        .await
        .unwrap();
    assert_eq!(
        store
            .get(Kind::Message, "app", "msg_big")
            .await
            .unwrap()
            .as_deref(),
        Some(doc.as_str())
    );
}

#[tokio::test]
async fn an_incompressible_document_over_the_item_limit_is_refused_whole() {
    let store = store("incompressible").await;
    let noise = noise(MAX_ITEM_BYTES);
    let doc = format!("{{\"payload\":\"{noise}{noise}\"}}");
    let r = store
        .create(Kind::Message, "app", "msg_noise", &["evt"], &doc, None)
        .await;
    match r {
        Err(e @ StoreError::TooLarge(size)) => {
            assert!(size > 400_000, "{size}");
            assert!(
                !e.to_string().contains(&noise[..32]),
                "the document leaked into the error"
            );
        }
        other => panic!("expected a refusal: {other:?}"),
    }
    assert_eq!(
        store.get(Kind::Message, "app", "msg_noise").await.unwrap(),
        None
    );
    assert_eq!(
        store.resolve(Kind::Message, "app", "evt").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_missing_table_is_unavailable_not_a_panic() {
    let store = DynamoStore::new(dynamo_client(&moto().endpoint), "no-such-table");
    let r = store.get(Kind::Application, "", "app_x").await;
    assert!(
        matches!(r, Err(StoreError::Unavailable(ref why)) if why.contains("ResourceNotFound")),
        "{r:?}"
    );
    let r = store
        .create(Kind::Application, "", "app_x", &["u"], "{}", None)
        .await;
    assert!(matches!(r, Err(StoreError::Unavailable(_))), "{r:?}");
}
