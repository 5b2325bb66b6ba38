//! `get_logs`: logs of the forklift-controller (its pods found by label in
//! the operator's namespace) or of a plan's migration pods (found by the
//! `plan=<uid>` label Forklift puts on them in the target namespace), or of
//! one named pod. Bounded in size and optionally filtered.
//!
//! Logs come from the kubelet through the API server; a kubelet that does
//! not answer is a clear error after `--kubelet-timeout`, never a hang.

use std::sync::Arc;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams};
use kube::ResourceExt;
use regex::Regex;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use super::forklift::get_plan;
use super::schema::{self, Hints};
use super::{
    parse_args, CallContext, Tool, ToolDefinition, ToolError, ToolOutput, ToolResult, Toolset,
};
use crate::cluster::errors::Attempt;
use crate::cluster::{install, Connection, KubeFailure};

pub fn toolset() -> Toolset {
    Toolset {
        name: "logs",
        tools: vec![Arc::new(GetLogs::new())],
    }
}

const DEFAULT_TAIL: i64 = 200;
const MAX_TAIL: i64 = 5000;
const DEFAULT_BYTES: usize = 16 * 1024;
const MAX_BYTES: usize = 256 * 1024;
/// Most pods read in one call.
const MAX_PODS: usize = 5;
/// Labels of the forklift-controller pods (Forklift's operator templates).
pub const CONTROLLER_LABELS: &str = "app=forklift,control-plane=controller-manager";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetLogsArgs {
    /// Of the plan or pod; for the controller, where Forklift runs (default: found from its CRDs).
    pub namespace: Option<String>,
    /// A plan: read its migration pods instead.
    pub plan: Option<String>,
    /// One pod by name instead.
    pub pod: Option<String>,
    /// Container (controller: main, the default, or inventory).
    pub container: Option<String>,
    /// Last lines per pod (default 200, at most 5000).
    pub tail_lines: Option<i64>,
    /// Only lines from the last N seconds.
    pub since_seconds: Option<i64>,
    /// Keep lines matching this regex, e.g. "(?i)error|fail".
    pub grep: Option<String>,
    /// Most bytes of log text (default 16384, at most 262144); the newest lines are kept.
    pub max_bytes: Option<usize>,
}

pub struct GetLogs {
    definition: ToolDefinition,
}

impl GetLogs {
    pub fn new() -> Self {
        GetLogs {
            definition: ToolDefinition::new(schema::definition::<GetLogsArgs>(
                "get_logs",
                "Logs of Forklift and migration pods",
                "Recent logs of the forklift-controller (default), of a plan's migration pods (`plan`), or of one pod (`pod`), filtered by `grep` and bounded.",
                Hints::READ,
            )),
        }
    }
}

impl Default for GetLogs {
    fn default() -> Self {
        Self::new()
    }
}

impl Tool for GetLogs {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
        Box::pin(run(ctx, args))
    }
}

fn pods_failure(
    e: &kube::Error,
    verb: &str,
    name: Option<&str>,
    ns: &str,
    conn: &Connection,
) -> ToolError {
    ToolError::Kube(KubeFailure::from_kube(
        e,
        &Attempt {
            verb,
            resource: "pods",
            kind: "Pod",
            name,
            namespace: Some(ns),
            server: &conn.server,
            list_tool: "get_logs",
        },
    ))
}

/// Which pods to read, and how they were found (for messages).
struct Found {
    pods: Vec<Pod>,
    how: String,
}

async fn find_pods(conn: &Connection, a: &GetLogsArgs) -> Result<Found, ToolError> {
    if let Some(name) = &a.pod {
        let ns = conn.namespace_or_default(a.namespace.as_deref());
        let api: Api<Pod> = Api::namespaced(conn.client.clone(), &ns);
        let pod = api
            .get(name)
            .await
            .map_err(|e| pods_failure(&e, "get", Some(name), &ns, conn))?;
        return Ok(Found {
            pods: vec![pod],
            how: format!("pod {ns}/{name}"),
        });
    }
    if let Some(plan_name) = &a.plan {
        let ns = conn.namespace_or_default(a.namespace.as_deref());
        let plan = get_plan(conn, &ns, plan_name).await?;
        let uid = plan.uid().unwrap_or_default();
        let target = plan.spec.target_namespace.clone();
        let api: Api<Pod> = Api::namespaced(conn.client.clone(), &target);
        let selector = format!("plan={uid}");
        let list = api
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| pods_failure(&e, "list", None, &target, conn))?;
        return Ok(Found {
            pods: list.items,
            how: format!("migration pods of plan {ns}/{plan_name} in \"{target}\""),
        });
    }
    let candidates: Vec<String> = match &a.namespace {
        Some(ns) if !ns.is_empty() => vec![ns.clone()],
        _ => {
            let mut v = Vec::new();
            if let Some(op) = install::operator(conn).await {
                v.push(op.namespace);
            }
            for ns in install::DEFAULT_NAMESPACES {
                if !v.iter().any(|x| x == ns) {
                    v.push(ns.to_owned());
                }
            }
            v
        }
    };
    let mut tried = Vec::new();
    // Then anywhere the caller may list pods.
    let anywhere = Api::<Pod>::all(conn.client.clone());
    for ns in &candidates {
        let api: Api<Pod> = Api::namespaced(conn.client.clone(), ns);
        match api
            .list(&ListParams::default().labels(CONTROLLER_LABELS))
            .await
        {
            Ok(list) if !list.items.is_empty() => {
                return Ok(Found {
                    pods: list.items,
                    how: format!("forklift-controller in \"{ns}\""),
                })
            }
            Ok(_) => tried.push(format!("{ns} (no pod labelled {CONTROLLER_LABELS})")),
            Err(kube::Error::Api(s)) if s.code == 403 => tried.push(format!("{ns} (forbidden)")),
            Err(e) => return Err(pods_failure(&e, "list", None, ns, conn)),
        }
    }
    if a.namespace.as_deref().is_none_or(str::is_empty) {
        match anywhere
            .list(&ListParams::default().labels(CONTROLLER_LABELS))
            .await
        {
            Ok(list) if !list.items.is_empty() => {
                let ns = list.items[0].namespace().unwrap_or_default();
                return Ok(Found {
                    pods: list.items,
                    how: format!("forklift-controller in \"{ns}\""),
                });
            }
            Ok(_) => tried.push("all namespaces (none)".into()),
            Err(_) => tried.push("all namespaces (not allowed for this identity)".into()),
        }
    }
    Err(ToolError::refused(format!(
        "No forklift-controller pod found; looked in: {}. Forklift's controller may not run in this cluster, or in a namespace this identity cannot read: pass that namespace, or `plan` / `pod` for migration pods.",
        tried.join(", ")
    )))
}

/// Cuts `text` to its last `max` bytes, at a line start.
fn keep_tail(text: &str, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text.to_owned(), false);
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let cut = &text[start..];
    let cut = cut.find('\n').map(|i| &cut[i + 1..]).unwrap_or(cut);
    (cut.to_owned(), true)
}

async fn run(ctx: &CallContext, args: Value) -> ToolResult {
    let a: GetLogsArgs = parse_args("get_logs", args)?;
    if a.plan.is_some() && a.pod.is_some() {
        return Err(ToolError::Arguments {
            tool: "get_logs".into(),
            detail: "give plan or pod, not both".into(),
        });
    }
    let grep = match a.grep.as_deref().filter(|g| !g.is_empty()) {
        Some(g) => Some(Regex::new(g).map_err(|e| ToolError::Arguments {
            tool: "get_logs".into(),
            detail: format!("grep is not a valid regular expression: {e}"),
        })?),
        None => None,
    };
    let tail = a.tail_lines.unwrap_or(DEFAULT_TAIL).clamp(1, MAX_TAIL);
    let budget = a.max_bytes.unwrap_or(DEFAULT_BYTES).clamp(256, MAX_BYTES);
    let conn = ctx.connect().await?;
    let found = find_pods(&conn, &a).await?;
    if found.pods.is_empty() {
        let plan = a.plan.as_deref().unwrap_or_default();
        return Ok(ToolOutput::ok(
            format!(
                "No {}: Forklift creates them (labelled plan=<plan uid>) while VMs are converted or copied, so before a migration starts or after cleanup there are none. describe_plan shows where plan {plan} stands; get_logs without `plan` reads the forklift-controller.",
                found.how
            ),
            Some(json!({"source": found.how, "pods": []})),
        ));
    }
    let mut pods = found.pods;
    pods.sort_by(|x, y| {
        y.metadata
            .creation_timestamp
            .cmp(&x.metadata.creation_timestamp)
    });
    let skipped = pods.len().saturating_sub(MAX_PODS);
    pods.truncate(MAX_PODS);
    let per_pod = budget / pods.len().max(1);
    let timeout = ctx.settings.kubelet_timeout;

    let mut text = format!("Logs of {}", found.how);
    if let Some(g) = &grep {
        text.push_str(&format!(" (lines matching /{g}/)"));
    }
    text.push(':');
    let mut results = Vec::new();
    let mut failures = 0;
    for pod in &pods {
        let name = pod.name_any();
        let ns = pod.namespace().unwrap_or_default();
        let spec = pod.spec.clone().unwrap_or_default();
        let container = a.container.clone().or_else(|| {
            (spec.containers.len() > 1)
                .then(|| {
                    spec.containers
                        .iter()
                        .find(|c| c.name == "main")
                        .map(|c| c.name.clone())
                })
                .flatten()
        });
        let phase = pod
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".into());
        let node = spec.node_name.clone();
        let head = format!(
            "\n== pod {ns}/{name}{} (phase {phase}{})",
            container
                .as_deref()
                .map(|c| format!(" container {c}"))
                .unwrap_or_default(),
            node.as_deref()
                .map(|n| format!(", node {n}"))
                .unwrap_or_default()
        );
        text.push_str(&head);
        let mut entry = json!({
            "pod": name, "namespace": ns, "container": container, "phase": phase, "node": node,
        });
        if node.is_none() {
            let msg = format!(
                "no logs yet: the pod is not scheduled on a node (phase {phase}), so no container has run"
            );
            text.push_str(&format!("\n{msg}"));
            entry["note"] = json!(msg);
            results.push(entry);
            continue;
        }
        let api: Api<Pod> = Api::namespaced(conn.client.clone(), &ns);
        let lp = LogParams {
            container: container.clone(),
            tail_lines: Some(tail),
            since_seconds: a.since_seconds.filter(|s| *s > 0),
            limit_bytes: Some((MAX_BYTES * 4) as i64),
            ..Default::default()
        };
        let read = tokio::time::timeout(timeout, api.logs(&name, &lp)).await;
        let log = match read {
            Err(_) => {
                let msg = format!(
                    "no logs: the kubelet on node {} did not answer within {} s (is the node up?)",
                    node.as_deref().unwrap_or("?"),
                    timeout.as_secs()
                );
                text.push_str(&format!("\n{msg}"));
                entry["error"] = json!(msg);
                failures += 1;
                results.push(entry);
                continue;
            }
            Ok(Err(e)) => {
                let msg = match &e {
                    kube::Error::Api(s) => format!(
                        "no logs: the API server answered {} {}: {}",
                        s.code,
                        s.reason,
                        s.message.trim()
                    ),
                    other => format!("no logs: {}", crate::cluster::errors::error_chain(other)),
                };
                text.push_str(&format!("\n{msg}"));
                entry["error"] = json!(msg);
                failures += 1;
                results.push(entry);
                continue;
            }
            Ok(Ok(log)) => log,
        };
        let filtered: String = match &grep {
            Some(re) => log
                .lines()
                .filter(|l| re.is_match(l))
                .map(|l| format!("{l}\n"))
                .collect(),
            None => log,
        };
        let (kept, truncated) = keep_tail(&filtered, per_pod);
        let lines = kept.lines().count();
        if kept.is_empty() {
            text.push_str("\n(no lines)");
        } else {
            text.push('\n');
            text.push_str(kept.trim_end());
        }
        if truncated {
            text.push_str(&format!(
                "\n(older lines cut to stay within {per_pod} bytes; narrow with grep or since_seconds)"
            ));
        }
        entry["lines"] = json!(lines);
        entry["truncated"] = json!(truncated);
        entry["log"] = json!(kept);
        results.push(entry);
    }
    if skipped > 0 {
        text.push_str(&format!(
            "\n({skipped} older pod(s) not read; name one with `pod`)"
        ));
    }
    let structured = json!({"source": found.how, "pods": results, "skippedPods": skipped});
    if failures > 0 && failures == pods.len() {
        return Err(ToolError::refused(text));
    }
    Ok(ToolOutput::ok(text, Some(structured)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_whole_lines() {
        let (t, cut) = keep_tail("one\ntwo\nthree\n", 9);
        assert_eq!((t.as_str(), cut), ("three\n", true));
        let (t, cut) = keep_tail("a\nb\n", 100);
        assert_eq!((t.as_str(), cut), ("a\nb\n", false));
        let (t, _) = keep_tail("ééé\nx\n", 5);
        assert_eq!(t, "x\n");
    }
}
