//! The second factor of a password login: none when the user is not enrolled; else a valid cached
//! MFA token (where the account allows caching) or a fresh TOTP passcode, taken once.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::domain::credentials::totp as mfa;
use crate::domain::directory::{AccountSettings, Directory, User};
use crate::domain::ident::Ident;
use crate::domain::login::input::LoginInput;
use crate::domain::login::verified::SecondFactor;
use crate::domain::ports::secrets::SecretSource;
use crate::domain::ports::storage::Store;
use crate::error::{Error, Result};

/// Checks second factors; opens TOTP seeds with the secret's keyring.
pub struct SecondFactors {
    directory: Directory,
    secrets: Arc<dyn SecretSource>,
}

/// What the second-factor check decided.
pub struct Mfa {
    pub factor: Option<SecondFactor>,
    /// A new cached MFA token for the client, when it asked for one and may have it.
    pub token: Option<String>,
}

impl SecondFactors {
    pub fn new(store: Arc<dyn Store>, secrets: Arc<dyn SecretSource>) -> Self {
        Self {
            directory: Directory::new(store),
            secrets,
        }
    }

    /// The second factor of `user`, whose password was right (`passcode`: the TOTP code given, in
    /// the password or apart).
    pub async fn check(
        &self,
        user: &User,
        input: &LoginInput,
        settings: &AccountSettings,
        passcode: Option<&SecretString>,
        now: u64,
    ) -> Result<Mfa> {
        if user.mfa_totp.is_none() {
            return Ok(Mfa {
                factor: None,
                token: None,
            });
        }
        let caching = settings.allow_client_mfa_caching;
        if caching
            && passcode.is_none()
            && input
                .token
                .as_ref()
                .is_some_and(|t| mfa::token_valid(&user.mfa_tokens, t.expose_secret(), now))
        {
            return Ok(Mfa {
                factor: Some(SecondFactor::MfaToken),
                token: None,
            });
        }
        let Some(code) = passcode else {
            tracing::info!(user = ?user.name, "login refused: MFA passcode required");
            return Err(Error::MfaRequired);
        };
        let token = caching && input.mfa.wants_token;
        self.accept_passcode(user.clone(), code.expose_secret(), token, now)
            .await
    }

    /// Checks `code` against the user's seed and records its step (and a new MFA token when
    /// `token`) conditionally on the record read, so two instances never both take one code. A
    /// concurrent change of the record is read again once.
    async fn accept_passcode(
        &self,
        mut user: User,
        code: &str,
        token: bool,
        now: u64,
    ) -> Result<Mfa> {
        for retry in [false, true] {
            let secrets = self.secrets.current();
            let enrollment = user.mfa_totp.as_ref().ok_or(Error::InvalidPasscode)?;
            let Some(seed) = secrets
                .keyring
                .sealing_key_for(&enrollment.kid)
                .and_then(|k| k.open(enrollment, &user.id))
            else {
                tracing::warn!(user = ?user.name, "TOTP seed cannot be opened (sealed under a secret version no longer loaded): the user must enrol again");
                return Err(Error::InvalidPasscode);
            };
            let Some(step) = seed.matching_step(code, now, enrollment.last_step) else {
                tracing::info!(user = ?user.name, "login refused: wrong, stale or reused TOTP passcode");
                return Err(Error::InvalidPasscode);
            };
            // Sealed again under the current secret, so a rotation never strands an active user.
            let mut sealed = match enrollment.kid == secrets.keyring.current_kid() {
                true => enrollment.clone(),
                false => secrets
                    .keyring
                    .sealing_key()
                    .seal(&seed, &user.id, enrollment.created_on),
            };
            sealed.last_step = step;
            sealed.last_used = now;
            let mut updated = user.clone();
            updated.mfa_totp = Some(sealed);
            let secret = token.then(|| {
                let (secret, kept) = mfa::new_mfa_token(now);
                mfa::remember_token(&mut updated.mfa_tokens, kept, now);
                secret
            });
            match self.directory.update_user(&updated, &user).await {
                Ok(_) => {
                    return Ok(Mfa {
                        factor: Some(SecondFactor::Totp),
                        token: secret,
                    });
                }
                Err(Error::Conflict) if !retry => {
                    let id = user.id.clone();
                    user = self
                        .directory
                        .user(Ident::stored(&user.name))
                        .await?
                        .filter(|u| u.id == id)
                        .ok_or(Error::InvalidPasscode)?;
                }
                Err(Error::Conflict) => return Err(Error::InvalidPasscode),
                Err(e) => return Err(e),
            }
        }
        Err(Error::InvalidPasscode)
    }
}

/// The password to verify and the TOTP passcode of a login: appended to the password when the
/// driver says so, else PASSCODE.
pub fn passcode_of(
    input: &LoginInput,
    given: &SecretString,
) -> (SecretString, Option<SecretString>) {
    if input.mfa.in_password() {
        let (password, code) = mfa::split_passcode(given.expose_secret());
        return (
            SecretString::from(password.to_string()),
            code.map(|c| SecretString::from(c.to_string())),
        );
    }
    (given.clone(), input.mfa.passcode.clone())
}
