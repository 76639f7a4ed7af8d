//! External OAuth logins (`AUTHENTICATOR=OAUTH`, or Go's form: no AUTHENTICATOR, a TOKEN, no
//! PASSWORD, `CLIENT_ENVIRONMENT.OAUTH_TYPE`). The enabled security integration whose issuer is the
//! token's `iss` verifies it (keys from its URL or its RSA keys); its mapping claim names the user;
//! a `session:role:<ROLE>` scope names the session's role. Refusals are `390303` (or `390318` for an
//! expired token); the reason goes to the log, never the token.

use std::sync::Arc;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::domain::audit;
use crate::domain::credentials::jwks::{self, Expectations, KeySet, VerifyError};
use crate::domain::credentials::rsa_keys::parse_public_key;
use crate::domain::directory::security_integrations::{ExternalOauth, MappingAttribute};
use crate::domain::directory::{Directory, PolicySource, SYSTEM_ROLES, User};
use crate::domain::ident::Ident;
use crate::domain::login::authenticator::{Authenticator, JwksSlot, LoginCx};
use crate::domain::login::checks::LoginChecks;
use crate::domain::login::input::LoginInput;
use crate::domain::login::verified::Verified;
use crate::domain::policy::{AuthMethod, AuthenticationPolicy};
use crate::domain::session::{OAuthGrant, Session};
use crate::error::{Error, Result, SqlErrorKind};

fn refused(why: &str) -> Error {
    tracing::info!(reason = why, "OAuth login refused");
    Error::InvalidOauth
}

/// The first 16 hex digits of the token's SHA-256: names the token in an error without revealing it.
fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub struct OauthLogin {
    checks: Arc<LoginChecks>,
    directory: Directory,
    /// Key sets of integrations with a key URL.
    jwks: JwksSlot,
}

impl OauthLogin {
    pub fn new(checks: Arc<LoginChecks>, directory: Directory, jwks: JwksSlot) -> Self {
        Self {
            checks,
            directory,
            jwks,
        }
    }
}

impl Authenticator for OauthLogin {
    async fn verify(&self, cx: &LoginCx<'_>) -> Result<Verified> {
        let (input, policies, now) = (cx.input, cx.reads, cx.now);
        let (account, token) = self.checks.account_and_token(input).map_err(refused)?;
        let issuer = jwks::unverified_issuer(token).ok_or_else(|| refused("malformed token"))?;
        let integration = self
            .directory
            .integrations()
            .await?
            .into_iter()
            .find(|i| i.enabled && i.issuer == issuer)
            .ok_or_else(|| refused("no enabled integration for this issuer"))?;
        let keys = self.integration_keys(&integration, token, now).await?;
        let expect = Expectations {
            issuer: &integration.issuer,
            audiences: &integration.audiences,
            require_iat: true,
            now,
        };
        let claims = jwks::verify(token, &keys, &expect).map_err(|e| match e {
            VerifyError::Expired => {
                tracing::info!("OAuth login refused: the token has expired");
                Error::OauthExpired(digest(token))
            }
            other => refused(&other.to_string()),
        })?;
        let user = self.oauth_user(&integration, &claims).await?;
        self.checks
            .network_policy(user.as_ref(), policies, input.client_ip)
            .await?;
        let user = user.ok_or_else(|| refused("no user matches the mapping claim"))?;
        self.check_integration_policy(&user, policies, &integration)
            .await?;
        let role = session_role(&integration, &claims, &user, input);
        let opening = role.clone().unwrap_or_else(|| default_role(&user));
        if let Some(why) = role_refusal(&integration, &user, &opening) {
            return Err(refused(why));
        }
        // `verify` checked that `exp` is a number. The session lasts as long as the token would be
        // accepted at login: the clock skew tolerated there holds for it too.
        let expires_at = claims
            .get("exp")
            .and_then(Value::as_u64)
            .unwrap_or(now)
            .saturating_add(jwks::LEEWAY_SECONDS);
        Ok(Verified {
            role_restriction: role,
            oauth: Some(OAuthGrant {
                integration: integration.name.clone(),
                expires_at,
                integration_created_on: integration.created_on,
            }),
            ..Verified::by(user, account, AuthMethod::Oauth)
        })
    }
}

/// Why an OAuth session may no longer go on, if it may not: its integration was dropped, replaced
/// or disabled, or its role or user is one the integration may no longer log in (a role blocked
/// since, a system role granted since). Checked at every request; the caller ends the session.
pub(in crate::domain) async fn session_refusal(
    directory: &Directory,
    session: &Session,
    user: &User,
) -> Result<Option<&'static str>> {
    let Some(grant) = &session.oauth else {
        return Ok(None);
    };
    let role = session.context.role.as_deref().unwrap_or("PUBLIC");
    oauth_refusal(directory, grant, user, role).await
}

impl OauthLogin {
    async fn integration_keys(
        &self,
        integration: &ExternalOauth,
        token: &str,
        now: u64,
    ) -> Result<std::sync::Arc<KeySet>> {
        if let Some(url) = &integration.jws_keys_url {
            let cache = self
                .jwks
                .get()
                .ok_or_else(|| refused("no key fetcher configured"))?;
            let kid = jwks::token_kid(token);
            return cache
                .keys(url, kid.as_deref(), now)
                .await
                .map_err(|_| refused("the integration's keys could not be fetched"));
        }
        let parsed: Vec<_> = [&integration.rsa_public_key, &integration.rsa_public_key_2]
            .into_iter()
            .flatten()
            .filter_map(|k| parse_public_key(k).ok())
            .collect();
        Ok(std::sync::Arc::new(KeySet::from_rsa_keys(
            &parsed.iter().collect::<Vec<_>>(),
        )))
    }

    /// The user the token's mapping claim names, by LOGIN_NAME or by EMAIL.
    async fn oauth_user(
        &self,
        integration: &ExternalOauth,
        claims: &Map<String, Value>,
    ) -> Result<Option<User>> {
        let Some(value) = integration
            .user_mapping_claims
            .iter()
            .find_map(|c| claims.get(c).and_then(Value::as_str))
            .filter(|v| !v.is_empty() && v.len() <= 255)
        else {
            return Ok(None);
        };
        match integration.mapping_attribute {
            MappingAttribute::LoginName => self.directory.user_by_login(value).await,
            // E-mail addresses are not indexed: a scan, bounded by the number of users.
            MappingAttribute::EmailAddress => {
                Ok(self.directory.users().await?.into_iter().find(|u| {
                    u.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(value))
                }))
            }
        }
    }

    /// The authentication policy's SECURITY_INTEGRATIONS must name the integration (or ALL).
    async fn check_integration_policy(
        &self,
        user: &User,
        policies: &impl PolicySource,
        integration: &ExternalOauth,
    ) -> Result<()> {
        let policy: AuthenticationPolicy = self.checks.effective_policy(user, policies).await?;
        let listed = |i: &String| i == "ALL" || i.eq_ignore_ascii_case(&integration.name);
        if policy.security_integrations.iter().any(listed) {
            return Ok(());
        }
        audit::policy_refusal(
            &user.name,
            &policy.meta.name,
            "SECURITY_INTEGRATIONS",
            AuthMethod::Oauth.policy_name(),
        );
        Err(Error::PolicyRefused(format!(
            "the security integration {} is not allowed by the authentication policy (SECURITY_INTEGRATIONS).",
            integration.name
        )))
    }
}

/// The token's scopes: the `scope_mapping_attribute` claim (`scp`) as a list or a string, else
/// `scope` split by the delimiter (and spaces, OAuth's own separator).
fn scopes(integration: &ExternalOauth, claims: &Map<String, Value>) -> Vec<String> {
    let delimiter = integration.scope_delimiter.chars().next().unwrap_or(',');
    let split = |s: &str| -> Vec<String> {
        s.split(|c: char| c == delimiter || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    };
    let claim = claims
        .get(&integration.scope_mapping_attribute)
        .or_else(|| claims.get("scope"));
    match claim {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .flat_map(split)
            .collect(),
        Some(Value::String(s)) => split(s),
        _ => Vec::new(),
    }
}

/// The role a session opens in without one named: the default role if still granted, else PUBLIC
/// (as `verified::initial_context` picks it).
fn default_role(user: &User) -> String {
    user.default_role
        .clone()
        .filter(|r| user.effective_roles().contains(r))
        .unwrap_or_else(|| "PUBLIC".into())
}

/// Why an OAuth session of `integration` may not be in `role` for `user`, if it may not: the role is
/// privileged, blocked or not allowed by the integration; or the role, or any system role the user
/// holds, is one the integration's creator does not hold (an integration declared by a lesser role
/// must not log in, or hand roles to, anyone above it).
fn role_refusal(integration: &ExternalOauth, user: &User, role: &str) -> Option<&'static str> {
    if !integration.role_allowed(role) {
        return Some("the role is blocked by the security integration");
    }
    let creator = User {
        roles: [integration.creator_role().to_string()].into(),
        ..User::default()
    }
    .effective_roles();
    let above = |r: &str| SYSTEM_ROLES.contains(&r) && !creator.contains(r);
    if above(role) {
        return Some("the role is above the security integration's creator");
    }
    if user.effective_roles().iter().any(|r| above(r)) {
        return Some("the user holds a system role the security integration's creator does not");
    }
    None
}

/// The role the session is held to: the scope's `session:role:<ROLE>`; with `session:role-any` and
/// ANY_ROLE_MODE enabled, the login's role (or none: the default role); else the user's default role.
/// The caller checks the role against the integration ([`role_refusal`]).
fn session_role(
    integration: &ExternalOauth,
    claims: &Map<String, Value>,
    user: &User,
    input: &LoginInput,
) -> Option<String> {
    let scopes = scopes(integration, claims);
    let named = scopes
        .iter()
        .find_map(|s| s.strip_prefix("session:role:"))
        .map(|r| r.to_uppercase());
    let any =
        integration.any_role_mode != "DISABLE" && scopes.iter().any(|s| s == "session:role-any");
    match (named, any) {
        (Some(role), _) => Some(role),
        (None, true) => input.role.as_deref().map(str::to_uppercase),
        (None, false) => Some(
            user.default_role
                .clone()
                .unwrap_or_else(|| "PUBLIC".into())
                .to_uppercase(),
        ),
    }
}

/// USE ROLE in an OAuth session: the role must be one its integration may log in.
pub(in crate::domain) async fn check_oauth_role(
    directory: &Directory,
    grant: &OAuthGrant,
    user: &User,
    role: &str,
) -> Result<()> {
    let Some(why) = oauth_refusal(directory, grant, user, role).await? else {
        return Ok(());
    };
    Err(Error::sql(
        SqlErrorKind::InsufficientPrivileges,
        format!(
            "SQL access control error:\nRole '{role}' is not allowed in this OAuth session ({why}; security integration '{}').",
            grant.integration
        ),
    ))
}

/// Why a session `grant` opened may not be in `role` for `user` now, if it may not.
async fn oauth_refusal(
    directory: &Directory,
    grant: &OAuthGrant,
    user: &User,
    role: &str,
) -> Result<Option<&'static str>> {
    let integration = directory
        .integration(Ident::stored(&grant.integration))
        .await?;
    Ok(match &integration {
        None => Some("the security integration was dropped"),
        Some(i) if i.created_on != grant.integration_created_on => {
            Some("the security integration was replaced")
        }
        Some(i) if !i.enabled => Some("the security integration is disabled"),
        Some(i) => role_refusal(i, user, role),
    })
}
