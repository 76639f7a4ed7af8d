//! The demo user of the configuration (`SecretMaterial::demo_user` with its password): seeded once
//! per store, not at every start. The account's document remembers the name and the configured
//! password it was seeded with ([`DemoSeed`]); while they are unchanged nothing is written, so an
//! `ALTER USER … SET PASSWORD` or a `DROP USER` of the demo user sticks across restarts. A changed
//! configured password (a rotated secret) is set on the user once, if the user still exists; a new
//! demo user name is seeded as a new user.

use std::sync::Arc;

use super::{DemoSeed, Directory, User};
use crate::domain::credentials::passwords::PasswordHasher;
use crate::domain::ident::Ident;
use crate::domain::ports::secrets::{SecretMaterial, SecretSource};
use crate::domain::ports::storage::Store;
use crate::error::{Error, Result};

/// Keeps the demo password's mark apart from every other keyed digest of the token secret.
const MARK_LABEL: &str = "demo user password v1";

pub struct DemoSeeder {
    directory: Directory,
    secrets: Arc<dyn SecretSource>,
    hasher: PasswordHasher,
    /// The secret material the demo user was last checked against; a reload checks it again.
    seeded: tokio::sync::Mutex<Option<Arc<SecretMaterial>>>,
    /// The address of that material, read without the lock: the check every login and per-request
    /// authorization makes is one atomic load once seeding is done. (`seeded` holds the material,
    /// so its address cannot be reused by another while it is remembered.)
    seeded_at: std::sync::atomic::AtomicUsize,
}

impl DemoSeeder {
    pub fn new(
        store: Arc<dyn Store>,
        secrets: Arc<dyn SecretSource>,
        hasher: PasswordHasher,
    ) -> Self {
        Self {
            directory: Directory::new(store),
            secrets,
            hasher,
            seeded: tokio::sync::Mutex::new(None),
            seeded_at: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Makes sure the demo user is seeded from the secret material in force: by the first login or
    /// per-request authorization (not at start, so a cold start's first answer shares the CPU with
    /// no argon2 work), and again whenever the secret material changes; one atomic load otherwise.
    pub async fn ensure(&self, now: u64) -> Result<()> {
        let secrets = self.secrets.current();
        let address = Arc::as_ptr(&secrets) as usize;
        if self.seeded_at.load(std::sync::atomic::Ordering::Acquire) == address {
            return Ok(());
        }
        let mut seeded = self.seeded.lock().await;
        if seeded.as_ref().is_some_and(|s| Arc::ptr_eq(s, &secrets)) {
            return Ok(());
        }
        // Another instance seeding at the same moment: read what it wrote, once.
        let indexed = match self.seed_once(&secrets, now).await {
            Err(Error::Conflict) => self.seed_once(&secrets, now).await?,
            other => other?,
        };
        // Once per directory; a failure is retried at the next start and fails no login (only
        // AWS logins without LOGIN_NAME of identities written before the index need it, and
        // requests presenting a bare PAT made before the PAT index).
        if !indexed && let Err(e) = self.directory.build_aws_index().await {
            tracing::warn!(error = %e, "the AWS identity or PAT index could not be built");
        }
        *seeded = Some(secrets);
        self.seeded_at
            .store(address, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// Seeds the demo user from `secrets` if the account's record says it is due; answers whether
    /// the AWS identity index was already built, from the same read of the account, so a start
    /// reads the account once.
    async fn seed_once(&self, secrets: &SecretMaterial, now: u64) -> Result<bool> {
        let name = secrets.demo_user.to_uppercase();
        let mut account = self.directory.account().await?;
        let indexed = account.aws_index_built && account.pat_index_built;
        let mark = secrets
            .keyring
            .attempt_key()
            .mark(MARK_LABEL, &secrets.demo_password);
        let before = account.demo_seeded.as_ref().filter(|m| m.user == name);
        // Unchanged since the last start: nothing to hash (a cold start stays free of argon2).
        if before.is_some_and(|seed| seed.password_mark.as_deref() == Some(mark.as_str())) {
            return Ok(indexed);
        }
        if let Some(seed) = before
            && self
                .hasher
                .verify(&secrets.demo_password, Some(&seed.password_hash))
                .await?
        {
            // The same password, remembered before there was a mark or under another secret.
            account.demo_seeded = Some(DemoSeed {
                password_mark: Some(mark),
                ..seed.clone()
            });
            self.directory.set_account(&account).await?;
            return Ok(indexed);
        }
        let first = before.is_none();
        let hash = self.hasher.hash(&secrets.demo_password).await?;
        match self.directory.user(Ident::stored(&name)).await? {
            Some(user) => {
                let same = self
                    .hasher
                    .verify(&secrets.demo_password, user.password_hash.as_deref())
                    .await?;
                if !same {
                    // The configured password has no recorded age: it never expires by policy.
                    let updated = User {
                        password_hash: Some(hash.clone()),
                        password_set_at: 0,
                        ..user.clone()
                    };
                    self.directory.update_user(&updated, &user).await?;
                    tracing::info!(user = ?name, "demo user's password set from the configuration");
                }
            }
            None if first => {
                let user = Directory::demo_user_record(&name, hash.clone(), now);
                // Another instance may have written it first: that is as good.
                self.directory.put_user(&user, None).await?;
                tracing::info!(user = ?name, "demo user created from the configuration");
            }
            None => {
                tracing::info!(user = ?name, "demo user was dropped: not created again");
            }
        }
        account.demo_seeded = Some(DemoSeed {
            user: name,
            password_hash: hash,
            password_mark: Some(mark),
        });
        self.directory.set_account(&account).await?;
        Ok(indexed)
    }
}
