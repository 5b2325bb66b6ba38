//! Comparing two sets of Forklift CRDs: the ones this binary was built from
//! ("built") and the ones a cluster serves ("cluster"); `crds pull` uses it
//! for a folder's files against the cluster's. Kinds added and removed,
//! `served`/`storage` flags per version, and per kind the schema paths added,
//! removed, or changed in type, enum, required-ness, default or CEL rules.
//!
//! Two differences a down-level API server makes are told apart as
//! [`Equivalence`]s rather than drift: an empty-string default missing in the
//! cluster (Kubernetes 1.20 cannot store `default: ""`, so the test API
//! server's `apply-crds` strips it) and CEL rules missing on a server older
//! than 1.25 (it drops `x-kubernetes-validations`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::shape::{Crd, Field, Version};

/// What the cluster's API server can store, to tell drift from down-levelling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerFacts {
    /// The Kubernetes minor version (1.<minor>), when known.
    pub minor: Option<u32>,
}

impl ServerFacts {
    /// From the API server's `/version` minor field ("20", "20+").
    pub fn from_minor(minor: &str) -> Self {
        let digits: String = minor.chars().take_while(char::is_ascii_digit).collect();
        ServerFacts {
            minor: digits.parse().ok(),
        }
    }

    /// Kubernetes before 1.25 drops `x-kubernetes-validations`.
    fn drops_cel_rules(self) -> bool {
        self.minor.is_some_and(|m| m < 25)
    }
}

/// Why a difference is not drift: its code in JSON, and its explanation.
pub const EMPTY_DEFAULT: (&str, &str) = (
    "emptyDefaultNotStored",
    "Kubernetes 1.20 cannot store an empty-string default, so the CRD was applied without it (scripts/kube-testenv apply-crds does that); an omitted field then stays unset instead of \"\"",
);
pub const CEL_DROPPED: (&str, &str) = (
    "celRulesNotStored",
    "Kubernetes before 1.25 does not know x-kubernetes-validations (CEL rules) and drops them; that API server does not enforce them either",
);

/// Everything that differs.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// Kinds the cluster serves that the built side lacks.
    pub kinds_added: Vec<KindRef>,
    /// Kinds of the built side the cluster does not serve.
    pub kinds_removed: Vec<KindRef>,
    pub kinds_changed: Vec<KindDrift>,
    /// Differences that are not drift, and why.
    pub equivalences: Vec<Equivalence>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KindRef {
    pub kind: String,
    pub name: String,
    pub versions: Vec<String>,
}

/// How one kind differs.
#[derive(Debug, Clone, Serialize)]
pub struct KindDrift {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Change<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<VersionChange>,
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change<T> {
    pub built: T,
    pub cluster: T,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Flags {
    pub served: bool,
    pub storage: bool,
}

/// A version added, removed, or with other flags.
#[derive(Debug, Clone, Serialize)]
pub struct VersionChange {
    pub version: String,
    pub built: Option<Flags>,
    pub cluster: Option<Flags>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One schema path that differs.
#[derive(Debug, Clone, Serialize)]
pub struct FieldChange {
    /// The version compared (`built→cluster` when the names differ).
    pub version: String,
    pub path: String,
    pub change: ChangeKind,
    /// For `changed`: type, enum, required, default, rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub what: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub built: Option<Field>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<Field>,
    /// Paths inside this one added or removed with it (not listed apart).
    #[serde(skip_serializing_if = "is_zero")]
    pub inside: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A difference that is not drift.
#[derive(Debug, Clone, Serialize)]
pub struct Equivalence {
    pub kind: String,
    pub version: String,
    pub path: String,
    /// `default` or `rules`.
    pub what: &'static str,
    /// The built side's value (the cluster has none).
    pub built: Value,
    /// `emptyDefaultNotStored` or `celRulesNotStored` (see [`EMPTY_DEFAULT`], [`CEL_DROPPED`]).
    pub reason: &'static str,
}

impl Drift {
    /// Nothing differs (equivalences aside).
    pub fn identical(&self) -> bool {
        self.kinds_added.is_empty()
            && self.kinds_removed.is_empty()
            && self.kinds_changed.is_empty()
    }

    /// The kind's differences, if it has any.
    pub fn kind(&self, kind: &str) -> Option<&KindDrift> {
        self.kinds_changed.iter().find(|k| k.kind == kind)
    }

    /// One line: which kinds differ and how much.
    pub fn summary(&self) -> String {
        if self.identical() {
            return "identical".to_owned();
        }
        let mut parts = Vec::new();
        if !self.kinds_changed.is_empty() {
            let kinds: Vec<String> = self
                .kinds_changed
                .iter()
                .map(|k| format!("{} ({})", k.kind, plural(k.count(), "change")))
                .collect();
            parts.push(format!("changed: {}", kinds.join(", ")));
        }
        if !self.kinds_added.is_empty() {
            parts.push(format!(
                "new in the cluster: {}",
                kind_names(&self.kinds_added)
            ));
        }
        if !self.kinds_removed.is_empty() {
            parts.push(format!(
                "gone from the cluster: {}",
                kind_names(&self.kinds_removed)
            ));
        }
        parts.join("; ")
    }

    /// The short note for an affected kind's explanations and validation errors.
    pub fn note_for(&self, kind: &str) -> Option<String> {
        let what = if let Some(k) = self.kind(kind) {
            let mut items: Vec<String> = k.versions.iter().map(VersionChange::brief).collect();
            items.extend(k.fields.iter().map(FieldChange::brief));
            let n = items.len();
            let mut shown: Vec<String> = items.into_iter().take(NOTE_ITEMS).collect();
            if n > NOTE_ITEMS {
                shown.push(format!("{} more", n - NOTE_ITEMS));
            }
            shown.join(", ")
        } else if self.kinds_removed.iter().any(|k| k.kind == kind) {
            format!("the cluster serves no {kind}")
        } else {
            return None;
        };
        Some(format!(
            "Note: this server was built from Forklift CRDs that differ from the cluster's for {kind}: {what}. Rebuild with `kubectl-mtv crds pull` (details: `kubectl-mtv crds diff`)."
        ))
    }

    /// The readable report body (bounded): one block per kind, then the equivalences.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.kinds_added.is_empty() {
            out.push("New kinds in the cluster (this build has no tools for them):".to_owned());
            for k in self.kinds_added.iter().take(MAX_KINDS) {
                out.push(format!(
                    "  + {}  {}  {}",
                    k.kind,
                    k.name,
                    k.versions.join(", ")
                ));
            }
            more(&mut out, self.kinds_added.len(), MAX_KINDS, "kinds");
        }
        if !self.kinds_removed.is_empty() {
            out.push(
                "Kinds gone from the cluster (this build still has tools for them):".to_owned(),
            );
            for k in self.kinds_removed.iter().take(MAX_KINDS) {
                out.push(format!(
                    "  - {}  {}  {}",
                    k.kind,
                    k.name,
                    k.versions.join(", ")
                ));
            }
            more(&mut out, self.kinds_removed.len(), MAX_KINDS, "kinds");
        }
        for k in self.kinds_changed.iter().take(MAX_KINDS) {
            out.push(format!(
                "{} ({}): {}",
                k.kind,
                k.name,
                plural(k.count(), "change")
            ));
            out.extend(
                k.lines(MAX_FIELD_LINES)
                    .into_iter()
                    .map(|l| format!("  {l}")),
            );
        }
        more(
            &mut out,
            self.kinds_changed.len(),
            MAX_KINDS,
            "changed kinds",
        );
        let eq = equivalence_lines(&self.equivalences);
        if !eq.is_empty() {
            out.push("Treated as equivalent (not drift):".to_owned());
            out.extend(eq.into_iter().map(|l| format!("  {l}")));
        }
        out
    }
}

/// Items a note names before "N more".
const NOTE_ITEMS: usize = 3;
/// Changed kinds listed in full.
const MAX_KINDS: usize = 20;
/// Field lines listed per kind.
const MAX_FIELD_LINES: usize = 12;

fn more(out: &mut Vec<String>, n: usize, max: usize, what: &str) {
    if n > max {
        out.push(format!("  … {} more {what} (-o json lists all)", n - max));
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn kind_names(ks: &[KindRef]) -> String {
    ks.iter()
        .map(|k| k.kind.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl KindDrift {
    /// Number of differences (a field added with everything inside it counts once).
    pub fn count(&self) -> usize {
        self.scope.iter().count() + self.versions.len() + self.fields.len()
    }

    /// One line per difference, at most `max` field lines.
    pub fn lines(&self, max: usize) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(s) = &self.scope {
            out.push(format!("~ scope: {} → {}", s.built, s.cluster));
        }
        for v in &self.versions {
            out.push(format!("~ version {}", v.describe()));
        }
        let width = self
            .fields
            .iter()
            .take(max)
            .map(|f| f.path.chars().count())
            .max()
            .unwrap_or(0)
            .min(48);
        for f in self.fields.iter().take(max) {
            out.push(f.line(width));
        }
        if self.fields.len() > max {
            out.push(format!(
                "… {} more field changes (-o json lists all)",
                self.fields.len() - max
            ));
        }
        out
    }
}

impl VersionChange {
    fn flags(f: Option<Flags>) -> String {
        match f {
            None => "absent".to_owned(),
            Some(f) => {
                let mut s = if f.served { "served" } else { "not served" }.to_owned();
                if f.storage {
                    s.push_str(", storage");
                }
                s
            }
        }
    }

    fn describe(&self) -> String {
        match (self.built, self.cluster) {
            (None, Some(c)) => format!(
                "{}: new in the cluster ({})",
                self.version,
                Self::flags(Some(c))
            ),
            (Some(b), None) => format!(
                "{}: gone from the cluster (was {})",
                self.version,
                Self::flags(Some(b))
            ),
            (b, c) => format!("{}: {} → {}", self.version, Self::flags(b), Self::flags(c)),
        }
    }

    fn brief(&self) -> String {
        format!("version {}", self.describe())
    }
}

impl FieldChange {
    fn brief(&self) -> String {
        match self.change {
            ChangeKind::Added => format!("{} is new", self.path),
            ChangeKind::Removed => format!("{} is gone", self.path),
            ChangeKind::Changed => format!("{} changed ({})", self.path, self.what.join(", ")),
        }
    }

    fn line(&self, width: usize) -> String {
        let inside = if self.inside > 0 {
            format!(" (with {} inside)", plural(self.inside, "field"))
        } else {
            String::new()
        };
        match (self.change, &self.built, &self.cluster) {
            (ChangeKind::Added, _, Some(c)) => {
                format!(
                    "+ {:<width$}  {}  new in the cluster{inside}",
                    self.path,
                    describe_field(c)
                )
            }
            (ChangeKind::Removed, Some(b), _) => {
                format!(
                    "- {:<width$}  {}  gone from the cluster{inside}",
                    self.path,
                    describe_field(b)
                )
            }
            (_, Some(b), Some(c)) => {
                let parts: Vec<String> = self.what.iter().map(|w| change_text(w, b, c)).collect();
                format!("~ {:<width$}  {}", self.path, parts.join("; "))
            }
            _ => format!("? {}", self.path),
        }
    }
}

fn describe_field(f: &Field) -> String {
    let mut s = f.ty.clone();
    if f.required {
        s.push_str(", required");
    }
    if let Some(e) = &f.enum_values {
        s.push_str(&format!(", one of {}", values(e, 6)));
    }
    s
}

fn values(vs: &[Value], max: usize) -> String {
    let mut shown: Vec<String> = vs.iter().take(max).map(Value::to_string).collect();
    if vs.len() > max {
        shown.push(format!("… {} more", vs.len() - max));
    }
    shown.join(", ")
}

fn change_text(what: &str, b: &Field, c: &Field) -> String {
    match what {
        "type" => format!("type {} → {}", b.ty, c.ty),
        "required" => {
            let r = |x: bool| if x { "required" } else { "optional" };
            format!("{} → {}", r(b.required), r(c.required))
        }
        "enum" => match (&b.enum_values, &c.enum_values) {
            (Some(be), Some(ce)) => {
                let added: Vec<Value> = ce.iter().filter(|v| !be.contains(v)).cloned().collect();
                let removed: Vec<Value> = be.iter().filter(|v| !ce.contains(v)).cloned().collect();
                let mut parts = Vec::new();
                if !added.is_empty() {
                    parts.push(format!("new {}", values(&added, 6)));
                }
                if !removed.is_empty() {
                    parts.push(format!("gone {}", values(&removed, 6)));
                }
                format!("enum: {}", parts.join(", "))
            }
            (None, Some(ce)) => format!("enum: now one of {}", values(ce, 6)),
            (Some(_), None) => "enum: any value now".to_owned(),
            (None, None) => "enum".to_owned(),
        },
        "default" => {
            let d = |x: &Option<Value>| x.as_ref().map_or("none".to_owned(), Value::to_string);
            format!("default {} → {}", d(&b.default), d(&c.default))
        }
        "rules" => format!("CEL rules: {} → {}", b.rules.len(), c.rules.len()),
        other => other.to_owned(),
    }
}

/// Equivalences grouped per kind, version and reason, a few paths each.
pub(crate) fn equivalence_lines(eqs: &[Equivalence]) -> Vec<String> {
    let mut groups: BTreeMap<(&str, &str, &str), Vec<&str>> = BTreeMap::new();
    for e in eqs {
        groups
            .entry((e.kind.as_str(), e.version.as_str(), e.what))
            .or_default()
            .push(e.path.as_str());
    }
    groups
        .into_iter()
        .map(|((kind, version, what), paths)| {
            let (label, reason) = match what {
                "default" => ("`default: \"\"` missing in the cluster", EMPTY_DEFAULT.1),
                _ => (
                    "x-kubernetes-validations missing in the cluster",
                    CEL_DROPPED.1,
                ),
            };
            let mut shown: Vec<&str> = paths.iter().copied().take(3).collect();
            let rest = paths.len().saturating_sub(3);
            let tail = if rest > 0 {
                format!(", … {rest} more")
            } else {
                String::new()
            };
            shown.sort();
            format!(
                "{kind} {version}: {label} on {} ({}{tail}): {reason}.",
                plural(paths.len(), "field"),
                shown.join(", ")
            )
        })
        .collect()
}

/// Compares the built CRDs with the cluster's (matched by CRD name).
pub fn compare(built: &[Crd], cluster: &[Crd], facts: ServerFacts) -> Drift {
    let seen = cluster
        .iter()
        .map(|c| compare_one(built, c, facts))
        .collect();
    assemble(built, seen)
}

/// One cluster CRD once compared with the built one of its name: all that
/// needs keeping of it (its flattened schema can go as soon as this is made).
#[derive(Debug)]
pub struct Compared {
    kind: KindRef,
    /// None when the built side has no CRD of this name; else how it
    /// differs (if it does) and the equivalences found on the way.
    built: Option<(Option<KindDrift>, Vec<Equivalence>)>,
}

/// Compares one cluster CRD with the built one of its name.
pub fn compare_one(built: &[Crd], cluster: &Crd, facts: ServerFacts) -> Compared {
    Compared {
        kind: kind_ref(cluster),
        built: built.iter().find(|b| b.name == cluster.name).map(|b| {
            let mut eq = Vec::new();
            let changed = compare_kind(b, cluster, facts, &mut eq);
            (changed, eq)
        }),
    }
}

/// The drift from every cluster CRD's [`compare_one`].
pub fn assemble(built: &[Crd], seen: Vec<Compared>) -> Drift {
    let mut drift = Drift::default();
    let mut matched: BTreeMap<String, (Option<KindDrift>, Vec<Equivalence>)> = BTreeMap::new();
    let mut added: BTreeMap<String, KindRef> = BTreeMap::new();
    for c in seen {
        match c.built {
            Some(outcome) => {
                matched.insert(c.kind.name, outcome);
            }
            None => {
                added.insert(c.kind.name.clone(), c.kind);
            }
        }
    }
    drift.kinds_added = added.into_values().collect();
    let mut built: Vec<&Crd> = built.iter().collect();
    built.sort_by(|a, b| a.name.cmp(&b.name));
    built.dedup_by(|a, b| a.name == b.name);
    for b in built {
        match matched.remove(&b.name) {
            None => drift.kinds_removed.push(kind_ref(b)),
            Some((changed, eq)) => {
                drift.kinds_changed.extend(changed);
                drift.equivalences.extend(eq);
            }
        }
    }
    drift
}

fn kind_ref(k: &Crd) -> KindRef {
    KindRef {
        kind: k.kind.clone(),
        name: k.name.clone(),
        versions: k.versions.iter().map(|v| v.name.clone()).collect(),
    }
}

/// How one CRD differs from another of the same name, if it does; equivalences
/// found on the way are added to `eq`.
pub fn compare_kind(
    b: &Crd,
    c: &Crd,
    facts: ServerFacts,
    eq: &mut Vec<Equivalence>,
) -> Option<KindDrift> {
    let scope = (b.scope != c.scope).then(|| Change {
        built: b.scope.clone(),
        cluster: c.scope.clone(),
    });
    let flags = |v: &Version| Flags {
        served: v.served,
        storage: v.storage,
    };
    let names: BTreeSet<&str> = b
        .versions
        .iter()
        .chain(&c.versions)
        .map(|v| v.name.as_str())
        .collect();
    let mut versions = Vec::new();
    for n in &names {
        let (bv, cv) = (b.version(n).map(flags), c.version(n).map(flags));
        if bv != cv {
            versions.push(VersionChange {
                version: (*n).to_owned(),
                built: bv,
                cluster: cv,
            });
        }
    }
    // Schemas: every version both have; with none in common, the storage versions.
    let mut pairs: Vec<(String, &Version, &Version)> = b
        .versions
        .iter()
        .filter_map(|bv| c.version(&bv.name).map(|cv| (bv.name.clone(), bv, cv)))
        .collect();
    if pairs.is_empty() {
        if let (Some(bv), Some(cv)) = (b.storage_version(), c.storage_version()) {
            pairs.push((format!("{}→{}", bv.name, cv.name), bv, cv));
        }
    }
    let mut fields = Vec::new();
    for (label, bv, cv) in pairs {
        fields.extend(compare_fields(&b.kind, &label, bv, cv, facts, eq));
    }
    (scope.is_some() || !versions.is_empty() || !fields.is_empty()).then(|| KindDrift {
        kind: c.kind.clone(),
        name: c.name.clone(),
        scope,
        versions,
        fields,
    })
}

fn compare_fields(
    kind: &str,
    version: &str,
    bv: &Version,
    cv: &Version,
    facts: ServerFacts,
    eq: &mut Vec<Equivalence>,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    // Added or removed: only the outermost path, with a count of what is inside.
    let one_side =
        |from: &Version, other: &Version, change: ChangeKind, out: &mut Vec<FieldChange>| {
            let only: BTreeSet<&String> = from
                .fields
                .keys()
                .filter(|p| !other.fields.contains_key(*p))
                .collect();
            let mut top: BTreeMap<&String, usize> = BTreeMap::new();
            for p in &only {
                let mut outer = *p;
                while let Some(parent) = from.fields[outer]
                    .parent
                    .as_ref()
                    .filter(|q| only.contains(q))
                {
                    outer = parent;
                }
                *top.entry(outer).or_default() += usize::from(outer != *p);
            }
            for (p, inside) in top {
                let f = Some(from.fields[p].clone());
                let (built, cluster) = if change == ChangeKind::Added {
                    (None, f)
                } else {
                    (f, None)
                };
                out.push(FieldChange {
                    version: version.to_owned(),
                    path: p.clone(),
                    change,
                    what: Vec::new(),
                    built,
                    cluster,
                    inside,
                });
            }
        };
    one_side(cv, bv, ChangeKind::Added, &mut out);
    one_side(bv, cv, ChangeKind::Removed, &mut out);
    for (p, bf) in &bv.fields {
        let Some(cf) = cv.fields.get(p) else { continue };
        let mut what = Vec::new();
        if bf.ty != cf.ty {
            what.push("type");
        }
        let set = |e: &Option<Vec<Value>>| {
            e.as_ref()
                .map(|e| e.iter().map(Value::to_string).collect::<BTreeSet<_>>())
        };
        if set(&bf.enum_values) != set(&cf.enum_values) {
            what.push("enum");
        }
        if bf.required != cf.required {
            what.push("required");
        }
        let mut equivalent = |what: &'static str, built: Value, reason: &'static str| {
            eq.push(Equivalence {
                kind: kind.to_owned(),
                version: version.to_owned(),
                path: p.clone(),
                what,
                built,
                reason,
            })
        };
        if bf.default != cf.default {
            if bf.default == Some(Value::String(String::new())) && cf.default.is_none() {
                equivalent("default", Value::String(String::new()), EMPTY_DEFAULT.0);
            } else {
                what.push("default");
            }
        }
        if bf.rules != cf.rules {
            if cf.rules.is_empty() && facts.drops_cel_rules() {
                equivalent("rules", serde_json::json!(bf.rules), CEL_DROPPED.0);
            } else {
                what.push("rules");
            }
        }
        if !what.is_empty() {
            out.push(FieldChange {
                version: version.to_owned(),
                path: p.clone(),
                change: ChangeKind::Changed,
                what,
                built: Some(bf.clone()),
                cluster: Some(cf.clone()),
                inside: 0,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd(plural: &str, spec_props: Value, required: Value) -> Crd {
        Crd::from_value(&json!({"metadata": {"name": format!("{plural}.forklift.konveyor.io")},
            "spec": {"group": "forklift.konveyor.io", "names": {"kind": plural.trim_end_matches('s'), "plural": plural},
                "scope": "Namespaced",
                "versions": [{"name": "v1beta1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
                        "type": "object", "required": required, "properties": spec_props}}}}}]}}))
        .unwrap()
    }

    fn plan_v1() -> Crd {
        crd(
            "plans",
            json!({"warm": {"type": "boolean"},
                "power": {"type": "string", "enum": ["on", "off", "auto"]},
                "old": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}},
                "name": {"type": "string", "default": ""},
                "provider": {"type": "object", "x-kubernetes-validations": [{"rule": "self == oldSelf"}]}}),
            json!(["warm"]),
        )
    }

    #[test]
    fn identical_sets_have_no_drift() {
        let d = compare(&[plan_v1()], &[plan_v1()], ServerFacts::default());
        assert!(d.identical() && d.equivalences.is_empty());
        assert_eq!(d.summary(), "identical");
        assert!(d.lines().is_empty());
    }

    #[test]
    fn reports_added_removed_and_changed_fields_and_kinds() {
        let cluster = crd(
            "plans",
            json!({"warm": {"type": "boolean"}, "priority": {"type": "integer"},
                "power": {"type": "string", "enum": ["on", "off", "hibernate"]},
                "name": {"type": "string", "default": ""},
                "provider": {"type": "object", "x-kubernetes-validations": [{"rule": "self == oldSelf"}]}}),
            json!([]),
        );
        let gadgets = crd("gadgets", json!({}), json!([]));
        let d = compare(&[plan_v1()], &[cluster, gadgets], ServerFacts::default());
        assert!(!d.identical());
        assert_eq!(d.kinds_added[0].kind, "gadget");
        let k = d.kind("plan").unwrap();
        let brief: Vec<String> = k.fields.iter().map(FieldChange::brief).collect();
        assert_eq!(
            brief,
            vec![
                "spec.old is gone",
                "spec.power changed (enum)",
                "spec.priority is new",
                "spec.warm changed (required)"
            ]
        );
        assert_eq!(
            k.fields[0].inside, 2,
            "spec.old.a and spec.old.b go with it"
        );
        let text = d.lines().join("\n");
        assert!(
            text.contains(r#"enum: new "hibernate", gone "auto""#),
            "{text}"
        );
        assert!(text.contains("required → optional"), "{text}");
        assert!(text.contains("(with 2 fields inside)"), "{text}");
        assert!(
            text.contains("+ gadget  gadgets.forklift.konveyor.io  v1beta1"),
            "{text}"
        );
        let note = d.note_for("plan").unwrap();
        assert!(
            note.contains(
                "spec.old is gone, spec.power changed (enum), spec.priority is new, 1 more"
            ),
            "{note}"
        );
        assert!(d.note_for("provider").is_none());
        assert_eq!(
            d.summary(),
            "changed: plan (4 changes); new in the cluster: gadget"
        );
    }

    #[test]
    fn down_levelled_defaults_and_rules_are_equivalences_only_where_they_are() {
        let down = crd(
            "plans",
            json!({"warm": {"type": "boolean"}, "power": {"type": "string", "enum": ["on", "off", "auto"]},
                "old": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}},
                "name": {"type": "string"}, "provider": {"type": "object"}}),
            json!(["warm"]),
        );
        let old = ServerFacts::from_minor("20+");
        assert_eq!(old.minor, Some(20));
        let d = compare(&[plan_v1()], std::slice::from_ref(&down), old);
        assert!(d.identical(), "{:?}", d);
        let what: Vec<(&str, &str)> = d
            .equivalences
            .iter()
            .map(|e| (e.path.as_str(), e.what))
            .collect();
        assert_eq!(
            what,
            vec![("spec.name", "default"), ("spec.provider", "rules")]
        );
        let text = d.lines().join("\n");
        assert!(text.contains("Treated as equivalent"), "{text}");
        // A server that knows CEL rules and lacks them has drifted.
        let d = compare(&[plan_v1()], &[down], ServerFacts::from_minor("30"));
        assert!(!d.identical());
        assert_eq!(d.kind("plan").unwrap().fields[0].what, vec!["rules"]);
    }

    #[test]
    fn versions_and_their_flags() {
        let mut c = plan_v1();
        c.versions[0].storage = false;
        let mut v1 = c.versions[0].clone();
        v1.name = "v1".into();
        v1.storage = true;
        c.versions.push(v1);
        let d = compare(&[plan_v1()], &[c], ServerFacts::default());
        let lines = d.kind("plan").unwrap().lines(10);
        assert_eq!(
            lines,
            vec![
                "~ version v1: new in the cluster (served, storage)",
                "~ version v1beta1: served, storage → served"
            ]
        );
    }
}
