//! Tool arguments through coercion and CRD-schema validation, for every
//! tool of every toolset (the generated CRUD tools of every resource, the
//! overlays' guided tools, the workflow, inventory and explain tools).
//!
//! Input: a tool byte (its index modulo the number of tools), a resource
//! byte (modulo the number of resources), then the arguments as JSON. The
//! arguments are coerced against the tool's input schema, then:
//! - a generated tool's arguments are parsed (`tools::parse_args`) into its
//!   argument struct and checked as its call would (scope of a get, the
//!   CRD schema of a create's spec and of a merge patch's spec);
//! - the tool itself is called: everything it checks before connecting
//!   runs, then the connection fails (the kubeconfig does not exist);
//! - its `spec` (or `patch.spec`, or the whole value) is validated as a
//!   full spec and as a spec patch of the chosen resource
//!   (`tools::validate::check_spec`, `check_spec_patch`).

#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use kubectl_mtv::catalogue::{self, Verb};
use kubectl_mtv::cluster::{ClusterAccess, Identity};
use kubectl_mtv::tools::args::{CreateArgs, DeleteArgs, GetArgs, PatchArgs};
use kubectl_mtv::tools::crud::ops;
use kubectl_mtv::tools::validate::{check_spec, check_spec_patch};
use kubectl_mtv::tools::{
    coerce_arguments, parse_args, CallContext, ProgressSink, Registry, ToolSettings,
};
use kubectl_mtv_fuzz::{access_options, registry};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

struct Fixture {
    registry: Registry,
    access: Arc<ClusterAccess>,
    settings: Arc<ToolSettings>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        std::env::remove_var("KUBECONFIG");
        std::env::remove_var("MTV_INVENTORY_URL");
        Fixture {
            registry: registry(),
            access: Arc::new(ClusterAccess::new(access_options())),
            settings: Arc::new(ToolSettings::default()),
        }
    })
}

/// What the generated tool's call checks before connecting.
fn check_generated(name: &str, args: &Value) {
    let Some(def) = catalogue::tools().iter().find(|t| t.name == name) else {
        return;
    };
    let r = &catalogue::resources()[def.resource];
    match def.verb {
        Verb::Get => {
            if let Ok(a) = parse_args::<GetArgs>(name, args.clone()) {
                let _ = ops::check_scope(&a);
            }
        }
        Verb::Create => {
            if let Ok(a) = parse_args::<CreateArgs>(name, args.clone()) {
                let _ = ops::check_create(r, &a);
            }
        }
        Verb::Patch => {
            if let Ok(a) = parse_args::<PatchArgs>(name, args.clone()) {
                if let Some(spec) = a.patch.get("spec") {
                    let _ = check_spec_patch(r, spec);
                }
            }
        }
        Verb::Delete => {
            let _ = parse_args::<DeleteArgs>(name, args.clone());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [tool_byte, resource_byte, json @ ..] = data else {
        return;
    };
    let Ok(mut args) = serde_json::from_slice::<Value>(json) else {
        return;
    };
    let f = fixture();
    let tools = f.registry.tools();
    let tool = &tools[usize::from(*tool_byte) % tools.len()];
    let name = tool.definition().name().to_owned();
    coerce_arguments(&mut args, tool.definition().input_schema());
    check_generated(&name, &args);

    // The spec (or a patch's spec, else the whole value) against any resource.
    let resources = catalogue::resources();
    let r = &resources[usize::from(*resource_byte) % resources.len()];
    let spec = args
        .get("spec")
        .or_else(|| args.pointer("/patch/spec"))
        .unwrap_or(&args);
    if let Err(e) = check_spec(r, spec) {
        assert!(!e.text.is_empty(), "an empty validation error");
    }
    if let Err(e) = check_spec_patch(r, spec) {
        assert!(!e.text.is_empty(), "an empty validation error");
    }

    thread_local! {
        static RT: tokio::runtime::Runtime = kubectl_mtv_fuzz::runtime();
    }
    RT.with(|rt| {
        rt.block_on(async {
            let ctx = CallContext::new(
                Arc::clone(&f.access),
                Identity::default(),
                Arc::clone(&f.settings),
                CancellationToken::new(),
                tokio::time::Instant::now() + Duration::from_secs(150),
                ProgressSink::none(),
            );
            let out = tokio::time::timeout(Duration::from_secs(600), tool.call(&ctx, args)).await;
            if let Ok(Err(e)) = out {
                let out = e.into_output();
                assert!(
                    out.is_error && !out.text.is_empty(),
                    "{name}: an empty error"
                );
            }
        })
    });
});
