//! `AUTHENTICATOR=WORKLOAD_IDENTITY` logins. AWS: the attestation is checked ([`wif_aws::check`]),
//! used once, replayed to STS, and the identity STS names selects the user (the one LOGIN_NAME
//! names, if any: the Go driver sends none). Every refusal is the same
//! [`Error::InvalidWorkloadIdentity`]; the log line says why, never quoting the token.

use secrecy::ExposeSecret;

use super::audit;
use super::directory::{AccountSettings, User};
use super::gatekeeper::{Gatekeeper, LoginInput};
use super::login::Verified;
use super::policies::{AuthMethod, AuthenticationPolicy, WorkloadIdentityPolicy};
use super::wif_aws::{self, MAX_SKEW_SECONDS};
use super::workload_identity::{AwsArn, Provider};
use crate::error::{Error, Result};

/// `last_used` is written at most this often per identity (it costs a user write).
const LAST_USED_GRANULARITY_SECONDS: u64 = 3_600;

fn refuse(why: &str) -> Error {
    tracing::info!(reason = why, "workload identity login refused");
    Error::InvalidWorkloadIdentity
}

impl Gatekeeper {
    /// `PROVIDER=AWS` (dispatched by `workload_login`).
    pub(super) async fn aws_workload_login(
        &self,
        input: &LoginInput,
        settings: &AccountSettings,
        now: u64,
    ) -> Result<Verified> {
        let Some(account) = self.account_for(input.account.as_deref()) else {
            return Err(refuse("the account named is not the one served"));
        };
        let caller = self.aws_caller(input, now).await?;
        let (user, index) = self.user_of(input, &caller).await?;
        self.check_network_policy(Some(&user), settings, input.client_ip)
            .await?;
        let policy: AuthenticationPolicy = self
            .directory
            .effective_policy(Some(&user), settings)
            .await?;
        if let Some(rule) = aws_refusal(&policy.workload_identity_policy, &caller) {
            audit::policy_refusal(&user.name, &policy.name, rule, "WORKLOAD_IDENTITY");
            return Err(Error::PolicyRefused(format!(
                "the workload identity policy's {rule} does not allow this identity"
            )));
        }
        let user = self.mark_used(user, index, now).await;
        Ok(Verified::by(user, account, AuthMethod::WorkloadIdentity))
    }

    /// The IAM identity that signed the attestation, as STS tells it.
    async fn aws_caller(&self, input: &LoginInput, now: u64) -> Result<AwsArn> {
        let token = input
            .token
            .as_ref()
            .ok_or_else(|| refuse("no TOKEN"))?
            .expose_secret();
        // The outbound-JWT form (STS GetWebIdentityToken) needs the issuer's keys: not yet. (A
        // base64 attestation has no dots; a JWT has two.)
        if token.contains('.') {
            return Err(refuse("outbound-JWT attestations are not supported yet"));
        }
        let request = wif_aws::check(token, now, self.sts_extra_host.as_deref()).map_err(refuse)?;
        let until = request.signed_at.saturating_add(MAX_SKEW_SECONDS + 1);
        if !self
            .attestations_seen
            .first_use(&request.signature, until, now)
        {
            return Err(refuse("attestation already used"));
        }
        let arn = self
            .sts
            .caller_arn(&request)
            .await?
            .ok_or_else(|| refuse("STS refused the attestation"))?;
        AwsArn::from_caller(&arn).ok_or_else(|| refuse("STS named no IAM role or user"))
    }

    /// The user bound to `caller` (and the index of the identity), among those LOGIN_NAME names.
    async fn user_of(&self, input: &LoginInput, caller: &AwsArn) -> Result<(User, usize)> {
        let login = input
            .login_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let candidates = match login {
            Some(login) => self
                .directory
                .user_by_login(login)
                .await?
                .into_iter()
                .collect(),
            // Go sends no LOGIN_NAME: every user is a candidate.
            None => self.directory.users().await?,
        };
        let mut found = candidates
            .into_iter()
            .filter_map(|u| bound_identity(&u, caller).map(|i| (u, i)));
        let first = found
            .next()
            .ok_or_else(|| refuse("no user has this identity"))?;
        if found.next().is_some() {
            return Err(refuse("several users have this identity; send LOGIN_NAME"));
        }
        Ok(first)
    }

    /// Records the login on the identity (SHOW's `last_used`), at most once an hour; a failed write
    /// does not fail the login.
    async fn mark_used(&self, user: User, index: usize, now: u64) -> User {
        let last = user.workload_identities[index].last_used;
        if now.saturating_sub(last) < LAST_USED_GRANULARITY_SECONDS {
            return user;
        }
        let mut updated = user.clone();
        updated.workload_identities[index].last_used = now;
        match self.directory.update_user(&updated, &user).await {
            Ok(true) => updated,
            Ok(false) => user,
            Err(e) => {
                tracing::warn!(error = %e, "could not record a workload identity's last use");
                user
            }
        }
    }
}

/// The enabled AWS identity of `user` that `caller` is.
fn bound_identity(user: &User, caller: &AwsArn) -> Option<usize> {
    user.workload_identities.iter().position(
        |w| matches!(&w.provider, Provider::Aws { arn, .. } if !w.disabled && arn.matches(caller)),
    )
}

/// The WORKLOAD_IDENTITY_POLICY rule that refuses `caller`, if any.
fn aws_refusal(policy: &WorkloadIdentityPolicy, caller: &AwsArn) -> Option<&'static str> {
    let allows = |list: &[String], value: &str| {
        list.iter()
            .any(|v| v.eq_ignore_ascii_case("ALL") || v.eq_ignore_ascii_case(value))
    };
    if !allows(&policy.allowed_providers, "AWS") {
        return Some("ALLOWED_PROVIDERS");
    }
    if !allows(&policy.allowed_aws_accounts, &caller.account) {
        return Some("ALLOWED_AWS_ACCOUNTS");
    }
    if !allows(&policy.allowed_aws_partitions, &caller.partition) {
        return Some("ALLOWED_AWS_PARTITIONS");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_identity_policy_rules() {
        let caller = AwsArn::parse("arn:aws:iam::123456789012:role/app").unwrap();
        let mut policy = WorkloadIdentityPolicy::default();
        assert_eq!(aws_refusal(&policy, &caller), None);
        policy.allowed_aws_accounts = vec!["210987654321".into()];
        assert_eq!(aws_refusal(&policy, &caller), Some("ALLOWED_AWS_ACCOUNTS"));
        policy.allowed_aws_accounts = vec!["123456789012".into()];
        policy.allowed_aws_partitions = vec!["AWS-CN".into()];
        assert_eq!(
            aws_refusal(&policy, &caller),
            Some("ALLOWED_AWS_PARTITIONS")
        );
        policy.allowed_aws_partitions = vec!["AWS".into()];
        assert_eq!(aws_refusal(&policy, &caller), None);
        policy.allowed_providers = vec!["OIDC".into()];
        assert_eq!(aws_refusal(&policy, &caller), Some("ALLOWED_PROVIDERS"));
    }
}
