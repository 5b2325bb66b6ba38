//! The generated resource and tool tables, and look-ups over them.
//!
//! `build.rs` fills [`crate::generated::RESOURCES`] and [`crate::generated::TOOLS`]
//! from crds/; this module gives them types and the queries the rest of the
//! server needs (find a resource by kind or plural, parse its schema once).

use std::sync::OnceLock;

use kube::discovery::ApiResource;
use serde_json::Value;

/// What a generated tool does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Get,
    Create,
    Patch,
    Delete,
}

impl Verb {
    /// Whether the tool only reads.
    pub fn read_only(self) -> bool {
        self == Verb::Get
    }
}

/// One custom resource from crds/.
#[derive(Debug)]
pub struct ResourceDef {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub list_kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    pub namespaced: bool,
    pub status_subresource: bool,
    /// The toolset of its generated tools (`resources` or `operator`, from crds/toolsets.yaml).
    pub toolset: &'static str,
    /// One line from the CRD's own docs.
    pub summary: &'static str,
    /// (column name, JSONPath) pairs from `additionalPrinterColumns`.
    pub printer_columns: &'static [(&'static str, &'static str)],
    /// The full `openAPIV3Schema`, as JSON text.
    pub schema_json: &'static str,
    /// The trimmed top-level spec schema shown in `tools/list`, as JSON text.
    pub spec_summary_json: &'static str,
    /// The CRD this build was generated from, without descriptions (every
    /// version's flags and schema), as JSON text: what `crds diff` compares.
    pub crd_json: &'static str,
}

/// One generated tool.
#[derive(Debug)]
pub struct ToolDef {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub verb: Verb,
    /// Index into [`resources()`].
    pub resource: usize,
    /// `resources`, `operator`, or `replaced` (crds/toolsets.yaml).
    pub toolset: &'static str,
    /// For a `replaced` tool: the tools that do its job.
    pub replaced_by: &'static str,
}

/// The value type of an operator setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    /// `"true"` or `"false"` (the CRD's string enum).
    Bool,
    Integer,
    String,
}

impl SettingKind {
    pub fn word(self) -> &'static str {
        match self {
            SettingKind::Bool => "boolean",
            SettingKind::Integer => "integer",
            SettingKind::String => "string",
        }
    }
}

/// One setting of the operator: a top-level spec field of the
/// ForkliftController CRD (generated; see codegen/src/settings.rs).
#[derive(Debug)]
pub struct SettingDef {
    pub name: &'static str,
    /// e.g. `controller`, `feature`, `virt`, `resources`, `images`, `other`.
    pub group: &'static str,
    pub kind: SettingKind,
    /// Allowed values of a string setting with an enum.
    pub choices: &'static [&'static str],
    /// The CRD's default as JSON text; empty when it has none.
    pub default_json: &'static str,
    /// The first sentence of its CRD description.
    pub description: &'static str,
}

impl SettingDef {
    /// The CRD's default, if any.
    pub fn default_value(&self) -> Option<Value> {
        (!self.default_json.is_empty())
            .then(|| serde_json::from_str(self.default_json).expect("generated default is JSON"))
    }
}

/// The operator's settings, in name order.
pub fn settings() -> &'static [SettingDef] {
    crate::generated::SETTINGS
}

/// The kind whose spec holds the settings (ForkliftController).
pub fn settings_resource() -> Option<&'static ResourceDef> {
    find_resource(crate::generated::SETTINGS_KIND)
}

/// Every resource, in crds/ file order.
pub fn resources() -> &'static [ResourceDef] {
    crate::generated::RESOURCES
}

/// Every generated CRUD tool.
pub fn tools() -> &'static [ToolDef] {
    crate::generated::TOOLS
}

/// Finds a resource by kind, plural, singular or short name (case-insensitive),
/// optionally qualified by group (`plans.forklift.konveyor.io`).
pub fn find_resource(name: &str) -> Option<&'static ResourceDef> {
    let name = name.trim();
    let (base, group) = match name.split_once('.') {
        Some((b, g)) => (b, Some(g)),
        None => (name, None),
    };
    resources().iter().find(|r| {
        group.is_none_or(|g| g.eq_ignore_ascii_case(r.group))
            && (r.kind.eq_ignore_ascii_case(base)
                || r.plural.eq_ignore_ascii_case(base)
                || r.singular.eq_ignore_ascii_case(base)
                || r.short_names.iter().any(|s| s.eq_ignore_ascii_case(base)))
    })
}

impl ResourceDef {
    /// Position of this resource in [`resources()`].
    pub fn index(&'static self) -> usize {
        resources()
            .iter()
            .position(|r| std::ptr::eq(r, self))
            .expect("resource is from the table")
    }

    /// `group/version`.
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }

    /// What kube-rs needs to address this resource without discovery.
    pub fn api_resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.to_owned(),
            version: self.version.to_owned(),
            api_version: self.api_version(),
            kind: self.kind.to_owned(),
            plural: self.plural.to_owned(),
        }
    }

    /// The full schema, parsed on first use and kept (each resource's on its
    /// own: a create of one kind does not hold every kind's schema).
    pub fn schema(&'static self) -> &'static Value {
        static SCHEMAS: OnceLock<Vec<OnceLock<Value>>> = OnceLock::new();
        let slots = SCHEMAS.get_or_init(|| resources().iter().map(|_| OnceLock::new()).collect());
        slots[self.index()].get_or_init(|| {
            serde_json::from_str(self.schema_json).expect("generated schema is JSON")
        })
    }

    /// The trimmed spec schema for `tools/list`.
    pub fn spec_summary(&self) -> Value {
        serde_json::from_str(self.spec_summary_json).expect("generated summary is JSON")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_by_any_name() {
        for n in [
            "Plan",
            "plans",
            "plan",
            "PLANS",
            "plans.forklift.konveyor.io",
        ] {
            assert_eq!(find_resource(n).map(|r| r.kind), Some("Plan"), "{n}");
        }
        assert_eq!(
            find_resource("osvp").map(|r| r.kind),
            Some("OpenstackVolumePopulator")
        );
        assert!(find_resource("plans.example.com").is_none());
        assert!(find_resource("pods").is_none());
    }

    #[test]
    fn every_resource_has_four_tools_and_a_schema() {
        for r in resources() {
            let n = tools().iter().filter(|t| t.resource == r.index()).count();
            assert_eq!(n, 4, "{}", r.kind);
            assert_eq!(r.schema()["type"], "object", "{}", r.kind);
        }
    }
}
