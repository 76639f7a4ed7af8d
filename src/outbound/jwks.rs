//! The HTTPS fetcher behind [`crate::domain::jwks::JwksFetcher`]: rustls with the system roots plus an
//! optional extra CA bundle (`SNOWGATE_EXTRA_CA_FILE`, e.g. a private issuer's CA or a test CA), HTTPS
//! only, a bounded time and body, and no redirects at all (a key URL that moves is refused, so keys can
//! never come from a host other than the one configured).
//!
//! Issuer and key URLs are named by whoever declares an integration or a workload identity, so the
//! fetcher must not become a way into the network snowgate runs in (SSRF): unless
//! `SNOWGATE_ALLOW_PRIVATE_ISSUERS` is set, a host that is, or resolves to, a loopback, private,
//! link-local or otherwise non-public address is refused. The check is on the addresses the
//! connection is made to: the host is resolved once, every address it has must be public, and only
//! those checked addresses are connected to (a name cannot resolve to a public address for the check
//! and a private one for the connection).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::domain::jwks::{FetchError, JwksFetcher, MAX_DOCUMENT_BYTES};

/// The whole fetch (connect, TLS, request, body) must finish within this.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest URL fetched.
const MAX_URL_BYTES: usize = 2048;

pub struct HttpsJwksFetcher {
    client: Client<HttpsConnector<HttpConnector<PublicResolver>>, Empty<Bytes>>,
    allow_private: bool,
}

/// Ranges no issuer is fetched from unless private issuers are allowed: this host, private networks,
/// link-local (cloud metadata at 169.254.169.254), shared, reserved and other non-public space.
const NON_PUBLIC: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "64:ff9b::/96",
    "64:ff9b:1::/48",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
];

/// Whether `ip` is outside the public Internet (an IPv4-mapped IPv6 address counts as its IPv4 one).
pub fn is_non_public(ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    NON_PUBLIC
        .iter()
        .filter_map(|net| net.parse::<ipnet::IpNet>().ok())
        .any(|net| net.contains(&ip))
}

/// Resolves a host for the connector, and refuses it when any of its addresses is not public: the
/// connector then connects only to the addresses returned, all checked.
#[derive(Clone)]
struct PublicResolver {
    allow_private: bool,
}

impl tower::Service<Name> for PublicResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if !allow_private && addrs.iter().any(|a| is_non_public(a.ip())) {
                tracing::warn!(
                    host = name.as_str(),
                    "refused to fetch from a host with a private address (SNOWGATE_ALLOW_PRIVATE_ISSUERS is not set)"
                );
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "the host has a private address",
                ));
            }
            Ok(addrs.into_iter())
        })
    }
}

impl HttpsJwksFetcher {
    /// A fetcher trusting the system roots and, if given, every certificate in the PEM file `extra_ca`;
    /// it fetches from hosts with private addresses only if `allow_private`.
    pub fn new(
        extra_ca: Option<&std::path::Path>,
        allow_private: bool,
    ) -> Result<HttpsJwksFetcher, String> {
        let tls = tls_config(extra_ca)?;
        let mut http = HttpConnector::new_with_resolver(PublicResolver { allow_private });
        // The TLS layer around it refuses anything but https.
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .wrap_connector(http);
        Ok(HttpsJwksFetcher {
            client: Client::builder(TokioExecutor::new()).build(connector),
            allow_private,
        })
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let uri: http::Uri = url.parse().map_err(|_| FetchError::Unreachable)?;
        if uri.scheme_str() != Some("https") {
            return Err(FetchError::Unreachable);
        }
        // An address as the host is connected to without resolving: checked here.
        let literal = uri
            .host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .and_then(|h| h.parse::<IpAddr>().ok());
        if let Some(ip) = literal
            && !self.allow_private
            && is_non_public(ip)
        {
            tracing::warn!(
                %ip,
                "refused to fetch from a private address (SNOWGATE_ALLOW_PRIVATE_ISSUERS is not set)"
            );
            return Err(FetchError::Unreachable);
        }
        let response = self
            .client
            .get(uri)
            .await
            .map_err(|_| FetchError::Unreachable)?;
        // Anything but 200 (redirects included) is a failure: keys come only from the URL named.
        if response.status() != http::StatusCode::OK {
            return Err(FetchError::Unreachable);
        }
        let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
            .collect()
            .await
            .map_err(|_| FetchError::Malformed)?;
        Ok(body.to_bytes().to_vec())
    }
}

/// The TLS set-up of every outbound client: the system roots and, if given, every certificate in the
/// PEM file `extra_ca` (`SNOWGATE_EXTRA_CA_FILE`).
pub(super) fn tls_config(
    extra_ca: Option<&std::path::Path>,
) -> Result<rustls::ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    // Unreadable system certificates are skipped: an extra CA alone must still work.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = extra_ca {
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("the CA file {} is not PEM: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!(
                "the CA file {} holds no certificate",
                path.display()
            ));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("a certificate in {} is invalid: {e}", path.display()))?;
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(
        rustls::crypto::aws_lc_rs::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tls)
}

#[async_trait]
impl JwksFetcher for HttpsJwksFetcher {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        if url.len() > MAX_URL_BYTES {
            return Err(FetchError::Unreachable);
        }
        let result = tokio::time::timeout(FETCH_TIMEOUT, self.get(url))
            .await
            .unwrap_or(Err(FetchError::Unreachable));
        if result.is_err() {
            // The URL is configuration (an issuer's key address), not a secret.
            tracing::warn!(url, "fetching a JSON Web Key Set failed");
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::is_non_public;

    #[test]
    fn loopback_private_link_local_and_mapped_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "127.1.2.3",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(is_non_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "172.32.0.1",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_non_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
