//! Forklift's inventory service: what the source providers hold (VMs,
//! networks, storage, …).
//! - [`client`]: finding the service and calling it with the caller's identity;
//! - [`resources`]: resource names per provider type, derived fields, summaries;
//! - [`query`]: the query language kubectl-mtv's `--query` takes;
//! - [`tool`]: the `get_inventory` tool.

pub mod client;
pub mod query;
pub mod resources;
pub mod tool;

use std::sync::Arc;

use super::Toolset;

pub fn toolset() -> Toolset {
    Toolset {
        name: "inventory",
        tools: vec![Arc::new(tool::GetInventory::new())],
    }
}
