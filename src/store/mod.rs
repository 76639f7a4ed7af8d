//! Storage behind two traits, sessions and the directory (users, roles, network policies, account
//! settings), so the service runs the same on the in-memory store (the local default) and on DynamoDB.
//! Every implementation passes the contract in `tests/contract/`.

pub mod dynamo;
pub mod memory;

use async_trait::async_trait;
use thiserror::Error;

use crate::domain::session::{Session, SessionContext};

#[derive(Debug, Error)]
pub enum StoreError {
    /// `create` found a session with the same id: nothing was written.
    #[error("session already exists")]
    AlreadyExists,
    /// The backend failed or timed out: the caller should answer with a retryable error.
    #[error("session store unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for crate::Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AlreadyExists => crate::Error::Unavailable("session id collision".into()),
            StoreError::Unavailable(msg) => crate::Error::Unavailable(msg),
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
}

impl ObjectKind {
    pub fn key_prefix(self) -> &'static str {
        match self {
            ObjectKind::User => "USER",
            ObjectKind::Role => "ROLE",
            ObjectKind::NetworkPolicy => "NETWORK_POLICY",
            ObjectKind::Account => "ACCOUNT",
            ObjectKind::LoginName => "LOGIN_NAME",
        }
    }
}

#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// The document, or `None`.
    async fn get_object(&self, kind: ObjectKind, name: &str) -> Result<Option<String>, StoreError>;
    /// Writes the document. Without `replace`, an existing object is left alone and the answer is
    /// [`StoreError::AlreadyExists`].
    async fn put_object(
        &self,
        kind: ObjectKind,
        name: &str,
        doc: &str,
        replace: bool,
    ) -> Result<(), StoreError>;
    /// Replaces an existing object's document; `Ok(false)` (and nothing written) when it is absent.
    async fn update_object(
        &self,
        kind: ObjectKind,
        name: &str,
        doc: &str,
    ) -> Result<bool, StoreError>;
    /// Removes the object; `Ok(true)` when it existed.
    async fn delete_object(&self, kind: ObjectKind, name: &str) -> Result<bool, StoreError>;
    /// Every document of `kind`, in name order.
    async fn list_objects(&self, kind: ObjectKind) -> Result<Vec<String>, StoreError>;
}

/// Everything the service stores.
pub trait Store: SessionStore + DirectoryStore {}

impl<T: SessionStore + DirectoryStore> Store for T {}
