//! The AWS round-trip budget of each operation, counted by an SDK interceptor on the DynamoDB and
//! Secrets Manager clients (every HTTP request they send, retries included) against moto_server:
//! login 3 (stored users: one batch read, then the session and its history record written at the
//! same time: two round trips of latency; the budget of 2 calls is missed by one, see
//! BENCHMARKS.md), query context 1, `USE` ≤ 2,
//! heartbeat 1, renew ≤ 2, delete 1, and no Secrets Manager call on a warm request. Counts are
//! deterministic, so this is a test, not a benchmark.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use axum::http::StatusCode;
use common::keys::TestKey;
use common::{TestApp, Tokens, aws};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use snowgate::domain::{Gatekeeper, Settings};
use snowgate::secrets::manager::SecretsManagerSource;
use snowgate::store::Store;
use snowgate::store::dynamo::DynamoStore;

/// Counts the requests a client sends, by their `X-Amz-Target` (e.g. `DynamoDB_20120810.GetItem`).
#[derive(Debug, Default, Clone)]
struct Calls(Arc<Mutex<BTreeMap<String, u64>>>);

impl Calls {
    fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Intercept for Calls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or("unknown")
            .to_string();
        *self.0.lock().unwrap().entry(target).or_default() += 1;
        Ok(())
    }
}

struct Counted {
    app: TestApp,
    calls: Calls,
}

impl Counted {
    /// An app over DynamoDB and Secrets Manager on moto, both clients counted, with the wall clock.
    async fn new() -> Self {
        let calls = Calls::default();
        let sdk = aws::sdk_config().await;
        let dynamo_config = aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(calls.clone())
            .build();
        let dynamo = aws_sdk_dynamodb::Client::from_conf(dynamo_config);
        let table = aws::create_table(&dynamo).await;
        let secrets_config = aws_sdk_secretsmanager::config::Builder::from(&sdk)
            .interceptor(calls.clone())
            .build();
        let secrets = aws_sdk_secretsmanager::Client::from_conf(secrets_config);
        let id = aws::unique("snowgate-secret");
        let value = json!({
            "jwt_secret": "a-round-trip-test-secret-of-32-bytes-or-more",
            "demo_user": "svc_demo", "demo_password": "demo-password"
        });
        secrets
            .create_secret()
            .name(&id)
            .secret_string(value.to_string())
            .send()
            .await
            .unwrap();
        let source = SecretsManagerSource::load(secrets, &id, Duration::from_secs(300))
            .await
            .unwrap();
        let store: Arc<dyn Store> = Arc::new(DynamoStore::new(dynamo, table));
        let gate = Gatekeeper::new(
            Arc::clone(&store),
            Arc::new(source),
            Settings::default(),
            snowgate::domain::gatekeeper::system_clock(),
        );
        let app = TestApp::over_gate(store, gate);
        Self { app, calls }
    }

    /// The AWS calls `op` made, by operation name (`GetItem`, `GetSecretValue`, …).
    async fn count<T>(
        &self,
        op: impl std::future::Future<Output = T>,
    ) -> (T, BTreeMap<String, u64>) {
        self.calls.take();
        let out = op.await;
        let calls = self
            .calls
            .take()
            .into_iter()
            .map(|(target, n)| (target.rsplit('.').next().unwrap_or("").to_string(), n))
            .collect();
        (out, calls)
    }
}

fn total(calls: &BTreeMap<String, u64>) -> u64 {
    calls.values().sum()
}

fn jwt_body(user: &str, key: &TestKey) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "iss": format!("ACME.{user}.{}", key.fp), "sub": format!("ACME.{user}"),
        "iat": now, "exp": now + 60,
    });
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_der(&key.pkcs1_der),
    )
    .unwrap();
    json!({"data": {
        "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "3.12.0",
        "ACCOUNT_NAME": "acme", "LOGIN_NAME": user, "AUTHENTICATOR": "SNOWFLAKE_JWT",
        "TOKEN": token,
    }})
}

fn tokens(v: &Value) -> Tokens {
    assert_eq!(v["success"], true, "{v}");
    Tokens {
        session: v["data"]["token"].as_str().unwrap().to_string(),
        master: v["data"]["masterToken"].as_str().unwrap().to_string(),
        session_id: v["data"]["sessionId"].as_u64().unwrap(),
    }
}

const LOGIN: &str = "/session/v1/login-request";

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn each_operation_keeps_its_aws_round_trip_budget() {
    let c = Counted::new().await;
    let app = &c.app;
    let key = TestKey::generate();
    let admin = app.login_as("svc_demo", "demo-password").await;
    for sql in [
        "CREATE USER alice PASSWORD = 'alice-password-1' DEFAULT_ROLE = PUBLIC".to_string(),
        format!("CREATE USER loader RSA_PUBLIC_KEY = '{}'", key.public_b64),
    ] {
        let (status, v) = app.query(&admin.session, &sql).await;
        assert_eq!(
            (status, &v["success"]),
            (StatusCode::OK, &json!(true)),
            "{v}"
        );
    }

    let ((_, v), calls) = c
        .count(app.post(LOGIN, None, common::login_body("alice", "alice-password-1")))
        .await;
    let alice = tokens(&v);
    assert_eq!(
        calls,
        BTreeMap::from([
            ("BatchGetItem".into(), 1),
            ("BatchWriteItem".into(), 1),
            ("PutItem".into(), 1)
        ]),
        "password login of a stored user"
    );

    let ((_, v), calls) = c
        .count(app.post(LOGIN, None, jwt_body("LOADER", &key)))
        .await;
    tokens(&v);
    assert_eq!(total(&calls), 3, "key-pair login: {calls:?}");

    let (_, v) = app
        .query(
            &admin.session,
            "ALTER USER alice ADD PAT budget MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT = 10",
        )
        .await;
    let i = common::sql::column(&v, "token_secret");
    let pat = common::sql::rows(&v)[0][i].as_str().unwrap().to_string();
    let body = json!({"data": {
        "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "5.2.0",
        "ACCOUNT_NAME": "acme", "LOGIN_NAME": "alice",
        "AUTHENTICATOR": "PROGRAMMATIC_ACCESS_TOKEN", "TOKEN": pat,
    }});
    let ((_, v), calls) = c.count(app.post(LOGIN, None, body)).await;
    tokens(&v);
    assert_eq!(total(&calls), 3, "PAT login: {calls:?}");

    // A refused login is the batch read, one counter write (a name's first failure included) and
    // its history record, which names the user from the batch instead of reading it again.
    for (user, what) in [("alice", "a stored user"), ("mallory", "an unknown name")] {
        let ((_, v), calls) = c
            .count(app.post(LOGIN, None, common::login_body(user, "wrong-password")))
            .await;
        assert_eq!(v["success"], false, "{v}");
        assert_eq!(
            calls,
            BTreeMap::from([
                ("BatchGetItem".into(), 1),
                ("BatchWriteItem".into(), 1),
                ("UpdateItem".into(), 1)
            ]),
            "refused password login of {what}"
        );
    }

    // A user under a policy of every kind: the policies come in one more batch, not a read each.
    for sql in [
        "CREATE USER bob PASSWORD = 'bob-password-1' DEFAULT_ROLE = PUBLIC",
        "CREATE NETWORK POLICY np ALLOWED_IP_LIST = ('192.0.2.0/24')",
        "CREATE PASSWORD POLICY pp PASSWORD_MIN_LENGTH = 8",
        "CREATE SESSION POLICY sp SESSION_IDLE_TIMEOUT_MINS = 30",
        "CREATE AUTHENTICATION POLICY ap AUTHENTICATION_METHODS = ('PASSWORD')",
        "ALTER USER bob SET NETWORK_POLICY = np",
        "ALTER USER bob SET PASSWORD POLICY pp",
        "ALTER USER bob SET SESSION POLICY sp",
        "ALTER USER bob SET AUTHENTICATION POLICY ap",
    ] {
        let (_, v) = app.query(&admin.session, sql).await;
        assert_eq!(v["success"], true, "{sql}: {v}");
    }
    let bob = common::login_body("bob", "bob-password-1");
    let ((_, v), calls) = c
        .count(app.post_from(Some("192.0.2.7"), LOGIN, None, bob))
        .await;
    tokens(&v);
    assert_eq!(
        calls,
        BTreeMap::from([
            ("BatchGetItem".into(), 2),
            ("BatchWriteItem".into(), 1),
            ("PutItem".into(), 1)
        ]),
        "password login of a user under four policies"
    );

    let ((_, v), calls) = c
        .count(app.query(&alice.session, "SELECT CURRENT_DATABASE()"))
        .await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(
        calls,
        BTreeMap::from([("BatchGetItem".into(), 1)]),
        "query context"
    );

    let ((_, v), calls) = c
        .count(app.query(&alice.session, "USE SCHEMA db1.s1"))
        .await;
    assert_eq!(v["success"], true, "{v}");
    assert!(total(&calls) <= 2, "USE: {calls:?}");

    let ((_, v), calls) = c
        .count(app.post("/session/heartbeat", Some(&alice.session), json!({})))
        .await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(total(&calls), 1, "heartbeat: {calls:?}");

    let renew = json!({"oldSessionToken": alice.session, "requestType": "RENEW"});
    let ((_, v), calls) = c
        .count(app.post("/session/token-request", Some(&alice.master), renew))
        .await;
    assert_eq!(v["success"], true, "{v}");
    assert!(total(&calls) <= 2, "renew: {calls:?}");

    let renewed = v["data"]["sessionToken"].as_str().unwrap().to_string();
    let ((_, v), calls) = c
        .count(app.post("/session?delete=true", Some(&renewed), json!({})))
        .await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(calls, BTreeMap::from([("DeleteItem".into(), 1)]), "delete");
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn warm_requests_never_call_secrets_manager() {
    let c = Counted::new().await;
    let ((), calls) = c
        .count(async {
            let t = c.app.login_as("svc_demo", "demo-password").await;
            c.app.query(&t.session, "SELECT CURRENT_USER()").await;
            c.app
                .post("/session/heartbeat", Some(&t.session), json!({}))
                .await;
        })
        .await;
    assert!(
        total(&calls) > 0,
        "the requests reached DynamoDB: {calls:?}"
    );
    assert_eq!(calls.get("GetSecretValue"), None, "{calls:?}");
}

/// A minimal engine on a loopback port: it opens a session for any login and answers every
/// statement with one row. It counts its logins, which are the gateway's upstream calls.
async fn counting_engine() -> (String, Arc<std::sync::atomic::AtomicU64>) {
    use axum::routing::post;
    use std::sync::atomic::{AtomicU64, Ordering};
    let logins = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&logins);
    let app = axum::Router::new()
        .route(
            "/session/v1/login-request",
            post(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { axum::Json(json!({"success": true, "data": {"token": "engine-token"}})) }
            }),
        )
        .route(
            "/queries/v1/query-request",
            post(|| async {
                axum::Json(json!({"success": true, "data": {
                    "rowtype": [{"name": "A", "type": "fixed"}], "rowset": [["1"]]
                }}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, logins)
}

/// The gateway on DynamoDB: a login makes no engine call (its engine session opens at the first
/// forwarded statement, so that logins that never reach the engine, a tool's connection check,
/// heartbeats, administration, cost it nothing); the first forwarded statement costs the read,
/// one engine login and one conditional write of the sealed engine token; later ones the read only.
#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn the_gateway_keeps_its_round_trip_budget() {
    use snowgate::outbound::engine::{EngineMode, EngineSettings, HttpEngine};
    use std::sync::atomic::Ordering;
    let c = Counted::new().await;
    let (url, engine_logins) = counting_engine().await;
    let engine = HttpEngine::new(EngineSettings {
        url: url.parse().unwrap(),
        mode: EngineMode::Login {
            login_name: Some("SERVICE".into()),
            password: secrecy::SecretString::from("service-password".to_string()),
        },
        max_answer_bytes: 4096,
        timeout: Duration::from_secs(5),
        extra_ca: None,
    })
    .unwrap();
    c.app.gate.set_engine(Arc::new(engine));

    // The first login seeds the demo user; the second is counted.
    c.app.login_as("svc_demo", "demo-password").await;
    let (t, calls) = c.count(c.app.login_as("svc_demo", "demo-password")).await;
    assert_eq!(total(&calls), 3, "login: {calls:?}");
    assert_eq!(engine_logins.load(Ordering::SeqCst), 0, "no engine login");

    let statement = "SELECT a FROM t";
    let ((_, v), calls) = c.count(c.app.query(&t.session, statement)).await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(
        calls,
        BTreeMap::from([("BatchGetItem".into(), 1), ("UpdateItem".into(), 1)]),
        "first forwarded statement"
    );
    assert_eq!(engine_logins.load(Ordering::SeqCst), 1, "one engine login");

    let ((_, v), calls) = c.count(c.app.query(&t.session, statement)).await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(
        calls,
        BTreeMap::from([("BatchGetItem".into(), 1)]),
        "later forwarded statement"
    );
    assert_eq!(
        engine_logins.load(Ordering::SeqCst),
        1,
        "the engine session is kept"
    );
}
