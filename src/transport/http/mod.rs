//! The HTTP server (hyper 1 + tokio, optional TLS via rustls): one port serving
//! the SSE transport at `/sse` + `/messages` and Streamable HTTP at `/mcp`.
//!
//! Every request passes the Host/Origin guard (403), the bearer check of a
//! network-facing server (401) and the body limit (413) before it reaches a
//! transport. `/healthz`, `/readyz` and `/metrics` serve operators. SIGINT/SIGTERM stop accepting, end the
//! sessions (cancelling their calls) and wait briefly for connections to close.

pub mod body;
pub mod fuzzing;
pub mod guard;
pub mod sessions;
pub mod sse;
pub mod store;
pub mod streamable;
pub mod tls;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use self::body::Body;
use self::sessions::Sessions;
use self::store::{InMemory, SessionStore, Stateless};
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
    /// Streamable HTTP keeps no sessions (`--stateless`).
    pub stateless: bool,
    /// Refuse to serve without TLS (`--require-tls`).
    pub require_tls: bool,
    /// Requests without a bearer token act as the server's own kubeconfig
    /// identity even when bound to a non-loopback address.
    pub allow_kubeconfig_fallback: bool,
    /// HTTP connections open at once; more get 503 (`--max-connections`).
    pub max_connections: usize,
    /// Time a client has to send a request's headers (`--header-read-timeout`).
    pub header_read_timeout: Duration,
}

/// Connections over the limit that still get a 503 answer; beyond these
/// they are closed unanswered.
const REFUSED_CONNECTIONS: usize = 64;

/// State shared by every connection.
pub struct App {
    pub engine: Arc<Engine>,
    /// SSE sessions, and Streamable HTTP ones unless stateless.
    pub sessions: Arc<Sessions>,
    /// Where Streamable HTTP finds its sessions.
    pub store: Box<dyn SessionStore>,
    pub max_body: usize,
    /// Bound to loopback only: then Host must be a loopback name.
    pub loopback_only: bool,
    /// MCP requests without `Authorization: Bearer` get 401.
    pub require_bearer: bool,
    /// False once shutdown began (`/readyz`).
    pub ready: AtomicBool,
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn serve(engine: Arc<Engine>, opts: HttpOptions) -> anyhow::Result<()> {
    let tls = match (&opts.cert_file, &opts.key_file) {
        (Some(c), Some(k)) => Some(tls::acceptor(c, k).map_err(anyhow::Error::msg)?),
        (None, None) => None,
        (Some(_), None) => bail!("--cert-file needs --key-file too (TLS needs both)"),
        (None, Some(_)) => bail!("--key-file needs --cert-file too (TLS needs both)"),
    };
    if opts.require_tls && tls.is_none() {
        bail!(
            "--require-tls: give --cert-file and --key-file; this server will not serve plain HTTP"
        );
    }
    let host = opts.host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    let listener = TcpListener::bind((host, opts.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", opts.host, opts.port))?;
    let addr = listener.local_addr()?;
    let loopback_only = addr.ip().is_loopback();
    let sessions = Arc::new(Sessions::new(opts.max_sessions, opts.session_idle_timeout));
    let store: Box<dyn SessionStore> = if opts.stateless {
        Box::new(Stateless)
    } else {
        Box::new(InMemory(Arc::clone(&sessions)))
    };
    let app = Arc::new(App {
        engine,
        sessions,
        store,
        max_body: opts.max_body_bytes,
        loopback_only,
        require_bearer: !loopback_only && !opts.allow_kubeconfig_fallback,
        ready: AtomicBool::new(true),
    });
    let scheme = if tls.is_some() { "https" } else { "http" };
    let base = match addr {
        SocketAddr::V6(a) => format!("{scheme}://[{}]:{}", a.ip(), a.port()),
        SocketAddr::V4(a) => format!("{scheme}://{a}"),
    };
    tracing::info!("Starting kubectl-mtv MCP server in HTTP mode");
    // Which identity an unauthenticated request gets is a security decision:
    // say it at every verbosity.
    if app.require_bearer {
        eprintln!("Authentication: bound to a non-loopback address, so MCP requests must carry Authorization: Bearer <token> (401 otherwise); they act as that token's identity");
    } else if loopback_only {
        eprintln!("Authentication: loopback only; requests without Authorization: Bearer act as this server's kubeconfig identity");
    } else {
        eprintln!("Authentication: WARNING --allow-kubeconfig-fallback: requests without Authorization: Bearer from any host act as this server's kubeconfig identity");
    }
    // Printed at every verbosity: with --port 0 it is how to learn the port.
    eprintln!("Listening on {base}");
    tracing::info!(
        "SSE transport (MCP 2024-11-05): GET {base}/sse, then POST {base}/messages?sessionId=..."
    );
    tracing::info!("Streamable HTTP transport (MCP 2025-03-26 and later): {base}/mcp");
    tracing::info!("Streamable HTTP sessions: {}", app.store.describe());
    if opts.stateless {
        tracing::info!("the legacy SSE transport still keeps its sessions in this process: behind several replicas, /sse clients need session affinity");
    }
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

    let connections = Arc::new(tokio::sync::Semaphore::new(opts.max_connections.max(1)));
    let refusals = Arc::new(tokio::sync::Semaphore::new(REFUSED_CONNECTIONS));
    let max_connections = opts.max_connections.max(1);
    let header_read_timeout = opts.header_read_timeout;
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
                // Over --max-connections: answer 503 (while few are waiting), or close.
                let (permit, busy) = match Arc::clone(&connections).try_acquire_owned() {
                    Ok(p) => (p, false),
                    Err(_) => match Arc::clone(&refusals).try_acquire_owned() {
                        Ok(p) => (p, true),
                        Err(_) => {
                            tracing::debug!("connection closed: over --max-connections");
                            continue;
                        }
                    },
                };
                let app = Arc::clone(&app);
                let watcher = graceful.watcher();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    let service = service_fn(move |req| {
                        let app = Arc::clone(&app);
                        async move {
                            if busy {
                                return Ok::<_, Infallible>(too_many_connections(max_connections));
                            }
                            Ok::<_, Infallible>(route(app, req).await)
                        }
                    });
                    let mut builder = hyper::server::conn::http1::Builder::new();
                    builder
                        .timer(TokioTimer::new())
                        .header_read_timeout(header_read_timeout)
                        .keep_alive(!busy);
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
    app.ready.store(false, Ordering::SeqCst);
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

/// Guards, body limit, then the route. Generic over the request body so
/// that the fuzz target can feed requests without a connection.
async fn route<B>(app: Arc<App>, req: Request<B>) -> Response<Body>
where
    B: hyper::body::Body<Data = bytes::Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
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
    let mcp_path = matches!(
        path,
        "/sse" | "/messages" | "/messages/" | "/message" | "/mcp" | "/mcp/"
    );
    if mcp_path
        && app.require_bearer
        && crate::cluster::Identity::from_headers(&parts.headers)
            .token
            .is_none()
    {
        tracing::debug!(method = %parts.method, path, "refused: no bearer token");
        return with_cors(unauthorized(), origin.as_ref(), false);
    }
    let response = match (&parts.method, path) {
        (&Method::GET, "/sse") => sse::open(&app, &parts.headers),
        (&Method::POST, "/messages" | "/messages/" | "/message") => {
            sse::post(&app, parts.uri.query(), &parts.headers, &bytes).await
        }
        (_, "/mcp" | "/mcp/") => {
            streamable::handle(&app, &parts.method, &parts.headers, &bytes).await
        }
        (&Method::GET, "/healthz") => body::text(StatusCode::OK, "ok"),
        (&Method::GET, "/readyz") if app.ready.load(Ordering::SeqCst) => {
            body::text(StatusCode::OK, "ready")
        }
        (&Method::GET, "/readyz") => body::text(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
        (&Method::GET, "/metrics") => body::full(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            crate::metrics::metrics().render(),
        ),
        (_, "/sse" | "/messages" | "/healthz" | "/readyz" | "/metrics") => {
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

fn too_many_connections(limit: usize) -> Response<Body> {
    body::text(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!("Service Unavailable: this server has {limit} connections open (--max-connections); retry shortly"),
    )
}

/// 401 for an MCP request without a bearer token on a network-facing server
/// (MCP authorization: `WWW-Authenticate: Bearer`).
fn unauthorized() -> Response<Body> {
    let mut r = body::text(
        StatusCode::UNAUTHORIZED,
        "Unauthorized: this server is reachable from the network, so every MCP request must carry \
         Authorization: Bearer <token> with a Kubernetes token (e.g. from `kubectl create token <serviceaccount>`); \
         it acts with that token's RBAC. The operator may restore the kubeconfig fallback with --allow-kubeconfig-fallback.",
    );
    r.headers_mut().insert(
        http::header::WWW_AUTHENTICATE,
        http::HeaderValue::from_static("Bearer realm=\"kubectl-mtv\""),
    );
    r
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
        http::HeaderValue::from_static("Mcp-Session-Id, WWW-Authenticate"),
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
