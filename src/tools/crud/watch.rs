//! `watch: true` on a generated get tool: a Kubernetes watch on the selected
//! objects; each added, modified or deleted object is a progress
//! notification, and the result lists the changes seen.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::Event;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::ops::{namespace_for, to_value};
use crate::catalogue::ResourceDef;
use crate::cluster::errors::Attempt;
use crate::cluster::Connection;
use crate::tools::args::GetArgs;
use crate::tools::forklift::status_brief;
use crate::tools::watching::{self, Ended};
use crate::tools::{CallContext, ToolError, ToolOutput, ToolResult};

/// Watch window when the caller gives none.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30);
/// Changes kept in the result (the newest; the count covers all).
const MAX_CHANGES: usize = 100;

pub fn time_limit(args: &Value) -> Duration {
    watching::time_limit(args, DEFAULT_WINDOW)
}

/// What one object looked like when last seen.
struct Seen {
    resource_version: String,
    name: Option<String>,
    namespace: Option<String>,
}

impl Seen {
    fn of(obj: &DynamicObject) -> Self {
        Seen {
            resource_version: obj.metadata.resource_version.clone().unwrap_or_default(),
            name: obj.metadata.name.clone(),
            namespace: obj.metadata.namespace.clone(),
        }
    }
}

pub async fn run(
    r: &'static ResourceDef,
    a: GetArgs,
    conn: &Connection,
    ctx: &CallContext,
) -> ToolResult {
    let window = watching::window(a.timeout_seconds, DEFAULT_WINDOW);
    let all = a.all_namespaces.unwrap_or(false) && r.namespaced;
    if all && a.name.is_some() {
        return Err(ToolError::invalid(
            "Give either name (with namespace) or all_namespaces, not both.",
        ));
    }
    let namespace = if all {
        None
    } else {
        namespace_for(r, conn, a.namespace.clone())
    };
    let ar = r.api_resource();
    let api: Api<DynamicObject> = match &namespace {
        Some(ns) => Api::namespaced_with(conn.watch_client.clone(), ns, &ar),
        None => Api::all_with(conn.watch_client.clone(), &ar),
    };
    let fields_selector = a.name.as_ref().map(|n| format!("metadata.name={n}"));
    let resource = format!("{}.{}", r.plural, r.group);
    let list_tool = format!("get_{}", r.plural);
    let attempt = Attempt {
        verb: "watch",
        resource: &resource,
        kind: r.kind,
        name: a.name.as_deref(),
        namespace: namespace.as_deref(),
        server: &conn.server,
        list_tool: &list_tool,
    };
    let scope = match (&a.name, &namespace) {
        (Some(n), Some(ns)) => format!("{} {ns}/{n}", r.kind),
        (Some(n), None) => format!("{} {n}", r.kind),
        (None, Some(ns)) => format!("{}s in namespace \"{ns}\"", r.kind),
        (None, None) => format!("{}s in all namespaces", r.kind),
    };
    let fields = a.fields.clone().unwrap_or_default();
    let stream = watching::stream(
        api,
        ctx,
        a.label_selector.as_deref(),
        fields_selector.as_deref(),
    );
    futures::pin_mut!(stream);

    let started = Instant::now();
    let end = started + window;
    let mut known: HashMap<String, Seen> = HashMap::new();
    let mut relist: Option<HashMap<String, (Seen, DynamicObject)>> = None;
    let mut initial: Option<usize> = None;
    let mut changes: Vec<Value> = Vec::new();
    let mut total = 0usize;
    let mut retries = 0usize;
    let mut last_problem: Option<String> = None;

    let mut record = |kind: &str, obj: &DynamicObject, ctx: &CallContext| {
        total += 1;
        let v = to_value(obj);
        let name = obj.metadata.name.clone().unwrap_or_default();
        let ns = obj.metadata.namespace.clone();
        let brief = status_brief(&v);
        let who = match &ns {
            Some(ns) => format!("{ns}/{name}"),
            None => name.clone(),
        };
        let msg = if brief.is_empty() {
            format!("{kind} {} {who}", r.kind)
        } else {
            format!("{kind} {} {who}: {brief}", r.kind)
        };
        ctx.progress(total as f64, None, &msg);
        let mut change = json!({
            "type": kind,
            "name": name,
            "namespace": ns,
            "resourceVersion": obj.metadata.resource_version,
            "afterSeconds": (started.elapsed().as_millis() as f64 / 1000.0),
            "status": brief,
        });
        if !fields.is_empty() {
            change["object"] = crate::tools::fields::select(&v, &fields);
        }
        changes.push(change);
        if changes.len() > MAX_CHANGES {
            changes.remove(0);
        }
    };

    let ended = loop {
        let event = tokio::select! {
            _ = tokio::time::sleep_until(end) => break Ended::Timeout,
            e = stream.next() => e,
        };
        let Some(event) = event else {
            break Ended::Timeout;
        };
        match event {
            Err(e) => {
                let f = watching::failure(e, &attempt);
                if initial.is_none() && (f.code.is_some() || retries >= 2) {
                    // Nothing watched yet: a refusal (403, 404…) or a server
                    // that keeps failing is the answer.
                    return Err(f.into());
                }
                retries += 1;
                last_problem = Some(f.message);
            }
            Ok(Event::Init) => relist = Some(HashMap::new()),
            Ok(Event::InitApply(obj)) => {
                if let (Some(buf), Some(uid)) = (relist.as_mut(), obj.metadata.uid.clone()) {
                    buf.insert(uid, (Seen::of(&obj), obj));
                }
            }
            Ok(Event::InitDone) => {
                let listed = relist.take().unwrap_or_default();
                if initial.is_none() {
                    initial = Some(listed.len());
                    ctx.progress(
                        0.5,
                        None,
                        &format!("watching {} ({} now)", scope, listed.len()),
                    );
                    known = listed.into_iter().map(|(k, (s, _))| (k, s)).collect();
                    continue;
                }
                // A fresh list after the watch could not resume: compare.
                for (uid, (seen, obj)) in &listed {
                    match known.get(uid) {
                        None => record("ADDED", obj, ctx),
                        Some(s) if s.resource_version != seen.resource_version => {
                            record("MODIFIED", obj, ctx)
                        }
                        _ => {}
                    }
                }
                for (uid, seen) in known.iter().filter(|(k, _)| !listed.contains_key(*k)) {
                    let obj = DynamicObject {
                        types: None,
                        metadata: kube::api::ObjectMeta {
                            uid: Some(uid.clone()),
                            name: seen.name.clone(),
                            namespace: seen.namespace.clone(),
                            ..Default::default()
                        },
                        data: Value::Null,
                    };
                    record("DELETED", &obj, ctx);
                }
                known = listed.into_iter().map(|(k, (s, _))| (k, s)).collect();
            }
            Ok(Event::Apply(obj)) => {
                let uid = obj.metadata.uid.clone().unwrap_or_default();
                let kind = if known.contains_key(&uid) {
                    "MODIFIED"
                } else {
                    "ADDED"
                };
                record(kind, &obj, ctx);
                known.insert(uid, Seen::of(&obj));
            }
            Ok(Event::Delete(obj)) => {
                known.remove(&obj.metadata.uid.clone().unwrap_or_default());
                record("DELETED", &obj, ctx);
                if a.name.is_some() {
                    break Ended::Deleted;
                }
            }
        }
    };

    let secs = started.elapsed().as_secs();
    let mut text = format!(
        "Watched {scope} for {secs} s ({}): {total} change{}.",
        match ended {
            Ended::Deleted => "ended: the object was deleted",
            _ => "ended: timeout",
        },
        if total == 1 { "" } else { "s" }
    );
    if let Some(n) = initial {
        text.push_str(&format!(" {n} matched when the watch began."));
    }
    for c in &changes {
        text.push_str(&format!(
            "\n- +{:.1}s {} {}{}",
            c["afterSeconds"].as_f64().unwrap_or_default(),
            c["type"].as_str().unwrap_or_default(),
            c["name"].as_str().unwrap_or_default(),
            match c["status"].as_str() {
                Some(s) if !s.is_empty() => format!(": {s}"),
                _ => String::new(),
            }
        ));
    }
    if total > changes.len() {
        text.push_str(&format!(
            "\n(only the last {} changes are listed)",
            changes.len()
        ));
    }
    if let Some(p) = &last_problem {
        text.push_str(&format!(
            "\nThe watch was interrupted {retries} time(s) and resumed; last problem: {p}"
        ));
    }
    Ok(ToolOutput::ok(
        text,
        Some(json!({
            "watched": scope,
            "seconds": secs,
            "ended": ended.as_str(),
            "initialCount": initial,
            "totalChanges": total,
            "changes": changes,
            "interruptions": retries,
        })),
    ))
}
