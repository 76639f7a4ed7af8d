//! Rights are checked on every request: a session of a user who was disabled, dropped, or lost the
//! session's role stops at its next request (heartbeat, query or renewal), as does a session whose
//! PAT or RSA key was removed, disabled, rotated away or replaced; a renewed session token's
//! predecessor works only for a short grace period.

#[macro_use]
mod common;

use std::sync::OnceLock;

use common::keys::TestKey;
use common::sql::ok;
use common::{START, TestApp, Tokens, assert_failure, login_body};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const LOGIN: &str = "/session/v1/login-request";

async fn login(app: &TestApp, user: &str) -> Tokens {
    let (_, v) = app.post(LOGIN, None, login_body(user, "pw-123456")).await;
    assert_eq!(v["success"], true, "{v}");
    Tokens {
        session: v["data"]["token"].as_str().unwrap().to_string(),
        master: v["data"]["masterToken"].as_str().unwrap().to_string(),
        session_id: v["data"]["sessionId"].as_u64().unwrap(),
    }
}

async fn heartbeat(app: &TestApp, token: &str) -> serde_json::Value {
    app.post("/session/heartbeat", Some(token), json!({}))
        .await
        .1
}

async fn renew(app: &TestApp, t: &Tokens) -> serde_json::Value {
    let body = json!({"oldSessionToken": t.session, "requestType": "RENEW"});
    app.post("/session/token-request", Some(&t.master), body)
        .await
        .1
}

on_every_store!(
    a_disabled_user_stops_at_the_next_request,
    a_dropped_user_stops_at_the_next_request,
    a_revoked_session_role_ends_the_session,
    other_roles_may_change_without_ending_the_session,
    the_renewed_token_predecessor_has_a_grace_period,
    a_revoked_pat_ends_its_sessions,
    a_replaced_or_unset_key_ends_its_sessions,
    a_superseded_token_cannot_log_out,
);

async fn a_disabled_user_stops_at_the_next_request(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER ann PASSWORD = 'pw-123456'").await;
    let ann = login(&app, "ann").await;
    assert_eq!(heartbeat(&app, &ann.session).await["success"], true);
    ok(&app, &admin, "ALTER USER ann SET DISABLED = TRUE").await;
    assert_failure(&heartbeat(&app, &ann.session).await, "390101");
    // The session is gone for good, even once the user is enabled again.
    ok(&app, &admin, "ALTER USER ann SET DISABLED = FALSE").await;
    assert_failure(
        &app.query(&ann.session, "SELECT CURRENT_USER()").await.1,
        "390111",
    );
    assert_failure(&renew(&app, &ann).await, "390111");
}

async fn a_dropped_user_stops_at_the_next_request(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER ben PASSWORD = 'pw-123456'").await;
    let ben = login(&app, "ben").await;
    ok(&app, &admin, "DROP USER ben").await;
    assert_failure(&renew(&app, &ben).await, "390111");
    // A new user of the same name does not inherit the session.
    ok(&app, &admin, "CREATE USER ben PASSWORD = 'pw-123456'").await;
    assert_failure(&heartbeat(&app, &ben.session).await, "390111");
}

async fn a_revoked_session_role_ends_the_session(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE ROLE analyst").await;
    ok(
        &app,
        &admin,
        "CREATE USER cid PASSWORD = 'pw-123456' DEFAULT_ROLE = analyst",
    )
    .await;
    ok(&app, &admin, "GRANT ROLE analyst TO USER cid").await;
    let cid = login(&app, "cid").await;
    let (_, v) = app.query(&cid.session, "SELECT CURRENT_ROLE()").await;
    assert_eq!(v["data"]["rowset"], json!([["ANALYST"]]));
    ok(&app, &admin, "REVOKE ROLE analyst FROM USER cid").await;
    assert_failure(
        &app.query(&cid.session, "SELECT CURRENT_ROLE()").await.1,
        "390111",
    );
}

async fn other_roles_may_change_without_ending_the_session(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE ROLE analyst").await;
    ok(&app, &admin, "CREATE ROLE other").await;
    ok(
        &app,
        &admin,
        "CREATE USER dee PASSWORD = 'pw-123456' DEFAULT_ROLE = analyst",
    )
    .await;
    ok(&app, &admin, "GRANT ROLE analyst TO USER dee").await;
    ok(&app, &admin, "GRANT ROLE other TO USER dee").await;
    let dee = login(&app, "dee").await;
    ok(&app, &admin, "REVOKE ROLE other FROM USER dee").await;
    ok(&app, &admin, "ALTER USER dee SET COMMENT = 'still here'").await;
    assert_eq!(heartbeat(&app, &dee.session).await["success"], true);
}

async fn the_renewed_token_predecessor_has_a_grace_period(app: TestApp) {
    let t = app.login().await;
    let v = renew(&app, &t).await;
    let renewed = v["data"]["sessionToken"].as_str().unwrap().to_string();
    // In the grace period both tokens work (a driver's other threads still hold the old one).
    assert_eq!(heartbeat(&app, &t.session).await["success"], true);
    assert_eq!(heartbeat(&app, &renewed).await["success"], true);
    app.advance(snowgate::domain::gatekeeper::RENEW_GRACE_SECONDS);
    // Then the old one answers "expired", which makes a driver renew; the new one goes on.
    assert_failure(&heartbeat(&app, &t.session).await, "390112");
    assert_eq!(heartbeat(&app, &renewed).await["success"], true);
    // A second renewal retires the first renewed token the same way.
    let second = renew(
        &app,
        &Tokens {
            session: renewed.clone(),
            ..t
        },
    )
    .await;
    let second = second["data"]["sessionToken"].as_str().unwrap().to_string();
    app.advance(snowgate::domain::gatekeeper::RENEW_GRACE_SECONDS);
    assert_failure(&heartbeat(&app, &renewed).await, "390112");
    assert_eq!(heartbeat(&app, &second).await["success"], true);
}

fn tokens(v: &Value) -> Tokens {
    assert_eq!(v["success"], true, "{v}");
    Tokens {
        session: v["data"]["token"].as_str().unwrap().to_string(),
        master: v["data"]["masterToken"].as_str().unwrap().to_string(),
        session_id: v["data"]["sessionId"].as_u64().unwrap(),
    }
}

const OFFICE: &str = "10.0.0.5";

/// A PAT login of `user` from the office.
async fn pat_login(app: &TestApp, user: &str, secret: &str) -> Tokens {
    let body = json!({"data": {
        "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "5.2.0",
        "ACCOUNT_NAME": "acme", "LOGIN_NAME": user,
        "AUTHENTICATOR": "PROGRAMMATIC_ACCESS_TOKEN", "TOKEN": secret,
    }});
    tokens(&app.post_from(Some(OFFICE), LOGIN, None, body).await.1)
}

/// Two sessions of one credential: one is tried with a query, the other with a renewal first,
/// so that each path is seen to refuse on its own.
async fn assert_ended(app: &TestApp, (queried, renewed): &(Tokens, Tokens), what: &str) {
    let (_, v) = app.query(&queried.session, "SELECT 1").await;
    assert_eq!(v["code"], "390111", "{what}: the query: {v}");
    let v = renew(app, renewed).await;
    assert_eq!(v["code"], "390111", "{what}: the renewal: {v}");
    assert_failure(&heartbeat(app, &renewed.session).await, "390111");
}

async fn assert_alive(app: &TestApp, (queried, renewed): &(Tokens, Tokens), what: &str) {
    let (_, v) = app.query(&queried.session, "SELECT 1").await;
    assert_eq!(v["success"], true, "{what}: {v}");
    assert_eq!(renew(app, renewed).await["success"], true, "{what}");
}

async fn a_revoked_pat_ends_its_sessions(app: TestApp) {
    let admin = app.login().await.session;
    ok(
        &app,
        &admin,
        "CREATE NETWORK POLICY office ALLOWED_IP_LIST=('10.0.0.0/8')",
    )
    .await;
    ok(
        &app,
        &admin,
        "CREATE USER eve PASSWORD = 'pw-123456' NETWORK_POLICY = office",
    )
    .await;
    let mut secrets = std::collections::BTreeMap::new();
    for name in ["removed", "disabled", "rotated", "renamed", "kept"] {
        let v = ok(&app, &admin, &format!("ALTER USER eve ADD PAT {name}")).await;
        secrets.insert(
            name,
            v["data"]["rowset"][0][1].as_str().unwrap().to_string(),
        );
    }
    let mut sessions = std::collections::BTreeMap::new();
    for (name, secret) in &secrets {
        let pair = (
            pat_login(&app, "eve", secret).await,
            pat_login(&app, "eve", secret).await,
        );
        sessions.insert(*name, pair);
    }
    let password = tokens(
        &app.post_from(Some(OFFICE), LOGIN, None, login_body("eve", "pw-123456"))
            .await
            .1,
    );

    ok(&app, &admin, "ALTER USER eve REMOVE PAT removed").await;
    ok(
        &app,
        &admin,
        "ALTER USER eve MODIFY PAT disabled SET DISABLED = TRUE",
    )
    .await;
    ok(
        &app,
        &admin,
        "ALTER USER eve ROTATE PAT rotated EXPIRE_ROTATED_TOKEN_AFTER_HOURS = 0",
    )
    .await;
    // Neither a new name nor a change to another token touches a session.
    ok(
        &app,
        &admin,
        "ALTER USER eve MODIFY PAT renamed RENAME TO other_name",
    )
    .await;
    ok(
        &app,
        &admin,
        "ALTER USER eve MODIFY PAT kept SET COMMENT = 'still good'",
    )
    .await;

    assert_ended(&app, &sessions["removed"], "removed").await;
    assert_ended(&app, &sessions["disabled"], "disabled").await;
    assert_ended(&app, &sessions["rotated"], "rotated with no grace").await;
    assert_alive(&app, &sessions["renamed"], "renamed").await;
    assert_alive(&app, &sessions["kept"], "kept").await;
    assert_eq!(heartbeat(&app, &password.session).await["success"], true);
    // A new password leaves open sessions alone, as Snowflake does: only a revocable credential
    // that opened a session (a PAT, a key) ends it.
    ok(&app, &admin, "ALTER USER eve SET PASSWORD = 'pw-7654321'").await;
    assert_eq!(heartbeat(&app, &password.session).await["success"], true);
    assert_alive(&app, &sessions["kept"], "kept, after a password change").await;
    // Enabled again, the token logs in again, but the ended sessions stay ended.
    ok(
        &app,
        &admin,
        "ALTER USER eve MODIFY PAT disabled SET DISABLED = FALSE",
    )
    .await;
    pat_login(&app, "eve", &secrets["disabled"]).await;
    let (_, v) = app.query(&sessions["disabled"].0.session, "SELECT 1").await;
    assert_failure(&v, "390111");
}

/// Three 2048-bit keys, made once per test binary.
fn keys() -> &'static [TestKey] {
    static KEYS: OnceLock<Vec<TestKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..3).map(|_| s.spawn(TestKey::generate)).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    })
}

/// A key-pair login of KEYS_USER signed with `key`.
async fn key_login(app: &TestApp, key: &TestKey) -> Tokens {
    let claims = json!({
        "iss": format!("ACME.KEYS_USER.{}", key.fp),
        "sub": "ACME.KEYS_USER",
        "iat": START,
        "exp": START + 60,
    });
    let jwt = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_der(&key.pkcs1_der),
    )
    .expect("sign JWT");
    let body = json!({"data": {
        "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "3.12.0",
        "ACCOUNT_NAME": "acme", "LOGIN_NAME": "keys_user",
        "AUTHENTICATOR": "SNOWFLAKE_JWT", "TOKEN": jwt,
    }});
    tokens(&app.post(LOGIN, None, body).await.1)
}

async fn a_replaced_or_unset_key_ends_its_sessions(app: TestApp) {
    let [a, b, c] = keys() else { unreachable!() };
    let admin = app.login().await.session;
    ok(
        &app,
        &admin,
        &format!(
            "CREATE USER keys_user RSA_PUBLIC_KEY = '{}' RSA_PUBLIC_KEY_2 = '{}'",
            a.public_b64, b.public_b64
        ),
    )
    .await;
    let with_a = (key_login(&app, a).await, key_login(&app, a).await);
    let with_b = (key_login(&app, b).await, key_login(&app, b).await);
    // Key A replaced by C: A's sessions end, B's go on.
    ok(
        &app,
        &admin,
        &format!(
            "ALTER USER keys_user SET RSA_PUBLIC_KEY = '{}'",
            c.public_b64
        ),
    )
    .await;
    assert_ended(&app, &with_a, "key replaced").await;
    assert_alive(&app, &with_b, "the other key").await;
    let with_c = (key_login(&app, c).await, key_login(&app, c).await);
    // Key B unset: its sessions end; C's go on.
    ok(&app, &admin, "ALTER USER keys_user UNSET RSA_PUBLIC_KEY_2").await;
    assert_ended(&app, &with_b, "key unset").await;
    assert_alive(&app, &with_c, "the key left").await;
    // A key moved to the other slot is still the user's: its sessions go on.
    ok(
        &app,
        &admin,
        &format!(
            "ALTER USER keys_user SET RSA_PUBLIC_KEY_2 = '{}'",
            c.public_b64
        ),
    )
    .await;
    ok(&app, &admin, "ALTER USER keys_user UNSET RSA_PUBLIC_KEY").await;
    assert_alive(&app, &with_c, "the key moved to RSA_PUBLIC_KEY_2").await;
}

async fn logout(app: &TestApp, token: &str) -> serde_json::Value {
    app.post("/session?delete=true", Some(token), json!({}))
        .await
        .1
}

async fn a_superseded_token_cannot_log_out(app: TestApp) {
    let t = app.login().await;
    let v = renew(&app, &t).await;
    let renewed = v["data"]["sessionToken"].as_str().unwrap().to_string();
    app.advance(snowgate::domain::gatekeeper::RENEW_GRACE_SECONDS);
    // Past the grace, the replaced token is refused like at any request, and the session lives on.
    assert_failure(&logout(&app, &t.session).await, "390112");
    assert_eq!(heartbeat(&app, &renewed).await["success"], true);
    // The current token logs out.
    assert_eq!(logout(&app, &renewed).await["success"], true);
    assert_failure(&heartbeat(&app, &renewed).await, "390111");
}
