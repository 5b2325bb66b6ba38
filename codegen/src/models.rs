//! Typed Rust models of a CRD, produced by kopium used as a library.

use anyhow::{bail, Context, Result};
use kopium::{Derive, SchemaMode, TypeGenerator};
use serde_json::Value;

use crate::crd::Resource;

/// kopium's Rust source for one resource (serde + `kube::CustomResource`), as
/// a parsed file so it can be nested in a module. No `JsonSchema` is derived:
/// tool schemas come from the CRDs themselves, and deriving it (with
/// k8s-openapi's `schemars` feature) costs build time for nothing.
pub fn generate(resource: &Resource) -> Result<syn::File> {
    check_field_names(resource)?;
    let crd: k8s_openapi_kopium::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition =
        serde_yaml::from_str(&resource.yaml)
            .with_context(|| format!("{}: not a valid CRD for kopium", resource.file.display()))?;
    let code = TypeGenerator::builder()
        .emit_docs(true)
        // Forklift conditions carry fields (category, durable, items) that the
        // standard Kubernetes Condition lacks: generate them in full.
        .no_condition(true)
        .schema_mode(SchemaMode::Disabled)
        .smart_derive_elision(true)
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

/// Refuses property names kopium cannot turn into a Rust field name (it
/// panics on them, e.g. on an empty name): kopium's own rule, a snake_case
/// form that is an identifier, maybe raw or after `r#_`, with `-` and `_`
/// special-cased. Checks every version's schema.
fn check_field_names(resource: &Resource) -> Result<()> {
    let doc: Value = serde_yaml::from_str(&resource.yaml)
        .with_context(|| format!("{}: not YAML", resource.file.display()))?;
    let versions = doc.pointer("/spec/versions").and_then(Value::as_array);
    for v in versions.into_iter().flatten() {
        if let Some(schema) = v.pointer("/schema/openAPIV3Schema") {
            walk(schema, "", resource)?;
        }
    }
    return Ok(());

    fn walk(node: &Value, path: &str, resource: &Resource) -> Result<()> {
        let Some(obj) = node.as_object() else {
            if let Some(items) = node.as_array() {
                for (i, n) in items.iter().enumerate() {
                    walk(n, &format!("{path}[{i}]"), resource)?;
                }
            }
            return Ok(());
        };
        for (k, v) in obj {
            // Values, not schemas.
            if matches!(k.as_str(), "default" | "example" | "enum") || k.starts_with("x-") {
                continue;
            }
            if k == "properties" {
                for (name, sub) in v.as_object().into_iter().flatten() {
                    if !field_name_ok(name) {
                        bail!(
                            "{}: property {path}.{name:?} cannot become a Rust field name",
                            resource.file.display()
                        );
                    }
                    walk(sub, &format!("{path}.{name}"), resource)?;
                }
            } else {
                walk(v, path, resource)?;
            }
        }
        Ok(())
    }
}

/// Whether kopium can name a struct field after this property.
fn field_name_ok(name: &str) -> bool {
    use heck::ToSnakeCase;
    if name == "-" || name == "_" {
        return true;
    }
    let snake = name.to_snake_case();
    [snake.clone(), format!("r#{snake}"), format!("r#_{snake}")]
        .iter()
        .any(|n| syn::parse_str::<syn::Ident>(n).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Found by the `crd` fuzz target: a property whose name has no Rust
    /// form (here empty, from a mangled YAML key) made kopium panic.
    #[test]
    fn property_names_kopium_cannot_use_are_errors() {
        for bad in ["", "!!", "--"] {
            assert!(!field_name_ok(bad), "{bad:?}");
        }
        for good in ["name", "type", "301", "-", "_", "fieldPath", "x-y"] {
            assert!(field_name_ok(good), "{good:?}");
        }
        let crash = include_str!("../../fuzz/corpus/crd/regress-empty-property-name.yaml");
        let r = crate::crd::parse(crash, Path::new("crash.yaml")).expect("the CRD parses");
        let Err(e) = generate(&r) else {
            panic!("kopium models for a property without a name")
        };
        assert!(
            format!("{e:#}").contains("cannot become a Rust field name"),
            "{e:#}"
        );
    }
}
