//! MCP prompts: the reference chapter's AI workflows (plan a migration,
//! troubleshoot a plan, review the environment, compliance review) as
//! prompts a client shows as commands. Each is a Markdown file beside this
//! one: a YAML header (name, title, description, arguments) and a body with
//! `{{argument}}` placeholders that tells the model which tools to call in
//! which order. Tools are named in backticks (`` `check_health {…}` ``); a
//! test checks every one exists.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::protocol::jsonrpc::RpcError;
use crate::protocol::PromptCatalog;

/// The prompt files, in `prompts/list` order.
const FILES: [&str; 4] = [
    include_str!("plan_migration.md"),
    include_str!("troubleshoot_plan.md"),
    include_str!("review_environment.md"),
    include_str!("compliance_review.md"),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Argument {
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub required: bool,
    /// Used when the client leaves an optional argument out.
    #[serde(default)]
    pub default: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    name: String,
    title: String,
    description: String,
    #[serde(default)]
    arguments: Vec<Argument>,
}

/// One prompt.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub name: String,
    pub title: String,
    pub description: String,
    pub arguments: Vec<Argument>,
    pub body: String,
}

impl Prompt {
    fn parse(file: &str) -> Prompt {
        let rest = file
            .strip_prefix("---\n")
            .expect("a prompt file starts with ---");
        let (head, body) = rest
            .split_once("\n---\n")
            .expect("a prompt file has a header ended by ---");
        let h: Header = serde_yaml::from_str(head).expect("a prompt header is valid YAML");
        Prompt {
            name: h.name,
            title: h.title,
            description: h.description,
            arguments: h.arguments,
            body: body.trim().to_owned(),
        }
    }

    /// The tools the body names: the first word of each backticked span
    /// that looks like a tool name (`check_health {…}`).
    pub fn tools(&self) -> BTreeSet<String> {
        self.body
            .split('`')
            .skip(1)
            .step_by(2)
            .filter_map(|span| span.split_whitespace().next())
            .filter(|w| w.contains('_') && w.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .map(str::to_owned)
            .collect()
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "arguments": self.arguments.iter().map(|a| json!({
                "name": a.name, "description": a.description, "required": a.required,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Every prompt, parsed once.
pub fn all() -> &'static [Prompt] {
    static ALL: OnceLock<Vec<Prompt>> = OnceLock::new();
    ALL.get_or_init(|| FILES.iter().map(|f| Prompt::parse(f)).collect())
}

/// The prompts of a server that serves `tools` (a prompt's text says which
/// of its tools this server does not serve).
pub struct Prompts {
    served: BTreeSet<String>,
}

impl Prompts {
    pub fn new(served: impl IntoIterator<Item = String>) -> Self {
        Prompts {
            served: served.into_iter().collect(),
        }
    }
}

impl PromptCatalog for Prompts {
    fn list(&self) -> Value {
        json!({"prompts": all().iter().map(Prompt::to_json).collect::<Vec<_>>()})
    }

    fn get(&self, name: &str, arguments: &Map<String, Value>) -> Result<Value, RpcError> {
        let Some(p) = all().iter().find(|p| p.name == name) else {
            let names: Vec<&str> = all().iter().map(|p| p.name.as_str()).collect();
            return Err(RpcError::invalid_params(format!(
                "Unknown prompt: {name}. Prompts: {}",
                names.join(", ")
            )));
        };
        if let Some(k) = arguments
            .keys()
            .find(|k| !p.arguments.iter().any(|a| &a.name == *k))
        {
            let names: Vec<&str> = p.arguments.iter().map(|a| a.name.as_str()).collect();
            return Err(RpcError::invalid_params(format!(
                "Prompt {name} has no argument \"{k}\"; its arguments: {}",
                names.join(", ")
            )));
        }
        let mut text = p.body.clone();
        for a in &p.arguments {
            let given = arguments.get(&a.name).map(|v| match v {
                Value::String(s) => s.trim().to_owned(),
                other => other.to_string(),
            });
            let value = match given.filter(|v| !v.is_empty()) {
                Some(v) => v,
                None if a.required => {
                    return Err(RpcError::invalid_params(format!(
                        "Prompt {name} needs argument \"{}\": {}",
                        a.name, a.description
                    )))
                }
                None => a.default.clone().unwrap_or_default(),
            };
            text = text.replace(&format!("{{{{{}}}}}", a.name), &value);
        }
        let missing: Vec<String> = p
            .tools()
            .into_iter()
            .filter(|t| !self.served.contains(t))
            .collect();
        if !missing.is_empty() {
            text.push_str(&format!(
                "\n\nThis server does not serve {} (it runs with --read-only, --disable-destructive or other toolsets): skip those steps and tell the user what is left to do by hand.",
                missing.join(", ")
            ));
        }
        Ok(json!({
            "description": p.description,
            "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::{CatalogueOptions, Registry};

    #[test]
    fn every_tool_a_prompt_names_is_a_default_tool() {
        let reg = Registry::with_options(&CatalogueOptions::default());
        assert_eq!(all().len(), 4);
        for p in all() {
            let tools = p.tools();
            assert!(tools.len() >= 3, "{}: {tools:?}", p.name);
            for t in &tools {
                assert!(
                    reg.find(t).is_some(),
                    "prompt {} names {t}, which is not served by default",
                    p.name
                );
            }
            for a in &p.arguments {
                assert!(
                    p.body.contains(&format!("{{{{{}}}}}", a.name)),
                    "{}: argument {} is not used",
                    p.name,
                    a.name
                );
            }
        }
    }

    #[test]
    fn get_fills_arguments_and_checks_them() {
        let all_tools = Registry::with_options(&CatalogueOptions::default());
        let prompts = Prompts::new(
            all_tools
                .tools()
                .iter()
                .map(|t| t.definition().name().to_owned()),
        );
        let args = json!({"plan": "web", "namespace": "mtv"});
        let r = prompts
            .get("troubleshoot_plan", args.as_object().unwrap())
            .unwrap();
        let text = r["messages"][0]["content"]["text"].as_str().unwrap();
        assert!(
            text.contains("describe_plan {\"name\": \"web\", \"namespace\": \"mtv\"}"),
            "{text}"
        );
        assert!(
            !text.contains("{{") && !text.contains("does not serve"),
            "{text}"
        );
        let e = prompts
            .get(
                "troubleshoot_plan",
                json!({"plan": "web"}).as_object().unwrap(),
            )
            .unwrap_err();
        assert!(
            e.message.contains("needs argument \"namespace\""),
            "{}",
            e.message
        );
        let e = prompts.get("nope", &Map::new()).unwrap_err();
        assert!(e.message.contains("troubleshoot_plan"), "{}", e.message);
        let e = prompts
            .get(
                "troubleshoot_plan",
                json!({"plan": "w", "namespace": "n", "pod": "x"})
                    .as_object()
                    .unwrap(),
            )
            .unwrap_err();
        assert!(e.message.contains("no argument \"pod\""), "{}", e.message);
        // Optional arguments take their defaults; a read-only server says
        // which steps it cannot do.
        let ro = Registry::standard(true);
        let prompts = Prompts::new(ro.tools().iter().map(|t| t.definition().name().to_owned()));
        let r = prompts
            .get(
                "plan_migration",
                json!({"provider": "vc", "vm_filter": "web-01", "target_namespace": "t"})
                    .as_object()
                    .unwrap(),
            )
            .unwrap();
        let text = r["messages"][0]["content"]["text"].as_str().unwrap();
        assert!(
            text.contains("does not serve create_plan, start_plan"),
            "{text}"
        );
        let r = prompts.get("review_environment", &Map::new()).unwrap();
        assert!(r["messages"][0]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("namespace: all"));
    }
}
