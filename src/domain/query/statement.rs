//! The statements snowgate runs, as the SQL front end hands them to the domain, and the front end's
//! contract. The domain never sees SQL syntax; the front end (`crate::sql`) depends on these types,
//! never the reverse.

use crate::domain::admin::AdminCommand;
use crate::domain::ident::Identifier;

/// Turns statement text into [`Statement`]s, within bounded work.
pub trait SqlFrontEnd: Send + Sync {
    /// Whether the statement is administrative, from its first few words alone (cheap and bounded),
    /// so that privileges are checked before the statement is parsed. An administrative statement
    /// snowgate does not run (`SHOW WAREHOUSES`) is refused here, in any role.
    fn is_admin(&self, sql: &str) -> Result<bool, SqlRejection>;
    fn parse(&self, sql: &str) -> Result<Statement, SqlRejection>;
    /// Whether the statement is about a user's programmatic access tokens or MFA methods, from its
    /// first words alone: those are allowed to any role for the session's own user (checked where
    /// they run).
    fn is_self_service(&self, _sql: &str) -> bool {
        false
    }
}

/// Any statement snowgate runs.
#[derive(Debug, Clone)]
pub enum Statement {
    Context(ContextStatement),
    Admin(AdminCommand),
    /// `SELECT … FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY[_BY_USER](…))`.
    LoginHistory(LoginHistoryStatement),
}

/// A read of the login history, as `INFORMATION_SCHEMA.LOGIN_HISTORY_BY_USER(USER_NAME => …,
/// RESULT_LIMIT => …)` or `LOGIN_HISTORY(TIME_RANGE_START => …, TIME_RANGE_END => …, RESULT_LIMIT =>
/// …)` with a column list, equality filters, an order and a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginHistoryStatement {
    /// `LOGIN_HISTORY_BY_USER` (one user) rather than `LOGIN_HISTORY` (every user).
    pub by_user: bool,
    /// `USER_NAME => '…'`, as a name is stored (an unquoted-style name upper-cased); `None`: the
    /// current user.
    pub user_name: Option<String>,
    pub range_start: Option<TimePoint>,
    pub range_end: Option<TimePoint>,
    /// `RESULT_LIMIT`, already checked to be within 1..=10000.
    pub result_limit: Option<u64>,
    /// The columns selected, in order; `None` for `*`.
    pub columns: Option<Vec<HistoryColumn>>,
    /// `WHERE a = 'x' AND b = 1`: each cell must equal its literal.
    pub filters: Vec<HistoryFilter>,
    pub order: HistoryOrder,
    /// `LIMIT n`.
    pub limit: Option<u64>,
}

/// A point in time an argument names, resolved when the statement runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimePoint {
    /// `CURRENT_TIMESTAMP()`.
    Now,
    /// `DATEADD(unit, n, CURRENT_TIMESTAMP())`: seconds from now.
    Relative(i64),
    /// A timestamp string (UTC, the session's time zone): epoch seconds.
    Absolute(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryFilter {
    pub column: HistoryColumn,
    /// The literal as the cell would show it: `'NO'` is `NO`, `390100` is `390100`.
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryOrder {
    /// Newest first: the functions' own order.
    #[default]
    Descending,
    Ascending,
}

/// A statement snowgate can answer from the session alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextStatement {
    Use(UseTarget),
    /// `SELECT f1() [AS a], 1, 'x', …` without `FROM`: one row, a column per item.
    SelectCurrent(Vec<SelectColumn>),
    /// `BEGIN`, `START TRANSACTION`, `COMMIT`, `ROLLBACK`: snowgate holds no data, so nothing to do.
    Transaction,
    /// `ALTER SESSION SET a = 1, b = 'x'` / `ALTER SESSION UNSET a, b`: names upper-cased.
    AlterSession(Vec<ParameterChange>),
    /// `SHOW PARAMETERS [LIKE '…'] [IN SESSION]`.
    ShowParameters {
        like: Option<String>,
    },
    /// `SELECT SYSTEM$CANCEL_ALL_QUERIES(id)` or `SELECT SYSTEM$ABORT_SESSION(id)`.
    SessionFunction {
        function: SessionFunction,
        session_id: u64,
        /// The column name, as Snowflake prints the call.
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterChange {
    Set(String, ParameterValue),
    Unset(String),
}

/// A parameter value as written: `TRUE`, `12`, `'text'` (or a bare word, taken as text).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ParameterValue {
    Boolean(bool),
    Number(i64),
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFunction {
    CancelAllQueries,
    AbortSession,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UseTarget {
    Database(Identifier),
    /// `USE SCHEMA s` (database unchanged) or `USE SCHEMA d.s`.
    Schema {
        database: Option<Identifier>,
        schema: Identifier,
    },
    Warehouse(Identifier),
    Role(Identifier),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectColumn {
    /// The column name the driver shows: the alias, or the expression as Snowflake prints it.
    pub name: String,
    pub value: SelectValue,
}

/// What one `SELECT` item yields: a session value or a constant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectValue {
    Function(ContextFunction),
    /// A decimal literal: its digits as written (sign and point included) and its NUMBER(p, s).
    Number {
        text: String,
        precision: u8,
        scale: u8,
    },
    Text(String),
    Boolean(bool),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextFunction {
    Database,
    Schema,
    Warehouse,
    Role,
    User,
    Account,
    Session,
    Version,
    IpAddress,
}

/// Why a statement is not answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlRejection {
    /// Not valid SQL (or empty).
    Syntax(String),
    /// Valid SQL that snowgate does not answer; the text names what was refused.
    Unsupported(String),
    /// A property value that cannot be right whatever the directory holds (a malformed key, CIDR,
    /// flag or an unknown property); the text is the whole message, and never quotes the value.
    InvalidValue(String),
}

/// The columns of LOGIN_HISTORY, in Snowflake's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryColumn {
    EventId,
    EventTimestamp,
    EventType,
    UserName,
    ClientIp,
    ReportedClientType,
    ReportedClientVersion,
    FirstAuthenticationFactor,
    SecondAuthenticationFactor,
    IsSuccess,
    ErrorCode,
    ErrorMessage,
    RelatedEventId,
    Connection,
}

impl HistoryColumn {
    pub const ALL: [HistoryColumn; 14] = [
        Self::EventId,
        Self::EventTimestamp,
        Self::EventType,
        Self::UserName,
        Self::ClientIp,
        Self::ReportedClientType,
        Self::ReportedClientVersion,
        Self::FirstAuthenticationFactor,
        Self::SecondAuthenticationFactor,
        Self::IsSuccess,
        Self::ErrorCode,
        Self::ErrorMessage,
        Self::RelatedEventId,
        Self::Connection,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::EventId => "EVENT_ID",
            Self::EventTimestamp => "EVENT_TIMESTAMP",
            Self::EventType => "EVENT_TYPE",
            Self::UserName => "USER_NAME",
            Self::ClientIp => "CLIENT_IP",
            Self::ReportedClientType => "REPORTED_CLIENT_TYPE",
            Self::ReportedClientVersion => "REPORTED_CLIENT_VERSION",
            Self::FirstAuthenticationFactor => "FIRST_AUTHENTICATION_FACTOR",
            Self::SecondAuthenticationFactor => "SECOND_AUTHENTICATION_FACTOR",
            Self::IsSuccess => "IS_SUCCESS",
            Self::ErrorCode => "ERROR_CODE",
            Self::ErrorMessage => "ERROR_MESSAGE",
            Self::RelatedEventId => "RELATED_EVENT_ID",
            Self::Connection => "CONNECTION",
        }
    }

    /// The column named `name`, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }
}
