//! Logs go to stderr only (stdout belongs to the protocol in stdio mode).
//!
//! `-v 0` shows start-up lines, warnings and errors; 1 adds per-call info;
//! 2 debug; 3 trace for this crate. Other crates stay at warn (info at 3):
//! their debug output can describe HTTP traffic, and credentials must never
//! reach a log line.

use tracing_subscriber::EnvFilter;

/// The filter for a verbosity level.
pub fn filter(verbose: u8) -> String {
    let ours = match verbose {
        0 | 1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let others = if verbose >= 3 { "info" } else { "warn" };
    format!(
        "{others},kubectl_mtv={ours},kubectl_mtv::engine={}",
        if verbose >= 1 { ours } else { "warn" }
    )
}

/// Installs the stderr subscriber.
pub fn init(verbose: u8) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter(verbose)))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .try_init();
}
