//! What a deployment configures of the service, and its clock: read by the gatekeeper and the
//! login steps alike, so it lives apart from both.

use std::sync::Arc;

/// Epoch seconds. Injected so tests can move time instead of sleeping.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default()
    })
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub session_ttl: u64,
    pub master_ttl: u64,
    /// Failed password logins before the user is locked (Snowflake's PASSWORD_MAX_RETRIES, 5).
    pub lockout_failures: u32,
    /// How long a lock lasts (Snowflake's PASSWORD_LOCKOUT_TIME_MINS, 15 minutes).
    pub lockout_seconds: u64,
    /// The one account this deployment serves (normalised by `account_name`); logins naming another
    /// are refused, and a login naming none gets this one. `None` serves whatever account is named.
    pub account: Option<String>,
    /// Idle limit of sessions no session policy governs (Snowflake's SESSION_IDLE_TIMEOUT_MINS
    /// default, 4 hours); `SNOWGATE_SESSION_IDLE_SECONDS` shortens it for tests.
    pub session_idle_seconds: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            session_ttl: 259_200,
            master_ttl: 604_800,
            lockout_failures: 5,
            lockout_seconds: 15 * 60,
            account: None,
            session_idle_seconds: 4 * 3600,
        }
    }
}
