//! Session policies: a session ends after SESSION_IDLE_TIMEOUT_MINS without a request (its user's
//! policy, else the account's, else the configured default), and every authenticated request keeps
//! it alive. Time moves with the injected clock; nothing sleeps.

#[macro_use]
mod common;

use common::names::ident;
use std::sync::Arc;

use common::counting::CountingStore;
use common::sql::ok;
use common::{START, TestApp, Tokens, assert_failure};
use serde_json::{Value, json};
use snowgate::domain::Settings;
use snowgate::domain::directory::Directory;
use snowgate::domain::policies::{PolicyMeta, SessionPolicy};
use snowgate::store::Store;

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

/// Token lifetimes long enough that only the idle limit ends a session within a few days.
fn settings() -> Settings {
    Settings {
        session_ttl: 10 * DAY,
        master_ttl: 10 * DAY,
        session_idle_seconds: 4 * HOUR,
        ..Settings::default()
    }
}

macro_rules! on_every_store_with_long_tokens {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::*;
            #[tokio::test]
            async fn memory() {
                let store = Arc::new(snowgate::store::memory::MemoryStore::new());
                super::$name(app(store)).await
            }
            #[tokio::test]
            async fn sqlite() {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let store = snowgate::store::sqlite::SqliteStore::open(dir.path()).await.unwrap();
                super::$name(app(Arc::new(store))).await
            }
            #[tokio::test]
            #[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
            async fn dynamodb() {
                let client = aws_sdk_dynamodb::Client::new(&common::aws::sdk_config().await);
                let table = common::aws::create_table(&client).await;
                let store = snowgate::store::dynamo::DynamoStore::new(client, table);
                super::$name(app(Arc::new(store))).await
            }
        }
    )*};
}

fn app(store: Arc<dyn Store>) -> TestApp {
    TestApp::with_exact_settings(store, "test-secret", settings())
}

on_every_store_with_long_tokens!(
    an_idle_session_expires_then_its_renewal_ends_it,
    activity_keeps_a_session_alive_for_days,
    a_query_counts_as_activity,
    the_users_policy_wins_over_the_accounts,
    a_policy_change_applies_to_new_sessions,
    policies_set_with_sql_govern_new_sessions,
);

async fn login(app: &TestApp, user: &str, password: &str) -> (Tokens, Value) {
    let (_, v) = app
        .post(
            "/session/v1/login-request",
            None,
            common::login_body(user, password),
        )
        .await;
    assert_eq!(v["success"], true, "{v}");
    let tokens = Tokens {
        session: v["data"]["token"].as_str().unwrap().to_string(),
        master: v["data"]["masterToken"].as_str().unwrap().to_string(),
        session_id: v["data"]["sessionId"].as_u64().unwrap(),
    };
    (tokens, v)
}

async fn heartbeat(app: &TestApp, token: &str) -> Value {
    app.post("/session/heartbeat", Some(token), json!({}))
        .await
        .1
}

async fn renew(app: &TestApp, t: &Tokens) -> Value {
    let body = json!({"oldSessionToken": t.session, "requestType": "RENEW"});
    app.post("/session/token-request", Some(&t.master), body)
        .await
        .1
}

/// Past the limit: the session token gets 390112 (drivers renew), the renewal 390114, and the
/// session is gone.
async fn assert_idle_ended(app: &TestApp, t: &Tokens) {
    assert_failure(&heartbeat(app, &t.session).await, "390112");
    assert_failure(&renew(app, t).await, "390114");
    assert_failure(&heartbeat(app, &t.session).await, "390111");
    assert_failure(&renew(app, t).await, "390111");
}

async fn session_policy(app: &TestApp, name: &str, mins: u32) {
    let policy = SessionPolicy {
        meta: PolicyMeta::named(name),
        session_idle_timeout_mins: mins,
        ..SessionPolicy::default()
    };
    let dir = Directory::new(Arc::clone(&app.store));
    assert!(dir.put_policy_record(&policy, false).await.unwrap());
}

async fn attach_to_user(app: &TestApp, user: &str, policy: &str) {
    let dir = Directory::new(Arc::clone(&app.store));
    let old = dir.user(ident(user).as_ident()).await.unwrap().unwrap();
    let mut new = old.clone();
    new.policies.session_policy = Some(policy.into());
    dir.update_user(&new, &old).await.unwrap();
}

async fn attach_to_account(app: &TestApp, policy: Option<&str>) {
    let dir = Directory::new(Arc::clone(&app.store));
    let mut account = dir.account().await.unwrap();
    account.policies.session_policy = policy.map(str::to_string);
    dir.set_account(&account).await.unwrap();
}

async fn an_idle_session_expires_then_its_renewal_ends_it(app: TestApp) {
    let (t, v) = login(&app, "embucket", "embucket").await;
    // Drivers derive their keep-alive heartbeat from this: it is the idle limit.
    assert_eq!(v["data"]["masterValidityInSeconds"], 4 * HOUR);
    app.advance(4 * HOUR - 1);
    assert_eq!(heartbeat(&app, &t.session).await["success"], true);
    app.advance(4 * HOUR);
    assert_idle_ended(&app, &t).await;
}

async fn activity_keeps_a_session_alive_for_days(app: TestApp) {
    let (t, _) = login(&app, "embucket", "embucket").await;
    let mut token = t.session.clone();
    for step in 0..24 {
        app.advance(3 * HOUR);
        if step % 4 == 3 {
            // A renewal counts as activity too, and its token carries on.
            let v = renew(
                &app,
                &Tokens {
                    session: token.clone(),
                    master: t.master.clone(),
                    session_id: t.session_id,
                },
            )
            .await;
            assert_eq!(v["success"], true, "{v}");
            assert_eq!(v["data"]["masterValidityInSeconds"], 4 * HOUR);
            token = v["data"]["sessionToken"].as_str().unwrap().to_string();
        } else {
            assert_eq!(
                heartbeat(&app, &token).await["success"],
                true,
                "step {step}"
            );
        }
    }
    assert!(app.clock.load(std::sync::atomic::Ordering::SeqCst) >= START + 3 * DAY);
    app.advance(4 * HOUR);
    let t = Tokens {
        session: token,
        ..t
    };
    assert_idle_ended(&app, &t).await;
}

async fn a_query_counts_as_activity(app: TestApp) {
    let (t, _) = login(&app, "embucket", "embucket").await;
    for _ in 0..6 {
        app.advance(3 * HOUR);
        let v = app.query(&t.session, "SELECT CURRENT_USER()").await.1;
        assert_eq!(v["success"], true, "{v}");
    }
    // Requests within a few seconds of each other (one write, then none) keep the last one's time.
    app.advance(3 * HOUR);
    ok(&app, &t.session, "USE ROLE PUBLIC").await;
    app.advance(10);
    assert_eq!(heartbeat(&app, &t.session).await["success"], true);
    app.advance(4 * HOUR - 60);
    assert_eq!(heartbeat(&app, &t.session).await["success"], true);
    app.advance(4 * HOUR);
    let v = app.query(&t.session, "SELECT 1").await.1;
    assert_failure(&v, "390112");
    assert_failure(&renew(&app, &t).await, "390114");
}

async fn the_users_policy_wins_over_the_accounts(app: TestApp) {
    let admin = login(&app, "embucket", "embucket").await.0.session;
    ok(&app, &admin, "CREATE USER ann PASSWORD = 'pw-123456'").await;
    ok(&app, &admin, "CREATE USER bob PASSWORD = 'pw-123456'").await;
    session_policy(&app, "SHORT", 10).await;
    session_policy(&app, "LONG", 60).await;
    attach_to_account(&app, Some("SHORT")).await;
    attach_to_user(&app, "ANN", "LONG").await;
    let (ann, v) = login(&app, "ann", "pw-123456").await;
    assert_eq!(v["data"]["masterValidityInSeconds"], 60 * 60);
    let (bob, v) = login(&app, "bob", "pw-123456").await;
    assert_eq!(v["data"]["masterValidityInSeconds"], 10 * 60);
    app.advance(30 * 60);
    assert_eq!(heartbeat(&app, &ann.session).await["success"], true);
    assert_idle_ended(&app, &bob).await;
    app.advance(60 * 60);
    assert_idle_ended(&app, &ann).await;
}

async fn a_policy_change_applies_to_new_sessions(app: TestApp) {
    let (before, _) = login(&app, "embucket", "embucket").await;
    session_policy(&app, "SHORT", 10).await;
    attach_to_account(&app, Some("SHORT")).await;
    let (after, _) = login(&app, "embucket", "embucket").await;
    app.advance(11 * 60);
    assert_eq!(heartbeat(&app, &before.session).await["success"], true);
    assert_idle_ended(&app, &after).await;
    // Unset: the configured default governs new sessions again.
    attach_to_account(&app, None).await;
    let (later, v) = login(&app, "embucket", "embucket").await;
    assert_eq!(v["data"]["masterValidityInSeconds"], 4 * HOUR);
    app.advance(11 * 60);
    assert_eq!(heartbeat(&app, &later.session).await["success"], true);
}

async fn policies_set_with_sql_govern_new_sessions(app: TestApp) {
    let admin = login(&app, "embucket", "embucket").await.0.session;
    ok(&app, &admin, "CREATE USER ann PASSWORD = 'pw-123456'").await;
    ok(
        &app,
        &admin,
        "CREATE SESSION POLICY acct SESSION_IDLE_TIMEOUT_MINS = 15",
    )
    .await;
    ok(
        &app,
        &admin,
        "CREATE SESSION POLICY long_idle SESSION_IDLE_TIMEOUT_MINS = 120",
    )
    .await;
    ok(&app, &admin, "ALTER ACCOUNT SET SESSION POLICY acct").await;
    ok(&app, &admin, "ALTER USER ann SET SESSION POLICY long_idle").await;
    let (ann, v) = login(&app, "ann", "pw-123456").await;
    assert_eq!(v["data"]["masterValidityInSeconds"], 120 * 60);
    let (me, v) = login(&app, "embucket", "embucket").await;
    assert_eq!(v["data"]["masterValidityInSeconds"], 15 * 60);
    app.advance(60 * 60);
    assert_idle_ended(&app, &me).await;
    assert_eq!(heartbeat(&app, &ann.session).await["success"], true);
}

#[tokio::test]
async fn a_chatty_client_writes_its_activity_once_a_minute() {
    // Chatty clients must not write on every request.
    let store = Arc::new(CountingStore::memory());
    let app = TestApp::with_exact_settings(store.clone(), "test-secret", settings());
    let touches = || store.count("touch");
    let (t, _) = login(&app, "embucket", "embucket").await;
    for _ in 0..30 {
        assert_eq!(heartbeat(&app, &t.session).await["success"], true);
        app.advance(1);
    }
    assert_eq!(touches(), 0, "the login counts as activity for a minute");
    app.advance(30);
    app.query(&t.session, "SELECT 1").await;
    assert_eq!(touches(), 1, "one write a minute after the login");
    for _ in 0..59 {
        app.advance(1);
        assert_eq!(heartbeat(&app, &t.session).await["success"], true);
    }
    assert_eq!(touches(), 1, "none in the minute after that write");
    app.advance(1);
    assert_eq!(heartbeat(&app, &t.session).await["success"], true);
    assert_eq!(touches(), 2);
}
