//! The reference for the Lambda cold start (`scripts/bench_cold_start.py --mode lambda`): the
//! smallest `lambda_http` function, same runtime and Lambda crates as snowgate, answering every event
//! with a fixed Snowflake-shaped body. `cargo build --release --example hello_lambda`.

use lambda_http::{Body, Error, Request, Response, service_fn};

const OK: &str = r#"{"data":null,"code":null,"message":null,"success":true}"#;

async fn answer(_: Request) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(OK))?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(answer)).await
}
