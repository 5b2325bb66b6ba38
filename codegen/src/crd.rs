//! Reading CRD files into the generator's intermediate representation.
//!
//! A [`Resource`] holds everything later stages need about one custom resource:
//! its names, scope, subresources, printer columns and the full OpenAPI v3 schema
//! of its served version. Nothing here writes files or produces Rust.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// One custom resource, as declared by one CRD file.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// The file the CRD came from.
    pub file: PathBuf,
    pub group: String,
    pub version: String,
    pub kind: String,
    pub list_kind: String,
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub namespaced: bool,
    pub status_subresource: bool,
    /// One line describing the resource, taken from the CRD's own docs.
    pub summary: String,
    /// `additionalPrinterColumns` of the version: (name, jsonPath).
    pub printer_columns: Vec<(String, String)>,
    /// The full `openAPIV3Schema` of the version.
    pub schema: Value,
    /// The CRD YAML text, for kopium.
    pub yaml: String,
    /// The CRD as the binary remembers it for drift checks (see [`crate::digest`]):
    /// names, scope and every version's flags and schema, descriptions left out.
    pub digest: Value,
    /// The toolset of its generated tools (see [`crate::toolsets`]).
    pub toolset: String,
}

impl Resource {
    /// The `spec` subschema, or an empty object schema when the CRD has none.
    pub fn spec_schema(&self) -> Value {
        self.schema
            .pointer("/properties/spec")
            .cloned()
            .unwrap_or_else(|| serde_json::json!({"type": "object"}))
    }

    /// Required top-level spec fields.
    pub fn spec_required(&self) -> Vec<String> {
        self.schema
            .pointer("/properties/spec/required")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A Rust-friendly module name for the models of this resource.
    pub fn module_name(&self) -> String {
        self.plural.replace(['-', '.'], "_")
    }
}

/// Reads every `*.yaml`/`*.yml` file of `dir` (sorted by file name) as a CRD.
pub fn load_dir(dir: &Path) -> Result<Vec<Resource>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading CRD directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml") | Some("yml")
            ) && p.file_name().and_then(|n| n.to_str()) != Some(crate::toolsets::FILE)
        })
        .collect();
    files.sort();
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        out.push(load_file(&f)?);
    }
    let mut seen = std::collections::BTreeSet::new();
    for r in &out {
        if !seen.insert((r.group.clone(), r.plural.clone())) {
            bail!(
                "{}: {}.{} is declared twice",
                r.file.display(),
                r.plural,
                r.group
            );
        }
    }
    Ok(out)
}

/// Reads one CRD file.
pub fn load_file(path: &Path) -> Result<Resource> {
    let yaml =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&yaml, path).with_context(|| format!("parsing CRD {}", path.display()))
}

/// Parses CRD YAML text.
pub fn parse(yaml: &str, path: &Path) -> Result<Resource> {
    let doc: Value = serde_yaml::from_str(yaml)?;
    if doc.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
        bail!("not a CustomResourceDefinition");
    }
    let spec = doc.get("spec").context("no spec")?;
    let s = |v: Option<&Value>, what: &str| -> Result<String> {
        v.and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("missing {what}"))
    };
    let names = spec.get("names").context("no spec.names")?;
    let group = s(spec.get("group"), "spec.group")?;
    let kind = s(names.get("kind"), "spec.names.kind")?;
    let plural = s(names.get("plural"), "spec.names.plural")?;
    let singular = names
        .get("singular")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| kind.to_lowercase());
    let list_kind = names
        .get("listKind")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{kind}List"));
    let short_names: Vec<String> = names
        .get("shortNames")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
    let versions = spec
        .get("versions")
        .and_then(Value::as_array)
        .context("no spec.versions")?;
    // The storage version among the served ones, else the first served one.
    let served: Vec<&Value> = versions
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(true))
        .collect();
    let version = served
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .or_else(|| served.first())
        .context("no served version")?;
    let version_name = s(version.get("name"), "version name")?;
    let schema = version
        .pointer("/schema/openAPIV3Schema")
        .cloned()
        .context("version has no openAPIV3Schema")?;
    let status_subresource = version.pointer("/subresources/status").is_some();
    let printer_columns = version
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
        .map(|cols| {
            cols.iter()
                .filter_map(|c| {
                    Some((
                        c.get("name")?.as_str()?.to_owned(),
                        c.get("jsonPath")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    check_names(
        &group,
        &version_name,
        &kind,
        &list_kind,
        &plural,
        &singular,
        &short_names,
    )?;
    let summary = summarize(&kind, &schema);
    let digest = crate::digest::of(&doc);
    Ok(Resource {
        file: path.to_owned(),
        group,
        version: version_name,
        kind,
        list_kind,
        plural,
        singular,
        short_names,
        namespaced,
        status_subresource,
        summary,
        printer_columns,
        schema,
        yaml: yaml.to_owned(),
        digest,
        toolset: crate::toolsets::OPERATOR.to_owned(),
    })
}

/// Checks the names as the API server does (group a DNS subdomain with a
/// dot; plural, singular, short names and the version DNS-1035 labels; kind
/// and list kind DNS-1035 labels once lowercased), and that the Rust names
/// made of them (the plural's module, the kind's type) are not keywords:
/// later stages turn them into identifiers.
fn check_names(
    group: &str,
    version: &str,
    kind: &str,
    list_kind: &str,
    plural: &str,
    singular: &str,
    short_names: &[String],
) -> Result<()> {
    if !(group.len() <= 253 && group.contains('.') && group.split('.').all(is_dns_label)) {
        bail!("spec.group {group:?} is not a DNS subdomain with a dot (e.g. forklift.konveyor.io)");
    }
    let labels = [
        ("spec.versions[].name", version.to_owned()),
        ("spec.names.plural", plural.to_owned()),
        ("spec.names.singular", singular.to_owned()),
        ("spec.names.kind (lowercased)", kind.to_lowercase()),
        ("spec.names.listKind (lowercased)", list_kind.to_lowercase()),
    ];
    let shorts = short_names
        .iter()
        .map(|n| ("spec.names.shortNames[]", n.clone()));
    for (what, name) in labels.into_iter().chain(shorts) {
        if !is_dns1035_label(&name) {
            bail!("{what} {name:?} is not a DNS-1035 label (lowercase letters, digits and '-', starting with a letter, at most 63)");
        }
    }
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
        "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true",
        "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final",
        "gen", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
    ];
    let module = plural.replace('-', "_");
    if KEYWORDS.contains(&module.as_str()) {
        bail!("spec.names.plural {plural:?} is a Rust keyword; the generated models need it as a module name");
    }
    if kind.eq_ignore_ascii_case("self") {
        bail!("spec.names.kind {kind:?} cannot name a Rust type");
    }
    Ok(())
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A DNS label that starts with a letter.
fn is_dns1035_label(s: &str) -> bool {
    is_dns_label(s) && s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// The most telling one-line description the CRD offers: the spec's description
/// unless it is controller-gen boilerplate, else the root description, else a
/// plain sentence built from the kind.
fn summarize(kind: &str, schema: &Value) -> String {
    let candidates = [
        schema.pointer("/properties/spec/description"),
        schema.get("description"),
    ];
    for c in candidates.into_iter().flatten() {
        if let Some(text) = c.as_str() {
            let line = first_sentence(text, 240);
            if !line.is_empty() && !is_boilerplate(&line) {
                return line;
            }
        }
    }
    format!("A Forklift {kind} resource.")
}

fn is_boilerplate(s: &str) -> bool {
    let l = s.to_lowercase();
    l.contains("defines the desired state of")
        || l.contains("is the schema for the")
        || l == "network map spec."
        || l == "storage map spec."
}

/// The first sentence of `text` on one line, cut at `max` characters.
pub fn first_sentence(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = flat.find(". ").map_or(flat.len(), |i| i + 1);
    let mut s = flat[..end].to_owned();
    if s.chars().count() > max {
        s = s.chars().take(max.saturating_sub(1)).collect::<String>();
        s = s.trim_end().to_owned();
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.io}
spec:
  group: example.io
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: SIZE, jsonPath: .spec.size, type: integer}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            description: A widget of some size. It is round.
            type: object
            required: [size]
            properties:
              size: {type: integer}
"#;

    #[test]
    fn parses_names_scope_and_schema() {
        let r = parse(MINI, Path::new("w.yaml")).unwrap();
        assert_eq!(r.kind, "Widget");
        assert_eq!(r.list_kind, "WidgetList");
        assert_eq!(r.singular, "widget");
        assert_eq!(r.short_names, vec!["wd"]);
        assert!(r.namespaced && r.status_subresource);
        assert_eq!(r.summary, "A widget of some size.");
        assert_eq!(r.spec_required(), vec!["size"]);
        assert_eq!(
            r.printer_columns,
            vec![("SIZE".into(), ".spec.size".into())]
        );
    }

    #[test]
    fn rejects_other_kinds() {
        let e = parse("kind: ConfigMap\n", Path::new("x.yaml")).unwrap_err();
        assert!(format!("{e:#}").contains("not a CustomResourceDefinition"));
    }

    /// Found by the `crd` fuzz target: a plural that is no identifier
    /// panicked in `emit` (format_ident!) instead of failing to parse.
    #[test]
    fn names_that_cannot_become_rust_identifiers_are_errors() {
        for (from, to, why) in [
            (
                "plural: widgets",
                "plural: widgnames:ets",
                "spec.names.plural",
            ),
            ("plural: widgets", "plural: 1widgets", "spec.names.plural"),
            ("plural: widgets", "plural: type", "Rust keyword"),
            ("plural: widgets", "plural: \"\"", "spec.names.plural"),
            (
                "singular: widget",
                "singular: Widget",
                "spec.names.singular",
            ),
            ("kind: Widget", "kind: Self", "spec.names.kind"),
            ("kind: Widget", "kind: Wid get", "spec.names.kind"),
            ("shortNames: [wd]", "shortNames: [w.d]", "shortNames"),
            ("group: example.io", "group: example", "spec.group"),
            ("- name: v1", "- name: v 1", "versions[].name"),
        ] {
            let yaml = MINI.replace(from, to);
            assert_ne!(yaml, MINI, "{from}");
            let e = parse(&yaml, Path::new("w.yaml")).unwrap_err();
            assert!(format!("{e:#}").contains(why), "{to}: {e:#}");
        }
        let crash = include_str!("../../fuzz/corpus/crd/regress-plural-not-an-identifier.yaml");
        let e = parse(crash, Path::new("crash.yaml")).unwrap_err();
        assert!(format!("{e:#}").contains("spec.names.plural"), "{e:#}");
    }

    #[test]
    fn first_sentence_cuts() {
        assert_eq!(first_sentence("One two.  Three.", 100), "One two.");
        assert_eq!(first_sentence("abcdef", 4), "abc…");
        assert_eq!(first_sentence("Uses v1.2 now", 100), "Uses v1.2 now");
    }
}
