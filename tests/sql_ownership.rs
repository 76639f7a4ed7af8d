//! Ownership like Snowflake: users, roles and network policies remember the role that created them;
//! ALTER, DROP and CREATE OR REPLACE need that role or one above it (ACCOUNTADMIN > SECURITYADMIN >
//! USERADMIN); a network policy that guards a user holding a system role the caller's role lacks
//! cannot be changed; SHOW lists the owner; records older than ownership get a documented default.

#[macro_use]
mod common;

use std::sync::Arc;

use common::names::named;
use common::sql::*;
use common::*;
use serde_json::Value;
use snowgate::store::NamedKind::{NetworkPolicy, Role, User};
use snowgate::store::memory::MemoryStore;
use snowgate::store::{DirectoryStore, Write};

on_every_store!(
    show_lists_the_creating_role_as_owner,
    only_the_owner_or_a_role_above_alters_or_drops,
    securityadmin_cannot_open_the_policy_guarding_an_accountadmin,
);

/// The `owner` column of `SHOW …` for the row named `name`.
async fn owner(app: &TestApp, token: &str, show: &str, name: &str) -> Value {
    let v = ok(app, token, show).await;
    let row = listing(&v)
        .into_iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {v}"));
    row["owner"].clone()
}

async fn show_lists_the_creating_role_as_owner(app: TestApp) {
    let admin = app.admin().await;
    for (role, sql, show, name) in [
        ("USERADMIN", "CREATE USER u1", "SHOW USERS", "U1"),
        ("USERADMIN", "CREATE ROLE r1", "SHOW ROLES", "R1"),
        ("SECURITYADMIN", "CREATE ROLE r2", "SHOW ROLES", "R2"),
        (
            "SECURITYADMIN",
            "CREATE NETWORK POLICY p1 ALLOWED_IP_LIST = ('10.0.0.0/8')",
            "SHOW NETWORK POLICIES",
            "P1",
        ),
        (
            "ACCOUNTADMIN",
            "CREATE NETWORK POLICY p2 ALLOWED_IP_LIST = ('10.0.0.0/8')",
            "SHOW NETWORK POLICIES",
            "P2",
        ),
    ] {
        admin.ok(&format!("USE ROLE {role}")).await;
        admin.ok(sql).await;
        admin.ok("USE ROLE ACCOUNTADMIN").await;
        assert_eq!(owner(&app, &admin, show, name).await, role, "{sql}");
    }
    // System roles are owned by no role.
    assert_eq!(owner(&app, &admin, "SHOW ROLES", "PUBLIC").await, "");
    // ALTER keeps the owner; CREATE OR REPLACE gives the object to the replacing role.
    admin.ok("USE ROLE SECURITYADMIN").await;
    admin.ok("ALTER USER u1 SET COMMENT = 'x'").await;
    assert_eq!(owner(&app, &admin, "SHOW USERS", "U1").await, "USERADMIN");
    admin.ok("CREATE OR REPLACE USER u1").await;
    assert_eq!(
        owner(&app, &admin, "SHOW USERS", "U1").await,
        "SECURITYADMIN"
    );
}

async fn only_the_owner_or_a_role_above_alters_or_drops(app: TestApp) {
    let admin = app.admin().await;
    for sql in [
        "CREATE USER by_account",
        "CREATE ROLE by_account_role",
        "CREATE NETWORK POLICY by_account_policy ALLOWED_IP_LIST = ('10.0.0.0/8')",
    ] {
        admin.ok(sql).await;
    }
    admin.ok("USE ROLE USERADMIN").await;
    admin.ok("CREATE USER by_user").await;
    // Below the owner: refused, and nothing changes.
    for (role, sql) in [
        ("USERADMIN", "ALTER USER by_account SET COMMENT = 'mine'"),
        ("USERADMIN", "DROP USER by_account"),
        ("USERADMIN", "CREATE OR REPLACE USER by_account"),
        ("USERADMIN", "DROP ROLE by_account_role"),
        ("USERADMIN", "CREATE OR REPLACE ROLE by_account_role"),
        ("SECURITYADMIN", "ALTER USER by_account SET DISABLED = TRUE"),
        (
            "SECURITYADMIN",
            "ALTER NETWORK POLICY by_account_policy SET ALLOWED_IP_LIST = ('0.0.0.0/0')",
        ),
        ("SECURITYADMIN", "DROP NETWORK POLICY by_account_policy"),
        (
            "SECURITYADMIN",
            "CREATE OR REPLACE NETWORK POLICY by_account_policy ALLOWED_IP_LIST = ('0.0.0.0/0')",
        ),
    ] {
        admin.ok(&format!("USE ROLE {role}")).await;
        let v = admin.fails(sql, "003001").await;
        assert!(
            v["message"].as_str().unwrap().contains("ACCOUNTADMIN"),
            "{v}"
        );
    }
    admin.ok("USE ROLE ACCOUNTADMIN").await;
    let by_account = admin.desc_user("by_account").await;
    assert_eq!(by_account["COMMENT"], "null");
    assert_eq!(by_account["DISABLED"], "false");
    assert_eq!(
        owner(&app, &admin, "SHOW ROLES", "BY_ACCOUNT_ROLE").await,
        "ACCOUNTADMIN"
    );
    let v = admin.ok("DESC NETWORK POLICY by_account_policy").await;
    assert_eq!(rows(&v)[0][1], "10.0.0.0/8");
    // The owner and the roles above it may.
    for (role, sql) in [
        ("USERADMIN", "ALTER USER by_user SET COMMENT = 'own'"),
        ("SECURITYADMIN", "ALTER USER by_user SET COMMENT = 'above'"),
        ("ACCOUNTADMIN", "DROP USER by_user"),
        ("ACCOUNTADMIN", "DROP USER by_account"),
        ("ACCOUNTADMIN", "DROP ROLE by_account_role"),
        ("ACCOUNTADMIN", "DROP NETWORK POLICY by_account_policy"),
    ] {
        admin.ok(&format!("USE ROLE {role}")).await;
        admin.ok(sql).await;
    }
}

async fn securityadmin_cannot_open_the_policy_guarding_an_accountadmin(app: TestApp) {
    let admin = app.admin().await;
    admin
        .script(&[
            ("CREATE USER root PASSWORD = 'pw123456'", OK),
            ("GRANT ROLE ACCOUNTADMIN TO USER root", OK),
            ("USE ROLE SECURITYADMIN", OK),
            (
                "CREATE NETWORK POLICY office ALLOWED_IP_LIST = ('10.0.0.0/8')",
                OK,
            ),
            ("USE ROLE ACCOUNTADMIN", OK),
            ("ALTER USER root SET NETWORK_POLICY = office", OK),
            ("USE ROLE SECURITYADMIN", OK),
        ])
        .await;
    // SECURITYADMIN owns the policy, but it guards an ACCOUNTADMIN.
    for sql in [
        "ALTER NETWORK POLICY office SET ALLOWED_IP_LIST = ('0.0.0.0/0')",
        "ALTER NETWORK POLICY office UNSET BLOCKED_IP_LIST",
        "CREATE OR REPLACE NETWORK POLICY office ALLOWED_IP_LIST = ('0.0.0.0/0')",
        "DROP NETWORK POLICY office",
    ] {
        let v = admin.fails(sql, "003001").await;
        assert!(v["message"].as_str().unwrap().contains("ROOT"), "{v}");
    }
    let v = admin.ok("DESC NETWORK POLICY office").await;
    assert_eq!(rows(&v)[0][1], "10.0.0.0/8");
    // ACCOUNTADMIN may.
    admin.ok("USE ROLE ACCOUNTADMIN").await;
    admin
        .ok("ALTER NETWORK POLICY office SET ALLOWED_IP_LIST = ('10.0.0.0/16')")
        .await;
}

/// Records written before ownership existed have no owner: users and roles count as owned by
/// USERADMIN, network policies by SECURITYADMIN, the lowest roles that could create them, so every
/// role that managed them before still does.
#[tokio::test]
async fn records_older_than_ownership_have_the_lowest_creating_role_as_owner() {
    let store = Arc::new(MemoryStore::new());
    let legacy = [
        (
            User,
            "OLD_USER",
            r#"{"id":"x","name":"OLD_USER","login_name":null,"type":"PERSON","password_hash":null,"default_role":null,"default_warehouse":null,"default_namespace":null,"roles":[],"rsa_public_key":null,"rsa_public_key_2":null,"network_policy":null,"disabled":false,"comment":null,"display_name":null,"email":null,"created_on":1}"#,
        ),
        (
            Role,
            "OLD_ROLE",
            r#"{"name":"OLD_ROLE","comment":null,"created_on":1}"#,
        ),
        (
            NetworkPolicy,
            "OLD_POLICY",
            r#"{"name":"OLD_POLICY","allowed_ip_list":["10.0.0.0/8"],"blocked_ip_list":[],"comment":null,"created_on":1}"#,
        ),
    ];
    for (kind, name, doc) in legacy {
        store
            .put_object(named(kind, name).key(), doc, Write::Create)
            .await
            .unwrap();
    }
    let app = TestApp::with_store(store, "test-secret");
    let admin = app.admin().await;
    for (show, name, expected) in [
        ("SHOW USERS", "OLD_USER", "USERADMIN"),
        ("SHOW ROLES", "OLD_ROLE", "USERADMIN"),
        ("SHOW NETWORK POLICIES", "OLD_POLICY", "SECURITYADMIN"),
    ] {
        assert_eq!(owner(&app, &admin, show, name).await, expected);
    }
    admin
        .script(&[
            ("USE ROLE USERADMIN", OK),
            ("ALTER USER old_user SET COMMENT = 'still mine'", OK),
            ("DROP ROLE old_role", OK),
            ("USE ROLE SECURITYADMIN", OK),
            ("ALTER NETWORK POLICY old_policy SET COMMENT = 'x'", OK),
        ])
        .await;
}
