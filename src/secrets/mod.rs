//! Where the JWT secret and the demo credentials come from. The domain asks a [`SecretSource`] for the
//! current material on every request; the source decides how it is loaded and refreshed.

pub mod manager;

use std::sync::Arc;

use secrecy::SecretString;

use crate::domain::tokens::{Keyring, SigningKey};

/// Everything secret that a request may need, loaded together so that a rotation is seen at once.
pub struct SecretMaterial {
    pub keyring: Keyring,
    pub demo_user: String,
    pub demo_password: SecretString,
}

#[async_trait::async_trait]
pub trait SecretSource: Send + Sync {
    /// The material in force now. Cheap and never blocking: refreshes happen elsewhere.
    fn current(&self) -> Arc<SecretMaterial>;

    /// A token names a key version the current material lacks: another instance may already use a
    /// newer secret. Reload now if the source allows it (rate-limited); `true` when it reloaded.
    async fn reload_for_unknown_key(&self) -> bool {
        false
    }
}

/// Material fixed for the life of the process: environment variables or embedded defaults.
pub struct StaticSecrets(Arc<SecretMaterial>);

impl StaticSecrets {
    pub fn new(jwt_secret: &SecretString, demo_user: String, demo_password: SecretString) -> Self {
        Self(Arc::new(SecretMaterial {
            keyring: Keyring::new(SigningKey::new("static", jwt_secret), Vec::new()),
            demo_user,
            demo_password,
        }))
    }
}

impl SecretSource for StaticSecrets {
    fn current(&self) -> Arc<SecretMaterial> {
        Arc::clone(&self.0)
    }
}
