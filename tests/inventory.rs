//! get_inventory and version against the local API server (Provider CRs
//! made Ready through the status subresource) and the project's inventory
//! double: resource mappings, upstream's query examples, whose token reaches
//! the inventory, each error status, and how the service is found.

mod common;

use std::time::Duration;

use common::http::HttpServer;
use common::inventory::{ready_provider, Double};
use common::{fresh_namespace, testenv, text, StdioClient};
use serde_json::{json, Value};

fn names(r: &Value) -> Vec<String> {
    r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn every_resource_of_a_vsphere_and_an_openshift_provider() {
    let double = Double::start(&[], false).await;
    let ns = double.estate("inv-map").await;
    let mut c = double.client(&[]).await;
    for (provider, resource, collection, count) in [
        ("vc", "vms", "vms", 6),
        ("vc", "network", "networks", 4),
        ("vc", "storage", "datastores", 2),
        ("vc", "datastores", "datastores", 2),
        ("vc", "host", "hosts", 2),
        ("vc", "cluster", "clusters", 1),
        ("vc", "datacenter", "datacenters", 1),
        ("vc", "folders", "folders", 8),
        ("host", "vm", "vms", 2),
        ("host", "namespace", "namespaces", 5),
        ("host", "storage", "storageclasses", 3),
        ("host", "network", "networkattachmentdefinitions", 3),
        ("host", "pvc", "persistentvolumeclaims", 3),
        ("host", "data-volume", "datavolumes", 3),
    ] {
        let r = c
            .call_ok(
                "get_inventory",
                json!({"provider": provider, "namespace": ns, "resource": resource}),
            )
            .await;
        assert_eq!(r["collection"], collection, "{provider} {resource}");
        assert_eq!(r["matched"], count, "{provider} {resource}: {r}");
    }
    let vms = c
        .call_ok(
            "get_inventory",
            json!({"provider": "vc", "namespace": ns, "resource": "vm"}),
        )
        .await;
    let db01 = vms["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "db-01")
        .unwrap()
        .clone();
    assert_eq!(db01["id"], "vm-2004");
    assert_eq!(db01["powerStateHuman"], "On");
    assert_eq!(db01["memoryGB"], "32.0 GB");
    assert_eq!(db01["diskCapacityGB"], 600.0);
    assert_eq!(db01["concernsHuman"], "1/1/0 (*)");
    assert!(
        !names(&vms).contains(&"rhel9-template".to_owned()),
        "templates are not VMs to migrate"
    );
    // One by name or id; a near miss suggests the real name.
    let one = c
        .call_ok(
            "get_inventory",
            json!({"provider": "vc", "namespace": ns, "resource": "vm", "name": "vm-2002"}),
        )
        .await;
    assert_eq!(names(&one), ["web-02"]);
    let err = c
        .call_err(
            "get_inventory",
            json!({"provider": "vc", "namespace": ns, "resource": "vm", "name": "web"}),
        )
        .await;
    assert!(err.contains("close: web-01, web-02, web-03"), "{err}");
    // Fields and whole objects.
    let f = c
        .call_ok("get_inventory", json!({"provider": "vc", "namespace": ns, "resource": "vm", "name": "web-01", "fields": ["disks", "firmware"]}))
        .await;
    assert_eq!(f["items"][0]["firmware"], "efi");
    assert_eq!(f["items"][0]["disks"][0]["datastore"]["id"], "datastore-71");
    // A pair the provider type does not have lists what it has.
    let err = c
        .call_err(
            "get_inventory",
            json!({"provider": "vc", "namespace": ns, "resource": "pvc"}),
        )
        .await;
    assert!(
        err.contains("A vsphere provider has no pvc") && err.contains("datacenter"),
        "{err}"
    );
    let err = c
        .call_err(
            "get_inventory",
            json!({"provider": "vc", "namespace": ns, "resource": "widgets"}),
        )
        .await;
    assert!(
        err.contains("not an inventory resource") && err.contains("vm, network, storage"),
        "{err}"
    );
}

#[tokio::test]
async fn upstreams_query_examples_are_answered_exactly() {
    let double = Double::start(&[], false).await;
    let ns = double.estate("inv-query").await;
    let mut c = double.client(&[]).await;
    let q =
        |query: &str| json!({"provider": "vc", "namespace": ns, "resource": "vms", "query": query});
    let r = c
        .call_ok(
            "get_inventory",
            q("where powerState = 'poweredOn' and memoryMB > 8192"),
        )
        .await;
    assert_eq!(names(&r), ["db-01", "db-02"]);
    assert_eq!(
        (r["matched"].clone(), r["listed"].clone()),
        (json!(2), json!(6))
    );
    let r = c
        .call_ok(
            "get_inventory",
            q("where any(concerns[*].category = 'Critical')"),
        )
        .await;
    assert_eq!(names(&r), ["db-01"]);
    let r = c
        .call_ok("get_inventory", q("where sum(disks[*].capacity) > 100Gi"))
        .await;
    assert_eq!(names(&r), ["web-02", "db-01", "db-02"]);
    let r = c
        .call_ok(
            "get_inventory",
            q("select name, memoryMB as mem where memoryMB > 4096 order by mem desc limit 5"),
        )
        .await;
    assert_eq!(
        r["items"],
        json!([{"name": "db-01", "mem": 32768}, {"name": "db-02", "mem": 16384},
               {"name": "app-01", "mem": 16384}, {"name": "web-02", "mem": 8192}])
    );
    // Without a keyword the query is a where clause; limit and the text.
    let r = c
        .call("get_inventory", q("powerState = 'poweredOff'"))
        .await;
    assert!(
        text(&r).starts_with("2 of 2 vm(s) matching (6 listed)"),
        "{}",
        text(&r)
    );
    let r = c
        .call_ok(
            "get_inventory",
            json!({"provider": "vc", "namespace": ns, "resource": "vm", "limit": 2}),
        )
        .await;
    assert_eq!(
        (r["returned"].clone(), r["matched"].clone()),
        (json!(2), json!(6))
    );
    // A field no VM has (a typo, or a value left unquoted) is an error with
    // close names; when nothing matches, the compared field's values show.
    let err = c.call_err("get_inventory", q("where memory > 8192")).await;
    assert!(
        err.contains("no item has the field \"memory\"") && err.contains("memoryMB"),
        "{err}"
    );
    let err = c
        .call_err("get_inventory", q("where powerState == poweredOn"))
        .await;
    assert!(err.contains("quote it: 'poweredOn'"), "{err}");
    let r = c.call("get_inventory", q("where powerState = 'on'")).await;
    assert!(
        text(&r).starts_with("No vm matches")
            && text(&r).contains("powerState is one of: poweredOff, poweredOn"),
        "{}",
        text(&r)
    );
    // Totals over what matched; summary columns can be selected.
    let r = c
        .call_ok("get_inventory", q("where path ~= 'databases'"))
        .await;
    assert_eq!(r["totals"]["diskCapacityGB"], 900.0);
    assert_eq!(r["totals"]["vms"], 2);
    let r = c
        .call_ok(
            "get_inventory",
            q("select name, diskCapacityGB where diskCapacityGB > 500"),
        )
        .await;
    assert_eq!(
        r["items"],
        json!([{"name": "db-01", "diskCapacityGB": 600.0}])
    );
    // A malformed query points at the problem and nothing is fetched.
    double.clear_requests().await;
    let err = c.call_err("get_inventory", q("where memoryMB > ")).await;
    assert!(err.contains("position") && err.contains('^'), "{err}");
    assert!(
        double.requests().await.is_empty(),
        "nothing reached the inventory"
    );
}

#[tokio::test]
async fn the_callers_token_reaches_the_inventory() {
    let double = Double::start(&[], false).await;
    let ns = double.estate("inv-token").await;
    let env = testenv();
    // stdio: the kubeconfig's token.
    let mut c = double.client(&[]).await;
    double.clear_requests().await;
    c.call_ok(
        "get_inventory",
        json!({"provider": "vc", "namespace": ns, "resource": "vm"}),
    )
    .await;
    let tokens: Vec<Value> = double
        .requests()
        .await
        .iter()
        .map(|r| r["token"].clone())
        .collect();
    assert_eq!(tokens, [json!(env.admin_token)]);

    // HTTP: each caller's own bearer token, two callers at once. The
    // limited identity may read Providers here; the inventory denies it.
    grant_provider_reads(&ns, "limited").await;
    double
        .auth(json!({"deny": {env.limited_token.clone(): "limited"}}))
        .await;
    let kc = env.kubeconfig.to_str().unwrap().to_owned();
    let s = HttpServer::start(&["--inventory-url", &double.url], &[("KUBECONFIG", &kc)]).await;
    let admin = format!("Bearer {}", env.admin_token);
    let limited = format!("Bearer {}", env.limited_token);
    let (sa, sl) = (
        s.mcp_session(&[("Authorization", &admin)]).await,
        s.mcp_session(&[("Authorization", &limited)]).await,
    );
    double.clear_requests().await;
    let args = json!({"provider": "vc", "namespace": ns, "resource": "vm"});
    let (ha, hl) = (
        [("Authorization", admin.as_str())],
        [("Authorization", limited.as_str())],
    );
    let (ra, rl) = tokio::join!(
        s.call(&sa, &ha, "get_inventory", args.clone()),
        s.call(&sl, &hl, "get_inventory", args.clone()),
    );
    assert_eq!(ra["isError"], false, "{}", text(&ra));
    assert_eq!(ra["structuredContent"]["matched"], 6);
    assert_eq!(rl["isError"], true);
    let t = text(&rl);
    assert!(
        t.contains("Forbidden (403)") && t.contains("User \"limited\""),
        "{t}"
    );
    assert!(!t.contains(&env.limited_token), "no token in the error");
    let mut seen: Vec<String> = double
        .requests()
        .await
        .iter()
        .map(|r| r["token"].as_str().unwrap_or_default().to_owned())
        .collect();
    seen.sort();
    let mut want = vec![env.admin_token.clone(), env.limited_token.clone()];
    want.sort();
    assert_eq!(seen, want, "each caller's token, once each");
}

/// Lets `user` get and list Providers in `ns`.
async fn grant_provider_reads(ns: &str, user: &str) {
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    let c = common::admin_client().await;
    let roles: kube::Api<Role> = kube::Api::namespaced(c.clone(), ns);
    let role: Role = serde_json::from_value(json!({"metadata": {"name": "provider-reader"},
        "rules": [{"apiGroups": ["forklift.konveyor.io"], "resources": ["providers"], "verbs": ["get", "list"]}]})).unwrap();
    roles.create(&Default::default(), &role).await.unwrap();
    let bindings: kube::Api<RoleBinding> = kube::Api::namespaced(c, ns);
    let b: RoleBinding = serde_json::from_value(json!({"metadata": {"name": "provider-reader"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "provider-reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})).unwrap();
    bindings.create(&Default::default(), &b).await.unwrap();
}

#[tokio::test]
async fn each_failure_has_its_own_clear_error() {
    let double = Double::start(&[], false).await;
    let ns = double.estate("inv-errors").await;
    let env = testenv();
    let mut c = double.client(&[]).await;
    let vm = |p: &str| json!({"provider": p, "namespace": ns, "resource": "vm"});

    // 401: the service does not accept the token.
    double.auth(json!({"accept": ["some-other-token"]})).await;
    let err = c.call_err("get_inventory", vm("vc")).await;
    assert!(
        err.contains("Unauthorized (401)") && err.contains(&double.url),
        "{err}"
    );
    // 403, with the service's own message.
    double
        .auth(json!({"accept": null, "deny": {env.admin_token.clone(): "admin"}}))
        .await;
    let err = c.call_err("get_inventory", vm("vc")).await;
    assert!(
        err.contains("Forbidden (403)") && err.contains("cannot get resource \"providers\""),
        "{err}"
    );
    assert!(!err.contains(&env.admin_token));
    double.auth(json!({"deny": {}})).await;
    // 404 ProviderNotFound: a Ready CR the inventory has no collector for.
    ready_provider(&ns, "fresh", "vsphere").await;
    let err = c.call_err("get_inventory", vm("fresh")).await;
    assert!(
        err.contains("404 ProviderNotFound") && err.contains("connection test"),
        "{err}"
    );
    // 206: still loading; no list is passed off as the truth.
    let loading = ready_provider(&ns, "loading", "vsphere").await;
    double
        .register(
            "vsphere",
            &loading,
            "vsphere-main",
            &ns,
            "loading",
            "loading",
        )
        .await;
    let err = c.call_err("get_inventory", vm("loading")).await;
    assert!(
        err.contains("still loading") && err.contains("206"),
        "{err}"
    );
    // A Provider that is not Ready, and one that does not exist.
    common::forklift::set_status("providers", &ns, "fresh", json!({"conditions": [
        common::forklift::cond("ConnectionTestFailed", "Critical", "Could not connect to vcenter.")]})).await;
    let err = c.call_err("get_inventory", vm("fresh")).await;
    assert!(
        err.contains("not Ready") && err.contains("Could not connect to vcenter"),
        "{err}"
    );
    let err = c.call_err("get_inventory", vm("nope")).await;
    assert!(
        err.contains("does not exist") && err.contains("get_providers"),
        "{err}"
    );

    // Unreachable (nothing listens on port 9), and a TLS failure.
    let mut c = StdioClient::admin(&["--inventory-url", "http://127.0.0.1:9"]).await;
    let err = c.call_err("get_inventory", vm("vc")).await;
    assert!(
        err.contains("connection refused") && err.contains("--inventory-url"),
        "{err}"
    );
    // A certificate that does not name the host: served on 127.0.0.2, its
    // certificate is for 127.0.0.1 and localhost.
    let tls = Double::start(&["--host", "0.0.0.0"], true).await;
    let wrong_host = format!("https://127.0.0.2:{}", tls.port);
    let mut c = StdioClient::admin(&["--inventory-url", &wrong_host]).await;
    let err = c.call_err("get_inventory", vm("vc")).await;
    assert!(
        err.contains("TLS failure") && err.contains("--inventory-insecure-skip-tls"),
        "{err}"
    );
    // ... which --inventory-insecure-skip-tls accepts (this double does not know the provider).
    let mut c = StdioClient::admin(&[
        "--inventory-url",
        &wrong_host,
        "--inventory-insecure-skip-tls",
    ])
    .await;
    let err = c.call_err("get_inventory", vm("vc")).await;
    assert!(err.contains("404 ProviderNotFound"), "{err}");
}

#[tokio::test]
async fn an_https_inventory_is_trusted_through_the_kubeconfig_ca() {
    let ns = fresh_namespace("inv-tls").await;
    let uid = ready_provider(&ns, "vc", "vsphere").await;
    let provider = format!("vsphere={uid}:vsphere-main:{ns}/vc");
    let double = Double::start(&["--provider", &provider], true).await;
    assert!(double.url.starts_with("https://"));
    let mut c = double.client(&[]).await;
    let r = c
        .call_ok(
            "get_inventory",
            json!({"provider": "vc", "namespace": ns, "resource": "vm"}),
        )
        .await;
    assert_eq!(r["matched"], 6);
}

#[tokio::test]
async fn a_client_certificate_kubeconfig_has_no_token_to_pass() {
    let double = Double::start(&[], false).await;
    let env = testenv();
    let dir = tempfile::tempdir().unwrap();
    // A client certificate signed by the API server's client CA.
    let pki = env.dir.join("pki");
    let (key, csr, crt) = (
        dir.path().join("c.key"),
        dir.path().join("c.csr"),
        dir.path().join("c.crt"),
    );
    let run = |args: &[&std::ffi::OsStr]| {
        assert!(std::process::Command::new("openssl")
            .args(args)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .success());
    };
    use std::ffi::OsStr;
    run(&[
        OsStr::new("req"),
        OsStr::new("-new"),
        OsStr::new("-newkey"),
        OsStr::new("rsa:2048"),
        OsStr::new("-nodes"),
        OsStr::new("-subj"),
        OsStr::new("/CN=admin-cert/O=system:masters"),
        OsStr::new("-keyout"),
        key.as_os_str(),
        OsStr::new("-out"),
        csr.as_os_str(),
    ]);
    let ext = dir.path().join("c.ext");
    std::fs::write(&ext, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n").unwrap();
    run(&[
        OsStr::new("x509"),
        OsStr::new("-req"),
        OsStr::new("-extfile"),
        ext.as_os_str(),
        OsStr::new("-in"),
        csr.as_os_str(),
        OsStr::new("-CA"),
        pki.join("ca.crt").as_os_str(),
        OsStr::new("-CAkey"),
        pki.join("ca.key").as_os_str(),
        OsStr::new("-CAserial"),
        dir.path().join("ca.srl").as_os_str(),
        OsStr::new("-CAcreateserial"),
        OsStr::new("-days"),
        OsStr::new("1"),
        OsStr::new("-out"),
        crt.as_os_str(),
    ]);
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster: {{server: '{}', certificate-authority: '{}'}}\nusers:\n- name: u\n  user: {{client-certificate: '{}', client-key: '{}'}}\ncontexts:\n- name: c\n  context: {{cluster: t, user: u}}\ncurrent-context: c\n",
        env.server, env.ca.display(), crt.display(), key.display())).unwrap();
    let ns = fresh_namespace("inv-cert").await;
    let uid = ready_provider(&ns, "vc", "vsphere").await;
    double
        .register("vsphere", &uid, "vsphere-main", &ns, "vc", "ready")
        .await;
    let mut c = StdioClient::spawn(
        &["mcp-server", "--inventory-url", &double.url],
        &[("KUBECONFIG", kc.to_str().unwrap())],
    )
    .await;
    c.initialize().await;
    let err = c
        .call_err(
            "get_inventory",
            json!({"provider": "vc", "namespace": ns, "resource": "vm"}),
        )
        .await;
    assert!(
        err.contains("client certificate") && err.contains("--token"),
        "{err}"
    );
    // With --token it works.
    let mut c = StdioClient::spawn(
        &[
            "mcp-server",
            "--inventory-url",
            &double.url,
            "--token",
            &env.admin_token,
        ],
        &[("KUBECONFIG", kc.to_str().unwrap())],
    )
    .await;
    c.initialize().await;
    c.call_ok(
        "get_inventory",
        json!({"provider": "vc", "namespace": ns, "resource": "vm"}),
    )
    .await;
}

/// Applies the Route CRD once (idempotent) and waits until it is served.
async fn route_crd() {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let c = common::admin_client().await;
    let api: kube::Api<CustomResourceDefinition> = kube::Api::all(c);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/openshift/routes.route.openshift.io.yaml"
    ))
    .unwrap();
    let crd: CustomResourceDefinition = serde_yaml::from_str(&text).unwrap();
    let _ = api.create(&Default::default(), &crd).await;
    for _ in 0..100 {
        let got = api.get("routes.route.openshift.io").await.unwrap();
        let ok = got
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True");
        if ok {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the Route CRD was not established");
}

#[tokio::test]
async fn discovery_order_flag_env_route_in_cluster() {
    let double = Double::start(&[], false).await;
    let ns = double.estate("inv-find").await;
    let env = testenv();
    let kc = env.kubeconfig.to_str().unwrap().to_owned();
    let vm = json!({"provider": "vc", "namespace": ns, "resource": "vm"});
    // A Route in the user's namespace, pointing at an HTTPS twin of the double.
    route_crd().await;
    let tls_double = Double::start(&[], true).await;
    let host = tls_double.url.trim_start_matches("https://").to_owned();
    let routes = kube::Api::<kube::api::DynamicObject>::namespaced_with(
        common::admin_client().await,
        &ns,
        &kube::discovery::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk("route.openshift.io", "v1", "Route"),
            "routes",
        ),
    );
    let route: kube::api::DynamicObject = serde_json::from_value(json!({"apiVersion": "route.openshift.io/v1", "kind": "Route",
        "metadata": {"name": "forklift-inventory", "labels": {"app": "forklift", "service": "forklift-inventory"}},
        "spec": {"host": host, "to": {"kind": "Service", "name": "forklift-inventory"}}})).unwrap();
    routes.create(&Default::default(), &route).await.unwrap();

    let found_at = |c: &Value| c["structuredContent"]["matched"].clone();
    // 1. --inventory-url beats MTV_INVENTORY_URL.
    let mut c = StdioClient::spawn(
        &["mcp-server", "--inventory-url", &double.url],
        &[
            ("KUBECONFIG", &kc),
            ("MTV_INVENTORY_URL", "http://127.0.0.1:9"),
        ],
    )
    .await;
    c.initialize().await;
    assert_eq!(found_at(&c.call("get_inventory", vm.clone()).await), 6);
    // 2. MTV_INVENTORY_URL beats the Route.
    let mut c = StdioClient::spawn(
        &["mcp-server"],
        &[
            ("KUBECONFIG", &kc),
            ("MTV_INVENTORY_URL", "http://127.0.0.1:9"),
        ],
    )
    .await;
    c.initialize().await;
    let err = c.call_err("get_inventory", vm.clone()).await;
    assert!(
        err.contains("127.0.0.1:9") && err.contains("from MTV_INVENTORY_URL"),
        "{err}"
    );
    // 3. The Route (https://<host>), trusted through the kubeconfig's CA.
    let mut c = StdioClient::spawn(&["mcp-server"], &[("KUBECONFIG", &kc)]).await;
    c.initialize().await;
    let err = c.call_err("get_inventory", vm.clone()).await;
    assert!(
        err.contains(&format!("https://{host}"))
            && err.contains("from the Route")
            && err.contains("404 ProviderNotFound"),
        "reached the Route's host (which does not know this provider): {err}"
    );
    // 4. In a pod without a Route: the in-cluster Service.
    let other = fresh_namespace("inv-pod").await;
    let uid = ready_provider(&other, "vc", "vsphere").await;
    let _ = uid;
    let mut c = StdioClient::spawn(
        &["mcp-server"],
        &[("KUBECONFIG", &kc), ("KUBERNETES_SERVICE_HOST", "10.0.0.1")],
    )
    .await;
    c.initialize().await;
    let err = c
        .call_err(
            "get_inventory",
            json!({"provider": "vc", "namespace": other, "resource": "vm"}),
        )
        .await;
    assert!(
        err.contains("forklift-inventory.openshift-mtv.svc:8443")
            && err.contains("in-cluster Service"),
        "{err}"
    );
    // 5. Nothing at all: what was tried and how to set it.
    let mut c = StdioClient::spawn(&["mcp-server"], &[("KUBECONFIG", &kc)]).await;
    c.initialize().await;
    let err = c
        .call_err(
            "get_inventory",
            json!({"provider": "vc", "namespace": other, "resource": "vm"}),
        )
        .await;
    assert!(
        err.contains("Cannot find Forklift's inventory service")
            && err.contains("MTV_INVENTORY_URL")
            && err.contains("Route"),
        "{err}"
    );
}

#[tokio::test]
async fn version_reports_operator_and_inventory() {
    let double = Double::start(&[], false).await;
    let env = testenv();
    let kc = env.kubeconfig.to_str().unwrap().to_owned();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl-mtv"))
        .args(["version", "-o", "json", "--inventory-url", &double.url])
        .env("KUBECONFIG", &kc)
        .output()
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["clientVersion"],
        format!("v{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(v["inventoryURL"], double.url);
    assert_eq!(v["inventoryStatus"], "available", "{v}");
    assert!(v["operatorStatus"].is_string());
    // Unreachable inventory: said so.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl-mtv"))
        .args(["version", "--inventory-url", "http://127.0.0.1:9"])
        .env("KUBECONFIG", &kc)
        .output()
        .await
        .unwrap();
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(
        t.contains("MTV Inventory: http://127.0.0.1:9 (not available)")
            && t.contains("connection refused"),
        "{t}"
    );
    // The same through the get_version tool (out of the default set:
    // check_health reports the operator; --toolsets replaced serves it).
    let mut c = double.client(&["--toolsets", "inventory,replaced"]).await;
    let r = c.call_ok("get_version", json!({})).await;
    assert_eq!(r["inventoryStatus"], "available");
    assert_eq!(r["clientVersion"], v["clientVersion"]);
}
