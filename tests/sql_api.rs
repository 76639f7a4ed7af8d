//! The SQL API v2 through the router (issue 22 item 6): key-pair JWT, PAT and session-token
//! callers; the `jsonv2` result set of statements answered here; `async=true`, the kept result,
//! partitions and cancel; statements the SQL API refuses, administration under its role rules,
//! no engine; refusals (401 with 390144, 394400), hostile bodies, headers and handles, limits.
//! The engine path is in `tests/gateway.rs`.

mod common;

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::keys::TestKey;
use common::sql::{column, rows};
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

fn key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::generate)
}

fn jwt(user: &str, iat: u64, life: u64) -> String {
    let claims = json!({
        "iss": format!("ACME.{user}.{}", key().fp), "sub": format!("ACME.{user}"),
        "iat": iat, "exp": iat + life,
    });
    jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_der(&key().pkcs1_der),
    )
    .unwrap()
}

/// ALICE (role ANALYST, key-pair), BOB (key-pair, ACCOUNTADMIN granted).
async fn setup(app: &TestApp) -> common::sql::Session<'_> {
    let admin = app.admin().await;
    let public = &key().public_b64;
    for sql in [
        "CREATE ROLE analyst".to_string(),
        format!("CREATE USER alice DEFAULT_ROLE=analyst RSA_PUBLIC_KEY='{public}'"),
        "GRANT ROLE analyst TO USER alice".into(),
        format!("CREATE USER bob RSA_PUBLIC_KEY='{public}'"),
        "GRANT ROLE accountadmin TO USER bob".into(),
    ] {
        admin.ok(&sql).await;
    }
    admin
}

async fn call(
    app: &TestApp,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, Value) {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(token) = auth {
        b = b.header("authorization", format!("Bearer {token}"));
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let mut req = b.body(Body::from(body.to_string())).unwrap();
    let ip: std::net::IpAddr = "10.0.0.5".parse().unwrap();
    req.extensions_mut()
        .insert(snowgate::http::extract::ClientIp(Some(ip)));
    app.send(req).await
}

async fn statement(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let keypair = [("x-snowflake-authorization-token-type", "KEYPAIR_JWT")];
    call(
        app,
        "POST",
        "/api/v2/statements",
        Some(token),
        &keypair,
        &body.to_string(),
    )
    .await
}

#[tokio::test]
async fn a_key_pair_caller_gets_local_answers_in_the_jsonv2_shape() {
    let app = TestApp::new();
    setup(&app).await;
    let token = jwt("ALICE", START, 3540);
    let body = json!({
        "statement": "SELECT CURRENT_USER(), CURRENT_ROLE(), CURRENT_DATABASE(), CURRENT_SCHEMA(), 1, 'x', NULL",
        "database": "analytics", "warehouse": "wh", "timeout": 60,
    });
    let (status, v) = statement(&app, &token, body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["code"], "090001");
    assert_eq!(v["sqlState"], "00000");
    assert_eq!(v["message"], "Statement executed successfully.");
    let handle = v["statementHandle"].as_str().unwrap();
    assert_eq!(
        v["statementStatusUrl"],
        format!("/api/v2/statements/{handle}")
    );
    assert!(v["createdOn"].as_u64().unwrap() >= START * 1000);
    let meta = &v["resultSetMetaData"];
    assert_eq!(meta["format"], "jsonv2");
    assert_eq!(meta["numRows"], 1);
    assert_eq!(meta["rowType"].as_array().unwrap().len(), 7);
    assert_eq!(meta["rowType"][4]["type"], "fixed");
    assert_eq!(meta["partitionInfo"][0]["rowCount"], 1);
    assert_eq!(
        v["data"],
        json!([["ALICE", "ANALYST", "ANALYTICS", "PUBLIC", "1", "x", null]])
    );
    // The same JWT reused most of its life; nullable=false writes NULL as "null".
    app.advance(50 * 60);
    let (status, v) = call(
        &app,
        "POST",
        "/api/v2/statements?nullable=false&requestId=r-1",
        Some(&token),
        &[],
        r#"{"statement": "SELECT NULL"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["data"], json!([["null"]]));
    assert_eq!(v["requestId"], "r-1");
}

#[tokio::test]
async fn async_statements_answer_202_and_their_result_waits_for_its_caller() {
    let app = TestApp::new();
    setup(&app).await;
    let alice = jwt("ALICE", START, 600);
    let (status, v) = call(
        &app,
        "POST",
        "/api/v2/statements?async=true",
        Some(&alice),
        &[],
        r#"{"statement": "SELECT CURRENT_USER()"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["code"], "333334");
    let handle = v["statementHandle"].as_str().unwrap().to_string();
    let url = format!("/api/v2/statements/{handle}");
    assert_eq!(v["statementStatusUrl"], url);
    let (status, v) = call(&app, "GET", &url, Some(&alice), &[], "").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["data"], json!([["ALICE"]]));
    let (status, v) = call(
        &app,
        "GET",
        &format!("{url}?partition=0"),
        Some(&alice),
        &[],
        "",
    )
    .await;
    assert_eq!((status, &v["data"]), (StatusCode::OK, &json!([["ALICE"]])));
    let (status, _) = call(
        &app,
        "GET",
        &format!("{url}?partition=1"),
        Some(&alice),
        &[],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(
        &app,
        "GET",
        &format!("{url}?partition=x"),
        Some(&alice),
        &[],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Another caller does not see it; nor does anyone once it is gone or for a made-up handle.
    let bob = jwt("BOB", START, 600);
    let (status, v) = call(&app, "GET", &url, Some(&bob), &[], "").await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("000709"))
    );
    let cancel = format!("{url}/cancel");
    let (status, _) = call(&app, "POST", &cancel, Some(&bob), &[], "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, v) = call(&app, "POST", &cancel, Some(&alice), &[], "").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["statementHandle"], handle.as_str());
    // Without a credential, the handle tells nothing.
    let (status, v) = call(&app, "GET", &url, None, &[], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
    app.advance(601);
    let late = jwt("ALICE", START + 601, 600);
    let (status, _) = call(&app, "GET", &url, Some(&late), &[], "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for bad in ["/api/v2/statements/..%2Fx", "/api/v2/statements/a'b"] {
        let (status, _) = call(&app, "GET", bad, Some(&late), &[], "").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn pats_and_session_tokens_call_it_and_roles_follow_the_credential() {
    let app = TestApp::new();
    let admin = setup(&app).await;
    // PATs need a network policy (the default PAT policy).
    admin
        .ok("CREATE NETWORK POLICY office ALLOWED_IP_LIST=('10.0.0.0/8')")
        .await;
    admin.ok("ALTER USER alice SET NETWORK_POLICY=office").await;
    let added = admin
        .ok("ALTER USER alice ADD PROGRAMMATIC ACCESS TOKEN t1 ROLE_RESTRICTION='ANALYST'")
        .await;
    let pat = rows(&added)[0][column(&added, "token_secret")]
        .as_str()
        .unwrap()
        .to_string();
    let pat_type = [(
        "x-snowflake-authorization-token-type",
        "PROGRAMMATIC_ACCESS_TOKEN",
    )];
    let select = r#"{"statement": "SELECT CURRENT_USER(), CURRENT_ROLE()"}"#;
    for declared in [&pat_type[..], &[]] {
        let (status, v) = call(
            &app,
            "POST",
            "/api/v2/statements",
            Some(&pat),
            declared,
            select,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["data"], json!([["ALICE", "ANALYST"]]));
    }
    // The PAT's restriction holds against the body's role and X-Snowflake-Role.
    let body = r#"{"statement": "SELECT 1", "role": "PUBLIC"}"#;
    let (status, _) = call(&app, "POST", "/api/v2/statements", Some(&pat), &[], body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let public = [("x-snowflake-role", "PUBLIC")];
    let (status, _) = call(
        &app,
        "POST",
        "/api/v2/statements",
        Some(&pat),
        &public,
        select,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A bad PAT: 401 with 394400.
    let (status, v) = call(
        &app,
        "POST",
        "/api/v2/statements",
        Some("sgpat_nope"),
        &pat_type,
        select,
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("394400")),
        "{v}"
    );

    // A driver session's token as Bearer: the session's user and role.
    let session = app.login().await.session;
    let (status, v) = call(
        &app,
        "POST",
        "/api/v2/statements",
        Some(&session),
        &[],
        select,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["data"], json!([["EMBUCKET", "ACCOUNTADMIN"]]));
}

#[tokio::test]
async fn administration_runs_under_its_role_rules_and_session_statements_are_refused() {
    let app = TestApp::new();
    setup(&app).await;
    let bob = jwt("BOB", START, 600);
    let (status, v) = statement(
        &app,
        &bob,
        json!({"statement": "CREATE ROLE reporting", "role": "ACCOUNTADMIN"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(
        v["data"][0][0].as_str().unwrap().contains("REPORTING"),
        "{v}"
    );
    let alice = jwt("ALICE", START, 600);
    let (status, v) = statement(&app, &alice, json!({"statement": "CREATE ROLE other"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "003001");
    assert!(v["statementHandle"].is_string());
    // A role not granted: refused.
    let (status, _) = statement(
        &app,
        &alice,
        json!({"statement": "SELECT 1", "role": "ACCOUNTADMIN"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for sql in [
        "USE DATABASE d",
        "ALTER SESSION SET QUERY_TAG='x'",
        "BEGIN",
        "COMMIT",
    ] {
        let (status, v) = statement(&app, &alice, json!({"statement": sql})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{sql}: {v}");
        assert_eq!(v["code"], "000002");
        assert!(v["message"].as_str().unwrap().contains("SQL API"), "{v}");
    }
    // No engine: what snowgate does not answer is 422, 000002.
    let (status, v) = statement(&app, &alice, json!({"statement": "SELECT * FROM t"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        (v["code"].as_str(), v["sqlState"].as_str()),
        (Some("000002"), Some("0A000"))
    );
}

#[tokio::test]
async fn refusals_are_401_with_snowflakes_codes_and_tell_no_secret() {
    let app = TestApp::new();
    setup(&app).await;
    let select = json!({"statement": "SELECT 1"});
    // Signed by the right key for a user without it, expired, over an hour, garbage.
    let mut other = jwt("ALICE", START, 600);
    other.pop();
    for token in [
        other,
        jwt("ALICE", START - 700, 600),
        jwt("ALICE", START, 3601),
        jwt("NOBODY", START, 600),
    ] {
        let (status, v) = statement(&app, &token, select.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
        assert_eq!(v["code"], "390144");
        let message = v["message"].as_str().unwrap();
        assert!(message.starts_with("JWT token is invalid. ["), "{message}");
        assert!(!v.to_string().contains(&token));
    }
    // No Authorization, two of them, an unknown scheme or token type.
    let body = select.to_string();
    let (status, _) = call(&app, "POST", "/api/v2/statements", None, &[], &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let good = jwt("ALICE", START, 600);
    let twice = [("authorization", "Bearer x")];
    let (status, _) = call(
        &app,
        "POST",
        "/api/v2/statements",
        Some(&good),
        &twice,
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let odd = [("x-snowflake-authorization-token-type", "KERBEROS")];
    let (status, _) = call(&app, "POST", "/api/v2/statements", Some(&good), &odd, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn hostile_bodies_and_query_strings_are_400_in_the_sql_api_shape() {
    let app = TestApp::new();
    setup(&app).await;
    let token = jwt("ALICE", START, 600);
    let long_name = "d".repeat(2000);
    let many: serde_json::Map<String, Value> = (0..1001)
        .map(|i| (i.to_string(), json!({"type": "FIXED", "value": "1"})))
        .collect();
    for body in [
        "not json".to_string(),
        "{}".into(),
        r#"{"statement": 5}"#.into(),
        r#"{"statement": ""}"#.into(),
        r#"{"statement": "SELECT 1", "timeout": -1}"#.into(),
        r#"{"statement": "SELECT 1", "timeout": 604801}"#.into(),
        r#"{"statement": "SELECT 1", "bindings": {"1": "x"}}"#.into(),
        r#"{"statement": "SELECT 1", "parameters": {"MULTI_STATEMENT_COUNT": 0}}"#.into(),
        json!({"statement": "SELECT 1", "bindings": many}).to_string(),
        json!({"statement": "SELECT 1", "database": long_name}).to_string(),
        json!({"statement": "SELECT 1", "role": long_name}).to_string(),
    ] {
        let (status, v) = call(&app, "POST", "/api/v2/statements", Some(&token), &[], &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:.80}: {v}");
        assert_eq!(v["code"], "390400", "{v}");
        assert!(v["message"].is_string());
        assert!(
            !v.to_string().contains("not json"),
            "the body is not echoed: {v}"
        );
    }
    let select = r#"{"statement": "SELECT 1"}"#;
    for uri in [
        "/api/v2/statements?async=maybe",
        "/api/v2/statements?nullable=2",
    ] {
        let (status, _) = call(&app, "POST", uri, Some(&token), &[], select).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
    }
    let long = format!("/api/v2/statements?requestId={}", "r".repeat(300));
    let (status, _) = call(&app, "POST", &long, Some(&token), &[], select).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let huge_role = [("x-snowflake-role", long_name.as_str())];
    let (status, _) = call(
        &app,
        "POST",
        "/api/v2/statements",
        Some(&token),
        &huge_role,
        select,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Over the body limit: 413.
    let big = json!({"statement": "x".repeat(2 << 20)}).to_string();
    let (status, _) = call(&app, "POST", "/api/v2/statements", Some(&token), &[], &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}
