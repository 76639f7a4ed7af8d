//! Programmatic access tokens (PATs): long random secrets a user logs in with instead of a password.
//! They live in the [`User`](crate::domain::directory::User) record, so that a PAT login is one
//! directory read; only the SHA-256 of a secret is kept (the secret has 256 random bits, so a fast
//! hash is enough) and the secret is shown once, when it is made.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Snowflake's limit of tokens per user (rotated tokens in their grace period not counted).
pub const MAX_PATS_PER_USER: usize = 15;
/// Expired tokens are still listed for this long, then pruned at the user's next PAT change.
pub const LISTED_AFTER_EXPIRY_SECONDS: u64 = 30 * 86_400;
/// Snowflake's default grace of a rotated secret.
pub const DEFAULT_ROTATED_GRACE_HOURS: u32 = 24;
/// Longest grace of a rotated secret accepted (a week, as Snowflake).
pub const MAX_ROTATED_GRACE_HOURS: u32 = 168;
/// Longest `MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT` (a day, as Snowflake).
pub const MAX_BYPASS_MINUTES: u32 = 1_440;
/// Longest PAT comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 256;
/// Every secret starts with this, so a leaked one is recognisable (and told from a password).
const SECRET_PREFIX: &str = "sgpat_";

/// One token of a user. `Debug` shows the name only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Pat {
    pub name: String,
    /// Lower-case hex SHA-256 of the secret.
    pub secret_sha256: String,
    pub role_restriction: Option<String>,
    /// Epoch seconds.
    pub expires_at: u64,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub comment: Option<String>,
    pub created_on: u64,
    /// The role that made it.
    #[serde(default)]
    pub created_by: String,
    /// As last set; the bypass lasts until `bypass_until`.
    #[serde(default)]
    pub mins_to_bypass_network_policy: u32,
    #[serde(default)]
    pub bypass_until: u64,
    /// For the old secret of a rotation: the token that replaced it.
    #[serde(default)]
    pub rotated_to: Option<String>,
}

impl std::fmt::Debug for Pat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pat").field("name", &self.name).finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatStatus {
    Active,
    Expired,
    Disabled,
}

impl PatStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PatStatus::Active => "ACTIVE",
            PatStatus::Expired => "EXPIRED",
            PatStatus::Disabled => "DISABLED",
        }
    }
}

impl Pat {
    pub fn status(&self, now: u64) -> PatStatus {
        if self.disabled {
            PatStatus::Disabled
        } else if now >= self.expires_at {
            PatStatus::Expired
        } else {
            PatStatus::Active
        }
    }

    /// Whether the network policy requirement is lifted now.
    pub fn bypasses_network_requirement(&self, now: u64) -> bool {
        now < self.bypass_until
    }

    /// Listed by SHOW; older expired tokens may be pruned.
    pub fn is_listed(&self, now: u64) -> bool {
        now < self.expires_at.saturating_add(LISTED_AFTER_EXPIRY_SECONDS)
    }

    fn matches(&self, digest: &str) -> bool {
        self.secret_sha256
            .as_bytes()
            .ct_eq(digest.as_bytes())
            .into()
    }
}

/// A new random secret and its digest.
pub fn new_secret() -> (SecretString, String) {
    let bytes: [u8; 32] = rand::random();
    let secret = format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let digest = digest(&secret);
    (SecretString::from(secret), digest)
}

/// The digest a user record keeps of `secret` (lower-case hex SHA-256).
pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The token of `pats` whose secret is `secret`, whatever its status. Every token is compared (in
/// constant time), so the time taken does not tell which one matched.
pub fn find<'a>(pats: &'a [Pat], secret: &SecretString) -> Option<&'a Pat> {
    let digest = digest(secret.expose_secret());
    let mut found = None;
    for pat in pats {
        if pat.matches(&digest) && found.is_none() {
            found = Some(pat);
        }
    }
    found
}

/// Whether one of `pats` has the secret of `digest` and is active at `now` (compared in constant
/// time, like [`find`]).
pub fn active_with_digest(pats: &[Pat], digest: &str, now: u64) -> bool {
    let mut active = false;
    for pat in pats {
        active |= pat.matches(digest) && pat.status(now) == PatStatus::Active;
    }
    active
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_found_by_their_digest_only() {
        let (secret, digest) = new_secret();
        let pat = Pat {
            name: "T".into(),
            secret_sha256: digest,
            expires_at: 10,
            ..Pat::default()
        };
        let pats = [pat];
        assert_eq!(find(&pats, &secret).map(|p| p.name.as_str()), Some("T"));
        assert!(find(&pats, &SecretString::from("sgpat_nope")).is_none());
        assert!(!format!("{:?}", pats[0]).contains(&pats[0].secret_sha256));
        assert_eq!(pats[0].status(9), PatStatus::Active);
        assert_eq!(pats[0].status(10), PatStatus::Expired);
    }
}
