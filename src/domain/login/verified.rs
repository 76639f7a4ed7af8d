//! A login whose credential was proven, and the session context it opens with: what the login
//! methods (`login/mod.rs`, `login/oauth.rs`, `login/workload/`) hand to the gatekeeper, which opens
//! the session.

use crate::domain::credentials::pats::Pat;
use crate::domain::directory::User;
use crate::domain::ident::Identifier;
use crate::domain::login::input::LoginInput;
use crate::domain::policy::AuthMethod;
use crate::domain::session::{Credential, OAuthGrant, SessionContext};
use crate::error::{Error, Result};

/// A login whose credentials were checked: the user, the account, the method that succeeded (a PAT
/// given as a password is [`AuthMethod::ProgrammaticAccessToken`]) and, for a PAT with a
/// ROLE_RESTRICTION, the role the session is held to.
pub struct Verified {
    pub user: User,
    pub account: String,
    pub method: AuthMethod,
    pub role_restriction: Option<String>,
    /// The second factor a password login gave, if the user is enrolled in MFA.
    pub second_factor: Option<SecondFactor>,
    /// A new cached MFA token for the client.
    pub mfa_token: Option<String>,
    /// An External OAuth login's integration and access token expiry, kept on the session.
    pub oauth: Option<OAuthGrant>,
    /// The revocable credential that proved the login: the session ends when the user loses it.
    pub opened_by: Option<Credential>,
}

/// The second factor of an MFA login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    /// A TOTP passcode.
    Totp,
    /// A cached MFA token from an earlier TOTP login.
    MfaToken,
}

impl SecondFactor {
    pub fn as_str(self) -> &'static str {
        match self {
            SecondFactor::Totp => "TOTP",
            SecondFactor::MfaToken => "MFA_TOKEN",
        }
    }
}

impl Verified {
    pub(in crate::domain) fn by(user: User, account: String, method: AuthMethod) -> Self {
        Self {
            user,
            account,
            method,
            role_restriction: None,
            second_factor: None,
            mfa_token: None,
            oauth: None,
            opened_by: None,
        }
    }

    pub(in crate::domain) fn by_pat(user: User, account: String, pat: &Pat) -> Self {
        Self {
            role_restriction: pat.role_restriction.clone(),
            opened_by: Some(Credential::Pat {
                name: pat.name.clone(),
                digest: pat.secret_sha256.clone(),
            }),
            ..Self::by(user, account, AuthMethod::ProgrammaticAccessToken)
        }
    }

    /// A key-pair login, with the key (by its fingerprint) that signed it.
    pub(in crate::domain) fn by_key(user: User, account: String, fingerprint: String) -> Self {
        Self {
            opened_by: Some(Credential::KeyPair { fingerprint }),
            ..Self::by(user, account, AuthMethod::Keypair)
        }
    }
}

/// The session context at login: what the driver asked for, else the user's defaults. The role must
/// be granted (390189 otherwise); without one, the default role if still granted, else PUBLIC.
pub(in crate::domain) fn initial_context(
    user: &User,
    input: &LoginInput,
) -> Result<SessionContext> {
    let granted = user.effective_roles();
    let role = match normalise(&input.role) {
        Some(role) if granted.contains(&role) => role,
        Some(role) => return Err(Error::RoleNotGranted(role)),
        None => user
            .default_role
            .clone()
            .filter(|r| granted.contains(r))
            .unwrap_or_else(|| "PUBLIC".to_string()),
    };
    let (default_db, default_schema) = match user.default_namespace.as_deref() {
        Some(ns) => match ns.split_once('.') {
            Some((db, schema)) => (Some(db.to_string()), Some(schema.to_string())),
            None => (Some(ns.to_string()), None),
        },
        None => (None, None),
    };
    let database = normalise(&input.database).or(default_db);
    let schema = normalise(&input.schema)
        .or(default_schema)
        .or_else(|| database.as_ref().map(|_| "PUBLIC".to_string()));
    Ok(SessionContext {
        database,
        schema,
        warehouse: normalise(&input.warehouse).or_else(|| user.default_warehouse.clone()),
        role: Some(role),
        parameters: Default::default(),
    })
}

/// A PAT with a ROLE_RESTRICTION holds the session to that role: another role asked for is
/// refused, and the restriction must still be granted.
pub(in crate::domain) fn restrict_role(
    user: &User,
    input: &LoginInput,
    context: &mut SessionContext,
    restriction: Option<&str>,
) -> Result<()> {
    let Some(only) = restriction else {
        return Ok(());
    };
    if let Some(asked) = normalise(&input.role)
        && asked != only
    {
        return Err(Error::RoleNotGranted(asked));
    }
    if !user.effective_roles().contains(only) {
        return Err(Error::RoleNotGranted(only.to_string()));
    }
    context.role = Some(only.to_string());
    Ok(())
}

fn normalise(raw: &Option<String>) -> Option<String> {
    raw.as_deref()
        .and_then(Identifier::from_user_input)
        .map(Identifier::into_string)
}
