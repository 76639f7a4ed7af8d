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
