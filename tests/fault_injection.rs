//! The API server misbehaving, through a TCP fault proxy between kubectl-mtv
//! (`--server` pointing at the proxy) and the real kube-apiserver: refused
//! connections, a black hole, a reset or a stall part-way through a
//! response, a slow trickle, and healing. Every call ends within its bound
//! with a clear error, calls succeed again after healing without restarting
//! the server, and a watch resumes from where it was after its stream is cut.
//!
//! The tests of this file run one at a time (they read server-wide counts).

mod common;

use std::time::{Duration, Instant};

use common::fault_proxy::{FaultProxy, Mode};
use common::forklift::{create, ready_plan, sample_estate, set_status, vm_progress};
use common::{admin_client, fresh_namespace, testenv, text, StdioClient};
use serde_json::{json, Value};
use tokio::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// A stdio server whose every API call goes through `proxy`.
async fn through(proxy: &FaultProxy) -> StdioClient {
    let kc = testenv().kubeconfig.to_str().unwrap().to_owned();
    let url = proxy.url();
    let mut c = StdioClient::spawn(
        &[
            "mcp-server",
            "--server",
            &url,
            "--request-timeout",
            "2s",
            "--connect-timeout",
            "2s",
        ],
        &[("KUBECONFIG", &kc)],
    )
    .await;
    c.initialize().await;
    c
}

/// Calls a tool, returning its result and how long it took.
async fn timed(c: &mut StdioClient, tool: &str, args: Value) -> (Value, Duration) {
    let t = Instant::now();
    let r = c.call(tool, args).await;
    (r, t.elapsed())
}

async fn many_plans(ns: &str, n: usize) {
    for i in 0..n {
        create(
            "plans",
            ns,
            json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Plan",
                   "metadata": {"name": format!("bulk-{i:03}"), "namespace": ns,
                                "annotations": {"padding": "x".repeat(600)}},
                   "spec": {"targetNamespace": "t", "provider": {
                       "source": {"name": "vcenter-prod", "namespace": ns},
                       "destination": {"name": "host", "namespace": ns}},
                       "map": {"network": {"name": "n", "namespace": ns}, "storage": {"name": "s", "namespace": ns}},
                       "vms": [{"id": format!("vm-{i}")}]}}),
        )
        .await;
    }
}

#[tokio::test]
async fn every_fault_ends_within_its_bound_and_healing_needs_no_restart() {
    let _one = ONE_AT_A_TIME.lock().await;
    let ns = fresh_namespace("faults").await;
    many_plans(&ns, 60).await;
    let proxy = FaultProxy::start(&testenv().server).await;
    let mut c = through(&proxy).await;
    let list = json!({"namespace": ns});

    let (r, _) = timed(&mut c, "get_plans", list.clone()).await;
    assert_eq!(r["isError"], false, "healthy: {}", text(&r));

    // Refused: immediate, and says so.
    proxy.refuse();
    proxy.settled().await;
    let (r, took) = timed(&mut c, "get_plans", list.clone()).await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("connection refused"), "{}", text(&r));
    assert!(took < Duration::from_secs(5), "refused took {took:?}");
    proxy.heal().await;
    let (r, _) = timed(&mut c, "get_plans", list.clone()).await;
    assert_eq!(r["isError"], false, "healed after refusal: {}", text(&r));

    // Black hole: accepts, never answers; --request-timeout 2s bounds it.
    proxy.set(Mode::BlackHole);
    proxy.cut();
    proxy.settled().await;
    let (r, took) = timed(&mut c, "get_plans", list.clone()).await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("did not answer in time"), "{}", text(&r));
    assert!(took < Duration::from_secs(8), "black hole took {took:?}");
    proxy.heal().await;
    let (r, _) = timed(&mut c, "get_plans", list.clone()).await;
    assert_eq!(r["isError"], false, "healed after black hole: {}", text(&r));

    // A stall part-way through the (~60 KB) response.
    proxy.set(Mode::StallAfter(20_000));
    proxy.cut();
    proxy.settled().await;
    let (r, took) = timed(&mut c, "get_plans", list.clone()).await;
    assert_eq!(r["isError"], true, "{}", text(&r));
    assert!(took < Duration::from_secs(8), "stall took {took:?}");
    proxy.heal().await;

    // A reset part-way through the response.
    proxy.set(Mode::ResetAfter(20_000));
    proxy.cut();
    proxy.settled().await;
    let (r, took) = timed(&mut c, "get_plans", list.clone()).await;
    assert_eq!(r["isError"], true, "{}", text(&r));
    assert!(took < Duration::from_secs(5), "reset took {took:?}");
    proxy.heal().await;

    // A slow trickle still delivers: data keeps coming, so no timeout fires.
    proxy.set(Mode::Trickle(4096, Duration::from_millis(100)));
    proxy.cut();
    proxy.settled().await;
    let (r, _) = timed(&mut c, "get_plans", list.clone()).await;
    assert_eq!(r["isError"], false, "trickle: {}", text(&r));
    assert!(
        text(&r).contains("bulk-000"),
        "the page arrived: {}",
        text(&r)
    );
    proxy.heal().await;

    // The same server process, healed, serves normally.
    let (r, took) = timed(&mut c, "get_plans", list).await;
    assert_eq!(r["isError"], false, "{}", text(&r));
    assert!(took < Duration::from_secs(5));
}

#[tokio::test]
async fn a_write_whose_answer_is_lost_is_not_retried_and_says_its_outcome_is_unknown() {
    let _one = ONE_AT_A_TIME.lock().await;
    let ns = fresh_namespace("faults-write").await;
    let proxy = FaultProxy::start(&testenv().server).await;
    let mut c = through(&proxy).await;
    let hook = json!({"namespace": ns, "name": "h1",
                      "spec": {"image": "quay.io/konveyor/hook-runner"}});

    // Nothing gets through: nothing was sent, and the error says so.
    proxy.set(Mode::BlackHole);
    proxy.cut();
    proxy.settled().await;
    let (r, took) = timed(&mut c, "create_hook", hook.clone()).await;
    assert_eq!(r["isError"], true, "{}", text(&r));
    assert!(text(&r).contains("Nothing was sent"), "{}", text(&r));
    assert!(took < Duration::from_secs(8), "{took:?}");

    // The request reaches the API server, the answer never comes back.
    proxy.set(Mode::SwallowResponses);
    proxy.cut();
    proxy.settled().await;
    let before = requests("POST", "hooks").await;
    let (r, took) = timed(&mut c, "create_hook", hook.clone()).await;
    // The API server's own count of creates it received.
    let sent = requests("POST", "hooks").await - before;
    assert_eq!(r["isError"], true, "{}", text(&r));
    assert!(
        text(&r).contains("may or may not have been applied") && text(&r).contains("get_hooks"),
        "a write whose answer was lost says its outcome is unknown: {}",
        text(&r)
    );
    assert!(took < Duration::from_secs(8), "{took:?}");
    assert_eq!(
        sent, 1.0,
        "the create reached the API server once and was not retried"
    );

    // It was in fact applied, once; the model's check finds it.
    proxy.heal().await;
    let (r, _) = timed(&mut c, "get_hooks", json!({"namespace": ns, "name": "h1"})).await;
    assert_eq!(r["isError"], false, "{}", text(&r));
}

/// The API server's request counter for `verb` on Forklift `plural`.
async fn requests(verb: &str, plural: &str) -> f64 {
    let client = admin_client().await;
    let req = http::Request::get("/metrics").body(Vec::new()).unwrap();
    let text = client.request_text(req).await.expect("GET /metrics");
    let needle = format!("resource=\"{plural}\"");
    text.lines()
        .filter(|l| {
            l.starts_with("apiserver_request_total{")
                && l.contains("group=\"forklift.konveyor.io\"")
                && l.contains(&needle)
                && l.contains(&format!("verb=\"{verb}\""))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn a_watch_resumes_from_its_resource_version_after_its_stream_is_cut() {
    let _one = ONE_AT_A_TIME.lock().await;
    let ns = fresh_namespace("faults-watch").await;
    sample_estate(&ns);
    ready_plan(&ns, "cut-plan", false).await;
    let proxy = FaultProxy::start(&testenv().server).await;
    let mut c = through(&proxy).await;
    let (_, reply) = c
        .start_request(
            "tools/call",
            json!({"name": "watch_plan", "arguments": {"name": "cut-plan", "namespace": ns,
                   "timeout_seconds": 60}, "_meta": {"progressToken": "w"}}),
        )
        .await;
    // The watch is running: the first progress arrives.
    let first = next_progress(&mut c).await;
    assert!(first.contains("cut-plan"), "{first}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let lists_before = requests("LIST", "plans").await;
    let watches_before = requests("WATCH", "plans").await;

    // Cut every connection (the watch's stream among them), then the
    // controller moves the migration on.
    proxy.cut();
    proxy.settled().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mig = json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Migration",
        "metadata": {"name": "cut-plan-1", "namespace": ns},
        "spec": {"plan": {"name": "cut-plan", "namespace": ns}}});
    create("migrations", &ns, mig).await;
    set_status(
        "plans",
        &ns,
        "cut-plan",
        json!({"conditions": [{"type": "Executing", "status": "True", "category": "Advisory",
                               "message": "The plan is EXECUTING.", "lastTransitionTime": "2026-11-29T10:00:00Z"}],
               "migration": {"vms": [vm_progress("vm-1001", "web-01", "DiskTransfer", 70, 100)]}}),
    )
    .await;
    let mut seen = String::new();
    let until = Instant::now() + Duration::from_secs(20);
    while !seen.contains("DiskTransfer 70%") && Instant::now() < until {
        seen.push_str(&next_progress(&mut c).await);
        seen.push('\n');
    }
    assert!(
        seen.contains("web-01: DiskTransfer 70%"),
        "the watch went on after the cut: {seen}"
    );
    let lists_after = requests("LIST", "plans").await;
    let watches_after = requests("WATCH", "plans").await;
    assert!(
        watches_after > watches_before,
        "the watch was re-opened ({watches_before} → {watches_after})"
    );
    assert_eq!(
        lists_after, lists_before,
        "resumed from its resourceVersion, without listing again"
    );
    drop(reply);
}

async fn next_progress(c: &mut StdioClient) -> String {
    loop {
        let n = tokio::time::timeout(Duration::from_secs(20), c.notifications.recv())
            .await
            .expect("a notification within 20 s")
            .expect("server running");
        if n["method"] == "notifications/progress" {
            return n["params"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
        }
    }
}
