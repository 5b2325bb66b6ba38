//! The HTTP server: Streamable HTTP and SSE sessions, the caller's identity
//! per request, and the security rules, against the local kube-apiserver.

mod common;

use std::time::{Duration, Instant};

use common::http::{request, HttpServer, SseStream};
use common::{fixture, fresh_namespace, testenv};
use serde_json::{json, Value};

fn kubeconfig() -> String {
    testenv().kubeconfig.to_str().unwrap().to_owned()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn streamable_http_session_rules() {
    let s = HttpServer::start(&[], &[("KUBECONFIG", &kubeconfig())]).await;
    let ping = json!({"jsonrpc": "2.0", "id": 5, "method": "ping"});
    let ct = [
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
    ];
    let r = request(s.port, "POST", "/mcp", &ct, &ping.to_string()).await;
    assert_eq!(r.status, 400, "missing session id");
    let r = s
        .mcp("00000000000000000000000000000000", &[], ping.clone())
        .await;
    assert_eq!(r.status, 404, "unknown session id");
    let id = s.mcp_session(&[]).await;
    let r = s.mcp(&id, &[], ping.clone()).await;
    assert_eq!((r.status, r.json()["result"].clone()), (200, json!({})));
    let r = s
        .mcp(&id, &[("MCP-Protocol-Version", "1999-01-01")], ping.clone())
        .await;
    assert_eq!(r.status, 400, "unsupported protocol version header");
    let r = s
        .mcp(
            &id,
            &[("MCP-Protocol-Version", "2025-06-18")],
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        )
        .await;
    assert_eq!(
        r.json()["result"]["tools"].as_array().unwrap().len(),
        kubectl_mtv::tools::Registry::standard(false).tools().len()
    );
    let r = s
        .mcp(
            &id,
            &[],
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        )
        .await;
    assert_eq!(r.status, 202);
    let r = s
        .mcp(
            &id,
            &[],
            json!({"jsonrpc": "2.0", "id": 3, "method": "nope"}),
        )
        .await;
    assert_eq!(r.json()["error"]["code"], -32601);
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &[
            ("Mcp-Session-Id", &id),
            ("Content-Type", "application/json"),
        ],
        "{not json",
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].clone()),
        (400, json!(-32700))
    );
    let r = request(s.port, "GET", "/mcp", &[("Mcp-Session-Id", &id)], "").await;
    assert_eq!(r.status, 405);
    let r = request(s.port, "DELETE", "/mcp", &[("Mcp-Session-Id", &id)], "").await;
    assert_eq!(r.status, 204);
    let r = s.mcp(&id, &[], ping).await;
    assert_eq!(r.status, 404, "a deleted session is gone");
    let r = request(s.port, "GET", "/nowhere", &[], "").await;
    assert_eq!(r.status, 404);
    // A 2025-03-26 session takes JSON-RPC batches and answers with one array.
    let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    let r = request(s.port, "POST", "/mcp", &ct, &body.to_string()).await;
    let old = r.header("mcp-session-id").unwrap().to_owned();
    let batch = json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "explain_resource", "arguments": {"kind": "Plan", "path": "spec.type"}}}]);
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
            ("Mcp-Session-Id", &old),
        ],
        &batch.to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(2), "{v}");
}

#[tokio::test]
async fn curl_shows_the_endpoint_event() {
    let s = HttpServer::start(&[], &[]).await;
    let url = format!("http://127.0.0.1:{}/sse", s.port);
    let out = tokio::process::Command::new("curl")
        .args(["-sN", "--max-time", "2", &url])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("event: endpoint\ndata: /messages?sessionId="),
        "{text}"
    );
}

#[tokio::test]
async fn sse_transport_endpoint_and_messages() {
    let ns = fresh_namespace("sse").await;
    let s = HttpServer::start(&[], &[("KUBECONFIG", &kubeconfig())]).await;
    let mut st = SseStream::open(s.port, &[]).await;
    assert!(
        st.endpoint.starts_with("/messages?sessionId="),
        "{}",
        st.endpoint
    );
    let ep = st.endpoint.clone();
    let port = s.port;
    let post = |body: Value| {
        let ep = ep.clone();
        async move {
            request(
                port,
                "POST",
                &ep,
                &[("Content-Type", "application/json")],
                &body.to_string(),
            )
            .await
        }
    };
    let r = post(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})).await;
    assert_eq!(r.status, 202);
    let m = st.next_message().await;
    assert_eq!(m["result"]["protocolVersion"], "2024-11-05");
    let spec = fixture("providers")["spec"].clone();
    post(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "create_provider", "arguments": {"name": "p", "namespace": ns, "spec": spec}}})).await;
    let m = st.next_message().await;
    assert_eq!(m["id"], 2);
    assert_eq!(m["result"]["isError"], false, "{m}");
    post(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "get_providers", "arguments": {"name": "p", "namespace": ns}}})).await;
    let m = st.next_message().await;
    assert_eq!(m["result"]["structuredContent"]["spec"]["type"], "vsphere");
    let r = request(
        s.port,
        "POST",
        "/messages?sessionId=ffffffffffffffffffffffffffffffff",
        &[],
        "{}",
    )
    .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn each_session_acts_as_its_own_identity() {
    let env = testenv();
    let ns = fresh_namespace("ids").await;
    // No kubeconfig credentials at all: only the headers give rights.
    let s = HttpServer::start(
        &[
            "--server",
            &env.server,
            "--certificate-authority",
            env.ca.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    let admin = bearer(&env.admin_token);
    let limited = bearer(&env.limited_token);
    let mut a = SseStream::open(s.port, &[("Authorization", &admin)]).await;
    let mut l = SseStream::open(s.port, &[("Authorization", &limited)]).await;
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    for st in [&a, &l] {
        request(s.port, "POST", &st.endpoint, &[], &init.to_string()).await;
    }
    a.next_message().await;
    l.next_message().await;
    let get = |id: i64| json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "get_providers", "arguments": {"namespace": ns}}});
    // Interleaved and concurrent: each session keeps its own rights.
    for round in 0..5 {
        let (ea, el) = (a.endpoint.clone(), l.endpoint.clone());
        let body = get(round).to_string();
        let (ra, rl) = tokio::join!(
            request(s.port, "POST", &ea, &[], &body),
            request(s.port, "POST", &el, &[], &body)
        );
        assert_eq!((ra.status, rl.status), (202, 202));
        let ma = a.next_message().await;
        let ml = l.next_message().await;
        assert_eq!(ma["result"]["isError"], false, "admin session: {ma}");
        assert_eq!(ml["result"]["isError"], true, "limited session: {ml}");
        assert!(ml["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Forbidden (403)"));
    }
    // A POST's own header overrides the session's for that request only.
    request(
        s.port,
        "POST",
        &l.endpoint,
        &[("Authorization", &admin)],
        &get(10).to_string(),
    )
    .await;
    assert_eq!(l.next_message().await["result"]["isError"], false);
    request(s.port, "POST", &l.endpoint, &[], &get(11).to_string()).await;
    assert_eq!(l.next_message().await["result"]["isError"], true);
    // Streamable HTTP: every POST's headers.
    let sid = s.mcp_session(&[]).await;
    let ok = s
        .call(
            &sid,
            &[("Authorization", &admin)],
            "get_providers",
            json!({"namespace": ns}),
        )
        .await;
    assert_eq!(ok["isError"], false, "{ok}");
    let denied = s
        .call(
            &sid,
            &[("Authorization", &limited)],
            "get_providers",
            json!({"namespace": ns}),
        )
        .await;
    assert_eq!(denied["isError"], true);
    let anonymous = s
        .call(&sid, &[], "get_providers", json!({"namespace": ns}))
        .await;
    assert_eq!(
        anonymous["isError"], true,
        "no header and no kubeconfig credentials: {anonymous}"
    );
}

#[tokio::test]
async fn precedence_headers_then_flags_then_kubeconfig() {
    let env = testenv();
    let ns = fresh_namespace("prec").await;
    // kubeconfig = admin; no headers → kubeconfig identity.
    let s = HttpServer::start(&[], &[("KUBECONFIG", &kubeconfig())]).await;
    let sid = s.mcp_session(&[]).await;
    assert_eq!(
        s.call(&sid, &[], "get_providers", json!({"namespace": ns}))
            .await["isError"],
        false
    );
    drop(s);
    // --token (limited) beats kubeconfig; the header (admin) beats --token.
    let s = HttpServer::start(
        &["--token", &env.limited_token],
        &[("KUBECONFIG", &kubeconfig())],
    )
    .await;
    let sid = s.mcp_session(&[]).await;
    assert_eq!(
        s.call(&sid, &[], "get_providers", json!({"namespace": ns}))
            .await["isError"],
        true
    );
    let admin = bearer(&env.admin_token);
    assert_eq!(
        s.call(
            &sid,
            &[("Authorization", &admin)],
            "get_providers",
            json!({"namespace": ns})
        )
        .await["isError"],
        false
    );
}

/// A plain TCP server that records whatever reaches it.
async fn recorder() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    use tokio::io::AsyncReadExt;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            let s3 = s2.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = sock.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    s3.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
    });
    (port, seen)
}

#[tokio::test]
async fn kubeconfig_credentials_never_go_to_a_header_named_server() {
    let env = testenv();
    let (port, seen) = recorder().await;
    let evil = format!("http://127.0.0.1:{port}");
    let s = HttpServer::start(&[], &[("KUBECONFIG", &kubeconfig())]).await;
    let sid = s.mcp_session(&[]).await;
    let r = s
        .call(
            &sid,
            &[("X-Kubernetes-Server", &evil)],
            "get_providers",
            json!({"namespace": "default"}),
        )
        .await;
    assert_eq!(r["isError"], true);
    let t = r["content"][0]["text"].as_str().unwrap();
    assert!(t.contains("without an Authorization: Bearer token"), "{t}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = String::from_utf8_lossy(&seen.lock().unwrap()).to_string();
    assert!(
        !got.contains(&env.admin_token),
        "kubeconfig token leaked to the header-named server"
    );
    assert!(got.is_empty(), "nothing should even connect: {got}");
}

#[tokio::test]
async fn header_named_servers_allow_list_and_tls_flags() {
    let env = testenv();
    let ns = fresh_namespace("hdr").await;
    let admin = bearer(&env.admin_token);
    let ca = env.ca.to_str().unwrap();
    // Allowed and trusted through --certificate-authority.
    let s = HttpServer::start(
        &[
            "--allowed-servers",
            &env.server,
            "--certificate-authority",
            ca,
        ],
        &[],
    )
    .await;
    let sid = s.mcp_session(&[]).await;
    let h = [
        ("Authorization", admin.as_str()),
        ("X-Kubernetes-Server", env.server.as_str()),
    ];
    assert_eq!(
        s.call(&sid, &h, "get_providers", json!({"namespace": ns}))
            .await["isError"],
        false
    );
    let other = [
        ("Authorization", admin.as_str()),
        ("X-Kubernetes-Server", "https://127.0.0.1:1"),
    ];
    let r = s
        .call(&sid, &other, "get_providers", json!({"namespace": ns}))
        .await;
    assert!(
        r["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("--allowed-servers"),
        "{r}"
    );
    drop(s);
    // Without a CA the server's certificate is not trusted …
    let s = HttpServer::start(&[], &[]).await;
    let sid = s.mcp_session(&[]).await;
    let r = s
        .call(&sid, &h, "get_providers", json!({"namespace": ns}))
        .await;
    let t = r["content"][0]["text"].as_str().unwrap().to_owned();
    assert!(r["isError"] == true && t.contains("TLS"), "{t}");
    assert!(!t.contains(&env.admin_token));
    drop(s);
    // … unless told not to verify.
    let s = HttpServer::start(&["--insecure-skip-tls-verify"], &[]).await;
    let sid = s.mcp_session(&[]).await;
    assert_eq!(
        s.call(&sid, &h, "get_providers", json!({"namespace": ns}))
            .await["isError"],
        false
    );
}

#[tokio::test]
async fn foreign_origin_and_rebound_host_are_refused() {
    let s = HttpServer::start(&[], &[]).await;
    let r = request(
        s.port,
        "GET",
        "/sse",
        &[("Origin", "https://evil.example")],
        "",
    )
    .await;
    assert_eq!(r.status, 403);
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &[("Origin", "http://attacker.test:8080")],
        "{}",
    )
    .await;
    assert_eq!(r.status, 403);
    let mut h = vec![("Origin", "http://localhost:3000")];
    h.push(("Content-Type", "application/json"));
    let r = request(s.port, "POST", "/mcp", &h, &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}}).to_string()).await;
    assert_eq!(r.status, 200);
    // A browser app on a loopback origin gets CORS: a preflight, and the session header exposed.
    let r = request(
        s.port,
        "OPTIONS",
        "/mcp",
        &[
            ("Origin", "http://localhost:3000"),
            ("Access-Control-Request-Method", "POST"),
        ],
        "",
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert!(r
        .header("access-control-allow-headers")
        .unwrap()
        .contains("Authorization"));
    let r = request(s.port, "POST", "/mcp", &[("Origin", "http://localhost:3000"), ("Content-Type", "application/json")], &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}}).to_string()).await;
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("Mcp-Session-Id, WWW-Authenticate")
    );
    let r = request(
        s.port,
        "OPTIONS",
        "/mcp",
        &[("Origin", "https://evil.example")],
        "",
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(r.header("access-control-allow-origin").is_none());
    // DNS rebinding: a foreign name that resolves to loopback.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut c = tokio::net::TcpStream::connect(("127.0.0.1", s.port))
        .await
        .unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: rebind.evil.example\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
}

#[tokio::test]
async fn limits_body_sessions_and_idle_expiry() {
    let s = HttpServer::start(
        &[
            "--max-body-bytes",
            "2000",
            "--max-sessions",
            "2",
            "--session-idle-timeout",
            "1",
        ],
        &[],
    )
    .await;
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{{\"x\":\"{}\"}}}}",
        "a".repeat(5000)
    );
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &[("Content-Type", "application/json")],
        &big,
    )
    .await;
    assert_eq!(r.status, 413);
    let a = s.mcp_session(&[]).await;
    let _b = s.mcp_session(&[]).await;
    let r = request(s.port, "POST", "/mcp", &[("Content-Type", "application/json")], &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}}).to_string()).await;
    assert_eq!(r.status, 503, "session limit");
    let r = request(s.port, "GET", "/sse", &[], "").await;
    assert_eq!(r.status, 503);
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let r = s
        .mcp(
            &a,
            &[],
            json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
        )
        .await;
    assert_eq!(r.status, 404, "idle session expired");
    let _c = s.mcp_session(&[]).await;
}

#[tokio::test]
async fn an_sse_session_lives_while_its_stream_is_connected() {
    let s = HttpServer::start(&["--session-idle-timeout", "1"], &[]).await;
    let mut st = SseStream::open(s.port, &[]).await;
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let ping = json!({"jsonrpc": "2.0", "id": 7, "method": "ping"}).to_string();
    let r = request(
        s.port,
        "POST",
        &st.endpoint,
        &[("Content-Type", "application/json")],
        &ping,
    )
    .await;
    assert_eq!(r.status, 202, "an open stream keeps its session");
    assert_eq!(st.next_message().await["id"], 7);
}

#[tokio::test]
async fn a_client_that_disconnects_frees_its_session() {
    let s = HttpServer::start(&["--max-sessions", "1"], &[]).await;
    let st = SseStream::open(s.port, &[]).await;
    let endpoint = st.endpoint.clone();
    drop(st);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = request(
            s.port,
            "POST",
            &endpoint,
            &[],
            &json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string(),
        )
        .await;
        if r.status == 404 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "session not freed after disconnect"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The freed slot can be used again.
    let _again = SseStream::open(s.port, &[]).await;
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully_with_calls_in_flight() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hole = format!("http://127.0.0.1:{}", l.local_addr().unwrap().port());
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((c, _)) = l.accept().await {
            held.push(c);
        }
    });
    let mut s = HttpServer::start(&["-v", "1", "--server", &hole, "--token", "x"], &[]).await;
    let _st = SseStream::open(s.port, &[]).await;
    let sid = s.mcp_session(&[]).await;
    let port = s.port;
    let call = tokio::spawn(async move {
        let m = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_plans", "arguments": {"namespace": "x"}}});
        let h = [
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
            ("Mcp-Session-Id", sid.as_str()),
        ];
        request(port, "POST", "/mcp", &h, &m.to_string()).await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = s.child.id().unwrap() as i32;
    let started = Instant::now();
    assert_eq!(unsafe_kill(pid), 0);
    let status = tokio::time::timeout(Duration::from_secs(10), s.child.wait())
        .await
        .expect("exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(8));
    let _ = call.await;
    assert!(s.stderr.lock().unwrap().contains("shutting down"));
}

fn unsafe_kill(pid: i32) -> i32 {
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap()
        .code()
        .unwrap()
}

#[tokio::test]
async fn no_header_values_in_logs_at_any_verbosity() {
    let env = testenv();
    let ns = fresh_namespace("hlogs").await;
    for v in ["0", "1", "2", "3"] {
        let s = HttpServer::start(&["-v", v], &[("KUBECONFIG", &kubeconfig())]).await;
        let admin = bearer(&env.admin_token);
        let h = [
            ("Authorization", admin.as_str()),
            ("Cookie", "session=cookie-secret-value"),
            ("X-Kubernetes-Server", env.server.as_str()),
        ];
        let sid = s.mcp_session(&h).await;
        s.call(&sid, &h, "get_providers", json!({"namespace": ns}))
            .await;
        let st = SseStream::open(s.port, &h).await;
        request(s.port, "POST", &st.endpoint, &h, "{}").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let logs = s.stderr.lock().unwrap().clone();
        for secret in [
            env.admin_token.as_str(),
            "cookie-secret-value",
            sid.as_str(),
            st.endpoint.split('=').nth(1).unwrap(),
        ] {
            assert!(
                !logs.contains(secret),
                "-v {v}: a header value reached the logs"
            );
        }
        if v == "2" || v == "3" {
            assert!(
                logs.contains("method=\"initialize\""),
                "-v {v} logs requests: {logs}"
            );
        }
        if v == "3" {
            assert!(
                logs.contains("path=\"/mcp\""),
                "-v 3 logs HTTP detail: {logs}"
            );
        }
    }
}

#[tokio::test]
async fn read_only_over_http() {
    let s = HttpServer::start(&["--read-only"], &[]).await;
    let sid = s.mcp_session(&[]).await;
    let r = s
        .mcp(
            &sid,
            &[],
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        )
        .await;
    let tools = r.json()["result"]["tools"].as_array().unwrap().clone();
    assert_eq!(
        tools.len(),
        7 + 1 + 5 + 3,
        "the default toolsets' gets, explain, describe/watch_plan, events, logs, inventory, check_health/access, get_settings"
    );
    assert!(tools
        .iter()
        .all(|t| t["annotations"]["readOnlyHint"] == true));
    assert!(tools.iter().any(|t| t["name"] == "watch_plan"));
    assert!(!tools.iter().any(|t| t["name"] == "start_plan"));
}

fn openssl(args: &[&str]) {
    let st = std::process::Command::new("openssl")
        .args(args)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "openssl {args:?}");
}

#[tokio::test]
async fn bad_tls_files_stop_start_up_with_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_owned();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-keyout",
        &p("a.key"),
        "-out",
        &p("a.crt"),
    ]);
    openssl(&["genrsa", "-out", &p("b.key"), "2048"]);
    std::fs::write(
        p("junk.key"),
        "-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--cert-file".into(), p("a.crt")], "needs --key-file"),
        (vec!["--key-file".into(), p("a.key")], "needs --cert-file"),
        (
            vec![
                "--cert-file".into(),
                p("missing.crt"),
                "--key-file".into(),
                p("a.key"),
            ],
            "cannot read --cert-file",
        ),
        (
            vec![
                "--cert-file".into(),
                p("a.crt"),
                "--key-file".into(),
                p("junk.key"),
            ],
            "--key-file",
        ),
        (
            vec![
                "--cert-file".into(),
                p("a.crt"),
                "--key-file".into(),
                p("b.key"),
            ],
            "does not match",
        ),
        (
            vec![
                "--cert-file".into(),
                p("a.key"),
                "--key-file".into(),
                p("a.key"),
            ],
            "--cert-file",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = match HttpServer::try_start(&args, &[]).await {
            Ok(_) => panic!("{args:?} should not start"),
            Err(e) => e,
        };
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    // And the good pair serves HTTPS.
    let s = HttpServer::start(
        &["--cert-file", &p("a.crt"), "--key-file", &p("a.key")],
        &[],
    )
    .await;
    assert!(s.stderr.lock().unwrap().contains("Listening on https://"));
}
