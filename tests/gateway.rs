//! The engine gateway against a stub engine (axum, on a loopback port): what is forwarded and how,
//! what stays local, the engine's hostile or failing answers (oversized, not JSON, slow, gone,
//! restarted, refusing snowgate's login), the sealed engine token, and the `embucket-jwt` token
//! checked against Embucket's rules.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::{TestApp, assert_failure};
use secrecy::SecretString;
use serde_json::{Value, json};
use snowgate::domain::ports::engine::EngineSession;
use snowgate::domain::session::SessionContext;
use snowgate::outbound::engine::{EngineMode, EngineSettings, HttpEngine, mint_embucket_token};

/// What the stub answers to statements.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Normal,
    /// The next statement meets a restarted engine: its token is unknown (HTTP 401, 390104).
    ForgetSessions,
    Oversized,
    NotJson,
    Slow,
    RefuseLogins,
}

struct Stub {
    behaviour: Mutex<Behaviour>,
    /// One line per request: what it was and the token it carried.
    log: Mutex<Vec<String>>,
    tokens: Mutex<Vec<String>>,
    logins: Mutex<Vec<Value>>,
}

impl Stub {
    fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
    fn count(&self, prefix: &str) -> usize {
        self.lines()
            .iter()
            .filter(|l| l.starts_with(prefix))
            .count()
    }
}

fn token_of(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Snowflake Token=\""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or("")
        .to_string()
}

async fn login(State(stub): State<Arc<Stub>>, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    stub.log
        .lock()
        .unwrap()
        .push(format!("login {}", query.unwrap_or_default()));
    stub.logins.lock().unwrap().push(body);
    if *stub.behaviour.lock().unwrap() == Behaviour::RefuseLogins {
        return axum::Json(json!({"success": false, "code": "390100", "message": "no"}))
            .into_response();
    }
    let token = format!("engine-secret-{}", uuid::Uuid::new_v4());
    stub.tokens.lock().unwrap().push(token.clone());
    axum::Json(json!({"success": true, "data": {"token": token}})).into_response()
}

async fn query(State(stub): State<Arc<Stub>>, headers: HeaderMap, body: Bytes) -> Response {
    let token = token_of(&headers);
    let sql = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null)["sqlText"]
        .as_str()
        .unwrap_or("")
        .to_string();
    stub.log.lock().unwrap().push(format!("query {sql}"));
    let behaviour = *stub.behaviour.lock().unwrap();
    let known = stub.tokens.lock().unwrap().contains(&token);
    if behaviour == Behaviour::ForgetSessions {
        stub.tokens.lock().unwrap().clear();
        *stub.behaviour.lock().unwrap() = Behaviour::Normal;
    }
    if !known || behaviour == Behaviour::ForgetSessions {
        let refusal = json!({"success": false, "code": "390104", "message": "login again"});
        return (StatusCode::UNAUTHORIZED, axum::Json(refusal)).into_response();
    }
    match behaviour {
        Behaviour::Oversized => return "x".repeat(10_000).into_response(),
        Behaviour::NotJson => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "<html>boom</html>").into_response();
        }
        Behaviour::Slow => tokio::time::sleep(Duration::from_secs(5)).await,
        _ => {}
    }
    let database = sql.strip_prefix("USE DATABASE ").map(str::to_uppercase);
    axum::Json(json!({"success": true, "data": {
        "queryId": "01b2c3d4-0000-1111-2222-333344445555",
        "rowtype": [], "rowset": [["1"]], "total": 1,
        "finalDatabaseName": database,
        "finalSchemaName": database.as_ref().map(|_| "MAIN"),
    }}))
    .into_response()
}

async fn session(State(stub): State<Arc<Stub>>, headers: HeaderMap) -> Response {
    let token = token_of(&headers);
    stub.log.lock().unwrap().push(format!("logout {token}"));
    axum::Json(json!({"success": true})).into_response()
}

/// A stub engine on a loopback port, and its base URL.
async fn stub() -> (Arc<Stub>, String) {
    let stub = Arc::new(Stub {
        behaviour: Mutex::new(Behaviour::Normal),
        log: Mutex::default(),
        tokens: Mutex::default(),
        logins: Mutex::default(),
    });
    let router = Router::new()
        .route("/session/v1/login-request", post(login))
        .route("/queries/v1/query-request", post(query))
        .route("/session", post(session))
        .with_state(Arc::clone(&stub));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (stub, url)
}

fn settings(url: &str, max_answer_bytes: usize) -> EngineSettings {
    EngineSettings {
        url: url.parse().unwrap(),
        mode: EngineMode::Login {
            login_name: Some("SERVICE".into()),
            password: SecretString::from("service-password".to_string()),
        },
        max_answer_bytes,
        timeout: Duration::from_secs(1),
        extra_ca: None,
    }
}

/// The test app with an engine at `url`.
fn gateway(url: &str) -> TestApp {
    let app = TestApp::new();
    let engine = HttpEngine::new(settings(url, 4096)).unwrap();
    app.gate.set_engine(Arc::new(engine));
    app
}

#[tokio::test]
async fn statements_go_to_the_engine_with_its_session_and_come_back_as_sent() {
    let (stub, url) = stub().await;
    let app = gateway(&url);
    let tokens = app.login().await;
    assert!(
        stub.lines().is_empty(),
        "no engine session before the first statement"
    );

    let (status, v) = app.query(&tokens.session, "CREATE TABLE t(a int)").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        v["data"]["queryId"], "01b2c3d4-0000-1111-2222-333344445555",
        "{v}"
    );
    assert_eq!(stub.count("login"), 1);
    assert_eq!(stub.count("query CREATE TABLE"), 1);
    // The engine login carries what fakesnow and Embucket require, and the session's context.
    let body = stub.logins.lock().unwrap()[0].clone();
    for field in [
        "CLIENT_APP_ID",
        "CLIENT_APP_VERSION",
        "CLIENT_ENVIRONMENT",
        "SESSION_PARAMETERS",
    ] {
        assert!(body["data"].get(field).is_some(), "{field} missing: {body}");
    }
    assert_eq!(body["data"]["LOGIN_NAME"], "SERVICE");
    assert_eq!(body["data"]["PASSWORD"], "service-password");
    // A second statement reuses the engine session.
    app.query(&tokens.session, "INSERT INTO t VALUES (1)").await;
    assert_eq!(stub.count("login"), 1);

    // The engine's token is stored sealed only, and no client byte carries it.
    let engine_token = stub.tokens.lock().unwrap()[0].clone();
    let stored = app
        .store
        .get(tokens.session_id, common::START)
        .await
        .unwrap()
        .unwrap();
    let sealed = stored
        .upstream
        .expect("the session keeps its engine session");
    assert!(!sealed.sealed.contains(&engine_token));
    assert!(
        !format!("{sealed:?}").contains(&sealed.sealed),
        "Debug hides the sealed text"
    );
    assert!(!v.to_string().contains(&engine_token));

    // Administration, the session's own statements and SELECTs without FROM stay here.
    for sql in [
        "CREATE USER u2 PASSWORD = 'Secret-pass-123'",
        "SHOW PARAMETERS",
        "SELECT CURRENT_USER()",
        "USE ROLE PUBLIC",
    ] {
        let (_, v) = app.query(&tokens.session, sql).await;
        assert_eq!(v["success"], true, "{sql}: {v}");
    }
    assert_eq!(stub.count("query"), 2, "{:?}", stub.lines());

    // Logout ends the engine session too, with its token.
    app.post("/session?delete=true", Some(&tokens.session), json!({}))
        .await;
    assert_eq!(stub.count(&format!("logout {engine_token}")), 1);
}

#[tokio::test]
async fn the_context_the_engine_reports_becomes_the_sessions() {
    let (_stub, url) = stub().await;
    let app = gateway(&url);
    let tokens = app.login().await;
    let (_, v) = app.query(&tokens.session, "USE DATABASE d2").await;
    assert_eq!(v["success"], true, "{v}");
    let (_, v) = app
        .query(
            &tokens.session,
            "SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()",
        )
        .await;
    assert_eq!(v["data"]["rowset"], json!([["D2", "MAIN"]]), "{v}");
}

#[tokio::test]
async fn an_engine_restart_is_survived_once_with_a_new_engine_session() {
    let (stub, url) = stub().await;
    let app = gateway(&url);
    let tokens = app.login().await;
    app.query(&tokens.session, "SELECT 1 FROM t").await;
    let before = app
        .store
        .get(tokens.session_id, common::START)
        .await
        .unwrap()
        .unwrap();
    *stub.behaviour.lock().unwrap() = Behaviour::ForgetSessions;
    let (status, v) = app.query(&tokens.session, "SELECT 2 FROM t").await;
    assert_eq!(
        (status, &v["success"]),
        (StatusCode::OK, &json!(true)),
        "{v}"
    );
    assert_eq!(stub.count("login"), 2, "{:?}", stub.lines());
    assert_eq!(
        stub.count("query SELECT 2"),
        2,
        "sent, refused unrun, sent again once"
    );
    let after = app
        .store
        .get(tokens.session_id, common::START)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        before.upstream, after.upstream,
        "the new engine session is stored"
    );
}

#[tokio::test]
async fn an_answer_over_the_limit_is_an_error_naming_it() {
    let (stub, url) = stub().await;
    let app = gateway(&url);
    let tokens = app.login().await;
    *stub.behaviour.lock().unwrap() = Behaviour::Oversized;
    let (status, v) = app.query(&tokens.session, "SELECT * FROM big").await;
    assert_eq!(status, StatusCode::OK);
    let message = assert_failure(&v, "000641");
    assert!(message.contains("4096"), "{message}");
}

#[tokio::test]
async fn an_answer_that_is_not_json_passes_with_its_status() {
    let (stub, url) = stub().await;
    let app = gateway(&url);
    let tokens = app.login().await;
    *stub.behaviour.lock().unwrap() = Behaviour::NotJson;
    let req = common::request(
        "/queries/v1/query-request",
        Some(&tokens.session),
        axum::body::Body::from(json!({"sqlText": "SELECT x FROM t"}).to_string()),
        false,
    );
    let resp = tower::ServiceExt::oneshot(app.router.clone(), req)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_statement_without_an_answer_is_not_sent_again() {
    let (stub, url) = stub().await;
    let app = gateway(&url);
    let tokens = app.login().await;
    *stub.behaviour.lock().unwrap() = Behaviour::Slow;
    let (status, v) = app.query(&tokens.session, "INSERT INTO t VALUES (1)").await;
    assert_eq!(status, StatusCode::OK, "not a status drivers retry");
    let message = assert_failure(&v, "000630");
    assert!(message.contains("may have run"), "{message}");
    assert_eq!(stub.count("query INSERT"), 1);
}

#[tokio::test]
async fn an_engine_that_is_not_there_is_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let app = gateway(&url);
    let tokens = app.login().await;
    let (status, v) = app.query(&tokens.session, "SELECT a FROM t").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_failure(&v, "390503");
}

#[tokio::test]
async fn an_engine_refusing_snowgates_login_is_a_refusal_not_a_fault() {
    let (stub, url) = stub().await;
    *stub.behaviour.lock().unwrap() = Behaviour::RefuseLogins;
    let app = gateway(&url);
    let tokens = app.login().await;
    let (status, v) = app.query(&tokens.session, "SELECT a FROM t").await;
    assert_eq!(status, StatusCode::OK);
    let message = assert_failure(&v, "390100");
    assert!(message.contains("service login"), "{message}");
    assert!(!message.contains("service-password"));
}

#[tokio::test]
async fn a_refused_login_and_a_disabled_user_never_reach_the_engine() {
    let (stub, url) = stub().await;
    let app = gateway(&url);
    let (_, v) = app
        .post(
            "/session/v1/login-request",
            None,
            common::login_body("embucket", "wrong"),
        )
        .await;
    assert_failure(&v, "390100");
    let admin = app.login().await;
    app.query(
        &admin.session,
        "CREATE USER u3 PASSWORD = 'Secret-pass-123'",
    )
    .await;
    let u3 = app.login_as("u3", "Secret-pass-123").await;
    app.query(&admin.session, "ALTER USER u3 SET DISABLED = TRUE")
        .await;
    let (_, v) = app.query(&u3.session, "SELECT a FROM t").await;
    assert_failure(&v, "390101");
    assert!(stub.lines().is_empty(), "{:?}", stub.lines());
}

#[tokio::test]
async fn without_an_engine_other_statements_are_refused_as_before() {
    let app = TestApp::new();
    let tokens = app.login().await;
    let (_, v) = app.query(&tokens.session, "CREATE TABLE t(a int)").await;
    assert_failure(&v, "000002");
    let (status, _) = app
        .send(
            axum::http::Request::get("/nowhere")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Embucket's check (`get_claims_validate_jwt_token`): HS256 with its secret, `aud` the Host
/// header, `exp` and `aud` required, 5 s leeway; `session` a pair of an id and attributes.
#[test]
fn minted_embucket_tokens_pass_embucket_rules() {
    #[derive(serde::Deserialize)]
    struct Claims {
        sub: String,
        session: (String, std::collections::HashMap<String, String>),
    }
    let secret = SecretString::from("embucket-jwt-secret".to_string());
    let context = SessionContext {
        database: Some("DB1".into()),
        schema: Some("S1".into()),
        ..SessionContext::default()
    };
    let session = EngineSession {
        session_id: 4_242_424_242,
        user: "ALICE",
        account: "ACME",
        context: &context,
        client_app: Some("PythonConnector"),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = mint_embucket_token(&secret, "127.0.0.1:3000", &session, now).unwrap();
    let token = secrecy::ExposeSecret::expose_secret(&token).to_string();
    let mut rules = jsonwebtoken::Validation {
        leeway: 5,
        ..jsonwebtoken::Validation::default()
    };
    rules.set_audience(&["127.0.0.1:3000"]);
    rules.set_required_spec_claims(&["exp", "aud"]);
    let key = jsonwebtoken::DecodingKey::from_secret(b"embucket-jwt-secret");
    let claims = jsonwebtoken::decode::<Claims>(&token, &key, &rules)
        .expect("Embucket accepts it")
        .claims;
    assert_eq!(claims.sub, "ALICE");
    assert_eq!(claims.session.0, "4242424242");
    assert_eq!(claims.session.1["Database"], "DB1");
    assert_eq!(claims.session.1["Schema"], "S1");
    assert_eq!(claims.session.1["UserName"], "ALICE");
    // Another host, another secret, or an expired token: refused.
    rules.set_audience(&["other:3000"]);
    assert!(jsonwebtoken::decode::<Claims>(&token, &key, &rules).is_err());
    rules.set_audience(&["127.0.0.1:3000"]);
    let wrong = jsonwebtoken::DecodingKey::from_secret(b"another");
    assert!(jsonwebtoken::decode::<Claims>(&token, &wrong, &rules).is_err());
    let old = mint_embucket_token(&secret, "127.0.0.1:3000", &session, now - 400).unwrap();
    let old = secrecy::ExposeSecret::expose_secret(&old).to_string();
    assert!(jsonwebtoken::decode::<Claims>(&old, &key, &rules).is_err());
}

/// With Secrets Manager as the secret source, the engine login's password is the secret's
/// `upstream_password` (it replaces `SNOWGATE_UPSTREAM_PASSWORD`), through the real SDK on moto.
#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn the_engine_login_takes_its_password_from_the_secret() {
    use snowgate::secrets::manager::SecretsManagerSource;
    let client = aws_sdk_secretsmanager::Client::new(&common::aws::sdk_config().await);
    let secret = json!({
        "jwt_secret": "a-jwt-secret-padded-to-the-32-byte-minimum",
        "demo_user": "svc_demo",
        "demo_password": "demo-pass",
        "upstream_password": "engine-pass-from-the-secret",
    });
    let id = common::aws::create_secret(&client, &secret.to_string()).await;
    let source = SecretsManagerSource::load(client, &id, Duration::from_secs(300))
        .await
        .unwrap();
    let store: Arc<dyn snowgate::store::Store> =
        Arc::new(snowgate::store::memory::MemoryStore::new());
    let gate = snowgate::domain::Gatekeeper::new(
        Arc::clone(&store),
        Arc::new(Arc::clone(&source)),
        snowgate::domain::Settings::default(),
        snowgate::domain::settings::system_clock(),
    );
    let app = TestApp::over_gate(store, gate);
    let (stub, url) = stub().await;
    let engine = HttpEngine::new(settings(&url, 4096))
        .unwrap()
        .with_secrets(Arc::new(source));
    app.gate.set_engine(Arc::new(engine));
    let (_, v) = app
        .post(
            "/session/v1/login-request",
            None,
            common::login_body("SVC_DEMO", "demo-pass"),
        )
        .await;
    let session = v["data"]["token"].as_str().expect("logged in").to_string();
    let (_, v) = app.query(&session, "CREATE TABLE t(a int)").await;
    assert_eq!(v["success"], true, "{v}");
    let body = stub.logins.lock().unwrap()[0].clone();
    assert_eq!(body["data"]["PASSWORD"], "engine-pass-from-the-secret");
}

#[tokio::test]
async fn sql_api_statements_run_on_the_engine_in_a_session_of_their_own() {
    let (stub, url) = stub().await;
    let app = gateway(&url);
    let tokens = app.login().await;
    let sql_api = |statement: &str| {
        let body = json!({"statement": statement, "database": "d1"}).to_string();
        axum::http::Request::post("/api/v2/statements")
            .header("authorization", format!("Bearer {}", tokens.session))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let (status, v) = app.send(sql_api("SELECT a FROM t")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["code"], "090001");
    assert_eq!(v["statementHandle"], "01b2c3d4-0000-1111-2222-333344445555");
    assert_eq!(v["resultSetMetaData"]["format"], "jsonv2");
    assert_eq!(v["data"], json!([["1"]]));
    // Opened for the statement, in the request's context, and closed after it.
    assert_eq!(stub.count("login"), 1);
    assert!(
        stub.lines()[0].contains("databaseName=D1"),
        "{:?}",
        stub.lines()
    );
    assert_eq!(stub.count("query SELECT a FROM t"), 1);
    assert_eq!(stub.count("logout"), 1);
    // What stays local does not reach the engine.
    let (status, v) = app.send(sql_api("SELECT CURRENT_DATABASE()")).await;
    assert_eq!((status, &v["data"]), (StatusCode::OK, &json!([["D1"]])));
    assert_eq!(stub.count("query"), 1);
    // An engine that is not the wire, or answers too much: refused in the SQL API's shape.
    *stub.behaviour.lock().unwrap() = Behaviour::NotJson;
    let (status, v) = app.send(sql_api("SELECT b FROM t")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    *stub.behaviour.lock().unwrap() = Behaviour::Oversized;
    let (status, v) = app.send(sql_api("SELECT c FROM t")).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("000641"))
    );
    let engine_token = stub.tokens.lock().unwrap()[0].clone();
    assert!(!v.to_string().contains(&engine_token));
}
