//! Session storage behind one trait, so the router runs the same on the in-memory store (the local
//! default) and on DynamoDB. Every implementation passes `tests/store_contract.rs`.

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
