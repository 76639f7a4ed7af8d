//! The query context: who runs this query, in which database, schema, warehouse and role, from where,
//! under which request and query ids. Session-context statements are answered here from the session.
//! [`Queries`] runs every statement, once `Gatekeeper::query` has checked the session's rights.

pub mod context;
pub mod engine;
pub mod login_history;
pub mod sql_api;
pub mod statement;

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use super::SERVER_VERSION;
use super::admin::{self, AdminCommand, AdminContext, Origin};
use super::audit;
use super::credentials::passwords::PasswordHasher;

use super::directory::{ADMIN_ROLES, Directory, User};
use super::login::oauth::check_oauth_role;
use super::ports::engine::{EngineAnswer, QueryEngine};
use super::ports::secrets::SecretSource;
use super::ports::storage::Store;
use super::query::statement::{
    ContextFunction, ContextStatement, SqlFrontEnd, SqlRejection, Statement, UseTarget,
};
use super::session::{Credential, OAuthGrant, Session, SessionContext};
use crate::error::{Error, Result, SqlError, SqlErrorKind};

/// Snowflake's answer to a statement that returns no data.
pub(super) const SUCCESS: &str = "Statement executed successfully.";

/// Everything known about one query, resolved before it runs. Logged for every query.
#[derive(Debug, Clone)]
pub struct QueryContext {
    pub query_id: String,
    pub request_id: Option<String>,
    pub session_id: u64,
    pub account: String,
    pub user: String,
    pub user_id: String,
    /// The session's user as read with the session (its rights already checked).
    pub user_record: User,
    pub context: SessionContext,
    pub client_ip: Option<IpAddr>,
    /// The role a PAT's ROLE_RESTRICTION (or an OAuth scope) holds the session to.
    pub role_restriction: Option<String>,
    /// An OAuth session's integration, whose role rules USE ROLE keeps to.
    pub oauth: Option<OAuthGrant>,
    /// The session was opened with a programmatic access token.
    pub opened_by_pat: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    Select,
    Use,
    Ddl,
    Transaction,
    AlterSession,
}

/// A result column's type, as drivers read it from the row type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    /// NUMBER(precision, scale).
    Fixed {
        precision: u8,
        scale: u8,
    },
    Boolean,
    /// TIMESTAMP_LTZ(9): cells are epoch seconds with nine decimals.
    TimestampLtz,
}

/// A one-statement result: text columns, rows, and the session context after the statement.
#[derive(Debug)]
pub struct QueryOutcome {
    pub query_id: String,
    pub kind: StatementKind,
    pub columns: Vec<String>,
    /// One per column.
    pub types: Vec<ColumnType>,
    pub rows: Vec<Vec<Option<String>>>,
    pub context: SessionContext,
}

/// What a statement answers: a result snowgate made, or the query engine's answer, passed on.
#[derive(Debug)]
pub enum Answer {
    Local(QueryOutcome),
    Engine(EngineAnswer),
}

/// The client's statement request as it came (query string and decompressed body), for the engine.
#[derive(Debug, Clone, Copy)]
pub struct Forwardable<'a> {
    pub query: &'a str,
    pub body: &'a [u8],
    /// The client asked for asynchronous execution (`asyncExec`): it will ask the engine for the
    /// statement's status and result by its id.
    pub async_exec: bool,
}

/// Statement execution: what running a statement needs, and the SQL front end that parses it
/// (given by the composition root; the domain never names the parser).
pub struct Queries {
    pub(in crate::domain) store: Arc<dyn Store>,
    pub(in crate::domain) directory: Directory,
    secrets: Arc<dyn SecretSource>,
    hasher: PasswordHasher,
    /// The gatekeeper's clock (epoch seconds).
    clock: Arc<dyn Fn() -> u64 + Send + Sync>,
    front_end: OnceLock<Arc<dyn SqlFrontEnd>>,
    /// The query engine statements snowgate does not answer go to; none: they are refused.
    engine: OnceLock<Arc<dyn QueryEngine>>,
}

impl Queries {
    pub fn new(
        store: Arc<dyn Store>,
        secrets: Arc<dyn SecretSource>,
        hasher: PasswordHasher,
        clock: Arc<dyn Fn() -> u64 + Send + Sync>,
    ) -> Self {
        Self {
            directory: Directory::new(Arc::clone(&store)),
            store,
            secrets,
            hasher,
            clock,
            front_end: OnceLock::new(),
            engine: OnceLock::new(),
        }
    }

    /// The SQL front end statements are parsed with; set once by the composition root. A second
    /// call keeps the first.
    pub fn set_front_end(&self, front_end: Arc<dyn SqlFrontEnd>) {
        let _ = self.front_end.set(front_end);
    }

    /// The query engine behind snowgate; set once by the composition root. A second call keeps
    /// the first.
    pub fn set_engine(&self, engine: Arc<dyn QueryEngine>) {
        let _ = self.engine.set(engine);
    }

    pub(in crate::domain) fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Runs `sql` in `session` as [`Queries::execute`] does, without an engine: snowgate's own
    /// answer, or its refusal.
    pub(in crate::domain) async fn run(
        &self,
        session: Session,
        user: User,
        sql_text: &str,
        request_id: Option<&str>,
        client_ip: Option<IpAddr>,
    ) -> Result<QueryOutcome> {
        match self
            .execute(session, user, sql_text, request_id, client_ip, None)
            .await?
        {
            Answer::Local(outcome) => Ok(outcome),
            Answer::Engine(_) => Err(Error::Internal("a statement went to the engine".into())),
        }
    }

    /// Runs `sql` in `session`, whose user (`user`) and rights the caller checked: session context
    /// statements from the session, administration against the directory (for administrator roles
    /// only), and, with an engine configured and the request as it came (`raw`), everything
    /// [`Queries::stays_local`] does not keep on the engine. The role is checked before an
    /// administration statement is parsed, so a session without one never reaches the
    /// administration grammar.
    pub(in crate::domain) async fn execute(
        &self,
        session: Session,
        user: User,
        sql_text: &str,
        request_id: Option<&str>,
        client_ip: Option<IpAddr>,
        raw: Option<Forwardable<'_>>,
    ) -> Result<Answer> {
        let front_end = self
            .front_end
            .get()
            .ok_or_else(|| Error::Internal("no SQL front end configured".into()))?
            .as_ref();
        let ctx = QueryContext {
            query_id: new_query_id(),
            request_id: request_id.map(str::to_string),
            session_id: session.id,
            account: session.account.clone(),
            user: session.user.clone(),
            user_id: session.user_id.clone(),
            user_record: user,
            context: session.context.clone(),
            client_ip,
            role_restriction: session.role_restriction.clone(),
            oauth: session.oauth.clone(),
            opened_by_pat: matches!(session.opened_by, Some(Credential::Pat { .. })),
        };
        log_context(&ctx);
        // PAT and MFA statements are allowed to any role for one's own user: authorised where they
        // run.
        let raw = raw.filter(|_| self.engine.get().is_some());
        let admin = match (front_end.is_admin(sql_text), raw) {
            (Ok(admin), _) => admin,
            // An administration verb on an object snowgate does not keep (a table, a view): the
            // engine's, whatever the role.
            (Err(rejection), Some(raw)) => {
                return self
                    .run_on_engine(&session, &ctx, raw, Err(rejection))
                    .await;
            }
            (Err(rejection), None) => return Err(sql_error(&ctx, rejection)),
        };
        let role_checked = admin && !front_end.is_self_service(sql_text);
        if role_checked && let Err(e) = self.check_admin_role(&ctx).await {
            return Err(e.with_query_id(&ctx.query_id));
        }
        let parsed = front_end.parse(sql_text);
        if let Some(raw) = raw
            && !Self::stays_local(admin, &parsed, raw.async_exec)
        {
            return self.run_on_engine(&session, &ctx, raw, parsed).await;
        }
        let statement = parsed.map_err(|r| sql_error(&ctx, r))?;
        let result = self.run_local(&ctx, statement, role_checked).await;
        result
            .map(Answer::Local)
            .map_err(|e| e.with_query_id(&ctx.query_id))
    }

    async fn run_local(
        &self,
        ctx: &QueryContext,
        statement: Statement,
        role_checked: bool,
    ) -> Result<QueryOutcome> {
        match statement {
            Statement::Context(ContextStatement::Use(target)) => self.use_(ctx, target).await,
            Statement::Context(ContextStatement::SelectCurrent(columns)) => {
                Ok(self.select(ctx, columns))
            }
            Statement::Context(ContextStatement::Transaction) => Ok(self.transaction(ctx)),
            Statement::Context(ContextStatement::AlterSession(changes)) => {
                self.alter_session(ctx, changes).await
            }
            Statement::Context(ContextStatement::ShowParameters { like }) => {
                Ok(self.show_parameters(ctx, like))
            }
            Statement::Context(ContextStatement::SessionFunction {
                function,
                session_id,
                name,
            }) => self.session_function(ctx, function, session_id, name).await,
            Statement::Admin(admin) => self.administer(ctx, admin, role_checked).await,
            Statement::LoginHistory(read) => self.login_history(ctx, read).await,
        }
    }

    async fn use_(&self, ctx: &QueryContext, target: UseTarget) -> Result<QueryOutcome> {
        let mut context = ctx.context.clone();
        match target {
            UseTarget::Database(db) => context.use_database(&db),
            UseTarget::Schema { database, schema } => {
                if let Some(db) = database {
                    context.database = Some(db.into_string());
                } else if context.database.is_none() {
                    return Err(Error::sql(
                        SqlErrorKind::Syntax,
                        "SQL compilation error:\nCannot perform USE SCHEMA. This session does not have a current database. Call 'USE DATABASE', or use a qualified name.",
                    ));
                }
                context.schema = Some(schema.into_string());
            }
            UseTarget::Warehouse(wh) => context.warehouse = Some(wh.into_string()),
            UseTarget::Role(role) => {
                if let Some(only) = ctx.role_restriction.as_deref()
                    && only != role.as_str()
                {
                    let credential = match ctx.oauth {
                        Some(_) => "OAuth access token",
                        None => "programmatic access token",
                    };
                    return Err(Error::sql(
                        SqlErrorKind::InsufficientPrivileges,
                        format!(
                            "SQL access control error:\nThis session's {credential} is restricted to role '{only}'; USE ROLE {role} is not allowed."
                        ),
                    ));
                }
                let granted = ctx.user_record.effective_roles();
                if !granted.contains(role.as_str()) {
                    return Err(Error::sql(
                        SqlErrorKind::InsufficientPrivileges,
                        format!(
                            "SQL access control error:\nRole '{role}' does not exist or is not granted to user '{}'.",
                            ctx.user
                        ),
                    ));
                }
                if let Some(grant) = &ctx.oauth {
                    check_oauth_role(&self.directory, grant, &ctx.user_record, role.as_str())
                        .await?;
                }
                context.role = Some(role.into_string());
            }
        }
        self.save_context(ctx, context, StatementKind::Use).await
    }

    /// Stores a statement's new session context (only while the session lives) and answers with
    /// Snowflake's one-row status.
    pub(super) async fn save_context(
        &self,
        ctx: &QueryContext,
        context: SessionContext,
        kind: StatementKind,
    ) -> Result<QueryOutcome> {
        if !self
            .store
            .update_context(ctx.session_id, &context, self.now())
            .await?
        {
            return Err(Error::SessionGone);
        }
        let status = SUCCESS.to_string();
        Ok(QueryOutcome::status(ctx, kind, context, status))
    }

    /// The session's role is an administrator role the user still holds. Grants are checked at
    /// every statement, not only at login: a revoked role, a disabled or a dropped user stops
    /// administering at once, even in an open session.
    async fn check_admin_role(&self, ctx: &QueryContext) -> Result<()> {
        let role = ctx.context.role.as_deref().unwrap_or("PUBLIC");
        // `authenticated` ended the session already if the user lost this role or was disabled.
        let user = &ctx.user_record;
        let holds_role =
            ADMIN_ROLES.contains(&role) && !user.disabled && user.effective_roles().contains(role);
        if holds_role {
            return Ok(());
        }
        Err(Error::sql(
            SqlErrorKind::InsufficientPrivileges,
            format!(
                "SQL access control error:\nInsufficient privileges to operate on account '{}'. Role '{role}' cannot administer users, roles or network policies; use ACCOUNTADMIN, SECURITYADMIN or USERADMIN.",
                ctx.account
            ),
        ))
    }

    async fn administer(
        &self,
        ctx: &QueryContext,
        statement: AdminCommand,
        role_checked: bool,
    ) -> Result<QueryOutcome> {
        // A front end whose `is_admin` missed this statement still gets it checked.
        if !role_checked && !matches!(statement, AdminCommand::Pat(_) | AdminCommand::Mfa(_)) {
            self.check_admin_role(ctx).await?;
        }
        let role = ctx.context.role.as_deref().unwrap_or("PUBLIC");
        let secrets = self.secrets.current();
        let admin_ctx = AdminContext {
            directory: &self.directory,
            client_ip: ctx.client_ip,
            role,
            user: &ctx.user,
            now: self.now(),
            hasher: &self.hasher,
            database: ctx.context.database.as_deref(),
            schema: ctx.context.schema.as_deref(),
            keyring: &secrets.keyring,
            account: &ctx.account,
            origin: Origin {
                role_restriction: ctx.role_restriction.as_deref(),
                by_pat: ctx.opened_by_pat,
            },
        };
        let (kind, object) = statement.audit_label();
        let result = admin::run(&admin_ctx, statement).await;
        let code = result.as_ref().err().map(crate::snowflake::codes::of);
        audit::administration(&ctx.user, role, kind, &object, code);
        let answer = result?;
        Ok(QueryOutcome {
            query_id: ctx.query_id.clone(),
            kind: if answer.is_ddl {
                StatementKind::Ddl
            } else {
                StatementKind::Select
            },
            types: vec![ColumnType::Text; answer.columns.len()],
            columns: answer.columns,
            rows: answer.rows,
            context: ctx.context.clone(),
        })
    }
}

/// The query's context, logged for every query at DEBUG: at INFO, one line per statement was the
/// largest cost of a `SELECT CURRENT_DATABASE()` (its formatting and its `write` to stdout), and
/// what it would say is elsewhere: administration has its audit event, a statement sent to the
/// engine its own INFO line, a refusal the refusal's line. The SQL text is never logged:
/// administration statements carry passwords and keys.
fn log_context(ctx: &QueryContext) {
    tracing::debug!(
        query_id = %ctx.query_id,
        request_id = ctx.request_id.as_deref().unwrap_or("-"),
        session_id = ctx.session_id,
        account = %ctx.account,
        user = %ctx.user,
        role = ctx.context.role.as_deref().unwrap_or("-"),
        database = ctx.context.database.as_deref().unwrap_or("-"),
        schema = ctx.context.schema.as_deref().unwrap_or("-"),
        warehouse = ctx.context.warehouse.as_deref().unwrap_or("-"),
        client_ip = %super::audit::ip_text(ctx.client_ip),
        "query context resolved"
    );
}

pub(super) fn value_of(ctx: &QueryContext, f: ContextFunction) -> Option<String> {
    match f {
        ContextFunction::Database => ctx.context.database.clone(),
        ContextFunction::Schema => ctx.context.schema.clone(),
        ContextFunction::Warehouse => ctx.context.warehouse.clone(),
        ContextFunction::Role => ctx.context.role.clone(),
        ContextFunction::User => Some(ctx.user.clone()),
        ContextFunction::Account => Some(ctx.account.clone()),
        ContextFunction::Session => Some(ctx.session_id.to_string()),
        ContextFunction::Version => Some(SERVER_VERSION.to_string()),
        ContextFunction::IpAddress => ctx.client_ip.map(|ip| ip.to_string()),
    }
}

fn sql_error(ctx: &QueryContext, rejection: SqlRejection) -> Error {
    let error = match rejection {
        SqlRejection::Syntax(detail) => SqlError {
            kind: SqlErrorKind::Syntax,
            message: format!("SQL compilation error:\n{detail}"),
        },
        SqlRejection::InvalidValue(message) => SqlError {
            kind: SqlErrorKind::InvalidValue,
            message,
        },
        SqlRejection::Unsupported(what) => SqlError {
            kind: SqlErrorKind::Unsupported,
            message: format!(
                "Unsupported feature: {what}. snowgate answers session context statements (USE DATABASE|SCHEMA|WAREHOUSE|ROLE; SELECT of constants and CURRENT_DATABASE(), CURRENT_SCHEMA(), CURRENT_WAREHOUSE(), CURRENT_ROLE(), CURRENT_USER(), CURRENT_ACCOUNT(), CURRENT_SESSION(), CURRENT_VERSION(), CURRENT_IP_ADDRESS() without FROM; BEGIN, COMMIT, ROLLBACK; ALTER SESSION SET|UNSET; SHOW PARAMETERS; SYSTEM$CANCEL_ALL_QUERIES and SYSTEM$ABORT_SESSION of the own session) and the administration of users, roles and network policies."
            ),
        },
    };
    Error::Sql {
        error,
        query_id: ctx.query_id.clone(),
    }
}

/// Query ids look like Snowflake's: a UUID string.
fn new_query_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
