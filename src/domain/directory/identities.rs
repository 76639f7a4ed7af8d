//! The workload identity indexes, kept in step with the users who hold the identities: OIDC
//! (issuer and subject → the one user) and AWS (an identity → the users bound to it).

use std::collections::BTreeSet;

use super::users::User;
use super::{Directory, decode, encode};
use crate::domain::ident::Ident;
use crate::domain::ports::storage::{AwsIdentityKey, ObjectKey, OidcSubjectKey, StoreError, Write};
use crate::error::{Error, Result};

/// Users read for one AWS identity at a login that names no user. An identity more users hold
/// (one role bound to many users) needs LOGIN_NAME: no entry makes such a login read more.
pub const MAX_AWS_HOLDERS: usize = 16;

impl Directory {
    /// Keeps the OIDC index in step: entries of identities gone are removed, new ones written.
    pub(super) async fn reindex_oidc(&self, old: Option<&User>, new: Option<&User>) -> Result<()> {
        let keys = |u: Option<&User>| -> Vec<OidcSubjectKey> {
            u.map(|u| {
                u.workload_identities
                    .iter()
                    .filter_map(|w| w.provider.oidc_key())
                    .map(|(issuer, subject)| OidcSubjectKey::new(issuer, subject))
                    .collect()
            })
            .unwrap_or_default()
        };
        let (old_keys, new_keys) = (keys(old), keys(new));
        for key in old_keys.iter().filter(|k| !new_keys.contains(k)) {
            self.store
                .delete_object(ObjectKey::oidc_subject(key))
                .await?;
        }
        if let Some(user) = new {
            for key in new_keys.iter().filter(|k| !old_keys.contains(k)) {
                let doc = encode(&user.name)?;
                self.store
                    .put_object(ObjectKey::oidc_subject(key), &doc, Write::Replace)
                    .await?;
            }
        }
        Ok(())
    }

    /// Keeps the AWS index in step: the user's name is taken off the entries of AWS identities it
    /// no longer holds and put on those of new ones.
    pub(super) async fn reindex_aws(&self, old: Option<&User>, new: Option<&User>) -> Result<()> {
        let names = |u: Option<&User>| -> BTreeSet<String> {
            u.into_iter()
                .flat_map(|u| &u.workload_identities)
                .filter_map(|w| w.provider.aws_index_name())
                .collect()
        };
        let (old_names, new_names) = (names(old), names(new));
        if let Some(user) = old {
            for arn in old_names.difference(&new_names) {
                self.edit_aws_entry(&AwsIdentityKey::new(arn), &user.name, false)
                    .await?;
            }
        }
        if let Some(user) = new {
            for arn in new_names.difference(&old_names) {
                self.edit_aws_entry(&AwsIdentityKey::new(arn), &user.name, true)
                    .await?;
            }
        }
        Ok(())
    }

    /// Adds `user` to (or takes it off) one AWS index entry: a list of user names, written only at
    /// the version read, so two administrators binding one role to two users at once both land.
    /// An emptied entry stays, empty: deleting it could drop a name written meanwhile.
    async fn edit_aws_entry(&self, key: &AwsIdentityKey, user: &str, add: bool) -> Result<()> {
        const ATTEMPTS: usize = 5;
        for _ in 0..ATTEMPTS {
            let entry = self.store.get_object(ObjectKey::aws_identity(key)).await?;
            let (mut names, write) = match &entry {
                Some(e) => (decode::<Vec<String>>(&e.doc)?, Write::IfVersion(e.version)),
                None => (Vec::new(), Write::Create),
            };
            if names.iter().any(|n| n == user) == add {
                return Ok(());
            }
            match add {
                true => names.push(user.to_string()),
                false => names.retain(|n| n != user),
            }
            let doc = encode(&names)?;
            match self
                .store
                .put_object(ObjectKey::aws_identity(key), &doc, write)
                .await
            {
                Ok(_) => return Ok(()),
                Err(StoreError::Conflict | StoreError::AlreadyExists) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Conflict)
    }

    /// The users the AWS index lists for `index_name` (an `AwsArn::index_name`), as their records
    /// stand now (the index is a hint: the caller checks the identity on each); `None` when more
    /// than [`MAX_AWS_HOLDERS`] are listed.
    pub async fn users_by_aws(&self, index_name: &str) -> Result<Option<Vec<User>>> {
        let key = AwsIdentityKey::new(index_name);
        let entry = self.store.get_object(ObjectKey::aws_identity(&key)).await?;
        let Some(names) = entry.map(|e| decode::<Vec<String>>(&e.doc)).transpose()? else {
            return Ok(Some(Vec::new()));
        };
        if names.len() > MAX_AWS_HOLDERS {
            return Ok(None);
        }
        let mut users = Vec::new();
        for name in &names {
            if let Some(user) = self.user(Ident::stored(name)).await? {
                users.push(user);
            }
        }
        Ok(Some(users))
    }

    /// Indexes the AWS identities of users written before the AWS index existed: once per
    /// directory (the account's settings remember it), at start-up. Users written since are
    /// indexed as they are written; adding a name twice is a no-op, so two instances may race.
    pub async fn build_aws_index(&self) -> Result<()> {
        if self.account().await?.aws_index_built {
            return Ok(());
        }
        for user in self.users().await? {
            self.reindex_aws(None, Some(&user)).await?;
        }
        let mut account = self.account().await?;
        account.aws_index_built = true;
        self.set_account(&account).await
    }

    /// An OIDC identity of `user` that another user already holds (issuer, subject).
    pub async fn oidc_taken(&self, user: &User) -> Result<Option<(String, String)>> {
        for (issuer, subject) in user
            .workload_identities
            .iter()
            .filter_map(|w| w.provider.oidc_key())
        {
            if let Some(holder) = self.user_by_oidc(issuer, subject).await?
                && holder.name != user.name
            {
                return Ok(Some((issuer.to_string(), subject.to_string())));
            }
        }
        Ok(None)
    }

    /// The user with an OIDC workload identity for exactly `issuer` and `subject`.
    pub async fn user_by_oidc(&self, issuer: &str, subject: &str) -> Result<Option<User>> {
        let key = OidcSubjectKey::new(issuer, subject);
        let entry = self.store.get_object(ObjectKey::oidc_subject(&key)).await?;
        let Some(name) = entry.map(|e| decode::<String>(&e.doc)).transpose()? else {
            return Ok(None);
        };
        // The index is a hint: the user record must still hold the identity.
        Ok(self.user(Ident::stored(&name)).await?.filter(|u| {
            u.workload_identities
                .iter()
                .any(|w| w.provider.oidc_key() == Some((issuer, subject)))
        }))
    }
}
