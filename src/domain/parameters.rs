//! Session parameters sent at login (`SESSION_PARAMETERS`): checked against limits, then merged over
//! the defaults in linear time and echoed back like Snowflake does.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{Error, Result};

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
