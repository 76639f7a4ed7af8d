//! Configuration from the environment, read and validated once at start-up. With nothing set, snowgate
//! runs on embedded defaults: the demo user `embucket`/`embucket`, in-memory sessions, and a random
//! per-process JWT secret.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;
use thiserror::Error;

use crate::domain::Settings;
use crate::domain::ident::account_name;
use crate::domain::tokens::MIN_SECRET_BYTES;
use crate::http::DEFAULT_BODY_LIMIT;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, Error)]
pub enum ConfigError {
    /// Names the variable, never its value (it may be a secret).
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

pub struct Config {
    pub listen: SocketAddr,
    pub settings: Settings,
    pub demo_user: String,
    pub demo_password: SecretString,
    /// `None` means: generate a random secret for this process.
    pub jwt_secret: Option<SecretString>,
    pub body_limit: usize,
    /// DynamoDB table for sessions; `None` keeps them in memory.
    pub table: Option<String>,
    /// Secrets Manager secret with `jwt_secret`, `demo_user`, `demo_password`; `None` uses the
    /// variables above.
    pub secret_id: Option<String>,
    pub secret_refresh: Duration,
    /// Proxies whose `X-Forwarded-For` header is believed; empty means none.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let defaults = Settings::default();
        let settings = Settings {
            session_ttl: number(&get, "SNOWGATE_TOKEN_TTL_SECONDS", defaults.session_ttl)?,
            master_ttl: number(
                &get,
                "SNOWGATE_MASTER_TOKEN_TTL_SECONDS",
                defaults.master_ttl,
            )?,
            account: account_pin(get("SNOWGATE_ACCOUNT"))?,
        };
        if settings.session_ttl == 0 || settings.master_ttl == 0 {
            return Err(ConfigError::Invalid {
                name: "SNOWGATE_TOKEN_TTL_SECONDS",
                reason: "token lifetimes must be at least one second".into(),
            });
        }
        let listen = get("SNOWGATE_LISTEN")
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string())
            .parse()
            .map_err(|e| ConfigError::Invalid {
                name: "SNOWGATE_LISTEN",
                reason: format!("{e} (expected HOST:PORT)"),
            })?;
        let trusted_proxies = get("SNOWGATE_TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| {
                crate::domain::directory::NetworkPolicy::parse_entry(e).map_err(|reason| {
                    ConfigError::Invalid {
                        name: "SNOWGATE_TRUSTED_PROXIES",
                        reason,
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            trusted_proxies,
            listen,
            settings,
            demo_user: get("AUTH_DEMO_USER").unwrap_or_else(|| "embucket".into()),
            demo_password: SecretString::from(
                get("AUTH_DEMO_PASSWORD").unwrap_or_else(|| "embucket".into()),
            ),
            // Ignored (so not checked) when the secret comes from Secrets Manager.
            jwt_secret: match get("SNOWGATE_SECRET_ID") {
                Some(_) => None,
                None => jwt_secret(get("JWT_SECRET"))?,
            },
            body_limit: number(&get, "SNOWGATE_MAX_BODY_BYTES", DEFAULT_BODY_LIMIT as u64)?
                as usize,
            table: get("SNOWGATE_TABLE"),
            secret_id: get("SNOWGATE_SECRET_ID"),
            secret_refresh: Duration::from_secs(number(
                &get,
                "SNOWGATE_SECRET_REFRESH_SECONDS",
                300,
            )?),
        })
    }
}

/// `SNOWGATE_ACCOUNT`, normalised as drivers' account names are (`myorg-acct.us-east-1` →
/// `MYORG-ACCT`).
fn account_pin(raw: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(raw) = raw else { return Ok(None) };
    let account = account_name(&raw);
    if account.is_empty() || account.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ConfigError::Invalid {
            name: "SNOWGATE_ACCOUNT",
            reason: "expected an account name such as MYORG-MYACCOUNT".into(),
        });
    }
    Ok(Some(account))
}

/// `JWT_SECRET`, refused when shorter than [`MIN_SECRET_BYTES`]; the message never shows the value.
fn jwt_secret(raw: Option<String>) -> Result<Option<SecretString>, ConfigError> {
    match raw {
        Some(secret) if secret.len() < MIN_SECRET_BYTES => Err(ConfigError::Invalid {
            name: "JWT_SECRET",
            reason: format!(
                "it must be at least {MIN_SECRET_BYTES} bytes long (it signs every token); \
                 generate one with `openssl rand -base64 48`"
            ),
        }),
        other => Ok(other.map(SecretString::from)),
    }
}

fn number(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e| ConfigError::Invalid {
            name,
            reason: format!("{e} (expected a whole number)"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn defaults_and_overrides() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.settings.session_ttl, 259_200);
        assert_eq!(c.settings.master_ttl, 604_800);
        assert_eq!(c.demo_user, "embucket");
        assert_eq!(c.demo_password.expose_secret(), "embucket");
        assert!(c.jwt_secret.is_none());

        let c = Config::from_lookup(|k| match k {
            "SNOWGATE_TOKEN_TTL_SECONDS" => Some("2".into()),
            "SNOWGATE_LISTEN" => Some("0.0.0.0:9999".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.settings.session_ttl, 2);
        assert_eq!(c.listen.port(), 9999);
    }

    #[test]
    fn short_jwt_secrets_are_refused_without_showing_them() {
        for short in ["x", "a-31-byte-secret-is-too-short!!"] {
            assert!(short.len() < 32);
            let err = Config::from_lookup(|k| (k == "JWT_SECRET").then(|| short.into()))
                .err()
                .unwrap()
                .to_string();
            assert!(
                err.contains("JWT_SECRET") && err.contains("32 bytes"),
                "{err}"
            );
            assert!(!err.contains(short), "{err}");
        }
        let long = "k".repeat(32);
        let c = Config::from_lookup(|k| (k == "JWT_SECRET").then(|| long.clone())).unwrap();
        assert_eq!(c.jwt_secret.unwrap().expose_secret(), long);
    }

    #[test]
    fn the_account_pin_is_normalised_and_optional() {
        assert_eq!(
            Config::from_lookup(|_| None).unwrap().settings.account,
            None
        );
        let c = Config::from_lookup(|k| {
            (k == "SNOWGATE_ACCOUNT").then(|| "myOrg-acct.us-east-1".into())
        })
        .unwrap();
        assert_eq!(c.settings.account.as_deref(), Some("MYORG-ACCT"));
        let err = Config::from_lookup(|k| (k == "SNOWGATE_ACCOUNT").then(|| ".eu".into()))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("SNOWGATE_ACCOUNT"), "{err}");
    }

    #[test]
    fn errors_name_the_variable_not_the_value() {
        let err =
            Config::from_lookup(|k| (k == "SNOWGATE_TOKEN_TTL_SECONDS").then(|| "soon".into()))
                .err()
                .unwrap()
                .to_string();
        assert!(err.contains("SNOWGATE_TOKEN_TTL_SECONDS"), "{err}");
        assert!(!err.contains("soon"), "{err}");
    }
}
