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
    let (_, v) = app
        .query_from(
            Some("127.0.0.1"),
            &admin,
            "ALTER ACCOUNT SET NETWORK_POLICY = corp",
        )
        .await;
    let msg = assert_failure(&v, "002029");
    assert!(msg.contains("127.0.0.1"), "{msg}");
    let (_, v) = app
        .query_from(None, &admin, "ALTER ACCOUNT SET NETWORK_POLICY = corp")
        .await;
    assert_failure(&v, "002029");
    let (_, v) = app
        .query_from(
            Some("10.9.9.9"),
            &admin,
            "ALTER ACCOUNT SET NETWORK_POLICY = local",
        )
        .await;
    assert_failure(&v, "002029");
    let (_, v) = app
        .query_from(
            Some("127.0.0.1"),
            &admin,
            "ALTER ACCOUNT SET NETWORK_POLICY = ghost",
        )
        .await;
    assert_failure(&v, "002029");
    // Nothing was activated: any address logs in.
    assert_eq!(
        password_login(&app, Some("192.0.2.1"), "embucket", "embucket").await["success"],
        true
    );

    let (_, v) = app
        .query_from(
            Some("127.0.0.1"),
            &admin,
            "ALTER ACCOUNT SET NETWORK_POLICY = local",
        )
        .await;
    assert_eq!(v["success"], true, "{v}");
    let v = password_login(&app, Some("10.9.9.9"), "embucket", "embucket").await;
    assert!(assert_failure(&v, "390422").contains("10.9.9.9"));
    // Refused before the password is looked at: a wrong one gets the same answer.
    let v = password_login(&app, Some("10.9.9.9"), "embucket", "wrong").await;
    assert_failure(&v, "390422");
    let v = password_login(&app, None, "embucket", "embucket").await;
    assert_failure(&v, "390422");
    for ip in ["127.0.0.1", "::ffff:127.0.0.1", "10.8.0.1"] {
        let v = password_login(&app, Some(ip), "embucket", "embucket").await;
        assert_eq!(v["success"], true, "{ip}: {v}");
    }
    // The account's policy covers every user without one of their own; a user's own policy wins.
    admin.ok("CREATE USER bob PASSWORD='pw123456'").await;
    admin
        .ok("CREATE NETWORK POLICY bobs ALLOWED_IP_LIST=('10.9.9.9')")
        .await;
    assert_failure(
        &password_login(&app, Some("10.9.9.9"), "bob", "pw123456").await,
        "390422",
    );
    admin.ok("ALTER USER bob SET NETWORK_POLICY = bobs").await;
    assert_eq!(
        password_login(&app, Some("10.9.9.9"), "bob", "pw123456").await["success"],
        true
    );
    assert_failure(
        &password_login(&app, Some("127.0.0.1"), "bob", "pw123456").await,
        "390422",
    );

    admin.ok("ALTER ACCOUNT UNSET NETWORK_POLICY").await;
    assert_eq!(
        password_login(&app, Some("10.9.9.9"), "embucket", "embucket").await["success"],
        true
    );
    assert_eq!(
        password_login(&app, None, "embucket", "embucket").await["success"],
        true
    );
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
    let (_, v) = app
        .query_from(from, &admin, "ALTER ACCOUNT SET NETWORK_POLICY = local")
        .await;
    assert_eq!(v["success"], true, "{v}");
    for sql in [
        "ALTER NETWORK POLICY local SET ALLOWED_IP_LIST=('10.0.0.0/8')",
        "ALTER NETWORK POLICY local SET BLOCKED_IP_LIST=('127.0.0.1')",
        "ALTER NETWORK POLICY local UNSET ALLOWED_IP_LIST",
    ] {
        let (_, v) = app.query_from(from, &admin, sql).await;
        assert!(
            assert_failure(&v, "002029").contains("127.0.0.1"),
            "{sql}: {v}"
        );
    }
    let v = admin.ok("DESC NETWORK POLICY local").await;
    assert_eq!(rows(&v)[0][1], "127.0.0.0/8,10.0.0.0/8");
    assert_eq!(
        password_login(&app, from, "embucket", "embucket").await["success"],
        true
    );
    // Changes that keep the caller in are fine.
    let (_, v) = app
        .query_from(
            from,
            &admin,
            "ALTER NETWORK POLICY local SET BLOCKED_IP_LIST=('10.9.0.0/16')",
        )
        .await;
    assert_eq!(v["success"], true, "{v}");
    assert_failure(
        &password_login(&app, Some("10.9.0.1"), "embucket", "embucket").await,
        "390422",
    );
    // A policy that is not the account's may exclude anyone.
    admin
        .ok("CREATE NETWORK POLICY other ALLOWED_IP_LIST=('10.0.0.0/8')")
        .await;
    let (_, v) = app
        .query_from(
            from,
            &admin,
            "ALTER NETWORK POLICY other UNSET ALLOWED_IP_LIST",
        )
        .await;
    assert_eq!(v["success"], true, "{v}");
    admin.ok("ALTER ACCOUNT UNSET NETWORK_POLICY").await;
}

async fn replacing_the_account_policy_cannot_lock_out_the_caller(app: TestApp) {
    let admin = app.admin().await;
    let from = Some("127.0.0.1");
    admin
        .ok("CREATE NETWORK POLICY np ALLOWED_IP_LIST=('127.0.0.1')")
        .await;
    let (_, v) = app
        .query_from(from, &admin, "ALTER ACCOUNT SET NETWORK_POLICY = np")
        .await;
    assert_eq!(v["success"], true, "{v}");
    // Replacing the active policy with one that shuts the caller out would lock every login from
    // 127.0.0.1 out (390422): refused.
    let (_, v) = app
        .query_from(
            from,
            &admin,
            "CREATE OR REPLACE NETWORK POLICY np ALLOWED_IP_LIST=('10.0.0.1')",
        )
        .await;
    assert_failure(&v, "002029");
    assert_eq!(
        password_login(&app, from, "embucket", "embucket").await["success"],
        true
    );
}
