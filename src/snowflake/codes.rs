//! Snowflake GS error codes, as the drivers read them (protocol §5). Always sent as JSON strings.

pub const INCORRECT_USERNAME_OR_PASSWORD: &str = "390100";
pub const SESSION_TOKEN_INVALID: &str = "390104";
pub const SESSION_GONE: &str = "390111";
pub const SESSION_TOKEN_EXPIRED: &str = "390112";
pub const MASTER_TOKEN_EXPIRED: &str = "390114";
pub const MASTER_TOKEN_INVALID: &str = "390115";
pub const BAD_REQUEST: &str = "390400";

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

/// Statement type ids the drivers use to classify results (protocol §4.2, §4.3).
pub const STATEMENT_SELECT: i64 = 0x1000;
pub const STATEMENT_USE: i64 = 0x4300;
pub const STATEMENT_DDL: i64 = 0x6000;

pub const INVALID_JWT: &str = "390144";
pub const USER_DISABLED: &str = "390101";
pub const ROLE_NOT_GRANTED: &str = "390189";
pub const IP_NOT_ALLOWED: &str = "390422";
