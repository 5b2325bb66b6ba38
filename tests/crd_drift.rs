//! `kubectl-mtv crds diff` / `crds pull` and the server's drift notice, against
//! real API servers: the shared test server (read only) must show no drift,
//! only the down-levelling its `apply-crds` does, named as equivalences; a
//! private API server started by this test (so that changing Forklift's CRDs
//! there disturbs no other test) serves a changed Plan and a new kind.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn mtv(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-mtv"))
        .args(args)
        .env_remove("KUBECONFIG")
        .env("HOME", "/nonexistent")
        .output()
        .expect("run kubectl-mtv")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// (kind, what, paths) of a JSON report's equivalences.
fn equivalences(report: &Value) -> Vec<(String, String, usize)> {
    let mut groups: Vec<(String, String, usize)> = Vec::new();
    for e in report["equivalences"].as_array().unwrap() {
        let key = (
            e["kind"].as_str().unwrap().to_owned(),
            e["what"].as_str().unwrap().to_owned(),
        );
        match groups
            .iter_mut()
            .find(|g| (g.0.as_str(), g.1.as_str()) == (key.0.as_str(), key.1.as_str()))
        {
            Some(g) => g.2 += 1,
            None => groups.push((key.0, key.1, 1)),
        }
    }
    groups
}

/// The two CRDs `scripts/kube-testenv apply-crds` down-levels for Kubernetes 1.20.
fn down_levelled() -> Vec<(String, String, usize)> {
    vec![
        ("Conversion".into(), "default".into(), 11),
        ("OVAProviderServer".into(), "rules".into(), 1),
    ]
}

#[test]
fn the_shared_test_server_matches_and_its_down_levelling_is_named_not_counted() {
    let env = common::testenv();
    let kc = env.kubeconfig.to_str().unwrap();
    let o = mtv(&["crds", "diff", "--kubeconfig", kc]);
    let text = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("in the cluster match this build"), "{text}");
    assert!(
        text.contains("Treated as equivalent (not drift):"),
        "{text}"
    );
    assert!(
        text.contains("Conversion v1beta1: `default: \"\"` missing in the cluster on 11 fields"),
        "{text}"
    );
    assert!(
        text.contains("OVAProviderServer v1beta1: x-kubernetes-validations missing in the cluster on 1 field (spec.provider)"),
        "{text}"
    );
    let o = mtv(&["crds", "diff", "--kubeconfig", kc, "-o", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["identical"], true);
    assert_eq!(
        (
            report["builtKinds"].as_u64(),
            report["clusterKinds"].as_u64()
        ),
        (Some(14), Some(14))
    );
    for k in ["kindsAdded", "kindsRemoved", "kindsChanged"] {
        assert_eq!(report[k], json!([]), "{k}");
    }
    assert_eq!(equivalences(&report), down_levelled());
    // The same connection flags as every other command; a wrong one is exit 2.
    let o = mtv(&[
        "crds",
        "diff",
        "--server",
        "http://127.0.0.1:1",
        "--token",
        "s3cr3t-token",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("connection refused") && !err.contains("s3cr3t"),
        "{err}"
    );
}

/// An API server of this test's own, stopped when dropped.
struct PrivateServer {
    dir: tempfile::TempDir,
}

impl PrivateServer {
    fn start() -> Self {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let st = Command::new(script())
            .arg("start")
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(st.success(), "scripts/kube-testenv start");
        PrivateServer { dir }
    }

    fn apply(&self, crds: &Path) {
        let st = Command::new(script())
            .arg("apply-crds")
            .arg(self.dir.path())
            .arg(crds)
            .status()
            .unwrap();
        assert!(st.success(), "scripts/kube-testenv apply-crds");
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

fn script() -> PathBuf {
    Path::new(ROOT).join("scripts/kube-testenv")
}

/// crds/ with Plan changed (a field added, one removed, an enum changed) and a new kind.
fn changed_crds(dir: &Path) {
    for e in std::fs::read_dir(Path::new(ROOT).join("crds")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    let plans = dir.join("forklift.konveyor.io_plans.yaml");
    let mut plan: Value = serde_yaml::from_str(&std::fs::read_to_string(&plans).unwrap()).unwrap();
    let spec = plan
        .pointer_mut("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties")
        .unwrap()
        .as_object_mut()
        .unwrap();
    spec.insert(
        "cutoverPriority".into(),
        json!({"type": "integer", "description": "Order in which plans cut over."}),
    );
    assert!(spec.remove("warm").is_some());
    spec["targetPowerState"]["enum"] = json!(["on", "off", "auto", "hibernate"]);
    // (written as pull writes: `on`/`off` quoted, or kubectl reads booleans)
    std::fs::write(&plans, kubectl_mtv::crds::yaml::to_string(&plan)).unwrap();
    std::fs::write(
        dir.join("forklift.konveyor.io_gadgets.yaml"),
        r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.forklift.konveyor.io
spec:
  group: forklift.konveyor.io
  names: {kind: Gadget, listKind: GadgetList, plural: gadgets, singular: gadget}
  scope: Namespaced
  versions:
  - name: v1beta1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer}
"#,
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_crds_are_reported_pulled_regenerated_and_noticed_once() {
    let server = PrivateServer::start();
    let changed = tempfile::tempdir().unwrap();
    changed_crds(changed.path());
    server.apply(changed.path());
    let kc = server.kubeconfig();
    let kc = kc.to_str().unwrap();

    // crds diff: each change is reported, and the down-levelling stays an equivalence.
    let o = mtv(&["crds", "diff", "--kubeconfig", kc]);
    let text = stdout(&o);
    println!("{text}");
    assert_eq!(o.status.code(), Some(1), "{text}");
    for needle in [
        "in the cluster DIFFER from this build",
        "15 kinds",
        "+ Gadget  gadgets.forklift.konveyor.io  v1beta1",
        "Plan (plans.forklift.konveyor.io): 3 changes",
        "+ spec.cutoverPriority   integer  new in the cluster",
        "- spec.warm              boolean  gone from the cluster",
        "~ spec.targetPowerState  enum: new \"hibernate\"",
        "To match: kubectl-mtv crds pull --to crds/",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in:\n{text}");
    }
    let o = mtv(&["crds", "diff", "--kubeconfig", kc, "-o", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["identical"], false);
    assert_eq!(report["kindsAdded"][0]["kind"], "Gadget");
    assert_eq!(report["kindsRemoved"], json!([]));
    let changes: Vec<(&str, &str)> = report["kindsChanged"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["change"].as_str().unwrap()))
        .collect();
    assert_eq!(
        changes,
        vec![
            ("spec.cutoverPriority", "added"),
            ("spec.targetPowerState", "changed"),
            ("spec.warm", "removed")
        ]
    );
    assert_eq!(report["kindsChanged"].as_array().unwrap().len(), 1);
    assert_eq!(equivalences(&report), down_levelled());

    // crds pull into a copy of crds/: Plan changed, Gadget new; the generator
    // over the result has the new field in the model and the tool schema.
    let pulled = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(Path::new(ROOT).join("crds")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, pulled.path().join(p.file_name().unwrap())).unwrap();
    }
    let to = pulled.path().to_str().unwrap();
    let o = mtv(&["crds", "pull", "--kubeconfig", kc, "--to", to]);
    let text = stdout(&o);
    println!("{text}");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for needle in [
        "Pulled 15 Forklift CRDs",
        "new        forklift.konveyor.io_gadgets.yaml (Gadget)",
        "changed    forklift.konveyor.io_plans.yaml (Plan): 3 changes",
        "+ spec.cutoverPriority",
        "rewritten  forklift.konveyor.io_ovaproviderservers.yaml (OVAProviderServer): no schema change; OVAProviderServer v1beta1: x-kubernetes-validations missing",
        "rewritten  11 files with no schema change (key order, descriptions or formatting differ)",
        "Next: rebuild",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in:\n{text}");
    }
    let plan_file: Value = serde_yaml::from_str(
        &std::fs::read_to_string(pulled.path().join("forklift.konveyor.io_plans.yaml")).unwrap(),
    )
    .unwrap();
    assert!(plan_file.get("status").is_none());
    assert_eq!(
        plan_file["metadata"],
        json!({"annotations": {"controller-gen.kubebuilder.io/version": "v0.17.3"}, "name": "plans.forklift.konveyor.io"}),
        "server-side metadata (managedFields, resourceVersion, uid, creationTimestamp, generation, last-applied) is stripped"
    );
    assert_eq!(
        plan_file.pointer("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/targetPowerState/enum"),
        Some(&json!(["on", "off", "auto", "hibernate"])),
        "on/off stay strings"
    );
    let again = mtv(&["crds", "pull", "--kubeconfig", kc, "--to", to]);
    assert!(
        stdout(&again).contains("Nothing changed"),
        "{}",
        stdout(&again)
    );

    let g = mtv_codegen::generate(pulled.path(), "OUT").expect("the generator takes pulled CRDs");
    assert_eq!(g.resources.len(), 15);
    let plan = g.resources.iter().position(|r| r.kind == "Plan").unwrap();
    assert!(
        g.models_source
            .contains("pub cutover_priority: Option<i64>"),
        "model field"
    );
    assert!(
        !g.models_source.contains("pub warm: Option<bool>"),
        "the removed field is gone from the model"
    );
    // The create_plan tool's spec schema (its summary in tools/list).
    let props = &g.summaries[plan]["properties"];
    assert_eq!(props["cutoverPriority"]["type"], "integer", "{props}");
    assert!(props.get("warm").is_none(), "{props}");
    assert_eq!(
        props["targetPowerState"]["enum"],
        json!(["on", "off", "auto", "hibernate"])
    );
    assert!(g.tools.iter().any(|t| t.name == "create_gadget"));

    // The server: one warning line, and the note on Plan's explanations and schema errors.
    let mut c = common::StdioClient::spawn(&["mcp-server"], &[("KUBECONFIG", kc)]).await;
    c.initialize().await;
    let explained = c.call_ok("explain_resource", json!({"kind": "Plan"})).await;
    let note = explained["crdDrift"]
        .as_str()
        .expect("a drift note on Plan")
        .to_owned();
    assert!(
        note.contains("differ from the cluster's for Plan: spec.cutoverPriority is new, spec.targetPowerState changed (enum), spec.warm is gone")
            && note.contains("kubectl-mtv crds pull"),
        "{note}"
    );
    let provider = c
        .call_ok("explain_resource", json!({"kind": "Provider"}))
        .await;
    assert!(
        provider.get("crdDrift").is_none(),
        "Provider did not change"
    );
    let ns = "default";
    for _ in 0..2 {
        let err = c
            .call_err(
                "create_plan",
                json!({"name": "p", "namespace": ns, "spec": {"cutoverPriority": 1, "targetNamespace": "t",
                    "provider": {"source": {"name": "a"}, "destination": {"name": "b"}},
                    "map": {"network": {"name": "n"}, "storage": {"name": "s"}}, "vms": [{"id": "x"}]}}),
            )
            .await;
        assert!(err.contains("cutoverPriority"), "{err}");
        assert_eq!(
            err.matches("this server was built from Forklift CRDs that differ")
                .count(),
            1,
            "{err}"
        );
    }
    let err = c
        .call_err(
            "create_hook",
            json!({"name": "h", "namespace": ns, "spec": {"image": 5}}),
        )
        .await;
    assert!(err.contains("spec.image"), "{err}");
    assert!(
        !err.contains("differ from the cluster"),
        "Hook did not change: {err}"
    );
    c.call_ok("get_plans", json!({"namespace": ns})).await;
    // (stderr is read by a task; give it the last lines)
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = c.stderr.lock().unwrap().clone();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("differ from those this server was built from"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(
        warnings[0].contains("WARN")
            && warnings[0].contains("changed: Plan (3 changes); new in the cluster: Gadget"),
        "{log}"
    );
    drop(c);

    // `version` says so too.
    let o = mtv(&["version", "--kubeconfig", kc]);
    let text = stdout(&o);
    assert!(
        text.contains("Forklift CRDs: differ from this build (changed: Plan (3 changes); new in the cluster: Gadget); see kubectl-mtv crds diff"),
        "{text}"
    );
}
