//! CREATE, ALTER and DROP USER.

use super::command::{CreateMode, UserCommand, UserProperty};
use super::{AdminContext, Answer, exists, invalid, may_manage, missing, owns, user_owner};
use crate::domain::directory::{User, UserType, hash_password};
use crate::domain::ident::Identifier;
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
    apply_all(ctx, &mut user, properties).await?;
    let previous = dir.user(name.as_str()).await?;
    if let Some(existing) = &previous {
        if mode.if_not_exists {
            return Ok(Answer::skipped("User", &name));
        }
        if !mode.or_replace {
            return Err(exists(&name));
        }
        may_change(ctx, existing)?;
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
    let Some(previous) = dir.user(name.as_str()).await? else {
        return match if_exists {
            true => Ok(Answer::done()),
            false => Err(missing("User", &name)),
        };
    };
    may_change(ctx, &previous)?;
    let mut user = previous.clone();
    apply_all(ctx, &mut user, properties).await?;
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
    match dir.user(name.as_str()).await? {
        Some(user) => {
            may_change(ctx, &user)?;
            dir.delete_user(&user).await?;
            Ok(Answer::dropped(&name))
        }
        None if if_exists => Ok(Answer::already_dropped(&name)),
        None => Err(missing("User", &name)),
    }
}

async fn apply_all(
    ctx: &AdminContext<'_>,
    user: &mut User,
    properties: Vec<UserProperty>,
) -> Result<()> {
    for property in properties {
        apply(ctx, user, property).await?;
    }
    Ok(())
}

/// Sets (`Some`) or unsets (`None`) one property.
async fn apply(ctx: &AdminContext<'_>, user: &mut User, property: UserProperty) -> Result<()> {
    let name = |i: Option<Identifier>| i.map(Identifier::into_string);
    match property {
        UserProperty::Type(t) => user.user_type = t.unwrap_or_default(),
        UserProperty::Password(p) => {
            user.password_hash = p.map(|p| hash_password(&p)).transpose()?
        }
        UserProperty::LoginName(l) => user.login_name = l,
        UserProperty::DefaultRole(r) => user.default_role = name(r),
        UserProperty::DefaultWarehouse(w) => user.default_warehouse = name(w),
        UserProperty::DefaultNamespace(n) => user.default_namespace = n,
        UserProperty::RsaPublicKey(k) => user.rsa_public_key = k,
        UserProperty::RsaPublicKey2(k) => user.rsa_public_key_2 = k,
        UserProperty::NetworkPolicy(p) => {
            if let Some(p) = &p
                && ctx.directory.policy(p.as_str()).await?.is_none()
            {
                return Err(invalid(format!("Network policy '{p}' does not exist.")));
            }
            user.network_policy = name(p)
        }
        UserProperty::Disabled(d) => user.disabled = d.unwrap_or(false),
        UserProperty::Comment(c) => user.comment = c,
        UserProperty::DisplayName(d) => user.display_name = d,
        UserProperty::Email(e) => user.email = e,
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
    let login = user.effective_login();
    if ctx.directory.login_taken(&login, &user.name).await? {
        return Err(invalid(format!("LOGIN_NAME '{login}' is already in use.")));
    }
    Ok(())
}
