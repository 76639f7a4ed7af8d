//! How many refused logins reach the login history: a flood of refusals (one client trying names or
//! passwords as fast as it can, or many clients trying one name) must not turn into as many durable
//! writes, each one a disk sync on SQLite and a write on DynamoDB. Each instance records, per
//! minute, at most [`PER_KEY`] refusals with one code for one login name and as many for one client
//! address, and at most [`PER_WINDOW`] refusals in all; the rest are left out of the history. The
//! audit log (`snowgate::audit`) still has one event for every attempt, recorded or not.

use std::collections::HashMap;
use std::sync::Mutex;

/// The length of a window, in seconds.
pub const WINDOW_SECONDS: u64 = 60;
/// Refusals recorded per window for one login name, or one client address, with one error code.
pub const PER_KEY: u32 = 10;
/// Refusals recorded per window in all, by this instance.
pub const PER_WINDOW: u32 = 300;

/// Whose refusals a count counts: a login name's or a client address's, with the error code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Name(String, String),
    Address(String, String),
}

#[derive(Default)]
struct Window {
    /// `now / WINDOW_SECONDS` of the window counted.
    number: u64,
    recorded: u32,
    /// At most two keys per recorded refusal: never more than `2 * PER_WINDOW` entries.
    counts: HashMap<Key, u32>,
}

/// The refusals of the current window, per instance.
#[derive(Default)]
pub struct RefusalBudget {
    window: Mutex<Window>,
}

impl RefusalBudget {
    /// Whether a refusal with `code` of a login naming `name` (upper-cased, bounded by the caller;
    /// `None` when none was given) from `address` (`None` when unknown) at `now` goes into the
    /// history; if so, it is counted.
    pub fn admit(&self, name: Option<&str>, address: Option<&str>, code: &str, now: u64) -> bool {
        let mut window = self
            .window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let number = now / WINDOW_SECONDS;
        if window.number != number {
            *window = Window {
                number,
                ..Window::default()
            };
        }
        if window.recorded >= PER_WINDOW {
            return false;
        }
        let keys = [
            Key::Name(name.unwrap_or_default().to_string(), code.to_string()),
            Key::Address(address.unwrap_or_default().to_string(), code.to_string()),
        ];
        if keys
            .iter()
            .any(|k| window.counts.get(k).is_some_and(|n| *n >= PER_KEY))
        {
            return false;
        }
        for key in keys {
            *window.counts.entry(key).or_default() += 1;
        }
        window.recorded += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_name_per_address_and_in_all() {
        let budget = RefusalBudget::default();
        let admitted =
            |name: &str, ip: &str, code: &str, now| budget.admit(Some(name), Some(ip), code, now);
        // One address trying names: PER_KEY, then nothing until the next window.
        let n = (0..50)
            .filter(|i| admitted(&format!("N{i}"), "10.0.0.1", "390100", 0))
            .count();
        assert_eq!(n, PER_KEY as usize);
        // Another code is counted apart (a lock is still recorded).
        assert!(admitted("N1", "10.0.0.1", "390102", 0));
        // One name from many addresses: PER_KEY.
        let n = (0..50)
            .filter(|i| admitted("ALICE", &format!("10.1.0.{i}"), "390100", 0))
            .count();
        assert_eq!(n, PER_KEY as usize);
        // A new window starts afresh.
        assert!(admitted("ALICE", "10.0.0.1", "390100", WINDOW_SECONDS));
        // Many names from many addresses: PER_WINDOW in all.
        let n = (0..(PER_WINDOW * 2))
            .filter(|i| {
                admitted(
                    &format!("U{i}"),
                    &format!("ip{i}"),
                    "390100",
                    3 * WINDOW_SECONDS,
                )
            })
            .count();
        assert_eq!(n, PER_WINDOW as usize);
    }
}
