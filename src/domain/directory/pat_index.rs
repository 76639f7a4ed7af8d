//! The PAT index: the digest of a token's secret → the user holding it, kept in step with the user
//! records, so that a request presenting a bare PAT (forward-auth, the SQL API), which names no user,
//! reads one entry and one user. The index is a hint: the caller checks that the user record it
//! points to holds an active token with that digest, so a stale entry (a token removed, a user
//! dropped, a write that failed half-way) refuses nothing and admits nothing.

use super::users::User;
use super::{Directory, decode, encode};
use crate::domain::credentials::pats;
use crate::domain::ident::Ident;
use crate::domain::ports::storage::{ObjectKey, PatOwnerKey, Write};
use crate::error::Result;

fn keys(user: Option<&User>) -> Vec<PatOwnerKey> {
    user.into_iter()
        .flat_map(|u| &u.pats)
        .map(|p| PatOwnerKey::from_digest(&p.secret_sha256))
        .collect()
}

impl Directory {
    /// Keeps the PAT index in step with a user written over `old`: entries of tokens the user no
    /// longer holds are removed, new ones written. A user dropped keeps its entries (a rename drops
    /// the old name after writing the new one; the records, not the index, decide).
    pub(super) async fn reindex_pats(&self, old: Option<&User>, new: Option<&User>) -> Result<()> {
        let Some(user) = new else {
            return Ok(());
        };
        let renamed = old.is_none_or(|o| o.name != user.name);
        let (old_keys, new_keys) = (keys(old), keys(new));
        if !renamed {
            for key in old_keys.iter().filter(|k| !new_keys.contains(k)) {
                self.store.delete_object(ObjectKey::pat_owner(key)).await?;
            }
        }
        let doc = encode(&user.name)?;
        for key in new_keys.iter().filter(|k| renamed || !old_keys.contains(k)) {
            self.store
                .put_object(ObjectKey::pat_owner(key), &doc, Write::Replace)
                .await?;
        }
        Ok(())
    }

    /// The user the PAT index names for `secret`, if that user's record still lists a token with
    /// its digest (whatever the token's status: the caller checks it).
    pub async fn user_by_pat(&self, secret: &str) -> Result<Option<User>> {
        let digest = pats::digest(secret);
        let key = PatOwnerKey::from_digest(&digest);
        let entry = self.store.get_object(ObjectKey::pat_owner(&key)).await?;
        let Some(name) = entry.map(|e| decode::<String>(&e.doc)).transpose()? else {
            return Ok(None);
        };
        Ok(self
            .user(Ident::stored(&name))
            .await?
            .filter(|u| u.pats.iter().any(|p| p.secret_sha256 == digest)))
    }
}
