//! The in-memory store: the local default, one process's sessions in a map.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{SessionStore, StoreError};
use crate::domain::session::{Session, SessionContext};

const SWEEP_EVERY: usize = 1024;

#[derive(Default)]
pub struct MemoryStore {
    sessions: Mutex<HashMap<u64, Session>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<u64, Session>>, StoreError> {
        // A poisoned lock means a panic elsewhere mid-update; report it instead of panicking again.
        self.sessions
            .lock()
            .map_err(|_| StoreError::Unavailable("memory store lock poisoned".into()))
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        let mut sessions = self.lock()?;
        if sessions.contains_key(&session.id) {
            return Err(StoreError::AlreadyExists);
        }
        // Sessions nobody reads again would stay forever; sweep the expired ones now and then.
        if sessions.len() % SWEEP_EVERY == SWEEP_EVERY - 1 {
            sessions.retain(|_, s| !s.is_expired(session.created_at));
        }
        sessions.insert(session.id, session.clone());
        Ok(())
    }

    async fn get(&self, id: u64, now: u64) -> Result<Option<Session>, StoreError> {
        let mut sessions = self.lock()?;
        match sessions.get(&id) {
            Some(s) if s.is_expired(now) => {
                // Expired sessions are dropped on sight, as DynamoDB's TTL would eventually do.
                sessions.remove(&id);
                Ok(None)
            }
            other => Ok(other.cloned()),
        }
    }

    async fn update_context(
        &self,
        id: u64,
        context: &SessionContext,
        now: u64,
    ) -> Result<bool, StoreError> {
        let mut sessions = self.lock()?;
        match sessions.get_mut(&id) {
            Some(s) if !s.is_expired(now) => {
                s.context = context.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn delete(&self, id: u64) -> Result<(), StoreError> {
        self.lock()?.remove(&id);
        Ok(())
    }
}
