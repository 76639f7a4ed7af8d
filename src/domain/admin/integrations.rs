//! CREATE, ALTER, DROP, SHOW and DESCRIBE SECURITY INTEGRATION (External OAuth). They decide whose
//! tokens log users in: an integration with a key of one's own logs in any user it maps to, so, as in
//! Snowflake (where declaring one needs the account-level CREATE INTEGRATION privilege, held by
//! ACCOUNTADMIN alone unless granted), only ACCOUNTADMIN may run them, SHOW and DESCRIBE included.

use super::command::{CreateMode, IntegrationCommand};
use super::{
    AdminContext, Answer, alter_absent, denied, drop_absent, exists, holds, invalid, like, missing,
    owns,
};
use crate::domain::directory::security_integrations::{
    ExternalOauth, IntegrationProperty, MAX_INTEGRATIONS,
};
use crate::domain::ident::Identifier;
use crate::error::Result;

pub(super) async fn run(ctx: &AdminContext<'_>, command: IntegrationCommand) -> Result<Answer> {
    if !holds(ctx.role, "ACCOUNTADMIN") {
        return Err(denied(format!(
            "Role '{}' cannot manage security integrations; use ACCOUNTADMIN.",
            ctx.role
        )));
    }
    match command {
        IntegrationCommand::Create {
            name,
            mode,
            properties,
        } => create(ctx, name, mode, properties).await,
        IntegrationCommand::Alter {
            name,
            if_exists,
            properties,
        } => alter(ctx, name, if_exists, properties).await,
        IntegrationCommand::Drop { name, if_exists } => drop(ctx, name, if_exists).await,
        IntegrationCommand::Show { like } => show(ctx, like).await,
        IntegrationCommand::Describe { name } => describe(ctx, name).await,
    }
}

fn owner(i: &ExternalOauth) -> &str {
    i.creator_role()
}

async fn create(
    ctx: &AdminContext<'_>,
    name: Identifier,
    mode: CreateMode,
    properties: Vec<IntegrationProperty>,
) -> Result<Answer> {
    if !holds(ctx.role, "ACCOUNTADMIN") {
        return Err(denied(format!(
            "Role '{}' cannot create security integrations; use ACCOUNTADMIN.",
            ctx.role
        )));
    }
    let dir = ctx.directory;
    let mut integration = ExternalOauth::new(name.to_string(), ctx.now, ctx.role);
    for p in properties {
        p.apply(&mut integration);
    }
    integration.check().map_err(invalid)?;
    match dir.integration(name.as_ident()).await? {
        Some(_) if mode.if_not_exists => return Ok(Answer::skipped("Integration", &name)),
        Some(existing) if mode.or_replace => {
            owns(ctx, "integration", &existing.name, owner(&existing))?
        }
        Some(_) => return Err(exists(&name)),
        None if dir.integrations().await?.len() >= MAX_INTEGRATIONS => {
            return Err(invalid(format!(
                "At most {MAX_INTEGRATIONS} security integrations may exist."
            )));
        }
        None => {}
    }
    if !dir.put_integration(&integration, mode.or_replace).await? {
        return Err(exists(&name));
    }
    Ok(Answer::created("Integration", &name))
}

async fn alter(
    ctx: &AdminContext<'_>,
    name: Identifier,
    if_exists: bool,
    properties: Vec<IntegrationProperty>,
) -> Result<Answer> {
    let dir = ctx.directory;
    let Some(mut integration) = dir.integration(name.as_ident()).await? else {
        return alter_absent("Integration", &name, if_exists);
    };
    owns(ctx, "integration", &integration.name, owner(&integration))?;
    for p in properties {
        p.apply(&mut integration);
    }
    integration.check().map_err(invalid)?;
    dir.put_integration(&integration, false).await?;
    Ok(Answer::done())
}

async fn drop(ctx: &AdminContext<'_>, name: Identifier, if_exists: bool) -> Result<Answer> {
    let dir = ctx.directory;
    let Some(integration) = dir.integration(name.as_ident()).await? else {
        return drop_absent("Integration", &name, if_exists);
    };
    owns(ctx, "integration", &integration.name, owner(&integration))?;
    dir.delete_integration(name.as_ident()).await?;
    Ok(Answer::dropped(&name))
}

async fn show(ctx: &AdminContext<'_>, pattern: Option<String>) -> Result<Answer> {
    let rows = ctx
        .directory
        .integrations()
        .await?
        .into_iter()
        .filter(|i| like(&pattern, &i.name))
        .map(|i| {
            vec![
                Some(i.name.clone()),
                Some(i.type_label()),
                Some("SECURITY".into()),
                Some(i.enabled.to_string()),
                i.comment,
                Some(i.created_on.to_string()),
            ]
        })
        .collect();
    Ok(Answer::table(
        &[
            "name",
            "type",
            "category",
            "enabled",
            "comment",
            "created_on",
        ],
        rows,
    ))
}

fn list(items: &[String]) -> String {
    items.join(", ")
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

/// One DESCRIBE row: the property, its type, how to print its value, its default.
type Property = (
    &'static str,
    &'static str,
    fn(&ExternalOauth) -> String,
    &'static str,
);

const PROPERTIES: &[Property] = &[
    ("ENABLED", "Boolean", |i| i.enabled.to_string(), "false"),
    (
        "EXTERNAL_OAUTH_TYPE",
        "String",
        |i| i.oauth_type.clone(),
        "",
    ),
    ("EXTERNAL_OAUTH_ISSUER", "String", |i| i.issuer.clone(), ""),
    (
        "EXTERNAL_OAUTH_JWS_KEYS_URL",
        "Object",
        |i| text(&i.jws_keys_url),
        "",
    ),
    (
        "EXTERNAL_OAUTH_RSA_PUBLIC_KEY",
        "String",
        |i| text(&i.rsa_public_key),
        "",
    ),
    (
        "EXTERNAL_OAUTH_RSA_PUBLIC_KEY_2",
        "String",
        |i| text(&i.rsa_public_key_2),
        "",
    ),
    (
        "EXTERNAL_OAUTH_BLOCKED_ROLES_LIST",
        "List",
        |i| list(&i.blocked_roles),
        "",
    ),
    (
        "EXTERNAL_OAUTH_ALLOWED_ROLES_LIST",
        "List",
        |i| list(&i.allowed_roles),
        "",
    ),
    (
        "EXTERNAL_OAUTH_AUDIENCE_LIST",
        "List",
        |i| list(&i.audiences),
        "",
    ),
    (
        "EXTERNAL_OAUTH_TOKEN_USER_MAPPING_CLAIM",
        "Object",
        |i| format!("['{}']", i.user_mapping_claims.join("', '")),
        "",
    ),
    (
        "EXTERNAL_OAUTH_SNOWFLAKE_USER_MAPPING_ATTRIBUTE",
        "String",
        |i| i.mapping_attribute.as_str().to_string(),
        "LOGIN_NAME",
    ),
    (
        "EXTERNAL_OAUTH_ANY_ROLE_MODE",
        "String",
        |i| i.any_role_mode.clone(),
        "DISABLE",
    ),
    (
        "EXTERNAL_OAUTH_SCOPE_DELIMITER",
        "String",
        |i| i.scope_delimiter.clone(),
        ",",
    ),
    (
        "EXTERNAL_OAUTH_SCOPE_MAPPING_ATTRIBUTE",
        "String",
        |i| i.scope_mapping_attribute.clone(),
        "scp",
    ),
    ("COMMENT", "String", |i| text(&i.comment), ""),
];

async fn describe(ctx: &AdminContext<'_>, name: Identifier) -> Result<Answer> {
    let Some(i) = ctx.directory.integration(name.as_ident()).await? else {
        return Err(missing("Integration", &name));
    };
    let rows = PROPERTIES
        .iter()
        .map(|(p, t, v, d)| {
            vec![
                Some(p.to_string()),
                Some(t.to_string()),
                Some(v(&i)),
                Some(d.to_string()),
            ]
        })
        .collect();
    Ok(Answer::table(
        &[
            "property",
            "property_type",
            "property_value",
            "property_default",
        ],
        rows,
    ))
}
