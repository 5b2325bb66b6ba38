//! `explain_resource`: the schema of a resource or of one of its fields,
//! like `kubectl explain`.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::args::ExplainArgs;
use super::output::ToolOutput;
use super::schema::{self, Hints};
use super::{parse_args, CallContext, Tool, ToolDefinition, ToolError, ToolResult, Toolset};
use crate::catalogue::{find_resource, resources};
use crate::tools::summary_type;

/// Name of the schema-explaining tool.
pub const EXPLAIN: &str = "explain_resource";

pub fn toolset() -> Toolset {
    Toolset {
        name: "explain",
        tools: vec![Arc::new(Explain::new())],
    }
}

/// `explain_resource`.
pub struct Explain {
    definition: ToolDefinition,
}

impl Explain {
    pub fn new() -> Self {
        let kinds: Vec<&str> = resources().iter().map(|r| r.kind).collect();
        let json = schema::definition::<ExplainArgs>(
            EXPLAIN,
            "Explain resource",
            &format!(
                "Full schema of a Forklift resource or one of its fields, like kubectl explain. Kinds: {}.",
                kinds.join(", ")
            ),
            Hints::READ,
        );
        Explain {
            definition: ToolDefinition::new(json),
        }
    }
}

impl Default for Explain {
    fn default() -> Self {
        Self::new()
    }
}

impl Tool for Explain {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, _ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
        Box::pin(async move { run(parse_args(EXPLAIN, args)?) })
    }
}

pub fn run(args: ExplainArgs) -> ToolResult {
    let Some(r) = find_resource(&args.kind) else {
        let kinds: Vec<&str> = resources().iter().map(|r| r.kind).collect();
        return Err(ToolError::invalid(format!(
            "Unknown kind \"{}\". Known kinds: {}.",
            args.kind,
            kinds.join(", ")
        )));
    };
    let path = args.path.unwrap_or_default();
    let mut node = r.schema();
    let mut walked: Vec<String> = Vec::new();
    for raw in path.split('.').filter(|s| !s.is_empty()) {
        let seg = raw.split('[').next().unwrap_or(raw);
        // Arrays are entered implicitly, as kubectl explain does.
        node = elements(node);
        match node.pointer(&format!(
            "/properties/{}",
            seg.replace('~', "~0").replace('/', "~1")
        )) {
            Some(child) => {
                node = child;
                walked.push(seg.to_owned());
            }
            None => {
                let here = if walked.is_empty() {
                    r.kind.to_owned()
                } else {
                    walked.join(".")
                };
                let fields = field_names(node);
                let hint = if fields.is_empty() {
                    format!("{here} has no fields.")
                } else {
                    format!("Fields of {here}: {}.", fields.join(", "))
                };
                return Err(ToolError::invalid(format!(
                    "{} has no field \"{seg}\". {hint}",
                    r.kind
                )));
            }
        }
    }
    let field = if walked.is_empty() {
        String::new()
    } else {
        walked.join(".")
    };
    let mut text = format!("KIND:     {}\nVERSION:  {}\n", r.kind, r.api_version());
    if !field.is_empty() {
        text.push_str(&format!("FIELD:    {field} <{}>\n", type_name(node)));
    }
    if let Some(d) = node.get("description").and_then(Value::as_str) {
        text.push_str(&format!("\nDESCRIPTION:\n  {}\n", d.replace('\n', "\n  ")));
    }
    let shown = elements(node);
    if let Some(props) = shown.get("properties").and_then(Value::as_object) {
        let required: Vec<&str> = shown
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        text.push_str("\nFIELDS:\n");
        for (name, s) in props {
            let req = if required.contains(&name.as_str()) {
                " -required-"
            } else {
                ""
            };
            let d = s
                .get("description")
                .and_then(Value::as_str)
                .map(|d| crate::tools::first_line(d, 110))
                .unwrap_or_default();
            text.push_str(&format!("  {name} <{}>{req}\n    {d}\n", type_name(s)));
        }
    }
    text.push_str(&format!(
        "\nSCHEMA (JSON):\n{}\n",
        serde_json::to_string(node).unwrap_or_default()
    ));
    Ok(ToolOutput::ok(
        text,
        Some(json!({
            "kind": r.kind,
            "apiVersion": r.api_version(),
            "path": field,
            "schema": node,
        })),
    ))
}

/// The schema of the elements of an array (of arrays …), or `node` itself.
fn elements(mut node: &Value) -> &Value {
    while node.get("type").and_then(Value::as_str) == Some("array") {
        match node.get("items") {
            Some(items) => node = items,
            None => break,
        }
    }
    node
}

fn field_names(node: &Value) -> Vec<String> {
    node.get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn type_name(node: &Value) -> String {
    match summary_type(node) {
        Some(Value::String(t)) if t == "array" => {
            let inner = node
                .get("items")
                .map(type_name)
                .unwrap_or_else(|| "any".into());
            format!("[]{inner}")
        }
        Some(Value::String(t)) => t,
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("|"),
        _ => "any".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explain(kind: &str, path: Option<&str>) -> ToolOutput {
        run(ExplainArgs {
            kind: kind.into(),
            path: path.map(str::to_owned),
        })
        .unwrap_or_else(ToolError::into_output)
    }

    #[test]
    fn explains_nested_fields_through_arrays() {
        let out = explain("plans", Some("spec.vms.id"));
        assert!(!out.is_error, "{}", out.text);
        assert!(
            out.text.contains("FIELD:    spec.vms.id <string>"),
            "{}",
            out.text
        );
        assert_eq!(out.structured.as_ref().unwrap()["schema"]["type"], "string");
        let out = explain("Plan", Some("spec.vms"));
        assert!(
            out.text.contains("FIELDS:") && out.text.contains("  id <string>"),
            "{}",
            out.text
        );
    }

    #[test]
    fn whole_resource_and_errors() {
        let out = explain("Provider", None);
        assert!(
            out.text.contains("KIND:     Provider") && out.text.contains("spec <object>"),
            "{}",
            out.text
        );
        let out = explain("Provider", Some("spec.nope"));
        assert!(
            out.is_error && out.text.contains("Fields of spec: ") && out.text.contains("secret"),
            "{}",
            out.text
        );
        let out = explain("Pod", None);
        assert!(
            out.is_error && out.text.contains("Known kinds:"),
            "{}",
            out.text
        );
    }
}
