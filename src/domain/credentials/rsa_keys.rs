//! RSA public keys as Snowflake takes them (`RSA_PUBLIC_KEY = 'MIIBIjANBg…'`: base64 DER of the
//! SubjectPublicKeyInfo), their `SHA256:` fingerprints, and key-pair JWT verification (`docs/protocol.md` §2).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rsa::RsaPublicKey;
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::domain::ident::account_name;

/// The smallest key accepted, as Snowflake: 2048 bits, counted exactly (the modulus's bit length, not
/// its byte length times 8, which would let a 2041-bit key through).
pub const MIN_KEY_BITS: usize = 2048;
/// The only public exponent accepted: small exponents such as 3 invite the classic low-exponent
/// attacks, and every driver and `snowgate keygen` use 65537.
pub const PUBLIC_EXPONENT: u32 = 65_537;
/// Clock skew tolerated on `iat` and `exp`.
pub const CLOCK_SKEW_SECONDS: u64 = 60;
/// The oldest `iat` accepted: a key-pair JWT is a login credential, not a long-lived pass, so one
/// captured in transit (or from a log) stops working a minute after it was signed. Drivers sign a
/// fresh one for every login.
pub const MAX_JWT_AGE_SECONDS: u64 = 60;
/// The longest lifetime (`exp - iat`) a login JWT may claim: a day. Snowflake's own drivers sign
/// 60 to 120 s, but the Rust crate `snowflake-api` signs login JWTs valid for 24 hours and logs in
/// to Snowflake with them, so Snowflake accepts that at login (docs/protocol.md §2.2). The freshness
/// of `iat` ([`MAX_JWT_AGE_SECONDS`]) is what keeps a captured JWT from being replayed later.
pub const MAX_JWT_LIFETIME_SECONDS: u64 = 86_400;
/// The longest lifetime of a JWT presented with a request (SQL API, forward-auth, token exchange):
/// an hour, as Snowflake's SQL API documents for its bearer JWTs.
pub const MAX_REQUEST_JWT_LIFETIME_SECONDS: u64 = 3_600;

/// A parsed, validated RSA public key: what verification needs, built once per key.
pub struct PublicKey {
    /// `SHA256:` + base64 of the SHA-256 of the DER SubjectPublicKeyInfo.
    pub fingerprint: String,
    /// The canonical base64 DER, as stored and shown by `DESC USER`.
    pub base64_der: String,
    decoding: DecodingKey,
}

/// Parses a key as given in SQL: base64 DER, whitespace ignored, PEM armour tolerated.
pub fn parse_public_key(text: &str) -> Result<PublicKey, String> {
    let body: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("-----"))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD
        .decode(body.as_bytes())
        .map_err(|_| "the public key is not valid base64".to_string())?;
    let key = RsaPublicKey::from_public_key_der(&der).map_err(|_| {
        "the public key is not an RSA SubjectPublicKeyInfo (PKCS#8 public key)".to_string()
    })?;
    check_strength(&key)?;
    let canonical = key
        .to_public_key_der()
        .map_err(|_| "the public key could not be encoded".to_string())?;
    Ok(PublicKey {
        fingerprint: fingerprint(canonical.as_bytes()),
        base64_der: STANDARD.encode(canonical.as_bytes()),
        decoding: DecodingKey::from_rsa_raw_components(
            &key.n().to_bytes_be(),
            &key.e().to_bytes_be(),
        ),
    })
}

impl PublicKey {
    /// The key for verifying RS256 tokens (External OAuth's fixed keys).
    pub fn decoding_key(&self) -> DecodingKey {
        self.decoding.clone()
    }
}

/// Snowflake's key rules: a modulus of at least [`MIN_KEY_BITS`] bits and the exponent 65537.
pub fn check_strength(key: &RsaPublicKey) -> Result<(), String> {
    let bits = key.n().bits();
    if bits < MIN_KEY_BITS {
        return Err(format!(
            "the RSA public key has {bits} bits; at least {MIN_KEY_BITS} are required"
        ));
    }
    if *key.e() != rsa::BigUint::from(PUBLIC_EXPONENT) {
        return Err(format!(
            "the RSA public key's exponent is not {PUBLIC_EXPONENT}; only {PUBLIC_EXPONENT} is accepted"
        ));
    }
    Ok(())
}

pub fn fingerprint(spki_der: &[u8]) -> String {
    format!("SHA256:{}", STANDARD.encode(Sha256::digest(spki_der)))
}

/// What a key-pair JWT claims, before its signature is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtIdentity {
    pub account: String,
    /// The user part of `sub`, as sent (drivers upper-case it).
    pub user: String,
    pub fingerprint: String,
}

#[derive(Deserialize)]
struct RawClaims {
    iss: String,
    sub: String,
    iat: u64,
    exp: u64,
}

/// Normalises a JWT time: the Node.js driver sends milliseconds.
fn seconds(t: u64) -> u64 {
    if t > 100_000_000_000 { t / 1000 } else { t }
}

/// When a key-pair JWT is good: at a login, or presented with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtUse {
    /// A login: signed within the last [`MAX_JWT_AGE_SECONDS`] (drivers sign one per login).
    Login,
    /// A request (SQL API, forward-auth, token exchange): good for its whole life, `exp > now` and
    /// `exp - iat` at most [`MAX_REQUEST_JWT_LIFETIME_SECONDS`], as the SQL API's clients reuse one JWT for
    /// most of an hour.
    Request,
}

/// The times a key-pair JWT may carry for `use_`, at `now` (seconds; milliseconds normalised).
fn times_valid(iat: u64, exp: u64, now: u64, use_: JwtUse) -> bool {
    if exp <= iat || iat > now + CLOCK_SKEW_SECONDS {
        return false;
    }
    match use_ {
        JwtUse::Login => {
            exp > now.saturating_sub(CLOCK_SKEW_SECONDS)
                && iat >= now.saturating_sub(MAX_JWT_AGE_SECONDS)
                && exp - iat <= MAX_JWT_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS
        }
        JwtUse::Request => exp > now && exp - iat <= MAX_REQUEST_JWT_LIFETIME_SECONDS,
    }
}

/// Reads the identity a login JWT claims and checks everything that needs no key: algorithm, `iss` and
/// `sub` shape and agreement, times. `None` for any failure; the caller answers 390144 regardless.
pub fn claimed_identity(token: &str, now: u64) -> Option<JwtIdentity> {
    claimed_identity_for(token, now, JwtUse::Login).map(|(id, _)| id)
}

/// [`claimed_identity`] under the time rules of `use_`, with the JWT's expiry (epoch seconds).
pub fn claimed_identity_for(token: &str, now: u64, use_: JwtUse) -> Option<(JwtIdentity, u64)> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
    ) {
        return None;
    }
    let claims: RawClaims = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    let (iat, exp) = (seconds(claims.iat), seconds(claims.exp));
    if !times_valid(iat, exp, now, use_) {
        return None;
    }
    // `iss` is `ACCOUNT.USER.SHA256:<fp>`; user names may hold dots, so split at the marker, then at
    // the first dot (account names have none).
    let (issuer, fp) = claims.iss.split_once(".SHA256:")?;
    if !issuer.eq_ignore_ascii_case(&claims.sub) {
        return None;
    }
    let (account, user) = claims.sub.split_once('.')?;
    if account.is_empty() || user.is_empty() || fp.is_empty() {
        return None;
    }
    let id = JwtIdentity {
        account: account_name(account),
        user: user.to_string(),
        fingerprint: format!("SHA256:{fp}"),
    };
    Some((id, exp))
}

/// Checks the JWT's signature with `key`, in the algorithm its header names (RS256/384/512 only).
pub fn signature_valid(token: &str, key: &PublicKey) -> bool {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return false;
    };
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
    ) {
        return false;
    }
    let mut validation = Validation::new(header.alg);
    // Times were checked by `claimed_identity`, with millisecond support jsonwebtoken lacks.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Value>(token, &key.decoding, &validation).is_ok()
}

/// Parsed keys by their base64 DER, so each key is parsed once per process, not per login.
#[derive(Default)]
pub struct KeyCache {
    keys: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<PublicKey>>>,
}

impl KeyCache {
    /// Bounds memory when keys churn; the cache refills on demand.
    const MAX: usize = 10_000;

    pub fn get(&self, key: &crate::domain::directory::RsaKey) -> Option<std::sync::Arc<PublicKey>> {
        if let Ok(keys) = self.keys.lock()
            && let Some(k) = keys.get(&key.der_base64)
        {
            return Some(std::sync::Arc::clone(k));
        }
        let parsed = std::sync::Arc::new(parse_public_key(&key.der_base64).ok()?);
        if let Ok(mut keys) = self.keys.lock() {
            if keys.len() >= Self::MAX {
                keys.clear();
            }
            keys.insert(key.der_base64.clone(), std::sync::Arc::clone(&parsed));
        }
        Some(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::BigUint;

    /// A hand-made public key with a modulus of exactly `bits` bits (odd, not a real product of primes:
    /// only its shape matters here) and exponent `e`, as base64 SPKI DER.
    fn hand_made(bits: usize, e: u32) -> String {
        let n = (BigUint::from(1u8) << (bits - 1)) | BigUint::from(0xFFFF_FFFFu32);
        let key = RsaPublicKey::new(n, BigUint::from(e)).unwrap();
        STANDARD.encode(key.to_public_key_der().unwrap().as_bytes())
    }

    #[test]
    fn key_size_is_counted_in_exact_bits() {
        for bits in [2041, 2047, 1024] {
            let err = parse_public_key(&hand_made(bits, 65_537)).err().unwrap();
            assert!(err.contains(&format!("has {bits} bits")), "{err}");
            assert!(err.contains("at least 2048"), "{err}");
        }
        for bits in [2048, 3072, 4096] {
            assert!(parse_public_key(&hand_made(bits, 65_537)).is_ok(), "{bits}");
        }
    }

    #[test]
    fn a_request_jwt_is_good_for_its_whole_life_and_a_login_jwt_for_a_minute() {
        let now = 10_000;
        // Signed 54 minutes ago for 59: too old for a login, good for a request.
        let (iat, exp) = (now - 54 * 60, now + 5 * 60);
        assert!(!times_valid(iat, exp, now, JwtUse::Login));
        assert!(times_valid(iat, exp, now, JwtUse::Request));
        // Expired, however recently: refused for a request (no skew past `exp`).
        assert!(!times_valid(now - 100, now, now, JwtUse::Request));
        assert!(!times_valid(now - 100, now - 1, now, JwtUse::Request));
        // A lifetime over an hour, from the future, or ending before it starts.
        assert!(!times_valid(now, now + 3601, now, JwtUse::Request));
        assert!(times_valid(now, now + 3600, now, JwtUse::Request));
        assert!(!times_valid(now + 61, now + 120, now, JwtUse::Request));
        assert!(!times_valid(now, now, now, JwtUse::Request));
        assert!(times_valid(now - 30, now + 30, now, JwtUse::Login));
    }

    #[test]
    fn only_exponent_65537_is_accepted() {
        for e in [3, 17, 65_539, 0x1_0001 + 2] {
            let err = parse_public_key(&hand_made(2048, e)).err().unwrap();
            assert!(err.contains("exponent is not 65537"), "{e}: {err}");
        }
        assert!(parse_public_key(&hand_made(2048, 65_537)).is_ok());
    }
}
