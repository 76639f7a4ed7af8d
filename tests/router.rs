//! The router in process (`oneshot`), route by route and error by error.

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use common::*;
use serde_json::json;

on_every_store!(
    query_context_use_and_current_functions,
    other_sql_is_an_unsupported_feature_error,
    expired_session_token_then_renewal,
    renewal_errors,
    delete_ends_the_session_and_is_idempotent,
    sessions_are_independent,
    heartbeat_with_expired_token_is_390112,
    missing_malformed_and_forged_tokens_are_390104,
);

const LOGIN: &str = "/session/v1/login-request";
const QUERY: &str = "/queries/v1/query-request";
const RENEW: &str = "/session/token-request";

#[tokio::test]
async fn login_answers_the_full_response() {
    let app = TestApp::new();
    let (status, v) = app
        .post(
            "/session/v1/login-request?request_id=abc&databaseName=analytics&schemaName=%22Raw%22&warehouse=wh_xs&roleName=sysadmin",
            Some("None"),
            login_body("EMBUCKET", "embucket"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["success"], true);
    assert!(v["code"].is_null() && v["message"].is_null());
    let d = &v["data"];
    assert!(d["token"].as_str().unwrap().len() > 20);
    assert!(d["masterToken"].as_str().unwrap().len() > 20);
    assert_ne!(d["token"], d["masterToken"]);
    assert_eq!(d["validityInSeconds"], 100);
    assert_eq!(d["masterValidityInSeconds"], 1000);
    assert!(d["sessionId"].as_u64().unwrap() < (1 << 53));
    assert_eq!(
        d["sessionInfo"],
        json!({"databaseName": "ANALYTICS", "schemaName": "Raw", "warehouseName": "WH_XS", "roleName": "SYSADMIN"})
    );
    let params = d["parameters"].as_array().unwrap();
    assert!(
        params
            .iter()
            .all(|p| p["name"].is_string() && !p["value"].is_null())
    );
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "CLIENT_SESSION_KEEP_ALIVE" && p["value"] == true)
    );
    assert!(d.get("nextAction").is_none());
}

#[tokio::test]
async fn login_defaults_and_body_context() {
    let app = TestApp::new();
    let mut body = login_body("embucket", "embucket");
    body["data"]["databaseName"] = json!("db1");
    let (_, v) = app
        .post("/session/v1/login-request?requestId=x", None, body)
        .await;
    // A database alone puts the session in its PUBLIC schema; the demo user's default role applies.
    assert_eq!(
        v["data"]["sessionInfo"],
        json!({"databaseName": "DB1", "schemaName": "PUBLIC", "warehouseName": null, "roleName": "ACCOUNTADMIN"})
    );
}

#[tokio::test]
async fn gzipped_login_as_the_python_connector_sends_it() {
    let app = TestApp::new();
    let (status, v) = app
        .post_gzip(LOGIN, Some("None"), login_body("embucket", "embucket"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["success"], true, "{v}");
}

#[tokio::test]
async fn bad_credentials_are_390100_with_http_200() {
    let app = TestApp::new();
    let (s1, wrong) = app.post(LOGIN, None, login_body("embucket", "nope")).await;
    let (s2, unknown) = app
        .post(LOGIN, None, login_body("mallory", "embucket"))
        .await;
    let (s3, missing) = app
        .post(LOGIN, None, json!({"data": {"LOGIN_NAME": "embucket"}}))
        .await;
    for (s, v) in [(s1, &wrong), (s2, &unknown), (s3, &missing)] {
        assert_eq!(s, StatusCode::OK, "drivers must not retry bad credentials");
        assert_failure(v, "390100");
    }
    // The same answer whether the user exists or not.
    assert_eq!(wrong["message"], unknown["message"]);
    assert!(!wrong.to_string().contains("nope"));
}

#[tokio::test]
async fn malformed_login_bodies_are_390400_naming_the_problem() {
    let app = TestApp::new();
    let cases: Vec<(Body, &str)> = vec![
        (Body::from("{not json"), "Malformed JSON"),
        (Body::from(""), "empty"),
        (Body::from("{}"), "data"),
        (
            Body::from(r#"{"data": {"LOGIN_NAME": 5, "PASSWORD": "x"}}"#),
            "data.LOGIN_NAME",
        ),
        (Body::from(r#"{"data": {"PASSWORD": "x"}}"#), "LOGIN_NAME"),
        (Body::from(r#"{"data": "x"}"#), "data"),
        (Body::from(r#"[1,2]"#), "invalid type"),
    ];
    for (body, needle) in cases {
        let (status, v) = app.send(request(LOGIN, None, body, false)).await;
        assert_eq!(status, StatusCode::OK);
        let msg = assert_failure(&v, "390400");
        assert!(msg.contains(needle), "{msg:?} should mention {needle}");
    }
}

#[tokio::test]
async fn unsupported_authenticator_is_refused() {
    let app = TestApp::new();
    let mut body = login_body("embucket", "embucket");
    body["data"]["AUTHENTICATOR"] = json!("OKTA");
    let (_, v) = app.post(LOGIN, None, body).await;
    assert!(assert_failure(&v, "390400").contains("OKTA"));
    let mut body = login_body("embucket", "embucket");
    body["data"]["AUTHENTICATOR"] = json!("snowflake");
    let (_, v) = app.post(LOGIN, None, body).await;
    assert_eq!(v["success"], true, "{v}");
}

#[tokio::test]
async fn bad_gzip_is_390400() {
    let app = TestApp::new();
    let (status, v) = app
        .send(request(
            LOGIN,
            None,
            Body::from("definitely not gzip"),
            true,
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(assert_failure(&v, "390400").contains("gzip"));
    // Truncated gzip: a valid header, then nothing.
    let full = gzip(login_body("embucket", "embucket").to_string().as_bytes());
    let (_, v) = app
        .send(request(
            LOGIN,
            None,
            Body::from(full[..full.len() / 2].to_vec()),
            true,
        ))
        .await;
    assert_failure(&v, "390400");
}

#[tokio::test]
async fn unsupported_content_encoding_gets_an_envelope() {
    let app = TestApp::new();
    let req = Request::post(LOGIN)
        .header("content-encoding", "br")
        .body(Body::from("x"))
        .unwrap();
    let (_, v) = app.send(req).await;
    assert_failure(&v, "390400");
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_and_after_decompression() {
    let app = TestApp::new();
    // Raw body over the limit.
    let mut big = login_body("embucket", "embucket");
    big["data"]["CLIENT_ENVIRONMENT"]["PAD"] = json!("x".repeat(BODY_LIMIT + 1));
    let (status, v) = app.post(LOGIN, None, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(assert_failure(&v, "390400").contains("limit"));
    // A gzip bomb: small on the wire, far over the limit once inflated.
    let bomb = gzip(&vec![b' '; 50 * BODY_LIMIT]);
    assert!(bomb.len() < BODY_LIMIT);
    let (status, v) = app.send(request(LOGIN, None, Body::from(bomb), true)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_failure(&v, "390400");
    // Nothing was created: the service still works normally.
    app.login().await;
}

#[tokio::test]
async fn unknown_path_is_404_with_an_envelope() {
    let app = TestApp::new();
    let (status, v) = app.post("/nope", None, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(assert_failure(&v, "390400").contains("/nope"));
    let (status, v) = app
        .send(Request::get(LOGIN).body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_failure(&v, "390400");
}

async fn query_context_use_and_current_functions(app: TestApp) {
    let t = app.login().await;
    let (_, v) = app.query(&t.session, "USE DATABASE sales").await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["data"]["finalDatabaseName"], "SALES");
    assert_eq!(v["data"]["finalSchemaName"], "PUBLIC");
    assert_eq!(v["data"]["finalRoleName"], "ACCOUNTADMIN");
    assert!(v["data"]["statementTypeId"].is_i64());
    let (_, v) = app.query(&t.session, "use \"Mixed\".raw").await;
    assert_eq!(v["data"]["finalDatabaseName"], "Mixed");
    assert_eq!(v["data"]["finalSchemaName"], "RAW");
    app.query(&t.session, "use warehouse wh").await;
    // Only granted roles (ACCOUNTADMIN and the system roles it holds, for the demo user).
    let (_, v) = app.query(&t.session, "use role analyst").await;
    assert_failure(&v, "003001");
    assert_eq!(v["data"]["sqlState"], "42501");
    let (_, v) = app.query(&t.session, "use role sysadmin").await;
    assert_eq!(v["data"]["finalRoleName"], "SYSADMIN");
    let (_, v) = app
        .query(
            &t.session,
            "select current_database(), current_schema() as s, CURRENT_WAREHOUSE(), current_role(), \
             current_user(), current_account(), current_session(), current_version()",
        )
        .await;
    assert_eq!(v["success"], true, "{v}");
    let d = &v["data"];
    let names: Vec<_> = d["rowtype"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(names[0], "CURRENT_DATABASE()");
    assert_eq!(names[1], "S");
    for col in d["rowtype"].as_array().unwrap() {
        for key in ["name", "type", "nullable", "length", "precision", "scale"] {
            assert!(col.get(key).is_some(), "rowtype lacks {key}");
        }
    }
    assert_eq!(
        d["rowset"],
        json!([[
            "Mixed",
            "RAW",
            "WH",
            "SYSADMIN",
            "EMBUCKET",
            "ACME",
            t.session_id.to_string(),
            "9.0.0"
        ]])
    );
    assert_eq!(d["total"], 1);
    assert!(d["queryId"].is_string());
}

async fn other_sql_is_an_unsupported_feature_error(app: TestApp) {
    let t = app.login().await;
    for sql in [
        "select 1 + 1",
        "create table t (a int)",
        "select current_role() from t",
    ] {
        let (status, v) = app.query(&t.session, sql).await;
        assert_eq!(status, StatusCode::OK);
        let msg = assert_failure(&v, "000002");
        assert!(msg.contains("session context"), "{msg}");
        assert_eq!(v["data"]["sqlState"], "0A000");
        assert_eq!(v["data"]["errorCode"], "000002");
        assert!(v["data"]["queryId"].is_string());
    }
    let (_, v) = app.query(&t.session, "selec oops").await;
    assert_failure(&v, "001003");
    assert_eq!(v["data"]["sqlState"], "42000");
    // USE SCHEMA with no current database is refused and changes nothing.
    let (_, v) = app.query(&t.session, "use schema s").await;
    assert_failure(&v, "001003");
    let (_, v) = app.query(&t.session, "select current_schema()").await;
    assert_eq!(v["data"]["rowset"], json!([[null]]));
}

#[tokio::test]
async fn query_request_body_errors() {
    let app = TestApp::new();
    let t = app.login().await;
    let (_, v) = app.post(QUERY, Some(&t.session), json!({"sql": "x"})).await;
    assert!(assert_failure(&v, "390400").contains("sqlText"));
    let (_, v) = app
        .post(QUERY, Some(&t.session), json!({"sqlText": 7}))
        .await;
    assert!(assert_failure(&v, "390400").contains("sqlText"));
}

async fn missing_malformed_and_forged_tokens_are_390104(app: TestApp) {
    let t = app.login().await;
    let other = TestApp::with_store(
        std::sync::Arc::new(snowgate::store::memory::MemoryStore::new()),
        "another-secret",
    );
    let forged = other.login().await;
    let none = jwt_with_alg_none(&t.session);
    for token in [
        None,
        Some(""),
        Some("garbage"),
        Some(forged.session.as_str()),
        Some(none.as_str()),
        Some(t.master.as_str()),
    ] {
        let (status, v) = app
            .query(token.unwrap_or_default(), "select current_user()")
            .await;
        let v = if token.is_none() {
            let req = Request::post(QUERY)
                .body(Body::from(r#"{"sqlText":"select 1"}"#))
                .unwrap();
            app.send(req).await.1
        } else {
            assert_eq!(status, StatusCode::OK);
            v
        };
        assert_failure(&v, "390104");
    }
    // A header in the wrong form.
    let req = Request::post(QUERY)
        .header("authorization", format!("Bearer {}", t.session))
        .body(Body::from(r#"{"sqlText":"select 1"}"#))
        .unwrap();
    assert_failure(&app.send(req).await.1, "390104");
}

/// The session token re-signed as `alg: none`.
fn jwt_with_alg_none(token: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = token.split('.').nth(1).unwrap();
    format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        payload
    )
}

async fn expired_session_token_then_renewal(app: TestApp) {
    let t = app.login().await;
    app.advance(100);
    let (_, v) = app.query(&t.session, "select current_user()").await;
    assert_failure(&v, "390112");
    let (status, v) = app
        .post(
            RENEW,
            Some(&t.master),
            json!({"oldSessionToken": t.session, "requestType": "RENEW"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["success"], true, "{v}");
    let d = &v["data"];
    assert_eq!(d["masterToken"], t.master.as_str());
    assert_eq!(d["sessionId"], t.session_id);
    assert_eq!(d["validityInSecondsST"], 100);
    assert_eq!(d["validityInSecondsMT"], 900);
    assert_eq!(d["masterValidityInSeconds"], 900);
    let fresh = d["sessionToken"].as_str().unwrap();
    assert_ne!(fresh, t.session);
    let (_, v) = app.query(fresh, "select current_user()").await;
    assert_eq!(v["data"]["rowset"], json!([["EMBUCKET"]]));
}

async fn renewal_errors(app: TestApp) {
    let t = app.login().await;
    let body = json!({"oldSessionToken": t.session, "requestType": "RENEW"});
    // A session token is not a master token.
    let (_, v) = app.post(RENEW, Some(&t.session), body.clone()).await;
    assert_failure(&v, "390115");
    let (_, v) = app.post(RENEW, Some("junk"), body.clone()).await;
    assert_failure(&v, "390115");
    let (_, v) = app
        .post(
            RENEW,
            Some(&t.master),
            json!({"oldSessionToken": t.session, "requestType": "CLONE"}),
        )
        .await;
    // ISSUE is answered as RENEW (tests/forward_auth.rs).
    assert!(assert_failure(&v, "390400").contains("CLONE"));
    let (_, v) = app
        .post(
            RENEW,
            Some(&t.master),
            json!({"oldSessionToken": t.session}),
        )
        .await;
    assert!(assert_failure(&v, "390400").contains("requestType"));
    // Expired master token: 390114.
    app.advance(1000);
    let (_, v) = app.post(RENEW, Some(&t.master), body).await;
    assert_failure(&v, "390114");
}

async fn delete_ends_the_session_and_is_idempotent(app: TestApp) {
    let t = app.login().await;
    let (_, v) = app
        .post("/session/heartbeat", Some(&t.session), json!({}))
        .await;
    assert_eq!(
        v,
        json!({"data": null, "code": null, "message": null, "success": true, "headers": null})
    );
    let (status, v) = app
        .post("/session?delete=true", Some(&t.session), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["success"], true);
    // Every use of the tokens now finds the session gone.
    assert_failure(
        &app.query(&t.session, "select current_user()").await.1,
        "390111",
    );
    assert_failure(
        &app.post("/session/heartbeat", Some(&t.session), json!({}))
            .await
            .1,
        "390111",
    );
    let renew = json!({"oldSessionToken": t.session, "requestType": "RENEW"});
    assert_failure(&app.post(RENEW, Some(&t.master), renew).await.1, "390111");
    // Deleting again succeeds; Go sends no body at all.
    let req = request(
        "/session?delete=true&requestId=1",
        Some(&t.session),
        Body::empty(),
        false,
    );
    assert_eq!(app.send(req).await.1["success"], true);
    // Without delete=true nothing happens.
    let t2 = app.login().await;
    assert_failure(
        &app.post("/session", Some(&t2.session), json!({})).await.1,
        "390400",
    );
    assert_eq!(
        app.query(&t2.session, "select current_user()").await.1["success"],
        true
    );
}

async fn sessions_are_independent(app: TestApp) {
    let a = app.login().await;
    let b = app.login().await;
    assert_ne!(a.session_id, b.session_id);
    app.query(&a.session, "use database one").await;
    app.post("/session?delete=true", Some(&b.session), json!({}))
        .await;
    let (_, v) = app.query(&a.session, "select current_database()").await;
    assert_eq!(v["data"]["rowset"], json!([["ONE"]]));
}

async fn heartbeat_with_expired_token_is_390112(app: TestApp) {
    let t = app.login().await;
    app.advance(150);
    assert_failure(
        &app.post("/session/heartbeat", Some(&t.session), json!({}))
            .await
            .1,
        "390112",
    );
    // Past the master token's life the session itself is gone from the store.
    app.advance(1000);
    let renew = json!({"oldSessionToken": t.session, "requestType": "RENEW"});
    assert_failure(&app.post(RENEW, Some(&t.master), renew).await.1, "390114");
}

#[tokio::test]
async fn telemetry_is_accepted() {
    let app = TestApp::new();
    let (status, v) = app
        .post(
            "/telemetry/send",
            Some("whatever"),
            json!({"logs": [{"message": {"type": "x"}}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["success"], true);
}
