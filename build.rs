//! Generates the Forklift models and tool catalogue from crds/ (see codegen/).

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let crds = manifest.join("crds");
    // Only the CRDs (and the generator, a path dependency) re-run this script.
    println!("cargo:rerun-if-changed=crds");
    println!("cargo:rerun-if-changed=build.rs");
    let data_dir = out.to_str().expect("OUT_DIR is UTF-8").replace('\\', "/");
    let generated = mtv_codegen::generate(&crds, &data_dir)
        .unwrap_or_else(|e| panic!("code generation from {} failed: {e:#}", crds.display()));
    generated
        .write(&out)
        .unwrap_or_else(|e| panic!("writing generated code failed: {e:#}"));
}
