//! `AUTHENTICATOR=PROGRAMMATIC_ACCESS_TOKEN`: the PAT is the TOKEN (or, from the Node driver, the
//! PASSWORD). Every refusal of the token is the same 394400, and counts toward the lock.

use std::sync::Arc;

use crate::domain::credentials::pats::{self, PatStatus};
use crate::domain::directory::Directory;
use crate::domain::login::authenticator::{Authenticator, LoginCx};
use crate::domain::login::checks::{LoginChecks, login_name};
use crate::domain::login::lockout::Lockout;
use crate::domain::login::verified::Verified;
use crate::domain::policy::NetworkPolicyEvaluation;
use crate::error::{Error, Result};

pub struct PatLogin {
    checks: Arc<LoginChecks>,
    lockout: Arc<Lockout>,
    directory: Directory,
}

impl PatLogin {
    pub fn new(checks: Arc<LoginChecks>, lockout: Arc<Lockout>, directory: Directory) -> Self {
        Self {
            checks,
            lockout,
            directory,
        }
    }
}

impl Authenticator for PatLogin {
    async fn verify(&self, cx: &LoginCx<'_>) -> Result<Verified> {
        let (input, reads, now) = (cx.input, cx.reads, cx.now);
        let Some(account) = self.checks.account_for(input.account.as_deref()) else {
            tracing::info!("PAT login refused: the account named is not the one served");
            return Err(Error::InvalidPat);
        };
        let login = login_name(input)?;
        let secret = input
            .token
            .as_ref()
            .or(input.password.as_ref())
            .ok_or(Error::InvalidPat)?;
        let user = self.directory.user_for_login(reads, login).await?;
        let policy = self.checks.pat_policy(user.as_ref(), reads).await?;
        let enforced = policy.network_policy_evaluation != NetworkPolicyEvaluation::NotEnforced;
        if enforced {
            self.checks
                .network_before_credential(user.as_ref(), reads, input.client_ip)
                .await?;
        }
        let (_, lock) = self.lockout.state(user.as_ref(), login, reads, now).await?;
        let found = user.as_ref().and_then(|u| {
            pats::find(&u.pats, secret)
                .filter(|p| p.status(now) == PatStatus::Active)
                .map(|p| (u, p))
        });
        let Some((user, pat)) = found else {
            tracing::info!("PAT login refused: no active token with that secret");
            self.lockout
                .count_failure(&lock, input, &[secret], now)
                .await?;
            return Err(Error::InvalidPat);
        };
        if enforced {
            self.checks
                .network_policy(Some(user), reads, input.client_ip)
                .await?;
        }
        // The policy read above is this user's: the token matched one of theirs.
        self.checks
            .pat_after_proof(user, pat, &policy, reads, now)
            .await?;
        self.lockout.clear(&lock).await?;
        Ok(Verified::by_pat(user.clone(), account, pat))
    }
}
