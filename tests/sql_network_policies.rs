//! Network policies: their lifecycle, the account's policy (applied to logins, never locking out
//! the administrator who sets, alters or replaces it).
//! Each test runs on the in-memory store and on DynamoDB (moto_server).

#[macro_use]
mod common;

use common::sql::*;
use common::*;
use serde_json::json;

on_every_store!(
    network_policy_lifecycle,
    account_network_policy_guards_the_caller_and_applies_to_logins,
    the_active_account_policy_cannot_be_altered_to_lock_out_the_caller,
    replacing_the_account_policy_cannot_lock_out_the_caller,
    a_users_own_policy_does_not_tell_that_the_user_exists,
);

async fn network_policy_lifecycle(app: TestApp) {
    let admin = app.admin().await;
    let v = admin.ok("CREATE NETWORK POLICY office ALLOWED_IP_LIST=('10.0.0.0/8', '192.168.1.7', '2001:db8::/32') \
         BLOCKED_IP_LIST=('10.1.0.0/16') COMMENT='office ranges'",
    )
    .await;
    assert!(rows(&v)[0][0].as_str().unwrap().contains("OFFICE"));
    admin
        .script(&[
            (
                "CREATE NETWORK POLICY office ALLOWED_IP_LIST=('10.0.0.0/8')",
                "002002",
            ),
            (
                "CREATE NETWORK POLICY IF NOT EXISTS office ALLOWED_IP_LIST=('1.1.1.1')",
                OK,
            ),
            (
                "CREATE NETWORK POLICY vpn ALLOWED_IP_LIST=('172.16.0.0/12')",
                OK,
            ),
        ])
        .await;

    let v = admin.ok("DESC NETWORK POLICY office").await;
    assert_eq!(
        rows(&v),
        vec![
            vec![
                json!("ALLOWED_IP_LIST"),
                json!("10.0.0.0/8,192.168.1.7,2001:db8::/32")
            ],
            vec![json!("BLOCKED_IP_LIST"), json!("10.1.0.0/16")],
        ]
    );
    let v = admin.ok("SHOW NETWORK POLICIES").await;
    let policies = listing(&v);
    assert_eq!(policies.len(), 2, "{v}");
    let office = policies.iter().find(|p| p["name"] == "OFFICE").unwrap();
    assert_eq!(office["entries_in_allowed_ip_list"], "3");
    assert_eq!(office["entries_in_blocked_ip_list"], "1");
    assert_eq!(office["comment"], "office ranges");
    assert_eq!(
        admin.names("SHOW NETWORK POLICIES LIKE 'v%'").await,
        ["VPN"]
    );

    admin
        .ok("ALTER NETWORK POLICY office SET ALLOWED_IP_LIST=('10.0.0.0/8') COMMENT='smaller'")
        .await;
    admin
        .ok("ALTER NETWORK POLICY office UNSET BLOCKED_IP_LIST")
        .await;
    let v = admin.ok("DESC NETWORK POLICY office").await;
    assert_eq!(
        rows(&v),
        vec![
            vec![json!("ALLOWED_IP_LIST"), json!("10.0.0.0/8")],
            vec![json!("BLOCKED_IP_LIST"), json!("")],
        ]
    );
    let v = admin.ok("SHOW NETWORK POLICIES LIKE 'office'").await;
    let office = &listing(&v)[0];
    assert_eq!(
        (
            &office["entries_in_allowed_ip_list"],
            &office["entries_in_blocked_ip_list"],
            &office["comment"]
        ),
        (&json!("1"), &json!("0"), &json!("smaller"))
    );
    // An invalid ALTER changes nothing.
    admin
        .fails(
            "ALTER NETWORK POLICY office SET ALLOWED_IP_LIST=('10.0.0.0/99')",
            "002029",
        )
        .await;
    let v = admin.ok("DESC NETWORK POLICY office").await;
    assert_eq!(rows(&v)[0][1], "10.0.0.0/8");
    admin
        .fails("ALTER NETWORK POLICY ghost SET COMMENT='x'", "002003")
        .await;
    admin
        .ok("ALTER NETWORK POLICY IF EXISTS ghost SET COMMENT='x'")
        .await;

    // Attached to a user: not droppable.
    admin
        .ok("CREATE USER bob PASSWORD='pw123456' NETWORK_POLICY=office")
        .await;
    assert_eq!(admin.desc_user("bob").await["NETWORK_POLICY"], "OFFICE");
    let v = admin.fails("DROP NETWORK POLICY office", "002029").await;
    assert!(v["message"].as_str().unwrap().contains("OFFICE"));
    admin
        .script(&[
            ("DROP NETWORK POLICY IF EXISTS office", "002029"),
            ("DESC NETWORK POLICY office", OK),
            ("ALTER USER bob UNSET NETWORK_POLICY", OK),
            ("DROP NETWORK POLICY office", OK),
            ("DESC NETWORK POLICY office", "002003"),
        ])
        .await;

    // Attached to the account: not droppable either.
    admin
        .ok("CREATE NETWORK POLICY local ALLOWED_IP_LIST=('127.0.0.0/8')")
        .await;
    let (_, v) = app
        .query_from(
            Some("127.0.0.1"),
            &admin,
            "ALTER ACCOUNT SET NETWORK_POLICY = local",
        )
        .await;
    assert_eq!(v["success"], true, "{v}");
    admin
        .script(&[
            ("DROP NETWORK POLICY local", "002029"),
            ("ALTER ACCOUNT UNSET NETWORK_POLICY", OK),
            ("DROP NETWORK POLICY local", OK),
        ])
        .await;

    admin.fails("DROP NETWORK POLICY ghost", "002003").await;
    admin.ok("DROP NETWORK POLICY IF EXISTS ghost").await;
    assert_eq!(admin.names("SHOW NETWORK POLICIES").await, ["VPN"]);
}

/// `Ok` for a successful password login from `ip`, else the failure's code.
async fn login_from(
    app: &TestApp,
    ip: Option<&str>,
    user: &str,
    password: &str,
) -> Result<(), String> {
    let v = password_login(app, ip, user, password).await;
    match v["success"].as_bool() {
        Some(true) => Ok(()),
        _ => Err(v["code"].as_str().unwrap_or("no code").to_string()),
    }
}

/// Each login of the table answers as expected: `None` succeeds, `Some(code)` fails with it.
async fn logins(app: &TestApp, table: &[(Option<&str>, &str, &str, Option<&str>)]) {
    for &(ip, user, password, expected) in table {
        let got = login_from(app, ip, user, password).await;
        assert_eq!(
            got.err().as_deref(),
            expected,
            "login of {user} from {ip:?}"
        );
    }
}

/// Runs `sql` as `admin` from `ip` and checks it succeeds (`failure` None) or fails with that code;
/// returns the failure's message (empty on success).
async fn from_ip(
    app: &TestApp,
    admin: &Session<'_>,
    ip: Option<&str>,
    sql: &str,
    failure: Option<&str>,
) -> String {
    let (_, v) = app.query_from(ip, admin, sql).await;
    match failure {
        None => {
            assert_eq!(v["success"], true, "{sql}: {v}");
            String::new()
        }
        Some(code) => assert_failure(&v, code),
    }
}

const LOCKS_OUT: Option<&str> = Some("002029");
const REFUSED_IP: Option<&str> = Some("390422");

async fn account_network_policy_guards_the_caller_and_applies_to_logins(app: TestApp) {
    let admin = app.admin().await;
    admin
        .ok("CREATE NETWORK POLICY corp ALLOWED_IP_LIST=('10.0.0.0/8')")
        .await;
    admin
        .ok(
            "CREATE NETWORK POLICY local ALLOWED_IP_LIST=('127.0.0.0/8', '10.0.0.0/8') \
         BLOCKED_IP_LIST=('10.9.0.0/16')",
        )
        .await;
    // A policy that would lock the caller out is refused, and so is one for an unknown address.
    for (ip, policy) in [
        (Some("127.0.0.1"), "corp"),
        (None, "corp"),
        (Some("10.9.9.9"), "local"),
        (Some("127.0.0.1"), "ghost"),
    ] {
        let sql = format!("ALTER ACCOUNT SET NETWORK_POLICY = {policy}");
        let msg = from_ip(&app, &admin, ip, &sql, LOCKS_OUT).await;
        if policy == "corp" && ip.is_some() {
            assert!(msg.contains("127.0.0.1"), "{msg}");
        }
    }
    // Nothing was activated: any address logs in.
    logins(&app, &[(Some("192.0.2.1"), "embucket", "embucket", None)]).await;

    from_ip(
        &app,
        &admin,
        Some("127.0.0.1"),
        "ALTER ACCOUNT SET NETWORK_POLICY = local",
        None,
    )
    .await;
    let v = password_login(&app, Some("10.9.9.9"), "embucket", "embucket").await;
    assert!(assert_failure(&v, "390422").contains("10.9.9.9"));
    logins(
        &app,
        &[
            // Refused before the password is looked at: a wrong one gets the same answer.
            (Some("10.9.9.9"), "embucket", "wrong", REFUSED_IP),
            (None, "embucket", "embucket", REFUSED_IP),
            (Some("127.0.0.1"), "embucket", "embucket", None),
            (Some("::ffff:127.0.0.1"), "embucket", "embucket", None),
            (Some("10.8.0.1"), "embucket", "embucket", None),
        ],
    )
    .await;
    // The account's policy covers every user without one of their own; a user's own policy wins.
    admin.ok("CREATE USER bob PASSWORD='pw123456'").await;
    admin
        .ok("CREATE NETWORK POLICY bobs ALLOWED_IP_LIST=('10.9.9.9')")
        .await;
    logins(&app, &[(Some("10.9.9.9"), "bob", "pw123456", REFUSED_IP)]).await;
    admin.ok("ALTER USER bob SET NETWORK_POLICY = bobs").await;
    logins(
        &app,
        &[
            (Some("10.9.9.9"), "bob", "pw123456", None),
            (Some("127.0.0.1"), "bob", "pw123456", REFUSED_IP),
        ],
    )
    .await;

    admin.ok("ALTER ACCOUNT UNSET NETWORK_POLICY").await;
    logins(
        &app,
        &[
            (Some("10.9.9.9"), "embucket", "embucket", None),
            (None, "embucket", "embucket", None),
        ],
    )
    .await;
    // Only NETWORK_POLICY is an account setting here.
    admin
        .fails("ALTER ACCOUNT SET TIMEZONE = 'UTC'", "000002")
        .await;
}

async fn the_active_account_policy_cannot_be_altered_to_lock_out_the_caller(app: TestApp) {
    let admin = app.admin().await;
    let from = Some("127.0.0.1");
    admin
        .ok("CREATE NETWORK POLICY local ALLOWED_IP_LIST=('127.0.0.0/8', '10.0.0.0/8')")
        .await;
    from_ip(
        &app,
        &admin,
        from,
        "ALTER ACCOUNT SET NETWORK_POLICY = local",
        None,
    )
    .await;
    for sql in [
        "ALTER NETWORK POLICY local SET ALLOWED_IP_LIST=('10.0.0.0/8')",
        "ALTER NETWORK POLICY local SET BLOCKED_IP_LIST=('127.0.0.1')",
        "ALTER NETWORK POLICY local UNSET ALLOWED_IP_LIST",
    ] {
        let msg = from_ip(&app, &admin, from, sql, LOCKS_OUT).await;
        assert!(msg.contains("127.0.0.1"), "{sql}: {msg}");
    }
    let v = admin.ok("DESC NETWORK POLICY local").await;
    assert_eq!(rows(&v)[0][1], "127.0.0.0/8,10.0.0.0/8");
    logins(&app, &[(from, "embucket", "embucket", None)]).await;
    // Changes that keep the caller in are fine.
    let sql = "ALTER NETWORK POLICY local SET BLOCKED_IP_LIST=('10.9.0.0/16')";
    from_ip(&app, &admin, from, sql, None).await;
    logins(
        &app,
        &[(Some("10.9.0.1"), "embucket", "embucket", REFUSED_IP)],
    )
    .await;
    // A policy that is not the account's may exclude anyone.
    admin
        .ok("CREATE NETWORK POLICY other ALLOWED_IP_LIST=('10.0.0.0/8')")
        .await;
    from_ip(
        &app,
        &admin,
        from,
        "ALTER NETWORK POLICY other UNSET ALLOWED_IP_LIST",
        None,
    )
    .await;
    admin.ok("ALTER ACCOUNT UNSET NETWORK_POLICY").await;
}

async fn replacing_the_account_policy_cannot_lock_out_the_caller(app: TestApp) {
    let admin = app.admin().await;
    let from = Some("127.0.0.1");
    admin
        .ok("CREATE NETWORK POLICY np ALLOWED_IP_LIST=('127.0.0.1')")
        .await;
    from_ip(
        &app,
        &admin,
        from,
        "ALTER ACCOUNT SET NETWORK_POLICY = np",
        None,
    )
    .await;
    // Replacing the active policy with one that shuts the caller out would lock every login from
    // 127.0.0.1 out (390422): refused.
    let sql = "CREATE OR REPLACE NETWORK POLICY np ALLOWED_IP_LIST=('10.0.0.1')";
    from_ip(&app, &admin, from, sql, LOCKS_OUT).await;
    logins(&app, &[(from, "embucket", "embucket", None)]).await;
}

async fn a_users_own_policy_does_not_tell_that_the_user_exists(app: TestApp) {
    let admin = app.admin().await;
    admin.ok("CREATE USER bob PASSWORD='pw123456'").await;
    admin
        .ok("CREATE NETWORK POLICY bobs ALLOWED_IP_LIST=('10.9.9.9')")
        .await;
    admin.ok("ALTER USER bob SET NETWORK_POLICY = bobs").await;
    let outside = Some("192.0.2.7");
    // From outside bob's policy, a wrong password for bob and one for a name that does not exist
    // get the same answer, attempt by attempt (the lockout included).
    for _ in 0..6 {
        let known = password_login(&app, outside, "bob", "wrong").await;
        let unknown = password_login(&app, outside, "nobody_here", "wrong").await;
        assert_eq!(known, unknown);
    }
    admin.ok("ALTER USER bob SET MINS_TO_UNLOCK = 0").await;
    assert_failure(
        &password_login(&app, outside, "bob", "wrong").await,
        "390100",
    );
    // Only the password's holder learns of the policy.
    logins(&app, &[(outside, "bob", "pw123456", REFUSED_IP)]).await;
    logins(&app, &[(Some("10.9.9.9"), "bob", "pw123456", None)]).await;
    // Under an account policy that also refuses the address, every name is refused before its
    // password, alike.
    admin
        .ok("CREATE NETWORK POLICY corp ALLOWED_IP_LIST=('127.0.0.0/8', '10.0.0.0/8')")
        .await;
    from_ip(
        &app,
        &admin,
        Some("127.0.0.1"),
        "ALTER ACCOUNT SET NETWORK_POLICY = corp",
        None,
    )
    .await;
    let known = password_login(&app, outside, "bob", "wrong").await;
    let unknown = password_login(&app, outside, "nobody_else", "wrong").await;
    assert_eq!(known, unknown);
    assert_failure(&known, "390422");
    // An address the account admits but bob's policy does not: his password first.
    logins(
        &app,
        &[
            (Some("127.0.0.1"), "bob", "wrong", Some("390100")),
            (Some("127.0.0.1"), "bob", "pw123456", REFUSED_IP),
        ],
    )
    .await;
    admin.ok("ALTER ACCOUNT UNSET NETWORK_POLICY").await;
}
