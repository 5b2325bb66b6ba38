//! Which toolset each resource's generated tools belong to, from the small
//! declarative file `toolsets.yaml` beside the CRDs: the kinds it lists are
//! in [`RESOURCES`] (served by default); every other kind, including a new
//! CRD nobody listed, is in [`OPERATOR`]. Generated tools it lists under
//! `replaced` (with the workflow tools that do their job) are in
//! [`REPLACED`] instead, out of the default set.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::crd::Resource;

/// The file's name in the CRD folder.
pub const FILE: &str = "toolsets.yaml";
/// The default toolset of generated tools.
pub const RESOURCES: &str = "resources";
/// The toolset of the operator's own kinds.
pub const OPERATOR: &str = "operator";
/// The toolset of generated tools whose job a workflow tool does.
pub const REPLACED: &str = "replaced";

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Declared {
    resources: Vec<String>,
    /// Generated tool name → the tools that do its job (text shown to users).
    #[serde(default)]
    replaced: BTreeMap<String, String>,
}

/// Reads `dir/toolsets.yaml` (nothing declared when it is absent).
fn declared(dir: &Path) -> Result<Declared> {
    let path = dir.join(FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_yaml::from_str(&text).with_context(|| {
            format!(
                "{}: expected `resources: [Kind, …]` and optionally `replaced: {{tool: replacement}}`",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Declared::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Moves the generated tools listed under `replaced` into [`REPLACED`],
/// recording what replaces them. A name that is not a generated tool is an
/// error (a typo would otherwise keep the tool in the default set silently).
pub fn assign_tools(dir: &Path, tools: &mut [crate::catalogue::Tool]) -> Result<()> {
    let d = declared(dir)?;
    for (name, by) in &d.replaced {
        let Some(t) = tools.iter_mut().find(|t| &t.name == name) else {
            bail!(
                "{}: replaced tool {name} is not a generated tool",
                dir.join(FILE).display()
            );
        };
        if by.trim().is_empty() {
            bail!(
                "{}: say which tools replace {name}",
                dir.join(FILE).display()
            );
        }
        t.toolset = REPLACED.to_owned();
        t.replaced_by = by.trim().to_owned();
    }
    Ok(())
}

/// Sets each resource's toolset from `dir/toolsets.yaml` (all in
/// [`OPERATOR`] when the file is absent). A kind listed there that no CRD
/// declares is an error: a typo would otherwise hide tools silently.
pub fn assign(dir: &Path, resources: &mut [Resource]) -> Result<()> {
    let path = dir.join(FILE);
    let kinds: BTreeSet<String> = declared(dir)?.resources.into_iter().collect();
    for kind in &kinds {
        if !resources.iter().any(|r| &r.kind == kind) {
            bail!(
                "{}: kind {kind} is not declared by any CRD in {}",
                path.display(),
                dir.display()
            );
        }
    }
    for r in resources.iter_mut() {
        r.toolset = if kinds.contains(&r.kind) {
            RESOURCES
        } else {
            OPERATOR
        }
        .to_owned();
    }
    Ok(())
}
