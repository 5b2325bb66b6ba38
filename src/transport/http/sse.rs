//! The HTTP+SSE transport of MCP 2024-11-05.
//!
//! `GET /sse` opens a session's event stream; its first event, `endpoint`,
//! names the URL to POST messages to. POSTs are answered 202 and the replies
//! travel as `message` events on the stream. The identity is the GET's
//! headers; a POST with its own headers overrides them for that request.
//! When the client goes away, its session and running calls end.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use tokio::sync::mpsc;

use super::body::{self, Body};
use super::sessions::{HttpSession, Kind};
use super::App;
use crate::cluster::Identity;
use crate::engine::outbox::{outbox, REPLY_CAPACITY};
use crate::protocol::jsonrpc;

const KEEPALIVE: Duration = Duration::from_secs(15);

/// GET /sse
pub fn open(app: &Arc<App>, headers: &HeaderMap) -> Response<Body> {
    let identity = Identity::from_headers(headers);
    let (out, mut reader) = outbox(REPLY_CAPACITY, app.engine.limits.notification_queue);
    let (session, mut closed) = HttpSession::new(
        Kind::Sse,
        app.engine.new_session("sse"),
        identity,
        Some(out),
    );
    let Some((id, session)) = app.sessions.insert(session) else {
        return body::text(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many sessions (--max-sessions); try again later",
        );
    };
    session.state.set_id(&id);
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let endpoint = format!("/messages?sessionId={id}");
    let app = Arc::clone(app);
    tokio::spawn(async move {
        if tx
            .send(body::event(Some("endpoint"), &endpoint))
            .await
            .is_err()
        {
            app.sessions.remove(&id);
            return;
        }
        let mut tick = tokio::time::interval(KEEPALIVE);
        tick.tick().await;
        loop {
            tokio::select! {
                msg = reader.next() => match msg {
                    Some(f) => if tx.send(body::message_event(&f)).await.is_err() { break },
                    None => break,
                },
                _ = tick.tick() => if tx.send(Bytes::from_static(b": keepalive\n\n")).await.is_err() { break },
                _ = tx.closed() => break,
                _ = &mut closed => break,
            }
        }
        // The client disconnected, or the session ended: free it.
        app.sessions.remove(&id);
        tracing::debug!("SSE stream closed");
    });
    body::sse(rx)
}

/// POST /messages?sessionId=…
pub async fn post(
    app: &Arc<App>,
    query: Option<&str>,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Response<Body> {
    let id = query
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "sessionId" || *k == "session_id")
        .map(|(_, v)| v);
    let Some(id) = id else {
        return body::text(StatusCode::BAD_REQUEST, "missing sessionId query parameter");
    };
    let Some(session) = app.sessions.get(id, Kind::Sse) else {
        return body::text(
            StatusCode::NOT_FOUND,
            "unknown or expired session; open /sse again",
        );
    };
    let stream = session.stream.clone().expect("SSE sessions have a stream");
    let msg = match jsonrpc::parse_incoming(bytes) {
        Ok(m) => m,
        Err(rejected) => return body::frame(StatusCode::BAD_REQUEST, rejected.response()),
    };
    let identity = session
        .identity
        .overridden_by(&Identity::from_headers(headers));
    let outcome = app
        .engine
        .accept_incoming(&session.state, msg, identity, &stream);
    if let Some(reply) = outcome.deliver(&stream).await {
        tokio::spawn(reply);
    }
    body::text(StatusCode::ACCEPTED, "Accepted")
}
