//! Entry points for the HTTP fuzz target (`fuzz/fuzz_targets/http_request.rs`):
//! the server's shared state without a listener, and its request routing
//! (guards, bearer check, body limit, transports) over any request body.
//!
//! Nothing here is used by the server itself.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};

use super::body::Body;
use super::sessions::Sessions;
use super::store::{InMemory, SessionStore, Stateless};
use super::{App, HttpOptions};
use crate::engine::Engine;

/// The state [`super::serve`] builds for `opts`, as if bound to a loopback
/// address (`loopback_only`) or to a network-facing one.
pub fn app(engine: Arc<Engine>, opts: &HttpOptions, loopback_only: bool) -> Arc<App> {
    let sessions = Arc::new(Sessions::new(opts.max_sessions, opts.session_idle_timeout));
    let store: Box<dyn SessionStore> = if opts.stateless {
        Box::new(Stateless)
    } else {
        Box::new(InMemory(Arc::clone(&sessions)))
    };
    Arc::new(App {
        engine,
        sessions,
        store,
        max_body: opts.max_body_bytes,
        loopback_only,
        require_bearer: !loopback_only && !opts.allow_kubeconfig_fallback,
        ready: AtomicBool::new(true),
    })
}

/// Answers one request as a connection of the server would.
pub async fn route<B>(app: Arc<App>, req: Request<B>) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    super::route(app, req).await
}
