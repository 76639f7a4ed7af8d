//! Start-up: the state every request shares, built once per cold start from the configuration
//! (stores, secrets, the token secret file of the data directory, the outbound clients).

use std::sync::Arc;

use base64::Engine;
use secrecy::SecretString;

use super::config::{self, Config, LocalStore};
use crate::domain::Gatekeeper;
use crate::domain::gatekeeper::system_clock;
use crate::http::AppState;
use crate::secrets::manager::SecretsManagerSource;
use crate::secrets::{SecretSource, StaticSecrets};
use crate::store::Store;
use crate::store::dynamo::DynamoStore;
use crate::store::memory::MemoryStore;
use crate::store::sqlite::SqliteStore;
use crate::{aws, domain, outbound, secrets, store};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Secret(#[from] secrets::manager::SecretError),
    #[error("DynamoDB table {table} is not usable: {source}")]
    Table {
        table: String,
        source: store::StoreError,
    },
    #[error("the data directory {dir} is not usable: {source}")]
    DataDir {
        dir: String,
        source: store::StoreError,
    },
    /// [`Config::default_password_refusal`]'s reason.
    #[error("refusing to start: {0}")]
    DefaultPassword(String),
}

/// Stops the start when the demo password in force (the environment's, or the secret's once
/// loaded) is the built-in one where others could log in with it.
fn check_demo_password(
    config: &Config,
    password: &SecretString,
) -> std::result::Result<(), StartupError> {
    match config.default_password_refusal(password) {
        Some(why) => Err(StartupError::DefaultPassword(why)),
        None => Ok(()),
    }
}

/// State for the configuration: DynamoDB when `SNOWGATE_TABLE` is set, else the local store (SQLite
/// in the data directory, or memory); Secrets Manager secrets when `SNOWGATE_SECRET_ID` is set, the
/// embedded defaults otherwise. AWS clients are built, the secret loaded and the store opened here,
/// once per cold start.
pub async fn build_state(config: &Config) -> std::result::Result<AppState, StartupError> {
    // The environment's password is known now: refused before any AWS call.
    if config.secret_id.is_none() {
        check_demo_password(config, &config.demo_password)?;
    }
    if config.table.is_none() && config.secret_id.is_none() {
        let store = local_store(config).await?;
        let secrets = match (&config.jwt_secret, config.local_store) {
            // A durable store keeps sessions across restarts, so its tokens must verify after one.
            (None, LocalStore::Sqlite) => {
                let secret =
                    data_dir_secret(&config.data_dir).map_err(|e| StartupError::DataDir {
                        dir: config.data_dir.display().to_string(),
                        source: store::StoreError::Fault(format!("token secret file: {e}")),
                    })?;
                StaticSecrets::new(
                    &secret,
                    config.demo_user.clone(),
                    config.demo_password.clone(),
                )
            }
            _ => env_secrets(config),
        };
        return Ok(state_with(store, Arc::new(secrets), config));
    }
    let sdk = aws::sdk_config().await;
    // Two services, two new connections: made together, a cold start waits for the slower one
    // instead of both in turn.
    let (secrets, store) = tokio::try_join!(aws_secrets(config, &sdk), aws_store(config, &sdk))?;
    check_demo_password(config, &secrets.current().demo_password)?;
    // The demo user is seeded by the first login or per-request authorization
    // (`DemoSeeder::ensure`), not here: a cold start's first answer shares the CPU with no argon2.
    Ok(state_with(store, secrets, config))
}

/// Secrets Manager's secret when `SNOWGATE_SECRET_ID` is set, loaded now; the environment's otherwise.
async fn aws_secrets(
    config: &Config,
    sdk: &aws_config::SdkConfig,
) -> std::result::Result<Arc<dyn SecretSource>, StartupError> {
    Ok(match &config.secret_id {
        Some(id) => {
            let client = aws_sdk_secretsmanager::Client::new(sdk);
            Arc::new(SecretsManagerSource::load(client, id, config.secret_refresh).await?)
        }
        None => Arc::new(env_secrets(config)),
    })
}

/// DynamoDB when `SNOWGATE_TABLE` is set, checked (and its connection opened) now; the local store
/// otherwise.
async fn aws_store(
    config: &Config,
    sdk: &aws_config::SdkConfig,
) -> std::result::Result<Arc<dyn Store>, StartupError> {
    let Some(table) = &config.table else {
        return local_store(config).await;
    };
    let dynamo = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), table);
    dynamo
        .warm_up()
        .await
        .map_err(|source| StartupError::Table {
            table: table.clone(),
            source,
        })?;
    Ok(Arc::new(dynamo))
}

/// The store of a server without a DynamoDB table, as `SNOWGATE_STORE` chooses.
async fn local_store(config: &Config) -> std::result::Result<Arc<dyn Store>, StartupError> {
    match config.local_store {
        LocalStore::Memory => {
            tracing::info!("in-memory store: users, keys and sessions are forgotten at exit");
            Ok(Arc::new(MemoryStore::new()))
        }
        LocalStore::Sqlite => {
            let store = SqliteStore::open(&config.data_dir)
                .await
                .map_err(|source| StartupError::DataDir {
                    dir: config.data_dir.display().to_string(),
                    source,
                })?;
            tracing::info!(database = %store.path().display(), "SQLite store");
            Ok(Arc::new(store))
        }
    }
}

/// State from configuration alone: in-memory sessions and secrets from the environment.
pub fn local_state(config: &Config) -> AppState {
    state_with(
        Arc::new(MemoryStore::new()),
        Arc::new(env_secrets(config)),
        config,
    )
}

/// The token secret kept in the data directory (`jwt-secret`, mode 0600), made on first use. Never
/// logged; the file holds nothing else.
fn data_dir_secret(dir: &std::path::Path) -> std::io::Result<SecretString> {
    use std::io::Write;
    let path = dir.join("jwt-secret");
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() >= 32 => {
            return Ok(SecretString::from(text.trim().to_string()));
        }
        Ok(_) => {
            return Err(std::io::Error::other(format!(
                "{} holds fewer than 32 bytes",
                path.display()
            )));
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    let secret = random_secret();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path)?;
    file.write_all(secrecy::ExposeSecret::expose_secret(&secret).as_bytes())?;
    file.sync_all()?;
    tracing::info!(file = %path.display(), "token secret created in the data directory");
    Ok(secret)
}

fn env_secrets(config: &Config) -> StaticSecrets {
    let jwt_secret = config.jwt_secret.clone().unwrap_or_else(|| {
        tracing::warn!(
            "JWT_SECRET is not set: using a random secret for this process; tokens will not survive a restart"
        );
        random_secret()
    });
    StaticSecrets::new(
        &jwt_secret,
        config.demo_user.clone(),
        config.demo_password.clone(),
    )
}

/// State over any store and secret source.
pub fn state_with(
    store: Arc<dyn Store>,
    secrets: Arc<dyn SecretSource>,
    config: &Config,
) -> AppState {
    let gate = Gatekeeper::new(
        store,
        Arc::clone(&secrets),
        config.settings.clone(),
        system_clock(),
    );
    let extra_ca = config.extra_ca_file.clone();
    let allow_private = config.allow_private_issuers;
    // Checked when the configuration was read; if it fails now, OIDC and OAuth logins are refused.
    let fetcher = outbound::Lazy::new(move || {
        outbound::jwks::HttpsJwksFetcher::new(extra_ca.as_deref(), allow_private)
    });
    gate.set_jwks(Arc::new(domain::jwks::JwksCache::new(fetcher)));
    if let Some(settings) = config.upstream.clone() {
        let opens_sessions = matches!(settings.mode, outbound::engine::EngineMode::Login { .. });
        let secrets = Arc::clone(&secrets);
        let engine = outbound::Lazy::new(move || {
            outbound::engine::HttpEngine::new(settings.clone())
                .map(|e| e.with_secrets(Arc::clone(&secrets)))
        });
        gate.set_engine(Arc::new(outbound::LazyEngine {
            opens_sessions,
            engine,
        }));
    }
    AppState {
        gate: Arc::new(with_sts(gate, config)),
        body_limit: config.body_limit,
        trusted_proxies: Arc::new(config.trusted_proxies.clone()),
        statements: Default::default(),
    }
}

/// The STS client of workload identity logins; without TLS roots, such logins answer "unavailable".
fn with_sts(gate: Gatekeeper, config: &Config) -> Gatekeeper {
    let endpoint = config.sts_endpoint.clone();
    let host = endpoint
        .as_deref()
        .and_then(config::endpoint_host)
        .map(str::to_string);
    let client = outbound::Lazy::new(move || {
        outbound::sts::Sts::new(endpoint.clone()).map_err(|e| e.to_string())
    });
    gate.with_sts(client, host)
}

fn random_secret() -> SecretString {
    let bytes: [u8; 32] = rand::random();
    SecretString::from(base64::engine::general_purpose::STANDARD.encode(bytes))
}
