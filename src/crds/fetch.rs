//! Reading the Forklift CRDs a cluster serves, cheaply: the API group's
//! discovery documents name its resources, then each CRD (and each one this
//! binary was built from) is read by name, so clusters with hundreds of other
//! CRDs cost no more than a few small requests.

use std::collections::BTreeSet;

use futures::stream::{self, StreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroup, APIResourceList};
use kube::api::{Api, ApiResource, DynamicObject};
use serde_json::Value;

use super::diff::ServerFacts;
use super::GROUP;
use crate::cluster::errors::Attempt;
use crate::cluster::{Connection, KubeFailure};

/// CRD reads in flight at once.
const PARALLEL_READS: usize = 3;

/// The cluster's Forklift CRDs as it serves them.
#[derive(Debug, Clone)]
pub struct ClusterCrds {
    /// The API server URL.
    pub server: String,
    /// Its Kubernetes version (`v1.20.2`).
    pub kubernetes: String,
    pub facts: ServerFacts,
    /// Whole CRD objects, sorted by name.
    pub objects: Vec<Value>,
}

/// Reads the Forklift CRDs of the cluster behind `conn`.
pub async fn fetch(conn: &Connection) -> Result<ClusterCrds, KubeFailure> {
    let fail = |e: &kube::Error, name: Option<&str>| {
        KubeFailure::from_kube(
            e,
            &Attempt {
                verb: "get",
                resource: "customresourcedefinitions.apiextensions.k8s.io",
                kind: "CustomResourceDefinition",
                name,
                namespace: None,
                server: &conn.server,
                list_tool: "kubectl-mtv crds diff",
            },
        )
    };
    let client = &conn.client;
    let info = client
        .apiserver_version()
        .await
        .map_err(|e| fail(&e, None))?;
    let mut names: BTreeSet<String> = crate::catalogue::resources()
        .iter()
        .filter(|r| r.group == GROUP)
        .map(|r| format!("{}.{}", r.plural, r.group))
        .collect();
    for plural in discovered(client).await.map_err(|e| fail(&e, None))? {
        names.insert(format!("{plural}.{GROUP}"));
    }
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &crd_resource());
    // A few at a time: each read in flight holds its own HTTP/1.1
    // connection (a TLS handshake, then a place in the pool), and fourteen
    // of them at once would leave fourteen idle connections behind.
    let reads = stream::iter(names.into_iter().map(|n| {
        let api = api.clone();
        async move {
            let got = api.get_opt(&n).await;
            (n, got)
        }
    }))
    .buffered(PARALLEL_READS)
    .collect::<Vec<_>>()
    .await;
    let mut objects = Vec::new();
    for (name, got) in reads {
        match got {
            Ok(Some(obj)) => {
                let v = serde_json::to_value(&obj).unwrap_or(Value::Null);
                if v.pointer("/spec/group").and_then(Value::as_str) == Some(GROUP) {
                    objects.push(v);
                }
            }
            Ok(None) => {}
            Err(e) => return Err(fail(&e, Some(&name))),
        }
    }
    Ok(ClusterCrds {
        server: conn.server.clone(),
        kubernetes: info.git_version.clone(),
        facts: ServerFacts::from_minor(&info.minor),
        objects,
    })
}

/// The plurals the group's served versions list (none when the group is not served).
async fn discovered(client: &kube::Client) -> Result<BTreeSet<String>, kube::Error> {
    let get = |path: String| {
        http::Request::get(path)
            .body(Vec::new())
            .expect("a GET request")
    };
    let group: APIGroup = match client.request(get(format!("/apis/{GROUP}"))).await {
        Ok(g) => g,
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(BTreeSet::new()),
        Err(e) => return Err(e),
    };
    let mut plurals = BTreeSet::new();
    for v in &group.versions {
        let list: APIResourceList = match client
            .request(get(format!("/apis/{}", v.group_version)))
            .await
        {
            Ok(l) => l,
            Err(kube::Error::Api(s)) if s.code == 404 => continue,
            Err(e) => return Err(e),
        };
        plurals.extend(
            list.resources
                .into_iter()
                .map(|r| r.name)
                .filter(|n| !n.contains('/')),
        );
    }
    Ok(plurals)
}

/// `customresourcedefinitions.apiextensions.k8s.io/v1`, addressed without discovery.
fn crd_resource() -> ApiResource {
    ApiResource {
        group: "apiextensions.k8s.io".into(),
        version: "v1".into(),
        api_version: "apiextensions.k8s.io/v1".into(),
        kind: "CustomResourceDefinition".into(),
        plural: "customresourcedefinitions".into(),
    }
}
