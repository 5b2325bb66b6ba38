//! `fields` of the get tools: keep only chosen dotted paths of an object.
//!
//! Paths are `a.b`, `a[*].b` (every element), `a[0].b` (one element), and
//! a field of an array applies to each element (`spec.vms.name`), as in
//! `kubectl explain`. A path the resource's CRD schema does not have gets a
//! warning that names it and the nearest real path, instead of silently
//! returning nothing.

use serde_json::{json, Map, Value};

use crate::catalogue::ResourceDef;
use crate::tools::suggest::distance;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Field(String),
    All,
    Index(usize),
}

fn parse(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(Seg::Field(rest[..i].to_owned()));
            }
            rest = &rest[i..];
            while let Some(body) = rest.strip_prefix('[') {
                let Some(end) = body.find(']') else { break };
                let inner = &body[..end];
                out.push(match inner.parse::<usize>() {
                    Ok(n) => Seg::Index(n),
                    Err(_) => Seg::All,
                });
                rest = &body[end + 1..];
            }
        } else {
            out.push(Seg::Field(rest.to_owned()));
        }
    }
    out
}

/// The part of `src` that `segs` reaches, in the same shape, or `None`.
fn project(src: &Value, segs: &[Seg]) -> Option<Value> {
    let Some((first, rest)) = segs.split_first() else {
        return Some(src.clone());
    };
    match (first, src) {
        (Seg::Field(_), Value::Array(items)) => {
            // A field of an array: of each element.
            let picked: Vec<Value> = items
                .iter()
                .map(|i| project(i, segs).unwrap_or_else(|| json!({})))
                .collect();
            picked
                .iter()
                .any(|p| p != &json!({}))
                .then_some(Value::Array(picked))
        }
        (Seg::Field(name), Value::Object(map)) => {
            let child = project(map.get(name)?, rest)?;
            Some(json!({ name.clone(): child }))
        }
        (Seg::All, Value::Array(items)) => Some(Value::Array(
            items
                .iter()
                .map(|i| project(i, rest).unwrap_or_else(|| json!({})))
                .collect(),
        )),
        (Seg::Index(n), Value::Array(items)) => {
            Some(Value::Array(vec![project(items.get(*n)?, rest)?]))
        }
        _ => None,
    }
}

/// Deep-merges `b` into `a` (objects by key, arrays element by element).
fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in y {
                match x.get_mut(&k) {
                    Some(old) => merge(old, v),
                    None => {
                        x.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (old, v) in x.iter_mut().zip(y) {
                merge(old, v);
            }
        }
        (a, b) => *a = b,
    }
}

/// Keeps only `fields` of `obj` (and always its name and namespace).
pub fn select(obj: &Value, fields: &[String]) -> Value {
    let mut out = Value::Object(Map::new());
    for path in ["metadata.name", "metadata.namespace"]
        .into_iter()
        .chain(fields.iter().map(String::as_str))
    {
        if let Some(v) = project(obj, &parse(path)) {
            merge(&mut out, v);
        }
    }
    out
}

/// Fields every object's metadata has.
const METADATA: [&str; 13] = [
    "name",
    "namespace",
    "uid",
    "labels",
    "annotations",
    "creationTimestamp",
    "deletionTimestamp",
    "resourceVersion",
    "generation",
    "ownerReferences",
    "finalizers",
    "generateName",
    "managedFields",
];

/// Paths the resource's schema does not have, each with the nearest real
/// path: `metadata.nmae` → `metadata.nmae is not a field of Plan (nearest: metadata.name)`.
pub fn unknown(r: &'static ResourceDef, fields: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    'paths: for path in fields {
        let segs = parse(path);
        let mut node = r.schema();
        let mut walked: Vec<String> = Vec::new();
        for seg in &segs {
            let Seg::Field(name) = seg else { continue };
            while node["type"] == "array" {
                node = &node["items"];
            }
            if walked == ["metadata"] {
                if METADATA.contains(&name.as_str()) || walked.len() > 1 {
                    continue 'paths;
                }
                let near = nearest(name, METADATA.iter().copied());
                out.push(describe(r, path, &walked, near));
                continue 'paths;
            }
            match node["properties"].get(name) {
                Some(child) => {
                    node = child;
                    walked.push(name.clone());
                }
                None if node["x-kubernetes-preserve-unknown-fields"] == true
                    || node.get("additionalProperties").is_some() =>
                {
                    continue 'paths;
                }
                None => {
                    let names = node["properties"]
                        .as_object()
                        .map(|p| p.keys().map(String::as_str).collect::<Vec<_>>())
                        .unwrap_or_default();
                    let near = nearest(name, names.into_iter());
                    out.push(describe(r, path, &walked, near));
                    continue 'paths;
                }
            }
        }
    }
    out
}

fn nearest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (distance(&c.to_lowercase(), &name.to_lowercase()), c))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, c)| c)
}

fn describe(r: &ResourceDef, path: &str, walked: &[String], near: Option<&str>) -> String {
    let at = walked.join(".");
    match near {
        Some(n) if at.is_empty() => format!("{path} is not a field of {} (nearest: {n})", r.kind),
        Some(n) => format!("{path} is not a field of {} (nearest: {at}.{n})", r.kind),
        None if at.is_empty() => format!("{path} is not a field of {}", r.kind),
        None => format!(
            "{path} is not a field of {} (see explain_resource kind={} path={at})",
            r.kind, r.kind
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Value {
        json!({"metadata": {"name": "p", "namespace": "n", "uid": "u"},
               "spec": {"vms": [{"id": "1", "name": "web-01"}, {"id": "2", "name": "web-02"}], "warm": false},
               "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    }

    #[test]
    fn dotted_bracketed_and_implicit_array_paths() {
        let want = json!({"metadata": {"name": "p", "namespace": "n"}, "spec": {"vms": [{"name": "web-01"}, {"name": "web-02"}]}});
        for f in ["spec.vms.name", "spec.vms[*].name"] {
            assert_eq!(select(&plan(), &[f.into()]), want, "{f}");
        }
        assert_eq!(
            select(
                &plan(),
                &["spec.vms[1].id".into(), "status.conditions.type".into()]
            ),
            json!({"metadata": {"name": "p", "namespace": "n"}, "spec": {"vms": [{"id": "2"}]},
                   "status": {"conditions": [{"type": "Ready"}]}})
        );
        // Two fields of the same elements merge.
        assert_eq!(
            select(&plan(), &["spec.vms.id".into(), "spec.vms.name".into()])["spec"]["vms"][0],
            json!({"id": "1", "name": "web-01"})
        );
    }

    #[test]
    fn unknown_paths_are_named_with_the_nearest() {
        let r = crate::catalogue::find_resource("Plan").unwrap();
        let w = unknown(
            r,
            &[
                "metadata.nmae".into(),
                "spec.vms.nme".into(),
                "spec.wram".into(),
                "spec.vms[*].name".into(),
                "metadata.labels.app".into(),
            ],
        );
        assert_eq!(
            w,
            [
                "metadata.nmae is not a field of Plan (nearest: metadata.name)",
                "spec.vms.nme is not a field of Plan (nearest: spec.vms.name)",
                "spec.wram is not a field of Plan (nearest: spec.warm)",
            ]
        );
    }
}
