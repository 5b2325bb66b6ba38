//! kubectl-mtv: an MCP server for Forklift (Migration Toolkit for Virtualization).
//!
//! Layout (data flows crds/ → codegen/ → generated code → these modules):
//! - [`generated`]: tables emitted by build.rs from crds/, and the typed models
//!   of the `mtv-models` crate (models/, also generated from crds/);
//! - [`catalogue`]: typed access to the generated resource and tool tables;
//! - [`protocol`]: JSON-RPC 2.0 and the MCP lifecycle, free of I/O;
//! - [`tools`]: argument schemas, the tool registry and tool execution;
//! - [`prompts`]: the chapter's workflows as MCP prompts (Markdown files);
//! - [`cluster`]: kube-rs clients per caller identity, errors explained;
//! - [`crds`]: drift between the built-in Forklift CRDs and the cluster's, `crds pull`;
//! - [`engine`]: joins protocol, tools and cluster for one server;
//! - [`transport`]: stdio and HTTP (SSE, Streamable HTTP, TLS);
//! - [`metrics`], [`audit`]: Prometheus metrics and the audit log;
//! - [`cli`], [`run`], [`logging`]: the command line, its commands, stderr logs.

pub mod audit;
pub mod catalogue;
pub mod cli;
pub mod cluster;
pub mod crds;
pub mod engine;
pub mod heap;
pub mod logging;
pub mod metrics;
pub mod prompts;
pub mod protocol;
pub mod run;
pub mod tools;
pub mod transport;

/// Code generated from crds/ (see codegen/): the tables by build.rs, the
/// typed models by the `mtv-models` crate (models/), which is compiled apart
/// so that editing the runtime does not recompile them.
#[allow(clippy::all, missing_docs)]
pub mod generated {
    pub use mtv_models::models;
    include!(concat!(env!("OUT_DIR"), "/generated.rs"));
}
