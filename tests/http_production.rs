//! The HTTP server as operators run it: secure by default on the network,
//! stateless Streamable HTTP for replicas, `/metrics`, `/readyz` and the
//! audit log, against the local kube-apiserver.

mod common;

use std::time::Duration;

use common::http::{request, HttpServer};
use common::{fresh_namespace, testenv};
use serde_json::{json, Value};

fn kubeconfig() -> String {
    testenv().kubeconfig.to_str().unwrap().to_owned()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;

const JSON: [(&str, &str); 2] = [
    ("Content-Type", "application/json"),
    ("Accept", "application/json, text/event-stream"),
];

fn with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut h = JSON.to_vec();
    h.extend_from_slice(extra);
    h
}

#[tokio::test]
async fn a_network_facing_server_needs_a_bearer_token() {
    let env = testenv();
    // Bound to every address, with an admin kubeconfig the server could fall back to.
    let s = HttpServer::start(&["--host", "0.0.0.0"], &[("KUBECONFIG", &kubeconfig())]).await;
    assert!(
        s.stderr().contains("must carry Authorization: Bearer"),
        "start-up says which mode is on: {}",
        s.stderr()
    );
    for (method, path) in [
        ("POST", "/mcp"),
        ("GET", "/sse"),
        ("POST", "/messages?sessionId=x"),
    ] {
        let r = request(s.port, method, path, &JSON, INIT).await;
        assert_eq!(r.status, 401, "{method} {path}: {}", r.body);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"kubectl-mtv\"")
        );
        assert!(r.body.contains("--allow-kubeconfig-fallback"), "{}", r.body);
    }
    // Health stays open to probes.
    assert_eq!(
        request(s.port, "GET", "/healthz", &[], "").await.status,
        200
    );
    // A token works, and acts as that token's identity.
    let admin = bearer(&env.admin_token);
    let id = s.mcp_session(&[("Authorization", &admin)]).await;
    let ns = fresh_namespace("prod-auth").await;
    let r = s
        .call(
            &id,
            &[("Authorization", &admin)],
            "get_plans",
            json!({"namespace": ns}),
        )
        .await;
    assert_eq!(r["isError"], false, "{r}");
    let limited = bearer(&env.limited_token);
    let r = s
        .call(
            &id,
            &[("Authorization", &limited)],
            "get_plans",
            json!({"namespace": ns}),
        )
        .await;
    assert!(
        r["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Forbidden (403)"),
        "{r}"
    );

    // The operator's opt-in restores the kubeconfig fallback.
    let s = HttpServer::start(
        &["--host", "0.0.0.0", "--allow-kubeconfig-fallback"],
        &[("KUBECONFIG", &kubeconfig())],
    )
    .await;
    assert!(
        s.stderr().contains("WARNING --allow-kubeconfig-fallback"),
        "{}",
        s.stderr()
    );
    let id = s.mcp_session(&[]).await;
    let r = s
        .call(&id, &[], "get_plans", json!({"namespace": ns}))
        .await;
    assert_eq!(r["isError"], false, "{r}");

    // On loopback the fallback is the default, as upstream.
    let s = HttpServer::start(&[], &[("KUBECONFIG", &kubeconfig())]).await;
    assert!(s.stderr().contains("loopback only"), "{}", s.stderr());
    let id = s.mcp_session(&[]).await;
    let r = s
        .call(&id, &[], "get_plans", json!({"namespace": ns}))
        .await;
    assert_eq!(r["isError"], false, "{r}");
}

#[tokio::test]
async fn require_tls_refuses_plain_http() {
    let err = HttpServer::try_start(&["--require-tls"], &[])
        .await
        .err()
        .expect("must not start");
    assert!(
        err.contains("--require-tls") && err.contains("--cert-file"),
        "{err}"
    );
}

#[tokio::test]
async fn stateless_requests_stand_alone() {
    let env = testenv();
    let s = HttpServer::start(&["--stateless"], &[("KUBECONFIG", &kubeconfig())]).await;
    // initialize is answered, but no session is issued.
    let r = request(s.port, "POST", "/mcp", &JSON, INIT).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("mcp-session-id"), None);
    // Any request works without initialize and without a session id, with
    // the version from MCP-Protocol-Version.
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &with(&[("MCP-Protocol-Version", "2025-06-18")]),
        &list.to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["result"]["tools"].as_array().unwrap().len() > 10);
    // A session id from elsewhere (another replica's, a stale one) is ignored.
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &with(&[("Mcp-Session-Id", "0123456789abcdef0123456789abcdef")]),
        &list.to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A wrong version header is still refused.
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &with(&[("MCP-Protocol-Version", "1999-01-01")]),
        &list.to_string(),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // There is nothing to DELETE.
    let r = request(s.port, "DELETE", "/mcp", &[("Mcp-Session-Id", "x")], "").await;
    assert_eq!(r.status, 405, "{}", r.body);
    assert!(r.body.contains("stateless"), "{}", r.body);
    // Tool calls act as the request's own identity.
    let ns = fresh_namespace("prod-stateless").await;
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "get_plans", "arguments": {"namespace": ns}}});
    let limited = bearer(&env.limited_token);
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &with(&[("Authorization", &limited)]),
        &call.to_string(),
    )
    .await;
    let text = sse_or_json_result(&r.body);
    assert!(text.contains("Forbidden (403)"), "{text}");
    let r = request(s.port, "POST", "/mcp", &JSON, &call.to_string()).await;
    let text = sse_or_json_result(&r.body);
    assert!(!text.contains("Forbidden"), "{text}");
    // Metrics count no sessions in stateless mode.
    let m = request(s.port, "GET", "/metrics", &[], "").await;
    assert!(
        m.body
            .contains("kubectl_mtv_sessions{transport=\"streamable\"} 0"),
        "{}",
        m.body
    );
}

/// The tool result text of a response that is JSON or an SSE stream.
fn sse_or_json_result(body: &str) -> String {
    let data = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .find(|d| d.contains("\"result\""))
        .unwrap_or(body);
    let v: Value = serde_json::from_str(data).unwrap_or_else(|e| panic!("{e}: {body}"));
    v["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_move_with_calls_and_the_audit_log_has_one_line_per_call() {
    let env = testenv();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let s = HttpServer::start(
        &["--audit-log", audit.to_str().unwrap()],
        &[("KUBECONFIG", &kubeconfig())],
    )
    .await;
    let before = request(s.port, "GET", "/metrics", &[], "").await;
    assert_eq!(before.status, 200);
    assert!(before
        .header("content-type")
        .unwrap()
        .starts_with("application/openmetrics-text; version=1.0.0"));
    assert!(before.body.ends_with("# EOF\n"));
    let ok_calls = r#"kubectl_mtv_tool_calls_total{tool="get_plans",outcome="ok"}"#;
    let denied_calls = r#"kubectl_mtv_tool_calls_total{tool="get_plans",outcome="denied"}"#;
    let forbidden = r#"kubectl_mtv_kube_api_errors_total{status="403"}"#;
    assert_eq!(metric(&before.body, ok_calls), 0.0);
    assert_eq!(
        metric(
            &before.body,
            "kubectl_mtv_sessions{transport=\"streamable\"}"
        ),
        0.0
    );

    let ns = fresh_namespace("prod-audit").await;
    let id = s.mcp_session(&[]).await;
    let r = s
        .call(&id, &[], "get_plans", json!({"namespace": ns}))
        .await;
    assert_eq!(r["isError"], false, "{r}");
    let limited = bearer(&env.limited_token);
    let r = s
        .call(
            &id,
            &[("Authorization", &limited)],
            "get_plans",
            json!({"namespace": ns}),
        )
        .await;
    assert_eq!(r["isError"], true, "{r}");
    let r = s
        .call(
            &id,
            &[],
            "create_provider",
            json!({"namespace": ns, "name": "vc", "dry_run": true,
                   "type": "vsphere", "url": "https://vc.example/sdk",
                   "username": "admin", "password": "hunter2-do-not-log", "insecure_skip_verify": true}),
        )
        .await;
    assert_eq!(r["isError"], false, "{r}");
    let after = request(s.port, "GET", "/metrics", &[], "").await;
    assert_eq!(metric(&after.body, ok_calls), 1.0, "{}", after.body);
    assert_eq!(metric(&after.body, denied_calls), 1.0, "{}", after.body);
    assert!(metric(&after.body, forbidden) >= 1.0, "{}", after.body);
    assert_eq!(
        metric(
            &after.body,
            "kubectl_mtv_sessions{transport=\"streamable\"}"
        ),
        1.0
    );
    assert_eq!(metric(&after.body, "kubectl_mtv_inflight_calls"), 0.0);
    assert!(after.body.contains("kubectl_mtv_build_info{version="));

    // One audit line per call, with the right outcome, and no secret.
    let text = wait_for_lines(&audit, 3).await;
    assert!(!text.contains(&env.limited_token) && !text.contains(&env.admin_token));
    assert!(
        !text.contains("hunter2") && !text.contains("vc.example"),
        "{text}"
    );
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0]["tool"], "get_plans");
    assert_eq!(lines[0]["outcome"], "ok");
    assert_eq!(lines[0]["transport"], "streamable");
    assert_eq!(lines[0]["session"], id.as_str());
    assert_eq!(lines[0]["namespace"], ns.as_str());
    assert_eq!(lines[0]["kind"], "Plan");
    assert!(
        lines[0]["caller"]
            .as_str()
            .unwrap()
            .starts_with("kubeconfig context"),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1]["outcome"], "denied");
    assert!(lines[1]["caller"]
        .as_str()
        .unwrap()
        .starts_with("bearer token sha256:"));
    assert_eq!(lines[2]["tool"], "create_provider");
    assert_eq!(
        (lines[2]["kind"].clone(), lines[2]["dryRun"].clone()),
        (json!("Provider"), json!(true))
    );
    assert_eq!(lines[2]["name"], "vc");

    // A DELETE ends the session: the gauge goes back down.
    let r = request(s.port, "DELETE", "/mcp", &[("Mcp-Session-Id", &id)], "").await;
    assert_eq!(r.status, 204);
    let end = request(s.port, "GET", "/metrics", &[], "").await;
    assert_eq!(
        metric(&end.body, "kubectl_mtv_sessions{transport=\"streamable\"}"),
        0.0
    );
    assert_eq!(request(s.port, "GET", "/readyz", &[], "").await.status, 200);
}

async fn wait_for_lines(path: &std::path::Path, n: usize) -> String {
    for _ in 0..100 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.lines().count() >= n {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::read_to_string(path).unwrap_or_default()
}
