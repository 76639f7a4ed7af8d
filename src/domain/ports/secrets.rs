//! Where the domain gets its secrets: the token signing keys and the demo credentials, as a trait the
//! domain owns. `crate::secrets` holds the implementations (environment, Secrets Manager).

use std::sync::Arc;

use secrecy::SecretString;

use crate::domain::session::tokens::Keyring;

/// Everything secret that a request may need, loaded together so that a rotation is seen at once.
pub struct SecretMaterial {
    pub keyring: Keyring,
    pub demo_user: String,
    pub demo_password: SecretString,
    /// The password of the query engine's service login (`upstream_password` in the secret), when
    /// the secret holds one; it then takes the place of `SNOWGATE_UPSTREAM_PASSWORD`, and a rotation
    /// of the secret reaches the next engine login.
    pub upstream_password: Option<SecretString>,
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
