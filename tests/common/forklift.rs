//! Playing Forklift's controller in tests: the sample estate, status written
//! through the status subresource with Forklift's condition shapes, and the
//! API server's own count of open watches.

use std::path::Path;

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

use super::{admin_client, testenv};

fn api(plural: &str, ns: &str, client: kube::Client) -> Api<DynamicObject> {
    let r = kubectl_mtv::catalogue::find_resource(plural).expect("a Forklift resource");
    Api::namespaced_with(client, ns, &r.api_resource())
}

/// Loads `scripts/sample-estate` into `ns` (target namespace `<ns>-vms`); returns its summary.
pub fn sample_estate(ns: &str) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(root.join("scripts/sample-estate"))
        .arg("--env")
        .arg(testenv().dir.join("env"))
        .args(["--namespace", ns])
        .output()
        .expect("run scripts/sample-estate");
    assert!(
        out.status.success(),
        "sample-estate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Creates a Forklift object from JSON.
pub async fn create(plural: &str, ns: &str, obj: Value) -> Value {
    let obj: DynamicObject = serde_json::from_value(obj).unwrap();
    let created = api(plural, ns, admin_client().await)
        .create(&PostParams::default(), &obj)
        .await
        .unwrap_or_else(|e| panic!("create {plural}: {e}"));
    serde_json::to_value(created).unwrap()
}

/// Reads a Forklift object.
pub async fn get(plural: &str, ns: &str, name: &str) -> Value {
    let o = api(plural, ns, admin_client().await)
        .get(name)
        .await
        .unwrap_or_else(|e| panic!("get {plural}/{name}: {e}"));
    serde_json::to_value(o).unwrap()
}

/// Merges `spec` into an object's spec (as a user or the test would).
pub async fn patch_spec(plural: &str, ns: &str, name: &str, spec: Value) {
    api(plural, ns, admin_client().await)
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": spec })),
        )
        .await
        .unwrap_or_else(|e| panic!("patch {plural}/{name}: {e}"));
}

/// Writes status through the status subresource, as the controller does.
pub async fn set_status(plural: &str, ns: &str, name: &str, status: Value) {
    api(plural, ns, admin_client().await)
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": status })),
        )
        .await
        .unwrap_or_else(|e| panic!("status of {plural}/{name}: {e}"));
}

/// A Forklift condition.
pub fn cond(kind: &str, category: &str, message: &str) -> Value {
    json!({"type": kind, "status": "True", "category": category, "message": message,
           "lastTransitionTime": "2026-11-29T10:00:00Z"})
}

/// A VM's migration status with one running pipeline step.
pub fn vm_progress(id: &str, name: &str, step: &str, completed: i64, total: i64) -> Value {
    json!({"id": id, "name": name, "phase": "CopyDisks", "started": "2026-11-29T10:00:00Z",
           "pipeline": [
               {"name": "Initialize", "phase": "Completed", "progress": {"completed": 1, "total": 1},
                "started": "2026-11-29T10:00:00Z", "completed": "2026-11-29T10:01:00Z"},
               {"name": step, "phase": "Running", "progress": {"completed": completed, "total": total},
                "started": "2026-11-29T10:01:00Z"}]})
}

/// A VM that finished with this outcome (`Succeeded`, `Failed`, `Canceled`).
pub fn vm_done(id: &str, name: &str, outcome: &str) -> Value {
    json!({"id": id, "name": name, "phase": "Completed", "started": "2026-11-29T10:00:00Z",
           "completed": "2026-11-29T10:30:00Z",
           "conditions": [cond(outcome, "Advisory", "done")],
           "pipeline": [{"name": "VirtualMachineCreation", "phase": "Completed",
                         "progress": {"completed": 1, "total": 1},
                         "started": "2026-11-29T10:20:00Z", "completed": "2026-11-29T10:30:00Z"}]})
}

/// A Ready plan (with its providers and maps in `ns`) named `name`, VMs web-01/web-02.
pub async fn ready_plan(ns: &str, name: &str, warm: bool) -> Value {
    let pair = json!({"source": {"name": "vcenter-prod", "namespace": ns},
                      "destination": {"name": "host", "namespace": ns}});
    let plan = create(
        "plans",
        ns,
        json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Plan",
               "metadata": {"name": name, "namespace": ns},
               "spec": {"type": if warm { "warm" } else { "cold" }, "targetNamespace": format!("{ns}-vms"),
                        "provider": pair,
                        "map": {"network": {"name": "web-networks", "namespace": ns},
                                "storage": {"name": "web-storage", "namespace": ns}},
                        "vms": [{"id": "vm-1001", "name": "web-01"}, {"id": "vm-1002", "name": "web-02"}]}}),
    )
    .await;
    set_status(
        "plans",
        ns,
        name,
        json!({"conditions": [cond("Ready", "Required", "The migration plan is ready.")]}),
    )
    .await;
    plan
}

/// The API server's count of open WATCH requests on a Forklift resource
/// (its `apiserver_longrunning_gauge` metric).
pub async fn open_watches(plural: &str) -> i64 {
    let client = admin_client().await;
    let req = http::Request::get("/metrics").body(Vec::new()).unwrap();
    let text = client.request_text(req).await.expect("GET /metrics");
    let needle = format!("resource=\"{plural}\"");
    text.lines()
        .filter(|l| {
            l.starts_with("apiserver_longrunning_gauge{")
                && l.contains("group=\"forklift.konveyor.io\"")
                && l.contains(&needle)
                && l.contains("verb=\"WATCH\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as i64)
        .sum()
}

/// Waits until `open_watches(plural)` satisfies `ok`, for at most `secs`.
pub async fn wait_watches(plural: &str, secs: u64, ok: impl Fn(i64) -> bool) -> i64 {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let n = open_watches(plural).await;
        if ok(n) || std::time::Instant::now() > until {
            return n;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
