//! The outbound HTTPS clients (STS for AWS workload identity, issuers' key sets for OIDC and OAuth),
//! built on first use: loading the system's TLS roots takes milliseconds that every cold start would
//! otherwise pay before its first answer, although most deployments never make such a call. Not even
//! warmed in the background: on a small machine that work would still delay the first answer.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::OnceCell;

use secrecy::SecretString;

use super::{engine, jwks, sts};
use crate::domain::jwks::{FetchError, JwksFetcher};
use crate::domain::ports::engine::{
    EngineAnswer, EngineCall, EngineError, EngineSession, QueryEngine,
};
use crate::domain::wif_aws::{CallerIdentity, SignedRequest};
use crate::error::{Error, Result};

/// A client made by `build` on first use (on a blocking thread: it reads certificate files).
pub struct Lazy<T> {
    cell: OnceCell<std::result::Result<Arc<T>, String>>,
    build: Arc<dyn Fn() -> std::result::Result<T, String> + Send + Sync>,
}

impl<T: Send + Sync + 'static> Lazy<T> {
    pub fn new(
        build: impl Fn() -> std::result::Result<T, String> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            cell: OnceCell::new(),
            build: Arc::new(build),
        })
    }

    /// The client, or why there is none (logged once, when it was first asked for).
    pub async fn get(&self) -> std::result::Result<Arc<T>, String> {
        self.cell
            .get_or_init(|| async {
                let build = Arc::clone(&self.build);
                let made = match tokio::task::spawn_blocking(move || build()).await {
                    Ok(made) => made.map(Arc::new),
                    Err(e) => Err(format!("the build task failed: {e}")),
                };
                if let Err(reason) = &made {
                    tracing::error!(%reason, "an outbound HTTPS client could not be built");
                }
                made
            })
            .await
            .clone()
    }
}

#[async_trait]
impl JwksFetcher for Lazy<jwks::HttpsJwksFetcher> {
    async fn fetch(&self, url: &str) -> std::result::Result<Vec<u8>, FetchError> {
        match self.get().await {
            Ok(fetcher) => fetcher.fetch(url).await,
            Err(_) => Err(FetchError::Unreachable),
        }
    }
}

#[async_trait]
impl CallerIdentity for Lazy<sts::Sts> {
    async fn caller_arn(&self, request: &SignedRequest) -> Result<Option<String>> {
        match self.get().await {
            Ok(sts) => sts.caller_arn(request).await,
            Err(reason) => Err(Error::Unavailable(format!("no STS client: {reason}"))),
        }
    }
}

/// The query engine client, built on first use like the others; whether it opens engine sessions is
/// known from the configuration before that.
pub struct LazyEngine {
    pub opens_sessions: bool,
    pub engine: Arc<Lazy<engine::HttpEngine>>,
}

impl LazyEngine {
    async fn get(&self) -> std::result::Result<Arc<engine::HttpEngine>, EngineError> {
        self.engine
            .get()
            .await
            .map_err(|reason| EngineError::Unreachable(format!("no engine client: {reason}")))
    }
}

#[async_trait]
impl QueryEngine for LazyEngine {
    fn opens_sessions(&self) -> bool {
        self.opens_sessions
    }

    async fn open(
        &self,
        session: &EngineSession<'_>,
    ) -> std::result::Result<SecretString, EngineError> {
        self.get().await?.open(session).await
    }

    async fn close(&self, token: &SecretString) -> std::result::Result<(), EngineError> {
        self.get().await?.close(token).await
    }

    async fn forward(
        &self,
        session: &EngineSession<'_>,
        token: Option<&SecretString>,
        call: EngineCall<'_>,
    ) -> std::result::Result<EngineAnswer, EngineError> {
        self.get().await?.forward(session, token, call).await
    }
}
