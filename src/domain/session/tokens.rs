//! Session and master tokens: HS256 JWTs. The algorithm is pinned, the token's kind is a claim (a master
//! token is never accepted as a session token or the reverse), and the header's `kid` names the secret
//! version that signed it, so tokens signed before a secret rotation keep verifying.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::domain::credentials::seal::Sealer;
use crate::domain::session::Session;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Session,
    Master,
    /// An exchanged token (`POST /oauth/token`): no session behind it, bound to one endpoint host
    /// (`host`) and role, re-checked against its user at every request.
    Ingress,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub kind: TokenKind,
    pub session_id: u64,
    /// The user name.
    pub sub: String,
    pub account: String,
    pub database: Option<String>,
    pub schema: Option<String>,
    /// The host the client connected to.
    pub host: Option<String>,
    pub iat: u64,
    pub exp: u64,
    /// Unique per token, so two tokens minted in the same second differ.
    pub jti: String,
    /// An exchanged token's role (session tokens carry theirs in the session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// An exchanged token's user id, so a user dropped and created again under the name is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The credential an exchanged token was issued for: once its user no longer holds it (a key
    /// replaced, a PAT removed), the token stops working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cred: Option<crate::domain::session::Credential>,
}

/// What an exchanged token stands for ([`Keyring::mint_ingress`]).
pub struct IngressGrant<'a> {
    pub user: &'a str,
    pub user_id: &'a str,
    pub account: &'a str,
    pub role: &'a str,
    /// The endpoint host the token is good for.
    pub host: &'a str,
    pub credential: Option<crate::domain::session::Credential>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Well-formed, correctly signed, of the right kind, but past its expiry.
    Expired,
    /// Names a key version this keyring does not hold: perhaps a newer secret than the cached one.
    UnknownKey,
    /// Anything else: malformed, forged, wrong algorithm, wrong kind.
    Invalid,
}

/// The shortest HMAC secret accepted (bytes): HS256 is only as strong as its key, and RFC 7518 §3.2
/// asks for a key at least as long as the hash (256 bits). Checked where secrets are configured, not
/// here, so tests can sign with short ones.
pub const MIN_SECRET_BYTES: usize = 32;

/// How far in the future a token's `iat` may lie: the clock skew tolerated between instances.
const FUTURE_SKEW_SECONDS: u64 = 60;

/// HKDF `info` of the key that seals engine session tokens ([`super::SealedUpstream`]).
const UPSTREAM_KEY_INFO: &[u8] = b"snowgate upstream v1";

/// One HMAC secret and the version id that names it in token headers.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Seals TOTP seeds: derived from the same secret, for another use (see
    /// [`crate::domain::credentials::totp`]).
    sealing: crate::domain::credentials::totp::SealingKey,
    /// Keys the lockout's attempt ids: derived from the same secret, for another use.
    attempts: crate::domain::login::attempts::AttemptKey,
    /// Seals engine session tokens: derived from the same secret, for another use.
    upstream: Sealer,
}

impl SigningKey {
    pub fn new(kid: impl Into<String>, secret: &SecretString) -> Self {
        let kid = kid.into();
        let bytes = secret.expose_secret().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            sealing: crate::domain::credentials::totp::SealingKey::new(&kid, secret),
            attempts: crate::domain::login::attempts::AttemptKey::new(secret),
            upstream: Sealer::new(&kid, secret, UPSTREAM_KEY_INFO),
            kid,
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// The secret that signs new tokens and the older ones that still verify.
pub struct Keyring {
    current: SigningKey,
    previous: Vec<SigningKey>,
    /// Built once: every request verifies a token, and the rules never change.
    validation: Validation,
    /// Tokens this keyring has verified, with their claims: a driver sends the same session token
    /// with every request, and its signature and claims need checking once. Only tokens whose
    /// signature verified are kept, so nobody can fill it with tokens of their own; it belongs to
    /// this keyring, so a rotation that retires a secret forgets what it verified.
    verified: std::sync::Mutex<std::collections::HashMap<Box<str>, Claims>>,
}

/// Most tokens [`Keyring`] remembers; past that it starts again (a few hundred bytes each).
const VERIFIED_CAPACITY: usize = 1024;

impl Keyring {
    pub fn new(current: SigningKey, previous: Vec<SigningKey>) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked in `verify` against the caller's clock, so tests and the service agree
        // on `now`.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp".to_string()].into_iter().collect();
        Self {
            current,
            previous,
            validation,
            verified: Default::default(),
        }
    }

    pub fn current_kid(&self) -> &str {
        self.current.kid()
    }

    /// The key new TOTP seeds are sealed with.
    pub fn sealing_key(&self) -> &crate::domain::credentials::totp::SealingKey {
        &self.current.sealing
    }

    /// The key that sealed a seed under secret version `kid`, while that version is still loaded.
    pub fn sealing_key_for(
        &self,
        kid: &str,
    ) -> Option<&crate::domain::credentials::totp::SealingKey> {
        self.find(kid).map(|k| &k.sealing)
    }

    /// The key new engine session tokens are sealed with.
    pub fn upstream_key(&self) -> &Sealer {
        &self.current.upstream
    }

    /// The key that sealed an engine session token under secret version `kid`, while that version
    /// is still loaded.
    pub fn upstream_key_for(&self, kid: &str) -> Option<&Sealer> {
        self.find(kid).map(|k| &k.upstream)
    }

    /// The key of failed logins' attempt ids (the current secret's: every instance agrees on it).
    pub fn attempt_key(&self) -> &crate::domain::login::attempts::AttemptKey {
        &self.current.attempts
    }

    fn find(&self, kid: &str) -> Option<&SigningKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.kid == kid)
    }

    /// Signs a token of `kind` for `session`, valid for `ttl` seconds from `now`.
    pub fn mint(
        &self,
        kind: TokenKind,
        session: &Session,
        host: Option<&str>,
        now: u64,
        ttl: u64,
    ) -> String {
        self.mint_identified(kind, session, host, now, ttl).0
    }

    /// A token and its id (`jti`), which the session records to tell its current token from older ones.
    pub fn mint_identified(
        &self,
        kind: TokenKind,
        session: &Session,
        host: Option<&str>,
        now: u64,
        ttl: u64,
    ) -> (String, String) {
        let jti = uuid::Uuid::new_v4().to_string();
        let claims = Claims {
            kind,
            session_id: session.id,
            sub: session.user.clone(),
            account: session.account.clone(),
            database: session.context.database.clone(),
            schema: session.context.schema.clone(),
            host: host.map(str::to_string),
            iat: now,
            exp: now.saturating_add(ttl),
            jti: jti.clone(),
            role: None,
            uid: None,
            cred: None,
        };
        (self.sign(&claims), jti)
    }

    /// An exchanged token for `grant`, valid for `ttl` seconds from `now`.
    pub fn mint_ingress(&self, grant: IngressGrant<'_>, now: u64, ttl: u64) -> String {
        let claims = Claims {
            kind: TokenKind::Ingress,
            session_id: 0,
            sub: grant.user.to_string(),
            account: grant.account.to_string(),
            database: None,
            schema: None,
            host: Some(grant.host.to_string()),
            iat: now,
            exp: now.saturating_add(ttl),
            jti: uuid::Uuid::new_v4().to_string(),
            role: Some(grant.role.to_string()),
            uid: Some(grant.user_id.to_string()),
            cred: grant.credential,
        };
        self.sign(&claims)
    }

    fn sign(&self, claims: &Claims) -> String {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.current.encoding).unwrap_or_default()
    }

    pub fn verify(&self, token: &str, kind: TokenKind, now: u64) -> Result<Claims, TokenError> {
        let remembered = self.remembered(token);
        let claims = match remembered {
            Some(claims) => claims,
            None => self.check_signature(token)?,
        };
        // Only this service mints tokens, always with `iat` = now: one from the future (beyond the
        // skew between instances' clocks) is forged or from a broken clock, never legitimate.
        if claims.kind != kind || claims.iat > now.saturating_add(FUTURE_SKEW_SECONDS) {
            return Err(TokenError::Invalid);
        }
        if claims.exp <= now {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    fn remembered(&self, token: &str) -> Option<Claims> {
        let verified = self.verified.lock().ok()?;
        verified.get(token).cloned()
    }

    /// The claims of a token signed by one of this keyring's secrets (HS256 only), remembered.
    fn check_signature(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::Invalid);
        }
        let kid = header.kid.as_deref().ok_or(TokenError::Invalid)?;
        let key = self.find(kid).ok_or(TokenError::UnknownKey)?;
        let claims = jsonwebtoken::decode::<Claims>(token, &key.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?
            .claims;
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= VERIFIED_CAPACITY {
                verified.clear();
            }
            verified.insert(token.into(), claims.clone());
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::session::SessionContext;

    fn session() -> Session {
        Session {
            id: 42,
            user: "EMBUCKET".into(),
            account: "ACME".into(),
            context: SessionContext::default(),
            created_at: 1000,
            expires_at: 5000,
            client_app: None,
            user_id: String::new(),
            ..Session::default()
        }
    }

    fn ring(kid: &str, secret: &str) -> Keyring {
        Keyring::new(SigningKey::new(kid, &SecretString::from(secret)), vec![])
    }

    #[test]
    fn kinds_expiry_and_keys() {
        let ring = ring("v1", "secret-one");
        let st = ring.mint(TokenKind::Session, &session(), Some("h"), 1000, 10);
        assert_eq!(
            ring.verify(&st, TokenKind::Session, 1005)
                .unwrap()
                .session_id,
            42
        );
        assert_eq!(
            ring.verify(&st, TokenKind::Master, 1005),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            ring.verify(&st, TokenKind::Session, 1010),
            Err(TokenError::Expired)
        );
        let other = super::tests::ring("v1", "secret-two");
        assert_eq!(
            other.verify(&st, TokenKind::Session, 1005),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            ring.verify("garbage", TokenKind::Session, 1005),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn an_exchanged_token_is_no_session_token_and_no_session_token_is_one() {
        let ring = ring("v1", "secret-one");
        let grant = IngressGrant {
            user: "ALICE",
            user_id: "u1",
            account: "ACME",
            role: "ANALYST",
            host: "app.example.com",
            credential: None,
        };
        let it = ring.mint_ingress(grant, 1000, 600);
        let claims = ring.verify(&it, TokenKind::Ingress, 1001).unwrap();
        assert_eq!(
            (claims.role.as_deref(), claims.host.as_deref()),
            (Some("ANALYST"), Some("app.example.com"))
        );
        assert_eq!(
            ring.verify(&it, TokenKind::Session, 1001),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            ring.verify(&it, TokenKind::Ingress, 1600),
            Err(TokenError::Expired)
        );
        let st = ring.mint(TokenKind::Session, &session(), None, 1000, 10);
        assert_eq!(
            ring.verify(&st, TokenKind::Ingress, 1001),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn tokens_issued_in_the_future_are_invalid() {
        let ring = ring("v1", "secret-one");
        let st = ring.mint(TokenKind::Session, &session(), None, 1061, 100);
        assert!(ring.verify(&st, TokenKind::Session, 1001).is_ok());
        assert_eq!(
            ring.verify(&st, TokenKind::Session, 1000),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn previous_keys_still_verify() {
        let old = ring("v1", "secret-one");
        let st = old.mint(TokenKind::Session, &session(), None, 1000, 10);
        let rotated = Keyring::new(
            SigningKey::new("v2", &SecretString::from("secret-two")),
            vec![SigningKey::new("v1", &SecretString::from("secret-one"))],
        );
        assert!(rotated.verify(&st, TokenKind::Session, 1001).is_ok());
        let new = rotated.mint(TokenKind::Session, &session(), None, 1000, 10);
        assert_eq!(
            jsonwebtoken::decode_header(&new).unwrap().kid.as_deref(),
            Some("v2")
        );
        assert_eq!(
            old.verify(&new, TokenKind::Session, 1001),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn remembered_tokens_are_checked_again_and_stay_bounded() {
        let ring = ring("v1", "secret-one");
        let st = ring.mint(TokenKind::Session, &session(), None, 1000, 10);
        assert!(ring.verify(&st, TokenKind::Session, 1001).is_ok());
        // The same token again: remembered, and still held to its kind and expiry (above, too).
        assert!(ring.verify(&st, TokenKind::Session, 1002).is_ok());
        assert_eq!(
            ring.verify(&st, TokenKind::Session, 1010),
            Err(TokenError::Expired)
        );
        // Another signature on the same claims is another token: verified, and refused.
        let (body, sig) = st.rsplit_once('.').unwrap();
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        let forged = format!("{body}.{flipped}{}", &sig[1..]);
        assert_eq!(
            ring.verify(&forged, TokenKind::Session, 1001),
            Err(TokenError::Invalid)
        );
        // A keyring that no longer holds the secret refuses what the old one remembered.
        let rotated = super::tests::ring("v2", "secret-two");
        assert_eq!(
            rotated.verify(&st, TokenKind::Session, 1001),
            Err(TokenError::UnknownKey)
        );
        for i in 0..(VERIFIED_CAPACITY as u64 + 10) {
            let t = ring.mint(
                TokenKind::Session,
                &Session { id: i, ..session() },
                None,
                1000,
                10,
            );
            assert!(ring.verify(&t, TokenKind::Session, 1001).is_ok());
        }
        assert!(ring.verified.lock().unwrap().len() <= VERIFIED_CAPACITY);
    }
}
