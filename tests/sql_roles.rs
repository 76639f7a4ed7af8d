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
    let admin = app.login().await.session;
    let v = ok(&app, &admin, "CREATE ROLE analyst COMMENT = 'reads'").await;
    assert_eq!(rows(&v)[0][0], "Role ANALYST successfully created.");
    fails(&app, &admin, "CREATE ROLE analyst", "002002").await;
    ok(&app, &admin, "CREATE ROLE IF NOT EXISTS analyst").await;
    let v = ok(&app, &admin, "SHOW ROLES").await;
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
    assert_eq!(
        names(&app, &admin, "SHOW ROLES LIKE 'ana%'").await,
        ["ANALYST"]
    );

    ok(&app, &admin, "CREATE USER bob").await;
    ok(&app, &admin, "CREATE USER carol").await;
    ok(&app, &admin, "GRANT ROLE analyst TO USER bob").await;
    let v = ok(&app, &admin, "SHOW ROLES").await;
    assert_eq!(role_row(&v, "ANALYST")["assigned_to_users"], "1");
    ok(&app, &admin, "GRANT ROLE analyst TO USER carol").await;
    // Granting twice is harmless.
    ok(&app, &admin, "GRANT ROLE analyst TO USER carol").await;
    let v = ok(&app, &admin, "SHOW ROLES").await;
    assert_eq!(role_row(&v, "ANALYST")["assigned_to_users"], "2");

    let v = fails(&app, &admin, "GRANT ROLE analyst TO USER ghost", "002003").await;
    assert!(v["message"].as_str().unwrap().contains("GHOST"));
    let v = fails(&app, &admin, "GRANT ROLE ghosts TO USER bob", "002003").await;
    assert!(v["message"].as_str().unwrap().contains("GHOSTS"));
    fails(
        &app,
        &admin,
        "REVOKE ROLE analyst FROM USER ghost",
        "002003",
    )
    .await;

    ok(&app, &admin, "REVOKE ROLE analyst FROM USER bob").await;
    let v = ok(&app, &admin, "SHOW ROLES").await;
    assert_eq!(role_row(&v, "ANALYST")["assigned_to_users"], "1");

    // A granted role is usable, a revoked one not.
    ok(&app, &admin, "ALTER USER carol SET PASSWORD = 'pw123456'").await;
    ok(&app, &admin, "ALTER USER bob SET PASSWORD = 'pw123456'").await;
    let carol = app.login_as("carol", "pw123456").await.session;
    let v = ok(&app, &carol, "USE ROLE analyst").await;
    assert_eq!(v["data"]["finalRoleName"], "ANALYST");
    let bob = app.login_as("bob", "pw123456").await.session;
    fails(&app, &bob, "USE ROLE analyst", "003001").await;
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
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE ROLE r").await;
    ok(
        &app,
        &admin,
        "CREATE USER bob PASSWORD='pw123456' DEFAULT_ROLE=r",
    )
    .await;
    ok(&app, &admin, "GRANT ROLE r TO USER bob").await;
    let v = password_login(&app, None, "bob", "pw123456").await;
    assert_eq!(v["data"]["sessionInfo"]["roleName"], "R");
    let bob = app.login_as("bob", "pw123456").await.session;
    ok(&app, &bob, "USE ROLE public").await;
    ok(&app, &bob, "USE ROLE r").await;

    let v = ok(&app, &admin, "DROP ROLE r").await;
    assert!(
        rows(&v)[0][0]
            .as_str()
            .unwrap()
            .contains("R successfully dropped")
    );
    assert!(
        !names(&app, &admin, "SHOW ROLES")
            .await
            .contains(&"R".to_string())
    );
    // A fresh login falls back to PUBLIC, and R is not usable.
    let fresh = app.login_as("bob", "pw123456").await;
    let (_, v) = app.query(&fresh.session, "SELECT CURRENT_ROLE()").await;
    assert_eq!(v["data"]["rowset"], json!([["PUBLIC"]]));
    fails(&app, &fresh.session, "USE ROLE r", "003001").await;
    // Re-creating the role does not bring the grant back.
    ok(&app, &admin, "CREATE ROLE r").await;
    fails(&app, &fresh.session, "USE ROLE r", "003001").await;
    let v = ok(&app, &admin, "SHOW ROLES LIKE 'R'").await;
    assert_eq!(role_row(&v, "R")["assigned_to_users"], "0");

    fails(&app, &admin, "DROP ROLE ghost", "002003").await;
    ok(&app, &admin, "DROP ROLE IF EXISTS ghost").await;
}

async fn system_roles_cannot_be_dropped_or_recreated(app: TestApp) {
    let admin = app.login().await.session;
    for role in [
        "accountadmin",
        "SECURITYADMIN",
        "useradmin",
        "sysadmin",
        "public",
    ] {
        let v = fails(&app, &admin, &format!("DROP ROLE {role}"), "003001").await;
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains(&role.to_uppercase())
        );
        fails(
            &app,
            &admin,
            &format!("DROP ROLE IF EXISTS {role}"),
            "003001",
        )
        .await;
        fails(&app, &admin, &format!("CREATE ROLE {role}"), "002002").await;
        ok(&app, &admin, &format!("CREATE ROLE IF NOT EXISTS {role}")).await;
    }
    let roles = names(&app, &admin, "SHOW ROLES").await;
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
    ok(&app, &admin, "USE ROLE securityadmin").await;
    ok(&app, &admin, "USE ROLE accountadmin").await;
}
