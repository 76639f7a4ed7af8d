//! The SQL API v2 (`/api/v2/statements`): a statement per request, authenticated per request from
//! `Authorization: Bearer` (key-pair JWT, PAT, OAuth, snowgate session or exchanged token; the
//! `X-Snowflake-Authorization-Token-Type` header is optional) by the gatekeeper's per-request
//! verifier, run by [`Gatekeeper::sql_api`](crate::domain::Gatekeeper). Statements run to the
//! end before the answer: `async=true` answers 202 with the handle, and the result waits in
//! [`kept::KeptResults`] for `GET /api/v2/statements/{handle}`. Every refusal is the SQL API's
//! `{"code", "message"}` shape: 401 for a credential, 400 for a malformed request, 422 for a
//! statement that failed, 404 for a handle not known here.

pub mod kept;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::access::presented;
use super::extract::ClientIp;
use crate::domain::access::{Caller, Via};
use crate::domain::query::sql_api::SqlApiRequest;
use crate::domain::query::{Answer, ColumnType, Forwardable, QueryOutcome};
use crate::error::Error;
use crate::snowflake::RowType;
use crate::snowflake::codes;
use crate::snowflake::sql_api::{
    ASYNC_RUNNING, EngineResult, ResultSet, STATEMENT_NOT_FOUND, StatementParams, StatementRequest,
    Status, engine_request, engine_result, is_handle, status_url,
};

/// The owner of kept answers: the caller's account and user incarnation.
fn owner(caller: &Caller) -> String {
    format!("{}/{}", caller.account, caller.user_id)
}

fn params(uri: &Uri) -> Result<StatementParams, Error> {
    let params: StatementParams = serde_urlencoded::from_str(uri.query().unwrap_or(""))
        .map_err(|_| Error::BadRequest("Malformed query string.".into()))?;
    params.check()?;
    Ok(params)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `POST /api/v2/statements`.
pub async fn submit(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match submit_inner(&state, client_ip, &uri, &headers, &body).await {
        Ok(response) => response,
        Err((e, handle)) => refusal(e, handle.as_deref()),
    }
}

/// A refusal and the statement handle it concerns, if any.
type Failure = (Error, Option<String>);

async fn submit_inner(
    state: &AppState,
    client_ip: Option<std::net::IpAddr>,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Failure> {
    let params = params(uri).map_err(|e| (e, None))?;
    let request: StatementRequest = serde_json::from_slice(body).map_err(|e| {
        // serde's own text may quote the value; only a missing field's name is repeated.
        let text = e.to_string();
        let why = match text.strip_prefix("missing field ") {
            Some(rest) => format!(
                "Malformed request body: missing field {}",
                rest.split(' ').next().unwrap_or_default()
            ),
            None => format!(
                "Malformed request body: not the JSON expected (line {}, column {}).",
                e.line(),
                e.column()
            ),
        };
        (Error::BadRequest(why), None)
    })?;
    request.check().map_err(|e| (e, None))?;
    let mut presented = presented(headers, client_ip, Via::SqlApi).map_err(|e| (e, None))?;
    presented.role = request
        .role
        .clone()
        .or_else(|| header(headers, "x-snowflake-role").map(str::to_string));
    let warehouse = request
        .warehouse
        .as_deref()
        .or_else(|| header(headers, "x-snowflake-warehouse"));
    crate::snowflake::limits::check_len("X-Snowflake-Role", presented.role.as_deref(), 1024)
        .and(crate::snowflake::limits::check_len(
            "X-Snowflake-Warehouse",
            warehouse,
            1024,
        ))
        .map_err(|e| (e, None))?;
    let now_ms = state.gate.now().saturating_mul(1000);
    let engine_body = engine_request(&request.statement, request.bindings.as_ref(), now_ms);
    let engine_query = format!("requestId={}", uuid::Uuid::new_v4());
    let sql = SqlApiRequest {
        statement: &request.statement,
        database: request.database.as_deref(),
        schema: request.schema.as_deref(),
        warehouse,
        request_id: params.request_id.as_deref(),
        client_ip,
        engine_request: Forwardable {
            query: &engine_query,
            body: &engine_body,
            async_exec: false,
        },
    };
    let (caller, answer) = state
        .gate
        .sql_api(&presented, sql)
        .await
        .map_err(|e| (e, None))?;
    let result = match answer {
        Answer::Local(out) => local_result(out, params.request_id.clone(), now_ms),
        Answer::Engine(answer) => {
            match engine_answer(&answer.body, params.request_id.clone(), now_ms) {
                Ok(result) => result,
                Err(response) => return Ok(*response),
            }
        }
    };
    let result = if params.nullable() {
        result
    } else {
        result.without_nulls()
    };
    let handle = result.statement_handle.clone();
    let body = Bytes::from(serde_json::to_vec(&result).unwrap_or_default());
    let kept = state
        .statements
        .keep(&owner(&caller), &handle, body.clone(), state.gate.now());
    if params.is_async() && kept {
        let status = Status {
            code: ASYNC_RUNNING.into(),
            sql_state: None,
            message: "Asynchronous execution in progress. Use provided query id to perform query monitoring and management.".into(),
            statement_status_url: Some(status_url(&handle)),
            statement_handle: Some(handle),
            created_on: Some(now_ms),
        };
        return Ok((StatusCode::ACCEPTED, axum::Json(status)).into_response());
    }
    Ok(json(StatusCode::OK, body))
}

fn json(status: StatusCode, body: Bytes) -> Response {
    (
        status,
        [(CONTENT_TYPE, "application/json")],
        Body::from(body),
    )
        .into_response()
}

fn local_result(out: QueryOutcome, request_id: Option<String>, now_ms: u64) -> ResultSet {
    let row_type = out
        .columns
        .into_iter()
        .zip(out.types)
        .map(|(name, type_)| row_type(name, type_).to_value())
        .collect();
    ResultSet::new(out.query_id, request_id, row_type, out.rows, now_ms)
}

fn row_type(name: String, type_: ColumnType) -> RowType {
    match type_ {
        ColumnType::Text => RowType::text(name),
        ColumnType::Fixed { precision, scale } => {
            RowType::fixed(name, precision.into(), scale.into())
        }
        ColumnType::Boolean => RowType::boolean(name),
        ColumnType::TimestampLtz => RowType::timestamp_ltz(name),
    }
}

/// The engine's driver-wire answer as a SQL API result, or the failure it reports.
fn engine_answer(
    body: &[u8],
    request_id: Option<String>,
    now_ms: u64,
) -> Result<ResultSet, Box<Response>> {
    let new_handle = || uuid::Uuid::new_v4().to_string();
    match engine_result(body) {
        Some(EngineResult::Rows {
            query_id,
            row_type,
            data,
        }) => Ok(ResultSet::new(
            query_id.unwrap_or_else(new_handle),
            request_id,
            row_type,
            data,
            now_ms,
        )),
        Some(EngineResult::Failed {
            query_id,
            code,
            sql_state,
            message,
        }) => Err(Box::new(failed(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            sql_state,
            message,
            Some(query_id.unwrap_or_else(new_handle)),
        ))),
        Some(EngineResult::Arrow { query_id }) => Err(Box::new(refusal(
            Error::sql(
                crate::error::SqlErrorKind::Unsupported,
                "Unsupported feature: the query engine answered in Arrow (queryResultFormat arrow), which snowgate's SQL API does not convert; it converts JSON rowsets only. The statement ran on the engine.",
            ),
            Some(&query_id.unwrap_or_else(new_handle)),
        ))),
        None => Err(Box::new(refusal(
            Error::Unavailable("query engine: its answer is not the Snowflake wire".into()),
            None,
        ))),
    }
}

/// `GET /api/v2/statements/{handle}`: the kept answer (partition 0 holds every row).
pub async fn status(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    Path(handle): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (caller, params) = match authorized(&state, client_ip, &uri, &headers, &handle).await {
        Ok(found) => found,
        Err(e) => return refusal(e, None),
    };
    let partition = match params.partition() {
        Ok(p) => p,
        Err(e) => return refusal(e, Some(&handle)),
    };
    let Some(body) = state
        .statements
        .get(&owner(&caller), &handle, state.gate.now())
    else {
        return not_found(&handle);
    };
    if partition > 0 {
        return refusal(
            Error::BadRequest(format!(
                "Partition {partition} does not exist: this result has one partition, 0."
            )),
            Some(&handle),
        );
    }
    json(StatusCode::OK, body)
}

/// `POST /api/v2/statements/{handle}/cancel`: statements have run to their end by the time their
/// handle is known, so a known handle's cancel succeeds with nothing to stop.
pub async fn cancel(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    Path(handle): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let caller = match authorized(&state, client_ip, &uri, &headers, &handle).await {
        Ok((caller, _)) => caller,
        Err(e) => return refusal(e, None),
    };
    if state
        .statements
        .get(&owner(&caller), &handle, state.gate.now())
        .is_none()
    {
        return not_found(&handle);
    }
    let status = Status {
        code: "000000".into(),
        sql_state: Some("00000".into()),
        message: "successfully executed".into(),
        statement_status_url: Some(status_url(&handle)),
        statement_handle: Some(handle),
        created_on: None,
    };
    (StatusCode::OK, axum::Json(status)).into_response()
}

async fn authorized(
    state: &AppState,
    client_ip: Option<std::net::IpAddr>,
    uri: &Uri,
    headers: &HeaderMap,
    handle: &str,
) -> Result<(Caller, StatementParams), Error> {
    let params = params(uri)?;
    if !is_handle(handle) {
        return Err(Error::BadRequest(
            "The statement handle is not one (letters, digits and dashes, at most 64).".into(),
        ));
    }
    let presented = presented(headers, client_ip, Via::SqlApi)?;
    let caller = state.gate.authorize(&presented).await?;
    Ok((caller, params))
}

fn not_found(handle: &str) -> Response {
    let status = Status {
        code: STATEMENT_NOT_FOUND.into(),
        sql_state: Some("02000".into()),
        message: format!(
            "Statement {handle} not found. snowgate keeps a statement's result for 10 minutes, in the memory of the instance that ran it."
        ),
        statement_handle: Some(handle.to_string()),
        statement_status_url: None,
        created_on: None,
    };
    (StatusCode::NOT_FOUND, axum::Json(status)).into_response()
}

/// A refusal's HTTP status on the SQL API: 401 for a credential, 422 for a statement, 400 for a
/// malformed request, 503/429 for a backend down or busy (clients retry those).
fn http_status(error: &Error) -> StatusCode {
    match error {
        Error::Sql { .. }
        | Error::EngineNoAnswer
        | Error::EngineAnswerTooLarge { .. }
        | Error::EngineLoginRefused => StatusCode::UNPROCESSABLE_ENTITY,
        Error::BadRequest(_) | Error::UriTooLong { .. } | Error::HeadersTooLarge { .. } => {
            StatusCode::BAD_REQUEST
        }
        Error::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Unavailable(_) | Error::Conflict => StatusCode::SERVICE_UNAVAILABLE,
        Error::Busy => StatusCode::TOO_MANY_REQUESTS,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNAUTHORIZED,
    }
}

/// A refusal in the SQL API's shape: `{"code", "message"}`, with `sqlState` and the handle for a
/// statement that failed.
fn refusal(error: Error, handle: Option<&str>) -> Response {
    let status = http_status(&error);
    let code = codes::of(&error);
    let (sql_state, mut message) = match &error {
        Error::Sql { error: sql, .. } => (Some(codes::sql(sql.kind).1), sql.message.clone()),
        Error::Internal(cause) => {
            tracing::error!(cause = %cause, "internal error");
            (None, "Internal error.".to_string())
        }
        other => (None, other.to_string()),
    };
    if status == StatusCode::UNAUTHORIZED {
        // As Snowflake does: a request id the caller can quote.
        message = format!("{message} [{}]", uuid::Uuid::new_v4());
    }
    let handle = handle.map(str::to_string).or_else(|| match &error {
        Error::Sql { query_id, .. } if !query_id.is_empty() => Some(query_id.clone()),
        _ => None,
    });
    let mut response = failed(
        status,
        code.into(),
        sql_state.map(str::to_string),
        message,
        handle,
    );
    response
        .extensions_mut()
        .insert(super::error::Refusal(code));
    response
}

/// A failure status: `QueryFailureStatus` for a statement, the bare `{"code", "message"}` else.
fn failed(
    status: StatusCode,
    code: String,
    sql_state: Option<String>,
    message: String,
    handle: Option<String>,
) -> Response {
    let body = Status {
        code,
        sql_state,
        message,
        statement_status_url: handle.as_deref().map(status_url),
        statement_handle: handle,
        created_on: None,
    };
    (status, axum::Json(body)).into_response()
}
