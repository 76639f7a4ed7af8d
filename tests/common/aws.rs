//! moto_server for the AWS tests. The test command (`scripts/test`) starts it, exports
//! `SNOWGATE_TEST_AWS_ENDPOINT` and runs the tests that need it (marked `#[ignore]` so that a plain
//! `cargo test` on a machine without moto reports them as ignored).

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};

pub fn endpoint() -> String {
    std::env::var("SNOWGATE_TEST_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "SNOWGATE_TEST_AWS_ENDPOINT is not set: run ./scripts/test, which starts moto_server, \
             or start `moto_server -p 5000` and export SNOWGATE_TEST_AWS_ENDPOINT=http://127.0.0.1:5000"
        )
    })
}

/// SDK configuration for moto: the service's own settings plus the endpoint and dummy credentials.
pub async fn sdk_config() -> aws_config::SdkConfig {
    sdk_config_at(&endpoint()).await
}

pub async fn sdk_config_at(endpoint: &str) -> aws_config::SdkConfig {
    let base = snowgate::aws::sdk_config().await;
    base.into_builder()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            aws_sdk_dynamodb::config::Credentials::for_tests(),
        ))
        .behavior_version(BehaviorVersion::latest())
        .build()
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A session table shaped like template.yaml's: `pk`/`sk` string keys, TTL on `expires_at`.
pub async fn create_table(client: &aws_sdk_dynamodb::Client) -> String {
    let name = unique("snowgate-test");
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(&name)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table on moto");
    client
        .update_time_to_live()
        .table_name(&name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(snowgate::store::dynamo::TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("enable TTL on moto");
    name
}

pub async fn create_secret(client: &aws_sdk_secretsmanager::Client, value: &str) -> String {
    let name = unique("snowgate-secret");
    client
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .expect("create secret on moto");
    name
}
