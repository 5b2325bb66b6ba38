//! The server's drift check: once per cluster (API server URL), started by the
//! first connection to it and cached. A cluster whose Forklift CRDs differ
//! from this build's gets one warning log line, and notes on the affected
//! kinds' explanations and validation errors ([`DriftWatch::note`]). A check
//! that fails (unreachable, or CRDs not readable by this identity) is logged
//! at info level and retried no sooner than [`RETRY_AFTER`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use super::DiffReport;
use crate::cluster::Connection;

/// How long a failed check is not retried.
pub const RETRY_AFTER: Duration = Duration::from_secs(60);
/// How long a note waits for a check still running.
pub const NOTE_WAIT: Duration = Duration::from_secs(5);

/// The check's state for every cluster this server talked to.
#[derive(Default)]
pub struct DriftWatch {
    servers: Mutex<HashMap<String, Arc<Slot>>>,
}

#[derive(Default)]
struct Slot {
    result: OnceCell<Arc<DiffReport>>,
    running: AtomicBool,
    /// When the last check failed, and why.
    failed: Mutex<Option<(Instant, String)>>,
}

impl DriftWatch {
    pub fn new() -> Self {
        Self::default()
    }

    fn slot(&self, server: &str) -> Arc<Slot> {
        let mut m = self.servers.lock().expect("drift lock");
        m.entry(server.to_owned()).or_default().clone()
    }

    /// Starts the check of `conn`'s cluster in the background, unless it is
    /// done, running, or failed a moment ago. Cheap; called on every connection.
    pub fn start(&self, conn: &Connection) {
        let slot = self.slot(&conn.server);
        if slot.result.initialized() || slot.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            slot.running.store(false, Ordering::Release);
            return;
        };
        let conn = conn.clone();
        rt.spawn(async move {
            let _ = check(&slot, &conn).await;
            slot.running.store(false, Ordering::Release);
            // The check parsed and flattened every Forklift CRD of the
            // cluster: what it freed goes back to the system.
            crate::heap::release_free_memory();
        });
    }

    /// The check's result for `conn`'s cluster, running it if needed and
    /// waiting at most `wait`; or why it cannot be had.
    pub async fn result(
        &self,
        conn: &Connection,
        wait: Duration,
    ) -> Result<Arc<DiffReport>, String> {
        let slot = self.slot(&conn.server);
        if let Some(r) = slot.result.get() {
            return Ok(r.clone());
        }
        match tokio::time::timeout(wait, check(&slot, conn)).await {
            Ok(Some(r)) => Ok(r),
            Ok(None) => Err(slot
                .failed
                .lock()
                .expect("drift lock")
                .as_ref()
                .map(|(_, why)| why.clone())
                .unwrap_or_else(|| "not checked".to_owned())),
            Err(_) => Err(format!("no answer within {} s", wait.as_secs())),
        }
    }

    /// The note for `kind` when `conn`'s cluster has drifted for it.
    pub async fn note(&self, conn: &Connection, kind: &str) -> Option<String> {
        self.result(conn, NOTE_WAIT)
            .await
            .ok()?
            .drift
            .note_for(kind)
    }
}

async fn check(slot: &Slot, conn: &Connection) -> Option<Arc<DiffReport>> {
    slot.result
        .get_or_try_init(|| async {
            let recent = slot
                .failed
                .lock()
                .expect("drift lock")
                .as_ref()
                .is_some_and(|(t, _)| t.elapsed() < RETRY_AFTER);
            if recent {
                return Err(());
            }
            match super::diff(conn).await {
                Ok(r) => {
                    if r.identical {
                        tracing::info!(server = %conn.server, "Forklift CRDs in the cluster match this build");
                    } else {
                        tracing::warn!(
                            "Forklift CRDs in the cluster {} differ from those this server was built from ({}); tools validate against the built ones. See `kubectl-mtv crds diff`; rebuild with `kubectl-mtv crds pull`.",
                            conn.server,
                            r.drift.summary()
                        );
                    }
                    Ok(Arc::new(r))
                }
                Err(e) => {
                    *slot.failed.lock().expect("drift lock") = Some((Instant::now(), e.to_string()));
                    tracing::info!(server = %conn.server, "cannot compare the cluster's Forklift CRDs with this build: {e}");
                    Err(())
                }
            }
        })
        .await
        .ok()
        .cloned()
}
