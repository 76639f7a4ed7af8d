//! Secrets from AWS Secrets Manager. The secret's JSON holds `jwt_secret`, `demo_user` and
//! `demo_password`, and, with a query engine behind snowgate, optionally `upstream_password`. It is loaded once at start-up; afterwards a request that finds it older than the
//! refresh interval starts one background refresh and goes on with the cached copy, so no request
//! waits on Secrets Manager. New tokens are signed with AWSCURRENT; AWSPREVIOUS still verifies, so a
//! rotation keeps live sessions.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client;
use secrecy::SecretString;
use serde_json::{Map, Value};
use thiserror::Error;

use super::{SecretMaterial, SecretSource};
use crate::aws::describe;
use crate::domain::session::tokens::{Keyring, MIN_SECRET_BYTES, SigningKey};

#[derive(Debug, Error)]
pub enum SecretError {
    #[error("secret {secret_id} could not be read: {reason}")]
    Unreadable { secret_id: String, reason: String },
    #[error("secret {secret_id} is not a JSON object with string values")]
    Malformed { secret_id: String },
    #[error("secret {secret_id} lacks the key {key}")]
    MissingKey {
        secret_id: String,
        key: &'static str,
    },
    #[error(
        "secret {secret_id}: {key} must be at least {MIN_SECRET_BYTES} bytes long (it signs every token)"
    )]
    WeakKey {
        secret_id: String,
        key: &'static str,
    },
}

/// Forced reloads (for tokens signed with an unknown key version) happen at most this often, so forged
/// `kid`s cannot turn into a flood of Secrets Manager calls.
const FORCED_RELOAD_EVERY: Duration = Duration::from_secs(10);

struct Cached {
    material: Arc<SecretMaterial>,
    loaded_at: Instant,
}

pub struct SecretsManagerSource {
    client: Client,
    secret_id: String,
    refresh_every: Duration,
    cached: RwLock<Cached>,
    refreshing: AtomicBool,
    last_forced: Mutex<Option<Instant>>,
}

/// One version of the secret: its id and parsed JSON.
struct Version {
    id: String,
    fields: Map<String, Value>,
}

impl SecretsManagerSource {
    /// Loads the secret now; fails, naming the secret and never a value, when it is missing or bad.
    pub async fn load(
        client: Client,
        secret_id: impl Into<String>,
        refresh_every: Duration,
    ) -> Result<Arc<Self>, SecretError> {
        let secret_id = secret_id.into();
        let material = fetch(&client, &secret_id).await?;
        Ok(Arc::new(Self {
            client,
            secret_id,
            refresh_every,
            cached: RwLock::new(Cached {
                material: Arc::new(material),
                loaded_at: Instant::now(),
            }),
            refreshing: AtomicBool::new(false),
            last_forced: Mutex::new(None),
        }))
    }

    /// Reloads the secret; on failure the cached copy stays in force.
    pub async fn refresh(&self) -> Result<(), SecretError> {
        let material = fetch(&self.client, &self.secret_id).await?;
        if let Ok(mut cached) = self.cached.write() {
            *cached = Cached {
                material: Arc::new(material),
                loaded_at: Instant::now(),
            };
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl SecretSource for Arc<SecretsManagerSource> {
    async fn reload_for_unknown_key(&self) -> bool {
        {
            let Ok(mut last) = self.last_forced.lock() else {
                return false;
            };
            if last.is_some_and(|t| t.elapsed() < FORCED_RELOAD_EVERY) {
                return false;
            }
            *last = Some(Instant::now());
        }
        match self.refresh().await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "secret reload for an unknown key version failed");
                false
            }
        }
    }

    fn current(&self) -> Arc<SecretMaterial> {
        let (material, stale) = match self.cached.read() {
            Ok(c) => (
                Arc::clone(&c.material),
                c.loaded_at.elapsed() >= self.refresh_every,
            ),
            // A writer panicked: keep serving what is there.
            Err(poisoned) => (Arc::clone(&poisoned.get_ref().material), false),
        };
        let runtime = tokio::runtime::Handle::try_current();
        if stale && !self.refreshing.swap(true, Ordering::AcqRel) {
            if let Ok(runtime) = runtime {
                let this = Arc::clone(self);
                runtime.spawn(async move {
                    if let Err(e) = this.refresh().await {
                        tracing::warn!(error = %e, "secret refresh failed; keeping the cached secret");
                    }
                    this.refreshing.store(false, Ordering::Release);
                });
            } else {
                self.refreshing.store(false, Ordering::Release);
            }
        }
        material
    }
}

async fn fetch(client: &Client, secret_id: &str) -> Result<SecretMaterial, SecretError> {
    // Both versions at once: one round trip of a cold start, not two.
    let (current, previous) = tokio::join!(
        version(client, secret_id, "AWSCURRENT"),
        version(client, secret_id, "AWSPREVIOUS")
    );
    let current = current?.ok_or_else(|| SecretError::Unreadable {
        secret_id: secret_id.to_string(),
        reason: "no AWSCURRENT version".into(),
    })?;
    // A secret that was never rotated has no AWSPREVIOUS; that is normal. A rotation between the two
    // reads can make both the same version: then only the current one counts, and a token signed with
    // the newest version triggers a reload (see `reload_for_unknown_key`).
    let previous = previous?.filter(|p| p.id != current.id);
    let field = |v: &Version, key: &'static str| {
        v.fields
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| SecretError::MissingKey {
                secret_id: secret_id.to_string(),
                key,
            })
    };
    // A weak current secret is refused (at start, or by a refresh, which keeps the cached one); a weak
    // previous one is merely not trusted any more.
    let jwt_secret = |v: &Version| {
        let secret = field(v, "jwt_secret")?;
        if secret.len() < MIN_SECRET_BYTES {
            return Err(SecretError::WeakKey {
                secret_id: secret_id.to_string(),
                key: "jwt_secret",
            });
        }
        Ok(SecretString::from(secret))
    };
    let current_key = SigningKey::new(&current.id, &jwt_secret(&current)?);
    let previous_keys = previous
        .iter()
        .filter_map(|p| Some(SigningKey::new(&p.id, &jwt_secret(p).ok()?)))
        .collect();
    Ok(SecretMaterial {
        keyring: Keyring::new(current_key, previous_keys),
        demo_user: field(&current, "demo_user")?,
        demo_password: SecretString::from(field(&current, "demo_password")?),
        upstream_password: field(&current, "upstream_password")
            .ok()
            .map(SecretString::from),
    })
}

async fn version(
    client: &Client,
    secret_id: &str,
    stage: &str,
) -> Result<Option<Version>, SecretError> {
    let result = client
        .get_secret_value()
        .secret_id(secret_id)
        .version_stage(stage)
        .send()
        .await;
    let out = match result {
        Ok(out) => out,
        Err(e)
            if stage != "AWSCURRENT"
                && e.as_service_error()
                    .is_some_and(|se| se.is_resource_not_found_exception()) =>
        {
            return Ok(None);
        }
        Err(e) => {
            return Err(SecretError::Unreadable {
                secret_id: secret_id.to_string(),
                reason: describe(&e),
            });
        }
    };
    let malformed = || SecretError::Malformed {
        secret_id: secret_id.to_string(),
    };
    let text = out.secret_string().ok_or_else(malformed)?;
    // The parse error is dropped on purpose: its text could quote the secret.
    let fields = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map,
        _ => return Err(malformed()),
    };
    Ok(Some(Version {
        id: out.version_id().unwrap_or(stage).to_string(),
        fields,
    }))
}
