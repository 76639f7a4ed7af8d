//! Sessions, the directory and failed-login counters in DynamoDB, in a single table with typed string
//! keys (`pk`, `sk`). A session is `pk = SESSION#<id>`, `sk = SESSION`, expired through the TTL
//! attribute `expires_at`; a failure counter is `pk = LOCKOUT#<name>`, `sk = LOCKOUT`, also expired
//! through `expires_at`. DynamoDB deletes expired items late (moto never does), so every read
//! checks expiry itself. Directory objects live in one partition per kind (`pk = USER`, `sk = <name>`,
//! the JSON document in `doc`), so a kind is listed with one Query and never a Scan. Each operation is
//! one DynamoDB call; reads are consistent so a delete is seen at once by every instance. What a
//! request reads up front is one BatchGetItem (`read_many`).
//!
//! A login event is two items, written in one BatchWriteItem, both expired through `expires_at`:
//! `pk = LOGIN_HISTORY#USER#<name>` for "this user's logins" and `pk = LOGIN_HISTORY#DAY#<day>` (days
//! since the epoch, UTC) for "everyone's logins", each with `sk = <time, 20 digits>#<id, 16 digits>`,
//! so one Query per partition reads a time range newest first. "Everyone" reads at most nine day
//! partitions (the seven days kept, and the partial ones at each end).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    CounterName, DirectoryStore, Failures, Found, HistoryQuery, LockoutStore, LoginEvent,
    LoginHistoryStore, ObjectKey, ObjectKind, Read, SessionStore, Store, StoreError, Versioned,
    Write, check_batch,
};
use crate::aws::describe;
use crate::domain::session::{OAuthGrant, SealedUpstream, Session, SessionContext};

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

/// The context attributes, in the order of [`SessionContext`]'s fields; the parameters set by
/// `ALTER SESSION` are one JSON document (absent when none are set).
const CONTEXT_ATTRIBUTES: [&str; 5] = [
    "ctx_database",
    "ctx_schema",
    "ctx_warehouse",
    "ctx_role",
    "ctx_parameters",
];

/// The sealed engine token of a session ([`SealedUpstream`]), one JSON document; only ciphertext.
const UPSTREAM_ATTRIBUTE: &str = "upstream";

fn upstream_doc(upstream: &SealedUpstream) -> Option<String> {
    serde_json::to_string(upstream).ok()
}

fn context_values(ctx: &SessionContext) -> [Option<String>; 5] {
    let parameters = (!ctx.parameters.is_empty())
        .then(|| serde_json::to_string(&ctx.parameters).ok())
        .flatten();
    [
        ctx.database.clone(),
        ctx.schema.clone(),
        ctx.warehouse.clone(),
        ctx.role.clone(),
        parameters,
    ]
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
        if !session.token_id.is_empty() {
            item.insert("token_id".into(), s(&session.token_id));
        }
        if let Some(previous) = &session.previous_token_id {
            item.insert("prev_token_id".into(), s(previous));
        }
        if session.renewed_at > 0 {
            item.insert("renewed_at".into(), n(session.renewed_at));
        }
        if let Some(role) = &session.role_restriction {
            item.insert("role_restriction".into(), s(role));
        }
        if let Some(grant) = &session.oauth {
            item.insert("oauth_integration".into(), s(&grant.integration));
            item.insert("oauth_expires_at".into(), n(grant.expires_at));
            item.insert(
                "oauth_integration_created_on".into(),
                n(grant.integration_created_on),
            );
        }
        if let Some(credential) = &session.opened_by
            && let Ok(doc) = serde_json::to_string(credential)
        {
            item.insert("opened_by".into(), s(&doc));
        }
        if let Some(upstream) = &session.upstream
            && let Some(doc) = upstream_doc(upstream)
        {
            item.insert(UPSTREAM_ATTRIBUTE.into(), s(&doc));
        }
        item.insert("last_active".into(), n(session.last_active));
        item.insert("idle_limit".into(), n(session.idle_limit));
        // DynamoDB conditions cannot add: the idle deadline is kept precomputed for `touch`.
        item.insert(
            "idle_until".into(),
            n(session.last_active.saturating_add(session.idle_limit)),
        );
        for (name, value) in CONTEXT_ATTRIBUTES
            .iter()
            .zip(context_values(&session.context))
        {
            if let Some(v) = value {
                item.insert((*name).into(), s(&v));
            }
        }
        item
    }

    fn from_item(item: &Item) -> Result<Session, StoreError> {
        let corrupt = |what: &str| StoreError::Fault(format!("corrupt session item: {what}"));
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
                parameters: match s(CONTEXT_ATTRIBUTES[4]) {
                    Some(doc) => {
                        serde_json::from_str(&doc).map_err(|_| corrupt("ctx_parameters"))?
                    }
                    None => Default::default(),
                },
            },
            created_at: n("created_at")?,
            expires_at: n(TTL_ATTRIBUTE)?,
            client_app: s("client_app"),
            user_id: s("user_id").unwrap_or_default(),
            token_id: s("token_id").unwrap_or_default(),
            previous_token_id: s("prev_token_id").filter(|p| !p.is_empty()),
            renewed_at: n("renewed_at").unwrap_or(0),
            role_restriction: s("role_restriction"),
            opened_by: match s("opened_by") {
                Some(doc) => Some(serde_json::from_str(&doc).map_err(|_| corrupt("opened_by"))?),
                None => None,
            },
            upstream: match s(UPSTREAM_ATTRIBUTE) {
                Some(doc) => Some(serde_json::from_str(&doc).map_err(|_| corrupt("upstream"))?),
                None => None,
            },
            last_active: n("last_active").unwrap_or(0),
            idle_limit: n("idle_limit").unwrap_or(0),
            oauth: match s("oauth_integration") {
                Some(integration) => Some(OAuthGrant {
                    integration,
                    expires_at: n("oauth_expires_at")?,
                    integration_created_on: n("oauth_integration_created_on")?,
                }),
                None => None,
            },
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
        match self.read(key(id)).await? {
            None => Ok(None),
            Some(item) => {
                let session = Self::from_item(&item)?;
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
                    request =
                        request.expression_attribute_values(format!(":c{i}"), AttributeValue::S(v));
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

    async fn rotate_token(&self, id: u64, token_id: &str, now: u64) -> Result<bool, StoreError> {
        // The old token id moves to prev_token_id in the same write, so the two never disagree.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .update_expression(
                "SET prev_token_id = if_not_exists(token_id, :none), token_id = :t, renewed_at = :now",
            )
            .condition_expression("attribute_exists(pk) AND #exp > :now")
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":t", AttributeValue::S(token_id.into()))
            .expression_attribute_values(":none", AttributeValue::S(String::new()))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(unavailable("UpdateItem", &e)),
        }
    }

    async fn set_upstream(
        &self,
        id: u64,
        expected: Option<&SealedUpstream>,
        new: &SealedUpstream,
        now: u64,
    ) -> Result<bool, StoreError> {
        let new = upstream_doc(new)
            .ok_or_else(|| StoreError::Fault("engine token not serialisable".into()))?;
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .update_expression("SET #up = :new")
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_names("#up", UPSTREAM_ATTRIBUTE)
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(":new", AttributeValue::S(new));
        // The stored document is compared whole: serde writes the fields in one fixed order.
        request = match expected.map(upstream_doc) {
            None => request.condition_expression(
                "attribute_exists(pk) AND #exp > :now AND attribute_not_exists(#up)",
            ),
            Some(None) => return Ok(false),
            Some(Some(old)) => request
                .condition_expression("attribute_exists(pk) AND #exp > :now AND #up = :old")
                .expression_attribute_values(":old", AttributeValue::S(old)),
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(unavailable("UpdateItem", &e)),
        }
    }

    async fn touch(&self, id: u64, now: u64) -> Result<bool, StoreError> {
        // No limit (0, or a session stored before limits) never goes idle; otherwise the stored
        // deadline must still be ahead, so a late write never revives an idle session.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .update_expression(
                "SET last_active = :now, idle_until = :now + if_not_exists(idle_limit, :zero)",
            )
            .condition_expression(
                "attribute_exists(pk) AND #exp > :now AND (attribute_not_exists(idle_limit) \
                 OR idle_limit = :zero OR idle_until > :now)",
            )
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .send()
            .await;
        match result {
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

    async fn delete_with_token(
        &self,
        id: u64,
        token_id: &str,
        now: u64,
        grace: u64,
    ) -> Result<bool, StoreError> {
        // `Session::accepts_token` as a condition (DynamoDB conditions cannot add, so the grace
        // becomes a cutoff): gone or expired, no token recorded, the current token, or the
        // replaced one renewed after the cutoff. One round trip, like a plain delete.
        let cutoff = now.saturating_sub(grace);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .condition_expression(
                "attribute_not_exists(pk) OR #exp <= :now OR attribute_not_exists(token_id) \
                 OR token_id = :t OR (prev_token_id = :t AND renewed_at > :cutoff)",
            )
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":t", AttributeValue::S(token_id.into()))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(":cutoff", AttributeValue::N(cutoff.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(unavailable("DeleteItem", &e)),
        }
    }
}

fn object_key(key: ObjectKey<'_>) -> Item {
    HashMap::from([
        (
            "pk".to_string(),
            AttributeValue::S(key.kind().key_prefix().to_string()),
        ),
        ("sk".to_string(), AttributeValue::S(key.name().to_string())),
    ])
}

/// A directory item as its document and version (0 for items written before versions existed).
fn doc_of(item: &Item) -> Result<Versioned, StoreError> {
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

fn lockout_key(name: &CounterName) -> Item {
    HashMap::from([
        (
            "pk".to_string(),
            AttributeValue::S(format!("LOCKOUT#{}", name.as_str())),
        ),
        ("sk".to_string(), AttributeValue::S("LOCKOUT".to_string())),
    ])
}

/// A counter item as `(failures, last attempt)`; an expired one reads as no failures.
fn counter_of(item: Option<&Item>, now: u64) -> (Failures, Option<String>) {
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
