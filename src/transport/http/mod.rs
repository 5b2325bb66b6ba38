//! The HTTP server (hyper 1 + tokio, optional TLS via rustls): one port serving
//! the SSE transport at `/sse` + `/messages` and Streamable HTTP at `/mcp`.
//!
//! Every request passes the Host/Origin guard (403) and the body limit (413)
//! before it reaches a transport. SIGINT/SIGTERM stop accepting, end the
//! sessions (cancelling their calls) and wait briefly for connections to close.

pub mod body;
pub mod guard;
pub mod sessions;
pub mod sse;
pub mod streamable;
pub mod tls;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use self::body::Body;
use self::sessions::Sessions;
use crate::engine::Engine;

/// Settings of the HTTP server.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub host: String,
    pub port: u16,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub max_sessions: usize,
    pub session_idle_timeout: Duration,
    pub max_body_bytes: usize,
}

/// State shared by every connection.
pub struct App {
    pub engine: Arc<Engine>,
    pub sessions: Sessions,
    pub max_body: usize,
    /// Bound to loopback only: then Host must be a loopback name.
    pub loopback_only: bool,
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn serve(engine: Arc<Engine>, opts: HttpOptions) -> anyhow::Result<()> {
    let tls = match (&opts.cert_file, &opts.key_file) {
        (Some(c), Some(k)) => Some(tls::acceptor(c, k).map_err(anyhow::Error::msg)?),
        (None, None) => None,
        (Some(_), None) => bail!("--cert-file needs --key-file too (TLS needs both)"),
        (None, Some(_)) => bail!("--key-file needs --cert-file too (TLS needs both)"),
    };
    let host = opts.host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    let listener = TcpListener::bind((host, opts.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", opts.host, opts.port))?;
    let addr = listener.local_addr()?;
    let app = Arc::new(App {
        engine,
        sessions: Sessions::new(opts.max_sessions, opts.session_idle_timeout),
        max_body: opts.max_body_bytes,
        loopback_only: addr.ip().is_loopback(),
    });
    let scheme = if tls.is_some() { "https" } else { "http" };
    let base = match addr {
        SocketAddr::V6(a) => format!("{scheme}://[{}]:{}", a.ip(), a.port()),
        SocketAddr::V4(a) => format!("{scheme}://{a}"),
    };
    tracing::info!("Starting kubectl-mtv MCP server in HTTP mode");
    // Printed at every verbosity: with --port 0 it is how to learn the port.
    eprintln!("Listening on {base}");
    tracing::info!(
        "SSE transport (MCP 2024-11-05): GET {base}/sse, then POST {base}/messages?sessionId=..."
    );
    tracing::info!("Streamable HTTP transport (MCP 2025-03-26 and later): {base}/mcp");
    if tls.is_some() {
        tracing::info!("TLS is on: HTTPS only");
    }

    let sweeper = {
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(
                Duration::from_secs(5)
                    .min(opts.session_idle_timeout.max(Duration::from_millis(200))),
            );
            loop {
                tick.tick().await;
                let n = app.sessions.sweep();
                if n > 0 {
                    tracing::debug!(expired = n, "idle sessions ended");
                }
            }
        })
    };

    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer) = match accepted {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = Arc::clone(&app);
                let watcher = graceful.watcher();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let app = Arc::clone(&app);
                        async move { Ok::<_, Infallible>(route(app, req).await) }
                    });
                    let mut builder = hyper::server::conn::http1::Builder::new();
                    builder.timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(10));
                    match tls {
                        Some(acceptor) => {
                            match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                                Ok(Ok(s)) => {
                                    let conn = builder.serve_connection(TokioIo::new(s), service);
                                    let _ = watcher.watch(conn).await;
                                }
                                Ok(Err(e)) => tracing::debug!("TLS handshake failed: {e}"),
                                Err(_) => tracing::debug!("TLS handshake timed out"),
                            }
                        }
                        None => {
                            let conn = builder.serve_connection(TokioIo::new(stream), service);
                            let _ = watcher.watch(conn).await;
                        }
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    tracing::info!("shutting down: closing sessions and connections");
    drop(listener);
    sweeper.abort();
    app.sessions.clear();
    app.engine.shut_down();
    if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not close within 5 s");
    }
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Guards, body limit, then the route.
async fn route(app: Arc<App>, req: Request<Incoming>) -> Response<Body> {
    let (parts, incoming) = req.into_parts();
    if let Err(why) = guard::check(&parts.headers, app.loopback_only) {
        tracing::debug!(method = %parts.method, path = parts.uri.path(), "refused: {why}");
        return body::text(StatusCode::FORBIDDEN, &format!("Forbidden: {why}"));
    }
    let origin = parts.headers.get(http::header::ORIGIN).cloned();
    if parts.method == Method::OPTIONS {
        return with_cors(body::empty(StatusCode::NO_CONTENT), origin.as_ref(), true);
    }
    let too_big = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|n| n > app.max_body);
    if too_big {
        return body::text(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request body over {} bytes", app.max_body),
        );
    }
    let bytes = match Limited::new(incoming, app.max_body).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return body::text(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body over {} bytes", app.max_body),
            );
        }
        Err(_) => return body::text(StatusCode::BAD_REQUEST, "could not read the request body"),
    };
    let path = parts.uri.path();
    let response = match (&parts.method, path) {
        (&Method::GET, "/sse") => sse::open(&app, &parts.headers),
        (&Method::POST, "/messages" | "/messages/" | "/message") => {
            sse::post(&app, parts.uri.query(), &parts.headers, &bytes).await
        }
        (_, "/mcp" | "/mcp/") => {
            streamable::handle(&app, &parts.method, &parts.headers, &bytes).await
        }
        (&Method::GET, "/healthz") => body::text(StatusCode::OK, "ok"),
        (_, "/sse" | "/messages" | "/healthz") => {
            body::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        }
        _ => body::text(
            StatusCode::NOT_FOUND,
            "not found; MCP is served at /sse and /mcp",
        ),
    };
    tracing::trace!(method = %parts.method, path, status = response.status().as_u16(), "http");
    with_cors(response, origin.as_ref(), false)
}

/// CORS for browser clients whose Origin passed the guard (loopback origins,
/// or the server's own): they may send the MCP and identity headers and read
/// `Mcp-Session-Id`.
fn with_cors(
    mut response: Response<Body>,
    origin: Option<&http::HeaderValue>,
    preflight: bool,
) -> Response<Body> {
    let Some(origin) = origin else {
        return response;
    };
    let h = response.headers_mut();
    h.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    h.insert(http::header::VARY, http::HeaderValue::from_static("Origin"));
    h.insert(
        http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
        http::HeaderValue::from_static("Mcp-Session-Id"),
    );
    if preflight {
        h.insert(
            http::header::ACCESS_CONTROL_ALLOW_METHODS,
            http::HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
        );
        h.insert(
            http::header::ACCESS_CONTROL_ALLOW_HEADERS,
            http::HeaderValue::from_static(
                "Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, X-Kubernetes-Server, Last-Event-ID",
            ),
        );
        h.insert(
            http::header::ACCESS_CONTROL_MAX_AGE,
            http::HeaderValue::from_static("600"),
        );
    }
    response
}
