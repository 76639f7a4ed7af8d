//! The in-memory store: the local default, one process's sessions in a map.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use std::collections::BTreeMap;

use super::{DirectoryStore, ObjectKind, SessionStore, StoreError};
use crate::domain::session::{Session, SessionContext};

/// Directory documents by kind, then name.
type Objects = HashMap<ObjectKind, BTreeMap<String, String>>;

const SWEEP_EVERY: usize = 1024;

#[derive(Default)]
pub struct MemoryStore {
    sessions: Mutex<HashMap<u64, Session>>,
    objects: Mutex<Objects>,
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

impl MemoryStore {
    fn objects(&self) -> Result<std::sync::MutexGuard<'_, Objects>, StoreError> {
        self.objects
            .lock()
            .map_err(|_| StoreError::Unavailable("memory store lock poisoned".into()))
    }
}

#[async_trait]
impl DirectoryStore for MemoryStore {
    async fn get_object(&self, kind: ObjectKind, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .objects()?
            .get(&kind)
            .and_then(|m| m.get(name))
            .cloned())
    }

    async fn put_object(
        &self,
        kind: ObjectKind,
        name: &str,
        doc: &str,
        replace: bool,
    ) -> Result<(), StoreError> {
        let mut objects = self.objects()?;
        let map = objects.entry(kind).or_default();
        if !replace && map.contains_key(name) {
            return Err(StoreError::AlreadyExists);
        }
        map.insert(name.to_string(), doc.to_string());
        Ok(())
    }

    async fn update_object(
        &self,
        kind: ObjectKind,
        name: &str,
        doc: &str,
    ) -> Result<bool, StoreError> {
        let mut objects = self.objects()?;
        match objects.get_mut(&kind).and_then(|m| m.get_mut(name)) {
            Some(slot) => {
                *slot = doc.to_string();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_object(&self, kind: ObjectKind, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .objects()?
            .get_mut(&kind)
            .is_some_and(|m| m.remove(name).is_some()))
    }

    async fn list_objects(&self, kind: ObjectKind) -> Result<Vec<String>, StoreError> {
        Ok(self
            .objects()?
            .get(&kind)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default())
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
