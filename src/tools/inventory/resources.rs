//! Which inventory collection a resource name means for each provider type
//! (upstream kubectl-mtv's names, singular or plural), the fields upstream
//! adds to items, and the columns a summary shows.

use serde_json::{json, Value};

/// A kind of inventory object, by the name users give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Vm,
    Network,
    Storage,
    Host,
    Cluster,
    Datacenter,
    Folder,
    Namespace,
    Disk,
    DiskProfile,
    NicProfile,
    Pvc,
    DataVolume,
    Subnet,
    Flavor,
    Image,
    Project,
    Region,
    Volume,
    VolumeType,
    Snapshot,
    InstanceType,
}

/// Every resource with the names it answers to (compared without `-`/`_`,
/// case-insensitive, an `ec2-` prefix dropped).
const NAMES: &[(Resource, &[&str])] = &[
    (
        Resource::Vm,
        &[
            "vm",
            "vms",
            "virtualmachine",
            "virtualmachines",
            "instance",
            "instances",
        ],
    ),
    (
        Resource::Network,
        &[
            "network",
            "networks",
            "nad",
            "nads",
            "networkattachmentdefinition",
            "networkattachmentdefinitions",
        ],
    ),
    (
        Resource::Storage,
        &[
            "storage",
            "storages",
            "datastore",
            "datastores",
            "storagedomain",
            "storagedomains",
            "storageclass",
            "storageclasses",
            "storagecontainer",
            "storagecontainers",
        ],
    ),
    (Resource::Host, &["host", "hosts"]),
    (Resource::Cluster, &["cluster", "clusters"]),
    (Resource::Datacenter, &["datacenter", "datacenters"]),
    (Resource::Folder, &["folder", "folders"]),
    (Resource::Namespace, &["namespace", "namespaces"]),
    (Resource::Disk, &["disk", "disks"]),
    (Resource::DiskProfile, &["diskprofile", "diskprofiles"]),
    (Resource::NicProfile, &["nicprofile", "nicprofiles"]),
    (
        Resource::Pvc,
        &[
            "pvc",
            "pvcs",
            "persistentvolumeclaim",
            "persistentvolumeclaims",
        ],
    ),
    (
        Resource::DataVolume,
        &["datavolume", "datavolumes", "dv", "dvs"],
    ),
    (Resource::Subnet, &["subnet", "subnets"]),
    (Resource::Flavor, &["flavor", "flavors"]),
    (Resource::Image, &["image", "images"]),
    (
        Resource::Project,
        &["project", "projects", "tenant", "tenants"],
    ),
    (Resource::Region, &["region", "regions"]),
    (Resource::Volume, &["volume", "volumes"]),
    (Resource::VolumeType, &["volumetype", "volumetypes"]),
    (Resource::Snapshot, &["snapshot", "snapshots"]),
    (Resource::InstanceType, &["instancetype", "instancetypes"]),
];

impl Resource {
    /// The resource a user's name means, if any.
    pub fn parse(name: &str) -> Option<Resource> {
        let mut n: String = name
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| *c != '-' && *c != '_' && *c != ' ')
            .collect();
        if let Some(rest) = n.strip_prefix("ec2") {
            if !rest.is_empty() {
                n = rest.to_owned();
            }
        }
        NAMES
            .iter()
            .find(|(_, names)| names.contains(&n.as_str()))
            .map(|(r, _)| *r)
    }

    /// The name shown in messages.
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(r, _)| *r == self)
            .map(|(_, n)| n[0])
            .expect("every resource has names")
    }
}

/// The collection of `resource` for a provider type, e.g. storage on vSphere
/// is `datastores`, on oVirt `storagedomains`.
pub fn collection(provider_type: &str, resource: Resource) -> Option<&'static str> {
    use Resource::*;
    let c = match (provider_type, resource) {
        (_, Vm) => "vms",
        ("vsphere", Network)
        | ("ovirt", Network)
        | ("openstack", Network)
        | ("ova", Network)
        | ("hyperv", Network)
        | ("ec2", Network)
        | ("nutanix", Network) => "networks",
        ("openshift", Network) => "networkattachmentdefinitions",
        ("vsphere", Storage) => "datastores",
        ("ovirt", Storage) => "storagedomains",
        ("openstack", Storage) => "volumetypes",
        ("openshift", Storage) => "storageclasses",
        ("nutanix", Storage) => "storagecontainers",
        ("ova" | "hyperv" | "ec2", Storage) => "storages",
        ("vsphere" | "ovirt" | "hyperv" | "nutanix", Host) => "hosts",
        ("vsphere" | "ovirt" | "hyperv" | "nutanix", Cluster) => "clusters",
        ("vsphere" | "ovirt", Datacenter) => "datacenters",
        ("vsphere", Folder) => "folders",
        ("openshift", Namespace) => "namespaces",
        ("openstack", Namespace | Project) => "projects",
        ("ovirt" | "ova" | "hyperv", Disk) => "disks",
        ("ovirt", DiskProfile) => "diskprofiles",
        ("ovirt", NicProfile) => "nicprofiles",
        ("openshift", Pvc) => "persistentvolumeclaims",
        ("openshift", DataVolume) => "datavolumes",
        ("openshift", InstanceType) => "instancetypes",
        ("openstack", Subnet) => "subnets",
        ("openstack", Flavor) => "flavors",
        ("openstack" | "nutanix", Image) => "images",
        ("openstack", Region) => "regions",
        ("openstack" | "ec2", Volume) => "volumes",
        ("openstack", VolumeType) => "volumetypes",
        ("openstack" | "ec2", Snapshot) => "snapshots",
        _ => return None,
    };
    Some(c)
}

/// What a provider type has, for messages.
pub fn available(provider_type: &str) -> Vec<&'static str> {
    NAMES
        .iter()
        .filter(|(r, _)| collection(provider_type, *r).is_some())
        .map(|(r, _)| r.name())
        .collect()
}

fn human_bytes(n: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} {}", UNITS[0])
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// Adds the fields upstream kubectl-mtv adds (`provider`; for VMs concern
/// counts, `memoryGB`, `diskCapacity`, `storageUsedGB`, `powerStateHuman`;
/// for networks `hostCount`; for storage `capacityHuman` and `freeHuman`), so
/// queries written for upstream keep working.
pub fn augment(item: &mut Value, resource: Resource, provider: &str, provider_type: &str) {
    let Some(obj) = item.as_object_mut() else {
        return;
    };
    obj.insert("provider".into(), json!(provider));
    match resource {
        Resource::Vm => {
            let count = |cat: &str| {
                obj.get("concerns")
                    .and_then(Value::as_array)
                    .map(|cs| cs.iter().filter(|c| c["category"] == cat).count())
                    .unwrap_or(0)
            };
            let (c, w, i) = (count("Critical"), count("Warning"), count("Information"));
            obj.insert("criticalConcerns".into(), json!(c));
            obj.insert("warningConcerns".into(), json!(w));
            obj.insert("infoConcerns".into(), json!(i));
            let mut human = format!("{c}/{w}/{i}");
            if c > 0 {
                human.push_str(" (*)");
            }
            obj.insert("concernsHuman".into(), json!(human));
            // OpenShift VMs: cpu and memory from the VirtualMachine object.
            if provider_type == "openshift" {
                let vm = obj.get("object").cloned().unwrap_or_default();
                let dom = &vm["spec"]["template"]["spec"]["domain"];
                if let Some(cores) = dom["cpu"]["cores"].as_u64() {
                    obj.entry("cpuCount").or_insert(json!(cores));
                }
                let status = vm["status"]["printableStatus"].as_str().unwrap_or("");
                obj.insert(
                    "powerStateHuman".into(),
                    json!(if status.eq_ignore_ascii_case("running") {
                        "On"
                    } else {
                        "Off"
                    }),
                );
                obj.insert("powerState".into(), json!(status));
            }
            let memory_mb = obj
                .get("memoryMB")
                .and_then(Value::as_f64)
                .or_else(|| {
                    obj.get("memory")
                        .and_then(Value::as_f64)
                        .map(|b| b / 1024.0 / 1024.0)
                })
                .or_else(|| obj.get("ram").and_then(Value::as_f64));
            if let Some(mb) = memory_mb {
                obj.entry("memoryMB").or_insert(json!(mb.round() as i64));
                obj.insert("memoryGB".into(), json!(format!("{:.1} GB", mb / 1024.0)));
            }
            let capacity: f64 = obj
                .get("disks")
                .and_then(Value::as_array)
                .map(|ds| {
                    ds.iter()
                        .filter_map(|d| d["capacity"].as_f64().or_else(|| d["Capacity"].as_f64()))
                        .sum()
                })
                .unwrap_or(0.0);
            obj.insert("diskCapacity".into(), json!(capacity as u64));
            let gib = capacity / 1024.0 / 1024.0 / 1024.0;
            obj.insert("diskCapacityGB".into(), json!((gib * 10.0).round() / 10.0));
            if let Some(used) = obj.get("storageUsed").and_then(Value::as_f64) {
                obj.insert(
                    "storageUsedGB".into(),
                    json!(format!("{:.1} GB", used / 1024.0 / 1024.0 / 1024.0)),
                );
            }
            if !obj.contains_key("powerStateHuman") {
                let state = obj
                    .get("powerState")
                    .or_else(|| obj.get("status"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let on = ["on", "up", "running", "active"]
                    .iter()
                    .any(|w| state.contains(w));
                obj.insert(
                    "powerStateHuman".into(),
                    json!(if on { "On" } else { "Off" }),
                );
            }
        }
        Resource::Network => {
            let hosts = obj
                .get("host")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            obj.insert("hostCount".into(), json!(hosts));
        }
        Resource::Storage => {
            if let Some(sc) = obj.get("object").cloned() {
                // OpenShift storage classes: provisioner and default class.
                if let Some(p) = sc["provisioner"].as_str() {
                    obj.insert("provisioner".into(), json!(p));
                }
                let default = sc["metadata"]["annotations"]
                    ["storageclass.kubernetes.io/is-default-class"]
                    == "true";
                obj.insert("isDefault".into(), json!(default));
            }
            for (k, h) in [("capacity", "capacityHuman"), ("free", "freeHuman")] {
                if let Some(n) = obj.get(k).and_then(Value::as_f64) {
                    obj.insert(h.into(), json!(human_bytes(n)));
                }
            }
        }
        _ => {}
    }
}

/// The columns a summary shows for a resource (all are also in
/// structuredContent); any column an item lacks is left out.
pub fn columns(resource: Resource) -> &'static [&'static str] {
    match resource {
        Resource::Vm => &[
            "name",
            "id",
            "powerStateHuman",
            "cpuCount",
            "memoryGB",
            "diskCapacityGB",
            "guestId",
            "concernsHuman",
            "path",
        ],
        Resource::Network => &["name", "id", "variant", "vlanId", "path", "namespace"],
        Resource::Storage => &[
            "name",
            "id",
            "type",
            "capacityHuman",
            "freeHuman",
            "provisioner",
            "isDefault",
            "path",
        ],
        Resource::Host => &[
            "name",
            "id",
            "cluster",
            "status",
            "inMaintenance",
            "productVersion",
        ],
        _ => &["name", "id", "namespace", "path"],
    }
}

/// Totals over matched VMs: CPUs, memory, disk capacity and storage used.
pub fn vm_totals(items: &[Value]) -> Value {
    let sum = |k: &str| items.iter().filter_map(|i| i[k].as_f64()).sum::<f64>();
    let gb = |b: f64| (b / 1024.0 / 1024.0 / 1024.0 * 10.0).round() / 10.0;
    json!({
        "vms": items.len(),
        "cpuCount": sum("cpuCount") as u64,
        "memoryGB": (sum("memoryMB") / 1024.0 * 10.0).round() / 10.0,
        "diskCapacityGB": gb(sum("diskCapacity")),
        "storageUsedGB": gb(sum("storageUsed")),
    })
}

/// The summary of one item: its columns.
pub fn summary(item: &Value, resource: Resource) -> Value {
    let mut out = serde_json::Map::new();
    for c in columns(resource) {
        match item.get(*c) {
            Some(Value::Null) | None => {}
            Some(v) => {
                out.insert((*c).into(), v.clone());
            }
        }
    }
    if out.get("name").is_none() {
        if let Some(n) = item.pointer("/object/metadata/name") {
            out.insert("name".into(), n.clone());
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_per_provider_type() {
        assert_eq!(Resource::parse("VMs"), Some(Resource::Vm));
        assert_eq!(Resource::parse("data-volume"), Some(Resource::DataVolume));
        assert_eq!(
            Resource::parse("ec2-volume-type"),
            Some(Resource::VolumeType)
        );
        assert_eq!(Resource::parse("datastore"), Some(Resource::Storage));
        assert_eq!(Resource::parse("widgets"), None);
        let s = Resource::Storage;
        assert_eq!(collection("vsphere", s), Some("datastores"));
        assert_eq!(collection("ovirt", s), Some("storagedomains"));
        assert_eq!(collection("openstack", s), Some("volumetypes"));
        assert_eq!(collection("openshift", s), Some("storageclasses"));
        assert_eq!(collection("ova", s), Some("storages"));
        assert_eq!(
            collection("openshift", Resource::Network),
            Some("networkattachmentdefinitions")
        );
        assert_eq!(
            collection("openstack", Resource::Namespace),
            Some("projects")
        );
        assert_eq!(collection("vsphere", Resource::Pvc), None);
        assert!(available("openshift").contains(&"pvc"));
        assert!(!available("vsphere").contains(&"pvc"));
    }

    #[test]
    fn vms_get_upstreams_derived_fields() {
        let mut vm = json!({"name": "db-01", "powerState": "poweredOn", "memoryMB": 32768,
            "storageUsed": 10737418240u64,
            "disks": [{"capacity": 107374182400u64}, {"capacity": 536870912000u64}],
            "concerns": [{"category": "Critical"}, {"category": "Warning"}, {"category": "Warning"}]});
        augment(&mut vm, Resource::Vm, "vc", "vsphere");
        assert_eq!(vm["provider"], "vc");
        assert_eq!(vm["concernsHuman"], "1/2/0 (*)");
        assert_eq!(vm["memoryGB"], "32.0 GB");
        assert_eq!(vm["diskCapacity"], 644245094400u64);
        assert_eq!(vm["storageUsedGB"], "10.0 GB");
        assert_eq!(vm["powerStateHuman"], "On");
        assert_eq!(summary(&vm, Resource::Vm)["diskCapacityGB"], 600.0);
        let mut off = json!({"status": "down", "memory": 8589934592u64});
        augment(&mut off, Resource::Vm, "rhv", "ovirt");
        assert_eq!(off["powerStateHuman"], "Off");
        assert_eq!(off["memoryMB"], 8192);
        let mut sc = json!({"name": "ceph", "object": {"provisioner": "rbd.csi.ceph.com",
            "metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}}});
        augment(&mut sc, Resource::Storage, "host", "openshift");
        assert_eq!(
            summary(&sc, Resource::Storage),
            json!({"name": "ceph", "provisioner": "rbd.csi.ceph.com", "isDefault": true})
        );
        let mut ds = json!({"capacity": 4398046511104u64, "free": 1649267441664u64});
        augment(&mut ds, Resource::Storage, "vc", "vsphere");
        assert_eq!(ds["capacityHuman"], "4.0 TiB");
        assert_eq!(ds["freeHuman"], "1.5 TiB");
    }
}
