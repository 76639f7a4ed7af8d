//! The contract every store keeps. Each backend runs the same body: the in-memory store here,
//! SQLite in `store_contract_sqlite.rs`, DynamoDB (on moto_server) in `store_contract_dynamodb.rs`.

mod common;
mod contract;

use std::sync::Arc;

use snowgate::store::memory::MemoryStore;

#[tokio::test]
async fn memory_store_keeps_the_contract() {
    contract::run(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn memory_directory_keeps_the_contract() {
    contract::run_directory(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn memory_lockout_keeps_the_contract() {
    contract::run_lockout(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn memory_session_and_object_keeps_the_contract() {
    contract::run_session_and_object(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn memory_touch_keeps_the_contract() {
    contract::run_touch(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn memory_login_history_keeps_the_contract() {
    contract::history::run(Arc::new(MemoryStore::new())).await;
}

/// A flood of logins keeps at most the newest MAX_HISTORY_EVENTS in memory.
#[tokio::test]
async fn memory_login_history_is_capped() {
    use snowgate::domain::login_history::{HistoryQuery, LoginEvent};
    use snowgate::store::LoginHistoryStore;
    use snowgate::store::memory::MAX_HISTORY_EVENTS;
    let store = MemoryStore::new();
    let now = 1_800_000_000;
    let total = MAX_HISTORY_EVENTS as u64 + 500;
    for n in 0..total {
        let event = LoginEvent {
            id: n + 1,
            time: now + n / 100,
            user_name: Some("MALLORY".into()),
            client_ip: None,
            client_type: None,
            client_version: None,
            first_factor: None,
            second_factor: None,
            success: false,
            error_code: Some(390100),
            error_message: None,
            expires_at: now + 1_000_000,
        };
        store.record_login(&event).await.unwrap();
    }
    let all = store
        .login_history(&HistoryQuery {
            user: None,
            from: 0,
            to: u64::MAX,
            limit: usize::MAX,
            now,
        })
        .await
        .unwrap();
    assert_eq!(all.len(), MAX_HISTORY_EVENTS);
    assert_eq!(all.first().map(|e| e.id), Some(total));
    assert_eq!(all.last().map(|e| e.id), Some(501));
}

#[tokio::test]
async fn memory_batch_reads_keep_the_contract() {
    contract::batch::run_read_many(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn memory_upstream_keeps_the_contract() {
    contract::upstream::run_upstream(Arc::new(MemoryStore::new())).await;
}
