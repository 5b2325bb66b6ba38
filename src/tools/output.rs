//! A tool's result: a text block for people and models, and structured JSON.

use serde_json::{json, Value};

/// What a tool call produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    pub text: String,
    pub structured: Option<Value>,
    pub is_error: bool,
}

impl ToolOutput {
    pub fn ok(text: impl Into<String>, structured: Option<Value>) -> Self {
        ToolOutput {
            text: text.into(),
            structured,
            is_error: false,
        }
    }

    /// A failure the caller can act on; the server goes on.
    pub fn error(text: impl Into<String>) -> Self {
        ToolOutput {
            text: text.into(),
            structured: None,
            is_error: true,
        }
    }

    /// The `tools/call` result object.
    pub fn to_result(&self) -> Value {
        let mut r = json!({
            "content": [{"type": "text", "text": self.text}],
            "isError": self.is_error,
        });
        if let Some(s) = &self.structured {
            r["structuredContent"] = s.clone();
        }
        r
    }
}

/// Renders a JSON value as YAML, or pretty JSON.
pub fn render(value: &Value, yaml: bool) -> String {
    if yaml {
        serde_yaml::to_string(value).unwrap_or_else(|e| format!("# cannot render YAML: {e}"))
    } else {
        serde_json::to_string_pretty(value).unwrap_or_default()
    }
}

/// Removes what only clutters a model's context: managedFields and kubectl's
/// copy of the last applied object.
pub fn tidy(obj: &mut Value) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        if let Some(Value::Object(ann)) = meta.get_mut("annotations") {
            ann.remove("kubectl.kubernetes.io/last-applied-configuration");
            if ann.is_empty() {
                meta.remove("annotations");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_shape() {
        let r = ToolOutput::ok("hi", Some(json!({"a": 1}))).to_result();
        assert_eq!(
            r,
            json!({"content": [{"type": "text", "text": "hi"}], "isError": false, "structuredContent": {"a": 1}})
        );
        assert_eq!(ToolOutput::error("no").to_result()["isError"], true);
    }
}
