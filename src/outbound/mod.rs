//! The outbound HTTPS adapters: the domain's ports toward other services, each client built on
//! first use ([`Lazy`]). `sts.rs` replays workload identity attestations to AWS STS; `jwks.rs`
//! fetches issuers' key sets for OIDC and OAuth logins; `engine.rs` is the query engine behind
//! snowgate (built at start-up when one is configured).

pub mod engine;
pub mod jwks;
pub mod lazy;
pub mod sts;

pub use lazy::{Lazy, LazyEngine};
