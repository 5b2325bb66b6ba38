//! The trimmed `spec` schema that create tools carry in `tools/list`.
//!
//! A client loads the whole tool list into a model's context, so a create tool
//! shows only the top level of the spec: each field's type, a short description
//! and small enums. The level of detail drops step by step until the summary
//! fits its byte budget; the full schema stays reachable through
//! `explain_resource` and is what arguments are validated against.

use serde_json::{json, Map, Value};

use crate::crd::first_sentence;

/// How much of each field a summary keeps, from most to least.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Type, a description of up to this many characters, enums.
    Described(usize),
    /// Type and enums.
    Typed,
    /// Only the field names, listed in the description.
    Names,
    /// Only how many fields there are (for specs too large to name).
    Count,
}

const LEVELS: [Detail; 6] = [
    Detail::Described(100),
    Detail::Described(60),
    Detail::Described(36),
    Detail::Typed,
    Detail::Names,
    Detail::Count,
];

/// Largest enum that is listed in a summary.
const MAX_ENUM: usize = 10;

/// Summarises `spec` (a CRD spec subschema) in at most `budget` bytes of JSON
/// where possible, choosing the richest level that fits.
pub fn spec_summary(spec: &Value, budget: usize) -> (Value, Detail) {
    let mut last = None;
    for level in LEVELS {
        let s = summary_at(spec, level);
        let size = serde_json::to_string(&s)
            .map(|t| t.len())
            .unwrap_or(usize::MAX);
        if size <= budget {
            return (s, level);
        }
        last = Some((s, level));
    }
    last.expect("LEVELS is not empty")
}

/// The summary of `spec` at one level of detail.
pub fn summary_at(spec: &Value, level: Detail) -> Value {
    let props = spec.get("properties").and_then(Value::as_object);
    let required = spec.get("required").cloned();
    let mut out = Map::new();
    out.insert("type".into(), json!("object"));
    let names: Vec<&str> = props
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let hint = "Full field docs: explain_resource.";
    match level {
        Detail::Names => {
            out.insert(
                "description".into(),
                json!(format!("Top-level fields: {}. {hint}", names.join(", "))),
            );
        }
        Detail::Count => {
            out.insert(
                "description".into(),
                json!(format!(
                    "{} top-level fields (list them with explain_resource path=spec).",
                    names.len()
                )),
            );
        }
        _ => {
            out.insert("description".into(), json!(hint));
            let mut fields = Map::new();
            if let Some(p) = props {
                for (name, schema) in p {
                    fields.insert(name.clone(), field_summary(schema, level));
                }
            }
            out.insert("properties".into(), Value::Object(fields));
        }
    }
    if let Some(r) = required {
        out.insert("required".into(), r);
    }
    Value::Object(out)
}

/// One field: its JSON type(s), maybe a description and an enum.
fn field_summary(schema: &Value, level: Detail) -> Value {
    let mut f = Map::new();
    if let Some(t) = json_type(schema) {
        f.insert("type".into(), t);
    }
    if let Some(items) = schema.get("items").and_then(json_type) {
        if items != json!("object") && items != json!("array") {
            f.insert("items".into(), json!({ "type": items }));
        }
    }
    if let Detail::Described(max) = level {
        if let Some(d) = schema.get("description").and_then(Value::as_str) {
            let line = first_sentence(d, max);
            if !line.is_empty() {
                f.insert("description".into(), json!(line));
            }
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if e.len() <= MAX_ENUM {
            f.insert("enum".into(), Value::Array(e.clone()));
        }
    }
    Value::Object(f)
}

/// The JSON Schema `type` of a structural-schema node.
pub fn json_type(schema: &Value) -> Option<Value> {
    if schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return Some(json!(["integer", "string"]));
    }
    let t = schema.get("type")?.as_str()?;
    if schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        return Some(json!([t, "null"]));
    }
    Some(json!(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Value {
        json!({
            "type": "object",
            "required": ["a"],
            "properties": {
                "a": {"type": "string", "description": "The a field. More text.", "enum": ["x", "y"]},
                "b": {"type": "array", "items": {"type": "string"}},
                "c": {"x-kubernetes-int-or-string": true},
                "d": {"type": "object", "properties": {"deep": {"type": "string"}}}
            }
        })
    }

    #[test]
    fn rich_summary_keeps_top_level_only() {
        let (s, level) = spec_summary(&spec(), 10_000);
        assert_eq!(level, Detail::Described(100));
        assert_eq!(s["required"], json!(["a"]));
        assert_eq!(s["properties"]["a"]["description"], json!("The a field."));
        assert_eq!(s["properties"]["a"]["enum"], json!(["x", "y"]));
        assert_eq!(s["properties"]["b"]["items"], json!({"type": "string"}));
        assert_eq!(s["properties"]["c"]["type"], json!(["integer", "string"]));
        assert!(s["properties"]["d"].get("properties").is_none());
    }

    #[test]
    fn degrades_to_fit_budget() {
        let (s, level) = spec_summary(&spec(), 180);
        assert!(serde_json::to_string(&s).unwrap().len() <= 180, "{s}");
        assert_ne!(level, Detail::Described(100));
        let (s, level) = spec_summary(&spec(), 120);
        assert_eq!(level, Detail::Names);
        assert!(s["description"].as_str().unwrap().contains("a, b, c, d"));
        let (s, level) = spec_summary(&spec(), 10);
        assert_eq!(
            level,
            Detail::Count,
            "too many names to list: only the count"
        );
        assert!(s["description"]
            .as_str()
            .unwrap()
            .starts_with("4 top-level fields"));
        assert_eq!(s["required"], json!(["a"]));
    }
}
