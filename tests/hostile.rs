//! A hostile corpus, generated here and sent through the router on every store: broken bodies (gzip
//! truncated, corrupt or a bomb, over the limit, not UTF-8, nested deep, fields of the wrong JSON type,
//! huge strings, control characters), forged and misused tokens, key-pair JWTs of every bad kind, and
//! SQL a PUBLIC-only session must not run. Every request must get a Snowflake failure envelope
//! (`success:false` with a string `code`), never a panic, and leave users, roles, network policies and
//! the sessions already open exactly as they were.

#[macro_use]
mod common;

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::keys::TestKey;
use common::*;
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use snowgate::domain::tokens::Claims;
use tower::ServiceExt;

on_every_store!(
    hostile_requests_get_errors_and_change_nothing,
    sql_past_the_limits_gets_errors_and_changes_nothing,
);

const LOGIN: &str = "/session/v1/login-request?requestId=hostile";
const QUERY: &str = "/queries/v1/query-request?requestId=hostile";
const HEARTBEAT: &str = "/session/heartbeat";
const LOGOUT: &str = "/session?delete=true";
const RENEW: &str = "/session/token-request";
/// The secret `TestApp` signs tokens with, and the key id of `StaticSecrets`.
const SECRET: &str = "test-secret";
const KID: &str = "static";
const VICTIM_PASSWORD: &str = "victim-password-1";

/// One hostile request.
struct Case {
    label: String,
    uri: String,
    /// The whole `Authorization` header value.
    authorization: Option<String>,
    content_encoding: Option<String>,
    body: Vec<u8>,
}

impl Case {
    fn new(label: impl Into<String>, uri: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            label: label.into(),
            uri: uri.to_string(),
            authorization: None,
            content_encoding: None,
            body: body.into(),
        }
    }

    fn json(label: impl Into<String>, uri: &str, body: &Value) -> Self {
        Self::new(label, uri, body.to_string())
    }

    fn token(mut self, token: &str) -> Self {
        self.authorization = Some(format!("Snowflake Token=\"{token}\""));
        self
    }

    fn authorization(mut self, value: impl Into<String>) -> Self {
        self.authorization = Some(value.into());
        self
    }

    fn encoding(mut self, encoding: &str) -> Self {
        self.content_encoding = Some(encoding.to_string());
        self
    }

    fn request(&self) -> Request<Body> {
        let mut b = Request::post(self.uri.as_str())
            .header("content-type", "application/json")
            .header("accept", "application/snowflake");
        if let Some(a) = &self.authorization {
            b = b.header("authorization", a.as_str());
        }
        if let Some(e) = &self.content_encoding {
            b = b.header("content-encoding", e.as_str());
        }
        b.body(Body::from(self.body.clone())).expect("request")
    }
}

/// What the corpus runs against: an administrator, a PUBLIC-only user with a session, and a service
/// user with a key.
struct World {
    admin: Tokens,
    victim: Tokens,
}

async fn setup(app: &TestApp) -> World {
    let admin = app.login().await;
    for sql in [
        format!("CREATE USER victim PASSWORD='{VICTIM_PASSWORD}'"),
        "CREATE ROLE analyst".to_string(),
        "CREATE NETWORK POLICY office ALLOWED_IP_LIST=('10.0.0.0/8')".to_string(),
        "CREATE AUTHENTICATION POLICY guard CLIENT_TYPES=('DRIVERS')".to_string(),
        "CREATE PASSWORD POLICY strict PASSWORD_MIN_LENGTH=20".to_string(),
        "CREATE SESSION POLICY brief SESSION_IDLE_TIMEOUT_MINS=30".to_string(),
        "ALTER USER victim SET AUTHENTICATION POLICY guard".to_string(),
        "ALTER ACCOUNT SET PASSWORD POLICY strict".to_string(),
        format!(
            "CREATE USER svc_key TYPE=SERVICE RSA_PUBLIC_KEY='{}'",
            key().public_b64
        ),
        "CREATE USER svc_wif TYPE=SERVICE WORKLOAD_IDENTITY=(TYPE=AWS ARN='arn:aws:iam::123456789012:role/app')".to_string(),
    ] {
        let (_, v) = app.query(&admin.session, &sql).await;
        assert_eq!(v["success"], true, "{sql}: {v}");
    }
    let victim = app.login_as("victim", VICTIM_PASSWORD).await;
    // A programmatic access token the corpus must leave as it is.
    let (_, v) = app
        .query(&victim.session, "ALTER USER ADD PAT kept COMMENT = 'kept'")
        .await;
    assert_eq!(v["success"], true, "{v}");
    World { admin, victim }
}

/// Everything a hostile request must not change: the directory as the administrator sees it, and the
/// context of both open sessions.
async fn snapshot(app: &TestApp, w: &World) -> Vec<Value> {
    let context = "SELECT CURRENT_USER(), CURRENT_ROLE(), CURRENT_DATABASE(), CURRENT_SCHEMA(), \
                   CURRENT_WAREHOUSE(), CURRENT_ACCOUNT(), CURRENT_SESSION()";
    let read_by_admin = [
        "SHOW USERS",
        "SHOW ROLES",
        "SHOW NETWORK POLICIES",
        "SHOW AUTHENTICATION POLICIES",
        "SHOW PASSWORD POLICIES",
        "SHOW SESSION POLICIES",
        "DESC AUTHENTICATION POLICY guard",
        "DESC PASSWORD POLICY strict",
        "DESC SESSION POLICY brief",
        "DESC USER victim",
        "DESC USER svc_key",
        "SHOW USER PATS FOR USER victim",
        "SHOW INTEGRATIONS",
        "SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS FOR USER svc_wif",
    ];
    let admin = read_by_admin.iter().map(|sql| (&w.admin.session, *sql));
    let sessions = [(&w.admin.session, context), (&w.victim.session, context)];
    let mut state = Vec::new();
    for (token, sql) in admin.chain(sessions) {
        let (_, v) = app.query(token, sql).await;
        assert_eq!(v["success"], true, "{sql}: {v}");
        state.push(v["data"]["rowset"].clone());
    }
    state
}

/// Sends every case; returns a description of each that did not get a failure envelope.
async fn run(app: &TestApp, cases: &[Case]) -> Vec<String> {
    let mut wrong = Vec::new();
    for case in cases {
        // Spawned, so a panic in a handler is reported with its case instead of ending the test.
        let answer = tokio::spawn(app.router.clone().oneshot(case.request())).await;
        let response = match answer {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => match e {},
            Err(e) => {
                wrong.push(format!("{}: panicked: {e}", case.label));
                continue;
            }
        };
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
            wrong.push(format!(
                "{}: not JSON: {}",
                case.label,
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            ));
            continue;
        };
        let envelope = v["success"] == false
            && v["code"].is_string()
            && v["message"].as_str().is_some_and(|m| !m.is_empty());
        if !envelope {
            let shown = v.to_string();
            wrong.push(format!(
                "{}: {}",
                case.label,
                &shown[..shown.len().min(300)]
            ));
        }
    }
    wrong
}

async fn hostile_requests_get_errors_and_change_nothing(app: TestApp) {
    let w = setup(&app).await;
    let before = snapshot(&app, &w).await;
    let mut cases = Vec::new();
    cases.extend(body_cases(&w));
    cases.extend(field_cases());
    cases.extend(token_cases(&w));
    cases.extend(key_pair_cases());
    cases.extend(sql_cases(&w));
    cases.extend(pat_cases(&w));
    cases.extend(workload_identity_cases(&w));
    cases.extend(oidc_cases(&w));
    cases.extend(oauth_cases(&w));
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    let wrong = run(&app, &cases).await;
    assert!(
        wrong.is_empty(),
        "{} of {} hostile requests were not refused with an envelope:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    assert_eq!(
        snapshot(&app, &w).await,
        before,
        "a hostile request changed state"
    );
}

/// SQL past any sensible size: nested far too deep (each must be a SQL error, not a stack overflow)
/// and identifiers longer than Snowflake's 255 characters. These need the SQL front end's limits.
async fn sql_past_the_limits_gets_errors_and_changes_nothing(app: TestApp) {
    let w = setup(&app).await;
    let before = snapshot(&app, &w).await;
    let mut cases = Vec::new();
    for depth in [1_000, 10_000, 25_000] {
        let (open, close) = ("(".repeat(depth), ")".repeat(depth));
        for (what, sql) in [
            ("SELECT", format!("SELECT {open}1{close}")),
            (
                "CREATE NETWORK POLICY",
                format!("CREATE NETWORK POLICY p ALLOWED_IP_LIST = {open}'10.0.0.1'{close}"),
            ),
            (
                "ALTER USER",
                format!("ALTER USER victim SET COMMENT = {open}'x'{close}"),
            ),
            (
                "CREATE AUTHENTICATION POLICY",
                format!(
                    "CREATE AUTHENTICATION POLICY p CLIENT_POLICY = {}'1'{close}",
                    "(A = ".repeat(depth)
                ),
            ),
        ] {
            for (who, token) in [
                ("PUBLIC", &w.victim.session),
                ("ACCOUNTADMIN", &w.admin.session),
            ] {
                cases.push(query(
                    format!("{what} nested {depth} deep as {who}"),
                    token,
                    &sql,
                ));
            }
        }
    }
    let long = "n".repeat(10_000);
    for sql in [
        format!("CREATE USER \"{long}\""),
        format!("CREATE ROLE {long}"),
        format!("CREATE NETWORK POLICY {long} ALLOWED_IP_LIST=('10.0.0.1')"),
    ] {
        cases.push(query(
            format!("ACCOUNTADMIN: {:.40}", sql),
            &w.admin.session,
            &sql,
        ));
    }
    let wrong = run(&app, &cases).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(snapshot(&app, &w).await, before);
}

// ---------------------------------------------------------------------------------------------------
// Bodies.

/// A login that fails even if the body were read leniently: the user does not exist.
fn failing_login() -> Value {
    login_body("nobody_hostile", "wrong-password")
}

fn query_body(sql: &str) -> Value {
    json!({"sqlText": sql, "asyncExec": false, "sequenceId": 1})
}

/// A query that fails for the victim whatever else goes wrong: PUBLIC may not create users.
fn failing_query() -> Value {
    query_body("CREATE USER intruder PASSWORD='intruder-password'")
}

fn query(label: impl Into<String>, token: &str, sql: &str) -> Case {
    Case::json(label, QUERY, &query_body(sql)).token(token)
}

/// Login requests of one kind: `base` login data with each variant's fields laid over it.
fn login_variants<'a>(
    kind: &str,
    base: Value,
    variants: impl IntoIterator<Item = (&'a str, Value)>,
) -> Vec<Case> {
    let one = |(label, data): (&str, Value)| {
        let mut body = json!({ "data": base.clone() });
        for (k, v) in data.as_object().expect("an object") {
            body["data"][k] = v.clone();
        }
        Case::json(format!("{kind} login: {label}"), LOGIN, &body)
    };
    variants.into_iter().map(one).collect()
}

/// Statements of one kind, each sent with the session `token`.
fn statement_cases(kind: &str, token: &str, statements: &[&str]) -> Vec<Case> {
    let one = |sql: &&str| query(format!("{kind} statement {sql:.80}"), token, sql);
    statements.iter().map(one).collect()
}

fn body_cases(w: &World) -> Vec<Case> {
    let victim = w.victim.session.as_str();
    let endpoints: [(&str, Value, Option<&str>); 2] = [
        ("login", failing_login(), None),
        ("query", failing_query(), Some(victim)),
    ];
    let mut cases = Vec::new();
    for (name, body, token) in &endpoints {
        let uri = if *name == "login" { LOGIN } else { QUERY };
        let with = |c: Case| match token {
            Some(t) => c.token(t),
            None => c,
        };
        let plain = body.to_string().into_bytes();
        let zipped = gzip(&plain);
        for cut in [
            0,
            1,
            5,
            10,
            zipped.len() / 2,
            zipped.len() - 8,
            zipped.len() - 1,
        ] {
            cases.push(with(
                Case::new(format!("{name}: gzip cut at {cut}"), uri, &zipped[..cut])
                    .encoding("gzip"),
            ));
        }
        for at in [
            0,
            1,
            2,
            3,
            10,
            zipped.len() / 2,
            zipped.len() - 6,
            zipped.len() - 2,
        ] {
            let mut corrupt = zipped.clone();
            corrupt[at] ^= 0x5a;
            cases.push(with(
                Case::new(format!("{name}: gzip byte {at} corrupted"), uri, corrupt)
                    .encoding("gzip"),
            ));
        }
        let bomb = gzip(&vec![b' '; 50 * BODY_LIMIT]);
        cases.push(with(
            Case::new(format!("{name}: gzip bomb"), uri, bomb).encoding("gzip"),
        ));
        let mut padded = body.clone();
        padded["pad"] = json!("x".repeat(BODY_LIMIT));
        cases.push(with(
            Case::new(
                format!("{name}: over the limit once unzipped"),
                uri,
                gzip(padded.to_string().as_bytes()),
            )
            .encoding("gzip"),
        ));
        cases.push(with(Case::json(
            format!("{name}: over the limit"),
            uri,
            &padded,
        )));
        cases.push(with(
            Case::new(format!("{name}: gzip twice"), uri, gzip(&zipped)).encoding("gzip"),
        ));
        cases.push(with(
            Case::new(
                format!("{name}: plain body labelled gzip"),
                uri,
                plain.clone(),
            )
            .encoding("gzip"),
        ));
        for encoding in ["br", "deflate", "compress", "gzip, br", "x-unknown"] {
            cases.push(with(
                Case::new(
                    format!("{name}: content-encoding {encoding}"),
                    uri,
                    zipped.clone(),
                )
                .encoding(encoding),
            ));
        }
        let text = body.to_string();
        let mut invalid = text.clone().into_bytes();
        let quote = text.find("\":\"").unwrap_or(2) + 3;
        invalid.splice(quote..quote, [0xff, 0xfe, 0xc0, 0x80]);
        cases.push(with(Case::new(
            format!("{name}: invalid UTF-8 in a string"),
            uri,
            invalid,
        )));
        cases.push(with(Case::new(
            format!("{name}: all 0xff"),
            uri,
            vec![0xff; 64],
        )));
        cases.push(with(Case::new(
            format!("{name}: UTF-16 body"),
            uri,
            text.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>(),
        )));
        cases.push(with(Case::new(
            format!("{name}: lone surrogate escape"),
            uri,
            text.replacen("\":\"", "\":\"\\ud800", 1),
        )));
        for raw in [
            "",
            " ",
            "null",
            "[]",
            "1",
            "\"data\"",
            "{",
            "}",
            "{}",
            "{\"data\":null}",
            "{\"data\":[]}",
            "{\"data\":{}}x",
            "{\"data\":{},\"data\":{}}",
            "\u{0}",
        ] {
            cases.push(with(Case::new(format!("{name}: body {raw:?}"), uri, raw)));
        }
        for depth in [129, 2_000, 30_000] {
            let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            cases.push(with(Case::new(
                format!("{name}: arrays {depth} deep"),
                uri,
                deep,
            )));
            let deep_field = text.replacen(
                '{',
                &format!("{{\"deep\":{}1{},", "[".repeat(depth), "]".repeat(depth)),
                1,
            );
            cases.push(with(Case::new(
                format!("{name}: a field {depth} deep"),
                uri,
                deep_field,
            )));
        }
    }
    cases
}

/// Every login field with every JSON type it must not have, huge strings, and control characters.
fn field_cases() -> Vec<Case> {
    let strings = [
        "ACCOUNT_NAME",
        "LOGIN_NAME",
        "PASSWORD",
        "AUTHENTICATOR",
        "TOKEN",
        "CLIENT_APP_ID",
        "CLIENT_APP_VERSION",
        "SVN_REVISION",
        "EXT_AUTHN_DUO_METHOD",
        "PASSCODE",
        "databaseName",
        "schemaName",
        "warehouse",
        "roleName",
    ];
    let objects = ["CLIENT_ENVIRONMENT", "SESSION_PARAMETERS"];
    let mut cases = Vec::new();
    for field in strings {
        for wrong in [
            json!(1),
            json!(-1.5),
            json!(true),
            json!([]),
            json!({}),
            json!(["a"]),
            json!({"a": "b"}),
        ] {
            let mut body = failing_login();
            body["data"][field] = wrong.clone();
            cases.push(Case::json(
                format!("login: {field} = {wrong}"),
                LOGIN,
                &body,
            ));
        }
    }
    for field in objects {
        for wrong in [json!("s"), json!(1), json!(true), json!([1, 2])] {
            let mut body = failing_login();
            body["data"][field] = wrong.clone();
            cases.push(Case::json(
                format!("login: {field} = {wrong}"),
                LOGIN,
                &body,
            ));
        }
    }
    for wrong in [json!("s"), json!(1), json!(true), json!([])] {
        cases.push(Case::json(
            format!("login: data = {wrong}"),
            LOGIN,
            &json!({"data": wrong}),
        ));
    }
    for field in [
        "ACCOUNT_NAME",
        "LOGIN_NAME",
        "PASSWORD",
        "CLIENT_APP_ID",
        "AUTHENTICATOR",
        "TOKEN",
        "PASSCODE",
        "EXT_AUTHN_DUO_METHOD",
    ] {
        let mut body = failing_login();
        body["data"][field] = json!("A".repeat(BODY_LIMIT - 1_000));
        cases.push(Case::json(format!("login: huge {field}"), LOGIN, &body));
    }
    // Passcodes of every wrong shape, with and without the passcode-in-password flags.
    let nines = "9".repeat(64);
    for passcode in [
        "1",
        "1234567",
        "abcdef",
        "１２３４５６",
        "12\u{0}456",
        &nines,
    ] {
        for in_password in [json!(null), json!(true), json!("true"), json!(1)] {
            let mut body = failing_login();
            body["data"]["EXT_AUTHN_DUO_METHOD"] = json!("passcode");
            body["data"]["PASSCODE"] = json!(passcode);
            body["data"]["passcodeInPassword"] = in_password.clone();
            cases.push(Case::json(
                format!("login: passcode {passcode:?}, in password {in_password}"),
                LOGIN,
                &body,
            ));
        }
    }
    let mut many = failing_login();
    many["data"]["SESSION_PARAMETERS"] = (0..3_000).map(|i| (format!("P{i}"), json!(i))).collect();
    cases.push(Case::json("login: 3000 session parameters", LOGIN, &many));
    for name in [
        "nobody\0",
        "\0",
        "emb\0ucket",
        "embucket\n",
        "embucket\r\nX-Injected: 1",
        "\u{1b}[2J",
        "\u{202e}tekcubme",
        "\u{feff}embucket",
        "   ",
        "\t",
        "victim\u{0}",
        "VICTIM%00",
        "'; DROP USER victim; --",
        "\"victim\"\"",
    ] {
        let mut body = failing_login();
        body["data"]["LOGIN_NAME"] = json!(name);
        cases.push(Case::json(
            format!("login: LOGIN_NAME {name:?}"),
            LOGIN,
            &body,
        ));
        let mut body = failing_login();
        body["data"]["ACCOUNT_NAME"] = json!(name);
        body["data"]["CLIENT_APP_ID"] = json!(name);
        cases.push(Case::json(
            format!("login: ACCOUNT_NAME {name:?}"),
            LOGIN,
            &body,
        ));
    }
    for query in [
        "databaseName=%00",
        "roleName=%0Aaccountadmin",
        "warehouse=%FF%FE",
        "roleName=ACCOUNTADMIN&roleName=PUBLIC",
    ] {
        cases.push(Case::json(
            format!("login: query string {query}"),
            &format!("/session/v1/login-request?{query}"),
            &failing_login(),
        ));
    }
    for (field, wrong) in [
        ("sqlText", json!(1)),
        ("sqlText", json!(true)),
        ("sqlText", json!([])),
        ("sqlText", json!({})),
        ("sqlText", json!(null)),
        ("sqlText", json!("")),
        ("asyncExec", json!("yes")),
        ("asyncExec", json!({})),
        ("sequenceId", json!("one")),
        ("sequenceId", json!(-1)),
        ("sequenceId", json!(1e300)),
        ("bindings", json!("x")),
        ("bindings", json!([1, 2])),
        ("parameters", json!("x")),
    ] {
        let mut body = failing_query();
        body[field] = wrong.clone();
        // Sent without a token: the body may not be read before the token is checked, and a
        // lenient read would still leave the statement refused.
        cases.push(Case::json(
            format!("query: {field} = {wrong}"),
            QUERY,
            &body,
        ));
    }
    cases
}

// ---------------------------------------------------------------------------------------------------
// Tokens.

fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn parts(token: &str) -> Vec<String> {
    token.split('.').map(str::to_string).collect()
}

fn claims_of(token: &str) -> Claims {
    let payload = URL_SAFE_NO_PAD.decode(&parts(token)[1]).expect("payload");
    serde_json::from_slice(&payload).expect("claims")
}

/// `claims` signed with `secret` in `alg`, under key id `kid`.
fn hs(alg: Algorithm, kid: Option<&str>, secret: &str, claims: &Claims) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

/// Every way to present a token that must not be taken as a valid one of `kind`; `real` is the
/// victim's genuine token of that kind, `other` the genuine token of the other kind.
fn forged_tokens(real: &str, other: &str, admin_session_id: u64) -> Vec<(String, Option<String>)> {
    let p = parts(real);
    let claims = claims_of(real);
    let sign = |alg, kid: Option<&str>, secret: &str, change: &dyn Fn(&mut Claims)| {
        let mut c = claims.clone();
        change(&mut c);
        hs(alg, kid, secret, &c)
    };
    let header_with = |json: &str| b64url(json.as_bytes());
    let snowflake = |t: &str| Some(format!("Snowflake Token=\"{t}\""));
    let mut swapped = claims.clone();
    swapped.session_id = admin_session_id;
    let swapped_payload = b64url(&serde_json::to_vec(&swapped).expect("claims"));
    vec![
        ("no Authorization header".into(), None),
        ("empty token".into(), snowflake("")),
        ("garbage".into(), snowflake("garbage")),
        ("three dots".into(), snowflake("...")),
        ("bad base64 segments".into(), snowflake("!!!.@@@.###")),
        ("huge".into(), snowflake(&"a".repeat(60_000))),
        (
            "huge payload".into(),
            snowflake(&format!("{}.{}.{}", p[0], "A".repeat(60_000), p[2])),
        ),
        ("the token of the other kind".into(), snowflake(other)),
        ("Bearer scheme".into(), Some(format!("Bearer {real}"))),
        ("unquoted".into(), Some(format!("Snowflake Token={real}"))),
        (
            "two tokens".into(),
            Some(format!("Snowflake Token=\"garbage\", Token=\"{real}\"")),
        ),
        (
            "alg none".into(),
            snowflake(&format!(
                "{}.{}.",
                header_with(r#"{"alg":"none","kid":"static"}"#),
                p[1]
            )),
        ),
        (
            "alg none, no kid".into(),
            snowflake(&format!("{}.{}.", header_with(r#"{"alg":"none"}"#), p[1])),
        ),
        (
            "signature stripped".into(),
            snowflake(&format!("{}.{}.", p[0], p[1])),
        ),
        (
            "signature only two parts".into(),
            snowflake(&format!("{}.{}", p[0], p[1])),
        ),
        (
            "session id swapped, signature kept".into(),
            snowflake(&format!("{}.{swapped_payload}.{}", p[0], p[2])),
        ),
        (
            "RS256 header over the HMAC signature".into(),
            snowflake(&format!(
                "{}.{}.{}",
                header_with(r#"{"alg":"RS256","kid":"static"}"#),
                p[1],
                p[2]
            )),
        ),
        (
            "re-signed with another secret".into(),
            snowflake(&sign(
                Algorithm::HS256,
                Some(KID),
                "another-secret",
                &|_| {},
            )),
        ),
        (
            "session id swapped and re-signed with another secret".into(),
            snowflake(&sign(Algorithm::HS256, Some(KID), "another-secret", &|c| {
                c.session_id = admin_session_id
            })),
        ),
        (
            "HS384 with the real secret".into(),
            snowflake(&sign(Algorithm::HS384, Some(KID), SECRET, &|_| {})),
        ),
        (
            "HS512 with the real secret".into(),
            snowflake(&sign(Algorithm::HS512, Some(KID), SECRET, &|_| {})),
        ),
        (
            "expired, real secret".into(),
            snowflake(&sign(Algorithm::HS256, Some(KID), SECRET, &|c| {
                c.iat = START - 100;
                c.exp = START - 1
            })),
        ),
        (
            "not yet valid, real secret".into(),
            snowflake(&sign(Algorithm::HS256, Some(KID), SECRET, &|c| {
                c.iat = START + 3_600;
                c.exp = START + 7_200
            })),
        ),
        (
            "unknown kid, real secret".into(),
            snowflake(&sign(Algorithm::HS256, Some("v-unknown"), SECRET, &|_| {})),
        ),
        (
            "no kid, real secret".into(),
            snowflake(&sign(Algorithm::HS256, None, SECRET, &|_| {})),
        ),
        (
            "no such session, real secret".into(),
            snowflake(&sign(Algorithm::HS256, Some(KID), SECRET, &|c| {
                c.session_id = 12_345
            })),
        ),
    ]
}

fn token_cases(w: &World) -> Vec<Case> {
    let victim = &w.victim;
    let mut cases = Vec::new();
    let session_tokens = forged_tokens(&victim.session, &victim.master, w.admin.session_id);
    let session_endpoints = [
        ("query", QUERY, query_body("SELECT CURRENT_ROLE()")),
        ("heartbeat", HEARTBEAT, json!({})),
        ("logout", LOGOUT, json!({})),
    ];
    for (name, uri, body) in &session_endpoints {
        for (label, auth) in &session_tokens {
            // Logging out of a session that is gone succeeds (logout is idempotent); this token can
            // only be made with the secret anyway.
            if *name == "logout" && label.starts_with("no such session") {
                continue;
            }
            let mut case = Case::json(format!("{name}: session token {label}"), uri, body);
            case.authorization = auth.clone();
            cases.push(case);
        }
    }
    let renew = json!({"oldSessionToken": victim.session, "requestType": "RENEW"});
    for (label, auth) in forged_tokens(&victim.master, &victim.session, w.admin.session_id) {
        let mut case = Case::json(format!("renew: master token {label}"), RENEW, &renew);
        case.authorization = auth;
        cases.push(case);
    }
    // ISSUE is answered as RENEW (tests/forward_auth.rs); anything else is refused.
    for request_type in ["CLONE", "", "RENEW\0"] {
        cases.push(
            Case::json(
                format!("renew: requestType {request_type:?}"),
                RENEW,
                &json!({"oldSessionToken": victim.session, "requestType": request_type}),
            )
            .token(&victim.master),
        );
    }
    cases.push(
        Case::json("logout without delete=true", "/session", &json!({})).token(&victim.session),
    );
    cases.push(Case::json("unknown route", "/session/v2/anything", &json!({})).authorization("x"));
    cases
}

// ---------------------------------------------------------------------------------------------------
// Key-pair JWTs.

/// A real 2048-bit key, made once per test binary.
fn key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::generate)
}

fn jwt_claims() -> Value {
    json!({
        "iss": format!("ACME.SVC_KEY.{}", key().fp),
        "sub": "ACME.SVC_KEY",
        "iat": START,
        "exp": START + 60,
    })
}

fn rs256(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        claims,
        &EncodingKey::from_rsa_der(&key().pkcs1_der),
    )
    .expect("sign")
}

fn jwt_login(label: &str, token: Value) -> Case {
    Case::json(
        format!("key-pair: {label}"),
        LOGIN,
        &json!({"data": {
            "ACCOUNT_NAME": "acme", "LOGIN_NAME": "svc_key", "AUTHENTICATOR": "SNOWFLAKE_JWT",
            "TOKEN": token, "CLIENT_APP_ID": "PythonConnector",
        }}),
    )
}

fn key_pair_cases() -> Vec<Case> {
    let good = rs256(&jwt_claims());
    let p = parts(&good);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = jwt_claims();
        change(&mut c);
        rs256(&c)
    };
    let hmac_with_public = |secret: &[u8]| {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &jwt_claims(),
            &EncodingKey::from_secret(secret),
        )
        .expect("sign")
    };
    let mut tampered = jwt_claims();
    tampered["sub"] = json!("ACME.VICTIM");
    tampered["iss"] = json!(format!("ACME.VICTIM.{}", key().fp));
    let none_header = b64url(br#"{"alg":"none","typ":"JWT"}"#);
    let cases: Vec<(&str, Value)> = vec![
        ("alg none", json!(format!("{none_header}.{}.", p[1]))),
        (
            "HS256 keyed with the public key DER",
            json!(hmac_with_public(&key().spki_der)),
        ),
        (
            "HS256 keyed with the public key base64",
            json!(hmac_with_public(key().public_b64.as_bytes())),
        ),
        ("signature stripped", json!(format!("{}.{}.", p[0], p[1]))),
        (
            "claims changed after signing",
            json!(format!(
                "{}.{}.{}",
                p[0],
                b64url(tampered.to_string().as_bytes()),
                p[2]
            )),
        ),
        (
            "expired",
            json!(with(&|c| {
                c["iat"] = json!(START - 200);
                c["exp"] = json!(START - 100)
            })),
        ),
        (
            "issued 61 s ago",
            json!(with(&|c| {
                c["iat"] = json!(START - 61);
                c["exp"] = json!(START + 600)
            })),
        ),
        (
            "issued in the future",
            json!(with(&|c| {
                c["iat"] = json!(START + 600);
                c["exp"] = json!(START + 700)
            })),
        ),
        (
            // A day (and the clock skew) is the longest a login JWT may claim: snowflake-api signs
            // day-long ones.
            "a day and two minutes of lifetime",
            json!(with(&|c| c["exp"] = json!(START + 86_520))),
        ),
        (
            "exp before iat",
            json!(with(&|c| c["exp"] = json!(START - 1))),
        ),
        (
            "times as strings",
            json!(with(&|c| {
                c["iat"] = json!("now");
                c["exp"] = json!("later")
            })),
        ),
        (
            "negative times",
            json!(with(&|c| {
                c["iat"] = json!(-1);
                c["exp"] = json!(-1)
            })),
        ),
        (
            "wrong fingerprint",
            json!(with(&|c| c["iss"] = json!("ACME.SVC_KEY.SHA256:AAAA"))),
        ),
        (
            "iss and sub disagree",
            json!(with(&|c| c["sub"] = json!("ACME.VICTIM"))),
        ),
        (
            "another account",
            json!(with(&|c| {
                c["iss"] = json!(format!("OTHER.SVC_KEY.{}", key().fp));
                c["sub"] = json!("OTHER.SVC_KEY")
            })),
        ),
        (
            "NUL in the subject",
            json!(with(&|c| {
                c["iss"] = json!(format!("ACME.SVC_KEY\u{0}.{}", key().fp));
                c["sub"] = json!("ACME.SVC_KEY\u{0}")
            })),
        ),
        ("no claims at all", json!(with(&|c| *c = json!({})))),
        ("garbage", json!("garbage")),
        ("empty", json!("")),
        ("huge", json!("e".repeat(60_000))),
        ("a number", json!(42)),
        ("an object", json!({"token": good})),
    ];
    cases
        .into_iter()
        .map(|(label, token)| jwt_login(label, token))
        .collect()
}

// ---------------------------------------------------------------------------------------------------
// SQL.

/// Programmatic access tokens: statements that must fail (bad values, other users' tokens from
/// PUBLIC, overlong names) and PAT logins with garbage, empty, overlong or misplaced secrets.
/// AWS workload identity: broken attestations at login, and broken identity statements.
fn workload_identity_cases(w: &World) -> Vec<Case> {
    let public = w.victim.session.as_str();
    let admin = w.admin.session.as_str();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut cases = Vec::new();
    let attestation = json!({"url": "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
        "method": "POST", "headers": {"Host": "sts.amazonaws.com"}});
    let deep = format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000));
    let many: serde_json::Map<String, Value> =
        (0..500).map(|i| (format!("H{i}"), json!("v"))).collect();
    let relay = json!({"url": "https://169.254.169.254/?Action=GetCallerIdentity&Version=2011-06-15",
        "method": "POST", "headers": {"Host": "169.254.169.254"}});
    let base =
        json!({"ACCOUNT_NAME": "acme", "AUTHENTICATOR": "WORKLOAD_IDENTITY", "PROVIDER": "AWS"});
    cases.extend(login_variants("WIF", base, [
        ("garbage token", json!({"TOKEN": "garbage"})),
        ("empty token", json!({"TOKEN": ""})),
        ("no token", json!({})),
        ("numeric token", json!({"TOKEN": 12345})),
        ("jwt-shaped token", json!({"TOKEN": "a.b.c"})),
        ("base64 of nothing useful", json!({"TOKEN": b64("null")})),
        ("deeply nested json", json!({"TOKEN": b64(&deep)})),
        (
            "missing headers",
            json!({"TOKEN": b64(&attestation.to_string())}),
        ),
        (
            "500 headers",
            json!({"TOKEN": b64(&json!({"url": "x", "method": "POST", "headers": many}).to_string())}),
        ),
        ("metadata relay", json!({"TOKEN": b64(&relay.to_string())})),
        ("token too long", json!({"TOKEN": "A".repeat(20_000)})),
        ("provider missing", json!({"PROVIDER": null, "TOKEN": "x"})),
        (
            "provider unknown",
            json!({"PROVIDER": "MOON", "TOKEN": "x"}),
        ),
        (
            "provider too long",
            json!({"PROVIDER": "A".repeat(5_000), "TOKEN": "x"}),
        ),
        (
            "provider not a string",
            json!({"PROVIDER": ["AWS"], "TOKEN": "x"}),
        ),
        (
            "another user's login name",
            json!({"LOGIN_NAME": "victim", "TOKEN": "x"}),
        ),
    ]));
    let long_arn = format!("arn:aws:iam::123456789012:role/{}", "a/".repeat(3_000));
    cases.extend(statement_cases(
        "WIF",
        public,
        &[
            "ALTER USER svc_wif REMOVE WORKLOAD IDENTITY DEFAULT",
            "SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS FOR USER svc_wif",
        ],
    ));
    cases.extend(statement_cases(
        "WIF",
        admin,
        &[
            "ALTER USER svc_wif ADD WORKLOAD IDENTITY DEFAULT TYPE = AWS ARN = 'arn:aws:iam::123456789012:role/x'",
            &format!("ALTER USER svc_wif SET WORKLOAD_IDENTITY = (TYPE = AWS ARN = '{long_arn}')"),
            "ALTER USER svc_wif SET WORKLOAD_IDENTITY = (TYPE = AWS ARN = 'arn:aws:iam::123:role/x')",
            "ALTER USER svc_wif SET WORKLOAD_IDENTITY = (TYPE = AWS ARN = 'arn:aws:iam::123456789012:role/x' ARN = 'arn:aws:iam::123456789012:role/y')",
            "ALTER USER svc_wif SET WORKLOAD_IDENTITY = (TYPE = (A = (B = (C = 1))))",
            "ALTER USER svc_wif SET WORKLOAD_IDENTITY = (TYPE = OIDC ISSUER = 'https://x' SUBJECT = 's')",
            "ALTER USER svc_wif SET WORKLOAD_IDENTITY = ()",
            "ALTER USER svc_wif SET WORKLOAD_IDENTITY = (TYPE = AWS ARN = 'arn:aws:iam::123456789012:role/x' ISSUER = 'ftp://x')",
            "ALTER USER svc_wif MODIFY WORKLOAD IDENTITY DEFAULT SET TYPE = AWS",
            &format!("ALTER USER svc_wif MODIFY WORKLOAD IDENTITY DEFAULT SET COMMENT = '{}'", "c".repeat(300)),
            &format!("ALTER USER svc_wif MODIFY WORKLOAD IDENTITY DEFAULT RENAME TO {}", "n".repeat(300)),
            "ALTER USER svc_wif MODIFY WORKLOAD IDENTITY nope SET DISABLED = TRUE",
            "ALTER USER svc_wif REMOVE WORKLOAD IDENTITY",
            "ALTER USER victim ADD WORKLOAD IDENTITY x TYPE = AWS ARN = 'arn:aws:iam::123456789012:role/x'",
            "ALTER USER victim SET WORKLOAD_IDENTITY = (TYPE = AWS ARN = 'arn:aws:iam::123456789012:role/x')",
            "SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS FOR USER nobody",
            "SHOW USER WORKLOAD IDENTITY METHODS",
        ],
    ));
    cases
}

fn pat_cases(w: &World) -> Vec<Case> {
    let public = w.victim.session.as_str();
    let admin = w.admin.session.as_str();
    let long = "n".repeat(300);
    let mut cases = Vec::new();
    cases.extend(statement_cases(
        "PAT",
        public,
        &[
            "ALTER USER embucket ADD PAT mine",
            "ALTER USER svc_key ADD PAT mine",
            "ALTER USER embucket REMOVE PAT x",
            "ALTER USER embucket ROTATE PAT x",
            "SHOW USER PATS FOR USER embucket",
            "ALTER USER ADD PAT kept",
            "ALTER USER ADD PAT x DAYS_TO_EXPIRY = 'abc'",
            "ALTER USER ADD PAT x DAYS_TO_EXPIRY = abc",
            "ALTER USER ADD PAT x DAYS_TO_EXPIRY = 0",
            "ALTER USER ADD PAT x DAYS_TO_EXPIRY = 366",
            "ALTER USER ADD PAT x DAYS_TO_EXPIRY = -5",
            &format!("ALTER USER ADD PAT x DAYS_TO_EXPIRY = 9{}", "9".repeat(400)),
            "ALTER USER ADD PAT x DAYS_TO_EXPIRY = 1e3",
            "ALTER USER ADD PAT x DAYS_TO_EXPIRY = (1, 2)",
            "ALTER USER ADD PAT x MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT = 99999999",
            "ALTER USER ADD PAT x ROLE_RESTRICTION = accountadmin",
            "ALTER USER ADD PAT x ROLE_RESTRICTION = ''",
            "ALTER USER ADD PAT x SHOE_SIZE = 42",
            &format!("ALTER USER ADD PAT x COMMENT = '{}'", "c".repeat(5_000)),
            &format!("ALTER USER ADD PAT {long}"),
            &format!("ALTER USER ADD PAT \"{long}\""),
            "ALTER USER ADD PAT \"\"",
            "ALTER USER ADD PAT",
            "ALTER USER ADD PROGRAMMATIC ACCESS kept",
            "ALTER USER MODIFY PAT kept SET DAYS_TO_EXPIRY = 1",
            "ALTER USER MODIFY PAT kept SET DISABLED = maybe",
            "ALTER USER MODIFY PAT kept SET",
            "ALTER USER MODIFY PAT kept RENAME TO kept",
            "ALTER USER MODIFY PAT nope SET COMMENT = 'x'",
            "ALTER USER ROTATE PAT kept EXPIRE_ROTATED_TOKEN_AFTER_HOURS = 100000",
            "ALTER USER ROTATE PAT kept EXPIRE_ROTATED_TOKEN_AFTER_HOURS = 'soon'",
            "ALTER USER REMOVE PAT nope",
            "ALTER USER REMOVE PAT kept; DROP USER victim",
            "ALTER USER victim ADD PAT x; ALTER USER victim REMOVE PAT kept",
            "SHOW USER PATS FOR USER",
            "SHOW USER PATS FOR embucket",
        ],
    ));
    cases.extend(statement_cases(
        "PAT",
        admin,
        &[
            "ALTER USER nobody REMOVE PAT kept",
            "ALTER USER victim ADD PAT x ROLE_RESTRICTION = nobody",
        ],
    ));
    let base = json!({"ACCOUNT_NAME": "acme", "LOGIN_NAME": "victim", "AUTHENTICATOR": "PROGRAMMATIC_ACCESS_TOKEN"});
    cases.extend(login_variants(
        "PAT",
        base,
        [
            ("garbage token", json!({"TOKEN": "garbage"})),
            ("empty token", json!({"TOKEN": ""})),
            ("no token", json!({})),
            ("null token", json!({"TOKEN": null})),
            ("numeric token", json!({"TOKEN": 12345})),
            ("object token", json!({"TOKEN": {"a": 1}})),
            ("overlong token", json!({"TOKEN": "p".repeat(20_000)})),
            ("overlong password", json!({"PASSWORD": "p".repeat(20_000)})),
            ("prefix only", json!({"TOKEN": "sgpat_"})),
            (
                "a session token as the PAT",
                json!({"TOKEN": w.victim.session}),
            ),
            (
                "a master token as the PAT",
                json!({"TOKEN": w.victim.master}),
            ),
            (
                "the victim's password as the PAT",
                json!({"TOKEN": VICTIM_PASSWORD}),
            ),
            (
                "unknown user",
                json!({"LOGIN_NAME": "nobody", "TOKEN": "sgpat_x"}),
            ),
            (
                "no login name",
                json!({"LOGIN_NAME": null, "TOKEN": "sgpat_x"}),
            ),
            ("NUL in token", json!({"TOKEN": "sgpat_\u{0}x"})),
            (
                "other account",
                json!({"ACCOUNT_NAME": "other", "TOKEN": "sgpat_x"}),
            ),
            (
                "lower-case authenticator",
                json!({"AUTHENTICATOR": "programmatic_access_tokenx", "TOKEN": "x"}),
            ),
        ],
    ));
    cases
}

/// OIDC workload identity: junk tokens and providers at login, bad identity definitions in SQL.
fn oidc_cases(w: &World) -> Vec<Case> {
    let admin = w.admin.session.as_str();
    let issuer = "https://issuer.example";
    let mut cases: Vec<Case> = [
        format!("CREATE USER bad TYPE = SERVICE WORKLOAD_IDENTITY = (TYPE = OIDC ISSUER = '{issuer}')"),
        format!("CREATE USER bad TYPE = SERVICE WORKLOAD_IDENTITY = (TYPE = OIDC ISSUER = '{issuer}' SUBJECT = '{}')", "s".repeat(300)),
        "CREATE USER bad TYPE = SERVICE WORKLOAD_IDENTITY = (TYPE = OIDC ISSUER = 'ftp://x' SUBJECT = 'a')".to_string(),
        format!("CREATE USER bad TYPE = SERVICE WORKLOAD_IDENTITY = (TYPE = OIDC ISSUER = '{issuer}' SUBJECT = 'a' OIDC_AUDIENCE_LIST = (1, 2))"),
        format!("CREATE USER bad WORKLOAD_IDENTITY = (TYPE = OIDC ISSUER = '{issuer}' SUBJECT = 'a')"),
        format!("ALTER USER victim ADD WORKLOAD IDENTITY x TYPE = OIDC ISSUER = '{issuer}' SUBJECT = 'a'"),
        format!("ALTER USER svc_key ADD WORKLOAD IDENTITY x TYPE = OIDC ISSUER = '{issuer}' SUBJECT = 'a' SUBJECT = 'b'"),
    ]
    .iter()
    .map(|sql| query(format!("OIDC statement {sql:.80}"), admin, sql))
    .collect();
    let base =
        json!({"ACCOUNT_NAME": "acme", "AUTHENTICATOR": "WORKLOAD_IDENTITY", "PROVIDER": "OIDC"});
    let unsigned = |claims: Value| {
        format!(
            "{}.{}.",
            b64url(br#"{"alg":"none"}"#),
            b64url(claims.to_string().as_bytes())
        )
    };
    cases.extend(login_variants("OIDC", base, [
        ("garbage token", json!({"TOKEN": "garbage"})),
        ("no token", json!({})),
        ("numeric token", json!({"TOKEN": 7})),
        ("overlong token", json!({"TOKEN": "e".repeat(20_000)})),
        ("no provider", json!({"PROVIDER": null, "TOKEN": "x"})),
        (
            "object provider",
            json!({"PROVIDER": {"a": 1}, "TOKEN": "x"}),
        ),
        (
            "overlong provider",
            json!({"PROVIDER": "O".repeat(5_000), "TOKEN": "x"}),
        ),
        (
            "unknown provider",
            json!({"PROVIDER": "MOON", "TOKEN": "x"}),
        ),
        (
            "alg none",
            json!({"TOKEN": unsigned(json!({"iss": issuer, "sub": "a", "aud": "snowflakecomputing.com", "exp": 9_999_999_999u64}))}),
        ),
        (
            "http issuer",
            json!({"TOKEN": unsigned(json!({"iss": "http://169.254.169.254", "sub": "a"}))}),
        ),
        (
            "other account",
            json!({"ACCOUNT_NAME": "other", "TOKEN": "x"}),
        ),
    ]));
    cases
}

/// External OAuth: bad integration definitions (by an administrator and by a plain user) and junk
/// OAuth logins.
fn oauth_cases(w: &World) -> Vec<Case> {
    let admin = w.admin.session.as_str();
    let public = w.victim.session.as_str();
    let head = "CREATE SECURITY INTEGRATION evil TYPE = EXTERNAL_OAUTH ENABLED = TRUE \
                EXTERNAL_OAUTH_ISSUER = 'https://idp.example' \
                EXTERNAL_OAUTH_TOKEN_USER_MAPPING_CLAIM = 'sub'";
    let key = format!("EXTERNAL_OAUTH_RSA_PUBLIC_KEY = '{}'", key().public_b64);
    let mut cases = Vec::new();
    cases.extend(statement_cases(
        "OAuth",
        admin,
        &[
            head,
            &format!("{head} {key} EXTERNAL_OAUTH_JWS_KEYS_URL = 'https://idp.example/k'"),
            &format!("{head} EXTERNAL_OAUTH_JWS_KEYS_URL = 'file:///etc/passwd'"),
            &format!("{head} EXTERNAL_OAUTH_RSA_PUBLIC_KEY = 'AAAA'"),
            &format!(
                "{head} {key} EXTERNAL_OAUTH_AUDIENCE_LIST = ({})",
                vec!["'a'"; 100].join(",")
            ),
            &format!(
                "{head} {key} EXTERNAL_OAUTH_ISSUER = '{}'",
                "i".repeat(5_000)
            ),
            &format!("{head} {key} EXTERNAL_OAUTH_TYPE = SAML"),
            "CREATE SECURITY INTEGRATION evil TYPE = SAML2 ENABLED = TRUE",
            "ALTER SECURITY INTEGRATION nothing SET ENABLED = TRUE",
            "DROP SECURITY INTEGRATION nothing",
            "DESC SECURITY INTEGRATION nothing",
        ],
    ));
    cases.extend(statement_cases(
        "OAuth",
        public,
        &[&format!("{head} {key}"), "SHOW INTEGRATIONS"],
    ));
    let base = json!({"ACCOUNT_NAME": "acme", "AUTHENTICATOR": "OAUTH"});
    let unsigned = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none"}"#),
        b64url(json!({"iss": "https://idp.example", "sub": "victim", "iat": 1, "exp": 9_999_999_999u64}).to_string().as_bytes())
    );
    cases.extend(login_variants("OAuth", base, [
        ("garbage token", json!({"TOKEN": "garbage"})),
        ("no token", json!({})),
        ("array token", json!({"TOKEN": ["a"]})),
        ("overlong token", json!({"TOKEN": "o".repeat(20_000)})),
        ("alg none", json!({"TOKEN": unsigned})),
        ("a session token", json!({"TOKEN": w.victim.session})),
        (
            "Go form, junk",
            json!({"AUTHENTICATOR": null, "TOKEN": "x", "CLIENT_ENVIRONMENT": {"OAUTH_TYPE": "OAUTH_CLIENT_CREDENTIALS"}}),
        ),
        (
            "Go form, object type",
            json!({"AUTHENTICATOR": null, "TOKEN": "x", "CLIENT_ENVIRONMENT": {"OAUTH_TYPE": {"a": [1]}}}),
        ),
    ]));
    cases
}

fn sql_cases(w: &World) -> Vec<Case> {
    let public = w.victim.session.as_str();
    let key = &key().public_b64;
    let mut cases = Vec::new();
    // Every administrative statement, as a session with only PUBLIC.
    let admin_statements = [
        "CREATE USER intruder PASSWORD='intruder-password'".to_string(),
        "CREATE USER IF NOT EXISTS intruder".to_string(),
        "CREATE OR REPLACE USER victim PASSWORD='replaced-password'".to_string(),
        "CREATE OR REPLACE USER embucket PASSWORD='replaced-password'".to_string(),
        "ALTER USER victim SET PASSWORD='changed-password'".to_string(),
        "ALTER USER embucket SET PASSWORD='changed-password'".to_string(),
        "ALTER USER victim SET DEFAULT_ROLE=ACCOUNTADMIN".to_string(),
        "ALTER USER victim SET DISABLED=TRUE".to_string(),
        format!("ALTER USER victim SET RSA_PUBLIC_KEY='{key}'"),
        format!("ALTER USER svc_key SET RSA_PUBLIC_KEY_2='{key}'"),
        "ALTER USER svc_key UNSET RSA_PUBLIC_KEY".to_string(),
        "ALTER USER IF EXISTS svc_key SET NETWORK_POLICY=office".to_string(),
        "DROP USER svc_key".to_string(),
        "DROP USER IF EXISTS victim".to_string(),
        "CREATE ROLE intruders".to_string(),
        "CREATE OR REPLACE ROLE analyst".to_string(),
        "DROP ROLE analyst".to_string(),
        "GRANT ROLE ACCOUNTADMIN TO USER victim".to_string(),
        "ALTER USER embucket ADD MFA METHOD TOTP".to_string(),
        "ALTER USER embucket REMOVE MFA METHOD TOTP".to_string(),
        "SHOW MFA METHODS FOR USER embucket".to_string(),
        "ALTER ACCOUNT SET ALLOW_CLIENT_MFA_CACHING = TRUE".to_string(),
        "GRANT ROLE analyst TO USER victim".to_string(),
        "REVOKE ROLE PUBLIC FROM USER svc_key".to_string(),
        "CREATE NETWORK POLICY open ALLOWED_IP_LIST=('0.0.0.0/0')".to_string(),
        "CREATE OR REPLACE NETWORK POLICY office ALLOWED_IP_LIST=('0.0.0.0/0')".to_string(),
        "ALTER NETWORK POLICY office SET ALLOWED_IP_LIST=('0.0.0.0/0')".to_string(),
        "DROP NETWORK POLICY office".to_string(),
        "ALTER ACCOUNT SET NETWORK_POLICY=office".to_string(),
        "ALTER ACCOUNT UNSET NETWORK_POLICY".to_string(),
        "DESC USER svc_key".to_string(),
        "DESCRIBE USER embucket".to_string(),
        "DESC NETWORK POLICY office".to_string(),
        "SHOW USERS".to_string(),
        "SHOW ROLES".to_string(),
        "SHOW NETWORK POLICIES".to_string(),
        "CREATE AUTHENTICATION POLICY anything".to_string(),
        "CREATE OR REPLACE AUTHENTICATION POLICY guard".to_string(),
        "ALTER AUTHENTICATION POLICY guard UNSET CLIENT_TYPES".to_string(),
        "ALTER PASSWORD POLICY strict SET PASSWORD_MIN_LENGTH=8".to_string(),
        "ALTER SESSION POLICY brief RENAME TO gone".to_string(),
        "DROP SESSION POLICY brief".to_string(),
        "ALTER ACCOUNT UNSET PASSWORD POLICY".to_string(),
        "ALTER ACCOUNT SET SESSION POLICY brief".to_string(),
        "ALTER USER victim UNSET AUTHENTICATION POLICY".to_string(),
        "ALTER USER embucket SET SESSION POLICY brief".to_string(),
        "SHOW AUTHENTICATION POLICIES".to_string(),
        "DESC PASSWORD POLICY strict".to_string(),
        "USE ROLE ACCOUNTADMIN".to_string(),
        "USE ROLE SECURITYADMIN".to_string(),
        "USE ROLE analyst".to_string(),
    ];
    for sql in &admin_statements {
        cases.push(query(format!("PUBLIC runs {sql}"), public, sql));
    }
    // Injection-like identifiers and statement smuggling.
    for sql in [
        "CREATE USER \"x'; DROP USER victim; --\" PASSWORD='p'",
        "DROP USER embucket; DROP USER victim",
        "SELECT CURRENT_ROLE(); DROP USER victim",
        "USE ROLE PUBLIC; GRANT ROLE ACCOUNTADMIN TO USER victim",
        "GRANT ROLE \"ACCOUNTADMIN\" TO USER \"VICTIM\"",
        "USE ROLE \"ACCOUNTADMIN\"",
        "USE ROLE accountadmin /* comment */",
        "USE ROLE \"accountadmin\"",
        "USE ROLE ACCOUNTADMIN\u{0}",
        "/* */ ALTER USER victim SET DISABLED=TRUE",
        "-- comment\nDROP USER svc_key",
        "\u{feff}DROP USER svc_key",
        "DESC USER \"victim\u{0}\"",
        "SHOW USERS LIKE ''' OR 1=1 --'",
        "ALTER USER victim SET COMMENT='\u{0}\u{1b}[2J'",
        "SELECT CURRENT_ROLE() UNION SELECT 'ACCOUNTADMIN'",
        "SELECT * FROM users",
        "",
        ";",
        "\u{0}",
    ] {
        cases.push(query(format!("PUBLIC runs {sql:?}"), public, sql));
    }
    // Long LIKE patterns (PUBLIC may not list at all) and moderate nesting.
    for pattern in [
        format!("{}!", "%".repeat(40)),
        format!("{}!", "%_".repeat(5_000)),
        "%".repeat(30_000),
        format!("{}\\", "a".repeat(1_000)),
    ] {
        for what in ["USERS", "ROLES", "NETWORK POLICIES"] {
            let sql = format!("SHOW {what} LIKE '{pattern}'");
            cases.push(query(
                format!("PUBLIC: SHOW {what} LIKE of {} chars", pattern.len()),
                public,
                &sql,
            ));
        }
    }
    for depth in [10, 60, 200] {
        let (open, close) = ("(".repeat(depth), ")".repeat(depth));
        cases.push(query(
            format!("SELECT nested {depth}"),
            public,
            &format!("SELECT {open}CURRENT_ROLE(){close}"),
        ));
    }
    // An administrator's statements that fail must not change anything either.
    let admin = w.admin.session.as_str();
    for sql in [
        "ALTER USER victim SET RSA_PUBLIC_KEY='!!!not base64!!!'".to_string(),
        format!(
            "ALTER USER victim SET RSA_PUBLIC_KEY='{}'",
            STANDARD.encode(b"not a key")
        ),
        "ALTER USER victim SET DEFAULT_ROLE=ACCOUNTADMIN NO_SUCH_PROPERTY=1".to_string(),
        "ALTER USER nobody SET DISABLED=TRUE".to_string(),
        "DROP USER nobody".to_string(),
        "CREATE USER victim".to_string(),
        "CREATE ROLE analyst".to_string(),
        "GRANT ROLE nosuchrole TO USER victim".to_string(),
        "CREATE NETWORK POLICY bad ALLOWED_IP_LIST=('999.1.1.1/99')".to_string(),
        "CREATE NETWORK POLICY bad ALLOWED_IP_LIST=('10.0.0.0/8' 'x')".to_string(),
        "ALTER USER victim SET PASSWORD=".to_string(),
        "DROP AUTHENTICATION POLICY guard".to_string(),
        "DROP PASSWORD POLICY strict".to_string(),
        "ALTER AUTHENTICATION POLICY guard RENAME TO other".to_string(),
        "ALTER ACCOUNT SET PASSWORD POLICY nosuchpolicy".to_string(),
        "CREATE SESSION POLICY brief".to_string(),
        "ALTER ACCOUNT SET PASSWORD POLICY strict2".to_string(),
        "ALTER USER victim SET AUTHENTICATION POLICY guard2".to_string(),
        "ALTER PASSWORD POLICY strict SET PASSWORD_MIN_LENGTH=7".to_string(),
        "ALTER PASSWORD POLICY strict SET PASSWORD_MAX_LENGTH=19".to_string(),
        "ALTER PASSWORD POLICY strict SET PASSWORD_MAX_RETRIES=4294967296".to_string(),
        "ALTER PASSWORD POLICY strict SET NO_SUCH_OPTION=1".to_string(),
        "ALTER SESSION POLICY brief SET SESSION_IDLE_TIMEOUT_MINS=1441".to_string(),
        "ALTER SESSION POLICY brief SET SESSION_IDLE_TIMEOUT_MINS=30, BOGUS=1".to_string(),
        "ALTER AUTHENTICATION POLICY guard SET AUTHENTICATION_METHODS=('PASSWORD', 'TELEPATHY')".to_string(),
        "ALTER AUTHENTICATION POLICY guard SET AUTHENTICATION_METHODS=()".to_string(),
        "ALTER AUTHENTICATION POLICY guard SET CLIENT_POLICY=(PYTHON_DRIVER=(MINIMUM_VERSION='99999999999'))".to_string(),
        "ALTER AUTHENTICATION POLICY guard SET CLIENT_POLICY=(PYTHON_DRIVER=(MINIMUM_VERSION=(MINIMUM_VERSION='1')))".to_string(),
        "ALTER AUTHENTICATION POLICY guard SET PAT_POLICY=(MAX_EXPIRY_IN_DAYS=0)".to_string(),
        format!(
            "ALTER AUTHENTICATION POLICY guard SET SECURITY_INTEGRATIONS=({})",
            vec!["'I'"; 1_000].join(",")
        ),
        format!(
            "ALTER AUTHENTICATION POLICY guard SET CLIENT_TYPES=('{}')",
            "D".repeat(60_000)
        ),
        format!(
            "ALTER AUTHENTICATION POLICY guard SET PAT_POLICY=({})",
            vec!["MAX_EXPIRY_IN_DAYS=1"; 200].join(",")
        ),
    ] {
        cases.push(query(
            format!("ACCOUNTADMIN runs failing {:.80}", sql),
            admin,
            &sql,
        ));
    }
    cases
}
