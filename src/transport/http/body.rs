//! Response helpers: JSON, plain text and Server-Sent Events bodies.

use std::convert::Infallible;

use bytes::Bytes;
use http::{header, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::Frame;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::protocol::jsonrpc::Frame as Message;
use tokio_stream::{wrappers::ReceiverStream, StreamExt};

pub type Body = BoxBody<Bytes, Infallible>;

pub fn full(status: StatusCode, content_type: &str, bytes: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(bytes.into()).boxed())
        .expect("valid response")
}

pub fn json(status: StatusCode, value: &Value) -> Response<Body> {
    full(
        status,
        "application/json",
        serde_json::to_vec(value).expect("JSON"),
    )
}

/// A JSON-RPC message, already serialized, as a JSON body.
pub fn frame(status: StatusCode, frame: Message) -> Response<Body> {
    full(status, "application/json", frame.into_bytes())
}

pub fn text(status: StatusCode, message: &str) -> Response<Body> {
    full(status, "text/plain; charset=utf-8", format!("{message}\n"))
}

pub fn empty(status: StatusCode) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::new()).boxed())
        .expect("valid response")
}

/// One SSE event; multi-line data is split into several `data:` lines.
pub fn event(name: Option<&str>, data: &str) -> Bytes {
    let mut s = String::with_capacity(data.len() + 32);
    if let Some(n) = name {
        s.push_str("event: ");
        s.push_str(n);
        s.push('\n');
    }
    for line in data.split('\n') {
        s.push_str("data: ");
        s.push_str(line);
        s.push('\n');
    }
    s.push('\n');
    Bytes::from(s)
}

/// A JSON-RPC message as an SSE `message` event (compact JSON: one line).
pub fn message_event(frame: &Message) -> Bytes {
    let json = std::str::from_utf8(frame.bytes()).expect("JSON is UTF-8");
    event(Some("message"), json)
}

/// A streaming `text/event-stream` response fed by `rx`.
pub fn sse(rx: mpsc::Receiver<Bytes>) -> Response<Body> {
    let stream = ReceiverStream::new(rx).map(|b| Ok::<_, Infallible>(Frame::data(b)));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .header("x-accel-buffering", "no")
        .body(BodyExt::boxed(StreamBody::new(stream)))
        .expect("valid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_framing() {
        assert_eq!(
            &event(Some("endpoint"), "/messages?sessionId=1")[..],
            b"event: endpoint\ndata: /messages?sessionId=1\n\n"
        );
        assert_eq!(&event(None, "a\nb")[..], b"data: a\ndata: b\n\n");
    }
}
