//! Reference checks on every create and patch of a Plan, NetworkMap or
//! StorageMap: the providers, maps and target namespace a spec names are
//! looked up first, and a missing one is a clear error instead of a
//! silently created broken object (`allow_missing_references: true` turns
//! it into a warning).

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DynamicObject};
use serde_json::{json, Value};

use crate::catalogue::find_resource;
use crate::cluster::Connection;
use crate::tools::args::CreateArgs;
use crate::tools::crud::ops;
use crate::tools::{parse_args, CallContext, Overlay, Tool, ToolError, ToolOutput, ToolResult};

/// The argument that turns missing references into a warning.
pub const ALLOW: &str = "allow_missing_references";

/// The tools checked, and which part of their arguments holds the spec.
const TARGETS: [(&str, &str); 5] = [
    ("patch_plan", "patch"),
    ("create_networkmap", "spec"),
    ("patch_networkmap", "patch"),
    ("create_storagemap", "spec"),
    ("patch_storagemap", "patch"),
];

/// One overlay per checked tool (create_plan's own overlay checks too).
pub fn overlays() -> Vec<std::sync::Arc<ReferenceCheck>> {
    TARGETS
        .iter()
        .map(|(tool, field)| std::sync::Arc::new(ReferenceCheck { tool, field }))
        .collect()
}

pub struct ReferenceCheck {
    tool: &'static str,
    field: &'static str,
}

/// The spec a create or patch argument sets: a merge patch's `spec`, or a
/// JSON Patch's add/replace operations under `/spec` gathered into one.
pub fn spec_of(arg: &Value) -> Value {
    match arg {
        Value::Object(_) if arg.get("spec").is_some() => arg["spec"].clone(),
        Value::Object(_) => arg.clone(),
        Value::Array(ops) => {
            let mut spec = json!({});
            for op in ops {
                if !matches!(op["op"].as_str(), Some("add" | "replace")) {
                    continue;
                }
                let Some(path) = op["path"].as_str().and_then(|p| p.strip_prefix("/spec/")) else {
                    continue;
                };
                let parts: Vec<&str> = path.split('/').collect();
                let mut at = &mut spec;
                for p in &parts[..parts.len() - 1] {
                    if !at.get(*p).is_some_and(Value::is_object) {
                        at[*p] = json!({});
                    }
                    at = at.get_mut(*p).expect("just set");
                }
                at[parts[parts.len() - 1]] = op["value"].clone();
            }
            spec
        }
        _ => json!({}),
    }
}

/// What a spec names that does not exist (or cannot be read), as phrases
/// that say how to fix each.
/// The references of `spec` that do not exist; an error when the API server
/// cannot say (unreachable, timing out): that is not a missing reference.
pub async fn missing(conn: &Connection, ns: &str, spec: &Value) -> Result<Vec<String>, ToolError> {
    let mut out = Vec::new();
    let refs = [
        (
            "source provider",
            "/provider/source",
            "Provider",
            "get_providers",
        ),
        (
            "target provider",
            "/provider/destination",
            "Provider",
            "get_providers",
        ),
        (
            "network map",
            "/map/network",
            "NetworkMap",
            "get_networkmaps",
        ),
        (
            "storage map",
            "/map/storage",
            "StorageMap",
            "get_storagemaps",
        ),
    ];
    for (role, ptr, kind, tool) in refs {
        let Some(r) = spec.pointer(ptr) else { continue };
        let Some(name) = r["name"].as_str().filter(|n| !n.is_empty()) else {
            continue;
        };
        let rns = r["namespace"]
            .as_str()
            .filter(|n| !n.is_empty())
            .unwrap_or(ns);
        let def = find_resource(kind).expect("a Forklift kind");
        let api: Api<DynamicObject> =
            Api::namespaced_with(conn.client.clone(), rns, &def.api_resource());
        match api.get_opt(name).await {
            Ok(Some(_)) => {}
            Ok(None) => out.push(format!(
                "the {role} {kind} {rns}/{name} does not exist (see {tool})"
            )),
            Err(kube::Error::Api(s)) if s.code == 403 => {}
            Err(e @ kube::Error::Api(_)) => out.push(format!(
                "the {role} {kind} {rns}/{name} could not be read: {}",
                crate::cluster::errors::error_chain(&e)
            )),
            Err(e) => {
                return Err(crate::tools::forklift::kube_failure(
                    &e,
                    "get",
                    kind,
                    Some(name),
                    rns,
                    conn,
                ))
            }
        }
    }
    if let Some(t) = spec
        .get("targetNamespace")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        let api: Api<Namespace> = Api::all(conn.client.clone());
        if let Ok(None) = api.get_opt(t).await {
            out.push(format!(
                "the target namespace {t} does not exist (create it first)"
            ));
        }
    }
    Ok(out)
}

/// Runs `base` unless references are missing; with [`ALLOW`], runs it and
/// appends the warning.
pub async fn checked_call(
    ctx: &CallContext,
    mut args: Value,
    field: &str,
    kind: &str,
    base: &dyn Tool,
) -> ToolResult {
    let allow = args
        .as_object_mut()
        .and_then(|o| o.remove(ALLOW))
        .and_then(|v| v.as_bool())
        == Some(true);
    // The schema first: a typo is reported before any lookup.
    let r = find_resource(kind).expect("a Forklift kind");
    if field == "spec" {
        let a: CreateArgs = parse_args(base.definition().name(), args.clone())?;
        ops::check_create(r, &a)?;
    } else if let Some(p) = args.get(field) {
        ops::check_patch(r, p.clone())?;
    }
    let conn = ctx.connect().await?;
    let ns = conn.namespace_or_default(args["namespace"].as_str());
    let mut gone = missing(&conn, &ns, &spec_of(&args[field])).await?;
    if kind == "Plan" && field == "spec" {
        gone.extend(super::plan::unknown_vm_ids(ctx, &conn, &ns, &spec_of(&args[field])).await);
    }
    if gone.is_empty() {
        return base.call(ctx, args).await;
    }
    if !allow {
        return Err(ToolError::refused(format!(
            "The {kind} names objects that do not exist, so nothing was sent to the cluster: {}. Create them or fix the names; to save it anyway, pass {ALLOW}: true.",
            gone.join("; ")
        )));
    }
    let out = base.call(ctx, args).await?;
    if out.is_error {
        return Ok(out);
    }
    let mut structured = out.structured.clone().unwrap_or_default();
    structured["warnings"] = json!(gone);
    Ok(ToolOutput::ok(
        format!("{}\nWarning: {}.", out.text, gone.join("; ")),
        Some(structured),
    ))
}

/// Adds [`ALLOW`] to a tool's input schema.
pub fn with_allow(base: &Value) -> Value {
    let mut d = base.clone();
    d["inputSchema"]["properties"][ALLOW] = json!({"type": "boolean", "description": "Save even if providers, maps or the target namespace it names do not exist."});
    d
}

impl Overlay for ReferenceCheck {
    fn target(&self) -> &str {
        self.tool
    }

    fn definition(&self, base: &Value) -> Value {
        with_allow(base)
    }

    fn call<'a>(
        &'a self,
        ctx: &'a CallContext,
        args: Value,
        base: &'a dyn Tool,
    ) -> BoxFuture<'a, ToolResult> {
        let kind = if self.tool.ends_with("plan") {
            "Plan"
        } else if self.tool.ends_with("networkmap") {
            "NetworkMap"
        } else {
            "StorageMap"
        };
        Box::pin(checked_call(ctx, args, self.field, kind, base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_patches_become_the_spec_they_set() {
        let ops = json!([
            {"op": "replace", "path": "/spec/map/network/name", "value": "nm"},
            {"op": "add", "path": "/spec/targetNamespace", "value": "t"},
            {"op": "remove", "path": "/spec/warm"},
            {"op": "add", "path": "/metadata/labels/x", "value": "y"}
        ]);
        assert_eq!(
            spec_of(&ops),
            json!({"map": {"network": {"name": "nm"}}, "targetNamespace": "t"})
        );
        assert_eq!(spec_of(&json!({"spec": {"a": 1}})), json!({"a": 1}));
    }
}
