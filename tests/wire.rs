//! Hostile requests at the router (the same for Lambda and the local server): request-line and
//! header limits, the client address behind trusted proxies, IPv4-mapped policy entries, caps on
//! every string kept from a login, and deeply nested JSON.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestApp, assert_failure, login_body, request};
use secrecy::SecretString;
use serde_json::{Value, json};
use snowgate::AppState;
use snowgate::domain::directory::NetworkPolicy;
use snowgate::domain::{Gatekeeper, Settings};
use snowgate::http::extract::ClientIp;
use snowgate::secrets::StaticSecrets;
use snowgate::store::memory::MemoryStore;

const LOGIN: &str = "/session/v1/login-request";

/// An app that believes `X-Forwarded-For` from 192.168.0.0/16.
fn behind_proxy() -> TestApp {
    let secrets = StaticSecrets::new(
        &SecretString::from("test-secret"),
        "embucket".into(),
        SecretString::from("embucket"),
    );
    let store: Arc<dyn snowgate::store::Store> = Arc::new(MemoryStore::new());
    let gate = Gatekeeper::new(
        Arc::clone(&store),
        Arc::new(secrets),
        Settings::default(),
        Arc::new(|| common::START),
    );
    let gate = Arc::new(gate);
    let state = AppState {
        gate: Arc::clone(&gate),
        body_limit: common::BODY_LIMIT,
        trusted_proxies: Arc::new(vec!["192.168.0.0/16".parse().unwrap()]),
        statements: Default::default(),
    };
    TestApp {
        router: snowgate::app(state),
        clock: Default::default(),
        store,
        gate,
    }
}

/// A login of `user` from proxy 192.168.1.1 carrying each of `forwarded` as its own header.
async fn login_via_proxy(app: &TestApp, user: &str, forwarded: &[&str]) -> Value {
    let mut req = request(
        LOGIN,
        None,
        Body::from(login_body(user, "pw123456").to_string()),
        false,
    );
    for value in forwarded {
        req.headers_mut()
            .append("x-forwarded-for", value.parse().unwrap());
    }
    req.extensions_mut()
        .insert(ClientIp(Some("192.168.1.1".parse().unwrap())));
    app.send(req).await.1
}

/// Creates `user` whose network policy allows only `allowed`.
async fn user_with_policy(app: &TestApp, user: &str, allowed: &str) {
    let admin = app.login().await.session;
    for sql in [
        format!("CREATE NETWORK POLICY p_{user} ALLOWED_IP_LIST=('{allowed}')"),
        format!("CREATE USER {user} PASSWORD='pw123456'"),
        format!("ALTER USER {user} SET NETWORK_POLICY = p_{user}"),
    ] {
        let (_, v) = app.query(&admin, &sql).await;
        assert_eq!(v["success"], true, "{sql}: {v}");
    }
}

#[tokio::test]
async fn repeated_forwarded_for_headers_are_one_list() {
    let app = behind_proxy();
    user_with_policy(&app, "alice", "10.0.0.1").await;
    // The client hop is in the second header: the rightmost untrusted entry of both together.
    let v = login_via_proxy(&app, "alice", &["203.0.113.5", "10.0.0.1, 192.168.5.5"]).await;
    assert_eq!(v["success"], true, "{v}");
    // A spoofed first header does not win over the hop the proxy appended.
    let v = login_via_proxy(&app, "alice", &["10.0.0.1", "203.0.113.5"]).await;
    assert!(assert_failure(&v, "390422").contains("203.0.113.5"), "{v}");
    // A header that is not text ends the chain like a malformed entry.
    let mut req = request(
        LOGIN,
        None,
        Body::from(login_body("alice", "pw123456").to_string()),
        false,
    );
    req.headers_mut()
        .append("x-forwarded-for", "10.0.0.1".parse().unwrap());
    req.headers_mut().append(
        "x-forwarded-for",
        axum::http::HeaderValue::from_bytes(b"\xff").unwrap(),
    );
    req.extensions_mut()
        .insert(ClientIp(Some("192.168.1.1".parse().unwrap())));
    let v = app.send(req).await.1;
    assert_failure(&v, "390422");
}

#[tokio::test]
async fn ipv4_mapped_policy_entries_match_ipv4_clients() {
    let app = TestApp::new();
    user_with_policy(&app, "bob", "::ffff:10.0.0.0/120").await;
    let from = |ip: &'static str| {
        let app = &app;
        async move {
            app.post_from(Some(ip), LOGIN, None, login_body("bob", "pw123456"))
                .await
                .1
        }
    };
    assert_eq!(from("10.0.0.7").await["success"], true);
    assert_eq!(from("::ffff:10.0.0.8").await["success"], true);
    assert_failure(&from("10.0.1.1").await, "390422");
}

#[test]
fn policy_entries_are_normalised() {
    let parse = |e: &str| NetworkPolicy::parse_entry(e).unwrap().to_string();
    assert_eq!(parse("::ffff:10.0.0.1"), "10.0.0.1/32");
    assert_eq!(parse("::ffff:10.1.2.3/104"), "10.0.0.0/8");
    assert_eq!(parse("::ffff:0:0/96"), "0.0.0.0/0");
    // Wider than the mapped range, or not mapped: stays IPv6.
    assert_eq!(parse("::/64"), "::/64");
    assert_eq!(parse("2001:db8::/32"), "2001:db8::/32");
    let policy = NetworkPolicy {
        allowed_ip_list: vec!["10.0.0.1".into()],
        ..Default::default()
    };
    assert!(policy.admits(Some("::ffff:10.0.0.1".parse().unwrap())));
}

#[tokio::test]
async fn request_line_and_header_limits_apply_to_the_router() {
    let app = TestApp::new();
    let long = format!("{LOGIN}?request_id={}", "a".repeat(9000));
    let (status, v) = app.post(&long, None, login_body("embucket", "x")).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    assert!(assert_failure(&v, "390400").contains("8192"));

    let mut req = request(LOGIN, None, Body::from("{}"), false);
    for i in 0..40 {
        req.headers_mut().insert(
            format!("x-h{i}")
                .as_str()
                .parse::<axum::http::HeaderName>()
                .unwrap(),
            "v".repeat(500).parse().unwrap(),
        );
    }
    let (status, v) = app.send(req).await;
    assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(assert_failure(&v, "390400").contains("16384"));
}

/// A login body with `field` set to `value` in `data`.
fn login_with(field: &str, value: Value) -> Value {
    let mut body = login_body("embucket", "embucket");
    body["data"][field] = value;
    body
}

#[tokio::test]
async fn every_kept_login_string_is_capped() {
    let app = TestApp::new();
    let secret = "s3cr3t".repeat(2000);
    let cases = [
        ("LOGIN_NAME", json!(secret), "1024"),
        ("ACCOUNT_NAME", json!(secret), "1024"),
        ("PASSWORD", json!(secret), "1024"),
        ("TOKEN", json!(secret.repeat(2)), "8192"),
        ("AUTHENTICATOR", json!(secret), "256"),
        ("CLIENT_APP_ID", json!(secret), "256"),
        ("CLIENT_APP_VERSION", json!(secret), "256"),
        ("databaseName", json!(secret), "1024"),
        ("schemaName", json!(secret), "1024"),
        ("warehouse", json!(secret), "1024"),
        ("roleName", json!(secret), "1024"),
        (
            "CLIENT_ENVIRONMENT",
            json!({"OS": secret.repeat(2)}),
            "16384",
        ),
    ];
    for (field, value, limit) in cases {
        let (status, v) = app.post(LOGIN, None, login_with(field, value)).await;
        assert_eq!(status, StatusCode::OK);
        let message = assert_failure(&v, "390400");
        assert!(
            message.contains(field) && message.contains(limit),
            "{field}: {message}"
        );
        assert!(!message.contains("s3cr3t"), "{field}: {message}");
    }
    // The same names in the query string.
    for field in [
        "databaseName",
        "schemaName",
        "warehouse",
        "roleName",
        "request_id",
    ] {
        let uri = format!("{LOGIN}?{field}={}", "d".repeat(1100));
        let (_, v) = app
            .post(&uri, None, login_body("embucket", "embucket"))
            .await;
        assert!(assert_failure(&v, "390400").contains(field), "{v}");
    }
    // At the limits, a login still works.
    let mut body = login_with("CLIENT_APP_ID", json!("a".repeat(256)));
    body["data"]["CLIENT_APP_VERSION"] = json!("1".repeat(256));
    let (_, v) = app.post(LOGIN, None, body).await;
    assert_eq!(v["success"], true, "{v}");
}

#[tokio::test]
async fn session_parameters_are_capped_and_merged() {
    let app = TestApp::new();
    let many: serde_json::Map<String, Value> =
        (0..300).map(|i| (format!("P{i}"), json!(i))).collect();
    let refused = [
        json!(many),
        json!({"QUERY_TAG": "s3cr3t".repeat(2000)}),
        json!({"N".repeat(300): 1}),
        json!({"A": {"B": {"C": "s3cr3t"}}}),
    ];
    for params in refused {
        let (_, v) = app
            .post(LOGIN, None, login_with("SESSION_PARAMETERS", params))
            .await;
        let message = assert_failure(&v, "390400");
        assert!(message.contains("SESSION_PARAMETERS"), "{message}");
        assert!(
            !message.contains("s3cr3t") && !message.contains("NNN"),
            "{message}"
        );
    }
    let params = json!({"timezone": "Europe/Paris", "QUERY_TAG": "t", "CLIENT_ENV": {"a": 1}});
    let (_, v) = app
        .post(LOGIN, None, login_with("SESSION_PARAMETERS", params))
        .await;
    assert_eq!(v["success"], true, "{v}");
    let echoed: Vec<(String, Value)> = v["data"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_string(), p["value"].clone()))
        .collect();
    assert!(echoed.contains(&("TIMEZONE".into(), json!("Europe/Paris"))));
    assert!(echoed.contains(&("QUERY_TAG".into(), json!("t"))));
    assert!(!echoed.iter().any(|(n, _)| n == "CLIENT_ENV"));
}

#[tokio::test]
async fn deeply_nested_bodies_are_390400() {
    let app = TestApp::new();
    let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let bodies = [
        deep(20_000),
        format!(
            r#"{{"data": {{"LOGIN_NAME": "x", "EXTRA": {}}}}}"#,
            deep(20_000)
        ),
        format!(
            r#"{{"data": {{"LOGIN_NAME": "x", "SESSION_PARAMETERS": {{"A": {}}}}}}}"#,
            deep(20_000)
        ),
        format!(r#"{{"data": {{"CLIENT_ENVIRONMENT": {}}}}}"#, deep(20_000)),
    ];
    for body in bodies {
        let req = Request::post(LOGIN)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        let (_, v) = app.send(req).await;
        assert_failure(&v, "390400");
    }
    let (_, v) = app
        .post(
            "/queries/v1/query-request",
            Some("t"),
            serde_json::from_str::<Value>(&deep(100)).unwrap(),
        )
        .await;
    assert_eq!(v["success"], false);
}

#[tokio::test]
async fn renewal_request_type_is_capped() {
    let app = TestApp::new();
    let tokens = app.login().await;
    let body = json!({"oldSessionToken": tokens.session, "requestType": "s3cr3t".repeat(100)});
    let (_, v) = app
        .post("/session/token-request", Some(&tokens.master), body)
        .await;
    let message = assert_failure(&v, "390400");
    assert!(
        message.contains("requestType") && message.contains("64"),
        "{message}"
    );
    assert!(!message.contains("s3cr3t"), "{message}");
}

/// Node's snowflake-sdk 1.x renews with upper-case keys; 2.x and every other driver with camel
/// case. Both renew, and the new session token works.
#[tokio::test]
async fn renewal_accepts_every_drivers_spelling() {
    let app = TestApp::new();
    for body in [
        |t: &str| json!({"oldSessionToken": t, "requestType": "RENEW"}),
        |t: &str| json!({"OLD_SESSION_TOKEN": t, "REQUEST_TYPE": "RENEW"}),
    ] {
        let tokens = app.login().await;
        let (_, v) = app
            .post(
                "/session/token-request",
                Some(&tokens.master),
                body(&tokens.session),
            )
            .await;
        assert_eq!(v["success"], true, "{v}");
        let renewed = v["data"]["sessionToken"].as_str().unwrap().to_string();
        let (_, beat) = app
            .post("/session/heartbeat", Some(&renewed), json!({}))
            .await;
        assert_eq!(beat["success"], true, "{beat}");
    }
}

/// Every refused login carries Snowflake's `data` object (drivers read `data.nextAction`; the
/// Python connector 2.x fails on `null`), naming the method the login asked for: a wrong password, a
/// malformed body and an unknown AUTHENTICATOR alike. A refusal drivers retry (a body too large)
/// keeps the plain envelope.
#[tokio::test]
async fn every_login_refusal_carries_the_retry_data() {
    let app = TestApp::new();
    let retry = |method: &str| json!({"nextAction": "RETRY_LOGIN", "authnMethod": method, "signInOptions": {}});
    let cases = [
        (
            json!({"data": {"LOGIN_NAME": "embucket", "PASSWORD": "wrong"}}),
            "390100",
            "USERNAME_PASSWORD",
        ),
        (
            json!({"data": {"LOGIN_NAME": "embucket", "TOKEN": "x", "AUTHENTICATOR": "PROGRAMMATIC_ACCESS_TOKEN"}}),
            "394400",
            "PAT",
        ),
        (
            json!({"data": {"LOGIN_NAME": "embucket", "AUTHENTICATOR": "no-such-thing"}}),
            "390400",
            "USERNAME_PASSWORD",
        ),
        (
            json!({"data": "not an object"}),
            "390400",
            "USERNAME_PASSWORD",
        ),
    ];
    for (body, code, method) in cases {
        let (status, v) = app.post("/session/v1/login-request", None, body).await;
        assert_eq!(status, axum::http::StatusCode::OK, "{v}");
        assert_eq!(v["code"], code, "{v}");
        assert_eq!(v["data"], retry(method), "{v}");
    }
}

/// Paths joined with a doubled slash (`snowflake-api` asks for `//session/token-request`) are
/// answered as with one, query string and all; a path that is still unknown stays 404.
#[tokio::test]
async fn doubled_slashes_in_paths_are_one() {
    let app = TestApp::new();
    let login = json!({"data": {"LOGIN_NAME": "embucket", "PASSWORD": "embucket"}});
    let (_, v) = app
        .post("//session/v1/login-request?databaseName=db1", None, login)
        .await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["data"]["sessionInfo"]["databaseName"], "DB1", "{v}");
    let (session, master) = (
        v["data"]["token"].as_str().unwrap().to_string(),
        v["data"]["masterToken"].as_str().unwrap().to_string(),
    );
    let renew = json!({"oldSessionToken": session, "requestType": "RENEW"});
    let (_, v) = app
        .post("//session/token-request", Some(&master), renew)
        .await;
    assert_eq!(v["success"], true, "{v}");
    let (_, v) = app
        .post(
            "/session///heartbeat",
            Some(v["data"]["sessionToken"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(v["success"], true, "{v}");
    let (status, _) = app.post("//no//such", None, json!({})).await;
    assert_eq!(status, axum::http::StatusCode::NOT_FOUND);
}
