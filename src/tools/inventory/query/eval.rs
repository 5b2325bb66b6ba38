//! Evaluating a parsed query against JSON items: where-clause expressions,
//! select columns (with their reducers) and order-by comparison.
//!
//! Semantics follow tree-search-language v6's `semantics` walker and
//! kubectl-mtv's `pkg/util/query`:
//!
//! - a binary operator whose left operand is an array applies to each element
//!   and yields an array (`disks[*].capacity > 10Gi` is a list of booleans);
//!   `any`/`all` reduce such lists, `len` counts, `sum` adds;
//! - `=` compares numbers as numbers, then two dates/timestamps (literals or
//!   strings that parse as one) as points in time, then strings; other pairs
//!   are equal only when both are null, both the same boolean, or equal JSON;
//! - `<`, `<=`, `>`, `>=` order two numbers, two times or two strings; with a
//!   null on either side they are false; other pairs are an error;
//! - `like`/`ilike` (`%` any run, `_` one character, whole string) and
//!   `~=`/`~!` (unanchored regex) need strings; a null on either side does not
//!   match;
//! - arithmetic needs numbers; `%` truncates both sides to integers; dividing
//!   by zero is an error.
//!
//! Where upstream raises an error only because a value is missing (null) this
//! module treats null as "unknown" instead, so one item without a field does
//! not fail a whole listing: arithmetic with null is null, `not null`, `and`,
//! `or` treat null as false, `len`/`sum` of null are 0, `any`/`all` of null are
//! false, `in`/`between` with a null value are false. `is null` looks at the
//! value as a whole (an empty array is not null).

use std::cmp::Ordering;

use regex::{Regex, RegexBuilder};
use serde_json::{Map, Value};

use super::ast::{BinaryOp, Expr, ExprKind, Literal, Reducer, SelectItem, UnaryOp};
use super::datetime::{self, Timestamp};
use super::error::QueryError;

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Time(Timestamp),
    Array(Vec<Val>),
    Object(Map<String, Value>),
}

impl Val {
    fn from_json(value: Value) -> Val {
        match value {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(n) => n.as_f64().map_or(Val::Null, Val::Num),
            Value::String(s) => Val::Str(s),
            Value::Array(items) => Val::Array(items.into_iter().map(Val::from_json).collect()),
            Value::Object(map) => Val::Object(map),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "a boolean",
            Val::Num(_) => "a number",
            Val::Str(_) => "a string",
            Val::Time(_) => "a date",
            Val::Array(_) => "an array",
            Val::Object(_) => "an object",
        }
    }

    /// A point in time, for time literals and strings holding a date or
    /// RFC 3339 timestamp.
    fn as_time(&self) -> Option<Timestamp> {
        match self {
            Val::Time(t) => Some(*t),
            Val::Str(s) => datetime::parse(s),
            _ => None,
        }
    }
}

/// Compiles the right-hand side of `~=`, `~!`, `like` or `ilike`.
pub(super) fn compile_pattern(op: BinaryOp, pattern: &str) -> Result<Regex, String> {
    let built = match op {
        BinaryOp::Like | BinaryOp::ILike => {
            let mut re = String::from("^");
            for c in pattern.chars() {
                match c {
                    '%' => re.push_str(".*"),
                    '_' => re.push('.'),
                    c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
                }
            }
            re.push('$');
            RegexBuilder::new(&re)
                .case_insensitive(op == BinaryOp::ILike)
                .dot_matches_new_line(true)
                .build()
        }
        _ => Regex::new(pattern),
    };
    built.map_err(|e| {
        let detail = e.to_string();
        let last = detail.lines().last().unwrap_or_default().trim();
        let last = last.strip_prefix("error: ").unwrap_or(last);
        format!("invalid regular expression '{pattern}': {last}")
    })
}

fn err(pos: usize, message: impl Into<String>) -> QueryError {
    QueryError::evaluation(pos, message)
}

/// Evaluates the where clause for one item: true, false (null counts as
/// false) or an error for a result that is not a boolean.
pub(super) fn filter(expr: &Expr, item: &Value) -> Result<bool, QueryError> {
    match eval(expr, item)? {
        Val::Bool(b) => Ok(b),
        Val::Null => Ok(false),
        Val::Array(_) => Err(err(
            expr.pos,
            "the where clause gives an array (one result per element), not true or false; \
             wrap the condition in any(…) or all(…)",
        )),
        other => Err(err(
            expr.pos,
            format!(
                "the where clause must be true or false, but gives {}",
                other.type_name()
            ),
        )),
    }
}

/// Evaluates an expression against an item.
pub(super) fn eval(expr: &Expr, item: &Value) -> Result<Val, QueryError> {
    match &expr.kind {
        ExprKind::Literal(lit) => Ok(match lit {
            Literal::Null => Val::Null,
            Literal::Bool(b) => Val::Bool(*b),
            Literal::Number(n) => Val::Num(*n),
            Literal::String(s) => Val::Str(s.clone()),
            Literal::Time(t, _) => Val::Time(*t),
        }),
        ExprKind::Field(path) => Ok(Val::from_json(path.resolve(item))),
        ExprKind::Column(column) => Ok(Val::from_json(select_value(column, item))),
        ExprKind::Array(items) => Ok(Val::Array(
            items
                .iter()
                .map(|e| eval(e, item))
                .collect::<Result<_, _>>()?,
        )),
        ExprKind::Unary { op, operand } => unary(*op, eval(operand, item)?, expr.pos),
        ExprKind::Binary {
            op,
            lhs,
            rhs,
            pattern,
        } => {
            let left = eval(lhs, item)?;
            // Short-circuit `and` / `or` on a decided scalar left side.
            match (op, &left) {
                (BinaryOp::And, Val::Bool(false) | Val::Null) => return Ok(Val::Bool(false)),
                (BinaryOp::Or, Val::Bool(true)) => return Ok(Val::Bool(true)),
                _ => {}
            }
            let right = eval(rhs, item)?;
            binary(*op, left, &right, pattern.as_ref(), expr.pos)
        }
        ExprKind::Between { value, low, high } => {
            let value = eval(value, item)?;
            let low = eval(low, item)?;
            let high = eval(high, item)?;
            between(value, &low, &high, expr.pos)
        }
        ExprKind::IsNull(value) => Ok(Val::Bool(eval(value, item)? == Val::Null)),
    }
}

fn truth(v: &Val, op: &str, pos: usize) -> Result<bool, QueryError> {
    match v {
        Val::Bool(b) => Ok(*b),
        Val::Null => Ok(false),
        other => Err(err(
            pos,
            format!("'{op}' needs true or false, got {}", other.type_name()),
        )),
    }
}

fn unary(op: UnaryOp, v: Val, pos: usize) -> Result<Val, QueryError> {
    let name = op.symbol();
    let wrong =
        |v: &Val, need: &str| err(pos, format!("'{name}' needs {need}, got {}", v.type_name()));
    match op {
        UnaryOp::Not | UnaryOp::Neg => match v {
            Val::Array(items) => Ok(Val::Array(
                items
                    .into_iter()
                    .map(|e| unary(op, e, pos))
                    .collect::<Result<_, _>>()?,
            )),
            Val::Null if op == UnaryOp::Neg => Ok(Val::Null),
            Val::Num(n) if op == UnaryOp::Neg => Ok(Val::Num(-n)),
            v if op == UnaryOp::Neg => Err(wrong(&v, "a number")),
            v => Ok(Val::Bool(!truth(&v, name, pos)?)),
        },
        UnaryOp::Len => match v {
            Val::Array(items) => Ok(Val::Num(items.len() as f64)),
            Val::Str(s) => Ok(Val::Num(s.chars().count() as f64)),
            Val::Object(map) => Ok(Val::Num(map.len() as f64)),
            Val::Null => Ok(Val::Num(0.0)),
            v => Err(wrong(&v, "an array")),
        },
        UnaryOp::Any | UnaryOp::All => match v {
            Val::Array(items) => Ok(Val::Bool(if op == UnaryOp::Any {
                items.iter().any(|e| *e == Val::Bool(true))
            } else {
                !items.is_empty() && items.iter().all(|e| *e == Val::Bool(true))
            })),
            Val::Bool(b) => Ok(Val::Bool(b)),
            Val::Null => Ok(Val::Bool(false)),
            v => Err(wrong(&v, "an array of true/false values")),
        },
        UnaryOp::Sum => match v {
            Val::Array(items) => {
                let mut total = 0.0;
                for e in &items {
                    match e {
                        Val::Num(n) => total += n,
                        Val::Null => {}
                        other => return Err(wrong(other, "numbers")),
                    }
                }
                Ok(Val::Num(total))
            }
            Val::Num(n) => Ok(Val::Num(n)),
            Val::Null => Ok(Val::Num(0.0)),
            v => Err(wrong(&v, "an array of numbers")),
        },
    }
}

/// `=` as described in the module docs.
fn equals(l: &Val, r: &Val) -> bool {
    match (l, r) {
        (Val::Num(a), Val::Num(b)) => a == b,
        _ => match (l.as_time(), r.as_time()) {
            (Some(a), Some(b)) => a == b,
            _ => l == r,
        },
    }
}

/// Ordering for `<`, `<=`, `>`, `>=` and `between`; `None` when the two
/// cannot be ordered.
fn order(l: &Val, r: &Val) -> Option<Ordering> {
    match (l, r) {
        (Val::Num(a), Val::Num(b)) => a.partial_cmp(b),
        _ => match (l.as_time(), r.as_time()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => match (l, r) {
                (Val::Str(a), Val::Str(b)) => Some(a.cmp(b)),
                _ => None,
            },
        },
    }
}

fn binary(
    op: BinaryOp,
    l: Val,
    r: &Val,
    pattern: Option<&Regex>,
    pos: usize,
) -> Result<Val, QueryError> {
    if let Val::Array(items) = l {
        return Ok(Val::Array(
            items
                .into_iter()
                .map(|e| binary(op, e, r, pattern, pos))
                .collect::<Result<_, _>>()?,
        ));
    }
    let name = op.symbol();
    let mismatch = |need: &str| {
        err(
            pos,
            format!(
                "'{name}' needs {need}, got {} and {}",
                l.type_name(),
                r.type_name()
            ),
        )
    };
    let b = match op {
        BinaryOp::Eq => equals(&l, r),
        BinaryOp::Ne => !equals(&l, r),
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            if l == Val::Null || *r == Val::Null {
                false
            } else {
                let Some(ord) = order(&l, r) else {
                    return Err(mismatch("two numbers, two dates or two strings"));
                };
                match op {
                    BinaryOp::Lt => ord == Ordering::Less,
                    BinaryOp::Le => ord != Ordering::Greater,
                    BinaryOp::Gt => ord == Ordering::Greater,
                    _ => ord != Ordering::Less,
                }
            }
        }
        BinaryOp::RegexMatch | BinaryOp::RegexNoMatch | BinaryOp::Like | BinaryOp::ILike => {
            let matched = match (&l, r) {
                (Val::Null, _) | (_, Val::Null) => false,
                (Val::Str(s), Val::Str(p)) => match pattern {
                    Some(re) => re.is_match(s),
                    None => compile_pattern(op, p).map_err(|m| err(pos, m))?.is_match(s),
                },
                _ => return Err(mismatch("strings")),
            };
            matched != (op == BinaryOp::RegexNoMatch)
        }
        BinaryOp::In => match r {
            Val::Array(items) => l != Val::Null && items.iter().any(|e| equals(&l, e)),
            Val::Null => false,
            other => {
                return Err(err(
                    pos,
                    format!(
                        "'in' needs an array like ['a', 'b'] on its right, got {}",
                        other.type_name()
                    ),
                ))
            }
        },
        BinaryOp::And | BinaryOp::Or => {
            let (a, c) = (truth(&l, name, pos)?, truth(r, name, pos)?);
            if op == BinaryOp::And {
                a && c
            } else {
                a || c
            }
        }
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
            return match (&l, r) {
                (Val::Null, _) | (_, Val::Null) => Ok(Val::Null),
                (Val::Num(a), Val::Num(b)) => arithmetic(op, *a, *b, pos).map(Val::Num),
                _ => Err(mismatch("numbers")),
            };
        }
    };
    Ok(Val::Bool(b))
}

fn arithmetic(op: BinaryOp, a: f64, b: f64, pos: usize) -> Result<f64, QueryError> {
    Ok(match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div if b == 0.0 => return Err(err(pos, "division by zero")),
        BinaryOp::Div => a / b,
        _ => {
            let (x, y) = (a.trunc() as i64, b.trunc() as i64);
            if y == 0 {
                return Err(err(
                    pos,
                    "'%' by zero (both sides are truncated to integers)",
                ));
            }
            x.wrapping_rem(y) as f64
        }
    })
}

fn between(value: Val, low: &Val, high: &Val, pos: usize) -> Result<Val, QueryError> {
    if let Val::Array(items) = value {
        return Ok(Val::Array(
            items
                .into_iter()
                .map(|e| between(e, low, high, pos))
                .collect::<Result<_, _>>()?,
        ));
    }
    if value == Val::Null || *low == Val::Null || *high == Val::Null {
        return Ok(Val::Bool(false));
    }
    match (order(&value, low), order(&value, high)) {
        (Some(lo), Some(hi)) => Ok(Val::Bool(lo != Ordering::Less && hi != Ordering::Greater)),
        _ => Err(err(
            pos,
            format!(
                "'between' needs numbers, dates or strings on both sides, got {} between {} and {}",
                value.type_name(),
                low.type_name(),
                high.type_name()
            ),
        )),
    }
}

/// A number as JSON: an integer when it is one.
fn number_json(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        Value::from(n as i64)
    } else {
        Value::from(n)
    }
}

/// A select column's value for an item: the path's value, reduced like
/// kubectl-mtv's `reducer.go` (reducers leave non-arrays as they are; `sum`
/// skips non-numbers).
pub(super) fn select_value(column: &SelectItem, item: &Value) -> Value {
    let value = column.path.resolve(item);
    let (Some(reducer), Value::Array(items)) = (column.reducer, &value) else {
        return value;
    };
    match reducer {
        Reducer::Sum => number_json(items.iter().filter_map(Value::as_f64).sum()),
        Reducer::Len => Value::from(items.len()),
        Reducer::Any => Value::Bool(items.iter().any(|v| *v == Value::Bool(true))),
        Reducer::All => {
            Value::Bool(!items.is_empty() && items.iter().all(|v| *v == Value::Bool(true)))
        }
    }
}

/// Sort order of two order-by values (kubectl-mtv `sort.go`): strings that
/// hold a number sort as that number; null sorts first; numbers, strings and
/// booleans compare among themselves; anything else by its JSON text.
pub(super) fn sort_cmp(a: &Value, b: &Value) -> Ordering {
    fn numeric(v: &Value) -> Option<f64> {
        match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok().filter(|n: &f64| n.is_finite()),
            _ => None,
        }
    }
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        _ => match (numeric(a), numeric(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => match (a, b) {
                (Value::String(x), Value::String(y)) => x.cmp(y),
                (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
                _ => a.to_string().cmp(&b.to_string()),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::error::ErrorKind;
    use super::super::parser::parse_expr;
    use super::*;
    use serde_json::json;

    fn item() -> Value {
        json!({
            "name": "web-01",
            "powerState": "poweredOn",
            "memoryMB": 8192,
            "cpuCount": 4,
            "ratio": 0.5,
            "isTemplate": false,
            "created": "2025-06-02T09:14:05Z",
            "day": "2025-06-02",
            "disks": [{"capacity": 40}, {"capacity": 60}],
            "tags": ["a", "b"],
            "flags": [true, true],
            "mixed": [true, false],
            "none": [],
            "nothing": null,
            "parent": {"kind": "Folder", "id": "group-v1"}
        })
    }

    fn ev(text: &str) -> Result<Val, QueryError> {
        eval(&parse_expr(text).unwrap(), &item())
    }

    fn val(text: &str) -> Val {
        ev(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn yes(text: &str) {
        assert_eq!(val(text), Val::Bool(true), "{text}");
    }

    fn no(text: &str) {
        assert_eq!(val(text), Val::Bool(false), "{text}");
    }

    fn fails(text: &str, at: usize, message: &str) {
        let e = ev(text).expect_err(text);
        assert_eq!(e.kind, ErrorKind::Evaluation, "{text}");
        assert_eq!(e.position, at, "{text}: {e}");
        assert!(e.message.contains(message), "{text}: {e}");
    }

    fn bools(list: &[bool]) -> Val {
        Val::Array(list.iter().map(|b| Val::Bool(*b)).collect())
    }

    #[test]
    fn equality_and_ordering() {
        yes("name = 'web-01'");
        yes("name == \"web-01\"");
        no("name = 'web-02'");
        yes("name != 'web-02'");
        yes("name <> 'x'");
        yes("memoryMB = 8192");
        yes("memoryMB = 8Ki");
        yes("memoryMB > 8191 and memoryMB >= 8192 and memoryMB < 8193 and memoryMB <= 8192");
        no("memoryMB > 8192");
        no("memoryMB < 8192");
        yes("ratio = 0.5");
        yes("isTemplate = false");
        no("isTemplate = true");
        yes("name > 'a' and name < 'x' and name >= 'web-01' and name <= 'web-01'");
        // Numbers never equal strings.
        no("memoryMB = '8192'");
        yes("parent = parent");
        yes("disks[0] = disks[0]");
        no("disks[0] = disks[1]");
    }

    #[test]
    fn ordering_mismatch_is_an_error_at_the_operator() {
        fails(
            "memoryMB > 'big'",
            9,
            "'>' needs two numbers, two dates or two strings, got a number and a string",
        );
        fails("isTemplate < true", 11, "got a boolean and a boolean");
        fails("name between 1 and 2", 5, "'between' needs");
    }

    #[test]
    fn regex_and_like() {
        yes("name ~= '^web-\\d+$'");
        yes("name ~= 'eb'");
        no("name ~= '^eb'");
        yes("name ~! '^db'");
        no("name ~! 'web'");
        yes("name like 'web-%'");
        yes("name like 'web-0_'");
        no("name like 'web'");
        no("name like 'WEB-%'");
        yes("name ilike 'WEB-%'");
        yes("name not like 'db%'");
        no("name not ilike 'W%'");
        // `.` and other regex characters are literal in like patterns.
        no("name like 'web.01'");
        yes("'a.b' like 'a.b'");
        // A pattern from a field is compiled at evaluation time.
        yes("name ~= name");
        no("powerState ~= tags[1]");
        fails("memoryMB like '8%'", 9, "'like' needs strings");
        fails("name ~= tags[0] + '('", 16, "'+' needs numbers");
    }

    #[test]
    fn in_and_between() {
        yes("name in ['db', 'web-01']");
        no("name in ['db', 'web']");
        yes("name not in ['db']");
        yes("cpuCount in [1, 2, 4]");
        no("cpuCount in ['4']");
        no("name in []");
        yes("'a' in tags");
        yes("cpuCount between 4 and 8");
        yes("cpuCount between 1 and 4");
        no("cpuCount between 5 and 8");
        yes("cpuCount not between 5 and 8");
        yes("name between 'a' and 'x'");
        yes("created between 2025-01-01 and 2025-12-31");
        fails("name in 'web-01'", 5, "'in' needs an array");
    }

    #[test]
    fn arithmetic() {
        assert_eq!(val("memoryMB / 1024"), Val::Num(8.0));
        assert_eq!(val("1 + 2 * 3 - 4"), Val::Num(3.0));
        assert_eq!(val("(1 + 2) * 3"), Val::Num(9.0));
        assert_eq!(val("7 % 3"), Val::Num(1.0));
        assert_eq!(val("7.9 % 3.2"), Val::Num(1.0));
        assert_eq!(val("-cpuCount"), Val::Num(-4.0));
        assert_eq!(val("--cpuCount"), Val::Num(4.0));
        yes("memoryMB / 1024 > cpuCount");
        fails("cpuCount / 0", 9, "division by zero");
        fails("cpuCount % 0.5", 9, "by zero");
        fails(
            "name + 1",
            5,
            "'+' needs numbers, got a string and a number",
        );
        fails("-name", 0, "'-' needs a number, got a string");
    }

    #[test]
    fn logic() {
        yes("true and true");
        no("true and false");
        yes("false or true");
        no("false or false");
        yes("not false");
        no("not (memoryMB = 8192)");
        yes("not isTemplate");
        // `not` binds tighter than `=`: (not isTemplate) = true.
        yes("not isTemplate = true");
        fails(
            "name and true",
            5,
            "'and' needs true or false, got a string",
        );
        fails("not name", 0, "'not' needs true or false");
        // Short-circuit: the right side is not evaluated.
        no("false and name > 1");
        yes("true or name > 1");
    }

    #[test]
    fn arrays_map_element_wise() {
        assert_eq!(
            val("disks[*].capacity"),
            Val::Array(vec![Val::Num(40.0), Val::Num(60.0)])
        );
        assert_eq!(val("disks[*].capacity > 50"), bools(&[false, true]));
        assert_eq!(
            val("disks[*].capacity * 2"),
            Val::Array(vec![Val::Num(80.0), Val::Num(120.0)])
        );
        assert_eq!(val("tags = 'a'"), bools(&[true, false]));
        assert_eq!(val("tags in ['b']"), bools(&[false, true]));
        assert_eq!(val("tags like '%'"), bools(&[true, true]));
        assert_eq!(
            val("disks[*].capacity between 50 and 70"),
            bools(&[false, true])
        );
        assert_eq!(val("not mixed"), bools(&[false, true]));
        assert_eq!(val("mixed and true"), bools(&[true, false]));
        assert_eq!(
            val("[1, 2] + 1"),
            Val::Array(vec![Val::Num(2.0), Val::Num(3.0)])
        );
        assert_eq!(
            val("-[1, 2]"),
            Val::Array(vec![Val::Num(-1.0), Val::Num(-2.0)])
        );
        // Only the left side maps: a scalar against an array is plain equality.
        no("'a' = tags");
    }

    #[test]
    fn reducers() {
        yes("any(disks[*].capacity > 50)");
        no("all(disks[*].capacity > 50)");
        yes("all(disks[*].capacity > 10)");
        yes("all(flags)");
        no("all(mixed)");
        yes("any(mixed)");
        no("any(none)");
        no("all(none)"); // all([]) is false, as upstream
        no("all([])");
        assert_eq!(val("len(disks)"), Val::Num(2.0));
        assert_eq!(val("len(none)"), Val::Num(0.0));
        assert_eq!(val("len([1, 2, 3])"), Val::Num(3.0));
        assert_eq!(val("len(name)"), Val::Num(6.0));
        assert_eq!(val("len(parent)"), Val::Num(2.0));
        assert_eq!(val("sum(disks[*].capacity)"), Val::Num(100.0));
        assert_eq!(val("sum(none)"), Val::Num(0.0));
        assert_eq!(val("sum([1, 2.5])"), Val::Num(3.5));
        assert_eq!(val("sum(cpuCount)"), Val::Num(4.0));
        assert_eq!(val("len disks + 1"), Val::Num(3.0));
        // Nested: count of disks over 50.
        assert_eq!(val("len(disks[*].capacity) - 1"), Val::Num(1.0));
        fails("sum(tags)", 0, "'sum' needs numbers, got a string");
        fails("len(cpuCount)", 0, "'len' needs an array, got a number");
        fails("any(name)", 0, "'any' needs an array of true/false values");
    }

    #[test]
    fn null_handling() {
        // Missing fields and JSON null are null.
        yes("missing is null");
        yes("nothing is null");
        no("name is null");
        yes("name is not null");
        yes("none is not null"); // an empty array is a value
        yes("missing = null");
        no("missing = 'x'");
        yes("missing != 'x'");
        no("missing > 1");
        no("missing < 1");
        no("missing like '%'");
        no("missing ~= ''");
        yes("missing ~! 'x'");
        no("missing in [1]");
        no("missing between 1 and 2");
        no("cpuCount > missing");
        assert_eq!(val("missing + 1"), Val::Null);
        assert_eq!(val("-missing"), Val::Null);
        no("missing + 1 > 0");
        assert_eq!(val("len(missing)"), Val::Num(0.0));
        assert_eq!(val("sum(missing)"), Val::Num(0.0));
        no("any(missing)");
        no("all(missing)");
        no("missing and true");
        yes("missing or true");
        yes("not missing");
        assert_eq!(val("parent.missing.deeper"), Val::Null);
        assert_eq!(val("disks[*].missing"), Val::Array(vec![]));
        no("any(missing[*].category = 'Critical')");
    }

    #[test]
    fn dates_compare_as_times() {
        yes("created > 2025-01-01");
        yes("created < 2025-06-03");
        yes("created = 2025-06-02T09:14:05Z");
        yes("created = 2025-06-02T11:14:05+02:00");
        yes("created = '2025-06-02T11:14:05+02:00'");
        yes("created >= '2025-06-02'");
        no("created < '2025-06-02'");
        yes("day = 2025-06-02");
        yes("day = '2025-06-02T00:00:00Z'");
        yes("day < created");
        yes("created like '2025-06-%'");
        no("name = 2025-06-02");
        fails("name < 2025-06-02", 5, "got a string and a date");
        fails("cpuCount < 2025-06-02", 9, "got a number and a date");
    }

    #[test]
    fn filter_needs_a_boolean() {
        let f = |text: &str| filter(&parse_expr(text).unwrap(), &item());
        assert_eq!(f("cpuCount = 4"), Ok(true));
        assert_eq!(f("missing"), Ok(false));
        let e = f("disks[*].capacity > 50").unwrap_err();
        assert!(
            e.message.contains("wrap the condition in any(…) or all(…)"),
            "{e}"
        );
        assert_eq!(e.position, 18);
        let e = f("cpuCount + 1").unwrap_err();
        assert!(e.message.contains("gives a number"), "{e}");
    }

    #[test]
    fn select_reducers_follow_kubectl_mtv() {
        let col = |path: &str, reducer| SelectItem {
            path: super::super::path::Path::new(path),
            reducer,
            alias: None,
        };
        let it = item();
        assert_eq!(
            select_value(&col("disks[*].capacity", Some(Reducer::Sum)), &it),
            json!(100)
        );
        assert_eq!(
            select_value(&col("tags", Some(Reducer::Sum)), &it),
            json!(0)
        );
        assert_eq!(
            select_value(&col("tags", Some(Reducer::Len)), &it),
            json!(2)
        );
        assert_eq!(
            select_value(&col("mixed", Some(Reducer::Any)), &it),
            json!(true)
        );
        assert_eq!(
            select_value(&col("mixed", Some(Reducer::All)), &it),
            json!(false)
        );
        assert_eq!(
            select_value(&col("none", Some(Reducer::All)), &it),
            json!(false)
        );
        // Reducers leave non-arrays alone.
        assert_eq!(
            select_value(&col("name", Some(Reducer::Len)), &it),
            json!("web-01")
        );
        assert_eq!(
            select_value(&col("ratio", Some(Reducer::Sum)), &it),
            json!(0.5)
        );
        assert_eq!(select_value(&col("missing", None), &it), Value::Null);
    }

    #[test]
    fn sort_order() {
        use std::cmp::Ordering::*;
        assert_eq!(sort_cmp(&json!(null), &json!(0)), Less);
        assert_eq!(sort_cmp(&json!(0), &json!(null)), Greater);
        assert_eq!(sort_cmp(&json!(2), &json!(10)), Less);
        assert_eq!(sort_cmp(&json!("2"), &json!("10")), Less);
        assert_eq!(sort_cmp(&json!("2"), &json!(10)), Less);
        assert_eq!(sort_cmp(&json!("b"), &json!("a")), Greater);
        assert_eq!(sort_cmp(&json!(false), &json!(true)), Less);
        assert_eq!(sort_cmp(&json!("x"), &json!("x")), Equal);
    }

    #[test]
    fn like_patterns_compile_to_anchored_regexes() {
        let re = compile_pattern(BinaryOp::Like, "a%b_c").unwrap();
        assert!(re.is_match("a-anything-bXc"));
        assert!(re.is_match("ab.c"));
        assert!(!re.is_match("xa-bXc"));
        assert!(re.is_match("a\nbXc"));
        let re = compile_pattern(BinaryOp::ILike, "A(1)+").unwrap();
        assert!(re.is_match("a(1)+"));
        let e = compile_pattern(BinaryOp::RegexMatch, "a[").unwrap_err();
        assert!(e.starts_with("invalid regular expression 'a['"), "{e}");
    }
}
