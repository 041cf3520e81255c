//! Typed access to the delivery history and endpoint health: a message's status at each
//! endpoint, an endpoint's run of failures (changed only by conditional writes, so concurrent
//! senders never lose a count) and disabling an endpoint exactly once.

use hookline_core::api::history::{
    CONFIG_APP, Destination, Health, HealthPolicy, Observed, Verdict, observe,
};
use hookline_core::api::model::Endpoint;
use hookline_core::time::Timestamp;

use crate::registry::{Registry, decode, encode};
use crate::store::{Kind, StoreError};

/// How many times a conditional write is tried again after losing a race before giving up (as
/// the store being unavailable: the caller counts and logs it).
const SWAP_TRIES: usize = 16;

/// The parent of an endpoint's message statuses.
pub fn destination_parent(app_id: &str, endpoint_id: &str) -> String {
    format!("{app_id}/{endpoint_id}")
}

impl Registry {
    /// Writes a message's status at an endpoint, expiring at `expires`.
    pub async fn put_destination(
        &self,
        d: &Destination,
        expires: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.store()
            .put(
                Kind::Destination,
                &destination_parent(&d.app_id, &d.endpoint_id),
                &d.msg_id,
                &encode(d),
                expires,
            )
            .await
    }

    /// A message's status at an endpoint, if it has one.
    pub async fn destination(
        &self,
        app_id: &str,
        endpoint_id: &str,
        msg_id: &str,
    ) -> Result<Option<Destination>, StoreError> {
        let parent = destination_parent(app_id, endpoint_id);
        match self.store().get(Kind::Destination, &parent, msg_id).await? {
            Some(doc) => decode(Kind::Destination, msg_id, &doc).map(Some),
            None => Ok(None),
        }
    }

    /// Up to `limit` message statuses of an endpoint after message id `after`, oldest first.
    pub async fn destinations(
        &self,
        app_id: &str,
        endpoint_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Destination>, StoreError> {
        let parent = destination_parent(app_id, endpoint_id);
        let items = self
            .store()
            .list(Kind::Destination, &parent, after, limit)
            .await?;
        items
            .iter()
            .map(|i| decode(Kind::Destination, &i.id, &i.doc))
            .collect()
    }

    /// An endpoint's run of failures (none: healthy).
    pub async fn health(&self, app_id: &str, endpoint_id: &str) -> Result<Health, StoreError> {
        match self.store().get(Kind::Health, app_id, endpoint_id).await? {
            Some(doc) => decode(Kind::Health, endpoint_id, &doc),
            None => Ok(Health::default()),
        }
    }

    /// Counts an attempt at an endpoint into its health, by conditional write, and says whether
    /// the policy now disables it. A success on a healthy endpoint is one read and no write.
    pub async fn observe_health(
        &self,
        app_id: &str,
        endpoint_id: &str,
        seen: Observed,
        now: Timestamp,
        policy: &HealthPolicy,
    ) -> Result<Verdict, StoreError> {
        for _ in 0..SWAP_TRIES {
            let doc = self.store().get(Kind::Health, app_id, endpoint_id).await?;
            let health: Health = match &doc {
                Some(d) => decode(Kind::Health, endpoint_id, d)?,
                None => Health::default(),
            };
            let (next, verdict) = observe(&health, seen, now, policy);
            let Some(next) = next else {
                return Ok(verdict);
            };
            if self
                .store()
                .swap(
                    Kind::Health,
                    app_id,
                    endpoint_id,
                    doc.as_deref(),
                    &encode(&next),
                    None,
                )
                .await?
            {
                return Ok(verdict);
            }
        }
        Err(StoreError::Unavailable(format!(
            "health of {app_id}/{endpoint_id}: {SWAP_TRIES} conditional writes lost to others"
        )))
    }

    /// Forgets an endpoint's run of failures (it was enabled again, or deleted).
    pub async fn reset_health(&self, app_id: &str, endpoint_id: &str) -> Result<(), StoreError> {
        self.store()
            .delete(Kind::Health, app_id, endpoint_id, &[])
            .await
            .map(|_| ())
    }

    /// Disables endpoint `name` of the configuration by conditional write on its health record
    /// (under [`CONFIG_APP`]; the configuration itself is a file every sender read at its cold
    /// start). True only for the one call that disabled it, so `endpoint.disabled` goes out once
    /// however many senders see it fail. [`Registry::reset_health`] enables it again.
    pub async fn disable_configured(&self, name: &str, now: Timestamp) -> Result<bool, StoreError> {
        for _ in 0..SWAP_TRIES {
            let doc = self.store().get(Kind::Health, CONFIG_APP, name).await?;
            let mut health: Health = match &doc {
                Some(d) => decode(Kind::Health, name, d)?,
                None => Health::default(),
            };
            if health.disabled {
                return Ok(false);
            }
            health.disabled = true;
            // Kept for the operator: when the failures that disabled it began.
            health.failing_since_ms = Some(health.failing_since_ms.unwrap_or(now.unix_millis()));
            if self
                .store()
                .swap(
                    Kind::Health,
                    CONFIG_APP,
                    name,
                    doc.as_deref(),
                    &encode(&health),
                    None,
                )
                .await?
            {
                return Ok(true);
            }
        }
        Err(StoreError::Unavailable(format!(
            "health of {CONFIG_APP}/{name}: {SWAP_TRIES} conditional writes lost to others"
        )))
    }

    /// Disables a registered endpoint by conditional write. `Some(endpoint)` (as disabled) only
    /// for the one call that disabled it: `None` if it is gone or was disabled already, so the
    /// `endpoint.disabled` webhook goes out once however many senders see it fail.
    pub async fn disable_endpoint(
        &self,
        app_id: &str,
        endpoint_id: &str,
        now: Timestamp,
    ) -> Result<Option<Endpoint>, StoreError> {
        for _ in 0..SWAP_TRIES {
            let Some(doc) = self
                .store()
                .get(Kind::Endpoint, app_id, endpoint_id)
                .await?
            else {
                return Ok(None);
            };
            let mut ep: Endpoint = decode(Kind::Endpoint, endpoint_id, &doc)?;
            if ep.disabled {
                return Ok(None);
            }
            ep.disabled = true;
            ep.updated_at = now.to_rfc3339();
            if self
                .store()
                .swap(
                    Kind::Endpoint,
                    app_id,
                    endpoint_id,
                    Some(&doc),
                    &encode(&ep),
                    None,
                )
                .await?
            {
                return Ok(Some(ep));
            }
        }
        Err(StoreError::Unavailable(format!(
            "endpoint {app_id}/{endpoint_id}: {SWAP_TRIES} conditional writes lost to others"
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use hookline_core::api::history::{DisableReason, Health, HealthPolicy, Observed, Verdict};

    use super::*;
    use crate::memory::MemoryStore;

    fn now() -> Timestamp {
        Timestamp::from_unix_secs(2_000_000_000)
    }

    #[tokio::test]
    async fn concurrent_failures_are_all_counted() {
        let reg = Registry::new(Arc::new(MemoryStore::new(now)));
        let policy = HealthPolicy {
            failures: 1000,
            failing_for: Duration::from_secs(3600),
            ..HealthPolicy::DEFAULT
        };
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let reg = reg.clone();
            tasks.push(tokio::spawn(async move {
                reg.observe_health("app_1", "ep_1", Observed::Failure, now(), &policy)
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), Verdict::Keep);
        }
        let h = reg.health("app_1", "ep_1").await.unwrap();
        assert_eq!(
            h,
            Health {
                failures: 50,
                failing_since_ms: Some(now().unix_millis()),
                disabled: false,
            }
        );
        // A 410 disables at once; a success afterwards clears the run.
        let v = reg
            .observe_health("app_1", "ep_1", Observed::Gone, now(), &policy)
            .await
            .unwrap();
        assert!(matches!(
            v,
            Verdict::Disable {
                reason: DisableReason::Gone,
                ..
            }
        ));
        reg.observe_health("app_1", "ep_1", Observed::Success, now(), &policy)
            .await
            .unwrap();
        assert_eq!(
            reg.health("app_1", "ep_1").await.unwrap(),
            Health::default()
        );
    }

    #[tokio::test]
    async fn a_configured_endpoint_is_disabled_once_and_enabled_by_reset() {
        let reg = Registry::new(Arc::new(MemoryStore::new(now)));
        let policy = HealthPolicy::DEFAULT;
        reg.observe_health(CONFIG_APP, "orders", Observed::Failure, now(), &policy)
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let reg = reg.clone();
            tasks.push(tokio::spawn(async move {
                reg.disable_configured("orders", now()).await
            }));
        }
        let mut flipped = 0;
        for t in tasks {
            flipped += usize::from(t.await.unwrap().unwrap());
        }
        assert_eq!(flipped, 1, "exactly one call disables it");
        let h = reg.health(CONFIG_APP, "orders").await.unwrap();
        assert!(h.disabled);
        assert_eq!(h.failures, 1, "the run is kept");
        // An attempt under way when it was disabled changes nothing.
        let v = reg
            .observe_health(CONFIG_APP, "orders", Observed::Success, now(), &policy)
            .await
            .unwrap();
        assert_eq!(v, Verdict::Disabled);
        assert!(reg.health(CONFIG_APP, "orders").await.unwrap().disabled);
        reg.reset_health(CONFIG_APP, "orders").await.unwrap();
        assert_eq!(
            reg.health(CONFIG_APP, "orders").await.unwrap(),
            Health::default()
        );
        assert!(reg.disable_configured("orders", now()).await.unwrap());
    }
}
