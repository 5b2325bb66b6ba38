//! The generated tools: get/create/patch/delete for every resource of the
//! generated table, as [`CrudTool`] values driven by one generic
//! implementation ([`ops`]), and `watch: true` on get tools ([`watch`]).
//!
//! Input schemas are the schemars schemas of [`crate::tools::args`], with a
//! create tool's `spec` replaced by the resource's trimmed spec summary.

pub mod ops;
pub mod watch;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::args::{CreateArgs, DeleteArgs, GetArgs, PatchArgs};
use super::schema::{self, Hints};
use super::{parse_args, CallContext, Tool, ToolDefinition, ToolResult, Toolset};
use crate::catalogue::{self, ResourceDef, ToolDef, Verb};

/// The generated tools in toolset `name` (from crds/toolsets.yaml:
/// `resources`, `operator` or `replaced`), in table order.
pub fn toolset(name: &'static str) -> Toolset {
    Toolset {
        name,
        tools: catalogue::tools()
            .iter()
            .filter(|t| t.toolset == name)
            .map(|t| Arc::new(CrudTool::new(t)) as _)
            .collect(),
    }
}

/// One generated tool.
pub struct CrudTool {
    def: &'static ToolDef,
    definition: ToolDefinition,
}

impl CrudTool {
    pub fn new(def: &'static ToolDef) -> Self {
        CrudTool {
            def,
            definition: ToolDefinition::new(definition(def)),
        }
    }

    fn resource(&self) -> &'static ResourceDef {
        &catalogue::resources()[self.def.resource]
    }

    async fn run(&self, ctx: &CallContext, args: Value) -> ToolResult {
        let r = self.resource();
        let name = self.def.name;
        // Parse and check everything before connecting.
        let call = match self.def.verb {
            Verb::Get => {
                let a: GetArgs = parse_args(name, args)?;
                ops::check_scope(&a)?;
                Call::Get(a)
            }
            Verb::Create => {
                let a: CreateArgs = parse_args(name, args)?;
                ops::check_create(r, &a)?;
                Call::Create(a)
            }
            Verb::Patch => Call::Patch(parse_args(name, args)?),
            Verb::Delete => Call::Delete(parse_args(name, args)?),
        };
        // A watch reports its own progress (changes, counted from 1).
        let watching = matches!(&call, Call::Get(a) if a.watch == Some(true));
        if !watching {
            ctx.progress(0.0, Some(1.0), "connecting to the Kubernetes API server");
        }
        let conn = ctx.connect().await?;
        if !watching {
            ctx.progress(0.5, Some(1.0), "calling the Kubernetes API");
        }
        let out = match call {
            Call::Get(a) if watching => return watch::run(r, a, &conn, ctx).await,
            Call::Get(a) => ops::get(r, a, &conn).await,
            Call::Create(a) => ops::create(r, a, &conn).await,
            Call::Patch(a) => ops::patch(r, a, &conn).await,
            Call::Delete(a) => ops::delete(r, a, &conn).await,
        };
        ctx.progress(1.0, Some(1.0), "done");
        out
    }
}

/// A parsed call of a generated tool.
enum Call {
    Get(GetArgs),
    Create(CreateArgs),
    Patch(PatchArgs),
    Delete(DeleteArgs),
}

impl Tool for CrudTool {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
        Box::pin(self.run(ctx, args))
    }

    fn time_limit(&self, args: &Value) -> Duration {
        if self.def.verb == Verb::Get && args["watch"] == true {
            watch::time_limit(args)
        } else {
            super::DEFAULT_TIME_LIMIT
        }
    }
}

/// The `tools/list` entry of a generated tool.
fn definition(t: &ToolDef) -> Value {
    let r = &catalogue::resources()[t.resource];
    let (mut input, hints) = match t.verb {
        Verb::Get => (schema::input::<GetArgs>(), Hints::READ),
        Verb::Create => {
            let mut s = schema::input::<CreateArgs>();
            let summary = r.spec_summary();
            let spec_required = summary
                .get("required")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            if let Some(props) = s.get_mut("properties").and_then(Value::as_object_mut) {
                props.insert("spec".into(), summary);
            }
            if spec_required {
                if let Some(req) = s.get_mut("required").and_then(Value::as_array_mut) {
                    req.push(json!("spec"));
                }
            }
            (
                s,
                Hints {
                    read_only: false,
                    destructive: false,
                    idempotent: false,
                },
            )
        }
        Verb::Patch => (
            schema::input::<PatchArgs>(),
            Hints {
                read_only: false,
                destructive: true,
                idempotent: false,
            },
        ),
        Verb::Delete => (
            schema::input::<DeleteArgs>(),
            Hints {
                read_only: false,
                destructive: true,
                idempotent: true,
            },
        ),
    };
    if !r.namespaced {
        if let Some(props) = input.get_mut("properties").and_then(Value::as_object_mut) {
            props.remove("namespace");
            props.remove("all_namespaces");
        }
    }
    json!({
        "name": t.name,
        "title": t.title,
        "description": t.description,
        "inputSchema": input,
        "annotations": hints.to_value(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::Registry;

    #[test]
    fn every_generated_tool_has_an_object_schema_without_refs() {
        let (a, b, c) = (
            toolset("resources"),
            toolset("operator"),
            toolset("replaced"),
        );
        assert_eq!(
            a.tools.len() + b.tools.len() + c.tools.len(),
            catalogue::tools().len()
        );
        assert_eq!(
            a.tools.len() + c.tools.len(),
            7 * 4,
            "crds/toolsets.yaml lists seven kinds"
        );
        assert_eq!(
            c.tools.len(),
            3,
            "create/patch/delete_migration are replaced by workflow tools"
        );
        for t in a.tools.iter().chain(&b.tools).chain(&c.tools) {
            let d = t.definition();
            let s = d.input_schema();
            assert_eq!(s["type"], "object", "{}", d.name());
            let text = s.to_string();
            assert!(!text.contains("$ref"), "{}: {text}", d.name());
            assert!(!text.contains("$schema"), "{}", d.name());
        }
    }

    #[test]
    fn create_requires_spec_when_crd_does() {
        let t = catalogue::tools()
            .iter()
            .find(|t| t.name == "create_plan")
            .unwrap();
        let plan = CrudTool::new(t).definition().json().clone();
        let req = plan["inputSchema"]["required"].as_array().unwrap();
        assert!(req.contains(&json!("name")) && req.contains(&json!("spec")));
        assert_eq!(
            plan["inputSchema"]["properties"]["spec"]["required"],
            json!(["map", "provider", "targetNamespace", "vms"])
        );
        // Served with its guided overlay, spec is one of two forms.
        let reg = Registry::standard(false);
        let served = reg.find("create_plan").unwrap().definition().json().clone();
        assert!(!served["inputSchema"]["required"]
            .as_array()
            .unwrap()
            .contains(&json!("spec")));
        assert!(served["inputSchema"]["properties"]["source_provider"].is_object());
    }

    #[test]
    fn get_tools_offer_watch_and_its_time_limit() {
        let t = CrudTool::new(
            catalogue::tools()
                .iter()
                .find(|t| t.name == "get_plans")
                .unwrap(),
        );
        let props = &t.definition().input_schema()["properties"];
        assert_eq!(props["watch"]["type"], "boolean");
        assert_eq!(props["timeout_seconds"]["type"], "integer");
        assert_eq!(t.time_limit(&json!({})), crate::tools::DEFAULT_TIME_LIMIT);
        assert!(
            t.time_limit(&json!({"watch": true, "timeout_seconds": 600}))
                > Duration::from_secs(600)
        );
    }
}
