//! Tools: their arguments, the registry that lists them, and their execution.
//!
//! - [`args`]: argument structs (schemars schemas, serde parsing);
//! - [`registry`]: the `tools/list` catalogue;
//! - [`validate`]: arguments against the full CRD schema;
//! - [`crud`]: the generic get/create/patch/delete implementation;
//! - [`explain`]: runs `explain_resource`;
//! - [`output`]: results and rendering.

pub mod args;
pub mod crud;
pub mod explain;
pub mod output;
pub mod registry;
pub mod validate;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use output::ToolOutput;
pub use registry::{Registry, Tool, ToolKind};

use crate::catalogue::{resources, Verb};
use crate::cluster::{ClusterAccess, Identity};

/// What a tool call runs with.
pub struct CallContext<'a> {
    pub access: &'a ClusterAccess,
    pub identity: &'a Identity,
    /// Reports progress (0.0..=1.0) with a message; a no-op unless the client asked.
    pub progress: &'a (dyn Fn(f64, &str) + Send + Sync),
}

/// Runs one tool call. Every failure is a tool result with `isError`.
pub async fn execute(tool: &Tool, arguments: Value, ctx: &CallContext<'_>) -> ToolOutput {
    let mut arguments = arguments;
    coerce_arguments(&mut arguments, &tool.definition["inputSchema"]);
    match tool.kind {
        ToolKind::Explain => match parse_args(tool.name, arguments) {
            Ok(a) => explain::run(a),
            Err(e) => e,
        },
        ToolKind::Crud(def) => {
            let r = &resources()[def.resource];
            // Parse and check everything before connecting.
            let call = match def.verb {
                Verb::Get => parse_args(tool.name, arguments).map(Call::Get),
                Verb::Create => parse_args(tool.name, arguments).and_then(|a: args::CreateArgs| {
                    crud::check_create(r, &a).map(|_| Call::Create(a))
                }),
                Verb::Patch => parse_args(tool.name, arguments).map(Call::Patch),
                Verb::Delete => parse_args(tool.name, arguments).map(Call::Delete),
            };
            let call = match call {
                Ok(c) => c,
                Err(e) => return e,
            };
            (ctx.progress)(0.0, "connecting to the Kubernetes API server");
            let conn = match ctx.access.connect(ctx.identity).await {
                Ok(c) => c,
                Err(e) => return ToolOutput::error(e.message),
            };
            (ctx.progress)(0.5, "calling the Kubernetes API");
            let out = match call {
                Call::Get(a) => crud::get(r, a, &conn).await,
                Call::Create(a) => crud::create(r, a, &conn).await,
                Call::Patch(a) => crud::patch(r, a, &conn).await,
                Call::Delete(a) => crud::delete(r, a, &conn).await,
            };
            (ctx.progress)(1.0, "done");
            out
        }
    }
}

enum Call {
    Get(args::GetArgs),
    Create(args::CreateArgs),
    Patch(args::PatchArgs),
    Delete(args::DeleteArgs),
}

fn parse_args<T: DeserializeOwned>(tool: &str, arguments: Value) -> Result<T, ToolOutput> {
    serde_json::from_value(arguments).map_err(|e| {
        ToolOutput::error(format!(
            "Invalid arguments for {tool}: {e}. Nothing was sent to the cluster."
        ))
    })
}

/// Small models often send "true"/"false" for booleans, and an object (a spec,
/// a patch) as a JSON string: accept both where the schema says so.
fn coerce_arguments(arguments: &mut Value, schema: &Value) {
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
    fn coerces_string_booleans_and_json_strings_where_the_schema_wants_them() {
        let schema = json!({"properties": {
            "dry_run": {"type": "boolean"},
            "name": {"type": "string"},
            "spec": {"type": "object"},
            "patch": {"type": ["object", "array"]},
            "labels": {"type": "object"}
        }});
        let mut a = json!({
            "dry_run": "True",
            "name": "true",
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
                "spec": {"type": "vsphere"},
                "patch": [{"op": "remove", "path": "/spec/url"}],
                "labels": "[1]"
            })
        );
    }

    #[test]
    fn first_line_cuts() {
        assert_eq!(first_line("abc\ndef", 10), "abc");
        assert_eq!(first_line("abcdef", 4), "abc…");
    }
}
