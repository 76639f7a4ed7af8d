//! Sessions, the directory, failed-login counters and the login history in DynamoDB, in a single
//! table with typed string keys (`pk`, `sk`); one file per port it implements (`sessions.rs`,
//! `directory.rs`, `lockout.rs`, `history.rs`), each with its items' keys. DynamoDB deletes expired
//! items (TTL attribute `expires_at`) late (moto never does), so every read checks expiry itself.
//! Each operation is one DynamoDB call; reads are consistent so a delete is seen at once by every
//! instance. What a request reads up front is one BatchGetItem (`read_many`, here).

mod directory;
mod history;
mod lockout;
mod sessions;

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{Found, Read, Store, StoreError, check_batch};
use crate::aws::describe;
use directory::{doc_of, object_key};
use lockout::{counter_of, lockout_key};

pub const TTL_ATTRIBUTE: &str = "expires_at";

pub struct DynamoStore {
    client: Client,
    table: String,
}

type Item = HashMap<String, AttributeValue>;

/// The key of session `id` (its item is `sessions.rs`'s).
fn key(id: u64) -> Item {
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(format!("SESSION#{id}"))),
        ("sk".to_string(), AttributeValue::S("SESSION".to_string())),
    ])
}

/// Service errors a retry cannot mend: the table is missing, the request is invalid, access is refused.
const PERMANENT_CODES: [&str; 5] = [
    "ResourceNotFoundException",
    "ValidationException",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "SerializationException",
];

/// A failed call: throttling, timeouts and connection failures are retryable
/// ([`StoreError::Unavailable`]); a misconfiguration or an invalid request is a
/// [`StoreError::Fault`].
fn unavailable<E, R>(op: &str, err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_dynamodb::error::SdkError;
    let detail = format!("DynamoDB {op}: {}", describe(err));
    let permanent = match err {
        SdkError::ServiceError(e) => e
            .err()
            .code()
            .is_some_and(|code| PERMANENT_CODES.contains(&code)),
        SdkError::ConstructionFailure(_) => true,
        _ => false,
    };
    if permanent {
        StoreError::Fault(detail)
    } else {
        StoreError::Unavailable(detail)
    }
}

/// A write refused by its condition expression: the expected outcome "exists" / "absent", not a
/// failure.
fn is_condition_failure<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .is_some_and(|se| se.code() == Some("ConditionalCheckFailedException"))
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// One cheap read, so the first request after a cold start finds the TLS connection open.
    pub async fn warm_up(&self) -> Result<(), StoreError> {
        self.read(key(0)).await.map(|_| ())
    }

    /// One consistent GetItem: a write on any instance is seen by the next read.
    async fn read(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", &e))?;
        Ok(out.item)
    }
}

/// The table key of a batched read.
fn read_key(read: &Read<'_>) -> Item {
    match *read {
        Read::Session(id) => key(id),
        Read::Object(key) => object_key(key),
        Read::Failures(name) => lockout_key(name),
    }
}

fn key_text(item: &Item) -> (String, String) {
    let s = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    (s("pk"), s("sk"))
}

impl DynamoStore {
    /// The items at `keys` (distinct), by key; consistent. Unprocessed keys (under load) are asked
    /// for again, a bounded number of times.
    async fn batch_get(
        &self,
        keys: Vec<Item>,
    ) -> Result<HashMap<(String, String), Item>, StoreError> {
        let mut found = HashMap::new();
        if keys.is_empty() {
            return Ok(found);
        }
        let keys = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .build()
            .map_err(|e| StoreError::Fault(format!("BatchGetItem request: {e}")))?;
        let mut request = HashMap::from([(self.table.clone(), keys)]);
        for _ in 0..3 {
            let out = self
                .client
                .batch_get_item()
                .set_request_items(Some(request))
                .send()
                .await
                .map_err(|e| unavailable("BatchGetItem", &e))?;
            // The items are moved out, not copied: every request reads its session and user here.
            let (mut responses, left) = (out.responses, out.unprocessed_keys);
            for item in responses
                .as_mut()
                .and_then(|r| r.remove(&self.table))
                .into_iter()
                .flatten()
            {
                found.insert(key_text(&item), item);
            }
            match left {
                Some(left) if !left.is_empty() => request = left,
                _ => return Ok(found),
            }
        }
        Err(StoreError::Unavailable(
            "BatchGetItem left keys unprocessed; retry".into(),
        ))
    }
}

#[async_trait]
impl Store for DynamoStore {
    /// One BatchGetItem, consistent, for every read together.
    async fn read_many(&self, reads: &[Read<'_>], now: u64) -> Result<Vec<Found>, StoreError> {
        check_batch(reads)?;
        let keys: Vec<Item> = reads.iter().map(read_key).collect();
        // BatchGetItem refuses a key asked twice.
        let mut distinct: Vec<Item> = Vec::with_capacity(keys.len());
        for key in &keys {
            if !distinct.contains(key) {
                distinct.push(key.clone());
            }
        }
        let items = self.batch_get(distinct).await?;
        reads
            .iter()
            .zip(&keys)
            .map(|(read, key)| {
                let item = items.get(&key_text(key));
                Ok(match read {
                    Read::Session(_) => Found::Session(
                        item.map(Self::from_item)
                            .transpose()?
                            .filter(|s| !s.is_expired(now)),
                    ),
                    Read::Object(..) => Found::Object(item.map(doc_of).transpose()?),
                    Read::Failures(_) => Found::Failures(counter_of(item, now).0),
                })
            })
            .collect()
    }
}
