//! `watch_plan`: a Kubernetes watch on a Plan and its Migrations. Each status
//! change becomes a progress notification (phase, conditions that changed,
//! per-VM step and progress); the result is a summary once the plan
//! succeeds, fails or is cancelled, once `until` holds, or at the timeout.

use std::time::Duration;

use futures::future::BoxFuture;
use futures::{stream, StreamExt};
use kube::api::Api;
use kube::runtime::watcher::Event;
use kube::ResourceExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::{migration_type, Snapshot};
use crate::tools::forklift::{attempt, get_plan, migration_is_for, Migration, Plan};
use crate::tools::schema::{self, Hints};
use crate::tools::watching::{self, Ended};
use crate::tools::{parse_args, CallContext, Tool, ToolDefinition, ToolOutput, ToolResult};

/// Watch window when the caller gives none.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);
/// Longest progress message.
const MAX_MESSAGE: usize = 400;

/// A plan condition to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Until {
    Ready,
    Executing,
    Succeeded,
    Failed,
    Canceled,
    Archived,
}

impl Until {
    fn as_str(self) -> &'static str {
        match self {
            Until::Ready => "Ready",
            Until::Executing => "Executing",
            Until::Succeeded => "Succeeded",
            Until::Failed => "Failed",
            Until::Canceled => "Canceled",
            Until::Archived => "Archived",
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchPlanArgs {
    /// Plan name.
    pub name: String,
    /// Namespace (default: the context's).
    pub namespace: Option<String>,
    /// Watch for at most this long (default 60, at most 1800).
    pub timeout_seconds: Option<u64>,
    /// Stop once this plan condition holds (default: when it succeeds, fails or is canceled).
    pub until: Option<Until>,
}

pub struct WatchPlan {
    definition: ToolDefinition,
}

impl WatchPlan {
    pub fn new() -> Self {
        WatchPlan {
            definition: ToolDefinition::new(schema::definition::<WatchPlanArgs>(
                "watch_plan",
                "Watch a migration plan",
                "Follow a plan live: phase, conditions and each VM's step and progress (e.g. \"web-01: DiskTransfer 40%\") arrive as progress notifications. Returns a summary when the plan succeeds, fails or is canceled, when `until` holds, or after timeout_seconds (default 60).",
                Hints::READ,
            )),
        }
    }
}

impl Default for WatchPlan {
    fn default() -> Self {
        Self::new()
    }
}

/// One event of either watch (boxed: a Plan is large).
enum Change {
    Plan(Box<Result<Event<Plan>, kube::runtime::watcher::Error>>),
    Migration(Box<Result<Event<Migration>, kube::runtime::watcher::Error>>),
}

impl Tool for WatchPlan {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
        Box::pin(run(ctx, args))
    }

    fn time_limit(&self, args: &Value) -> Duration {
        watching::time_limit(args, DEFAULT_WINDOW)
    }
}

async fn run(ctx: &CallContext, args: Value) -> ToolResult {
    let a: WatchPlanArgs = parse_args("watch_plan", args)?;
    let window = watching::window(a.timeout_seconds, DEFAULT_WINDOW);
    let conn = ctx.connect().await?;
    let ns = conn.namespace_or_default(a.namespace.as_deref());
    let name = a.name.as_str();
    // Read it first: a missing plan is a clear error, not an empty watch.
    let mut plan = get_plan(&conn, &ns, name).await?;
    let started = Instant::now();
    let end = started + window;

    let plans: Api<Plan> = Api::namespaced(conn.watch_client.clone(), &ns);
    let migrations: Api<Migration> = Api::namespaced(conn.watch_client.clone(), &ns);
    let by_name = format!("metadata.name={name}");
    let plan_events =
        watching::stream(plans, ctx, None, Some(&by_name)).map(|e| Change::Plan(Box::new(e)));
    let migration_events =
        watching::stream(migrations, ctx, None, None).map(|e| Change::Migration(Box::new(e)));
    let events = stream::select(plan_events, migration_events);
    futures::pin_mut!(events);

    let mut migs: Vec<Migration> = Vec::new();
    let mut last: Option<Snapshot> = None;
    let mut updates = 0u64;
    let mut interruptions = 0usize;
    let mut plan_ready = false;
    let mut migrations_ready = false;
    let plan_attempt = attempt(
        "watch",
        "Plan",
        "plans.forklift.konveyor.io",
        Some(name),
        &ns,
        &conn,
        "get_plans",
    );
    let mig_attempt = attempt(
        "watch",
        "Migration",
        "migrations.forklift.konveyor.io",
        None,
        &ns,
        &conn,
        "get_migrations",
    );

    let ended = loop {
        let event = tokio::select! {
            _ = tokio::time::sleep_until(end) => break Ended::Timeout,
            e = events.next() => e,
        };
        let Some(event) = event else {
            break Ended::Timeout;
        };
        let mut deleted = false;
        match event {
            Change::Plan(e) => match *e {
                Err(e) => {
                    let f = watching::failure(e, &plan_attempt);
                    if !plan_ready && f.code.is_some() {
                        return Err(f.into());
                    }
                    interruptions += 1;
                    continue;
                }
                Ok(Event::Apply(p) | Event::InitApply(p)) => plan = p,
                Ok(Event::Delete(_)) => deleted = true,
                Ok(Event::Init) => {}
                Ok(Event::InitDone) => plan_ready = true,
            },
            Change::Migration(e) => match *e {
                Err(e) => {
                    let f = watching::failure(e, &mig_attempt);
                    if !migrations_ready && f.code.is_some() {
                        return Err(f.into());
                    }
                    interruptions += 1;
                    continue;
                }
                Ok(Event::Apply(m) | Event::InitApply(m)) => {
                    if migration_is_for(&m, &plan) {
                        migs.retain(|x| x.name_any() != m.name_any());
                        migs.push(m);
                    }
                }
                Ok(Event::Delete(m)) => migs.retain(|x| x.name_any() != m.name_any()),
                Ok(Event::Init) => migs.clear(),
                Ok(Event::InitDone) => migrations_ready = true,
            },
        }
        if deleted {
            break Ended::Deleted;
        }
        if !(plan_ready && migrations_ready) {
            continue;
        }
        let latest = latest_migration(&migs);
        let snap = Snapshot::of(&plan, latest);
        let changes = snap.changes_since(last.as_ref());
        if !changes.is_empty() {
            updates += 1;
            let mut msg = format!("{name}: {}", changes.join("; "));
            if msg.len() > MAX_MESSAGE {
                let cut = (0..=MAX_MESSAGE)
                    .rev()
                    .find(|&i| msg.is_char_boundary(i))
                    .unwrap_or(0);
                msg.truncate(cut);
                msg.push('…');
            }
            ctx.progress(updates as f64, None, &msg);
        }
        last = Some(snap);
        let snap = last.as_ref().expect("just set");
        let reached = match a.until {
            Some(u) => snap.holds(u.as_str()),
            None => snap.finished().is_some(),
        };
        if reached {
            break Ended::Reached;
        }
    };

    let snap = last.unwrap_or_else(|| Snapshot::of(&plan, latest_migration(&migs)));
    let secs = started.elapsed().as_secs();
    let why = match (ended, a.until, snap.finished()) {
        (Ended::Deleted, _, _) => "the plan was deleted".to_owned(),
        (Ended::Reached, Some(u), _) => format!("{} holds", u.as_str()),
        (Ended::Reached, None, Some(done)) => format!("the plan {}", done.to_lowercase()),
        _ => format!("timeout after {secs} s (the plan is still {})", snap.phase),
    };
    let mut text = format!(
        "Plan {ns}/{name} ({} migration): {}. Watch ended: {why}; {updates} update(s) seen.",
        migration_type(&plan),
        snap.phase
    );
    for line in snap.condition_lines() {
        text.push_str(&format!("\n  condition {line}"));
    }
    if let Some(m) = &snap.migration {
        text.push_str(&format!(
            "\n  migration {}: started {}, completed {}",
            m.name,
            m.started.as_deref().unwrap_or("-"),
            m.completed.as_deref().unwrap_or("-")
        ));
    }
    for vm in &snap.vms {
        text.push_str(&format!("\n  {}", vm.line()));
    }
    if interruptions > 0 {
        text.push_str(&format!(
            "\n  (the watch was interrupted {interruptions} time(s) and resumed)"
        ));
    }
    if ended == Ended::Timeout {
        text.push_str(&format!(
            "\nCall watch_plan again to keep following it, or describe_plan {{\"name\": \"{name}\", \"namespace\": \"{ns}\"}} for details."
        ));
    } else if snap.finished() == Some("Failed") {
        text.push_str(&format!(
            "\nSee why with describe_plan {{\"name\": \"{name}\", \"namespace\": \"{ns}\"}}."
        ));
    }
    let mut structured = snap.to_json();
    structured["plan"] = json!({"name": name, "namespace": ns});
    structured["ended"] = json!(match ended {
        Ended::Reached => snap
            .finished()
            .filter(|_| a.until.is_none())
            .map(str::to_lowercase)
            .unwrap_or_else(|| "until".into()),
        other => other.as_str().into(),
    });
    structured["seconds"] = json!(secs);
    structured["updates"] = json!(updates);
    Ok(ToolOutput::ok(text, Some(structured)))
}

/// The newest Migration (by creation time).
fn latest_migration(migs: &[Migration]) -> Option<&Migration> {
    migs.iter().max_by(|a, b| {
        a.metadata
            .creation_timestamp
            .cmp(&b.metadata.creation_timestamp)
    })
}
