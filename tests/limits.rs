//! Every bound a client could push on, hit on purpose: calls in flight per
//! session and per server, batch size, HTTP connections and sessions, and
//! the time a client has to send its headers (slowloris). Each refusal is
//! specific and names its flag; each test fails if its limit is removed.

mod common;

use std::time::{Duration, Instant};

use common::forklift::sample_estate;
use common::http::{request, HttpServer};
use common::{fresh_namespace, testenv, StdioClient};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn kubeconfig() -> String {
    testenv().kubeconfig.to_str().unwrap().to_owned()
}

fn watch(ns: &str) -> Value {
    json!({"name": "watch_plan", "arguments": {"name": "web-tier-migration", "namespace": ns,
           "timeout_seconds": 60}})
}

#[tokio::test]
async fn calls_in_flight_per_session_are_bounded() {
    let ns = fresh_namespace("lim-calls").await;
    sample_estate(&ns);
    let mut c = StdioClient::admin(&["--max-calls-per-session", "2"]).await;
    let (id1, _r1) = c.start_request("tools/call", watch(&ns)).await;
    let (_id2, _r2) = c.start_request("tools/call", watch(&ns)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = c.request("tools/call", watch(&ns)).await;
    assert_eq!(r["error"]["code"], -32000, "{r}");
    let msg = r["error"]["message"].as_str().unwrap();
    assert!(msg.contains("--max-calls-per-session 2"), "{msg}");
    // Cancelling one makes room.
    c.notify("notifications/cancelled", json!({"requestId": id1}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = c
        .request(
            "tools/call",
            json!({"name": "get_plans", "arguments": {"namespace": ns}}),
        )
        .await;
    assert!(r.get("error").is_none(), "{r}");
}

#[tokio::test]
async fn calls_in_flight_per_server_are_bounded() {
    let ns = fresh_namespace("lim-server").await;
    sample_estate(&ns);
    let s = HttpServer::start(&["--max-calls", "2"], &[("KUBECONFIG", &kubeconfig())]).await;
    // Two sessions each run a watch on their own POST stream.
    let mut streams = Vec::new();
    for i in 0..2 {
        let session = s.mcp_session(&[]).await;
        let body = json!({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": watch(&ns)})
            .to_string();
        let mut conn = TcpStream::connect(("127.0.0.1", s.port)).await.unwrap();
        let req = format!(
            "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: {session}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(req.as_bytes()).await.unwrap();
        streams.push(conn);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let third = s.mcp_session(&[]).await;
    let r = s
        .mcp(
            &third,
            &[],
            json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": watch(&ns)}),
        )
        .await;
    let v = r.json();
    assert_eq!(v["error"]["code"], -32000, "{}", r.body);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--max-calls 2"),
        "{}",
        r.body
    );
    // The two running calls end with their clients; then there is room.
    drop(streams);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = s
        .call(&third, &[], "get_plans", json!({"namespace": ns}))
        .await;
    assert_eq!(r["isError"], false, "{r}");
}

#[tokio::test]
async fn batches_are_bounded() {
    let mut c = StdioClient::spawn(
        &["mcp-server", "--max-batch", "3"],
        &[("KUBECONFIG", &kubeconfig())],
    )
    .await;
    let r = c
        .request(
            "initialize",
            json!({"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
        )
        .await;
    assert_eq!(r["result"]["protocolVersion"], "2025-03-26");
    let pings = |n: usize| {
        let items: Vec<Value> = (0..n)
            .map(|i| json!({"jsonrpc": "2.0", "id": 100 + i, "method": "ping"}))
            .collect();
        Value::Array(items).to_string()
    };
    c.send_raw(&pings(3)).await;
    let ok = next_message(&mut c).await;
    assert_eq!(ok.as_array().map(Vec::len), Some(3), "{ok}");
    c.send_raw(&pings(4)).await;
    let refused = next_message(&mut c).await;
    let msg = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("4 messages") && msg.contains("--max-batch"),
        "{refused}"
    );
}

/// The next message the server sent that is not a pending request's reply.
async fn next_message(c: &mut StdioClient) -> Value {
    tokio::time::timeout(Duration::from_secs(10), c.notifications.recv())
        .await
        .expect("a message within 10 s")
        .expect("server running")
}

#[tokio::test]
async fn http_connections_and_sessions_are_bounded() {
    let s = HttpServer::start(
        &["--max-connections", "2", "--max-sessions", "2"],
        &[("KUBECONFIG", &kubeconfig())],
    )
    .await;
    // Two idle connections take the two slots.
    let a = TcpStream::connect(("127.0.0.1", s.port)).await.unwrap();
    let b = TcpStream::connect(("127.0.0.1", s.port)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = request(s.port, "GET", "/healthz", &[], "").await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("--max-connections"), "{}", r.body);
    drop((a, b));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        request(s.port, "GET", "/healthz", &[], "").await.status,
        200
    );

    // Sessions: two, then 503 naming the flag.
    s.mcp_session(&[]).await;
    s.mcp_session(&[]).await;
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ],
        &init.to_string(),
    )
    .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("--max-sessions"), "{}", r.body);
}

#[tokio::test]
async fn a_client_too_slow_with_its_headers_is_disconnected() {
    let s = HttpServer::start(&["--header-read-timeout", "1s"], &[]).await;
    let mut conn = TcpStream::connect(("127.0.0.1", s.port)).await.unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    // One header byte every 200 ms: never a complete request.
    let closed = loop {
        if started.elapsed() > Duration::from_secs(6) {
            break false;
        }
        if conn.write_all(b"X").await.is_err() {
            break true;
        }
        let mut buf = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(200), conn.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(_)) => break true, // an error response, then close
            Err(_) => {}
        }
    };
    assert!(closed, "the slow client was not disconnected");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "disconnected after {:?}",
        started.elapsed()
    );
}
