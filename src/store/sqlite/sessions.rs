//! Sessions: one row per session, the record as JSON, expired through `expires_at`.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::*;

/// The live session `id` at `now`, read inside `conn`.
pub(super) fn live_session(
    conn: &Connection,
    id: u64,
    now: u64,
) -> Result<Option<Session>, StoreError> {
    let doc: Option<String> = conn
        .prepare_cached("SELECT doc FROM sessions WHERE id = ?1 AND expires_at > ?2")
        .and_then(|mut q| {
            q.query_row(params![int(id), int(now)], |r| r.get(0))
                .optional()
        })
        .map_err(|e| sql_error("get session", &e))?;
    doc.as_deref().map(from_json).transpose()
}

/// Reads the live session, lets `change` edit it and writes it back; `false` when there is none.
pub(super) fn edit_session(
    tx: &Transaction<'_>,
    id: u64,
    now: u64,
    change: impl FnOnce(&mut Session),
) -> Result<bool, StoreError> {
    let Some(mut session) = live_session(tx, id, now)? else {
        return Ok(false);
    };
    change(&mut session);
    tx.execute(
        "UPDATE sessions SET doc = ?2 WHERE id = ?1",
        params![int(id), to_json(&session)?],
    )
    .map_err(|e| sql_error("update session", &e))?;
    Ok(true)
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        let (id, expires_at, doc) = (session.id, session.expires_at, to_json(session)?);
        self.write(Some(session.created_at), move |tx| {
            let inserted = tx
                .execute(
                    "INSERT INTO sessions (id, expires_at, doc) VALUES (?1, ?2, ?3)
                     ON CONFLICT (id) DO NOTHING",
                    params![int(id), int(expires_at), doc],
                )
                .map_err(|e| sql_error("create session", &e))?;
            match inserted {
                0 => Err(StoreError::AlreadyExists),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn get(&self, id: u64, now: u64) -> Result<Option<Session>, StoreError> {
        self.point_read(move |conn| live_session(conn, id, now))
            .await
    }

    async fn update_context(
        &self,
        id: u64,
        context: &SessionContext,
        now: u64,
    ) -> Result<bool, StoreError> {
        let context = context.clone();
        self.write(Some(now), move |tx| {
            edit_session(tx, id, now, |s| s.context = context)
        })
        .await
    }

    async fn rotate_token(&self, id: u64, token_id: &str, now: u64) -> Result<bool, StoreError> {
        let token_id = token_id.to_string();
        self.write(Some(now), move |tx| {
            edit_session(tx, id, now, |s| {
                let previous = std::mem::replace(&mut s.token_id, token_id);
                s.previous_token_id = Some(previous).filter(|p| !p.is_empty());
                s.renewed_at = now;
            })
        })
        .await
    }

    async fn set_upstream(
        &self,
        id: u64,
        expected: Option<&SealedUpstream>,
        new: &SealedUpstream,
        now: u64,
    ) -> Result<bool, StoreError> {
        let (expected, new) = (expected.cloned(), new.clone());
        // Read and written in one transaction: the comparison holds until the write.
        self.write(Some(now), move |tx| match live_session(tx, id, now)? {
            Some(s) if s.upstream == expected => {
                edit_session(tx, id, now, |s| s.upstream = Some(new))
            }
            _ => Ok(false),
        })
        .await
    }

    async fn touch(&self, id: u64, now: u64) -> Result<bool, StoreError> {
        self.write(Some(now), move |tx| match live_session(tx, id, now)? {
            Some(s) if !s.is_idle(now) => edit_session(tx, id, now, |s| {
                s.last_active = s.last_active.max(now);
            }),
            _ => Ok(false),
        })
        .await
    }

    async fn delete(&self, id: u64) -> Result<(), StoreError> {
        self.run(move |conn| {
            conn.execute("DELETE FROM sessions WHERE id = ?1", [int(id)])
                .map(drop)
                .map_err(|e| sql_error("delete session", &e))
        })
        .await
    }

    async fn delete_with_token(
        &self,
        id: u64,
        token_id: &str,
        now: u64,
        grace: u64,
    ) -> Result<bool, StoreError> {
        let token_id = token_id.to_string();
        self.write(Some(now), move |tx| {
            if let Some(s) = live_session(tx, id, now)?
                && !s.accepts_token(&token_id, now, grace)
            {
                return Ok(false);
            }
            tx.execute("DELETE FROM sessions WHERE id = ?1", [int(id)])
                .map_err(|e| sql_error("delete session", &e))?;
            Ok(true)
        })
        .await
    }
}
