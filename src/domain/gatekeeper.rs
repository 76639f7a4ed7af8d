//! The service itself: log in, check tokens, renew, heartbeat, log out, and run a query in its context.
//! Handlers call these with domain types; this file never sees HTTP or the wire format.

use std::net::IpAddr;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::credentials::password_matches;
use super::directory::{Directory, User, UserType, canonical_ip, verify_password};
use super::ident::{Identifier, account_name};
use super::keys::{KeyCache, claimed_identity, signature_valid};
use super::session::{Session, SessionContext, new_session_id};
use super::tokens::{Claims, TokenError, TokenKind};
use crate::error::{Error, Result};
use crate::secrets::{SecretMaterial, SecretSource};
use crate::store::{Store, StoreError};

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

#[derive(Debug, Clone)]
pub struct Settings {
    pub session_ttl: u64,
    pub master_ttl: u64,
    /// The one account this deployment serves (normalised by `account_name`); logins naming another
    /// are refused, and a login naming none gets this one. `None` serves whatever account is named.
    pub account: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            session_ttl: 259_200,
            master_ttl: 604_800,
            account: None,
        }
    }
}

/// What a driver asked for at login, already taken out of the wire format.
#[derive(Debug, Default)]
pub struct LoginInput {
    pub account: Option<String>,
    pub login_name: Option<String>,
    pub password: Option<SecretString>,
    /// The key-pair JWT (`AUTHENTICATOR=SNOWFLAKE_JWT`).
    pub token: Option<SecretString>,
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

pub struct Gatekeeper {
    pub(super) store: Arc<dyn Store>,
    pub(super) directory: Directory,
    pub(super) secrets: Arc<dyn SecretSource>,
    keys: KeyCache,
    settings: Settings,
    clock: Clock,
}

impl Gatekeeper {
    pub fn new(
        store: Arc<dyn Store>,
        secrets: Arc<dyn SecretSource>,
        settings: Settings,
        clock: Clock,
    ) -> Self {
        Self {
            directory: Directory::new(Arc::clone(&store)),
            store,
            secrets,
            keys: KeyCache::default(),
            settings,
            clock,
        }
    }

    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    pub async fn login(&self, input: LoginInput) -> Result<LoginOutcome> {
        let secrets = self.secrets.current();
        let now = self.now();
        let authenticator = input.authenticator.as_deref().map(str::to_ascii_uppercase);
        let (user, account) = match authenticator.as_deref() {
            None | Some("") | Some("SNOWFLAKE") => self.password_login(&input, &secrets).await?,
            Some("SNOWFLAKE_JWT") => self.key_pair_login(&input, &secrets, now).await?,
            Some(other) => {
                return Err(Error::BadRequest(format!(
                    "Authenticator '{other}' is not supported."
                )));
            }
        };
        if user.disabled {
            return Err(Error::UserDisabled);
        }
        let context = initial_context(&user, &input)?;
        let mut session = Session {
            id: new_session_id(),
            user: user.name.clone(),
            account,
            context,
            created_at: now,
            expires_at: now.saturating_add(self.settings.master_ttl),
            client_app: input.client_app.clone(),
            user_id: user.id.clone(),
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

    /// The user who logs in as `login`: the demo user of the secret, or a stored one.
    pub(super) async fn find_user(
        &self,
        secrets: &SecretMaterial,
        login: &str,
    ) -> Result<Option<User>> {
        if Directory::is_demo(secrets, login) {
            return Ok(Some(Directory::demo_user(secrets)));
        }
        self.directory.user_by_login(login).await
    }

    /// The user a session belongs to, as it is now: `None` once that user was dropped (even if another
    /// user of the same name was created since). The session holds the user's name, not its login.
    pub(super) async fn session_user(&self, name: &str, user_id: &str) -> Result<Option<User>> {
        let secrets = self.secrets.current();
        let user = if Directory::is_demo(&secrets, name) {
            Some(Directory::demo_user(&secrets))
        } else {
            self.directory.user(name).await?
        };
        Ok(user.filter(|u| u.id == user_id))
    }

    /// The user's network policy, else the account's, must admit the client; checked before any
    /// credential so a refused address learns nothing about them.
    async fn check_network_policy(&self, user: Option<&User>, ip: Option<IpAddr>) -> Result<()> {
        match self.directory.policy_for(user).await? {
            Some(policy) if !policy.admits(ip) => {
                let shown = ip
                    .map(|i| canonical_ip(i).to_string())
                    .unwrap_or_else(|| "unknown".into());
                tracing::info!(client_ip = %shown, policy = %policy.name, "login refused by network policy");
                Err(Error::IpNotAllowed(shown))
            }
            _ => Ok(()),
        }
    }

    /// The account of a login that names `named`: `None` when an account is pinned and `named` is
    /// another one.
    fn account_for(&self, named: Option<&str>) -> Option<String> {
        let named = named.map(account_name).filter(|a| !a.is_empty());
        match (&self.settings.account, named) {
            (Some(pin), Some(named)) if named != *pin => None,
            (Some(pin), _) => Some(pin.clone()),
            (None, named) => Some(named.unwrap_or_default()),
        }
    }

    async fn password_login(
        &self,
        input: &LoginInput,
        secrets: &SecretMaterial,
    ) -> Result<(User, String)> {
        let Some(account) = self.account_for(input.account.as_deref()) else {
            tracing::info!("login refused: the account named is not the one served");
            return Err(Error::InvalidCredentials);
        };
        let login = input
            .login_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Error::BadRequest("LOGIN_NAME is required.".into()))?;
        let user = self.find_user(secrets, login).await?;
        self.check_network_policy(user.as_ref(), input.client_ip)
            .await?;
        let password = input.password.as_ref().ok_or(Error::InvalidCredentials)?;
        // Every branch spends one comparison, so timing does not tell which one failed.
        let ok = match &user {
            Some(u) if Directory::is_demo(secrets, &u.name) => {
                password_matches(password, &secrets.demo_password)
            }
            Some(u) => {
                let ok = verify_password(password, u.password_hash.as_deref());
                // A SERVICE user never logs in with a password, and gets the same answer as a
                // wrong one.
                ok && u.user_type != UserType::Service
            }
            None => verify_password(password, None),
        };
        match user {
            Some(user) if ok => Ok((user, account)),
            _ => {
                tracing::info!(user = login, "login refused: bad credentials");
                Err(Error::InvalidCredentials)
            }
        }
    }

    async fn key_pair_login(
        &self,
        input: &LoginInput,
        secrets: &SecretMaterial,
        now: u64,
    ) -> Result<(User, String)> {
        let refused = |why: &str| {
            // The reason goes to the log only; the client always gets 390144.
            tracing::info!(reason = why, "key-pair login refused");
            Error::InvalidJwt
        };
        let token = input.token.as_ref().ok_or_else(|| refused("no TOKEN"))?;
        let token = token.expose_secret();
        let id =
            claimed_identity(token, now).ok_or_else(|| refused("malformed claims or times"))?;
        if self.account_for(Some(&id.account)).is_none() {
            return Err(refused("the JWT's account is not the one served"));
        }
        if input
            .account
            .as_deref()
            .is_some_and(|a| account_name(a) != id.account)
        {
            return Err(refused("account mismatch"));
        }
        if input
            .login_name
            .as_deref()
            .is_some_and(|l| !l.trim().eq_ignore_ascii_case(&id.user))
        {
            return Err(refused("LOGIN_NAME differs from the JWT subject"));
        }
        let user = self.find_user(secrets, &id.user).await?;
        self.check_network_policy(user.as_ref(), input.client_ip)
            .await?;
        let user = user.ok_or_else(|| refused("unknown user"))?;
        let key = user
            .key_with_fingerprint(&id.fingerprint)
            .ok_or_else(|| refused("no key with that fingerprint"))?;
        let key = self
            .keys
            .get(key)
            .ok_or_else(|| refused("stored key unusable"))?;
        if !signature_valid(token, &key) {
            return Err(refused("bad signature"));
        }
        Ok((user, id.account))
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
        // Renewal extends a session's life, so the user must still be there and enabled.
        let user = self.session_user(&session.user, &session.user_id).await?;
        if user.is_none_or(|u| u.disabled) {
            self.store.delete(session.id).await?;
            return Err(Error::SessionGone);
        }
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
}

/// The session context at login: what the driver asked for, else the user's defaults. The role must
/// be granted (390189 otherwise); without one, the default role if still granted, else PUBLIC.
fn initial_context(user: &User, input: &LoginInput) -> Result<SessionContext> {
    let granted = user.effective_roles();
    let role = match normalise(&input.role) {
        Some(role) if granted.contains(&role) => role,
        Some(role) => return Err(Error::RoleNotGranted(role)),
        None => user
            .default_role
            .clone()
            .filter(|r| granted.contains(r))
            .unwrap_or_else(|| "PUBLIC".to_string()),
    };
    let (default_db, default_schema) = match user.default_namespace.as_deref() {
        Some(ns) => match ns.split_once('.') {
            Some((db, schema)) => (Some(db.to_string()), Some(schema.to_string())),
            None => (Some(ns.to_string()), None),
        },
        None => (None, None),
    };
    let database = normalise(&input.database).or(default_db);
    let schema = normalise(&input.schema)
        .or(default_schema)
        .or_else(|| database.as_ref().map(|_| "PUBLIC".to_string()));
    Ok(SessionContext {
        database,
        schema,
        warehouse: normalise(&input.warehouse).or_else(|| user.default_warehouse.clone()),
        role: Some(role),
    })
}

fn normalise(raw: &Option<String>) -> Option<String> {
    raw.as_deref()
        .and_then(Identifier::from_user_input)
        .map(Identifier::into_string)
}
