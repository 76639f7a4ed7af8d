//! CREATE and DROP ROLE.

use super::command::{CreateMode, RoleCommand};
use super::{AdminContext, Answer, denied, drop_absent, exists, owns, role_owner};
use crate::domain::directory::{Role, SYSTEM_ROLES};
use crate::domain::ident::Identifier;
use crate::error::Result;

pub(super) async fn run(ctx: &AdminContext<'_>, command: RoleCommand) -> Result<Answer> {
    match command {
        RoleCommand::Create {
            name,
            mode,
            comment,
        } => create(ctx, name, mode, comment).await,
        RoleCommand::Drop { name, if_exists } => drop(ctx, name, if_exists).await,
    }
}

async fn create(
    ctx: &AdminContext<'_>,
    name: Identifier,
    mode: CreateMode,
    comment: Option<String>,
) -> Result<Answer> {
    let dir = ctx.directory;
    if SYSTEM_ROLES.contains(&name.as_str()) {
        return match mode.if_not_exists {
            true => Ok(Answer::skipped("Role", &name)),
            false => Err(exists(&name)),
        };
    }
    if let Some(existing) = dir.role(name.as_ident()).await? {
        if mode.if_not_exists {
            return Ok(Answer::skipped("Role", &name));
        }
        if mode.or_replace {
            owns(ctx, "role", &existing.name, role_owner(&existing))?;
        }
    }
    let role = Role {
        name: name.to_string(),
        comment,
        created_on: ctx.now,
        owner: Some(ctx.role.to_string()),
        ..Role::default()
    };
    if !dir.put_role(&role, mode.or_replace).await? {
        return Err(exists(&name));
    }
    Ok(Answer::created("Role", &name))
}

async fn drop(ctx: &AdminContext<'_>, name: Identifier, if_exists: bool) -> Result<Answer> {
    let dir = ctx.directory;
    if SYSTEM_ROLES.contains(&name.as_str()) {
        return Err(denied(format!("System role '{name}' cannot be dropped.")));
    }
    if let Some(existing) = dir.role(name.as_ident()).await? {
        owns(ctx, "role", &existing.name, role_owner(&existing))?;
    }
    if !dir.delete_role(name.as_ident()).await? {
        return drop_absent("Role", &name, if_exists);
    }
    // Dropping a role revokes it from everyone.
    for previous in dir.users().await? {
        if previous.roles.contains(name.as_str()) {
            let mut user = previous.clone();
            user.roles.remove(name.as_str());
            dir.update_user(&user, &previous).await?;
        }
    }
    Ok(Answer::dropped(&name))
}
