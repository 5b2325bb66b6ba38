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
                "Fields of a Forklift resource or of one of its fields, like kubectl explain: one level by default, recursive for the whole tree. Kinds: {}.",
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

    fn call<'a>(&'a self, ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
        Box::pin(async move {
            let args: ExplainArgs = parse_args(EXPLAIN, args)?;
            let kind = find_resource(&args.kind).map(|r| r.kind);
            let mut out = run(args)?;
            // A cluster whose CRD for this kind differs: say so (once checked, cheap).
            if let Some(note) = match kind {
                Some(k) => ctx.access.drift_note(&ctx.identity, k).await,
                None => None,
            } {
                out.text.push_str(&format!("\n{note}\n"));
                if let Some(Value::Object(m)) = &mut out.structured {
                    m.insert("crdDrift".into(), json!(note));
                }
            }
            Ok(out)
        })
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
    let recursive = args.recursive.unwrap_or(false);
    let mut text = format!("KIND:     {}\nVERSION:  {}\n", r.kind, r.api_version());
    if !field.is_empty() {
        text.push_str(&format!("FIELD:    {field} <{}>\n", type_name(node)));
    }
    if let Some(d) = node.get("description").and_then(Value::as_str) {
        text.push_str(&format!("\nDESCRIPTION:\n  {}\n", d.replace('\n', "\n  ")));
    }
    if let Some(e) = node.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = e.iter().map(|v| v.to_string()).collect();
        text.push_str(&format!("\nVALUES: {}\n", values.join(", ")));
    }
    let shown = elements(node);
    let mut fields = Vec::new();
    let mut left_out = 0usize;
    if shown.get("properties").is_some() {
        text.push_str("\nFIELDS:\n");
        let mut budget = BUDGET.saturating_sub(text.len());
        walk(
            shown,
            0,
            if recursive { usize::MAX } else { 0 },
            "",
            &mut text,
            &mut fields,
            &mut budget,
            &mut left_out,
        );
    }
    if left_out > 0 {
        text.push_str(&format!(
            "\n({left_out} more fields not shown to stay within {BUDGET} bytes; explain a deeper path to see them)\n"
        ));
    } else if !recursive && fields.iter().any(|f: &Value| f["hasFields"] == true) {
        let here = if field.is_empty() {
            String::new()
        } else {
            format!("{field}.")
        };
        text.push_str(&format!(
            "\nFields marked ▸ have their own fields: explain path={here}<field>, or recursive: true for the whole tree.\n"
        ));
    }
    Ok(ToolOutput::ok(
        text,
        Some(json!({
            "kind": r.kind,
            "apiVersion": r.api_version(),
            "path": field,
            "type": type_name(node),
            "description": node.get("description"),
            "enum": node.get("enum"),
            "fields": fields,
            "omittedFields": left_out,
        })),
    ))
}

/// Text budget of one explanation.
const BUDGET: usize = 16 * 1024;

/// Lists the fields of `node` (to `max_depth` levels below it), one line
/// each with type and first description line, within `budget` bytes.
#[allow(clippy::too_many_arguments)]
fn walk(
    node: &Value,
    depth: usize,
    max_depth: usize,
    prefix: &str,
    text: &mut String,
    out: &mut Vec<Value>,
    budget: &mut usize,
    left_out: &mut usize,
) {
    let Some(props) = node.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: Vec<&str> = node
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, s) in props {
        let inner = elements(s);
        let has_fields = inner.get("properties").is_some();
        let req = required.contains(&name.as_str());
        let d = s
            .get("description")
            .and_then(Value::as_str)
            .map(|d| crate::tools::first_line(d, 110))
            .unwrap_or_default();
        let indent = "  ".repeat(depth + 1);
        let marker = if has_fields && depth >= max_depth {
            " ▸"
        } else {
            ""
        };
        let line = format!(
            "{indent}{name} <{}>{}{marker}\n{indent}  {d}\n",
            type_name(s),
            if req { " -required-" } else { "" }
        );
        if line.len() > *budget {
            *left_out += 1 + count_fields(inner);
            continue;
        }
        *budget -= line.len();
        text.push_str(&line);
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        out.push(json!({
            "path": path,
            "type": type_name(s),
            "required": req,
            "description": d,
            "hasFields": has_fields,
        }));
        if has_fields && depth < max_depth {
            walk(
                inner,
                depth + 1,
                max_depth,
                &path,
                text,
                out,
                budget,
                left_out,
            );
        }
    }
}

/// How many fields lie below `node`.
fn count_fields(node: &Value) -> usize {
    node.get("properties")
        .and_then(Value::as_object)
        .map(|p| p.values().map(|s| 1 + count_fields(elements(s))).sum())
        .unwrap_or(0)
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
            recursive: None,
        })
        .unwrap_or_else(ToolError::into_output)
    }

    #[test]
    fn every_kind_at_default_depth_is_small_and_recursive_stays_in_budget() {
        let mut largest = (0, "");
        for r in resources() {
            for path in [None, Some("spec")] {
                let out = explain(r.kind, path);
                assert!(!out.is_error, "{}: {}", r.kind, out.text);
                if out.text.len() > largest.0 {
                    largest = (out.text.len(), r.kind);
                }
            }
            let deep = run(ExplainArgs {
                kind: r.kind.into(),
                path: Some("spec".into()),
                recursive: Some(true),
            })
            .unwrap();
            assert!(
                deep.text.len() <= BUDGET + 512,
                "{}: {}",
                r.kind,
                deep.text.len()
            );
        }
        println!(
            "largest explain at default depth: {} bytes ({})",
            largest.0, largest.1
        );
        assert!(largest.0 <= BUDGET + 512, "{largest:?}");
        // The Plan spec: one level, its children marked, nothing cut.
        let plan = explain("Plan", Some("spec"));
        assert!(
            plan.text.contains("  vms <[]object> -required- ▸"),
            "{}",
            plan.text
        );
        assert!(
            !plan.text.contains("    targetName"),
            "one level only: {}",
            plan.text
        );
        let deep = run(ExplainArgs {
            kind: "Plan".into(),
            path: Some("spec.vms".into()),
            recursive: Some(true),
        })
        .unwrap();
        assert!(
            deep.text.contains("    hooks <[]object>") || deep.text.contains("hooks <[]object>"),
            "{}",
            deep.text
        );
        let huge = run(ExplainArgs {
            kind: "Plan".into(),
            path: None,
            recursive: Some(true),
        })
        .unwrap();
        assert!(
            huge.text.contains("more fields not shown"),
            "the budget says what it left out"
        );
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
        assert_eq!(out.structured.as_ref().unwrap()["type"], "string");
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
