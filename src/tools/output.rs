//! A tool's result: a text block for people and models, and structured JSON.

use serde_json::{json, Value};

/// Most bytes of an error text.
pub const ERROR_BUDGET: usize = 8 * 1024;

/// `text` cut to about `budget` bytes: its first and last parts, with how
/// much was left out between them (on character boundaries).
fn clip_middle(text: String, budget: usize) -> String {
    if text.len() <= budget {
        return text;
    }
    let floor = |i: usize| {
        (0..=i)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0)
    };
    let head = floor(budget / 2);
    let tail = floor(text.len() - budget / 2 + 64).max(head);
    format!(
        "{} …({} bytes left out)… {}",
        &text[..head],
        tail - head,
        &text[tail..]
    )
}

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

    /// A failure the caller can act on; the server goes on. An error text
    /// longer than [`ERROR_BUDGET`] (one quoting a huge argument, say) keeps
    /// its start and its end, where the fix is said.
    pub fn error(text: impl Into<String>) -> Self {
        ToolOutput {
            text: clip_middle(text.into(), ERROR_BUDGET),
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

#[cfg(test)]
mod clip_tests {
    use super::*;

    #[test]
    fn long_errors_keep_their_start_and_their_end() {
        let quoted = format!(
            "\"{}é\" is not a setting. get_settings finds settings",
            "Q".repeat(70_000)
        );
        let out = ToolOutput::error(quoted.clone());
        assert!(out.text.len() <= ERROR_BUDGET + 64, "{}", out.text.len());
        assert!(out.text.starts_with("\"QQQ"));
        assert!(out
            .text
            .ends_with("é\" is not a setting. get_settings finds settings"));
        assert!(out.text.contains("bytes left out"));
        assert_eq!(ToolOutput::error("short").text, "short");
    }
}
