//! Serving the router inside AWS Lambda: `lambda_http` turns API Gateway events into requests (it also
//! decodes base64 bodies), the path loses the API Gateway stage, and the source IP of the event
//! becomes the client IP. Authorizer events (`authorizer.rs`) are told apart first and answered
//! with the decision of `/auth/forward`.

use std::net::IpAddr;

use axum::Router;
use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{LambdaEvent, Request, RequestExt, Service, service_fn};
use serde_json::Value;
use serde_json::value::RawValue;
use tower::ServiceBuilder;
use tower::util::MapRequest;

use super::authorizer;
use crate::http::extract::ClientIp;

/// The router as a `lambda_http` service; tests drive this with event files.
pub fn service(app: Router) -> MapRequest<Router, fn(Request) -> Request> {
    ServiceBuilder::new()
        .map_request(from_api_gateway as fn(Request) -> Request)
        .service(app)
}

/// Serves invocations until the runtime stops: an authorizer event is answered by
/// [`authorizer::answer`], anything else is a proxied request for [`service`].
pub async fn run(app: Router) -> Result<(), lambda_http::Error> {
    lambda_http::lambda_runtime::run(service_fn(move |event| handle(app.clone(), event))).await
}

/// One invocation. The event stays raw until its shape is known: an HTTP API authorizer event would
/// also parse as a proxied request. A proxied request goes through `lambda_http`'s own adapter,
/// as `lambda_http::run` would take it (its parsing, its X-Ray header, its response shapes).
pub async fn handle(
    app: Router,
    event: LambdaEvent<Box<RawValue>>,
) -> Result<Value, lambda_http::Error> {
    let LambdaEvent { payload, context } = event;
    if let Some(kind) = authorizer::kind_of(payload.get()) {
        return Ok(authorizer::answer(app, kind, payload.get()).await?);
    }
    let request: LambdaRequest = serde_json::from_str(payload.get())?;
    let mut adapter = lambda_http::Adapter::from(service(app));
    let response = match adapter.call(LambdaEvent::new(request, context)).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    Ok(serde_json::to_value(response)?)
}

/// The event's source IP as the client IP, and the path without the stage.
fn from_api_gateway(mut req: Request) -> Request {
    let ip = req.request_context_ref().and_then(source_ip);
    req.extensions_mut().insert(ClientIp(ip));
    without_stage(req)
}

/// The request with the path the client asked for after the stage: `lambda_http` puts the stage
/// in front of the path of a REST API (v1) event (`/prod/session/v1/login-request`) and of an HTTP
/// API (v2) event of a named stage, and snowgate's routes have none. (`lambda_http`'s
/// `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` only stops it adding the stage: a v2 named stage's
/// `rawPath` carries it anyway, so this does not depend on that setting.) A v2 `$default` stage
/// is never in the path.
fn without_stage(mut req: Request) -> Request {
    let owned = req.raw_http_path().to_string();
    let raw = owned.as_str();
    let path = match req.request_context_ref() {
        // A REST API's `path` is the resource path, without the stage.
        Some(RequestContext::ApiGatewayV1(_)) => raw,
        Some(RequestContext::ApiGatewayV2(c)) => match c.stage.as_deref() {
            Some(stage) if stage != "$default" && !stage.is_empty() => raw
                .strip_prefix('/')
                .and_then(|r| r.strip_prefix(stage))
                .filter(|r| r.starts_with('/'))
                .unwrap_or(raw),
            _ => return req,
        },
        _ => return req,
    };
    if path.is_empty() || path == req.uri().path() {
        return req;
    }
    let target = match req.uri().query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_string(),
    };
    let mut parts = req.uri().clone().into_parts();
    // A path that is not a valid URI path leaves the request as it was (it then answers 404).
    if let Ok(pq) = target.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = lambda_http::http::Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req
}

fn source_ip(ctx: &RequestContext) -> Option<IpAddr> {
    let raw = match ctx {
        RequestContext::ApiGatewayV2(c) => c.http.source_ip.as_deref(),
        RequestContext::ApiGatewayV1(c) => c.identity.source_ip.as_deref(),
        _ => None,
    }?;
    raw.parse().ok()
}
