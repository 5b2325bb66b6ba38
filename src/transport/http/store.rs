//! Where Streamable HTTP keeps its sessions: in this process's memory
//! ([`InMemory`], the default), or nowhere ([`Stateless`], `--stateless`), so
//! that any replica behind a Service can answer any request.
//!
//! The transport asks the store for a session on every POST and never
//! branches on the mode itself.

use std::sync::Arc;

use http::StatusCode;

use super::sessions::{HttpSession, Kind, Sessions};
use crate::cluster::Identity;
use crate::engine::{Engine, SessionState};
use crate::protocol::session::SUPPORTED_VERSIONS;

/// Why a request gets no session: the HTTP status and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: StatusCode,
    pub message: String,
}

impl Refused {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Refused {
            status,
            message: message.into(),
        }
    }
}

/// The protocol version a client assumes when it sends no
/// `MCP-Protocol-Version` header (the Streamable HTTP rules).
pub const VERSION_WITHOUT_HEADER: &str = "2025-03-26";

/// Session handling for Streamable HTTP.
pub trait SessionStore: Send + Sync {
    /// For `initialize`: a new session, and the `Mcp-Session-Id` to return
    /// (none when stateless).
    fn open(&self, engine: &Engine) -> Result<(Option<String>, Arc<SessionState>), Refused>;
    /// For any later request: its session, from the `Mcp-Session-Id` and
    /// `MCP-Protocol-Version` headers.
    fn resume(
        &self,
        engine: &Engine,
        id: Option<&str>,
        version: Option<&str>,
    ) -> Result<Arc<SessionState>, Refused>;
    /// For DELETE: ends the session.
    fn end(&self, id: Option<&str>) -> Result<(), Refused>;
    /// Forgets a session whose `initialize` failed.
    fn forget(&self, id: &str);
    /// For start-up logs.
    fn describe(&self) -> &'static str;
}

/// Checks an `MCP-Protocol-Version` header.
fn check_version(version: Option<&str>) -> Result<(), Refused> {
    match version {
        Some(v) if !SUPPORTED_VERSIONS.contains(&v) => Err(Refused::new(
            StatusCode::BAD_REQUEST,
            format!(
                "Bad Request: unsupported MCP-Protocol-Version {v:?}; supported: {}",
                SUPPORTED_VERSIONS.join(", ")
            ),
        )),
        _ => Ok(()),
    }
}

/// Sessions in this process (shared with the SSE transport's map and limit).
pub struct InMemory(pub Arc<Sessions>);

impl SessionStore for InMemory {
    fn open(&self, engine: &Engine) -> Result<(Option<String>, Arc<SessionState>), Refused> {
        let state = engine.new_session("streamable");
        let (s, _closed) = HttpSession::new(
            Kind::Streamable,
            Arc::clone(&state),
            Identity::default(),
            None,
        );
        let (id, _) = self.0.insert(s).ok_or_else(|| {
            Refused::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many sessions (--max-sessions); try again later",
            )
        })?;
        state.set_id(&id);
        Ok((Some(id), state))
    }

    fn resume(
        &self,
        _engine: &Engine,
        id: Option<&str>,
        version: Option<&str>,
    ) -> Result<Arc<SessionState>, Refused> {
        let Some(id) = id else {
            return Err(Refused::new(
                StatusCode::BAD_REQUEST,
                "Bad Request: Mcp-Session-Id header is required",
            ));
        };
        let Some(s) = self.0.get(id, Kind::Streamable) else {
            return Err(Refused::new(
                StatusCode::NOT_FOUND,
                "Session not found: it expired, was ended, or lives on another replica (run stateful replicas with session affinity, or use --stateless). Send initialize again.",
            ));
        };
        check_version(version)?;
        Ok(Arc::clone(&s.state))
    }

    fn end(&self, id: Option<&str>) -> Result<(), Refused> {
        let Some(id) = id else {
            return Err(Refused::new(
                StatusCode::BAD_REQUEST,
                "Bad Request: Mcp-Session-Id header is required",
            ));
        };
        if self.0.get(id, Kind::Streamable).is_none() {
            return Err(Refused::new(StatusCode::NOT_FOUND, "Session not found"));
        }
        self.0.remove(id);
        Ok(())
    }

    fn forget(&self, id: &str) {
        self.0.remove(id);
    }

    fn describe(&self) -> &'static str {
        "sessions kept in this process (Mcp-Session-Id)"
    }
}

/// No server-side state: every POST stands alone. `initialize` is answered
/// but issues no session id; other requests may come without it, their
/// protocol version taken from `MCP-Protocol-Version`.
pub struct Stateless;

impl SessionStore for Stateless {
    fn open(&self, engine: &Engine) -> Result<(Option<String>, Arc<SessionState>), Refused> {
        Ok((None, engine.stateless_session(None)))
    }

    fn resume(
        &self,
        engine: &Engine,
        _id: Option<&str>,
        version: Option<&str>,
    ) -> Result<Arc<SessionState>, Refused> {
        check_version(version)?;
        Ok(engine.stateless_session(Some(version.unwrap_or(VERSION_WITHOUT_HEADER))))
    }

    fn end(&self, _id: Option<&str>) -> Result<(), Refused> {
        Err(Refused::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "this server is stateless (--stateless): there is no session to end",
        ))
    }

    fn forget(&self, _id: &str) {}

    fn describe(&self) -> &'static str {
        "stateless (no sessions; any replica answers any request)"
    }
}
