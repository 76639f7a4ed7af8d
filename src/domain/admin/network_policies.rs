//! CREATE, ALTER and DROP NETWORK POLICY.

use super::command::{CreateMode, IpEntry, PolicyCommand, PolicyProperty};
use super::{
    AdminContext, Answer, alter_absent, denied, drop_absent, exists, invalid, lockout, owns,
    policy_owner, unheld_system_role,
};
use crate::domain::directory::NetworkPolicy;
use crate::domain::ident::Identifier;
use crate::error::Result;

pub(super) async fn run(ctx: &AdminContext<'_>, command: PolicyCommand) -> Result<Answer> {
    match command {
        PolicyCommand::Create {
            name,
            mode,
            properties,
        } => create(ctx, name, mode, properties).await,
        PolicyCommand::Alter {
            name,
            if_exists,
            properties,
        } => alter(ctx, name, if_exists, properties).await,
        PolicyCommand::Drop { name, if_exists } => drop(ctx, name, if_exists).await,
    }
}

/// Changing a policy needs its owner's role; and a policy attached to a user guards that user's
/// logins, so changing it needs the right to manage the user too: SECURITYADMIN cannot open the
/// policy that protects an ACCOUNTADMIN.
async fn may_change(ctx: &AdminContext<'_>, policy: &NetworkPolicy) -> Result<()> {
    owns(ctx, "network policy", &policy.name, policy_owner(policy))?;
    for user in ctx.directory.users().await? {
        if user.network_policy.as_deref() != Some(policy.name.as_str()) {
            continue;
        }
        if let Some(role) = unheld_system_role(ctx, &user) {
            return Err(denied(format!(
                "Role '{}' cannot change network policy '{}': it guards user '{}', who holds role '{role}'.",
                ctx.role, policy.name, user.name
            )));
        }
    }
    Ok(())
}

/// The account's policy may never shut out the administrator changing it.
async fn keeps_caller_in(ctx: &AdminContext<'_>, policy: &NetworkPolicy) -> Result<()> {
    let active = ctx.directory.account().await?.network_policy;
    if active.as_deref() == Some(policy.name.as_str()) && !policy.admits(ctx.client_ip) {
        return Err(lockout(&policy.name, ctx.client_ip));
    }
    Ok(())
}

async fn create(
    ctx: &AdminContext<'_>,
    name: Identifier,
    mode: CreateMode,
    properties: Vec<PolicyProperty>,
) -> Result<Answer> {
    let dir = ctx.directory;
    let mut policy = NetworkPolicy {
        name: name.to_string(),
        created_on: ctx.now,
        owner: Some(ctx.role.to_string()),
        ..NetworkPolicy::default()
    };
    apply_all(&mut policy, properties);
    if let Some(existing) = dir.policy(name.as_ident()).await? {
        if mode.if_not_exists {
            return Ok(Answer::skipped("Network policy", &name));
        }
        if mode.or_replace {
            may_change(ctx, &existing).await?;
            keeps_caller_in(ctx, &policy).await?;
        }
    }
    if !dir.put_policy(&policy, mode.or_replace).await? {
        return Err(exists(&name));
    }
    Ok(Answer::created("Network policy", &name))
}

async fn alter(
    ctx: &AdminContext<'_>,
    name: Identifier,
    if_exists: bool,
    properties: Vec<PolicyProperty>,
) -> Result<Answer> {
    let dir = ctx.directory;
    let Some(mut policy) = dir.policy(name.as_ident()).await? else {
        return alter_absent("Network policy", &name, if_exists);
    };
    may_change(ctx, &policy).await?;
    apply_all(&mut policy, properties);
    keeps_caller_in(ctx, &policy).await?;
    dir.put_policy(&policy, true).await?;
    Ok(Answer::done())
}

async fn drop(ctx: &AdminContext<'_>, name: Identifier, if_exists: bool) -> Result<Answer> {
    let dir = ctx.directory;
    let Some(policy) = dir.policy(name.as_ident()).await? else {
        return drop_absent("Network policy", &name, if_exists);
    };
    may_change(ctx, &policy).await?;
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
    dir.delete_policy(name.as_ident()).await?;
    Ok(Answer::dropped(&name))
}

fn apply_all(policy: &mut NetworkPolicy, properties: Vec<PolicyProperty>) {
    let written = |list: Vec<IpEntry>| list.into_iter().map(|e| e.written).collect();
    for property in properties {
        match property {
            PolicyProperty::AllowedIpList(list) => policy.allowed_ip_list = written(list),
            PolicyProperty::BlockedIpList(list) => policy.blocked_ip_list = written(list),
            PolicyProperty::Comment(c) => policy.comment = c,
        }
    }
}
