//! JSON-RPC 2.0 messages: parsing, responses, errors. No I/O.

use bytes::Bytes;
use serde_json::{json, Map, Value};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
/// A server limit was reached (implementation-defined server error range).
pub const SERVER_BUSY: i64 = -32000;

/// A JSON-RPC request id: a string or a number (never null in MCP).
pub type Id = Value;

/// One incoming message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request {
        id: Id,
        method: String,
        params: Option<Value>,
    },
    Notification {
        method: String,
        params: Option<Value>,
    },
    /// A response from the client (we send no requests, so these are ignored).
    Response { id: Id },
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
        }
    }

    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }

    pub fn to_value(&self) -> Value {
        json!({"code": self.code, "message": self.message})
    }
}

/// A parse failure: the error to send, with the request id when one was readable.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub id: Option<Id>,
    pub error: RpcError,
}

impl Rejected {
    pub fn response(&self) -> Frame {
        Frame::error(self.id.clone(), &self.error)
    }
}

/// One message, or a JSON-RPC batch (allowed by MCP up to 2025-03-26).
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    One(Message),
    /// Each element parsed on its own: a bad one does not spoil the others.
    Batch(Vec<Result<Message, Rejected>>),
}

fn parse_json(bytes: &[u8]) -> Result<Value, Rejected> {
    serde_json::from_slice(bytes).map_err(|e| Rejected {
        id: None,
        error: RpcError::new(PARSE_ERROR, format!("Parse error: {e}")),
    })
}

/// Parses one message from bytes (a batch is an invalid request here).
pub fn parse(bytes: &[u8]) -> Result<Message, Rejected> {
    from_value(parse_json(bytes)?)
}

/// Parses one message or a batch from bytes.
pub fn parse_incoming(bytes: &[u8]) -> Result<Incoming, Rejected> {
    match parse_json(bytes)? {
        Value::Array(items) if items.is_empty() => Err(Rejected {
            id: None,
            error: RpcError::new(INVALID_REQUEST, "Invalid Request: empty batch"),
        }),
        Value::Array(items) => Ok(Incoming::Batch(items.into_iter().map(from_value).collect())),
        other => from_value(other).map(Incoming::One),
    }
}

/// Interprets a parsed JSON value as a message.
pub fn from_value(value: Value) -> Result<Message, Rejected> {
    let invalid = |id: Option<Id>, msg: &str| Rejected {
        id,
        error: RpcError::new(INVALID_REQUEST, format!("Invalid Request: {msg}")),
    };
    let obj: Map<String, Value> = match value {
        Value::Object(o) => o,
        Value::Array(_) => {
            return Err(invalid(
                None,
                "a JSON-RPC batch is not allowed here; send one message at a time",
            ))
        }
        _ => return Err(invalid(None, "a message must be a JSON object")),
    };
    let id = obj.get("id").cloned();
    let id_ok = |id: &Value| id.is_string() || id.is_i64() || id.is_u64();
    let readable_id = id.clone().filter(id_ok);
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid(
            readable_id,
            "\"jsonrpc\" must be \"2.0\". An MCP client sends JSON-RPC 2.0 messages, one per line, starting with initialize, e.g. {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"me\",\"version\":\"1\"}}}",
        ));
    }
    match obj.get("method") {
        Some(Value::String(method)) => {
            let params = obj.get("params").cloned();
            if let Some(p) = &params {
                if !p.is_object() && !p.is_array() {
                    return Err(invalid(readable_id, "\"params\" must be an object"));
                }
            }
            match id {
                None => Ok(Message::Notification {
                    method: method.clone(),
                    params,
                }),
                Some(id) if id_ok(&id) => Ok(Message::Request {
                    id,
                    method: method.clone(),
                    params,
                }),
                Some(_) => Err(invalid(None, "\"id\" must be a string or an integer")),
            }
        }
        Some(_) => Err(invalid(readable_id, "\"method\" must be a string")),
        None if obj.contains_key("result") || obj.contains_key("error") => match id {
            Some(id) if id_ok(&id) => Ok(Message::Response { id }),
            _ => Err(invalid(None, "a response needs a string or integer \"id\"")),
        },
        None => Err(invalid(readable_id, "missing \"method\"")),
    }
}

/// One outgoing JSON-RPC message, serialized once: transports write these
/// bytes as they are (a line on stdio, a body or an SSE event over HTTP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    bytes: Bytes,
    is_error: bool,
}

impl Frame {
    /// A success response.
    pub fn response(id: &Id, result: &Value) -> Frame {
        let result = serde_json::to_vec(result).expect("a JSON value serializes");
        Frame::response_raw(id, &result)
    }

    /// A success response around an already serialized `result` (must be JSON).
    pub fn response_raw(id: &Id, result: &[u8]) -> Frame {
        let id = serde_json::to_vec(id).expect("an id serializes");
        let mut b = Vec::with_capacity(result.len() + id.len() + 40);
        b.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
        b.extend_from_slice(&id);
        b.extend_from_slice(br#","result":"#);
        b.extend_from_slice(result);
        b.push(b'}');
        Frame {
            bytes: b.into(),
            is_error: false,
        }
    }

    /// An error response; `id` is null when the request id could not be read.
    pub fn error(id: Option<Id>, error: &RpcError) -> Frame {
        let v =
            json!({"jsonrpc": "2.0", "id": id.unwrap_or(Value::Null), "error": error.to_value()});
        Frame {
            bytes: serde_json::to_vec(&v).expect("JSON").into(),
            is_error: true,
        }
    }

    /// A notification.
    pub fn notification(method: &str, params: &Value) -> Frame {
        let v = json!({"jsonrpc": "2.0", "method": method, "params": params});
        Frame {
            bytes: serde_json::to_vec(&v).expect("JSON").into(),
            is_error: false,
        }
    }

    /// A JSON-RPC batch response: the frames as one array.
    pub fn batch(frames: &[Frame]) -> Frame {
        let mut b = Vec::with_capacity(frames.iter().map(|f| f.bytes.len() + 1).sum::<usize>() + 2);
        b.push(b'[');
        for (i, f) in frames.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            b.extend_from_slice(&f.bytes);
        }
        b.push(b']');
        Frame {
            bytes: b.into(),
            is_error: false,
        }
    }

    /// The serialized message (compact JSON: no newline inside).
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// Whether this is an error response.
    pub fn is_error(&self) -> bool {
        self.is_error
    }

    /// The message parsed back (for tests and diagnostics).
    pub fn to_value(&self) -> Value {
        serde_json::from_slice(&self.bytes).expect("a frame is JSON")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_serialize_once_and_read_back() {
        let f = Frame::response_raw(&json!("a"), br#"{"tools":[]}"#);
        assert_eq!(
            f.to_value(),
            json!({"jsonrpc": "2.0", "id": "a", "result": {"tools": []}})
        );
        assert!(!f.is_error());
        let e = Frame::error(Some(json!(3)), &RpcError::new(INVALID_PARAMS, "x"));
        assert!(e.is_error());
        let b = Frame::batch(&[f.clone(), e]);
        assert_eq!(b.to_value()[1]["error"]["code"], INVALID_PARAMS);
        assert!(!Frame::notification("n", &json!({"a": "b\nc"}))
            .bytes()
            .contains(&b'\n'));
    }

    #[test]
    fn parses_requests_and_notifications() {
        let m = parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
        assert_eq!(
            m,
            Message::Request {
                id: json!(1),
                method: "ping".into(),
                params: None
            }
        );
        let m = parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert!(matches!(m, Message::Notification { .. }));
        let m = parse(br#"{"jsonrpc":"2.0","id":"a","result":{}}"#).unwrap();
        assert_eq!(m, Message::Response { id: json!("a") });
    }

    #[test]
    fn batches_parse_element_by_element() {
        let b = parse_incoming(
            br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}, 5, {"jsonrpc":"2.0","method":"x"}]"#,
        )
        .unwrap();
        let Incoming::Batch(items) = b else {
            panic!("a batch")
        };
        assert_eq!(items.len(), 3);
        assert!(matches!(items[0], Ok(Message::Request { .. })));
        assert_eq!(items[1].as_ref().unwrap_err().error.code, INVALID_REQUEST);
        assert!(matches!(items[2], Ok(Message::Notification { .. })));
        assert_eq!(
            parse_incoming(b"[]").unwrap_err().error.code,
            INVALID_REQUEST
        );
        assert!(matches!(
            parse_incoming(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
            Ok(Incoming::One(_))
        ));
        assert_eq!(parse_incoming(b"[").unwrap_err().error.code, PARSE_ERROR);
    }

    #[test]
    fn rejects_bad_input_with_the_right_codes() {
        let cases: &[(&[u8], i64, Option<Value>)] = &[
            (b"not json", PARSE_ERROR, None),
            (b"{\"jsonrpc\":\"2.0\",\"id\":1", PARSE_ERROR, None),
            (b"[]", INVALID_REQUEST, None),
            (b"42", INVALID_REQUEST, None),
            (
                br#"{"id":1,"method":"ping"}"#,
                INVALID_REQUEST,
                Some(json!(1)),
            ),
            (
                br#"{"jsonrpc":"2.0","id":7,"method":3}"#,
                INVALID_REQUEST,
                Some(json!(7)),
            ),
            (
                br#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
                INVALID_REQUEST,
                None,
            ),
            (
                br#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
                INVALID_REQUEST,
                None,
            ),
            (
                br#"{"jsonrpc":"2.0","id":2,"method":"x","params":3}"#,
                INVALID_REQUEST,
                Some(json!(2)),
            ),
            (
                br#"{"jsonrpc":"2.0","id":2}"#,
                INVALID_REQUEST,
                Some(json!(2)),
            ),
        ];
        for (input, code, id) in cases {
            let r = parse(input).unwrap_err();
            assert_eq!(r.error.code, *code, "{}", String::from_utf8_lossy(input));
            assert_eq!(&r.id, id, "{}", String::from_utf8_lossy(input));
            let resp = r.response().to_value();
            assert_eq!(resp["jsonrpc"], "2.0");
            assert_eq!(resp["error"]["code"], *code);
        }
    }
}
