//! The Forklift workflow tools against the local API server, with the test
//! playing Forklift's controller (status through the status subresource,
//! Events, migration pods): plan lifecycle, watch_plan, watch on get tools,
//! describe_plan, get_events and get_logs.

mod common;

use std::time::Duration;

use common::forklift::{cond, get, ready_plan, sample_estate, set_status, vm_done, vm_progress};
use common::{fresh_namespace, text, StdioClient};
use serde_json::{json, Value};

/// Progress messages received so far (drains the queue).
fn progress_messages(c: &mut StdioClient) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(n) = c.notifications.try_recv() {
        if n["method"] == "notifications/progress" {
            out.push(
                n["params"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    out
}

async fn migrations_of(ns: &str) -> Vec<Value> {
    let c = common::admin_client().await;
    let r = kubectl_mtv::catalogue::find_resource("migrations").unwrap();
    let api: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(c, ns, &r.api_resource());
    api.list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|o| serde_json::to_value(o).unwrap())
        .collect()
}

#[tokio::test]
async fn start_plan_creates_the_migration_then_refuses_a_running_plan() {
    let ns = fresh_namespace("wf-start").await;
    let estate = sample_estate(&ns);
    let mut c = StdioClient::admin(&[]).await;
    let args = json!({"name": "db-tier-migration", "namespace": ns});

    let dry = c
        .call_ok(
            "start_plan",
            json!({"name": "db-tier-migration", "namespace": ns, "dry_run": true}),
        )
        .await;
    assert_eq!(dry["dryRun"], true);
    let before = migrations_of(&ns).await.len();
    assert_eq!(
        before, 1,
        "only web-tier-migration-1; dry run created nothing"
    );

    let started = c.call_ok("start_plan", args.clone()).await;
    let name = started["migration"].as_str().unwrap().to_owned();
    assert!(name.starts_with("db-tier-migration-"), "{name}");
    let m = get("migrations", &ns, &name).await;
    let plan_uid = &estate["uids"]["plan/db-tier-migration"];
    assert_eq!(
        m["spec"]["plan"],
        json!({"name": "db-tier-migration", "namespace": ns, "uid": plan_uid})
    );
    assert_eq!(m["metadata"]["ownerReferences"][0]["uid"], *plan_uid);
    assert!(m["spec"].get("cutover").is_none(), "cold plan: no cutover");

    // Not picked up by the controller yet: still counts as running, and
    // describe_plan says what it waits for.
    let d = c.call("describe_plan", args.clone()).await;
    assert!(
        text(&d).contains(&format!(
            "{name}: waiting for the Forklift controller (no status yet"
        )),
        "{}",
        text(&d)
    );
    let err = c.call_err("start_plan", args.clone()).await;
    assert!(
        err.contains("already running") && err.contains(&name),
        "{err}"
    );
    // The controller runs it; still refused.
    set_status(
        "migrations",
        &ns,
        &name,
        json!({"started": "2026-11-29T10:00:00Z",
        "conditions": [cond("Running", "Advisory", "The migration is RUNNING.")]}),
    )
    .await;
    let err = c.call_err("start_plan", args.clone()).await;
    assert!(
        err.contains("already running") && err.contains("watch_plan"),
        "{err}"
    );
    assert_eq!(migrations_of(&ns).await.len(), before + 1);

    // Once it succeeded, the plan cannot start again.
    set_status(
        "migrations",
        &ns,
        &name,
        json!({"completed": "2026-11-29T11:00:00Z",
        "conditions": [cond("Succeeded", "Advisory", "The migration has SUCCEEDED.")]}),
    )
    .await;
    set_status("plans", &ns, "db-tier-migration", json!({"conditions": [
        cond("Ready", "Required", "ready"), cond("Succeeded", "Advisory", "The plan execution has SUCCEEDED.")]})).await;
    let err = c.call_err("start_plan", args).await;
    assert!(err.contains("already succeeded"), "{err}");
}

#[tokio::test]
async fn start_plan_refuses_not_ready_archived_and_missing_plans() {
    let ns = fresh_namespace("wf-refuse").await;
    sample_estate(&ns);
    let mut c = StdioClient::admin(&[]).await;
    let err = c
        .call_err(
            "start_plan",
            json!({"name": "legacy-app-migration", "namespace": ns}),
        )
        .await;
    assert!(
        err.contains("not Ready")
            && err.contains("StorageRefNotValid")
            && err.contains("describe_plan"),
        "{err}"
    );
    // A plan the controller has not looked at yet.
    ready_plan(&ns, "fresh", false).await;
    set_status("plans", &ns, "fresh", json!({"conditions": []})).await;
    let err = c
        .call_err("start_plan", json!({"name": "fresh", "namespace": ns}))
        .await;
    assert!(err.contains("no status yet"), "{err}");
    // Archived.
    c.call_ok(
        "archive_plan",
        json!({"name": "legacy-app-migration", "namespace": ns}),
    )
    .await;
    let err = c
        .call_err(
            "start_plan",
            json!({"name": "legacy-app-migration", "namespace": ns}),
        )
        .await;
    assert!(
        err.contains("archived") && err.contains("unarchive_plan"),
        "{err}"
    );
    // Missing plan, wrong namespace.
    let err = c
        .call_err(
            "start_plan",
            json!({"name": "db-tier-migration", "namespace": "default"}),
        )
        .await;
    assert!(
        err.contains("does not exist") && err.contains("get_plans"),
        "{err}"
    );
    // Bad time.
    let err = c
        .call_err(
            "start_plan",
            json!({"name": "db-tier-migration", "namespace": ns, "cutover": "tonight"}),
        )
        .await;
    assert!(
        err.contains("RFC 3339") && err.contains("Nothing was sent"),
        "{err}"
    );
    assert_eq!(migrations_of(&ns).await.len(), 1, "nothing was created");
}

#[tokio::test]
async fn warm_plan_start_with_cutover_then_cutover_now() {
    let ns = fresh_namespace("wf-cutover").await;
    sample_estate(&ns);
    ready_plan(&ns, "warm-web", true).await;
    let mut c = StdioClient::admin(&[]).await;
    let s = c
        .call_ok(
            "start_plan",
            json!({"name": "warm-web", "namespace": ns, "cutover": "2030-01-02T03:04:05+01:00"}),
        )
        .await;
    let name = s["migration"].as_str().unwrap().to_owned();
    assert_eq!(
        get("migrations", &ns, &name).await["spec"]["cutover"],
        "2030-01-02T02:04:05Z"
    );
    set_status(
        "migrations",
        &ns,
        &name,
        json!({"started": "2026-11-29T10:00:00Z",
        "conditions": [cond("Running", "Advisory", "running")]}),
    )
    .await;

    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let r = c
        .call_ok("cutover_plan", json!({"name": "warm-web", "namespace": ns}))
        .await;
    assert_eq!(r["migration"], name);
    let cutover = get("migrations", &ns, &name).await["spec"]["cutover"]
        .as_str()
        .unwrap()
        .to_owned();
    let at = cutover
        .parse::<k8s_openapi::jiff::Timestamp>()
        .unwrap()
        .as_second() as u64;
    assert!(
        at + 5 >= before && at <= before + 60,
        "cutover {cutover} is about now"
    );

    // Dry run changes nothing.
    c.call_ok("cutover_plan", json!({"name": "warm-web", "namespace": ns, "cutover": "2031-01-01T00:00:00Z", "dry_run": true})).await;
    assert_eq!(
        get("migrations", &ns, &name).await["spec"]["cutover"],
        cutover
    );

    // A cold plan has no cutover; a plan with nothing running neither.
    let err = c
        .call_err(
            "cutover_plan",
            json!({"name": "web-tier-migration", "namespace": ns}),
        )
        .await;
    assert!(err.contains("cold"), "{err}");
    ready_plan(&ns, "warm-idle", true).await;
    let err = c
        .call_err(
            "cutover_plan",
            json!({"name": "warm-idle", "namespace": ns}),
        )
        .await;
    assert!(
        err.contains("no running Migration") && err.contains("start_plan"),
        "{err}"
    );
}

#[tokio::test]
async fn cancel_plan_adds_vms_to_the_running_migration() {
    let ns = fresh_namespace("wf-cancel").await;
    sample_estate(&ns);
    let mut c = StdioClient::admin(&[]).await;
    let err = c
        .call_err(
            "cancel_plan",
            json!({"name": "web-tier-migration", "namespace": ns, "vms": ["web-01", "web-09"]}),
        )
        .await;
    assert!(
        err.contains("web-09") && err.contains("web-01 (vm-2001)"),
        "{err}"
    );
    assert!(
        get("migrations", &ns, "web-tier-migration-1").await["spec"]
            .get("cancel")
            .is_none(),
        "nothing changed"
    );

    // By name and by id: web-02 already failed, so only web-01 is canceled.
    let r = c
        .call_ok(
            "cancel_plan",
            json!({"name": "web-tier-migration", "namespace": ns, "vms": ["web-01", "vm-2002"]}),
        )
        .await;
    assert_eq!(r["migration"], "web-tier-migration-1");
    assert_eq!(r["canceled"], json!(["web-01"]));
    assert_eq!(r["alreadyFinished"], json!(["web-02 (Failed)"]));
    let cancel = get("migrations", &ns, "web-tier-migration-1").await["spec"]["cancel"].clone();
    assert_eq!(cancel, json!([{"id": "vm-2001", "name": "web-01"}]));
    // Again: nothing new to cancel, and it says why.
    let err = c
        .call_err(
            "cancel_plan",
            json!({"name": "web-tier-migration", "namespace": ns, "vms": ["vm-2001", "web-02"]}),
        )
        .await;
    assert!(
        err.contains("cancellation already requested: web-01")
            && err.contains("already finished, nothing to stop: web-02 (Failed)"),
        "{err}"
    );
    let d = c
        .call(
            "describe_plan",
            json!({"name": "web-tier-migration", "namespace": ns}),
        )
        .await;
    assert!(
        text(&d).contains("cancel requested for web-01"),
        "{}",
        text(&d)
    );

    let err = c
        .call_err(
            "cancel_plan",
            json!({"name": "db-tier-migration", "namespace": ns, "vms": ["db-01"]}),
        )
        .await;
    assert!(err.contains("no running Migration"), "{err}");
    let err = c
        .call_err(
            "cancel_plan",
            json!({"name": "db-tier-migration", "namespace": ns, "vms": []}),
        )
        .await;
    assert!(err.contains("vms is empty"), "{err}");
}

#[tokio::test]
async fn archive_and_unarchive() {
    let ns = fresh_namespace("wf-archive").await;
    sample_estate(&ns);
    let mut c = StdioClient::admin(&[]).await;
    let err = c
        .call_err(
            "archive_plan",
            json!({"name": "web-tier-migration", "namespace": ns}),
        )
        .await;
    assert!(
        err.contains("running") && err.contains("cancel_plan"),
        "{err}"
    );
    assert!(get("plans", &ns, "web-tier-migration").await["spec"]
        .get("archived")
        .is_none());

    let dry = c
        .call_ok(
            "archive_plan",
            json!({"name": "db-tier-migration", "namespace": ns, "dry_run": true}),
        )
        .await;
    assert_eq!(dry["dryRun"], true);
    assert!(get("plans", &ns, "db-tier-migration").await["spec"]
        .get("archived")
        .is_none());
    let r = c
        .call_ok(
            "archive_plan",
            json!({"name": "db-tier-migration", "namespace": ns}),
        )
        .await;
    assert_eq!(r["changed"], true);
    assert_eq!(
        get("plans", &ns, "db-tier-migration").await["spec"]["archived"],
        true
    );
    let r = c
        .call_ok(
            "archive_plan",
            json!({"name": "db-tier-migration", "namespace": ns}),
        )
        .await;
    assert_eq!(r["changed"], false, "already archived");
    c.call_ok(
        "unarchive_plan",
        json!({"name": "db-tier-migration", "namespace": ns}),
    )
    .await;
    assert_eq!(
        get("plans", &ns, "db-tier-migration").await["spec"]["archived"],
        false
    );
}

#[tokio::test]
async fn watch_plan_reports_each_change_and_ends_on_success() {
    let ns = fresh_namespace("wf-watch").await;
    sample_estate(&ns);
    ready_plan(&ns, "web-live", false).await;
    let mut c = StdioClient::admin(&[]).await;
    let s = c
        .call_ok("start_plan", json!({"name": "web-live", "namespace": ns}))
        .await;
    let mig = s["migration"].as_str().unwrap().to_owned();
    progress_messages(&mut c);

    let (_, reply) = c
        .start_request(
            "tools/call",
            json!({"name": "watch_plan", "arguments": {"name": "web-live", "namespace": ns, "timeout_seconds": 60},
                   "_meta": {"progressToken": "w1"}}),
        )
        .await;
    // The controller at work: two status changes, then success.
    let ns2 = ns.clone();
    let mig2 = mig.clone();
    let controller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let vms = json!([
            vm_progress("vm-1001", "web-01", "DiskTransfer", 400, 1000),
            vm_progress("vm-1002", "web-02", "DiskTransfer", 0, 1000)
        ]);
        set_status(
            "migrations",
            &ns2,
            &mig2,
            json!({"started": "2026-11-29T10:00:00Z",
            "conditions": [cond("Running", "Advisory", "running")], "vms": vms}),
        )
        .await;
        set_status(
            "plans",
            &ns2,
            "web-live",
            json!({"conditions": [cond("Ready", "Required", "ready"),
            cond("Executing", "Advisory", "The plan is EXECUTING.")], "migration": {"vms": vms}}),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        let vms = json!([
            vm_progress("vm-1001", "web-01", "ImageConversion", 0, 1),
            vm_progress("vm-1002", "web-02", "DiskTransfer", 800, 1000)
        ]);
        set_status("migrations", &ns2, &mig2, json!({"vms": vms})).await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        let vms = json!([
            vm_done("vm-1001", "web-01", "Succeeded"),
            vm_done("vm-1002", "web-02", "Succeeded")
        ]);
        set_status("migrations", &ns2, &mig2, json!({"completed": "2026-11-29T10:30:00Z",
            "conditions": [cond("Succeeded", "Advisory", "The migration has SUCCEEDED.")], "vms": vms})).await;
        set_status("plans", &ns2, "web-live", json!({"conditions": [cond("Ready", "Required", "ready"),
            cond("Succeeded", "Advisory", "The plan execution has SUCCEEDED.")], "migration": {"vms": vms}})).await;
    });
    let r = tokio::time::timeout(Duration::from_secs(30), reply)
        .await
        .expect("watch_plan returns when the plan succeeds, long before its timeout")
        .unwrap();
    controller.await.unwrap();
    let result = &r["result"];
    assert_eq!(result["isError"], false, "{}", text(result));
    let sc = &result["structuredContent"];
    assert_eq!(sc["ended"], "succeeded", "{sc}");
    assert_eq!(sc["phase"], "Succeeded");
    assert!(sc["seconds"].as_u64().unwrap() < 20);
    assert!(
        text(result).contains("Watch ended: the plan succeeded"),
        "{}",
        text(result)
    );
    let msgs = progress_messages(&mut c);
    let all = msgs.join("\n");
    for want in [
        "web-01: DiskTransfer 40%",
        "web-01: ImageConversion",
        "web-02: DiskTransfer 80%",
        "Executing=True",
        "phase Executing → Succeeded",
    ] {
        assert!(all.contains(want), "progress lacks {want:?}:\n{all}");
    }
    assert!(msgs.len() >= 4, "{msgs:?}");
}

#[tokio::test]
async fn watch_plan_until_a_condition_and_at_its_timeout() {
    let ns = fresh_namespace("wf-until").await;
    sample_estate(&ns);
    let mut c = StdioClient::admin(&[]).await;
    // Already holds: returns at once.
    let r = c
        .call_ok(
            "watch_plan",
            json!({"name": "web-tier-migration", "namespace": ns, "until": "Executing"}),
        )
        .await;
    assert_eq!(r["ended"], "until");
    // Nothing happens: the timeout ends it and says so.
    let started = std::time::Instant::now();
    let r = c
        .call(
            "watch_plan",
            json!({"name": "db-tier-migration", "namespace": ns, "timeout_seconds": 2}),
        )
        .await;
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_eq!(r["structuredContent"]["ended"], "timeout");
    assert!(
        text(&r).contains("timeout after") && text(&r).contains("Call watch_plan again"),
        "{}",
        text(&r)
    );
    // Without a progress token there are no notifications, and still a summary.
    assert!(progress_messages(&mut c).is_empty());
    // A typo in `until` is refused with the allowed values.
    let err = c
        .call_err(
            "watch_plan",
            json!({"name": "db-tier-migration", "namespace": ns, "until": "Done"}),
        )
        .await;
    assert!(
        err.contains("Succeeded") && err.contains("Executing"),
        "{err}"
    );
    let err = c
        .call_err("watch_plan", json!({"name": "nope", "namespace": ns}))
        .await;
    assert!(err.contains("does not exist"), "{err}");
}

#[tokio::test]
async fn watch_plan_resumes_when_the_api_server_ends_the_watch() {
    let ns = fresh_namespace("wf-resume").await;
    sample_estate(&ns);
    ready_plan(&ns, "resumed", false).await;
    // The API server ends each watch request after 1 s.
    let mut c = StdioClient::admin(&["--watch-server-timeout", "1"]).await;
    let (_, reply) = c
        .start_request(
            "tools/call",
            json!({"name": "watch_plan", "arguments": {"name": "resumed", "namespace": ns, "timeout_seconds": 30},
                   "_meta": {"progressToken": "r"}}),
        )
        .await;
    let ns2 = ns.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        set_status(
            "plans",
            &ns2,
            "resumed",
            json!({"conditions": [cond("Ready", "Required", "ready"),
            cond("Executing", "Advisory", "executing")]}),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        set_status(
            "plans",
            &ns2,
            "resumed",
            json!({"conditions": [cond("Ready", "Required", "ready"),
            cond("Failed", "Critical", "The plan execution has FAILED.")]}),
        )
        .await;
    });
    let r = tokio::time::timeout(Duration::from_secs(25), reply)
        .await
        .unwrap()
        .unwrap();
    let sc = &r["result"]["structuredContent"];
    assert_eq!(sc["ended"], "failed", "{sc}");
    assert!(
        text(&r["result"]).contains("describe_plan"),
        "a failure points at describe_plan"
    );
    let all = progress_messages(&mut c).join("\n");
    assert!(
        all.contains("Executing=True") && all.contains("Failed=True"),
        "{all}"
    );
}

#[tokio::test]
async fn watch_on_a_get_tool_reports_added_modified_and_deleted() {
    let ns = fresh_namespace("wf-getwatch").await;
    let mut c = StdioClient::admin(&[]).await;
    let (_, reply) = c
        .start_request(
            "tools/call",
            json!({"name": "get_hooks", "arguments": {"namespace": ns, "watch": true, "timeout_seconds": 6,
                   "fields": ["spec.image"]}, "_meta": {"progressToken": "g"}}),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    c.call_ok(
        "create_hook",
        json!({"namespace": ns, "name": "h1", "spec": {"image": "quay.io/a:1"}}),
    )
    .await;
    c.call_ok(
        "patch_hook",
        json!({"namespace": ns, "name": "h1", "patch": {"spec": {"image": "quay.io/a:2"}}}),
    )
    .await;
    c.call_ok("delete_hook", json!({"namespace": ns, "name": "h1"}))
        .await;
    let r = tokio::time::timeout(Duration::from_secs(20), reply)
        .await
        .unwrap()
        .unwrap();
    let sc = &r["result"]["structuredContent"];
    let kinds: Vec<&str> = sc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ADDED", "MODIFIED", "DELETED"], "{sc}");
    assert_eq!(sc["changes"][1]["object"]["spec"]["image"], "quay.io/a:2");
    assert_eq!(sc["initialCount"], 0);
    assert_eq!(sc["ended"], "timeout");
    let msgs = progress_messages(&mut c);
    assert!(msgs.iter().any(|m| m.starts_with("ADDED Hook")), "{msgs:?}");
    assert!(
        msgs.iter().any(|m| m.starts_with("DELETED Hook")),
        "{msgs:?}"
    );
    // Watching one object by name ends when it is deleted.
    c.call_ok(
        "create_hook",
        json!({"namespace": ns, "name": "h2", "spec": {"image": "quay.io/b:1"}}),
    )
    .await;
    let (_, reply) = c
        .start_request("tools/call", json!({"name": "get_hooks", "arguments": {"namespace": ns, "name": "h2", "watch": true, "timeout_seconds": 30}}))
        .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    c.call_ok("delete_hook", json!({"namespace": ns, "name": "h2"}))
        .await;
    let r = tokio::time::timeout(Duration::from_secs(10), reply)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r["result"]["structuredContent"]["ended"], "deleted");
}

#[tokio::test]
async fn describe_plan_explains_a_failing_plan() {
    let ns = fresh_namespace("wf-describe").await;
    sample_estate(&ns);
    let mut c = StdioClient::admin(&[]).await;
    let r = c
        .call(
            "describe_plan",
            json!({"name": "web-tier-migration", "namespace": ns}),
        )
        .await;
    let t = text(&r);
    assert_eq!(r["isError"], false, "{t}");
    for want in [
        "Executing",
        "web-01: DiskTransfer 40%",
        "web-02: Completed (Failed)",
        "NFC connection closed",
        "source provider Provider vcenter-prod",
        "VMFailed",
        "DiskTransferRetry (×3)",
        "get_logs",
        "Latest migration web-tier-migration-1: running",
    ] {
        assert!(t.contains(want), "describe lacks {want:?}:\n{t}");
    }
    assert!(!t.contains("Started"), "only Warning events:\n{t}");
    let sc = &r["structuredContent"];
    assert_eq!(sc["vms"][1]["outcome"], "Failed");
    assert!(sc["references"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["ok"] == true));
    assert!(t.len() < 4000, "describe stays small: {} bytes", t.len());

    let r = c
        .call(
            "describe_plan",
            json!({"name": "legacy-app-migration", "namespace": ns}),
        )
        .await;
    let t = text(&r);
    assert!(
        t.contains("StorageMap legacy-storage") && t.contains("MISSING"),
        "{t}"
    );
    assert!(t.contains("StorageRefNotValid=True [Critical]"), "{t}");
    assert!(
        t.contains("get_storagemaps"),
        "the next step names the tool: {t}"
    );
}

#[tokio::test]
async fn get_events_folds_filters_and_bounds() {
    let ns = fresh_namespace("wf-events").await;
    sample_estate(&ns);
    let mut c = StdioClient::admin(&[]).await;
    let all = c
        .call_ok(
            "get_events",
            json!({"namespace": ns, "kind": "Plan", "name": "web-tier-migration"}),
        )
        .await;
    let evs = all["events"].as_array().unwrap();
    assert_eq!(
        evs.len(),
        3,
        "the plan's two and its Migration's one: {all}"
    );
    assert!(evs
        .iter()
        .any(|e| e["reason"] == "DiskTransferRetry" && e["count"] == 3));
    let warn = c
        .call_ok("get_events", json!({"namespace": ns, "kind": "plans", "name": "web-tier-migration", "types": ["Warning"], "limit": 1}))
        .await;
    assert_eq!(warn["events"].as_array().unwrap().len(), 1);
    assert_eq!(warn["total"], 2);
    assert_eq!(warn["events"][0]["type"], "Warning");
    let recent = c
        .call_ok("get_events", json!({"namespace": ns, "since": "2m"}))
        .await;
    assert!(
        recent["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["reason"] != "DiskTransferRetry"),
        "last seen 3 minutes ago: {recent}"
    );
    let everything = c.call_ok("get_events", json!({"namespace": ns})).await;
    assert_eq!(
        everything["total"], 3,
        "every Forklift event in the namespace"
    );
    let none = c
        .call(
            "get_events",
            json!({"namespace": ns, "kind": "Provider", "name": "vcenter-prod"}),
        )
        .await;
    assert!(
        text(&none).contains("No events about Provider vcenter-prod"),
        "{}",
        text(&none)
    );
    let err = c
        .call_err("get_events", json!({"namespace": ns, "types": ["Error"]}))
        .await;
    assert!(err.contains("Normal") && err.contains("Warning"), "{err}");
}

/// A TCP server that accepts connections and never answers.
async fn black_hole() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    port
}

#[tokio::test]
async fn get_logs_finds_pods_and_fails_clearly_without_a_kubelet() {
    let ns = fresh_namespace("wf-logs").await;
    sample_estate(&ns);
    let mut c = StdioClient::admin(&["--kubelet-timeout", "3"]).await;
    // The plan's conversion pod is found by its label; it never ran: an
    // answer ("no logs yet"), not a failure.
    let r = c
        .call_ok(
            "get_logs",
            json!({"namespace": ns, "plan": "web-tier-migration"}),
        )
        .await;
    assert_eq!(r["pods"][0]["pod"], "web-tier-migration-vm-2002-v2v", "{r}");
    assert!(
        r["pods"][0]["note"]
            .as_str()
            .unwrap()
            .contains("not scheduled on a node"),
        "{r}"
    );
    let r = c
        .call(
            "get_logs",
            json!({"namespace": ns, "plan": "db-tier-migration"}),
        )
        .await;
    assert_eq!(r["isError"], false);
    assert!(
        text(&r).contains("No migration pods") && text(&r).contains("plan=<plan uid>"),
        "{}",
        text(&r)
    );

    // A controller pod on a node whose kubelet never answers: a clear error
    // after --kubelet-timeout, not a hang.
    let port = black_hole().await;
    let admin = common::admin_client().await;
    let nodes: kube::Api<k8s_openapi::api::core::v1::Node> = kube::Api::all(admin.clone());
    let node_name = format!("{ns}-node");
    let node: k8s_openapi::api::core::v1::Node = serde_json::from_value(json!({
        "metadata": {"name": node_name}}))
    .unwrap();
    nodes.create(&Default::default(), &node).await.unwrap();
    nodes
        .patch_status(
            &node_name,
            &Default::default(),
            &kube::api::Patch::Merge(json!({"status": {
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": port}}}})),
        )
        .await
        .unwrap();
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(admin, &ns);
    let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({
        "metadata": {"name": "forklift-controller-0", "labels": {"app": "forklift", "control-plane": "controller-manager"}},
        "spec": {"nodeName": node_name, "containers": [
            {"name": "main", "image": "forklift-controller"}, {"name": "inventory", "image": "forklift-controller"}]}}))
    .unwrap();
    pods.create(&Default::default(), &pod).await.unwrap();
    let started = std::time::Instant::now();
    let r = c.call("get_logs", json!({"namespace": ns})).await;
    let t = text(&r);
    assert_eq!(r["isError"], true, "{t}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        t.contains("forklift-controller") && t.contains("container main") && t.contains(&node_name),
        "{t}"
    );
    assert!(t.contains("did not answer within 3 s"), "{t}");
    // A pod by name, and a regex that does not compile.
    let err = c
        .call_err("get_logs", json!({"namespace": ns, "pod": "nope"}))
        .await;
    assert!(err.contains("does not exist"), "{err}");
    let err = c
        .call_err("get_logs", json!({"namespace": ns, "grep": "(unclosed"}))
        .await;
    assert!(err.contains("not a valid regular expression"), "{err}");
}

#[tokio::test]
async fn workflow_tools_are_refused_for_a_limited_identity() {
    let ns = fresh_namespace("wf-rbac").await;
    sample_estate(&ns);
    let env = common::testenv();
    let mut c = StdioClient::spawn(
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
    c.initialize().await;
    for (tool, args) in [
        (
            "describe_plan",
            json!({"name": "web-tier-migration", "namespace": ns}),
        ),
        (
            "start_plan",
            json!({"name": "db-tier-migration", "namespace": ns}),
        ),
        (
            "watch_plan",
            json!({"name": "web-tier-migration", "namespace": ns, "timeout_seconds": 5}),
        ),
        ("get_events", json!({"namespace": ns})),
    ] {
        let err = c.call_err(tool, args).await;
        assert!(err.contains("Forbidden (403)"), "{tool}: {err}");
        assert!(!err.contains(&env.limited_token), "{tool}: token in error");
    }
    assert_eq!(migrations_of(&ns).await.len(), 1);
}
