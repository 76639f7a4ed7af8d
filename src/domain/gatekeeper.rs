//! The service itself: log in, check tokens, renew, heartbeat, log out, and run a query in its context.
//! Handlers call these with domain types; this file never sees HTTP or the wire format.

use std::net::IpAddr;
use std::sync::Arc;

use secrecy::SecretString;
use serde_json::Value;

use super::credentials::password_matches;
use super::ident::{Identifier, account_name};
use super::query::{self, QueryOutcome};
use super::session::{Session, SessionContext, new_session_id};
use super::tokens::{Claims, TokenError, TokenKind};
use crate::error::{Error, Result};
use crate::secrets::SecretSource;
use crate::store::{SessionStore, StoreError};

/// Epoch seconds. Injected so tests can move time instead of sleeping.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default()
    })
}

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub session_ttl: u64,
    pub master_ttl: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            session_ttl: 259_200,
            master_ttl: 604_800,
        }
    }
}

/// What a driver asked for at login, already taken out of the wire format.
#[derive(Debug, Default)]
pub struct LoginInput {
    pub account: Option<String>,
    pub login_name: Option<String>,
    pub password: Option<SecretString>,
    pub authenticator: Option<String>,
    pub client_app: Option<String>,
    pub database: Option<String>,
    pub schema: Option<String>,
    pub warehouse: Option<String>,
    pub role: Option<String>,
    /// `SESSION_PARAMETERS` as sent; echoed back like Snowflake does.
    pub session_parameters: Vec<(String, Value)>,
    /// The host the client connected to, recorded in its tokens.
    pub host: Option<String>,
    pub client_ip: Option<IpAddr>,
}

#[derive(Debug)]
pub struct LoginOutcome {
    pub session: Session,
    pub session_token: String,
    pub master_token: String,
    pub session_ttl: u64,
    pub master_ttl: u64,
    pub parameters: Vec<(String, Value)>,
}

#[derive(Debug)]
pub struct Renewed {
    pub session: Session,
    pub session_token: String,
    pub session_ttl: u64,
    /// Seconds left on the (echoed) master token.
    pub master_ttl_left: u64,
}

/// Default role of the demo user, who holds ACCOUNTADMIN.
const DEMO_DEFAULT_ROLE: &str = "ACCOUNTADMIN";

pub struct Gatekeeper {
    store: Arc<dyn SessionStore>,
    secrets: Arc<dyn SecretSource>,
    settings: Settings,
    clock: Clock,
}

impl Gatekeeper {
    pub fn new(
        store: Arc<dyn SessionStore>,
        secrets: Arc<dyn SecretSource>,
        settings: Settings,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            secrets,
            settings,
            clock,
        }
    }

    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    pub async fn login(&self, input: LoginInput) -> Result<LoginOutcome> {
        match input
            .authenticator
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            None | Some("") | Some("SNOWFLAKE") => {}
            Some(other) => {
                return Err(Error::BadRequest(format!(
                    "Authenticator '{other}' is not supported."
                )));
            }
        }
        let login_name = input
            .login_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Error::BadRequest("LOGIN_NAME is required.".into()))?;
        let password = input.password.as_ref().ok_or(Error::InvalidCredentials)?;
        let secrets = self.secrets.current();
        // Both checks always run, so an unknown user costs the same as a wrong password.
        let user_ok = login_name.eq_ignore_ascii_case(&secrets.demo_user);
        let password_ok = password_matches(password, &secrets.demo_password);
        if !(user_ok && password_ok) {
            tracing::info!(user = login_name, "login refused: bad credentials");
            return Err(Error::InvalidCredentials);
        }

        let mut context = SessionContext {
            database: normalise(&input.database),
            schema: normalise(&input.schema),
            warehouse: normalise(&input.warehouse),
            role: normalise(&input.role).or_else(|| Some(DEMO_DEFAULT_ROLE.to_string())),
        };
        if context.database.is_some() && context.schema.is_none() {
            context.schema = Some("PUBLIC".to_string());
        }
        let now = self.now();
        let mut session = Session {
            id: new_session_id(),
            user: secrets.demo_user.to_uppercase(),
            account: input
                .account
                .as_deref()
                .map(account_name)
                .unwrap_or_default(),
            context,
            created_at: now,
            expires_at: now.saturating_add(self.settings.master_ttl),
            client_app: input.client_app.clone(),
        };
        // Ids are random in a 2^53 space; one retry covers the unlikely collision.
        match self.store.create(&session).await {
            Err(StoreError::AlreadyExists) => {
                session.id = new_session_id();
                self.store.create(&session).await?;
            }
            other => other?,
        }
        let host = input.host.as_deref();
        let session_token = secrets.keyring.mint(
            TokenKind::Session,
            &session,
            host,
            now,
            self.settings.session_ttl,
        );
        let master_token = secrets.keyring.mint(
            TokenKind::Master,
            &session,
            host,
            now,
            self.settings.master_ttl,
        );
        tracing::info!(
            session_id = session.id,
            user = %session.user,
            account = %session.account,
            client_app = session.client_app.as_deref().unwrap_or("-"),
            client_ip = ?input.client_ip,
            "login succeeded"
        );
        let mut parameters = vec![
            ("AUTOCOMMIT".to_string(), Value::Bool(true)),
            ("TIMEZONE".to_string(), Value::String("Etc/UTC".into())),
        ];
        for (name, value) in input.session_parameters {
            let name = name.to_uppercase();
            if value.is_object() || value.is_array() {
                continue;
            }
            match parameters.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = value,
                None => parameters.push((name, value)),
            }
        }
        Ok(LoginOutcome {
            session,
            session_token,
            master_token,
            session_ttl: self.settings.session_ttl,
            master_ttl: self.settings.master_ttl,
            parameters,
        })
    }

    /// The verified claims of a token of `kind`, mapped to the code drivers expect for that kind. A
    /// token signed with a secret version this instance has not loaded yet makes it reload once.
    async fn claims(&self, token: &str, kind: TokenKind, now: u64) -> Result<Claims> {
        let mut result = self.secrets.current().keyring.verify(token, kind, now);
        if result == Err(TokenError::UnknownKey) && self.secrets.reload_for_unknown_key().await {
            result = self.secrets.current().keyring.verify(token, kind, now);
        }
        result.map_err(|e| match (kind, e) {
            (TokenKind::Session, TokenError::Expired) => Error::SessionTokenExpired,
            (TokenKind::Session, _) => Error::InvalidToken,
            (TokenKind::Master, TokenError::Expired) => Error::MasterTokenExpired,
            (TokenKind::Master, _) => Error::MasterTokenInvalid,
        })
    }

    /// The live session a session token belongs to.
    pub async fn authenticate(&self, session_token: &str) -> Result<Session> {
        let now = self.now();
        let claims = self.claims(session_token, TokenKind::Session, now).await?;
        self.store
            .get(claims.session_id, now)
            .await?
            .ok_or(Error::SessionGone)
    }

    /// A new session token for the session of `master_token`; the master token itself is unchanged.
    pub async fn renew(&self, master_token: &str, request_type: &str) -> Result<Renewed> {
        if !request_type.eq_ignore_ascii_case("RENEW") {
            return Err(Error::BadRequest(format!(
                "requestType '{request_type}' is not supported; only RENEW is."
            )));
        }
        let now = self.now();
        let claims = self.claims(master_token, TokenKind::Master, now).await?;
        let secrets = self.secrets.current();
        let session = self
            .store
            .get(claims.session_id, now)
            .await?
            .ok_or(Error::SessionGone)?;
        let session_token = secrets.keyring.mint(
            TokenKind::Session,
            &session,
            claims.host.as_deref(),
            now,
            self.settings.session_ttl,
        );
        tracing::info!(session_id = session.id, "session token renewed");
        Ok(Renewed {
            session_token,
            session_ttl: self.settings.session_ttl,
            master_ttl_left: claims.exp.saturating_sub(now),
            session,
        })
    }

    /// Ends the session of `session_token`. Ending an already ended session succeeds.
    pub async fn logout(&self, session_token: &str) -> Result<()> {
        let claims = self
            .claims(session_token, TokenKind::Session, self.now())
            .await?;
        self.store.delete(claims.session_id).await?;
        tracing::info!(session_id = claims.session_id, "session deleted");
        Ok(())
    }

    /// Runs `sql` in the session of `session_token` (see [`query`]).
    pub async fn query(
        &self,
        session_token: &str,
        sql: &str,
        request_id: Option<&str>,
        client_ip: Option<IpAddr>,
    ) -> Result<QueryOutcome> {
        let session = self.authenticate(session_token).await?;
        query::run(
            self.store.as_ref(),
            session,
            sql,
            request_id,
            client_ip,
            self.now(),
        )
        .await
    }
}

fn normalise(raw: &Option<String>) -> Option<String> {
    raw.as_deref()
        .and_then(Identifier::from_user_input)
        .map(Identifier::into_string)
}
