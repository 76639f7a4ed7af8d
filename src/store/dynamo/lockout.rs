//! Failed-login counters: `pk = LOCKOUT#<name>`, `sk = LOCKOUT`, expired through the TTL attribute
//! `expires_at`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{DynamoStore, Item, TTL_ATTRIBUTE, is_condition_failure, unavailable};
use crate::store::{CounterName, Failures, LockoutStore, StoreError};

pub(super) fn lockout_key(name: &CounterName) -> Item {
    HashMap::from([
        (
            "pk".to_string(),
            AttributeValue::S(format!("LOCKOUT#{}", name.as_str())),
        ),
        ("sk".to_string(), AttributeValue::S("LOCKOUT".to_string())),
    ])
}

/// A counter item as `(failures, last attempt)`; an expired one reads as no failures.
pub(super) fn counter_of(item: Option<&Item>, now: u64) -> (Failures, Option<String>) {
    let n = |item: &Item, name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u64>().ok())
    };
    match item {
        Some(item) => {
            let until = n(item, TTL_ATTRIBUTE).unwrap_or(0);
            if until <= now {
                return (Failures::default(), None);
            }
            let count = n(item, "failures").unwrap_or(0).min(u64::from(u32::MAX)) as u32;
            let attempt = item.get("attempt").and_then(|v| v.as_s().ok()).cloned();
            (Failures { count, until }, attempt)
        }
        None => (Failures::default(), None),
    }
}

impl DynamoStore {
    async fn counter(
        &self,
        name: &CounterName,
        now: u64,
    ) -> Result<(Failures, Option<String>), StoreError> {
        Ok(counter_of(
            self.read(lockout_key(name)).await?.as_ref(),
            now,
        ))
    }

    /// Raises a live counter by one, or starts one at one where there is none (`ADD` creates the
    /// item), unless `attempt` was the last one counted: a name's first failure is one call. `None`
    /// when the condition failed: the counter is expired, or the attempt was counted.
    async fn raise_counter(
        &self,
        name: &CounterName,
        attempt: &str,
        now: u64,
        until: u64,
    ) -> Result<Option<Failures>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(lockout_key(name)))
            .update_expression("ADD failures :one SET attempt = :attempt, #exp = :until")
            .condition_expression(
                "attribute_not_exists(pk) OR (#exp > :now AND attempt <> :attempt)",
            )
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":attempt", AttributeValue::S(attempt.into()))
            .expression_attribute_values(":until", AttributeValue::N(until.to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Some(counter_of(out.attributes(), now).0)),
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(unavailable("UpdateItem", &e)),
        }
    }

    /// Starts a counter at one where there is none or only an expired one. `false` when another
    /// instance started it first.
    async fn start_counter(
        &self,
        name: &CounterName,
        attempt: &str,
        now: u64,
        until: u64,
    ) -> Result<bool, StoreError> {
        let mut item = lockout_key(name);
        item.insert("failures".into(), AttributeValue::N("1".into()));
        item.insert("attempt".into(), AttributeValue::S(attempt.into()));
        item.insert(TTL_ATTRIBUTE.into(), AttributeValue::N(until.to_string()));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #exp <= :now")
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(unavailable("PutItem", &e)),
        }
    }
}

#[async_trait]
impl LockoutStore for DynamoStore {
    async fn failures(&self, name: &CounterName, now: u64) -> Result<Failures, StoreError> {
        Ok(self.counter(name, now).await?.0)
    }

    async fn record_failure(
        &self,
        name: &CounterName,
        attempt: &str,
        now: u64,
        until: u64,
    ) -> Result<(Failures, bool), StoreError> {
        // Each step is one conditional write, so parallel attempts on several instances each count
        // exactly once; a lost race only sends this attempt round the loop again.
        for _ in 0..4 {
            if let Some(failures) = self.raise_counter(name, attempt, now, until).await? {
                return Ok((failures, true));
            }
            let (failures, last) = self.counter(name, now).await?;
            if failures.count > 0 {
                if last.as_deref() == Some(attempt) {
                    return Ok((failures, false));
                }
                continue;
            }
            if self.start_counter(name, attempt, now, until).await? {
                return Ok((Failures { count: 1, until }, true));
            }
        }
        Err(StoreError::Unavailable(
            "failed-login counter is contended; retry".into(),
        ))
    }

    async fn clear_failures(&self, name: &CounterName) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(lockout_key(name)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("DeleteItem", &e))
    }
}
