//! The gatekeeper's side of the login history: recording attempts, and answering
//! `INFORMATION_SCHEMA.LOGIN_HISTORY[_BY_USER]` (the records and their rules are in
//! `query/login_history.rs`).

use crate::domain::directory::LoginReads;
use crate::domain::gatekeeper::Gatekeeper;
use crate::domain::login::input::LoginInput;
use crate::domain::query::login_history::{
    DEFAULT_RESULT_LIMIT, HISTORY_ADMIN_ROLES, HistoryQuery, LoginEvent, MAX_FIELD_CHARS,
    MAX_RESULT_LIMIT, RETENTION_SECONDS, bounded, matches, resolve,
};
use crate::domain::query::statement::{HistoryColumn, HistoryOrder, LoginHistoryStatement};
use crate::domain::query::{Queries, QueryContext, QueryOutcome, StatementKind};
use crate::error::{Error, Result, SqlErrorKind};

impl Gatekeeper {
    /// Stores a login's record. A failure to store it does not fail the login: it is logged.
    pub(in crate::domain) async fn record_login(&self, event: &LoginEvent) {
        if let Err(e) = self.store.record_login(event).await {
            tracing::warn!(error = %e, event_id = event.id, "login history not recorded");
        }
    }

    /// The user a failed login was for, as far as it can be told: the user found by the name the
    /// login gave ([`LoginInput::named_user`]), else that name upper-cased. Answered from what the
    /// login read up front (`reads`) when that was the same name, so a refused login, the common
    /// case under attack, reads nothing more.
    pub(in crate::domain) async fn failed_login_user(
        &self,
        input: &LoginInput,
        reads: Option<&LoginReads>,
        now: u64,
    ) -> Option<String> {
        let typed = bounded(&input.named_user(now)?, MAX_FIELD_CHARS);
        let found = match reads {
            Some(reads) => self.directory.user_for_login(reads, &typed).await,
            None => self.directory.user_by_login(&typed).await,
        };
        match found {
            Ok(Some(user)) => Some(user.name),
            _ => Some(typed.to_uppercase()),
        }
    }
}

impl Queries {
    /// `SELECT … FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY[_BY_USER](…))`.
    pub(in crate::domain) async fn login_history(
        &self,
        ctx: &QueryContext,
        statement: LoginHistoryStatement,
    ) -> Result<QueryOutcome> {
        let now = self.now();
        let role = ctx.context.role.as_deref().unwrap_or("PUBLIC");
        let admin = HISTORY_ADMIN_ROLES.contains(&role);
        let user = match (statement.by_user, statement.user_name) {
            (true, Some(name)) if name != ctx.user && !admin => {
                return Err(Error::sql(
                    SqlErrorKind::InsufficientPrivileges,
                    format!(
                        "SQL access control error:\nInsufficient privileges to view the login history of user '{name}'. Only ACCOUNTADMIN and SECURITYADMIN see other users' logins."
                    ),
                ));
            }
            (true, Some(name)) => Some(name),
            (true, None) => Some(ctx.user.clone()),
            // Everyone's history for administrators; one's own for the others.
            (false, _) if admin => None,
            (false, _) => Some(ctx.user.clone()),
        };
        let from = statement.range_start.as_ref().map_or_else(
            || now.saturating_sub(RETENTION_SECONDS),
            |p| resolve(p, now),
        );
        let to = statement
            .range_end
            .as_ref()
            .map_or(now, |p| resolve(p, now));
        let limit = statement.result_limit.unwrap_or(DEFAULT_RESULT_LIMIT);
        let query = HistoryQuery {
            user,
            from,
            to,
            limit: usize::try_from(limit.min(MAX_RESULT_LIMIT)).unwrap_or(10_000),
            now,
        };
        let mut events = if from > to {
            Vec::new()
        } else {
            self.store.login_history(&query).await?
        };
        events.retain(|e| statement.filters.iter().all(|f| matches(f, e)));
        if statement.order == HistoryOrder::Ascending {
            events.reverse();
        }
        if let Some(n) = statement.limit {
            events.truncate(usize::try_from(n).unwrap_or(usize::MAX));
        }
        let columns = statement
            .columns
            .unwrap_or_else(|| HistoryColumn::ALL.to_vec());
        Ok(QueryOutcome {
            query_id: ctx.query_id.clone(),
            kind: StatementKind::Select,
            columns: columns.iter().map(|c| c.name().to_string()).collect(),
            types: columns.iter().map(|c| c.column_type()).collect(),
            rows: events
                .iter()
                .map(|e| columns.iter().map(|c| c.cell(e)).collect())
                .collect(),
            context: ctx.context.clone(),
        })
    }
}
