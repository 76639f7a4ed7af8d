//! The one error type of snowgate. Every failure a request can meet is one of these; `http::error`
//! turns it into the Snowflake envelope once, at the edge. Messages never carry a secret.

use thiserror::Error;

/// The kinds of SQL failure; the edge maps each to its Snowflake error code and SQLSTATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlErrorKind {
    Syntax,
    Unsupported,
    AlreadyExists,
    DoesNotExist,
    InvalidValue,
    InsufficientPrivileges,
}

/// A SQL-level failure and the text the driver shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub kind: SqlErrorKind,
    pub message: String,
}

#[derive(Debug, Error)]
pub enum Error {
    /// The request is malformed: bad JSON, wrong field types, missing fields, bad gzip.
    #[error("{0}")]
    BadRequest(String),
    /// The body is larger than the limit, before or after decompression.
    #[error("Request body exceeds the limit of {limit} bytes.")]
    BodyTooLarge { limit: usize },
    /// The request target (path and query) is longer than the limit.
    #[error("Request URI exceeds the limit of {limit} bytes.")]
    UriTooLong { limit: usize },
    /// The headers together are larger than the limit.
    #[error("Request headers exceed the limit of {limit} bytes.")]
    HeadersTooLarge { limit: usize },
    /// Wrong user or password, unknown user, or a user that may not use passwords: one answer for all.
    #[error("Incorrect username or password was specified.")]
    InvalidCredentials,
    /// A key-pair login failed; one answer whatever the reason.
    #[error("JWT token is invalid.")]
    InvalidJwt,
    /// A programmatic access token login failed (bad, expired, disabled or removed token): one
    /// answer whatever the reason.
    #[error("Programmatic access token is invalid.")]
    InvalidPat,
    /// A password login of a user enrolled in TOTP MFA gave no passcode (and no valid MFA token).
    #[error(
        "Failed to authenticate: MFA with TOTP is required. To authenticate, provide both your password and a current TOTP passcode."
    )]
    MfaRequired,
    /// The TOTP passcode was wrong, malformed, outside the time window or already used.
    #[error("Failed to authenticate: the TOTP passcode is invalid or has already been used.")]
    InvalidPasscode,
    /// An External OAuth login failed (bad signature, issuer, audience, user or role): one answer.
    #[error("Invalid OAuth access token.")]
    InvalidOauth,
    /// A correctly signed OAuth access token past its `exp`; carries a digest of the token (never
    /// the token) so a user can tell which one.
    #[error("OAuth access token expired. [{0}]")]
    OauthExpired(String),
    /// A workload identity login failed (attestation refused, unknown identity, replay): one
    /// answer whatever the reason; the log says which.
    #[error("Workload identity attestation is invalid or matches no user.")]
    InvalidWorkloadIdentity,
    /// A client replayed more AWS workload identity attestations to STS than its budget allows;
    /// not retried by drivers (HTTP 200): the client waits the seconds named.
    #[error("Too many workload identity logins from this client. Try again in {0} seconds.")]
    WorkloadIdentityThrottled(u64),
    /// A PAT login of a user under no network policy, while the authentication policy requires one.
    #[error("Network policy is required.")]
    NetworkPolicyRequired,
    #[error("User access disabled. Contact your local system administrator.")]
    UserDisabled,
    #[error(
        "Role '{0}' specified in the connect string is not granted to this user. Contact your local system administrator, or attempt to login with another role, e.g. PUBLIC."
    )]
    RoleNotGranted(String),
    #[error(
        "Incoming request with IP/Token {0} is not allowed to access Snowflake. Contact your local security administrator or please create a case with Snowflake Support or reach us on our support line."
    )]
    IpNotAllowed(String),
    /// The user's (else the account's) authentication policy refuses this login; the detail names
    /// the rule, and is only sent once the credential is proven.
    #[error("Authentication attempt rejected by the current authentication policy: {0}.")]
    PolicyRefused(String),
    #[error("Session token expired.")]
    SessionTokenExpired,
    #[error("Authentication token has expired. The user must authenticate again.")]
    MasterTokenExpired,
    #[error("Master token is invalid.")]
    MasterTokenInvalid,
    #[error("Invalid session token.")]
    InvalidToken,
    #[error("Session no longer exists. New login required to access the service.")]
    SessionGone,
    #[error("Unknown endpoint {0}.")]
    NotFound(String),
    /// A SQL error for the statement of a query request.
    #[error("{}", .error.message)]
    Sql { error: SqlError, query_id: String },
    /// A backend (store, secret source) failed, throttled or timed out; drivers should retry.
    #[error("Service temporarily unavailable: {0}. Please retry.")]
    Unavailable(String),
    /// Too much work queued (password hashing): answered at once so that drivers back off and retry.
    #[error("Too many logins in progress. Please retry.")]
    Busy,
    /// Two administrators changed the same object at once; this one lost and wrote nothing. Retryable.
    #[error(
        "The object was changed by another statement at the same time; nothing was written. Please retry."
    )]
    Conflict,
    /// A bug or an impossible state: not retryable (a retry would meet the same fault). The detail is
    /// logged once; the client sees a fixed text.
    #[error("Internal error: the request could not be processed.")]
    Internal(String),
    /// The query engine got the statement but gave no complete answer (a timeout, a broken
    /// connection): it may have run, so it is not sent again, and drivers must not retry it.
    #[error(
        "The query engine did not answer: the statement may have run. It was not sent again; check before running it again."
    )]
    EngineNoAnswer,
    /// The query engine's answer is larger than snowgate passes on.
    #[error(
        "The query engine's answer is over the limit of {limit} bytes (SNOWGATE_UPSTREAM_MAX_RESPONSE_BYTES); select fewer rows or columns."
    )]
    EngineAnswerTooLarge { limit: usize },
    /// The query engine refused snowgate's own login (its service credential): the client's
    /// credentials were fine, the gateway's configuration is not.
    #[error(
        "The query engine refused snowgate's service login. Contact your administrator (SNOWGATE_UPSTREAM_LOGIN_NAME, upstream password)."
    )]
    EngineLoginRefused,
    /// Too many failed logins: the user is locked for a while, whatever the password.
    #[error(
        "Your user account has been temporarily locked due to too many failed attempts. Try again after {minutes} minutes or contact your account administrator for assistance."
    )]
    UserLocked { minutes: u64 },
    /// The right password, older than the governing password policy's PASSWORD_MAX_AGE_DAYS.
    #[error(
        "Specified password has expired. Password must be changed using the Snowflake web console."
    )]
    PasswordExpired,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A SQL error; its query id is filled in by [`Error::with_query_id`] where the query is known.
    pub fn sql(kind: SqlErrorKind, message: impl Into<String>) -> Self {
        Error::Sql {
            error: SqlError {
                kind,
                message: message.into(),
            },
            query_id: String::new(),
        }
    }

    pub fn with_query_id(self, id: &str) -> Self {
        match self {
            Error::Sql { error, .. } => Error::Sql {
                error,
                query_id: id.to_string(),
            },
            other => other,
        }
    }
}
