//! What the per-request verifier remembers, per instance and bounded: key-pair JWTs whose signature
//! it verified (so RSA runs once per JWT, not once per request), and the credentials it has lately
//! recorded in the audit log and the login history (so a client calling a hundred times a second
//! leaves one record, not a hundred). Keys are SHA-256 digests of the tokens, never the tokens.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// A token's digest: what the memories are keyed by.
pub type TokenDigest = [u8; 32];

pub fn token_digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

/// A credential used from one address: what [`Sightings`] remembers.
pub fn sighting(token: &str, ip: Option<std::net::IpAddr>) -> TokenDigest {
    let mut hash = Sha256::new();
    hash.update(token.as_bytes());
    hash.update([0u8]);
    hash.update(ip.map(|i| i.to_string()).unwrap_or_default().as_bytes());
    hash.finalize().into()
}

/// Most JWTs remembered; past that, the expired ones go, and if none has, all (the cache refills
/// on demand at one RSA verification each).
const MAX_JWTS: usize = 10_000;

/// Key-pair JWTs whose signature was verified, each with the key (by fingerprint) that verified it
/// and its expiry. Remembering one skips the signature check only: the user, the key still being
/// theirs and every policy are checked at every request.
#[derive(Default)]
pub struct VerifiedJwts {
    jwts: Mutex<HashMap<TokenDigest, (String, u64)>>,
}

impl VerifiedJwts {
    /// Whether `digest` was verified with the key of `fingerprint` and is not expired at `now`.
    pub fn knows(&self, digest: &TokenDigest, fingerprint: &str, now: u64) -> bool {
        self.jwts.lock().is_ok_and(|jwts| {
            jwts.get(digest)
                .is_some_and(|(fp, exp)| fp == fingerprint && *exp > now)
        })
    }

    /// Remembers a JWT whose signature verified, until `exp`.
    pub fn remember(&self, digest: TokenDigest, fingerprint: &str, exp: u64, now: u64) {
        let Ok(mut jwts) = self.jwts.lock() else {
            return;
        };
        if jwts.len() >= MAX_JWTS {
            jwts.retain(|_, (_, e)| *e > now);
            if jwts.len() >= MAX_JWTS {
                jwts.clear();
            }
        }
        jwts.insert(digest, (fingerprint.to_string(), exp));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.jwts.lock().map(|j| j.len()).unwrap_or_default()
    }
}

/// How long a credential's use is remembered as recorded: one audit line and one history record per
/// credential, client address and hour on each instance.
pub const SIGHTING_SECONDS: u64 = 3600;
const MAX_SIGHTINGS: usize = 10_000;

/// Credentials (with the client address) recorded lately, each until when.
#[derive(Default)]
pub struct Sightings {
    seen: Mutex<HashMap<TokenDigest, u64>>,
}

impl Sightings {
    /// Whether `digest` is new (or its last record is an hour old) at `now`; it is remembered.
    pub fn first(&self, digest: TokenDigest, now: u64) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        if seen.get(&digest).is_some_and(|until| *until > now) {
            return false;
        }
        if seen.len() >= MAX_SIGHTINGS {
            seen.retain(|_, until| *until > now);
            if seen.len() >= MAX_SIGHTINGS {
                seen.clear();
            }
        }
        seen.insert(digest, now.saturating_add(SIGHTING_SECONDS));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jwt_is_known_until_its_expiry_and_for_its_key_only() {
        let jwts = VerifiedJwts::default();
        let d = token_digest("a.b.c");
        assert!(!jwts.knows(&d, "SHA256:k1", 100));
        jwts.remember(d, "SHA256:k1", 200, 100);
        assert!(jwts.knows(&d, "SHA256:k1", 199));
        assert!(!jwts.knows(&d, "SHA256:k2", 150));
        assert!(!jwts.knows(&d, "SHA256:k1", 200));
        assert!(!jwts.knows(&token_digest("a.b.d"), "SHA256:k1", 150));
    }

    #[test]
    fn the_memories_stay_bounded() {
        let jwts = VerifiedJwts::default();
        let seen = Sightings::default();
        for i in 0..(MAX_JWTS + 10) {
            let d = token_digest(&i.to_string());
            jwts.remember(d, "fp", 1_000, 10);
            seen.first(d, 10);
        }
        assert!(jwts.len() <= MAX_JWTS);
        assert!(seen.seen.lock().unwrap().len() <= MAX_SIGHTINGS);
    }

    #[test]
    fn a_sighting_is_first_once_an_hour() {
        let seen = Sightings::default();
        let d = token_digest("t");
        assert!(seen.first(d, 100));
        assert!(!seen.first(d, 101));
        assert!(!seen.first(d, 100 + SIGHTING_SECONDS - 1));
        assert!(seen.first(d, 100 + SIGHTING_SECONDS));
    }
}
