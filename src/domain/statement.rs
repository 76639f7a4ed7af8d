//! The statements snowgate runs, as the SQL front end hands them to the domain, and the front end's
//! contract. The domain never sees SQL syntax; the front end (`crate::sql`) depends on these types,
//! never the reverse.

use super::ident::Identifier;

/// Turns statement text into [`Statement`]s, within bounded work.
pub trait SqlFrontEnd: Send + Sync {
    /// Whether the statement is administrative, from its first few words alone (cheap and bounded),
    /// so that privileges are checked before the statement is parsed. An administrative statement
    /// snowgate does not run (`SHOW WAREHOUSES`) is refused here, in any role.
    fn is_admin(&self, sql: &str) -> Result<bool, SqlRejection>;
    fn parse(&self, sql: &str) -> Result<Statement, SqlRejection>;
}

/// Any statement snowgate runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    Context(ContextStatement),
    Admin(AdminStatement),
}

/// A statement snowgate can answer from the session alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextStatement {
    Use(UseTarget),
    /// `SELECT f1() [AS a], f2(), …`: one row, a column per item.
    SelectCurrent(Vec<SelectColumn>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UseTarget {
    Database(Identifier),
    /// `USE SCHEMA s` (database unchanged) or `USE SCHEMA d.s`.
    Schema {
        database: Option<Identifier>,
        schema: Identifier,
    },
    Warehouse(Identifier),
    Role(Identifier),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectColumn {
    /// The column name the driver shows: the alias, or the expression as Snowflake prints it.
    pub name: String,
    pub function: ContextFunction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextFunction {
    Database,
    Schema,
    Warehouse,
    Role,
    User,
    Account,
    Session,
    Version,
    IpAddress,
}

/// Why a statement is not answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlRejection {
    /// Not valid SQL (or empty).
    Syntax(String),
    /// Valid SQL that snowgate does not answer; the text names what was refused.
    Unsupported(String),
}

#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Ident(Identifier),
    Number(String),
    List(Vec<Value>),
}

/// Deliberately opaque: values may be passwords or keys.
impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Value(..)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Upper-cased property name, e.g. `RSA_PUBLIC_KEY`.
    pub name: String,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alter {
    Set(Vec<Property>),
    Unset(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CreateMode {
    pub or_replace: bool,
    pub if_not_exists: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminStatement {
    CreateUser {
        name: Identifier,
        mode: CreateMode,
        props: Vec<Property>,
    },
    AlterUser {
        name: Identifier,
        if_exists: bool,
        alter: Alter,
    },
    DropUser {
        name: Identifier,
        if_exists: bool,
    },
    DescribeUser {
        name: Identifier,
    },
    ShowUsers {
        like: Option<String>,
    },
    CreateRole {
        name: Identifier,
        mode: CreateMode,
        props: Vec<Property>,
    },
    DropRole {
        name: Identifier,
        if_exists: bool,
    },
    GrantRole {
        role: Identifier,
        user: Identifier,
    },
    RevokeRole {
        role: Identifier,
        user: Identifier,
    },
    ShowRoles {
        like: Option<String>,
    },
    CreateNetworkPolicy {
        name: Identifier,
        mode: CreateMode,
        props: Vec<Property>,
    },
    AlterNetworkPolicy {
        name: Identifier,
        if_exists: bool,
        alter: Alter,
    },
    DropNetworkPolicy {
        name: Identifier,
        if_exists: bool,
    },
    DescribeNetworkPolicy {
        name: Identifier,
    },
    ShowNetworkPolicies {
        like: Option<String>,
    },
    AlterAccount {
        alter: Alter,
    },
}
