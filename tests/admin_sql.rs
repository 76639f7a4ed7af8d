//! The administration statements (users, roles, network policies, the account's policy) through the
//! query route, each test body on the in-memory store and on DynamoDB (moto_server): who may run them,
//! what they answer, what they refuse (with Snowflake's codes and SQLSTATEs), that a refused statement
//! changes nothing, and that no answer ever repeats a password or key given in the SQL.

#[macro_use]
mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use rsa::RsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use serde_json::{Value, json};
use snowgate::domain::keys::fingerprint;

const LOGIN: &str = "/session/v1/login-request";

on_every_store!(
    only_administrator_roles_administer,
    create_user_if_not_exists_plain_and_or_replace,
    identifiers_follow_snowflake_case_rules,
    describe_user_shows_properties_but_never_the_password,
    show_users_filters_with_a_case_insensitive_like,
    invalid_public_keys_are_002029_and_change_nothing,
    invalid_values_are_002029_and_create_nothing,
    alter_user_set_and_unset_round_trip,
    alter_and_drop_of_missing_users,
    roles_show_grant_and_revoke,
    dropping_a_role_revokes_it_from_its_users,
    system_roles_cannot_be_dropped_or_recreated,
    network_policy_lifecycle,
    account_network_policy_guards_the_caller_and_applies_to_logins,
    unsupported_statements_are_000002,
    syntax_errors_are_001003,
    errors_never_repeat_passwords_or_keys,
    login_name_is_what_the_user_logs_in_with,
    the_demo_user_is_an_ordinary_user,
    open_sessions_lose_administration_with_the_grant,
    system_roles_are_granted_only_by_their_holders,
    the_active_account_policy_cannot_be_altered_to_lock_out_the_caller,
);

// ---------------------------------------------------------------------------------------------------
// Helpers.

/// Two 2048-bit public keys and one of 1024 bits (too small), as base64 SPKI DER; generated once.
struct Keys {
    a: String,
    b: String,
    small: String,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let public = |bits: usize| {
            let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).expect("RSA key");
            let der = key.to_public_key().to_public_key_der().expect("SPKI DER");
            STANDARD.encode(der.as_bytes())
        };
        std::thread::scope(|s| {
            let a = s.spawn(|| public(2048));
            let b = s.spawn(|| public(2048));
            let small = s.spawn(|| public(1024));
            Keys {
                a: a.join().unwrap(),
                b: b.join().unwrap(),
                small: small.join().unwrap(),
            }
        })
    })
}

fn fp(b64: &str) -> String {
    fingerprint(&STANDARD.decode(b64).unwrap())
}

/// Runs `sql` and asserts it succeeds.
async fn ok(app: &TestApp, token: &str, sql: &str) -> Value {
    let (status, v) = app.query(token, sql).await;
    assert_eq!(status, StatusCode::OK, "{sql}: {v}");
    assert_eq!(v["success"], true, "{sql}: {v}");
    v
}

/// The SQLSTATE that goes with each SQL error code.
fn sql_state(code: &str) -> &'static str {
    match code {
        "000002" => "0A000",
        "001003" => "42000",
        "002002" => "42710",
        "002003" => "02000",
        "002029" => "22023",
        "003001" => "42501",
        other => panic!("no SQLSTATE known for {other}"),
    }
}

/// Runs `sql` and asserts it fails with the SQL error `code` (HTTP 200, `data.errorCode` and
/// `data.sqlState` set as JDBC reads them). Returns the whole answer.
async fn fails(app: &TestApp, token: &str, sql: &str, code: &str) -> Value {
    let (status, v) = app.query(token, sql).await;
    assert_eq!(status, StatusCode::OK, "{sql}: {v}");
    assert_failure(&v, code);
    assert_eq!(v["data"]["errorCode"], code, "{sql}: {v}");
    assert_eq!(v["data"]["sqlState"], sql_state(code), "{sql}: {v}");
    assert!(
        v["data"]["queryId"].as_str().is_some_and(|q| !q.is_empty()),
        "{sql}: {v}"
    );
    v
}

/// The rows of a result.
fn rows(v: &Value) -> Vec<Vec<Value>> {
    v["data"]["rowset"]
        .as_array()
        .unwrap_or_else(|| panic!("no rowset: {v}"))
        .iter()
        .map(|r| r.as_array().unwrap().clone())
        .collect()
}

/// The index of column `name` in a result.
fn column(v: &Value, name: &str) -> usize {
    v["data"]["rowtype"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name}: {v}"))
}

/// A listing (SHOW …) as one map per row, column name → value.
fn listing(v: &Value) -> Vec<BTreeMap<String, Value>> {
    let names: Vec<String> = v["data"]["rowtype"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    rows(v)
        .into_iter()
        .map(|r| names.iter().cloned().zip(r).collect())
        .collect()
}

/// The `name` column of a SHOW statement.
async fn names(app: &TestApp, token: &str, sql: &str) -> Vec<String> {
    let v = ok(app, token, sql).await;
    let i = column(&v, "name");
    rows(&v)
        .iter()
        .map(|r| r[i].as_str().unwrap().to_string())
        .collect()
}

/// `DESC USER` as property → value.
async fn desc_user(app: &TestApp, token: &str, user: &str) -> BTreeMap<String, Value> {
    let v = ok(app, token, &format!("DESC USER {user}")).await;
    assert_eq!(column(&v, "property"), 0);
    assert_eq!(column(&v, "value"), 1);
    rows(&v)
        .into_iter()
        .map(|r| (r[0].as_str().unwrap().to_string(), r[1].clone()))
        .collect()
}

async fn user_exists(app: &TestApp, token: &str, user: &str) -> bool {
    let (_, v) = app.query(token, &format!("DESC USER {user}")).await;
    match v["success"].as_bool() {
        Some(true) => true,
        _ => {
            assert_eq!(v["code"], "002003", "{v}");
            false
        }
    }
}

/// A password login, as the answer.
async fn password_login(app: &TestApp, ip: Option<&str>, user: &str, pw: &str) -> Value {
    app.post_from(ip, LOGIN, None, login_body(user, pw)).await.1
}

// ---------------------------------------------------------------------------------------------------
// Who may administer.

async fn only_administrator_roles_administer(app: TestApp) {
    let admin = app.login().await.session;
    for role in ["sysadmin", "public"] {
        ok(&app, &admin, &format!("USE ROLE {role}")).await;
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
            let v = fails(&app, &admin, sql, "003001").await;
            let msg = v["message"].as_str().unwrap();
            assert!(msg.contains(&role.to_uppercase()), "{sql}: {msg}");
        }
    }
    // Nothing was created.
    ok(&app, &admin, "USE ROLE accountadmin").await;
    assert!(!user_exists(&app, &admin, "intruder").await);
    assert!(
        !names(&app, &admin, "SHOW ROLES")
            .await
            .contains(&"INTRUDERS".to_string())
    );
    assert!(
        names(&app, &admin, "SHOW NETWORK POLICIES")
            .await
            .is_empty()
    );
    // SECURITYADMIN and USERADMIN administer users.
    for (role, user) in [("securityadmin", "by_security"), ("useradmin", "by_user")] {
        let v = ok(&app, &admin, &format!("USE ROLE {role}")).await;
        assert_eq!(v["data"]["finalRoleName"], role.to_uppercase());
        let v = ok(
            &app,
            &admin,
            &format!("CREATE USER {user} PASSWORD='pw123456'"),
        )
        .await;
        assert_eq!(v["data"]["finalRoleName"], role.to_uppercase());
        assert!(user_exists(&app, &admin, user).await);
    }
    // A user without an administrator role cannot, whatever its own role.
    ok(&app, &admin, "USE ROLE accountadmin").await;
    ok(&app, &admin, "CREATE ROLE analyst").await;
    ok(
        &app,
        &admin,
        "CREATE USER bob PASSWORD='pw123456' DEFAULT_ROLE=analyst",
    )
    .await;
    ok(&app, &admin, "GRANT ROLE analyst TO USER bob").await;
    let bob = app.login_as("bob", "pw123456").await.session;
    fails(
        &app,
        &bob,
        "CREATE USER mallory PASSWORD='pw123456'",
        "003001",
    )
    .await;
    fails(&app, &bob, "ALTER USER bob SET COMMENT='me'", "003001").await;
    fails(&app, &bob, "USE ROLE useradmin", "003001").await;
    assert!(!user_exists(&app, &admin, "mallory").await);
}

// ---------------------------------------------------------------------------------------------------
// CREATE USER.

async fn create_user_if_not_exists_plain_and_or_replace(app: TestApp) {
    let admin = app.login().await.session;
    let v = ok(
        &app,
        &admin,
        "CREATE USER IF NOT EXISTS alice COMMENT='one'",
    )
    .await;
    assert_eq!(
        rows(&v),
        vec![vec![json!("User ALICE successfully created.")]]
    );
    assert_eq!(v["data"]["statementTypeId"], 0x6000);
    let v = ok(
        &app,
        &admin,
        "CREATE USER IF NOT EXISTS alice COMMENT='two'",
    )
    .await;
    let status = rows(&v)[0][0].as_str().unwrap().to_string();
    assert!(status.contains("already exists"), "{status}");
    assert_eq!(desc_user(&app, &admin, "alice").await["COMMENT"], "one");

    let v = fails(&app, &admin, "CREATE USER alice COMMENT='three'", "002002").await;
    assert!(v["message"].as_str().unwrap().contains("ALICE"), "{v}");
    assert_eq!(desc_user(&app, &admin, "alice").await["COMMENT"], "one");

    ok(
        &app,
        &admin,
        "CREATE USER bob PASSWORD='pw123456' COMMENT='first' DEFAULT_ROLE=sysadmin",
    )
    .await;
    app.login_as("bob", "pw123456").await;
    let v = ok(&app, &admin, "CREATE OR REPLACE USER bob COMMENT='second'").await;
    assert!(rows(&v)[0][0].as_str().unwrap().contains("BOB"), "{v}");
    let bob = desc_user(&app, &admin, "bob").await;
    assert_eq!(bob["COMMENT"], "second");
    assert_eq!(bob["HAS_PASSWORD"], "false");
    assert_eq!(bob["DEFAULT_ROLE"], "null");
    // The replaced user's password went with it.
    assert_failure(
        &password_login(&app, None, "bob", "pw123456").await,
        "390100",
    );
    // OR REPLACE of a missing user creates it.
    ok(&app, &admin, "CREATE OR REPLACE USER carol").await;
    assert!(user_exists(&app, &admin, "carol").await);
    // Trailing semicolon and lower-case keywords are fine.
    ok(&app, &admin, "create user if not exists dave;").await;
    assert!(user_exists(&app, &admin, "dave").await);
}

async fn identifiers_follow_snowflake_case_rules(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER alice").await;
    for name in ["alice", "ALICE", "Alice", "\"ALICE\""] {
        assert_eq!(desc_user(&app, &admin, name).await["NAME"], "ALICE");
    }
    fails(&app, &admin, "DESC USER \"alice\"", "002003").await;

    ok(
        &app,
        &admin,
        "CREATE USER \"MixedCase\" PASSWORD='pw123456'",
    )
    .await;
    let d = desc_user(&app, &admin, "\"MixedCase\"").await;
    assert_eq!(d["NAME"], "MixedCase");
    let v = fails(&app, &admin, "DESC USER mixedcase", "002003").await;
    assert!(v["message"].as_str().unwrap().contains("MIXEDCASE"), "{v}");
    fails(&app, &admin, "DESC USER \"mixedcase\"", "002003").await;
    fails(
        &app,
        &admin,
        "ALTER USER mixedcase SET COMMENT='x'",
        "002003",
    )
    .await;
    ok(&app, &admin, "ALTER USER \"MixedCase\" SET COMMENT='x'").await;
    let all = names(&app, &admin, "SHOW USERS").await;
    assert!(all.contains(&"MixedCase".to_string()), "{all:?}");
    assert!(all.contains(&"ALICE".to_string()), "{all:?}");
    // Its login name compares case-insensitively, like every login name.
    app.login_as("mixedcase", "pw123456").await;
    let s = app.login_as("MIXEDCASE", "pw123456").await.session;
    let (_, v) = app.query(&s, "SELECT CURRENT_USER()").await;
    assert_eq!(v["data"]["rowset"], json!([["MixedCase"]]));
    // Roles follow the same rules.
    ok(&app, &admin, "CREATE ROLE \"Readers\"").await;
    ok(&app, &admin, "CREATE ROLE readers").await;
    let roles = names(&app, &admin, "SHOW ROLES").await;
    assert!(roles.contains(&"Readers".to_string()) && roles.contains(&"READERS".to_string()));
    fails(
        &app,
        &admin,
        "GRANT ROLE \"readers\" TO USER alice",
        "002003",
    )
    .await;
    ok(&app, &admin, "GRANT ROLE \"Readers\" TO USER alice").await;
}

async fn describe_user_shows_properties_but_never_the_password(app: TestApp) {
    let admin = app.login().await.session;
    let key = &keys().a;
    ok(
        &app,
        &admin,
        &format!(
            "CREATE USER alice PASSWORD='s3cret-pa55word' COMMENT='analyst' DISPLAY_NAME='Alice A.' \
             EMAIL='alice@example.com' DEFAULT_ROLE=public DEFAULT_WAREHOUSE=wh_xs \
             DEFAULT_NAMESPACE='analytics.raw' RSA_PUBLIC_KEY='{key}'"
        ),
    )
    .await;
    let (_, v) = app.query(&admin, "DESC USER alice").await;
    let text = v.to_string();
    assert!(!text.contains("s3cret-pa55word"), "{text}");
    assert!(!text.contains("argon2"), "the hash must not show: {text}");
    let cols: Vec<_> = v["data"]["rowtype"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, ["property", "value", "default", "description"]);
    assert_eq!(v["data"]["statementTypeId"], 0x1000);
    let d = desc_user(&app, &admin, "alice").await;
    let expected = [
        ("NAME", "ALICE"),
        ("COMMENT", "analyst"),
        ("DISPLAY_NAME", "Alice A."),
        ("LOGIN_NAME", "ALICE"),
        ("EMAIL", "alice@example.com"),
        ("TYPE", "PERSON"),
        ("DISABLED", "false"),
        ("DEFAULT_WAREHOUSE", "WH_XS"),
        ("DEFAULT_NAMESPACE", "ANALYTICS.RAW"),
        ("DEFAULT_ROLE", "PUBLIC"),
        ("HAS_PASSWORD", "true"),
        ("RSA_PUBLIC_KEY_2", "null"),
        ("RSA_PUBLIC_KEY_2_FP", "null"),
        ("NETWORK_POLICY", "null"),
    ];
    for (property, value) in expected {
        assert_eq!(d[property], value, "{property}: {d:?}");
    }
    assert_eq!(d["RSA_PUBLIC_KEY"], key.as_str());
    let key_fp = d["RSA_PUBLIC_KEY_FP"].as_str().unwrap();
    assert_eq!(key_fp, fp(key));
    assert!(
        key_fp.starts_with("SHA256:") && key_fp.len() == 51,
        "{key_fp}"
    );

    // A key-only SERVICE user has no password; a PEM-armoured key is stored as its base64 DER.
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----",
        keys()
            .b
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    );
    ok(
        &app,
        &admin,
        &format!("CREATE USER svc TYPE=SERVICE RSA_PUBLIC_KEY='{pem}'"),
    )
    .await;
    let d = desc_user(&app, &admin, "svc").await;
    assert_eq!(d["HAS_PASSWORD"], "false");
    assert_eq!(d["TYPE"], "SERVICE");
    assert_eq!(d["RSA_PUBLIC_KEY"], keys().b.as_str());
    assert_eq!(d["RSA_PUBLIC_KEY_FP"], fp(&keys().b).as_str());

    // SHOW USERS never shows the password either.
    let v = ok(&app, &admin, "SHOW USERS").await;
    let text = v.to_string();
    assert!(
        !text.contains("s3cret-pa55word") && !text.contains("argon2"),
        "{text}"
    );
    let alice = listing(&v)
        .into_iter()
        .find(|u| u["name"] == "ALICE")
        .unwrap();
    assert_eq!(alice["has_password"], "true");
    assert_eq!(alice["has_rsa_public_key"], "true");
    assert_eq!(alice["login_name"], "ALICE");
    assert_eq!(alice["type"], "PERSON");
    // DESC of a missing user.
    fails(&app, &admin, "DESC USER nobody", "002003").await;
    fails(&app, &admin, "DESCRIBE USER nobody", "002003").await;
}

async fn show_users_filters_with_a_case_insensitive_like(app: TestApp) {
    let admin = app.login().await.session;
    for user in ["svc_a", "svc_b", "bob", "\"svc_lower\""] {
        ok(&app, &admin, &format!("CREATE USER {user}")).await;
    }
    let all = names(&app, &admin, "SHOW USERS").await;
    for user in ["EMBUCKET", "SVC_A", "SVC_B", "BOB", "svc_lower"] {
        assert!(all.contains(&user.to_string()), "{user} in {all:?}");
    }
    let v = ok(&app, &admin, "SHOW USERS").await;
    let demo = listing(&v)
        .into_iter()
        .find(|u| u["name"] == "EMBUCKET")
        .unwrap();
    assert_eq!(demo["default_role"], "ACCOUNTADMIN");
    assert_eq!(demo["disabled"], "false");
    for pattern in ["SVC%", "svc%", "Svc_%"] {
        let mut got = names(&app, &admin, &format!("SHOW USERS LIKE '{pattern}'")).await;
        got.sort();
        assert_eq!(got, ["SVC_A", "SVC_B", "svc_lower"], "{pattern}");
    }
    assert_eq!(
        names(&app, &admin, "SHOW USERS LIKE 'svc_a'").await,
        ["SVC_A"]
    );
    assert_eq!(
        names(&app, &admin, "show terse users like '%bucket'").await,
        ["EMBUCKET"]
    );
    assert!(
        names(&app, &admin, "SHOW USERS LIKE 'nobody%'")
            .await
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------------------
// Refusals that change nothing.

async fn invalid_public_keys_are_002029_and_change_nothing(app: TestApp) {
    let admin = app.login().await.session;
    let good = &keys().a;
    ok(
        &app,
        &admin,
        &format!("CREATE USER svc TYPE=SERVICE COMMENT='before' RSA_PUBLIC_KEY='{good}'"),
    )
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
            let v = fails(&app, &admin, &sql, "002029").await;
            let msg = v["message"].as_str().unwrap();
            assert!(msg.contains(needle), "{msg}");
            assert!(
                !v.to_string().contains(bad.as_str()),
                "the key is echoed: {v}"
            );
        }
        let v = fails(
            &app,
            &admin,
            &format!("CREATE USER svc2 TYPE=SERVICE RSA_PUBLIC_KEY='{bad}'"),
            "002029",
        )
        .await;
        assert!(v["message"].as_str().unwrap().contains(needle));
        assert!(!user_exists(&app, &admin, "svc2").await);
    }
    let d = desc_user(&app, &admin, "svc").await;
    assert_eq!(d["RSA_PUBLIC_KEY"], good.as_str());
    assert_eq!(d["RSA_PUBLIC_KEY_FP"], fp(good).as_str());
    assert_eq!(d["RSA_PUBLIC_KEY_2"], "null");
    assert_eq!(d["COMMENT"], "before");
    // A valid key still goes in.
    ok(
        &app,
        &admin,
        &format!("ALTER USER svc SET RSA_PUBLIC_KEY_2='{}'", keys().b),
    )
    .await;
    assert_eq!(
        desc_user(&app, &admin, "svc").await["RSA_PUBLIC_KEY_2_FP"],
        fp(&keys().b).as_str()
    );
}

async fn invalid_values_are_002029_and_create_nothing(app: TestApp) {
    let admin = app.login().await.session;
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
        let v = fails(&app, &admin, sql, "002029").await;
        assert!(
            v["message"].as_str().unwrap().contains(needle),
            "{sql}: {v}"
        );
    }
    fails(&app, &admin, "DESC NETWORK POLICY bad", "002003").await;
    assert!(
        names(&app, &admin, "SHOW NETWORK POLICIES")
            .await
            .is_empty()
    );

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
        let v = fails(&app, &admin, sql, "002029").await;
        assert!(
            v["message"].as_str().unwrap().contains(needle),
            "{sql}: {v}"
        );
        assert!(!user_exists(&app, &admin, "u").await, "{sql} created u");
    }
    // A person with a password cannot become a SERVICE user while it keeps the password.
    ok(&app, &admin, "CREATE USER p PASSWORD = 'pw123456'").await;
    fails(&app, &admin, "ALTER USER p SET TYPE = SERVICE", "002029").await;
    assert_eq!(desc_user(&app, &admin, "p").await["TYPE"], "PERSON");
    ok(&app, &admin, "ALTER USER p UNSET PASSWORD").await;
    ok(&app, &admin, "ALTER USER p SET TYPE = SERVICE").await;
    fails(
        &app,
        &admin,
        "ALTER USER p SET PASSWORD = 'pw123456'",
        "002029",
    )
    .await;
    let d = desc_user(&app, &admin, "p").await;
    assert_eq!(
        (&d["TYPE"], &d["HAS_PASSWORD"]),
        (&json!("SERVICE"), &json!("false"))
    );
    fails(
        &app,
        &admin,
        "ALTER USER p SET NETWORK_POLICY = missing",
        "002029",
    )
    .await;
    fails(&app, &admin, "ALTER USER p UNSET FOO", "002029").await;
}

// ---------------------------------------------------------------------------------------------------
// ALTER / DROP USER.

async fn alter_user_set_and_unset_round_trip(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE ROLE analyst").await;
    ok(&app, &admin, "CREATE USER bob PASSWORD='pw123456'").await;
    let d = desc_user(&app, &admin, "bob").await;
    assert_eq!(
        (&d["COMMENT"], &d["DEFAULT_ROLE"], &d["DISABLED"]),
        (&json!("null"), &json!("null"), &json!("false"))
    );
    let v = ok(
        &app,
        &admin,
        "ALTER USER bob SET COMMENT = $$it's bob$$, DEFAULT_ROLE = 'analyst' DISABLED = TRUE",
    )
    .await;
    assert_eq!(
        rows(&v),
        vec![vec![json!("Statement executed successfully.")]]
    );
    let d = desc_user(&app, &admin, "bob").await;
    assert_eq!(
        (&d["COMMENT"], &d["DEFAULT_ROLE"], &d["DISABLED"]),
        (&json!("it's bob"), &json!("ANALYST"), &json!("true"))
    );
    // Disabled: the right password gets 390101, a wrong one 390100.
    assert_failure(
        &password_login(&app, None, "bob", "pw123456").await,
        "390101",
    );
    assert_failure(&password_login(&app, None, "bob", "wrong").await, "390100");
    ok(&app, &admin, "ALTER USER bob UNSET COMMENT, DEFAULT_ROLE").await;
    ok(&app, &admin, "alter user bob set disabled = false").await;
    let d = desc_user(&app, &admin, "bob").await;
    assert_eq!(
        (&d["COMMENT"], &d["DEFAULT_ROLE"], &d["DISABLED"]),
        (&json!("null"), &json!("null"), &json!("false"))
    );
    app.login_as("bob", "pw123456").await;
    ok(&app, &admin, "ALTER USER bob SET DISABLED = TRUE").await;
    ok(&app, &admin, "ALTER USER bob UNSET DISABLED").await;
    assert_eq!(desc_user(&app, &admin, "bob").await["DISABLED"], "false");
    // A new password replaces the old one.
    ok(&app, &admin, "ALTER USER bob SET PASSWORD = 'new-pw-789'").await;
    assert_failure(
        &password_login(&app, None, "bob", "pw123456").await,
        "390100",
    );
    app.login_as("bob", "new-pw-789").await;
    // The default role applies at login once granted.
    ok(&app, &admin, "ALTER USER bob SET DEFAULT_ROLE = analyst").await;
    let v = password_login(&app, None, "bob", "new-pw-789").await;
    assert_eq!(
        v["data"]["sessionInfo"]["roleName"], "PUBLIC",
        "not granted yet"
    );
    ok(&app, &admin, "GRANT ROLE analyst TO USER bob").await;
    let v = password_login(&app, None, "bob", "new-pw-789").await;
    assert_eq!(v["data"]["sessionInfo"]["roleName"], "ANALYST");
}

async fn alter_and_drop_of_missing_users(app: TestApp) {
    let admin = app.login().await.session;
    let v = ok(&app, &admin, "ALTER USER IF EXISTS ghost SET COMMENT = 'x'").await;
    assert_eq!(v["success"], true);
    assert!(!user_exists(&app, &admin, "ghost").await);
    let v = fails(&app, &admin, "ALTER USER ghost SET COMMENT = 'x'", "002003").await;
    assert!(v["message"].as_str().unwrap().contains("GHOST"));
    fails(&app, &admin, "ALTER USER ghost UNSET COMMENT", "002003").await;
    let v = ok(&app, &admin, "DROP USER IF EXISTS ghost").await;
    assert!(rows(&v)[0][0].as_str().unwrap().contains("GHOST"));
    fails(&app, &admin, "DROP USER ghost", "002003").await;

    ok(&app, &admin, "CREATE USER bob PASSWORD = 'pw123456'").await;
    app.login_as("bob", "pw123456").await;
    let v = ok(&app, &admin, "DROP USER bob").await;
    assert!(rows(&v)[0][0].as_str().unwrap().contains("dropped"));
    assert!(!user_exists(&app, &admin, "bob").await);
    assert_failure(
        &password_login(&app, None, "bob", "pw123456").await,
        "390100",
    );
    fails(&app, &admin, "DROP USER bob", "002003").await;
    assert!(
        !names(&app, &admin, "SHOW USERS")
            .await
            .contains(&"BOB".to_string())
    );
    // The name is free again.
    ok(&app, &admin, "CREATE USER bob PASSWORD = 'other-pw-1'").await;
    app.login_as("bob", "other-pw-1").await;
}

// ---------------------------------------------------------------------------------------------------
// Roles.

fn role_row(v: &Value, role: &str) -> BTreeMap<String, Value> {
    listing(v)
        .into_iter()
        .find(|r| r["name"] == role)
        .unwrap_or_else(|| panic!("no role {role}: {v}"))
}

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

// ---------------------------------------------------------------------------------------------------
// Network policies.

async fn network_policy_lifecycle(app: TestApp) {
    let admin = app.login().await.session;
    let v = ok(
        &app,
        &admin,
        "CREATE NETWORK POLICY office ALLOWED_IP_LIST=('10.0.0.0/8', '192.168.1.7', '2001:db8::/32') \
         BLOCKED_IP_LIST=('10.1.0.0/16') COMMENT='office ranges'",
    )
    .await;
    assert!(rows(&v)[0][0].as_str().unwrap().contains("OFFICE"));
    fails(
        &app,
        &admin,
        "CREATE NETWORK POLICY office ALLOWED_IP_LIST=('10.0.0.0/8')",
        "002002",
    )
    .await;
    ok(
        &app,
        &admin,
        "CREATE NETWORK POLICY IF NOT EXISTS office ALLOWED_IP_LIST=('1.1.1.1')",
    )
    .await;
    ok(
        &app,
        &admin,
        "CREATE NETWORK POLICY vpn ALLOWED_IP_LIST=('172.16.0.0/12')",
    )
    .await;

    let v = ok(&app, &admin, "DESC NETWORK POLICY office").await;
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
    let v = ok(&app, &admin, "SHOW NETWORK POLICIES").await;
    let policies = listing(&v);
    assert_eq!(policies.len(), 2, "{v}");
    let office = policies.iter().find(|p| p["name"] == "OFFICE").unwrap();
    assert_eq!(office["entries_in_allowed_ip_list"], "3");
    assert_eq!(office["entries_in_blocked_ip_list"], "1");
    assert_eq!(office["comment"], "office ranges");
    assert_eq!(
        names(&app, &admin, "SHOW NETWORK POLICIES LIKE 'v%'").await,
        ["VPN"]
    );

    ok(
        &app,
        &admin,
        "ALTER NETWORK POLICY office SET ALLOWED_IP_LIST=('10.0.0.0/8') COMMENT='smaller'",
    )
    .await;
    ok(
        &app,
        &admin,
        "ALTER NETWORK POLICY office UNSET BLOCKED_IP_LIST",
    )
    .await;
    let v = ok(&app, &admin, "DESC NETWORK POLICY office").await;
    assert_eq!(
        rows(&v),
        vec![
            vec![json!("ALLOWED_IP_LIST"), json!("10.0.0.0/8")],
            vec![json!("BLOCKED_IP_LIST"), json!("")],
        ]
    );
    let v = ok(&app, &admin, "SHOW NETWORK POLICIES LIKE 'office'").await;
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
    fails(
        &app,
        &admin,
        "ALTER NETWORK POLICY office SET ALLOWED_IP_LIST=('10.0.0.0/99')",
        "002029",
    )
    .await;
    let v = ok(&app, &admin, "DESC NETWORK POLICY office").await;
    assert_eq!(rows(&v)[0][1], "10.0.0.0/8");
    fails(
        &app,
        &admin,
        "ALTER NETWORK POLICY ghost SET COMMENT='x'",
        "002003",
    )
    .await;
    ok(
        &app,
        &admin,
        "ALTER NETWORK POLICY IF EXISTS ghost SET COMMENT='x'",
    )
    .await;

    // Attached to a user: not droppable.
    ok(
        &app,
        &admin,
        "CREATE USER bob PASSWORD='pw123456' NETWORK_POLICY=office",
    )
    .await;
    assert_eq!(
        desc_user(&app, &admin, "bob").await["NETWORK_POLICY"],
        "OFFICE"
    );
    let v = fails(&app, &admin, "DROP NETWORK POLICY office", "002029").await;
    assert!(v["message"].as_str().unwrap().contains("OFFICE"));
    fails(
        &app,
        &admin,
        "DROP NETWORK POLICY IF EXISTS office",
        "002029",
    )
    .await;
    ok(&app, &admin, "DESC NETWORK POLICY office").await;
    ok(&app, &admin, "ALTER USER bob UNSET NETWORK_POLICY").await;
    ok(&app, &admin, "DROP NETWORK POLICY office").await;
    fails(&app, &admin, "DESC NETWORK POLICY office", "002003").await;

    // Attached to the account: not droppable either.
    ok(
        &app,
        &admin,
        "CREATE NETWORK POLICY local ALLOWED_IP_LIST=('127.0.0.0/8')",
    )
    .await;
    let (_, v) = app
        .query_from(
            Some("127.0.0.1"),
            &admin,
            "ALTER ACCOUNT SET NETWORK_POLICY = local",
        )
        .await;
    assert_eq!(v["success"], true, "{v}");
    fails(&app, &admin, "DROP NETWORK POLICY local", "002029").await;
    ok(&app, &admin, "ALTER ACCOUNT UNSET NETWORK_POLICY").await;
    ok(&app, &admin, "DROP NETWORK POLICY local").await;

    fails(&app, &admin, "DROP NETWORK POLICY ghost", "002003").await;
    ok(&app, &admin, "DROP NETWORK POLICY IF EXISTS ghost").await;
    assert_eq!(names(&app, &admin, "SHOW NETWORK POLICIES").await, ["VPN"]);
}

async fn account_network_policy_guards_the_caller_and_applies_to_logins(app: TestApp) {
    let admin = app.login().await.session;
    ok(
        &app,
        &admin,
        "CREATE NETWORK POLICY corp ALLOWED_IP_LIST=('10.0.0.0/8')",
    )
    .await;
    ok(
        &app,
        &admin,
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
    ok(&app, &admin, "CREATE USER bob PASSWORD='pw123456'").await;
    ok(
        &app,
        &admin,
        "CREATE NETWORK POLICY bobs ALLOWED_IP_LIST=('10.9.9.9')",
    )
    .await;
    assert_failure(
        &password_login(&app, Some("10.9.9.9"), "bob", "pw123456").await,
        "390422",
    );
    ok(&app, &admin, "ALTER USER bob SET NETWORK_POLICY = bobs").await;
    assert_eq!(
        password_login(&app, Some("10.9.9.9"), "bob", "pw123456").await["success"],
        true
    );
    assert_failure(
        &password_login(&app, Some("127.0.0.1"), "bob", "pw123456").await,
        "390422",
    );

    ok(&app, &admin, "ALTER ACCOUNT UNSET NETWORK_POLICY").await;
    assert_eq!(
        password_login(&app, Some("10.9.9.9"), "embucket", "embucket").await["success"],
        true
    );
    assert_eq!(
        password_login(&app, None, "embucket", "embucket").await["success"],
        true
    );
    // Only NETWORK_POLICY is an account setting here.
    fails(&app, &admin, "ALTER ACCOUNT SET TIMEZONE = 'UTC'", "000002").await;
}

// ---------------------------------------------------------------------------------------------------
// What is not supported, and syntax errors.

async fn unsupported_statements_are_000002(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER u").await;
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
        fails(&app, &admin, sql, "000002").await;
    }
    // Refused before any privilege check: the same answer in any role.
    ok(&app, &admin, "USE ROLE public").await;
    fails(&app, &admin, "SHOW WAREHOUSES", "000002").await;
}

async fn syntax_errors_are_001003(app: TestApp) {
    let admin = app.login().await.session;
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
        fails(&app, &admin, sql, "001003").await;
    }
    assert!(!user_exists(&app, &admin, "a").await);
}

async fn errors_never_repeat_passwords_or_keys(app: TestApp) {
    let admin = app.login().await.session;
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
    assert!(!user_exists(&app, &admin, "u").await);
}

// ---------------------------------------------------------------------------------------------------
// LOGIN_NAME and the demo user.

async fn login_name_is_what_the_user_logs_in_with(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE ROLE analyst").await;
    ok(
        &app,
        &admin,
        "CREATE USER carol LOGIN_NAME='c.login' PASSWORD='pw123456' DEFAULT_ROLE=analyst",
    )
    .await;
    ok(&app, &admin, "GRANT ROLE analyst TO USER carol").await;
    assert_eq!(
        desc_user(&app, &admin, "carol").await["LOGIN_NAME"],
        "C.LOGIN"
    );
    for login in ["c.login", "C.LOGIN"] {
        let s = app.login_as(login, "pw123456").await.session;
        let (_, v) = app.query(&s, "SELECT CURRENT_USER(), CURRENT_ROLE()").await;
        assert_eq!(v["data"]["rowset"], json!([["CAROL", "ANALYST"]]));
        // The session is the user's (not its login name's): its grants apply.
        ok(&app, &s, "USE ROLE public").await;
        ok(&app, &s, "USE ROLE analyst").await;
    }
    let v = password_login(&app, None, "carol", "pw123456").await;
    assert_failure(&v, "390100");

    // Nobody else may take that login name, nor a name equal to it, nor the demo user's.
    for sql in [
        "CREATE USER dave LOGIN_NAME='C.LOGIN' PASSWORD='pw123456'",
        "CREATE USER \"C.LOGIN\" PASSWORD='pw123456'",
        "CREATE USER erin LOGIN_NAME='embucket'",
    ] {
        fails(&app, &admin, sql, "002029").await;
    }
    assert!(!user_exists(&app, &admin, "dave").await);
    ok(&app, &admin, "CREATE USER dave PASSWORD='pw123456'").await;
    fails(
        &app,
        &admin,
        "ALTER USER dave SET LOGIN_NAME='c.login'",
        "002029",
    )
    .await;
    fails(
        &app,
        &admin,
        "ALTER USER carol SET LOGIN_NAME='dave'",
        "002029",
    )
    .await;
    app.login_as("dave", "pw123456").await;

    // Changing it moves the login; the old one is free again.
    ok(&app, &admin, "ALTER USER carol SET LOGIN_NAME='carol.new'").await;
    assert_failure(
        &password_login(&app, None, "c.login", "pw123456").await,
        "390100",
    );
    app.login_as("carol.new", "pw123456").await;
    ok(&app, &admin, "ALTER USER dave SET LOGIN_NAME='c.login'").await;
    app.login_as("c.login", "pw123456").await;
    assert_failure(
        &password_login(&app, None, "dave", "pw123456").await,
        "390100",
    );
    // Unset: back to the user's name.
    ok(&app, &admin, "ALTER USER carol UNSET LOGIN_NAME").await;
    app.login_as("carol", "pw123456").await;
    assert_failure(
        &password_login(&app, None, "carol.new", "pw123456").await,
        "390100",
    );
    // Dropping a user frees its login name.
    ok(&app, &admin, "DROP USER dave").await;
    assert_failure(
        &password_login(&app, None, "c.login", "pw123456").await,
        "390100",
    );
    ok(
        &app,
        &admin,
        "CREATE USER frank LOGIN_NAME='c.login' PASSWORD='pw123456'",
    )
    .await;
    let s = app.login_as("c.login", "pw123456").await.session;
    let (_, v) = app.query(&s, "SELECT CURRENT_USER()").await;
    assert_eq!(v["data"]["rowset"], json!([["FRANK"]]));
}

async fn the_demo_user_is_an_ordinary_user(app: TestApp) {
    let admin = app.login().await.session;
    // Seeded from the configuration: a PERSON with ACCOUNTADMIN and a password (never shown).
    let d = desc_user(&app, &admin, "embucket").await;
    assert_eq!(d["NAME"], "EMBUCKET");
    assert_eq!(d["TYPE"], "PERSON");
    assert_eq!(d["DEFAULT_ROLE"], "ACCOUNTADMIN");
    assert_eq!(d["HAS_PASSWORD"], "true");
    fails(
        &app,
        &admin,
        "CREATE USER embucket PASSWORD = 'pw123456'",
        "002002",
    )
    .await;
    ok(&app, &admin, "CREATE USER IF NOT EXISTS embucket").await;
    // Administrators change it like any user; DISABLED applies to it as to anyone.
    ok(
        &app,
        &admin,
        "CREATE USER backup_admin PASSWORD = 'pw123456' DEFAULT_ROLE = accountadmin",
    )
    .await;
    ok(&app, &admin, "GRANT ROLE accountadmin TO USER backup_admin").await;
    ok(&app, &admin, "ALTER USER embucket SET COMMENT = 'the demo'").await;
    assert_eq!(
        desc_user(&app, &admin, "embucket").await["COMMENT"],
        "the demo"
    );
    let backup = app.login_as("backup_admin", "pw123456").await.session;
    ok(&app, &backup, "ALTER USER embucket SET DISABLED = TRUE").await;
    let (_, v) = app
        .post(LOGIN, None, common::login_body("embucket", "embucket"))
        .await;
    common::assert_failure(&v, "390101");
    ok(&app, &backup, "ALTER USER embucket SET DISABLED = FALSE").await;
    let s = app.login().await.session;
    let (_, v) = app.query(&s, "SELECT CURRENT_ROLE()").await;
    assert_eq!(v["data"]["rowset"], json!([["ACCOUNTADMIN"]]));
}

// ---------------------------------------------------------------------------------------------------
// Grants are re-checked on every administration statement, not only at login.

async fn open_sessions_lose_administration_with_the_grant(app: TestApp) {
    let admin = app.login().await.session;
    for user in ["ann", "ben", "cid"] {
        ok(
            &app,
            &admin,
            &format!("CREATE USER {user} PASSWORD='pw123456' DEFAULT_ROLE=useradmin"),
        )
        .await;
        ok(
            &app,
            &admin,
            &format!("GRANT ROLE useradmin TO USER {user}"),
        )
        .await;
    }
    let ann = app.login_as("ann", "pw123456").await.session;
    let ben = app.login_as("ben", "pw123456").await.session;
    let cid = app.login_as("cid", "pw123456").await.session;
    for s in [&ann, &ben, &cid] {
        let v = ok(&app, s, "SHOW USERS").await;
        assert_eq!(v["data"]["finalRoleName"], "USERADMIN");
    }
    ok(&app, &admin, "REVOKE ROLE useradmin FROM USER ann").await;
    ok(&app, &admin, "ALTER USER ben SET DISABLED = TRUE").await;
    ok(&app, &admin, "DROP USER cid").await;
    // Each session ends at its next request, with Snowflake's answer; nothing is created.
    for (s, code) in [(&ann, "390111"), (&ben, "390101"), (&cid, "390111")] {
        let (_, v) = app.query(s, "CREATE USER sneaky PASSWORD='pw123456'").await;
        common::assert_failure(&v, code);
        let (_, v) = app.query(s, "SHOW USERS").await;
        common::assert_failure(&v, "390111");
    }
    assert!(!user_exists(&app, &admin, "sneaky").await);
    // Granted again: the ended session stays ended; a new login administers again.
    ok(&app, &admin, "GRANT ROLE useradmin TO USER ann").await;
    let (_, v) = app.query(&ann, "SHOW USERS").await;
    common::assert_failure(&v, "390111");
    let ann = app.login_as("ann", "pw123456").await.session;
    ok(&app, &ann, "SHOW USERS").await;
}

async fn system_roles_are_granted_only_by_their_holders(app: TestApp) {
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE ROLE analyst").await;
    ok(&app, &admin, "CREATE USER target").await;
    for (role, grantable, refused) in [
        (
            "useradmin",
            &["USERADMIN", "PUBLIC", "ANALYST"][..],
            &["ACCOUNTADMIN", "SECURITYADMIN", "SYSADMIN"][..],
        ),
        (
            "securityadmin",
            &["SECURITYADMIN", "USERADMIN", "ANALYST"][..],
            &["ACCOUNTADMIN", "SYSADMIN"][..],
        ),
        (
            "accountadmin",
            &["ACCOUNTADMIN", "SECURITYADMIN", "USERADMIN", "SYSADMIN"][..],
            &[][..],
        ),
    ] {
        ok(&app, &admin, &format!("USE ROLE {role}")).await;
        for r in refused {
            let v = fails(
                &app,
                &admin,
                &format!("GRANT ROLE {r} TO USER target"),
                "003001",
            )
            .await;
            assert!(v["message"].as_str().unwrap().contains(r), "{v}");
            fails(
                &app,
                &admin,
                &format!("REVOKE ROLE {r} FROM USER target"),
                "003001",
            )
            .await;
        }
        for r in grantable {
            ok(&app, &admin, &format!("GRANT ROLE {r} TO USER target")).await;
            ok(&app, &admin, &format!("REVOKE ROLE {r} FROM USER target")).await;
        }
    }
    ok(&app, &admin, "USE ROLE accountadmin").await;
    let v = ok(&app, &admin, "SHOW ROLES").await;
    // Only the demo user (seeded with ACCOUNTADMIN) holds a system role directly.
    assert_eq!(role_row(&v, "ACCOUNTADMIN")["assigned_to_users"], "1");
    for r in ["SECURITYADMIN", "SYSADMIN", "ANALYST"] {
        assert_eq!(role_row(&v, r)["assigned_to_users"], "0", "{r}");
    }
}

async fn the_active_account_policy_cannot_be_altered_to_lock_out_the_caller(app: TestApp) {
    let admin = app.login().await.session;
    let from = Some("127.0.0.1");
    ok(
        &app,
        &admin,
        "CREATE NETWORK POLICY local ALLOWED_IP_LIST=('127.0.0.0/8', '10.0.0.0/8')",
    )
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
    let v = ok(&app, &admin, "DESC NETWORK POLICY local").await;
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
    ok(
        &app,
        &admin,
        "CREATE NETWORK POLICY other ALLOWED_IP_LIST=('10.0.0.0/8')",
    )
    .await;
    let (_, v) = app
        .query_from(
            from,
            &admin,
            "ALTER NETWORK POLICY other UNSET ALLOWED_IP_LIST",
        )
        .await;
    assert_eq!(v["success"], true, "{v}");
    ok(&app, &admin, "ALTER ACCOUNT UNSET NETWORK_POLICY").await;
}

// ---------------------------------------------------------------------------------------------------
// Server bugs found while writing this file, as the tests that will pass once they are fixed. Run
// them with `cargo test --test admin_sql -- --ignored`.

#[tokio::test]
async fn useradmin_cannot_take_over_an_accountadmin_user() {
    let app = TestApp::new();
    let admin = app.login().await.session;
    ok(
        &app,
        &admin,
        "CREATE USER boss PASSWORD='pw123456' DEFAULT_ROLE=accountadmin",
    )
    .await;
    ok(&app, &admin, "GRANT ROLE accountadmin TO USER boss").await;
    ok(
        &app,
        &admin,
        "CREATE USER ua PASSWORD='pw123456' DEFAULT_ROLE=useradmin",
    )
    .await;
    ok(&app, &admin, "GRANT ROLE useradmin TO USER ua").await;
    let ua = app.login_as("ua", "pw123456").await.session;
    // Today this succeeds, and `boss` / `taken-over` then logs in as ACCOUNTADMIN.
    fails(
        &app,
        &ua,
        "ALTER USER boss SET PASSWORD='taken-over'",
        "003001",
    )
    .await;
    fails(&app, &ua, "DROP USER boss", "003001").await;
    assert_failure(
        &password_login(&app, None, "boss", "taken-over").await,
        "390100",
    );
}

#[tokio::test]
async fn replacing_the_account_policy_cannot_lock_out_the_caller() {
    let app = TestApp::new();
    let admin = app.login().await.session;
    let from = Some("127.0.0.1");
    ok(
        &app,
        &admin,
        "CREATE NETWORK POLICY np ALLOWED_IP_LIST=('127.0.0.1')",
    )
    .await;
    let (_, v) = app
        .query_from(from, &admin, "ALTER ACCOUNT SET NETWORK_POLICY = np")
        .await;
    assert_eq!(v["success"], true, "{v}");
    // Today this succeeds, and every login from 127.0.0.1 is then 390422.
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

#[tokio::test]
async fn a_dropped_users_sessions_do_not_outlive_it() {
    let app = TestApp::new();
    let admin = app.login().await.session;
    ok(&app, &admin, "CREATE USER bob PASSWORD='pw123456'").await;
    let old = app.login_as("bob", "pw123456").await;
    ok(&app, &admin, "DROP USER bob").await;
    ok(
        &app,
        &admin,
        "CREATE USER bob PASSWORD='new-owner' DEFAULT_ROLE=useradmin",
    )
    .await;
    ok(&app, &admin, "GRANT ROLE useradmin TO USER bob").await;
    // Today the old session (the first BOB's) switches to USERADMIN and creates users.
    let (_, v) = app.query(&old.session, "USE ROLE useradmin").await;
    assert_eq!(v["success"], false, "{v}");
    let (_, v) = app.query(&old.session, "CREATE USER via_old_session").await;
    assert_eq!(v["success"], false, "{v}");
    assert!(!user_exists(&app, &admin, "via_old_session").await);
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

async fn empty_login_name_is_002029(app: TestApp) {
    let admin = app.login().await.session;
    // Today: memory accepts it (DESC shows LOGIN_NAME '' and the user can never log in); DynamoDB
    // answers HTTP 503 "DynamoDB GetItem: ValidationException" (an empty key).
    fails(
        &app,
        &admin,
        "CREATE USER e LOGIN_NAME='' PASSWORD='pw123456'",
        "002029",
    )
    .await;
    fails(
        &app,
        &admin,
        "CREATE USER e LOGIN_NAME='  ' PASSWORD='pw123456'",
        "002029",
    )
    .await;
    assert!(!user_exists(&app, &admin, "e").await);
}

#[tokio::test]
async fn empty_login_name_is_002029_on_memory() {
    empty_login_name_is_002029(TestApp::new()).await
}

#[tokio::test]
async fn empty_login_name_is_002029_on_dynamodb() {
    empty_login_name_is_002029(TestApp::dynamodb().await).await
}

#[tokio::test]
async fn comment_prefixed_admin_statements_run_and_never_echo_passwords() {
    let app = TestApp::new();
    let admin = app.login().await.session;
    // Today: 001003 "sql parser error: Expected: =, found: 'hunter2secret' at Line: 1, Column: 35".
    let (_, v) = app
        .query(&admin, "/* c */ ALTER USER u SET PASSWORD 'hunter2secret'")
        .await;
    assert!(!v.to_string().contains("hunter2secret"), "{v}");
    // Today: 000002, the statement is not recognised as administration (tools such as dbt prefix
    // every statement with a comment).
    ok(&app, &admin, "-- created by a tool\nCREATE USER tool_user").await;
    ok(&app, &admin, "/* {\"app\": \"dbt\"} */ SHOW USERS").await;
}
