//! `AUTHENTICATOR=SNOWFLAKE_JWT`: a JWT signed with one of the user's two RSA keys, named by its
//! fingerprint in `iss`. Every refusal is the same 390144; the reason goes to the log only.

use std::sync::Arc;

use secrecy::ExposeSecret;

use crate::domain::credentials::rsa_keys::{KeyCache, claimed_identity, signature_valid};
use crate::domain::directory::Directory;
use crate::domain::ident::account_name;
use crate::domain::login::authenticator::{Authenticator, LoginCx};
use crate::domain::login::checks::LoginChecks;
use crate::domain::login::verified::Verified;
use crate::error::{Error, Result};

pub struct KeyPairLogin {
    checks: Arc<LoginChecks>,
    directory: Directory,
    /// Parsed public keys, so each is parsed once per process (shared with the per-request
    /// verifier).
    keys: Arc<KeyCache>,
}

impl KeyPairLogin {
    pub fn new(checks: Arc<LoginChecks>, directory: Directory, keys: Arc<KeyCache>) -> Self {
        Self {
            checks,
            directory,
            keys,
        }
    }
}

fn refused(why: &str) -> Error {
    // The reason goes to the log only; the client always gets 390144.
    tracing::info!(reason = why, "key-pair login refused");
    Error::InvalidJwt
}

impl Authenticator for KeyPairLogin {
    async fn verify(&self, cx: &LoginCx<'_>) -> Result<Verified> {
        let (input, reads, now) = (cx.input, cx.reads, cx.now);
        let token = input.token.as_ref().ok_or_else(|| refused("no TOKEN"))?;
        let token = token.expose_secret();
        let id =
            claimed_identity(token, now).ok_or_else(|| refused("malformed claims or times"))?;
        if self.checks.account_for(Some(&id.account)).is_none() {
            return Err(refused("the JWT's account is not the one served"));
        }
        if input
            .account
            .as_deref()
            .is_some_and(|a| account_name(a) != id.account)
        {
            return Err(refused("account mismatch"));
        }
        if input
            .login_name
            .as_deref()
            .is_some_and(|l| !l.trim().eq_ignore_ascii_case(&id.user))
        {
            return Err(refused("LOGIN_NAME differs from the JWT subject"));
        }
        let user = self.directory.user_for_login(reads, &id.user).await?;
        self.checks
            .network_before_credential(user.as_ref(), reads, input.client_ip)
            .await?;
        let user = user.ok_or_else(|| refused("unknown user"))?;
        let key = user
            .key_with_fingerprint(&id.fingerprint)
            .ok_or_else(|| refused("no key with that fingerprint"))?;
        let fingerprint = key.fingerprint.clone();
        let key = self
            .keys
            .get(key)
            .ok_or_else(|| refused("stored key unusable"))?;
        if !signature_valid(token, &key) {
            return Err(refused("bad signature"));
        }
        self.checks
            .network_policy(Some(&user), reads, input.client_ip)
            .await?;
        Ok(Verified::by_key(user, id.account, fingerprint))
    }
}
