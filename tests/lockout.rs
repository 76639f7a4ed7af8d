//! Failed-login lockout: counted in the store (so every instance agrees), a driver's retry (same
//! request id and credential, within seconds) counted once, cleared by a success or by an
//! administrator, the same for unknown names and real users.

#[macro_use]
mod common;

use common::sql::ok;
use common::{TestApp, assert_failure, login_body};

const LOGIN: &str = "/session/v1/login-request";

async fn login_attempt(
    app: &TestApp,
    user: &str,
    password: &str,
    request_id: &str,
) -> serde_json::Value {
    app.post(
        &format!("{LOGIN}?request_id={request_id}"),
        None,
        login_body(user, password),
    )
    .await
    .1
}

on_every_store!(
    five_failures_lock_even_the_right_password,
    a_retried_login_counts_once,
    a_fixed_request_id_does_not_escape_the_lock,
    a_retry_counts_once_only_within_seconds,
    a_success_resets_the_count,
    an_administrator_unlocks_with_mins_to_unlock,
    unknown_names_lock_like_real_ones,
    parallel_failures_lock_exactly_at_the_limit,
);

async fn five_failures_lock_even_the_right_password(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER alice PASSWORD = 'right-pw'").await;
    for i in 0..5 {
        assert_failure(
            &login_attempt(&app, "alice", "wrong", &format!("r{i}")).await,
            "390100",
        );
    }
    let message = assert_failure(
        &login_attempt(&app, "alice", "right-pw", "r5").await,
        "390102",
    );
    assert!(message.contains("15 minutes"), "{message}");
    // Other users are not affected.
    app.login().await;
    // The lock ends by itself after the lockout time.
    app.advance(15 * 60 + 1);
    let v = login_attempt(&app, "alice", "right-pw", "r6").await;
    assert_eq!(v["success"], true, "{v}");
}

async fn a_retried_login_counts_once(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER bob PASSWORD = 'right-pw'").await;
    // A driver retrying one login (same request id) many times never locks the user.
    for _ in 0..12 {
        assert_failure(
            &login_attempt(&app, "bob", "wrong", "same-request").await,
            "390100",
        );
    }
    let v = login_attempt(&app, "bob", "right-pw", "next").await;
    assert_eq!(v["success"], true, "{v}");
}

async fn a_fixed_request_id_does_not_escape_the_lock(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER gina PASSWORD = 'right-pw'").await;
    // Every guess carries one request id, as a brute-force client may: each other password is
    // another attempt, so the fifth locks the user.
    for i in 0..5 {
        assert_failure(
            &login_attempt(&app, "gina", &format!("guess-{i}"), "fixed").await,
            "390100",
        );
    }
    assert_failure(
        &login_attempt(&app, "gina", "right-pw", "fixed").await,
        "390102",
    );
    // An unknown name is counted the same way.
    for i in 0..5 {
        login_attempt(&app, "nobody_at_all", &format!("guess-{i}"), "fixed").await;
    }
    assert_failure(
        &login_attempt(&app, "nobody_at_all", "guess-9", "fixed").await,
        "390102",
    );
}

async fn a_retry_counts_once_only_within_seconds(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER hank PASSWORD = 'right-pw'").await;
    // The same request id and the same password, a minute apart each time: no longer one login
    // being retried, so each counts.
    for _ in 0..5 {
        assert_failure(
            &login_attempt(&app, "hank", "wrong", "same-request").await,
            "390100",
        );
        app.advance(61);
    }
    assert_failure(
        &login_attempt(&app, "hank", "right-pw", "other").await,
        "390102",
    );
}

async fn a_success_resets_the_count(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER carol PASSWORD = 'right-pw'").await;
    for round in 0..3 {
        for i in 0..4 {
            let id = format!("{round}-{i}");
            assert_failure(&login_attempt(&app, "carol", "wrong", &id).await, "390100");
        }
        let v = login_attempt(&app, "carol", "right-pw", &format!("{round}-ok")).await;
        assert_eq!(v["success"], true, "round {round}: {v}");
    }
}

async fn an_administrator_unlocks_with_mins_to_unlock(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER dave PASSWORD = 'right-pw'").await;
    for i in 0..6 {
        login_attempt(&app, "dave", "wrong", &format!("d{i}")).await;
    }
    assert_failure(
        &login_attempt(&app, "dave", "right-pw", "d7").await,
        "390102",
    );
    let (_, v) = app
        .query(&admin, "ALTER USER dave SET MINS_TO_UNLOCK = 5")
        .await;
    assert_failure(&v, "002029");
    assert_failure(
        &login_attempt(&app, "dave", "right-pw", "d8").await,
        "390102",
    );
    ok(&app, &admin, "ALTER USER dave SET MINS_TO_UNLOCK = 0").await;
    let v = login_attempt(&app, "dave", "right-pw", "d9").await;
    assert_eq!(v["success"], true, "{v}");
}

async fn unknown_names_lock_like_real_ones(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER erin PASSWORD = 'right-pw'").await;
    let mut real = Vec::new();
    let mut fake = Vec::new();
    for i in 0..7 {
        real.push(login_attempt(&app, "erin", "wrong", &format!("e{i}")).await);
        fake.push(login_attempt(&app, "nobody_here", "wrong", &format!("n{i}")).await);
    }
    // Attempt by attempt, the answers are identical: nothing tells a real name from a made-up one.
    assert_eq!(real, fake);
    assert_eq!(real[4]["code"], "390100");
    assert_eq!(real[5]["code"], "390102");
}

async fn parallel_failures_lock_exactly_at_the_limit(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER frank PASSWORD = 'right-pw'").await;
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let app = std::sync::Arc::clone(&app);
            tokio::spawn(
                async move { login_attempt(&app, "frank", "wrong", &format!("p{i}")).await },
            )
        })
        .collect();
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap()["code"].as_str().unwrap().to_string());
    }
    // Every attempt was refused; the ones that ran before the lock got 390100, the rest 390102 (or
    // 390503 "busy, retry" if the hashing queue was full): never a success.
    assert!(
        codes
            .iter()
            .all(|c| ["390100", "390102", "390503"].contains(&c.as_str())),
        "{codes:?}"
    );
    assert!(
        codes.iter().filter(|c| *c == "390100").count() >= 5,
        "{codes:?}"
    );
    assert_failure(
        &login_attempt(&app, "frank", "right-pw", "after").await,
        "390102",
    );
}
