//! snowgate: a Snowflake-compatible authentication service. See `shared/docs/architecture.md` for the
//! map; [`app`] builds the one router that both front doors serve.

pub mod aws;
pub mod config;
pub mod domain;
pub mod entrypoints;
pub mod error;
pub mod http;
pub mod keygen;
pub mod logging;
pub mod secrets;
pub mod snowflake;
pub mod sql;
pub mod store;

use std::sync::Arc;

use axum::Router;
use base64::Engine;
use secrecy::SecretString;

pub use error::{Error, Result};
pub use http::AppState;

use config::Config;
use domain::Gatekeeper;
use domain::gatekeeper::system_clock;
use secrets::manager::SecretsManagerSource;
use secrets::{SecretSource, StaticSecrets};
use store::Store;
use store::dynamo::DynamoStore;
use store::memory::MemoryStore;

/// The router, with every route and layer, over the given state.
pub fn app(state: AppState) -> Router {
    http::router(state)
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Secret(#[from] secrets::manager::SecretError),
    #[error("DynamoDB table {table} is not usable: {source}")]
    Table {
        table: String,
        source: store::StoreError,
    },
}

/// State for the configuration: DynamoDB sessions when `SNOWGATE_TABLE` is set, Secrets Manager
/// secrets when `SNOWGATE_SECRET_ID` is set, the embedded defaults otherwise. AWS clients are built,
/// the secret loaded and the DynamoDB connection opened here, once per cold start.
pub async fn build_state(config: &Config) -> std::result::Result<AppState, StartupError> {
    if config.table.is_none() && config.secret_id.is_none() {
        return Ok(local_state(config));
    }
    let sdk = aws::sdk_config().await;
    let secrets: Arc<dyn SecretSource> = match &config.secret_id {
        Some(id) => {
            let client = aws_sdk_secretsmanager::Client::new(&sdk);
            Arc::new(SecretsManagerSource::load(client, id, config.secret_refresh).await?)
        }
        None => Arc::new(env_secrets(config)),
    };
    let store: Arc<dyn Store> = match &config.table {
        Some(table) => {
            let dynamo = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table);
            dynamo
                .warm_up()
                .await
                .map_err(|source| StartupError::Table {
                    table: table.clone(),
                    source,
                })?;
            Arc::new(dynamo)
        }
        None => Arc::new(MemoryStore::new()),
    };
    Ok(state_with(store, secrets, config))
}

/// State from configuration alone: in-memory sessions and secrets from the environment.
pub fn local_state(config: &Config) -> AppState {
    state_with(
        Arc::new(MemoryStore::new()),
        Arc::new(env_secrets(config)),
        config,
    )
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
    AppState {
        gate: Arc::new(Gatekeeper::new(
            store,
            secrets,
            config.settings.clone(),
            system_clock(),
        )),
        body_limit: config.body_limit,
        trusted_proxies: Arc::new(config.trusted_proxies.clone()),
    }
}

fn random_secret() -> SecretString {
    let bytes: [u8; 32] = rand::random();
    SecretString::from(base64::engine::general_purpose::STANDARD.encode(bytes))
}
