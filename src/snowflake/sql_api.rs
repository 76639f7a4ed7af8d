//! The SQL API v2's wire (`/api/v2/statements`, Snowflake's `sqlapi.yaml`): the request body, the
//! `jsonv2` result set, the asynchronous and failure statuses, and the conversion of a query
//! engine's JSON rowset answer (the driver wire) into that result set. Field names live here only.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::RowType;
use super::limits::{MAX_NAME_BYTES, MAX_REQUEST_ID_BYTES, check_len};
use crate::error::{Error, Result};

/// The longest statement accepted (Snowflake's limit on a statement's text is 1 MB; the body
/// limit holds it too).
pub const MAX_STATEMENT_BYTES: usize = 1 << 20;
/// The most bind variables and parameters one request may carry.
pub const MAX_BINDINGS: usize = 1000;
pub const MAX_PARAMETERS: usize = 64;
/// `timeout`: 0 means Snowflake's maximum, seven days.
pub const MAX_TIMEOUT_SECONDS: u64 = 604_800;

/// `POST /api/v2/statements`' body. Other fields (`resultSetMetaData`, which Airflow sends) are
/// ignored.
#[derive(Debug, Deserialize)]
pub struct StatementRequest {
    pub statement: String,
    #[serde(default)]
    pub timeout: Option<u64>,
    #[serde(default)]
    pub database: Option<String>,
    #[serde(default)]
    pub schema: Option<String>,
    #[serde(default)]
    pub warehouse: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    /// `{"1": {"type": "FIXED", "value": "123"}}`: the same shape as the driver wire's bindings.
    #[serde(default)]
    pub bindings: Option<Map<String, Value>>,
    #[serde(default)]
    pub parameters: Option<Map<String, Value>>,
}

impl StatementRequest {
    /// Every size and value checked; the message names the field, never its value.
    pub fn check(&self) -> Result<()> {
        if self.statement.trim().is_empty() {
            return Err(Error::BadRequest("statement is empty.".into()));
        }
        check_len("statement", Some(&self.statement), MAX_STATEMENT_BYTES)?;
        for (field, value) in [
            ("database", &self.database),
            ("schema", &self.schema),
            ("warehouse", &self.warehouse),
            ("role", &self.role),
        ] {
            check_len(field, value.as_deref(), MAX_NAME_BYTES)?;
        }
        if self.timeout.is_some_and(|t| t > MAX_TIMEOUT_SECONDS) {
            return Err(Error::BadRequest(format!(
                "timeout exceeds the limit of {MAX_TIMEOUT_SECONDS} seconds."
            )));
        }
        if let Some(bindings) = &self.bindings {
            if bindings.len() > MAX_BINDINGS {
                return Err(Error::BadRequest(format!(
                    "bindings exceed the limit of {MAX_BINDINGS} variables."
                )));
            }
            if !bindings.values().all(is_binding) {
                return Err(Error::BadRequest(
                    "bindings: each variable is {\"type\": <text>, \"value\": <text or null>}."
                        .into(),
                ));
            }
        }
        if let Some(parameters) = &self.parameters {
            if parameters.len() > MAX_PARAMETERS {
                return Err(Error::BadRequest(format!(
                    "parameters exceed the limit of {MAX_PARAMETERS}."
                )));
            }
            let multi = parameters
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("multi_statement_count"))
                .map(|(_, v)| v);
            if multi.is_some_and(|v| v.as_u64() != Some(1) && v.as_str() != Some("1")) {
                return Err(Error::BadRequest(
                    "MULTI_STATEMENT_COUNT other than 1: snowgate's SQL API runs one statement per request."
                        .into(),
                ));
            }
        }
        Ok(())
    }
}

fn is_binding(value: &Value) -> bool {
    value.as_object().is_some_and(|b| {
        b.get("type").is_some_and(Value::is_string)
            && b.get("value").is_none_or(|v| v.is_string() || v.is_null())
            && b.len() <= 2
    })
}

/// The query string of `POST /api/v2/statements` and `GET …/{handle}`; others are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct StatementParams {
    #[serde(rename = "requestId")]
    pub request_id: Option<String>,
    #[serde(rename = "async")]
    pub async_: Option<String>,
    pub nullable: Option<String>,
    pub partition: Option<String>,
}

impl StatementParams {
    pub fn check(&self) -> Result<()> {
        check_len(
            "requestId",
            self.request_id.as_deref(),
            MAX_REQUEST_ID_BYTES,
        )?;
        for (field, value) in [("async", &self.async_), ("nullable", &self.nullable)] {
            if value.as_deref().is_some_and(|v| flag(v).is_none()) {
                return Err(Error::BadRequest(format!("{field} is true or false.")));
            }
        }
        Ok(())
    }

    pub fn is_async(&self) -> bool {
        self.async_.as_deref().and_then(flag).unwrap_or(false)
    }

    /// `nullable=false` asks for SQL NULL as the string `"null"`.
    pub fn nullable(&self) -> bool {
        self.nullable.as_deref().and_then(flag).unwrap_or(true)
    }

    /// The partition asked for (0 when none).
    pub fn partition(&self) -> Result<u64> {
        match self.partition.as_deref() {
            None => Ok(0),
            Some(p) => p
                .parse()
                .map_err(|_| Error::BadRequest("partition is a number from 0.".into())),
        }
    }
}

fn flag(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The engine's statement request for a SQL API statement: the driver wire's query request.
pub fn engine_request(
    statement: &str,
    bindings: Option<&Map<String, Value>>,
    now_ms: u64,
) -> Vec<u8> {
    let mut body = serde_json::json!({
        "sqlText": statement,
        "asyncExec": false,
        "sequenceId": 1,
        "querySubmissionTime": now_ms,
        "isInternal": false,
        "describeOnly": false,
        "queryContextDTO": {"entries": []},
    });
    if let (Some(bindings), Some(object)) = (bindings, body.as_object_mut()) {
        object.insert("bindings".into(), Value::Object(bindings.clone()));
    }
    serde_json::to_vec(&body).unwrap_or_default()
}

/// A statement's result, all of it in partition 0.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultSet {
    pub result_set_meta_data: MetaData,
    pub data: Vec<Vec<Option<String>>>,
    pub code: &'static str,
    pub statement_status_url: String,
    pub request_id: Option<String>,
    pub sql_state: &'static str,
    pub statement_handle: String,
    pub message: &'static str,
    pub created_on: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetaData {
    pub num_rows: u64,
    pub format: &'static str,
    /// The driver wire's column descriptions (`RowType`, or the engine's as it sent them).
    pub row_type: Vec<Value>,
    pub partition_info: Vec<PartitionInfo>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionInfo {
    pub row_count: u64,
    pub uncompressed_size: u64,
}

pub const STATEMENT_OK: &str = "090001";
pub const ASYNC_RUNNING: &str = "333334";
/// A statement handle not (or no longer) known: Snowflake's "Statement … not found".
pub const STATEMENT_NOT_FOUND: &str = "000709";

impl ResultSet {
    pub fn new(
        handle: String,
        request_id: Option<String>,
        row_type: Vec<Value>,
        data: Vec<Vec<Option<String>>>,
        created_on: u64,
    ) -> Self {
        let size: usize = data.iter().flatten().flatten().map(|c| c.len() + 3).sum();
        Self {
            result_set_meta_data: MetaData {
                num_rows: data.len() as u64,
                format: "jsonv2",
                row_type,
                partition_info: vec![PartitionInfo {
                    row_count: data.len() as u64,
                    uncompressed_size: size as u64,
                }],
            },
            data,
            code: STATEMENT_OK,
            statement_status_url: status_url(&handle),
            request_id,
            sql_state: "00000",
            statement_handle: handle,
            message: "Statement executed successfully.",
            created_on,
        }
    }

    /// `nullable=false`: SQL NULL as the string `"null"`.
    pub fn without_nulls(mut self) -> Self {
        for cell in self.data.iter_mut().flatten() {
            cell.get_or_insert_with(|| "null".into());
        }
        self
    }
}

pub fn status_url(handle: &str) -> String {
    format!("/api/v2/statements/{handle}")
}

/// A status without data: asynchronous execution under way (202), a failure (422), a cancel.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql_state: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_handle: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_status_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<u64>,
}

impl RowType {
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// What an engine's statement answer (driver wire) becomes on the SQL API.
#[derive(Debug)]
pub enum EngineResult {
    Rows {
        query_id: Option<String>,
        row_type: Vec<Value>,
        data: Vec<Vec<Option<String>>>,
    },
    Failed {
        query_id: Option<String>,
        code: String,
        sql_state: Option<String>,
        message: String,
    },
    /// Rows in Arrow (`rowsetBase64`), which snowgate does not decode.
    Arrow { query_id: Option<String> },
}

#[derive(Deserialize)]
struct EngineEnvelope {
    #[serde(default)]
    data: Option<EngineData>,
    #[serde(default)]
    success: bool,
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct EngineData {
    #[serde(default)]
    query_id: Option<String>,
    #[serde(default)]
    rowtype: Vec<Value>,
    #[serde(default)]
    rowset: Option<Vec<Vec<Value>>>,
    #[serde(default)]
    rowset_base64: Option<String>,
    #[serde(default)]
    query_result_format: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    sql_state: Option<String>,
}

/// Reads an engine's statement answer; `None` when it is not the driver wire's envelope.
pub fn engine_result(body: &[u8]) -> Option<EngineResult> {
    let envelope: EngineEnvelope = serde_json::from_slice(body).ok()?;
    let data = envelope.data.unwrap_or_default();
    let query_id = data.query_id.filter(|id| is_handle(id));
    if !envelope.success {
        let code = data.error_code.or_else(|| match envelope.code {
            Some(Value::String(s)) => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        });
        return Some(EngineResult::Failed {
            query_id,
            code: code.unwrap_or_else(|| "000603".into()),
            sql_state: data.sql_state,
            message: envelope
                .message
                .unwrap_or_else(|| "The query engine refused the statement.".into()),
        });
    }
    let arrow = data.query_result_format.as_deref() == Some("arrow")
        && data.rowset_base64.as_deref().is_some_and(|r| !r.is_empty());
    if arrow {
        return Some(EngineResult::Arrow { query_id });
    }
    let data_rows = data.rowset.unwrap_or_default();
    let rows = data_rows
        .into_iter()
        .map(|row| row.into_iter().map(cell).collect())
        .collect();
    Some(EngineResult::Rows {
        query_id,
        row_type: data.rowtype,
        data: rows,
    })
}

fn cell(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

/// A statement handle as a path may carry it: letters, digits and dashes, at most 64 (a UUID).
pub fn is_handle(handle: &str) -> bool {
    !handle.is_empty()
        && handle.len() <= 64
        && handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_json_rowset_becomes_strings() {
        let body = br#"{"success":true,"data":{"queryId":"01-ab","rowtype":[{"name":"A","type":"fixed"}],"rowset":[["1",null],[2,true]],"queryResultFormat":"json"}}"#;
        let Some(EngineResult::Rows {
            query_id,
            data,
            row_type,
        }) = engine_result(body)
        else {
            panic!("not rows");
        };
        assert_eq!(query_id.as_deref(), Some("01-ab"));
        assert_eq!(row_type.len(), 1);
        assert_eq!(
            data,
            vec![
                vec![Some("1".into()), None],
                vec![Some("2".into()), Some("true".into())]
            ]
        );
    }

    #[test]
    fn arrow_failures_and_garbage_are_told_apart() {
        let arrow =
            br#"{"success":true,"data":{"rowsetBase64":"QUJD","queryResultFormat":"arrow"}}"#;
        assert!(matches!(
            engine_result(arrow),
            Some(EngineResult::Arrow { .. })
        ));
        let failed = br#"{"success":false,"code":"002003","message":"no table","data":{"sqlState":"42S02","queryId":"../x"}}"#;
        let Some(EngineResult::Failed {
            code,
            sql_state,
            query_id,
            ..
        }) = engine_result(failed)
        else {
            panic!("not a failure");
        };
        assert_eq!(
            (code.as_str(), sql_state.as_deref()),
            ("002003", Some("42S02"))
        );
        assert_eq!(query_id, None, "a handle that is no handle is dropped");
        assert!(engine_result(b"<html>").is_none());
    }

    #[test]
    fn requests_are_bounded() {
        let ok = |json: &str| {
            serde_json::from_str::<StatementRequest>(json)
                .map_err(|e| e.to_string())
                .and_then(|r| r.check().map_err(|e| e.to_string()))
        };
        assert!(
            ok(r#"{"statement":"select 1","bindings":{"1":{"type":"FIXED","value":"1"}}}"#).is_ok()
        );
        assert!(ok(r#"{"statement":"  "}"#).is_err());
        assert!(ok(r#"{"statement":"select 1","timeout":604801}"#).is_err());
        assert!(ok(r#"{"statement":"select 1","bindings":{"1":{"type":1}}}"#).is_err());
        assert!(
            ok(r#"{"statement":"select 1","parameters":{"MULTI_STATEMENT_COUNT":2}}"#).is_err()
        );
        let long = format!(
            r#"{{"statement":"select 1","database":"{}"}}"#,
            "d".repeat(1025)
        );
        assert!(ok(&long).is_err());
    }
}
