//! A TCP proxy between kubectl-mtv and the real API server that misbehaves
//! on demand: refuse connections, accept and never answer (black hole),
//! reset the connection part-way through a response, trickle the response
//! slowly, stall after part of it, and heal. TLS passes through untouched
//! (the proxy listens on 127.0.0.1, which the API server's certificate names).
//!
//! A mode applies to connections accepted after it is set; [`FaultProxy::cut`]
//! resets the live ones (their clients must reconnect).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::AbortHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward both ways.
    Pass,
    /// Accept, read everything, never answer.
    BlackHole,
    /// Forward, but reset (RST) after this many bytes from the server.
    ResetAfter(usize),
    /// Forward the server's bytes in chunks of `.0` bytes, one every `.1`.
    Trickle(usize, Duration),
    /// Forward this many bytes from the server, then go silent (connection open).
    StallAfter(usize),
    /// Forward the TLS handshake, and the client's requests, but none of the
    /// server's answers to them: a write reaches the API server, and its
    /// outcome never comes back.
    SwallowResponses,
}

pub struct FaultProxy {
    pub port: u16,
    upstream: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    acceptor: Mutex<Option<AbortHandle>>,
    live: Arc<Mutex<Vec<AbortHandle>>>,
    /// Connections (and listeners) aborted and maybe not yet closed.
    dying: Mutex<Vec<AbortHandle>>,
    /// Connections accepted so far.
    pub accepted: Arc<Mutex<usize>>,
    /// TLS application-data records the clients sent after their handshake:
    /// one per HTTP request for small requests.
    pub requests: Arc<AtomicUsize>,
}

impl FaultProxy {
    /// Listens on a free loopback port, forwarding to `upstream_url`'s host:port.
    pub async fn start(upstream_url: &str) -> Self {
        let authority = upstream_url
            .split("://")
            .nth(1)
            .unwrap()
            .trim_end_matches('/');
        let upstream: SocketAddr = authority.parse().expect("API server URL with an IP:port");
        let mut proxy = FaultProxy {
            port: 0,
            upstream,
            mode: Arc::new(Mutex::new(Mode::Pass)),
            acceptor: Mutex::new(None),
            live: Arc::new(Mutex::new(Vec::new())),
            dying: Mutex::new(Vec::new()),
            accepted: Arc::new(Mutex::new(0)),
            requests: Arc::new(AtomicUsize::new(0)),
        };
        proxy.port = proxy.listen(0).await;
        proxy
    }

    /// `https://127.0.0.1:<port>`, for `--server`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// Stops listening: new connections are refused.
    pub fn refuse(&self) {
        if let Some(a) = self.acceptor.lock().unwrap().take() {
            a.abort();
            self.dying.lock().unwrap().push(a);
        }
        self.cut();
    }

    /// Waits until every connection and listener aborted so far is closed:
    /// an abort takes effect when the runtime next polls the task, which may
    /// be after the next call began. An API server that went away had closed
    /// all its connections before the next call; this models that.
    pub async fn settled(&self) {
        let dying: Vec<AbortHandle> = std::mem::take(&mut *self.dying.lock().unwrap());
        while !dying.iter().all(AbortHandle::is_finished) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Back to forwarding, listening again on the same port.
    pub async fn heal(&self) {
        self.set(Mode::Pass);
        self.cut();
        self.settled().await;
        if self.acceptor.lock().unwrap().is_none() {
            self.listen(self.port).await;
        }
    }

    /// Resets every live connection.
    pub fn cut(&self) {
        let mut dying = self.dying.lock().unwrap();
        for a in self.live.lock().unwrap().drain(..) {
            a.abort();
            dying.push(a);
        }
    }

    async fn listen(&self, port: u16) -> u16 {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        let mut tries = 0;
        loop {
            match socket.bind(([127, 0, 0, 1], port).into()) {
                Ok(()) => break,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("proxy cannot listen on {port}: {e}"),
            }
        }
        let listener = socket.listen(128).unwrap();
        let bound = listener.local_addr().unwrap().port();
        let mode = Arc::clone(&self.mode);
        let live = Arc::clone(&self.live);
        let accepted = Arc::clone(&self.accepted);
        let requests = Arc::clone(&self.requests);
        let upstream = self.upstream;
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                *accepted.lock().unwrap() += 1;
                let m = *mode.lock().unwrap();
                let conn = tokio::spawn(serve(client, upstream, m, Arc::clone(&requests)));
                let mut l = live.lock().unwrap();
                l.retain(|h| !h.is_finished());
                l.push(conn.abort_handle());
            }
        });
        *self.acceptor.lock().unwrap() = Some(task.abort_handle());
        bound
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.refuse();
    }
}

async fn serve(client: TcpStream, upstream: SocketAddr, mode: Mode, requests: Arc<AtomicUsize>) {
    // Linger 0: dropping the socket resets the connection (RST), it does not
    // close it politely; with a zero linger, drop never blocks.
    #[allow(deprecated)]
    let _ = client.set_linger(Some(Duration::ZERO));
    if mode == Mode::BlackHole {
        let mut client = client;
        let mut buf = [0u8; 4096];
        while matches!(client.read(&mut buf).await, Ok(n) if n > 0) {}
        // Keep the connection open, silent, until aborted.
        std::future::pending::<()>().await;
        return;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    // Client to server: forwarded as is, while reading the TLS record
    // headers (type, version, length) to count application data. In TLS
    // 1.3 the client's first application-data record is its Finished; the
    // ones after it carry requests.
    let app_records = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&app_records);
    let up = tokio::spawn(async move {
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            pending.extend_from_slice(&buf[..n]);
            while pending.len() >= 5 {
                let len = u16::from_be_bytes([pending[3], pending[4]]) as usize;
                if pending.len() < 5 + len {
                    break;
                }
                if pending[0] == 23 && seen.fetch_add(1, Ordering::SeqCst) >= 1 {
                    requests.fetch_add(1, Ordering::SeqCst);
                }
                pending.drain(..5 + len);
            }
            if sw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = sw.shutdown().await;
    });
    // Aborting this connection's task must reset both directions at once.
    let _up_guard = AbortOnDrop(up.abort_handle());
    let mut sent = 0usize;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match sr.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        if mode == Mode::SwallowResponses && app_records.load(Ordering::SeqCst) >= 2 {
            // A request went up: nothing more comes back.
            std::future::pending::<()>().await;
        }
        match mode {
            Mode::ResetAfter(limit) | Mode::StallAfter(limit) if sent + n > limit => {
                let keep = limit.saturating_sub(sent);
                let _ = cw.write_all(&chunk[..keep]).await;
                if let Mode::StallAfter(_) = mode {
                    std::future::pending::<()>().await;
                }
                // Dropping with linger 0 sends RST.
                up.abort();
                return;
            }
            Mode::Trickle(size, every) => {
                for piece in chunk.chunks(size.max(1)) {
                    if cw.write_all(piece).await.is_err() {
                        up.abort();
                        return;
                    }
                    tokio::time::sleep(every).await;
                }
            }
            _ => {
                if cw.write_all(chunk).await.is_err() {
                    break;
                }
            }
        }
        sent += n;
    }
    let _ = cw.shutdown().await;
    let _ = up.await;
}

struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
