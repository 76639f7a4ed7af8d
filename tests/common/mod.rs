//! Helpers shared by the integration tests: an app over a chosen store with a clock the test moves,
//! and small request builders.
#![allow(dead_code)]

pub mod audit;
pub mod aws;
pub mod counting;
pub mod jwks;
pub mod keys;
pub mod names;
pub mod sql;

/// Runs each named test body on every store: in memory, on SQLite (a fresh directory each) and on
/// DynamoDB (moto_server), so every backend answers the same requests the same way. The DynamoDB
/// twin is ignored by a plain `cargo test` (it needs moto_server); `./scripts/test` starts moto and
/// runs it with `--include-ignored`.
#[allow(unused_macros)]
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::*;
            #[tokio::test]
            async fn memory() {
                super::$name(TestApp::new()).await
            }
            #[tokio::test]
            async fn sqlite() {
                let dir = tempfile::tempdir().expect("a temporary directory");
                super::$name(TestApp::sqlite(dir.path()).await).await
            }
            #[tokio::test]
            #[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
            async fn dynamodb() {
                super::$name(TestApp::dynamodb().await).await
            }
        }
    )*};
}

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use secrecy::SecretString;
use serde_json::{Value, json};
use snowgate::AppState;
use snowgate::domain::{Gatekeeper, Settings};
use snowgate::secrets::StaticSecrets;
use snowgate::store::Store;
use snowgate::store::memory::MemoryStore;
use tower::ServiceExt;

pub const START: u64 = 1_800_000_000;
pub const BODY_LIMIT: usize = 64 * 1024;

pub struct TestApp {
    pub router: Router,
    pub clock: Arc<AtomicU64>,
    /// The app's store, for tests that set up records no statement writes yet.
    pub store: Arc<dyn Store>,
    /// The app's gatekeeper, for tests that plug in collaborators (e.g. an issuers' key fetcher).
    pub gate: Arc<Gatekeeper>,
}

impl TestApp {
    pub fn new() -> Self {
        Self::with_store(Arc::new(MemoryStore::new()), "test-secret")
    }

    pub fn with_store(store: Arc<dyn Store>, jwt_secret: &str) -> Self {
        Self::with_settings(store, jwt_secret, Settings::default())
    }

    /// An app with the test token lifetimes and the rest of `settings` (e.g. an account pin).
    pub fn with_settings(store: Arc<dyn Store>, jwt_secret: &str, settings: Settings) -> Self {
        let settings = Settings {
            session_ttl: 100,
            master_ttl: 1000,
            ..settings
        };
        Self::with_exact_settings(store, jwt_secret, settings)
    }

    /// An app with exactly `settings` (token lifetimes included). It has no STS client: an AWS
    /// workload identity attestation that passes every local check is refused as unavailable.
    pub fn with_exact_settings(
        store: Arc<dyn Store>,
        jwt_secret: &str,
        settings: Settings,
    ) -> Self {
        Self::assemble(store, jwt_secret, settings, None)
    }

    /// The same store in an app that replays AWS workload identity attestations to moto's STS, as
    /// production does to `SNOWGATE_STS_ENDPOINT`.
    pub fn with_moto_sts(self) -> Self {
        let endpoint = aws::endpoint();
        let host = snowgate::config::endpoint_host(&endpoint).map(str::to_string);
        let sts = snowgate::sts::Sts::new(Some(endpoint)).expect("an STS client");
        let settings = Settings {
            session_ttl: 100,
            master_ttl: 1000,
            ..Settings::default()
        };
        Self::assemble(
            self.store,
            "test-secret",
            settings,
            Some((Arc::new(sts), host)),
        )
    }

    /// The same store in an app that replays AWS workload identity attestations to `sts` (a test
    /// double of the port, for answers moto's STS never gives).
    pub fn with_sts(self, sts: Arc<dyn snowgate::domain::wif_aws::CallerIdentity>) -> Self {
        let settings = Settings {
            session_ttl: 100,
            master_ttl: 1000,
            ..Settings::default()
        };
        Self::assemble(self.store, "test-secret", settings, Some((sts, None)))
    }

    fn assemble(
        store: Arc<dyn Store>,
        jwt_secret: &str,
        settings: Settings,
        sts: Option<(
            Arc<dyn snowgate::domain::wif_aws::CallerIdentity>,
            Option<String>,
        )>,
    ) -> Self {
        let clock = Arc::new(AtomicU64::new(START));
        let c = Arc::clone(&clock);
        let secrets = StaticSecrets::new(
            &SecretString::from(jwt_secret),
            "embucket".into(),
            SecretString::from("embucket"),
        );
        let mut gate = Gatekeeper::new(
            Arc::clone(&store),
            Arc::new(secrets),
            settings,
            Arc::new(move || c.load(Ordering::SeqCst)),
        );
        if let Some((sts, host)) = sts {
            gate = gate.with_sts(sts, host);
        }
        let gate = Arc::new(gate);
        let state = AppState {
            gate: Arc::clone(&gate),
            body_limit: BODY_LIMIT,
            trusted_proxies: Default::default(),
            statements: Default::default(),
        };
        Self {
            router: snowgate::app(state),
            clock,
            store,
            gate,
        }
    }

    /// The app of `gate` (over `store`), for tests that assemble their own gatekeeper (real secret
    /// sources, the wall clock): its clock handle moves nothing.
    pub fn over_gate(store: Arc<dyn Store>, gate: Gatekeeper) -> Self {
        let gate = Arc::new(gate);
        Self {
            router: snowgate::app(AppState {
                gate: Arc::clone(&gate),
                body_limit: BODY_LIMIT,
                trusted_proxies: Default::default(),
                statements: Default::default(),
            }),
            clock: Arc::default(),
            store,
            gate,
        }
    }

    /// The same app over DynamoDB on moto, in a fresh table.
    pub async fn dynamodb() -> Self {
        let client = aws_sdk_dynamodb::Client::new(&aws::sdk_config().await);
        let table = aws::create_table(&client).await;
        Self::with_store(
            Arc::new(snowgate::store::dynamo::DynamoStore::new(client, table)),
            "test-secret",
        )
    }

    /// The same app over the SQLite store in `dir`: a second one on the same directory sees what the
    /// first wrote, as a restarted server would.
    pub async fn sqlite(dir: &std::path::Path) -> Self {
        let store = snowgate::store::sqlite::SqliteStore::open(dir)
            .await
            .expect("the SQLite store opens");
        Self::with_store(Arc::new(store), "test-secret")
    }

    pub fn advance(&self, seconds: u64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)));
        (status, value)
    }

    /// POSTs `body` as JSON with an optional Snowflake token.
    pub async fn post(&self, uri: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.send(request(uri, token, Body::from(body.to_string()), false))
            .await
    }

    /// POSTs `body` gzipped, as the Python connector does.
    pub async fn post_gzip(
        &self,
        uri: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        self.send(request(
            uri,
            token,
            Body::from(gzip(body.to_string().as_bytes())),
            true,
        ))
        .await
    }

    pub async fn login(&self) -> Tokens {
        let (status, v) = self
            .post(
                "/session/v1/login-request",
                None,
                login_body("embucket", "embucket"),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["success"], true, "{v}");
        Tokens {
            session: v["data"]["token"].as_str().unwrap().to_string(),
            master: v["data"]["masterToken"].as_str().unwrap().to_string(),
            session_id: v["data"]["sessionId"].as_u64().unwrap(),
        }
    }

    pub async fn query(&self, token: &str, sql: &str) -> (StatusCode, Value) {
        self.post(
            "/queries/v1/query-request?requestId=r-1",
            Some(token),
            json!({"sqlText": sql, "asyncExec": false, "sequenceId": 1}),
        )
        .await
    }
}

pub struct Tokens {
    pub session: String,
    pub master: String,
    pub session_id: u64,
}

pub fn login_body(user: &str, password: &str) -> Value {
    json!({"data": {
        "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "5.2.0", "SVN_REVISION": null,
        "ACCOUNT_NAME": "acme", "LOGIN_NAME": user, "PASSWORD": password,
        "CLIENT_ENVIRONMENT": {"APPLICATION": "PythonConnector", "OS": "Linux"},
        "EXT_AUTHN_DUO_METHOD": "push",
        "SESSION_PARAMETERS": {"CLIENT_SESSION_KEEP_ALIVE": true}
    }})
}

pub fn request(uri: &str, token: Option<&str>, body: Body, gzipped: bool) -> Request<Body> {
    let mut b = Request::post(uri)
        .header("content-type", "application/json")
        .header("accept", "application/snowflake");
    if let Some(t) = token {
        b = b.header("authorization", format!("Snowflake Token=\"{t}\""));
    }
    if gzipped {
        b = b.header("content-encoding", "gzip");
    }
    b.body(body).expect("request")
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

/// Asserts a Snowflake failure envelope with `code`, returning its message.
pub fn assert_failure(v: &Value, code: &str) -> String {
    assert_eq!(v["success"], false, "{v}");
    assert_eq!(v["code"], code, "{v}");
    let message = v["message"].as_str().expect("message is a string");
    assert!(!message.is_empty());
    message.to_string()
}

/// Requests as they arrive through a front door that knows the client's address (the socket peer or
/// API Gateway's source IP): router tests via `oneshot` otherwise carry no client IP at all.
impl TestApp {
    /// POSTs `body` as JSON from `ip` (`None`: no client IP, as a bare `post`).
    pub async fn post_from(
        &self,
        ip: Option<&str>,
        uri: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        let mut req = request(uri, token, Body::from(body.to_string()), false);
        if let Some(ip) = ip {
            let ip: std::net::IpAddr = ip.parse().expect("an IP address");
            req.extensions_mut()
                .insert(snowgate::http::extract::ClientIp(Some(ip)));
        }
        self.send(req).await
    }

    /// Runs `sql` in the session of `token`, from `ip`.
    pub async fn query_from(
        &self,
        ip: Option<&str>,
        token: &str,
        sql: &str,
    ) -> (StatusCode, Value) {
        self.post_from(
            ip,
            "/queries/v1/query-request?requestId=r-1",
            Some(token),
            json!({"sqlText": sql, "asyncExec": false, "sequenceId": 1}),
        )
        .await
    }

    /// A password login as `user`, asserting it succeeds.
    pub async fn login_as(&self, user: &str, password: &str) -> Tokens {
        let (status, v) = self
            .post(
                "/session/v1/login-request",
                None,
                login_body(user, password),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["success"], true, "login as {user}: {v}");
        Tokens {
            session: v["data"]["token"].as_str().unwrap().to_string(),
            master: v["data"]["masterToken"].as_str().unwrap().to_string(),
            session_id: v["data"]["sessionId"].as_u64().unwrap(),
        }
    }
}
