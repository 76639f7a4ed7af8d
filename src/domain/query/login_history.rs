//! Login history: one record per login attempt, kept seven days, read back with Snowflake's
//! `INFORMATION_SCHEMA.LOGIN_HISTORY[_BY_USER]` table functions. The records are written by
//! the login (`login/history.rs`) from the same facts as the audit event, and hold no secret: the error message
//! is the error's Display, which never carries a password, token or key.

use crate::domain::audit::Method;
use crate::domain::login::input::LoginInput;
use crate::domain::query::statement::{
    HistoryColumn, HistoryFilter, HistoryOrder, LoginHistoryStatement, TimePoint,
};
use crate::domain::query::{ColumnType, Queries, QueryContext, QueryOutcome, StatementKind};
use crate::error::{Error, Result, SqlErrorKind};

/// How long a record is kept (Snowflake's INFORMATION_SCHEMA keeps 7 days).
pub const RETENTION_SECONDS: u64 = 7 * 24 * 3600;
/// `RESULT_LIMIT` when none is given, and its largest value (Snowflake's).
pub const DEFAULT_RESULT_LIMIT: u64 = 100;
pub const MAX_RESULT_LIMIT: u64 = 10_000;
/// Longest text kept in a record's name, client and message fields: the client chose them.
pub(in crate::domain) const MAX_FIELD_CHARS: usize = 255;
pub(in crate::domain) const MAX_MESSAGE_CHARS: usize = 1_024;
/// Roles that see every user's history (Snowflake: SECURITYADMIN and above).
pub const HISTORY_ADMIN_ROLES: [&str; 2] = ["ACCOUNTADMIN", "SECURITYADMIN"];

/// The record and the read live with the storage port that keeps them.
pub use crate::domain::ports::storage::{HistoryQuery, LoginEvent};

/// The low bits of event ids: a counter from a random start, so that one instance's ids of one
/// millisecond never collide (under a flood many share it), and instances need not agree on one.
static NEXT_LOW_BITS: std::sync::LazyLock<std::sync::atomic::AtomicU64> =
    std::sync::LazyLock::new(|| std::sync::atomic::AtomicU64::new(rand::random()));

/// A new event id: the time in the high bits, so ids grow with time: `now` (the service's clock, in
/// seconds), then the millisecond of the system clock, so that two logins of one second keep their
/// order; below, a per-instance counter from a random start (never 0), so that instances never need
/// to agree on a counter. At most 2^32 seconds (year 2106) × 2^21 < 2^53.
pub fn new_event_id(now: u64) -> u64 {
    let seconds = now.min(u64::from(u32::MAX));
    let system = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    // The system clock may have passed into the next second since `now` was read (or a test moves
    // the service's clock): then the event is at the end of its second, or at its start.
    let millis = match system.as_secs().cmp(&now) {
        std::cmp::Ordering::Equal => u64::from(system.subsec_millis()),
        std::cmp::Ordering::Greater => 999,
        std::cmp::Ordering::Less => 0,
    };
    let low = NEXT_LOW_BITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % ((1 << 11) - 1);
    (seconds << 21) | (millis << 11) | (low + 1)
}

/// REPORTED_CLIENT_TYPE from the driver's CLIENT_APP_ID (as reported, not authenticated).
pub fn client_type(client_app: Option<&str>) -> &'static str {
    match client_app.map(str::to_ascii_uppercase).as_deref() {
        Some("PYTHONCONNECTOR" | "PYTHONSNOWPARK" | "SNOWPARK") => "PYTHON_DRIVER",
        Some("JDBC") => "JDBC_DRIVER",
        Some("ODBC") => "ODBC_DRIVER",
        Some("JAVASCRIPT" | "NODEJS") => "JAVASCRIPT_DRIVER",
        Some("GO") => "GO_DRIVER",
        Some(".NET") => "DOTNET_DRIVER",
        Some("C API" | "LIBSNOWFLAKECLIENT") => "C_API",
        Some("PDO") => "PHP_PDO_DRIVER",
        Some("SNOWFLAKE_UI" | "SNOWSIGHT") => "SNOWFLAKE_UI",
        _ => "OTHER",
    }
}

/// FIRST_AUTHENTICATION_FACTOR of a login method: `AuthMethod::history_factor` names it.
pub fn first_factor(method: Option<Method>) -> Option<&'static str> {
    match method? {
        Method::Login(method) => method.history_factor(),
        Method::Renew | Method::Heartbeat | Method::Logout | Method::Query => None,
    }
}

pub(in crate::domain) fn bounded(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The record of a login attempt: `error` is `None` for a success.
pub fn event(
    input: &LoginInput,
    method: Option<Method>,
    user_name: Option<&str>,
    now: u64,
    error: Option<&Error>,
) -> LoginEvent {
    let text = |s: Option<&str>| s.map(|s| bounded(s, MAX_FIELD_CHARS));
    LoginEvent {
        id: new_event_id(now),
        time: now,
        user_name: text(user_name),
        client_ip: input
            .client_ip
            .map(|ip| crate::domain::directory::canonical_ip(ip).to_string()),
        client_type: Some(client_type(input.client_app.as_deref()).to_string()),
        client_version: text(input.client_version.as_deref()),
        first_factor: first_factor(method).map(str::to_string),
        second_factor: None,
        success: error.is_none(),
        error_code: error.and_then(|e| crate::snowflake::codes::of(e).parse().ok()),
        error_message: error.map(|e| bounded(&e.to_string(), MAX_MESSAGE_CHARS)),
        expires_at: now.saturating_add(RETENTION_SECONDS),
    }
}

/// How each column is typed and filled from a record (its names live with the statement).
impl HistoryColumn {
    pub fn column_type(self) -> ColumnType {
        match self {
            Self::EventId | Self::ErrorCode | Self::RelatedEventId => ColumnType::Fixed {
                precision: 38,
                scale: 0,
            },
            Self::EventTimestamp => ColumnType::TimestampLtz,
            _ => ColumnType::Text,
        }
    }

    /// The cell as the JSON rowset carries it (a TIMESTAMP_LTZ is epoch seconds with 9 decimals).
    pub fn cell(self, e: &LoginEvent) -> Option<String> {
        match self {
            Self::EventId => Some(e.id.to_string()),
            Self::EventTimestamp => Some(format!("{}.000000000", e.time)),
            Self::EventType => Some("LOGIN".into()),
            Self::UserName => e.user_name.clone(),
            Self::ClientIp => e.client_ip.clone(),
            Self::ReportedClientType => e.client_type.clone(),
            Self::ReportedClientVersion => e.client_version.clone(),
            Self::FirstAuthenticationFactor => e.first_factor.clone(),
            Self::SecondAuthenticationFactor => e.second_factor.clone(),
            Self::IsSuccess => Some(if e.success { "YES" } else { "NO" }.into()),
            Self::ErrorCode => e.error_code.map(|c| c.to_string()),
            Self::ErrorMessage => e.error_message.clone(),
            Self::RelatedEventId => Some("0".into()),
            Self::Connection => None,
        }
    }
}

/// A time argument at `now`, in epoch seconds (never below 0).
pub(in crate::domain) fn resolve(point: &TimePoint, now: u64) -> u64 {
    match point {
        TimePoint::Now => now,
        TimePoint::Relative(seconds) => now.saturating_add_signed(*seconds),
        TimePoint::Absolute(at) => *at,
    }
}

/// Whether a filter holds for an event: the cell equals the literal (NULL never does).
pub(in crate::domain) fn matches(filter: &HistoryFilter, e: &LoginEvent) -> bool {
    filter.column.cell(e).as_deref() == Some(filter.value.as_str())
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
