//! kubectl-mtv side by side with the two general Kubernetes MCP servers users
//! would pick instead, in one run, interleaved, on the same local API server:
//! - kubernetes-mcp-server (containers/kubernetes-mcp-server, Go): the Linux
//!   binary of its npm optional dependency package, run directly;
//! - mcp-server-kubernetes (Flux159, Node): `node dist/index.js`; it runs the
//!   kubectl on PATH for each kubectl_* tool call.
//!
//! Both are pinned in benches/peers and installed into
//! `KUBECTL_MTV_BENCH_PEERS` (target/bench-peers) by scripts/bench. A peer
//! that is not installed, or does not support a measurement, gets "n/a" with
//! the reason.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::report::Report;
use crate::{anon_kib, json_of, rps, rss_kib, succeeded, Conn, Stdio_, BIN};

/// Cold starts per server.
pub const SPAWNS: usize = 30;
/// Timed tools/list calls and gets per server over stdio (after WARMUP rounds).
const CALLS: usize = 1000;
pub const WARMUP: usize = 20;
/// Seconds per Streamable HTTP load step.
pub const HTTP_SECS: u64 = 3;
/// watch_plan notification samples.
const WATCH_SAMPLES: usize = 25;
/// The namespace and Provider that every server gets.
const NS: &str = "bench";
const PROVIDER: &str = "p0";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ours,
    KubernetesMcpServer,
    McpServerKubernetes,
}

pub const NAMES: [&str; 3] = [
    "kubectl-mtv",
    "kubernetes-mcp-server",
    "mcp-server-kubernetes",
];

/// How to start one server.
pub struct Server {
    pub kind: Kind,
    program: String,
    /// Arguments before the server's own (the script, for node).
    prefix: Vec<String>,
    kubeconfig: String,
}

impl Server {
    /// The command for stdio (`port` None) or Streamable HTTP on `port`.
    fn command(&self, port: Option<u16>) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.prefix)
            .env("KUBECONFIG", &self.kubeconfig)
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let port = port.map(|p| p.to_string());
        let kc = self.kubeconfig.as_str();
        match (self.kind, port.as_deref()) {
            (Kind::Ours, None) => c.arg("mcp-server"),
            (Kind::Ours, Some(p)) => {
                c.args(["mcp-server", "--sse", "--port", p, "--max-sessions", "2000"])
            }
            (Kind::KubernetesMcpServer, None) => c.args(["--kubeconfig", kc]),
            (Kind::KubernetesMcpServer, Some(p)) => c.args([
                "--kubeconfig",
                kc,
                "--port",
                p,
                "--bind-address",
                "127.0.0.1",
            ]),
            (Kind::McpServerKubernetes, None) => &mut c,
            // Its Streamable HTTP transport (stateless: no Mcp-Session-Id).
            (Kind::McpServerKubernetes, Some(p)) => c
                .env("ENABLE_UNSAFE_STREAMABLE_HTTP_TRANSPORT", "1")
                .env("PORT", p)
                .env("HOST", "127.0.0.1"),
        };
        c
    }

    /// tools/call params of a get of the bench Provider through the server's own tool.
    pub fn get_params(&self) -> Value {
        match self.kind {
            Kind::Ours => json!({"name": "get_providers",
                "arguments": {"name": PROVIDER, "namespace": NS}}),
            Kind::KubernetesMcpServer => json!({"name": "resources_get",
                "arguments": {"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Provider",
                              "name": PROVIDER, "namespace": NS}}),
            Kind::McpServerKubernetes => json!({"name": "kubectl_get",
                "arguments": {"resourceType": "providers.forklift.konveyor.io", "name": PROVIDER,
                              "namespace": NS, "output": "json"}}),
        }
    }
}

fn npm_version(dir: &Path, package: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("node_modules").join(package).join("package.json"))
        .ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["version"].as_str().map(str::to_owned)
}

fn runs(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Drops `program`'s file (found on PATH if it has no slash) from the page
/// cache, so that every server runs from a binary read back from disk, as an
/// installed one is, whether its build or install wrote it a minute ago or
/// long before. How its pages came into the cache changes how many the
/// kernel maps at each fault, hence its RSS: kubectl-mtv's after 1,000 gets
/// was 11,544 KiB run from its freshly copied file and 10,332 KiB from the
/// same file read back.
fn evict_from_page_cache(program: &str) {
    let path = if program.contains('/') {
        Some(std::path::PathBuf::from(program))
    } else {
        std::env::var_os("PATH").and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(program))
                .find(|f| f.is_file())
        })
    };
    let Some(file) = path.and_then(|p| std::fs::File::open(p).ok()) else {
        return;
    };
    use std::os::fd::AsRawFd;
    // Dirty pages are not dropped: write them back first.
    let _ = file.sync_all();
    // SAFETY: a valid open descriptor; the call only advises the kernel.
    unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
}

/// The three servers, in NAMES order: how to start each, or why it cannot be.
fn servers(kubeconfig: &str, versions: &mut Vec<(String, String)>) -> Vec<Result<Server, String>> {
    let ours = Server {
        kind: Kind::Ours,
        program: BIN.clone(),
        prefix: vec![],
        kubeconfig: kubeconfig.into(),
    };
    let dir = std::env::var("KUBECTL_MTV_BENCH_PEERS").unwrap_or_default();
    if dir.is_empty() {
        let why = "not installed (scripts/bench installs the peers with npm; KUBECTL_MTV_BENCH_PEERS unset)";
        return vec![Ok(ours), Err(why.into()), Err(why.into())];
    }
    let dir = Path::new(&dir);
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let kms = match npm_version(dir, "kubernetes-mcp-server") {
        None => Err(format!("not installed in {}", dir.display())),
        Some(v) => {
            let bin = dir.join(format!(
                "node_modules/kubernetes-mcp-server-linux-{arch}/bin/kubernetes-mcp-server-linux-{arch}"
            ));
            if bin.exists() {
                versions.push(("kubernetes-mcp-server (npm)".into(), v));
                Ok(Server {
                    kind: Kind::KubernetesMcpServer,
                    program: bin.display().to_string(),
                    prefix: vec![],
                    kubeconfig: kubeconfig.into(),
                })
            } else {
                Err(format!("no Linux {arch} binary in its npm packages"))
            }
        }
    };
    let msk = match npm_version(dir, "mcp-server-kubernetes") {
        None => Err(format!("not installed in {}", dir.display())),
        Some(_) if !runs("node", &["--version"]) => Err("no node on PATH".into()),
        Some(_) if !runs("kubectl", &["version", "--client"]) => {
            Err("no kubectl on PATH (its tools run kubectl)".into())
        }
        Some(v) => {
            versions.push(("mcp-server-kubernetes (npm)".into(), v));
            Ok(Server {
                kind: Kind::McpServerKubernetes,
                program: "node".into(),
                prefix: vec![dir
                    .join("node_modules/mcp-server-kubernetes/dist/index.js")
                    .display()
                    .to_string()],
                kubeconfig: kubeconfig.into(),
            })
        }
    };
    vec![Ok(ours), kms, msk]
}

async fn kube_client(kubeconfig: &str) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(cfg).unwrap()
}

fn forklift(client: &kube::Client, plural: &str) -> Api<DynamicObject> {
    let r = kubectl_mtv::catalogue::find_resource(plural).expect("a Forklift resource");
    Api::namespaced_with(client.clone(), NS, &r.api_resource())
}

/// The namespace, and the Provider created through our create_provider tool.
async fn setup(client: &kube::Client, kubeconfig: &str) {
    use k8s_openapi::api::core::v1::Namespace;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": NS}})).unwrap();
    let _ = namespaces.create(&PostParams::default(), &ns).await; // exists from an earlier run
    let providers = forklift(client, "providers");
    if providers.get_opt(PROVIDER).await.unwrap().is_none() {
        let mut s = Stdio_::spawn(kubeconfig);
        s.init().await;
        let spec = json!({"type": "vsphere", "url": "https://vc/sdk", "secret": {"name": "s", "namespace": NS}});
        let (r, _) = s
            .rpc(
                "tools/call",
                json!({"name": "create_provider", "arguments": {"name": PROVIDER, "namespace": NS, "spec": spec}}),
            )
            .await;
        assert!(succeeded(&r), "create_provider: {r}");
    }
}

/// The raw HTTPS GET of the Provider on the kube-rs client's kept-alive
/// connection (bearer token from the kubeconfig): the floor for every get.
async fn raw_get(client: &kube::Client) -> usize {
    let path = format!("/apis/forklift.konveyor.io/v1beta1/namespaces/{NS}/providers/{PROVIDER}");
    let req = http::Request::get(path).body(Vec::new()).unwrap();
    client.request_text(req).await.unwrap().len()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_listening(port: u16, secs: u64) -> bool {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

pub async fn run(env: &HashMap<String, String>) {
    let wall = Instant::now();
    let kubeconfig = env["KUBECONFIG"].as_str();
    let client = kube_client(kubeconfig).await;
    let mut report = Report::new(&client).await;
    let specs = servers(kubeconfig, &mut report.versions);
    for (fig, spec) in report.servers.iter_mut().zip(&specs) {
        match spec {
            Err(why) => fig.missing = Some(why.clone()),
            Ok(s) => evict_from_page_cache(&s.program),
        }
    }
    setup(&client, kubeconfig).await;
    let live: Vec<usize> = (0..specs.len()).filter(|&i| specs[i].is_ok()).collect();
    let spec = |i: usize| specs[i].as_ref().unwrap();

    // 1. spawn → initialize response, cold, interleaved (the order rotates).
    println!("spawn -> initialize: {SPAWNS} cold starts per server…");
    for round in 0..SPAWNS {
        for k in 0..live.len() {
            let i = live[(round + k) % live.len()];
            let t = Instant::now();
            let mut s = Stdio_::from_command(spec(i).command(None));
            let r = tokio::time::timeout(Duration::from_secs(60), s.initialize())
                .await
                .unwrap_or_else(|_| panic!("{}: no initialize response in 60 s", NAMES[i]));
            report.servers[i].spawn.push(t.elapsed());
            assert!(succeeded(&r), "{}: initialize: {r}", NAMES[i]);
            let _ = s.child.start_kill();
            let _ = s.child.wait().await;
        }
        report.spawn_floor.push(spawn_floor().await);
    }

    // 2. stdio: tools/list and the get, interleaved with the raw GET, and RSS.
    println!(
        "stdio: {CALLS} tools/list and {CALLS} gets per server, beside {CALLS} raw HTTPS GETs…"
    );
    let mut procs: HashMap<usize, Stdio_> = HashMap::new();
    for &i in &live {
        let mut s = Stdio_::from_command(spec(i).command(None));
        s.init().await;
        procs.insert(i, s);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut calls: HashMap<usize, u64> = HashMap::new();
    for &i in &live {
        let fig = &mut report.servers[i];
        fig.rss_idle = Some(rss_kib(procs[&i].child.id().unwrap()));
        // The get works, and returns the Provider.
        let (r, _) = procs
            .get_mut(&i)
            .unwrap()
            .rpc("tools/call", spec(i).get_params())
            .await;
        assert!(
            succeeded(&r) && r.to_string().contains(PROVIDER),
            "{}: get: {r}",
            NAMES[i]
        );
        fig.get_tool = spec(i).get_params()["name"].as_str().unwrap().to_owned();
        calls.insert(i, 1);
    }
    for round in 0..WARMUP + CALLS {
        let t = Instant::now();
        raw_get(&client).await;
        if round >= WARMUP {
            report.raw_get.push(t.elapsed());
        }
        for k in 0..live.len() {
            let i = live[(round + k) % live.len()];
            let s = procs.get_mut(&i).unwrap();
            let (v, n, d) = s.rpc_timed("tools/list", json!({})).await;
            let (r, _, g) = s.rpc_timed("tools/call", spec(i).get_params()).await;
            let fig = &mut report.servers[i];
            if !succeeded(&v) {
                fig.errors += 1;
            }
            if !succeeded(&r) {
                fig.errors += 1;
            }
            if round >= WARMUP {
                fig.list.push(d);
                fig.get.push(g);
            }
            fig.list_bytes = n;
            fig.tools = v["result"]["tools"].as_array().map_or(0, Vec::len);
            let c = calls.get_mut(&i).unwrap();
            for _ in 0..2 {
                *c += 1;
                if *c == 1000 {
                    fig.rss_1k = Some(rss_kib(s.child.id().unwrap()));
                }
            }
        }
    }
    // On to 10,000 calls each: nine tools/list to one get, interleaved.
    println!("stdio: on to 10,000 calls per server (9 tools/list : 1 get)…");
    while live.iter().any(|i| calls[i] < 10_000) {
        for &i in &live {
            if calls[&i] >= 10_000 {
                continue;
            }
            let s = procs.get_mut(&i).unwrap();
            for j in 0..10 {
                let (r, _) = if j == 9 {
                    s.rpc("tools/call", spec(i).get_params()).await
                } else {
                    s.rpc("tools/list", json!({})).await
                };
                if !succeeded(&r) {
                    report.servers[i].errors += 1;
                }
            }
            *calls.get_mut(&i).unwrap() += 10;
        }
    }
    for &i in &live {
        report.servers[i].calls = calls[&i];
        report.servers[i].rss_10k = Some(rss_kib(procs[&i].child.id().unwrap()));
        report.servers[i].anon_10k = Some(anon_kib(procs[&i].child.id().unwrap()));
    }
    drop(procs);

    // 3. Streamable HTTP throughput, interleaved server by server.
    println!(
        "Streamable HTTP: tools/list and the get at 1, 16 and 64 clients, {HTTP_SECS} s each…"
    );
    let mut http: Vec<(usize, Child, u16, String)> = Vec::new();
    for &i in &live {
        match http_start(spec(i)).await {
            Ok((child, port, headers)) => http.push((i, child, port, headers)),
            Err(why) => report.servers[i].http_na = Some(why),
        }
    }
    assert!(!http.is_empty(), "no server started on Streamable HTTP");
    let list_body = json!({"jsonrpc": "2.0", "id": "@ID", "method": "tools/list"}).to_string();
    for clients in [1, 16, 64] {
        for what in ["tools/list", "get"] {
            for k in 0..http.len() {
                let (i, _, port, ref headers) = http[(clients + k) % http.len()];
                let body = if what == "get" {
                    json!({"jsonrpc": "2.0", "id": "@ID", "method": "tools/call", "params": spec(i).get_params()}).to_string()
                } else {
                    list_body.clone()
                };
                let dur = Duration::from_secs(HTTP_SECS);
                let (rate, failed) =
                    rps(port, clients, dur, "POST", "/mcp", headers.clone(), body).await;
                report.servers[i].http.push((what, clients, rate, failed));
            }
        }
    }
    // Ours only: RSS with 1000 open SSE sessions (the peers' SSE is another transport).
    if let Some((_, child, port, _)) = http.iter().find(|h| h.0 == 0) {
        report.sse = Some(sse_sessions(*port, child.id().unwrap()).await);
    }
    drop(http);

    // 4. Ours only: watch_plan's progress notification after a Plan status write.
    println!("watch_plan: {WATCH_SAMPLES} status writes…");
    report.watch = watch_latency(&client, kubeconfig).await;

    report.wall = wall.elapsed();
    report.finish();
}

/// Starts a server on Streamable HTTP: the child, its port and the headers
/// for its session (initialize → Mcp-Session-Id, when it keeps sessions).
async fn http_start(s: &Server) -> Result<(Child, u16, String), String> {
    let port = free_port();
    let child = s
        .command(Some(port))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    if !wait_listening(port, 60).await {
        return Err("did not listen on its --port within 60 s".into());
    }
    let mut headers = "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-06-18\r\n".to_owned();
    let mut c = Conn::try_open(port).await.map_err(|e| e.to_string())?;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}}).to_string();
    let r = c
        .try_send("POST", "/mcp", &headers, &init)
        .await
        .map_err(|e| format!("initialize: {e}"))?;
    if r.status != 200 || !json_of(&r.body).is_some_and(|v| succeeded(&v)) {
        return Err(format!("initialize: HTTP {}", r.status));
    }
    if let Some(sid) = r.header("mcp-session-id") {
        headers.push_str(&format!("Mcp-Session-Id: {sid}\r\n"));
    }
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string();
    let r = c
        .try_send("POST", "/mcp", &headers, &note)
        .await
        .map_err(|e| format!("notifications/initialized: {e}"))?;
    if r.status >= 300 {
        return Err(format!("notifications/initialized: HTTP {}", r.status));
    }
    Ok((child, port, headers))
}

/// RSS of our HTTP server idle, and with 1000 open SSE sessions.
async fn sse_sessions(port: u16, pid: u32) -> (u64, u64) {
    let idle = rss_kib(pid);
    let mut streams = Vec::new();
    for _ in 0..1000 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).contains("200"));
        streams.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    (idle, rss_kib(pid))
}

/// When the next progress notification for `token` arrives.
async fn progress(s: &mut Stdio_, token: &str) -> Instant {
    loop {
        let (v, _) = s.next_message().await;
        assert!(v.get("id").is_none(), "watch_plan ended: {v}");
        if v["method"] == "notifications/progress" && v["params"]["progressToken"] == token {
            return Instant::now();
        }
    }
}

/// A Forklift condition, as the controller writes it.
fn cond(kind: &str, category: &str, message: &str) -> Value {
    json!({"type": kind, "status": "True", "category": category, "message": message,
           "lastTransitionTime": "2026-11-29T10:00:00Z"})
}

/// The bench plays Forklift's controller: it writes a Plan's status through
/// the status subresource (a new Executing message each time) and times each
/// write → the progress notification of a running watch_plan.
async fn watch_latency(client: &kube::Client, kubeconfig: &str) -> Vec<Duration> {
    let name = "bench-watch";
    let plans = forklift(client, "plans");
    let pair = json!({"source": {"name": PROVIDER, "namespace": NS},
                      "destination": {"name": "host", "namespace": NS}});
    let plan: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Plan",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"type": "cold", "targetNamespace": "bench-vms", "provider": pair,
                 "map": {"network": {"name": "n", "namespace": NS}, "storage": {"name": "s", "namespace": NS}},
                 "vms": [{"id": "vm-1001", "name": "web-01"}]}}))
    .unwrap();
    let _ = plans.create(&PostParams::default(), &plan).await; // exists from an earlier run
    let status = |step: usize| {
        Patch::Merge(json!({"status": {"conditions": [
            cond("Ready", "Required", "The migration plan is ready."),
            cond("Executing", "Advisory", &format!("The plan is EXECUTING (step {step})."))]}}))
    };
    let pp = PatchParams::default();
    plans.patch_status(name, &pp, &status(0)).await.unwrap();

    let mut s = Stdio_::spawn(kubeconfig);
    s.init().await;
    let token = "bench-watch";
    s.send(
        "tools/call",
        json!({"name": "watch_plan", "arguments": {"name": name, "namespace": NS, "timeout_seconds": 600},
               "_meta": {"progressToken": token}}),
    )
    .await;
    // The first notification is the plan as the watch found it.
    tokio::time::timeout(Duration::from_secs(30), progress(&mut s, token))
        .await
        .expect("watch_plan's first progress notification");
    let mut samples = Vec::new();
    for step in 1..=WATCH_SAMPLES {
        let patch = status(step);
        let t = Instant::now();
        let (w, at) = tokio::join!(plans.patch_status(name, &pp, &patch), async {
            tokio::time::timeout(Duration::from_secs(30), progress(&mut s, token)).await
        });
        w.unwrap();
        samples.push(at.expect("a progress notification within 30 s") - t);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    samples
}

/// Spawns `cat` as the servers are spawned, writes an initialize request
/// and reads its echo: what any stdio server's spawn → initialize includes.
async fn spawn_floor() -> Duration {
    let t = Instant::now();
    let mut cmd = Command::new("cat");
    cmd.stderr(std::process::Stdio::null());
    let mut s = Stdio_::from_command(cmd);
    s.send("initialize", json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}))
        .await;
    let mut line = String::new();
    s.stdout.read_line(&mut line).await.unwrap();
    let took = t.elapsed();
    assert!(line.contains("initialize"), "cat echoed: {line}");
    let _ = s.child.start_kill();
    let _ = s.child.wait().await;
    took
}
