//! HTTP sessions: protocol state per client, bounded in number and expired
//! when idle. Session ids are 128-bit random values, so they cannot be guessed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::cluster::Identity;
use crate::engine::{Outbox, SessionState};

/// Which transport a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sse,
    Streamable,
}

/// One HTTP client session.
pub struct HttpSession {
    pub kind: Kind,
    pub state: Arc<SessionState>,
    /// The identity of the request that opened the session (SSE: the GET).
    pub identity: Identity,
    /// Where messages for this session's event stream go (SSE only).
    pub stream: Option<Outbox>,
    closer: Mutex<Option<oneshot::Sender<()>>>,
    last_seen: Mutex<Instant>,
}

impl HttpSession {
    pub fn new(
        kind: Kind,
        state: Arc<SessionState>,
        identity: Identity,
        stream: Option<Outbox>,
    ) -> (Self, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        (
            HttpSession {
                kind,
                state,
                identity,
                stream,
                closer: Mutex::new(Some(tx)),
                last_seen: Mutex::new(Instant::now()),
            },
            rx,
        )
    }

    fn touch(&self) {
        *self.last_seen.lock().expect("lock") = Instant::now();
    }

    /// Whether an SSE event stream is still connected (its forwarder runs
    /// until the client disconnects).
    fn stream_open(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| !s.is_closed())
    }

    fn idle_for(&self) -> Duration {
        self.last_seen.lock().expect("lock").elapsed()
    }

    /// Ends the session: stops its calls and closes its event stream.
    fn close(&self) {
        self.state.cancel_all();
        if let Some(tx) = self.closer.lock().expect("lock").take() {
            let _ = tx.send(());
        }
    }
}

/// All open sessions of one server.
pub struct Sessions {
    map: Mutex<HashMap<String, Arc<HttpSession>>>,
    max: usize,
    idle: Duration,
}

impl Sessions {
    pub fn new(max: usize, idle: Duration) -> Self {
        Sessions {
            map: Mutex::new(HashMap::new()),
            max: max.max(1),
            idle,
        }
    }

    /// Adds a session; `None` when the server is at its session limit.
    pub fn insert(&self, s: HttpSession) -> Option<(String, Arc<HttpSession>)> {
        let mut map = self.map.lock().expect("lock");
        if map.len() >= self.max {
            return None;
        }
        let id = format!("{:032x}", rand::random::<u128>());
        tracing::info!(kind = ?s.kind, sessions = map.len() + 1, "session opened");
        let s = Arc::new(s);
        map.insert(id.clone(), Arc::clone(&s));
        Some((id, s))
    }

    /// The session of `id` and `kind`, marked as used now.
    pub fn get(&self, id: &str, kind: Kind) -> Option<Arc<HttpSession>> {
        let s = self.map.lock().expect("lock").get(id).cloned()?;
        if s.kind != kind {
            return None;
        }
        s.touch();
        Some(s)
    }

    /// Ends and forgets a session.
    pub fn remove(&self, id: &str) -> bool {
        let s = self.map.lock().expect("lock").remove(id);
        match s {
            Some(s) => {
                tracing::info!(kind = ?s.kind, "session closed");
                s.close();
                true
            }
            None => false,
        }
    }

    /// Ends sessions idle for longer than the limit; returns how many. An SSE
    /// session lives as long as its stream is connected: a disconnect (seen
    /// at the latest by the next keepalive) ends it instead.
    pub fn sweep(&self) -> usize {
        let expired: Vec<String> = self
            .map
            .lock()
            .expect("lock")
            .iter()
            .filter(|(_, s)| {
                s.idle_for() > self.idle && s.state.inflight() == 0 && !s.stream_open()
            })
            .map(|(k, _)| k.clone())
            .collect();
        for id in &expired {
            self.remove(id);
        }
        expired.len()
    }

    /// Ends every session (shutdown).
    pub fn clear(&self) {
        let all: Vec<Arc<HttpSession>> = self
            .map
            .lock()
            .expect("lock")
            .drain()
            .map(|(_, s)| s)
            .collect();
        for s in all {
            s.close();
        }
    }

    pub fn len(&self) -> usize {
        self.map.lock().expect("lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Arc<SessionState> {
        SessionState::new(&Default::default())
    }

    #[test]
    fn limits_expiry_and_removal() {
        let s = Sessions::new(2, Duration::from_millis(20));
        let (a, _ra) = HttpSession::new(Kind::Streamable, state(), Identity::default(), None);
        let (b, mut rb) = HttpSession::new(Kind::Sse, state(), Identity::default(), None);
        let (c, _rc) = HttpSession::new(Kind::Sse, state(), Identity::default(), None);
        let (ida, _) = s.insert(a).unwrap();
        let (idb, _) = s.insert(b).unwrap();
        assert!(s.insert(c).is_none(), "limit");
        assert_ne!(ida, idb);
        assert_eq!(ida.len(), 32);
        assert!(s.get(&ida, Kind::Streamable).is_some());
        assert!(s.get(&ida, Kind::Sse).is_none(), "kinds do not mix");
        assert!(s.remove(&idb));
        assert!(rb.try_recv().is_ok(), "removal closes the stream");
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(s.sweep(), 1);
        assert!(s.is_empty());
    }
}
