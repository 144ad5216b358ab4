//! The OpenAPI document's operations and their examples, for tests that walk every route.

use super::*;

/// One operation of the OpenAPI document.
pub struct Operation {
    pub method: Method,
    /// The path template, e.g. `/api/v1/people/{id}`.
    pub template: String,
    pub op: Value,
    /// The security requirements that apply: the operation's own, else the document's.
    pub security: Vec<Value>,
}

impl Operation {
    /// Whether a caller without credentials may call it: no requirement at all, or an empty
    /// (anonymous) alternative among them.
    pub fn is_public(&self) -> bool {
        self.security.is_empty()
            || self
                .security
                .iter()
                .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
    }

    /// `GET /api/v1/me`
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.template)
    }
}

/// Every operation of an OpenAPI document, in document order.
pub fn operations(doc: &Value) -> Vec<Operation> {
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let mut operations = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("the document has paths") {
        for (method, op) in item.as_object().expect("a path item is an object") {
            // A path item may also carry `parameters`, `summary`…: only HTTP methods are operations.
            if METHODS.contains(&method.as_str()) {
                let security = op
                    .get("security")
                    .or_else(|| doc.get("security"))
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                operations.push(Operation {
                    method: method.to_uppercase().parse().unwrap(),
                    template: template.clone(),
                    op: op.clone(),
                    security,
                });
            }
        }
    }
    operations
}

/// The documented example of an operation's JSON request body: the operation's own `example`,
/// else the first of its `examples`, else the `example` of the schema it references.
/// Panics when a JSON body is documented without any example, so every new body gets one.
pub fn example_body(doc: &Value, operation: &Operation) -> Option<Value> {
    let content = &operation.op["requestBody"]["content"]["application/json"];
    if content.is_null() {
        return None;
    }
    if !content["example"].is_null() {
        return Some(content["example"].clone());
    }
    if let Some(first) = content["examples"].as_object().and_then(|e| e.values().next()) {
        return Some(first["value"].clone());
    }
    let schema = &content["schema"];
    if !schema["example"].is_null() {
        return Some(schema["example"].clone());
    }
    let name = schema["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or_else(|| panic!("{}: the request body has no example", operation.name()));
    let example = doc["components"]["schemas"][name]["example"].clone();
    assert!(!example.is_null(), "{}: schema {name} has no example", operation.name());
    Some(example)
}
