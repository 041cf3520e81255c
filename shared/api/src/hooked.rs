//! A [`Store`] that calls a hook before forwarding each call to another store: for tests, benches
//! and instrumentation (counting calls, failing some, timing them), in place of a wrapper that
//! forwards every method by hand.
//!
//! ```
//! # use std::sync::Arc;
//! use hookline_api::hooked::{Call, Hooked};
//! use hookline_api::memory::MemoryStore;
//! use hookline_api::{Kind, StoreError};
//! # fn now() -> hookline_core::time::Timestamp { hookline_core::time::Timestamp::from_unix_secs(0) }
//! // The registry as the real store; every other kind's calls fail.
//! let store = Hooked::new(Arc::new(MemoryStore::new(now)), |call: &Call<'_>| {
//!     match call.kind {
//!         Kind::Application | Kind::Endpoint => Ok(()),
//!         _ => Err(StoreError::Unavailable("down".into())),
//!     }
//! });
//! ```

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use hookline_core::time::Timestamp;

use crate::store::{Item, Kind, Store, StoreError};

/// Which [`Store`] method was called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// [`Store::create`].
    Create,
    /// [`Store::replace`].
    Replace,
    /// [`Store::put`].
    Put,
    /// [`Store::swap`].
    Swap,
    /// [`Store::get`].
    Get,
    /// [`Store::resolve`].
    Resolve,
    /// [`Store::list`].
    List,
    /// [`Store::delete`].
    Delete,
}

impl Op {
    /// The method's name (`"create"`, `"get"`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Replace => "replace",
            Op::Put => "put",
            Op::Swap => "swap",
            Op::Get => "get",
            Op::Resolve => "resolve",
            Op::List => "list",
            Op::Delete => "delete",
        }
    }

    /// Whether the method writes (every one but `get`, `resolve` and `list`).
    pub const fn is_write(self) -> bool {
        !matches!(self, Op::Get | Op::Resolve | Op::List)
    }
}

/// One store call, as a hook sees it.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// The method.
    pub op: Op,
    /// The record's kind.
    pub kind: Kind,
    /// The record's parent.
    pub parent: &'a str,
    /// The record's id; for [`Op::Resolve`] the alias, for [`Op::List`] the id it lists after
    /// (`""` for the first page).
    pub id: &'a str,
    /// The document written, for `create`, `replace`, `put` and `swap`.
    pub doc: Option<&'a str>,
}

/// What [`Hooked`] calls around each call. Any `Fn(&Call) -> Result<(), StoreError>` is one.
pub trait Hook: Send + Sync + 'static {
    /// Called before each call; an error is the call's answer, and the call is not forwarded.
    fn before(&self, call: &Call<'_>) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Called once a forwarded call has returned, whatever it returned.
    fn after(&self, _call: &Call<'_>) {}
}

impl<F> Hook for F
where
    F: Fn(&Call<'_>) -> Result<(), StoreError> + Send + Sync + 'static,
{
    fn before(&self, call: &Call<'_>) -> impl Future<Output = Result<(), StoreError>> + Send {
        std::future::ready(self(call))
    }
}

/// A store forwarding every call to `inner` once its hook has let it through.
pub struct Hooked<H> {
    inner: Arc<dyn Store>,
    hook: H,
}

impl<H: Hook> Hooked<H> {
    /// `inner`, with `hook` called around each call.
    pub fn new(inner: Arc<dyn Store>, hook: H) -> Self {
        Self { inner, hook }
    }

    /// The hook, to read what it recorded or to change what it does.
    pub fn hook(&self) -> &H {
        &self.hook
    }

    /// Runs the hooks around `forward`, which is not polled if `before` fails the call.
    async fn around<T>(
        &self,
        call: Call<'_>,
        forward: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.hook.before(&call).await?;
        let out = forward.await;
        self.hook.after(&call);
        out
    }
}

fn call<'a>(op: Op, kind: Kind, parent: &'a str, id: &'a str, doc: Option<&'a str>) -> Call<'a> {
    Call {
        op,
        kind,
        parent,
        id,
        doc,
    }
}

#[async_trait]
impl<H: Hook> Store for Hooked<H> {
    async fn create(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        aliases: &[&str],
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let c = call(Op::Create, kind, parent, id, Some(doc));
        let forward = self.inner.create(kind, parent, id, aliases, doc, expires);
        self.around(c, forward).await
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
        let c = call(Op::Replace, kind, parent, id, Some(doc));
        let forward = self.inner.replace(kind, parent, id, release, claim, doc);
        self.around(c, forward).await
    }

    async fn put(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let c = call(Op::Put, kind, parent, id, Some(doc));
        let forward = self.inner.put(kind, parent, id, doc, expires);
        self.around(c, forward).await
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
        let c = call(Op::Swap, kind, parent, id, Some(doc));
        let forward = self.inner.swap(kind, parent, id, expected, doc, expires);
        self.around(c, forward).await
    }

    async fn get(&self, kind: Kind, parent: &str, id: &str) -> Result<Option<String>, StoreError> {
        let c = call(Op::Get, kind, parent, id, None);
        self.around(c, self.inner.get(kind, parent, id)).await
    }

    async fn resolve(
        &self,
        kind: Kind,
        parent: &str,
        alias: &str,
    ) -> Result<Option<String>, StoreError> {
        let c = call(Op::Resolve, kind, parent, alias, None);
        self.around(c, self.inner.resolve(kind, parent, alias))
            .await
    }

    async fn list(
        &self,
        kind: Kind,
        parent: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let c = call(Op::List, kind, parent, after.unwrap_or(""), None);
        self.around(c, self.inner.list(kind, parent, after, limit))
            .await
    }

    async fn delete(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        aliases: &[&str],
    ) -> Result<bool, StoreError> {
        let c = call(Op::Delete, kind, parent, id, None);
        self.around(c, self.inner.delete(kind, parent, id, aliases))
            .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;
    use std::sync::Mutex;

    fn now() -> Timestamp {
        Timestamp::from_unix_secs(1_795_435_200)
    }

    /// Notes every call it sees and every call that returned; fails the writes of `Health`.
    #[derive(Default)]
    struct Log {
        seen: Mutex<Vec<String>>,
        done: Mutex<Vec<Op>>,
    }

    impl Hook for Log {
        async fn before(&self, c: &Call<'_>) -> Result<(), StoreError> {
            self.seen.lock().unwrap().push(format!(
                "{} {:?} {}/{} {:?}",
                c.op.as_str(),
                c.kind,
                c.parent,
                c.id,
                c.doc
            ));
            if c.kind == Kind::Health && c.op.is_write() {
                return Err(StoreError::Unavailable("hooked".into()));
            }
            Ok(())
        }

        fn after(&self, c: &Call<'_>) {
            self.done.lock().unwrap().push(c.op);
        }
    }

    #[tokio::test]
    async fn each_call_is_described_to_the_hook_and_a_failed_one_is_not_forwarded() {
        let inner = Arc::new(MemoryStore::new(now));
        let store = Hooked::new(inner.clone(), Log::default());
        store
            .create(Kind::Application, "", "app_1", &["u:a"], "{}", None)
            .await
            .unwrap();
        store
            .replace(Kind::Application, "", "app_1", &[], &[], "{\"a\":1}")
            .await
            .unwrap();
        store
            .put(Kind::Message, "app_1", "m", "{}", None)
            .await
            .unwrap();
        assert!(
            store
                .swap(Kind::Message, "app_1", "m", Some("{}"), "[]", None)
                .await
                .unwrap()
        );
        let err = store.put(Kind::Health, "app_1", "ep", "{}", None).await;
        assert!(matches!(err, Err(StoreError::Unavailable(_))), "{err:?}");
        assert_eq!(inner.get(Kind::Health, "app_1", "ep").await.unwrap(), None);
        assert_eq!(
            store
                .get(Kind::Message, "app_1", "m")
                .await
                .unwrap()
                .as_deref(),
            Some("[]")
        );
        assert_eq!(
            store
                .resolve(Kind::Application, "", "u:a")
                .await
                .unwrap()
                .as_deref(),
            Some("app_1")
        );
        assert_eq!(
            store
                .list(Kind::Application, "", None, 10)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            store
                .list(Kind::Message, "app_1", Some("m"), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .delete(Kind::Message, "app_1", "m", &[])
                .await
                .unwrap()
        );
        assert_eq!(
            *store.hook().seen.lock().unwrap(),
            [
                "create Application /app_1 Some(\"{}\")",
                "replace Application /app_1 Some(\"{\\\"a\\\":1}\")",
                "put Message app_1/m Some(\"{}\")",
                "swap Message app_1/m Some(\"[]\")",
                "put Health app_1/ep Some(\"{}\")",
                "get Message app_1/m None",
                "resolve Application /u:a None",
                "list Application / None",
                "list Message app_1/m None",
                "delete Message app_1/m None",
            ]
        );
        // `after` for every forwarded call, not for the one the hook failed.
        use Op::*;
        assert_eq!(
            *store.hook().done.lock().unwrap(),
            [Create, Replace, Put, Swap, Get, Resolve, List, List, Delete]
        );
    }
}
