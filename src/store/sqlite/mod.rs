//! Sessions, the directory and failed-login counters in one SQLite file, so that a local `snowgate
//! serve` keeps its users, keys, roles, policies and sessions across restarts.
//!
//! rusqlite blocks, so calls run on tokio's blocking pool, except the point reads every request
//! makes (a session, a user), which take microseconds and run in place when a reader is free
//! (`point_read`), and are cached between writes (`cache.rs`). Writes go through one connection
//! behind a mutex: the mutex orders the writers of this process, and each read-modify-write is an
//! `IMMEDIATE` transaction, so that another process on the same file (a second server started by
//! mistake) cannot slip in between the read and the write either. Reads (every request reads its
//! session and user) go through a few read-only connections of their own: in WAL mode they run
//! beside each other and beside a write, and see every write committed before they start.
//!
//! One file per port: `sessions.rs`, `directory.rs`, `lockout.rs`, `history.rs`; the batch read
//! (`Store::read_many`) is here. Sessions and documents are stored as JSON text, as
//! in DynamoDB; expired sessions and counters read as missing and are swept now and then.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

use super::{
    CounterName, DirectoryStore, Failures, Found, HistoryQuery, LockoutStore, LoginEvent,
    LoginHistoryStore, ObjectKey, ObjectKind, Read, SessionStore, Store, StoreError, Versioned,
    Write, check_batch,
};
use crate::domain::session::{SealedUpstream, Session, SessionContext};

mod cache;
mod directory;
mod history;
mod lockout;
mod sessions;

use directory::object;
use lockout::counter;
use sessions::live_session;

/// How long a cached session or user read is used at most: writes by another process on the same
/// file reach this one within it (this store's own writes at once).
pub const CACHE_FRESH_FOR: Duration = cache::FRESH_FOR;

/// The database file inside the data directory.
pub const DB_FILE: &str = "snowgate.db";

/// The schema this binary writes. A later migration bumps it and upgrades older files on open; a file
/// from a newer binary is refused rather than misread.
const SCHEMA_VERSION: i64 = 1;

/// How long a write waits for another process's transaction before giving up as retryable.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Expired rows are deleted once every this many writes.
const SWEEP_EVERY: u64 = 256;

/// Read-only connections: one per core of a small server is enough for reads that take
/// microseconds, and each holds only SQLite's page cache.
const READERS: usize = 4;

/// Most login history rows kept: past this, the sweep deletes the oldest, so that no flood of
/// logins grows the file without bound within the seven days records are kept (the table holds at
/// most this plus the writes between two sweeps).
pub const MAX_HISTORY_ROWS: u64 = 100_000;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    doc TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS failures (
    name TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    until INTEGER NOT NULL,
    attempt TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS login_history (
    id INTEGER PRIMARY KEY,
    user_name TEXT,
    time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_history_by_user ON login_history (user_name, time, id);
CREATE INDEX IF NOT EXISTS login_history_by_time ON login_history (time, id);
CREATE INDEX IF NOT EXISTS login_history_by_expiry ON login_history (expires_at);
";

pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// Reads so far: picks the reader to wait for when none is free.
    reads: AtomicU64,
    /// Read-only connections for reads, taken by whichever is free.
    readers: Arc<Vec<Mutex<Connection>>>,
    writes: AtomicU64,
    path: PathBuf,
    /// Most login history rows kept ([`MAX_HISTORY_ROWS`] unless set).
    history_cap: u64,
    /// How long a read on the blocking pool waits for another connection's lock.
    busy: Duration,
    /// Sessions and users read lately, emptied by every write (`cache.rs`).
    cache: Arc<cache::ReadCache>,
}

impl SqliteStore {
    /// Opens (or creates) the database in `dir`, creating the directory (mode 0700) and the file
    /// (mode 0600) when missing, and the schema when new.
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with_busy_timeout(dir, BUSY_TIMEOUT).await
    }

    /// [`open`](Self::open), waiting at most `busy` for another process's write lock.
    pub async fn open_with_busy_timeout(dir: &Path, busy: Duration) -> Result<Self, StoreError> {
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(&dir, busy))
            .await
            .map_err(|e| StoreError::Fault(format!("SQLite open task failed: {e}")))?
    }

    fn open_blocking(dir: &Path, busy: Duration) -> Result<Self, StoreError> {
        let path = dir.join(DB_FILE);
        create_private(dir, &path)
            .map_err(|e| StoreError::Fault(format!("cannot create {}: {e}", path.display())))?;
        warn_if_shared(&path);
        let mut conn = Connection::open(&path).map_err(|e| sql_error("open", &e))?;
        configure(&mut conn, busy)?;
        migrate(&mut conn)?;
        let readers = (0..READERS)
            .map(|_| open_reader(&path).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            readers: Arc::new(readers),
            reads: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            path,
            history_cap: MAX_HISTORY_ROWS,
            busy,
            cache: Arc::default(),
        })
    }

    /// The same store keeping at most `cap` login history rows (plus the writes between two
    /// sweeps) instead of [`MAX_HISTORY_ROWS`]: for tests, and for small disks.
    pub fn with_history_cap(mut self, cap: u64) -> Self {
        self.history_cap = cap;
        self
    }

    /// The database file, for the start-up log line.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the connection on the blocking pool.
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let cache = Arc::clone(&self.cache);
        tokio::task::spawn_blocking(move || {
            // A poisoned lock means a panic mid-call: unwinding dropped its transaction, which rolls
            // it back, so the connection is as it was before and stays usable.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            let out = f(&mut conn);
            // Every write, committed or not, before it returns: no read cached before it is used
            // after it.
            cache.invalidate();
            out
        })
        .await
        .map_err(|e| StoreError::Fault(format!("SQLite task failed: {e}")))?
    }

    /// Runs `f` on a read-only connection on the blocking pool: the first free one, else one in turn.
    /// `f` must only read; what it reads is one snapshot (a read transaction).
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let readers = Arc::clone(&self.readers);
        let turn = self.reads.fetch_add(1, Ordering::Relaxed);
        let busy = self.busy;
        tokio::task::spawn_blocking(move || {
            let mut conn = match readers.iter().find_map(|r| r.try_lock().ok()) {
                Some(free) => free,
                None => {
                    let n = usize::try_from(turn).unwrap_or(0) % readers.len();
                    readers[n].lock().unwrap_or_else(PoisonError::into_inner)
                }
            };
            // The pool may wait for a lock: a read-only connection answers busy at once otherwise
            // (see `point_read`).
            conn.busy_timeout(busy)
                .map_err(|e| sql_error("configure reader", &e))?;
            let out = in_read_transaction(&mut conn, f);
            conn.busy_timeout(Duration::ZERO)
                .map_err(|e| sql_error("configure reader", &e))?;
            out
        })
        .await
        .map_err(|e| StoreError::Fault(format!("SQLite task failed: {e}")))?
    }

    /// A read of a few rows by key (a session, a user, a counter): every request makes one.
    ///
    /// It runs on the calling thread when a reader is free, without the trip to the blocking pool and
    /// back that costs more than the read itself: from a warm file, the prepared lookups take a few
    /// microseconds. Readers wait for no lock here (their busy timeout is zero): in WAL mode a
    /// reader meets a lock only while another connection recovers the log, and then, or when every
    /// reader is taken, the read goes to the blocking pool, where it may wait ([`Self::read`]).
    async fn point_read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        if let Some(mut conn) = self.readers.iter().find_map(|r| r.try_lock().ok()) {
            match in_read_transaction(&mut conn, &f) {
                Err(StoreError::Unavailable(_)) => {}
                done => return done,
            }
        }
        self.read(f).await
    }

    /// Runs `f` in an `IMMEDIATE` transaction (the write lock is taken before the read) and commits
    /// when it returns `Ok`. Writes that know the time (`now`) sweep expired rows now and then.
    async fn write<T, F>(&self, now: Option<u64>, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let sweep = now.filter(|_| {
            self.writes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1
        });
        let cap = self.history_cap;
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| sql_error("begin", &e))?;
            let out = f(&tx)?;
            if let Some(now) = sweep {
                sweep_expired(&tx, now, cap)?;
            }
            tx.commit().map_err(|e| sql_error("commit", &e))?;
            Ok(out)
        })
        .await
    }
}

/// Runs `f` in one read transaction on `conn`: what it reads is one snapshot.
fn in_read_transaction<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Deferred)
        .map_err(|e| sql_error("begin read", &e))?;
    let out = f(&tx)?;
    // Nothing was written: ending the read transaction either way is the same.
    tx.rollback().map_err(|e| sql_error("end read", &e))?;
    Ok(out)
}

/// Creates the directory (0700) and an empty database file (0600) if missing, so SQLite never creates
/// them with the process umask; SQLite gives its `-wal` and `-shm` files the database file's mode.
fn create_private(dir: &Path, file: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    let mut open = std::fs::OpenOptions::new();
    open.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        builder.mode(0o700);
        open.mode(0o600);
    }
    builder.create(dir)?;
    open.open(file).map(drop)
}

/// A file made by someone else (copied, restored from a backup) may be readable by other users: it
/// holds password hashes and public keys, so say so, but leave the owner's file alone.
fn warn_if_shared(file: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(file)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                file = %file.display(),
                "the SQLite database is readable by other users; chmod 600 it"
            );
        }
    }
}

/// WAL lets readers go on during a write and survives a crash mid-write by replaying or dropping the
/// log. `synchronous=FULL` syncs the log at every commit, so a write that was acknowledged (a
/// `CREATE USER` answered with success) survives a power cut too, not only a killed process; the
/// cost, one fsync per write, is small next to the argon2 hash that precedes most writes.
fn configure(conn: &mut Connection, busy: Duration) -> Result<(), StoreError> {
    conn.busy_timeout(busy)
        .map_err(|e| sql_error("configure", &e))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(|e| sql_error("configure", &e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Fault(format!(
            "SQLite refused WAL journal mode (got {mode})"
        )));
    }
    conn.execute_batch("PRAGMA synchronous = FULL;")
        .map_err(|e| sql_error("configure", &e))
}

/// A read-only connection to the database at `path` (already created and migrated).
fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn =
        Connection::open_with_flags(path, flags).map_err(|e| sql_error("open reader", &e))?;
    // Busy at once: `point_read` must not wait on an async worker; the blocking pool sets a wait.
    conn.busy_timeout(Duration::ZERO)
        .map_err(|e| sql_error("configure reader", &e))?;
    Ok(conn)
}

/// Creates the schema on a new file and checks the version of an existing one.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_error("schema", &e))?;
    tx.execute_batch(SCHEMA)
        .map_err(|e| sql_error("schema", &e))?;
    let found: Option<i64> = tx
        .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
        .map_err(|e| sql_error("schema", &e))?;
    match found {
        None => {
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [SCHEMA_VERSION],
            )
            .map_err(|e| sql_error("schema", &e))?;
        }
        Some(SCHEMA_VERSION) => {}
        Some(other) => {
            return Err(StoreError::Fault(format!(
                "SQLite schema version {other} is not the one this binary knows ({SCHEMA_VERSION})"
            )));
        }
    }
    tx.commit().map_err(|e| sql_error("schema", &e))
}

/// Deletes expired rows, and the oldest login history rows past `history_cap`.
fn sweep_expired(tx: &Transaction<'_>, now: u64, history_cap: u64) -> Result<(), StoreError> {
    let now = int(now);
    tx.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])
        .and_then(|_| tx.execute("DELETE FROM failures WHERE until <= ?1", [now]))
        .and_then(|_| tx.execute("DELETE FROM login_history WHERE expires_at <= ?1", [now]))
        // Ids grow with time (`login_history::new_event_id`): the smallest are the oldest.
        .and_then(|_| {
            tx.execute(
                "DELETE FROM login_history WHERE id <= (SELECT id FROM login_history
                 ORDER BY id DESC LIMIT 1 OFFSET ?1)",
                [int(history_cap)],
            )
        })
        .map(drop)
        .map_err(|e| sql_error("sweep", &e))
}

/// Busy or locked (another process holds the write lock past the timeout) is retryable; anything else,
/// a corrupt file, a missing table, a full disk, is a fault a retry cannot mend. Messages name the
/// operation and SQLite's reason, never a bound value.
pub(super) fn sql_error(op: &str, e: &rusqlite::Error) -> StoreError {
    let detail = format!("SQLite {op}: {e}");
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(detail)
        }
        _ => StoreError::Fault(detail),
    }
}

/// SQLite integers are signed 64-bit. Every value stored here (epoch seconds, session ids below 2^53,
/// counts) is far below `i64::MAX`; larger ones saturate rather than wrap.
pub(super) fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn uint(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(super) fn to_json(session: &Session) -> Result<String, StoreError> {
    serde_json::to_string(session)
        .map_err(|e| StoreError::Fault(format!("session not serialisable: {e}")))
}

pub(super) fn from_json(doc: &str) -> Result<Session, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Fault(format!("corrupt session record: {e}")))
}

/// A [`Read`] that can move to the blocking pool.
enum OwnedRead {
    Session(u64),
    Object(ObjectKind, String),
    Failures(String),
}

impl OwnedRead {
    fn of(read: &Read<'_>) -> Self {
        match *read {
            Read::Session(id) => OwnedRead::Session(id),
            Read::Object(key) => OwnedRead::Object(key.kind(), key.name().to_string()),
            Read::Failures(name) => OwnedRead::Failures(name.as_str().to_string()),
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    /// Every read in one read transaction: a consistent set. Sessions and users come from the
    /// cache when no write came since they were read (`cache.rs`).
    async fn read_many(&self, reads: &[Read<'_>], now: u64) -> Result<Vec<Found>, StoreError> {
        check_batch(reads)?;
        if let Some(found) = self.cache.get(reads, now) {
            return Ok(found);
        }
        let (generation, taken) = (self.cache.generation(), std::time::Instant::now());
        let owned: Vec<OwnedRead> = reads.iter().map(OwnedRead::of).collect();
        let found = self.read_owned(owned, now).await?;
        self.cache.put(generation, taken, reads, &found);
        Ok(found)
    }
}

impl SqliteStore {
    async fn read_owned(&self, reads: Vec<OwnedRead>, now: u64) -> Result<Vec<Found>, StoreError> {
        self.point_read(move |conn| {
            reads
                .iter()
                .map(|read| {
                    Ok(match read {
                        OwnedRead::Session(id) => Found::Session(live_session(conn, *id, now)?),
                        OwnedRead::Object(kind, name) => Found::Object(object(conn, *kind, name)?),
                        OwnedRead::Failures(name) => Found::Failures(
                            counter(conn, name, now)?
                                .map(|(f, _)| f)
                                .unwrap_or_default(),
                        ),
                    })
                })
                .collect()
        })
        .await
    }
}
