//! The storage the domain needs, as traits the domain owns: sessions, the directory (users, roles,
//! network policies, account settings, versioned) and failed-login counters. `crate::store` holds the
//! implementations (memory, SQLite, DynamoDB); every one passes the contract in `tests/contract/`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::ident::{Ident, LoginName};
use crate::domain::session::{SealedUpstream, Session, SessionContext};

/// One login attempt, as the login history keeps it (`query/login_history.rs` has its rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginEvent {
    /// Positive, below 2^53 (drivers read NUMBER columns into doubles in places); time-ordered.
    pub id: u64,
    /// Epoch seconds.
    pub time: u64,
    /// The user's name when the user was identified; otherwise the login name typed, upper-cased
    /// (as Snowflake shows it); `None` when no name was given.
    pub user_name: Option<String>,
    pub client_ip: Option<String>,
    pub client_type: Option<String>,
    pub client_version: Option<String>,
    pub first_factor: Option<String>,
    pub second_factor: Option<String>,
    pub success: bool,
    pub error_code: Option<u64>,
    pub error_message: Option<String>,
    /// Epoch seconds: the record is gone after this (DynamoDB's TTL attribute).
    pub expires_at: u64,
}

/// What a history read asks a store for: the events of `user` (every user when `None`) with
/// `from <= time <= to`, not expired at `now`, newest first (time, then id), at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    pub user: Option<String>,
    pub from: u64,
    pub to: u64,
    pub limit: usize,
    pub now: u64,
}

#[derive(Debug, Error)]
pub enum StoreError {
    /// A create found the session or object already there: nothing was written.
    #[error("already exists")]
    AlreadyExists,
    /// A conditional write found another version than the one it was based on: nothing was written.
    #[error("changed concurrently")]
    Conflict,
    /// The backend failed, throttled or timed out: the caller should answer with a retryable error.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A fault a retry cannot mend: a corrupt record, a missing table, a refused request.
    #[error("store fault: {0}")]
    Fault(String),
}

impl From<StoreError> for crate::Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AlreadyExists => crate::Error::Unavailable("session id collision".into()),
            StoreError::Conflict => crate::Error::Conflict,
            StoreError::Unavailable(msg) => crate::Error::Unavailable(msg),
            StoreError::Fault(msg) => crate::Error::Internal(msg),
        }
    }
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session; never overwrites an existing one.
    async fn create(&self, session: &Session) -> Result<(), StoreError>;
    /// The session, or `None` when it was deleted or has expired at `now` (epoch seconds). Reads are
    /// consistent: a delete on one instance is seen by the next read on any other.
    async fn get(&self, id: u64, now: u64) -> Result<Option<Session>, StoreError>;
    /// Replaces the context of a live session. `Ok(false)` when there is no such live session, in which
    /// case nothing is written.
    async fn update_context(
        &self,
        id: u64,
        context: &SessionContext,
        now: u64,
    ) -> Result<bool, StoreError>;
    /// Records a renewal: `token_id` becomes the session's token, the one before it is kept as
    /// `previous_token_id`, `renewed_at` is `now`. `Ok(false)` (nothing written) when there is no such
    /// live session.
    async fn rotate_token(&self, id: u64, token_id: &str, now: u64) -> Result<bool, StoreError>;
    /// Sets the session's sealed engine token to `new`, only if the live session's is `expected`
    /// now (compare and set): two first statements opening an engine session at once cannot both
    /// win, and a re-login after an engine restart does not overwrite another's. `Ok(false)`,
    /// nothing written, when the session is gone, expired, or holds another value.
    async fn set_upstream(
        &self,
        id: u64,
        expected: Option<&SealedUpstream>,
        new: &SealedUpstream,
        now: u64,
    ) -> Result<bool, StoreError>;
    /// Records activity: `last_active` becomes `now`, only if the session exists, has not expired and
    /// is not idle at `now` ([`Session::is_idle`]), so that it never revives an idle or deleted
    /// session. `Ok(false)` (nothing written) otherwise.
    async fn touch(&self, id: u64, now: u64) -> Result<bool, StoreError>;
    /// Removes the session. Idempotent: deleting a missing session succeeds.
    async fn delete(&self, id: u64) -> Result<(), StoreError>;
    /// Removes the session only if it accepts the session token `token_id` at `now` (its current
    /// token, or the one a renewal replaced less than `grace` seconds before:
    /// [`Session::accepts_token`]), in one step: a logout. `Ok(false)`, nothing removed, when the
    /// live session holds another token; a missing or expired session is `Ok(true)` (idempotent).
    async fn delete_with_token(
        &self,
        id: u64,
        token_id: &str,
        now: u64,
        grace: u64,
    ) -> Result<bool, StoreError>;
}

/// The kinds of directory object. Each is stored as a JSON document under its (upper-cased or quoted)
/// name; the store does not look inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    User,
    Role,
    NetworkPolicy,
    /// Account-wide settings, one document named `ACCOUNT`.
    Account,
    /// Login name → user name, for users whose `LOGIN_NAME` differs from their name.
    LoginName,
    AuthenticationPolicy,
    PasswordPolicy,
    SessionPolicy,
    /// OIDC workload identity (a digest of issuer and subject) → user name, so a login that names no
    /// user (the Go driver's) is two reads.
    OidcSubject,
    /// AWS workload identity (a digest of the IAM role or user as STS names it) → the names of the
    /// users holding it, so a login that names no user reads one entry, not the directory.
    AwsIdentity,
    /// External OAuth security integrations.
    SecurityIntegration,
    /// A PAT (the digest of its secret) → the name of the user holding it, so that a request
    /// presenting a bare PAT (forward-auth, the SQL API) finds its user in one read.
    PatOwner,
}

impl ObjectKind {
    pub fn key_prefix(self) -> &'static str {
        match self {
            ObjectKind::User => "USER",
            ObjectKind::Role => "ROLE",
            ObjectKind::NetworkPolicy => "NETWORK_POLICY",
            ObjectKind::Account => "ACCOUNT",
            ObjectKind::LoginName => "LOGIN_NAME",
            ObjectKind::AuthenticationPolicy => "AUTHENTICATION_POLICY",
            ObjectKind::PasswordPolicy => "PASSWORD_POLICY",
            ObjectKind::SessionPolicy => "SESSION_POLICY",
            ObjectKind::OidcSubject => "OIDC_SUBJECT",
            ObjectKind::AwsIdentity => "AWS_IDENTITY",
            ObjectKind::SecurityIntegration => "SECURITY_INTEGRATION",
            ObjectKind::PatOwner => "PAT_OWNER",
        }
    }
}

/// The kinds of object named by an identifier (users, roles, policies, integrations), as against
/// the account's one document and the two indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamedKind {
    User,
    Role,
    NetworkPolicy,
    AuthenticationPolicy,
    PasswordPolicy,
    SessionPolicy,
    SecurityIntegration,
}

impl From<NamedKind> for ObjectKind {
    fn from(kind: NamedKind) -> Self {
        match kind {
            NamedKind::User => ObjectKind::User,
            NamedKind::Role => ObjectKind::Role,
            NamedKind::NetworkPolicy => ObjectKind::NetworkPolicy,
            NamedKind::AuthenticationPolicy => ObjectKind::AuthenticationPolicy,
            NamedKind::PasswordPolicy => ObjectKind::PasswordPolicy,
            NamedKind::SessionPolicy => ObjectKind::SessionPolicy,
            NamedKind::SecurityIntegration => ObjectKind::SecurityIntegration,
        }
    }
}

/// Where a directory object is kept: its kind and its name as stored. Each constructor applies its
/// kind's naming rule (an identifier's stored form, an upper-cased login name, a digest), so a store
/// compares names byte for byte and never normalises one, and no name lands in another kind's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectKey<'a> {
    kind: ObjectKind,
    name: &'a str,
}

impl<'a> ObjectKey<'a> {
    /// The account's settings: one document.
    pub const ACCOUNT: ObjectKey<'static> = ObjectKey {
        kind: ObjectKind::Account,
        name: "ACCOUNT",
    };

    /// A user, role, policy or integration.
    pub fn named(kind: NamedKind, name: Ident<'a>) -> Self {
        Self {
            kind: kind.into(),
            name: name.as_str(),
        }
    }

    pub fn user(name: Ident<'a>) -> Self {
        Self::named(NamedKind::User, name)
    }

    /// The login-name index entry for `login`: which user logs in with it, for users whose
    /// LOGIN_NAME is not their name.
    pub fn login_name(login: &'a LoginName) -> Self {
        Self {
            kind: ObjectKind::LoginName,
            name: login.as_str(),
        }
    }

    /// The OIDC index entry for one issuer and subject.
    pub fn oidc_subject(key: &'a OidcSubjectKey) -> Self {
        Self {
            kind: ObjectKind::OidcSubject,
            name: &key.0,
        }
    }

    /// The AWS index entry for one IAM identity.
    pub fn aws_identity(key: &'a AwsIdentityKey) -> Self {
        Self {
            kind: ObjectKind::AwsIdentity,
            name: &key.0,
        }
    }

    /// The PAT index entry for one secret.
    pub fn pat_owner(key: &'a PatOwnerKey) -> Self {
        Self {
            kind: ObjectKind::PatOwner,
            name: &key.0,
        }
    }

    pub fn kind(self) -> ObjectKind {
        self.kind
    }

    pub fn name(self) -> &'a str {
        self.name
    }
}

/// The OIDC index's name for an issuer and a subject: a digest of both, so that no length or
/// character of either can outgrow or break a key. The index is a hint: a login checks the user
/// record it points to for the exact issuer and subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSubjectKey(String);

impl OidcSubjectKey {
    pub fn new(issuer: &str, subject: &str) -> Self {
        Self(digest(&[issuer, subject]))
    }
}

/// The AWS index's name for an IAM identity (its canonical ARN, as `AwsArn::index_name` makes
/// it): a digest, as for the OIDC index. A hint too: a login checks each user record it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsIdentityKey(String);

impl AwsIdentityKey {
    pub fn new(canonical_arn: &str) -> Self {
        Self(digest(&[canonical_arn]))
    }
}

/// The PAT index's name for a secret: the hex SHA-256 the user record keeps of it (never the
/// secret). A hint too: a request checks the user record it names for an active token.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PatOwnerKey(String);

impl PatOwnerKey {
    /// From the digest a `Pat` record keeps (`secret_sha256`).
    pub fn from_digest(digest: &str) -> Self {
        Self(digest.to_string())
    }
}

/// Hex SHA-256 of the parts, each followed by a NUL (no part contains one that matters: a digest
/// only has to keep different inputs apart).
fn digest(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash.update([0u8]);
        }
        hash.update(part.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whose failed logins a counter counts: a known user's, under the user's name, or an unknown login
/// name's, under that name, so unknown names are counted and locked like real ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterName(String);

impl CounterName {
    pub fn user(name: Ident<'_>) -> Self {
        Self(name.as_str().to_string())
    }

    pub fn login(login: &LoginName) -> Self {
        Self(login.as_str().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored document and its version: 1 when created, one more at every write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    pub doc: String,
    pub version: u64,
}

/// What a write may overwrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// Only if there is no such object: otherwise [`StoreError::AlreadyExists`].
    Create,
    /// Whatever is there, or nothing (`CREATE OR REPLACE`, the login-name index).
    Replace,
    /// Only the object at this version (what the writer read): otherwise [`StoreError::Conflict`],
    /// also when it is gone. Version 0 is a record written before versions existed.
    IfVersion(u64),
}

#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// The document and its version, or `None`.
    async fn get_object(&self, key: ObjectKey<'_>) -> Result<Option<Versioned>, StoreError>;
    /// Writes the document as `write` allows; returns its new version.
    async fn put_object(
        &self,
        key: ObjectKey<'_>,
        doc: &str,
        write: Write,
    ) -> Result<u64, StoreError>;
    /// Removes the object; `Ok(true)` when it existed.
    async fn delete_object(&self, key: ObjectKey<'_>) -> Result<bool, StoreError>;
    /// Every document of `kind`, in name order.
    async fn list_objects(&self, kind: ObjectKind) -> Result<Vec<Versioned>, StoreError>;
}

/// Failed logins of one name, shared by every instance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    /// Epoch seconds: the count is forgotten after this.
    pub until: u64,
}

#[async_trait]
pub trait LockoutStore: Send + Sync {
    /// The live count for `name` at `now`: zero once it has expired.
    async fn failures(&self, name: &CounterName, now: u64) -> Result<Failures, StoreError>;
    /// Counts one failed attempt of `name`, identified by `attempt` (the login's request id), and keeps
    /// the count until `until`. The same attempt counted again (a driver retrying the same login)
    /// changes nothing. Returns the count after the call and whether this call raised it. Atomic: N
    /// parallel attempts raise the count by exactly N.
    async fn record_failure(
        &self,
        name: &CounterName,
        attempt: &str,
        now: u64,
        until: u64,
    ) -> Result<(Failures, bool), StoreError>;
    /// Forgets the failures of `name` (a successful login, or an administrator's unlock).
    async fn clear_failures(&self, name: &CounterName) -> Result<(), StoreError>;
}

/// The login history: one record per login attempt, each gone after its `expires_at`.
#[async_trait]
pub trait LoginHistoryStore: Send + Sync {
    /// Stores one event. Events are never changed afterwards.
    async fn record_login(&self, event: &LoginEvent) -> Result<(), StoreError>;
    /// The events `query` selects, newest first (by time, then id); expired ones are left out.
    async fn login_history(&self, query: &HistoryQuery) -> Result<Vec<LoginEvent>, StoreError>;
}

/// One thing to read in a batch ([`Store::read_many`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read<'a> {
    Session(u64),
    Object(ObjectKey<'a>),
    Failures(&'a CounterName),
}

/// What a [`Read`] found, in the same position: the live session, the object, the live count.
// A batch is a handful of reads, answered once: boxing the session would save nothing that counts.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Session(Option<Session>),
    Object(Option<Versioned>),
    Failures(Failures),
}

/// Most reads one [`Store::read_many`] takes (DynamoDB's BatchGetItem limit).
pub const MAX_BATCH_READS: usize = 100;

/// Refuses a batch larger than [`MAX_BATCH_READS`]: a bug, never a request's doing.
pub fn check_batch(reads: &[Read<'_>]) -> Result<(), StoreError> {
    match reads.len() {
        n if n > MAX_BATCH_READS => Err(StoreError::Fault(format!(
            "{n} reads in one batch (at most {MAX_BATCH_READS})"
        ))),
        _ => Ok(()),
    }
}

/// Everything the service stores.
#[async_trait]
pub trait Store: SessionStore + DirectoryStore + LockoutStore + LoginHistoryStore {
    /// Several reads at once, each answered as its single read would be (consistent, expired
    /// sessions and counters left out), in the order asked. A request reads what it needs up front
    /// this way: DynamoDB answers in one round trip (BatchGetItem). The default reads them one
    /// after the other. At most [`MAX_BATCH_READS`]; the same read may be asked twice.
    async fn read_many(&self, reads: &[Read<'_>], now: u64) -> Result<Vec<Found>, StoreError> {
        check_batch(reads)?;
        let mut found = Vec::with_capacity(reads.len());
        for read in reads {
            found.push(match *read {
                Read::Session(id) => Found::Session(self.get(id, now).await?),
                Read::Object(key) => Found::Object(self.get_object(key).await?),
                Read::Failures(name) => Found::Failures(self.failures(name, now).await?),
            });
        }
        Ok(found)
    }

    /// The session and a directory object in one read: every request checks the session's user.
    async fn session_and_object(
        &self,
        id: u64,
        now: u64,
        key: ObjectKey<'_>,
    ) -> Result<(Option<Session>, Option<Versioned>), StoreError> {
        let found = self
            .read_many(&[Read::Session(id), Read::Object(key)], now)
            .await?;
        let mut found = found.into_iter();
        match (found.next(), found.next()) {
            (Some(Found::Session(session)), Some(Found::Object(object))) => Ok((session, object)),
            _ => Err(StoreError::Fault("batch read answered out of order".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ident::Identifier;

    #[test]
    fn each_key_lands_in_its_own_kind() {
        let alice = Identifier::from_user_input("alice").unwrap();
        let login = LoginName::new("alice");
        let oidc = OidcSubjectKey::new("https://issuer", "alice");
        let aws = AwsIdentityKey::new("arn:aws:iam::123456789012:role/alice");
        let keys = [
            ObjectKey::user(alice.as_ident()),
            ObjectKey::named(NamedKind::Role, alice.as_ident()),
            ObjectKey::login_name(&login),
            ObjectKey::oidc_subject(&oidc),
            ObjectKey::ACCOUNT,
            ObjectKey::aws_identity(&aws),
        ];
        let kinds: Vec<ObjectKind> = keys.iter().map(|k| k.kind()).collect();
        assert_eq!(
            kinds,
            [
                ObjectKind::User,
                ObjectKind::Role,
                ObjectKind::LoginName,
                ObjectKind::OidcSubject,
                ObjectKind::Account,
                ObjectKind::AwsIdentity
            ]
        );
        assert_eq!(keys[5].name().len(), 64);
        assert_eq!(keys[0].name(), "ALICE");
        assert_eq!(keys[2].name(), "ALICE");
        assert_eq!(
            keys[3].name().len(),
            64,
            "a hex SHA-256, whatever the subject's length"
        );
        assert_ne!(
            OidcSubjectKey::new("https://issuer", "alice"),
            OidcSubjectKey::new("https://other", "alice")
        );
    }

    #[test]
    fn a_known_user_and_their_own_login_share_one_counter() {
        let alice = Identifier::from_user_input("alice").unwrap();
        assert_eq!(
            CounterName::user(alice.as_ident()),
            CounterName::login(&LoginName::new("Alice"))
        );
    }
}
