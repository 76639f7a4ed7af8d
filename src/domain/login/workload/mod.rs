//! `AUTHENTICATOR=WORKLOAD_IDENTITY` logins, by their PROVIDER: `OIDC` ([`oidc`]) and `AWS`
//! ([`aws`], with the attestation checks in [`attestation`]). Every refusal is the same answer;
//! the reason goes to the log only, never the token.

pub mod attestation;
pub mod aws;
pub mod oidc;

use crate::error::Error;

pub(in crate::domain) fn refused(why: &str) -> Error {
    tracing::info!(reason = why, "workload identity login refused");
    Error::InvalidWorkloadIdentity
}
