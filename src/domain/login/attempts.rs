//! The id a failed login is counted under by the lockout (`LockoutStore::record_failure`): a keyed
//! digest of the driver's request id, the credentials the login gave and a short time window. A
//! driver retrying one login (same request id, same password, within the window) counts once; a
//! guess with another password or passcode under the same request id is another attempt, so a
//! client that fixes its request id cannot escape the lock. The credentials go into the digest
//! only: the key is derived from the token-signing secret (so every instance agrees on a retry),
//! and the id never reveals them.

use aws_lc_rs::{hkdf, hmac};
use secrecy::{ExposeSecret, SecretString};

/// How long a retried login counts as the same attempt: a window of this many seconds (one
/// window, so a retry that crosses its end counts once more). Drivers retry a login within seconds.
pub const RETRY_WINDOW_SECONDS: u64 = 60;

/// HKDF `info`: ties the derived key to this one use of the signing secret.
const KEY_INFO: &[u8] = b"snowgate lockout attempt id v1";

/// The HMAC-SHA256 key attempt ids are computed with.
pub struct AttemptKey(hmac::Key);

impl AttemptKey {
    /// The key derived (HKDF-SHA256) from one version of the signing secret.
    pub fn new(secret: &SecretString) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"snowgate")
            .extract(secret.expose_secret().as_bytes());
        let key = match prk.expand(&[KEY_INFO], hmac::HMAC_SHA256) {
            Ok(okm) => hmac::Key::from(okm),
            // Expanding one hash length from HKDF-SHA256 cannot fail (the limit is 255 of them);
            // were it to, the secret itself still keys the digest.
            Err(_) => hmac::Key::new(hmac::HMAC_SHA256, secret.expose_secret().as_bytes()),
        };
        Self(key)
    }

    /// The attempt id of a failed login at `now`: the same for the same request id and credentials
    /// within one [`RETRY_WINDOW_SECONDS`] window, else another. Each field is length-prefixed, so
    /// no two different logins share their input.
    pub fn attempt_id(&self, request_id: &str, credentials: &[&SecretString], now: u64) -> String {
        let mut ctx = hmac::Context::with_key(&self.0);
        let mut field = |bytes: &[u8]| {
            ctx.update(&(bytes.len() as u64).to_be_bytes());
            ctx.update(bytes);
        };
        field(request_id.as_bytes());
        field(&(now / RETRY_WINDOW_SECONDS).to_be_bytes());
        for credential in credentials {
            field(credential.expose_secret().as_bytes());
        }
        let tag = ctx.sign();
        tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A keyed digest of a configured secret, to remember that it is unchanged without keeping it
    /// (the demo user's seeding). `label` keeps it apart from attempt ids and other uses.
    pub fn mark(&self, label: &str, secret: &SecretString) -> String {
        self.attempt_id(label, &[secret], 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> SecretString {
        SecretString::from(text.to_string())
    }

    #[test]
    fn the_same_retry_matches_and_any_other_guess_does_not() {
        let key = AttemptKey::new(&s("a-signing-secret-of-at-least-32-bytes!"));
        let id = key.attempt_id("r1", &[&s("wrong"), &s("")], 120);
        assert_eq!(id, key.attempt_id("r1", &[&s("wrong"), &s("")], 179));
        assert_ne!(id, key.attempt_id("r1", &[&s("wrong2"), &s("")], 120));
        assert_ne!(id, key.attempt_id("r1", &[&s("wrong"), &s("123456")], 120));
        assert_ne!(id, key.attempt_id("r2", &[&s("wrong"), &s("")], 120));
        // Past its window, a retry is another attempt.
        assert_ne!(id, key.attempt_id("r1", &[&s("wrong"), &s("")], 180));
        // Fields cannot slide into each other.
        assert_ne!(
            key.attempt_id("r1", &[&s("ab"), &s("c")], 0),
            key.attempt_id("r1", &[&s("a"), &s("bc")], 0)
        );
        // A mark is an id of its own label, and the same for the same secret.
        assert_eq!(key.mark("demo", &s("pw")), key.mark("demo", &s("pw")));
        assert_ne!(key.mark("demo", &s("pw")), key.mark("demo", &s("pw2")));
        assert_ne!(
            key.mark("demo", &s("pw")),
            key.attempt_id("r1", &[&s("pw")], 0)
        );
        // Another secret, other ids; none shows the password.
        let other = AttemptKey::new(&s("another-signing-secret-of-32-bytes!!!"));
        assert_ne!(id, other.attempt_id("r1", &[&s("wrong"), &s("")], 120));
        assert!(!id.contains("wrong") && id.len() == 64, "{id}");
    }
}
