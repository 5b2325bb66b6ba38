//! Against the local kube-apiserver: the CRDs are Established, and one sample
//! of every kind is created, read back and deleted through kube-rs with the
//! generated typed models.

mod common;

use std::fmt::Debug;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::NamespaceResourceScope;
use kube::api::{Api, DeleteParams, PostParams};
use kubectl_mtv::catalogue::resources;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

/// Every field of `expected` is in `actual` with the same value (the server may add defaults).
fn assert_subset(expected: &Value, actual: &Value, path: &str) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                let next = format!("{path}.{k}");
                let got = a
                    .get(k)
                    .unwrap_or_else(|| panic!("{next} missing after the round trip"));
                assert_subset(v, got, &next);
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(e.len(), a.len(), "{path}: array length");
            for (i, (x, y)) in e.iter().zip(a).enumerate() {
                assert_subset(x, y, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(expected, actual, "{path}"),
    }
}

async fn typed_crud<K>(plural: &str, client: &kube::Client, ns: &str)
where
    K: kube::Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + Debug
        + DeserializeOwned
        + Serialize,
{
    let sample = common::fixture(plural);
    let obj: K = serde_json::from_value(sample.clone()).unwrap();
    let name = sample["metadata"]["name"].as_str().unwrap();
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    let created = api
        .create(&PostParams::default(), &obj)
        .await
        .unwrap_or_else(|e| panic!("{plural}: create: {e}"));
    assert_eq!(created.meta().namespace.as_deref(), Some(ns));
    let got = serde_json::to_value(
        api.get(name)
            .await
            .unwrap_or_else(|e| panic!("{plural}: get: {e}")),
    )
    .unwrap();
    assert_subset(&sample["spec"], &got["spec"], &format!("{plural}: spec"));
    assert_eq!(got["metadata"]["name"], name);
    api.delete(name, &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("{plural}: delete: {e}"));
    match api.get_opt(name).await.unwrap() {
        None => {}
        Some(o) => assert!(
            o.meta().deletion_timestamp.is_some(),
            "{plural}: still there after delete"
        ),
    }
}

#[tokio::test]
async fn all_crds_are_established() {
    let client = common::admin_client().await;
    let api: Api<CustomResourceDefinition> = Api::all(client);
    for r in resources() {
        let crd = api.get(&format!("{}.{}", r.plural, r.group)).await.unwrap();
        let established = crd
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True");
        assert!(established, "{} is not Established", r.plural);
    }
}

#[tokio::test]
async fn every_kind_is_created_read_and_deleted_with_typed_models() {
    let client = common::admin_client().await;
    let ns = common::fresh_namespace("models").await;
    let mut n = 0;
    macro_rules! crud {
        ($m:ident, $t:ident, $p:literal) => {
            typed_crud::<kubectl_mtv::generated::models::$m::$t>($p, &client, &ns).await;
            n += 1;
        };
    }
    kubectl_mtv::for_each_model!(crud);
    assert_eq!(n, resources().len());
}
