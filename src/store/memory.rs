//! The in-memory store: one process's state in maps, for tests and throw-away runs.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use std::collections::BTreeMap;

use super::{
    CounterName, DirectoryStore, Failures, HistoryQuery, LockoutStore, LoginEvent,
    LoginHistoryStore, ObjectKey, ObjectKind, SessionStore, Store, StoreError, Versioned, Write,
};
use crate::domain::session::{SealedUpstream, Session, SessionContext};

/// Directory documents and their versions, by kind, then name.
type Objects = HashMap<ObjectKind, BTreeMap<String, Versioned>>;

const SWEEP_EVERY: usize = 1024;

/// Most login events kept: a flood of logins must not grow memory without bound, so beyond this the
/// oldest are dropped (a durable store keeps all seven days).
pub const MAX_HISTORY_EVENTS: usize = 10_000;

/// Login events by (time, id): oldest first.
type History = BTreeMap<(u64, u64), LoginEvent>;

/// A failure count and the last attempt counted.
type Counter = (Failures, String);

#[derive(Default)]
pub struct MemoryStore {
    sessions: Mutex<HashMap<u64, Session>>,
    objects: Mutex<Objects>,
    failures: Mutex<HashMap<String, Counter>>,
    history: Mutex<History>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<u64, Session>>, StoreError> {
        // A poisoned lock means a panic elsewhere mid-update; report it instead of panicking again.
        self.sessions
            .lock()
            .map_err(|_| StoreError::Fault("memory store lock poisoned".into()))
    }
}

impl Store for MemoryStore {}

#[async_trait]
impl LockoutStore for MemoryStore {
    async fn failures(&self, name: &CounterName, now: u64) -> Result<Failures, StoreError> {
        Ok(self
            .counters()?
            .get(name.as_str())
            .map(|(f, _)| *f)
            .filter(|f| f.until > now)
            .unwrap_or_default())
    }

    async fn record_failure(
        &self,
        name: &CounterName,
        attempt: &str,
        now: u64,
        until: u64,
    ) -> Result<(Failures, bool), StoreError> {
        let mut counters = self.counters()?;
        // Counters nobody fails again would stay forever; forget the expired ones now and then.
        if counters.len() % SWEEP_EVERY == SWEEP_EVERY - 1 {
            counters.retain(|_, (f, _)| f.until > now);
        }
        let entry = counters
            .entry(name.as_str().to_string())
            .or_insert_with(|| (Failures::default(), String::new()));
        let live = entry.0.until > now;
        if live && entry.1 == attempt {
            return Ok((entry.0, false));
        }
        let count = if live { entry.0.count + 1 } else { 1 };
        *entry = (Failures { count, until }, attempt.to_string());
        Ok((entry.0, true))
    }

    async fn clear_failures(&self, name: &CounterName) -> Result<(), StoreError> {
        self.counters()?.remove(name.as_str());
        Ok(())
    }
}

impl MemoryStore {
    fn counters(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Counter>>, StoreError> {
        self.failures
            .lock()
            .map_err(|_| StoreError::Fault("memory store lock poisoned".into()))
    }

    fn objects(&self) -> Result<std::sync::MutexGuard<'_, Objects>, StoreError> {
        self.objects
            .lock()
            .map_err(|_| StoreError::Fault("memory store lock poisoned".into()))
    }
}

#[async_trait]
impl DirectoryStore for MemoryStore {
    async fn get_object(&self, key: ObjectKey<'_>) -> Result<Option<Versioned>, StoreError> {
        Ok(self
            .objects()?
            .get(&key.kind())
            .and_then(|m| m.get(key.name()))
            .cloned())
    }

    async fn put_object(
        &self,
        key: ObjectKey<'_>,
        doc: &str,
        write: Write,
    ) -> Result<u64, StoreError> {
        let mut objects = self.objects()?;
        let map = objects.entry(key.kind()).or_default();
        let current = map.get(key.name()).map(|v| v.version);
        let version = match (write, current) {
            (Write::Create, Some(_)) => return Err(StoreError::AlreadyExists),
            (Write::IfVersion(expected), Some(v)) if v == expected => v + 1,
            (Write::IfVersion(_), _) => return Err(StoreError::Conflict),
            (_, current) => current.unwrap_or(0) + 1,
        };
        map.insert(
            key.name().to_string(),
            Versioned {
                doc: doc.to_string(),
                version,
            },
        );
        Ok(version)
    }

    async fn delete_object(&self, key: ObjectKey<'_>) -> Result<bool, StoreError> {
        Ok(self
            .objects()?
            .get_mut(&key.kind())
            .is_some_and(|m| m.remove(key.name()).is_some()))
    }

    async fn list_objects(&self, kind: ObjectKind) -> Result<Vec<Versioned>, StoreError> {
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

    async fn rotate_token(&self, id: u64, token_id: &str, now: u64) -> Result<bool, StoreError> {
        let mut sessions = self.lock()?;
        match sessions.get_mut(&id) {
            Some(s) if !s.is_expired(now) => {
                let previous = std::mem::replace(&mut s.token_id, token_id.to_string());
                s.previous_token_id = Some(previous).filter(|p| !p.is_empty());
                s.renewed_at = now;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn set_upstream(
        &self,
        id: u64,
        expected: Option<&SealedUpstream>,
        new: &SealedUpstream,
        now: u64,
    ) -> Result<bool, StoreError> {
        let mut sessions = self.lock()?;
        match sessions.get_mut(&id) {
            Some(s) if !s.is_expired(now) && s.upstream.as_ref() == expected => {
                s.upstream = Some(new.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn touch(&self, id: u64, now: u64) -> Result<bool, StoreError> {
        let mut sessions = self.lock()?;
        match sessions.get_mut(&id) {
            Some(s) if !s.is_expired(now) && !s.is_idle(now) => {
                s.last_active = s.last_active.max(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn delete(&self, id: u64) -> Result<(), StoreError> {
        self.lock()?.remove(&id);
        Ok(())
    }

    async fn delete_with_token(
        &self,
        id: u64,
        token_id: &str,
        now: u64,
        grace: u64,
    ) -> Result<bool, StoreError> {
        let mut sessions = self.lock()?;
        if let Some(s) = sessions.get(&id)
            && !s.is_expired(now)
            && !s.accepts_token(token_id, now, grace)
        {
            return Ok(false);
        }
        sessions.remove(&id);
        Ok(true)
    }
}

#[async_trait]
impl LoginHistoryStore for MemoryStore {
    async fn record_login(&self, event: &LoginEvent) -> Result<(), StoreError> {
        let mut history = self
            .history
            .lock()
            .map_err(|_| StoreError::Fault("memory store lock poisoned".into()))?;
        history.insert((event.time, event.id), event.clone());
        // Expired and surplus events go, oldest first; each insert removes at most what it added
        // plus what expired, so the cost stays small on average.
        while let Some((_, oldest)) = history.first_key_value() {
            if oldest.expires_at > event.time && history.len() <= MAX_HISTORY_EVENTS {
                break;
            }
            history.pop_first();
        }
        Ok(())
    }

    async fn login_history(&self, query: &HistoryQuery) -> Result<Vec<LoginEvent>, StoreError> {
        let history = self
            .history
            .lock()
            .map_err(|_| StoreError::Fault("memory store lock poisoned".into()))?;
        // `range` panics on an inverted range.
        if query.from > query.to {
            return Ok(Vec::new());
        }
        Ok(history
            .range((query.from, 0)..=(query.to, u64::MAX))
            .rev()
            .map(|(_, e)| e)
            .filter(|e| e.expires_at > query.now)
            .filter(|e| query.user.is_none() || e.user_name == query.user)
            .take(query.limit)
            .cloned()
            .collect())
    }
}
