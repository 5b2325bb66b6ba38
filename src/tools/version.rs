//! What is installed: this server's version, the Forklift operator (its
//! namespace and version) and the inventory service (its URL and whether it
//! answers), as upstream `kubectl mtv version` reports them, and whether the
//! cluster's Forklift CRDs match the ones this build was generated from; shared by the
//! `version` command and the `get_version` tool.

use std::sync::Arc;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use super::inventory::client::{self, Inventory, InventorySettings};
use super::schema::{self, Hints};
use super::{parse_args, CallContext, Tool, ToolDefinition, ToolOutput, ToolResult, Toolset};
use crate::cluster::{install, ClusterAccess, Identity};

pub fn toolset() -> Toolset {
    Toolset {
        name: "version",
        tools: vec![Arc::new(GetVersion::new())],
    }
}

/// This build's version, as upstream prints it.
pub fn client_version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

/// The upstream-shaped report (`kubectl mtv version -o json`).
pub async fn report(
    access: &ClusterAccess,
    identity: &Identity,
    settings: &InventorySettings,
) -> Value {
    let mut v = json!({"clientVersion": client_version()});
    let conn = match access.connect(identity).await {
        Ok(c) => c,
        Err(e) => {
            v["operatorStatus"] = json!(format!("error: {}", e.message));
            v["inventoryStatus"] = json!("not available");
            return v;
        }
    };
    v["forkliftCrds"] = crd_drift(access, &conn).await;
    let operator = install::operator(&conn).await;
    match &operator {
        Some(op) => {
            v["operatorVersion"] = json!(op.version);
            v["operatorStatus"] = json!("installed");
            v["operatorNamespace"] = json!(op.namespace);
        }
        None => {
            v["operatorStatus"] = json!("not available");
        }
    }
    let ns = operator
        .map(|o| o.namespace)
        .unwrap_or_else(|| conn.default_namespace.clone());
    match client::locate(&conn, settings, &ns).await {
        Err(e) => {
            v["inventoryStatus"] = json!("not available");
            v["inventoryDetail"] = json!(e.to_string());
        }
        Ok(located) => {
            v["inventoryURL"] = json!(located.url);
            v["inventoryInsecure"] = json!(settings.insecure);
            v["inventoryFoundBy"] = json!(located.how);
            match Inventory::connect(access, identity, located, settings).await {
                Err(e) => {
                    v["inventoryStatus"] = json!("unknown");
                    v["inventoryDetail"] = json!(e.to_string());
                }
                Ok(inv) => match inv.get("/providers?detail=0", "-").await {
                    Ok(_) => v["inventoryStatus"] = json!("available"),
                    Err(e) => {
                        let text = e.to_string();
                        // It answered, but not to these credentials.
                        let answered = text.contains("(401)") || text.contains("(403)");
                        v["inventoryStatus"] = json!(if answered {
                            "available"
                        } else {
                            "not available"
                        });
                        v["inventoryDetail"] = json!(text);
                    }
                },
            }
        }
    }
    v
}

/// How long `version` waits for the CRD comparison.
const CRD_CHECK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether the cluster's Forklift CRDs match the ones this build was generated from.
async fn crd_drift(access: &ClusterAccess, conn: &crate::cluster::Connection) -> Value {
    match access.drift().result(conn, CRD_CHECK_WAIT).await {
        Ok(r) if r.identical => json!({"status": "match"}),
        Ok(r) => json!({"status": "differ", "summary": r.drift.summary()}),
        Err(why) => json!({"status": "unknown", "detail": why}),
    }
}

/// The report as upstream's table.
pub fn table(v: &Value) -> String {
    let mut t = format!(
        "kubectl-mtv version: {}\n",
        v["clientVersion"].as_str().unwrap_or_default()
    );
    let status = v["operatorStatus"].as_str().unwrap_or("not available");
    match v["operatorVersion"].as_str() {
        Some(ver) => t.push_str(&format!("MTV Operator: {ver}\n")),
        None => t.push_str(&format!(
            "MTV Operator: {}\n",
            if status == "not available" {
                "not found"
            } else {
                status
            }
        )),
    }
    if let Some(ns) = v["operatorNamespace"].as_str() {
        t.push_str(&format!("MTV Namespace: {ns}\n"));
    }
    match (v["inventoryURL"].as_str(), v["inventoryStatus"].as_str()) {
        (Some(url), Some("available")) => t.push_str(&format!(
            "MTV Inventory: {url}{}\n",
            if v["inventoryInsecure"] == true {
                " (insecure)"
            } else {
                ""
            }
        )),
        (Some(url), Some(s)) => t.push_str(&format!("MTV Inventory: {url} ({s})\n")),
        _ => t.push_str("MTV Inventory: not available\n"),
    }
    if let Some(d) = v["inventoryDetail"].as_str() {
        t.push_str(&format!("  {d}\n"));
    }
    let crds = &v["forkliftCrds"];
    match crds["status"].as_str() {
        Some("match") => t.push_str("Forklift CRDs: match this build\n"),
        Some("differ") => t.push_str(&format!(
            "Forklift CRDs: differ from this build ({}); see kubectl-mtv crds diff\n",
            crds["summary"].as_str().unwrap_or_default()
        )),
        Some(_) => t.push_str(&format!(
            "Forklift CRDs: not compared ({})\n",
            crds["detail"].as_str().unwrap_or_default()
        )),
        None => {}
    }
    t
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetVersionArgs {}

pub struct GetVersion {
    definition: ToolDefinition,
}

impl GetVersion {
    pub fn new() -> Self {
        GetVersion {
            definition: ToolDefinition::new(schema::definition::<GetVersionArgs>(
                "get_version",
                "Versions of this server, Forklift and its inventory",
                "This server's version, the Forklift (MTV) operator's namespace and version, and the inventory service's URL and whether it answers.",
                Hints::READ,
            )),
        }
    }
}

impl Default for GetVersion {
    fn default() -> Self {
        Self::new()
    }
}

impl Tool for GetVersion {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
        Box::pin(async move {
            let _: GetVersionArgs = parse_args("get_version", args)?;
            let v = report(&ctx.access, &ctx.identity, &ctx.settings.inventory).await;
            Ok(ToolOutput::ok(table(&v).trim_end().to_owned(), Some(v)))
        })
    }
}
