//! snowgate: a Snowflake-compatible authentication service. See `shared/docs/architecture.md` for the
//! map; [`app`] builds the one router that both front doors serve.

pub mod config;
pub mod domain;
pub mod entrypoints;
pub mod error;
pub mod http;
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
use secrets::{SecretSource, StaticSecrets};
use store::SessionStore;
use store::memory::MemoryStore;

/// The router, with every route and layer, over the given state.
pub fn app(state: AppState) -> Router {
    http::router(state)
}

/// State from configuration alone: in-memory sessions and secrets from the environment.
pub fn local_state(config: &Config) -> AppState {
    let jwt_secret = config.jwt_secret.clone().unwrap_or_else(|| {
        tracing::warn!(
            "JWT_SECRET is not set: using a random secret for this process; tokens will not survive a restart"
        );
        random_secret()
    });
    let secrets = StaticSecrets::new(
        &jwt_secret,
        config.demo_user.clone(),
        config.demo_password.clone(),
    );
    state_with(Arc::new(MemoryStore::new()), Arc::new(secrets), config)
}

/// State over any store and secret source.
pub fn state_with(
    store: Arc<dyn SessionStore>,
    secrets: Arc<dyn SecretSource>,
    config: &Config,
) -> AppState {
    AppState {
        gate: Arc::new(Gatekeeper::new(
            store,
            secrets,
            config.settings,
            system_clock(),
        )),
        body_limit: config.body_limit,
    }
}

fn random_secret() -> SecretString {
    let bytes: [u8; 32] = rand::random();
    SecretString::from(base64::engine::general_purpose::STANDARD.encode(bytes))
}
