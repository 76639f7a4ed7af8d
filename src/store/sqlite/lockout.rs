//! Failed-login counters: one row per name, forgotten after `until`.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::*;

#[async_trait]
impl LockoutStore for SqliteStore {
    async fn failures(&self, name: &CounterName, now: u64) -> Result<Failures, StoreError> {
        let name = name.as_str().to_string();
        self.point_read(move |conn| {
            counter(conn, &name, now).map(|c| c.map(|(f, _)| f).unwrap_or_default())
        })
        .await
    }

    async fn record_failure(
        &self,
        name: &CounterName,
        attempt: &str,
        now: u64,
        until: u64,
    ) -> Result<(Failures, bool), StoreError> {
        let (name, attempt) = (name.as_str().to_string(), attempt.to_string());
        self.write(Some(now), move |tx| {
            let live = counter(tx, &name, now)?;
            let count = match live {
                Some((f, last)) if last == attempt => return Ok((f, false)),
                Some((f, _)) => f.count.saturating_add(1),
                None => 1,
            };
            tx.execute(
                "INSERT INTO failures (name, count, until, attempt) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET
                     count = excluded.count, until = excluded.until, attempt = excluded.attempt",
                params![name, count, int(until), attempt],
            )
            .map_err(|e| sql_error("record failure", &e))?;
            Ok((Failures { count, until }, true))
        })
        .await
    }

    async fn clear_failures(&self, name: &CounterName) -> Result<(), StoreError> {
        let name = name.as_str().to_string();
        self.run(move |conn| {
            conn.execute("DELETE FROM failures WHERE name = ?1", [name])
                .map(drop)
                .map_err(|e| sql_error("clear failures", &e))
        })
        .await
    }
}

/// The live counter of `name` at `now` and the last attempt it counted.
pub(super) fn counter(
    conn: &Connection,
    name: &str,
    now: u64,
) -> Result<Option<(Failures, String)>, StoreError> {
    conn.prepare_cached("SELECT count, until, attempt FROM failures WHERE name = ?1 AND until > ?2")
        .and_then(|mut q| {
            q.query_row(params![name, int(now)], |r| {
                let count: i64 = r.get(0)?;
                let failures = Failures {
                    count: u32::try_from(count).unwrap_or(u32::MAX),
                    until: uint(r.get(1)?),
                };
                Ok((failures, r.get(2)?))
            })
            .optional()
        })
        .map_err(|e| sql_error("get failures", &e))
}
