//! Bounded work: hostile statements (deep nesting, huge token counts, pathological `LIKE` patterns)
//! get a Snowflake-shaped SQL compilation error or an answer, quickly, and the service keeps
//! answering; a session without an administrator role is refused before the administration grammar
//! reads its statement.

#[macro_use]
mod common;

use common::sql::*;
use common::*;

on_every_store!(
    deep_nesting_is_001003_and_the_service_answers_on,
    long_like_patterns_answer_at_once,
    public_is_refused_every_admin_statement_before_parsing,
);

/// The largest paren run that fits in the test app's request body with room for the envelope.
const DEEP: usize = 60_000;

/// The service still answers queries in the session.
async fn still_answers(app: &TestApp, token: &str) {
    let v = ok(app, token, "SELECT CURRENT_ROLE()").await;
    assert_eq!(rows(&v).len(), 1);
}

async fn deep_nesting_is_001003_and_the_service_answers_on(app: TestApp) {
    let admin = app.admin().await;
    let parens = "(".repeat(DEEP);
    for sql in [
        format!("CREATE NETWORK POLICY p ALLOWED_IP_LIST = {parens}"),
        format!("CREATE NETWORK POLICY p ALLOWED_IP_LIST = {parens}'10.0.0.1'"),
        format!("SELECT {parens}1"),
        format!("SELECT CURRENT_ROLE() WHERE {}", "NOT ".repeat(DEEP / 4)),
        format!("SELECT 1{}", "+1".repeat(DEEP / 2)),
        format!("ALTER USER u SET COMMENT = {}", "[".repeat(DEEP)),
        // Just past each limit.
        format!("SELECT {}1", "(".repeat(33)),
        "CREATE NETWORK POLICY p ALLOWED_IP_LIST = (('10.0.0.1'))".to_string(),
    ] {
        let v = admin.fails(&sql, "001003").await;
        assert!(v["message"].as_str().unwrap().len() < 300, "{v}");
        still_answers(&app, &admin).await;
    }
    assert!(admin.names("SHOW NETWORK POLICIES").await.is_empty());
    // Within the limits, nesting is fine (and the answer is the usual one).
    let nested = format!("SELECT {}CURRENT_ROLE(){}", "(".repeat(31), ")".repeat(31));
    admin.fails(&nested, "000002").await;
}

async fn long_like_patterns_answer_at_once(app: TestApp) {
    let admin = app.admin().await;
    let long_name = "A".repeat(250);
    admin.ok(&format!("CREATE USER {long_name}")).await;
    // Exponential for a backtracking matcher: minutes. Here, an empty answer at once.
    let pattern = format!("{}!", "%".repeat(40));
    let v = admin.ok(&format!("SHOW USERS LIKE '{pattern}'")).await;
    assert!(rows(&v).is_empty(), "{v}");
    let pattern = "%A".repeat(500);
    assert_eq!(
        admin.names(&format!("SHOW USERS LIKE '{pattern}'")).await,
        Vec::<String>::new()
    );
    assert_eq!(
        admin
            .names(&format!("SHOW USERS LIKE '{}'", "%".repeat(1_000)))
            .await,
        vec![long_name.clone(), "EMBUCKET".to_string()]
    );
    // Past the pattern limit, or the statement limit: a compilation error, not a stack overflow.
    for n in [1_025, DEEP] {
        let sql = format!("SHOW USERS LIKE '{}'", "%".repeat(n));
        admin.fails(&sql, "001003").await;
        still_answers(&app, &admin).await;
    }
}

async fn public_is_refused_every_admin_statement_before_parsing(app: TestApp) {
    let admin = app.admin().await;
    admin.ok("USE ROLE PUBLIC").await;
    let deep = "(".repeat(DEEP);
    for sql in [
        "CREATE USER u".to_string(),
        "CREATE OR REPLACE ROLE r".to_string(),
        "CREATE NETWORK POLICY p ALLOWED_IP_LIST = ('0.0.0.0/0')".to_string(),
        "ALTER USER embucket SET PASSWORD = 'x'".to_string(),
        "ALTER NETWORK POLICY p UNSET COMMENT".to_string(),
        "ALTER ACCOUNT SET NETWORK_POLICY = p".to_string(),
        "DROP USER embucket".to_string(),
        "DROP ROLE r".to_string(),
        "DROP NETWORK POLICY p".to_string(),
        "DESC USER embucket".to_string(),
        "DESCRIBE NETWORK POLICY p".to_string(),
        "SHOW USERS".to_string(),
        "SHOW ROLES LIKE '%'".to_string(),
        "SHOW NETWORK POLICIES".to_string(),
        "GRANT ROLE accountadmin TO USER embucket".to_string(),
        "REVOKE ROLE accountadmin FROM USER embucket".to_string(),
        // Refused for the role, never parsed.
        "CREATE USER u PASSWORD = 'x' 'y'".to_string(),
        "/* comment */ show users like".to_string(),
        format!("CREATE NETWORK POLICY p ALLOWED_IP_LIST = {deep}"),
        format!("SHOW USERS LIKE '{}!'", "%".repeat(DEEP)),
    ] {
        let v = admin.fails(&sql, "003001").await;
        assert!(v["message"].as_str().unwrap().contains("PUBLIC"), "{v}");
    }
    still_answers(&app, &admin).await;
    admin.ok("USE ROLE ACCOUNTADMIN").await;
    assert_eq!(admin.names("SHOW USERS").await, ["EMBUCKET"]);
}
