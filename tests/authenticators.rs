//! Login methods tried alone: each authenticator built over the memory store with only the steps it
//! takes, no gatekeeper, no HTTP. What they decide here is what every login through the service
//! decides (the other suites go through the whole router).

use std::sync::Arc;

use secrecy::SecretString;
use snowgate::Error;
use snowgate::domain::Settings;
use snowgate::domain::directory::{Directory, User, hash_password};
use snowgate::domain::ident::LoginName;
use snowgate::domain::login::checks::LoginChecks;
use snowgate::domain::login::input::LoginInput;
use snowgate::domain::login::lockout::Lockout;
use snowgate::domain::login::mfa::SecondFactors;
use snowgate::domain::login::password::PasswordLogin;
use snowgate::domain::login::pat::PatLogin;
use snowgate::domain::login::{Authenticator, LoginCx};
use snowgate::domain::passwords::PasswordHasher;
use snowgate::domain::policies::AuthMethod;
use snowgate::domain::ports::secrets::SecretSource;
use snowgate::domain::ports::storage::{CounterName, Store};
use snowgate::secrets::StaticSecrets;
use snowgate::store::memory::MemoryStore;

const NOW: u64 = 1_800_000_000;

struct Parts {
    store: Arc<dyn Store>,
    directory: Directory,
    checks: Arc<LoginChecks>,
    lockout: Arc<Lockout>,
    secrets: Arc<dyn SecretSource>,
}

async fn parts_with_alice() -> Parts {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let secrets: Arc<dyn SecretSource> = Arc::new(StaticSecrets::new(
        &SecretString::from("a-test-secret-of-some-length"),
        "nobody".into(),
        SecretString::from("unused"),
    ));
    let directory = Directory::new(Arc::clone(&store));
    let alice = User {
        id: "alice-1".into(),
        name: "ALICE".into(),
        password_hash: Some(hash_password(&SecretString::from("right horse")).unwrap()),
        ..User::default()
    };
    directory.put_user(&alice, None).await.unwrap();
    let settings = Settings::default();
    Parts {
        checks: Arc::new(LoginChecks::new(
            Directory::new(Arc::clone(&store)),
            settings.clone(),
        )),
        lockout: Arc::new(Lockout::new(
            Arc::clone(&store),
            Arc::clone(&secrets),
            settings,
        )),
        directory,
        store,
        secrets,
    }
}

fn password_login(parts: &Parts) -> PasswordLogin {
    PasswordLogin::new(
        Arc::clone(&parts.checks),
        Arc::clone(&parts.lockout),
        Directory::new(Arc::clone(&parts.store)),
        PasswordHasher::new(1, 8),
        SecondFactors::new(Arc::clone(&parts.store), Arc::clone(&parts.secrets)),
    )
}

fn login(name: &str, password: &str, request_id: &str) -> LoginInput {
    LoginInput {
        login_name: Some(name.into()),
        password: Some(SecretString::from(password)),
        request_id: Some(request_id.into()),
        ..LoginInput::default()
    }
}

async fn verify(
    method: &impl Authenticator,
    parts: &Parts,
    input: &LoginInput,
) -> snowgate::Result<snowgate::domain::login::verified::Verified> {
    let reads = parts
        .directory
        .login_reads(input.login_name.as_deref(), NOW)
        .await?;
    let cx = LoginCx {
        input,
        reads: &reads,
        now: NOW,
    };
    method.verify(&cx).await
}

/// The error of a refused login; a login proven where a refusal was due fails the test (the proof
/// itself is not printed: it holds the user's record).
fn refusal<T>(result: snowgate::Result<T>) -> Error {
    match result {
        Ok(_) => panic!("the login was accepted"),
        Err(e) => e,
    }
}

async fn failures_of(parts: &Parts, name: &str) -> u32 {
    let login = LoginName::new(name);
    let counter = CounterName::user(login.as_own_name());
    parts.store.failures(&counter, NOW).await.unwrap().count
}

#[tokio::test]
async fn the_password_method_alone_proves_a_password_and_counts_wrong_ones() {
    let parts = parts_with_alice().await;
    let method = password_login(&parts);

    let proven = verify(&method, &parts, &login("alice", "right horse", "r1"))
        .await
        .unwrap();
    assert_eq!(proven.user.name, "ALICE");
    assert_eq!(proven.method, AuthMethod::Password);
    assert_eq!(proven.second_factor, None);

    let refused = verify(&method, &parts, &login("alice", "wrong", "r2")).await;
    let error = refusal(refused);
    assert!(matches!(error, Error::InvalidCredentials), "{error:?}");
    assert_eq!(failures_of(&parts, "ALICE").await, 1);

    // A name that does not exist gets the same answer.
    let unknown = verify(&method, &parts, &login("mallory", "wrong", "r3")).await;
    let error = refusal(unknown);
    assert!(matches!(error, Error::InvalidCredentials), "{error:?}");

    // The right password clears the count.
    verify(&method, &parts, &login("alice", "right horse", "r4"))
        .await
        .unwrap();
    assert_eq!(failures_of(&parts, "ALICE").await, 0);
}

#[tokio::test]
async fn the_password_method_alone_locks_after_the_settings_failures() {
    let parts = parts_with_alice().await;
    let method = password_login(&parts);
    let limit = Settings::default().lockout_failures;
    for i in 0..limit {
        let refused = verify(
            &method,
            &parts,
            &login("alice", &format!("guess {i}"), &format!("g{i}")),
        )
        .await;
        let error = refusal(refused);
        assert!(matches!(error, Error::InvalidCredentials), "{error:?}");
    }
    let locked = verify(&method, &parts, &login("alice", "right horse", "after")).await;
    let error = refusal(locked);
    assert!(matches!(error, Error::UserLocked { .. }), "{error:?}");
}

#[tokio::test]
async fn the_pat_method_alone_refuses_a_password_and_counts_it() {
    let parts = parts_with_alice().await;
    let method = PatLogin::new(
        Arc::clone(&parts.checks),
        Arc::clone(&parts.lockout),
        Directory::new(Arc::clone(&parts.store)),
    );
    // Alice has no PAT: her password is no token.
    let input = LoginInput {
        token: Some(SecretString::from("right horse")),
        ..login("alice", "", "p1")
    };
    let refused = verify(&method, &parts, &input).await;
    let error = refusal(refused);
    assert!(matches!(error, Error::InvalidPat), "{error:?}");
    assert_eq!(failures_of(&parts, "ALICE").await, 1);
}
