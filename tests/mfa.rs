//! TOTP multi-factor sign-in: enrolment statements, passcode and passcode-in-password logins, push
//! alone refused for enrolled users, replay and the ±1 step window, the lockout, the MFA token cache
//! and `MFA_ENROLLMENT = REQUIRED`. Each test runs on every store. The clock is moved, never waited for.

#[macro_use]
mod common;

use common::sql::*;
use common::*;
use serde_json::{Value, json};
use snowgate::domain::mfa::Seed;

on_every_store!(
    enrolment_statements,
    passcode_logins,
    push_alone_and_unenrolled_users,
    reused_codes_and_the_window,
    wrong_codes_count_toward_the_lock,
    wrong_codes_under_one_request_id_lock,
    mfa_token_cache,
    enrolment_required_by_policy,
    hostile_passcodes,
);

const PASSWORD: &str = "Str0ng-Passw0rd!x";
const MFA_REQUIRED: &str = "394507";
const PASSCODE_INVALID: &str = "394508";

fn body(user: &str, extra: Value) -> Value {
    let data = json!({
        "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "5.2.0",
        "ACCOUNT_NAME": "acme", "LOGIN_NAME": user, "PASSWORD": PASSWORD,
    });
    merged(data, extra)
}

/// `{"data": base}` with `extra`'s fields laid over `base`.
fn merged(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().expect("an object") {
        base[k] = v.clone();
    }
    json!({ "data": base })
}

async fn login(app: &TestApp, user: &str, extra: Value) -> Value {
    app.post(LOGIN, None, body(user, extra)).await.1
}

/// A login with only the account and `user` besides `fields`: no client, no password of its own.
async fn bare_login(app: &TestApp, user: &str, fields: Value) -> Value {
    let data = json!({"ACCOUNT_NAME": "acme", "LOGIN_NAME": user});
    app.post(LOGIN, None, merged(data, fields)).await.1
}

fn now(app: &TestApp) -> u64 {
    app.clock.load(std::sync::atomic::Ordering::SeqCst)
}

fn code(seed: &Seed, app: &TestApp, steps_ahead: i64) -> String {
    let step = (now(app) / 30).saturating_add_signed(steps_ahead);
    seed.code_at(step)
}

/// Creates `user` with a password and enrols them (as themself); the seed from the URI.
async fn enrolled(app: &TestApp, user: &str) -> Seed {
    let admin = app.admin().await;
    admin
        .ok(&format!("CREATE USER {user} PASSWORD='{PASSWORD}'"))
        .await;
    let v = password_login(app, None, user, PASSWORD).await;
    let me = app.session(v["data"]["token"].as_str().expect("a token").to_string());
    let answer = me.ok("ALTER USER ADD MFA METHOD TOTP").await;
    let uri = rows(&answer)[0][2].as_str().expect("a URI").to_string();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains("issuer=snowgate"), "{uri}");
    let secret = uri
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .expect("a secret");
    Seed::from_base32(secret).expect("a seed")
}

async fn enrolment_statements(app: TestApp) {
    let seed = enrolled(&app, "alice").await;
    let admin = app.admin().await;
    let shown = admin.ok("SHOW MFA METHODS FOR USER alice").await;
    let listed = listing(&shown);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["type"], "TOTP");
    // The seed is never shown again, nor stored in the clear.
    assert!(!shown.to_string().contains(&seed.base32()));
    let desc = admin.ok("DESCRIBE USER alice").await;
    assert!(!desc.to_string().contains(&seed.base32()));
    // A second enrolment is refused; removing and adding again gives a new seed.
    admin
        .fails("ALTER USER alice ADD MFA METHOD TOTP", "002029")
        .await;
    admin.ok("ALTER USER alice REMOVE MFA METHOD TOTP").await;
    assert!(listing(&admin.ok("SHOW MFA METHODS FOR USER alice").await).is_empty());
    admin
        .fails("ALTER USER alice REMOVE MFA METHOD TOTP", "002003")
        .await;
    admin
        .ok("ALTER USER IF EXISTS nobody REMOVE MFA METHOD TOTP")
        .await;
    // Removed: a password alone works again.
    assert_eq!(
        password_login(&app, None, "alice", PASSWORD).await["success"],
        true
    );
    // Another user's methods need more than PUBLIC.
    admin
        .ok(&format!("CREATE USER bob PASSWORD='{PASSWORD}'"))
        .await;
    let v = password_login(&app, None, "bob", PASSWORD).await;
    let bob = app.session(v["data"]["token"].as_str().unwrap().to_string());
    bob.fails("SHOW MFA METHODS FOR USER alice", "003001").await;
    bob.fails("ALTER USER alice ADD MFA METHOD TOTP", "003001")
        .await;
    assert!(listing(&bob.ok("SHOW MFA METHODS").await).is_empty());
}

async fn passcode_logins(app: TestApp) {
    let seed = enrolled(&app, "alice").await;
    let v = login(
        &app,
        "alice",
        json!({"EXT_AUTHN_DUO_METHOD": "passcode", "PASSCODE": code(&seed, &app, 0)}),
    )
    .await;
    assert_eq!(v["success"], true, "{v}");
    assert!(v["data"]["mfaToken"].is_null(), "{v}");
    app.advance(30);
    // Python: the code appended to the password, only the method sent.
    let v = bare_login(
        &app,
        "alice",
        json!({"PASSWORD": format!("{PASSWORD}{}", code(&seed, &app, 0)),
            "EXT_AUTHN_DUO_METHOD": "passcode"}),
    )
    .await;
    assert_eq!(v["success"], true, "{v}");
    app.advance(30);
    // Node: its flag, and its AUTHENTICATOR.
    let v = bare_login(
        &app,
        "alice",
        json!({"AUTHENTICATOR": "USERNAME_PASSWORD_MFA",
            "PASSWORD": format!("{PASSWORD}{}", code(&seed, &app, 0)),
            "EXT_AUTHN_DUO_METHOD": "passcode", "passcodeInPassword": true}),
    )
    .await;
    assert_eq!(v["success"], true, "{v}");
    // The history names the second factor.
    let admin = app.admin().await;
    let history = admin
        .ok("SELECT * FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY_BY_USER(USER_NAME => 'ALICE'))")
        .await;
    assert!(
        listing(&history)
            .iter()
            .any(|r| r["SECOND_AUTHENTICATION_FACTOR"] == "TOTP"),
        "{history}"
    );
    // A wrong password with a right code is still a wrong password.
    app.advance(30);
    let v = bare_login(
        &app,
        "alice",
        json!({"PASSWORD": format!("wrong{}", code(&seed, &app, 0)),
            "EXT_AUTHN_DUO_METHOD": "passcode"}),
    )
    .await;
    assert_failure(&v, "390100");
}

async fn push_alone_and_unenrolled_users(app: TestApp) {
    enrolled(&app, "alice").await;
    let admin = app.admin().await;
    admin
        .ok(&format!("CREATE USER bob PASSWORD='{PASSWORD}'"))
        .await;
    // JDBC sends push on every login: not a request for MFA.
    let push = json!({"EXT_AUTHN_DUO_METHOD": "push"});
    assert_failure(&login(&app, "alice", push.clone()).await, MFA_REQUIRED);
    assert_failure(&login(&app, "alice", json!({})).await, MFA_REQUIRED);
    assert_eq!(login(&app, "bob", push).await["success"], true);
    assert_eq!(login(&app, "bob", json!({})).await["success"], true);
    // A wrong password of an enrolled user says nothing about MFA.
    let v = app
        .post(LOGIN, None, login_body("alice", "wrong-password"))
        .await
        .1;
    assert_failure(&v, "390100");
}

async fn reused_codes_and_the_window(app: TestApp) {
    let seed = enrolled(&app, "alice").await;
    let with = |c: String| json!({"EXT_AUTHN_DUO_METHOD": "passcode", "PASSCODE": c});
    let c = code(&seed, &app, 0);
    assert_eq!(login(&app, "alice", with(c.clone())).await["success"], true);
    assert_failure(&login(&app, "alice", with(c)).await, PASSCODE_INVALID);
    // The next step is accepted early (one step of clock skew); then the current one is stale.
    assert_eq!(
        login(&app, "alice", with(code(&seed, &app, 1))).await["success"],
        true
    );
    assert_failure(
        &login(&app, "alice", with(code(&seed, &app, 0))).await,
        PASSCODE_INVALID,
    );
    // Two steps off is refused; one step late is accepted.
    app.advance(120);
    assert_failure(
        &login(&app, "alice", with(code(&seed, &app, 2))).await,
        PASSCODE_INVALID,
    );
    assert_failure(
        &login(&app, "alice", with(code(&seed, &app, -2))).await,
        PASSCODE_INVALID,
    );
    assert_eq!(
        login(&app, "alice", with(code(&seed, &app, -1))).await["success"],
        true
    );
}

async fn wrong_codes_count_toward_the_lock(app: TestApp) {
    let seed = enrolled(&app, "alice").await;
    let good = code(&seed, &app, 0);
    let wrong = if good == "000000" { "111111" } else { "000000" };
    let with = |c: &str| json!({"EXT_AUTHN_DUO_METHOD": "passcode", "PASSCODE": c});
    for _ in 0..5 {
        assert_failure(&login(&app, "alice", with(wrong)).await, PASSCODE_INVALID);
    }
    // Locked: even the right code is refused.
    assert_failure(&login(&app, "alice", with(&good)).await, "390102");
}

async fn wrong_codes_under_one_request_id_lock(app: TestApp) {
    let seed = enrolled(&app, "alice").await;
    let good = code(&seed, &app, 0);
    let fixed = format!("{LOGIN}?requestId=fixed");
    let with = |c: &str| json!({"EXT_AUTHN_DUO_METHOD": "passcode", "PASSCODE": c});
    // The right password, a new wrong code each time, one request id: each code is a guess.
    let wrong: Vec<String> = (0..7u32)
        .map(|i| format!("{:06}", (i * 111_111 + 1) % 1_000_000))
        .filter(|c| *c != good)
        .take(5)
        .collect();
    for c in &wrong {
        let v = app.post(&fixed, None, body("alice", with(c))).await.1;
        assert_failure(&v, PASSCODE_INVALID);
    }
    let v = app.post(&fixed, None, body("alice", with(&good))).await.1;
    assert_failure(&v, "390102");
    // The same with the code appended to the password (Python's passcode_in_password).
    admin_unlocks(&app, "alice").await;
    for c in &wrong {
        let fields =
            json!({"PASSWORD": format!("{PASSWORD}{c}"), "EXT_AUTHN_DUO_METHOD": "passcode"});
        let data = merged(
            json!({"ACCOUNT_NAME": "acme", "LOGIN_NAME": "alice"}),
            fields,
        );
        assert_failure(&app.post(&fixed, None, data).await.1, PASSCODE_INVALID);
    }
    let v = app.post(&fixed, None, body("alice", with(&good))).await.1;
    assert_failure(&v, "390102");
}

async fn admin_unlocks(app: &TestApp, user: &str) {
    let admin = app.admin().await;
    admin
        .ok(&format!("ALTER USER {user} SET MINS_TO_UNLOCK = 0"))
        .await;
}

async fn mfa_token_cache(app: TestApp) {
    let seed = enrolled(&app, "alice").await;
    let asking = |c: String| {
        json!({"EXT_AUTHN_DUO_METHOD": "passcode", "PASSCODE": c,
            "SESSION_PARAMETERS": {"CLIENT_REQUEST_MFA_TOKEN": true}})
    };
    // Not allowed by the account: no token.
    let v = login(&app, "alice", asking(code(&seed, &app, 0))).await;
    assert_eq!(v["success"], true, "{v}");
    assert!(v["data"]["mfaToken"].is_null(), "{v}");
    let admin = app.admin().await;
    admin
        .ok("ALTER ACCOUNT SET ALLOW_CLIENT_MFA_CACHING = TRUE")
        .await;
    app.advance(30);
    let v = login(&app, "alice", asking(code(&seed, &app, 0))).await;
    assert_eq!(v["success"], true, "{v}");
    let token = v["data"]["mfaToken"]
        .as_str()
        .expect("an MFA token")
        .to_string();
    assert_eq!(v["data"]["mfaTokenValidityInSeconds"], 14_400);
    // The token with the password skips the passcode.
    let cached = json!({"TOKEN": token});
    assert_eq!(login(&app, "alice", cached.clone()).await["success"], true);
    // A wrong one asks for the passcode; without the password it is nothing.
    assert_failure(
        &login(&app, "alice", json!({"TOKEN": "sgmfa_wrong"})).await,
        MFA_REQUIRED,
    );
    let v = bare_login(&app, "alice", json!({"PASSWORD": "wrong", "TOKEN": token})).await;
    assert_failure(&v, "390100");
    // Bound to its user.
    enrolled(&app, "bob").await;
    assert_failure(&login(&app, "bob", cached.clone()).await, MFA_REQUIRED);
    // Caching turned off: the token no longer counts.
    admin
        .ok("ALTER ACCOUNT UNSET ALLOW_CLIENT_MFA_CACHING")
        .await;
    assert_failure(&login(&app, "alice", cached.clone()).await, MFA_REQUIRED);
    admin
        .ok("ALTER ACCOUNT SET ALLOW_CLIENT_MFA_CACHING = TRUE")
        .await;
    assert_eq!(login(&app, "alice", cached.clone()).await["success"], true);
    // Expired after four hours.
    app.advance(4 * 3600);
    assert_failure(&login(&app, "alice", cached).await, MFA_REQUIRED);
}

async fn enrolment_required_by_policy(app: TestApp) {
    let seed = enrolled(&app, "alice").await;
    let admin = app.admin().await;
    admin
        .ok(&format!("CREATE USER bob PASSWORD='{PASSWORD}'"))
        .await;
    admin
        .ok("CREATE AUTHENTICATION POLICY mfa_required MFA_ENROLLMENT = REQUIRED")
        .await;
    admin
        .ok("ALTER USER alice SET AUTHENTICATION POLICY mfa_required")
        .await;
    admin
        .ok("ALTER USER bob SET AUTHENTICATION POLICY mfa_required")
        .await;
    let with = |c: String| json!({"EXT_AUTHN_DUO_METHOD": "passcode", "PASSCODE": c});
    assert_eq!(
        login(&app, "alice", with(code(&seed, &app, 0))).await["success"],
        true
    );
    // Not enrolled: a password alone is refused by the policy.
    let v = login(&app, "bob", json!({})).await;
    assert_failure(&v, "390430");
    // Enrolled but no passcode: the passcode is asked for first.
    assert_failure(&login(&app, "alice", json!({})).await, MFA_REQUIRED);
}

async fn hostile_passcodes(app: TestApp) {
    enrolled(&app, "alice").await;
    let admin = app.admin().await;
    let with = |c: &str| json!({"EXT_AUTHN_DUO_METHOD": "passcode", "PASSCODE": c});
    for (i, bad) in [
        "12345",
        "1234567",
        "abcdef",
        "１２３４５６",
        "12 456",
        "",
        "-12345",
    ]
    .into_iter()
    .enumerate()
    {
        // Each counts toward the lock: lifted every few.
        if i % 4 == 3 {
            admin.ok("ALTER USER alice SET MINS_TO_UNLOCK = 0").await;
        }
        let v = login(&app, "alice", with(bad)).await;
        assert_failure(&v, PASSCODE_INVALID);
        assert!(!v.to_string().contains(bad) || bad.is_empty(), "{v}");
    }
    let long = "9".repeat(100_000);
    let v = app.post(LOGIN, None, body("alice", with(&long))).await.1;
    assert_failure(&v, "390400");
    assert!(!v.to_string().contains(&long[..64]));
    // Not a string: refused as a malformed body.
    let v = login(&app, "alice", json!({"PASSCODE": 123456})).await;
    assert_eq!(v["success"], false, "{v}");
    let v = login(
        &app,
        "alice",
        json!({"EXT_AUTHN_DUO_METHOD": "x".repeat(10_000)}),
    )
    .await;
    assert_failure(&v, "390400");
}
