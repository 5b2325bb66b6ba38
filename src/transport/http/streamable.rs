//! The Streamable HTTP transport (MCP 2025-03-26, 2025-06-18, 2025-11-25) at `/mcp`.
//!
//! POST carries one JSON-RPC message. Sessions come from the server's
//! [`SessionStore`](super::store::SessionStore): by default `initialize`
//! creates one and returns its `Mcp-Session-Id`, which later requests must
//! carry (400 when missing, 404 when unknown); with `--stateless` there are
//! none and every POST stands alone. Replies are JSON, or for tool calls an SSE
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
use super::store::Refused;
use super::App;
use crate::cluster::Identity;
use crate::engine::outbox::outbox;
use crate::engine::Outcome;
use crate::protocol::jsonrpc::{self, Frame, Incoming, Message, RpcError, INVALID_REQUEST};

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
    let session_id = headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok());
    match *method {
        Method::POST => post(app, headers, session_id, bytes).await,
        Method::DELETE => match app.store.end(session_id) {
            Ok(()) => body::empty(StatusCode::NO_CONTENT),
            Err(r) => refused(r),
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

fn refused(r: Refused) -> Response<Body> {
    rpc_error(r.status, INVALID_REQUEST, &r.message)
}

async fn post(
    app: &Arc<App>,
    headers: &HeaderMap,
    session_id: Option<&str>,
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
    let version = headers
        .get(VERSION_HEADER)
        .map(|v| v.to_str().unwrap_or("?"));
    let found = if is_initialize {
        app.store.open(&app.engine)
    } else {
        app.store
            .resume(&app.engine, session_id, version)
            .map(|s| (None, s))
    };
    let (id, session) = match found {
        Ok(pair) => pair,
        Err(r) => return refused(r),
    };
    let identity = Identity::from_headers(headers);
    let (out, mut notices) = outbox(4, app.engine.limits.notification_queue);
    let outcome = app.engine.accept_incoming(&session, msg, identity, &out);
    let mut response = match outcome {
        Outcome::Reply(f) => {
            if let (Some(id), true) = (&id, f.is_error()) {
                app.store.forget(id);
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
    if let (Some(id), StatusCode::OK) = (&id, response.status()) {
        response
            .headers_mut()
            .insert(SESSION_HEADER, HeaderValue::from_str(id).expect("hex id"));
    }
    response
}
