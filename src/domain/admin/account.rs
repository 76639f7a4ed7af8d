//! ALTER ACCOUNT SET / UNSET NETWORK_POLICY and ALLOW_CLIENT_MFA_CACHING.

use super::command::AccountCommand;
use super::{AdminContext, Answer, invalid, lockout};
use crate::error::Result;

pub(super) async fn run(ctx: &AdminContext<'_>, command: AccountCommand) -> Result<Answer> {
    let dir = ctx.directory;
    let mut account = dir.account().await?;
    match command {
        AccountCommand::NetworkPolicy(Some(name)) => {
            let policy = dir
                .policy(name.as_ident())
                .await?
                .ok_or_else(|| invalid(format!("Network policy '{name}' does not exist.")))?;
            // As Snowflake: the account's policy may never shut out the administrator who sets it.
            if !policy.admits(ctx.client_ip) {
                return Err(lockout(name.as_str(), ctx.client_ip));
            }
            account.network_policy = Some(name.into_string());
        }
        AccountCommand::NetworkPolicy(None) => account.network_policy = None,
        AccountCommand::AllowClientMfaCaching(allowed) => {
            account.allow_client_mfa_caching = allowed;
        }
    }
    dir.set_account(&account).await?;
    Ok(Answer::done())
}
