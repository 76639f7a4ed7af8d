//! What a login reads up front, in one batch and then a second for the policies that govern it
//! ([`Directory::login_reads`]), and [`PolicySource`], through which the policy checks take them.

use super::account::AccountSettings;
use super::users::{User, own_login};
use super::{Directory, PolicyRecord, decode_versioned};
use crate::domain::ident::{Ident, LoginName};
use crate::domain::policy::{AuthenticationPolicy, PasswordPolicy, PolicyKind, SessionPolicy};
use crate::domain::ports::storage::{
    CounterName, Failures, Found, NamedKind, ObjectKey, ObjectKind, Read, Versioned,
};
use crate::error::{Error, Result};

/// What a login read up front ([`Directory::login_reads`]).
#[derive(Debug, Default)]
pub struct LoginReads {
    pub account: AccountSettings,
    named: Option<NamedReads>,
    /// The policy records that govern the login, read in a second batch: (kind, name, record).
    policies: Vec<(ObjectKind, String, Option<Versioned>)>,
}

/// Where a policy check finds the account's settings, and the policy records a login read ahead:
/// a login's [`LoginReads`], or the bare settings (administration reads each policy it needs).
pub trait PolicySource: Sync {
    fn account(&self) -> &AccountSettings;

    /// The record under `key` when it was read ahead; `Some(None)`: read, and not there.
    fn read_ahead(&self, _key: ObjectKey<'_>) -> Option<Option<&Versioned>> {
        None
    }
}

impl PolicySource for AccountSettings {
    fn account(&self) -> &AccountSettings {
        self
    }
}

impl PolicySource for LoginReads {
    fn account(&self) -> &AccountSettings {
        &self.account
    }

    fn read_ahead(&self, key: ObjectKey<'_>) -> Option<Option<&Versioned>> {
        self.policies
            .iter()
            .find(|(kind, name, _)| *kind == key.kind() && name == key.name())
            .map(|(_, _, record)| record.as_ref())
    }
}

/// The policies that govern `user` (or an unknown name, `None`): for each kind, the user's own,
/// else the account's.
fn governing_policies(user: Option<&User>, account: &AccountSettings) -> Vec<(NamedKind, String)> {
    let attached = |kind: PolicyKind| {
        user.and_then(|u| u.policies.get(kind))
            .or_else(|| account.policies.get(kind))
            .map(str::to_string)
    };
    let own_network = user.and_then(|u| u.network_policy.clone());
    // A user's own network policy and the account's are both asked before the credential
    // (`Gatekeeper::check_network_before_credential`).
    let account_network = account
        .network_policy
        .clone()
        .filter(|a| own_network.as_ref().is_some_and(|own| own != a));
    let network = own_network.or_else(|| account.network_policy.clone());
    [
        (NamedKind::NetworkPolicy, network),
        (NamedKind::NetworkPolicy, account_network),
        (
            AuthenticationPolicy::OBJECT,
            attached(PolicyKind::Authentication),
        ),
        (PasswordPolicy::OBJECT, attached(PolicyKind::Password)),
        (SessionPolicy::OBJECT, attached(PolicyKind::Session)),
    ]
    .into_iter()
    .filter_map(|(kind, name)| name.map(|n| (kind, n)))
    .collect()
}

#[derive(Debug)]
struct NamedReads {
    login: LoginName,
    user: Option<Versioned>,
    alias: Option<Versioned>,
    failures: Failures,
}

impl LoginReads {
    /// The failures counted under `counter`, when they were read up front (those of the login
    /// name, which is also the counter of a user who logs in with their own name).
    pub fn failures_of(&self, counter: &CounterName) -> Option<Failures> {
        self.named
            .as_ref()
            .filter(|n| n.login.as_str() == counter.as_str())
            .map(|n| n.failures)
    }
}

impl Directory {
    /// [`Self::user_by_login`], answered from `reads` when the login read for this name.
    pub async fn user_for_login(&self, reads: &LoginReads, login: &str) -> Result<Option<User>> {
        let typed = LoginName::new(login);
        match &reads.named {
            Some(named) if named.login == typed => {
                if let Some(user) = own_login(named.user.as_ref(), &typed)? {
                    return Ok(Some(user));
                }
                self.user_by_alias(named.alias.as_ref(), &typed).await
            }
            _ => self.user_by_login(login).await,
        }
    }

    /// Everything a login reads before checking a credential, in one batch: the account's
    /// settings and, when the login names a user (`login`), that user, the login-name index entry
    /// for the name (for users whose LOGIN_NAME is not their name) and the failures counted under
    /// it. On DynamoDB, one round trip.
    pub async fn login_reads(&self, login: Option<&str>, now: u64) -> Result<LoginReads> {
        let login = login.map(LoginName::new);
        let counter = login.as_ref().map(CounterName::login);
        let mut reads = vec![Read::Object(ObjectKey::ACCOUNT)];
        if let (Some(name), Some(counter)) = (&login, &counter) {
            reads.extend([
                Read::Object(ObjectKey::user(name.as_own_name())),
                Read::Object(ObjectKey::login_name(name)),
                Read::Failures(counter),
            ]);
        }
        let mut found = self.store.read_many(&reads, now).await?.into_iter();
        let unexpected = || Error::Internal("batch read answered out of order".into());
        let account = match found.next() {
            Some(Found::Object(doc)) => doc.as_ref().map(decode_versioned).transpose()?,
            _ => return Err(unexpected()),
        };
        let named = match (login, found.next(), found.next(), found.next()) {
            (None, None, None, None) => None,
            (
                Some(login),
                Some(Found::Object(user)),
                Some(Found::Object(alias)),
                Some(Found::Failures(failures)),
            ) => Some(NamedReads {
                login,
                user,
                alias,
                failures,
            }),
            _ => return Err(unexpected()),
        };
        let account = account.unwrap_or_default();
        let policies = self
            .read_policies_ahead(named.as_ref(), &account, now)
            .await?;
        Ok(LoginReads {
            account,
            named,
            policies,
        })
    }

    /// The policy records that will govern the login, in a second batch, so that its network,
    /// password, authentication and session policy checks read nothing one by one: the named
    /// user's (when it logs in with its own name and so was in the first batch), else the
    /// account's. No read when none applies. A user found otherwise (a login-name alias) has its
    /// own policies read at their checks.
    async fn read_policies_ahead(
        &self,
        named: Option<&NamedReads>,
        account: &AccountSettings,
        now: u64,
    ) -> Result<Vec<(ObjectKind, String, Option<Versioned>)>> {
        // A record that does not decode is reported where the login reads the user.
        let user = named
            .and_then(|n| own_login(n.user.as_ref(), &n.login).ok())
            .flatten();
        let names = governing_policies(user.as_ref(), account);
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let reads: Vec<Read<'_>> = names
            .iter()
            .map(|(kind, name)| Read::Object(ObjectKey::named(*kind, Ident::stored(name))))
            .collect();
        let found = self.store.read_many(&reads, now).await?;
        if found.len() != names.len() {
            return Err(Error::Internal("batch read answered out of order".into()));
        }
        names
            .into_iter()
            .zip(found)
            .map(|((kind, name), found)| match found {
                Found::Object(record) => Ok((kind.into(), name, record)),
                _ => Err(Error::Internal("batch read answered out of order".into())),
            })
            .collect()
    }
}
