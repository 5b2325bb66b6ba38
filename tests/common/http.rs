//! A minimal HTTP/1.1 client over TCP for tests (plain HTTP; the SDK tests
//! cover TLS), and a helper that starts `kubectl-mtv mcp-server --sse`.
#![allow(dead_code)]

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        if self
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/event-stream"))
        {
            // The last `data:` line of an SSE body is the reply.
            let last = self
                .body
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap_or("null");
            return serde_json::from_str(last).unwrap();
        }
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Sends one request on a fresh connection and reads the whole response.
pub async fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut raw))
        .await
        .expect("response within 30s")
        .unwrap();
    parse(&String::from_utf8_lossy(&raw))
}

fn parse(raw: &str) -> Resp {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap_or("")
        .split(' ')
        .nth(1)
        .unwrap_or("0")
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

/// An open SSE stream (GET /sse) and the session endpoint it announced.
pub struct SseStream {
    pub endpoint: String,
    reader: BufReader<TcpStream>,
}

impl SseStream {
    pub async fn open(port: u16, headers: &[(&str, &str)]) -> Self {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut req =
            format!("GET /sse HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut reader = BufReader::new(s);
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert!(line.contains(" 200 "), "GET /sse: {line}");
        let mut stream = SseStream {
            endpoint: String::new(),
            reader,
        };
        let (event, data) = stream.next_event().await.expect("endpoint event");
        assert_eq!(event, "endpoint");
        stream.endpoint = data;
        stream
    }

    /// The next event (name, data), skipping headers, chunk sizes and comments.
    pub async fn next_event(&mut self) -> Option<(String, String)> {
        let mut event = String::from("message");
        let mut data: Option<String> = None;
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(30), self.reader.read_line(&mut line))
                .await
                .ok()?
                .ok()?;
            if n == 0 {
                return None;
            }
            let l = line.trim_end_matches(['\r', '\n']);
            if let Some(e) = l.strip_prefix("event: ") {
                event = e.to_owned();
            } else if let Some(d) = l.strip_prefix("data: ") {
                data = Some(d.to_owned());
            } else if l.is_empty() {
                if let Some(d) = data.take() {
                    return Some((event, d));
                }
            }
        }
    }

    /// The next JSON-RPC message event.
    pub async fn next_message(&mut self) -> Value {
        loop {
            let (e, d) = self.next_event().await.expect("stream open");
            if e == "message" {
                return serde_json::from_str(&d).unwrap();
            }
        }
    }
}

/// `kubectl-mtv mcp-server --sse --port 0 …`, with the port it bound.
pub struct HttpServer {
    pub child: Child,
    pub port: u16,
    pub stderr: Arc<Mutex<String>>,
}

impl HttpServer {
    pub async fn start(args: &[&str], envs: &[(&str, &str)]) -> Self {
        Self::try_start(args, envs)
            .await
            .unwrap_or_else(|e| panic!("server did not start: {e}"))
    }

    /// Starts it; Err(stderr) if it exits before listening.
    pub async fn try_start(args: &[&str], envs: &[(&str, &str)]) -> Result<Self, String> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-mtv"));
        cmd.arg("mcp-server")
            .arg("--sse")
            .args(["--port", "0"])
            .args(args);
        cmd.env_remove("KUBECONFIG")
            .env("HOME", "/nonexistent")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let stderr = Arc::new(Mutex::new(String::new()));
        let port = loop {
            let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
                .await
                .map_err(|_| "timeout".to_owned())?
                .unwrap();
            let Some(line) = line else {
                return Err(stderr.lock().unwrap().clone());
            };
            stderr.lock().unwrap().push_str(&line);
            stderr.lock().unwrap().push('\n');
            if let Some(rest) = line.split("Listening on ").nth(1) {
                break rest
                    .rsplit(':')
                    .next()
                    .unwrap()
                    .trim()
                    .parse::<u16>()
                    .unwrap();
            }
        };
        let e = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut s = e.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Ok(HttpServer {
            child,
            port,
            stderr,
        })
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Runs `initialize` over Streamable HTTP; returns the session id.
    pub async fn mcp_session(&self, headers: &[(&str, &str)]) -> String {
        let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
        let mut h = vec![
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ];
        h.extend_from_slice(headers);
        let r = request(self.port, "POST", "/mcp", &h, &body.to_string()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.header("mcp-session-id").expect("session id").to_owned()
    }

    /// A JSON-RPC request over Streamable HTTP in a session.
    pub async fn mcp(&self, session: &str, headers: &[(&str, &str)], msg: Value) -> Resp {
        let mut h = vec![
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
            ("Mcp-Session-Id", session),
        ];
        h.extend_from_slice(headers);
        request(self.port, "POST", "/mcp", &h, &msg.to_string()).await
    }

    /// Calls a tool over Streamable HTTP and returns the tool result.
    pub async fn call(
        &self,
        session: &str,
        headers: &[(&str, &str)],
        tool: &str,
        args: Value,
    ) -> Value {
        let r = self.mcp(session, headers, json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": args}})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["result"].clone()
    }
}
