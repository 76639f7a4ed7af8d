//! The Snowflake wire format: request and response bodies exactly as the drivers send and read them
//! (see `docs/protocol.md`). Only this module knows field names and JSON shapes; the
//! rest of snowgate works with domain types.

pub mod codes;
pub mod limits;
pub mod sql_api;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The envelope every GS response uses (`docs/protocol.md` §0). `success` is always present, `code` is a string.
#[derive(Debug, Serialize)]
pub struct Envelope<T: Serialize> {
    pub data: Option<T>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub success: bool,
    pub headers: Option<()>,
}

impl<T: Serialize> Envelope<T> {
    pub fn ok(data: T) -> Self {
        Self {
            data: Some(data),
            code: None,
            message: None,
            success: true,
            headers: None,
        }
    }

    pub fn failure(code: &str, message: impl Into<String>, data: Option<T>) -> Self {
        Self {
            data,
            code: Some(code.to_string()),
            message: Some(message.into()),
            success: false,
            headers: None,
        }
    }
}

impl Envelope<()> {
    /// `{"data": null, "success": true, ...}`: heartbeat and session delete.
    pub fn empty_ok() -> Self {
        Self {
            data: None,
            code: None,
            message: None,
            success: true,
            headers: None,
        }
    }
}

/// `data` of a refused login, as Snowflake sends it: the driver is to log in again. Drivers read
/// `data.nextAction` of every failed login (Python 2.x: `ret["data"].get("nextAction")`, which
/// fails on `null`), so every refusal of the login route carries it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginRetryData {
    pub next_action: &'static str,
    pub authn_method: &'static str,
    pub sign_in_options: Map<String, Value>,
}

impl LoginRetryData {
    /// The body for a login by `authn_method` (`USERNAME_PASSWORD`, `PAT`, `OAUTH`, …).
    pub fn for_method(authn_method: &'static str) -> Self {
        Self {
            next_action: "RETRY_LOGIN",
            authn_method,
            sign_in_options: Map::new(),
        }
    }
}

/// The session context a login asks for, by name: in the query string (§1.1) or in the body.
#[derive(Debug, Default, Deserialize)]
pub struct ContextNames {
    #[serde(rename = "databaseName")]
    pub database_name: Option<String>,
    #[serde(rename = "schemaName")]
    pub schema_name: Option<String>,
    pub warehouse: Option<String>,
    #[serde(rename = "roleName")]
    pub role_name: Option<String>,
}

impl ContextNames {
    /// These names, each missing one taken from `fallback`.
    pub fn or(self, fallback: ContextNames) -> ContextNames {
        ContextNames {
            database_name: self.database_name.or(fallback.database_name),
            schema_name: self.schema_name.or(fallback.schema_name),
            warehouse: self.warehouse.or(fallback.warehouse),
            role_name: self.role_name.or(fallback.role_name),
        }
    }
}

/// Query-string parameters of the login request (§1.1). Python says `request_id`, the others `requestId`.
#[derive(Debug, Default, Deserialize)]
pub struct LoginParams {
    pub request_id: Option<String>,
    #[serde(rename = "requestId")]
    pub request_id_camel: Option<String>,
    #[serde(flatten)]
    pub context: ContextNames,
}

impl LoginParams {
    pub fn request_id(&self) -> Option<&str> {
        self.request_id
            .as_deref()
            .or(self.request_id_camel.as_deref())
    }
}

/// Query-string parameters of every other route: only the request id matters.
#[derive(Debug, Default, Deserialize)]
pub struct RequestParams {
    #[serde(rename = "requestId")]
    pub request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    pub data: LoginData,
}

/// `data` of the login body (§1.3). Unknown keys (CLIENT_ENVIRONMENT details, EXT_AUTHN_DUO_METHOD, …)
/// are accepted and ignored.
#[derive(Debug, Deserialize)]
pub struct LoginData {
    #[serde(rename = "ACCOUNT_NAME")]
    pub account_name: Option<String>,
    #[serde(rename = "LOGIN_NAME")]
    pub login_name: Option<String>,
    #[serde(rename = "PASSWORD")]
    pub password: Option<SecretString>,
    #[serde(rename = "AUTHENTICATOR")]
    pub authenticator: Option<String>,
    #[serde(rename = "TOKEN")]
    pub token: Option<SecretString>,
    /// `passcode` asks for TOTP MFA; `push` (JDBC sends it on every login) asks for nothing.
    #[serde(rename = "EXT_AUTHN_DUO_METHOD")]
    pub ext_authn_duo_method: Option<String>,
    #[serde(rename = "PASSCODE")]
    pub passcode: Option<SecretString>,
    /// Node's flag for a passcode appended to the password.
    #[serde(rename = "passcodeInPassword")]
    pub passcode_in_password: Option<Value>,
    /// Workload identity's provider (AWS, AZURE, GCP, OIDC).
    #[serde(rename = "PROVIDER")]
    pub provider: Option<String>,
    #[serde(rename = "CLIENT_APP_ID")]
    pub client_app_id: Option<String>,
    #[serde(rename = "CLIENT_APP_VERSION")]
    pub client_app_version: Option<String>,
    /// Driver and OS details; not kept, only size-checked.
    #[serde(rename = "CLIENT_ENVIRONMENT")]
    pub client_environment: Option<Value>,
    #[serde(rename = "SESSION_PARAMETERS")]
    pub session_parameters: Option<Map<String, Value>>,
    /// Some clients put the context in the body rather than in the query string.
    #[serde(flatten)]
    pub context: ContextNames,
}

impl LoginData {
    /// Whether `CLIENT_ENVIRONMENT.OAUTH_TYPE` is set (the Go driver's OAuth flows).
    pub fn oauth_flow(&self) -> bool {
        self.client_environment
            .as_ref()
            .and_then(|env| env.get("OAUTH_TYPE"))
            .is_some_and(|t| t.as_str().is_some_and(|s| !s.is_empty()))
    }

    /// `CLIENT_ENVIRONMENT.APPLICATION` when it is a short string: the Snowflake CLI names itself
    /// there (authentication policies' `CLIENT_TYPES`).
    pub fn application(&self) -> Option<String> {
        let app = self
            .client_environment
            .as_ref()?
            .get("APPLICATION")?
            .as_str()?;
        (app.len() <= limits::MAX_CLIENT_APP_BYTES).then(|| app.to_string())
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub database_name: Option<String>,
    pub schema_name: Option<String>,
    pub warehouse_name: Option<String>,
    pub role_name: Option<String>,
}

/// One `{name, value}` element of a `parameters` list.
#[derive(Debug, Serialize)]
pub struct Parameter {
    pub name: String,
    pub value: Value,
}

/// Successful login `data` (§1.4). `nextAction` is never sent: it would start MFA or a password change.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    pub token: String,
    pub validity_in_seconds: u64,
    pub master_token: String,
    pub master_validity_in_seconds: u64,
    pub session_id: u64,
    pub server_version: &'static str,
    pub display_user_name: String,
    pub first_login: bool,
    pub health_check_interval: u64,
    pub new_client_for_upgrade: Option<String>,
    pub rem_me_token: Option<String>,
    pub rem_me_validity_in_seconds: u64,
    pub id_token: Option<String>,
    pub id_token_validity_in_seconds: u64,
    pub mfa_token: Option<String>,
    pub mfa_token_validity_in_seconds: u64,
    pub session_info: SessionInfo,
    pub parameters: Vec<Parameter>,
}

/// Body of `POST /session/token-request` (§3.2).
#[derive(Debug, Deserialize)]
pub struct RenewRequest {
    // Node's snowflake-sdk 1.x sends `{"OLD_SESSION_TOKEN": …, "REQUEST_TYPE": "RENEW"}`
    // (lib/services/sf.js before 2.0); every other driver, and Node 2.x, the camel-case names.
    #[serde(rename = "oldSessionToken", alias = "OLD_SESSION_TOKEN")]
    pub old_session_token: Option<SecretString>,
    #[serde(rename = "requestType", alias = "REQUEST_TYPE")]
    pub request_type: String,
}

/// Successful renewal `data` (§3.2): every driver's spelling of the validities, master token echoed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewResponse {
    pub session_token: String,
    #[serde(rename = "validityInSecondsST")]
    pub validity_in_seconds_st: u64,
    pub validity_in_seconds: u64,
    pub master_token: String,
    #[serde(rename = "validityInSecondsMT")]
    pub validity_in_seconds_mt: u64,
    pub master_validity_in_seconds: u64,
    pub session_id: u64,
}

/// Body of `POST /queries/v1/query-request` (§4.1). Bindings, parameters and the rest are ignored.
#[derive(Debug, Deserialize)]
pub struct QueryRequest {
    #[serde(rename = "sqlText")]
    pub sql_text: String,
    #[serde(rename = "asyncExec", default)]
    pub async_exec: bool,
    #[serde(rename = "sequenceId")]
    pub sequence_id: Option<u64>,
}

/// One column description of a JSON result (§4.2). Python needs every one of these keys.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RowType {
    pub name: String,
    pub database: &'static str,
    pub schema: &'static str,
    pub table: &'static str,
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub nullable: bool,
    pub length: Option<u64>,
    pub precision: Option<u64>,
    pub scale: Option<u64>,
    pub byte_length: Option<u64>,
    pub collation: Option<String>,
}

impl RowType {
    /// A FIXED (NUMBER) column of the given precision and scale.
    pub fn fixed(name: String, precision: u64, scale: u64) -> Self {
        Self {
            type_: "fixed",
            precision: Some(precision),
            scale: Some(scale),
            length: None,
            byte_length: None,
            ..Self::text(name)
        }
    }

    /// A TIMESTAMP_LTZ(9) column: the JSON cell is `<epoch seconds>.<9 digits>`, which the drivers
    /// turn into a datetime in the session's time zone.
    pub fn timestamp_ltz(name: String) -> Self {
        Self {
            type_: "timestamp_ltz",
            precision: Some(0),
            scale: Some(9),
            length: None,
            byte_length: None,
            ..Self::text(name)
        }
    }

    /// A BOOLEAN column.
    pub fn boolean(name: String) -> Self {
        Self {
            type_: "boolean",
            length: None,
            byte_length: None,
            ..Self::text(name)
        }
    }

    /// A TEXT column.
    pub fn text(name: String) -> Self {
        Self {
            name,
            database: "",
            schema: "",
            table: "",
            type_: "text",
            nullable: true,
            length: Some(16_777_216),
            precision: None,
            scale: None,
            byte_length: Some(16_777_216),
            collation: None,
        }
    }
}

/// Successful query `data` (§4.2, §4.3), with the session context after the statement in `final*`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResponse {
    pub query_id: String,
    pub query_result_format: &'static str,
    pub rowtype: Vec<RowType>,
    pub rowset: Vec<Vec<Option<String>>>,
    pub total: u64,
    pub returned: u64,
    pub statement_type_id: i64,
    pub version: u64,
    pub parameters: Vec<Parameter>,
    pub final_database_name: Option<String>,
    pub final_schema_name: Option<String>,
    pub final_warehouse_name: Option<String>,
    pub final_role_name: Option<String>,
}

/// `data` of a failed query (§4.4): JDBC takes `errorCode` as the vendor code when `sqlState` is set.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SqlErrorData {
    pub internal_error: bool,
    pub error_code: String,
    pub age: u64,
    pub sql_state: String,
    pub query_id: String,
    pub line: i64,
    pub pos: i64,
    #[serde(rename = "type")]
    pub type_: &'static str,
}

/// The polite answer to `/telemetry/send` (§7.2).
pub const TELEMETRY_ACK: &str = "Log Received";
