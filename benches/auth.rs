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
use bytes::Bytes;
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
const FORWARD: &str = "/auth/forward";
const SUCCESS: &[u8] = br#""success":true"#;

struct Bench {
    router: Router,
    rt: Runtime,
    signing_key: EncodingKey,
    key_fp: String,
}

/// A request as a driver sends it. The body is serialised before the timed loop (see [`Call`]), so
/// a figure is the server's work, not the benchmark's.
fn request(uri: &str, authorization: Option<&str>, body: Bytes) -> Request<Body> {
    let mut b = Request::post(uri)
        .header("content-type", "application/json")
        .header("accept", "application/snowflake");
    if let Some(a) = authorization {
        b = b.header("authorization", a);
    }
    b.body(Body::from(body)).expect("request")
}

/// One request, prepared: what the timed loop sends again and again.
struct Call {
    uri: &'static str,
    authorization: Option<String>,
    body: Bytes,
}

impl Call {
    fn new(uri: &'static str, token: Option<&str>, body: &Value) -> Self {
        Self {
            uri,
            authorization: token.map(|t| format!("Snowflake Token=\"{t}\"")),
            body: Bytes::from(body.to_string()),
        }
    }
}

impl Bench {
    /// Sends `call` and returns the answer's bytes, checked to be a success without parsing them
    /// (a driver parses them, but that is the client's work, not the server's).
    async fn send(&self, call: &Call) -> Bytes {
        let req = request(call.uri, call.authorization.as_deref(), call.body.clone());
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let ok = bytes.windows(SUCCESS.len()).any(|w| w == SUCCESS);
        assert!(ok, "{}: {}", call.uri, String::from_utf8_lossy(&bytes));
        bytes
    }

    fn call(&self, call: &Call) -> Bytes {
        self.rt.block_on(self.send(call))
    }

    /// Sends a request built now and parses the answer: for set-up, outside the timed loops.
    fn run(&self, uri: &'static str, token: Option<&str>, body: &Value) -> Value {
        let bytes = self.call(&Call::new(uri, token, body));
        serde_json::from_slice(&bytes).expect("JSON")
    }

    /// A key-pair login JWT for SVC_BENCH, as the drivers make it.
    fn jwt(&self) -> String {
        self.signed_jwt(60, json!({}))
    }

    /// A key-pair JWT for requests (forward-auth, the SQL API), unique (`jti`), so that the
    /// verifier has not seen it before.
    fn request_jwt(&self, n: u64) -> String {
        self.signed_jwt(3000, json!({ "jti": n }))
    }

    /// SVC_BENCH's RS256 JWT, valid for `lifetime` seconds from now, with `extra` claims.
    fn signed_jwt(&self, lifetime: u64, extra: Value) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let sub = "ACME.SVC_BENCH";
        let mut claims = json!({"iss": format!("{sub}.{}", self.key_fp), "sub": sub,
                                "iat": now, "exp": now + lifetime});
        if let (Some(claims), Value::Object(extra)) = (claims.as_object_mut(), extra) {
            claims.extend(extra);
        }
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.signing_key)
            .expect("signed")
    }

    /// A forward-auth decision for `authorization`, checked to be an allow (200).
    async fn decide(&self, authorization: &str, token_type: Option<&str>) {
        let mut b = Request::get(FORWARD).header("authorization", authorization);
        if let Some(t) = token_type {
            b = b.header("x-snowflake-authorization-token-type", t);
        }
        let resp = self
            .router
            .clone()
            .oneshot(b.body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        assert_eq!(resp.status(), 200, "forward-auth refused");
    }

    fn forward(&self, authorization: &str, token_type: Option<&str>) {
        self.rt.block_on(self.decide(authorization, token_type));
    }

    fn key_pair_call(jwt: &str) -> Call {
        let body = json!({"data": {
            "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "3.12.0",
            "ACCOUNT_NAME": "acme", "LOGIN_NAME": "svc_bench",
            "AUTHENTICATOR": "SNOWFLAKE_JWT", "TOKEN": jwt,
        }});
        Call::new(LOGIN, None, &body)
    }

    fn key_pair_login(&self, jwt: &str) -> Value {
        serde_json::from_slice(&self.call(&Self::key_pair_call(jwt))).expect("JSON")
    }

    fn password_login_call() -> Call {
        let body = json!({"data": {
            "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "3.12.0",
            "ACCOUNT_NAME": "acme", "LOGIN_NAME": "embucket", "PASSWORD": "embucket",
        }});
        Call::new(LOGIN, None, &body)
    }

    fn password_login(&self) -> Value {
        serde_json::from_slice(&self.call(&Self::password_login_call())).expect("JSON")
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
        statements: Default::default(),
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
    let password = Bench::password_login_call();
    logins.bench_function("password", |i| i.iter(|| b.call(&password)));
    logins.finish();

    // A JWT lives 60 s; one per batch keeps each valid while RS256 signing stays out of the figure.
    c.bench_function("login/key_pair", |i| {
        i.iter_batched(
            || Bench::key_pair_call(&b.jwt()),
            |call| b.call(&call),
            BatchSize::SmallInput,
        )
    });
    let query = |sql: &str| Call::new(QUERY, Some(&session), &json!({"sqlText": sql}));
    let current = query("SELECT CURRENT_DATABASE()");
    c.bench_function("query/current_database", |i| i.iter(|| b.call(&current)));
    let use_schema = query("USE SCHEMA analytics.raw");
    c.bench_function("query/use_schema", |i| i.iter(|| b.call(&use_schema)));
    let heartbeat = Call::new(HEARTBEAT, Some(&session), &json!({}));
    c.bench_function("heartbeat", |i| i.iter(|| b.call(&heartbeat)));
    let body = json!({"oldSessionToken": session, "requestType": "RENEW"});
    let renew = Call::new(RENEW, Some(&master), &body);
    c.bench_function("renew", |i| i.iter(|| b.call(&renew)));
    // Per-request credentials: a forward-auth decision with a key-pair JWT seen for the first time
    // (RS256 verified), the same JWT again (from the verifier's cache), and a session token.
    let mut n = 0;
    c.bench_function("forward/key_pair_first_seen", |i| {
        i.iter_batched(
            || {
                n += 1;
                format!("Bearer {}", b.request_jwt(n))
            },
            |bearer| b.forward(&bearer, Some("KEYPAIR_JWT")),
            BatchSize::SmallInput,
        )
    });
    let cached = format!("Bearer {}", b.request_jwt(0));
    c.bench_function("forward/key_pair_cached", |i| {
        i.iter(|| b.forward(&cached, Some("KEYPAIR_JWT")))
    });
    let session_header = format!("Snowflake Token=\"{session}\"");
    c.bench_function("forward/session_token", |i| {
        i.iter(|| b.forward(&session_header, None))
    });
    c.bench_function("delete", |i| {
        i.iter_batched(
            || {
                let token = tokens(&b.key_pair_login(&b.jwt())).0;
                Call::new(LOGOUT, Some(&token), &json!({}))
            },
            |call| b.call(&call),
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(auth, benches);
criterion_main!(auth);
