//! Endpoints registered through the API: an application's endpoints read from the store, turned
//! into ready [`Endpoint`]s, and cached per warm Lambda (or per `hookline dev` process) for at
//! most the configured staleness (`api.registry_cache`, 30 s by default).
//!
//! Within that window a change made through the API (a new endpoint, a rotated secret, a
//! disabled endpoint) may not be seen yet; after it, the next message reads the store again.
//! Attempts are written through here too: history never decides delivery, so a failed write is
//! logged and counted by the caller, and the delivery's outcome stands.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hookline_api::{Registry, Store, StoreError};
use hookline_core::api::history::{
    CONFIG_APP, Destination, Health, HealthPolicy, OPERATIONAL_APP, Observed, Verdict,
};
use hookline_core::api::model::{self, Attempt};
use hookline_core::config::{DeliveryConfig, EndpointConfig};
use hookline_core::pattern::EventPattern;
use hookline_core::render::Format;
use hookline_core::secret::Secret;
use hookline_core::time::Timestamp;
use hookline_core::verify::{SchemeKind, Signer};

use crate::settings::Endpoint;

/// The most applications kept in the cache; past it the cache starts over (a Lambda serving
/// that many applications reads the store more often, and its memory stays bounded).
const MAX_CACHED_APPS: usize = 10_000;

/// The most endpoints whose clean health is remembered; past it the marks start over (those
/// endpoints' next successes read their health again).
const MAX_CLEAN_ENDPOINTS: usize = 10_000;

/// An application's endpoints, ready to deliver to.
#[derive(Debug)]
pub struct AppEndpoints {
    /// The application's id (messages may name it by `uid`).
    pub app_id: String,
    /// The application's `uid`, for the operational webhooks' `appUid`.
    pub app_uid: Option<String>,
    /// By endpoint id: the record and the endpoint built from it.
    pub endpoints: BTreeMap<String, (model::Endpoint, Endpoint)>,
}

impl AppEndpoints {
    /// An endpoint by id or `uid`.
    pub fn find(&self, id_or_uid: &str) -> Option<&(model::Endpoint, Endpoint)> {
        self.endpoints.get(id_or_uid).or_else(|| {
            self.endpoints
                .values()
                .find(|(m, _)| m.uid.as_deref() == Some(id_or_uid))
        })
    }
}

struct Cached {
    read_at: Timestamp,
    value: Option<Arc<AppEndpoints>>,
}

/// What this sender last found an endpoint's health to be (see [`RegistryCache::health_mark`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mark {
    /// Not disabled, with a run of failures: a configured endpoint may be delivered to, but a
    /// success must still read the health, to clear the run.
    Enabled,
    /// No run of failures (so not disabled either).
    Clean,
}

/// Reads of the store in flight, by key, so that concurrent misses for the same key share one
/// read instead of each making its own (a cold sender's first batch is ten records for the same
/// application, or the same endpoint, at once).
///
/// The first caller for a key leads: it makes the read and leaves its result in the flight; the
/// others wait on the flight's lock, which the leader holds until then, and take a copy. A
/// leader dropped before its read ends (its delivery cancelled) leaves no result: a caller that
/// was waiting then reads for itself, and the flight is gone for the next ones.
struct Flights<V> {
    inflight: Mutex<HashMap<String, Arc<Flight<V>>>>,
}

/// One read in flight: its result, once the leader has it.
type Flight<V> = futures_util::lock::Mutex<Option<V>>;

/// A flight joined ([`Flights::join`]), with its guard when the caller leads it.
type Joined<V> = (
    Arc<Flight<V>>,
    Option<futures_util::lock::OwnedMutexGuard<Option<V>>>,
);

impl<V: Clone> Flights<V> {
    fn new() -> Self {
        Self {
            inflight: Mutex::new(HashMap::new()),
        }
    }

    /// `read()`'s result, or the result of the read for `key` already in flight.
    async fn share<F: Future<Output = V>>(&self, key: &str, read: impl FnOnce() -> F) -> V {
        match self.join(key) {
            None => read().await,
            Some((flight, Some(guard))) => {
                let mut lead = Lead {
                    flights: self,
                    key,
                    flight: &flight,
                    guard,
                };
                let value = read().await;
                *lead.guard = Some(value.clone());
                value
            }
            Some((flight, None)) => {
                let shared = flight.lock().await.clone();
                match shared {
                    Some(value) => value,
                    None => read().await,
                }
            }
        }
    }

    /// The flight for `key`: one in the air (no guard: wait for its result), or a new one that
    /// the caller leads (its guard, held until the result is in). `None`: read alone (a poisoned
    /// lock, which only means a caller panicked while holding it).
    fn join(&self, key: &str) -> Option<Joined<V>> {
        let mut inflight = self.inflight.lock().ok()?;
        if let Some(flight) = inflight.get(key) {
            return Some((Arc::clone(flight), None));
        }
        let flight = Arc::new(futures_util::lock::Mutex::new(None));
        // A new lock is free, so this always succeeds.
        let guard = flight.try_lock_owned()?;
        inflight.insert(key.to_owned(), Arc::clone(&flight));
        Some((flight, Some(guard)))
    }
}

/// The leader of a flight: when it ends (its read done, or dropped halfway) the flight leaves
/// the map before its lock is released, so no caller joins a flight whose result is set.
struct Lead<'a, V> {
    flights: &'a Flights<V>,
    key: &'a str,
    flight: &'a Arc<Flight<V>>,
    guard: futures_util::lock::OwnedMutexGuard<Option<V>>,
}

impl<V> Drop for Lead<'_, V> {
    fn drop(&mut self) {
        if let Ok(mut inflight) = self.flights.inflight.lock()
            && inflight
                .get(self.key)
                .is_some_and(|f| Arc::ptr_eq(f, self.flight))
        {
            inflight.remove(self.key);
        }
    }
}

/// A copy of a store error, for each caller that shared the read it came from.
fn copy_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Conflict => StoreError::Conflict,
        StoreError::NotFound => StoreError::NotFound,
        StoreError::TooLarge(n) => StoreError::TooLarge(*n),
        StoreError::Unavailable(why) => StoreError::Unavailable(why.clone()),
    }
}

/// A store read's result that concurrent callers share ([`Flights`]).
struct Shared<T>(Result<T, StoreError>);

impl<T: Clone> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self(match &self.0 {
            Ok(v) => Ok(v.clone()),
            Err(e) => Err(copy_error(e)),
        })
    }
}

/// The marks by application id, then endpoint id: looked up by `&str` at every delivery with no
/// key built, and counted as a whole against [`MAX_CLEAN_ENDPOINTS`].
#[derive(Default)]
struct Marks {
    by_app: HashMap<String, HashMap<String, (Timestamp, Mark)>>,
    len: usize,
}

/// The registry as the sender sees it.
pub struct RegistryCache {
    registry: Registry,
    ttl: Duration,
    retention: Duration,
    delivery: DeliveryConfig,
    cache: Mutex<HashMap<String, Cached>>,
    /// By (application id, endpoint id): when this sender last found the endpoint's health
    /// clean (no run of failures) or at least not disabled, by reading it or by writing it (see
    /// [`RegistryCache::observe_health`] and [`RegistryCache::configured_disabled`]).
    clean: Mutex<Marks>,
    reads: AtomicU64,
    /// Applications being read, by id or `uid` as messages name them.
    app_reads: Flights<Shared<Option<Arc<AppEndpoints>>>>,
    /// Configured endpoints whose health is being read, by name.
    health_reads: Flights<Shared<bool>>,
}

impl std::fmt::Debug for RegistryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryCache")
            .field("ttl", &self.ttl)
            .field("reads", &self.reads.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl RegistryCache {
    /// Over `store`; entries live at most `ttl`; attempts are kept for `retention`; endpoints
    /// get the timeout and retry policy of `delivery` (the configuration's `[delivery]`).
    pub fn new(
        store: Arc<dyn Store>,
        ttl: Duration,
        retention: Duration,
        delivery: DeliveryConfig,
    ) -> Self {
        Self {
            registry: Registry::new(store),
            ttl,
            retention,
            delivery,
            cache: Mutex::new(HashMap::new()),
            clean: Mutex::new(Marks::default()),
            reads: AtomicU64::new(0),
            app_reads: Flights::new(),
            health_reads: Flights::new(),
        }
    }

    /// How many store reads the cache has made (for the benchmark of reads per message).
    pub fn store_reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// The application `app` (id or `uid`) and its endpoints, from the cache when it was read
    /// less than the staleness bound ago; `None` if there is no such application. Concurrent
    /// misses for the same `app` share one read.
    pub async fn app(
        &self,
        app: &str,
        now: Timestamp,
    ) -> Result<Option<Arc<AppEndpoints>>, StoreError> {
        if let Some(value) = self.cached(app, now) {
            return Ok(value);
        }
        self.app_reads
            .share(app, || async {
                Shared(self.read_and_cache(app, now).await)
            })
            .await
            .0
    }

    /// The cached application `app`, when it was read less than the staleness bound ago.
    fn cached(&self, app: &str, now: Timestamp) -> Option<Option<Arc<AppEndpoints>>> {
        let cache = self.cache.lock().ok()?;
        let c = cache.get(app)?;
        now.checked_duration_since(c.read_at)
            .is_some_and(|age| age < self.ttl)
            .then(|| c.value.clone())
    }

    /// Reads application `app` and caches it when it exists.
    async fn read_and_cache(
        &self,
        app: &str,
        now: Timestamp,
    ) -> Result<Option<Arc<AppEndpoints>>, StoreError> {
        let value = self.read(app, now).await?;
        // Only what exists is cached: an application created a moment ago must not stay
        // "unknown" (and its messages dead-lettered) for the staleness window.
        if value.is_some()
            && let Ok(mut cache) = self.cache.lock()
        {
            if cache.len() >= MAX_CACHED_APPS {
                cache.clear();
            }
            cache.insert(
                app.to_owned(),
                Cached {
                    read_at: now,
                    value: value.clone(),
                },
            );
        }
        Ok(value)
    }

    /// Drops every cached entry of application `app_id` (under its id and its `uid`), so the
    /// next message reads its endpoints again: after this sender disabled one of them.
    pub fn forget(&self, app_id: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|_, c| c.value.as_ref().is_none_or(|v| v.app_id != app_id));
        }
    }

    async fn read(
        &self,
        app: &str,
        now: Timestamp,
    ) -> Result<Option<Arc<AppEndpoints>>, StoreError> {
        // The operational-webhook endpoints have a parent but no application record: they are
        // listed directly, and always "exist" (with no endpoints until one is registered).
        let (app_id, app_uid) = if app == OPERATIONAL_APP {
            (OPERATIONAL_APP.to_owned(), None)
        } else {
            self.reads.fetch_add(1, Ordering::Relaxed);
            let Some(record) = self.registry.app(app).await? else {
                return Ok(None);
            };
            (record.id, record.uid)
        };
        self.reads.fetch_add(1, Ordering::Relaxed);
        let mut endpoints = BTreeMap::new();
        for m in self.registry.endpoints(&app_id).await? {
            match self.build(&m, now) {
                Some(e) => {
                    endpoints.insert(m.id.clone(), (m, e));
                }
                // A record the API would not have written (a hand-edited store): the endpoint
                // is left out of this read, so its deliveries dead-letter as unknown rather than
                // go out unsigned or unfiltered.
                None => continue,
            }
        }
        Ok(Some(Arc::new(AppEndpoints {
            app_id,
            app_uid,
            endpoints,
        })))
    }

    /// The endpoint a registry record describes: the payload sent as it is (`Format::Raw`; the
    /// operational endpoints excepted), signed (Standard Webhooks) with the current secret and
    /// any still in their grace period.
    fn build(&self, m: &model::Endpoint, now: Timestamp) -> Option<Endpoint> {
        let secrets: Vec<Secret> = m
            .signing_secrets(now)
            .filter_map(|s| Secret::new(s.as_bytes().to_vec()).ok())
            .collect();
        let signer = Signer::new(SchemeKind::StandardWebhooks, secrets).ok()?;
        let patterns: Vec<String> = match &m.event_types {
            Some(types) => types.clone(),
            None => vec!["*".to_owned()],
        };
        let mut events = Vec::with_capacity(patterns.len());
        for p in &patterns {
            events.push(p.parse::<EventPattern>().ok()?);
        }
        let headers: Vec<(String, String)> = m
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // An application's endpoints get the payload as it was sent (Svix's behaviour). The
        // operational-webhook endpoints get Svix's operational payload, `{"type", "timestamp",
        // "data"}`: the Standard Webhooks envelope of the message `operational_message` makes.
        let format = if m.app_id == OPERATIONAL_APP {
            Format::Standard
        } else {
            Format::Raw
        };
        Some(Endpoint {
            name: m.id.clone(),
            url: m.url.clone(),
            signer: Some(signer),
            format: format.clone(),
            events,
            filter: None,
            headers,
            timeout: self.delivery.timeout,
            retry: self.delivery.retry.clone(),
            config: EndpointConfig {
                url: m.url.clone(),
                secrets: Vec::new(),
                events: patterns,
                format,
                filter: None,
                headers: m.headers.clone(),
                timeout: None,
                retry: None,
                enabled: !m.disabled,
            },
        })
    }

    /// Records a message that came straight from the queue (not through the API), so that it
    /// and its attempts can be listed; a message the API stored is left as it is.
    pub async fn remember_message(
        &self,
        message: &model::Message,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let doc = hookline_api::registry::encode(message);
        let expires = self.expiry(now);
        match self
            .registry
            .store()
            .create(
                hookline_api::Kind::Message,
                &message.app_id,
                &message.id,
                &[],
                &doc,
                Some(expires),
            )
            .await
        {
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Records one attempt, kept for the retention period (two writes: under the message and
    /// under the endpoint).
    pub async fn record(&self, attempt: &Attempt, now: Timestamp) -> Result<(), StoreError> {
        self.registry
            .record_attempt(attempt, Some(self.expiry(now)))
            .await
    }

    /// Writes a message's status at an endpoint, kept for the retention period (one write).
    pub async fn put_destination(&self, d: &Destination, now: Timestamp) -> Result<(), StoreError> {
        self.registry
            .put_destination(d, Some(self.expiry(now)))
            .await
    }

    /// The stored message `msg_id` of application `app_id`, by id only (one read): unlike
    /// [`Registry::message`], never a message whose `eventId` happens to be `msg_id`.
    pub async fn message(
        &self,
        app_id: &str,
        msg_id: &str,
    ) -> Result<Option<model::Message>, StoreError> {
        let kind = hookline_api::Kind::Message;
        match self.registry.store().get(kind, app_id, msg_id).await? {
            Some(doc) => hookline_api::registry::decode(kind, msg_id, &doc).map(Some),
            None => Ok(None),
        }
    }

    /// A message's status at an endpoint, if it has one (one read).
    pub async fn destination(
        &self,
        app_id: &str,
        endpoint_id: &str,
        msg_id: &str,
    ) -> Result<Option<Destination>, StoreError> {
        self.registry.destination(app_id, endpoint_id, msg_id).await
    }

    /// Counts an attempt into the endpoint's health (one read; one conditional write unless it
    /// is a success on a healthy endpoint) and says whether `policy` now disables it.
    ///
    /// A success at an endpoint whose health this sender found clean less than
    /// `api.registry_cache` ago (the staleness the endpoints themselves are read with; `0s`:
    /// never) makes no store call at all: the usual success on a healthy endpoint is then free.
    /// Any other outcome, or a store error, forgets the mark until a success clears the health
    /// again. The consequence: a run of failures *another* sender records meanwhile is not
    /// cleared by this sender's successes at once, but by its first success after the mark
    /// expires, so within that bound. Until then the other sender's failures go on counting
    /// from the run's start, and an endpoint failing at one Lambda while it succeeds at another
    /// can reach the policy's `failures` and `failing_for` up to `api.registry_cache` sooner
    /// than with a read at every success (nothing against Svix's five days; with a policy of
    /// `failing_for = "0s"`, failures interleaved with another sender's successes count
    /// together for that long). One sender alone (`hookline dev`) is exact: its own failure
    /// forgets the mark, so its next success reads and clears the run.
    pub async fn observe_health(
        &self,
        app_id: &str,
        endpoint_id: &str,
        seen: Observed,
        now: Timestamp,
        policy: &HealthPolicy,
    ) -> Result<Verdict, StoreError> {
        if seen == Observed::Success && self.known_clean(app_id, endpoint_id, now) {
            // A success never disables, and there is no run to clear (as far as this sender
            // may assume, above).
            return Ok(Verdict::Keep);
        }
        let verdict = self
            .registry
            .observe_health(app_id, endpoint_id, seen, now, policy)
            .await;
        let mark = match (&verdict, seen) {
            // Counted: a success leaves the health clean (it was, or this call cleared it).
            (Ok(Verdict::Keep), Observed::Success) => Some(Mark::Clean),
            // Counted, and this sender's write left it enabled.
            (Ok(Verdict::Keep), Observed::Failure | Observed::Gone) => Some(Mark::Enabled),
            (Ok(Verdict::Disable { .. } | Verdict::Disabled), _) | (Err(_), _) => None,
        };
        self.set_mark(app_id, endpoint_id, now, mark);
        verdict
    }

    /// Remembers (or, with `None`, forgets) what this sender found the endpoint's health to be.
    fn set_mark(&self, app_id: &str, endpoint_id: &str, now: Timestamp, mark: Option<Mark>) {
        let Ok(mut clean) = self.clean.lock() else {
            return;
        };
        let Marks { by_app, len } = &mut *clean;
        match mark {
            Some(mark) => {
                if let Some(m) = by_app
                    .get_mut(app_id)
                    .and_then(|eps| eps.get_mut(endpoint_id))
                {
                    *m = (now, mark);
                    return;
                }
                if *len >= MAX_CLEAN_ENDPOINTS {
                    by_app.clear();
                    *len = 0;
                }
                by_app
                    .entry(app_id.to_owned())
                    .or_default()
                    .insert(endpoint_id.to_owned(), (now, mark));
                *len += 1;
            }
            None => {
                if let Some(eps) = by_app.get_mut(app_id)
                    && eps.remove(endpoint_id).is_some()
                {
                    *len = len.saturating_sub(1);
                    if eps.is_empty() {
                        by_app.remove(app_id);
                    }
                }
            }
        }
    }

    /// What this sender found the endpoint's health to be less than the staleness bound ago.
    fn health_mark(&self, app_id: &str, endpoint_id: &str, now: Timestamp) -> Option<Mark> {
        let clean = self.clean.lock().ok()?;
        let (at, mark) = clean.by_app.get(app_id)?.get(endpoint_id)?;
        now.checked_duration_since(*at)
            .is_some_and(|age| age < self.ttl)
            .then_some(*mark)
    }

    /// Whether the endpoint's health was clean when this sender last saw it, less than the
    /// staleness bound ago.
    fn known_clean(&self, app_id: &str, endpoint_id: &str, now: Timestamp) -> bool {
        self.health_mark(app_id, endpoint_id, now) == Some(Mark::Clean)
    }

    /// Whether endpoint `name` of the configuration is disabled ([`Health::disabled`]). One
    /// read, none when this sender found it enabled (or counted an attempt at it that left it
    /// enabled) less than `api.registry_cache` ago: a steady stream to a healthy configured
    /// endpoint costs no read beyond the one per window that [`Self::observe_health`] makes
    /// anyway (the mark is shared). So an endpoint disabled by another sender is noticed here
    /// within that bound; one enabled again (its health deleted) at the next message, as
    /// "disabled" is never remembered.
    pub async fn configured_disabled(
        &self,
        name: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        if self.health_mark(CONFIG_APP, name, now).is_some() {
            return Ok(false);
        }
        // Concurrent misses (a batch's records for this endpoint) share one read.
        self.health_reads
            .share(name, || async {
                Shared(self.read_configured_health(name, now).await)
            })
            .await
            .0
    }

    /// Reads whether endpoint `name` of the configuration is disabled, and marks what it found.
    async fn read_configured_health(&self, name: &str, now: Timestamp) -> Result<bool, StoreError> {
        let health = self.registry.health(CONFIG_APP, name).await?;
        let mark = if health.disabled {
            None
        } else if health == Health::default() {
            Some(Mark::Clean)
        } else {
            Some(Mark::Enabled)
        };
        self.set_mark(CONFIG_APP, name, now, mark);
        Ok(health.disabled)
    }

    /// Disables endpoint `name` of the configuration; true only for the call that disabled it.
    pub async fn disable_configured(&self, name: &str, now: Timestamp) -> Result<bool, StoreError> {
        self.set_mark(CONFIG_APP, name, now, None);
        self.registry.disable_configured(name, now).await
    }

    /// Disables a registered endpoint; `Some` only for the call that disabled it.
    pub async fn disable_endpoint(
        &self,
        app_id: &str,
        endpoint_id: &str,
        now: Timestamp,
    ) -> Result<Option<model::Endpoint>, StoreError> {
        self.registry
            .disable_endpoint(app_id, endpoint_id, now)
            .await
    }

    /// When a history record written at `now` may go: after the retention period.
    fn expiry(&self, now: Timestamp) -> Timestamp {
        now.saturating_add(self.retention)
    }
}

/// A store built when it is first used: the Lambda's DynamoDB client (building an SDK client
/// reads the system's certificates) waits for the first message that names an application, so
/// a cold start that only serves configured endpoints pays nothing for it.
pub struct DeferredStore {
    make: Box<dyn Fn() -> Arc<dyn Store> + Send + Sync>,
    store: std::sync::OnceLock<Arc<dyn Store>>,
}

impl DeferredStore {
    /// A store made by `make` on first use.
    pub fn new(make: impl Fn() -> Arc<dyn Store> + Send + Sync + 'static) -> Self {
        Self {
            make: Box::new(make),
            store: std::sync::OnceLock::new(),
        }
    }

    fn get(&self) -> &dyn Store {
        &**self.store.get_or_init(|| (self.make)())
    }
}

#[async_trait::async_trait]
impl Store for DeferredStore {
    async fn create(
        &self,
        kind: hookline_api::Kind,
        parent: &str,
        id: &str,
        aliases: &[&str],
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.get()
            .create(kind, parent, id, aliases, doc, expires)
            .await
    }

    async fn replace(
        &self,
        kind: hookline_api::Kind,
        parent: &str,
        id: &str,
        release: &[&str],
        claim: &[&str],
        doc: &str,
    ) -> Result<(), StoreError> {
        self.get()
            .replace(kind, parent, id, release, claim, doc)
            .await
    }

    async fn put(
        &self,
        kind: hookline_api::Kind,
        parent: &str,
        id: &str,
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.get().put(kind, parent, id, doc, expires).await
    }

    async fn swap(
        &self,
        kind: hookline_api::Kind,
        parent: &str,
        id: &str,
        expected: Option<&str>,
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        self.get()
            .swap(kind, parent, id, expected, doc, expires)
            .await
    }

    async fn get(
        &self,
        kind: hookline_api::Kind,
        parent: &str,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        DeferredStore::get(self).get(kind, parent, id).await
    }

    async fn resolve(
        &self,
        kind: hookline_api::Kind,
        parent: &str,
        alias: &str,
    ) -> Result<Option<String>, StoreError> {
        self.get().resolve(kind, parent, alias).await
    }

    async fn list(
        &self,
        kind: hookline_api::Kind,
        parent: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<hookline_api::Item>, StoreError> {
        self.get().list(kind, parent, after, limit).await
    }

    async fn delete(
        &self,
        kind: hookline_api::Kind,
        parent: &str,
        id: &str,
        aliases: &[&str],
    ) -> Result<bool, StoreError> {
        self.get().delete(kind, parent, id, aliases).await
    }
}

#[cfg(test)]
mod tests {
    use hookline_api::memory::MemoryStore;
    use hookline_core::api::history::Health;

    use super::*;

    const T0: i64 = 2_000_000_000_000;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(T0 + ms)
    }

    fn now() -> Timestamp {
        at(0)
    }

    /// A cache with staleness `ttl` over `store`, and another sender's view of the same store.
    fn two_senders(ttl: Duration) -> (RegistryCache, Registry) {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new(now));
        let cache = RegistryCache::new(
            Arc::clone(&store),
            ttl,
            Duration::from_secs(3600),
            DeliveryConfig::default(),
        );
        (cache, Registry::new(store))
    }

    const POLICY: HealthPolicy = HealthPolicy::DEFAULT;

    async fn observe(cache: &RegistryCache, seen: Observed, ms: i64) {
        cache
            .observe_health("app_1", "ep_1", seen, at(ms), &POLICY)
            .await
            .unwrap();
    }

    /// Another sender records a failure.
    async fn fails_elsewhere(other: &Registry, ms: i64) {
        other
            .observe_health("app_1", "ep_1", Observed::Failure, at(ms), &POLICY)
            .await
            .unwrap();
    }

    async fn failures(other: &Registry) -> u32 {
        other.health("app_1", "ep_1").await.unwrap().failures
    }

    #[tokio::test]
    async fn a_success_on_a_known_clean_endpoint_reads_nothing_within_the_bound() {
        let (cache, other) = two_senders(Duration::from_secs(30));
        // Read once: clean, and remembered.
        observe(&cache, Observed::Success, 0).await;
        fails_elsewhere(&other, 1_000).await;
        // Within the bound this sender's successes do not read, so they leave the other
        // sender's run alone (and a success never disables)...
        let v = cache
            .observe_health("app_1", "ep_1", Observed::Success, at(29_999), &POLICY)
            .await
            .unwrap();
        assert_eq!(v, Verdict::Keep);
        assert_eq!(failures(&other).await, 1);
        // ...and the first one after it reads and clears the run.
        observe(&cache, Observed::Success, 30_000).await;
        assert_eq!(
            other.health("app_1", "ep_1").await.unwrap(),
            Health::default()
        );
    }

    #[tokio::test]
    async fn a_failure_here_forgets_the_mark_so_the_next_success_clears_at_once() {
        let (cache, other) = two_senders(Duration::from_secs(30));
        observe(&cache, Observed::Success, 0).await;
        observe(&cache, Observed::Failure, 1_000).await;
        assert_eq!(failures(&other).await, 1);
        observe(&cache, Observed::Success, 2_000).await;
        assert_eq!(failures(&other).await, 0);
        // A 410 forgets it too.
        observe(&cache, Observed::Gone, 3_000).await;
        fails_elsewhere(&other, 3_500).await;
        observe(&cache, Observed::Success, 4_000).await;
        assert_eq!(failures(&other).await, 0);
    }

    #[tokio::test]
    async fn with_the_cache_off_every_success_reads_the_health() {
        let (cache, other) = two_senders(Duration::ZERO);
        observe(&cache, Observed::Success, 0).await;
        fails_elsewhere(&other, 1).await;
        observe(&cache, Observed::Success, 2).await;
        assert_eq!(failures(&other).await, 0);
    }

    /// Counts the store's reads, each taking a moment (as a network store's do), so that
    /// concurrent callers' reads would overlap.
    #[derive(Default)]
    struct SlowReads {
        reads: std::sync::atomic::AtomicUsize,
        /// Every read fails (after its moment) while set.
        fail: std::sync::atomic::AtomicBool,
    }

    impl hookline_api::hooked::Hook for SlowReads {
        async fn before(&self, call: &hookline_api::hooked::Call<'_>) -> Result<(), StoreError> {
            if !call.op.is_write() {
                self.reads.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                if self.fail.load(Ordering::SeqCst) {
                    return Err(StoreError::Unavailable("down".into()));
                }
            }
            Ok(())
        }
    }

    /// A cache over a store holding application `app_1` (uid `acme`) with one endpoint, whose
    /// reads `SlowReads` counts.
    async fn counted() -> (RegistryCache, Arc<hookline_api::hooked::Hooked<SlowReads>>) {
        let inner: Arc<dyn Store> = Arc::new(MemoryStore::new(now));
        hookline_tests::seed_application(&*inner, "app_1", "acme").await;
        let ep = hookline_tests::endpoint(
            "app_1",
            "ep_1",
            "https://hooks.example.com/".into(),
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        );
        hookline_tests::seed_endpoint(&*inner, &ep).await;
        let store = Arc::new(hookline_api::hooked::Hooked::new(
            inner,
            SlowReads::default(),
        ));
        let cache = RegistryCache::new(
            store.clone(),
            Duration::from_secs(30),
            Duration::from_secs(3600),
            DeliveryConfig::default(),
        );
        (cache, store)
    }

    /// The store reads one caller alone makes to find application `app` (by uid: the alias is
    /// resolved first).
    async fn reads_alone(app: &str) -> usize {
        let (cache, store) = counted().await;
        cache.app(app, now()).await.unwrap();
        store.hook().reads.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn concurrent_misses_for_one_application_share_one_read() {
        let alone = reads_alone("acme").await;
        let (cache, store) = counted().await;
        let found = futures_util::future::join_all((0..8).map(|_| cache.app("acme", now()))).await;
        let first = found[0].as_ref().unwrap().as_ref().unwrap();
        assert_eq!(first.endpoints.len(), 1);
        for f in &found {
            assert!(Arc::ptr_eq(first, f.as_ref().unwrap().as_ref().unwrap()));
        }
        // One read of the application and its endpoints, for all eight.
        assert_eq!(store.hook().reads.load(Ordering::SeqCst), alone);
        assert_eq!(cache.store_reads(), 2);
        // Then cached, as before.
        cache.app("acme", at(1_000)).await.unwrap().unwrap();
        assert_eq!(store.hook().reads.load(Ordering::SeqCst), alone);
        // Another key is another read.
        let by_id = reads_alone("app_1").await;
        let found = futures_util::future::join_all((0..4).map(|_| cache.app("app_1", now()))).await;
        assert!(found.iter().all(|f| f.as_ref().unwrap().is_some()));
        assert_eq!(store.hook().reads.load(Ordering::SeqCst), alone + by_id);
    }

    #[tokio::test]
    async fn concurrent_misses_for_an_unknown_application_share_the_answer() {
        let alone = reads_alone("nobody").await;
        let (cache, store) = counted().await;
        let found =
            futures_util::future::join_all((0..5).map(|_| cache.app("nobody", now()))).await;
        assert!(found.iter().all(|f| matches!(f, Ok(None))));
        assert_eq!(store.hook().reads.load(Ordering::SeqCst), alone);
        // Not cached (an application created a moment later must be found): read again.
        cache.app("nobody", now()).await.unwrap();
        assert_eq!(store.hook().reads.load(Ordering::SeqCst), 2 * alone);
    }

    #[tokio::test]
    async fn concurrent_misses_that_fail_share_the_error() {
        let (cache, store) = counted().await;
        store.hook().fail.store(true, Ordering::SeqCst);
        let found = futures_util::future::join_all((0..5).map(|_| cache.app("acme", now()))).await;
        for f in &found {
            assert!(
                matches!(f, Err(StoreError::Unavailable(why)) if why == "down"),
                "{:?}",
                f.as_ref().err()
            );
        }
        assert_eq!(store.hook().reads.load(Ordering::SeqCst), 1);
        // A failure is not kept: the next miss reads again.
        store.hook().fail.store(false, Ordering::SeqCst);
        assert!(cache.app("acme", now()).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn concurrent_misses_for_a_configured_endpoints_health_share_one_read() {
        let (cache, store) = counted().await;
        let found = futures_util::future::join_all(
            (0..10).map(|_| cache.configured_disabled("billing", now())),
        )
        .await;
        assert!(found.iter().all(|f| matches!(f, Ok(false))));
        assert_eq!(store.hook().reads.load(Ordering::SeqCst), 1);
        // Then marked, as before.
        assert!(!cache.configured_disabled("billing", at(1)).await.unwrap());
        assert_eq!(store.hook().reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_cancelled_leader_leaves_its_followers_to_read_for_themselves() {
        let (cache, store) = counted().await;
        let leader = cache.app("acme", now());
        let follower = cache.app("acme", now());
        let mut leader = Box::pin(leader);
        let mut follower = Box::pin(follower);
        // The leader starts its read, the follower joins it; then the leader is dropped.
        assert!(futures_util::poll!(leader.as_mut()).is_pending());
        assert!(futures_util::poll!(follower.as_mut()).is_pending());
        drop(leader);
        let found = follower.await.unwrap().unwrap();
        assert_eq!(found.endpoints.len(), 1);
        // The leader's first store call, then the follower's own read.
        assert_eq!(
            store.hook().reads.load(Ordering::SeqCst),
            1 + reads_alone("acme").await
        );
        // The flight is gone: the next miss is not stuck behind it.
        assert!(cache.app_reads.inflight.lock().unwrap().is_empty());
    }

    /// What the text around each mention of `retention` in `doc` says its default is: the
    /// durations (`"720h"`, `720h`, 30 days) near a mention that speaks of a default (or a row
    /// of the configuration's key table, whose third cell is the default), leaving out the
    /// minimum ("at least `1h`").
    fn stated_default_retentions(doc: &str) -> Vec<String> {
        let mut text = doc.split_whitespace().collect::<Vec<_>>().join(" ");
        // Links' targets go: `[api.retention](config.md#api)` reads as `[api.retention]`.
        while let Some(start) = text.find("](") {
            let end = text[start..]
                .find(')')
                .map_or(text.len(), |e| start + e + 1);
            text.replace_range(start + 1..end, "");
        }
        let mut found = Vec::new();
        for (at, _) in text.match_indices("retention") {
            let before: String = text[..at].chars().rev().take(40).collect::<String>();
            let before: String = before.chars().rev().collect();
            let after: String = text[at..].chars().take(60).collect();
            let row = before.ends_with("| `");
            if !(row || format!("{before}{after}").contains("default")) {
                continue;
            }
            // Up to the end of the clause (a table row's default cell, for a row).
            let clause = if row {
                after.split('|').nth(2).unwrap_or("").to_owned()
            } else {
                after.split(['.', ';', ')']).next().unwrap_or("").to_owned()
            };
            let words: Vec<&str> = clause.split([' ', ',', '(', ')']).collect();
            for (i, w) in words.iter().enumerate() {
                let w = w.trim_matches(['`', '"']);
                let minimum = i >= 2 && words[i - 2] == "at" && words[i - 1] == "least";
                if minimum {
                    continue;
                }
                if let Some(n) = w.strip_suffix('h')
                    && n.parse::<u64>().is_ok()
                {
                    found.push(format!("{n}h"));
                }
                if matches!(words.get(i + 1), Some(&"days")) && w.parse::<u64>().is_ok() {
                    found.push(format!("{w} days"));
                }
            }
        }
        found
    }

    #[test]
    fn the_docs_state_the_default_retention_the_code_has() {
        let hours = hookline_core::config::DEFAULT_RETENTION.as_secs() / 3600;
        let expected = [format!("{hours}h"), format!("{} days", hours / 24)];
        for (name, doc) in [
            ("docs/sender.md", include_str!("../../../docs/sender.md")),
            ("docs/api.md", include_str!("../../../docs/api.md")),
            ("docs/config.md", include_str!("../../../docs/config.md")),
            ("docs/history.md", include_str!("../../../docs/history.md")),
            ("docs/cost.md", include_str!("../../../docs/cost.md")),
        ] {
            let stated = stated_default_retentions(doc);
            assert!(!stated.is_empty(), "{name} no longer states the default");
            for s in &stated {
                assert!(
                    expected.contains(s),
                    "{name} says the default api.retention is {s}; the code's is {expected:?}"
                );
            }
        }
        // The parser finds a stale claim in each shape the docs use (and the minimum is none).
        for (stale, claims) in [
            (
                "`api.retention` (default `2160h`, 90 days; at least `1h`)",
                2,
            ),
            (
                "`api.retention` (default\n90 days, `2160h`; at least `1h`)",
                2,
            ),
            (
                "| `retention` | duration | `\"2160h\"` (90 days) | how long",
                2,
            ),
            ("with the default `api.retention` of 90 days, a steady", 1),
            (
                "[`api.retention`](config.md#api) (default 90 days), then",
                1,
            ),
        ] {
            let stated = stated_default_retentions(stale);
            assert_eq!(stated.len(), claims, "{stale}: {stated:?}");
            assert!(stated.iter().all(|s| s.starts_with("90 ") || s == "2160h"));
        }
    }

    #[test]
    fn marks_are_counted_replaced_and_forgotten() {
        let (cache, _) = two_senders(Duration::from_secs(30));
        cache.set_mark("app_1", "ep_1", at(0), Some(Mark::Clean));
        cache.set_mark("app_1", "ep_1", at(1), Some(Mark::Enabled));
        cache.set_mark("app_2", "ep_1", at(1), Some(Mark::Clean));
        assert_eq!(cache.clean.lock().unwrap().len, 2);
        assert_eq!(
            cache.health_mark("app_1", "ep_1", at(2)),
            Some(Mark::Enabled)
        );
        assert_eq!(cache.health_mark("app_1", "ep_1", at(30_001)), None);
        cache.set_mark("app_1", "ep_1", at(3), None);
        cache.set_mark("app_1", "ep_9", at(3), None);
        assert_eq!(cache.health_mark("app_1", "ep_1", at(4)), None);
        assert_eq!(cache.clean.lock().unwrap().len, 1);
        assert!(!cache.clean.lock().unwrap().by_app.contains_key("app_1"));
        // Past the bound the marks start over.
        for i in 0..MAX_CLEAN_ENDPOINTS {
            cache.set_mark("app_3", &i.to_string(), at(5), Some(Mark::Clean));
        }
        assert_eq!(cache.clean.lock().unwrap().len, 1);
        assert!(cache.known_clean("app_3", &(MAX_CLEAN_ENDPOINTS - 1).to_string(), at(6)));
        assert!(!cache.known_clean("app_2", "ep_1", at(6)));
    }

    #[tokio::test]
    async fn marks_are_per_endpoint() {
        let (cache, other) = two_senders(Duration::from_secs(30));
        observe(&cache, Observed::Success, 0).await;
        other
            .observe_health("app_1", "ep_2", Observed::Failure, at(1), &POLICY)
            .await
            .unwrap();
        cache
            .observe_health("app_1", "ep_2", Observed::Success, at(2), &POLICY)
            .await
            .unwrap();
        assert_eq!(
            other.health("app_1", "ep_2").await.unwrap(),
            Health::default()
        );
    }
}
