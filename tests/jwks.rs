//! The third-party JWT verifier (`src/domain/credentials/jwks.rs`): what it accepts, and the hostile tokens it refuses.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::jwks::{FakeFetcher, b64, fixture};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use snowgate::domain::jwks::{Expectations, FetchError, JwksCache, KeySet, VerifyError, verify};

const NOW: u64 = 1_800_000_000;
const ISSUER: &str = "https://issuer.example";

fn der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

fn rsa_jwk(name: &str, kid: &str) -> Value {
    let key = rsa::RsaPublicKey::from_public_key_pem(&fixture(&format!("{name}.pub.pem"))).unwrap();
    json!({"kty": "RSA", "kid": kid, "use": "sig", "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be())})
}

fn ec_jwk(name: &str, kid: &str, crv: &str, coord: usize) -> Value {
    let spki = der(&fixture(&format!("{name}.pub.pem")));
    let point = &spki[spki.len() - (2 * coord + 1)..];
    json!({"kty": "EC", "kid": kid, "crv": crv, "x": b64(&point[1..=coord]), "y": b64(&point[coord + 1..])})
}

fn jwks(keys: &[Value]) -> KeySet {
    KeySet::from_jwks(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
}

fn claims() -> Value {
    json!({"iss": ISSUER, "sub": "workload-1", "aud": "snowflakecomputing.com", "iat": NOW - 10, "exp": NOW + 300})
}

fn sign(alg: Algorithm, key: &str, kid: Option<&str>, claims: &Value) -> String {
    let pem = fixture(&format!("{key}.pem"));
    let encoding = match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, &encoding).unwrap()
}

fn audiences() -> Vec<String> {
    vec!["snowflakecomputing.com".to_string()]
}

fn check(token: &str, keys: &KeySet) -> Result<serde_json::Map<String, Value>, VerifyError> {
    let audiences = audiences();
    verify(
        token,
        keys,
        &Expectations {
            issuer: ISSUER,
            audiences: &audiences,
            require_iat: true,
            now: NOW,
        },
    )
}

fn all_keys() -> KeySet {
    jwks(&[
        rsa_jwk("rsa1", "r1"),
        ec_jwk("p256", "e1", "P-256", 32),
        ec_jwk("p384", "e2", "P-384", 48),
    ])
}

#[test]
fn rs256_es256_and_es384_tokens_verify_and_return_their_claims() {
    let keys = all_keys();
    for (alg, key, kid) in [
        (Algorithm::RS256, "rsa1", "r1"),
        (Algorithm::ES256, "p256", "e1"),
        (Algorithm::ES384, "p384", "e2"),
    ] {
        let got = check(&sign(alg, key, Some(kid), &claims()), &keys).unwrap();
        assert_eq!(got["sub"], "workload-1", "{alg:?}");
    }
}

#[test]
fn a_token_without_kid_is_tried_against_every_key_of_its_algorithm() {
    let keys = all_keys();
    assert!(check(&sign(Algorithm::RS256, "rsa1", None, &claims()), &keys).is_ok());
}

#[test]
fn a_token_signed_by_another_key_is_invalid() {
    let keys = jwks(&[rsa_jwk("rsa1", "r1")]);
    let token = sign(Algorithm::RS256, "rsa2", Some("r1"), &claims());
    assert_eq!(check(&token, &keys), Err(VerifyError::Invalid));
    let token = sign(Algorithm::RS256, "rsa2", None, &claims());
    assert_eq!(check(&token, &keys), Err(VerifyError::Invalid));
}

#[test]
fn an_unknown_kid_is_reported_as_such() {
    let keys = jwks(&[rsa_jwk("rsa1", "r1")]);
    let token = sign(Algorithm::RS256, "rsa1", Some("other"), &claims());
    assert_eq!(check(&token, &keys), Err(VerifyError::UnknownKey));
}

#[test]
fn an_hs256_token_signed_with_the_rsa_public_key_as_secret_is_refused() {
    let keys = jwks(&[rsa_jwk("rsa1", "r1")]);
    let secrets = [
        fixture("rsa1.pub.pem").into_bytes(),
        der(&fixture("rsa1.pub.pem")),
    ];
    for secret in secrets {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("r1".into());
        let token =
            jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&secret)).unwrap();
        assert_eq!(check(&token, &keys), Err(VerifyError::Invalid));
    }
}

#[test]
fn alg_none_and_unsigned_tokens_are_refused() {
    let keys = all_keys();
    let body = b64(claims().to_string().as_bytes());
    for header in [
        json!({"alg": "none", "typ": "JWT"}),
        json!({"alg": "none", "kid": "r1"}),
        json!({"alg": "None", "kid": "r1"}),
    ] {
        let head = b64(header.to_string().as_bytes());
        for token in [format!("{head}.{body}."), format!("{head}.{body}")] {
            assert_eq!(check(&token, &keys), Err(VerifyError::Invalid), "{token}");
        }
    }
}

#[test]
fn a_key_verifies_only_its_own_algorithm() {
    // The ES256 key named by kid, but the header claims ES384 (and the reverse): refused.
    let keys = all_keys();
    let token = sign(Algorithm::ES384, "p384", Some("e1"), &claims());
    assert_eq!(check(&token, &keys), Err(VerifyError::Invalid));
    let token = sign(Algorithm::RS384, "rsa1", Some("r1"), &claims());
    assert_eq!(check(&token, &keys), Err(VerifyError::Invalid));
}

#[test]
fn expired_tokens_are_reported_as_expired_after_the_leeway() {
    let keys = all_keys();
    let mut c = claims();
    c["exp"] = json!(NOW - 30);
    assert!(check(&sign(Algorithm::RS256, "rsa1", Some("r1"), &c), &keys).is_ok());
    c["exp"] = json!(NOW - 61);
    let token = sign(Algorithm::RS256, "rsa1", Some("r1"), &c);
    assert_eq!(check(&token, &keys), Err(VerifyError::Expired));
}

#[test]
fn an_expired_token_with_a_bad_signature_is_invalid_not_expired() {
    let keys = jwks(&[rsa_jwk("rsa1", "r1")]);
    let mut c = claims();
    c["exp"] = json!(NOW - 600);
    let token = sign(Algorithm::RS256, "rsa2", Some("r1"), &c);
    assert_eq!(check(&token, &keys), Err(VerifyError::Invalid));
}

#[test]
fn not_yet_valid_and_future_issued_tokens_are_invalid() {
    let keys = all_keys();
    for (claim, value) in [("nbf", NOW + 120), ("iat", NOW + 120)] {
        let mut c = claims();
        c[claim] = json!(value);
        let token = sign(Algorithm::RS256, "rsa1", Some("r1"), &c);
        assert_eq!(check(&token, &keys), Err(VerifyError::Invalid), "{claim}");
    }
    let mut c = claims();
    c["nbf"] = json!(NOW + 30);
    assert!(check(&sign(Algorithm::RS256, "rsa1", Some("r1"), &c), &keys).is_ok());
}

#[test]
fn missing_or_malformed_times_are_invalid() {
    let keys = all_keys();
    for (claim, value) in [
        ("exp", Value::Null),
        ("exp", json!("soon")),
        ("iat", Value::Null),
        ("exp", json!(-5)),
        ("nbf", json!(1.5)),
    ] {
        let mut c = claims();
        match value {
            Value::Null => {
                c.as_object_mut().unwrap().remove(claim);
            }
            v => c[claim] = v,
        }
        let token = sign(Algorithm::RS256, "rsa1", Some("r1"), &c);
        assert_eq!(check(&token, &keys), Err(VerifyError::Invalid), "{claim}");
    }
}

#[test]
fn iat_is_optional_when_not_required() {
    let keys = all_keys();
    let mut c = claims();
    c.as_object_mut().unwrap().remove("iat");
    let token = sign(Algorithm::RS256, "rsa1", Some("r1"), &c);
    let audiences = audiences();
    let expect = Expectations {
        issuer: ISSUER,
        audiences: &audiences,
        require_iat: false,
        now: NOW,
    };
    assert!(verify(&token, &keys, &expect).is_ok());
}

#[test]
fn wrong_issuer_or_audience_is_invalid() {
    let keys = all_keys();
    for (claim, value) in [
        ("iss", json!("https://issuer.example/")),
        ("iss", json!("https://evil.example")),
        ("iss", json!(["https://issuer.example"])),
        ("aud", json!("other")),
        ("aud", json!(["other", "more"])),
        ("aud", json!([])),
        ("aud", json!(7)),
        ("aud", Value::Null),
    ] {
        let mut c = claims();
        c[claim] = value.clone();
        let token = sign(Algorithm::RS256, "rsa1", Some("r1"), &c);
        assert_eq!(
            check(&token, &keys),
            Err(VerifyError::Invalid),
            "{claim}={value}"
        );
    }
    let mut c = claims();
    c["aud"] = json!(["other", "snowflakecomputing.com"]);
    assert!(check(&sign(Algorithm::RS256, "rsa1", Some("r1"), &c), &keys).is_ok());
}

#[test]
fn huge_and_garbage_tokens_are_invalid() {
    let keys = all_keys();
    let mut c = claims();
    c["padding"] = json!("x".repeat(20_000));
    let huge = sign(Algorithm::RS256, "rsa1", Some("r1"), &c);
    for token in [
        huge.as_str(),
        "",
        ".",
        "..",
        "a.b.c",
        "\u{0}",
        &"A".repeat(100_000),
    ] {
        assert_eq!(check(token, &keys), Err(VerifyError::Invalid));
    }
}

#[test]
fn key_sets_skip_symmetric_small_and_unknown_keys() {
    let mut small = rsa_jwk("rsa_small", "small");
    small["alg"] = json!("RS256");
    let doc = json!({"keys": [
        {"kty": "oct", "k": "c2VjcmV0", "kid": "r1"},
        small,
        {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"},
        {"kty": "weird"},
        "not an object",
        rsa_jwk("rsa1", "r1"),
    ]});
    let keys = KeySet::from_jwks(doc.to_string().as_bytes()).unwrap();
    assert_eq!(keys.len(), 1);
    // The symmetric key shares the kid, yet an HS256 token with its secret does not pass.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("r1".into());
    let token =
        jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(b"secret")).unwrap();
    assert_eq!(check(&token, &keys), Err(VerifyError::Invalid));
    assert!(!keys.has_kid("small"), "a 1024-bit RSA key is never used");
}

#[test]
fn malformed_key_documents_are_refused() {
    for doc in [
        "".to_string(),
        "{".to_string(),
        "[]".to_string(),
        json!({"keys": []}).to_string(),
        json!({"keys": "x"}).to_string(),
        json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}).to_string(),
        format!("{{\"keys\":[{}]}}", " ".repeat(300_000)),
    ] {
        assert!(KeySet::from_jwks(doc.as_bytes()).is_err());
    }
}

#[test]
fn fixed_rsa_keys_verify_rs256_only() {
    let k1 = snowgate::domain::keys::parse_public_key(&fixture("rsa1.pub.pem")).unwrap();
    let k2 = snowgate::domain::keys::parse_public_key(&fixture("rsa2.pub.pem")).unwrap();
    let keys = KeySet::from_rsa_keys(&[&k1, &k2]);
    assert!(check(&sign(Algorithm::RS256, "rsa2", None, &claims()), &keys).is_ok());
    assert!(
        check(
            &sign(Algorithm::RS256, "rsa1", Some("any"), &claims()),
            &keys
        )
        .is_ok()
    );
    let token = sign(Algorithm::ES256, "p256", None, &claims());
    assert_eq!(check(&token, &keys), Err(VerifyError::Invalid));
}

fn fetcher_with(keys: &[Value]) -> Arc<FakeFetcher> {
    let fetcher = Arc::new(FakeFetcher::default());
    fetcher.documents.lock().unwrap().insert(
        format!("{ISSUER}/.well-known/openid-configuration"),
        json!({"issuer": ISSUER, "jwks_uri": "https://issuer.example/keys"}).to_string(),
    );
    set_keys(&fetcher, keys);
    fetcher
}

fn set_keys(fetcher: &FakeFetcher, keys: &[Value]) {
    fetcher.documents.lock().unwrap().insert(
        "https://issuer.example/keys".into(),
        json!({ "keys": keys }).to_string(),
    );
}

#[tokio::test]
async fn discovery_finds_the_key_set_and_the_cache_serves_repeats() {
    let fetcher = fetcher_with(&[rsa_jwk("rsa1", "r1")]);
    let cache = JwksCache::new(fetcher.clone());
    for _ in 0..3 {
        let keys = cache.issuer_keys(ISSUER, Some("r1"), NOW).await.unwrap();
        assert!(keys.has_kid("r1"));
    }
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 2);
    // After the cache lifetime it is fetched again.
    cache
        .issuer_keys(ISSUER, Some("r1"), NOW + 3600)
        .await
        .unwrap();
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 4);
}

/// `n` concurrent calls of `call` on one cache, their answers in no particular order.
async fn at_once<F, Fut>(
    cache: &Arc<JwksCache>,
    n: u64,
    call: F,
) -> Vec<Result<Arc<KeySet>, FetchError>>
where
    F: Fn(Arc<JwksCache>, u64) -> Fut,
    Fut: std::future::Future<Output = Result<Arc<KeySet>, FetchError>> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        set.spawn(call(cache.clone(), i));
    }
    set.join_all().await
}

/// 40 first logins of an issuer at once make one discovery and one key set fetch; 40 logins with a
/// `kid` the held set lacks, one refetch; 40 of an unreachable URL, one failed fetch: concurrent
/// fetches of a URL share one.
#[tokio::test]
async fn concurrent_fetches_of_one_url_are_one_fetch() {
    let fetcher = fetcher_with(&[rsa_jwk("rsa1", "r1")]);
    let cache = Arc::new(JwksCache::new(fetcher.clone()));
    let answers = at_once(&cache, 40, |c, _| async move {
        c.issuer_keys(ISSUER, Some("r1"), NOW).await
    })
    .await;
    assert!(answers.into_iter().all(|k| k.unwrap().has_kid("r1")));
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 2);
    let url = "https://issuer.example/keys";
    cache.keys(url, Some("r1"), NOW).await.unwrap();
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 3);
    let answers = at_once(&cache, 40, |c, i| async move {
        c.keys(url, Some("unknown"), NOW + 60 + i % 3).await
    })
    .await;
    assert!(answers.into_iter().all(|k| k.unwrap().has_kid("r1")));
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 4);
    let answers = at_once(&cache, 40, |c, _| async move {
        c.keys("https://down.example/keys", None, NOW).await
    })
    .await;
    assert!(answers.into_iter().all(|k| k.is_err()));
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn an_unknown_kid_refreshes_at_most_every_thirty_seconds() {
    let fetcher = fetcher_with(&[rsa_jwk("rsa1", "r1")]);
    let cache = JwksCache::new(fetcher.clone());
    cache.issuer_keys(ISSUER, Some("r1"), NOW).await.unwrap();
    set_keys(&fetcher, &[rsa_jwk("rsa1", "r1"), rsa_jwk("rsa2", "r2")]);
    // Within the refresh interval: the cached set, without r2.
    let keys = cache
        .issuer_keys(ISSUER, Some("r2"), NOW + 5)
        .await
        .unwrap();
    assert!(!keys.has_kid("r2"));
    for _ in 0..5 {
        cache
            .issuer_keys(ISSUER, Some("made-up"), NOW + 10)
            .await
            .unwrap();
    }
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 2);
    let keys = cache
        .issuer_keys(ISSUER, Some("r2"), NOW + 31)
        .await
        .unwrap();
    assert!(keys.has_kid("r2"));
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn discovery_naming_another_issuer_or_a_plain_http_key_url_is_refused() {
    for doc in [
        json!({"issuer": "https://evil.example", "jwks_uri": "https://issuer.example/keys"}),
        json!({"issuer": ISSUER, "jwks_uri": "http://issuer.example/keys"}),
        json!({"issuer": ISSUER}),
        json!([]),
    ] {
        let fetcher = fetcher_with(&[rsa_jwk("rsa1", "r1")]);
        fetcher.documents.lock().unwrap().insert(
            format!("{ISSUER}/.well-known/openid-configuration"),
            doc.to_string(),
        );
        let cache = JwksCache::new(fetcher.clone());
        assert!(cache.issuer_keys(ISSUER, None, NOW).await.is_err());
    }
}

#[tokio::test]
async fn the_cache_holds_a_bounded_number_of_urls() {
    let fetcher = Arc::new(FakeFetcher::default());
    for i in 0..100 {
        fetcher.documents.lock().unwrap().insert(
            format!("https://k.example/{i}"),
            json!({"keys": [rsa_jwk("rsa1", "r1")]}).to_string(),
        );
    }
    let cache = JwksCache::new(fetcher.clone());
    for i in 0..100 {
        cache
            .keys(&format!("https://k.example/{i}"), None, NOW + i)
            .await
            .unwrap();
    }
    // The newest are cached, the oldest were evicted.
    cache
        .keys("https://k.example/99", None, NOW + 100)
        .await
        .unwrap();
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 100);
    cache
        .keys("https://k.example/0", None, NOW + 100)
        .await
        .unwrap();
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 101);
}

#[tokio::test]
async fn a_failed_fetch_is_not_retried_for_thirty_seconds() {
    let fetcher = Arc::new(FakeFetcher::default());
    let cache = JwksCache::new(fetcher.clone());
    for _ in 0..5 {
        assert!(cache.issuer_keys(ISSUER, Some("r1"), NOW).await.is_err());
    }
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 1);
    // Once the issuer is back and the interval over, the next login fetches.
    let back = fetcher_with(&[rsa_jwk("rsa1", "r1")]);
    *fetcher.documents.lock().unwrap() = back.documents.lock().unwrap().clone();
    assert!(
        cache
            .issuer_keys(ISSUER, Some("r1"), NOW + 10)
            .await
            .is_err()
    );
    let keys = cache
        .issuer_keys(ISSUER, Some("r1"), NOW + 31)
        .await
        .unwrap();
    assert!(keys.has_kid("r1"));
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn an_issuer_outage_keeps_serving_the_keys_held() {
    let fetcher = fetcher_with(&[rsa_jwk("rsa1", "r1")]);
    let cache = JwksCache::new(fetcher.clone());
    cache.issuer_keys(ISSUER, Some("r1"), NOW).await.unwrap();
    fetcher.documents.lock().unwrap().clear();
    // An unknown kid after the refresh interval tries once, fails, and the held set still serves.
    for t in [40, 41, 50] {
        let keys = cache
            .issuer_keys(ISSUER, Some("new"), NOW + t)
            .await
            .unwrap();
        assert!(keys.has_kid("r1"));
    }
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 3);
    // Past the cache's lifetime, nothing is held any more.
    assert!(
        cache
            .issuer_keys(ISSUER, Some("r1"), NOW + 3600)
            .await
            .is_err()
    );
}

#[test]
fn rsa_keys_are_measured_to_the_bit() {
    // The rsa1 modulus with its top bit cleared is a 2047-bit number: refused, though 256 bytes long.
    let mut jwk = rsa_jwk("rsa1", "r1");
    let mut n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    n[0] &= 0x7f;
    jwk["n"] = json!(b64(&n));
    let doc = json!({"keys": [jwk]}).to_string();
    assert!(KeySet::from_jwks(doc.as_bytes()).is_err());
}

/// Without SNOWGATE_ALLOW_PRIVATE_ISSUERS the HTTPS fetcher does not even connect to a loopback
/// issuer, named by address or by a name resolving to one (SSRF); with it, it does.
#[tokio::test]
async fn the_https_fetcher_refuses_private_addresses_unless_allowed() {
    use snowgate::domain::jwks::JwksFetcher;
    use snowgate::jwks_http::HttpsJwksFetcher;
    use std::sync::atomic::AtomicUsize;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    // Every connection is counted and closed at once: a fetch that connected fails fast.
    let server = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    let refused = HttpsJwksFetcher::new(None, false).unwrap();
    for host in ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "[::1]"] {
        let url = format!("https://{host}:{port}/keys");
        assert_eq!(
            refused.fetch(&url).await,
            Err(FetchError::Unreachable),
            "{url}"
        );
        assert_eq!(
            connections.load(Ordering::SeqCst),
            0,
            "{url} was connected to"
        );
    }
    let allowed = HttpsJwksFetcher::new(None, true).unwrap();
    let url = format!("https://127.0.0.1:{port}/keys");
    assert!(allowed.fetch(&url).await.is_err());
    assert_eq!(connections.load(Ordering::SeqCst), 1);
    server.abort();
}
