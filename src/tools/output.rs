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

/// Keeps only the dotted `fields` of an object (and always its name and namespace).
pub fn select_fields(obj: &Value, fields: &[String]) -> Value {
    let mut out = json!({});
    let always = ["metadata.name", "metadata.namespace"];
    for path in always
        .iter()
        .copied()
        .chain(fields.iter().map(String::as_str))
    {
        let parts: Vec<&str> = path.split('.').filter(|p| !p.is_empty()).collect();
        if parts.is_empty() {
            continue;
        }
        let mut src = obj;
        let mut found = true;
        for p in &parts {
            match src.get(p) {
                Some(v) => src = v,
                None => {
                    found = false;
                    break;
                }
            }
        }
        if !found {
            continue;
        }
        let mut dst = &mut out;
        for p in &parts[..parts.len() - 1] {
            if !dst.get(p).is_some_and(Value::is_object) {
                dst[*p] = json!({});
            }
            dst = dst.get_mut(*p).expect("just inserted");
        }
        dst[parts[parts.len() - 1]] = src.clone();
    }
    out
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
    fn selects_dotted_fields_and_keeps_identity() {
        let o = json!({"metadata": {"name": "a", "namespace": "n", "labels": {"x": "1"}}, "spec": {"type": "vsphere", "url": "u"}, "status": {"phase": "Ready"}});
        let s = select_fields(
            &o,
            &[
                "spec.type".into(),
                "status.phase".into(),
                "missing.x".into(),
            ],
        );
        assert_eq!(
            s,
            json!({"metadata": {"name": "a", "namespace": "n"}, "spec": {"type": "vsphere"}, "status": {"phase": "Ready"}})
        );
    }

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
