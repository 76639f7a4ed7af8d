//! The outbound HTTPS adapters: the domain's ports toward other services, each client built on
//! first use ([`Lazy`]). `sts.rs` replays workload identity attestations to AWS STS; `jwks.rs`
//! fetches issuers' key sets for OIDC and OAuth logins.

pub mod jwks;
pub mod lazy;
pub mod sts;

pub use lazy::Lazy;
