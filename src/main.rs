//! The `snowgate` binary: inside Lambda it serves the router under `lambda_http`; outside, `snowgate
//! serve` (the default) serves the same router over HTTP.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use snowgate::config::Config;

#[derive(Parser)]
#[command(
    name = "snowgate",
    version,
    about = "A Snowflake-compatible authentication service"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API over HTTP (the default).
    Serve {
        /// Address to listen on [env: SNOWGATE_LISTEN, default 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let in_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let cli = if in_lambda {
        Cli { command: None }
    } else {
        Cli::parse()
    };
    snowgate::logging::init(in_lambda);
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            return ExitCode::FAILURE;
        }
    };
    let state = match snowgate::build_state(&config).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "start-up failed");
            return ExitCode::FAILURE;
        }
    };
    let app = snowgate::app(state);
    let result = if in_lambda {
        snowgate::entrypoints::lambda::run(app)
            .await
            .map_err(|e| e.to_string())
    } else {
        let listen = match cli.command {
            Some(Command::Serve { listen }) => listen,
            None => None,
        }
        .unwrap_or(config.listen);
        snowgate::entrypoints::local::serve(app, listen)
            .await
            .map_err(|e| e.to_string())
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "snowgate stopped");
            ExitCode::FAILURE
        }
    }
}
