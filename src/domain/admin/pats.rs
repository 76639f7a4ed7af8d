//! ALTER USER … ADD | MODIFY | ROTATE | REMOVE PROGRAMMATIC ACCESS TOKEN and SHOW USER PATS. A user
//! manages their own tokens in any role; another user's need the right to change that user (its
//! owner's role or one above it, and [`super::may_manage`]).

use secrecy::ExposeSecret;

use super::command::{PatAction, PatCommand, PatProperty};
use super::{
    AdminContext, Answer, denied, exists, invalid, missing, own_credential, self_service_target,
};
use crate::domain::credentials::pats::{self, DEFAULT_ROTATED_GRACE_HOURS, MAX_PATS_PER_USER, Pat};
use crate::domain::directory::{User, UserType};
use crate::domain::ident::Identifier;
use crate::domain::policy::{AuthenticationPolicy, NetworkPolicyEvaluation, PatPolicy};
use crate::error::Result;

const KIND: &str = "Programmatic access token";

pub(super) async fn run(ctx: &AdminContext<'_>, command: PatCommand) -> Result<Answer> {
    let if_exists = command.if_exists && command.action != PatAction::Show;
    let what = "programmatic access tokens";
    let Some(previous) = self_service_target(ctx, &command.user, if_exists, what).await? else {
        return Ok(Answer::done());
    };
    if command.action == PatAction::Show {
        return Ok(show(ctx, &previous));
    }
    // As Snowflake: a PAT cannot be used to create, modify, rotate or remove PATs, anyone's.
    if ctx.origin.by_pat {
        return Err(denied(
            "A session opened with a programmatic access token cannot add, modify, rotate or remove programmatic access tokens.".to_string(),
        ));
    }
    own_credential(ctx, &previous.name, what)?;
    let mut user = previous.clone();
    // Long-expired tokens, and old secrets of rotations past their grace, go at the next change.
    user.pats
        .retain(|p| p.is_listed(ctx.now) && !(p.rotated_to.is_some() && p.expires_at <= ctx.now));
    let answer = match command.action {
        PatAction::Add {
            name,
            if_not_exists,
            properties,
        } => add(ctx, &mut user, name, if_not_exists, properties).await?,
        PatAction::Modify {
            name,
            properties,
            rename,
        } => modify(ctx, &mut user, &name, properties, rename)?,
        PatAction::Rotate {
            name,
            expire_rotated_after_hours,
        } => rotate(ctx, &mut user, &name, expire_rotated_after_hours)?,
        PatAction::Remove { name } => {
            index(&user, &name)?;
            user.pats.retain(|p| p.name != name.as_str());
            Answer::done()
        }
        PatAction::Show => Answer::done(),
    };
    if user != previous {
        ctx.directory.update_user(&user, &previous).await?;
    }
    Ok(answer)
}

fn index(user: &User, name: &Identifier) -> Result<usize> {
    user.pats
        .iter()
        .position(|p| p.name == name.as_str())
        .ok_or_else(|| missing(KIND, name))
}

async fn pat_policy(ctx: &AdminContext<'_>, user: &User) -> Result<PatPolicy> {
    let account = ctx.directory.account().await?;
    let policy: AuthenticationPolicy = ctx.directory.effective_policy(Some(user), &account).await?;
    Ok(policy.pat_policy)
}

async fn add(
    ctx: &AdminContext<'_>,
    user: &mut User,
    name: Identifier,
    if_not_exists: bool,
    properties: Vec<PatProperty>,
) -> Result<Answer> {
    if user.pats.iter().any(|p| p.name == name.as_str()) {
        return match if_not_exists {
            true => Ok(Answer::skipped(KIND, &name)),
            false => Err(exists(&name)),
        };
    }
    let live = user.pats.iter().filter(|p| p.rotated_to.is_none()).count();
    if live >= MAX_PATS_PER_USER {
        return Err(invalid(format!(
            "User '{}' already has {MAX_PATS_PER_USER} programmatic access tokens, the most a user may have; remove one first.",
            user.name
        )));
    }
    let policy = pat_policy(ctx, user).await?;
    let mut pat = Pat {
        name: name.to_string(),
        created_on: ctx.now,
        created_by: ctx.role.to_string(),
        ..Pat::default()
    };
    let mut days = policy.default_expiry_in_days;
    for property in properties {
        match property {
            PatProperty::DaysToExpiry(d) => days = d,
            PatProperty::RoleRestriction(r) => pat.role_restriction = Some(r.into_string()),
            other => set(ctx, &mut pat, other)?,
        }
    }
    if days == 0 || days > policy.max_expiry_in_days {
        return Err(invalid(format!(
            "DAYS_TO_EXPIRY must be from 1 to {} (the authentication policy's MAX_EXPIRY_IN_DAYS).",
            policy.max_expiry_in_days
        )));
    }
    pat.expires_at = ctx.now.saturating_add(u64::from(days) * 86_400);
    check_role(user, &pat, &policy)?;
    check_network_requirement(ctx, user, &pat, &policy).await?;
    let (secret, digest) = pats::new_secret();
    pat.secret_sha256 = digest;
    user.pats.push(pat);
    Ok(Answer::table(
        &["token_name", "token_secret"],
        vec![vec![
            Some(name.into_string()),
            Some(secret.expose_secret().to_string()),
        ]],
    ))
}

/// The PAT policy's rules (a SERVICE user's token, and a person's if the policy says so, must be
/// held to a role; never to a blocked one); any restriction must be a role the user holds.
fn check_role(user: &User, pat: &Pat, policy: &PatPolicy) -> Result<()> {
    let restriction = pat.role_restriction.as_deref();
    if let Some(why) = policy.refusal(is_service(user), is_person(user), restriction) {
        return Err(invalid(format!("User '{}': {why}", user.name)));
    }
    match &pat.role_restriction {
        Some(role) if !user.effective_roles().contains(role) => Err(invalid(format!(
            "Role '{role}' in ROLE_RESTRICTION is not granted to user '{}'.",
            user.name
        ))),
        _ => Ok(()),
    }
}

/// TYPE = SERVICE or LEGACY_SERVICE, for the PAT policy's rule on service users (as Snowflake's
/// rule counts them).
fn is_service(user: &User) -> bool {
    matches!(user.user_type, UserType::Service | UserType::LegacyService)
}

/// TYPE = PERSON or NULL, for the PAT policy's rule on person users.
fn is_person(user: &User) -> bool {
    user.user_type == UserType::Person
}

/// Under ENFORCED_REQUIRED, a service user without a network policy cannot get a token (unless
/// the requirement is bypassed for a while).
async fn check_network_requirement(
    ctx: &AdminContext<'_>,
    user: &User,
    pat: &Pat,
    policy: &PatPolicy,
) -> Result<()> {
    let service = matches!(user.user_type, UserType::Service | UserType::LegacyService);
    if !service
        || policy.network_policy_evaluation != NetworkPolicyEvaluation::EnforcedRequired
        || pat.bypasses_network_requirement(ctx.now)
        || ctx
            .directory
            .network_policy_for(Some(user), &ctx.directory.account().await?)
            .await?
            .is_some()
    {
        return Ok(());
    }
    Err(invalid(format!(
        "Network policy is required: user '{}' (a service user) must be under a network policy to get a programmatic access token.",
        user.name
    )))
}

/// Sets (`Some`) or unsets (`None`) a property `MODIFY … SET|UNSET` may change.
fn set(ctx: &AdminContext<'_>, pat: &mut Pat, property: PatProperty) -> Result<()> {
    match property {
        PatProperty::Disabled(d) => pat.disabled = d.unwrap_or(false),
        PatProperty::Comment(c) => pat.comment = c,
        PatProperty::MinsToBypassNetworkPolicy(m) => {
            let minutes = m.unwrap_or(0);
            pat.mins_to_bypass_network_policy = minutes;
            pat.bypass_until = ctx.now.saturating_add(u64::from(minutes) * 60);
        }
        PatProperty::RoleRestriction(_) | PatProperty::DaysToExpiry(_) => {
            return Err(invalid(
                "ROLE_RESTRICTION and DAYS_TO_EXPIRY are set when the token is added.",
            ));
        }
    }
    Ok(())
}

fn modify(
    ctx: &AdminContext<'_>,
    user: &mut User,
    name: &Identifier,
    properties: Vec<PatProperty>,
    rename: Option<Identifier>,
) -> Result<Answer> {
    let i = index(user, name)?;
    if let Some(to) = rename {
        if user.pats.iter().any(|p| p.name == to.as_str()) {
            return Err(exists(&to));
        }
        for pat in &mut user.pats {
            if pat.rotated_to.as_deref() == Some(name.as_str()) {
                pat.rotated_to = Some(to.to_string());
            }
        }
        user.pats[i].name = to.into_string();
    }
    for property in properties {
        set(ctx, &mut user.pats[i], property)?;
    }
    Ok(Answer::done())
}

/// A new secret for the token; the old one becomes a token of its own, named after it, that works
/// for `hours` more (never past the token's own expiry).
fn rotate(
    ctx: &AdminContext<'_>,
    user: &mut User,
    name: &Identifier,
    hours: Option<u32>,
) -> Result<Answer> {
    let i = index(user, name)?;
    if let Some(to) = &user.pats[i].rotated_to {
        return Err(invalid(format!(
            "Token '{name}' is the old secret of a rotation of '{to}'; rotate '{to}' instead."
        )));
    }
    if user.pats.len() >= 2 * MAX_PATS_PER_USER {
        return Err(invalid(format!(
            "User '{}' has too many rotated programmatic access tokens still in their grace period; remove some first.",
            user.name
        )));
    }
    let hours = hours.unwrap_or(DEFAULT_ROTATED_GRACE_HOURS);
    let rotated_name = rotated_name(user, name);
    let current = &mut user.pats[i];
    let mut old = current.clone();
    old.name = rotated_name.clone();
    old.rotated_to = Some(current.name.clone());
    old.expires_at = old
        .expires_at
        .min(ctx.now.saturating_add(u64::from(hours) * 3_600));
    let lifetime = current.expires_at.saturating_sub(current.created_on);
    let (secret, digest) = pats::new_secret();
    current.secret_sha256 = digest;
    current.created_on = ctx.now;
    current.expires_at = ctx.now.saturating_add(lifetime);
    user.pats.push(old);
    Ok(Answer::table(
        &["token_name", "token_secret", "rotated_token_name"],
        vec![vec![
            Some(name.to_string()),
            Some(secret.expose_secret().to_string()),
            Some(rotated_name),
        ]],
    ))
}

/// `<NAME>_ROTATED_<n>`: the first free one, within Snowflake's 255 characters.
fn rotated_name(user: &User, name: &Identifier) -> String {
    let base: String = name.as_str().chars().take(200).collect();
    // At most 2 × 15 tokens exist, so one of the first 31 is free.
    (1..=2 * MAX_PATS_PER_USER + 1)
        .map(|n| format!("{base}_ROTATED_{n}"))
        .find(|candidate| !user.pats.iter().any(|p| &p.name == candidate))
        .unwrap_or(base)
}

const SHOW_COLUMNS: [&str; 10] = [
    "name",
    "user_name",
    "role_restriction",
    "expires_at",
    "status",
    "comment",
    "created_on",
    "created_by",
    "mins_to_bypass_network_policy_requirement",
    "rotated_to",
];

fn show(ctx: &AdminContext<'_>, user: &User) -> Answer {
    let rows = user
        .pats
        .iter()
        .filter(|p| p.is_listed(ctx.now))
        .map(|p| {
            vec![
                Some(p.name.clone()),
                Some(user.name.clone()),
                p.role_restriction.clone(),
                Some(p.expires_at.to_string()),
                Some(p.status(ctx.now).as_str().to_string()),
                p.comment.clone(),
                Some(p.created_on.to_string()),
                Some(p.created_by.clone()),
                Some(p.mins_to_bypass_network_policy.to_string()),
                p.rotated_to.clone(),
            ]
        })
        .collect();
    Answer::table(&SHOW_COLUMNS, rows)
}
