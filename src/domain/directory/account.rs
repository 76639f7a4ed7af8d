//! The account's settings: one record per account, read at every login.

use serde::{Deserialize, Serialize};

use super::Directory;
use crate::domain::policy::AttachedPolicies;
use crate::domain::ports::storage::ObjectKey;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AccountSettings {
    pub network_policy: Option<String>,
    /// The account's authentication, password and session policies.
    #[serde(default, flatten)]
    pub policies: AttachedPolicies,
    /// `ALLOW_CLIENT_MFA_CACHING`: a successful MFA login may get a cached MFA token.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_client_mfa_caching: bool,
    /// The demo user this store was seeded with, so that a restart seeds it only when the
    /// configuration changed since (`Gatekeeper::seed_demo_user`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demo_seeded: Option<DemoSeed>,
    /// The AWS workload identity index lists the identities of every user, also of those written
    /// before it existed ([`Directory::build_aws_index`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub aws_index_built: bool,
    /// The PAT index lists the tokens of every user, also of those written before it existed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pat_index_built: bool,
    #[serde(skip)]
    pub version: u64,
}

/// What the account remembers of the demo user it seeded: the name, and an argon2 hash of the
/// configured password it was seeded with (not the user's password now, which an administrator may
/// have changed since). Never shown.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoSeed {
    pub user: String,
    pub password_hash: String,
    /// A keyed digest (HMAC under a key derived from the token secret) of the same configured
    /// password: a start that finds it unchanged knows the password is too without an argon2
    /// check, which would share the CPU with the first request of a cold start. Absent in records
    /// written before it, or after a secret rotation changed the key: then argon2 decides, once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_mark: Option<String>,
}

impl std::fmt::Debug for DemoSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoSeed")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Directory {
    pub async fn account(&self) -> Result<AccountSettings> {
        Ok(self.get(ObjectKey::ACCOUNT).await?.unwrap_or_default())
    }

    /// Writes the account's settings over the version they were read at.
    pub async fn set_account(&self, settings: &AccountSettings) -> Result<()> {
        if !self.put(ObjectKey::ACCOUNT, settings, false).await? {
            // Created by someone else since it was read as absent.
            return Err(Error::Conflict);
        }
        Ok(())
    }
}
