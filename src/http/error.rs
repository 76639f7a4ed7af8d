//! The one place where an [`Error`] becomes a response: a Snowflake envelope with a string code. Every
//! GS-coded failure is HTTP 200 so drivers report it instead of retrying (protocol §0, §7.3); only an
//! unknown path, an oversized body and a backend outage use other statuses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use crate::error::{Error, SqlErrorKind};
use crate::snowflake::{Envelope, SqlErrorData, codes};

/// The Snowflake code of a refused request, put on the response so the request log can name it.
#[derive(Debug, Clone, Copy)]
pub struct Refusal(pub &'static str);

/// snowgate's own code for "backend unavailable, retry": sent with HTTP 503, which every driver retries.
pub const SERVICE_UNAVAILABLE: &str = "390503";

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (status, code) = match &self {
            Error::BadRequest(_) => (StatusCode::OK, codes::BAD_REQUEST),
            // 413 is not in any driver's retry list, so an oversized request fails once.
            Error::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, codes::BAD_REQUEST),
            Error::UriTooLong { .. } => (StatusCode::URI_TOO_LONG, codes::BAD_REQUEST),
            Error::HeadersTooLarge { .. } => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                codes::BAD_REQUEST,
            ),
            Error::InvalidCredentials => (StatusCode::OK, codes::INCORRECT_USERNAME_OR_PASSWORD),
            Error::InvalidJwt => (StatusCode::OK, codes::INVALID_JWT),
            Error::UserDisabled => (StatusCode::OK, codes::USER_DISABLED),
            Error::RoleNotGranted(_) => (StatusCode::OK, codes::ROLE_NOT_GRANTED),
            Error::IpNotAllowed(_) => (StatusCode::OK, codes::IP_NOT_ALLOWED),
            Error::SessionTokenExpired => (StatusCode::OK, codes::SESSION_TOKEN_EXPIRED),
            Error::MasterTokenExpired => (StatusCode::OK, codes::MASTER_TOKEN_EXPIRED),
            Error::MasterTokenInvalid => (StatusCode::OK, codes::MASTER_TOKEN_INVALID),
            Error::InvalidToken => (StatusCode::OK, codes::SESSION_TOKEN_INVALID),
            Error::SessionGone => (StatusCode::OK, codes::SESSION_GONE),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, codes::BAD_REQUEST),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE),
            Error::Sql { error, query_id } => {
                let (code, sql_state) = match error.kind {
                    SqlErrorKind::Syntax => (codes::SQL_SYNTAX_ERROR, codes::SQLSTATE_SYNTAX_ERROR),
                    SqlErrorKind::Unsupported => (
                        codes::SQL_UNSUPPORTED_FEATURE,
                        codes::SQLSTATE_FEATURE_NOT_SUPPORTED,
                    ),
                    SqlErrorKind::AlreadyExists => {
                        (codes::SQL_ALREADY_EXISTS, codes::SQLSTATE_ALREADY_EXISTS)
                    }
                    SqlErrorKind::DoesNotExist => {
                        (codes::SQL_DOES_NOT_EXIST, codes::SQLSTATE_DOES_NOT_EXIST)
                    }
                    SqlErrorKind::InvalidValue => {
                        (codes::SQL_INVALID_VALUE, codes::SQLSTATE_INVALID_VALUE)
                    }
                    SqlErrorKind::InsufficientPrivileges => (
                        codes::SQL_INSUFFICIENT_PRIVILEGES,
                        codes::SQLSTATE_INSUFFICIENT_PRIVILEGES,
                    ),
                };
                let data = SqlErrorData {
                    internal_error: false,
                    error_code: code.to_string(),
                    age: 0,
                    sql_state: sql_state.to_string(),
                    query_id: query_id.clone(),
                    line: -1,
                    pos: -1,
                    type_: "COMPILATION",
                };
                return (
                    StatusCode::OK,
                    Extension(Refusal(code)),
                    Json(Envelope::failure(code, message, Some(data))),
                )
                    .into_response();
            }
        };
        if matches!(self, Error::Unavailable(_)) {
            tracing::warn!(error = %message, "backend unavailable");
        }
        (
            status,
            Extension(Refusal(code)),
            Json(Envelope::<()>::failure(code, message, None)),
        )
            .into_response()
    }
}
