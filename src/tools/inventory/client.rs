//! Reaching Forklift's inventory service with the caller's identity.
//!
//! The base URL is, in order: `--inventory-url`, `MTV_INVENTORY_URL`, the
//! OpenShift Route labelled `app=forklift,service=forklift-inventory` in the
//! operator's namespace and then in the caller's, and, when this server runs
//! in a pod, the Service `https://forklift-inventory.<operator ns>.svc:8443`.
//! The API server's service proxy is no way in: it strips the caller's
//! Authorization header.
//!
//! Requests carry the same credentials as the Kubernetes calls of the same
//! request (the HTTP caller's bearer token, else the kubeconfig's token or
//! exec plugin), through a kube-rs client pointed at the inventory; TLS
//! trusts the kubeconfig's (or `--certificate-authority`'s) CA, unless
//! `--inventory-insecure-skip-tls`.

use std::time::Duration;

use http_body_util::BodyExt;
use kube::api::{Api, DynamicObject, ListParams};
use kube::discovery::ApiResource;
use kube::Config;
use serde_json::Value;

use crate::cluster::errors::error_chain;
use crate::cluster::{install, ClusterAccess, Connection, Identity};
use crate::tools::ToolError;

/// Labels of the inventory's Route and Service (Forklift's operator templates).
pub const INVENTORY_LABELS: &str = "app=forklift,service=forklift-inventory";

/// How the inventory is reached: the server's flags and environment.
#[derive(Debug, Clone, Default)]
pub struct InventorySettings {
    /// A fixed base URL, and where it came from (`--inventory-url` or
    /// `MTV_INVENTORY_URL`).
    pub url: Option<(String, &'static str)>,
    /// Do not verify the inventory's TLS certificate.
    pub insecure: bool,
}

/// A base URL and how it was found (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub url: String,
    pub how: String,
}

fn routes() -> ApiResource {
    ApiResource {
        group: "route.openshift.io".into(),
        version: "v1".into(),
        api_version: "route.openshift.io/v1".into(),
        kind: "Route".into(),
        plural: "routes".into(),
    }
}

/// Finds the inventory's base URL; the error says what was tried and how
/// to set it.
pub async fn locate(
    conn: &Connection,
    settings: &InventorySettings,
    user_namespace: &str,
) -> Result<Located, ToolError> {
    if let Some((url, from)) = &settings.url {
        return Ok(Located {
            url: url.trim_end_matches('/').to_owned(),
            how: format!("from {from}"),
        });
    }
    let operator_ns = install::operator(conn)
        .await
        .map(|o| o.namespace)
        .unwrap_or_else(|| install::DEFAULT_NAMESPACES[0].to_owned());
    let mut tried = Vec::new();
    let mut namespaces = vec![operator_ns.clone()];
    if user_namespace != operator_ns {
        namespaces.push(user_namespace.to_owned());
    }
    for ns in &namespaces {
        let api: Api<DynamicObject> = Api::namespaced_with(conn.client.clone(), ns, &routes());
        match api
            .list(&ListParams::default().labels(INVENTORY_LABELS))
            .await
        {
            Ok(list) => {
                let host = list
                    .items
                    .iter()
                    .find_map(|r| r.data["spec"]["host"].as_str().filter(|h| !h.is_empty()));
                match host {
                    Some(h) => {
                        return Ok(Located {
                            url: format!("https://{h}"),
                            how: format!("from the Route labelled {INVENTORY_LABELS} in \"{ns}\""),
                        })
                    }
                    None => tried.push(format!("no Route labelled {INVENTORY_LABELS} in \"{ns}\"")),
                }
            }
            Err(kube::Error::Api(s)) if s.code == 404 => {
                tried.push("no OpenShift Routes in this cluster".to_owned());
                break;
            }
            Err(kube::Error::Api(s)) if s.code == 403 => {
                tried.push(format!("Routes in \"{ns}\" (forbidden for this identity)"))
            }
            Err(e) => tried.push(format!("Routes in \"{ns}\" ({})", error_chain(&e))),
        }
    }
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        return Ok(Located {
            url: format!("https://forklift-inventory.{operator_ns}.svc:8443"),
            how: "from the in-cluster Service (this server runs in a pod)".to_owned(),
        });
    }
    tried.push("the in-cluster Service (this server does not run in a pod)".to_owned());
    Err(ToolError::refused(format!(
        "Cannot find Forklift's inventory service. Tried: {}. Set --inventory-url or MTV_INVENTORY_URL in the server's environment (e.g. https://forklift-inventory-{operator_ns}.apps.example.com, or kubectl port-forward -n {operator_ns} svc/forklift-inventory 8443 and https://127.0.0.1:8443 with --inventory-insecure-skip-tls).",
        tried.join("; ")
    )))
}

/// A client for the inventory, acting as one identity.
pub struct Inventory {
    client: kube::Client,
    pub located: Located,
}

/// Whether kube-rs will send a bearer token with these credentials.
fn sends_a_token(config: &Config) -> bool {
    let a = &config.auth_info;
    a.token.is_some() || a.token_file.is_some() || a.exec.is_some() || a.auth_provider.is_some()
}

impl Inventory {
    /// A client for the inventory at `located`, with `identity`'s credentials.
    pub async fn connect(
        access: &ClusterAccess,
        identity: &Identity,
        located: Located,
        settings: &InventorySettings,
    ) -> Result<Self, ToolError> {
        let mut config = access.config_for(identity).await?;
        if !sends_a_token(&config) {
            return Err(ToolError::refused(
                "The inventory service authenticates callers by bearer token, and these credentials have none (the kubeconfig uses a client certificate or a password). Start the server with --token (e.g. the output of kubectl create token <service account>), send Authorization: Bearer over HTTP, or use a kubeconfig user with a token."
            ));
        }
        config.cluster_url = located.url.parse().map_err(|_| {
            ToolError::invalid(format!(
                "The inventory URL {} ({}) is not a valid URL.",
                located.url, located.how
            ))
        })?;
        config.tls_server_name = None;
        if settings.insecure {
            config.accept_invalid_certs = true;
        }
        config.connect_timeout = Some(Duration::from_secs(10));
        // The service waits up to 10 s for a provider's first load.
        config.read_timeout = Some(Duration::from_secs(60));
        let client = kube::Client::try_from(config).map_err(|e| {
            ToolError::refused(format!(
                "Cannot build a client for the inventory at {}: {}",
                located.url,
                error_chain(&e)
            ))
        })?;
        Ok(Inventory { client, located })
    }

    /// GETs `path` (with its query) and parses the JSON answer; an empty
    /// body or `null` is an empty list, as upstream reads it.
    pub async fn get(&self, path: &str, provider: &str) -> Result<Value, ToolError> {
        let req = http::Request::get(path)
            .header(http::header::ACCEPT, "application/json")
            .body(kube::client::Body::empty())
            .expect("a valid request");
        let where_ = format!(
            "the inventory at {} ({})",
            self.located.url, self.located.how
        );
        let res = self
            .client
            .send(req)
            .await
            .map_err(|e| ToolError::refused(unreachable(&where_, &e)))?;
        let status = res.status();
        let reason = header(&res, "x-reason");
        let forbidden = header(&res, "forklift-error-message");
        let bytes = res
            .into_body()
            .collect()
            .await
            .map_err(|e| {
                ToolError::refused(format!(
                    "Reading the answer of {where_} failed: {}",
                    error_chain(&e)
                ))
            })?
            .to_bytes();
        match status.as_u16() {
            200 => {
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    return Ok(Value::Array(Vec::new()));
                }
                match serde_json::from_slice::<Value>(&bytes) {
                    Ok(Value::Null) => Ok(Value::Array(Vec::new())),
                    Ok(v) => Ok(v),
                    Err(e) => Err(ToolError::refused(format!(
                        "{where_} answered something that is not JSON ({e}); is the URL the inventory service?"
                    ))),
                }
            }
            206 => Err(ToolError::refused(format!(
                "The inventory of provider {provider} is still loading (206 Partial Content from {where_}): Forklift is collecting it. The list would be incomplete, so none is shown; try again in a minute."
            ))),
            401 => Err(ToolError::refused(format!(
                "Unauthorized (401): {where_} rejected the credentials. It accepts the same bearer tokens as the Kubernetes API; the token may be expired, or the inventory may belong to another cluster."
            ))),
            403 => Err(ToolError::refused(format!(
                "Forbidden (403) by {where_}: {}. The caller needs get on providers.forklift.konveyor.io for this provider.",
                forbidden.unwrap_or_else(|| "no reason given".into())
            ))),
            404 if reason.as_deref() == Some("ProviderNotFound") => Err(ToolError::refused(format!(
                "The inventory has no data for provider {provider} (404 ProviderNotFound from {where_}): Forklift collects a provider's inventory only after its connection test succeeds, and a provider just created or deleted has none. Check its conditions with get_providers or get_events {{\"kind\": \"Provider\", \"name\": \"{provider}\"}}."
            ))),
            404 => Err(ToolError::refused(format!(
                "Not found (404) at {where_}: {path}. The collection or object does not exist for this provider."
            ))),
            code => Err(ToolError::refused(format!(
                "{where_} answered {code} for {path}{}",
                if bytes.is_empty() { String::new() } else { format!(": {}", String::from_utf8_lossy(&bytes[..bytes.len().min(200)])) }
            ))),
        }
    }
}

fn header(res: &http::Response<kube::client::Body>, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A transport failure, told so it can be fixed.
fn unreachable(where_: &str, err: &kube::Error) -> String {
    let chain = error_chain(err);
    let lower = chain.to_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        format!("TLS failure talking to {where_}: {chain}. Pass --certificate-authority with the CA that signed its certificate, or --inventory-insecure-skip-tls (MTV_INVENTORY_INSECURE_SKIP_TLS=true) for testing.")
    } else if lower.contains("connection refused") {
        format!("Cannot reach {where_}: connection refused. Is the URL right (--inventory-url / MTV_INVENTORY_URL)?")
    } else if lower.contains("dns") || lower.contains("lookup") || lower.contains("resolve") {
        format!("Cannot resolve the host of {where_}: {chain}. Set --inventory-url or MTV_INVENTORY_URL.")
    } else if lower.contains("timed out") || lower.contains("elapsed") {
        format!("{where_} did not answer in time: {chain}")
    } else {
        format!("Request to {where_} failed: {chain}")
    }
}
