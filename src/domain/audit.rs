//! The audit trail: one structured event per authentication attempt (login, renew, heartbeat failure,
//! logout, lock) and per administrative statement, on the `snowgate::audit` log target. Every field a
//! client chose is written with `Debug` formatting, which escapes newlines and control characters, so a
//! user name cannot forge a log line. No event carries a password, token, key or secret.

use std::net::IpAddr;

use super::policy::AuthMethod;

/// How the client tried to authenticate: a login by one of its methods, or a later request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A login, by the method [`AuthMethod::audit_name`] names.
    Login(AuthMethod),
    Renew,
    Heartbeat,
    Logout,
    Query,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Login(method) => method.audit_name().unwrap_or("-"),
            Method::Renew => "renew",
            Method::Heartbeat => "heartbeat",
            Method::Logout => "logout",
            Method::Query => "query",
        }
    }
}

/// One authentication attempt and its outcome.
#[derive(Debug, Default)]
pub struct Attempt<'a> {
    pub method: Option<Method>,
    pub user: Option<&'a str>,
    pub account: Option<&'a str>,
    pub client_app: Option<&'a str>,
    pub client_version: Option<&'a str>,
    pub client_ip: Option<IpAddr>,
    pub request_id: Option<&'a str>,
    pub session_id: Option<u64>,
    /// The login history already holds this attempt (written with its session).
    pub in_history: bool,
    /// The second factor of an MFA login (`TOTP`, `MFA_TOKEN`).
    pub second_factor: Option<&'static str>,
}

/// An address as people read it, or `-`.
pub fn ip_text(ip: Option<IpAddr>) -> String {
    ip.map(|ip| super::directory::canonical_ip(ip).to_string())
        .unwrap_or_else(|| "-".into())
}

impl Attempt<'_> {
    /// Logs the attempt: `code` is the Snowflake code of a refusal, `None` for success.
    pub fn record(&self, code: Option<&str>, reason: &str) {
        let method = self.method.map_or("-", Method::as_str);
        let outcome = if code.is_some() { "refused" } else { "ok" };
        tracing::info!(
            target: "snowgate::audit",
            event = "authentication",
            method,
            outcome,
            second_factor = self.second_factor.unwrap_or("-"),
            code = code.unwrap_or("-"),
            reason,
            user = ?self.user.unwrap_or("-"),
            account = ?self.account.unwrap_or("-"),
            client_app = ?self.client_app.unwrap_or("-"),
            client_version = ?self.client_version.unwrap_or("-"),
            client_ip = %ip_text(self.client_ip),
            request_id = ?self.request_id.unwrap_or("-"),
            session_id = self.session_id.unwrap_or_default(),
            "authentication {outcome}"
        );
    }
}

/// An authentication policy refused a proven login: which policy (empty: none named, Snowflake's
/// defaults), which rule, which method. Never a credential.
pub fn policy_refusal(user: &str, policy: &str, rule: &str, method: &str) {
    tracing::warn!(
        target: "snowgate::audit",
        event = "authentication_policy",
        user = ?user,
        policy = ?policy,
        rule,
        method,
        "login refused by authentication policy"
    );
}

/// A user was locked after too many failed logins: logged once, by the attempt that locked it.
pub fn locked(user: &str, failures: u32, minutes: u64) {
    tracing::warn!(
        target: "snowgate::audit",
        event = "lock",
        user = ?user,
        failures,
        minutes,
        "user locked after too many failed logins"
    );
}

/// An administrative statement ran (or was refused). `statement` is its kind (e.g. `ALTER USER`), never
/// its text, which may hold a password or key.
pub fn administration(user: &str, role: &str, statement: &str, object: &str, code: Option<&str>) {
    tracing::info!(
        target: "snowgate::audit",
        event = "administration",
        user = ?user,
        role = ?role,
        statement,
        object = ?object,
        outcome = if code.is_some() { "refused" } else { "ok" },
        code = code.unwrap_or("-"),
        "administrative statement"
    );
}
