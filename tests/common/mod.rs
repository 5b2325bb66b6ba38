//! Shared test support: the local Kubernetes API server (scripts/kube-testenv)
//! and an MCP client that drives the real binary over stdio.

#![allow(dead_code)]

pub mod fault_proxy;
pub mod forklift;
pub mod http;
pub mod inventory;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{mpsc, oneshot};

/// The running local API server, as described by its `env` file.
#[derive(Debug, Clone)]
pub struct TestEnv {
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
    pub server: String,
    pub admin_token: String,
    pub limited_token: String,
    pub ca: PathBuf,
}

/// The API server of `KUBE_TESTENV_DIR`, or one this test run starts in
/// target/kube-testenv (shared by all test binaries, with the CRDs applied).
pub fn testenv() -> &'static TestEnv {
    static ENV: OnceLock<TestEnv> = OnceLock::new();
    ENV.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = match std::env::var_os("KUBE_TESTENV_DIR") {
            Some(d) => PathBuf::from(d),
            None => {
                let dir = root.join("target/kube-testenv");
                let script = root.join("scripts/kube-testenv");
                let cmd = format!(
                    "{s} status {d} >/dev/null 2>&1 || {s} start {d} || {s} start {d}; {s} apply-crds {d} {c}",
                    s = script.display(),
                    d = dir.display(),
                    c = root.join("crds").display()
                );
                let lock = root.join("target/kube-testenv.lock");
                let st = std::process::Command::new("flock")
                    .arg(&lock)
                    .args(["bash", "-c", &cmd])
                    .status()
                    .expect("run flock + scripts/kube-testenv");
                assert!(st.success(), "could not start the local API server (scripts/kube-testenv)");
                dir
            }
        };
        let text = std::fs::read_to_string(dir.join("env"))
            .unwrap_or_else(|e| panic!("{}/env: {e} (is the test env started?)", dir.display()));
        let mut vars = HashMap::new();
        for line in text.lines() {
            if let Some((k, v)) = line.trim_start_matches("export ").split_once('=') {
                vars.insert(k.to_owned(), v.trim_matches('\'').to_owned());
            }
        }
        let get = |k: &str| vars.get(k).cloned().unwrap_or_else(|| panic!("{k} missing in env"));
        TestEnv {
            dir: dir.clone(),
            kubeconfig: get("KUBECONFIG").into(),
            server: get("KUBE_TESTENV_SERVER"),
            admin_token: get("KUBE_TESTENV_ADMIN_TOKEN"),
            limited_token: get("KUBE_TESTENV_LIMITED_TOKEN"),
            ca: get("KUBE_TESTENV_CA").into(),
        }
    })
}

/// An admin kube-rs client for the test env.
pub async fn admin_client() -> kube::Client {
    let env = testenv();
    let kc = kube::config::Kubeconfig::read_from(&env.kubeconfig).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(cfg).unwrap()
}

/// Creates a fresh namespace (namespaces never finish deleting here, so each test gets its own).
pub async fn fresh_namespace(prefix: &str) -> String {
    use k8s_openapi::api::core::v1::Namespace;
    let name = format!("{prefix}-{:08x}", rand::random::<u32>());
    let api: kube::Api<Namespace> = kube::Api::all(admin_client().await);
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    api.create(&Default::default(), &ns).await.unwrap();
    name
}

/// A sample object of a kind, from tests/fixtures.
pub fn fixture(plural: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/{plural}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>>;

/// An MCP client talking to `kubectl-mtv mcp-server` over stdio.
pub struct StdioClient {
    pub child: Child,
    stdin: Option<ChildStdin>,
    pending: Pending,
    pub notifications: mpsc::UnboundedReceiver<Value>,
    next_id: i64,
    pub stderr: Arc<Mutex<String>>,
}

impl StdioClient {
    /// Starts the server with these extra arguments and environment.
    pub async fn spawn(args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-mtv"));
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("KUBECONFIG")
            .env("HOME", "/nonexistent")
            .kill_on_drop(true);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn kubectl-mtv");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let stderr_pipe = child.stderr.take().unwrap();
        let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
        let (ntx, nrx) = mpsc::unbounded_channel();
        let p = pending.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("stdout carried a non-JSON line ({e}): {line}"));
                if v.get("method").is_some() {
                    let _ = ntx.send(v);
                } else if let Some(tx) = p.lock().unwrap().remove(&v["id"].to_string()) {
                    let _ = tx.send(v);
                } else {
                    let _ = ntx.send(v);
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let e = stderr.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr_pipe).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut s = e.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        StdioClient {
            child,
            stdin,
            pending,
            notifications: nrx,
            next_id: 1,
            stderr,
        }
    }

    /// The server with the test env's admin kubeconfig.
    pub async fn admin(extra: &[&str]) -> Self {
        let kc = testenv().kubeconfig.to_str().unwrap().to_owned();
        let mut args = vec!["mcp-server"];
        args.extend_from_slice(extra);
        let mut c = Self::spawn(&args, &[("KUBECONFIG", &kc)]).await;
        c.initialize().await;
        c
    }

    pub async fn send_raw(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(line.as_bytes()).await.unwrap();
        stdin.write_all(b"\n").await.unwrap();
        stdin.flush().await.unwrap();
    }

    /// Sends a request and returns a receiver for its response.
    pub async fn start_request(
        &mut self,
        method: &str,
        params: Value,
    ) -> (i64, oneshot::Receiver<Value>) {
        let id = self.next_id;
        self.next_id += 1;
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap()
            .insert(json!(id).to_string(), tx);
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send_raw(&msg.to_string()).await;
        (id, rx)
    }

    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let (_, rx) = self.start_request(method, params).await;
        tokio::time::timeout(Duration::from_secs(60), rx)
            .await
            .unwrap_or_else(|_| panic!("no response to {method} within 60s"))
            .expect("response")
    }

    pub async fn notify(&mut self, method: &str, params: Value) {
        let msg = json!({"jsonrpc": "2.0", "method": method, "params": params});
        self.send_raw(&msg.to_string()).await;
    }

    pub async fn initialize(&mut self) -> Value {
        let r = self
            .request(
                "initialize",
                json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "tests", "version": "0"}}),
            )
            .await;
        self.notify("notifications/initialized", json!({})).await;
        r
    }

    /// Calls a tool and returns its `result` (panics on a JSON-RPC error).
    pub async fn call(&mut self, tool: &str, args: Value) -> Value {
        let r = self
            .request("tools/call", json!({"name": tool, "arguments": args}))
            .await;
        assert!(r.get("error").is_none(), "{tool}: JSON-RPC error {r}");
        r["result"].clone()
    }

    /// Calls a tool that must succeed; returns its structured content.
    pub async fn call_ok(&mut self, tool: &str, args: Value) -> Value {
        let r = self.call(tool, args.clone()).await;
        assert_eq!(r["isError"], false, "{tool} {args} failed: {}", text(&r));
        r["structuredContent"].clone()
    }

    /// Calls a tool that must fail; returns its text.
    pub async fn call_err(&mut self, tool: &str, args: Value) -> String {
        let r = self.call(tool, args.clone()).await;
        assert_eq!(
            r["isError"],
            true,
            "{tool} {args} should have failed: {}",
            text(&r)
        );
        text(&r)
    }

    /// Closes stdin and waits for exit.
    pub async fn close(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("server exits after stdin closes")
            .unwrap()
    }
}

/// The text of a tool result.
pub fn text(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}
