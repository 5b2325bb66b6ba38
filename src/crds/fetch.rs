//! Reading the Forklift CRDs a cluster serves, cheaply: the API group's
//! discovery documents name its resources, then each CRD (and each one this
//! binary was built from) is read by name, so clusters with hundreds of other
//! CRDs cost no more than a few small requests.

use std::collections::BTreeSet;

use futures::stream::{self, StreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroup, APIResourceList};
use serde_json::Value;

use super::diff::ServerFacts;
use super::GROUP;
use crate::cluster::errors::Attempt;
use crate::cluster::{Connection, KubeFailure};

/// CRD reads in flight at once.
const PARALLEL_READS: usize = 3;

/// The cluster's Forklift CRDs as it serves them.
#[derive(Debug, Clone)]
pub struct ClusterCrds<T = Value> {
    /// The API server URL.
    pub server: String,
    /// Its Kubernetes version (`v1.20.2`).
    pub kubernetes: String,
    pub facts: ServerFacts,
    /// Whole CRD objects (or what `fetch_as` kept of each), sorted by name.
    pub objects: Vec<T>,
}

/// Reads the Forklift CRDs of the cluster behind `conn`, whole.
pub async fn fetch(conn: &Connection) -> Result<ClusterCrds, KubeFailure> {
    fetch_as(conn, |v, _| Ok(v)).await
}

/// Reads the Forklift CRDs of the cluster behind `conn`, keeping of each
/// what `keep` makes of it (given the server's [`ServerFacts`]): a whole CRD
/// is dropped as soon as it is read
/// (the largest are megabytes as JSON values; all of them at once would
/// stay in the heap's high-water mark for the process's life).
pub async fn fetch_as<T, F>(conn: &Connection, keep: F) -> Result<ClusterCrds<T>, KubeFailure>
where
    F: Fn(Value, ServerFacts) -> Result<T, String>,
{
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
    let facts = ServerFacts::from_minor(&info.minor);
    let mut names: BTreeSet<String> = crate::catalogue::resources()
        .iter()
        .filter(|r| r.group == GROUP)
        .map(|r| format!("{}.{}", r.plural, r.group))
        .collect();
    for plural in discovered(client).await.map_err(|e| fail(&e, None))? {
        names.insert(format!("{plural}.{GROUP}"));
    }
    // A few at a time: each read in flight holds its own HTTP/1.1
    // connection (a TLS handshake, then a place in the pool), and fourteen
    // of them at once would leave fourteen idle connections behind.
    let mut reads = stream::iter(names.into_iter().map(|n| {
        let client = client.clone();
        async move {
            let got = read_crd(&client, &n).await;
            (n, got)
        }
    }))
    .buffered(PARALLEL_READS);
    let mut objects = Vec::new();
    while let Some((name, got)) = reads.next().await {
        match got {
            Ok(Some(v)) => {
                if v.pointer("/spec/group").and_then(Value::as_str) == Some(GROUP) {
                    let kept = keep(v, facts).map_err(|e| {
                        KubeFailure::new(format!("the cluster's CRD {name} cannot be read: {e}"))
                    })?;
                    objects.push(kept);
                }
            }
            Ok(None) => {}
            Err(e) => return Err(fail(&e, Some(&name))),
        }
    }
    Ok(ClusterCrds {
        server: conn.server.clone(),
        kubernetes: info.git_version.clone(),
        facts,
        objects,
    })
}

/// GET `path` as a `T`; None when the API server answers 404.
async fn get_opt<T: serde::de::DeserializeOwned>(
    client: &kube::Client,
    path: String,
) -> Result<Option<T>, kube::Error> {
    let req = http::Request::get(path)
        .body(Vec::new())
        .expect("a GET request");
    match client.request::<T>(req).await {
        Ok(v) => Ok(Some(v)),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

/// One CRD by name, as a JSON value (None when there is none).
async fn read_crd(client: &kube::Client, name: &str) -> Result<Option<Value>, kube::Error> {
    get_opt(
        client,
        format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"),
    )
    .await
}

/// The plurals the group's served versions list (none when the group is not served).
async fn discovered(client: &kube::Client) -> Result<BTreeSet<String>, kube::Error> {
    let Some(group) = get_opt::<APIGroup>(client, format!("/apis/{GROUP}")).await? else {
        return Ok(BTreeSet::new());
    };
    let mut plurals = BTreeSet::new();
    for v in &group.versions {
        let path = format!("/apis/{}", v.group_version);
        let Some(list) = get_opt::<APIResourceList>(client, path).await? else {
            continue;
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
