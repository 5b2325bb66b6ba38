//! The project's inventory double (tests/inventory-double/serve.py) as a
//! test fixture, and Provider CRs it serves, made Ready as Forklift would.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::forklift::{cond, create, set_status};
use super::http::request;
use super::{fresh_namespace, testenv, StdioClient};

/// A running double.
pub struct Double {
    pub url: String,
    pub port: u16,
    _child: Child,
}

impl Double {
    /// Starts serve.py with these extra flags; `tls` serves HTTPS with the
    /// test API server's own serving certificate (its CA is the kubeconfig's).
    pub async fn start(extra: &[&str], tls: bool) -> Self {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut cmd = Command::new("python3");
        cmd.arg(format!("{root}/tests/inventory-double/serve.py"))
            .args(["--port", "0", "--estate-dir"])
            .arg(format!("{root}/tests/inventory-double/estate"))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        if tls {
            let pki = testenv().dir.join("pki");
            cmd.arg("--cert")
                .arg(pki.join("serving.crt"))
                .arg("--key")
                .arg(pki.join("serving.key"));
        }
        let mut child = cmd
            .spawn()
            .expect("python3 tests/inventory-double/serve.py");
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(Duration::from_secs(20), out.next_line())
            .await
            .expect("the double starts")
            .unwrap()
            .expect("LISTENING line");
        let url = line
            .strip_prefix("LISTENING ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .trim()
            .to_owned();
        let port = url.rsplit(':').next().unwrap().parse().unwrap();
        Double {
            url,
            port,
            _child: child,
        }
    }

    async fn control(&self, method: &str, path: &str, body: Value) -> Value {
        assert!(
            self.url.starts_with("http://"),
            "control calls are plain HTTP"
        );
        let r = request(
            self.port,
            method,
            &format!("/_double/{path}"),
            &[("Content-Type", "application/json")],
            &body.to_string(),
        )
        .await;
        assert!(
            r.status < 300,
            "{method} /_double/{path}: {} {}",
            r.status,
            r.body
        );
        serde_json::from_str(&r.body).unwrap_or(Value::Null)
    }

    /// Serves `estate` for the Provider CR `uid` (`state`: ready or loading).
    pub async fn register(
        &self,
        kind: &str,
        uid: &str,
        estate: &str,
        ns: &str,
        name: &str,
        state: &str,
    ) {
        self.control(
            "POST",
            "providers",
            json!({"type": kind, "uid": uid, "estate": estate, "namespace": ns, "name": name, "state": state}),
        )
        .await;
    }

    /// Replaces auth settings (`deny`, `accept`, `grants`, `required`).
    pub async fn auth(&self, settings: Value) {
        self.control("POST", "auth", settings).await;
    }

    /// Every request it received (method, path, token, status), oldest first.
    pub async fn requests(&self) -> Vec<Value> {
        self.control("GET", "requests", Value::Null)
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub async fn clear_requests(&self) {
        self.control("DELETE", "requests", Value::Null).await;
    }

    /// A fresh namespace with a Ready vSphere provider `vc` and OpenShift
    /// provider `host`, both served by this double.
    pub async fn estate(&self, prefix: &str) -> String {
        let ns = fresh_namespace(prefix).await;
        let vc = ready_provider(&ns, "vc", "vsphere").await;
        self.register("vsphere", &vc, "vsphere-main", &ns, "vc", "ready")
            .await;
        let host = ready_provider(&ns, "host", "openshift").await;
        self.register("openshift", &host, "openshift-host", &ns, "host", "ready")
            .await;
        ns
    }

    /// A stdio server (admin identity) that reads this double's inventory.
    pub async fn client(&self, extra: &[&str]) -> StdioClient {
        let mut args = vec!["--inventory-url", self.url.as_str()];
        args.extend_from_slice(extra);
        StdioClient::admin(&args).await
    }
}

/// Creates a Ready Provider CR; returns its uid.
pub async fn ready_provider(ns: &str, name: &str, kind: &str) -> String {
    let mut spec =
        json!({"type": kind, "secret": {"name": format!("{name}-secret"), "namespace": ns}});
    if kind != "openshift" {
        spec["url"] = json!(format!("https://{name}.example.com/sdk"));
    }
    let p = create(
        "providers",
        ns,
        json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Provider",
               "metadata": {"name": name, "namespace": ns}, "spec": spec}),
    )
    .await;
    set_status(
        "providers",
        ns,
        name,
        json!({"phase": "Ready", "conditions": [
            cond("ConnectionTestSucceeded", "Required", "Connection test, succeeded."),
            cond("InventoryCreated", "Required", "The inventory has been loaded."),
            cond("Ready", "Required", "The provider is ready.")]}),
    )
    .await;
    p["metadata"]["uid"].as_str().unwrap().to_owned()
}
