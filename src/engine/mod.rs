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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use futures::future::BoxFuture;
use serde_json::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use self::outbox::{Outbox, OutboxReader};
use crate::audit::{self, AuditLog, Origin};
use crate::cluster::{AccessOptions, ClusterAccess, Identity};
use crate::metrics::{metrics, CallOutcome};
use crate::protocol::jsonrpc::{
    self, Frame, RpcError, INTERNAL_ERROR, INVALID_REQUEST, SERVER_BUSY,
};
use crate::protocol::{Action, Incoming, LogLevel, Message, ServerInfo, Session};
use crate::tools::{
    coerce_arguments, BackgroundRegistry, CallContext, ProgressSink, Registry, ToolError,
    ToolSettings,
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

/// Bounds on what clients can make one server hold; each is a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Tool calls running at once in one session (`--max-calls-per-session`).
    pub calls_per_session: usize,
    /// Tool calls running at once in the whole server (`--max-calls`).
    pub calls: usize,
    /// Messages in one JSON-RPC batch (`--max-batch`).
    pub batch: usize,
    /// Progress and log notifications waiting per client stream; the oldest
    /// are dropped beyond it (`--notification-queue`).
    pub notification_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            calls_per_session: 64,
            calls: 256,
            batch: 64,
            notification_queue: outbox::NOTICE_CAPACITY,
        }
    }
}

/// Shared by every session of one server process.
pub struct Engine {
    pub limits: Limits,
    /// Tool calls running now, all sessions.
    running: Arc<AtomicUsize>,
    /// The served catalogue, maybe still being built (see
    /// [`BackgroundRegistry`]); it dereferences to the [`Registry`].
    pub registry: BackgroundRegistry,
    pub access: Arc<ClusterAccess>,
    pub info: ServerInfo,
    /// Settings for tool calls, completed with the served tools' names
    /// once the catalogue is built (the first tool call).
    base_settings: ToolSettings,
    settings: OnceLock<Arc<ToolSettings>>,
    shutdown: CancellationToken,
    audit: Option<Arc<AuditLog>>,
    /// Who the server itself acts as, for audit lines of calls without a
    /// token: read from these flags (and the kubeconfig) at the first such line.
    own_identity: OnceLock<String>,
    identity_flags: crate::cli::KubeFlags,
}

/// One client session: protocol state and its in-flight tool calls.
pub struct SessionState {
    proto: Mutex<Session>,
    inflight: Mutex<HashMap<String, CancellationToken>>,
    cancel: CancellationToken,
    transport: &'static str,
    /// The transport's session id, once it has one (for the audit log).
    id: OnceLock<String>,
    /// Counted in the open-sessions metric (stateless requests are not sessions).
    counted: bool,
}

impl Drop for SessionState {
    fn drop(&mut self) {
        if self.counted {
            metrics().session(self.transport, -1);
        }
    }
}

impl SessionState {
    /// A new session whose calls are cancelled with `parent`.
    pub fn new(parent: &CancellationToken) -> Arc<Self> {
        Self::of(parent, "stdio", Session::default(), false)
    }

    fn of(
        parent: &CancellationToken,
        transport: &'static str,
        proto: Session,
        counted: bool,
    ) -> Arc<Self> {
        if counted {
            metrics().session(transport, 1);
        }
        Arc::new(SessionState {
            proto: Mutex::new(proto),
            inflight: Mutex::new(HashMap::new()),
            cancel: parent.child_token(),
            transport,
            id: OnceLock::new(),
            counted,
        })
    }

    /// Records the transport's id for this session (first call wins).
    pub fn set_id(&self, id: &str) {
        let _ = self.id.set(id.to_owned());
    }

    fn origin(&self) -> Origin {
        Origin {
            transport: self.transport,
            session: self.id.get().cloned(),
        }
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
    running: Arc<AtomicUsize>,
}

impl Drop for InflightEntry {
    fn drop(&mut self) {
        metrics().inflight(-1);
        self.running.fetch_sub(1, Ordering::SeqCst);
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
    pub fn new(registry: Registry, access: AccessOptions, settings: ToolSettings) -> Self {
        Self::building(BackgroundRegistry::ready(registry), access, settings)
    }

    /// An engine whose catalogue may still be building: nothing waits for it
    /// before a message needs it.
    pub fn building(
        registry: BackgroundRegistry,
        access: AccessOptions,
        settings: ToolSettings,
    ) -> Self {
        Engine {
            limits: Limits::default(),
            running: Arc::new(AtomicUsize::new(0)),
            audit: None,
            own_identity: OnceLock::new(),
            identity_flags: access.flags.clone(),
            registry,
            access: Arc::new(ClusterAccess::new(access)),
            info: ServerInfo {
                name: "kubectl-mtv".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                instructions: Some(INSTRUCTIONS.into()),
            },
            base_settings: settings,
            settings: OnceLock::new(),
            shutdown: CancellationToken::new(),
        }
    }

    /// Who the server itself acts as (the audit log's caller for calls
    /// without a token of their own).
    fn own_identity(&self) -> &str {
        self.own_identity
            .get_or_init(|| crate::cluster::describe_own_identity(&self.identity_flags))
    }

    /// Settings for tool calls, with the served tools' names.
    pub fn settings(&self) -> &Arc<ToolSettings> {
        self.settings.get_or_init(|| {
            let mut settings = self.base_settings.clone();
            settings.served_tools = self
                .registry
                .tools()
                .iter()
                .map(|t| t.definition().name().to_owned())
                .collect();
            Arc::new(settings)
        })
    }

    /// Bounds calls, batches and notification queues.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Tool calls running now, all sessions.
    pub fn running_calls(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// Writes an audit line for every tool call to `log`.
    pub fn with_audit(mut self, log: AuditLog) -> Self {
        self.audit = Some(Arc::new(log));
        self
    }

    /// A new client session of `transport` (`stdio`, `sse`, `streamable`).
    pub fn new_session(&self, transport: &'static str) -> Arc<SessionState> {
        let proto = Session::new(self.registry.page_size());
        SessionState::of(&self.shutdown, transport, proto, true)
    }

    /// The state for one stateless request, not kept after it. With
    /// `version` the session is taken as initialized with it: the client's
    /// `initialize` happened on another request (or another replica).
    pub fn stateless_session(&self, version: Option<&str>) -> Arc<SessionState> {
        let mut proto = Session::new(self.registry.page_size());
        if let Some(v) = version {
            proto.assume_initialized(v);
        }
        SessionState::of(&self.shutdown, "streamable", proto, false)
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
        let origin = Origin {
            transport: "call",
            session: None,
        };
        Ok(self
            .call_tool(
                name,
                arguments,
                Identity::default(),
                self.shutdown.child_token(),
                ProgressSink::none(),
                origin,
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
        if items.len() > self.limits.batch {
            return Outcome::Reply(Frame::error(
                None,
                &RpcError::new(
                    INVALID_REQUEST,
                    format!(
                        "Invalid Request: a batch of {} messages is over this server's limit of {} (--max-batch); send fewer at a time",
                        items.len(),
                        self.limits.batch
                    ),
                ),
            ));
        }
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
                    let busy = if inflight.len() >= self.limits.calls_per_session {
                        Some(format!(
                            "Server busy: this session already has {} tool calls running (--max-calls-per-session {}); wait for one to finish or cancel one, then retry",
                            inflight.len(),
                            self.limits.calls_per_session
                        ))
                    } else if self.running.fetch_add(1, Ordering::SeqCst) >= self.limits.calls {
                        self.running.fetch_sub(1, Ordering::SeqCst);
                        Some(format!(
                            "Server busy: {} tool calls are running on this server (--max-calls {}); retry shortly",
                            self.limits.calls, self.limits.calls
                        ))
                    } else {
                        None
                    };
                    if let Some(why) = busy {
                        tracing::debug!("refused a call: {why}");
                        return Outcome::Reply(Frame::error(
                            Some(id),
                            &RpcError::new(SERVER_BUSY, why),
                        ));
                    }
                    inflight.insert(k.clone(), token.clone());
                    metrics().inflight(1);
                }
                let entry = InflightEntry {
                    session: Arc::clone(session),
                    key: k,
                    running: Arc::clone(&self.running),
                };
                let engine = Arc::clone(self);
                let progress = ProgressSink::new(progress_token, Some(out.clone()), log_level);
                let call_token = token.clone();
                let task_id = id.clone();
                let origin = session.origin();
                let handle = tokio::spawn(async move {
                    let _entry = entry;
                    tokio::select! {
                        _ = call_token.cancelled() => None,
                        r = engine.call_tool(&name, arguments, identity, call_token.clone(), progress, origin) => {
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
        origin: Origin,
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
        // Recorded when this future ends, however it ends: dropped before
        // the end means cancelled.
        let mut record = CallRecord {
            engine: self,
            origin,
            identity: identity.clone(),
            tool: name.to_owned(),
            arguments: self.audit.as_ref().map(|_| arguments.clone()),
            started,
            outcome: CallOutcome::Cancelled,
        };
        let ctx = CallContext::new(
            Arc::clone(&self.access),
            identity,
            Arc::clone(self.settings()),
            cancel,
            deadline,
            progress,
        );
        let out = match tokio::time::timeout_at(deadline, tool.call(&ctx, arguments)).await {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => self.with_drift_note(&ctx, e).await.into_output(),
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
        record.outcome = if !out.is_error {
            CallOutcome::Ok
        } else if out.text.contains("Forbidden (403)") || out.text.contains("Unauthorized (401)") {
            CallOutcome::Denied
        } else {
            CallOutcome::ToolError
        };
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

/// Counts a tool call in the metrics and writes its audit line when dropped.
struct CallRecord<'a> {
    engine: &'a Engine,
    origin: Origin,
    identity: Identity,
    tool: String,
    /// Only kept when there is an audit log.
    arguments: Option<Value>,
    started: Instant,
    outcome: CallOutcome,
}

impl Drop for CallRecord<'_> {
    fn drop(&mut self) {
        let elapsed = self.started.elapsed();
        metrics().tool_call(&self.tool, self.outcome, elapsed.as_secs_f64());
        if let (Some(log), Some(arguments)) = (&self.engine.audit, &self.arguments) {
            log.record(&audit::Entry {
                origin: &self.origin,
                identity: &self.identity,
                default_caller: self.engine.own_identity(),
                tool: &self.tool,
                arguments,
                outcome: self.outcome,
                duration: elapsed,
            });
        }
    }
}

impl Engine {
    /// A schema error for a kind whose CRD in the cluster differs from this
    /// build's, with a note saying so (the stale schema may be the cause).
    async fn with_drift_note(&self, ctx: &CallContext, e: ToolError) -> ToolError {
        match e {
            ToolError::Schema { kind, text } => {
                let text = match self.access.drift_note(&ctx.identity, kind).await {
                    Some(note) => format!("{text}\n{note}"),
                    None => text,
                };
                ToolError::Schema { kind, text }
            }
            other => other,
        }
    }
}

/// A map key for a request id (string and number ids are distinct).
fn key(id: &Value) -> String {
    id.to_string()
}
