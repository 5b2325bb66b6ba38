//! Which toolset each resource's generated tools belong to, from the small
//! declarative file `toolsets.yaml` beside the CRDs: the kinds it lists are
//! in [`RESOURCES`] (served by default); every other kind, including a new
//! CRD nobody listed, is in [`OPERATOR`].

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::crd::Resource;

/// The file's name in the CRD folder.
pub const FILE: &str = "toolsets.yaml";
/// The default toolset of generated tools.
pub const RESOURCES: &str = "resources";
/// The toolset of the operator's own kinds.
pub const OPERATOR: &str = "operator";

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Declared {
    resources: Vec<String>,
}

/// Sets each resource's toolset from `dir/toolsets.yaml` (all in
/// [`OPERATOR`] when the file is absent). A kind listed there that no CRD
/// declares is an error: a typo would otherwise hide tools silently.
pub fn assign(dir: &Path, resources: &mut [Resource]) -> Result<()> {
    let path = dir.join(FILE);
    let kinds: BTreeSet<String> = match std::fs::read_to_string(&path) {
        Ok(text) => {
            let d: Declared = serde_yaml::from_str(&text)
                .with_context(|| format!("{}: expected `resources: [Kind, …]`", path.display()))?;
            d.resources.into_iter().collect()
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
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
