//! The tool catalogue: a committed snapshot of tools/list (so a changed CRD
//! shows up as a reviewable diff) and the context budget.
//!
//! Refresh the snapshot after changing crds/ or the argument structs with:
//! `UPDATE_SNAPSHOTS=1 cargo test --test catalogue`

use kubectl_mtv::catalogue::resources;
use kubectl_mtv::tools::Registry;
use serde_json::Value;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/tools.json");
/// The whole tools/list result must fit in this many bytes of JSON.
const BUDGET: usize = 64 * 1024;

#[test]
fn tools_list_matches_the_committed_snapshot() {
    let actual = Registry::standard(false).list_json();
    let pretty = serde_json::to_string_pretty(&actual).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, &pretty).unwrap();
    }
    let committed = std::fs::read_to_string(SNAPSHOT)
        .expect("tests/snapshots/tools.json (create it with UPDATE_SNAPSHOTS=1)");
    let committed_json: Value = serde_json::from_str(&committed).unwrap();
    assert!(
        committed_json == actual,
        "tools/list differs from tests/snapshots/tools.json; review and refresh with UPDATE_SNAPSHOTS=1 cargo test --test catalogue"
    );
    assert_eq!(committed, pretty, "snapshot formatting drifted; refresh it");
}

#[test]
fn catalogue_has_four_tools_per_crd_explain_and_the_workflows_within_budget() {
    let reg = Registry::standard(false);
    let json = serde_json::to_string(&reg.list_json()).unwrap();
    assert_eq!(resources().len(), 14);
    assert_eq!(reg.tools().len(), 4 * 14 + 1 + WORKFLOW_TOOLS.len());
    assert!(
        json.len() <= BUDGET,
        "tools/list is {} bytes, over {BUDGET}",
        json.len()
    );
    for r in resources() {
        for name in [
            format!("get_{}", r.plural),
            format!("create_{}", r.singular),
            format!("patch_{}", r.singular),
            format!("delete_{}", r.singular),
        ] {
            let t = reg.find(&name).unwrap_or_else(|| panic!("{name} missing"));
            let d = t.definition().json();
            assert!(
                d["title"].is_string() && d["description"].as_str().unwrap().contains(r.kind),
                "{name}"
            );
            for hint in ["readOnlyHint", "destructiveHint", "idempotentHint"] {
                assert!(d["annotations"][hint].is_boolean(), "{name}: {hint}");
            }
        }
    }
    for n in [
        "get_providers",
        "create_plan",
        "get_networkmaps",
        "patch_storagemap",
        "delete_migration",
        "explain_resource",
    ]
    .into_iter()
    .chain(WORKFLOW_TOOLS)
    {
        assert!(reg.find(n).is_some(), "{n}");
    }
}

/// The hand-written Forklift workflow tools.
const WORKFLOW_TOOLS: [&str; 11] = [
    "describe_plan",
    "watch_plan",
    "start_plan",
    "cutover_plan",
    "cancel_plan",
    "archive_plan",
    "unarchive_plan",
    "get_events",
    "get_logs",
    "get_inventory",
    "get_version",
];

#[test]
fn tools_json_command_prints_exactly_tools_list() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-mtv"))
        .args(["tools", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, Registry::standard(false).list_json());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-mtv"))
        .arg("tools")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 4 * 14 + 1 + WORKFLOW_TOOLS.len());
    assert!(text.lines().any(|l| l.starts_with("create_plan ")));
}

#[test]
fn version_command() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-mtv"))
        .args(["version", "-o", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["clientVersion"],
        format!("v{}", env!("CARGO_PKG_VERSION"))
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-mtv"))
        .arg("version")
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("kubectl-mtv version: v"));
}
