//! Key-pair login (`AUTHENTICATOR=SNOWFLAKE_JWT`, protocol §2) through the router: the JWT shapes each
//! driver sends, every way a JWT can be wrong (all answered with the same 390144), key rotation, and the
//! user's network policy, which is checked before any credential.

#[macro_use]
mod common;

use std::sync::OnceLock;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::keys::TestKey;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const LOGIN: &str = "/session/v1/login-request";
/// The one answer to every failed key-pair login.
const JWT_INVALID: &str = "JWT token is invalid.";

/// Three 2048-bit keys, generated once per test binary (in parallel: key generation is the slow part).
fn keys() -> &'static [TestKey] {
    static KEYS: OnceLock<Vec<TestKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..3).map(|_| s.spawn(TestKey::generate)).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    })
}

/// The key registered as svc_loader's `RSA_PUBLIC_KEY`.
fn registered() -> &'static TestKey {
    &keys()[0]
}

fn other_key() -> &'static TestKey {
    &keys()[1]
}

fn third_key() -> &'static TestKey {
    &keys()[2]
}

/// The claims the Python connector sends for `user` (already upper-cased) with `key`, issued now.
fn claims(user: &str, key: &TestKey) -> Value {
    json!({
        "iss": format!("ACME.{user}.{}", key.fp),
        "sub": format!("ACME.{user}"),
        "iat": START,
        "exp": START + 60,
    })
}

fn sign_with(key: &TestKey, alg: Algorithm, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_rsa_der(&key.pkcs1_der),
    )
    .expect("sign JWT")
}

fn sign(key: &TestKey, claims: &Value) -> String {
    sign_with(key, Algorithm::RS256, claims)
}

/// A JWT for svc_loader signed with its registered key, with `change` applied to the claims.
fn loader_jwt(change: impl FnOnce(&mut Value)) -> String {
    let mut c = claims("SVC_LOADER", registered());
    change(&mut c);
    sign(registered(), &c)
}

/// The login body of a key-pair login, as the Python connector sends it.
fn jwt_body(login_name: Option<&str>, account: &str, token: &str) -> Value {
    let mut body = json!({"data": {
        "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "3.12.0",
        "ACCOUNT_NAME": account, "AUTHENTICATOR": "SNOWFLAKE_JWT", "TOKEN": token,
        "CLIENT_ENVIRONMENT": {"APPLICATION": "PythonConnector", "OS": "Linux"},
    }});
    if let Some(login) = login_name {
        body["data"]["LOGIN_NAME"] = json!(login);
    }
    body
}

fn loader_body(token: &str) -> Value {
    jwt_body(Some("svc_loader"), "acme", token)
}

fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Runs an administration statement as the demo user, asserting it succeeds.
async fn exec(app: &TestApp, admin: &str, sql: &str) -> Value {
    let (status, v) = app.query(admin, sql).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["success"], true, "{sql}: {v}");
    v
}

/// The test account: the demo user's session (ACCOUNTADMIN), role LOADER, and the SERVICE user
/// svc_loader holding LOADER with the registered key. Returns the admin session token.
async fn setup(app: &TestApp) -> String {
    let admin = app.login().await.session;
    exec(app, &admin, "CREATE ROLE loader").await;
    key_user(app, &admin, "svc_loader", "TYPE=SERVICE", registered()).await;
    admin
}

/// Creates `user` (as SQL writes it) with `properties`, default role LOADER (granted) and `key`.
async fn key_user(app: &TestApp, admin: &str, user: &str, properties: &str, key: &TestKey) {
    let sql = format!(
        "CREATE USER {user} {properties} DEFAULT_ROLE=loader RSA_PUBLIC_KEY='{}'",
        key.public_b64
    );
    exec(app, admin, &sql).await;
    exec(app, admin, &format!("GRANT ROLE loader TO USER {user}")).await;
}

/// Asserts a successful login and returns its session token.
fn logged_in(status: StatusCode, v: &Value) -> String {
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["success"], true, "{v}");
    v["data"]["token"]
        .as_str()
        .expect("session token")
        .to_string()
}

/// Asserts the one key-pair refusal: HTTP 200, 390144, the fixed message, and the `data` every login
/// refusal carries, which tells nothing of why.
fn assert_jwt_invalid(label: &str, status: StatusCode, v: &Value) {
    assert_eq!(status, StatusCode::OK, "{label}: drivers must not retry");
    assert_eq!(v["success"], false, "{label}: {v}");
    assert_eq!(v["code"], "390144", "{label}: {v}");
    assert_eq!(v["message"], JWT_INVALID, "{label}: {v}");
    assert_eq!(
        v["data"],
        serde_json::json!({"nextAction": "RETRY_LOGIN", "authnMethod": "KEY_PAIR", "signInOptions": {}}),
        "{label}: {v}"
    );
}

/// Asserts the session is svc_loader's, in role LOADER.
async fn assert_loader_session(app: &TestApp, status: StatusCode, v: &Value) {
    let token = logged_in(status, v);
    assert_eq!(v["data"]["sessionInfo"]["roleName"], "LOADER", "{v}");
    let (_, q) = app
        .query(
            &token,
            "SELECT CURRENT_USER(), CURRENT_ROLE(), CURRENT_ACCOUNT()",
        )
        .await;
    assert_eq!(
        q["data"]["rowset"],
        json!([["SVC_LOADER", "LOADER", "ACME"]]),
        "{q}"
    );
}

async fn login_with(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.post(LOGIN, None, body).await
}

// ---------------------------------------------------------------------------------------------------
// Accepted JWTs: what each driver sends.

#[tokio::test]
async fn python_connector_jwt_logs_in_with_the_default_role() {
    let app = TestApp::new();
    setup(&app).await;
    let (s, v) = login_with(&app, loader_body(&loader_jwt(|_| {}))).await;
    assert_loader_session(&app, s, &v).await;
    assert_eq!(v["data"]["displayUserName"], "SVC_LOADER");
}

#[tokio::test]
async fn rs384_and_rs512_are_accepted() {
    let app = TestApp::new();
    setup(&app).await;
    for alg in [Algorithm::RS384, Algorithm::RS512] {
        let token = sign_with(registered(), alg, &claims("SVC_LOADER", registered()));
        let (s, v) = login_with(&app, loader_body(&token)).await;
        assert_loader_session(&app, s, &v).await;
    }
}

#[tokio::test]
async fn account_with_a_region_suffix_matches_the_jwt_account() {
    let app = TestApp::new();
    setup(&app).await;
    let body = jwt_body(Some("svc_loader"), "acme.us-east-1", &loader_jwt(|_| {}));
    let (s, v) = login_with(&app, body).await;
    assert_loader_session(&app, s, &v).await;
}

#[tokio::test]
async fn issuer_and_subject_compare_case_insensitively() {
    let app = TestApp::new();
    setup(&app).await;
    let token = loader_jwt(|c| {
        c["iss"] = json!(format!("acme.svc_loader.{}", registered().fp));
        c["sub"] = json!("acme.svc_loader");
    });
    let (s, v) = login_with(&app, jwt_body(Some("SVC_LOADER"), "ACME", &token)).await;
    assert_loader_session(&app, s, &v).await;
    // Mixed case between iss and sub is still the same identity.
    let token = loader_jwt(|c| {
        c["iss"] = json!(format!("Acme.Svc_Loader.{}", registered().fp));
        c["sub"] = json!("ACME.svc_LOADER");
    });
    let (s, v) = login_with(&app, loader_body(&token)).await;
    assert_loader_session(&app, s, &v).await;
}

#[tokio::test]
async fn node_style_millisecond_timestamps_are_accepted() {
    let app = TestApp::new();
    setup(&app).await;
    let token = loader_jwt(|c| {
        c["iat"] = json!(START * 1000);
        c["exp"] = json!(START * 1000 + 120_000);
    });
    let (s, v) = login_with(&app, loader_body(&token)).await;
    assert_loader_session(&app, s, &v).await;
}

#[tokio::test]
async fn go_style_jwt_without_login_name_and_with_the_2015_nbf_is_accepted() {
    let app = TestApp::new();
    setup(&app).await;
    // The Go driver sends no LOGIN_NAME: the user comes from `sub`.
    let (s, v) = login_with(&app, jwt_body(None, "acme", &loader_jwt(|_| {}))).await;
    assert_loader_session(&app, s, &v).await;
    // ... and a fixed `nbf` of 2015-10-10T12:00:00Z.
    let token = loader_jwt(|c| c["nbf"] = json!(1_444_478_400u64));
    let (s, v) = login_with(&app, jwt_body(None, "acme", &token)).await;
    assert_loader_session(&app, s, &v).await;
}

#[tokio::test]
async fn times_within_the_clock_skew_are_accepted() {
    let app = TestApp::new();
    setup(&app).await;
    let cases: [(&str, u64, u64); 4] = [
        ("expired 59 s ago", START - 60, START - 59),
        ("issued 60 s in the future", START + 60, START + 120),
        // The Rust crate snowflake-api signs 24-hour login JWTs, which Snowflake accepts.
        ("a 24-hour lifetime", START, START + 86_400),
        ("lifetime of exactly 86460 s", START, START + 86_460),
    ];
    for (label, iat, exp) in cases {
        let token = loader_jwt(|c| {
            c["iat"] = json!(iat);
            c["exp"] = json!(exp);
        });
        let (s, v) = login_with(&app, loader_body(&token)).await;
        assert_eq!(v["success"], true, "{label}: {v}");
        assert_loader_session(&app, s, &v).await;
    }
}

#[tokio::test]
async fn a_granted_role_in_the_connect_string_is_used() {
    let app = TestApp::new();
    setup(&app).await;
    let (s, v) = app
        .post(
            &format!("{LOGIN}?roleName=loader"),
            None,
            loader_body(&loader_jwt(|_| {})),
        )
        .await;
    assert_loader_session(&app, s, &v).await;
    // PUBLIC is always granted.
    let (s, v) = app
        .post(
            &format!("{LOGIN}?roleName=public"),
            None,
            loader_body(&loader_jwt(|_| {})),
        )
        .await;
    logged_in(s, &v);
    assert_eq!(v["data"]["sessionInfo"]["roleName"], "PUBLIC");
}

#[tokio::test]
async fn a_role_not_granted_in_the_connect_string_is_390189() {
    let app = TestApp::new();
    setup(&app).await;
    let (s, v) = app
        .post(
            &format!("{LOGIN}?roleName=accountadmin"),
            None,
            loader_body(&loader_jwt(|_| {})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let msg = assert_failure(&v, "390189");
    assert!(msg.contains("ACCOUNTADMIN"), "{msg}");
}

#[tokio::test]
async fn a_user_whose_quoted_name_holds_a_dot_logs_in() {
    let app = TestApp::new();
    let admin = setup(&app).await;
    // Quoted, so stored as `svc.user`; its login name compares upper-cased: SVC.USER.
    key_user(&app, &admin, "\"svc.user\"", "TYPE=SERVICE", other_key()).await;
    let token = sign(other_key(), &claims("SVC.USER", other_key()));
    for login in [Some("svc.user"), Some("SVC.USER"), None] {
        let (s, v) = login_with(&app, jwt_body(login, "acme", &token)).await;
        let session = logged_in(s, &v);
        let (_, q) = app
            .query(&session, "SELECT CURRENT_USER(), CURRENT_ROLE()")
            .await;
        assert_eq!(q["data"]["rowset"], json!([["svc.user", "LOADER"]]), "{q}");
    }
}

// ---------------------------------------------------------------------------------------------------
// Refused JWTs: one answer, whatever the reason.

/// Splits a compact JWT into its three parts.
fn parts(token: &str) -> (String, String, String) {
    let mut it = token.split('.').map(str::to_string);
    (it.next().unwrap(), it.next().unwrap(), it.next().unwrap())
}

#[tokio::test]
async fn every_invalid_jwt_gets_the_same_390144() {
    let app = TestApp::new();
    setup(&app).await;
    let key = registered();
    let good = loader_jwt(|_| {});
    let (header, payload, signature) = parts(&good);

    let mut cases: Vec<(&str, Value)> = Vec::new();
    let body = |t: &str| loader_body(t);

    cases.push((
        "signed by another key, iss names the registered key",
        body(&sign(other_key(), &claims("SVC_LOADER", key))),
    ));
    cases.push((
        "signed by the registered key, iss names another key",
        body(&sign(key, &claims("SVC_LOADER", other_key()))),
    ));
    cases.push((
        "signed by an unregistered key and named in iss",
        body(&sign(other_key(), &claims("SVC_LOADER", other_key()))),
    ));
    cases.push((
        "garbage fingerprint",
        body(&loader_jwt(|c| {
            c["iss"] = json!("ACME.SVC_LOADER.SHA256:abc")
        })),
    ));
    let mut sig = URL_SAFE_NO_PAD.decode(&signature).unwrap();
    sig[10] ^= 0x01;
    cases.push((
        "one bit of the signature flipped",
        body(&format!("{header}.{payload}.{}", b64url(&sig))),
    ));
    cases.push(("signature removed", body(&format!("{header}.{payload}."))));
    let mut tampered: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&payload).unwrap()).unwrap();
    tampered["exp"] = json!(START + 30);
    cases.push((
        "payload changed after signing",
        body(&format!(
            "{header}.{}.{signature}",
            b64url(tampered.to_string().as_bytes())
        )),
    ));
    let rs384_header = b64url(br#"{"typ":"JWT","alg":"RS384"}"#);
    cases.push((
        "header changed to RS384 after signing with RS256",
        body(&format!("{rs384_header}.{payload}.{signature}")),
    ));
    let none_header = b64url(br#"{"alg":"none","typ":"JWT"}"#);
    cases.push((
        "alg none, unsigned",
        body(&format!("{none_header}.{payload}.")),
    ));
    cases.push((
        "alg none, with the RS256 signature",
        body(&format!("{none_header}.{payload}.{signature}")),
    ));
    let hs256 = |secret: &[u8]| {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims("SVC_LOADER", key),
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    };
    cases.push((
        "HS256 keyed with the public key's DER",
        body(&hs256(&key.spki_der)),
    ));
    cases.push((
        "HS256 keyed with the public key's base64 text",
        body(&hs256(key.public_b64.as_bytes())),
    ));
    cases.push((
        "expired beyond the skew",
        body(&loader_jwt(|c| {
            c["iat"] = json!(START - 200);
            c["exp"] = json!(START - 61);
        })),
    ));
    cases.push((
        "expired exactly at the skew",
        body(&loader_jwt(|c| {
            c["iat"] = json!(START - 120);
            c["exp"] = json!(START - 60);
        })),
    ));
    cases.push((
        "issued beyond the skew in the future",
        body(&loader_jwt(|c| {
            c["iat"] = json!(START + 61);
            c["exp"] = json!(START + 121);
        })),
    ));
    cases.push((
        "lifetime over 86460 s",
        body(&loader_jwt(|c| c["exp"] = json!(START + 86_461))),
    ));
    cases.push((
        "two days' lifetime in milliseconds",
        body(&loader_jwt(|c| {
            c["iat"] = json!(START * 1000);
            c["exp"] = json!((START + 2 * 86_400) * 1000);
        })),
    ));
    cases.push((
        "exp before iat",
        body(&loader_jwt(|c| {
            c["iat"] = json!(START);
            c["exp"] = json!(START - 1);
        })),
    ));
    cases.push(("no exp", body(&loader_jwt(|c| c["exp"] = Value::Null))));
    cases.push((
        "times as strings",
        body(&loader_jwt(|c| {
            c["iat"] = json!(START.to_string());
            c["exp"] = json!((START + 60).to_string());
        })),
    ));
    cases.push((
        "another account in iss and sub",
        body(&loader_jwt(|c| {
            c["iss"] = json!(format!("OTHER.SVC_LOADER.{}", key.fp));
            c["sub"] = json!("OTHER.SVC_LOADER");
        })),
    ));
    cases.push((
        "ACCOUNT_NAME differs from the JWT's account",
        jwt_body(Some("svc_loader"), "other", &good),
    ));
    cases.push((
        "ACCOUNT_NAME differs with a region suffix",
        jwt_body(Some("svc_loader"), "other.us-east-1", &good),
    ));
    cases.push((
        "sub names another user than iss",
        body(&loader_jwt(|c| c["sub"] = json!("ACME.EMBUCKET"))),
    ));
    cases.push((
        "sub names another account than iss",
        body(&loader_jwt(|c| c["sub"] = json!("OTHER.SVC_LOADER"))),
    ));
    cases.push((
        "sub without a user part",
        body(&loader_jwt(|c| c["sub"] = json!("ACME"))),
    ));
    cases.push((
        "LOGIN_NAME names another user",
        jwt_body(Some("embucket"), "acme", &good),
    ));
    cases.push((
        "unknown user, with a key of its own",
        body(&sign(other_key(), &claims("NOBODY", other_key()))),
    ));
    cases.push((
        "unknown user, no LOGIN_NAME",
        jwt_body(
            None,
            "acme",
            &sign(other_key(), &claims("NOBODY", other_key())),
        ),
    ));
    cases.push((
        "the demo user, who has no key",
        jwt_body(
            Some("embucket"),
            "acme",
            &sign(key, &claims("EMBUCKET", key)),
        ),
    ));
    cases.push(("not a JWT at all", body("not.a.jwt")));
    cases.push(("an empty TOKEN", body("")));
    let mut no_token = body(&good);
    no_token["data"].as_object_mut().unwrap().remove("TOKEN");
    cases.push(("no TOKEN", no_token));
    let mut with_password = body("");
    with_password["data"]["PASSWORD"] = json!("embucket");
    with_password["data"]["LOGIN_NAME"] = json!("embucket");
    cases.push((
        "a password instead of a TOKEN for the demo user",
        with_password,
    ));

    let mut answers = Vec::new();
    for (label, body) in cases {
        let (status, v) = login_with(&app, body).await;
        assert_jwt_invalid(label, status, &v);
        answers.push((label, v));
    }
    // The same envelope, byte for byte, whatever the reason.
    let (first_label, first) = &answers[0];
    for (label, v) in &answers[1..] {
        assert_eq!(v, first, "{label} vs {first_label}");
    }
    // The unmodified JWT still works: nothing above was refused for a reason of its own.
    let (s, v) = login_with(&app, loader_body(&good)).await;
    assert_loader_session(&app, s, &v).await;
}

#[tokio::test]
async fn a_disabled_user_is_390101_only_with_a_valid_jwt() {
    let app = TestApp::new();
    let admin = setup(&app).await;
    exec(&app, &admin, "ALTER USER svc_loader SET DISABLED = TRUE").await;
    let (s, v) = login_with(&app, loader_body(&loader_jwt(|_| {}))).await;
    assert_eq!(s, StatusCode::OK);
    assert_failure(&v, "390101");
    // A wrong key learns nothing about the account's state.
    let (s, v) = login_with(
        &app,
        loader_body(&sign(other_key(), &claims("SVC_LOADER", registered()))),
    )
    .await;
    assert_jwt_invalid("disabled user, wrong key", s, &v);
    exec(&app, &admin, "ALTER USER svc_loader UNSET DISABLED").await;
    let (s, v) = login_with(&app, loader_body(&loader_jwt(|_| {}))).await;
    assert_loader_session(&app, s, &v).await;
}

#[tokio::test]
async fn a_service_user_never_logs_in_with_a_password() {
    let app = TestApp::new();
    setup(&app).await;
    // The same answer as an unknown user's.
    let (_, unknown) = login_with(&app, login_body("nobody", "anything")).await;
    let (_, service) = login_with(&app, login_body("svc_loader", "anything")).await;
    assert_eq!(unknown, service);
    for password in ["", "embucket"] {
        let (s, v) = login_with(&app, login_body("svc_loader", password)).await;
        assert_eq!(s, StatusCode::OK);
        assert_failure(&v, "390100");
    }
    // Without any PASSWORD field, and with the explicit password authenticator.
    let mut body = login_body("svc_loader", "x");
    body["data"].as_object_mut().unwrap().remove("PASSWORD");
    assert_failure(&login_with(&app, body).await.1, "390100");
    let mut body = login_body("svc_loader", "x");
    body["data"]["AUTHENTICATOR"] = json!("SNOWFLAKE");
    assert_failure(&login_with(&app, body).await.1, "390100");
    // Five failures lock the name, as for any user; the key still works (locks are for passwords).
    assert_failure(
        &login_with(&app, login_body("svc_loader", "x")).await.1,
        "390102",
    );
    let (s, v) = login_with(&app, loader_body(&loader_jwt(|_| {}))).await;
    assert_loader_session(&app, s, &v).await;
}

#[tokio::test]
async fn a_person_with_a_password_and_a_key_can_use_both() {
    let app = TestApp::new();
    let admin = setup(&app).await;
    key_user(&app, &admin, "alice", "PASSWORD='pw123456'", third_key()).await;
    app.login_as("alice", "pw123456").await;
    let token = sign(third_key(), &claims("ALICE", third_key()));
    let (s, v) = login_with(&app, jwt_body(Some("alice"), "acme", &token)).await;
    logged_in(s, &v);
    assert_eq!(v["data"]["sessionInfo"]["roleName"], "LOADER");
    // Another user's key is not alice's.
    let token = sign(registered(), &claims("ALICE", registered()));
    let (s, v) = login_with(&app, jwt_body(Some("alice"), "acme", &token)).await;
    assert_jwt_invalid("alice with svc_loader's key", s, &v);
}

// ---------------------------------------------------------------------------------------------------
// Rotation, on both stores: the whole path from the admin statements to the login.

on_every_store!(key_pair_login_and_key_rotation);

async fn key_pair_login_and_key_rotation(app: TestApp) {
    let admin = setup(&app).await;
    let (first, second) = (registered(), other_key());
    let with = |key: &TestKey| loader_body(&sign(key, &claims("SVC_LOADER", key)));

    let (s, v) = login_with(&app, with(first)).await;
    assert_loader_session(&app, s, &v).await;
    let (s, v) = login_with(&app, with(second)).await;
    assert_jwt_invalid("second key before it is set", s, &v);

    // Both slots filled: either key logs in.
    exec(
        &app,
        &admin,
        &format!(
            "ALTER USER svc_loader SET RSA_PUBLIC_KEY_2 = '{}'",
            second.public_b64
        ),
    )
    .await;
    for key in [first, second] {
        let (s, v) = login_with(&app, with(key)).await;
        assert_loader_session(&app, s, &v).await;
    }
    let (_, d) = app.query(&admin, "DESC USER svc_loader").await;
    let prop = |name: &str| {
        d["data"]["rowset"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[0] == name)
            .map(|r| r[1].clone())
            .unwrap_or_else(|| panic!("no {name} in {d}"))
    };
    assert_eq!(prop("RSA_PUBLIC_KEY_FP"), first.fp.as_str());
    assert_eq!(prop("RSA_PUBLIC_KEY_2_FP"), second.fp.as_str());

    // The old key is retired: only the new one logs in.
    exec(&app, &admin, "ALTER USER svc_loader UNSET RSA_PUBLIC_KEY").await;
    let (s, v) = login_with(&app, with(first)).await;
    assert_jwt_invalid("retired first key", s, &v);
    let (s, v) = login_with(&app, with(second)).await;
    assert_loader_session(&app, s, &v).await;

    // A third key in the free slot, then the second retired too.
    exec(
        &app,
        &admin,
        &format!(
            "ALTER USER svc_loader SET RSA_PUBLIC_KEY = '{}'",
            third_key().public_b64
        ),
    )
    .await;
    exec(&app, &admin, "ALTER USER svc_loader UNSET RSA_PUBLIC_KEY_2").await;
    let (s, v) = login_with(&app, with(second)).await;
    assert_jwt_invalid("retired second key", s, &v);
    let (s, v) = login_with(&app, with(third_key())).await;
    assert_loader_session(&app, s, &v).await;

    // A dropped user's key logs in no more.
    exec(&app, &admin, "DROP USER svc_loader").await;
    let (s, v) = login_with(&app, with(third_key())).await;
    assert_jwt_invalid("dropped user", s, &v);
}

// ---------------------------------------------------------------------------------------------------
// The user's network policy: told only to a valid JWT.

async fn setup_with_policy(app: &TestApp) -> String {
    let admin = setup(app).await;
    exec(
        app,
        &admin,
        "CREATE NETWORK POLICY loaders ALLOWED_IP_LIST=('10.0.0.0/8','2001:db8::/32')",
    )
    .await;
    exec(
        app,
        &admin,
        "ALTER USER svc_loader SET NETWORK_POLICY = loaders",
    )
    .await;
    admin
}

async fn login_from(app: &TestApp, ip: Option<&str>, body: Value) -> (StatusCode, Value) {
    app.post_from(ip, LOGIN, None, body).await
}

#[tokio::test]
async fn the_network_policy_admits_only_its_ranges() {
    let app = TestApp::new();
    setup_with_policy(&app).await;
    let good = loader_body(&loader_jwt(|_| {}));

    let (s, v) = login_from(&app, Some("127.0.0.1"), good.clone()).await;
    assert_eq!(s, StatusCode::OK);
    let msg = assert_failure(&v, "390422");
    assert!(msg.contains("127.0.0.1"), "{msg}");

    for ip in ["10.1.2.3", "2001:db8::1", "::ffff:10.1.2.3"] {
        let (s, v) = login_from(&app, Some(ip), good.clone()).await;
        assert_loader_session(&app, s, &v).await;
    }
    for ip in ["11.0.0.1", "2001:db9::1", "::ffff:127.0.0.1", "::1"] {
        let (_, v) = login_from(&app, Some(ip), good.clone()).await;
        assert_failure(&v, "390422");
    }
}

#[tokio::test]
async fn the_blocked_list_wins_over_the_allowed_list() {
    let app = TestApp::new();
    let admin = setup_with_policy(&app).await;
    exec(
        &app,
        &admin,
        "ALTER NETWORK POLICY loaders SET BLOCKED_IP_LIST=('10.1.0.0/16')",
    )
    .await;
    let good = loader_body(&loader_jwt(|_| {}));
    let (_, v) = login_from(&app, Some("10.1.2.3"), good.clone()).await;
    assert!(assert_failure(&v, "390422").contains("10.1.2.3"));
    let (_, v) = login_from(&app, Some("::ffff:10.1.2.3"), good.clone()).await;
    assert_failure(&v, "390422");
    let (s, v) = login_from(&app, Some("10.2.0.1"), good.clone()).await;
    assert_loader_session(&app, s, &v).await;
    // Unset again: 10.1.2.3 is back in.
    exec(
        &app,
        &admin,
        "ALTER NETWORK POLICY loaders UNSET BLOCKED_IP_LIST",
    )
    .await;
    let (s, v) = login_from(&app, Some("10.1.2.3"), good).await;
    assert_loader_session(&app, s, &v).await;
}

#[tokio::test]
async fn the_users_own_policy_is_told_only_to_a_valid_jwt() {
    let app = TestApp::new();
    setup_with_policy(&app).await;
    let bad_signature = loader_body(&sign(other_key(), &claims("SVC_LOADER", registered())));
    // From outside the user's own policy, a bad signature is refused as one for a user who does
    // not exist: the answer does not tell that SVC_LOADER exists and has a policy.
    let (_, v) = login_from(&app, Some("127.0.0.1"), bad_signature.clone()).await;
    assert_jwt_invalid("bad signature from a refused address", StatusCode::OK, &v);
    let ghost = jwt_body(
        Some("no_such_user"),
        "acme",
        &sign(other_key(), &claims("NO_SUCH_USER", registered())),
    );
    let (_, unknown) = login_from(&app, Some("127.0.0.1"), ghost).await;
    assert_eq!(v, unknown);
    let (_, v) = login_from(&app, Some("127.0.0.1"), loader_body(&loader_jwt(|_| {}))).await;
    assert_failure(&v, "390422");
    let expired = loader_body(&loader_jwt(|c| {
        c["iat"] = json!(START - 600);
        c["exp"] = json!(START - 500);
    }));
    // An expired JWT fails before the user is known, so it gets 390144 from anywhere.
    let (_, v) = login_from(&app, Some("127.0.0.1"), expired).await;
    assert_jwt_invalid("expired JWT from a refused address", StatusCode::OK, &v);
    // From an admitted address the bad signature is what fails.
    let (s, v) = login_from(&app, Some("10.1.2.3"), bad_signature).await;
    assert_jwt_invalid("bad signature from an admitted address", s, &v);
}

#[tokio::test]
async fn an_unknown_client_address_is_refused_by_a_policy() {
    let app = TestApp::new();
    setup_with_policy(&app).await;
    let good = loader_body(&loader_jwt(|_| {}));
    let (s, v) = login_from(&app, None, good).await;
    assert_eq!(s, StatusCode::OK);
    assert_failure(&v, "390422");
}

#[tokio::test]
async fn detaching_the_policy_admits_every_address_again() {
    let app = TestApp::new();
    let admin = setup_with_policy(&app).await;
    exec(&app, &admin, "ALTER USER svc_loader UNSET NETWORK_POLICY").await;
    let good = loader_body(&loader_jwt(|_| {}));
    for ip in [Some("127.0.0.1"), None] {
        let (s, v) = login_from(&app, ip, good.clone()).await;
        assert_loader_session(&app, s, &v).await;
    }
}
