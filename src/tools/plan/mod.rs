//! Forklift plan workflows, on the generated `Plan` and `Migration` models:
//! - [`watch`]: `watch_plan`, a watch with progress notifications;
//! - [`lifecycle`]: `start_plan`, `cutover_plan`, `cancel_plan`,
//!   `archive_plan`, `unarchive_plan`;
//! - [`describe`]: `describe_plan`, what to call first when a plan fails.
//!
//! [`Snapshot`] is where a plan stands, shared by watch and describe.

pub mod describe;
pub mod lifecycle;
pub mod references;
pub mod watch;

use std::sync::Arc;

use kube::ResourceExt;
use serde_json::{json, Value};

use super::forklift::{
    is_warm, migration_conditions, migration_running, migration_vms, plan_conditions, plan_phase,
    plan_vms, Condition, Migration, Plan, VmProgress,
};
use super::Toolset;

/// Every plan workflow tool.
pub fn toolset() -> Toolset {
    Toolset {
        name: "plan",
        tools: vec![
            Arc::new(describe::DescribePlan::new()),
            Arc::new(watch::WatchPlan::new()),
            Arc::new(lifecycle::Lifecycle::new(lifecycle::Action::Start)),
            Arc::new(lifecycle::Lifecycle::new(lifecycle::Action::Cutover)),
            Arc::new(lifecycle::Lifecycle::new(lifecycle::Action::Cancel)),
            Arc::new(lifecycle::Lifecycle::new(lifecycle::Action::Archive)),
            Arc::new(lifecycle::Lifecycle::new(lifecycle::Action::Unarchive)),
        ],
    }
}

/// Where a plan stands: its conditions, its VMs and its latest Migration.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub phase: &'static str,
    pub conditions: Vec<Condition>,
    pub vms: Vec<VmProgress>,
    pub migration: Option<MigrationBrief>,
}

/// The latest Migration of a plan, briefly.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationBrief {
    pub name: String,
    pub running: bool,
    /// Whether Forklift's controller has written its status yet.
    pub picked_up: bool,
    /// Seconds since it was created.
    pub age_seconds: Option<i64>,
    pub started: Option<String>,
    pub completed: Option<String>,
    pub cutover: Option<String>,
    /// VMs whose cancellation was requested (`spec.cancel`).
    pub cancel_requested: Vec<String>,
    pub conditions: Vec<Condition>,
}

impl MigrationBrief {
    pub fn of(m: &Migration) -> Self {
        MigrationBrief {
            name: m.name_any(),
            running: migration_running(m),
            picked_up: m.status.is_some(),
            age_seconds: m
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| k8s_openapi::jiff::Timestamp::now().as_second() - t.0.as_second()),
            started: m.status.as_ref().and_then(|s| s.started.clone()),
            completed: m.status.as_ref().and_then(|s| s.completed.clone()),
            cutover: m.spec.cutover.clone(),
            cancel_requested: m
                .spec
                .cancel
                .iter()
                .flatten()
                .map(|c| c.name.clone().or_else(|| c.id.clone()).unwrap_or_default())
                .collect(),
            conditions: migration_conditions(m),
        }
    }

    /// One line: running or not, picked up or not, times, cutover, cancels.
    pub fn line(&self) -> String {
        let state = match (self.running, self.picked_up) {
            (true, false) => format!(
                "waiting for the Forklift controller (no status yet{})",
                self.age_seconds
                    .map(|a| format!(", created {a} s ago"))
                    .unwrap_or_default()
            ),
            (true, true) => "running".to_owned(),
            (false, _) => "finished".to_owned(),
        };
        let mut s = format!(
            "{}: {state}, started {}, completed {}",
            self.name,
            self.started.as_deref().unwrap_or("-"),
            self.completed.as_deref().unwrap_or("-")
        );
        if let Some(c) = &self.cutover {
            s.push_str(&format!(", cutover {c}"));
        }
        if !self.cancel_requested.is_empty() {
            s.push_str(&format!(
                ", cancel requested for {}",
                self.cancel_requested.join(", ")
            ));
        }
        s
    }

    /// A Migration the controller has not picked up within a minute.
    pub fn stalled(&self) -> bool {
        self.running && !self.picked_up && self.age_seconds.is_some_and(|a| a > 60)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "running": self.running,
            "pickedUp": self.picked_up,
            "cancelRequested": self.cancel_requested,
            "started": self.started,
            "completed": self.completed,
            "cutover": self.cutover,
            "conditions": self.conditions.iter().map(Condition::to_json).collect::<Vec<_>>(),
        })
    }
}

impl Snapshot {
    /// The plan's state; the VMs come from the latest Migration when it
    /// reports them (it is updated first), else from the plan's copy.
    pub fn of(plan: &Plan, latest: Option<&Migration>) -> Self {
        let conditions = plan_conditions(plan);
        let mut vms = latest.map(migration_vms).unwrap_or_default();
        if vms.is_empty() {
            vms = plan_vms(plan);
        }
        Snapshot {
            phase: plan_phase(&conditions),
            conditions,
            vms,
            migration: latest.map(MigrationBrief::of),
        }
    }

    /// Whether the plan's run is over: the plan says Succeeded, Failed or
    /// Canceled and its latest Migration (if any) is no longer running.
    pub fn finished(&self) -> Option<&'static str> {
        let done = ["Succeeded", "Failed", "Canceled"]
            .into_iter()
            .find(|k| self.conditions.iter().any(|c| c.kind == *k && c.is_true()))?;
        match &self.migration {
            Some(m) if m.running => None,
            _ => Some(done),
        }
    }

    /// Whether condition `kind` holds on the plan.
    pub fn holds(&self, kind: &str) -> bool {
        self.conditions
            .iter()
            .any(|c| c.kind == kind && c.is_true())
    }

    /// One line per condition that holds (with its message).
    pub fn condition_lines(&self) -> Vec<String> {
        self.conditions
            .iter()
            .filter(|c| c.is_true())
            .map(|c| match &c.message {
                Some(m) if !m.is_empty() => {
                    format!("{} ({}): {}", c.kind, c.category, m.trim_end_matches('.'))
                }
                _ => format!("{} ({})", c.kind, c.category),
            })
            .collect()
    }

    /// What changed since `before`, as short phrases (for progress messages).
    pub fn changes_since(&self, before: Option<&Snapshot>) -> Vec<String> {
        let mut out = Vec::new();
        let Some(before) = before else {
            out.push(format!("phase {}", self.phase));
            out.extend(self.vms.iter().map(VmProgress::line));
            return out;
        };
        if self.phase != before.phase {
            out.push(format!("phase {} → {}", before.phase, self.phase));
        }
        for c in &self.conditions {
            let old = before.conditions.iter().find(|o| o.kind == c.kind);
            if old.map(|o| (&o.status, &o.message)) != Some((&c.status, &c.message)) {
                let msg = c.message.as_deref().filter(|m| !m.is_empty());
                out.push(match msg {
                    Some(m) => format!("{}={}: {m}", c.kind, c.status),
                    None => format!("{}={}", c.kind, c.status),
                });
            }
        }
        for vm in &self.vms {
            let old = before.vms.iter().find(|o| o.id == vm.id);
            if old.map(VmProgress::line) != Some(vm.line()) {
                out.push(vm.line());
            }
        }
        match (&before.migration, &self.migration) {
            (None, Some(m)) => out.push(format!("Migration {} created", m.name)),
            (Some(a), Some(b)) if a.name != b.name => {
                out.push(format!("Migration {} created", b.name))
            }
            _ => {}
        }
        out
    }

    pub fn to_json(&self) -> Value {
        json!({
            "phase": self.phase,
            "conditions": self.conditions.iter().map(Condition::to_json).collect::<Vec<_>>(),
            "vms": self.vms.iter().map(VmProgress::to_json).collect::<Vec<_>>(),
            "migration": self.migration.as_ref().map(MigrationBrief::to_json),
        })
    }
}

/// "warm" or "cold" (or the plan's explicit type).
pub fn migration_type(plan: &Plan) -> String {
    match &plan.spec.r#type {
        Some(t) => serde_json::to_value(t)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "cold".into()),
        None if is_warm(plan) => "warm".into(),
        None => "cold".into(),
    }
}
