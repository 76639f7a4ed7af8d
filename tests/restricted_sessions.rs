//! Sessions narrower than their user: one held to a role (a PAT's ROLE_RESTRICTION) or opened with
//! a PAT. Such a session gives its own user no credential (password, key, PAT, MFA method,
//! workload identity), a PAT's session manages no PATs (as Snowflake), and no administrative
//! statement takes it to a credential or a role wider than its own (the privilege search at the
//! end). The PAT policy's rules on restrictions hold when a token is added and at each login.
//! Each test runs on every store.

#[macro_use]
mod common;

use std::collections::BTreeMap;

use common::sql::*;
use common::*;
use serde_json::{Value, json};

on_every_store!(
    a_restricted_session_cannot_mint_a_wider_pat,
    a_pat_session_manages_no_pats_and_no_mfa,
    a_narrow_session_changes_none_of_its_users_credentials,
    an_oauth_session_held_to_its_scope_role_mints_no_credential,
    the_pat_policy_governs_new_tokens_and_logins,
    privilege_search_over_restricted_sessions,
);

const IP: &str = "10.0.0.5";
const PASSWORD: &str = "Str0ng-Passw0rd!x";
/// The password every statement of the search tries to set.
const NEW_PASSWORD: &str = "Esc4pe-Passw0rd!y";

/// An administrator session, an `office` network policy admitting [`IP`], role ANALYST, and PAL (a
/// person with a password, under the policy) holding ANALYST and ACCOUNTADMIN.
async fn setup(app: &TestApp) -> common::sql::Session<'_> {
    let admin = app.admin().await;
    admin
        .script(&[
            (
                "CREATE NETWORK POLICY office ALLOWED_IP_LIST=('10.0.0.0/8')",
                OK,
            ),
            ("CREATE ROLE analyst", OK),
            (
                &format!("CREATE USER pal PASSWORD='{PASSWORD}' NETWORK_POLICY=office"),
                OK,
            ),
            ("GRANT ROLE analyst TO USER pal", OK),
            ("GRANT ROLE accountadmin TO USER pal", OK),
        ])
        .await;
    admin
}

fn pat_body(user: &str, secret: &str, role: Option<&str>) -> Value {
    let mut body = json!({"data": {
        "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "5.2.0",
        "ACCOUNT_NAME": "acme", "LOGIN_NAME": user,
        "AUTHENTICATOR": "PROGRAMMATIC_ACCESS_TOKEN", "TOKEN": secret,
    }});
    if let Some(role) = role {
        body["data"]["roleName"] = json!(role);
    }
    body
}

async fn pat_login(app: &TestApp, user: &str, secret: &str, role: Option<&str>) -> Value {
    app.post_from(Some(IP), LOGIN, None, pat_body(user, secret, role))
        .await
        .1
}

/// The secret of an ADD or ROTATE answer.
fn secret(v: &Value) -> String {
    let i = column(v, "token_secret");
    rows(v)[0][i].as_str().unwrap().to_string()
}

/// Adds PAT `name` (held to `role`, if any) to PAL as the administrator; its secret.
async fn add_pat(admin: &common::sql::Session<'_>, name: &str, role: Option<&str>) -> String {
    let restriction = role
        .map(|r| format!(" ROLE_RESTRICTION = {r}"))
        .unwrap_or_default();
    secret(
        &admin
            .ok(&format!("ALTER USER pal ADD PAT {name}{restriction}"))
            .await,
    )
}

/// A session of PAL opened with `secret`.
async fn pat_session<'a>(app: &'a TestApp, secret: &str) -> common::sql::Session<'a> {
    let v = pat_login(app, "pal", secret, None).await;
    assert_eq!(v["success"], true, "{v}");
    app.session(v["data"]["token"].as_str().unwrap().to_string())
}

/// Runs `sql` in `session`, then follows whatever it yielded as far as it goes: a token secret is
/// used to log in as ACCOUNTADMIN, and that session to administer. Says where it stopped.
async fn chain(app: &TestApp, session: &str, sql: &str) -> String {
    let (_, v) = app.query(session, sql).await;
    if v["success"] != true {
        return format!("refused with {}", v["code"]);
    }
    let Some(i) = v["data"]["rowtype"]
        .as_array()
        .and_then(|cols| cols.iter().position(|c| c["name"] == "token_secret"))
    else {
        return "yielded no token".into();
    };
    let secret = rows(&v)[0][i].as_str().unwrap().to_string();
    let login = pat_login(app, "pal", &secret, Some("ACCOUNTADMIN")).await;
    if login["success"] != true {
        return format!("the new token's login refused with {}", login["code"]);
    }
    let wide = login["data"]["token"].as_str().unwrap();
    let (_, v) = app.query(wide, "CREATE USER accomplice").await;
    format!(
        "escaped: logged in as ACCOUNTADMIN, GRANT answered {}",
        v["code"]
    )
}

async fn a_restricted_session_cannot_mint_a_wider_pat(app: TestApp) {
    let admin = setup(&app).await;
    let narrow = add_pat(&admin, "narrow", Some("analyst")).await;
    let session = pat_session(&app, &narrow).await;
    assert_eq!(
        rows(&session.ok("SELECT CURRENT_ROLE()").await)[0][0],
        "ANALYST"
    );
    for sql in [
        "ALTER USER ADD PAT wide",
        "ALTER USER pal ADD PROGRAMMATIC ACCESS TOKEN wide",
        "ALTER USER pal ADD PAT wide ROLE_RESTRICTION = analyst",
        "ALTER USER pal ROTATE PAT narrow",
    ] {
        assert_eq!(
            chain(&app, &session, sql).await,
            "refused with \"003001\"",
            "{sql}"
        );
    }
    let names: Vec<_> = listing(&admin.ok("SHOW USER PATS FOR USER pal").await)
        .into_iter()
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("NARROW")]);
    // The session itself goes on, held to its role.
    session.fails("USE ROLE accountadmin", "003001").await;
    session.ok("SHOW USER PATS").await;
}

async fn a_pat_session_manages_no_pats_and_no_mfa(app: TestApp) {
    let admin = setup(&app).await;
    let plain = add_pat(&admin, "plain", None).await;
    add_pat(&admin, "other", None).await;
    let session = pat_session(&app, &plain).await;
    let v = session
        .fails("ALTER USER MODIFY PAT plain SET COMMENT = 'x'", "003001")
        .await;
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("programmatic access token"),
        "{v}"
    );
    session
        .script(&[
            ("ALTER USER MODIFY PAT plain SET DISABLED = TRUE", "003001"),
            ("ALTER USER ROTATE PAT plain", "003001"),
            ("ALTER USER pal REMOVE PAT plain", "003001"),
            ("ALTER USER REMOVE PAT other", "003001"),
            ("ALTER USER ADD PAT more", "003001"),
            ("ALTER USER ADD MFA METHOD TOTP", "003001"),
            ("SHOW USER PATS", OK),
            ("SHOW MFA METHODS", OK),
        ])
        .await;
    // Not another user's either, even as ACCOUNTADMIN.
    admin
        .ok(&format!("CREATE USER bob PASSWORD='{PASSWORD}'"))
        .await;
    session.ok("USE ROLE accountadmin").await;
    session.fails("ALTER USER bob ADD PAT b", "003001").await;
    // An enrolment the administrator made, the PAT's session cannot remove.
    admin.ok("ALTER USER pal ADD MFA METHOD TOTP").await;
    session
        .fails("ALTER USER REMOVE MFA METHOD TOTP", "003001")
        .await;
    assert_eq!(
        listing(&admin.ok("SHOW MFA METHODS FOR USER pal").await).len(),
        1
    );
    let statuses: Vec<_> = listing(&admin.ok("SHOW USER PATS FOR USER pal").await)
        .into_iter()
        .map(|r| (r["name"].clone(), r["status"].clone()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (json!("PLAIN"), json!("ACTIVE")),
            (json!("OTHER"), json!("ACTIVE"))
        ]
    );
    // The administrator manages them.
    admin.ok("ALTER USER pal REMOVE PAT other").await;
}

async fn a_narrow_session_changes_none_of_its_users_credentials(app: TestApp) {
    let admin = setup(&app).await;
    admin
        .ok(&format!("CREATE USER bob PASSWORD='{PASSWORD}'"))
        .await;
    let key = &keys().a;
    // Held to ACCOUNTADMIN, or not held at all: still a PAT's session.
    let held = add_pat(&admin, "held", Some("accountadmin")).await;
    let plain = add_pat(&admin, "plain", None).await;
    let credentials = |mut desc: BTreeMap<String, Value>| {
        desc.remove("COMMENT");
        desc
    };
    let before = credentials(admin.desc_user("pal").await);
    for secret in [held, plain] {
        let session = pat_session(&app, &secret).await;
        session.ok("USE ROLE accountadmin").await;
        session
            .script(&[
                (
                    &format!("ALTER USER pal SET PASSWORD = '{NEW_PASSWORD}'"),
                    "003001",
                ),
                ("ALTER USER pal UNSET PASSWORD", "003001"),
                (
                    &format!("ALTER USER pal SET RSA_PUBLIC_KEY = '{key}'"),
                    "003001",
                ),
                (
                    &format!("ALTER USER pal SET COMMENT = 'x' RSA_PUBLIC_KEY_2 = '{key}'"),
                    "003001",
                ),
                (
                    &format!("CREATE OR REPLACE USER pal PASSWORD = '{NEW_PASSWORD}'"),
                    "003001",
                ),
                // Other users' credentials are the role's to change, and the rest of its own user.
                (
                    &format!("ALTER USER bob SET PASSWORD = '{NEW_PASSWORD}'"),
                    OK,
                ),
                ("ALTER USER pal SET COMMENT = 'mine'", OK),
            ])
            .await;
        assert_failure(
            &password_login(&app, Some(IP), "pal", NEW_PASSWORD).await,
            "390100",
        );
        assert_eq!(credentials(admin.desc_user("pal").await), before);
    }
}

/// The RSA public key of a JWKS test fixture, as base64 DER.
fn fixture_public_key(name: &str) -> String {
    use base64::Engine;
    let pem = std::fs::read_to_string(format!("tests/fixtures/jwks/{name}.pub.pem")).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// An External OAuth access token for `user` with `scope`, signed with the `rsa1` fixture key.
fn oauth_token(app: &TestApp, user: &str, scope: &str) -> String {
    let now = app.clock.load(std::sync::atomic::Ordering::SeqCst);
    let claims = json!({"iss": "https://idp.example", "sub": user, "aud": "snowgate",
                        "scp": [scope], "iat": now, "exp": now + 600});
    let pem = std::fs::read_to_string("tests/fixtures/jwks/rsa1.pem").unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// A session held to a role by an OAuth scope is as narrow as one held by a PAT.
async fn an_oauth_session_held_to_its_scope_role_mints_no_credential(app: TestApp) {
    let admin = setup(&app).await;
    admin
        .ok(&format!(
            "CREATE SECURITY INTEGRATION idp TYPE = EXTERNAL_OAUTH ENABLED = TRUE EXTERNAL_OAUTH_TYPE = CUSTOM EXTERNAL_OAUTH_ISSUER = 'https://idp.example' EXTERNAL_OAUTH_TOKEN_USER_MAPPING_CLAIM = 'sub' EXTERNAL_OAUTH_SNOWFLAKE_USER_MAPPING_ATTRIBUTE = 'LOGIN_NAME' EXTERNAL_OAUTH_AUDIENCE_LIST = ('snowgate') EXTERNAL_OAUTH_RSA_PUBLIC_KEY = '{}'",
            fixture_public_key("rsa1")
        ))
        .await;
    let body = json!({"data": {"CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "5.2.0",
        "ACCOUNT_NAME": "acme", "AUTHENTICATOR": "OAUTH", "LOGIN_NAME": "pal",
        "TOKEN": oauth_token(&app, "pal", "session:role:analyst")}});
    let v = app.post_from(Some(IP), LOGIN, None, body).await.1;
    assert_eq!(v["data"]["sessionInfo"]["roleName"], "ANALYST", "{v}");
    let session = app.session(v["data"]["token"].as_str().unwrap().to_string());
    for sql in [
        "ALTER USER ADD PAT wide",
        "ALTER USER pal ADD PAT held ROLE_RESTRICTION = analyst",
        "ALTER USER ADD MFA METHOD TOTP",
    ] {
        assert_eq!(
            chain(&app, &session, sql).await,
            "refused with \"003001\"",
            "{sql}"
        );
    }
    assert!(listing(&admin.ok("SHOW USER PATS FOR USER pal").await).is_empty());
    assert!(listing(&admin.ok("SHOW MFA METHODS FOR USER pal").await).is_empty());
}

async fn the_pat_policy_governs_new_tokens_and_logins(app: TestApp) {
    let admin = setup(&app).await;
    // Tokens made before the policy.
    let unrestricted = add_pat(&admin, "unrestricted", None).await;
    let blocked = add_pat(&admin, "blocked", Some("accountadmin")).await;
    let fine = add_pat(&admin, "fine", Some("analyst")).await;
    for secret in [&unrestricted, &blocked, &fine] {
        assert_eq!(pat_login(&app, "pal", secret, None).await["success"], true);
    }
    admin
        .script(&[
            (
                "CREATE AUTHENTICATION POLICY pats PAT_POLICY = (BLOCKED_ROLES_LIST = ('ACCOUNTADMIN', 'SECURITYADMIN'), REQUIRE_ROLE_RESTRICTION_FOR_PERSON_USERS = TRUE)",
                OK,
            ),
            ("ALTER USER pal SET AUTHENTICATION POLICY pats", OK),
            // A person's token must be held to a role, and not to a blocked one.
            ("ALTER USER pal ADD PAT t", "002029"),
            ("ALTER USER pal ADD PAT t ROLE_RESTRICTION = accountadmin", "002029"),
            ("ALTER USER pal ADD PAT t ROLE_RESTRICTION = securityadmin", "002029"),
            ("ALTER USER pal ADD PAT t ROLE_RESTRICTION = analyst", OK),
        ])
        .await;
    let v = admin
        .fails(
            "ALTER USER pal ADD PAT u ROLE_RESTRICTION = accountadmin",
            "002029",
        )
        .await;
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("BLOCKED_ROLES_LIST"),
        "{v}"
    );
    // The tokens made before log in no more (as TOKEN or as the password), but the one the
    // policy allows does.
    for secret in [&unrestricted, &blocked] {
        assert_failure(&pat_login(&app, "pal", secret, None).await, "390430");
        assert_failure(
            &password_login(&app, Some(IP), "pal", secret).await,
            "390430",
        );
    }
    assert_eq!(pat_login(&app, "pal", &fine, None).await["success"], true);
    // Without the rule, a person's token needs no restriction again; the blocked list still holds.
    admin
        .ok("ALTER AUTHENTICATION POLICY pats SET PAT_POLICY = (BLOCKED_ROLES_LIST = ('ACCOUNTADMIN'))")
        .await;
    assert_eq!(
        pat_login(&app, "pal", &unrestricted, None).await["success"],
        true
    );
    assert_failure(&pat_login(&app, "pal", &blocked, None).await, "390430");
    // Without a policy, a service user's token must be held to a role, LEGACY_SERVICE too.
    admin
        .script(&[
            (
                "CREATE USER legacy TYPE = LEGACY_SERVICE NETWORK_POLICY = office",
                OK,
            ),
            ("GRANT ROLE analyst TO USER legacy", OK),
            ("ALTER USER legacy ADD PAT t", "002029"),
            ("ALTER USER legacy ADD PAT t ROLE_RESTRICTION = analyst", OK),
        ])
        .await;
    // The policy is the user's: another user's tokens are not governed by it.
    admin
        .ok(&format!(
            "CREATE USER bob PASSWORD='{PASSWORD}' NETWORK_POLICY=office"
        ))
        .await;
    admin.ok("GRANT ROLE accountadmin TO USER bob").await;
    admin
        .ok("ALTER USER bob ADD PAT b ROLE_RESTRICTION = accountadmin")
        .await;
}

// ---------------------------------------------------------------------------------------------------
// The privilege search: every kind of administrative statement, from PAT sessions held to each
// role (and from one held to none), and what the directory holds afterwards.

/// Every administrative statement kind that could give a credential or a role: users, roles,
/// grants, PATs, MFA, policies, network policies, integrations, workload identities. `{m}` names
/// the objects of one session's run; `{own}` is the session's token; `{key}` an RSA public key.
const STATEMENTS: &[&str] = &[
    // The session's own user: credentials.
    "ALTER USER pal SET PASSWORD = '{pw}'",
    "ALTER USER pal UNSET PASSWORD",
    "ALTER USER pal SET RSA_PUBLIC_KEY = '{key}'",
    "ALTER USER pal SET RSA_PUBLIC_KEY_2 = '{key}'",
    "ALTER USER pal ADD PAT {m}_wide",
    "ALTER USER ADD PROGRAMMATIC ACCESS TOKEN {m}_admin ROLE_RESTRICTION = accountadmin",
    "ALTER USER pal ROTATE PAT {own} EXPIRE_ROTATED_TOKEN_AFTER_HOURS = 1",
    "ALTER USER pal MODIFY PAT {own} SET MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT = 10",
    "ALTER USER pal MODIFY PAT {own} RENAME TO {m}_renamed",
    "ALTER USER pal REMOVE PAT spare",
    "ALTER USER ADD MFA METHOD TOTP",
    "ALTER USER pal REMOVE MFA METHOD TOTP",
    "ALTER USER pal ADD WORKLOAD IDENTITY DEFAULT TYPE = AWS ARN = 'arn:aws:iam::123456789012:role/{m}'",
    "CREATE OR REPLACE USER pal PASSWORD = '{pw}'",
    // The session's own user: roles and policies.
    "GRANT ROLE accountadmin TO USER pal",
    "GRANT ROLE securityadmin TO USER pal",
    "ALTER USER pal SET DEFAULT_ROLE = accountadmin",
    "CREATE NETWORK POLICY {m}_open ALLOWED_IP_LIST = ('0.0.0.0/0')",
    "ALTER USER pal SET NETWORK_POLICY = {m}_open",
    "CREATE AUTHENTICATION POLICY {m}_loose PAT_POLICY = (NETWORK_POLICY_EVALUATION = NOT_ENFORCED)",
    "ALTER USER pal SET AUTHENTICATION POLICY {m}_loose",
    "CREATE SESSION POLICY {m}_long SESSION_IDLE_TIMEOUT_MINS = 240",
    "ALTER USER pal SET SESSION POLICY {m}_long",
    "CREATE PASSWORD POLICY {m}_weak PASSWORD_MIN_LENGTH = 8",
    "ALTER USER pal SET PASSWORD POLICY {m}_weak",
    // Another user, made or changed by the session, and the roles it gets.
    "CREATE USER {m} PASSWORD = '{pw}'",
    "GRANT ROLE accountadmin TO USER {m}",
    "GRANT ROLE securityadmin TO USER {m}",
    "GRANT ROLE useradmin TO USER {m}",
    "GRANT ROLE sysadmin TO USER {m}",
    "GRANT ROLE analyst TO USER {m}",
    "CREATE ROLE {m}_role",
    "GRANT ROLE {m}_role TO USER {m}",
    "ALTER USER {m} SET DEFAULT_ROLE = accountadmin",
    "ALTER USER {m} ADD PAT t",
    "ALTER USER boss SET PASSWORD = '{pw}'",
    "ALTER USER boss SET RSA_PUBLIC_KEY = '{key}'",
    "ALTER USER boss ADD PAT t",
    "CREATE OR REPLACE USER boss PASSWORD = '{pw}'",
    "CREATE USER {m}_svc TYPE = SERVICE WORKLOAD_IDENTITY = (TYPE = AWS ARN = 'arn:aws:iam::123456789012:role/{m}')",
    "GRANT ROLE sysadmin TO USER {m}_svc",
    // The account.
    "ALTER ACCOUNT SET NETWORK_POLICY = {m}_open",
    "ALTER ACCOUNT SET AUTHENTICATION POLICY {m}_loose",
    "CREATE SECURITY INTEGRATION {m}_oauth TYPE = EXTERNAL_OAUTH ENABLED = TRUE EXTERNAL_OAUTH_TYPE = CUSTOM EXTERNAL_OAUTH_ISSUER = 'https://{m}.example' EXTERNAL_OAUTH_TOKEN_USER_MAPPING_CLAIM = 'sub' EXTERNAL_OAUTH_SNOWFLAKE_USER_MAPPING_ATTRIBUTE = 'LOGIN_NAME' EXTERNAL_OAUTH_AUDIENCE_LIST = ('snowgate') EXTERNAL_OAUTH_RSA_PUBLIC_KEY = '{key}' EXTERNAL_OAUTH_ANY_ROLE_MODE = ENABLE",
    "ALTER SECURITY INTEGRATION okta SET EXTERNAL_OAUTH_RSA_PUBLIC_KEY = '{key}'",
];

const SYSTEM: [&str; 4] = ["ACCOUNTADMIN", "SECURITYADMIN", "USERADMIN", "SYSADMIN"];

/// Whether a session in `role` may hand `other` to a user: a system role it holds (ACCOUNTADMIN
/// holds SECURITYADMIN, which holds USERADMIN), a role it made, or, with SECURITYADMIN's MANAGE
/// GRANTS, any role that is not a system role.
fn may_reach(role: &str, other: &str, made: &str) -> bool {
    let holds = |r: &str, o: &str| {
        r == o
            || match r {
                "ACCOUNTADMIN" => true,
                "SECURITYADMIN" => o == "USERADMIN",
                _ => false,
            }
    };
    holds(role, other)
        || other == made
        || (!SYSTEM.contains(&other) && holds(role, "SECURITYADMIN"))
}

/// What PAL can log in with: its password, keys, tokens, MFA methods, workload identities.
async fn credentials_of_pal(admin: &common::sql::Session<'_>) -> Vec<String> {
    let desc = admin.desc_user("pal").await;
    let mut seen: Vec<String> = ["HAS_PASSWORD", "RSA_PUBLIC_KEY_FP", "RSA_PUBLIC_KEY_2_FP"]
        .iter()
        .map(|p| format!("{p}={}", desc[*p]))
        .collect();
    for row in listing(&admin.ok("SHOW USER PATS FOR USER pal").await) {
        seen.push(format!(
            "PAT {} {} {} {} {}",
            row["name"],
            row["status"],
            row["role_restriction"],
            row["expires_at"],
            row["mins_to_bypass_network_policy_requirement"]
        ));
    }
    for row in listing(&admin.ok("SHOW MFA METHODS FOR USER pal").await) {
        seen.push(format!("MFA {}", row["name"]));
    }
    let wif = admin
        .ok("SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS FOR USER pal")
        .await;
    seen.push(format!("WIF {}", rows(&wif).len()));
    seen
}

async fn privilege_search_over_restricted_sessions(app: TestApp) {
    let admin = setup(&app).await;
    let key = &keys().a;
    admin
        .script(&[
            ("GRANT ROLE useradmin TO USER pal", OK),
            ("GRANT ROLE securityadmin TO USER pal", OK),
            // BOSS: a user the session's role owns, holding a role it does not.
            ("USE ROLE useradmin", OK),
            (&format!("CREATE USER boss PASSWORD = '{PASSWORD}'"), OK),
            ("USE ROLE accountadmin", OK),
            ("GRANT ROLE analyst TO USER boss", OK),
            ("ALTER USER pal ADD MFA METHOD TOTP", OK),
            (
                &format!(
                    "CREATE SECURITY INTEGRATION okta TYPE = EXTERNAL_OAUTH ENABLED = TRUE EXTERNAL_OAUTH_TYPE = OKTA EXTERNAL_OAUTH_ISSUER = 'https://okta.example' EXTERNAL_OAUTH_TOKEN_USER_MAPPING_CLAIM = 'sub' EXTERNAL_OAUTH_SNOWFLAKE_USER_MAPPING_ATTRIBUTE = 'LOGIN_NAME' EXTERNAL_OAUTH_AUDIENCE_LIST = ('snowgate') EXTERNAL_OAUTH_RSA_PUBLIC_KEY = '{}'",
                    keys().b
                ),
                OK,
            ),
        ])
        .await;
    let integration =
        async || admin.ok("DESC SECURITY INTEGRATION okta").await["data"]["rowset"].clone();
    let integration_key = integration().await;
    // (session label, the token's restriction, the role its statements run in)
    let runs = [
        ("r_analyst", Some("analyst"), "ANALYST"),
        ("r_useradmin", Some("useradmin"), "USERADMIN"),
        ("r_securityadmin", Some("securityadmin"), "SECURITYADMIN"),
        ("r_none", None, "ACCOUNTADMIN"),
    ];
    add_pat(&admin, "spare", None).await;
    let mut findings = Vec::new();
    for (m, restriction, role) in runs {
        let own = format!("{m}_token");
        let secret = add_pat(&admin, &own, restriction).await;
        let session = pat_session(&app, &secret).await;
        session.ok(&format!("USE ROLE {role}")).await;
        let before = credentials_of_pal(&admin).await;
        let mut answers = BTreeMap::new();
        for template in STATEMENTS {
            let sql = template
                .replace("{m}", m)
                .replace("{own}", &own)
                .replace("{pw}", NEW_PASSWORD)
                .replace("{key}", key);
            let (_, v) = app.query(&session, &sql).await;
            assert!(v["success"].is_boolean(), "{sql}: {v}");
            if v["data"]["rowtype"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["name"] == "token_secret"))
            {
                findings.push(format!("{m}: {sql} yielded a token secret"));
            }
            answers.insert(sql, v["code"].clone());
        }
        // The session lives on, in its role, and PAL can log in with nothing new.
        let (_, v) = app.query(&session, "SELECT CURRENT_ROLE()").await;
        if v["data"]["rowset"][0][0] != role {
            findings.push(format!("{m}: the session ended or left its role: {v}"));
        }
        if credentials_of_pal(&admin).await != before {
            findings.push(format!(
                "{m}: PAL's credentials changed: {before:?} -> {:?}",
                credentials_of_pal(&admin).await
            ));
        }
        if password_login(&app, Some(IP), "pal", NEW_PASSWORD).await["success"] == true {
            findings.push(format!("{m}: PAL logs in with the new password"));
        }
        // Every user the session could log in as holds only roles within its reach.
        // (BOSS is left out: a role that owns a user may take it over, roles and all, as in
        // Snowflake; what it may not do is reach a role through a user it gives that role.)
        for user in [m] {
            let v = password_login(&app, None, user, NEW_PASSWORD).await;
            if v["success"] != true {
                continue;
            }
            let other = app.session(v["data"]["token"].as_str().unwrap().to_string());
            for wider in SYSTEM.iter().copied().chain(["ANALYST"]) {
                let made = format!("{}_ROLE", m.to_uppercase());
                let (_, v) = app.query(&other, &format!("USE ROLE {wider}")).await;
                if v["success"] == true && !may_reach(role, wider, &made) {
                    findings.push(format!("{m}: {user} logs in and takes role {wider}"));
                }
            }
        }
        // No integration the session's holder controls can mint OAuth sessions, unless the role
        // could make one anyway (ACCOUNTADMIN).
        let shown = admin.names("SHOW INTEGRATIONS").await;
        if role != "ACCOUNTADMIN" && shown.contains(&format!("{}_OAUTH", m.to_uppercase())) {
            findings.push(format!("{m}: made a security integration"));
        }
        if role != "ACCOUNTADMIN" && integration().await != integration_key {
            findings.push(format!("{m}: changed the key of a security integration"));
        }
        // Undo what the run did to PAL and the account, so the next run starts alike.
        admin
            .script(&[
                ("ALTER ACCOUNT UNSET NETWORK_POLICY", OK),
                ("ALTER ACCOUNT UNSET AUTHENTICATION POLICY", OK),
                ("ALTER USER pal SET NETWORK_POLICY = office", OK),
                ("ALTER USER pal UNSET AUTHENTICATION POLICY", OK),
            ])
            .await;
        // What each statement answered, for a failure's report.
        eprintln!("{m}: {answers:#?}");
    }
    assert!(findings.is_empty(), "{findings:#?}");
}
