//! The HTTPS fetcher behind [`crate::domain::jwks::JwksFetcher`]: rustls with the system roots plus an
//! optional extra CA bundle (`SNOWGATE_EXTRA_CA_FILE`, e.g. a private issuer's CA or a test CA), HTTPS
//! only, a bounded time and body, and no redirects at all (a key URL that moves is refused, so keys can
//! never come from a host other than the one configured).

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
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
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl HttpsJwksFetcher {
    /// A fetcher trusting the system roots and, if given, every certificate in the PEM file `extra_ca`.
    pub fn new(extra_ca: Option<&std::path::Path>) -> Result<HttpsJwksFetcher, String> {
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
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .build();
        Ok(HttpsJwksFetcher {
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let uri: http::Uri = url.parse().map_err(|_| FetchError::Unreachable)?;
        if uri.scheme_str() != Some("https") {
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
