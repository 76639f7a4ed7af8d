//! Password hashing off the request path. argon2id is slow and memory-hard by design (19 MiB per hash
//! with the default parameters), so it never runs on an async worker: a few dedicated threads, one per
//! core up to [`MAX_WORKERS`], each with one block buffer reused while logins keep coming, take jobs
//! from a bounded queue. A full queue answers "busy, retry" at once instead of piling requests up, and
//! memory stays at one buffer per thread however many logins arrive (none once they stop). Unknown
//! users are verified against a dummy hash with the same parameters, so every password login costs
//! the same.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock, TryLockError};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHasher as _, Version};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

use crate::error::{Error, Result};

/// More hashing threads than this would only add memory: logins are rare next to queries.
pub const MAX_WORKERS: usize = 4;
/// Jobs waiting per worker before new ones are turned away with a retryable answer.
pub const QUEUE_PER_WORKER: usize = 16;
/// The largest argon2 memory cost a stored hash may ask for (64 MiB): a tampered record cannot make a
/// worker allocate more.
const MAX_BLOCKS: usize = 64 * 1024;

enum Task {
    /// `None`: no stored hash (unknown user, or no password): spend the time, answer `false`.
    Verify(SecretString, Option<String>),
    Hash(SecretString),
}

enum Outcome {
    Verified(bool),
    Hashed(Option<String>),
}

struct Job {
    task: Task,
    reply: oneshot::Sender<Outcome>,
}

/// The pool of hashing threads. Cheap to share; dropping the last handle ends the threads.
#[derive(Clone)]
pub struct PasswordHasher {
    queue: SyncSender<Job>,
}

impl PasswordHasher {
    /// One worker per available core (at most [`MAX_WORKERS`]).
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(cores.clamp(1, MAX_WORKERS), QUEUE_PER_WORKER)
    }

    pub fn new(workers: usize, queue_per_worker: usize) -> Self {
        let workers = workers.max(1);
        let (queue, jobs) = sync_channel::<Job>(workers * queue_per_worker.max(1));
        let jobs = Arc::new(Mutex::new(jobs));
        for i in 0..workers {
            let jobs = Arc::clone(&jobs);
            let spawned = std::thread::Builder::new()
                .name(format!("snowgate-argon2-{i}"))
                .spawn(move || work(&jobs));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Self { queue }
    }

    /// Whether `password` matches the argon2 PHC string `hash`. `None` costs the same and is `false`.
    pub async fn verify(&self, password: &SecretString, hash: Option<&str>) -> Result<bool> {
        let task = Task::Verify(password.clone(), hash.map(str::to_string));
        match self.run(task).await? {
            Outcome::Verified(ok) => Ok(ok),
            Outcome::Hashed(_) => Err(Error::Internal("hasher answered the wrong job".into())),
        }
    }

    /// A new argon2id PHC string for `password`, with a random salt.
    pub async fn hash(&self, password: &SecretString) -> Result<String> {
        match self.run(Task::Hash(password.clone())).await? {
            Outcome::Hashed(Some(phc)) => Ok(phc),
            _ => Err(Error::Internal("password could not be hashed".into())),
        }
    }

    async fn run(&self, task: Task) -> Result<Outcome> {
        let (reply, answer) = oneshot::channel();
        match self.queue.try_send(Job { task, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(Error::Busy),
            Err(TrySendError::Disconnected(_)) => {
                return Err(Error::Internal(
                    "no password hashing thread is running".into(),
                ));
            }
        }
        answer
            .await
            .map_err(|_| Error::Internal("a password hashing thread stopped".into()))
    }
}

/// One worker: takes jobs until every sender is gone. Its block buffer is reused while jobs keep
/// coming and given back to the system once the queue is empty, so an idle server does not keep
/// 19 MiB per thread it hashed on (a buffer this large is its own mapping: freeing it returns it).
fn work(jobs: &Mutex<Receiver<Job>>) {
    let mut blocks: Vec<Block> = Vec::new();
    loop {
        // Waiting for the lock means another worker waits for a job: this one is idle too.
        let rx = match jobs.try_lock() {
            Ok(rx) => rx,
            Err(TryLockError::WouldBlock) => {
                blocks = Vec::new();
                match jobs.lock() {
                    Ok(rx) => rx,
                    Err(_) => return,
                }
            }
            Err(TryLockError::Poisoned(_)) => return,
        };
        let job = rx.try_recv().or_else(|_| {
            blocks = Vec::new();
            rx.recv()
        });
        drop(rx);
        let Ok(job) = job else { return };
        let outcome = match job.task {
            Task::Verify(password, hash) => Outcome::Verified(verify(&password, hash, &mut blocks)),
            Task::Hash(password) => Outcome::Hashed(hash_password(&password)),
        };
        // The requester may have gone (client hung up): nothing to do then.
        let _ = job.reply.send(outcome);
    }
}

/// A fresh argon2id hash with the default parameters and a random 16-byte salt.
pub fn hash_password(password: &SecretString) -> Option<String> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    Argon2::default()
        .hash_password_with_salt(password.expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .ok()
}

/// The hash unknown users are checked against: same parameters as a real one, matching nothing anyone
/// sends (its password is random).
fn dummy_hash() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let random: [u8; 32] = rand::random();
            hash_password(&SecretString::from(hex(&random)))
        })
        .as_deref()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn verify(password: &SecretString, hash: Option<String>, blocks: &mut Vec<Block>) -> bool {
    match hash {
        Some(phc) => matches(password, &phc, blocks).unwrap_or(false),
        None => {
            // Same work as a real check, and never a match.
            if let Some(dummy) = dummy_hash() {
                let _ = matches(password, dummy, blocks);
            }
            false
        }
    }
}

/// Recomputes the hash of `password` with `phc`'s parameters and salt into the reused buffer, and
/// compares in constant time. `None` when the stored string is not a usable argon2 hash.
fn matches(password: &SecretString, phc: &str, blocks: &mut Vec<Block>) -> Option<bool> {
    let parsed = PasswordHash::new(phc).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).ok()?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .ok()?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).ok()?;
    let expected = parsed.hash.as_ref()?.as_bytes();
    let salt = parsed.salt.as_ref()?;
    let needed = params.block_count();
    if needed > MAX_BLOCKS {
        return None;
    }
    if blocks.len() != needed {
        blocks.clear();
        blocks.resize(needed, Block::new());
        blocks.shrink_to_fit();
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(
            password.expose_secret().as_bytes(),
            salt,
            &mut out,
            &mut blocks[..],
        )
        .ok()?;
    Some(out.ct_eq(expected).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> SecretString {
        SecretString::from(v)
    }

    #[tokio::test]
    async fn hashes_and_verifies_on_the_pool() {
        let pool = PasswordHasher::new(1, 4);
        let phc = pool.hash(&s("hunter2")).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(pool.verify(&s("hunter2"), Some(&phc)).await.unwrap());
        assert!(!pool.verify(&s("hunter3"), Some(&phc)).await.unwrap());
        assert!(!pool.verify(&s("hunter2"), None).await.unwrap());
        assert!(!pool.verify(&s("x"), Some("not a hash")).await.unwrap());
        // A hash made by the plain argon2 API verifies through the reused buffer too.
        let other = hash_password(&s("pw")).unwrap();
        assert!(pool.verify(&s("pw"), Some(&other)).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once() {
        let pool = Arc::new(PasswordHasher::new(1, 1));
        let phc = hash_password(&s("pw")).unwrap();
        let mut waiting = Vec::new();
        for _ in 0..8 {
            let pool = Arc::clone(&pool);
            let phc = phc.clone();
            waiting.push(tokio::spawn(async move {
                pool.verify(&s("pw"), Some(&phc)).await
            }));
        }
        let mut busy = 0;
        let mut verified = 0;
        for w in waiting {
            match w.await.unwrap() {
                Ok(true) => verified += 1,
                Err(Error::Busy) => busy += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(
            busy >= 1,
            "eight jobs on a queue of one: some must be turned away"
        );
        assert!(verified >= 1);
    }

    #[test]
    fn hostile_parameters_are_refused_without_allocating() {
        let mut blocks = Vec::new();
        let huge = "$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$\
                    aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
        assert_eq!(matches(&s("x"), huge, &mut blocks), None);
        assert!(blocks.is_empty());
    }
}
