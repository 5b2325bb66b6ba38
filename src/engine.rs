//! The engine joins the protocol core, the tools and cluster access.
//!
//! Transports hand each parsed message to [`Engine::accept`] in arrival order.
//! Protocol state changes happen right there, in order; tool calls run as
//! their own tasks, so a slow call never blocks `ping` or other calls, and a
//! `notifications/cancelled` aborts the call's task (no reply is sent).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::cluster::{AccessOptions, ClusterAccess, Identity};
use crate::protocol::jsonrpc::{self, RpcError, INTERNAL_ERROR, INVALID_REQUEST};
use crate::protocol::{Action, Incoming, LogLevel, Message, ServerInfo, Session, ToolCatalog};
use crate::tools::{self, CallContext, Registry};

/// Messages the server sends on its own (progress, logs) go here.
pub type Notifier = mpsc::UnboundedSender<Value>;

/// A reply that will be ready later (a running tool call); `None` if cancelled.
pub type PendingReply = Pin<Box<dyn Future<Output = Option<Value>> + Send>>;

/// What to do after accepting a message.
pub enum Outcome {
    /// Send this now.
    Reply(Value),
    /// Nothing to send.
    Nothing,
    /// Await this, then send what it yields.
    Pending(PendingReply),
}

impl Outcome {
    /// Delivers the reply to `out`: a ready one now; for a running call,
    /// returns the future that sends its reply when it finishes (and nothing
    /// if it was cancelled), for the transport to run.
    pub fn deliver(self, out: &Notifier) -> Option<impl Future<Output = ()> + Send + 'static> {
        match self {
            Outcome::Reply(v) => {
                let _ = out.send(v);
                None
            }
            Outcome::Nothing => None,
            Outcome::Pending(fut) => {
                let out = out.clone();
                Some(async move {
                    if let Some(v) = fut.await {
                        let _ = out.send(v);
                    }
                })
            }
        }
    }
}

/// Shared by every session of one server process.
pub struct Engine {
    pub registry: Registry,
    pub access: ClusterAccess,
    pub info: ServerInfo,
}

/// One client session: protocol state and its in-flight tool calls.
pub struct SessionState {
    proto: Mutex<Session>,
    inflight: Mutex<HashMap<String, AbortHandle>>,
}

impl Default for SessionState {
    fn default() -> Self {
        SessionState {
            proto: Mutex::new(Session::default()),
            inflight: Mutex::new(HashMap::new()),
        }
    }
}

impl SessionState {
    /// The negotiated protocol version, once initialized.
    pub fn version(&self) -> Option<String> {
        self.proto
            .lock()
            .expect("session lock")
            .version()
            .map(str::to_owned)
    }

    /// Aborts every in-flight call (the client went away).
    pub fn cancel_all(&self) {
        for (_, h) in self.inflight.lock().expect("inflight lock").drain() {
            h.abort();
        }
    }

    /// Number of calls still running.
    pub fn inflight(&self) -> usize {
        self.inflight.lock().expect("inflight lock").len()
    }
}

impl ToolCatalog for Registry {
    fn definitions(&self) -> Vec<&Value> {
        self.tools().iter().map(|t| &t.definition).collect()
    }
    fn has_tool(&self, name: &str) -> bool {
        self.find(name).is_some()
    }
}

/// Orientation for models, sent with `initialize`.
pub const INSTRUCTIONS: &str = "kubectl-mtv manages Forklift (Migration Toolkit for Virtualization, API group forklift.konveyor.io) resources in the user's Kubernetes cluster, with the user's own identity and RBAC. \
Migration workflow: (1) a source Provider (spec.type vsphere, ovirt, openstack, ova, ec2 or hyperv; spec.secret names an existing Secret with its credentials) and a target Provider (type openshift); \
(2) a NetworkMap and a StorageMap from source to target; (3) a Plan naming the providers, the maps, spec.targetNamespace and spec.vms; (4) a Migration whose spec.plan names the Plan starts it. \
Follow progress with get_plans and get_migrations (status.conditions). Before create or patch, read field docs with explain_resource; use dry_run to check a change. Pass namespace (or all_namespaces for get tools).";

impl Engine {
    pub fn new(read_only: bool, access: AccessOptions) -> Self {
        Engine {
            registry: Registry::new(read_only),
            access: ClusterAccess::new(access),
            info: ServerInfo {
                name: "kubectl-mtv".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                instructions: Some(INSTRUCTIONS.into()),
            },
        }
    }

    /// Accepts one message or a batch of `session`.
    pub fn accept_incoming(
        self: &Arc<Self>,
        session: &Arc<SessionState>,
        incoming: Incoming,
        identity: Identity,
        notify: Notifier,
    ) -> Outcome {
        match incoming {
            Incoming::One(msg) => self.accept(session, msg, identity, notify),
            Incoming::Batch(items) => self.accept_batch(session, items, identity, notify),
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
        notify: Notifier,
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
            return Outcome::Reply(jsonrpc::error_response(
                None,
                &RpcError::new(INVALID_REQUEST, why),
            ));
        }
        let mut ready = Vec::new();
        let mut pending = Vec::new();
        for item in items {
            match item {
                Err(rejected) => ready.push(rejected.response()),
                Ok(msg) => match self.accept(session, msg, identity.clone(), notify.clone()) {
                    Outcome::Reply(v) => ready.push(v),
                    Outcome::Nothing => {}
                    Outcome::Pending(p) => pending.push(p),
                },
            }
        }
        if pending.is_empty() {
            return if ready.is_empty() {
                Outcome::Nothing
            } else {
                Outcome::Reply(Value::Array(ready))
            };
        }
        Outcome::Pending(Box::pin(async move {
            for v in futures::future::join_all(pending)
                .await
                .into_iter()
                .flatten()
            {
                ready.push(v);
            }
            (!ready.is_empty()).then_some(Value::Array(ready))
        }))
    }

    /// Accepts one message of `session`. `identity` is who this message acts
    /// as; `notify` receives progress and log notifications for it.
    pub fn accept(
        self: &Arc<Self>,
        session: &Arc<SessionState>,
        msg: Message,
        identity: Identity,
        notify: Notifier,
    ) -> Outcome {
        let action =
            session
                .proto
                .lock()
                .expect("session lock")
                .handle(msg, &self.info, &self.registry);
        match action {
            Action::Reply(v) => Outcome::Reply(v),
            Action::Nothing => Outcome::Nothing,
            Action::Cancel { request_id } => {
                if let Some(h) = session
                    .inflight
                    .lock()
                    .expect("inflight lock")
                    .remove(&key(&request_id))
                {
                    tracing::debug!(request = %request_id, "cancelled by the client");
                    h.abort();
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
                let mut inflight = session.inflight.lock().expect("inflight lock");
                if inflight.contains_key(&k) {
                    return Outcome::Reply(jsonrpc::error_response(
                        Some(id),
                        &RpcError::new(
                            INVALID_REQUEST,
                            "Invalid Request: this request id is already in use",
                        ),
                    ));
                }
                let engine = Arc::clone(self);
                let sess = Arc::clone(session);
                let task_id = id.clone();
                let task_key = k.clone();
                let handle = tokio::spawn(async move {
                    let result = engine
                        .call_tool(&sess, &name, arguments, &identity, progress_token, &notify)
                        .await;
                    sess.inflight
                        .lock()
                        .expect("inflight lock")
                        .remove(&task_key);
                    jsonrpc::response(&task_id, result)
                });
                inflight.insert(k, handle.abort_handle());
                drop(inflight);
                Outcome::Pending(Box::pin(async move {
                    match handle.await {
                        Ok(v) => Some(v),
                        Err(e) if e.is_cancelled() => None,
                        Err(_) => Some(jsonrpc::error_response(
                            Some(id),
                            &RpcError::new(
                                INTERNAL_ERROR,
                                "Internal error: the tool call failed unexpectedly",
                            ),
                        )),
                    }
                }))
            }
        }
    }

    async fn call_tool(
        &self,
        session: &SessionState,
        name: &str,
        arguments: Value,
        identity: &Identity,
        progress_token: Option<Value>,
        notify: &Notifier,
    ) -> Value {
        let Some(tool) = self.registry.find(name) else {
            // The session checked the name; the registry cannot shrink.
            return tools::ToolOutput::error(format!("Unknown tool: {name}")).to_result();
        };
        let started = Instant::now();
        let progress = |p: f64, message: &str| {
            if let Some(token) = &progress_token {
                let _ = notify.send(jsonrpc::notification(
                    "notifications/progress",
                    json!({"progressToken": token, "progress": p, "total": 1.0, "message": message}),
                ));
            }
        };
        let ctx = CallContext {
            access: &self.access,
            identity,
            progress: &progress,
        };
        let out = tools::execute(tool, arguments, &ctx).await;
        let ms = started.elapsed().as_millis();
        let (level, text) = if out.is_error {
            (
                LogLevel::Warning,
                format!("{name} failed after {ms} ms: {}", out.text),
            )
        } else {
            (LogLevel::Info, format!("{name} succeeded in {ms} ms"))
        };
        tracing::info!(
            tool = name,
            ms = ms as u64,
            error = out.is_error,
            "tool call"
        );
        let wants = session.proto.lock().expect("session lock").wants_log(level);
        if wants {
            let _ = notify.send(jsonrpc::notification(
                "notifications/message",
                json!({"level": level.name(), "logger": "kubectl-mtv", "data": text}),
            ));
        }
        out.to_result()
    }
}

/// A map key for a request id (string and number ids are distinct).
fn key(id: &Value) -> String {
    id.to_string()
}
