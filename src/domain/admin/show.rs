//! SHOW USERS / ROLES / NETWORK POLICIES and DESCRIBE USER / NETWORK POLICY.

use super::command::ShowCommand;
use super::{
    AdminContext, Answer, like, missing, owns, policy_owner, role_owner, security_admin, user_owner,
};
use crate::domain::directory::{RsaKey, SYSTEM_ROLES, User};
use crate::domain::ident::Identifier;
use crate::error::Result;

pub(super) async fn run(ctx: &AdminContext<'_>, command: ShowCommand) -> Result<Answer> {
    match command {
        ShowCommand::Users { like } => users(ctx, like).await,
        ShowCommand::Roles { like } => roles(ctx, like).await,
        ShowCommand::NetworkPolicies { like } => {
            // As Snowflake: network policies are SECURITYADMIN's (MANAGE GRANTS sees them all).
            security_admin(ctx)?;
            policies(ctx, like).await
        }
        ShowCommand::DescribeUser { name } => describe_user(ctx, name).await,
        ShowCommand::DescribeNetworkPolicy { name } => describe_policy(ctx, name).await,
    }
}

fn opt(s: &Option<String>) -> Option<String> {
    Some(s.clone().unwrap_or_else(|| "null".into()))
}

fn yes_no(b: bool) -> Option<String> {
    Some(b.to_string())
}

const USER_COLUMNS: [&str; 14] = [
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
    "owner",
];

fn user_row(u: &User) -> Vec<Option<String>> {
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
        Some(user_owner(u).to_string()),
    ]
}

async fn users(ctx: &AdminContext<'_>, pattern: Option<String>) -> Result<Answer> {
    let mut users = ctx.directory.users().await?;
    users.sort_by(|a, b| a.name.cmp(&b.name));
    let rows = users
        .iter()
        .filter(|u| like(&pattern, &u.name))
        .map(user_row)
        .collect();
    Ok(Answer::table(&USER_COLUMNS, rows))
}

async fn roles(ctx: &AdminContext<'_>, pattern: Option<String>) -> Result<Answer> {
    let dir = ctx.directory;
    let users = dir.users().await?;
    let rows = dir
        .roles()
        .await?
        .into_iter()
        .filter(|r| like(&pattern, &r.name))
        .map(|r| {
            let assigned = users.iter().filter(|u| u.roles.contains(&r.name)).count();
            // System roles are owned by no role.
            let owner = match SYSTEM_ROLES.contains(&r.name.as_str()) {
                true => String::new(),
                false => role_owner(&r).to_string(),
            };
            vec![
                Some(r.created_on.to_string()),
                Some(r.name),
                Some(assigned.to_string()),
                r.comment,
                Some(owner),
            ]
        })
        .collect();
    Ok(Answer::table(
        &[
            "created_on",
            "name",
            "assigned_to_users",
            "comment",
            "owner",
        ],
        rows,
    ))
}

async fn policies(ctx: &AdminContext<'_>, pattern: Option<String>) -> Result<Answer> {
    let rows = ctx
        .directory
        .policies()
        .await?
        .into_iter()
        .filter(|p| like(&pattern, &p.name))
        .map(|p| {
            let owner = policy_owner(&p).to_string();
            vec![
                Some(p.created_on.to_string()),
                Some(p.name),
                p.comment,
                Some(p.allowed_ip_list.len().to_string()),
                Some(p.blocked_ip_list.len().to_string()),
                Some(owner),
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
            "owner",
        ],
        rows,
    ))
}

async fn describe_user(ctx: &AdminContext<'_>, name: Identifier) -> Result<Answer> {
    let u = ctx
        .directory
        .user(name.as_ident())
        .await?
        .ok_or_else(|| missing("User", &name))?;
    // As Snowflake: users see their own properties; another user's need its owner or above.
    if u.name != ctx.user {
        owns(ctx, "user", &u.name, user_owner(&u))?;
    }
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
    Ok(Answer::table(
        &["property", "value", "default", "description"],
        rows.into_iter()
            .map(|(p, v)| vec![Some(p.to_string()), v, Some("null".into()), None])
            .collect(),
    ))
}

async fn describe_policy(ctx: &AdminContext<'_>, name: Identifier) -> Result<Answer> {
    let policy = ctx
        .directory
        .policy(name.as_ident())
        .await?
        .ok_or_else(|| missing("Network policy", &name))?;
    // As Snowflake: only the policy's owner or a role above it describes it.
    owns(ctx, "network policy", &policy.name, policy_owner(&policy))?;
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
