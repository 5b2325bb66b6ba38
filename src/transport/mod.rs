//! Transports: how messages reach the engine and replies reach the client.
//! - [`stdio`]: newline-delimited JSON-RPC on stdin/stdout;
//! - [`http`]: SSE and Streamable HTTP on one port, optionally over TLS.

pub mod http;
pub mod stdio;
