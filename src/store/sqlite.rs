//! Sessions, the directory and failed-login counters in one SQLite file, so that a local `snowgate
//! serve` keeps its users, keys, roles, policies and sessions across restarts.
//!
//! rusqlite blocks, so every call runs on tokio's blocking pool around one connection behind a mutex:
//! the mutex orders the writers of this process, and each read-modify-write is an `IMMEDIATE`
//! transaction, so that another process on the same file (a second server started by mistake) cannot
//! slip in between the read and the write either. Sessions and documents are stored as JSON text, as
//! in DynamoDB; expired sessions and counters read as missing and are swept now and then.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{
    Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior, params,
};

use super::{
    CounterName, DirectoryStore, Failures, Found, HistoryQuery, LockoutStore, LoginEvent,
    LoginHistoryStore, ObjectKey, ObjectKind, Read, SessionStore, Store, StoreError, Versioned,
    Write, check_batch,
};
use crate::domain::session::{SealedUpstream, Session, SessionContext};

/// The database file inside the data directory.
pub const DB_FILE: &str = "snowgate.db";

/// The schema this binary writes. A later migration bumps it and upgrades older files on open; a file
/// from a newer binary is refused rather than misread.
const SCHEMA_VERSION: i64 = 1;

/// How long a write waits for another process's transaction before giving up as retryable.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Expired rows are deleted once every this many writes.
const SWEEP_EVERY: u64 = 256;

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
    writes: AtomicU64,
    path: PathBuf,
    /// Most login history rows kept ([`MAX_HISTORY_ROWS`] unless set).
    history_cap: u64,
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
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            writes: AtomicU64::new(0),
            path,
            history_cap: MAX_HISTORY_ROWS,
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
        tokio::task::spawn_blocking(move || {
            // A poisoned lock means a panic mid-call: unwinding dropped its transaction, which rolls
            // it back, so the connection is as it was before and stays usable.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Fault(format!("SQLite task failed: {e}")))?
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
fn sql_error(op: &str, e: &rusqlite::Error) -> StoreError {
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
fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn uint(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn to_json(session: &Session) -> Result<String, StoreError> {
    serde_json::to_string(session)
        .map_err(|e| StoreError::Fault(format!("session not serialisable: {e}")))
}

fn from_json(doc: &str) -> Result<Session, StoreError> {
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

/// The live session `id` at `now`, read inside `conn`.
fn live_session(conn: &Connection, id: u64, now: u64) -> Result<Option<Session>, StoreError> {
    let doc: Option<String> = conn
        .query_row(
            "SELECT doc FROM sessions WHERE id = ?1 AND expires_at > ?2",
            params![int(id), int(now)],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| sql_error("get session", &e))?;
    doc.as_deref().map(from_json).transpose()
}

/// Reads the live session, lets `change` edit it and writes it back; `false` when there is none.
fn edit_session(
    tx: &Transaction<'_>,
    id: u64,
    now: u64,
    change: impl FnOnce(&mut Session),
) -> Result<bool, StoreError> {
    let Some(mut session) = live_session(tx, id, now)? else {
        return Ok(false);
    };
    change(&mut session);
    tx.execute(
        "UPDATE sessions SET doc = ?2 WHERE id = ?1",
        params![int(id), to_json(&session)?],
    )
    .map_err(|e| sql_error("update session", &e))?;
    Ok(true)
}

fn object(
    conn: &Connection,
    kind: ObjectKind,
    name: &str,
) -> Result<Option<Versioned>, StoreError> {
    conn.query_row(
        "SELECT doc, version FROM objects WHERE kind = ?1 AND name = ?2",
        params![kind.key_prefix(), name],
        |r| {
            Ok(Versioned {
                doc: r.get(0)?,
                version: uint(r.get(1)?),
            })
        },
    )
    .optional()
    .map_err(|e| sql_error("get object", &e))
}

#[async_trait]
impl Store for SqliteStore {
    /// Every read under one lock: a consistent set, one trip to the blocking pool.
    async fn read_many(&self, reads: &[Read<'_>], now: u64) -> Result<Vec<Found>, StoreError> {
        check_batch(reads)?;
        let reads: Vec<OwnedRead> = reads.iter().map(OwnedRead::of).collect();
        self.run(move |conn| {
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

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        let (id, expires_at, doc) = (session.id, session.expires_at, to_json(session)?);
        self.write(Some(session.created_at), move |tx| {
            let inserted = tx
                .execute(
                    "INSERT INTO sessions (id, expires_at, doc) VALUES (?1, ?2, ?3)
                     ON CONFLICT (id) DO NOTHING",
                    params![int(id), int(expires_at), doc],
                )
                .map_err(|e| sql_error("create session", &e))?;
            match inserted {
                0 => Err(StoreError::AlreadyExists),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn get(&self, id: u64, now: u64) -> Result<Option<Session>, StoreError> {
        self.run(move |conn| live_session(conn, id, now)).await
    }

    async fn update_context(
        &self,
        id: u64,
        context: &SessionContext,
        now: u64,
    ) -> Result<bool, StoreError> {
        let context = context.clone();
        self.write(Some(now), move |tx| {
            edit_session(tx, id, now, |s| s.context = context)
        })
        .await
    }

    async fn rotate_token(&self, id: u64, token_id: &str, now: u64) -> Result<bool, StoreError> {
        let token_id = token_id.to_string();
        self.write(Some(now), move |tx| {
            edit_session(tx, id, now, |s| {
                let previous = std::mem::replace(&mut s.token_id, token_id);
                s.previous_token_id = Some(previous).filter(|p| !p.is_empty());
                s.renewed_at = now;
            })
        })
        .await
    }

    async fn set_upstream(
        &self,
        id: u64,
        expected: Option<&SealedUpstream>,
        new: &SealedUpstream,
        now: u64,
    ) -> Result<bool, StoreError> {
        let (expected, new) = (expected.cloned(), new.clone());
        // Read and written in one transaction: the comparison holds until the write.
        self.write(Some(now), move |tx| match live_session(tx, id, now)? {
            Some(s) if s.upstream == expected => {
                edit_session(tx, id, now, |s| s.upstream = Some(new))
            }
            _ => Ok(false),
        })
        .await
    }

    async fn touch(&self, id: u64, now: u64) -> Result<bool, StoreError> {
        self.write(Some(now), move |tx| match live_session(tx, id, now)? {
            Some(s) if !s.is_idle(now) => edit_session(tx, id, now, |s| {
                s.last_active = s.last_active.max(now);
            }),
            _ => Ok(false),
        })
        .await
    }

    async fn delete(&self, id: u64) -> Result<(), StoreError> {
        self.run(move |conn| {
            conn.execute("DELETE FROM sessions WHERE id = ?1", [int(id)])
                .map(drop)
                .map_err(|e| sql_error("delete session", &e))
        })
        .await
    }

    async fn delete_with_token(
        &self,
        id: u64,
        token_id: &str,
        now: u64,
        grace: u64,
    ) -> Result<bool, StoreError> {
        let token_id = token_id.to_string();
        self.write(Some(now), move |tx| {
            if let Some(s) = live_session(tx, id, now)?
                && !s.accepts_token(&token_id, now, grace)
            {
                return Ok(false);
            }
            tx.execute("DELETE FROM sessions WHERE id = ?1", [int(id)])
                .map_err(|e| sql_error("delete session", &e))?;
            Ok(true)
        })
        .await
    }
}

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn get_object(&self, key: ObjectKey<'_>) -> Result<Option<Versioned>, StoreError> {
        let (kind, name) = (key.kind(), key.name().to_string());
        self.run(move |conn| object(conn, kind, &name)).await
    }

    async fn put_object(
        &self,
        key: ObjectKey<'_>,
        doc: &str,
        write: Write,
    ) -> Result<u64, StoreError> {
        let (kind, name, doc) = (key.kind(), key.name().to_string(), doc.to_string());
        // Objects never expire, and the directory does not know the time: no sweep here.
        self.write(None, move |tx| {
            let current = object(tx, kind, &name)?.map(|v| v.version);
            let version = match (write, current) {
                (Write::Create, Some(_)) => return Err(StoreError::AlreadyExists),
                (Write::IfVersion(expected), Some(v)) if v == expected => v + 1,
                (Write::IfVersion(_), _) => return Err(StoreError::Conflict),
                (_, current) => current.unwrap_or(0) + 1,
            };
            tx.execute(
                "INSERT INTO objects (kind, name, doc, version) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (kind, name) DO UPDATE SET doc = excluded.doc, version = excluded.version",
                params![kind.key_prefix(), name, doc, int(version)],
            )
            .map_err(|e| sql_error("put object", &e))?;
            Ok(version)
        })
        .await
    }

    async fn delete_object(&self, key: ObjectKey<'_>) -> Result<bool, StoreError> {
        let (kind, name) = (key.kind(), key.name().to_string());
        self.run(move |conn| {
            conn.execute(
                "DELETE FROM objects WHERE kind = ?1 AND name = ?2",
                params![kind.key_prefix(), name],
            )
            .map(|n| n > 0)
            .map_err(|e| sql_error("delete object", &e))
        })
        .await
    }

    async fn list_objects(&self, kind: ObjectKind) -> Result<Vec<Versioned>, StoreError> {
        self.run(move |conn| {
            // BINARY collation: byte order, as the other stores list (upper case before lower).
            let mut stmt = conn
                .prepare_cached(
                    "SELECT doc, version FROM objects WHERE kind = ?1 ORDER BY name COLLATE BINARY",
                )
                .map_err(|e| sql_error("list objects", &e))?;
            let rows = stmt
                .query_map([kind.key_prefix()], |r| {
                    Ok(Versioned {
                        doc: r.get(0)?,
                        version: uint(r.get(1)?),
                    })
                })
                .map_err(|e| sql_error("list objects", &e))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|e| sql_error("list objects", &e))
        })
        .await
    }
}

#[async_trait]
impl LockoutStore for SqliteStore {
    async fn failures(&self, name: &CounterName, now: u64) -> Result<Failures, StoreError> {
        let name = name.as_str().to_string();
        self.run(move |conn| {
            counter(conn, &name, now).map(|c| c.map(|(f, _)| f).unwrap_or_default())
        })
        .await
    }

    async fn record_failure(
        &self,
        name: &CounterName,
        attempt: &str,
        now: u64,
        until: u64,
    ) -> Result<(Failures, bool), StoreError> {
        let (name, attempt) = (name.as_str().to_string(), attempt.to_string());
        self.write(Some(now), move |tx| {
            let live = counter(tx, &name, now)?;
            let count = match live {
                Some((f, last)) if last == attempt => return Ok((f, false)),
                Some((f, _)) => f.count.saturating_add(1),
                None => 1,
            };
            tx.execute(
                "INSERT INTO failures (name, count, until, attempt) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET
                     count = excluded.count, until = excluded.until, attempt = excluded.attempt",
                params![name, count, int(until), attempt],
            )
            .map_err(|e| sql_error("record failure", &e))?;
            Ok((Failures { count, until }, true))
        })
        .await
    }

    async fn clear_failures(&self, name: &CounterName) -> Result<(), StoreError> {
        let name = name.as_str().to_string();
        self.run(move |conn| {
            conn.execute("DELETE FROM failures WHERE name = ?1", [name])
                .map(drop)
                .map_err(|e| sql_error("clear failures", &e))
        })
        .await
    }
}

/// The live counter of `name` at `now` and the last attempt it counted.
fn counter(
    conn: &Connection,
    name: &str,
    now: u64,
) -> Result<Option<(Failures, String)>, StoreError> {
    conn.query_row(
        "SELECT count, until, attempt FROM failures WHERE name = ?1 AND until > ?2",
        params![name, int(now)],
        |r| {
            let count: i64 = r.get(0)?;
            let failures = Failures {
                count: u32::try_from(count).unwrap_or(u32::MAX),
                until: uint(r.get(1)?),
            };
            Ok((failures, r.get(2)?))
        },
    )
    .optional()
    .map_err(|e| sql_error("get failures", &e))
}

#[async_trait]
impl LoginHistoryStore for SqliteStore {
    async fn record_login(&self, event: &LoginEvent) -> Result<(), StoreError> {
        let doc = serde_json::to_string(event)
            .map_err(|e| StoreError::Fault(format!("login event not serialisable: {e}")))?;
        let (id, user, time, expires) = (
            int(event.id),
            event.user_name.clone(),
            int(event.time),
            int(event.expires_at),
        );
        self.write(Some(event.time), move |tx| {
            tx.execute(
                "INSERT INTO login_history (id, user_name, time, expires_at, doc)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
                params![id, user, time, expires, doc],
            )
            .map(drop)
            .map_err(|e| sql_error("record login", &e))
        })
        .await
    }

    async fn login_history(&self, query: &HistoryQuery) -> Result<Vec<LoginEvent>, StoreError> {
        let q = query.clone();
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT doc FROM login_history
                     WHERE (?1 IS NULL OR user_name = ?1) AND time >= ?2 AND time <= ?3
                       AND expires_at > ?4
                     ORDER BY time DESC, id DESC LIMIT ?5",
                )
                .map_err(|e| sql_error("login history", &e))?;
            let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
            let rows = stmt
                .query_map(
                    params![q.user, int(q.from), int(q.to), int(q.now), limit],
                    |r| r.get::<_, String>(0),
                )
                .map_err(|e| sql_error("login history", &e))?;
            rows.map(|doc| {
                let doc = doc.map_err(|e| sql_error("login history", &e))?;
                serde_json::from_str(&doc)
                    .map_err(|e| StoreError::Fault(format!("corrupt login event: {e}")))
            })
            .collect()
        })
        .await
    }
}
