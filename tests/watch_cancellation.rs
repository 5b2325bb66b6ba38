//! Cancelling a watch ends the Kubernetes watch at once, measured from the
//! API server's own count of open WATCH requests (its
//! `apiserver_longrunning_gauge` metric): by `notifications/cancelled` over
//! stdio, and by the client going away on Streamable HTTP (POST stream
//! dropped) and on SSE (event stream closed). A control run shows the watch
//! stays open without a cancellation.
//!
//! The tests of this file run one at a time (the count is server-wide).

mod common;

use std::time::Duration;

use common::forklift::{open_watches, ready_plan, sample_estate, wait_watches};
use common::http::{request, HttpServer, SseStream};
use common::{fresh_namespace, StdioClient};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// Waits until `plural` has `base + 1` open watches (ours began).
async fn until_open(plural: &str, base: i64) {
    let n = wait_watches(plural, 20, |n| n > base).await;
    assert!(
        n > base,
        "the watch on {plural} never opened ({n} open, {base} before)"
    );
}

/// Asserts the count returns to `base` within 2 s of `since`.
async fn closed_within_2s(plural: &str, base: i64, since: std::time::Instant) {
    let n = wait_watches(plural, 2, |n| n <= base).await;
    assert!(
        n <= base,
        "{plural}: {n} watches still open {:?} after cancelling (expected {base})",
        since.elapsed()
    );
}

#[tokio::test]
async fn stdio_cancel_ends_the_watches_and_sends_no_reply() {
    let _one = ONE_AT_A_TIME.lock().await;
    let ns = fresh_namespace("cx-stdio").await;
    sample_estate(&ns);
    let (plans0, migs0) = (
        open_watches("plans").await,
        open_watches("migrations").await,
    );
    let mut c = StdioClient::admin(&[]).await;
    let (id, mut reply) = c
        .start_request(
            "tools/call",
            json!({"name": "watch_plan", "arguments": {"name": "web-tier-migration", "namespace": ns, "timeout_seconds": 600},
                   "_meta": {"progressToken": "c1"}}),
        )
        .await;
    until_open("plans", plans0).await;
    until_open("migrations", migs0).await;
    // Control: without a cancellation it stays open.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        open_watches("plans").await > plans0,
        "the watch stays open while the call runs"
    );

    let t = std::time::Instant::now();
    c.notify(
        "notifications/cancelled",
        json!({"requestId": id, "reason": "user stopped watching"}),
    )
    .await;
    closed_within_2s("plans", plans0, t).await;
    closed_within_2s("migrations", migs0, t).await;
    // No reply for a cancelled request; the server goes on.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut reply)
            .await
            .is_err(),
        "a cancelled request gets no reply"
    );
    assert_eq!(c.request("ping", json!({})).await["result"], json!({}));

    // The same for watch: true on a generated get tool.
    let hooks0 = open_watches("hooks").await;
    let (id, _reply) = c
        .start_request(
            "tools/call",
            json!({"name": "get_hooks", "arguments": {"namespace": ns, "watch": true, "timeout_seconds": 600}}),
        )
        .await;
    until_open("hooks", hooks0).await;
    let t = std::time::Instant::now();
    c.notify("notifications/cancelled", json!({"requestId": id}))
        .await;
    closed_within_2s("hooks", hooks0, t).await;

    // Closing stdin (the client quits) ends a running watch too.
    let (_, _reply) = c
        .start_request(
            "tools/call",
            json!({"name": "watch_plan", "arguments": {"name": "db-tier-migration", "namespace": ns, "timeout_seconds": 600}}),
        )
        .await;
    until_open("plans", plans0).await;
    let t = std::time::Instant::now();
    assert!(c.close().await.success());
    closed_within_2s("plans", plans0, t).await;
}

/// POSTs a tools/call over Streamable HTTP asking for an SSE response, reads
/// until the first progress event, and returns the still-open connection.
async fn streaming_call(
    port: u16,
    session: &str,
    accept: &str,
    body: serde_json::Value,
) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let body = body.to_string();
    let req = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nAccept: {accept}\r\nMcp-Session-Id: {session}\r\nMCP-Protocol-Version: 2025-06-18\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    s
}

async fn read_until(s: &mut tokio::net::TcpStream, needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let n = tokio::time::timeout(Duration::from_secs(20), s.read(&mut buf))
            .await
            .expect("data within 20 s")
            .unwrap();
        assert!(
            n > 0,
            "stream ended before {needle:?}: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn streamable_http_client_going_away_cancels_the_call_and_frees_the_session() {
    let _one = ONE_AT_A_TIME.lock().await;
    let ns = fresh_namespace("cx-http").await;
    sample_estate(&ns);
    let env = common::testenv();
    let kc = env.kubeconfig.to_str().unwrap().to_owned();
    let s = HttpServer::start(&["--session-idle-timeout", "1"], &[("KUBECONFIG", &kc)]).await;
    let session = s.mcp_session(&[]).await;
    let plans0 = open_watches("plans").await;

    // SSE-framed response: progress arrives, then the client drops the stream.
    let mut conn = streaming_call(
        s.port,
        &session,
        "application/json, text/event-stream",
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "watch_plan",
               "arguments": {"name": "web-tier-migration", "namespace": ns, "timeout_seconds": 600},
               "_meta": {"progressToken": "h1"}}}),
    )
    .await;
    let seen = read_until(&mut conn, "notifications/progress").await;
    assert!(seen.contains("web-01: DiskTransfer 40%"), "{seen}");
    until_open("plans", plans0).await;
    let t = std::time::Instant::now();
    drop(conn);
    closed_within_2s("plans", plans0, t).await;

    // A plain JSON response: the client gives up waiting.
    let conn = streaming_call(
        s.port,
        &session,
        "application/json",
        json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "watch_plan",
               "arguments": {"name": "web-tier-migration", "namespace": ns, "timeout_seconds": 600}}}),
    )
    .await;
    until_open("plans", plans0).await;
    let t = std::time::Instant::now();
    drop(conn);
    closed_within_2s("plans", plans0, t).await;

    // Nothing runs for the session any more, so its idle expiry (1 s) ends it.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let r = s
        .mcp(
            &session,
            &[],
            json!({"jsonrpc": "2.0", "id": 9, "method": "ping"}),
        )
        .await;
    assert_eq!(r.status, 404, "the idle session expired: {}", r.body);
}

#[tokio::test]
async fn stateless_client_going_away_cancels_the_call() {
    let _one = ONE_AT_A_TIME.lock().await;
    let ns = fresh_namespace("cx-stateless").await;
    sample_estate(&ns);
    let env = common::testenv();
    let kc = env.kubeconfig.to_str().unwrap().to_owned();
    let s = HttpServer::start(&["--stateless"], &[("KUBECONFIG", &kc)]).await;
    let plans0 = open_watches("plans").await;
    // No initialize, no session: the call's own POST carries its progress.
    let mut conn = streaming_call(
        s.port,
        "",
        "application/json, text/event-stream",
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "watch_plan",
               "arguments": {"name": "web-tier-migration", "namespace": ns, "timeout_seconds": 600},
               "_meta": {"progressToken": "s1"}}}),
    )
    .await;
    let seen = read_until(&mut conn, "notifications/progress").await;
    assert!(seen.contains("web-01: DiskTransfer 40%"), "{seen}");
    until_open("plans", plans0).await;
    let metrics = request(s.port, "GET", "/metrics", &[], "").await.body;
    assert!(
        metrics.contains("kubectl_mtv_inflight_calls 1"),
        "{metrics}"
    );
    let t = std::time::Instant::now();
    drop(conn);
    closed_within_2s("plans", plans0, t).await;
    let metrics = request(s.port, "GET", "/metrics", &[], "").await.body;
    assert!(
        metrics.contains("kubectl_mtv_inflight_calls 0"),
        "{metrics}"
    );
    assert!(
        metrics
            .contains(r#"kubectl_mtv_tool_calls_total{tool="watch_plan",outcome="cancelled"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn sse_stream_closing_cancels_the_call() {
    let _one = ONE_AT_A_TIME.lock().await;
    let ns = fresh_namespace("cx-sse").await;
    sample_estate(&ns);
    ready_plan(&ns, "quiet", false).await;
    let env = common::testenv();
    let kc = env.kubeconfig.to_str().unwrap().to_owned();
    let s = HttpServer::start(&[], &[("KUBECONFIG", &kc)]).await;
    let plans0 = open_watches("plans").await;
    let mut sse = SseStream::open(s.port, &[]).await;
    let post = |body: serde_json::Value| {
        let endpoint = sse.endpoint.clone();
        async move {
            let r = request(
                s.port,
                "POST",
                &endpoint,
                &[("Content-Type", "application/json")],
                &body.to_string(),
            )
            .await;
            assert_eq!(r.status, 202, "{}", r.body);
        }
    };
    post(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})).await;
    post(
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "watch_plan",
        "arguments": {"name": "quiet", "namespace": ns, "timeout_seconds": 600}}}),
    )
    .await;
    assert_eq!(sse.next_message().await["id"], 0);
    until_open("plans", plans0).await;
    let t = std::time::Instant::now();
    drop(sse);
    closed_within_2s("plans", plans0, t).await;
}
