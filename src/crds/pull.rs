//! `kubectl-mtv crds pull`: writes the cluster's Forklift CRDs into a folder
//! (crds/ by default) as upstream names them (`<group>_<plural>.yaml`), without
//! what the API server adds (status, managedFields, resourceVersion, uid,
//! creationTimestamp, generation, and kubectl's last-applied annotation), so a
//! rebuild regenerates models and tools from exactly what the cluster serves.
//! It reports each file against what was there, with the same comparison as
//! `crds diff`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::diff::{self, KindDrift};
use super::fetch::ClusterCrds;
use super::shape::Crd;
use super::GROUP;

/// Metadata fields the API server writes.
const SERVER_FIELDS: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
];
/// Written by `kubectl apply`: a second copy of the whole CRD.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// No file held this CRD before.
    New,
    /// Its schema, versions or scope changed.
    Changed,
    /// Other text changed (descriptions, columns, formatting), or only equivalences.
    Rewritten,
    /// Byte for byte what was there.
    Unchanged,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileOutcome {
    pub file: String,
    pub kind: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<KindDrift>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub equivalences: Vec<diff::Equivalence>,
}

/// Everything `pull` did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PullReport {
    pub dir: String,
    pub server: String,
    pub kubernetes_version: String,
    pub files: Vec<FileOutcome>,
    /// Files of Forklift CRDs the cluster does not serve (kept; not deleted).
    pub left_in_place: Vec<FileOutcome>,
}

/// A served CRD object as it belongs in a file.
pub fn strip(obj: &mut Value) {
    if let Some(o) = obj.as_object_mut() {
        o.remove("status");
    }
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        for f in SERVER_FIELDS {
            meta.remove(*f);
        }
        if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            a.remove(LAST_APPLIED);
            if a.is_empty() {
                meta.remove("annotations");
            }
        }
    }
}

/// `<group>_<plural>.yaml`, as upstream names CRD files.
pub fn file_name(crd: &Crd) -> String {
    format!("{}_{}.yaml", crd.group, crd.plural)
}

/// Writes the cluster's CRDs into `dir` and tells what changed.
pub fn write(dir: &Path, cluster: &ClusterCrds) -> Result<PullReport, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut before = existing(dir)?;
    let mut files = Vec::new();
    for obj in &cluster.objects {
        let mut obj = obj.clone();
        strip(&mut obj);
        let new = Crd::from_value(&obj)?;
        let text = super::yaml::to_string(&obj);
        // A file that already holds this CRD keeps its name (the generator
        // refuses a CRD declared twice).
        let old = before.remove(&new.name);
        let path = old
            .as_ref()
            .map(|o| o.path.clone())
            .unwrap_or_else(|| dir.join(file_name(&new)));
        let mut outcome = FileOutcome {
            file: display_name(&path),
            kind: new.kind.clone(),
            status: Status::New,
            drift: None,
            equivalences: Vec::new(),
        };
        if let Some(old) = old {
            outcome.drift =
                diff::compare_kind(&old.crd, &new, cluster.facts, &mut outcome.equivalences);
            outcome.status = if outcome.drift.is_some() {
                Status::Changed
            } else if old.text == text {
                Status::Unchanged
            } else {
                Status::Rewritten
            };
        }
        if outcome.status != Status::Unchanged {
            std::fs::write(&path, &text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        files.push(outcome);
    }
    let left_in_place = before
        .into_values()
        .map(|o| FileOutcome {
            file: display_name(&o.path),
            kind: o.crd.kind,
            status: Status::Unchanged,
            drift: None,
            equivalences: Vec::new(),
        })
        .collect();
    Ok(PullReport {
        dir: dir.display().to_string(),
        server: cluster.server.clone(),
        kubernetes_version: cluster.kubernetes.clone(),
        files,
        left_in_place,
    })
}

fn display_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

struct Existing {
    path: PathBuf,
    text: String,
    crd: Crd,
}

/// The Forklift CRD files already in `dir`, by CRD name (other YAML is ignored).
fn existing(dir: &Path) -> Result<BTreeMap<String, Existing>, String> {
    let mut out = BTreeMap::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml") | Some("yml")
            )
        })
        .collect();
    paths.sort();
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(doc) = serde_yaml::from_str::<Value>(&text) else {
            continue;
        };
        if doc.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition")
            || doc.pointer("/spec/group").and_then(Value::as_str) != Some(GROUP)
        {
            continue;
        }
        let crd = Crd::from_value(&doc).map_err(|e| format!("{}: {e}", path.display()))?;
        out.insert(crd.name.clone(), Existing { path, text, crd });
    }
    Ok(out)
}

impl PullReport {
    /// Whether any file was written.
    pub fn wrote_any(&self) -> bool {
        self.files.iter().any(|f| f.status != Status::Unchanged)
    }

    /// The readable report.
    pub fn text(&self) -> String {
        let mut t = format!(
            "Pulled {} Forklift CRDs from {} (Kubernetes {}) into {}:\n",
            self.files.len(),
            self.server,
            self.kubernetes_version,
            self.dir
        );
        let mut unchanged = 0;
        let mut plainly_rewritten = Vec::new();
        for f in &self.files {
            match f.status {
                Status::Unchanged => unchanged += 1,
                Status::New => t.push_str(&format!("  new        {} ({})\n", f.file, f.kind)),
                Status::Changed => {
                    let d = f.drift.as_ref().expect("a changed file has drift");
                    let n = d.count();
                    t.push_str(&format!(
                        "  changed    {} ({}): {n} change{}\n",
                        f.file,
                        f.kind,
                        if n == 1 { "" } else { "s" }
                    ));
                    for l in d.lines(12) {
                        t.push_str(&format!("               {l}\n"));
                    }
                }
                Status::Rewritten if f.equivalences.is_empty() => {
                    plainly_rewritten.push(f.file.as_str())
                }
                Status::Rewritten => t.push_str(&format!(
                    "  rewritten  {} ({}): no schema change; {}\n",
                    f.file,
                    f.kind,
                    diff::equivalence_lines(&f.equivalences).join(" ")
                )),
            }
        }
        if !plainly_rewritten.is_empty() {
            let n = plainly_rewritten.len();
            let mut names: Vec<&str> = plainly_rewritten.iter().copied().take(3).collect();
            if n > 3 {
                names.push("…");
            }
            t.push_str(&format!(
                "  rewritten  {n} file{} with no schema change (key order, descriptions or formatting differ): {}\n",
                if n == 1 { "" } else { "s" },
                names.join(", ")
            ));
        }
        if unchanged > 0 {
            t.push_str(&format!(
                "  unchanged  {unchanged} file{}\n",
                if unchanged == 1 { "" } else { "s" }
            ));
        }
        for f in &self.left_in_place {
            t.push_str(&format!(
                "Left in place: {} ({}): the cluster serves no such CRD; delete the file to drop its tools.\n",
                f.file, f.kind
            ));
        }
        if self.wrote_any() || !self.left_in_place.is_empty() {
            t.push_str("Next: rebuild (cargo build), then review the tool catalogue diff (UPDATE_SNAPSHOTS=1 cargo test --test catalogue; git diff tests/snapshots).\n");
        } else {
            t.push_str("Nothing changed: the folder already holds what the cluster serves.\n");
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn served(plural: &str, props: Value) -> Value {
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": format!("{plural}.{GROUP}"), "uid": "u", "resourceVersion": "7",
                "generation": 2, "creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": [{}],
                "annotations": {LAST_APPLIED: "{}"}},
            "spec": {"group": GROUP, "names": {"kind": "Plan", "plural": plural}, "scope": "Namespaced",
                "versions": [{"name": "v1beta1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": props}}}}}]},
            "status": {"acceptedNames": {}}})
    }

    fn cluster(objects: Vec<Value>) -> ClusterCrds {
        ClusterCrds {
            server: "https://k".into(),
            kubernetes: "v1.20.2".into(),
            facts: diff::ServerFacts::from_minor("20"),
            objects,
        }
    }

    #[test]
    fn strips_server_fields() {
        let mut v = served("plans", json!({}));
        strip(&mut v);
        assert_eq!(v["metadata"], json!({"name": "plans.forklift.konveyor.io"}));
        assert!(v.get("status").is_none());
    }

    #[test]
    fn writes_new_files_then_reports_changes_and_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("toolsets.yaml"), "resources: [Plan]\n").unwrap();
        let r = write(
            dir.path(),
            &cluster(vec![
                served("plans", json!({"a": {"type": "string"}})),
                served("hooks", json!({})),
            ]),
        )
        .unwrap();
        assert_eq!(
            r.files.iter().map(|f| f.status).collect::<Vec<_>>(),
            vec![Status::New, Status::New]
        );
        let text =
            std::fs::read_to_string(dir.path().join("forklift.konveyor.io_plans.yaml")).unwrap();
        assert!(
            text.starts_with(
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
            ),
            "{text}"
        );
        assert!(!text.contains("uid") && !text.contains("status"), "{text}");

        let again = write(
            dir.path(),
            &cluster(vec![served(
                "plans",
                json!({"a": {"type": "string"}, "b": {"type": "integer"}}),
            )]),
        )
        .unwrap();
        assert_eq!(again.files[0].status, Status::Changed);
        assert_eq!(again.left_in_place.len(), 1);
        let t = again.text();
        assert!(
            t.contains("changed    forklift.konveyor.io_plans.yaml (Plan): 1 change"),
            "{t}"
        );
        assert!(t.contains("+ spec.b  integer  new in the cluster"), "{t}");
        assert!(
            t.contains("Left in place: forklift.konveyor.io_hooks.yaml"),
            "{t}"
        );

        let same = write(
            dir.path(),
            &cluster(vec![served(
                "plans",
                json!({"a": {"type": "string"}, "b": {"type": "integer"}}),
            )]),
        )
        .unwrap();
        assert_eq!(same.files[0].status, Status::Unchanged);
    }
}
