//! The session parameters snowgate keeps: Snowflake's documented session parameters, with the type
//! and default `SHOW PARAMETERS` prints (https://docs.snowflake.com/en/sql-reference/parameters),
//! and those drivers set at login. An unknown name is refused, as Snowflake does, which also bounds
//! what a session stores.

/// The type `SHOW PARAMETERS` prints, and what a value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Boolean,
    Number,
    String,
}

/// A session parameter snowgate keeps: name, kind, default (as `SHOW PARAMETERS` prints it) and
/// description.
pub type Known = (&'static str, Kind, &'static str, &'static str);

const fn param(
    name: &'static str,
    kind: Kind,
    default: &'static str,
    about: &'static str,
) -> Known {
    (name, kind, default, about)
}

/// Name, kind, default and description, sorted by name.
pub const SESSION_PARAMETERS: &[Known] = &[
    param(
        "ABORT_DETACHED_QUERY",
        Kind::Boolean,
        "false",
        "Abort a query when its client disconnects.",
    ),
    param(
        "AUTOCOMMIT",
        Kind::Boolean,
        "true",
        "Commit each statement on its own.",
    ),
    param(
        "BINARY_INPUT_FORMAT",
        Kind::String,
        "HEX",
        "How binary input is read.",
    ),
    param(
        "BINARY_OUTPUT_FORMAT",
        Kind::String,
        "HEX",
        "How binary values are shown.",
    ),
    param(
        "CLIENT_ENABLE_LOG_INFO_STATEMENT_PARAMETERS",
        Kind::Boolean,
        "false",
        "Log bind parameters of statements at INFO.",
    ),
    param(
        "CLIENT_MEMORY_LIMIT",
        Kind::Number,
        "1536",
        "Memory for result chunks, in MB.",
    ),
    param(
        "CLIENT_METADATA_REQUEST_USE_CONNECTION_CTX",
        Kind::Boolean,
        "false",
        "Metadata requests search the session's database and schema.",
    ),
    param(
        "CLIENT_METADATA_USE_SESSION_DATABASE",
        Kind::Boolean,
        "false",
        "Metadata requests search the session's database.",
    ),
    param(
        "CLIENT_PREFETCH_THREADS",
        Kind::Number,
        "4",
        "Threads a driver uses to fetch results.",
    ),
    param(
        "CLIENT_RESULT_CHUNK_SIZE",
        Kind::Number,
        "160",
        "Largest result chunk, in MB.",
    ),
    param(
        "CLIENT_RESULT_COLUMN_CASE_INSENSITIVE",
        Kind::Boolean,
        "false",
        "Column names in results are matched ignoring case.",
    ),
    param(
        "CLIENT_SESSION_KEEP_ALIVE",
        Kind::Boolean,
        "false",
        "Drivers keep the session alive.",
    ),
    param(
        "CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY",
        Kind::Number,
        "3600",
        "Seconds between heartbeats.",
    ),
    param(
        "CLIENT_TIMESTAMP_TYPE_MAPPING",
        Kind::String,
        "TIMESTAMP_LTZ",
        "Type of client timestamps.",
    ),
    param(
        "CSV_TIMESTAMP_FORMAT",
        Kind::String,
        "",
        "Timestamp format of CSV unloads.",
    ),
    param(
        "DATE_INPUT_FORMAT",
        Kind::String,
        "AUTO",
        "How dates are read.",
    ),
    param(
        "DATE_OUTPUT_FORMAT",
        Kind::String,
        "YYYY-MM-DD",
        "How dates are shown.",
    ),
    param(
        "DEFAULT_NULL_ORDERING",
        Kind::String,
        "LAST",
        "Where NULLs sort by default.",
    ),
    param(
        "ENABLE_UNLOAD_PHYSICAL_TYPE_OPTIMIZATION",
        Kind::Boolean,
        "true",
        "Unloads to Parquet use the smallest physical types.",
    ),
    param(
        "ENABLE_UNREDACTED_QUERY_SYNTAX_ERROR",
        Kind::Boolean,
        "false",
        "Syntax errors show the query text.",
    ),
    param(
        "ERROR_ON_NONDETERMINISTIC_MERGE",
        Kind::Boolean,
        "true",
        "Fail a MERGE that matches a row twice.",
    ),
    param(
        "ERROR_ON_NONDETERMINISTIC_UPDATE",
        Kind::Boolean,
        "false",
        "Fail an UPDATE that matches a row twice.",
    ),
    param(
        "GEOGRAPHY_OUTPUT_FORMAT",
        Kind::String,
        "GeoJSON",
        "How GEOGRAPHY values are shown.",
    ),
    param(
        "GEOMETRY_OUTPUT_FORMAT",
        Kind::String,
        "GeoJSON",
        "How GEOMETRY values are shown.",
    ),
    param(
        "GO_QUERY_RESULT_FORMAT",
        Kind::String,
        "ARROW",
        "Result format of the Go driver.",
    ),
    param(
        "HYBRID_TABLE_LOCK_TIMEOUT",
        Kind::Number,
        "3600",
        "Seconds to wait for a row lock on a hybrid table.",
    ),
    param(
        "JDBC_QUERY_RESULT_FORMAT",
        Kind::String,
        "ARROW",
        "Result format of the JDBC driver.",
    ),
    param(
        "JDBC_TREAT_DECIMAL_AS_INT",
        Kind::Boolean,
        "true",
        "JDBC reads scale-0 decimals as integers.",
    ),
    param(
        "JDBC_TREAT_TIMESTAMP_NTZ_AS_UTC",
        Kind::Boolean,
        "false",
        "JDBC reads TIMESTAMP_NTZ in UTC.",
    ),
    param(
        "JDBC_USE_SESSION_TIMEZONE",
        Kind::Boolean,
        "true",
        "JDBC uses the session's time zone.",
    ),
    param(
        "JSON_INDENT",
        Kind::Number,
        "2",
        "Spaces of indentation in JSON output.",
    ),
    param(
        "JS_TREAT_INTEGER_AS_BIGINT",
        Kind::Boolean,
        "false",
        "The Node.js driver reads integers as BigInt.",
    ),
    param(
        "LOCK_TIMEOUT",
        Kind::Number,
        "43200",
        "Seconds to wait for a lock.",
    ),
    param(
        "LOG_LEVEL",
        Kind::String,
        "OFF",
        "Severity of log messages kept.",
    ),
    param(
        "METRIC_LEVEL",
        Kind::String,
        "NONE",
        "Which metrics are kept.",
    ),
    param(
        "MULTI_STATEMENT_COUNT",
        Kind::Number,
        "1",
        "Statements one request may hold.",
    ),
    param(
        "NOORDER_SEQUENCE_AS_DEFAULT",
        Kind::Boolean,
        "true",
        "New sequences are NOORDER.",
    ),
    param(
        "ODBC_TREAT_DECIMAL_AS_INT",
        Kind::Boolean,
        "false",
        "ODBC reads scale-0 decimals as integers.",
    ),
    param(
        "PYTHON_CONNECTOR_QUERY_RESULT_FORMAT",
        Kind::String,
        "ARROW",
        "Result format of the Python connector.",
    ),
    param(
        "QUERY_RESULT_FORMAT",
        Kind::String,
        "JSON",
        "Result format of queries (JSON or ARROW).",
    ),
    param(
        "QUERY_TAG",
        Kind::String,
        "",
        "A tag for the session's queries.",
    ),
    param(
        "QUOTED_IDENTIFIERS_IGNORE_CASE",
        Kind::Boolean,
        "false",
        "Quoted identifiers ignore case.",
    ),
    param(
        "ROWS_PER_RESULTSET",
        Kind::Number,
        "0",
        "Most rows in one result (0: no limit).",
    ),
    param(
        "S3_STAGE_VPCE_DNS_NAME",
        Kind::String,
        "",
        "DNS name of an S3 interface endpoint.",
    ),
    param(
        "SEARCH_PATH",
        Kind::String,
        "$current, $public",
        "Where unqualified functions are found.",
    ),
    param(
        "SIMULATED_DATA_SHARING_CONSUMER",
        Kind::String,
        "",
        "Account whose view of shared data is simulated.",
    ),
    param(
        "STATEMENT_QUEUED_TIMEOUT_IN_SECONDS",
        Kind::Number,
        "0",
        "Seconds a statement may queue.",
    ),
    param(
        "STATEMENT_TIMEOUT_IN_SECONDS",
        Kind::Number,
        "172800",
        "Seconds a statement may run.",
    ),
    param(
        "STRICT_JSON_OUTPUT",
        Kind::Boolean,
        "false",
        "JSON output is strict (no NaN, no Infinity).",
    ),
    param(
        "TIMESTAMP_DAY_IS_ALWAYS_24H",
        Kind::Boolean,
        "false",
        "A day in timestamp arithmetic is 24 hours.",
    ),
    param(
        "TIMESTAMP_INPUT_FORMAT",
        Kind::String,
        "AUTO",
        "How timestamps are read.",
    ),
    param(
        "TIMESTAMP_LTZ_OUTPUT_FORMAT",
        Kind::String,
        "",
        "How TIMESTAMP_LTZ values are shown.",
    ),
    param(
        "TIMESTAMP_NTZ_OUTPUT_FORMAT",
        Kind::String,
        "YYYY-MM-DD HH24:MI:SS.FF3",
        "How TIMESTAMP_NTZ values are shown.",
    ),
    param(
        "TIMESTAMP_OUTPUT_FORMAT",
        Kind::String,
        "YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM",
        "How timestamps are shown.",
    ),
    param(
        "TIMESTAMP_TYPE_MAPPING",
        Kind::String,
        "TIMESTAMP_NTZ",
        "What TIMESTAMP means.",
    ),
    param(
        "TIMESTAMP_TZ_OUTPUT_FORMAT",
        Kind::String,
        "",
        "How TIMESTAMP_TZ values are shown.",
    ),
    param(
        "TIMEZONE",
        Kind::String,
        "America/Los_Angeles",
        "The session's time zone.",
    ),
    param(
        "TIME_INPUT_FORMAT",
        Kind::String,
        "AUTO",
        "How times are read.",
    ),
    param(
        "TIME_OUTPUT_FORMAT",
        Kind::String,
        "HH24:MI:SS",
        "How times are shown.",
    ),
    param(
        "TRACE_LEVEL",
        Kind::String,
        "OFF",
        "Which trace events are kept.",
    ),
    param(
        "TRANSACTION_ABORT_ON_ERROR",
        Kind::Boolean,
        "false",
        "An error aborts the transaction.",
    ),
    param(
        "TRANSACTION_DEFAULT_ISOLATION_LEVEL",
        Kind::String,
        "READ COMMITTED",
        "Isolation of transactions.",
    ),
    param(
        "TWO_DIGIT_CENTURY_START",
        Kind::Number,
        "1970",
        "First year of two-digit year input.",
    ),
    param(
        "UNSUPPORTED_DDL_ACTION",
        Kind::String,
        "ignore",
        "What unsupported DDL does.",
    ),
    param(
        "USE_CACHED_RESULT",
        Kind::Boolean,
        "true",
        "Reuse results of identical queries.",
    ),
    param(
        "WEEK_OF_YEAR_POLICY",
        Kind::Number,
        "0",
        "How weeks of the year are counted.",
    ),
    param(
        "WEEK_START",
        Kind::Number,
        "0",
        "First day of the week (0: ISO Monday).",
    ),
];
