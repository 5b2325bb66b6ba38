//! The part of a CRD the binary keeps so that it can later tell whether the
//! cluster serves the same thing (`kubectl-mtv crds diff`): its name, group,
//! names and scope, and every version's `served`/`storage` flags and schema.
//! Descriptions are left out (they are most of the text and never drift-relevant;
//! the served version's full schema is embedded separately for explain_resource).
//! The result has the shape of a CRD, so one reader handles it and the cluster's.

use serde_json::{json, Map, Value};

/// The digest of a parsed CRD document.
pub fn of(doc: &Value) -> Value {
    let spec = &doc["spec"];
    let versions: Vec<Value> = spec["versions"]
        .as_array()
        .map(|vs| {
            vs.iter()
                .map(|v| {
                    let mut out = json!({
                        "name": v["name"],
                        "served": v.get("served").cloned().unwrap_or(json!(true)),
                        "storage": v.get("storage").cloned().unwrap_or(json!(false)),
                    });
                    if let Some(s) = v.pointer("/schema/openAPIV3Schema") {
                        out["schema"] = json!({"openAPIV3Schema": strip_descriptions(s)});
                    }
                    out
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "apiVersion": doc["apiVersion"],
        "kind": doc["kind"],
        "metadata": {"name": doc.pointer("/metadata/name").cloned().unwrap_or(Value::Null)},
        "spec": {
            "group": spec["group"],
            "names": spec["names"],
            "scope": spec["scope"],
            "versions": versions,
        },
    })
}

/// A schema without `description` keywords (property names are kept, even one
/// called `description`).
pub fn strip_descriptions(node: &Value) -> Value {
    let Value::Object(map) = node else {
        return node.clone();
    };
    let mut out = Map::new();
    for (k, v) in map {
        match k.as_str() {
            "description" => {}
            "properties" | "patternProperties" | "definitions" => {
                let children = v
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(name, s)| (name.clone(), strip_descriptions(s)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(k.clone(), Value::Object(children));
            }
            "items" | "additionalProperties" | "not" => {
                let child = match v {
                    Value::Array(a) => Value::Array(a.iter().map(strip_descriptions).collect()),
                    other => strip_descriptions(other),
                };
                out.insert(k.clone(), child);
            }
            "allOf" | "anyOf" | "oneOf" => {
                let list = v
                    .as_array()
                    .map(|a| a.iter().map(strip_descriptions).collect())
                    .unwrap_or_default();
                out.insert(k.clone(), Value::Array(list));
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_property_named_description_and_drops_the_keyword() {
        let s = json!({"description": "root", "type": "object", "properties": {
            "description": {"type": "string", "description": "the text"},
            "items": {"type": "array", "items": {"type": "string", "description": "x", "enum": ["a"]}}
        }});
        assert_eq!(
            strip_descriptions(&s),
            json!({"type": "object", "properties": {
                "description": {"type": "string"},
                "items": {"type": "array", "items": {"type": "string", "enum": ["a"]}}
            }})
        );
    }

    #[test]
    fn keeps_every_version_with_its_flags() {
        let doc = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "ws.example.io", "labels": {"a": "b"}},
            "spec": {"group": "example.io", "names": {"kind": "W", "plural": "ws"}, "scope": "Namespaced",
                "versions": [{"name": "v1", "served": true, "storage": true, "additionalPrinterColumns": [],
                    "schema": {"openAPIV3Schema": {"type": "object", "description": "d"}}},
                    {"name": "v0", "served": false, "storage": false}]}});
        let d = of(&doc);
        assert_eq!(d["metadata"], json!({"name": "ws.example.io"}));
        assert_eq!(
            d["spec"]["versions"],
            json!([{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object"}}},
                {"name": "v0", "served": false, "storage": false}])
        );
    }
}
