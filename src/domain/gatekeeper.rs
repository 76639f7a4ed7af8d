//! The service itself: log in, check tokens and rights, renew, heartbeat, log out. Handlers call these
//! with domain types; this file never sees HTTP or the wire format. How each credential is checked is in
//! `login.rs`; the query context in `query.rs`.

use std::sync::Arc;

use serde_json::Value;

use super::audit::{Attempt, Method};
use super::credentials::passwords::PasswordHasher;
use super::credentials::rsa_keys::KeyCache;
use super::directory::{DemoSeed, Directory, LoginReads, PolicySource, User};
use super::ident::Ident;
pub use super::login::input::LoginInput;
use super::login::pick::Picked;
use super::login::verified::{SecondFactor, Verified};
use super::policy::AuthMethod;
use super::policy::SessionPolicy;
use super::query::statement::SqlFrontEnd;
use super::query::{Queries, QueryOutcome};
use super::session::tokens::{Claims, TokenError, TokenKind};
use super::session::{Session, new_session_id};
use crate::domain::ports::secrets::{SecretMaterial, SecretSource};
use crate::domain::ports::storage::{ObjectKey, Store, StoreError};
use crate::error::{Error, Result};

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

/// How long a session token keeps working after it was renewed, so that requests already on their way
/// with it (a driver's other threads) do not fail. Then it answers 390112 and the driver renews.
pub const RENEW_GRACE_SECONDS: u64 = 30;

#[derive(Debug, Clone)]
pub struct Settings {
    pub session_ttl: u64,
    pub master_ttl: u64,
    /// Failed password logins before the user is locked (Snowflake's PASSWORD_MAX_RETRIES, 5).
    pub lockout_failures: u32,
    /// How long a lock lasts (Snowflake's PASSWORD_LOCKOUT_TIME_MINS, 15 minutes).
    pub lockout_seconds: u64,
    /// The one account this deployment serves (normalised by `account_name`); logins naming another
    /// are refused, and a login naming none gets this one. `None` serves whatever account is named.
    pub account: Option<String>,
    /// Idle limit of sessions no session policy governs (Snowflake's SESSION_IDLE_TIMEOUT_MINS
    /// default, 4 hours); `SNOWGATE_SESSION_IDLE_SECONDS` shortens it for tests.
    pub session_idle_seconds: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            session_ttl: 259_200,
            master_ttl: 604_800,
            lockout_failures: 5,
            lockout_seconds: 15 * 60,
            account: None,
            session_idle_seconds: 4 * 3600,
        }
    }
}

#[derive(Debug)]
pub struct LoginOutcome {
    /// The method whose credentials succeeded (a PAT given as a password counts as a PAT).
    pub method: AuthMethod,
    pub session: Session,
    pub session_token: String,
    pub master_token: String,
    pub session_ttl: u64,
    /// `masterValidityInSeconds`: the idle limit (drivers derive their keep-alive heartbeat from
    /// it), or the master token's lifetime if shorter.
    pub master_ttl: u64,
    pub parameters: Vec<(String, Value)>,
    /// A new cached MFA token (`data.mfaToken`), when the login asked for one and may have it.
    pub mfa_token: Option<String>,
}

#[derive(Debug)]
pub struct Renewed {
    pub session: Session,
    pub session_token: String,
    pub session_ttl: u64,
    /// Seconds left on the (echoed) master token.
    pub master_ttl_left: u64,
    /// `masterValidityInSeconds`: the idle limit, or the master token's time left if shorter.
    pub master_validity: u64,
}

/// What the store says of a session at a request: read and activity recorded together.
struct Checked {
    session: Option<Session>,
    user: Option<crate::domain::ports::storage::Versioned>,
    /// The session had been idle for its whole limit: it is over.
    idle: bool,
}

pub struct Gatekeeper {
    pub(super) store: Arc<dyn Store>,
    pub(super) directory: Directory,
    pub(super) secrets: Arc<dyn SecretSource>,
    pub(super) hasher: PasswordHasher,
    pub(super) keys: KeyCache,
    pub(super) settings: Settings,
    clock: Clock,
    recent: super::session::activity::RecentActivity,
    /// Refused logins recorded in the history this minute.
    refusals: super::login::refusals::RefusalBudget,
    /// The secret material the demo user was last checked against; a reload checks it again.
    seeded: tokio::sync::Mutex<Option<Arc<SecretMaterial>>>,
    /// Replays AWS workload identity attestations to STS.
    pub(super) sts: Arc<dyn super::login::workload::attestation::CallerIdentity>,
    /// The configured STS endpoint's host, allowed in attestations besides AWS's own.
    pub(super) sts_extra_host: Option<String>,
    pub(super) attestations_seen: super::login::workload::attestation::ReplayCache,
    /// STS replays each client may still make.
    pub(super) sts_budget: super::login::workload::attestation::StsBudget,
    /// Issuers' key sets (OIDC workload identity); set once at start-up by [`Gatekeeper::set_jwks`].
    pub(super) jwks: std::sync::OnceLock<Arc<super::credentials::jwks::JwksCache>>,
    /// Statement execution, once a session's rights are checked.
    queries: Queries,
}

impl Gatekeeper {
    /// Workload identity logins (AWS) replay attestations through `sts`; `extra_host` is one more
    /// host an attestation may be signed for (the configured STS endpoint's).
    pub fn with_sts(
        mut self,
        sts: Arc<dyn super::login::workload::attestation::CallerIdentity>,
        extra_host: Option<String>,
    ) -> Self {
        self.sts = sts;
        self.sts_extra_host = extra_host.map(|h| h.to_ascii_lowercase());
        self
    }

    pub fn new(
        store: Arc<dyn Store>,
        secrets: Arc<dyn SecretSource>,
        settings: Settings,
        clock: Clock,
    ) -> Self {
        let hasher = PasswordHasher::for_this_machine();
        let queries = Queries::new(
            Arc::clone(&store),
            Arc::clone(&secrets),
            hasher.clone(),
            Arc::clone(&clock),
        );
        Self {
            directory: Directory::new(Arc::clone(&store)),
            store,
            secrets,
            hasher,
            keys: KeyCache::default(),
            settings,
            clock,
            recent: Default::default(),
            refusals: Default::default(),
            seeded: tokio::sync::Mutex::new(None),
            sts: Arc::new(super::login::workload::attestation::NoSts),
            sts_extra_host: None,
            attestations_seen: Default::default(),
            sts_budget: Default::default(),
            jwks: std::sync::OnceLock::new(),
            queries,
        }
    }

    /// The SQL front end statements are parsed with, given by the composition root (the domain
    /// never names it). A second call keeps the first.
    pub fn set_front_end(&self, front_end: Arc<dyn SqlFrontEnd>) {
        self.queries.set_front_end(front_end);
    }

    /// Runs `sql_text` in the session of `session_token`: the session and its user in one read,
    /// the user's rights checked there, then the statement runs in [`Queries`].
    pub async fn query(
        &self,
        session_token: &str,
        sql_text: &str,
        request_id: Option<&str>,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<QueryOutcome> {
        let (session, user) = self.authenticated(session_token).await?;
        self.queries
            .run(session, user, sql_text, request_id, client_ip)
            .await
    }

    /// Runs a statement request as [`Gatekeeper::query`] does; with a query engine configured,
    /// what snowgate does not answer goes there as the client sent it (`raw`).
    pub async fn statement(
        &self,
        session_token: &str,
        sql_text: &str,
        request_id: Option<&str>,
        client_ip: Option<std::net::IpAddr>,
        raw: super::query::Forwardable<'_>,
    ) -> Result<super::query::Answer> {
        let (session, user) = self.authenticated(session_token).await?;
        self.queries
            .execute(session, user, sql_text, request_id, client_ip, Some(raw))
            .await
    }

    /// A result fetch, status or abort for the session of `session_token`, forwarded to the
    /// query engine after the same checks as a statement.
    pub async fn engine_call(
        &self,
        session_token: &str,
        call: super::ports::engine::EngineCall<'_>,
    ) -> Result<super::ports::engine::EngineAnswer> {
        let (session, _) = self.authenticated(session_token).await?;
        self.queries.engine_call(&session, call).await
    }

    /// The query engine behind snowgate, given by the composition root.
    pub fn set_engine(&self, engine: Arc<dyn super::ports::engine::QueryEngine>) {
        self.queries.set_engine(engine);
    }

    /// Where issuers' keys come from. Without it, logins needing them are refused. A second call
    /// keeps the first cache.
    pub fn set_jwks(&self, cache: Arc<super::credentials::jwks::JwksCache>) {
        let _ = self.jwks.set(cache);
    }

    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Makes sure the demo user of the configuration is seeded: once per store, not at every start.
    /// The account's document remembers the name and the configured password it was seeded with
    /// ([`DemoSeed`]); while they are unchanged nothing is written, so an `ALTER USER … SET
    /// PASSWORD` or a `DROP USER` of the demo user sticks across restarts. A changed configured
    /// password (a rotated secret) is set on the user once, if the user still exists; a new demo
    /// user name is seeded as a new user. Run at start-up and again whenever the secret material
    /// changes; cheap otherwise.
    pub async fn seed_demo_user(&self) -> Result<()> {
        let secrets = self.secrets.current();
        let mut seeded = self.seeded.lock().await;
        if seeded.as_ref().is_some_and(|s| Arc::ptr_eq(s, &secrets)) {
            return Ok(());
        }
        // Another instance seeding at the same moment: read what it wrote, once.
        let indexed = match self.seed_once(&secrets).await {
            Err(Error::Conflict) => self.seed_once(&secrets).await?,
            other => other?,
        };
        // Once per directory; a failure is retried at the next start and fails no login (only
        // AWS logins without LOGIN_NAME of identities written before the index need it).
        if !indexed && let Err(e) = self.directory.build_aws_index().await {
            tracing::warn!(error = %e, "the AWS workload identity index could not be built");
        }
        *seeded = Some(secrets);
        Ok(())
    }

    /// Seeds the demo user from `secrets` if the account's record says it is due; answers whether
    /// the AWS identity index was already built, from the same read of the account, so a start
    /// reads the account once.
    async fn seed_once(&self, secrets: &SecretMaterial) -> Result<bool> {
        let name = secrets.demo_user.to_uppercase();
        let mut account = self.directory.account().await?;
        let indexed = account.aws_index_built;
        let before = account.demo_seeded.as_ref().filter(|m| m.user == name);
        if let Some(seed) = before
            && self
                .hasher
                .verify(&secrets.demo_password, Some(&seed.password_hash))
                .await?
        {
            return Ok(indexed);
        }
        let first = before.is_none();
        let hash = self.hasher.hash(&secrets.demo_password).await?;
        match self.directory.user(Ident::stored(&name)).await? {
            Some(user) => {
                let same = self
                    .hasher
                    .verify(&secrets.demo_password, user.password_hash.as_deref())
                    .await?;
                if !same {
                    // The configured password has no recorded age: it never expires by policy.
                    let updated = User {
                        password_hash: Some(hash.clone()),
                        password_set_at: 0,
                        ..user.clone()
                    };
                    self.directory.update_user(&updated, &user).await?;
                    tracing::info!(user = ?name, "demo user's password set from the configuration");
                }
            }
            None if first => {
                let user = Directory::demo_user_record(&name, hash.clone(), self.now());
                // Another instance may have written it first: that is as good.
                self.directory.put_user(&user, None).await?;
                tracing::info!(user = ?name, "demo user created from the configuration");
            }
            None => {
                tracing::info!(user = ?name, "demo user was dropped: not created again");
            }
        }
        account.demo_seeded = Some(DemoSeed {
            user: name,
            password_hash: hash,
        });
        self.directory.set_account(&account).await?;
        Ok(indexed)
    }

    pub async fn login(&self, input: LoginInput) -> Result<LoginOutcome> {
        // The user the credential proved, once it did: the audit and the history name them, not
        // the LOGIN_NAME an OAuth or workload identity client typed (which may name anyone).
        let mut proven = None;
        let typed = match input.credential_names_user() {
            true => None,
            false => input.login_name.as_deref(),
        };
        let mut attempt = Attempt {
            user: typed,
            account: input.account.as_deref(),
            client_app: input.client_app.as_deref(),
            client_version: input.client_version.as_deref(),
            client_ip: input.client_ip,
            request_id: input.request_id.as_deref(),
            ..Attempt::default()
        };
        // What the login read up front, kept for its history record if it fails.
        let mut reads = None;
        let result = self
            .try_login(&input, &mut attempt, &mut reads, &mut proven)
            .await;
        if proven.is_some() {
            attempt.user = proven.as_deref();
        }
        match &result {
            Ok(out) => {
                attempt.session_id = Some(out.session.id);
                attempt.record(None, "login succeeded");
            }
            Err(e) => {
                attempt.record(Some(crate::snowflake::codes::of(e)), "login refused");
                // A refusal for load (a full hashing queue, a backend down, a client over its STS
                // budget) is not recorded: under a flood a write per refused request would add to
                // the load it sheds. Nor is one past the refusals' budget (`refusals.rs`).
                let shed = matches!(
                    e,
                    Error::Busy | Error::Unavailable(_) | Error::WorkloadIdentityThrottled(_)
                );
                let now = self.now();
                if !attempt.in_history && !shed && self.refusal_recorded(&input, e, now) {
                    let user = match &proven {
                        Some(user) => Some(user.clone()),
                        None => self.failed_login_user(&input, reads.as_ref(), now).await,
                    };
                    let event = super::query::login_history::event(
                        &input,
                        attempt.method,
                        user.as_deref(),
                        now,
                        Some(e),
                    );
                    self.record_login(&event).await;
                }
            }
        }
        result
    }

    /// Whether the history has room for this refused login ([`super::login::refusals`]).
    fn refusal_recorded(&self, input: &LoginInput, error: &Error, now: u64) -> bool {
        let name = input.named_user(now).map(|n| {
            let n = super::query::login_history::bounded(
                &n,
                super::query::login_history::MAX_FIELD_CHARS,
            );
            n.to_uppercase()
        });
        let address = input
            .client_ip
            .map(|ip| super::directory::canonical_ip(ip).to_string());
        let code = crate::snowflake::codes::of(error);
        self.refusals
            .admit(name.as_deref(), address.as_deref(), code, now)
    }

    async fn try_login(
        &self,
        input: &LoginInput,
        attempt: &mut Attempt<'_>,
        reads: &mut Option<LoginReads>,
        proven: &mut Option<String>,
    ) -> Result<LoginOutcome> {
        self.seed_demo_user().await?;
        let now = self.now();
        // Read once, up front, in one batch: the account's settings (the network policy before the
        // credential and the authentication policy after it both fall back to the account's), and
        // the user the login names with the failures counted under that name; then, in a second
        // batch, the policy records that govern the login, if any.
        let reads = reads.insert(
            self.directory
                .login_reads(input.named_user(now).as_deref(), now)
                .await?,
        );
        let verified = self.verify(input, reads, now, attempt).await?;
        *proven = Some(verified.user.name.clone());
        if verified.method == AuthMethod::ProgrammaticAccessToken {
            attempt.method = Some(Method::Login(AuthMethod::ProgrammaticAccessToken));
        }
        if verified.user.disabled {
            return Err(Error::UserDisabled);
        }
        let (user, method, second_factor) =
            (&verified.user, verified.method, verified.second_factor);
        self.check_authentication_policy_mfa(user, &*reads, input, method, second_factor)
            .await?;
        self.open_session(input, &*reads, verified, now, attempt)
            .await
    }

    /// Checks the credential the login offers, by the method its AUTHENTICATOR (and, for Go's
    /// OAuth flows, the fields it sends) picks (`login/pick.rs`).
    async fn verify(
        &self,
        input: &LoginInput,
        reads: &LoginReads,
        now: u64,
        attempt: &mut Attempt<'_>,
    ) -> Result<Verified> {
        let picked = input.picked()?;
        attempt.method = Some(Method::Login(picked.method()));
        match picked {
            Picked::Oauth => self.oauth_login(input, reads, now).await,
            Picked::Password => self.password_login(input, reads, now).await,
            Picked::KeyPair => self.key_pair_login(input, reads, now).await,
            Picked::Pat => self.pat_login(input, reads, now).await,
            Picked::WorkloadIdentity(provider) => {
                self.workload_identity_login(input, provider, reads, now)
                    .await
            }
        }
    }

    /// The login history record of a successful login; the audit attempt notes that it is kept.
    fn success_event(
        &self,
        input: &LoginInput,
        attempt: &mut Attempt<'_>,
        user: &str,
        second_factor: Option<SecondFactor>,
    ) -> super::query::login_history::LoginEvent {
        let mut event =
            super::query::login_history::event(input, attempt.method, Some(user), self.now(), None);
        event.second_factor = second_factor.map(|f| f.as_str().to_string());
        attempt.second_factor = second_factor.map(SecondFactor::as_str);
        attempt.in_history = true;
        event
    }

    /// The session of a verified login: its context and idle limit, its tokens, and the login's
    /// history record, written alongside the session.
    async fn open_session(
        &self,
        input: &LoginInput,
        policies: &impl PolicySource,
        verified: Verified,
        now: u64,
        attempt: &mut Attempt<'_>,
    ) -> Result<LoginOutcome> {
        let Verified {
            user,
            account,
            method,
            role_restriction,
            second_factor,
            mfa_token,
            oauth,
            opened_by,
        } = verified;
        let mut context = super::login::verified::initial_context(&user, input)?;
        super::login::verified::restrict_role(
            &user,
            input,
            &mut context,
            role_restriction.as_deref(),
        )?;
        let idle_limit = self.idle_limit(&user, policies).await?;
        // Taken after the credentials were checked (which may wait for a hashing thread), so the
        // tokens are signed with the secret in force now, not one a rotation has since retired.
        let secrets = self.secrets.current();
        let session = Session {
            id: new_session_id(),
            user: user.name.clone(),
            account,
            context,
            created_at: now,
            client_app: input.client_app.clone(),
            user_id: user.id.clone(),
            role_restriction,
            last_active: now,
            idle_limit,
            oauth,
            opened_by,
            ..Session::default()
        };
        // An OAuth session, and its tokens, end with the access token that opened it.
        let session_ttl = session.token_ttl(now, self.settings.session_ttl);
        let master_ttl = session.token_ttl(now, self.settings.master_ttl);
        let session = Session {
            expires_at: now.saturating_add(master_ttl),
            ..session
        };
        let host = input.host.as_deref();
        let event = self.success_event(input, attempt, &user.name, second_factor);
        let mint = |s: &Session| {
            secrets
                .keyring
                .mint_identified(TokenKind::Session, s, host, now, session_ttl)
        };
        // The history record is written alongside the session, not after it: no extra round trip.
        let (created, ()) = tokio::join!(
            self.create_session(session, mint),
            self.record_login(&event)
        );
        let (session, session_token) = created?;
        // The login itself is the session's first activity: no write needed for a while.
        self.recent.record(session.id, now, idle_limit);
        let master_token = secrets
            .keyring
            .mint(TokenKind::Master, &session, host, now, master_ttl);
        Ok(LoginOutcome {
            method,
            session_token,
            master_token,
            session_ttl,
            master_ttl: idle_limit.min(master_ttl),
            parameters: super::session::parameters::merge(
                vec![
                    ("AUTOCOMMIT".to_string(), Value::Bool(true)),
                    ("TIMEZONE".to_string(), Value::String("Etc/UTC".into())),
                ],
                input.session_parameters.clone(),
            ),
            session,
            mfa_token,
        })
    }

    /// The idle limit of a new session of `user`, in seconds: SESSION_IDLE_TIMEOUT_MINS of the user's
    /// session policy, else the account's, else the configured default. Fixed at login, so a policy
    /// change applies to new sessions.
    async fn idle_limit(&self, user: &User, policies: &impl PolicySource) -> Result<u64> {
        let policy = self
            .directory
            .attached_policy::<SessionPolicy>(Some(user), policies)
            .await?;
        Ok(match policy {
            Some(p) => u64::from(p.session_idle_timeout_mins.max(1)) * 60,
            None => self.settings.session_idle_seconds,
        })
    }

    /// Reads the session and its user and records the request as activity, concurrently: one round
    /// trip. The write is skipped when this instance wrote it lately. The write is conditional on the
    /// session not being idle, so idle-ness is decided by it when it ran, else by the read.
    async fn read_and_touch(&self, id: u64, user: &str, now: u64) -> Result<Checked> {
        let read = self
            .store
            .session_and_object(id, now, ObjectKey::user(Ident::stored(user)));
        let (read, touched) = if self.recent.is_fresh(id, now) {
            (read.await, None)
        } else {
            let (read, touched) = tokio::join!(read, self.store.touch(id, now));
            (read, Some(touched?))
        };
        let (session, user) = read?;
        let Some(found) = &session else {
            return Ok(Checked {
                session,
                user,
                idle: false,
            });
        };
        let alive = touched.unwrap_or_else(|| !found.is_idle(now));
        if alive {
            if touched.is_some() {
                self.recent.record(id, now, found.idle_limit);
            }
            return Ok(Checked {
                session,
                user,
                idle: false,
            });
        }
        self.recent.forget(id);
        // The touch was refused: idle, or deleted or expired since the read (then it is gone).
        let idle = found.is_idle(now);
        Ok(Checked {
            session: session.filter(|_| idle),
            user,
            idle,
        })
    }

    /// Ends a session that timed out: idle past its limit, or past its OAuth access token (at its
    /// renewal, so the driver first gets 390112, then 390114).
    async fn end_idle(&self, session: &Session, reason: &'static str) -> Result<()> {
        self.store.delete(session.id).await?;
        self.recent.forget(session.id);
        tracing::info!(
            target: "snowgate::audit",
            event = "session_ended",
            session_id = session.id,
            user = ?session.user,
            reason,
            idle_limit_seconds = session.idle_limit,
            "session ended: it timed out"
        );
        Ok(())
    }

    /// Stores a new session, and its session token, minted by `mint` for the id stored. Ids are
    /// random in a 2^53 space; one retry with a new id covers the unlikely collision.
    async fn create_session(
        &self,
        mut session: Session,
        mint: impl Fn(&Session) -> (String, String),
    ) -> Result<(Session, String)> {
        for retry in [false, true] {
            let (token, token_id) = mint(&session);
            session.token_id = token_id;
            match self.store.create(&session).await {
                Err(StoreError::AlreadyExists) if !retry => session.id = new_session_id(),
                other => {
                    other?;
                    return Ok((session, token));
                }
            }
        }
        Err(Error::Internal("session id collided twice".into()))
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

    /// A heartbeat: the session must be live and its user's rights intact. Failures are audited.
    pub async fn heartbeat(&self, session_token: &str) -> Result<()> {
        let result = self.authenticated(session_token).await;
        if let Err(e) = &result {
            Attempt {
                method: Some(Method::Heartbeat),
                ..Attempt::default()
            }
            .record(Some(crate::snowflake::codes::of(e)), "heartbeat refused");
        }
        result.map(|_| ())
    }

    /// The live session a session token belongs to.
    pub async fn authenticate(&self, session_token: &str) -> Result<Session> {
        Ok(self.authenticated(session_token).await?.0)
    }

    /// The live session of a session token and its user, with the user's rights checked now: a user
    /// disabled, dropped, or without the session's role any more ends the session at this request. The
    /// session and the user are read together (one DynamoDB round trip).
    pub(super) async fn authenticated(&self, session_token: &str) -> Result<(Session, User)> {
        let now = self.now();
        let claims = self.claims(session_token, TokenKind::Session, now).await?;
        let checked = self
            .read_and_touch(claims.session_id, &claims.sub, now)
            .await?;
        let (session, doc) = (checked.session, checked.user);
        let session = session.ok_or(Error::SessionGone)?;
        if checked.idle {
            // Drivers renew on 390112; the renewal answers 390114 and ends the session.
            return Err(Error::SessionTokenExpired);
        }
        if !session.accepts_token(&claims.jti, now, RENEW_GRACE_SECONDS) {
            return Err(Error::SessionTokenExpired);
        }
        let user = doc.map(|d| Directory::user_from_doc(&d)).transpose()?;
        let user = self.check_rights(&session, user, now).await?;
        if session.oauth_expired(now) {
            // As an idle session: drivers renew on 390112, and the renewal ends it with 390114.
            return Err(Error::SessionTokenExpired);
        }
        self.check_oauth_session(&session, &user).await?;
        Ok((session, user))
    }

    /// The session's user if they may still use it; otherwise the session is deleted and the answer is
    /// the one Snowflake gives: 390101 for a disabled user, 390111 when the session is no longer theirs
    /// (also when the PAT or RSA key it was opened with was removed, disabled, expired or replaced).
    async fn check_rights(&self, session: &Session, user: Option<User>, now: u64) -> Result<User> {
        let why = match &user {
            None => "user dropped",
            Some(u) if u.id != session.user_id => "user dropped and created again",
            Some(u) if u.disabled => "user disabled",
            Some(u) if !session.role_is_held_by(u) => "session role no longer granted",
            Some(u) if !session.credential_is_held_by(u, now) => {
                "the credential that opened the session was revoked"
            }
            Some(_) => return user.ok_or(Error::SessionGone),
        };
        self.end_session(session, why).await?;
        match user {
            Some(u) if u.disabled && u.id == session.user_id => Err(Error::UserDisabled),
            _ => Err(Error::SessionGone),
        }
    }

    /// Ends a session whose user may no longer use it, and says why in the audit log.
    pub(super) async fn end_session(&self, session: &Session, why: &str) -> Result<()> {
        self.store.delete(session.id).await?;
        self.recent.forget(session.id);
        tracing::info!(
            target: "snowgate::audit",
            event = "session_ended",
            session_id = session.id,
            user = ?session.user,
            reason = why,
            "session ended: the user's rights changed"
        );
        Ok(())
    }

    /// A new session token for the session of `master_token`; the master token itself is unchanged.
    /// The previous session token keeps working for [`RENEW_GRACE_SECONDS`].
    pub async fn renew(&self, master_token: &str, request_type: &str) -> Result<Renewed> {
        if !request_type.eq_ignore_ascii_case("RENEW") {
            return Err(Error::BadRequest(format!(
                "requestType '{request_type}' is not supported; only RENEW is."
            )));
        }
        let now = self.now();
        let claims = self.claims(master_token, TokenKind::Master, now).await?;
        let checked = self
            .read_and_touch(claims.session_id, &claims.sub, now)
            .await?;
        let (session, doc) = (checked.session, checked.user);
        let session = session.ok_or(Error::SessionGone)?;
        if checked.idle {
            self.end_idle(&session, "idle timeout").await?;
            return Err(Error::MasterTokenExpired);
        }
        let user = doc.map(|d| Directory::user_from_doc(&d)).transpose()?;
        let user = self.check_rights(&session, user, now).await?;
        if session.oauth_expired(now) {
            self.end_idle(&session, "OAuth access token expired")
                .await?;
            return Err(Error::MasterTokenExpired);
        }
        self.check_oauth_session(&session, &user).await?;
        let secrets = self.secrets.current();
        let session_ttl = session.token_ttl(now, self.settings.session_ttl);
        let (session_token, token_id) = secrets.keyring.mint_identified(
            TokenKind::Session,
            &session,
            claims.host.as_deref(),
            now,
            session_ttl,
        );
        if !self.store.rotate_token(session.id, &token_id, now).await? {
            return Err(Error::SessionGone);
        }
        Attempt {
            method: Some(Method::Renew),
            user: Some(&session.user),
            account: Some(&session.account),
            session_id: Some(session.id),
            ..Attempt::default()
        }
        .record(None, "session token renewed");
        Ok(Renewed {
            session_token,
            session_ttl,
            master_ttl_left: claims.exp.saturating_sub(now),
            master_validity: match session.idle_limit {
                0 => claims.exp.saturating_sub(now),
                limit => limit.min(claims.exp.saturating_sub(now)),
            },
            session,
        })
    }

    /// Ends the session of `session_token`. Ending an already ended session succeeds.
    pub async fn logout(&self, session_token: &str) -> Result<()> {
        let now = self.now();
        let claims = self.claims(session_token, TokenKind::Session, now).await?;
        // A token a renewal replaced (past its grace) no longer speaks for the session: it is
        // refused as at any other request, so that a leaked old token cannot end the session. A
        // session already gone is not an error (logout is idempotent). Checked and deleted in
        // one store call. The engine session goes first, while the session still names it.
        self.queries
            .close_engine_session(claims.session_id, &claims.jti, RENEW_GRACE_SECONDS)
            .await;
        if !self
            .store
            .delete_with_token(claims.session_id, &claims.jti, now, RENEW_GRACE_SECONDS)
            .await?
        {
            return Err(Error::SessionTokenExpired);
        }
        Attempt {
            method: Some(Method::Logout),
            user: Some(&claims.sub),
            account: Some(&claims.account),
            session_id: Some(claims.session_id),
            ..Attempt::default()
        }
        .record(None, "session deleted");
        Ok(())
    }
}
