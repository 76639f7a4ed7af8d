//! The AWS workload identity attestation: a SigV4-signed, never sent, STS `GetCallerIdentity`
//! request (base64 JSON `{url, method, headers}`). It is checked here before anything is sent, so
//! that the login endpoint can only ever replay a genuine, fresh, Snowflake-bound request to STS
//! (never relay to another host); STS then tells who signed it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::error::Result;

/// Longest TOKEN accepted, as the login body's limit (an attestation with a session token is
/// about 1.5 KB).
pub const MAX_TOKEN_CHARS: usize = 8_192;
/// Most headers an attestation may carry (drivers send five).
pub const MAX_HEADERS: usize = 16;
/// Longest header name and value.
const MAX_HEADER_NAME: usize = 64;
const MAX_HEADER_VALUE: usize = 8_192;
/// How far X-Amz-Date may be from now, either way (what STS itself allows).
pub const MAX_SKEW_SECONDS: u64 = 15 * 60;
/// The audience every Snowflake attestation is signed for.
pub const AUDIENCE: &str = "snowflakecomputing.com";
/// The only query STS may be asked.
pub const QUERY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
/// Signatures remembered (per instance) to refuse a second use of one attestation.
pub const MAX_REMEMBERED: usize = 100_000;

#[derive(Deserialize)]
struct Raw {
    url: String,
    method: String,
    headers: HashMap<String, String>,
}

/// An attestation that passed every check that needs no network: ready to be replayed to `host`.
pub struct SignedRequest {
    /// The STS host it was signed for (lower-case).
    pub host: String,
    /// As sent by the client (names as written), Host included.
    pub headers: Vec<(String, String)>,
    /// The SigV4 signature: the replay cache's key.
    pub signature: String,
    /// Epoch seconds of X-Amz-Date.
    pub signed_at: u64,
}

impl std::fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedRequest")
            .field("host", &self.host)
            .finish()
    }
}

/// Why an attestation was refused, for the log (never containing the token or a signature).
pub type Refusal = &'static str;

/// Decodes and checks `token`. `extra_host`: one more STS host allowed (the configured endpoint's).
pub fn check(
    token: &str,
    now: u64,
    extra_host: Option<&str>,
) -> std::result::Result<SignedRequest, Refusal> {
    if token.len() > MAX_TOKEN_CHARS {
        return Err("attestation too long");
    }
    let bytes = STANDARD
        .decode(token.trim())
        .map_err(|_| "attestation is not base64")?;
    let raw: Raw =
        serde_json::from_slice(&bytes).map_err(|_| "attestation is not the JSON expected")?;
    if raw.headers.len() > MAX_HEADERS {
        return Err("too many headers");
    }
    if raw
        .headers
        .iter()
        .any(|(k, v)| k.len() > MAX_HEADER_NAME || v.len() > MAX_HEADER_VALUE)
    {
        return Err("header too long");
    }
    if raw.method != "POST" {
        return Err("method is not POST");
    }
    let host = url_host(&raw.url).ok_or("url is not STS GetCallerIdentity")?;
    if !sts_host(&host) && extra_host.is_none_or(|h| !h.eq_ignore_ascii_case(&host)) {
        return Err("host is not an STS endpoint");
    }
    let headers = Headers::of(&raw.headers)?;
    if !headers.get("host")?.eq_ignore_ascii_case(&host) {
        return Err("Host header differs from the url");
    }
    if headers.get("x-snowflake-audience")? != AUDIENCE {
        return Err("audience is not snowflakecomputing.com");
    }
    let auth = Authorization::parse(headers.get("authorization")?)?;
    for needed in ["host", "x-amz-date", "x-snowflake-audience"] {
        if !auth.signed_headers.split(';').any(|h| h == needed) {
            return Err("a required header is not signed");
        }
    }
    let signed_at = amz_date(headers.get("x-amz-date")?).ok_or("X-Amz-Date is malformed")?;
    if signed_at.abs_diff(now) > MAX_SKEW_SECONDS {
        return Err("X-Amz-Date is not within 15 minutes");
    }
    let signature = auth.signature.to_string();
    Ok(SignedRequest {
        host,
        headers: raw.headers.into_iter().collect(),
        signature,
        signed_at,
    })
}

/// The lower-case host of `https://<host>/?<QUERY>` (the Go driver leaves out the `/`); `None` for
/// any other URL.
fn url_host(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let (host, query) = rest.split_once('?')?;
    let host = host.strip_suffix('/').unwrap_or(host);
    let plain = !host.is_empty() && !host.contains(['/', '@', '#']);
    (query == QUERY && plain).then(|| host.to_ascii_lowercase())
}

/// `sts.amazonaws.com`, `sts.<region>.amazonaws.com` or `sts.<region>.amazonaws.com.cn`.
pub fn sts_host(host: &str) -> bool {
    if host == "sts.amazonaws.com" {
        return true;
    }
    let region = host
        .strip_prefix("sts.")
        .and_then(|h| {
            h.strip_suffix(".amazonaws.com")
                .or_else(|| h.strip_suffix(".amazonaws.com.cn"))
        })
        .unwrap_or("");
    !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Header lookup by lower-case name; a name given twice (in different cases) is refused.
struct Headers<'a>(HashMap<String, &'a str>);

impl<'a> Headers<'a> {
    fn of(raw: &'a HashMap<String, String>) -> std::result::Result<Self, Refusal> {
        let mut map = HashMap::new();
        for (k, v) in raw {
            if map.insert(k.to_ascii_lowercase(), v.as_str()).is_some() {
                return Err("a header is given twice");
            }
        }
        Ok(Self(map))
    }

    fn get(&self, name: &'static str) -> std::result::Result<&'a str, Refusal> {
        self.0.get(name).copied().ok_or(match name {
            "host" => "Host header missing",
            "x-snowflake-audience" => "X-Snowflake-Audience header missing",
            "authorization" => "Authorization header missing",
            _ => "X-Amz-Date header missing",
        })
    }
}

struct Authorization<'a> {
    signed_headers: &'a str,
    signature: &'a str,
}

impl<'a> Authorization<'a> {
    /// `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/sts/aws4_request, SignedHeaders=…,
    /// Signature=<64 hex>`.
    fn parse(value: &'a str) -> std::result::Result<Self, Refusal> {
        let bad = "Authorization is not SigV4 for STS";
        let fields = value.strip_prefix("AWS4-HMAC-SHA256 ").ok_or(bad)?;
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for field in fields.split(',').map(str::trim) {
            match field.split_once('=') {
                Some(("Credential", v)) => credential = Some(v),
                Some(("SignedHeaders", v)) => signed_headers = Some(v),
                Some(("Signature", v)) => signature = Some(v),
                _ => return Err(bad),
            }
        }
        let scope: Vec<&str> = credential.ok_or(bad)?.split('/').collect();
        if scope.len() != 5 || scope[3] != "sts" || scope[4] != "aws4_request" {
            return Err(bad);
        }
        let signature = signature.ok_or(bad)?;
        if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad);
        }
        Ok(Self {
            signed_headers: signed_headers.ok_or(bad)?,
            signature,
        })
    }
}

/// `20261130T144919Z` as epoch seconds.
fn amz_date(text: &str) -> Option<u64> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let date = time::PrimitiveDateTime::parse(text, &format).ok()?;
    u64::try_from(date.assume_utc().unix_timestamp()).ok()
}

/// Sends a checked attestation to STS.
#[async_trait]
pub trait CallerIdentity: Send + Sync {
    /// The `<Arn>` STS answers; `Ok(None)` when STS refuses the request (bad or expired
    /// signature), `Err` (unavailable) when STS cannot be reached.
    async fn caller_arn(&self, request: &SignedRequest) -> Result<Option<String>>;
}

/// Without an STS client (tests that never log in this way): every attestation is unverifiable.
pub struct NoSts;

#[async_trait]
impl CallerIdentity for NoSts {
    async fn caller_arn(&self, _request: &SignedRequest) -> Result<Option<String>> {
        Err(crate::error::Error::Unavailable(
            "no STS client configured".into(),
        ))
    }
}

/// The `<Arn>` of a `GetCallerIdentityResponse`.
pub fn arn_of(xml: &str) -> Option<&str> {
    let start = xml.find("<Arn>")? + "<Arn>".len();
    let len = xml[start..].find("</Arn>")?;
    Some(xml[start..start + len].trim())
}

/// Attestation signatures STS accepted in the last [`MAX_SKEW_SECONDS`], and those being replayed
/// now (per instance: another instance does not see them; STS itself accepts a signed request for
/// 15 minutes). A signature is only kept once STS accepted it: a forged attestation, or a genuine
/// one STS could not answer, leaves nothing behind, so neither fills the cache nor spends a genuine
/// attestation a client retries.
#[derive(Default)]
pub struct ReplayCache {
    seen: Mutex<HashMap<String, Seen>>,
}

struct Seen {
    until: u64,
    /// Being replayed to STS now: a second use waits for nothing and is refused.
    pending: bool,
}

/// A signature held while its attestation is replayed; dropped without [`Reservation::keep`] (STS
/// refused, STS unreachable, the request abandoned), the signature is free again.
pub struct Reservation<'a> {
    cache: &'a ReplayCache,
    signature: String,
    kept: bool,
}

impl ReplayCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Seen>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Holds `signature` until `expires_at` while it is replayed; `None` if it is held or was
    /// accepted already (a replay, or two uses at once), or if the cache is full of live
    /// signatures (refused rather than forgetting one).
    pub fn reserve(&self, signature: &str, expires_at: u64, now: u64) -> Option<Reservation<'_>> {
        let mut seen = self.lock();
        if seen.get(signature).is_some_and(|s| s.until > now) {
            return None;
        }
        if seen.len() >= MAX_REMEMBERED {
            seen.retain(|_, s| s.until > now || s.pending);
            if seen.len() >= MAX_REMEMBERED {
                return None;
            }
        }
        let entry = Seen {
            until: expires_at,
            pending: true,
        };
        seen.insert(signature.to_string(), entry);
        Some(Reservation {
            cache: self,
            signature: signature.to_string(),
            kept: false,
        })
    }

    /// How many signatures are held or remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

impl Reservation<'_> {
    /// STS accepted the attestation: its signature stays used until it expires.
    pub fn keep(mut self) {
        if let Some(s) = self.cache.lock().get_mut(&self.signature) {
            s.pending = false;
        }
        self.kept = true;
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.kept {
            self.cache.lock().remove(&self.signature);
        }
    }
}

/// STS calls one client may start at once ([`STS_BURST`]), and how soon it may make one more
/// ([`STS_REFILL_SECONDS`]): each replay costs a call to AWS, so a client sending forged or
/// stolen-and-spent attestations in a loop is stopped here, not by STS's own throttling (which
/// would refuse everyone's logins).
pub const STS_BURST: u32 = 30;
/// One more STS call per client every this many seconds (30 a minute sustained: workloads behind
/// one NAT address share it).
pub const STS_REFILL_SECONDS: u64 = 2;
/// Clients tracked (per instance); when all are busy, a new client is refused until one refills.
pub const MAX_STS_CLIENTS: usize = 10_000;

/// Per-client token buckets for STS replays. A client is its IP address, an IPv6 address by its
/// /64 (one host usually holds a whole /64); a request without an address shares one bucket.
#[derive(Default)]
pub struct StsBudget {
    buckets: Mutex<HashMap<Option<IpAddr>, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: u32,
    /// Epoch seconds the tokens were last counted at.
    at: u64,
}

impl Bucket {
    /// The bucket as it stands at `now`.
    fn at(self, now: u64) -> Bucket {
        let back = now.saturating_sub(self.at) / STS_REFILL_SECONDS;
        let tokens = u64::from(self.tokens).saturating_add(back);
        match tokens >= u64::from(STS_BURST) {
            true => Bucket {
                tokens: STS_BURST,
                at: now,
            },
            false => Bucket {
                tokens: tokens as u32,
                at: self.at + back * STS_REFILL_SECONDS,
            },
        }
    }
}

impl StsBudget {
    /// Takes one STS call for `client` at `now`; `Err(seconds)` until the next one is allowed.
    pub fn take(&self, client: Option<IpAddr>, now: u64) -> std::result::Result<(), u64> {
        let key = client.map(client_key);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if !buckets.contains_key(&key) && buckets.len() >= MAX_STS_CLIENTS {
            // A full bucket is the same as none: forget those.
            buckets.retain(|_, b| b.at(now).tokens < STS_BURST);
            if buckets.len() >= MAX_STS_CLIENTS {
                return Err(STS_REFILL_SECONDS);
            }
        }
        let full = Bucket {
            tokens: STS_BURST,
            at: now,
        };
        let bucket = buckets.get(&key).map_or(full, |b| b.at(now));
        if bucket.tokens == 0 {
            buckets.insert(key, bucket);
            return Err((bucket.at + STS_REFILL_SECONDS).saturating_sub(now).max(1));
        }
        buckets.insert(
            key,
            Bucket {
                tokens: bucket.tokens - 1,
                ..bucket
            },
        );
        Ok(())
    }
}

/// The address a client is counted under: an IPv6 address by its /64 (an IPv4-mapped one as IPv4).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(prefix))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sts_hosts_only() {
        for ok in [
            "sts.amazonaws.com",
            "sts.us-east-1.amazonaws.com",
            "sts.cn-north-1.amazonaws.com.cn",
        ] {
            assert!(sts_host(ok), "{ok}");
        }
        for bad in [
            "evil.com",
            "sts.amazonaws.com.evil.com",
            "sts..amazonaws.com",
            "sts.us-east-1.amazonaws.com:8080",
            "sts.a.b.amazonaws.com",
            "xsts.us-east-1.amazonaws.com",
            "sts.US-EAST-1.amazonaws.com",
        ] {
            assert!(!sts_host(bad), "{bad}");
        }
    }

    #[test]
    fn urls_of_every_driver() {
        let host = Some("sts.us-east-1.amazonaws.com".to_string());
        let q = "?Action=GetCallerIdentity&Version=2011-06-15";
        assert_eq!(
            url_host(&format!("https://sts.us-east-1.amazonaws.com/{q}")),
            host
        );
        assert_eq!(
            url_host(&format!("https://STS.us-east-1.amazonaws.com{q}")),
            host
        );
        for bad in [
            format!("https://sts.amazonaws.com/x{q}"),
            format!("https://user@sts.amazonaws.com/{q}"),
            format!("http://sts.amazonaws.com/{q}"),
            format!("https://sts.amazonaws.com/{q}&x=1"),
            format!("https:///{q}"),
        ] {
            assert_eq!(url_host(&bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_and_arns() {
        assert_eq!(amz_date("19700101T000100Z"), Some(60));
        assert_eq!(amz_date("2026-11-30"), None);
        assert_eq!(
            arn_of("<R><Arn> arn:aws:sts::1:assumed-role/a/b </Arn></R>"),
            Some("arn:aws:sts::1:assumed-role/a/b")
        );
        assert_eq!(arn_of("<Arn>unterminated"), None);
    }

    #[test]
    fn a_signature_is_used_once_while_live() {
        let cache = ReplayCache::default();
        cache.reserve("s", 100, 10).unwrap().keep();
        assert!(cache.reserve("s", 100, 50).is_none());
        cache.reserve("s", 200, 100).unwrap().keep();
    }

    #[test]
    fn a_signature_is_only_kept_once_accepted() {
        let cache = ReplayCache::default();
        let first = cache.reserve("s", 100, 10).unwrap();
        // While it is replayed, a second use of the same attestation is refused.
        assert!(cache.reserve("s", 100, 10).is_none());
        // STS refused it or could not answer: it is free again and nothing is remembered.
        drop(first);
        assert_eq!(cache.len(), 0);
        cache.reserve("s", 100, 11).unwrap().keep();
        assert!(cache.reserve("s", 100, 12).is_none());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn each_client_has_a_bucket_of_sts_calls() {
        let budget = StsBudget::default();
        let a: IpAddr = "203.0.113.1".parse().unwrap();
        let b: IpAddr = "203.0.113.2".parse().unwrap();
        for _ in 0..STS_BURST {
            assert_eq!(budget.take(Some(a), 100), Ok(()));
        }
        assert_eq!(budget.take(Some(a), 100), Err(STS_REFILL_SECONDS));
        // Another client is not affected.
        assert_eq!(budget.take(Some(b), 100), Ok(()));
        // One call comes back per refill period, no more.
        assert_eq!(budget.take(Some(a), 100 + STS_REFILL_SECONDS), Ok(()));
        assert!(budget.take(Some(a), 100 + STS_REFILL_SECONDS).is_err());
        // After long enough, the whole burst.
        let later = 100 + STS_REFILL_SECONDS * u64::from(STS_BURST) * 3;
        for _ in 0..STS_BURST {
            assert_eq!(budget.take(Some(a), later), Ok(()));
        }
        assert!(budget.take(Some(a), later).is_err());
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(one), client_key(same));
        assert_ne!(client_key(one), client_key(other));
        let mapped: IpAddr = "::ffff:203.0.113.1".parse().unwrap();
        assert_eq!(client_key(mapped), "203.0.113.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_client_table_is_bounded() {
        let budget = StsBudget::default();
        for i in 0..MAX_STS_CLIENTS as u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(i));
            assert_eq!(budget.take(Some(ip), 100), Ok(()));
        }
        let newcomer = IpAddr::V4(std::net::Ipv4Addr::from(u32::MAX));
        // Every tracked client has spent a call: a new one waits.
        assert!(budget.take(Some(newcomer), 100).is_err());
        // Once they have refilled they are forgotten, and the newcomer gets its bucket.
        assert_eq!(
            budget.take(Some(newcomer), 100 + STS_REFILL_SECONDS),
            Ok(())
        );
        assert!(budget.buckets.lock().unwrap().len() <= MAX_STS_CLIENTS);
    }
}
