//! The HTTP side: routes, extractors, and the error → envelope conversion. Both front doors (Lambda and
//! the local server) serve the router built by [`router`].

pub mod error;
pub mod extract;
pub mod handlers;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{map_request, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tower::ServiceBuilder;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::domain::Gatekeeper;
use crate::error::Error;
use extract::ClientIp;

/// Default limit of a request body, before and after decompression.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

#[derive(Clone)]
pub struct AppState {
    pub gate: Arc<Gatekeeper>,
    pub body_limit: usize,
    /// Proxies whose `X-Forwarded-For` is believed (`SNOWGATE_TRUSTED_PROXIES`); empty by default.
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
}

pub fn router(state: AppState) -> Router {
    let limit = state.body_limit;
    let trusted = Arc::clone(&state.trusted_proxies);
    Router::new()
        .route("/session/v1/login-request", post(handlers::login))
        .route("/session", post(handlers::session))
        .route("/session/token-request", post(handlers::token_request))
        .route("/session/heartbeat", post(handlers::heartbeat))
        .route("/queries/v1/query-request", post(handlers::query))
        .route("/telemetry/send", post(handlers::telemetry))
        .fallback(handlers::not_found)
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(map_response(move |r| envelope_layer_errors(r, limit)))
                .layer(map_request(move |r| {
                    forwarded_client(r, Arc::clone(&trusted))
                }))
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
    let header = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let ip = extract::resolve_client_ip(peer, header, &trusted);
    req.extensions_mut().insert(ClientIp(ip));
    req
}

/// A span per request, named by the client's request id. Headers (tokens) are never recorded.
fn request_span(req: &Request) -> tracing::Span {
    let request_id = req
        .uri()
        .query()
        .and_then(|q| {
            q.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                matches!(k, "requestId" | "request_id").then(|| v.to_string())
            })
        })
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %request_id
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
