//! The inventory query language: kubectl-mtv's `--query`, TSL
//! (tree-search-language v6) plus SQL-like clauses, parsed and applied to
//! inventory items given as `serde_json::Value`s.
//!
//! ```text
//! [select f[, …]] [where <expr>] [order by|sort by f [asc|desc], …] [limit N]
//! ```
//!
//! - Clauses are case-insensitive and must come in that order, each at most
//!   once (`order by` and `sort by` are the same clause). A query that does
//!   not start with a clause keyword is a where expression: `memoryMB > 4096`
//!   is `where memoryMB > 4096`.
//! - `select` items are `f`, `f as alias`, `sum|len|any|all(f) [as alias]`;
//!   they only shape table output ([`Query::project`]). The where clause and
//!   `order by` may use an alias (with its reducer).
//! - Applying a query ([`Query::apply`]) filters with the where clause, then
//!   sorts (stable), then cuts to the limit.
//!
//! Where expressions, loosest binding first: `or`; `and`; comparisons (`=`
//! `==` `!=` `<>` `<` `<=` `>` `>=` `~=` `~!` `[not] like` `[not] ilike`
//! `[not] in [..]` `[not] between a and b` `is [not] null`); `+ -`;
//! `* / %`; prefix `not len any all sum`; unary `- +`, `( )`, `[array]`.
//! Because prefix `not` binds tighter than comparisons, write
//! `not (a = b)`. Literals: `'…'` `"…"` `` `…` `` strings (backslash
//! escapes), numbers with size suffixes (`k M G T P` ×1000ⁿ,
//! `Ki Mi Gi Ti Pi` ×1024ⁿ, e.g. `100Gi`), `true`, `false`, `null`, dates
//! `2024-01-31` and RFC 3339 timestamps (compared as times against string
//! fields holding timestamps). Fields are paths: `name`, `parent.id`,
//! `disks[0].capacity`, `disks[*].capacity`, `labels[app.kubernetes.io/name]`
//! (see [`path`]); a missing field is null. An operator with an array on its
//! left applies per element, so `any(concerns[*].category = 'Critical')`
//! and `sum(disks[*].capacity) > 100Gi` work.
//!
//! Values: `=` compares numbers as numbers, dates/timestamps (literals, or
//! strings holding one) as times, strings as strings; `<` `>` … order two
//! numbers, two times or two strings and are an error for other pairs; an
//! error stops [`Query::apply`], as upstream.
//!
//! Deliberate differences from upstream (kubectl-mtv with TSL v6.0.11):
//! - A null (missing) value never causes an error: `<` `>` `like` `~=` `in`
//!   `between` with null are false (`!=` and `~!` true), arithmetic with null
//!   is null, `not`/`and`/`or` read null as false, `len`/`sum` of null are 0,
//!   `any`/`all` of null are false. `null` may be written anywhere
//!   (`x = null`), not only in `is [not] null`.
//! - The where clause must give true or false (null counts as false): an
//!   array (e.g. `disks[*].capacity > 1Gi` without `any(…)`) or a number is
//!   an error that says so; upstream silently matches nothing.
//! - `is null` tests the value itself, also for arrays (upstream maps it over
//!   the elements, so `concerns is not null` never matched).
//! - `len` of a string counts characters and of an object its keys; `any` /
//!   `all` of one boolean is that boolean (upstream: errors).
//! - Unknown backslash escapes stay as written (`'\d+'` is the regex `\d+`;
//!   upstream drops the backslash). Quoted dates stay strings (they still
//!   compare as times), so `like` and `~=` work on timestamp fields.
//! - `and`/`or` short-circuit; malformed numbers, dates or regexes are
//!   syntax errors at parse time.
//! - Only explicit `as` aliases name columns for where / order by (upstream
//!   also treats an un-aliased `sum(x)` as a column called `x`).
//!
//! ```text
//! let q = query::parse("select name, memoryMB as mem where memoryMB > 4096 order by mem desc limit 5")?;
//! let applied = q.apply(vms)?;
//! let rows: Vec<_> = applied.items.iter().map(|vm| q.project(vm)).collect();
//! ```

pub mod ast;
mod datetime;
mod error;
mod eval;
mod parser;
pub mod path;

use serde_json::{Map, Value};

pub use self::ast::{Expr, OrderKey, Reducer, SelectItem};
pub use self::datetime::Timestamp;
pub use self::error::{ErrorKind, QueryError};
pub use self::path::Path;

/// A field path a query reads (see [`Query::fields`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldUse {
    pub path: Path,
    /// Byte position in the query (0 for select and order by).
    pub pos: usize,
    /// Alone on the right of a comparison: maybe a value meant to be quoted.
    pub rhs: bool,
}

/// A parsed query.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// `select` columns, in order (empty: no select clause).
    pub select: Vec<SelectItem>,
    /// The where clause.
    pub filter: Option<Expr>,
    /// `order by` keys, most significant first.
    pub order: Vec<OrderKey>,
    /// `limit`.
    pub limit: Option<usize>,
}

/// The result of [`Query::apply`].
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The items that matched, sorted and cut to the limit.
    pub items: Vec<Value>,
    /// How many items matched before the limit was applied.
    pub matched_total: usize,
}

/// Parses a query; an empty (or blank) query matches everything.
pub fn parse(text: &str) -> Result<Query, QueryError> {
    check_nesting(text)?;
    let query = parser::parse_query(text)?;
    check_units(text)?;
    Ok(query)
}

/// Deepest nesting of parentheses and brackets a query may have.
const MAX_NESTING: usize = 64;
/// Most `-`, `+` and `not` a query may have: as prefixes they nest too.
const MAX_SIGNS: usize = 256;

/// Refuses a query that nests deeper than the parser, the evaluator and
/// dropping the syntax tree may recurse: found by the inventory_query fuzz
/// target, 5,000 nested parentheses overflowed the server's stack and
/// aborted it. Quoted text is skipped.
fn check_nesting(text: &str) -> Result<(), QueryError> {
    let fail = |position: usize, message: String| {
        Err(QueryError {
            kind: ErrorKind::Syntax,
            position,
            message,
        })
    };
    let (mut depth, mut signs, mut quote) = (0usize, 0usize, None::<char>);
    let mut prev_word_char = false;
    let bytes = text.as_bytes();
    for (at, c) in text.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        let word_char = c.is_alphanumeric() || c == '_';
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return fail(
                        at,
                        format!("the query nests more than {MAX_NESTING} levels of parentheses or brackets; simplify it"),
                    );
                }
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            '-' | '+' => signs += 1,
            'n' | 'N'
                if !prev_word_char
                    && bytes
                        .get(at..at + 3)
                        .is_some_and(|w| w.eq_ignore_ascii_case(b"not"))
                    && !bytes
                        .get(at + 3)
                        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_') =>
            {
                signs += 1
            }
            _ => {}
        }
        if signs > MAX_SIGNS {
            return fail(
                at,
                format!(
                    "the query has more than {MAX_SIGNS} '-', '+' or 'not' operators; simplify it"
                ),
            );
        }
        prev_word_char = word_char;
    }
    Ok(())
}

/// A size suffix on a number compared with a field that already carries a
/// unit (`memoryMB > 8G`) compares megabytes with bytes and silently matches
/// nothing: refuse it and say what to write.
fn check_units(text: &str) -> Result<(), QueryError> {
    use std::sync::LazyLock;
    static UNIT_CMP: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(
            r"([A-Za-z_][A-Za-z0-9_.]*?(KB|MB|GB|TB|KiB|MiB|GiB|TiB))\s*(<=|>=|!=|=|<|>)\s*([0-9]+(?:\.[0-9]+)?)([kKmMgGtTpP][iI]?)\b",
        )
        .expect("valid regex")
    });
    let Some(c) = UNIT_CMP.captures(text) else {
        return Ok(());
    };
    let (field, unit, op, number, suffix) = (&c[1], &c[2], &c[3], &c[4], &c[5]);
    let n: f64 = number.parse().unwrap_or(0.0);
    let bytes = n * match suffix.to_ascii_lowercase().as_str() {
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        "t" => 1e12,
        "p" => 1e15,
        "ki" => 1024f64,
        "mi" => 1024f64.powi(2),
        "gi" => 1024f64.powi(3),
        "ti" => 1024f64.powi(4),
        _ => 1024f64.powi(5),
    };
    let per_unit = match unit {
        "KB" => 1e3,
        "MB" => 1024f64.powi(2),
        "GB" => 1024f64.powi(3),
        "TB" => 1024f64.powi(4),
        "KiB" => 1024f64,
        "MiB" => 1024f64.powi(2),
        "GiB" => 1024f64.powi(3),
        _ => 1024f64.powi(4),
    };
    let in_unit = (bytes / per_unit * 100.0).round() / 100.0;
    Err(QueryError {
        kind: ErrorKind::Syntax,
        position: c.get(4).map_or(0, |m| m.start()),
        message: format!(
            "{field} is already in {unit}, but {number}{suffix} is a size in bytes, so the comparison would match nothing; write {field} {op} {in_unit}"
        ),
    })
}

impl Query {
    /// Whether the query has no clause at all.
    pub fn is_empty(&self) -> bool {
        self.select.is_empty()
            && self.filter.is_none()
            && self.order.is_empty()
            && self.limit.is_none()
    }

    /// Whether `item` passes the where clause (true without one). Errors when
    /// an operator meets values it cannot handle, or when the clause does not
    /// give true/false (e.g. a per-element array not wrapped in `any(…)`).
    pub fn matches(&self, item: &Value) -> Result<bool, QueryError> {
        match &self.filter {
            Some(expr) => eval::filter(expr, item),
            None => Ok(true),
        }
    }

    /// Filters (where), sorts (order by, stable) and cuts (limit) `items`.
    pub fn apply(&self, items: Vec<Value>) -> Result<Applied, QueryError> {
        let mut kept = Vec::with_capacity(items.len());
        for item in items {
            if self.matches(&item)? {
                kept.push(item);
            }
        }
        let matched_total = kept.len();
        if !self.order.is_empty() {
            let mut keyed: Vec<(Vec<Value>, Value)> = kept
                .into_iter()
                .map(|item| {
                    let keys = self
                        .order
                        .iter()
                        .map(|k| eval::select_value(&k.column, &item))
                        .collect();
                    (keys, item)
                })
                .collect();
            keyed.sort_by(|(a, _), (b, _)| {
                self.order
                    .iter()
                    .zip(a.iter().zip(b))
                    .map(|(key, (x, y))| {
                        let ord = eval::sort_cmp(x, y);
                        if key.descending {
                            ord.reverse()
                        } else {
                            ord
                        }
                    })
                    .find(|ord| ord.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            kept = keyed.into_iter().map(|(_, item)| item).collect();
        }
        if let Some(limit) = self.limit {
            kept.truncate(limit);
        }
        Ok(Applied {
            items: kept,
            matched_total,
        })
    }

    /// The select columns of `item` as an object (column name → value, in
    /// select order), for table output; the whole item when there is no
    /// select clause.
    pub fn project(&self, item: &Value) -> Value {
        if self.select.is_empty() {
            return item.clone();
        }
        let row: Map<String, Value> = self
            .select
            .iter()
            .map(|column| (column.name(), eval::select_value(column, item)))
            .collect();
        Value::Object(row)
    }

    /// The select column names (alias, `sum(path)` or path), in order.
    /// Every field path the query reads, once each, with the byte position
    /// it is written at and whether it stands alone on the right of a
    /// comparison (where an unquoted value would land).
    pub fn fields(&self) -> Vec<FieldUse> {
        let mut out: Vec<FieldUse> = Vec::new();
        let mut add = |path: &Path, pos: usize, rhs: bool| {
            if !out.iter().any(|f| f.path == *path) {
                out.push(FieldUse {
                    path: path.clone(),
                    pos,
                    rhs,
                });
            }
        };
        fn walk(e: &Expr, rhs: bool, add: &mut dyn FnMut(&Path, usize, bool)) {
            match &e.kind {
                ast::ExprKind::Field(p) => add(p, e.pos, rhs),
                ast::ExprKind::Column(c) => add(&c.path, e.pos, false),
                ast::ExprKind::Literal(_) => {}
                ast::ExprKind::Array(items) => items.iter().for_each(|i| walk(i, false, add)),
                ast::ExprKind::Unary { operand, .. } => walk(operand, false, add),
                ast::ExprKind::Binary {
                    op, lhs, rhs: r, ..
                } => {
                    let cmp = !matches!(op, ast::BinaryOp::And | ast::BinaryOp::Or);
                    walk(lhs, false, add);
                    walk(r, cmp, add);
                }
                ast::ExprKind::Between { value, low, high } => {
                    walk(value, false, add);
                    walk(low, true, add);
                    walk(high, true, add);
                }
                ast::ExprKind::IsNull(v) => walk(v, false, add),
            }
        }
        if let Some(f) = &self.filter {
            walk(f, false, &mut add);
        }
        let aliases: Vec<String> = self.select.iter().filter_map(|s| s.alias.clone()).collect();
        for s in &self.select {
            add(&s.path, 0, false);
        }
        for o in &self.order {
            if !aliases.contains(&o.column.path.as_str().to_owned()) {
                add(&o.column.path, 0, false);
            }
        }
        out
    }

    pub fn columns(&self) -> Vec<String> {
        self.select.iter().map(SelectItem::name).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GI: u64 = 1024 * 1024 * 1024;

    /// A trimmed copy of the vSphere VMs in the inventory fixtures.
    fn vms() -> Vec<Value> {
        let vm = |name: &str,
                  power: &str,
                  mem: u64,
                  cpus: u64,
                  disks: &[u64],
                  concerns: &[&str]| {
            json!({
                "id": format!("vm-{name}"),
                "name": name,
                "powerState": power,
                "memoryMB": mem,
                "cpuCount": cpus,
                "disks": disks.iter().map(|gi| json!({"capacity": gi * GI})).collect::<Vec<_>>(),
                "concerns": concerns.iter().map(|c| json!({"category": c, "label": "x"})).collect::<Vec<_>>(),
            })
        };
        vec![
            vm("web-01", "poweredOn", 8192, 4, &[40], &["Warning"]),
            vm(
                "web-02",
                "poweredOn",
                8192,
                4,
                &[40, 100],
                &["Warning", "Information"],
            ),
            vm("db-01", "poweredOn", 32768, 8, &[50, 200, 500], &[]),
            vm(
                "win-app-01",
                "poweredOff",
                4096,
                2,
                &[80],
                &["Warning", "Warning"],
            ),
            vm(
                "legacy-app",
                "suspended",
                2048,
                1,
                &[20],
                &["Critical", "Warning"],
            ),
            vm(
                "test-vm",
                "poweredOff",
                2048,
                2,
                &[16],
                &["Warning", "Warning"],
            ),
        ]
    }

    fn names(items: &[Value]) -> Vec<&str> {
        items.iter().map(|v| v["name"].as_str().unwrap()).collect()
    }

    fn run(text: &str) -> Applied {
        parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .apply(vms())
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn reference_example_power_and_memory() {
        let got = run("where powerState = 'poweredOn' and memoryMB > 8192");
        assert_eq!(names(&got.items), ["db-01"]);
        assert_eq!(got.matched_total, 1);
    }

    #[test]
    fn reference_example_any_critical_concern() {
        let got = run("where any(concerns[*].category = 'Critical')");
        assert_eq!(names(&got.items), ["legacy-app"]);
    }

    #[test]
    fn reference_example_sum_of_disks() {
        // web-02: 140 GiB, db-01: 750 GiB; web-01 (40) and win-app-01 (80) are below.
        let got = run("where sum(disks[*].capacity) > 100Gi");
        assert_eq!(names(&got.items), ["web-02", "db-01"]);
    }

    #[test]
    fn reference_example_select_order_limit() {
        let q =
            parse("select name, memoryMB as mem where memoryMB > 4096 order by mem desc limit 5")
                .unwrap();
        assert_eq!(q.columns(), ["name", "mem"]);
        let got = q.apply(vms()).unwrap();
        assert_eq!(got.matched_total, 3);
        let rows: Vec<Value> = got.items.iter().map(|vm| q.project(vm)).collect();
        // Stable: web-01 stays before web-02 (equal memory).
        assert_eq!(
            rows,
            [
                json!({"name": "db-01", "mem": 32768}),
                json!({"name": "web-01", "mem": 8192}),
                json!({"name": "web-02", "mem": 8192}),
            ]
        );
        // Project keeps select order.
        let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name", "mem"]);
    }

    #[test]
    fn a_query_without_keyword_is_a_where_clause() {
        let bare = run("memoryMB <= 4096 and powerState != 'suspended'");
        let with = run("where memoryMB <= 4096 and powerState != 'suspended'");
        assert_eq!(names(&bare.items), ["win-app-01", "test-vm"]);
        assert_eq!(bare, with);
        let got = run("cpuCount >= 4 order by name limit 2");
        assert_eq!(names(&got.items), ["db-01", "web-01"]);
        assert_eq!(got.matched_total, 3);
    }

    #[test]
    fn limit_cuts_after_sorting_and_counts_all_matches() {
        let got = run("order by memoryMB desc, name desc limit 2");
        assert_eq!(names(&got.items), ["db-01", "web-02"]);
        assert_eq!(got.matched_total, 6);
        let got = run("powerState = 'poweredOn' limit 0");
        assert!(got.items.is_empty());
        assert_eq!(got.matched_total, 3);
        let got = run("limit 100");
        assert_eq!(got.items.len(), 6);
    }

    #[test]
    fn order_by_keys_aliases_and_reducers() {
        let got = run("sort by cpuCount asc, memoryMB desc, name");
        assert_eq!(
            names(&got.items),
            [
                "legacy-app",
                "win-app-01",
                "test-vm",
                "web-01",
                "web-02",
                "db-01"
            ]
        );
        let q = parse(
            "select name, sum(disks[*].capacity) as total, len(concerns) \
             where total > 50Gi order by total desc",
        )
        .unwrap();
        let got = q.apply(vms()).unwrap();
        assert_eq!(names(&got.items), ["db-01", "web-02", "win-app-01"]);
        assert_eq!(
            q.project(&got.items[1]),
            json!({"name": "web-02", "total": 140 * GI, "len(concerns)": 2})
        );
        let got = run("order by len(concerns) desc, name limit 3");
        assert_eq!(names(&got.items), ["legacy-app", "test-vm", "web-02"]);
    }

    #[test]
    fn order_by_puts_missing_values_first_ascending() {
        let items = vec![
            json!({"name": "b", "rank": 2}),
            json!({"name": "none"}),
            json!({"name": "a", "rank": "10"}),
            json!({"name": "c", "rank": 1}),
        ];
        let q = parse("order by rank").unwrap();
        assert_eq!(
            names(&q.apply(items.clone()).unwrap().items),
            ["none", "c", "b", "a"]
        );
        let q = parse("order by rank desc").unwrap();
        assert_eq!(
            names(&q.apply(items).unwrap().items),
            ["a", "b", "c", "none"]
        );
    }

    #[test]
    fn project_and_matches() {
        let q = parse("select name, .powerState, parent.id, disks[0].capacity as first, all(nope)")
            .unwrap();
        let vm = &vms()[0];
        assert_eq!(
            q.project(vm),
            json!({
                "name": "web-01",
                "powerState": "poweredOn",
                "parent.id": null,
                "first": 40 * GI,
                "all(nope)": null
            })
        );
        let all = parse("").unwrap();
        assert!(all.is_empty());
        assert!(all.matches(vm).unwrap());
        assert_eq!(all.project(vm), *vm);
        assert_eq!(all.apply(vms()).unwrap().items, vms());
        assert!(parse("name = 'web-01'").unwrap().matches(vm).unwrap());
        assert!(!parse("name = 'web-02'").unwrap().matches(vm).unwrap());
    }

    #[test]
    fn timestamps_in_string_fields() {
        let items = vec![
            json!({"name": "old", "metadata": {"creationTimestamp": "2024-11-30T23:59:59Z"}}),
            json!({"name": "new", "metadata": {"creationTimestamp": "2025-06-02T09:14:05Z"}}),
            json!({"name": "tz", "metadata": {"creationTimestamp": "2025-01-01T01:00:00+02:00"}}),
        ];
        let pick = |text: &str| {
            let got = parse(text).unwrap().apply(items.clone()).unwrap();
            names(&got.items)
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(pick("metadata.creationTimestamp > 2025-01-01"), ["new"]);
        assert_eq!(
            pick("metadata.creationTimestamp < 2025-01-01"),
            ["old", "tz"]
        );
        assert_eq!(
            pick(
                "metadata.creationTimestamp between 2024-12-31T23:00:00Z and 2025-01-01T00:00:00Z"
            ),
            ["tz"]
        );
        assert_eq!(
            pick("metadata.creationTimestamp >= '2025-06-02T11:14:05+02:00'"),
            ["new"]
        );
    }

    #[test]
    fn evaluation_errors_stop_apply() {
        let e = parse("where memoryMB > 'lots'")
            .unwrap()
            .apply(vms())
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Evaluation);
        assert_eq!(e.position, 15);
        assert_eq!(
            e.to_string(),
            "at position 15: '>' needs two numbers, two dates or two strings, got a number and a string"
        );
        let e = parse("concerns[*].category = 'Critical'")
            .unwrap()
            .apply(vms())
            .unwrap_err();
        assert!(e.message.contains("any(…)"), "{e}");
    }

    #[test]
    fn malformed_queries_point_at_the_problem() {
        let e = parse("where powerState = 'poweredOn' and memoryMB >").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!(e.position, 45);
        assert_eq!(
            e.to_string(),
            "at position 45: expected a value after '>', found the end of the query"
        );
        let e = parse("select name where memoryMB > 4096 limit 5 order by name").unwrap_err();
        assert_eq!(e.position, 42);
        assert!(
            e.message.starts_with("'order by' must come before 'limit'"),
            "{e}"
        );
        let text = "where name = 'web-01' and and";
        let e = parse(text).unwrap_err();
        assert_eq!(e.position, 26);
        assert_eq!(
            e.pointer(text),
            "where name = 'web-01' and and\n                          ^"
        );
    }

    #[test]
    fn fields_lists_every_path_read_and_flags_bare_values() {
        let q = parse(
            "select name, mem as m where powerState == poweredOn and memoryMB > 8192 order by m",
        )
        .unwrap();
        let f: Vec<(String, bool)> = q
            .fields()
            .iter()
            .map(|f| (f.path.as_str().to_owned(), f.rhs))
            .collect();
        assert_eq!(
            f,
            [
                ("powerState".into(), false),
                ("poweredOn".into(), true),
                ("memoryMB".into(), false),
                ("name".into(), false),
                ("mem".into(), false)
            ]
        );
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn a_size_suffix_on_a_field_with_a_unit_is_refused_with_the_right_number() {
        let e = parse("where powerState = 'poweredOn' and memoryMB > 8Gi").unwrap_err();
        assert!(
            e.message.contains("memoryMB is already in MB")
                && e.message.contains("memoryMB > 8192"),
            "{}",
            e.message
        );
        assert!(parse("where memoryMB > 8192").is_ok());
        assert!(
            parse("where capacity > 8Gi").is_ok(),
            "a byte field takes suffixes"
        );
    }
}

#[cfg(test)]
mod nesting_tests {
    use super::*;

    /// Found by the inventory_query fuzz target: deep nesting overflowed
    /// the stack (5,000 parentheses aborted the server). Deep queries are
    /// refused with a syntax error; ordinary ones, and quoted text full of
    /// parentheses, still parse.
    #[test]
    fn deep_nesting_is_a_clear_error_not_a_stack_overflow() {
        for deep in [
            format!("where {}a = 1{}", "(".repeat(5000), ")".repeat(5000)),
            format!("where a = {}1", "-".repeat(5000)),
            format!("where {}a = 1", "not ".repeat(5000)),
            format!("where a in {}1{}", "[".repeat(5000), "]".repeat(5000)),
        ] {
            let e = parse(&deep).unwrap_err();
            assert!(e.message.contains("simplify it"), "{}", e.message);
        }
        let nested = format!("where {}memoryMB > 8192{}", "(".repeat(60), ")".repeat(60));
        assert!(parse(&nested).is_ok());
        let quoted = format!("where name = '{}'", "(".repeat(5000));
        assert!(parse(&quoted).is_ok());
        assert!(parse("where not (powerState = 'poweredOn') and cpuCount - 1 > 2").is_ok());
        assert!(parse("where notes = 'x' and annotation ~= 'n'").is_ok());
    }
}
