//! `ALTER USER … ADD | REMOVE MFA METHOD TOTP` and `SHOW MFA METHODS [FOR USER u]`. Like PATs, a user
//! manages their own in any role; another user's need the right to change that user. The
//! enrolment URI (with the seed) is shown once, in the answer of ADD, and never again.

use super::command::{MfaAction, MfaCommand};
use super::{AdminContext, Answer, invalid, missing, own_credential, self_service_target};
use crate::domain::credentials::totp::{METHOD_NAME, Seed};
use crate::domain::directory::User;
use crate::domain::ident::Identifier;
use crate::error::Result;

pub(super) async fn run(ctx: &AdminContext<'_>, command: MfaCommand) -> Result<Answer> {
    let if_exists = command.if_exists && command.action != MfaAction::Show;
    let what = "MFA methods";
    let Some(previous) = self_service_target(ctx, &command.user, if_exists, what).await? else {
        return Ok(Answer::done());
    };
    if command.action == MfaAction::Show {
        return Ok(show(&previous));
    }
    own_credential(ctx, &previous.name, what)?;
    let mut user = previous.clone();
    let answer = match command.action {
        MfaAction::Show => return Ok(show(&previous)),
        MfaAction::Add => add(ctx, &mut user)?,
        MfaAction::Remove => {
            if user.mfa_totp.take().is_none() {
                return Err(missing("MFA method", &method_name()));
            }
            // Cached MFA tokens stood for the removed factor.
            user.mfa_tokens.clear();
            Answer::done()
        }
    };
    ctx.directory.update_user(&user, &previous).await?;
    Ok(answer)
}

fn method_name() -> Identifier {
    Identifier::from_parsed(METHOD_NAME, true).unwrap_or_else(|| unreachable!())
}

fn add(ctx: &AdminContext<'_>, user: &mut User) -> Result<Answer> {
    if user.mfa_totp.is_some() {
        return Err(invalid(format!(
            "User '{}' is already enrolled in TOTP; remove the method first to enrol again.",
            user.name
        )));
    }
    let seed = Seed::random();
    user.mfa_totp = Some(ctx.keyring.sealing_key().seal(&seed, &user.id, ctx.now));
    Ok(Answer::table(
        &["name", "type", "otpauth_uri"],
        vec![vec![
            Some(METHOD_NAME.to_string()),
            Some("TOTP".to_string()),
            Some(seed.uri(ctx.account, &user.name)),
        ]],
    ))
}

const SHOW_COLUMNS: [&str; 5] = ["name", "type", "comment", "last_used", "created_on"];

fn show(user: &User) -> Answer {
    let rows = user
        .mfa_totp
        .iter()
        .map(|e| {
            vec![
                Some(METHOD_NAME.to_string()),
                Some("TOTP".to_string()),
                None,
                (e.last_used > 0).then(|| e.last_used.to_string()),
                Some(e.created_on.to_string()),
            ]
        })
        .collect();
    Answer::table(&SHOW_COLUMNS, rows)
}
