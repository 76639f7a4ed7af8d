//! Which sessions this instance recorded activity for lately, so that a chatty client does not cost
//! a store write on every request: a session touched less than [`RecentActivity::window`] ago is not
//! touched again. Per instance and bounded; forgetting an entry only costs one more write.

use std::collections::HashMap;
use std::sync::Mutex;

/// Entries kept at most; the cache is emptied when full (a burst of writes, never unbounded memory).
const MAX_ENTRIES: usize = 10_000;

/// At most this long between two writes for one session.
const MAX_WINDOW_SECONDS: u64 = 60;

#[derive(Default)]
pub struct RecentActivity {
    /// Session id → (epoch seconds of this instance's last touch, seconds it stays fresh).
    touched: Mutex<HashMap<u64, (u64, u64)>>,
}

impl RecentActivity {
    /// How long a touch stays fresh for a session with `idle_limit`: a quarter of the limit, so the
    /// stored `last_active` is never more than a quarter of the limit behind, and at most a minute.
    pub fn window(idle_limit: u64) -> u64 {
        match idle_limit {
            0 => MAX_WINDOW_SECONDS,
            limit => (limit / 4).min(MAX_WINDOW_SECONDS),
        }
    }

    /// Whether this instance touched session `id` recently enough to skip the write at `now`.
    pub fn is_fresh(&self, id: u64, now: u64) -> bool {
        let Ok(touched) = self.touched.lock() else {
            return false;
        };
        touched
            .get(&id)
            .is_some_and(|&(at, window)| now >= at && now - at < window)
    }

    pub fn record(&self, id: u64, now: u64, idle_limit: u64) {
        if let Ok(mut touched) = self.touched.lock() {
            if touched.len() >= MAX_ENTRIES && !touched.contains_key(&id) {
                touched.clear();
            }
            touched.insert(id, (now, Self::window(idle_limit)));
        }
    }

    pub fn forget(&self, id: u64) {
        if let Ok(mut touched) = self.touched.lock() {
            touched.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_for_a_quarter_of_the_limit_at_most_a_minute() {
        let recent = RecentActivity::default();
        recent.record(7, 1000, 20);
        assert!(recent.is_fresh(7, 1000));
        assert!(recent.is_fresh(7, 1004));
        assert!(!recent.is_fresh(7, 1005));
        assert!(!recent.is_fresh(8, 1000));
        recent.record(7, 1000, 14_400);
        assert!(recent.is_fresh(7, 1059));
        assert!(!recent.is_fresh(7, 1060));
        assert!(!recent.is_fresh(7, 999), "a clock going back is not fresh");
        recent.forget(7);
        assert!(!recent.is_fresh(7, 1000));
        // A limit under 4 s is never skipped.
        recent.record(9, 1000, 3);
        assert!(!recent.is_fresh(9, 1000));
    }

    #[test]
    fn bounded() {
        let recent = RecentActivity::default();
        for id in 0..(MAX_ENTRIES as u64 + 5) {
            recent.record(id, 1, 400);
        }
        assert!(recent.touched.lock().unwrap().len() <= MAX_ENTRIES);
        assert!(recent.is_fresh(MAX_ENTRIES as u64 + 4, 1));
    }
}
