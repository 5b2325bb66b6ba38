//! The stdio transport: newline-delimited JSON-RPC on stdin/stdout.
//!
//! Only protocol messages are written to stdout, one per line. A line that is
//! not JSON gets a parse error and the server reads on. At end of input the
//! server stops promptly: calls still running get a short grace, then are
//! aborted.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use crate::cluster::Identity;
use crate::engine::outbox::{outbox, REPLY_CAPACITY};
use crate::engine::Engine;
use crate::protocol::jsonrpc;

/// The process's stdin and stdout for [`serve`]. Where they are pipes (as
/// an MCP client starts the server) they are read and written without
/// blocking, from the runtime's own threads; tokio's `stdin()`/`stdout()`
/// would pass every read and write through its blocking thread pool, a
/// thread hop per message each way. Anything else (a file, a terminal), or
/// stdout sharing its pipe with stderr (whose log lines are written
/// blocking), falls back to tokio's.
pub fn process_stdio() -> (
    Box<dyn AsyncRead + Unpin + Send>,
    Box<dyn AsyncWrite + Unpin + Send>,
) {
    use std::os::fd::AsFd;
    use tokio::net::unix::pipe;
    let input: Box<dyn AsyncRead + Unpin + Send> = match std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .and_then(|fd| pipe::Receiver::from_owned_fd(fd).ok())
    {
        Some(r) => Box::new(r),
        None => Box::new(tokio::io::stdin()),
    };
    let output: Box<dyn AsyncWrite + Unpin + Send> = match (!stdout_shares_stderr())
        .then(|| std::io::stdout().as_fd().try_clone_to_owned().ok())
        .flatten()
        .and_then(|fd| pipe::Sender::from_owned_fd(fd).ok())
    {
        Some(w) => Box::new(w),
        None => Box::new(tokio::io::stdout()),
    };
    (input, output)
}

/// Whether stdout and stderr are the same pipe (`2>&1`): making one
/// non-blocking would make the other so too.
fn stdout_shares_stderr() -> bool {
    use std::os::unix::fs::MetadataExt;
    let meta = |fd: std::os::fd::BorrowedFd<'_>| {
        fd.try_clone_to_owned()
            .ok()
            .and_then(|f| std::fs::File::from(f).metadata().ok())
    };
    use std::os::fd::AsFd;
    match (
        meta(std::io::stdout().as_fd()),
        meta(std::io::stderr().as_fd()),
    ) {
        (Some(a), Some(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => true,
    }
}

/// How long calls still running at end of input may finish.
const EOF_GRACE: Duration = Duration::from_millis(500);
/// Longest accepted line.
const MAX_LINE: usize = 16 * 1024 * 1024;

/// Serves one session over `input`/`output` until `input` ends.
pub async fn serve<R, W>(engine: Arc<Engine>, input: R, output: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, mut rx) = outbox(REPLY_CAPACITY, engine.limits.notification_queue);
    let writer = tokio::spawn(async move {
        let mut out = output;
        // One write per message, its newline included.
        let mut line = Vec::new();
        while let Some(frame) = rx.next().await {
            tracing::trace!(
                bytes = frame.bytes().len(),
                error = frame.is_error(),
                "sent"
            );
            line.clear();
            line.extend_from_slice(frame.bytes());
            line.push(b'\n');
            let ok = out.write_all(&line).await.is_ok() && out.flush().await.is_ok();
            if line.capacity() > 1024 * 1024 {
                line = Vec::new();
            }
            if !ok {
                break;
            }
        }
    });
    let session = engine.new_session("stdio");
    tracing::info!("stdio session opened");
    let mut reader = BufReader::new(input);
    let mut buf = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .await?;
        if n == 0 {
            break;
        }
        if buf.len() > MAX_LINE && !buf.ends_with(b"\n") {
            let err = jsonrpc::RpcError::new(
                jsonrpc::INVALID_REQUEST,
                format!("Invalid Request: message longer than {MAX_LINE} bytes"),
            );
            let _ = tx.reply(jsonrpc::Frame::error(None, &err)).await;
            // Skip the rest of the line.
            loop {
                buf.clear();
                let n = (&mut reader)
                    .take(MAX_LINE as u64)
                    .read_until(b'\n', &mut buf)
                    .await?;
                if n == 0 || buf.ends_with(b"\n") {
                    break;
                }
            }
            continue;
        }
        let line = trim(&buf);
        if line.is_empty() {
            continue;
        }
        tracing::trace!(bytes = line.len(), "received");
        let msg = match jsonrpc::parse_incoming(line) {
            Ok(m) => m,
            Err(rejected) => {
                tracing::debug!(code = rejected.error.code, "rejected a message");
                let _ = tx.reply(rejected.response()).await;
                continue;
            }
        };
        let outcome = engine.accept_incoming(&session, msg, Identity::default(), &tx);
        if let Some(reply) = outcome.deliver(&tx).await {
            tasks.spawn(reply);
        }
        while tasks.try_join_next().is_some() {}
    }
    // End of input: let running calls finish briefly, then stop them.
    let _ = tokio::time::timeout(EOF_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    session.cancel_all();
    tasks.abort_all();
    drop(tx);
    let _ = writer.await;
    Ok(())
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}
