//! Refusals: invalid values (002029), unsupported statements (000002) and syntax errors (001003)
//! change nothing, and no answer ever repeats a password or key given in the SQL.
//! Each test runs on the in-memory store and on DynamoDB (moto_server).

#[macro_use]
mod common;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::sql::*;
use common::*;
use serde_json::json;

on_every_store!(
    invalid_public_keys_are_002029_and_change_nothing,
    invalid_values_are_002029_and_create_nothing,
    empty_login_name_is_002029,
    unsupported_statements_are_000002,
    syntax_errors_are_001003,
    errors_never_repeat_passwords_or_keys,
    comment_prefixed_admin_statements_run_and_never_echo_passwords,
);

async fn invalid_public_keys_are_002029_and_change_nothing(app: TestApp) {
    let admin = app.admin().await;
    let good = &keys().a;
    admin
        .ok(&format!(
            "CREATE USER svc TYPE=SERVICE COMMENT='before' RSA_PUBLIC_KEY='{good}'"
        ))
        .await;
    let not_rsa = STANDARD.encode(b"definitely not a DER public key");
    let cases = [
        ("not base64 at all!!".to_string(), "base64"),
        (not_rsa, "RSA"),
        (keys().small.clone(), "2048"),
    ];
    for (bad, needle) in &cases {
        for sql in [
            format!("ALTER USER svc SET RSA_PUBLIC_KEY='{bad}'"),
            format!("ALTER USER svc SET RSA_PUBLIC_KEY_2='{bad}'"),
            // Valid properties in the same statement are not applied either.
            format!("ALTER USER svc SET COMMENT='after' RSA_PUBLIC_KEY='{bad}'"),
        ] {
            let v = admin.fails(&sql, "002029").await;
            let msg = v["message"].as_str().unwrap();
            assert!(msg.contains(needle), "{msg}");
            assert!(
                !v.to_string().contains(bad.as_str()),
                "the key is echoed: {v}"
            );
        }
        let v = admin
            .fails(
                &format!("CREATE USER svc2 TYPE=SERVICE RSA_PUBLIC_KEY='{bad}'"),
                "002029",
            )
            .await;
        assert!(v["message"].as_str().unwrap().contains(needle));
        assert!(!admin.user_exists("svc2").await);
    }
    let d = admin.desc_user("svc").await;
    assert_eq!(d["RSA_PUBLIC_KEY"], good.as_str());
    assert_eq!(d["RSA_PUBLIC_KEY_FP"], fp(good).as_str());
    assert_eq!(d["RSA_PUBLIC_KEY_2"], "null");
    assert_eq!(d["COMMENT"], "before");
    // A valid key still goes in.
    admin
        .ok(&format!(
            "ALTER USER svc SET RSA_PUBLIC_KEY_2='{}'",
            keys().b
        ))
        .await;
    assert_eq!(
        admin.desc_user("svc").await["RSA_PUBLIC_KEY_2_FP"],
        fp(&keys().b).as_str()
    );
}

async fn invalid_values_are_002029_and_create_nothing(app: TestApp) {
    let admin = app.admin().await;
    for (sql, needle) in [
        (
            "CREATE NETWORK POLICY bad ALLOWED_IP_LIST=('10.0.0.0/33')",
            "10.0.0.0/33",
        ),
        (
            "CREATE NETWORK POLICY bad ALLOWED_IP_LIST=('10.0.0.0/8', 'not-an-ip')",
            "not-an-ip",
        ),
        (
            "CREATE NETWORK POLICY bad ALLOWED_IP_LIST=('10.0.0.0/8') BLOCKED_IP_LIST=('300.1.1.1')",
            "300.1.1.1",
        ),
        (
            "CREATE NETWORK POLICY bad ALLOWED_IP_LIST='10.0.0.0/8'",
            "list",
        ),
        ("CREATE NETWORK POLICY bad FOO=('10.0.0.0/8')", "FOO"),
    ] {
        let v = admin.fails(sql, "002029").await;
        assert!(
            v["message"].as_str().unwrap().contains(needle),
            "{sql}: {v}"
        );
    }
    admin.fails("DESC NETWORK POLICY bad", "002003").await;
    assert!(admin.names("SHOW NETWORK POLICIES").await.is_empty());

    for (sql, needle) in [
        ("CREATE USER u FOO = 1", "FOO"),
        (
            "CREATE USER u TYPE = SERVICE PASSWORD = 'pw123456'",
            "SERVICE",
        ),
        (
            "CREATE USER u PASSWORD = 'pw123456' TYPE = SERVICE",
            "SERVICE",
        ),
        ("CREATE USER u NETWORK_POLICY = missing", "MISSING"),
        ("CREATE USER u TYPE = robot", "TYPE"),
        ("CREATE USER u DISABLED = 'maybe'", "DISABLED"),
        ("CREATE USER u PASSWORD = ''", "PASSWORD"),
    ] {
        let v = admin.fails(sql, "002029").await;
        assert!(
            v["message"].as_str().unwrap().contains(needle),
            "{sql}: {v}"
        );
        assert!(!admin.user_exists("u").await, "{sql} created u");
    }
    // A person with a password cannot become a SERVICE user while it keeps the password.
    admin.ok("CREATE USER p PASSWORD = 'pw123456'").await;
    admin
        .fails("ALTER USER p SET TYPE = SERVICE", "002029")
        .await;
    assert_eq!(admin.desc_user("p").await["TYPE"], "PERSON");
    admin
        .script(&[
            ("ALTER USER p UNSET PASSWORD", OK),
            ("ALTER USER p SET TYPE = SERVICE", OK),
            ("ALTER USER p SET PASSWORD = 'pw123456'", "002029"),
        ])
        .await;
    let d = admin.desc_user("p").await;
    assert_eq!(
        (&d["TYPE"], &d["HAS_PASSWORD"]),
        (&json!("SERVICE"), &json!("false"))
    );
    admin
        .fails("ALTER USER p SET NETWORK_POLICY = missing", "002029")
        .await;
    admin.fails("ALTER USER p UNSET FOO", "002029").await;
}

async fn empty_login_name_is_002029(app: TestApp) {
    let admin = app.admin().await;
    // An empty login name could never log in (and is an invalid DynamoDB key): refused.
    admin
        .fails("CREATE USER e LOGIN_NAME='' PASSWORD='pw123456'", "002029")
        .await;
    admin
        .fails(
            "CREATE USER e LOGIN_NAME='  ' PASSWORD='pw123456'",
            "002029",
        )
        .await;
    assert!(!admin.user_exists("e").await);
}

async fn unsupported_statements_are_000002(app: TestApp) {
    let admin = app.admin().await;
    admin.ok("CREATE USER u").await;
    for sql in [
        "GRANT APPLICATION ROLE app.r TO USER u",
        "GRANT ROLE r TO ROLE s",
        "GRANT USAGE ON WAREHOUSE w TO ROLE r",
        "REVOKE ROLE r FROM ROLE s",
        "CREATE TABLE t (a int)",
        "DROP TABLE t",
        "SHOW WAREHOUSES",
        "ALTER ROLE r SET COMMENT = 'x'",
        "DESCRIBE ROLE r",
        "ALTER USER u RENAME TO v",
    ] {
        admin.fails(sql, "000002").await;
    }
    // Refused before any privilege check: the same answer in any role.
    admin.ok("USE ROLE public").await;
    admin.fails("SHOW WAREHOUSES", "000002").await;
}

async fn syntax_errors_are_001003(app: TestApp) {
    let admin = app.admin().await;
    for sql in [
        "CREATE USER",
        "ALTER USER u SET",
        "ALTER USER u UNSET",
        "CREATE USER u PASSWORD",
        "CREATE USER u PASSWORD =",
        "CREATE OR USER u",
        "CREATE USER IF EXISTS u",
        "DROP USER IF u",
        "SHOW USERS LIKE SVC",
        "SHOW NETWORK",
        "GRANT ROLE r USER u",
        "CREATE NETWORK POLICY p ALLOWED_IP_LIST=('1.1.1.1'",
        "CREATE USER a; CREATE USER b",
        "CREATE USER \"\"",
    ] {
        admin.fails(sql, "001003").await;
    }
    assert!(!admin.user_exists("a").await);
}

async fn errors_never_repeat_passwords_or_keys(app: TestApp) {
    let admin = app.admin().await;
    let secret = "hunter2secret";
    let key = &keys().small;
    let cases = [
        format!("CREATE USER u PASSWORD = '{secret}' BOGUS"),
        format!("CREATE USER u PASSWORD = '{secret}' '{secret}'"),
        format!("CREATE USER u PASSWORD '{secret}'"),
        format!("CREATE USER u PASSWORD = $${secret}$$ FOO = 1"),
        format!("CREATE USER u TYPE = SERVICE PASSWORD = '{secret}'"),
        format!("CREATE USER u PASSWORD = ('{secret}')"),
        format!("CREATE USER u PASSWORD = '{secret}"),
        format!("ALTER USER ghost SET PASSWORD = '{secret}'"),
        format!("ALTER USER u SET PASSWORD '{secret}'"),
        format!("GRANT '{secret}' TO USER u"),
        format!("CREATE USER u RSA_PUBLIC_KEY = '{key}'"),
        format!("CREATE USER u RSA_PUBLIC_KEY = '{key}' BOGUS"),
        format!("CREATE USER u RSA_PUBLIC_KEY = '{secret}'"),
        format!("CREATE NETWORK POLICY p ALLOWED_IP_LIST = ('1.1.1.1') COMMENT = '{secret}' X"),
    ];
    for sql in &cases {
        let (status, v) = app.query(&admin, sql).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["success"], false, "{sql}: {v}");
        let text = v.to_string();
        assert!(!text.contains(secret), "{sql} echoed the password: {text}");
        assert!(!text.contains(&key[40..80]), "{sql} echoed the key: {text}");
    }
    assert!(!admin.user_exists("u").await);
}

async fn comment_prefixed_admin_statements_run_and_never_echo_passwords(app: TestApp) {
    let admin = app.admin().await;
    // A syntax error names the position, never the offending token: here the password.
    let (_, v) = app
        .query(&admin, "/* c */ ALTER USER u SET PASSWORD 'hunter2secret'")
        .await;
    assert!(!v.to_string().contains("hunter2secret"), "{v}");
    // Tools such as dbt prefix every statement with a comment: still administration.
    admin
        .ok("-- created by a tool\nCREATE USER tool_user")
        .await;
    admin.ok("/* {\"app\": \"dbt\"} */ SHOW USERS").await;
}
