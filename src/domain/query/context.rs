//! Statements a session answers without any data, as Snowflake answers them: transactions (no-ops),
//! `ALTER SESSION`, `SHOW PARAMETERS`, `SYSTEM$CANCEL_ALL_QUERIES` / `SYSTEM$ABORT_SESSION` on the
//! caller's own session, and `SELECT` of constants and `CURRENT_*()` without `FROM`.

use crate::domain::query::statement::{
    ParameterChange, SelectColumn, SelectValue, SessionFunction,
};
use crate::domain::query::{
    ColumnType, Queries, QueryContext, QueryOutcome, SUCCESS, StatementKind, value_of,
};
use crate::domain::session::SessionContext;
use crate::domain::session::parameters::{self, Kind, SESSION_PARAMETERS};
use crate::error::{Error, Result, SqlErrorKind};

impl QueryOutcome {
    /// A one-row `status` result, the session context as given.
    pub fn status(
        ctx: &QueryContext,
        kind: StatementKind,
        context: SessionContext,
        text: String,
    ) -> Self {
        Self {
            query_id: ctx.query_id.clone(),
            kind,
            columns: vec!["status".to_string()],
            types: vec![ColumnType::Text],
            rows: vec![vec![Some(text)]],
            context,
        }
    }
}

impl Queries {
    /// `BEGIN` … `ROLLBACK`: snowgate holds no data, so there is nothing to commit or undo.
    pub(in crate::domain) fn transaction(&self, ctx: &QueryContext) -> QueryOutcome {
        QueryOutcome::status(
            ctx,
            StatementKind::Transaction,
            ctx.context.clone(),
            SUCCESS.into(),
        )
    }

    /// `ALTER SESSION SET|UNSET`: all changes or none, kept in the session's store record.
    pub(in crate::domain) async fn alter_session(
        &self,
        ctx: &QueryContext,
        changes: Vec<ParameterChange>,
    ) -> Result<QueryOutcome> {
        let mut context = ctx.context.clone();
        context.parameters = parameters::apply(&context.parameters, changes)?;
        self.save_context(ctx, context, StatementKind::AlterSession)
            .await
    }

    /// `SHOW PARAMETERS [LIKE …] [IN SESSION]`: every parameter snowgate keeps, in name order, with
    /// the session's value where it was set.
    pub(in crate::domain) fn show_parameters(
        &self,
        ctx: &QueryContext,
        like: Option<String>,
    ) -> QueryOutcome {
        let rows = SESSION_PARAMETERS
            .iter()
            .filter(|(name, ..)| crate::domain::admin::like(&like, name))
            .map(|(name, kind, default, description)| {
                let set = ctx.context.parameters.get(*name);
                let value = set.map_or_else(|| default.to_string(), parameters::text);
                let level = if set.is_some() { "SESSION" } else { "" };
                let type_ = match kind {
                    Kind::Boolean => "BOOLEAN",
                    Kind::Number => "NUMBER",
                    Kind::String => "STRING",
                };
                [name, value.as_str(), default, level, description, type_]
                    .map(|v| Some(v.to_string()))
                    .to_vec()
            })
            .collect();
        let columns = ["key", "value", "default", "level", "description", "type"];
        QueryOutcome {
            query_id: ctx.query_id.clone(),
            kind: StatementKind::Select,
            columns: columns.map(String::from).to_vec(),
            types: vec![ColumnType::Text; columns.len()],
            rows,
            context: ctx.context.clone(),
        }
    }

    /// `SYSTEM$CANCEL_ALL_QUERIES` and `SYSTEM$ABORT_SESSION` on the caller's own session only: no
    /// session learns whether another exists. Nothing runs in the background, so there is nothing to
    /// cancel; aborting ends the session as a logout does.
    pub(in crate::domain) async fn session_function(
        &self,
        ctx: &QueryContext,
        function: SessionFunction,
        session_id: u64,
        name: String,
    ) -> Result<QueryOutcome> {
        if session_id != ctx.session_id {
            return Err(Error::sql(
                SqlErrorKind::InsufficientPrivileges,
                "SQL access control error:\nInsufficient privileges to operate on this session: snowgate cancels and aborts only the caller's own session.",
            ));
        }
        let text = match function {
            SessionFunction::CancelAllQueries => "0 queries canceled.".to_string(),
            SessionFunction::AbortSession => {
                self.store.delete(session_id).await?;
                tracing::info!(query_id = %ctx.query_id, session_id, "session aborted by its owner");
                "true".to_string()
            }
        };
        let mut out = QueryOutcome::status(ctx, StatementKind::Select, ctx.context.clone(), text);
        out.columns = vec![name];
        Ok(out)
    }

    /// `SELECT 1 AS id, 'x', CURRENT_USER()`: one row, typed like Snowflake types the literals.
    pub(in crate::domain) fn select(
        &self,
        ctx: &QueryContext,
        columns: Vec<SelectColumn>,
    ) -> QueryOutcome {
        let (types, row) = columns
            .iter()
            .map(|c| match &c.value {
                SelectValue::Function(f) => (ColumnType::Text, value_of(ctx, *f)),
                SelectValue::Number {
                    text,
                    precision,
                    scale,
                } => (
                    ColumnType::Fixed {
                        precision: *precision,
                        scale: *scale,
                    },
                    Some(text.clone()),
                ),
                SelectValue::Text(t) => (ColumnType::Text, Some(t.clone())),
                SelectValue::Boolean(b) => {
                    (ColumnType::Boolean, Some(if *b { "1" } else { "0" }.into()))
                }
                SelectValue::Null => (ColumnType::Text, None),
            })
            .unzip();
        QueryOutcome {
            query_id: ctx.query_id.clone(),
            kind: StatementKind::Select,
            columns: columns.into_iter().map(|c| c.name).collect(),
            types,
            rows: vec![row],
            context: ctx.context.clone(),
        }
    }
}
