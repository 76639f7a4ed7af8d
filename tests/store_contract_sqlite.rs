//! The store contract on SQLite, each run in a fresh data directory.

mod common;
mod contract;

use std::sync::Arc;

use snowgate::store::sqlite::SqliteStore;

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
