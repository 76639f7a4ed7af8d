//! Limits on every string of a login request that snowgate keeps, echoes or logs. Real drivers stay
//! far below them; past one the request is refused with 390400 naming the field and the limit, never
//! the value (it may be a password or a forged log line).

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::{ContextNames, LoginData, LoginParams};
use crate::error::{Error, Result};

/// Identifiers: Snowflake allows 255 characters, of up to 4 bytes each.
pub const MAX_NAME_BYTES: usize = 1024;
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// A key-pair JWT signed with a 4096-bit key is about 1 KB.
pub const MAX_TOKEN_BYTES: usize = 8192;
/// A TOTP passcode is 6 digits; anything much longer is refused before it is looked at.
pub const MAX_PASSCODE_BYTES: usize = 64;
pub const MAX_CLIENT_APP_BYTES: usize = 256;
pub const MAX_AUTHENTICATOR_BYTES: usize = 256;
pub const MAX_REQUEST_ID_BYTES: usize = 256;
/// CLIENT_ENVIRONMENT as JSON text; drivers send about 1 KB.
pub const MAX_CLIENT_ENVIRONMENT_BYTES: usize = 16 * 1024;

/// Refuses `value` longer than `limit` bytes.
pub fn check_len(field: &str, value: Option<&str>, limit: usize) -> Result<()> {
    match value {
        Some(v) if v.len() > limit => Err(Error::BadRequest(format!(
            "{field} exceeds the limit of {limit} bytes."
        ))),
        _ => Ok(()),
    }
}

fn secret(value: &Option<SecretString>) -> Option<&str> {
    value.as_ref().map(|s| s.expose_secret())
}

impl LoginData {
    pub fn check_limits(&self) -> Result<()> {
        let names = [
            ("ACCOUNT_NAME", &self.account_name),
            ("LOGIN_NAME", &self.login_name),
        ];
        for (field, value) in names {
            check_len(field, value.as_deref(), MAX_NAME_BYTES)?;
        }
        self.context.check_limits()?;
        check_len("PASSWORD", secret(&self.password), MAX_PASSWORD_BYTES)?;
        check_len("TOKEN", secret(&self.token), MAX_TOKEN_BYTES)?;
        check_len("PASSCODE", secret(&self.passcode), MAX_PASSCODE_BYTES)?;
        let client = [
            (
                "AUTHENTICATOR",
                &self.authenticator,
                MAX_AUTHENTICATOR_BYTES,
            ),
            (
                "EXT_AUTHN_DUO_METHOD",
                &self.ext_authn_duo_method,
                MAX_AUTHENTICATOR_BYTES,
            ),
            ("CLIENT_APP_ID", &self.client_app_id, MAX_CLIENT_APP_BYTES),
            ("PROVIDER", &self.provider, MAX_AUTHENTICATOR_BYTES),
            (
                "CLIENT_APP_VERSION",
                &self.client_app_version,
                MAX_CLIENT_APP_BYTES,
            ),
        ];
        for (field, value, limit) in client {
            check_len(field, value.as_deref(), limit)?;
        }
        check_environment(self.client_environment.as_ref())
    }
}

fn check_environment(env: Option<&Value>) -> Result<()> {
    let Some(env) = env else { return Ok(()) };
    // Serialising stops early once past the limit would be nicer, but the body limit already bounds
    // this to one linear pass.
    let len = serde_json::to_vec(env).map_or(usize::MAX, |v| v.len());
    if len > MAX_CLIENT_ENVIRONMENT_BYTES {
        return Err(Error::BadRequest(format!(
            "CLIENT_ENVIRONMENT exceeds the limit of {MAX_CLIENT_ENVIRONMENT_BYTES} bytes."
        )));
    }
    Ok(())
}

impl ContextNames {
    pub fn check_limits(&self) -> Result<()> {
        let names = [
            ("databaseName", &self.database_name),
            ("schemaName", &self.schema_name),
            ("warehouse", &self.warehouse),
            ("roleName", &self.role_name),
        ];
        for (field, value) in names {
            check_len(field, value.as_deref(), MAX_NAME_BYTES)?;
        }
        Ok(())
    }
}

impl LoginParams {
    pub fn check_limits(&self) -> Result<()> {
        self.context.check_limits()?;
        check_len("request_id", self.request_id(), MAX_REQUEST_ID_BYTES)
    }
}
