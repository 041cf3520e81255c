//! The embedded durable queue of `hookline dev`: SQLite, with SQS's semantics.
//!
//! - **Durable before acknowledged**: every send is committed to the write-ahead log before the
//!   caller hears back, so a `kill -9` right after a `200` loses nothing. How far beyond a
//!   process kill that goes is the [`Durability`] the store is opened with: by default the OS
//!   holds the commit (it survives the process, not a power cut); [`Durability::Power`] also
//!   syncs it to the disk before the caller hears back.
//! - **Visibility timeout**: a received message is hidden for the queue's timeout (or the one the
//!   receive asks for) and comes back unless it is deleted; `ChangeMessageVisibility` moves that
//!   moment, which is how the sender schedules retries.
//! - **Receive count and redrive**: each receive counts; a receive that would pass the queue's
//!   `max_receive_count` moves the message to the queue's dead-letter queue instead, as SQS's
//!   redrive policy does.
//! - **Delays**: `DelaySeconds` on send.
//! - **Restart**: messages a previous process had received and not finished (in flight, not
//!   scheduled for a retry) become visible again at once, instead of after their timeout: only
//!   this process consumes them, and it is gone.
//!
//! Time is passed in (milliseconds since the epoch), so tests drive the clock.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use hookline_sqs::attributes::{AttributeError, md5_hex, md5_of_attributes};
use rusqlite::{Connection, OptionalExtension as _, params};

/// One message attribute (SQS `MessageAttributes`); stored as JSON in the `attributes` column.
pub use hookline_sqs::Attribute;

/// A queue's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSpec {
    /// The queue's name.
    pub name: String,
    /// How long a received message stays hidden.
    pub visibility_timeout: Duration,
    /// The dead-letter queue and the receive count after which messages move there.
    pub redrive: Option<(String, u32)>,
}

/// What a send returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The new message's id.
    pub message_id: String,
    /// MD5 of the body, hex.
    pub md5_of_body: String,
    /// MD5 of the attributes (SQS's algorithm), when there are any.
    pub md5_of_attributes: Option<String>,
}

/// A received message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The message id (stable across receives).
    pub message_id: String,
    /// The handle that deletes or re-times this receive.
    pub receipt_handle: String,
    /// The body.
    pub body: String,
    /// MD5 of the body, hex.
    pub md5_of_body: String,
    /// The message attributes.
    pub attributes: Vec<Attribute>,
    /// How many times it has been received, this time included.
    pub receive_count: u32,
    /// When it was sent (ms since the epoch).
    pub sent_ms: i64,
    /// When it was first received (ms since the epoch).
    pub first_receive_ms: i64,
}

/// Message counts of one queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Visible now.
    pub visible: u64,
    /// Received and hidden (in flight, or waiting for a retry).
    pub in_flight: u64,
    /// Sent with a delay that has not passed.
    pub delayed: u64,
}

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No queue has that name.
    #[error("the queue {0} does not exist")]
    NoSuchQueue(String),
    /// The receipt handle matches no message currently received.
    #[error("the receipt handle is not valid (the message was deleted or received again)")]
    InvalidReceipt,
    /// SQLite failed (disk full, corrupt file...).
    #[error("the queue database failed: {0}")]
    Db(#[from] rusqlite::Error),
    /// Another process (another `hookline dev`) has the database open.
    #[error(
        "the queue database is in use by another process (is another `hookline dev` running on this --data-dir?)"
    )]
    InUse,
    /// An internal channel closed (the store's thread stopped).
    #[error("the queue database is unavailable")]
    Unavailable,
    /// The group commit this call was part of failed: nothing it wrote was kept.
    #[error("the queue database could not commit: {0}")]
    Commit(String),
    /// A message attribute's value does not match its type (a `Binary` value that is not
    /// base64), so neither its MD5 nor its bytes can be known.
    #[error("message attribute {name}: {reason}")]
    InvalidAttribute {
        /// The attribute's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A stored row cannot be read back (its attributes are not the JSON this store writes).
    #[error("the queue database holds an unreadable row: {0}")]
    Corrupt(String),
}

/// How far a commit has gone when the caller hears back: what survives what.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Durability {
    /// The commit is written to the write-ahead log (in the OS's page cache) before the answer:
    /// it survives the process dying (`kill -9`, a panic, the OOM killer), not a power cut or an
    /// OS crash, which can lose the last commits (never corrupt the file). SQLite's WAL with
    /// `synchronous = NORMAL`: the disk is synced at each checkpoint, not at each commit.
    #[default]
    Process,
    /// The write-ahead log is synced to the disk at each commit before the answer (`fsync`;
    /// `F_FULLFSYNC` on macOS): a commit also survives a power cut. SQLite's WAL with
    /// `synchronous = FULL`. Concurrent calls still share one sync (group commit).
    Power,
}

impl Durability {
    /// The name the `--durability` option takes.
    pub fn name(self) -> &'static str {
        match self {
            Durability::Process => "process",
            Durability::Power => "power",
        }
    }

    /// SQLite's `synchronous` setting for it (in WAL mode).
    fn synchronous(self) -> &'static str {
        match self {
            Durability::Process => "NORMAL",
            Durability::Power => "FULL",
        }
    }
}

/// The pages of write-ahead log after which a commit checkpoints it (see [`Store::open_with`]).
pub const WAL_CHECKPOINT_PAGES: i64 = 8192;

/// The queue database.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queues (
    name TEXT PRIMARY KEY,
    visibility_timeout_ms INTEGER NOT NULL,
    dlq TEXT,
    max_receive_count INTEGER
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    md5 TEXT NOT NULL,
    attributes TEXT NOT NULL,
    sent_ms INTEGER NOT NULL,
    visible_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive_ms INTEGER,
    receipt TEXT,
    leased INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages (queue, visible_ms, seq);
-- `message_id` has no UNIQUE index (files made before keep theirs): nothing looks a message up
-- by it, its 128 random bits do not collide, and the index put a page at a random place of its
-- b-tree into every commit that sent or deleted a message.
-- `seq` is a plain row id, not AUTOINCREMENT (which writes sqlite_sequence's page at each
-- insert): a row id freed by a delete may come back, but a receipt names its row by id and
-- random text together, so an old receipt never matches a new message. New rows still take the
-- largest id plus one: FIFO among visible messages holds. Files made before keep AUTOINCREMENT.
-- Receipts are found by the row id they start with (`receipt_seq`): an index on them would be
-- one more page written at each receive and delete. Files made before drop theirs.
DROP INDEX IF EXISTS messages_receipt;
";

impl Store {
    /// Opens (or creates) the database at `path`, each commit synced to the disk
    /// ([`Durability::Power`]).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, Durability::Power)
    }

    /// Opens (or creates) the database at `path`, its commits as durable as `durability` says.
    pub fn open_with(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        Self::setup(Connection::open(path)?, durability)
    }

    /// An in-memory database, for tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory()?, Durability::Power)
    }

    fn setup(conn: Connection, durability: Durability) -> Result<Self, StoreError> {
        let prepare = || -> Result<(), rusqlite::Error> {
            // One process owns the file: a second `hookline dev` on the same data directory
            // would take the first one's messages. The first write below takes the lock, and
            // it is held until the connection closes.
            conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
            conn.busy_timeout(Duration::from_millis(200))?;
            // WAL: a commit is in the log file (the OS's page cache at least) before it returns,
            // so it survives kill -9 whatever the setting; `synchronous` says whether it is
            // also synced to the disk then (see `Durability`). `fullfsync` makes a sync a real
            // one on macOS too, where a plain fsync is not enough.
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", durability.synchronous())?;
            conn.pragma_update(None, "fullfsync", "ON")?;
            conn.pragma_update(None, "checkpoint_fullfsync", "ON")?;
            // A checkpoint (the log copied into the database file, which is then synced) runs
            // in the commit that passes this many pages of log, and every call waits for it: at
            // SQLite's default (1,000 pages, 4 MB) that was a twelfth of the store thread's time
            // under load, most of it the sync. At 8,192 pages (32 MiB of 4 KiB pages) there are
            // eight times fewer, and each copies a page rewritten many times once.
            conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)?;
            tune(&conn)?;
            conn.execute_batch(SCHEMA)
        };
        prepare().map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::InUse
            }
            _ => StoreError::Db(e),
        })?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StoreError> {
        // A panic while the lock was held left at most an unfinished transaction, which SQLite
        // rolled back when it was dropped: the connection is fine to use.
        Ok(self
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Lends the connection to `f`, for other tables kept in this file (the management API's,
    /// [`crate::api_store`]). Called on the store's thread ([`StoreThread::run`]), `f`'s writes
    /// join the group commit like any other call's; `f` wraps them in a savepoint of its own.
    pub fn with_connection<R>(&self, f: impl FnOnce(&Connection) -> R) -> Result<R, StoreError> {
        let conn = self.conn()?;
        Ok(f(&conn))
    }

    /// Opens a transaction that the calls up to [`Store::commit`] join (each of theirs becomes
    /// a savepoint): many sends, one fsync. Only the worker thread of [`crate::store`]'s owner
    /// does this, between requests.
    pub fn begin(&self) -> Result<(), StoreError> {
        run_cached(&*self.conn()?, "BEGIN IMMEDIATE")?;
        Ok(())
    }

    /// Runs `f` as one unit: everything it wrote is kept if it succeeds, nothing if it fails
    /// (a savepoint, so it nests inside a group commit).
    pub fn atomically<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Store) -> Result<R, E>,
    ) -> Result<R, E> {
        // `f` takes the lock itself: it is not held across the call.
        ACTION.open(&*self.conn()?).map_err(|e| E::from(e.into()))?;
        let result = f(self);
        ACTION
            .close(&*self.conn()?, result.is_ok())
            .map_err(|e| E::from(e.into()))?;
        result
    }

    /// Commits what [`Store::begin`] opened.
    pub fn commit(&self) -> Result<(), StoreError> {
        let conn = self.conn()?;
        if let Err(e) = run_cached(&conn, "COMMIT") {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e.into());
        }
        Ok(())
    }

    /// Creates `spec`'s queue, or updates its settings.
    pub fn ensure_queue(&self, spec: &QueueSpec) -> Result<(), StoreError> {
        let (dlq, max) = match &spec.redrive {
            Some((d, m)) => (Some(d.as_str()), Some(*m)),
            None => (None, None),
        };
        self.conn()?.execute(
            "INSERT INTO queues (name, visibility_timeout_ms, dlq, max_receive_count)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(name) DO UPDATE SET visibility_timeout_ms = ?2, dlq = ?3,
                 max_receive_count = ?4",
            params![spec.name, millis(spec.visibility_timeout), dlq, max],
        )?;
        Ok(())
    }

    /// The names of every queue.
    pub fn queue_names(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT name FROM queues ORDER BY name")?;
        let names = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(names)
    }

    /// The queue's settings.
    pub fn queue(&self, name: &str) -> Result<QueueSpec, StoreError> {
        let conn = self.conn()?;
        queue_spec(&conn, name)
    }

    /// Makes every message of `queue` that was received but not finished, and not scheduled
    /// for a retry, visible now (see the module docs). Only for a queue this process alone
    /// consumes: other consumers' receipts would stop working. Returns how many.
    pub fn release_leases(&self, queue: &str, now_ms: i64) -> Result<usize, StoreError> {
        Ok(self.conn()?.execute(
            "UPDATE messages SET visible_ms = ?2, receipt = NULL, leased = 0
             WHERE queue = ?1 AND leased = 1 AND visible_ms > ?2",
            params![queue, now_ms],
        )?)
    }

    /// Sends messages (one transaction, so all or none are stored); each is
    /// `(body, attributes, delay)`.
    pub fn send_batch(
        &self,
        queue: &str,
        messages: &[(String, Vec<Attribute>, Duration)],
        now_ms: i64,
    ) -> Result<Vec<Sent>, StoreError> {
        let conn = self.conn()?;
        CALL.run(
            &conn,
            |tx| insert_batch(tx, queue, messages, now_ms),
            StoreError::from,
        )
    }

    /// Sends one message.
    pub fn send(
        &self,
        queue: &str,
        body: String,
        attributes: Vec<Attribute>,
        delay: Duration,
        now_ms: i64,
    ) -> Result<Sent, StoreError> {
        self.send_batch(queue, &[(body, attributes, delay)], now_ms)?
            .pop()
            .ok_or(StoreError::Unavailable)
    }

    /// Receives up to `max` visible messages, hiding each for `visibility` (the queue's timeout
    /// when `None`). Messages past the redrive limit move to the dead-letter queue instead.
    pub fn receive(
        &self,
        queue: &str,
        max: usize,
        visibility: Option<Duration>,
        now_ms: i64,
    ) -> Result<Vec<Received>, StoreError> {
        let conn = self.conn()?;
        CALL.run(
            &conn,
            |tx| lease_batch(tx, queue, max, visibility, now_ms),
            StoreError::from,
        )
    }

    /// Deletes the received message `receipt` names. A receipt whose message is already gone
    /// is not an error (SQS behaves the same).
    pub fn delete(&self, queue: &str, receipt: &str) -> Result<(), StoreError> {
        let conn = self.conn()?;
        queue_spec(&conn, queue)?;
        let Some(seq) = receipt_seq(receipt) else {
            return Ok(()); // not a receipt this store made: it names no message
        };
        conn.prepare_cached("DELETE FROM messages WHERE seq = ?1 AND queue = ?2 AND receipt = ?3")?
            .execute(params![seq, queue, receipt])?;
        Ok(())
    }

    /// Hides the received message `receipt` names until `now + timeout` (0 = visible now). A
    /// message hidden this way is scheduled, not in flight: a restart does not release it.
    pub fn change_visibility(
        &self,
        queue: &str,
        receipt: &str,
        timeout: Duration,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let conn = self.conn()?;
        queue_spec(&conn, queue)?;
        let Some(seq) = receipt_seq(receipt) else {
            return Err(StoreError::InvalidReceipt);
        };
        let changed = conn
            .prepare_cached(
                "UPDATE messages SET visible_ms = ?3, leased = 0
                 WHERE seq = ?4 AND queue = ?1 AND receipt = ?2",
            )?
            .execute(params![
                queue,
                receipt,
                now_ms.saturating_add(millis(timeout)),
                seq
            ])?;
        if changed == 0 {
            return Err(StoreError::InvalidReceipt);
        }
        Ok(())
    }

    /// Message counts for `queue`.
    pub fn counts(&self, queue: &str, now_ms: i64) -> Result<Counts, StoreError> {
        let conn = self.conn()?;
        queue_spec(&conn, queue)?;
        let row = conn.query_row(
            "SELECT
                COALESCE(SUM(visible_ms <= ?2), 0),
                COALESCE(SUM(visible_ms > ?2 AND receive_count > 0), 0),
                COALESCE(SUM(visible_ms > ?2 AND receive_count = 0), 0)
             FROM messages WHERE queue = ?1",
            params![queue, now_ms],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(Counts {
            visible: n(row.0),
            in_flight: n(row.1),
            delayed: n(row.2),
        })
    }

    /// When the next hidden message of `queue` becomes visible, if any.
    pub fn next_visible_ms(&self, queue: &str) -> Result<Option<i64>, StoreError> {
        let conn = self.conn()?;
        Ok(conn
            .prepare_cached("SELECT MIN(visible_ms) FROM messages WHERE queue = ?1")?
            .query_row(params![queue], |r| r.get::<_, Option<i64>>(0))
            .optional()?
            .flatten())
    }

    /// Deletes every message of `queue`.
    pub fn purge(&self, queue: &str) -> Result<usize, StoreError> {
        let conn = self.conn()?;
        queue_spec(&conn, queue)?;
        Ok(conn.execute("DELETE FROM messages WHERE queue = ?1", params![queue])?)
    }
}

/// [`Store::send_batch`]'s work, inside its savepoint.
fn insert_batch(
    tx: &Connection,
    queue: &str,
    messages: &[(String, Vec<Attribute>, Duration)],
    now_ms: i64,
) -> Result<Vec<Sent>, StoreError> {
    queue_spec(tx, queue)?;
    let mut out = Vec::with_capacity(messages.len());
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO messages (queue, message_id, body, md5, attributes, sent_ms, visible_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (body, attributes, delay) in messages {
            let sent = Sent {
                message_id: new_message_id(),
                md5_of_body: md5_hex(body.as_bytes()),
                md5_of_attributes: md5_of_attributes(attributes)?,
            };
            let attrs = serde_json::to_string(attributes)
                .map_err(|e| StoreError::Corrupt(format!("attributes: {e}")))?;
            insert.execute(params![
                queue,
                sent.message_id,
                body,
                sent.md5_of_body,
                attrs,
                now_ms,
                now_ms.saturating_add(millis(*delay)),
            ])?;
            out.push(sent);
        }
    }
    Ok(out)
}

/// [`Store::receive`]'s work, inside its savepoint.
fn lease_batch(
    tx: &Connection,
    queue: &str,
    max: usize,
    visibility: Option<Duration>,
    now_ms: i64,
) -> Result<Vec<Received>, StoreError> {
    let spec = queue_spec(tx, queue)?;
    let hide_ms = millis(visibility.unwrap_or(spec.visibility_timeout));
    let mut out = Vec::new();
    {
        let mut select = tx.prepare_cached(
            "SELECT seq, message_id, body, md5, attributes, sent_ms, receive_count,
                        first_receive_ms
                 FROM messages WHERE queue = ?1 AND visible_ms <= ?2
                 ORDER BY visible_ms, seq LIMIT ?3",
        )?;
        // Ask for a few more than `max`: some may be dead-lettered on the way.
        let limit = i64::try_from(max.saturating_mul(2).max(1)).unwrap_or(i64::MAX);
        let rows = select
            .query_map(params![queue, now_ms, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, u32>(6)?,
                    r.get::<_, Option<i64>>(7)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut to_dlq = tx.prepare_cached(
            "UPDATE messages SET queue = ?2, visible_ms = ?3, receipt = NULL, leased = 0,
                        receive_count = 0, first_receive_ms = NULL
                 WHERE seq = ?1",
        )?;
        let mut lease = tx.prepare_cached(
            "UPDATE messages SET visible_ms = ?2, receive_count = ?3, first_receive_ms = ?4,
                        receipt = ?5, leased = 1
                 WHERE seq = ?1",
        )?;
        for (seq, message_id, body, md5, attrs, sent_ms, count, first) in rows {
            if out.len() >= max {
                break;
            }
            let count = count.saturating_add(1);
            if let Some((dlq, limit)) = &spec.redrive
                && count > *limit
            {
                to_dlq.execute(params![seq, dlq, now_ms])?;
                continue;
            }
            // A row this store wrote always holds its attributes' JSON; one that does not is
            // an error (the whole receive rolls back), never a message without attributes.
            let attributes: Vec<Attribute> = serde_json::from_str(&attrs).map_err(|e| {
                StoreError::Corrupt(format!("message {message_id}: attributes: {e}"))
            })?;
            let receipt = new_receipt(seq);
            let first = first.unwrap_or(now_ms);
            lease.execute(params![
                seq,
                now_ms.saturating_add(hide_ms),
                count,
                first,
                receipt
            ])?;
            out.push(Received {
                message_id,
                receipt_handle: receipt,
                body,
                md5_of_body: md5,
                attributes,
                receive_count: count,
                sent_ms,
                first_receive_ms: first,
            });
        }
    }
    Ok(out)
}

/// A job for the store's thread: it runs, then hears whether its group committed.
type Job = Box<dyn FnOnce(&Store) -> Finish + Send>;
/// Sends a job's result once the outcome of its group's commit is known.
type Finish = Box<dyn FnOnce(Option<&StoreError>) + Send>;

/// The [`Store`] on a thread of its own, so that SQLite's work (and each commit's fsync) never
/// blocks the async runtime. Calls that arrive while a commit is under way are grouped into
/// one transaction (each call a savepoint of it), so concurrent requests share one fsync, and
/// every caller hears back only after the commit that holds its writes.
#[derive(Clone, Debug)]
pub struct StoreThread {
    jobs: std::sync::mpsc::Sender<Job>,
}

/// The most calls grouped into one commit.
const MAX_GROUP: usize = 256;

impl StoreThread {
    /// Moves `store` to a new thread.
    pub fn spawn(store: Store) -> Result<Self, StoreError> {
        let (jobs, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("hookline-store".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut group = vec![first];
                    while group.len() < MAX_GROUP {
                        match rx.try_recv() {
                            Ok(job) => group.push(job),
                            Err(_) => break,
                        }
                    }
                    let grouped = group.len() > 1 && store.begin().is_ok();
                    let finish: Vec<Finish> = group.into_iter().map(|job| job(&store)).collect();
                    let outcome = if grouped { store.commit().err() } else { None };
                    for f in finish {
                        f(outcome.as_ref());
                    }
                }
            })
            .map_err(|_| StoreError::Unavailable)?;
        Ok(Self { jobs })
    }

    /// Runs `f` on the store's thread; its result comes back once its writes are committed.
    pub async fn run<R: Send + 'static, E: From<StoreError> + Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |store| {
            let result = f(store);
            Box::new(move |commit: Option<&StoreError>| {
                let result = match commit {
                    Some(e) => Err(StoreError::Commit(e.to_string()).into()),
                    None => result,
                };
                let _ = tx.send(result);
            })
        });
        self.jobs
            .send(job)
            .map_err(|_| E::from(StoreError::Unavailable))?;
        rx.await.map_err(|_| E::from(StoreError::Unavailable))?
    }
}

/// Settings of the connection that make repeated statements cheap: prepared statements are
/// kept for every statement this file and [`crate::api_store`] run (rusqlite keeps 16 by
/// default, fewer than they use, so some were parsed again at each call), and the query
/// planner's stability guarantee is on: without it SQLite prepares a statement again each time
/// a `LIMIT ?` parameter is bound (it reads the value to plan with), which the receive of every
/// delivery batch did.
pub(crate) fn tune(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

/// How many prepared statements a connection keeps: more than this file and
/// [`crate::api_store`] hold.
const STATEMENT_CACHE: usize = 64;

/// Runs a statement that takes no parameters and returns no rows (`SAVEPOINT x`, `COMMIT`),
/// prepared once: `execute_batch` would parse it at each call.
pub(crate) fn run_cached(conn: &Connection, sql: &str) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// A named savepoint's statements, each prepared once ([`run_cached`]): they run at every call.
pub(crate) struct Savepoint {
    open: &'static str,
    release: &'static str,
    rollback: &'static str,
}

/// [`Store::atomically`]'s savepoint.
const ACTION: Savepoint = Savepoint::new(
    "SAVEPOINT hookline_action",
    "RELEASE hookline_action",
    "ROLLBACK TO hookline_action",
);

/// The savepoint of each queue call ([`Store::send_batch`], [`Store::receive`]).
const CALL: Savepoint = Savepoint::new(
    "SAVEPOINT hookline_call",
    "RELEASE hookline_call",
    "ROLLBACK TO hookline_call",
);

impl Savepoint {
    /// Its statements: `SAVEPOINT x`, `RELEASE x`, `ROLLBACK TO x`, for one name `x`.
    pub(crate) const fn new(
        open: &'static str,
        release: &'static str,
        rollback: &'static str,
    ) -> Self {
        Self {
            open,
            release,
            rollback,
        }
    }

    pub(crate) fn open(&self, conn: &Connection) -> Result<(), rusqlite::Error> {
        run_cached(conn, self.open)
    }

    /// Ends it: what was written since [`Self::open`] is kept (`kept`) or rolled back.
    pub(crate) fn close(&self, conn: &Connection, kept: bool) -> Result<(), rusqlite::Error> {
        if !kept {
            run_cached(conn, self.rollback)?;
        }
        run_cached(conn, self.release)
    }

    /// Runs `f` in this savepoint: everything it wrote is kept if it succeeds, nothing if it
    /// fails. On its own (autocommit) releasing it commits; inside a group commit it nests.
    pub(crate) fn run<R, E>(
        &self,
        conn: &Connection,
        f: impl FnOnce(&Connection) -> Result<R, E>,
        db: impl Fn(rusqlite::Error) -> E,
    ) -> Result<R, E> {
        let outermost = conn.is_autocommit();
        self.open(conn).map_err(&db)?;
        let result = f(conn);
        if let Err(e) = self.close(conn, result.is_ok()) {
            // Its commit failed (disk full, I/O error): leave nothing open for the next call,
            // which would otherwise join this transaction. (Inside a group commit the group's
            // own COMMIT decides, and fails every call of it if need be.)
            if outermost && !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            return Err(db(e));
        }
        result
    }
}

fn queue_spec(conn: &Connection, name: &str) -> Result<QueueSpec, StoreError> {
    // Every queue call reads it: the statement is prepared once.
    conn.prepare_cached(
        "SELECT visibility_timeout_ms, dlq, max_receive_count FROM queues WHERE name = ?1",
    )?
    .query_row(params![name], |r| {
        let vt: i64 = r.get(0)?;
        let dlq: Option<String> = r.get(1)?;
        let max: Option<u32> = r.get(2)?;
        Ok(QueueSpec {
            name: name.to_owned(),
            visibility_timeout: Duration::from_millis(u64::try_from(vt).unwrap_or(0)),
            redrive: dlq.zip(max),
        })
    })
    .optional()?
    .ok_or_else(|| StoreError::NoSuchQueue(name.to_owned()))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn new_message_id() -> String {
    let a = fastrand::u128(..);
    let h = format!("{a:032x}");
    // UUID layout, as SQS message ids have.
    format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or_default(),
        h.get(8..12).unwrap_or_default(),
        h.get(12..16).unwrap_or_default(),
        h.get(16..20).unwrap_or_default(),
        h.get(20..32).unwrap_or_default()
    )
}

/// The row id a receipt of [`new_receipt`]'s form starts with; `None` for any other text (a
/// client's receipt is untrusted). The whole receipt must still match the row's.
fn receipt_seq(receipt: &str) -> Option<i64> {
    receipt.split_once('-')?.0.parse().ok()
}

fn new_receipt(seq: i64) -> String {
    format!("{seq}-{:032x}", fastrand::u128(..))
}

impl From<AttributeError> for StoreError {
    fn from(e: AttributeError) -> Self {
        match e {
            AttributeError::BinaryNotBase64 { name, reason } => StoreError::InvalidAttribute {
                name,
                reason: format!("a Binary value must be base64: {reason}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A queue with a 30 s visibility timeout.
    fn spec(name: &str, redrive: Option<(&str, u32)>) -> QueueSpec {
        QueueSpec {
            name: name.into(),
            visibility_timeout: Duration::from_secs(30),
            redrive: redrive.map(|(d, n)| (d.into(), n)),
        }
    }

    fn store() -> Store {
        let s = Store::in_memory().unwrap();
        s.ensure_queue(&spec("q", Some(("dlq", 3)))).unwrap();
        s.ensure_queue(&spec("dlq", None)).unwrap();
        s
    }

    fn send(s: &Store, body: &str, now: i64) -> Sent {
        s.send("q", body.into(), vec![], Duration::ZERO, now)
            .unwrap()
    }

    #[test]
    fn received_messages_hide_for_the_visibility_timeout_then_come_back() {
        let s = store();
        let sent = send(&s, "a", 1_000);
        assert_eq!(sent.md5_of_body, "0cc175b9c0f1b6a831c399e269772661");
        let got = s.receive("q", 10, None, 1_000).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].message_id, sent.message_id);
        assert_eq!(got[0].receive_count, 1);
        assert!(s.receive("q", 10, None, 30_999).unwrap().is_empty());
        let again = s.receive("q", 10, None, 31_000).unwrap();
        assert_eq!(again[0].receive_count, 2);
        assert_ne!(again[0].receipt_handle, got[0].receipt_handle);
        assert_eq!(again[0].first_receive_ms, 1_000);
    }

    #[test]
    fn delete_needs_the_current_receipt_and_removes_the_message() {
        let s = store();
        send(&s, "a", 0);
        let first = s.receive("q", 1, Some(Duration::ZERO), 0).unwrap();
        let second = s.receive("q", 1, None, 0).unwrap();
        // The stale receipt deletes nothing.
        s.delete("q", &first[0].receipt_handle).unwrap();
        assert_eq!(s.counts("q", 0).unwrap().in_flight, 1);
        s.delete("q", &second[0].receipt_handle).unwrap();
        assert_eq!(s.counts("q", 100_000).unwrap(), Counts::default());
    }

    #[test]
    fn receipts_not_of_this_store_s_form_name_no_message() {
        let s = store();
        send(&s, "a", 0);
        let r = s.receive("q", 1, None, 0).unwrap();
        let good = &r[0].receipt_handle;
        let (seq, random) = good.split_once('-').unwrap();
        for bad in [
            "".to_owned(),
            "-".to_owned(),
            "x-y".to_owned(),
            random.to_owned(),
            format!("{seq}-"),
            format!("{seq}-{random}0"),
            format!("9{seq}-{random}"),
        ] {
            s.delete("q", &bad).unwrap();
            assert!(matches!(
                s.change_visibility("q", &bad, Duration::ZERO, 0),
                Err(StoreError::InvalidReceipt)
            ));
        }
        assert_eq!(s.counts("q", 0).unwrap().in_flight, 1, "still there");
        s.delete("q", good).unwrap();
        assert_eq!(s.counts("q", 100_000).unwrap(), Counts::default());
    }

    #[test]
    fn change_visibility_schedules_and_survives_release() {
        let s = store();
        send(&s, "a", 0);
        let r = s.receive("q", 1, None, 0).unwrap();
        s.change_visibility("q", &r[0].receipt_handle, Duration::from_secs(10), 0)
            .unwrap();
        assert_eq!(
            s.release_leases("q", 1).unwrap(),
            0,
            "a scheduled retry is kept"
        );
        assert!(s.receive("q", 1, None, 9_999).unwrap().is_empty());
        assert_eq!(s.receive("q", 1, None, 10_000).unwrap().len(), 1);
        assert!(matches!(
            s.change_visibility("q", "nope", Duration::ZERO, 0),
            Err(StoreError::InvalidReceipt)
        ));
    }

    #[test]
    fn in_flight_messages_are_released_on_restart() {
        let s = store();
        send(&s, "a", 0);
        s.receive("q", 1, None, 0).unwrap();
        assert_eq!(s.release_leases("q", 5).unwrap(), 1);
        assert_eq!(s.receive("q", 1, None, 5).unwrap().len(), 1);
    }

    #[test]
    fn redrive_moves_messages_past_max_receive_count_to_the_dlq() {
        let s = store();
        let sent = send(&s, "poison", 0);
        for i in 0..3 {
            assert_eq!(s.receive("q", 1, Some(Duration::ZERO), i).unwrap().len(), 1);
        }
        assert!(s.receive("q", 1, None, 10).unwrap().is_empty());
        let dead = s.receive("dlq", 1, None, 10).unwrap();
        assert_eq!(dead[0].message_id, sent.message_id);
        assert_eq!(dead[0].body, "poison");
    }

    #[test]
    fn delays_hold_messages_back_and_order_is_fifo_among_visible() {
        let s = store();
        s.send("q", "late".into(), vec![], Duration::from_secs(5), 0)
            .unwrap();
        send(&s, "one", 0);
        send(&s, "two", 0);
        assert_eq!(s.counts("q", 0).unwrap().delayed, 1);
        let got: Vec<String> = s
            .receive("q", 10, None, 0)
            .unwrap()
            .into_iter()
            .map(|m| m.body)
            .collect();
        assert_eq!(got, ["one", "two"]);
        assert_eq!(s.receive("q", 10, None, 5_000).unwrap()[0].body, "late");
    }

    #[test]
    fn unknown_queues_are_errors() {
        let s = store();
        assert!(matches!(
            s.send("nope", "a".into(), vec![], Duration::ZERO, 0),
            Err(StoreError::NoSuchQueue(_))
        ));
    }

    #[test]
    fn sends_survive_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.sqlite3");
        {
            let s = Store::open(&path).unwrap();
            s.ensure_queue(&spec("q", None)).unwrap();
            send(&s, "kept", 0);
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.receive("q", 1, None, 0).unwrap()[0].body, "kept");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn concurrent_calls_on_the_store_thread_commit_together_and_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.sqlite3");
        let s = Store::open(&path).unwrap();
        s.ensure_queue(&spec("q", None)).unwrap();
        let thread = StoreThread::spawn(s).unwrap();
        let calls: Vec<_> = (0..200)
            .map(|i| {
                let t = thread.clone();
                tokio::spawn(async move {
                    t.run(move |s| s.send("q", format!("m{i}"), vec![], Duration::ZERO, 0))
                        .await
                })
            })
            .collect();
        // One call in the middle fails (no such queue): only its own savepoint is undone.
        let bad = thread
            .run(|s| s.send("nope", "x".into(), vec![], Duration::ZERO, 0))
            .await;
        assert!(matches!(bad, Err(StoreError::NoSuchQueue(_))));
        for c in calls {
            c.await.unwrap().unwrap();
        }
        let n = thread.run(|s| s.counts("q", 0)).await.unwrap();
        assert_eq!(n.visible, 200);
        drop(thread);
        // Committed for real: a new connection sees them all, once the thread let go of the
        // file (it stops when its last handle is dropped).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let again = loop {
            match Store::open(&path) {
                Ok(s) => break s,
                Err(StoreError::InUse) if std::time::Instant::now() < deadline => {
                    std::thread::yield_now();
                }
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(again.counts("q", 0).unwrap().visible, 200);
    }

    #[test]
    fn each_durability_sets_its_sync_mode_and_wal() {
        let dir = tempfile::tempdir().unwrap();
        for (durability, synchronous) in [(Durability::Process, 1), (Durability::Power, 2)] {
            let path = dir.path().join(format!("{}.sqlite3", durability.name()));
            let s = Store::open_with(&path, durability).unwrap();
            let conn = s.conn().unwrap();
            let mode: i64 = conn
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap();
            // 1 = NORMAL, 2 = FULL
            assert_eq!(mode, synchronous, "{durability:?}");
            let journal: String = conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            assert_eq!(journal, "wal", "{durability:?}");
            // docs/cli.md's durability table: "synced at each checkpoint, about every 32 MiB".
            let pages: i64 = conn
                .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
                .unwrap();
            assert_eq!(pages, WAL_CHECKPOINT_PAGES, "{durability:?}");
            assert_eq!(pages * 4096, 32 << 20);
        }
        assert_eq!(Durability::default(), Durability::Process);
    }

    #[test]
    fn a_second_process_cannot_open_a_database_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.sqlite3");
        drop(Store::open(&path).unwrap()); // the file and its tables exist: reads only now
        let _first = Store::open(&path).unwrap();
        assert!(matches!(Store::open(&path), Err(StoreError::InUse)));
    }

    #[test]
    fn a_binary_attribute_that_is_not_base64_is_refused_and_nothing_is_stored() {
        // (The digest itself is hookline-sqs's, tested there.)
        let bad = Attribute {
            name: "blob".into(),
            data_type: "Binary".into(),
            value: "not base64!".into(),
        };
        let store = Store::in_memory().unwrap();
        store.ensure_queue(&spec("q", None)).unwrap();
        let sent = store.send_batch("q", &[("x".into(), vec![bad], Duration::ZERO)], 0);
        assert!(
            matches!(sent, Err(StoreError::InvalidAttribute { ref name, .. }) if name == "blob"),
            "{sent:?}"
        );
        let message = sent.unwrap_err().to_string();
        assert!(
            message.starts_with("message attribute blob: a Binary value must be base64: "),
            "{message}"
        );
        assert_eq!(store.counts("q", 0).unwrap().visible, 0);
    }
}
