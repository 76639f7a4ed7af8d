//! What every login method is: an [`Authenticator`] proving the credential of a [`LoginCx`].

use std::sync::{Arc, OnceLock};

use crate::domain::credentials::jwks::JwksCache;
use crate::domain::directory::LoginReads;
use crate::domain::login::input::LoginInput;
use crate::domain::login::verified::Verified;
use crate::error::Result;

/// What one login offers and what it read up front.
pub struct LoginCx<'a> {
    pub input: &'a LoginInput,
    /// The account's settings, the named user and their failures, and the policies that govern
    /// the login, read in one batch before any method runs.
    pub reads: &'a LoginReads,
    pub now: u64,
}

/// One login method: proves the credential a login offers, or refuses it with the method's one
/// answer. Runs the shared steps of `login/checks.rs` and `login/lockout.rs` in the order of this module's doc.
///
/// Each is built over a store and the steps it takes, so it can be tried alone over the memory store
/// (`tests/authenticators.rs`). (Spelled with `impl Future + Send` rather than `async fn`, so that
/// every method's login is known to be `Send` wherever it is awaited.)
pub trait Authenticator: Send + Sync {
    fn verify(&self, cx: &LoginCx<'_>) -> impl Future<Output = Result<Verified>> + Send;
}

/// Issuers' key sets, shared by the methods that verify third-party JWTs; set once at start-up.
pub type JwksSlot = Arc<OnceLock<Arc<JwksCache>>>;
