//! # hookline-dynamodb
//!
//! The management API's [`Store`] on DynamoDB: every record of every kind in **one table**, on
//! demand, with DynamoDB's TTL removing expired records (`template.yaml`'s `ApiTable`).
//!
//! ## Layout
//!
//! | item | `pk` (S, partition key) | `sk` (S, sort key) | attributes |
//! |---|---|---|---|
//! | record | `{kind}#{parent}` | its id | `doc` (S), or `docz` (B) and `docsha` (B); `expires` (N) |
//! | alias | `{kind}.alias#{parent}` | the alias | `id` (S, the owner), `expires` (N) |
//!
//! `kind` is [`Kind::as_str`]; the text before the first `#` names the space, so no parent,
//! whatever it holds (even `#` or `.alias`), can make a record's key equal an alias's. `expires`
//! is the table's TTL attribute, in whole epoch seconds (rounded down, so a record is never
//! returned after its expiry, and may go up to a second early). An alias carries its owner's
//! expiry, so an alias outlives nothing. [`Store::put`] and [`Store::swap`] write the record
//! item alone and leave its aliases as they are: a record that holds aliases keeps them live
//! only as long as the expiry they were claimed with (the API puts and swaps records without
//! aliases, and endpoints, which never expire).
//!
//! ## Atomicity
//!
//! A write that touches aliases is one `TransactWriteItems`: the record and each alias with a
//! condition (free or expired to create or claim; live to replace; owned to release). When
//! DynamoDB cancels the transaction, the cancellation reasons say which item's condition failed:
//! the record's is [`StoreError::NotFound`] for a replace (a conflict for a create), an alias's is
//! [`StoreError::Conflict`]. Reads are strongly consistent.
//!
//! [`Store::put`] is one `PutItem`; [`Store::swap`] one `PutItem` whose condition is the record's
//! absence (or expiry) or its current document: `ConditionalCheckFailed` is `Ok(false)`. A
//! deflated document is compared by `docsha`, the SHA-256 of its text, not by its deflated bytes:
//! those depend on the compressor's version and level, so two Lambda versions during a deploy
//! could store the same document differently and never match; the digest is also 32 bytes in
//! the condition instead of up to 400 KB. An item deflated before `docsha` existed is compared
//! by its deflated bytes.
//!
//! ## Size
//!
//! A DynamoDB item holds at most 400 KB. Documents above [`COMPRESS_ABOVE`] bytes are stored
//! deflated (`docz`): the API accepts 1 MiB request bodies (Svix's limit), and JSON payloads
//! shrink five to ten times. A document that is still too large once compressed (about 1 MiB of
//! random-looking data, such as base64 of compressed files) is refused with
//! [`StoreError::TooLarge`] naming the size, before anything is written (the API answers 413).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use hookline_api::store::{Item, Kind, Store, StoreError};
use hookline_core::time::Timestamp;

/// The partition key attribute.
pub const PK: &str = "pk";
/// The sort key attribute.
pub const SK: &str = "sk";
/// The expiry attribute (epoch seconds), which the table's TTL specification names.
pub const EXPIRES: &str = "expires";
/// A record's document, as text.
const DOC: &str = "doc";
/// A record's document, deflated (documents above [`COMPRESS_ABOVE`] bytes).
const DOCZ: &str = "docz";
/// The SHA-256 of a deflated record's document (its text), which [`Store::swap`] compares.
const DOC_SHA256: &str = "docsha";
/// Every attribute that holds a document, with its placeholders: each write sets those its
/// encoding has and a replace removes the others.
const DOC_ATTRS: [(&str, &str, &str); 3] = [
    (DOC, "#plain", ":plain"),
    (DOCZ, "#deflated", ":deflated"),
    (DOC_SHA256, "#sha", ":sha"),
];
/// An alias's owner.
const OWNER: &str = "id";

/// Documents longer than this are stored deflated.
pub const COMPRESS_ABOVE: usize = 32 * 1024;
/// DynamoDB's item size limit (400 KB: names and values, UTF-8 or raw bytes).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// The largest document a deflated one may inflate to: far above the API's 1 MiB bodies, and
/// a bound on what a corrupt item can make us allocate.
const MAX_INFLATED: usize = 16 * 1024 * 1024;
/// Attempts of a transaction that DynamoDB cancelled because another one touched the same items
/// at the same moment (`TransactionConflict`): nothing was written, so trying again is safe.
const TRANSACTION_ATTEMPTS: usize = 3;

/// The store operations whose DynamoDB requests are counted ([`DynamoStore::requests`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// [`Store::create`].
    Create,
    /// [`Store::replace`].
    Replace,
    /// [`Store::get`].
    Get,
    /// [`Store::resolve`].
    Resolve,
    /// [`Store::list`].
    List,
    /// [`Store::delete`].
    Delete,
    /// [`Store::put`].
    Put,
    /// [`Store::swap`].
    Swap,
}

impl Op {
    /// Every operation, in the order of [`DynamoStore::requests`]' table.
    pub const ALL: [Op; 8] = [
        Op::Create,
        Op::Replace,
        Op::Get,
        Op::Resolve,
        Op::List,
        Op::Delete,
        Op::Put,
        Op::Swap,
    ];

    const fn index(self) -> usize {
        self as usize
    }
}

/// How many times an operation ran, and the DynamoDB requests it made (SDK retries aside).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Requests {
    /// Calls of the operation.
    pub calls: u64,
    /// `GetItem` and `Query` requests.
    pub reads: u64,
    /// `TransactWriteItems`, `PutItem`, `UpdateItem` and `DeleteItem` requests.
    pub writes: u64,
}

#[derive(Default)]
struct Counter {
    calls: AtomicU64,
    reads: AtomicU64,
    writes: AtomicU64,
}

/// The DynamoDB store: one table, keyed as the crate docs say.
pub struct DynamoStore {
    client: Client,
    table: String,
    now: fn() -> Timestamp,
    counters: [Counter; Op::ALL.len()],
}

impl DynamoStore {
    /// The store on `table`, reading the system clock to decide expiry.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            now: hookline_api::system_now,
            counters: Default::default(),
        }
    }

    /// The same store deciding expiry with `now` (tests).
    pub fn with_clock(mut self, now: fn() -> Timestamp) -> Self {
        self.now = now;
        self
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The requests made so far by `op`.
    pub fn requests(&self, op: Op) -> Requests {
        let c = self.counter(op);
        Requests {
            calls: c.calls.load(Ordering::Relaxed),
            reads: c.reads.load(Ordering::Relaxed),
            writes: c.writes.load(Ordering::Relaxed),
        }
    }

    fn counter(&self, op: Op) -> &Counter {
        // `Op::index` is below `Op::ALL.len()`, the array's length, for every variant.
        #[allow(clippy::indexing_slicing)]
        &self.counters[op.index()]
    }

    fn call(&self, op: Op) {
        self.counter(op).calls.fetch_add(1, Ordering::Relaxed);
    }

    fn read(&self, op: Op) {
        self.counter(op).reads.fetch_add(1, Ordering::Relaxed);
    }

    fn write(&self, op: Op) {
        self.counter(op).writes.fetch_add(1, Ordering::Relaxed);
    }

    fn now_secs(&self) -> i64 {
        (self.now)().unix_secs()
    }

    /// One item by key, read consistently.
    async fn get_item(
        &self,
        op: Op,
        pk: String,
        sk: &str,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        self.read(op);
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", &e))?;
        Ok(out.item)
    }

    /// Runs `writes` as one transaction; on cancellation, the roles of the items whose
    /// condition failed.
    async fn transact(&self, op: Op, writes: &[Write]) -> Result<Outcome, StoreError> {
        let items = writes
            .iter()
            .map(|w| w.item.clone())
            .collect::<Vec<TransactWriteItem>>();
        for _ in 0..TRANSACTION_ATTEMPTS {
            self.write(op);
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let err = match sent {
                Ok(_) => return Ok(Outcome::Done),
                Err(e) => e,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(cancel)) =
                err.as_service_error()
            else {
                return Err(unavailable("TransactWriteItems", &err));
            };
            let reasons = cancel.cancellation_reasons();
            let failed: Vec<Role> = reasons
                .iter()
                .zip(writes)
                .filter(|(r, _)| r.code() == Some("ConditionalCheckFailed"))
                .map(|(_, w)| w.role.clone())
                .collect();
            if !failed.is_empty() {
                return Ok(Outcome::Failed(failed));
            }
            if reasons
                .iter()
                .any(|r| r.code() == Some("TransactionConflict"))
            {
                continue;
            }
            return Err(StoreError::Unavailable(format!(
                "TransactWriteItems cancelled: {}",
                reasons
                    .iter()
                    .filter_map(|r| r.code())
                    .filter(|c| *c != "None")
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Err(StoreError::Unavailable(
            "TransactWriteItems: transaction conflicts persisted".to_owned(),
        ))
    }
}

/// What an item of a transaction stands for, to read its cancellation reason.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Role {
    Record,
    Claim,
    Release(String),
}

struct Write {
    role: Role,
    item: TransactWriteItem,
}

enum Outcome {
    Done,
    /// The transaction was cancelled: these items' conditions failed; nothing was written.
    Failed(Vec<Role>),
}

fn record_pk(kind: Kind, parent: &str) -> String {
    format!("{}#{parent}", kind.as_str())
}

fn alias_pk(kind: Kind, parent: &str) -> String {
    format!("{}.alias#{parent}", kind.as_str())
}

/// An SDK error as a [`StoreError`]: the error code or the kind of failure only, never the
/// service's message (which may quote the request) or the request itself.
fn unavailable<E: ProvideErrorMetadata, R>(call: &str, e: &SdkError<E, R>) -> StoreError {
    let what = match e {
        SdkError::ServiceError(s) => s.err().code().unwrap_or("unknown service error"),
        SdkError::TimeoutError(_) => "timeout",
        SdkError::DispatchFailure(_) => "request not sent (network or credentials)",
        SdkError::ResponseError(_) => "unreadable response",
        SdkError::ConstructionFailure(_) => "request could not be built",
        _ => "unknown error",
    };
    StoreError::Unavailable(format!("{call}: {what}"))
}

fn built<T>(r: Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T, StoreError> {
    r.map_err(|_| StoreError::Unavailable("DynamoDB request could not be built".to_owned()))
}

/// An expression and the placeholders it uses: DynamoDB refuses unused ones, so each request
/// names only what its expressions mention.
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

/// The placeholders of the attributes that are not a document's ([`DOC_ATTRS`] has those).
const NAMES: [(&str, &str); 4] = [("#pk", PK), ("#sk", SK), ("#exp", EXPIRES), ("#own", OWNER)];

impl Expr {
    fn new(texts: &[&str], values: Vec<(&str, AttributeValue)>) -> Self {
        let mentions = |p: &str| texts.iter().any(|t| mentions(t, p));
        Self {
            names: NAMES
                .iter()
                .copied()
                .chain(DOC_ATTRS.iter().map(|(attr, name, _)| (*name, *attr)))
                .filter(|(p, _)| mentions(p))
                .map(|(p, n)| (p.to_owned(), n.to_owned()))
                .collect(),
            values: values
                .into_iter()
                .filter(|(p, _)| mentions(p))
                .map(|(p, v)| (p.to_owned(), v))
                .collect(),
        }
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// Whether `text` uses `placeholder` as a whole token (`#exp` is not in `#expires`).
fn mentions(text: &str, placeholder: &str) -> bool {
    text.match_indices(placeholder).any(|(i, _)| {
        !text[i + placeholder.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Free, or held by an expired item.
const FREE: &str = "attribute_not_exists(#pk) OR #exp <= :now";
/// Exists and has not expired.
const LIVE: &str = "attribute_exists(#pk) AND (attribute_not_exists(#exp) OR #exp > :now)";
/// An alias that is free, expired, or already ours.
const CLAIMABLE: &str = "attribute_not_exists(#pk) OR #exp <= :now OR #own = :id";
/// An alias that is gone or ours.
const RELEASABLE: &str = "attribute_not_exists(#pk) OR #own = :id";
/// What `list` keeps of what `Query` reads (TTL deletes expired items lazily).
const UNEXPIRED: &str = "attribute_not_exists(#exp) OR #exp > :now";

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

/// A document as stored: its attributes (names from [`DOC_ATTRS`]). Which encoding depends on
/// the document's length alone, so a document and an equal one are always stored alike.
fn encode_doc(doc: &str) -> Vec<(&'static str, AttributeValue)> {
    if doc.len() <= COMPRESS_ABOVE {
        return vec![(DOC, s(doc))];
    }
    vec![(DOCZ, deflate(doc)), (DOC_SHA256, digest(doc))]
}

fn deflate(doc: &str) -> AttributeValue {
    // Level 6, zlib's default: about 5 ms per MiB of JSON on one core; level 1 saves little.
    AttributeValue::B(Blob::new(miniz_oxide::deflate::compress_to_vec(
        doc.as_bytes(),
        6,
    )))
}

fn digest(doc: &str) -> AttributeValue {
    use sha2::{Digest as _, Sha256};
    AttributeValue::B(Blob::new(Sha256::digest(doc.as_bytes()).to_vec()))
}

/// The condition that the stored document is exactly `doc`, and its values.
fn holds_doc(doc: &str) -> (&'static str, Vec<(&'static str, AttributeValue)>) {
    if doc.len() <= COMPRESS_ABOVE {
        return ("#plain = :old", vec![(":old", s(doc))]);
    }
    (
        "#sha = :oldsha OR (attribute_not_exists(#sha) AND #deflated = :oldz)",
        vec![(":oldsha", digest(doc)), (":oldz", deflate(doc))],
    )
}

fn decode_doc(item: &HashMap<String, AttributeValue>) -> Result<String, StoreError> {
    let corrupt = |why: &str| StoreError::Unavailable(format!("stored document: {why}"));
    match (item.get(DOC), item.get(DOCZ)) {
        (Some(AttributeValue::S(d)), _) => Ok(d.clone()),
        (None, Some(AttributeValue::B(z))) => {
            let bytes =
                miniz_oxide::inflate::decompress_to_vec_with_limit(z.as_ref(), MAX_INFLATED)
                    .map_err(|_| corrupt("cannot be inflated"))?;
            String::from_utf8(bytes).map_err(|_| corrupt("is not UTF-8"))
        }
        _ => Err(corrupt("missing")),
    }
}

/// An item's expiry; `Err` for a stored value that is not an integer.
fn expires_of(item: &HashMap<String, AttributeValue>) -> Result<Option<i64>, StoreError> {
    match item.get(EXPIRES) {
        None => Ok(None),
        Some(AttributeValue::N(v)) => v
            .parse()
            .map(Some)
            .map_err(|_| StoreError::Unavailable("stored expiry is not an integer".to_owned())),
        Some(_) => Err(StoreError::Unavailable(
            "stored expiry is not a number".to_owned(),
        )),
    }
}

fn is_live(item: &HashMap<String, AttributeValue>, now: i64) -> Result<bool, StoreError> {
    Ok(expires_of(item)?.is_none_or(|e| e > now))
}

fn string_attr(item: &HashMap<String, AttributeValue>, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(StoreError::Unavailable(format!(
            "stored item without its {name}"
        ))),
    }
}

/// The size DynamoDB counts for an item: attribute names plus values.
fn item_size(attrs: &[(&str, &AttributeValue)]) -> usize {
    attrs
        .iter()
        .map(|(name, v)| {
            name.len()
                + match v {
                    AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
                    AttributeValue::B(b) => b.as_ref().len(),
                    _ => 0,
                }
        })
        .sum()
}

/// Aliases without repeats, in their first order (one transaction may not name an item twice).
fn distinct<'a>(aliases: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for a in aliases {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// A record's item: its key, its document as stored and its expiry, or
/// [`StoreError::TooLarge`] if DynamoDB would refuse it.
fn record_item(
    kind: Kind,
    parent: &str,
    id: &str,
    doc: &str,
    expires: Option<i64>,
) -> Result<Vec<(&'static str, AttributeValue)>, StoreError> {
    let mut attrs = vec![
        (PK, AttributeValue::S(record_pk(kind, parent))),
        (SK, s(id)),
    ];
    attrs.extend(encode_doc(doc));
    if let Some(e) = expires {
        attrs.push((EXPIRES, n(e)));
    }
    let size = item_size(&attrs.iter().map(|(k, v)| (*k, v)).collect::<Vec<_>>());
    if size > MAX_ITEM_BYTES {
        return Err(too_large(size));
    }
    Ok(attrs)
}

fn item_map(attrs: Vec<(&str, AttributeValue)>) -> HashMap<String, AttributeValue> {
    attrs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

impl DynamoStore {
    /// One `PutItem` of `attrs` (a record's item) under `condition`, if any: `Ok(false)` if the
    /// condition failed, and nothing was written.
    async fn put_record(
        &self,
        op: Op,
        attrs: Vec<(&str, AttributeValue)>,
        condition: Option<(&str, Vec<(&str, AttributeValue)>)>,
    ) -> Result<bool, StoreError> {
        let item = item_map(attrs);
        let expr = condition.map(|(text, values)| (text, Expr::new(&[text], values)));
        for _ in 0..TRANSACTION_ATTEMPTS {
            self.write(op);
            let mut req = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()));
            if let Some((text, expr)) = &expr {
                req = req
                    .condition_expression(*text)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values());
            }
            let err = match req.send().await {
                Ok(_) => return Ok(true),
                Err(e) => e,
            };
            match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => return Ok(false),
                // A transaction (a create, replace or delete) holds the item this very moment:
                // nothing was written, so trying again is safe.
                Some(PutItemError::TransactionConflictException(_)) => continue,
                _ => return Err(unavailable("PutItem", &err)),
            }
        }
        Err(StoreError::Unavailable(
            "PutItem: transaction conflicts persisted".to_owned(),
        ))
    }

    fn put(
        &self,
        attrs: Vec<(&str, AttributeValue)>,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<TransactWriteItem, StoreError> {
        let expr = Expr::new(&[condition], values);
        let put = built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item_map(attrs)))
                .condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn delete_item(
        &self,
        pk: String,
        sk: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<TransactWriteItem, StoreError> {
        let expr = Expr::new(&[condition], values);
        let delete = built(
            Delete::builder()
                .table_name(&self.table)
                .key(PK, AttributeValue::S(pk))
                .key(SK, s(sk))
                .condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .build(),
        )?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Putting alias `alias` of `(kind, parent)` for `id`.
    fn claim(
        &self,
        kind: Kind,
        parent: &str,
        alias: &str,
        id: &str,
        expires: Option<i64>,
        now: i64,
    ) -> Result<Write, StoreError> {
        let mut attrs = vec![
            (PK, AttributeValue::S(alias_pk(kind, parent))),
            (SK, s(alias)),
            (OWNER, s(id)),
        ];
        if let Some(e) = expires {
            attrs.push((EXPIRES, n(e)));
        }
        Ok(Write {
            role: Role::Claim,
            item: self.put(attrs, CLAIMABLE, vec![(":now", n(now)), (":id", s(id))])?,
        })
    }

    fn release(
        &self,
        kind: Kind,
        parent: &str,
        alias: &str,
        id: &str,
    ) -> Result<Write, StoreError> {
        Ok(Write {
            role: Role::Release(alias.to_owned()),
            item: self.delete_item(
                alias_pk(kind, parent),
                alias,
                RELEASABLE,
                vec![(":id", s(id))],
            )?,
        })
    }
}

/// A document over DynamoDB's item limit (`MAX_ITEM_BYTES`) even after compression.
fn too_large(size: usize) -> StoreError {
    StoreError::TooLarge(size)
}

#[async_trait]
impl Store for DynamoStore {
    async fn create(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        aliases: &[&str],
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.call(Op::Create);
        let now = self.now_secs();
        let expires = expires.map(Timestamp::unix_secs);
        let attrs = record_item(kind, parent, id, doc, expires)?;
        let mut writes = vec![Write {
            role: Role::Record,
            item: self.put(attrs, FREE, vec![(":now", n(now))])?,
        }];
        for alias in distinct(aliases.iter().copied()) {
            writes.push(self.claim(kind, parent, alias, id, expires, now)?);
        }
        match self.transact(Op::Create, &writes).await? {
            Outcome::Done => Ok(()),
            // The id or an alias is held by a live record.
            Outcome::Failed(_) => Err(StoreError::Conflict),
        }
    }

    async fn replace(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        release: &[&str],
        claim: &[&str],
        doc: &str,
    ) -> Result<(), StoreError> {
        self.call(Op::Replace);
        let now = self.now_secs();
        let claim = distinct(claim.iter().copied());
        // An alias both released and claimed stays ours: claim it only.
        let mut release = distinct(release.iter().copied());
        release.retain(|a| !claim.contains(a));
        // Claimed aliases carry the record's expiry, so read it first (only when claiming),
        // and make the transaction check it did not change since.
        let expiry = if claim.is_empty() {
            None
        } else {
            let item = self
                .get_item(Op::Replace, record_pk(kind, parent), id)
                .await?;
            match item {
                Some(item) if is_live(&item, now)? => Some(expires_of(&item)?),
                _ => return Err(StoreError::NotFound),
            }
        };
        // The stored expiry is kept: count the largest one. Of the item, only the document's
        // attributes are written.
        let item = record_item(kind, parent, id, doc, Some(i64::MAX))?;
        let (mut set, mut remove) = (Vec::new(), Vec::new());
        let mut values = vec![(":now", n(now))];
        for (attr, name, value) in DOC_ATTRS {
            match item.iter().find(|(a, _)| *a == attr) {
                Some((_, v)) => {
                    set.push(format!("{name} = {value}"));
                    values.push((value, v.clone()));
                }
                None => remove.push(name),
            }
        }
        // Every encoding sets at least one attribute and leaves at least one out.
        let update_text = format!("SET {} REMOVE {}", set.join(", "), remove.join(", "));
        let condition = match expiry {
            None => LIVE.to_owned(),
            Some(None) => format!("({LIVE}) AND attribute_not_exists(#exp)"),
            Some(Some(_)) => format!("({LIVE}) AND #exp = :exp"),
        };
        if let Some(Some(e)) = expiry {
            values.push((":exp", n(e)));
        }
        let expr = Expr::new(&[&update_text, &condition], values);
        let update = built(
            Update::builder()
                .table_name(&self.table)
                .key(PK, AttributeValue::S(record_pk(kind, parent)))
                .key(SK, s(id))
                .update_expression(update_text)
                .condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .build(),
        )?;
        let mut writes = vec![Write {
            role: Role::Record,
            item: TransactWriteItem::builder().update(update).build(),
        }];
        for alias in &claim {
            writes.push(self.claim(kind, parent, alias, id, expiry.flatten(), now)?);
        }
        for alias in &release {
            writes.push(self.release(kind, parent, alias, id)?);
        }
        // An alias to release that another record holds is not ours to release: drop it and
        // try again (the memory store skips it too).
        for _ in 0..=release.len() {
            match self.transact(Op::Replace, &writes).await? {
                Outcome::Done => return Ok(()),
                Outcome::Failed(roles) if roles.contains(&Role::Record) => {
                    return Err(StoreError::NotFound);
                }
                Outcome::Failed(roles) if roles.contains(&Role::Claim) => {
                    return Err(StoreError::Conflict);
                }
                Outcome::Failed(roles) => writes.retain(|w| !roles.contains(&w.role)),
            }
        }
        Err(StoreError::Unavailable(
            "replace: aliases kept changing hands".to_owned(),
        ))
    }

    async fn put(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.call(Op::Put);
        let attrs = record_item(kind, parent, id, doc, expires.map(Timestamp::unix_secs))?;
        // The record item alone: its aliases are other items, untouched. Over an expired record
        // they stay expired (they carry its expiry), so they do not come back with this one.
        self.put_record(Op::Put, attrs, None).await?;
        Ok(())
    }

    async fn swap(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        expected: Option<&str>,
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        self.call(Op::Swap);
        let now = self.now_secs();
        let attrs = record_item(kind, parent, id, doc, expires.map(Timestamp::unix_secs))?;
        // TTL deletes lazily: an expired record still there counts as absent, and matches
        // nothing.
        let (condition, values) = match expected {
            None => (FREE.to_owned(), vec![(":now", n(now))]),
            Some(old) => {
                let (same, mut values) = holds_doc(old);
                values.push((":now", n(now)));
                (format!("({LIVE}) AND ({same})"), values)
            }
        };
        self.put_record(Op::Swap, attrs, Some((&condition, values)))
            .await
    }

    async fn get(&self, kind: Kind, parent: &str, id: &str) -> Result<Option<String>, StoreError> {
        self.call(Op::Get);
        let now = self.now_secs();
        match self.get_item(Op::Get, record_pk(kind, parent), id).await? {
            Some(item) if is_live(&item, now)? => decode_doc(&item).map(Some),
            _ => Ok(None),
        }
    }

    async fn resolve(
        &self,
        kind: Kind,
        parent: &str,
        alias: &str,
    ) -> Result<Option<String>, StoreError> {
        self.call(Op::Resolve);
        let now = self.now_secs();
        match self
            .get_item(Op::Resolve, alias_pk(kind, parent), alias)
            .await?
        {
            Some(item) if is_live(&item, now)? => string_attr(&item, OWNER).map(Some),
            _ => Ok(None),
        }
    }

    async fn list(
        &self,
        kind: Kind,
        parent: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        self.call(Op::List);
        let now = self.now_secs();
        let after = after.filter(|a| !a.is_empty());
        let key = if after.is_some() {
            "#pk = :pk AND #sk > :after"
        } else {
            "#pk = :pk"
        };
        let mut values = vec![
            (":pk", AttributeValue::S(record_pk(kind, parent))),
            (":now", n(now)),
        ];
        if let Some(a) = after {
            values.push((":after", s(a)));
        }
        let expr = Expr::new(&[key, UNEXPIRED], values);
        let mut out: Vec<Item> = Vec::new();
        let mut start = None;
        while out.len() < limit {
            // `Limit` counts items read before the filter: a page that comes back short because
            // of expired items (TTL deletes them lazily) is followed by the next one.
            let want = i32::try_from(limit - out.len()).unwrap_or(i32::MAX);
            self.read(Op::List);
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(key)
                .filter_expression(UNEXPIRED)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .consistent_read(true)
                .limit(want)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("Query", &e))?;
            for item in page.items() {
                out.push(Item {
                    id: string_attr(item, SK)?,
                    doc: decode_doc(item)?,
                });
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        // A page never holds more than asked; this only guards against a server that ignores
        // `Limit`.
        out.truncate(limit);
        Ok(out)
    }

    async fn delete(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        aliases: &[&str],
    ) -> Result<bool, StoreError> {
        self.call(Op::Delete);
        let now = self.now_secs();
        let mut writes = vec![Write {
            role: Role::Record,
            item: self.delete_item(record_pk(kind, parent), id, LIVE, vec![(":now", n(now))])?,
        }];
        for alias in distinct(aliases.iter().copied()) {
            writes.push(self.release(kind, parent, alias, id)?);
        }
        for _ in 0..writes.len() {
            match self.transact(Op::Delete, &writes).await? {
                Outcome::Done => return Ok(true),
                // No live record: nothing to delete. An expired one and its aliases (which
                // carry its expiry) are invisible already, and TTL removes them.
                Outcome::Failed(roles) if roles.contains(&Role::Record) => return Ok(false),
                // Aliases another record holds now are not ours to release.
                Outcome::Failed(roles) => writes.retain(|w| !roles.contains(&w.role)),
            }
        }
        Err(StoreError::Unavailable(
            "delete: aliases kept changing hands".to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn placeholders_match_whole_tokens() {
        assert!(mentions("#exp <= :now", "#exp"));
        assert!(!mentions("#expires <= :now", "#exp"));
        assert!(mentions("a OR #own = :id", ":id"));
        assert!(!mentions(":idx", ":id"));
        let e = Expr::new(&[FREE], vec![(":now", n(1)), (":id", s("x"))]);
        assert_eq!(e.names.len(), 2);
        assert_eq!(e.values.len(), 1, "unused :id dropped");
        // The document's attributes are named too.
        let (cond, _) = holds_doc(&"x".repeat(COMPRESS_ABOVE + 1));
        let e = Expr::new(&[cond], vec![]);
        assert_eq!(e.names["#sha"], DOC_SHA256);
        assert_eq!(e.names["#deflated"], DOCZ);
    }

    #[test]
    fn record_and_alias_keys_never_meet() {
        for kind in Kind::ALL {
            for parent in ["", "p", "p#x", ".alias", "x.alias#y"] {
                for other in ["", "p", "p#x", ".alias", "x.alias#y"] {
                    assert_ne!(record_pk(kind, parent), alias_pk(kind, other));
                }
            }
        }
    }

    #[test]
    fn large_documents_are_deflated_and_round_trip() {
        let small = "{\"a\":1}";
        let map = item_map(encode_doc(small));
        assert_eq!(map.keys().collect::<Vec<_>>(), [DOC]);
        assert_eq!(decode_doc(&map).unwrap(), small);
        let big = format!("{{\"data\":\"{}\"}}", "abc é ".repeat(200_000));
        let map = item_map(encode_doc(&big));
        assert!(map.contains_key(DOCZ) && !map.contains_key(DOC));
        assert!(item_size(&[(DOCZ, &map[DOCZ])]) < MAX_ITEM_BYTES);
        assert_eq!(decode_doc(&map).unwrap(), big);
    }

    #[test]
    fn a_deflated_document_carries_the_digest_of_its_text() {
        use sha2::{Digest as _, Sha256};
        let big = "x".repeat(COMPRESS_ABOVE + 1);
        let map = item_map(encode_doc(&big));
        let AttributeValue::B(sha) = &map[DOC_SHA256] else {
            panic!("{map:?}")
        };
        assert_eq!(sha.as_ref(), Sha256::digest(big.as_bytes()).as_slice());
        // The swap condition compares the same digest, and plain documents as text.
        let (cond, values) = holds_doc(&big);
        assert!(mentions(cond, "#sha"), "{cond}");
        assert_eq!(values[0], (":oldsha", map[DOC_SHA256].clone()));
        let (cond, values) = holds_doc("{}");
        assert_eq!(cond, "#plain = :old");
        assert_eq!(values, [(":old", s("{}"))]);
        // The boundary: stored plain, compared plain.
        let edge = "y".repeat(COMPRESS_ABOVE);
        assert!(item_map(encode_doc(&edge)).contains_key(DOC));
        assert_eq!(holds_doc(&edge).0, "#plain = :old");
    }

    #[test]
    fn corrupt_documents_are_errors_not_panics() {
        let bad = HashMap::from([(DOCZ.to_owned(), AttributeValue::B(Blob::new(vec![1, 2, 3])))]);
        assert!(matches!(decode_doc(&bad), Err(StoreError::Unavailable(_))));
        assert!(matches!(
            decode_doc(&HashMap::new()),
            Err(StoreError::Unavailable(_))
        ));
        let exp = HashMap::from([(EXPIRES.to_owned(), AttributeValue::N("x".into()))]);
        assert!(is_live(&exp, 0).is_err());
    }
}
