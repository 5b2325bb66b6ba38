//! What the watching tools share: their time window, the kube-rs watcher
//! settings, and watcher errors told as Kubernetes failures.
//!
//! Watches use `kube::runtime::watcher`: it resumes from the last
//! resourceVersion when the API server closes a watch request, and lists
//! again after 410 Gone. Errors between retries are backed off.

use std::time::Duration;

use futures::Stream;
use kube::api::Api;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::Resource;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::CallContext;
use crate::cluster::errors::Attempt;
use crate::cluster::KubeFailure;

/// Longest watch a call may ask for.
pub const MAX_WATCH: Duration = Duration::from_secs(30 * 60);
/// Time the engine allows beyond the watch window (to send the summary).
const SLACK: Duration = Duration::from_secs(30);

/// The watch window a call asked for (`timeout_seconds`), clamped to 1 s ..= 30 min.
pub fn window(timeout_seconds: Option<u64>, default: Duration) -> Duration {
    timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(default)
        .clamp(Duration::from_secs(1), MAX_WATCH)
}

/// The engine's time limit for a watching call with these arguments.
pub fn time_limit(args: &Value, default: Duration) -> Duration {
    window(args["timeout_seconds"].as_u64(), default) + SLACK
}

/// A backed-off watcher stream over `api` with the server's watch settings.
pub fn stream<K>(
    api: Api<K>,
    ctx: &CallContext,
    labels: Option<&str>,
    fields: Option<&str>,
) -> impl Stream<Item = Result<Event<K>, watcher::Error>> + Send
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    let secs = ctx.settings.watch_server_timeout.as_secs().clamp(1, 3600) as u32;
    let mut cfg = watcher::Config::default().timeout(secs);
    if let Some(l) = labels.filter(|l| !l.is_empty()) {
        cfg = cfg.labels(l);
    }
    if let Some(f) = fields {
        cfg = cfg.fields(f);
    }
    watcher::watcher(api, cfg).default_backoff()
}

/// A watcher error as a failure a person can act on.
pub fn failure(err: watcher::Error, attempt: &Attempt<'_>) -> KubeFailure {
    let kube_err = match err {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => e,
        watcher::Error::WatchError(status) => kube::Error::Api(status),
        watcher::Error::NoResourceVersion => {
            return KubeFailure::new(format!(
                "The API server {} gave no resourceVersion for {}: it cannot be watched.",
                attempt.server, attempt.resource
            ))
        }
    };
    KubeFailure::from_kube(&kube_err, attempt)
}

/// Why a watch ended, for results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The window passed.
    Timeout,
    /// What the caller waited for happened.
    Reached,
    /// The watched object was deleted.
    Deleted,
}

impl Ended {
    pub fn as_str(self) -> &'static str {
        match self {
            Ended::Timeout => "timeout",
            Ended::Reached => "reached",
            Ended::Deleted => "deleted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn windows_are_clamped() {
        let d = Duration::from_secs(30);
        assert_eq!(window(None, d), d);
        assert_eq!(window(Some(0), d), Duration::from_secs(1));
        assert_eq!(window(Some(99_999), d), MAX_WATCH);
        assert_eq!(
            time_limit(&json!({"timeout_seconds": 10}), d),
            Duration::from_secs(40)
        );
    }
}
