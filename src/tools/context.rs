//! What a tool call runs with: who it acts as, how to reach the cluster, how
//! to report progress, when to stop.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::ToolError;
use super::inventory::client::InventorySettings;
use crate::cluster::{ClusterAccess, Connection, Identity};
use crate::engine::outbox::Outbox;
use crate::protocol::jsonrpc::Frame;
use crate::protocol::LogLevel;

/// Server-wide settings tools read.
#[derive(Debug, Clone)]
pub struct ToolSettings {
    /// How long the API server keeps one watch request open before the
    /// watcher resumes with a new one (its `timeoutSeconds`).
    pub watch_server_timeout: Duration,
    /// How long to wait for a kubelet when reading pod logs.
    pub kubelet_timeout: Duration,
    /// How to reach Forklift's inventory service.
    pub inventory: InventorySettings,
    /// Names of the tools this server serves (set by the engine), for tools
    /// that report what the caller can use.
    pub served_tools: Vec<String>,
}

impl Default for ToolSettings {
    fn default() -> Self {
        ToolSettings {
            watch_server_timeout: Duration::from_secs(290),
            kubelet_timeout: Duration::from_secs(20),
            inventory: InventorySettings::default(),
            served_tools: Vec::new(),
        }
    }
}

/// The context of one tool call.
pub struct CallContext {
    pub access: Arc<ClusterAccess>,
    pub identity: Identity,
    pub settings: Arc<ToolSettings>,
    /// Cancelled when the client cancels the request, its stream goes away,
    /// its session ends or the server shuts down.
    pub cancel: CancellationToken,
    /// When the engine gives up on the call.
    pub deadline: Instant,
    progress: ProgressSink,
}

/// Where progress and log notifications of one call go (bounded and lossy:
/// see [`crate::engine::outbox`]).
pub struct ProgressSink {
    token: Option<Value>,
    outbox: Option<Outbox>,
    /// Lowest level the client asked for with `logging/setLevel`.
    log_level: Option<LogLevel>,
    sent: AtomicU64,
}

impl ProgressSink {
    pub fn new(token: Option<Value>, outbox: Option<Outbox>, log_level: Option<LogLevel>) -> Self {
        ProgressSink {
            token,
            outbox,
            log_level,
            sent: AtomicU64::new(0),
        }
    }

    /// A sink that reports nothing.
    pub fn none() -> Self {
        Self::new(None, None, None)
    }
}

impl CallContext {
    pub fn new(
        access: Arc<ClusterAccess>,
        identity: Identity,
        settings: Arc<ToolSettings>,
        cancel: CancellationToken,
        deadline: Instant,
        progress: ProgressSink,
    ) -> Self {
        CallContext {
            access,
            identity,
            settings,
            cancel,
            deadline,
            progress,
        }
    }

    /// A client for this call's identity (ordinary calls: bounded read timeout).
    pub async fn connect(&self) -> Result<Connection, ToolError> {
        Ok(self.access.connect(&self.identity).await?)
    }

    /// Whether the caller asked for progress notifications.
    pub fn wants_progress(&self) -> bool {
        self.progress.token.is_some() && self.progress.outbox.is_some()
    }

    /// Sends a progress notification (when the caller gave a progress token).
    /// `progress` must grow from one call to the next; `total` may be unknown.
    pub fn progress(&self, progress: f64, total: Option<f64>, message: &str) {
        let (Some(token), Some(out)) = (&self.progress.token, &self.progress.outbox) else {
            return;
        };
        let mut params = json!({"progressToken": token, "progress": progress, "message": message});
        if let Some(t) = total {
            params["total"] = json!(t);
        }
        out.notice(Frame::notification("notifications/progress", &params));
        self.progress.sent.fetch_add(1, Ordering::Relaxed);
    }

    /// Progress notifications sent so far by this call.
    pub fn progress_sent(&self) -> u64 {
        self.progress.sent.load(Ordering::Relaxed)
    }

    /// Sends a log notification when the client asked for this level.
    pub fn log(&self, level: LogLevel, message: &str) {
        let (Some(min), Some(out)) = (self.progress.log_level, &self.progress.outbox) else {
            return;
        };
        if level >= min {
            out.notice(Frame::notification(
                "notifications/message",
                &json!({"level": level.name(), "logger": "kubectl-mtv", "data": message}),
            ));
        }
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}
