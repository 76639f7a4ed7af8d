//! The session parameters a login answers with: snowgate's defaults, overridden by what the driver sent
//! in `SESSION_PARAMETERS`, in one pass (a map from upper-cased name to position keeps it linear).

use std::collections::HashMap;

use serde_json::Value;

/// Defaults every driver reads at login.
fn defaults() -> Vec<(String, Value)> {
    vec![
        ("AUTOCOMMIT".to_string(), Value::Bool(true)),
        ("TIMEZONE".to_string(), Value::String("Etc/UTC".into())),
    ]
}

/// The defaults overridden by `sent`, first-seen order kept; objects and arrays are not echoed.
pub fn merge(sent: &[(String, Value)]) -> Vec<(String, Value)> {
    let mut merged = defaults();
    let mut index: HashMap<String, usize> = merged
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (name.clone(), i))
        .collect();
    for (name, value) in sent {
        if value.is_object() || value.is_array() {
            continue;
        }
        let name = name.to_uppercase();
        match index.get(&name) {
            Some(&i) => merged[i].1 = value.clone(),
            None => {
                index.insert(name.clone(), merged.len());
                merged.push((name, value.clone()));
            }
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overrides_keep_order_and_skip_nested_values() {
        let sent = vec![
            ("timezone".to_string(), json!("Europe/Paris")),
            ("QUERY_TAG".to_string(), json!("etl")),
            ("NESTED".to_string(), json!({"a": 1})),
            ("query_tag".to_string(), json!("last wins")),
        ];
        assert_eq!(
            merge(&sent),
            vec![
                ("AUTOCOMMIT".to_string(), json!(true)),
                ("TIMEZONE".to_string(), json!("Europe/Paris")),
                ("QUERY_TAG".to_string(), json!("last wins")),
            ]
        );
    }
}
