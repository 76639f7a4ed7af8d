//! CREATE, ALTER and DROP USER.

use super::command::{CreateMode, UserCommand, UserProperty};
use super::{
    AdminContext, Answer, alter_absent, exists, invalid, may_manage, missing, own_credential, owns,
    user_owner,
};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::directory::{User, UserType};
use crate::domain::ident::Identifier;
use crate::domain::policy::PasswordPolicy;
use crate::domain::policy::password as password_rules;
use crate::error::Result;

pub(super) async fn run(ctx: &AdminContext<'_>, command: UserCommand) -> Result<Answer> {
    match command {
        UserCommand::Create {
            name,
            mode,
            properties,
        } => create(ctx, name, mode, properties).await,
        UserCommand::Alter {
            name,
            if_exists,
            properties,
            unlock,
        } => alter(ctx, name, if_exists, properties, unlock).await,
        UserCommand::Drop { name, if_exists } => drop(ctx, name, if_exists).await,
    }
}

/// ALTER, DROP and REPLACE of a user: its owner's role, and [`may_manage`].
fn may_change(ctx: &AdminContext<'_>, target: &User) -> Result<()> {
    may_manage(ctx, target)?;
    owns(ctx, "user", &target.name, user_owner(target))
}

async fn create(
    ctx: &AdminContext<'_>,
    name: Identifier,
    mode: CreateMode,
    properties: Vec<UserProperty>,
) -> Result<Answer> {
    let dir = ctx.directory;
    let mut user = User {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_string(),
        created_on: ctx.now,
        owner: Some(ctx.role.to_string()),
        ..User::default()
    };
    let password = apply_all(ctx, &mut user, properties).await?;
    let previous = dir.user(name.as_ident()).await?;
    if let Some(existing) = &previous {
        if mode.if_not_exists {
            return Ok(Answer::skipped("User", &name));
        }
        if !mode.or_replace {
            return Err(exists(&name));
        }
        may_change(ctx, existing)?;
        // Replaced, the user would start again with the credentials given here.
        own_credential(ctx, &existing.name, "user record (CREATE OR REPLACE USER)")?;
    }
    if let Some(password) = password {
        set_password(ctx, &mut user, password, true).await?;
    }
    check(ctx, &user).await?;
    if !dir.put_user(&user, previous.as_ref()).await? {
        return Err(exists(&name));
    }
    Ok(Answer::created("User", &name))
}

async fn alter(
    ctx: &AdminContext<'_>,
    name: Identifier,
    if_exists: bool,
    properties: Vec<UserProperty>,
    unlock: bool,
) -> Result<Answer> {
    let dir = ctx.directory;
    let Some(previous) = dir.user(name.as_ident()).await? else {
        return alter_absent("User", &name, if_exists);
    };
    may_change(ctx, &previous)?;
    if properties.iter().any(UserProperty::is_credential) {
        own_credential(ctx, &previous.name, "password, keys or workload identity")?;
    }
    let mut user = previous.clone();
    if let Some(password) = apply_all(ctx, &mut user, properties).await? {
        set_password(ctx, &mut user, password, false).await?;
    }
    check(ctx, &user).await?;
    // An unlock alone changes no property: nothing to write.
    if user != previous && !dir.update_user(&user, &previous).await? {
        return Err(missing("User", &name));
    }
    if unlock {
        dir.unlock(&user).await?;
    }
    Ok(Answer::done())
}

async fn drop(ctx: &AdminContext<'_>, name: Identifier, if_exists: bool) -> Result<Answer> {
    let dir = ctx.directory;
    match dir.user(name.as_ident()).await? {
        Some(user) => {
            may_change(ctx, &user)?;
            dir.delete_user(&user).await?;
            Ok(Answer::dropped(&name))
        }
        None if if_exists => Ok(Answer::already_dropped(&name)),
        None => Err(missing("User", &name)),
    }
}

/// Applies the properties; a new password is returned, to be checked and set once every other
/// property (a policy among them) is in place.
async fn apply_all(
    ctx: &AdminContext<'_>,
    user: &mut User,
    properties: Vec<UserProperty>,
) -> Result<Option<SecretString>> {
    let mut password = None;
    for property in properties {
        match property {
            UserProperty::Password(Some(p)) => password = Some(p),
            UserProperty::Password(None) => {
                password = None;
                user.password_hash = None;
            }
            other => apply(ctx, user, other).await?,
        }
    }
    Ok(password)
}

/// Checks a new password against the password policy that governs `user` (its own, else the
/// account's; none: no rules, as before policies existed), then sets it. Hashing and the
/// comparisons with old passwords run on the hashing threads.
async fn set_password(
    ctx: &AdminContext<'_>,
    user: &mut User,
    password: SecretString,
    creating: bool,
) -> Result<()> {
    let account = ctx.directory.account().await?;
    let policy = ctx
        .directory
        .attached_policy::<PasswordPolicy>(Some(user), &account)
        .await?;
    let keep = password_rules::previous_kept(policy.as_ref());
    if let Some(policy) = &policy {
        if let Some(rule) = password_rules::broken_rule(policy, password.expose_secret()) {
            return Err(invalid(rule));
        }
        // Administrators may change another user's password at any time.
        if !creating
            && ctx.user == user.name
            && let Some(why) = password_rules::too_soon(policy, user.password_set_at, ctx.now)
        {
            return Err(invalid(why));
        }
        if policy.password_history > 0 {
            let recent = user
                .password_hash
                .iter()
                .chain(user.password_history.iter().take(keep));
            for hash in recent {
                if ctx.hasher.verify(&password, Some(hash)).await? {
                    return Err(invalid(password_rules::reused(policy.password_history)));
                }
            }
        }
    }
    let hash = ctx.hasher.hash(&password).await?;
    let mut history = std::mem::take(&mut user.password_history);
    if let Some(old) = user.password_hash.replace(hash) {
        history.insert(0, old);
    }
    history.truncate(keep);
    user.password_history = history;
    user.password_set_at = ctx.now;
    Ok(())
}

/// Sets (`Some`) or unsets (`None`) one property; passwords are [`set_password`]'s.
async fn apply(ctx: &AdminContext<'_>, user: &mut User, property: UserProperty) -> Result<()> {
    let name = |i: Option<Identifier>| i.map(Identifier::into_string);
    match property {
        UserProperty::Type(t) => user.user_type = t.unwrap_or_default(),
        UserProperty::Password(_) => {}
        UserProperty::LoginName(l) => user.login_name = l,
        UserProperty::DefaultRole(r) => user.default_role = name(r),
        UserProperty::DefaultWarehouse(w) => user.default_warehouse = name(w),
        UserProperty::DefaultNamespace(n) => user.default_namespace = n,
        UserProperty::RsaPublicKey(k) => user.rsa_public_key = k,
        UserProperty::RsaPublicKey2(k) => user.rsa_public_key_2 = k,
        UserProperty::NetworkPolicy(p) => {
            if let Some(p) = &p
                && ctx.directory.policy(p.as_ident()).await?.is_none()
            {
                return Err(invalid(format!("Network policy '{p}' does not exist.")));
            }
            user.network_policy = name(p)
        }
        UserProperty::Disabled(d) => user.disabled = d.unwrap_or(false),
        UserProperty::Comment(c) => user.comment = c,
        UserProperty::DisplayName(d) => user.display_name = d,
        UserProperty::Email(e) => user.email = e,
        UserProperty::WorkloadIdentity(p) => {
            super::workload_identities::set_default(ctx, user, p)?;
        }
    }
    Ok(())
}

/// Rules that hold across properties, checked before anything is written.
async fn check(ctx: &AdminContext<'_>, user: &User) -> Result<()> {
    if user.user_type == UserType::Service && user.password_hash.is_some() {
        return Err(invalid(
            "A user of TYPE = SERVICE cannot have a PASSWORD; use key-pair authentication.",
        ));
    }
    if user.user_type != UserType::Service && !user.workload_identities.is_empty() {
        return Err(invalid(
            "Only a user of TYPE = SERVICE can have a workload identity.",
        ));
    }
    super::workload_identities::check_oidc_free(ctx, user).await?;
    let login = user.effective_login();
    if ctx.directory.login_taken(&login, &user.name).await? {
        return Err(invalid(format!("LOGIN_NAME '{login}' is already in use.")));
    }
    Ok(())
}
