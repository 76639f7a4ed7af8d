//! Roles: CREATE, SHOW, GRANT and REVOKE to users, DROP (which revokes), and the system roles.
//! Each test runs on the in-memory store and on DynamoDB (moto_server).

#[macro_use]
mod common;

use common::sql::*;
use common::*;
use serde_json::json;

on_every_store!(
    roles_show_grant_and_revoke,
    dropping_a_role_revokes_it_from_its_users,
    system_roles_cannot_be_dropped_or_recreated,
);

async fn roles_show_grant_and_revoke(app: TestApp) {
    let admin = app.admin().await;
    let v = admin.ok("CREATE ROLE analyst COMMENT = 'reads'").await;
    assert_eq!(rows(&v)[0][0], "Role ANALYST successfully created.");
    admin.fails("CREATE ROLE analyst", "002002").await;
    admin.ok("CREATE ROLE IF NOT EXISTS analyst").await;
    let v = admin.ok("SHOW ROLES").await;
    for system in [
        "ACCOUNTADMIN",
        "SECURITYADMIN",
        "USERADMIN",
        "SYSADMIN",
        "PUBLIC",
    ] {
        role_row(&v, system);
    }
    let analyst = role_row(&v, "ANALYST");
    assert_eq!(analyst["assigned_to_users"], "0");
    assert_eq!(analyst["comment"], "reads");
    assert_eq!(admin.names("SHOW ROLES LIKE 'ana%'").await, ["ANALYST"]);

    admin
        .script(&[
            ("CREATE USER bob", OK),
            ("CREATE USER carol", OK),
            ("GRANT ROLE analyst TO USER bob", OK),
        ])
        .await;
    let v = admin.ok("SHOW ROLES").await;
    assert_eq!(role_row(&v, "ANALYST")["assigned_to_users"], "1");
    admin.ok("GRANT ROLE analyst TO USER carol").await;
    // Granting twice is harmless.
    admin.ok("GRANT ROLE analyst TO USER carol").await;
    let v = admin.ok("SHOW ROLES").await;
    assert_eq!(role_row(&v, "ANALYST")["assigned_to_users"], "2");

    let v = admin
        .fails("GRANT ROLE analyst TO USER ghost", "002003")
        .await;
    assert!(v["message"].as_str().unwrap().contains("GHOST"));
    let v = admin.fails("GRANT ROLE ghosts TO USER bob", "002003").await;
    assert!(v["message"].as_str().unwrap().contains("GHOSTS"));
    admin
        .fails("REVOKE ROLE analyst FROM USER ghost", "002003")
        .await;

    admin.ok("REVOKE ROLE analyst FROM USER bob").await;
    let v = admin.ok("SHOW ROLES").await;
    assert_eq!(role_row(&v, "ANALYST")["assigned_to_users"], "1");

    // A granted role is usable, a revoked one not.
    admin.ok("ALTER USER carol SET PASSWORD = 'pw123456'").await;
    admin.ok("ALTER USER bob SET PASSWORD = 'pw123456'").await;
    let carol = app.session(app.login_as("carol", "pw123456").await.session);
    let v = carol.ok("USE ROLE analyst").await;
    assert_eq!(v["data"]["finalRoleName"], "ANALYST");
    let bob = app.session(app.login_as("bob", "pw123456").await.session);
    bob.fails("USE ROLE analyst", "003001").await;
    let v = password_login(&app, None, "bob", "pw123456").await;
    assert_eq!(v["data"]["sessionInfo"]["roleName"], "PUBLIC");
    let (_, v) = app
        .post(
            &format!("{LOGIN}?roleName=analyst"),
            None,
            login_body("bob", "pw123456"),
        )
        .await;
    assert_failure(&v, "390189");
}

async fn dropping_a_role_revokes_it_from_its_users(app: TestApp) {
    let admin = app.admin().await;
    admin
        .script(&[
            ("CREATE ROLE r", OK),
            ("CREATE USER bob PASSWORD='pw123456' DEFAULT_ROLE=r", OK),
            ("GRANT ROLE r TO USER bob", OK),
        ])
        .await;
    let v = password_login(&app, None, "bob", "pw123456").await;
    assert_eq!(v["data"]["sessionInfo"]["roleName"], "R");
    let bob = app.session(app.login_as("bob", "pw123456").await.session);
    bob.ok("USE ROLE public").await;
    bob.ok("USE ROLE r").await;

    let v = admin.ok("DROP ROLE r").await;
    assert!(
        rows(&v)[0][0]
            .as_str()
            .unwrap()
            .contains("R successfully dropped")
    );
    assert!(!admin.names("SHOW ROLES").await.contains(&"R".to_string()));
    // A fresh login falls back to PUBLIC, and R is not usable.
    let fresh = app.login_as("bob", "pw123456").await;
    let (_, v) = app.query(&fresh.session, "SELECT CURRENT_ROLE()").await;
    assert_eq!(v["data"]["rowset"], json!([["PUBLIC"]]));
    fails(&app, &fresh.session, "USE ROLE r", "003001").await;
    // Re-creating the role does not bring the grant back.
    admin.ok("CREATE ROLE r").await;
    fails(&app, &fresh.session, "USE ROLE r", "003001").await;
    let v = admin.ok("SHOW ROLES LIKE 'R'").await;
    assert_eq!(role_row(&v, "R")["assigned_to_users"], "0");

    admin.fails("DROP ROLE ghost", "002003").await;
    admin.ok("DROP ROLE IF EXISTS ghost").await;
}

async fn system_roles_cannot_be_dropped_or_recreated(app: TestApp) {
    let admin = app.admin().await;
    for role in [
        "accountadmin",
        "SECURITYADMIN",
        "useradmin",
        "sysadmin",
        "public",
    ] {
        let v = admin.fails(&format!("DROP ROLE {role}"), "003001").await;
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains(&role.to_uppercase())
        );
        admin
            .fails(&format!("DROP ROLE IF EXISTS {role}"), "003001")
            .await;
        admin.fails(&format!("CREATE ROLE {role}"), "002002").await;
        admin.ok(&format!("CREATE ROLE IF NOT EXISTS {role}")).await;
    }
    let roles = admin.names("SHOW ROLES").await;
    for system in [
        "ACCOUNTADMIN",
        "SECURITYADMIN",
        "USERADMIN",
        "SYSADMIN",
        "PUBLIC",
    ] {
        assert_eq!(
            roles.iter().filter(|r| *r == system).count(),
            1,
            "{roles:?}"
        );
    }
    // The demo user still holds them.
    admin.ok("USE ROLE securityadmin").await;
    admin.ok("USE ROLE accountadmin").await;
}
