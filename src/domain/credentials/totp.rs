//! TOTP multi-factor sign-in (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits, ±1 step) and the MFA
//! token cache. The seed must be readable to verify a code, so it is sealed (AES-256-GCM) under a key
//! derived (HKDF-SHA256) from the token-signing secret that was current at enrolment; the seal
//! records that secret's version. After a rotation the previous version still opens it, and the next
//! successful MFA login seals it again under the new one. MFA tokens are random and kept as SHA-256.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::seal::Sealer;
use subtle::ConstantTimeEq;

/// Seconds per TOTP step.
pub const STEP_SECONDS: u64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Seed length in bytes (160 bits, RFC 4226's recommendation for HMAC-SHA1).
const SEED_BYTES: usize = 20;
/// How long a cached MFA token skips the passcode: 4 hours.
pub const MFA_TOKEN_SECONDS: u64 = 4 * 3_600;
/// Cached MFA tokens kept per user; the oldest go first.
pub const MAX_MFA_TOKENS: usize = 8;
/// The one method name: a user has at most one TOTP enrolment.
pub const METHOD_NAME: &str = "TOTP";
/// HKDF `info`: ties the derived key to this one use of the signing secret.
const KEY_INFO: &[u8] = b"snowgate mfa totp seed v1";

/// The second-factor fields of a login. `Debug` shows no passcode.
#[derive(Default)]
pub struct MfaInput {
    /// `EXT_AUTHN_DUO_METHOD=passcode`: the login brings a passcode (in PASSCODE, or appended to the
    /// password). `push` is not a request for MFA: JDBC sends it on every login.
    pub passcode_method: bool,
    pub passcode: Option<SecretString>,
    /// Node's `passcodeInPassword: true`.
    pub passcode_in_password: bool,
    /// `SESSION_PARAMETERS.CLIENT_REQUEST_MFA_TOKEN = true`.
    pub wants_token: bool,
}

impl std::fmt::Debug for MfaInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaInput")
            .field("passcode_method", &self.passcode_method)
            .field("passcode_in_password", &self.passcode_in_password)
            .field("wants_token", &self.wants_token)
            .finish_non_exhaustive()
    }
}

impl MfaInput {
    /// Whether the passcode is the password's last six digits: Node says so; Python sends only the
    /// method, without PASSCODE.
    pub fn in_password(&self) -> bool {
        self.passcode_method && (self.passcode_in_password || self.passcode.is_none())
    }
}

/// A user's TOTP enrolment. `Debug` shows no seed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TotpEnrollment {
    /// Version id of the signing secret whose derived key sealed the seed.
    pub kid: String,
    /// base64(nonce ‖ AES-256-GCM ciphertext ‖ tag) of the seed, bound to the user's id.
    pub sealed_seed: String,
    pub created_on: u64,
    /// Epoch seconds of the last successful passcode (0: never).
    #[serde(default)]
    pub last_used: u64,
    /// The last TOTP step accepted: a code of this step or an earlier one is never taken again.
    #[serde(default)]
    pub last_step: u64,
}

impl std::fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrollment")
            .field("created_on", &self.created_on)
            .finish_non_exhaustive()
    }
}

/// A cached MFA token: only its hash. `Debug` shows the expiry only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MfaToken {
    pub sha256: String,
    pub expires_at: u64,
}

impl std::fmt::Debug for MfaToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaToken")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A TOTP seed in the clear; zeroed on drop would need another crate, so it lives only for one
/// verification or enrolment. `Debug` is opaque.
pub struct Seed([u8; SEED_BYTES]);

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seed(..)")
    }
}

impl Seed {
    pub fn random() -> Self {
        Self(rand::random())
    }

    /// The seed of an enrolment URI's `secret=` (base32, as an authenticator app reads it); `None`
    /// unless it is a valid seed of the length snowgate makes.
    pub fn from_base32(text: &str) -> Option<Self> {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut out = Vec::with_capacity(SEED_BYTES);
        let (mut buffer, mut bits) = (0u32, 0u32);
        for c in text.bytes().take(64) {
            let v = ALPHABET.iter().position(|&a| a == c.to_ascii_uppercase())?;
            buffer = (buffer << 5) | v as u32;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                out.push((buffer >> bits) as u8);
            }
        }
        Some(Self(out.try_into().ok()?))
    }

    /// The seed as an authenticator app reads it (RFC 4648 base32, no padding).
    pub fn base32(&self) -> String {
        base32(&self.0)
    }

    /// The code of TOTP step `step` (RFC 4226 dynamic truncation), zero-padded.
    pub fn code_at(&self, step: u64) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &self.0);
        let mac = hmac::sign(&key, &step.to_be_bytes());
        let mac = mac.as_ref();
        let offset = usize::from(mac[mac.len() - 1] & 0x0f);
        let word = u32::from_be_bytes([
            mac[offset] & 0x7f,
            mac[offset + 1],
            mac[offset + 2],
            mac[offset + 3],
        ]);
        format!("{:06}", word % 1_000_000)
    }

    /// The step of `now` or either neighbour whose code is `code`, later than `last_step`. All three
    /// are compared, in constant time, so timing tells nothing about which was close.
    pub fn matching_step(&self, code: &str, now: u64, last_step: u64) -> Option<u64> {
        if !is_code(code) {
            return None;
        }
        let current = now / STEP_SECONDS;
        let mut found = None;
        for step in [
            current.saturating_sub(1),
            current,
            current.saturating_add(1),
        ] {
            let same: bool = self.code_at(step).as_bytes().ct_eq(code.as_bytes()).into();
            if same && step > last_step && found.is_none() {
                found = Some(step);
            }
        }
        found
    }

    /// The `otpauth://` URI an authenticator app enrols from.
    pub fn uri(&self, account: &str, user: &str) -> String {
        let label = percent(&format!("snowgate:{user}@{account}"));
        format!(
            "otpauth://totp/{label}?secret={}&issuer=snowgate&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            self.base32()
        )
    }
}

/// Exactly six ASCII digits.
pub fn is_code(code: &str) -> bool {
    code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// The password and passcode of a login that appended the code to its password: the last six
/// characters, when they are digits and something precedes them; else the password unchanged.
pub fn split_passcode(password: &str) -> (&str, Option<&str>) {
    let Some(cut) = password.len().checked_sub(DIGITS) else {
        return (password, None);
    };
    match (password.get(..cut), password.get(cut..)) {
        (Some(head), Some(code)) if !head.is_empty() && is_code(code) => (head, Some(code)),
        _ => (password, None),
    }
}

/// A key that seals seeds: derived from one version of the signing secret.
pub struct SealingKey(Sealer);

impl SealingKey {
    pub fn new(kid: &str, secret: &SecretString) -> Self {
        Self(Sealer::new(kid, secret, KEY_INFO))
    }

    pub fn kid(&self) -> &str {
        self.0.kid()
    }

    /// Seals `seed` for the user with id `user_id` (the user's id is the associated data, so a
    /// sealed seed copied to another user does not open).
    pub fn seal(&self, seed: &Seed, user_id: &str, now: u64) -> TotpEnrollment {
        TotpEnrollment {
            kid: self.kid().to_string(),
            sealed_seed: self.0.seal(&seed.0, user_id.as_bytes()),
            created_on: now,
            ..TotpEnrollment::default()
        }
    }

    /// The seed of `enrollment`, if this key sealed it for `user_id`.
    pub fn open(&self, enrollment: &TotpEnrollment, user_id: &str) -> Option<Seed> {
        if enrollment.kid != self.kid() {
            return None;
        }
        let plain = self.0.open(&enrollment.sealed_seed, user_id.as_bytes())?;
        Some(Seed(plain.try_into().ok()?))
    }
}

/// A new MFA token: the secret for the client, and what the user record keeps.
pub fn new_mfa_token(now: u64) -> (String, MfaToken) {
    let bytes: [u8; 32] = rand::random();
    let secret = format!("sgmfa_{}", URL_SAFE_NO_PAD.encode(bytes));
    let kept = MfaToken {
        sha256: sha256_hex(&secret),
        expires_at: now.saturating_add(MFA_TOKEN_SECONDS),
    };
    (secret, kept)
}

/// Whether `secret` is one of `tokens`, unexpired. Hashes compared in constant time.
pub fn token_valid(tokens: &[MfaToken], secret: &str, now: u64) -> bool {
    let hash = sha256_hex(secret);
    tokens
        .iter()
        .filter(|t| t.expires_at > now)
        .fold(false, |found, t| {
            let same: bool = t.sha256.as_bytes().ct_eq(hash.as_bytes()).into();
            found | same
        })
}

/// Keeps the unexpired tokens and `new`, at most [`MAX_MFA_TOKENS`], newest last.
pub fn remember_token(tokens: &mut Vec<MfaToken>, new: MfaToken, now: u64) {
    tokens.retain(|t| t.expires_at > now);
    tokens.push(new);
    let excess = tokens.len().saturating_sub(MAX_MFA_TOKENS);
    tokens.drain(..excess);
}

fn sha256_hex(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Percent-encodes all but unreserved characters (RFC 3986), for the URI's label.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' | b'@' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_seed() -> Seed {
        Seed(*b"12345678901234567890")
    }

    #[test]
    fn codes_match_rfc_6238_sha1_vectors() {
        // RFC 6238 appendix B (8 digits there; the last 6 here).
        let seed = rfc_seed();
        assert_eq!(seed.code_at(59 / 30), "287082");
        assert_eq!(seed.code_at(1_111_111_109 / 30), "081804");
        assert_eq!(seed.code_at(1_234_567_890 / 30), "005924");
        assert_eq!(seed.code_at(20_000_000_000 / 30), "353130");
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(rfc_seed().base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let back = Seed::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").map(|s| s.base32());
        assert_eq!(back.as_deref(), Some("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
        assert!(Seed::from_base32("MZXW6YTBOI").is_none());
    }

    #[test]
    fn window_is_one_step_either_side_and_never_goes_back() {
        let seed = rfc_seed();
        let now = 1_000_000_000;
        let step = now / 30;
        assert_eq!(seed.matching_step(&seed.code_at(step), now, 0), Some(step));
        assert_eq!(
            seed.matching_step(&seed.code_at(step - 1), now, 0),
            Some(step - 1)
        );
        assert_eq!(
            seed.matching_step(&seed.code_at(step + 1), now, 0),
            Some(step + 1)
        );
        assert_eq!(seed.matching_step(&seed.code_at(step + 2), now, 0), None);
        assert_eq!(seed.matching_step(&seed.code_at(step - 2), now, 0), None);
        assert_eq!(seed.matching_step(&seed.code_at(step), now, step), None);
        assert_eq!(seed.matching_step("12345", now, 0), None);
        assert_eq!(seed.matching_step("１２３４５６", now, 0), None);
    }

    #[test]
    fn passcode_splits_only_six_trailing_digits() {
        assert_eq!(split_passcode("secret123456"), ("secret", Some("123456")));
        assert_eq!(split_passcode("123456"), ("123456", None));
        assert_eq!(split_passcode("secret12345x"), ("secret12345x", None));
        assert_eq!(split_passcode("pässwörd"), ("pässwörd", None));
        assert_eq!(split_passcode("é12345"), ("é12345", None));
        assert_eq!(split_passcode(""), ("", None));
    }

    #[test]
    fn sealed_seed_opens_only_for_its_user_and_key() {
        let key = SealingKey::new("v1", &SecretString::from("k".repeat(32)));
        let other = SealingKey::new("v1", &SecretString::from("x".repeat(32)));
        let seed = Seed::random();
        let sealed = key.seal(&seed, "user-1", 5);
        assert!(!sealed.sealed_seed.contains(&seed.base32()));
        let opened = key.open(&sealed, "user-1").map(|s| s.base32());
        assert_eq!(opened, Some(seed.base32()));
        assert!(key.open(&sealed, "user-2").is_none());
        assert!(other.open(&sealed, "user-1").is_none());
        assert!(!format!("{sealed:?}").contains(&sealed.sealed_seed));
    }

    #[test]
    fn mfa_tokens_expire_and_are_bounded() {
        let (secret, kept) = new_mfa_token(100);
        let mut tokens = vec![];
        remember_token(&mut tokens, kept, 100);
        assert!(token_valid(&tokens, &secret, 101));
        assert!(!token_valid(&tokens, "sgmfa_other", 101));
        assert!(!token_valid(&tokens, &secret, 100 + MFA_TOKEN_SECONDS));
        for _ in 0..20 {
            remember_token(&mut tokens, new_mfa_token(100).1, 100);
        }
        assert_eq!(tokens.len(), MAX_MFA_TOKENS);
    }
}
