//! The HTTP client behind the domain's [`QueryEngine`] port: a query engine that speaks Snowflake's
//! REST wire (fakesnow's server, Embucket), at `SNOWGATE_UPSTREAM_URL`. One pooled hyper client
//! (keep-alive connections, TLS set up once), bounded in time and in answer size.
//!
//! Two ways to be trusted by the engine:
//! - `login`: one engine session per snowgate session, opened with snowgate's service credential
//!   (the login body carries what both fakesnow and Embucket require); its token goes in
//!   `Authorization: Snowflake Token="…"` and nowhere else (never logged, never returned);
//! - `embucket-jwt`: no engine login; each request carries a short-lived HS256 token minted with the
//!   engine's signing secret, in the claim layout Embucket validates (`aud` = the Host sent).
//!
//! Failures keep their meaning: nothing sent is [`EngineError::Unreachable`] (retryable), sent but
//! unanswered is [`EngineError::NoAnswer`] (the statement may have run), a token the engine does not
//! know is [`EngineError::SessionUnknown`] (the statement did not run).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::domain::ports::engine::{
    EngineAnswer, EngineCall, EngineContext, EngineError, EngineSession, QueryEngine,
};
use crate::domain::ports::secrets::SecretSource;

/// How long a connection may take before the engine counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an idle pooled connection to the engine is kept.
const POOL_IDLE: Duration = Duration::from_secs(3);
/// Lifetime of a minted `embucket-jwt` token: one request, with room for clock skew.
pub const MINTED_TOKEN_SECONDS: u64 = 300;
/// The engine's login answer is small; a larger one is refused.
const MAX_LOGIN_ANSWER_BYTES: usize = 64 * 1024;
/// Codes an engine answers with HTTP 401 when it does not know the session token: fakesnow's
/// 390103/390104, Snowflake's 390111/390112, Embucket's 010001.
const SESSION_UNKNOWN_CODES: [&str; 5] = ["390103", "390104", "390111", "390112", "010001"];

/// How snowgate is trusted by the engine.
#[derive(Clone)]
pub enum EngineMode {
    /// One engine session per snowgate session, opened with this service credential. Without a
    /// login name, the snowgate user's name is sent (engines that check no password, as fakesnow).
    Login {
        login_name: Option<String>,
        password: SecretString,
    },
    /// Embucket's HS256 tokens, minted per request with its `JWT_SECRET`.
    EmbucketJwt { secret: SecretString },
}

#[derive(Clone)]
pub struct EngineSettings {
    /// The engine's base URL (`http` or `https`, no path beyond `/`, no query).
    pub url: Uri,
    pub mode: EngineMode,
    /// The largest answer passed to a client; larger ones are an error naming the limit.
    pub max_answer_bytes: usize,
    /// The longest a request to the engine may take, answer included.
    pub timeout: Duration,
    /// Extra CAs for an `https` engine (`SNOWGATE_EXTRA_CA_FILE`).
    pub extra_ca: Option<std::path::PathBuf>,
}

pub struct HttpEngine {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    base: String,
    /// The `Host` sent, also the `aud` of minted tokens.
    host: String,
    settings: EngineSettings,
    /// Where the service login's password may come from instead (`upstream_password`).
    secrets: Option<Arc<dyn SecretSource>>,
}

/// The few fields of an engine answer snowgate reads; the rest passes through untouched.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    code: Option<String>,
    #[serde(default, rename = "errorCode")]
    error_code: Option<String>,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Data {
    token: Option<String>,
    final_database_name: Option<String>,
    final_schema_name: Option<String>,
    final_warehouse_name: Option<String>,
    final_role_name: Option<String>,
}

/// The engine's answer as read from the wire, before it is judged.
struct Raw {
    status: StatusCode,
    body: Vec<u8>,
}

impl HttpEngine {
    /// The client for `settings` (run on a blocking thread: it reads certificate files).
    pub fn new(settings: EngineSettings) -> Result<Self, String> {
        let tls = super::jwks::tls_config(settings.extra_ca.as_deref())?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let host = settings
            .url
            .authority()
            .map(|a| a.as_str().to_string())
            .ok_or("the engine URL has no host")?;
        let base = settings.url.to_string().trim_end_matches('/').to_string();
        Ok(Self {
            // Below the shortest keep-alive of common engine servers (uvicorn's 5 s, fakesnow's):
            // a pooled connection the engine has closed would break a statement already sent,
            // which then "may have run".
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(POOL_IDLE)
                .build(connector),
            base,
            host,
            settings,
            secrets: None,
        })
    }

    /// Reads the service login's password from `secrets` when they hold `upstream_password`.
    pub fn with_secrets(self, secrets: Arc<dyn SecretSource>) -> Self {
        Self {
            secrets: Some(secrets),
            ..self
        }
    }

    /// Sends one request and reads the answer within the limits. `sent_is_safe`: the request has
    /// no effect if repeated (a login, a read), so a failure after sending is still "unreachable".
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        token: Option<&str>,
        body: Bytes,
        sent_is_safe: bool,
        limit: usize,
    ) -> Result<Raw, EngineError> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path_and_query}", self.base))
            .header(HOST, &self.host)
            .header(ACCEPT, "application/snowflake")
            .header(CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Snowflake Token=\"{token}\""));
        }
        let request = request
            .body(Full::new(body))
            .map_err(|_| EngineError::BadAnswer("the request could not be built".into()))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                if e.is_connect() || sent_is_safe {
                    EngineError::Unreachable(describe(&e))
                } else {
                    EngineError::NoAnswer(describe(&e))
                }
            })?;
            let status = response.status();
            let too_large = EngineError::TooLarge { limit };
            let body = Limited::new(response.into_body(), limit)
                .collect()
                .await
                .map_err(
                    |e| match e.downcast_ref::<http_body_util::LengthLimitError>() {
                        Some(_) => too_large.clone(),
                        None if sent_is_safe => {
                            EngineError::Unreachable("the answer broke off".into())
                        }
                        None => EngineError::NoAnswer("the answer broke off".into()),
                    },
                )?;
            Ok(Raw {
                status,
                body: body.to_bytes().to_vec(),
            })
        };
        match tokio::time::timeout(self.settings.timeout, exchange).await {
            Ok(result) => result,
            Err(_) if sent_is_safe => Err(EngineError::Unreachable("timed out".into())),
            Err(_) => Err(EngineError::NoAnswer(format!(
                "no answer within {} s",
                self.settings.timeout.as_secs()
            ))),
        }
    }

    /// The credential of one request: the engine session's token, or a freshly minted one.
    fn credential(
        &self,
        session: &EngineSession<'_>,
        token: Option<&SecretString>,
    ) -> Result<SecretString, EngineError> {
        match (&self.settings.mode, token) {
            (EngineMode::EmbucketJwt { secret }, _) => {
                mint_embucket_token(secret, &self.host, session, unix_now())
            }
            (EngineMode::Login { .. }, Some(token)) => Ok(token.clone()),
            (EngineMode::Login { .. }, None) => Err(EngineError::SessionUnknown),
        }
    }

    async fn call(
        &self,
        credential: &SecretString,
        call: EngineCall<'_>,
    ) -> Result<Raw, EngineError> {
        let token = Some(credential.expose_secret());
        let limit = self.settings.max_answer_bytes;
        match call {
            EngineCall::Statement { query, body } => {
                let path = with_query("/queries/v1/query-request", query);
                let body = Bytes::copy_from_slice(body);
                self.send(Method::POST, &path, token, body, false, limit)
                    .await
            }
            EngineCall::Abort { query, body } => {
                let path = with_query("/queries/v1/abort-request", query);
                let body = Bytes::copy_from_slice(body);
                self.send(Method::POST, &path, token, body, true, limit)
                    .await
            }
            EngineCall::Status { query_id } => {
                let path = format!("/monitoring/queries/{query_id}");
                self.send(Method::GET, &path, token, Bytes::new(), true, limit)
                    .await
            }
            EngineCall::Result { query_id } => {
                let path = format!("/queries/{query_id}/result");
                let raw = self
                    .send(Method::GET, &path, token, Bytes::new(), true, limit)
                    .await?;
                if raw.status != StatusCode::NOT_FOUND {
                    return Ok(raw);
                }
                // An engine without the route (fakesnow) keeps results for RESULT_SCAN. The id
                // was checked to be letters, digits and dashes, so it cannot leave the quotes.
                let sql = format!("select * from table(result_scan('{query_id}'))");
                let body = Bytes::from(json!({ "sqlText": sql }).to_string());
                self.send(
                    Method::POST,
                    "/queries/v1/query-request",
                    token,
                    body,
                    true,
                    limit,
                )
                .await
            }
        }
    }
}

#[async_trait]
impl QueryEngine for HttpEngine {
    fn opens_sessions(&self) -> bool {
        matches!(self.settings.mode, EngineMode::Login { .. })
    }

    async fn open(&self, session: &EngineSession<'_>) -> Result<SecretString, EngineError> {
        let EngineMode::Login {
            login_name,
            password,
        } = &self.settings.mode
        else {
            return Err(EngineError::BadAnswer(
                "this engine opens no sessions".into(),
            ));
        };
        let ctx = session.context;
        // Only what the session has, as drivers send it: an engine may read an empty name as one.
        let query = {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (name, value) in [
                ("databaseName", &ctx.database),
                ("schemaName", &ctx.schema),
                ("warehouse", &ctx.warehouse),
                ("roleName", &ctx.role),
            ] {
                if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                    query.append_pair(name, value);
                }
            }
            query.finish()
        };
        // The secret's `upstream_password`, when it holds one, else the configured password.
        let from_secret = self
            .secrets
            .as_ref()
            .and_then(|s| s.current().upstream_password.clone());
        let password = from_secret.as_ref().unwrap_or(password);
        let body = json!({ "data": {
            "ACCOUNT_NAME": session.account,
            "LOGIN_NAME": login_name.as_deref().unwrap_or(session.user),
            "PASSWORD": password.expose_secret(),
            "CLIENT_APP_ID": "snowgate",
            "CLIENT_APP_VERSION": env!("CARGO_PKG_VERSION"),
            "CLIENT_ENVIRONMENT": {},
            "SESSION_PARAMETERS": {},
        }});
        let path = format!("/session/v1/login-request?{query}");
        let raw = self
            .send(
                Method::POST,
                &path,
                None,
                Bytes::from(body.to_string()),
                true,
                MAX_LOGIN_ANSWER_BYTES,
            )
            .await
            .map_err(|e| match e {
                EngineError::TooLarge { .. } => {
                    EngineError::BadAnswer("login answer too large".into())
                }
                other => other,
            })?;
        let envelope: Option<Envelope> = serde_json::from_slice(&raw.body).ok();
        match envelope {
            Some(Envelope {
                success: true,
                data: Some(Data {
                    token: Some(token), ..
                }),
                ..
            }) if !token.is_empty() => Ok(SecretString::from(token)),
            Some(e) if raw.status.is_success() || raw.status.is_client_error() => {
                Err(EngineError::LoginRefused(format!(
                    "HTTP {}, code {}",
                    raw.status.as_u16(),
                    e.code.or(e.error_code).as_deref().unwrap_or("-")
                )))
            }
            _ => Err(EngineError::BadAnswer(format!(
                "login answered HTTP {} without a token",
                raw.status.as_u16()
            ))),
        }
    }

    async fn close(&self, token: &SecretString) -> Result<(), EngineError> {
        let raw = self
            .send(
                Method::POST,
                "/session?delete=true",
                Some(token.expose_secret()),
                Bytes::from_static(b"{}"),
                true,
                MAX_LOGIN_ANSWER_BYTES,
            )
            .await?;
        match raw.status.is_success() {
            true => Ok(()),
            false => Err(EngineError::BadAnswer(format!(
                "logout answered HTTP {}",
                raw.status.as_u16()
            ))),
        }
    }

    async fn forward(
        &self,
        session: &EngineSession<'_>,
        token: Option<&SecretString>,
        call: EngineCall<'_>,
    ) -> Result<EngineAnswer, EngineError> {
        let credential = self.credential(session, token)?;
        let raw = self.call(&credential, call).await?;
        let envelope: Option<Envelope> = serde_json::from_slice(&raw.body).ok();
        if raw.status == StatusCode::UNAUTHORIZED
            && envelope
                .as_ref()
                .and_then(|e| e.code.as_deref().or(e.error_code.as_deref()))
                .is_some_and(|code| SESSION_UNKNOWN_CODES.contains(&code))
        {
            return Err(EngineError::SessionUnknown);
        }
        let (success, data) = match envelope {
            Some(e) => (e.success, e.data.unwrap_or_default()),
            None => (false, Data::default()),
        };
        Ok(EngineAnswer {
            status: raw.status.as_u16(),
            body: raw.body,
            success,
            context: EngineContext {
                database: data.final_database_name,
                schema: data.final_schema_name,
                warehouse: data.final_warehouse_name,
                role: data.final_role_name,
            },
        })
    }
}

fn with_query(path: &str, query: &str) -> String {
    match query.is_empty() {
        true => path.to_string(),
        false => format!("{path}?{query}"),
    }
}

/// A client error's cause chain, for the log (no URL credentials: the engine URL has none).
fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The token Embucket accepts for `session` (`crates/api-snowflake-rest-sessions`): HS256 with its
/// `JWT_SECRET`, `aud` the Host header it receives, `exp` required (checked with 5 s leeway), and
/// `session` a pair of the session id and its attributes, which become the query context.
pub fn mint_embucket_token(
    secret: &SecretString,
    host: &str,
    session: &EngineSession<'_>,
    now: u64,
) -> Result<SecretString, EngineError> {
    let ctx = session.context;
    let mut attributes = serde_json::Map::new();
    let mut put = |name: &str, value: Option<&str>| {
        if let Some(v) = value {
            attributes.insert(name.into(), v.into());
        }
    };
    put("UserName", Some(session.user));
    put("AccountName", Some(session.account));
    put("Database", ctx.database.as_deref());
    put("Schema", ctx.schema.as_deref());
    put("Warehouse", ctx.warehouse.as_deref());
    put("ClientAppId", session.client_app.or(Some("snowgate")));
    put("ClientAppVersion", Some(env!("CARGO_PKG_VERSION")));
    let claims = json!({
        "sub": session.user,
        "aud": host,
        "iat": now,
        "exp": now + MINTED_TOKEN_SECONDS,
        "session": [session.session_id.to_string(), attributes],
    });
    let key = jsonwebtoken::EncodingKey::from_secret(secret.expose_secret().as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key)
        .map(SecretString::from)
        .map_err(|_| EngineError::BadAnswer("the engine token could not be minted".into()))
}
