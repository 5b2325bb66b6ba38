//! Drift between the Forklift CRDs this binary was generated from and the ones
//! a cluster serves, and getting the cluster's into `crds/`:
//! - [`shape`]: a CRD reduced to what drift is measured in (one reader for the
//!   cluster's objects, files and the digests the generator embeds);
//! - [`diff`]: the comparison and its readable, bounded report (shared by
//!   `crds diff`, `crds pull`, `version` and the server);
//! - [`fetch`]: reading the cluster's Forklift CRDs through kube-rs;
//! - [`pull`]: writing them as upstream-named YAML files ([`yaml`]: YAML any reader takes back the same);
//! - [`watch`]: the server's once-per-cluster check, its warning and notes;
//! - [`command`]: the `crds diff` and `crds pull` commands.

pub mod command;
pub mod diff;
pub mod fetch;
pub mod pull;
pub mod shape;
pub mod watch;
pub mod yaml;

use serde::Serialize;

pub use diff::{Drift, ServerFacts};
pub use shape::Crd;
pub use watch::DriftWatch;

use crate::cluster::{Connection, KubeFailure};

/// The API group whose CRDs are compared.
pub const GROUP: &str = "forklift.konveyor.io";

/// The CRDs this binary was generated from (crds/ at build time), read from
/// the digests the generator embeds. Made on demand, not kept: a server
/// compares once per cluster, and the flattened schemas of every kind would
/// stay in its heap for its whole life.
pub fn built_in() -> Vec<Crd> {
    crate::catalogue::resources()
        .iter()
        .filter(|r| r.group == GROUP)
        .map(|r| {
            let v = serde_json::from_str(r.crd_json).expect("generated CRD digest is JSON");
            Crd::from_value(&v).expect("generated CRD digest is a CRD")
        })
        .collect()
}

/// `kubectl-mtv crds diff`: this build against the cluster.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffReport {
    pub identical: bool,
    pub server: String,
    pub kubernetes_version: String,
    pub built_kinds: usize,
    pub cluster_kinds: usize,
    #[serde(flatten)]
    pub drift: Drift,
}

/// Compares this build's CRDs with the cluster's behind `conn`.
pub async fn diff(conn: &Connection) -> Result<DiffReport, KubeFailure> {
    let built = built_in();
    // Each cluster CRD is compared as soon as it is read, and only the
    // outcome kept: a few flattened schemas at a time, not all of them.
    let cluster = fetch::fetch_as(conn, |v, facts| {
        Ok(diff::compare_one(&built, &Crd::from_value(&v)?, facts))
    })
    .await?;
    let cluster_kinds = cluster.objects.len();
    let drift = diff::assemble(&built, cluster.objects);
    Ok(DiffReport {
        identical: drift.identical(),
        server: cluster.server,
        kubernetes_version: cluster.kubernetes,
        built_kinds: built.len(),
        cluster_kinds,
        drift,
    })
}

impl DiffReport {
    /// The readable report.
    pub fn text(&self) -> String {
        let verdict = if self.identical {
            "match this build"
        } else {
            "DIFFER from this build"
        };
        let mut t = format!(
            "Forklift CRDs ({GROUP}) in the cluster {verdict}.\n  cluster:    {} (Kubernetes {}), {} kinds\n  this build: kubectl-mtv {}, {} kinds (crds/ when it was built)\n",
            self.server,
            self.kubernetes_version,
            self.cluster_kinds,
            crate::tools::version::client_version(),
            self.built_kinds,
        );
        let lines = self.drift.lines();
        if !lines.is_empty() {
            t.push('\n');
            for l in lines {
                t.push_str(&l);
                t.push('\n');
            }
        }
        if !self.identical {
            t.push_str(
                "\nTo match: kubectl-mtv crds pull --to crds/, rebuild (cargo build), then review the tool catalogue diff (UPDATE_SNAPSHOTS=1 cargo test --test catalogue; git diff tests/snapshots).\n",
            );
        }
        t
    }
}
