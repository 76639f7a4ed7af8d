//! Key and login hardening through the router: RSA keys of fewer than 2048 bits (counted exactly) or
//! with an exponent other than 65537 are refused by admin SQL; key-pair JWTs issued more than 60 s ago
//! are refused; and an account pin (`SNOWGATE_ACCOUNT`) refuses logins for any other account.

#[macro_use]
mod common;

use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use snowgate::domain::Settings;
use snowgate::domain::keys::fingerprint;
use snowgate::store::memory::MemoryStore;

const LOGIN: &str = "/session/v1/login-request";

on_every_store!(weak_keys_are_refused_by_admin_sql_and_change_nothing);

/// A hand-made public key: a modulus of exactly `bits` bits (odd; not a product of two primes, which
/// only the private side would notice) and exponent `e`, as base64 SPKI DER.
fn hand_made(bits: usize, e: u32) -> String {
    let n = (BigUint::from(1u8) << (bits - 1)) | BigUint::from(0xFFFF_FFFFu32);
    let key = RsaPublicKey::new(n, BigUint::from(e)).expect("public key");
    STANDARD.encode(key.to_public_key_der().expect("SPKI DER").as_bytes())
}

async fn sql(app: &TestApp, token: &str, sql: &str) -> Value {
    app.query(token, sql).await.1
}

async fn weak_keys_are_refused_by_admin_sql_and_change_nothing(app: TestApp) {
    let admin = app.login().await.session;
    let good = hand_made(2048, 65_537);
    let v = sql(
        &app,
        &admin,
        &format!("CREATE USER svc TYPE=SERVICE RSA_PUBLIC_KEY='{good}'"),
    )
    .await;
    assert_eq!(v["success"], true, "{v}");
    let cases = [
        (hand_made(2041, 65_537), "has 2041 bits; at least 2048"),
        (hand_made(2047, 65_537), "has 2047 bits; at least 2048"),
        (hand_made(2048, 3), "exponent is not 65537"),
        (hand_made(4096, 17), "exponent is not 65537"),
    ];
    for (bad, needle) in &cases {
        for stmt in [
            format!("ALTER USER svc SET RSA_PUBLIC_KEY='{bad}'"),
            format!("ALTER USER svc SET RSA_PUBLIC_KEY_2='{bad}'"),
            format!("CREATE USER svc2 TYPE=SERVICE RSA_PUBLIC_KEY='{bad}'"),
        ] {
            let v = sql(&app, &admin, &stmt).await;
            let message = assert_failure(&v, "002029");
            assert!(message.contains(needle), "{stmt}: {message}");
        }
    }
    let d = sql(&app, &admin, "DESC USER svc").await;
    assert!(
        d.to_string().contains(&good),
        "the good key was replaced: {d}"
    );
    let v = sql(&app, &admin, "DESC USER svc2").await;
    assert_failure(&v, "002003");
}

/// One real 2048-bit key pair, made once: (PKCS#1 DER to sign with, base64 SPKI, fingerprint).
fn key() -> &'static (Vec<u8>, String, String) {
    static KEY: OnceLock<(Vec<u8>, String, String)> = OnceLock::new();
    KEY.get_or_init(|| {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
        let spki = private.to_public_key().to_public_key_der().expect("SPKI");
        (
            private.to_pkcs1_der().expect("PKCS#1").as_bytes().to_vec(),
            STANDARD.encode(spki.as_bytes()),
            fingerprint(spki.as_bytes()),
        )
    })
}

/// Creates the service user SVC with the key.
async fn register(app: &TestApp) {
    let admin = app.login().await.session;
    let v = sql(
        app,
        &admin,
        &format!("CREATE USER svc TYPE=SERVICE RSA_PUBLIC_KEY='{}'", key().1),
    )
    .await;
    assert_eq!(v["success"], true, "{v}");
}

fn jwt(account: &str, iat: u64, exp: u64) -> String {
    let claims = json!({
        "iss": format!("{account}.SVC.{}", key().2),
        "sub": format!("{account}.SVC"),
        "iat": iat,
        "exp": exp,
    });
    jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_der(&key().0),
    )
    .expect("sign")
}

fn jwt_body(account: Option<&str>, token: &str) -> Value {
    let mut body = json!({"data": {
        "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "3.12.0",
        "AUTHENTICATOR": "SNOWFLAKE_JWT", "TOKEN": token, "LOGIN_NAME": "svc",
    }});
    if let Some(a) = account {
        body["data"]["ACCOUNT_NAME"] = json!(a);
    }
    body
}

#[tokio::test]
async fn key_pair_jwts_issued_more_than_60_s_ago_are_refused() {
    let app = TestApp::new();
    register(&app).await;
    let stale = [
        ("seconds, 61 s old", jwt("ACME", START - 61, START + 60)),
        (
            "milliseconds, 61 s old",
            jwt("ACME", (START - 61) * 1000, (START + 60) * 1000),
        ),
        (
            "an hour old, still unexpired",
            jwt("ACME", START - 3600, START + 1),
        ),
    ];
    for (label, token) in &stale {
        let (_, v) = app.post(LOGIN, None, jwt_body(Some("acme"), token)).await;
        assert_failure(&v, "390144");
        assert_eq!(v["message"], "JWT token is invalid.", "{label}");
    }
    // Exactly 60 s old is still fresh, in both forms.
    for token in [
        jwt("ACME", START - 60, START + 60),
        jwt("ACME", (START - 60) * 1000, (START + 60) * 1000),
    ] {
        let (_, v) = app.post(LOGIN, None, jwt_body(Some("acme"), &token)).await;
        assert_eq!(v["success"], true, "{v}");
    }
    // The same JWT that logged in stops working once it is more than 60 s old.
    let token = jwt("ACME", START, START + 3600);
    let (_, v) = app.post(LOGIN, None, jwt_body(Some("acme"), &token)).await;
    assert_eq!(v["success"], true, "{v}");
    app.advance(61);
    let (_, v) = app.post(LOGIN, None, jwt_body(Some("acme"), &token)).await;
    assert_failure(&v, "390144");
}

fn pinned(account: &str) -> TestApp {
    TestApp::with_settings(
        Arc::new(MemoryStore::new()),
        "test-secret",
        Settings {
            account: Some(account.to_string()),
            ..Settings::default()
        },
    )
}

fn password_body(account: Option<&str>) -> Value {
    let mut body = login_body("embucket", "embucket");
    match account {
        Some(a) => body["data"]["ACCOUNT_NAME"] = json!(a),
        None => {
            body["data"].as_object_mut().unwrap().remove("ACCOUNT_NAME");
        }
    }
    body
}

async fn current_account(app: &TestApp, login: &Value) -> Value {
    let token = login["data"]["token"].as_str().expect("session token");
    let v = sql(app, token, "SELECT CURRENT_ACCOUNT()").await;
    v["data"]["rowset"][0][0].clone()
}

#[tokio::test]
async fn a_pinned_account_refuses_password_logins_for_other_accounts() {
    let app = pinned("ACME");
    for other in ["other", "acmex", "ACME-2.us-east-1", "\"acme\""] {
        let (_, v) = app.post(LOGIN, None, password_body(Some(other))).await;
        assert_failure(&v, "390100");
    }
    for same in ["acme", "ACME", "Acme.us-east-1.aws"] {
        let (_, v) = app.post(LOGIN, None, password_body(Some(same))).await;
        assert_eq!(v["success"], true, "{same}: {v}");
        assert_eq!(current_account(&app, &v).await, "ACME");
    }
    // A login naming no account gets the pinned one.
    for none in [None, Some("")] {
        let (_, v) = app.post(LOGIN, None, password_body(none)).await;
        assert_eq!(v["success"], true, "{v}");
        assert_eq!(current_account(&app, &v).await, "ACME");
    }
}

#[tokio::test]
async fn a_pinned_account_refuses_key_pair_logins_for_other_accounts() {
    let app = pinned("ACME");
    register(&app).await;
    let now = START;
    // The JWT names another account, with or without a matching ACCOUNT_NAME.
    for (account, named) in [("OTHER", Some("other")), ("OTHER", None)] {
        let (_, v) = app
            .post(LOGIN, None, jwt_body(named, &jwt(account, now, now + 60)))
            .await;
        assert_failure(&v, "390144");
    }
    let (_, v) = app
        .post(
            LOGIN,
            None,
            jwt_body(Some("acme"), &jwt("ACME", now, now + 60)),
        )
        .await;
    assert_eq!(v["success"], true, "{v}");
    let (_, v) = app
        .post(LOGIN, None, jwt_body(None, &jwt("ACME", now, now + 60)))
        .await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(current_account(&app, &v).await, "ACME");
}

#[tokio::test]
async fn without_a_pin_any_account_is_served() {
    let app = TestApp::new();
    let (_, v) = app.post(LOGIN, None, password_body(Some("other"))).await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(current_account(&app, &v).await, "OTHER");
}
