//! Logs go to stderr only (stdout belongs to the protocol in stdio mode).
//!
//! `-v 0`: warnings and errors only; 1: start-up and one line per session;
//! 2: one line per request (method, tool, duration, outcome); 3: protocol
//! detail (message kinds and sizes). Other crates stay at warn (info at 3):
//! their debug output can describe HTTP traffic, and credentials must never
//! reach a log line. (The HTTP server's listening address is printed at
//! every level: with `--port 0` it is the only way to learn the port.)

use tracing_subscriber::EnvFilter;

/// The filter for a verbosity level.
pub fn filter(verbose: u8) -> String {
    let ours = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let others = if verbose >= 3 { "info" } else { "warn" };
    format!("{others},kubectl_mtv={ours}")
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
