//! The user directory: users, roles, network policies and the account's settings, kept as JSON
//! documents in the store. The demo user of the configuration is one of these users, written at start.

pub mod demo_seed;
pub mod security_integrations;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::domain::ident::{Ident, LoginName};
use crate::domain::policy::{
    AttachedPolicies, AuthenticationPolicy, PasswordPolicy, PolicyKind, SessionPolicy,
};
use crate::domain::ports::storage::{
    AwsIdentityKey, CounterName, Failures, Found, NamedKind, ObjectKey, ObjectKind, OidcSubjectKey,
    Read, Store, StoreError, Versioned, Write,
};
use crate::error::{Error, Result};

/// Users read for one AWS identity at a login that names no user. An identity more users hold
/// (one role bound to many users) needs LOGIN_NAME: no entry makes such a login read more.
pub const MAX_AWS_HOLDERS: usize = 16;

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NetworkPolicy {
    pub name: String,
    pub allowed_ip_list: Vec<String>,
    pub blocked_ip_list: Vec<String>,
    pub comment: Option<String>,
    pub created_on: u64,
    /// The role that created it; `None` in records written before ownership was kept.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(skip)]
    pub version: u64,
}

impl NetworkPolicy {
    /// Parses one list entry: an address (a /32 or /128) or a CIDR. An IPv4-mapped IPv6 entry
    /// (`::ffff:10.0.0.1`, `::ffff:10.0.0.0/104`) becomes the IPv4 one, as client addresses do.
    pub fn parse_entry(entry: &str) -> std::result::Result<IpNet, String> {
        let entry = entry.trim();
        entry
            .parse::<IpNet>()
            .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
            .map(canonical_net)
            .map_err(|_| format!("'{entry}' is not an IP address or CIDR range"))
    }

    /// An address is admitted when an allowed range holds it and no blocked range does. An empty
    /// allowed list admits nothing; an unknown client address is never admitted.
    pub fn admits(&self, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip.map(canonical_ip) else {
            return false;
        };
        let contains = |list: &[String]| {
            list.iter()
                .filter_map(|e| Self::parse_entry(e).ok())
                .any(|net| net.contains(&ip))
        };
        contains(&self.allowed_ip_list) && !contains(&self.blocked_ip_list)
    }
}

/// `::ffff:1.2.3.4` is the IPv4 address it maps, so IPv4 rules apply to it.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// A range inside `::ffff:0:0/96` is the IPv4 range it maps; wider ranges stay IPv6.
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => v6
            .addr()
            .to_ipv4_mapped()
            .and_then(|v4| ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).ok())
            .map(|v4| IpNet::V4(v4.trunc()))
            .unwrap_or(net),
        other => other,
    }
}

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
}

impl std::fmt::Debug for DemoSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoSeed")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

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

/// The user whose own name is `login`, if they log in with it.
fn own_login(doc: Option<&Versioned>, login: &LoginName) -> Result<Option<User>> {
    let user = doc.map(decode_versioned::<User>).transpose()?;
    Ok(user.filter(|u| u.effective_login() == login.as_str()))
}

/// What a login read up front ([`Directory::login_reads`]).
#[derive(Debug, Default)]
pub struct LoginReads {
    pub account: AccountSettings,
    named: Option<NamedReads>,
    /// The policy records that govern the login, read in a second batch: (kind, name, record).
    policies: Vec<(ObjectKind, String, Option<Versioned>)>,
}

/// Where a policy check finds the account's settings, and the policy records a login read ahead:
/// a login's [`LoginReads`], or the bare settings (administration reads each policy it needs).
pub trait PolicySource: Sync {
    fn account(&self) -> &AccountSettings;

    /// The record under `key` when it was read ahead; `Some(None)`: read, and not there.
    fn read_ahead(&self, _key: ObjectKey<'_>) -> Option<Option<&Versioned>> {
        None
    }
}

impl PolicySource for AccountSettings {
    fn account(&self) -> &AccountSettings {
        self
    }
}

impl PolicySource for LoginReads {
    fn account(&self) -> &AccountSettings {
        &self.account
    }

    fn read_ahead(&self, key: ObjectKey<'_>) -> Option<Option<&Versioned>> {
        self.policies
            .iter()
            .find(|(kind, name, _)| *kind == key.kind() && name == key.name())
            .map(|(_, _, record)| record.as_ref())
    }
}

/// The policies that govern `user` (or an unknown name, `None`): for each kind, the user's own,
/// else the account's.
fn governing_policies(user: Option<&User>, account: &AccountSettings) -> Vec<(NamedKind, String)> {
    let attached = |kind: PolicyKind| {
        user.and_then(|u| u.policies.get(kind))
            .or_else(|| account.policies.get(kind))
            .map(str::to_string)
    };
    let own_network = user.and_then(|u| u.network_policy.clone());
    // A user's own network policy and the account's are both asked before the credential
    // (`Gatekeeper::check_network_before_credential`).
    let account_network = account
        .network_policy
        .clone()
        .filter(|a| own_network.as_ref().is_some_and(|own| own != a));
    let network = own_network.or_else(|| account.network_policy.clone());
    [
        (NamedKind::NetworkPolicy, network),
        (NamedKind::NetworkPolicy, account_network),
        (
            AuthenticationPolicy::OBJECT,
            attached(PolicyKind::Authentication),
        ),
        (PasswordPolicy::OBJECT, attached(PolicyKind::Password)),
        (SessionPolicy::OBJECT, attached(PolicyKind::Session)),
    ]
    .into_iter()
    .filter_map(|(kind, name)| name.map(|n| (kind, n)))
    .collect()
}

#[derive(Debug)]
struct NamedReads {
    login: LoginName,
    user: Option<Versioned>,
    alias: Option<Versioned>,
    failures: Failures,
}

impl LoginReads {
    /// The failures counted under `counter`, when they were read up front (those of the login
    /// name, which is also the counter of a user who logs in with their own name).
    pub fn failures_of(&self, counter: &CounterName) -> Option<Failures> {
        self.named
            .as_ref()
            .filter(|n| n.login.as_str() == counter.as_str())
            .map(|n| n.failures)
    }
}

fn encode<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|_| Error::Internal("directory document could not be encoded".into()))
}

impl Directory {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

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

    /// [`Self::user_by_login`], answered from `reads` when the login read for this name.
    pub async fn user_for_login(&self, reads: &LoginReads, login: &str) -> Result<Option<User>> {
        let typed = LoginName::new(login);
        match &reads.named {
            Some(named) if named.login == typed => {
                if let Some(user) = own_login(named.user.as_ref(), &typed)? {
                    return Ok(Some(user));
                }
                self.user_by_alias(named.alias.as_ref(), &typed).await
            }
            _ => self.user_by_login(login).await,
        }
    }

    /// The user the login-name index entry `alias` points to, if they still log in as `login`.
    async fn user_by_alias(
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

    /// Everything a login reads before checking a credential, in one batch: the account's
    /// settings and, when the login names a user (`login`), that user, the login-name index entry
    /// for the name (for users whose LOGIN_NAME is not their name) and the failures counted under
    /// it. On DynamoDB, one round trip.
    pub async fn login_reads(&self, login: Option<&str>, now: u64) -> Result<LoginReads> {
        let login = login.map(LoginName::new);
        let counter = login.as_ref().map(CounterName::login);
        let mut reads = vec![Read::Object(ObjectKey::ACCOUNT)];
        if let (Some(name), Some(counter)) = (&login, &counter) {
            reads.extend([
                Read::Object(ObjectKey::user(name.as_own_name())),
                Read::Object(ObjectKey::login_name(name)),
                Read::Failures(counter),
            ]);
        }
        let mut found = self.store.read_many(&reads, now).await?.into_iter();
        let unexpected = || Error::Internal("batch read answered out of order".into());
        let account = match found.next() {
            Some(Found::Object(doc)) => doc.as_ref().map(decode_versioned).transpose()?,
            _ => return Err(unexpected()),
        };
        let named = match (login, found.next(), found.next(), found.next()) {
            (None, None, None, None) => None,
            (
                Some(login),
                Some(Found::Object(user)),
                Some(Found::Object(alias)),
                Some(Found::Failures(failures)),
            ) => Some(NamedReads {
                login,
                user,
                alias,
                failures,
            }),
            _ => return Err(unexpected()),
        };
        let account = account.unwrap_or_default();
        let policies = self
            .read_policies_ahead(named.as_ref(), &account, now)
            .await?;
        Ok(LoginReads {
            account,
            named,
            policies,
        })
    }

    /// The policy records that will govern the login, in a second batch, so that its network,
    /// password, authentication and session policy checks read nothing one by one: the named
    /// user's (when it logs in with its own name and so was in the first batch), else the
    /// account's. No read when none applies. A user found otherwise (a login-name alias) has its
    /// own policies read at their checks.
    async fn read_policies_ahead(
        &self,
        named: Option<&NamedReads>,
        account: &AccountSettings,
        now: u64,
    ) -> Result<Vec<(ObjectKind, String, Option<Versioned>)>> {
        // A record that does not decode is reported where the login reads the user.
        let user = named
            .and_then(|n| own_login(n.user.as_ref(), &n.login).ok())
            .flatten();
        let names = governing_policies(user.as_ref(), account);
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let reads: Vec<Read<'_>> = names
            .iter()
            .map(|(kind, name)| Read::Object(ObjectKey::named(*kind, Ident::stored(name))))
            .collect();
        let found = self.store.read_many(&reads, now).await?;
        if found.len() != names.len() {
            return Err(Error::Internal("batch read answered out of order".into()));
        }
        names
            .into_iter()
            .zip(found)
            .map(|((kind, name), found)| match found {
                Found::Object(record) => Ok((kind.into(), name, record)),
                _ => Err(Error::Internal("batch read answered out of order".into())),
            })
            .collect()
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

    /// Keeps the OIDC index in step: entries of identities gone are removed, new ones written.
    async fn reindex_oidc(&self, old: Option<&User>, new: Option<&User>) -> Result<()> {
        let keys = |u: Option<&User>| -> Vec<OidcSubjectKey> {
            u.map(|u| {
                u.workload_identities
                    .iter()
                    .filter_map(|w| w.provider.oidc_key())
                    .map(|(issuer, subject)| OidcSubjectKey::new(issuer, subject))
                    .collect()
            })
            .unwrap_or_default()
        };
        let (old_keys, new_keys) = (keys(old), keys(new));
        for key in old_keys.iter().filter(|k| !new_keys.contains(k)) {
            self.store
                .delete_object(ObjectKey::oidc_subject(key))
                .await?;
        }
        if let Some(user) = new {
            for key in new_keys.iter().filter(|k| !old_keys.contains(k)) {
                let doc = encode(&user.name)?;
                self.store
                    .put_object(ObjectKey::oidc_subject(key), &doc, Write::Replace)
                    .await?;
            }
        }
        Ok(())
    }

    /// Keeps the AWS index in step: the user's name is taken off the entries of AWS identities it
    /// no longer holds and put on those of new ones.
    async fn reindex_aws(&self, old: Option<&User>, new: Option<&User>) -> Result<()> {
        let names = |u: Option<&User>| -> BTreeSet<String> {
            u.into_iter()
                .flat_map(|u| &u.workload_identities)
                .filter_map(|w| w.provider.aws_index_name())
                .collect()
        };
        let (old_names, new_names) = (names(old), names(new));
        if let Some(user) = old {
            for arn in old_names.difference(&new_names) {
                self.edit_aws_entry(&AwsIdentityKey::new(arn), &user.name, false)
                    .await?;
            }
        }
        if let Some(user) = new {
            for arn in new_names.difference(&old_names) {
                self.edit_aws_entry(&AwsIdentityKey::new(arn), &user.name, true)
                    .await?;
            }
        }
        Ok(())
    }

    /// Adds `user` to (or takes it off) one AWS index entry: a list of user names, written only at
    /// the version read, so two administrators binding one role to two users at once both land.
    /// An emptied entry stays, empty: deleting it could drop a name written meanwhile.
    async fn edit_aws_entry(&self, key: &AwsIdentityKey, user: &str, add: bool) -> Result<()> {
        const ATTEMPTS: usize = 5;
        for _ in 0..ATTEMPTS {
            let entry = self.store.get_object(ObjectKey::aws_identity(key)).await?;
            let (mut names, write) = match &entry {
                Some(e) => (decode::<Vec<String>>(&e.doc)?, Write::IfVersion(e.version)),
                None => (Vec::new(), Write::Create),
            };
            if names.iter().any(|n| n == user) == add {
                return Ok(());
            }
            match add {
                true => names.push(user.to_string()),
                false => names.retain(|n| n != user),
            }
            let doc = encode(&names)?;
            match self
                .store
                .put_object(ObjectKey::aws_identity(key), &doc, write)
                .await
            {
                Ok(_) => return Ok(()),
                Err(StoreError::Conflict | StoreError::AlreadyExists) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Conflict)
    }

    /// The users the AWS index lists for `index_name` (an `AwsArn::index_name`), as their records
    /// stand now (the index is a hint: the caller checks the identity on each); `None` when more
    /// than [`MAX_AWS_HOLDERS`] are listed.
    pub async fn users_by_aws(&self, index_name: &str) -> Result<Option<Vec<User>>> {
        let key = AwsIdentityKey::new(index_name);
        let entry = self.store.get_object(ObjectKey::aws_identity(&key)).await?;
        let Some(names) = entry.map(|e| decode::<Vec<String>>(&e.doc)).transpose()? else {
            return Ok(Some(Vec::new()));
        };
        if names.len() > MAX_AWS_HOLDERS {
            return Ok(None);
        }
        let mut users = Vec::new();
        for name in &names {
            if let Some(user) = self.user(Ident::stored(name)).await? {
                users.push(user);
            }
        }
        Ok(Some(users))
    }

    /// Indexes the AWS identities of users written before the AWS index existed: once per
    /// directory (the account's settings remember it), at start-up. Users written since are
    /// indexed as they are written; adding a name twice is a no-op, so two instances may race.
    pub async fn build_aws_index(&self) -> Result<()> {
        if self.account().await?.aws_index_built {
            return Ok(());
        }
        for user in self.users().await? {
            self.reindex_aws(None, Some(&user)).await?;
        }
        let mut account = self.account().await?;
        account.aws_index_built = true;
        self.set_account(&account).await
    }

    /// An OIDC identity of `user` that another user already holds (issuer, subject).
    pub async fn oidc_taken(&self, user: &User) -> Result<Option<(String, String)>> {
        for (issuer, subject) in user
            .workload_identities
            .iter()
            .filter_map(|w| w.provider.oidc_key())
        {
            if let Some(holder) = self.user_by_oidc(issuer, subject).await?
                && holder.name != user.name
            {
                return Ok(Some((issuer.to_string(), subject.to_string())));
            }
        }
        Ok(None)
    }

    /// The user with an OIDC workload identity for exactly `issuer` and `subject`.
    pub async fn user_by_oidc(&self, issuer: &str, subject: &str) -> Result<Option<User>> {
        let key = OidcSubjectKey::new(issuer, subject);
        let entry = self.store.get_object(ObjectKey::oidc_subject(&key)).await?;
        let Some(name) = entry.map(|e| decode::<String>(&e.doc)).transpose()? else {
            return Ok(None);
        };
        // The index is a hint: the user record must still hold the identity.
        Ok(self.user(Ident::stored(&name)).await?.filter(|u| {
            u.workload_identities
                .iter()
                .any(|w| w.provider.oidc_key() == Some((issuer, subject)))
        }))
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

    pub async fn policy(&self, name: Ident<'_>) -> Result<Option<NetworkPolicy>> {
        self.get(ObjectKey::named(NamedKind::NetworkPolicy, name))
            .await
    }

    pub async fn policies(&self) -> Result<Vec<NetworkPolicy>> {
        self.list(NamedKind::NetworkPolicy).await
    }

    pub async fn put_policy(&self, policy: &NetworkPolicy, replace: bool) -> Result<bool> {
        let key = ObjectKey::named(NamedKind::NetworkPolicy, Ident::stored(&policy.name));
        self.put(key, policy, replace).await
    }

    pub async fn delete_policy(&self, name: Ident<'_>) -> Result<bool> {
        let key = ObjectKey::named(NamedKind::NetworkPolicy, name);
        Ok(self.store.delete_object(key).await?)
    }

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

    pub async fn policy_record<T: PolicyRecord>(&self, name: Ident<'_>) -> Result<Option<T>> {
        self.get(ObjectKey::named(T::OBJECT, name)).await
    }

    pub async fn policy_records<T: PolicyRecord>(&self) -> Result<Vec<T>> {
        self.list(T::OBJECT).await
    }

    /// Writes a policy record over the version it was read at, else as new (or over anything with
    /// `replace`); `false` when a create found one there.
    pub async fn put_policy_record<T: PolicyRecord>(
        &self,
        policy: &T,
        replace: bool,
    ) -> Result<bool> {
        let key = ObjectKey::named(T::OBJECT, Ident::stored(policy.name()));
        self.put(key, policy, replace).await
    }

    pub async fn delete_policy_record<T: PolicyRecord>(&self, name: Ident<'_>) -> Result<bool> {
        let key = ObjectKey::named(T::OBJECT, name);
        Ok(self.store.delete_object(key).await?)
    }

    /// The record under `key`: from what `source` read ahead, else from the store.
    async fn get_via<T: Record>(
        &self,
        key: ObjectKey<'_>,
        source: &impl PolicySource,
    ) -> Result<Option<T>> {
        match source.read_ahead(key) {
            Some(record) => record.map(decode_versioned).transpose(),
            None => self.get(key).await,
        }
    }

    /// The policy of kind `T` that governs `user`: the user's own, else the account's (as read by
    /// the caller, so a login reads the account once), else Snowflake's defaults. A name whose
    /// record is gone counts as none.
    pub async fn effective_policy<T: PolicyRecord>(
        &self,
        user: Option<&User>,
        source: &impl PolicySource,
    ) -> Result<T> {
        Ok(self
            .attached_policy(user, source)
            .await?
            .unwrap_or_default())
    }

    /// The policy of kind `T` set on `user`, else on the account (as read by the caller), else `None`
    /// (also when its record is gone): for rules that apply only under a policy.
    pub async fn attached_policy<T: PolicyRecord>(
        &self,
        user: Option<&User>,
        source: &impl PolicySource,
    ) -> Result<Option<T>> {
        let name = user
            .and_then(|u| u.policies.get(T::KIND))
            .or_else(|| source.account().policies.get(T::KIND));
        match name {
            Some(name) => {
                let key = ObjectKey::named(T::OBJECT, Ident::stored(name));
                self.get_via(key, source).await
            }
            None => Ok(None),
        }
    }

    /// The network policy that governs `user`'s logins: the user's own, else the account's (as
    /// read by the caller, so a login reads the account once), else none.
    pub async fn network_policy_for(
        &self,
        user: Option<&User>,
        source: &impl PolicySource,
    ) -> Result<Option<NetworkPolicy>> {
        let name = user
            .and_then(|u| u.network_policy.as_deref())
            .or(source.account().network_policy.as_deref());
        match name {
            Some(n) => {
                let key = ObjectKey::named(NamedKind::NetworkPolicy, Ident::stored(n));
                self.get_via(key, source).await
            }
            None => Ok(None),
        }
    }
}
