//! get/create/patch/delete of any resource of the generated table, through
//! kube-rs `DynamicObject` (no per-kind code).

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

use crate::catalogue::ResourceDef;
use crate::cluster::errors::Attempt;
use crate::cluster::{Connection, KubeFailure};
use crate::tools::args::{CreateArgs, DeleteArgs, GetArgs, OutputFormat, PatchArgs};
use crate::tools::output::{render, tidy, ToolOutput};
use crate::tools::{fields, validate, ToolError, ToolResult};

/// Objects a missing name is compared with (one metadata page).
const NEAR_NAMES_SCAN: u32 = 500;
/// How long a failed call may spend finding where a missing object might be.
const NEAR_NAMES_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

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

    /// One object as the API server sent it, parsed once into JSON (a
    /// `DynamicObject` would be parsed into typed metadata, then turned back
    /// into JSON for the result), without managedFields.
    pub async fn get_json(&self, name: &str) -> Result<Value, kube::Error> {
        let ar = self.r.api_resource();
        let namespace = self.namespace.as_deref().filter(|_| self.r.namespaced);
        let url = <DynamicObject as kube::Resource>::url_path(&ar, namespace);
        let req = kube::core::Request::new(url)
            .get(name, &kube::api::GetParams::default())
            .map_err(kube::Error::BuildRequest)?;
        let mut v: Value = self.conn.client.request(req).await?;
        tidy(&mut v);
        Ok(v)
    }

    /// [`Self::fail`], and for a missing named object, where it might be: a
    /// misspelt name gets "did you mean", and a name that exists in other
    /// namespaces (a wrong or missing namespace) gets those namespaces. The
    /// look-around is a metadata list or two, on the error path only, and
    /// is left out when it fails (e.g. not permitted) or is slow.
    pub async fn fail_named(&self, err: &kube::Error, name: &str) -> ToolError {
        let failure = self.fail(err);
        let kube::Error::Api(s) = err else {
            return failure;
        };
        let this_kind = s.details.as_ref().is_some_and(|d| d.kind == self.r.plural);
        if s.code != 404 || s.reason != "NotFound" || !this_kind {
            return failure;
        }
        let ToolError::Kube(mut f) = failure else {
            return failure;
        };
        let look = tokio::time::timeout(NEAR_NAMES_WAIT, self.names_near(name));
        if let Ok(Some(hint)) = look.await {
            f.message.push_str(&hint);
        }
        ToolError::Kube(f)
    }

    async fn names_near(&self, name: &str) -> Option<String> {
        let lp = ListParams::default().limit(NEAR_NAMES_SCAN);
        let here = self.api().list_metadata(&lp).await.ok()?;
        let names: Vec<&str> = here
            .items
            .iter()
            .filter_map(|o| o.metadata.name.as_deref())
            .collect();
        let max_edits = (name.chars().count() / 4).clamp(1, 3);
        let close = crate::tools::suggest::close_matches(name, names.iter().copied(), max_edits, 3);
        if !close.is_empty() {
            let quoted: Vec<String> = close.iter().map(|c| format!("\"{c}\"")).collect();
            return Some(format!(" Did you mean {}?", quoted.join(" or ")));
        }
        if !self.r.namespaced {
            return None;
        }
        let ar = self.r.api_resource();
        let everywhere: Api<DynamicObject> = Api::all_with(self.conn.client.clone(), &ar);
        let all = everywhere.list_metadata(&lp).await.ok()?;
        let mut elsewhere: Vec<&str> = all
            .items
            .iter()
            .filter(|o| o.metadata.name.as_deref() == Some(name))
            .filter_map(|o| o.metadata.namespace.as_deref())
            .collect();
        elsewhere.sort();
        elsewhere.dedup();
        match elsewhere.as_slice() {
            [] => None,
            [one] => Some(format!(
                " A {} named \"{name}\" exists in namespace \"{one}\": pass namespace: \"{one}\".",
                self.r.kind
            )),
            many => {
                let mut listed: Vec<String> =
                    many.iter().take(5).map(|n| format!("\"{n}\"")).collect();
                if many.len() > 5 {
                    listed.push(format!("{} more", many.len() - 5));
                }
                Some(format!(
                    " {}s named \"{name}\" exist in namespaces {}: pass one as namespace.",
                    self.r.kind,
                    listed.join(", ")
                ))
            }
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
    async fn written(
        &self,
        past: &str,
        name: &str,
        dry_run: bool,
        result: Result<DynamicObject, kube::Error>,
    ) -> ToolResult {
        let obj = match result {
            Ok(obj) => obj,
            Err(e) => return Err(self.fail_named(&e, name).await),
        };
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
    r.namespaced
        .then(|| conn.namespace_or_default(given.as_deref()))
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

/// Objects in a list when the caller gives no limit, and the most it may ask.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;
/// Text budget of one get result; a list is cut at an object boundary.
pub const TEXT_BUDGET: usize = 32 * 1024;

pub async fn get(r: &'static ResourceDef, a: GetArgs, conn: &Connection) -> ToolResult {
    let yaml = a.output == Some(OutputFormat::Yaml);
    let all = a.all_namespaces.unwrap_or(false) && r.namespaced;
    let namespace = if all {
        None
    } else {
        namespace_for(r, conn, a.namespace)
    };
    let fields = a.fields.unwrap_or_default();
    let warnings = fields::unknown(r, &fields);
    let shape = |v: Value| {
        if fields.is_empty() {
            v
        } else {
            fields::select(&v, &fields)
        }
    };
    let warn = |text: &mut String, structured: &mut Value| {
        if !warnings.is_empty() {
            text.push_str(&format!("\nWarning: {}.", warnings.join("; ")));
            structured["warnings"] = json!(warnings);
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
        let obj = match t.get_json(name).await {
            Ok(obj) => obj,
            Err(e) => return Err(t.fail_named(&e, name).await),
        };
        let mut v = shape(obj);
        let mut text = render(&v, yaml);
        warn(&mut text, &mut v);
        return Ok(ToolOutput::ok(text, Some(v)));
    }
    let t = Target {
        r,
        conn,
        namespace,
        name: None,
        verb: "list",
    };
    let limit = a.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let mut lp = ListParams::default().limit(limit);
    if let Some(sel) = a.label_selector.as_deref().filter(|s| !s.is_empty()) {
        lp = lp.labels(sel);
    }
    if let Some(c) = a.continue_token.as_deref().filter(|c| !c.is_empty()) {
        lp = lp.continue_token(c);
    }
    let list = t.api().list(&lp).await.map_err(|e| t.fail(&e))?;
    let scope = match &t.namespace {
        Some(ns) => format!("in namespace \"{ns}\""),
        None => "in all namespaces".into(),
    };
    let page = list.items.len();
    let mut items: Vec<Value> = Vec::new();
    let mut size = 0;
    for o in &list.items {
        let mut v = to_value(o);
        v["apiVersion"] = json!(r.api_version());
        v["kind"] = json!(r.kind);
        let v = shape(v);
        let n = render(&v, yaml).len();
        if !items.is_empty() && size + n > TEXT_BUDGET {
            break;
        }
        size += n;
        items.push(v);
    }
    let shown = items.len();
    let (next, remaining) = if shown < page {
        // The page was cut to fit the budget: ask again for exactly the
        // objects shown, so the continue token starts right after them and
        // none of the page is skipped.
        let again = t
            .api()
            .list(&lp.clone().limit(shown as u32))
            .await
            .map_err(|e| t.fail(&e))?;
        (
            again.metadata.continue_,
            again.metadata.remaining_item_count,
        )
    } else {
        (
            list.metadata.continue_.clone(),
            list.metadata.remaining_item_count,
        )
    };
    let next = next.filter(|c| !c.is_empty());
    let mut v = json!({
        "apiVersion": r.api_version(),
        "kind": r.list_kind,
        "metadata": {"resourceVersion": list.metadata.resource_version, "continue": next},
        "items": items,
    });
    let plural = |n: usize| {
        if n == 1 {
            r.kind.to_owned()
        } else {
            format!("{}s", r.kind)
        }
    };
    let mut head = match remaining {
        Some(n) if next.is_some() => {
            format!("{shown} of {} {} {scope}", shown as i64 + n, plural(2))
        }
        _ => format!("{shown} {} {scope}", plural(shown)),
    };
    if shown == 0 && t.namespace.is_some() && a.continue_token.is_none() {
        if let Some(ns) = &t.namespace {
            if !namespace_exists(conn, ns).await {
                head.push_str(&format!(
                    " (namespace \"{ns}\" does not exist; all_namespaces: true lists everywhere)"
                ));
            }
        }
    }
    head.push_str(".\n");
    let mut tail = String::new();
    if shown < page {
        tail.push_str(&format!(
            "\nThis page stops after {shown} to stay within {TEXT_BUDGET} bytes; continue (below) goes on from the next one. For more per call, ask only for some fields (fields: [\"metadata.name\", \"status.conditions\"])."
        ));
    }
    if let Some(c) = &next {
        tail.push_str(&format!(
            "\nMore {} exist{}: call again with continue: \"{c}\" (same filters).",
            plural(2),
            remaining
                .map(|n| format!(" ({n} after this page)"))
                .unwrap_or_default()
        ));
    }
    let mut text = format!("{head}{}{tail}", render(&v, yaml));
    warn(&mut text, &mut v);
    Ok(ToolOutput::ok(text, Some(v)))
}

/// Whether a namespace exists (true when this identity cannot tell).
async fn namespace_exists(conn: &Connection, ns: &str) -> bool {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(conn.client.clone());
    !matches!(api.get_opt(ns).await, Ok(None))
}

/// Checks a create call's arguments without touching the cluster.
pub fn check_create(r: &'static ResourceDef, a: &CreateArgs) -> Result<(), ToolError> {
    let spec = a.spec.clone().unwrap_or_else(|| json!({}));
    if r.schema().pointer("/properties/spec").is_some() {
        validate::check_spec(r, &spec).map_err(|e| ToolError::Schema {
            kind: r.kind,
            text: format!(
                "Invalid {} spec (nothing was sent to the cluster):\n{}\nSee explain_resource kind={} path={}.",
                r.kind, e.text, r.kind, e.path
            ),
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
    .await
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
                validate::check_spec_patch(r, spec).map_err(|e| ToolError::Schema {
                    kind: r.kind,
                    text: format!(
                        "Invalid patch for {} (nothing was sent to the cluster):\n{}\nSee explain_resource kind={} path={}.",
                        r.kind, e.text, r.kind, e.path
                    ),
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
        PatchKind::Json(p) => {
            // Applied here first, so the result is validated like a merge
            // patch; then sent whole with the resourceVersion it was made
            // from, so a concurrent change is a conflict, never overwritten.
            let current = match t.api().get(&a.name).await {
                Ok(current) => current,
                Err(e) => return Err(t.fail_named(&e, &a.name).await),
            };
            let mut doc = serde_json::to_value(&current).unwrap_or(Value::Null);
            json_patch::patch(&mut doc, &p).map_err(|e| json_patch_error(&e, &p))?;
            if let Some(spec) = doc.get("spec") {
                validate::check_spec(r, spec).map_err(|e| ToolError::Schema {
                    kind: r.kind,
                    text: format!(
                        "The JSON Patch would make an invalid {} (nothing was sent to the cluster):\n{}\nSee explain_resource kind={} path={}.",
                        r.kind, e.text, r.kind, e.path
                    ),
                })?;
            }
            if r.status_subresource
                && doc.get("status")
                    != serde_json::to_value(&current)
                        .ok()
                        .as_ref()
                        .and_then(|c| c.get("status"))
            {
                return Err(ToolError::invalid(format!(
                    "status of a {} is written by Forklift's controllers, not by clients; patch spec or metadata instead.",
                    r.kind
                )));
            }
            doc["metadata"]["resourceVersion"] = json!(current.metadata.resource_version);
            let obj: DynamicObject = serde_json::from_value(doc).map_err(|e| {
                ToolError::invalid(format!(
                    "The JSON Patch leaves no valid {} object: {e}",
                    r.kind
                ))
            })?;
            let pp = PostParams {
                dry_run,
                field_manager: Some(FIELD_MANAGER.into()),
            };
            t.api().replace(&a.name, &pp, &obj).await
        }
    };
    t.written(
        if dry_run { "Would patch" } else { "Patched" },
        &a.name,
        dry_run,
        result,
    )
    .await
}

/// A JSON Patch that does not apply, told per operation.
fn json_patch_error(e: &json_patch::PatchError, p: &json_patch::Patch) -> ToolError {
    let op =
        p.0.get(e.operation)
            .and_then(|o| serde_json::to_value(o).ok())
            .unwrap_or_default();
    let what = match e.kind {
        json_patch::PatchErrorKind::TestFailed => format!(
            "the test failed: the object's value at {} is not {}",
            e.path, op["value"]
        ),
        json_patch::PatchErrorKind::InvalidPointer => format!(
            "the path {} does not exist in the object (an array index past the end, or a missing parent)",
            e.path
        ),
        json_patch::PatchErrorKind::InvalidFromPointer => {
            format!("the \"from\" path {} does not exist", op["from"])
        }
        _ => e.kind.to_string(),
    };
    ToolError::invalid(format!(
        "JSON Patch operation {} ({} {}) does not apply: {what}. Nothing was sent to the cluster; read the object with the get tool and retry.",
        e.operation, op["op"].as_str().unwrap_or("?"), op["path"].as_str().unwrap_or("?")
    ))
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
    let either = match t.api().delete(&a.name, &dp).await {
        Ok(either) => either,
        Err(e) => return Err(t.fail_named(&e, &a.name).await),
    };
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
