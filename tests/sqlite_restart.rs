//! A local server on SQLite keeps everything across a restart: users, keys, roles, network policies
//! and sessions written by one app are there for the next app opened on the same directory. The demo
//! user is seeded once per store (SQLite and DynamoDB): what administrators did to it stays.

mod common;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use serde_json::{Value, json};
use snowgate::domain::keys::fingerprint;

const LOGIN: &str = "/session/v1/login-request";

/// An RSA key: the PKCS#1 DER to sign with, the public key as `RSA_PUBLIC_KEY` takes it, and its
/// fingerprint.
struct Key {
    pkcs1_der: Vec<u8>,
    public_b64: String,
    fp: String,
}

fn new_key() -> Key {
    let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key generation");
    let spki = private
        .to_public_key()
        .to_public_key_der()
        .expect("SPKI DER");
    Key {
        pkcs1_der: private.to_pkcs1_der().expect("PKCS#1").as_bytes().to_vec(),
        public_b64: STANDARD.encode(spki.as_bytes()),
        fp: fingerprint(spki.as_bytes()),
    }
}

/// A key-pair login body for SVC_LOADER, as the Python connector sends it.
fn key_pair_body(key: &Key) -> Value {
    let claims = json!({
        "iss": format!("ACME.SVC_LOADER.{}", key.fp),
        "sub": "ACME.SVC_LOADER",
        "iat": START,
        "exp": START + 60,
    });
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_der(&key.pkcs1_der),
    )
    .expect("sign JWT");
    json!({"data": {
        "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "3.12.0",
        "ACCOUNT_NAME": "acme", "AUTHENTICATOR": "SNOWFLAKE_JWT", "TOKEN": token,
        "LOGIN_NAME": "svc_loader",
    }})
}

async fn exec(app: &TestApp, token: &str, sql: &str) -> Value {
    let (status, v) = app.query(token, sql).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["success"], true, "{sql}: {v}");
    v
}

/// The account before the restart: role LOADER, the service user SVC_LOADER with a key and a network
/// policy admitting 10.0.0.0/8 only, and the person ALICE with a password. Returns ALICE's session
/// token.
async fn set_up(app: &TestApp, key: &Key) -> String {
    let admin = app.login().await.session;
    for sql in [
        "CREATE ROLE loader".to_string(),
        format!(
            "CREATE USER svc_loader TYPE=SERVICE DEFAULT_ROLE=loader RSA_PUBLIC_KEY='{}'",
            key.public_b64
        ),
        "GRANT ROLE loader TO USER svc_loader".into(),
        "CREATE NETWORK POLICY loaders ALLOWED_IP_LIST=('10.0.0.0/8')".into(),
        "ALTER USER svc_loader SET NETWORK_POLICY = loaders".into(),
        "CREATE USER alice PASSWORD='al1ce-pw!'".into(),
    ] {
        exec(app, &admin, &sql).await;
    }
    let alice = app.login_as("alice", "al1ce-pw!").await.session;
    exec(app, &alice, "USE DATABASE analytics").await;
    alice
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let key = new_key();
    let alice_token = {
        let before = TestApp::sqlite(dir.path()).await;
        set_up(&before, &key).await
    };

    let after = TestApp::sqlite(dir.path()).await;
    // The session is still there, context and all.
    let v = exec(
        &after,
        &alice_token,
        "SELECT CURRENT_USER(), CURRENT_DATABASE()",
    )
    .await;
    assert_eq!(v["data"]["rowset"], json!([["ALICE", "ANALYTICS"]]), "{v}");
    // The password, the key, the role and the network policy.
    after.login_as("alice", "al1ce-pw!").await;
    let (status, v) = after
        .post_from(Some("10.1.2.3"), LOGIN, None, key_pair_body(&key))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["data"]["sessionInfo"]["roleName"], "LOADER", "{v}");
    let (_, v) = after
        .post_from(Some("127.0.0.1"), LOGIN, None, key_pair_body(&key))
        .await;
    assert_failure(&v, "390422");
    // The demo user, seeded again at start, is the same user and still logs in.
    after.login().await;
}

/// An app over `store` whose configuration names the demo user with `password`, as a server
/// started (again) on that store would be.
fn started(store: std::sync::Arc<dyn snowgate::store::Store>, password: &str) -> TestApp {
    let secrets = snowgate::secrets::StaticSecrets::new(
        &secrecy::SecretString::from("test-secret"),
        "embucket".into(),
        secrecy::SecretString::from(password.to_string()),
    );
    let gate = snowgate::domain::Gatekeeper::new(
        std::sync::Arc::clone(&store),
        std::sync::Arc::new(secrets),
        snowgate::domain::Settings::default(),
        std::sync::Arc::new(|| START),
    );
    TestApp::over_gate(store, gate)
}

async fn logs_in(app: &TestApp, user: &str, password: &str) -> Value {
    common::sql::password_login(app, None, user, password).await
}

/// The demo user is seeded once per store: a password an administrator set, or a drop, outlasts a
/// restart; a changed configured password applies once. `restart` opens the same store again.
async fn the_demo_user_is_seeded_once<F, Fut>(restart: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = std::sync::Arc<dyn snowgate::store::Store>>,
{
    let app = started(restart().await, "embucket");
    let admin = app.admin().await;
    admin
        .ok("CREATE USER root PASSWORD = 'r00t-pass' DEFAULT_ROLE = ACCOUNTADMIN")
        .await;
    admin.ok("GRANT ROLE ACCOUNTADMIN TO USER root").await;
    admin
        .ok("ALTER USER embucket SET PASSWORD = 'changed-1'")
        .await;
    // Restarted on the same configuration: the administrator's password stays.
    let app = started(restart().await, "embucket");
    assert_failure(&logs_in(&app, "embucket", "embucket").await, "390100");
    assert_eq!(
        logs_in(&app, "embucket", "changed-1").await["success"],
        true
    );
    // The configured password changes (a rotated secret): it applies, once.
    let app = started(restart().await, "rotated-1");
    assert_eq!(
        logs_in(&app, "embucket", "rotated-1").await["success"],
        true
    );
    assert_failure(&logs_in(&app, "embucket", "changed-1").await, "390100");
    let me = app.login_as("embucket", "rotated-1").await.session;
    common::sql::ok(&app, &me, "ALTER USER embucket SET PASSWORD = 'changed-2'").await;
    let app = started(restart().await, "rotated-1");
    assert_eq!(
        logs_in(&app, "embucket", "changed-2").await["success"],
        true
    );
    // Dropped, it stays dropped, with its ACCOUNTADMIN.
    let root = app.login_as("root", "r00t-pass").await.session;
    common::sql::ok(&app, &root, "DROP USER embucket").await;
    let app = started(restart().await, "rotated-1");
    assert_failure(&logs_in(&app, "embucket", "rotated-1").await, "390100");
    let root = app.login_as("root", "r00t-pass").await.session;
    common::sql::fails(&app, &root, "DESCRIBE USER embucket", "002003").await;
}

#[tokio::test]
async fn the_demo_user_is_seeded_once_on_sqlite() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().to_path_buf();
    the_demo_user_is_seeded_once(|| {
        let path = path.clone();
        async move {
            let store = snowgate::store::sqlite::SqliteStore::open(&path)
                .await
                .expect("the SQLite store opens");
            std::sync::Arc::new(store) as std::sync::Arc<dyn snowgate::store::Store>
        }
    })
    .await;
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn the_demo_user_is_seeded_once_on_dynamodb() {
    let client = aws_sdk_dynamodb::Client::new(&common::aws::sdk_config().await);
    let table = common::aws::create_table(&client).await;
    the_demo_user_is_seeded_once(|| {
        let (client, table) = (client.clone(), table.clone());
        async move {
            let store = snowgate::store::dynamo::DynamoStore::new(client, table);
            std::sync::Arc::new(store) as std::sync::Arc<dyn snowgate::store::Store>
        }
    })
    .await;
}
