//! Benchmarks of the release binary, run on demand (`scripts/bench`, or
//! `KUBE_TESTENV_DIR=… KUBECTL_MTV_BENCH_PEERS=… cargo bench --bench mcp`).
//! kubectl-mtv is measured side by side with the general Kubernetes MCP
//! servers users would pick instead (kubernetes-mcp-server and
//! mcp-server-kubernetes, pinned in benches/peers and installed by
//! scripts/bench), in one run, interleaved, on the same local API server
//! (benches/mcp/peers.rs):
//! - spawn → initialize response;
//! - tools/list latency and size over stdio;
//! - one object get through each server's own tool, beside a raw HTTPS GET of
//!   the same object on a kept-alive connection (the floor);
//! - RSS idle, after 1,000 and after 10,000 calls;
//! - Streamable HTTP requests per second (tools/list, the get) at 1, 16 and 64
//!   concurrent keep-alive clients;
//! - ours only: RSS with 1000 open SSE sessions, and a watch_plan progress
//!   notification's latency after a Plan status write.
//!
//! The table (every figure with its ratio to ours) and a chart of the latency
//! distributions go to target/bench/ (benches/mcp/report.rs). Other modes:
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

#[path = "mcp/peers.rs"]
mod peers;
#[path = "mcp/report.rs"]
mod report;

/// The binary measured: `KUBECTL_MTV_BENCH_BIN` (scripts/bench sets it to a
/// plain `cargo build --release`, what `cargo install` makes), else the one
/// cargo built for this benchmark. They differ: building a benchmark turns
/// on the dev-dependencies' features of shared crates, which renames their
/// functions (link/hot-functions.txt would then not match).
static BIN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    std::env::var("KUBECTL_MTV_BENCH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_kubectl-mtv").to_owned())
});

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
    status_kib(pid, "VmRSS:")
}

/// The private (anonymous) part of a process's RSS: its heap, stacks and
/// written pages, without the file-backed pages of its binary and libraries
/// (page cache it shares, mapped 64 KB around every page it touched).
fn anon_kib(pid: u32) -> u64 {
    status_kib(pid, "RssAnon:")
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(field))
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
        Self::spawn_bin(&BIN, kubeconfig)
    }

    fn spawn_bin(bin: &str, kubeconfig: &str) -> Self {
        let mut cmd = Command::new(bin);
        cmd.arg("mcp-server")
            .env("KUBECONFIG", kubeconfig)
            .stderr(Stdio::null());
        Self::from_command(cmd)
    }

    /// Spawns `cmd` with piped stdin and stdout, killed on drop.
    fn from_command(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {:?}: {e}", cmd.as_std().get_program()));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Stdio_ {
            child,
            stdin,
            stdout,
            id: 0,
        }
    }

    /// Sends a request; returns its id.
    async fn send(&mut self, method: &str, params: Value) -> u64 {
        self.id += 1;
        let msg = json!({"jsonrpc": "2.0", "id": self.id, "method": method, "params": params});
        self.stdin
            .write_all(format!("{msg}\n").as_bytes())
            .await
            .unwrap();
        self.id
    }

    /// The next JSON message on stdout (other lines are skipped).
    async fn next_message(&mut self) -> (Value, usize) {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.stdout.read_line(&mut line).await.unwrap();
            assert!(n > 0, "the server closed its stdout");
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                return (v, line.len());
            }
        }
    }

    /// A request and its response, and the time from sending it to having
    /// read the response's line: the client's JSON parse is not counted (it
    /// would dominate for a 40 KB tools/list, and it is the client's cost,
    /// not the server's).
    async fn rpc_timed(&mut self, method: &str, params: Value) -> (Value, usize, Duration) {
        let t = Instant::now();
        let id = self.send(method, params).await;
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.stdout.read_line(&mut line).await.unwrap();
            let took = t.elapsed();
            assert!(n > 0, "the server closed its stdout");
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if v["id"] == id {
                    return (v, line.len(), took);
                }
            }
        }
    }

    async fn rpc(&mut self, method: &str, params: Value) -> (Value, usize) {
        let id = self.send(method, params).await;
        loop {
            let (v, n) = self.next_message().await;
            if v["id"] == id {
                return (v, n);
            }
        }
    }

    async fn initialize(&mut self) -> Value {
        self.rpc("initialize", json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}})).await.0
    }

    async fn init(&mut self) {
        self.initialize().await;
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        self.stdin
            .write_all(format!("{note}\n").as_bytes())
            .await
            .unwrap();
    }
}

/// A keep-alive HTTP/1.1 client connection.
struct Conn {
    r: BufReader<TcpStream>,
}

/// An HTTP response: status, headers (names lowercased) and body.
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

impl Conn {
    async fn open(port: u16) -> Self {
        Self::try_open(port).await.unwrap()
    }

    async fn try_open(port: u16) -> std::io::Result<Self> {
        let s = TcpStream::connect(("127.0.0.1", port)).await?;
        s.set_nodelay(true)?;
        Ok(Conn {
            r: BufReader::new(s),
        })
    }

    async fn send(&mut self, method: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
        let r = self.try_send(method, path, headers, body).await.unwrap();
        (r.status, r.body)
    }

    async fn line(&mut self, line: &mut String) -> std::io::Result<()> {
        line.clear();
        if self.r.read_line(line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    /// One request; the response body is read by Content-Length or chunked
    /// transfer coding (an SSE stream that ends after the response).
    async fn try_send(
        &mut self,
        method: &str,
        path: &str,
        headers: &str,
        body: &str,
    ) -> std::io::Result<Resp> {
        let req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n{headers}\r\n{body}", body.len());
        self.r.get_mut().write_all(req.as_bytes()).await?;
        let mut line = String::new();
        self.line(&mut line).await?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("status line"))?;
        let (mut len, mut chunked, mut hs) = (0, false, Vec::new());
        loop {
            self.line(&mut line).await?;
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_owned());
                if k == "content-length" {
                    len = v.parse().map_err(|_| bad("content-length"))?;
                }
                if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                    chunked = true;
                }
                hs.push((k, v));
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                self.line(&mut line).await?;
                let size = line.trim().split(';').next().unwrap_or("");
                let size = usize::from_str_radix(size, 16).map_err(|_| bad("chunk size"))?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    loop {
                        self.line(&mut line).await?;
                        if line == "\r\n" {
                            break;
                        }
                    }
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                self.r.read_exact(&mut body[start..]).await?;
                self.line(&mut line).await?;
            }
        } else {
            body.resize(len, 0);
            self.r.read_exact(&mut body).await?;
        }
        Ok(Resp {
            status,
            headers: hs,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// The JSON-RPC message in a response body: plain JSON, or the `data:` of the
/// SSE event that carries a response (Streamable HTTP allows either).
fn json_of(body: &str) -> Option<Value> {
    if body.trim_start().starts_with(['{', '[']) {
        return serde_json::from_str(body).ok();
    }
    body.split("\n\n").find_map(|event| {
        let data: Vec<&str> = event
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim_start)
            .collect();
        let v: Value = serde_json::from_str(&data.join("\n")).ok()?;
        v.get("id").is_some().then_some(v)
    })
}

/// A JSON-RPC response that is neither an error nor a failed tool call.
fn succeeded(v: &Value) -> bool {
    v.get("error").is_none() && v.get("result").is_some() && v["result"]["isError"] != true
}

/// Requests per second that succeeded (JSON-RPC result, not a tool error)
/// from `clients` keep-alive connections posting for `dur`, and how many did
/// not. Requests still in flight at the deadline are waited for, and the rate
/// is over the whole time taken.
async fn rps(
    port: u16,
    clients: usize,
    dur: Duration,
    method: &'static str,
    path: &'static str,
    headers: String,
    body: String,
) -> (f64, u64) {
    let start = Instant::now();
    let deadline = start + dur;
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (headers, body) = (headers.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn: Option<Conn> = None;
            let (mut ok, mut failed) = (0u64, 0u64);
            while Instant::now() < deadline {
                let c = match conn.as_mut() {
                    Some(c) => c,
                    None => match Conn::try_open(port).await {
                        Ok(c) => conn.insert(c),
                        Err(_) => {
                            failed += 1;
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    },
                };
                // Every request gets its own JSON-RPC id: ids are unique per session.
                let n = ok + failed;
                let b = body.replace("\"@ID\"", &format!("{}", i as u64 * 1_000_000_000 + n));
                let sent = c.try_send(method, path, &headers, &b);
                match tokio::time::timeout(Duration::from_secs(30), sent).await {
                    Ok(Ok(r))
                        if r.status == 200 && json_of(&r.body).is_some_and(|v| succeeded(&v)) =>
                    {
                        ok += 1
                    }
                    Ok(Ok(_)) => failed += 1,
                    _ => {
                        failed += 1;
                        conn = None;
                    }
                }
            }
            (ok, failed)
        }));
    }
    let (mut ok, mut failed) = (0, 0);
    for t in tasks {
        let (o, f) = t.await.unwrap();
        ok += o;
        failed += f;
    }
    (ok as f64 / start.elapsed().as_secs_f64(), failed)
}

#[tokio::main]
async fn main() {
    report::note_load();
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
    peers::run(&env).await;
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
    let mut child = Command::new(&*BIN)
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
