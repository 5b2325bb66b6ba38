//! The audit log (`--audit-log FILE`, `-` for stderr): one JSON line per tool
//! call saying who called what, on which object, and how it ended.
//!
//! Only names are written: the tool, the target's kind, namespace and name,
//! and `dry_run`. Argument values are never written (a provider's password or
//! a Secret's data could be among them), and a bearer token appears only as
//! a short SHA-256 fingerprint, which identifies the same token across lines
//! without revealing it.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use secrecy::ExposeSecret;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::cluster::Identity;
use crate::metrics::CallOutcome;

/// Where audit lines go.
pub struct AuditLog {
    out: Mutex<Box<dyn Write + Send>>,
}

/// Where a call came from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// `stdio`, `sse`, `streamable`, `call` (the CLI).
    pub transport: &'static str,
    /// The session id, when the transport has sessions.
    pub session: Option<String>,
}

/// One finished tool call.
pub struct Entry<'a> {
    pub origin: &'a Origin,
    pub identity: &'a Identity,
    /// Who the server acts as when the request brings no token (from the kubeconfig).
    pub default_caller: &'a str,
    pub tool: &'a str,
    pub arguments: &'a Value,
    pub outcome: CallOutcome,
    pub duration: Duration,
}

impl AuditLog {
    /// Opens `target` for appending (`-` is stderr).
    pub fn open(target: &Path) -> io::Result<Self> {
        let out: Box<dyn Write + Send> = if target.as_os_str() == "-" {
            Box::new(io::stderr())
        } else {
            Box::new(OpenOptions::new().create(true).append(true).open(target)?)
        };
        Ok(AuditLog {
            out: Mutex::new(out),
        })
    }

    /// Writes one line for `entry`. A failed write is logged, never fatal.
    pub fn record(&self, entry: &Entry<'_>) {
        let mut line = entry.to_json().to_string();
        line.push('\n');
        let mut out = self.out.lock().expect("audit lock");
        if let Err(e) = out.write_all(line.as_bytes()).and_then(|_| out.flush()) {
            tracing::warn!("cannot write the audit log: {e}");
        }
    }
}

/// A short, stable fingerprint of a bearer token: `sha256:` and 12 hex digits.
pub fn token_fingerprint(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

impl Entry<'_> {
    fn to_json(&self) -> Value {
        let caller = match &self.identity.token {
            Some(t) => format!("bearer token {}", token_fingerprint(t.expose_secret())),
            None => self.default_caller.to_owned(),
        };
        let args = self.arguments;
        let text = |k: &str| {
            args.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        json!({
            "time": humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            "transport": self.origin.transport,
            "session": self.origin.session,
            "caller": caller,
            "kubernetesServer": self.identity.server,
            "tool": self.tool,
            "kind": target_kind(self.tool, args),
            "namespace": text("namespace"),
            "name": text("name").or_else(|| text("plan")),
            "allNamespaces": args.get("all_namespaces").and_then(Value::as_bool).unwrap_or(false),
            "dryRun": args.get("dry_run").and_then(Value::as_bool).unwrap_or(false),
            "outcome": self.outcome.as_str(),
            "durationMs": self.duration.as_millis() as u64,
        })
    }
}

/// The kind a tool acts on, from its name (`create_plan` → Plan,
/// `get_events` → Event), or the `kind`/`resource` it was given.
fn target_kind(tool: &str, args: &Value) -> Option<String> {
    let given = ["kind", "resource"]
        .iter()
        .find_map(|k| args.get(*k).and_then(Value::as_str));
    let (_, object) = tool.split_once('_')?;
    match object {
        "events" => Some("Event".into()),
        "logs" => Some("Pod".into()),
        "resource" | "inventory" => given.map(str::to_owned),
        _ => crate::catalogue::find_resource(object).map(|r| r.kind.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_the_target_and_never_a_secret() {
        let identity = Identity {
            token: Some("eyJhbGciOi.secret-token".to_owned().into()),
            server: None,
        };
        let origin = Origin {
            transport: "streamable",
            session: None,
        };
        let args = json!({"name": "vsphere", "namespace": "mtv", "password": "hunter2",
                          "spec": {"url": "https://vc"}, "dry_run": true});
        let e = Entry {
            origin: &origin,
            identity: &identity,
            default_caller: "kubeconfig",
            tool: "create_provider",
            arguments: &args,
            outcome: CallOutcome::Ok,
            duration: Duration::from_millis(12),
        };
        let v = e.to_json();
        let text = v.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("secret-token"),
            "{text}"
        );
        assert!(
            !text.contains("https://vc"),
            "argument values stay out: {text}"
        );
        assert_eq!(v["kind"], "Provider");
        assert_eq!(v["name"], "vsphere");
        assert_eq!(v["dryRun"], true);
        assert_eq!(
            v["caller"],
            format!(
                "bearer token {}",
                token_fingerprint("eyJhbGciOi.secret-token")
            )
        );
        assert_eq!(
            target_kind("get_plans", &json!({})).as_deref(),
            Some("Plan")
        );
        assert_eq!(
            target_kind("get_events", &json!({})).as_deref(),
            Some("Event")
        );
    }
}
