//! The steps every login method shares, in the order each method's `verify` takes them: the account
//! pin first, then the network policy before the credential (as far as it answers alike for every
//! name), the proof, the user's own network policy once the credential is proven, then the
//! authentication policy. The rules on PATs live here too: a PAT is accepted both as a token and
//! as a password.

use std::net::IpAddr;

use secrecy::ExposeSecret;

use crate::domain::audit;
use crate::domain::credentials::pats::Pat;
use crate::domain::directory::{Directory, LoginReads, PolicySource, User, UserType, canonical_ip};
use crate::domain::ident::account_name;
use crate::domain::login::input::LoginInput;
use crate::domain::login::verified::SecondFactor;
use crate::domain::policy::authentication::{Client, refusal_with_mfa};
use crate::domain::policy::{AuthMethod, AuthenticationPolicy, NetworkPolicyEvaluation, PatPolicy};
use crate::domain::settings::Settings;
use crate::error::{Error, Result};

/// The shared checks, over the directory and the settings only.
pub struct LoginChecks {
    directory: Directory,
    settings: Settings,
}

/// The login name a password, PAT or MFA login must give.
pub(in crate::domain) fn login_name(input: &LoginInput) -> Result<&str> {
    input
        .login_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Error::BadRequest("LOGIN_NAME is required.".into()))
}

impl LoginChecks {
    pub fn new(directory: Directory, settings: Settings) -> Self {
        Self {
            directory,
            settings,
        }
    }

    /// The account of a login that names `named`: `None` when an account is pinned
    /// (`SNOWGATE_ACCOUNT`) and `named` is another one; the pinned one when the login names none.
    pub fn account_for(&self, named: Option<&str>) -> Option<String> {
        let named = named.map(account_name).filter(|a| !a.is_empty());
        match (&self.settings.account, named) {
            (Some(pin), Some(named)) if named != *pin => None,
            (Some(pin), _) => Some(pin.clone()),
            (None, named) => Some(named.unwrap_or_default()),
        }
    }

    /// The account served and the bearer token of a token login (workload identity, External
    /// OAuth), or why the login is refused before the token is read.
    pub fn account_and_token<'i>(
        &self,
        input: &'i LoginInput,
    ) -> std::result::Result<(String, &'i str), &'static str> {
        let account = self
            .account_for(input.account.as_deref())
            .ok_or("the account named is not the one served")?;
        let token = input.token.as_ref().ok_or("no TOKEN")?;
        Ok((account, token.expose_secret()))
    }

    /// The network check before a credential is proven, which must answer alike for every name
    /// (`user`: the one named, if known): the client is refused here when the policy that governs
    /// it refuses it and so would the account's, which is what an unknown name is checked against.
    /// A user's own policy that refuses an address the account admits is left to
    /// [`Self::network_policy`] once the credential is proven, so that from such an address a
    /// wrong password gets 390100 as it would for a name that does not exist, and only the
    /// credential's holder learns of the policy (390422). Refusals here never reach the lockout.
    pub async fn network_before_credential(
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
        self.network_policy(user, policies, ip).await
    }

    /// The user's network policy, else the account's (`policies`: what this login read), must
    /// admit the client. Before a credential is proven, logins go through
    /// [`Self::network_before_credential`] instead, and come here once it is.
    pub async fn network_policy(
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
    /// from this client with the `second_factor` given (`policies`: what this login read). Checked
    /// once the credential is proven, so only its holder learns the policy's rules, and a refusal
    /// never tells whether a user exists.
    pub async fn authentication_policy(
        &self,
        user: &User,
        policies: &impl PolicySource,
        input: &LoginInput,
        method: AuthMethod,
        second_factor: Option<SecondFactor>,
    ) -> Result<()> {
        let policy = self.effective_policy(user, policies).await?;
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

    /// The authentication policy that governs `user`: theirs, else the account's.
    pub async fn effective_policy(
        &self,
        user: &User,
        policies: &impl PolicySource,
    ) -> Result<AuthenticationPolicy> {
        self.directory.effective_policy(Some(user), policies).await
    }

    /// The PAT policy of the authentication policy that governs `user` (or the account's).
    pub async fn pat_policy(
        &self,
        user: Option<&User>,
        policies: &impl PolicySource,
    ) -> Result<PatPolicy> {
        let policy: AuthenticationPolicy = self.directory.effective_policy(user, policies).await?;
        Ok(policy.pat_policy)
    }

    /// What a matching PAT must still pass, told only to its holder: the policy's network
    /// requirement, then its rules on role restrictions.
    pub async fn pat_after_proof(
        &self,
        user: &User,
        pat: &Pat,
        policy: &PatPolicy,
        reads: &LoginReads,
        now: u64,
    ) -> Result<()> {
        self.pat_network_requirement(user, pat, policy, reads, now)
            .await?;
        check_pat_rules(user, pat, policy)
    }

    /// Under ENFORCED_REQUIRED a PAT works only for a user under a network policy (their own or
    /// the account's), unless the token's bypass window is open. Checked after the token, so the
    /// answer tells nothing to someone without it.
    async fn pat_network_requirement(
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
