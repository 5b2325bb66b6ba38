//! The tool catalogue: four MCP tools (get, create, patch, delete) per resource.
//!
//! Names, titles, descriptions and annotations are derived from the CRD alone;
//! the runtime adds the argument schemas. Nothing here is written per resource.

use crate::crd::Resource;

/// What a generated tool does with its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verb {
    Get,
    Create,
    Patch,
    Delete,
}

impl Verb {
    pub const ALL: [Verb; 4] = [Verb::Get, Verb::Create, Verb::Patch, Verb::Delete];

    /// The variant name used in generated Rust.
    pub fn ident(self) -> &'static str {
        match self {
            Verb::Get => "Get",
            Verb::Create => "Create",
            Verb::Patch => "Patch",
            Verb::Delete => "Delete",
        }
    }
}

/// One generated tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    pub name: String,
    pub title: String,
    pub description: String,
    pub verb: Verb,
    /// Index into the resource table.
    pub resource: usize,
    /// Its toolset: its resource's, or `replaced` (see [`crate::toolsets`]).
    pub toolset: String,
    /// For a `replaced` tool: the tools that do its job.
    pub replaced_by: String,
}

/// The tools of every resource, in resource order, verbs in [`Verb::ALL`] order.
pub fn tools(resources: &[Resource]) -> Vec<Tool> {
    resources
        .iter()
        .enumerate()
        .flat_map(|(i, r)| Verb::ALL.into_iter().map(move |v| tool(i, r, v)))
        .collect()
}

fn tool(index: usize, r: &Resource, verb: Verb) -> Tool {
    let kind = &r.kind;
    let gv = format!("{}/{}", r.group, r.version);
    let (name, title, description) = match verb {
        Verb::Get => (
            format!("get_{}", r.plural),
            format!("Get {kind}s"),
            // A summary that only restates the kind ("A Forklift Host
            // resource.") is left out.
            if r.summary.split_whitespace().count() <= 4 && r.summary.contains(kind.as_str()) {
                format!("Get one {kind} by name, or list them.")
            } else {
                format!("Get one {kind} by name, or list them. {}", r.summary)
            },
        ),
        Verb::Create => {
            let req = r.spec_required();
            let req = if req.is_empty() {
                String::new()
            } else {
                format!(" Required spec fields: {}.", req.join(", "))
            };
            (
                format!("create_{}", r.singular),
                format!("Create {kind}"),
                format!(
                    "Create a {kind} ({gv}).{req} Nested field docs: explain_resource kind={kind}."
                ),
            )
        }
        Verb::Patch => (
            format!("patch_{}", r.singular),
            format!("Patch {kind}"),
            format!(
                "Patch a {kind} with a JSON merge patch object (or a JSON Patch array), e.g. {{\"spec\":{{...}}}}."
            ),
        ),
        Verb::Delete => (
            format!("delete_{}", r.singular),
            format!("Delete {kind}"),
            format!("Delete a {kind} by name."),
        ),
    };
    Tool {
        name,
        title,
        description,
        verb,
        resource: index,
        toolset: r.toolset.clone(),
        replaced_by: String::new(),
    }
}
