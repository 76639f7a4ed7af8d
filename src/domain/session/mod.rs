//! Sessions: who is logged in, and the context their queries run in.

pub mod activity;
pub mod parameter_list;
pub mod parameters;
pub mod tokens;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::credentials::pats;
use super::directory::User;
use super::ident::Identifier;
use super::query::statement::ParameterValue;

/// The session context that `USE …` changes and `CURRENT_*()` reads. Names are already normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionContext {
    pub database: Option<String>,
    pub schema: Option<String>,
    pub warehouse: Option<String>,
    pub role: Option<String>,
    /// Session parameters set by `ALTER SESSION SET` (upper-case names), bounded by
    /// [`super::session::parameters::apply`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, ParameterValue>,
}

impl SessionContext {
    /// `USE DATABASE d`: Snowflake also moves to the database's `PUBLIC` schema.
    pub fn use_database(&mut self, database: &Identifier) {
        self.database = Some(database.to_string());
        self.schema = Some("PUBLIC".to_string());
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// A positive number below 2^53, so that JavaScript drivers read it exactly.
    pub id: u64,
    /// The user's name as Snowflake shows it (`CURRENT_USER()`).
    pub user: String,
    /// The user's incarnation ([`User::id`](super::directory::User::id)): a user dropped and created
    /// again under the same name is another user, and the old sessions are not theirs.
    #[serde(default)]
    pub user_id: String,
    /// The account, as `CURRENT_ACCOUNT()` shows it.
    pub account: String,
    pub context: SessionContext,
    /// Epoch seconds.
    pub created_at: u64,
    /// Epoch seconds: the master token's expiry. The session does not exist after it.
    pub expires_at: u64,
    /// The driver that opened the session (`CLIENT_APP_ID`), for logs.
    pub client_app: Option<String>,
    /// The id (`jti`) of the session token in force. Empty for sessions stored before tokens were
    /// tracked: those accept any token of theirs.
    #[serde(default)]
    pub token_id: String,
    /// The token it replaced at the last renewal, accepted for a grace period after `renewed_at`.
    #[serde(default)]
    pub previous_token_id: Option<String>,
    #[serde(default)]
    pub renewed_at: u64,
    /// The role a programmatic access token with a ROLE_RESTRICTION holds the session to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_restriction: Option<String>,
    /// Epoch seconds of the last authenticated request (login, query, heartbeat, renewal).
    #[serde(default)]
    pub last_active: u64,
    /// Seconds without a request after which the session ends (its session policy's
    /// SESSION_IDLE_TIMEOUT_MINS, fixed at login). 0: no idle limit (sessions stored before there was one).
    #[serde(default)]
    pub idle_limit: u64,
    /// For a session opened with an External OAuth access token: its integration, whose role rules
    /// the session keeps to at every request, and the token's expiry, which the session does not
    /// outlive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthGrant>,
    /// The revocable credential the session was opened with (a PAT, an RSA key): the session lasts
    /// only while the user still has it, in force. `None`: a password, or a credential that is
    /// checked elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_by: Option<Credential>,
    /// The query engine's session token for this session, sealed ([`SealedUpstream`]); `None`
    /// until the first statement forwarded to an engine that opens sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<SealedUpstream>,
}

/// An engine session token at rest: AES-256-GCM under a key derived from the signing secret of
/// version `kid` ([`tokens::Keyring::upstream_key_for`]), bound to the session's id, so that no
/// store, backup or log ever holds it readable, and one copied to another session does not open.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedUpstream {
    pub kid: String,
    /// Base64 of nonce, ciphertext and tag.
    pub sealed: String,
    /// Epoch seconds: when the engine session was opened.
    pub opened_at: u64,
}

/// Shows the key version only.
impl std::fmt::Debug for SealedUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedUpstream")
            .field("kid", &self.kid)
            .field("opened_at", &self.opened_at)
            .finish_non_exhaustive()
    }
}

/// What an External OAuth login grants a session: the integration that verified the access token,
/// and until when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthGrant {
    /// The security integration's name, as stored.
    pub integration: String,
    /// Epoch seconds: the access token's `exp`, plus the clock skew tolerated when it was verified.
    pub expires_at: u64,
    /// The integration's `created_on`: one dropped and created again under the same name is
    /// another integration, and the sessions of the old one end.
    #[serde(default)]
    pub integration_created_on: u64,
}

/// A credential a session was opened with, as the user record names it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    /// A programmatic access token, known by the digest of its secret: a rotation keeps the old
    /// secret (renamed) for its grace, and gives the token's name a new one, so only the digest
    /// tells which secret opened the session. The name is for the logs.
    Pat { name: String, digest: String },
    /// An RSA public key (RSA_PUBLIC_KEY or RSA_PUBLIC_KEY_2), by its fingerprint.
    KeyPair { fingerprint: String },
}

/// Names the credential only: the digest is kept out of logs, as the secrets it stands for.
impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Pat { name, .. } => f.debug_struct("Pat").field("name", name).finish(),
            Credential::KeyPair { fingerprint } => f
                .debug_struct("KeyPair")
                .field("fingerprint", fingerprint)
                .finish(),
        }
    }
}

impl Credential {
    /// Whether `user` still holds this credential, in force at `now`: the PAT is neither removed,
    /// disabled nor expired (a rotated secret expires at the end of its grace), the key is still
    /// set.
    pub fn is_held_by(&self, user: &User, now: u64) -> bool {
        match self {
            Credential::Pat { digest, .. } => pats::active_with_digest(&user.pats, digest, now),
            Credential::KeyPair { fingerprint } => user.key_with_fingerprint(fingerprint).is_some(),
        }
    }
}

impl Session {
    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at <= now
    }

    /// Whether the session has been idle for its whole limit at `now`: it is over, and no request
    /// revives it.
    pub fn is_idle(&self, now: u64) -> bool {
        self.idle_limit > 0 && self.last_active.saturating_add(self.idle_limit) <= now
    }

    /// Whether the OAuth access token that opened the session has expired at `now` (never, for a
    /// session opened otherwise).
    pub fn oauth_expired(&self, now: u64) -> bool {
        self.oauth.as_ref().is_some_and(|g| g.expires_at <= now)
    }

    /// Seconds a token minted at `now` for this session may live, at most `ttl`: no longer than
    /// the OAuth access token that opened it.
    pub fn token_ttl(&self, now: u64, ttl: u64) -> u64 {
        match &self.oauth {
            Some(grant) => ttl.min(grant.expires_at.saturating_sub(now)),
            None => ttl,
        }
    }

    /// Whether a session token with id `jti` is this session's: the current one, or the one it
    /// replaced if that renewal is less than `grace` seconds old.
    pub fn accepts_token(&self, jti: &str, now: u64, grace: u64) -> bool {
        if self.token_id.is_empty() || self.token_id == jti {
            return true;
        }
        self.previous_token_id.as_deref() == Some(jti)
            && now < self.renewed_at.saturating_add(grace)
    }

    /// Whether `user` still holds the credential the session was opened with (always, for a session
    /// opened by none that can be revoked apart from the user).
    pub fn credential_is_held_by(&self, user: &User, now: u64) -> bool {
        self.opened_by
            .as_ref()
            .is_none_or(|c| c.is_held_by(user, now))
    }

    /// Whether `user` still holds the session's role (PUBLIC is always held).
    pub fn role_is_held_by(&self, user: &User) -> bool {
        match self.context.role.as_deref() {
            None => true,
            Some(role) => user.effective_roles().contains(role),
        }
    }
}

/// Makes a new random session id in the range every driver can hold.
pub fn new_session_id() -> u64 {
    const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
    // Avoid small ids so they look like Snowflake's and never collide with 0 or sentinel values.
    1_000_000_000 + rand::random_range(0..MAX_SAFE_INTEGER - 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::credentials::pats::Pat;

    fn user_with(pats: Vec<Pat>) -> User {
        User {
            pats,
            ..User::default()
        }
    }

    #[test]
    fn a_pat_session_lasts_while_its_secret_is_active() {
        let pat = Pat {
            name: "T".into(),
            secret_sha256: "ab".repeat(32),
            expires_at: 1_000,
            ..Pat::default()
        };
        let session = Session {
            opened_by: Some(Credential::Pat {
                name: "T".into(),
                digest: pat.secret_sha256.clone(),
            }),
            ..Session::default()
        };
        let user = user_with(vec![pat.clone()]);
        assert!(session.credential_is_held_by(&user, 999));
        // Expired: the token's own expiry, or the end of a rotated secret's grace.
        assert!(!session.credential_is_held_by(&user, 1_000));
        // Rotated: the old secret, renamed, keeps the session for its grace; the new one does not.
        let rotated = Pat {
            name: "T_ROTATED_1".into(),
            rotated_to: Some("T".into()),
            ..pat.clone()
        };
        let renewed = Pat {
            secret_sha256: "cd".repeat(32),
            expires_at: 5_000,
            ..pat.clone()
        };
        let user = user_with(vec![renewed.clone(), rotated]);
        assert!(session.credential_is_held_by(&user, 999));
        assert!(!session.credential_is_held_by(&user, 1_000));
        assert!(!session.credential_is_held_by(&user_with(vec![renewed]), 10));
        let disabled = Pat {
            disabled: true,
            ..pat
        };
        assert!(!session.credential_is_held_by(&user_with(vec![disabled]), 10));
        // A session opened by no revocable credential depends on none.
        assert!(Session::default().credential_is_held_by(&User::default(), 10));
    }

    #[test]
    fn debug_never_shows_a_pat_digest() {
        let credential = Credential::Pat {
            name: "T".into(),
            digest: "secretdigest".into(),
        };
        let shown = format!("{credential:?}");
        assert!(
            shown.contains('T') && !shown.contains("secretdigest"),
            "{shown}"
        );
    }
}
