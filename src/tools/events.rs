//! `get_events`: Kubernetes Events about Forklift objects (by
//! involvedObject); for a plan also those of its Migrations. Newest first,
//! repeated events folded into one line with a count, bounded.

use std::sync::Arc;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, ListParams};
use kube::ResourceExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use super::forklift::{get_plan, plan_migrations, Plan};
use super::schema::{self, Hints};
use super::{
    parse_args, CallContext, Tool, ToolDefinition, ToolError, ToolOutput, ToolResult, Toolset,
};
use crate::catalogue::find_resource;
use crate::cluster::errors::Attempt;
use crate::cluster::{Connection, KubeFailure};

pub fn toolset() -> Toolset {
    Toolset {
        name: "events",
        tools: vec![Arc::new(GetEvents::new())],
    }
}

/// Default and largest number of (folded) events returned.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum EventType {
    Normal,
    Warning,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetEventsArgs {
    /// Namespace (default: the context's).
    pub namespace: Option<String>,
    /// Object kind, e.g. Plan, Migration, Provider.
    pub kind: Option<String>,
    /// Object name (a Plan includes its Migrations).
    pub name: Option<String>,
    /// Only these types, e.g. ["Warning"] (default: all).
    pub types: Option<Vec<EventType>>,
    /// Only since then: 30m, 2h, 1d back, or an RFC 3339 time.
    pub since: Option<String>,
    /// Most events after folding repeats (default 20, at most 200).
    pub limit: Option<usize>,
}

pub struct GetEvents {
    definition: ToolDefinition,
}

impl GetEvents {
    pub fn new() -> Self {
        GetEvents {
            definition: ToolDefinition::new(schema::definition::<GetEventsArgs>(
                "get_events",
                "Events about Forklift objects",
                "Recent events about a Forklift object (kind + name), e.g. why a Plan or Provider fails; without name, all Forklift events in the namespace. Newest first, repeats folded with a count.",
                Hints::READ,
            )),
        }
    }
}

impl Default for GetEvents {
    fn default() -> Self {
        Self::new()
    }
}

impl Tool for GetEvents {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
        Box::pin(run(ctx, args))
    }
}

/// Events with the same reason and message, folded.
#[derive(Debug, Clone, PartialEq)]
pub struct EventGroup {
    pub kind: String,
    pub reason: String,
    pub message: String,
    pub count: i64,
    pub last_seen: Option<Timestamp>,
    /// `Kind/name` of the objects they are about.
    pub objects: Vec<String>,
}

impl EventGroup {
    pub fn line(&self) -> String {
        let when = self
            .last_seen
            .map(|t| format!("{} ago", ago(Timestamp::now().as_second() - t.as_second())))
            .unwrap_or_else(|| "time unknown".into());
        let times = if self.count > 1 {
            format!(" (×{})", self.count)
        } else {
            String::new()
        };
        format!(
            "{} {} {}{times} on {}: {}",
            when,
            self.kind,
            self.reason,
            self.objects.join(", "),
            self.message.trim()
        )
    }

    pub fn to_json(&self) -> Value {
        json!({
            "type": self.kind,
            "reason": self.reason,
            "message": self.message,
            "count": self.count,
            "lastSeen": self.last_seen.map(|t| t.to_string()),
            "objects": self.objects,
        })
    }
}

/// "5s", "5m", "5h", "3d" for a number of seconds.
fn ago(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// When an event was last seen.
fn seen(e: &Event) -> Option<Timestamp> {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// Parses `since`: `30m`, `2h`, `1d`, `45s`, or RFC 3339.
pub fn parse_since(text: &str) -> Result<Timestamp, ToolError> {
    let t = text.trim();
    if let Ok(at) = t.parse::<Timestamp>() {
        return Ok(at);
    }
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = num.parse().map_err(|_| bad_since(text))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(bad_since(text)),
    };
    Timestamp::now()
        .checked_sub(SignedDuration::from_secs(secs))
        .map_err(|_| bad_since(text))
}

fn bad_since(text: &str) -> ToolError {
    ToolError::Arguments {
        tool: "get_events".into(),
        detail: format!(
            "since \"{text}\" is neither a duration (45s, 30m, 2h, 1d) nor an RFC 3339 time"
        ),
    }
}

/// Which events to read.
pub struct Query<'a> {
    pub namespace: &'a str,
    /// Objects by (kind, name); empty = every Forklift object (or every
    /// object of `kind_only`).
    pub objects: Vec<(String, String)>,
    pub kind_only: Option<String>,
    pub types: Option<Vec<EventType>>,
    pub since: Option<Timestamp>,
    pub limit: usize,
}

/// Reads, filters, folds and sorts events.
pub async fn query(
    conn: &Connection,
    q: &Query<'_>,
) -> Result<(Vec<EventGroup>, usize), ToolError> {
    let api: Api<Event> = Api::namespaced(conn.client.clone(), q.namespace);
    let fail = |e: kube::Error| {
        ToolError::Kube(KubeFailure::from_kube(
            &e,
            &Attempt {
                verb: "list",
                resource: "events",
                kind: "Event",
                name: None,
                namespace: Some(q.namespace),
                server: &conn.server,
                list_tool: "get_events",
            },
        ))
    };
    let mut events: Vec<Event> = Vec::new();
    if q.objects.is_empty() {
        let mut lp = ListParams::default();
        if let Some(k) = &q.kind_only {
            lp = lp.fields(&format!("involvedObject.kind={k}"));
        }
        let list = api.list(&lp).await.map_err(fail)?;
        events.extend(list.items.into_iter().filter(|e| {
            q.kind_only.is_some()
                || e.involved_object
                    .api_version
                    .as_deref()
                    .is_some_and(|v| v.starts_with("forklift.konveyor.io/"))
        }));
    } else {
        for (kind, name) in &q.objects {
            let mut sel = format!("involvedObject.name={name}");
            if !kind.is_empty() {
                sel.push_str(&format!(",involvedObject.kind={kind}"));
            }
            let list = api
                .list(&ListParams::default().fields(&sel))
                .await
                .map_err(fail)?;
            events.extend(list.items);
        }
    }
    let mut groups: Vec<EventGroup> = Vec::new();
    for e in &events {
        let kind = e.type_.clone().unwrap_or_else(|| "Normal".into());
        if let Some(types) = &q.types {
            let wanted = types.iter().any(|t| match t {
                EventType::Normal => kind == "Normal",
                EventType::Warning => kind == "Warning",
            });
            if !wanted {
                continue;
            }
        }
        let at = seen(e);
        if let (Some(since), Some(at)) = (q.since, at) {
            if at < since {
                continue;
            }
        }
        let reason = e.reason.clone().unwrap_or_default();
        let message = e.message.clone().unwrap_or_default();
        let object = format!(
            "{}/{}",
            e.involved_object.kind.as_deref().unwrap_or("?"),
            e.involved_object.name.as_deref().unwrap_or("?")
        );
        let count = e.count.map(i64::from).unwrap_or(1).max(1);
        match groups
            .iter_mut()
            .find(|g| g.reason == reason && g.message == message)
        {
            Some(g) => {
                g.count += count;
                g.last_seen = g.last_seen.max(at);
                if !g.objects.contains(&object) && g.objects.len() < 5 {
                    g.objects.push(object);
                }
                if kind == "Warning" {
                    g.kind = kind;
                }
            }
            None => groups.push(EventGroup {
                kind,
                reason,
                message,
                count,
                last_seen: at,
                objects: vec![object],
            }),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.last_seen));
    let total = groups.len();
    groups.truncate(q.limit);
    Ok((groups, total))
}

/// The plan's and its Migrations' objects, for [`Query::objects`].
pub async fn plan_objects(
    conn: &Connection,
    plan: &Plan,
) -> Result<Vec<(String, String)>, ToolError> {
    let mut objects = vec![("Plan".to_owned(), plan.name_any())];
    for m in plan_migrations(conn, plan).await? {
        objects.push(("Migration".to_owned(), m.name_any()));
    }
    Ok(objects)
}

async fn run(ctx: &CallContext, args: Value) -> ToolResult {
    let a: GetEventsArgs = parse_args("get_events", args)?;
    let since = a.since.as_deref().map(parse_since).transpose()?;
    let limit = a.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let kind = a.kind.as_deref().map(|k| match find_resource(k) {
        Some(r) => r.kind.to_owned(),
        None => k.to_owned(),
    });
    let conn = ctx.connect().await?;
    let ns = conn.namespace_or_default(a.namespace.as_deref());
    let objects = match (&kind, &a.name) {
        (Some(k), Some(n)) if k == "Plan" => {
            let plan = get_plan(&conn, &ns, n).await?;
            plan_objects(&conn, &plan).await?
        }
        (Some(k), Some(n)) => vec![(k.clone(), n.clone())],
        (None, Some(n)) => vec![(String::new(), n.clone())],
        _ => Vec::new(),
    };
    let about = match (&kind, &a.name) {
        (Some(k), Some(n)) if k == "Plan" => format!("Plan {n} and its Migrations"),
        (Some(k), Some(n)) => format!("{k} {n}"),
        (None, Some(n)) => format!("objects named {n}"),
        (Some(k), None) => format!("{k} objects"),
        (None, None) => "Forklift objects".to_owned(),
    };
    let q = Query {
        namespace: &ns,
        objects,
        kind_only: if a.name.is_none() { kind.clone() } else { None },
        types: a.types.clone(),
        since,
        limit,
    };
    let (groups, total) = query(&conn, &q).await?;
    let mut text = if groups.is_empty() {
        format!(
            "No events about {about} in namespace \"{ns}\"{}. Events expire after about an hour; the object's status (describe_plan, or the get tool) may say more.",
            if a.types.is_some() || a.since.is_some() { " matching the filters" } else { "" }
        )
    } else {
        format!(
            "{} event(s) about {about} in namespace \"{ns}\", newest first:",
            groups.len()
        )
    };
    for g in &groups {
        text.push_str(&format!("\n- {}", g.line()));
    }
    if total > groups.len() {
        text.push_str(&format!(
            "\n({} more; raise limit to see them)",
            total - groups.len()
        ));
    }
    Ok(ToolOutput::ok(
        text,
        Some(json!({
            "namespace": ns,
            "about": about,
            "events": groups.iter().map(EventGroup::to_json).collect::<Vec<_>>(),
            "total": total,
        })),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_durations_and_times() {
        let t = parse_since("30m").unwrap();
        let d = Timestamp::now().as_second() - t.as_second();
        assert!((1799..=1801).contains(&d), "{d}");
        assert_eq!(
            parse_since("2026-01-02T04:04:05+01:00")
                .unwrap()
                .to_string(),
            "2026-01-02T03:04:05Z"
        );
        let e = parse_since("yesterday").unwrap_err().to_string();
        assert!(e.contains("30m") && e.contains("RFC 3339"), "{e}");
        assert!(parse_since("5w").is_err());
    }

    #[test]
    fn ago_reads_well() {
        assert_eq!(ago(5), "5s");
        assert_eq!(ago(300), "5m");
        assert_eq!(ago(5 * 3600), "5h");
        assert_eq!(ago(3 * 86_400), "3d");
    }
}
