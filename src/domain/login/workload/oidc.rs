//! `PROVIDER=OIDC`: TOKEN is a JWT from an OpenID Connect issuer. The user is found by the token's
//! (issuer, subject) through the directory's index (the Go driver sends no LOGIN_NAME), then the
//! token is verified against the issuer's published keys.

use std::sync::Arc;

use crate::domain::audit;
use crate::domain::credentials::jwks::{self, Expectations};
use crate::domain::credentials::workload_identity::{
    DEFAULT_AUDIENCE, MAX_SUBJECT_CHARS, Provider,
};
use crate::domain::directory::{Directory, PolicySource, User};
use crate::domain::login::authenticator::{Authenticator, JwksSlot, LoginCx};
use crate::domain::login::checks::LoginChecks;
use crate::domain::login::verified::Verified;
use crate::domain::login::workload::refused;
use crate::domain::policy::{AuthMethod, AuthenticationPolicy};
use crate::error::{Error, Result};

/// What an OIDC token claims before it is verified: only used to pick the user and the issuer.
struct Claimed {
    issuer: String,
    subject: String,
}

fn claimed(token: &str) -> Option<Claimed> {
    if token.len() > jwks::MAX_TOKEN_BYTES {
        return None;
    }
    let claims: serde_json::Map<String, serde_json::Value> =
        jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    let issuer = claims.get("iss")?.as_str()?;
    let subject = claims.get("sub")?.as_str()?;
    let bounded = !subject.is_empty() && subject.chars().count() <= MAX_SUBJECT_CHARS;
    (bounded && issuer.starts_with("https://")).then(|| Claimed {
        issuer: issuer.to_string(),
        subject: subject.to_string(),
    })
}

pub struct OidcLogin {
    checks: Arc<LoginChecks>,
    directory: Directory,
    /// Issuers' key sets.
    jwks: JwksSlot,
}

impl OidcLogin {
    pub fn new(checks: Arc<LoginChecks>, directory: Directory, jwks: JwksSlot) -> Self {
        Self {
            checks,
            directory,
            jwks,
        }
    }
}

impl Authenticator for OidcLogin {
    async fn verify(&self, cx: &LoginCx<'_>) -> Result<Verified> {
        let (input, policies, now) = (cx.input, cx.reads, cx.now);
        let (account, token) = self.checks.account_and_token(input).map_err(refused)?;
        let claim = claimed(token).ok_or_else(|| refused("malformed token"))?;
        let user = self
            .directory
            .user_by_oidc(&claim.issuer, &claim.subject)
            .await?;
        // The user is known from the token's unverified claims: only what answers alike for every
        // identity is checked before the signature.
        self.checks
            .network_before_credential(user.as_ref(), policies, input.client_ip)
            .await?;
        let user = user.ok_or_else(|| refused("no user has this issuer and subject"))?;
        let audiences =
            oidc_audiences(&user, &claim).ok_or_else(|| refused("identity disabled"))?;
        self.check_workload_policy(&user, policies, &claim.issuer)
            .await?;
        let cache = self
            .jwks
            .get()
            .ok_or_else(|| refused("no key fetcher configured"))?;
        let kid = jwks::token_kid(token);
        let keys = cache
            .issuer_keys(&claim.issuer, kid.as_deref(), now)
            .await
            .map_err(|_| refused("the issuer's keys could not be fetched"))?;
        let expect = Expectations {
            issuer: &claim.issuer,
            audiences: &audiences,
            require_iat: false,
            now,
        };
        let claims = jwks::verify(token, &keys, &expect).map_err(|e| refused(&e.to_string()))?;
        if claims.get("sub").and_then(|s| s.as_str()) != Some(claim.subject.as_str()) {
            return Err(refused("subject changed"));
        }
        self.checks
            .network_policy(Some(&user), policies, input.client_ip)
            .await?;
        Ok(Verified::by(user, account, AuthMethod::WorkloadIdentity))
    }
}

impl OidcLogin {
    /// WORKLOAD_IDENTITY_POLICY's ALLOWED_PROVIDERS and ALLOWED_OIDC_ISSUERS, of the user's
    /// authentication policy else the account's.
    async fn check_workload_policy(
        &self,
        user: &User,
        policies: &impl PolicySource,
        issuer: &str,
    ) -> Result<()> {
        let policy: AuthenticationPolicy = self.checks.effective_policy(user, policies).await?;
        let wif = &policy.workload_identity_policy;
        let has = |list: &[String], item: &str| list.iter().any(|i| i == "ALL" || i == item);
        let rule = if !has(&wif.allowed_providers, "OIDC") {
            "ALLOWED_PROVIDERS"
        } else if !has(&wif.allowed_oidc_issuers, issuer) {
            "ALLOWED_OIDC_ISSUERS"
        } else {
            return Ok(());
        };
        audit::policy_refusal(
            &user.name,
            &policy.meta.name,
            rule,
            AuthMethod::WorkloadIdentity.policy_name(),
        );
        Err(Error::PolicyRefused(format!(
            "Workload identity login is not allowed by the authentication policy ({rule})."
        )))
    }
}

/// The audiences the user's enabled identity for this issuer and subject accepts.
fn oidc_audiences(user: &User, claim: &Claimed) -> Option<Vec<String>> {
    user.workload_identities
        .iter()
        .filter(|w| !w.disabled)
        .find_map(|w| match &w.provider {
            Provider::Oidc {
                issuer,
                subject,
                audiences,
            } if *issuer == claim.issuer && *subject == claim.subject => Some(audiences.clone()),
            _ => None,
        })
        .map(|a| match a.is_empty() {
            true => vec![DEFAULT_AUDIENCE.to_string()],
            false => a,
        })
}
