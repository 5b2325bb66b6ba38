//! Typed Rust models of a CRD, produced by kopium used as a library.

use anyhow::{Context, Result};
use kopium::{Derive, SchemaMode, TypeGenerator};

use crate::crd::Resource;

/// kopium's Rust source for one resource (serde + `kube::CustomResource` +
/// `schemars::JsonSchema`), as a parsed file so it can be nested in a module.
pub fn generate(resource: &Resource) -> Result<syn::File> {
    let crd: k8s_openapi_kopium::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition =
        serde_yaml::from_str(&resource.yaml)
            .with_context(|| format!("{}: not a valid CRD for kopium", resource.file.display()))?;
    let code = TypeGenerator::builder()
        .emit_docs(true)
        // Forklift conditions carry fields (category, durable, items) that the
        // standard Kubernetes Condition lacks: generate them in full.
        .no_condition(true)
        .schema_mode(SchemaMode::Derived)
        .smart_derive_elision(true)
        .derive(Derive::all("JsonSchema"))
        .derive(Derive::all("Default"))
        .derive(Derive::all("PartialEq"))
        .build()
        .generate_rust_types_for(&crd, None::<&str>)
        .with_context(|| format!("kopium failed on {}", resource.file.display()))?;
    syn::parse_file(&code)
        .with_context(|| format!("kopium output for {} does not parse", resource.kind))
}

/// The Rust type name kopium gives the root of a resource.
pub fn root_type(resource: &Resource) -> String {
    use heck::ToUpperCamelCase;
    resource.kind.to_upper_camel_case()
}
