//! The AWS workload identity attestation: a SigV4-signed, never sent, STS `GetCallerIdentity`
//! request (base64 JSON `{url, method, headers}`). It is checked here before anything is sent, so
//! that the login endpoint can only ever replay a genuine, fresh, Snowflake-bound request to STS
//! (never relay to another host); STS then tells who signed it.

use std::collections::HashMap;
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

/// Attestation signatures seen in the last [`MAX_SKEW_SECONDS`] (per instance: another instance
/// does not see them; STS itself accepts a signed request for 15 minutes).
#[derive(Default)]
pub struct ReplayCache {
    seen: Mutex<HashMap<String, u64>>,
}

impl ReplayCache {
    /// Records `signature` until `expires_at`; `false` if it was already seen (a replay) or the
    /// cache is full of live signatures (refused rather than forgetting one).
    pub fn first_use(&self, signature: &str, expires_at: u64, now: u64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.get(signature).is_some_and(|&until| until > now) {
            return false;
        }
        if seen.len() >= MAX_REMEMBERED {
            seen.retain(|_, until| *until > now);
            if seen.len() >= MAX_REMEMBERED {
                return false;
            }
        }
        seen.insert(signature.to_string(), expires_at);
        true
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
        assert!(cache.first_use("s", 100, 10));
        assert!(!cache.first_use("s", 100, 50));
        assert!(cache.first_use("s", 200, 100));
    }
}
