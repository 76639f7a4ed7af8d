//! API Gateway Lambda authorizers: the same binary, invoked by API Gateway to decide whether a
//! request to some other backend may pass, gives the decision `/auth/forward` gives a proxy. The
//! event becomes a header-only request to `/auth/forward` through the same router (so the same
//! limits, verifier and audit apply), and its answer becomes the authorizer's: an HTTP API's simple
//! response (`isAuthorized`, `context`) or a REST API's policy document for the `methodArn`.

use std::net::IpAddr;

use axum::Router;
use axum::body::Body;
use axum::http::header::{AUTHORIZATION, HOST};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequest,
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use lambda_http::aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use serde::Deserialize;
use serde_json::{Map, Value};
use tower::ServiceExt;

use crate::http::access::CONTEXT_HEADERS;
use crate::http::extract::ClientIp;

/// The keys of an allowed request's `context`, in the order of [`CONTEXT_HEADERS`]; an HTTP API
/// maps them as `$context.authorizer.user` and so on, a REST API as `$context.authorizer.user`.
pub const CONTEXT_KEYS: [&str; 4] = ["user", "account", "role", "email"];

/// The authorizer events snowgate answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An HTTP API REQUEST authorizer with payload format 2.0 (`routeArn`): a simple response.
    HttpApi,
    /// A REST API REQUEST authorizer, or an HTTP API one with payload format 1.0 (`methodArn`):
    /// a policy document.
    Request,
    /// A REST API TOKEN authorizer (`authorizationToken`, `methodArn`): a policy document.
    Token,
}

/// Only the fields that tell the shapes apart; everything else is read by the typed events.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shape {
    #[serde(rename = "type")]
    kind: Option<String>,
    route_arn: Option<serde::de::IgnoredAny>,
    method_arn: Option<serde::de::IgnoredAny>,
}

/// Which authorizer event `raw` is, by its shape, or None for anything else (a proxied request,
/// which has no `type` and no ARN). Decided before `lambda_http` parses it: an HTTP API authorizer
/// event also parses as a proxied HTTP API request.
pub fn kind_of(raw: &str) -> Option<Kind> {
    let shape: Shape = serde_json::from_str(raw).ok()?;
    match (shape.kind.as_deref()?, shape.route_arn, shape.method_arn) {
        ("REQUEST", _, Some(_)) => Some(Kind::Request),
        ("REQUEST", Some(_), None) => Some(Kind::HttpApi),
        ("TOKEN", None, Some(_)) => Some(Kind::Token),
        _ => None,
    }
}

/// The `methodArn` of an event that did not parse as a whole, for its refusal.
fn method_arn_of(raw: &str) -> String {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Arn {
        method_arn: Option<String>,
    }
    serde_json::from_str::<Arn>(raw)
        .ok()
        .and_then(|a| a.method_arn)
        .unwrap_or_default()
}

/// What the router needs of an authorizer event.
struct Asked {
    headers: HeaderMap,
    source_ip: Option<IpAddr>,
    /// The API's own host name, for tokens bound to one (`/oauth/token`'s scope).
    host: Option<String>,
    /// The `methodArn` a policy document allows or denies.
    method_arn: String,
}

/// Why an event could not be decided; the invocation fails, so API Gateway answers 500 and caches
/// nothing. It never names a credential.
#[derive(Debug)]
pub struct Undecided(String);

impl std::fmt::Display for Undecided {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "authorizer: {}", self.0)
    }
}

impl std::error::Error for Undecided {}

fn read(kind: Kind, raw: &str) -> Result<Asked, Undecided> {
    let malformed = |e: serde_json::Error| Undecided(format!("malformed {kind:?} event: {e}"));
    let ip = |s: Option<&String>| s.and_then(|s| s.parse().ok());
    match kind {
        Kind::HttpApi => {
            let ev: ApiGatewayV2CustomAuthorizerV2Request =
                serde_json::from_str(raw).map_err(malformed)?;
            Ok(Asked {
                source_ip: ip(ev.request_context.http.source_ip.as_ref()),
                host: ev.request_context.domain_name.clone(),
                headers: ev.headers,
                method_arn: String::new(),
            })
        }
        Kind::Request => {
            let ev: ApiGatewayCustomAuthorizerRequestTypeRequest =
                serde_json::from_str(raw).map_err(malformed)?;
            let identity = ev.request_context.identity.as_ref();
            // multiValueHeaders holds every copy; a client's second Authorization must not hide
            // behind the first.
            let headers = if ev.multi_value_headers.is_empty() {
                ev.headers
            } else {
                ev.multi_value_headers
            };
            Ok(Asked {
                source_ip: ip(identity.and_then(|i| i.source_ip.as_ref())),
                host: headers
                    .get(HOST)
                    .and_then(|h| h.to_str().ok())
                    .map(str::to_string),
                headers,
                method_arn: ev.method_arn.unwrap_or_default(),
            })
        }
        Kind::Token => {
            let ev: ApiGatewayCustomAuthorizerRequest =
                serde_json::from_str(raw).map_err(malformed)?;
            let mut headers = HeaderMap::new();
            // A value a header cannot carry is no credential: the request goes without one.
            if let Some(v) = ev
                .authorization_token
                .as_deref()
                .and_then(|t| HeaderValue::from_str(t).ok())
            {
                headers.insert(AUTHORIZATION, v);
            }
            Ok(Asked {
                headers,
                source_ip: None,
                host: None,
                method_arn: ev.method_arn.unwrap_or_default(),
            })
        }
    }
}

/// The caller's identity, or None for a refusal.
type Decision = Option<Map<String, Value>>;

/// `/auth/forward` through `app` with the event's headers, its source IP as the client's and its
/// API's host name as the endpoint host (what the client sent as `X-Forwarded-For` or
/// `X-Forwarded-Host` is dropped: API Gateway, not the client, knows these).
async fn decide(app: Router, asked: Asked) -> Result<Decision, Undecided> {
    let mut req = Request::builder()
        .method(Method::GET)
        .uri("/auth/forward")
        .body(Body::empty())
        .map_err(|e| Undecided(e.to_string()))?;
    let mut headers = asked.headers;
    for name in ["x-forwarded-for", "x-forwarded-host", "forwarded"] {
        headers.remove(name);
    }
    headers.remove(HOST);
    if let Some(host) = asked.host.and_then(|h| HeaderValue::from_str(&h).ok()) {
        headers.insert(HOST, host);
    }
    *req.headers_mut() = headers;
    req.extensions_mut().insert(ClientIp(asked.source_ip));
    let resp = match app.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = resp.status();
    if status.is_success() {
        let mut context = Map::new();
        for (key, name) in CONTEXT_KEYS.iter().zip(CONTEXT_HEADERS) {
            let value = resp
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            context.insert((*key).to_string(), Value::String(value.to_string()));
        }
        return Ok(Some(context));
    }
    // A refusal, or a request the router would not read (headers too large, malformed). Busy, a
    // store down, a bug: no decision, so the request is neither allowed nor a cached refusal.
    if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS {
        Ok(None)
    } else {
        Err(Undecided(format!("/auth/forward answered {status}")))
    }
}

/// The answer to an authorizer event of `kind` (`raw`, the event as invoked).
pub async fn answer(app: Router, kind: Kind, raw: &str) -> Result<Value, Undecided> {
    let (decision, method_arn) = match read(kind, raw) {
        Ok(asked) => {
            let method_arn = asked.method_arn.clone();
            (decide(app, asked).await?, method_arn)
        }
        // The headers are the client's: one API Gateway passes on but a header cannot carry
        // makes the event unreadable, which is a refusal, not a failed invocation.
        Err(e) => {
            tracing::info!(error = %e, "authorizer event refused");
            (None, method_arn_of(raw))
        }
    };
    let json = |r: Result<Value, serde_json::Error>| r.map_err(|e| Undecided(e.to_string()));
    match kind {
        Kind::HttpApi => {
            let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::<Value>::default();
            response.is_authorized = decision.is_some();
            response.context = Value::Object(decision.unwrap_or_default());
            json(serde_json::to_value(response))
        }
        Kind::Request | Kind::Token => {
            let mut statement = IamPolicyStatement::default();
            statement.action = vec!["execute-api:Invoke".into()];
            statement.resource = vec![method_arn];
            statement.effect = if decision.is_some() {
                IamPolicyEffect::Allow
            } else {
                IamPolicyEffect::Deny
            };
            let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
            policy.version = Some("2012-10-17".into());
            policy.statement = vec![statement];
            let mut response = ApiGatewayCustomAuthorizerResponse::<Value>::default();
            response.principal_id = Some(
                decision
                    .as_ref()
                    .and_then(|c| c.get("user"))
                    .and_then(Value::as_str)
                    .unwrap_or("anonymous")
                    .to_string(),
            );
            response.policy_document = policy;
            response.context = Value::Object(decision.unwrap_or_default());
            json(serde_json::to_value(response))
        }
    }
}
