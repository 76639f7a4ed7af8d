//! Running the administration statements against the directory. Every statement validates all of its
//! input before it writes anything, so an invalid key, CIDR or option changes nothing.

use std::net::IpAddr;

use secrecy::SecretString;

use super::directory::{
    Directory, NetworkPolicy, Role, RsaKey, SYSTEM_ROLES, User, UserType, hash_password,
};
use super::ident::Identifier;
use super::keys::parse_public_key;
use crate::error::{Error, Result, SqlErrorKind};
use crate::secrets::SecretMaterial;
use crate::sql::admin::{AdminStatement, Alter, CreateMode, Property, Value};

/// A statement's result: text columns and rows.
pub struct Answer {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// DDL (a status row) or a listing (SHOW / DESCRIBE).
    pub is_ddl: bool,
}

impl Answer {
    fn status(message: impl Into<String>) -> Self {
        Self {
            columns: vec!["status".into()],
            rows: vec![vec![Some(message.into())]],
            is_ddl: true,
        }
    }

    fn table(columns: &[&str], rows: Vec<Vec<Option<String>>>) -> Self {
        Self {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
            is_ddl: false,
        }
    }
}

pub struct AdminContext<'a> {
    pub directory: &'a Directory,
    pub secrets: &'a SecretMaterial,
    pub client_ip: Option<IpAddr>,
    /// The administrator's session role: system roles it does not hold, it cannot grant or revoke.
    pub role: &'a str,
    pub now: u64,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::sql(SqlErrorKind::InvalidValue, message)
}

fn missing(kind: &str, name: &Identifier) -> Error {
    Error::sql(
        SqlErrorKind::DoesNotExist,
        format!("SQL compilation error:\n{kind} '{name}' does not exist or not authorized."),
    )
}

fn exists(name: &Identifier) -> Error {
    Error::sql(
        SqlErrorKind::AlreadyExists,
        format!("SQL compilation error:\nObject '{name}' already exists."),
    )
}

/// As Snowflake: the account's policy may never shut out the administrator who sets or changes it.
fn lockout(name: &str, ip: Option<IpAddr>) -> Error {
    let ip = ip
        .map(|i| i.to_string())
        .unwrap_or_else(|| "unknown".into());
    invalid(format!(
        "Network policy '{name}' cannot be activated on the account: the requestor's IP address {ip} must be in its ALLOWED_IP_LIST and not in its BLOCKED_IP_LIST."
    ))
}

/// Whether `role` holds `other`, through Snowflake's system role hierarchy.
fn holds(role: &str, other: &str) -> bool {
    let probe = User {
        roles: [role.to_string()].into(),
        ..User::default()
    };
    probe.effective_roles().contains(other)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) | Value::Number(s) => Some(s.clone()),
        Value::Ident(i) => Some(i.to_string()),
        Value::List(_) => None,
    }
}

/// A name given as an identifier or a string, with Snowflake's case rules.
fn name_value(prop: &Property) -> Result<String> {
    match &prop.value {
        Value::Ident(i) => Ok(i.to_string()),
        Value::Str(s) => Identifier::from_user_input(s)
            .map(Identifier::into_string)
            .ok_or_else(|| invalid(format!("{} must not be empty.", prop.name))),
        _ => Err(invalid(format!("{} must be a name.", prop.name))),
    }
}

fn string_value(prop: &Property) -> Result<String> {
    text(&prop.value).ok_or_else(|| invalid(format!("{} must be a string.", prop.name)))
}

fn bool_value(prop: &Property) -> Result<bool> {
    match text(&prop.value).map(|s| s.to_ascii_uppercase()).as_deref() {
        Some("TRUE") => Ok(true),
        Some("FALSE") => Ok(false),
        _ => Err(invalid(format!("{} must be TRUE or FALSE.", prop.name))),
    }
}

fn list_value(prop: &Property) -> Result<Vec<String>> {
    match &prop.value {
        Value::List(items) => items
            .iter()
            .map(|i| {
                text(i).ok_or_else(|| invalid(format!("{} must be a list of strings.", prop.name)))
            })
            .collect(),
        _ => Err(invalid(format!(
            "{} must be a parenthesised list.",
            prop.name
        ))),
    }
}

fn rsa_key(prop: &Property) -> Result<RsaKey> {
    let text = string_value(prop)?;
    let key =
        parse_public_key(&text).map_err(|why| invalid(format!("Invalid {}: {why}.", prop.name)))?;
    Ok(RsaKey {
        der_base64: key.base64_der,
        fingerprint: key.fingerprint,
    })
}

fn like(pattern: &Option<String>, name: &str) -> bool {
    fn matches(p: &[char], s: &[char]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some('%'), _) => matches(&p[1..], s) || (!s.is_empty() && matches(p, &s[1..])),
            (Some('_'), Some(_)) => matches(&p[1..], &s[1..]),
            (Some(a), Some(b)) => {
                a.to_lowercase().eq(b.to_lowercase()) && matches(&p[1..], &s[1..])
            }
            _ => false,
        }
    }
    match pattern {
        None => true,
        Some(p) => {
            let p: Vec<char> = p.chars().collect();
            let s: Vec<char> = name.chars().collect();
            matches(&p, &s)
        }
    }
}

fn opt(s: &Option<String>) -> Option<String> {
    Some(s.clone().unwrap_or_else(|| "null".into()))
}

fn yes_no(b: bool) -> Option<String> {
    Some(b.to_string())
}

/// Applies `SET` properties to a user, validating each.
async fn set_user_props(ctx: &AdminContext<'_>, user: &mut User, props: &[Property]) -> Result<()> {
    for prop in props {
        match prop.name.as_str() {
            "TYPE" => {
                user.user_type = text(&prop.value)
                    .and_then(|t| UserType::parse(&t))
                    .ok_or_else(|| invalid("TYPE must be PERSON, SERVICE or LEGACY_SERVICE."))?
            }
            "PASSWORD" => {
                let password = string_value(prop)?;
                if password.is_empty() {
                    return Err(invalid("PASSWORD must not be empty."));
                }
                user.password_hash = Some(hash_password(&SecretString::from(password))?);
            }
            "LOGIN_NAME" => {
                let login = string_value(prop)?.trim().to_uppercase();
                if login.is_empty() {
                    return Err(invalid("LOGIN_NAME must not be empty."));
                }
                user.login_name = Some(login);
            }
            "DEFAULT_ROLE" => user.default_role = Some(name_value(prop)?),
            "DEFAULT_WAREHOUSE" => user.default_warehouse = Some(name_value(prop)?),
            "DEFAULT_NAMESPACE" => {
                user.default_namespace = Some(string_value(prop)?.to_uppercase())
            }
            "RSA_PUBLIC_KEY" => user.rsa_public_key = Some(rsa_key(prop)?),
            "RSA_PUBLIC_KEY_2" => user.rsa_public_key_2 = Some(rsa_key(prop)?),
            "NETWORK_POLICY" => {
                let name = name_value(prop)?;
                if ctx.directory.policy(&name).await?.is_none() {
                    return Err(invalid(format!("Network policy '{name}' does not exist.")));
                }
                user.network_policy = Some(name);
            }
            "DISABLED" => user.disabled = bool_value(prop)?,
            "COMMENT" => user.comment = Some(string_value(prop)?),
            "DISPLAY_NAME" => user.display_name = Some(string_value(prop)?),
            "EMAIL" => user.email = Some(string_value(prop)?),
            other => {
                return Err(invalid(format!("Invalid property '{other}' for USER.")));
            }
        }
    }
    Ok(())
}

fn unset_user_props(user: &mut User, names: &[String]) -> Result<()> {
    for name in names {
        match name.as_str() {
            "TYPE" => user.user_type = UserType::Person,
            "PASSWORD" => user.password_hash = None,
            "LOGIN_NAME" => user.login_name = None,
            "DEFAULT_ROLE" => user.default_role = None,
            "DEFAULT_WAREHOUSE" => user.default_warehouse = None,
            "DEFAULT_NAMESPACE" => user.default_namespace = None,
            "RSA_PUBLIC_KEY" => user.rsa_public_key = None,
            "RSA_PUBLIC_KEY_2" => user.rsa_public_key_2 = None,
            "NETWORK_POLICY" => user.network_policy = None,
            "DISABLED" => user.disabled = false,
            "COMMENT" => user.comment = None,
            "DISPLAY_NAME" => user.display_name = None,
            "EMAIL" => user.email = None,
            other => return Err(invalid(format!("Invalid property '{other}' for USER."))),
        }
    }
    Ok(())
}

/// Rules that hold across properties, checked before anything is written.
async fn check_user(ctx: &AdminContext<'_>, user: &User) -> Result<()> {
    if user.user_type == UserType::Service && user.password_hash.is_some() {
        return Err(invalid(
            "A user of TYPE = SERVICE cannot have a PASSWORD; use key-pair authentication.",
        ));
    }
    let login = user.effective_login();
    if ctx.directory.login_taken(&login, &user.name).await? {
        return Err(invalid(format!("LOGIN_NAME '{login}' is already in use.")));
    }
    Ok(())
}

fn create_result(kind: &str, name: &Identifier) -> Answer {
    Answer::status(format!("{kind} {name} successfully created."))
}

fn skipped(kind: &str, name: &Identifier) -> Answer {
    Answer::status(format!(
        "{kind} {name} already exists, statement succeeded."
    ))
}

/// An administrator may only manage users whose system roles its own role holds: USERADMIN cannot
/// take over an ACCOUNTADMIN by changing its password or key.
fn may_manage(ctx: &AdminContext<'_>, target: &User) -> Result<()> {
    match target
        .effective_roles()
        .into_iter()
        .find(|r| SYSTEM_ROLES.contains(&r.as_str()) && !holds(ctx.role, r))
    {
        Some(role) => Err(Error::sql(
            SqlErrorKind::InsufficientPrivileges,
            format!(
                "SQL access control error:\nRole '{}' cannot manage user '{}', who holds role '{role}'.",
                ctx.role, target.name
            ),
        )),
        None => Ok(()),
    }
}

pub async fn run(ctx: &AdminContext<'_>, statement: AdminStatement) -> Result<Answer> {
    let dir = ctx.directory;
    // Network policies guard the whole account: SECURITYADMIN and above, as in Snowflake.
    if matches!(
        statement,
        AdminStatement::CreateNetworkPolicy { .. }
            | AdminStatement::AlterNetworkPolicy { .. }
            | AdminStatement::DropNetworkPolicy { .. }
            | AdminStatement::AlterAccount { .. }
    ) && !holds(ctx.role, "SECURITYADMIN")
    {
        return Err(Error::sql(
            SqlErrorKind::InsufficientPrivileges,
            format!(
                "SQL access control error:\nRole '{}' cannot manage network policies; use SECURITYADMIN or ACCOUNTADMIN.",
                ctx.role
            ),
        ));
    }
    match statement {
        AdminStatement::CreateUser { name, mode, props } => {
            create_user(ctx, name, mode, &props).await
        }
        AdminStatement::AlterUser {
            name,
            if_exists,
            alter,
        } => {
            let Some(previous) = dir.user(name.as_str()).await? else {
                return if if_exists {
                    Ok(Answer::status("Statement executed successfully."))
                } else {
                    Err(missing("User", &name))
                };
            };
            may_manage(ctx, &previous)?;
            let mut user = previous.clone();
            let mut unlock = false;
            match &alter {
                Alter::Set(props) => {
                    let (locks, others): (Vec<Property>, Vec<Property>) = props
                        .iter()
                        .cloned()
                        .partition(|p| p.name == "MINS_TO_UNLOCK");
                    for p in &locks {
                        if text(&p.value).as_deref() != Some("0") {
                            return Err(invalid(
                                "MINS_TO_UNLOCK must be 0 (unlock now); locks last the configured time.",
                            ));
                        }
                        unlock = true;
                    }
                    set_user_props(ctx, &mut user, &others).await?
                }
                Alter::Unset(names) => unset_user_props(&mut user, names)?,
            }
            check_user(ctx, &user).await?;
            if user != previous && !dir.update_user(&user, &previous).await? {
                return Err(missing("User", &name));
            }
            if unlock {
                dir.unlock(&user).await?;
            }
            Ok(Answer::status("Statement executed successfully."))
        }
        AdminStatement::DropUser { name, if_exists } => match dir.user(name.as_str()).await? {
            Some(user) => {
                may_manage(ctx, &user)?;
                dir.delete_user(&user).await?;
                Ok(Answer::status(format!("{name} successfully dropped.")))
            }
            None if if_exists => Ok(Answer::status(format!(
                "Drop statement executed successfully ({name} already dropped)."
            ))),
            None => Err(missing("User", &name)),
        },
        AdminStatement::DescribeUser { name } => {
            let user = dir
                .user(name.as_str())
                .await?
                .ok_or_else(|| missing("User", &name))?;
            Ok(describe_user(&user))
        }
        AdminStatement::ShowUsers { like: pattern } => {
            let mut users = dir.users().await?;
            users.sort_by(|a, b| a.name.cmp(&b.name));
            let rows = users
                .iter()
                .filter(|u| like(&pattern, &u.name))
                .map(|u| {
                    vec![
                        Some(u.name.clone()),
                        Some(u.created_on.to_string()),
                        Some(u.effective_login()),
                        u.display_name.clone(),
                        u.email.clone(),
                        u.comment.clone(),
                        yes_no(u.disabled),
                        u.default_warehouse.clone(),
                        u.default_namespace.clone(),
                        u.default_role.clone(),
                        yes_no(u.password_hash.is_some()),
                        yes_no(u.rsa_public_key.is_some() || u.rsa_public_key_2.is_some()),
                        Some(u.user_type.as_str().to_string()),
                    ]
                })
                .collect();
            Ok(Answer::table(
                &[
                    "name",
                    "created_on",
                    "login_name",
                    "display_name",
                    "email",
                    "comment",
                    "disabled",
                    "default_warehouse",
                    "default_namespace",
                    "default_role",
                    "has_password",
                    "has_rsa_public_key",
                    "type",
                ],
                rows,
            ))
        }
        AdminStatement::CreateRole { name, mode, props } => {
            let mut role = Role {
                name: name.to_string(),
                comment: None,
                created_on: ctx.now,
                ..Role::default()
            };
            for prop in &props {
                match prop.name.as_str() {
                    "COMMENT" => role.comment = Some(string_value(prop)?),
                    other => return Err(invalid(format!("Invalid property '{other}' for ROLE."))),
                }
            }
            if SYSTEM_ROLES.contains(&name.as_str()) {
                return if mode.if_not_exists {
                    Ok(skipped("Role", &name))
                } else {
                    Err(exists(&name))
                };
            }
            if mode.if_not_exists && dir.role(name.as_str()).await?.is_some() {
                return Ok(skipped("Role", &name));
            }
            if !dir.put_role(&role, mode.or_replace).await? {
                return Err(exists(&name));
            }
            Ok(create_result("Role", &name))
        }
        AdminStatement::DropRole { name, if_exists } => {
            if SYSTEM_ROLES.contains(&name.as_str()) {
                return Err(Error::sql(
                    SqlErrorKind::InsufficientPrivileges,
                    format!("SQL access control error:\nSystem role '{name}' cannot be dropped."),
                ));
            }
            if !dir.delete_role(name.as_str()).await? {
                return if if_exists {
                    Ok(Answer::status(format!(
                        "Drop statement executed successfully ({name} already dropped)."
                    )))
                } else {
                    Err(missing("Role", &name))
                };
            }
            // Dropping a role revokes it from everyone.
            for previous in dir.users().await? {
                if previous.roles.contains(name.as_str()) {
                    let mut user = previous.clone();
                    user.roles.remove(name.as_str());
                    dir.update_user(&user, &previous).await?;
                }
            }
            Ok(Answer::status(format!("{name} successfully dropped.")))
        }
        AdminStatement::GrantRole { role, .. } | AdminStatement::RevokeRole { role, .. }
            if SYSTEM_ROLES.contains(&role.as_str())
                && role.as_str() != "PUBLIC"
                && !holds(ctx.role, role.as_str()) =>
        {
            Err(Error::sql(
                SqlErrorKind::InsufficientPrivileges,
                format!(
                    "SQL access control error:\nRole '{}' cannot grant or revoke the system role '{role}'.",
                    ctx.role
                ),
            ))
        }
        AdminStatement::GrantRole { role, user } => set_grant(ctx, role, user, true).await,
        AdminStatement::RevokeRole { role, user } => set_grant(ctx, role, user, false).await,
        AdminStatement::ShowRoles { like: pattern } => {
            let users = dir.users().await?;
            let rows = dir
                .roles()
                .await?
                .into_iter()
                .filter(|r| like(&pattern, &r.name))
                .map(|r| {
                    let assigned = users.iter().filter(|u| u.roles.contains(&r.name)).count();
                    vec![
                        Some(r.created_on.to_string()),
                        Some(r.name),
                        Some(assigned.to_string()),
                        r.comment,
                    ]
                })
                .collect();
            Ok(Answer::table(
                &["created_on", "name", "assigned_to_users", "comment"],
                rows,
            ))
        }
        AdminStatement::CreateNetworkPolicy { name, mode, props } => {
            let mut policy = NetworkPolicy {
                name: name.to_string(),
                created_on: ctx.now,
                ..NetworkPolicy::default()
            };
            set_policy_props(&mut policy, &props)?;
            if mode.if_not_exists && dir.policy(name.as_str()).await?.is_some() {
                return Ok(skipped("Network policy", &name));
            }
            if mode.or_replace
                && dir.account().await?.network_policy.as_deref() == Some(name.as_str())
                && !policy.admits(ctx.client_ip)
            {
                return Err(lockout(name.as_str(), ctx.client_ip));
            }
            if !dir.put_policy(&policy, mode.or_replace).await? {
                return Err(exists(&name));
            }
            Ok(create_result("Network policy", &name))
        }
        AdminStatement::AlterNetworkPolicy {
            name,
            if_exists,
            alter,
        } => {
            let Some(mut policy) = dir.policy(name.as_str()).await? else {
                return if if_exists {
                    Ok(Answer::status("Statement executed successfully."))
                } else {
                    Err(missing("Network policy", &name))
                };
            };
            match &alter {
                Alter::Set(props) => set_policy_props(&mut policy, props)?,
                Alter::Unset(names) => {
                    for n in names {
                        match n.as_str() {
                            "ALLOWED_IP_LIST" => policy.allowed_ip_list.clear(),
                            "BLOCKED_IP_LIST" => policy.blocked_ip_list.clear(),
                            "COMMENT" => policy.comment = None,
                            other => {
                                return Err(invalid(format!(
                                    "Invalid property '{other}' for NETWORK POLICY."
                                )));
                            }
                        }
                    }
                }
            }
            if dir.account().await?.network_policy.as_deref() == Some(name.as_str())
                && !policy.admits(ctx.client_ip)
            {
                return Err(lockout(name.as_str(), ctx.client_ip));
            }
            dir.put_policy(&policy, true).await?;
            Ok(Answer::status("Statement executed successfully."))
        }
        AdminStatement::DropNetworkPolicy { name, if_exists } => {
            if dir.policy(name.as_str()).await?.is_none() {
                return if if_exists {
                    Ok(Answer::status(format!(
                        "Drop statement executed successfully ({name} already dropped)."
                    )))
                } else {
                    Err(missing("Network policy", &name))
                };
            }
            let in_use = dir.account().await?.network_policy.as_deref() == Some(name.as_str())
                || dir
                    .users()
                    .await?
                    .iter()
                    .any(|u| u.network_policy.as_deref() == Some(name.as_str()));
            if in_use {
                return Err(invalid(format!(
                    "Cannot drop network policy '{name}': it is attached to the account or to a user."
                )));
            }
            dir.delete_policy(name.as_str()).await?;
            Ok(Answer::status(format!("{name} successfully dropped.")))
        }
        AdminStatement::DescribeNetworkPolicy { name } => {
            let policy = dir
                .policy(name.as_str())
                .await?
                .ok_or_else(|| missing("Network policy", &name))?;
            Ok(Answer::table(
                &["name", "value"],
                vec![
                    vec![
                        Some("ALLOWED_IP_LIST".into()),
                        Some(policy.allowed_ip_list.join(",")),
                    ],
                    vec![
                        Some("BLOCKED_IP_LIST".into()),
                        Some(policy.blocked_ip_list.join(",")),
                    ],
                ],
            ))
        }
        AdminStatement::ShowNetworkPolicies { like: pattern } => {
            let rows = dir
                .policies()
                .await?
                .into_iter()
                .filter(|p| like(&pattern, &p.name))
                .map(|p| {
                    vec![
                        Some(p.created_on.to_string()),
                        Some(p.name),
                        p.comment,
                        Some(p.allowed_ip_list.len().to_string()),
                        Some(p.blocked_ip_list.len().to_string()),
                    ]
                })
                .collect();
            Ok(Answer::table(
                &[
                    "created_on",
                    "name",
                    "comment",
                    "entries_in_allowed_ip_list",
                    "entries_in_blocked_ip_list",
                ],
                rows,
            ))
        }
        AdminStatement::AlterAccount { alter } => alter_account(ctx, alter).await,
    }
}

/// `GRANT ROLE role TO USER user` (`grant`) or `REVOKE ROLE role FROM USER user`.
async fn set_grant(
    ctx: &AdminContext<'_>,
    role: Identifier,
    name: Identifier,
    grant: bool,
) -> Result<Answer> {
    let dir = ctx.directory;
    if dir.role(role.as_str()).await?.is_none() {
        return Err(missing("Role", &role));
    }
    let previous = dir
        .user(name.as_str())
        .await?
        .ok_or_else(|| missing("User", &name))?;
    may_manage(ctx, &previous)?;
    let mut user = previous.clone();
    if grant {
        user.roles.insert(role.into_string());
    } else {
        user.roles.remove(role.as_str());
    }
    dir.update_user(&user, &previous).await?;
    Ok(Answer::status("Statement executed successfully."))
}

async fn create_user(
    ctx: &AdminContext<'_>,
    name: Identifier,
    mode: CreateMode,
    props: &[Property],
) -> Result<Answer> {
    let dir = ctx.directory;
    let mut user = User {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_string(),
        created_on: ctx.now,
        ..User::default()
    };
    set_user_props(ctx, &mut user, props).await?;
    let previous = dir.user(name.as_str()).await?;
    if previous.is_some() {
        if mode.if_not_exists {
            return Ok(skipped("User", &name));
        }
        if !mode.or_replace {
            return Err(exists(&name));
        }
    }
    if let Some(existing) = &previous {
        may_manage(ctx, existing)?;
    }
    check_user(ctx, &user).await?;
    if !dir
        .put_user(&user, previous.as_ref(), mode.or_replace)
        .await?
    {
        return Err(exists(&name));
    }
    Ok(create_result("User", &name))
}

fn set_policy_props(policy: &mut NetworkPolicy, props: &[Property]) -> Result<()> {
    for prop in props {
        match prop.name.as_str() {
            "ALLOWED_IP_LIST" | "BLOCKED_IP_LIST" => {
                let list = list_value(prop)?;
                for entry in &list {
                    NetworkPolicy::parse_entry(entry)
                        .map_err(|why| invalid(format!("Invalid {}: {why}.", prop.name)))?;
                }
                if prop.name == "ALLOWED_IP_LIST" {
                    policy.allowed_ip_list = list;
                } else {
                    policy.blocked_ip_list = list;
                }
            }
            "COMMENT" => policy.comment = Some(string_value(prop)?),
            other => {
                return Err(invalid(format!(
                    "Invalid property '{other}' for NETWORK POLICY."
                )));
            }
        }
    }
    Ok(())
}

async fn alter_account(ctx: &AdminContext<'_>, alter: Alter) -> Result<Answer> {
    let dir = ctx.directory;
    let mut account = dir.account().await?;
    match alter {
        Alter::Set(props) => {
            for prop in &props {
                if prop.name != "NETWORK_POLICY" {
                    return Err(Error::sql(
                        SqlErrorKind::Unsupported,
                        format!(
                            "Unsupported feature: ALTER ACCOUNT SET {} (only NETWORK_POLICY).",
                            prop.name
                        ),
                    ));
                }
                let name = name_value(prop)?;
                let policy = dir
                    .policy(&name)
                    .await?
                    .ok_or_else(|| invalid(format!("Network policy '{name}' does not exist.")))?;
                if !policy.admits(ctx.client_ip) {
                    return Err(lockout(&name, ctx.client_ip));
                }
                account.network_policy = Some(name);
            }
        }
        Alter::Unset(names) => {
            for n in &names {
                if n != "NETWORK_POLICY" {
                    return Err(Error::sql(
                        SqlErrorKind::Unsupported,
                        format!(
                            "Unsupported feature: ALTER ACCOUNT UNSET {n} (only NETWORK_POLICY)."
                        ),
                    ));
                }
            }
            account.network_policy = None;
        }
    }
    dir.set_account(&account).await?;
    Ok(Answer::status("Statement executed successfully."))
}

fn describe_user(u: &User) -> Answer {
    let key = |k: &Option<RsaKey>| opt(&k.as_ref().map(|k| k.der_base64.clone()));
    let fp = |k: &Option<RsaKey>| opt(&k.as_ref().map(|k| k.fingerprint.clone()));
    let rows: Vec<(&str, Option<String>)> = vec![
        ("NAME", Some(u.name.clone())),
        ("COMMENT", opt(&u.comment)),
        ("DISPLAY_NAME", opt(&u.display_name)),
        ("LOGIN_NAME", Some(u.effective_login())),
        ("EMAIL", opt(&u.email)),
        ("TYPE", Some(u.user_type.as_str().into())),
        ("DISABLED", yes_no(u.disabled)),
        ("DEFAULT_WAREHOUSE", opt(&u.default_warehouse)),
        ("DEFAULT_NAMESPACE", opt(&u.default_namespace)),
        ("DEFAULT_ROLE", opt(&u.default_role)),
        ("HAS_PASSWORD", yes_no(u.password_hash.is_some())),
        ("RSA_PUBLIC_KEY", key(&u.rsa_public_key)),
        ("RSA_PUBLIC_KEY_FP", fp(&u.rsa_public_key)),
        ("RSA_PUBLIC_KEY_2", key(&u.rsa_public_key_2)),
        ("RSA_PUBLIC_KEY_2_FP", fp(&u.rsa_public_key_2)),
        ("NETWORK_POLICY", opt(&u.network_policy)),
    ];
    Answer::table(
        &["property", "value", "default", "description"],
        rows.into_iter()
            .map(|(p, v)| vec![Some(p.to_string()), v, Some("null".into()), None])
            .collect(),
    )
}
