//! Typing the properties of administrative statements: from the raw `NAME = value` pairs of the
//! grammar to the domain's typed properties, with every check text alone allows (malformed keys,
//! CIDRs, flags, unknown names → an invalid-value error that never quotes the value).
//!
//! `value` is `Some` for `SET` / `CREATE`, `None` for `UNSET`.

use secrecy::SecretString;

use super::admin::Value;
use crate::domain::admin::command::{
    AccountCommand, IpEntry, PatProperty, PolicyProperty, UserProperty,
};
use crate::domain::directory::{NetworkPolicy, RsaKey, UserType};
use crate::domain::ident::Identifier;
use crate::domain::keys::parse_public_key;
use crate::domain::pats::{MAX_BYPASS_MINUTES, MAX_COMMENT_CHARS, MAX_ROTATED_GRACE_HOURS};
use crate::domain::statement::SqlRejection;

type Typed<T> = Result<T, SqlRejection>;

fn invalid(message: impl Into<String>) -> SqlRejection {
    SqlRejection::InvalidValue(message.into())
}

/// One user property, by name.
pub fn user(name: &str, value: Option<&Value>) -> Typed<UserProperty> {
    Ok(match name {
        "TYPE" => UserProperty::Type(given(name, value, user_type)?),
        "PASSWORD" => UserProperty::Password(given(name, value, password)?),
        "LOGIN_NAME" => UserProperty::LoginName(given(name, value, login_name)?),
        "DEFAULT_ROLE" => UserProperty::DefaultRole(given(name, value, identifier)?),
        "DEFAULT_WAREHOUSE" => UserProperty::DefaultWarehouse(given(name, value, identifier)?),
        "DEFAULT_NAMESPACE" => UserProperty::DefaultNamespace(given(name, value, upper_text)?),
        "RSA_PUBLIC_KEY" => UserProperty::RsaPublicKey(given(name, value, rsa_key)?),
        "RSA_PUBLIC_KEY_2" => UserProperty::RsaPublicKey2(given(name, value, rsa_key)?),
        "NETWORK_POLICY" => UserProperty::NetworkPolicy(given(name, value, identifier)?),
        "DISABLED" => UserProperty::Disabled(given(name, value, boolean)?),
        "COMMENT" => UserProperty::Comment(given(name, value, text)?),
        "DISPLAY_NAME" => UserProperty::DisplayName(given(name, value, text)?),
        "EMAIL" => UserProperty::Email(given(name, value, text)?),
        other => return Err(invalid(format!("Invalid property '{other}' for USER."))),
    })
}

/// One property of `ALTER USER … ADD PAT`.
pub fn pat_add(name: &str, value: &Value) -> Typed<PatProperty> {
    Ok(match name {
        "ROLE_RESTRICTION" => PatProperty::RoleRestriction(identifier(name, value)?),
        "DAYS_TO_EXPIRY" => PatProperty::DaysToExpiry(number(name, value, 1, u32::MAX)?),
        "MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT" => {
            PatProperty::MinsToBypassNetworkPolicy(Some(bypass(name, value)?))
        }
        "COMMENT" => PatProperty::Comment(Some(pat_comment(name, value)?)),
        other => {
            return Err(invalid(format!(
                "Invalid property '{other}' for PROGRAMMATIC ACCESS TOKEN."
            )));
        }
    })
}

/// One property of `ALTER USER … MODIFY PAT … SET|UNSET`.
pub fn pat_modify(name: &str, value: Option<&Value>) -> Typed<PatProperty> {
    Ok(match name {
        "DISABLED" => PatProperty::Disabled(given(name, value, boolean)?),
        "MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT" => {
            PatProperty::MinsToBypassNetworkPolicy(given(name, value, bypass)?)
        }
        "COMMENT" => PatProperty::Comment(given(name, value, pat_comment)?),
        other => {
            return Err(invalid(format!(
                "Invalid property '{other}' for ALTER USER … MODIFY PROGRAMMATIC ACCESS TOKEN."
            )));
        }
    })
}

/// `EXPIRE_ROTATED_TOKEN_AFTER_HOURS` of `ALTER USER … ROTATE PAT`.
pub fn pat_rotate(name: &str, value: &Value) -> Typed<u32> {
    match name {
        "EXPIRE_ROTATED_TOKEN_AFTER_HOURS" => number(name, value, 0, MAX_ROTATED_GRACE_HOURS),
        other => Err(invalid(format!(
            "Invalid property '{other}' for ALTER USER … ROTATE PROGRAMMATIC ACCESS TOKEN."
        ))),
    }
}

fn bypass(name: &str, value: &Value) -> Typed<u32> {
    number(name, value, 0, MAX_BYPASS_MINUTES)
}

fn pat_comment(name: &str, value: &Value) -> Typed<String> {
    let comment = text(name, value)?;
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(invalid(format!(
            "{name} is longer than {MAX_COMMENT_CHARS} characters."
        )));
    }
    Ok(comment)
}

/// A whole number from `min` to `max`, written as a number or a string of digits.
fn number(name: &str, value: &Value, min: u32, max: u32) -> Typed<u32> {
    let digits = match value {
        Value::Number(n) | Value::Str(n) => n.trim(),
        _ => "",
    };
    digits
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            invalid(format!(
                "{name} must be a whole number from {min} to {max}."
            ))
        })
}

/// `f` applied to a given value; `None` (UNSET) stays `None`.
fn given<T>(
    name: &str,
    value: Option<&Value>,
    f: fn(&str, &Value) -> Typed<T>,
) -> Typed<Option<T>> {
    value.map(|v| f(name, v)).transpose()
}

/// One network policy property, by name; `UNSET` of a list empties it.
pub fn policy(name: &str, value: Option<&Value>) -> Typed<PolicyProperty> {
    let list = |value: Option<&Value>| match value {
        Some(v) => ip_list(name, v),
        None => Ok(Vec::new()),
    };
    Ok(match name {
        "ALLOWED_IP_LIST" => PolicyProperty::AllowedIpList(list(value)?),
        "BLOCKED_IP_LIST" => PolicyProperty::BlockedIpList(list(value)?),
        "COMMENT" => PolicyProperty::Comment(given(name, value, text)?),
        other => {
            return Err(invalid(format!(
                "Invalid property '{other}' for NETWORK POLICY."
            )));
        }
    })
}

/// A role's only property.
pub fn role_comment(name: &str, value: &Value) -> Typed<String> {
    match name {
        "COMMENT" => text(name, value),
        other => Err(invalid(format!("Invalid property '{other}' for ROLE."))),
    }
}

/// `ALTER ACCOUNT SET|UNSET name`: only the network policy.
pub fn account(name: &str, value: Option<&Value>) -> Typed<AccountCommand> {
    if name != "NETWORK_POLICY" {
        let verb = if value.is_some() { "SET" } else { "UNSET" };
        return Err(SqlRejection::Unsupported(format!(
            "ALTER ACCOUNT {verb} {name} (only NETWORK_POLICY)"
        )));
    }
    Ok(AccountCommand::NetworkPolicy(given(
        name, value, identifier,
    )?))
}

/// `MINS_TO_UNLOCK`: only 0, unlock now.
pub fn unlock(value: &Value) -> Typed<()> {
    match text("MINS_TO_UNLOCK", value).as_deref() {
        Ok("0") => Ok(()),
        _ => Err(invalid(
            "MINS_TO_UNLOCK must be 0 (unlock now); locks last the configured time.",
        )),
    }
}

/// A scalar as text: strings, numbers and identifiers (with Snowflake's case rules).
fn text(name: &str, value: &Value) -> Typed<String> {
    match value {
        Value::Str(s) | Value::Number(s) => Ok(s.clone()),
        Value::Ident(i) => Ok(i.to_string()),
        Value::List(_) => Err(invalid(format!("{name} must be a string."))),
    }
}

fn upper_text(name: &str, value: &Value) -> Typed<String> {
    text(name, value).map(|t| t.to_uppercase())
}

/// A name given as an identifier or a string, with Snowflake's case rules.
fn identifier(name: &str, value: &Value) -> Typed<Identifier> {
    match value {
        Value::Ident(i) => Ok(i.clone()),
        Value::Str(s) => Identifier::from_user_input(s)
            .ok_or_else(|| invalid(format!("{name} must not be empty."))),
        _ => Err(invalid(format!("{name} must be a name."))),
    }
}

fn boolean(name: &str, value: &Value) -> Typed<bool> {
    match text(name, value).map(|s| s.to_ascii_uppercase()).as_deref() {
        Ok("TRUE") => Ok(true),
        Ok("FALSE") => Ok(false),
        _ => Err(invalid(format!("{name} must be TRUE or FALSE."))),
    }
}

fn user_type(name: &str, value: &Value) -> Typed<UserType> {
    text(name, value)
        .ok()
        .and_then(|t| UserType::parse(&t))
        .ok_or_else(|| invalid("TYPE must be PERSON, SERVICE or LEGACY_SERVICE."))
}

fn password(name: &str, value: &Value) -> Typed<SecretString> {
    let password = text(name, value)?;
    if password.is_empty() {
        return Err(invalid("PASSWORD must not be empty."));
    }
    Ok(SecretString::from(password))
}

fn login_name(name: &str, value: &Value) -> Typed<String> {
    let login = text(name, value)?.trim().to_uppercase();
    if login.is_empty() {
        return Err(invalid("LOGIN_NAME must not be empty."));
    }
    Ok(login)
}

fn rsa_key(name: &str, value: &Value) -> Typed<RsaKey> {
    let key = parse_public_key(&text(name, value)?)
        .map_err(|why| invalid(format!("Invalid {name}: {why}.")))?;
    Ok(RsaKey {
        der_base64: key.base64_der,
        fingerprint: key.fingerprint,
    })
}

fn ip_list(name: &str, value: &Value) -> Typed<Vec<IpEntry>> {
    let Value::List(items) = value else {
        return Err(invalid(format!("{name} must be a parenthesised list.")));
    };
    items
        .iter()
        .map(|item| {
            let written = match item {
                Value::List(_) => Err(invalid(format!("{name} must be a list of strings."))),
                scalar => text(name, scalar),
            }?;
            let net = NetworkPolicy::parse_entry(&written)
                .map_err(|why| invalid(format!("Invalid {name}: {why}.")))?;
            Ok(IpEntry { written, net })
        })
        .collect()
}
