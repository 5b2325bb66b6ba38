//! The review tools against the local API server, with the test playing
//! Forklift's controller and operator (status through the status
//! subresource): check_health on a healthy and an unhealthy estate,
//! check_access for the admin and the limited identity (stdio and HTTP with
//! a bearer header), and the operator's settings.

mod common;

use common::forklift::{cond, create, get, ready_plan, set_status, vm_done};
use common::http::HttpServer;
use common::{admin_client, fresh_namespace, testenv, text, StdioClient};
use k8s_openapi::api::core::v1::{Event, Pod, Secret};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

const PASSWORD: &str = "s3cret-value-never-shown";

async fn secret(ns: &str, name: &str, data: Value) {
    let api: Api<Secret> = Api::namespaced(admin_client().await, ns);
    let s: Secret =
        serde_json::from_value(json!({"metadata": {"name": name}, "stringData": data})).unwrap();
    api.create(&PostParams::default(), &s).await.unwrap();
}

async fn provider(ns: &str, name: &str, kind: &str, url: &str, secret: &str, conds: Value) {
    let mut spec = json!({"type": kind, "secret": {}});
    if !url.is_empty() {
        spec["url"] = json!(url);
    }
    if !secret.is_empty() {
        spec["secret"] = json!({"name": secret, "namespace": ns});
    }
    create(
        "providers",
        ns,
        json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Provider",
               "metadata": {"name": name, "namespace": ns}, "spec": spec}),
    )
    .await;
    set_status("providers", ns, name, json!({"conditions": conds})).await;
}

fn ready_conds() -> Value {
    json!([
        cond(
            "ConnectionTestSucceeded",
            "Required",
            "Connection test, succeeded."
        ),
        cond(
            "InventoryCreated",
            "Required",
            "The inventory has been loaded."
        ),
        cond("Ready", "Required", "The provider is ready.")
    ])
}

/// The operator in `ns`: a ForkliftController with these conditions and a
/// controller pod in this state.
async fn operator(ns: &str, fc_conds: Value, container_state: Value, restarts: i32) {
    create(
        "forkliftcontrollers",
        ns,
        json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "ForkliftController",
               "metadata": {"name": "forklift-controller", "namespace": ns}, "spec": {}}),
    )
    .await;
    set_status(
        "forkliftcontrollers",
        ns,
        "forklift-controller",
        json!({"conditions": fc_conds}),
    )
    .await;
    let pods: Api<Pod> = Api::namespaced(admin_client().await, ns);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "forklift-controller-abc", "labels": {"app": "forklift", "control-plane": "controller-manager"}},
        "spec": {"containers": [{"name": "main", "image": "forklift-controller"}, {"name": "inventory", "image": "forklift-controller"}]}}))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let ready = container_state.get("running").is_some();
    let statuses: Vec<Value> = ["main", "inventory"]
        .iter()
        .map(|c| json!({"name": c, "ready": ready, "restartCount": restarts, "image": "forklift-controller", "imageID": "", "state": container_state}))
        .collect();
    let phase = if ready { "Running" } else { "Pending" };
    pods.patch_status(
        "forklift-controller-abc",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"phase": phase, "containerStatuses": statuses}})),
    )
    .await
    .unwrap();
}

fn findings(r: &Value) -> Vec<(String, String, String)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_owned(),
                f["object"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn has(r: &Value, severity: &str, object: &str, message: &str) -> bool {
    findings(r)
        .iter()
        .any(|(s, o, m)| s == severity && o.contains(object) && m.contains(message))
}

#[tokio::test]
async fn check_health_on_a_healthy_estate() {
    let ns = fresh_namespace("health-ok").await;
    operator(
        &ns,
        json!([{"type": "Running", "status": "True", "reason": "Successful"},
               {"type": "Successful", "status": "True", "reason": "Successful"}]),
        json!({"running": {"startedAt": "2026-11-29T10:00:00Z"}}),
        0,
    )
    .await;
    secret(
        &ns,
        "vc-creds",
        json!({"user": "admin", "password": PASSWORD, "cacert": "-----BEGIN CERTIFICATE-----"}),
    )
    .await;
    provider(
        &ns,
        "vcenter-prod",
        "vsphere",
        "https://vc.example.com/sdk",
        "vc-creds",
        ready_conds(),
    )
    .await;
    provider(&ns, "host", "openshift", "", "", ready_conds()).await;
    ready_plan(&ns, "web", false).await;
    let mut c = StdioClient::admin(&[]).await;
    let r = c
        .call(
            "check_health",
            json!({"namespace": ns, "operator_namespace": ns}),
        )
        .await;
    let t = text(&r);
    println!("{t}");
    let s = &r["structuredContent"];
    assert_eq!(s["status"], "healthy", "{t}");
    assert_eq!(
        s["counts"],
        json!({"critical": 0, "error": 0, "warning": 0, "info": 0}),
        "{t}"
    );
    assert!(t.contains("Providers: 2 (2 Ready)"), "{t}");
    assert!(
        t.contains("forklift-controller-abc Running (0 restarts)"),
        "{t}"
    );
    let vc = &s["providers"][1];
    assert_eq!(vc["name"], "vcenter-prod");
    assert_eq!(
        vc["security"]["secret"]["keys"],
        json!(["cacert", "password", "user"])
    );
    assert_eq!(
        vc["security"]["tls"],
        json!({"insecureSkipVerify": false, "caGiven": true})
    );
    assert!(
        !r.to_string().contains(PASSWORD),
        "a secret value in the result"
    );
    assert!(
        r.to_string().len() < 16 * 1024,
        "{} bytes",
        r.to_string().len()
    );
}

#[tokio::test]
async fn check_health_on_an_unhealthy_estate() {
    let ns = fresh_namespace("health-bad").await;
    operator(
        &ns,
        json!([{"type": "Failure", "status": "True", "reason": "Failed", "message": "unknown playbook failure"}]),
        json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}}),
        12,
    )
    .await;
    secret(
        &ns,
        "insecure-creds",
        json!({"user": "admin", "password": PASSWORD, "insecureSkipVerify": "true"}),
    )
    .await;
    secret(&ns, "nopass-creds", json!({"user": "admin"})).await;
    secret(
        &ns,
        "down-creds",
        json!({"user": "admin", "password": PASSWORD, "cacert": "x"}),
    )
    .await;
    provider(
        &ns,
        "down",
        "vsphere",
        "https://down.example.com/sdk",
        "down-creds",
        json!([cond(
            "ConnectionTestFailed",
            "Critical",
            "Could not connect: x509: certificate signed by unknown authority"
        )]),
    )
    .await;
    provider(
        &ns,
        "insecure",
        "vsphere",
        "https://vc2.example.com/sdk",
        "insecure-creds",
        ready_conds(),
    )
    .await;
    provider(
        &ns,
        "nosecret",
        "ovirt",
        "https://ovirt.example.com/ovirt-engine/api",
        "gone-creds",
        ready_conds(),
    )
    .await;
    provider(
        &ns,
        "nopass",
        "vsphere",
        "http://vc3.example.com/sdk",
        "nopass-creds",
        ready_conds(),
    )
    .await;
    ready_plan(&ns, "web", false).await;
    let mut failed = vm_done("vm-1002", "web-02", "Failed");
    failed["error"] =
        json!({"phase": "CopyDisks", "reasons": ["Unable to connect to vddk data source"]});
    set_status(
        "plans",
        &ns,
        "web",
        json!({"conditions": [cond("Ready", "Required", "ready"), cond("Executing", "Advisory", "The plan is EXECUTING.")],
               "migration": {"vms": [vm_done("vm-1001", "web-01", "Succeeded"), failed]}}),
    )
    .await;
    // A Migration still running for a plan that was deleted.
    create(
        "migrations",
        &ns,
        json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Migration",
               "metadata": {"name": "old-1", "namespace": ns},
               "spec": {"plan": {"name": "old", "namespace": ns, "uid": "0000"}}}),
    )
    .await;
    set_status(
        "migrations",
        &ns,
        "old-1",
        json!({"started": "2026-11-29T10:00:00Z", "conditions": [cond("Running", "Advisory", "The migration is RUNNING.")]}),
    )
    .await;
    let events: Api<Event> = Api::namespaced(admin_client().await, &ns);
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let ev: Event = serde_json::from_value(json!({
        "metadata": {"name": "web.1"}, "type": "Warning", "reason": "VMFailed",
        "message": "VM web-02 failed", "count": 2, "lastTimestamp": now, "firstTimestamp": now,
        "involvedObject": {"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Plan", "name": "web", "namespace": ns}}))
    .unwrap();
    events.create(&PostParams::default(), &ev).await.unwrap();

    let mut c = StdioClient::admin(&[]).await;
    let r = c
        .call(
            "check_health",
            json!({"namespace": ns, "operator_namespace": ns}),
        )
        .await;
    let t = text(&r);
    println!("{t}");
    assert_eq!(r["isError"], false, "{t}");
    let s = &r["structuredContent"];
    assert_eq!(s["status"], "unhealthy");
    assert!(
        has(s, "error", "ForkliftController", "unknown playbook failure"),
        "{t}"
    );
    assert!(
        has(
            s,
            "critical",
            "forklift-controller-abc",
            "CrashLoopBackOff (12 restarts)"
        ),
        "{t}"
    );
    assert!(
        has(
            s,
            "critical",
            "Provider",
            "x509: certificate signed by unknown authority"
        ),
        "{t}"
    );
    assert!(
        has(
            s,
            "warning",
            "/insecure",
            "skips TLS certificate verification"
        ),
        "{t}"
    );
    assert!(
        has(s, "critical", "/nosecret", "gone-creds does not exist"),
        "{t}"
    );
    assert!(has(s, "error", "/nopass", "lacks password"), "{t}");
    assert!(has(s, "warning", "/nopass", "plain http://"), "{t}");
    assert!(has(s, "error", "Plan", "1 of 2 VM(s) failed"), "{t}");
    assert!(
        has(s, "warning", "Migration", "its Plan old no longer exists"),
        "{t}"
    );
    assert!(has(s, "warning", "Plan/web", "VMFailed (×2)"), "{t}");
    // The most severe first, each with a call that shows more.
    assert!(
        t.find("[critical]").unwrap() < t.find("[error]").unwrap(),
        "{t}"
    );
    assert!(
        t.contains("→ patch_provider {\"name\": \"nopass\"")
            && t.contains("\"password\": \"${VAR}\""),
        "{t}"
    );
    assert!(t.contains("→ get_logs {\"plan\": \"web\""), "{t}");
    // Key names, never values.
    assert!(
        !r.to_string().contains(PASSWORD),
        "a secret value in the result"
    );
    let nopass = s["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "nopass")
        .unwrap();
    assert_eq!(nopass["security"]["secret"]["keys"], json!(["user"]));
    assert_eq!(
        nopass["security"]["secret"]["missingKeys"],
        json!(["password"])
    );
    assert!(
        r.to_string().len() < 24 * 1024,
        "{} bytes",
        r.to_string().len()
    );
    // A wrong pair of arguments says how to fix it.
    let err = c
        .call_err(
            "check_health",
            json!({"namespace": ns, "all_namespaces": true}),
        )
        .await;
    assert!(
        err.contains("namespace or all_namespaces, not both"),
        "{err}"
    );
}

/// Lets the limited identity read plans and providers (only) in `ns`.
async fn grant_read(ns: &str) {
    let client = admin_client().await;
    let roles: Api<Role> = Api::namespaced(client.clone(), ns);
    let role: Role = serde_json::from_value(json!({
        "metadata": {"name": "plan-reader"},
        "rules": [{"apiGroups": ["forklift.konveyor.io"], "resources": ["plans", "providers"], "verbs": ["get", "list", "watch"]}]}))
    .unwrap();
    roles.create(&PostParams::default(), &role).await.unwrap();
    let bindings: Api<RoleBinding> = Api::namespaced(client, ns);
    let b: RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "plan-reader"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "plan-reader"},
        "subjects": [{"kind": "User", "name": "limited", "apiGroup": "rbac.authorization.k8s.io"}]}))
    .unwrap();
    bindings.create(&PostParams::default(), &b).await.unwrap();
}

fn assert_limited_matrix(s: &Value, t: &str) {
    let m = &s["matrix"];
    assert_eq!(
        m["plans"],
        json!({"get": true, "list": true, "watch": true, "create": false, "patch": false, "delete": false}),
        "{t}"
    );
    assert_eq!(m["secrets"]["get"], false, "{t}");
    assert_eq!(m["pods/log"], json!({"get": false}), "{t}");
    let usable: Vec<&str> = s["usableTools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        usable.contains(&"get_plans") && usable.contains(&"get_providers"),
        "{t}"
    );
    assert!(
        !usable.contains(&"create_plan") && !usable.contains(&"get_settings"),
        "{t}"
    );
    assert!(
        t.contains("plans: get list watch — denied create patch delete"),
        "{t}"
    );
    assert!(t.contains("create_plan (needs create plans)"), "{t}");
}

#[tokio::test]
async fn check_access_for_the_admin_and_the_limited_identity_over_stdio() {
    let ns = fresh_namespace("access").await;
    grant_read(&ns).await;
    ready_plan(&ns, "web", false).await;
    let env = testenv();
    let mut admin = StdioClient::admin(&[]).await;
    let r = admin.call("check_access", json!({"namespace": ns})).await;
    let t = text(&r);
    println!("admin:\n{t}");
    let s = &r["structuredContent"];
    assert_eq!(s["matrix"]["secrets"]["get"], true, "{t}");
    assert_eq!(s["unusableTools"], json!([]), "{t}");
    assert!(
        t.contains("Every tool of this server (40) is usable"),
        "{t}"
    );

    let mut limited = StdioClient::spawn(
        &[
            "mcp-server",
            "--server",
            &env.server,
            "--token",
            &env.limited_token,
            "--certificate-authority",
            env.ca.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    limited.initialize().await;
    // Where it may read nothing, check_health says it could not assess,
    // rather than reporting an empty, healthy namespace.
    let denied = fresh_namespace("health-denied").await;
    let r = limited
        .call("check_health", json!({"namespace": denied}))
        .await;
    let t = text(&r);
    assert!(
        t.contains("not fully assessed") && !t.contains("holds no Providers"),
        "{t}"
    );
    let r = limited.call("check_access", json!({"namespace": ns})).await;
    let t = text(&r);
    println!("limited:\n{t}");
    assert_limited_matrix(&r["structuredContent"], &t);
    assert!(!t.contains(&env.limited_token));
    // The matrix is what the API server enforces.
    limited
        .call_ok("get_plans", json!({"name": "web", "namespace": ns}))
        .await;
    let err = limited
        .call_err(
            "create_plan",
            json!({"name": "x", "namespace": ns, "spec": get("plans", &ns, "web").await["spec"],
                   "allow_missing_references": true}),
        )
        .await;
    assert!(err.contains("Forbidden (403)"), "{err}");
    // Settings it may not read: the CRD's defaults, and why.
    let r = limited
        .call(
            "get_settings",
            json!({"namespace": ns, "query": "inflight"}),
        )
        .await;
    assert!(
        text(&r).contains("(forbidden)")
            && text(&r).contains("values shown are the CRD's defaults"),
        "{}",
        text(&r)
    );
    // Narrowed, and model mistakes.
    let r = limited
        .call_ok(
            "check_access",
            json!({"namespace": ns, "verbs": ["GET", "delete"], "resources": ["Plan", "configmaps"]}),
        )
        .await;
    assert_eq!(
        r["matrix"],
        json!({"plans": {"get": true, "delete": false}, "configmaps": {"get": false, "delete": false}})
    );
    let err = limited
        .call_err("check_access", json!({"namespace": ns, "verbs": ["lst"]}))
        .await;
    assert!(err.contains("did you mean list"), "{err}");
    let err = limited.call_err("check_access", json!({})).await;
    assert!(err.contains("namespace"), "{err}");
}

#[tokio::test]
async fn check_access_over_http_acts_as_the_bearer() {
    let ns = fresh_namespace("access-http").await;
    grant_read(&ns).await;
    let env = testenv();
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
    let limited = format!("Bearer {}", env.limited_token);
    let admin = format!("Bearer {}", env.admin_token);
    let session = s.mcp_session(&[("Authorization", &limited)]).await;
    let r = s
        .call(
            &session,
            &[("Authorization", &limited)],
            "check_access",
            json!({"namespace": ns}),
        )
        .await;
    let t = text(&r);
    assert_limited_matrix(&r["structuredContent"], &t);
    let r = s
        .call(
            &session,
            &[("Authorization", &admin)],
            "check_access",
            json!({"namespace": ns}),
        )
        .await;
    assert_eq!(
        r["structuredContent"]["unusableTools"],
        json!([]),
        "{}",
        text(&r)
    );
    assert!(!s.stderr.lock().unwrap().contains(&env.limited_token));
}

#[tokio::test]
async fn settings_read_set_dry_run_set_unset_and_refuse_a_wrong_type() {
    let ns = fresh_namespace("settings").await;
    create(
        "forkliftcontrollers",
        &ns,
        json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "ForkliftController",
               "metadata": {"name": "forklift-controller", "namespace": ns},
               "spec": {"vddk_image": "registry.example.com/vddk:8.0.3"}}),
    )
    .await;
    let mut c = StdioClient::admin(&[]).await;
    // With several ForkliftControllers in the cluster, a change that does not
    // say which one is refused, not applied to one picked for the caller.
    let second = fresh_namespace("settings-2").await;
    create(
        "forkliftcontrollers",
        &second,
        json!({"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "ForkliftController",
               "metadata": {"name": "forklift-controller", "namespace": second}, "spec": {}}),
    )
    .await;
    let t = c
        .call_err(
            "set_setting",
            json!({"name": "controller_max_vm_inflight", "value": 10, "dry_run": true}),
        )
        .await;
    assert!(
        t.contains("ForkliftControllers were found") && t.contains("pass namespace"),
        "{t}"
    );
    let fc = |ns: &str| {
        let ns = ns.to_owned();
        async move { get("forkliftcontrollers", &ns, "forklift-controller").await["spec"].clone() }
    };
    // Read: the defaults (the API server writes them) and what differs.
    let r = c.call("get_settings", json!({"namespace": ns})).await;
    let t = text(&r);
    println!("{t}");
    assert!(
        t.contains("1 of ") && t.contains("settings differ from their defaults"),
        "{t}"
    );
    assert!(
        t.contains("controller_max_vm_inflight = 20 — Max concurrent VM migrations."),
        "{t}"
    );
    assert!(
        t.contains("vddk_image = registry.example.com/vddk:8.0.3"),
        "{t}"
    );
    assert!(
        t.contains("Not shown:") && t.contains("resources (52)"),
        "{t}"
    );
    assert!(
        r.to_string().len() < 24 * 1024,
        "{} bytes",
        r.to_string().len()
    );
    let r = c
        .call_ok("get_settings", json!({"namespace": ns, "query": "VDDK"}))
        .await;
    let names: Vec<&str> = r["groups"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|g| g.as_array().unwrap())
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["controller_vddk_job_active_deadline_sec", "vddk_image"]
    );
    let err = c
        .call_err("get_settings", json!({"namespace": ns, "group": "perf"}))
        .await;
    assert!(
        err.contains("controller") && err.contains("feature"),
        "{err}"
    );

    // Set with a dry run: nothing changes.
    let set = json!({"name": "controller_max_vm_inflight", "value": 5, "namespace": ns});
    let mut dry = set.clone();
    dry["dry_run"] = json!(true);
    let r = c.call_ok("set_setting", dry).await;
    assert_eq!(
        (r["dryRun"].clone(), r["changed"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(fc(&ns).await["controller_max_vm_inflight"], 20);
    // For real.
    let r = c.call("set_setting", set.clone()).await;
    assert!(
        text(&r).contains("controller_max_vm_inflight: 20 → 5"),
        "{}",
        text(&r)
    );
    assert_eq!(fc(&ns).await["controller_max_vm_inflight"], 5);
    let r = c
        .call_ok(
            "get_settings",
            json!({"namespace": ns, "changed_only": true}),
        )
        .await;
    assert_eq!(
        r["groups"]["controller"],
        json!([{"name": "controller_max_vm_inflight", "type": "integer", "value": 5, "default": 20}])
    );
    // Again: nothing to do. A boolean given as a string is written as the CRD wants it.
    let again = c.call("set_setting", set).await;
    assert!(text(&again).contains("already 5"), "{}", text(&again));
    c.call_ok(
        "set_setting",
        json!({"name": "feature_copy_offload", "value": "false", "namespace": ns}),
    )
    .await;
    assert_eq!(fc(&ns).await["feature_copy_offload"], "false");
    // Wrong type, wrong name, wrong choice: refused, with how to fix it, nothing sent.
    for (args, says) in [
        (
            json!({"name": "controller_max_vm_inflight", "value": "five"}),
            "is an integer, default 20: give a whole number",
        ),
        (
            json!({"name": "controller_max_vm_inflight", "value": true}),
            "give a whole number, not true",
        ),
        (
            json!({"name": "feature_copy_offload", "value": 1}),
            "give true or false",
        ),
        (
            json!({"name": "max_vm_inflight", "value": 5}),
            "Did you mean controller_max_vm_inflight?",
        ),
        (
            json!({"name": "image_pull_policy", "value": "Sometimes"}),
            "is one of Always, IfNotPresent, Never",
        ),
        (
            json!({"name": "controller_max_vm_inflight"}),
            "or unset: true",
        ),
    ] {
        let mut a = args.clone();
        a["namespace"] = json!(ns);
        let err = c.call_err("set_setting", a).await;
        assert!(err.contains(says), "{args}: {err}");
        assert!(err.contains("Nothing was sent"), "{err}");
    }
    assert_eq!(fc(&ns).await["controller_max_vm_inflight"], 5);
    // The wrong namespace says where the ForkliftController is.
    let other = fresh_namespace("settings-none").await;
    let err = c
        .call_err(
            "set_setting",
            json!({"name": "controller_max_vm_inflight", "value": 6, "namespace": other}),
        )
        .await;
    assert!(
        err.contains("it exists as ") && err.contains("/forklift-controller"),
        "{err}"
    );
    // Unset: the default applies again (the API server writes it back).
    let r = c
        .call_ok(
            "set_setting",
            json!({"name": "controller_max_vm_inflight", "unset": true, "namespace": ns}),
        )
        .await;
    assert_eq!(r["value"], Value::Null);
    assert_eq!(fc(&ns).await["controller_max_vm_inflight"], 20);
}
