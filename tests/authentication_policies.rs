//! Authentication policies at login: each option refuses the logins it names and only those
//! (methods, client types, client minimum versions, MFA enrollment), the user's policy wins over
//! the account's, and a refusal comes only after the credential is proven. Each test runs on every
//! store.

#[macro_use]
mod common;

use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::counting::CountingStore;
use common::sql::*;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use serde_json::{Value, json};
use snowgate::domain::keys::fingerprint;
use snowgate::store::Store;

on_every_store!(
    methods_refuse_passwords_or_keys,
    client_types_refuse_other_clients,
    client_policy_refuses_old_drivers,
    mfa_enrollment_refuses_password_logins_of_people,
    the_users_policy_wins_over_the_accounts,
);

/// The code of a login refused by an authentication policy (snowgate's choice, docs/protocol.md).
const REFUSED: &str = "390430";

/// A 2048-bit key: its PKCS#1 DER to sign with, and the public key as `RSA_PUBLIC_KEY` takes it.
struct Key {
    pkcs1: Vec<u8>,
    public: String,
    fp: String,
}

fn key() -> &'static Key {
    static KEY: OnceLock<Key> = OnceLock::new();
    KEY.get_or_init(|| {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
        let spki = private.to_public_key().to_public_key_der().expect("SPKI");
        Key {
            pkcs1: private.to_pkcs1_der().expect("PKCS#1").as_bytes().to_vec(),
            public: STANDARD.encode(spki.as_bytes()),
            fp: fingerprint(spki.as_bytes()),
        }
    })
}

/// A key-pair login body for `user` (upper case), as the Python connector sends it.
fn jwt_body(user: &str) -> Value {
    let claims = json!({
        "iss": format!("ACME.{user}.{}", key().fp),
        "sub": format!("ACME.{user}"),
        "iat": START,
        "exp": START + 60,
    });
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_der(&key().pkcs1),
    )
    .expect("sign");
    json!({"data": {
        "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "5.2.0",
        "ACCOUNT_NAME": "acme", "LOGIN_NAME": user, "AUTHENTICATOR": "SNOWFLAKE_JWT", "TOKEN": token,
        "CLIENT_ENVIRONMENT": {"APPLICATION": "PythonConnector", "OS": "Linux"},
    }})
}

/// A password login body from another client.
fn client_body(user: &str, password: &str, app: &str, version: &str, application: &str) -> Value {
    let mut body = login_body(user, password);
    body["data"]["CLIENT_APP_ID"] = json!(app);
    body["data"]["CLIENT_APP_VERSION"] = json!(version);
    body["data"]["CLIENT_ENVIRONMENT"]["APPLICATION"] = json!(application);
    body
}

async fn answer(app: &TestApp, body: Value) -> Value {
    app.post(LOGIN, None, body).await.1
}

fn assert_ok(v: &Value, label: &str) {
    assert_eq!(v["success"], true, "{label}: {v}");
}

fn assert_code(v: &Value, code: &str, label: &str) {
    assert_eq!(v["success"], false, "{label}: {v}");
    assert_eq!(v["code"], code, "{label}: {v}");
}

/// bob (PERSON, password and key), svc (SERVICE, key), the admin's session; returns the session.
async fn setup(app: &TestApp) -> Session<'_> {
    let admin = app.admin().await;
    let public = &key().public;
    admin
        .script(&[
            (
                &format!("CREATE USER bob PASSWORD = 'pw-bob-123' RSA_PUBLIC_KEY = '{public}'"),
                OK,
            ),
            (
                &format!("CREATE USER svc TYPE = SERVICE RSA_PUBLIC_KEY = '{public}'"),
                OK,
            ),
        ])
        .await;
    admin
}

async fn methods_refuse_passwords_or_keys(app: TestApp) {
    let admin = setup(&app).await;
    admin
        .ok("CREATE AUTHENTICATION POLICY keys_only AUTHENTICATION_METHODS = ('KEYPAIR')")
        .await;
    admin
        .ok("ALTER USER bob SET AUTHENTICATION POLICY keys_only")
        .await;
    let v = answer(&app, login_body("bob", "pw-bob-123")).await;
    assert_code(&v, REFUSED, "password under KEYPAIR only");
    assert!(v["message"].as_str().unwrap().contains("PASSWORD"), "{v}");
    assert!(!v.to_string().contains("pw-bob-123"));
    // Without the credential, the answer is the usual one: the policy is not revealed.
    let v = answer(&app, login_body("bob", "wrong")).await;
    assert_code(&v, "390100", "wrong password");
    assert_ok(
        &answer(&app, jwt_body("BOB")).await,
        "key under KEYPAIR only",
    );

    admin
        .ok("ALTER AUTHENTICATION POLICY keys_only SET AUTHENTICATION_METHODS = ('PASSWORD')")
        .await;
    assert_ok(
        &answer(&app, login_body("bob", "pw-bob-123")).await,
        "password under PASSWORD only",
    );
    assert_code(
        &answer(&app, jwt_body("BOB")).await,
        REFUSED,
        "key under PASSWORD only",
    );
    // Other users are not governed by bob's policy.
    assert_ok(&answer(&app, jwt_body("SVC")).await, "svc");
}

async fn client_types_refuse_other_clients(app: TestApp) {
    let admin = setup(&app).await;
    admin
        .ok("CREATE AUTHENTICATION POLICY cli CLIENT_TYPES = ('SNOWFLAKE_CLI', 'SNOWSQL')")
        .await;
    admin
        .ok("ALTER USER bob SET AUTHENTICATION POLICY cli")
        .await;
    let python = login_body("bob", "pw-bob-123");
    assert_code(
        &answer(&app, python).await,
        REFUSED,
        "the Python connector is a driver",
    );
    let cli = client_body("bob", "pw-bob-123", "PythonConnector", "3.12.0", "snowcli");
    assert_ok(&answer(&app, cli).await, "the Snowflake CLI");
    let cli_own_id = client_body("bob", "pw-bob-123", "SNOWFLAKE_CLI", "3.7.0", "snowcli");
    assert_ok(
        &answer(&app, cli_own_id).await,
        "the Snowflake CLI's own id",
    );
    let snowsql = client_body("bob", "pw-bob-123", "SnowSQL", "1.3.0", "SnowSQL");
    assert_ok(&answer(&app, snowsql).await, "SnowSQL");
    let unknown = client_body("bob", "pw-bob-123", "Toaster", "1.0", "Toaster");
    assert_code(&answer(&app, unknown).await, REFUSED, "an unknown client");

    admin
        .ok("ALTER AUTHENTICATION POLICY cli SET CLIENT_TYPES = ('DRIVERS')")
        .await;
    let jdbc = client_body("bob", "pw-bob-123", "JDBC", "3.16.0", "JDBC");
    assert_ok(&answer(&app, jdbc).await, "JDBC is a driver");
    let cli = client_body("bob", "pw-bob-123", "PythonConnector", "3.12.0", "snowcli");
    assert_code(&answer(&app, cli).await, REFUSED, "the CLI is not a driver");
}

async fn client_policy_refuses_old_drivers(app: TestApp) {
    let admin = setup(&app).await;
    admin
        .ok("CREATE AUTHENTICATION POLICY recent CLIENT_POLICY = (PYTHON_DRIVER = (MINIMUM_VERSION = '5.10'))")
        .await;
    admin
        .ok("ALTER USER bob SET AUTHENTICATION POLICY recent")
        .await;
    // 5.2.0 < 5.10 numerically (not as text).
    let v = answer(&app, login_body("bob", "pw-bob-123")).await;
    assert_code(&v, REFUSED, "5.2.0 under 5.10");
    assert!(v["message"].as_str().unwrap().contains("5.10"), "{v}");
    let newer = client_body(
        "bob",
        "pw-bob-123",
        "PythonConnector",
        "5.10.1",
        "PythonConnector",
    );
    assert_ok(&answer(&app, newer).await, "5.10.1");
    let odd = client_body(
        "bob",
        "pw-bob-123",
        "PythonConnector",
        "x.y",
        "PythonConnector",
    );
    assert_code(&answer(&app, odd).await, REFUSED, "an unreadable version");
    let jdbc = client_body("bob", "pw-bob-123", "JDBC", "1.0.0", "JDBC");
    assert_ok(&answer(&app, jdbc).await, "other drivers are not limited");
}

async fn mfa_enrollment_refuses_password_logins_of_people(app: TestApp) {
    let admin = setup(&app).await;
    admin
        .ok("CREATE AUTHENTICATION POLICY mfa MFA_ENROLLMENT = REQUIRED")
        .await;
    admin
        .ok("ALTER ACCOUNT SET AUTHENTICATION POLICY mfa")
        .await;
    let v = answer(&app, login_body("bob", "pw-bob-123")).await;
    assert_code(&v, REFUSED, "a person's password alone");
    assert!(
        v["message"].as_str().unwrap().contains("multi-factor"),
        "{v}"
    );
    assert_ok(&answer(&app, jwt_body("BOB")).await, "a person's key");
    assert_ok(&answer(&app, jwt_body("SVC")).await, "a service's key");
    // The administrator's open session still works, and can lift the policy.
    admin.ok("ALTER ACCOUNT UNSET AUTHENTICATION POLICY").await;
    assert_ok(
        &answer(&app, login_body("bob", "pw-bob-123")).await,
        "after UNSET",
    );
}

async fn the_users_policy_wins_over_the_accounts(app: TestApp) {
    let admin = setup(&app).await;
    admin
        .script(&[
            ("CREATE USER carol PASSWORD = 'pw-carol-123'", OK),
            (
                "CREATE AUTHENTICATION POLICY keys_only AUTHENTICATION_METHODS = ('KEYPAIR')",
                OK,
            ),
            ("CREATE AUTHENTICATION POLICY anything", OK),
            ("ALTER ACCOUNT SET AUTHENTICATION POLICY keys_only", OK),
            ("ALTER USER bob SET AUTHENTICATION POLICY anything", OK),
        ])
        .await;
    assert_ok(
        &answer(&app, login_body("bob", "pw-bob-123")).await,
        "bob's own policy",
    );
    assert_code(
        &answer(&app, login_body("carol", "pw-carol-123")).await,
        REFUSED,
        "the account's",
    );
    assert_code(
        &answer(&app, login_body("nobody", "pw")).await,
        "390100",
        "an unknown user",
    );
    admin.ok("ALTER USER bob UNSET AUTHENTICATION POLICY").await;
    assert_code(
        &answer(&app, login_body("bob", "pw-bob-123")).await,
        REFUSED,
        "bob under the account's",
    );
}

/// Production's store is DynamoDB: a login reads the account's settings once, for both the network
/// and the authentication policy, whether or not they are set.
#[tokio::test]
async fn a_login_reads_the_accounts_settings_once() {
    let store = Arc::new(CountingStore::memory());
    let app = TestApp::with_store(Arc::clone(&store) as Arc<dyn Store>, "test-secret");
    let admin = setup(&app).await;
    let reads_of_one_login = |body: Value| {
        let (app, store) = (&app, &store);
        async move {
            let before = store.count("get_object/ACCOUNT");
            let v = answer(app, body).await;
            (store.count("get_object/ACCOUNT") - before, v)
        }
    };
    let (reads, v) = reads_of_one_login(login_body("bob", "pw-bob-123")).await;
    assert_ok(&v, "no policies");
    assert_eq!(reads, 1);
    admin
        .script(&[
            (
                "CREATE AUTHENTICATION POLICY keys_only AUTHENTICATION_METHODS = ('KEYPAIR')",
                OK,
            ),
            ("ALTER ACCOUNT SET AUTHENTICATION POLICY keys_only", OK),
        ])
        .await;
    let (reads, v) = reads_of_one_login(jwt_body("SVC")).await;
    assert_ok(&v, "under the account's policy");
    assert_eq!(reads, 1);
    let (reads, v) = reads_of_one_login(login_body("bob", "pw-bob-123")).await;
    assert_code(&v, REFUSED, "password under the account's KEYPAIR only");
    assert_eq!(reads, 1);
}
