//! The Lambda front door: API Gateway events go through `lambda_http`'s own request parsing and the
//! same router. Covers base64 bodies, gzip inside base64, and the source IP.

mod common;

use std::sync::Arc;

use base64::Engine;
use lambda_http::{Context, LambdaEvent};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use snowgate::entrypoints::lambda;
use snowgate::store::memory::MemoryStore;

fn app() -> axum::Router {
    common::TestApp::with_store(Arc::new(MemoryStore::new()), "lambda-secret").router
}

/// An API Gateway HTTP API (payload 2.0) event.
pub fn event(path: &str, query: &str, headers: Value, body: Option<&[u8]>, base64: bool) -> String {
    let body = body.map(|b| {
        if base64 {
            base64::engine::general_purpose::STANDARD.encode(b)
        } else {
            String::from_utf8(b.to_vec()).unwrap()
        }
    });
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
            "domainPrefix": "api", "requestId": "req-1", "routeKey": "$default", "stage": "$default",
            "time": "22/Nov/2026:20:00:00 +0000", "timeEpoch": 1795000000000u64,
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.10", "userAgent": "PythonConnector/5.2.0"}
        },
        "body": body,
        "isBase64Encoded": base64
    })
    .to_string()
}

/// One invocation through the Lambda entry point, as the runtime hands it over: the raw event in,
/// the function's JSON answer out (or the invocation's error).
pub async fn handle(app: axum::Router, event: &str) -> Result<Value, lambda_http::Error> {
    let raw = RawValue::from_string(event.to_string()).expect("the event is JSON");
    lambda::handle(app, LambdaEvent::new(raw, Context::default())).await
}

/// A proxied request's answer: its HTTP status and its JSON body.
pub async fn invoke(app: axum::Router, event: &str) -> (u16, Value) {
    let answer = handle(app, event)
        .await
        .expect("a proxied request is answered");
    let status = answer["statusCode"].as_u64().expect("a statusCode") as u16;
    let body = answer["body"].as_str().unwrap_or_default();
    let bytes = if answer["isBase64Encoded"] == true {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("base64 body")
    } else {
        body.as_bytes().to_vec()
    };
    (status, serde_json::from_slice(&bytes).expect("JSON reply"))
}

#[tokio::test]
async fn gzip_then_base64_login_and_source_ip() {
    let app = app();
    let body = common::gzip(
        common::login_body("embucket", "embucket")
            .to_string()
            .as_bytes(),
    );
    let headers = json!({"content-type": "application/json", "content-encoding": "gzip",
                         "authorization": "Snowflake Token=\"None\""});
    let ev = event(
        "/session/v1/login-request",
        "request_id=1&databaseName=db",
        headers,
        Some(&body),
        true,
    );
    let (status, v) = invoke(app.clone(), &ev).await;
    assert_eq!(status, 200);
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["data"]["sessionInfo"]["databaseName"], "DB");
    let token = v["data"]["token"].as_str().unwrap();

    let q = json!({"sqlText": "select current_ip_address(), current_database()"}).to_string();
    let headers = json!({"content-type": "application/json",
                         "authorization": format!("Snowflake Token=\"{token}\"")});
    let ev = event(
        "/queries/v1/query-request",
        "requestId=2",
        headers,
        Some(q.as_bytes()),
        true,
    );
    let (_, v) = invoke(app, &ev).await;
    assert_eq!(v["data"]["rowset"], json!([["203.0.113.10", "DB"]]));
}

#[tokio::test]
async fn plain_text_body_and_unknown_path() {
    let app = app();
    let body = common::login_body("embucket", "wrong").to_string();
    let ev = event(
        "/session/v1/login-request",
        "",
        json!({"content-type": "application/json"}),
        Some(body.as_bytes()),
        false,
    );
    let (status, v) = invoke(app.clone(), &ev).await;
    assert_eq!(status, 200);
    assert_eq!(v["code"], "390100");
    let ev = event("/nope", "", json!({}), None, false);
    let (status, v) = invoke(app, &ev).await;
    assert_eq!(status, 404);
    assert_eq!(v["success"], false);
}

#[tokio::test]
async fn bad_base64_gzip_is_a_snowflake_error() {
    let app = app();
    let headers = json!({"content-type": "application/json", "content-encoding": "gzip"});
    let ev = event(
        "/session/v1/login-request",
        "",
        headers,
        Some(b"not gzip at all"),
        true,
    );
    let (status, v) = invoke(app, &ev).await;
    assert_eq!(status, 200);
    assert_eq!(v["code"], "390400");
}

fn event_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file in `events/` goes through `lambda_http`'s parsing and the router, first as committed
/// (placeholder tokens), then with real tokens from the login event.
#[tokio::test]
async fn every_event_file_answers() {
    let app = app();
    let mut names: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/events"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    // What each event answers as committed: (HTTP status, code or None for success).
    for name in names.iter().filter(|n| n.starts_with("authorizer-")) {
        let answer = handle(app.clone(), &event_file(name)).await.unwrap();
        assert_eq!(allowed(&answer), None, "{name}: {answer}");
    }
    names.retain(|n| !n.starts_with("authorizer-"));
    let expected = |name: &str| -> (u16, Option<&str>) {
        match name {
            "login-password.json" | "telemetry.json" | "login-password-rest-v1.json" => (200, None),
            "login-wrong-password.json" => (200, Some("390100")),
            "heartbeat.json" | "query-current.json" | "session-delete.json" => {
                (200, Some("390104"))
            }
            "token-request.json" => (200, Some("390115")),
            "unknown-path.json" => (404, Some("390400")),
            other => panic!("events/{other} has no expected answer in this test: add one"),
        }
    };
    for name in &names {
        let (status, v) = invoke(app.clone(), &event_file(name)).await;
        let (want_status, want_code) = expected(name);
        assert_eq!(status, want_status, "{name}: {v}");
        match want_code {
            None => assert_eq!(v["success"], true, "{name}: {v}"),
            Some(code) => assert_eq!(v["code"], code, "{name}: {v}"),
        }
    }

    // With real tokens the token-bearing events succeed; the login event is the connector's own.
    let (_, login) = invoke(app.clone(), &event_file("login-password.json")).await;
    assert_eq!(login["data"]["sessionInfo"]["databaseName"], "ANALYTICS");
    assert_eq!(login["data"]["sessionInfo"]["warehouseName"], "WH");
    let session = login["data"]["token"].as_str().unwrap();
    let master = login["data"]["masterToken"].as_str().unwrap();
    let real = |name: &str| {
        let text = event_file(name)
            .replace("REPLACE_WITH_SESSION_TOKEN", session)
            .replace("REPLACE_WITH_MASTER_TOKEN", master);
        // The body grew, so the recorded content-length no longer holds (a longer body than
        // declared is refused); API Gateway would send the true length.
        let mut event: Value = serde_json::from_str(&text).unwrap();
        if let Some(headers) = event["headers"].as_object_mut() {
            headers.remove("content-length");
        }
        event.to_string()
    };
    let (_, v) = invoke(app.clone(), &real("query-current.json")).await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["data"]["rowset"][0][0], "EMBUCKET");
    for name in AUTHORIZER_EVENTS {
        let answer = handle(app.clone(), &real(name)).await.unwrap();
        let context = allowed(&answer).unwrap_or_else(|| panic!("{name}: {answer}"));
        assert_eq!(context["user"], "EMBUCKET", "{name}: {answer}");
    }
    for name in [
        "heartbeat.json",
        "token-request.json",
        "telemetry.json",
        "session-delete.json",
    ] {
        let (status, v) = invoke(app.clone(), &real(name)).await;
        assert_eq!((status, &v["success"]), (200, &json!(true)), "{name}: {v}");
    }
    // The delete event ended the session.
    let (_, v) = invoke(app, &real("heartbeat.json")).await;
    assert_eq!(v["code"], "390111");
}

/// A REST API (v1) event of stage `prod`: `lambda_http` makes its path `/prod/session/...`, and the
/// login still reaches the login route; the source IP is the event's.
#[tokio::test]
async fn a_rest_api_event_of_a_named_stage_logs_in() {
    let app = app();
    let (status, v) = invoke(app.clone(), &event_file("login-password-rest-v1.json")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["data"]["sessionInfo"]["databaseName"], "ANALYTICS");
    let token = v["data"]["token"].as_str().unwrap();
    // A query through a v1 event of the same stage, with the source IP of the event.
    let mut query: Value =
        serde_json::from_str(&event_file("login-password-rest-v1.json")).unwrap();
    let body = json!({"sqlText": "select current_ip_address()"}).to_string();
    query["path"] = json!("/queries/v1/query-request");
    query["requestContext"]["path"] = json!("/prod/queries/v1/query-request");
    query["body"] = json!(body);
    for headers in ["headers", "multiValueHeaders"] {
        let h = query[headers].as_object_mut().unwrap();
        h.remove("Content-Length");
        let auth = format!("Snowflake Token=\"{token}\"");
        h["Authorization"] = match headers {
            "headers" => json!(auth),
            _ => json!([auth]),
        };
    }
    let (_, v) = invoke(app.clone(), &query.to_string()).await;
    assert_eq!(v["data"]["rowset"], json!([["203.0.113.10"]]), "{v}");
    // A path of no route still answers 404 with the stage gone.
    query["path"] = json!("/nope");
    query["requestContext"]["path"] = json!("/prod/nope");
    let (status, v) = invoke(app, &query.to_string()).await;
    assert_eq!((status, &v["code"]), (404, &json!("390400")), "{v}");
}

/// An HTTP API (v2) event of a named stage carries the stage in `rawPath`; it is dropped too. A
/// `$default` stage is never in the path (the other tests).
#[tokio::test]
async fn an_http_api_event_of_a_named_stage_logs_in() {
    let body = common::login_body("embucket", "embucket").to_string();
    let ev = event(
        "/prod/session/v1/login-request",
        "",
        json!({"content-type": "application/json"}),
        Some(body.as_bytes()),
        false,
    );
    let mut ev: Value = serde_json::from_str(&ev).unwrap();
    ev["requestContext"]["stage"] = json!("prod");
    let (status, v) = invoke(app(), &ev.to_string()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["success"], true, "{v}");
}

const AUTHORIZER_EVENTS: [&str; 3] = [
    "authorizer-http-api.json",
    "authorizer-rest-request.json",
    "authorizer-rest-token.json",
];

/// The context an authorizer's answer lets the request through with, or None for a refusal: an
/// HTTP API's simple response or a REST API's policy document.
fn allowed(answer: &Value) -> Option<&Value> {
    let allow = match answer.get("isAuthorized") {
        Some(simple) => simple == true,
        None => answer["policyDocument"]["Statement"][0]["Effect"] == "Allow",
    };
    allow.then(|| &answer["context"])
}

/// The three authorizer events with a real session token: the HTTP API's simple response and the
/// REST API's policy documents carry the same identity; the refusals carry none.
#[tokio::test]
async fn authorizer_events_answer_in_their_api_s_shape() {
    let app = common::TestApp::new();
    let session = app.login().await.session;
    let router = || app.router.clone();
    let real = |name: &str| event_file(name).replace("REPLACE_WITH_SESSION_TOKEN", &session);

    let simple = handle(router(), &real("authorizer-http-api.json"))
        .await
        .unwrap();
    assert_eq!(simple["isAuthorized"], true, "{simple}");
    assert_eq!(simple["context"]["user"], "EMBUCKET");
    assert_eq!(simple["context"]["role"], "ACCOUNTADMIN", "{simple}");
    let keys: Vec<_> = simple["context"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, ["account", "email", "role", "user"]);

    for name in ["authorizer-rest-request.json", "authorizer-rest-token.json"] {
        let answer = handle(router(), &real(name)).await.unwrap();
        assert_eq!(answer["principalId"], "EMBUCKET", "{name}: {answer}");
        assert_eq!(answer["policyDocument"]["Version"], "2012-10-17");
        let statement = &answer["policyDocument"]["Statement"][0];
        assert_eq!(statement["Effect"], "Allow");
        assert_eq!(statement["Action"], json!(["execute-api:Invoke"]));
        let arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/app/hello";
        assert_eq!(statement["Resource"], json!([arn]));
        assert_eq!(answer["context"]["user"], "EMBUCKET");
    }

    // Refused: a policy that denies the same ARN, no identity; a simple response that says no.
    let denied = handle(router(), &event_file("authorizer-rest-token.json"))
        .await
        .unwrap();
    assert_eq!(denied["policyDocument"]["Statement"][0]["Effect"], "Deny");
    assert_eq!(denied["principalId"], "anonymous");
    assert_eq!(denied["context"], json!({}));
    let denied = handle(router(), &event_file("authorizer-http-api.json"))
        .await
        .unwrap();
    assert_eq!(denied, json!({"isAuthorized": false, "context": {}}));
}

/// The client address is the event's source IP: an `X-Forwarded-For` the client sent does not get
/// it past a network policy, and the same session from an admitted address passes.
#[tokio::test]
async fn an_authorizer_checks_the_network_policy_against_the_event_s_source_ip() {
    let app = common::TestApp::new();
    let admin = app.admin().await;
    admin
        .ok("CREATE NETWORK POLICY office ALLOWED_IP_LIST=('10.0.0.0/8')")
        .await;
    admin
        .ok("CREATE USER bob PASSWORD='Str0ng-Passw0rd!x'")
        .await;
    let bob = app.login_as("bob", "Str0ng-Passw0rd!x").await.session;
    admin.ok("ALTER USER bob SET NETWORK_POLICY = office").await;

    let mut ev: Value = serde_json::from_str(
        &event_file("authorizer-http-api.json").replace("REPLACE_WITH_SESSION_TOKEN", &bob),
    )
    .unwrap();
    ev["headers"]["x-forwarded-for"] = json!("10.1.2.3");
    ev["headers"]["forwarded"] = json!("for=10.1.2.3");
    let answer = handle(app.router.clone(), &ev.to_string()).await.unwrap();
    assert_eq!(answer["isAuthorized"], false, "{answer}");
    ev["requestContext"]["http"]["sourceIp"] = json!("10.1.2.3");
    let answer = handle(app.router.clone(), &ev.to_string()).await.unwrap();
    assert_eq!(answer["isAuthorized"], true, "{answer}");
    assert_eq!(answer["context"]["user"], "BOB");
}

/// Hostile authorizer events: no credential, junk, a credential too long, a token that cannot be a
/// header, a second Authorization, a header the API's own host is spoofed in, a malformed event.
/// Each is refused or fails the invocation; none is allowed, none panics.
#[tokio::test]
async fn hostile_authorizer_events_are_refused() {
    let app = common::TestApp::new();
    let session = app.login().await.session;
    let router = || app.router.clone();
    let v2: Value = serde_json::from_str(&event_file("authorizer-http-api.json")).unwrap();
    let with_headers = |headers: Value| {
        let mut ev = v2.clone();
        ev["headers"] = headers;
        ev.to_string()
    };
    let long = format!("Bearer {}", "a".repeat(200_000));
    let refused = [
        with_headers(json!({})),
        with_headers(json!({"authorization": "Bearer"})),
        with_headers(json!({"authorization": "Basic ZW1idWNrZXQ6ZW1idWNrZXQ="})),
        with_headers(json!({"authorization": long})),
        with_headers(json!({"authorization": "Snowflake Token=\"\u{0}\""})),
        with_headers(json!({"authorization": format!("Snowflake Token=\"{session}x\"")})),
        with_headers(json!({"authorization": "Bearer a.b.c",
                            "x-snowflake-authorization-token-type": "KEYPAIR_JWT"})),
    ];
    for ev in &refused {
        let answer = handle(router(), ev).await.unwrap();
        assert_eq!(answer["isAuthorized"], false, "{answer}");
    }
    // A TOKEN event whose token cannot be a header value goes without a credential.
    let token: Value = json!({"type": "TOKEN", "authorizationToken": "Snowflake Token=\"a\nb\"",
                              "methodArn": "arn:aws:execute-api:us-east-1:1:a/prod/GET/"});
    let answer = handle(router(), &token.to_string()).await.unwrap();
    assert_eq!(answer["policyDocument"]["Statement"][0]["Effect"], "Deny");
    // A REST event with two Authorization values (multiValueHeaders): both reach the router, which
    // refuses an ambiguous credential.
    let mut rest: Value = serde_json::from_str(
        &event_file("authorizer-rest-request.json").replace("REPLACE_WITH_SESSION_TOKEN", &session),
    )
    .unwrap();
    rest["multiValueHeaders"]["Authorization"] =
        json!([format!("Snowflake Token=\"{session}\""), "Bearer junk"]);
    let answer = handle(router(), &rest.to_string()).await.unwrap();
    assert_eq!(allowed(&answer), None, "{answer}");
    // Events of an authorizer's shape that do not parse are refusals.
    for bad in [
        json!({"type": "REQUEST", "routeArn": "x", "headers": 7}),
        json!({"type": "REQUEST", "methodArn": "x", "requestContext": "no"}),
        json!({"type": "TOKEN", "methodArn": ["x"]}),
    ] {
        let answer = handle(router(), &bad.to_string()).await.unwrap();
        assert_eq!(allowed(&answer), None, "{bad}: {answer}");
    }
    // Not an authorizer's shape and not a request: an error, as lambda_http gives one.
    assert!(handle(router(), "{\"type\": \"TOKEN\"}").await.is_err());
}
