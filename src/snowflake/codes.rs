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

pub const SQLSTATE_FEATURE_NOT_SUPPORTED: &str = "0A000";
pub const SQLSTATE_SYNTAX_ERROR: &str = "42000";

/// Statement type ids the drivers use to classify results (protocol §4.2, §4.3).
pub const STATEMENT_SELECT: i64 = 0x1000;
pub const STATEMENT_USE: i64 = 0x4300;
