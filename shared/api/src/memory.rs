//! A [`Store`] in memory: for unit tests of the service, and the reference the conformance suite
//! is first checked against. Not for production (nothing survives the process).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use hookline_core::time::Timestamp;

use crate::store::{Item, Kind, Store, StoreError};

type Space = (Kind, String);

#[derive(Default)]
struct Inner {
    records: HashMap<Space, BTreeMap<String, (String, Option<Timestamp>)>>,
    aliases: HashMap<Space, HashMap<String, String>>,
}

/// The in-memory store. `now` decides expiry.
pub struct MemoryStore {
    inner: Mutex<Inner>,
    now: fn() -> Timestamp,
}

impl MemoryStore {
    /// An empty store reading the time from `now`.
    pub fn new(now: fn() -> Timestamp) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            now,
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::Unavailable("poisoned".to_owned()))
    }
}

fn live(exp: Option<Timestamp>, now: Timestamp) -> bool {
    exp.is_none_or(|e| e > now)
}

impl Inner {
    fn live_id(&self, space: &Space, id: &str, now: Timestamp) -> bool {
        self.records
            .get(space)
            .and_then(|m| m.get(id))
            .is_some_and(|(_, e)| live(*e, now))
    }

    fn forget_aliases_of(&mut self, space: &Space, id: &str) {
        if let Some(names) = self.aliases.get_mut(space) {
            names.retain(|_, owner| owner != id);
        }
    }

    fn alias_owner(&self, space: &Space, alias: &str, now: Timestamp) -> Option<String> {
        let id = self.aliases.get(space)?.get(alias)?;
        self.live_id(space, id, now).then(|| id.clone())
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn create(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        aliases: &[&str],
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let now = (self.now)();
        let mut g = self.lock()?;
        let space = (kind, parent.to_owned());
        if g.live_id(&space, id, now)
            || aliases
                .iter()
                .any(|a| g.alias_owner(&space, a, now).is_some())
        {
            return Err(StoreError::Conflict);
        }
        g.records
            .entry(space.clone())
            .or_default()
            .insert(id.to_owned(), (doc.to_owned(), expires));
        let names = g.aliases.entry(space).or_default();
        for a in aliases {
            names.insert((*a).to_owned(), id.to_owned());
        }
        Ok(())
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
        let now = (self.now)();
        let mut g = self.lock()?;
        let space = (kind, parent.to_owned());
        if !g.live_id(&space, id, now) {
            return Err(StoreError::NotFound);
        }
        if claim.iter().any(|a| {
            g.alias_owner(&space, a, now)
                .is_some_and(|owner| owner != id)
        }) {
            return Err(StoreError::Conflict);
        }
        if let Some(rec) = g.records.get_mut(&space).and_then(|m| m.get_mut(id)) {
            rec.0 = doc.to_owned();
        }
        let names = g.aliases.entry(space).or_default();
        for a in release {
            if names.get(*a).is_some_and(|owner| owner == id) {
                names.remove(*a);
            }
        }
        for a in claim {
            names.insert((*a).to_owned(), id.to_owned());
        }
        Ok(())
    }

    async fn put(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let now = (self.now)();
        let mut g = self.lock()?;
        let space = (kind, parent.to_owned());
        if !g.live_id(&space, id, now) {
            // An expired record is absent: its aliases must not come back with the new one.
            g.forget_aliases_of(&space, id);
        }
        g.records
            .entry(space)
            .or_default()
            .insert(id.to_owned(), (doc.to_owned(), expires));
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
        let now = (self.now)();
        let mut g = self.lock()?;
        let space = (kind, parent.to_owned());
        let current = g
            .records
            .get(&space)
            .and_then(|m| m.get(id))
            .filter(|(_, e)| live(*e, now))
            .map(|(d, _)| d.as_str());
        if current != expected {
            return Ok(false);
        }
        if expected.is_none() {
            // An expired record's aliases go with it.
            g.forget_aliases_of(&space, id);
        }
        g.records
            .entry(space)
            .or_default()
            .insert(id.to_owned(), (doc.to_owned(), expires));
        Ok(true)
    }

    async fn get(&self, kind: Kind, parent: &str, id: &str) -> Result<Option<String>, StoreError> {
        let now = (self.now)();
        let g = self.lock()?;
        Ok(g.records
            .get(&(kind, parent.to_owned()))
            .and_then(|m| m.get(id))
            .filter(|(_, e)| live(*e, now))
            .map(|(d, _)| d.clone()))
    }

    async fn resolve(
        &self,
        kind: Kind,
        parent: &str,
        alias: &str,
    ) -> Result<Option<String>, StoreError> {
        let now = (self.now)();
        let g = self.lock()?;
        Ok(g.alias_owner(&(kind, parent.to_owned()), alias, now))
    }

    async fn list(
        &self,
        kind: Kind,
        parent: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let now = (self.now)();
        let g = self.lock()?;
        let Some(m) = g.records.get(&(kind, parent.to_owned())) else {
            return Ok(Vec::new());
        };
        Ok(m.iter()
            .filter(|(id, _)| after.is_none_or(|a| id.as_str() > a))
            .filter(|(_, (_, e))| live(*e, now))
            .take(limit)
            .map(|(id, (doc, _))| Item {
                id: id.clone(),
                doc: doc.clone(),
            })
            .collect())
    }

    async fn delete(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        aliases: &[&str],
    ) -> Result<bool, StoreError> {
        let now = (self.now)();
        let mut g = self.lock()?;
        let space = (kind, parent.to_owned());
        let existed = g.live_id(&space, id, now);
        if let Some(m) = g.records.get_mut(&space) {
            m.remove(id);
        }
        let _ = aliases;
        // Every alias of the record goes, not only those named: a later record of the same id
        // must not inherit one.
        g.forget_aliases_of(&space, id);
        Ok(existed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::from_unix_secs(2_000_000_000)
    }

    #[tokio::test]
    async fn passes_the_conformance_suite() {
        crate::conformance::run(&MemoryStore::new(now), "mem").await;
    }
}
