//! Sessions: `pk = SESSION#<id>`, `sk = SESSION` (`super::key`), expired through the
//! TTL attribute `expires_at`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{DynamoStore, Item, TTL_ATTRIBUTE, is_condition_failure, key, unavailable};
use crate::domain::session::{OAuthGrant, SealedUpstream, Session, SessionContext};
use crate::store::{SessionStore, StoreError};

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

    pub(super) fn from_item(item: &Item) -> Result<Session, StoreError> {
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
