//! snowgate: a Snowflake-compatible authentication service. `docs/architecture.md` has the map;
//! [`app()`] builds the one router that both front doors serve.

pub mod app;
pub mod aws;
pub mod domain;
pub mod entrypoints;
pub mod error;
pub mod http;
pub mod logging;
pub mod outbound;
pub mod secrets;
pub mod snowflake;
pub mod sql;
pub mod store;

use axum::Router;

/// The composition root's former paths, kept for main.rs, tests, benches and fuzz targets.
pub use app::state::{StartupError, build_state, local_state, state_with};
pub use app::{config, keygen};
pub use error::{Error, Result};
pub use http::AppState;
/// The adapters' former paths, kept for tests, benches and fuzz targets.
pub use outbound::{jwks as jwks_http, sts};

/// The router, with every route and layer, over the given state.
/// Wiring: the domain runs statements through the SQL front end of [`sql`] (the domain itself never
/// imports it), given here to the gatekeeper of every router.
pub fn app(state: AppState) -> Router {
    state.gate.set_front_end(std::sync::Arc::new(sql::FrontEnd));
    http::router(state)
}

/// The router with the configured request-line and header limits.
pub fn app_with(state: AppState, wire: http::WireLimits) -> Router {
    state.gate.set_front_end(std::sync::Arc::new(sql::FrontEnd));
    http::router_with(state, wire)
}
