//! Third-party JWTs (External OAuth access tokens, OIDC workload identity tokens, AWS outbound tokens)
//! verified against an issuer's public keys: a JSON Web Key Set fetched from a URL (through the
//! [`JwksFetcher`] trait, so the domain stays free of HTTP), cached per URL, or fixed RSA keys.
//!
//! The algorithm is taken from the key, never from the token alone: an RSA key verifies only RS*, a
//! P-256 key only ES256, a P-384 key only ES384, and `none`, HS* and EdDSA are refused outright. That
//! closes the classic "alg confusion" hole (an HS256 token signed with the RSA public key as secret).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::domain::credentials::rsa_keys::MIN_KEY_BITS;

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: u64 = 60;
/// The largest token looked at: real access tokens are a few KiB; anything bigger is refused before
/// any base64 or JSON work.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// The most keys kept from one key set; further keys are ignored.
pub const MAX_KEYS: usize = 32;
/// The largest JWKS or discovery document a fetcher may return.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// How long a fetched key set is trusted before it is fetched again.
pub const CACHE_SECONDS: u64 = 3600;
/// The shortest interval between two fetches of one URL when a token names an unknown `kid` (a key
/// rotation): stops a stream of made-up `kid`s from turning into a stream of fetches.
pub const REFRESH_MIN_SECONDS: u64 = 30;
/// The most URLs cached; the stalest entry is dropped to make room.
pub const MAX_CACHED_URLS: usize = 64;

/// One usable public key and the only algorithm it verifies.
#[derive(Clone)]
pub struct VerifyingKey {
    pub kid: Option<String>,
    pub alg: Algorithm,
    key: DecodingKey,
}

/// The keys a token may be signed with.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: Vec<VerifyingKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Malformed, wrongly signed, wrong issuer or audience, not yet valid: one answer for all, so a
    /// caller cannot probe which check failed.
    #[error("the token is not valid")]
    Invalid,
    /// Correctly signed but past its `exp` (plus leeway).
    #[error("the token has expired")]
    Expired,
    /// No key in the set carries the token's `kid`.
    #[error("the token's key is unknown")]
    UnknownKey,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("the key document could not be fetched")]
    Unreachable,
    #[error("the key document is not valid")]
    Malformed,
}

/// What a verified token must carry.
pub struct Expectations<'a> {
    /// The exact `iss`.
    pub issuer: &'a str,
    /// `aud` (a string or a list) must hold at least one of these.
    pub audiences: &'a [String],
    /// External OAuth tokens must carry `iat`.
    pub require_iat: bool,
    /// Seconds since the epoch.
    pub now: u64,
}

impl KeySet {
    /// Parses a JWKS document (`{"keys":[…]}`). Keys of unsupported types, too-small RSA keys and
    /// symmetric keys are skipped; a set left empty is an error.
    pub fn from_jwks(document: &[u8]) -> Result<KeySet, FetchError> {
        if document.len() > MAX_DOCUMENT_BYTES {
            return Err(FetchError::Malformed);
        }
        let value: Value = serde_json::from_slice(document).map_err(|_| FetchError::Malformed)?;
        let entries = value
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(FetchError::Malformed)?;
        let keys: Vec<VerifyingKey> = entries
            .iter()
            .filter_map(|entry| serde_json::from_value::<Jwk>(entry.clone()).ok())
            .filter_map(|jwk| verifying_key(&jwk))
            .take(MAX_KEYS)
            .collect();
        if keys.is_empty() {
            return Err(FetchError::Malformed);
        }
        Ok(KeySet { keys })
    }

    /// Fixed RSA keys (External OAuth's `EXTERNAL_OAUTH_RSA_PUBLIC_KEY[_2]`), already strength-checked
    /// by [`crate::domain::credentials::rsa_keys::parse_public_key`]; they verify RS256 tokens.
    pub fn from_rsa_keys(keys: &[&crate::domain::credentials::rsa_keys::PublicKey]) -> KeySet {
        KeySet {
            keys: keys
                .iter()
                .map(|k| VerifyingKey {
                    kid: None,
                    alg: Algorithm::RS256,
                    key: k.decoding_key(),
                })
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether any key carries `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

/// The algorithm a JWK verifies, or `None` for keys never accepted.
fn verifying_key(jwk: &Jwk) -> Option<VerifyingKey> {
    let alg = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let modulus = URL_SAFE_NO_PAD.decode(rsa.n.trim_end_matches('=')).ok()?;
            if modulus_bits(&modulus) < MIN_KEY_BITS {
                return None;
            }
            match jwk.common.key_algorithm {
                None | Some(KeyAlgorithm::RS256) => Algorithm::RS256,
                Some(KeyAlgorithm::RS384) => Algorithm::RS384,
                Some(KeyAlgorithm::RS512) => Algorithm::RS512,
                Some(_) => return None,
            }
        }
        AlgorithmParameters::EllipticCurve(ec) => match (&ec.curve, &jwk.common.key_algorithm) {
            (EllipticCurve::P256, None | Some(KeyAlgorithm::ES256)) => Algorithm::ES256,
            (EllipticCurve::P384, None | Some(KeyAlgorithm::ES384)) => Algorithm::ES384,
            _ => return None,
        },
        _ => return None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(VerifyingKey {
        kid: jwk.common.key_id.clone(),
        alg,
        key,
    })
}

/// The exact bit length of a big-endian modulus (a 2041-bit key is not a 2048-bit one).
fn modulus_bits(modulus: &[u8]) -> usize {
    let significant: Vec<&u8> = modulus.iter().skip_while(|b| **b == 0).collect();
    match significant.first() {
        Some(first) => significant.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

/// The `kid` a token names, if it is well-formed enough to say (for deciding on a refresh).
pub fn token_kid(token: &str) -> Option<String> {
    if token.len() > MAX_TOKEN_BYTES {
        return None;
    }
    jsonwebtoken::decode_header(token).ok()?.kid
}

/// The `iss` a token claims, unverified: only for choosing which issuer's keys to verify it with.
pub fn unverified_issuer(token: &str) -> Option<String> {
    if token.len() > MAX_TOKEN_BYTES {
        return None;
    }
    let claims: Map<String, Value> = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    claims.get("iss")?.as_str().map(str::to_string)
}

/// Verifies `token` with `keys` and `expect`, returning its claims.
pub fn verify(
    token: &str,
    keys: &KeySet,
    expect: &Expectations<'_>,
) -> Result<Map<String, Value>, VerifyError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(VerifyError::Invalid);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Invalid)?;
    if !matches!(
        header.alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::ES256
            | Algorithm::ES384
    ) {
        return Err(VerifyError::Invalid);
    }
    let candidates: Vec<&VerifyingKey> = match &header.kid {
        Some(kid) => keys
            .keys
            .iter()
            .filter(|k| k.kid.is_none() || k.kid.as_deref() == Some(kid.as_str()))
            .collect(),
        None => keys.keys.iter().collect(),
    };
    if header.kid.is_some() && candidates.is_empty() {
        return Err(VerifyError::UnknownKey);
    }
    let claims = candidates
        .into_iter()
        .filter(|k| k.alg == header.alg)
        .find_map(|k| signature_checked(token, k))
        .ok_or(VerifyError::Invalid)?;
    check_claims(&claims, expect)?;
    Ok(claims)
}

fn signature_checked(token: &str, key: &VerifyingKey) -> Option<Map<String, Value>> {
    let mut validation = Validation::new(key.alg);
    // Times, issuer and audience are checked by `check_claims`, against the caller's clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
        .ok()
        .map(|data| data.claims)
}

fn check_claims(claims: &Map<String, Value>, expect: &Expectations<'_>) -> Result<(), VerifyError> {
    if claims.get("iss").and_then(Value::as_str) != Some(expect.issuer) {
        return Err(VerifyError::Invalid);
    }
    if !audience_matches(claims.get("aud"), expect.audiences) {
        return Err(VerifyError::Invalid);
    }
    let time = |name: &str| {
        claims
            .get(name)
            .map(|v| v.as_u64().ok_or(VerifyError::Invalid))
    };
    let now = expect.now;
    match time("iat").transpose()? {
        Some(iat) if iat > now.saturating_add(LEEWAY_SECONDS) => return Err(VerifyError::Invalid),
        None if expect.require_iat => return Err(VerifyError::Invalid),
        _ => {}
    }
    if let Some(nbf) = time("nbf").transpose()?
        && nbf > now.saturating_add(LEEWAY_SECONDS)
    {
        return Err(VerifyError::Invalid);
    }
    let exp = time("exp").ok_or(VerifyError::Invalid)??;
    if exp.saturating_add(LEEWAY_SECONDS) <= now {
        return Err(VerifyError::Expired);
    }
    Ok(())
}

fn audience_matches(aud: Option<&Value>, wanted: &[String]) -> bool {
    let is_wanted = |v: &Value| v.as_str().is_some_and(|a| wanted.iter().any(|w| w == a));
    match aud {
        Some(Value::String(_)) => aud.is_some_and(is_wanted),
        Some(Value::Array(list)) => list.iter().any(is_wanted),
        _ => false,
    }
}

/// Fetches a document over HTTPS (bounded size and time, no redirects). Implemented outside the domain.
#[async_trait]
pub trait JwksFetcher: Send + Sync {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError>;
}

struct Cached {
    /// Empty after a fetch that failed with nothing held.
    keys: Arc<KeySet>,
    fetched_at: u64,
    /// No fetch before this (set after a failure).
    retry_after: u64,
}

/// Key sets by URL, each trusted for [`CACHE_SECONDS`], refetched early (at most every
/// [`REFRESH_MIN_SECONDS`]) when a token names a `kid` the set lacks. A failed fetch is not retried
/// for [`REFRESH_MIN_SECONDS`] either, so a stream of logins cannot become a stream of slow fetches;
/// meanwhile the set already held (if any) keeps serving, so an issuer's short outage stops no login.
/// Fetches are single-flight: logins that need one URL at once wait for one fetch and share its
/// outcome, so a burst of tokens naming an unknown `kid` is one fetch, not one per login.
pub struct JwksCache {
    fetcher: Arc<dyn JwksFetcher>,
    entries: Mutex<HashMap<String, Cached>>,
    /// One lock per URL being fetched, held by the fetching caller; dropped when no caller needs it.
    flights: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

/// A caller's place in the flight of one URL; leaving it drops the URL's lock when no one else
/// holds it, so the map never outgrows the fetches in progress (a cancelled login leaves it too).
struct Boarding {
    flights: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    url: String,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Drop for Boarding {
    fn drop(&mut self) {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        // The map's reference and this one: no other caller waits on this URL.
        if Arc::strong_count(&self.lock) == 2 {
            flights.remove(&self.url);
        }
    }
}

impl JwksCache {
    pub fn new(fetcher: Arc<dyn JwksFetcher>) -> JwksCache {
        JwksCache {
            fetcher,
            entries: Mutex::new(HashMap::new()),
            flights: Arc::default(),
        }
    }

    fn board(&self, url: &str) -> Boarding {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        let lock = flights.entry(url.to_string()).or_default().clone();
        Boarding {
            flights: self.flights.clone(),
            url: url.to_string(),
            lock,
        }
    }

    /// The key set at `url`, suitable for verifying a token naming `kid`.
    pub async fn keys(
        &self,
        url: &str,
        kid: Option<&str>,
        now: u64,
    ) -> Result<Arc<KeySet>, FetchError> {
        if let Some(keys) = self.cached(url, kid, now) {
            return keys;
        }
        let boarding = self.board(url);
        let _turn = boarding.lock.lock().await;
        // The caller before this one in the flight may have fetched it meanwhile: its outcome
        // (keys, or a failure not to retry yet) answers this caller too.
        if let Some(keys) = self.cached(url, kid, now) {
            return keys;
        }
        let fetched = self.fetch_jwks(url).await;
        self.settle(url, fetched, now)
    }

    /// The key set of an OIDC issuer, found through `<issuer>/.well-known/openid-configuration`.
    pub async fn issuer_keys(
        &self,
        issuer: &str,
        kid: Option<&str>,
        now: u64,
    ) -> Result<Arc<KeySet>, FetchError> {
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        if let Some(keys) = self.cached(&discovery, kid, now) {
            return keys;
        }
        let boarding = self.board(&discovery);
        let _turn = boarding.lock.lock().await;
        if let Some(keys) = self.cached(&discovery, kid, now) {
            return keys;
        }
        let fetched = self.fetch_discovered(&discovery, issuer).await;
        self.settle(&discovery, fetched, now)
    }

    async fn fetch_jwks(&self, url: &str) -> Result<Arc<KeySet>, FetchError> {
        let document = self.fetcher.fetch(url).await?;
        Ok(Arc::new(KeySet::from_jwks(&document)?))
    }

    async fn fetch_discovered(
        &self,
        discovery: &str,
        issuer: &str,
    ) -> Result<Arc<KeySet>, FetchError> {
        let document = self.fetcher.fetch(discovery).await?;
        let jwks_uri = jwks_uri(&document, issuer)?;
        self.fetch_jwks(&jwks_uri).await
    }

    /// What the cache answers without fetching: the held set when it may serve this token, or the
    /// failure of a fetch tried too recently to try again.
    fn cached(
        &self,
        url: &str,
        kid: Option<&str>,
        now: u64,
    ) -> Option<Result<Arc<KeySet>, FetchError>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(url)?;
        let age = now.saturating_sub(entry.fetched_at);
        let held = !entry.keys.is_empty() && age < CACHE_SECONDS;
        let kid_known = kid.is_none_or(|kid| entry.keys.has_kid(kid));
        let no_fetch_yet = now < entry.retry_after;
        match (held, no_fetch_yet) {
            (true, true) => Some(Ok(entry.keys.clone())),
            (true, false) if kid_known || age < REFRESH_MIN_SECONDS => Some(Ok(entry.keys.clone())),
            (false, true) => Some(Err(FetchError::Unreachable)),
            _ => None,
        }
    }

    fn settle(
        &self,
        url: &str,
        fetched: Result<Arc<KeySet>, FetchError>,
        now: u64,
    ) -> Result<Arc<KeySet>, FetchError> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let retry_after = now.saturating_add(REFRESH_MIN_SECONDS);
        let held = entries
            .get_mut(url)
            .filter(|c| !c.keys.is_empty() && now.saturating_sub(c.fetched_at) < CACHE_SECONDS);
        let (entry, answer) = match (fetched, held) {
            (Ok(keys), _) => (
                Cached {
                    keys: keys.clone(),
                    fetched_at: now,
                    retry_after: 0,
                },
                Ok(keys),
            ),
            (Err(_), Some(held)) => {
                held.retry_after = retry_after;
                return Ok(held.keys.clone());
            }
            (Err(e), None) => (
                Cached {
                    keys: Arc::new(KeySet::default()),
                    fetched_at: now,
                    retry_after,
                },
                Err(e),
            ),
        };
        if entries.len() >= MAX_CACHED_URLS && !entries.contains_key(url) {
            let stalest = entries
                .iter()
                .min_by_key(|(_, c)| c.fetched_at)
                .map(|(u, _)| u.clone());
            if let Some(stalest) = stalest {
                entries.remove(&stalest);
            }
        }
        entries.insert(url.to_string(), entry);
        answer
    }
}

/// The `jwks_uri` of a discovery document, which must name `issuer` and an `https` key URL.
fn jwks_uri(document: &[u8], issuer: &str) -> Result<String, FetchError> {
    if document.len() > MAX_DOCUMENT_BYTES {
        return Err(FetchError::Malformed);
    }
    let value: Value = serde_json::from_slice(document).map_err(|_| FetchError::Malformed)?;
    let named = value.get("issuer").and_then(Value::as_str);
    if named.map(|n| n.trim_end_matches('/')) != Some(issuer.trim_end_matches('/')) {
        return Err(FetchError::Malformed);
    }
    match value.get("jwks_uri").and_then(Value::as_str) {
        Some(uri) if uri.starts_with("https://") && uri.len() <= 2048 => Ok(uri.to_string()),
        _ => Err(FetchError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Never answers until dropped: a fetch that hangs, as an issuer that does not reply.
    struct Hanging;

    #[async_trait]
    impl JwksFetcher for Hanging {
        async fn fetch(&self, _: &str) -> Result<Vec<u8>, FetchError> {
            std::future::pending().await
        }
    }

    fn flights(cache: &JwksCache) -> usize {
        cache
            .flights
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// The per-URL locks live only while callers wait on them, even callers that give up (a login
    /// cancelled by its timeout), so a stream of made-up URLs cannot grow the map.
    #[test]
    fn a_url_lock_is_dropped_with_its_last_caller() {
        let cache = JwksCache::new(Arc::new(Hanging));
        let url = "https://issuer.example/keys";
        let mut first = Box::pin(cache.keys(url, None, 0));
        let mut second = Box::pin(cache.keys(url, None, 0));
        // The first holds the lock, fetching; the second waits for it.
        for call in [&mut first, &mut second] {
            assert!(poll_once(call.as_mut()).is_none());
        }
        assert_eq!(flights(&cache), 1);
        drop(first);
        assert_eq!(flights(&cache), 1, "the second caller still waits");
        drop(second);
        assert_eq!(flights(&cache), 0);
    }

    /// Polls a future once, without a runtime's help.
    fn poll_once<T>(f: std::pin::Pin<&mut impl std::future::Future<Output = T>>) -> Option<T> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.poll(&mut cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        }
    }
}
