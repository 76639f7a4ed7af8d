//! Typing the properties of `CREATE|ALTER SECURITY INTEGRATION … TYPE = EXTERNAL_OAUTH`. Error texts
//! name the property, never its value.

use super::admin::Value;
use crate::domain::credentials::rsa_keys::parse_public_key;
use crate::domain::directory::security_integrations::{
    IntegrationProperty as P, MAX_LIST_ITEMS, MAX_TEXT_CHARS, MappingAttribute,
};
use crate::domain::query::statement::SqlRejection;

type Typed<T> = Result<T, SqlRejection>;

fn invalid(message: impl Into<String>) -> SqlRejection {
    SqlRejection::InvalidValue(message.into())
}

fn text(name: &str, value: &Value) -> Typed<String> {
    let s = match value {
        Value::Str(s) | Value::Number(s) => s.clone(),
        Value::Ident(i) => i.to_string(),
        _ => return Err(invalid(format!("{name} must be a string."))),
    };
    if s.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(format!(
            "{name} is longer than {MAX_TEXT_CHARS} characters."
        )));
    }
    Ok(s)
}

fn upper(name: &str, value: &Value, allowed: &[&str]) -> Typed<String> {
    let t = text(name, value)?.to_ascii_uppercase();
    match allowed.contains(&t.as_str()) {
        true => Ok(t),
        false => Err(invalid(format!(
            "{name} must be one of {}.",
            allowed.join(", ")
        ))),
    }
}

fn boolean(name: &str, value: &Value) -> Typed<bool> {
    match text(name, value)?.to_ascii_uppercase().as_str() {
        "TRUE" => Ok(true),
        "FALSE" => Ok(false),
        _ => Err(invalid(format!("{name} must be TRUE or FALSE."))),
    }
}

/// A list of non-empty strings; a single string is a list of one.
fn list(name: &str, value: &Value) -> Typed<Vec<String>> {
    let items = match value {
        Value::List(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    if items.len() > MAX_LIST_ITEMS {
        return Err(invalid(format!(
            "{name} holds at most {MAX_LIST_ITEMS} entries."
        )));
    }
    items
        .iter()
        .map(|v| text(name, v))
        .map(|t| t.and_then(|t| nonempty(name, t)))
        .collect()
}

fn nonempty(name: &str, t: String) -> Typed<String> {
    match t.trim().is_empty() {
        true => Err(invalid(format!("{name} cannot be empty."))),
        false => Ok(t),
    }
}

/// Role names as the roles are stored: upper-cased.
fn roles(name: &str, value: &Value) -> Typed<Vec<String>> {
    Ok(list(name, value)?
        .into_iter()
        .map(|r| r.to_uppercase())
        .collect())
}

fn https(name: &str, value: &Value) -> Typed<String> {
    let url = text(name, value)?;
    match url.starts_with("https://") && url.len() > "https://".len() {
        true => Ok(url),
        false => Err(invalid(format!("{name} must be an https URL."))),
    }
}

fn rsa_key(name: &str, value: &Value) -> Typed<String> {
    let key = parse_public_key(&text(name, value)?)
        .map_err(|why| invalid(format!("{name} is invalid: {why}.")))?;
    Ok(key.base64_der)
}

/// One property: `Some(value)` for CREATE / SET, `None` for UNSET.
pub fn property(name: &str, value: Option<&Value>) -> Typed<P> {
    let Some(v) = value else {
        return unset(name);
    };
    Ok(match name {
        "TYPE" => {
            upper(name, v, &["EXTERNAL_OAUTH"])?;
            P::Type
        }
        "ENABLED" => P::Enabled(boolean(name, v)?),
        "EXTERNAL_OAUTH_TYPE" => P::OauthType(upper(
            name,
            v,
            &["OKTA", "AZURE", "PING_FEDERATE", "CUSTOM"],
        )?),
        "EXTERNAL_OAUTH_ISSUER" => P::Issuer(nonempty(name, text(name, v)?)?),
        "EXTERNAL_OAUTH_TOKEN_USER_MAPPING_CLAIM" => P::UserMappingClaims(list(name, v)?),
        "EXTERNAL_OAUTH_SNOWFLAKE_USER_MAPPING_ATTRIBUTE" => P::MappingAttribute(
            match upper(name, v, &["LOGIN_NAME", "EMAIL_ADDRESS"])?.as_str() {
                "EMAIL_ADDRESS" => MappingAttribute::EmailAddress,
                _ => MappingAttribute::LoginName,
            },
        ),
        "EXTERNAL_OAUTH_JWS_KEYS_URL" => P::JwsKeysUrl(Some(https(name, v)?)),
        "EXTERNAL_OAUTH_RSA_PUBLIC_KEY" => P::RsaPublicKey(Some(rsa_key(name, v)?)),
        "EXTERNAL_OAUTH_RSA_PUBLIC_KEY_2" => P::RsaPublicKey2(Some(rsa_key(name, v)?)),
        "EXTERNAL_OAUTH_AUDIENCE_LIST" => P::Audiences(list(name, v)?),
        "EXTERNAL_OAUTH_ALLOWED_ROLES_LIST" => P::AllowedRoles(roles(name, v)?),
        "EXTERNAL_OAUTH_BLOCKED_ROLES_LIST" => P::BlockedRoles(roles(name, v)?),
        "EXTERNAL_OAUTH_ANY_ROLE_MODE" => P::AnyRoleMode(upper(
            name,
            v,
            &["DISABLE", "ENABLE", "ENABLE_FOR_PRIVILEGE"],
        )?),
        "EXTERNAL_OAUTH_SCOPE_DELIMITER" => {
            let d = text(name, v)?;
            if d.chars().count() != 1 {
                return Err(invalid(format!("{name} must be one character.")));
            }
            P::ScopeDelimiter(d)
        }
        "EXTERNAL_OAUTH_SCOPE_MAPPING_ATTRIBUTE" => {
            P::ScopeMappingAttribute(nonempty(name, text(name, v)?)?)
        }
        "COMMENT" => P::Comment(Some(text(name, v)?)),
        other => {
            return Err(invalid(format!(
                "Invalid property '{other}' for a security integration of TYPE = EXTERNAL_OAUTH."
            )));
        }
    })
}

fn unset(name: &str) -> Typed<P> {
    Ok(match name {
        "EXTERNAL_OAUTH_JWS_KEYS_URL" => P::JwsKeysUrl(None),
        "EXTERNAL_OAUTH_RSA_PUBLIC_KEY" => P::RsaPublicKey(None),
        "EXTERNAL_OAUTH_RSA_PUBLIC_KEY_2" => P::RsaPublicKey2(None),
        "EXTERNAL_OAUTH_AUDIENCE_LIST" => P::Audiences(Vec::new()),
        "EXTERNAL_OAUTH_ALLOWED_ROLES_LIST" => P::AllowedRoles(Vec::new()),
        "EXTERNAL_OAUTH_BLOCKED_ROLES_LIST" => P::BlockedRoles(Vec::new()),
        "EXTERNAL_OAUTH_ANY_ROLE_MODE" => P::AnyRoleMode("DISABLE".into()),
        "EXTERNAL_OAUTH_SCOPE_DELIMITER" => P::ScopeDelimiter(",".into()),
        "EXTERNAL_OAUTH_SCOPE_MAPPING_ATTRIBUTE" => P::ScopeMappingAttribute("scp".into()),
        "COMMENT" => P::Comment(None),
        "ENABLED" => P::Enabled(false),
        other => {
            return Err(invalid(format!(
                "Property '{other}' of a security integration cannot be unset."
            )));
        }
    })
}

/// CREATE needs TYPE = EXTERNAL_OAUTH and ENABLED, each given once.
pub fn create(properties: Vec<P>) -> Typed<Vec<P>> {
    let has = |f: fn(&P) -> bool| properties.iter().filter(|p| f(p)).count();
    if has(|p| matches!(p, P::Type)) != 1 {
        return Err(invalid(
            "CREATE SECURITY INTEGRATION needs TYPE = EXTERNAL_OAUTH (other types are not supported).",
        ));
    }
    if has(|p| matches!(p, P::Enabled(_))) != 1 {
        return Err(invalid(
            "CREATE SECURITY INTEGRATION needs ENABLED = TRUE|FALSE.",
        ));
    }
    Ok(properties)
}
