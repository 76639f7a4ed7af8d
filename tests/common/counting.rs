//! A store that counts the calls made to the store it wraps, by operation: `"touch"`,
//! `"get_object/ACCOUNT"` (reads of one kind of directory object), … Lets a test check how much store
//! work a request costs without timing anything.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use snowgate::domain::login_history::{HistoryQuery, LoginEvent};
use snowgate::domain::session::{Session, SessionContext};
use snowgate::store::memory::MemoryStore;
use snowgate::store::{
    CounterName, DirectoryStore, Failures, LockoutStore, LoginHistoryStore, ObjectKey, ObjectKind,
    SessionStore, Store, StoreError, Versioned, Write,
};

pub struct CountingStore {
    inner: Arc<dyn Store>,
    counts: Mutex<BTreeMap<String, u64>>,
}

impl CountingStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            counts: Mutex::default(),
        }
    }

    pub fn memory() -> Self {
        Self::new(Arc::new(MemoryStore::new()))
    }

    /// Calls of `operation` so far.
    pub fn count(&self, operation: &str) -> u64 {
        let counts = self.counts.lock().expect("counts");
        counts.get(operation).copied().unwrap_or_default()
    }

    fn note(&self, operation: impl Into<String>) {
        let mut counts = self.counts.lock().expect("counts");
        *counts.entry(operation.into()).or_default() += 1;
    }
}

#[async_trait]
impl SessionStore for CountingStore {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        self.note("create");
        self.inner.create(session).await
    }
    async fn get(&self, id: u64, now: u64) -> Result<Option<Session>, StoreError> {
        self.note("get");
        self.inner.get(id, now).await
    }
    async fn update_context(
        &self,
        id: u64,
        context: &SessionContext,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.note("update_context");
        self.inner.update_context(id, context, now).await
    }
    async fn rotate_token(&self, id: u64, token_id: &str, now: u64) -> Result<bool, StoreError> {
        self.note("rotate_token");
        self.inner.rotate_token(id, token_id, now).await
    }
    async fn set_upstream(
        &self,
        id: u64,
        expected: Option<&snowgate::domain::session::SealedUpstream>,
        new: &snowgate::domain::session::SealedUpstream,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.note("set_upstream");
        self.inner.set_upstream(id, expected, new, now).await
    }
    async fn touch(&self, id: u64, now: u64) -> Result<bool, StoreError> {
        self.note("touch");
        self.inner.touch(id, now).await
    }
    async fn delete(&self, id: u64) -> Result<(), StoreError> {
        self.note("delete");
        self.inner.delete(id).await
    }
    async fn delete_with_token(
        &self,
        id: u64,
        token_id: &str,
        now: u64,
        grace: u64,
    ) -> Result<bool, StoreError> {
        self.note("delete_with_token");
        self.inner.delete_with_token(id, token_id, now, grace).await
    }
}

#[async_trait]
impl DirectoryStore for CountingStore {
    async fn get_object(&self, key: ObjectKey<'_>) -> Result<Option<Versioned>, StoreError> {
        self.note(format!("get_object/{}", key.kind().key_prefix()));
        self.inner.get_object(key).await
    }
    async fn put_object(
        &self,
        key: ObjectKey<'_>,
        doc: &str,
        write: Write,
    ) -> Result<u64, StoreError> {
        self.note(format!("put_object/{}", key.kind().key_prefix()));
        self.inner.put_object(key, doc, write).await
    }
    async fn delete_object(&self, key: ObjectKey<'_>) -> Result<bool, StoreError> {
        self.note(format!("delete_object/{}", key.kind().key_prefix()));
        self.inner.delete_object(key).await
    }
    async fn list_objects(&self, kind: ObjectKind) -> Result<Vec<Versioned>, StoreError> {
        self.note(format!("list_objects/{}", kind.key_prefix()));
        self.inner.list_objects(kind).await
    }
}

#[async_trait]
impl LockoutStore for CountingStore {
    async fn failures(&self, name: &CounterName, now: u64) -> Result<Failures, StoreError> {
        self.note("failures");
        self.inner.failures(name, now).await
    }
    async fn record_failure(
        &self,
        name: &CounterName,
        attempt: &str,
        now: u64,
        until: u64,
    ) -> Result<(Failures, bool), StoreError> {
        self.note("record_failure");
        self.inner.record_failure(name, attempt, now, until).await
    }
    async fn clear_failures(&self, name: &CounterName) -> Result<(), StoreError> {
        self.note("clear_failures");
        self.inner.clear_failures(name).await
    }
}

#[async_trait]
impl LoginHistoryStore for CountingStore {
    async fn record_login(&self, event: &LoginEvent) -> Result<(), StoreError> {
        self.note("record_login");
        self.inner.record_login(event).await
    }
    async fn login_history(&self, query: &HistoryQuery) -> Result<Vec<LoginEvent>, StoreError> {
        self.note("login_history");
        self.inner.login_history(query).await
    }
}

/// The default `session_and_object` (two reads) would count as `get` + `get_object`; kept as one
/// operation so counts match a store that does it in one round trip.
#[async_trait]
impl Store for CountingStore {
    async fn session_and_object(
        &self,
        id: u64,
        now: u64,
        key: ObjectKey<'_>,
    ) -> Result<(Option<Session>, Option<Versioned>), StoreError> {
        self.note("session_and_object");
        self.inner.session_and_object(id, now, key).await
    }
}
