//! The domain: users, sessions, tokens and the query context. Free of HTTP and AWS types; it talks to
//! storage and secrets only through their traits.

pub mod activity;
pub mod admin;
pub mod attempts;
pub mod audit;
pub mod authentication_policies;
pub mod credentials;
pub mod directory;
pub mod gatekeeper;
pub mod ident;
pub mod login;
pub mod login_history;
pub mod login_input;
mod login_log;
pub mod oauth_login;
pub mod parameters;
pub mod password_rules;
pub mod policies;
pub mod ports;
pub mod query;
pub mod refusals;
pub mod security_integrations;
pub mod session;
pub mod session_statements;
pub mod statement;
pub mod tokens;
mod verified;
pub mod wif_aws;
mod wif_login;
pub mod workload_login;

pub use gatekeeper::{Clock, Gatekeeper, Settings};

// The paths modules had before they moved into folders by capability, kept for tests, benches and
// examples.
pub use credentials::rsa_keys as keys;
pub use credentials::totp as mfa;
pub use credentials::{jwks, passwords, pats, workload_identity};
pub use ports::secrets as secret_source;
pub use ports::storage;

/// The version `CURRENT_VERSION()` and the login response report.
pub const SERVER_VERSION: &str = "9.0.0";
