//! The per-request credential routes: `/auth/forward` (the target of nginx `auth_request`, Traefik
//! ForwardAuth, Caddy `forward_auth`, Envoy `ext_authz`) and `POST /oauth/token` (token exchange).
//! The decision is the gatekeeper's ([`Gatekeeper::authorize`](crate::domain::Gatekeeper)); here
//! only the headers and the form are read and the answer shaped. `/auth/forward` never answers 2xx
//! without the identity headers, and never redirects.

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use serde::Deserialize;

use super::AppState;
use super::extract::ClientIp;
use crate::domain::access::exchange::TokenForm;
use crate::domain::access::{Caller, Declared, Presented, Via};
use crate::error::Error;

/// The headers `/auth/forward` always sets on an allow, so that a proxy copying them never passes a
/// client's own copies (empty when unknown).
pub const CONTEXT_HEADERS: [&str; 4] = [
    "sf-context-current-user",
    "sf-context-current-account",
    "sf-context-current-role",
    "sf-context-current-user-email",
];

/// The longest credential read from `Authorization` (key-pair JWTs are about 700 bytes).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The longest host name read from `X-Forwarded-Host` or `Host`.
const MAX_HOST_BYTES: usize = 512;

/// The credential of `Authorization: Snowflake Token="<t>"` or `Authorization: Bearer <t>`. Two
/// `Authorization` headers are refused: which one a proxy or a gateway in front reads is not ours
/// to guess.
fn credential(headers: &HeaderMap) -> Result<SecretString, Error> {
    if headers.get_all(AUTHORIZATION).iter().nth(1).is_some() {
        return Err(Error::InvalidToken);
    }
    let value = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(Error::InvalidToken)?
        .trim();
    let token = value
        .strip_prefix("Snowflake Token=\"")
        .and_then(|rest| rest.strip_suffix('"'))
        .or_else(|| {
            let (scheme, rest) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(rest.trim())
        })
        .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_BYTES)
        .ok_or(Error::InvalidToken)?;
    Ok(SecretString::from(token))
}

/// `X-Snowflake-Authorization-Token-Type`, if sent; a value snowgate does not know is refused.
fn declared(headers: &HeaderMap) -> Result<Option<Declared>, Error> {
    match headers.get("x-snowflake-authorization-token-type") {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(Declared::parse)
            .map(Some)
            .ok_or_else(|| {
                Error::BadRequest("Unknown X-Snowflake-Authorization-Token-Type.".into())
            }),
    }
}

/// The endpoint host a request is for: `X-Forwarded-Host` (set by the proxy), else `Host`.
fn endpoint_host(headers: &HeaderMap) -> Option<String> {
    let forwarded = headers.get("x-forwarded-host");
    forwarded
        .or_else(|| headers.get(HOST))
        .and_then(|v| v.to_str().ok())
        .map(|h| h.split(',').next().unwrap_or_default().trim())
        .filter(|h| !h.is_empty() && h.len() <= MAX_HOST_BYTES)
        .map(str::to_string)
}

/// What a request's headers present, for `via`.
pub fn presented(
    headers: &HeaderMap,
    client_ip: Option<std::net::IpAddr>,
    via: Via,
) -> Result<Presented, Error> {
    Ok(Presented {
        token: credential(headers)?,
        declared: declared(headers)?,
        host: endpoint_host(headers),
        client_ip,
        role: None,
        via,
    })
}

/// `/auth/forward`, any method, headers only: 200 with the caller's identity headers, or a refusal.
pub async fn forward(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    headers: HeaderMap,
) -> Response {
    let presented = match presented(&headers, client_ip, Via::ForwardAuth) {
        Ok(p) => p,
        Err(e) => return deny(e),
    };
    match state.gate.authorize(&presented).await {
        Ok(caller) => allow(&caller),
        Err(e) => deny(e),
    }
}

/// The identity headers of `caller`; a value a header cannot carry fails the request (500), never
/// passes it on without identity.
fn allow(caller: &Caller) -> Response {
    let values = [
        caller.user.as_str(),
        caller.account.as_str(),
        caller.role.as_str(),
        caller.email.as_deref().unwrap_or_default(),
    ];
    let mut response = StatusCode::OK.into_response();
    for (name, value) in CONTEXT_HEADERS.iter().zip(values) {
        let Ok(value) = HeaderValue::from_str(value) else {
            return deny(Error::Internal(
                "an identity header value is not valid".into(),
            ));
        };
        response
            .headers_mut()
            .insert(HeaderName::from_static(name), value);
    }
    response
}

/// A refusal as a proxy needs it: 401 with `WWW-Authenticate` and the Snowflake-shaped body for
/// a credential refused, 503/429 for a backend down or busy (retryable), 400 for a malformed
/// request, 500 otherwise. Never 2xx, never a redirect.
pub fn deny(error: Error) -> Response {
    let status = match &error {
        Error::Unavailable(_) | Error::Conflict => StatusCode::SERVICE_UNAVAILABLE,
        Error::Busy => StatusCode::TOO_MANY_REQUESTS,
        Error::BadRequest(_) | Error::HeadersTooLarge { .. } | Error::UriTooLong { .. } => {
            StatusCode::BAD_REQUEST
        }
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNAUTHORIZED,
    };
    let mut response = error.into_response();
    *response.status_mut() = status;
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Snowflake error=\"invalid_token\""),
        );
    }
    response
}

/// The form of `POST /oauth/token`; other fields are ignored.
#[derive(Deserialize)]
struct Form {
    grant_type: Option<String>,
    assertion: Option<SecretString>,
    subject_token: Option<SecretString>,
    subject_token_type: Option<String>,
    scope: Option<String>,
}

/// `POST /oauth/token`: 200 with the bare token as the body (what Snowflake's clients read), or
/// RFC 6749 §5.2's `{"error", "error_description"}`.
pub async fn token(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    body: axum::body::Bytes,
) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<Form>(&body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Malformed form body.",
        );
    };
    let form = TokenForm {
        grant_type: form.grant_type,
        assertion: form.assertion,
        subject_token: form.subject_token,
        subject_token_type: form.subject_token_type,
        scope: form.scope,
    };
    let exchange = match form.exchange() {
        Ok(e) => e,
        Err(r) => return oauth_error(StatusCode::BAD_REQUEST, r.error, r.description),
    };
    match state.gate.exchange(exchange, client_ip).await {
        Ok((token, _)) => ([(CONTENT_TYPE, "text/plain")], Body::from(token)).into_response(),
        Err(e @ (Error::Unavailable(_) | Error::Conflict | Error::Busy)) => {
            let status = deny(e).status();
            oauth_error(status, "temporarily_unavailable", "Please retry.")
        }
        Err(Error::Internal(cause)) => {
            tracing::error!(cause = %cause, "internal error");
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "Internal error.",
            )
        }
        Err(e) => {
            let code = crate::snowflake::codes::of(&e);
            tracing::info!(code, "token exchange refused");
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", &e.to_string())
        }
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = serde_json::json!({"error": error, "error_description": description});
    (status, axum::Json(body)).into_response()
}
