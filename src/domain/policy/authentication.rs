//! Enforcing authentication policies at login: which methods, which clients (and their minimum
//! versions) may log in, and whether a password alone is enough (`MFA_ENROLLMENT`). The rules only;
//! the gatekeeper finds the policy (the user's, else the account's) and calls [`refusal`] once the
//! credential is proven.

use crate::domain::directory::{User, UserType};
use crate::domain::policy::{AuthMethod, AuthenticationPolicy, MfaEnrollment, version_at_least};

/// The client of a login, as the driver describes itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Client<'a> {
    /// `CLIENT_APP_ID`: `PythonConnector`, `JDBC`, `SnowSQL`, …
    pub app_id: Option<&'a str>,
    /// `CLIENT_APP_VERSION`.
    pub version: Option<&'a str>,
    /// `CLIENT_ENVIRONMENT.APPLICATION`: the Snowflake CLI sets `snowcli` over the Python connector.
    pub application: Option<&'a str>,
}

/// Drivers' `CLIENT_APP_ID`s and the `CLIENT_POLICY` client each one is.
const DRIVERS: [(&str, &str); 9] = [
    ("PythonConnector", "PYTHON_DRIVER"),
    ("JDBC", "JDBC_DRIVER"),
    ("ODBC", "ODBC_DRIVER"),
    ("JavaScript", "JAVASCRIPT_DRIVER"),
    ("Go", "GO_DRIVER"),
    (".NET", "DOTNET_DRIVER"),
    ("PDO", "PHP_DRIVER"),
    ("PHP_PDO", "PHP_DRIVER"),
    ("libsnowflakeclient", "C_DRIVER"),
];

impl Client<'_> {
    fn app_is(&self, id: &str) -> bool {
        self.app_id.is_some_and(|a| a.eq_ignore_ascii_case(id))
    }

    /// The Snowflake CLI: its own id (when its separate-policy flag is on), else the Python
    /// connector's id with the application `snowcli`.
    fn is_cli(&self) -> bool {
        self.app_is("SNOWFLAKE_CLI")
            || (self.app_is("PythonConnector")
                && self
                    .application
                    .is_some_and(|a| a.eq_ignore_ascii_case("snowcli")))
    }

    /// `CLIENT_TYPES`' name for this client; `None` for one snowgate cannot place, which only
    /// `ALL` admits.
    pub fn client_type(&self) -> Option<&'static str> {
        if self.is_cli() {
            return Some("SNOWFLAKE_CLI");
        }
        if self.app_is("SnowSQL") {
            return Some("SNOWSQL");
        }
        if self.app_is("Snowsight") || self.app_is("Snowflake UI") {
            return Some("SNOWFLAKE_UI");
        }
        DRIVERS
            .iter()
            .any(|(id, _)| self.app_is(id))
            .then_some("DRIVERS")
    }

    /// `CLIENT_POLICY`'s name for this client.
    pub fn policy_client(&self) -> Option<&'static str> {
        if self.is_cli() {
            return Some("SNOWFLAKE_CLI");
        }
        if self.app_is("SnowSQL") {
            return Some("SNOWSQL");
        }
        DRIVERS
            .iter()
            .find(|(id, _)| self.app_is(id))
            .map(|(_, client)| *client)
    }
}

/// Why a policy refused a login: the rule (for the audit log) and what the client is told. Never a
/// credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub rule: &'static str,
    pub message: String,
}

/// Whether `policy` refuses `user` logging in with `method` from `client`: methods first, then
/// client types, client versions and MFA enrollment.
pub fn refusal(
    policy: &AuthenticationPolicy,
    user: &User,
    method: AuthMethod,
    client: &Client<'_>,
) -> Option<Refusal> {
    refusal_with_mfa(policy, user, method, client, false)
}

/// [`refusal`] of a login that gave a second factor (`second_factor`) or not: under
/// `MFA_ENROLLMENT = REQUIRED` (or `REQUIRED_PASSWORD_ONLY`) a PERSON user's password login needs
/// one; other methods and SERVICE users are not concerned.
pub fn refusal_with_mfa(
    policy: &AuthenticationPolicy,
    user: &User,
    method: AuthMethod,
    client: &Client<'_>,
    second_factor: bool,
) -> Option<Refusal> {
    let refuse = |rule, message: String| Some(Refusal { rule, message });
    if !policy.allows(method) {
        return refuse(
            "AUTHENTICATION_METHODS",
            format!(
                "the {} authentication method is not allowed",
                method.policy_name()
            ),
        );
    }
    let all_clients = policy.client_types.iter().any(|t| t == "ALL");
    let client_type = client.client_type();
    if !all_clients && !client_type.is_some_and(|t| policy.client_types.iter().any(|c| c == t)) {
        return refuse(
            "CLIENT_TYPES",
            format!(
                "the client type {} is not allowed",
                client_type.unwrap_or("OTHER")
            ),
        );
    }
    if let Some(name) = client.policy_client()
        && let Some(minimum) = policy.client_policy.get(name)
        && !version_at_least(client.version.unwrap_or(""), minimum)
    {
        return refuse(
            "CLIENT_POLICY",
            format!("{name} must be at least version {minimum}"),
        );
    }
    let mfa_required = policy.mfa_enrollment != MfaEnrollment::Optional;
    if mfa_required
        && !second_factor
        && method == AuthMethod::Password
        && user.user_type == UserType::Person
    {
        return refuse(
            "MFA_ENROLLMENT",
            "multi-factor authentication is required for password logins of this user: enrol with ALTER USER ADD MFA METHOD TOTP and give a passcode".into(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python(version: &str) -> Client<'_> {
        Client {
            app_id: Some("PythonConnector"),
            version: Some(version),
            application: None,
        }
    }

    #[test]
    fn clients_are_placed_by_app_id_and_application() {
        assert_eq!(python("3.0").client_type(), Some("DRIVERS"));
        assert_eq!(python("3.0").policy_client(), Some("PYTHON_DRIVER"));
        let cli = Client {
            application: Some("snowcli"),
            ..python("3.0")
        };
        assert_eq!(cli.client_type(), Some("SNOWFLAKE_CLI"));
        let snowsql = Client {
            app_id: Some("SnowSQL"),
            ..Client::default()
        };
        assert_eq!(snowsql.client_type(), Some("SNOWSQL"));
        assert_eq!(Client::default().client_type(), None);
    }

    #[test]
    fn each_rule_refuses_only_what_it_names() {
        let person = User::default();
        let service = User {
            user_type: UserType::Service,
            ..User::default()
        };
        let rule = |p: &AuthenticationPolicy, u: &User, m, c: &Client<'_>| {
            refusal(p, u, m, c).map(|r| r.rule)
        };
        let open = AuthenticationPolicy::default();
        assert_eq!(
            rule(&open, &person, AuthMethod::Password, &Client::default()),
            None
        );
        let keys_only = AuthenticationPolicy {
            authentication_methods: vec![AuthMethod::Keypair],
            ..open.clone()
        };
        let py = python("3.12.1");
        assert_eq!(
            rule(&keys_only, &person, AuthMethod::Password, &py),
            Some("AUTHENTICATION_METHODS")
        );
        assert_eq!(rule(&keys_only, &person, AuthMethod::Keypair, &py), None);
        let snowsql_only = AuthenticationPolicy {
            client_types: vec!["SNOWSQL".into()],
            ..open.clone()
        };
        assert_eq!(
            rule(&snowsql_only, &person, AuthMethod::Password, &py),
            Some("CLIENT_TYPES")
        );
        let recent = AuthenticationPolicy {
            client_policy: [("PYTHON_DRIVER".to_string(), "3.13".to_string())].into(),
            ..open.clone()
        };
        assert_eq!(
            rule(&recent, &person, AuthMethod::Password, &py),
            Some("CLIENT_POLICY")
        );
        assert_eq!(
            rule(&recent, &person, AuthMethod::Password, &python("3.13.0")),
            None
        );
        let jdbc = Client {
            app_id: Some("JDBC"),
            version: Some("1.0"),
            application: None,
        };
        assert_eq!(rule(&recent, &person, AuthMethod::Password, &jdbc), None);
        let mfa = AuthenticationPolicy {
            mfa_enrollment: MfaEnrollment::Required,
            ..open
        };
        assert_eq!(
            rule(&mfa, &person, AuthMethod::Password, &py),
            Some("MFA_ENROLLMENT")
        );
        assert_eq!(rule(&mfa, &person, AuthMethod::Keypair, &py), None);
        let with_mfa = refusal_with_mfa(&mfa, &person, AuthMethod::Password, &py, true);
        assert!(with_mfa.is_none());
        assert_eq!(rule(&mfa, &service, AuthMethod::Keypair, &py), None);
    }
}
