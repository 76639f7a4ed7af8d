//! Who may administer: administrator roles only, re-checked at every statement (a revoked grant, a
//! dropped user end administration in open sessions), system roles granted and managed only by
//! their holders, and the demo user administered like any other.
//! Each test runs on the in-memory store and on DynamoDB (moto_server).

#[macro_use]
mod common;

use common::sql::*;
use common::*;
use serde_json::json;

on_every_store!(
    only_administrator_roles_administer,
    open_sessions_lose_administration_with_the_grant,
    system_roles_are_granted_only_by_their_holders,
    a_role_is_granted_by_its_owner_or_manage_grants,
    useradmin_cannot_take_over_an_accountadmin_user,
    a_dropped_users_sessions_do_not_outlive_it,
    the_demo_user_is_an_ordinary_user,
);

async fn only_administrator_roles_administer(app: TestApp) {
    let admin = app.admin().await;
    for role in ["sysadmin", "public"] {
        admin.ok(&format!("USE ROLE {role}")).await;
        for sql in [
            "CREATE USER intruder PASSWORD='pw123456'",
            "CREATE ROLE intruders",
            "CREATE NETWORK POLICY open ALLOWED_IP_LIST=('0.0.0.0/0')",
            "ALTER ACCOUNT UNSET NETWORK_POLICY",
            "GRANT ROLE accountadmin TO USER intruder",
            "SHOW USERS",
            "DESC USER embucket",
            "SHOW ROLES",
            "DROP USER IF EXISTS intruder",
        ] {
            let v = admin.fails(sql, "003001").await;
            let msg = v["message"].as_str().unwrap();
            assert!(msg.contains(&role.to_uppercase()), "{sql}: {msg}");
        }
    }
    // Nothing was created.
    admin.ok("USE ROLE accountadmin").await;
    assert!(!admin.user_exists("intruder").await);
    assert!(
        !admin
            .names("SHOW ROLES")
            .await
            .contains(&"INTRUDERS".to_string())
    );
    assert!(admin.names("SHOW NETWORK POLICIES").await.is_empty());
    // SECURITYADMIN and USERADMIN administer users.
    for (role, user) in [("securityadmin", "by_security"), ("useradmin", "by_user")] {
        let v = admin.ok(&format!("USE ROLE {role}")).await;
        assert_eq!(v["data"]["finalRoleName"], role.to_uppercase());
        let v = admin
            .ok(&format!("CREATE USER {user} PASSWORD='pw123456'"))
            .await;
        assert_eq!(v["data"]["finalRoleName"], role.to_uppercase());
        assert!(admin.user_exists(user).await);
    }
    // A user without an administrator role cannot, whatever its own role.
    admin
        .script(&[
            ("USE ROLE accountadmin", OK),
            ("CREATE ROLE analyst", OK),
            (
                "CREATE USER bob PASSWORD='pw123456' DEFAULT_ROLE=analyst",
                OK,
            ),
            ("GRANT ROLE analyst TO USER bob", OK),
        ])
        .await;
    let bob = app.session(app.login_as("bob", "pw123456").await.session);
    bob.script(&[
        ("CREATE USER mallory PASSWORD='pw123456'", "003001"),
        ("ALTER USER bob SET COMMENT='me'", "003001"),
        ("USE ROLE useradmin", "003001"),
    ])
    .await;
    assert!(!admin.user_exists("mallory").await);
}

async fn open_sessions_lose_administration_with_the_grant(app: TestApp) {
    let admin = app.admin().await;
    for user in ["ann", "ben", "cid"] {
        admin
            .ok(&format!(
                "CREATE USER {user} PASSWORD='pw123456' DEFAULT_ROLE=useradmin"
            ))
            .await;
        admin
            .ok(&format!("GRANT ROLE useradmin TO USER {user}"))
            .await;
    }
    let ann = app.session(app.login_as("ann", "pw123456").await.session);
    let ben = app.session(app.login_as("ben", "pw123456").await.session);
    let cid = app.session(app.login_as("cid", "pw123456").await.session);
    for s in [&ann, &ben, &cid] {
        let v = ok(&app, s, "SHOW USERS").await;
        assert_eq!(v["data"]["finalRoleName"], "USERADMIN");
    }
    admin
        .script(&[
            ("REVOKE ROLE useradmin FROM USER ann", OK),
            ("ALTER USER ben SET DISABLED = TRUE", OK),
            ("DROP USER cid", OK),
        ])
        .await;
    // Each session ends at its next request, with Snowflake's answer; nothing is created.
    for (s, code) in [(&ann, "390111"), (&ben, "390101"), (&cid, "390111")] {
        let (_, v) = app.query(s, "CREATE USER sneaky PASSWORD='pw123456'").await;
        assert_failure(&v, code);
        let (_, v) = app.query(s, "SHOW USERS").await;
        assert_failure(&v, "390111");
    }
    assert!(!admin.user_exists("sneaky").await);
    // Granted again: the ended session stays ended; a new login administers again.
    admin.ok("GRANT ROLE useradmin TO USER ann").await;
    let (_, v) = app.query(&ann, "SHOW USERS").await;
    assert_failure(&v, "390111");
    let ann = app.session(app.login_as("ann", "pw123456").await.session);
    ann.ok("SHOW USERS").await;
}

async fn system_roles_are_granted_only_by_their_holders(app: TestApp) {
    let admin = app.admin().await;
    admin.ok("CREATE ROLE analyst").await;
    admin.ok("CREATE USER target").await;
    admin.ok("USE ROLE useradmin").await;
    admin.ok("CREATE ROLE helpers").await;
    // Another role: its owner grants it (USERADMIN made HELPERS, not ANALYST), or SECURITYADMIN
    // and above (MANAGE GRANTS), as in Snowflake.
    for (role, grantable, refused) in [
        (
            "useradmin",
            &["USERADMIN", "PUBLIC", "HELPERS"][..],
            &["ACCOUNTADMIN", "SECURITYADMIN", "SYSADMIN", "ANALYST"][..],
        ),
        (
            "securityadmin",
            &["SECURITYADMIN", "USERADMIN", "ANALYST", "HELPERS"][..],
            &["ACCOUNTADMIN", "SYSADMIN"][..],
        ),
        (
            "accountadmin",
            &["ACCOUNTADMIN", "SECURITYADMIN", "USERADMIN", "SYSADMIN"][..],
            &[][..],
        ),
    ] {
        admin.ok(&format!("USE ROLE {role}")).await;
        for r in refused {
            let v = admin
                .fails(&format!("GRANT ROLE {r} TO USER target"), "003001")
                .await;
            assert!(v["message"].as_str().unwrap().contains(r), "{v}");
            admin
                .fails(&format!("REVOKE ROLE {r} FROM USER target"), "003001")
                .await;
        }
        for r in grantable {
            admin.ok(&format!("GRANT ROLE {r} TO USER target")).await;
            admin.ok(&format!("REVOKE ROLE {r} FROM USER target")).await;
        }
    }
    admin.ok("USE ROLE accountadmin").await;
    let v = admin.ok("SHOW ROLES").await;
    // Only the demo user (seeded with ACCOUNTADMIN) holds a system role directly.
    assert_eq!(role_row(&v, "ACCOUNTADMIN")["assigned_to_users"], "1");
    for r in ["SECURITYADMIN", "SYSADMIN", "ANALYST"] {
        assert_eq!(role_row(&v, r)["assigned_to_users"], "0", "{r}");
    }
}

/// As Snowflake: GRANT and REVOKE of a role need its owning role (or one above it), or MANAGE
/// GRANTS (SECURITYADMIN, ACCOUNTADMIN). USERADMIN cannot hand itself, or take from others, a role
/// ACCOUNTADMIN or SECURITYADMIN created.
async fn a_role_is_granted_by_its_owner_or_manage_grants(app: TestApp) {
    let admin = app.admin().await;
    admin
        .script(&[
            ("CREATE ROLE by_account", OK),
            ("USE ROLE securityadmin", OK),
            ("CREATE ROLE by_security", OK),
            ("USE ROLE useradmin", OK),
            ("CREATE ROLE by_user", OK),
            ("USE ROLE accountadmin", OK),
            (
                "CREATE USER ua PASSWORD='pw123456' DEFAULT_ROLE=useradmin",
                OK,
            ),
            ("GRANT ROLE useradmin TO USER ua", OK),
            ("CREATE USER holder", OK),
            ("GRANT ROLE by_account TO USER holder", OK),
            ("GRANT ROLE by_security TO USER holder", OK),
        ])
        .await;
    let ua = app.session(app.login_as("ua", "pw123456").await.session);
    for role in ["by_account", "by_security"] {
        for sql in [
            format!("GRANT ROLE {role} TO USER ua"),
            format!("GRANT ROLE {role} TO USER holder"),
            format!("REVOKE ROLE {role} FROM USER holder"),
        ] {
            let v = ua.fails(&sql, "003001").await;
            let message = v["message"].as_str().unwrap();
            assert!(message.contains(&role.to_uppercase()), "{sql}: {message}");
        }
    }
    // Nothing changed: only `holder` holds each.
    let v = admin.ok("SHOW ROLES").await;
    for r in ["BY_ACCOUNT", "BY_SECURITY"] {
        assert_eq!(role_row(&v, r)["assigned_to_users"], "1", "{r}");
    }
    // The owner grants and revokes its own role; SECURITYADMIN (MANAGE GRANTS) and ACCOUNTADMIN
    // any role.
    for (role, sql) in [
        ("useradmin", "GRANT ROLE by_user TO USER holder"),
        ("useradmin", "REVOKE ROLE by_user FROM USER holder"),
        ("securityadmin", "GRANT ROLE by_account TO USER ua"),
        ("securityadmin", "REVOKE ROLE by_account FROM USER ua"),
        ("securityadmin", "REVOKE ROLE by_security FROM USER holder"),
        ("accountadmin", "GRANT ROLE by_security TO USER holder"),
        ("accountadmin", "REVOKE ROLE by_user FROM USER holder"),
    ] {
        admin.ok(&format!("USE ROLE {role}")).await;
        admin.ok(sql).await;
    }
}

async fn useradmin_cannot_take_over_an_accountadmin_user(app: TestApp) {
    let admin = app.admin().await;
    admin
        .script(&[
            (
                "CREATE USER boss PASSWORD='pw123456' DEFAULT_ROLE=accountadmin",
                OK,
            ),
            ("GRANT ROLE accountadmin TO USER boss", OK),
            (
                "CREATE USER ua PASSWORD='pw123456' DEFAULT_ROLE=useradmin",
                OK,
            ),
            ("GRANT ROLE useradmin TO USER ua", OK),
        ])
        .await;
    let ua = app.session(app.login_as("ua", "pw123456").await.session);
    // Were this allowed, `boss` / `taken-over` would log in as ACCOUNTADMIN.
    ua.fails("ALTER USER boss SET PASSWORD='taken-over'", "003001")
        .await;
    ua.fails("DROP USER boss", "003001").await;
    assert_failure(
        &password_login(&app, None, "boss", "taken-over").await,
        "390100",
    );
}

async fn a_dropped_users_sessions_do_not_outlive_it(app: TestApp) {
    let admin = app.admin().await;
    admin.ok("CREATE USER bob PASSWORD='pw123456'").await;
    let old = app.login_as("bob", "pw123456").await;
    admin
        .script(&[
            ("DROP USER bob", OK),
            (
                "CREATE USER bob PASSWORD='new-owner' DEFAULT_ROLE=useradmin",
                OK,
            ),
            ("GRANT ROLE useradmin TO USER bob", OK),
        ])
        .await;
    // The first BOB's session must not act as the new BOB: no USERADMIN, no users.
    let (_, v) = app.query(&old.session, "USE ROLE useradmin").await;
    assert_eq!(v["success"], false, "{v}");
    let (_, v) = app.query(&old.session, "CREATE USER via_old_session").await;
    assert_eq!(v["success"], false, "{v}");
    assert!(!admin.user_exists("via_old_session").await);
    // ... and its master token still renews.
    let (_, v) = app
        .post(
            "/session/token-request",
            Some(&old.master),
            json!({"oldSessionToken": old.session, "requestType": "RENEW"}),
        )
        .await;
    assert_eq!(v["success"], false, "{v}");
}

async fn the_demo_user_is_an_ordinary_user(app: TestApp) {
    let admin = app.admin().await;
    // Seeded from the configuration: a PERSON with ACCOUNTADMIN and a password (never shown).
    let d = admin.desc_user("embucket").await;
    assert_eq!(d["NAME"], "EMBUCKET");
    assert_eq!(d["TYPE"], "PERSON");
    assert_eq!(d["DEFAULT_ROLE"], "ACCOUNTADMIN");
    assert_eq!(d["HAS_PASSWORD"], "true");
    admin
        .script(&[
            ("CREATE USER embucket PASSWORD = 'pw123456'", "002002"),
            ("CREATE USER IF NOT EXISTS embucket", OK),
            // Administrators change it like any user; DISABLED applies to it as to anyone.
            (
                "CREATE USER backup_admin PASSWORD = 'pw123456' DEFAULT_ROLE = accountadmin",
                OK,
            ),
            ("GRANT ROLE accountadmin TO USER backup_admin", OK),
            ("ALTER USER embucket SET COMMENT = 'the demo'", OK),
        ])
        .await;
    assert_eq!(admin.desc_user("embucket").await["COMMENT"], "the demo");
    let backup = app.session(app.login_as("backup_admin", "pw123456").await.session);
    backup.ok("ALTER USER embucket SET DISABLED = TRUE").await;
    let (_, v) = app
        .post(LOGIN, None, login_body("embucket", "embucket"))
        .await;
    assert_failure(&v, "390101");
    backup.ok("ALTER USER embucket SET DISABLED = FALSE").await;
    let s = app.admin().await;
    let (_, v) = app.query(&s, "SELECT CURRENT_ROLE()").await;
    assert_eq!(v["data"]["rowset"], json!([["ACCOUNTADMIN"]]));
}
