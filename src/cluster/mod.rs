//! Kubernetes access through kube-rs: which API server and credentials a call
//! uses, a bounded cache of clients per identity, and error explanations.
//!
//! Precedence: request headers ([`Identity`]) > the server's `--token` /
//! `--server` flags > kubeconfig (or in-cluster config). Nothing connects at
//! start-up: the base configuration is loaded on the first tool call.

pub mod errors;
pub mod identity;
pub mod install;
pub mod retry;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use kube::config::{AuthInfo, KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use rustls_pki_types::{pem::PemObject, CertificateDer};
use secrecy::SecretString;

pub use errors::KubeFailure;
pub use identity::Identity;

use crate::cli::KubeFlags;

/// Most clients kept for distinct identities.
const MAX_CLIENTS: usize = 64;

/// A client for one identity, with what a tool needs to know about it.
#[derive(Clone)]
pub struct Connection {
    /// For ordinary calls: bounded read timeout.
    pub client: Client,
    /// For watches: no read timeout (a quiet watch is not a dead one; the
    /// API server ends each watch request after its `timeoutSeconds`).
    pub watch_client: Client,
    /// The namespace calls use when the caller names none.
    pub default_namespace: String,
    /// The API server URL, for messages.
    pub server: String,
}

impl Connection {
    /// The namespace a call names, or the default one when it names none
    /// (or an empty one).
    pub fn namespace_or_default(&self, given: Option<&str>) -> String {
        given
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.default_namespace)
            .to_owned()
    }
}

/// Settings that decide how identities become clients.
#[derive(Debug, Clone, Default)]
pub struct AccessOptions {
    pub flags: KubeFlags,
    /// API servers an `X-Kubernetes-Server` header may name; empty = any.
    pub allowed_servers: Vec<String>,
}

/// Builds and caches kube-rs clients per identity.
pub struct ClusterAccess {
    opts: AccessOptions,
    /// The kubeconfig (or in-cluster) configuration, once it loaded; a failure
    /// is not kept, so fixing the kubeconfig needs no restart.
    base: tokio::sync::OnceCell<Config>,
    cache: Mutex<Cache>,
    /// Whether each cluster's Forklift CRDs match this build's, checked once.
    drift: crate::crds::DriftWatch,
}

#[derive(Default)]
struct Cache {
    clients: HashMap<(Option<String>, Option<String>), (Connection, u64)>,
    tick: u64,
}

impl ClusterAccess {
    pub fn new(opts: AccessOptions) -> Self {
        ClusterAccess {
            opts,
            base: tokio::sync::OnceCell::new(),
            cache: Mutex::new(Cache::default()),
            drift: crate::crds::DriftWatch::new(),
        }
    }

    /// The drift checks of the clusters connected to (see [`crate::crds::watch`]).
    pub fn drift(&self) -> &crate::crds::DriftWatch {
        &self.drift
    }

    /// The note for `kind` when the cluster of `identity` serves Forklift CRDs
    /// that differ from this build's for it (None when they match, or it
    /// cannot be told within a few seconds).
    pub async fn drift_note(&self, identity: &Identity, kind: &str) -> Option<String> {
        let conn = self.connect(identity).await.ok()?;
        self.drift.note(&conn, kind).await
    }

    /// A client acting as `identity`; the first connection to a cluster also
    /// starts its drift check in the background.
    pub async fn connect(&self, identity: &Identity) -> Result<Connection, KubeFailure> {
        let conn = self.connect_quietly(identity).await?;
        self.drift.start(&conn);
        Ok(conn)
    }

    /// A client acting as `identity`, reusing a cached one when possible,
    /// without starting a drift check (the `crds` commands make their own).
    pub async fn connect_quietly(&self, identity: &Identity) -> Result<Connection, KubeFailure> {
        let key = identity.cache_key();
        {
            let mut cache = self.cache.lock().expect("cache lock");
            cache.tick += 1;
            let tick = cache.tick;
            if let Some((conn, used)) = cache.clients.get_mut(&key) {
                *used = tick;
                return Ok(conn.clone());
            }
        }
        let config = self.config_for(identity).await?;
        let server = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_owned();
        let default_namespace = config.default_namespace.clone();
        let build = |config: Config| {
            let builder = kube::client::ClientBuilder::try_from(config).map_err(|e| {
                KubeFailure::new(format!(
                    "Cannot build a Kubernetes client for {server}: {}",
                    errors::error_chain(&e)
                ))
            })?;
            // Reads survive dead pooled connections (retry.rs).
            Ok::<_, KubeFailure>(builder.with_layer(&retry::RetryReadsLayer).build())
        };
        let mut watch_config = config.clone();
        watch_config.read_timeout = None;
        let conn = Connection {
            client: build(config)?,
            watch_client: build(watch_config)?,
            default_namespace,
            server,
        };
        let mut cache = self.cache.lock().expect("cache lock");
        if cache.clients.len() >= MAX_CLIENTS {
            if let Some(oldest) = cache
                .clients
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            {
                cache.clients.remove(&oldest);
            }
        }
        let tick = cache.tick;
        cache.clients.insert(key, (conn.clone(), tick));
        Ok(conn)
    }

    /// Number of cached clients (for tests and metrics).
    pub fn cached_clients(&self) -> usize {
        self.cache.lock().expect("cache lock").clients.len()
    }

    async fn base(&self) -> Result<Config, KubeFailure> {
        self.base
            .get_or_try_init(|| async { load_base(&self.opts.flags).await })
            .await
            .cloned()
            .map_err(KubeFailure::new)
    }

    /// The configuration for one identity (also used to reach Forklift's
    /// inventory with the same credentials).
    pub async fn config_for(&self, id: &Identity) -> Result<Config, KubeFailure> {
        if let Some(server) = &id.server {
            return self.header_server_config(server, id).await;
        }
        // load_base already applied --insecure-skip-tls-verify and the other flags.
        let mut config = self.base().await?;
        if let Some(token) = &id.token {
            config.auth_info = token_only(token.clone());
        }
        Ok(config)
    }

    /// A caller-chosen API server: only the caller's own token is ever sent to it.
    async fn header_server_config(
        &self,
        server: &str,
        id: &Identity,
    ) -> Result<Config, KubeFailure> {
        let allowed = &self.opts.allowed_servers;
        let norm = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
        if !allowed.is_empty() && !allowed.iter().any(|a| norm(a) == norm(server)) {
            return Err(KubeFailure::new(format!(
                "The API server named by X-Kubernetes-Server ({server}) is not in this server's --allowed-servers list."
            )));
        }
        let Some(token) = &id.token else {
            return Err(KubeFailure::new(
                "X-Kubernetes-Server was given without an Authorization: Bearer token. This server never sends its own credentials to a caller-chosen API server; add your token.",
            ));
        };
        let url: http::Uri = server.parse().map_err(|_| {
            KubeFailure::new(format!("X-Kubernetes-Server is not a valid URL: {server}"))
        })?;
        if url.scheme_str() != Some("https") && url.scheme_str() != Some("http") {
            return Err(KubeFailure::new(format!(
                "X-Kubernetes-Server must be an http(s) URL, got: {server}"
            )));
        }
        let mut config = Config::new(url);
        tune(&mut config, &self.opts.flags);
        config.auth_info = token_only(token.clone());
        let flags = &self.opts.flags;
        if let Some(ca) = &flags.certificate_authority {
            config.root_cert = Some(read_ca(ca).map_err(KubeFailure::new)?);
        } else if let Ok(base) = self.base().await {
            // The kubeconfig's CA (never its credentials) still fits its own server.
            if norm(&base.cluster_url.to_string()) == norm(server) {
                config.root_cert = base.root_cert.clone();
                config.tls_server_name = base.tls_server_name.clone();
            }
        }
        config.accept_invalid_certs = flags.insecure_skip_tls_verify;
        Ok(config)
    }
}

/// Credentials consisting of a bearer token and nothing else.
fn token_only(token: SecretString) -> AuthInfo {
    AuthInfo {
        token: Some(token),
        ..Default::default()
    }
}

/// Default `--request-timeout`: a model and its user learn within this that
/// the API server does not answer.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default `--connect-timeout`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Timeouts of ordinary calls (the watch client drops the read timeout).
fn tune(config: &mut Config, flags: &KubeFlags) {
    let zero_is_none = |d: Duration| (!d.is_zero()).then_some(d);
    config.connect_timeout = zero_is_none(flags.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT));
    let request = zero_is_none(flags.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT));
    config.read_timeout = request;
    config.write_timeout = request;
}

fn read_ca(path: &PathBuf) -> Result<Vec<Vec<u8>>, String> {
    let certs: Vec<Vec<u8>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| {
            format!(
                "cannot read --certificate-authority {}: {e}",
                path.display()
            )
        })?
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--certificate-authority {} is not PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "--certificate-authority {} holds no certificate",
            path.display()
        ));
    }
    Ok(certs)
}

/// Loads kubeconfig (or in-cluster config) and applies the server's flags.
async fn load_base(flags: &KubeFlags) -> Result<Config, String> {
    let opts = KubeConfigOptions {
        context: flags.context.clone(),
        ..Default::default()
    };
    let loaded = match &flags.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| {
                format!(
                    "cannot read kubeconfig {}: {}",
                    path.display(),
                    errors::error_chain(&e)
                )
            })?;
            Config::from_custom_kubeconfig(kc, &opts)
                .await
                .map_err(|e| format!("kubeconfig {}: {}", path.display(), errors::error_chain(&e)))
        }
        None => match Config::from_kubeconfig(&opts).await {
            Ok(c) => Ok(c),
            Err(kerr) if flags.context.is_none() => Config::incluster().map_err(|ierr| {
                format!(
                    "no usable kubeconfig ({}) and not running in a cluster ({})",
                    errors::error_chain(&kerr),
                    errors::error_chain(&ierr)
                )
            }),
            Err(kerr) => {
                return Err(format!(
                    "kubeconfig context \"{}\" cannot be used: {}. List contexts with: kubectl config get-contexts",
                    flags.context.as_deref().unwrap_or_default(),
                    errors::error_chain(&kerr)
                ))
            }
        },
    };
    let server: Option<http::Uri> = flags
        .server
        .as_deref()
        .map(|s| {
            s.parse()
                .map_err(|_| format!("--server is not a valid URL: {s}"))
        })
        .transpose()?;
    let mut config = match (loaded, &server) {
        (Ok(c), _) => c,
        // --server alone is enough to start (with --token, or anonymous).
        (Err(_), Some(url)) => Config::new(url.clone()),
        (Err(e), None) => {
            return Err(format!(
                "No Kubernetes configuration: {e}. Set KUBECONFIG, pass --kubeconfig, or --server and --token."
            ))
        }
    };
    if let Some(url) = server {
        config.cluster_url = url;
    }
    if let Some(token) = &flags.token {
        config.auth_info = token_only(SecretString::from(token.expose().to_owned()));
    }
    if let Some(ca) = &flags.certificate_authority {
        config.root_cert = Some(read_ca(ca)?);
    }
    if flags.insecure_skip_tls_verify {
        config.accept_invalid_certs = true;
    }
    tune(&mut config, flags);
    Ok(config)
}

/// Who the server acts as for a request that brings no token, in words for
/// the audit log: the `--token`'s fingerprint, the kubeconfig context and
/// user, or the in-cluster service account. Never a credential.
pub fn describe_own_identity(flags: &KubeFlags) -> String {
    if let Some(t) = &flags.token {
        return format!(
            "server --token {}",
            crate::audit::token_fingerprint(t.expose())
        );
    }
    let kc = match &flags.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).ok(),
        None => Kubeconfig::read().ok(),
    };
    if let Some(kc) = kc {
        let context = flags.context.clone().or(kc.current_context.clone());
        if let Some(name) = context {
            let user = kc
                .contexts
                .iter()
                .find(|c| c.name == name)
                .and_then(|c| c.context.as_ref())
                .and_then(|c| c.user.clone());
            return match user {
                Some(u) => format!("kubeconfig context {name} (user {u})"),
                None => format!("kubeconfig context {name}"),
            };
        }
    }
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        return "in-cluster service account".to_owned();
    }
    "kubeconfig".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(token: &str, server: &str) -> Identity {
        Identity {
            token: Some(SecretString::from(token.to_owned())),
            server: Some(server.into()),
        }
    }

    #[tokio::test]
    async fn clients_are_cached_per_identity_and_bounded() {
        let access = ClusterAccess::new(AccessOptions::default());
        let a = access
            .connect(&id("a", "http://127.0.0.1:1"))
            .await
            .ok()
            .unwrap();
        access
            .connect(&id("a", "http://127.0.0.1:1"))
            .await
            .ok()
            .unwrap();
        assert_eq!(access.cached_clients(), 1, "same identity, same client");
        access
            .connect(&id("b", "http://127.0.0.1:1"))
            .await
            .ok()
            .unwrap();
        assert_eq!(access.cached_clients(), 2);
        for i in 0..100 {
            access
                .connect(&id(&format!("t{i}"), "http://127.0.0.1:1"))
                .await
                .ok()
                .unwrap();
        }
        assert_eq!(access.cached_clients(), MAX_CLIENTS);
        assert_eq!(a.server, "http://127.0.0.1:1");
    }

    #[tokio::test]
    async fn header_server_rules() {
        let access = ClusterAccess::new(AccessOptions {
            allowed_servers: vec!["https://k8s.example:6443/".into()],
            ..Default::default()
        });
        let no_token = Identity {
            token: None,
            server: Some("https://k8s.example:6443".into()),
        };
        let e = access.connect(&no_token).await.err().unwrap();
        assert!(
            e.message.contains("without an Authorization: Bearer token"),
            "{e}"
        );
        let e = access
            .connect(&id("t", "https://other.example"))
            .await
            .err()
            .unwrap();
        assert!(e.message.contains("--allowed-servers"), "{e}");
        access
            .connect(&id("t", "https://K8S.example:6443"))
            .await
            .ok()
            .unwrap();
        let e = ClusterAccess::new(AccessOptions::default())
            .connect(&id("t", "ftp://x"))
            .await
            .err()
            .unwrap();
        assert!(e.message.contains("http(s) URL"), "{e}");
    }
}
