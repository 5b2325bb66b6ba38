//! The tool catalogue: a committed snapshot of tools/list (so a changed CRD
//! shows up as a reviewable diff) and the context budget.
//!
//! Refresh the snapshot after changing crds/ or the argument structs with:
//! `UPDATE_SNAPSHOTS=1 cargo test --test catalogue`

use kubectl_mtv::catalogue::resources;
use kubectl_mtv::tools::{CatalogueOptions, Registry, TOOLSETS};
use serde_json::Value;

/// The default tools/list (what most clients load into a model's context).
const DEFAULT_BUDGET: usize = 48 * 1024;
const DEFAULT_MAX_TOOLS: usize = 40;
/// Every toolset at once (`--toolsets all`).
const ALL_BUDGET: usize = 72 * 1024;

fn with(toolsets: &[&str]) -> Registry {
    Registry::with_options(&CatalogueOptions {
        toolsets: toolsets.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    })
}

fn bytes(reg: &Registry) -> usize {
    serde_json::to_string(&reg.list_json()).unwrap().len()
}

/// One committed snapshot per toolset, so a changed CRD or argument shows
/// up as a reviewable diff.
#[test]
fn each_toolset_matches_its_committed_snapshot() {
    for (name, _) in TOOLSETS {
        let path = format!(
            "{}/tests/snapshots/toolset-{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let actual = with(&[name]).list_json();
        let pretty = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&path, &pretty).unwrap();
        }
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{path} (create it with UPDATE_SNAPSHOTS=1)"));
        let committed_json: Value = serde_json::from_str(&committed).unwrap();
        assert!(
            committed_json == actual,
            "toolset {name} differs from {path}; review and refresh with UPDATE_SNAPSHOTS=1 cargo test --test catalogue"
        );
        assert_eq!(committed, pretty, "snapshot formatting drifted; refresh it");
    }
}

#[test]
fn the_default_catalogue_fits_its_budgets() {
    let reg = Registry::standard(false);
    let n = bytes(&reg);
    println!(
        "default: {} tools, {n} bytes; all: {} tools, {} bytes",
        reg.tools().len(),
        with(&["all"]).tools().len(),
        bytes(&with(&["all"]))
    );
    assert!(
        reg.tools().len() <= DEFAULT_MAX_TOOLS,
        "{} tools",
        reg.tools().len()
    );
    assert!(
        n <= DEFAULT_BUDGET,
        "default tools/list is {n} bytes, over {DEFAULT_BUDGET}"
    );
    let all = with(&["all"]);
    assert!(bytes(&all) <= ALL_BUDGET, "all: {} bytes", bytes(&all));
    // The toolsets partition the whole catalogue.
    let parts: usize = TOOLSETS.iter().map(|(t, _)| with(&[t]).tools().len()).sum();
    assert_eq!(parts, all.tools().len());
}

#[test]
fn catalogue_has_four_tools_per_crd_explain_and_the_workflows() {
    let reg = with(&["all"]);
    assert_eq!(resources().len(), 14);
    assert_eq!(reg.tools().len(), 4 * 14 + 1 + WORKFLOW_TOOLS.len());
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

/// The hand-written Forklift workflow and review tools.
const WORKFLOW_TOOLS: [&str; 15] = [
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
    "check_health",
    "check_access",
    "get_settings",
    "set_setting",
];

/// What left the default set stays reachable, and what does its job is
/// served by default.
#[test]
fn replaced_tools_name_default_tools_that_do_their_job() {
    let default = Registry::standard(false);
    let replaced = with(&["replaced"]);
    let names: Vec<&str> = replaced
        .tools()
        .iter()
        .map(|t| t.definition().name())
        .collect();
    assert_eq!(
        names,
        [
            "create_migration",
            "patch_migration",
            "delete_migration",
            "get_version"
        ]
    );
    for t in names {
        assert!(default.find(t).is_none(), "{t} left the default set");
        let by = kubectl_mtv::tools::registry::replaced_by(t).unwrap();
        for b in by.split(", ") {
            assert!(default.find(b).is_some(), "{t}: {b} is not a default tool");
        }
    }
}

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
        .args([
            "tools",
            "--json",
            "--toolsets",
            "operator,inventory",
            "--disable-destructive",
        ])
        .output()
        .unwrap();
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = printed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"get_forkliftcontrollers") && names.contains(&"get_inventory"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"delete_forkliftcontroller") && !names.contains(&"get_plans"),
        "{names:?}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-mtv"))
        .args(["tools", "--toolsets", "plans"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("resources, workflows, inventory, review, operator, replaced"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-mtv"))
        .args(["tools", "--toolsets", "all"])
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
