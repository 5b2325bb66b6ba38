//! mtv-codegen: turns Forklift CRD YAML into Rust.
//!
//! Layout (data flows top to bottom):
//! - [`crd`]: reads CRD files into [`crd::Resource`], the intermediate representation;
//! - [`digest`]: the CRD without descriptions, embedded for drift checks;
//! - [`summary`]: trims a spec schema to what fits in a tool list;
//! - [`catalogue`]: derives the four tools of each resource;
//! - [`models`]: kopium's typed models of each resource;
//! - [`toolsets`]: which toolset each resource's tools are in (`toolsets.yaml`);
//! - [`settings`]: the operator's tunable settings, from the ForkliftController CRD;
//! - [`emit`]: renders the models as one Rust file, and the tables as another
//!   plus JSON schema files.
//!
//! Two build scripts call [`generate`]: the `mtv-models` crate's (models/,
//! [`Generated::write_models`]) and the main crate's ([`Generated::write`]).
//! The models sit in their own crate so that editing the runtime does not
//! recompile them. Tests call [`generate`] on any folder of CRDs.

pub mod catalogue;
pub mod crd;
pub mod digest;
pub mod emit;
pub mod models;
pub mod settings;
pub mod summary;
pub mod toolsets;

use std::path::Path;

use anyhow::{Context, Result};

/// Byte budget of one create tool's spec summary in `tools/list`.
pub const SPEC_SUMMARY_BUDGET: usize = 2_000;

/// Everything generated from one folder of CRDs.
pub struct Generated {
    pub resources: Vec<crd::Resource>,
    pub tools: Vec<catalogue::Tool>,
    pub summaries: Vec<serde_json::Value>,
    pub settings: Vec<settings::Setting>,
    /// The tables the runtime includes (formatted Rust source).
    pub source: String,
    /// kopium's models, compiled by the `mtv-models` crate (formatted Rust source).
    pub models_source: String,
    /// JSON files the source includes.
    pub data: Vec<emit::DataFile>,
}

/// Generates models and catalogue for every CRD in `crd_dir`.
///
/// `data_dir_expr` is the Rust string-literal text under which the data files
/// will be found by `include_str!`; build.rs passes the OUT_DIR path.
pub fn generate(crd_dir: &Path, data_dir_expr: &str) -> Result<Generated> {
    let mut resources = crd::load_dir(crd_dir)?;
    toolsets::assign(crd_dir, &mut resources)?;
    let mut tools = catalogue::tools(&resources);
    toolsets::assign_tools(crd_dir, &mut tools)?;
    let settings = settings::settings(&resources);
    let summaries = resources
        .iter()
        .map(|r| summary::spec_summary(&r.spec_schema(), SPEC_SUMMARY_BUDGET).0)
        .collect::<Vec<_>>();
    let models = resources
        .iter()
        .map(models::generate)
        .collect::<Result<Vec<_>>>()?;
    let models_source = emit::models_source(&resources, &models);
    let (source, data) = emit::source(&resources, &summaries, &tools, &settings, data_dir_expr);
    Ok(Generated {
        resources,
        tools,
        summaries,
        settings,
        source,
        models_source,
        data,
    })
}

/// What both build scripts do: generate from the CRD folder `crds` (relative
/// to the crate's manifest) and `write` the part that crate compiles into
/// OUT_DIR. Re-run only when the CRDs or the build script change.
pub fn build_script(crds: &str, write: fn(&Generated, &Path) -> Result<()>) {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let crd_dir = Path::new(&var("CARGO_MANIFEST_DIR")).join(crds);
    let out = std::path::PathBuf::from(var("OUT_DIR"));
    println!("cargo:rerun-if-changed={crds}");
    println!("cargo:rerun-if-changed=build.rs");
    let data_dir = out.to_str().expect("OUT_DIR is UTF-8").replace('\\', "/");
    let generated = generate(&crd_dir, &data_dir)
        .unwrap_or_else(|e| panic!("code generation from {} failed: {e:#}", crd_dir.display()));
    write(&generated, &out).unwrap_or_else(|e| panic!("writing generated code failed: {e:#}"));
}

impl Generated {
    /// Writes the tables (`generated.rs`) and the data files they include
    /// into `dir`, skipping files whose contents are unchanged (so dependants
    /// are not rebuilt needlessly). The root crate's build.rs calls this.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        write_if_changed(&dir.join("generated.rs"), &self.source)?;
        for f in &self.data {
            write_if_changed(&dir.join(&f.name), &f.contents)?;
        }
        Ok(())
    }

    /// Writes the models (`models.rs`) into `dir`, the same way. The
    /// `mtv-models` crate's build.rs calls this.
    pub fn write_models(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        write_if_changed(&dir.join("models.rs"), &self.models_source)
    }
}

fn write_if_changed(path: &Path, contents: &str) -> Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(contents) {
        return Ok(());
    }
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}
