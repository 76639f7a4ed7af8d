//! The HTTP side: routes, extractors, and the error → envelope conversion. Both front doors (Lambda and
//! the local server) serve the router built by [`router`].

pub mod access;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod sql_api;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{Next, from_fn, map_request, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use tower::ServiceBuilder;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::domain::Gatekeeper;
use crate::error::Error;
use crate::logging::ShowIp;
use extract::ClientIp;

/// Default limit of a request body, before and after decompression.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

#[derive(Clone)]
pub struct AppState {
    pub gate: Arc<Gatekeeper>,
    pub body_limit: usize,
    /// Proxies whose `X-Forwarded-For` is believed (`SNOWGATE_TRUSTED_PROXIES`); empty by default.
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    /// The SQL API's answers for `GET /api/v2/statements/{handle}`, in this instance's memory.
    pub statements: Arc<sql_api::kept::KeptResults>,
}

/// Sizes of the request target and of all headers together; past them a request is refused with the
/// Snowflake envelope (HTTP 414, 431). Drivers send a few hundred bytes of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireLimits {
    pub max_uri_bytes: usize,
    pub max_header_bytes: usize,
}

pub const DEFAULT_MAX_URI_BYTES: usize = 8 * 1024;
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;

impl Default for WireLimits {
    fn default() -> Self {
        Self {
            max_uri_bytes: DEFAULT_MAX_URI_BYTES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        }
    }
}

/// The router with the default [`WireLimits`].
pub fn router(state: AppState) -> Router {
    router_with(state, WireLimits::default())
}

pub fn router_with(state: AppState, wire: WireLimits) -> Router {
    // Paths are made canonical before routing (a layer on the routes would run after it).
    let routes = ServiceBuilder::new()
        .layer(map_request(collapse_slashes))
        .service(routes(state, wire));
    Router::new().fallback_service(routes)
}

/// Some drivers join URLs with a doubled slash: the Rust crate `snowflake-api` asks for
/// `//session/token-request`, connector 5.2.0 for `/monitoring/queries//<id>`. Snowflake answers
/// them as if written with one slash, and so does snowgate: runs of `/` in the path are one.
async fn collapse_slashes(mut req: Request) -> Request {
    let path = req.uri().path();
    if !path.contains("//") {
        return req;
    }
    let mut canonical = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && canonical.ends_with('/')) {
            canonical.push(c);
        }
    }
    if let Some(query) = req.uri().query() {
        canonical = format!("{canonical}?{query}");
    }
    let mut parts = req.uri().clone().into_parts();
    if let Ok(path_and_query) = canonical.parse() {
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req
}

fn routes(state: AppState, wire: WireLimits) -> Router {
    let limit = state.body_limit;
    let trusted = Arc::clone(&state.trusted_proxies);
    Router::new()
        .route("/session/v1/login-request", post(handlers::login))
        .route("/session", post(handlers::session))
        .route("/session/token-request", post(handlers::token_request))
        .route("/session/heartbeat", post(handlers::heartbeat))
        .route("/queries/v1/query-request", post(handlers::query))
        .route("/queries/v1/abort-request", post(handlers::abort))
        .route("/queries/{id}/result", get(handlers::query_result))
        .route("/monitoring/queries/{*id}", get(handlers::query_status))
        .route("/telemetry/send", post(handlers::telemetry))
        // Per-request credentials (http/access.rs).
        .route("/auth/forward", any(access::forward))
        .route("/oauth/token", post(access::token))
        // The SQL API v2 (http/sql_api/).
        .route("/api/v2/statements", post(sql_api::submit))
        .route("/api/v2/statements/{handle}", get(sql_api::status))
        .route("/api/v2/statements/{handle}/cancel", post(sql_api::cancel))
        .fallback(handlers::not_found)
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(map_request(move |r| {
                    forwarded_client(r, Arc::clone(&trusted))
                }))
                .layer(from_fn(log_refusal))
                .layer(map_response(move |r| envelope_layer_errors(r, limit)))
                .layer(map_request(move |r| check_wire_limits(r, wire)))
                // The raw body is limited first; the JSON extractor limits the decompressed body again,
                // so a gzip bomb stops at the limit instead of filling memory.
                .layer(RequestBodyLimitLayer::new(limit))
                .layer(RequestDecompressionLayer::new()),
        )
}

/// Replaces the front door's client IP with the forwarded one when it came through a trusted proxy.
async fn forwarded_client(mut req: Request, trusted: Arc<Vec<ipnet::IpNet>>) -> Request {
    if trusted.is_empty() {
        return req;
    }
    let peer = req.extensions().get::<ClientIp>().and_then(|c| c.0);
    let header = forwarded_for(req.headers());
    let ip = extract::resolve_client_ip(peer, header.as_deref(), &trusted);
    req.extensions_mut().insert(ClientIp(ip));
    req
}

/// Refuses a request whose target or headers are larger than the limits, before anything reads them.
async fn check_wire_limits(req: Request, wire: WireLimits) -> Result<Request, Error> {
    let uri = req.uri();
    let uri_len = uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(0, |p| p.as_str().len());
    if uri_len > wire.max_uri_bytes {
        return Err(Error::UriTooLong {
            limit: wire.max_uri_bytes,
        });
    }
    // As on the wire: "name: value\r\n".
    let header_len: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_len > wire.max_header_bytes {
        return Err(Error::HeadersTooLarge {
            limit: wire.max_header_bytes,
        });
    }
    Ok(req)
}

/// One INFO line per refused request: status, Snowflake code, route, client address, request id.
/// The code is put on the response by `IntoResponse for Error`; client strings are escaped.
async fn log_refusal(req: Request, next: Next) -> Response {
    let route = req.uri().path().to_string();
    let request_id = request_id(req.uri());
    let client_ip = req.extensions().get::<ClientIp>().copied();
    let response = next.run(req).await;
    if let Some(error::Refusal(code)) = response.extensions().get::<error::Refusal>() {
        tracing::info!(
            status = response.status().as_u16(),
            code = %code,
            route = ?route,
            client_ip = %ShowIp(client_ip.and_then(|c| c.0)),
            request_id = ?request_id,
            "request refused"
        );
    }
    response
}

/// The client's request id from the query string (`requestId` or `request_id`), at most 64 bytes.
fn request_id(uri: &axum::http::Uri) -> String {
    let id = uri
        .query()
        .and_then(|q| {
            q.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                matches!(k, "requestId" | "request_id").then_some(v)
            })
        })
        .unwrap_or_default();
    id.chars().take(64).collect()
}

/// Every `X-Forwarded-For` header joined in order, as one list: proxies may append a header rather
/// than extend the last one. A value that is not text becomes an entry that never parses, so the
/// chain ends there as at any malformed entry.
fn forwarded_for(headers: &axum::http::HeaderMap) -> Option<String> {
    let mut values = headers.get_all("x-forwarded-for").iter().peekable();
    values.peek()?;
    let parts: Vec<&str> = values.map(|v| v.to_str().unwrap_or("?")).collect();
    Some(parts.join(","))
}

/// A span per request, named by the client's request id. Headers (tokens) are never recorded.
fn request_span(req: &Request) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = ?req.uri().path(),
        request_id = ?request_id(req.uri())
    )
}

/// The limit and decompression layers answer on their own (413, 415) with plain text; give those
/// answers the Snowflake envelope like every other failure.
async fn envelope_layer_errors<B>(response: Response<B>, limit: usize) -> Response
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let response = response.map(axum::body::Body::new);
    let is_json =
        response.headers().get(CONTENT_TYPE) == Some(&HeaderValue::from_static("application/json"));
    if is_json || response.status().is_success() {
        return response;
    }
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Error::BodyTooLarge { limit }.into_response(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            Error::BadRequest("Unsupported Content-Encoding: only gzip is accepted.".into())
                .into_response()
        }
        // e.g. 405 for a GET: keep the status, give it the envelope.
        status => {
            let mut reply =
                Error::BadRequest(format!("Request rejected: {status}.")).into_response();
            *reply.status_mut() = status;
            reply
        }
    }
}
