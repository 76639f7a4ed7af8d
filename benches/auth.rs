//! In-process benchmarks through the whole router on the in-memory store: what one request costs
//! snowgate itself, without sockets. `cargo bench --bench auth`; the budgets they are read against are
//! in BENCHMARKS.md.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use secrecy::SecretString;
use serde_json::{Value, json};
use snowgate::AppState;
use snowgate::domain::gatekeeper::system_clock;
use snowgate::domain::keys::fingerprint;
use snowgate::domain::{Gatekeeper, Settings};
use snowgate::secrets::StaticSecrets;
use snowgate::store::memory::MemoryStore;
use tokio::runtime::Runtime;
use tower::ServiceExt;

const LOGIN: &str = "/session/v1/login-request";
const QUERY: &str = "/queries/v1/query-request";
const RENEW: &str = "/session/token-request";
const HEARTBEAT: &str = "/session/heartbeat";
const LOGOUT: &str = "/session?delete=true";

struct Bench {
    router: Router,
    rt: Runtime,
    signing_key: EncodingKey,
    key_fp: String,
}

fn request(uri: &str, token: Option<&str>, body: &Value) -> Request<Body> {
    let mut b = Request::post(uri)
        .header("content-type", "application/json")
        .header("accept", "application/snowflake");
    if let Some(t) = token {
        b = b.header("authorization", format!("Snowflake Token=\"{t}\""));
    }
    b.body(Body::from(body.to_string())).expect("request")
}

impl Bench {
    async fn send(&self, uri: &str, token: Option<&str>, body: &Value) -> Value {
        let resp = self
            .router
            .clone()
            .oneshot(request(uri, token, body))
            .await
            .expect("infallible");
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let v: Value = serde_json::from_slice(&bytes).expect("JSON");
        assert_eq!(v["success"], true, "{uri}: {v}");
        v
    }

    fn run(&self, uri: &str, token: Option<&str>, body: &Value) -> Value {
        self.rt.block_on(self.send(uri, token, body))
    }

    /// A key-pair login JWT for SVC_BENCH, as the drivers make it.
    fn jwt(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let sub = "ACME.SVC_BENCH";
        let claims = json!({"iss": format!("{sub}.{}", self.key_fp), "sub": sub,
                            "iat": now, "exp": now + 60});
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.signing_key)
            .expect("signed")
    }

    fn key_pair_login(&self, jwt: &str) -> Value {
        let body = json!({"data": {
            "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "3.12.0",
            "ACCOUNT_NAME": "acme", "LOGIN_NAME": "svc_bench",
            "AUTHENTICATOR": "SNOWFLAKE_JWT", "TOKEN": jwt,
        }});
        self.run(LOGIN, None, &body)
    }

    fn password_login(&self) -> Value {
        let body = json!({"data": {
            "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "3.12.0",
            "ACCOUNT_NAME": "acme", "LOGIN_NAME": "embucket", "PASSWORD": "embucket",
        }});
        self.run(LOGIN, None, &body)
    }

    fn query(&self, token: &str, sql: &str) -> Value {
        self.run(QUERY, Some(token), &json!({"sqlText": sql}))
    }
}

fn tokens(v: &Value) -> (String, String) {
    let text = |k: &str| v["data"][k].as_str().expect("token").to_string();
    (text("token"), text("masterToken"))
}

fn setup() -> Bench {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let secrets = StaticSecrets::new(
        &SecretString::from("a benchmark secret of at least thirty-two bytes"),
        "embucket".into(),
        SecretString::from("embucket"),
    );
    let gate = Gatekeeper::new(
        Arc::new(MemoryStore::new()),
        Arc::new(secrets),
        Settings::default(),
        system_clock(),
    );
    let router = snowgate::app(AppState {
        gate: Arc::new(gate),
        body_limit: 64 * 1024,
        trusted_proxies: Default::default(),
    });
    let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
    let spki = private
        .to_public_key()
        .to_public_key_der()
        .expect("SPKI")
        .as_bytes()
        .to_vec();
    let pkcs1 = private.to_pkcs1_der().expect("PKCS#1");
    let bench = Bench {
        router,
        rt,
        signing_key: EncodingKey::from_rsa_der(pkcs1.as_bytes()),
        key_fp: fingerprint(&spki),
    };
    let (admin, _) = tokens(&bench.password_login());
    bench.query(&admin, "CREATE ROLE loader");
    bench.query(
        &admin,
        &format!(
            "CREATE USER svc_bench TYPE=SERVICE DEFAULT_ROLE=loader RSA_PUBLIC_KEY='{}'",
            STANDARD.encode(&spki)
        ),
    );
    bench.query(&admin, "GRANT ROLE loader TO USER svc_bench");
    bench
}

fn benches(c: &mut Criterion) {
    let b = setup();
    let (session, master) = tokens(&b.key_pair_login(&b.jwt()));

    let mut logins = c.benchmark_group("login");
    logins.sample_size(20);
    // argon2id at the chosen parameters: this is the cost by design.
    logins.bench_function("password", |i| i.iter(|| b.password_login()));
    logins.finish();

    // A JWT lives 60 s; one per batch keeps each valid while RS256 signing stays out of the figure.
    c.bench_function("login/key_pair", |i| {
        i.iter_batched(
            || b.jwt(),
            |jwt| b.key_pair_login(&jwt),
            BatchSize::SmallInput,
        )
    });
    c.bench_function("query/current_database", |i| {
        i.iter(|| b.query(&session, "SELECT CURRENT_DATABASE()"))
    });
    c.bench_function("query/use_schema", |i| {
        i.iter(|| b.query(&session, "USE SCHEMA analytics.raw"))
    });
    c.bench_function("heartbeat", |i| {
        i.iter(|| b.run(HEARTBEAT, Some(&session), &json!({})))
    });
    c.bench_function("renew", |i| {
        let body = json!({"oldSessionToken": session, "requestType": "RENEW"});
        i.iter(|| b.run(RENEW, Some(&master), &body))
    });
    c.bench_function("delete", |i| {
        i.iter_batched(
            || tokens(&b.key_pair_login(&b.jwt())).0,
            |token| b.run(LOGOUT, Some(&token), &json!({})),
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(auth, benches);
criterion_main!(auth);
