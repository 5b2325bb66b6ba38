//! The engine joins the protocol core, the tool registry and cluster access.
//!
//! Transports hand each parsed message to [`Engine::accept`] in arrival order,
//! with the [`Outbox`] its notifications go to. Protocol state changes happen
//! right there, in order; tool calls run as their own tasks, so a slow call
//! never blocks `ping` or other calls.
//!
//! Every call has a cancellation token, a child of its session's, itself a
//! child of the server's: `notifications/cancelled`, the client's stream
//! going away ([`PendingCall`]), the session ending or the server shutting
//! down cancel it, the tool's future is dropped at once (ending its
//! Kubernetes requests and watches) and no reply is sent. Every call also
//! has a deadline (the tool's time limit).

pub mod outbox;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use serde_json::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use self::outbox::{Outbox, OutboxReader};
use crate::cluster::{AccessOptions, ClusterAccess, Identity};
use crate::protocol::jsonrpc::{self, Frame, RpcError, INTERNAL_ERROR, INVALID_REQUEST};
use crate::protocol::{Action, Incoming, LogLevel, Message, ServerInfo, Session};
use crate::tools::{
    coerce_arguments, CallContext, ProgressSink, Registry, ToolError, ToolSettings,
};

/// A running tool call (or a batch of them) whose reply comes later.
pub struct PendingCall {
    reply: BoxFuture<'static, Option<Frame>>,
    cancel: CancellationToken,
}

impl PendingCall {
    /// Cancels the call (no reply will be sent).
    pub fn canceller(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// The reply, or `None` if the call was cancelled. Dropping this future
    /// before it finishes cancels the call (the client went away).
    pub async fn reply(self) -> Option<Frame> {
        let guard = self.cancel.drop_guard();
        let r = self.reply.await;
        guard.disarm();
        r
    }

    /// Waits for the reply and queues it on `out`; cancels the call if the
    /// client behind `out` goes away first.
    pub async fn deliver_to(self, out: Outbox) {
        let cancel = self.cancel.clone();
        let reply = tokio::select! {
            r = self.reply() => r,
            _ = out.closed() => {
                cancel.cancel();
                None
            }
        };
        if let Some(f) = reply {
            let _ = out.reply(f).await;
        }
    }
}

/// What to do after accepting a message.
pub enum Outcome {
    /// Send this now.
    Reply(Frame),
    /// Nothing to send.
    Nothing,
    /// A call is running; its reply comes later.
    Pending(PendingCall),
}

impl Outcome {
    /// Delivers to a session stream: a ready reply is queued now (waiting
    /// for room); for a running call, returns the future that queues its
    /// reply when it finishes, for the transport to run.
    pub async fn deliver(self, out: &Outbox) -> Option<impl Future<Output = ()> + Send + 'static> {
        match self {
            Outcome::Reply(f) => {
                let _ = out.reply(f).await;
                None
            }
            Outcome::Nothing => None,
            Outcome::Pending(p) => Some(p.deliver_to(out.clone())),
        }
    }
}

/// Shared by every session of one server process.
pub struct Engine {
    pub registry: Registry,
    pub access: Arc<ClusterAccess>,
    pub info: ServerInfo,
    pub settings: Arc<ToolSettings>,
    shutdown: CancellationToken,
}

/// One client session: protocol state and its in-flight tool calls.
pub struct SessionState {
    proto: Mutex<Session>,
    inflight: Mutex<HashMap<String, CancellationToken>>,
    cancel: CancellationToken,
}

impl SessionState {
    /// A new session whose calls are cancelled with `parent`.
    pub fn new(parent: &CancellationToken) -> Arc<Self> {
        Arc::new(SessionState {
            proto: Mutex::new(Session::default()),
            inflight: Mutex::new(HashMap::new()),
            cancel: parent.child_token(),
        })
    }

    /// The negotiated protocol version, once initialized.
    pub fn version(&self) -> Option<String> {
        self.proto
            .lock()
            .expect("session lock")
            .version()
            .map(str::to_owned)
    }

    /// Cancels every in-flight call (the client went away).
    pub fn cancel_all(&self) {
        self.cancel.cancel();
        self.inflight.lock().expect("inflight lock").clear();
    }

    /// Number of calls still running.
    pub fn inflight(&self) -> usize {
        self.inflight.lock().expect("inflight lock").len()
    }
}

/// Removes a call from its session's in-flight map when the call ends, however it ends.
struct InflightEntry {
    session: Arc<SessionState>,
    key: String,
}

impl Drop for InflightEntry {
    fn drop(&mut self) {
        self.session
            .inflight
            .lock()
            .expect("inflight lock")
            .remove(&self.key);
    }
}

/// Orientation for models, sent with `initialize`.
pub const INSTRUCTIONS: &str = "kubectl-mtv manages Forklift (Migration Toolkit for Virtualization, API group forklift.konveyor.io) resources in the user's Kubernetes cluster, with the user's own identity and RBAC. \
Migration workflow: (1) a source Provider (spec.type vsphere, ovirt, openstack, ova, ec2 or hyperv; spec.secret names an existing Secret with its credentials) and a target Provider (type openshift); \
(2) a NetworkMap and a StorageMap from source to target; (3) a Plan naming the providers, the maps, spec.targetNamespace and spec.vms; (4) start_plan starts it, watch_plan follows it live (progress per VM), cutover_plan and cancel_plan act on a running migration. \
When a user says a plan is failing or asks how it is going, call describe_plan first; then get_events and get_logs. Before create or patch, read field docs with explain_resource; use dry_run to check a change. Pass namespace (or all_namespaces for get tools).";

impl Engine {
    pub fn new(registry: Registry, access: AccessOptions, mut settings: ToolSettings) -> Self {
        settings.served_tools = registry
            .tools()
            .iter()
            .map(|t| t.definition().name().to_owned())
            .collect();
        Engine {
            registry,
            access: Arc::new(ClusterAccess::new(access)),
            info: ServerInfo {
                name: "kubectl-mtv".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                instructions: Some(INSTRUCTIONS.into()),
            },
            settings: Arc::new(settings),
            shutdown: CancellationToken::new(),
        }
    }

    /// A new client session.
    pub fn new_session(&self) -> Arc<SessionState> {
        SessionState::new(&self.shutdown)
    }

    /// Runs one tool call outside any session (the `call` command); the
    /// result is the `tools/call` result object, or why the tool is unknown.
    pub async fn call_once(&self, name: &str, arguments: Value) -> Result<Value, String> {
        use crate::protocol::ToolCatalog;
        if !self.registry.has_tool(name) {
            let why = self
                .registry
                .explain_missing(name)
                .map(|w| format!(". {w}"))
                .unwrap_or_default();
            return Err(format!("Unknown tool: {name}{why}"));
        }
        Ok(self
            .call_tool(
                name,
                arguments,
                Identity::default(),
                self.shutdown.child_token(),
                ProgressSink::none(),
            )
            .await)
    }

    /// Cancels every call of every session (server shutdown).
    pub fn shut_down(&self) {
        self.shutdown.cancel();
    }

    /// Accepts one message or a batch of `session`.
    pub fn accept_incoming(
        self: &Arc<Self>,
        session: &Arc<SessionState>,
        incoming: Incoming,
        identity: Identity,
        out: &Outbox,
    ) -> Outcome {
        match incoming {
            Incoming::One(msg) => self.accept(session, msg, identity, out),
            Incoming::Batch(items) => self.accept_batch(session, items, identity, out),
        }
    }

    /// A JSON-RPC batch: allowed after `initialize` with protocol version
    /// 2025-03-26 or 2024-11-05 (later versions removed batching). Replies
    /// come back together, as one array, once every call has finished.
    fn accept_batch(
        self: &Arc<Self>,
        session: &Arc<SessionState>,
        items: Vec<Result<Message, jsonrpc::Rejected>>,
        identity: Identity,
        out: &Outbox,
    ) -> Outcome {
        let version = session.version();
        if !matches!(version.as_deref(), Some("2025-03-26") | Some("2024-11-05")) {
            let why = match version {
                None => {
                    "Invalid Request: a batch cannot come before (or carry) initialize".to_owned()
                }
                Some(v) => format!(
                    "Invalid Request: JSON-RPC batches are not part of protocol version {v}"
                ),
            };
            return Outcome::Reply(Frame::error(None, &RpcError::new(INVALID_REQUEST, why)));
        }
        let batch = session.cancel.child_token();
        let mut ready = Vec::new();
        let mut pending = Vec::new();
        for item in items {
            match item {
                Err(rejected) => ready.push(rejected.response()),
                Ok(msg) => match self.accept_under(session, msg, identity.clone(), out, &batch) {
                    Outcome::Reply(f) => ready.push(f),
                    Outcome::Nothing => {}
                    Outcome::Pending(p) => pending.push(p.reply),
                },
            }
        }
        if pending.is_empty() {
            return if ready.is_empty() {
                Outcome::Nothing
            } else {
                Outcome::Reply(Frame::batch(&ready))
            };
        }
        Outcome::Pending(PendingCall {
            reply: Box::pin(async move {
                ready.extend(
                    futures::future::join_all(pending)
                        .await
                        .into_iter()
                        .flatten(),
                );
                (!ready.is_empty()).then(|| Frame::batch(&ready))
            }),
            cancel: batch,
        })
    }

    /// Accepts one message of `session`. `identity` is who this message acts
    /// as; `out` receives the progress and log notifications of its call.
    pub fn accept(
        self: &Arc<Self>,
        session: &Arc<SessionState>,
        msg: Message,
        identity: Identity,
        out: &Outbox,
    ) -> Outcome {
        self.accept_under(session, msg, identity, out, &session.cancel)
    }

    fn accept_under(
        self: &Arc<Self>,
        session: &Arc<SessionState>,
        msg: Message,
        identity: Identity,
        out: &Outbox,
        parent: &CancellationToken,
    ) -> Outcome {
        let method = match &msg {
            Message::Request { method, .. } => method.clone(),
            Message::Notification { method, .. } => method.clone(),
            Message::Response { .. } => "(response)".to_owned(),
        };
        let (action, log_level) = {
            let mut proto = session.proto.lock().expect("session lock");
            let action = proto.handle(msg, &self.info, &self.registry);
            (action, proto.log_level())
        };
        match action {
            Action::Reply(f) => {
                tracing::debug!(
                    method,
                    outcome = if f.is_error() { "error" } else { "ok" },
                    "request"
                );
                Outcome::Reply(f)
            }
            Action::Nothing => {
                tracing::debug!(method, "notification");
                Outcome::Nothing
            }
            Action::Cancel { request_id } => {
                let token = session
                    .inflight
                    .lock()
                    .expect("inflight lock")
                    .remove(&key(&request_id));
                if let Some(t) = token {
                    tracing::debug!(request = %request_id, "cancelled by the client");
                    t.cancel();
                }
                Outcome::Nothing
            }
            Action::CallTool {
                id,
                name,
                arguments,
                progress_token,
            } => {
                let k = key(&id);
                let token = parent.child_token();
                {
                    let mut inflight = session.inflight.lock().expect("inflight lock");
                    if inflight.contains_key(&k) {
                        return Outcome::Reply(Frame::error(
                            Some(id),
                            &RpcError::new(
                                INVALID_REQUEST,
                                "Invalid Request: this request id is already in use",
                            ),
                        ));
                    }
                    inflight.insert(k.clone(), token.clone());
                }
                let entry = InflightEntry {
                    session: Arc::clone(session),
                    key: k,
                };
                let engine = Arc::clone(self);
                let progress = ProgressSink::new(progress_token, Some(out.clone()), log_level);
                let call_token = token.clone();
                let task_id = id.clone();
                let handle = tokio::spawn(async move {
                    let _entry = entry;
                    tokio::select! {
                        _ = call_token.cancelled() => None,
                        r = engine.call_tool(&name, arguments, identity, call_token.clone(), progress) => {
                            Some(Frame::response(&task_id, &r))
                        }
                    }
                });
                Outcome::Pending(PendingCall {
                    reply: Box::pin(async move {
                        match handle.await {
                            Ok(reply) => reply,
                            Err(_) => Some(Frame::error(
                                Some(id),
                                &RpcError::new(
                                    INTERNAL_ERROR,
                                    "Internal error: the tool call failed unexpectedly",
                                ),
                            )),
                        }
                    }),
                    cancel: token,
                })
            }
        }
    }

    async fn call_tool(
        &self,
        name: &str,
        mut arguments: Value,
        identity: Identity,
        cancel: CancellationToken,
        progress: ProgressSink,
    ) -> Value {
        let Some(tool) = self.registry.find(name) else {
            // The session checked the name; the registry cannot shrink.
            return ToolError::invalid(format!("Unknown tool: {name}"))
                .into_output()
                .to_result();
        };
        coerce_arguments(&mut arguments, tool.definition().input_schema());
        let limit = tool.time_limit(&arguments);
        let started = Instant::now();
        let deadline = started + limit;
        let ctx = CallContext::new(
            Arc::clone(&self.access),
            identity,
            Arc::clone(&self.settings),
            cancel,
            deadline,
            progress,
        );
        let out = match tokio::time::timeout_at(deadline, tool.call(&ctx, arguments)).await {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => e.into_output(),
            Err(_) => ToolError::Timeout(format!(
                "{name} did not finish within {} s and was stopped; nothing more will happen for this call. Retry, or narrow the request.",
                limit.as_secs()
            ))
            .into_output(),
        };
        let ms = started.elapsed().as_millis();
        tracing::debug!(
            method = "tools/call",
            tool = name,
            ms = ms as u64,
            outcome = if out.is_error { "error" } else { "ok" },
            "request"
        );
        if out.is_error {
            ctx.log(
                LogLevel::Warning,
                &format!("{name} failed after {ms} ms: {}", out.text),
            );
        } else {
            ctx.log(LogLevel::Info, &format!("{name} succeeded in {ms} ms"));
        }
        out.to_result()
    }
}

/// A map key for a request id (string and number ids are distinct).
fn key(id: &Value) -> String {
    id.to_string()
}
