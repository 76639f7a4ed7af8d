//! The user directory: users, roles, network policies and the account's settings, kept as JSON
//! documents in the store. The demo user of the configuration is one of these users, written at start.
//!
//! Here: [`Directory`] and what every record shares (decoding, versioned writes, [`Record`],
//! [`PolicyRecord`]), and the security integrations' reads and writes. By what they hold:
//! `users.rs` (users and roles), `account.rs` (the account's settings), `login_reads.rs` (what a
//! login reads up front, [`PolicySource`]), `policies.rs` (network policies, policy records and
//! which of them governs a user), `identities.rs` (the AWS and OIDC workload identity indexes),
//! `security_integrations.rs` (External OAuth).

mod account;
mod identities;
mod login_reads;
mod policies;
pub mod security_integrations;
mod users;

use std::sync::Arc;

use secrecy::SecretString;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use account::{AccountSettings, DemoSeed};
pub use identities::MAX_AWS_HOLDERS;
pub use login_reads::{LoginReads, PolicySource};
pub use policies::{NetworkPolicy, canonical_ip};
pub use users::{ADMIN_ROLES, Role, RsaKey, SYSTEM_ROLES, User, UserType};

use crate::domain::ident::Ident;
use crate::domain::policy::{AuthenticationPolicy, PasswordPolicy, PolicyKind, SessionPolicy};
use crate::domain::ports::storage::{NamedKind, ObjectKey, Store, StoreError, Versioned, Write};
use crate::error::{Error, Result};

/// A new argon2id hash, computed on the calling thread: for administrative statements only (logins
/// verify on the hashing threads of [`super::credentials::passwords`]).
pub fn hash_password(password: &SecretString) -> Result<String> {
    super::credentials::passwords::hash_password(password)
        .ok_or_else(|| Error::Internal("password could not be hashed".into()))
}

/// Typed access to the directory documents.
pub struct Directory {
    store: Arc<dyn Store>,
}

fn decode<T: DeserializeOwned>(doc: &str) -> Result<T> {
    serde_json::from_str(doc).map_err(|_| Error::Internal("corrupt directory document".into()))
}

/// A directory record that remembers the version it was read at, so that writing it back is
/// conditional on nobody having changed it since. Not part of the stored document.
pub trait Record: Serialize + DeserializeOwned {
    fn version(&self) -> u64;
    fn set_version(&mut self, version: u64);
}

macro_rules! record {
    ($($t:ty),*) => {$(
        impl Record for $t {
            fn version(&self) -> u64 {
                self.version
            }
            fn set_version(&mut self, version: u64) {
                self.version = version;
            }
        }
    )*};
}

record!(
    User,
    Role,
    NetworkPolicy,
    AccountSettings,
    AuthenticationPolicy,
    PasswordPolicy,
    SessionPolicy,
    crate::domain::directory::security_integrations::ExternalOauth
);

/// An authentication, password or session policy record.
pub trait PolicyRecord: Record + Default {
    const KIND: PolicyKind;
    const OBJECT: NamedKind;
    fn name(&self) -> &str;
}

macro_rules! policy_record {
    ($($t:ident => $kind:ident),*) => {$(
        impl PolicyRecord for $t {
            const KIND: PolicyKind = PolicyKind::$kind;
            const OBJECT: NamedKind = NamedKind::$t;
            fn name(&self) -> &str {
                &self.meta.name
            }
        }
    )*};
}

policy_record!(
    AuthenticationPolicy => Authentication,
    PasswordPolicy => Password,
    SessionPolicy => Session
);

fn decode_versioned<T: Record>(stored: &Versioned) -> Result<T> {
    let mut value: T = decode(&stored.doc)?;
    value.set_version(stored.version);
    Ok(value)
}

fn encode<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|_| Error::Internal("directory document could not be encoded".into()))
}

impl Directory {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    async fn get<T: Record>(&self, key: ObjectKey<'_>) -> Result<Option<T>> {
        match self.store.get_object(key).await? {
            Some(stored) => decode_versioned(&stored).map(Some),
            None => Ok(None),
        }
    }

    /// Writes a record: over the version it was read at, else as new (or over anything with
    /// `replace`). `false` when a create found it there; a lost race is [`Error::Conflict`].
    async fn put<T: Record>(&self, key: ObjectKey<'_>, value: &T, replace: bool) -> Result<bool> {
        let write = match value.version() {
            0 if replace => Write::Replace,
            0 => Write::Create,
            v => Write::IfVersion(v),
        };
        match self.store.put_object(key, &encode(value)?, write).await {
            Err(StoreError::AlreadyExists) => Ok(false),
            other => other.map(|_| true).map_err(Into::into),
        }
    }

    async fn list<T: Record>(&self, kind: NamedKind) -> Result<Vec<T>> {
        self.store
            .list_objects(kind.into())
            .await?
            .iter()
            .map(decode_versioned)
            .collect()
    }

    pub async fn integration(
        &self,
        name: Ident<'_>,
    ) -> Result<Option<crate::domain::directory::security_integrations::ExternalOauth>> {
        self.get(ObjectKey::named(NamedKind::SecurityIntegration, name))
            .await
    }

    pub async fn integrations(
        &self,
    ) -> Result<Vec<crate::domain::directory::security_integrations::ExternalOauth>> {
        self.list(NamedKind::SecurityIntegration).await
    }

    pub async fn put_integration(
        &self,
        integration: &crate::domain::directory::security_integrations::ExternalOauth,
        replace: bool,
    ) -> Result<bool> {
        let name = Ident::stored(&integration.name);
        let key = ObjectKey::named(NamedKind::SecurityIntegration, name);
        self.put(key, integration, replace).await
    }

    pub async fn delete_integration(&self, name: Ident<'_>) -> Result<bool> {
        let key = ObjectKey::named(NamedKind::SecurityIntegration, name);
        Ok(self.store.delete_object(key).await?)
    }
}
