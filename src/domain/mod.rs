//! The domain: users, sessions, tokens and the query context. Free of HTTP and AWS types; it talks to
//! storage and secrets only through their traits.

pub mod access;
pub mod admin;
pub mod audit;
pub mod credentials;
pub mod directory;
pub mod gatekeeper;
pub mod ident;
pub mod login;
pub mod policy;
pub mod ports;
pub mod query;
pub mod session;
pub mod settings;

pub use gatekeeper::Gatekeeper;
pub use settings::{Clock, Settings};

// The paths modules had before they moved into folders by capability, kept for tests, benches and
// examples.
pub use credentials::rsa_keys as keys;
pub use credentials::totp as mfa;
pub use credentials::{jwks, passwords, pats, workload_identity};
pub use directory::security_integrations;
pub use login::input as login_input;
pub use login::oauth as oauth_login;
pub use login::workload as workload_login;
pub use login::workload::attestation as wif_aws;
pub use login::{attempts, refusals};
pub use policy as policies;
pub use policy::authentication as authentication_policies;
pub use policy::password as password_rules;
pub use ports::secrets as secret_source;
pub use ports::storage;
pub use query::context as session_statements;
pub use query::{login_history, statement};
pub use session::{activity, parameters, tokens};

/// The version `CURRENT_VERSION()` and the login response report.
pub const SERVER_VERSION: &str = "9.0.0";
