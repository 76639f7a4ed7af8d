//! The store contract on DynamoDB (moto_server, through the real AWS SDK over HTTP).

mod common;
mod contract;

use std::sync::Arc;

use snowgate::store::dynamo::DynamoStore;

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn dynamodb_store_keeps_the_contract() {
    let client = aws_sdk_dynamodb::Client::new(&common::aws::sdk_config().await);
    let table = common::aws::create_table(&client).await;
    contract::run(Arc::new(DynamoStore::new(client, table))).await;
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn dynamodb_directory_keeps_the_contract() {
    let client = aws_sdk_dynamodb::Client::new(&common::aws::sdk_config().await);
    let table = common::aws::create_table(&client).await;
    contract::run_directory(Arc::new(DynamoStore::new(client, table))).await;
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn dynamodb_lockout_keeps_the_contract() {
    let client = aws_sdk_dynamodb::Client::new(&common::aws::sdk_config().await);
    let table = common::aws::create_table(&client).await;
    contract::run_lockout(Arc::new(DynamoStore::new(client, table))).await;
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn dynamodb_session_and_object_keeps_the_contract() {
    let client = aws_sdk_dynamodb::Client::new(&common::aws::sdk_config().await);
    let table = common::aws::create_table(&client).await;
    contract::run_session_and_object(Arc::new(DynamoStore::new(client, table))).await;
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn dynamodb_touch_keeps_the_contract() {
    let client = aws_sdk_dynamodb::Client::new(&common::aws::sdk_config().await);
    let table = common::aws::create_table(&client).await;
    contract::run_touch(Arc::new(DynamoStore::new(client, table))).await;
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn dynamodb_login_history_keeps_the_contract() {
    let client = aws_sdk_dynamodb::Client::new(&common::aws::sdk_config().await);
    let table = common::aws::create_table(&client).await;
    contract::history::run(Arc::new(DynamoStore::new(client, table))).await;
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn dynamodb_batch_reads_keep_the_contract() {
    let client = aws_sdk_dynamodb::Client::new(&common::aws::sdk_config().await);
    let table = common::aws::create_table(&client).await;
    contract::batch::run_read_many(Arc::new(DynamoStore::new(client, table))).await;
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn dynamodb_upstream_keeps_the_contract() {
    let client = aws_sdk_dynamodb::Client::new(&common::aws::sdk_config().await);
    let table = common::aws::create_table(&client).await;
    contract::upstream::run_upstream(Arc::new(DynamoStore::new(client, table))).await;
}
