//! The registry: the tools a server offers, built as toolsets → mutators →
//! filters, and the `tools/list` pages serialized once.
//!
//! - A [`Toolset`] is a named group of tools (the generated CRUD tools,
//!   `explain_resource`, the plan workflows, …).
//! - A [`Mutator`] may replace a tool by another (usually the same tool with a
//!   changed definition and a step around its call: an [`Overlay`]).
//! - A filter keeps or drops a tool by its definition; `--read-only` is the
//!   filter on the `readOnlyHint` annotation.
//!
//! The catalogue never changes after start-up, so each `tools/list` page is
//! serialized once and served as bytes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::Value;

use super::{CallContext, SharedTool, Tool, ToolDefinition, ToolResult};
use crate::protocol::session::{encode_cursor, ToolCatalog, DEFAULT_PAGE_SIZE};

/// The toolsets a server can offer, with what each holds.
pub const TOOLSETS: [(&str, &str); 6] = [
    (
        "resources",
        "get/create/patch/delete of Providers, Plans, NetworkMaps, StorageMaps, Migrations, Hosts and Hooks (crds/toolsets.yaml), and explain_resource",
    ),
    (
        "workflows",
        "plan lifecycle and troubleshooting: describe_plan, watch_plan, start/cutover/cancel/archive/unarchive_plan, get_events, get_logs",
    ),
    ("inventory", "get_inventory"),
    (
        "review",
        "health, access and settings: check_health, check_access, get_settings, set_setting",
    ),
    (
        "operator",
        "get/create/patch/delete of the operator's own kinds (ForkliftController, Conversion, volume populators, provider servers)",
    ),
    (
        "replaced",
        "tools whose job a default tool does: create/patch/delete_migration (start_plan, cutover_plan, cancel_plan, delete_plan) and get_version (check_health)",
    ),
];

/// What a server offers unless told otherwise.
pub const DEFAULT_TOOLSETS: [&str; 4] = ["resources", "workflows", "inventory", "review"];

/// Hand-written tools out of the default set, with the tools that do their
/// job (generated ones say so in crds/toolsets.yaml).
const REPLACED_HAND_WRITTEN: [(&str, &str); 1] = [("get_version", "check_health")];

/// For a tool in the `replaced` toolset: the tools that do its job.
pub fn replaced_by(tool: &str) -> Option<&'static str> {
    crate::catalogue::tools()
        .iter()
        .filter(|t| !t.replaced_by.is_empty())
        .map(|t| (t.name, t.replaced_by))
        .chain(REPLACED_HAND_WRITTEN)
        .find(|(t, _)| *t == tool)
        .map(|(_, by)| by)
}

/// Which tools a server offers: toolsets, then filters.
#[derive(Debug, Clone)]
pub struct CatalogueOptions {
    /// Toolset names (see [`TOOLSETS`]), or `all`.
    pub toolsets: Vec<String>,
    /// Only tools whose `readOnlyHint` is true.
    pub read_only: bool,
    /// No tools whose `destructiveHint` is true.
    pub disable_destructive: bool,
    /// Tools per `tools/list` page (default [`DEFAULT_PAGE_SIZE`]).
    pub page_size: Option<usize>,
}

impl Default for CatalogueOptions {
    fn default() -> Self {
        CatalogueOptions {
            toolsets: DEFAULT_TOOLSETS.iter().map(|s| s.to_string()).collect(),
            read_only: false,
            disable_destructive: false,
            page_size: None,
        }
    }
}

impl CatalogueOptions {
    /// Checks toolset names; the error lists the known ones.
    pub fn check(&self) -> Result<(), String> {
        for t in &self.toolsets {
            if t != "all" && !TOOLSETS.iter().any(|(n, _)| n == t) {
                let names: Vec<&str> = TOOLSETS.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "unknown toolset \"{t}\"; toolsets: {}, or all",
                    names.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// Every toolset, in `tools/list` order.
fn all_toolsets() -> Vec<Toolset> {
    let mut resources = super::crud::toolset("resources");
    resources.tools.extend(super::explain::toolset().tools);
    let workflows = [
        super::plan::toolset(),
        super::events::toolset(),
        super::logs::toolset(),
    ]
    .into_iter()
    .flat_map(|t| t.tools)
    .collect();
    let review = [
        super::health::toolset(),
        super::access::toolset(),
        super::settings::toolset(),
    ]
    .into_iter()
    .flat_map(|t| t.tools)
    .collect();
    let mut replaced = super::crud::toolset("replaced");
    replaced.tools.extend(super::version::toolset().tools);
    vec![
        resources,
        Toolset {
            name: "workflows",
            tools: workflows,
        },
        super::inventory::toolset(),
        Toolset {
            name: "review",
            tools: review,
        },
        super::crud::toolset("operator"),
        replaced,
    ]
}

/// A named group of tools.
pub struct Toolset {
    pub name: &'static str,
    pub tools: Vec<SharedTool>,
}

/// Replaces tools of the catalogue; returns the tool unchanged when it does
/// not apply.
pub trait Mutator: Send + Sync {
    fn mutate(&self, tool: SharedTool) -> SharedTool;
}

/// A change to one named tool: a new definition (e.g. more arguments) and a
/// step around its call, which may rewrite the arguments, do work first
/// (and undo it when the tool fails), or answer without calling it.
pub trait Overlay: Send + Sync + 'static {
    /// The tool this overlay changes.
    fn target(&self) -> &str;
    /// The definition served instead of `base`'s.
    fn definition(&self, base: &Value) -> Value;
    /// Runs a call; `base` is the tool underneath.
    fn call<'a>(
        &'a self,
        ctx: &'a CallContext,
        args: Value,
        base: &'a dyn Tool,
    ) -> BoxFuture<'a, ToolResult>;
}

impl<O: Overlay> Mutator for Arc<O> {
    fn mutate(&self, tool: SharedTool) -> SharedTool {
        if tool.definition().name() != self.target() {
            return tool;
        }
        let definition = ToolDefinition::new(self.definition(tool.definition().json()));
        Arc::new(Overlaid {
            base: tool,
            overlay: Arc::clone(self),
            definition,
        })
    }
}

/// A tool with an overlay on it.
struct Overlaid<O> {
    base: SharedTool,
    overlay: Arc<O>,
    definition: ToolDefinition,
}

impl<O: Overlay> Tool for Overlaid<O> {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, ctx: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
        self.overlay.call(ctx, args, self.base.as_ref())
    }

    fn time_limit(&self, args: &Value) -> Duration {
        self.base.time_limit(args)
    }
}

/// A filter and what it is called (for "why is this tool not served").
type Filter = (Box<dyn Fn(&ToolDefinition) -> bool + Send + Sync>, String);

/// Collects toolsets, mutators and filters.
#[derive(Default)]
pub struct RegistryBuilder {
    toolsets: Vec<Toolset>,
    pub(super) mutators: Vec<Box<dyn Mutator>>,
    filters: Vec<Filter>,
    page_size: Option<usize>,
    /// Tools of toolsets not served, with why.
    unserved: HashMap<String, String>,
}

impl RegistryBuilder {
    pub fn toolset(mut self, set: Toolset) -> Self {
        self.toolsets.push(set);
        self
    }

    pub fn mutator(mut self, m: impl Mutator + 'static) -> Self {
        self.mutators.push(Box::new(m));
        self
    }

    /// Keeps only tools for which `keep` is true (all filters must agree);
    /// `why` says, for a tool it drops, why it is not served.
    pub fn filter(
        mut self,
        why: &str,
        keep: impl Fn(&ToolDefinition) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.filters.push((Box::new(keep), why.to_owned()));
        self
    }

    /// Only tools that do not change the cluster (`readOnlyHint`).
    pub fn read_only(self) -> Self {
        self.filter(
            "this server runs with --read-only, so it serves no tool that changes the cluster",
            ToolDefinition::read_only,
        )
    }

    /// Tools per `tools/list` page served from the prepared bytes.
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = Some(n.max(1));
        self
    }

    pub fn build(self) -> Registry {
        let mut tools: Vec<SharedTool> = Vec::new();
        let mut toolset_of = HashMap::new();
        let mut filtered = HashMap::new();
        for set in self.toolsets {
            for tool in set.tools {
                let tool = self.mutators.iter().fold(tool, |t, m| m.mutate(t));
                if let Some((_, why)) = self
                    .filters
                    .iter()
                    .find(|(keep, _)| !keep(tool.definition()))
                {
                    filtered.insert(tool.definition().name().to_owned(), why.clone());
                    continue;
                }
                let name = tool.definition().name().to_owned();
                assert!(
                    toolset_of.insert(name.clone(), set.name).is_none(),
                    "two tools are named {name}"
                );
                tools.push(tool);
            }
        }
        let index = tools
            .iter()
            .enumerate()
            .map(|(i, t)| (t.definition().name().to_owned(), i))
            .collect();
        let serialized: Vec<Bytes> = tools
            .iter()
            .map(|t| {
                serde_json::to_vec(t.definition().json())
                    .expect("JSON")
                    .into()
            })
            .collect();
        let page_size = self.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        let pages = (0..tools.len().max(1))
            .step_by(page_size)
            .map(|start| render_page(&serialized, start, page_size))
            .collect();
        let mut not_served = self.unserved;
        not_served.extend(filtered);
        let prompts =
            crate::prompts::Prompts::new(tools.iter().map(|t| t.definition().name().to_owned()));
        Registry {
            prompts,
            tools,
            index,
            toolset_of,
            serialized,
            page_size,
            pages,
            not_served,
        }
    }
}

/// `{"tools":[…],"nextCursor":…}` for `start..start+size`, from serialized definitions.
fn render_page(serialized: &[Bytes], start: usize, size: usize) -> Bytes {
    let end = (start + size).min(serialized.len());
    let mut b = Vec::with_capacity(
        serialized[start..end]
            .iter()
            .map(|s| s.len() + 1)
            .sum::<usize>()
            + 64,
    );
    b.extend_from_slice(br#"{"tools":["#);
    for (i, s) in serialized[start..end].iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        b.extend_from_slice(s);
    }
    b.push(b']');
    if end < serialized.len() {
        b.extend_from_slice(br#","nextCursor":"#);
        b.extend_from_slice(&serde_json::to_vec(&encode_cursor(end)).expect("JSON"));
    }
    b.push(b'}');
    b.into()
}

/// The tools a server offers, in `tools/list` order.
pub struct Registry {
    tools: Vec<SharedTool>,
    index: HashMap<String, usize>,
    toolset_of: HashMap<String, &'static str>,
    serialized: Vec<Bytes>,
    page_size: usize,
    pages: Vec<Bytes>,
    /// Tools left out by toolsets or filters, with why.
    not_served: HashMap<String, String>,
    /// The MCP prompts (they name these tools).
    prompts: crate::prompts::Prompts,
}

impl Registry {
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder::default()
    }

    /// The default catalogue; with `read_only`, only tools that do not write.
    pub fn standard(read_only: bool) -> Self {
        Self::with_options(&CatalogueOptions {
            read_only,
            ..Default::default()
        })
    }

    /// The catalogue a server with these options serves.
    pub fn with_options(opts: &CatalogueOptions) -> Self {
        let mut b = Registry::builder();
        for m in super::overlays::mutators() {
            b.mutators.push(m);
        }
        // Every toolset is built once (building a tool builds its schemas):
        // served ones join the catalogue, the others only lend their names
        // to the "not served" explanations.
        let served = |name: &str| opts.toolsets.iter().any(|t| t == "all" || t == name);
        let (serve, rest): (Vec<Toolset>, Vec<Toolset>) =
            all_toolsets().into_iter().partition(|set| served(set.name));
        for set in rest {
            for t in set.tools {
                let name = t.definition().name().to_owned();
                let instead = replaced_by(&name)
                    .map(|by| format!("; {by} does its job"))
                    .unwrap_or_default();
                b.unserved.insert(
                    name,
                    format!("it is in the {} toolset, which this server does not serve (start it with --toolsets {},{}){instead}", set.name, opts.toolsets.join(","), set.name),
                );
            }
        }
        for set in serve {
            b = b.toolset(set);
        }
        if opts.read_only {
            b = b.read_only();
        }
        if opts.disable_destructive {
            b = b.filter(
                "this server runs with --disable-destructive, so it serves no tool that deletes or overwrites",
                |d| !d.destructive(),
            );
        }
        if let Some(n) = opts.page_size {
            b = b.page_size(n);
        }
        b.build()
    }

    /// Tools per `tools/list` page.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    pub fn tools(&self) -> &[SharedTool] {
        &self.tools
    }

    pub fn find(&self, name: &str) -> Option<&SharedTool> {
        self.index.get(name).map(|&i| &self.tools[i])
    }

    /// The toolset a tool came from.
    pub fn toolset_of(&self, name: &str) -> Option<&'static str> {
        self.toolset_of.get(name).copied()
    }

    /// The whole catalogue as one `tools/list` result (no pagination).
    pub fn list_json(&self) -> Value {
        serde_json::from_slice(&render_page(
            &self.serialized,
            0,
            self.serialized.len().max(1),
        ))
        .expect("JSON")
    }
}

impl ToolCatalog for Registry {
    fn tool_count(&self) -> usize {
        self.tools.len()
    }

    fn page(&self, start: usize, size: usize) -> Bytes {
        if size == self.page_size && start.is_multiple_of(size) {
            if let Some(p) = self.pages.get(start / size) {
                return p.clone();
            }
        }
        render_page(&self.serialized, start.min(self.serialized.len()), size)
    }

    fn has_tool(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    fn prompts(&self) -> Option<&dyn crate::protocol::PromptCatalog> {
        Some(&self.prompts)
    }

    fn explain_missing(&self, name: &str) -> Option<String> {
        if let Some(why) = self.not_served.get(name) {
            return Some(format!("It exists, but {why}"));
        }
        let names =
            super::suggest::close_matches(name, self.index.keys().map(String::as_str), 3, 3);
        (!names.is_empty()).then(|| {
            format!(
                "Did you mean {}? tools/list shows every tool served",
                names.join(" or ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::{schema::Hints, ProgressSink, ToolError, ToolOutput};
    use serde_json::json;

    /// A tool that answers with its arguments.
    struct Echo(ToolDefinition);

    impl Echo {
        fn shared(name: &str, hints: Hints) -> SharedTool {
            Arc::new(Echo(ToolDefinition::new(json!({
                "name": name,
                "description": "echo",
                "inputSchema": {"type": "object", "properties": {"x": {"type": "string"}}},
                "annotations": hints.to_value(),
            }))))
        }
    }

    impl Tool for Echo {
        fn definition(&self) -> &ToolDefinition {
            &self.0
        }
        fn call<'a>(&'a self, _: &'a CallContext, args: Value) -> BoxFuture<'a, ToolResult> {
            Box::pin(async move { Ok(ToolOutput::ok(args.to_string(), Some(args))) })
        }
    }

    /// Adds a `shout` argument to `echo`: upper-cases `x` before the call,
    /// and refuses an empty `x` without calling the tool.
    struct Shout;

    impl Overlay for Shout {
        fn target(&self) -> &str {
            "echo"
        }
        fn definition(&self, base: &Value) -> Value {
            let mut d = base.clone();
            d["inputSchema"]["properties"]["shout"] = json!({"type": "boolean"});
            d["description"] = json!("echo, louder");
            d
        }
        fn call<'a>(
            &'a self,
            ctx: &'a CallContext,
            mut args: Value,
            base: &'a dyn Tool,
        ) -> BoxFuture<'a, ToolResult> {
            Box::pin(async move {
                if args["x"] == "" {
                    return Err(ToolError::invalid("x is empty"));
                }
                if args["shout"] == true {
                    let loud = args["x"].as_str().unwrap_or_default().to_uppercase();
                    args["x"] = json!(loud);
                }
                args.as_object_mut().unwrap().remove("shout");
                base.call(ctx, args).await
            })
        }
    }

    const WRITE: Hints = Hints {
        read_only: false,
        destructive: true,
        idempotent: false,
    };

    fn ctx() -> CallContext {
        CallContext::new(
            Arc::new(crate::cluster::ClusterAccess::new(Default::default())),
            Default::default(),
            Default::default(),
            Default::default(),
            tokio::time::Instant::now() + Duration::from_secs(5),
            ProgressSink::none(),
        )
    }

    #[tokio::test]
    async fn an_overlay_changes_the_definition_and_runs_around_the_call() {
        let reg = Registry::builder()
            .toolset(Toolset {
                name: "test",
                tools: vec![
                    Echo::shared("echo", Hints::READ),
                    Echo::shared("other", Hints::READ),
                ],
            })
            .mutator(Arc::new(Shout))
            .build();
        let echo = reg.find("echo").unwrap();
        assert_eq!(echo.definition().json()["description"], "echo, louder");
        assert!(echo.definition().input_schema()["properties"]["shout"].is_object());
        assert!(
            reg.find("other").unwrap().definition().input_schema()["properties"]["shout"].is_null(),
            "other tools are untouched"
        );
        let out = echo
            .call(&ctx(), json!({"x": "hi", "shout": true}))
            .await
            .unwrap();
        assert_eq!(out.structured, Some(json!({"x": "HI"})));
        let err = echo.call(&ctx(), json!({"x": ""})).await.unwrap_err();
        assert_eq!(err.to_string(), "x is empty");
        let listed = reg.list_json();
        assert_eq!(listed["tools"][0]["description"], "echo, louder");
    }

    #[test]
    fn read_only_is_a_filter_on_the_annotation() {
        let reg = Registry::builder()
            .toolset(Toolset {
                name: "test",
                tools: vec![Echo::shared("r", Hints::READ), Echo::shared("w", WRITE)],
            })
            .read_only()
            .build();
        assert!(reg.find("r").is_some() && reg.find("w").is_none());
        assert_eq!(reg.tool_count(), 1);
        assert_eq!(reg.toolset_of("r"), Some("test"));
    }

    #[test]
    fn pages_are_prepared_and_match_an_unprepared_rendering() {
        let tools = (0..5)
            .map(|i| Echo::shared(&format!("t{i}"), Hints::READ))
            .collect();
        let reg = Registry::builder()
            .toolset(Toolset {
                name: "test",
                tools,
            })
            .page_size(2)
            .build();
        let p0: Value = serde_json::from_slice(&reg.page(0, 2)).unwrap();
        assert_eq!(p0["tools"].as_array().unwrap().len(), 2);
        assert_eq!(p0["nextCursor"], encode_cursor(2));
        let last: Value = serde_json::from_slice(&reg.page(4, 2)).unwrap();
        assert_eq!(last["tools"][0]["name"], "t4");
        assert!(last.get("nextCursor").is_none());
        // Same bytes object for a prepared page: nothing is serialized per call.
        assert_eq!(reg.page(2, 2).as_ptr(), reg.page(2, 2).as_ptr());
        assert_eq!(reg.page(1, 3), render_page(&reg.serialized, 1, 3));
    }

    #[test]
    fn the_standard_catalogue_has_every_toolset() {
        let reg = Registry::standard(false);
        for (tool, set) in [
            ("get_plans", "resources"),
            ("explain_resource", "resources"),
            ("watch_plan", "workflows"),
            ("start_plan", "workflows"),
            ("describe_plan", "workflows"),
            ("get_events", "workflows"),
            ("get_logs", "workflows"),
            ("get_inventory", "inventory"),
            ("check_health", "review"),
            ("check_access", "review"),
            ("get_settings", "review"),
            ("set_setting", "review"),
        ] {
            assert_eq!(reg.toolset_of(tool), Some(set), "{tool}");
        }
        assert!(
            reg.find("create_forkliftcontroller").is_none(),
            "operator kinds are opt-in"
        );
        for gone in [
            "create_migration",
            "patch_migration",
            "delete_migration",
            "get_version",
        ] {
            assert!(reg.find(gone).is_none(), "{gone}");
            let why = reg.explain_missing(gone).unwrap();
            assert!(
                why.contains("replaced toolset") && why.contains("does its job"),
                "{why}"
            );
        }
        assert!(reg
            .explain_missing("create_migration")
            .unwrap()
            .contains("start_plan does its job"));
        let all = Registry::with_options(&CatalogueOptions {
            toolsets: vec!["all".into()],
            ..Default::default()
        });
        assert_eq!(
            all.toolset_of("delete_forkliftcontroller"),
            Some("operator")
        );
        let safe = Registry::with_options(&CatalogueOptions {
            disable_destructive: true,
            ..Default::default()
        });
        assert!(safe.find("delete_plan").is_none() && safe.find("cancel_plan").is_none());
        assert!(safe.find("create_plan").is_some() && safe.find("start_plan").is_some());
        assert!(CatalogueOptions {
            toolsets: vec!["nope".into()],
            ..Default::default()
        }
        .check()
        .unwrap_err()
        .contains("resources, workflows, inventory, review, operator, replaced"));
        let ro = Registry::standard(true);
        assert!(ro.tools().iter().all(|t| t.definition().read_only()));
        for gone in [
            "create_plan",
            "start_plan",
            "cancel_plan",
            "archive_plan",
            "delete_provider",
        ] {
            assert!(ro.find(gone).is_none(), "{gone}");
        }
        for kept in [
            "get_plans",
            "watch_plan",
            "describe_plan",
            "get_events",
            "get_logs",
        ] {
            assert!(ro.find(kept).is_some(), "{kept}");
        }
    }
}
