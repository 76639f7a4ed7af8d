//! What every request reads, its session and its user, kept in memory between writes.
//!
//! Each request reads one session and one user record. From SQLite that is a read transaction
//! (two `fcntl` locks on the WAL index, two lookups) and a session decoded from JSON: at the load
//! of a local server, the SQLite store answered at a third of the in-memory store's rate. This
//! cache answers those reads when nothing was written since they were taken:
//!
//! - **Writes through this store empty it**, all of it, before the write call returns (a session
//!   renewed, touched or ended, a user changed or dropped, a PAT or key revoked: every write goes
//!   through [`SqliteStore::run`](super::SqliteStore)). So within the process, revocation is
//!   immediate, as on the other stores.
//! - **A read that raced a write is not kept**: the cache has a generation, bumped by every write;
//!   a read taken under an older generation than the current one is answered but not stored.
//! - **Writes by another process** on the same file (a second server on the same data directory,
//!   or a tool) reach this one within [`FRESH_FOR`]: an entry is used for that long at most.
//! - Sessions past their expiry are not answered from it; it holds at most [`MAX_ENTRIES`] reads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::domain::ports::storage::{Found, ObjectKind, Read};

/// How long a cached read is used at most: the staleness of writes made outside this store.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// Reads kept at most; when full, the cache starts again empty.
pub const MAX_ENTRIES: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Session(u64),
    Object(ObjectKind, String),
}

impl Key {
    /// The key of a read the cache may answer: sessions and directory objects, not failure
    /// counters (read at logins only, and written by every failed one).
    fn of(read: &Read<'_>) -> Option<Self> {
        match read {
            Read::Session(id) => Some(Key::Session(*id)),
            Read::Object(key) => Some(Key::Object(key.kind(), key.name().to_string())),
            Read::Failures(_) => None,
        }
    }
}

#[derive(Default)]
pub struct ReadCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<Key, (Instant, Found)>>,
}

impl ReadCache {
    /// The answers to `reads` at `now` (epoch seconds), if every one is cached and fresh.
    pub fn get(&self, reads: &[Read<'_>], now: u64) -> Option<Vec<Found>> {
        let keys = reads.iter().map(Key::of).collect::<Option<Vec<_>>>()?;
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        keys.iter()
            .map(|key| {
                let (taken, found) = entries.get(key)?;
                if taken.elapsed() >= FRESH_FOR {
                    return None;
                }
                Some(match found {
                    // A session ends at its expiry whatever the cache says, as `live_session` does.
                    Found::Session(Some(s)) if s.expires_at <= now => Found::Session(None),
                    other => other.clone(),
                })
            })
            .collect()
    }

    /// The generation to give [`ReadCache::put`] for a read about to be taken.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps what `reads` found, taken at `taken` under `generation`, unless a write came since.
    pub fn put(&self, generation: u64, taken: Instant, reads: &[Read<'_>], found: &[Found]) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        // Checked under the lock that `invalidate` takes too: a write that bumped the generation
        // has emptied the map, or will once this lock is released, after this insert.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() + reads.len() > MAX_ENTRIES {
            entries.clear();
        }
        for (read, found) in reads.iter().zip(found) {
            if let Some(key) = Key::of(read) {
                entries.insert(key, (taken, found.clone()));
            }
        }
    }

    /// Forgets everything: called by every write, after it ran and before it returns.
    pub fn invalidate(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ident::Ident;
    use crate::domain::ports::storage::{ObjectKey, Versioned};
    use crate::domain::session::Session;

    fn session(id: u64, expires_at: u64) -> Found {
        Found::Session(Some(Session {
            id,
            expires_at,
            ..Session::default()
        }))
    }

    fn user(doc: &str) -> Found {
        Found::Object(Some(Versioned {
            doc: doc.into(),
            version: 1,
        }))
    }

    #[test]
    fn a_write_empties_it_and_a_read_taken_before_a_write_is_not_kept() {
        let cache = ReadCache::default();
        let name = Ident::stored("ALICE");
        let reads = [Read::Session(7), Read::Object(ObjectKey::user(name))];
        let found = vec![session(7, 100), user("{}")];
        assert_eq!(cache.get(&reads, 10), None, "empty at first");
        cache.put(cache.generation(), Instant::now(), &reads, &found);
        assert_eq!(cache.get(&reads, 10), Some(found.clone()));
        cache.invalidate();
        assert_eq!(cache.get(&reads, 10), None, "a write empties it");
        let before_write = cache.generation();
        cache.invalidate();
        cache.put(before_write, Instant::now(), &reads, &found);
        assert_eq!(cache.get(&reads, 10), None, "a read older than a write");
    }

    #[test]
    fn expired_sessions_stale_entries_and_counters_are_not_answered() {
        let cache = ReadCache::default();
        let reads = [Read::Session(7)];
        cache.put(
            cache.generation(),
            Instant::now(),
            &reads,
            &[session(7, 100)],
        );
        assert_eq!(cache.get(&reads, 100), Some(vec![Found::Session(None)]));
        let old = Instant::now()
            .checked_sub(FRESH_FOR)
            .expect("an instant a second ago");
        cache.put(cache.generation(), old, &reads, &[session(7, 100)]);
        assert_eq!(cache.get(&reads, 10), None, "older than FRESH_FOR");
        let name = crate::domain::ports::storage::CounterName::user(Ident::stored("ALICE"));
        assert_eq!(cache.get(&[Read::Failures(&name)], 10), None);
    }
}
