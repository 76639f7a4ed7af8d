//! ALTER USER … ADD | MODIFY | REMOVE WORKLOAD IDENTITY and SHOW USER WORKLOAD IDENTITY
//! AUTHENTICATION METHODS. Only service users have workload identities; changing them needs the
//! right to change the user (an administrator role that owns it).

use super::command::{WifAction, WifCommand, WifProperty};
use super::{
    AdminContext, Answer, exists, invalid, may_manage, missing, own_credential, owns, user_owner,
};
use crate::domain::credentials::workload_identity::{
    DEFAULT_NAME, MAX_IDENTITIES_PER_USER, Provider, WorkloadIdentity,
};
use crate::domain::directory::{User, UserType};
use crate::domain::ident::Identifier;
use crate::error::{Error, Result};

const KIND: &str = "Workload identity";

pub(super) async fn run(ctx: &AdminContext<'_>, command: WifCommand) -> Result<Answer> {
    let target = match &command.user {
        Some(user) => user.clone(),
        None => Identifier::from_parsed(ctx.user, true).ok_or(Error::SessionGone)?,
    };
    let Some(previous) = ctx.directory.user(target.as_ident()).await? else {
        return match command.if_exists && command.action != WifAction::Show {
            true => Ok(Answer::done()),
            false => Err(missing("User", &target)),
        };
    };
    may_manage(ctx, &previous)?;
    owns(ctx, "user", &previous.name, user_owner(&previous))?;
    if command.action == WifAction::Show {
        return Ok(show(&previous));
    }
    own_credential(ctx, &previous.name, "workload identities")?;
    let mut user = previous.clone();
    let answer = match command.action {
        WifAction::Show => return Ok(show(&previous)),
        WifAction::Add { name, provider } => {
            if user
                .workload_identities
                .iter()
                .any(|w| w.name == name.as_str())
            {
                return Err(exists(&name));
            }
            if user.user_type != UserType::Service {
                return Err(invalid(format!(
                    "User '{}' must be of TYPE = SERVICE to have a workload identity.",
                    user.name
                )));
            }
            add(ctx, &mut user, name.into_string(), provider)?;
            Answer::done()
        }
        WifAction::Modify {
            name,
            properties,
            rename,
        } => modify(&mut user, &name, properties, rename)?,
        WifAction::Remove { name } => {
            index(&user, &name)?;
            user.workload_identities.retain(|w| w.name != name.as_str());
            Answer::done()
        }
    };
    if user != previous {
        check_oidc_free(ctx, &user).await?;
        ctx.directory.update_user(&user, &previous).await?;
    }
    Ok(answer)
}

/// One OIDC identity (issuer and subject) belongs to one user: a login must name one user.
pub(super) async fn check_oidc_free(ctx: &AdminContext<'_>, user: &User) -> Result<()> {
    match ctx.directory.oidc_taken(user).await? {
        Some((issuer, subject)) => Err(invalid(format!(
            "The OIDC workload identity ISSUER = '{issuer}' SUBJECT = '{subject}' belongs to another user."
        ))),
        None => Ok(()),
    }
}

/// Adds an identity named `name` (its absence checked by the caller).
pub(super) fn add(
    ctx: &AdminContext<'_>,
    user: &mut User,
    name: String,
    provider: Provider,
) -> Result<()> {
    if user.workload_identities.len() >= MAX_IDENTITIES_PER_USER {
        return Err(invalid(format!(
            "User '{}' already has {MAX_IDENTITIES_PER_USER} workload identities, the most snowgate allows; remove one first.",
            user.name
        )));
    }
    user.workload_identities.push(WorkloadIdentity {
        name,
        provider,
        disabled: false,
        comment: None,
        created_on: ctx.now,
        last_used: 0,
    });
    Ok(())
}

/// `SET WORKLOAD_IDENTITY = (…)` (`Some`) or `UNSET WORKLOAD_IDENTITY` (`None`): the identity named
/// DEFAULT. Its TYPE cannot change: unset it first.
pub(super) fn set_default(
    ctx: &AdminContext<'_>,
    user: &mut User,
    provider: Option<Provider>,
) -> Result<()> {
    let current = user
        .workload_identities
        .iter()
        .position(|w| w.name == DEFAULT_NAME);
    match (current, provider) {
        (None, None) => Ok(()),
        (Some(i), None) => {
            user.workload_identities.remove(i);
            Ok(())
        }
        (None, Some(provider)) => add(ctx, user, DEFAULT_NAME.into(), provider),
        (Some(i), Some(provider)) => {
            let identity = &mut user.workload_identities[i];
            if identity.provider.type_name() != provider.type_name() {
                return Err(invalid(
                    "The TYPE of a workload identity cannot be changed; UNSET WORKLOAD_IDENTITY first.",
                ));
            }
            identity.provider = provider;
            Ok(())
        }
    }
}

fn index(user: &User, name: &Identifier) -> Result<usize> {
    user.workload_identities
        .iter()
        .position(|w| w.name == name.as_str())
        .ok_or_else(|| missing(KIND, name))
}

fn modify(
    user: &mut User,
    name: &Identifier,
    properties: Vec<WifProperty>,
    rename: Option<Identifier>,
) -> Result<Answer> {
    let i = index(user, name)?;
    if let Some(to) = rename {
        if user
            .workload_identities
            .iter()
            .any(|w| w.name == to.as_str())
        {
            return Err(exists(&to));
        }
        user.workload_identities[i].name = to.into_string();
    }
    let identity = &mut user.workload_identities[i];
    for property in properties {
        match property {
            WifProperty::Disabled(d) => identity.disabled = d.unwrap_or(false),
            WifProperty::Comment(c) => identity.comment = c,
        }
    }
    Ok(Answer::done())
}

const SHOW_COLUMNS: [&str; 6] = [
    "name",
    "type",
    "comment",
    "last_used",
    "created_on",
    "additional_info",
];

fn show(user: &User) -> Answer {
    let rows = user
        .workload_identities
        .iter()
        .map(|w| {
            vec![
                Some(w.name.clone()),
                Some(w.provider.type_name().to_string()),
                w.comment.clone(),
                (w.last_used > 0).then(|| w.last_used.to_string()),
                Some(w.created_on.to_string()),
                Some(w.provider.additional_info().to_string()),
            ]
        })
        .collect();
    Answer::table(&SHOW_COLUMNS, rows)
}
