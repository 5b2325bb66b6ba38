//! Forklift facts the workflow tools share, read from the generated typed
//! models: conditions, per-VM pipeline progress, a plan's Migrations.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{Api, ListParams};
use kube::ResourceExt;
use serde_json::{json, Value};

use super::ToolError;
use crate::cluster::errors::Attempt;
use crate::cluster::{Connection, KubeFailure};
pub use crate::generated::models::migrations::Migration;
pub use crate::generated::models::networkmaps::NetworkMap;
pub use crate::generated::models::plans::Plan;
pub use crate::generated::models::providers::Provider;
pub use crate::generated::models::storagemaps::StorageMap;

/// One Forklift condition (the same shape on every Forklift kind).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub kind: String,
    pub status: String,
    pub category: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub last_transition_time: String,
}

impl Condition {
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }

    pub fn to_json(&self) -> Value {
        json!({
            "type": self.kind,
            "status": self.status,
            "category": self.category,
            "reason": self.reason,
            "message": self.message,
            "lastTransitionTime": self.last_transition_time,
        })
    }
}

/// Turns any generated condition list into [`Condition`]s (their fields have
/// the same names on every kind).
macro_rules! conditions_of {
    ($list:expr) => {
        $list
            .into_iter()
            .flatten()
            .map(|c| Condition {
                kind: c.r#type.clone(),
                status: c.status.clone(),
                category: c.category.clone(),
                reason: c.reason.clone(),
                message: c.message.clone(),
                last_transition_time: c.last_transition_time.clone(),
            })
            .collect::<Vec<Condition>>()
    };
}

pub fn plan_conditions(plan: &Plan) -> Vec<Condition> {
    conditions_of!(plan.status.as_ref().and_then(|s| s.conditions.as_ref()))
}

pub fn migration_conditions(m: &Migration) -> Vec<Condition> {
    conditions_of!(m.status.as_ref().and_then(|s| s.conditions.as_ref()))
}

pub fn provider_conditions(p: &Provider) -> Vec<Condition> {
    conditions_of!(p.status.as_ref().and_then(|s| s.conditions.as_ref()))
}

pub fn network_map_conditions(m: &NetworkMap) -> Vec<Condition> {
    conditions_of!(m.status.as_ref().and_then(|s| s.conditions.as_ref()))
}

pub fn storage_map_conditions(m: &StorageMap) -> Vec<Condition> {
    conditions_of!(m.status.as_ref().and_then(|s| s.conditions.as_ref()))
}

/// The condition of this type that is True, if any.
pub fn true_condition<'a>(conds: &'a [Condition], kind: &str) -> Option<&'a Condition> {
    conds.iter().find(|c| c.kind == kind && c.is_true())
}

/// One VM of a running or finished migration.
#[derive(Debug, Clone, PartialEq)]
pub struct VmProgress {
    pub id: String,
    pub name: String,
    /// The itinerary phase (e.g. `CopyDisks`, `Completed`).
    pub phase: String,
    /// The pipeline step under way (or the last one).
    pub step: Option<String>,
    /// Progress of that step, `completed/total` in its own unit.
    pub step_progress: Option<(i64, i64)>,
    pub error: Option<String>,
    /// `Succeeded`, `Failed` or `Canceled` once the VM is done.
    pub outcome: Option<String>,
    pub started: Option<String>,
    pub completed: Option<String>,
}

impl VmProgress {
    /// Percent of the current step, when it has a total.
    pub fn percent(&self) -> Option<u32> {
        self.step_progress
            .filter(|(_, t)| *t > 0)
            .map(|(c, t)| ((c.max(0) as f64 / t as f64) * 100.0).min(100.0) as u32)
    }

    /// e.g. `web-01: DiskTransfer 40%`, `web-01: Completed (Succeeded)`.
    pub fn line(&self) -> String {
        let mut s = format!("{}: ", self.label());
        match (&self.outcome, &self.step) {
            (Some(o), _) => s.push_str(&format!("{} ({o})", self.phase)),
            (None, Some(step)) => {
                s.push_str(step);
                if let Some(p) = self.percent() {
                    s.push_str(&format!(" {p}%"));
                }
            }
            (None, None) => s.push_str(&self.phase),
        }
        if let Some(e) = &self.error {
            s.push_str(&format!(" — error: {e}"));
        }
        s
    }

    pub fn label(&self) -> &str {
        if self.name.is_empty() {
            &self.id
        } else {
            &self.name
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "phase": self.phase,
            "step": self.step,
            "stepProgress": self.step_progress.map(|(c, t)| json!({"completed": c, "total": t})),
            "percent": self.percent(),
            "error": self.error,
            "outcome": self.outcome,
            "started": self.started,
            "completed": self.completed,
        })
    }
}

/// Reads a generated per-VM status (Plan's `status.migration.vms[]` or
/// Migration's `status.vms[]`: the same fields) into [`VmProgress`].
macro_rules! vm_progress_of {
    ($vm:expr) => {{
        let vm = $vm;
        let current = vm
            .pipeline
            .iter()
            .find(|p| p.started.is_some() && p.completed.is_none())
            .or_else(|| vm.pipeline.iter().rev().find(|p| p.started.is_some()));
        let step_error = current
            .and_then(|p| p.error.as_ref())
            .map(|e| format!("{}: {}", e.phase, e.reasons.join("; ")));
        let outcome = vm
            .conditions
            .iter()
            .flatten()
            .find(|c| {
                c.status == "True"
                    && matches!(c.r#type.as_str(), "Succeeded" | "Failed" | "Canceled")
            })
            .map(|c| c.r#type.clone());
        VmProgress {
            id: vm.id.clone().unwrap_or_default(),
            name: vm.name.clone().unwrap_or_default(),
            phase: vm.phase.clone(),
            step: current.map(|p| p.name.clone()),
            step_progress: current.map(|p| (p.progress.completed, p.progress.total)),
            error: vm
                .error
                .as_ref()
                .map(|e| format!("{}: {}", e.phase, e.reasons.join("; ")))
                .or(step_error),
            outcome,
            started: vm.started.clone(),
            completed: vm.completed.clone(),
        }
    }};
}

/// The VMs of the plan's current (or last) migration, from the plan's status.
pub fn plan_vms(plan: &Plan) -> Vec<VmProgress> {
    plan.status
        .as_ref()
        .and_then(|s| s.migration.as_ref())
        .and_then(|m| m.vms.as_ref())
        .map(|vms| vms.iter().map(|vm| vm_progress_of!(vm)).collect())
        .unwrap_or_default()
}

/// The VMs of a Migration, from its status.
pub fn migration_vms(m: &Migration) -> Vec<VmProgress> {
    m.status
        .as_ref()
        .and_then(|s| s.vms.as_ref())
        .map(|vms| vms.iter().map(|vm| vm_progress_of!(vm)).collect())
        .unwrap_or_default()
}

/// Whether the plan migrates warm (`spec.type: warm`, or the older `spec.warm`).
pub fn is_warm(plan: &Plan) -> bool {
    use crate::generated::models::plans::PlanType;
    match &plan.spec.r#type {
        Some(t) => *t == PlanType::Warm,
        None => plan.spec.warm == Some(true),
    }
}

/// One word for where a plan stands, by Forklift's condition precedence.
pub fn plan_phase(conds: &[Condition]) -> &'static str {
    for (kind, word) in [
        ("Failed", "Failed"),
        ("Succeeded", "Succeeded"),
        ("Canceled", "Canceled"),
        ("Executing", "Executing"),
        ("Running", "Running"),
        ("Archived", "Archived"),
        ("Ready", "Ready"),
    ] {
        if true_condition(conds, kind).is_some() {
            return word;
        }
    }
    "Not Ready"
}

/// Whether a Migration is still under way: not completed and without a
/// Succeeded, Failed or Canceled condition. A new Migration the controller
/// has not picked up yet counts too, so a plan is never started twice.
pub fn migration_running(m: &Migration) -> bool {
    let conds = migration_conditions(m);
    let ended = ["Succeeded", "Failed", "Canceled"]
        .iter()
        .any(|k| true_condition(&conds, k).is_some());
    !ended
        && m.status
            .as_ref()
            .and_then(|s| s.completed.as_ref())
            .is_none()
}

/// Whether a Migration is for this plan: by uid when both have one, else by
/// name and namespace.
pub fn migration_is_for(m: &Migration, plan: &Plan) -> bool {
    let r: &ObjectReference = &m.spec.plan;
    match (&r.uid, &plan.metadata.uid) {
        (Some(a), Some(b)) if !a.is_empty() => a == b,
        _ => {
            r.name.as_deref() == Some(plan.name_any().as_str())
                && r.namespace
                    .as_deref()
                    .is_none_or(|ns| ns.is_empty() || Some(ns) == plan.namespace().as_deref())
        }
    }
}

/// What a failed call in these tools was doing, for error messages.
pub fn attempt<'a>(
    verb: &'a str,
    kind: &'a str,
    resource: &'a str,
    name: Option<&'a str>,
    namespace: &'a str,
    conn: &'a Connection,
    list_tool: &'a str,
) -> Attempt<'a> {
    Attempt {
        verb,
        resource,
        kind,
        name,
        namespace: Some(namespace),
        server: &conn.server,
        list_tool,
    }
}

/// A failed call on a Forklift kind as a tool error; the resource and the
/// tool that lists it follow from the kind.
pub fn kube_failure(
    e: &kube::Error,
    verb: &str,
    kind: &str,
    name: Option<&str>,
    namespace: &str,
    conn: &Connection,
) -> ToolError {
    let r = crate::catalogue::find_resource(kind).expect("a Forklift kind");
    let resource = format!("{}.{}", r.plural, r.group);
    let list_tool = format!("get_{}", r.plural);
    ToolError::Kube(KubeFailure::from_kube(
        e,
        &attempt(verb, kind, &resource, name, namespace, conn, &list_tool),
    ))
}

/// Reads a Plan, or says clearly that it is missing (and where a plan of
/// that name does exist, when the caller may list plans cluster-wide).
pub async fn get_plan(conn: &Connection, namespace: &str, name: &str) -> Result<Plan, ToolError> {
    let api: Api<Plan> = Api::namespaced(conn.client.clone(), namespace);
    match api.get(name).await {
        Ok(p) => Ok(p),
        Err(e) => {
            let mut f = KubeFailure::from_kube(
                &e,
                &attempt(
                    "get",
                    "Plan",
                    "plans.forklift.konveyor.io",
                    Some(name),
                    namespace,
                    conn,
                    "get_plans",
                ),
            );
            if f.code == Some(404) {
                let all: Api<Plan> = Api::all(conn.client.clone());
                let lp = ListParams::default().fields(&format!("metadata.name={name}"));
                if let Ok(list) = all.list(&lp).await {
                    let found: Vec<String> =
                        list.items.iter().filter_map(|p| p.namespace()).collect();
                    if !found.is_empty() {
                        let more = found.len().saturating_sub(5);
                        f.message.push_str(&format!(
                            " A Plan named \"{name}\" exists in namespace(s): {}{}.",
                            found[..found.len().min(5)].join(", "),
                            if more > 0 {
                                format!(" and {more} more")
                            } else {
                                String::new()
                            }
                        ));
                    }
                }
            }
            Err(ToolError::Kube(f))
        }
    }
}

/// The plan's Migrations, oldest first.
pub async fn plan_migrations(conn: &Connection, plan: &Plan) -> Result<Vec<Migration>, ToolError> {
    let ns = plan.namespace().unwrap_or_default();
    let api: Api<Migration> = Api::namespaced(conn.client.clone(), &ns);
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| kube_failure(&e, "list", "Migration", None, &ns, conn))?;
    let mut ms: Vec<Migration> = list
        .items
        .into_iter()
        .filter(|m| migration_is_for(m, plan))
        .collect();
    ms.sort_by(|a, b| {
        a.metadata
            .creation_timestamp
            .cmp(&b.metadata.creation_timestamp)
            .then_with(|| a.name_any().cmp(&b.name_any()))
    });
    Ok(ms)
}

/// A one-line status of any object: its phase and the conditions that hold.
pub fn status_brief(obj: &Value) -> String {
    let status = &obj["status"];
    let mut parts = Vec::new();
    if let Some(p) = status["phase"].as_str() {
        parts.push(format!("phase {p}"));
    }
    let held: Vec<&str> = status["conditions"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter(|c| c["status"] == "True")
                .filter_map(|c| c["type"].as_str())
                .collect()
        })
        .unwrap_or_default();
    if !held.is_empty() {
        parts.push(held.join(", "));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(status: Value) -> Plan {
        serde_json::from_value(json!({
            "apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Plan",
            "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
            "spec": {"targetNamespace": "t", "provider": {"source": {"name": "s"}, "destination": {"name": "d"}},
                     "map": {"network": {"name": "n"}, "storage": {"name": "st"}}, "vms": [{"name": "web-01", "id": "vm-1"}]},
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn reads_vm_pipeline_progress_and_errors() {
        let p = plan(json!({
            "conditions": [{"type": "Executing", "status": "True", "category": "Advisory", "lastTransitionTime": "2026-01-01T00:00:00Z"}],
            "migration": {"vms": [
                {"id": "vm-1", "name": "web-01", "phase": "CopyDisks", "started": "2026-01-01T00:00:00Z", "pipeline": [
                    {"name": "Initialize", "phase": "Completed", "progress": {"completed": 1, "total": 1}, "started": "x", "completed": "y"},
                    {"name": "DiskTransfer", "phase": "Running", "progress": {"completed": 400, "total": 1000}, "started": "x"},
                    {"name": "ImageConversion", "phase": "Pending", "progress": {"completed": 0, "total": 1}}]},
                {"id": "vm-2", "name": "db-01", "phase": "Completed", "error": {"phase": "CopyDisks", "reasons": ["disk full"]},
                 "conditions": [{"type": "Failed", "status": "True", "category": "Critical", "lastTransitionTime": "x"}],
                 "pipeline": [{"name": "DiskTransfer", "phase": "Completed", "progress": {"completed": 5, "total": 10}, "started": "x", "completed": "y"}]}
            ]}
        }));
        let vms = plan_vms(&p);
        assert_eq!(vms[0].line(), "web-01: DiskTransfer 40%");
        assert_eq!(
            vms[1].line(),
            "db-01: Completed (Failed) — error: CopyDisks: disk full"
        );
        assert_eq!(plan_phase(&plan_conditions(&p)), "Executing");
        assert!(!is_warm(&p));
    }

    #[test]
    fn status_brief_names_phase_and_true_conditions() {
        let v = json!({"status": {"phase": "Ready", "conditions": [
            {"type": "Ready", "status": "True"}, {"type": "Failed", "status": "False"}]}});
        assert_eq!(status_brief(&v), "phase Ready; Ready");
        assert_eq!(status_brief(&json!({})), "");
    }
}
