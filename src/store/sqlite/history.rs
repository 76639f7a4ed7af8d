//! The login history: one row per event, kept seven days and at most the store's cap.

use async_trait::async_trait;
use rusqlite::params;

use super::*;

#[async_trait]
impl LoginHistoryStore for SqliteStore {
    async fn record_login(&self, event: &LoginEvent) -> Result<(), StoreError> {
        let doc = serde_json::to_string(event)
            .map_err(|e| StoreError::Fault(format!("login event not serialisable: {e}")))?;
        let (id, user, time, expires) = (
            int(event.id),
            event.user_name.clone(),
            int(event.time),
            int(event.expires_at),
        );
        self.write(Some(event.time), move |tx| {
            tx.execute(
                "INSERT INTO login_history (id, user_name, time, expires_at, doc)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
                params![id, user, time, expires, doc],
            )
            .map(drop)
            .map_err(|e| sql_error("record login", &e))
        })
        .await
    }

    async fn login_history(&self, query: &HistoryQuery) -> Result<Vec<LoginEvent>, StoreError> {
        let q = query.clone();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT doc FROM login_history
                     WHERE (?1 IS NULL OR user_name = ?1) AND time >= ?2 AND time <= ?3
                       AND expires_at > ?4
                     ORDER BY time DESC, id DESC LIMIT ?5",
                )
                .map_err(|e| sql_error("login history", &e))?;
            let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
            let rows = stmt
                .query_map(
                    params![q.user, int(q.from), int(q.to), int(q.now), limit],
                    |r| r.get::<_, String>(0),
                )
                .map_err(|e| sql_error("login history", &e))?;
            rows.map(|doc| {
                let doc = doc.map_err(|e| sql_error("login history", &e))?;
                serde_json::from_str(&doc)
                    .map_err(|e| StoreError::Fault(format!("corrupt login event: {e}")))
            })
            .collect()
        })
        .await
    }
}
