//! External OAuth logins (`AUTHENTICATOR=OAUTH`, or Go's form: no AUTHENTICATOR, a TOKEN, no
//! PASSWORD, `CLIENT_ENVIRONMENT.OAUTH_TYPE`). The enabled security integration whose issuer is the
//! token's `iss` verifies it (keys from its URL or its RSA keys); its mapping claim names the user;
//! a `session:role:<ROLE>` scope names the session's role. Refusals are `390303` (or `390318` for an
//! expired token); the reason goes to the log, never the token.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::audit;
use super::directory::{PolicySource, User};
use super::gatekeeper::{Gatekeeper, LoginInput};
use super::jwks::{self, Expectations, KeySet, VerifyError};
use super::keys::parse_public_key;
use super::policies::{AuthMethod, AuthenticationPolicy};
use super::security_integrations::{ExternalOauth, MappingAttribute};
use super::verified::Verified;
use crate::error::{Error, Result};

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

impl Gatekeeper {
    pub(super) async fn oauth_login(
        &self,
        input: &LoginInput,
        policies: &impl PolicySource,
        now: u64,
    ) -> Result<Verified> {
        let (account, token) = self.account_and_token(input).map_err(refused)?;
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
        self.check_network_policy(user.as_ref(), policies, input.client_ip)
            .await?;
        let user = user.ok_or_else(|| refused("no user matches the mapping claim"))?;
        self.check_integration_policy(&user, policies, &integration)
            .await?;
        let role = session_role(&integration, &claims, &user, input)?;
        Ok(Verified {
            role_restriction: role,
            ..Verified::by(user, account, AuthMethod::Oauth)
        })
    }

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
        let policy: AuthenticationPolicy = self
            .directory
            .effective_policy(Some(user), policies)
            .await?;
        let listed = |i: &String| i == "ALL" || i.eq_ignore_ascii_case(&integration.name);
        if policy.security_integrations.iter().any(listed) {
            return Ok(());
        }
        audit::policy_refusal(
            &user.name,
            &policy.meta.name,
            "SECURITY_INTEGRATIONS",
            "OAUTH",
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

/// The role the session is held to: the scope's `session:role:<ROLE>`; with `session:role-any` and
/// ANY_ROLE_MODE enabled, the login's role (or none: the default role); else the user's default role.
/// Privileged and blocked roles are refused.
fn session_role(
    integration: &ExternalOauth,
    claims: &Map<String, Value>,
    user: &User,
    input: &LoginInput,
) -> Result<Option<String>> {
    let scopes = scopes(integration, claims);
    let named = scopes
        .iter()
        .find_map(|s| s.strip_prefix("session:role:"))
        .map(|r| r.to_uppercase());
    let any =
        integration.any_role_mode != "DISABLE" && scopes.iter().any(|s| s == "session:role-any");
    let role = match (named, any) {
        (Some(role), _) => role,
        (None, true) => match input.role.as_deref().map(str::to_uppercase) {
            Some(role) => role,
            None => {
                default_allowed(integration, user)?;
                return Ok(None);
            }
        },
        (None, false) => user
            .default_role
            .clone()
            .unwrap_or_else(|| "PUBLIC".into())
            .to_uppercase(),
    };
    if !integration.role_allowed(&role) {
        return Err(refused("the role is blocked for OAuth"));
    }
    Ok(Some(role))
}

/// With no role asked, the session takes the default role, which must be allowed too.
fn default_allowed(integration: &ExternalOauth, user: &User) -> Result<()> {
    let role = user
        .default_role
        .as_deref()
        .unwrap_or("PUBLIC")
        .to_uppercase();
    match integration.role_allowed(&role) {
        true => Ok(()),
        false => Err(refused("the default role is blocked for OAuth")),
    }
}
