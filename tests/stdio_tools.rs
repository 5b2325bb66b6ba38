//! The MCP server over stdio, driven like a client would, against the local
//! kube-apiserver: every generated tool, errors, RBAC, dry run, cancellation
//! and concurrency.

mod common;

use std::time::Duration;

use common::{fixture, fresh_namespace, testenv, text, StdioClient};
use kubectl_mtv::catalogue::resources;
use serde_json::{json, Value};

#[tokio::test]
async fn every_kind_create_get_list_patch_get_delete() {
    let ns = fresh_namespace("crud").await;
    let mut c = StdioClient::admin(&["--toolsets", "all"]).await;
    for r in resources() {
        let sample = fixture(r.plural);
        let name = sample["metadata"]["name"].as_str().unwrap().to_owned();
        let mut args = json!({"name": name, "namespace": ns, "labels": {"app": "mtv-test"}, "spec": sample["spec"]});
        if matches!(r.plural, "plans" | "networkmaps" | "storagemaps") {
            // The fixtures name providers and maps elsewhere; this test is
            // about the CRUD round trip (reference checks: guided_creation).
            args["allow_missing_references"] = json!(true);
        }
        let created = c.call_ok(&format!("create_{}", r.singular), args).await;
        assert_eq!(created["metadata"]["name"], name.as_str(), "{}", r.kind);
        assert_eq!(created["kind"], r.kind);

        let got = c
            .call_ok(
                &format!("get_{}", r.plural),
                json!({"name": name, "namespace": ns}),
            )
            .await;
        assert_eq!(got["spec"], created["spec"], "{}", r.kind);
        assert!(got["metadata"].get("managedFields").is_none());

        let list = c
            .call_ok(
                &format!("get_{}", r.plural),
                json!({"namespace": ns, "label_selector": "app=mtv-test"}),
            )
            .await;
        assert_eq!(list["kind"], r.list_kind);
        let names: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec![name.as_str()], "{}", r.kind);

        let patched = c
            .call_ok(
                &format!("patch_{}", r.singular),
                json!({"name": name, "namespace": ns, "patch": {"metadata": {"labels": {"patched": "merge"}}}}),
            )
            .await;
        assert_eq!(
            patched["metadata"]["labels"]["patched"], "merge",
            "{}",
            r.kind
        );
        let patched = c
            .call_ok(
                &format!("patch_{}", r.singular),
                json!({"name": name, "namespace": ns, "patch": [{"op": "add", "path": "/metadata/annotations", "value": {"mtv/test": "json-patch"}}]}),
            )
            .await;
        assert_eq!(
            patched["metadata"]["annotations"]["mtv/test"], "json-patch",
            "{}",
            r.kind
        );

        let got = c
            .call_ok(
                &format!("get_{}", r.plural),
                json!({"name": name, "namespace": ns}),
            )
            .await;
        assert_eq!(
            got["metadata"]["labels"],
            json!({"app": "mtv-test", "patched": "merge"}),
            "{}",
            r.kind
        );

        let deleted = c
            .call_ok(
                &format!("delete_{}", r.singular),
                json!({"name": name, "namespace": ns}),
            )
            .await;
        assert_eq!(deleted["status"], "deleted", "{}", r.kind);
        let err = c
            .call_err(
                &format!("get_{}", r.plural),
                json!({"name": name, "namespace": ns}),
            )
            .await;
        assert!(err.contains("Not found (404)"), "{}: {err}", r.kind);
    }
    assert!(c.close().await.success());
}

#[tokio::test]
async fn spec_patches_are_validated_and_applied() {
    let ns = fresh_namespace("specpatch").await;
    let mut c = StdioClient::admin(&[]).await;
    let p = fixture("providers");
    // A spec sent as a JSON string (a common model mistake) is accepted.
    c.call_ok(
        "create_provider",
        json!({"name": "vc", "namespace": ns, "spec": p["spec"].to_string()}),
    )
    .await;
    let out = c
        .call_ok("patch_provider", json!({"name": "vc", "namespace": ns, "patch": {"spec": {"url": "https://vc2.example.com/sdk"}}}))
        .await;
    assert_eq!(out["spec"]["url"], "https://vc2.example.com/sdk");
    let err = c
        .call_err(
            "patch_provider",
            json!({"name": "vc", "namespace": ns, "patch": {"spec": {"url": 42}}}),
        )
        .await;
    assert!(
        err.contains("spec.url") && err.contains("nothing was sent"),
        "{err}"
    );
    let err = c
        .call_err(
            "patch_provider",
            json!({"name": "vc", "namespace": ns, "patch": {"spec": {"ulr": "x"}}}),
        )
        .await;
    assert!(err.contains("ulr"), "{err}");
    let err = c
        .call_err(
            "patch_provider",
            json!({"name": "vc", "namespace": ns, "patch": {"status": {"phase": "Ready"}}}),
        )
        .await;
    assert!(err.contains("status"), "{err}");
    let err = c
        .call_err(
            "patch_provider",
            json!({"name": "vc", "namespace": ns, "patch": [{"op": "jump", "path": "/x"}]}),
        )
        .await;
    assert!(err.contains("JSON Patch"), "{err}");
    let got = c
        .call_ok("get_providers", json!({"name": "vc", "namespace": ns}))
        .await;
    assert_eq!(got["spec"]["url"], "https://vc2.example.com/sdk");
}

#[tokio::test]
async fn invalid_spec_is_rejected_before_the_api_call() {
    let ns = fresh_namespace("invalid").await;
    let mut c = StdioClient::admin(&[]).await;
    let err = c
        .call_err(
            "create_provider",
            json!({"name": "bad", "namespace": ns, "spec": {"type": 5, "secret": {"name": "s"}}}),
        )
        .await;
    assert!(err.contains("spec.type") && err.contains("string"), "{err}");
    assert!(err.contains("nothing was sent"), "{err}");
    let err = c
        .call_err("create_plan", json!({"name": "bad", "namespace": ns, "spec": {"targetNamespace": "x", "provider": {}, "map": {}, "vms": [{"id": 3}]}}))
        .await;
    assert!(err.contains("spec.vms[0].id"), "{err}");
    assert!(err.contains("spec.map"), "{err}");
    let err = c
        .call_err("create_provider", json!({"name": "bad", "namespace": ns}))
        .await;
    assert!(err.contains("secret") && err.contains("type"), "{err}");
    // Nothing reached the cluster.
    let list = c.call_ok("get_providers", json!({"namespace": ns})).await;
    assert_eq!(list["items"], json!([]));
    let list = c.call_ok("get_plans", json!({"namespace": ns})).await;
    assert_eq!(list["items"], json!([]));
    // Wrong argument types are tool errors too.
    let err = c
        .call_err(
            "get_providers",
            json!({"namespace": ns, "label_selector": 7}),
        )
        .await;
    assert!(err.contains("Invalid arguments for get_providers"), "{err}");
    let err = c
        .call_err("get_providers", json!({"namespace": ns, "bogus": 1}))
        .await;
    assert!(
        err.contains("unknown field") && err.contains("bogus"),
        "{err}"
    );
}

#[tokio::test]
async fn not_found_and_already_exists_are_clear_tool_errors() {
    let ns = fresh_namespace("errors").await;
    let mut c = StdioClient::admin(&[]).await;
    let err = c
        .call_err("get_providers", json!({"name": "missing", "namespace": ns}))
        .await;
    assert!(
        err.contains("Not found (404)")
            && err.contains("Provider \"missing\"")
            && err.contains(&ns),
        "{err}"
    );
    let err = c
        .call_err("delete_plan", json!({"name": "missing", "namespace": ns}))
        .await;
    assert!(err.contains("Not found (404)"), "{err}");
    let spec = fixture("hooks")["spec"].clone();
    c.call_ok(
        "create_hook",
        json!({"name": "h", "namespace": ns, "spec": spec}),
    )
    .await;
    let err = c
        .call_err(
            "create_hook",
            json!({"name": "h", "namespace": ns, "spec": spec}),
        )
        .await;
    assert!(err.contains("Already exists (409)"), "{err}");

    // A misspelt name gets the close one; a wrong namespace gets the right
    // one; a name like nothing gets neither.
    let err = c
        .call_err("get_hooks", json!({"name": "hh", "namespace": ns}))
        .await;
    assert!(err.contains("Did you mean \"h\"?"), "{err}");
    let err = c
        .call_err("delete_hook", json!({"name": "hx", "namespace": ns}))
        .await;
    assert!(err.contains("Did you mean \"h\"?"), "{err}");
    // A name no other test uses, so that only this namespace has it.
    let unique = format!("only-{ns}");
    c.call_ok(
        "create_hook",
        json!({"name": unique, "namespace": ns, "spec": spec}),
    )
    .await;
    let elsewhere = fresh_namespace("errors-elsewhere").await;
    let err = c
        .call_err("get_hooks", json!({"name": unique, "namespace": elsewhere}))
        .await;
    assert!(
        err.contains(&format!(
            "exists in namespace \"{ns}\": pass namespace: \"{ns}\""
        )),
        "{err}"
    );
    let err = c
        .call_err(
            "patch_hook",
            json!({"name": unique, "namespace": elsewhere, "patch": {"metadata": {"labels": {"a": "b"}}}}),
        )
        .await;
    assert!(err.contains(&format!("namespace \"{ns}\"")), "{err}");
    let err = c
        .call_err(
            "get_hooks",
            json!({"name": "unrelated-name", "namespace": ns}),
        )
        .await;
    assert!(
        !err.contains("Did you mean") && !err.contains("exists in namespace"),
        "{err}"
    );
    let err = c
        .call_err(
            "create_hook",
            json!({"name": "Not_A_Name", "namespace": ns, "spec": spec}),
        )
        .await;
    assert!(err.contains("Invalid (422)"), "{err}");
    // The server is still serving.
    let r = c.request("ping", json!({})).await;
    assert_eq!(r["result"], json!({}));
}

#[tokio::test]
async fn dry_run_leaves_nothing_behind() {
    let ns = fresh_namespace("dryrun").await;
    let mut c = StdioClient::admin(&[]).await;
    let spec = fixture("providers")["spec"].clone();
    let r = c
        .call(
            "create_provider",
            json!({"name": "p", "namespace": ns, "spec": spec, "dry_run": true}),
        )
        .await;
    assert_eq!(r["isError"], false, "{}", text(&r));
    assert!(text(&r).contains("dry run"));
    c.call_err("get_providers", json!({"name": "p", "namespace": ns}))
        .await;
    c.call_ok(
        "create_provider",
        json!({"name": "p", "namespace": ns, "spec": spec}),
    )
    .await;
    c.call_ok("patch_provider", json!({"name": "p", "namespace": ns, "dry_run": "true", "patch": {"spec": {"url": "https://changed"}}})).await;
    c.call_ok(
        "delete_provider",
        json!({"name": "p", "namespace": ns, "dry_run": true}),
    )
    .await;
    let got = c
        .call_ok("get_providers", json!({"name": "p", "namespace": ns}))
        .await;
    assert_eq!(got["spec"]["url"], spec["url"]);
}

#[tokio::test]
async fn get_output_formats_fields_and_all_namespaces() {
    let ns = fresh_namespace("output").await;
    let mut c = StdioClient::admin(&[]).await;
    let spec = fixture("providers")["spec"].clone();
    c.call_ok(
        "create_provider",
        json!({"name": "p1", "namespace": ns, "spec": spec}),
    )
    .await;
    let r = c
        .call(
            "get_providers",
            json!({"name": "p1", "namespace": ns, "output": "yaml"}),
        )
        .await;
    let y: Value = serde_yaml::from_str(&text(&r)).unwrap();
    assert_eq!(y["spec"]["type"], "vsphere");
    // fields keeps only the chosen paths, plus name and namespace.
    let r = c
        .call_ok(
            "get_providers",
            json!({"namespace": ns, "fields": ["spec.type"]}),
        )
        .await;
    assert_eq!(
        r["items"][0],
        json!({"metadata": {"name": "p1", "namespace": ns}, "spec": {"type": "vsphere"}})
    );
    // Every namespace, paged (other tests' providers are there too).
    let mut token: Option<String> = None;
    let mut found = false;
    for _ in 0..100 {
        let mut args = json!({"all_namespaces": true, "fields": ["spec.type"], "limit": 200});
        if let Some(t) = &token {
            args["continue"] = json!(t);
        }
        let all = c.call_ok("get_providers", args).await;
        found |= all["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["metadata"]["namespace"] == ns.as_str());
        token = all["metadata"]["continue"].as_str().map(str::to_owned);
        if found || token.is_none() {
            break;
        }
    }
    assert!(found);
}

#[tokio::test]
async fn rbac_denial_is_a_clear_forbidden_error() {
    let ns = fresh_namespace("rbac").await;
    let kc = testenv().kubeconfig.to_str().unwrap().to_owned();
    let mut c = StdioClient::spawn(
        &["mcp-server", "--context", "kube-testenv-limited"],
        &[("KUBECONFIG", &kc)],
    )
    .await;
    c.initialize().await;
    let err = c.call_err("get_providers", json!({"namespace": ns})).await;
    assert!(
        err.contains("Forbidden (403)") && err.contains("providers.forklift.konveyor.io"),
        "{err}"
    );
    let spec = fixture("providers")["spec"].clone();
    let err = c
        .call_err(
            "create_provider",
            json!({"name": "x", "namespace": ns, "spec": spec}),
        )
        .await;
    assert!(
        err.contains("Forbidden (403)") && err.contains("create"),
        "{err}"
    );
    assert!(!err.contains(&testenv().limited_token));
    // An object the admin made: the limited identity may not read, change or delete it.
    let mut admin = StdioClient::admin(&[]).await;
    admin
        .call_ok(
            "create_provider",
            json!({"name": "mine", "namespace": ns, "spec": spec}),
        )
        .await;
    for (tool, args, verb) in [
        (
            "get_providers",
            json!({"name": "mine", "namespace": ns}),
            "get",
        ),
        (
            "patch_provider",
            json!({"name": "mine", "namespace": ns, "patch": {"metadata": {"labels": {"x": "y"}}}}),
            "patch",
        ),
        (
            "delete_provider",
            json!({"name": "mine", "namespace": ns}),
            "delete",
        ),
    ] {
        let err = c.call_err(tool, args).await;
        assert!(
            err.contains("Forbidden (403)") && err.contains(verb),
            "{tool}: {err}"
        );
    }
    admin
        .call_ok("get_providers", json!({"name": "mine", "namespace": ns}))
        .await;
}

#[tokio::test]
async fn a_bad_kubeconfig_or_context_is_a_clear_error() {
    let kc = testenv().kubeconfig.to_str().unwrap().to_owned();
    let mut c =
        StdioClient::spawn(&["--context", "nope", "mcp-server"], &[("KUBECONFIG", &kc)]).await;
    c.initialize().await;
    let err = c.call_err("get_plans", json!({})).await;
    assert!(err.contains("context \"nope\""), "{err}");
    let mut c = StdioClient::spawn(
        &["--kubeconfig", "/nonexistent/kubeconfig", "mcp-server"],
        &[],
    )
    .await;
    c.initialize().await;
    let err = c.call_err("get_plans", json!({})).await;
    assert!(
        err.contains("cannot read kubeconfig /nonexistent/kubeconfig"),
        "{err}"
    );
}

#[tokio::test]
async fn a_kubeconfig_fixed_while_running_needs_no_restart() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let mut c = StdioClient::spawn(&["mcp-server"], &[("KUBECONFIG", kc.to_str().unwrap())]).await;
    c.initialize().await;
    let err = c
        .call_err("get_providers", json!({"namespace": "default"}))
        .await;
    assert!(err.contains("kubeconfig"), "{err}");
    std::fs::copy(&testenv().kubeconfig, &kc).unwrap();
    c.call_ok("get_providers", json!({"namespace": "default"}))
        .await;
}

#[tokio::test]
async fn a_rejected_token_is_a_clear_unauthorized_error() {
    let env = testenv();
    let ca = env.ca.to_str().unwrap();
    let mut c = StdioClient::spawn(
        &[
            "mcp-server",
            "--server",
            &env.server,
            "--certificate-authority",
            ca,
            "--token",
            "not-a-valid-token",
        ],
        &[],
    )
    .await;
    c.initialize().await;
    let err = c
        .call_err("get_plans", json!({"namespace": "default"}))
        .await;
    assert!(err.contains("Unauthorized (401)"), "{err}");
    assert!(!err.contains("not-a-valid-token"));
}

#[tokio::test]
async fn unreachable_api_server_is_a_clear_error_and_startup_needs_no_cluster() {
    // Port 9 (discard) on loopback: nothing listens, so connections are refused.
    let mut c = StdioClient::spawn(
        &[
            "mcp-server",
            "--server",
            "https://127.0.0.1:9",
            "--token",
            "t0ken-value",
        ],
        &[],
    )
    .await;
    c.initialize().await;
    let err = c
        .call_err("get_plans", json!({"namespace": "default"}))
        .await;
    assert!(
        err.contains("connection refused") && err.contains("https://127.0.0.1:9"),
        "{err}"
    );
    assert!(!err.contains("t0ken-value"));
    let r = c.request("ping", json!({})).await;
    assert_eq!(r["result"], json!({}));
}

/// A TCP server that accepts connections and never answers: calls to it hang.
async fn black_hole() -> (u16, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let h = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    (port, h)
}

#[tokio::test]
async fn a_slow_call_does_not_block_ping_and_can_be_cancelled() {
    let (port, _hole) = black_hole().await;
    let server = format!("http://127.0.0.1:{port}");
    let mut c = StdioClient::spawn(&["mcp-server", "--server", &server, "--token", "x"], &[]).await;
    c.initialize().await;
    let (id, mut slow) = c.start_request("tools/call", json!({"name": "get_plans", "arguments": {"namespace": "default"}, "_meta": {"progressToken": "tok-1"}})).await;
    let started = std::time::Instant::now();
    let pong = c.request("ping", json!({})).await;
    assert_eq!(pong["result"], json!({}));
    assert!(started.elapsed() < Duration::from_secs(5));
    // Progress arrives for the slow call.
    let n = tokio::time::timeout(Duration::from_secs(5), c.notifications.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n["method"], "notifications/progress");
    assert_eq!(n["params"]["progressToken"], "tok-1");
    c.notify(
        "notifications/cancelled",
        json!({"requestId": id, "reason": "user gave up"}),
    )
    .await;
    // No reply for the cancelled request, and the server goes on.
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), &mut slow)
            .await
            .is_err(),
        "cancelled call must not reply"
    );
    let r = c.request("tools/list", json!({})).await;
    assert!(r["result"]["tools"].as_array().unwrap().len() >= 40);
    let status = c.close().await;
    assert!(status.success());
}

#[tokio::test]
async fn fifty_concurrent_calls_on_one_connection() {
    let ns = fresh_namespace("conc").await;
    let mut c = StdioClient::admin(&[]).await;
    let spec = fixture("providers")["spec"].clone();
    c.call_ok(
        "create_provider",
        json!({"name": "p", "namespace": ns, "spec": spec}),
    )
    .await;
    let mut rxs = Vec::new();
    for i in 0..50 {
        let args = if i % 2 == 0 {
            json!({"name": "p", "namespace": ns})
        } else {
            json!({"namespace": ns})
        };
        rxs.push(
            c.start_request(
                "tools/call",
                json!({"name": "get_providers", "arguments": args}),
            )
            .await,
        );
    }
    for (id, rx) in rxs {
        let r = tokio::time::timeout(Duration::from_secs(60), rx)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r["id"], id);
        assert_eq!(r["result"]["isError"], false, "{r}");
    }
}

#[tokio::test]
async fn logging_set_level_sends_messages() {
    let mut c = StdioClient::admin(&[]).await;
    let r = c
        .request("logging/setLevel", json!({"level": "info"}))
        .await;
    assert_eq!(r["result"], json!({}));
    c.call("explain_resource", json!({"kind": "Plan"})).await;
    let n = tokio::time::timeout(Duration::from_secs(5), c.notifications.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n["method"], "notifications/message");
    assert_eq!(n["params"]["level"], "info");
    assert!(n["params"]["data"]
        .as_str()
        .unwrap()
        .contains("explain_resource"));
}

#[tokio::test]
async fn malformed_input_gets_errors_and_the_server_goes_on() {
    let mut c = StdioClient::spawn(&["mcp-server"], &[]).await;
    c.send_raw("this is not json").await;
    let e = tokio::time::timeout(Duration::from_secs(5), c.notifications.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e["error"]["code"], -32700);
    assert_eq!(e["id"], Value::Null);
    let r = c.request("tools/list", json!({})).await;
    assert_eq!(
        r["error"]["code"], -32600,
        "tools/list before initialize: {r}"
    );
    c.initialize().await;
    let r = c.request("no/such/method", json!({})).await;
    assert_eq!(r["error"]["code"], -32601);
    let r = c
        .request("tools/call", json!({"name": "no_such_tool"}))
        .await;
    assert_eq!(r["error"]["code"], -32602);
    let r = c.request("ping", json!({})).await;
    assert_eq!(r["result"], json!({}));
    let started = std::time::Instant::now();
    assert!(c.close().await.success());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn ping_from_echo_answers_empty_object() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-mtv"))
        .arg("mcp-server")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err, "", "-v 0 (the default) logs only warnings and errors");
}

#[tokio::test]
async fn no_token_in_logs_at_any_verbosity() {
    let ns = fresh_namespace("logs").await;
    let env = testenv();
    for v in ["0", "1", "2", "3"] {
        let kc = env.kubeconfig.to_str().unwrap().to_owned();
        let mut c = StdioClient::spawn(&["-v", v, "mcp-server"], &[("KUBECONFIG", &kc)]).await;
        c.initialize().await;
        c.call_ok("get_providers", json!({"namespace": ns})).await;
        c.call_err("get_providers", json!({"name": "nope", "namespace": ns}))
            .await;
        let stderr_handle = c.stderr.clone();
        assert!(c.close().await.success());
        let logs = stderr_handle.lock().unwrap().clone();
        assert!(!logs.contains(&env.admin_token), "-v {v}: token in logs");
        if v == "3" {
            assert!(logs.lines().count() > 3, "-v 3 should log more: {logs}");
        }
    }
}

#[tokio::test]
async fn read_only_serves_only_read_tools() {
    let mut c = StdioClient::admin(&["--read-only", "--toolsets", "all"]).await;
    let r = c.request("tools/list", json!({})).await;
    let names: Vec<String> = r["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    let workflow_reads = [
        "describe_plan",
        "watch_plan",
        "get_events",
        "get_logs",
        "get_inventory",
        "get_version",
        "check_health",
        "check_access",
        "get_settings",
    ];
    assert_eq!(names.len(), resources().len() + 1 + workflow_reads.len());
    assert!(
        names.iter().all(|n| n.starts_with("get_")
            || n == "explain_resource"
            || workflow_reads.contains(&n.as_str())),
        "{names:?}"
    );
    let r = c
        .request(
            "tools/call",
            json!({"name": "delete_plan", "arguments": {"name": "x"}}),
        )
        .await;
    assert_eq!(r["error"]["code"], -32602);
}

#[tokio::test]
async fn batches_follow_the_negotiated_protocol_version() {
    let batch = json!([
        {"jsonrpc": "2.0", "id": "a", "method": "ping"},
        {"jsonrpc": "2.0", "id": "b", "method": "tools/call", "params": {"name": "explain_resource", "arguments": {"kind": "Hook"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": "c", "method": "nope"}
    ])
    .to_string();
    // Before initialize: refused.
    let mut c = StdioClient::spawn(&["mcp-server"], &[]).await;
    c.send_raw(&batch).await;
    let r = tokio::time::timeout(Duration::from_secs(5), c.notifications.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r["error"]["code"], -32600, "{r}");
    // 2025-03-26 has batches: one array back, notifications have no entry.
    let r = c.request("initialize", json!({"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}})).await;
    assert_eq!(r["result"]["protocolVersion"], "2025-03-26");
    c.send_raw(&batch).await;
    let r = tokio::time::timeout(Duration::from_secs(10), c.notifications.recv())
        .await
        .unwrap()
        .unwrap();
    let items = r.as_array().unwrap_or_else(|| panic!("an array: {r}"));
    assert_eq!(items.len(), 3);
    let by_id = |id: &str| items.iter().find(|i| i["id"] == id).unwrap().clone();
    assert_eq!(by_id("a")["result"], json!({}));
    assert_eq!(by_id("b")["result"]["isError"], false);
    assert_eq!(by_id("c")["error"]["code"], -32601);
    // 2025-06-18 removed them.
    let mut c = StdioClient::spawn(&["mcp-server"], &[]).await;
    c.initialize().await;
    c.send_raw(&batch).await;
    let r = tokio::time::timeout(Duration::from_secs(5), c.notifications.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2025-06-18"),
        "{r}"
    );
}

#[tokio::test]
async fn namespace_and_all_namespaces_together_are_refused() {
    let mut c = StdioClient::admin(&[]).await;
    for watch in [false, true] {
        let err = c
            .call_err(
                "get_plans",
                json!({"namespace": "default", "all_namespaces": true, "watch": watch}),
            )
            .await;
        assert!(err.contains("not both"), "{err}");
    }
}

#[tokio::test]
async fn lists_are_paged_and_bounded_and_fields_are_honest() {
    let ns = fresh_namespace("paging").await;
    let mut c = StdioClient::admin(&[]).await;
    // 150 Hooks, made directly.
    let admin = common::admin_client().await;
    let r = kubectl_mtv::catalogue::find_resource("hooks").unwrap();
    let api: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(admin, &ns, &r.api_resource());
    for i in 0..150 {
        let o: kube::api::DynamicObject = serde_json::from_value(json!({
            "apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Hook",
            "metadata": {"name": format!("h{i:03}")},
            "spec": {"image": format!("quay.io/hooks/h:{i}"), "playbook": "x".repeat(2000)}}))
        .unwrap();
        api.create(&Default::default(), &o).await.unwrap();
    }
    // Pages of 40 (by fields, small): none overlap, none is skipped.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut args = json!({"namespace": ns, "limit": 40, "fields": ["spec.image"]});
        if let Some(t) = &token {
            args["continue"] = json!(t);
        }
        let r = c.call("get_hooks", args).await;
        let sc = &r["structuredContent"];
        for i in sc["items"].as_array().unwrap() {
            seen.push(i["metadata"]["name"].as_str().unwrap().to_owned());
        }
        token = sc["metadata"]["continue"].as_str().map(str::to_owned);
        match &token {
            Some(t) => assert!(
                text(&r).contains(t.as_str()),
                "the text says how to get more"
            ),
            None => break,
        }
    }
    let want: Vec<String> = (0..150).map(|i| format!("h{i:03}")).collect();
    assert_eq!(seen, want);
    // Whole objects are cut at the text budget, at an object boundary, and it says so.
    let r = c.call("get_hooks", json!({"namespace": ns})).await;
    let t = text(&r);
    assert!(t.len() < 34 * 1024, "{} bytes", t.len());
    assert!(
        t.contains("This page stops after") && t.contains("of 150 Hooks"),
        "{}",
        &t[t.len() - 400..]
    );
    let n = r["structuredContent"]["items"].as_array().unwrap().len();
    assert!(n > 1 && n < 50, "{n}");
    // Following continue from cut pages skips nothing.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..40 {
        let mut args = json!({"namespace": ns});
        if let Some(t) = &token {
            args["continue"] = json!(t);
        }
        let r = c.call("get_hooks", args).await;
        let sc = &r["structuredContent"];
        for i in sc["items"].as_array().unwrap() {
            seen.push(i["metadata"]["name"].as_str().unwrap().to_owned());
        }
        token = sc["metadata"]["continue"].as_str().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(
        seen, want,
        "cut pages followed by continue list every object once"
    );
    // Field paths that do not exist are named, with the nearest real one.
    let r = c
        .call(
            "get_hooks",
            json!({"namespace": ns, "name": "h001", "fields": ["spec.imgae", "metadata.nmae"]}),
        )
        .await;
    assert!(
        text(&r).contains("spec.imgae is not a field of Hook (nearest: spec.image)")
            && text(&r).contains("metadata.nmae is not a field of Hook (nearest: metadata.name)"),
        "{}",
        text(&r)
    );
    // A namespace that does not exist says so.
    let r = c
        .call("get_hooks", json!({"namespace": "no-such-namespace-here"}))
        .await;
    assert!(
        text(&r).contains("namespace \"no-such-namespace-here\" does not exist"),
        "{}",
        text(&r)
    );
}

#[tokio::test]
async fn json_patches_are_validated_applied_here_and_never_lose_an_update() {
    let ns = fresh_namespace("jsonpatch").await;
    let mut c = StdioClient::admin(&[]).await;
    c.call_ok("create_provider", json!({"name": "vc", "namespace": ns, "labels": {"base": "1"}, "spec": {"type": "vsphere", "url": "https://vc/sdk", "secret": {"name": "s", "namespace": ns}}})).await;
    // A typo in the path: refused, with the nearest real field; nothing changed.
    let err = c
        .call_err("patch_provider", json!({"name": "vc", "namespace": ns, "patch": [{"op": "add", "path": "/spec/ulr", "value": "https://x"}]}))
        .await;
    assert!(
        err.contains("spec") && err.contains("ulr") && err.contains("nothing was sent"),
        "{err}"
    );
    // A failed test, and a path that does not exist.
    let err = c
        .call_err("patch_provider", json!({"name": "vc", "namespace": ns, "patch": [{"op": "test", "path": "/spec/url", "value": "https://other"}, {"op": "replace", "path": "/spec/url", "value": "https://y"}]}))
        .await;
    assert!(
        err.contains("operation 0 (test /spec/url)") && err.contains("the test failed"),
        "{err}"
    );
    let err = c
        .call_err("patch_provider", json!({"name": "vc", "namespace": ns, "patch": [{"op": "remove", "path": "/spec/settings/x"}]}))
        .await;
    assert!(err.contains("does not exist in the object"), "{err}");
    let got = c
        .call_ok("get_providers", json!({"name": "vc", "namespace": ns}))
        .await;
    assert_eq!(got["spec"]["url"], "https://vc/sdk");
    // Many writers at once: each either lands or gets a clear conflict; no update is lost.
    let mut calls = Vec::new();
    for i in 0..12 {
        let (_, rx) = c
            .start_request(
                "tools/call",
                json!({"name": "patch_provider", "arguments": {"name": "vc", "namespace": ns,
                "patch": [{"op": "add", "path": format!("/metadata/labels/w{i}"), "value": "1"}]}}),
            )
            .await;
        calls.push(rx);
    }
    let mut landed = 0;
    for rx in calls {
        let r = rx.await.unwrap();
        let res = &r["result"];
        if res["isError"] == false {
            landed += 1;
        } else {
            let t = text(res);
            assert!(
                t.contains("Conflict (409)") && t.contains("changed by someone else"),
                "{t}"
            );
        }
    }
    let got = c
        .call_ok("get_providers", json!({"name": "vc", "namespace": ns}))
        .await;
    let labels = got["metadata"]["labels"]
        .as_object()
        .map(|l| l.len())
        .unwrap_or(0);
    assert!(landed >= 1);
    assert_eq!(
        labels,
        landed + 1,
        "every patch that reported success is there"
    );
}

#[tokio::test]
async fn errors_say_how_to_fix_them() {
    let ns = fresh_namespace("errs").await;
    let mut c = StdioClient::admin(&[]).await;
    // A typo in a tool name, a tool of a toolset not served.
    let r = c
        .request("tools/call", json!({"name": "get_plan", "arguments": {}}))
        .await;
    let m = r["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("Unknown tool: get_plan") && m.contains("Did you mean get_plans"),
        "{m}"
    );
    let r = c
        .request(
            "tools/call",
            json!({"name": "create_forkliftcontroller", "arguments": {}}),
        )
        .await;
    let m = r["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("operator toolset") && m.contains("--toolsets"),
        "{m}"
    );
    // Creating in a namespace that does not exist.
    let err = c
        .call_err(
            "create_hook",
            json!({"name": "h", "namespace": "no-such-ns-x1", "spec": {"image": "quay.io/a:1"}}),
        )
        .await;
    assert!(
        err.contains("namespace \"no-such-ns-x1\" does not exist")
            && !err.contains("Hook \"h\" does not exist"),
        "{err}"
    );
    // A wrong argument type names the argument, in plain words.
    let err = c
        .call_err(
            "cancel_plan",
            json!({"name": "p", "namespace": ns, "vms": "web-01"}),
        )
        .await;
    assert!(
        err.contains("vms: invalid type: string \"web-01\", expected an array"),
        "{err}"
    );
    // A line that is not JSON-RPC 2.0 says what to send.
    c.send_raw(r#"{"id": 99, "method": "ping"}"#).await;
    let reply = loop {
        let n = tokio::time::timeout(Duration::from_secs(5), c.notifications.recv())
            .await
            .unwrap()
            .unwrap();
        if n.get("error").is_some() {
            break n;
        }
    };
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("An MCP client sends JSON-RPC 2.0 messages"),
        "{reply}"
    );
    // A write tool on a read-only server says so.
    let mut ro = StdioClient::admin(&["--read-only"]).await;
    let r = ro
        .request(
            "tools/call",
            json!({"name": "delete_plan", "arguments": {"name": "x"}}),
        )
        .await;
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--read-only"),
        "{r}"
    );
}

#[tokio::test]
async fn each_verbosity_logs_what_it_promises() {
    let ns = fresh_namespace("verbose").await;
    let env = common::testenv();
    let kc = env.kubeconfig.to_str().unwrap().to_owned();
    let mut lines = Vec::new();
    for v in ["0", "1", "2", "3"] {
        let mut c = StdioClient::spawn(&["-v", v, "mcp-server"], &[("KUBECONFIG", &kc)]).await;
        c.initialize().await;
        c.request("tools/list", json!({})).await;
        c.call_ok("get_providers", json!({"namespace": ns})).await;
        let stderr = c.stderr.clone();
        assert!(c.close().await.success());
        let log = stderr.lock().unwrap().clone();
        assert!(!log.contains(&env.admin_token));
        lines.push(log);
    }
    assert_eq!(lines[0], "", "-v 0: warnings and errors only");
    assert!(
        lines[1].contains("stdio session opened") && !lines[1].contains("request"),
        "{}",
        lines[1]
    );
    let requests: Vec<&str> = lines[2]
        .lines()
        .filter(|l| l.contains(" request "))
        .collect();
    assert_eq!(
        requests.len(),
        3,
        "-v 2: one line per request: {}",
        lines[2]
    );
    assert!(
        requests[2].contains("method=\"tools/call\" tool=\"get_providers\" ms=")
            && requests[2].contains("outcome=\"ok\"")
    );
    assert!(!lines[2].contains("TRACE"));
    assert!(
        lines[3].contains("received bytes=") && lines[3].contains("sent bytes="),
        "{}",
        lines[3]
    );
}

#[tokio::test]
async fn the_call_command_runs_one_tool_from_a_shell() {
    let ns = fresh_namespace("callcmd").await;
    let kc = common::testenv().kubeconfig.to_str().unwrap().to_owned();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-mtv"))
            .args(args)
            .env("KUBECONFIG", &kc)
            .env("HOME", "/nonexistent")
            .output()
            .unwrap()
    };
    let out = run(&[
        "call",
        "create_hook",
        &format!(r#"{{"name": "h", "namespace": "{ns}"}}"#),
        "--arg",
        "spec={\"image\": \"quay.io/a:1\"}",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(&format!("Created Hook {ns}/h.")));
    let out = run(&[
        "call",
        "get_hooks",
        "--arg",
        &format!("namespace={ns}"),
        "--json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["structuredContent"]["items"][0]["spec"]["image"],
        "quay.io/a:1"
    );
    // A tool error exits 1; an unknown tool or bad JSON exits 2 with a hint.
    let out = run(&[
        "call",
        "get_hooks",
        "--arg",
        &format!("namespace={ns}"),
        "--arg",
        "name=nope",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("does not exist"));
    let out = run(&["call", "get_hook", "{}"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Did you mean get_hooks"));
    let out = run(&["call", "get_hooks", "{namespace: x}"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not JSON"));
}

/// stdin and stdout that are not separate pipes (stdin a file, stdout and
/// stderr one pipe, as `2>&1` makes them) take tokio's blocking stdio
/// instead of non-blocking pipes: the server answers every line and its log
/// lines still reach the shared pipe.
#[test]
fn stdio_from_a_file_into_a_pipe_shared_with_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        concat!(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#,
            "\n",
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' -v 3 mcp-server < '{}' 2>&1",
            env!("CARGO_BIN_EXE_kubectl-mtv"),
            input.display()
        ))
        .env("KUBECONFIG", dir.path().join("none"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let replies: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(replies.len(), 2, "{text}");
    assert_eq!(replies[0]["id"], 1);
    assert!(replies[1]["result"]["tools"].as_array().unwrap().len() > 10);
    assert!(
        text.contains("stdio mode"),
        "the log line is missing: {}",
        &text[..text.len().min(400)]
    );
}
