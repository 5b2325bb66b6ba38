//! Benchmarks of the release binary, run on demand (`scripts/bench`, or
//! `KUBE_TESTENV_DIR=… cargo bench --bench mcp`). Each figure is printed next
//! to a baseline measured in the same run, as a ratio, since shared machines
//! are noisy:
//! - spawn → initialize response, vs spawn → exit of `kubectl-mtv version`;
//! - tools/list latency and size over stdio, vs ping;
//! - get_providers over stdio, vs the same list through kube-rs directly;
//! - RSS after 1000 calls;
//! - Streamable HTTP requests per second (tools/list, get_providers) at 1, 16
//!   and 64 concurrent keep-alive clients, vs GET /healthz;
//! - RSS with 1000 open SSE sessions, vs idle;
//! - with `KUBECTL_MTV_BASELINE_BIN` set to another build of kubectl-mtv (an
//!   earlier commit, say): tools/list over stdio, this build vs that one,
//!   interleaved in one run;
//! - with `KUBECTL_MTV_BENCH=attack` (`scripts/bench attack`): the server's RSS
//!   and CPU, and a well-behaved client's tools/list latency, quiet and then
//!   while 100 slowloris connections, a JSON-RPC batch flood and an SSE
//!   reconnect storm run at once.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-mtv");

fn testenv() -> HashMap<String, String> {
    let dir = std::env::var("KUBE_TESTENV_DIR").expect("KUBE_TESTENV_DIR (scripts/bench sets it)");
    std::fs::read_to_string(format!("{dir}/env"))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
        .collect()
}

fn stats(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[(v.len() * 95 / 100).min(v.len() - 1)])
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

struct Stdio_ {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    id: u64,
}

impl Stdio_ {
    fn spawn(kubeconfig: &str) -> Self {
        Self::spawn_bin(BIN, kubeconfig)
    }

    fn spawn_bin(bin: &str, kubeconfig: &str) -> Self {
        let mut child = Command::new(bin)
            .arg("mcp-server")
            .env("KUBECONFIG", kubeconfig)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Stdio_ {
            child,
            stdin,
            stdout,
            id: 0,
        }
    }

    async fn rpc(&mut self, method: &str, params: Value) -> (Value, usize) {
        self.id += 1;
        let msg = json!({"jsonrpc": "2.0", "id": self.id, "method": method, "params": params});
        self.stdin
            .write_all(format!("{msg}\n").as_bytes())
            .await
            .unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            self.stdout.read_line(&mut line).await.unwrap();
            let v: Value = serde_json::from_str(&line).unwrap();
            if v["id"] == self.id {
                return (v, line.len());
            }
        }
    }

    async fn init(&mut self) {
        self.rpc("initialize", json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}})).await;
    }
}

async fn spawn_to_initialize(kubeconfig: &str) {
    let runs = 30;
    let mut init = Vec::new();
    let mut base = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let st = Command::new(BIN)
            .arg("version")
            .stdout(Stdio::null())
            .status()
            .await
            .unwrap();
        assert!(st.success());
        base.push(t.elapsed());
        let t = Instant::now();
        let mut s = Stdio_::spawn(kubeconfig);
        s.init().await;
        init.push(t.elapsed());
        drop(s.stdin);
        let _ = s.child.wait().await;
    }
    let (bi, bi95) = stats(base);
    let (mi, mi95) = stats(init);
    println!("spawn -> initialize response ({runs} runs): median {} (p95 {}); baseline spawn -> exit of `version`: median {} (p95 {}); ratio {:.2}", ms(mi), ms(mi95), ms(bi), ms(bi95), mi.as_secs_f64() / bi.as_secs_f64());
}

async fn stdio_calls(env: &HashMap<String, String>) {
    let kubeconfig = &env["KUBECONFIG"];
    let mut s = Stdio_::spawn(kubeconfig);
    s.init().await;
    let mut ping = Vec::new();
    let mut list = Vec::new();
    let mut size = 0;
    for _ in 0..200 {
        let t = Instant::now();
        s.rpc("ping", json!({})).await;
        ping.push(t.elapsed());
        let t = Instant::now();
        let (_, n) = s.rpc("tools/list", json!({})).await;
        list.push(t.elapsed());
        size = n;
    }
    let (p, _) = stats(ping);
    let (l, l95) = stats(list);
    println!("tools/list over stdio (200 runs): median {} (p95 {}), {} bytes per response line; baseline ping: median {}; ratio {:.2}", ms(l), ms(l95), size, ms(p), l.as_secs_f64() / p.as_secs_f64());

    // get_providers vs the same list through kube-rs directly.
    let ns = "bench";
    let _ = std::process::Command::new("kubectl")
        .args(["--kubeconfig", kubeconfig, "create", "namespace", ns])
        .output();
    let spec = json!({"type": "vsphere", "url": "https://vc/sdk", "secret": {"name": "s", "namespace": ns}});
    for i in 0..5 {
        s.rpc("tools/call", json!({"name": "create_provider", "arguments": {"name": format!("p{i}"), "namespace": ns, "spec": spec}})).await;
    }
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(cfg).unwrap();
    let ar = kube::discovery::ApiResource {
        group: "forklift.konveyor.io".into(),
        version: "v1beta1".into(),
        api_version: "forklift.konveyor.io/v1beta1".into(),
        kind: "Provider".into(),
        plural: "providers".into(),
    };
    let api: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(client, ns, &ar);
    let calls = 1000;
    let mut direct = Vec::new();
    let mut mcp = Vec::new();
    for _ in 0..calls {
        let t = Instant::now();
        let l = api.list(&Default::default()).await.unwrap();
        direct.push(t.elapsed());
        assert_eq!(l.items.len(), 5);
        let t = Instant::now();
        let (r, _) = s
            .rpc(
                "tools/call",
                json!({"name": "get_providers", "arguments": {"namespace": ns}}),
            )
            .await;
        mcp.push(t.elapsed());
        assert_eq!(r["result"]["isError"], false);
    }
    let (d, d95) = stats(direct);
    let (m, m95) = stats(mcp);
    println!("get_providers (5 objects) over stdio ({calls} calls): median {} (p95 {}); baseline kube-rs list in-process: median {} (p95 {}); ratio {:.2}", ms(m), ms(m95), ms(d), ms(d95), m.as_secs_f64() / d.as_secs_f64());
    let pid = s.child.id().unwrap();
    println!(
        "RSS of the stdio server after {} tool calls and 400 other requests: {} KiB",
        calls + 5,
        rss_kib(pid)
    );
}

/// A keep-alive HTTP/1.1 client connection.
struct Conn {
    r: BufReader<TcpStream>,
}

impl Conn {
    async fn open(port: u16) -> Self {
        let s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.set_nodelay(true).unwrap();
        Conn {
            r: BufReader::new(s),
        }
    }

    async fn send(&mut self, method: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
        let req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n{headers}\r\n{body}", body.len());
        self.r.get_mut().write_all(req.as_bytes()).await.unwrap();
        let mut line = String::new();
        self.r.read_line(&mut line).await.unwrap();
        let status: u16 = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut len = 0;
        loop {
            line.clear();
            self.r.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        self.r.read_exact(&mut body).await.unwrap();
        (status, String::from_utf8(body).unwrap())
    }
}

async fn rps(
    port: u16,
    clients: usize,
    dur: Duration,
    method: &'static str,
    path: &'static str,
    headers: String,
    body: String,
) -> f64 {
    let deadline = Instant::now() + dur;
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (headers, body) = (headers.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::open(port).await;
            let mut n = 0u64;
            while Instant::now() < deadline {
                // Every request gets its own JSON-RPC id: ids are unique per session.
                let b = body.replace("\"@ID\"", &format!("{}", i as u64 * 1_000_000_000 + n));
                let (st, resp) = c.send(method, path, &headers, &b).await;
                assert_eq!(st, 200);
                assert!(
                    !resp.contains("\"isError\":true") && !resp.contains("\"error\""),
                    "{resp}"
                );
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / dur.as_secs_f64()
}

async fn http(env: &HashMap<String, String>) {
    let (child, port) = http_server(env, &["--max-sessions", "2000"]).await;
    let mut c = Conn::open(port).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "b", "version": "0"}}});
    let req = format!("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n{init}", init.to_string().len());
    c.r.get_mut().write_all(req.as_bytes()).await.unwrap();
    let mut head = String::new();
    let sid = loop {
        head.clear();
        c.r.read_line(&mut head).await.unwrap();
        if let Some(v) = head.to_ascii_lowercase().strip_prefix("mcp-session-id:") {
            break v.trim().to_owned();
        }
    };
    let headers = format!(
        "Content-Type: application/json\r\nAccept: application/json\r\nMcp-Session-Id: {sid}\r\n"
    );
    let list = json!({"jsonrpc": "2.0", "id": "@ID", "method": "tools/list"}).to_string();
    let get = json!({"jsonrpc": "2.0", "id": "@ID", "method": "tools/call", "params": {"name": "get_providers", "arguments": {"namespace": "bench"}}}).to_string();
    let dur = Duration::from_secs(3);
    for clients in [1, 16, 64] {
        // The same clients post an MCP request on /mcp, or GET the trivial /healthz.
        let mcp = |body: &String| {
            rps(
                port,
                clients,
                dur,
                "POST",
                "/mcp",
                headers.clone(),
                body.clone(),
            )
        };
        let base = rps(
            port,
            clients,
            dur,
            "GET",
            "/healthz",
            String::new(),
            String::new(),
        )
        .await;
        let l = mcp(&list).await;
        let g = mcp(&get).await;
        println!("Streamable HTTP, {clients:>2} clients: tools/list {l:.0} req/s, get_providers {g:.0} req/s; baseline GET /healthz {base:.0} req/s; ratios {:.2} and {:.2}", l / base, g / base);
    }
    let pid = child.id().unwrap();
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
    let open = rss_kib(pid);
    println!("RSS of the HTTP server: {idle} KiB before, {open} KiB with 1000 open SSE sessions ({:.1} KiB per session; ratio {:.2})", (open - idle) as f64 / 1000.0, open as f64 / idle as f64);
    drop(streams);
}

#[tokio::main]
async fn main() {
    let env = testenv();
    println!(
        "kubectl-mtv benchmarks (release build; {} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    if std::env::var("KUBECTL_MTV_BENCH").as_deref() == Ok("attack") {
        attack(&env).await;
        return;
    }
    if let Ok(baseline) = std::env::var("KUBECTL_MTV_BASELINE_BIN") {
        compare_builds(&baseline, &env["KUBECONFIG"]).await;
        return;
    }
    spawn_to_initialize(&env["KUBECONFIG"]).await;
    stdio_calls(&env).await;
    http(&env).await;
}

/// tools/list over stdio, this build vs `baseline`, interleaved call by call.
async fn compare_builds(baseline: &str, kubeconfig: &str) {
    let mut ours = Stdio_::spawn(kubeconfig);
    let mut theirs = Stdio_::spawn_bin(baseline, kubeconfig);
    ours.init().await;
    theirs.init().await;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let (mut size_a, mut size_b, mut tools_a, mut tools_b) = (0, 0, 0, 0);
    for i in 0..2000 {
        let t = Instant::now();
        let (v, n) = ours.rpc("tools/list", json!({})).await;
        let d = t.elapsed();
        let t = Instant::now();
        let (w, m) = theirs.rpc("tools/list", json!({})).await;
        let e = t.elapsed();
        if i >= 100 {
            a.push(d);
            b.push(e);
        }
        size_a = n;
        size_b = m;
        tools_a = v["result"]["tools"].as_array().map_or(0, Vec::len);
        tools_b = w["result"]["tools"].as_array().map_or(0, Vec::len);
    }
    let (ma, pa) = stats(a);
    let (mb, pb) = stats(b);
    println!("tools/list over stdio, 1900 interleaved calls each (after 100 warm-up):");
    println!(
        "  this build: median {} (p95 {}), {tools_a} tools, {size_a} bytes per response line",
        ms(ma),
        ms(pa)
    );
    println!(
        "  baseline:   median {} (p95 {}), {tools_b} tools, {size_b} bytes per response line",
        ms(mb),
        ms(pb)
    );
    println!(
        "  ratio of medians {:.2}; per KB of response {:.3} vs {:.3} ms",
        ma.as_secs_f64() / mb.as_secs_f64(),
        ma.as_secs_f64() * 1000.0 / (size_a as f64 / 1000.0),
        mb.as_secs_f64() * 1000.0 / (size_b as f64 / 1000.0)
    );
}

/// CPU time (user + system) of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields after the command name: utime is the 12th, stime the 13th.
    (ticks(11) + ticks(12)) / 100.0
}

/// Starts `kubectl-mtv mcp-server --sse --port 0` with these extra arguments.
async fn http_server(env: &HashMap<String, String>, extra: &[&str]) -> (Child, u16) {
    let mut child = Command::new(BIN)
        .args(["mcp-server", "--sse", "--port", "0"])
        .args(extra)
        .env("KUBECONFIG", &env["KUBECONFIG"])
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let port: u16 = loop {
        let l = lines.next_line().await.unwrap().unwrap();
        if let Some(rest) = l.split("Listening on ").nth(1) {
            break rest.rsplit(':').next().unwrap().parse().unwrap();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, port)
}

/// A well-behaved client's tools/list latencies over `dur` (stateless POSTs
/// on one keep-alive connection), with the server's peak RSS and CPU seconds.
async fn probe(port: u16, pid: u32, dur: Duration) -> (Vec<Duration>, u64, f64) {
    let headers = "Content-Type: application/json\r\nAccept: application/json\r\nMCP-Protocol-Version: 2025-06-18\r\n".to_owned();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
    let cpu0 = cpu_seconds(pid);
    let deadline = Instant::now() + dur;
    let mut c = Conn::open(port).await;
    let mut lat = Vec::new();
    let mut peak = 0;
    while Instant::now() < deadline {
        let t = Instant::now();
        let (st, _) = c.send("POST", "/mcp", &headers, &body).await;
        lat.push(t.elapsed());
        assert_eq!(st, 200);
        peak = peak.max(rss_kib(pid));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (lat, peak, cpu_seconds(pid) - cpu0)
}

async fn attack(env: &HashMap<String, String>) {
    // Stateless, so the probe needs no session; the defaults bound the rest.
    let (child, port) = http_server(env, &["--stateless"]).await;
    let pid = child.id().unwrap();
    let dur = Duration::from_secs(10);
    let (quiet, quiet_rss, quiet_cpu) = probe(port, pid, dur).await;

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let running = |stop: &std::sync::Arc<std::sync::atomic::AtomicBool>| {
        !stop.load(std::sync::atomic::Ordering::Relaxed)
    };
    let mut tasks = Vec::new();
    // 100 slowloris connections: a header byte a second, reconnecting when cut.
    for _ in 0..100 {
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            while running(&stop) {
                let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await else {
                    continue;
                };
                let _ = s
                    .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    .await;
                while running(&stop) && s.write_all(b"X").await.is_ok() {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }));
    }
    // A batch flood: 2025-03-26 batches of 64 pings, and oversized ones.
    for k in 0..4 {
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let headers = "Content-Type: application/json\r\nAccept: application/json\r\nMCP-Protocol-Version: 2025-03-26\r\n";
            let batch = |n: usize| {
                Value::Array((0..n).map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "ping"})).collect()).to_string()
            };
            let (ok, big) = (batch(64), batch(5000));
            let mut c = Conn::open(port).await;
            let mut i = 0u64;
            while running(&stop) {
                let body = if (i + k).is_multiple_of(2) { &ok } else { &big };
                let (st, _) = c.send("POST", "/mcp", headers, body).await;
                assert!(st == 200 || st == 503, "{st}");
                i += 1;
            }
        }));
    }
    // A reconnect storm: SSE sessions opened and dropped at once.
    for _ in 0..4 {
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            while running(&stop) {
                if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await {
                    let _ = s
                        .write_all(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                        .await;
                    let mut buf = [0u8; 256];
                    let _ = s.read(&mut buf).await;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (loud, loud_rss, loud_cpu) = probe(port, pid, dur).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        t.abort();
    }
    let (qm, qp) = stats(quiet);
    let (lm, lp) = stats(loud);
    println!(
        "Under attack (100 slowloris connections + batch flood + SSE reconnect storm), {} s each:",
        dur.as_secs()
    );
    println!("  probe tools/list latency: quiet median {} (p95 {}), under attack median {} (p95 {}); ratio of medians {:.2}", ms(qm), ms(qp), ms(lm), ms(lp), lm.as_secs_f64() / qm.as_secs_f64());
    println!(
        "  server peak RSS: quiet {quiet_rss} KiB, under attack {loud_rss} KiB (ratio {:.2})",
        loud_rss as f64 / quiet_rss as f64
    );
    println!(
        "  server CPU: quiet {quiet_cpu:.2} s, under attack {loud_cpu:.2} s of {} s",
        dur.as_secs()
    );
    drop(child);
}
