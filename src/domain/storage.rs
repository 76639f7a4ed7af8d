//! The storage the domain needs, as traits the domain owns: sessions, the directory (users, roles,
//! network policies, account settings, versioned) and failed-login counters. `crate::store` holds the
//! implementations (memory, SQLite, DynamoDB); every one passes the contract in `tests/contract/`.

use async_trait::async_trait;
use thiserror::Error;

pub use super::login_history::{HistoryQuery, LoginEvent};
use super::session::{Session, SessionContext};

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
    /// Records activity: `last_active` becomes `now`, only if the session exists, has not expired and
    /// is not idle at `now` ([`Session::is_idle`]), so that it never revives an idle or deleted
    /// session. `Ok(false)` (nothing written) otherwise.
    async fn touch(&self, id: u64, now: u64) -> Result<bool, StoreError>;
    /// Removes the session. Idempotent: deleting a missing session succeeds.
    async fn delete(&self, id: u64) -> Result<(), StoreError>;
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
    /// External OAuth security integrations.
    SecurityIntegration,
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
            ObjectKind::SecurityIntegration => "SECURITY_INTEGRATION",
        }
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
    async fn get_object(
        &self,
        kind: ObjectKind,
        name: &str,
    ) -> Result<Option<Versioned>, StoreError>;
    /// Writes the document as `write` allows; returns its new version.
    async fn put_object(
        &self,
        kind: ObjectKind,
        name: &str,
        doc: &str,
        write: Write,
    ) -> Result<u64, StoreError>;
    /// Removes the object; `Ok(true)` when it existed.
    async fn delete_object(&self, kind: ObjectKind, name: &str) -> Result<bool, StoreError>;
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
    async fn failures(&self, name: &str, now: u64) -> Result<Failures, StoreError>;
    /// Counts one failed attempt of `name`, identified by `attempt` (the login's request id), and keeps
    /// the count until `until`. The same attempt counted again (a driver retrying the same login)
    /// changes nothing. Returns the count after the call and whether this call raised it. Atomic: N
    /// parallel attempts raise the count by exactly N.
    async fn record_failure(
        &self,
        name: &str,
        attempt: &str,
        now: u64,
        until: u64,
    ) -> Result<(Failures, bool), StoreError>;
    /// Forgets the failures of `name` (a successful login, or an administrator's unlock).
    async fn clear_failures(&self, name: &str) -> Result<(), StoreError>;
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
    Object(ObjectKind, &'a str),
    Failures(&'a str),
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
                Read::Object(kind, name) => Found::Object(self.get_object(kind, name).await?),
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
        kind: ObjectKind,
        name: &str,
    ) -> Result<(Option<Session>, Option<Versioned>), StoreError> {
        let found = self
            .read_many(&[Read::Session(id), Read::Object(kind, name)], now)
            .await?;
        let mut found = found.into_iter();
        match (found.next(), found.next()) {
            (Some(Found::Session(session)), Some(Found::Object(object))) => Ok((session, object)),
            _ => Err(StoreError::Fault("batch read answered out of order".into())),
        }
    }
}
