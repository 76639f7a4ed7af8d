//! Serving the router inside AWS Lambda: `lambda_http` turns API Gateway events into requests (it also
//! decodes base64 bodies), and the source IP of the event becomes the client IP.

use std::net::IpAddr;

use axum::Router;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use tower::ServiceBuilder;
use tower::util::MapRequest;

use crate::http::extract::ClientIp;

/// The router as a `lambda_http` service; tests drive this with event files.
pub fn service(app: Router) -> MapRequest<Router, fn(Request) -> Request> {
    ServiceBuilder::new()
        .map_request(with_source_ip as fn(Request) -> Request)
        .service(app)
}

pub async fn run(app: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run(service(app)).await
}

fn with_source_ip(mut req: Request) -> Request {
    let ip = req.request_context_ref().and_then(source_ip);
    req.extensions_mut().insert(ClientIp(ip));
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
