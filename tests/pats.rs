//! Programmatic access tokens: SQL lifecycle, PAT logins (as TOKEN and as the password), rotation,
//! expiry, role restriction, the network policy requirement, who may manage whose tokens, the lock.
//! Each test runs on every store. The clock is moved, never waited for.

#[macro_use]
mod common;

use common::names::ident;
use common::sql::*;
use common::*;
use serde_json::{Value, json};

on_every_store!(
    pat_lifecycle,
    rotation_keeps_the_old_secret_for_its_grace,
    expiry_and_days_to_expiry,
    role_restriction_holds_the_session,
    network_policy_requirement_and_bypass,
    self_service_and_other_users_tokens,
    failed_pat_logins_lock_the_user,
    at_most_fifteen_tokens,
);

const IP: &str = "10.0.0.5";
const PASSWORD: &str = "Str0ng-Passw0rd!x";

/// An administrator session, an `office` network policy admitting [`IP`], and `user` (a PERSON
/// with a password) under it.
async fn setup<'a>(app: &'a TestApp, user: &str) -> common::sql::Session<'a> {
    let admin = app.admin().await;
    admin
        .ok("CREATE NETWORK POLICY IF NOT EXISTS office ALLOWED_IP_LIST=('10.0.0.0/8')")
        .await;
    admin
        .ok(&format!(
            "CREATE USER {user} PASSWORD='{PASSWORD}' NETWORK_POLICY=office"
        ))
        .await;
    admin
}

async fn session_of<'a>(app: &'a TestApp, user: &str) -> common::sql::Session<'a> {
    let v = password_login(app, Some(IP), user, PASSWORD).await;
    assert_eq!(v["success"], true, "{v}");
    app.session(v["data"]["token"].as_str().unwrap().to_string())
}

fn pat_body(user: &str, secret: &str) -> Value {
    json!({"data": {
        "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "5.2.0",
        "ACCOUNT_NAME": "acme", "LOGIN_NAME": user,
        "AUTHENTICATOR": "PROGRAMMATIC_ACCESS_TOKEN", "TOKEN": secret,
    }})
}

async fn pat_login_from(app: &TestApp, ip: &str, user: &str, secret: &str) -> Value {
    app.post_from(Some(ip), LOGIN, None, pat_body(user, secret))
        .await
        .1
}

async fn pat_login(app: &TestApp, user: &str, secret: &str) -> Value {
    pat_login_from(app, IP, user, secret).await
}

/// Asserts Snowflake's exact answer to a refused PAT.
fn assert_pat_invalid(v: &Value) {
    assert_eq!(
        v,
        &json!({
            "data": {"nextAction": "RETRY_LOGIN", "authnMethod": "PAT", "signInOptions": {}},
            "code": "394400",
            "message": "Programmatic access token is invalid.",
            "success": false,
            "headers": null
        })
    );
}

/// The secret of an ADD or ROTATE answer.
fn secret(v: &Value) -> String {
    let i = column(v, "token_secret");
    rows(v)[0][i].as_str().unwrap().to_string()
}

async fn show(
    session: &common::sql::Session<'_>,
    sql: &str,
) -> Vec<std::collections::BTreeMap<String, Value>> {
    listing(&session.ok(sql).await)
}

async fn pat_lifecycle(app: TestApp) {
    let _admin = setup(&app, "alice").await;
    let alice = session_of(&app, "alice").await;
    let added = alice
        .ok("ALTER USER ADD PROGRAMMATIC ACCESS TOKEN t1 COMMENT='ci'")
        .await;
    assert_eq!(column(&added, "token_name"), 0);
    assert_eq!(rows(&added)[0][0], "T1");
    let t1 = secret(&added);
    assert!(t1.len() >= 40, "{t1}");

    let listed = show(&alice, "SHOW USER PATS").await;
    assert_eq!(listed.len(), 1);
    let row = &listed[0];
    assert_eq!(row["name"], "T1");
    assert_eq!(row["user_name"], "ALICE");
    assert_eq!(row["status"], "ACTIVE");
    assert_eq!(row["comment"], "ci");
    assert_eq!(row["role_restriction"], Value::Null);
    assert_eq!(row["expires_at"], (START + 15 * 86_400).to_string());
    assert_eq!(row["created_on"], START.to_string());
    assert_eq!(row["rotated_to"], Value::Null);
    assert!(
        !listed[0].values().any(|v| v == &json!(t1)),
        "SHOW never shows the secret"
    );

    // As TOKEN, and as the password of a plain login.
    let v = pat_login(&app, "alice", &t1).await;
    assert_eq!(v["success"], true, "{v}");
    let s = app.session(v["data"]["token"].as_str().unwrap().to_string());
    let who = s.ok("SELECT CURRENT_USER()").await;
    assert_eq!(rows(&who)[0][0], "ALICE");
    let v = password_login(&app, Some(IP), "alice", &t1).await;
    assert_eq!(v["success"], true, "{v}");
    // The Node driver sends the PAT as PASSWORD with the PAT authenticator.
    let mut node = pat_body("alice", "");
    node["data"]["TOKEN"] = Value::Null;
    node["data"]["PASSWORD"] = json!(t1);
    let v = app.post_from(Some(IP), LOGIN, None, node).await.1;
    assert_eq!(v["success"], true, "{v}");

    let v = alice
        .ok("ALTER USER ADD PAT IF NOT EXISTS t1 DAYS_TO_EXPIRY = 3")
        .await;
    assert!(!v.to_string().contains("token_secret"), "{v}");
    alice.fails("ALTER USER ADD PAT t1", "002002").await;

    alice
        .ok("ALTER USER alice MODIFY PAT t1 SET DISABLED = TRUE")
        .await;
    assert_pat_invalid(&pat_login(&app, "alice", &t1).await);
    assert_eq!(
        show(&alice, "SHOW USER PATS").await[0]["status"],
        "DISABLED"
    );
    // A disabled PAT given as the password is just a wrong password.
    assert_failure(
        &password_login(&app, Some(IP), "alice", &t1).await,
        "390100",
    );
    alice
        .ok("ALTER USER MODIFY PAT t1 SET DISABLED = FALSE COMMENT = 'c2'")
        .await;
    assert_eq!(pat_login(&app, "alice", &t1).await["success"], true);
    alice.ok("ALTER USER MODIFY PAT t1 UNSET COMMENT").await;
    alice
        .ok("ALTER USER MODIFY PROGRAMMATIC ACCESS TOKEN t1 RENAME TO t2")
        .await;
    let listed = show(&alice, "SHOW USER PROGRAMMATIC ACCESS TOKENS").await;
    assert_eq!(listed[0]["name"], "T2");
    assert_eq!(listed[0]["comment"], Value::Null);
    assert_eq!(pat_login(&app, "alice", &t1).await["success"], true);
    alice
        .fails("ALTER USER MODIFY PAT t1 SET COMMENT = 'x'", "002003")
        .await;

    alice.ok("ALTER USER REMOVE PAT t2").await;
    alice.fails("ALTER USER REMOVE PAT t2", "002003").await;
    assert_pat_invalid(&pat_login(&app, "alice", &t1).await);
    assert_failure(
        &password_login(&app, Some(IP), "alice", &t1).await,
        "390100",
    );
    assert!(show(&alice, "SHOW USER PATS").await.is_empty());
    // The password still works, and a garbage token is refused the same way.
    assert_eq!(
        password_login(&app, Some(IP), "alice", PASSWORD).await["success"],
        true
    );
    assert_pat_invalid(&pat_login(&app, "alice", "garbage").await);
    assert_pat_invalid(&pat_login(&app, "nobody", "garbage").await);
}

async fn rotation_keeps_the_old_secret_for_its_grace(app: TestApp) {
    let _admin = setup(&app, "alice").await;
    let alice = session_of(&app, "alice").await;
    let old = secret(&alice.ok("ALTER USER ADD PAT t").await);
    let rotated = alice.ok("ALTER USER ROTATE PAT t").await;
    assert_eq!(column(&rotated, "rotated_token_name"), 2);
    assert_eq!(rows(&rotated)[0][0], "T");
    assert_eq!(rows(&rotated)[0][2], "T_ROTATED_1");
    let new = secret(&rotated);
    assert_ne!(old, new);
    let listed = show(&alice, "SHOW USER PATS").await;
    let old_row = listed.iter().find(|r| r["name"] == "T_ROTATED_1").unwrap();
    assert_eq!(old_row["rotated_to"], "T");
    assert_eq!(old_row["status"], "ACTIVE");
    alice
        .fails("ALTER USER ROTATE PAT t_rotated_1", "002029")
        .await;
    assert_eq!(pat_login(&app, "alice", &old).await["success"], true);
    assert_eq!(pat_login(&app, "alice", &new).await["success"], true);
    app.advance(24 * 3_600);
    assert_pat_invalid(&pat_login(&app, "alice", &old).await);
    assert_eq!(pat_login(&app, "alice", &new).await["success"], true);

    // EXPIRE_ROTATED_TOKEN_AFTER_HOURS = 0: the old secret stops at once.
    let alice = session_of(&app, "alice").await;
    let newer = secret(
        &alice
            .ok("ALTER USER ROTATE PAT t EXPIRE_ROTATED_TOKEN_AFTER_HOURS = 0")
            .await,
    );
    assert_pat_invalid(&pat_login(&app, "alice", &new).await);
    assert_eq!(pat_login(&app, "alice", &newer).await["success"], true);
    alice
        .fails(
            "ALTER USER ROTATE PAT t EXPIRE_ROTATED_TOKEN_AFTER_HOURS = 'x'",
            "002029",
        )
        .await;
    alice.fails("ALTER USER ROTATE PAT nope", "002003").await;
}

async fn expiry_and_days_to_expiry(app: TestApp) {
    let _admin = setup(&app, "alice").await;
    let alice = session_of(&app, "alice").await;
    let t = secret(&alice.ok("ALTER USER ADD PAT t DAYS_TO_EXPIRY = 1").await);
    assert_eq!(pat_login(&app, "alice", &t).await["success"], true);
    app.advance(86_400);
    assert_pat_invalid(&pat_login(&app, "alice", &t).await);
    let alice = session_of(&app, "alice").await;
    assert_eq!(show(&alice, "SHOW USER PATS").await[0]["status"], "EXPIRED");
    for bad in ["0", "366", "'abc'", "99999999999999999999", "1.5", "abc"] {
        alice
            .fails(
                &format!("ALTER USER ADD PAT u DAYS_TO_EXPIRY = {bad}"),
                "002029",
            )
            .await;
    }
    alice
        .fails("ALTER USER ADD PAT u DAYS_TO_EXPIRY = -1", "001003")
        .await;
    alice.ok("ALTER USER ADD PAT u DAYS_TO_EXPIRY = 365").await;
    // Listed for 30 days after expiry, then pruned at the next change.
    app.advance(31 * 86_400);
    let alice = session_of(&app, "alice").await;
    alice.ok("ALTER USER ADD PAT v").await;
    let names: Vec<_> = show(&alice, "SHOW USER PATS")
        .await
        .into_iter()
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("U"), json!("V")]);
}

async fn role_restriction_holds_the_session(app: TestApp) {
    let admin = setup(&app, "alice").await;
    admin
        .script(&[
            ("CREATE ROLE analyst", OK),
            ("CREATE ROLE reporter", OK),
            ("CREATE USER svc TYPE = SERVICE NETWORK_POLICY = office", OK),
            ("GRANT ROLE analyst TO USER svc", OK),
            ("GRANT ROLE reporter TO USER svc", OK),
            ("ALTER USER svc ADD PAT t", "002029"),
            (
                "ALTER USER svc ADD PAT t ROLE_RESTRICTION = sysadmin",
                "002029",
            ),
        ])
        .await;
    let t = secret(
        &admin
            .ok("ALTER USER svc ADD PAT t ROLE_RESTRICTION = analyst")
            .await,
    );
    assert_eq!(
        show(&admin, "SHOW USER PATS FOR USER svc").await[0]["role_restriction"],
        "ANALYST"
    );
    // A SERVICE user logs in with its PAT, as TOKEN or as the password; never with a password.
    let v = pat_login(&app, "svc", &t).await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["data"]["sessionInfo"]["roleName"], "ANALYST");
    assert_eq!(
        password_login(&app, Some(IP), "svc", &t).await["success"],
        true
    );
    let svc = app.session(v["data"]["token"].as_str().unwrap().to_string());
    svc.fails("USE ROLE reporter", "003001").await;
    svc.ok("USE ROLE analyst").await;
    // Asking for another role at login is refused.
    let mut other = pat_body("svc", &t);
    other["data"]["roleName"] = json!("REPORTER");
    assert_failure(
        &app.post_from(Some(IP), LOGIN, None, other).await.1,
        "390189",
    );
    // Revoking the role ends the session at its next request, and the token logs in no more.
    admin.ok("REVOKE ROLE analyst FROM USER svc").await;
    let (_, v) = app.query(&svc, "SELECT 1").await;
    assert_failure(&v, "390111");
    assert_failure(&pat_login(&app, "svc", &t).await, "390189");
}

async fn network_policy_requirement_and_bypass(app: TestApp) {
    let admin = setup(&app, "alice").await;
    admin
        .ok(&format!("CREATE USER bob PASSWORD='{PASSWORD}'"))
        .await;
    let t = secret(&admin.ok("ALTER USER bob ADD PAT t").await);
    let v = pat_login(&app, "bob", &t).await;
    assert_eq!(assert_failure(&v, "390432"), "Network policy is required.");
    assert_failure(&password_login(&app, Some(IP), "bob", &t).await, "390432");
    admin
        .ok("ALTER USER bob MODIFY PAT t SET MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT = 10")
        .await;
    assert_eq!(pat_login(&app, "bob", &t).await["success"], true);
    assert_eq!(
        show(&admin, "SHOW USER PATS FOR USER bob").await[0]["mins_to_bypass_network_policy_requirement"],
        "10"
    );
    app.advance(600);
    assert_failure(&pat_login(&app, "bob", &t).await, "390432");
    // Under a network policy, the policy applies.
    let admin = app.admin().await;
    admin.ok("ALTER USER bob SET NETWORK_POLICY = office").await;
    assert_eq!(pat_login(&app, "bob", &t).await["success"], true);
    assert_failure(
        &pat_login_from(&app, "192.0.2.1", "bob", &t).await,
        "390422",
    );
    // A service user without one cannot even get a token, unless the requirement is bypassed.
    admin.ok("CREATE ROLE loader").await;
    admin.ok("CREATE USER svc TYPE = SERVICE").await;
    admin.ok("GRANT ROLE loader TO USER svc").await;
    admin
        .fails(
            "ALTER USER svc ADD PAT t ROLE_RESTRICTION = loader",
            "002029",
        )
        .await;
    admin
        .ok("ALTER USER svc ADD PAT t ROLE_RESTRICTION = loader MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT = 5")
        .await;
}

async fn self_service_and_other_users_tokens(app: TestApp) {
    let admin = setup(&app, "alice").await;
    admin
        .ok(&format!("CREATE USER bob PASSWORD='{PASSWORD}'"))
        .await;
    admin
        .ok("CREATE USER uadmin PASSWORD='Str0ng-Passw0rd!x' NETWORK_POLICY = office")
        .await;
    admin.ok("GRANT ROLE useradmin TO USER uadmin").await;
    let alice = session_of(&app, "alice").await;
    // Alice, in PUBLIC, manages her own tokens, named or not, but nobody else's.
    alice.ok("ALTER USER alice ADD PAT mine").await;
    alice
        .ok("ALTER USER IF EXISTS alice MODIFY PAT mine SET COMMENT = 'x'")
        .await;
    alice.ok("SHOW USER PATS FOR USER alice").await;
    alice.fails("ALTER USER bob ADD PAT hers", "003001").await;
    alice.fails("SHOW USER PATS FOR USER bob", "003001").await;
    alice.fails("ALTER USER bob REMOVE PAT x", "003001").await;
    // Nor can she tell who exists.
    alice
        .fails("ALTER USER nobody REMOVE PAT x", "003001")
        .await;
    alice
        .fails("ALTER USER IF EXISTS nobody REMOVE PAT x", "003001")
        .await;
    alice
        .fails("SHOW USER PATS FOR USER nobody", "003001")
        .await;
    // Other administration is still refused before it is parsed.
    alice.fails("CREATE USER mallory", "003001").await;
    alice
        .fails("ALTER USER bob SET COMMENT = 'x'", "003001")
        .await;
    // USERADMIN manages bob's tokens, but not those of an ACCOUNTADMIN.
    let v = password_login(&app, Some(IP), "uadmin", PASSWORD).await;
    let uadmin = app.session(v["data"]["token"].as_str().unwrap().to_string());
    uadmin.ok("USE ROLE useradmin").await;
    uadmin.ok("CREATE USER carol").await;
    uadmin.ok("ALTER USER carol ADD PAT given").await;
    assert_eq!(
        show(&uadmin, "SHOW USER PATS FOR USER carol").await[0]["created_by"],
        "USERADMIN"
    );
    // Bob was made by ACCOUNTADMIN: changing him (his tokens too) needs that role.
    uadmin.fails("ALTER USER bob ADD PAT x", "003001").await;
    admin.ok("ALTER USER bob ADD PAT given").await;
    uadmin
        .fails("ALTER USER embucket ADD PAT x", "003001")
        .await;
    uadmin
        .fails("SHOW USER PATS FOR USER embucket", "003001")
        .await;
    uadmin.fails("ALTER USER nobody ADD PAT x", "002003").await;
    uadmin.ok("ALTER USER IF EXISTS nobody ADD PAT x").await;
    // Bob's tokens are bob's: alice's list has only hers.
    let names: Vec<_> = show(&alice, "SHOW USER PATS")
        .await
        .into_iter()
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("MINE")]);
}

async fn failed_pat_logins_lock_the_user(app: TestApp) {
    let _admin = setup(&app, "alice").await;
    let alice = session_of(&app, "alice").await;
    let t = secret(&alice.ok("ALTER USER ADD PAT t").await);
    for i in 0..5 {
        let mut body = pat_body("alice", &format!("wrong-{i}"));
        body["data"]["CLIENT_APP_VERSION"] = json!(format!("{i}"));
        let v = app
            .post_from(Some(IP), &format!("{LOGIN}?request_id=r{i}"), None, body)
            .await
            .1;
        assert_pat_invalid(&v);
    }
    assert_failure(&pat_login(&app, "alice", &t).await, "390102");
}

async fn at_most_fifteen_tokens(app: TestApp) {
    let _admin = setup(&app, "alice").await;
    let alice = session_of(&app, "alice").await;
    for i in 0..15 {
        alice.ok(&format!("ALTER USER ADD PAT t{i}")).await;
    }
    let v = alice.fails("ALTER USER ADD PAT t15", "002029").await;
    assert!(v["message"].as_str().unwrap().contains("15"), "{v}");
    assert_eq!(show(&alice, "SHOW USER PATS").await.len(), 15);
    let long = "n".repeat(256);
    alice
        .fails(&format!("ALTER USER ADD PAT {long}"), "001003")
        .await;
    alice.ok("ALTER USER REMOVE PAT t0").await;
    let comment = "c".repeat(257);
    alice
        .fails(
            &format!("ALTER USER ADD PAT t15 COMMENT = '{comment}'"),
            "002029",
        )
        .await;
    alice.ok("ALTER USER ADD PAT t15").await;
}

/// The authentication policy's PAT_POLICY, written straight to the directory (its DDL is another
/// slice's) and attached to the user: evaluation modes, expiry bounds, the service-user rule.
#[tokio::test]
async fn the_authentication_policy_governs_pats() {
    use snowgate::domain::directory::Directory;
    use snowgate::domain::policies::{
        AuthenticationPolicy, NetworkPolicyEvaluation, PatPolicy, PolicyMeta,
    };
    use std::sync::Arc;

    let store = Arc::new(snowgate::store::memory::MemoryStore::new());
    let app = TestApp::with_store(store.clone(), "test-secret");
    let directory = Directory::new(store);
    let admin = setup(&app, "alice").await;
    admin
        .ok(&format!("CREATE USER bob PASSWORD='{PASSWORD}'"))
        .await;
    admin
        .ok("CREATE NETWORK POLICY closed ALLOWED_IP_LIST=('192.0.2.0/24')")
        .await;
    let attach = |evaluation| {
        let directory = &directory;
        async move {
            let policy = AuthenticationPolicy {
                meta: PolicyMeta::named("PATS"),
                pat_policy: PatPolicy {
                    default_expiry_in_days: 7,
                    max_expiry_in_days: 30,
                    network_policy_evaluation: evaluation,
                    require_role_restriction_for_service_users: false,
                    ..PatPolicy::default()
                },
                ..AuthenticationPolicy::default()
            };
            directory.put_policy_record(&policy, true).await.unwrap();
            let bob = directory
                .user(ident("BOB").as_ident())
                .await
                .unwrap()
                .unwrap();
            let mut changed = bob.clone();
            changed.policies.authentication_policy = Some("PATS".into());
            directory.update_user(&changed, &bob).await.unwrap();
        }
    };
    attach(NetworkPolicyEvaluation::NotEnforced).await;
    admin
        .fails("ALTER USER bob ADD PAT t DAYS_TO_EXPIRY = 31", "002029")
        .await;
    let t = secret(&admin.ok("ALTER USER bob ADD PAT t").await);
    let listed = show(&admin, "SHOW USER PATS FOR USER bob").await;
    assert_eq!(listed[0]["expires_at"], (START + 7 * 86_400).to_string());
    // NOT_ENFORCED: no network policy needed, and one that refuses the address is ignored.
    assert_eq!(pat_login(&app, "bob", &t).await["success"], true);
    admin.ok("ALTER USER bob SET NETWORK_POLICY = closed").await;
    assert_eq!(pat_login(&app, "bob", &t).await["success"], true);
    // ENFORCED_NOT_REQUIRED: a policy there is checked; none is fine.
    attach(NetworkPolicyEvaluation::EnforcedNotRequired).await;
    assert_failure(&pat_login(&app, "bob", &t).await, "390422");
    admin.ok("ALTER USER bob UNSET NETWORK_POLICY").await;
    assert_eq!(pat_login(&app, "bob", &t).await["success"], true);
    // The default again: required.
    attach(NetworkPolicyEvaluation::EnforcedRequired).await;
    assert_failure(&pat_login(&app, "bob", &t).await, "390432");
    // Service users need no role restriction under this policy.
    admin
        .ok("CREATE USER svc TYPE = SERVICE NETWORK_POLICY = office")
        .await;
    let svc = directory
        .user(ident("SVC").as_ident())
        .await
        .unwrap()
        .unwrap();
    let mut changed = svc.clone();
    changed.policies.authentication_policy = Some("PATS".into());
    directory.update_user(&changed, &svc).await.unwrap();
    admin.ok("ALTER USER svc ADD PAT t").await;
}
