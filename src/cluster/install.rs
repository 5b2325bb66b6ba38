//! Where and which Forklift operator is installed, as OLM records it on the
//! Forklift CRDs: the annotation
//! `operatorframework.io/installed-alongside-<hash>: <namespace>/<csv name>`
//! (upstream kubectl-mtv reads the same one).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;
use kube::ResourceExt;

use super::Connection;

/// The CRD whose annotations name the operator.
const PROVIDERS_CRD: &str = "providers.forklift.konveyor.io";
/// Namespaces Forklift is installed in by default (MTV, then upstream).
pub const DEFAULT_NAMESPACES: [&str; 2] = ["openshift-mtv", "konveyor-forklift"];

/// The installed operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub namespace: String,
    /// The ClusterServiceVersion name, e.g. `mtv-operator.v2.9.1`.
    pub version: String,
}

/// Reads the operator's namespace and version from the Providers CRD;
/// `None` when the CRD has no OLM annotation (a manual install) or cannot
/// be read by this identity.
pub async fn operator(conn: &Connection) -> Option<Operator> {
    let api: Api<CustomResourceDefinition> = Api::all(conn.client.clone());
    let crd = api.get(PROVIDERS_CRD).await.ok()?;
    from_annotations(crd.annotations().iter())
}

fn from_annotations<'a>(
    mut annotations: impl Iterator<Item = (&'a String, &'a String)>,
) -> Option<Operator> {
    let (_, value) =
        annotations.find(|(k, _)| k.starts_with("operatorframework.io/installed-alongside-"))?;
    let (namespace, version) = value.split_once('/')?;
    (!namespace.is_empty()).then(|| Operator {
        namespace: namespace.to_owned(),
        version: version.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_olm_annotation() {
        let a = [
            ("other".to_owned(), "x".to_owned()),
            (
                "operatorframework.io/installed-alongside-96b6a5c1f4ce3e8b".to_owned(),
                "openshift-mtv/mtv-operator.v2.9.1".to_owned(),
            ),
        ];
        assert_eq!(
            from_annotations(a.iter().map(|(k, v)| (k, v))),
            Some(Operator {
                namespace: "openshift-mtv".into(),
                version: "mtv-operator.v2.9.1".into()
            })
        );
        let none = [("a".to_owned(), "b".to_owned())];
        assert_eq!(from_annotations(none.iter().map(|(k, v)| (k, v))), None);
    }
}
