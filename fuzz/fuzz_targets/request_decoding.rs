//! Request decoding through the whole router: the first byte picks the route and whether the body is
//! labelled gzip, the rest is the body. Every answer must be a JSON envelope; a panic is a finding.
#![no_main]

use std::sync::OnceLock;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

const ROUTES: [&str; 5] = [
    "/session/v1/login-request?requestId=f",
    "/queries/v1/query-request?requestId=f",
    "/session/token-request",
    "/session/heartbeat",
    "/session?delete=true",
];

/// The router as `snowgate serve` builds it with no configuration: in-memory store, random secret.
fn app() -> &'static (tokio::runtime::Runtime, Router) {
    static APP: OnceLock<(tokio::runtime::Runtime, Router)> = OnceLock::new();
    APP.get_or_init(|| {
        let config = snowgate::config::Config::from_lookup(|_| None).expect("default config");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        (runtime, snowgate::app(snowgate::local_state(&config)))
    })
}

fuzz_target!(|input: &[u8]| {
    let Some((&selector, body)) = input.split_first() else {
        return;
    };
    let (runtime, router) = app();
    let mut req = Request::post(ROUTES[usize::from(selector) % ROUTES.len()])
        .header("content-type", "application/json")
        .header("authorization", "Snowflake Token=\"not-a-token\"");
    if selector & 0x80 != 0 {
        req = req.header("content-encoding", "gzip");
    }
    let req = req.body(Body::from(body.to_vec())).expect("request");
    runtime.block_on(async {
        let resp = router.clone().oneshot(req).await.expect("infallible");
        let bytes = to_bytes(resp.into_body(), usize::MAX).await.expect("body");
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("a JSON envelope");
        assert!(v["success"].is_boolean(), "{v}");
    });
});
