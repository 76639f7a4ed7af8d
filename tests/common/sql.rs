//! Helpers for the SQL tests: run a statement and assert it succeeds or fails with a code, read
//! result sets as rows, listings and names, and RSA public keys made once per test binary.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::RsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use serde_json::Value;
use snowgate::domain::keys::fingerprint;

use super::{TestApp, assert_failure, login_body};

pub const LOGIN: &str = "/session/v1/login-request";

/// Two 2048-bit public keys and one of 1024 bits (too small), as base64 SPKI DER; generated once.
pub struct Keys {
    pub a: String,
    pub b: String,
    pub small: String,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let public = |bits: usize| {
            let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).expect("RSA key");
            let der = key.to_public_key().to_public_key_der().expect("SPKI DER");
            STANDARD.encode(der.as_bytes())
        };
        std::thread::scope(|s| {
            let a = s.spawn(|| public(2048));
            let b = s.spawn(|| public(2048));
            let small = s.spawn(|| public(1024));
            Keys {
                a: a.join().unwrap(),
                b: b.join().unwrap(),
                small: small.join().unwrap(),
            }
        })
    })
}

pub fn fp(b64: &str) -> String {
    fingerprint(&STANDARD.decode(b64).unwrap())
}

/// Runs `sql` and asserts it succeeds.
pub async fn ok(app: &TestApp, token: &str, sql: &str) -> Value {
    let (status, v) = app.query(token, sql).await;
    assert_eq!(status, StatusCode::OK, "{sql}: {v}");
    assert_eq!(v["success"], true, "{sql}: {v}");
    v
}

/// The SQLSTATE that goes with each SQL error code.
pub fn sql_state(code: &str) -> &'static str {
    match code {
        "000002" => "0A000",
        "001003" => "42000",
        "002002" => "42710",
        "002003" => "02000",
        "002029" => "22023",
        "003001" => "42501",
        other => panic!("no SQLSTATE known for {other}"),
    }
}

/// Runs `sql` and asserts it fails with the SQL error `code` (HTTP 200, `data.errorCode` and
/// `data.sqlState` set as JDBC reads them). Returns the whole answer.
pub async fn fails(app: &TestApp, token: &str, sql: &str, code: &str) -> Value {
    let (status, v) = app.query(token, sql).await;
    assert_eq!(status, StatusCode::OK, "{sql}: {v}");
    assert_failure(&v, code);
    assert_eq!(v["data"]["errorCode"], code, "{sql}: {v}");
    assert_eq!(v["data"]["sqlState"], sql_state(code), "{sql}: {v}");
    assert!(
        v["data"]["queryId"].as_str().is_some_and(|q| !q.is_empty()),
        "{sql}: {v}"
    );
    v
}

/// The rows of a result.
pub fn rows(v: &Value) -> Vec<Vec<Value>> {
    v["data"]["rowset"]
        .as_array()
        .unwrap_or_else(|| panic!("no rowset: {v}"))
        .iter()
        .map(|r| r.as_array().unwrap().clone())
        .collect()
}

/// The index of column `name` in a result.
pub fn column(v: &Value, name: &str) -> usize {
    v["data"]["rowtype"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name}: {v}"))
}

/// A listing (SHOW …) as one map per row, column name → value.
pub fn listing(v: &Value) -> Vec<BTreeMap<String, Value>> {
    let names: Vec<String> = v["data"]["rowtype"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    rows(v)
        .into_iter()
        .map(|r| names.iter().cloned().zip(r).collect())
        .collect()
}

/// The `name` column of a SHOW statement.
pub async fn names(app: &TestApp, token: &str, sql: &str) -> Vec<String> {
    let v = ok(app, token, sql).await;
    let i = column(&v, "name");
    rows(&v)
        .iter()
        .map(|r| r[i].as_str().unwrap().to_string())
        .collect()
}

/// `DESC USER` as property → value.
pub async fn desc_user(app: &TestApp, token: &str, user: &str) -> BTreeMap<String, Value> {
    let v = ok(app, token, &format!("DESC USER {user}")).await;
    assert_eq!(column(&v, "property"), 0);
    assert_eq!(column(&v, "value"), 1);
    rows(&v)
        .into_iter()
        .map(|r| (r[0].as_str().unwrap().to_string(), r[1].clone()))
        .collect()
}

pub async fn user_exists(app: &TestApp, token: &str, user: &str) -> bool {
    let (_, v) = app.query(token, &format!("DESC USER {user}")).await;
    match v["success"].as_bool() {
        Some(true) => true,
        _ => {
            assert_eq!(v["code"], "002003", "{v}");
            false
        }
    }
}

/// A password login, as the answer.
pub async fn password_login(app: &TestApp, ip: Option<&str>, user: &str, pw: &str) -> Value {
    app.post_from(ip, LOGIN, None, login_body(user, pw)).await.1
}

pub fn role_row(v: &Value, role: &str) -> BTreeMap<String, Value> {
    listing(v)
        .into_iter()
        .find(|r| r["name"] == role)
        .unwrap_or_else(|| panic!("no role {role}: {v}"))
}

/// A logged-in session of a test app: `session.ok(sql)`, `session.fails(sql, code)`. Dereferences
/// to its session token, so it goes wherever a token does.
pub struct Session<'a> {
    pub app: &'a TestApp,
    pub token: String,
}

impl std::ops::Deref for Session<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.token
    }
}

impl TestApp {
    /// A session of the demo user (ACCOUNTADMIN).
    pub async fn admin(&self) -> Session<'_> {
        self.session(self.login().await.session)
    }

    pub fn session(&self, token: String) -> Session<'_> {
        Session { app: self, token }
    }
}

/// The expected answer of a statement in a [`Session::script`] that succeeds.
pub const OK: &str = "ok";

impl Session<'_> {
    pub async fn ok(&self, sql: &str) -> Value {
        ok(self.app, self, sql).await
    }

    pub async fn fails(&self, sql: &str, code: &str) -> Value {
        fails(self.app, self, sql, code).await
    }

    /// Runs statements in order, each answering [`OK`] or failing with its SQL error code.
    pub async fn script(&self, steps: &[(&str, &str)]) {
        for (sql, expected) in steps {
            match *expected {
                OK => self.ok(sql).await,
                code => self.fails(sql, code).await,
            };
        }
    }

    pub async fn names(&self, sql: &str) -> Vec<String> {
        names(self.app, self, sql).await
    }

    pub async fn desc_user(&self, user: &str) -> BTreeMap<String, Value> {
        desc_user(self.app, self, user).await
    }

    pub async fn user_exists(&self, user: &str) -> bool {
        user_exists(self.app, self, user).await
    }
}
