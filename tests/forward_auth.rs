//! Per-request credentials through the router (issue 22): `/auth/forward` with a key-pair JWT (a new
//! one per request, one reused for most of an hour, one expired), a PAT, a session token and a token
//! from `POST /oauth/token`; key rotation across the two slots, a disabled user, a network policy,
//! the exchanged token's host; hostile headers and forms; no secret in any answer.

mod common;

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::keys::TestKey;
use common::sql::{column, rows};
use common::*;
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tower::ServiceExt;

fn keys() -> &'static [TestKey] {
    static KEYS: OnceLock<Vec<TestKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..2).map(|_| s.spawn(TestKey::generate)).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    })
}

/// A key-pair JWT for ALICE signed with `key`, issued at `iat` for `life` seconds.
fn jwt(key: &TestKey, iat: u64, life: u64) -> String {
    let claims = json!({
        "iss": format!("ACME.ALICE.{}", key.fp), "sub": "ACME.ALICE",
        "iat": iat, "exp": iat + life,
    });
    jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_der(&key.pkcs1_der),
    )
    .unwrap()
}

/// The answer of a request: status, headers, body text.
struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    /// A refusal as a proxy needs it: 401, `WWW-Authenticate`, the Snowflake code, no identity.
    fn assert_denied(&self, code: &str) {
        assert_eq!(self.status, StatusCode::UNAUTHORIZED, "{}", self.body);
        assert!(self.header("www-authenticate").is_some());
        assert_eq!(self.json()["code"], code, "{}", self.body);
        assert!(self.header("sf-context-current-user").is_none());
    }
}

async fn send(app: &TestApp, req: Request<Body>) -> Answer {
    let resp = app.router.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// `GET /auth/forward` with `authorization` (and more headers), from `ip`.
async fn forward(app: &TestApp, authorization: &str, extra: &[(&str, &str)], ip: &str) -> Answer {
    let mut b = Request::get("/auth/forward").header("authorization", authorization);
    for (k, v) in extra {
        b = b.header(*k, *v);
    }
    let mut req = b.body(Body::empty()).unwrap();
    let ip: std::net::IpAddr = ip.parse().unwrap();
    req.extensions_mut()
        .insert(snowgate::http::extract::ClientIp(Some(ip)));
    send(app, req).await
}

const OFFICE: &str = "10.0.0.5";

async fn bearer(app: &TestApp, token: &str) -> Answer {
    forward(app, &format!("Bearer {token}"), &[], OFFICE).await
}

fn assert_alice(a: &Answer, role: &str) {
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.header("sf-context-current-user"), Some("ALICE"));
    assert_eq!(a.header("sf-context-current-role"), Some(role));
    assert!(a.header("sf-context-current-account").is_some());
    assert!(a.header("sf-context-current-user-email").is_some());
}

/// ALICE (role ANALYST, default role ANALYST, key 0) under a network policy admitting 10/8.
async fn setup(app: &TestApp) -> common::sql::Session<'_> {
    let admin = app.admin().await;
    for sql in [
        "CREATE ROLE analyst",
        "CREATE NETWORK POLICY office ALLOWED_IP_LIST=('10.0.0.0/8')",
        &format!(
            "CREATE USER alice PASSWORD='Str0ng-Passw0rd!x' DEFAULT_ROLE=analyst \
             NETWORK_POLICY=office RSA_PUBLIC_KEY='{}'",
            keys()[0].public_b64
        ),
        "GRANT ROLE analyst TO USER alice",
    ] {
        admin.ok(sql).await;
    }
    admin
}

#[tokio::test]
async fn key_pair_jwts_are_good_for_their_whole_life_and_follow_the_key_slots() {
    let app = TestApp::new();
    setup(&app).await;
    // A new JWT per request.
    assert_alice(&bearer(&app, &jwt(&keys()[0], START, 300)).await, "ANALYST");
    // One reused for 54 minutes of its 59, as the SQL API's clients do.
    let reused = jwt(&keys()[0], START, 59 * 60);
    assert_alice(&bearer(&app, &reused).await, "ANALYST");
    app.advance(54 * 60);
    assert_alice(&bearer(&app, &reused).await, "ANALYST");
    // The Snowflake scheme works as well as Bearer.
    let snowflake = format!("Snowflake Token=\"{reused}\"");
    assert_alice(&forward(&app, &snowflake, &[], OFFICE).await, "ANALYST");
    // Past its expiry, and a lifetime over an hour: refused.
    app.advance(5 * 60);
    bearer(&app, &reused).await.assert_denied("390144");
    let now = START + 59 * 60;
    bearer(&app, &jwt(&keys()[0], now, 3601))
        .await
        .assert_denied("390144");
    // Another key in the slot: the next request is refused, although the JWT was verified before.
    let fresh = jwt(&keys()[0], now, 600);
    assert_alice(&bearer(&app, &fresh).await, "ANALYST");
    // (A new administrator session: the first one's token has expired meanwhile.)
    let admin = app.admin().await;
    let other = &keys()[1].public_b64;
    admin
        .ok(&format!("ALTER USER alice SET RSA_PUBLIC_KEY='{other}'"))
        .await;
    bearer(&app, &fresh).await.assert_denied("390144");
    // The old key as the second slot: accepted again.
    let old = &keys()[0].public_b64;
    admin
        .ok(&format!("ALTER USER alice SET RSA_PUBLIC_KEY_2='{old}'"))
        .await;
    assert_alice(&bearer(&app, &fresh).await, "ANALYST");
    // A disabled user, and a blocked address.
    forward(&app, &format!("Bearer {fresh}"), &[], "192.0.2.1")
        .await
        .assert_denied("390422");
    admin.ok("ALTER USER alice SET DISABLED=TRUE").await;
    bearer(&app, &fresh).await.assert_denied("390101");
}

#[tokio::test]
async fn pats_session_tokens_and_exchanged_tokens_reach_the_app() {
    let app = TestApp::new();
    let admin = setup(&app).await;
    let added = admin
        .ok("ALTER USER alice ADD PROGRAMMATIC ACCESS TOKEN t1 ROLE_RESTRICTION='ANALYST'")
        .await;
    let pat = rows(&added)[0][column(&added, "token_secret")]
        .as_str()
        .unwrap()
        .to_string();
    let declared = [(
        "x-snowflake-authorization-token-type",
        "PROGRAMMATIC_ACCESS_TOKEN",
    )];
    assert_alice(&bearer(&app, &pat).await, "ANALYST");
    let a = forward(&app, &format!("Bearer {pat}"), &declared, OFFICE).await;
    assert_alice(&a, "ANALYST");
    bearer(&app, "sgpat_not-a-real-one")
        .await
        .assert_denied("394400");

    // A session token from a driver's login.
    let session = app.login().await.session;
    let a = forward(&app, &format!("Snowflake Token=\"{session}\""), &[], OFFICE).await;
    assert_eq!(a.header("sf-context-current-user"), Some("EMBUCKET"));
    assert_eq!(a.header("sf-context-current-role"), Some("ACCOUNTADMIN"));
    bearer(&app, &format!("{session}x"))
        .await
        .assert_denied("390104");

    // The key-pair JWT exchanged for a token bound to app.example.com.
    let assertion = jwt(&keys()[0], START, 60);
    let form = format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer\
         &scope=session%3Arole%3AANALYST+app.example.com&assertion={assertion}"
    );
    let answer = token_request(&app, &form).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let exchanged = answer.body;
    fn at(host: &str) -> [(&'static str, &str); 1] {
        [("x-forwarded-host", host)]
    }
    let snowflake = format!("Snowflake Token=\"{exchanged}\"");
    let a = forward(&app, &snowflake, &at("app.example.com"), OFFICE).await;
    assert_alice(&a, "ANALYST");
    forward(&app, &snowflake, &at("other.example.com"), OFFICE)
        .await
        .assert_denied("390104");
    // It is no session token, and it dies with its user's key.
    let (_, v) = app.query(&exchanged, "SELECT 1").await;
    assert_failure(&v, "390104");
    let other = &keys()[1].public_b64;
    admin
        .ok(&format!("ALTER USER alice SET RSA_PUBLIC_KEY='{other}'"))
        .await;
    forward(&app, &snowflake, &at("app.example.com"), OFFICE)
        .await
        .assert_denied("390104");

    // The PAT exchanged as token-exchange (with the scope spelling one published client uses).
    let form = format!(
        "grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token={pat}\
         &subject_token_type=programmatic_access_token&scope=session:scope:ANALYST+app.example.com"
    );
    let answer = token_request(&app, &form).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let snowflake = format!("Snowflake Token=\"{}\"", answer.body);
    assert_alice(
        &forward(&app, &snowflake, &at("app.example.com:443"), OFFICE).await,
        "ANALYST",
    );
    admin
        .ok("ALTER USER alice REMOVE PROGRAMMATIC ACCESS TOKEN t1")
        .await;
    bearer(&app, &pat).await.assert_denied("394400");
    forward(&app, &snowflake, &at("app.example.com"), OFFICE)
        .await
        .assert_denied("390104");
}

async fn token_request(app: &TestApp, form: &str) -> Answer {
    let mut req = Request::post("/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap();
    let ip: std::net::IpAddr = OFFICE.parse().unwrap();
    req.extensions_mut()
        .insert(snowgate::http::extract::ClientIp(Some(ip)));
    send(app, req).await
}

#[tokio::test]
async fn hostile_headers_and_forms_are_refused_without_echoing_secrets() {
    let app = TestApp::new();
    let _admin = setup(&app).await;
    let good = jwt(&keys()[0], START, 300);
    // Spoofed identity headers change nothing: the answer's are the caller's.
    let spoofed = [
        ("sf-context-current-user", "ADMIN"),
        ("sf-context-current-role", "ACCOUNTADMIN"),
    ];
    let a = forward(&app, &format!("Bearer {good}"), &spoofed, OFFICE).await;
    assert_alice(&a, "ANALYST");
    // Missing, malformed and oversized credentials.
    for authorization in [
        "",
        "Bearer",
        "Bearer ",
        "Basic YWxpY2U6cHc=",
        "Snowflake Token=\"\"",
        "Snowflake Token=unquoted",
        &format!("Bearer {}", "a".repeat(9000)),
        "Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJBQ01FLkFMSUNFLlNIQTI1Njp4In0.",
    ] {
        let a = forward(&app, authorization, &[], OFFICE).await;
        assert_eq!(
            a.status,
            StatusCode::UNAUTHORIZED,
            "{authorization:?}: {}",
            a.body
        );
        assert!(a.header("sf-context-current-user").is_none());
    }
    // A token type snowgate does not know: 400, never an allow.
    let odd = [("x-snowflake-authorization-token-type", "SAML")];
    let a = forward(&app, &format!("Bearer {good}"), &odd, OFFICE).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    // A key-pair JWT signed by another key: 390144, the JWT never in the body.
    let forged = jwt(&keys()[1], START, 300).replace(&keys()[1].fp, &keys()[0].fp);
    let a = bearer(&app, &forged).await;
    a.assert_denied("390144");
    assert!(!a.body.contains(&forged[..40]));
    // Token requests: unknown grant, missing scope, a bad assertion; nothing echoed.
    let bad = token_request(&app, "grant_type=password&username=a&password=b").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"], "unsupported_grant_type");
    let no_scope =
        format!("grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion={good}");
    assert_eq!(
        token_request(&app, &no_scope).await.json()["error"],
        "invalid_scope"
    );
    let forged_form = format!(
        "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=h.example&assertion={forged}"
    );
    let refused = token_request(&app, &forged_form).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json()["error"], "invalid_grant");
    assert!(!refused.body.contains(&forged[..40]), "{}", refused.body);
    let not_a_form = token_request(&app, "%%%&&&=").await;
    assert_eq!(not_a_form.status, StatusCode::BAD_REQUEST);
    // A role the user does not hold.
    let other_role = format!(
        "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer\
         &scope=session:role:ACCOUNTADMIN+h.example&assertion={good}"
    );
    assert_eq!(
        token_request(&app, &other_role).await.json()["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn issue_gives_a_session_token_as_renew_does() {
    let app = TestApp::new();
    let tokens = app.login().await;
    let (status, v) = app
        .post(
            "/session/token-request",
            Some(&tokens.master),
            json!({"oldSessionToken": tokens.session, "requestType": "ISSUE"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["success"], true, "{v}");
    let issued = v["data"]["sessionToken"].as_str().unwrap();
    let a = forward(&app, &format!("Snowflake Token=\"{issued}\""), &[], OFFICE).await;
    assert_eq!(a.header("sf-context-current-user"), Some("EMBUCKET"));
    let (_, v) = app
        .post(
            "/session/token-request",
            Some(&tokens.master),
            json!({"oldSessionToken": issued, "requestType": "CLONE"}),
        )
        .await;
    assert_failure(&v, "390400");
}
