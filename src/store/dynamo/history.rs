//! The login history. A login event is two items, written in one BatchWriteItem, both expired
//! through `expires_at`: `pk = LOGIN_HISTORY#USER#<name>` for "this user's logins" and
//! `pk = LOGIN_HISTORY#DAY#<day>` (days since the epoch, UTC) for "everyone's logins", each with
//! `sk = <time, 20 digits>#<id, 16 digits>`, so one Query per partition reads a time range newest
//! first. "Everyone" reads at most nine day partitions (the seven days kept, and the partial ones
//! at each end).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{DynamoStore, Item, TTL_ATTRIBUTE, unavailable};
use crate::store::{HistoryQuery, LoginEvent, LoginHistoryStore, StoreError};

const HISTORY_USER_PREFIX: &str = "LOGIN_HISTORY#USER#";
const HISTORY_DAY_PREFIX: &str = "LOGIN_HISTORY#DAY#";
const DAY_SECONDS: u64 = 86_400;
/// Items asked for per history Query page; pages are read until the limit is met.
const HISTORY_PAGE: i32 = 1_000;
/// Most pages one history read may take (10 000 events fit in far fewer).
const HISTORY_MAX_PAGES: usize = 64;

/// Items to ask for when `wanted` more are needed: no more than that (reads are paid per item),
/// at most [`HISTORY_PAGE`].
fn page_size(wanted: usize) -> i32 {
    i32::try_from(wanted).map_or(HISTORY_PAGE, |w| w.clamp(1, HISTORY_PAGE))
}

fn history_sk(time: u64, id: u64) -> String {
    format!("{time:020}#{id:016}")
}

impl DynamoStore {
    /// The events of one history partition with `from <= time <= to`, newest first, appended to
    /// `out` until it holds `limit`.
    async fn history_partition(
        &self,
        pk: String,
        query: &HistoryQuery,
        out: &mut Vec<LoginEvent>,
    ) -> Result<(), StoreError> {
        let mut start: Option<Item> = None;
        for _ in 0..HISTORY_MAX_PAGES {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                .expression_attribute_values(":from", AttributeValue::S(history_sk(query.from, 0)))
                .expression_attribute_values(
                    ":to",
                    AttributeValue::S(history_sk(query.to, 9_999_999_999_999_999)),
                )
                .scan_index_forward(false)
                .consistent_read(true)
                .limit(page_size(query.limit.saturating_sub(out.len())))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| unavailable("Query", &e))?;
            for item in page.items() {
                let event = event_of(item)?;
                if event.expires_at > query.now {
                    out.push(event);
                }
                if out.len() >= query.limit {
                    return Ok(());
                }
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(()),
            }
        }
        Ok(())
    }
}

fn event_of(item: &Item) -> Result<LoginEvent, StoreError> {
    item.get("doc")
        .and_then(|v| v.as_s().ok())
        .and_then(|doc| serde_json::from_str(doc).ok())
        .ok_or_else(|| StoreError::Fault("corrupt login history item".into()))
}

/// The items of one login event: by day, and by user when it names one.
fn history_items(event: &LoginEvent) -> Result<Vec<Item>, StoreError> {
    let doc = serde_json::to_string(event)
        .map_err(|e| StoreError::Fault(format!("login event not serialisable: {e}")))?;
    let mut pks = vec![format!("{HISTORY_DAY_PREFIX}{}", event.time / DAY_SECONDS)];
    if let Some(user) = &event.user_name {
        pks.push(format!("{HISTORY_USER_PREFIX}{user}"));
    }
    Ok(pks
        .into_iter()
        .map(|pk| {
            HashMap::from([
                ("pk".to_string(), AttributeValue::S(pk)),
                (
                    "sk".to_string(),
                    AttributeValue::S(history_sk(event.time, event.id)),
                ),
                ("doc".to_string(), AttributeValue::S(doc.clone())),
                (
                    TTL_ATTRIBUTE.to_string(),
                    AttributeValue::N(event.expires_at.to_string()),
                ),
            ])
        })
        .collect())
}

#[async_trait]
impl LoginHistoryStore for DynamoStore {
    async fn record_login(&self, event: &LoginEvent) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        let mut writes = Vec::new();
        for item in history_items(event)? {
            let put = PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(|e| StoreError::Fault(format!("PutRequest: {e}")))?;
            writes.push(WriteRequest::builder().put_request(put).build());
        }
        let mut request = HashMap::from([(self.table.clone(), writes)]);
        // Unprocessed items come back under load; send those again, a bounded number of times.
        for _ in 0..3 {
            let out = self
                .client
                .batch_write_item()
                .set_request_items(Some(request))
                .send()
                .await
                .map_err(|e| unavailable("BatchWriteItem", &e))?;
            match out.unprocessed_items() {
                Some(left) if left.values().any(|w| !w.is_empty()) => request = left.clone(),
                _ => return Ok(()),
            }
        }
        Err(StoreError::Unavailable(
            "BatchWriteItem left login history items unprocessed".into(),
        ))
    }

    async fn login_history(&self, query: &HistoryQuery) -> Result<Vec<LoginEvent>, StoreError> {
        let mut out = Vec::new();
        if query.from > query.to || query.limit == 0 {
            return Ok(out);
        }
        if let Some(user) = &query.user {
            let pk = format!("{HISTORY_USER_PREFIX}{user}");
            self.history_partition(pk, query, &mut out).await?;
            return Ok(out);
        }
        // Nothing older than the retention exists, nor anything much in the future: at most nine days.
        let oldest = query.from.max(
            query
                .now
                .saturating_sub(crate::domain::query::login_history::RETENTION_SECONDS),
        );
        let newest = query.to.min(query.now.saturating_add(DAY_SECONDS));
        let mut day = newest / DAY_SECONDS;
        while day >= oldest / DAY_SECONDS && out.len() < query.limit {
            let pk = format!("{HISTORY_DAY_PREFIX}{day}");
            self.history_partition(pk, query, &mut out).await?;
            match day.checked_sub(1) {
                Some(d) => day = d,
                None => break,
            }
        }
        Ok(out)
    }
}
