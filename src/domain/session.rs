//! Sessions: who is logged in, and the context their queries run in.

use serde::{Deserialize, Serialize};

use super::ident::Identifier;

/// The session context that `USE …` changes and `CURRENT_*()` reads. Names are already normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionContext {
    pub database: Option<String>,
    pub schema: Option<String>,
    pub warehouse: Option<String>,
    pub role: Option<String>,
}

impl SessionContext {
    /// `USE DATABASE d`: Snowflake also moves to the database's `PUBLIC` schema.
    pub fn use_database(&mut self, database: &Identifier) {
        self.database = Some(database.to_string());
        self.schema = Some("PUBLIC".to_string());
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// A positive number below 2^53, so that JavaScript drivers read it exactly.
    pub id: u64,
    /// The user's name as Snowflake shows it (`CURRENT_USER()`).
    pub user: String,
    /// The user's incarnation ([`User::id`](super::directory::User::id)): a user dropped and created
    /// again under the same name is another user, and the old sessions are not theirs.
    #[serde(default)]
    pub user_id: String,
    /// The account, as `CURRENT_ACCOUNT()` shows it.
    pub account: String,
    pub context: SessionContext,
    /// Epoch seconds.
    pub created_at: u64,
    /// Epoch seconds: the master token's expiry. The session does not exist after it.
    pub expires_at: u64,
    /// The driver that opened the session (`CLIENT_APP_ID`), for logs.
    pub client_app: Option<String>,
}

impl Session {
    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at <= now
    }
}

/// Makes a new random session id in the range every driver can hold.
pub fn new_session_id() -> u64 {
    const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
    // Avoid small ids so they look like Snowflake's and never collide with 0 or sentinel values.
    1_000_000_000 + rand::random_range(0..MAX_SAFE_INTEGER - 1_000_000_000)
}
