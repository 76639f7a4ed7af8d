//! Sealing secrets at rest: AES-256-GCM under a key derived (HKDF-SHA256) from one version of the
//! token-signing secret, with an `info` string per use, so that a key sealing TOTP seeds never opens
//! an engine token and the reverse. The associated data binds a sealed value to its owner (a user's
//! id, a session's id): copied to another record, it does not open. No I/O.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};

/// Sealed values longer than this are refused when opened (a corrupt or hostile record): the
/// largest thing sealed is an engine token of a few hundred bytes.
pub const MAX_SEALED_CHARS: usize = 16 * 1024;

/// A key derived for one use from one version (`kid`) of the signing secret.
pub struct Sealer {
    kid: String,
    key: LessSafeKey,
}

impl Sealer {
    /// The key of use `info` under the secret version `kid`.
    pub fn new(kid: &str, secret: &SecretString, info: &'static [u8]) -> Self {
        Self {
            kid: kid.to_string(),
            key: derive_key(secret.expose_secret().as_bytes(), info),
        }
    }

    /// The secret version this key was derived from.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// `plain` sealed for `owner`: base64 of nonce, ciphertext and tag. A fresh random nonce each time.
    pub fn seal(&self, plain: &[u8], owner: &[u8]) -> String {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let mut data = plain.to_vec();
        // Sealing in memory with a fresh nonce does not fail.
        let _ = self.key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(owner),
            &mut data,
        );
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        STANDARD.encode(out)
    }

    /// The plain bytes of `sealed`, if this key sealed them for `owner`.
    pub fn open(&self, sealed: &str, owner: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() > MAX_SEALED_CHARS {
            return None;
        }
        let raw = STANDARD.decode(sealed).ok()?;
        let nonce: [u8; NONCE_LEN] = raw.get(..NONCE_LEN)?.try_into().ok()?;
        let mut data = raw.get(NONCE_LEN..)?.to_vec();
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(owner),
                &mut data,
            )
            .ok()?;
        Some(plain.to_vec())
    }
}

fn derive_key(secret: &[u8], info: &'static [u8]) -> LessSafeKey {
    struct Len;
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            32
        }
    }
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"snowgate").extract(secret);
    let mut key = [0u8; 32];
    // Expanding 32 bytes from HKDF-SHA256 cannot fail (the limit is 255 hashes).
    let info = [info];
    if let Ok(okm) = prk.expand(&info, Len) {
        let _ = okm.fill(&mut key);
    }
    // AES-256 takes any 32-byte key.
    let unbound = UnboundKey::new(&AES_256_GCM, &key).unwrap_or_else(|_| unreachable!());
    LessSafeKey::new(unbound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_string())
    }

    #[test]
    fn opens_only_for_its_owner_its_use_and_its_secret() {
        let key = Sealer::new("v1", &secret("a".repeat(32).as_str()), b"use one");
        let sealed = key.seal(b"engine token", b"42");
        assert!(!sealed.contains("engine token"));
        assert_eq!(
            key.open(&sealed, b"42").as_deref(),
            Some(&b"engine token"[..])
        );
        assert_eq!(key.open(&sealed, b"43"), None, "another owner");
        let other_use = Sealer::new("v1", &secret("a".repeat(32).as_str()), b"use two");
        assert_eq!(other_use.open(&sealed, b"42"), None, "another use");
        let other_secret = Sealer::new("v1", &secret("b".repeat(32).as_str()), b"use one");
        assert_eq!(other_secret.open(&sealed, b"42"), None, "another secret");
        // Two seals of the same value differ (fresh nonce).
        assert_ne!(sealed, key.seal(b"engine token", b"42"));
    }

    #[test]
    fn hostile_sealed_text_does_not_open() {
        let key = Sealer::new("v1", &secret("a".repeat(32).as_str()), b"use");
        for bad in ["", "not base64!", "AAAA", &"A".repeat(MAX_SEALED_CHARS + 4)] {
            assert_eq!(key.open(bad, b"1"), None, "{bad:.20}");
        }
        let mut sealed = key.seal(b"x", b"1").into_bytes();
        let last = sealed.len() - 3;
        sealed[last] = if sealed[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(sealed).unwrap_or_default();
        assert_eq!(key.open(&tampered, b"1"), None);
    }
}
