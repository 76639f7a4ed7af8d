//! Secrets Manager loading, refresh and rotation, and backend outages, through the real AWS SDK against
//! moto_server.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use common::aws;
use secrecy::ExposeSecret;
use serde_json::json;
use snowgate::domain::{Gatekeeper, Settings};
use snowgate::secrets::SecretSource;
use snowgate::secrets::manager::SecretsManagerSource;
use snowgate::store::Store;
use snowgate::store::dynamo::DynamoStore;
use snowgate::store::memory::MemoryStore;

const LOGIN: &str = "/session/v1/login-request";

async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&aws::sdk_config().await)
}

/// A secret whose `jwt_secret` is `jwt` made up to the 32-byte minimum.
fn secret_json(jwt: &str, password: &str) -> String {
    let jwt = format!("{jwt}-padded-to-the-32-byte-minimum");
    json!({"jwt_secret": jwt, "demo_user": "svc_demo", "demo_password": password}).to_string()
}

/// An app whose secrets come from `source`, with the wall clock, over `store`.
fn app_over(store: Arc<dyn Store>, source: Arc<SecretsManagerSource>) -> common::TestApp {
    let gate = Gatekeeper::new(
        Arc::clone(&store),
        Arc::new(source),
        Settings::default(),
        snowgate::domain::gatekeeper::system_clock(),
    );
    common::TestApp::over_gate(store, gate)
}

/// The same, over sessions in memory.
fn app_with(source: Arc<SecretsManagerSource>) -> common::TestApp {
    app_over(Arc::new(MemoryStore::new()), source)
}

/// A new secret version: AWSCURRENT moves to it, the old one becomes AWSPREVIOUS.
async fn rotate(client: &aws_sdk_secretsmanager::Client, id: &str, value: String) {
    client
        .put_secret_value()
        .secret_id(id)
        .secret_string(value)
        .send()
        .await
        .unwrap();
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn secret_is_loaded_and_used_for_logins() {
    let client = secrets_client().await;
    let id = aws::create_secret(&client, &secret_json("jwt-one", "pass-one")).await;
    let source = SecretsManagerSource::load(client, &id, Duration::from_secs(300))
        .await
        .unwrap();
    let material = source.current();
    assert_eq!(material.demo_user, "svc_demo");
    assert_eq!(material.demo_password.expose_secret(), "pass-one");
    let app = app_with(source);
    let (_, v) = app
        .post(LOGIN, None, common::login_body("SVC_DEMO", "pass-one"))
        .await;
    assert_eq!(v["success"], true, "{v}");
    let (_, v) = app
        .post(LOGIN, None, common::login_body("embucket", "embucket"))
        .await;
    common::assert_failure(&v, "390100");
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn startup_errors_name_the_secret_and_key_never_a_value() {
    let client = secrets_client().await;
    let missing = aws::unique("absent");
    let err = SecretsManagerSource::load(client.clone(), &missing, Duration::from_secs(1))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains(&missing), "{err}");

    let no_jwt = json!({"demo_user": "u", "demo_password": "hunter2-value"}).to_string();
    let id = aws::create_secret(&client, &no_jwt).await;
    let err = SecretsManagerSource::load(client.clone(), &id, Duration::from_secs(1))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains(&id) && err.contains("jwt_secret"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");

    let id = aws::create_secret(&client, "hunter2-not-json").await;
    let err = SecretsManagerSource::load(client, &id, Duration::from_secs(1))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains(&id) && !err.contains("hunter2"), "{err}");
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn a_jwt_secret_under_32_bytes_is_refused_at_start_and_on_rotation() {
    let client = secrets_client().await;
    let weak = "hunter2-short-jwt-secret-31byte";
    assert_eq!(weak.len(), 31);
    let value = json!({"jwt_secret": weak, "demo_user": "u", "demo_password": "p"}).to_string();
    let id = aws::create_secret(&client, &value).await;
    let err = SecretsManagerSource::load(client.clone(), &id, Duration::from_secs(1))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains(&id), "{err}");
    assert!(
        err.contains("jwt_secret") && err.contains("32 bytes"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");

    // A rotation to a weak secret fails the refresh; the strong one stays in force.
    let id = aws::create_secret(&client, &secret_json("jwt-one", "pass-one")).await;
    let source = SecretsManagerSource::load(client.clone(), &id, Duration::from_secs(300))
        .await
        .unwrap();
    let before = source.current().keyring.current_kid().to_string();
    rotate(&client, &id, value).await;
    let err = source.refresh().await.err().unwrap().to_string();
    assert!(
        err.contains("32 bytes") && !err.contains("hunter2"),
        "{err}"
    );
    assert_eq!(source.current().keyring.current_kid(), before);
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn rotation_keeps_live_sessions_and_signs_with_the_new_secret() {
    let client = secrets_client().await;
    let id = aws::create_secret(&client, &secret_json("jwt-one", "pass-one")).await;
    let source = SecretsManagerSource::load(client.clone(), &id, Duration::from_secs(300))
        .await
        .unwrap();
    let app = app_with(Arc::clone(&source));
    let (_, v) = app
        .post(LOGIN, None, common::login_body("svc_demo", "pass-one"))
        .await;
    let old_token = v["data"]["token"].as_str().unwrap().to_string();
    let old_master = v["data"]["masterToken"].as_str().unwrap().to_string();

    // Rotate: a new version becomes AWSCURRENT, the old one AWSPREVIOUS.
    rotate(&client, &id, secret_json("jwt-two", "pass-two")).await;
    // Until the next refresh, the cached secret is in force.
    let (_, v) = app
        .post(LOGIN, None, common::login_body("svc_demo", "pass-two"))
        .await;
    common::assert_failure(&v, "390100");
    source.refresh().await.unwrap();

    // Tokens signed before the rotation still work, renewal included.
    let (_, v) = app.query(&old_token, "select current_user()").await;
    assert_eq!(v["data"]["rowset"], json!([["SVC_DEMO"]]), "{v}");
    let renew = json!({"oldSessionToken": old_token, "requestType": "RENEW"});
    let (_, v) = app
        .post("/session/token-request", Some(&old_master), renew)
        .await;
    let renewed = v["data"]["sessionToken"].as_str().unwrap().to_string();
    // New tokens are signed with the new version; the rotated password applies.
    let (_, v) = app
        .post(LOGIN, None, common::login_body("svc_demo", "pass-one"))
        .await;
    common::assert_failure(&v, "390100");
    let (_, v) = app
        .post(LOGIN, None, common::login_body("svc_demo", "pass-two"))
        .await;
    let new_token = v["data"]["token"].as_str().unwrap().to_string();
    assert_ne!(kid(&new_token), kid(&old_token));
    assert_eq!(kid(&renewed), kid(&new_token));
    assert_eq!(
        app.query(&new_token, "select current_user()").await.1["success"],
        true
    );

    // A second rotation retires the first secret: only AWSCURRENT and AWSPREVIOUS verify.
    rotate(&client, &id, secret_json("jwt-three", "pass-three")).await;
    source.refresh().await.unwrap();
    common::assert_failure(
        &app.query(&old_token, "select current_user()").await.1,
        "390104",
    );
    assert_eq!(
        app.query(&new_token, "select current_user()").await.1["success"],
        true
    );
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn a_stale_secret_is_refreshed_in_the_background() {
    let client = secrets_client().await;
    let id = aws::create_secret(&client, &secret_json("jwt-one", "pass-one")).await;
    let source = SecretsManagerSource::load(client.clone(), &id, Duration::ZERO)
        .await
        .unwrap();
    rotate(&client, &id, secret_json("jwt-two", "pass-two")).await;
    // Each read of a stale copy returns at once and starts a refresh; poll until it lands.
    let mut seen = String::new();
    for _ in 0..100 {
        seen = source.current().demo_password.expose_secret().to_string();
        if seen == "pass-two" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen, "pass-two");
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn dynamodb_outage_is_a_retryable_503_and_writes_nothing() {
    // A good app on moto, and one whose SDK points at a closed port (the same table and secret).
    let good_client = aws_sdk_dynamodb::Client::new(&aws::sdk_config().await);
    let table = aws::create_table(&good_client).await;
    let good = common::TestApp::with_store(
        Arc::new(DynamoStore::new(good_client, &table)),
        "test-secret",
    );
    let dead = aws_sdk_dynamodb::Client::new(&aws::sdk_config_at("http://127.0.0.1:9").await);
    let bad = common::TestApp::with_store(Arc::new(DynamoStore::new(dead, &table)), "test-secret");

    let (status, v) = bad
        .post(LOGIN, None, common::login_body("embucket", "embucket"))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let msg = common::assert_failure(&v, "390503");
    assert!(msg.contains("retry"), "{msg}");
    assert!(!msg.contains("embucket"), "{msg}");

    let t = good.login().await;
    let (status, v) = bad.query(&t.session, "use database x").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    common::assert_failure(&v, "390503");
    let (_, v) = good.query(&t.session, "select current_database()").await;
    assert_eq!(
        v["data"]["rowset"],
        json!([[null]]),
        "the failed USE changed nothing"
    );
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn a_token_from_a_newer_secret_makes_a_stale_instance_reload() {
    let client = secrets_client().await;
    let id = aws::create_secret(&client, &secret_json("jwt-one", "pass-one")).await;
    let load = || SecretsManagerSource::load(client.clone(), &id, Duration::from_secs(300));
    // Two instances, as two Lambda containers: one table, one secret, each its own cached copy.
    let table_client = aws_sdk_dynamodb::Client::new(&aws::sdk_config().await);
    let table = aws::create_table(&table_client).await;
    let instance = |source| {
        app_over(
            Arc::new(DynamoStore::new(table_client.clone(), &table)),
            source,
        )
    };
    let fresh_source = load().await.unwrap();
    let stale = instance(load().await.unwrap());
    rotate(&client, &id, secret_json("jwt-two", "pass-two")).await;
    fresh_source.refresh().await.unwrap();
    let fresh = instance(fresh_source);
    let (_, v) = fresh
        .post(LOGIN, None, common::login_body("svc_demo", "pass-two"))
        .await;
    let token = v["data"]["token"].as_str().unwrap().to_string();
    // The stale instance has never seen this key version: it reloads instead of refusing.
    let (_, v) = stale.query(&token, "select current_user()").await;
    assert_eq!(v["data"]["rowset"], json!([["SVC_DEMO"]]), "{v}");
}
