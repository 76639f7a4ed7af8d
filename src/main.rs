//! The `snowgate` binary: inside Lambda it serves the router under `lambda_http`; outside, `snowgate
//! serve` (the default) serves the same router over HTTP, and `snowgate keygen` makes an RSA key pair
//! for key-pair login (see `snowgate::keygen`).

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use snowgate::config::Config;

#[derive(Parser)]
#[command(
    name = "snowgate",
    version,
    about = "A Snowflake-compatible authentication service",
    after_help = snowgate::config::SETTINGS_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API over HTTP (the default).
    #[command(after_help = snowgate::config::SETTINGS_HELP)]
    Serve {
        /// Address to listen on [env: SNOWGATE_LISTEN, default 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Make an RSA key pair for key-pair login.
    ///
    /// The private key goes to a Secrets Manager secret and/or a new 0600 file, never to the
    /// screen; stdout shows the public key, its fingerprint and optionally the ALTER USER statement.
    Keygen(snowgate::keygen::Args),
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
    let listen = match cli.command {
        // A one-shot tool: no server, no SNOWGATE_* configuration.
        Some(Command::Keygen(args)) => return keygen(&args).await,
        Some(Command::Serve { listen }) => listen,
        None => None,
    };
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
    let app = snowgate::app_with(state, config.server.wire);
    let result = if in_lambda {
        snowgate::entrypoints::lambda::run(app)
            .await
            .map_err(|e| e.to_string())
    } else {
        snowgate::entrypoints::local::serve(app, listen.unwrap_or(config.listen), config.server)
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

/// Runs `snowgate keygen`: the public key on stdout, where the private key went on stderr, errors on
/// stderr (they never hold key material).
async fn keygen(args: &snowgate::keygen::Args) -> ExitCode {
    match snowgate::keygen::run(args).await {
        Ok(output) => {
            for note in &output.notes {
                eprintln!("{note}");
            }
            // The key is already kept; if stdout is gone, say so rather than panic.
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(output.stdout().as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("snowgate keygen: could not print the public key: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("snowgate keygen: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
