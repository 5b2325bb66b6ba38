//! Input schemas of tools, derived with schemars from their argument structs,
//! and the annotation block of a definition.

use schemars::{generate::SchemaSettings, JsonSchema};
use serde_json::{json, Map, Value};

/// An object schema for `T` with no `$schema`, `title`, `description` or `$defs`
/// (subschemas inlined), and optional fields shown with their plain type.
pub fn input<T: JsonSchema>() -> Map<String, Value> {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.meta_schema = None;
        s.inline_subschemas = true;
    });
    let schema = settings.into_generator().into_root_schema_for::<T>();
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

/// Optional arguments are simply left out, so `["T", "null"]` becomes `"T"`;
/// schemars' Rust-specific integer formats (`uint64`…) mean nothing to a client.
fn drop_null_type(schema: &mut Value) {
    if let Some(obj) = schema.as_object_mut() {
        if obj
            .get("format")
            .and_then(Value::as_str)
            .is_some_and(|f| f.starts_with("int") || f.starts_with("uint"))
        {
            obj.remove("format");
        }
    }
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

/// How a tool behaves, for clients (and for the `--read-only` filter).
#[derive(Debug, Clone, Copy)]
pub struct Hints {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
}

impl Hints {
    pub const READ: Hints = Hints {
        read_only: true,
        destructive: false,
        idempotent: true,
    };

    /// The MCP `annotations` object.
    pub fn to_value(self) -> Value {
        json!({
            "readOnlyHint": self.read_only,
            "destructiveHint": self.destructive,
            "idempotentHint": self.idempotent,
            "openWorldHint": false,
        })
    }
}

/// A whole `tools/list` entry for a hand-written tool.
pub fn definition<T: JsonSchema>(
    name: &str,
    title: &str,
    description: &str,
    hints: Hints,
) -> Value {
    json!({
        "name": name,
        "title": title,
        "description": description,
        "inputSchema": input::<T>(),
        "annotations": hints.to_value(),
    })
}
