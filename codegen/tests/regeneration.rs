//! Dropping a CRD file into the folder is all it takes: the generator then
//! emits its models and four tools, and nothing else changes.

use std::path::Path;

use mtv_codegen::catalogue::Verb;
use quote::ToTokens;

fn models(source: &str) -> Vec<(String, String)> {
    let file = syn::parse_file(source).expect("generated source parses");
    let models = file
        .items
        .iter()
        .find_map(|i| match i {
            syn::Item::Mod(m) if m.ident == "models" => m.content.as_ref().map(|c| c.1.clone()),
            _ => None,
        })
        .expect("a models module");
    models
        .iter()
        .filter_map(|i| match i {
            syn::Item::Mod(m) => Some((m.ident.to_string(), m.to_token_stream().to_string())),
            _ => None,
        })
        .collect()
}

#[test]
fn adding_a_crd_adds_four_tools_and_its_models_and_changes_nothing_else() {
    let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crds");
    let base = mtv_codegen::generate(&crds, "OUT").unwrap();

    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&crds).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    let extra =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/example.io_widgets.yaml");
    std::fs::copy(&extra, dir.path().join("example.io_widgets.yaml")).unwrap();
    let grown = mtv_codegen::generate(dir.path(), "OUT").unwrap();

    assert_eq!(base.resources.len(), 14);
    assert_eq!(grown.resources.len(), 15);
    assert_eq!(base.tools.len(), 56);
    assert_eq!(grown.tools.len(), 60);

    // The new resource: its four tools, named by convention.
    let widget = grown
        .resources
        .iter()
        .position(|r| r.kind == "Widget")
        .unwrap();
    let mut names: Vec<(&str, Verb)> = grown
        .tools
        .iter()
        .filter(|t| t.resource == widget)
        .map(|t| (t.name.as_str(), t.verb))
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            ("create_widget", Verb::Create),
            ("delete_widget", Verb::Delete),
            ("get_widgets", Verb::Get),
            ("patch_widget", Verb::Patch)
        ]
    );

    // Every old tool and resource is unchanged.
    let old_tools: Vec<_> = grown
        .tools
        .iter()
        .filter(|t| t.resource != widget)
        .map(|t| (&t.name, &t.title, &t.description, t.verb))
        .collect();
    let base_tools: Vec<_> = base
        .tools
        .iter()
        .map(|t| (&t.name, &t.title, &t.description, t.verb))
        .collect();
    assert_eq!(old_tools, base_tools);
    let old_resources: Vec<_> = grown
        .resources
        .iter()
        .filter(|r| r.kind != "Widget")
        .map(|r| (&r.kind, &r.plural, &r.schema))
        .collect();
    let base_resources: Vec<_> = base
        .resources
        .iter()
        .map(|r| (&r.kind, &r.plural, &r.schema))
        .collect();
    assert_eq!(old_resources, base_resources);

    // Models: one new module, all old modules token-for-token the same.
    let base_models = models(&base.models_source);
    let grown_models = models(&grown.models_source);
    assert_eq!(grown_models.len(), base_models.len() + 1);
    for (name, tokens) in &base_models {
        let same = grown_models.iter().find(|(n, _)| n == name).map(|(_, t)| t);
        assert_eq!(same, Some(tokens), "module {name} changed");
    }
    let (_, widgets) = grown_models
        .iter()
        .find(|(n, _)| n == "widgets")
        .expect("widgets module");
    for needle in [
        "pub struct Widget",
        "pub struct WidgetSpec",
        "enum WidgetShape",
        "IntOrString",
        "BTreeMap",
        "pub struct WidgetStatus",
    ] {
        assert!(
            widgets.contains(needle) || widgets.replace(' ', "").contains(&needle.replace(' ', "")),
            "{needle} missing in widgets models"
        );
    }

    // Data files: the old ones are byte-identical, three new ones appear
    // (schema, summary and the digest drift checks compare).
    assert_eq!(grown.data.len(), base.data.len() + 3);
    for f in &base.data {
        let g = grown.data.iter().find(|g| g.name == f.name).unwrap();
        assert_eq!(g.contents, f.contents, "{}", f.name);
    }
    assert!(grown.source.contains("get_widgets") && grown.source.contains("\"wdg\""));
}

#[test]
fn summary_of_the_fixture_keeps_enum_and_required() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let g = mtv_codegen::generate(&dir, "OUT").unwrap();
    let s = &g.summaries[0];
    assert_eq!(s["required"], serde_json::json!(["shape"]));
    assert_eq!(
        s["properties"]["shape"]["enum"],
        serde_json::json!(["round", "square"])
    );
    assert_eq!(
        s["properties"]["size"]["type"],
        serde_json::json!(["integer", "string"])
    );
    assert_eq!(g.resources[0].summary, "A widget to be built.");
}

#[test]
fn a_new_crd_lands_in_the_operator_toolset_unless_declared() {
    let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crds");
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&crds).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    let extra =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/example.io_widgets.yaml");
    std::fs::copy(&extra, dir.path().join("example.io_widgets.yaml")).unwrap();
    let toolset_of = |g: &mtv_codegen::Generated, kind: &str| {
        g.resources
            .iter()
            .find(|r| r.kind == kind)
            .unwrap()
            .toolset
            .clone()
    };
    let g = mtv_codegen::generate(dir.path(), "OUT").unwrap();
    assert_eq!(toolset_of(&g, "Widget"), "operator");
    assert_eq!(toolset_of(&g, "Plan"), "resources");
    assert_eq!(toolset_of(&g, "ForkliftController"), "operator");
    // Declaring it moves it; a kind no CRD declares is an error.
    let file = dir.path().join(mtv_codegen::toolsets::FILE);
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("Hook]", "Hook, Widget]")).unwrap();
    let g = mtv_codegen::generate(dir.path(), "OUT").unwrap();
    assert_eq!(toolset_of(&g, "Widget"), "resources");
    // Replaced tools leave the default toolset; a name that is no tool is an error.
    let g = mtv_codegen::generate(dir.path(), "OUT").unwrap();
    let t = g
        .tools
        .iter()
        .find(|t| t.name == "create_migration")
        .unwrap();
    assert_eq!(
        (t.toolset.as_str(), t.replaced_by.as_str()),
        ("replaced", "start_plan")
    );
    std::fs::write(&file, format!("{text}\n  create_migraton: start_plan\n")).unwrap();
    let err = mtv_codegen::generate(dir.path(), "OUT")
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("create_migraton"), "{err}");
    // The operator's settings come from the ForkliftController CRD.
    assert!(g.settings.len() > 100);
    let s = g
        .settings
        .iter()
        .find(|s| s.name == "controller_max_vm_inflight")
        .unwrap();
    assert_eq!((s.group.as_str(), s.default.as_str()), ("controller", "20"));
    std::fs::write(&file, "resources: [Plan, Plann]\n").unwrap();
    let err = mtv_codegen::generate(dir.path(), "OUT")
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("Plann"), "{err}");
}
