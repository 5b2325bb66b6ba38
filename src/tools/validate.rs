//! Validating arguments against the full CRD schema before any API call.
//!
//! CRD structural schemas are OpenAPI v3; they are turned into JSON Schema once
//! per resource (nullable, int-or-string) and made strict about unknown fields,
//! which the API server would otherwise drop silently. A merge patch is checked
//! against a relaxed copy: nothing required, null allowed (null deletes).

use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::{json, Value};

use crate::catalogue::{resources, ResourceDef};

/// At most this many violations are reported at once.
const MAX_REPORTED: usize = 8;

/// Why a spec is invalid: one line per violation, and the field to explain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub text: String,
    /// The dotted path (no indexes) of the first violation, for
    /// `explain_resource`: the field whose value or children are wrong.
    pub path: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Checks a full `spec`.
pub fn check_spec(r: &'static ResourceDef, spec: &Value) -> Result<(), Invalid> {
    report("spec", validator(r, Mode::Full), spec)
}

/// Checks the `spec` part of a JSON merge patch.
pub fn check_spec_patch(r: &'static ResourceDef, spec: &Value) -> Result<(), Invalid> {
    report("spec", validator(r, Mode::Patch), spec)
}

#[derive(Clone, Copy)]
enum Mode {
    Full,
    Patch,
}

fn validator(r: &'static ResourceDef, mode: Mode) -> &'static Validator {
    static FULL: OnceLock<Vec<OnceLock<Validator>>> = OnceLock::new();
    static PATCH: OnceLock<Vec<OnceLock<Validator>>> = OnceLock::new();
    let table = match mode {
        Mode::Full => &FULL,
        Mode::Patch => &PATCH,
    };
    let slots = table.get_or_init(|| resources().iter().map(|_| OnceLock::new()).collect());
    slots[r.index()].get_or_init(|| {
        let spec = r
            .schema()
            .pointer("/properties/spec")
            .cloned()
            .unwrap_or_else(|| json!({"type": "object"}));
        let schema = to_json_schema(&spec, matches!(mode, Mode::Patch));
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(false)
            .build(&schema)
            .expect("generated CRD schema compiles")
    })
}

fn report(root: &str, v: &Validator, instance: &Value) -> Result<(), Invalid> {
    let errors: Vec<(String, String)> = v
        .iter_errors(instance)
        .take(MAX_REPORTED + 1)
        .map(|e| {
            let path = dotted(root, e.instance_path().as_str());
            let message = match e.kind() {
                // Every allowed value (the library's text cuts long lists).
                jsonschema::error::ValidationErrorKind::Enum { options } => {
                    let all: Vec<String> = options
                        .as_array()
                        .map(|a| a.iter().map(Value::to_string).collect())
                        .unwrap_or_default();
                    format!("{} is not one of: {}", e.instance(), all.join(", "))
                }
                _ => e.to_string(),
            };
            (path, message)
        })
        .collect();
    let Some((first, _)) = errors.first() else {
        return Ok(());
    };
    let path = strip_indexes(first);
    let more = if errors.len() > MAX_REPORTED {
        "\n- …"
    } else {
        ""
    };
    let lines: Vec<String> = errors
        .iter()
        .take(MAX_REPORTED)
        .map(|(p, m)| format!("{p}: {m}"))
        .collect();
    Err(Invalid {
        text: format!("- {}{more}", lines.join("\n- ")),
        path,
    })
}

/// `spec.vms[0].name` → `spec.vms.name`.
fn strip_indexes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut skipping = false;
    for c in path.chars() {
        match c {
            '[' => skipping = true,
            ']' => skipping = false,
            _ if !skipping => out.push(c),
            _ => {}
        }
    }
    out
}

/// `/vms/0/name` under `spec` → `spec.vms[0].name`.
pub fn dotted(root: &str, pointer: &str) -> String {
    let mut out = root.to_owned();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            out.push('.');
            out.push_str(&seg);
        }
    }
    out
}

/// A CRD structural schema as JSON Schema; `patch` relaxes it for merge patches.
pub fn to_json_schema(node: &Value, patch: bool) -> Value {
    let Value::Object(map) = node else {
        return node.clone();
    };
    let mut out = serde_json::Map::new();
    for (k, v) in map {
        match k.as_str() {
            "properties" => {
                let props = v
                    .as_object()
                    .map(|p| {
                        p.iter()
                            .map(|(name, s)| (name.clone(), to_json_schema(s, patch)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(k.clone(), Value::Object(props));
            }
            "items" | "additionalProperties" | "not" if v.is_object() => {
                out.insert(k.clone(), to_json_schema(v, patch));
            }
            "allOf" | "anyOf" | "oneOf" => {
                let list = v
                    .as_array()
                    .map(|a| a.iter().map(|s| to_json_schema(s, patch)).collect())
                    .unwrap_or_default();
                out.insert(k.clone(), Value::Array(list));
            }
            "required" if patch => {}
            // `default`, `x-kubernetes-*`, `nullable`, `format`, … are not JSON Schema checks here.
            "default" | "nullable" | "format" | "example" => {}
            _ if k.starts_with("x-kubernetes-") => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    let nullable = patch || map.get("nullable").and_then(Value::as_bool) == Some(true);
    let int_or_string = map
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true);
    let preserve = map
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true);
    if int_or_string {
        out.remove("anyOf");
        out.insert("type".into(), json!(["integer", "string"]));
    }
    if nullable {
        match out.get("type").cloned() {
            Some(Value::String(t)) => {
                out.insert("type".into(), json!([t, "null"]));
            }
            Some(Value::Array(mut ts)) if !ts.contains(&json!("null")) => {
                ts.push(json!("null"));
                out.insert("type".into(), Value::Array(ts));
            }
            _ => {}
        }
        if let Some(Value::Array(e)) = out.get_mut("enum") {
            e.push(Value::Null);
        }
    }
    // Unknown fields would be pruned silently by the API server: reject them here.
    if map.contains_key("properties") && !map.contains_key("additionalProperties") && !preserve {
        out.insert("additionalProperties".into(), json!(false));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::find_resource;

    fn provider() -> &'static ResourceDef {
        find_resource("Provider").unwrap()
    }

    #[test]
    fn accepts_a_valid_spec() {
        let spec = json!({"type": "vsphere", "url": "https://vc/sdk", "secret": {"name": "s", "namespace": "n"}});
        check_spec(provider(), &spec).unwrap();
    }

    #[test]
    fn names_the_path_and_what_was_expected() {
        let e = check_spec(provider(), &json!({"type": 5, "secret": {}})).unwrap_err();
        assert!(e.text.contains("spec.type"), "{e}");
        assert!(e.text.contains("string"), "{e}");
        let e = check_spec(provider(), &json!({"type": "vsphere"})).unwrap_err();
        assert!(e.text.contains("secret"), "{e}");
        let e = check_spec(
            provider(),
            &json!({"type": "vsphere", "secret": {}, "ulr": "x"}),
        )
        .unwrap_err();
        assert!(e.text.contains("ulr"), "{e}");
    }

    #[test]
    fn nested_paths_use_brackets_for_indexes() {
        let plan = find_resource("Plan").unwrap();
        let spec = json!({"provider": {}, "map": {}, "targetNamespace": "t", "vms": [{"id": "vm-1"}, {"id": 7}]});
        let e = check_spec(plan, &spec).unwrap_err();
        assert!(e.text.contains("spec.vms[1].id"), "{e}");
    }

    #[test]
    fn patch_mode_drops_required_and_allows_null() {
        check_spec_patch(provider(), &json!({"url": "https://x"})).unwrap();
        check_spec_patch(provider(), &json!({"url": null})).unwrap();
        assert!(check_spec_patch(provider(), &json!({"url": 3})).is_err());
        assert!(check_spec(provider(), &json!({"url": "https://x"})).is_err());
    }

    #[test]
    fn every_crd_schema_compiles_in_both_modes() {
        for r in resources() {
            let _ = check_spec(r, &json!({}));
            let _ = check_spec_patch(r, &json!({}));
        }
    }

    #[test]
    fn dotted_paths() {
        assert_eq!(dotted("spec", ""), "spec");
        assert_eq!(dotted("spec", "/vms/0/name"), "spec.vms[0].name");
        assert_eq!(dotted("spec", "/a~1b"), "spec.a/b");
    }

    #[test]
    fn enum_errors_list_every_value_and_the_path_is_the_subtree() {
        let plan = crate::catalogue::find_resource("Plan").unwrap();
        let mut spec = serde_json::json!({"targetNamespace": "t", "provider": {"source": {"name": "a"}, "destination": {"name": "b"}},
            "map": {"network": {"name": "n"}, "storage": {"name": "s"}}, "vms": [{"id": "x", "idd": 1}]});
        let e = check_spec(plan, &spec).unwrap_err();
        assert_eq!(e.path, "spec.vms", "{e}");
        spec["vms"] = serde_json::json!([{"id": "x"}]);
        spec["targetPowerState"] = serde_json::json!("sleeping");
        let e = check_spec(plan, &spec).unwrap_err();
        assert!(
            e.text
                .contains(r#""sleeping" is not one of: "on", "off", "auto""#),
            "{e}"
        );
        assert_eq!(e.path, "spec.targetPowerState");
    }
}
