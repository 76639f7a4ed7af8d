//! OIDC workload identity: `TYPE = OIDC` identities in SQL and `AUTHENTICATOR=WORKLOAD_IDENTITY`,
//! `PROVIDER=OIDC` logins verified against the issuer's keys (served by a fake fetcher), on every store.

#[macro_use]
mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::jwks::{FakeFetcher, b64, fixture};
use common::sql::*;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use snowgate::domain::jwks::JwksCache;

on_every_store!(
    an_oidc_token_logs_the_service_user_in,
    refused_tokens_get_one_answer,
    audience_lists_replace_the_default,
    disabled_or_removed_identities_no_longer_log_in,
    the_workload_identity_policy_limits_providers_and_issuers,
    an_identity_belongs_to_one_user,
    bad_identity_definitions_are_refused,
    the_audit_and_history_name_the_proven_user,
);

const ISSUER: &str = "https://token.actions.example";
const SUBJECT: &str = "repo:acme/app:ref:refs/heads/main";
const LOGIN: &str = "/session/v1/login-request";
/// snowgate's answer to a refused workload identity (docs: 394700, shared with AWS).
const REFUSED: &str = "394700";

/// Plugs an issuer serving the `rsa1` key as `k1` into the app.
fn with_issuer(app: &TestApp) -> Arc<FakeFetcher> {
    let key = rsa::RsaPublicKey::from_public_key_pem(&fixture("rsa1.pub.pem")).unwrap();
    let jwk = json!({"kty": "RSA", "kid": "k1", "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be())});
    let fetcher = Arc::new(FakeFetcher::default());
    let mut docs = fetcher.documents.lock().unwrap();
    docs.insert(
        format!("{ISSUER}/.well-known/openid-configuration"),
        json!({"issuer": ISSUER, "jwks_uri": format!("{ISSUER}/keys")}).to_string(),
    );
    docs.insert(format!("{ISSUER}/keys"), json!({"keys": [jwk]}).to_string());
    drop(docs);
    app.gate.set_jwks(Arc::new(JwksCache::new(fetcher.clone())));
    fetcher
}

fn claims(app: &TestApp) -> Value {
    let now = app.clock.load(Ordering::SeqCst);
    json!({"iss": ISSUER, "sub": SUBJECT, "aud": "snowflakecomputing.com", "iat": now, "exp": now + 300})
}

fn sign(claims: &Value, key: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("k1".into());
    let pem = fixture(&format!("{key}.pem"));
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// A WIF login body as the Go driver sends it (no LOGIN_NAME).
fn wif_body(token: &str) -> Value {
    json!({"data": {
        "CLIENT_APP_ID": "Go", "CLIENT_APP_VERSION": "1.14.0", "ACCOUNT_NAME": "acme",
        "AUTHENTICATOR": "WORKLOAD_IDENTITY", "PROVIDER": "OIDC", "TOKEN": token,
        "CLIENT_ENVIRONMENT": {"OS": "Linux"},
    }})
}

async fn wif_login(app: &TestApp, token: &str) -> Value {
    app.post(LOGIN, None, wif_body(token)).await.1
}

async fn setup(app: &TestApp) -> String {
    let admin = app.login().await.session;
    ok(
        app,
        &admin,
        &format!(
            "CREATE USER svc TYPE = SERVICE WORKLOAD_IDENTITY = (TYPE = OIDC ISSUER = '{ISSUER}' SUBJECT = '{SUBJECT}')"
        ),
    )
    .await;
    admin
}

async fn an_oidc_token_logs_the_service_user_in(app: TestApp) {
    let admin = setup(&app).await;
    let fetcher = with_issuer(&app);
    let token = sign(&claims(&app), "rsa1");
    let v = wif_login(&app, &token).await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["data"]["sessionInfo"]["roleName"], "PUBLIC", "{v}");
    // A second login uses the cached keys.
    let v = wif_login(&app, &sign(&claims(&app), "rsa1")).await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 2);
    // Python sends LOGIN_NAME (whatever `user` is) and a lower-case provider: still fine.
    let mut body = wif_body(&token);
    body["data"]["LOGIN_NAME"] = json!("anything");
    body["data"]["PROVIDER"] = json!("oidc");
    let v = app.post(LOGIN, None, body).await.1;
    assert_eq!(v["success"], true, "{v}");
    let shown = listing(
        &ok(
            &app,
            &admin,
            "SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS FOR USER svc",
        )
        .await,
    );
    assert_eq!(shown[0]["type"], "OIDC");
    let info: Value = serde_json::from_str(shown[0]["additional_info"].as_str().unwrap()).unwrap();
    assert_eq!(info["issuer"], ISSUER);
    assert_eq!(info["subject"], SUBJECT);
}

async fn refused_tokens_get_one_answer(app: TestApp) {
    setup(&app).await;
    with_issuer(&app);
    let now = app.clock.load(Ordering::SeqCst);
    let mut cases: Vec<(&str, String)> = vec![
        ("wrong key", sign(&claims(&app), "rsa2")),
        ("garbage", "not.a.jwt".into()),
        ("empty", String::new()),
    ];
    for (what, claim, value) in [
        ("other subject", "sub", json!("repo:acme/other")),
        ("other issuer", "iss", json!("https://evil.example")),
        ("wrong audience", "aud", json!("someone-else")),
        ("expired", "exp", json!(now - 120)),
        ("not yet valid", "nbf", json!(now + 600)),
        ("long subject", "sub", json!("s".repeat(300))),
    ] {
        let mut c = claims(&app);
        c[claim] = value;
        cases.push((what, sign(&c, "rsa1")));
    }
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(&app),
        &EncodingKey::from_secret(fixture("rsa1.pub.pem").as_bytes()),
    )
    .unwrap();
    cases.push(("alg confusion", hs));
    for (what, token) in &cases {
        let v = wif_login(&app, token).await;
        let message = assert_failure(&v, REFUSED);
        assert!(
            !v.to_string().contains(token.as_str()) || token.is_empty(),
            "{what}: {v}"
        );
        assert!(!message.is_empty(), "{what}");
    }
    // Other or missing providers and a missing token are refused the same way.
    let token = sign(&claims(&app), "rsa1");
    for provider in [json!("AZURE"), json!(null), json!("")] {
        let mut body = wif_body(&token);
        body["data"]["PROVIDER"] = provider;
        assert_failure(&app.post(LOGIN, None, body).await.1, REFUSED);
    }
    let mut body = wif_body(&token);
    body["data"].as_object_mut().unwrap().remove("TOKEN");
    assert_failure(&app.post(LOGIN, None, body).await.1, REFUSED);
}

async fn audience_lists_replace_the_default(app: TestApp) {
    let admin = setup(&app).await;
    with_issuer(&app);
    ok(
        &app,
        &admin,
        &format!(
            "ALTER USER svc SET WORKLOAD_IDENTITY = (TYPE = OIDC ISSUER = '{ISSUER}' SUBJECT = '{SUBJECT}' OIDC_AUDIENCE_LIST = ('api://one', 'api://two'))"
        ),
    )
    .await;
    let mut c = claims(&app);
    assert_failure(&wif_login(&app, &sign(&c, "rsa1")).await, REFUSED);
    c["aud"] = json!(["x", "api://two"]);
    let v = wif_login(&app, &sign(&c, "rsa1")).await;
    assert_eq!(v["success"], true, "{v}");
}

async fn disabled_or_removed_identities_no_longer_log_in(app: TestApp) {
    let admin = setup(&app).await;
    with_issuer(&app);
    let token = sign(&claims(&app), "rsa1");
    ok(
        &app,
        &admin,
        "ALTER USER svc MODIFY WORKLOAD IDENTITY DEFAULT SET DISABLED = TRUE",
    )
    .await;
    assert_failure(&wif_login(&app, &token).await, REFUSED);
    ok(
        &app,
        &admin,
        "ALTER USER svc MODIFY WORKLOAD IDENTITY DEFAULT SET DISABLED = FALSE",
    )
    .await;
    assert_eq!(wif_login(&app, &token).await["success"], true);
    ok(&app, &admin, "ALTER USER svc UNSET WORKLOAD_IDENTITY").await;
    assert_failure(&wif_login(&app, &token).await, REFUSED);
    // A new user may now take the identity; the dropped user's index entry is gone.
    ok(
        &app,
        &admin,
        &format!(
            "CREATE USER svc2 TYPE = SERVICE WORKLOAD_IDENTITY = (TYPE = OIDC ISSUER = '{ISSUER}' SUBJECT = '{SUBJECT}')"
        ),
    )
    .await;
    let v = wif_login(&app, &token).await;
    assert_eq!(v["data"]["displayUserName"], "SVC2", "{v}");
    ok(&app, &admin, "DROP USER svc2").await;
    assert_failure(&wif_login(&app, &token).await, REFUSED);
}

async fn the_workload_identity_policy_limits_providers_and_issuers(app: TestApp) {
    let admin = setup(&app).await;
    with_issuer(&app);
    let token = sign(&claims(&app), "rsa1");
    ok(&app, &admin, "CREATE AUTHENTICATION POLICY aws_only WORKLOAD_IDENTITY_POLICY = (ALLOWED_PROVIDERS = ('AWS'))").await;
    ok(&app, &admin, "CREATE AUTHENTICATION POLICY other_issuer WORKLOAD_IDENTITY_POLICY = (ALLOWED_OIDC_ISSUERS = ('https://elsewhere.example'))").await;
    ok(&app, &admin, &format!("CREATE AUTHENTICATION POLICY this_issuer WORKLOAD_IDENTITY_POLICY = (ALLOWED_PROVIDERS = ('OIDC'), ALLOWED_OIDC_ISSUERS = ('{ISSUER}'))")).await;
    ok(
        &app,
        &admin,
        "CREATE AUTHENTICATION POLICY no_wif AUTHENTICATION_METHODS = ('PASSWORD')",
    )
    .await;
    for (policy, allowed) in [
        ("aws_only", false),
        ("other_issuer", false),
        ("no_wif", false),
        ("this_issuer", true),
    ] {
        ok(
            &app,
            &admin,
            &format!("ALTER USER svc SET AUTHENTICATION POLICY {policy}"),
        )
        .await;
        let v = wif_login(&app, &token).await;
        if allowed {
            assert_eq!(v["success"], true, "{policy}: {v}");
        } else {
            assert_failure(&v, "390430");
        }
        ok(&app, &admin, "ALTER USER svc UNSET AUTHENTICATION POLICY").await;
    }
}

async fn an_identity_belongs_to_one_user(app: TestApp) {
    let admin = setup(&app).await;
    let v = fails(
        &app,
        &admin,
        &format!(
            "CREATE USER thief TYPE = SERVICE WORKLOAD_IDENTITY = (TYPE = OIDC ISSUER = '{ISSUER}' SUBJECT = '{SUBJECT}')"
        ),
        "002029",
    )
    .await;
    assert!(
        v["message"].as_str().unwrap().contains("another user"),
        "{v}"
    );
    ok(&app, &admin, "CREATE USER thief TYPE = SERVICE").await;
    fails(
        &app,
        &admin,
        &format!(
            "ALTER USER thief ADD WORKLOAD IDENTITY stolen TYPE = OIDC ISSUER = '{ISSUER}' SUBJECT = '{SUBJECT}'"
        ),
        "002029",
    )
    .await;
    // Another subject of the same issuer is another identity.
    ok(
        &app,
        &admin,
        &format!(
            "ALTER USER thief ADD WORKLOAD IDENTITY mine TYPE = OIDC ISSUER = '{ISSUER}' SUBJECT = 'repo:acme/thief'"
        ),
    )
    .await;
}

async fn bad_identity_definitions_are_refused(app: TestApp) {
    let admin = app.login().await.session;
    let long_subject = "s".repeat(256);
    let many = (0..20)
        .map(|i| format!("'a{i}'"))
        .collect::<Vec<_>>()
        .join(", ");
    for spec in [
        "TYPE = OIDC SUBJECT = 'x'".to_string(),
        format!("TYPE = OIDC ISSUER = '{ISSUER}'"),
        "TYPE = OIDC ISSUER = 'http://plain.example' SUBJECT = 'x'".to_string(),
        format!("TYPE = OIDC ISSUER = '{ISSUER}' SUBJECT = ''"),
        format!("TYPE = OIDC ISSUER = '{ISSUER}' SUBJECT = '{long_subject}'"),
        format!("TYPE = OIDC ISSUER = '{ISSUER}' SUBJECT = 'x' OIDC_AUDIENCE_LIST = 'a'"),
        format!("TYPE = OIDC ISSUER = '{ISSUER}' SUBJECT = 'x' OIDC_AUDIENCE_LIST = ('')"),
        format!("TYPE = OIDC ISSUER = '{ISSUER}' SUBJECT = 'x' OIDC_AUDIENCE_LIST = ({many})"),
        format!(
            "TYPE = OIDC ISSUER = '{ISSUER}' SUBJECT = 'x' ARN = 'arn:aws:iam::123456789012:role/a'"
        ),
    ] {
        let v = app
            .query(
                &admin,
                &format!("CREATE USER bad TYPE = SERVICE WORKLOAD_IDENTITY = ({spec})"),
            )
            .await
            .1;
        assert_eq!(v["success"], false, "{spec}: {v}");
    }
    assert!(
        names(&app, &admin, "SHOW USERS")
            .await
            .iter()
            .all(|n| n != "BAD")
    );
}

/// Python sends LOGIN_NAME as whatever `user` is: the audit line and the history name the user the
/// token proved, never that name (here another, real user's).
async fn the_audit_and_history_name_the_proven_user(app: TestApp) {
    let admin = setup(&app).await;
    with_issuer(&app);
    let mut body = wif_body(&sign(&claims(&app), "rsa1"));
    body["data"]["LOGIN_NAME"] = json!("embucket");
    let log = common::audit::capture(async {
        assert_eq!(app.post(LOGIN, None, body.clone()).await.1["success"], true);
    })
    .await;
    assert!(log.contains("user=\"SVC\""), "{log}");
    assert!(!log.to_lowercase().contains("embucket"), "{log}");
    // Refused once the identity is proven: the record is SVC's too.
    ok(&app, &admin, "ALTER USER svc SET DISABLED = TRUE").await;
    assert_eq!(app.post(LOGIN, None, body).await.1["success"], false);
    let history = |user: &'static str| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let sql = format!(
                "SELECT IS_SUCCESS FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY_BY_USER(USER_NAME => '{user}'))"
            );
            ok(app, &admin, &sql).await["data"]["rowset"].clone()
        }
    };
    assert_eq!(history("SVC").await.as_array().unwrap().len(), 2);
    // The administrator's own password login is EMBUCKET's only record.
    assert_eq!(history("EMBUCKET").await.as_array().unwrap().len(), 1);
}
