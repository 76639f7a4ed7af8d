//! Administrative commands as the SQL front end hands them over: one enum per object, properties
//! typed and validated as far as text alone allows (a key parses, a CIDR is a CIDR, a flag is a
//! flag). Whatever needs the directory (does the policy exist? is the login name free?) is checked
//! where the command runs.
//!
//! A property is one variant holding `Some(value)` from `SET` (or `CREATE`) and `None` from `UNSET`,
//! so adding one takes a variant here, an arm in the front end's parser and an arm in its executor.

use ipnet::IpNet;
use secrecy::SecretString;

use crate::domain::directory::{RsaKey, UserType};
use crate::domain::ident::Identifier;

#[derive(Debug, Clone)]
pub enum AdminCommand {
    User(UserCommand),
    Role(RoleCommand),
    NetworkPolicy(PolicyCommand),
    Grant(GrantCommand),
    Account(AccountCommand),
    Show(ShowCommand),
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShowCommand {
    Users { like: Option<String> },
    Roles { like: Option<String> },
    NetworkPolicies { like: Option<String> },
    DescribeUser { name: Identifier },
    DescribeNetworkPolicy { name: Identifier },
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
        }
    }
}
