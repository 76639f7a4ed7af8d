//! Properties of request decoding: whatever bytes or JSON a client sends as a login, query, renew or
//! heartbeat body, through the router, the answer is a Snowflake envelope and never a panic. The
//! same ground as the `fuzz/` targets, small enough for every test run.

mod common;

use std::sync::OnceLock;

use axum::body::Body;
use common::*;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const LOGIN: &str = "/session/v1/login-request";
const QUERY: &str = "/queries/v1/query-request?requestId=p";
const RENEW: &str = "/session/token-request";
const HEARTBEAT: &str = "/session/heartbeat";

/// The login fields drivers send, so generated bodies reach past the first missing key.
const LOGIN_FIELDS: &[&str] = &[
    "ACCOUNT_NAME",
    "LOGIN_NAME",
    "PASSWORD",
    "AUTHENTICATOR",
    "TOKEN",
    "CLIENT_APP_ID",
    "CLIENT_APP_VERSION",
    "CLIENT_ENVIRONMENT",
    "SESSION_PARAMETERS",
    "databaseName",
    "roleName",
];
const QUERY_FIELDS: &[&str] = &[
    "sqlText",
    "asyncExec",
    "sequenceId",
    "bindings",
    "parameters",
];

/// One runtime and app for all cases: the in-memory store, with one live session to query with.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    app: TestApp,
    tokens: Tokens,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let app = TestApp::new();
        let tokens = runtime.block_on(app.login());
        Fixture {
            runtime,
            app,
            tokens,
        }
    })
}

/// Sends `body` and checks the answer is an envelope: JSON with a boolean `success`, and on failure
/// a string `code` and a message. Returns `success`.
fn envelope(
    uri: &str,
    token: Option<&str>,
    body: Vec<u8>,
    gzipped: bool,
) -> Result<bool, TestCaseError> {
    let f = fixture();
    let req = request(uri, token, Body::from(body), gzipped);
    // `send` panics (failing the case) unless the answer is JSON.
    let (_, v) = f.runtime.block_on(f.app.send(req));
    let success = v["success"].as_bool();
    prop_assert!(success.is_some(), "{v}");
    if success == Some(false) {
        prop_assert!(v["code"].is_string(), "{v}");
        prop_assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
    Ok(success == Some(true))
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// An object holding some of `fields`, each with any JSON value.
fn object_with(fields: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(fields), json_value()), 0..8).prop_map(|kv| {
        Value::Object(
            kv.into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Map<_, _>>(),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_as_a_body_get_an_envelope(bytes in prop::collection::vec(any::<u8>(), 0..512), gz in any::<bool>()) {
        let tokens = &fixture().tokens;
        for (uri, token) in [(LOGIN, None), (QUERY, Some(&tokens.session)), (RENEW, Some(&tokens.master)), (HEARTBEAT, Some(&tokens.session))] {
            envelope(uri, token.map(String::as_str), bytes.clone(), gz)?;
        }
    }

    #[test]
    fn any_gzip_of_any_bytes_gets_an_envelope(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let tokens = &fixture().tokens;
        envelope(LOGIN, None, gzip(&bytes), true)?;
        envelope(QUERY, Some(&tokens.session), gzip(&bytes), true)?;
    }

    #[test]
    fn any_json_login_is_refused_with_an_envelope(data in object_with(LOGIN_FIELDS), whole in json_value()) {
        // Random credentials never name the demo user with its password.
        let ok = envelope(LOGIN, None, json!({"data": data}).to_string().into_bytes(), false)?;
        prop_assert!(!ok);
        let ok = envelope(LOGIN, None, whole.to_string().into_bytes(), false)?;
        prop_assert!(!ok);
    }

    #[test]
    fn any_json_query_gets_an_envelope(body in object_with(QUERY_FIELDS), whole in json_value()) {
        let session = fixture().tokens.session.clone();
        envelope(QUERY, Some(&session), body.to_string().into_bytes(), false)?;
        envelope(QUERY, Some(&session), whole.to_string().into_bytes(), false)?;
        envelope(RENEW, Some(&fixture().tokens.master), whole.to_string().into_bytes(), false)?;
    }

    #[test]
    fn any_sql_text_gets_an_envelope(sql in any::<String>()) {
        let session = fixture().tokens.session.clone();
        let body = json!({"sqlText": sql, "asyncExec": false, "sequenceId": 1});
        envelope(QUERY, Some(&session), body.to_string().into_bytes(), false)?;
    }
}
