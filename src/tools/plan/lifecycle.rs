//! Plan lifecycle: `start_plan`, `cutover_plan`, `cancel_plan`,
//! `archive_plan`, `unarchive_plan`. Each reads the plan (and its
//! Migrations) first and says exactly why it refuses; each writes through
//! the generated `Plan` / `Migration` models, with server-side `dry_run`.

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::ResourceExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{references, Snapshot};
use crate::generated::models::migrations::{MigrationCancel, MigrationSpec};
use crate::tools::crud::ops::FIELD_MANAGER;
use crate::tools::forklift::{
    get_plan, is_warm, kube_failure, migration_running, migration_vms, plan_conditions,
    plan_migrations, true_condition, Migration, Plan,
};
use crate::tools::schema::{self, Hints};
use crate::tools::{
    parse_args, CallContext, Tool, ToolDefinition, ToolError, ToolOutput, ToolResult,
};

/// Which lifecycle step a tool takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Start,
    Cutover,
    Cancel,
    Archive,
    Unarchive,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartArgs {
    /// Plan name.
    pub name: String,
    /// Namespace (default: the context's).
    pub namespace: Option<String>,
    /// Warm plans: cutover time, RFC 3339 (default: in one hour; change it with cutover_plan).
    pub cutover: Option<String>,
    /// Check on the server without creating the Migration.
    pub dry_run: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CutoverArgs {
    /// Plan name.
    pub name: String,
    /// Namespace (default: the context's).
    pub namespace: Option<String>,
    /// When to cut over (RFC 3339); default: now.
    pub cutover: Option<String>,
    /// Check on the server without saving.
    pub dry_run: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelArgs {
    /// Plan name.
    pub name: String,
    /// Namespace (default: the context's).
    pub namespace: Option<String>,
    /// VMs of the plan to cancel, by name or id.
    pub vms: Vec<String>,
    /// Check on the server without saving.
    pub dry_run: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchiveArgs {
    /// Plan name.
    pub name: String,
    /// Namespace (default: the context's).
    pub namespace: Option<String>,
    /// Check on the server without saving.
    pub dry_run: Option<bool>,
}

/// One lifecycle tool.
pub struct Lifecycle {
    action: Action,
    definition: ToolDefinition,
}

impl Lifecycle {
    pub fn new(action: Action) -> Self {
        let write = |destructive, idempotent| Hints {
            read_only: false,
            destructive,
            idempotent,
        };
        let json = match action {
            Action::Start => schema::definition::<StartArgs>(
                "start_plan",
                "Start a migration plan",
                "Start a plan (creates its Migration). Refuses, saying why, a plan that is not Ready, archived, succeeded or already running. Follow it with watch_plan.",
                write(false, false),
            ),
            Action::Cutover => schema::definition::<CutoverArgs>(
                "cutover_plan",
                "Cut over a warm migration",
                "Set when a warm plan's running Migration cuts over (default: now): the source VMs are shut down and their last changes copied.",
                write(true, true),
            ),
            Action::Cancel => schema::definition::<CancelArgs>(
                "cancel_plan",
                "Cancel VMs of a running migration",
                "Cancel the migration of some of a plan's VMs (names or ids) in its running Migration.",
                write(true, true),
            ),
            Action::Archive => schema::definition::<ArchiveArgs>(
                "archive_plan",
                "Archive a migration plan",
                "Archive a plan that is not running (Forklift cleans up its migration resources; it cannot start until unarchived).",
                write(true, true),
            ),
            Action::Unarchive => schema::definition::<ArchiveArgs>(
                "unarchive_plan",
                "Unarchive a migration plan",
                "Clear a plan's archived flag so it can be used again.",
                write(false, true),
            ),
        };
        Lifecycle {
            action,
            definition: ToolDefinition::new(json),
        }
    }
}

impl Tool for Lifecycle {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
        Box::pin(async move {
            let tool = self.definition.name();
            match self.action {
                Action::Start => start(ctx, parse_args(tool, args)?).await,
                Action::Cutover => cutover(ctx, parse_args(tool, args)?).await,
                Action::Cancel => cancel(ctx, parse_args(tool, args)?).await,
                Action::Archive => archive(ctx, parse_args(tool, args)?, true).await,
                Action::Unarchive => archive(ctx, parse_args(tool, args)?, false).await,
            }
        })
    }
}

/// Parses an RFC 3339 time, or says what is expected.
fn parse_time(tool: &str, field: &str, text: &str) -> Result<Timestamp, ToolError> {
    text.trim()
        .parse::<Timestamp>()
        .map_err(|e| ToolError::Arguments {
            tool: tool.into(),
            detail: format!(
                "{field} \"{text}\" is not an RFC 3339 time ({e}); write it like 2026-12-01T22:00:00Z"
            ),
        })
}

/// RFC 3339 in UTC, to the second.
fn rfc3339(t: Timestamp) -> String {
    Timestamp::from_second(t.as_second())
        .map(|t| t.to_string())
        .unwrap_or_else(|_| t.to_string())
}

/// The plan's Migration that is under way, if any.
fn running(migs: &[Migration]) -> Option<&Migration> {
    migs.iter().rev().find(|m| migration_running(m))
}

fn how_to_follow(name: &str, ns: &str) -> String {
    format!("Follow it with watch_plan {{\"name\": \"{name}\", \"namespace\": \"{ns}\"}}.")
}

async fn start(ctx: &CallContext, a: StartArgs) -> ToolResult {
    let dry_run = a.dry_run.unwrap_or(false);
    let requested_cutover = a
        .cutover
        .as_deref()
        .map(|c| parse_time("start_plan", "cutover", c))
        .transpose()?;
    let conn = ctx.connect().await?;
    let ns = conn.namespace_or_default(a.namespace.as_deref());
    let plan = get_plan(&conn, &ns, &a.name).await?;
    let conds = plan_conditions(&plan);
    let who = format!("Plan {ns}/{}", a.name);
    if plan.spec.archived == Some(true) || true_condition(&conds, "Archived").is_some() {
        return Err(ToolError::refused(format!(
            "{who} is archived and cannot be started. Unarchive it first with unarchive_plan."
        )));
    }
    let migs = plan_migrations(&conn, &plan).await?;
    if let Some(m) = running(&migs) {
        return Err(ToolError::refused(format!(
            "{who} is already running (Migration {}). {} To stop VMs use cancel_plan.",
            m.name_any(),
            how_to_follow(&a.name, &ns)
        )));
    }
    if true_condition(&conds, "Succeeded").is_some() {
        return Err(ToolError::refused(format!(
            "{who} has already succeeded: all its VMs were migrated. Create a new plan to migrate other VMs."
        )));
    }
    if true_condition(&conds, "Ready").is_none() {
        let blockers: Vec<String> = conds
            .iter()
            .filter(|c| {
                c.is_true() && matches!(c.category.as_str(), "Critical" | "Error")
                    || (c.kind == "Ready" && !c.is_true())
            })
            .map(|c| {
                format!(
                    "{} ({}): {}",
                    c.kind,
                    c.category,
                    c.message.as_deref().unwrap_or("-").trim_end_matches('.')
                )
            })
            .collect();
        let why = if blockers.is_empty() && conds.is_empty() {
            "it has no status yet (Forklift's controller has not validated it)".to_owned()
        } else if blockers.is_empty() {
            "its Ready condition is not True".to_owned()
        } else {
            blockers.join("; ")
        };
        let fixes: Vec<String> = references::check(&conn, &plan)
            .await
            .iter()
            .filter(|r| r.is_problem())
            .map(|r| r.fix())
            .collect();
        let fix = if fixes.is_empty() {
            String::new()
        } else {
            format!(" To fix: {}.", fixes.join("; "))
        };
        return Err(ToolError::refused(format!(
            "{who} is not Ready, so it cannot be started: {why}.{fix} See describe_plan {{\"name\": \"{}\", \"namespace\": \"{ns}\"}} for details.",
            a.name
        )));
    }
    let warm = is_warm(&plan);
    let mut notes = Vec::new();
    let cutover = match (warm, requested_cutover) {
        (true, Some(t)) => Some(rfc3339(t)),
        (true, None) => {
            let t = rfc3339(
                Timestamp::now()
                    .checked_add(SignedDuration::from_hours(1))
                    .unwrap_or_else(|_| Timestamp::now()),
            );
            notes.push(format!(
                "Warm plan: cutover set to {t} (one hour from now); change it with cutover_plan."
            ));
            Some(t)
        }
        (false, Some(_)) => {
            notes.push(
                "cutover was ignored: this is a cold plan (only warm plans cut over).".to_owned(),
            );
            None
        }
        (false, None) => None,
    };
    let migration = Migration {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", a.name)),
            namespace: Some(ns.clone()),
            owner_references: Some(vec![OwnerReference {
                api_version: "forklift.konveyor.io/v1beta1".into(),
                kind: "Plan".into(),
                name: a.name.clone(),
                uid: plan.uid().unwrap_or_default(),
                ..Default::default()
            }]),
            ..Default::default()
        },
        spec: MigrationSpec {
            plan: ObjectReference {
                name: Some(a.name.clone()),
                namespace: Some(ns.clone()),
                uid: plan.uid(),
                ..Default::default()
            },
            cutover: cutover.clone(),
            ..Default::default()
        },
        status: None,
    };
    let api: Api<Migration> = Api::namespaced(conn.client.clone(), &ns);
    let pp = PostParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.into()),
    };
    let created = api
        .create(&pp, &migration)
        .await
        .map_err(|e| kube_failure(&e, "create", "Migration", None, &ns, &conn))?;
    let mname = created.name_any();
    let mut text = if dry_run {
        format!(
            "Dry run, nothing was saved: start_plan would start {who} by creating Migration {ns}/{mname}; the API server accepted it. Call again without dry_run to start it."
        )
    } else {
        format!(
            "Started {who}: created Migration {ns}/{mname}. {}",
            how_to_follow(&a.name, &ns)
        )
    };
    for n in &notes {
        text.push_str(&format!("\n{n}"));
    }
    Ok(ToolOutput::ok(
        text,
        Some(json!({
            "plan": {"name": a.name, "namespace": ns},
            "migration": mname,
            "warm": warm,
            "cutover": cutover,
            "dryRun": dry_run,
        })),
    ))
}

async fn cutover(ctx: &CallContext, a: CutoverArgs) -> ToolResult {
    let dry_run = a.dry_run.unwrap_or(false);
    let at = match a.cutover.as_deref() {
        Some(c) => parse_time("cutover_plan", "cutover", c)?,
        None => Timestamp::now(),
    };
    let conn = ctx.connect().await?;
    let ns = conn.namespace_or_default(a.namespace.as_deref());
    let plan = get_plan(&conn, &ns, &a.name).await?;
    let who = format!("Plan {ns}/{}", a.name);
    if !is_warm(&plan) {
        return Err(ToolError::refused(format!(
            "{who} is a cold migration: it has no cutover (its VMs are shut down when each one starts). Cutover applies to warm plans only."
        )));
    }
    let migs = plan_migrations(&conn, &plan).await?;
    let Some(m) = running(&migs) else {
        return Err(ToolError::refused(format!(
            "{who} has no running Migration to cut over. Start it with start_plan (with `cutover`)."
        )));
    };
    let mname = m.name_any();
    let when = rfc3339(at);
    let api: Api<Migration> = Api::namespaced(conn.client.clone(), &ns);
    let pp = PatchParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    api.patch(
        &mname,
        &pp,
        &Patch::Merge(json!({"spec": {"cutover": when}})),
    )
    .await
    .map_err(|e| kube_failure(&e, "patch", "Migration", Some(&mname), &ns, &conn))?;
    Ok(ToolOutput::ok(
        if dry_run {
            format!("Dry run, nothing was saved: would set the cutover of {who} to {when} on Migration {mname}.")
        } else {
            format!(
                "Cutover of {who} set to {when} on Migration {mname}. {}",
                how_to_follow(&a.name, &ns)
            )
        },
        Some(
            json!({"plan": {"name": a.name, "namespace": ns}, "migration": mname, "cutover": when, "dryRun": dry_run}),
        ),
    ))
}

async fn cancel(ctx: &CallContext, a: CancelArgs) -> ToolResult {
    let dry_run = a.dry_run.unwrap_or(false);
    if a.vms.is_empty() {
        return Err(ToolError::Arguments {
            tool: "cancel_plan".into(),
            detail: "vms is empty; name at least one VM of the plan".into(),
        });
    }
    let conn = ctx.connect().await?;
    let ns = conn.namespace_or_default(a.namespace.as_deref());
    let plan = get_plan(&conn, &ns, &a.name).await?;
    let who = format!("Plan {ns}/{}", a.name);
    let mut chosen: Vec<MigrationCancel> = Vec::new();
    let mut unknown = Vec::new();
    for wanted in &a.vms {
        let hit = plan.spec.vms.iter().find(|vm| {
            vm.id.as_deref() == Some(wanted.as_str()) || vm.name.as_deref() == Some(wanted.as_str())
        });
        match hit {
            Some(vm) => chosen.push(MigrationCancel {
                id: vm.id.clone(),
                name: vm.name.clone(),
                ..Default::default()
            }),
            None => unknown.push(wanted.clone()),
        }
    }
    if !unknown.is_empty() {
        let in_plan: Vec<String> = plan
            .spec
            .vms
            .iter()
            .take(50)
            .map(|vm| match (&vm.name, &vm.id) {
                (Some(n), Some(i)) => format!("{n} ({i})"),
                (Some(n), None) => n.clone(),
                (None, Some(i)) => i.clone(),
                (None, None) => "?".into(),
            })
            .collect();
        return Err(ToolError::refused(format!(
            "Not in {who}: {}. Its VMs are: {}.",
            unknown.join(", "),
            in_plan.join(", ")
        )));
    }
    let migs = plan_migrations(&conn, &plan).await?;
    let Some(m) = running(&migs) else {
        return Err(ToolError::refused(format!(
            "{who} has no running Migration, so there is nothing to cancel."
        )));
    };
    let mname = m.name_any();
    let existing: Vec<MigrationCancel> = m.spec.cancel.clone().unwrap_or_default();
    let key = |c: &MigrationCancel| c.id.clone().or_else(|| c.name.clone());
    let finished: Vec<(String, String)> = migration_vms(m)
        .into_iter()
        .filter_map(|v| {
            v.outcome
                .clone()
                .map(|o| (v.id.clone(), format!("{} ({o})", v.label())))
        })
        .collect();
    let label = |c: &MigrationCancel| c.name.clone().or_else(|| c.id.clone()).unwrap_or_default();
    let (mut added, mut already, mut done) = (Vec::new(), Vec::new(), Vec::new());
    for c in chosen {
        if let Some((_, what)) = finished.iter().find(|(id, _)| Some(id) == c.id.as_ref()) {
            done.push(what.clone());
        } else if existing.iter().any(|x| key(x) == key(&c))
            || added.iter().any(|x| key(x) == key(&c))
        {
            already.push(label(&c));
        } else {
            added.push(c);
        }
    }
    if added.is_empty() {
        let mut why = Vec::new();
        if !done.is_empty() {
            why.push(format!(
                "already finished, nothing to stop: {}",
                done.join(", ")
            ));
        }
        if !already.is_empty() {
            why.push(format!(
                "cancellation already requested: {}",
                already.join(", ")
            ));
        }
        return Err(ToolError::refused(format!(
            "Nothing to cancel in Migration {mname} of {who}: {}.",
            why.join("; ")
        )));
    }
    let names: Vec<String> = added.iter().map(label).collect();
    let mut merged = existing;
    merged.extend(added);
    let api: Api<Migration> = Api::namespaced(conn.client.clone(), &ns);
    let pp = PatchParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    api.patch(
        &mname,
        &pp,
        &Patch::Merge(json!({"spec": {"cancel": merged}})),
    )
    .await
    .map_err(|e| kube_failure(&e, "patch", "Migration", Some(&mname), &ns, &conn))?;
    let mut text = if dry_run {
        format!(
            "Dry run, nothing was saved: would request cancellation in Migration {mname} of {who}: {}.",
            names.join(", ")
        )
    } else {
        format!(
            "Cancellation requested in Migration {mname} of {who}: {}. Forklift stops these VMs' migration; {}",
            names.join(", "),
            how_to_follow(&a.name, &ns)
        )
    };
    if !done.is_empty() {
        text.push_str(&format!(
            "\nNot canceled, already finished: {}.",
            done.join(", ")
        ));
    }
    if !already.is_empty() {
        text.push_str(&format!(
            "\nAlready requested before: {}.",
            already.join(", ")
        ));
    }
    Ok(ToolOutput::ok(
        text,
        Some(
            json!({"plan": {"name": a.name, "namespace": ns}, "migration": mname, "canceled": names,
                    "alreadyFinished": done, "alreadyRequested": already, "dryRun": dry_run}),
        ),
    ))
}

async fn archive(ctx: &CallContext, a: ArchiveArgs, archived: bool) -> ToolResult {
    let dry_run = a.dry_run.unwrap_or(false);
    let conn = ctx.connect().await?;
    let ns = conn.namespace_or_default(a.namespace.as_deref());
    let plan = get_plan(&conn, &ns, &a.name).await?;
    let who = format!("Plan {ns}/{}", a.name);
    if plan.spec.archived.unwrap_or(false) == archived {
        let state = if archived { "archived" } else { "not archived" };
        return Ok(ToolOutput::ok(
            format!("{who} is already {state}; nothing changed."),
            Some(
                json!({"plan": {"name": a.name, "namespace": ns}, "archived": archived, "changed": false}),
            ),
        ));
    }
    if archived {
        let migs = plan_migrations(&conn, &plan).await?;
        if let Some(m) = running(&migs) {
            return Err(ToolError::refused(format!(
                "{who} is running (Migration {}); archiving it now would abandon the migration. Wait for it to finish (watch_plan) or cancel its VMs (cancel_plan) first.",
                m.name_any()
            )));
        }
        let snap = Snapshot::of(&plan, migs.last());
        if snap.holds("Executing") {
            return Err(ToolError::refused(format!(
                "{who} is executing; archive it once it has finished."
            )));
        }
    }
    let api: Api<Plan> = Api::namespaced(conn.client.clone(), &ns);
    let pp = PatchParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    api.patch(
        &a.name,
        &pp,
        &Patch::Merge(json!({"spec": {"archived": archived}})),
    )
    .await
    .map_err(|e| kube_failure(&e, "patch", "Plan", Some(&a.name), &ns, &conn))?;
    let verb = if archived { "Archived" } else { "Unarchived" };
    Ok(ToolOutput::ok(
        if dry_run {
            format!(
                "Dry run, nothing was saved: {who} would be {}.",
                verb.to_lowercase()
            )
        } else {
            format!("{verb} {who}.")
        },
        Some(
            json!({"plan": {"name": a.name, "namespace": ns}, "archived": archived, "changed": true, "dryRun": dry_run}),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_must_be_rfc3339() {
        assert_eq!(
            rfc3339(parse_time("t", "cutover", "2026-12-01T22:00:00.5+01:00").unwrap()),
            "2026-12-01T21:00:00Z"
        );
        let e = parse_time("t", "cutover", "tomorrow")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("RFC 3339") && e.contains("2026-12-01T22:00:00Z"),
            "{e}"
        );
    }

    #[test]
    fn lifecycle_tools_write_and_say_how() {
        for (a, name, destructive) in [
            (Action::Start, "start_plan", false),
            (Action::Cutover, "cutover_plan", true),
            (Action::Cancel, "cancel_plan", true),
            (Action::Archive, "archive_plan", true),
            (Action::Unarchive, "unarchive_plan", false),
        ] {
            let t = Lifecycle::new(a);
            assert_eq!(t.definition().name(), name);
            assert!(!t.definition().read_only(), "{name}");
            assert_eq!(t.definition().destructive(), destructive, "{name}");
            let props = &t.definition().input_schema()["properties"];
            assert!(
                props["dry_run"].is_object() && props["name"].is_object(),
                "{name}"
            );
        }
    }
}
