//! The service itself: log in, check tokens and rights, renew, heartbeat, log out, run a statement.
//! Handlers call these with domain types; this file never sees HTTP or the wire format. It
//! orchestrates: each login method is an authenticator (`login/`), a session's life is
//! `session/lifecycle.rs`, statements run in `query/`.

use std::sync::Arc;

use secrecy::ExposeSecret;
use serde_json::Value;

use super::access::exchange::{EXCHANGED_TOKEN_SECONDS, Exchange};
use super::access::{Access, Caller, Presented, Proven, TokenType, Via};
use super::audit::{Attempt, Method};
use super::credentials::jwks::JwksCache;
use super::credentials::passwords::PasswordHasher;
use super::directory::demo_seed::DemoSeeder;
use super::directory::{Directory, LoginReads, PolicySource, User};
use super::login::checks::LoginChecks;
use super::login::history::LoginHistory;
pub use super::login::input::LoginInput;
use super::login::oauth;
use super::login::pick::Picked;
use super::login::verified::{SecondFactor, Verified};
use super::login::workload::attestation::CallerIdentity;
use super::login::{Authenticators, LoginCx};
use super::policy::AuthMethod;
use super::ports::engine::{EngineAnswer, EngineCall, QueryEngine};
use super::query::sql_api::{Detached, SqlApiRequest};
use super::query::statement::SqlFrontEnd;
use super::query::{Answer, Forwardable, Queries, QueryOutcome};
use super::session::tokens::{IngressGrant, TokenKind};
use super::session::{Credential, Session, new_session_id};
use crate::domain::ports::secrets::SecretSource;
use crate::domain::ports::storage::Store;
use crate::error::{Error, Result};

mod outcomes;
mod sessions;

pub use super::settings::{Clock, Settings, system_clock};
pub use outcomes::{LoginOutcome, Renewed};
use sessions::Sessions;

/// How long a session token keeps working after it was renewed, so that requests already on their way
/// with it (a driver's other threads) do not fail. Then it answers 390112 and the driver renews.
pub const RENEW_GRACE_SECONDS: u64 = 30;

/// The service: the login methods, the session lifecycle, the login history and statement
/// execution, orchestrated. Each part holds only its own collaborators.
pub struct Gatekeeper {
    secrets: Arc<dyn SecretSource>,
    settings: Settings,
    clock: Clock,
    authenticators: Authenticators,
    checks: LoginChecks,
    sessions: Sessions,
    history: LoginHistory,
    demo: DemoSeeder,
    /// Reads what a login needs up front, and an OAuth session's integration at each request.
    directory: Directory,
    /// Statement execution, once a session's rights are checked.
    queries: Queries,
    /// Credentials presented with each request (forward-auth, the SQL API, token exchange).
    access: Access,
}

impl Gatekeeper {
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
        let authenticators = Authenticators::new(
            Arc::clone(&store),
            Arc::clone(&secrets),
            hasher.clone(),
            settings.clone(),
        );
        let (checks, keys) = authenticators.shared();
        Self {
            access: Access::new(Arc::clone(&store), checks, keys),
            authenticators,
            checks: LoginChecks::new(Directory::new(Arc::clone(&store)), settings.clone()),
            sessions: Sessions::new(
                Arc::clone(&store),
                Arc::clone(&secrets),
                settings.session_idle_seconds,
            ),
            history: LoginHistory::new(Arc::clone(&store)),
            demo: DemoSeeder::new(Arc::clone(&store), Arc::clone(&secrets), hasher),
            directory: Directory::new(store),
            secrets,
            settings,
            clock,
            queries,
        }
    }

    /// Workload identity logins (AWS) replay attestations through `sts`; `extra_host` is one more
    /// host an attestation may be signed for (the configured STS endpoint's).
    pub fn with_sts(self, sts: Arc<dyn CallerIdentity>, extra_host: Option<String>) -> Self {
        Self {
            authenticators: self.authenticators.with_sts(sts, extra_host),
            ..self
        }
    }

    /// The SQL front end statements are parsed with, given by the composition root (the domain
    /// never names it). A second call keeps the first.
    pub fn set_front_end(&self, front_end: Arc<dyn SqlFrontEnd>) {
        self.queries.set_front_end(front_end);
    }

    /// Where issuers' keys come from (OIDC workload identity, External OAuth key URLs). Without
    /// it, logins needing them are refused. A second call keeps the first cache.
    pub fn set_jwks(&self, cache: Arc<JwksCache>) {
        self.authenticators.set_jwks(cache);
    }

    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Makes sure the demo user of the configuration is seeded ([`DemoSeeder`]): once per store,
    /// not at every start. Logins and per-request authorizations make sure of it themselves.
    pub async fn seed_demo_user(&self) -> Result<()> {
        self.demo.ensure(self.now()).await
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
        raw: Forwardable<'_>,
    ) -> Result<Answer> {
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
        call: EngineCall<'_>,
    ) -> Result<EngineAnswer> {
        let (session, _) = self.authenticated(session_token).await?;
        self.queries.engine_call(&session, call).await
    }

    /// The query engine behind snowgate, given by the composition root.
    pub fn set_engine(&self, engine: Arc<dyn QueryEngine>) {
        self.queries.set_engine(engine);
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
                if !attempt.in_history && !shed && self.history.has_room_for(&input, e, now) {
                    let user = match &proven {
                        Some(user) => Some(user.clone()),
                        None => {
                            self.history
                                .failed_login_user(&input, reads.as_ref(), now)
                                .await
                        }
                    };
                    let event = super::query::login_history::event(
                        &input,
                        attempt.method,
                        user.as_deref(),
                        now,
                        Some(e),
                    );
                    self.history.record(&event).await;
                }
            }
        }
        result
    }

    async fn try_login(
        &self,
        input: &LoginInput,
        attempt: &mut Attempt<'_>,
        reads: &mut Option<LoginReads>,
        proven: &mut Option<String>,
    ) -> Result<LoginOutcome> {
        let now = self.now();
        self.demo.ensure(now).await?;
        // Read once, up front, in one batch: the account's settings (the network policy before the
        // credential and the authentication policy after it both fall back to the account's), and
        // the user the login names with the failures counted under that name; then, in a second
        // batch, the policy records that govern the login, if any.
        let reads = reads.insert(
            self.directory
                .login_reads(input.named_user(now).as_deref(), now)
                .await?,
        );
        let picked = input.picked()?;
        attempt.method = Some(Method::Login(picked.method()));
        let cx = LoginCx { input, reads, now };
        let verified = self.authenticators.verify(picked, &cx).await?;
        *proven = Some(verified.user.name.clone());
        if verified.method == AuthMethod::ProgrammaticAccessToken {
            attempt.method = Some(Method::Login(AuthMethod::ProgrammaticAccessToken));
        }
        if verified.user.disabled {
            return Err(Error::UserDisabled);
        }
        let (user, method, second_factor) =
            (&verified.user, verified.method, verified.second_factor);
        self.checks
            .authentication_policy(user, &*reads, input, method, second_factor)
            .await?;
        self.open_session(input, &*reads, verified, now, attempt)
            .await
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
        let idle_limit = self.sessions.idle_limit(&user, policies).await?;
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
            self.sessions.create(session, mint, now),
            self.history.record(&event)
        );
        let (session, session_token) = created?;
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
        let claims = self
            .sessions
            .claims(session_token, TokenKind::Session, now)
            .await?;
        let checked = self
            .sessions
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
        let user = doc
            .map(|d| self.sessions.user_of(&claims.sub, d))
            .transpose()?;
        let user = self.sessions.check_rights(&session, user, now).await?;
        if session.oauth_expired(now) {
            // As an idle session: drivers renew on 390112, and the renewal ends it with 390114.
            return Err(Error::SessionTokenExpired);
        }
        self.check_oauth_session(&session, &user).await?;
        Ok((session, user))
    }

    /// An OAuth session keeps to its integration at every request: it ends (390111) once the
    /// integration no longer admits its user or role ([`oauth::session_refusal`]).
    async fn check_oauth_session(&self, session: &Session, user: &User) -> Result<()> {
        match oauth::session_refusal(&self.directory, session, user).await? {
            None => Ok(()),
            Some(why) => {
                self.sessions.end(session, why).await?;
                Err(Error::SessionGone)
            }
        }
    }

    /// A new session token for the session of `master_token`; the master token itself is unchanged.
    /// The previous session token keeps working for [`RENEW_GRACE_SECONDS`].
    /// `ISSUE` (what Snowpark Container Services' session-token path asks for) is answered alike:
    /// the connector takes the new token as its own, and its caller passes the same token on.
    pub async fn renew(&self, master_token: &str, request_type: &str) -> Result<Renewed> {
        if !["RENEW", "ISSUE"]
            .iter()
            .any(|t| request_type.eq_ignore_ascii_case(t))
        {
            return Err(Error::BadRequest(format!(
                "requestType '{request_type}' is not supported; only RENEW and ISSUE are."
            )));
        }
        let now = self.now();
        let claims = self
            .sessions
            .claims(master_token, TokenKind::Master, now)
            .await?;
        let checked = self
            .sessions
            .read_and_touch(claims.session_id, &claims.sub, now)
            .await?;
        let (session, doc) = (checked.session, checked.user);
        let session = session.ok_or(Error::SessionGone)?;
        if checked.idle {
            self.sessions.end_idle(&session, "idle timeout").await?;
            return Err(Error::MasterTokenExpired);
        }
        let user = doc
            .map(|d| self.sessions.user_of(&claims.sub, d))
            .transpose()?;
        let user = self.sessions.check_rights(&session, user, now).await?;
        if session.oauth_expired(now) {
            self.sessions
                .end_idle(&session, "OAuth access token expired")
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
        if !self
            .sessions
            .rotate_token(session.id, &token_id, now)
            .await?
        {
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
        let claims = self
            .sessions
            .claims(session_token, TokenKind::Session, now)
            .await?;
        // A token a renewal replaced (past its grace) no longer speaks for the session: it is
        // refused as at any other request, so that a leaked old token cannot end the session. A
        // session already gone is not an error (logout is idempotent). Checked and deleted in
        // one store call. The engine session goes first, while the session still names it.
        self.queries
            .close_engine_session(claims.session_id, &claims.jti, RENEW_GRACE_SECONDS)
            .await;
        if !self
            .sessions
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

    /// Who calls with the credential a request presents (a key-pair JWT, PAT, session token,
    /// exchanged token or External OAuth token), checked now against the user, their network,
    /// authentication and PAT policies and the role; recorded as `domain/access/`'s doc says.
    pub async fn authorize(&self, presented: &Presented) -> Result<Caller> {
        let now = self.now();
        // The directory's start-up upkeep (the demo user, the PAT and AWS indexes), as at a login.
        self.demo.ensure(now).await?;
        let result = match self.prove(presented, now).await {
            Ok(proven) => self.access.admit(proven, presented).await,
            Err(e) => Err(e),
        };
        self.access.record(presented, &result, now).await;
        result
    }

    /// The credential of `presented` proven, by its type.
    async fn prove(&self, presented: &Presented, now: u64) -> Result<Proven> {
        let token = presented.token.expose_secret();
        match presented.token_type() {
            TokenType::KeyPair => self.access.key_pair(token, now).await,
            TokenType::Pat => self.access.pat(&presented.token, now).await,
            TokenType::Exchanged => {
                let claims = self.sessions.claims(token, TokenKind::Ingress, now).await?;
                let host = presented.host.as_deref();
                self.access.exchanged(claims, host, now).await
            }
            TokenType::Session => {
                let (session, user) = self.authenticated(token).await?;
                let method = match &session.opened_by {
                    Some(Credential::Pat { .. }) => AuthMethod::ProgrammaticAccessToken,
                    Some(Credential::KeyPair { .. }) => AuthMethod::Keypair,
                    None if session.oauth.is_some() => AuthMethod::Oauth,
                    None => AuthMethod::Password,
                };
                let mut verified = Verified::by(user, session.account, method);
                // The session's role, which its login's policies admitted.
                verified.role_restriction = session.context.role;
                let reads = self.access.account_reads(now).await?;
                Ok(Proven {
                    verified,
                    reads,
                    network: true,
                    policy: false,
                })
            }
            TokenType::Oauth => {
                let input = LoginInput {
                    token: Some(presented.token.clone()),
                    client_ip: presented.client_ip,
                    ..LoginInput::default()
                };
                let reads = self.access.account_reads(now).await?;
                let cx = LoginCx {
                    input: &input,
                    reads: &reads,
                    now,
                };
                let verified = self.authenticators.verify(Picked::Oauth, &cx).await?;
                Ok(Proven {
                    verified,
                    reads,
                    network: true,
                    policy: true,
                })
            }
        }
    }

    /// `POST /oauth/token`: the key-pair JWT or PAT of `exchange` proven and checked as a
    /// request's, then a token for its endpoint host and role ([`EXCHANGED_TOKEN_SECONDS`]).
    pub async fn exchange(
        &self,
        exchange: Exchange,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<(String, u64)> {
        let presented = Presented {
            token: exchange.credential,
            declared: Some(exchange.declared),
            host: Some(exchange.host),
            client_ip,
            role: exchange.role,
            via: Via::Exchange,
        };
        let caller = self.authorize(&presented).await?;
        let grant = IngressGrant {
            user: &caller.user,
            user_id: &caller.user_id,
            account: &caller.account,
            role: &caller.role,
            host: presented.host.as_deref().unwrap_or_default(),
            credential: caller.credential.clone(),
        };
        let token =
            self.secrets
                .current()
                .keyring
                .mint_ingress(grant, self.now(), EXCHANGED_TOKEN_SECONDS);
        Ok((token, EXCHANGED_TOKEN_SECONDS))
    }

    /// A SQL API statement: the caller proven per request (`authorize`), then the statement run
    /// for them in a context of its own that is kept nowhere (`query/sql_api.rs`).
    pub async fn sql_api(
        &self,
        presented: &Presented,
        request: SqlApiRequest<'_>,
    ) -> Result<(Caller, Answer)> {
        let caller = self.authorize(presented).await?;
        let who = Detached {
            by_pat: matches!(caller.credential, Some(Credential::Pat { .. })),
            user: caller.user.clone(),
            user_id: caller.user_id.clone(),
            account: caller.account.clone(),
            role: caller.role.clone(),
        };
        let answer = self.queries.run_detached(who, request).await?;
        Ok((caller, answer))
    }
}
