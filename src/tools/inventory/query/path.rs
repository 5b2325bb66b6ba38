//! Field paths (`name`, `parent.id`, `disks[0].capacity`,
//! `concerns[*].category`, `metadata.labels[app.kubernetes.io/name]`) and how
//! they resolve against a JSON item, as kubectl-mtv's `jsonpath.go` does:
//!
//! - `.` steps into an object field; `[N]` indexes an array; `[*]` maps the
//!   rest of the path over an array; `[key]` (quotes optional) reads an object
//!   key that may itself contain dots or slashes;
//! - stepping into a field of an array maps over the array (`disks.capacity`
//!   is `disks[*].capacity`);
//! - a mapped result drops elements that resolve to null or are missing, and
//!   flattens elements that are arrays themselves (one level);
//! - anything missing, out of range or of the wrong shape resolves to null.

use std::fmt;

use serde_json::Value;

/// One step of a [`Path`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// `.name` (or the leading name): an object field.
    Field(String),
    /// `[N]`: an array element.
    Index(usize),
    /// `[*]`: every element of an array.
    Wildcard,
    /// `[key]`: an object key, written in brackets.
    Key(String),
}

/// A parsed field path; displays as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    text: String,
    segments: Vec<Segment>,
}

impl Path {
    /// Splits a path as written (a leading `.` is ignored). Every string is a
    /// valid path; odd ones simply resolve to null.
    pub fn new(text: &str) -> Path {
        let body = text.strip_prefix('.').unwrap_or(text);
        let mut segments = Vec::new();
        let mut field = String::new();
        let mut chars = body.chars();
        let mut after_bracket = false;
        while let Some(c) = chars.next() {
            match c {
                '.' => {
                    if !after_bracket || !field.is_empty() {
                        segments.push(Segment::Field(std::mem::take(&mut field)));
                    }
                    after_bracket = false;
                }
                '[' => {
                    if !field.is_empty() || !after_bracket && segments.is_empty() {
                        segments.push(Segment::Field(std::mem::take(&mut field)));
                    }
                    let inner: String = chars.by_ref().take_while(|&c| c != ']').collect();
                    segments.push(bracket_segment(&inner));
                    after_bracket = true;
                }
                _ => field.push(c),
            }
        }
        if !after_bracket || !field.is_empty() {
            segments.push(Segment::Field(field));
        }
        Path {
            text: text.to_string(),
            segments,
        }
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The steps of the path.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The value at this path in `item`; null when there is none.
    pub fn resolve(&self, item: &Value) -> Value {
        resolve(item, &self.segments).unwrap_or(Value::Null)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn bracket_segment(inner: &str) -> Segment {
    let inner = inner.trim();
    if inner == "*" {
        Segment::Wildcard
    } else if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
        inner
            .parse()
            .map(Segment::Index)
            .unwrap_or_else(|_| Segment::Key(inner.to_string()))
    } else {
        Segment::Key(inner.trim_matches(|c| c == '"' || c == '\'').to_string())
    }
}

fn resolve(value: &Value, segments: &[Segment]) -> Option<Value> {
    let Some((first, rest)) = segments.split_first() else {
        return Some(value.clone());
    };
    match (first, value) {
        (Segment::Field(name), Value::Object(map)) => resolve(map.get(name)?, rest),
        // Implicit wildcard: `disks.capacity` maps over `disks`.
        (Segment::Field(_), Value::Array(items)) => Some(map_over(items, segments)),
        (Segment::Wildcard, Value::Array(items)) => Some(map_over(items, rest)),
        (Segment::Index(i), Value::Array(items)) => resolve(items.get(*i)?, rest),
        (Segment::Key(key), Value::Object(map)) => resolve(map.get(key)?, rest),
        _ => None,
    }
}

fn map_over(items: &[Value], segments: &[Segment]) -> Value {
    let mut out = Vec::new();
    for item in items {
        match resolve(item, segments) {
            None | Some(Value::Null) => {}
            Some(Value::Array(inner)) => out.extend(inner),
            Some(v) => out.push(v),
        }
    }
    Value::Array(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vm() -> Value {
        json!({
            "name": "web-01",
            "parent": {"kind": "Folder", "id": "group-v101"},
            "disks": [
                {"capacity": 10, "datastore": {"id": "ds-1"}},
                {"capacity": 20, "datastore": {"id": "ds-2"}},
                {"capacity": null}
            ],
            "labels": {"app.kubernetes.io/name": "web", "tier": "front"},
            "matrix": [[1, 2], [3]],
            "guestNetworks": [{"dns": ["10.0.0.1", "10.0.0.2"]}, {"dns": ["10.0.0.3"]}],
            "empty": []
        })
    }

    fn at(path: &str) -> Value {
        Path::new(path).resolve(&vm())
    }

    #[test]
    fn segments() {
        use Segment::*;
        assert_eq!(
            Path::new("disks[*].capacity").segments(),
            &[Field("disks".into()), Wildcard, Field("capacity".into())]
        );
        assert_eq!(
            Path::new(".a[0][key].b").segments(),
            &[
                Field("a".into()),
                Index(0),
                Key("key".into()),
                Field("b".into())
            ]
        );
        assert_eq!(
            Path::new("labels['app.kubernetes.io/name']").segments(),
            &[Field("labels".into()), Key("app.kubernetes.io/name".into())]
        );
    }

    #[test]
    fn objects_indexes_and_keys() {
        assert_eq!(at("name"), json!("web-01"));
        assert_eq!(at(".name"), json!("web-01"));
        assert_eq!(at("parent.id"), json!("group-v101"));
        assert_eq!(at("disks[1].capacity"), json!(20));
        assert_eq!(at("disks[0].datastore.id"), json!("ds-1"));
        assert_eq!(at("labels[app.kubernetes.io/name]"), json!("web"));
        assert_eq!(at("labels[\"tier\"]"), json!("front"));
        assert_eq!(at("matrix[0][1]"), json!(2));
    }

    #[test]
    fn wildcards_map_drop_nulls_and_flatten() {
        assert_eq!(at("disks[*].capacity"), json!([10, 20]));
        assert_eq!(at("disks.capacity"), json!([10, 20]));
        assert_eq!(at("disks[*].datastore.id"), json!(["ds-1", "ds-2"]));
        assert_eq!(
            at("guestNetworks[*].dns"),
            json!(["10.0.0.1", "10.0.0.2", "10.0.0.3"])
        );
        assert_eq!(at("matrix[*]"), json!([1, 2, 3]));
        assert_eq!(at("empty[*].x"), json!([]));
        assert_eq!(at("disks[*].missing"), json!([]));
    }

    #[test]
    fn missing_or_wrong_shape_is_null() {
        for p in [
            "nope",
            "parent.nope",
            "name.first",
            "disks[9].capacity",
            "parent[0]",
            "name[*]",
            "disks[key]",
            "parent[nope]",
            "disks[2].capacity",
        ] {
            assert_eq!(at(p), Value::Null, "{p}");
        }
    }
}
