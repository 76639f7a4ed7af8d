//! A session's life after login, as the store sees it: created with its token, read with its user
//! at every request (activity recorded at most once in a while), its user's rights checked, ended
//! when idle or when the user may no longer use it. The gatekeeper orchestrates; this holds the
//! store, the token keyring and the activity memory.

use std::sync::Arc;

use crate::domain::directory::{Directory, PolicySource, User};
use crate::domain::ident::Ident;
use crate::domain::policy::SessionPolicy;
use crate::domain::ports::secrets::SecretSource;
use crate::domain::ports::storage::{ObjectKey, Store, StoreError, Versioned};
use crate::domain::session::activity::RecentActivity;
use crate::domain::session::tokens::{Claims, TokenError, TokenKind};
use crate::domain::session::{Session, new_session_id};
use crate::error::{Error, Result};

/// What the store says of a session at a request: read and activity recorded together.
pub struct Checked {
    pub session: Option<Session>,
    pub user: Option<Versioned>,
    /// The session had been idle for its whole limit: it is over.
    pub idle: bool,
}

pub struct Sessions {
    decoded: DecodedUsers,
    store: Arc<dyn Store>,
    secrets: Arc<dyn SecretSource>,
    directory: Directory,
    /// Idle limit of sessions no session policy governs.
    default_idle_seconds: u64,
    recent: RecentActivity,
}

impl Sessions {
    pub fn new(
        store: Arc<dyn Store>,
        secrets: Arc<dyn SecretSource>,
        default_idle_seconds: u64,
    ) -> Self {
        Self {
            directory: Directory::new(Arc::clone(&store)),
            store,
            secrets,
            default_idle_seconds,
            recent: RecentActivity::default(),
            decoded: DecodedUsers::default(),
        }
    }

    /// The user record `doc` read for a request of `name`'s session, decoded once per version of
    /// the record's text ([`DecodedUsers`]).
    pub fn user_of(&self, name: &str, doc: Versioned) -> Result<User> {
        self.decoded.decode(name, doc)
    }

    /// The verified claims of a token of `kind`, mapped to the code drivers expect for that kind. A
    /// token signed with a secret version this instance has not loaded yet makes it reload once.
    pub async fn claims(&self, token: &str, kind: TokenKind, now: u64) -> Result<Claims> {
        let mut result = self.secrets.current().keyring.verify(token, kind, now);
        if result == Err(TokenError::UnknownKey) && self.secrets.reload_for_unknown_key().await {
            result = self.secrets.current().keyring.verify(token, kind, now);
        }
        result.map_err(|e| match (kind, e) {
            (TokenKind::Session, TokenError::Expired) => Error::SessionTokenExpired,
            (TokenKind::Session, _) => Error::InvalidToken,
            (TokenKind::Master, TokenError::Expired) => Error::MasterTokenExpired,
            (TokenKind::Master, _) => Error::MasterTokenInvalid,
            // An exchanged token is refused like a session token: 390104, expired or not.
            (TokenKind::Ingress, _) => Error::InvalidToken,
        })
    }

    /// The idle limit of a new session of `user`, in seconds: SESSION_IDLE_TIMEOUT_MINS of the user's
    /// session policy, else the account's, else the configured default. Fixed at login, so a policy
    /// change applies to new sessions.
    pub async fn idle_limit(&self, user: &User, policies: &impl PolicySource) -> Result<u64> {
        let policy = self
            .directory
            .attached_policy::<SessionPolicy>(Some(user), policies)
            .await?;
        Ok(match policy {
            Some(p) => u64::from(p.session_idle_timeout_mins.max(1)) * 60,
            None => self.default_idle_seconds,
        })
    }

    /// Stores a new session, and its session token, minted by `mint` for the id stored. Ids are
    /// random in a 2^53 space; one retry with a new id covers the unlikely collision. The login is
    /// the session's first activity: no activity write is needed for a while.
    pub async fn create(
        &self,
        mut session: Session,
        mint: impl Fn(&Session) -> (String, String),
        now: u64,
    ) -> Result<(Session, String)> {
        for retry in [false, true] {
            let (token, token_id) = mint(&session);
            session.token_id = token_id;
            match self.store.create(&session).await {
                Err(StoreError::AlreadyExists) if !retry => session.id = new_session_id(),
                other => {
                    other?;
                    self.recent.record(session.id, now, session.idle_limit);
                    return Ok((session, token));
                }
            }
        }
        Err(Error::Internal("session id collided twice".into()))
    }

    /// Reads the session and its user and records the request as activity, concurrently: one round
    /// trip. The write is skipped when this instance wrote it lately. The write is conditional on the
    /// session not being idle, so idle-ness is decided by it when it ran, else by the read.
    pub async fn read_and_touch(&self, id: u64, user: &str, now: u64) -> Result<Checked> {
        let read = self
            .store
            .session_and_object(id, now, ObjectKey::user(Ident::stored(user)));
        let (read, touched) = if self.recent.is_fresh(id, now) {
            (read.await, None)
        } else {
            let (read, touched) = tokio::join!(read, self.store.touch(id, now));
            (read, Some(touched?))
        };
        let (session, user) = read?;
        let Some(found) = &session else {
            return Ok(Checked {
                session,
                user,
                idle: false,
            });
        };
        let alive = touched.unwrap_or_else(|| !found.is_idle(now));
        if alive {
            if touched.is_some() {
                self.recent.record(id, now, found.idle_limit);
            }
            return Ok(Checked {
                session,
                user,
                idle: false,
            });
        }
        self.recent.forget(id);
        // The touch was refused: idle, or deleted or expired since the read (then it is gone).
        let idle = found.is_idle(now);
        Ok(Checked {
            session: session.filter(|_| idle),
            user,
            idle,
        })
    }

    /// The session's user if they may still use it; otherwise the session is deleted and the answer is
    /// the one Snowflake gives: 390101 for a disabled user, 390111 when the session is no longer theirs
    /// (also when the PAT or RSA key it was opened with was removed, disabled, expired or replaced).
    pub async fn check_rights(
        &self,
        session: &Session,
        user: Option<User>,
        now: u64,
    ) -> Result<User> {
        let why = match &user {
            None => "user dropped",
            Some(u) if u.id != session.user_id => "user dropped and created again",
            Some(u) if u.disabled => "user disabled",
            Some(u) if !session.role_is_held_by(u) => "session role no longer granted",
            Some(u) if !session.credential_is_held_by(u, now) => {
                "the credential that opened the session was revoked"
            }
            Some(_) => return user.ok_or(Error::SessionGone),
        };
        self.end(session, why).await?;
        match user {
            Some(u) if u.disabled && u.id == session.user_id => Err(Error::UserDisabled),
            _ => Err(Error::SessionGone),
        }
    }

    /// Ends a session whose user may no longer use it, and says why in the audit log.
    pub async fn end(&self, session: &Session, why: &str) -> Result<()> {
        self.store.delete(session.id).await?;
        self.recent.forget(session.id);
        tracing::info!(
            target: "snowgate::audit",
            event = "session_ended",
            session_id = session.id,
            user = ?session.user,
            reason = why,
            "session ended: the user's rights changed"
        );
        Ok(())
    }

    /// Ends a session that timed out: idle past its limit, or past its OAuth access token (at its
    /// renewal, so the driver first gets 390112, then 390114).
    pub async fn end_idle(&self, session: &Session, reason: &'static str) -> Result<()> {
        self.store.delete(session.id).await?;
        self.recent.forget(session.id);
        tracing::info!(
            target: "snowgate::audit",
            event = "session_ended",
            session_id = session.id,
            user = ?session.user,
            reason,
            idle_limit_seconds = session.idle_limit,
            "session ended: it timed out"
        );
        Ok(())
    }

    /// Moves the session to a new session token (`token_id`); false when the session is gone.
    pub async fn rotate_token(&self, id: u64, token_id: &str, now: u64) -> Result<bool> {
        Ok(self.store.rotate_token(id, token_id, now).await?)
    }

    /// Ends the session of a token, if the token still speaks for it (`grace`: how long a token a
    /// renewal replaced still does); true also when the session is already gone.
    pub async fn delete_with_token(
        &self,
        id: u64,
        token_id: &str,
        now: u64,
        grace: u64,
    ) -> Result<bool> {
        let deleted = self
            .store
            .delete_with_token(id, token_id, now, grace)
            .await?;
        if deleted {
            self.recent.forget(id);
        }
        Ok(deleted)
    }
}

/// Most decoded user records kept; past it the memory starts over (a deployment with more active
/// users than this decodes some of them again, as it did before there was a memory).
const MAX_DECODED_USERS: usize = 4_096;

/// Decoded user records by name, with the document text each was decoded from. Every request reads
/// its session's user record anew (so a revocation is seen at once); when the text read is the text
/// remembered, the decoded record is reused instead of parsing the JSON again. Any change of the
/// record changes its text, so a stale record is never used: this saves work, never a read.
#[derive(Default)]
struct DecodedUsers {
    entries: std::sync::Mutex<std::collections::HashMap<String, (String, User)>>,
}

impl DecodedUsers {
    fn decode(&self, name: &str, doc: Versioned) -> Result<User> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((text, user)) = entries.get(name)
            && *text == doc.doc
        {
            let mut user = user.clone();
            user.version = doc.version;
            return Ok(user);
        }
        drop(entries);
        let user = Directory::user_from_doc(&doc)?;
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_DECODED_USERS {
            entries.clear();
        }
        entries.insert(name.to_string(), (doc.doc, user.clone()));
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(user: &User, version: u64) -> Versioned {
        Versioned {
            doc: serde_json::to_string(user).unwrap(),
            version,
        }
    }

    #[test]
    fn a_changed_record_is_decoded_again_and_an_unchanged_one_reused() {
        let decoded = DecodedUsers::default();
        let mut alice = User {
            name: "ALICE".into(),
            ..User::default()
        };
        let first = decoded.decode("ALICE", doc(&alice, 1)).unwrap();
        assert!(!first.disabled);
        assert_eq!(first.version, 1);
        // The same text again: the remembered record, with the version read.
        assert_eq!(
            decoded.decode("ALICE", doc(&alice, 1)).unwrap().name,
            "ALICE"
        );
        // Disabled since: the text differs, so the change is seen at once.
        alice.disabled = true;
        let second = decoded.decode("ALICE", doc(&alice, 2)).unwrap();
        assert!(second.disabled);
        assert_eq!(second.version, 2);
        // A record that is not a user is an error, not a remembered user.
        let broken = Versioned {
            doc: "{not json".into(),
            version: 3,
        };
        assert!(decoded.decode("ALICE", broken).is_err());
    }

    #[test]
    fn the_memory_is_bounded() {
        let decoded = DecodedUsers::default();
        for i in 0..MAX_DECODED_USERS + 10 {
            let user = User {
                name: format!("U{i}"),
                ..User::default()
            };
            decoded.decode(&user.name.clone(), doc(&user, 1)).unwrap();
        }
        assert!(decoded.entries.lock().unwrap().len() <= MAX_DECODED_USERS);
    }
}
