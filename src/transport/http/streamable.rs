//! The Streamable HTTP transport (MCP 2025-03-26, 2025-06-18, 2025-11-25) at `/mcp`.
//!
//! POST carries one JSON-RPC message. `initialize` creates a session and
//! returns its `Mcp-Session-Id`; later requests must carry it (400 when
//! missing, 404 when unknown). Replies are JSON, or for tool calls an SSE
//! stream (progress and log notifications, then the reply) when the client
//! accepts it. Notifications get 202. GET is 405 (no server-initiated
//! stream); DELETE ends the session. Every POST acts as its own headers'
//! identity. A client that drops a POST's response before the reply cancels
//! that call.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use tokio::sync::mpsc;

use super::body::{self, Body};
use super::sessions::{HttpSession, Kind};
use super::App;
use crate::cluster::Identity;
use crate::engine::outbox::{outbox, NOTICE_CAPACITY};
use crate::engine::Outcome;
use crate::protocol::jsonrpc::{self, Frame, Incoming, Message, RpcError, INVALID_REQUEST};
use crate::protocol::session::SUPPORTED_VERSIONS;

pub const SESSION_HEADER: &str = "mcp-session-id";
pub const VERSION_HEADER: &str = "mcp-protocol-version";

fn rpc_error(status: StatusCode, code: i64, message: &str) -> Response<Body> {
    body::frame(status, Frame::error(None, &RpcError::new(code, message)))
}

pub async fn handle(
    app: &Arc<App>,
    method: &Method,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Response<Body> {
    let session_id = headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match *method {
        Method::POST => post(app, headers, session_id, bytes).await,
        Method::DELETE => match session_id {
            None => rpc_error(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST,
                "Bad Request: Mcp-Session-Id header is required",
            ),
            Some(id) if app.sessions.get(&id, Kind::Streamable).is_some() => {
                app.sessions.remove(&id);
                body::empty(StatusCode::NO_CONTENT)
            }
            Some(_) => rpc_error(StatusCode::NOT_FOUND, INVALID_REQUEST, "Session not found"),
        },
        _ => {
            let mut r = body::text(
                StatusCode::METHOD_NOT_ALLOWED,
                "this server opens no server-initiated stream; use POST",
            );
            r.headers_mut().insert(
                http::header::ALLOW,
                HeaderValue::from_static("POST, DELETE"),
            );
            r
        }
    }
}

async fn post(
    app: &Arc<App>,
    headers: &HeaderMap,
    session_id: Option<String>,
    bytes: &[u8],
) -> Response<Body> {
    let accept = headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let wants_sse = accept.contains("text/event-stream");
    if !accept.is_empty()
        && !accept.contains("application/json")
        && !wants_sse
        && !accept.contains("*/*")
    {
        return rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            INVALID_REQUEST,
            "Not Acceptable: accept application/json and text/event-stream",
        );
    }
    let msg = match jsonrpc::parse_incoming(bytes) {
        Ok(m) => m,
        Err(rejected) => return body::frame(StatusCode::BAD_REQUEST, rejected.response()),
    };
    let is_initialize =
        matches!(&msg, Incoming::One(Message::Request { method, .. }) if method == "initialize");
    let (id, session) = if is_initialize {
        let (s, _closed) = HttpSession::new(
            Kind::Streamable,
            app.engine.new_session(),
            Identity::default(),
            None,
        );
        match app.sessions.insert(s) {
            Some(pair) => pair,
            None => {
                return rpc_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    INVALID_REQUEST,
                    "too many sessions; try again later",
                )
            }
        }
    } else {
        let Some(id) = session_id else {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST,
                "Bad Request: Mcp-Session-Id header is required",
            );
        };
        let Some(s) = app.sessions.get(&id, Kind::Streamable) else {
            return rpc_error(StatusCode::NOT_FOUND, INVALID_REQUEST, "Session not found");
        };
        if let Some(v) = headers.get(VERSION_HEADER) {
            let v = v.to_str().unwrap_or("");
            if !SUPPORTED_VERSIONS.contains(&v) {
                return rpc_error(
                    StatusCode::BAD_REQUEST,
                    INVALID_REQUEST,
                    &format!(
                        "Bad Request: unsupported MCP-Protocol-Version {v:?}; supported: {}",
                        SUPPORTED_VERSIONS.join(", ")
                    ),
                );
            }
        }
        (id, s)
    };
    let identity = Identity::from_headers(headers);
    let (out, mut notices) = outbox(4, NOTICE_CAPACITY);
    let outcome = app
        .engine
        .accept_incoming(&session.state, msg, identity, &out);
    let mut response = match outcome {
        Outcome::Reply(f) => {
            if is_initialize && f.is_error() {
                app.sessions.remove(&id);
            }
            body::frame(StatusCode::OK, f)
        }
        Outcome::Nothing => body::empty(StatusCode::ACCEPTED),
        Outcome::Pending(call) if wants_sse => {
            // Progress and log notifications, then the reply, on this
            // response's stream; a client that goes away cancels the call.
            let (tx, rx) = mpsc::channel::<Bytes>(16);
            let cancel = call.canceller();
            tokio::spawn(call.deliver_to(out));
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        f = notices.next() => match f {
                            Some(f) => {
                                if tx.send(body::message_event(&f)).await.is_err() {
                                    cancel.cancel();
                                    break;
                                }
                            }
                            None => break,
                        },
                        _ = tx.closed() => {
                            cancel.cancel();
                            break;
                        }
                    }
                }
            });
            body::sse(rx)
        }
        Outcome::Pending(call) => {
            // A plain JSON reply carries no notifications.
            drop(notices);
            match call.reply().await {
                Some(f) => body::frame(StatusCode::OK, f),
                None => body::empty(StatusCode::ACCEPTED),
            }
        }
    };
    if is_initialize && response.status() == StatusCode::OK {
        response
            .headers_mut()
            .insert(SESSION_HEADER, HeaderValue::from_str(&id).expect("hex id"));
    }
    response
}
