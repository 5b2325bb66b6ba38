//! The tool registry: every tool's `tools/list` definition, built once.
//!
//! Generated CRUD tools come from [`crate::catalogue`]; their input schemas are
//! the schemars schemas of [`super::args`], with a create tool's `spec` replaced
//! by the resource's trimmed spec summary. `explain_resource` is added last.

use schemars::{generate::SchemaSettings, JsonSchema};
use serde_json::{json, Map, Value};

use super::args::{CreateArgs, DeleteArgs, ExplainArgs, GetArgs, PatchArgs};
use crate::catalogue::{self, ToolDef, Verb};

/// Name of the schema-explaining tool.
pub const EXPLAIN: &str = "explain_resource";

/// What a registered tool runs.
#[derive(Debug, Clone, Copy)]
pub enum ToolKind {
    /// A generated get/create/patch/delete tool.
    Crud(&'static ToolDef),
    /// `explain_resource`.
    Explain,
}

/// One tool as served.
#[derive(Debug)]
pub struct Tool {
    pub name: &'static str,
    pub kind: ToolKind,
    pub read_only: bool,
    /// The `tools/list` entry.
    pub definition: Value,
}

/// All tools the server offers, in `tools/list` order.
#[derive(Debug)]
pub struct Registry {
    tools: Vec<Tool>,
}

impl Registry {
    /// Builds the registry; with `read_only`, only tools that do not write.
    pub fn new(read_only: bool) -> Self {
        let gen = Schemas::new();
        let mut tools: Vec<Tool> = catalogue::tools()
            .iter()
            .map(|t| Tool {
                name: t.name,
                kind: ToolKind::Crud(t),
                read_only: t.verb.read_only(),
                definition: crud_definition(t, &gen),
            })
            .collect();
        tools.push(Tool {
            name: EXPLAIN,
            kind: ToolKind::Explain,
            read_only: true,
            definition: explain_definition(&gen),
        });
        if read_only {
            tools.retain(|t| t.read_only);
        }
        Registry { tools }
    }

    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }

    pub fn find(&self, name: &str) -> Option<&Tool> {
        self.tools.iter().find(|t| t.name == name)
    }

    /// The `tools/list` result for a whole catalogue (no pagination).
    pub fn list_json(&self) -> Value {
        json!({ "tools": self.tools.iter().map(|t| &t.definition).collect::<Vec<_>>() })
    }
}

/// Schema generation settings shared by all tools.
struct Schemas(SchemaSettings);

impl Schemas {
    fn new() -> Self {
        Schemas(SchemaSettings::draft2020_12().with(|s| {
            s.meta_schema = None;
            s.inline_subschemas = true;
        }))
    }

    /// An object schema for `T` with no `$schema`, `title` or `$defs`.
    fn input<T: JsonSchema>(&self) -> Map<String, Value> {
        let schema = self.0.clone().into_generator().into_root_schema_for::<T>();
        let mut map = match schema.to_value() {
            Value::Object(m) => m,
            other => panic!("argument schema is not an object: {other}"),
        };
        map.remove("title");
        map.remove("description");
        map.remove("$defs");
        if let Some(props) = map.get_mut("properties").and_then(Value::as_object_mut) {
            props.values_mut().for_each(drop_null_type);
        }
        map
    }
}

/// Optional arguments are simply left out, so `["T", "null"]` becomes `"T"`.
fn drop_null_type(schema: &mut Value) {
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let t = types.remove(0);
            schema["type"] = t;
        }
    }
    if let Some(Value::Array(values)) = schema.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    if let Some(items) = schema.get_mut("items") {
        drop_null_type(items);
    }
}

fn annotations(read_only: bool, destructive: bool, idempotent: bool) -> Value {
    json!({
        "readOnlyHint": read_only,
        "destructiveHint": destructive,
        "idempotentHint": idempotent,
        "openWorldHint": false,
    })
}

fn crud_definition(t: &ToolDef, gen: &Schemas) -> Value {
    let r = &catalogue::resources()[t.resource];
    let (mut input, ann) = match t.verb {
        Verb::Get => (gen.input::<GetArgs>(), annotations(true, false, true)),
        Verb::Create => {
            let mut s = gen.input::<CreateArgs>();
            let summary = r.spec_summary();
            let spec_required = summary
                .get("required")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            if let Some(props) = s.get_mut("properties").and_then(Value::as_object_mut) {
                props.insert("spec".into(), summary);
            }
            if spec_required {
                if let Some(req) = s.get_mut("required").and_then(Value::as_array_mut) {
                    req.push(json!("spec"));
                }
            }
            (s, annotations(false, false, false))
        }
        Verb::Patch => (gen.input::<PatchArgs>(), annotations(false, true, false)),
        Verb::Delete => (gen.input::<DeleteArgs>(), annotations(false, true, true)),
    };
    if !r.namespaced {
        if let Some(props) = input.get_mut("properties").and_then(Value::as_object_mut) {
            props.remove("namespace");
            props.remove("all_namespaces");
        }
    }
    let mut def = json!({
        "name": t.name,
        "title": t.title,
        "description": t.description,
        "inputSchema": input,
        "annotations": ann,
    });
    if t.verb == Verb::Get {
        def["outputSchema"] = json!({
            "type": "object",
            "properties": {"items": {"type": "array"}, "metadata": {"type": "object"}}
        });
    }
    def
}

fn explain_definition(gen: &Schemas) -> Value {
    let kinds: Vec<&str> = catalogue::resources().iter().map(|r| r.kind).collect();
    json!({
        "name": EXPLAIN,
        "title": "Explain resource",
        "description": format!(
            "Full schema of a Forklift resource or one of its fields, like kubectl explain. Kinds: {}.",
            kinds.join(", ")
        ),
        "inputSchema": gen.input::<ExplainArgs>(),
        "annotations": annotations(true, false, true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifty_seven_tools_with_object_schemas_and_no_refs() {
        let reg = Registry::new(false);
        assert_eq!(reg.tools().len(), catalogue::tools().len() + 1);
        for t in reg.tools() {
            let s = &t.definition["inputSchema"];
            assert_eq!(s["type"], "object", "{}", t.name);
            let text = s.to_string();
            assert!(!text.contains("$ref"), "{}: {text}", t.name);
            assert!(!text.contains("$schema"), "{}", t.name);
        }
    }

    #[test]
    fn create_requires_spec_when_crd_does() {
        let reg = Registry::new(false);
        let plan = &reg.find("create_plan").unwrap().definition;
        let req = plan["inputSchema"]["required"].as_array().unwrap();
        assert!(req.contains(&json!("name")) && req.contains(&json!("spec")));
        assert_eq!(
            plan["inputSchema"]["properties"]["spec"]["required"],
            json!(["map", "provider", "targetNamespace", "vms"])
        );
    }

    #[test]
    fn read_only_keeps_only_read_tools() {
        let reg = Registry::new(true);
        assert!(reg.tools().iter().all(|t| t.read_only));
        assert!(reg.find("get_plans").is_some());
        assert!(reg.find(EXPLAIN).is_some());
        assert!(reg.find("create_plan").is_none());
        assert!(reg.find("delete_provider").is_none());
    }
}
