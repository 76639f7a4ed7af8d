//! The Lambda front door: API Gateway events go through `lambda_http`'s own request parsing and the
//! same router. Covers base64 bodies, gzip inside base64, and the source IP.

mod common;

use std::sync::Arc;

use base64::Engine;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use snowgate::entrypoints::lambda;
use snowgate::store::memory::MemoryStore;
use tower::ServiceExt;

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

pub async fn invoke(app: axum::Router, event: &str) -> (u16, Value) {
    let req = lambda_http::request::from_str(event).expect("lambda_http parses the event");
    let resp = lambda::service(app).oneshot(req).await.expect("infallible");
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
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
