//! deploy/: the kustomize manifests an operator applies. They render with
//! kubectl's built-in kustomize; every object round-trips through
//! k8s-openapi's typed structs (an unknown field or a wrong type fails);
//! the local API server (1.20) accepts them in a server-side dry run, where
//! it serves their API version; and the settings this project promises are
//! there (replicas, stateless, probes, non-root, least privilege).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{fresh_namespace, testenv};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `kubectl kustomize DIR`, as JSON values.
fn render(dir: &str) -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(root.join(dir))
        .output()
        .expect("kubectl (installed with the test env)");
    assert!(
        out.status.success(),
        "kubectl kustomize {dir}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde_json::to_value(serde_yaml::Value::deserialize(d).unwrap()).unwrap())
        .filter(|v: &Value| !v.is_null())
        .collect()
}

/// Deserializes into the typed struct and back: equal only when every field
/// is known to Kubernetes' schema and has the right type.
fn round_trip<T: DeserializeOwned + Serialize>(doc: &Value) {
    let typed: T = serde_json::from_value(doc.clone()).unwrap_or_else(|e| {
        panic!("{} {}: {e}", doc["kind"], doc["metadata"]["name"]);
    });
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(
        &back, doc,
        "{} has fields Kubernetes does not know",
        doc["kind"]
    );
}

fn check_typed(doc: &Value) {
    match doc["kind"].as_str().unwrap() {
        "Namespace" => round_trip::<Namespace>(doc),
        "ServiceAccount" => round_trip::<ServiceAccount>(doc),
        "ClusterRole" => round_trip::<ClusterRole>(doc),
        "ClusterRoleBinding" => round_trip::<ClusterRoleBinding>(doc),
        "Deployment" => round_trip::<Deployment>(doc),
        "Service" => round_trip::<Service>(doc),
        "PodDisruptionBudget" => {
            assert_eq!(
                doc["apiVersion"], "policy/v1",
                "current clusters serve policy/v1"
            );
            round_trip::<PodDisruptionBudget>(doc)
        }
        "NetworkPolicy" => round_trip::<NetworkPolicy>(doc),
        other => panic!("a manifest kind this test does not check: {other}"),
    }
}

fn find<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

fn args(docs: &[Value]) -> Vec<String> {
    find(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

fn verbs(docs: &[Value]) -> Vec<String> {
    find(docs, "ClusterRole")["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["verbs"].as_array().unwrap().clone())
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn manifests_are_typed_and_keep_their_promises() {
    let base = render("deploy/base");
    let kinds: Vec<&str> = base.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    for k in [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
    ] {
        assert!(kinds.contains(&k), "{k} missing: {kinds:?}");
    }
    for doc in &base {
        check_typed(doc);
    }
    let d = &find(&base, "Deployment")["spec"];
    assert!(d["replicas"].as_i64().unwrap() >= 2);
    let a = args(&base);
    for flag in ["--sse", "--stateless", "--host=0.0.0.0", "--require-tls"] {
        assert!(a.iter().any(|x| x == flag), "{flag} in {a:?}");
    }
    assert!(
        !a.iter().any(|x| x == "--allow-kubeconfig-fallback"),
        "no unauthenticated caller gets the server's identity"
    );
    let pod = &d["template"]["spec"];
    let c = &pod["containers"][0];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert!(c["resources"]["limits"]["memory"].is_string());
    assert!(c["resources"]["requests"]["cpu"].is_string());
    assert_eq!(pod["volumes"][0]["secret"]["secretName"], "kubectl-mtv-tls");
    assert_eq!(
        find(&base, "Service")["spec"]["sessionAffinity"],
        "ClientIP",
        "legacy /sse clients stay on their replica"
    );
    let v = verbs(&base);
    assert!(!v.iter().any(|v| v == "*" || v == "escalate" || v == "bind"));

    let ro = render("deploy/overlays/read-only");
    for doc in &ro {
        check_typed(doc);
    }
    assert!(args(&ro).iter().any(|x| x == "--read-only"));
    let v = verbs(&ro);
    assert!(
        v.iter()
            .all(|v| ["get", "list", "watch"].contains(&v.as_str())),
        "read-only overlay has write verbs: {v:?}"
    );
    let ro_role = find(&ro, "ClusterRole").to_string();
    assert!(!ro_role.contains("secrets"), "read-only reads no Secrets");

    let with_policy = render("deploy/overlays/network-policy");
    for doc in &with_policy {
        check_typed(doc);
    }
    find(&with_policy, "NetworkPolicy");
}

/// `kubectl apply --dry-run=server` of the rendered objects, moved into
/// `namespace`. The 1.20 API server does not serve policy/v1, so the PDB is
/// dry-run as policy/v1beta1 (same fields); the typed test above checks v1.
fn server_dry_run(docs: &[Value], namespace: &str) -> String {
    let env = testenv();
    let mut input = String::new();
    for doc in docs {
        let mut doc = doc.clone();
        match doc["kind"].as_str().unwrap() {
            "Namespace" => doc["metadata"]["name"] = namespace.into(),
            "ClusterRole" | "ClusterRoleBinding" => {
                let name = format!("{}-{namespace}", doc["metadata"]["name"].as_str().unwrap());
                doc["metadata"]["name"] = name.into();
                if let Some(s) = doc["subjects"].as_array_mut() {
                    for s in s {
                        s["namespace"] = namespace.into();
                    }
                }
                if doc["roleRef"].is_object() {
                    let r = format!("{}-{namespace}", doc["roleRef"]["name"].as_str().unwrap());
                    doc["roleRef"]["name"] = r.into();
                }
            }
            "PodDisruptionBudget" => {
                doc["apiVersion"] = "policy/v1beta1".into();
                doc["metadata"]["namespace"] = namespace.into();
            }
            _ => doc["metadata"]["namespace"] = namespace.into(),
        }
        input.push_str("---\n");
        input.push_str(&serde_yaml::to_string(&doc).unwrap());
    }
    let mut child = Command::new("kubectl")
        .args(["apply", "--dry-run=server", "-f", "-"])
        .env("KUBECONFIG", &env.kubeconfig)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "server dry run failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test]
async fn the_api_server_accepts_them_in_a_dry_run() {
    // Namespaced objects need an existing namespace, even in a dry run.
    let ns = fresh_namespace("deploy").await;
    for dir in [
        "deploy/base",
        "deploy/overlays/read-only",
        "deploy/overlays/network-policy",
    ] {
        let docs = render(dir);
        let out = tokio::task::spawn_blocking({
            let ns = ns.clone();
            move || server_dry_run(&docs, &ns)
        })
        .await
        .unwrap();
        let n = out
            .lines()
            .filter(|l| l.contains("(server dry run)"))
            .count();
        assert_eq!(n, render(dir).len(), "{dir}: every object dry-run: {out}");
    }
}
