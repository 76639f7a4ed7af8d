//! Users and roles: the records, the system roles, and the directory's reads and writes of them
//! (a user's writes keep the login-name index in step here, and the workload identity indexes
//! through `identities.rs`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Directory, decode, decode_versioned, encode};
use crate::domain::ident::{Ident, LoginName};
use crate::domain::policy::AttachedPolicies;
use crate::domain::ports::storage::{CounterName, NamedKind, ObjectKey, Versioned, Write};
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserType {
    #[default]
    Person,
    Service,
    LegacyService,
}

impl UserType {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "PERSON" | "NULL" => Some(Self::Person),
            "SERVICE" => Some(Self::Service),
            "LEGACY_SERVICE" => Some(Self::LegacyService),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Person => "PERSON",
            Self::Service => "SERVICE",
            Self::LegacyService => "LEGACY_SERVICE",
        }
    }
}

/// A registered RSA public key: the canonical base64 DER and its fingerprint, computed once when set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RsaKey {
    pub der_base64: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct User {
    /// Set when the user is created; a user dropped and created again gets a new one.
    #[serde(default)]
    pub id: String,
    pub name: String,
    /// `None`: the login name is the user's name.
    pub login_name: Option<String>,
    #[serde(rename = "type")]
    pub user_type: UserType,
    /// An argon2id PHC string; never the password.
    pub password_hash: Option<String>,
    pub default_role: Option<String>,
    pub default_warehouse: Option<String>,
    pub default_namespace: Option<String>,
    /// Roles granted directly (PUBLIC is implicit).
    pub roles: BTreeSet<String>,
    pub rsa_public_key: Option<RsaKey>,
    pub rsa_public_key_2: Option<RsaKey>,
    pub network_policy: Option<String>,
    pub disabled: bool,
    pub comment: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub created_on: u64,
    /// The role that created the user; `None` in records written before ownership was kept.
    #[serde(default)]
    pub owner: Option<String>,
    /// Epoch seconds when the password was last set by a statement (0: before this was recorded, or
    /// by the configuration), for PASSWORD_MIN_AGE_DAYS and PASSWORD_MAX_AGE_DAYS.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub password_set_at: u64,
    /// Hashes of the passwords before the current one, newest first, as many as the governing password
    /// policy's PASSWORD_HISTORY compares (none without a policy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub password_history: Vec<String>,
    /// The authentication, password and session policies set on the user (they win over the
    /// account's).
    #[serde(default, flatten)]
    pub policies: AttachedPolicies,
    /// Programmatic access tokens (secrets hashed), kept here so a PAT login is one read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pats: Vec<crate::domain::credentials::pats::Pat>,
    /// The TOTP second factor (seed sealed), kept here so an MFA login is one read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_totp: Option<crate::domain::credentials::totp::TotpEnrollment>,
    /// Cached MFA tokens (hashed) that skip the passcode until they expire.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mfa_tokens: Vec<crate::domain::credentials::totp::MfaToken>,
    /// Workload identities (`WORKLOAD_IDENTITY` is the one named `DEFAULT`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workload_identities: Vec<crate::domain::credentials::workload_identity::WorkloadIdentity>,
    /// The store version this was read at (0: not read from the store).
    #[serde(skip)]
    pub version: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl User {
    /// The name this user logs in with, compared case-insensitively.
    pub fn effective_login(&self) -> String {
        self.login_name
            .clone()
            .unwrap_or_else(|| self.name.clone())
            .to_uppercase()
    }

    /// The roles this user may use: the granted ones, those the system roles inherit, and PUBLIC.
    pub fn effective_roles(&self) -> BTreeSet<String> {
        let mut roles = BTreeSet::from(["PUBLIC".to_string()]);
        for role in &self.roles {
            roles.insert(role.clone());
            for inherited in inherited_system_roles(role) {
                roles.insert(inherited.to_string());
            }
        }
        roles
    }

    pub fn key_with_fingerprint(&self, fingerprint: &str) -> Option<&RsaKey> {
        [&self.rsa_public_key, &self.rsa_public_key_2]
            .into_iter()
            .flatten()
            .find(|k| k.fingerprint == fingerprint)
    }
}

/// Snowflake's system role hierarchy: ACCOUNTADMIN holds SECURITYADMIN and SYSADMIN, SECURITYADMIN
/// holds USERADMIN.
fn inherited_system_roles(role: &str) -> &'static [&'static str] {
    match role {
        "ACCOUNTADMIN" => &["SECURITYADMIN", "USERADMIN", "SYSADMIN"],
        "SECURITYADMIN" => &["USERADMIN"],
        _ => &[],
    }
}

/// Roles that exist in every account.
pub const SYSTEM_ROLES: [&str; 5] = [
    "ACCOUNTADMIN",
    "SECURITYADMIN",
    "USERADMIN",
    "SYSADMIN",
    "PUBLIC",
];

/// Roles allowed to administer users, roles and network policies.
pub const ADMIN_ROLES: [&str; 3] = ["ACCOUNTADMIN", "SECURITYADMIN", "USERADMIN"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Role {
    pub name: String,
    pub comment: Option<String>,
    pub created_on: u64,
    /// The role that created it; `None` for system roles and records older than ownership.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(skip)]
    pub version: u64,
}

/// The user whose own name is `login`, if they log in with it.
pub(super) fn own_login(doc: Option<&Versioned>, login: &LoginName) -> Result<Option<User>> {
    let user = doc.map(decode_versioned::<User>).transpose()?;
    Ok(user.filter(|u| u.effective_login() == login.as_str()))
}

impl Directory {
    /// A user read together with a session (see
    /// [`crate::domain::ports::storage::Store::session_and_object`]).
    pub fn user_from_doc(stored: &Versioned) -> Result<User> {
        decode_versioned(stored)
    }

    /// The demo user as first written from the configuration: an ordinary `PERSON` holding
    /// `ACCOUNTADMIN`, owned by `ACCOUNTADMIN`, so administrators can change it like any user.
    pub fn demo_user_record(name: &str, password_hash: String, now: u64) -> User {
        User {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            user_type: UserType::Person,
            default_role: Some("ACCOUNTADMIN".into()),
            roles: BTreeSet::from(["ACCOUNTADMIN".to_string()]),
            password_hash: Some(password_hash),
            comment: Some("demo user from the service configuration".into()),
            created_on: now,
            owner: Some("ACCOUNTADMIN".into()),
            ..User::default()
        }
    }

    pub async fn user(&self, name: Ident<'_>) -> Result<Option<User>> {
        self.get(ObjectKey::user(name)).await
    }

    /// The stored user who logs in as `login` (case-insensitive).
    pub async fn user_by_login(&self, login: &str) -> Result<Option<User>> {
        let login = LoginName::new(login);
        // Most users log in with their own (unquoted, so upper-case) name: one read.
        let named = self
            .store
            .get_object(ObjectKey::user(login.as_own_name()))
            .await?;
        if let Some(user) = own_login(named.as_ref(), &login)? {
            return Ok(Some(user));
        }
        let alias = self.store.get_object(ObjectKey::login_name(&login)).await?;
        self.user_by_alias(alias.as_ref(), &login).await
    }

    /// The user the login-name index entry `alias` points to, if they still log in as `login`.
    pub(super) async fn user_by_alias(
        &self,
        alias: Option<&Versioned>,
        login: &LoginName,
    ) -> Result<Option<User>> {
        match alias.map(|a| decode::<String>(&a.doc)).transpose()? {
            Some(name) => Ok(self
                .user(Ident::stored(&name))
                .await?
                .filter(|u| u.effective_login() == login.as_str())),
            None => Ok(None),
        }
    }

    /// Writes a user: over `previous` (at the version it was read) when given, else as a new user
    /// (`false` if one exists). Keeps the login-name index in step.
    pub async fn put_user(&self, user: &User, previous: Option<&User>) -> Result<bool> {
        let versioned = User {
            version: previous.map_or(0, |p| p.version),
            ..user.clone()
        };
        if !self
            .put(
                ObjectKey::user(Ident::stored(&user.name)),
                &versioned,
                false,
            )
            .await?
        {
            return Ok(false);
        }
        self.reindex_login(previous, Some(user)).await?;
        self.reindex_oidc(previous, Some(user)).await?;
        self.reindex_aws(previous, Some(user)).await?;
        Ok(true)
    }

    /// Replaces `previous` with `user`, only if nobody changed or dropped it since it was read
    /// ([`Error::Conflict`] otherwise, which drivers retry).
    pub async fn update_user(&self, user: &User, previous: &User) -> Result<bool> {
        let write = Write::IfVersion(previous.version);
        self.store
            .put_object(
                ObjectKey::user(Ident::stored(&user.name)),
                &encode(user)?,
                write,
            )
            .await?;
        self.reindex_login(Some(previous), Some(user)).await?;
        self.reindex_oidc(Some(previous), Some(user)).await?;
        self.reindex_aws(Some(previous), Some(user)).await?;
        Ok(true)
    }

    pub async fn delete_user(&self, user: &User) -> Result<bool> {
        let existed = self
            .store
            .delete_object(ObjectKey::user(Ident::stored(&user.name)))
            .await?;
        self.reindex_login(Some(user), None).await?;
        self.reindex_oidc(Some(user), None).await?;
        self.reindex_aws(Some(user), None).await?;
        Ok(existed)
    }

    async fn reindex_login(&self, old: Option<&User>, new: Option<&User>) -> Result<()> {
        let alias = |u: &User| {
            let login = u.effective_login();
            (login != u.name).then(|| LoginName::new(&login))
        };
        let old_alias = old.and_then(alias);
        let new_alias = new.and_then(alias);
        if let Some(a) = &old_alias
            && Some(a) != new_alias.as_ref()
        {
            self.store.delete_object(ObjectKey::login_name(a)).await?;
        }
        if let (Some(a), Some(user)) = (&new_alias, new) {
            self.store
                .put_object(
                    ObjectKey::login_name(a),
                    &encode(&user.name)?,
                    Write::Replace,
                )
                .await?;
        }
        Ok(())
    }

    /// Forgets the user's failed logins: `ALTER USER … SET MINS_TO_UNLOCK = 0`.
    /// Failures of a known user are counted under its name (see `login.rs`).
    pub async fn unlock(&self, user: &User) -> Result<()> {
        let counter = CounterName::user(Ident::stored(&user.name));
        Ok(self.store.clear_failures(&counter).await?)
    }

    /// Whether another user already logs in as `login`.
    pub async fn login_taken(&self, login: &str, except: &str) -> Result<bool> {
        Ok(self
            .user_by_login(login)
            .await?
            .is_some_and(|u| u.name != except))
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        self.list(NamedKind::User).await
    }

    pub async fn role(&self, name: Ident<'_>) -> Result<Option<Role>> {
        if SYSTEM_ROLES.contains(&name.as_str()) {
            return Ok(Some(Role {
                name: name.as_str().to_string(),
                comment: Some("system role".into()),
                ..Role::default()
            }));
        }
        self.get(ObjectKey::named(NamedKind::Role, name)).await
    }

    pub async fn roles(&self) -> Result<Vec<Role>> {
        let mut roles: Vec<Role> = SYSTEM_ROLES
            .iter()
            .map(|r| Role {
                name: r.to_string(),
                comment: Some("system role".into()),
                ..Role::default()
            })
            .collect();
        roles.extend(self.list::<Role>(NamedKind::Role).await?);
        Ok(roles)
    }

    pub async fn put_role(&self, role: &Role, replace: bool) -> Result<bool> {
        let key = ObjectKey::named(NamedKind::Role, Ident::stored(&role.name));
        self.put(key, role, replace).await
    }

    pub async fn delete_role(&self, name: Ident<'_>) -> Result<bool> {
        let key = ObjectKey::named(NamedKind::Role, name);
        Ok(self.store.delete_object(key).await?)
    }
}
