//! What a driver asked for at login, as the domain sees it: the handlers fill it from the wire
//! format, and every login method reads it.

use std::net::IpAddr;

use secrecy::SecretString;
use serde_json::Value;

use super::pick::{Asked, Picked, pick};

/// What a driver asked for at login, already taken out of the wire format.
#[derive(Debug, Default)]
pub struct LoginInput {
    pub account: Option<String>,
    pub login_name: Option<String>,
    pub password: Option<SecretString>,
    /// The key-pair JWT (`AUTHENTICATOR=SNOWFLAKE_JWT`) or the programmatic access token
    /// (`AUTHENTICATOR=PROGRAMMATIC_ACCESS_TOKEN`).
    pub token: Option<SecretString>,
    pub authenticator: Option<String>,
    /// `PROVIDER` of a workload identity login.
    pub provider: Option<String>,
    /// `CLIENT_ENVIRONMENT.OAUTH_TYPE` was sent: with a TOKEN and no PASSWORD, an OAuth login even
    /// without AUTHENTICATOR (the Go driver's OAuth flows).
    pub oauth_flow: bool,
    pub client_app: Option<String>,
    pub client_version: Option<String>,
    /// `CLIENT_ENVIRONMENT.APPLICATION` (bounded): tells the Snowflake CLI from the connector.
    pub application: Option<String>,
    pub database: Option<String>,
    pub schema: Option<String>,
    pub warehouse: Option<String>,
    pub role: Option<String>,
    /// `SESSION_PARAMETERS` as sent; echoed back like Snowflake does.
    pub session_parameters: Vec<(String, Value)>,
    /// The host the client connected to, recorded in its tokens.
    pub host: Option<String>,
    pub client_ip: Option<IpAddr>,
    /// The driver's request id: its retries of one login share it, so they count as one failure.
    pub request_id: Option<String>,
    /// What the login says about a second factor.
    pub mfa: crate::domain::credentials::totp::MfaInput,
}

impl LoginInput {
    /// The login method this login asks for ([`pick`]), or the refusal of its AUTHENTICATOR.
    pub fn picked(&self) -> crate::error::Result<Picked> {
        pick(&Asked {
            authenticator: self.authenticator.as_deref(),
            provider: self.provider.as_deref(),
            oauth_flow: self.oauth_flow,
            token: self.token.is_some(),
            password: self.password.is_some(),
        })
    }

    /// Whether the credential names the user (External OAuth, workload identity): LOGIN_NAME is
    /// then only what the client typed, never the name to audit.
    pub fn credential_names_user(&self) -> bool {
        self.picked().is_ok_and(Picked::credential_names_user)
    }

    /// The user this login names: LOGIN_NAME, else the subject of a key-pair JWT. `None` for logins
    /// that find their user otherwise (OAuth, workload identity).
    pub fn named_user(&self, now: u64) -> Option<String> {
        if self.credential_names_user() {
            return None;
        }
        let typed = self.login_name.as_deref().map(str::trim);
        if let Some(name) = typed.filter(|n| !n.is_empty()) {
            return Some(name.to_string());
        }
        let jwt = matches!(self.picked(), Ok(Picked::KeyPair));
        let token = self.token.as_ref().filter(|_| jwt)?;
        crate::domain::credentials::rsa_keys::claimed_identity(
            secrecy::ExposeSecret::expose_secret(token),
            now,
        )
        .map(|id| id.user)
    }
}
