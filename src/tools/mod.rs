//! Tools: values behind the [`Tool`] trait, grouped in toolsets, served by the
//! [`Registry`].
//!
//! - [`registry`]: toolsets → mutators (overlays) → filters, and `tools/list`
//!   pages serialized once;
//! - [`context`]: what a call runs with (identity, cluster, cancellation,
//!   bounded progress, deadline); [`error`]: typed failures;
//! - [`crud`]: the generated get/create/patch/delete tools (one generic
//!   implementation over the generated tables), with `watch` on get;
//! - [`explain`]: the `explain_resource` tool;
//! - [`plan`]: Forklift plan workflows: watch, lifecycle, describe;
//! - [`events`], [`logs`]: troubleshooting reads;
//! - [`overlays`]: guided `create_plan`, `create_provider` with credentials,
//!   reference checks, `${NAME}` from the environment;
//! - [`inventory`]: `get_inventory` and the query language; [`version`]:
//!   `get_version` (and the `version` command);
//! - [`health`], [`access`], [`settings`]: the review tools `check_health`
//!   (with the provider security review), `check_access`, `get_settings` and
//!   `set_setting`;
//! - [`args`], [`schema`], [`validate`], [`output`], [`forklift`],
//!   [`watching`]: shared pieces.
//!
//! Adding a tool is one module implementing [`Tool`] plus one line in its
//! toolset; the engine never changes.

pub mod access;
pub mod args;
pub mod background;
pub mod context;
pub mod crud;
pub mod error;
pub mod events;
pub mod explain;
pub mod fields;
pub mod forklift;
pub mod health;
pub mod inventory;
pub mod logs;
pub mod output;
pub mod overlays;
pub mod plan;
pub mod registry;
pub mod schema;
pub mod settings;
pub mod suggest;
pub mod validate;
pub mod version;
pub mod watching;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use background::BackgroundRegistry;
pub use context::{CallContext, ProgressSink, ToolSettings};
pub use error::{ToolError, ToolResult};
pub use output::ToolOutput;
pub use registry::{
    CatalogueOptions, Mutator, Overlay, Registry, RegistryBuilder, Toolset, DEFAULT_TOOLSETS,
    TOOLSETS,
};

/// How long an ordinary call may run before the engine gives up on it.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(150);

/// A tool's `tools/list` entry, with the facts the registry needs from it.
#[derive(Debug, Clone)]
pub struct ToolDefinition {
    name: String,
    json: Value,
}

impl ToolDefinition {
    /// Wraps a definition object (it must have a string `name`).
    pub fn new(json: Value) -> Self {
        let name = json["name"]
            .as_str()
            .expect("a tool definition has a name")
            .to_owned();
        ToolDefinition { name, json }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole `tools/list` entry.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The input schema.
    pub fn input_schema(&self) -> &Value {
        &self.json["inputSchema"]
    }

    fn hint(&self, hint: &str) -> bool {
        self.json["annotations"][hint].as_bool() == Some(true)
    }

    /// `readOnlyHint`: the one source of truth for `--read-only`.
    pub fn read_only(&self) -> bool {
        self.hint("readOnlyHint")
    }

    /// `destructiveHint`.
    pub fn destructive(&self) -> bool {
        self.hint("destructiveHint")
    }
}

/// One tool: its definition and what a call does.
pub trait Tool: Send + Sync {
    fn definition(&self) -> &ToolDefinition;

    /// Runs one call. Arguments were coerced (see [`coerce_arguments`]) but
    /// not otherwise checked.
    fn call<'a>(&'a self, ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult>;

    /// How long a call with these arguments may run (watches run longer).
    fn time_limit(&self, _args: &Value) -> Duration {
        DEFAULT_TIME_LIMIT
    }
}

/// A shared tool.
pub type SharedTool = Arc<dyn Tool>;

/// Deserializes a tool's arguments, or says what is wrong with them.
pub fn parse_args<T: DeserializeOwned>(tool: &str, arguments: Value) -> Result<T, ToolError> {
    serde_path_to_error::deserialize(arguments).map_err(|e| {
        let path = e.path().to_string();
        let inner = plain_types(&e.into_inner().to_string());
        ToolError::Arguments {
            tool: tool.to_owned(),
            detail: if path == "."
                || inner.starts_with("unknown field")
                || inner.starts_with("missing field")
            {
                inner
            } else {
                format!("{path}: {inner}")
            },
        }
    })
}

/// Rust type names in serde's messages, as a client would say them.
fn plain_types(msg: &str) -> String {
    let mut s = msg.to_owned();
    for (rust, plain) in [
        ("usize", "a non-negative integer"),
        ("u64", "a non-negative integer"),
        ("u32", "a non-negative integer"),
        ("i64", "an integer"),
        ("a sequence", "an array"),
        ("a map", "an object"),
        ("a boolean", "true or false"),
    ] {
        s = s.replace(&format!("expected {rust}"), &format!("expected {plain}"));
        s = s.replace(
            &format!("invalid type: {rust}"),
            &format!("invalid type: {plain}"),
        );
    }
    s.replace("invalid type: map", "invalid type: an object")
        .replace("invalid type: sequence", "invalid type: an array")
}

/// Small models often send "true"/"false" for booleans, a number as a
/// string, and an object (a spec, a patch) as a JSON string: accept them
/// where the schema says so.
pub fn coerce_arguments(arguments: &mut Value, schema: &Value) {
    let (Some(args), Some(props)) = (
        arguments.as_object_mut(),
        schema.get("properties").and_then(Value::as_object),
    ) else {
        return;
    };
    for (k, v) in args.iter_mut() {
        let Some(text) = v.as_str() else { continue };
        let wants = |t: &str| {
            props.get(k).and_then(|p| p.get("type")).is_some_and(|ty| {
                ty == t || ty.as_array().is_some_and(|a| a.iter().any(|x| x == t))
            })
        };
        if wants("boolean") {
            match text.to_ascii_lowercase().as_str() {
                "true" => *v = Value::Bool(true),
                "false" => *v = Value::Bool(false),
                _ => {}
            }
        } else if wants("integer") {
            if let Ok(n) = text.trim().parse::<i64>() {
                *v = Value::from(n);
            }
        } else if wants("object") || wants("array") {
            if let Ok(parsed @ (Value::Object(_) | Value::Array(_))) =
                serde_json::from_str::<Value>(text)
            {
                if (parsed.is_object() && wants("object")) || (parsed.is_array() && wants("array"))
                {
                    *v = parsed;
                }
            }
        }
    }
}

/// The JSON type of a structural-schema node (`["integer","string"]` for int-or-string).
pub fn summary_type(node: &Value) -> Option<Value> {
    if node
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return Some(serde_json::json!(["integer", "string"]));
    }
    node.get("type").cloned()
}

/// The first line of a description, cut at `max` characters.
pub fn first_line(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    if line.chars().count() <= max {
        return line.to_owned();
    }
    let mut s: String = line.chars().take(max - 1).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn coerces_string_booleans_numbers_and_json_strings_where_the_schema_wants_them() {
        let schema = json!({"properties": {
            "dry_run": {"type": "boolean"},
            "name": {"type": "string"},
            "limit": {"type": "integer"},
            "spec": {"type": "object"},
            "patch": {"type": ["object", "array"]},
            "labels": {"type": "object"}
        }});
        let mut a = json!({
            "dry_run": "True",
            "name": "true",
            "limit": "20",
            "spec": "{\"type\": \"vsphere\"}",
            "patch": "[{\"op\": \"remove\", \"path\": \"/spec/url\"}]",
            "labels": "[1]"
        });
        coerce_arguments(&mut a, &schema);
        assert_eq!(
            a,
            json!({
                "dry_run": true,
                "name": "true",
                "limit": 20,
                "spec": {"type": "vsphere"},
                "patch": [{"op": "remove", "path": "/spec/url"}],
                "labels": "[1]"
            })
        );
    }

    #[test]
    fn argument_errors_name_the_argument_in_plain_words() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct A {
            vms: Vec<String>,
            limit: Option<usize>,
        }
        let e = parse_args::<A>("t", json!({"vms": "web-01"}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("vms: invalid type: string \"web-01\", expected an array"),
            "{e}"
        );
        let e = parse_args::<A>("t", json!({"vms": [], "limit": "five"}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("limit: invalid type: string \"five\", expected a non-negative integer"),
            "{e}"
        );
    }

    #[test]
    fn first_line_cuts() {
        assert_eq!(first_line("abc\ndef", 10), "abc");
        assert_eq!(first_line("abcdef", 4), "abc…");
    }

    #[test]
    fn definitions_read_their_hints() {
        let d = ToolDefinition::new(json!({"name": "x", "annotations": {"readOnlyHint": true}}));
        assert_eq!(d.name(), "x");
        assert!(d.read_only() && !d.destructive());
    }
}
