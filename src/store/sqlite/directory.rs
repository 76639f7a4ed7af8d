//! Directory objects: one row per (kind, name), the JSON document and its version.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::*;

pub(super) fn object(
    conn: &Connection,
    kind: ObjectKind,
    name: &str,
) -> Result<Option<Versioned>, StoreError> {
    conn.prepare_cached("SELECT doc, version FROM objects WHERE kind = ?1 AND name = ?2")
        .and_then(|mut q| {
            q.query_row(params![kind.key_prefix(), name], |r| {
                Ok(Versioned {
                    doc: r.get(0)?,
                    version: uint(r.get(1)?),
                })
            })
            .optional()
        })
        .map_err(|e| sql_error("get object", &e))
}

#[async_trait]
impl DirectoryStore for SqliteStore {
    /// Through the read cache, as the batch reads (a PAT's index entry and its user, at every
    /// per-request check). No time is needed: it only decides whether sessions and counters live.
    async fn get_object(&self, key: ObjectKey<'_>) -> Result<Option<Versioned>, StoreError> {
        match self.read_many(&[Read::Object(key)], 0).await?.pop() {
            Some(Found::Object(found)) => Ok(found),
            _ => Err(StoreError::Fault(
                "object read answered out of order".into(),
            )),
        }
    }

    async fn put_object(
        &self,
        key: ObjectKey<'_>,
        doc: &str,
        write: Write,
    ) -> Result<u64, StoreError> {
        let (kind, name, doc) = (key.kind(), key.name().to_string(), doc.to_string());
        // Objects never expire, and the directory does not know the time: no sweep here.
        self.write(None, move |tx| {
            let current = object(tx, kind, &name)?.map(|v| v.version);
            let version = match (write, current) {
                (Write::Create, Some(_)) => return Err(StoreError::AlreadyExists),
                (Write::IfVersion(expected), Some(v)) if v == expected => v + 1,
                (Write::IfVersion(_), _) => return Err(StoreError::Conflict),
                (_, current) => current.unwrap_or(0) + 1,
            };
            tx.execute(
                "INSERT INTO objects (kind, name, doc, version) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (kind, name) DO UPDATE SET doc = excluded.doc, version = excluded.version",
                params![kind.key_prefix(), name, doc, int(version)],
            )
            .map_err(|e| sql_error("put object", &e))?;
            Ok(version)
        })
        .await
    }

    async fn delete_object(&self, key: ObjectKey<'_>) -> Result<bool, StoreError> {
        let (kind, name) = (key.kind(), key.name().to_string());
        self.run(move |conn| {
            conn.execute(
                "DELETE FROM objects WHERE kind = ?1 AND name = ?2",
                params![kind.key_prefix(), name],
            )
            .map(|n| n > 0)
            .map_err(|e| sql_error("delete object", &e))
        })
        .await
    }

    async fn list_objects(&self, kind: ObjectKind) -> Result<Vec<Versioned>, StoreError> {
        self.read(move |conn| {
            // BINARY collation: byte order, as the other stores list (upper case before lower).
            let mut stmt = conn
                .prepare_cached(
                    "SELECT doc, version FROM objects WHERE kind = ?1 ORDER BY name COLLATE BINARY",
                )
                .map_err(|e| sql_error("list objects", &e))?;
            let rows = stmt
                .query_map([kind.key_prefix()], |r| {
                    Ok(Versioned {
                        doc: r.get(0)?,
                        version: uint(r.get(1)?),
                    })
                })
                .map_err(|e| sql_error("list objects", &e))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|e| sql_error("list objects", &e))
        })
        .await
    }
}
