//! Generates the typed models of every CRD in ../crds/ (kopium, through
//! mtv-codegen) into OUT_DIR/models.rs.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let crds = manifest.join("../crds");
    println!("cargo:rerun-if-changed=../crds");
    println!("cargo:rerun-if-changed=build.rs");
    let generated = mtv_codegen::generate(&crds, ".")
        .unwrap_or_else(|e| panic!("code generation from {} failed: {e:#}", crds.display()));
    generated
        .write_models(&out)
        .unwrap_or_else(|e| panic!("writing the models failed: {e:#}"));
}
