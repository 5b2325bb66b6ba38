//! `check_health`: one bounded report of the Forklift installation as the
//! caller can see it: the operator (namespace, version, ForkliftController
//! conditions), its pods (phase, restarts, a short log scan), each Provider
//! (Ready, connection, inventory) with a security review of its
//! credentials (the Secret exists and has the keys the provider type needs,
//! TLS verification, a CA; only key names and presence, never a value),
//! Plans that are not Ready or have failed VMs, stale Migrations and recent
//! Warning events. Each finding has a severity and the call that shows more.
//!
//! What the caller may not read is a finding too (with check_access as the
//! next step), never a failure of the whole report.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::{Pod, Secret};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, ListParams, LogParams};
use kube::ResourceExt;
use regex::Regex;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use super::events::{self, EventType};
use super::forklift::{
    migration_conditions, migration_is_for, migration_running, plan_conditions, plan_phase,
    plan_vms, provider_conditions, true_condition, Condition, Migration, Plan, Provider,
};
use super::logs::CONTROLLER_LABELS;
use super::schema::{self, Hints};
use super::{
    parse_args, CallContext, Tool, ToolDefinition, ToolError, ToolOutput, ToolResult, Toolset,
};
use crate::cluster::{install, Connection};

pub fn toolset() -> Toolset {
    Toolset {
        name: "health",
        tools: vec![Arc::new(CheckHealth::new())],
    }
}

/// Most findings written out in the text (all are counted).
const MAX_FINDINGS_SHOWN: usize = 40;
/// Most providers / plans described in structured content.
const MAX_OBJECTS: usize = 50;
/// Lines of each controller container's log scanned for errors.
const LOG_LINES: i64 = 100;
/// A Migration the controller has not picked up after this long is stale.
const UNPICKED_SECS: i64 = 600;
/// A Migration running longer than this is worth a look.
const LONG_RUN_SECS: i64 = 24 * 3600;
/// More restarts than this is a finding.
const RESTARTS: i32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Critical,
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn word(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One thing the report found.
#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    /// operator, pods, provider, security, plan, migration, events, access.
    pub area: &'static str,
    /// e.g. `Provider mtv/vcenter-prod`.
    pub object: String,
    pub message: String,
    /// A tool call that shows more (or fixes it).
    pub next: Option<String>,
}

impl Finding {
    fn line(&self) -> String {
        let mut s = format!(
            "[{}] {}: {}",
            self.severity.word(),
            self.object,
            self.message
        );
        if let Some(n) = &self.next {
            s.push_str(&format!(" → {n}"));
        }
        s
    }

    fn to_json(&self) -> Value {
        json!({"severity": self.severity.word(), "area": self.area, "object": self.object,
               "message": self.message, "next": self.next})
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckHealthArgs {
    /// Namespace of providers and plans (default: the context's).
    pub namespace: Option<String>,
    /// Every namespace.
    pub all_namespaces: Option<bool>,
    /// Where Forklift runs (default: found).
    pub operator_namespace: Option<String>,
    /// No controller log scan.
    pub skip_logs: Option<bool>,
}

pub struct CheckHealth {
    definition: ToolDefinition,
}

impl CheckHealth {
    pub fn new() -> Self {
        CheckHealth {
            definition: ToolDefinition::new(schema::definition::<CheckHealthArgs>(
                "check_health",
                "Forklift health and security review",
                "Health report: operator and version, controller pods (restarts, log errors), Providers (Ready, connection; security: Secret keys, TLS verification, CA; no values), failing Plans, stale Migrations, Warning events. Findings have a severity and a next call.",
                Hints::READ,
            )),
        }
    }
}

impl Default for CheckHealth {
    fn default() -> Self {
        Self::new()
    }
}

impl Tool for CheckHealth {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
        Box::pin(run(ctx, args))
    }
}

/// A JSON-quoted string for a suggested call.
fn q(s: &str) -> String {
    serde_json::to_string(s).expect("JSON")
}

/// What a list call could not do, as an access finding.
fn access_finding(e: &kube::Error, what: &str, scope: &str, ns: Option<&str>) -> Finding {
    let (severity, message) = match e {
        kube::Error::Api(s) if s.code == 403 => (
            Severity::Warning,
            format!("this identity may not list {what} {scope}: not reviewed, so this report cannot vouch for them"),
        ),
        kube::Error::Api(s) if s.code == 404 => (
            Severity::Critical,
            format!("the API server does not serve {what}: are the Forklift CRDs installed?"),
        ),
        other => (
            Severity::Error,
            format!(
                "listing {what} {scope} failed: {}",
                crate::cluster::errors::error_chain(other)
            ),
        ),
    };
    Finding {
        severity,
        area: "access",
        object: what.to_owned(),
        message,
        next: ns.map(|n| format!("check_access {{\"namespace\": {}}}", q(n))),
    }
}

/// Lists `K` in the scope, or records why not.
async fn list_in<K>(
    conn: &Connection,
    ns: Option<&str>,
    what: &str,
    findings: &mut Vec<Finding>,
) -> Vec<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = match ns {
        Some(ns) => Api::namespaced(conn.client.clone(), ns),
        None => Api::all(conn.client.clone()),
    };
    let scope = match ns {
        Some(n) => format!("in namespace \"{n}\""),
        None => "in all namespaces".into(),
    };
    match api.list(&ListParams::default()).await {
        Ok(l) => l.items,
        Err(e) => {
            findings.push(access_finding(&e, what, &scope, ns));
            Vec::new()
        }
    }
}

/// `ns/name`.
fn path<K: ResourceExt>(o: &K) -> String {
    format!("{}/{}", o.namespace().unwrap_or_default(), o.name_any())
}

/// The conditions that say what is wrong: True ones of category Critical
/// or Error, then any True one that is not Ready.
fn blockers(conds: &[Condition]) -> Vec<&Condition> {
    let bad: Vec<&Condition> = conds
        .iter()
        .filter(|c| c.is_true() && matches!(c.category.as_str(), "Critical" | "Error"))
        .collect();
    bad
}

fn cond_text(c: &Condition) -> String {
    format!(
        "{} ({}): {}",
        c.kind,
        c.category,
        c.message.as_deref().unwrap_or("").trim()
    )
}

/// Key names Forklift needs in a provider type's Secret; each inner list is
/// one way to authenticate (any one suffices).
pub fn required_keys(kind: &str) -> &'static [&'static [&'static str]] {
    match kind {
        "vsphere" | "ovirt" | "nutanix" => &[&["user", "password"]],
        "openshift" => &[&["token"]],
        "openstack" => &[&["token"], &["username", "password"]],
        "hyperv" => &[&["username", "password"]],
        "ec2" => &[&["accessKeyId", "secretAccessKey", "region"]],
        _ => &[],
    }
}

/// The `patch_provider` argument that writes a Secret key.
fn credential_argument(key: &str) -> &'static str {
    match key {
        "user" | "username" | "accessKeyId" => "username",
        "token" => "token",
        "region" => "region_name",
        _ => "password",
    }
}

fn secret_flag(s: &Secret, key: &str) -> bool {
    s.data.as_ref().and_then(|d| d.get(key)).is_some_and(|v| {
        String::from_utf8_lossy(&v.0)
            .trim()
            .eq_ignore_ascii_case("true")
    })
}

fn secret_has(s: &Secret, key: &str) -> bool {
    s.data
        .as_ref()
        .and_then(|d| d.get(key))
        .is_some_and(|v| !v.0.is_empty())
}

/// The review of one provider: its state and its credentials.
async fn review_provider(conn: &Connection, p: &Provider, findings: &mut Vec<Finding>) -> Value {
    let ns = p.namespace().unwrap_or_default();
    let name = p.name_any();
    let object = format!("Provider {ns}/{name}");
    let kind = p.spec.r#type.to_lowercase();
    let url = p.spec.url.clone().unwrap_or_default();
    let conds = provider_conditions(p);
    let ready = true_condition(&conds, "Ready").is_some();
    let connection = if let Some(c) = true_condition(&conds, "ConnectionTestFailed") {
        format!("failed: {}", c.message.as_deref().unwrap_or_default())
    } else if true_condition(&conds, "ConnectionTestSucceeded").is_some() {
        "ok".into()
    } else {
        "not tested yet".into()
    };
    let inventory = if true_condition(&conds, "InventoryCreated").is_some() {
        "created"
    } else {
        "not created"
    };
    let events_call = format!(
        "get_events {{\"kind\": \"Provider\", \"name\": {}, \"namespace\": {}}}",
        q(&name),
        q(&ns)
    );
    if !ready {
        let bad = blockers(&conds);
        let (severity, message) = if conds.is_empty() {
            (
                Severity::Warning,
                "not Ready: no status yet (the Forklift controller has not validated it)"
                    .to_owned(),
            )
        } else if bad.is_empty() {
            (
                Severity::Error,
                format!("not Ready (connection {connection}, inventory {inventory})"),
            )
        } else {
            let sev = if bad.iter().any(|c| c.category == "Critical") {
                Severity::Critical
            } else {
                Severity::Error
            };
            (
                sev,
                format!(
                    "not Ready: {}",
                    bad.iter()
                        .map(|c| cond_text(c))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            )
        };
        findings.push(Finding {
            severity,
            area: "provider",
            object: object.clone(),
            message,
            next: Some(events_call.clone()),
        });
    }
    // Security review.
    let host = kind == "openshift" && url.is_empty();
    let mut sec = json!({});
    let patch_call = |extra: &str| {
        format!(
            "patch_provider {{\"name\": {}, \"namespace\": {}, {extra}}}",
            q(&name),
            q(&ns)
        )
    };
    if url.starts_with("http://") {
        findings.push(Finding {
            severity: Severity::Warning,
            area: "security",
            object: object.clone(),
            message: "its URL is plain http://: credentials and data travel unencrypted".into(),
            next: Some(patch_call("\"url\": \"https://…\"")),
        });
    }
    if host {
        sec = json!({"hostCluster": true});
    } else {
        let secret_ref = &p.spec.secret;
        let sname = secret_ref.name.clone().unwrap_or_default();
        let sns = secret_ref
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| ns.clone());
        sec["secret"] = json!({"name": sname, "namespace": sns});
        if sname.is_empty() {
            findings.push(Finding {
                severity: Severity::Critical,
                area: "security",
                object: object.clone(),
                message: "names no credentials Secret (spec.secret)".into(),
                next: Some(patch_call("\"username\": …, \"password\": \"${VAR}\"")),
            });
        } else {
            let api: Api<Secret> = Api::namespaced(conn.client.clone(), &sns);
            match api.get(&sname).await {
                Ok(s) => {
                    let mut keys: Vec<String> = s
                        .data
                        .as_ref()
                        .map(|d| d.keys().cloned().collect())
                        .unwrap_or_default();
                    keys.sort();
                    sec["secret"]["exists"] = json!(true);
                    sec["secret"]["keys"] = json!(keys);
                    let ways = required_keys(&kind);
                    if !ways.is_empty() && !ways.iter().any(|w| w.iter().all(|k| secret_has(&s, k)))
                    {
                        let missing: Vec<&str> = ways[0]
                            .iter()
                            .copied()
                            .filter(|k| !secret_has(&s, k))
                            .collect();
                        let needs: Vec<String> = ways.iter().map(|w| w.join(" + ")).collect();
                        sec["secret"]["missingKeys"] = json!(missing);
                        findings.push(Finding {
                            severity: Severity::Error,
                            area: "security",
                            object: object.clone(),
                            message: format!(
                                "its Secret {sns}/{sname} lacks {} (a {kind} provider needs {}; it has: {})",
                                missing.join(", "),
                                needs.join(" or "),
                                if keys.is_empty() { "no keys".to_owned() } else { keys.join(", ") }
                            ),
                            next: Some(patch_call(
                                &missing
                                    .iter()
                                    .map(|k| format!("{}: \"${{VAR}}\"", q(credential_argument(k))))
                                    .collect::<Vec<_>>()
                                    .join(", "),
                            )),
                        });
                    }
                    let insecure = secret_flag(&s, "insecureSkipVerify");
                    let ca = secret_has(&s, "cacert") || secret_has(&s, "ca.crt");
                    sec["tls"] = json!({"insecureSkipVerify": insecure, "caGiven": ca});
                    if insecure {
                        findings.push(Finding {
                            severity: Severity::Warning,
                            area: "security",
                            object: object.clone(),
                            message: "skips TLS certificate verification (insecureSkipVerify: true in its Secret): a man in the middle could read its credentials".into(),
                            next: Some(patch_call("\"cacert\": \"<PEM of its CA>\"")),
                        });
                    } else if !ca && url.starts_with("https://") {
                        findings.push(Finding {
                            severity: Severity::Info,
                            area: "security",
                            object: object.clone(),
                            message: "gives no CA certificate: its certificate is checked against the system trust store".into(),
                            next: None,
                        });
                    }
                }
                Err(kube::Error::Api(e)) if e.code == 404 => {
                    sec["secret"]["exists"] = json!(false);
                    findings.push(Finding {
                        severity: Severity::Critical,
                        area: "security",
                        object: object.clone(),
                        message: format!("its credentials Secret {sns}/{sname} does not exist"),
                        next: Some(patch_call("\"password\": \"${VAR}\", …")),
                    });
                }
                Err(kube::Error::Api(e)) if e.code == 403 => {
                    sec["secret"]["exists"] = Value::Null;
                    findings.push(Finding {
                        severity: Severity::Info,
                        area: "access",
                        object: object.clone(),
                        message: format!(
                            "this identity may not read its Secret {sns}/{sname}: credentials not reviewed"
                        ),
                        next: Some(format!("check_access {{\"namespace\": {}}}", q(&sns))),
                    });
                }
                Err(e) => {
                    findings.push(Finding {
                        severity: Severity::Error,
                        area: "access",
                        object: object.clone(),
                        message: format!(
                            "reading its Secret failed: {}",
                            crate::cluster::errors::error_chain(&e)
                        ),
                        next: None,
                    });
                }
            }
        }
    }
    json!({
        "name": name, "namespace": ns, "type": kind, "url": url, "ready": ready,
        "connection": connection, "inventory": inventory, "security": sec,
    })
}

/// A plan's findings (none when it is fine); its summary when it has some.
fn review_plan(p: &Plan, findings: &mut Vec<Finding>) -> Option<Value> {
    if p.spec.archived == Some(true) {
        return None;
    }
    let ns = p.namespace().unwrap_or_default();
    let name = p.name_any();
    let object = format!("Plan {ns}/{name}");
    let conds = plan_conditions(p);
    let phase = plan_phase(&conds);
    let describe = format!(
        "describe_plan {{\"name\": {}, \"namespace\": {}}}",
        q(&name),
        q(&ns)
    );
    let before = findings.len();
    let ready = true_condition(&conds, "Ready").is_some();
    if !ready && !matches!(phase, "Succeeded" | "Executing" | "Running") {
        let bad = blockers(&conds);
        let message = if conds.is_empty() {
            "not Ready: no status yet (the Forklift controller has not validated it)".to_owned()
        } else if let Some(c) = bad.first() {
            format!("not Ready, so it cannot start: {}", cond_text(c))
        } else {
            "not Ready, so it cannot start".to_owned()
        };
        findings.push(Finding {
            severity: if conds.is_empty() {
                Severity::Warning
            } else {
                Severity::Error
            },
            area: "plan",
            object: object.clone(),
            message,
            next: Some(describe.clone()),
        });
    }
    let vms = plan_vms(p);
    let failed: Vec<_> = vms
        .iter()
        .filter(|v| {
            v.outcome.as_deref() == Some("Failed") || (v.outcome.is_none() && v.error.is_some())
        })
        .collect();
    if !failed.is_empty() || phase == "Failed" {
        let first = failed
            .first()
            .map(|v| {
                format!(
                    "; first: {}{}",
                    v.label(),
                    v.error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_default();
        findings.push(Finding {
            severity: Severity::Error,
            area: "plan",
            object: object.clone(),
            message: format!(
                "{} of {} VM(s) failed (plan {phase}){first}",
                failed.len(),
                vms.len()
            ),
            next: Some(format!(
                "get_logs {{\"plan\": {}, \"namespace\": {}, \"grep\": \"(?i)error|fail\"}}",
                q(&name),
                q(&ns)
            )),
        });
    }
    (findings.len() > before).then(|| {
        json!({"name": name, "namespace": ns, "phase": phase, "vms": vms.len(), "failedVms": failed.len()})
    })
}

fn age_secs(t: Option<&Timestamp>, now: Timestamp) -> Option<i64> {
    t.map(|t| now.as_second() - t.as_second())
}

fn hours(secs: i64) -> String {
    if secs >= 7200 {
        format!("{} h", secs / 3600)
    } else {
        format!("{} min", secs / 60)
    }
}

/// Stale Migrations: still running for a plan that is gone, never picked
/// up, running for a day, or two running for one plan.
fn review_migrations(
    migs: &[Migration],
    plans: &[Plan],
    findings: &mut Vec<Finding>,
) -> Vec<Value> {
    let now = Timestamp::now();
    let mut out = Vec::new();
    let mut running_per_plan: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in migs.iter().filter(|m| migration_running(m)) {
        let ns = m.namespace().unwrap_or_default();
        let object = format!("Migration {}", path(m));
        let plan_name = m.spec.plan.name.clone().unwrap_or_default();
        let plan = plans.iter().find(|p| migration_is_for(m, p));
        let mut why = None;
        let created = age_secs(m.metadata.creation_timestamp.as_ref().map(|t| &t.0), now);
        let started = m
            .status
            .as_ref()
            .and_then(|s| s.started.as_deref())
            .and_then(|s| s.parse::<Timestamp>().ok());
        if plan.is_none() && !plans.is_empty() {
            why = Some(format!(
                "still running, but its Plan {plan_name} no longer exists"
            ));
        } else if m.status.is_none() || migration_conditions(m).is_empty() && started.is_none() {
            if let Some(age) = created.filter(|a| *a > UNPICKED_SECS) {
                why = Some(format!(
                    "the Forklift controller has not picked it up in {} (is forklift-controller running?)",
                    hours(age)
                ));
            }
        } else if let Some(age) = age_secs(started.as_ref(), now).filter(|a| *a > LONG_RUN_SECS) {
            why = Some(format!("running for {}", hours(age)));
        }
        if plan.is_some() {
            running_per_plan
                .entry(format!("{ns}/{plan_name}"))
                .or_default()
                .push(m.name_any());
        }
        if let Some(message) = why {
            out.push(
                json!({"name": m.name_any(), "namespace": ns, "plan": plan_name, "why": message}),
            );
            findings.push(Finding {
                severity: Severity::Warning,
                area: "migration",
                object,
                message,
                next: Some(if plan.is_some() {
                    format!(
                        "describe_plan {{\"name\": {}, \"namespace\": {}}}",
                        q(&plan_name),
                        q(&ns)
                    )
                } else {
                    format!(
                        "get_migrations {{\"name\": {}, \"namespace\": {}}}",
                        q(&m.name_any()),
                        q(&ns)
                    )
                }),
            });
        }
    }
    for (plan, names) in running_per_plan.into_iter().filter(|(_, n)| n.len() > 1) {
        let (ns, name) = plan.split_once('/').unwrap_or_default();
        findings.push(Finding {
            severity: Severity::Warning,
            area: "migration",
            object: format!("Plan {plan}"),
            message: format!(
                "{} Migrations run at once: {}",
                names.len(),
                names.join(", ")
            ),
            next: Some(format!(
                "describe_plan {{\"name\": {}, \"namespace\": {}}}",
                q(name),
                q(ns)
            )),
        });
    }
    out
}

/// Where Forklift runs: the namespace given, the OLM annotation on its
/// CRDs, its ForkliftController's, or a default namespace with its pods.
async fn operator(conn: &Connection, given: Option<&str>, findings: &mut Vec<Finding>) -> Value {
    let olm = install::operator(conn).await;
    let fc = super::settings::find_controller(
        conn,
        given.or(olm.as_ref().map(|o| o.namespace.as_str())),
    )
    .await;
    let ns = given
        .map(str::to_owned)
        .or_else(|| olm.as_ref().map(|o| o.namespace.clone()))
        .or_else(|| fc.as_ref().ok().map(|c| c.namespace.clone()));
    let mut v = json!({
        "namespace": ns,
        "version": olm.as_ref().map(|o| o.version.clone()),
        "foundBy": if given.is_some() { "operator_namespace" } else if olm.is_some() { "OLM annotation on the Forklift CRDs" } else if fc.is_ok() { "ForkliftController" } else { "not found" },
    });
    match &fc {
        Ok(c) => {
            let conds: Vec<Value> = c.obj.data["status"]["conditions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let object = format!("ForkliftController {}/{}", c.namespace, c.obj.name_any());
            for cd in &conds {
                let kind = cd["type"].as_str().unwrap_or_default();
                if kind == "Failure" && cd["status"] == "True" {
                    findings.push(Finding {
                        severity: Severity::Error,
                        area: "operator",
                        object: object.clone(),
                        message: format!(
                            "the operator's last reconcile failed: {}",
                            cd["message"].as_str().unwrap_or_default().trim()
                        ),
                        next: Some("get_settings {}".into()),
                    });
                }
            }
            v["forkliftController"] = json!({
                "name": c.obj.name_any(), "namespace": c.namespace,
                "conditions": conds.iter().map(|c| json!({"type": c["type"], "status": c["status"], "reason": c["reason"]})).collect::<Vec<_>>(),
            });
        }
        Err(tried) => {
            findings.push(Finding {
                severity: Severity::Warning,
                area: "operator",
                object: "ForkliftController".into(),
                message: format!(
                    "none found (looked in: {}): Forklift may not be installed, or it runs where this identity cannot look (pass operator_namespace)",
                    tried.join(", ")
                ),
                next: None,
            });
        }
    }
    v
}

/// Error lines of a log: Forklift logs JSON with "level":"error".
fn error_lines(log: &str) -> Vec<&str> {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#"(?i)"level"\s*:\s*"(error|fatal|panic|dpanic)"|\b(ERROR|FATAL|panic:)"#)
            .expect("regex")
    });
    log.lines().filter(|l| re.is_match(l)).collect()
}

/// A log line cut for a report.
fn short(line: &str) -> String {
    let line = line.trim();
    if line.chars().count() <= 200 {
        return line.to_owned();
    }
    let mut s: String = line.chars().take(199).collect();
    s.push('…');
    s
}

/// Forklift's pods in its namespace: phase, restarts, waiting reasons, and
/// a short scan of the controller containers' logs.
async fn pods(
    ctx: &CallContext,
    conn: &Connection,
    ns: &str,
    skip_logs: bool,
    findings: &mut Vec<Finding>,
) -> Value {
    let api: Api<Pod> = Api::namespaced(conn.client.clone(), ns);
    let list = match api
        .list(&ListParams::default().labels("app=forklift"))
        .await
    {
        Ok(l) => l.items,
        Err(e) => {
            findings.push(access_finding(
                &e,
                "pods",
                &format!("in namespace \"{ns}\""),
                Some(ns),
            ));
            return Value::Null;
        }
    };
    let controller_sel: Vec<(&str, &str)> = CONTROLLER_LABELS
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let is_controller = |p: &Pod| {
        let labels = p.labels();
        controller_sel
            .iter()
            .all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
    };
    if !list.iter().any(is_controller) {
        findings.push(Finding {
            severity: Severity::Critical,
            area: "pods",
            object: format!("forklift-controller in \"{ns}\""),
            message: format!("no pod labelled {CONTROLLER_LABELS}: the controller (and its inventory) is not running, so nothing is validated or migrated"),
            next: None,
        });
    }
    let mut out = Vec::new();
    for p in &list {
        let name = p.name_any();
        let object = format!("Pod {ns}/{name}");
        let controller = is_controller(p);
        let status = p.status.clone().unwrap_or_default();
        let phase = status.phase.clone().unwrap_or_else(|| "Unknown".into());
        let mut containers = Vec::new();
        for c in status.container_statuses.iter().flatten() {
            let waiting = c
                .state
                .as_ref()
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.clone());
            containers.push(json!({"name": c.name, "ready": c.ready, "restarts": c.restart_count, "waiting": waiting}));
            if let Some(w) = waiting.as_deref().filter(|w| *w != "ContainerCreating") {
                findings.push(Finding {
                    severity: if controller {
                        Severity::Critical
                    } else {
                        Severity::Error
                    },
                    area: "pods",
                    object: object.clone(),
                    message: format!(
                        "container {} is waiting: {w} ({} restarts)",
                        c.name, c.restart_count
                    ),
                    next: Some(format!(
                        "get_logs {{\"pod\": {}, \"namespace\": {}, \"container\": {}}}",
                        q(&name),
                        q(ns),
                        q(&c.name)
                    )),
                });
            } else if c.restart_count > RESTARTS {
                findings.push(Finding {
                    severity: Severity::Warning,
                    area: "pods",
                    object: object.clone(),
                    message: format!("container {} restarted {} times", c.name, c.restart_count),
                    next: Some(format!(
                        "get_logs {{\"pod\": {}, \"namespace\": {}, \"container\": {}}}",
                        q(&name),
                        q(ns),
                        q(&c.name)
                    )),
                });
            }
        }
        if !matches!(phase.as_str(), "Running" | "Succeeded") {
            findings.push(Finding {
                severity: if controller {
                    Severity::Critical
                } else {
                    Severity::Error
                },
                area: "pods",
                object: object.clone(),
                message: format!("phase {phase}"),
                next: Some(format!(
                    "get_events {{\"kind\": \"Pod\", \"name\": {}, \"namespace\": {}}}",
                    q(&name),
                    q(ns)
                )),
            });
        }
        let mut entry = json!({"name": name, "controller": controller, "phase": phase, "containers": containers});
        if controller && !skip_logs {
            entry["logScan"] = scan_logs(ctx, &api, p, &name, ns, findings).await;
        }
        out.push(entry);
    }
    Value::Array(out)
}

async fn scan_logs(
    ctx: &CallContext,
    api: &Api<Pod>,
    p: &Pod,
    name: &str,
    ns: &str,
    findings: &mut Vec<Finding>,
) -> Value {
    let spec = p.spec.clone().unwrap_or_default();
    if spec.node_name.is_none() {
        return json!("skipped: the pod is not on a node");
    }
    let timeout = ctx
        .settings
        .kubelet_timeout
        .min(std::time::Duration::from_secs(10));
    let mut scans = serde_json::Map::new();
    for c in spec.containers.iter().map(|c| c.name.clone()) {
        let lp = LogParams {
            container: Some(c.clone()),
            tail_lines: Some(LOG_LINES),
            limit_bytes: Some(256 * 1024),
            ..Default::default()
        };
        let v = match tokio::time::timeout(timeout, api.logs(name, &lp)).await {
            Err(_) => json!(format!(
                "no logs: the kubelet did not answer within {} s",
                timeout.as_secs()
            )),
            Ok(Err(kube::Error::Api(s))) => {
                json!(format!("no logs: {} {}", s.code, s.message.trim()))
            }
            Ok(Err(e)) => json!(format!(
                "no logs: {}",
                crate::cluster::errors::error_chain(&e)
            )),
            Ok(Ok(log)) => {
                let errors = error_lines(&log);
                if let Some(last) = errors.last() {
                    findings.push(Finding {
                        severity: Severity::Warning,
                        area: "pods",
                        object: format!("Pod {ns}/{name}"),
                        message: format!(
                            "{} error line(s) in the last {LOG_LINES} of container {c}; last: {}",
                            errors.len(),
                            short(last)
                        ),
                        next: Some(format!(
                            "get_logs {{\"pod\": {}, \"namespace\": {}, \"container\": {}, \"grep\": \"(?i)error\"}}",
                            q(name),
                            q(ns),
                            q(&c)
                        )),
                    });
                }
                json!({"lines": log.lines().count(), "errors": errors.len()})
            }
        };
        scans.insert(c, v);
    }
    Value::Object(scans)
}

async fn run(ctx: &CallContext, args: Value) -> ToolResult {
    let a: CheckHealthArgs = parse_args("check_health", args)?;
    let all = a.all_namespaces.unwrap_or(false);
    if all && a.namespace.as_deref().is_some_and(|n| !n.is_empty()) {
        return Err(ToolError::Arguments {
            tool: "check_health".into(),
            detail: "give namespace or all_namespaces, not both".into(),
        });
    }
    let conn = ctx.connect().await?;
    let ns = (!all).then(|| conn.namespace_or_default(a.namespace.as_deref()));
    let scope = match &ns {
        Some(n) => format!("namespace \"{n}\""),
        None => "all namespaces".to_owned(),
    };
    let mut findings: Vec<Finding> = Vec::new();
    ctx.progress(0.0, Some(4.0), "operator");
    let op = operator(
        &conn,
        a.operator_namespace.as_deref().filter(|n| !n.is_empty()),
        &mut findings,
    )
    .await;
    let pods_json = match op["namespace"].as_str() {
        Some(op_ns) => {
            pods(
                ctx,
                &conn,
                op_ns,
                a.skip_logs.unwrap_or(false),
                &mut findings,
            )
            .await
        }
        None => Value::Null,
    };
    ctx.progress(1.0, Some(4.0), "providers");
    let providers: Vec<Provider> = list_in(&conn, ns.as_deref(), "providers", &mut findings).await;
    let mut providers_json = Vec::new();
    for p in &providers {
        let v = review_provider(&conn, p, &mut findings).await;
        if providers_json.len() < MAX_OBJECTS {
            providers_json.push(v);
        }
    }
    ctx.progress(2.0, Some(4.0), "plans and migrations");
    let plans: Vec<Plan> = list_in(&conn, ns.as_deref(), "plans", &mut findings).await;
    let mut plans_json = Vec::new();
    for p in &plans {
        if let Some(v) = review_plan(p, &mut findings) {
            if plans_json.len() < MAX_OBJECTS {
                plans_json.push(v);
            }
        }
    }
    let migs: Vec<Migration> = list_in(&conn, ns.as_deref(), "migrations", &mut findings).await;
    let stale = review_migrations(&migs, &plans, &mut findings);
    // Lists this identity was refused: the report cannot speak for them.
    let unread: Vec<String> = findings
        .iter()
        .filter(|f| f.area == "access" && f.message.starts_with("this identity may not list"))
        .map(|f| f.object.clone())
        .collect();
    if let Some(n) = ns.as_deref() {
        if unread.is_empty() && providers.is_empty() && plans.is_empty() && migs.is_empty() {
            findings.push(Finding {
                severity: Severity::Info,
                area: "scope",
                object: format!("namespace \"{n}\""),
                message: "holds no Providers, Plans or Migrations (is it the right namespace?)"
                    .into(),
                next: Some("get_providers {\"all_namespaces\": true}".into()),
            });
        }
    }
    ctx.progress(3.0, Some(4.0), "events");
    // Warning events of the namespaces in scope (for all namespaces: those
    // that hold providers or plans, at most 10).
    let mut event_namespaces: Vec<String> = match &ns {
        Some(n) => vec![n.clone()],
        None => {
            let mut v: Vec<String> = providers
                .iter()
                .filter_map(|p| p.namespace())
                .chain(plans.iter().filter_map(|p| p.namespace()))
                .collect();
            v.sort();
            v.dedup();
            v
        }
    };
    event_namespaces.truncate(10);
    let since = Timestamp::now()
        .checked_sub(SignedDuration::from_hours(24))
        .ok();
    let mut events_json = Vec::new();
    for en in &event_namespaces {
        let query = events::Query {
            namespace: en,
            objects: Vec::new(),
            kind_only: None,
            types: Some(vec![EventType::Warning]),
            since,
            limit: 5,
        };
        match events::query(&conn, &query).await {
            Ok((groups, total)) => {
                for g in &groups {
                    findings.push(Finding {
                        severity: Severity::Warning,
                        area: "events",
                        object: g.objects.join(", "),
                        message: format!(
                            "{}{}: {}",
                            g.reason,
                            if g.count > 1 {
                                format!(" (×{})", g.count)
                            } else {
                                String::new()
                            },
                            g.message.trim()
                        ),
                        next: Some(format!(
                            "get_events {{\"namespace\": {}, \"types\": [\"Warning\"]}}",
                            q(en)
                        )),
                    });
                    events_json.push(json!({"namespace": en, "event": g.to_json()}));
                }
                if total > groups.len() {
                    events_json.push(json!({"namespace": en, "more": total - groups.len()}));
                }
            }
            Err(_) => findings.push(Finding {
                severity: Severity::Info,
                area: "access",
                object: "events".into(),
                message: format!(
                    "this identity may not list events in namespace \"{en}\": not reviewed"
                ),
                next: Some(format!("check_access {{\"namespace\": {}}}", q(en))),
            }),
        }
    }
    findings.sort_by_key(|f| f.severity);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in [
        Severity::Critical,
        Severity::Error,
        Severity::Warning,
        Severity::Info,
    ] {
        counts.insert(
            s.word(),
            findings.iter().filter(|f| f.severity == s).count(),
        );
    }
    let status = if counts["critical"] + counts["error"] > 0 {
        "unhealthy"
    } else if !unread.is_empty() {
        "not fully assessed (this identity may not read everything)"
    } else if counts["warning"] > 0 {
        "degraded"
    } else {
        "healthy"
    };
    // The text: a summary, then findings by severity.
    let ready_providers = providers_json.iter().filter(|p| p["ready"] == true).count();
    let mut text = format!(
        "Forklift health ({scope}): {status} — {} critical, {} error, {} warning, {} info.",
        counts["critical"], counts["error"], counts["warning"], counts["info"]
    );
    text.push_str(&format!(
        "\nOperator: {}{}.",
        op["namespace"]
            .as_str()
            .map(|n| format!("namespace {n}"))
            .unwrap_or_else(|| "not found".into()),
        op["version"]
            .as_str()
            .map(|v| format!(", version {v}"))
            .unwrap_or_default()
    ));
    if let Some(fc) = op.get("forkliftController") {
        let conds: Vec<String> = fc["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                format!(
                    "{}={}",
                    c["type"].as_str().unwrap_or("?"),
                    c["status"].as_str().unwrap_or("?")
                )
            })
            .collect();
        text.push_str(&format!(
            " ForkliftController {}: {}.",
            fc["name"].as_str().unwrap_or_default(),
            if conds.is_empty() {
                "no conditions".into()
            } else {
                conds.join(", ")
            }
        ));
    }
    if let Some(ps) = pods_json.as_array() {
        let lines: Vec<String> = ps
            .iter()
            .map(|p| {
                let restarts: i64 = p["containers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["restarts"].as_i64())
                    .sum();
                format!(
                    "{} {} ({} restarts)",
                    p["name"].as_str().unwrap_or("?"),
                    p["phase"].as_str().unwrap_or("?"),
                    restarts
                )
            })
            .collect();
        text.push_str(&format!(
            "\nPods: {}.",
            if lines.is_empty() {
                "none".to_owned()
            } else {
                lines.join(", ")
            }
        ));
    }
    text.push_str(&format!(
        "\nProviders: {} ({} Ready). Plans: {} ({} with problems). Migrations: {} ({} running, {} stale).",
        providers.len(),
        ready_providers,
        plans.len(),
        plans_json.len(),
        migs.len(),
        migs.iter().filter(|m| migration_running(m)).count(),
        stale.len()
    ));
    if findings.is_empty() {
        text.push_str("\nNo findings.");
    } else {
        text.push_str("\nFindings:");
        for f in findings.iter().take(MAX_FINDINGS_SHOWN) {
            text.push_str("\n- ");
            text.push_str(&f.line());
        }
        if findings.len() > MAX_FINDINGS_SHOWN {
            text.push_str(&format!(
                "\n({} more findings not shown; narrow with namespace)",
                findings.len() - MAX_FINDINGS_SHOWN
            ));
        }
    }
    let findings_json: Vec<Value> = findings
        .iter()
        .take(MAX_FINDINGS_SHOWN)
        .map(Finding::to_json)
        .collect();
    Ok(ToolOutput::ok(
        text,
        Some(json!({
            "scope": {"namespace": ns, "allNamespaces": all},
            "status": status,
            "counts": counts,
            "operator": op,
            "pods": pods_json,
            "providers": providers_json,
            "plans": plans_json,
            "staleMigrations": stale,
            "events": events_json,
            "findings": findings_json,
        })),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_match_forklift_json_logs_and_plain_errors() {
        let log = "{\"level\":\"info\",\"msg\":\"ok\"}\n{\"level\":\"error\",\"msg\":\"boom\"}\nE1129 ERROR x\nall good\n";
        assert_eq!(error_lines(log).len(), 2);
        assert!(short(&"x".repeat(500)).ends_with('…'));
    }

    #[test]
    fn each_provider_type_needs_its_keys() {
        assert_eq!(required_keys("vsphere"), &[&["user", "password"][..]]);
        assert_eq!(required_keys("openstack").len(), 2);
        assert!(required_keys("ova").is_empty());
    }
}
