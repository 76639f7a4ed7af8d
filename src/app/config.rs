//! Configuration from the environment, read and validated once at start-up. With nothing set, snowgate
//! runs on embedded defaults: the demo user `embucket`/`embucket`, a SQLite store in `./snowgate-data`,
//! and a random per-process JWT secret.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;
use thiserror::Error;

use crate::domain::Settings;
use crate::domain::ident::account_name;
use crate::domain::tokens::MIN_SECRET_BYTES;
use crate::entrypoints::local::ServerLimits;
use crate::http::{DEFAULT_BODY_LIMIT, WireLimits};
use crate::outbound::engine::{EngineMode, EngineSettings};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The demo user's built-in password: refused at start where anyone but this machine could use it
/// ([`Config::default_password_refusal`]).
pub const DEFAULT_DEMO_PASSWORD: &str = "embucket";
/// Where `snowgate serve` keeps its SQLite database unless told otherwise.
pub const DEFAULT_DATA_DIR: &str = "./snowgate-data";
/// The largest engine answer passed on: the Lambda response limit (6 MB).
pub const DEFAULT_UPSTREAM_MAX_RESPONSE_BYTES: u64 = 6_000_000;
/// The longest wait for the engine's answer to one request.
pub const DEFAULT_UPSTREAM_TIMEOUT_SECONDS: u64 = 60;

/// The store of a server without a DynamoDB table (`SNOWGATE_STORE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LocalStore {
    /// SQLite in the data directory: survives restarts.
    #[default]
    Sqlite,
    /// Process memory: forgotten at exit, for tests and throw-away runs.
    Memory,
}

impl FromStr for LocalStore {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Self::Sqlite),
            "memory" => Ok(Self::Memory),
            _ => Err("expected sqlite or memory".into()),
        }
    }
}

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
    /// DynamoDB table for sessions and the directory; `None` uses `local_store`.
    pub table: Option<String>,
    /// The store when there is no table (never SQLite inside Lambda, see `main.rs`).
    pub local_store: LocalStore,
    /// The directory of the SQLite store (`SNOWGATE_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Secrets Manager secret with `jwt_secret`, `demo_user`, `demo_password`; `None` uses the
    /// variables above.
    pub secret_id: Option<String>,
    pub secret_refresh: Duration,
    /// Proxies whose `X-Forwarded-For` header is believed; empty means none.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// A PEM bundle of CAs trusted, besides the system's, when fetching issuers' keys
    /// (`SNOWGATE_EXTRA_CA_FILE`); checked at start-up.
    pub extra_ca_file: Option<PathBuf>,
    /// Whether issuers' discovery and key URLs may be on loopback, private or link-local addresses
    /// (`SNOWGATE_ALLOW_PRIVATE_ISSUERS`); refused by default, as a way into the service's network.
    pub allow_private_issuers: bool,
    /// Deadlines, connection cap and request-line/header limits of the front door.
    pub server: ServerLimits,
    /// Where AWS workload identity attestations are replayed (`SNOWGATE_STS_ENDPOINT`); `None`:
    /// the STS host each was signed for.
    pub sts_endpoint: Option<String>,
    /// `SNOWGATE_ALLOW_DEFAULT_PASSWORD=true`: start even when the demo password is the built-in
    /// one on DynamoDB, in Lambda or on a non-loopback address.
    pub allow_default_password: bool,
    /// Running inside AWS Lambda (`AWS_LAMBDA_RUNTIME_API` is set).
    pub in_lambda: bool,
    /// The query engine statements go to (`SNOWGATE_UPSTREAM_URL` and the rest); `None`: none.
    pub upstream: Option<EngineSettings>,
}

/// Every setting with its variable and default, for `--help`.
pub const SETTINGS_HELP: &str = "\
Settings (environment variables):
  SNOWGATE_LISTEN                    address to listen on [default: 127.0.0.1:8080]
  AUTH_DEMO_USER, AUTH_DEMO_PASSWORD demo user and password [default: embucket / embucket]
  SNOWGATE_ALLOW_DEFAULT_PASSWORD    true: start with the demo password embucket on DynamoDB, in
                                     Lambda or on a non-loopback address [default: false, refused]
  JWT_SECRET                         token signing secret, at least 32 bytes [default: random per
                                     process; with SQLite, one kept in the data directory]
  SNOWGATE_ACCOUNT                   the one account served; logins naming another are refused
                                     [default: any account]
  SNOWGATE_TOKEN_TTL_SECONDS         session token lifetime [default: 259200]
  SNOWGATE_MASTER_TOKEN_TTL_SECONDS  master token lifetime [default: 604800]
  SNOWGATE_LOCKOUT_FAILURES          failed password logins before a user is locked [default: 5]
  SNOWGATE_LOCKOUT_MINUTES           how long a lock lasts [default: 15]
  SNOWGATE_SESSION_IDLE_SECONDS      idle limit of sessions no session policy governs [default: 14400]
  SNOWGATE_MAX_BODY_BYTES            request body limit, before and after gunzip [default: 1048576]
  SNOWGATE_MAX_URI_BYTES             request target (path and query) limit, else HTTP 414 [default: 8192]
  SNOWGATE_MAX_HEADER_BYTES          all headers together, else HTTP 431 [default: 16384]
  SNOWGATE_HEADER_TIMEOUT_SECONDS    time to send a request's line and headers; also closes
                                     keep-alive connections idle that long [default: 30]
  SNOWGATE_BODY_TIMEOUT_SECONDS      time to send a request's whole body [default: 60]
  SNOWGATE_IDLE_TIMEOUT_SECONDS      a connection with no byte in or out this long is closed [default: 120]
  SNOWGATE_MAX_CONNECTIONS           open connections at once; more wait to be accepted [default: 512]
  SNOWGATE_TRUSTED_PROXIES           proxies whose X-Forwarded-For is believed (IPs/CIDRs) [default: none]
  SNOWGATE_TABLE                     DynamoDB table for sessions and users [default: the local store]
  SNOWGATE_STORE                     local store without a table: sqlite or memory [default: sqlite]
  SNOWGATE_DATA_DIR                  directory of the SQLite store [default: ./snowgate-data]
  SNOWGATE_SECRET_ID                 Secrets Manager secret [default: the variables above]
  SNOWGATE_SECRET_REFRESH_SECONDS    secret refresh interval [default: 300]
  SNOWGATE_STS_ENDPOINT              where AWS workload identity attestations are replayed, for
                                     every region (http(s)://host[:port]) [default: the STS host
                                     each attestation was signed for]
  SNOWGATE_EXTRA_CA_FILE             PEM CA bundle trusted besides the system roots when fetching
                                     OIDC issuers' keys [default: none]
  SNOWGATE_ALLOW_PRIVATE_ISSUERS     true: fetch issuers' discovery and keys from loopback, private
                                     and link-local addresses too [default: false, refused]
  SNOWGATE_UPSTREAM_URL              a query engine speaking Snowflake's wire (http(s)://host[:port]):
                                     statements snowgate does not answer go there [default: none]
  SNOWGATE_UPSTREAM_MODE             login (one engine session per session, opened with the service
                                     credential below) or embucket-jwt [default: login]
  SNOWGATE_UPSTREAM_LOGIN_NAME       the engine login name [default: the snowgate user's name]
  SNOWGATE_UPSTREAM_PASSWORD         the engine login password [default: empty; the secret's
                                     upstream_password instead, when it has one]
  SNOWGATE_UPSTREAM_JWT_SECRET       embucket-jwt: the engine's JWT_SECRET (required there)
  SNOWGATE_UPSTREAM_MAX_RESPONSE_BYTES  largest engine answer passed on [default: 6000000]
  SNOWGATE_UPSTREAM_TIMEOUT_SECONDS  longest wait for an engine answer [default: 60]
  AWS_ENDPOINT_URL[_DYNAMODB|_SECRETS_MANAGER]  AWS endpoint overrides [default: AWS]
  RUST_LOG                           log filter; third-party crates stay capped [default: info]";

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
            lockout_failures: u32::try_from(number(
                &get,
                "SNOWGATE_LOCKOUT_FAILURES",
                u64::from(defaults.lockout_failures),
            )?)
            .unwrap_or(u32::MAX),
            lockout_seconds: number(
                &get,
                "SNOWGATE_LOCKOUT_MINUTES",
                defaults.lockout_seconds / 60,
            )?
            .saturating_mul(60),
            session_idle_seconds: number(
                &get,
                "SNOWGATE_SESSION_IDLE_SECONDS",
                defaults.session_idle_seconds,
            )?,
            account: account_pin(get("SNOWGATE_ACCOUNT"))?,
        };
        if settings.session_idle_seconds == 0 {
            return Err(ConfigError::Invalid {
                name: "SNOWGATE_SESSION_IDLE_SECONDS",
                reason: "the idle limit must be at least one second".into(),
            });
        }
        if settings.lockout_failures == 0 {
            return Err(ConfigError::Invalid {
                name: "SNOWGATE_LOCKOUT_FAILURES",
                reason: "at least one failed login must be allowed".into(),
            });
        }
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
        let server = server_limits(&get)?;
        let allow_private_issuers = match get("SNOWGATE_ALLOW_PRIVATE_ISSUERS")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "SNOWGATE_ALLOW_PRIVATE_ISSUERS",
                    reason: "expected true or false".into(),
                });
            }
        };
        let extra_ca_file = get("SNOWGATE_EXTRA_CA_FILE").map(PathBuf::from);
        if let Some(path) = &extra_ca_file {
            crate::outbound::jwks::HttpsJwksFetcher::new(Some(path), false).map_err(|reason| {
                ConfigError::Invalid {
                    name: "SNOWGATE_EXTRA_CA_FILE",
                    reason,
                }
            })?;
        }
        let sts_endpoint = get("SNOWGATE_STS_ENDPOINT").map(|e| e.trim().to_string());
        if let Some(e) = &sts_endpoint
            && endpoint_host(e).is_none()
        {
            return Err(ConfigError::Invalid {
                name: "SNOWGATE_STS_ENDPOINT",
                reason: "expected http://host[:port] or https://host[:port]".into(),
            });
        }
        let upstream = upstream(&get, extra_ca_file.as_deref())?;
        Ok(Self {
            upstream,
            sts_endpoint,
            extra_ca_file,
            allow_private_issuers,
            server,
            trusted_proxies,
            listen,
            settings,
            demo_user: get("AUTH_DEMO_USER").unwrap_or_else(|| "embucket".into()),
            demo_password: SecretString::from(
                get("AUTH_DEMO_PASSWORD").unwrap_or_else(|| DEFAULT_DEMO_PASSWORD.into()),
            ),
            // Ignored (so not checked) when the secret comes from Secrets Manager.
            jwt_secret: match get("SNOWGATE_SECRET_ID") {
                Some(_) => None,
                None => jwt_secret(get("JWT_SECRET"))?,
            },
            body_limit: number(&get, "SNOWGATE_MAX_BODY_BYTES", DEFAULT_BODY_LIMIT as u64)?
                as usize,
            table: get("SNOWGATE_TABLE"),
            local_store: match get("SNOWGATE_STORE") {
                None => LocalStore::default(),
                Some(v) => v.parse().map_err(|reason| ConfigError::Invalid {
                    name: "SNOWGATE_STORE",
                    reason,
                })?,
            },
            data_dir: PathBuf::from(
                get("SNOWGATE_DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.into()),
            ),
            secret_id: get("SNOWGATE_SECRET_ID"),
            allow_default_password: flag(&get, "SNOWGATE_ALLOW_DEFAULT_PASSWORD")?,
            in_lambda: lookup("AWS_LAMBDA_RUNTIME_API").is_some(),
            secret_refresh: Duration::from_secs(number(
                &get,
                "SNOWGATE_SECRET_REFRESH_SECONDS",
                300,
            )?),
        })
    }
}

fn server_limits(get: &impl Fn(&str) -> Option<String>) -> Result<ServerLimits, ConfigError> {
    let d = ServerLimits::default();
    let seconds = |name, default: Duration| -> Result<Duration, ConfigError> {
        match number(get, name, default.as_secs())? {
            0 => Err(ConfigError::Invalid {
                name,
                reason: "must be at least one second".into(),
            }),
            n => Ok(Duration::from_secs(n)),
        }
    };
    let size = |name, default: usize, min: u64| -> Result<usize, ConfigError> {
        let n = number(get, name, default as u64)?;
        if n < min || n > (1 << 20) {
            return Err(ConfigError::Invalid {
                name,
                reason: format!("must be between {min} and {}", 1 << 20),
            });
        }
        Ok(n as usize)
    };
    Ok(ServerLimits {
        header_timeout: seconds("SNOWGATE_HEADER_TIMEOUT_SECONDS", d.header_timeout)?,
        body_timeout: seconds("SNOWGATE_BODY_TIMEOUT_SECONDS", d.body_timeout)?,
        idle_timeout: seconds("SNOWGATE_IDLE_TIMEOUT_SECONDS", d.idle_timeout)?,
        max_connections: size("SNOWGATE_MAX_CONNECTIONS", d.max_connections, 1)?,
        wire: WireLimits {
            max_uri_bytes: size("SNOWGATE_MAX_URI_BYTES", d.wire.max_uri_bytes, 1024)?,
            max_header_bytes: size("SNOWGATE_MAX_HEADER_BYTES", d.wire.max_header_bytes, 1024)?,
        },
    })
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

fn flag(get: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<bool, ConfigError> {
    match get(name).map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ConfigError::Invalid {
            name,
            reason: "expected true or false".into(),
        }),
    }
}

impl Config {
    /// Why a server with demo password `password` (the environment's or the secret's) must not
    /// start, or `None`: the built-in password is refused wherever someone other than this
    /// machine's users could log in with it as ACCOUNTADMIN (a DynamoDB table, Lambda, a listen
    /// address other than loopback), unless `SNOWGATE_ALLOW_DEFAULT_PASSWORD=true`. A local `snowgate
    /// serve` on 127.0.0.1 starts on it. The message never shows a password.
    pub fn default_password_refusal(&self, password: &SecretString) -> Option<String> {
        use secrecy::ExposeSecret;
        if self.allow_default_password || password.expose_secret() != DEFAULT_DEMO_PASSWORD {
            return None;
        }
        let place = if self.table.is_some() {
            "on a DynamoDB table"
        } else if self.in_lambda {
            "in AWS Lambda"
        } else if !self.listen.ip().is_loopback() {
            "on a listen address other than loopback"
        } else {
            return None;
        };
        Some(format!(
            "the demo user's password is the built-in default, which anyone may know, and the \
             server runs {place}: set AUTH_DEMO_PASSWORD (or the secret's demo_password), or \
             SNOWGATE_ALLOW_DEFAULT_PASSWORD=true to start anyway"
        ))
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

/// The `host[:port]` of an `http(s)://host[:port][/]` endpoint.
pub fn endpoint_host(endpoint: &str) -> Option<&str> {
    let rest = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))?;
    let host = rest.strip_suffix('/').unwrap_or(rest);
    (!host.is_empty() && !host.contains(['/', '?', '#', '@', ' '])).then_some(host)
}

/// The query engine's settings, when `SNOWGATE_UPSTREAM_URL` is set.
fn upstream(
    get: &impl Fn(&str) -> Option<String>,
    extra_ca: Option<&std::path::Path>,
) -> Result<Option<EngineSettings>, ConfigError> {
    let Some(url) = get("SNOWGATE_UPSTREAM_URL") else {
        return Ok(None);
    };
    let invalid = |name, reason: &str| ConfigError::Invalid {
        name,
        reason: reason.into(),
    };
    let url: http::Uri = url
        .trim()
        .parse()
        .map_err(|_| invalid("SNOWGATE_UPSTREAM_URL", "not a URL"))?;
    let plain = matches!(url.scheme_str(), Some("http" | "https"))
        && url.host().is_some()
        && url.query().is_none()
        && url.path().trim_end_matches('/').is_empty();
    if !plain {
        return Err(invalid(
            "SNOWGATE_UPSTREAM_URL",
            "expected http://host[:port] or https://host[:port], without a path or query",
        ));
    }
    let mode = match get("SNOWGATE_UPSTREAM_MODE")
        .map(|m| m.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("login") => EngineMode::Login {
            login_name: get("SNOWGATE_UPSTREAM_LOGIN_NAME").map(|n| n.trim().to_string()),
            password: SecretString::from(get("SNOWGATE_UPSTREAM_PASSWORD").unwrap_or_default()),
        },
        Some("embucket-jwt") => EngineMode::EmbucketJwt {
            secret: get("SNOWGATE_UPSTREAM_JWT_SECRET")
                .map(SecretString::from)
                .ok_or_else(|| {
                    invalid(
                        "SNOWGATE_UPSTREAM_JWT_SECRET",
                        "required with SNOWGATE_UPSTREAM_MODE=embucket-jwt",
                    )
                })?,
        },
        Some(_) => {
            return Err(invalid(
                "SNOWGATE_UPSTREAM_MODE",
                "expected login or embucket-jwt",
            ));
        }
    };
    let max = number(
        get,
        "SNOWGATE_UPSTREAM_MAX_RESPONSE_BYTES",
        DEFAULT_UPSTREAM_MAX_RESPONSE_BYTES,
    )?;
    let timeout = number(
        get,
        "SNOWGATE_UPSTREAM_TIMEOUT_SECONDS",
        DEFAULT_UPSTREAM_TIMEOUT_SECONDS,
    )?;
    if max == 0 || timeout == 0 {
        return Err(invalid(
            "SNOWGATE_UPSTREAM_MAX_RESPONSE_BYTES",
            "the answer limit and the timeout must be at least 1",
        ));
    }
    Ok(Some(EngineSettings {
        url,
        mode,
        max_answer_bytes: usize::try_from(max).unwrap_or(usize::MAX),
        timeout: Duration::from_secs(timeout),
        extra_ca: extra_ca.map(std::path::Path::to_path_buf),
    }))
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
        assert_eq!(c.settings.session_idle_seconds, 14_400);
        assert_eq!(c.demo_user, "embucket");
        assert_eq!(c.demo_password.expose_secret(), "embucket");
        assert!(c.jwt_secret.is_none());
        assert_eq!(c.local_store, LocalStore::Sqlite);
        assert_eq!(c.data_dir, PathBuf::from(DEFAULT_DATA_DIR));

        let c = Config::from_lookup(|k| match k {
            "SNOWGATE_TOKEN_TTL_SECONDS" => Some("2".into()),
            "SNOWGATE_SESSION_IDLE_SECONDS" => Some("5".into()),
            "SNOWGATE_LISTEN" => Some("0.0.0.0:9999".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.settings.session_ttl, 2);
        assert_eq!(c.settings.session_idle_seconds, 5);
        assert_eq!(c.listen.port(), 9999);
    }

    #[test]
    fn local_store_and_data_dir() {
        let c = Config::from_lookup(|k| match k {
            "SNOWGATE_STORE" => Some(" Memory ".into()),
            "SNOWGATE_DATA_DIR" => Some("/var/lib/snowgate".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.local_store, LocalStore::Memory);
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/snowgate"));
        let err = Config::from_lookup(|k| (k == "SNOWGATE_STORE").then(|| "redis".into()))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("SNOWGATE_STORE"), "{err}");
    }

    #[test]
    fn front_door_settings() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.server, ServerLimits::default());
        let c = Config::from_lookup(|k| match k {
            "SNOWGATE_HEADER_TIMEOUT_SECONDS" => Some("5".into()),
            "SNOWGATE_MAX_CONNECTIONS" => Some("7".into()),
            "SNOWGATE_MAX_URI_BYTES" => Some("2048".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.server.header_timeout, Duration::from_secs(5));
        assert_eq!(c.server.max_connections, 7);
        assert_eq!(c.server.wire.max_uri_bytes, 2048);
        for (name, bad) in [
            ("SNOWGATE_BODY_TIMEOUT_SECONDS", "0"),
            ("SNOWGATE_MAX_CONNECTIONS", "0"),
            ("SNOWGATE_MAX_HEADER_BYTES", "10"),
        ] {
            let err = Config::from_lookup(|k| (k == name).then(|| bad.into()))
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains(name), "{err}");
        }
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
    fn private_issuers_are_refused_unless_allowed() {
        let with = |v: &str| {
            let v = v.to_string();
            Config::from_lookup(move |k| (k == "SNOWGATE_ALLOW_PRIVATE_ISSUERS").then(|| v.clone()))
        };
        assert!(!Config::from_lookup(|_| None).unwrap().allow_private_issuers);
        assert!(with(" TRUE ").unwrap().allow_private_issuers);
        assert!(!with("false").unwrap().allow_private_issuers);
        let err = with("yes").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("SNOWGATE_ALLOW_PRIVATE_ISSUERS"), "{err}");
    }

    #[test]
    fn the_default_password_is_refused_where_others_could_use_it() {
        let default = SecretString::from(DEFAULT_DEMO_PASSWORD);
        let chosen = SecretString::from("a-chosen-password");
        let config = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Config::from_lookup(move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
                .unwrap()
        };
        // The README's `snowgate serve`: SQLite, 127.0.0.1, the built-in password.
        assert_eq!(config(&[]).default_password_refusal(&default), None);
        let ipv6 = config(&[("SNOWGATE_LISTEN", "[::1]:8080")]);
        assert_eq!(ipv6.default_password_refusal(&default), None);
        for (vars, place) in [
            (vec![("SNOWGATE_TABLE", "t")], "DynamoDB"),
            (vec![("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")], "Lambda"),
            (vec![("SNOWGATE_LISTEN", "0.0.0.0:8080")], "loopback"),
            (
                vec![
                    ("SNOWGATE_LISTEN", "10.0.0.5:8080"),
                    ("SNOWGATE_STORE", "memory"),
                ],
                "loopback",
            ),
        ] {
            let c = config(&vars);
            let why = c.default_password_refusal(&default).expect("refused");
            assert!(why.contains(place), "{why}");
            assert!(why.contains("SNOWGATE_ALLOW_DEFAULT_PASSWORD"), "{why}");
            assert!(!why.contains(DEFAULT_DEMO_PASSWORD), "{why}");
            // Another password, or the explicit setting, starts.
            assert_eq!(c.default_password_refusal(&chosen), None);
            let mut allowed = vars.clone();
            allowed.push(("SNOWGATE_ALLOW_DEFAULT_PASSWORD", "true"));
            assert_eq!(config(&allowed).default_password_refusal(&default), None);
        }
        let err =
            Config::from_lookup(|k| (k == "SNOWGATE_ALLOW_DEFAULT_PASSWORD").then(|| "yes".into()))
                .err()
                .unwrap()
                .to_string();
        assert!(err.contains("SNOWGATE_ALLOW_DEFAULT_PASSWORD"), "{err}");
    }

    #[test]
    fn help_lists_every_setting() {
        // Every variable name quoted in this file is a setting read above.
        let source = include_str!("config.rs");
        let mut seen = 0;
        for prefix in ["\"SNOWGATE_", "\"AUTH_", "\"JWT_"] {
            for (at, _) in source.match_indices(prefix) {
                let rest = &source[at + 1..];
                let name = &rest[..rest.find('"').unwrap()];
                assert!(
                    SETTINGS_HELP.contains(name),
                    "{name} is missing from --help"
                );
                seen += 1;
            }
        }
        assert!(seen > 10, "{seen}");
    }
}
