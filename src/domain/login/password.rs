//! Password logins (AUTHENTICATOR absent, `SNOWFLAKE` or `USERNAME_PASSWORD_MFA`), with TOTP as the
//! second factor, and a PAT given as the password. Every refusal of a password is the same 390100
//! whether the user exists or not, and costs the same argon2 work.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::domain::credentials::passwords::PasswordHasher;
use crate::domain::credentials::pats::{self, PatStatus};
use crate::domain::directory::{Directory, User, UserType};
use crate::domain::login::authenticator::{Authenticator, LoginCx};
use crate::domain::login::checks::{LoginChecks, login_name};
use crate::domain::login::lockout::{LockState, Lockout};
use crate::domain::login::mfa::{SecondFactors, passcode_of};
use crate::domain::login::verified::Verified;
use crate::domain::policy::password as password_rules;
use crate::domain::policy::{AuthMethod, PasswordPolicy};
use crate::error::{Error, Result};

pub struct PasswordLogin {
    checks: Arc<LoginChecks>,
    lockout: Arc<Lockout>,
    directory: Directory,
    hasher: PasswordHasher,
    second_factors: SecondFactors,
}

impl PasswordLogin {
    pub fn new(
        checks: Arc<LoginChecks>,
        lockout: Arc<Lockout>,
        directory: Directory,
        hasher: PasswordHasher,
        second_factors: SecondFactors,
    ) -> Self {
        Self {
            checks,
            lockout,
            directory,
            hasher,
            second_factors,
        }
    }
}

impl Authenticator for PasswordLogin {
    async fn verify(&self, cx: &LoginCx<'_>) -> Result<Verified> {
        let (input, reads, now) = (cx.input, cx.reads, cx.now);
        let Some(account) = self.checks.account_for(input.account.as_deref()) else {
            tracing::info!("login refused: the account named is not the one served");
            return Err(Error::InvalidCredentials);
        };
        let login = login_name(input)?;
        let user = self.directory.user_for_login(reads, login).await?;
        self.checks
            .network_before_credential(user.as_ref(), reads, input.client_ip)
            .await?;
        let (policy, lock) = self.lockout.state(user.as_ref(), login, reads, now).await?;
        let empty = SecretString::from("");
        let given = input.password.as_ref().unwrap_or(&empty);
        // A PAT given as the password: a cheap hash, before the argon2 work.
        if let Some(user) = &user
            && let Some(pat) = pats::find(&user.pats, given)
            && pat.status(now) == PatStatus::Active
        {
            self.checks
                .network_policy(Some(user), reads, input.client_ip)
                .await?;
            let policy = self.checks.pat_policy(Some(user), reads).await?;
            self.checks
                .pat_after_proof(user, pat, &policy, reads, now)
                .await?;
            self.lockout.clear(&lock).await?;
            return Ok(Verified::by_pat(user.clone(), account, pat));
        }
        let (password, passcode) = passcode_of(input, given);
        // What a failure is counted under: the password field as given (with any passcode
        // appended) and the separate passcode.
        let given_credentials = [given, input.mfa.passcode.as_ref().unwrap_or(&empty)];
        let password = &password;
        let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
        // One argon2 verification on every path, so timing does not tell which check failed.
        let matches = self.hasher.verify(password, hash).await?;
        // A SERVICE user never logs in with a password, and gets the same answer as a wrong one.
        let ok = matches
            && !password.expose_secret().is_empty()
            && user
                .as_ref()
                .is_some_and(|u| u.user_type != UserType::Service);
        let Some(user) = user.filter(|_| ok) else {
            self.lockout
                .count_failure(&lock, input, &given_credentials, now)
                .await?;
            return Err(Error::InvalidCredentials);
        };
        let proven = Proven {
            user,
            account,
            passcode,
        };
        self.after_password(cx, proven, &policy, &lock, &given_credentials)
            .await
    }
}

/// A login whose password was right, and the passcode it gave, if any.
struct Proven {
    user: User,
    account: String,
    passcode: Option<SecretString>,
}

impl PasswordLogin {
    /// A right password: the user's own network policy, the second factor (a wrong passcode
    /// counts as a failure), then the password's age.
    async fn after_password(
        &self,
        cx: &LoginCx<'_>,
        proven: Proven,
        policy: &Option<PasswordPolicy>,
        lock: &LockState,
        given_credentials: &[&SecretString],
    ) -> Result<Verified> {
        let (input, reads, now) = (cx.input, cx.reads, cx.now);
        let Proven {
            user,
            account,
            passcode,
        } = proven;
        // Proven: now the user's own network policy may be told.
        self.checks
            .network_policy(Some(&user), reads, input.client_ip)
            .await?;
        // The failures are cleared only once the second factor, if any, is given.
        let mfa = match self
            .second_factors
            .check(&user, input, &reads.account, passcode.as_ref(), now)
            .await
        {
            Err(Error::InvalidPasscode) => {
                self.lockout
                    .count_failure(lock, input, given_credentials, now)
                    .await?;
                return Err(Error::InvalidPasscode);
            }
            other => other?,
        };
        self.lockout.clear(lock).await?;
        // Told only to whoever knows the password. Snowflake asks for a change in its web console;
        // drivers cannot change it, so the login is refused until an administrator sets a new one.
        if policy
            .as_ref()
            .is_some_and(|p| password_rules::expired(p, user.password_set_at, now))
        {
            return Err(Error::PasswordExpired);
        }
        Ok(Verified {
            second_factor: mfa.factor,
            mfa_token: mfa.token,
            ..Verified::by(user, account, AuthMethod::Password)
        })
    }
}
