//! The one place where an [`Error`] becomes a response: a Snowflake envelope with the string code of
//! [`codes::of`]. Every GS-coded failure is HTTP 200 so drivers report it instead of retrying; only an
//! unknown path, an oversized body and the retryable failures (backend unavailable, too busy, a lost
//! write race) use other statuses. Internal faults are HTTP 200 on purpose: a retry would meet the
//! same fault.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use crate::error::Error;
use crate::snowflake::{Envelope, LoginRetryData, SqlErrorData, codes};

/// The Snowflake code of a refused request, put on the response so the request log can name it.
#[derive(Debug, Clone, Copy)]
pub struct Refusal(pub &'static str);

/// The HTTP status of an error's answer.
fn status(error: &Error) -> StatusCode {
    match error {
        // 413 is not in any driver's retry list, so an oversized request fails once.
        Error::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Error::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
        Error::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        // Drivers retry 503 and 429 with backoff.
        Error::Unavailable(_) | Error::Conflict => StatusCode::SERVICE_UNAVAILABLE,
        Error::Busy => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::OK,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let code = codes::of(&self);
        match &self {
            Error::Unavailable(_) => tracing::warn!(error = %message, "backend unavailable"),
            Error::Internal(cause) => tracing::error!(cause = %cause, "internal error"),
            _ => {}
        }
        if let Error::Sql { error, query_id } = &self {
            let (code, sql_state) = codes::sql(error.kind);
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
            let envelope = Envelope::failure(code, message, Some(data));
            return (StatusCode::OK, Extension(Refusal(code)), Json(envelope)).into_response();
        }
        if let Error::InvalidPat = &self {
            return login_refusal(self, "PAT");
        }
        if let Error::InvalidOauth | Error::OauthExpired(_) = &self {
            return login_refusal(self, "OAUTH");
        }
        let envelope = Envelope::<()>::failure(code, message, None);
        (status(&self), Extension(Refusal(code)), Json(envelope)).into_response()
    }
}

/// The answer to a refused login (`authn_method`: the method the login asked for, as Snowflake names
/// it): the envelope with a `data` object telling the driver to log in again. Refusals with another
/// status (a body too large, a backend down, too busy) keep the plain envelope: drivers retry those.
pub fn login_refusal(error: Error, authn_method: &'static str) -> Response {
    if status(&error) != StatusCode::OK || matches!(error, Error::Sql { .. }) {
        return error.into_response();
    }
    let message = error.to_string();
    let code = codes::of(&error);
    if let Error::Internal(cause) = &error {
        tracing::error!(cause = %cause, "internal error");
    }
    let data = LoginRetryData::for_method(authn_method);
    let envelope = Envelope::failure(code, message, Some(data));
    (StatusCode::OK, Extension(Refusal(code)), Json(envelope)).into_response()
}
