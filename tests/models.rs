//! Every generated model round-trips a realistic sample of its kind through
//! serde without loss, and every sample follows its CRD schema.

use std::collections::BTreeSet;

use kubectl_mtv::catalogue::{find_resource, resources};
use kubectl_mtv::tools::validate;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

fn fixture(plural: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/{plural}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn round_trip<T: DeserializeOwned + Serialize>(plural: &str) {
    let original = fixture(plural);
    let typed: T = serde_json::from_value(original.clone())
        .unwrap_or_else(|e| panic!("{plural}: fixture does not fit the model: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(back, original, "{plural}: round trip lost or changed data");
    let r = find_resource(plural).unwrap();
    validate::check_spec(r, &original["spec"])
        .unwrap_or_else(|e| panic!("{plural}: fixture violates the CRD schema:\n{e}"));
    assert_eq!(original["kind"], r.kind);
}

#[test]
fn every_kind_round_trips_its_sample() {
    let mut seen = BTreeSet::new();
    macro_rules! check {
        ($m:ident, $t:ident, $p:literal) => {
            round_trip::<kubectl_mtv::generated::models::$m::$t>($p);
            seen.insert($p);
        };
    }
    kubectl_mtv::for_each_model!(check);
    let all: BTreeSet<&str> = resources().iter().map(|r| r.plural).collect();
    assert_eq!(seen, all);
    assert_eq!(all.len(), 14);
}

#[test]
fn typed_models_keep_kube_metadata() {
    use kube::Resource;
    use kubectl_mtv::generated::models::plans::Plan;
    assert_eq!(Plan::kind(&()), "Plan");
    assert_eq!(Plan::group(&()), "forklift.konveyor.io");
    assert_eq!(Plan::plural(&()), "plans");
    let plan: Plan = serde_json::from_value(fixture("plans")).unwrap();
    assert_eq!(plan.spec.target_namespace, "web");
    assert_eq!(plan.spec.vms.len(), 2);
}
