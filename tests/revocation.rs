//! Rights are checked on every request: a session of a user who was disabled, dropped, or lost the
//! session's role stops at its next request (heartbeat, query or renewal), and a renewed session
//! token's predecessor works only for a short grace period.

#[macro_use]
mod common;

use common::sql::ok;
use common::{TestApp, Tokens, assert_failure, login_body};
use serde_json::json;

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
