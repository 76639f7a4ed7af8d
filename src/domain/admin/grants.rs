//! GRANT ROLE … TO USER and REVOKE ROLE … FROM USER.

use super::command::GrantCommand;
use super::{AdminContext, Answer, denied, holds, may_manage, missing, owns, role_owner};
use crate::domain::directory::SYSTEM_ROLES;
use crate::error::Result;

pub(super) async fn run(ctx: &AdminContext<'_>, command: GrantCommand) -> Result<Answer> {
    let GrantCommand { role, user, grant } = command;
    // A system role only by a role that holds it: USERADMIN cannot make anyone ACCOUNTADMIN.
    if SYSTEM_ROLES.contains(&role.as_str())
        && role.as_str() != "PUBLIC"
        && !holds(ctx.role, role.as_str())
    {
        return Err(denied(format!(
            "Role '{}' cannot grant or revoke the system role '{role}'.",
            ctx.role
        )));
    }
    let dir = ctx.directory;
    let Some(record) = dir.role(role.as_ident()).await? else {
        return Err(missing("Role", &role));
    };
    // Another role, as Snowflake: its owner's (OWNERSHIP), or SECURITYADMIN's and above (MANAGE
    // GRANTS). Otherwise USERADMIN would hand out, to a user it made, roles it was never given.
    if !SYSTEM_ROLES.contains(&role.as_str()) && !holds(ctx.role, "SECURITYADMIN") {
        owns(ctx, "role", &record.name, role_owner(&record))?;
    }
    let previous = dir
        .user(user.as_ident())
        .await?
        .ok_or_else(|| missing("User", &user))?;
    may_manage(ctx, &previous)?;
    let mut changed = previous.clone();
    if grant {
        changed.roles.insert(role.into_string());
    } else {
        changed.roles.remove(role.as_str());
    }
    dir.update_user(&changed, &previous).await?;
    Ok(Answer::done())
}
