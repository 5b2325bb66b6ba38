//! The way out of a session: replies and notifications to one client stream,
//! bounded on both lanes.
//!
//! Replies are never dropped: [`Outbox::reply`] waits while the lane is full,
//! which pushes back on whoever produces them (a stdio reader stops reading
//! input while the client does not read output). Notifications (progress,
//! logs) are lossy: when the client is slower than a call's progress, the
//! oldest waiting notifications are dropped, so memory stays bounded.
//! The reader sends notifications before replies that arrived after them, so
//! a call's progress reaches the client before its result.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, Notify};

use crate::protocol::jsonrpc::Frame;

/// Default capacity of the reply lane of a session stream.
pub const REPLY_CAPACITY: usize = 64;
/// Default capacity of the notification lane of a session stream.
pub const NOTICE_CAPACITY: usize = 256;

/// The writing end; cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    replies: mpsc::Sender<Frame>,
    notices: Arc<NoticeRing>,
}

/// The reading end, owned by the transport's writer.
pub struct OutboxReader {
    replies: mpsc::Receiver<Frame>,
    notices: Arc<NoticeRing>,
    held: Option<Frame>,
}

struct NoticeRing {
    queue: Mutex<VecDeque<Frame>>,
    capacity: usize,
    ready: Notify,
    dropped: AtomicU64,
}

/// The client is gone: nothing more can be delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// A new stream with room for `replies` replies and `notices` notifications.
pub fn outbox(replies: usize, notices: usize) -> (Outbox, OutboxReader) {
    let (tx, rx) = mpsc::channel(replies.max(1));
    let ring = Arc::new(NoticeRing {
        queue: Mutex::new(VecDeque::new()),
        capacity: notices.max(1),
        ready: Notify::new(),
        dropped: AtomicU64::new(0),
    });
    (
        Outbox {
            replies: tx,
            notices: Arc::clone(&ring),
        },
        OutboxReader {
            replies: rx,
            notices: ring,
            held: None,
        },
    )
}

impl Outbox {
    /// Queues a reply, waiting while the lane is full.
    pub async fn reply(&self, frame: Frame) -> Result<(), Closed> {
        self.replies.send(frame).await.map_err(|_| Closed)
    }

    /// Queues a notification; when the lane is full the oldest one is dropped.
    pub fn notice(&self, frame: Frame) {
        if self.replies.is_closed() {
            return;
        }
        let mut q = self.notices.queue.lock().expect("notice lock");
        if q.len() >= self.notices.capacity {
            q.pop_front();
            self.notices.dropped.fetch_add(1, Ordering::Relaxed);
            crate::metrics::metrics().notification_dropped();
        }
        q.push_back(frame);
        drop(q);
        self.notices.ready.notify_one();
    }

    /// Whether the reader is gone (the client disconnected).
    pub fn is_closed(&self) -> bool {
        self.replies.is_closed()
    }

    /// Resolves when the reader is gone.
    pub async fn closed(&self) {
        self.replies.closed().await
    }

    /// Notifications dropped so far because the client was too slow.
    pub fn dropped_notices(&self) -> u64 {
        self.notices.dropped.load(Ordering::Relaxed)
    }
}

impl OutboxReader {
    /// The next frame to write; `None` once every [`Outbox`] is gone and all
    /// was delivered.
    pub async fn next(&mut self) -> Option<Frame> {
        loop {
            if let Some(n) = self.pop_notice() {
                return Some(n);
            }
            if let Some(r) = self.held.take() {
                return Some(r);
            }
            tokio::select! {
                biased;
                _ = self.notices.ready.notified() => continue,
                r = self.replies.recv() => match r {
                    Some(frame) => {
                        // Notifications queued before this reply go first.
                        self.held = Some(frame);
                        continue;
                    }
                    None => return self.pop_notice(),
                },
            }
        }
    }

    fn pop_notice(&self) -> Option<Frame> {
        self.notices.queue.lock().expect("notice lock").pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn n(i: u64) -> Frame {
        Frame::notification("notifications/progress", &json!({"progress": i}))
    }

    #[tokio::test]
    async fn notices_are_bounded_and_drop_the_oldest() {
        let (out, mut reader) = outbox(4, 3);
        let counted = || {
            let text = crate::metrics::metrics().render();
            text.lines()
                .find_map(|l| l.strip_prefix("kubectl_mtv_notifications_dropped_total "))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let before = counted();
        for i in 0..10 {
            out.notice(n(i));
        }
        assert_eq!(out.dropped_notices(), 7);
        assert!(counted() - before >= 7.0, "drops are counted in /metrics");
        out.reply(Frame::response(&json!(1), &json!({})))
            .await
            .unwrap();
        drop(out);
        let mut seen = vec![];
        while let Some(f) = reader.next().await {
            seen.push(f.to_value());
        }
        let progress: Vec<_> = seen[..3]
            .iter()
            .map(|v| v["params"]["progress"].clone())
            .collect();
        assert_eq!(
            progress,
            [json!(7), json!(8), json!(9)],
            "the newest three survive"
        );
        assert_eq!(seen[3]["id"], 1, "the reply comes after the progress");
        assert_eq!(seen.len(), 4);
    }

    #[tokio::test]
    async fn replies_wait_for_room_and_fail_when_the_reader_is_gone() {
        let (out, reader) = outbox(1, 1);
        out.reply(n(0)).await.unwrap();
        let second =
            tokio::time::timeout(std::time::Duration::from_millis(50), out.reply(n(1))).await;
        assert!(second.is_err(), "a full reply lane makes the sender wait");
        drop(reader);
        assert_eq!(out.reply(n(2)).await, Err(Closed));
        assert!(out.is_closed());
        out.notice(n(3));
        assert_eq!(out.dropped_notices(), 0, "nothing queues for a gone client");
    }
}
