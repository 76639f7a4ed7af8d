//! External OAuth: security integrations in SQL, and `AUTHENTICATOR=OAUTH` logins with tokens signed
//! by the integration's RSA keys or its JWKS URL (a fake fetcher), on every store.

#[macro_use]
mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::sql::*;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use snowgate::domain::ident::Identifier;
use snowgate::domain::jwks::{FetchError, JwksCache, JwksFetcher};

on_every_store!(
    integrations_are_created_shown_described_altered_and_dropped,
    bad_integrations_are_refused,
    a_token_logs_the_mapped_user_in_with_its_scope_role,
    refused_tokens_answer_390303_and_expired_ones_390318,
    privileged_and_blocked_roles_are_refused,
    keys_can_come_from_a_jwks_url,
    policies_limit_oauth,
    securityadmin_cannot_climb_through_an_integration,
    an_integration_logs_in_no_one_above_its_creator,
    oauth_sessions_keep_to_their_integrations_roles,
    oauth_sessions_end_with_their_integration,
    oauth_sessions_end_with_their_access_token,
    the_audit_and_history_name_the_proven_user,
);

const ISSUER: &str = "https://idp.example/oauth2/default";
const AUDIENCE: &str = "https://acme.snowgate.example";
const LOGIN: &str = "/session/v1/login-request";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("tests/fixtures/jwks/{name}")).unwrap()
}

/// The base64 DER of a fixture's public key, as RSA_PUBLIC_KEY takes it.
fn public_b64(name: &str) -> String {
    let pem = fixture(&format!("{name}.pub.pem"));
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.encode(STANDARD.decode(body).unwrap())
}

fn now(app: &TestApp) -> u64 {
    app.clock.load(Ordering::SeqCst)
}

fn claims(app: &TestApp, user: &str, scope: &str) -> Value {
    json!({"iss": ISSUER, "sub": user, "aud": AUDIENCE, "scp": [scope],
           "iat": now(app), "exp": now(app) + 600})
}

fn sign(claims: &Value, key: &str) -> String {
    let pem = fixture(&format!("{key}.pem"));
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("k1".into());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn oauth_body(token: &str) -> Value {
    json!({"data": {"CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "5.2.0",
        "ACCOUNT_NAME": "acme", "AUTHENTICATOR": "OAUTH", "TOKEN": token, "LOGIN_NAME": "x"}})
}

async fn oauth(app: &TestApp, token: &str) -> Value {
    app.post(LOGIN, None, oauth_body(token)).await.1
}

fn create_sql(name: &str, extra: &str) -> String {
    format!(
        "CREATE SECURITY INTEGRATION {name} TYPE = EXTERNAL_OAUTH ENABLED = TRUE \
         EXTERNAL_OAUTH_TYPE = OKTA EXTERNAL_OAUTH_ISSUER = '{ISSUER}' \
         EXTERNAL_OAUTH_TOKEN_USER_MAPPING_CLAIM = 'sub' \
         EXTERNAL_OAUTH_SNOWFLAKE_USER_MAPPING_ATTRIBUTE = 'LOGIN_NAME' \
         EXTERNAL_OAUTH_AUDIENCE_LIST = ('{AUDIENCE}') {extra}"
    )
}

/// An admin session, an integration with the `rsa1` key, and user ALICE holding role ANALYST.
async fn setup(app: &TestApp) -> String {
    let admin = app.login().await.session;
    for sql in [
        create_sql(
            "okta",
            &format!("EXTERNAL_OAUTH_RSA_PUBLIC_KEY = '{}'", public_b64("rsa1")),
        ),
        "CREATE ROLE analyst".into(),
        "CREATE USER alice EMAIL = 'alice@acme.example' DEFAULT_ROLE = analyst".into(),
        "GRANT ROLE analyst TO USER alice".into(),
        "GRANT ROLE accountadmin TO USER alice".into(),
    ] {
        ok(app, &admin, &sql).await;
    }
    admin
}

async fn integrations_are_created_shown_described_altered_and_dropped(app: TestApp) {
    let admin = setup(&app).await;
    let shown = listing(&ok(&app, &admin, "SHOW INTEGRATIONS").await);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["name"], "OKTA");
    assert_eq!(shown[0]["type"], "EXTERNAL_OAUTH - OKTA");
    assert_eq!(shown[0]["enabled"], "true");
    let same = listing(&ok(&app, &admin, "SHOW SECURITY INTEGRATIONS LIKE 'ok%'").await);
    assert_eq!(same.len(), 1);
    let desc = listing(&ok(&app, &admin, "DESC SECURITY INTEGRATION okta").await);
    let get = |p: &str| {
        desc.iter()
            .find(|r| r["property"] == p)
            .map(|r| r["property_value"].clone())
            .unwrap()
    };
    assert_eq!(get("EXTERNAL_OAUTH_ISSUER"), ISSUER);
    assert_eq!(get("EXTERNAL_OAUTH_RSA_PUBLIC_KEY"), public_b64("rsa1"));
    ok(
        &app,
        &admin,
        "ALTER SECURITY INTEGRATION okta SET ENABLED = FALSE COMMENT = 'off'",
    )
    .await;
    let shown = listing(&ok(&app, &admin, "SHOW INTEGRATIONS").await);
    assert_eq!(shown[0]["enabled"], "false");
    assert_eq!(shown[0]["comment"], "off");
    ok(&app, &admin, "ALTER INTEGRATION okta UNSET COMMENT").await;
    fails(
        &app,
        &admin,
        &create_sql(
            "okta",
            &format!("EXTERNAL_OAUTH_RSA_PUBLIC_KEY = '{}'", public_b64("rsa1")),
        ),
        "002002",
    )
    .await;
    ok(&app, &admin, "DROP SECURITY INTEGRATION okta").await;
    ok(&app, &admin, "DROP SECURITY INTEGRATION IF EXISTS okta").await;
    assert!(listing(&ok(&app, &admin, "SHOW INTEGRATIONS").await).is_empty());
}

async fn bad_integrations_are_refused(app: TestApp) {
    let admin = setup(&app).await;
    let key = format!("EXTERNAL_OAUTH_RSA_PUBLIC_KEY = '{}'", public_b64("rsa2"));
    let small = format!(
        "EXTERNAL_OAUTH_RSA_PUBLIC_KEY = '{}'",
        public_b64("rsa_small")
    );
    let no_audience = create_sql("bad", &key).replace(
        &format!("EXTERNAL_OAUTH_AUDIENCE_LIST = ('{AUDIENCE}')"),
        "",
    );
    let v = app.query(&admin, &no_audience).await.1;
    assert_eq!(v["success"], false, "no audience list: {v}");
    for extra in [
        String::new(),
        format!("{key} EXTERNAL_OAUTH_JWS_KEYS_URL = 'https://idp.example/keys'"),
        "EXTERNAL_OAUTH_JWS_KEYS_URL = 'http://idp.example/keys'".into(),
        small,
        "EXTERNAL_OAUTH_RSA_PUBLIC_KEY = 'not a key'".into(),
        format!(
            "{key} EXTERNAL_OAUTH_ALLOWED_ROLES_LIST = ('A') EXTERNAL_OAUTH_BLOCKED_ROLES_LIST = ('B')"
        ),
        format!("{key} EXTERNAL_OAUTH_ANY_ROLE_MODE = SOMETIMES"),
        format!("{key} EXTERNAL_OAUTH_SCOPE_DELIMITER = ';;'"),
        format!("{key} BOGUS = 1"),
    ] {
        let v = app.query(&admin, &create_sql("bad", &extra)).await.1;
        assert_eq!(v["success"], false, "{extra}: {v}");
        assert!(!v.to_string().contains(&public_b64("rsa2")), "{v}");
    }
    let v = app
        .query(
            &admin,
            "CREATE SECURITY INTEGRATION bad TYPE = SAML2 ENABLED = TRUE",
        )
        .await
        .1;
    assert_eq!(v["success"], false, "{v}");
    // USERADMIN may not manage integrations.
    ok(&app, &admin, "USE ROLE USERADMIN").await;
    let v = app.query(&admin, "SHOW INTEGRATIONS").await.1;
    assert_eq!(v["success"], false, "{v}");
    ok(&app, &admin, "USE ROLE ACCOUNTADMIN").await;
    let names: Vec<String> = listing(&ok(&app, &admin, "SHOW INTEGRATIONS").await)
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["OKTA"]);
}

async fn a_token_logs_the_mapped_user_in_with_its_scope_role(app: TestApp) {
    let admin = setup(&app).await;
    let v = oauth(
        &app,
        &sign(&claims(&app, "alice", "session:role:analyst"), "rsa1"),
    )
    .await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["data"]["sessionInfo"]["roleName"], "ANALYST");
    // The session is held to the scope's role.
    let session = v["data"]["token"].as_str().unwrap();
    let refused = fails(&app, session, "USE ROLE public", "003001").await;
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("OAuth access token"),
        "{refused}"
    );
    // A scope string with the default delimiter, no AUTHENTICATOR but Go's OAUTH_TYPE.
    let mut c = claims(&app, "alice", "x");
    c.as_object_mut().unwrap().remove("scp");
    c["scope"] = json!("openid session:role:PUBLIC");
    let mut body = oauth_body(&sign(&c, "rsa1"));
    body["data"]
        .as_object_mut()
        .unwrap()
        .remove("AUTHENTICATOR");
    body["data"]["CLIENT_ENVIRONMENT"] = json!({"OAUTH_TYPE": "OAUTH_CLIENT_CREDENTIALS"});
    let v = app.post(LOGIN, None, body).await.1;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["data"]["sessionInfo"]["roleName"], "PUBLIC");
    // By e-mail.
    ok(
        &app,
        &admin,
        "ALTER SECURITY INTEGRATION okta SET EXTERNAL_OAUTH_TOKEN_USER_MAPPING_CLAIM = ('email', 'upn') EXTERNAL_OAUTH_SNOWFLAKE_USER_MAPPING_ATTRIBUTE = 'EMAIL_ADDRESS'",
    )
    .await;
    let mut c = claims(&app, "nobody", "session:role:ANALYST");
    c["upn"] = json!("ALICE@acme.example");
    let v = oauth(&app, &sign(&c, "rsa1")).await;
    assert_eq!(v["data"]["displayUserName"], "ALICE", "{v}");
    let history = ok(
        &app,
        &admin,
        "SELECT FIRST_AUTHENTICATION_FACTOR FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY_BY_USER(USER_NAME => 'ALICE'))",
    )
    .await;
    assert!(
        history.to_string().contains("OAUTH_ACCESS_TOKEN"),
        "{history}"
    );
}

fn assert_oauth_failure(v: &Value, code: &str) -> String {
    let message = assert_failure(v, code);
    assert_eq!(v["data"]["authnMethod"], "OAUTH", "{v}");
    assert_eq!(v["data"]["nextAction"], "RETRY_LOGIN", "{v}");
    message
}

async fn refused_tokens_answer_390303_and_expired_ones_390318(app: TestApp) {
    let admin = setup(&app).await;
    let good = claims(&app, "alice", "session:role:ANALYST");
    let mut cases = vec![sign(&good, "rsa2"), "garbage".into(), String::new()];
    for (claim, value) in [
        ("aud", json!("https://elsewhere")),
        ("iss", json!("https://idp.example/other")),
        ("sub", json!("nobody")),
        ("iat", Value::Null),
        ("nbf", json!(now(&app) + 3600)),
    ] {
        let mut c = good.clone();
        match value {
            Value::Null => {
                c.as_object_mut().unwrap().remove(claim);
            }
            v => c[claim] = v,
        }
        cases.push(sign(&c, "rsa1"));
    }
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &good,
        &EncodingKey::from_secret(public_b64("rsa1").as_bytes()),
    )
    .unwrap();
    cases.push(hs);
    for token in &cases {
        let v = oauth(&app, token).await;
        assert_oauth_failure(&v, "390303");
        assert!(token.is_empty() || !v.to_string().contains(token.as_str()));
    }
    let mut expired = good.clone();
    expired["exp"] = json!(now(&app) - 120);
    let token = sign(&expired, "rsa1");
    let message = assert_oauth_failure(&oauth(&app, &token).await, "390318");
    assert!(
        message.starts_with("OAuth access token expired. ["),
        "{message}"
    );
    assert!(!message.contains(&token));
    // A disabled integration verifies nothing.
    ok(
        &app,
        &admin,
        "ALTER SECURITY INTEGRATION okta SET ENABLED = FALSE",
    )
    .await;
    assert_oauth_failure(&oauth(&app, &sign(&good, "rsa1")).await, "390303");
}

async fn privileged_and_blocked_roles_are_refused(app: TestApp) {
    let admin = setup(&app).await;
    for role in ["ACCOUNTADMIN", "SECURITYADMIN", "ORGADMIN"] {
        let token = sign(
            &claims(&app, "alice", &format!("session:role:{role}")),
            "rsa1",
        );
        assert_oauth_failure(&oauth(&app, &token).await, "390303");
    }
    ok(
        &app,
        &admin,
        "ALTER SECURITY INTEGRATION okta SET EXTERNAL_OAUTH_BLOCKED_ROLES_LIST = ('analyst')",
    )
    .await;
    let token = sign(&claims(&app, "alice", "session:role:ANALYST"), "rsa1");
    assert_oauth_failure(&oauth(&app, &token).await, "390303");
    ok(
        &app,
        &admin,
        "ALTER SECURITY INTEGRATION okta UNSET EXTERNAL_OAUTH_BLOCKED_ROLES_LIST",
    )
    .await;
    ok(
        &app,
        &admin,
        "ALTER SECURITY INTEGRATION okta SET EXTERNAL_OAUTH_ALLOWED_ROLES_LIST = ('PUBLIC')",
    )
    .await;
    assert_oauth_failure(&oauth(&app, &token).await, "390303");
    let public = sign(&claims(&app, "alice", "session:role:PUBLIC"), "rsa1");
    assert_eq!(oauth(&app, &public).await["success"], true);
    // A role the user does not hold is refused like any login's role.
    ok(
        &app,
        &admin,
        "ALTER SECURITY INTEGRATION okta UNSET EXTERNAL_OAUTH_ALLOWED_ROLES_LIST",
    )
    .await;
    ok(&app, &admin, "CREATE ROLE other").await;
    let other = sign(&claims(&app, "alice", "session:role:OTHER"), "rsa1");
    assert_eq!(oauth(&app, &other).await["success"], false);
}

#[derive(Default)]
struct OneDocument(String);

#[async_trait]
impl JwksFetcher for OneDocument {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        match url {
            "https://idp.example/keys" => Ok(self.0.clone().into_bytes()),
            _ => Err(FetchError::Unreachable),
        }
    }
}

async fn keys_can_come_from_a_jwks_url(app: TestApp) {
    let admin = setup(&app).await;
    let key = rsa::RsaPublicKey::from_public_key_pem(&fixture("rsa2.pub.pem")).unwrap();
    let b64 = |b: Vec<u8>| URL_SAFE_NO_PAD.encode(b);
    let jwks = json!({"keys": [{"kty": "RSA", "kid": "k1", "n": b64(key.n().to_bytes_be()), "e": b64(key.e().to_bytes_be())}]});
    app.gate
        .set_jwks(Arc::new(JwksCache::new(Arc::new(OneDocument(
            jwks.to_string(),
        )))));
    ok(
        &app,
        &admin,
        &format!(
            "CREATE OR REPLACE {}",
            &create_sql(
                "okta",
                "EXTERNAL_OAUTH_JWS_KEYS_URL = 'https://idp.example/keys'"
            )[7..]
        ),
    )
    .await;
    let v = oauth(
        &app,
        &sign(&claims(&app, "alice", "session:role:ANALYST"), "rsa2"),
    )
    .await;
    assert_eq!(v["success"], true, "{v}");
    let v = oauth(
        &app,
        &sign(&claims(&app, "alice", "session:role:ANALYST"), "rsa1"),
    )
    .await;
    assert_oauth_failure(&v, "390303");
}

async fn policies_limit_oauth(app: TestApp) {
    let admin = setup(&app).await;
    let token = sign(&claims(&app, "alice", "session:role:ANALYST"), "rsa1");
    ok(
        &app,
        &admin,
        "CREATE AUTHENTICATION POLICY no_oauth AUTHENTICATION_METHODS = ('PASSWORD')",
    )
    .await;
    ok(
        &app,
        &admin,
        "CREATE AUTHENTICATION POLICY other_idp SECURITY_INTEGRATIONS = ('AZURE_AD')",
    )
    .await;
    ok(&app, &admin, "CREATE AUTHENTICATION POLICY this_idp AUTHENTICATION_METHODS = ('OAUTH') SECURITY_INTEGRATIONS = ('OKTA')").await;
    for (policy, allowed) in [
        ("no_oauth", false),
        ("other_idp", false),
        ("this_idp", true),
    ] {
        ok(
            &app,
            &admin,
            &format!("ALTER USER alice SET AUTHENTICATION POLICY {policy}"),
        )
        .await;
        let v = oauth(&app, &token).await;
        match allowed {
            true => assert_eq!(v["success"], true, "{policy}: {v}"),
            false => {
                assert_failure(&v, "390430");
            }
        }
        ok(&app, &admin, "ALTER USER alice UNSET AUTHENTICATION POLICY").await;
    }
}

/// A password user holding `role` (their default), logged in.
async fn user_in_role(app: &TestApp, admin: &str, name: &str, role: &str) -> String {
    for sql in [
        format!("CREATE USER {name} PASSWORD = 'Str0ng-pass-word' DEFAULT_ROLE = {role}"),
        format!("GRANT ROLE {role} TO USER {name}"),
    ] {
        ok(app, admin, &sql).await;
    }
    app.login_as(name, "Str0ng-pass-word").await.session
}

/// Issue 19: SECURITYADMIN declared an integration with its own key, signed a token for an
/// ACCOUNTADMIN user, logged in as them and climbed to ACCOUNTADMIN. Every step is now refused.
async fn securityadmin_cannot_climb_through_an_integration(app: TestApp) {
    let admin = setup(&app).await;
    let rsa2 = format!("EXTERNAL_OAUTH_RSA_PUBLIC_KEY = '{}'", public_b64("rsa2"));
    for role in ["SECURITYADMIN", "USERADMIN"] {
        let session = user_in_role(&app, &admin, &format!("{role}_user"), role).await;
        for sql in [
            create_sql("mine", &rsa2),
            format!("CREATE OR REPLACE {}", &create_sql("okta", &rsa2)[7..]),
            "ALTER SECURITY INTEGRATION okta SET ENABLED = FALSE".into(),
            "DROP SECURITY INTEGRATION okta".into(),
            "SHOW INTEGRATIONS".into(),
            "DESC SECURITY INTEGRATION okta".into(),
        ] {
            fails(&app, &session, &sql, "003001").await;
        }
    }
    // Nothing changed: only OKTA, still enabled, still with the administrator's key.
    let shown = listing(&ok(&app, &admin, "SHOW INTEGRATIONS").await);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["enabled"], "true");
    // A token signed with SECURITYADMIN's key for the ACCOUNTADMIN user logs no one in.
    let token = sign(&claims(&app, "embucket", "session:role:PUBLIC"), "rsa2");
    assert_oauth_failure(&oauth(&app, &token).await, "390303");
    // Through the administrator's integration, an ACCOUNTADMIN user in a lower role cannot climb.
    ok(
        &app,
        &admin,
        "ALTER SECURITY INTEGRATION okta SET EXTERNAL_OAUTH_ANY_ROLE_MODE = ENABLE",
    )
    .await;
    let v = oauth(
        &app,
        &sign(&claims(&app, "alice", "session:role-any"), "rsa1"),
    )
    .await;
    assert_eq!(v["data"]["sessionInfo"]["roleName"], "ANALYST", "{v}");
    let alice = v["data"]["token"].as_str().unwrap().to_string();
    for role in ["ACCOUNTADMIN", "SECURITYADMIN"] {
        fails(&app, &alice, &format!("USE ROLE {role}"), "003001").await;
    }
    fails(
        &app,
        &alice,
        "GRANT ROLE ACCOUNTADMIN TO USER alice",
        "003001",
    )
    .await;
    let role = ok(&app, &alice, "SELECT CURRENT_ROLE()").await;
    assert_eq!(role["data"]["rowset"][0][0], "ANALYST", "{role}");
}

/// An integration stored with a lesser creator (declared by SECURITYADMIN before only ACCOUNTADMIN
/// could) logs in no user holding a system role above it, and opens no session in one.
async fn an_integration_logs_in_no_one_above_its_creator(app: TestApp) {
    let admin = setup(&app).await;
    ok(&app, &admin, "CREATE USER bob DEFAULT_ROLE = analyst").await;
    ok(&app, &admin, "GRANT ROLE analyst TO USER bob").await;
    let directory = snowgate::domain::directory::Directory::new(app.store.clone());
    let mut legacy = directory
        .integration(Identifier::from_user_input("okta").unwrap().as_ident())
        .await
        .unwrap()
        .unwrap();
    legacy.owner = Some("SECURITYADMIN".into());
    legacy.any_role_mode = "ENABLE".into();
    assert!(directory.put_integration(&legacy, true).await.unwrap());
    // ALICE holds ACCOUNTADMIN, above SECURITYADMIN: refused even in a lower role.
    let token = sign(&claims(&app, "alice", "session:role:ANALYST"), "rsa1");
    assert_oauth_failure(&oauth(&app, &token).await, "390303");
    let v = oauth(
        &app,
        &sign(&claims(&app, "bob", "session:role-any"), "rsa1"),
    )
    .await;
    assert_eq!(v["success"], true, "{v}");
    let bob = v["data"]["token"].as_str().unwrap().to_string();
    ok(&app, &bob, "SELECT 1").await;
    // Made ACCOUNTADMIN since, BOB's OAuth session ends at its next request.
    ok(&app, &admin, "GRANT ROLE accountadmin TO USER bob").await;
    assert_failure(&app.query(&bob, "SELECT 1").await.1, "390111");
    // Recreated by ACCOUNTADMIN, the integration may log ALICE in again (in an allowed role).
    ok(
        &app,
        &admin,
        &format!(
            "CREATE OR REPLACE {}",
            &create_sql(
                "okta",
                &format!("EXTERNAL_OAUTH_RSA_PUBLIC_KEY = '{}'", public_b64("rsa1"))
            )[7..]
        ),
    )
    .await;
    assert_eq!(oauth(&app, &token).await["success"], true);
}

/// With `session:role-any` and no role, the session opens in the default role; USE ROLE then keeps
/// to the integration's lists, and a role blocked later ends the session.
async fn oauth_sessions_keep_to_their_integrations_roles(app: TestApp) {
    let admin = setup(&app).await;
    ok(&app, &admin, "CREATE ROLE reporter").await;
    ok(&app, &admin, "GRANT ROLE reporter TO USER alice").await;
    ok(&app, &admin, "GRANT ROLE useradmin TO USER alice").await;
    ok(
        &app,
        &admin,
        "ALTER SECURITY INTEGRATION okta SET EXTERNAL_OAUTH_ANY_ROLE_MODE = ENABLE \
         EXTERNAL_OAUTH_BLOCKED_ROLES_LIST = ('USERADMIN')",
    )
    .await;
    let login = || async {
        let v = oauth(
            &app,
            &sign(&claims(&app, "alice", "session:role-any"), "rsa1"),
        )
        .await;
        assert_eq!(v["success"], true, "{v}");
        v["data"]["token"].as_str().unwrap().to_string()
    };
    let alice = login().await;
    for role in ["ACCOUNTADMIN", "SECURITYADMIN", "USERADMIN"] {
        let v = fails(&app, &alice, &format!("USE ROLE {role}"), "003001").await;
        assert!(v["message"].as_str().unwrap().contains("OKTA"), "{v}");
    }
    ok(&app, &alice, "USE ROLE reporter").await;
    ok(&app, &alice, "USE ROLE analyst").await;
    // An allowed list: only the roles on it.
    ok(
        &app,
        &admin,
        "ALTER SECURITY INTEGRATION okta UNSET EXTERNAL_OAUTH_BLOCKED_ROLES_LIST",
    )
    .await;
    ok(
        &app,
        &admin,
        "ALTER SECURITY INTEGRATION okta SET EXTERNAL_OAUTH_ALLOWED_ROLES_LIST = ('ANALYST', 'PUBLIC')",
    )
    .await;
    fails(&app, &alice, "USE ROLE reporter", "003001").await;
    ok(&app, &alice, "USE ROLE public").await;
    // The session's role taken off the list: the session ends at its next request.
    ok(
        &app,
        &admin,
        "ALTER SECURITY INTEGRATION okta SET EXTERNAL_OAUTH_ALLOWED_ROLES_LIST = ('ANALYST')",
    )
    .await;
    assert_failure(&app.query(&alice, "SELECT 1").await.1, "390111");
    assert_failure(&app.query(&alice, "SELECT 1").await.1, "390111");
    // A default role that is not allowed opens nothing.
    ok(
        &app,
        &admin,
        "ALTER SECURITY INTEGRATION okta SET EXTERNAL_OAUTH_ALLOWED_ROLES_LIST = ('REPORTER')",
    )
    .await;
    let token = sign(&claims(&app, "alice", "session:role-any"), "rsa1");
    assert_oauth_failure(&oauth(&app, &token).await, "390303");
}

/// An integration disabled, replaced or dropped ends the sessions it opened, at their next request (their
/// renewal included).
async fn oauth_sessions_end_with_their_integration(app: TestApp) {
    let admin = setup(&app).await;
    let open = || async {
        let v = oauth(
            &app,
            &sign(&claims(&app, "alice", "session:role:ANALYST"), "rsa1"),
        )
        .await;
        assert_eq!(v["success"], true, "{v}");
        Tokens {
            session: v["data"]["token"].as_str().unwrap().to_string(),
            master: v["data"]["masterToken"].as_str().unwrap().to_string(),
            session_id: v["data"]["sessionId"].as_u64().unwrap(),
        }
    };
    let replace = format!(
        "CREATE OR REPLACE {}",
        &create_sql(
            "okta",
            &format!("EXTERNAL_OAUTH_RSA_PUBLIC_KEY = '{}'", public_b64("rsa1"))
        )[7..]
    );
    for change in [
        "ALTER SECURITY INTEGRATION okta SET ENABLED = FALSE",
        // Replaced, even alike, it is another integration (as a user dropped and created again).
        &replace,
        "DROP SECURITY INTEGRATION okta",
    ] {
        app.advance(1);
        let (queried, renewed) = (open().await, open().await);
        ok(&app, &queried.session, "SELECT 1").await;
        ok(&app, &admin, change).await;
        assert_failure(&app.query(&queried.session, "SELECT 1").await.1, "390111");
        assert_failure(&renew(&app, &renewed).await, "390111");
        assert_failure(&app.query(&renewed.session, "SELECT 1").await.1, "390111");
        if change.starts_with("ALTER") {
            ok(
                &app,
                &admin,
                "ALTER SECURITY INTEGRATION okta SET ENABLED = TRUE",
            )
            .await;
        }
    }
    // The password session of the administrator is not affected.
    ok(&app, &admin, "SELECT 1").await;
}

async fn renew(app: &TestApp, t: &Tokens) -> Value {
    let body = json!({"oldSessionToken": t.session, "requestType": "RENEW"});
    app.post("/session/token-request", Some(&t.master), body)
        .await
        .1
}

/// The session ends with the access token (exp = login + 600 s, and the 60 s of clock skew tolerated
/// at login): its tokens live no longer, a renewal cannot extend it, and past it the driver gets
/// 390112 then 390114, as for an idle session.
async fn oauth_sessions_end_with_their_access_token(app: TestApp) {
    setup(&app).await;
    let v = oauth(
        &app,
        &sign(&claims(&app, "alice", "session:role:ANALYST"), "rsa1"),
    )
    .await;
    assert_eq!(v["success"], true, "{v}");
    assert!(
        v["data"]["masterValidityInSeconds"].as_u64().unwrap() <= 660,
        "{v}"
    );
    let tokens = Tokens {
        session: v["data"]["token"].as_str().unwrap().to_string(),
        master: v["data"]["masterToken"].as_str().unwrap().to_string(),
        session_id: v["data"]["sessionId"].as_u64().unwrap(),
    };
    app.advance(650);
    let renewed = renew(&app, &tokens).await;
    assert_eq!(renewed["success"], true, "{renewed}");
    assert!(
        renewed["data"]["validityInSecondsST"].as_u64().unwrap() <= 10,
        "{renewed}"
    );
    let session = renewed["data"]["sessionToken"]
        .as_str()
        .unwrap()
        .to_string();
    ok(&app, &session, "SELECT 1").await;
    app.advance(20);
    assert_failure(&app.query(&session, "SELECT 1").await.1, "390112");
    let again = Tokens { session, ..tokens };
    assert_failure(&renew(&app, &again).await, "390114");
    assert_failure(&app.query(&again.session, "SELECT 1").await.1, "390112");
}

/// An OAuth client's LOGIN_NAME is only what it typed: the history (and the audit line) name the
/// user the token proved, on success and on a refusal after the proof.
async fn the_audit_and_history_name_the_proven_user(app: TestApp) {
    let admin = setup(&app).await;
    let token = sign(&claims(&app, "alice", "session:role:ANALYST"), "rsa1");
    let mut body = oauth_body(&token);
    body["data"]["LOGIN_NAME"] = json!("embucket");
    let log = common::audit::capture(async {
        assert_eq!(app.post(LOGIN, None, body.clone()).await.1["success"], true);
    })
    .await;
    assert!(log.contains("user=\"ALICE\""), "{log}");
    assert!(
        !log.contains("EMBUCKET") && !log.contains("embucket"),
        "{log}"
    );
    ok(
        &app,
        &admin,
        "CREATE AUTHENTICATION POLICY no_oauth AUTHENTICATION_METHODS = ('PASSWORD')",
    )
    .await;
    ok(
        &app,
        &admin,
        "ALTER USER alice SET AUTHENTICATION POLICY no_oauth",
    )
    .await;
    assert_failure(&app.post(LOGIN, None, body).await.1, "390430");
    let history = |user: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let sql = format!(
                "SELECT IS_SUCCESS, FIRST_AUTHENTICATION_FACTOR FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY_BY_USER(USER_NAME => '{user}'))"
            );
            ok(app, &admin, &sql).await["data"]["rowset"].clone()
        }
    };
    let alice = history("ALICE").await;
    assert_eq!(alice.as_array().unwrap().len(), 2, "{alice}");
    let embucket = history("EMBUCKET").await;
    assert!(!embucket.to_string().contains("OAUTH"), "{embucket}");
}
