//! Sessions in DynamoDB, in a single table with typed string keys (`pk`, `sk`) so users and lockout
//! counters can share it later. A session is `pk = SESSION#<id>`, `sk = SESSION`, expired through the
//! TTL attribute `expires_at`. DynamoDB deletes expired items late (moto never does), so every read
//! checks expiry itself. Directory objects live in one partition per kind (`pk = USER`, `sk = <name>`,
//! the JSON document in `doc`), so a kind is listed with one Query and never a Scan. Each operation is
//! one DynamoDB call; reads are consistent so a delete is seen at once by every instance.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{DirectoryStore, ObjectKind, SessionStore, StoreError};
use crate::aws::describe;
use crate::domain::session::{Session, SessionContext};

pub const TTL_ATTRIBUTE: &str = "expires_at";

pub struct DynamoStore {
    client: Client,
    table: String,
}

type Item = HashMap<String, AttributeValue>;

fn key(id: u64) -> Item {
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(format!("SESSION#{id}"))),
        ("sk".to_string(), AttributeValue::S("SESSION".to_string())),
    ])
}

fn unavailable<E, R>(op: &str, err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(format!("DynamoDB {op}: {}", describe(err)))
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

/// The context attributes, in the order of [`SessionContext`]'s fields.
const CONTEXT_ATTRIBUTES: [&str; 4] = ["ctx_database", "ctx_schema", "ctx_warehouse", "ctx_role"];

fn context_values(ctx: &SessionContext) -> [&Option<String>; 4] {
    [&ctx.database, &ctx.schema, &ctx.warehouse, &ctx.role]
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
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(0)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("GetItem", &e))
    }

    fn to_item(session: &Session) -> Item {
        let mut item = key(session.id);
        let s = |v: &str| AttributeValue::S(v.to_string());
        let n = |v: u64| AttributeValue::N(v.to_string());
        item.insert("session_id".into(), n(session.id));
        item.insert("user_name".into(), s(&session.user));
        item.insert("account".into(), s(&session.account));
        item.insert("created_at".into(), n(session.created_at));
        item.insert(TTL_ATTRIBUTE.into(), n(session.expires_at));
        if !session.user_id.is_empty() {
            item.insert("user_id".into(), s(&session.user_id));
        }
        if let Some(app) = &session.client_app {
            item.insert("client_app".into(), s(app));
        }
        for (name, value) in CONTEXT_ATTRIBUTES
            .iter()
            .zip(context_values(&session.context))
        {
            if let Some(v) = value {
                item.insert((*name).into(), s(v));
            }
        }
        item
    }

    fn from_item(item: &Item) -> Result<Session, StoreError> {
        let corrupt = |what: &str| StoreError::Unavailable(format!("corrupt session item: {what}"));
        let s = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let n = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| corrupt(name))
        };
        Ok(Session {
            id: n("session_id")?,
            user: s("user_name").ok_or_else(|| corrupt("user_name"))?,
            account: s("account").unwrap_or_default(),
            context: SessionContext {
                database: s(CONTEXT_ATTRIBUTES[0]),
                schema: s(CONTEXT_ATTRIBUTES[1]),
                warehouse: s(CONTEXT_ATTRIBUTES[2]),
                role: s(CONTEXT_ATTRIBUTES[3]),
            },
            created_at: n("created_at")?,
            expires_at: n(TTL_ATTRIBUTE)?,
            client_app: s("client_app"),
            user_id: s("user_id").unwrap_or_default(),
        })
    }
}

#[async_trait]
impl SessionStore for DynamoStore {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::to_item(session)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::AlreadyExists),
            Err(e) => Err(unavailable("PutItem", &e)),
        }
    }

    async fn get(&self, id: u64, now: u64) -> Result<Option<Session>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", &e))?;
        match out.item() {
            None => Ok(None),
            Some(item) => {
                let session = Self::from_item(item)?;
                Ok((!session.is_expired(now)).then_some(session))
            }
        }
    }

    async fn update_context(
        &self,
        id: u64,
        context: &SessionContext,
        now: u64,
    ) -> Result<bool, StoreError> {
        let mut set = Vec::new();
        let mut remove = Vec::new();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .condition_expression("attribute_exists(pk) AND #exp > :now")
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()));
        for (i, (name, value)) in CONTEXT_ATTRIBUTES
            .iter()
            .zip(context_values(context))
            .enumerate()
        {
            request = request.expression_attribute_names(format!("#c{i}"), *name);
            match value {
                Some(v) => {
                    set.push(format!("#c{i} = :c{i}"));
                    request = request.expression_attribute_values(
                        format!(":c{i}"),
                        AttributeValue::S(v.clone()),
                    );
                }
                None => remove.push(format!("#c{i}")),
            }
        }
        let mut expression = String::new();
        if !set.is_empty() {
            expression.push_str(&format!("SET {}", set.join(", ")));
        }
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        match request.update_expression(expression.trim()).send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(unavailable("UpdateItem", &e)),
        }
    }

    async fn delete(&self, id: u64) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("DeleteItem", &e))
    }
}

fn object_key(kind: ObjectKind, name: &str) -> Item {
    HashMap::from([
        (
            "pk".to_string(),
            AttributeValue::S(kind.key_prefix().to_string()),
        ),
        ("sk".to_string(), AttributeValue::S(name.to_string())),
    ])
}

fn doc_of(item: &Item) -> Result<String, StoreError> {
    item.get("doc")
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or_else(|| StoreError::Unavailable("corrupt directory item: doc".into()))
}

#[async_trait]
impl DirectoryStore for DynamoStore {
    async fn get_object(&self, kind: ObjectKind, name: &str) -> Result<Option<String>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(object_key(kind, name)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", &e))?;
        out.item().map(doc_of).transpose()
    }

    async fn put_object(
        &self,
        kind: ObjectKind,
        name: &str,
        doc: &str,
        replace: bool,
    ) -> Result<(), StoreError> {
        let mut item = object_key(kind, name);
        item.insert("doc".into(), AttributeValue::S(doc.to_string()));
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        if !replace {
            request = request.condition_expression("attribute_not_exists(pk)");
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::AlreadyExists),
            Err(e) => Err(unavailable("PutItem", &e)),
        }
    }

    async fn update_object(
        &self,
        kind: ObjectKind,
        name: &str,
        doc: &str,
    ) -> Result<bool, StoreError> {
        let mut item = object_key(kind, name);
        item.insert("doc".into(), AttributeValue::S(doc.to_string()));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(unavailable("PutItem", &e)),
        }
    }

    async fn delete_object(&self, kind: ObjectKind, name: &str) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(object_key(kind, name)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| unavailable("DeleteItem", &e))?;
        Ok(out.attributes().is_some_and(|a| !a.is_empty()))
    }

    async fn list_objects(&self, kind: ObjectKind) -> Result<Vec<String>, StoreError> {
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
