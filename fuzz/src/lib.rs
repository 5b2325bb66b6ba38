//! What the fuzz targets share: one engine serving every toolset, whose
//! cluster access can never reach a network (its kubeconfig does not exist,
//! so every tool call fails fast when it tries to connect), and a fresh
//! single-threaded runtime per input with paused time (timers fire as soon
//! as nothing else can run), so no task, timer or session outlives an input.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use kubectl_mtv::cli::KubeFlags;
use kubectl_mtv::cluster::AccessOptions;
use kubectl_mtv::engine::Engine;
use kubectl_mtv::tools::{CatalogueOptions, Registry, ToolSettings};

/// A kubeconfig path that does not exist.
pub const NO_KUBECONFIG: &str = "/nonexistent/kubectl-mtv-fuzz/kubeconfig";

/// Cluster access that fails at once: no kubeconfig, no server, no inventory.
pub fn access_options() -> AccessOptions {
    AccessOptions {
        flags: KubeFlags {
            kubeconfig: Some(PathBuf::from(NO_KUBECONFIG)),
            ..Default::default()
        },
        allowed_servers: Vec::new(),
    }
}

/// Every toolset, all tools (none filtered), the default page size.
pub fn registry() -> Registry {
    Registry::with_options(&CatalogueOptions {
        toolsets: vec!["all".to_owned()],
        ..Default::default()
    })
}

/// The engine shared by every input (it keeps no per-session state).
pub fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            // Take no configuration from the environment of the run.
            std::env::remove_var("KUBECONFIG");
            std::env::remove_var("MTV_INVENTORY_URL");
            Arc::new(Engine::new(
                registry(),
                access_options(),
                ToolSettings::default(),
            ))
        })
        .clone()
}

/// A new current-thread runtime with paused time; dropping it ends every
/// task spawned on it.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("tokio runtime")
}

/// Asserts that a frame the server sends is JSON-RPC 2.0 JSON (one message
/// or a batch of them).
pub fn check_frame(bytes: &[u8]) {
    let v: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => panic!(
            "the server sent invalid JSON ({e}): {}",
            String::from_utf8_lossy(bytes)
        ),
    };
    let one = |m: &serde_json::Value| {
        assert_eq!(m["jsonrpc"], "2.0", "not JSON-RPC 2.0: {m}");
    };
    match &v {
        serde_json::Value::Array(items) => {
            assert!(!items.is_empty(), "an empty batch reply");
            items.iter().for_each(one);
        }
        m => one(m),
    }
}
