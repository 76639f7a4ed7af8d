//! Authentication, password and session policies as SQL: one lifecycle for the three kinds
//! (CREATE, SHOW, DESCRIBE with Snowflake's defaults, ALTER SET / UNSET / RENAME, DROP), setting them
//! on the account and on users (a second one needs FORCE, an attached one cannot be dropped),
//! privileges, and hostile values. Each test runs on every store.

#[macro_use]
mod common;

use common::sql::*;
use common::*;
use serde_json::{Value, json};

on_every_store!(
    the_three_kinds_share_one_lifecycle,
    describe_shows_snowflakes_defaults,
    alter_sets_and_unsets_properties,
    policies_are_set_on_the_account_and_users_once_unless_forced,
    attached_policies_cannot_be_dropped_or_renamed,
    only_securityadmin_and_above_manage_policies,
    hostile_values_change_nothing,
);

const KINDS: [&str; 3] = ["AUTHENTICATION", "PASSWORD", "SESSION"];

/// DESCRIBE as property → (value, default).
async fn describe(
    admin: &Session<'_>,
    sql: &str,
) -> std::collections::BTreeMap<String, (Value, Value)> {
    let v = admin.ok(sql).await;
    let columns: Vec<Value> = v["data"]["rowtype"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(
        columns,
        ["property", "value", "default", "description"],
        "{v}"
    );
    rows(&v)
        .into_iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_string(),
                (r[1].clone(), r[2].clone()),
            )
        })
        .collect()
}

async fn the_three_kinds_share_one_lifecycle(app: TestApp) {
    let admin = app.admin().await;
    for kind in KINDS {
        admin
            .script(&[
                (&format!("CREATE {kind} POLICY p1 COMMENT = 'first'"), OK),
                (&format!("CREATE {kind} POLICY p1"), "002002"),
                (&format!("CREATE {kind} POLICY IF NOT EXISTS p1"), OK),
                (&format!("CREATE {kind} POLICY analytics.security.p2"), OK),
                (&format!("CREATE OR REPLACE {kind} POLICY p3"), OK),
            ])
            .await;
        let v = admin.ok(&format!("SHOW {kind} POLICIES")).await;
        let listed = listing(&v);
        assert_eq!(listed.len(), 3, "{v}");
        let p1 = &listed[0];
        assert_eq!(p1["name"], "P1");
        assert_eq!(p1["comment"], "first");
        assert_eq!(p1["owner"], "ACCOUNTADMIN");
        assert_eq!(p1["kind"], format!("{kind}_POLICY"));
        assert_eq!(p1["created_on"], START.to_string());
        let p2 = &listed[1];
        assert_eq!(
            (&p2["database_name"], &p2["schema_name"]),
            (&json!("ANALYTICS"), &json!("SECURITY"))
        );
        assert_eq!(
            admin
                .names(&format!("SHOW {kind} POLICIES LIKE '%2'"))
                .await,
            ["P2"]
        );

        admin
            .script(&[
                (&format!("ALTER {kind} POLICY p3 RENAME TO p4"), OK),
                (
                    &format!("ALTER {kind} POLICY p3 SET COMMENT = 'x'"),
                    "002003",
                ),
                (
                    &format!("ALTER {kind} POLICY IF EXISTS p3 SET COMMENT = 'x'"),
                    OK,
                ),
                (&format!("ALTER {kind} POLICY p4 RENAME TO p1"), "002002"),
                (&format!("DROP {kind} POLICY p4"), OK),
                (&format!("DROP {kind} POLICY p4"), "002003"),
                (&format!("DROP {kind} POLICY IF EXISTS p4"), OK),
                (&format!("DESC {kind} POLICY p4"), "002003"),
            ])
            .await;
        assert_eq!(
            admin.names(&format!("SHOW {kind} POLICIES")).await,
            ["P1", "P2"]
        );
    }
    // Each kind is its own namespace.
    admin.ok("DROP PASSWORD POLICY p1").await;
    assert_eq!(admin.names("SHOW SESSION POLICIES").await, ["P1", "P2"]);
}

async fn describe_shows_snowflakes_defaults(app: TestApp) {
    let admin = app.admin().await;
    admin.ok("CREATE AUTHENTICATION POLICY a").await;
    let d = describe(&admin, "DESCRIBE AUTHENTICATION POLICY a").await;
    for (property, expected) in [
        ("AUTHENTICATION_METHODS", "[ALL]"),
        ("CLIENT_TYPES", "[ALL]"),
        ("CLIENT_POLICY", "{}"),
        ("SECURITY_INTEGRATIONS", "[ALL]"),
        ("MFA_ENROLLMENT", "OPTIONAL"),
        (
            "MFA_POLICY",
            "{ALLOWED_METHODS=[ALL], ENFORCE_MFA_ON_EXTERNAL_AUTHENTICATION=NONE}",
        ),
        (
            "PAT_POLICY",
            "{DEFAULT_EXPIRY_IN_DAYS=15, MAX_EXPIRY_IN_DAYS=365, NETWORK_POLICY_EVALUATION=ENFORCED_REQUIRED, REQUIRE_ROLE_RESTRICTION_FOR_SERVICE_USERS=true, REQUIRE_ROLE_RESTRICTION_FOR_PERSON_USERS=false, BLOCKED_ROLES_LIST=[]}",
        ),
        (
            "WORKLOAD_IDENTITY_POLICY",
            "{ALLOWED_PROVIDERS=[ALL], ALLOWED_AWS_ACCOUNTS=[ALL], ALLOWED_AWS_PARTITIONS=[ALL], ALLOWED_AZURE_ISSUERS=[ALL], ALLOWED_OIDC_ISSUERS=[ALL]}",
        ),
    ] {
        assert_eq!(
            d[property],
            (json!(expected), json!(expected)),
            "{property}"
        );
    }
    admin.ok("CREATE PASSWORD POLICY p").await;
    let d = describe(&admin, "DESC PASSWORD POLICY p").await;
    for (property, expected) in [
        ("PASSWORD_MIN_LENGTH", "14"),
        ("PASSWORD_MAX_LENGTH", "256"),
        ("PASSWORD_MIN_UPPER_CASE_CHARS", "1"),
        ("PASSWORD_MIN_LOWER_CASE_CHARS", "1"),
        ("PASSWORD_MIN_NUMERIC_CHARS", "1"),
        ("PASSWORD_MIN_SPECIAL_CHARS", "0"),
        ("PASSWORD_MIN_AGE_DAYS", "0"),
        ("PASSWORD_MAX_AGE_DAYS", "90"),
        ("PASSWORD_MAX_RETRIES", "5"),
        ("PASSWORD_LOCKOUT_TIME_MINS", "15"),
        ("PASSWORD_HISTORY", "5"),
    ] {
        assert_eq!(
            d[property],
            (json!(expected), json!(expected)),
            "{property}"
        );
    }
    admin.ok("CREATE SESSION POLICY s").await;
    let d = describe(&admin, "DESC SESSION POLICY s").await;
    for (property, expected) in [
        ("SESSION_IDLE_TIMEOUT_MINS", "240"),
        ("SESSION_UI_IDLE_TIMEOUT_MINS", "1080"),
        ("ALLOWED_SECONDARY_ROLES", "[ALL]"),
        ("BLOCKED_SECONDARY_ROLES", "[]"),
    ] {
        assert_eq!(
            d[property],
            (json!(expected), json!(expected)),
            "{property}"
        );
    }
}

async fn alter_sets_and_unsets_properties(app: TestApp) {
    let admin = app.admin().await;
    admin
        .ok("CREATE AUTHENTICATION POLICY a AUTHENTICATION_METHODS = ('KEYPAIR', 'password') \
             CLIENT_TYPES = ('DRIVERS', 'SNOWSQL') MFA_ENROLLMENT = REQUIRED \
             CLIENT_POLICY = (PYTHON_DRIVER = (MINIMUM_VERSION = '3.12.0'), JDBC_DRIVER = (MINIMUM_VERSION = '3.13')) \
             PAT_POLICY = (DEFAULT_EXPIRY_IN_DAYS = 7, MAX_EXPIRY_IN_DAYS = 30, NETWORK_POLICY_EVALUATION = NOT_ENFORCED) \
             WORKLOAD_IDENTITY_POLICY = (ALLOWED_PROVIDERS = ('AWS'), ALLOWED_AWS_ACCOUNTS = ('123456789012'))")
        .await;
    let d = describe(&admin, "DESC AUTHENTICATION POLICY a").await;
    assert_eq!(d["AUTHENTICATION_METHODS"].0, "[KEYPAIR, PASSWORD]");
    assert_eq!(d["AUTHENTICATION_METHODS"].1, "[ALL]");
    assert_eq!(d["CLIENT_TYPES"].0, "[DRIVERS, SNOWSQL]");
    assert_eq!(d["MFA_ENROLLMENT"].0, "REQUIRED");
    assert_eq!(
        d["CLIENT_POLICY"].0,
        "{JDBC_DRIVER={MINIMUM_VERSION=3.13}, PYTHON_DRIVER={MINIMUM_VERSION=3.12.0}}"
    );
    let pat = d["PAT_POLICY"].0.as_str().unwrap().to_string();
    assert!(pat.starts_with("{DEFAULT_EXPIRY_IN_DAYS=7, MAX_EXPIRY_IN_DAYS=30, NETWORK_POLICY_EVALUATION=NOT_ENFORCED, REQUIRE_ROLE_RESTRICTION_FOR_SERVICE_USERS=true"), "{pat}");
    assert!(
        d["WORKLOAD_IDENTITY_POLICY"]
            .0
            .as_str()
            .unwrap()
            .contains("ALLOWED_AWS_ACCOUNTS=[123456789012]")
    );

    admin
        .ok("ALTER AUTHENTICATION POLICY a UNSET AUTHENTICATION_METHODS, CLIENT_POLICY, PAT_POLICY")
        .await;
    admin
        .ok("ALTER AUTHENTICATION POLICY a SET MFA_ENROLLMENT = 'OPTIONAL' COMMENT = 'eased'")
        .await;
    let d = describe(&admin, "DESC AUTHENTICATION POLICY a").await;
    for property in [
        "AUTHENTICATION_METHODS",
        "CLIENT_POLICY",
        "PAT_POLICY",
        "MFA_ENROLLMENT",
    ] {
        assert_eq!(d[property].0, d[property].1, "{property}");
    }
    assert_eq!(d["CLIENT_TYPES"].0, "[DRIVERS, SNOWSQL]");
    assert_eq!(d["COMMENT"].0, "eased");

    admin
        .ok("CREATE PASSWORD POLICY p PASSWORD_MIN_LENGTH = 20 PASSWORD_MAX_RETRIES = 3")
        .await;
    admin
        .ok("ALTER PASSWORD POLICY p SET PASSWORD_HISTORY = 0, PASSWORD_MAX_AGE_DAYS = 0")
        .await;
    admin
        .ok("ALTER PASSWORD POLICY p UNSET PASSWORD_MAX_RETRIES")
        .await;
    let d = describe(&admin, "DESC PASSWORD POLICY p").await;
    assert_eq!(d["PASSWORD_MIN_LENGTH"].0, "20");
    assert_eq!(d["PASSWORD_HISTORY"].0, "0");
    assert_eq!(d["PASSWORD_MAX_AGE_DAYS"].0, "0");
    assert_eq!(d["PASSWORD_MAX_RETRIES"].0, "5");
    // A maximum below the minimum is refused, and changes nothing.
    admin
        .fails(
            "ALTER PASSWORD POLICY p SET PASSWORD_MAX_LENGTH = 19",
            "002029",
        )
        .await;
    admin
        .fails(
            "CREATE PASSWORD POLICY q PASSWORD_MIN_LENGTH = 30 PASSWORD_MAX_LENGTH = 20",
            "002029",
        )
        .await;
    assert_eq!(
        describe(&admin, "DESC PASSWORD POLICY p").await["PASSWORD_MAX_LENGTH"].0,
        "256"
    );
    assert_eq!(admin.names("SHOW PASSWORD POLICIES").await, ["P"]);

    admin.ok("CREATE SESSION POLICY s SESSION_IDLE_TIMEOUT_MINS = 30 ALLOWED_SECONDARY_ROLES = (analyst, 'loader')").await;
    admin
        .ok("ALTER SESSION POLICY s SET SESSION_UI_IDLE_TIMEOUT_MINS = 1440")
        .await;
    let d = describe(&admin, "DESC SESSION POLICY s").await;
    assert_eq!(d["SESSION_IDLE_TIMEOUT_MINS"].0, "30");
    assert_eq!(d["SESSION_UI_IDLE_TIMEOUT_MINS"].0, "1440");
    assert_eq!(d["ALLOWED_SECONDARY_ROLES"].0, "[ANALYST, LOADER]");
}

async fn policies_are_set_on_the_account_and_users_once_unless_forced(app: TestApp) {
    let admin = app.admin().await;
    admin
        .script(&[
            ("CREATE USER bob PASSWORD = 'pw-bob-123'", OK),
            ("CREATE SESSION POLICY s1", OK),
            ("CREATE SESSION POLICY s2", OK),
            ("ALTER ACCOUNT SET SESSION POLICY nope", "002003"),
            ("ALTER ACCOUNT SET SESSION POLICY s1", OK),
            // Setting the same one again is harmless; another needs FORCE.
            ("ALTER ACCOUNT SET SESSION POLICY s1", OK),
            ("ALTER ACCOUNT SET SESSION POLICY s2", "002029"),
            ("ALTER ACCOUNT SET SESSION POLICY s2 FORCE", OK),
            ("ALTER USER bob SET SESSION POLICY db.sch.s1", OK),
            ("ALTER USER bob SET SESSION POLICY s2", "002029"),
            ("ALTER USER bob SET SESSION POLICY s2 FORCE", OK),
            ("ALTER USER nobody SET SESSION POLICY s2", "002003"),
            ("ALTER USER IF EXISTS nobody SET SESSION POLICY s2", OK),
            ("ALTER USER bob UNSET SESSION POLICY", OK),
            ("ALTER USER bob SET SESSION POLICY s1", OK),
            ("ALTER ACCOUNT UNSET SESSION POLICY", OK),
            ("ALTER ACCOUNT SET SESSION POLICY s1", OK),
        ])
        .await;
    let v = admin
        .fails("ALTER ACCOUNT SET SESSION POLICY s2", "002029")
        .await;
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains("'S1'") && message.contains("FORCE"),
        "{message}"
    );
    // Other kinds are independent.
    admin.ok("CREATE PASSWORD POLICY p").await;
    admin.ok("ALTER ACCOUNT SET PASSWORD POLICY p").await;
    // ALTER ACCOUNT and ALTER USER SET other properties still work.
    admin.ok("ALTER USER bob SET COMMENT = 'still bob'").await;
    admin.ok("ALTER ACCOUNT UNSET NETWORK_POLICY").await;
}

async fn attached_policies_cannot_be_dropped_or_renamed(app: TestApp) {
    let admin = app.admin().await;
    admin
        .script(&[
            ("CREATE USER bob PASSWORD = 'pw-bob-123'", OK),
            ("CREATE AUTHENTICATION POLICY on_account", OK),
            ("CREATE AUTHENTICATION POLICY on_bob", OK),
            ("ALTER ACCOUNT SET AUTHENTICATION POLICY on_account", OK),
            ("ALTER USER bob SET AUTHENTICATION POLICY on_bob", OK),
            ("DROP AUTHENTICATION POLICY on_account", "002029"),
            ("DROP AUTHENTICATION POLICY on_bob", "002029"),
            (
                "ALTER AUTHENTICATION POLICY on_bob RENAME TO elsewhere",
                "002029",
            ),
            (
                "ALTER AUTHENTICATION POLICY on_bob SET COMMENT = 'changes are fine'",
                OK,
            ),
            ("ALTER USER bob UNSET AUTHENTICATION POLICY", OK),
            ("ALTER ACCOUNT UNSET AUTHENTICATION POLICY", OK),
            ("DROP AUTHENTICATION POLICY on_account", OK),
            ("ALTER AUTHENTICATION POLICY on_bob RENAME TO elsewhere", OK),
            ("DROP AUTHENTICATION POLICY elsewhere", OK),
        ])
        .await;
    let v = admin.fails("DROP SESSION POLICY nope", "002003").await;
    assert!(v["message"].as_str().unwrap().contains("does not exist"));
    assert!(admin.names("SHOW AUTHENTICATION POLICIES").await.is_empty());
}

async fn only_securityadmin_and_above_manage_policies(app: TestApp) {
    let admin = app.admin().await;
    admin
        .script(&[
            (
                "CREATE USER ua PASSWORD = 'pw-ua-123' DEFAULT_ROLE = USERADMIN",
                OK,
            ),
            ("GRANT ROLE USERADMIN TO USER ua", OK),
            (
                "CREATE USER sa PASSWORD = 'pw-sa-123' DEFAULT_ROLE = SECURITYADMIN",
                OK,
            ),
            ("GRANT ROLE SECURITYADMIN TO USER sa", OK),
            ("CREATE USER bob PASSWORD = 'pw-bob-123'", OK),
            ("CREATE PASSWORD POLICY by_accountadmin", OK),
        ])
        .await;
    let ua = app.session(app.login_as("ua", "pw-ua-123").await.session);
    for sql in [
        "CREATE PASSWORD POLICY p",
        "SHOW PASSWORD POLICIES",
        "DESC PASSWORD POLICY by_accountadmin",
        "DROP PASSWORD POLICY by_accountadmin",
        "ALTER ACCOUNT SET PASSWORD POLICY by_accountadmin",
        "ALTER USER bob SET PASSWORD POLICY by_accountadmin",
    ] {
        ua.fails(sql, "003001").await;
    }
    let sa = app.session(app.login_as("sa", "pw-sa-123").await.session);
    sa.script(&[
        ("CREATE PASSWORD POLICY by_sa", OK),
        ("ALTER USER bob SET PASSWORD POLICY by_sa", OK),
        // The owner's role or one above it: ACCOUNTADMIN's policy is not SECURITYADMIN's.
        (
            "ALTER PASSWORD POLICY by_accountadmin SET COMMENT = 'x'",
            "003001",
        ),
        ("DROP PASSWORD POLICY by_accountadmin", "003001"),
        // The demo user holds ACCOUNTADMIN, which SECURITYADMIN cannot manage.
        ("ALTER USER embucket SET PASSWORD POLICY by_sa", "003001"),
    ])
    .await;
    assert_eq!(
        listing(&sa.ok("SHOW PASSWORD POLICIES LIKE 'by_sa'").await)[0]["owner"],
        "SECURITYADMIN"
    );
    admin
        .ok("ALTER PASSWORD POLICY by_sa SET COMMENT = 'above the owner'")
        .await;
}

async fn hostile_values_change_nothing(app: TestApp) {
    let admin = app.admin().await;
    admin.ok("CREATE AUTHENTICATION POLICY a").await;
    let many = vec!["'KEYPAIR'"; 101].join(", ");
    let deep = format!("{}'1'{}", "(X = ".repeat(4), ")".repeat(4));
    let huge = "(A = 1)".repeat(10);
    for (sql, code) in [
        ("CREATE PASSWORD POLICY p PASSWORD_MIN_LENGTH = 7".to_string(), "002029"),
        ("CREATE PASSWORD POLICY p PASSWORD_MAX_LENGTH = 257".into(), "002029"),
        ("CREATE PASSWORD POLICY p PASSWORD_MAX_RETRIES = 0".into(), "002029"),
        ("CREATE PASSWORD POLICY p PASSWORD_LOCKOUT_TIME_MINS = 1000".into(), "002029"),
        ("CREATE PASSWORD POLICY p PASSWORD_HISTORY = 25".into(), "002029"),
        ("CREATE PASSWORD POLICY p PASSWORD_MAX_AGE_DAYS = 99999999999999999999".into(), "002029"),
        ("CREATE PASSWORD POLICY p PASSWORD_MIN_LENGTH = '1e3'".into(), "002029"),
        ("CREATE PASSWORD POLICY p PASSWORD_MIN_LENGTH = (8)".into(), "002029"),
        ("CREATE SESSION POLICY s SESSION_IDLE_TIMEOUT_MINS = 1441".into(), "002029"),
        ("CREATE SESSION POLICY s SESSION_UI_IDLE_TIMEOUT_MINS = 4".into(), "002029"),
        ("CREATE SESSION POLICY s MFA_ENROLLMENT = REQUIRED".into(), "002029"),
        ("CREATE AUTHENTICATION POLICY b AUTHENTICATION_METHODS = ('MAGIC')".into(), "002029"),
        ("CREATE AUTHENTICATION POLICY b CLIENT_TYPES = ('TOASTER')".into(), "002029"),
        ("CREATE AUTHENTICATION POLICY b MFA_ENROLLMENT = ('REQUIRED')".into(), "002029"),
        ("CREATE AUTHENTICATION POLICY b PAT_POLICY = (MAX_EXPIRY_IN_DAYS = 366)".into(), "002029"),
        ("CREATE AUTHENTICATION POLICY b PAT_POLICY = (DEFAULT_EXPIRY_IN_DAYS = 40, MAX_EXPIRY_IN_DAYS = 30)".into(), "002029"),
        ("CREATE AUTHENTICATION POLICY b PAT_POLICY = (COLOUR = 'red')".into(), "002029"),
        ("CREATE AUTHENTICATION POLICY b CLIENT_POLICY = (PYTHON_DRIVER = (MINIMUM_VERSION = '1.2.3.4.5'))".into(), "002029"),
        ("CREATE AUTHENTICATION POLICY b CLIENT_POLICY = (PYTHON_DRIVER = (MAXIMUM_VERSION = '1'))".into(), "002029"),
        ("CREATE AUTHENTICATION POLICY b WORKLOAD_IDENTITY_POLICY = (ALLOWED_PROVIDERS = ('MARS'))".into(), "002029"),
        (format!("CREATE AUTHENTICATION POLICY b AUTHENTICATION_METHODS = ({many})"), "002029"),
        (format!("CREATE AUTHENTICATION POLICY b CLIENT_POLICY = {deep}"), "001003"),
        (format!("CREATE AUTHENTICATION POLICY b PAT_POLICY = {huge}"), "001003"),
        ("CREATE AUTHENTICATION POLICY a.b.c.d".into(), "001003"),
        ("ALTER AUTHENTICATION POLICY a SET AUTHENTICATION_METHODS = ('MAGIC')".into(), "002029"),
        ("ALTER AUTHENTICATION POLICY a UNSET NOTHING".into(), "002029"),
        ("ALTER AUTHENTICATION POLICY a SET".into(), "001003"),
        ("ALTER ACCOUNT SET AUTHENTICATION POLICY".into(), "001003"),
    ] {
        admin.fails(&sql, code).await;
    }
    assert_eq!(admin.names("SHOW AUTHENTICATION POLICIES").await, ["A"]);
    assert!(admin.names("SHOW PASSWORD POLICIES").await.is_empty());
    assert!(admin.names("SHOW SESSION POLICIES").await.is_empty());
    let d = describe(&admin, "DESC AUTHENTICATION POLICY a").await;
    assert_eq!(d["AUTHENTICATION_METHODS"].0, "[ALL]");
}
