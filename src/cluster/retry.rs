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
//!
//! kube's client stack is one boxed service, which cannot be cloned, and a
//! retry must call it again later. `tower::retry` would need a
//! `tower::buffer` in front of it: a second worker task (kube's client has
//! its own) and two task switches more per request. Here the stack sits
//! behind a mutex instead, held only while it is polled for readiness and
//! called, both under the same lock, never across an await.

use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::{Method, Request, Response};
use kube::client::Body;
use tower::{BoxError, Layer, Service};

/// Most re-sends of one read: the pool's dead connections fail at once, so
/// a few retries reach a fresh connection. A pool holds one connection per
/// request that was in flight at once (HTTP/1.1), and tools run a few reads
/// in parallel, so this is a few more than that.
pub const MAX_RETRIES: u8 = 8;

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

/// The layer: reads retried on a dead pooled connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct RetryReadsLayer;

impl<S> Layer<S> for RetryReadsLayer {
    type Service = RetryReads<S>;

    fn layer(&self, inner: S) -> RetryReads<S> {
        RetryReads {
            inner: Arc::new(Mutex::new(inner)),
        }
    }
}

/// The service [`RetryReadsLayer`] makes; see the module docs.
pub struct RetryReads<S> {
    inner: Arc<Mutex<S>>,
}

impl<S> Clone for RetryReads<S> {
    fn clone(&self) -> Self {
        RetryReads {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S, B> Service<Request<Body>> for RetryReads<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<B>, BoxError>>;

    /// Always ready: the inner stack's readiness is awaited with each call,
    /// under the lock that also makes the call (see [`send`]).
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            let mut req = req;
            let mut retries = 0u8;
            loop {
                let again = if retries < MAX_RETRIES {
                    copy_of_read(&req)
                } else {
                    None
                };
                match (send(&inner, req).await, again) {
                    (Err(e), Some(next)) if is_stale_connection(&*e) => {
                        retries += 1;
                        tracing::debug!("retrying a read after a dead pooled connection");
                        req = next;
                    }
                    (result, _) => return result,
                }
            }
        })
    }
}

/// Polls `inner` until ready and calls it, both under one hold of the lock.
async fn send<S, B>(inner: &Mutex<S>, req: Request<Body>) -> Result<Response<B>, BoxError>
where
    S: Service<Request<Body>, Response = Response<B>>,
    S::Error: Into<BoxError>,
{
    let mut req = Some(req);
    let pending = poll_fn(|cx| {
        let mut service = inner.lock().unwrap_or_else(|e| e.into_inner());
        match service.poll_ready(cx) {
            Poll::Ready(Ok(())) => {
                let req = req.take().expect("called once");
                Poll::Ready(Ok(service.call(req)))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e.into())),
            Poll::Pending => Poll::Pending,
        }
    })
    .await?;
    pending.await.map_err(Into::into)
}

/// A copy of a GET, to send again (None for any other method, or a body
/// that cannot be copied).
fn copy_of_read(req: &Request<Body>) -> Option<Request<Body>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::{ready, Ready};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Fails its first `dead` requests the way a dead pooled connection
    /// does, then answers 200; counts every request it gets.
    struct Pool {
        dead: usize,
        seen: Arc<AtomicUsize>,
        error: &'static str,
    }

    impl Service<Request<Body>> for Pool {
        type Response = Response<()>;
        type Error = BoxError;
        type Future = Ready<Result<Response<()>, BoxError>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Request<Body>) -> Self::Future {
            let n = self.seen.fetch_add(1, Ordering::SeqCst);
            ready(if n < self.dead {
                Err(self.error.into())
            } else {
                Ok(Response::new(()))
            })
        }
    }

    async fn run(method: Method, dead: usize, error: &'static str) -> (bool, usize) {
        let seen = Arc::new(AtomicUsize::new(0));
        let mut svc = RetryReadsLayer.layer(Pool {
            dead,
            seen: Arc::clone(&seen),
            error,
        });
        let req = Request::builder()
            .method(method)
            .uri("/api/v1/namespaces/x")
            .body(Body::empty())
            .unwrap();
        poll_fn(|cx| svc.poll_ready(cx)).await.unwrap();
        let ok = svc.call(req).await.is_ok();
        (ok, seen.load(Ordering::SeqCst))
    }

    const DEAD: &str =
        "client error (SendRequest): error writing a body to connection: Broken pipe (os error 32)";

    #[tokio::test]
    async fn a_read_goes_past_the_dead_connections_of_the_pool() {
        assert_eq!(run(Method::GET, 5, DEAD).await, (true, 6));
        let last = MAX_RETRIES as usize;
        assert_eq!(run(Method::GET, last, DEAD).await, (true, last + 1));
    }

    #[tokio::test]
    async fn a_read_gives_up_after_the_bound() {
        let n = MAX_RETRIES as usize;
        assert_eq!(run(Method::GET, 100, DEAD).await, (false, n + 1));
    }

    #[tokio::test]
    async fn writes_and_timeouts_are_sent_once() {
        for m in [Method::POST, Method::PATCH, Method::PUT, Method::DELETE] {
            assert_eq!(run(m, 1, DEAD).await, (false, 1));
        }
        let timeout = "connection closed: operation timed out";
        assert_eq!(run(Method::GET, 1, timeout).await, (false, 1));
        assert_eq!(run(Method::GET, 1, "403 Forbidden").await, (false, 1));
    }
}
