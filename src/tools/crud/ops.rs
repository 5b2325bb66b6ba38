//! get/create/patch/delete of any resource of the generated table, through
//! kube-rs `DynamicObject` (no per-kind code).

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

use crate::catalogue::ResourceDef;
use crate::cluster::errors::Attempt;
use crate::cluster::{Connection, KubeFailure};
use crate::tools::args::{CreateArgs, DeleteArgs, GetArgs, OutputFormat, PatchArgs};
use crate::tools::output::{render, select_fields, tidy, ToolOutput};
use crate::tools::{validate, ToolError, ToolResult};

/// Field manager recorded on objects this server writes.
pub const FIELD_MANAGER: &str = "kubectl-mtv";

/// Where a call is aimed.
pub(super) struct Target<'a> {
    pub r: &'static ResourceDef,
    pub conn: &'a Connection,
    pub namespace: Option<String>,
    pub name: Option<&'a str>,
    pub verb: &'static str,
}

impl Target<'_> {
    pub fn api(&self) -> Api<DynamicObject> {
        let ar = self.r.api_resource();
        match (&self.namespace, self.r.namespaced) {
            (Some(ns), true) => Api::namespaced_with(self.conn.client.clone(), ns, &ar),
            _ => Api::all_with(self.conn.client.clone(), &ar),
        }
    }

    pub fn fail(&self, err: &kube::Error) -> ToolError {
        let resource = format!("{}.{}", self.r.plural, self.r.group);
        let list_tool = format!("get_{}", self.r.plural);
        let f = KubeFailure::from_kube(
            err,
            &Attempt {
                verb: self.verb,
                resource: &resource,
                kind: self.r.kind,
                name: self.name,
                namespace: self.namespace.as_deref(),
                server: &self.conn.server,
                list_tool: &list_tool,
            },
        );
        ToolError::Kube(f)
    }

    /// The result of a create or patch: what was written, or why not.
    fn written(
        &self,
        past: &str,
        name: &str,
        dry_run: bool,
        result: Result<DynamicObject, kube::Error>,
    ) -> ToolResult {
        let obj = result.map_err(|e| self.fail(&e))?;
        let v = to_value(&obj);
        let text = format!(
            "{past} {}{}.\n{}",
            self.label(name),
            dry_run_note(dry_run),
            render(&v, false)
        );
        Ok(ToolOutput::ok(text, Some(v)))
    }

    /// "Plan ns/name" for messages.
    fn label(&self, name: &str) -> String {
        match &self.namespace {
            Some(ns) if self.r.namespaced => format!("{} {ns}/{name}", self.r.kind),
            _ => format!("{} {name}", self.r.kind),
        }
    }
}

pub(super) fn namespace_for(
    r: &ResourceDef,
    conn: &Connection,
    given: Option<String>,
) -> Option<String> {
    r.namespaced.then(|| {
        given
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| conn.default_namespace.clone())
    })
}

pub fn to_value(obj: &DynamicObject) -> Value {
    let mut v = serde_json::to_value(obj).unwrap_or(Value::Null);
    tidy(&mut v);
    v
}

fn dry_run_note(dry_run: bool) -> &'static str {
    if dry_run {
        " (dry run: nothing was saved)"
    } else {
        ""
    }
}

/// `all_namespaces` and a namespace contradict each other: say so rather
/// than pick one silently.
pub fn check_scope(a: &GetArgs) -> Result<(), ToolError> {
    if a.all_namespaces == Some(true) && a.namespace.as_deref().is_some_and(|n| !n.is_empty()) {
        return Err(ToolError::invalid(
            "Give namespace or all_namespaces: true, not both (all_namespaces lists every namespace).",
        ));
    }
    Ok(())
}

pub async fn get(r: &'static ResourceDef, a: GetArgs, conn: &Connection) -> ToolResult {
    let yaml = a.output == Some(OutputFormat::Yaml);
    let all = a.all_namespaces.unwrap_or(false) && r.namespaced;
    let namespace = if all {
        None
    } else {
        namespace_for(r, conn, a.namespace)
    };
    let fields = a.fields.unwrap_or_default();
    let shape = |v: Value| {
        if fields.is_empty() {
            v
        } else {
            select_fields(&v, &fields)
        }
    };
    if let Some(name) = a.name.as_deref() {
        if all {
            return Err(ToolError::invalid(
                "Give either name (with namespace) or all_namespaces, not both.",
            ));
        }
        let t = Target {
            r,
            conn,
            namespace,
            name: Some(name),
            verb: "get",
        };
        let obj = t.api().get(name).await.map_err(|e| t.fail(&e))?;
        let v = shape(to_value(&obj));
        return Ok(ToolOutput::ok(render(&v, yaml), Some(v)));
    }
    let t = Target {
        r,
        conn,
        namespace,
        name: None,
        verb: "list",
    };
    let mut lp = ListParams::default();
    if let Some(sel) = a.label_selector.as_deref().filter(|s| !s.is_empty()) {
        lp = lp.labels(sel);
    }
    let list = t.api().list(&lp).await.map_err(|e| t.fail(&e))?;
    let items: Vec<Value> = list
        .items
        .iter()
        .map(|o| {
            let mut v = to_value(o);
            v["apiVersion"] = json!(r.api_version());
            v["kind"] = json!(r.kind);
            shape(v)
        })
        .collect();
    let scope = match &t.namespace {
        Some(ns) => format!("in namespace \"{ns}\""),
        None => "in all namespaces".into(),
    };
    let n = items.len();
    let v = json!({
        "apiVersion": r.api_version(),
        "kind": r.list_kind,
        "metadata": {"resourceVersion": list.metadata.resource_version},
        "items": items,
    });
    let head = format!(
        "{n} {} {scope}.\n",
        if n == 1 {
            r.kind.to_owned()
        } else {
            format!("{}s", r.kind)
        }
    );
    Ok(ToolOutput::ok(
        format!("{head}{}", render(&v, yaml)),
        Some(v),
    ))
}

/// Checks a create call's arguments without touching the cluster.
pub fn check_create(r: &'static ResourceDef, a: &CreateArgs) -> Result<(), ToolError> {
    let spec = a.spec.clone().unwrap_or_else(|| json!({}));
    if r.schema().pointer("/properties/spec").is_some() {
        validate::check_spec(r, &spec).map_err(|e| {
            ToolError::invalid(format!(
                "Invalid {} spec (nothing was sent to the cluster):\n{}\nSee explain_resource kind={} path={}.",
                r.kind, e.text, r.kind, e.path
            ))
        })?;
    }
    Ok(())
}

pub async fn create(r: &'static ResourceDef, a: CreateArgs, conn: &Connection) -> ToolResult {
    check_create(r, &a)?;
    let namespace = namespace_for(r, conn, a.namespace.clone());
    let mut meta = json!({"name": a.name});
    if let Some(ns) = &namespace {
        meta["namespace"] = json!(ns);
    }
    if let Some(l) = &a.labels {
        meta["labels"] = json!(l);
    }
    if let Some(an) = &a.annotations {
        meta["annotations"] = json!(an);
    }
    let mut obj = json!({"apiVersion": r.api_version(), "kind": r.kind, "metadata": meta});
    if let Some(spec) = a.spec {
        obj["spec"] = spec;
    }
    let obj: DynamicObject = serde_json::from_value(obj)
        .map_err(|e| ToolError::invalid(format!("Cannot build the {} object: {e}", r.kind)))?;
    let dry_run = a.dry_run.unwrap_or(false);
    let t = Target {
        r,
        conn,
        namespace,
        name: Some(&a.name),
        verb: "create",
    };
    let pp = PostParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.into()),
    };
    let result = t.api().create(&pp, &obj).await;
    t.written(
        if dry_run { "Would create" } else { "Created" },
        &a.name,
        dry_run,
        result,
    )
}

/// What a patch argument asks for.
pub enum PatchKind {
    Merge(Value),
    Json(json_patch::Patch),
}

/// Checks a patch's shape and, for merge patches, its spec against the CRD.
pub fn check_patch(r: &'static ResourceDef, patch: Value) -> Result<PatchKind, ToolError> {
    match patch {
        Value::Object(map) => {
            for key in map.keys() {
                match key.as_str() {
                    "spec" | "metadata" => {}
                    "status" if r.status_subresource => {
                        return Err(ToolError::invalid(format!(
                            "status of a {} is written by Forklift's controllers, not by clients; patch spec or metadata instead.",
                            r.kind
                        )))
                    }
                    "status" => {}
                    other => {
                        return Err(ToolError::invalid(format!(
                            "A merge patch may change spec and metadata; \"{other}\" is not patchable."
                        )))
                    }
                }
            }
            if let Some(spec) = map.get("spec") {
                validate::check_spec_patch(r, spec).map_err(|e| {
                    ToolError::invalid(format!(
                        "Invalid patch for {} (nothing was sent to the cluster):\n{}\nSee explain_resource kind={} path={}.",
                        r.kind, e.text, r.kind, e.path
                    ))
                })?;
            }
            Ok(PatchKind::Merge(Value::Object(map)))
        }
        Value::Array(ops) => {
            if ops.is_empty() {
                return Err(ToolError::invalid("The JSON Patch array is empty."));
            }
            serde_json::from_value::<json_patch::Patch>(Value::Array(ops))
                .map(PatchKind::Json)
                .map_err(|e| {
                    ToolError::invalid(format!(
                        "Invalid JSON Patch (RFC 6902): {e}. Each operation is {{\"op\": \"add|remove|replace|move|copy|test\", \"path\": \"/spec/...\", \"value\": ...}}."
                    ))
                })
        }
        _ => Err(ToolError::invalid(
            "patch must be a JSON merge patch object or a JSON Patch array.",
        )),
    }
}

pub async fn patch(r: &'static ResourceDef, a: PatchArgs, conn: &Connection) -> ToolResult {
    let kind = check_patch(r, a.patch)?;
    let namespace = namespace_for(r, conn, a.namespace);
    let dry_run = a.dry_run.unwrap_or(false);
    let t = Target {
        r,
        conn,
        namespace,
        name: Some(&a.name),
        verb: "patch",
    };
    let pp = PatchParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    let result = match kind {
        PatchKind::Merge(v) => t.api().patch(&a.name, &pp, &Patch::Merge(v)).await,
        PatchKind::Json(p) => t.api().patch(&a.name, &pp, &Patch::Json::<()>(p)).await,
    };
    t.written(
        if dry_run { "Would patch" } else { "Patched" },
        &a.name,
        dry_run,
        result,
    )
}

pub async fn delete(r: &'static ResourceDef, a: DeleteArgs, conn: &Connection) -> ToolResult {
    let namespace = namespace_for(r, conn, a.namespace);
    let dry_run = a.dry_run.unwrap_or(false);
    let t = Target {
        r,
        conn,
        namespace,
        name: Some(&a.name),
        verb: "delete",
    };
    let dp = DeleteParams {
        dry_run,
        ..Default::default()
    };
    let either = t.api().delete(&a.name, &dp).await.map_err(|e| t.fail(&e))?;
    let pending = either.left().map(|o| {
        let finalizers = o.metadata.finalizers.clone().unwrap_or_default();
        (o.metadata.deletion_timestamp.is_some(), finalizers)
    });
    let (text, state) = match pending {
        Some((true, f)) if !dry_run => (
            format!(
                "Deletion of {} started; it waits for finalizers: {}.",
                t.label(&a.name),
                f.join(", ")
            ),
            "deleting",
        ),
        _ => (
            format!("Deleted {}{}.", t.label(&a.name), dry_run_note(dry_run)),
            "deleted",
        ),
    };
    let v = json!({
        "kind": r.kind,
        "name": a.name,
        "namespace": t.namespace,
        "status": state,
        "dryRun": dry_run,
    });
    Ok(ToolOutput::ok(text, Some(v)))
}
