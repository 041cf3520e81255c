//! The management API's records in `hookline dev`: [`hookline_api::Store`] over SQLite.
//!
//! Two tables: `api_records` (a JSON document by `(kind, parent, id)`, with an optional expiry)
//! and `api_aliases` (unique names in a `(kind, parent)`, each naming a record's id). Every
//! trait method is one transaction. An alias is live only while its record is: expired records
//! (`expires_ms <= now`) and their aliases are never read, may be taken again by a create, a
//! put or a swap, and are deleted a few at a time by each create and all at once by
//! [`SqliteStore::sweep_expired`] (the history's retention), so the file does not grow forever.
//! A swap's check and write are one job on the store's only thread: nothing runs between them.
//!
//! **Where it lives.** In `hookline dev`, in the queue's own file (`dev.sqlite3`), on the
//! queue's thread ([`crate::store::StoreThread`]): each call is a savepoint of the queue's group
//! commits, so it shares their fsync and their durability, and one data directory is one
//! database. [`SqliteStore::open`] and [`SqliteStore::in_memory`] give it a file or a memory
//! database of its own, on its own thread (the tests, and any other embedding).
//!
//! The same durability as the queue: WAL, `synchronous = FULL`, one process per file.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use hookline_api::store::{Item, Kind, Store, StoreError};
use hookline_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, params};

use crate::store::StoreThread;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS api_records (
    kind TEXT NOT NULL,
    parent TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    expires_ms INTEGER,
    PRIMARY KEY (kind, parent, id)
);
CREATE INDEX IF NOT EXISTS api_records_expiry ON api_records (expires_ms)
    WHERE expires_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS api_aliases (
    kind TEXT NOT NULL,
    parent TEXT NOT NULL,
    alias TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (kind, parent, alias)
);
CREATE INDEX IF NOT EXISTS api_aliases_owner ON api_aliases (kind, parent, id);
";

/// How many expired records one create deletes: enough to keep up with what expires, small
/// enough that no request waits on a big cleanup.
const PRUNE_BATCH: usize = 64;

/// How many expired records one step of [`SqliteStore::sweep_expired`] deletes: each step is one
/// job on the store's thread (in `hookline dev`, one savepoint of a group commit), so requests
/// and queue work wait at most one step (a few milliseconds) for the sweep.
const SWEEP_BATCH: usize = 512;

/// Why [`SqliteStore::open`] failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Another process (another `hookline dev`) has the file open.
    #[error("the API database is in use by another process")]
    InUse,
    /// SQLite could not open or prepare the file.
    #[error("the API database failed: {0}")]
    Db(#[from] rusqlite::Error),
    /// The store's thread could not be started.
    #[error("cannot start the API database's thread: {0}")]
    Thread(std::io::Error),
}

/// A job for the store's thread.
type Job = Box<dyn FnOnce(&Connection) + Send>;

/// Where the store's SQL runs.
#[derive(Clone, Debug)]
enum Runner {
    /// A connection of its own, on a thread of its own.
    Own(std::sync::mpsc::Sender<Job>),
    /// The queue's connection, on the queue's thread.
    Queue(StoreThread),
}

/// The API's store in SQLite. Cloning shares the connection; the thread (and the connection)
/// stop when the last clone is dropped.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    runner: Runner,
    now: fn() -> Timestamp,
}

impl SqliteStore {
    /// Opens (or creates) the database at `path`; `now` decides expiry.
    pub fn open(path: &Path, now: fn() -> Timestamp) -> Result<Self, OpenError> {
        Self::setup(Connection::open(path)?, true, now)
    }

    /// A database in memory (for tests).
    pub fn in_memory(now: fn() -> Timestamp) -> Result<Self, OpenError> {
        Self::setup(Connection::open_in_memory()?, false, now)
    }

    /// The API's tables in the queue's database, on its thread (`hookline dev`).
    pub async fn on_queue(queue: StoreThread, now: fn() -> Timestamp) -> Result<Self, StoreError> {
        let store = Self {
            runner: Runner::Queue(queue),
            now,
        };
        store
            .write(|conn, _| conn.execute_batch(SCHEMA).map_err(db))
            .await?;
        Ok(store)
    }

    fn setup(conn: Connection, file: bool, now: fn() -> Timestamp) -> Result<Self, OpenError> {
        let prepare = || -> Result<(), rusqlite::Error> {
            if file {
                // As the queue's file (see crate::store): one process owns it, and a committed
                // write survives kill -9 and power loss.
                conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
                conn.busy_timeout(Duration::from_millis(200))?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "FULL")?;
                conn.pragma_update(None, "fullfsync", "ON")?;
                conn.pragma_update(None, "checkpoint_fullfsync", "ON")?;
            }
            crate::store::tune(&conn)?;
            conn.execute_batch(SCHEMA)
        };
        prepare().map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                OpenError::InUse
            }
            _ => OpenError::Db(e),
        })?;
        let (jobs, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("hookline-api-store".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job(&conn);
                }
            })
            .map_err(OpenError::Thread)?;
        Ok(Self {
            runner: Runner::Own(jobs),
            now,
        })
    }

    /// Deletes every record that expired at or before `now`, with its aliases, and says how
    /// many went: the retention of `hookline dev`, which calls it every few minutes. It works in
    /// steps of [`SWEEP_BATCH`] records, each its own transaction, so other writes run between
    /// them; a step that finds fewer is the last.
    pub async fn sweep_expired(&self, now: Timestamp) -> Result<usize, StoreError> {
        let now = now.unix_millis();
        let mut total = 0;
        loop {
            let gone = self
                .run(move |c, _| atomically(c, |c| prune(c, now, SWEEP_BATCH)))
                .await?;
            total += gone;
            if gone < SWEEP_BATCH {
                return Ok(total);
            }
        }
    }

    /// Runs `f` on the store's thread with the current time (ms since the epoch).
    async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, i64) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let now = (self.now)().unix_millis();
        match &self.runner {
            Runner::Own(jobs) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let job: Job = Box::new(move |conn| {
                    let _ = tx.send(f(conn, now));
                });
                let gone =
                    || StoreError::Unavailable("the API database's thread stopped".to_owned());
                jobs.send(job).map_err(|_| gone())?;
                rx.await.map_err(|_| gone())?
            }
            // The answer comes back once the queue's group commit holding these writes is done.
            Runner::Queue(queue) => queue
                .run(move |store| store.with_connection(|conn| f(conn, now)))
                .await
                .map_err(|e: crate::store::StoreError| {
                    StoreError::Unavailable(format!("the database failed: {e}"))
                })?,
        }
    }

    /// Runs `f` as one transaction on the store's thread.
    async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, i64) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.run(move |conn, now| atomically(conn, |c| f(c, now)))
            .await
    }
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("the API database failed: {e}"))
}

/// Runs `f` in a savepoint: everything it wrote is kept if it succeeds, nothing if it fails. On
/// its own (this store's thread never opens an outer transaction) releasing the savepoint is the
/// commit; inside a transaction of the queue's group commits it would nest, as
/// [`crate::store::Store::atomically`] does.
fn atomically<R>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    API.run(conn, f, db)
}

/// [`atomically`]'s savepoint.
const API: crate::store::Savepoint = crate::store::Savepoint::new(
    "SAVEPOINT hookline_api",
    "RELEASE hookline_api",
    "ROLLBACK TO hookline_api",
);

/// Whether record `id` exists and has not expired.
fn live(
    conn: &Connection,
    kind: &str,
    parent: &str,
    id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    conn.prepare_cached(
        "SELECT 1 FROM api_records WHERE kind = ?1 AND parent = ?2 AND id = ?3
             AND (expires_ms IS NULL OR expires_ms > ?4)",
    )
    .and_then(|mut s| s.exists(params![kind, parent, id, now]))
    .map_err(db)
}

/// Whether record `id` exists: `None` if not, else whether it is live (not expired).
fn state(
    conn: &Connection,
    kind: &str,
    parent: &str,
    id: &str,
    now: i64,
) -> Result<Option<bool>, StoreError> {
    conn.prepare_cached(
        "SELECT expires_ms IS NULL OR expires_ms > ?4 FROM api_records
         WHERE kind = ?1 AND parent = ?2 AND id = ?3",
    )
    .and_then(|mut s| {
        s.query_row(params![kind, parent, id, now], |r| r.get(0))
            .optional()
    })
    .map_err(db)
}

/// The live record that claimed `alias`, if any.
fn owner(
    conn: &Connection,
    kind: &str,
    parent: &str,
    alias: &str,
    now: i64,
) -> Result<Option<String>, StoreError> {
    conn.prepare_cached(
        "SELECT a.id FROM api_aliases a JOIN api_records r
             ON r.kind = a.kind AND r.parent = a.parent AND r.id = a.id
         WHERE a.kind = ?1 AND a.parent = ?2 AND a.alias = ?3
             AND (r.expires_ms IS NULL OR r.expires_ms > ?4)",
    )
    .and_then(|mut s| {
        s.query_row(params![kind, parent, alias, now], |r| r.get(0))
            .optional()
    })
    .map_err(db)
}

/// Deletes record `id`, expired or not, and every alias naming it.
fn remove(conn: &Connection, kind: &str, parent: &str, id: &str) -> Result<(), StoreError> {
    release_all(conn, kind, parent, id)?;
    conn.prepare_cached("DELETE FROM api_records WHERE kind = ?1 AND parent = ?2 AND id = ?3")
        .and_then(|mut s| s.execute(params![kind, parent, id]))
        .map_err(db)?;
    Ok(())
}

/// Deletes every alias naming record `id`.
fn release_all(conn: &Connection, kind: &str, parent: &str, id: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM api_aliases WHERE kind = ?1 AND parent = ?2 AND id = ?3")
        .and_then(|mut s| s.execute(params![kind, parent, id]))
        .map_err(db)?;
    Ok(())
}

/// Points `alias` at `id` (the caller checked no live record holds it).
fn claim(
    conn: &Connection,
    kind: &str,
    parent: &str,
    alias: &str,
    id: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO api_aliases (kind, parent, alias, id) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (kind, parent, alias) DO UPDATE SET id = excluded.id",
    )
    .and_then(|mut s| s.execute(params![kind, parent, alias, id]))
    .map_err(db)?;
    Ok(())
}

/// Deletes up to `batch` expired records and their aliases; how many went.
fn prune(conn: &Connection, now: i64, batch: usize) -> Result<usize, StoreError> {
    // Both batches are small constants: the conversion cannot fail.
    let batch = i64::try_from(batch).unwrap_or(i64::MAX);
    let expired = conn
        .prepare_cached(
            "SELECT kind, parent, id FROM api_records WHERE expires_ms <= ?1
             ORDER BY expires_ms LIMIT ?2",
        )
        .and_then(|mut s| {
            s.query_map(params![now, batch], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db)?;
    for (kind, parent, id) in &expired {
        remove(conn, kind, parent, id)?;
    }
    Ok(expired.len())
}

/// Writes record `id`'s document and expiry, creating the row if there is none; its aliases
/// are not touched.
fn upsert(
    conn: &Connection,
    kind: &str,
    parent: &str,
    id: &str,
    doc: &str,
    expires: Option<i64>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO api_records (kind, parent, id, doc, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (kind, parent, id) DO UPDATE
             SET doc = excluded.doc, expires_ms = excluded.expires_ms",
    )
    .and_then(|mut s| s.execute(params![kind, parent, id, doc, expires]))
    .map_err(db)?;
    Ok(())
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[async_trait]
impl Store for SqliteStore {
    async fn create(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        aliases: &[&str],
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let (parent, id, aliases, doc) = (
            parent.to_owned(),
            id.to_owned(),
            owned(aliases),
            doc.to_owned(),
        );
        let expires = expires.map(Timestamp::unix_millis);
        self.write(move |c, now| {
            let k = kind.as_str();
            prune(c, now, PRUNE_BATCH)?;
            if live(c, k, &parent, &id, now)? {
                return Err(StoreError::Conflict);
            }
            for a in &aliases {
                if owner(c, k, &parent, a, now)?.is_some() {
                    return Err(StoreError::Conflict);
                }
            }
            // An expired record of this id, not yet pruned, goes with its aliases: they must not
            // come back as the new record's.
            remove(c, k, &parent, &id)?;
            c.prepare_cached(
                "INSERT INTO api_records (kind, parent, id, doc, expires_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| s.execute(params![k, parent, id, doc, expires]))
            .map_err(db)?;
            for a in &aliases {
                claim(c, k, &parent, a, &id)?;
            }
            Ok(())
        })
        .await
    }

    async fn replace(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        release: &[&str],
        claims: &[&str],
        doc: &str,
    ) -> Result<(), StoreError> {
        let (parent, id, release, claims, doc) = (
            parent.to_owned(),
            id.to_owned(),
            owned(release),
            owned(claims),
            doc.to_owned(),
        );
        self.write(move |c, now| {
            let k = kind.as_str();
            if !live(c, k, &parent, &id, now)? {
                return Err(StoreError::NotFound);
            }
            for a in &claims {
                if owner(c, k, &parent, a, now)?.is_some_and(|o| o != id) {
                    return Err(StoreError::Conflict);
                }
            }
            c.prepare_cached(
                "UPDATE api_records SET doc = ?4 WHERE kind = ?1 AND parent = ?2 AND id = ?3",
            )
            .and_then(|mut s| s.execute(params![k, parent, id, doc]))
            .map_err(db)?;
            for a in &release {
                c.prepare_cached(
                    "DELETE FROM api_aliases
                     WHERE kind = ?1 AND parent = ?2 AND alias = ?3 AND id = ?4",
                )
                .and_then(|mut s| s.execute(params![k, parent, a, id]))
                .map_err(db)?;
            }
            for a in &claims {
                claim(c, k, &parent, a, &id)?;
            }
            Ok(())
        })
        .await
    }

    async fn put(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let (parent, id, doc) = (parent.to_owned(), id.to_owned(), doc.to_owned());
        let expires = expires.map(Timestamp::unix_millis);
        // No prune here, unlike create: puts are on the delivery path (a message's status at
        // each attempt), and `hookline dev` sweeps expired rows on its own schedule.
        self.write(move |c, now| {
            let k = kind.as_str();
            // An expired record is absent: its aliases must not come back with the new one. (A
            // record with no row has nothing of its own to delete: one statement less for the
            // attempts, each a new record.)
            match state(c, k, &parent, &id, now)? {
                Some(true) => {}
                Some(false) => remove(c, k, &parent, &id)?,
                None => release_all(c, k, &parent, &id)?,
            }
            upsert(c, k, &parent, &id, &doc, expires)
        })
        .await
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
        let (parent, id, expected, doc) = (
            parent.to_owned(),
            id.to_owned(),
            expected.map(str::to_owned),
            doc.to_owned(),
        );
        let expires = expires.map(Timestamp::unix_millis);
        // One job on the store's only thread: nothing else reads or writes between the check
        // and the write, so the savepoint makes them one step.
        self.write(move |c, now| {
            let k = kind.as_str();
            match expected {
                None => {
                    if live(c, k, &parent, &id, now)? {
                        return Ok(false);
                    }
                    // As create: an expired record not yet swept goes with its aliases.
                    remove(c, k, &parent, &id)?;
                    upsert(c, k, &parent, &id, &doc, expires)?;
                    Ok(true)
                }
                Some(old) => {
                    let changed = c
                        .prepare_cached(
                            "UPDATE api_records SET doc = ?5, expires_ms = ?6
                             WHERE kind = ?1 AND parent = ?2 AND id = ?3 AND doc = ?4
                                 AND (expires_ms IS NULL OR expires_ms > ?7)",
                        )
                        .and_then(|mut s| s.execute(params![k, parent, id, old, doc, expires, now]))
                        .map_err(db)?;
                    Ok(changed == 1)
                }
            }
        })
        .await
    }

    async fn get(&self, kind: Kind, parent: &str, id: &str) -> Result<Option<String>, StoreError> {
        let (parent, id) = (parent.to_owned(), id.to_owned());
        self.run(move |c, now| {
            c.prepare_cached(
                "SELECT doc FROM api_records WHERE kind = ?1 AND parent = ?2 AND id = ?3
                     AND (expires_ms IS NULL OR expires_ms > ?4)",
            )
            .and_then(|mut s| {
                s.query_row(params![kind.as_str(), parent, id, now], |r| r.get(0))
                    .optional()
            })
            .map_err(db)
        })
        .await
    }

    async fn resolve(
        &self,
        kind: Kind,
        parent: &str,
        alias: &str,
    ) -> Result<Option<String>, StoreError> {
        let (parent, alias) = (parent.to_owned(), alias.to_owned());
        self.run(move |c, now| owner(c, kind.as_str(), &parent, &alias, now))
            .await
    }

    async fn list(
        &self,
        kind: Kind,
        parent: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let (parent, after) = (parent.to_owned(), after.map(str::to_owned));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |c, now| {
            // Text compares byte by byte (SQLite's BINARY collation): the order of Rust's `str`.
            c.prepare_cached(
                "SELECT id, doc FROM api_records
                 WHERE kind = ?1 AND parent = ?2 AND (?3 IS NULL OR id > ?3)
                     AND (expires_ms IS NULL OR expires_ms > ?4)
                 ORDER BY id LIMIT ?5",
            )
            .and_then(|mut s| {
                s.query_map(params![kind.as_str(), parent, after, now, limit], |r| {
                    Ok(Item {
                        id: r.get(0)?,
                        doc: r.get(1)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(db)
        })
        .await
    }

    async fn delete(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        aliases: &[&str],
    ) -> Result<bool, StoreError> {
        // Every alias naming the record goes with it (a superset of `aliases`): one left behind
        // would name a later record that reuses the id (an event type's name).
        let _ = aliases;
        let (parent, id) = (parent.to_owned(), id.to_owned());
        self.write(move |c, now| {
            let k = kind.as_str();
            let existed = live(c, k, &parent, &id, now)?;
            remove(c, k, &parent, &id)?;
            Ok(existed)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// How many rows each table holds, expired ones included.
    async fn rows(store: &SqliteStore) -> (i64, i64) {
        store
            .run(|c, _| {
                let n =
                    |t: &str| c.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0));
                Ok((n("api_records").map_err(db)?, n("api_aliases").map_err(db)?))
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_fresh_file_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("api.sqlite3"), crate::now).unwrap();
        hookline_api::conformance::run(&store, "sqlite").await;
    }

    /// As `hookline dev` runs it: in the queue's file, on the queue's thread, in its group
    /// commits, with queue traffic interleaved.
    #[tokio::test(flavor = "multi_thread")]
    async fn on_the_queues_database_it_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let queue = crate::store::Store::open(&dir.path().join("dev.sqlite3")).unwrap();
        let thread = StoreThread::spawn(queue).unwrap();
        let store = SqliteStore::on_queue(thread.clone(), crate::now)
            .await
            .unwrap();
        let noise = tokio::spawn(async move {
            for _ in 0..200 {
                let _ = thread
                    .run(|s| s.queue_names().map(|_| ()))
                    .await
                    .map_err(|e: crate::store::StoreError| e);
            }
        });
        hookline_api::conformance::run(&store, "sqlite-queue").await;
        noise.await.unwrap();
        // The queue's file holds the API's tables.
        assert!(rows(&store).await.0 > 0);
        assert!(!dir.path().join("api.sqlite3").exists());
    }

    #[tokio::test]
    async fn an_in_memory_database_passes_the_conformance_suite() {
        let store = SqliteStore::in_memory(crate::now).unwrap();
        hookline_api::conformance::run(&store, "sqlite").await;
    }

    #[tokio::test]
    async fn records_survive_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api.sqlite3");
        {
            let store = SqliteStore::open(&path, crate::now).unwrap();
            store
                .create(Kind::Application, "", "app_1", &["u:acme"], "{}", None)
                .await
                .unwrap();
        }
        // The thread lets go of the file once the last handle is dropped.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let store = loop {
            match SqliteStore::open(&path, crate::now) {
                Ok(s) => break s,
                Err(_) if std::time::Instant::now() < deadline => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(
            store.get(Kind::Application, "", "app_1").await.unwrap(),
            Some("{}".to_owned())
        );
        assert_eq!(
            store
                .resolve(Kind::Application, "", "u:acme")
                .await
                .unwrap(),
            Some("app_1".to_owned())
        );
    }

    #[test]
    fn a_second_process_cannot_open_a_file_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api.sqlite3");
        let _first = SqliteStore::open(&path, crate::now).unwrap();
        let second = SqliteStore::open(&path, crate::now);
        assert!(matches!(second, Err(OpenError::InUse)), "{second:?}");
    }

    fn at_2030() -> Timestamp {
        Timestamp::from_unix_secs(1_900_000_000)
    }

    #[tokio::test]
    async fn creates_delete_expired_rows_and_their_aliases() {
        let store = SqliteStore::in_memory(at_2030).unwrap();
        // Rows that expired long ago, as an earlier run would have left them.
        store
            .run(|c, _| {
                for i in 0..100 {
                    let id = format!("m{i:03}");
                    c.execute(
                        "INSERT INTO api_records VALUES ('msg', 'app', ?1, '1', 1000)",
                        [&id],
                    )
                    .map_err(db)?;
                    claim(c, "msg", "app", &format!("e{i}"), &id)?;
                }
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(store.get(Kind::Message, "app", "m000").await.unwrap(), None);
        assert_eq!(rows(&store).await, (100, 100));
        // Each create takes a batch of the expired rows with it.
        store
            .create(Kind::Message, "app", "live", &["e-live"], "2", None)
            .await
            .unwrap();
        let left = 100 - i64::try_from(PRUNE_BATCH).unwrap() + 1;
        assert_eq!(rows(&store).await, (left, left));
        store
            .create(Kind::Message, "app", "live2", &[], "3", None)
            .await
            .unwrap();
        assert_eq!(rows(&store).await, (2, 1));
    }

    #[tokio::test]
    async fn sweep_expired_deletes_what_expired_and_its_aliases_in_steps() {
        let store = SqliteStore::in_memory(at_2030).unwrap();
        // More than two steps' worth, and not a multiple of the step.
        let expired = 2 * SWEEP_BATCH + 7;
        store
            .run(move |c, _| {
                for i in 0..expired {
                    let id = format!("m{i:05}");
                    // Expiry times spread out and out of id order, as real ones are.
                    let at = 1_000 + i64::try_from((i * 7919) % 10_000).unwrap();
                    c.execute(
                        "INSERT INTO api_records VALUES ('dest', 'app/ep', ?1, '1', ?2)",
                        params![id, at],
                    )
                    .map_err(db)?;
                    claim(c, "dest", "app/ep", &format!("a{i}"), &id)?;
                }
                Ok(())
            })
            .await
            .unwrap();
        let now = at_2030();
        let later = Timestamp::from_unix_secs(now.unix_secs() + 3_600);
        store
            .create(Kind::Message, "app", "live", &["e-live"], "2", None)
            .await
            .unwrap();
        store
            .put(Kind::Destination, "app/ep", "soon", "3", Some(later))
            .await
            .unwrap();
        // The create pruned its batch already.
        let before = rows(&store).await;
        let pruned = i64::try_from(PRUNE_BATCH).unwrap();
        let n = i64::try_from(expired).unwrap();
        assert_eq!(before, (n - pruned + 2, n - pruned + 1));
        let gone = store.sweep_expired(now).await.unwrap();
        assert_eq!(gone, expired - PRUNE_BATCH);
        assert_eq!(rows(&store).await, (2, 1), "only live rows and their alias");
        assert_eq!(
            store.resolve(Kind::Message, "app", "e-live").await.unwrap(),
            Some("live".to_owned())
        );
        // Nothing more to do at the same time; an hour later the put's record goes too.
        assert_eq!(store.sweep_expired(now).await.unwrap(), 0);
        assert_eq!(store.sweep_expired(later).await.unwrap(), 1);
        assert_eq!(rows(&store).await, (1, 1));
        // A sweep leaves no transaction open.
        assert!(store.run(|c, _| Ok(c.is_autocommit())).await.unwrap());
    }

    #[tokio::test]
    async fn a_record_created_over_an_expired_one_does_not_inherit_its_aliases() {
        let store = SqliteStore::in_memory(at_2030).unwrap();
        let past = Some(Timestamp::from_unix_secs(1_000_000_000));
        store
            .create(Kind::EventType, "", "user.created", &["stale"], "1", past)
            .await
            .unwrap();
        store
            .create(Kind::EventType, "", "user.created", &[], "2", None)
            .await
            .unwrap();
        assert_eq!(
            store.resolve(Kind::EventType, "", "stale").await.unwrap(),
            None
        );
        // Nor after a delete that names none of them.
        store
            .create(Kind::EventType, "", "a", &["x"], "1", None)
            .await
            .unwrap();
        assert!(store.delete(Kind::EventType, "", "a", &[]).await.unwrap());
        store
            .create(Kind::EventType, "", "a", &[], "2", None)
            .await
            .unwrap();
        assert_eq!(store.resolve(Kind::EventType, "", "x").await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_failed_write_leaves_no_transaction_open() {
        let store = SqliteStore::in_memory(crate::now).unwrap();
        store
            .create(Kind::Application, "", "a", &["u"], "1", None)
            .await
            .unwrap();
        assert!(matches!(
            store
                .create(Kind::Application, "", "b", &["v", "u"], "2", None)
                .await,
            Err(StoreError::Conflict)
        ));
        let open = store.run(|c, _| Ok(c.is_autocommit())).await.unwrap();
        assert!(open, "the savepoint was released");
        assert_eq!(rows(&store).await, (1, 1));
    }
}
