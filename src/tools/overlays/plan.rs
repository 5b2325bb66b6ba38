//! `create_plan`, guided: an overlay on the generated tool. Besides `spec`
//! (still accepted, with reference checks), it takes the source provider
//! and the VMs by name or id (or an inventory query), resolves them through
//! Forklift's inventory, builds a NetworkMap from the VMs' networks and a
//! StorageMap from their datastores (unless existing maps are named), and
//! creates maps and plan so that a failure half-way leaves nothing behind.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::ResourceExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::references::{self, ALLOW};
use crate::catalogue::find_resource;
use crate::cluster::Connection;
use crate::tools::crud::ops::{to_value, FIELD_MANAGER};
use crate::tools::forklift::{kube_failure, Provider};
use crate::tools::inventory::client::{self, Inventory};
use crate::tools::inventory::query;
use crate::tools::inventory::resources::{augment, Resource};
use crate::tools::inventory::tool::ready_provider;
use crate::tools::{parse_args, CallContext, Overlay, Tool, ToolError, ToolOutput, ToolResult};

/// The guided form's arguments (with the generated tool's own).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuidedPlanArgs {
    pub name: String,
    pub namespace: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
    pub dry_run: Option<bool>,
    /// Source Provider (instead of spec: the guided form).
    pub source_provider: String,
    /// Target Provider (default: the namespace's only openshift provider).
    pub target_provider: Option<String>,
    /// Namespace of the migrated VMs (default: the plan's).
    pub target_namespace: Option<String>,
    /// VM names or ids in the source inventory.
    pub vms: Option<Vec<String>>,
    /// Or a get_inventory query choosing the VMs, e.g. "where name ~= '^web-'".
    pub vm_query: Option<String>,
    /// Warm migration (copy while running, cut over later).
    pub warm: Option<bool>,
    /// Plan description.
    pub description: Option<String>,
    /// Power state of the migrated VMs.
    pub target_power_state: Option<PowerState>,
    /// Reuse this NetworkMap (default: one built from the VMs' networks).
    pub network_map: Option<String>,
    /// Reuse this StorageMap (default: one built from the VMs' datastores).
    pub storage_map: Option<String>,
    /// Built NetworkMap's destination: pod (default) or a NetworkAttachmentDefinition ns/name.
    pub target_network: Option<String>,
    /// Built StorageMap's storage class (default: the target's default class).
    pub storage_class: Option<String>,
    /// Save even if references are missing.
    pub allow_missing_references: Option<bool>,
}

#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PowerState {
    On,
    Off,
    Auto,
}

/// Arguments only the guided form has.
const GUIDED: [&str; 12] = [
    "source_provider",
    "target_provider",
    "target_namespace",
    "vms",
    "vm_query",
    "warm",
    "description",
    "target_power_state",
    "network_map",
    "storage_map",
    "target_network",
    "storage_class",
];

pub struct GuidedPlan;

impl Overlay for GuidedPlan {
    fn target(&self) -> &str {
        "create_plan"
    }

    fn definition(&self, base: &Value) -> Value {
        let guided = crate::tools::schema::input::<GuidedPlanArgs>();
        super::with_alternative_form(
            &references::with_allow(base),
            "spec",
            GUIDED
                .iter()
                .map(|k| (k.to_string(), guided["properties"][k].clone())),
            "Or the guided form instead of spec: source_provider and vms (names or ids) or vm_query; VM ids, network and storage maps are built from Forklift's inventory.",
        )
    }

    fn call<'a>(
        &'a self,
        ctx: &'a CallContext,
        args: Value,
        base: &'a dyn Tool,
    ) -> BoxFuture<'a, ToolResult> {
        Box::pin(async move {
            let guided = GUIDED.iter().any(|k| args.get(*k).is_some());
            if !guided {
                return references::checked_call(ctx, args, "spec", "Plan", base).await;
            }
            if args.get("spec").is_some() {
                return Err(ToolError::invalid(
                    "Give either spec or the guided form (source_provider, vms or vm_query, …), not both. Nothing was sent to the cluster.",
                ));
            }
            let a: GuidedPlanArgs = parse_args("create_plan", args)?;
            guided_create(ctx, a, base).await
        })
    }
}

/// `ns/name` or `name` (in `default_ns`).
fn split_ref(r: &str, default_ns: &str) -> (String, String) {
    match r.split_once('/') {
        Some((ns, name)) => (ns.to_owned(), name.to_owned()),
        None => (default_ns.to_owned(), r.to_owned()),
    }
}

fn api(conn: &Connection, kind: &str, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        conn.client.clone(),
        ns,
        &find_resource(kind).expect("a Forklift kind").api_resource(),
    )
}

async fn exists(conn: &Connection, kind: &str, ns: &str, name: &str) -> Result<bool, ToolError> {
    api(conn, kind, ns)
        .get_opt(name)
        .await
        .map(|o| o.is_some())
        .map_err(|e| kube_failure(&e, "get", kind, Some(name), ns, conn))
}

/// The namespace's only OpenShift provider, or why there is none.
async fn default_target(conn: &Connection, ns: &str) -> Result<String, ToolError> {
    let providers: Api<Provider> = Api::namespaced(conn.client.clone(), ns);
    let list = providers
        .list(&Default::default())
        .await
        .map_err(|e| kube_failure(&e, "list", "Provider", None, ns, conn))?;
    let ocp: Vec<String> = list
        .items
        .iter()
        .filter(|p| p.spec.r#type == "openshift")
        .map(|p| p.name_any())
        .collect();
    match ocp.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(ToolError::refused(format!(
            "No OpenShift provider in namespace \"{ns}\" to migrate to: create one (create_provider with type openshift and no url is the local cluster), or name it with target_provider."
        ))),
        many => Err(ToolError::refused(format!(
            "Namespace \"{ns}\" has {} OpenShift providers ({}): name one with target_provider.",
            many.len(),
            many.join(", ")
        ))),
    }
}

/// A VM's source network ids and datastore (or storage) ids, per provider type.
struct Sources {
    networks: Vec<String>,
    storages: Vec<String>,
}

fn ids_at(vm: &Value, list: &str, field: &[&str]) -> Vec<String> {
    vm[list]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| {
                    let mut v = i;
                    for f in field {
                        v = &v[*f];
                    }
                    v.as_str().map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn push_unique(into: &mut Vec<String>, items: Vec<String>) {
    for i in items {
        if !i.is_empty() && !into.contains(&i) {
            into.push(i);
        }
    }
}

/// Name of the object with this id in an inventory collection.
fn name_of(collection: &[Value], id: &str) -> String {
    collection
        .iter()
        .find(|o| o["id"] == id || o["ID"] == id)
        .and_then(|o| o["name"].as_str().or_else(|| o["Name"].as_str()))
        .unwrap_or(id)
        .to_owned()
}

/// Resolves the chosen VMs' networks and storage through the inventory.
async fn sources(
    inv: &Inventory,
    base: &str,
    ptype: &str,
    vms: &[Value],
    provider: &str,
) -> Result<(Sources, Vec<Value>, Vec<Value>), ToolError> {
    let get = |coll: &'static str| async move {
        inv.get(&format!("{base}/{coll}?detail=4"), provider)
            .await
            .map(|v| v.as_array().cloned().unwrap_or_default())
    };
    let mut s = Sources {
        networks: Vec::new(),
        storages: Vec::new(),
    };
    let networks = get("networks").await?;
    let storages;
    match ptype {
        "vsphere" => {
            for vm in vms {
                push_unique(&mut s.networks, ids_at(vm, "networks", &["id"]));
                push_unique(&mut s.storages, ids_at(vm, "disks", &["datastore", "id"]));
            }
            storages = get("datastores").await?;
        }
        "ovirt" => {
            let profiles = get("nicprofiles").await?;
            let disks = get("disks").await?;
            for vm in vms {
                let nets = ids_at(vm, "nics", &["profile"])
                    .iter()
                    .filter_map(|p| profiles.iter().find(|x| x["id"] == p.as_str()).and_then(|x| x["network"].as_str()).map(str::to_owned))
                    .collect();
                push_unique(&mut s.networks, nets);
                let sds = ids_at(vm, "diskAttachments", &["disk"])
                    .iter()
                    .filter_map(|d| disks.iter().find(|x| x["id"] == d.as_str()).and_then(|x| x["storageDomain"].as_str()).map(str::to_owned))
                    .collect();
                push_unique(&mut s.storages, sds);
            }
            storages = get("storagedomains").await?;
        }
        "openstack" => {
            let volumes = get("volumes").await?;
            let types = get("volumetypes").await?;
            for vm in vms {
                let names: Vec<String> = vm["addresses"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
                let ids = names
                    .iter()
                    .map(|n| networks.iter().find(|x| x["name"] == n.as_str()).and_then(|x| x["id"].as_str()).unwrap_or(n).to_owned())
                    .collect();
                push_unique(&mut s.networks, ids);
                let vts = ids_at(vm, "attachedVolumes", &["ID"])
                    .iter()
                    .filter_map(|v| volumes.iter().find(|x| x["id"] == v.as_str()).and_then(|x| x["volumeType"].as_str()))
                    .map(|t| types.iter().find(|x| x["name"] == t).and_then(|x| x["id"].as_str()).unwrap_or(t).to_owned())
                    .collect();
                push_unique(&mut s.storages, vts);
            }
            storages = types;
        }
        other => {
            return Err(ToolError::refused(format!(
                "Building maps from the inventory of a {other} provider is not supported here: create the NetworkMap and StorageMap first (create_networkmap, create_storagemap) and name them with network_map and storage_map."
            )))
        }
    }
    Ok((s, networks, storages))
}

/// The target's storage class for migrated disks: the one asked for, else
/// the default for VMs, else the cluster default.
async fn storage_class(
    inv: &Inventory,
    target: &Provider,
    asked: Option<&str>,
) -> Result<String, ToolError> {
    if let Some(c) = asked {
        return Ok(c.to_owned());
    }
    let uid = target.uid().unwrap_or_default();
    let classes = inv
        .get(
            &format!("/providers/openshift/{uid}/storageclasses?detail=4"),
            &target.name_any(),
        )
        .await
        .map_err(|e| {
            ToolError::refused(format!(
                "Cannot read the target's storage classes ({e}); name one with storage_class."
            ))
        })?;
    let classes = classes.as_array().cloned().unwrap_or_default();
    let annotated = |key: &str| {
        classes
            .iter()
            .find(|c| c["object"]["metadata"]["annotations"][key] == "true")
            .and_then(|c| c["name"].as_str().map(str::to_owned))
    };
    annotated("storageclass.kubevirt.io/is-default-virt-class")
        .or_else(|| annotated("storageclass.kubernetes.io/is-default-class"))
        .ok_or_else(|| {
            let names: Vec<&str> = classes.iter().filter_map(|c| c["name"].as_str()).collect();
            ToolError::refused(format!(
                "The target cluster has no default storage class; name one with storage_class: {}.",
                names.join(", ")
            ))
        })
}

/// Picks the VMs by name or id; an unknown one is an error with close names.
fn choose(all: &[Value], wanted: &[String]) -> Result<Vec<Value>, ToolError> {
    let mut out: Vec<Value> = Vec::new();
    let mut unknown = Vec::new();
    for w in wanted {
        match all
            .iter()
            .find(|v| v["id"] == w.as_str() || v["name"] == w.as_str())
        {
            Some(v) if !out.iter().any(|o| o["id"] == v["id"]) => out.push(v.clone()),
            Some(_) => {}
            None => {
                let names = crate::tools::suggest::close_matches(
                    w,
                    all.iter().filter_map(|v| v["name"].as_str()),
                    2,
                    3,
                );
                unknown.push(if names.is_empty() {
                    format!("\"{w}\"")
                } else {
                    format!("\"{w}\" (close: {})", names.join(", "))
                });
            }
        }
    }
    if !unknown.is_empty() {
        return Err(ToolError::refused(format!(
            "Not in the source provider's inventory: {}. Nothing was created; list the VMs with get_inventory resource=vm.",
            unknown.join("; ")
        )));
    }
    Ok(out)
}

async fn guided_create(ctx: &CallContext, a: GuidedPlanArgs, base: &dyn Tool) -> ToolResult {
    let dry_run = a.dry_run.unwrap_or(false);
    let allow = a.allow_missing_references.unwrap_or(false);
    let wanted = match (&a.vms, &a.vm_query) {
        (Some(v), None) if !v.is_empty() => Some(v.clone()),
        (None, Some(_)) => None,
        _ => {
            return Err(ToolError::Arguments {
                tool: "create_plan".into(),
                detail: "give the VMs as vms (names or ids) or as vm_query, one of the two".into(),
            })
        }
    };
    let q = a
        .vm_query
        .as_deref()
        .map(|t| {
            query::parse(t).map_err(|e| {
                ToolError::invalid(format!(
                    "Invalid vm_query (nothing was created): {e}\n  {}",
                    e.pointer(t).replace('\n', "\n  ")
                ))
            })
        })
        .transpose()?;
    let conn = ctx.connect().await?;
    let ns = conn.namespace_or_default(a.namespace.as_deref());
    let (sns, sname) = split_ref(&a.source_provider, &ns);
    let source = ready_provider(&conn, &sns, &sname).await?;
    let (tns_p, tname) = match &a.target_provider {
        Some(t) => split_ref(t, &ns),
        None => (ns.clone(), default_target(&conn, &ns).await?),
    };
    let target = ready_provider(&conn, &tns_p, &tname).await?;
    let target_ns = a.target_namespace.clone().unwrap_or_else(|| ns.clone());
    let network_map_name = format!("{}-network", a.name);
    let storage_map_name = format!("{}-storage", a.name);

    // Nothing exists yet that this would collide with.
    if exists(&conn, "Plan", &ns, &a.name).await? {
        return Err(ToolError::refused(format!(
            "Plan {ns}/{} already exists; choose another name.",
            a.name
        )));
    }
    for (given, kind, name) in [
        (&a.network_map, "NetworkMap", &network_map_name),
        (&a.storage_map, "StorageMap", &storage_map_name),
    ] {
        match given {
            Some(m) => {
                let (mns, mname) = split_ref(m, &ns);
                if !exists(&conn, kind, &mns, &mname).await? && !allow {
                    return Err(ToolError::refused(format!(
                        "The {kind} {mns}/{mname} does not exist (see get_{}s). Nothing was created.",
                        kind.to_lowercase()
                    )));
                }
            }
            None if exists(&conn, kind, &ns, name).await? => {
                return Err(ToolError::refused(format!(
                    "A {kind} named {name} already exists in {ns}: reuse it with {} or choose another plan name. Nothing was created.",
                    if kind == "NetworkMap" { "network_map" } else { "storage_map" }
                )));
            }
            None => {}
        }
    }

    // The VMs, from the source inventory.
    let located = client::locate(&conn, &ctx.settings.inventory, &ns).await?;
    let inv =
        Inventory::connect(&ctx.access, &ctx.identity, located, &ctx.settings.inventory).await?;
    let stype = source.spec.r#type.clone();
    let sbase = format!("/providers/{stype}/{}", source.uid().unwrap_or_default());
    let mut all = inv
        .get(&format!("{sbase}/vms?detail=4"), &sname)
        .await?
        .as_array()
        .cloned()
        .unwrap_or_default();
    for vm in &mut all {
        augment(vm, Resource::Vm, &sname, &stype);
    }
    let chosen = match (&wanted, &q) {
        (Some(w), _) => choose(&all, w)?,
        (None, Some(q)) => {
            q.apply(all.clone())
                .map_err(|e| ToolError::invalid(format!("vm_query: {e}")))?
                .items
        }
        _ => unreachable!("checked above"),
    };
    if chosen.is_empty() {
        return Err(ToolError::refused(format!(
            "vm_query matched no VM of {sname} ({} listed). Nothing was created.",
            all.len()
        )));
    }

    // The maps to build.
    let need_maps = a.network_map.is_none() || a.storage_map.is_none();
    let built = if need_maps {
        Some(sources(&inv, &sbase, &stype, &chosen, &sname).await?)
    } else {
        None
    };
    let pair = json!({"source": {"name": sname, "namespace": sns}, "destination": {"name": tname, "namespace": tns_p}});
    let mut new_maps: Vec<(&'static str, Value)> = Vec::new();
    let mut map_notes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    if let (None, Some((s, networks, _))) = (&a.network_map, &built) {
        let dest = match a.target_network.as_deref().filter(|t| *t != "pod") {
            None => None,
            Some(t) => {
                let (nns, nname) = split_ref(t, &target_ns);
                Some(json!({"type": "multus", "name": nname, "namespace": nns}))
            }
        };
        let pairs: Vec<Value> = s
            .networks
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let to = match (&dest, i) {
                    (Some(d), _) => d.clone(),
                    (None, 0) => json!({"type": "pod"}),
                    // One pod network per VM: the others are left unattached.
                    (None, _) => json!({"type": "ignored"}),
                };
                let label = to["name"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| to["type"].as_str().unwrap_or_default().to_owned());
                map_notes
                    .entry("NetworkMap")
                    .or_default()
                    .push(format!("{} → {label}", name_of(networks, id)));
                json!({"source": {"id": id, "name": name_of(networks, id)}, "destination": to})
            })
            .collect();
        new_maps.push(("NetworkMap", json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "NetworkMap",
            "metadata": {"name": network_map_name, "namespace": ns}, "spec": {"provider": pair, "map": pairs}})));
    }
    if let (None, Some((s, _, storages))) = (&a.storage_map, &built) {
        let class = storage_class(&inv, &target, a.storage_class.as_deref()).await?;
        let pairs: Vec<Value> = s
            .storages
            .iter()
            .map(|id| {
                map_notes
                    .entry("StorageMap")
                    .or_default()
                    .push(format!("{} → {class}", name_of(storages, id)));
                json!({"source": {"id": id, "name": name_of(storages, id)}, "destination": {"storageClass": class}})
            })
            .collect();
        new_maps.push(("StorageMap", json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "StorageMap",
            "metadata": {"name": storage_map_name, "namespace": ns}, "spec": {"provider": pair, "map": pairs}})));
    }

    // The plan.
    let map_ref = |given: &Option<String>, built: &str| {
        let (mns, mname) = match given {
            Some(m) => split_ref(m, &ns),
            None => (ns.clone(), built.to_owned()),
        };
        json!({"name": mname, "namespace": mns})
    };
    let vms: Vec<Value> = chosen
        .iter()
        .map(|v| json!({"id": v["id"], "name": v["name"]}))
        .collect();
    let mut spec = json!({
        "provider": pair,
        "map": {"network": map_ref(&a.network_map, &network_map_name), "storage": map_ref(&a.storage_map, &storage_map_name)},
        "targetNamespace": target_ns,
        "vms": vms,
    });
    if a.warm == Some(true) {
        spec["type"] = json!("warm");
        spec["warm"] = json!(true);
    }
    if let Some(d) = &a.description {
        spec["description"] = json!(d);
    }
    if let Some(p) = a.target_power_state {
        spec["targetPowerState"] = serde_json::to_value(p).unwrap_or_default();
    }
    let mut warnings = Vec::new();
    if let (None, None, Some((s, networks, _))) = (&a.network_map, &a.target_network, &built) {
        for id in s.networks.iter().skip(1) {
            let on: Vec<&str> = chosen
                .iter()
                .filter(|vm| {
                    vm["networks"]
                        .as_array()
                        .is_some_and(|n| n.iter().any(|r| r["id"] == id.as_str()))
                })
                .filter_map(|vm| vm["name"].as_str())
                .collect();
            warnings.push(format!(
                "network {} is not attached after migration (a VM gets one pod network; the first, {}, took it): affects {}. Map all networks with target_network (a NetworkAttachmentDefinition), or patch the NetworkMap",
                name_of(networks, id),
                name_of(networks, &s.networks[0]),
                if on.is_empty() { "-".to_owned() } else { on.join(", ") }
            ));
        }
    }
    if let Ok(None) = Api::<k8s_openapi::api::core::v1::Namespace>::all(conn.client.clone())
        .get_opt(&target_ns)
        .await
    {
        let w = format!("the target namespace {target_ns} does not exist (create it first)");
        if !allow {
            return Err(ToolError::refused(format!(
                "{w}. Nothing was created; or pass {ALLOW}: true."
            )));
        }
        warnings.push(w);
    }

    // Create: maps, then the plan; a failure deletes what was made.
    let pp = PostParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.into()),
    };
    let mut created: Vec<(&'static str, String, Value)> = Vec::new();
    let undo = |made: Vec<(&'static str, String, Value)>| {
        let conn = conn.clone();
        let ns = ns.clone();
        async move {
            if dry_run {
                return;
            }
            for (kind, name, _) in made {
                let _ = api(&conn, kind, &ns)
                    .delete(&name, &DeleteParams::default())
                    .await;
            }
        }
    };
    for &(kind, ref obj) in &new_maps {
        let o: DynamicObject = serde_json::from_value(obj.clone()).expect("a valid object");
        let name = o.name_any();
        match api(&conn, kind, &ns).create(&pp, &o).await {
            Ok(made) => created.push((kind, name, to_value(&made))),
            Err(e) => {
                undo(created).await;
                return Err(kube_failure(&e, "create", kind, Some(&name), &ns, &conn));
            }
        }
    }
    let mut plan_args = json!({"name": a.name, "namespace": ns, "spec": spec, "dry_run": dry_run});
    if let Some(l) = &a.labels {
        plan_args["labels"] = json!(l);
    }
    if let Some(an) = &a.annotations {
        plan_args["annotations"] = json!(an);
    }
    let out = match base.call(ctx, plan_args).await {
        Ok(o) if !o.is_error => o,
        failed => {
            let kept: Vec<String> = created.iter().map(|(k, n, _)| format!("{k} {n}")).collect();
            undo(created).await;
            let why = match failed {
                Ok(o) => o.text,
                Err(e) => e.to_string(),
            };
            return Err(ToolError::refused(format!(
                "The Plan could not be created: {why}{}",
                if kept.is_empty() || dry_run {
                    String::new()
                } else {
                    format!(
                        "\nThe maps made for it were deleted again ({}); nothing was left behind.",
                        kept.join(", ")
                    )
                }
            )));
        }
    };
    let plan = out.structured.clone().unwrap_or_default();
    if !dry_run {
        let owner = OwnerReference {
            api_version: "forklift.konveyor.io/v1beta1".into(),
            kind: "Plan".into(),
            name: a.name.clone(),
            uid: plan
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            ..Default::default()
        };
        for (kind, name, _) in &created {
            let _ = api(&conn, kind, &ns)
                .patch(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"metadata": {"ownerReferences": [owner]}})),
                )
                .await;
        }
    }
    let listed: Vec<String> = chosen
        .iter()
        .map(|v| {
            format!(
                "{} ({})",
                v["name"].as_str().unwrap_or_default(),
                v["id"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let mut text =
        format!(
        "{} Plan {ns}/{} from {sname} to {tname}, target namespace {target_ns}{}: {} VM(s): {}.",
        if dry_run { "Would create" } else { "Created" },
        a.name,
        if dry_run { " (dry run: nothing was saved)" } else { "" },
        chosen.len(),
        listed.join(", ")
    );
    for (kind, name, _) in &created {
        text.push_str(&format!(
            "\n{} {kind} {ns}/{name}: {}",
            if dry_run { "Would create" } else { "Created" },
            map_notes
                .get(kind)
                .map(|n| n.join(", "))
                .unwrap_or_default()
        ));
    }
    for w in &warnings {
        text.push_str(&format!("\nWarning: {w}."));
    }
    if !dry_run {
        text.push_str(&format!(
            "\nForklift validates the plan now: describe_plan {{\"name\": \"{}\", \"namespace\": \"{ns}\"}} shows when it is Ready; then start_plan.",
            a.name
        ));
    }
    let mut maps = Map::new();
    for (kind, name, obj) in &created {
        maps.insert(kind.to_string(), json!({"name": name, "object": obj}));
    }
    Ok(ToolOutput::ok(
        text,
        Some(
            json!({"plan": plan, "maps": maps, "vms": vms, "dryRun": dry_run, "warnings": warnings}),
        ),
    ))
}

/// For a Plan given as a raw spec: `spec.vms` entries whose `id` is not a VM
/// id in the source provider's inventory (a name given as an id is the usual
/// mistake), each with what to write instead. Best effort: when the source
/// provider is not Ready or the inventory cannot be reached, nothing is said.
pub async fn unknown_vm_ids(
    ctx: &CallContext,
    conn: &Connection,
    ns: &str,
    spec: &Value,
) -> Vec<String> {
    let ids: Vec<(usize, &str)> = spec["vms"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, v)| v["id"].as_str().map(|id| (i, id)))
        .collect();
    let source = &spec["provider"]["source"];
    let (Some(sname), false) = (source["name"].as_str(), ids.is_empty()) else {
        return Vec::new();
    };
    let sns = source["namespace"]
        .as_str()
        .filter(|n| !n.is_empty())
        .unwrap_or(ns);
    let Ok(provider) = ready_provider(conn, sns, sname).await else {
        return Vec::new();
    };
    let Ok(located) = client::locate(conn, &ctx.settings.inventory, ns).await else {
        return Vec::new();
    };
    let Ok(inv) =
        Inventory::connect(&ctx.access, &ctx.identity, located, &ctx.settings.inventory).await
    else {
        return Vec::new();
    };
    let path = format!(
        "/providers/{}/{}/vms",
        provider.spec.r#type,
        provider.uid().unwrap_or_default()
    );
    let Ok(vms) = inv.get(&path, sname).await else {
        return Vec::new();
    };
    let vms = vms.as_array().cloned().unwrap_or_default();
    let known = |id: &str| vms.iter().any(|v| v["id"].as_str() == Some(id));
    ids.into_iter()
        .filter(|(_, id)| !known(id))
        .map(|(i, id)| {
            match vms.iter().find(|v| v["name"].as_str() == Some(id)) {
                Some(vm) => format!(
                    "spec.vms[{i}].id \"{id}\" is a VM name, not an id: write {{\"id\": \"{}\"}} (or {{\"name\": \"{id}\"}})",
                    vm["id"].as_str().unwrap_or_default()
                ),
                None => format!(
                    "spec.vms[{i}].id \"{id}\" is not a VM of {sns}/{sname} (see get_inventory resource vm)"
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vms_are_chosen_by_name_or_id_with_suggestions() {
        let all = vec![
            json!({"id": "vm-1", "name": "web-01"}),
            json!({"id": "vm-2", "name": "web-02"}),
            json!({"id": "vm-3", "name": "db-01"}),
        ];
        let got = choose(&all, &["web-01".into(), "vm-3".into(), "vm-1".into()]).unwrap();
        assert_eq!(
            got.iter().map(|v| v["id"].clone()).collect::<Vec<_>>(),
            [json!("vm-1"), json!("vm-3")]
        );
        let e = choose(&all, &["web-1".into(), "zzz".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"web-1\" (close: web-01, web-02)") && e.contains("\"zzz\""),
            "{e}"
        );
    }
}
