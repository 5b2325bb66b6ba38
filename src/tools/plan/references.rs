//! What the objects a plan names look like: its source and target
//! providers, its network and storage maps, and its target namespace (do
//! they exist, are they Ready), and how to fix each that is not.

use k8s_openapi::api::core::v1::{Namespace, ObjectReference};
use kube::api::Api;
use kube::ResourceExt;
use serde_json::{json, Value};

use crate::cluster::Connection;
use crate::tools::forklift::{
    network_map_conditions, provider_conditions, storage_map_conditions, true_condition, Condition,
    NetworkMap, Plan, Provider, StorageMap,
};

/// Every reference of `plan`, looked up with this identity.
pub async fn check(conn: &Connection, plan: &Plan) -> Vec<Reference> {
    let ns = plan.namespace().unwrap_or_default();
    let mut refs = Vec::new();
    for (role, r) in [
        ("source provider", &plan.spec.provider.source),
        ("target provider", &plan.spec.provider.destination),
    ] {
        let (name, rns) = target(r, &ns);
        let state = look_up::<Provider, _>(conn, &rns, &name, provider_conditions).await;
        refs.push(Reference {
            role,
            kind: "Provider",
            name,
            namespace: rns,
            state,
        });
    }
    let (name, rns) = target(&plan.spec.map.network, &ns);
    let state = look_up::<NetworkMap, _>(conn, &rns, &name, network_map_conditions).await;
    refs.push(Reference {
        role: "network map",
        kind: "NetworkMap",
        name,
        namespace: rns,
        state,
    });
    let (name, rns) = target(&plan.spec.map.storage, &ns);
    let state = look_up::<StorageMap, _>(conn, &rns, &name, storage_map_conditions).await;
    refs.push(Reference {
        role: "storage map",
        kind: "StorageMap",
        name,
        namespace: rns,
        state,
    });
    let tns = plan.spec.target_namespace.clone();
    let ns_api: Api<Namespace> = Api::all(conn.client.clone());
    let state = match ns_api.get_opt(&tns).await {
        Ok(Some(_)) => Ok(Some(Vec::new())),
        Ok(None) => Ok(None),
        Err(kube::Error::Api(s)) => Err(format!("{} {}", s.code, s.reason)),
        Err(e) => Err(crate::cluster::errors::error_chain(&e)),
    };
    refs.push(Reference {
        role: "target namespace",
        kind: "Namespace",
        name: tns,
        namespace: String::new(),
        state,
    });
    refs
}

/// What became of a reference the plan makes.
pub struct Reference {
    pub role: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    /// `Ok(None)`: missing; `Ok(Some(conds))`: found; `Err`: could not read.
    pub state: Result<Option<Vec<Condition>>, String>,
}

impl Reference {
    pub fn verdict(&self) -> String {
        match &self.state {
            Ok(None) => "MISSING".to_owned(),
            Err(e) => format!("cannot read ({e})"),
            Ok(Some(_)) if self.kind == "Namespace" => "exists".to_owned(),
            Ok(Some(conds)) => match true_condition(conds, "Ready") {
                Some(_) => "Ready".to_owned(),
                None => {
                    let bad: Vec<String> = conds
                        .iter()
                        .filter(|c| {
                            c.is_true() && matches!(c.category.as_str(), "Critical" | "Error")
                        })
                        .map(|c| format!("{}: {}", c.kind, c.message.as_deref().unwrap_or("-")))
                        .collect();
                    if bad.is_empty() {
                        "not Ready".to_owned()
                    } else {
                        format!("not Ready ({})", bad.join("; "))
                    }
                }
            },
        }
    }

    pub fn is_problem(&self) -> bool {
        match &self.state {
            Ok(None) | Err(_) => true,
            Ok(Some(_)) if self.kind == "Namespace" => false,
            Ok(Some(c)) => true_condition(c, "Ready").is_none(),
        }
    }

    /// How to fix a reference that is a problem.
    pub fn fix(&self) -> String {
        match (&self.state, self.kind) {
            (Ok(None), "Namespace") => format!(
                "create the target namespace {} (or patch the plan's spec.targetNamespace)",
                self.name
            ),
            (Ok(None), kind) => format!(
                "the {} {} {} does not exist in {}: create it, or patch the plan to name one that exists (get_{}s)",
                self.role, kind, self.name, self.namespace, kind.to_lowercase()
            ),
            (Err(_), _) => format!(
                "the {} could not be read with this identity; check access",
                self.role
            ),
            _ => format!(
                "the {} {} is not Ready: get_events {{\"kind\": \"{}\", \"name\": \"{}\", \"namespace\": \"{}\"}}",
                self.role, self.name, self.kind, self.name, self.namespace
            ),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "role": self.role,
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "state": self.verdict(),
            "ok": !self.is_problem(),
        })
    }
}

/// Reads one referenced object's conditions: `Ok(None)` when it is missing.
async fn look_up<K, F>(
    conn: &Connection,
    namespace: &str,
    name: &str,
    conditions: F,
) -> Result<Option<Vec<Condition>>, String>
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
    F: Fn(&K) -> Vec<Condition>,
{
    let api: Api<K> = Api::namespaced(conn.client.clone(), namespace);
    match api.get_opt(name).await {
        Ok(Some(obj)) => Ok(Some(conditions(&obj))),
        Ok(None) => Ok(None),
        Err(kube::Error::Api(s)) => Err(format!("{} {}", s.code, s.reason)),
        Err(e) => Err(crate::cluster::errors::error_chain(&e)),
    }
}

fn target(r: &ObjectReference, plan_ns: &str) -> (String, String) {
    (
        r.name.clone().unwrap_or_default(),
        r.namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| plan_ns.to_owned()),
    )
}
