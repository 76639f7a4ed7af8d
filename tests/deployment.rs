//! The deployment grants what the code calls: every DynamoDB and Secrets Manager operation the store
//! and the secret source send is an action of the function's policy in `template.yaml`. (A call
//! missing there works against moto, which checks no permissions, and fails only on AWS.)

use std::collections::BTreeSet;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every `.rs` file of the folder `path` (the DynamoDB store is one file per port), one after another.
fn read_folder(path: &str) -> String {
    let entries =
        std::fs::read_dir(format!("{ROOT}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut files: Vec<String> = entries
        .map(|e| e.unwrap_or_else(|e| panic!("{path}: {e}")).file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".rs"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|name| read(&format!("{path}/{name}")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `get_item` → `GetItem`.
fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The SDK operations `source` sends: a line that is `.operation()` right after a line ending in
/// `client` (how every call there is written, checked by the count below).
fn operations(source: &str) -> BTreeSet<String> {
    let lines: Vec<&str> = source.lines().map(str::trim).collect();
    lines
        .windows(2)
        .filter(|w| w[0].ends_with("client") || w[0].ends_with(".client"))
        .filter_map(|w| w[1].strip_prefix('.')?.strip_suffix("()"))
        .map(pascal)
        .collect()
}

/// Every `- service:Action` line of the template.
fn granted(template: &str) -> BTreeSet<String> {
    template
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter(|a| a.starts_with("dynamodb:") || a.starts_with("secretsmanager:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_function_policy_grants_every_aws_call_the_code_makes() {
    let template = granted(&read("template.yaml"));
    let mut needed = BTreeSet::new();
    for (path, source, service, at_least) in [
        (
            "src/store/dynamo/",
            read_folder("src/store/dynamo"),
            "dynamodb",
            7,
        ),
        (
            "src/secrets/manager.rs",
            read("src/secrets/manager.rs"),
            "secretsmanager",
            1,
        ),
    ] {
        let ops = operations(&source);
        // The scan finds the calls: as many distinct operations as the code is known to make.
        assert!(ops.len() >= at_least, "{path}: found only {ops:?}");
        // Each operation is authorised by the IAM action of its name (no transactions are sent).
        needed.extend(ops.iter().map(|op| format!("{service}:{op}")));
    }
    let missing: Vec<_> = needed.difference(&template).collect();
    assert!(
        missing.is_empty(),
        "template.yaml's policy lacks {missing:?}; the code calls {needed:?}"
    );
}

#[test]
fn the_scan_reads_calls_as_the_code_writes_them() {
    let source = "let out = self\n    .client\n    .batch_get_item()\n    .send();";
    assert_eq!(operations(source), BTreeSet::from(["BatchGetItem".into()]));
}
