//! JSON-RPC lines through the protocol core and the engine's dispatch, as
//! the stdio transport drives them, with no network.
//!
//! Input: a mode byte, then newline-separated JSON-RPC lines (at most
//! `MAX_LINES`), all on one session. The mode byte (its value modulo 5)
//! first runs a well-formed `initialize` + `notifications/initialized` with
//! one of the protocol versions (0: none, the session starts
//! uninitialized), so the fuzzed lines also reach post-initialize paths
//! (tools/list paging, tools/call, batches under 2025-03-26 and 2024-11-05).
//!
//! Every frame the server sends must be JSON-RPC 2.0 JSON. Tool calls run
//! until they end (the kubeconfig does not exist, so they fail at connect)
//! or are cancelled; the runtime is dropped after each input.

#![no_main]

use std::time::Duration;

use kubectl_mtv::cluster::Identity;
use kubectl_mtv::engine::outbox::{outbox, NOTICE_CAPACITY, REPLY_CAPACITY};
use kubectl_mtv::protocol::jsonrpc;
use kubectl_mtv_fuzz::{check_frame, engine, runtime};
use libfuzzer_sys::fuzz_target;

const MAX_LINES: usize = 16;

const VERSIONS: [&str; 4] = ["2025-06-18", "2025-03-26", "2024-11-05", "2025-11-25"];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut lines: Vec<Vec<u8>> = Vec::new();
    if let Some(v) = (mode as usize % 5).checked_sub(1).map(|i| VERSIONS[i]) {
        lines.push(format!(r#"{{"jsonrpc":"2.0","id":"init","method":"initialize","params":{{"protocolVersion":"{v}","capabilities":{{}},"clientInfo":{{"name":"fuzz","version":"0"}}}}}}"#).into_bytes());
        lines.push(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_vec());
    }
    lines.extend(
        rest.split(|&b| b == b'\n')
            .take(MAX_LINES)
            .map(<[u8]>::to_vec),
    );
    let engine = engine();
    runtime().block_on(async move {
        let (tx, mut rx) = outbox(REPLY_CAPACITY, NOTICE_CAPACITY);
        let reader = tokio::spawn(async move {
            while let Some(frame) = rx.next().await {
                check_frame(frame.bytes());
            }
        });
        let session = engine.new_session("stdio");
        let mut tasks = tokio::task::JoinSet::new();
        for line in &lines {
            let line = line.trim_ascii();
            if line.is_empty() {
                continue;
            }
            let msg = match jsonrpc::parse_incoming(line) {
                Ok(m) => m,
                Err(rejected) => {
                    let _ = tx.reply(rejected.response()).await;
                    continue;
                }
            };
            let outcome = engine.accept_incoming(&session, msg, Identity::default(), &tx);
            if let Some(reply) = outcome.deliver(&tx).await {
                tasks.spawn(reply);
            }
            // Let running calls make progress between messages.
            tokio::task::yield_now().await;
        }
        // Calls end at connect; the bound (virtual time) only guards against
        // one that waits for something that never comes.
        let ended = tokio::time::timeout(Duration::from_secs(600), async {
            while tasks.join_next().await.is_some() {}
        })
        .await
        .is_ok();
        if ended {
            assert_eq!(
                session.inflight(),
                0,
                "ended calls left in the in-flight map"
            );
        }
        session.cancel_all();
        tasks.abort_all();
        drop(tx);
        let _ = reader.await;
    });
});
