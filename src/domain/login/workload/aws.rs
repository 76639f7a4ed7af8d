//! `AUTHENTICATOR=WORKLOAD_IDENTITY` logins. AWS: the attestation is checked ([`wif_aws::check`]),
//! used once, replayed to STS, and the identity STS names selects the user (the one LOGIN_NAME
//! names, if any: the Go driver sends none). Every refusal is the same
//! [`Error::InvalidWorkloadIdentity`]; the log line says why, never quoting the token.

use std::sync::Arc;

use crate::domain::audit;
use crate::domain::credentials::jwks::{self, Expectations};
use crate::domain::credentials::workload_identity::{AwsArn, Provider};
use crate::domain::directory::{Directory, User};
use crate::domain::login::authenticator::{Authenticator, JwksSlot, LoginCx};
use crate::domain::login::checks::LoginChecks;
use crate::domain::login::input::LoginInput;
use crate::domain::login::verified::Verified;
use crate::domain::login::workload::attestation::{
    self as wif_aws, CallerIdentity, MAX_SKEW_SECONDS, NoSts, ReplayCache, StsBudget,
};
use crate::domain::login::workload::refused;
use crate::domain::policy::{AuthMethod, AuthenticationPolicy, WorkloadIdentityPolicy};
use crate::error::{Error, Result};

/// `last_used` is written at most this often per identity (it costs a user write).
const LAST_USED_GRANULARITY_SECONDS: u64 = 3_600;

pub struct AwsLogin {
    checks: Arc<LoginChecks>,
    directory: Directory,
    /// Issuers' key sets (the outbound-JWT form).
    jwks: JwksSlot,
    /// Replays attestations to STS.
    sts: Arc<dyn CallerIdentity>,
    /// The configured STS endpoint's host, allowed in attestations besides AWS's own.
    sts_extra_host: Option<String>,
    attestations_seen: ReplayCache,
    /// STS replays each client may still make.
    sts_budget: StsBudget,
}

impl AwsLogin {
    /// Without an STS client every attestation is refused ([`Self::with_sts`] gives one).
    pub fn new(checks: Arc<LoginChecks>, directory: Directory, jwks: JwksSlot) -> Self {
        Self {
            checks,
            directory,
            jwks,
            sts: Arc::new(NoSts),
            sts_extra_host: None,
            attestations_seen: ReplayCache::default(),
            sts_budget: StsBudget::default(),
        }
    }

    /// Attestations are replayed through `sts`; `extra_host` is one more host an attestation may
    /// be signed for (the configured STS endpoint's).
    pub fn with_sts(self, sts: Arc<dyn CallerIdentity>, extra_host: Option<String>) -> Self {
        Self {
            sts,
            sts_extra_host: extra_host.map(|h| h.to_ascii_lowercase()),
            ..self
        }
    }
}

impl Authenticator for AwsLogin {
    async fn verify(&self, cx: &LoginCx<'_>) -> Result<Verified> {
        let (input, policies, now) = (cx.input, cx.reads, cx.now);
        let (account, token) = self.checks.account_and_token(input).map_err(refused)?;
        // A base64 attestation has no dots; the outbound JWT (STS GetWebIdentityToken) has two.
        let (user, index, caller) = match token.contains('.') {
            true => self.aws_jwt(input, token, now).await?,
            false => {
                let caller = self.aws_caller(input, token, now).await?;
                let (user, index) = self.user_of(input, &caller, None).await?;
                (user, index, caller)
            }
        };
        self.checks
            .network_policy(Some(&user), policies, input.client_ip)
            .await?;
        let policy: AuthenticationPolicy = self.checks.effective_policy(&user, policies).await?;
        if let Some(rule) = aws_refusal(&policy.workload_identity_policy, &caller) {
            audit::policy_refusal(
                &user.name,
                &policy.meta.name,
                rule,
                AuthMethod::WorkloadIdentity.policy_name(),
            );
            return Err(Error::PolicyRefused(format!(
                "the workload identity policy's {rule} does not allow this identity"
            )));
        }
        let user = self.mark_used(user, index, now).await;
        Ok(Verified::by(user, account, AuthMethod::WorkloadIdentity))
    }
}

impl AwsLogin {
    /// The IAM identity that signed the attestation, as STS tells it. The attestation's signature
    /// is held while STS is asked and kept as used only once STS accepted it; the call is taken
    /// from the client's budget only for an attestation not already used.
    async fn aws_caller(&self, input: &LoginInput, token: &str, now: u64) -> Result<AwsArn> {
        let request =
            wif_aws::check(token, now, self.sts_extra_host.as_deref()).map_err(refused)?;
        let until = request.signed_at.saturating_add(MAX_SKEW_SECONDS + 1);
        let held = self
            .attestations_seen
            .reserve(&request.signature, until, now)
            .ok_or_else(|| refused("attestation already used or being used"))?;
        if let Err(wait) = self.sts_budget.take(input.client_ip, now) {
            tracing::info!(
                client_ip = ?input.client_ip,
                "workload identity login refused: the client's STS budget is spent"
            );
            return Err(Error::WorkloadIdentityThrottled(wait));
        }
        let arn = self
            .sts
            .caller_arn(&request)
            .await?
            .ok_or_else(|| refused("STS refused the attestation"))?;
        held.keep();
        AwsArn::from_caller(&arn).ok_or_else(|| refused("STS named no IAM role or user"))
    }

    /// The outbound-JWT form: an ES384 JWT from STS `GetWebIdentityToken` whose `sub` is the role,
    /// for an identity with `ISSUER`. The user is found first, so only issuers an administrator
    /// configured are ever fetched; then the JWT is verified against the issuer's keys with
    /// audience `snowflakecomputing.com`. (A JWT is a bearer token until it expires: no one-use
    /// memory here.)
    async fn aws_jwt(
        &self,
        input: &LoginInput,
        token: &str,
        now: u64,
    ) -> Result<(User, usize, AwsArn)> {
        let (issuer, caller) =
            jwt_identity(token).ok_or_else(|| refused("malformed outbound JWT"))?;
        let (user, index) = self.user_of(input, &caller, Some(&issuer)).await?;
        let cache = self
            .jwks
            .get()
            .ok_or_else(|| refused("no key fetcher configured"))?;
        let kid = jwks::token_kid(token);
        let keys = cache
            .issuer_keys(&issuer, kid.as_deref(), now)
            .await
            .map_err(|_| refused("the issuer's keys could not be fetched"))?;
        let audiences = [wif_aws::AUDIENCE.to_string()];
        let expect = Expectations {
            issuer: &issuer,
            audiences: &audiences,
            require_iat: false,
            now,
        };
        let claims = jwks::verify(token, &keys, &expect).map_err(|e| refused(&e.to_string()))?;
        let subject = claims.get("sub").and_then(|s| s.as_str());
        if subject.and_then(AwsArn::from_caller).as_ref() != Some(&caller) {
            return Err(refused("subject changed"));
        }
        Ok((user, index, caller))
    }

    /// The user bound to `caller` (and the index of the identity), among those LOGIN_NAME names;
    /// with `issuer`, only identities with that ISSUER count. Without LOGIN_NAME (the Go driver
    /// sends none) the users are found through the AWS index: one entry and the users it lists,
    /// never the whole directory (an outbound JWT is looked up before it is verified).
    async fn user_of(
        &self,
        input: &LoginInput,
        caller: &AwsArn,
        issuer: Option<&str>,
    ) -> Result<(User, usize)> {
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
            None => self
                .directory
                .users_by_aws(&caller.index_name())
                .await?
                .ok_or_else(|| refused("too many users have this identity; send LOGIN_NAME"))?,
        };
        let mut found = candidates
            .into_iter()
            .filter_map(|u| bound_identity(&u, caller, issuer).map(|i| (u, i)));
        let first = found
            .next()
            .ok_or_else(|| refused("no user has this identity"))?;
        if found.next().is_some() {
            return Err(refused("several users have this identity; send LOGIN_NAME"));
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

/// The enabled AWS identity of `user` that `caller` is (with `issuer`: that has this ISSUER).
fn bound_identity(user: &User, caller: &AwsArn, issuer: Option<&str>) -> Option<usize> {
    user.workload_identities
        .iter()
        .position(|w| match &w.provider {
            Provider::Aws { arn, issuer: own } => {
                !w.disabled
                    && arn.matches(caller)
                    && issuer.is_none_or(|i| own.as_deref() == Some(i))
            }
            _ => false,
        })
}

/// The (unverified) `iss` and IAM `sub` of an outbound JWT: only used to find the user.
fn jwt_identity(token: &str) -> Option<(String, AwsArn)> {
    if token.len() > jwks::MAX_TOKEN_BYTES {
        return None;
    }
    let claims: serde_json::Map<String, serde_json::Value> =
        jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    let issuer = claims.get("iss")?.as_str()?;
    let caller = AwsArn::from_caller(claims.get("sub")?.as_str()?)?;
    issuer
        .starts_with("https://")
        .then(|| (issuer.to_string(), caller))
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
