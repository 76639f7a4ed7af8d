//! Authentication, password and session policies: directory records set on the account or on a
//! user (the user's wins). Every field defaults to what live Snowflake shows for a policy created
//! without options, so a record written with fewer fields reads back with Snowflake's defaults, and
//! a user or account with no policy at all is governed by `Default::default()`.

pub mod authentication;
pub mod password;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A way to log in: the one place a login method is named. Each has its `AUTHENTICATION_METHODS`
/// word ([`Self::policy_name`]), its word in the audit trail ([`Self::audit_name`]) and its
/// `FIRST_AUTHENTICATION_FACTOR` in the login history ([`Self::history_factor`]); the login's
/// AUTHENTICATOR picks one in `login/pick.rs`. `ALL` and `SAML` are only words of a policy: no
/// login here is either.
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
    /// Every method, in the order `AUTHENTICATION_METHODS` lists them.
    pub const EVERY: [AuthMethod; 7] = [
        AuthMethod::All,
        AuthMethod::Saml,
        AuthMethod::Password,
        AuthMethod::Oauth,
        AuthMethod::Keypair,
        AuthMethod::ProgrammaticAccessToken,
        AuthMethod::WorkloadIdentity,
    ];

    /// Its word in a policy's `AUTHENTICATION_METHODS` (any case when read).
    pub fn parse(s: &str) -> Option<Self> {
        Self::EVERY
            .into_iter()
            .find(|m| m.policy_name().eq_ignore_ascii_case(s))
    }

    /// How `AUTHENTICATION_METHODS` spells it.
    pub const fn policy_name(self) -> &'static str {
        match self {
            AuthMethod::All => "ALL",
            AuthMethod::Saml => "SAML",
            AuthMethod::Password => "PASSWORD",
            AuthMethod::Oauth => "OAUTH",
            AuthMethod::Keypair => "KEYPAIR",
            AuthMethod::ProgrammaticAccessToken => "PROGRAMMATIC_ACCESS_TOKEN",
            AuthMethod::WorkloadIdentity => "WORKLOAD_IDENTITY",
        }
    }

    /// The `method` of a login's `snowgate::audit` event; `None` for the policy-only words.
    pub const fn audit_name(self) -> Option<&'static str> {
        match self {
            AuthMethod::Password => Some("password"),
            AuthMethod::Keypair => Some("key_pair"),
            AuthMethod::ProgrammaticAccessToken => Some("pat"),
            AuthMethod::WorkloadIdentity => Some("workload_identity"),
            AuthMethod::Oauth => Some("oauth"),
            AuthMethod::All | AuthMethod::Saml => None,
        }
    }

    /// The login history's `FIRST_AUTHENTICATION_FACTOR` (as Snowflake's `LOGIN_HISTORY` shows
    /// it); `None` for the policy-only words.
    pub const fn history_factor(self) -> Option<&'static str> {
        match self {
            AuthMethod::Password => Some("PASSWORD"),
            AuthMethod::Keypair => Some("RSA_KEYPAIR"),
            AuthMethod::ProgrammaticAccessToken => Some("PROGRAMMATIC_ACCESS_TOKEN"),
            AuthMethod::WorkloadIdentity => Some("WORKLOAD_IDENTITY"),
            AuthMethod::Oauth => Some("OAUTH_ACCESS_TOKEN"),
            AuthMethod::All | AuthMethod::Saml => None,
        }
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
    pub require_role_restriction_for_person_users: bool,
    pub blocked_roles_list: Vec<String>,
}

impl Default for PatPolicy {
    fn default() -> Self {
        Self {
            default_expiry_in_days: 15,
            max_expiry_in_days: 365,
            network_policy_evaluation: NetworkPolicyEvaluation::EnforcedRequired,
            require_role_restriction_for_service_users: true,
            require_role_restriction_for_person_users: false,
            blocked_roles_list: Vec::new(),
        }
    }
}

impl PatPolicy {
    /// Why the policy forbids a token held to `restriction` (none: any of the user's roles) for a
    /// user of that kind (`service`: TYPE = SERVICE or LEGACY_SERVICE; `person`: PERSON or NULL),
    /// if it does (Snowflake: a blocked role also invalidates the tokens already held to it):
    /// checked when a token is added, and again at each login with it, so that a policy changed
    /// since governs the tokens already made.
    pub fn refusal(
        &self,
        service: bool,
        person: bool,
        restriction: Option<&str>,
    ) -> Option<String> {
        match restriction {
            None if service && self.require_role_restriction_for_service_users => Some(
                "ROLE_RESTRICTION is required for a programmatic access token of a service user (TYPE = SERVICE or LEGACY_SERVICE).".into(),
            ),
            None if person && self.require_role_restriction_for_person_users => Some(
                "ROLE_RESTRICTION is required for a programmatic access token of a person user (the authentication policy's REQUIRE_ROLE_RESTRICTION_FOR_PERSON_USERS).".into(),
            ),
            Some(role) if self.blocked_roles_list.iter().any(|b| b == role) => Some(format!(
                "Role '{role}' is in the authentication policy's BLOCKED_ROLES_LIST: no programmatic access token may be restricted to it."
            )),
            _ => None,
        }
    }
}

/// Stored now; enforced by workload identity logins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkloadIdentityPolicy {
    pub allowed_providers: Vec<String>,
    pub allowed_aws_accounts: Vec<String>,
    pub allowed_aws_partitions: Vec<String>,
    pub allowed_azure_issuers: Vec<String>,
    pub allowed_oidc_issuers: Vec<String>,
}

impl Default for WorkloadIdentityPolicy {
    fn default() -> Self {
        Self {
            allowed_providers: all(),
            allowed_aws_accounts: all(),
            allowed_aws_partitions: all(),
            allowed_azure_issuers: all(),
            allowed_oidc_issuers: all(),
        }
    }
}

/// What every policy record has besides its properties: its name and the bookkeeping SHOW prints.
/// Flattened into each record, so the stored document keeps these as top-level fields.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyMeta {
    pub name: String,
    pub comment: Option<String>,
    pub created_on: u64,
    pub owner: Option<String>,
    /// The schema the policy was created in (Snowflake's policies are schema objects); shown by
    /// SHOW, not part of the key.
    pub database_name: Option<String>,
    pub schema_name: Option<String>,
}

impl PolicyMeta {
    /// The bookkeeping of a policy named `name`, the rest empty.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthenticationPolicy {
    #[serde(flatten)]
    pub meta: PolicyMeta,
    pub authentication_methods: Vec<AuthMethod>,
    pub mfa_enrollment: MfaEnrollment,
    /// `CLIENT_TYPES`: ALL, SNOWFLAKE_UI, DRIVERS, SNOWSQL, SNOWFLAKE_CLI.
    pub client_types: Vec<String>,
    /// `CLIENT_POLICY`: client (PYTHON_DRIVER, JDBC_DRIVER, …) → its minimum version.
    pub client_policy: BTreeMap<String, String>,
    pub security_integrations: Vec<String>,
    pub pat_policy: PatPolicy,
    pub workload_identity_policy: WorkloadIdentityPolicy,
    #[serde(skip)]
    pub version: u64,
}

impl Default for AuthenticationPolicy {
    fn default() -> Self {
        Self {
            meta: PolicyMeta::default(),
            authentication_methods: vec![AuthMethod::All],
            mfa_enrollment: MfaEnrollment::Optional,
            client_types: all(),
            client_policy: BTreeMap::new(),
            security_integrations: all(),
            pat_policy: PatPolicy::default(),
            workload_identity_policy: WorkloadIdentityPolicy::default(),
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
    #[serde(flatten)]
    pub meta: PolicyMeta,
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
    #[serde(skip)]
    pub version: u64,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            meta: PolicyMeta::default(),
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
            version: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionPolicy {
    #[serde(flatten)]
    pub meta: PolicyMeta,
    pub session_idle_timeout_mins: u32,
    pub session_ui_idle_timeout_mins: u32,
    pub allowed_secondary_roles: Vec<String>,
    pub blocked_secondary_roles: Vec<String>,
    #[serde(skip)]
    pub version: u64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            meta: PolicyMeta::default(),
            session_idle_timeout_mins: 240,
            session_ui_idle_timeout_mins: 1080,
            allowed_secondary_roles: all(),
            blocked_secondary_roles: Vec::new(),
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

/// Names and values of a small enum, as SQL spells them.
macro_rules! spelled {
    ($t:ident { $($name:literal => $variant:ident),* $(,)? }) => {
        impl $t {
            pub const NAMES: &'static [(&'static str, $t)] = &[$(($name, $t::$variant)),*];

            pub fn parse(s: &str) -> Option<Self> {
                Self::NAMES
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(s))
                    .map(|(_, v)| *v)
            }

            pub fn as_str(self) -> &'static str {
                Self::NAMES
                    .iter()
                    .find(|(_, v)| *v == self)
                    .map_or("", |(n, _)| n)
            }
        }
    };
}

spelled!(MfaEnrollment {
    "REQUIRED" => Required,
    "REQUIRED_PASSWORD_ONLY" => RequiredPasswordOnly,
    "OPTIONAL" => Optional,
});

spelled!(NetworkPolicyEvaluation {
    "ENFORCED_REQUIRED" => EnforcedRequired,
    "ENFORCED_NOT_REQUIRED" => EnforcedNotRequired,
    "NOT_ENFORCED" => NotEnforced,
});

/// `CLIENT_TYPES` values.
pub const CLIENT_TYPES: [&str; 5] = ["ALL", "SNOWFLAKE_UI", "DRIVERS", "SNOWSQL", "SNOWFLAKE_CLI"];

/// The clients `CLIENT_POLICY` may name.
pub const POLICY_CLIENTS: [&str; 12] = [
    "JDBC_DRIVER",
    "ODBC_DRIVER",
    "PYTHON_DRIVER",
    "JAVASCRIPT_DRIVER",
    "C_DRIVER",
    "GO_DRIVER",
    "PHP_DRIVER",
    "DOTNET_DRIVER",
    "SQL_API",
    "SNOWFLAKE_CLI",
    "SNOWSQL",
    "SPARK_CONNECTOR",
];

/// `WORKLOAD_IDENTITY_POLICY = (ALLOWED_PROVIDERS = …)` values.
pub const WORKLOAD_PROVIDERS: [&str; 5] = ["ALL", "AWS", "AZURE", "GCP", "OIDC"];

/// `PAT_POLICY` expiries: Snowflake's range of days.
pub const PAT_EXPIRY_DAYS: (u32, u32) = (1, 365);

/// A version as `CLIENT_POLICY` compares them: up to four dot-separated numbers of up to nine
/// digits each (`3.12.1`); anything else is no version. Bounded, so a hostile version costs nothing.
pub fn parse_version(text: &str) -> Option<Vec<u32>> {
    let text = text.trim();
    if text.is_empty() || text.len() > 40 {
        return None;
    }
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    parts
        .iter()
        .map(|p| {
            let digits = !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit());
            digits.then(|| p.parse().ok()).flatten()
        })
        .collect()
}

/// Whether `version` is at least `minimum`, numerically part by part (missing parts are 0). An
/// unreadable client version never satisfies a minimum.
pub fn version_at_least(version: &str, minimum: &str) -> bool {
    let (Some(mut v), Some(mut m)) = (parse_version(version), parse_version(minimum)) else {
        return false;
    };
    v.resize(4, 0);
    m.resize(4, 0);
    v >= m
}

/// One numeric password policy property: its name, Snowflake's range and the field it sets.
pub struct PasswordField {
    pub name: &'static str,
    pub min: u32,
    pub max: u32,
    pub get: fn(&PasswordPolicy) -> u32,
    pub set: fn(&mut PasswordPolicy, u32),
    pub description: &'static str,
}

macro_rules! password_fields {
    ($($name:literal, $field:ident, $min:literal, $max:literal, $desc:literal;)*) => {
        pub const PASSWORD_FIELDS: &[PasswordField] = &[$(PasswordField {
            name: $name,
            min: $min,
            max: $max,
            get: |p| p.$field,
            set: |p, v| p.$field = v,
            description: $desc,
        }),*];
    };
}

password_fields! {
    "PASSWORD_MIN_LENGTH", password_min_length, 8, 256, "Minimum length of new password";
    "PASSWORD_MAX_LENGTH", password_max_length, 8, 256, "Maximum length of new password";
    "PASSWORD_MIN_UPPER_CASE_CHARS", password_min_upper_case_chars, 0, 256, "Minimum number of uppercase characters in new password";
    "PASSWORD_MIN_LOWER_CASE_CHARS", password_min_lower_case_chars, 0, 256, "Minimum number of lowercase characters in new password";
    "PASSWORD_MIN_NUMERIC_CHARS", password_min_numeric_chars, 0, 256, "Minimum number of numeric characters in new password";
    "PASSWORD_MIN_SPECIAL_CHARS", password_min_special_chars, 0, 256, "Minimum number of special characters in new password";
    "PASSWORD_MIN_AGE_DAYS", password_min_age_days, 0, 999, "Period after a password is changed during which a password cannot be changed again, in days";
    "PASSWORD_MAX_AGE_DAYS", password_max_age_days, 0, 999, "Period after which password must be changed, in days";
    "PASSWORD_MAX_RETRIES", password_max_retries, 1, 10, "Number of attempts users have to enter the correct password before their account is locked";
    "PASSWORD_LOCKOUT_TIME_MINS", password_lockout_time_mins, 1, 999, "Period of time for which users will be locked after entering their password incorrectly many times (specified by MAX_RETRIES), in minutes";
    "PASSWORD_HISTORY", password_history, 0, 24, "Number of most recent passwords that may not be repeated by the user";
}

impl PasswordPolicy {
    /// What a field range cannot tell: the maximum length holds the minimum and every required
    /// character.
    pub fn inconsistency(&self) -> Option<String> {
        let required = self.password_min_upper_case_chars
            + self.password_min_lower_case_chars
            + self.password_min_numeric_chars
            + self.password_min_special_chars;
        if self.password_max_length < self.password_min_length {
            return Some("PASSWORD_MAX_LENGTH must not be less than PASSWORD_MIN_LENGTH.".into());
        }
        if required > self.password_max_length {
            return Some(
                "The minimum numbers of upper case, lower case, numeric and special characters add up to more than PASSWORD_MAX_LENGTH.".into(),
            );
        }
        None
    }
}

/// `SESSION_IDLE_TIMEOUT_MINS` and `SESSION_UI_IDLE_TIMEOUT_MINS`: Snowflake's range.
pub const SESSION_TIMEOUT_MINS: (u32, u32) = (5, 1440);

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

    /// Documents as stored before the bookkeeping fields moved into `PolicyMeta`: every field at the
    /// top level.
    const STORED_AUTHENTICATION: &str = r#"{"name":"AP","authentication_methods":["PASSWORD","KEYPAIR"],
        "mfa_enrollment":"REQUIRED","client_types":["DRIVERS"],"client_policy":{"PYTHON_DRIVER":"3.12"},
        "security_integrations":["ALL"],"pat_policy":{"default_expiry_in_days":7,"max_expiry_in_days":30,
        "network_policy_evaluation":"NOT_ENFORCED","require_role_restriction_for_service_users":false,
        "require_role_restriction_for_person_users":true,"blocked_roles_list":["ACCOUNTADMIN"]},
        "workload_identity_policy":{"allowed_providers":["AWS"],"allowed_aws_accounts":["123456789012"],
        "allowed_aws_partitions":["ALL"],"allowed_azure_issuers":["ALL"],"allowed_oidc_issuers":["ALL"]},
        "comment":"for apps","created_on":1700000000,"owner":"SECURITYADMIN","database_name":"DB",
        "schema_name":"S"}"#;
    const STORED_PASSWORD: &str = r#"{"name":"PP","password_min_length":10,"password_max_length":64,
        "password_min_upper_case_chars":2,"password_min_lower_case_chars":1,"password_min_numeric_chars":1,
        "password_min_special_chars":1,"password_min_age_days":1,"password_max_age_days":30,
        "password_max_retries":3,"password_lockout_time_mins":20,"password_history":4,"comment":null,
        "created_on":1700000001,"owner":null,"database_name":null,"schema_name":null}"#;
    const STORED_SESSION: &str = r#"{"name":"SP","session_idle_timeout_mins":30,
        "session_ui_idle_timeout_mins":60,"allowed_secondary_roles":[],"blocked_secondary_roles":["R"],
        "comment":"short","created_on":1700000002,"owner":"ACCOUNTADMIN","database_name":"DB",
        "schema_name":"PUBLIC"}"#;

    /// Decodes a stored document and encodes it again: the same fields with the same values.
    fn round_trip<T: serde::de::DeserializeOwned + Serialize>(stored: &str) -> T {
        let record: T = serde_json::from_str(stored).unwrap();
        let again = serde_json::to_value(&record).unwrap();
        assert_eq!(
            again,
            serde_json::from_str::<serde_json::Value>(stored).unwrap()
        );
        record
    }

    #[test]
    fn documents_stored_before_decode_and_encode_the_same() {
        let auth = round_trip::<AuthenticationPolicy>(STORED_AUTHENTICATION);
        assert_eq!(auth.meta.name, "AP");
        assert_eq!(auth.meta.owner.as_deref(), Some("SECURITYADMIN"));
        assert_eq!(auth.meta.schema_name.as_deref(), Some("S"));
        assert_eq!(auth.pat_policy.max_expiry_in_days, 30);
        let pw = round_trip::<PasswordPolicy>(STORED_PASSWORD);
        assert_eq!(
            (pw.meta.name.as_str(), pw.meta.created_on),
            ("PP", 1700000001)
        );
        assert_eq!(pw.password_history, 4);
        let s = round_trip::<SessionPolicy>(STORED_SESSION);
        assert_eq!(s.meta.comment.as_deref(), Some("short"));
        assert_eq!(s.session_idle_timeout_mins, 30);
    }

    #[test]
    fn versions_compare_numerically_and_boundedly() {
        assert!(version_at_least("3.12.1", "3.9"));
        assert!(version_at_least("3.9.0", "3.9"));
        assert!(!version_at_least("3.8.99", "3.9"));
        assert!(!version_at_least("3.x", "1.0"));
        assert!(!version_at_least("", "1.0"));
        assert!(!version_at_least(&"9.".repeat(1000), "1.0"));
        assert!(!version_at_least("99999999999", "1.0"));
        assert_eq!(parse_version("1.2.3.4.5"), None);
    }

    #[test]
    fn methods_parse_and_print() {
        for method in AuthMethod::EVERY {
            assert_eq!(AuthMethod::parse(method.policy_name()), Some(method));
        }
        assert_eq!(AuthMethod::parse("keypair"), Some(AuthMethod::Keypair));
        assert_eq!(AuthMethod::parse("NOPE"), None);
    }
}
