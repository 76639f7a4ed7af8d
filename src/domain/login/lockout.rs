//! Failed credentials and the lock they lead to. A failure counts under the user's name (or, for a
//! name that does not exist, the name given, so the answers never tell the two apart); the password
//! policy (the user's, else the account's) or the settings say how many failures lock, and for how
//! long. A driver's retry of one login counts once (`attempts.rs`).

use std::sync::Arc;

use secrecy::SecretString;

use crate::domain::audit;
use crate::domain::directory::{Directory, LoginReads, User};
use crate::domain::ident::{Ident, LoginName};
use crate::domain::login::input::LoginInput;
use crate::domain::policy::PasswordPolicy;
use crate::domain::policy::password as password_rules;
use crate::domain::ports::secrets::SecretSource;
use crate::domain::ports::storage::{CounterName, Failures, Store};
use crate::domain::settings::Settings;
use crate::error::{Error, Result};

/// The lockout step of the logins that take a guessable credential (password, PAT).
pub struct Lockout {
    store: Arc<dyn Store>,
    secrets: Arc<dyn SecretSource>,
    directory: Directory,
    settings: Settings,
}

/// Where a login stands with the lockout: the name its failures count under, the limits that
/// apply, and the failures so far.
pub struct LockState {
    counter: CounterName,
    limits: Limits,
    failures: Failures,
}

impl Lockout {
    pub fn new(store: Arc<dyn Store>, secrets: Arc<dyn SecretSource>, settings: Settings) -> Self {
        Self {
            directory: Directory::new(Arc::clone(&store)),
            store,
            secrets,
            settings,
        }
    }

    /// The name's failed attempts and the limits that govern them: the password policy's (the
    /// user's, else the account's; unknown names get the account's), else the settings'. A locked
    /// name is refused here. Also returns the password policy, which sets the password's age.
    pub async fn state(
        &self,
        user: Option<&User>,
        login: &str,
        reads: &LoginReads,
        now: u64,
    ) -> Result<(Option<PasswordPolicy>, LockState)> {
        let counter = match user {
            Some(u) => CounterName::user(Ident::stored(&u.name)),
            None => CounterName::login(&LoginName::new(login)),
        };
        let policy = self
            .directory
            .attached_policy::<PasswordPolicy>(user, reads)
            .await?;
        let limits = Limits::of(policy.as_ref(), &self.settings);
        let failures = match reads.failures_of(&counter) {
            Some(read) => read,
            None => self.store.failures(&counter, now).await?,
        };
        if failures.count >= limits.failures {
            return Err(limits.locked());
        }
        let lock = LockState {
            counter,
            limits,
            failures,
        };
        Ok((policy, lock))
    }

    /// Counts a failed credential (`credentials`: everything the login gave, password and passcode
    /// or token); the failure that reaches the limit locks the name (logged once). A driver's retry
    /// of one login (same request id, same credentials, within seconds) counts once; another guess
    /// under the same request id counts again (`attempts.rs`).
    pub async fn count_failure(
        &self,
        lock: &LockState,
        input: &LoginInput,
        credentials: &[&SecretString],
        now: u64,
    ) -> Result<()> {
        let attempt = match input.request_id.as_deref() {
            Some(id) => {
                self.secrets
                    .current()
                    .keyring
                    .attempt_key()
                    .attempt_id(id, credentials, now)
            }
            None => uuid::Uuid::new_v4().to_string(),
        };
        let (counter, limits) = (&lock.counter, &lock.limits);
        let until = now.saturating_add(limits.seconds);
        let (failures, raised) = self
            .store
            .record_failure(counter, &attempt, now, until)
            .await?;
        if raised && failures.count == limits.failures {
            audit::locked(counter.as_str(), failures.count, limits.minutes());
        }
        Ok(())
    }

    /// A successful credential forgets the name's failed attempts (one write, only if there were
    /// any).
    pub async fn clear(&self, lock: &LockState) -> Result<()> {
        if lock.failures.count > 0 {
            self.store.clear_failures(&lock.counter).await?;
        }
        Ok(())
    }
}

/// How many failed credentials lock a name, and for how long.
struct Limits {
    failures: u32,
    seconds: u64,
}

impl Limits {
    fn of(policy: Option<&PasswordPolicy>, settings: &Settings) -> Self {
        let (failures, seconds) =
            password_rules::lockout(policy, settings.lockout_failures, settings.lockout_seconds);
        Self { failures, seconds }
    }

    fn minutes(&self) -> u64 {
        self.seconds.div_ceil(60)
    }

    fn locked(&self) -> Error {
        Error::UserLocked {
            minutes: self.minutes(),
        }
    }
}
