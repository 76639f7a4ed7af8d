//! The domain: users, sessions, tokens and the query context. Free of HTTP and AWS types; it talks to
//! storage and secrets only through their traits.

pub mod activity;
pub mod admin;
pub mod attempts;
pub mod audit;
pub mod authentication_policies;
pub mod directory;
pub mod gatekeeper;
pub mod ident;
pub mod jwks;
pub mod keys;
pub mod login;
pub mod login_history;
pub mod login_input;
mod login_log;
pub mod mfa;
pub mod oauth_login;
pub mod parameters;
pub mod password_rules;
pub mod passwords;
pub mod pats;
pub mod policies;
pub mod query;
pub mod refusals;
pub mod secret_source;
pub mod security_integrations;
pub mod session;
pub mod session_statements;
pub mod statement;
pub mod storage;
pub mod tokens;
mod verified;
pub mod wif_aws;
mod wif_login;
pub mod workload_identity;
pub mod workload_login;

pub use gatekeeper::{Clock, Gatekeeper, Settings};

/// The version `CURRENT_VERSION()` and the login response report.
pub const SERVER_VERSION: &str = "9.0.0";
