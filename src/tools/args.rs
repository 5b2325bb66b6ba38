//! Argument shapes of the tools, with their JSON Schemas derived by schemars.
//!
//! The same structs deserialize the arguments of a call, so what `tools/list`
//! advertises and what a call accepts cannot drift apart.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// How a get tool renders objects in its text block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    #[default]
    Json,
    Yaml,
}

/// get_<plural>: one object by name, or a list.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetArgs {
    /// Object name; omit to list.
    pub name: Option<String>,
    /// Namespace (default: the context's).
    pub namespace: Option<String>,
    /// List across all namespaces.
    pub all_namespaces: Option<bool>,
    /// Label selector, e.g. "app=web,env!=dev".
    pub label_selector: Option<String>,
    /// Text format: json (default) or yaml.
    pub output: Option<OutputFormat>,
    /// Keep only these fields, e.g. ["metadata.name", "status.conditions"].
    pub fields: Option<Vec<String>>,
    /// Most objects in a list (default 50, at most 500).
    pub limit: Option<u32>,
    /// The next page: the continue token of the previous result.
    #[serde(rename = "continue")]
    pub continue_token: Option<String>,
    /// Watch: send changes as progress until timeout_seconds (plans: use watch_plan).
    pub watch: Option<bool>,
    /// Watch for this long (default 30, at most 1800).
    pub timeout_seconds: Option<u64>,
}

/// create_<singular>.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateArgs {
    /// Object name.
    pub name: String,
    /// Namespace (default: the context's).
    pub namespace: Option<String>,
    /// Labels.
    pub labels: Option<BTreeMap<String, String>>,
    /// Annotations.
    pub annotations: Option<BTreeMap<String, String>>,
    /// The spec.
    pub spec: Option<Value>,
    /// Validate on the server without saving.
    pub dry_run: Option<bool>,
}

/// patch_<singular>.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchArgs {
    /// Object name.
    pub name: String,
    /// Namespace (default: the context's).
    pub namespace: Option<String>,
    /// JSON merge patch object, or JSON Patch array of {op,path,value}.
    #[schemars(schema_with = "patch_schema")]
    pub patch: Value,
    /// Validate on the server without saving.
    pub dry_run: Option<bool>,
}

/// delete_<singular>.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteArgs {
    /// Object name.
    pub name: String,
    /// Namespace (default: the context's).
    pub namespace: Option<String>,
    /// Check on the server without deleting.
    pub dry_run: Option<bool>,
}

/// explain_resource.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainArgs {
    /// Kind, plural or short name, e.g. Plan, providers, osvp.
    pub kind: String,
    /// Dotted field path, e.g. spec.vms (array items are entered implicitly); omit for the whole resource.
    pub path: Option<String>,
    /// Every field below the path, not just one level (bounded).
    pub recursive: Option<bool>,
}

fn patch_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": ["object", "array"]})
}
