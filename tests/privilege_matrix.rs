//! The privilege matrix: every kind of administrative statement, run from a session in each system
//! role (and a custom one) against objects ACCOUNTADMIN created, with Snowflake's answer: allowed,
//! or `003001` and nothing changed. Objects are made afresh for every cell, so no cell depends on
//! another's outcome.
//!
//! Snowflake's rules it follows: administration needs USERADMIN or above (SYSADMIN, custom roles and
//! PUBLIC administer nothing here); ALTER, DROP, REPLACE and DESCRIBE of an object need its owner
//! or a role above it (ACCOUNTADMIN > SECURITYADMIN > USERADMIN); GRANT and REVOKE of a role need
//! its owner or MANAGE GRANTS (SECURITYADMIN); a system role is granted only by a role holding it;
//! network policies, the kind policies and their attachment need SECURITYADMIN; account parameters
//! (ALLOW_CLIENT_MFA_CACHING) need ACCOUNTADMIN; security integrations are ACCOUNTADMIN's.

#[macro_use]
mod common;

use common::*;

on_every_store!(every_statement_from_every_role);

/// The session roles, lowest first; `ANALYST` is a custom role.
const ROLES: [&str; 6] = [
    "PUBLIC",
    "ANALYST",
    "SYSADMIN",
    "USERADMIN",
    "SECURITYADMIN",
    "ACCOUNTADMIN",
];

/// The lowest role that may run a statement; the roles above it may too.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Lowest {
    /// USERADMIN
    User,
    /// SECURITYADMIN
    Security,
    /// ACCOUNTADMIN
    Account,
}

impl Lowest {
    fn allows(self, role: &str) -> bool {
        let above: &[&str] = match self {
            Lowest::User => &["USERADMIN", "SECURITYADMIN", "ACCOUNTADMIN"],
            Lowest::Security => &["SECURITYADMIN", "ACCOUNTADMIN"],
            Lowest::Account => &["ACCOUNTADMIN"],
        };
        above.contains(&role)
    }
}

struct Row {
    /// Run as ACCOUNTADMIN first: the objects the statement is about.
    setup: &'static [&'static str],
    statement: &'static str,
    lowest: Lowest,
}

const fn row(setup: &'static [&'static str], statement: &'static str, lowest: Lowest) -> Row {
    Row {
        setup,
        statement,
        lowest,
    }
}

const NP: &str = "CREATE NETWORK POLICY np_% ALLOWED_IP_LIST = ('10.0.0.0/8')";
const AP: &str = "CREATE AUTHENTICATION POLICY ap_% AUTHENTICATION_METHODS = ('PASSWORD')";
const PP: &str = "CREATE PASSWORD POLICY pp_% PASSWORD_MIN_LENGTH = 12";
const SP: &str = "CREATE SESSION POLICY sp_% SESSION_IDLE_TIMEOUT_MINS = 30";
const SI: &str = "CREATE SECURITY INTEGRATION si_% TYPE = EXTERNAL_OAUTH ENABLED = TRUE \
    EXTERNAL_OAUTH_TYPE = OKTA EXTERNAL_OAUTH_ISSUER = 'https://idp.example/%' \
    EXTERNAL_OAUTH_TOKEN_USER_MAPPING_CLAIM = 'sub' \
    EXTERNAL_OAUTH_SNOWFLAKE_USER_MAPPING_ATTRIBUTE = 'LOGIN_NAME' \
    EXTERNAL_OAUTH_AUDIENCE_LIST = ('https://acme.snowgate.example') \
    EXTERNAL_OAUTH_JWS_KEYS_URL = 'https://idp.example/keys'";
const SVC: &str = "CREATE USER svc_% TYPE = SERVICE";
const WIF: &str =
    "ALTER USER svc_% ADD WORKLOAD IDENTITY w TYPE = AWS ARN = 'arn:aws:iam::123456789012:role/x'";

fn rows() -> Vec<Row> {
    let integration = |setup, statement| Row {
        setup,
        statement,
        lowest: Lowest::Account,
    };
    vec![
        // Users.
        row(&[], "CREATE USER new_%", Lowest::User),
        row(
            &["CREATE USER u_%"],
            "ALTER USER u_% SET COMMENT = 'x'",
            Lowest::Account,
        ),
        row(
            &["CREATE USER u_%"],
            "ALTER USER u_% SET PASSWORD = 'pw-123456789'",
            Lowest::Account,
        ),
        row(&["CREATE USER u_%"], "DROP USER u_%", Lowest::Account),
        row(
            &["CREATE USER u_%"],
            "CREATE OR REPLACE USER u_%",
            Lowest::Account,
        ),
        row(&["CREATE USER u_%"], "DESC USER u_%", Lowest::Account),
        row(&[], "SHOW USERS", Lowest::User),
        // Workload identities of a user ACCOUNTADMIN owns.
        row(&[SVC], WIF, Lowest::Account),
        row(
            &[SVC, WIF],
            "ALTER USER svc_% REMOVE WORKLOAD IDENTITY w",
            Lowest::Account,
        ),
        row(
            &[SVC, WIF],
            "SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS FOR USER svc_%",
            Lowest::Account,
        ),
        // Roles.
        row(&[], "CREATE ROLE new_%", Lowest::User),
        row(&["CREATE ROLE r_%"], "DROP ROLE r_%", Lowest::Account),
        row(
            &["CREATE ROLE r_%"],
            "CREATE OR REPLACE ROLE r_%",
            Lowest::Account,
        ),
        row(&[], "SHOW ROLES", Lowest::User),
        // Grants: a role ACCOUNTADMIN owns needs MANAGE GRANTS; a system role, a role holding it.
        row(
            &["CREATE ROLE r_%", "CREATE USER u_%"],
            "GRANT ROLE r_% TO USER u_%",
            Lowest::Security,
        ),
        row(
            &[
                "CREATE ROLE r_%",
                "CREATE USER u_%",
                "GRANT ROLE r_% TO USER u_%",
            ],
            "REVOKE ROLE r_% FROM USER u_%",
            Lowest::Security,
        ),
        row(
            &["CREATE USER u_%"],
            "GRANT ROLE USERADMIN TO USER u_%",
            Lowest::User,
        ),
        row(
            &["CREATE USER u_%"],
            "GRANT ROLE SECURITYADMIN TO USER u_%",
            Lowest::Security,
        ),
        row(
            &["CREATE USER u_%"],
            "GRANT ROLE SYSADMIN TO USER u_%",
            Lowest::Account,
        ),
        row(
            &["CREATE USER u_%"],
            "GRANT ROLE ACCOUNTADMIN TO USER u_%",
            Lowest::Account,
        ),
        row(
            &["CREATE USER u_%", "GRANT ROLE SECURITYADMIN TO USER u_%"],
            "REVOKE ROLE SECURITYADMIN FROM USER u_%",
            Lowest::Security,
        ),
        // Network policies and the account.
        row(
            &[],
            "CREATE NETWORK POLICY new_% ALLOWED_IP_LIST = ('10.0.0.0/8')",
            Lowest::Security,
        ),
        row(
            &[NP],
            "ALTER NETWORK POLICY np_% SET ALLOWED_IP_LIST = ('0.0.0.0/0')",
            Lowest::Account,
        ),
        row(&[NP], "DROP NETWORK POLICY np_%", Lowest::Account),
        row(&[NP], "DESC NETWORK POLICY np_%", Lowest::Account),
        row(&[], "SHOW NETWORK POLICIES", Lowest::Security),
        row(
            &[NP],
            "ALTER USER embucket SET NETWORK_POLICY = np_%",
            Lowest::Account,
        ),
        row(&[], "ALTER ACCOUNT UNSET NETWORK_POLICY", Lowest::Security),
        row(
            &[],
            "ALTER ACCOUNT SET ALLOW_CLIENT_MFA_CACHING = TRUE",
            Lowest::Account,
        ),
        // Authentication, password and session policies.
        row(&[], "CREATE AUTHENTICATION POLICY new_%", Lowest::Security),
        row(
            &[AP],
            "ALTER AUTHENTICATION POLICY ap_% SET COMMENT = 'x'",
            Lowest::Account,
        ),
        row(&[AP], "DROP AUTHENTICATION POLICY ap_%", Lowest::Account),
        row(&[AP], "DESC AUTHENTICATION POLICY ap_%", Lowest::Security),
        row(&[], "SHOW AUTHENTICATION POLICIES", Lowest::Security),
        row(&[], "CREATE PASSWORD POLICY new_%", Lowest::Security),
        row(
            &[PP],
            "ALTER PASSWORD POLICY pp_% SET PASSWORD_MIN_LENGTH = 8",
            Lowest::Account,
        ),
        row(&[PP], "DROP PASSWORD POLICY pp_%", Lowest::Account),
        row(&[], "CREATE SESSION POLICY new_%", Lowest::Security),
        row(
            &[SP],
            "ALTER SESSION POLICY sp_% SET SESSION_IDLE_TIMEOUT_MINS = 5",
            Lowest::Account,
        ),
        row(&[SP], "DROP SESSION POLICY sp_%", Lowest::Account),
        row(
            &[AP, "CREATE USER u_%"],
            "ALTER USER u_% SET AUTHENTICATION POLICY ap_%",
            Lowest::Security,
        ),
        row(
            &[PP],
            "ALTER ACCOUNT SET PASSWORD POLICY pp_% FORCE",
            Lowest::Security,
        ),
        // Security integrations: ACCOUNTADMIN's (integrations: other helper).
        integration(&[], SI),
        integration(&[SI], "ALTER SECURITY INTEGRATION si_% SET ENABLED = FALSE"),
        integration(&[SI], "DROP SECURITY INTEGRATION si_%"),
        integration(&[SI], "DESC SECURITY INTEGRATION si_%"),
        integration(&[], "SHOW SECURITY INTEGRATIONS"),
    ]
}

async fn every_statement_from_every_role(app: TestApp) {
    let admin = app.admin().await;
    admin.ok("CREATE ROLE analyst").await;
    admin.ok("GRANT ROLE analyst TO USER embucket").await;
    admin.ok("GRANT ROLE sysadmin TO USER embucket").await;
    let mut wrong = Vec::new();
    for (r, row) in rows().iter().enumerate() {
        for (n, role) in ROLES.iter().enumerate() {
            let name = |sql: &str| sql.replace('%', &format!("{r}_{n}"));
            admin.ok("USE ROLE ACCOUNTADMIN").await;
            for sql in row.setup {
                admin.ok(&name(sql)).await;
            }
            admin.ok(&format!("USE ROLE {role}")).await;
            let statement = name(row.statement);
            let (_, v) = app.query(&admin, &statement).await;
            let allowed = row.lowest.allows(role);
            let answer = match v["success"].as_bool() {
                Some(true) => "allowed".to_string(),
                _ => v["code"].as_str().unwrap_or("?").to_string(),
            };
            let expected = if allowed { "allowed" } else { "003001" };
            if answer != expected {
                wrong.push(format!(
                    "{role:>13} {statement}: {answer}, expected {expected} ({})",
                    v["message"]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
