//! Running administrative commands against the directory, one module per object. Every command
//! validates all of its input before it writes anything, so an invalid value changes nothing; the
//! SQL front end has already checked what text alone can tell ([`command`]).

mod account;
pub mod command;
mod grants;
mod integrations;
mod kind_policies;
mod mfa;
mod network_policies;
mod pats;
mod roles;
mod show;
mod users;
mod workload_identities;

use std::net::IpAddr;

pub use command::AdminCommand;

use super::directory::{Directory, NetworkPolicy, Role, SYSTEM_ROLES, User};
use super::ident::Identifier;
use crate::error::{Error, Result, SqlErrorKind};

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

    fn done() -> Self {
        Self::status("Statement executed successfully.")
    }

    fn created(kind: &str, name: &Identifier) -> Self {
        Self::status(format!("{kind} {name} successfully created."))
    }

    fn skipped(kind: &str, name: &Identifier) -> Self {
        Self::status(format!(
            "{kind} {name} already exists, statement succeeded."
        ))
    }

    fn dropped(name: &Identifier) -> Self {
        Self::status(format!("{name} successfully dropped."))
    }

    fn already_dropped(name: &Identifier) -> Self {
        Self::status(format!(
            "Drop statement executed successfully ({name} already dropped)."
        ))
    }
}

pub struct AdminContext<'a> {
    pub directory: &'a Directory,
    pub client_ip: Option<IpAddr>,
    /// The administrator's session role: system roles it does not hold, it cannot grant or revoke.
    pub role: &'a str,
    /// The session's user: any role may manage its own programmatic access tokens, and changing
    /// one's own password is held to PASSWORD_MIN_AGE_DAYS.
    pub user: &'a str,
    pub now: u64,
    /// New passwords are hashed, and compared with the old ones, on the hashing threads.
    pub hasher: &'a super::credentials::passwords::PasswordHasher,
    /// The session's current database and schema: where a policy named without them is created.
    pub database: Option<&'a str>,
    pub schema: Option<&'a str>,
    /// Seals the TOTP seeds of new MFA enrolments.
    pub keyring: &'a crate::domain::session::tokens::Keyring,
    /// The session's account, named in the enrolment URI.
    pub account: &'a str,
    /// How the session was opened, which bounds what credentials it may make.
    pub origin: Origin<'a>,
}

/// How the administrator's session was opened, as far as credentials go.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin<'a> {
    /// The role the session is held to (a PAT's ROLE_RESTRICTION, an OAuth scope), if any.
    pub role_restriction: Option<&'a str>,
    /// The session was opened with a programmatic access token.
    pub by_pat: bool,
}

impl Origin<'_> {
    /// Narrower than its user: held to one role, or opened with a PAT (which may expire or be
    /// revoked). Such a session must not give its own user a credential, which would open a
    /// session beyond its role or outlive its token.
    fn is_narrow(&self) -> bool {
        self.role_restriction.is_some() || self.by_pat
    }
}

/// Runs one command; the caller has checked that the session's role is an administrator role.
pub async fn run(ctx: &AdminContext<'_>, command: AdminCommand) -> Result<Answer> {
    match command {
        AdminCommand::User(c) => users::run(ctx, c).await,
        AdminCommand::Role(c) => roles::run(ctx, c).await,
        AdminCommand::NetworkPolicy(c) => {
            security_admin(ctx)?;
            network_policies::run(ctx, c).await
        }
        AdminCommand::Grant(c) => grants::run(ctx, c).await,
        AdminCommand::Account(c) => {
            security_admin(ctx)?;
            // As Snowflake: account parameters are ACCOUNTADMIN's; the network policy,
            // SECURITYADMIN's too.
            if matches!(c, command::AccountCommand::AllowClientMfaCaching(_)) {
                account_admin(ctx)?;
            }
            account::run(ctx, c).await
        }
        AdminCommand::Show(c) => show::run(ctx, c).await,
        AdminCommand::Pat(c) => pats::run(ctx, c).await,
        AdminCommand::Mfa(c) => mfa::run(ctx, c).await,
        AdminCommand::Policy(c) => kind_policies::run(ctx, c).await,
        AdminCommand::AttachPolicy(c) => kind_policies::attach(ctx, c).await,
        AdminCommand::WorkloadIdentity(c) => workload_identities::run(ctx, c).await,
        AdminCommand::Integration(c) => integrations::run(ctx, c).await,
    }
}

/// Network policies guard the whole account: SECURITYADMIN and above, as in Snowflake.
fn security_admin(ctx: &AdminContext<'_>) -> Result<()> {
    if holds(ctx.role, "SECURITYADMIN") {
        return Ok(());
    }
    Err(Error::sql(
        SqlErrorKind::InsufficientPrivileges,
        format!(
            "SQL access control error:\nRole '{}' cannot manage network policies; use SECURITYADMIN or ACCOUNTADMIN.",
            ctx.role
        ),
    ))
}

/// Account parameters: ACCOUNTADMIN only, as in Snowflake.
fn account_admin(ctx: &AdminContext<'_>) -> Result<()> {
    if holds(ctx.role, "ACCOUNTADMIN") {
        return Ok(());
    }
    Err(denied(format!(
        "Role '{}' cannot set account parameters; use ACCOUNTADMIN.",
        ctx.role
    )))
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

/// ALTER of an object that is not there: nothing to do with IF EXISTS, else "does not exist".
fn alter_absent(kind: &str, name: &Identifier, if_exists: bool) -> Result<Answer> {
    match if_exists {
        true => Ok(Answer::done()),
        false => Err(missing(kind, name)),
    }
}

/// DROP of an object that is not there: "already dropped" with IF EXISTS, else "does not exist".
fn drop_absent(kind: &str, name: &Identifier, if_exists: bool) -> Result<Answer> {
    match if_exists {
        true => Ok(Answer::already_dropped(name)),
        false => Err(missing(kind, name)),
    }
}

fn exists(name: &Identifier) -> Error {
    Error::sql(
        SqlErrorKind::AlreadyExists,
        format!("SQL compilation error:\nObject '{name}' already exists."),
    )
}

fn denied(message: String) -> Error {
    Error::sql(
        SqlErrorKind::InsufficientPrivileges,
        format!("SQL access control error:\n{message}"),
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

/// A system role `target` holds and the administrator's role does not.
fn unheld_system_role(ctx: &AdminContext<'_>, target: &User) -> Option<String> {
    target
        .effective_roles()
        .into_iter()
        .find(|r| SYSTEM_ROLES.contains(&r.as_str()) && !holds(ctx.role, r))
}

/// An administrator may only manage users whose system roles its own role holds: USERADMIN cannot
/// take over an ACCOUNTADMIN by changing its password or key.
fn may_manage(ctx: &AdminContext<'_>, target: &User) -> Result<()> {
    match unheld_system_role(ctx, target) {
        None => Ok(()),
        Some(role) => Err(denied(format!(
            "Role '{}' cannot manage user '{}', who holds role '{role}'.",
            ctx.role, target.name
        ))),
    }
}

/// Refuses a change of `what` (a credential: password, key, PAT, MFA method, workload identity) to
/// the session's own user from a narrow session ([`Origin::is_narrow`]): a session held to a role
/// would otherwise mint a wider login, and a PAT's session one that outlives the PAT.
fn own_credential(ctx: &AdminContext<'_>, user: &str, what: &str) -> Result<()> {
    if user != ctx.user || !ctx.origin.is_narrow() {
        return Ok(());
    }
    let session = match ctx.origin.role_restriction {
        Some(role) => format!("held to role '{role}'"),
        None => "opened with a programmatic access token".to_string(),
    };
    Err(denied(format!(
        "A session {session} cannot change its own user's {what}; log in with the user's password or key to do it."
    )))
}

/// The user a self-service statement (PATs, MFA methods) is about: the one it names, else the
/// session's own. A user manages their own `what` in any role; another user's need the right to
/// change that user. `Ok(None)`: no such user, and `if_exists` was given.
async fn self_service_target(
    ctx: &AdminContext<'_>,
    named: &Option<Identifier>,
    if_exists: bool,
    what: &str,
) -> Result<Option<User>> {
    let target = match named {
        Some(user) => user.clone(),
        None => Identifier::from_parsed(ctx.user, true).ok_or(Error::SessionGone)?,
    };
    let about_self = named.as_ref().is_none_or(|u| u.as_str() == ctx.user);
    let Some(user) = ctx.directory.user(target.as_ident()).await? else {
        // Below USERADMIN, another user's name gets the same refusal whether it exists or not.
        if !about_self && !holds(ctx.role, "USERADMIN") {
            return Err(denied(format!(
                "Role '{}' cannot manage the {what} of user '{target}'.",
                ctx.role
            )));
        }
        return match if_exists {
            true => Ok(None),
            false => Err(missing("User", &target)),
        };
    };
    if !about_self {
        may_manage(ctx, &user)?;
        owns(ctx, "user", &user.name, user_owner(&user))?;
    }
    Ok(Some(user))
}

/// Owners of records written before ownership was kept: the lowest role that could create them
/// then, so every role that managed such a record before still does.
pub const LEGACY_USER_OWNER: &str = "USERADMIN";
pub const LEGACY_ROLE_OWNER: &str = "USERADMIN";
pub const LEGACY_POLICY_OWNER: &str = "SECURITYADMIN";

fn user_owner(user: &User) -> &str {
    user.owner.as_deref().unwrap_or(LEGACY_USER_OWNER)
}

fn role_owner(role: &Role) -> &str {
    role.owner.as_deref().unwrap_or(LEGACY_ROLE_OWNER)
}

fn policy_owner(policy: &NetworkPolicy) -> &str {
    policy.owner.as_deref().unwrap_or(LEGACY_POLICY_OWNER)
}

/// As Snowflake: ALTER, DROP and REPLACE need the owning role or one above it in the system
/// hierarchy (ACCOUNTADMIN > SECURITYADMIN > USERADMIN).
fn owns(ctx: &AdminContext<'_>, kind: &str, name: &str, owner: &str) -> Result<()> {
    if holds(ctx.role, owner) {
        return Ok(());
    }
    Err(denied(format!(
        "Insufficient privileges to operate on {kind} '{name}': it is owned by role '{owner}', which role '{}' does not hold.",
        ctx.role
    )))
}

/// `SHOW … LIKE`: case-insensitive, `%` any run of characters, `_` one character.
pub(crate) fn like(pattern: &Option<String>, name: &str) -> bool {
    match pattern {
        None => true,
        Some(p) => {
            let p: Vec<char> = p.chars().collect();
            let s: Vec<char> = name.chars().collect();
            like_match(&p, &s)
        }
    }
}

/// Wildcard matching without recursion: on a mismatch, resume after the last `%` seen, one
/// character further into the name. Each `%` restarts at most once per name position, so the work
/// is at most pattern length × name length.
fn like_match(p: &[char], s: &[char]) -> bool {
    let same = |a: char, b: char| a == '_' || a.to_lowercase().eq(b.to_lowercase());
    let (mut pi, mut si) = (0, 0);
    // After the last `%`: where the pattern resumes, and the name position it last resumed at.
    let mut resume: Option<(usize, usize)> = None;
    while si < s.len() {
        if p.get(pi) == Some(&'%') {
            pi += 1;
            resume = Some((pi, si));
        } else if p.get(pi).is_some_and(|&c| same(c, s[si])) {
            pi += 1;
            si += 1;
        } else if let Some((rp, rs)) = resume {
            pi = rp;
            si = rs + 1;
            resume = Some((rp, si));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '%')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, name: &str) -> bool {
        like(&Some(pattern.to_string()), name)
    }

    #[test]
    fn like_wildcards_and_case() {
        for (pattern, name, expected) in [
            ("svc%", "SVC_LOADER", true),
            ("%load%", "SVC_LOADER", true),
            (r"s_c\_%", "SVC_LOADER", false),
            ("S_C_%", "svc_loader", true),
            ("%", "", true),
            ("", "", true),
            ("_", "", false),
            ("a%b%c", "AXXBXXC", true),
            ("a%b%c", "AXXBXXCX", false),
            ("%%a%%", "BAB", true),
            ("ab", "ABC", false),
            ("abc", "AB", false),
        ] {
            assert_eq!(matches(pattern, name), expected, "{pattern} ~ {name}");
        }
    }

    #[test]
    fn like_is_linear_in_pattern_times_name() {
        // Exponential for a backtracking matcher; here 40 × 255 steps at most.
        let name = "A".repeat(255);
        assert!(!matches(&format!("{}!", "%".repeat(40)), &name));
        assert!(matches(&"%".repeat(100_000), &name));
        assert!(!matches(&format!("{}!", "%a".repeat(500)), &name));
    }
}
