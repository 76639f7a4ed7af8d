//! One handler per route: take the request apart with the extractors, call the
//! [`Gatekeeper`](crate::domain::Gatekeeper), and put the outcome into the wire types.

use axum::Json;
use axum::extract::Path;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode, Uri, header::HOST};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use super::extract::{
    ClientIp, Drained, Params, SnowflakeJson, SnowflakeJsonBytes, SnowflakeToken,
};
use crate::domain::SERVER_VERSION;
use crate::domain::credentials::totp::MfaInput;
use crate::domain::gatekeeper::LoginInput;
use crate::domain::policy::AuthMethod;
use crate::domain::ports::engine::{EngineAnswer, EngineCall};
use crate::domain::query::{Answer, ColumnType, Forwardable, QueryOutcome, StatementKind};
use crate::domain::session::parameters;
use crate::error::{Error, Result};
use crate::snowflake::{
    Envelope, LoginParams, LoginRequest, LoginResponse, Parameter, QueryRequest, QueryResponse,
    RenewRequest, RenewResponse, RequestParams, RowType, SessionInfo, TELEMETRY_ACK, codes,
};

type Reply<T> = Result<Json<Envelope<T>>>;

/// `POST /session/v1/login-request`. Every refusal, a malformed request's included, carries the
/// `data` object drivers read (`error::login_refusal`), naming the method the login asked for.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    headers: HeaderMap,
    params: Result<Params<LoginParams>>,
    body: Result<SnowflakeJson<LoginRequest>>,
) -> Response {
    let mut method = "USERNAME_PASSWORD";
    let reply = async {
        let (Params(params), SnowflakeJson(body)) = (params?, body?);
        log_in(&state, client_ip, &headers, params, body, &mut method).await
    };
    match reply.await {
        Ok(reply) => reply.into_response(),
        Err(e) => super::error::login_refusal(e, method),
    }
}

/// How Snowflake names a login method in a refusal's `data.authnMethod`.
fn authn_method(method: AuthMethod) -> &'static str {
    match method {
        AuthMethod::Password | AuthMethod::All | AuthMethod::Saml => "USERNAME_PASSWORD",
        AuthMethod::Keypair => "KEY_PAIR",
        AuthMethod::ProgrammaticAccessToken => "PAT",
        AuthMethod::Oauth => "OAUTH",
        AuthMethod::WorkloadIdentity => "WORKLOAD_IDENTITY",
    }
}

async fn log_in(
    state: &AppState,
    client_ip: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    params: LoginParams,
    body: LoginRequest,
    method: &mut &'static str,
) -> Reply<LoginResponse> {
    params.check_limits()?;
    let data = body.data;
    data.check_limits()?;
    let application = data.application();
    let oauth_flow = data.oauth_flow();
    let session_parameters: Vec<(String, Value)> = data
        .session_parameters
        .unwrap_or_default()
        .into_iter()
        .collect();
    parameters::check(&session_parameters)?;
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    // The host is written into the tokens.
    crate::snowflake::limits::check_len("Host", host, 512)?;
    let mfa = MfaInput {
        passcode_method: data
            .ext_authn_duo_method
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("passcode")),
        passcode: data.passcode,
        passcode_in_password: data
            .passcode_in_password
            .as_ref()
            .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true")),
        wants_token: session_parameters.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("CLIENT_REQUEST_MFA_TOKEN")
                && (v.as_bool() == Some(true)
                    || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true")))
        }),
    };
    let request_id = params.request_id().map(str::to_string);
    let context = params.context.or(data.context);
    let input = LoginInput {
        mfa,
        application,
        account: data.account_name,
        login_name: data.login_name,
        password: data.password,
        token: data.token,
        authenticator: data.authenticator,
        provider: data.provider,
        oauth_flow,
        client_app: data.client_app_id,
        client_version: data.client_app_version,
        request_id,
        database: context.database_name,
        schema: context.schema_name,
        warehouse: context.warehouse,
        role: context.role_name,
        session_parameters,
        host: host.map(str::to_string),
        client_ip,
    };
    if let Ok(picked) = input.picked() {
        *method = authn_method(picked.method());
    }
    let out = state.gate.login(input).await?;
    let ctx = out.session.context;
    Ok(Json(Envelope::ok(LoginResponse {
        token: out.session_token,
        validity_in_seconds: out.session_ttl,
        master_token: out.master_token,
        master_validity_in_seconds: out.master_ttl,
        session_id: out.session.id,
        server_version: SERVER_VERSION,
        display_user_name: out.session.user,
        first_login: false,
        health_check_interval: 45,
        new_client_for_upgrade: None,
        rem_me_token: None,
        rem_me_validity_in_seconds: 0,
        id_token: None,
        id_token_validity_in_seconds: 0,
        mfa_token_validity_in_seconds: out
            .mfa_token
            .as_ref()
            .map_or(0, |_| crate::domain::credentials::totp::MFA_TOKEN_SECONDS),
        mfa_token: out.mfa_token,
        session_info: SessionInfo {
            database_name: ctx.database,
            schema_name: ctx.schema,
            warehouse_name: ctx.warehouse,
            role_name: ctx.role,
        },
        parameters: to_parameters(out.parameters),
    })))
}

#[derive(Debug, Default, Deserialize)]
pub struct SessionParams {
    delete: Option<String>,
}

/// `POST /session?delete=true`: log out. The body (`{}` or nothing) is not read.
pub async fn session(
    State(state): State<AppState>,
    Params(params): Params<SessionParams>,
    SnowflakeToken(token): SnowflakeToken,
    _body: Drained,
) -> Reply<()> {
    if !params
        .delete
        .is_some_and(|d| d.eq_ignore_ascii_case("true"))
    {
        return Err(Error::BadRequest(
            "Only POST /session?delete=true is supported.".into(),
        ));
    }
    state.gate.logout(token.expose_secret()).await?;
    Ok(Json(Envelope::empty_ok()))
}

pub async fn token_request(
    State(state): State<AppState>,
    SnowflakeToken(master): SnowflakeToken,
    SnowflakeJson(body): SnowflakeJson<RenewRequest>,
) -> Reply<RenewResponse> {
    // Echoed in the refusal of anything but RENEW.
    crate::snowflake::limits::check_len("requestType", Some(&body.request_type), 64)?;
    let renewed = state
        .gate
        .renew(master.expose_secret(), &body.request_type)
        .await?;
    Ok(Json(Envelope::ok(RenewResponse {
        session_token: renewed.session_token,
        validity_in_seconds_st: renewed.session_ttl,
        validity_in_seconds: renewed.session_ttl,
        // Drivers replace their master token with this one, so it is always echoed.
        master_token: master.expose_secret().to_string(),
        validity_in_seconds_mt: renewed.master_ttl_left,
        master_validity_in_seconds: renewed.master_validity,
        session_id: renewed.session.id,
    })))
}

pub async fn heartbeat(
    State(state): State<AppState>,
    SnowflakeToken(token): SnowflakeToken,
    _body: Drained,
) -> Reply<()> {
    state.gate.heartbeat(token.expose_secret()).await?;
    Ok(Json(Envelope::empty_ok()))
}

pub async fn query(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    Params(params): Params<RequestParams>,
    SnowflakeToken(token): SnowflakeToken,
    uri: Uri,
    SnowflakeJsonBytes(body, bytes): SnowflakeJsonBytes<QueryRequest>,
) -> Result<Response> {
    let raw = Forwardable {
        query: uri.query().unwrap_or(""),
        body: &bytes,
        async_exec: body.async_exec,
    };
    let answer = state
        .gate
        .statement(
            token.expose_secret(),
            &body.sql_text,
            params.request_id.as_deref(),
            client_ip,
            raw,
        )
        .await?;
    Ok(match answer {
        Answer::Local(out) => local_answer(out).into_response(),
        Answer::Engine(answer) => engine_answer(answer),
    })
}

/// `GET /queries/{id}/result`: an earlier statement's result, from the query engine.
pub async fn query_result(
    State(state): State<AppState>,
    SnowflakeToken(token): SnowflakeToken,
    Path(query_id): Path<String>,
) -> Result<Response> {
    let call = EngineCall::Result {
        query_id: &query_id,
    };
    let answer = state.gate.engine_call(token.expose_secret(), call).await?;
    Ok(engine_answer(answer))
}

/// `GET /monitoring/queries/{id}`, also with the two slashes connector 5.2.0 sends
/// (`/monitoring/queries//{id}`): a statement's status, from the query engine.
pub async fn query_status(
    State(state): State<AppState>,
    SnowflakeToken(token): SnowflakeToken,
    Path(rest): Path<String>,
) -> Result<Response> {
    let call = EngineCall::Status {
        query_id: rest.trim_start_matches('/'),
    };
    let answer = state.gate.engine_call(token.expose_secret(), call).await?;
    Ok(engine_answer(answer))
}

/// `POST /queries/v1/abort-request`: passed to the query engine as it came.
pub async fn abort(
    State(state): State<AppState>,
    SnowflakeToken(token): SnowflakeToken,
    uri: Uri,
    SnowflakeJsonBytes(_, bytes): SnowflakeJsonBytes<serde::de::IgnoredAny>,
) -> Result<Response> {
    let call = EngineCall::Abort {
        query: uri.query().unwrap_or(""),
        body: &bytes,
    };
    let answer = state.gate.engine_call(token.expose_secret(), call).await?;
    Ok(engine_answer(answer))
}

/// The query engine's answer, as it came: its status and body.
fn engine_answer(answer: EngineAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    (status, [(CONTENT_TYPE, "application/json")], answer.body).into_response()
}

fn local_answer(out: QueryOutcome) -> Json<Envelope<QueryResponse>> {
    let rows = out.rows.len() as u64;
    Json(Envelope::ok(QueryResponse {
        query_id: out.query_id,
        query_result_format: "json",
        rowtype: out
            .columns
            .into_iter()
            .zip(out.types)
            .map(|(name, type_)| row_type(name, type_))
            .collect(),
        rowset: out.rows,
        total: rows,
        returned: rows,
        statement_type_id: match out.kind {
            StatementKind::Select => codes::STATEMENT_SELECT,
            StatementKind::Use => codes::STATEMENT_USE,
            StatementKind::Ddl => codes::STATEMENT_DDL,
            StatementKind::Transaction => codes::STATEMENT_TRANSACTION,
            StatementKind::AlterSession => codes::STATEMENT_ALTER_SESSION,
        },
        version: 1,
        // The parameters the session set, so that drivers see them as Snowflake reports them.
        parameters: out
            .context
            .parameters
            .iter()
            .map(|(name, value)| Parameter {
                name: name.clone(),
                value: crate::domain::session::parameters::json(value),
            })
            .collect(),
        final_database_name: out.context.database,
        final_schema_name: out.context.schema,
        final_warehouse_name: out.context.warehouse,
        final_role_name: out.context.role,
    }))
}

/// `POST /telemetry/send`: accepted and discarded (the Snowflake CLI posts it after every command).
pub async fn telemetry(_body: Drained) -> Json<Envelope<&'static str>> {
    Json(Envelope::ok(TELEMETRY_ACK))
}

pub async fn not_found(uri: Uri, _body: Drained) -> Error {
    Error::NotFound(uri.path().to_string())
}

/// A result column's wire description.
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

fn to_parameters(list: Vec<(String, Value)>) -> Vec<Parameter> {
    list.into_iter()
        .map(|(name, value)| Parameter { name, value })
        .collect()
}
