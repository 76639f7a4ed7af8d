//! The store contract on SQLite, each run in a fresh data directory.

mod common;
mod contract;

use std::sync::Arc;
use std::time::Duration;

use common::names::{counter, named};
use snowgate::store::NamedKind::User;
use snowgate::store::sqlite::SqliteStore;
use snowgate::store::{DirectoryStore, StoreError, Write};

/// A store in a new temporary directory; the directory lives as long as the returned guard.
async fn store() -> (Arc<SqliteStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(dir.path())
        .await
        .expect("the store opens");
    (Arc::new(store), dir)
}

#[tokio::test]
async fn sqlite_store_keeps_the_contract() {
    let (store, _dir) = store().await;
    contract::run(store).await;
}

#[tokio::test]
async fn sqlite_directory_keeps_the_contract() {
    let (store, _dir) = store().await;
    contract::run_directory(store).await;
}

#[tokio::test]
async fn sqlite_lockout_keeps_the_contract() {
    let (store, _dir) = store().await;
    contract::run_lockout(store).await;
}

#[tokio::test]
async fn sqlite_session_and_object_keeps_the_contract() {
    let (store, _dir) = store().await;
    contract::run_session_and_object(store).await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_and_file_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().expect("a temporary directory");
    let dir = parent.path().join("nested").join("data");
    SqliteStore::open(&dir).await.expect("the store opens");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(snowgate::store::sqlite::DB_FILE)), 0o600);
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_a_fault() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join(snowgate::store::sqlite::DB_FILE);
    std::fs::write(&file, vec![0x5a; 8192]).unwrap();
    let err = SqliteStore::open(dir.path()).await.err().expect("refused");
    assert!(matches!(err, StoreError::Fault(_)), "{err:?}");
}

#[tokio::test]
async fn a_schema_from_a_newer_binary_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    drop(
        SqliteStore::open(dir.path())
            .await
            .expect("the store opens"),
    );
    let file = dir.path().join(snowgate::store::sqlite::DB_FILE);
    rusqlite::Connection::open(&file)
        .unwrap()
        .execute("UPDATE schema_version SET version = 99", [])
        .unwrap();
    let err = SqliteStore::open(dir.path()).await.err().expect("refused");
    assert!(
        matches!(&err, StoreError::Fault(m) if m.contains("99")),
        "{err:?}"
    );
}

#[tokio::test]
async fn another_process_holding_the_write_lock_is_retryable() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open_with_busy_timeout(dir.path(), Duration::from_millis(50))
        .await
        .expect("the store opens");
    let file = dir.path().join(snowgate::store::sqlite::DB_FILE);
    let other = rusqlite::Connection::open(&file).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let err = store
        .put_object(named(User, "ALICE").key(), "{}", Write::Create)
        .await
        .expect_err("the write waits, then gives up");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    other.execute_batch("ROLLBACK").unwrap();
    store
        .put_object(named(User, "ALICE").key(), "{}", Write::Create)
        .await
        .expect("written once the lock is released");
}

#[tokio::test]
async fn expired_sessions_and_counters_are_swept_from_the_file() {
    use snowgate::domain::session::Session;
    use snowgate::store::{LockoutStore, SessionStore};
    let (store, dir) = store().await;
    let now = 1_800_000_000;
    let session = Session {
        id: 42_000_000_000,
        created_at: now,
        expires_at: now + 1,
        ..Session::default()
    };
    store.create(&session).await.unwrap();
    store
        .record_failure(&counter("GONE"), "a", now, now + 1)
        .await
        .unwrap();
    let rows = |table: &str| -> i64 {
        let file = dir.path().join(snowgate::store::sqlite::DB_FILE);
        rusqlite::Connection::open(file)
            .unwrap()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!((rows("sessions"), rows("failures")), (1, 1));
    // Later writes sweep both once enough of them have gone by (every 256th write).
    for i in 0..256 {
        store
            .record_failure(&counter("LATER"), &format!("b-{i}"), now + 10, now + 900)
            .await
            .unwrap();
    }
    assert_eq!(
        (rows("sessions"), rows("failures")),
        (0, 1),
        "only LATER is left"
    );
}

#[tokio::test]
async fn sqlite_touch_keeps_the_contract() {
    let (store, _dir) = store().await;
    contract::run_touch(store).await;
}

#[tokio::test]
async fn sqlite_login_history_keeps_the_contract() {
    let (store, _dir) = store().await;
    contract::history::run(store).await;
}

#[tokio::test]
async fn sqlite_batch_reads_keep_the_contract() {
    let (store, _dir) = store().await;
    contract::batch::run_read_many(store).await;
}

/// A flood of logins cannot grow the history past its cap: the sweep deletes the oldest rows, and
/// reads still answer newest first.
#[tokio::test]
async fn the_history_keeps_at_most_its_cap_oldest_out_first() {
    use snowgate::domain::login_history::{HistoryQuery, LoginEvent, RETENTION_SECONDS};
    use snowgate::store::LoginHistoryStore;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cap = 50;
    let store = SqliteStore::open(dir.path())
        .await
        .expect("the store opens")
        .with_history_cap(cap);
    let start = 1_800_000_000u64;
    // More than two sweeps' worth (one every 256 writes).
    let written = 600u64;
    for n in 0..written {
        let time = start + n;
        store
            .record_login(&LoginEvent {
                id: (time << 21) | 1,
                time,
                user_name: Some("FLOOD".into()),
                client_ip: None,
                client_type: None,
                client_version: None,
                first_factor: None,
                second_factor: None,
                success: false,
                error_code: Some(390100),
                error_message: None,
                expires_at: time + RETENTION_SECONDS,
            })
            .await
            .expect("recorded");
    }
    let kept = store
        .login_history(&HistoryQuery {
            user: None,
            from: start,
            to: start + written,
            limit: 10_000,
            now: start + written,
        })
        .await
        .expect("read");
    // The cap, plus the writes since the last sweep (at write 512).
    assert_eq!(kept.len() as u64, cap + (written - 512));
    assert_eq!(kept[0].time, start + written - 1, "the newest is kept");
    assert_eq!(kept.last().map(|e| e.time), Some(start + 512 - cap));
}

#[tokio::test]
async fn sqlite_upstream_keeps_the_contract() {
    let (store, _dir) = store().await;
    contract::upstream::run_upstream(store).await;
}

/// Sessions and users are cached between writes (`store/sqlite/cache.rs`): a write through the
/// store is read back at once, a write by another process on the same file within a second.
#[tokio::test]
async fn cached_reads_see_this_stores_writes_at_once_and_others_within_a_second() {
    use snowgate::store::{Found, Read, Store};
    let (store, dir) = store().await;
    let alice = named(User, "ALICE");
    let read = |store: Arc<SqliteStore>| async move {
        let found = store
            .read_many(&[Read::Object(named(User, "ALICE").key())], 1_800_000_000)
            .await
            .expect("read");
        match found.as_slice() {
            [Found::Object(v)] => v.as_ref().map(|v| v.doc.clone()),
            other => panic!("{other:?}"),
        }
    };
    store
        .put_object(alice.key(), "{\"v\":1}", Write::Create)
        .await
        .unwrap();
    assert_eq!(read(Arc::clone(&store)).await.as_deref(), Some("{\"v\":1}"));
    store
        .put_object(alice.key(), "{\"v\":2}", Write::Replace)
        .await
        .unwrap();
    assert_eq!(
        read(Arc::clone(&store)).await.as_deref(),
        Some("{\"v\":2}"),
        "this store's write, at once"
    );
    // Another process: a plain connection to the file.
    let other =
        rusqlite::Connection::open(dir.path().join(snowgate::store::sqlite::DB_FILE)).unwrap();
    other
        .execute(
            "DELETE FROM objects WHERE kind = 'USER' AND name = 'ALICE'",
            [],
        )
        .unwrap();
    tokio::time::sleep(snowgate::store::sqlite::CACHE_FRESH_FOR).await;
    assert_eq!(
        read(Arc::clone(&store)).await,
        None,
        "another process's write, within the cache's freshness"
    );
}
