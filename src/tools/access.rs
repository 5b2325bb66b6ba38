//! `check_access`: what the caller may do with Forklift resources (and the
//! Secrets, events, pods and pod logs the tools need) in a namespace, asked
//! of the API server with one `SelfSubjectAccessReview` per resource and
//! verb, as a compact matrix; then which of this server's tools those
//! permissions make usable. It acts as the call's own identity, so it
//! answers for a kubeconfig user, `--token` or an HTTP bearer header alike.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::StreamExt;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use super::schema::{self, Hints};
use super::suggest::close_matches;
use super::{
    parse_args, CallContext, Tool, ToolDefinition, ToolError, ToolOutput, ToolResult, Toolset,
};
use crate::catalogue::{self, find_resource, Verb};
use crate::cluster::errors::Attempt;
use crate::cluster::{install, Connection, KubeFailure};

pub fn toolset() -> Toolset {
    Toolset {
        name: "access",
        tools: vec![Arc::new(CheckAccess::new())],
    }
}

/// Verbs checked unless the caller names others.
pub const DEFAULT_VERBS: [&str; 6] = ["get", "list", "watch", "create", "patch", "delete"];
/// Verbs the API server knows for resources.
const KNOWN_VERBS: [&str; 9] = [
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "*",
];
/// Core resources the tools need besides Forklift's.
const CORE: [&str; 4] = ["secrets", "events", "pods", "pods/log"];
/// Most SelfSubjectAccessReviews in flight at once.
const PARALLEL: usize = 8;

/// A resource as the authorizer names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Res {
    pub group: String,
    pub resource: String,
    pub subresource: Option<String>,
}

impl Res {
    fn core(path: &str) -> Res {
        let (resource, sub) = match path.split_once('/') {
            Some((r, s)) => (r.to_owned(), Some(s.to_owned())),
            None => (path.to_owned(), None),
        };
        Res {
            group: String::new(),
            resource,
            subresource: sub,
        }
    }

    fn forklift(plural: &str) -> Res {
        Res {
            group: "forklift.konveyor.io".into(),
            resource: plural.into(),
            subresource: None,
        }
    }

    /// `plans`, `secrets`, `pods/log`, `routes.route.openshift.io`.
    pub fn label(&self) -> String {
        let mut s = self.resource.clone();
        if let Some(sub) = &self.subresource {
            s.push('/');
            s.push_str(sub);
        }
        if !self.group.is_empty() && self.group != "forklift.konveyor.io" {
            s.push('.');
            s.push_str(&self.group);
        }
        s
    }

    /// Verbs that mean something for it (a log is only read).
    fn applies(&self, verb: &str) -> bool {
        self.subresource.as_deref() != Some("log") || verb == "get"
    }
}

/// Reads a resource name: a Forklift kind or plural (`Plan`, `plans`),
/// a core resource (`secrets`, `pods/log`), or `plural.group`.
fn parse_resource(text: &str) -> Result<Res, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("an empty resource name".into());
    }
    if let Some(r) = find_resource(t) {
        return Ok(Res::forklift(r.plural));
    }
    let lower = t.to_lowercase();
    match lower.split_once('.') {
        Some((plural, group)) if !group.is_empty() => {
            let mut r = Res::core(plural);
            r.group = group.to_owned();
            Ok(r)
        }
        _ => {
            if lower.chars().all(|c| c.is_ascii_lowercase() || c == '/') {
                Ok(Res::core(&lower))
            } else {
                Err(format!("\"{t}\" is not a resource name"))
            }
        }
    }
}

/// The default rows: Forklift's kinds served by default, the operator's
/// ForkliftController, and the core resources the tools read.
fn default_resources() -> Vec<Res> {
    let mut out: Vec<Res> = catalogue::resources()
        .iter()
        .filter(|r| r.toolset == "resources")
        .map(|r| Res::forklift(r.plural))
        .collect();
    if let Some(fc) = catalogue::settings_resource() {
        out.push(Res::forklift(fc.plural));
    }
    out.extend(CORE.iter().map(|c| Res::core(c)));
    out
}

/// What one tool needs, as (verb, resource) pairs; `None` for a tool this
/// module does not know (a unit test keeps that from happening).
pub fn needs(tool: &str) -> Option<Vec<(&'static str, Res)>> {
    let f = |verb: &'static str, plural: &str| (verb, Res::forklift(plural));
    let c = |verb: &'static str, path: &str| (verb, Res::core(path));
    if let Some(t) = catalogue::tools().iter().find(|t| t.name == tool) {
        let plural = catalogue::resources()[t.resource].plural;
        let verb = match t.verb {
            Verb::Get => "list",
            Verb::Create => "create",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        };
        let mut v = vec![f(verb, plural)];
        if tool == "create_provider" || tool == "patch_provider" {
            // The guided forms write the credentials Secret.
            v.push(c(
                if tool == "create_provider" {
                    "create"
                } else {
                    "patch"
                },
                "secrets",
            ));
        }
        return Some(v);
    }
    let plan_rw = |verb: &'static str, plural: &str| {
        vec![f("get", "plans"), f("list", "migrations"), f(verb, plural)]
    };
    let fc = catalogue::settings_resource()
        .map(|r| r.plural)
        .unwrap_or("forkliftcontrollers");
    Some(match tool {
        "explain_resource" | "check_access" | "get_version" => vec![],
        "describe_plan" => vec![
            f("get", "plans"),
            f("list", "migrations"),
            f("get", "providers"),
            f("get", "networkmaps"),
            f("get", "storagemaps"),
            c("list", "events"),
        ],
        "watch_plan" => vec![
            f("get", "plans"),
            f("watch", "plans"),
            f("list", "migrations"),
            f("watch", "migrations"),
        ],
        "start_plan" => plan_rw("create", "migrations"),
        "cutover_plan" | "cancel_plan" => plan_rw("patch", "migrations"),
        "archive_plan" | "unarchive_plan" => plan_rw("patch", "plans"),
        "get_events" => vec![c("list", "events")],
        "get_logs" => vec![c("list", "pods"), c("get", "pods/log")],
        "get_inventory" => vec![f("get", "providers")],
        "check_health" => vec![
            f("list", "providers"),
            f("list", "plans"),
            f("list", "migrations"),
            c("get", "secrets"),
            c("list", "events"),
        ],
        "get_settings" => vec![f("list", fc)],
        "set_setting" => vec![f("list", fc), f("patch", fc)],
        _ => return None,
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckAccessArgs {
    /// Namespace to check.
    pub namespace: String,
    /// Default: get, list, watch, create, patch, delete.
    pub verbs: Option<Vec<String>>,
    /// e.g. ["plans", "secrets", "pods/log"] (default: what the tools use).
    pub resources: Option<Vec<String>>,
}

pub struct CheckAccess {
    definition: ToolDefinition,
}

impl CheckAccess {
    pub fn new() -> Self {
        CheckAccess {
            definition: ToolDefinition::new(schema::definition::<CheckAccessArgs>(
                "check_access",
                "RBAC permissions of the caller",
                "RBAC check (SelfSubjectAccessReview): what the caller may do with Forklift kinds, secrets, events, pods and pod logs in a namespace, and which tools that allows.",
                Hints::READ,
            )),
        }
    }
}

impl Default for CheckAccess {
    fn default() -> Self {
        Self::new()
    }
}

impl Tool for CheckAccess {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
        Box::pin(run(ctx, args))
    }
}

fn bad(detail: String) -> ToolError {
    ToolError::Arguments {
        tool: "check_access".into(),
        detail,
    }
}

/// Asks the API server whether the caller may `verb` `res` in `ns`.
async fn review(conn: &Connection, ns: &str, verb: &str, res: &Res) -> Result<bool, ToolError> {
    let api: Api<SelfSubjectAccessReview> = Api::all(conn.client.clone());
    let ssar = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(ns.to_owned()),
                verb: Some(verb.to_owned()),
                group: Some(res.group.clone()),
                resource: Some(res.resource.clone()),
                subresource: res.subresource.clone(),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let r = api
        .create(&PostParams::default(), &ssar)
        .await
        .map_err(|e| {
            ToolError::Kube(KubeFailure::from_kube(
                &e,
                &Attempt {
                    verb: "create",
                    resource: "selfsubjectaccessreviews.authorization.k8s.io",
                    kind: "SelfSubjectAccessReview",
                    name: None,
                    namespace: None,
                    server: &conn.server,
                    list_tool: "check_access",
                },
            ))
        })?;
    Ok(r.status.is_some_and(|s| s.allowed))
}

/// Who the API server says the caller is (Kubernetes 1.28+), if it says.
async fn whoami(conn: &Connection) -> Option<(String, Vec<String>)> {
    let api: Api<SelfSubjectReview> = Api::all(conn.client.clone());
    let r = api
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .ok()?;
    let u = r.status?.user_info?;
    Some((u.username?, u.groups.unwrap_or_default()))
}

/// A verdict per (resource, verb).
type Matrix = BTreeMap<(Res, String), bool>;

/// The verdicts for every (resource, verb) of `rows` in `ns`.
async fn matrix(
    conn: &Connection,
    ns: &str,
    rows: &[Res],
    verbs: &[String],
) -> Result<Matrix, ToolError> {
    let cells: Vec<(Res, String)> = rows
        .iter()
        .flat_map(|r| {
            verbs
                .iter()
                .filter(|v| r.applies(v))
                .map(move |v| (r.clone(), v.clone()))
        })
        .collect();
    let results: Vec<Result<_, ToolError>> = futures::stream::iter(cells)
        .map(|(r, v)| async move {
            let ok = review(conn, ns, &v, &r).await?;
            Ok(((r, v), ok))
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    results.into_iter().collect()
}

/// `plans: get list watch; denied create patch delete`.
fn row_line(res: &Res, verbs: &[String], m: &Matrix) -> (String, Value) {
    let mut yes = Vec::new();
    let mut no = Vec::new();
    let mut cells = serde_json::Map::new();
    for v in verbs {
        match m.get(&(res.clone(), v.clone())) {
            Some(true) => {
                yes.push(v.as_str());
                cells.insert(v.clone(), json!(true));
            }
            Some(false) => {
                no.push(v.as_str());
                cells.insert(v.clone(), json!(false));
            }
            None => {}
        }
    }
    let line = match (yes.is_empty(), no.is_empty()) {
        (false, true) => format!("  {}: all ({})", res.label(), yes.join(" ")),
        (true, _) => format!("  {}: none (denied {})", res.label(), no.join(" ")),
        (false, false) => format!(
            "  {}: {} — denied {}",
            res.label(),
            yes.join(" "),
            no.join(" ")
        ),
    };
    (line, Value::Object(cells))
}

async fn run(ctx: &CallContext, args: Value) -> ToolResult {
    let a: CheckAccessArgs = parse_args("check_access", args)?;
    let ns = a.namespace.trim().to_owned();
    if ns.is_empty() {
        return Err(bad("namespace is empty; name the namespace to check".into()));
    }
    let verbs: Vec<String> = match &a.verbs {
        None => DEFAULT_VERBS.iter().map(|v| v.to_string()).collect(),
        Some(vs) if vs.is_empty() => {
            return Err(bad("verbs is empty; leave it out for the usual ones".into()))
        }
        Some(vs) => {
            let mut out = Vec::new();
            for v in vs {
                let l = v.trim().to_lowercase();
                if !KNOWN_VERBS.contains(&l.as_str()) {
                    let close = close_matches(&l, KNOWN_VERBS, 2, 1);
                    return Err(bad(format!(
                        "verb \"{v}\" is not one of {}{}",
                        KNOWN_VERBS.join(", "),
                        close
                            .first()
                            .map(|c| format!("; did you mean {c}?"))
                            .unwrap_or_default()
                    )));
                }
                if !out.contains(&l) {
                    out.push(l);
                }
            }
            out
        }
    };
    let rows: Vec<Res> = match &a.resources {
        None => default_resources(),
        Some(rs) if rs.is_empty() => {
            return Err(bad(
                "resources is empty; leave it out for the usual ones".into()
            ))
        }
        Some(rs) => rs
            .iter()
            .map(|r| parse_resource(r).map_err(bad))
            .collect::<Result<_, _>>()?,
    };
    let conn = ctx.connect().await?;
    let who = whoami(&conn).await;
    let m = matrix(&conn, &ns, &rows, &verbs).await?;
    let who_text = match &who {
        Some((user, groups)) => format!("user \"{user}\" (groups: {})", groups.join(", ")),
        None => "this identity".to_owned(),
    };
    let mut text = format!(
        "Access of {who_text} in namespace \"{ns}\" (SelfSubjectAccessReview, as the API server enforces it):"
    );
    let mut matrix_json = serde_json::Map::new();
    for r in &rows {
        let (line, cells) = row_line(r, &verbs, &m);
        text.push('\n');
        text.push_str(&line);
        matrix_json.insert(r.label(), cells);
    }
    // The operator's namespace holds the ForkliftController and the
    // controller's pods: get_settings, set_setting and get_logs act there.
    let operator_ns = install::operator(&conn).await.map(|o| o.namespace);
    let mut operator_json = Value::Null;
    let mut op_m = BTreeMap::new();
    if let Some(op) = operator_ns.as_ref().filter(|o| **o != ns) {
        let fc = catalogue::settings_resource().map(|r| Res::forklift(r.plural));
        let op_rows: Vec<Res> = fc
            .into_iter()
            .chain([Res::core("pods"), Res::core("pods/log")])
            .collect();
        let op_verbs: Vec<String> = ["get", "list", "patch"]
            .iter()
            .map(|v| v.to_string())
            .collect();
        op_m = matrix(&conn, op, &op_rows, &op_verbs).await?;
        text.push_str(&format!("\nIn the operator's namespace \"{op}\":"));
        let mut j = serde_json::Map::new();
        for r in &op_rows {
            let (line, cells) = row_line(r, &op_verbs, &op_m);
            text.push('\n');
            text.push_str(&line);
            j.insert(r.label(), cells);
        }
        operator_json = json!({"namespace": op, "matrix": j});
    }
    // Which served tools these permissions allow.
    let served: Vec<String> = if ctx.settings.served_tools.is_empty() {
        super::Registry::standard(false)
            .tools()
            .iter()
            .map(|t| t.definition().name().to_owned())
            .collect()
    } else {
        ctx.settings.served_tools.clone()
    };
    let is_operator_scoped = |tool: &str, res: &Res| {
        operator_ns.as_ref().is_some_and(|o| *o != ns)
            && (matches!(tool, "get_settings" | "set_setting")
                || (tool == "get_logs" && res.group.is_empty()))
    };
    let mut usable = Vec::new();
    let mut unusable = Vec::new();
    let mut unknown = Vec::new();
    for tool in &served {
        let Some(needs) = needs(tool) else {
            continue;
        };
        let mut missing = Vec::new();
        let mut unchecked = false;
        for (verb, res) in &needs {
            let table = if is_operator_scoped(tool, res) {
                &op_m
            } else {
                &m
            };
            match table.get(&(res.clone(), verb.to_string())) {
                Some(true) => {}
                Some(false) => missing.push(format!("{verb} {}", res.label())),
                None => unchecked = true,
            }
        }
        if !missing.is_empty() {
            unusable.push((tool.clone(), missing));
        } else if unchecked {
            unknown.push(tool.clone());
        } else {
            usable.push(tool.clone());
        }
    }
    if usable.len() == served.len() {
        text.push_str(&format!(
            "\nEvery tool of this server ({}) is usable in this namespace.",
            served.len()
        ));
    } else {
        text.push_str(&format!(
            "\nTools usable here: {} of {}{}",
            usable.len(),
            served.len(),
            if usable.is_empty() {
                String::new()
            } else {
                format!(": {}", usable.join(", "))
            }
        ));
    }
    if !unusable.is_empty() {
        let parts: Vec<String> = unusable
            .iter()
            .map(|(t, miss)| format!("{t} (needs {})", miss.join(", ")))
            .collect();
        text.push_str(&format!("\nNot usable: {}", parts.join("; ")));
    }
    if !unknown.is_empty() {
        text.push_str(&format!(
            "\nNot checked (their verbs or resources were not asked for): {}",
            unknown.join(", ")
        ));
    }
    if !unusable.is_empty() {
        text.push_str("\nA cluster admin grants missing verbs with an RBAC Role (and RoleBinding) in this namespace.");
    }
    let unusable_json: Vec<Value> = unusable
        .iter()
        .map(|(t, miss)| json!({"tool": t, "missing": miss}))
        .collect();
    Ok(ToolOutput::ok(
        text,
        Some(json!({
            "namespace": ns,
            "identity": who.as_ref().map(|(u, g)| json!({"username": u, "groups": g})),
            "method": "SelfSubjectAccessReview",
            "verbs": verbs,
            "matrix": matrix_json,
            "operatorNamespace": operator_json,
            "usableTools": usable,
            "unusableTools": unusable_json,
            "uncheckedTools": unknown,
        })),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_of_the_catalogue_says_what_it_needs() {
        let all = super::super::Registry::with_options(&super::super::CatalogueOptions {
            toolsets: vec!["all".into()],
            ..Default::default()
        });
        for t in all.tools() {
            assert!(
                needs(t.definition().name()).is_some(),
                "{}",
                t.definition().name()
            );
        }
        assert!(needs("no_such_tool").is_none());
    }

    #[test]
    fn resource_names() {
        assert_eq!(parse_resource("Plan").unwrap(), Res::forklift("plans"));
        assert_eq!(parse_resource("pods/log").unwrap().label(), "pods/log");
        let r = parse_resource("routes.route.openshift.io").unwrap();
        assert_eq!(
            (r.group.as_str(), r.resource.as_str()),
            ("route.openshift.io", "routes")
        );
        assert_eq!(r.label(), "routes.route.openshift.io");
        assert!(parse_resource("My Plans!").is_err());
        assert!(!Res::core("pods/log").applies("list"));
    }
}
