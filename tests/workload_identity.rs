//! AWS workload identity: the SQL of users' identities, and `AUTHENTICATOR=WORKLOAD_IDENTITY`
//! logins with every check of the attestation (host, method, query, signed audience, date, one use,
//! identity, account, policy, sizes). Attestations are signed as the drivers sign them (SigV4,
//! unsent); those that must reach STS are signed with credentials moto's STS issued (AssumeRole) and
//! replayed by snowgate's own STS client to moto, so those tests need moto_server (ignored
//! otherwise). Checks made before any replay run everywhere. Each test runs on every store. The
//! clock is moved, never waited for.

#[macro_use]
mod common;

use aws_sdk_sts::config::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::sql::*;
use common::*;
use serde_json::{Value, json};
use snowgate::domain::jwks::{FetchError, JwksCache, JwksFetcher};

on_every_store!(
    identities_in_sql,
    hostile_attestations_are_refused,
    the_outbound_jwt_form_needs_the_issuer,
    attestations_sts_refuses_are_not_remembered,
    an_attestation_retried_after_an_sts_outage_logs_in,
    one_attestation_used_twice_at_once_logs_in_once,
    a_login_without_login_name_reads_no_directory_listing,
    identities_stored_before_the_index_are_indexed_at_start,
);

/// As `on_every_store!`, over apps replaying to moto's STS: every twin needs moto_server.
macro_rules! on_every_store_with_sts {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::*;
            #[tokio::test]
            #[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
            async fn memory() {
                super::$name(TestApp::new().with_moto_sts()).await
            }
            #[tokio::test]
            #[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
            async fn sqlite() {
                let dir = tempfile::tempdir().expect("a temporary directory");
                super::$name(TestApp::sqlite(dir.path()).await.with_moto_sts()).await
            }
            #[tokio::test]
            #[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
            async fn dynamodb() {
                super::$name(TestApp::dynamodb().await.with_moto_sts()).await
            }
        }
    )*};
}

on_every_store_with_sts!(
    each_client_has_a_budget_of_sts_calls,
    a_fresh_attestation_logs_in_once,
    attestations_sts_disowns_are_refused,
    the_workload_identity_policy_holds,
);

const ROLE: &str = "arn:aws:iam::123456789012:role/app";
const WIF_INVALID: &str = "394700";

/// The parts of an attestation a test may spoil.
struct Att {
    url: String,
    method: &'static str,
    headers: Vec<(String, String)>,
}

/// Temporary credentials moto's STS issues for `role`: STS then names their signer
/// `arn:aws:sts::<account>:assumed-role/<role name>/<session>`.
async fn assume(role: &str, session: &str) -> Credentials {
    let sts = aws_sdk_sts::Client::new(&aws::sdk_config().await);
    let answer = sts
        .assume_role()
        .role_arn(role)
        .role_session_name(session)
        .send()
        .await
        .expect("moto's STS assumes the role");
    let c = answer.credentials().expect("credentials");
    Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "moto",
    )
}

/// Credentials STS never issued: good enough for attestations refused before any replay.
fn local_credentials() -> Credentials {
    Credentials::new(
        "ASIAEXAMPLE",
        "not-a-secret",
        Some("FQoGZXIvYXdzE".into()),
        None,
        "local",
    )
}

/// `x-amz-date` as the drivers write it: `X-Amz-Date`.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
        .collect::<Vec<_>>()
        .join("-")
}

/// A `GetCallerIdentity` request for `service` signed at `at` (epoch seconds) with `credentials`,
/// as the drivers build it; `audience_signed: false` adds the audience header after signing.
fn signed(at: u64, credentials: &Credentials, service: &str, audience_signed: bool) -> Att {
    let host = "sts.us-east-1.amazonaws.com";
    let url = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let audience = ("X-Snowflake-Audience", "snowflakecomputing.com");
    let mut to_sign = vec![("Host", host)];
    if audience_signed {
        to_sign.push(audience);
    }
    let identity = credentials.clone().into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(std::time::UNIX_EPOCH + std::time::Duration::from_secs(at))
        .settings(SigningSettings::default())
        .build()
        .expect("signing parameters")
        .into();
    let request = SignableRequest::new(
        "POST",
        url.as_str(),
        to_sign.iter().copied(),
        SignableBody::Bytes(&[]),
    )
    .expect("a signable request");
    let (instructions, _) = sign(request, &params).expect("signed").into_parts();
    let mut headers: Vec<(String, String)> = to_sign
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    headers.extend(
        instructions
            .headers()
            .map(|(k, v)| (title_case(k), v.to_string())),
    );
    let att = Att {
        url,
        method: "POST",
        headers,
    };
    if audience_signed {
        att
    } else {
        att.set(audience.0, audience.1)
    }
}

/// A well-formed attestation signed at `at` with `credentials`. SigV4 signs the time to the second,
/// so two signed at one `at` are the same request.
fn attestation(at: u64, credentials: &Credentials) -> Att {
    signed(at, credentials, "sts", true)
}

impl Att {
    fn set(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    fn token(&self) -> String {
        let headers: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let doc = json!({"url": self.url, "method": self.method, "headers": headers});
        STANDARD.encode(doc.to_string())
    }
}

fn wif_body(token: &str, user: Option<&str>) -> Value {
    let mut data = json!({
        "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "4.0.0",
        "ACCOUNT_NAME": "acme", "AUTHENTICATOR": "WORKLOAD_IDENTITY", "PROVIDER": "AWS",
        "TOKEN": token,
    });
    if let Some(user) = user {
        data["LOGIN_NAME"] = json!(user);
    }
    json!({ "data": data })
}

async fn wif_login(app: &TestApp, token: &str, user: Option<&str>) -> Value {
    app.post(LOGIN, None, wif_body(token, user)).await.1
}

fn now(app: &TestApp) -> u64 {
    app.clock.load(std::sync::atomic::Ordering::SeqCst)
}

async fn service_user(app: &TestApp, name: &str, arn: &str) {
    app.admin()
        .await
        .ok(&format!(
            "CREATE USER {name} TYPE = SERVICE WORKLOAD_IDENTITY = (TYPE = AWS ARN = '{arn}')"
        ))
        .await;
}

async fn identities_in_sql(app: TestApp) {
    let admin = app.admin().await;
    service_user(&app, "svc", ROLE).await;
    let show = admin
        .ok("SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS FOR USER svc")
        .await;
    let listed = listing(&show);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["name"], "DEFAULT");
    assert_eq!(listed[0]["type"], "AWS");
    assert_eq!(listed[0]["last_used"], Value::Null);
    let info: Value = serde_json::from_str(listed[0]["additional_info"].as_str().unwrap()).unwrap();
    assert_eq!(
        info,
        json!({"awsPartition": "aws", "awsAccount": "123456789012", "type": "IAM_ROLE", "iamRole": "app"})
    );
    admin
        .script(&[
            (
                "ALTER USER svc ADD WORKLOAD IDENTITY ci TYPE = AWS ARN = 'arn:aws:iam::123456789012:user/ci'",
                OK,
            ),
            ("ALTER USER svc ADD WORKLOAD IDENTITY ci TYPE = AWS ARN = 'arn:aws:iam::123456789012:user/ci'", "002002"),
            ("ALTER USER svc MODIFY WORKLOAD IDENTITY ci RENAME TO build", OK),
            ("ALTER USER svc MODIFY WORKLOAD IDENTITY build SET COMMENT = 'ci', DISABLED = TRUE", OK),
            ("ALTER USER svc MODIFY WORKLOAD IDENTITY build SET TYPE = OIDC", "002029"),
            ("ALTER USER svc MODIFY WORKLOAD IDENTITY nope SET DISABLED = TRUE", "002003"),
            ("ALTER USER svc SET WORKLOAD_IDENTITY = (TYPE = AWS ARN = 'arn:aws:iam::123456789012:role/other')", OK),
            ("ALTER USER svc SET WORKLOAD_IDENTITY = (TYPE = AWS ARN = 'arn:aws:iam::12345678901:role/x')", "002029"),
            ("ALTER USER svc SET WORKLOAD_IDENTITY = (TYPE = AWS ARN = 'arn:aws:iam::123456789012:group/x')", "002029"),
            ("ALTER USER svc SET WORKLOAD_IDENTITY = (TYPE = AWS)", "002029"),
            ("ALTER USER svc SET WORKLOAD_IDENTITY = (TYPE = GOOGLE ARN = 'x')", "002029"),
            ("ALTER USER svc SET WORKLOAD_IDENTITY = (TYPE = AWS ARN = 'arn:aws:iam::123456789012:role/a' SUBJECT = 'x')", "002029"),
            ("ALTER USER svc SET WORKLOAD_IDENTITY = (TYPE = AWS ARN = 'arn:aws:iam::123456789012:role/a' ISSUER = 'http://x')", "002029"),
            ("ALTER USER svc SET WORKLOAD_IDENTITY = 'arn'", "002029"),
            ("CREATE USER person WORKLOAD_IDENTITY = (TYPE = AWS ARN = 'arn:aws:iam::123456789012:role/p')", "002029"),
            ("CREATE USER person", OK),
            ("ALTER USER person ADD WORKLOAD IDENTITY x TYPE = AWS ARN = 'arn:aws:iam::123456789012:role/p'", "002029"),
        ])
        .await;
    let show = admin
        .ok("SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS FOR USER svc")
        .await;
    let listed = listing(&show);
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1]["name"], "BUILD");
    assert_eq!(listed[1]["comment"], "ci");
    assert!(
        listed[0]["additional_info"]
            .as_str()
            .unwrap()
            .contains("\"iamRole\":\"other\"")
    );
    admin
        .script(&[
            ("ALTER USER svc REMOVE WORKLOAD IDENTITY build", OK),
            ("ALTER USER svc UNSET WORKLOAD_IDENTITY", OK),
            ("ALTER USER svc REMOVE WORKLOAD IDENTITY build", "002003"),
        ])
        .await;
    let show = admin
        .ok("SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS FOR USER svc")
        .await;
    assert!(listing(&show).is_empty());
}

async fn a_fresh_attestation_logs_in_once(app: TestApp) {
    service_user(&app, "svc", ROLE).await;
    let credentials = assume(ROLE, "session-1").await;
    let first = now(&app);
    let token = attestation(first, &credentials).token();
    let v = wif_login(&app, &token, None).await;
    assert_eq!(v["success"], true, "{v}");
    // The same attestation again is a replay.
    assert_failure(&wif_login(&app, &token, None).await, WIF_INVALID);
    // A new one (signed a second later), naming the user, works; naming another user does not.
    app.advance(1);
    let token = attestation(now(&app), &credentials).token();
    let v = wif_login(&app, &token, Some("svc")).await;
    assert_eq!(v["success"], true, "{v}");
    app.admin()
        .await
        .ok("CREATE USER other TYPE = SERVICE")
        .await;
    app.advance(1);
    let token = attestation(now(&app), &credentials).token();
    assert_failure(&wif_login(&app, &token, Some("other")).await, WIF_INVALID);
    let show = app
        .admin()
        .await
        .ok("SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS FOR USER svc")
        .await;
    // Written at most once an hour: the first login's time.
    assert_eq!(listing(&show)[0]["last_used"], json!(first.to_string()));
}

/// Refused before any replay: this app has no STS client, so one reaching STS would be answered
/// "unavailable", not [`WIF_INVALID`].
async fn hostile_attestations_are_refused(app: TestApp) {
    service_user(&app, "svc", ROLE).await;
    let t = now(&app);
    let credentials = local_credentials();
    let fresh = || attestation(t, &credentials);
    let mut other_host = fresh();
    other_host.url = "https://evil.example.com/?Action=GetCallerIdentity&Version=2011-06-15".into();
    let other_host = other_host.set("Host", "evil.example.com");
    let mut lookalike = fresh();
    lookalike.url =
        "https://sts.amazonaws.com.evil.com/?Action=GetCallerIdentity&Version=2011-06-15".into();
    let lookalike = lookalike.set("Host", "sts.amazonaws.com.evil.com");
    let host_mismatch = fresh().set("Host", "evil.example.com");
    let mut plain_http = fresh();
    plain_http.url = plain_http.url.replace("https://", "http://");
    let mut other_action = fresh();
    other_action.url = other_action.url.replace("GetCallerIdentity", "AssumeRole");
    let mut extra_query = fresh();
    extra_query.url.push_str("&Foo=1");
    let mut get = fresh();
    get.method = "GET";
    let unsigned_audience = signed(t, &credentials, "sts", false);
    let other_service = signed(t, &credentials, "s3", true);
    let wrong_audience = fresh().set("X-Snowflake-Audience", "example.com");
    let stale = attestation(t - 16 * 60, &credentials);
    let future = attestation(t + 16 * 60, &credentials);
    let bad_date = fresh().set("X-Amz-Date", "yesterday");
    let mut many_headers = fresh();
    for i in 0..20 {
        many_headers
            .headers
            .push((format!("X-Pad-{i}"), "x".into()));
    }
    let long_header = fresh().set("X-Amz-Security-Token", &"x".repeat(9_000));
    let mut tokens: Vec<String> = [
        other_host,
        lookalike,
        host_mismatch,
        plain_http,
        other_action,
        extra_query,
        get,
        unsigned_audience,
        other_service,
        wrong_audience,
        stale,
        future,
        bad_date,
        many_headers,
    ]
    .iter()
    .map(Att::token)
    .collect();
    tokens.extend([
        "not base64 at all!".to_string(),
        STANDARD.encode("{\"url\": 1}"),
        STANDARD.encode("[]"),
        String::new(),
        "a.b.c".to_string(),
    ]);
    for token in &tokens {
        let v = wif_login(&app, token, Some("svc")).await;
        assert_failure(&v, WIF_INVALID);
    }
    // Over the login body's TOKEN limit: refused before any check.
    let v = wif_login(&app, &long_header.token(), Some("svc")).await;
    assert_failure(&v, "390400");
    let body = json!({"data": {"ACCOUNT_NAME": "acme", "AUTHENTICATOR": "WORKLOAD_IDENTITY",
        "PROVIDER": "AZURE", "TOKEN": fresh().token()}});
    assert_failure(&app.post(LOGIN, None, body).await.1, WIF_INVALID);
    let body = json!({"data": {"ACCOUNT_NAME": "acme", "AUTHENTICATOR": "WORKLOAD_IDENTITY",
        "TOKEN": fresh().token()}});
    assert_failure(&app.post(LOGIN, None, body).await.1, WIF_INVALID);
    assert_never_used(&app).await;
}

async fn assert_never_used(app: &TestApp) {
    let show = app
        .admin()
        .await
        .ok("SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS FOR USER svc")
        .await;
    assert_eq!(listing(&show)[0]["last_used"], Value::Null);
}

/// Genuine attestations whose signer STS names is not the user's identity, or whose identity or
/// user is disabled.
async fn attestations_sts_disowns_are_refused(app: TestApp) {
    service_user(&app, "svc", ROLE).await;
    let t = now(&app);
    let wrong_role = assume("arn:aws:iam::123456789012:role/other", "s").await;
    let wrong_account = assume("arn:aws:iam::210987654321:role/app", "s").await;
    // Keys moto never issued: its STS names a default user, not the role.
    let unknown_signer = local_credentials();
    for credentials in [wrong_role, wrong_account, unknown_signer] {
        let token = attestation(t, &credentials).token();
        assert_failure(&wif_login(&app, &token, Some("svc")).await, WIF_INVALID);
    }
    assert_never_used(&app).await;
    // A disabled identity, or user, logs in no more.
    let credentials = assume(ROLE, "session-1").await;
    let admin = app.admin().await;
    admin
        .ok("ALTER USER svc MODIFY WORKLOAD IDENTITY DEFAULT SET DISABLED = TRUE")
        .await;
    assert_failure(
        &wif_login(&app, &attestation(t, &credentials).token(), Some("svc")).await,
        WIF_INVALID,
    );
    admin
        .ok("ALTER USER svc MODIFY WORKLOAD IDENTITY DEFAULT SET DISABLED = FALSE")
        .await;
    admin.ok("ALTER USER svc SET DISABLED = TRUE").await;
    assert_failure(
        &wif_login(&app, &attestation(t + 1, &credentials).token(), Some("svc")).await,
        "390101",
    );
}

async fn the_workload_identity_policy_holds(app: TestApp) {
    service_user(&app, "svc", ROLE).await;
    let credentials = assume(ROLE, "session-1").await;
    let admin = app.admin().await;
    admin
        .ok("CREATE AUTHENTICATION POLICY wif WORKLOAD_IDENTITY_POLICY = (ALLOWED_AWS_ACCOUNTS = ('210987654321'))")
        .await;
    admin
        .ok("ALTER USER svc SET AUTHENTICATION POLICY wif")
        .await;
    let t = now(&app);
    // Each attestation is signed a second after the last: a new request.
    let token = |i: u64| attestation(t + i, &credentials).token();
    assert_failure(&wif_login(&app, &token(0), None).await, "390430");
    admin
        .ok("ALTER AUTHENTICATION POLICY wif SET WORKLOAD_IDENTITY_POLICY = (ALLOWED_PROVIDERS = ('OIDC'))")
        .await;
    assert_failure(&wif_login(&app, &token(1), None).await, "390430");
    admin
        .ok("ALTER AUTHENTICATION POLICY wif SET WORKLOAD_IDENTITY_POLICY = (ALLOWED_AWS_ACCOUNTS = ('123456789012'), ALLOWED_AWS_PARTITIONS = ('AWS'))")
        .await;
    let v = wif_login(&app, &token(2), None).await;
    assert_eq!(v["success"], true, "{v}");
    admin
        .ok("ALTER AUTHENTICATION POLICY wif SET AUTHENTICATION_METHODS = ('PASSWORD')")
        .await;
    assert_failure(&wif_login(&app, &token(3), None).await, "390430");
}

const AWS_ISSUER: &str = "https://abc-123.tokens.sts.global.api.aws";

/// Serves the `p384` fixture as the AWS issuer's only key, `e1`.
struct AwsIssuer;

#[async_trait::async_trait]
impl JwksFetcher for AwsIssuer {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let pem = std::fs::read_to_string("tests/fixtures/jwks/p384.pub.pem").unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let spki = STANDARD.decode(body).unwrap();
        let point = &spki[spki.len() - 97..];
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwk = json!({"kty": "EC", "kid": "e1", "crv": "P-384",
            "x": b64(&point[1..=48]), "y": b64(&point[49..])});
        let doc = match url.strip_prefix(AWS_ISSUER) {
            Some("/.well-known/openid-configuration") => {
                json!({"issuer": AWS_ISSUER, "jwks_uri": format!("{AWS_ISSUER}/keys")})
            }
            Some("/keys") => json!({ "keys": [jwk] }),
            _ => return Err(FetchError::Unreachable),
        };
        Ok(doc.to_string().into_bytes())
    }
}

fn outbound_jwt(app: &TestApp, claims: Value) -> String {
    let pem = std::fs::read_to_string("tests/fixtures/jwks/p384.pem").unwrap();
    let key = jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES384);
    header.kid = Some("e1".into());
    let mut all = json!({"iss": AWS_ISSUER, "sub": ROLE, "aud": "snowflakecomputing.com",
        "iat": now(app), "exp": now(app) + 300});
    for (k, v) in claims.as_object().unwrap() {
        all[k] = v.clone();
    }
    jsonwebtoken::encode(&header, &all, &key).unwrap()
}

async fn the_outbound_jwt_form_needs_the_issuer(app: TestApp) {
    app.gate
        .set_jwks(std::sync::Arc::new(JwksCache::new(std::sync::Arc::new(
            AwsIssuer,
        ))));
    // Without ISSUER on the identity, a JWT is refused even if well signed.
    service_user(&app, "svc", ROLE).await;
    let token = outbound_jwt(&app, json!({}));
    assert_failure(&wif_login(&app, &token, Some("svc")).await, WIF_INVALID);
    app.admin()
        .await
        .ok(&format!(
            "ALTER USER svc SET WORKLOAD_IDENTITY = (TYPE = AWS ARN = '{ROLE}' ISSUER = '{AWS_ISSUER}')"
        ))
        .await;
    let v = wif_login(&app, &token, Some("svc")).await;
    assert_eq!(v["success"], true, "{v}");
    let v = wif_login(&app, &token, None).await;
    assert_eq!(v["success"], true, "{v}");
    for (label, claims) in [
        ("other audience", json!({"aud": "example.com"})),
        ("expired", json!({"exp": now(&app) - 600})),
        (
            "other role",
            json!({"sub": "arn:aws:iam::123456789012:role/other"}),
        ),
        ("other issuer", json!({"iss": "https://evil.example"})),
        ("not an ARN", json!({"sub": "someone"})),
    ] {
        let token = outbound_jwt(&app, claims);
        let v = wif_login(&app, &token, Some("svc")).await;
        assert_eq!(v["code"], WIF_INVALID, "{label}: {v}");
    }
    // Signed by another key: the fixture's RSA key under the same kid.
    let pem = std::fs::read_to_string("tests/fixtures/jwks/rsa1.pem").unwrap();
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("e1".into());
    let forged = jsonwebtoken::encode(
        &header,
        &json!({"iss": AWS_ISSUER, "sub": ROLE, "aud": "snowflakecomputing.com", "exp": now(&app) + 300}),
        &key,
    )
    .unwrap();
    assert_failure(&wif_login(&app, &forged, Some("svc")).await, WIF_INVALID);
}

/// The STS port as a test double, for answers moto's STS never gives (it accepts any signature and
/// is never down): attestations signed with the access key `FORGED` are refused; the first
/// `outages` calls fail as unreachable; with `hold`, each call waits for `release`.
#[derive(Default)]
struct FakeSts {
    calls: std::sync::atomic::AtomicUsize,
    outages: std::sync::atomic::AtomicUsize,
    hold: bool,
    entered: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl snowgate::domain::wif_aws::CallerIdentity for FakeSts {
    async fn caller_arn(
        &self,
        request: &snowgate::domain::wif_aws::SignedRequest,
    ) -> snowgate::error::Result<Option<String>> {
        use std::sync::atomic::Ordering::SeqCst;
        self.calls.fetch_add(1, SeqCst);
        if self.hold {
            self.entered.notify_one();
            self.release.notified().await;
        }
        if self
            .outages
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(snowgate::error::Error::Unavailable(
                "STS answered 503".into(),
            ));
        }
        let forged = request.headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("authorization") && v.contains("Credential=FORGED/")
        });
        Ok((!forged).then(|| "arn:aws:sts::123456789012:assumed-role/app/session-1".to_string()))
    }
}

fn forged_credentials() -> Credentials {
    Credentials::new("FORGED", "random", None, None, "forged")
}

fn with_fake_sts(app: TestApp, sts: FakeSts) -> (TestApp, std::sync::Arc<FakeSts>) {
    let sts = std::sync::Arc::new(sts);
    (app.with_sts(sts.clone()), sts)
}

fn sts_calls(sts: &FakeSts) -> usize {
    sts.calls.load(std::sync::atomic::Ordering::SeqCst)
}

/// An attestation STS refuses (a forged signature) takes no place in the replay memory: the same
/// one sent again is asked of STS again, and a genuine login works after many of them.
async fn attestations_sts_refuses_are_not_remembered(app: TestApp) {
    let (app, sts) = with_fake_sts(app, FakeSts::default());
    service_user(&app, "svc", ROLE).await;
    let t = now(&app);
    let forged = attestation(t, &forged_credentials()).token();
    for i in 0..40 {
        // From many clients, so that no client's budget stops them first.
        let ip = format!("198.51.100.{i}");
        let v = app
            .post_from(Some(&ip), LOGIN, None, wif_body(&forged, None))
            .await
            .1;
        assert_failure(&v, WIF_INVALID);
    }
    // Every one reached STS: none was taken for a use of the attestation.
    assert_eq!(sts_calls(&sts), 40);
    let v = wif_login(&app, &attestation(t, &local_credentials()).token(), None).await;
    assert_eq!(v["success"], true, "{v}");
    assert_last_used_now(&app).await;
}

async fn assert_last_used_now(app: &TestApp) {
    let show = app
        .admin()
        .await
        .ok("SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS FOR USER svc")
        .await;
    assert_eq!(listing(&show)[0]["last_used"], json!(now(app).to_string()));
}

/// STS could not answer (503): the genuine attestation was not spent, and the driver's retry of
/// it logs in; after that it is spent.
async fn an_attestation_retried_after_an_sts_outage_logs_in(app: TestApp) {
    let sts = FakeSts::default();
    sts.outages.store(1, std::sync::atomic::Ordering::SeqCst);
    let (app, sts) = with_fake_sts(app, sts);
    service_user(&app, "svc", ROLE).await;
    let token = attestation(now(&app), &local_credentials()).token();
    let (status, v) = app.post(LOGIN, None, wif_body(&token, None)).await;
    assert_eq!(status, 503, "{v}");
    assert_failure(&v, "390503");
    let v = wif_login(&app, &token, None).await;
    assert_eq!(v["success"], true, "{v}");
    assert_failure(&wif_login(&app, &token, None).await, WIF_INVALID);
    assert_eq!(sts_calls(&sts), 2);
}

/// Two logins with one genuine attestation at the same time: the second is refused while the
/// first is at STS, and only the first logs in.
async fn one_attestation_used_twice_at_once_logs_in_once(app: TestApp) {
    let (app, sts) = with_fake_sts(
        app,
        FakeSts {
            hold: true,
            ..FakeSts::default()
        },
    );
    service_user(&app, "svc", ROLE).await;
    let token = attestation(now(&app), &local_credentials()).token();
    let first = wif_login(&app, &token, None);
    let second = async {
        sts.entered.notified().await;
        let v = wif_login(&app, &token, None).await;
        sts.release.notify_one();
        v
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first["success"], true, "{first}");
    assert_failure(&second, WIF_INVALID);
    assert_eq!(sts_calls(&sts), 1);
}

/// Each client may replay a burst of attestations to STS, then one more every few seconds; the
/// refusal is a login failure drivers do not retry (HTTP 200), and other clients are not affected.
async fn each_client_has_a_budget_of_sts_calls(app: TestApp) {
    use snowgate::domain::wif_aws::{STS_BURST, STS_REFILL_SECONDS};
    service_user(&app, "svc", ROLE).await;
    let credentials = assume(ROLE, "session-1").await;
    let t = now(&app);
    let from = |ip: &'static str, at: u64| {
        let token = attestation(at, &credentials).token();
        let app = &app;
        async move {
            app.post_from(Some(ip), LOGIN, None, wif_body(&token, None))
                .await
        }
    };
    for i in 0..u64::from(STS_BURST) {
        let (_, v) = from("203.0.113.7", t - 1 - i).await;
        assert_eq!(v["success"], true, "{i}: {v}");
    }
    let (status, v) = from("203.0.113.7", t).await;
    assert_eq!(status, 200);
    let message = assert_failure(&v, WIF_INVALID);
    assert!(
        message.contains("Too many workload identity logins"),
        "{message}"
    );
    // A refusal for load writes no login history record (a flood would otherwise write one each).
    let history = app
        .admin()
        .await
        .ok("SELECT * FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY())")
        .await;
    // (Counted by refusals, not records: under the test's fixed clock two records of one second
    // may share an id, and one then replaces the other.)
    let refused = listing(&history)
        .iter()
        .filter(|r| r["FIRST_AUTHENTICATION_FACTOR"] == "WORKLOAD_IDENTITY")
        .filter(|r| r["IS_SUCCESS"] != "YES")
        .count();
    assert_eq!(refused, 0, "{history}");
    // The refused attestation was not spent: once the client may again, it logs in.
    let (_, v) = from("203.0.113.8", t - 100).await;
    assert_eq!(v["success"], true, "another client: {v}");
    app.advance(STS_REFILL_SECONDS);
    let (_, v) = from("203.0.113.7", t).await;
    assert_eq!(v["success"], true, "{v}");
}

/// An unauthenticated login without LOGIN_NAME (the Go driver's) finds its user through the AWS
/// index, for the outbound-JWT form (looked up before it is verified) as for an attestation: no
/// listing of the directory, whatever the token. Several holders of one identity need LOGIN_NAME;
/// an identity removed is gone from the index.
async fn a_login_without_login_name_reads_no_directory_listing(app: TestApp) {
    let store = std::sync::Arc::new(common::counting::CountingStore::new(app.store.clone()));
    let (app, _) = with_fake_sts(
        TestApp::with_store(store.clone(), "test-secret"),
        FakeSts::default(),
    );
    app.gate
        .set_jwks(std::sync::Arc::new(JwksCache::new(std::sync::Arc::new(
            AwsIssuer,
        ))));
    let admin = app.admin().await;
    admin
        .ok(&format!(
            "CREATE USER svc TYPE = SERVICE WORKLOAD_IDENTITY = (TYPE = AWS ARN = '{ROLE}' ISSUER = '{AWS_ISSUER}')"
        ))
        .await;
    let listings = || store.count("list_objects/USER");
    let before = listings();
    let good = outbound_jwt(&app, json!({}));
    let forged = outbound_jwt(
        &app,
        json!({"sub": "arn:aws:iam::123456789012:role/nobody"}),
    );
    let attestation_token = attestation(now(&app), &local_credentials()).token();
    assert_failure(&wif_login(&app, &forged, None).await, WIF_INVALID);
    assert_eq!(wif_login(&app, &good, None).await["success"], true);
    assert_eq!(
        wif_login(&app, &attestation_token, None).await["success"],
        true
    );
    assert_eq!(listings(), before, "a login listed the users");
    // A second holder of the same role and issuer: ambiguous without LOGIN_NAME.
    admin
        .ok(&format!(
            "CREATE USER svc2 TYPE = SERVICE WORKLOAD_IDENTITY = (TYPE = AWS ARN = 'arn:aws:iam::123456789012:role/team/app' ISSUER = '{AWS_ISSUER}')"
        ))
        .await;
    assert_failure(&wif_login(&app, &good, None).await, WIF_INVALID);
    assert_eq!(wif_login(&app, &good, Some("svc2")).await["success"], true);
    // Removed from svc2, the identity leads to svc alone again; dropped, to no one.
    admin.ok("ALTER USER svc2 UNSET WORKLOAD_IDENTITY").await;
    assert_eq!(wif_login(&app, &good, None).await["success"], true);
    admin.ok("DROP USER svc").await;
    assert_failure(&wif_login(&app, &good, None).await, WIF_INVALID);
    assert_eq!(listings(), before, "a login listed the users");
}

/// A directory written before the AWS index existed: the first start indexes its users once, and
/// a login without LOGIN_NAME finds them.
async fn identities_stored_before_the_index_are_indexed_at_start(app: TestApp) {
    use snowgate::store::{ObjectKey, Write};
    let admin = app.admin().await;
    admin
        .ok(&format!(
            "CREATE USER svc TYPE = SERVICE WORKLOAD_IDENTITY = (TYPE = AWS ARN = '{ROLE}' ISSUER = '{AWS_ISSUER}')"
        ))
        .await;
    // Forget the index, as a directory of an older version has none.
    let key = snowgate::store::AwsIdentityKey::new(ROLE);
    assert!(
        app.store
            .delete_object(ObjectKey::aws_identity(&key))
            .await
            .unwrap()
    );
    let account = app
        .store
        .get_object(ObjectKey::ACCOUNT)
        .await
        .unwrap()
        .unwrap();
    let mut doc: Value = serde_json::from_str(&account.doc).unwrap();
    assert_eq!(doc["aws_index_built"], true, "{doc}");
    doc.as_object_mut().unwrap().remove("aws_index_built");
    app.store
        .put_object(ObjectKey::ACCOUNT, &doc.to_string(), Write::Replace)
        .await
        .unwrap();
    // A new instance over the same directory.
    let app = TestApp::with_store(app.store.clone(), "test-secret");
    app.gate
        .set_jwks(std::sync::Arc::new(JwksCache::new(std::sync::Arc::new(
            AwsIssuer,
        ))));
    let token = outbound_jwt(&app, json!({}));
    let v = wif_login(&app, &token, None).await;
    assert_eq!(v["success"], true, "{v}");
}
