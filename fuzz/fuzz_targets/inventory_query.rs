//! The inventory query language (`get_inventory`'s `query`): the parser,
//! then the evaluator over inventory items.
//!
//! Input: the query text, optionally followed by a NUL byte and a JSON array
//! of items to apply it to (default: the vSphere VMs, networks and
//! datastores of the inventory test double's estate). A query that parses
//! is applied (filter, sort, limit), projected, and checked against the
//! items' fields as `get_inventory` does; one that does not renders its
//! error with the caret pointer.

#![no_main]

use std::sync::OnceLock;

use kubectl_mtv::tools::inventory::query;
use kubectl_mtv::tools::inventory::tool::check_fields;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const ESTATE: &str = include_str!("../../tests/inventory-double/estate/vsphere-main.json");

fn estate() -> &'static Vec<Value> {
    static ITEMS: OnceLock<Vec<Value>> = OnceLock::new();
    ITEMS.get_or_init(|| {
        let doc: Value = serde_json::from_str(ESTATE).expect("estate JSON");
        ["vms", "networks", "datastores"]
            .iter()
            .flat_map(|c| {
                doc["collections"][c]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let (text, items) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let items: Vec<Value> = match items.map(serde_json::from_slice::<Value>) {
        Some(Ok(Value::Array(a))) => a,
        Some(_) => return,
        None => estate().clone(),
    };
    let q = match query::parse(text) {
        Ok(q) => q,
        Err(e) => {
            assert_eq!(e.kind, query::ErrorKind::Syntax, "parse gave {e:?}");
            assert!(
                e.position <= text.len(),
                "{e:?} is past the end of {text:?}"
            );
            let _ = e.pointer(text);
            let _ = e.to_string();
            return;
        }
    };
    let _ = q.columns();
    let _ = check_fields(&q, text, &items);
    for item in &items {
        let _ = q.project(item);
    }
    match q.apply(items) {
        Ok(applied) => {
            assert!(applied.items.len() <= applied.matched_total);
            if let Some(limit) = q.limit {
                assert!(applied.items.len() <= limit);
            }
            for item in &applied.items {
                assert_eq!(q.matches(item), Ok(true), "a kept item does not match");
            }
        }
        Err(e) => {
            assert!(
                e.position <= text.len(),
                "{e:?} is past the end of {text:?}"
            );
            let _ = e.pointer(text);
        }
    }
});
