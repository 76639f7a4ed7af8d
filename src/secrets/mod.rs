//! Where the JWT secret and the demo credentials come from: the implementations of the domain's
//! [`SecretSource`] (re-exported here). The domain asks for the current material on every request;
//! the source decides how it is loaded and refreshed.

pub mod manager;

use std::sync::Arc;

use secrecy::SecretString;

pub use crate::domain::ports::secrets::{SecretMaterial, SecretSource};
use crate::domain::session::tokens::{Keyring, SigningKey};

/// Material fixed for the life of the process: environment variables or embedded defaults.
pub struct StaticSecrets(Arc<SecretMaterial>);

impl StaticSecrets {
    pub fn new(jwt_secret: &SecretString, demo_user: String, demo_password: SecretString) -> Self {
        Self(Arc::new(SecretMaterial {
            keyring: Keyring::new(SigningKey::new("static", jwt_secret), Vec::new()),
            demo_user,
            demo_password,
            upstream_password: None,
        }))
    }
}

impl SecretSource for StaticSecrets {
    fn current(&self) -> Arc<SecretMaterial> {
        Arc::clone(&self.0)
    }
}
