//! Prometheus metrics of one server process (prometheus-client), served at
//! `GET /metrics` in HTTP mode.
//!
//! One process-wide set: tool calls by tool and outcome, call durations,
//! Kubernetes API failures by status, open sessions by transport, calls in
//! flight, progress notifications dropped for slow clients, and build info.

use std::sync::LazyLock;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// The metrics; see [`metrics`].
pub struct Metrics {
    registry: Registry,
    tool_calls: Family<Labels, Counter>,
    tool_duration: Family<Labels, Histogram>,
    kube_errors: Family<Labels, Counter>,
    sessions: Family<Labels, Gauge>,
    inflight: Gauge,
    dropped_notifications: Counter,
}

/// How a tool call ended, for metrics and the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    Ok,
    /// The tool answered with `isError` (bad arguments, refused, failed call).
    ToolError,
    /// The API server refused the caller (401/403).
    Denied,
    /// The client cancelled, went away, or the server shut down.
    Cancelled,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::ToolError => "tool_error",
            CallOutcome::Denied => "denied",
            CallOutcome::Cancelled => "cancelled",
        }
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("kubectl_mtv");
        let tool_calls = Family::<Labels, Counter>::default();
        registry.register(
            "tool_calls",
            "Tool calls by tool and outcome (ok, tool_error, denied, cancelled)",
            tool_calls.clone(),
        );
        let tool_duration = Family::<Labels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
            ])
        });
        registry.register(
            "tool_call_duration_seconds",
            "Tool call duration by tool",
            tool_duration.clone(),
        );
        let kube_errors = Family::<Labels, Counter>::default();
        registry.register(
            "kube_api_errors",
            "Failed Kubernetes API calls by HTTP status (\"transport\" when the API server did not answer)",
            kube_errors.clone(),
        );
        let sessions = Family::<Labels, Gauge>::default();
        registry.register(
            "sessions",
            "Open MCP sessions by transport",
            sessions.clone(),
        );
        for t in ["stdio", "sse", "streamable"] {
            sessions
                .get_or_create(&vec![("transport", t.to_owned())])
                .set(0);
        }
        let inflight = Gauge::default();
        registry.register("inflight_calls", "Tool calls running now", inflight.clone());
        let dropped_notifications = Counter::default();
        registry.register(
            "notifications_dropped",
            "Progress and log notifications dropped because a client read too slowly",
            dropped_notifications.clone(),
        );
        let build = Family::<Labels, Gauge>::default();
        registry.register("build_info", "Build information", build.clone());
        build
            .get_or_create(&vec![("version", env!("CARGO_PKG_VERSION").to_owned())])
            .set(1);
        Metrics {
            registry,
            tool_calls,
            tool_duration,
            kube_errors,
            sessions,
            inflight,
            dropped_notifications,
        }
    }

    /// Counts one finished tool call.
    pub fn tool_call(&self, tool: &str, outcome: CallOutcome, seconds: f64) {
        self.tool_calls
            .get_or_create(&vec![
                ("tool", tool.to_owned()),
                ("outcome", outcome.as_str().to_owned()),
            ])
            .inc();
        self.tool_duration
            .get_or_create(&vec![("tool", tool.to_owned())])
            .observe(seconds);
    }

    /// Counts one failed Kubernetes API call (`None`: no HTTP answer).
    pub fn kube_error(&self, status: Option<u16>) {
        let status = status.map_or_else(|| "transport".to_owned(), |c| c.to_string());
        self.kube_errors
            .get_or_create(&vec![("status", status)])
            .inc();
    }

    /// A session of `transport` opened (`+1`) or ended (`-1`).
    pub fn session(&self, transport: &str, delta: i64) {
        self.sessions
            .get_or_create(&vec![("transport", transport.to_owned())])
            .inc_by(delta);
    }

    /// Open sessions of `transport`.
    pub fn open_sessions(&self, transport: &str) -> i64 {
        self.sessions
            .get_or_create(&vec![("transport", transport.to_owned())])
            .get()
    }

    /// A call started (`+1`) or ended (`-1`).
    pub fn inflight(&self, delta: i64) {
        self.inflight.inc_by(delta);
    }

    /// A notification was dropped for a slow client.
    pub fn notification_dropped(&self) {
        self.dropped_notifications.inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_show_in_the_text() {
        let m = Metrics::new();
        m.tool_call("get_plans", CallOutcome::Ok, 0.02);
        m.tool_call("get_plans", CallOutcome::Denied, 0.01);
        m.kube_error(Some(403));
        m.kube_error(None);
        m.session("sse", 1);
        m.notification_dropped();
        let text = m.render();
        assert!(text.contains("kubectl_mtv_tool_calls_total{tool=\"get_plans\",outcome=\"ok\"} 1"));
        assert!(text.contains("outcome=\"denied\"} 1"));
        assert!(text.contains("kubectl_mtv_kube_api_errors_total{status=\"403\"} 1"));
        assert!(text.contains("kubectl_mtv_kube_api_errors_total{status=\"transport\"} 1"));
        assert!(text.contains("kubectl_mtv_sessions{transport=\"sse\"} 1"));
        assert!(text.contains("kubectl_mtv_notifications_dropped_total 1"));
        assert!(text.contains("kubectl_mtv_tool_call_duration_seconds_bucket"));
        assert!(text.contains("kubectl_mtv_build_info{version="));
    }
}
