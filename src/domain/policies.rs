//! Authentication, password and session policies: directory records set on the account or on a
//! user (the user's wins). Every field defaults to what live Snowflake shows for a policy created
//! without options, so a record written with fewer fields reads back with Snowflake's defaults, and
//! a user or account with no policy at all is governed by `Default::default()`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A way to log in, as `AUTHENTICATION_METHODS` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthMethod {
    All,
    Saml,
    Password,
    Oauth,
    Keypair,
    ProgrammaticAccessToken,
    WorkloadIdentity,
}

impl AuthMethod {
    pub const NAMES: [(&'static str, AuthMethod); 7] = [
        ("ALL", AuthMethod::All),
        ("SAML", AuthMethod::Saml),
        ("PASSWORD", AuthMethod::Password),
        ("OAUTH", AuthMethod::Oauth),
        ("KEYPAIR", AuthMethod::Keypair),
        (
            "PROGRAMMATIC_ACCESS_TOKEN",
            AuthMethod::ProgrammaticAccessToken,
        ),
        ("WORKLOAD_IDENTITY", AuthMethod::WorkloadIdentity),
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|(_, m)| *m)
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, m)| *m == self)
            .map_or("ALL", |(n, _)| n)
    }
}

/// `MFA_ENROLLMENT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MfaEnrollment {
    Required,
    RequiredPasswordOnly,
    #[default]
    Optional,
}

/// `PAT_POLICY = (NETWORK_POLICY_EVALUATION = …)`: whether a PAT needs its user under a network
/// policy (ENFORCED_REQUIRED), is checked against one if there is one (ENFORCED_NOT_REQUIRED), or
/// ignores network policies (NOT_ENFORCED).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NetworkPolicyEvaluation {
    #[default]
    EnforcedRequired,
    EnforcedNotRequired,
    NotEnforced,
}

fn all() -> Vec<String> {
    vec!["ALL".to_string()]
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PatPolicy {
    pub default_expiry_in_days: u32,
    pub max_expiry_in_days: u32,
    pub network_policy_evaluation: NetworkPolicyEvaluation,
    #[serde(default = "yes")]
    pub require_role_restriction_for_service_users: bool,
}

impl Default for PatPolicy {
    fn default() -> Self {
        Self {
            default_expiry_in_days: 15,
            max_expiry_in_days: 365,
            network_policy_evaluation: NetworkPolicyEvaluation::EnforcedRequired,
            require_role_restriction_for_service_users: true,
        }
    }
}

/// Stored now; enforced by workload identity logins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkloadIdentityPolicy {
    pub allowed_providers: Vec<String>,
    pub allowed_aws_accounts: Vec<String>,
    pub allowed_azure_issuers: Vec<String>,
    pub allowed_oidc_issuers: Vec<String>,
}

impl Default for WorkloadIdentityPolicy {
    fn default() -> Self {
        Self {
            allowed_providers: all(),
            allowed_aws_accounts: all(),
            allowed_azure_issuers: all(),
            allowed_oidc_issuers: all(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthenticationPolicy {
    pub name: String,
    pub authentication_methods: Vec<AuthMethod>,
    pub mfa_enrollment: MfaEnrollment,
    /// `CLIENT_TYPES`: ALL, SNOWFLAKE_UI, DRIVERS, SNOWSQL, SNOWFLAKE_CLI.
    pub client_types: Vec<String>,
    /// `CLIENT_POLICY`: client (PYTHON_DRIVER, JDBC_DRIVER, …) → its minimum version.
    pub client_policy: BTreeMap<String, String>,
    pub security_integrations: Vec<String>,
    pub pat_policy: PatPolicy,
    pub workload_identity_policy: WorkloadIdentityPolicy,
    pub comment: Option<String>,
    pub created_on: u64,
    pub owner: Option<String>,
    #[serde(skip)]
    pub version: u64,
}

impl Default for AuthenticationPolicy {
    fn default() -> Self {
        Self {
            name: String::new(),
            authentication_methods: vec![AuthMethod::All],
            mfa_enrollment: MfaEnrollment::Optional,
            client_types: all(),
            client_policy: BTreeMap::new(),
            security_integrations: all(),
            pat_policy: PatPolicy::default(),
            workload_identity_policy: WorkloadIdentityPolicy::default(),
            comment: None,
            created_on: 0,
            owner: None,
            version: 0,
        }
    }
}

impl AuthenticationPolicy {
    /// Whether the policy lets `method` log in.
    pub fn allows(&self, method: AuthMethod) -> bool {
        self.authentication_methods
            .iter()
            .any(|m| *m == AuthMethod::All || *m == method)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordPolicy {
    pub name: String,
    pub password_min_length: u32,
    pub password_max_length: u32,
    pub password_min_upper_case_chars: u32,
    pub password_min_lower_case_chars: u32,
    pub password_min_numeric_chars: u32,
    pub password_min_special_chars: u32,
    pub password_min_age_days: u32,
    pub password_max_age_days: u32,
    pub password_max_retries: u32,
    pub password_lockout_time_mins: u32,
    pub password_history: u32,
    pub comment: Option<String>,
    pub created_on: u64,
    pub owner: Option<String>,
    #[serde(skip)]
    pub version: u64,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            name: String::new(),
            password_min_length: 14,
            password_max_length: 256,
            password_min_upper_case_chars: 1,
            password_min_lower_case_chars: 1,
            password_min_numeric_chars: 1,
            password_min_special_chars: 0,
            password_min_age_days: 0,
            password_max_age_days: 90,
            password_max_retries: 5,
            password_lockout_time_mins: 15,
            password_history: 5,
            comment: None,
            created_on: 0,
            owner: None,
            version: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionPolicy {
    pub name: String,
    pub session_idle_timeout_mins: u32,
    pub session_ui_idle_timeout_mins: u32,
    pub allowed_secondary_roles: Vec<String>,
    pub blocked_secondary_roles: Vec<String>,
    pub comment: Option<String>,
    pub created_on: u64,
    pub owner: Option<String>,
    #[serde(skip)]
    pub version: u64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            name: String::new(),
            session_idle_timeout_mins: 240,
            session_ui_idle_timeout_mins: 1080,
            allowed_secondary_roles: all(),
            blocked_secondary_roles: Vec::new(),
            comment: None,
            created_on: 0,
            owner: None,
            version: 0,
        }
    }
}

/// The three kinds of policy besides network policies, as `ALTER ACCOUNT|USER SET … POLICY` names
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    Authentication,
    Password,
    Session,
}

impl PolicyKind {
    /// `AUTHENTICATION POLICY`, as statements and messages spell it.
    pub fn label(self) -> &'static str {
        match self {
            PolicyKind::Authentication => "AUTHENTICATION POLICY",
            PolicyKind::Password => "PASSWORD POLICY",
            PolicyKind::Session => "SESSION POLICY",
        }
    }
}

/// Which policy of each kind is attached (to a user or to the account).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AttachedPolicies {
    pub authentication_policy: Option<String>,
    pub password_policy: Option<String>,
    pub session_policy: Option<String>,
}

impl AttachedPolicies {
    pub fn get(&self, kind: PolicyKind) -> Option<&str> {
        match kind {
            PolicyKind::Authentication => self.authentication_policy.as_deref(),
            PolicyKind::Password => self.password_policy.as_deref(),
            PolicyKind::Session => self.session_policy.as_deref(),
        }
    }

    pub fn set(&mut self, kind: PolicyKind, name: Option<String>) {
        let slot = match kind {
            PolicyKind::Authentication => &mut self.authentication_policy,
            PolicyKind::Password => &mut self.password_policy,
            PolicyKind::Session => &mut self.session_policy,
        };
        *slot = name;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_without_fields_read_back_with_snowflakes_defaults() {
        let auth: AuthenticationPolicy = serde_json::from_str(r#"{"name":"P"}"#).unwrap();
        assert_eq!(auth.pat_policy.max_expiry_in_days, 365);
        assert!(auth.pat_policy.require_role_restriction_for_service_users);
        assert!(auth.allows(AuthMethod::Password));
        let pw: PasswordPolicy = serde_json::from_str(r#"{"name":"P"}"#).unwrap();
        assert_eq!((pw.password_min_length, pw.password_max_retries), (14, 5));
        let s: SessionPolicy = serde_json::from_str(r#"{"name":"P"}"#).unwrap();
        assert_eq!(s.session_idle_timeout_mins, 240);
    }

    #[test]
    fn methods_parse_and_print() {
        for (name, method) in AuthMethod::NAMES {
            assert_eq!(AuthMethod::parse(name), Some(method));
            assert_eq!(method.as_str(), name);
        }
        assert_eq!(AuthMethod::parse("keypair"), Some(AuthMethod::Keypair));
        assert_eq!(AuthMethod::parse("NOPE"), None);
    }
}
