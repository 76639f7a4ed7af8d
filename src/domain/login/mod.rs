//! One login, end to end. [`pick`] reads AUTHENTICATOR (and the fields that pick a method) in one
//! place; [`Authenticators`] holds one [`Authenticator`] per method, each with only its own
//! collaborators; the steps they share are plain types ([`checks::LoginChecks`],
//! [`lockout::Lockout`]) that each method calls in the documented order:
//!
//! 1. the account pin (a login naming another account is refused with the method's answer);
//! 2. the user the login names (or the credential names, for OAuth and workload identity);
//! 3. the network policy before the credential, as far as it answers alike for every name;
//! 4. the lock, for guessable credentials (password, PAT);
//! 5. the proof, with one answer for every failure (the reason goes to the log only);
//! 6. the user's own network policy, then the method's own policy rules, told only to the holder.
//!
//! The gatekeeper then checks the authentication policy and opens the session.

pub mod attempts;
pub mod authenticator;
pub mod checks;
pub(in crate::domain) mod history;
pub mod input;
pub mod key_pair;
pub mod lockout;
pub mod mfa;
pub mod oauth;
pub mod password;
pub mod pat;
pub mod pick;
pub mod refusals;
pub mod verified;
pub mod workload;

use std::sync::Arc;

pub use self::authenticator::{Authenticator, JwksSlot, LoginCx};

use self::checks::LoginChecks;
use self::key_pair::KeyPairLogin;
use self::lockout::Lockout;
use self::mfa::SecondFactors;
use self::oauth::OauthLogin;
use self::password::PasswordLogin;
use self::pat::PatLogin;
use self::pick::{Picked, WorkloadProvider};
use self::verified::Verified;
use self::workload::attestation::CallerIdentity;
use self::workload::aws::AwsLogin;
use self::workload::oidc::OidcLogin;
use super::credentials::jwks::JwksCache;
use super::credentials::passwords::PasswordHasher;
use super::credentials::rsa_keys::KeyCache;
use super::directory::Directory;
use super::ports::secrets::SecretSource;
use super::ports::storage::Store;
use super::settings::Settings;
use crate::error::Result;

/// The login methods this deployment runs.
pub struct Authenticators {
    /// The shared steps, also taken by the per-request verifier (`domain/access/`).
    checks: Arc<LoginChecks>,
    /// Parsed public keys, shared by the key-pair login and the per-request verifier.
    keys: Arc<KeyCache>,
    password: PasswordLogin,
    pat: PatLogin,
    key_pair: KeyPairLogin,
    oauth: OauthLogin,
    oidc: OidcLogin,
    aws: AwsLogin,
    jwks: JwksSlot,
}

impl Authenticators {
    pub fn new(
        store: Arc<dyn Store>,
        secrets: Arc<dyn SecretSource>,
        hasher: PasswordHasher,
        settings: Settings,
    ) -> Self {
        let directory = || Directory::new(Arc::clone(&store));
        let checks = Arc::new(LoginChecks::new(directory(), settings.clone()));
        let lockout = Arc::new(Lockout::new(
            Arc::clone(&store),
            Arc::clone(&secrets),
            settings,
        ));
        let jwks = JwksSlot::default();
        let second_factors = SecondFactors::new(Arc::clone(&store), secrets);
        let keys = Arc::new(KeyCache::default());
        Self {
            password: PasswordLogin::new(
                Arc::clone(&checks),
                Arc::clone(&lockout),
                directory(),
                hasher,
                second_factors,
            ),
            pat: PatLogin::new(Arc::clone(&checks), lockout, directory()),
            key_pair: KeyPairLogin::new(Arc::clone(&checks), directory(), Arc::clone(&keys)),
            oauth: OauthLogin::new(Arc::clone(&checks), directory(), Arc::clone(&jwks)),
            oidc: OidcLogin::new(Arc::clone(&checks), directory(), Arc::clone(&jwks)),
            aws: AwsLogin::new(Arc::clone(&checks), directory(), Arc::clone(&jwks)),
            jwks,
            checks,
            keys,
        }
    }

    /// The shared steps and the parsed keys, for the per-request verifier.
    pub(in crate::domain) fn shared(&self) -> (Arc<LoginChecks>, Arc<KeyCache>) {
        (Arc::clone(&self.checks), Arc::clone(&self.keys))
    }

    /// AWS workload identity replays attestations through `sts`; `extra_host` is one more host an
    /// attestation may be signed for (the configured STS endpoint's).
    pub fn with_sts(self, sts: Arc<dyn CallerIdentity>, extra_host: Option<String>) -> Self {
        Self {
            aws: self.aws.with_sts(sts, extra_host),
            ..self
        }
    }

    /// Where issuers' keys come from. Without it, logins needing them are refused. A second call
    /// keeps the first cache.
    pub fn set_jwks(&self, cache: Arc<JwksCache>) {
        let _ = self.jwks.set(cache);
    }

    /// Runs the method `picked` ([`pick::pick`]) on the login.
    pub(in crate::domain) async fn verify(
        &self,
        picked: Picked,
        cx: &LoginCx<'_>,
    ) -> Result<Verified> {
        match picked {
            Picked::Password => self.password.verify(cx).await,
            Picked::Pat => self.pat.verify(cx).await,
            Picked::KeyPair => self.key_pair.verify(cx).await,
            Picked::Oauth => self.oauth.verify(cx).await,
            Picked::WorkloadIdentity(Some(WorkloadProvider::Oidc)) => self.oidc.verify(cx).await,
            Picked::WorkloadIdentity(Some(WorkloadProvider::Aws)) => self.aws.verify(cx).await,
            Picked::WorkloadIdentity(None) => {
                Err(workload::refused("PROVIDER missing or not supported"))
            }
        }
    }
}
