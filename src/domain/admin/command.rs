//! Administrative commands as the SQL front end hands them over: one enum per object, properties
//! typed and validated as far as text alone allows (a key parses, a CIDR is a CIDR, a flag is a
//! flag). Whatever needs the directory (does the policy exist? is the login name free?) is checked
//! where the command runs.
//!
//! A property is one variant holding `Some(value)` from `SET` (or `CREATE`) and `None` from `UNSET`,
//! so adding one takes a variant here, an arm in the front end's parser and an arm in its executor.

use std::collections::BTreeMap;

use ipnet::IpNet;
use secrecy::SecretString;

use crate::domain::credentials::workload_identity::Provider;
use crate::domain::directory::{RsaKey, UserType};
use crate::domain::ident::Identifier;
use crate::domain::policy::{
    AuthMethod, MfaEnrollment, PatPolicy, PolicyKind, WorkloadIdentityPolicy,
};

#[derive(Debug, Clone)]
pub enum AdminCommand {
    User(UserCommand),
    Role(RoleCommand),
    NetworkPolicy(PolicyCommand),
    Grant(GrantCommand),
    Account(AccountCommand),
    Show(ShowCommand),
    /// Programmatic access tokens: allowed to any role for the session's own user.
    Pat(PatCommand),
    /// TOTP multi-factor methods: allowed to any role for the session's own user.
    Mfa(MfaCommand),
    /// CREATE, ALTER, DROP, SHOW and DESCRIBE of authentication, password and session policies.
    Policy(KindPolicyCommand),
    /// `ALTER ACCOUNT|USER … SET|UNSET {AUTHENTICATION|PASSWORD|SESSION} POLICY`.
    AttachPolicy(AttachPolicy),
    /// `ALTER USER … ADD|MODIFY|REMOVE WORKLOAD IDENTITY` and `SHOW USER WORKLOAD IDENTITY
    /// AUTHENTICATION METHODS`.
    WorkloadIdentity(WifCommand),
    /// CREATE, ALTER, DROP, SHOW and DESCRIBE of External OAuth security integrations.
    Integration(IntegrationCommand),
}

#[derive(Debug, Clone)]
pub enum IntegrationCommand {
    Create {
        name: Identifier,
        mode: CreateMode,
        properties: Vec<crate::domain::directory::security_integrations::IntegrationProperty>,
    },
    Alter {
        name: Identifier,
        if_exists: bool,
        properties: Vec<crate::domain::directory::security_integrations::IntegrationProperty>,
    },
    Drop {
        name: Identifier,
        if_exists: bool,
    },
    Show {
        like: Option<String>,
    },
    Describe {
        name: Identifier,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CreateMode {
    pub or_replace: bool,
    pub if_not_exists: bool,
}

#[derive(Debug, Clone)]
pub enum UserCommand {
    Create {
        name: Identifier,
        mode: CreateMode,
        properties: Vec<UserProperty>,
    },
    /// `SET` (`Some` values) or `UNSET` (`None`).
    Alter {
        name: Identifier,
        if_exists: bool,
        properties: Vec<UserProperty>,
        /// `SET MINS_TO_UNLOCK = 0`: forget the user's failed logins. An action, not a property.
        unlock: bool,
    },
    Drop {
        name: Identifier,
        if_exists: bool,
    },
}

/// One property of a user: `Some` sets it, `None` unsets it.
#[derive(Clone)]
pub enum UserProperty {
    Type(Option<UserType>),
    Password(Option<SecretString>),
    /// Upper-cased and trimmed, never empty.
    LoginName(Option<String>),
    DefaultRole(Option<Identifier>),
    DefaultWarehouse(Option<Identifier>),
    /// Upper-cased.
    DefaultNamespace(Option<String>),
    RsaPublicKey(Option<RsaKey>),
    RsaPublicKey2(Option<RsaKey>),
    NetworkPolicy(Option<Identifier>),
    Disabled(Option<bool>),
    Comment(Option<String>),
    DisplayName(Option<String>),
    Email(Option<String>),
    /// The identity named `DEFAULT`.
    WorkloadIdentity(Option<Provider>),
}

impl UserProperty {
    /// Whether this property is a way to log in (or unsets one): a password, an RSA key, the
    /// default workload identity.
    pub fn is_credential(&self) -> bool {
        matches!(
            self,
            Self::Password(_)
                | Self::RsaPublicKey(_)
                | Self::RsaPublicKey2(_)
                | Self::WorkloadIdentity(_)
        )
    }
}

/// Opaque: values may be passwords.
impl std::fmt::Debug for UserProperty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserProperty(..)")
    }
}

#[derive(Debug, Clone)]
pub enum RoleCommand {
    Create {
        name: Identifier,
        mode: CreateMode,
        comment: Option<String>,
    },
    Drop {
        name: Identifier,
        if_exists: bool,
    },
}

#[derive(Debug, Clone)]
pub enum PolicyCommand {
    Create {
        name: Identifier,
        mode: CreateMode,
        properties: Vec<PolicyProperty>,
    },
    Alter {
        name: Identifier,
        if_exists: bool,
        properties: Vec<PolicyProperty>,
    },
    Drop {
        name: Identifier,
        if_exists: bool,
    },
}

/// One entry of an IP list, as written (so `DESC` shows it back) and as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpEntry {
    pub written: String,
    pub net: IpNet,
}

/// One property of a network policy; `UNSET` of a list empties it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyProperty {
    AllowedIpList(Vec<IpEntry>),
    BlockedIpList(Vec<IpEntry>),
    Comment(Option<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantCommand {
    pub role: Identifier,
    pub user: Identifier,
    /// `GRANT` (true) or `REVOKE` (false).
    pub grant: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountCommand {
    /// `SET NETWORK_POLICY = p` (`Some`) or `UNSET NETWORK_POLICY` (`None`).
    NetworkPolicy(Option<Identifier>),
    /// `SET|UNSET ALLOW_CLIENT_MFA_CACHING`: whether MFA logins may get a cached MFA token.
    AllowClientMfaCaching(bool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShowCommand {
    Users { like: Option<String> },
    Roles { like: Option<String> },
    NetworkPolicies { like: Option<String> },
    DescribeUser { name: Identifier },
    DescribeNetworkPolicy { name: Identifier },
}

/// A statement about one user's credentials (PATs, MFA methods, workload identities): `ALTER USER
/// [IF EXISTS] [<user>] <action>` or `SHOW … [FOR USER u]`, the session's own user when none is
/// named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserScoped<A> {
    /// `None`: the session's own user.
    pub user: Option<Identifier>,
    pub if_exists: bool,
    pub action: A,
}

/// What a user-scoped action tells the audit log: the statement, and the object it names (the
/// PAT's or the workload identity's name), if any.
pub trait UserScopedAction {
    fn label(&self) -> (&'static str, Option<&Identifier>);
}

impl<A: UserScopedAction> UserScoped<A> {
    pub fn new(user: Option<Identifier>, if_exists: bool, action: A) -> Self {
        Self {
            user,
            if_exists,
            action,
        }
    }

    /// Whether the command is about the session's own user `me`.
    pub fn is_about(&self, me: &str) -> bool {
        self.user.as_ref().is_none_or(|u| u.as_str() == me)
    }

    /// `(statement, user)`, or `(statement, user.object)`; `-` for the session's own user.
    fn audit_label(&self) -> (&'static str, String) {
        let user = self
            .user
            .as_ref()
            .map_or_else(|| "-".to_string(), |u| u.to_string());
        match self.action.label() {
            (kind, Some(name)) => (kind, format!("{user}.{name}")),
            (kind, None) => (kind, user),
        }
    }
}

/// `ALTER USER [IF EXISTS] [<user>] ADD|MODIFY|ROTATE|REMOVE PAT …` and `SHOW USER PATS [FOR USER u]`.
pub type PatCommand = UserScoped<PatAction>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatAction {
    Add {
        name: Identifier,
        if_not_exists: bool,
        properties: Vec<PatProperty>,
    },
    /// `SET` (`Some` values), `UNSET` (`None`) or `RENAME TO`.
    Modify {
        name: Identifier,
        properties: Vec<PatProperty>,
        rename: Option<Identifier>,
    },
    Rotate {
        name: Identifier,
        /// `EXPIRE_ROTATED_TOKEN_AFTER_HOURS`; `None`: Snowflake's default.
        expire_rotated_after_hours: Option<u32>,
    },
    Remove {
        name: Identifier,
    },
    Show,
}

/// One property of a PAT, range-checked by the front end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatProperty {
    RoleRestriction(Identifier),
    DaysToExpiry(u32),
    MinsToBypassNetworkPolicy(Option<u32>),
    Comment(Option<String>),
    Disabled(Option<bool>),
}

impl UserScopedAction for PatAction {
    fn label(&self) -> (&'static str, Option<&Identifier>) {
        match self {
            PatAction::Add { name, .. } => ("ALTER USER ADD PAT", Some(name)),
            PatAction::Modify { name, .. } => ("ALTER USER MODIFY PAT", Some(name)),
            PatAction::Rotate { name, .. } => ("ALTER USER ROTATE PAT", Some(name)),
            PatAction::Remove { name } => ("ALTER USER REMOVE PAT", Some(name)),
            PatAction::Show => ("SHOW USER PATS", None),
        }
    }
}

/// `ALTER USER [IF EXISTS] [<user>] ADD|REMOVE MFA METHOD TOTP` and `SHOW MFA METHODS [FOR USER u]`.
pub type MfaCommand = UserScoped<MfaAction>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaAction {
    Add,
    Remove,
    Show,
}

impl UserScopedAction for MfaAction {
    fn label(&self) -> (&'static str, Option<&Identifier>) {
        let kind = match self {
            MfaAction::Add => "ALTER USER ADD MFA METHOD",
            MfaAction::Remove => "ALTER USER REMOVE MFA METHOD",
            MfaAction::Show => "SHOW MFA METHODS",
        };
        (kind, None)
    }
}

/// `ALTER USER [IF EXISTS] [<user>] ADD|MODIFY|REMOVE WORKLOAD IDENTITY …` and `SHOW USER WORKLOAD
/// IDENTITY AUTHENTICATION METHODS [FOR USER u]`.
pub type WifCommand = UserScoped<WifAction>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WifAction {
    Add {
        name: Identifier,
        provider: Provider,
    },
    /// `SET` (`Some` values), `UNSET` (`None`) or `RENAME TO`.
    Modify {
        name: Identifier,
        properties: Vec<WifProperty>,
        rename: Option<Identifier>,
    },
    Remove {
        name: Identifier,
    },
    Show,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WifProperty {
    Disabled(Option<bool>),
    Comment(Option<String>),
}

impl UserScopedAction for WifAction {
    fn label(&self) -> (&'static str, Option<&Identifier>) {
        match self {
            WifAction::Add { name, .. } => ("ALTER USER ADD WORKLOAD IDENTITY", Some(name)),
            WifAction::Modify { name, .. } => ("ALTER USER MODIFY WORKLOAD IDENTITY", Some(name)),
            WifAction::Remove { name } => ("ALTER USER REMOVE WORKLOAD IDENTITY", Some(name)),
            WifAction::Show => ("SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS", None),
        }
    }
}

/// A possibly qualified object name (`db.schema.name`): policies are schema objects in Snowflake.
/// The key is the last part; the others are recorded for SHOW.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectName {
    pub database: Option<Identifier>,
    pub schema: Option<Identifier>,
    pub name: Identifier,
}

/// One statement about an authentication, password or session policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindPolicyCommand {
    pub kind: PolicyKind,
    pub action: KindPolicyAction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KindPolicyAction {
    Create {
        name: ObjectName,
        mode: CreateMode,
        settings: Vec<PolicySetting>,
    },
    Alter {
        name: ObjectName,
        if_exists: bool,
        change: PolicyChange,
    },
    Drop {
        name: ObjectName,
        if_exists: bool,
    },
    Show {
        like: Option<String>,
    },
    Describe {
        name: ObjectName,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyChange {
    /// `SET` (`Some` values) or `UNSET` (`None`: back to Snowflake's default).
    Settings(Vec<PolicySetting>),
    Rename(ObjectName),
}

/// One property of an authentication, password or session policy; `None` unsets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySetting {
    Comment(Option<String>),
    Authentication(AuthSetting),
    /// A numeric password property, by its name in [`crate::domain::policy::PASSWORD_FIELDS`];
    /// its range is checked.
    Password(&'static str, Option<u32>),
    Session(SessionSetting),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthSetting {
    Methods(Option<Vec<AuthMethod>>),
    MfaEnrollment(Option<MfaEnrollment>),
    ClientTypes(Option<Vec<String>>),
    /// Client → minimum version (a valid version).
    ClientPolicy(Option<BTreeMap<String, String>>),
    SecurityIntegrations(Option<Vec<String>>),
    /// Given whole: sub-properties not written take their defaults.
    Pat(Option<PatPolicy>),
    WorkloadIdentity(Option<WorkloadIdentityPolicy>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionSetting {
    IdleTimeoutMins(Option<u32>),
    UiIdleTimeoutMins(Option<u32>),
    AllowedSecondaryRoles(Option<Vec<String>>),
    BlockedSecondaryRoles(Option<Vec<String>>),
}

/// Sets (`policy: Some`) or unsets the policy of one kind on the account or a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachPolicy {
    pub kind: PolicyKind,
    pub target: PolicyTarget,
    pub policy: Option<ObjectName>,
    /// Replace a policy of that kind already set.
    pub force: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyTarget {
    Account,
    User { name: Identifier, if_exists: bool },
}

impl KindPolicyCommand {
    fn audit_label(&self) -> (&'static str, String) {
        /// By action (create, alter, drop, show, describe), then by kind, in [`PolicyKind`] order.
        const LABELS: [[&str; 3]; 5] = [
            [
                "CREATE AUTHENTICATION POLICY",
                "CREATE PASSWORD POLICY",
                "CREATE SESSION POLICY",
            ],
            [
                "ALTER AUTHENTICATION POLICY",
                "ALTER PASSWORD POLICY",
                "ALTER SESSION POLICY",
            ],
            [
                "DROP AUTHENTICATION POLICY",
                "DROP PASSWORD POLICY",
                "DROP SESSION POLICY",
            ],
            [
                "SHOW AUTHENTICATION POLICIES",
                "SHOW PASSWORD POLICIES",
                "SHOW SESSION POLICIES",
            ],
            [
                "DESCRIBE AUTHENTICATION POLICY",
                "DESCRIBE PASSWORD POLICY",
                "DESCRIBE SESSION POLICY",
            ],
        ];
        let (action, name) = match &self.action {
            KindPolicyAction::Create { name, .. } => (0, Some(name)),
            KindPolicyAction::Alter { name, .. } => (1, Some(name)),
            KindPolicyAction::Drop { name, .. } => (2, Some(name)),
            KindPolicyAction::Show { .. } => (3, None),
            KindPolicyAction::Describe { name } => (4, Some(name)),
        };
        let kind = match self.kind {
            PolicyKind::Authentication => 0,
            PolicyKind::Password => 1,
            PolicyKind::Session => 2,
        };
        let object = name.map_or_else(|| "-".to_string(), |n| n.name.to_string());
        (LABELS[action][kind], object)
    }
}

impl AttachPolicy {
    fn audit_label(&self) -> (&'static str, String) {
        match &self.target {
            PolicyTarget::Account => ("ALTER ACCOUNT", "ACCOUNT".into()),
            PolicyTarget::User { name, .. } => ("ALTER USER", name.to_string()),
        }
    }
}

impl AdminCommand {
    /// The statement's kind and the object it names, for the audit trail: never a property value.
    pub fn audit_label(&self) -> (&'static str, String) {
        let name = |n: &Identifier| n.to_string();
        match self {
            AdminCommand::User(UserCommand::Create { name: n, .. }) => ("CREATE USER", name(n)),
            AdminCommand::User(UserCommand::Alter { name: n, .. }) => ("ALTER USER", name(n)),
            AdminCommand::User(UserCommand::Drop { name: n, .. }) => ("DROP USER", name(n)),
            AdminCommand::Role(RoleCommand::Create { name: n, .. }) => ("CREATE ROLE", name(n)),
            AdminCommand::Role(RoleCommand::Drop { name: n, .. }) => ("DROP ROLE", name(n)),
            AdminCommand::NetworkPolicy(PolicyCommand::Create { name: n, .. }) => {
                ("CREATE NETWORK POLICY", name(n))
            }
            AdminCommand::NetworkPolicy(PolicyCommand::Alter { name: n, .. }) => {
                ("ALTER NETWORK POLICY", name(n))
            }
            AdminCommand::NetworkPolicy(PolicyCommand::Drop { name: n, .. }) => {
                ("DROP NETWORK POLICY", name(n))
            }
            AdminCommand::Grant(g) => (
                if g.grant { "GRANT ROLE" } else { "REVOKE ROLE" },
                format!("{} to {}", g.role, g.user),
            ),
            AdminCommand::Account(_) => ("ALTER ACCOUNT", "ACCOUNT".into()),
            AdminCommand::Show(ShowCommand::Users { .. }) => ("SHOW USERS", "-".into()),
            AdminCommand::Show(ShowCommand::Roles { .. }) => ("SHOW ROLES", "-".into()),
            AdminCommand::Show(ShowCommand::NetworkPolicies { .. }) => {
                ("SHOW NETWORK POLICIES", "-".into())
            }
            AdminCommand::Show(ShowCommand::DescribeUser { name: n }) => ("DESCRIBE USER", name(n)),
            AdminCommand::Show(ShowCommand::DescribeNetworkPolicy { name: n }) => {
                ("DESCRIBE NETWORK POLICY", name(n))
            }
            AdminCommand::Pat(p) => p.audit_label(),
            AdminCommand::Mfa(m) => m.audit_label(),
            AdminCommand::Policy(c) => c.audit_label(),
            AdminCommand::AttachPolicy(c) => c.audit_label(),
            AdminCommand::WorkloadIdentity(c) => c.audit_label(),
            AdminCommand::Integration(c) => match c {
                IntegrationCommand::Create { name: n, .. } => {
                    ("CREATE SECURITY INTEGRATION", name(n))
                }
                IntegrationCommand::Alter { name: n, .. } => {
                    ("ALTER SECURITY INTEGRATION", name(n))
                }
                IntegrationCommand::Drop { name: n, .. } => ("DROP SECURITY INTEGRATION", name(n)),
                IntegrationCommand::Show { .. } => ("SHOW INTEGRATIONS", "-".into()),
                IntegrationCommand::Describe { name: n } => {
                    ("DESCRIBE SECURITY INTEGRATION", name(n))
                }
            },
        }
    }
}
