//! `get_inventory`: a provider's inventory (VMs, networks, storage, …) from
//! Forklift's inventory service, with the caller's identity, filtered by
//! upstream kubectl-mtv's query language, bounded.

use futures::future::BoxFuture;
use kube::api::Api;
use kube::ResourceExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use super::client::{self, Inventory};
use super::query;
use super::resources::{self, Resource};
use crate::tools::forklift::{kube_failure, provider_conditions, true_condition, Provider};
use crate::tools::schema::{self, Hints};
use crate::tools::{
    parse_args, CallContext, Tool, ToolDefinition, ToolError, ToolOutput, ToolResult,
};

/// Items returned when the caller gives no limit, and the most it may ask.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;
/// Text budget of one result; items past it are left out (and counted).
const TEXT_BUDGET: usize = 24 * 1024;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetInventoryArgs {
    /// Provider name (a Provider in namespace).
    pub provider: String,
    /// Namespace of the Provider (default: the kubeconfig context's).
    pub namespace: Option<String>,
    /// vm, network, storage, host, cluster, datacenter, folder, namespace, disk, pvc, datavolume, subnet, flavor, image, project, volume, volumetype, snapshot.
    pub resource: String,
    /// [select f, …] [where …] [order by f [asc|desc]] [limit N]
    pub query: Option<String>,
    /// One item by name or id.
    pub name: Option<String>,
    /// Dotted fields per item instead of the summary (["*"]: whole objects).
    pub fields: Option<Vec<String>>,
    /// Most items (default 50, at most 500).
    pub limit: Option<usize>,
}

pub struct GetInventory {
    definition: ToolDefinition,
}

impl GetInventory {
    pub fn new() -> Self {
        GetInventory {
            definition: ToolDefinition::new(schema::definition::<GetInventoryArgs>(
                "get_inventory",
                "Source inventory of a provider",
                "A provider's inventory: VMs (ids, power, CPU, memory, disks, concerns), networks, storage, …, e.g. the VM ids a plan needs. `query` is kubectl-mtv's language, e.g. \"where powerState = 'poweredOn' and memoryMB > 8192\".",
                Hints::READ,
            )),
        }
    }
}

impl Default for GetInventory {
    fn default() -> Self {
        Self::new()
    }
}

impl Tool for GetInventory {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
        Box::pin(run(ctx, args))
    }
}

/// A Provider that exists and is Ready, or why not.
pub async fn ready_provider(
    conn: &crate::cluster::Connection,
    ns: &str,
    name: &str,
) -> Result<Provider, ToolError> {
    let api: Api<Provider> = Api::namespaced(conn.client.clone(), ns);
    let p = api
        .get(name)
        .await
        .map_err(|e| kube_failure(&e, "get", "Provider", Some(name), ns, conn))?;
    let conds = provider_conditions(&p);
    if true_condition(&conds, "Ready").is_none() {
        let why: Vec<String> = conds
            .iter()
            .filter(|c| c.is_true() || c.kind == "Ready")
            .map(|c| {
                format!(
                    "{}={} ({})",
                    c.kind,
                    c.status,
                    c.message.as_deref().unwrap_or("-").trim_end_matches('.')
                )
            })
            .collect();
        return Err(ToolError::refused(format!(
            "Provider {ns}/{name} is not Ready, so Forklift has no inventory for it yet{}. See get_events {{\"kind\": \"Provider\", \"name\": \"{name}\", \"namespace\": \"{ns}\"}}.",
            if why.is_empty() {
                " (it has no status: the controller has not tested it)".to_owned()
            } else {
                format!(": {}", why.join("; "))
            }
        )));
    }
    Ok(p)
}

/// Refuses a query that reads a field no item has (a typo, or a value
/// left unquoted), naming close field names.
pub fn check_fields(q: &query::Query, text: &str, items: &[Value]) -> Result<(), ToolError> {
    if items.is_empty() {
        return Ok(());
    }
    let present = |p: &query::Path| {
        items.iter().any(|i| match p.resolve(i) {
            Value::Null => false,
            Value::Array(a) => a.iter().any(|v| !v.is_null()),
            _ => true,
        })
    };
    let mut keys: Vec<&str> = items
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|o| o.keys().map(String::as_str))
        .collect();
    keys.sort();
    keys.dedup();
    for f in q.fields() {
        if present(&f.path) {
            continue;
        }
        let name = f.path.as_str();
        let head = name.split(['.', '[']).next().unwrap_or_default();
        let close = crate::tools::suggest::close_matches(head, keys.iter().copied(), 3, 5);
        let mut msg =
            format!("Invalid query (nothing was fetched): no item has the field \"{name}\"");
        if !close.is_empty() {
            msg.push_str(&format!(" (close: {})", close.join(", ")));
        }
        if f.rhs && !name.contains('.') {
            msg.push_str(&format!(". If you meant the value, quote it: '{name}'"));
        }
        msg.push_str(&format!(
            ".\n  {text}\nSee the fields of one item with fields: [\"*\"] and a name."
        ));
        return Err(ToolError::invalid(msg));
    }
    Ok(())
}

/// When nothing matched: the values the compared text fields do have.
fn value_hints(q: &query::Query, items: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for f in q.fields().iter().filter(|f| !f.rhs) {
        let mut values: Vec<String> = items
            .iter()
            .filter_map(|i| f.path.resolve(i).as_str().map(str::to_owned))
            .collect();
        values.sort();
        values.dedup();
        if !values.is_empty() && values.len() <= 8 {
            out.push(format!(
                "{} is one of: {}",
                f.path.as_str(),
                values.join(", ")
            ));
        }
    }
    out
}

/// A query that does not parse or evaluate, with a caret under the spot.
fn query_error(e: &query::QueryError, text: &str) -> ToolError {
    ToolError::invalid(format!(
        "Invalid query (nothing was fetched): {e}\n  {}\nThe language is kubectl-mtv's: [select f, …] [where …] [order by f [asc|desc]] [limit N], e.g. where powerState = 'poweredOn' and memoryMB > 8192.",
        e.pointer(text).replace('\n', "\n  ")
    ))
}

/// One item as a line of `key=value` pairs (empty values left out).
fn line(item: &Value) -> String {
    let Some(obj) = item.as_object() else {
        return item.to_string();
    };
    let name = obj.get("name").and_then(Value::as_str).unwrap_or("");
    let mut parts = vec![name.to_owned()];
    for (k, v) in obj {
        if k == "name" {
            continue;
        }
        let v = match v {
            Value::String(s) if s.is_empty() => continue,
            Value::Null => continue,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        parts.push(format!("{k}={v}"));
    }
    parts.join("  ")
}

async fn run(ctx: &CallContext, args: Value) -> ToolResult {
    let a: GetInventoryArgs = parse_args("get_inventory", args)?;
    let resource = Resource::parse(&a.resource).ok_or_else(|| ToolError::Arguments {
        tool: "get_inventory".into(),
        detail: format!(
            "resource \"{}\" is not an inventory resource; use one of: vm, network, storage, host, cluster, datacenter, folder, namespace, disk, pvc, datavolume, subnet, flavor, image, project, region, volume, volumetype, snapshot, instancetype",
            a.resource
        ),
    })?;
    let q = match a.query.as_deref().filter(|q| !q.trim().is_empty()) {
        Some(text) => Some(query::parse(text).map_err(|e| query_error(&e, text))?),
        None => None,
    };
    let limit = a.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let conn = ctx.connect().await?;
    let ns = conn.namespace_or_default(a.namespace.as_deref());
    let provider = ready_provider(&conn, &ns, &a.provider).await?;
    let ptype = provider.spec.r#type.clone();
    let uid = provider.uid().unwrap_or_default();
    let Some(coll) = resources::collection(&ptype, resource) else {
        return Err(ToolError::invalid(format!(
            "A {ptype} provider has no {} in its inventory; it has: {}.",
            resource.name(),
            resources::available(&ptype).join(", ")
        )));
    };
    let settings = &ctx.settings.inventory;
    let located = client::locate(&conn, settings, &ns).await?;
    let inventory = Inventory::connect(&ctx.access, &ctx.identity, located, settings).await?;
    let body = inventory
        .get(
            &format!("/providers/{ptype}/{uid}/{coll}?detail=4"),
            &a.provider,
        )
        .await?;
    let Value::Array(mut items) = body else {
        return Err(ToolError::refused(format!(
            "The inventory at {} answered {coll} with something that is not a list.",
            inventory.located.url
        )));
    };
    for item in &mut items {
        resources::augment(item, resource, &a.provider, &ptype);
    }
    let listed = items.len();
    if let Some(name) = &a.name {
        let matches = |i: &Value| {
            i["name"] == name.as_str() || i["id"] == name.as_str() || i["uid"] == name.as_str()
        };
        let hits: Vec<Value> = items.iter().filter(|i| matches(i)).cloned().collect();
        if hits.is_empty() {
            let lower = name.to_lowercase();
            let close: Vec<&str> = items
                .iter()
                .filter_map(|i| i["name"].as_str())
                .filter(|n| {
                    let n = n.to_lowercase();
                    n.contains(&lower) || lower.contains(&n)
                })
                .take(5)
                .collect();
            return Err(ToolError::refused(format!(
                "No {} named or with id \"{name}\" in provider {}'s inventory ({listed} in all){}.",
                resource.name(),
                a.provider,
                if close.is_empty() {
                    String::new()
                } else {
                    format!("; close: {}", close.join(", "))
                }
            )));
        }
        items = hits;
    }
    let all_items = items.clone();
    let (items, matched) = match &q {
        Some(q) => {
            check_fields(q, a.query.as_deref().unwrap_or_default(), &items)?;
            let applied = q
                .apply(items)
                .map_err(|e| query_error(&e, a.query.as_deref().unwrap_or_default()))?;
            (applied.items, applied.matched_total)
        }
        None => {
            let n = items.len();
            (items, n)
        }
    };
    let fields = a.fields.clone().unwrap_or_default();
    let whole = fields.iter().any(|f| f == "*");
    let shape = |item: &Value| -> Value {
        if whole {
            item.clone()
        } else if let Some(q) = q.as_ref().filter(|q| !q.select.is_empty()) {
            let mut v = q.project(item);
            if let (Some(o), Some(n)) = (v.as_object_mut(), item.get("name")) {
                o.entry("name").or_insert(n.clone());
            }
            v
        } else if !fields.is_empty() {
            let mut v = crate::tools::fields::select(item, &fields);
            for k in ["name", "id"] {
                if let (Some(o), Some(x)) = (v.as_object_mut(), item.get(k)) {
                    o.entry(k).or_insert(x.clone());
                }
            }
            v
        } else {
            resources::summary(item, resource)
        }
    };
    let what = resource.name();
    let mut text = String::new();
    let mut shown = Vec::new();
    let mut budget_cut = false;
    for item in items.iter().take(limit) {
        let v = shape(item);
        let l = if whole {
            serde_json::to_string(&v).unwrap_or_default()
        } else {
            line(&v)
        };
        if text.len() + l.len() > TEXT_BUDGET {
            budget_cut = true;
            break;
        }
        text.push_str("\n- ");
        text.push_str(&l);
        shown.push(v);
    }
    let filtered = q.is_some() || a.name.is_some();
    let mut out = if matched == 0 {
        format!(
            "No {what} matches in the inventory of provider {ns}/{} ({ptype}; {listed} listed).",
            a.provider
        )
    } else {
        format!(
            "{} of {matched} {what}(s){} in the inventory of provider {ns}/{} ({ptype}):",
            shown.len(),
            if filtered {
                format!(" matching ({listed} listed)")
            } else {
                String::new()
            },
            a.provider
        )
    };
    out.push_str(&text);
    if matched == 0 {
        if let Some(q) = &q {
            for h in value_hints(q, &all_items) {
                out.push_str(&format!("\n{h}"));
            }
        }
    }
    let query_limited = q
        .as_ref()
        .and_then(|q| q.limit)
        .is_some_and(|l| shown.len() >= l.min(matched));
    if shown.len() < matched && !query_limited {
        out.push_str(&format!(
            "\n({} more not shown{}; narrow the query, or raise limit (at most {MAX_LIMIT}))",
            matched - shown.len(),
            if budget_cut {
                ", the result size budget was reached"
            } else {
                ""
            }
        ));
    }
    let totals = (resource == Resource::Vm && matched > 1).then(|| resources::vm_totals(&items));
    if let Some(t) = &totals {
        out.push_str(&format!(
            "\nTotals of the {} matched: {} CPUs, {} GB memory, {} GB disk capacity, {} GB used.",
            t["vms"], t["cpuCount"], t["memoryGB"], t["diskCapacityGB"], t["storageUsedGB"]
        ));
    }
    Ok(ToolOutput::ok(
        out,
        Some(json!({
            "provider": {"name": a.provider, "namespace": ns, "type": ptype},
            "resource": what,
            "collection": coll,
            "listed": listed,
            "matched": matched,
            "returned": shown.len(),
            "items": shown,
            "totals": totals,
        })),
    ))
}
