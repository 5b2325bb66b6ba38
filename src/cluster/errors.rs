//! Kubernetes failures, told the way a person (or a model) can act on.

/// Why a Kubernetes call failed, as text for a tool result. Never contains
/// credentials: kube's errors carry none, and configuration errors are
/// written here without the values involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KubeFailure {
    /// HTTP status from the API server, when it answered.
    pub code: Option<u16>,
    pub message: String,
}

/// What the failed call was doing, for the message.
pub struct Attempt<'a> {
    /// e.g. "get", "list", "create", "patch", "delete".
    pub verb: &'a str,
    /// e.g. "plans.forklift.konveyor.io"
    pub resource: &'a str,
    pub kind: &'a str,
    pub name: Option<&'a str>,
    /// None for all namespaces.
    pub namespace: Option<&'a str>,
    pub server: &'a str,
    /// The tool that lists this resource, for hints.
    pub list_tool: &'a str,
}

impl KubeFailure {
    pub fn new(message: impl Into<String>) -> Self {
        KubeFailure {
            code: None,
            message: message.into(),
        }
    }

    /// Explains a kube-rs error for `attempt`.
    pub fn from_kube(err: &kube::Error, a: &Attempt<'_>) -> Self {
        crate::metrics::metrics().kube_error(match err {
            kube::Error::Api(s) => Some(s.code),
            _ => None,
        });
        let scope = match a.namespace {
            Some(ns) => format!("in namespace \"{ns}\""),
            None => "in all namespaces".to_owned(),
        };
        let what = match a.name {
            Some(n) => format!("{} \"{n}\"", a.kind),
            None => format!("{}s", a.kind),
        };
        match err {
            kube::Error::Api(status) => {
                let code = status.code;
                let reason = status.reason.as_str();
                let server_msg = status.message.trim();
                let message = match code {
                    401 => format!(
                        "Unauthorized (401): the API server {} rejected the credentials. The token may be expired or invalid; get a new one (e.g. kubectl create token) and retry.",
                        a.server
                    ),
                    403 => format!(
                        "Forbidden (403): this identity may not {} {} {scope}. The API server said: {server_msg}. Ask a cluster admin for an RBAC {} granting \"{}\" on {}.",
                        a.verb,
                        a.resource,
                        if a.namespace.is_some() { "Role" } else { "ClusterRole (all namespaces)" },
                        a.verb,
                        a.resource
                    ),
                    404 if a.namespace.is_some() && server_msg.starts_with("namespaces ") => format!(
                        "Not found (404): namespace \"{}\" does not exist. Create it first (kubectl create namespace {}), or use another namespace.",
                        a.namespace.unwrap_or_default(),
                        a.namespace.unwrap_or_default()
                    ),
                    404 if a.name.is_some() && reason == "NotFound" && !server_msg.contains("could not find the requested resource") => format!(
                        "Not found (404): {what} does not exist {scope}. Use {} to see what exists.",
                        a.list_tool
                    ),
                    404 => format!(
                        "Not found (404): the API server {} does not serve {}. Are the Forklift CRDs installed? The API server said: {server_msg}",
                        a.server, a.resource
                    ),
                    409 if reason == "AlreadyExists" => format!(
                        "Already exists (409): {what} already exists {scope}. Choose another name, or change it with the patch tool."
                    ),
                    409 => format!(
                        "Conflict (409): {what} was changed by someone else meanwhile. Read it again and retry. The API server said: {server_msg}"
                    ),
                    422 => {
                        let causes: Vec<String> = status
                            .details
                            .as_ref()
                            .map(|d| {
                                d.causes
                                    .iter()
                                    .map(|c| format!("{}: {}", c.field, c.message))
                                    .collect()
                            })
                            .unwrap_or_default();
                        if causes.is_empty() {
                            format!("Invalid (422): the API server rejected {what}: {server_msg}")
                        } else {
                            format!(
                                "Invalid (422): the API server rejected {what}: {}",
                                causes.join("; ")
                            )
                        }
                    }
                    _ => format!(
                        "The API server answered {code} {reason} for {} {what} {scope}: {server_msg}",
                        a.verb
                    ),
                };
                KubeFailure {
                    code: Some(code),
                    message,
                }
            }
            other => {
                let mut message = transport_message(other, a.server);
                if !matches!(a.verb, "get" | "list" | "watch") {
                    let chain = error_chain(other);
                    // Writes are never retried: say what is known of this one.
                    if chain.contains("(Connect)") || chain.contains("onnection refused") {
                        message.push_str(&format!(
                            " Nothing was sent: the {} was not applied.",
                            a.verb
                        ));
                    } else {
                        message.push_str(&format!(
                            " The {} may or may not have been applied before the connection failed: check with {} before retrying.",
                            a.verb, a.list_tool
                        ));
                    }
                }
                KubeFailure::new(message)
            }
        }
    }
}

/// Connection-level failures: refused, DNS, timeouts, TLS.
fn transport_message(err: &kube::Error, server: &str) -> String {
    let chain = error_chain(err);
    let lower = chain.to_lowercase();
    if lower.contains("close_notify")
        || lower.contains("connection reset")
        || lower.contains("broken pipe")
        || lower.contains("connection closed")
        || lower.contains("unexpected eof")
    {
        format!(
            "The connection to the Kubernetes API server {server} broke off: {chain}. The server or the network between may have restarted; retry."
        )
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        format!(
            "TLS failure talking to the API server {server}: {chain}. Check the server URL, or pass --certificate-authority (or --insecure-skip-tls-verify for testing)."
        )
    } else if lower.contains("connection refused") {
        format!("Cannot reach the Kubernetes API server {server}: connection refused. Is it running, and is the URL right?")
    } else if lower.contains("timed out") || lower.contains("timeout") || lower.contains("elapsed")
    {
        format!("The Kubernetes API server {server} did not answer in time (limits: --request-timeout, default 30s, and --connect-timeout, default 10s): {chain}. Check that it is up and reachable, then retry.")
    } else if lower.contains("dns") || lower.contains("lookup") || lower.contains("resolve") {
        format!("Cannot resolve the Kubernetes API server {server}: {chain}")
    } else {
        format!("Request to the Kubernetes API server {server} failed: {chain}")
    }
}

/// An error and its sources, joined, without repeats.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut src = err.source();
    while let Some(e) = src {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        src = e.source();
    }
    parts.join(": ")
}
