//! The storage interface: what the API and the sender need from a database, and nothing more.
//!
//! Records are JSON documents kept by `(kind, parent, id)`: `parent` is the application's id for
//! what belongs to one (endpoints, messages, attempts), empty for applications and event types.
//! A record may claim **aliases**, unique names in its `(kind, parent)` (an application's `uid`,
//! a message's `eventId`) that [`Store::resolve`] maps back to its id; claiming an alias that is
//! taken fails the whole write. Lists run in id order, which for minted ids is creation order.
//!
//! Two adapters implement it: SQLite in `hookline dev` (the file it already keeps) and DynamoDB
//! on AWS (`hookline-dynamodb`). Both pass [`crate::conformance`].

use async_trait::async_trait;
use hookline_core::time::Timestamp;

/// What a record is. Its [`Kind::as_str`] is part of the stored key: never change one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// [`hookline_core::api::model::Application`], parent `""`.
    Application,
    /// [`hookline_core::api::model::EventType`], parent `""`, id = its name.
    EventType,
    /// [`hookline_core::api::model::Endpoint`], parent = application id.
    Endpoint,
    /// [`hookline_core::api::model::Message`], parent = application id.
    Message,
    /// [`hookline_core::api::model::Attempt`] under its message: parent = `{app}/{msg}`.
    AttemptByMessage,
    /// The same attempt under its endpoint: parent = `{app}/{endpoint}`.
    AttemptByEndpoint,
    /// A stored answer to a request with an `idempotency-key`, parent = the token's scope.
    Idempotency,
    /// [`hookline_core::api::history::Destination`]: a message's status at an endpoint,
    /// parent = `{app}/{endpoint}`, id = the message's id.
    Destination,
    /// [`hookline_core::api::history::Health`]: an endpoint's run of failures, parent = the
    /// application's id, id = the endpoint's id.
    Health,
    /// [`hookline_core::api::portal::Grant`]: what a portal token may do, parent `""`, id = the
    /// token's SHA-256 ([`hookline_core::api::portal::digest`]); it expires with the token.
    PortalToken,
}

impl Kind {
    /// Every kind, for adapters that set up one table or index per kind.
    pub const ALL: [Kind; 10] = [
        Kind::Application,
        Kind::EventType,
        Kind::Endpoint,
        Kind::Message,
        Kind::AttemptByMessage,
        Kind::AttemptByEndpoint,
        Kind::Idempotency,
        Kind::Destination,
        Kind::Health,
        Kind::PortalToken,
    ];

    /// The kind's stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Application => "app",
            Kind::EventType => "etype",
            Kind::Endpoint => "ep",
            Kind::Message => "msg",
            Kind::AttemptByMessage => "atmsg",
            Kind::AttemptByEndpoint => "atep",
            Kind::Idempotency => "idem",
            Kind::Destination => "dest",
            Kind::Health => "health",
            Kind::PortalToken => "portal",
        }
    }
}

/// One stored record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Its id.
    pub id: String,
    /// Its JSON document.
    pub doc: String,
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The id, or one of the aliases, is already taken: nothing was written.
    #[error("already exists")]
    Conflict,
    /// The record to replace does not exist: nothing was written.
    #[error("not found")]
    NotFound,
    /// The document is larger than this store holds (DynamoDB's 400 KB item, after
    /// compression): nothing was written.
    #[error("document too large: {0} bytes")]
    TooLarge(usize),
    /// The database failed or did not answer; the write may or may not have happened.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Where the API's records live. Every method is one atomic step: a write that fails leaves
/// nothing half done (DynamoDB: one transaction; SQLite: one transaction).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates record `id`, claiming `aliases`; [`StoreError::Conflict`] if the id or any alias
    /// is taken. `expires`: the record (and its aliases) may disappear after then, and is never
    /// returned after then.
    async fn create(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        aliases: &[&str],
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<(), StoreError>;

    /// Replaces the document of the existing record `id`, releasing `release` and claiming
    /// `claim` in the same step. [`StoreError::NotFound`] if there is no such record,
    /// [`StoreError::Conflict`] if an alias in `claim` is another record's.
    async fn replace(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        release: &[&str],
        claim: &[&str],
        doc: &str,
    ) -> Result<(), StoreError>;

    /// Writes record `id` whether or not it exists (its aliases, if any, are kept), expiring at
    /// `expires`. For records one writer owns at a time, such as a message's status at an
    /// endpoint while its delivery is under way.
    async fn put(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<(), StoreError>;

    /// Writes `doc` as record `id` only if its document is still `expected`, in one conditional
    /// step: with `expected` `None`, only if there is no such record (it is created without
    /// aliases); otherwise only if it exists with exactly that document (its aliases are kept).
    /// `Ok(false)`, with nothing written, when the condition does not hold: read again, decide
    /// again, and swap again. This is how counters shared by concurrent senders change.
    async fn swap(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        expected: Option<&str>,
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<bool, StoreError>;

    /// The document of record `id`.
    async fn get(&self, kind: Kind, parent: &str, id: &str) -> Result<Option<String>, StoreError>;

    /// The id of the record that claimed `alias`.
    async fn resolve(
        &self,
        kind: Kind,
        parent: &str,
        alias: &str,
    ) -> Result<Option<String>, StoreError>;

    /// Up to `limit` records of `(kind, parent)` whose id sorts after `after`, in id order.
    async fn list(
        &self,
        kind: Kind,
        parent: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError>;

    /// Deletes record `id` and releases `aliases`; `false` if there was no such record.
    async fn delete(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        aliases: &[&str],
    ) -> Result<bool, StoreError>;
}
