//! Extractors: the decoded JSON body, the token of the `Authorization` header, the client IP, and
//! query-string parameters, each failing with a Snowflake-shaped [`Error`].

use std::error::Error as StdError;
use std::net::IpAddr;

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use bytes::Bytes;
use secrecy::SecretString;
use serde::de::DeserializeOwned;

use super::AppState;
use crate::error::Error;

/// The client's address, put in the request extensions by the front door (the socket peer locally,
/// API Gateway's source IP inside Lambda).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or(ClientIp(None)))
    }
}

/// The client IP behind trusted proxies: when the direct peer is a trusted proxy, the rightmost
/// `X-Forwarded-For` entry that is not itself a trusted proxy. Otherwise the peer, and the header is
/// ignored (anybody can send it).
pub fn resolve_client_ip(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[ipnet::IpNet],
) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| {
        let ip = crate::domain::directory::canonical_ip(*ip);
        trusted.iter().any(|net| net.contains(&ip))
    };
    let peer = peer?;
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let Some(header) = forwarded_for else {
        return Some(peer);
    };
    let mut client = peer;
    for entry in header.rsplit(',') {
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // A malformed entry ends the trusted chain: use what was established so far.
            Err(_) => break,
        }
    }
    Some(client)
}

/// The token of `Authorization: Snowflake Token="…"`.
pub struct SnowflakeToken(pub SecretString);

impl<S: Send + Sync> FromRequestParts<S> for SnowflakeToken {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let value = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(Error::InvalidToken)?;
        let token = value
            .trim()
            .strip_prefix("Snowflake Token=\"")
            .and_then(|rest| rest.strip_suffix('"'))
            .filter(|t| !t.is_empty())
            .ok_or(Error::InvalidToken)?;
        Ok(SnowflakeToken(SecretString::from(token)))
    }
}

/// Query-string parameters; unknown ones are ignored.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequestParts<S> for Params<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        match parts.uri.query() {
            None => Ok(Params(T::default())),
            Some(_) => Query::<T>::try_from_uri(&parts.uri)
                .map(|Query(t)| Params(t))
                .map_err(|e| Error::BadRequest(format!("Invalid query string: {}", e.body_text()))),
        }
    }
}

/// A JSON body, gunzipped by the decompression layer, read up to the configured limit and parsed with
/// the path of any bad field in the error.
pub struct SnowflakeJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for SnowflakeJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        let (value, _) = read_json(req, state).await?;
        Ok(SnowflakeJson(value))
    }
}

/// A [`SnowflakeJson`] body and the bytes it was parsed from (decompressed), for a request that may
/// be passed on to the query engine as it came.
pub struct SnowflakeJsonBytes<T>(pub T, pub Bytes);

impl<T: DeserializeOwned> FromRequest<AppState> for SnowflakeJsonBytes<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        let (value, bytes) = read_json(req, state).await?;
        Ok(SnowflakeJsonBytes(value, bytes))
    }
}

async fn read_json<T: DeserializeOwned>(
    req: Request,
    state: &AppState,
) -> Result<(T, Bytes), Error> {
    let limit = state.body_limit;
    let bytes = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|e| body_error(&e, limit))?;
    if bytes.is_empty() {
        return Err(Error::BadRequest("Request body is empty.".into()));
    }
    if json_depth_exceeds(&bytes, MAX_JSON_DEPTH) {
        return Err(Error::BadRequest(format!(
            "Request body is nested deeper than {MAX_JSON_DEPTH} levels."
        )));
    }
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() || path == "." {
            Error::BadRequest(format!("Malformed JSON request body: {inner}"))
        } else {
            Error::BadRequest(format!("Invalid request body at '{path}': {inner}"))
        }
    })?;
    Ok((value, bytes))
}

/// Drivers nest a request body five or six levels deep (query bindings); serde_json stops at 128 only
/// for values it builds, not for the ones it skips.
pub const MAX_JSON_DEPTH: usize = 64;

/// Whether `[`/`{` nest deeper than `max` outside strings: one pass, no recursion.
fn json_depth_exceeds(bytes: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// A body the route does not use (heartbeat, logout, telemetry), read to its end within the limit
/// anyway: hyper cannot reuse a keep-alive connection whose request body was left unread, and would
/// close it under the client's next request.
pub struct Drained;

impl FromRequest<AppState> for Drained {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        let limit = state.body_limit;
        axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|e| body_error(&e, limit))?;
        Ok(Drained)
    }
}

/// Tells an over-limit or too slow body (raw or decompressed) from one that could not be decoded.
fn body_error(err: &axum::Error, limit: usize) -> Error {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        // `io::Error::source` skips the error it wraps, so look inside it explicitly.
        let wrapped = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn StdError + 'static));
        for candidate in std::iter::once(e).chain(wrapped) {
            if candidate.is::<http_body_util::LengthLimitError>() {
                return Error::BodyTooLarge { limit };
            }
            if candidate.is::<tower_http::timeout::TimeoutError>() {
                return Error::BadRequest("Request body was not received in time.".into());
            }
        }
        current = e.source();
    }
    Error::BadRequest("Request body could not be decoded (invalid gzip data?).".into())
}

#[cfg(test)]
mod tests {
    use super::{json_depth_exceeds, resolve_client_ip};

    #[test]
    fn json_depth_counts_brackets_outside_strings() {
        assert!(!json_depth_exceeds(br#"{"a": [[1]]}"#, 3));
        assert!(json_depth_exceeds(br#"{"a": [[[1]]]}"#, 3));
        assert!(!json_depth_exceeds(br#"{"a": "[[[[\"[[[["}"#, 1));
        assert!(!json_depth_exceeds(br#"[1] [2] [3] [4]"#, 1));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| Some(s.parse().unwrap());
        // Untrusted peer: the header is ignored.
        assert_eq!(
            resolve_client_ip(ip("203.0.113.9"), Some("1.2.3.4"), &trusted),
            ip("203.0.113.9")
        );
        // Trusted peer: the rightmost untrusted entry, skipping inner proxies.
        assert_eq!(
            resolve_client_ip(ip("10.0.0.1"), Some("6.6.6.6, 1.2.3.4, 10.0.0.7"), &trusted),
            ip("1.2.3.4")
        );
        assert_eq!(
            resolve_client_ip(ip("10.0.0.1"), None, &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(
            resolve_client_ip(ip("10.0.0.1"), Some("junk, 10.0.0.2"), &trusted),
            ip("10.0.0.2")
        );
        // Nothing trusted: always the peer.
        assert_eq!(
            resolve_client_ip(ip("10.0.0.1"), Some("1.2.3.4"), &[]),
            ip("10.0.0.1")
        );
        assert_eq!(resolve_client_ip(None, Some("1.2.3.4"), &trusted), None);
    }
}
