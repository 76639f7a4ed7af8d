//! Directory objects live in one partition per kind (`pk = USER`, `sk = <name>`, the JSON document
//! in `doc`, its version in `version`), so a kind is listed with one Query and never a Scan.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{DynamoStore, Item, is_condition_failure, unavailable};
use crate::store::{DirectoryStore, ObjectKey, ObjectKind, StoreError, Versioned, Write};

pub(super) fn object_key(key: ObjectKey<'_>) -> Item {
    HashMap::from([
        (
            "pk".to_string(),
            AttributeValue::S(key.kind().key_prefix().to_string()),
        ),
        ("sk".to_string(), AttributeValue::S(key.name().to_string())),
    ])
}

/// A directory item as its document and version (0 for items written before versions existed).
pub(super) fn doc_of(item: &Item) -> Result<Versioned, StoreError> {
    let doc = item
        .get("doc")
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or_else(|| StoreError::Fault("corrupt directory item: doc".into()))?;
    let version = item
        .get("version")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(Versioned { doc, version })
}

#[async_trait]
impl DirectoryStore for DynamoStore {
    async fn get_object(&self, key: ObjectKey<'_>) -> Result<Option<Versioned>, StoreError> {
        self.read(object_key(key))
            .await?
            .as_ref()
            .map(doc_of)
            .transpose()
    }

    /// One UpdateItem: the document and the version together, the condition chosen by `write`.
    async fn put_object(
        &self,
        key: ObjectKey<'_>,
        doc: &str,
        write: Write,
    ) -> Result<u64, StoreError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(object_key(key)))
            .update_expression("SET doc = :doc ADD version :one")
            .expression_attribute_values(":doc", AttributeValue::S(doc.to_string()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew);
        request = match write {
            Write::Create => request.condition_expression("attribute_not_exists(pk)"),
            Write::Replace => request,
            Write::IfVersion(0) => request
                .condition_expression("attribute_exists(pk) AND attribute_not_exists(version)"),
            Write::IfVersion(v) => request
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(v.to_string())),
        };
        match request.send().await {
            Ok(out) => Ok(out
                .attributes()
                .and_then(|a| a.get("version"))
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(1)),
            Err(e) if is_condition_failure(&e) => Err(match write {
                Write::Create => StoreError::AlreadyExists,
                _ => StoreError::Conflict,
            }),
            Err(e) => Err(unavailable("UpdateItem", &e)),
        }
    }

    async fn delete_object(&self, key: ObjectKey<'_>) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(object_key(key)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| unavailable("DeleteItem", &e))?;
        Ok(out.attributes().is_some_and(|a| !a.is_empty()))
    }

    async fn list_objects(&self, kind: ObjectKind) -> Result<Vec<Versioned>, StoreError> {
        let mut docs = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(kind.key_prefix().into()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| unavailable("Query", &e))?;
            for item in out.items() {
                docs.push(doc_of(item)?);
            }
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(docs),
            }
        }
    }
}
