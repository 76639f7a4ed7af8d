//! Snowflake GS error codes, as the drivers read them (`docs/protocol.md` §5). Always sent as JSON strings.

pub const INCORRECT_USERNAME_OR_PASSWORD: &str = "390100";
pub const SESSION_TOKEN_INVALID: &str = "390104";
pub const SESSION_GONE: &str = "390111";
pub const SESSION_TOKEN_EXPIRED: &str = "390112";
pub const MASTER_TOKEN_EXPIRED: &str = "390114";
pub const MASTER_TOKEN_INVALID: &str = "390115";
pub const BAD_REQUEST: &str = "390400";
/// An enrolled user's password login without a second factor.
pub const MFA_REQUIRED: &str = "394507";
/// A wrong, stale or replayed TOTP passcode.
pub const MFA_PASSCODE_INVALID: &str = "394508";

/// SQL: the feature is not supported (sqlState 0A000).
pub const SQL_UNSUPPORTED_FEATURE: &str = "000002";
/// SQL: syntax error (sqlState 42000).
pub const SQL_SYNTAX_ERROR: &str = "001003";

/// SQL: the object already exists (sqlState 42710).
pub const SQL_ALREADY_EXISTS: &str = "002002";
/// SQL: the object does not exist or is not authorized (sqlState 02000).
pub const SQL_DOES_NOT_EXIST: &str = "002003";
/// SQL: a property value is invalid (sqlState 22023).
pub const SQL_INVALID_VALUE: &str = "002029";
/// SQL: access control error, insufficient privileges (sqlState 42501).
pub const SQL_INSUFFICIENT_PRIVILEGES: &str = "003001";

pub const SQLSTATE_FEATURE_NOT_SUPPORTED: &str = "0A000";
pub const SQLSTATE_ALREADY_EXISTS: &str = "42710";
pub const SQLSTATE_DOES_NOT_EXIST: &str = "02000";
pub const SQLSTATE_INVALID_VALUE: &str = "22023";
pub const SQLSTATE_INSUFFICIENT_PRIVILEGES: &str = "42501";
pub const SQLSTATE_SYNTAX_ERROR: &str = "42000";

/// Statement type ids the drivers use to classify results (`docs/protocol.md` §4.2, §4.3).
pub const STATEMENT_SELECT: i64 = 0x1000;
pub const STATEMENT_USE: i64 = 0x4300;
pub const STATEMENT_DDL: i64 = 0x6000;
/// Session control: `ALTER SESSION`.
pub const STATEMENT_ALTER_SESSION: i64 = 0x4100;
/// Transaction control: `BEGIN`, `COMMIT`, `ROLLBACK`.
pub const STATEMENT_TRANSACTION: i64 = 0x5000;

pub const INVALID_JWT: &str = "390144";
pub const USER_DISABLED: &str = "390101";
/// The user is locked after too many failed logins (Snowflake's wording; the number is the usual one).
pub const USER_LOCKED: &str = "390102";
/// An internal fault: answered with HTTP 200 so that drivers report it instead of retrying.
pub const INTERNAL_ERROR: &str = "000603";
/// Retry later: the backend is unavailable (HTTP 503) or too busy (HTTP 429); drivers retry both.
pub const SERVICE_UNAVAILABLE: &str = "390503";
/// The password outlived PASSWORD_MAX_AGE_DAYS (Snowflake's code and wording).
pub const PASSWORD_EXPIRED: &str = "390106";
pub const ROLE_NOT_GRANTED: &str = "390189";
pub const IP_NOT_ALLOWED: &str = "390422";
/// A programmatic access token login failed; the body carries `nextAction: RETRY_LOGIN`.
pub const PAT_INVALID: &str = "394400";
pub const OAUTH_INVALID: &str = "390303";
pub const OAUTH_EXPIRED: &str = "390318";
/// A workload identity login failed: snowgate's choice (no public source gives Snowflake's code
/// for a refused attestation), in the 3944xx range of the other token refusals.
pub const WORKLOAD_IDENTITY_INVALID: &str = "394700";
/// A PAT login needs its user under a network policy (the authentication policy's PAT_POLICY).
pub const NETWORK_POLICY_REQUIRED: &str = "390432";
/// An authentication policy refused the login: snowgate's choice (no public source gives
/// Snowflake's), next to the network policy refusals (`docs/protocol.md` §5).
pub const AUTHENTICATION_POLICY_REFUSED: &str = "390430";

/// The query engine got a statement and gave no complete answer: Snowflake's code for a statement
/// that reached its timeout, the nearest meaning (not retried by drivers, as the statement may
/// have run).
pub const ENGINE_NO_ANSWER: &str = "000630";
/// The query engine's answer was over snowgate's response limit: snowgate's choice, beside
/// Snowflake's internal and timeout codes (no public source gives one for a result too large).
pub const ENGINE_ANSWER_TOO_LARGE: &str = "000641";

use crate::error::{Error, SqlErrorKind};

/// The one table from snowgate's errors to Snowflake's codes; compare it with Snowflake's list.
pub fn of(error: &Error) -> &'static str {
    match error {
        Error::BadRequest(_)
        | Error::BodyTooLarge { .. }
        | Error::UriTooLong { .. }
        | Error::HeadersTooLarge { .. }
        | Error::NotFound(_) => BAD_REQUEST,
        Error::InvalidCredentials | Error::EngineLoginRefused => INCORRECT_USERNAME_OR_PASSWORD,
        Error::EngineNoAnswer => ENGINE_NO_ANSWER,
        Error::EngineAnswerTooLarge { .. } => ENGINE_ANSWER_TOO_LARGE,
        Error::InvalidJwt => INVALID_JWT,
        Error::InvalidPat => PAT_INVALID,
        Error::MfaRequired => MFA_REQUIRED,
        Error::InvalidPasscode => MFA_PASSCODE_INVALID,
        Error::InvalidOauth => OAUTH_INVALID,
        Error::OauthExpired(_) => OAUTH_EXPIRED,
        Error::InvalidWorkloadIdentity | Error::WorkloadIdentityThrottled(_) => {
            WORKLOAD_IDENTITY_INVALID
        }
        Error::NetworkPolicyRequired => NETWORK_POLICY_REQUIRED,
        Error::UserDisabled => USER_DISABLED,
        Error::UserLocked { .. } => USER_LOCKED,
        Error::PasswordExpired => PASSWORD_EXPIRED,
        Error::RoleNotGranted(_) => ROLE_NOT_GRANTED,
        Error::IpNotAllowed(_) => IP_NOT_ALLOWED,
        Error::PolicyRefused(_) => AUTHENTICATION_POLICY_REFUSED,
        Error::SessionTokenExpired => SESSION_TOKEN_EXPIRED,
        Error::MasterTokenExpired => MASTER_TOKEN_EXPIRED,
        Error::MasterTokenInvalid => MASTER_TOKEN_INVALID,
        Error::InvalidToken => SESSION_TOKEN_INVALID,
        Error::SessionGone => SESSION_GONE,
        Error::Unavailable(_) | Error::Busy | Error::Conflict => SERVICE_UNAVAILABLE,
        Error::Internal(_) => INTERNAL_ERROR,
        Error::Sql { error, .. } => sql(error.kind).0,
    }
}

/// A SQL error kind's code and SQLSTATE.
pub fn sql(kind: SqlErrorKind) -> (&'static str, &'static str) {
    match kind {
        SqlErrorKind::Syntax => (SQL_SYNTAX_ERROR, SQLSTATE_SYNTAX_ERROR),
        SqlErrorKind::Unsupported => (SQL_UNSUPPORTED_FEATURE, SQLSTATE_FEATURE_NOT_SUPPORTED),
        SqlErrorKind::AlreadyExists => (SQL_ALREADY_EXISTS, SQLSTATE_ALREADY_EXISTS),
        SqlErrorKind::DoesNotExist => (SQL_DOES_NOT_EXIST, SQLSTATE_DOES_NOT_EXIST),
        SqlErrorKind::InvalidValue => (SQL_INVALID_VALUE, SQLSTATE_INVALID_VALUE),
        SqlErrorKind::InsufficientPrivileges => (
            SQL_INSUFFICIENT_PRIVILEGES,
            SQLSTATE_INSUFFICIENT_PRIVILEGES,
        ),
    }
}
