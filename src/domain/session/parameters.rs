//! Session parameters sent at login (`SESSION_PARAMETERS`): checked against limits, then merged over
//! the defaults in linear time and echoed back like Snowflake does. Also the parameters
//! `ALTER SESSION` may set, kept in the session and listed by `SHOW PARAMETERS`.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::domain::query::statement::{ParameterChange, ParameterValue};
use crate::error::{Error, Result, SqlErrorKind};

/// Drivers send a handful; Snowflake itself has a few hundred parameters.
pub const MAX_PARAMETERS: usize = 256;
pub const MAX_NAME_BYTES: usize = 256;
/// Room for the longest string parameter drivers set (QUERY_TAG: 2000 characters of up to 4 bytes).
pub const MAX_VALUE_BYTES: usize = 8192;

/// Refuses more parameters than [`MAX_PARAMETERS`], a longer name or value, and any value nested
/// deeper than one flat list or object. The message names the limit, never a name or value sent.
pub fn check(given: &[(String, Value)]) -> Result<()> {
    let refuse = |what: String| Err(Error::BadRequest(format!("SESSION_PARAMETERS: {what}.")));
    if given.len() > MAX_PARAMETERS {
        return refuse(format!("more than {MAX_PARAMETERS} parameters"));
    }
    for (name, value) in given {
        if name.len() > MAX_NAME_BYTES {
            return refuse(format!(
                "a name exceeds the limit of {MAX_NAME_BYTES} bytes"
            ));
        }
        if nested(value) {
            return refuse("a value is nested more than one level deep".into());
        }
        if value_len(value) > MAX_VALUE_BYTES {
            return refuse(format!(
                "a value exceeds the limit of {MAX_VALUE_BYTES} bytes"
            ));
        }
    }
    Ok(())
}

fn nested(value: &Value) -> bool {
    let deep = |v: &Value| v.is_array() || v.is_object();
    match value {
        Value::Array(items) => items.iter().any(deep),
        Value::Object(map) => map.values().any(deep),
        _ => false,
    }
}

/// The value's size as JSON text (strings without quotes); only called on flat values.
fn value_len(value: &Value) -> usize {
    match value {
        Value::String(s) => s.len(),
        other => serde_json::to_string(other).map_or(usize::MAX, |s| s.len()),
    }
}

/// `defaults` overridden by `given`, names upper-cased: a name sent again replaces the earlier value
/// in place, new names follow in the order sent. Lists and objects are not echoed.
pub fn merge(defaults: Vec<(String, Value)>, given: Vec<(String, Value)>) -> Vec<(String, Value)> {
    let mut merged = defaults;
    let mut slot: HashMap<String, usize> = merged
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (name.clone(), i))
        .collect();
    for (name, value) in given {
        if value.is_object() || value.is_array() {
            continue;
        }
        let name = name.to_uppercase();
        match slot.get(&name) {
            Some(&i) => merged[i].1 = value,
            None => {
                slot.insert(name.clone(), merged.len());
                merged.push((name, value));
            }
        }
    }
    merged
}

pub use super::parameter_list::{Kind, Known, SESSION_PARAMETERS};

/// Most bytes all of a session's parameter values take together: a session record stays far below
/// DynamoDB's 400 KB item limit, whatever is set.
pub const MAX_SESSION_PARAMETER_BYTES: usize = 32 * 1024;
/// Snowflake's own limit on a string parameter (QUERY_TAG), in characters.
pub const MAX_SESSION_VALUE_CHARS: usize = 2_000;

pub fn known(name: &str) -> Option<&'static Known> {
    SESSION_PARAMETERS.iter().find(|p| p.0 == name)
}

fn invalid(message: String) -> Error {
    Error::sql(SqlErrorKind::InvalidValue, message)
}

/// Applies `ALTER SESSION` changes to `params`, all or nothing. Messages name the parameter, never
/// the value (a value may be anything a user pasted).
pub fn apply(
    params: &BTreeMap<String, ParameterValue>,
    changes: Vec<ParameterChange>,
) -> Result<BTreeMap<String, ParameterValue>> {
    let mut next = params.clone();
    for change in changes {
        match change {
            ParameterChange::Unset(name) => {
                known(&name).ok_or_else(|| invalid(format!("invalid parameter '{name}'")))?;
                next.remove(&name);
            }
            ParameterChange::Set(name, value) => {
                let (_, kind, _, _) =
                    known(&name).ok_or_else(|| invalid(format!("invalid parameter '{name}'")))?;
                let value = coerce(*kind, value).ok_or_else(|| {
                    invalid(format!(
                        "invalid value for parameter '{name}': expected {kind:?}"
                    ))
                })?;
                next.insert(name, value);
            }
        }
    }
    let total: usize = next.iter().map(|(n, v)| n.len() + text(v).len()).sum();
    if total > MAX_SESSION_PARAMETER_BYTES {
        return Err(invalid(format!(
            "session parameters exceed the limit of {MAX_SESSION_PARAMETER_BYTES} bytes"
        )));
    }
    Ok(next)
}

/// The value in the parameter's type: `'TRUE'` for a boolean, `'42'` for a number, any scalar for
/// text, as Snowflake accepts them.
fn coerce(kind: Kind, value: ParameterValue) -> Option<ParameterValue> {
    match (kind, value) {
        (Kind::Boolean, ParameterValue::Boolean(b)) => Some(ParameterValue::Boolean(b)),
        (Kind::Boolean, ParameterValue::Text(t)) => match t.to_ascii_uppercase().as_str() {
            "TRUE" => Some(ParameterValue::Boolean(true)),
            "FALSE" => Some(ParameterValue::Boolean(false)),
            _ => None,
        },
        (Kind::Number, ParameterValue::Number(n)) => Some(ParameterValue::Number(n)),
        (Kind::Number, ParameterValue::Text(t)) => {
            t.trim().parse().ok().map(ParameterValue::Number)
        }
        (Kind::String, v) => {
            let t = text(&v);
            (t.chars().count() <= MAX_SESSION_VALUE_CHARS).then_some(ParameterValue::Text(t))
        }
        _ => None,
    }
}

/// The value as `SHOW PARAMETERS` prints it.
pub fn text(value: &ParameterValue) -> String {
    match value {
        ParameterValue::Boolean(b) => b.to_string(),
        ParameterValue::Number(n) => n.to_string(),
        ParameterValue::Text(t) => t.clone(),
    }
}

/// The value as JSON, for a response's `parameters`.
pub fn json(value: &ParameterValue) -> Value {
    match value {
        ParameterValue::Boolean(b) => Value::Bool(*b),
        ParameterValue::Number(n) => Value::from(*n),
        ParameterValue::Text(t) => Value::String(t.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(name: &str, value: Value) -> (String, Value) {
        (name.to_string(), value)
    }

    #[test]
    fn merge_overrides_in_place_and_keeps_order() {
        let defaults = vec![
            p("AUTOCOMMIT", json!(true)),
            p("TIMEZONE", json!("Etc/UTC")),
        ];
        let given = vec![
            p("query_tag", json!("a")),
            p("timezone", json!("Europe/Paris")),
            p("CLIENT_PREFETCH", json!({"x": 1})),
            p("QUERY_TAG", json!("b")),
        ];
        assert_eq!(
            merge(defaults, given),
            vec![
                p("AUTOCOMMIT", json!(true)),
                p("TIMEZONE", json!("Europe/Paris")),
                p("QUERY_TAG", json!("b")),
            ]
        );
    }

    #[test]
    fn merge_handles_many_parameters() {
        let given: Vec<_> = (0..60_000).map(|i| p(&format!("p{i}"), json!(i))).collect();
        let merged = merge(Vec::new(), given);
        assert_eq!(merged.len(), 60_000);
        assert_eq!(merged[59_999], p("P59999", json!(59_999)));
    }

    #[test]
    fn limits_name_the_limit_not_the_value() {
        let ok = vec![p("QUERY_TAG", json!("x".repeat(MAX_VALUE_BYTES)))];
        assert!(check(&ok).is_ok());
        let cases = [
            vec![p("QUERY_TAG", json!("s3cr3t".repeat(MAX_VALUE_BYTES)))],
            vec![p(&"N".repeat(MAX_NAME_BYTES + 1), json!(1))],
            vec![p("A", json!({"b": {"c": "s3cr3t"}}))],
            vec![p("A", json!([["s3cr3t"]]))],
            (0..=MAX_PARAMETERS)
                .map(|i| p(&format!("P{i}"), json!(1)))
                .collect(),
        ];
        for given in cases {
            let err = check(&given).unwrap_err().to_string();
            assert!(err.starts_with("SESSION_PARAMETERS"), "{err}");
            assert!(!err.contains("s3cr3t") && !err.contains("NNN"), "{err}");
        }
    }
}
