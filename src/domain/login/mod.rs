//! Checking a login's credentials: the network policy first (as far as it answers alike for every
//! name), then the lock, then the password (on the hashing threads) or the key-pair JWT, then the
//! user's own network policy. Every refusal of a password is the same 390100 whether the user exists
//! or not, and costs the same argon2 work.

pub mod attempts;
pub mod input;
pub(in crate::domain) mod login_log;
pub mod oauth;
pub mod pick;
pub mod refusals;
pub(in crate::domain) mod verified;
pub mod workload;

use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};

use self::verified::{SecondFactor, Verified};
use super::audit;
use super::credentials::pats::{self, Pat, PatStatus};
use super::credentials::rsa_keys::{claimed_identity, signature_valid};
use super::credentials::totp as mfa;
use super::directory::{AccountSettings, LoginReads, PolicySource, User, UserType, canonical_ip};
use super::gatekeeper::{Gatekeeper, Settings};
use super::ident::{Ident, LoginName, account_name};
use super::login::input::LoginInput;
use super::policy::authentication::{Client, refusal_with_mfa};
use super::policy::password as password_rules;
use super::policy::{
    AuthMethod, AuthenticationPolicy, NetworkPolicyEvaluation, PasswordPolicy, PatPolicy,
};
use super::ports::storage::{CounterName, Failures};
use crate::error::{Error, Result};

/// Where a login stands with the lockout: the name its failures count under, the lockout that
/// applies, and the failures so far.
struct LockState {
    counter: CounterName,
    lockout: Lockout,
    failures: Failures,
}

/// The login name a password, PAT or MFA login must give.
fn login_name(input: &LoginInput) -> Result<&str> {
    input
        .login_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Error::BadRequest("LOGIN_NAME is required.".into()))
}

/// What the second-factor check decided.
struct Mfa {
    factor: Option<SecondFactor>,
    token: Option<String>,
}

impl Gatekeeper {
    /// The network check before a credential is proven, which must answer alike for every name
    /// (`user`: the one named, if known): the client is refused here when the policy that governs
    /// it refuses it and so would the account's, which is what an unknown name is checked against.
    /// A user's own policy that refuses an address the account admits is left to
    /// [`Self::check_network_policy`] once the credential is proven, so that from such an address
    /// a wrong password gets 390100 as it would for a name that does not exist, and only the
    /// credential's holder learns of the policy (390422). Refusals here never reach the lockout.
    pub(super) async fn check_network_before_credential(
        &self,
        user: Option<&User>,
        policies: &impl PolicySource,
        ip: Option<IpAddr>,
    ) -> Result<()> {
        let own = user.is_some_and(|u| u.network_policy.is_some());
        if own {
            let account = self.directory.network_policy_for(None, policies).await?;
            if account.is_none_or(|p| p.admits(ip)) {
                return Ok(());
            }
        }
        self.check_network_policy(user, policies, ip).await
    }

    /// The user's network policy, else the account's (`policies`: what this login read), must
    /// admit the client. Before a credential is proven, logins go through
    /// [`Self::check_network_before_credential`] instead, and come here once it is.
    pub(super) async fn check_network_policy(
        &self,
        user: Option<&User>,
        policies: &impl PolicySource,
        ip: Option<IpAddr>,
    ) -> Result<()> {
        match self.directory.network_policy_for(user, policies).await? {
            Some(policy) if !policy.admits(ip) => {
                let shown = ip
                    .map(|i| canonical_ip(i).to_string())
                    .unwrap_or_else(|| "unknown".into());
                tracing::info!(client_ip = %shown, policy = ?policy.name, "login refused by network policy");
                Err(Error::IpNotAllowed(shown))
            }
            _ => Ok(()),
        }
    }

    /// The user's authentication policy, else the account's, must allow logging in with `method`
    /// from this client (`policies`: what this login read). Checked once the credential is
    /// proven, so only its holder learns the policy's rules, and a refusal never tells whether a
    /// user exists.
    // Kept for the login methods that never carry a second factor (workload identity, OAuth).
    #[allow(dead_code)]
    pub(super) async fn check_authentication_policy(
        &self,
        user: &User,
        policies: &impl PolicySource,
        input: &LoginInput,
        method: AuthMethod,
    ) -> Result<()> {
        self.check_authentication_policy_mfa(user, policies, input, method, None)
            .await
    }

    /// [`Self::check_authentication_policy`] of a login that gave `second_factor` (or none).
    pub(super) async fn check_authentication_policy_mfa(
        &self,
        user: &User,
        policies: &impl PolicySource,
        input: &LoginInput,
        method: AuthMethod,
        second_factor: Option<SecondFactor>,
    ) -> Result<()> {
        let policy: AuthenticationPolicy = self
            .directory
            .effective_policy(Some(user), policies)
            .await?;
        let client = Client {
            app_id: input.client_app.as_deref(),
            version: input.client_version.as_deref(),
            application: input.application.as_deref(),
        };
        let Some(refused) =
            refusal_with_mfa(&policy, user, method, &client, second_factor.is_some())
        else {
            return Ok(());
        };
        audit::policy_refusal(
            &user.name,
            &policy.meta.name,
            refused.rule,
            method.policy_name(),
        );
        Err(Error::PolicyRefused(refused.message))
    }

    /// The account of a login that names `named`: `None` when an account is pinned
    /// (`SNOWGATE_ACCOUNT`) and `named` is another one; the pinned one when the login names none.
    pub(super) fn account_for(&self, named: Option<&str>) -> Option<String> {
        let named = named.map(account_name).filter(|a| !a.is_empty());
        match (&self.settings.account, named) {
            (Some(pin), Some(named)) if named != *pin => None,
            (Some(pin), _) => Some(pin.clone()),
            (None, named) => Some(named.unwrap_or_default()),
        }
    }

    pub(super) async fn password_login(
        &self,
        input: &LoginInput,
        reads: &LoginReads,
        now: u64,
    ) -> Result<Verified> {
        let settings = &reads.account;
        let Some(account) = self.account_for(input.account.as_deref()) else {
            tracing::info!("login refused: the account named is not the one served");
            return Err(Error::InvalidCredentials);
        };
        let login = login_name(input)?;
        let user = self.directory.user_for_login(reads, login).await?;
        self.check_network_before_credential(user.as_ref(), reads, input.client_ip)
            .await?;
        let (policy, lock) = self.lock_state(user.as_ref(), login, reads, now).await?;
        let empty = SecretString::from("");
        let given = input.password.as_ref().unwrap_or(&empty);
        // A PAT given as the password: a cheap hash, before the argon2 work.
        if let Some(user) = &user
            && let Some(pat) = pats::find(&user.pats, given)
            && pat.status(now) == PatStatus::Active
        {
            self.check_network_policy(Some(user), reads, input.client_ip)
                .await?;
            let policy = self.pat_policy(Some(user), reads).await?;
            self.check_pat_after_proof(user, pat, &policy, reads, now)
                .await?;
            self.clear_failures(&lock).await?;
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
        match user {
            Some(user) if ok => {
                // Proven: now the user's own network policy may be told.
                self.check_network_policy(Some(&user), reads, input.client_ip)
                    .await?;
                // The failures are cleared only once the second factor, if any, is given.
                let mfa = match self
                    .second_factor(&user, input, settings, passcode.as_ref(), now)
                    .await
                {
                    Err(Error::InvalidPasscode) => {
                        self.count_failure(&lock, input, &given_credentials, now)
                            .await?;
                        return Err(Error::InvalidPasscode);
                    }
                    other => other?,
                };
                self.clear_failures(&lock).await?;
                // Told only to whoever knows the password. Snowflake asks for a change in its web
                // console; drivers cannot change it, so the login is refused until an
                // administrator sets a new one.
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
            _ => {
                self.count_failure(&lock, input, &given_credentials, now)
                    .await?;
                Err(Error::InvalidCredentials)
            }
        }
    }

    /// The second factor of a user whose password was right: none needed when not enrolled; else a
    /// valid cached MFA token (where the account allows caching) or a fresh TOTP passcode.
    async fn second_factor(
        &self,
        user: &User,
        input: &LoginInput,
        settings: &AccountSettings,
        passcode: Option<&SecretString>,
        now: u64,
    ) -> Result<Mfa> {
        if user.mfa_totp.is_none() {
            return Ok(Mfa {
                factor: None,
                token: None,
            });
        }
        let caching = settings.allow_client_mfa_caching;
        if caching
            && passcode.is_none()
            && input
                .token
                .as_ref()
                .is_some_and(|t| mfa::token_valid(&user.mfa_tokens, t.expose_secret(), now))
        {
            return Ok(Mfa {
                factor: Some(SecondFactor::MfaToken),
                token: None,
            });
        }
        let Some(code) = passcode else {
            tracing::info!(user = ?user.name, "login refused: MFA passcode required");
            return Err(Error::MfaRequired);
        };
        let token = caching && input.mfa.wants_token;
        self.accept_passcode(user.clone(), code.expose_secret(), token, now)
            .await
    }

    /// Checks `code` against the user's seed and records its step (and a new MFA token when
    /// `token`) conditionally on the record read, so two instances never both take one code. A
    /// concurrent change of the record is read again once.
    async fn accept_passcode(
        &self,
        mut user: User,
        code: &str,
        token: bool,
        now: u64,
    ) -> Result<Mfa> {
        for retry in [false, true] {
            let secrets = self.secrets.current();
            let enrollment = user.mfa_totp.as_ref().ok_or(Error::InvalidPasscode)?;
            let Some(seed) = secrets
                .keyring
                .sealing_key_for(&enrollment.kid)
                .and_then(|k| k.open(enrollment, &user.id))
            else {
                tracing::warn!(user = ?user.name, "TOTP seed cannot be opened (sealed under a secret version no longer loaded): the user must enrol again");
                return Err(Error::InvalidPasscode);
            };
            let Some(step) = seed.matching_step(code, now, enrollment.last_step) else {
                tracing::info!(user = ?user.name, "login refused: wrong, stale or reused TOTP passcode");
                return Err(Error::InvalidPasscode);
            };
            // Sealed again under the current secret, so a rotation never strands an active user.
            let mut sealed = match enrollment.kid == secrets.keyring.current_kid() {
                true => enrollment.clone(),
                false => secrets
                    .keyring
                    .sealing_key()
                    .seal(&seed, &user.id, enrollment.created_on),
            };
            sealed.last_step = step;
            sealed.last_used = now;
            let mut updated = user.clone();
            updated.mfa_totp = Some(sealed);
            let secret = token.then(|| {
                let (secret, kept) = mfa::new_mfa_token(now);
                mfa::remember_token(&mut updated.mfa_tokens, kept, now);
                secret
            });
            match self.directory.update_user(&updated, &user).await {
                Ok(_) => {
                    return Ok(Mfa {
                        factor: Some(SecondFactor::Totp),
                        token: secret,
                    });
                }
                Err(Error::Conflict) if !retry => {
                    let id = user.id.clone();
                    user = self
                        .directory
                        .user(Ident::stored(&user.name))
                        .await?
                        .filter(|u| u.id == id)
                        .ok_or(Error::InvalidPasscode)?;
                }
                Err(Error::Conflict) => return Err(Error::InvalidPasscode),
                Err(e) => return Err(e),
            }
        }
        Err(Error::InvalidPasscode)
    }

    /// Counts a failed credential (`credentials`: everything the login gave, password and passcode
    /// or token); the failure that reaches the limit locks the user (logged once). A driver's retry
    /// of one login (same request id, same credentials, within seconds) counts once; another guess
    /// under the same request id counts again (`attempts.rs`).
    async fn count_failure(
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
        let (counter, lockout) = (&lock.counter, &lock.lockout);
        let until = now.saturating_add(lockout.seconds);
        let (failures, raised) = self
            .store
            .record_failure(counter, &attempt, now, until)
            .await?;
        if raised && failures.count == lockout.failures {
            audit::locked(counter.as_str(), failures.count, lockout.minutes());
        }
        Ok(())
    }

    /// A successful credential forgets the name's failed attempts (one write, only if there were
    /// any).
    async fn clear_failures(&self, lock: &LockState) -> Result<()> {
        if lock.failures.count > 0 {
            self.store.clear_failures(&lock.counter).await?;
        }
        Ok(())
    }

    /// The name's failed attempts and the lockout that governs them: the password policy's (the
    /// user's, else the account's; unknown names get the account's), else the settings'. A locked
    /// name is refused here. Unknown names are counted (and locked) like real ones, so the answers
    /// never tell them apart. Also returns the password policy, which sets the password's age.
    async fn lock_state(
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
        let lockout = Lockout::of(policy.as_ref(), &self.settings);
        let failures = match reads.failures_of(&counter) {
            Some(read) => read,
            None => self.store.failures(&counter, now).await?,
        };
        if failures.count >= lockout.failures {
            return Err(lockout.locked());
        }
        let lock = LockState {
            counter,
            lockout,
            failures,
        };
        Ok((policy, lock))
    }

    /// `AUTHENTICATOR=PROGRAMMATIC_ACCESS_TOKEN`: the PAT is the TOKEN (or, from the Node driver,
    /// the PASSWORD). Every refusal of the token is the same 394400, and counts toward the lock.
    pub(super) async fn pat_login(
        &self,
        input: &LoginInput,
        reads: &LoginReads,
        now: u64,
    ) -> Result<Verified> {
        let Some(account) = self.account_for(input.account.as_deref()) else {
            tracing::info!("PAT login refused: the account named is not the one served");
            return Err(Error::InvalidPat);
        };
        let login = login_name(input)?;
        let secret = input
            .token
            .as_ref()
            .or(input.password.as_ref())
            .ok_or(Error::InvalidPat)?;
        let user = self.directory.user_for_login(reads, login).await?;
        let policy = self.pat_policy(user.as_ref(), reads).await?;
        let enforced = policy.network_policy_evaluation != NetworkPolicyEvaluation::NotEnforced;
        if enforced {
            self.check_network_before_credential(user.as_ref(), reads, input.client_ip)
                .await?;
        }
        let (_, lock) = self.lock_state(user.as_ref(), login, reads, now).await?;
        let found = user.as_ref().and_then(|u| {
            pats::find(&u.pats, secret)
                .filter(|p| p.status(now) == PatStatus::Active)
                .map(|p| (u, p))
        });
        let Some((user, pat)) = found else {
            tracing::info!("PAT login refused: no active token with that secret");
            self.count_failure(&lock, input, &[secret], now).await?;
            return Err(Error::InvalidPat);
        };
        if enforced {
            self.check_network_policy(Some(user), reads, input.client_ip)
                .await?;
        }
        // The policy read above is this user's: the token matched one of theirs.
        self.check_pat_after_proof(user, pat, &policy, reads, now)
            .await?;
        self.clear_failures(&lock).await?;
        Ok(Verified::by_pat(user.clone(), account, pat))
    }

    async fn pat_policy(
        &self,
        user: Option<&User>,
        policies: &impl PolicySource,
    ) -> Result<PatPolicy> {
        let policy: AuthenticationPolicy = self.directory.effective_policy(user, policies).await?;
        Ok(policy.pat_policy)
    }

    /// What a matching PAT must still pass, told only to its holder: the policy's network
    /// requirement, then its rules on role restrictions.
    async fn check_pat_after_proof(
        &self,
        user: &User,
        pat: &Pat,
        policy: &PatPolicy,
        reads: &LoginReads,
        now: u64,
    ) -> Result<()> {
        self.check_pat_network_requirement(user, pat, policy, reads, now)
            .await?;
        check_pat_rules(user, pat, policy)
    }

    /// Under ENFORCED_REQUIRED a PAT works only for a user under a network policy (their own or
    /// the account's), unless the token's bypass window is open. Checked after the token, so the
    /// answer tells nothing to someone without it.
    async fn check_pat_network_requirement(
        &self,
        user: &User,
        pat: &Pat,
        policy: &PatPolicy,
        policies: &impl PolicySource,
        now: u64,
    ) -> Result<()> {
        if policy.network_policy_evaluation != NetworkPolicyEvaluation::EnforcedRequired
            || pat.bypasses_network_requirement(now)
            || self
                .directory
                .network_policy_for(Some(user), policies)
                .await?
                .is_some()
        {
            return Ok(());
        }
        tracing::info!(user = ?user.name, "PAT login refused: the user is under no network policy");
        Err(Error::NetworkPolicyRequired)
    }

    pub(super) async fn key_pair_login(
        &self,
        input: &LoginInput,
        reads: &LoginReads,
        now: u64,
    ) -> Result<Verified> {
        let refused = |why: &str| {
            // The reason goes to the log only; the client always gets 390144.
            tracing::info!(reason = why, "key-pair login refused");
            Error::InvalidJwt
        };
        let token = input.token.as_ref().ok_or_else(|| refused("no TOKEN"))?;
        let token = token.expose_secret();
        let id =
            claimed_identity(token, now).ok_or_else(|| refused("malformed claims or times"))?;
        if self.account_for(Some(&id.account)).is_none() {
            return Err(refused("the JWT's account is not the one served"));
        }
        if input
            .account
            .as_deref()
            .is_some_and(|a| account_name(a) != id.account)
        {
            return Err(refused("account mismatch"));
        }
        if input
            .login_name
            .as_deref()
            .is_some_and(|l| !l.trim().eq_ignore_ascii_case(&id.user))
        {
            return Err(refused("LOGIN_NAME differs from the JWT subject"));
        }
        let user = self.directory.user_for_login(reads, &id.user).await?;
        self.check_network_before_credential(user.as_ref(), reads, input.client_ip)
            .await?;
        let user = user.ok_or_else(|| refused("unknown user"))?;
        let key = user
            .key_with_fingerprint(&id.fingerprint)
            .ok_or_else(|| refused("no key with that fingerprint"))?;
        let fingerprint = key.fingerprint.clone();
        let key = self
            .keys
            .get(key)
            .ok_or_else(|| refused("stored key unusable"))?;
        if !signature_valid(token, &key) {
            return Err(refused("bad signature"));
        }
        self.check_network_policy(Some(&user), reads, input.client_ip)
            .await?;
        Ok(Verified::by_key(user, id.account, fingerprint))
    }
}

/// The PAT policy's rules on role restrictions, as the policy stands now: a token made before the
/// policy blocked its role, or began to require a restriction, logs in no more (390430). Checked
/// after the token, so the answer tells nothing to someone without it.
fn check_pat_rules(user: &User, pat: &Pat, policy: &PatPolicy) -> Result<()> {
    let service = matches!(user.user_type, UserType::Service | UserType::LegacyService);
    let person = user.user_type == UserType::Person;
    match policy.refusal(service, person, pat.role_restriction.as_deref()) {
        None => Ok(()),
        Some(why) => {
            tracing::info!(user = ?user.name, token = ?pat.name, "PAT login refused by the PAT policy");
            Err(Error::PolicyRefused(why))
        }
    }
}

/// The password to verify and the TOTP passcode of a login: appended to the password when the
/// driver says so, else PASSCODE.
fn passcode_of(input: &LoginInput, given: &SecretString) -> (SecretString, Option<SecretString>) {
    if input.mfa.in_password() {
        let (password, code) = mfa::split_passcode(given.expose_secret());
        return (
            SecretString::from(password.to_string()),
            code.map(|c| SecretString::from(c.to_string())),
        );
    }
    (given.clone(), input.mfa.passcode.clone())
}

/// How many failed passwords lock a user, and for how long.
struct Lockout {
    failures: u32,
    seconds: u64,
}

impl Lockout {
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
