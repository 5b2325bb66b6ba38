//! Overlays: changes to generated tools that keep the generated tool
//! underneath (the registry's mutator mechanism), plus the one mutator
//! every tool gets.
//! - [`plan`]: `create_plan`'s guided form (VMs by name, maps from the inventory);
//! - [`provider`]: `create_provider` / `patch_provider` with credentials;
//! - [`references`]: reference checks on creating and patching plans and maps;
//! - [`env`]: `${NAME}` in arguments, from the server's environment.

pub mod env;
pub mod plan;
pub mod provider;
pub mod references;

use std::sync::Arc;

use super::Mutator;

/// The mutators of the standard catalogue, innermost first.
pub fn mutators() -> Vec<Box<dyn Mutator>> {
    let mut m: Vec<Box<dyn Mutator>> = vec![
        Box::new(Arc::new(plan::GuidedPlan)),
        Box::new(Arc::new(provider::ProviderCreate)),
        Box::new(Arc::new(provider::ProviderPatch)),
    ];
    for r in references::overlays() {
        m.push(Box::new(r));
    }
    // Outermost: every tool sees its arguments with ${NAME} replaced.
    m.push(Box::new(env::EnvSubstitution));
    m
}

/// A generated tool's definition with a second way to call it: the argument
/// `instead_of` is no longer required, `properties` are added beside it, and
/// `how` is appended to the description.
pub fn with_alternative_form(
    base: &serde_json::Value,
    instead_of: &str,
    properties: impl IntoIterator<Item = (String, serde_json::Value)>,
    how: &str,
) -> serde_json::Value {
    let mut d = base.clone();
    let schema = &mut d["inputSchema"];
    if let Some(req) = schema["required"].as_array_mut() {
        req.retain(|r| r != instead_of);
    }
    for (k, v) in properties {
        schema["properties"][k] = v;
    }
    d["description"] = serde_json::Value::String(format!(
        "{} {how}",
        base["description"].as_str().unwrap_or_default()
    ));
    d
}
