//! The generator's CRD reader and everything it feeds for one resource:
//! `crd::parse`, then the catalogue's tools, the spec summary, kopium's
//! models and the emitted Rust source. A mutated CRD must give an error,
//! never a panic.
//!
//! Input: CRD YAML text.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mtv_codegen::{catalogue, crd, emit, models, settings, summary, SPEC_SUMMARY_BUDGET};

fuzz_target!(|data: &[u8]| {
    let Ok(yaml) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(r) = crd::parse(yaml, Path::new("fuzz.yaml")) else {
        return;
    };
    let _ = r.spec_required();
    let _ = r.module_name();
    let resources = [r];
    let tools = catalogue::tools(&resources);
    let summaries: Vec<_> = resources
        .iter()
        .map(|r| summary::spec_summary(&r.spec_schema(), SPEC_SUMMARY_BUDGET).0)
        .collect();
    let Ok(model) = models::generate(&resources[0]) else {
        return;
    };
    // The operator settings, when the CRD is a ForkliftController.
    let settings = settings::settings(&resources);
    let _ = emit::models_source(&resources, &[model]);
    let _ = emit::source(&resources, &summaries, &tools, &settings, "/generated");
});
