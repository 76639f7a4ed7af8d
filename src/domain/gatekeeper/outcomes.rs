//! What the gatekeeper answers a login and a renewal with: domain types the handlers turn into the
//! wire's.

use serde_json::Value;

use crate::domain::policy::AuthMethod;
use crate::domain::session::Session;

#[derive(Debug)]
pub struct LoginOutcome {
    /// The method whose credentials succeeded (a PAT given as a password counts as a PAT).
    pub method: AuthMethod,
    pub session: Session,
    pub session_token: String,
    pub master_token: String,
    pub session_ttl: u64,
    /// `masterValidityInSeconds`: the idle limit (drivers derive their keep-alive heartbeat from
    /// it), or the master token's lifetime if shorter.
    pub master_ttl: u64,
    pub parameters: Vec<(String, Value)>,
    /// A new cached MFA token (`data.mfaToken`), when the login asked for one and may have it.
    pub mfa_token: Option<String>,
}

#[derive(Debug)]
pub struct Renewed {
    pub session: Session,
    pub session_token: String,
    pub session_ttl: u64,
    /// Seconds left on the (echoed) master token.
    pub master_ttl_left: u64,
    /// `masterValidityInSeconds`: the idle limit, or the master token's time left if shorter.
    pub master_validity: u64,
}
