//! The SQL API's statements (`POST /api/v2/statements`): each request proves its caller on its own
//! (`Gatekeeper::sql_api`, through the per-request verifier) and carries its whole context
//! (database, schema, warehouse, role), so a statement runs in a context made for it and kept
//! nowhere: no session record, no session token. What runs here is what a driver session runs
//! here: `SELECT` of constants and `CURRENT_*()`, `SHOW PARAMETERS`, the login history, and the
//! administration of what snowgate keeps (users, roles, grants, policies, PATs: Snowflake's SQL
//! API runs `CREATE USER` as any statement, so snowgate does too, under the same role rules). With
//! an engine, everything else goes there in an engine session opened for the statement and closed
//! after it. Refused, as Snowflake's SQL API refuses them: `USE`, `ALTER SESSION`, transactions
//! and the session functions, which change or name a session the request does not have.

use std::net::IpAddr;

use super::statement::{ContextStatement, Statement};
use super::{Answer, Forwardable, Queries, QueryContext, log_context, new_query_id, sql_error};
use crate::domain::ident::Ident;
use crate::domain::login::input::LoginInput;
use crate::domain::login::verified::initial_context;
use crate::domain::session::new_session_id;
use crate::error::{Error, Result, SqlErrorKind};

/// Who calls, as the per-request verifier admitted them.
#[derive(Debug, Clone)]
pub struct Detached {
    pub user: String,
    /// The user's incarnation: a user dropped and made again since the check is not the caller.
    pub user_id: String,
    pub account: String,
    /// The role admitted (asked for, else the credential's, else the user's default).
    pub role: String,
    /// The credential is a PAT: its role restriction and self-service rules hold.
    pub by_pat: bool,
}

/// One SQL API statement and its context, as the request gave them (names not yet normalised).
#[derive(Debug, Clone, Copy)]
pub struct SqlApiRequest<'a> {
    pub statement: &'a str,
    pub database: Option<&'a str>,
    pub schema: Option<&'a str>,
    pub warehouse: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub client_ip: Option<IpAddr>,
    /// The engine's statement request for this statement, built by the edge (the domain never
    /// writes the engine's JSON).
    pub engine_request: Forwardable<'a>,
}

const NOT_IN_SQL_API: &str = "Unsupported feature: USE, ALTER SESSION, BEGIN, COMMIT, ROLLBACK and the session functions are not supported by the SQL API. Give the context as the request's database, schema, warehouse and role.";

impl Queries {
    /// Runs one SQL API statement for `who`, as the module's doc says.
    pub(in crate::domain) async fn run_detached(
        &self,
        who: Detached,
        request: SqlApiRequest<'_>,
    ) -> Result<Answer> {
        let front_end = self
            .front_end
            .get()
            .ok_or_else(|| Error::Internal("no SQL front end configured".into()))?
            .as_ref();
        let user = self
            .directory
            .user(Ident::stored(&who.user))
            .await?
            .filter(|u| u.id == who.user_id)
            .ok_or(Error::InvalidToken)?;
        let input = LoginInput {
            database: request.database.map(str::to_string),
            schema: request.schema.map(str::to_string),
            warehouse: request.warehouse.map(str::to_string),
            role: Some(format!("\"{}\"", who.role.replace('"', "\"\""))),
            ..LoginInput::default()
        };
        let context = initial_context(&user, &input)?;
        let ctx = QueryContext {
            query_id: new_query_id(),
            request_id: request.request_id.map(str::to_string),
            session_id: new_session_id(),
            account: who.account,
            user: who.user,
            user_id: who.user_id,
            user_record: user,
            context,
            client_ip: request.client_ip,
            role_restriction: who.by_pat.then(|| who.role.clone()),
            oauth: None,
            opened_by_pat: who.by_pat,
        };
        log_context(&ctx);
        let sql = request.statement;
        let engine = self.engine.get().is_some();
        let admin = match front_end.is_admin(sql) {
            Ok(admin) => admin,
            Err(_) if engine => return self.run_detached_on_engine(&ctx, request).await,
            Err(rejection) => return Err(sql_error(&ctx, rejection)),
        };
        let role_checked = admin && !front_end.is_self_service(sql);
        if role_checked && let Err(e) = self.check_admin_role(&ctx).await {
            return Err(e.with_query_id(&ctx.query_id));
        }
        let parsed = front_end.parse(sql);
        if let Ok(Statement::Context(
            ContextStatement::Use(_)
            | ContextStatement::AlterSession(_)
            | ContextStatement::Transaction
            | ContextStatement::SessionFunction { .. },
        )) = parsed
        {
            return Err(
                Error::sql(SqlErrorKind::Unsupported, NOT_IN_SQL_API).with_query_id(&ctx.query_id)
            );
        }
        if engine && !Self::stays_local(admin, &parsed, false) {
            return self.run_detached_on_engine(&ctx, request).await;
        }
        let statement = parsed.map_err(|r| sql_error(&ctx, r))?;
        self.run_local(&ctx, statement, role_checked)
            .await
            .map(Answer::Local)
            .map_err(|e| e.with_query_id(&ctx.query_id))
    }
}
