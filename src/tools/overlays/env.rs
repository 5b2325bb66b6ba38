//! `${NAME}` in any string argument of any tool is replaced from the
//! server's environment before the tool runs, so a secret can be given to a
//! tool without passing through the model (`"password": "${VCENTER_PASSWORD}"`,
//! with VCENTER_PASSWORD in Claude Desktop's `env` block). A name the
//! environment lacks is an error that names it, and nothing is sent.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;

use crate::tools::{CallContext, Mutator, SharedTool, Tool, ToolDefinition, ToolError, ToolResult};

/// Wraps every tool with the substitution.
pub struct EnvSubstitution;

impl Mutator for EnvSubstitution {
    fn mutate(&self, tool: SharedTool) -> SharedTool {
        Arc::new(WithEnv(tool))
    }
}

struct WithEnv(SharedTool);

impl Tool for WithEnv {
    fn definition(&self) -> &ToolDefinition {
        self.0.definition()
    }

    fn call<'a>(&'a self, ctx: &'a CallContext, mut args: Value) -> BoxFuture<'a, ToolResult> {
        Box::pin(async move {
            let (substituted, used) = {
                let used = std::cell::RefCell::new(Vec::<String>::new());
                let lookup = |name: &str| {
                    let v = std::env::var(name).ok();
                    if v.is_some() && !used.borrow().iter().any(|u| u == name) {
                        used.borrow_mut().push(name.to_owned());
                    }
                    v
                };
                let r = substitute(&mut args, &lookup);
                (r, used.into_inner())
            };
            substituted.map_err(|missing| {
                ToolError::Arguments {
                    tool: self.0.definition().name().to_owned(),
                    detail: format!(
                        "${{{missing}}} names an environment variable the server does not have; set {missing} in the server's environment (e.g. the \"env\" block of the MCP client's server configuration)"
                    ),
                }
            })?;
            let mut out = self.0.call(ctx, args).await?;
            if !used.is_empty() && !out.is_error {
                // Which values came from the environment (never the values).
                out.text.push_str(&format!(
                    "\nRead from the server's environment: {}.",
                    used.join(", ")
                ));
            }
            Ok(out)
        })
    }

    fn time_limit(&self, args: &Value) -> Duration {
        self.0.time_limit(args)
    }
}

/// Replaces every `${NAME}` in the strings of `v`; the error is the first
/// name `lookup` does not know.
pub fn substitute(v: &mut Value, lookup: &dyn Fn(&str) -> Option<String>) -> Result<(), String> {
    match v {
        Value::String(s) if s.contains("${") => {
            *s = expand(s, lookup)?;
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(|i| substitute(i, lookup)),
        Value::Object(map) => map.values_mut().try_for_each(|i| substitute(i, lookup)),
        _ => Ok(()),
    }
}

fn expand(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        let valid = !name.is_empty()
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid {
            out.push_str(&lookup(name).ok_or_else(|| name.to_owned())?);
        } else {
            out.push_str(&rest[start..start + 2 + end + 1]);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(name: &str) -> Option<String> {
        match name {
            "PASS" => Some("s3cr3t".into()),
            "USER" => Some("admin".into()),
            _ => None,
        }
    }

    #[test]
    fn replaces_names_everywhere_and_refuses_unknown_ones() {
        let mut v = json!({"password": "${PASS}", "spec": {"u": "${USER}@vsphere", "n": [1, "x-${USER}-${PASS}"]}, "keep": "${not-a-name} $HOME ${"});
        substitute(&mut v, &env).unwrap();
        assert_eq!(
            v,
            json!({"password": "s3cr3t", "spec": {"u": "admin@vsphere", "n": [1, "x-admin-s3cr3t"]}, "keep": "${not-a-name} $HOME ${"})
        );
        let mut v = json!({"a": ["${PASS}", "${MISSING_ONE}"]});
        assert_eq!(substitute(&mut v, &env), Err("MISSING_ONE".into()));
    }
}
