//! Typed access to the store: the lookups the API and the sender share (an application by id or
//! `uid`, an application's endpoints, a message by id or `eventId`) and attempt records.

use std::sync::Arc;

use hookline_core::api::model::{Application, Attempt, Endpoint, EventType, Message};
use hookline_core::time::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::{Kind, Store, StoreError};

/// The most records one store call lists; longer lists are read page by page.
pub const PAGE: usize = 250;

/// A store record that cannot be read back: an adapter bug or a hand-edited database. Reported
/// as the store being unavailable (never as "not found", which would let a write create a
/// second record).
fn corrupt(kind: Kind, id: &str, e: &serde_json::Error) -> StoreError {
    StoreError::Unavailable(format!("stored {} {id} is unreadable: {e}", kind.as_str()))
}

/// Decodes a stored document.
pub fn decode<T: DeserializeOwned>(kind: Kind, id: &str, doc: &str) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|e| corrupt(kind, id, &e))
}

/// Encodes a record for the store.
pub fn encode<T: Serialize>(record: &T) -> String {
    // Records are plain structs of strings, numbers, maps and raw JSON: serialising them cannot
    // fail, and an empty document would be refused on read rather than silently accepted.
    serde_json::to_string(record).unwrap_or_default()
}

/// The alias a message's `eventId` claims.
pub fn event_id_alias(event_id: &str) -> String {
    format!("e:{event_id}")
}

/// The alias a `uid` claims.
pub fn uid_alias(uid: &str) -> String {
    format!("u:{uid}")
}

/// Typed reads and writes over a [`Store`].
#[derive(Clone)]
pub struct Registry {
    store: Arc<dyn Store>,
}

impl Registry {
    /// Over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The store itself.
    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    async fn get_by_id_or_alias<T: DeserializeOwned>(
        &self,
        kind: Kind,
        parent: &str,
        key: &str,
        alias: String,
    ) -> Result<Option<T>, StoreError> {
        if let Some(doc) = self.store.get(kind, parent, key).await? {
            return decode(kind, key, &doc).map(Some);
        }
        match self.store.resolve(kind, parent, &alias).await? {
            Some(id) => match self.store.get(kind, parent, &id).await? {
                Some(doc) => decode(kind, &id, &doc).map(Some),
                None => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// An application by its id or `uid`.
    pub async fn app(&self, id_or_uid: &str) -> Result<Option<Application>, StoreError> {
        self.get_by_id_or_alias(Kind::Application, "", id_or_uid, uid_alias(id_or_uid))
            .await
    }

    /// An event type by name.
    pub async fn event_type(&self, name: &str) -> Result<Option<EventType>, StoreError> {
        match self.store.get(Kind::EventType, "", name).await? {
            Some(doc) => decode(Kind::EventType, name, &doc).map(Some),
            None => Ok(None),
        }
    }

    /// An endpoint of `app_id` by its id or `uid`.
    pub async fn endpoint(
        &self,
        app_id: &str,
        id_or_uid: &str,
    ) -> Result<Option<Endpoint>, StoreError> {
        self.get_by_id_or_alias(Kind::Endpoint, app_id, id_or_uid, uid_alias(id_or_uid))
            .await
    }

    /// Every endpoint of `app_id`, in creation order.
    pub async fn endpoints(&self, app_id: &str) -> Result<Vec<Endpoint>, StoreError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store
                .list(Kind::Endpoint, app_id, after.as_deref(), PAGE)
                .await?;
            let full = page.len() == PAGE;
            for item in page {
                out.push(decode(Kind::Endpoint, &item.id, &item.doc)?);
                after = Some(item.id);
            }
            if !full {
                return Ok(out);
            }
        }
    }

    /// A message of `app_id` by its id or `eventId`.
    pub async fn message(
        &self,
        app_id: &str,
        id_or_event_id: &str,
    ) -> Result<Option<Message>, StoreError> {
        self.get_by_id_or_alias(
            Kind::Message,
            app_id,
            id_or_event_id,
            event_id_alias(id_or_event_id),
        )
        .await
    }

    /// Records one delivery attempt, under its message and under its endpoint, both expiring
    /// at `expires`. The two writes are independent and made at once (one round trip of
    /// latency, not two); both are always tried, and the first error is returned.
    ///
    /// Plain writes (`Store::put`: on DynamoDB a `PutItem`, billed half a transaction's): an
    /// attempt's id is the same for every try of the same write (the sender derives it from the
    /// delivery, the try and its time), so a write repeated after a timeout writes the same
    /// document again, and no record is ever written twice under two ids.
    pub async fn record_attempt(
        &self,
        attempt: &Attempt,
        expires: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let doc = encode(attempt);
        let by_msg = format!("{}/{}", attempt.app_id, attempt.msg_id);
        let by_ep = format!("{}/{}", attempt.app_id, attempt.endpoint_id);
        let (msg, ep) = futures_util::future::join(
            self.store
                .put(Kind::AttemptByMessage, &by_msg, &attempt.id, &doc, expires),
            self.store
                .put(Kind::AttemptByEndpoint, &by_ep, &attempt.id, &doc, expires),
        )
        .await;
        msg.and(ep)
    }
}
