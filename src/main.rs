//! The `snowgate` binary: inside Lambda it serves the router under `lambda_http`; outside, `snowgate
//! serve` (the default) serves the same router over HTTP, and `snowgate keygen` makes an RSA key pair
//! for key-pair login (see `snowgate::keygen`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use snowgate::config::{Config, LocalStore};

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
        /// Where the SQLite store lives; created (mode 0700) if missing [env: SNOWGATE_DATA_DIR,
        /// default ./snowgate-data]. Delete it to start afresh.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// `sqlite` keeps users, keys, roles, policies and sessions in the data directory; `memory`
        /// forgets them at exit [env: SNOWGATE_STORE, default sqlite]. SNOWGATE_TABLE (DynamoDB)
        /// overrides both.
        #[arg(long, value_name = "sqlite|memory")]
        store: Option<LocalStore>,
    },
    /// Make an RSA key pair for key-pair login.
    ///
    /// The private key goes to a Secrets Manager secret and/or a new 0600 file, never to the
    /// screen; stdout shows the public key, its fingerprint and optionally the ALTER USER statement.
    Keygen(snowgate::keygen::Args),
}

#[tokio::main]
async fn main() -> ExitCode {
    return_large_buffers_to_the_system();
    let in_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let cli = if in_lambda {
        Cli { command: None }
    } else {
        Cli::parse()
    };
    snowgate::logging::init(in_lambda);
    let (listen, data_dir, store) = match cli.command {
        // A one-shot tool: no server, no SNOWGATE_* configuration.
        Some(Command::Keygen(args)) => return keygen(&args).await,
        Some(Command::Serve {
            listen,
            data_dir,
            store,
        }) => (listen, data_dir, store),
        None => (None, None, None),
    };
    let mut config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            return ExitCode::FAILURE;
        }
    };
    config.data_dir = data_dir.unwrap_or(config.data_dir);
    // Before the start-up checks, which look at the address served.
    config.listen = listen.unwrap_or(config.listen);
    config.local_store = store.unwrap_or(config.local_store);
    if in_lambda {
        // A Lambda instance's disk is its own and short-lived: a file there would split the directory
        // between instances and vanish with them.
        config.local_store = LocalStore::Memory;
    }
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
        snowgate::entrypoints::local::serve(app, config.listen, config.server)
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

/// Large allocations (argon2's 19 MiB block buffers, one per hashing thread while logins arrive)
/// get a mapping of their own, given back to the system when freed. glibc otherwise raises its
/// mapping threshold after the first such buffer is freed, and the next ones come from the heap and
/// stay in the process for good: an idle server kept 30 MiB instead of 10.
fn return_large_buffers_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt sets one of the allocator's parameters; it touches no memory of ours and is
    // safe to call from any thread at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
