//! The ceiling of this box for the load benchmark (`scripts/bench_load.py`): a bare axum server on
//! the same runtime and HTTP stack as snowgate, answering the query and heartbeat routes with a fixed
//! Snowflake-shaped body and checking nothing. `cargo run --release --example hello -- <port>`.
//! It is also the minimal stub engine of the gateway benchmark (`scripts/bench_gateway.py`): it
//! answers an engine login with a token and a logout with success, so snowgate can sit in front.
//!
//! With `front-door` after the port, it is served through snowgate's own accept loop
//! (`entrypoints::local`: every phase of a connection under a deadline, connections capped) instead
//! of `axum::serve`: what that hardening costs, apart from authentication.

use axum::Router;
use axum::routing::post;

const QUERY: &str = r#"{"data":{"rowtype":[{"name":"CURRENT_DATABASE()","type":"text","nullable":true}],"rowset":[["ANALYTICS"]],"total":1,"returned":1,"queryId":"01b2c3d4-0000-0000-0000-000000000000","finalDatabaseName":"ANALYTICS","finalSchemaName":"RAW","finalWarehouseName":null,"finalRoleName":"ACCOUNTADMIN","parameters":[]},"code":null,"message":null,"success":true}"#;
const OK: &str = r#"{"data":null,"code":null,"message":null,"success":true}"#;
const LOGIN: &str = r#"{"data":{"token":"stub-engine-token","masterToken":"stub-master"},"code":null,"message":null,"success":true}"#;

fn json(body: &'static str) -> ([(&'static str, &'static str); 1], &'static str) {
    ([("content-type", "application/json")], body)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8099);
    let app = Router::new()
        .route("/queries/v1/query-request", post(|| async { json(QUERY) }))
        .route("/session/heartbeat", post(|| async { json(OK) }))
        .route("/session/v1/login-request", post(|| async { json(LOGIN) }))
        .route("/session", post(|| async { json(OK) }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    if std::env::args().nth(2).as_deref() == Some("front-door") {
        let limits = snowgate::entrypoints::local::ServerLimits {
            max_connections: 4096,
            ..Default::default()
        };
        return snowgate::entrypoints::local::serve_on(
            listener,
            app,
            limits,
            std::future::pending(),
        )
        .await;
    }
    axum::serve(listener, app).await
}
