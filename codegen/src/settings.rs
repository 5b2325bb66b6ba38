//! The operator's tunable settings: the top-level `spec` fields of the
//! ForkliftController CRD, with their type, default and first sentence of
//! description, grouped by their names.
//!
//! Nothing here is a hand-kept list: a setting added to the CRD appears in
//! `get_settings` (and is accepted by `set_setting`) on the next build.
//! Groups follow Forklift's naming: `<component>_container_{requests,limits}_{cpu,memory}`
//! are `resources`, `*_fqin` / `*_image` are `images`, and the rest are
//! grouped by the leading words they share with at least two others
//! (`controller`, `feature`, `virt`, `mcp_server`, …), else `other`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::crd::{first_sentence, Resource};

/// The kind whose spec holds the settings.
pub const KIND: &str = "ForkliftController";

/// Group of container CPU/memory requests and limits.
pub const RESOURCES: &str = "resources";
/// Group of container image overrides.
pub const IMAGES: &str = "images";
/// Group of settings that share their leading word with fewer than two others.
pub const OTHER: &str = "other";

/// Longest description kept per setting.
const MAX_DESCRIPTION: usize = 140;

/// The value type of a setting, as the CRD declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string with enum `["true", "false"]` (Forklift's Ansible booleans).
    Bool,
    Integer,
    String,
}

impl Kind {
    pub fn ident(self) -> &'static str {
        match self {
            Kind::Bool => "Bool",
            Kind::Integer => "Integer",
            Kind::String => "String",
        }
    }
}

/// One setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub name: String,
    pub group: String,
    pub kind: Kind,
    /// Allowed values of a string setting with an enum (not of booleans).
    pub choices: Vec<String>,
    /// The CRD's default, as JSON text (empty when it has none).
    pub default: String,
    pub description: String,
}

/// The settings of the ForkliftController CRD among `resources` (none when
/// the folder has no such CRD), in name order.
pub fn settings(resources: &[Resource]) -> Vec<Setting> {
    let Some(r) = resources.iter().find(|r| r.kind == KIND) else {
        return Vec::new();
    };
    let Some(props) = r
        .schema
        .pointer("/properties/spec/properties")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    let names: Vec<&str> = props.keys().map(String::as_str).collect();
    let groups = groups(&names);
    let mut out: Vec<Setting> = props
        .iter()
        .map(|(name, schema)| {
            let enum_values: Vec<String> = schema
                .get("enum")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let is_bool = {
                let mut e = enum_values.clone();
                e.sort();
                e == ["false", "true"]
            };
            let kind = match schema.get("type").and_then(Value::as_str) {
                Some("integer") => Kind::Integer,
                Some("boolean") => Kind::Bool,
                _ if is_bool => Kind::Bool,
                _ => Kind::String,
            };
            Setting {
                name: name.clone(),
                group: groups[name.as_str()].clone(),
                kind,
                choices: if kind == Kind::String {
                    enum_values
                } else {
                    Vec::new()
                },
                default: schema
                    .get("default")
                    .map(|d| serde_json::to_string(d).expect("JSON"))
                    .unwrap_or_default(),
                description: schema
                    .get("description")
                    .and_then(Value::as_str)
                    .map(|d| first_sentence(d, MAX_DESCRIPTION))
                    .unwrap_or_default(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Whether a setting is a container's CPU or memory request or limit.
fn is_container_resource(name: &str) -> bool {
    let words: Vec<&str> = name.split('_').collect();
    matches!(
        words[..],
        [_, .., "container", "requests" | "limits", "cpu" | "memory"]
    )
}

fn is_image(name: &str) -> bool {
    name.ends_with("_fqin") || name.ends_with("_image")
}

/// The group of every name.
fn groups<'a>(names: &[&'a str]) -> BTreeMap<&'a str, String> {
    let mut out = BTreeMap::new();
    let mut by_first: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for &n in names {
        if is_container_resource(n) {
            out.insert(n, RESOURCES.to_owned());
        } else if is_image(n) {
            out.insert(n, IMAGES.to_owned());
        } else {
            by_first
                .entry(n.split('_').next().unwrap_or(n))
                .or_default()
                .push(n);
        }
    }
    for members in by_first.into_values() {
        let group = if members.len() >= 3 {
            common_words(&members)
        } else {
            OTHER.to_owned()
        };
        for m in members {
            out.insert(m, group.clone());
        }
    }
    out
}

/// The leading words all `names` share (at least the first), never a whole name.
fn common_words(names: &[&str]) -> String {
    let split: Vec<Vec<&str>> = names.iter().map(|n| n.split('_').collect()).collect();
    let shortest = split.iter().map(Vec::len).min().unwrap_or(1);
    let mut words = vec![split[0][0]];
    for i in 1..shortest.saturating_sub(1) {
        if split.iter().all(|w| w[i] == split[0][i]) {
            words.push(split[0][i]);
        } else {
            break;
        }
    }
    words.join("_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_follow_the_names() {
        let names = [
            "controller_max_vm_inflight",
            "controller_precopy_interval",
            "controller_log_level",
            "mcp_server_read_only",
            "mcp_server_verbose",
            "mcp_server_output_format",
            "virt_v2v_container_limits_cpu",
            "virt_v2v_image_fqin",
            "vddk_image",
            "k8s_cluster",
        ];
        let g = groups(&names);
        assert_eq!(g["controller_log_level"], "controller");
        assert_eq!(g["mcp_server_verbose"], "mcp_server");
        assert_eq!(g["virt_v2v_container_limits_cpu"], RESOURCES);
        assert_eq!(g["virt_v2v_image_fqin"], IMAGES);
        assert_eq!(g["vddk_image"], IMAGES);
        assert_eq!(g["k8s_cluster"], OTHER);
        assert!(!is_container_resource("container_limits_cpu_x"));
    }
}
