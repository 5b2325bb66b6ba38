//! The protocol layer: JSON-RPC 2.0 and the MCP lifecycle. Free of I/O, so it
//! is tested with plain unit tests; transports feed it parsed messages.

pub mod jsonrpc;
pub mod session;

pub use jsonrpc::{Id, Incoming, Message, RpcError};
pub use session::{Action, LogLevel, PromptCatalog, ServerInfo, Session, ToolCatalog};
