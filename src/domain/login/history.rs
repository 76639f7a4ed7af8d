//! A login's record in the login history (the records and how they are read back are in
//! `query/login_history.rs`): written alongside a new session, and for refused logins as far as the
//! refusals' budget allows (`refusals.rs`).

use std::sync::Arc;

use crate::domain::directory::{Directory, LoginReads, canonical_ip};
use crate::domain::login::input::LoginInput;
use crate::domain::login::refusals::RefusalBudget;
use crate::domain::ports::storage::Store;
use crate::domain::query::login_history::{LoginEvent, MAX_FIELD_CHARS, bounded};
use crate::error::Error;

pub struct LoginHistory {
    store: Arc<dyn Store>,
    directory: Directory,
    /// Refused logins recorded in the history this minute.
    refusals: RefusalBudget,
}

impl LoginHistory {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            directory: Directory::new(Arc::clone(&store)),
            store,
            refusals: RefusalBudget::default(),
        }
    }

    /// Stores a login's record. A failure to store it does not fail the login: it is logged.
    pub async fn record(&self, event: &LoginEvent) {
        if let Err(e) = self.store.record_login(event).await {
            tracing::warn!(error = %e, event_id = event.id, "login history not recorded");
        }
    }

    /// Whether the history has room for this refused login ([`RefusalBudget`]).
    pub fn has_room_for(&self, input: &LoginInput, error: &Error, now: u64) -> bool {
        let name = input
            .named_user(now)
            .map(|n| bounded(&n, MAX_FIELD_CHARS).to_uppercase());
        let address = input.client_ip.map(|ip| canonical_ip(ip).to_string());
        let code = crate::snowflake::codes::of(error);
        self.refusals
            .admit(name.as_deref(), address.as_deref(), code, now)
    }

    /// The user a failed login was for, as far as it can be told: the user found by the name the
    /// login gave ([`LoginInput::named_user`]), else that name upper-cased. Answered from what the
    /// login read up front (`reads`) when that was the same name, so a refused login, the common
    /// case under attack, reads nothing more.
    pub async fn failed_login_user(
        &self,
        input: &LoginInput,
        reads: Option<&LoginReads>,
        now: u64,
    ) -> Option<String> {
        let typed = bounded(&input.named_user(now)?, MAX_FIELD_CHARS);
        let found = match reads {
            Some(reads) => self.directory.user_for_login(reads, &typed).await,
            None => self.directory.user_by_login(&typed).await,
        };
        match found {
            Ok(Some(user)) => Some(user.name),
            _ => Some(typed.to_uppercase()),
        }
    }
}
