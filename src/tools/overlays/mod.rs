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
