//! The results `GET /api/v2/statements/{handle}` answers: each statement's answer, kept in this
//! instance's memory for [`KEEP_SECONDS`], for its caller only, bounded in number (overall and per
//! caller) and in bytes. Another instance (Lambda runs many) does not see them: a GET that lands
//! there answers "not found", as for a handle past its time.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;

/// How long an answer is kept.
pub const KEEP_SECONDS: u64 = 600;
/// The most answers kept, overall and per caller.
pub const MAX_KEPT: usize = 512;
pub const MAX_KEPT_PER_CALLER: usize = 32;
/// The most bytes kept overall, and per answer (the engine's default answer limit is 6 MB).
pub const MAX_KEPT_BYTES: usize = 64 << 20;
pub const MAX_ANSWER_BYTES: usize = 8 << 20;

struct Kept {
    handle: String,
    owner: String,
    at: u64,
    body: Bytes,
}

/// The kept answers, oldest first.
#[derive(Default)]
pub struct KeptResults {
    kept: Mutex<VecDeque<Kept>>,
}

impl KeptResults {
    /// Keeps `body` for `owner` under `handle`; `false` when it is too large to keep.
    pub fn keep(&self, owner: &str, handle: &str, body: Bytes, now: u64) -> bool {
        if body.len() > MAX_ANSWER_BYTES {
            return false;
        }
        let Ok(mut kept) = self.kept.lock() else {
            return false;
        };
        kept.retain(|k| k.at + KEEP_SECONDS > now && k.handle != handle);
        if kept.iter().filter(|k| k.owner == owner).count() >= MAX_KEPT_PER_CALLER
            && let Some(oldest) = kept.iter().position(|k| k.owner == owner)
        {
            kept.remove(oldest);
        }
        let mut bytes: usize = kept.iter().map(|k| k.body.len()).sum::<usize>() + body.len();
        while kept.len() >= MAX_KEPT || bytes > MAX_KEPT_BYTES {
            match kept.pop_front() {
                Some(k) => bytes -= k.body.len(),
                None => break,
            }
        }
        kept.push_back(Kept {
            handle: handle.to_string(),
            owner: owner.to_string(),
            at: now,
            body,
        });
        true
    }

    /// The answer kept under `handle` for `owner`, if still there.
    pub fn get(&self, owner: &str, handle: &str, now: u64) -> Option<Bytes> {
        let kept = self.kept.lock().ok()?;
        kept.iter()
            .find(|k| k.handle == handle && k.owner == owner && k.at + KEEP_SECONDS > now)
            .map(|k| k.body.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_the_callers_short_lived_and_bounded() {
        let kept = KeptResults::default();
        assert!(kept.keep("a", "h1", Bytes::from_static(b"x"), 100));
        assert_eq!(kept.get("a", "h1", 100).as_deref(), Some(&b"x"[..]));
        assert!(kept.get("b", "h1", 100).is_none(), "another caller's");
        assert!(
            kept.get("a", "h1", 100 + KEEP_SECONDS).is_none(),
            "past its time"
        );
        for i in 0..MAX_KEPT_PER_CALLER + 5 {
            kept.keep("a", &format!("n{i}"), Bytes::from_static(b"y"), 200);
        }
        assert!(
            kept.get("a", "n0", 200).is_none(),
            "the caller's oldest goes"
        );
        assert!(
            kept.get("a", &format!("n{}", MAX_KEPT_PER_CALLER + 4), 200)
                .is_some()
        );
        assert!(!kept.keep("a", "big", Bytes::from(vec![0; MAX_ANSWER_BYTES + 1]), 200));
    }
}
