//! GRANT ROLE … TO USER and REVOKE ROLE … FROM USER.

use super::command::GrantCommand;
use super::{AdminContext, Answer, denied, holds, may_manage, missing, owns, role_owner};
use crate::domain::directory::SYSTEM_ROLES;
use crate::error::Result;

pub(super) async fn run(ctx: &AdminContext<'_>, command: GrantCommand) -> Result<Answer> {
    let GrantCommand { role, user, grant } = command;
    // A system role only by a role that holds it: USERADMIN cannot make anyone ACCOUNTADMIN.
    let system = SYSTEM_ROLES.contains(&role.as_str());
    if system && role.as_str() != "PUBLIC" && !holds(ctx.role, role.as_str()) {
        return Err(denied(format!(
            "Role '{}' cannot grant or revoke the system role '{role}'.",
            ctx.role
        )));
    }
    let dir = ctx.directory;
    let found = dir
        .role(role.as_ident())
        .await?
        .ok_or_else(|| missing("Role", &role))?;
    // As Snowflake: granting or revoking a role needs its owner (or a role above it), or the
    // global MANAGE GRANTS privilege, which SECURITYADMIN (and so ACCOUNTADMIN) has. USERADMIN
    // may grant the roles it created, not one ACCOUNTADMIN or SECURITYADMIN created.
    if !system && !holds(ctx.role, "SECURITYADMIN") {
        owns(ctx, "role", &found.name, role_owner(&found))?;
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
