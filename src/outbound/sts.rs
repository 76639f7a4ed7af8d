//! Replaying a checked workload identity attestation to AWS STS (`GetCallerIdentity`). One small
//! HTTPS client: a short timeout, no redirects followed, the answer read up to a bound. With
//! `SNOWGATE_STS_ENDPOINT` set, every attestation goes there instead of the host it was signed for
//! (tests point it at moto; a VPC endpoint works too).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::domain::wif_aws::{CallerIdentity, QUERY, SignedRequest, arn_of};
use crate::error::{Error, Result};

/// STS answers in well under a second; a login waits no longer than this.
const TIMEOUT: Duration = Duration::from_secs(5);
/// A GetCallerIdentityResponse is a few hundred bytes.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

pub struct Sts {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    /// `scheme://host[:port]` used for every attestation; `None`: the host it was signed for.
    endpoint: Option<String>,
}

impl Sts {
    pub fn new(endpoint: Option<String>) -> Result<Self> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| Error::Internal(format!("TLS roots for STS: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(https);
        Ok(Self {
            client,
            endpoint: endpoint.map(|e| e.trim_end_matches('/').to_string()),
        })
    }

    fn uri(&self, request: &SignedRequest) -> String {
        match &self.endpoint {
            Some(base) => format!("{base}/?{QUERY}"),
            None => format!("https://{}/?{QUERY}", request.host),
        }
    }

    async fn send(&self, request: &SignedRequest) -> Result<Option<String>> {
        let mut builder = http::Request::post(self.uri(request));
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let outgoing = builder
            .body(Empty::new())
            .map_err(|_| Error::BadRequest("The attestation's headers are not valid.".into()))?;
        let answer = self
            .client
            .request(outgoing)
            .await
            .map_err(|e| Error::Unavailable(format!("STS unreachable: {e}")))?;
        let status = answer.status();
        if status.is_server_error() {
            return Err(Error::Unavailable(format!("STS answered {status}")));
        }
        if !status.is_success() {
            tracing::info!(%status, "STS refused a workload identity attestation");
            return Ok(None);
        }
        let body = Limited::new(answer.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|_| Error::Unavailable("STS answer unreadable or too long".into()))?
            .to_bytes();
        Ok(arn_of(&String::from_utf8_lossy(&body)).map(str::to_string))
    }
}

#[async_trait]
impl CallerIdentity for Sts {
    async fn caller_arn(&self, request: &SignedRequest) -> Result<Option<String>> {
        tokio::time::timeout(TIMEOUT, self.send(request))
            .await
            .map_err(|_| Error::Unavailable("STS did not answer in time".into()))?
    }
}
