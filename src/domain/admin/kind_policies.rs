//! Authentication, password and session policies: CREATE, ALTER, DROP, SHOW, DESCRIBE, and
//! setting them on the account or a user. One generic mechanism over [`Governed`], which each
//! record type implements with what differs: its properties and how DESCRIBE shows them.

use super::command::{
    AttachPolicy, AuthSetting, CreateMode, KindPolicyAction, KindPolicyCommand, ObjectName,
    PolicyChange, PolicySetting, PolicyTarget, SessionSetting,
};
use super::{
    AdminContext, Answer, LEGACY_POLICY_OWNER, alter_absent, denied, drop_absent, exists, holds,
    invalid, like, may_manage, missing, owns, unheld_system_role,
};
use crate::domain::directory::{Directory, PolicyRecord};
use crate::domain::ident::{Ident, Identifier};
use crate::domain::policy::{
    AuthenticationPolicy, PASSWORD_FIELDS, PasswordPolicy, PatPolicy, PolicyKind, PolicyMeta,
    SessionPolicy, WorkloadIdentityPolicy,
};
use crate::error::Result;

/// One DESCRIBE row: property, value as Snowflake prints it, description.
type Row = (&'static str, String, &'static str);

/// A policy record the DDL manages.
pub(super) trait Governed: PolicyRecord + Clone + Send + Sync {
    /// `Authentication policy`, as messages name the kind.
    const LABEL: &'static str;
    /// SHOW's `kind` column.
    const SHOW_KIND: &'static str;
    fn meta(&self) -> PolicyMeta;
    fn set_meta(&mut self, meta: PolicyMeta);
    /// Applies one property (the parser gave only this kind's); `None` restores the default.
    fn apply(&mut self, setting: PolicySetting);
    fn rows(&self) -> Vec<Row>;
    /// What single properties cannot tell (a maximum below a minimum).
    fn inconsistency(&self) -> Option<String> {
        None
    }
}

/// The [`PolicyMeta`] every record holds in its `meta` field.
macro_rules! meta_fields {
    () => {
        fn meta(&self) -> PolicyMeta {
            self.meta.clone()
        }

        fn set_meta(&mut self, meta: PolicyMeta) {
            self.meta = meta;
        }
    };
}

/// `[A, B]`, as DESCRIBE prints lists.
fn list<T: AsRef<str>>(items: &[T]) -> String {
    let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("[{}]", items.join(", "))
}

/// `{K=V, …}`, as DESCRIBE prints objects.
fn object(pairs: &[(&str, String)]) -> String {
    let pairs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

/// A comment as DESCRIBE prints it: `null` when there is none.
fn comment(comment: &Option<String>) -> String {
    comment.clone().unwrap_or_else(|| "null".into())
}

/// One DESCRIBE row read from a record: the property, how to print its value, its description.
type Property<T> = (&'static str, fn(&T) -> String, &'static str);

fn rows_of<T>(record: &T, table: &[Property<T>]) -> Vec<Row> {
    table
        .iter()
        .map(|(name, value, description)| (*name, value(record), *description))
        .collect()
}

const AUTHENTICATION_PROPERTIES: &[Property<AuthenticationPolicy>] = &[
    (
        "AUTHENTICATION_METHODS",
        |p| {
            list(
                &p.authentication_methods
                    .iter()
                    .map(|m| m.policy_name())
                    .collect::<Vec<_>>(),
            )
        },
        "List of authentication methods that are allowed during login. This cannot be empty.",
    ),
    (
        "CLIENT_TYPES",
        |p| list(&p.client_types),
        "List of clients that can authenticate with Snowflake.",
    ),
    (
        "CLIENT_POLICY",
        client_policy,
        "Minimum versions of the clients that can authenticate with Snowflake.",
    ),
    (
        "SECURITY_INTEGRATIONS",
        |p| list(&p.security_integrations),
        "List of security integrations the authentication policy is associated with.",
    ),
    (
        "MFA_ENROLLMENT",
        |p| p.mfa_enrollment.as_str().to_string(),
        "Whether a user must enroll in multi-factor authentication.",
    ),
    (
        "MFA_POLICY",
        |_| "{ALLOWED_METHODS=[ALL], ENFORCE_MFA_ON_EXTERNAL_AUTHENTICATION=NONE}".into(),
        "Multi-factor authentication settings (not configurable in snowgate).",
    ),
    (
        "PAT_POLICY",
        |p| pat_policy(&p.pat_policy),
        "Programmatic access token settings.",
    ),
    (
        "WORKLOAD_IDENTITY_POLICY",
        |p| workload_identity_policy(&p.workload_identity_policy),
        "Workload identity federation settings.",
    ),
    (
        "COMMENT",
        |p| comment(&p.meta.comment),
        "Comment associated with authentication policy.",
    ),
];

const SESSION_PROPERTIES: &[Property<SessionPolicy>] = &[
    (
        "SESSION_IDLE_TIMEOUT_MINS",
        |p| p.session_idle_timeout_mins.to_string(),
        "Idle timeout of programmatic and client sessions, in minutes.",
    ),
    (
        "SESSION_UI_IDLE_TIMEOUT_MINS",
        |p| p.session_ui_idle_timeout_mins.to_string(),
        "Idle timeout of Snowsight sessions, in minutes.",
    ),
    (
        "ALLOWED_SECONDARY_ROLES",
        |p| list(&p.allowed_secondary_roles),
        "Secondary roles a user may activate.",
    ),
    (
        "BLOCKED_SECONDARY_ROLES",
        |p| list(&p.blocked_secondary_roles),
        "Secondary roles a user may not activate.",
    ),
    (
        "COMMENT",
        |p| comment(&p.meta.comment),
        "Comment associated with session policy.",
    ),
];

fn client_policy(p: &AuthenticationPolicy) -> String {
    let clients: Vec<(&str, String)> = p
        .client_policy
        .iter()
        .map(|(c, v)| (c.as_str(), object(&[("MINIMUM_VERSION", v.clone())])))
        .collect();
    object(&clients)
}

fn pat_policy(pat: &PatPolicy) -> String {
    object(&[
        (
            "DEFAULT_EXPIRY_IN_DAYS",
            pat.default_expiry_in_days.to_string(),
        ),
        ("MAX_EXPIRY_IN_DAYS", pat.max_expiry_in_days.to_string()),
        (
            "NETWORK_POLICY_EVALUATION",
            pat.network_policy_evaluation.as_str().into(),
        ),
        (
            "REQUIRE_ROLE_RESTRICTION_FOR_SERVICE_USERS",
            pat.require_role_restriction_for_service_users.to_string(),
        ),
        (
            "REQUIRE_ROLE_RESTRICTION_FOR_PERSON_USERS",
            pat.require_role_restriction_for_person_users.to_string(),
        ),
        ("BLOCKED_ROLES_LIST", list(&pat.blocked_roles_list)),
    ])
}

fn workload_identity_policy(wif: &WorkloadIdentityPolicy) -> String {
    object(&[
        ("ALLOWED_PROVIDERS", list(&wif.allowed_providers)),
        ("ALLOWED_AWS_ACCOUNTS", list(&wif.allowed_aws_accounts)),
        ("ALLOWED_AWS_PARTITIONS", list(&wif.allowed_aws_partitions)),
        ("ALLOWED_AZURE_ISSUERS", list(&wif.allowed_azure_issuers)),
        ("ALLOWED_OIDC_ISSUERS", list(&wif.allowed_oidc_issuers)),
    ])
}

/// `value`, or the default's when `None` (UNSET).
fn or_default<T>(value: Option<T>, default: impl FnOnce() -> T) -> T {
    value.unwrap_or_else(default)
}

impl Governed for AuthenticationPolicy {
    const LABEL: &'static str = "Authentication policy";
    const SHOW_KIND: &'static str = "AUTHENTICATION_POLICY";
    meta_fields!();

    fn apply(&mut self, setting: PolicySetting) {
        let d = AuthenticationPolicy::default();
        match setting {
            PolicySetting::Comment(c) => self.meta.comment = c,
            PolicySetting::Authentication(a) => match a {
                AuthSetting::Methods(v) => {
                    self.authentication_methods = or_default(v, || d.authentication_methods)
                }
                AuthSetting::MfaEnrollment(v) => {
                    self.mfa_enrollment = or_default(v, || d.mfa_enrollment)
                }
                AuthSetting::ClientTypes(v) => self.client_types = or_default(v, || d.client_types),
                AuthSetting::ClientPolicy(v) => {
                    self.client_policy = or_default(v, || d.client_policy)
                }
                AuthSetting::SecurityIntegrations(v) => {
                    self.security_integrations = or_default(v, || d.security_integrations)
                }
                AuthSetting::Pat(v) => self.pat_policy = or_default(v, || d.pat_policy),
                AuthSetting::WorkloadIdentity(v) => {
                    self.workload_identity_policy = or_default(v, || d.workload_identity_policy)
                }
            },
            PolicySetting::Password(..) | PolicySetting::Session(_) => {}
        }
    }

    fn rows(&self) -> Vec<Row> {
        rows_of(self, AUTHENTICATION_PROPERTIES)
    }

    fn inconsistency(&self) -> Option<String> {
        let pat = &self.pat_policy;
        (pat.default_expiry_in_days > pat.max_expiry_in_days).then(|| {
            "PAT_POLICY: DEFAULT_EXPIRY_IN_DAYS must not exceed MAX_EXPIRY_IN_DAYS.".to_string()
        })
    }
}

impl Governed for PasswordPolicy {
    const LABEL: &'static str = "Password policy";
    const SHOW_KIND: &'static str = "PASSWORD_POLICY";
    meta_fields!();

    fn apply(&mut self, setting: PolicySetting) {
        match setting {
            PolicySetting::Comment(c) => self.meta.comment = c,
            PolicySetting::Password(name, value) => {
                if let Some(field) = PASSWORD_FIELDS.iter().find(|f| f.name == name) {
                    let value = value.unwrap_or_else(|| (field.get)(&PasswordPolicy::default()));
                    (field.set)(self, value);
                }
            }
            PolicySetting::Authentication(_) | PolicySetting::Session(_) => {}
        }
    }

    fn rows(&self) -> Vec<Row> {
        let mut rows: Vec<Row> = PASSWORD_FIELDS
            .iter()
            .map(|f| (f.name, (f.get)(self).to_string(), f.description))
            .collect();
        rows.push((
            "COMMENT",
            comment(&self.meta.comment),
            "Comment associated with password policy.",
        ));
        rows
    }

    fn inconsistency(&self) -> Option<String> {
        PasswordPolicy::inconsistency(self)
    }
}

impl Governed for SessionPolicy {
    const LABEL: &'static str = "Session policy";
    const SHOW_KIND: &'static str = "SESSION_POLICY";
    meta_fields!();

    fn apply(&mut self, setting: PolicySetting) {
        let d = SessionPolicy::default();
        match setting {
            PolicySetting::Comment(c) => self.meta.comment = c,
            PolicySetting::Session(s) => match s {
                SessionSetting::IdleTimeoutMins(v) => {
                    self.session_idle_timeout_mins = or_default(v, || d.session_idle_timeout_mins)
                }
                SessionSetting::UiIdleTimeoutMins(v) => {
                    self.session_ui_idle_timeout_mins =
                        or_default(v, || d.session_ui_idle_timeout_mins)
                }
                SessionSetting::AllowedSecondaryRoles(v) => {
                    self.allowed_secondary_roles = or_default(v, || d.allowed_secondary_roles)
                }
                SessionSetting::BlockedSecondaryRoles(v) => {
                    self.blocked_secondary_roles = or_default(v, || d.blocked_secondary_roles)
                }
            },
            PolicySetting::Authentication(_) | PolicySetting::Password(..) => {}
        }
    }

    fn rows(&self) -> Vec<Row> {
        rows_of(self, SESSION_PROPERTIES)
    }
}

pub(super) async fn run(ctx: &AdminContext<'_>, command: KindPolicyCommand) -> Result<Answer> {
    security_admin(ctx, command.kind)?;
    match command.kind {
        PolicyKind::Authentication => run_kind::<AuthenticationPolicy>(ctx, command.action).await,
        PolicyKind::Password => run_kind::<PasswordPolicy>(ctx, command.action).await,
        PolicyKind::Session => run_kind::<SessionPolicy>(ctx, command.action).await,
    }
}

/// These policies guard the whole account's logins: SECURITYADMIN and above, as in Snowflake.
fn security_admin(ctx: &AdminContext<'_>, kind: PolicyKind) -> Result<()> {
    if holds(ctx.role, "SECURITYADMIN") {
        return Ok(());
    }
    Err(denied(format!(
        "Role '{}' cannot manage {}s; use SECURITYADMIN or ACCOUNTADMIN.",
        ctx.role,
        kind.label().to_lowercase()
    )))
}

async fn run_kind<T: Governed>(ctx: &AdminContext<'_>, action: KindPolicyAction) -> Result<Answer> {
    match action {
        KindPolicyAction::Create {
            name,
            mode,
            settings,
        } => create::<T>(ctx, name, mode, settings).await,
        KindPolicyAction::Alter {
            name,
            if_exists,
            change: PolicyChange::Settings(settings),
        } => alter::<T>(ctx, name, if_exists, settings).await,
        KindPolicyAction::Alter {
            name,
            if_exists,
            change: PolicyChange::Rename(to),
        } => rename::<T>(ctx, name, if_exists, to).await,
        KindPolicyAction::Drop { name, if_exists } => drop::<T>(ctx, name, if_exists).await,
        KindPolicyAction::Show { like } => show::<T>(ctx, like).await,
        KindPolicyAction::Describe { name } => describe::<T>(ctx, name).await,
    }
}

fn apply_all<T: Governed>(policy: &mut T, settings: Vec<PolicySetting>) -> Result<()> {
    for setting in settings {
        policy.apply(setting);
    }
    match policy.inconsistency() {
        Some(why) => Err(invalid(why)),
        None => Ok(()),
    }
}

/// Where and by whom a policy is attached: `the account` or `user 'U'`, first found.
async fn attached_to(dir: &Directory, kind: PolicyKind, name: &str) -> Result<Option<String>> {
    if dir.account().await?.policies.get(kind) == Some(name) {
        return Ok(Some("the account".into()));
    }
    Ok(dir
        .users()
        .await?
        .into_iter()
        .find(|u| u.policies.get(kind) == Some(name))
        .map(|u| format!("user '{}'", u.name)))
}

/// Changing a policy needs its owner's role; and a policy set on a user governs that user's logins,
/// so changing it needs the right to manage the user too (as for network policies).
async fn may_change<T: Governed>(ctx: &AdminContext<'_>, policy: &T) -> Result<()> {
    let meta = policy.meta();
    let owner = meta.owner.as_deref().unwrap_or(LEGACY_POLICY_OWNER);
    owns(ctx, &T::LABEL.to_lowercase(), &meta.name, owner)?;
    for user in ctx.directory.users().await? {
        if user.policies.get(T::KIND) != Some(meta.name.as_str()) {
            continue;
        }
        if let Some(role) = unheld_system_role(ctx, &user) {
            return Err(denied(format!(
                "Role '{}' cannot change {} '{}': it governs user '{}', who holds role '{role}'.",
                ctx.role,
                T::LABEL.to_lowercase(),
                meta.name,
                user.name
            )));
        }
    }
    Ok(())
}

/// The record's metadata for a new policy named `name`: the schema from the name, else the session's.
fn new_meta(ctx: &AdminContext<'_>, name: &ObjectName) -> PolicyMeta {
    let part = |given: &Option<Identifier>, current: Option<&str>| {
        given
            .as_ref()
            .map(|i| i.to_string())
            .or_else(|| current.map(str::to_string))
    };
    PolicyMeta {
        name: name.name.to_string(),
        owner: Some(ctx.role.to_string()),
        created_on: ctx.now,
        database_name: part(&name.database, ctx.database),
        schema_name: part(&name.schema, ctx.schema),
        comment: None,
    }
}

async fn create<T: Governed>(
    ctx: &AdminContext<'_>,
    name: ObjectName,
    mode: CreateMode,
    settings: Vec<PolicySetting>,
) -> Result<Answer> {
    let dir = ctx.directory;
    let mut policy = T::default();
    policy.set_meta(new_meta(ctx, &name));
    apply_all(&mut policy, settings)?;
    if let Some(existing) = dir.policy_record::<T>(name.name.as_ident()).await? {
        if mode.if_not_exists {
            return Ok(Answer::skipped(T::LABEL, &name.name));
        }
        if mode.or_replace {
            may_change(ctx, &existing).await?;
        }
    }
    if !dir.put_policy_record(&policy, mode.or_replace).await? {
        return Err(exists(&name.name));
    }
    Ok(Answer::created(T::LABEL, &name.name))
}

/// The policy named, or what a missing one answers: nothing with IF EXISTS, else an error.
async fn existing<T: Governed>(
    ctx: &AdminContext<'_>,
    name: &ObjectName,
    if_exists: bool,
) -> Result<std::result::Result<T, Answer>> {
    match ctx
        .directory
        .policy_record::<T>(name.name.as_ident())
        .await?
    {
        Some(policy) => Ok(Ok(policy)),
        None if if_exists => Ok(Err(Answer::done())),
        None => Err(missing(T::LABEL, &name.name)),
    }
}

async fn alter<T: Governed>(
    ctx: &AdminContext<'_>,
    name: ObjectName,
    if_exists: bool,
    settings: Vec<PolicySetting>,
) -> Result<Answer> {
    let mut policy = match existing::<T>(ctx, &name, if_exists).await? {
        Ok(p) => p,
        Err(answer) => return Ok(answer),
    };
    may_change(ctx, &policy).await?;
    apply_all(&mut policy, settings)?;
    ctx.directory.put_policy_record(&policy, false).await?;
    Ok(Answer::done())
}

/// Users and the account refer to policies by name, so an attached policy keeps its name.
async fn rename<T: Governed>(
    ctx: &AdminContext<'_>,
    name: ObjectName,
    if_exists: bool,
    to: ObjectName,
) -> Result<Answer> {
    let dir = ctx.directory;
    let policy = match existing::<T>(ctx, &name, if_exists).await? {
        Ok(p) => p,
        Err(answer) => return Ok(answer),
    };
    may_change(ctx, &policy).await?;
    if let Some(holder) = attached_to(dir, T::KIND, name.name.as_str()).await? {
        return Err(invalid(format!(
            "Cannot rename {} '{}': it is set on {holder}; unset it first.",
            T::LABEL.to_lowercase(),
            name.name
        )));
    }
    let mut renamed = policy.clone();
    let mut meta = policy.meta();
    meta.name = to.name.to_string();
    meta.database_name = to.database.map(|d| d.to_string()).or(meta.database_name);
    meta.schema_name = to.schema.map(|s| s.to_string()).or(meta.schema_name);
    renamed.set_meta(meta);
    renamed.set_version(0);
    if !dir.put_policy_record(&renamed, false).await? {
        return Err(exists(&to.name));
    }
    dir.delete_policy_record::<T>(name.name.as_ident()).await?;
    Ok(Answer::done())
}

async fn drop<T: Governed>(
    ctx: &AdminContext<'_>,
    name: ObjectName,
    if_exists: bool,
) -> Result<Answer> {
    let dir = ctx.directory;
    let Some(policy) = dir.policy_record::<T>(name.name.as_ident()).await? else {
        return drop_absent(T::LABEL, &name.name, if_exists);
    };
    may_change(ctx, &policy).await?;
    if let Some(holder) = attached_to(dir, T::KIND, name.name.as_str()).await? {
        return Err(invalid(format!(
            "Cannot drop {} '{}': it is set on {holder}; unset it first.",
            T::LABEL.to_lowercase(),
            name.name
        )));
    }
    dir.delete_policy_record::<T>(name.name.as_ident()).await?;
    Ok(Answer::dropped(&name.name))
}

const SHOW_COLUMNS: [&str; 8] = [
    "created_on",
    "name",
    "database_name",
    "schema_name",
    "kind",
    "owner",
    "comment",
    "options",
];

async fn show<T: Governed>(ctx: &AdminContext<'_>, pattern: Option<String>) -> Result<Answer> {
    let mut metas: Vec<PolicyMeta> = ctx
        .directory
        .policy_records::<T>()
        .await?
        .iter()
        .map(Governed::meta)
        .filter(|m| like(&pattern, &m.name))
        .collect();
    metas.sort_by(|a, b| a.name.cmp(&b.name));
    let rows = metas
        .into_iter()
        .map(|m| {
            vec![
                Some(m.created_on.to_string()),
                Some(m.name),
                m.database_name,
                m.schema_name,
                Some(T::SHOW_KIND.to_string()),
                Some(m.owner.unwrap_or_else(|| LEGACY_POLICY_OWNER.into())),
                Some(m.comment.unwrap_or_default()),
                Some(String::new()),
            ]
        })
        .collect();
    Ok(Answer::table(&SHOW_COLUMNS, rows))
}

async fn describe<T: Governed>(ctx: &AdminContext<'_>, name: ObjectName) -> Result<Answer> {
    let policy = ctx
        .directory
        .policy_record::<T>(name.name.as_ident())
        .await?
        .ok_or_else(|| missing(T::LABEL, &name.name))?;
    let defaults = T::default().rows();
    let rows = policy
        .rows()
        .into_iter()
        .zip(defaults)
        .map(|((property, value, description), (_, default, _))| {
            vec![
                Some(property.to_string()),
                Some(value),
                Some(default),
                Some(description.to_string()),
            ]
        })
        .collect();
    Ok(Answer::table(
        &["property", "value", "default", "description"],
        rows,
    ))
}

/// `ALTER ACCOUNT|USER … SET|UNSET … POLICY`.
pub(super) async fn attach(ctx: &AdminContext<'_>, command: AttachPolicy) -> Result<Answer> {
    security_admin(ctx, command.kind)?;
    let kind = command.kind;
    if let Some(name) = &command.policy
        && !policy_exists(ctx.directory, kind, name.name.as_ident()).await?
    {
        return Err(missing(&capitalised(kind), &name.name));
    }
    let policy = command.policy.map(|n| n.name.into_string());
    match command.target {
        PolicyTarget::Account => {
            let mut account = ctx.directory.account().await?;
            let current = account.policies.get(kind).map(str::to_string);
            refuse_second(kind, "The account", current, &policy, command.force)?;
            account.policies.set(kind, policy);
            ctx.directory.set_account(&account).await?;
        }
        PolicyTarget::User { name, if_exists } => {
            let Some(previous) = ctx.directory.user(name.as_ident()).await? else {
                return alter_absent("User", &name, if_exists);
            };
            may_manage(ctx, &previous)?;
            let current = previous.policies.get(kind).map(str::to_string);
            let holder = format!("User '{}'", previous.name);
            refuse_second(kind, &holder, current, &policy, command.force)?;
            let mut user = previous.clone();
            user.policies.set(kind, policy);
            ctx.directory.update_user(&user, &previous).await?;
        }
    }
    Ok(Answer::done())
}

/// `Authentication policy`, for messages.
fn capitalised(kind: PolicyKind) -> String {
    let label = kind.label().to_lowercase();
    let mut chars = label.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// As Snowflake: one policy of a kind per account or user; replacing it needs FORCE.
fn refuse_second(
    kind: PolicyKind,
    holder: &str,
    current: Option<String>,
    new: &Option<String>,
    force: bool,
) -> Result<()> {
    match (current, new) {
        (Some(current), Some(new)) if !force && current != *new => Err(invalid(format!(
            "{holder} already has {} '{current}' set; only one is allowed. Add FORCE to replace it with '{new}', or UNSET it first.",
            kind.label().to_lowercase()
        ))),
        _ => Ok(()),
    }
}

async fn policy_exists(dir: &Directory, kind: PolicyKind, name: Ident<'_>) -> Result<bool> {
    Ok(match kind {
        PolicyKind::Authentication => dir
            .policy_record::<AuthenticationPolicy>(name)
            .await?
            .is_some(),
        PolicyKind::Password => dir.policy_record::<PasswordPolicy>(name).await?.is_some(),
        PolicyKind::Session => dir.policy_record::<SessionPolicy>(name).await?.is_some(),
    })
}
