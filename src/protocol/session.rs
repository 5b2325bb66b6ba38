//! The MCP lifecycle of one client session, as a state machine without I/O.
//!
//! [`Session::handle`] takes one parsed message and says what to do: send a
//! reply now, run a tool call, cancel one, or nothing. Transports own the I/O
//! and run tool calls concurrently; this type only keeps protocol state.

use serde_json::{json, Value};

use bytes::Bytes;

use super::jsonrpc::{Frame, Id, Message, RpcError, INVALID_REQUEST, METHOD_NOT_FOUND};

/// Protocol versions we speak, newest first.
pub const SUPPORTED_VERSIONS: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
/// What we answer when the client asks for a version we do not know.
pub const LATEST_VERSION: &str = SUPPORTED_VERSIONS[0];

/// Who we are, for `initialize`.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub name: String,
    pub version: String,
    pub instructions: Option<String>,
}

/// MCP log levels, in increasing severity (RFC 5424 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Critical,
    Alert,
    Emergency,
}

impl LogLevel {
    pub const NAMES: [&'static str; 8] = [
        "debug",
        "info",
        "notice",
        "warning",
        "error",
        "critical",
        "alert",
        "emergency",
    ];
    const ALL: [LogLevel; 8] = [
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Notice,
        LogLevel::Warning,
        LogLevel::Error,
        LogLevel::Critical,
        LogLevel::Alert,
        LogLevel::Emergency,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .map(|i| Self::ALL[i])
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// What the transport should do with a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send this JSON-RPC response now.
    Reply(Frame),
    /// Nothing to send.
    Nothing,
    /// Run a tool; the transport replies when it finishes (unless cancelled).
    CallTool {
        id: Id,
        name: String,
        arguments: Value,
        progress_token: Option<Value>,
    },
    /// Stop the in-flight request with this id; send no reply for it.
    Cancel { request_id: Id },
}

/// The tools a session can list and call.
pub trait ToolCatalog {
    /// How many tools there are.
    fn tool_count(&self) -> usize;
    /// The serialized `tools/list` result (`{"tools":[…],"nextCursor"?}`) for
    /// the tools `start..start + size`; the cursor is [`encode_cursor`] of the
    /// next offset when tools remain.
    fn page(&self, start: usize, size: usize) -> Bytes;
    /// Whether a tool of this name exists.
    fn has_tool(&self, name: &str) -> bool;
    /// For a tool that is not served: why, and what to call instead.
    fn explain_missing(&self, _name: &str) -> Option<String> {
        None
    }
    /// The prompts offered beside the tools (capability `prompts`), if any.
    fn prompts(&self) -> Option<&dyn PromptCatalog> {
        None
    }
    /// Whether [`Self::prompts`] offers any (asked at `initialize`, which
    /// must not wait for a catalogue still being built).
    fn offers_prompts(&self) -> bool {
        self.prompts().is_some()
    }
}

/// Prompts a session can list and get.
pub trait PromptCatalog {
    /// The `prompts/list` result (`{"prompts": […]}`).
    fn list(&self) -> Value;
    /// The `prompts/get` result for `name` with these arguments, or why not.
    fn get(
        &self,
        name: &str,
        arguments: &serde_json::Map<String, Value>,
    ) -> Result<Value, RpcError>;
}

/// Protocol state of one client session.
#[derive(Debug, Clone)]
pub struct Session {
    version: Option<String>,
    client_ready: bool,
    log_level: Option<LogLevel>,
    page_size: usize,
}

/// Tools per `tools/list` page unless a session says otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 100;

impl Default for Session {
    fn default() -> Self {
        Self::new(DEFAULT_PAGE_SIZE)
    }
}

impl Session {
    /// A new session that lists at most `page_size` tools per `tools/list` page.
    pub fn new(page_size: usize) -> Self {
        Session {
            version: None,
            client_ready: false,
            log_level: None,
            page_size: page_size.max(1),
        }
    }

    /// Takes the session as initialized with `version`, as a stateless
    /// server does for a request whose `initialize` it never saw.
    pub fn assume_initialized(&mut self, version: &str) {
        self.version = Some(version.to_owned());
        self.client_ready = true;
    }

    /// The negotiated protocol version, once `initialize` succeeded.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Whether the client sent `notifications/initialized`.
    pub fn client_ready(&self) -> bool {
        self.client_ready
    }

    /// The lowest level the client asked to receive (`logging/setLevel`).
    pub fn log_level(&self) -> Option<LogLevel> {
        self.log_level
    }

    /// Whether a log message at `level` should be sent to the client.
    /// Nothing is sent until the client asks with `logging/setLevel`.
    pub fn wants_log(&self, level: LogLevel) -> bool {
        self.log_level.is_some_and(|min| level >= min)
    }

    /// Handles one incoming message.
    pub fn handle(&mut self, msg: Message, info: &ServerInfo, tools: &dyn ToolCatalog) -> Action {
        match msg {
            Message::Response { .. } => Action::Nothing,
            Message::Notification { method, params } => self.notification(&method, params),
            Message::Request { id, method, params } => {
                match self.request(&id, &method, params, info, tools) {
                    Ok(action) => action,
                    Err(e) => Action::Reply(Frame::error(Some(id), &e)),
                }
            }
        }
    }

    fn notification(&mut self, method: &str, params: Option<Value>) -> Action {
        match method {
            "notifications/initialized" => {
                self.client_ready = true;
                Action::Nothing
            }
            "notifications/cancelled" => match params.as_ref().and_then(|p| p.get("requestId")) {
                Some(id) if id.is_string() || id.is_number() => Action::Cancel {
                    request_id: id.clone(),
                },
                _ => Action::Nothing,
            },
            // Unknown notifications are ignored, as JSON-RPC requires.
            _ => Action::Nothing,
        }
    }

    fn request(
        &mut self,
        id: &Id,
        method: &str,
        params: Option<Value>,
        info: &ServerInfo,
        tools: &dyn ToolCatalog,
    ) -> Result<Action, RpcError> {
        let params = match params {
            None => Value::Object(Default::default()),
            Some(Value::Object(o)) => Value::Object(o),
            Some(_) => return Err(RpcError::invalid_params("params must be an object")),
        };
        let reply = |result: Value| Ok(Action::Reply(Frame::response(id, &result)));
        match method {
            "initialize" => reply(self.initialize(&params, info, tools.offers_prompts())?),
            "ping" => reply(json!({})),
            _ if self.version.is_none() && is_known(method) => Err(RpcError::new(
                INVALID_REQUEST,
                format!("Server not initialized: send \"initialize\" before \"{method}\""),
            )),
            "tools/list" => Ok(Action::Reply(Frame::response_raw(
                id,
                &self.list_tools(&params, tools)?,
            ))),
            "tools/call" => {
                let name = match params.get("name") {
                    Some(Value::String(n)) => n.clone(),
                    _ => {
                        return Err(RpcError::invalid_params(
                            "tools/call needs a string \"name\"",
                        ))
                    }
                };
                if !tools.has_tool(&name) {
                    let why = tools
                        .explain_missing(&name)
                        .map(|w| format!(". {w}"))
                        .unwrap_or_default();
                    return Err(RpcError::invalid_params(format!(
                        "Unknown tool: {name}{why}"
                    )));
                }
                let arguments = match params.get("arguments") {
                    None | Some(Value::Null) => json!({}),
                    Some(Value::Object(a)) => Value::Object(a.clone()),
                    Some(_) => {
                        return Err(RpcError::invalid_params(
                            "tools/call \"arguments\" must be an object",
                        ))
                    }
                };
                let progress_token = params
                    .pointer("/_meta/progressToken")
                    .filter(|t| t.is_string() || t.is_number())
                    .cloned();
                Ok(Action::CallTool {
                    id: id.clone(),
                    name,
                    arguments,
                    progress_token,
                })
            }
            "prompts/list" | "prompts/get" => {
                let Some(prompts) = tools.prompts() else {
                    return Err(RpcError::new(
                        METHOD_NOT_FOUND,
                        format!("Method not found: {method}"),
                    ));
                };
                if method == "prompts/list" {
                    return reply(prompts.list());
                }
                let name = params.get("name").and_then(Value::as_str).ok_or_else(|| {
                    RpcError::invalid_params("prompts/get needs a string \"name\"")
                })?;
                let arguments = match params.get("arguments") {
                    None | Some(Value::Null) => serde_json::Map::new(),
                    Some(Value::Object(a)) => a.clone(),
                    Some(_) => {
                        return Err(RpcError::invalid_params(
                            "prompts/get \"arguments\" must be an object",
                        ))
                    }
                };
                reply(prompts.get(name, &arguments)?)
            }
            "logging/setLevel" => {
                let level = params
                    .get("level")
                    .and_then(Value::as_str)
                    .and_then(LogLevel::parse);
                match level {
                    Some(l) => {
                        self.log_level = Some(l);
                        reply(json!({}))
                    }
                    None => Err(RpcError::invalid_params(format!(
                        "logging/setLevel needs \"level\", one of {}",
                        LogLevel::NAMES.join(", ")
                    ))),
                }
            }
            _ => Err(RpcError::new(
                METHOD_NOT_FOUND,
                format!("Method not found: {method}"),
            )),
        }
    }

    fn initialize(
        &mut self,
        params: &Value,
        info: &ServerInfo,
        prompts: bool,
    ) -> Result<Value, RpcError> {
        let asked = params
            .get("protocolVersion")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                RpcError::invalid_params("initialize needs a string \"protocolVersion\"")
            })?;
        let version = if SUPPORTED_VERSIONS.contains(&asked) {
            asked
        } else {
            LATEST_VERSION
        };
        self.version = Some(version.to_owned());
        let mut result = json!({
            "protocolVersion": version,
            "capabilities": {"tools": {"listChanged": false}, "logging": {}},
            "serverInfo": {"name": info.name, "version": info.version},
        });
        if prompts {
            result["capabilities"]["prompts"] = json!({"listChanged": false});
        }
        if let Some(text) = &info.instructions {
            result["instructions"] = json!(text);
        }
        Ok(result)
    }

    fn list_tools(&self, params: &Value, tools: &dyn ToolCatalog) -> Result<Bytes, RpcError> {
        let count = tools.tool_count();
        let start = match params.get("cursor") {
            None | Some(Value::Null) => 0,
            Some(Value::String(c)) => decode_cursor(c)
                .filter(|&n| n < count)
                .ok_or_else(|| RpcError::invalid_params(format!("Invalid cursor: {c}")))?,
            Some(_) => return Err(RpcError::invalid_params("cursor must be a string")),
        };
        Ok(tools.page(start, self.page_size))
    }
}

/// Methods that need an initialized session (everything we serve but ping/initialize).
fn is_known(method: &str) -> bool {
    matches!(
        method,
        "tools/list" | "tools/call" | "logging/setLevel" | "prompts/list" | "prompts/get"
    )
}

/// The `nextCursor` of a `tools/list` page that ends before `offset`.
pub fn encode_cursor(offset: usize) -> String {
    format!("tools:{offset}")
}

fn decode_cursor(c: &str) -> Option<usize> {
    c.strip_prefix("tools:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::jsonrpc;

    struct Tools(Vec<Value>);
    impl ToolCatalog for Tools {
        fn tool_count(&self) -> usize {
            self.0.len()
        }
        fn page(&self, start: usize, size: usize) -> Bytes {
            let end = (start + size).min(self.0.len());
            let mut v = json!({"tools": self.0[start..end]});
            if end < self.0.len() {
                v["nextCursor"] = json!(encode_cursor(end));
            }
            serde_json::to_vec(&v).unwrap().into()
        }
        fn has_tool(&self, name: &str) -> bool {
            self.0.iter().any(|t| t["name"] == name)
        }
    }

    fn info() -> ServerInfo {
        ServerInfo {
            name: "kubectl-mtv".into(),
            version: "1.2.3".into(),
            instructions: Some("hi".into()),
        }
    }

    fn tools(n: usize) -> Tools {
        Tools((0..n).map(|i| json!({"name": format!("t{i}")})).collect())
    }

    fn req(id: i64, method: &str, params: Value) -> Message {
        Message::Request {
            id: json!(id),
            method: method.into(),
            params: Some(params),
        }
    }

    fn reply(a: Action) -> Value {
        match a {
            Action::Reply(v) => v.to_value(),
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    fn init(s: &mut Session, version: &str) -> Value {
        reply(s.handle(req(0, "initialize", json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}})), &info(), &tools(1)))
    }

    #[test]
    fn negotiates_versions() {
        for v in SUPPORTED_VERSIONS {
            let mut s = Session::default();
            let r = init(&mut s, v);
            assert_eq!(r["result"]["protocolVersion"], v);
            assert_eq!(s.version(), Some(v));
        }
        let mut s = Session::default();
        let r = init(&mut s, "1999-01-01");
        assert_eq!(r["result"]["protocolVersion"], LATEST_VERSION);
        assert_eq!(
            r["result"]["serverInfo"],
            json!({"name": "kubectl-mtv", "version": "1.2.3"})
        );
        assert_eq!(
            r["result"]["capabilities"]["tools"],
            json!({"listChanged": false})
        );
        assert_eq!(r["result"]["capabilities"]["logging"], json!({}));
        assert_eq!(r["result"]["instructions"], "hi");
    }

    #[test]
    fn initialize_needs_a_version() {
        let mut s = Session::default();
        let r = reply(s.handle(req(1, "initialize", json!({})), &info(), &tools(1)));
        assert_eq!(r["error"]["code"], jsonrpc::INVALID_PARAMS);
        assert_eq!(s.version(), None);
    }

    #[test]
    fn requests_before_initialize_are_refused_but_ping_works() {
        let mut s = Session::default();
        let r = reply(s.handle(req(1, "tools/list", json!({})), &info(), &tools(1)));
        assert_eq!(r["error"]["code"], INVALID_REQUEST);
        assert!(r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("initialize"));
        let r = reply(s.handle(req(2, "ping", json!({})), &info(), &tools(1)));
        assert_eq!(r, json!({"jsonrpc": "2.0", "id": 2, "result": {}}));
        let r = reply(s.handle(
            Message::Request {
                id: json!(3),
                method: "ping".into(),
                params: None,
            },
            &info(),
            &tools(1),
        ));
        assert_eq!(r["result"], json!({}));
    }

    #[test]
    fn unknown_methods_and_bad_params() {
        let mut s = Session::default();
        init(&mut s, "2025-06-18");
        let r = reply(s.handle(req(1, "resources/list", json!({})), &info(), &tools(1)));
        assert_eq!(r["error"]["code"], METHOD_NOT_FOUND);
        let r = reply(s.handle(
            Message::Request {
                id: json!(2),
                method: "tools/list".into(),
                params: Some(json!([1])),
            },
            &info(),
            &tools(1),
        ));
        assert_eq!(r["error"]["code"], jsonrpc::INVALID_PARAMS);
        let r = reply(s.handle(req(3, "tools/call", json!({"name": 5})), &info(), &tools(1)));
        assert_eq!(r["error"]["code"], jsonrpc::INVALID_PARAMS);
        let r = reply(s.handle(
            req(4, "tools/call", json!({"name": "nope"})),
            &info(),
            &tools(1),
        ));
        assert_eq!(r["error"]["code"], jsonrpc::INVALID_PARAMS);
        assert!(r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Unknown tool: nope"));
        let r = reply(s.handle(
            req(5, "tools/call", json!({"name": "t0", "arguments": [1]})),
            &info(),
            &tools(1),
        ));
        assert_eq!(r["error"]["code"], jsonrpc::INVALID_PARAMS);
        let r = reply(s.handle(
            req(6, "logging/setLevel", json!({"level": "loud"})),
            &info(),
            &tools(1),
        ));
        assert_eq!(r["error"]["code"], jsonrpc::INVALID_PARAMS);
    }

    #[test]
    fn tool_calls_carry_arguments_and_progress_token() {
        let mut s = Session::default();
        init(&mut s, "2025-06-18");
        let a = s.handle(
            req(
                9,
                "tools/call",
                json!({"name": "t0", "arguments": {"x": 1}, "_meta": {"progressToken": "p1"}}),
            ),
            &info(),
            &tools(1),
        );
        assert_eq!(
            a,
            Action::CallTool {
                id: json!(9),
                name: "t0".into(),
                arguments: json!({"x": 1}),
                progress_token: Some(json!("p1"))
            }
        );
        let a = s.handle(
            req(10, "tools/call", json!({"name": "t0"})),
            &info(),
            &tools(1),
        );
        assert!(
            matches!(a, Action::CallTool { ref arguments, progress_token: None, .. } if arguments == &json!({}))
        );
    }

    #[test]
    fn cancellation_and_initialized_notifications() {
        let mut s = Session::default();
        let n = |m: &str, p: Value| Message::Notification {
            method: m.into(),
            params: Some(p),
        };
        assert_eq!(
            s.handle(
                n("notifications/initialized", json!({})),
                &info(),
                &tools(1)
            ),
            Action::Nothing
        );
        assert!(s.client_ready());
        assert_eq!(
            s.handle(
                n(
                    "notifications/cancelled",
                    json!({"requestId": 4, "reason": "x"})
                ),
                &info(),
                &tools(1)
            ),
            Action::Cancel {
                request_id: json!(4)
            }
        );
        assert_eq!(
            s.handle(n("notifications/cancelled", json!({})), &info(), &tools(1)),
            Action::Nothing
        );
        assert_eq!(
            s.handle(n("something/else", json!({})), &info(), &tools(1)),
            Action::Nothing
        );
    }

    #[test]
    fn tools_list_paginates_with_cursors() {
        let mut s = Session::new(2);
        init(&mut s, "2025-06-18");
        let t = tools(5);
        let mut names = vec![];
        let mut cursor: Option<String> = None;
        for _ in 0..5 {
            let p = cursor
                .as_ref()
                .map(|c| json!({"cursor": c}))
                .unwrap_or(json!({}));
            let r = reply(s.handle(req(1, "tools/list", p), &info(), &t));
            for tool in r["result"]["tools"].as_array().unwrap() {
                names.push(tool["name"].as_str().unwrap().to_owned());
            }
            cursor = r["result"]["nextCursor"].as_str().map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(names, ["t0", "t1", "t2", "t3", "t4"]);
        let r = reply(s.handle(
            req(1, "tools/list", json!({"cursor": "bogus"})),
            &info(),
            &t,
        ));
        assert_eq!(r["error"]["code"], jsonrpc::INVALID_PARAMS);
    }

    /// One prompt, "p", with a required argument "x".
    struct OnePrompt;
    impl PromptCatalog for OnePrompt {
        fn list(&self) -> Value {
            json!({"prompts": [{"name": "p", "arguments": [{"name": "x", "required": true}]}]})
        }
        fn get(&self, name: &str, a: &serde_json::Map<String, Value>) -> Result<Value, RpcError> {
            match (name, a.get("x")) {
                ("p", Some(x)) => Ok(
                    json!({"messages": [{"role": "user", "content": {"type": "text", "text": x}}]}),
                ),
                ("p", None) => Err(RpcError::invalid_params("needs x")),
                _ => Err(RpcError::invalid_params("Unknown prompt")),
            }
        }
    }
    struct WithPrompts(Tools);
    impl ToolCatalog for WithPrompts {
        fn tool_count(&self) -> usize {
            self.0.tool_count()
        }
        fn page(&self, start: usize, size: usize) -> Bytes {
            self.0.page(start, size)
        }
        fn has_tool(&self, name: &str) -> bool {
            self.0.has_tool(name)
        }
        fn prompts(&self) -> Option<&dyn PromptCatalog> {
            Some(&OnePrompt)
        }
    }

    #[test]
    fn prompts_are_listed_and_got_when_the_catalog_has_them() {
        let mut s = Session::default();
        let r = init(&mut s, "2025-06-18");
        assert!(r["result"]["capabilities"].get("prompts").is_none());
        let r = reply(s.handle(req(1, "prompts/list", json!({})), &info(), &tools(1)));
        assert_eq!(r["error"]["code"], METHOD_NOT_FOUND);

        let t = WithPrompts(tools(1));
        let mut s = Session::default();
        let r = reply(s.handle(
            req(0, "initialize", json!({"protocolVersion": "2025-06-18"})),
            &info(),
            &t,
        ));
        assert_eq!(
            r["result"]["capabilities"]["prompts"],
            json!({"listChanged": false})
        );
        let r = reply(s.handle(req(1, "prompts/list", json!({})), &info(), &t));
        assert_eq!(r["result"]["prompts"][0]["name"], "p");
        let r = reply(s.handle(
            req(
                2,
                "prompts/get",
                json!({"name": "p", "arguments": {"x": "hi"}}),
            ),
            &info(),
            &t,
        ));
        assert_eq!(r["result"]["messages"][0]["content"]["text"], "hi");
        for bad in [
            json!({"name": "p"}),
            json!({}),
            json!({"name": "p", "arguments": [1]}),
        ] {
            let r = reply(s.handle(req(3, "prompts/get", bad), &info(), &t));
            assert_eq!(r["error"]["code"], jsonrpc::INVALID_PARAMS);
        }
        let mut fresh = Session::default();
        let r = reply(fresh.handle(req(4, "prompts/list", json!({})), &info(), &t));
        assert_eq!(r["error"]["code"], INVALID_REQUEST, "before initialize");
    }

    #[test]
    fn logging_level_filters() {
        let mut s = Session::default();
        init(&mut s, "2025-06-18");
        assert!(!s.wants_log(LogLevel::Emergency));
        reply(s.handle(
            req(1, "logging/setLevel", json!({"level": "warning"})),
            &info(),
            &tools(1),
        ));
        assert!(s.wants_log(LogLevel::Error) && s.wants_log(LogLevel::Warning));
        assert!(!s.wants_log(LogLevel::Info));
    }
}
