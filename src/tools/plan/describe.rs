//! `describe_plan`: one readable summary of a plan to reason from: its
//! conditions, the providers, maps and target namespace it names (and
//! whether they exist and are Ready), each VM's phase, step, progress and
//! error, the latest Migration, and the recent Warning events.

use futures::future::BoxFuture;
use kube::ResourceExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use super::references::{self, Reference};
use super::{migration_type, Snapshot};
use crate::tools::events::{self, EventType};
use crate::tools::forklift::{get_plan, plan_migrations};
use crate::tools::schema::{self, Hints};
use crate::tools::{parse_args, CallContext, Tool, ToolDefinition, ToolOutput, ToolResult};

/// Warning events shown.
const EVENTS: usize = 10;
/// VMs listed in the text (all are in structuredContent up to this many).
const MAX_VMS: usize = 50;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DescribePlanArgs {
    /// Plan name.
    pub name: String,
    /// Namespace (default: the context's).
    pub namespace: Option<String>,
}

pub struct DescribePlan {
    definition: ToolDefinition,
}

impl DescribePlan {
    pub fn new() -> Self {
        DescribePlan {
            definition: ToolDefinition::new(schema::definition::<DescribePlanArgs>(
                "describe_plan",
                "Describe a migration plan",
                "Call this first when a migration plan fails or to see how it is going: its conditions and messages, whether its providers, maps and target namespace exist and are Ready, each VM's step, progress and error, the latest Migration, recent Warning events, and the next step.",
                Hints::READ,
            )),
        }
    }
}

impl Default for DescribePlan {
    fn default() -> Self {
        Self::new()
    }
}

impl Tool for DescribePlan {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
        Box::pin(run(ctx, args))
    }
}

async fn run(ctx: &CallContext, args: Value) -> ToolResult {
    let a: DescribePlanArgs = parse_args("describe_plan", args)?;
    let conn = ctx.connect().await?;
    let ns = conn.namespace_or_default(a.namespace.as_deref());
    let plan = get_plan(&conn, &ns, &a.name).await?;
    let migs = plan_migrations(&conn, &plan).await?;
    let snap = Snapshot::of(&plan, migs.last());

    let refs = references::check(&conn, &plan).await;
    let tns = plan.spec.target_namespace.clone();
    let objects = {
        let mut o = vec![("Plan".to_owned(), plan.name_any())];
        o.extend(migs.iter().map(|m| ("Migration".to_owned(), m.name_any())));
        o
    };
    // Events are a help, not the answer: a plan is still described for an
    // identity that may not list events.
    let (warnings, warning_total) = events::query(
        &conn,
        &events::Query {
            namespace: &ns,
            objects,
            kind_only: None,
            types: Some(vec![EventType::Warning]),
            since: None,
            limit: EVENTS,
        },
    )
    .await
    .unwrap_or_default();

    let name = &a.name;
    let mut t = format!(
        "Plan {ns}/{name}: {} ({} migration, {} VM(s), target namespace {tns}){}",
        snap.phase,
        migration_type(&plan),
        plan.spec.vms.len(),
        if plan.spec.archived == Some(true) {
            ", archived"
        } else {
            ""
        }
    );
    if let Some(d) = plan.spec.description.as_deref().filter(|d| !d.is_empty()) {
        t.push_str(&format!("\nDescription: {d}"));
    }
    t.push_str("\nConditions:");
    if snap.conditions.is_empty() {
        t.push_str(" none yet (the Forklift controller has not reconciled this plan)");
    }
    for c in &snap.conditions {
        t.push_str(&format!(
            "\n  {}={} [{}]{}",
            c.kind,
            c.status,
            c.category,
            c.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ));
    }
    t.push_str("\nReferences:");
    for r in &refs {
        let place = if r.namespace.is_empty() {
            String::new()
        } else {
            format!(" in {}", r.namespace)
        };
        t.push_str(&format!(
            "\n  {} {} {}{place}: {}",
            r.role,
            r.kind,
            r.name,
            r.verdict()
        ));
    }
    match &snap.migration {
        Some(m) => t.push_str(&format!("\nLatest migration {}", m.line())),
        None => t.push_str("\nNo migration has been started (start_plan starts one)."),
    }
    if !snap.vms.is_empty() {
        t.push_str("\nVMs:");
        for vm in snap.vms.iter().take(MAX_VMS) {
            t.push_str(&format!("\n  {}", vm.line()));
        }
    } else {
        let names: Vec<String> = plan
            .spec
            .vms
            .iter()
            .take(MAX_VMS)
            .map(|v| v.name.clone().or_else(|| v.id.clone()).unwrap_or_default())
            .collect();
        t.push_str(&format!("\nVMs (not migrated yet): {}", names.join(", ")));
    }
    if plan.spec.vms.len() > MAX_VMS {
        t.push_str(&format!("\n  … and {} more", plan.spec.vms.len() - MAX_VMS));
    }
    if warnings.is_empty() {
        t.push_str("\nRecent Warning events: none.");
    } else {
        t.push_str("\nRecent Warning events:");
        for g in &warnings {
            t.push_str(&format!("\n  {}", g.line()));
        }
    }
    let next = next_steps(&snap, &refs, name, &ns);
    if !next.is_empty() {
        t.push_str("\nNext:");
        for n in &next {
            t.push_str(&format!("\n  - {n}"));
        }
    }

    let mut structured = snap.to_json();
    structured["plan"] = json!({"name": name, "namespace": ns, "targetNamespace": tns,
        "type": migration_type(&plan), "archived": plan.spec.archived.unwrap_or(false),
        "vmCount": plan.spec.vms.len()});
    structured["references"] = json!(refs.iter().map(Reference::to_json).collect::<Vec<_>>());
    structured["warnings"] = json!(warnings.iter().map(|g| g.to_json()).collect::<Vec<_>>());
    structured["warningTotal"] = json!(warning_total);
    structured["next"] = json!(next);
    if let Some(vms) = structured["vms"].as_array_mut() {
        vms.truncate(MAX_VMS);
    }
    Ok(ToolOutput::ok(t, Some(structured)))
}

/// What to do next, from where the plan stands.
fn next_steps(snap: &Snapshot, refs: &[Reference], name: &str, ns: &str) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(refs.iter().filter(|r| r.is_problem()).map(Reference::fix));
    let failed: Vec<&str> = snap
        .vms
        .iter()
        .filter(|v| v.error.is_some() || v.outcome.as_deref() == Some("Failed"))
        .map(|v| v.label())
        .collect();
    if !failed.is_empty() {
        out.push(format!(
            "read the migration pods' logs: get_logs {{\"plan\": \"{name}\", \"namespace\": \"{ns}\", \"grep\": \"(?i)error|fail\"}} (failed: {})",
            failed.join(", ")
        ));
        out.push(
            "once the cause is fixed and the running migration has ended, start_plan again: Forklift migrates again only the VMs that did not succeed"
                .into(),
        );
    }
    if snap.migration.as_ref().is_some_and(|m| m.stalled()) {
        out.push(
            "the Forklift controller has not picked up the latest Migration: check it runs (get_logs without plan reads its logs)"
                .into(),
        );
    }
    match snap.phase {
        "Ready" if snap.migration.is_none() => out.push(format!(
            "start it: start_plan {{\"name\": \"{name}\", \"namespace\": \"{ns}\"}}"
        )),
        "Executing" | "Running" => out.push(format!(
            "follow it: watch_plan {{\"name\": \"{name}\", \"namespace\": \"{ns}\"}}"
        )),
        "Not Ready" if refs.iter().all(|r| !r.is_problem()) => out.push(
            "fix what the conditions above name; Forklift re-validates the plan on every change"
                .into(),
        ),
        _ => {}
    }
    out
}
