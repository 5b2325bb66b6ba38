//! Why a tool call failed, as types inside the server; turned into the text a
//! model reads only at the tool boundary ([`ToolError::into_output`]).

use super::output::ToolOutput;
use crate::cluster::KubeFailure;

/// A tool failure.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// Arguments that do not fit the tool's input schema.
    #[error("Invalid arguments for {tool}: {detail}. Nothing was sent to the cluster.")]
    Arguments { tool: String, detail: String },
    /// Input the tool checked and rejected; the message says how to fix it.
    #[error("{0}")]
    Invalid(String),
    /// Arguments that break the CRD schema of a Forklift kind; at the tool
    /// boundary a note is added when the cluster's CRD for it differs from
    /// this build's (see [`crate::crds::watch`]).
    #[error("{text}")]
    Schema { kind: &'static str, text: String },
    /// What the cluster's current state does not allow (e.g. starting a plan
    /// that is not Ready); the message says why.
    #[error("{0}")]
    Refused(String),
    /// A Kubernetes call failed.
    #[error(transparent)]
    Kube(#[from] KubeFailure),
    /// The call ran out of time.
    #[error("{0}")]
    Timeout(String),
}

impl ToolError {
    pub fn invalid(message: impl Into<String>) -> Self {
        ToolError::Invalid(message.into())
    }

    pub fn refused(message: impl Into<String>) -> Self {
        ToolError::Refused(message.into())
    }

    /// The `isError` result a client receives.
    pub fn into_output(self) -> ToolOutput {
        ToolOutput::error(self.to_string())
    }
}

/// The result every tool returns.
pub type ToolResult = Result<ToolOutput, ToolError>;
