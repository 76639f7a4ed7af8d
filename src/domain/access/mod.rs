//! Per-request credentials: a request (to `/auth/forward`, the SQL API, the Lambda authorizer, or
//! `POST /oauth/token`) presents a key-pair JWT, a PAT, a session token, an exchanged token or an
//! External OAuth token, and [`Access`] decides who is calling, in which role, or refuses.
//!
//! It takes the login methods' shared steps rather than copies of them: [`LoginChecks`] (account
//! pin, network policy, authentication policy, PAT rules), the parsed-key cache of the key-pair
//! login, the PAT digests of the user record. What differs from a login:
//! - a key-pair JWT is good for its whole life (`exp > now`, `exp - iat` at most an hour: the SQL
//!   API's clients reuse one for 54 minutes), and its verified signature is remembered until `exp`
//!   ([`memory::VerifiedJwts`]), so RSA runs once per JWT; the user, the key still being theirs and
//!   every policy are checked at every request, so a key replaced refuses the next one;
//! - a bare PAT names no user: the PAT index (`directory/pat_index.rs`) finds its holder;
//! - the network policy is checked once the credential is proven (a refusal tells only its
//!   holder), and failures count toward no lock (nothing is guessed per name here: a PAT has 256
//!   random bits and names no user).
//!
//! Records: a request is not a login, so it leaves no history record of its own. The first use
//! of a key-pair JWT, PAT or External OAuth token from an address in an hour, on an instance
//! ([`memory::Sightings`]), leaves one login history record (its method as FIRST_AUTHENTICATION_FACTOR,
//! the route as the client) and one `snowgate::audit` line; session and exchanged tokens leave
//! none (the login or the exchange that made them did). Every refusal is an audit line, and a
//! history record within the refusals' per-minute budget. `POST /oauth/token` is a login: each
//! exchange is recorded.

pub mod classify;
pub mod exchange;
pub mod memory;

use std::net::IpAddr;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

pub use self::classify::{Declared, TokenType, classify};
use self::memory::{Sightings, VerifiedJwts, sighting, token_digest};
use super::audit::{Attempt, Method};
use super::credentials::pats::{self, PatStatus};
use super::credentials::rsa_keys::{JwtUse, KeyCache, claimed_identity_for, signature_valid};
use super::directory::{Directory, LoginReads};
use super::ident::Ident;
use super::login::checks::LoginChecks;
use super::login::history::LoginHistory;
use super::login::input::LoginInput;
use super::login::verified::{Verified, initial_context, restrict_role};
use super::policy::{AuthMethod, NetworkPolicyEvaluation};
use super::ports::storage::Store;
use super::session::Credential;
use super::session::tokens::Claims;
use crate::error::{Error, Result};

/// The route a credential came in by: the client of its audit line and history record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    ForwardAuth,
    SqlApi,
    Authorizer,
    Exchange,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::ForwardAuth => "snowgate-forward-auth",
            Via::SqlApi => "snowgate-sql-api",
            Via::Authorizer => "snowgate-authorizer",
            Via::Exchange => "snowgate-token-exchange",
        }
    }
}

/// What one request presents.
pub struct Presented {
    pub token: SecretString,
    pub declared: Option<Declared>,
    /// The endpoint host the request is for (`X-Forwarded-Host`, else `Host`): an exchanged token
    /// is good for the host it was issued for only.
    pub host: Option<String>,
    pub client_ip: Option<IpAddr>,
    /// A role the request asks for (the SQL API's `role`); else the credential's or the default.
    pub role: Option<String>,
    pub via: Via,
}

impl Presented {
    pub fn token_type(&self) -> TokenType {
        classify(self.token.expose_secret(), self.declared)
    }

    /// The request as the login steps read it: the role asked for, the address, the route.
    fn as_login(&self) -> LoginInput {
        LoginInput {
            role: self.role.clone(),
            client_ip: self.client_ip,
            client_app: Some(self.via.as_str().to_string()),
            ..LoginInput::default()
        }
    }
}

/// Who is calling: what `/auth/forward` hands the app (`Sf-Context-Current-*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: String,
    pub account: String,
    pub role: String,
    pub email: Option<String>,
    pub token_type: TokenType,
    /// How the credential was proven, and the credential itself (for an exchange to bind to).
    pub method: AuthMethod,
    pub credential: Option<Credential>,
    pub user_id: String,
}

/// A credential proven, before the checks every request takes ([`Access::admit`]).
pub struct Proven {
    pub verified: Verified,
    pub reads: LoginReads,
    /// Whether the network policy applies (a PAT's only under its PAT policy's evaluation).
    pub network: bool,
    /// Whether the authentication policy is checked here (a session's was at its login).
    pub policy: bool,
}

/// The per-request verifier: the shared login steps, the parsed keys, and its memories.
pub struct Access {
    checks: Arc<LoginChecks>,
    directory: Directory,
    keys: Arc<KeyCache>,
    jwts: VerifiedJwts,
    seen: Sightings,
    history: LoginHistory,
}

fn refused_jwt(why: &str) -> Error {
    tracing::info!(reason = why, "request key-pair JWT refused");
    Error::InvalidJwt
}

fn refused_exchanged(why: &str) -> Error {
    tracing::info!(reason = why, "exchanged token refused");
    Error::InvalidToken
}

impl Access {
    pub fn new(store: Arc<dyn Store>, checks: Arc<LoginChecks>, keys: Arc<KeyCache>) -> Self {
        Self {
            directory: Directory::new(Arc::clone(&store)),
            history: LoginHistory::new(store),
            checks,
            keys,
            jwts: VerifiedJwts::default(),
            seen: Sightings::default(),
        }
    }

    /// What every request reads: the account's settings (the policies are read as the checks
    /// need them).
    pub async fn account_reads(&self, now: u64) -> Result<LoginReads> {
        self.directory.login_reads(None, now).await
    }

    /// A key-pair JWT: the user its `sub` names, one of their two keys by the `iss` fingerprint,
    /// the signature (once per JWT), under the request time rules. Every refusal is 390144.
    pub async fn key_pair(&self, token: &str, now: u64) -> Result<Proven> {
        let (id, exp) = claimed_identity_for(token, now, JwtUse::Request)
            .ok_or_else(|| refused_jwt("malformed claims or times"))?;
        let account = self
            .checks
            .account_for(Some(&id.account))
            .ok_or_else(|| refused_jwt("the JWT's account is not the one served"))?;
        let reads = self.directory.login_reads(Some(&id.user), now).await?;
        let user = self
            .directory
            .user_for_login(&reads, &id.user)
            .await?
            .ok_or_else(|| refused_jwt("unknown user"))?;
        let key = user
            .key_with_fingerprint(&id.fingerprint)
            .ok_or_else(|| refused_jwt("no key with that fingerprint"))?;
        let digest = token_digest(token);
        if !self.jwts.knows(&digest, &key.fingerprint, now) {
            let parsed = self
                .keys
                .get(key)
                .ok_or_else(|| refused_jwt("stored key unusable"))?;
            if !signature_valid(token, &parsed) {
                return Err(refused_jwt("bad signature"));
            }
            self.jwts.remember(digest, &key.fingerprint, exp, now);
        }
        let fingerprint = key.fingerprint.clone();
        Ok(Proven {
            verified: Verified::by_key(user, account, fingerprint),
            reads,
            network: true,
            policy: true,
        })
    }

    /// A PAT: its holder from the PAT index, an active token of theirs with that secret, then the
    /// PAT policy's rules (network requirement, role restriction). Every refusal is 394400, but a
    /// policy's, told only to the holder.
    pub async fn pat(&self, secret: &SecretString, now: u64) -> Result<Proven> {
        let account = self.checks.account_for(None).unwrap_or_default();
        let user = self.directory.user_by_pat(secret.expose_secret()).await?;
        let found = user.as_ref().and_then(|u| {
            pats::find(&u.pats, secret)
                .filter(|p| p.status(now) == PatStatus::Active)
                .map(|p| (u, p))
        });
        let Some((user, pat)) = found else {
            tracing::info!("request PAT refused: no active token with that secret");
            return Err(Error::InvalidPat);
        };
        let reads = self.account_reads(now).await?;
        let policy = self.checks.pat_policy(Some(user), &reads).await?;
        self.checks
            .pat_after_proof(user, pat, &policy, &reads, now)
            .await?;
        Ok(Proven {
            verified: Verified::by_pat(user.clone(), account, pat),
            reads,
            network: policy.network_policy_evaluation != NetworkPolicyEvaluation::NotEnforced,
            policy: true,
        })
    }

    /// An exchanged token, its signature and kind already verified (`claims`): it must be for
    /// `host`, its user the same one (by id) and still holding the credential it was issued for.
    /// Every refusal is 390104.
    pub async fn exchanged(&self, claims: Claims, host: Option<&str>, now: u64) -> Result<Proven> {
        let bound = claims.host.as_deref().map(exchange::canonical_host);
        if bound.is_none() || bound != host.map(exchange::canonical_host) {
            return Err(refused_exchanged("issued for another host"));
        }
        let (user, reads) = tokio::join!(
            self.directory.user(Ident::stored(&claims.sub)),
            self.account_reads(now)
        );
        let (user, reads) = (user?, reads?);
        let user = user
            .filter(|u| claims.uid.as_deref() == Some(u.id.as_str()))
            .ok_or_else(|| refused_exchanged("user dropped"))?;
        if claims
            .cred
            .as_ref()
            .is_some_and(|c| !c.is_held_by(&user, now))
        {
            return Err(refused_exchanged(
                "the credential it was issued for is gone",
            ));
        }
        let method = match claims.cred {
            Some(Credential::Pat { .. }) => AuthMethod::ProgrammaticAccessToken,
            _ => AuthMethod::Keypair,
        };
        let mut verified = Verified::by(user, claims.account, method);
        verified.role_restriction = claims.role;
        verified.opened_by = claims.cred;
        Ok(Proven {
            verified,
            reads,
            network: true,
            policy: true,
        })
    }

    /// The checks every request takes once its credential is proven: the user is enabled, the
    /// network policy admits the client, the authentication policy allows the method, and the
    /// role (asked for, else the credential's, else the default) is granted and allowed.
    pub async fn admit(&self, proven: Proven, presented: &Presented) -> Result<Caller> {
        let Proven {
            verified,
            reads,
            network,
            policy,
        } = proven;
        let user = &verified.user;
        if user.disabled {
            return Err(Error::UserDisabled);
        }
        if network {
            self.checks
                .network_policy(Some(user), &reads, presented.client_ip)
                .await?;
        }
        let input = presented.as_login();
        if policy {
            self.checks
                .authentication_policy(user, &reads, &input, verified.method, None)
                .await?;
        }
        let mut context = initial_context(user, &input)?;
        restrict_role(
            user,
            &input,
            &mut context,
            verified.role_restriction.as_deref(),
        )?;
        Ok(Caller {
            role: context.role.unwrap_or_else(|| "PUBLIC".into()),
            user: user.name.clone(),
            user_id: user.id.clone(),
            email: user.email.clone(),
            account: verified.account,
            token_type: presented.token_type(),
            method: verified.method,
            credential: verified.opened_by,
        })
    }

    /// The audit line and history record of a request's decision, as the module's doc says.
    pub async fn record(&self, presented: &Presented, result: &Result<Caller>, now: u64) {
        let token_type = presented.token_type();
        let input = presented.as_login();
        let (user, method) = match result {
            Ok(caller) => (Some(caller.user.as_str()), Some(caller.method)),
            Err(_) => (None, method_of(token_type)),
        };
        let mut attempt = Attempt {
            method: method.map(Method::Login),
            user,
            account: result.as_ref().ok().map(|c| c.account.as_str()),
            client_app: Some(presented.via.as_str()),
            client_ip: presented.client_ip,
            ..Attempt::default()
        };
        let direct = !matches!(token_type, TokenType::Session | TokenType::Exchanged);
        let history = match result {
            Ok(_) => {
                // An exchange is a login: each is recorded.
                let seen = sighting(presented.token.expose_secret(), presented.client_ip);
                if presented.via != Via::Exchange && !self.seen.first(seen, now) {
                    return;
                }
                attempt.record(None, "request authenticated");
                direct
            }
            Err(e) => {
                attempt.record(Some(crate::snowflake::codes::of(e)), "request refused");
                let shed = matches!(e, Error::Busy | Error::Unavailable(_));
                direct && !shed && self.history.has_room_for(&input, e, now)
            }
        };
        if history {
            attempt.in_history = true;
            let event = super::query::login_history::event(
                &input,
                attempt.method,
                user,
                now,
                result.as_ref().err(),
            );
            self.history.record(&event).await;
        }
    }
}

/// The login method a credential type stands for, in the audit line of a refusal.
fn method_of(token_type: TokenType) -> Option<AuthMethod> {
    match token_type {
        TokenType::KeyPair => Some(AuthMethod::Keypair),
        TokenType::Pat => Some(AuthMethod::ProgrammaticAccessToken),
        TokenType::Oauth => Some(AuthMethod::Oauth),
        TokenType::Session | TokenType::Exchanged => None,
    }
}
