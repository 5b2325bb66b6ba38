//! The side-by-side figures: a markdown table with every figure and its ratio
//! to ours, the targets, the machine and versions, and an SVG chart of the
//! stdio latency distributions; printed, and written to target/bench/.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use crate::peers::NAMES;

/// One server's figures.
#[derive(Default)]
pub struct Figures {
    /// Why this server was not measured at all.
    pub missing: Option<String>,
    pub spawn: Vec<Duration>,
    pub list: Vec<Duration>,
    pub list_bytes: usize,
    pub tools: usize,
    pub get: Vec<Duration>,
    pub get_tool: String,
    /// JSON-RPC errors or failed tool calls over stdio.
    pub errors: u64,
    /// tools/list and tools/call requests over stdio in all.
    pub calls: u64,
    pub rss_idle: Option<u64>,
    pub rss_1k: Option<u64>,
    pub rss_10k: Option<u64>,
    /// Its anonymous (private) part, after 10,000 calls (KiB).
    pub anon_10k: Option<u64>,
    /// (tools/list or get, clients, succeeded req/s, failed requests).
    pub http: Vec<(&'static str, usize, f64, u64)>,
    /// Why Streamable HTTP was not measured.
    pub http_na: Option<String>,
}

pub struct Report {
    /// In `NAMES` order: ours first.
    pub servers: Vec<Figures>,
    pub versions: Vec<(String, String)>,
    pub raw_get: Vec<Duration>,
    /// `cat` spawned the same way, echoing the initialize line: the
    /// floor of spawn → initialize (the benchmark's own process start).
    pub spawn_floor: Vec<Duration>,
    /// Our HTTP server's RSS idle and with 1000 open SSE sessions (KiB).
    pub sse: Option<(u64, u64)>,
    pub watch: Vec<Duration>,
    pub wall: Duration,
}

/// `/proc/loadavg`'s three averages when the benchmark started: whether
/// other work shared the cores (the build before it shows in the 5 and 15
/// minute ones).
pub static LOAD_AT_START: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Records [`LOAD_AT_START`].
pub fn note_load() {
    let avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let three: Vec<&str> = avg.split_whitespace().take(3).collect();
    let _ = LOAD_AT_START.set(three.join(" / "));
}

/// How much of link/hot-functions.txt the measured binary has: the list is
/// in the linker's names, which a new toolchain or Cargo.lock changes, and
/// what the binary lacks is laid out as if unlisted (build.rs,
/// scripts/order-functions).
fn code_layout() -> String {
    let list = concat!(env!("CARGO_MANIFEST_DIR"), "/link/hot-functions.txt");
    let Ok(listed) = std::fs::read_to_string(list) else {
        return "no link/hot-functions.txt: the hot code is not packed.".into();
    };
    let Some(symbols) = command_line("nm", &["--defined-only", &crate::BIN]) else {
        return "n/a (`nm` failed on the binary).".into();
    };
    let have: std::collections::HashSet<&str> = symbols
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    let names: Vec<&str> = listed.lines().filter(|l| !l.is_empty()).collect();
    let found = names.iter().filter(|n| have.contains(*n)).count();
    format!(
        "{found} of the {} functions in link/hot-functions.txt are in the binary ({:.0} %) and packed at the start of its code (`scripts/order-functions` remakes the list after a toolchain or Cargo.lock change).",
        names.len(),
        100.0 * found as f64 / names.len().max(1) as f64
    )
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn quantile(v: &[Duration], q: f64) -> Option<Duration> {
    let mut v = v.to_vec();
    v.sort();
    let i = ((v.len() as f64 * q) as usize).min(v.len().checked_sub(1)?);
    Some(v[i])
}

fn median(v: &[Duration]) -> Option<Duration> {
    quantile(v, 0.5)
}

fn p95(v: &[Duration]) -> Option<Duration> {
    quantile(v, 0.95)
}

fn ms(d: Duration) -> String {
    let m = d.as_secs_f64() * 1000.0;
    if m >= 100.0 {
        format!("{m:.0} ms")
    } else if m >= 10.0 {
        format!("{m:.1} ms")
    } else {
        format!("{m:.3} ms")
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn ratio(r: f64) -> String {
    if r < 0.1 {
        format!("{r:.3}")
    } else {
        format!("{r:.2}")
    }
}

/// A table cell: a figure (its value for ratios, and how it prints) or n/a.
enum Cell {
    Figure(f64, String),
    Text(String),
    Na,
}

impl Report {
    pub async fn new(client: &kube::Client) -> Self {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut versions = Vec::new();
        let commit = command_line("git", &["-C", root, "rev-parse", "--short=12", "HEAD"])
            .unwrap_or_else(|| "unknown".into());
        let dirty = command_line("git", &["-C", root, "status", "--porcelain"])
            .is_some_and(|s| !s.is_empty());
        versions.push((
            "kubectl-mtv (git)".into(),
            format!(
                "{commit}{}",
                if dirty { " + uncommitted changes" } else { "" }
            ),
        ));
        let apiserver = client
            .apiserver_version()
            .await
            .map(|v| v.git_version)
            .unwrap_or_else(|e| format!("unknown ({e})"));
        versions.push((
            "kube-apiserver (local, scripts/kube-testenv)".into(),
            apiserver,
        ));
        for (name, program, args) in [
            ("node", "node", &["--version"][..]),
            ("rustc", "rustc", &["--version"][..]),
        ] {
            if let Some(v) = command_line(program, args) {
                versions.push((name.into(), v));
            }
        }
        let kubectl = command_line("kubectl", &["version", "--client", "-o", "json"])
            .and_then(|j| serde_json::from_str::<serde_json::Value>(&j).ok())
            .and_then(|v| v["clientVersion"]["gitVersion"].as_str().map(str::to_owned));
        if let Some(v) = kubectl {
            versions.push(("kubectl on PATH (mcp-server-kubernetes runs it)".into(), v));
        }
        Report {
            servers: (0..NAMES.len()).map(|_| Figures::default()).collect(),
            versions,
            raw_get: Vec::new(),
            spawn_floor: Vec::new(),
            sse: None,
            watch: Vec::new(),
            wall: Duration::ZERO,
        }
    }

    /// Prints the table and writes target/bench/benchmarks.md and the chart.
    pub fn finish(&self) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
        std::fs::create_dir_all(&dir).unwrap();
        let chart = dir.join("benchmarks-latency.svg");
        if let Err(e) = self.chart(&chart) {
            eprintln!("chart: {e}");
        }
        let (table, notes) = self.table();
        let targets = self.targets();
        println!("\n{table}\n{notes}\n\n{targets}");
        let doc = self.doc(&table, &notes, &targets);
        let md = dir.join("benchmarks.md");
        std::fs::write(&md, doc).unwrap();
        println!("benchmark wall time: {:.0} s", self.wall.as_secs_f64());
        println!("table and notes: {}", md.display());
        println!("chart:           {}", chart.display());
    }

    fn ours(&self) -> &Figures {
        &self.servers[0]
    }

    /// The main table, and its notes (the n/a reasons).
    fn table(&self) -> (String, String) {
        let mut t = String::new();
        let mut head = "| measurement |".to_owned();
        let mut rule = "|---|".to_owned();
        for (i, name) in NAMES.iter().enumerate() {
            head.push_str(&format!(" {name} |"));
            rule.push_str("---:|");
            if i > 0 {
                head.push_str(" ours ÷ it |");
                rule.push_str("---:|");
            }
        }
        writeln!(t, "{head}\n{rule}").unwrap();
        let mut notes: Vec<String> = Vec::new();
        let row = |t: &mut String, label: &str, cell: &dyn Fn(&Figures) -> Cell| {
            let cells: Vec<Cell> = self
                .servers
                .iter()
                .map(|f| {
                    if f.missing.is_some() {
                        Cell::Na
                    } else {
                        cell(f)
                    }
                })
                .collect();
            let mut line = format!("| {label} |");
            for (i, c) in cells.iter().enumerate() {
                line.push(' ');
                line.push_str(match c {
                    Cell::Figure(_, s) | Cell::Text(s) => s,
                    Cell::Na => "n/a",
                });
                line.push_str(" |");
                if i > 0 {
                    let r = match (&cells[0], c) {
                        (Cell::Figure(a, _), Cell::Figure(b, _)) if *b != 0.0 => ratio(a / b),
                        (Cell::Text(_), _) | (_, Cell::Text(_)) => String::new(),
                        _ => "–".into(),
                    };
                    line.push_str(&format!(" {r} |"));
                }
            }
            writeln!(t, "{line}").unwrap();
        };
        let dur = |v: Option<Duration>| match v {
            Some(d) => Cell::Figure(d.as_secs_f64(), ms(d)),
            None => Cell::Na,
        };
        let kib = |v: Option<u64>| match v {
            Some(k) => Cell::Figure(k as f64, mib(k)),
            None => Cell::Na,
        };
        let n = |f: &Figures, v: &[Duration]| if f.missing.is_some() { 0 } else { v.len() };
        let spawns = n(self.ours(), &self.ours().spawn);
        let calls = n(self.ours(), &self.ours().list);
        row(
            &mut t,
            &format!("spawn → initialize response, median ({spawns} cold starts)"),
            &|f| dur(median(&f.spawn)),
        );
        row(&mut t, "spawn → initialize response, p95", &|f| {
            dur(p95(&f.spawn))
        });
        row(
            &mut t,
            &format!("tools/list over stdio, median ({calls} calls)"),
            &|f| dur(median(&f.list)),
        );
        row(&mut t, "tools/list over stdio, p95", &|f| dur(p95(&f.list)));
        row(&mut t, "tools/list response size", &|f| {
            Cell::Figure(f.list_bytes as f64, format!("{} B", f.list_bytes))
        });
        row(&mut t, "tools in tools/list", &|f| {
            Cell::Figure(f.tools as f64, f.tools.to_string())
        });
        row(&mut t, "get tool (one Provider by name)", &|f| {
            Cell::Text(format!("`{}`", f.get_tool))
        });
        row(
            &mut t,
            &format!("get over stdio, median ({calls} calls)"),
            &|f| dur(median(&f.get)),
        );
        row(&mut t, "get over stdio, p95", &|f| dur(p95(&f.get)));
        let floor = median(&self.raw_get);
        row(
            &mut t,
            "get median ÷ raw HTTPS GET median",
            &|f| match (median(&f.get), floor) {
                (Some(g), Some(r)) => {
                    let x = g.as_secs_f64() / r.as_secs_f64();
                    Cell::Figure(x, format!("{x:.2}×"))
                }
                _ => Cell::Na,
            },
        );
        row(&mut t, "RSS idle (after initialize)", &|f| kib(f.rss_idle));
        row(&mut t, "RSS after 1,000 calls", &|f| kib(f.rss_1k));
        row(&mut t, "RSS after 10,000 calls", &|f| kib(f.rss_10k));
        row(
            &mut t,
            "of which anonymous (private), after 10,000 calls",
            &|f| kib(f.anon_10k),
        );
        row(
            &mut t,
            "RSS change, 1,000 → 10,000 calls",
            &|f| match (f.rss_1k, f.rss_10k) {
                (Some(a), Some(b)) => Cell::Text(format!("{:+} KiB", b as i64 - a as i64)),
                _ => Cell::Na,
            },
        );
        row(&mut t, "failed calls over stdio (of all calls)", &|f| {
            Cell::Text(format!("{} of {}", f.errors, f.calls))
        });
        for what in ["tools/list", "get"] {
            for clients in [1, 16, 64] {
                let label = format!(
                    "Streamable HTTP {what}, {clients} client{}, req/s",
                    if clients > 1 { "s" } else { "" }
                );
                row(
                    &mut t,
                    &label,
                    &|f| match f.http.iter().find(|h| h.0 == what && h.1 == clients) {
                        Some(&(_, _, rate, failed)) => {
                            let mut s = format!("{rate:.0}");
                            if failed > 0 {
                                s.push_str(&format!(" ({failed} failed)"));
                            }
                            Cell::Figure(rate, s)
                        }
                        None => Cell::Na,
                    },
                );
            }
        }
        // Ours only.
        let mut o = String::new();
        writeln!(o, "| kubectl-mtv only | figure |\n|---|---:|").unwrap();
        if let (Some(m), Some(p)) = (median(&self.spawn_floor), p95(&self.spawn_floor)) {
            writeln!(o, "| spawn → first line back from `cat` (the floor of spawn → initialize: the same spawn, pipe and read, no server), {} starts interleaved with the ones above | median {}, p95 {} |", self.spawn_floor.len(), ms(m), ms(p)).unwrap();
        }
        if let (Some(m), Some(p)) = (median(&self.raw_get), p95(&self.raw_get)) {
            writeln!(o, "| raw HTTPS GET of the Provider, kube-rs on a kept-alive connection (the floor), {} GETs interleaved with the gets above | median {}, p95 {} |", self.raw_get.len(), ms(m), ms(p)).unwrap();
        }
        if let Some((idle, open)) = self.sse {
            writeln!(o, "| RSS of the HTTP server after the load above, then with 1000 open SSE sessions | {} → {} ({:.1} KiB per session) |", mib(idle), mib(open), (open as f64 - idle as f64) / 1000.0).unwrap();
        }
        if let (Some(m), Some(p)) = (median(&self.watch), p95(&self.watch)) {
            writeln!(o, "| watch_plan: Plan status write (status subresource) → progress notification, {} writes | median {}, p95 {} |", self.watch.len(), ms(m), ms(p)).unwrap();
        }
        t.push('\n');
        t.push_str(&o);

        notes.push("Ratios are ours ÷ peer: below 1 favours kubectl-mtv in the latency, size and RSS rows, above 1 in the req/s rows. \"–\": no ratio (a peer's figure is n/a or 0).".into());
        for (i, f) in self.servers.iter().enumerate() {
            if let Some(why) = &f.missing {
                notes.push(format!("{}: n/a throughout: {why}.", NAMES[i]));
            } else if let Some(why) = &f.http_na {
                notes.push(format!("{}: Streamable HTTP n/a: {why}.", NAMES[i]));
            }
        }
        if self.servers[2].missing.is_none() {
            notes.push("mcp-server-kubernetes: its Streamable HTTP transport is stateless (ENABLE_UNSAFE_STREAMABLE_HTTP_TRANSPORT; no Mcp-Session-Id, each POST gets a fresh transport); its kubectl_get runs `kubectl get … -o json` (the kubectl on PATH) for every call, so its get includes a kubectl process start; RSS is the node process's alone, without those short-lived kubectl children.".into());
        }
        if self.servers[1].missing.is_none() {
            notes.push("kubernetes-mcp-server paces its API requests with client-go's client-side rate limiter (about 5 requests/s after a burst of 10: at `--log-level 4` it logs \"Waited before sending request … client-side throttling\"). Its HTTP get rates are that limit; over stdio the interleaved rounds (each waits for mcp-server-kubernetes' kubectl) pace its gets near the limit, so some of them wait too, which shows in its stdio get p95.".into());
        }
        notes.push("The peers have no Forklift watch tool and no legacy SSE transport like ours, so the kubectl-mtv-only rows are n/a for them.".into());
        let notes = notes
            .iter()
            .map(|n| format!("- {n}"))
            .collect::<Vec<_>>()
            .join("\n");
        (t, notes)
    }

    /// Our targets, as ratios to kubernetes-mcp-server (and to the raw GET).
    fn targets(&self) -> String {
        let ours = self.ours();
        let kms = &self.servers[1];
        let mut out = String::from("| target | figure in this run | held |\n|---|---:|:---:|\n");
        let mut line = |name: &str,
                        value: Option<f64>,
                        fmt: &dyn Fn(f64) -> String,
                        ok: &dyn Fn(f64) -> bool| {
            let (v, held) = match value {
                Some(v) if v.is_finite() => (fmt(v), if ok(v) { "yes" } else { "no" }),
                _ => ("n/a".into(), "n/a"),
            };
            writeln!(out, "| {name} | {v} | {held} |").unwrap();
        };
        let r =
            |a: Option<Duration>, b: Option<Duration>| Some(a?.as_secs_f64() / b?.as_secs_f64());
        let have = kms.missing.is_none();
        line(
            "spawn → initialize median, ours ÷ kubernetes-mcp-server ≤ 0.05",
            r(median(&ours.spawn), median(&kms.spawn)).filter(|_| have),
            &ratio,
            &|v| v <= 0.05,
        );
        line(
            "tools/list median over stdio, ours ÷ kubernetes-mcp-server ≤ 0.2",
            r(median(&ours.list), median(&kms.list)).filter(|_| have),
            &ratio,
            &|v| v <= 0.2,
        );
        line(
            "RSS after 10,000 calls, ours ÷ kubernetes-mcp-server ≤ 1/6 (0.167)",
            ours.rss_10k
                .zip(kms.rss_10k)
                .map(|(a, b)| a as f64 / b as f64),
            &ratio,
            &|v| v <= 1.0 / 6.0,
        );
        line(
            "our RSS not growing from 1,000 to 10,000 calls (change in KiB)",
            ours.rss_1k
                .zip(ours.rss_10k)
                .map(|(a, b)| b as f64 - a as f64),
            &|v| format!("{v:+.0} KiB"),
            &|v| v <= 0.0,
        );
        let http16 = |f: &Figures| {
            f.http
                .iter()
                .find(|h| h.0 == "tools/list" && h.1 == 16)
                .map(|h| h.2)
        };
        line(
            "Streamable HTTP tools/list req/s at 16 clients, ours ÷ kubernetes-mcp-server ≥ 2",
            http16(ours).zip(http16(kms)).map(|(a, b)| a / b),
            &ratio,
            &|v| v >= 2.0,
        );
        line(
            "our get median ÷ raw HTTPS GET median ≤ 1.2",
            r(median(&ours.get), median(&self.raw_get)),
            &ratio,
            &|v| v <= 1.2,
        );
        out
    }

    fn doc(&self, table: &str, notes: &str, targets: &str) -> String {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let ram = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map(|k| format!("{:.1} GiB", k / 1024.0 / 1024.0))
            .unwrap_or_else(|| "unknown".into());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let load = LOAD_AT_START
            .get()
            .cloned()
            .unwrap_or_else(|| "unknown".into());
        let layout = code_layout();
        let date = command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default();
        // scripts/bench exports its start time: its wall time up to here.
        let script = std::env::var("KUBECTL_MTV_BENCH_T0")
            .ok()
            .and_then(|t| t.parse::<u64>().ok())
            .and_then(|t0| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()?;
                Some(format!(
                    "; `scripts/bench` as a whole, {} s",
                    now.as_secs().saturating_sub(t0)
                ))
            })
            .unwrap_or_default();
        let versions = self
            .versions
            .iter()
            .map(|(k, v)| format!("- {k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n");
        format!(
            r#"# Benchmarks

kubectl-mtv beside the two general Kubernetes MCP servers users would pick
instead, [kubernetes-mcp-server](https://github.com/containers/kubernetes-mcp-server)
(Go) and [mcp-server-kubernetes](https://github.com/Flux159/mcp-server-kubernetes)
(Node), in one run of `scripts/bench` ([benches/mcp.rs](../benches/mcp.rs)):
the same machine, the same local kube-apiserver, the servers interleaved
call by call. Figures are medians and 95th percentiles of this one run; on
a shared machine they move from run to run, the ratios less so. This page is
the `target/bench/benchmarks.md` a run writes, copied here with its chart
(`target/bench/benchmarks-latency.svg`).

## Latest run

{date}. Command: `scripts/bench` (installs the peers pinned in
[benches/peers](../benches/peers) with npm, starts the local API server with
`scripts/kube-testenv`, builds the release binary and runs the benchmark; the
benchmark itself took {wall:.0} s{script}).

Machine: {cores} cores (`nproc`), {cpu}, {ram} RAM; load average when the
benchmark started (`/proc/loadavg`, 1/5/15 min): {load}.

Code layout: {layout}

Versions:
{versions}

{table}
{notes}

### Targets

{targets}
![CDFs of tools/list and get latency over stdio, per server](benchmarks-latency.svg)

## How it measures

- **spawn → initialize**: from spawning the server on stdio to its
  initialize response; each server cold-started {spawns} times, in rotating order.
- **stdio calls**: one long-lived process per server; each round does a raw
  GET, then per server one tools/list and one get of the same Provider
  (`get_providers` name+namespace for kubectl-mtv, `resources_get` with
  apiVersion/kind/name/namespace for kubernetes-mcp-server, `kubectl_get`
  with resourceType/name/namespace/output json for mcp-server-kubernetes), after
  {warmup} warm-up rounds. A call is timed from writing its request to
  having read its response's line, before the client parses the JSON (the
  parse is the client's cost, and for a 40 KB tools/list it would outweigh
  the server's). The raw GET is `GET /apis/forklift.konveyor.io/v1beta1/namespaces/bench/providers/p0`
  through a kube-rs client (bearer token from the kubeconfig, kept-alive
  HTTPS connection), text not parsed: the floor for any get.
- **RSS**: VmRSS of the server process after initialize, after its 1,000th
  and after its 10,000th tools/list or tools/call (past the timed rounds, nine
  tools/list to one get); after the 10,000th also RssAnon, the private part
  (heap, stacks, written pages) without the file-backed pages of the binary
  and its libraries, which are page cache shared with every other process
  mapping them, mapped 64 KB around each page touched (the kernel's fault-around).
- **Streamable HTTP**: each server started on its HTTP port; initialize
  (keeping Mcp-Session-Id when the server returns one) and
  notifications/initialized, then 1, 16 or 64 keep-alive connections POST
  /mcp for {http} s each with `Accept: application/json, text/event-stream`;
  a request counts when it answers 200 with a JSON-RPC result that is not a
  tool error (plain JSON, or the `data:` of an SSE event). Rates are over the
  time until the last in-flight request answered.
- **watch_plan** (kubectl-mtv only): the benchmark plays Forklift's
  controller, patching a Plan's status through the status subresource (a new
  Executing condition message each time) while a watch_plan call with a
  progressToken runs; from the start of each write to its progress notification.
"#,
            wall = self.wall.as_secs_f64(),
            spawns = crate::peers::SPAWNS,
            warmup = crate::peers::WARMUP,
            http = crate::peers::HTTP_SECS,
        )
    }

    /// CDFs of tools/list and get latency over stdio per server (and the raw GET).
    fn chart(&self, path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
        use plotters::prelude::*;
        let root = SVGBackend::new(path, (1100, 460)).into_drawing_area();
        root.fill(&WHITE)?;
        let panels = root.split_evenly((1, 2));
        let colors = [
            RGBColor(200, 40, 40),
            RGBColor(30, 90, 200),
            RGBColor(30, 150, 60),
            RGBColor(90, 90, 90),
        ];
        for (n, area) in panels.iter().enumerate() {
            let mut series: Vec<(String, Vec<Duration>)> = self
                .servers
                .iter()
                .zip(NAMES)
                .map(|(f, name)| {
                    let v = if n == 0 { &f.list } else { &f.get };
                    let label = if n == 0 {
                        name.to_owned()
                    } else {
                        format!("{name} ({})", f.get_tool)
                    };
                    (label, v.clone())
                })
                .collect();
            if n == 1 {
                series.push(("raw HTTPS GET (floor)".into(), self.raw_get.clone()));
            }
            let all = series
                .iter()
                .flat_map(|(_, v)| v.iter().map(|d| d.as_secs_f64() * 1000.0));
            let (lo, hi) = all.fold((f64::MAX, 0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
            if hi <= 0.0 {
                continue;
            }
            let title = if n == 0 {
                "tools/list over stdio"
            } else {
                "get of one Provider over stdio"
            };
            let mut chart = ChartBuilder::on(area)
                .caption(title, ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(50)
                .build_cartesian_2d((lo * 0.8..hi * 1.25).log_scale(), 0f64..1f64)?;
            chart
                .configure_mesh()
                .x_desc("latency, ms (log scale)")
                .y_desc("fraction of calls ≤ x")
                .draw()?;
            for (k, (label, v)) in series.iter().enumerate() {
                if v.is_empty() {
                    continue;
                }
                let mut v = v.clone();
                v.sort();
                let len = v.len();
                // At most 400 points a curve keeps the SVG small.
                let step = len.div_ceil(400);
                let points = (0..len)
                    .step_by(step)
                    .chain(std::iter::once(len - 1))
                    .map(|i| (v[i].as_secs_f64() * 1000.0, (i + 1) as f64 / len as f64));
                let color = colors[k % colors.len()];
                chart
                    .draw_series(LineSeries::new(points, color.stroke_width(2)))?
                    .label(label.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
        }
        root.present()?;
        Ok(())
    }
}
