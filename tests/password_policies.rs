//! Password policies: new passwords are checked against the policy that governs the user (its own,
//! else the account's), old ones are remembered for PASSWORD_HISTORY, one's own password cannot be
//! changed again before PASSWORD_MIN_AGE_DAYS, an old one expires after PASSWORD_MAX_AGE_DAYS, and
//! the lockout follows the policy. With no policy at all, nothing changes from before policies.

#[macro_use]
mod common;

use common::names::ident;
use std::sync::Arc;

use common::sql::{fails, ok, password_login};
use common::{TestApp, assert_failure};
use snowgate::domain::directory::Directory;
use snowgate::domain::policies::{PasswordPolicy, PolicyMeta};

const DAY: u64 = 86_400;

on_every_store!(
    each_rule_refuses_exactly_the_passwords_it_should,
    without_a_policy_any_password_goes,
    the_users_policy_wins_over_the_accounts,
    history_refuses_the_last_passwords_only,
    min_age_holds_for_ones_own_password_only,
    an_expired_password_is_refused_at_login_until_reset,
    lockout_follows_the_policy,
    policies_set_with_sql_are_enforced,
);

fn dir(app: &TestApp) -> Directory {
    Directory::new(Arc::clone(&app.store))
}

async fn put_policy(app: &TestApp, policy: PasswordPolicy) {
    assert!(dir(app).put_policy_record(&policy, true).await.unwrap());
}

/// A policy with only the rules a test names: Snowflake's defaults otherwise, but no complexity,
/// no expiry and no history unless set.
fn lenient(name: &str) -> PasswordPolicy {
    PasswordPolicy {
        meta: PolicyMeta::named(name),
        password_min_length: 8,
        password_min_upper_case_chars: 0,
        password_min_lower_case_chars: 0,
        password_min_numeric_chars: 0,
        password_max_age_days: 0,
        password_history: 0,
        ..PasswordPolicy::default()
    }
}

async fn attach_to_account(app: &TestApp, policy: &str) {
    let dir = dir(app);
    let mut account = dir.account().await.unwrap();
    account.policies.password_policy = Some(policy.into());
    dir.set_account(&account).await.unwrap();
}

/// Stores `policy` and sets it on the account.
async fn govern_account(app: &TestApp, policy: PasswordPolicy) {
    let name = policy.meta.name.clone();
    put_policy(app, policy).await;
    attach_to_account(app, &name).await;
}

async fn attach_to_user(app: &TestApp, user: &str, policy: &str) {
    let dir = dir(app);
    let old = dir.user(ident(user).as_ident()).await.unwrap().unwrap();
    let mut new = old.clone();
    new.policies.password_policy = Some(policy.into());
    dir.update_user(&new, &old).await.unwrap();
}

async fn refused(app: &TestApp, admin: &str, sql: &str, rule: &str) {
    let v = fails(app, admin, sql, "002029").await;
    let message = v["message"].as_str().unwrap();
    assert!(message.contains(rule), "{sql}: {message}");
    assert!(
        message.starts_with("Password does not meet password policy requirements")
            || message.starts_with("Password cannot be changed yet"),
        "{message}"
    );
}

async fn each_rule_refuses_exactly_the_passwords_it_should(app: TestApp) {
    let admin = app.login().await.session;
    govern_account(
        &app,
        PasswordPolicy {
            password_min_length: 10,
            password_max_length: 16,
            password_min_upper_case_chars: 2,
            password_min_lower_case_chars: 2,
            password_min_numeric_chars: 2,
            password_min_special_chars: 1,
            ..lenient("STRICT")
        },
    )
    .await;
    let cases = [
        ("ABcd12!xyz", None),
        ("ABcd12!xyzxyzxyz", None),
        ("ABcd12!xy", Some("PASSWORD_MIN_LENGTH = 10")),
        ("ABcd12!xyzxyzxyzx", Some("PASSWORD_MAX_LENGTH = 16")),
        ("Abcd12!xyz", Some("PASSWORD_MIN_UPPER_CASE_CHARS = 2")),
        ("ABCD12!XYz", Some("PASSWORD_MIN_LOWER_CASE_CHARS = 2")),
        ("ABcd1!xyzw", Some("PASSWORD_MIN_NUMERIC_CHARS = 2")),
        ("ABcd12xyzw", Some("PASSWORD_MIN_SPECIAL_CHARS = 1")),
    ];
    for (i, (password, rule)) in cases.iter().enumerate() {
        let sql = format!("CREATE USER u{i} PASSWORD = '{password}'");
        match rule {
            None => {
                ok(&app, &admin, &sql).await;
                password_login(&app, None, &format!("u{i}"), password).await;
            }
            Some(rule) => {
                refused(&app, &admin, &sql, rule).await;
                let v = app.query(&admin, &sql).await.1;
                assert!(
                    !v.to_string().contains(password),
                    "the password is never echoed"
                );
                assert!(
                    dir(&app)
                        .user(ident(&format!("U{i}")).as_ident())
                        .await
                        .unwrap()
                        .is_none()
                );
            }
        }
    }
    // ALTER is checked too, and a refused change keeps the old password.
    refused(
        &app,
        &admin,
        "ALTER USER u0 SET PASSWORD = 'weak'",
        "MIN_LENGTH",
    )
    .await;
    let v = password_login(&app, None, "u0", "ABcd12!xyz").await;
    assert_eq!(v["success"], true, "{v}");
}

async fn without_a_policy_any_password_goes(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER ann PASSWORD = 'a'").await;
    ok(&app, &admin, "ALTER USER ann SET PASSWORD = 'a'").await;
    let v = password_login(&app, None, "ann", "a").await;
    assert_eq!(v["success"], true, "{v}");
    let ann = dir(&app)
        .user(ident("ANN").as_ident())
        .await
        .unwrap()
        .unwrap();
    assert!(
        ann.password_history.is_empty(),
        "no policy, no history kept"
    );
}

async fn the_users_policy_wins_over_the_accounts(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER ann PASSWORD = 'short'").await;
    put_policy(&app, lenient("ACCOUNT_WIDE")).await;
    put_policy(
        &app,
        PasswordPolicy {
            password_min_length: 20,
            ..lenient("FOR_ANN")
        },
    )
    .await;
    attach_to_account(&app, "ACCOUNT_WIDE").await;
    attach_to_user(&app, "ANN", "FOR_ANN").await;
    refused(
        &app,
        &admin,
        "ALTER USER ann SET PASSWORD = 'twelve-chars'",
        "PASSWORD_MIN_LENGTH = 20",
    )
    .await;
    ok(
        &app,
        &admin,
        "ALTER USER ann SET PASSWORD = 'twenty-characters-ok'",
    )
    .await;
    ok(&app, &admin, "CREATE USER bob PASSWORD = 'twelve-chars'").await;
    refused(&app, &admin, "CREATE USER cid PASSWORD = 'seven77'", "= 8").await;
}

async fn history_refuses_the_last_passwords_only(app: TestApp) {
    let admin = app.login().await.session;
    govern_account(
        &app,
        PasswordPolicy {
            password_history: 3,
            ..lenient("HIST")
        },
    )
    .await;
    ok(&app, &admin, "CREATE USER ann PASSWORD = 'password-1'").await;
    ok(&app, &admin, "ALTER USER ann SET PASSWORD = 'password-2'").await;
    ok(&app, &admin, "ALTER USER ann SET PASSWORD = 'password-3'").await;
    for old in ["password-1", "password-2", "password-3"] {
        let sql = format!("ALTER USER ann SET PASSWORD = '{old}'");
        refused(&app, &admin, &sql, "PASSWORD_HISTORY = 3").await;
    }
    ok(&app, &admin, "ALTER USER ann SET PASSWORD = 'password-4'").await;
    // password-1 is now the fourth last: allowed again.
    ok(&app, &admin, "ALTER USER ann SET PASSWORD = 'password-1'").await;
    let ann = dir(&app)
        .user(ident("ANN").as_ident())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ann.password_history.len(),
        2,
        "only what the policy compares is kept"
    );
    assert!(
        ann.password_history
            .iter()
            .all(|h| h.starts_with("$argon2"))
    );
    let v = password_login(&app, None, "ann", "password-1").await;
    assert_eq!(v["success"], true, "{v}");
}

async fn min_age_holds_for_ones_own_password_only(app: TestApp) {
    let admin = app.login().await.session;
    put_policy(
        &app,
        PasswordPolicy {
            password_min_age_days: 1,
            ..lenient("AGED")
        },
    )
    .await;
    ok(&app, &admin, "CREATE USER ann PASSWORD = 'password-1'").await;
    attach_to_account(&app, "AGED").await;
    // The administrator changes another user's password as often as needed.
    ok(&app, &admin, "ALTER USER ann SET PASSWORD = 'password-2'").await;
    ok(&app, &admin, "ALTER USER ann SET PASSWORD = 'password-3'").await;
    // Their own: once (the configured one has no recorded age), then not before a day has passed.
    ok(
        &app,
        &admin,
        "ALTER USER embucket SET PASSWORD = 'own-pass-1'",
    )
    .await;
    refused(
        &app,
        &admin,
        "ALTER USER embucket SET PASSWORD = 'own-pass-2'",
        "PASSWORD_MIN_AGE_DAYS = 1",
    )
    .await;
    app.advance(DAY);
    let admin = app.login_as("embucket", "own-pass-1").await.session;
    ok(
        &app,
        &admin,
        "ALTER USER embucket SET PASSWORD = 'own-pass-2'",
    )
    .await;
    let v = password_login(&app, None, "embucket", "own-pass-2").await;
    assert_eq!(v["success"], true, "{v}");
}

async fn an_expired_password_is_refused_at_login_until_reset(app: TestApp) {
    let admin = app.login().await.session;
    govern_account(
        &app,
        PasswordPolicy {
            password_max_age_days: 2,
            ..lenient("EXPIRING")
        },
    )
    .await;
    ok(&app, &admin, "CREATE USER ann PASSWORD = 'password-1'").await;
    app.advance(2 * DAY - 1);
    assert_eq!(
        password_login(&app, None, "ann", "password-1").await["success"],
        true
    );
    app.advance(1);
    let message = assert_failure(
        &password_login(&app, None, "ann", "password-1").await,
        "390106",
    );
    assert!(
        message.contains("Specified password has expired"),
        "{message}"
    );
    // Only whoever knows the password learns that it expired.
    assert_failure(
        &password_login(&app, None, "ann", "wrong-one").await,
        "390100",
    );
    // The configured demo user's password has no recorded age: it does not expire.
    let admin = app.login().await.session;
    ok(&app, &admin, "ALTER USER ann SET PASSWORD = 'password-2'").await;
    assert_eq!(
        password_login(&app, None, "ann", "password-2").await["success"],
        true
    );
}

async fn lockout_follows_the_policy(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER ann PASSWORD = 'password-1'").await;
    ok(&app, &admin, "CREATE USER bob PASSWORD = 'password-1'").await;
    put_policy(
        &app,
        PasswordPolicy {
            password_max_retries: 2,
            password_lockout_time_mins: 3,
            ..lenient("TWO_TRIES")
        },
    )
    .await;
    attach_to_user(&app, "ANN", "TWO_TRIES").await;
    for _ in 0..2 {
        assert_failure(&password_login(&app, None, "ann", "wrong").await, "390100");
    }
    let message = assert_failure(
        &password_login(&app, None, "ann", "password-1").await,
        "390102",
    );
    assert!(message.contains("after 3 minutes"), "{message}");
    // Bob has no policy: the settings' five attempts.
    for _ in 0..4 {
        assert_failure(&password_login(&app, None, "bob", "wrong").await, "390100");
    }
    assert_eq!(
        password_login(&app, None, "bob", "password-1").await["success"],
        true
    );
    app.advance(3 * 60);
    assert_eq!(
        password_login(&app, None, "ann", "password-1").await["success"],
        true
    );
}

async fn policies_set_with_sql_are_enforced(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER ann PASSWORD = 'anything'").await;
    ok(&app, &admin, "CREATE PASSWORD POLICY acct PASSWORD_MIN_LENGTH = 10 PASSWORD_MIN_UPPER_CASE_CHARS = 0 PASSWORD_MIN_NUMERIC_CHARS = 0").await;
    ok(
        &app,
        &admin,
        "CREATE PASSWORD POLICY mine PASSWORD_MIN_LENGTH = 12 PASSWORD_MAX_RETRIES = 1",
    )
    .await;
    ok(&app, &admin, "ALTER ACCOUNT SET PASSWORD POLICY acct").await;
    refused(
        &app,
        &admin,
        "CREATE USER bob PASSWORD = 'nine-char'",
        "PASSWORD_MIN_LENGTH = 10",
    )
    .await;
    ok(&app, &admin, "CREATE USER bob PASSWORD = 'ten-chars!'").await;
    ok(&app, &admin, "ALTER USER ann SET PASSWORD POLICY mine").await;
    refused(
        &app,
        &admin,
        "ALTER USER ann SET PASSWORD = 'Eleven-ch1!'",
        "PASSWORD_MIN_LENGTH = 12",
    )
    .await;
    ok(&app, &admin, "ALTER USER ann SET PASSWORD = 'Twelve-char1'").await;
    // The user's policy allows one failure before the lock.
    assert_failure(&password_login(&app, None, "ann", "wrong").await, "390100");
    assert_failure(
        &password_login(&app, None, "ann", "Twelve-char1").await,
        "390102",
    );
    ok(&app, &admin, "ALTER USER ann SET MINS_TO_UNLOCK = 0").await;
    // Unset on the user: the account's governs again; unset there too: no rules at all.
    ok(&app, &admin, "ALTER USER ann UNSET PASSWORD POLICY").await;
    ok(&app, &admin, "ALTER USER ann SET PASSWORD = 'ten-chars!'").await;
    ok(&app, &admin, "ALTER ACCOUNT UNSET PASSWORD POLICY").await;
    ok(&app, &admin, "ALTER USER ann SET PASSWORD = 'x'").await;
    assert_eq!(
        password_login(&app, None, "ann", "x").await["success"],
        true
    );
}
