//! Retries for reads that failed on a dead pooled connection.
//!
//! A connection the client keeps for reuse can die while idle (the API
//! server restarted, a balancer dropped it); the next request on it fails
//! at once with "connection closed". For a GET (a read or a watch) this
//! layer sends the request again, a few times at most, since the pool may
//! hold several dead connections; each such failure is immediate. Writes are never
//! retried: a create or patch whose connection broke may have been applied,
//! and the caller is told so instead (see `errors.rs`). Timeouts are not
//! retried either: they already took their full time.

use std::future::{ready, Ready};

use http::{Method, Request, Response};
use kube::client::Body;
use tower::retry::Policy;
use tower::BoxError;

/// The `tower::retry` policy; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct RetryStaleConnection {
    retries: u8,
}

/// Most re-sends of one read: the pool's dead connections fail at once, so
/// a few retries reach a fresh connection. A pool holds one connection per
/// request that was in flight at once (HTTP/1.1), and tools run a few reads
/// in parallel, so this is a few more than that.
const MAX_RETRIES: u8 = 8;

/// Whether an error says the connection was gone before an answer came.
pub fn is_stale_connection(e: &(dyn std::error::Error + 'static)) -> bool {
    let text = crate::cluster::errors::error_chain(e).to_lowercase();
    let gone = [
        "connection closed",
        "close_notify",
        "connection reset",
        "broken pipe",
        "unexpected eof",
    ]
    .iter()
    .any(|n| text.contains(n));
    gone && !text.contains("timed out") && !text.contains("deadline")
}

impl<B> Policy<Request<Body>, Response<B>, BoxError> for RetryStaleConnection {
    type Future = Ready<()>;

    fn retry(
        &mut self,
        req: &mut Request<Body>,
        result: &mut Result<Response<B>, BoxError>,
    ) -> Option<Self::Future> {
        match result {
            Err(e)
                if self.retries < MAX_RETRIES
                    && req.method() == Method::GET
                    && is_stale_connection(&**e) =>
            {
                self.retries += 1;
                tracing::debug!("retrying a read after a dead pooled connection");
                Some(ready(()))
            }
            _ => None,
        }
    }

    fn clone_request(&mut self, req: &Request<Body>) -> Option<Request<Body>> {
        if req.method() != Method::GET {
            return None;
        }
        let mut copy = Request::new(req.body().try_clone()?);
        *copy.method_mut() = req.method().clone();
        *copy.uri_mut() = req.uri().clone();
        *copy.version_mut() = req.version();
        *copy.headers_mut() = req.headers().clone();
        *copy.extensions_mut() = req.extensions().clone();
        Some(copy)
    }
}
