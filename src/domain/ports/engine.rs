//! The query engine behind snowgate (Embucket, fakesnow's server, anything speaking Snowflake's
//! REST wire), as the domain needs it: open and close an engine session for a snowgate session,
//! and forward a statement, a result fetch, a status or an abort. What comes back is opaque to the
//! domain (a status and a body, given to the client as the engine sent them) plus the session
//! context the engine reports after the statement, so the domain never reads the engine's JSON.
//! `crate::outbound::engine` implements it over HTTP.

use async_trait::async_trait;
use secrecy::SecretString;

use crate::domain::session::SessionContext;

/// Whom a forwarded request is for: the snowgate session and where it stands.
#[derive(Debug, Clone, Copy)]
pub struct EngineSession<'a> {
    pub session_id: u64,
    /// The user's name, as `CURRENT_USER()` shows it in snowgate.
    pub user: &'a str,
    pub account: &'a str,
    pub context: &'a SessionContext,
    /// The driver that opened the session (`CLIENT_APP_ID`).
    pub client_app: Option<&'a str>,
}

/// What is forwarded. Bodies are the client's (decompressed), query strings the client's raw
/// query (`requestId`, `retryCount`, `request_guid`), both bounded by the front door's limits.
#[derive(Debug, Clone, Copy)]
pub enum EngineCall<'a> {
    /// `POST /queries/v1/query-request`.
    Statement { query: &'a str, body: &'a [u8] },
    /// `GET /queries/{id}/result`: the result of an earlier (asynchronous) statement.
    Result { query_id: &'a str },
    /// `GET /monitoring/queries/{id}`.
    Status { query_id: &'a str },
    /// `POST /queries/v1/abort-request`.
    Abort { query: &'a str, body: &'a [u8] },
}

/// The engine's answer, passed through: its HTTP status and body, bounded by the configured limit.
pub struct EngineAnswer {
    pub status: u16,
    pub body: Vec<u8>,
    /// Whether the engine said the request succeeded (`success: true`).
    pub success: bool,
    /// The context the engine reports after the statement (`finalDatabaseName` …); `None` fields
    /// are the ones it did not report.
    pub context: EngineContext,
}

impl std::fmt::Debug for EngineAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineAnswer")
            .field("status", &self.status)
            .field("bytes", &self.body.len())
            .field("success", &self.success)
            .field("context", &self.context)
            .finish()
    }
}

/// The session context as an engine answer reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineContext {
    pub database: Option<String>,
    pub schema: Option<String>,
    pub warehouse: Option<String>,
    pub role: Option<String>,
}

/// Why a call to the engine failed. No variant carries a token or an answer body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// Nothing reached the engine (connection refused, no route, DNS): safe to retry.
    #[error("the engine is unreachable: {0}")]
    Unreachable(String),
    /// The request was sent but no complete answer came (timeout, connection broken): the
    /// statement may have run, so it must not be sent again.
    #[error("the engine did not answer: {0}")]
    NoAnswer(String),
    /// The engine does not know the session token (it restarted, or ended the session): the
    /// statement did not run.
    #[error("the engine does not know this session")]
    SessionUnknown,
    /// The answer was larger than the configured limit.
    #[error("the engine's answer is over {limit} bytes")]
    TooLarge { limit: usize },
    /// The engine refused snowgate's own login (a wrong service credential).
    #[error("the engine refused the login: {0}")]
    LoginRefused(String),
    /// The engine answered something that is not its protocol (a 5xx at login, not JSON).
    #[error("the engine answered badly: {0}")]
    BadAnswer(String),
}

#[async_trait]
pub trait QueryEngine: Send + Sync {
    /// Whether each snowgate session needs an engine session of its own ([`QueryEngine::open`]),
    /// kept sealed with the session; `false` when every request carries its own credential.
    fn opens_sessions(&self) -> bool;

    /// Opens an engine session for `session`, in its current context: the engine's session token.
    async fn open(&self, session: &EngineSession<'_>) -> Result<SecretString, EngineError>;

    /// Ends the engine session of `token` (a logout).
    async fn close(&self, token: &SecretString) -> Result<(), EngineError>;

    /// Sends `call` for `session`, with its engine token when the engine opens sessions.
    async fn forward(
        &self,
        session: &EngineSession<'_>,
        token: Option<&SecretString>,
        call: EngineCall<'_>,
    ) -> Result<EngineAnswer, EngineError>;
}
