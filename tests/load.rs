//! Load and isolation, bounded in count and time, on loopback: session churn
//! leaves no sessions and no memory behind; 200 concurrent clients with two
//! identities never see each other's data or permissions; a client that
//! stops reading its SSE stream does not grow the server's memory.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::http::{request, HttpServer, SseStream};
use common::{admin_client, fresh_namespace, testenv};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

fn kubeconfig() -> String {
    testenv().kubeconfig.to_str().unwrap().to_owned()
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

async fn open_sessions(port: u16) -> (f64, f64) {
    let text = request(port, "GET", "/metrics", &[], "").await.body;
    let get = |t: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("kubectl_mtv_sessions{{transport=\"{t}\"}} ")))
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1.0)
    };
    (get("sse"), get("streamable"))
}

const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;

#[tokio::test]
async fn session_churn_leaves_nothing_behind() {
    let s = HttpServer::start(
        &["--session-idle-timeout", "1"],
        &[("KUBECONFIG", &kubeconfig())],
    )
    .await;
    let pid = s.child.id().unwrap();
    let cycle = |n: usize| {
        let port = s.port;
        async move {
            for _ in 0..n {
                let sse = SseStream::open(port, &[]).await;
                drop(sse);
                let r = request(
                    port,
                    "POST",
                    "/mcp",
                    &[
                        ("Content-Type", "application/json"),
                        ("Accept", "application/json, text/event-stream"),
                    ],
                    INIT,
                )
                .await;
                assert_eq!(r.status, 200, "{}", r.body);
                // Dropped without DELETE: only idle expiry can end it.
            }
        }
    };
    cycle(100).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let warm = rss_kib(pid);
    cycle(900).await;
    // Every session ends: SSE ones when their stream closes, Streamable
    // HTTP ones by idle expiry.
    let mut open = (1.0, 1.0);
    for _ in 0..100 {
        open = open_sessions(s.port).await;
        if open == (0.0, 0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        open,
        (0.0, 0.0),
        "open sessions (sse, streamable) after churn"
    );
    let after = rss_kib(pid);
    eprintln!("RSS after 100 cycles: {warm} KiB; after 1,000: {after} KiB");
    assert!(
        after <= warm + warm / 10,
        "RSS grew from {warm} KiB to {after} KiB over 900 more session cycles"
    );
}

#[tokio::test]
async fn two_identities_never_see_each_others_data() {
    let env = testenv();
    let ns = fresh_namespace("isolation").await;
    let kube = admin_client().await;
    let api: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        kube,
        &ns,
        &kubectl_mtv::catalogue::find_resource("Provider")
            .unwrap()
            .api_resource(),
    );
    let provider: kube::api::DynamicObject = serde_json::from_value(json!({
        "apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Provider",
        "metadata": {"name": "only-admins-see-me", "namespace": ns},
        "spec": {"type": "openshift", "url": "https://api.example:6443", "secret": {"name": "s", "namespace": ns}}}))
    .unwrap();
    api.create(&Default::default(), &provider).await.unwrap();

    // No kubeconfig: the server has no identity of its own, only the callers'.
    let ca = env.ca.to_str().unwrap().to_owned();
    let s = Arc::new(
        HttpServer::start(
            &["--server", &env.server, "--certificate-authority", &ca],
            &[],
        )
        .await,
    );
    let admin = Arc::new(format!("Bearer {}", env.admin_token));
    let limited = Arc::new(format!("Bearer {}", env.limited_token));
    let leaks = Arc::new(AtomicUsize::new(0));
    let calls = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for i in 0..200usize {
        let (s, admin, limited, leaks, calls, ns) = (
            s.clone(),
            admin.clone(),
            limited.clone(),
            leaks.clone(),
            calls.clone(),
            ns.clone(),
        );
        clients.push(tokio::spawn(async move {
            // Each client alternates identities call by call in one session:
            // every POST acts as its own Authorization header.
            let session = s.mcp_session(&[("Authorization", &admin)]).await;
            for k in 0..25usize {
                let as_admin = (i + k) % 2 == 0;
                let token = if as_admin { &admin } else { &limited };
                let r = s
                    .call(
                        &session,
                        &[("Authorization", token)],
                        "get_providers",
                        json!({"namespace": ns}),
                    )
                    .await;
                calls.fetch_add(1, Ordering::Relaxed);
                let text = r["content"][0]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let ok = if as_admin {
                    r["isError"] == false && text.contains("only-admins-see-me")
                } else {
                    r["isError"] == true
                        && text.contains("Forbidden (403)")
                        && !text.contains("only-admins-see-me")
                };
                if !ok {
                    leaks.fetch_add(1, Ordering::Relaxed);
                    eprintln!(
                        "client {i} call {k} as {}: {text}",
                        if as_admin { "admin" } else { "limited" }
                    );
                }
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    assert_eq!(calls.load(Ordering::Relaxed), 5000);
    assert_eq!(
        leaks.load(Ordering::Relaxed),
        0,
        "results with the wrong identity's data or permissions"
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_does_not_grow_the_server() {
    let s = HttpServer::start(&[], &[("KUBECONFIG", &kubeconfig())]).await;
    let pid = s.child.id().unwrap();
    // An SSE session whose client reads nothing after the endpoint event.
    let sse = SseStream::open(s.port, &[]).await;
    let post = |body: String| {
        let endpoint = sse.endpoint.clone();
        let port = s.port;
        async move {
            let mut c = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            let req = format!(
                "POST {endpoint} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            c.write_all(req.as_bytes()).await.unwrap();
            // Give up after a while: a POST may wait for room on the stream.
            let mut buf = [0u8; 256];
            let _ = tokio::time::timeout(
                Duration::from_millis(200),
                tokio::io::AsyncReadExt::read(&mut c, &mut buf),
            )
            .await;
        }
    };
    post(INIT.to_owned()).await;
    post(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_owned()).await;
    let list = |i: usize| json!({"jsonrpc": "2.0", "id": i, "method": "tools/list"}).to_string();
    for i in 0..50 {
        post(list(i)).await;
    }
    let warm = rss_kib(pid);
    // Each tools/list reply is ~43 KB: 1,000 unread would be ~43 MB if queued.
    let mut tasks = Vec::new();
    for batch in 0..20 {
        for i in 0..50 {
            tasks.push(tokio::spawn(post(list(1000 + batch * 50 + i))));
        }
        for t in tasks.drain(..) {
            t.await.unwrap();
        }
    }
    let after = rss_kib(pid);
    eprintln!("RSS with an unread SSE stream: {warm} KiB → {after} KiB after 1,000 more replies");
    assert!(
        after < warm + 16 * 1024,
        "memory grew by {} KiB for a client that reads nothing",
        after.saturating_sub(warm)
    );
    drop(sse);
}
