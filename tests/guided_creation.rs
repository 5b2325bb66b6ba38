//! Guided creation against the local API server and the inventory double:
//! create_plan from VM names or a query with maps built from the inventory,
//! reference checks, nothing left behind on failure; create_provider and
//! patch_provider with credentials from the server's environment.

mod common;

use common::inventory::Double;
use common::{admin_client, fresh_namespace, testenv, text, StdioClient};
use kube::api::{Api, DynamicObject};
use serde_json::{json, Value};

async fn list(plural: &str, ns: &str) -> Vec<Value> {
    let r = kubectl_mtv::catalogue::find_resource(plural).unwrap();
    let api: Api<DynamicObject> = Api::namespaced_with(admin_client().await, ns, &r.api_resource());
    api.list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|o| serde_json::to_value(o).unwrap())
        .collect()
}

async fn names(plural: &str, ns: &str) -> Vec<String> {
    list(plural, ns)
        .await
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_plan_from_vm_names_with_maps_built_from_the_inventory() {
    let double = Double::start(&[], false).await;
    let ns = double.estate("gc-names").await;
    let mut c = double.client(&[]).await;
    let r = c
        .call_ok("create_plan", json!({"name": "web", "namespace": ns, "source_provider": "vc", "vms": ["web-01", "vm-2002"]}))
        .await;
    assert_eq!(
        r["vms"],
        json!([{"id": "vm-2001", "name": "web-01"}, {"id": "vm-2002", "name": "web-02"}])
    );
    let plan = common::forklift::get("plans", &ns, "web").await;
    let spec = &plan["spec"];
    assert_eq!(
        spec["vms"],
        json!([{"id": "vm-2001", "name": "web-01"}, {"id": "vm-2002", "name": "web-02"}])
    );
    assert_eq!(
        spec["provider"],
        json!({"source": {"name": "vc", "namespace": ns}, "destination": {"name": "host", "namespace": ns}})
    );
    assert_eq!(
        spec["map"],
        json!({"network": {"name": "web-network", "namespace": ns}, "storage": {"name": "web-storage", "namespace": ns}})
    );
    assert_eq!(spec["targetNamespace"], ns);
    let nm = common::forklift::get("networkmaps", &ns, "web-network").await;
    assert_eq!(
        nm["spec"]["map"],
        json!([{"source": {"id": "dvportgroup-61", "name": "app-vlan20"}, "destination": {"type": "pod"}},
               {"source": {"id": "network-51", "name": "VM Network"}, "destination": {"type": "ignored"}}])
    );
    let sm = common::forklift::get("storagemaps", &ns, "web-storage").await;
    assert_eq!(
        sm["spec"]["map"],
        json!([{"source": {"id": "datastore-71", "name": "ds-vmfs-01"}, "destination": {"storageClass": "ceph-rbd-virt"}}])
    );
    for m in [&nm, &sm] {
        assert_eq!(
            m["metadata"]["ownerReferences"][0]["uid"], plan["metadata"]["uid"],
            "the plan owns its maps"
        );
    }
    let t = text(
        &c.call("describe_plan", json!({"name": "web", "namespace": ns}))
            .await,
    );
    // Every reference resolves (no controller here marks the maps Ready).
    assert!(
        t.contains(&format!(
            "network map NetworkMap web-network in {ns}: not Ready"
        )),
        "{t}"
    );
    assert!(!t.contains("MISSING"), "{t}");

    // A multus network and a chosen storage class.
    c.call_ok(
        "create_plan",
        json!({"name": "db", "namespace": ns, "source_provider": "vc", "vms": ["db-01"], "target_network": "vm-migrations/vlan30-bridge",
               "storage_class": "nfs-csi", "warm": true, "target_power_state": "on", "description": "databases"}),
    )
    .await;
    let nm = common::forklift::get("networkmaps", &ns, "db-network").await;
    assert_eq!(
        nm["spec"]["map"][0]["destination"],
        json!({"type": "multus", "name": "vlan30-bridge", "namespace": "vm-migrations"})
    );
    assert_eq!(
        common::forklift::get("storagemaps", &ns, "db-storage").await["spec"]["map"][0]
            ["destination"]["storageClass"],
        "nfs-csi"
    );
    let db = common::forklift::get("plans", &ns, "db").await;
    assert_eq!(
        (
            db["spec"]["type"].clone(),
            db["spec"]["targetPowerState"].clone()
        ),
        (json!("warm"), json!("on"))
    );
}

#[tokio::test]
async fn an_unknown_vm_is_refused_and_nothing_is_created() {
    let double = Double::start(&[], false).await;
    let ns = double.estate("gc-unknown").await;
    let mut c = double.client(&[]).await;
    let err = c
        .call_err("create_plan", json!({"name": "web", "namespace": ns, "source_provider": "vc", "vms": ["web-01", "web-1O"]}))
        .await;
    assert!(
        err.contains("\"web-1O\" (close: web-01") && err.contains("Nothing was created"),
        "{err}"
    );
    assert!(names("plans", &ns).await.is_empty());
    assert!(
        names("networkmaps", &ns).await.is_empty() && names("storagemaps", &ns).await.is_empty()
    );
    // Neither vms nor vm_query; both spec and the guided form.
    let err = c
        .call_err(
            "create_plan",
            json!({"name": "x", "namespace": ns, "source_provider": "vc"}),
        )
        .await;
    assert!(err.contains("vms") && err.contains("vm_query"), "{err}");
    let err = c
        .call_err("create_plan", json!({"name": "x", "namespace": ns, "source_provider": "vc", "vms": ["web-01"], "spec": {}}))
        .await;
    assert!(err.contains("not both"), "{err}");
}

#[tokio::test]
async fn vm_query_selects_and_dry_run_creates_nothing() {
    let double = Double::start(&[], false).await;
    let ns = double.estate("gc-query").await;
    let mut c = double.client(&[]).await;
    let r = c
        .call_ok("create_plan", json!({"name": "big", "namespace": ns, "source_provider": "vc", "vm_query": "where memoryMB > 8192", "dry_run": true}))
        .await;
    assert_eq!(
        r["vms"],
        json!([{"id": "vm-2004", "name": "db-01"}, {"id": "vm-2005", "name": "db-02"}, {"id": "vm-2006", "name": "app-01"}])
    );
    assert_eq!(r["dryRun"], true);
    assert_eq!(
        r["plan"]["spec"]["vms"].as_array().unwrap().len(),
        3,
        "the would-be Plan is returned"
    );
    assert!(
        r["maps"]["NetworkMap"]["object"]["spec"]["map"].is_array(),
        "and its maps: {r}"
    );
    assert!(names("plans", &ns).await.is_empty(), "dry run: no plan");
    assert!(
        names("networkmaps", &ns).await.is_empty() && names("storagemaps", &ns).await.is_empty(),
        "dry run: no maps"
    );
    let err = c
        .call_err("create_plan", json!({"name": "none", "namespace": ns, "source_provider": "vc", "vm_query": "where memoryMB > 99999999"}))
        .await;
    assert!(err.contains("matched no VM"), "{err}");
}

#[tokio::test]
async fn existing_maps_are_reused_and_missing_references_refused() {
    let double = Double::start(&[], false).await;
    let ns = double.estate("gc-refs").await;
    let mut c = double.client(&[]).await;
    c.call_ok(
        "create_plan",
        json!({"name": "first", "namespace": ns, "source_provider": "vc", "vms": ["web-01"]}),
    )
    .await;
    c.call_ok(
        "create_plan",
        json!({"name": "second", "namespace": ns, "source_provider": "vc", "vms": ["web-03"], "network_map": "first-network", "storage_map": "first-storage"}),
    )
    .await;
    assert_eq!(
        names("networkmaps", &ns).await,
        ["first-network"],
        "reused, not rebuilt"
    );
    assert_eq!(
        common::forklift::get("plans", &ns, "second").await["spec"]["map"]["network"]["name"],
        "first-network"
    );

    let err = c
        .call_err("create_plan", json!({"name": "third", "namespace": ns, "source_provider": "vc", "vms": ["web-03"], "network_map": "nope"}))
        .await;
    assert!(
        err.contains("NetworkMap") && err.contains("nope") && err.contains("does not exist"),
        "{err}"
    );
    let err = c.call_err("create_plan", json!({"name": "third", "namespace": ns, "source_provider": "vcenter", "vms": ["web-03"]})).await;
    assert!(err.contains("Provider \"vcenter\" does not exist"), "{err}");
    // In the spec form, a VM name given as an id is caught, with the id to write.
    let by_name = json!({"provider": {"source": {"name": "vc", "namespace": ns}, "destination": {"name": "host", "namespace": ns}},
                         "map": {"network": {"name": "first-network", "namespace": ns}, "storage": {"name": "first-storage", "namespace": ns}},
                         "targetNamespace": ns, "vms": [{"id": "web-03"}]});
    let err = c
        .call_err(
            "create_plan",
            json!({"name": "by-name", "namespace": ns, "spec": by_name}),
        )
        .await;
    assert!(
        err.contains("spec.vms[0].id \"web-03\" is a VM name, not an id")
            && err.contains("{\"id\": \"vm-"),
        "{err}"
    );
    assert!(!names("plans", &ns).await.contains(&"by-name".to_owned()));
    // The spec form is checked too.
    let spec = json!({"provider": {"source": {"name": "gone", "namespace": ns}, "destination": {"name": "host", "namespace": ns}},
                      "map": {"network": {"name": "first-network", "namespace": ns}, "storage": {"name": "first-storage", "namespace": ns}},
                      "targetNamespace": ns, "vms": [{"id": "vm-2001"}]});
    let err = c
        .call_err(
            "create_plan",
            json!({"name": "spec-form", "namespace": ns, "spec": spec}),
        )
        .await;
    assert!(
        err.contains("source provider Provider")
            && err.contains("gone")
            && err.contains("allow_missing_references"),
        "{err}"
    );
    assert!(!names("plans", &ns).await.contains(&"spec-form".to_owned()));
    let r = c.call("create_plan", json!({"name": "spec-form", "namespace": ns, "spec": spec, "allow_missing_references": true})).await;
    assert_eq!(r["isError"], false, "{}", text(&r));
    assert!(
        text(&r).contains("Warning: the source provider"),
        "{}",
        text(&r)
    );
    // Patches and maps: a patch naming a missing map is refused.
    let err = c
        .call_err("patch_plan", json!({"name": "first", "namespace": ns, "patch": {"spec": {"map": {"storage": {"name": "missing-sm", "namespace": ns}}}}}))
        .await;
    assert!(err.contains("missing-sm"), "{err}");
    let err = c
        .call_err("create_networkmap", json!({"name": "nm2", "namespace": ns, "spec": {"provider": {"source": {"name": "nope", "namespace": ns}, "destination": {"name": "host", "namespace": ns}}, "map": []}}))
        .await;
    assert!(err.contains("Provider") && err.contains("nope"), "{err}");
}

#[tokio::test]
async fn a_failure_between_the_maps_and_the_plan_leaves_nothing_behind() {
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    let double = Double::start(&[], false).await;
    let ns = double.estate("gc-undo").await;
    let env = testenv();
    // The limited identity may make maps here, but not plans.
    let c0 = admin_client().await;
    let role: Role = serde_json::from_value(json!({"metadata": {"name": "maps-only"}, "rules": [
        {"apiGroups": ["forklift.konveyor.io"], "resources": ["providers", "plans"], "verbs": ["get", "list"]},
        {"apiGroups": ["forklift.konveyor.io"], "resources": ["networkmaps", "storagemaps"], "verbs": ["get", "list", "create", "delete", "patch"]}]})).unwrap();
    Api::<Role>::namespaced(c0.clone(), &ns)
        .create(&Default::default(), &role)
        .await
        .unwrap();
    let rb: RoleBinding = serde_json::from_value(json!({"metadata": {"name": "maps-only"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "maps-only"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "limited"}]})).unwrap();
    Api::<RoleBinding>::namespaced(c0, &ns)
        .create(&Default::default(), &rb)
        .await
        .unwrap();
    let mut c = StdioClient::spawn(
        &[
            "mcp-server",
            "--server",
            &env.server,
            "--token",
            &env.limited_token,
            "--certificate-authority",
            env.ca.to_str().unwrap(),
            "--inventory-url",
            &double.url,
        ],
        &[],
    )
    .await;
    c.initialize().await;
    let err = c
        .call_err(
            "create_plan",
            json!({"name": "web", "namespace": ns, "source_provider": "vc", "vms": ["web-01"]}),
        )
        .await;
    assert!(
        err.contains("Forbidden (403)") && err.contains("deleted again"),
        "{err}"
    );
    assert!(
        names("networkmaps", &ns).await.is_empty(),
        "the NetworkMap made first was deleted"
    );
    assert!(
        names("storagemaps", &ns).await.is_empty(),
        "the StorageMap too"
    );
    assert!(names("plans", &ns).await.is_empty());
}

async fn secrets(ns: &str) -> Vec<k8s_openapi::api::core::v1::Secret> {
    let api: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(admin_client().await, ns);
    api.list(&Default::default()).await.unwrap().items
}

#[tokio::test]
async fn providers_with_credentials_from_the_environment() {
    let ns = fresh_namespace("gc-prov").await;
    let env = testenv();
    let kc = env.kubeconfig.to_str().unwrap().to_owned();
    let pw = "s3cr3t-from-the-env";
    let mut c = StdioClient::spawn(
        &["-v", "3", "mcp-server"],
        &[
            ("KUBECONFIG", &kc),
            ("VC_PASS", pw),
            ("VC_PASS2", "rotated-pw-2"),
            ("MTV_VDDK_INIT_IMAGE", "registry.example.com/vddk:8.0.3"),
        ],
    )
    .await;
    c.initialize().await;
    let r = c
        .call("create_provider", json!({"name": "vc", "namespace": ns, "type": "vsphere", "url": "https://vcenter.example.com/sdk",
                                        "username": "admin@vsphere.local", "password": "${VC_PASS}", "insecure_skip_verify": true}))
        .await;
    assert_eq!(r["isError"], false, "{}", text(&r));
    assert!(
        !r.to_string().contains(pw),
        "the password is in no result: {r}"
    );
    let provider = common::forklift::get("providers", &ns, "vc").await;
    assert_eq!(
        provider["spec"]["settings"]["vddkInitImage"],
        "registry.example.com/vddk:8.0.3"
    );
    let sname = provider["spec"]["secret"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = secrets(&ns)
        .await
        .into_iter()
        .find(|s| s.metadata.name.as_deref() == Some(&sname))
        .unwrap();
    let data = secret.data.clone().unwrap();
    assert_eq!(data["password"].0, pw.as_bytes());
    assert_eq!(data["user"].0, b"admin@vsphere.local");
    assert_eq!(data["insecureSkipVerify"].0, b"true");
    let owner = &secret.metadata.owner_references.clone().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str()),
        ("Provider", provider["metadata"]["uid"].as_str().unwrap())
    );
    assert_eq!(
        r["structuredContent"]["credentialsSecret"]["data"]["password"],
        "****"
    );

    // Rotating the password updates the Secret.
    let r = c
        .call(
            "patch_provider",
            json!({"name": "vc", "namespace": ns, "password": "${VC_PASS2}"}),
        )
        .await;
    assert_eq!(r["isError"], false, "{}", text(&r));
    assert!(!r.to_string().contains("rotated-pw-2"));
    let secret = secrets(&ns)
        .await
        .into_iter()
        .find(|s| s.metadata.name.as_deref() == Some(&sname))
        .unwrap();
    assert_eq!(secret.data.unwrap()["password"].0, b"rotated-pw-2");

    // An unset variable, a type typo, a missing CA: refused, nothing created.
    let before = secrets(&ns).await.len();
    let err = c
        .call_err("create_provider", json!({"name": "vc2", "namespace": ns, "type": "vsphere", "url": "https://x/sdk", "username": "u", "password": "${NOT_SET_ANYWHERE}", "insecure_skip_verify": true}))
        .await;
    assert!(
        err.contains("NOT_SET_ANYWHERE") && err.contains("environment"),
        "{err}"
    );
    let err = c.call_err("create_provider", json!({"name": "vc2", "namespace": ns, "type": "vsphre", "url": "https://x/sdk", "username": "u", "password": "p"})).await;
    assert!(err.contains("Did you mean vsphere?"), "{err}");
    let err = c.call_err("create_provider", json!({"name": "vc2", "namespace": ns, "type": "vsphere", "url": "https://x/sdk", "username": "u", "password": "p"})).await;
    assert!(err.contains("cacert"), "{err}");
    let err = c
        .call_err(
            "create_provider",
            json!({"name": "vc2", "namespace": ns, "spec": {"type": "openshfit", "secret": {}}}),
        )
        .await;
    assert!(
        err.contains("Did you mean openshift?"),
        "the spec form checks the type too: {err}"
    );
    // The Provider cannot be made (it exists): its new Secret is deleted again.
    let err = c
        .call_err("create_provider", json!({"name": "vc", "namespace": ns, "type": "vsphere", "url": "https://x/sdk", "username": "u", "password": "p", "insecure_skip_verify": true}))
        .await;
    assert!(err.contains("Already exists (409)"), "{err}");
    assert_eq!(secrets(&ns).await.len(), before, "no Secret left behind");
    assert!(common::forklift::get("providers", &ns, "vc")
        .await
        .is_object());

    // The spec form of a vSphere provider gets the default VDDK image too.
    c.call_ok("create_provider", json!({"name": "vc3", "namespace": ns, "spec": {"type": "vsphere", "url": "https://y/sdk", "secret": {"name": sname, "namespace": ns}}})).await;
    assert_eq!(
        common::forklift::get("providers", &ns, "vc3").await["spec"]["settings"]["vddkInitImage"],
        "registry.example.com/vddk:8.0.3"
    );
    // An OpenShift host provider needs no Secret.
    c.call_ok(
        "create_provider",
        json!({"name": "host", "namespace": ns, "type": "openshift"}),
    )
    .await;

    let stderr = c.stderr.lock().unwrap().clone();
    assert!(
        !stderr.contains(pw) && !stderr.contains("rotated-pw-2"),
        "no secret in the logs at -v 3"
    );
}
