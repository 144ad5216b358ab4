//! The committed OpenAPI document is what the code generates, and it is complete:
//! every operation has a summary, a tag, described responses and examples.

use std::path::PathBuf;

use serde_json::Value;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi/openapi.json")
}

fn generated() -> String {
    serde_json::to_string_pretty(&cohort_api::app::openapi()).expect("the document serialises") + "\n"
}

#[test]
fn committed_document_matches_the_code() {
    let generated = generated();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(committed_path(), &generated).expect("write openapi/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json differs from what the code generates; regenerate it with `cargo xtask openapi` \
         (or UPDATE_OPENAPI=1 cargo test -p cohort-api --test openapi) and commit it"
    );
}

/// Follows a `$ref` to `#/components/schemas/Name`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(&r.replacen('#', "", 1)).unwrap_or(schema),
        None => schema,
    }
}

fn has_example(doc: &Value, content: &Value) -> bool {
    content.as_object().is_some_and(|media| {
        media.values().all(|m| {
            m.get("example").is_some()
                || m.get("examples").is_some()
                || m.get("schema")
                    .is_some_and(|s| resolve(doc, s).get("example").is_some())
        })
    })
}

#[test]
fn every_operation_is_documented_with_examples() {
    let doc: Value = serde_json::from_str(&generated()).unwrap();
    let mut problems = Vec::new();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let name = format!("{} {path}", method.to_uppercase());
            if op.get("summary").and_then(Value::as_str).is_none_or(str::is_empty) {
                problems.push(format!("{name}: no summary"));
            }
            if op.get("tags").and_then(Value::as_array).is_none_or(Vec::is_empty) {
                problems.push(format!("{name}: no tag"));
            }
            if op.get("security").is_none() {
                problems.push(format!(
                    "{name}: no security requirement (use security(()) for public operations)"
                ));
            }
            if let Some(body) = op.get("requestBody") {
                if !has_example(&doc, &body["content"]) {
                    problems.push(format!("{name}: request body without example"));
                }
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                if response
                    .get("description")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    problems.push(format!("{name} {status}: no description"));
                }
                if let Some(content) = response.get("content") {
                    if !has_example(&doc, content) {
                        problems.push(format!("{name} {status}: response without example"));
                    }
                }
            }
        }
    }
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for r in refs {
        if doc.pointer(&r.replacen('#', "", 1)).is_none() {
            problems.push(format!("dangling $ref {r}"));
        }
    }
    // Every route the app serves, each once (a new endpoint changes this number on purpose).
    assert_eq!(operations, 154, "operations documented");
    assert!(
        problems.is_empty(),
        "incomplete OpenAPI document:\n{}",
        problems.join("\n")
    );
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
