//! The operator's settings: `get_settings` shows the ForkliftController's
//! tunable spec fields (current value, default, one line of description,
//! grouped) and `set_setting` changes or unsets one. The list, types,
//! defaults and groups come from the ForkliftController CRD at build time
//! ([`crate::catalogue::settings`]); values are validated against the CRD
//! schema before the ForkliftController is patched.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::ResourceExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::crud::ops::FIELD_MANAGER;
use super::schema::{self, Hints};
use super::suggest::close_matches;
use super::{
    parse_args, CallContext, Tool, ToolDefinition, ToolError, ToolOutput, ToolResult, Toolset,
};
use crate::catalogue::{settings, settings_resource, ResourceDef, SettingDef, SettingKind};
use crate::cluster::errors::Attempt;
use crate::cluster::{install, Connection, KubeFailure};

pub fn toolset() -> Toolset {
    Toolset {
        name: "settings",
        tools: vec![Arc::new(GetSettings::new()), Arc::new(SetSetting::new())],
    }
}

/// Groups shown only when asked for (many, rarely tuned).
const ON_REQUEST: [&str; 2] = ["resources", "images"];

/// Every group: by name, then `other` and the groups shown on request.
pub fn groups() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for s in settings() {
        if !out.contains(&s.group) {
            out.push(s.group);
        }
    }
    let last = |g: &str| match g {
        "other" => 1,
        g if ON_REQUEST.contains(&g) => 2,
        _ => 0,
    };
    let size = |g: &str| settings().iter().filter(|s| s.group == g).count();
    out.sort_by_key(|g| (last(g), std::cmp::Reverse(size(g)), *g));
    out
}

fn find_setting(name: &str) -> Option<&'static SettingDef> {
    settings().iter().find(|s| s.name == name)
}

/// "Unknown setting" with close names.
fn unknown_setting(tool: &str, name: &str) -> ToolError {
    let close = close_matches(name, settings().iter().map(|s| s.name), 4, 3);
    let hint = if close.is_empty() {
        String::new()
    } else {
        format!(" Did you mean {}?", close.join(" or "))
    };
    ToolError::Arguments {
        tool: tool.into(),
        detail: format!(
            "\"{name}\" is not a ForkliftController setting.{hint} get_settings {{\"query\": \"…\"}} finds settings by name or description"
        ),
    }
}

/// A ForkliftController found for this call, or where it was looked for.
pub struct Controller {
    pub obj: DynamicObject,
    pub namespace: String,
    /// Other ForkliftControllers seen (normally there is one).
    pub others: Vec<String>,
}

fn fc_api(conn: &Connection, r: &ResourceDef, ns: Option<&str>) -> Api<DynamicObject> {
    match ns {
        Some(ns) => Api::namespaced_with(conn.client.clone(), ns, &r.api_resource()),
        None => Api::all_with(conn.client.clone(), &r.api_resource()),
    }
}

/// Finds the ForkliftController: in `namespace` when given, else in the
/// operator's namespace, Forklift's default namespaces, then cluster-wide.
/// `Err` holds where it looked (and what was forbidden).
pub async fn find_controller(
    conn: &Connection,
    namespace: Option<&str>,
) -> Result<Controller, Vec<String>> {
    let Some(r) = settings_resource() else {
        return Err(vec!["this build knows no ForkliftController CRD".into()]);
    };
    let mut candidates: Vec<String> = Vec::new();
    match namespace.filter(|n| !n.is_empty()) {
        Some(ns) => candidates.push(ns.to_owned()),
        None => {
            if let Some(op) = install::operator(conn).await {
                candidates.push(op.namespace);
            }
            for ns in install::DEFAULT_NAMESPACES {
                if !candidates.iter().any(|c| c == ns) {
                    candidates.push(ns.to_owned());
                }
            }
        }
    }
    let mut tried = Vec::new();
    let mut found: Vec<DynamicObject> = Vec::new();
    for ns in &candidates {
        match fc_api(conn, r, Some(ns)).list(&ListParams::default()).await {
            Ok(l) if !l.items.is_empty() => {
                found = l.items;
                break;
            }
            Ok(_) => tried.push(format!("{ns} (none)")),
            Err(kube::Error::Api(s)) if s.code == 403 => tried.push(format!("{ns} (forbidden)")),
            Err(kube::Error::Api(s)) if s.code == 404 => {
                tried.push(format!(
                    "{ns} (the ForkliftController CRD is not installed)"
                ));
                return Err(tried);
            }
            Err(e) => tried.push(format!(
                "{ns} ({})",
                crate::cluster::errors::error_chain(&e)
            )),
        }
    }
    if found.is_empty() {
        let given = namespace.is_some_and(|n| !n.is_empty());
        match fc_api(conn, r, None).list(&ListParams::default()).await {
            Ok(l) if !l.items.is_empty() && given => {
                let names: Vec<String> = l
                    .items
                    .iter()
                    .take(3)
                    .map(|o| format!("{}/{}", o.namespace().unwrap_or_default(), o.name_any()))
                    .collect();
                let more = l.items.len().saturating_sub(3);
                tried.push(format!(
                    "it exists as {}{}",
                    names.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                ));
            }
            Ok(l) if !l.items.is_empty() => found = l.items,
            Ok(_) => tried.push("all namespaces (none)".into()),
            Err(_) => tried.push("all namespaces (not allowed for this identity)".into()),
        }
    }
    if found.is_empty() {
        return Err(tried);
    }
    found.sort_by_key(|o| (o.namespace(), o.name_any()));
    let obj = found.remove(0);
    Ok(Controller {
        namespace: obj.namespace().unwrap_or_default(),
        others: found
            .iter()
            .map(|o| format!("{}/{}", o.namespace().unwrap_or_default(), o.name_any()))
            .collect(),
        obj,
    })
}

/// A value as shown: `5`, `true`, `"2Gi"` → `2Gi`.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "\"\"".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether a setting differs from its default (the API server writes the
/// CRD's defaults into the object, so present is not the same as changed).
fn changed(s: &SettingDef, current: Option<&Value>) -> bool {
    current.is_some_and(|v| Some(v) != s.default_value().as_ref())
}

/// One setting as a line and as JSON.
fn entry(s: &SettingDef, current: Option<&Value>) -> (String, Value) {
    let default = s.default_value();
    let choices = if s.choices.is_empty() {
        String::new()
    } else {
        format!(" [{}]", s.choices.join("|"))
    };
    let state = match (current.or(default.as_ref()), &default) {
        (Some(v), Some(d)) if v != d => format!(" = {} (default {})", show(v), show(d)),
        (Some(v), _) => format!(" = {}", show(v)),
        (None, _) => format!(" unset ({})", s.kind.word()),
    };
    let line = format!(
        "  {}{state}{choices} — {}",
        s.name,
        super::first_line(s.description, 100)
    );
    let mut j = json!({"name": s.name, "type": s.kind.word()});
    if let Some(v) = current.or(default.as_ref()) {
        j["value"] = v.clone();
    }
    if changed(s, current) {
        j["default"] = default.unwrap_or(Value::Null);
    }
    if !s.choices.is_empty() {
        j["choices"] = json!(s.choices);
    }
    (line, j)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetSettingsArgs {
    /// One group.
    pub group: Option<String>,
    /// Text in name or description, e.g. "vddk".
    pub query: Option<String>,
    /// Only values that differ from defaults.
    pub changed_only: Option<bool>,
    /// ForkliftController's namespace (default: the operator's).
    pub namespace: Option<String>,
}

pub struct GetSettings {
    definition: ToolDefinition,
}

impl GetSettings {
    pub fn new() -> Self {
        let mut d = schema::definition::<GetSettingsArgs>(
            "get_settings",
            "Forklift operator settings",
            "Operator settings (ForkliftController spec: concurrency, precopy interval, virt-v2v, VDDK, features, …): value, default, description, by group.",
            Hints::READ,
        );
        d["inputSchema"]["properties"]["group"]["enum"] = json!(groups());
        GetSettings {
            definition: ToolDefinition::new(d),
        }
    }
}

impl Default for GetSettings {
    fn default() -> Self {
        Self::new()
    }
}

impl Tool for GetSettings {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
        Box::pin(get(ctx, args))
    }
}

async fn get(ctx: &CallContext, args: Value) -> ToolResult {
    let a: GetSettingsArgs = parse_args("get_settings", args)?;
    let all_groups = groups();
    if let Some(g) = a.group.as_deref() {
        if !all_groups.contains(&g) {
            return Err(ToolError::Arguments {
                tool: "get_settings".into(),
                detail: format!(
                    "group \"{g}\" is not one of {}; or use query to search names and descriptions",
                    all_groups.join(", ")
                ),
            });
        }
    }
    let query = a
        .query
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_lowercase);
    let conn = ctx.connect().await?;
    let found = find_controller(&conn, a.namespace.as_deref()).await;
    let (spec, head, fc_json) = match &found {
        Ok(c) => {
            let spec = c.obj.data["spec"].as_object().cloned().unwrap_or_default();
            let known = settings()
                .iter()
                .filter(|s| changed(s, spec.get(s.name)))
                .count();
            let mut head = format!(
                "ForkliftController {}/{}: {known} of {} settings differ from their defaults.",
                c.namespace,
                c.obj.name_any(),
                settings().len()
            );
            if !c.others.is_empty() {
                head.push_str(&format!(
                    " (Also found: {}; pass namespace to read another.)",
                    c.others.join(", ")
                ));
            }
            (
                spec,
                head,
                json!({"name": c.obj.name_any(), "namespace": c.namespace, "others": c.others}),
            )
        }
        Err(tried) => (
            Map::new(),
            format!(
                "No ForkliftController found (looked in: {}); values shown are the CRD's defaults.",
                tried.join(", ")
            ),
            Value::Null,
        ),
    };
    let only_changed = a.changed_only.unwrap_or(false);
    let narrowed = a.group.is_some() || query.is_some() || only_changed;
    let mut text = head;
    let mut groups_json = Map::new();
    let mut hidden: BTreeMap<&str, usize> = BTreeMap::new();
    let mut shown = 0;
    for g in &all_groups {
        if a.group.as_deref().is_some_and(|x| x != *g) {
            continue;
        }
        let members: Vec<&SettingDef> = settings()
            .iter()
            .filter(|s| s.group == *g)
            .filter(|s| {
                query.as_ref().is_none_or(|q| {
                    s.name.contains(q.as_str()) || s.description.to_lowercase().contains(q)
                })
            })
            .filter(|s| !only_changed || changed(s, spec.get(s.name)))
            .collect();
        let (lines, entries): (Vec<String>, Vec<Value>) = members
            .iter()
            .filter(|s| narrowed || !ON_REQUEST.contains(g) || changed(s, spec.get(s.name)))
            .map(|s| entry(s, spec.get(s.name)))
            .unzip();
        let left = members.len() - lines.len();
        if left > 0 {
            hidden.insert(g, left);
        }
        if lines.is_empty() {
            continue;
        }
        shown += lines.len();
        text.push_str(&format!("\n{g}:\n{}", lines.join("\n")));
        groups_json.insert(g.to_string(), Value::Array(entries));
    }
    if shown == 0 {
        text.push_str("\nNo setting matches");
        if let Some(q) = &query {
            text.push_str(&format!(" \"{q}\""));
        }
        text.push_str(&format!(
            ". Groups: {}; get_settings without arguments lists the usual ones.",
            all_groups.join(", ")
        ));
    }
    if !hidden.is_empty() {
        let parts: Vec<String> = hidden.iter().map(|(g, n)| format!("{g} ({n})")).collect();
        text.push_str(&format!(
            "\nNot shown: {}; ask with group, e.g. get_settings {{\"group\": \"{}\"}}.",
            parts.join(", "),
            hidden.keys().next().copied().unwrap_or("resources")
        ));
    }
    text.push_str("\nChange one: set_setting {\"name\": …, \"value\": …} (dry_run to check; unset: true restores the default).");
    Ok(ToolOutput::ok(
        text,
        Some(json!({
            "forkliftController": fc_json,
            "groups": groups_json,
            "notShown": hidden,
            "settings": settings().len(),
        })),
    ))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetSettingArgs {
    /// e.g. controller_max_vm_inflight (see get_settings).
    pub name: String,
    /// Boolean, integer or string, per get_settings.
    pub value: Option<Value>,
    /// Restore the default.
    pub unset: Option<bool>,
    /// ForkliftController's namespace (default: the operator's).
    pub namespace: Option<String>,
    /// Validate on the server without saving.
    pub dry_run: Option<bool>,
}

pub struct SetSetting {
    definition: ToolDefinition,
}

impl SetSetting {
    pub fn new() -> Self {
        let mut d = schema::definition::<SetSettingArgs>(
            "set_setting",
            "Change a Forklift operator setting",
            "Set one operator setting (unset: true restores its default), checked against the CRD first.",
            Hints {
                read_only: false,
                destructive: true,
                idempotent: true,
            },
        );
        d["inputSchema"]["properties"]["value"]["type"] = json!(["boolean", "integer", "string"]);
        SetSetting {
            definition: ToolDefinition::new(d),
        }
    }
}

impl Default for SetSetting {
    fn default() -> Self {
        Self::new()
    }
}

impl Tool for SetSetting {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
        Box::pin(set(ctx, args))
    }
}

/// The value to write for `s`, from what the caller gave, or how to fix it.
pub fn coerce_value(s: &SettingDef, v: &Value) -> Result<Value, String> {
    let default = s
        .default_value()
        .map(|d| format!(", default {}", show(&d)))
        .unwrap_or_default();
    let got = match v {
        Value::String(t) => format!("\"{t}\""),
        other => other.to_string(),
    };
    match s.kind {
        SettingKind::Bool => match v {
            Value::Bool(b) => Ok(json!(b.to_string())),
            Value::String(t) if t.eq_ignore_ascii_case("true") => Ok(json!("true")),
            Value::String(t) if t.eq_ignore_ascii_case("false") => Ok(json!("false")),
            _ => Err(format!(
                "{} is a boolean{default}: give true or false, not {got}",
                s.name
            )),
        },
        SettingKind::Integer => match v {
            Value::Number(n) if n.is_i64() => Ok(v.clone()),
            Value::String(t) if t.trim().parse::<i64>().is_ok() => {
                Ok(json!(t.trim().parse::<i64>().expect("checked")))
            }
            _ => Err(format!(
                "{} is an integer{default}: give a whole number, not {got}",
                s.name
            )),
        },
        SettingKind::String => {
            let text = match v {
                Value::String(t) => t.clone(),
                Value::Number(n) => n.to_string(),
                _ => {
                    return Err(format!(
                        "{} is a string{default}: give a string, not {got}",
                        s.name
                    ))
                }
            };
            // A choice in the wrong case is that choice.
            let text = s
                .choices
                .iter()
                .find(|c| c.eq_ignore_ascii_case(&text))
                .map(|c| c.to_string())
                .unwrap_or(text);
            if !s.choices.is_empty() && !s.choices.contains(&text.as_str()) {
                let close = close_matches(&text, s.choices.iter().copied(), 3, 1);
                let hint = close
                    .first()
                    .map(|c| format!("; did you mean {c}?"))
                    .unwrap_or_default();
                return Err(format!(
                    "{} is one of {}, not {got}{hint}",
                    s.name,
                    s.choices.join(", ")
                ));
            }
            Ok(json!(text))
        }
    }
}

async fn set(ctx: &CallContext, args: Value) -> ToolResult {
    let a: SetSettingArgs = parse_args("set_setting", args)?;
    let bad = |detail: String| ToolError::Arguments {
        tool: "set_setting".into(),
        detail,
    };
    let wanted = a.name.trim().to_lowercase().replace('-', "_");
    let s = find_setting(&wanted).ok_or_else(|| unknown_setting("set_setting", &a.name))?;
    let unset = a.unset.unwrap_or(false);
    let new = match (&a.value, unset) {
        (Some(v), false) if !v.is_null() => Some(coerce_value(s, v).map_err(&bad)?),
        (None | Some(Value::Null), true) => None,
        (Some(v), true) if !v.is_null() => {
            return Err(bad(
                "give value to set the setting, or unset: true to remove it, not both".into(),
            ))
        }
        _ => {
            return Err(bad(format!(
                "give value ({}) to set {}, or unset: true to restore its default",
                s.kind.word(),
                s.name
            )))
        }
    };
    let r = settings_resource().expect("settings come from a CRD");
    if let Some(v) = &new {
        super::validate::check_spec_patch(r, &json!({ s.name: v }))
            .map_err(|e| bad(format!("the CRD refuses it:\n{e}")))?;
    }
    let dry_run = a.dry_run.unwrap_or(false);
    let conn = ctx.connect().await?;
    let c = find_controller(&conn, a.namespace.as_deref())
        .await
        .map_err(|tried| {
            ToolError::refused(format!(
                "No ForkliftController found to change (looked in: {}). Pass namespace where the Forklift operator runs; check_health shows it.",
                tried.join(", ")
            ))
        })?;
    let name = c.obj.name_any();
    let given = a.namespace.as_deref().is_some_and(|n| !n.is_empty());
    if !given && !c.others.is_empty() {
        // Never change one of several operators picked for the caller.
        return Err(ToolError::refused(format!(
            "{} ForkliftControllers were found ({}/{name}, {}): pass namespace to say which one to change. Nothing was changed.",
            c.others.len() + 1,
            c.namespace,
            c.others.join(", ")
        )));
    }
    let who = format!("ForkliftController {}/{name}", c.namespace);
    let old = c.obj.data["spec"].get(s.name).cloned();
    let default = s.default_value();
    let was = match (&old, &default) {
        (Some(v), _) => show(v),
        (None, Some(d)) => format!("{} (default)", show(d)),
        (None, None) => "unset".into(),
    };
    let fc = json!({"name": name, "namespace": c.namespace});
    if old == new {
        let now = new.as_ref().map(show).unwrap_or_else(|| "unset".into());
        return Ok(ToolOutput::ok(
            format!("{} is already {now} on {who}; nothing changed.", s.name),
            Some(json!({"forkliftController": fc, "name": s.name, "value": new, "changed": false})),
        ));
    }
    let api = fc_api(&conn, r, Some(&c.namespace));
    let pp = PatchParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    let patch = json!({"spec": { s.name: new.clone().unwrap_or(Value::Null) }});
    api.patch(&name, &pp, &Patch::Merge(&patch))
        .await
        .map_err(|e| {
            ToolError::Kube(KubeFailure::from_kube(
                &e,
                &Attempt {
                    verb: "patch",
                    resource: "forkliftcontrollers.forklift.konveyor.io",
                    kind: "ForkliftController",
                    name: Some(&name),
                    namespace: Some(&c.namespace),
                    server: &conn.server,
                    list_tool: "get_settings",
                },
            ))
        })?;
    let now = match (&new, &default) {
        (Some(v), _) => show(v),
        (None, Some(d)) => format!("unset (the default {} applies)", show(d)),
        (None, None) => "unset".into(),
    };
    let text = format!(
        "{}{}: {} → {now} on {who}{}. The operator applies it on its next reconcile (it may restart Forklift's pods); get_settings shows it.",
        if dry_run { "Would change " } else { "Changed " },
        s.name,
        was,
        if dry_run {
            " (dry run: the API server accepted it, nothing was saved)"
        } else {
            ""
        }
    );
    Ok(ToolOutput::ok(
        text,
        Some(json!({
            "forkliftController": fc, "name": s.name, "previous": old, "value": new,
            "default": default, "changed": !dry_run, "dryRun": dry_run,
        })),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(name: &str) -> &'static SettingDef {
        find_setting(name).unwrap_or_else(|| panic!("{name}"))
    }

    #[test]
    fn settings_come_from_the_crd() {
        assert!(settings().len() > 100);
        let s = setting("controller_max_vm_inflight");
        assert_eq!((s.group, s.kind), ("controller", SettingKind::Integer));
        assert_eq!(s.default_value(), Some(json!(20)));
        assert_eq!(setting("feature_copy_offload").kind, SettingKind::Bool);
        assert_eq!(setting("virt_v2v_container_limits_cpu").group, "resources");
        assert_eq!(setting("vddk_image").group, "images");
        assert_eq!(
            setting("image_pull_policy").choices,
            ["Always", "IfNotPresent", "Never"]
        );
        for g in ["controller", "feature", "resources", "images", "other"] {
            assert!(groups().contains(&g), "{g}");
        }
    }

    #[test]
    fn values_are_coerced_or_refused_with_how_to_fix() {
        let int = setting("controller_max_vm_inflight");
        assert_eq!(coerce_value(int, &json!(5)), Ok(json!(5)));
        assert_eq!(coerce_value(int, &json!("7")), Ok(json!(7)));
        let e = coerce_value(int, &json!("twenty")).unwrap_err();
        assert!(
            e.contains("integer, default 20") && e.contains("\"twenty\""),
            "{e}"
        );
        assert!(coerce_value(int, &json!(2.5)).is_err());
        let b = setting("feature_copy_offload");
        assert_eq!(coerce_value(b, &json!(false)), Ok(json!("false")));
        assert_eq!(coerce_value(b, &json!("TRUE")), Ok(json!("true")));
        assert!(coerce_value(b, &json!("yes"))
            .unwrap_err()
            .contains("true or false"));
        let e = setting("image_pull_policy");
        let err = coerce_value(e, &json!("IfNotPresnt")).unwrap_err();
        assert!(err.contains("did you mean IfNotPresent"), "{err}");
        assert_eq!(coerce_value(e, &json!("never")), Ok(json!("Never")));
        assert_eq!(
            coerce_value(setting("virt_v2v_container_limits_cpu"), &json!(4)),
            Ok(json!("4"))
        );
        let e = unknown_setting("set_setting", "max_vm_inflight").to_string();
        assert!(e.contains("controller_max_vm_inflight"), "{e}");
    }
}
