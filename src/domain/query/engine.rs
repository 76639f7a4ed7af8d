//! The engine gateway's side of statement execution: which statements go to the query engine (the
//! one routing rule, [`Queries::stays_local`]), and how they get there: with the session's engine
//! token, opened on the session's first forwarded request and kept sealed in the session record;
//! opened again once when the engine no longer knows it (it restarted: the statement did not run);
//! closed at logout. The engine's answer goes back to the client as it came; the context it reports
//! is copied into the session, so that `CURRENT_DATABASE()` and the rest stay true.

use secrecy::{ExposeSecret, SecretString};

use super::statement::{ContextStatement, SqlRejection, Statement, UseTarget};
use super::{Answer, Forwardable, Queries, QueryContext};
use crate::domain::ports::engine::{
    EngineAnswer, EngineCall, EngineContext, EngineError, EngineSession, QueryEngine,
};
use crate::domain::session::{SealedUpstream, Session, SessionContext, parameters};
use crate::error::{Error, Result};

/// The longest query id forwarded (Snowflake's are 36-character UUIDs).
const MAX_QUERY_ID_CHARS: usize = 64;

impl Queries {
    /// The routing rule, in one place: with an engine behind snowgate, what runs here and what goes
    /// there. Here: administration of what snowgate keeps (users, roles, grants, policies, PATs,
    /// MFA, workload identities, integrations: `admin`, decided from the statement's first words
    /// before parsing; an administration verb on any other object, a table, goes to the engine), the login history, `SHOW PARAMETERS`,
    /// `SYSTEM$CANCEL_ALL_QUERIES`/`SYSTEM$ABORT_SESSION`, `USE ROLE` (roles are snowgate's: the
    /// engine has none) and `SELECT` of constants and `CURRENT_*()` (answered from the session,
    /// which mirrors the engine's context), unless asked asynchronously (`async_exec`: the client
    /// then asks the engine for its status and result by id). Everything else goes to the engine, including `USE`
    /// of a database, schema or warehouse, `ALTER SESSION`, transactions, and whatever snowgate's
    /// parser does not know.
    pub(super) fn stays_local(
        admin: bool,
        parsed: &Result<Statement, SqlRejection>,
        async_exec: bool,
    ) -> bool {
        if admin {
            return true;
        }
        match parsed {
            Ok(Statement::Admin(_) | Statement::LoginHistory(_)) => true,
            Ok(Statement::Context(statement)) => match statement {
                ContextStatement::ShowParameters { .. }
                | ContextStatement::SessionFunction { .. }
                | ContextStatement::Use(UseTarget::Role(_)) => true,
                ContextStatement::SelectCurrent(_) => !async_exec,
                ContextStatement::Use(_)
                | ContextStatement::AlterSession(_)
                | ContextStatement::Transaction => false,
            },
            Err(_) => false,
        }
    }

    /// Sends the client's statement request to the engine. On success, the context the engine
    /// reports (and, for `ALTER SESSION`, the parameters snowgate knows) become the session's.
    pub(super) async fn run_on_engine(
        &self,
        session: &Session,
        ctx: &QueryContext,
        raw: Forwardable<'_>,
        parsed: Result<Statement, SqlRejection>,
    ) -> Result<Answer> {
        let call = EngineCall::Statement {
            query: raw.query,
            body: raw.body,
        };
        let answer = self.forward(session, &ctx.context, call).await?;
        if answer.success {
            let mut context = ctx.context.clone();
            if let Ok(Statement::Context(ContextStatement::AlterSession(changes))) = parsed
                && let Ok(kept) = parameters::apply(&context.parameters, changes)
            {
                // The engine took it; parameters snowgate does not keep are the engine's alone.
                context.parameters = kept;
            }
            mirror(&mut context, &answer.context);
            if context != ctx.context
                && !self
                    .store
                    .update_context(ctx.session_id, &context, self.now())
                    .await?
            {
                return Err(Error::SessionGone);
            }
        }
        tracing::info!(
            query_id = %ctx.query_id,
            request_id = ctx.request_id.as_deref().unwrap_or("-"),
            session_id = ctx.session_id,
            // Debug formatting escapes what a client chose, as in the audit events.
            user = ?ctx.user,
            role = ?ctx.context.role.as_deref().unwrap_or("-"),
            status = answer.status,
            success = answer.success,
            bytes = answer.body.len(),
            "statement forwarded to the query engine"
        );
        Ok(Answer::Engine(answer))
    }

    /// A result fetch, status or abort of the session, forwarded (its rights checked by the caller).
    pub(in crate::domain) async fn engine_call(
        &self,
        session: &Session,
        call: EngineCall<'_>,
    ) -> Result<EngineAnswer> {
        if let EngineCall::Result { query_id } | EngineCall::Status { query_id } = call
            && !is_query_id(query_id)
        {
            return Err(Error::BadRequest(
                "The query id is not a query id (letters, digits and dashes, at most 64).".into(),
            ));
        }
        self.forward(session, &session.context, call).await
    }

    /// A SQL API statement on the engine (`query/sql_api.rs`): no snowgate session holds an engine
    /// session for it, so one is opened for the statement, in its context, and closed after it.
    /// Nothing is retried: the session is new, so an engine that loses it did not restart between.
    pub(super) async fn run_detached_on_engine(
        &self,
        ctx: &QueryContext,
        request: super::sql_api::SqlApiRequest<'_>,
    ) -> Result<Answer> {
        let Some(engine) = self.engine.get() else {
            return Err(Error::Internal("no query engine is configured".into()));
        };
        let engine = engine.as_ref();
        let who = EngineSession {
            session_id: ctx.session_id,
            user: &ctx.user,
            account: &ctx.account,
            context: &ctx.context,
            client_app: Some("snowgate-sql-api"),
        };
        let call = EngineCall::Statement {
            query: request.engine_request.query,
            body: request.engine_request.body,
        };
        let answer = if engine.opens_sessions() {
            let token = engine.open(&who).await.map_err(engine_error)?;
            let answer = engine.forward(&who, Some(&token), call).await;
            close_quietly(engine, &token, ctx.session_id, "SQL API statement done").await;
            answer
        } else {
            engine.forward(&who, None, call).await
        }
        .map_err(engine_error)?;
        tracing::info!(
            query_id = %ctx.query_id,
            session_id = ctx.session_id,
            status = answer.status,
            success = answer.success,
            bytes = answer.body.len(),
            "SQL API statement forwarded to the query engine"
        );
        Ok(Answer::Engine(answer))
    }

    /// Forwards `call` for `session` with its engine token (opened now if it has none), and opens a
    /// new engine session once if the engine no longer knows the token.
    async fn forward(
        &self,
        session: &Session,
        context: &SessionContext,
        call: EngineCall<'_>,
    ) -> Result<EngineAnswer> {
        let Some(engine) = self.engine.get() else {
            return Err(Error::NotFound("no query engine is configured".into()));
        };
        let engine = engine.as_ref();
        let who = who(session, context);
        if !engine.opens_sessions() {
            return engine.forward(&who, None, call).await.map_err(engine_error);
        }
        let (token, sealed) = match session
            .upstream
            .as_ref()
            .and_then(|s| self.unseal(session.id, s))
        {
            Some(token) => (token, session.upstream.clone()),
            None => {
                self.open_engine_session(engine, &who, session.upstream.clone())
                    .await?
            }
        };
        match engine.forward(&who, Some(&token), call).await {
            Err(EngineError::SessionUnknown) => {
                tracing::warn!(
                    session_id = session.id,
                    "the query engine no longer knows this session (restarted?): opening another, once"
                );
                let (token, _) = self.open_engine_session(engine, &who, sealed).await?;
                engine
                    .forward(&who, Some(&token), call)
                    .await
                    .map_err(engine_error)
            }
            other => other.map_err(engine_error),
        }
    }

    /// Opens an engine session and stores it sealed, if the session's sealed token is still
    /// `expected`. When another request of the session stored one first (two first statements at
    /// once), this one is closed and the stored one used: no engine session is left behind.
    async fn open_engine_session(
        &self,
        engine: &dyn QueryEngine,
        who: &EngineSession<'_>,
        expected: Option<SealedUpstream>,
    ) -> Result<(SecretString, Option<SealedUpstream>)> {
        let token = engine.open(who).await.map_err(engine_error)?;
        let now = self.now();
        let sealed = {
            let secrets = self.secrets.current();
            let key = secrets.keyring.upstream_key();
            SealedUpstream {
                kid: key.kid().to_string(),
                sealed: key.seal(
                    token.expose_secret().as_bytes(),
                    who.session_id.to_string().as_bytes(),
                ),
                opened_at: now,
            }
        };
        if self
            .store
            .set_upstream(who.session_id, expected.as_ref(), &sealed, now)
            .await?
        {
            return Ok((token, Some(sealed)));
        }
        close_quietly(
            engine,
            &token,
            who.session_id,
            "another request stored one first",
        )
        .await;
        let current = self
            .store
            .get(who.session_id, now)
            .await?
            .ok_or(Error::SessionGone)?;
        let stored = current.upstream.clone();
        match stored.as_ref().and_then(|s| self.unseal(who.session_id, s)) {
            Some(token) => Ok((token, stored)),
            None => Err(Error::Unavailable(
                "the session's engine session changed concurrently".into(),
            )),
        }
    }

    /// Ends the engine session of the session `id` at logout, before the session itself goes, if
    /// the logout's token (`jti`) speaks for it. Best effort: a failure is logged, not returned.
    pub(in crate::domain) async fn close_engine_session(&self, id: u64, jti: &str, grace: u64) {
        let Some(engine) = self.engine.get().filter(|e| e.opens_sessions()) else {
            return;
        };
        let now = self.now();
        let session = match self.store.get(id, now).await {
            Ok(Some(session)) if session.accepts_token(jti, now, grace) => session,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(session_id = id, error = %e, "engine session not closed: the session could not be read");
                return;
            }
        };
        if let Some(token) = session.upstream.as_ref().and_then(|s| self.unseal(id, s)) {
            close_quietly(engine.as_ref(), &token, id, "logout").await;
        }
    }

    /// The engine token sealed for session `id`, if a loaded secret version opens it.
    fn unseal(&self, id: u64, sealed: &SealedUpstream) -> Option<SecretString> {
        let secrets = self.secrets.current();
        let key = secrets.keyring.upstream_key_for(&sealed.kid)?;
        let plain = key.open(&sealed.sealed, id.to_string().as_bytes())?;
        String::from_utf8(plain).ok().map(SecretString::from)
    }
}

async fn close_quietly(engine: &dyn QueryEngine, token: &SecretString, session_id: u64, why: &str) {
    match engine.close(token).await {
        Ok(()) => tracing::info!(session_id, reason = why, "engine session closed"),
        Err(e) => {
            tracing::warn!(session_id, reason = why, error = %e, "engine session not closed")
        }
    }
}

fn who<'a>(session: &'a Session, context: &'a SessionContext) -> EngineSession<'a> {
    EngineSession {
        session_id: session.id,
        user: &session.user,
        account: &session.account,
        context,
        client_app: session.client_app.as_deref(),
    }
}

/// Copies what the engine reports into the session's context; what it does not report stays.
fn mirror(context: &mut SessionContext, reported: &EngineContext) {
    let fields = [
        (&mut context.database, &reported.database),
        (&mut context.schema, &reported.schema),
        (&mut context.warehouse, &reported.warehouse),
        (&mut context.role, &reported.role),
    ];
    for (mine, theirs) in fields {
        if let Some(value) = theirs {
            *mine = Some(value.clone());
        }
    }
}

fn engine_error(e: EngineError) -> Error {
    match e {
        EngineError::Unreachable(why) => Error::Unavailable(format!("query engine: {why}")),
        EngineError::NoAnswer(why) => {
            tracing::warn!(reason = %why, "the query engine gave no answer to a sent request");
            Error::EngineNoAnswer
        }
        EngineError::SessionUnknown => {
            Error::Unavailable("the query engine lost the session again".into())
        }
        EngineError::TooLarge { limit } => Error::EngineAnswerTooLarge { limit },
        EngineError::LoginRefused(why) => {
            tracing::error!(reason = %why, "the query engine refused snowgate's service login");
            Error::EngineLoginRefused
        }
        EngineError::BadAnswer(why) => Error::Unavailable(format!("query engine: {why}")),
    }
}

/// A Snowflake query id as the path of a result or status request may carry it.
fn is_query_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_QUERY_ID_CHARS
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_ids_are_bounded_and_plain() {
        assert!(is_query_id("01b2c3d4-0000-1111-2222-333344445555"));
        for bad in ["", "../x", "a/b", "a b", "x'--", &"a".repeat(65)] {
            assert!(!is_query_id(bad), "{bad}");
        }
    }

    #[test]
    fn the_engine_context_replaces_only_what_it_reports() {
        let mut context = SessionContext {
            database: Some("A".into()),
            schema: Some("PUBLIC".into()),
            warehouse: Some("WH".into()),
            role: Some("R".into()),
            ..SessionContext::default()
        };
        let reported = EngineContext {
            database: Some("D2".into()),
            schema: Some("MAIN".into()),
            ..EngineContext::default()
        };
        mirror(&mut context, &reported);
        assert_eq!(context.database.as_deref(), Some("D2"));
        assert_eq!(context.schema.as_deref(), Some("MAIN"));
        assert_eq!(context.warehouse.as_deref(), Some("WH"));
        assert_eq!(context.role.as_deref(), Some("R"));
    }
}
