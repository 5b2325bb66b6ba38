//! HTTP requests through the server's routing: the Host/Origin guard, the
//! bearer check, the body limit, `/sse` + `/messages`, Streamable HTTP at
//! `/mcp` (sessions in memory or stateless) and the operator endpoints,
//! with no socket (`transport::http::fuzzing`).
//!
//! Input: a flags byte, then up to `MAX_REQUESTS` requests separated by a
//! line `----`, each written like HTTP/1:
//!
//! ```text
//! POST /mcp
//! Accept: application/json, text/event-stream
//! Mcp-Session-Id: {sid}
//!
//! {"jsonrpc":"2.0","id":1,"method":"tools/list"}
//! ```
//!
//! `{sid}` in the target or a header value is replaced by the last session
//! id the server gave (an `Mcp-Session-Id` header, or the `endpoint` event
//! of an SSE stream, which stays open until the input ends). Flags: bit 0
//! bound to loopback (else network-facing), bit 1 `--allow-kubeconfig-fallback`,
//! bit 2 `--stateless`, bit 3 a 64-byte body limit (else 64 KiB), bits 4-5
//! the body's chunk size (1, 7, 64 bytes or whole), bit 6 the body ends
//! with a read error, bit 7 at most one session.

#![no_main]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Method, Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use kubectl_mtv::transport::http::body::Body;
use kubectl_mtv::transport::http::{fuzzing, App, HttpOptions};
use kubectl_mtv_fuzz::{check_frame, engine, runtime};
use libfuzzer_sys::fuzz_target;

const MAX_REQUESTS: usize = 8;
const SEPARATOR: &[u8] = b"\n----\n";
/// Longest a streamed response is read (virtual time).
const READ_BOUND: Duration = Duration::from_secs(600);

struct Flags(u8);

impl Flags {
    fn bit(&self, n: u8) -> bool {
        self.0 & (1 << n) != 0
    }
    fn chunk(&self) -> usize {
        [1, 7, 64, usize::MAX][usize::from((self.0 >> 4) & 3)]
    }
}

fn split(data: &[u8], sep: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        out.push(rest[..i].to_vec());
        rest = &rest[i + sep.len()..];
    }
    out.push(rest.to_vec());
    out
}

fn substitute(text: &[u8], sid: &str) -> Vec<u8> {
    split(text, b"{sid}").join(sid.as_bytes())
}

type FuzzBody =
    StreamBody<futures::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, std::io::Error>>>>;

/// Builds one request, or `None` when the text is not one `http` accepts.
fn request(text: &[u8], sid: &str, flags: &Flags) -> Option<Request<FuzzBody>> {
    let (head, body) = match text.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&text[..i], &text[i + 2..]),
        None => (text, &b""[..]),
    };
    let mut lines = head.split(|&b| b == b'\n');
    let first = lines.next()?;
    let (method, target) = match first.iter().position(|&b| b == b' ') {
        Some(i) => (&first[..i], &first[i + 1..]),
        None => (first, &b"/"[..]),
    };
    let mut b = Request::builder()
        .method(Method::from_bytes(method).ok()?)
        .uri(substitute(target, sid));
    for line in lines {
        let Some(i) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = http::HeaderName::from_bytes(line[..i].trim_ascii()).ok()?;
        let value =
            http::HeaderValue::from_bytes(&substitute(line[i + 1..].trim_ascii(), sid)).ok()?;
        b = b.header(name, value);
    }
    let mut chunks: Vec<Result<Frame<Bytes>, std::io::Error>> = body
        .chunks(flags.chunk().min(body.len().max(1)))
        .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    if flags.bit(6) {
        chunks.push(Err(std::io::Error::other("connection reset")));
    }
    b.body(StreamBody::new(futures::stream::iter(chunks))).ok()
}

/// The `sessionId` an SSE `endpoint` event names. Only an `endpoint`
/// event counts: a Streamable HTTP call's stream may quote
/// `sessionId=` in a message (an argument name echoed in an error).
fn endpoint_session(event: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(event).ok()?;
    let data = text.strip_prefix("event: endpoint\n")?;
    let (_, rest) = data.split_once("sessionId=")?;
    Some(rest.split(['&', '\n', '\r']).next()?.to_owned())
}

/// Checks the JSON-RPC messages of SSE `data:` lines.
fn check_events(bytes: &[u8]) {
    for line in bytes.split(|&b| b == b'\n') {
        if let Some(data) = line.strip_prefix(b"data: ") {
            if data.first() == Some(&b'{') || data.first() == Some(&b'[') {
                check_frame(data);
            }
        }
    }
}

async fn answer(
    app: &Arc<App>,
    response: Response<Body>,
    sid: &mut String,
    streams: &mut Vec<Body>,
) {
    if let Some(id) = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
    {
        *sid = id.to_owned();
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut body = response.into_body();
    if content_type.starts_with("text/event-stream") {
        // An SSE session's stream: its first event names the session.
        // Streamable HTTP's stream of one call ends after the reply.
        let first = tokio::time::timeout(READ_BOUND, body.frame()).await;
        let Ok(Some(Ok(frame))) = first else { return };
        let Ok(data) = frame.into_data() else { return };
        if let Some(id) = endpoint_session(&data) {
            assert!(
                app.sessions.len() > 0,
                "an endpoint event for a session that is not open"
            );
            *sid = id;
            streams.push(body);
            return;
        }
        check_events(&data);
        let rest = tokio::time::timeout(READ_BOUND, body.collect()).await;
        if let Ok(Ok(c)) = rest {
            check_events(&c.to_bytes());
        }
        return;
    }
    let bytes = match tokio::time::timeout(READ_BOUND, body.collect()).await {
        Ok(Ok(c)) => c.to_bytes(),
        _ => panic!("a plain response body did not end"),
    };
    if content_type.starts_with("application/json") && !bytes.is_empty() {
        check_frame(&bytes);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let flags = Flags(flags);
    let opts = HttpOptions {
        host: "127.0.0.1".into(),
        port: 0,
        cert_file: None,
        key_file: None,
        max_sessions: if flags.bit(7) { 1 } else { 16 },
        session_idle_timeout: Duration::from_secs(1800),
        max_body_bytes: if flags.bit(3) { 64 } else { 64 * 1024 },
        stateless: flags.bit(2),
        require_tls: false,
        allow_kubeconfig_fallback: flags.bit(1),
        max_connections: 1024,
        header_read_timeout: Duration::from_secs(10),
    };
    let app = fuzzing::app(engine(), &opts, flags.bit(0));
    let texts = split(rest, SEPARATOR);
    runtime().block_on(async move {
        let mut sid = String::new();
        let mut streams = Vec::new();
        for text in texts.iter().take(MAX_REQUESTS) {
            let Some(req) = request(text, &sid, &flags) else {
                continue;
            };
            let response = fuzzing::route(Arc::clone(&app), req).await;
            answer(&app, response, &mut sid, &mut streams).await;
        }
        // The SSE streams: read what their sessions sent, then disconnect.
        for mut body in streams {
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                while let Some(Ok(frame)) = body.frame().await {
                    if let Ok(data) = frame.into_data() {
                        check_events(&data);
                    }
                }
            })
            .await;
        }
        app.sessions.clear();
    });
});
