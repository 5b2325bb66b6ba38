//! A CRD reduced to what drift is measured in: its names and scope, each
//! version's `served`/`storage` flags, and each version's schema flattened into
//! one [`Field`] per path (`spec.vms[].id`, `spec.nodeSelector.*`).
//!
//! The same reader takes a full CRD object (from the cluster or a file) and the
//! description-free digest the generator embeds in the binary, so both sides
//! go through exactly the same code.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// One CRD.
#[derive(Debug, Clone, PartialEq)]
pub struct Crd {
    /// `<plural>.<group>`, the CRD's object name: what two sides are matched by.
    pub name: String,
    pub group: String,
    pub kind: String,
    pub plural: String,
    pub scope: String,
    /// In the CRD's order.
    pub versions: Vec<Version>,
}

/// One version of a CRD.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub name: String,
    pub served: bool,
    pub storage: bool,
    /// Every schema path below the root, sorted.
    pub fields: BTreeMap<String, Field>,
}

/// What is compared at one schema path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    /// `string`, `integer`, `array`, `object`, `int-or-string`, with the format,
    /// `any fields` (preserve-unknown-fields) and `nullable` in brackets.
    #[serde(rename = "type")]
    pub ty: String,
    /// Allowed values, when restricted.
    #[serde(rename = "enum", skip_serializing_if = "Option::is_none")]
    pub enum_values: Option<Vec<Value>>,
    /// Listed in its parent's `required`.
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// The CEL rules of `x-kubernetes-validations`, sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// The path of the field this one is in (None at the top level).
    #[serde(skip)]
    pub parent: Option<String>,
}

impl Crd {
    /// Reads a CRD object (or the generator's digest of one).
    pub fn from_value(doc: &Value) -> Result<Crd, String> {
        let spec = doc.get("spec").ok_or("a CRD without spec")?;
        let text = |v: Option<&Value>, what: &str| -> Result<String, String> {
            v.and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("a CRD without {what}"))
        };
        let group = text(spec.get("group"), "spec.group")?;
        let kind = text(spec.pointer("/names/kind"), "spec.names.kind")?;
        let plural = text(spec.pointer("/names/plural"), "spec.names.plural")?;
        let name = doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{plural}.{group}"));
        let scope = spec
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or("Namespaced")
            .to_owned();
        let versions = spec
            .get("versions")
            .and_then(Value::as_array)
            .ok_or("a CRD without spec.versions")?
            .iter()
            .map(|v| {
                let mut fields = BTreeMap::new();
                if let Some(s) = v.pointer("/schema/openAPIV3Schema") {
                    flatten(s, "", &mut fields);
                }
                Ok(Version {
                    name: text(v.get("name"), "a version name")?,
                    served: v.get("served").and_then(Value::as_bool).unwrap_or(true),
                    storage: v.get("storage").and_then(Value::as_bool).unwrap_or(false),
                    fields,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Crd {
            name,
            group,
            kind,
            plural,
            scope,
            versions,
        })
    }

    pub fn version(&self, name: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.name == name)
    }

    /// The storage version, else the first one.
    pub fn storage_version(&self) -> Option<&Version> {
        self.versions
            .iter()
            .find(|v| v.storage)
            .or(self.versions.first())
    }
}

/// Adds a field for every path below `node` (whose own path is `path`).
fn flatten(node: &Value, path: &str, out: &mut BTreeMap<String, Field>) {
    let required: Vec<&str> = node
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let child = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    let here = (!path.is_empty()).then_some(path);
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (name, s) in props {
            let p = child(name);
            out.insert(p.clone(), field(s, required.contains(&name.as_str()), here));
            flatten(s, &p, out);
        }
    }
    if let Some(items) = node.get("items").filter(|i| i.is_object()) {
        let p = format!("{path}[]");
        out.insert(p.clone(), field(items, false, here));
        flatten(items, &p, out);
    }
    if let Some(extra) = node.get("additionalProperties").filter(|a| a.is_object()) {
        let p = child("*");
        out.insert(p.clone(), field(extra, false, here));
        flatten(extra, &p, out);
    }
}

fn field(node: &Value, required: bool, parent: Option<&str>) -> Field {
    let flag = |k: &str| node.get(k).and_then(Value::as_bool) == Some(true);
    let mut ty = if flag("x-kubernetes-int-or-string") {
        "int-or-string".to_owned()
    } else {
        match node.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("|"),
            _ if node.get("properties").is_some() => "object".to_owned(),
            _ => "any".to_owned(),
        }
    };
    let mut notes: Vec<String> = Vec::new();
    if let Some(f) = node.get("format").and_then(Value::as_str) {
        notes.push(f.to_owned());
    }
    if flag("x-kubernetes-preserve-unknown-fields") {
        notes.push("any fields".to_owned());
    }
    if flag("nullable") {
        notes.push("nullable".to_owned());
    }
    if !notes.is_empty() {
        ty = format!("{ty} ({})", notes.join(", "));
    }
    let mut rules: Vec<String> = node
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("rule").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    rules.sort();
    Field {
        ty,
        enum_values: node.get("enum").and_then(Value::as_array).cloned(),
        required,
        default: node.get("default").cloned(),
        rules,
        parent: parent.map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd(schema: Value) -> Crd {
        Crd::from_value(&json!({"metadata": {"name": "ws.example.io"},
            "spec": {"group": "example.io", "names": {"kind": "W", "plural": "ws"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": schema}}]}}))
        .unwrap()
    }

    #[test]
    fn flattens_properties_items_and_maps() {
        let c = crd(
            json!({"type": "object", "properties": {"spec": {"type": "object",
            "required": ["vms"], "properties": {
                "vms": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "string"}}}},
                "size": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "when": {"type": "string", "format": "date-time", "nullable": true},
                "power": {"type": "string", "enum": ["on", "off"], "default": "on"},
                "ref": {"type": "object", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "m"}]}
            }}}}),
        );
        assert_eq!(c.scope, "Namespaced");
        let f = &c.versions[0].fields;
        let paths: Vec<&str> = f.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            vec![
                "spec",
                "spec.labels",
                "spec.labels.*",
                "spec.power",
                "spec.ref",
                "spec.size",
                "spec.vms",
                "spec.vms[]",
                "spec.vms[].id",
                "spec.when"
            ]
        );
        assert!(f["spec.vms"].required && !f["spec.size"].required);
        assert_eq!(f["spec.size"].ty, "int-or-string");
        assert_eq!(f["spec.when"].ty, "string (date-time, nullable)");
        assert_eq!(
            f["spec.power"].enum_values,
            Some(vec![json!("on"), json!("off")])
        );
        assert_eq!(f["spec.power"].default, Some(json!("on")));
        assert_eq!(f["spec.ref"].rules, vec!["self == oldSelf"]);
        assert_eq!(f["spec.vms[].id"].parent.as_deref(), Some("spec.vms[]"));
        assert_eq!(f["spec"].parent, None);
    }

    #[test]
    fn reads_the_embedded_digests() {
        for r in crate::catalogue::resources() {
            let v: Value = serde_json::from_str(r.crd_json).unwrap();
            let c = Crd::from_value(&v).unwrap();
            assert_eq!((c.kind.as_str(), c.plural.as_str()), (r.kind, r.plural));
            assert_eq!(c.name, format!("{}.{}", r.plural, r.group));
            assert!(c
                .version(r.version)
                .is_some_and(|v| v.fields.contains_key("spec")
                    || r.schema().pointer("/properties/spec").is_none()));
        }
    }
}
