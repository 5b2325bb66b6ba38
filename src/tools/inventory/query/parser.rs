//! The query grammar, written with `winnow` combinators over the query text.
//!
//! ```text
//! query      := [select items] [where expr] [(order|sort) by keys] [limit N]
//!             | expr …                       (no leading keyword: `where` implied)
//! items      := item ("," item)*      item := (sum|len|any|all) "(" field ")" [as alias]
//!                                           | field [as alias]
//! keys       := key ("," key)*        key  := (reducer "(" field ")" | field) [asc|desc]
//! expr       := and ("or" and)*
//! and        := cmp ("and" cmp)*
//! cmp        := add ( ("="|"=="|"!="|"<>"|"<"|"<="|">"|">="|"~="|"~!") add
//!                   | [not] (like|ilike|in) add | [not] between add "and" add
//!                   | is [not] null )*
//! add        := mul (("+"|"-") mul)*
//! mul        := prefix (("*"|"/"|"%") prefix)*
//! prefix     := (not|len|any|all|sum) prefix | unary
//! unary      := ("-"|"+") unary | "(" expr ")" | "[" [expr ("," expr)* [","]] "]" | primary
//! primary    := number[k|M|G|T|P|Ki|Mi|Gi|Ti|Pi] | YYYY-MM-DD | RFC3339
//!             | '…' | "…" | `…` | true | false | null | identifier
//! ```
//!
//! This follows tree-search-language v6 (`parser.y`, `lexer.go`): keywords
//! are case-insensitive, identifiers are a letter or `_` followed by letters,
//! digits, `_`, `.`, `/` and `[…]` segments. Every syntax error is a cut with
//! the byte position of the problem and what was expected there.

use winnow::combinator::{alt, not, opt, peek, preceded, repeat};
use winnow::error::{ErrMode, ParserError};
use winnow::prelude::*;
use winnow::stream::{LocatingSlice, Location, Stream};
use winnow::token::{any, one_of, take_till, take_while};

use super::ast::{BinaryOp, Expr, ExprKind, Literal, OrderKey, Reducer, SelectItem, UnaryOp};
use super::datetime;
use super::error::QueryError;
use super::eval::compile_pattern;
use super::path::Path;
use super::Query;

type Input<'a> = LocatingSlice<&'a str>;
type PResult<T> = winnow::ModalResult<T, SyntaxErr>;

/// The parser's error: a position and, for cuts, what was expected there.
#[derive(Debug, Clone)]
struct SyntaxErr {
    pos: usize,
    message: Option<String>,
}

impl<'a> ParserError<Input<'a>> for SyntaxErr {
    type Inner = Self;

    fn from_input(input: &Input<'a>) -> Self {
        SyntaxErr {
            pos: input.current_token_start(),
            message: None,
        }
    }

    fn or(self, other: Self) -> Self {
        match (&self.message, &other.message) {
            (Some(_), None) => self,
            (None, Some(_)) => other,
            _ if self.pos > other.pos => self,
            _ => other,
        }
    }

    fn into_inner(self) -> Result<Self, Self> {
        Ok(self)
    }
}

/// An unrecoverable syntax error at `pos`.
fn cut<T>(pos: usize, message: impl Into<String>) -> PResult<T> {
    Err(ErrMode::Cut(SyntaxErr {
        pos,
        message: Some(message.into()),
    }))
}

fn pos(i: &Input<'_>) -> usize {
    i.current_token_start()
}

fn ws(i: &mut Input<'_>) -> PResult<()> {
    take_while(0.., char::is_whitespace).void().parse_next(i)
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '/')
}

/// What is at the current position, for "unexpected …" messages.
fn found(i: &Input<'_>) -> String {
    let rest: &str = i;
    match rest.chars().next() {
        None => "the end of the query".to_string(),
        Some(c) if c.is_alphanumeric() || c == '_' => {
            let word: String = rest.chars().take_while(|&c| is_ident_char(c)).collect();
            format!("'{word}'")
        }
        Some(c) => format!("'{c}'"),
    }
}

/// A case-insensitive keyword as a whole word; yields its position.
fn kw<'a>(word: &'static str) -> impl Parser<Input<'a>, usize, ErrMode<SyntaxErr>> {
    move |i: &mut Input<'a>| {
        ws(i)?;
        let start = pos(i);
        take_while(1.., |c: char| c.is_alphanumeric() || c == '_')
            .verify(|w: &str| w.eq_ignore_ascii_case(word))
            .void()
            .parse_next(i)?;
        not(one_of(is_ident_char)).parse_next(i)?;
        Ok(start)
    }
}

/// A punctuation token; yields its position.
fn sym<'a>(text: &'static str) -> impl Parser<Input<'a>, usize, ErrMode<SyntaxErr>> {
    move |i: &mut Input<'a>| {
        ws(i)?;
        let start = pos(i);
        text.void().parse_next(i)?;
        Ok(start)
    }
}

/// Runs `level` for an operand that must be there, turning "nothing here"
/// into `expected {what} after {after}` at the operand's position.
fn required<'a>(
    i: &mut Input<'a>,
    level: fn(&mut Input<'a>) -> PResult<Expr>,
    what: &str,
    after: &str,
) -> PResult<Expr> {
    ws(i)?;
    let start = i.checkpoint();
    let at = pos(i);
    match level(i) {
        Err(ErrMode::Backtrack(_)) => {
            i.reset(&start);
            let found = found(i);
            cut(at, format!("expected {what} after {after}, found {found}"))
        }
        other => other,
    }
}

// ---------------------------------------------------------------- identifiers

/// Identifier text: letter or `_`, then letters, digits, `_`, `.`, `/` and
/// `[…]` segments.
fn ident_text<'a>(i: &mut Input<'a>) -> PResult<&'a str> {
    (
        one_of(|c: char| c.is_alphabetic() || c == '_'),
        repeat::<_, _, (), _, _>(
            0..,
            alt((take_while(1.., is_ident_char).void(), bracket_segment)),
        ),
    )
        .take()
        .parse_next(i)
}

fn bracket_segment(i: &mut Input<'_>) -> PResult<()> {
    let open = pos(i);
    '['.parse_next(i)?;
    take_till(0.., ']').void().parse_next(i)?;
    if opt(']').parse_next(i)?.is_none() {
        return cut(open, "unterminated '[' in field name");
    }
    Ok(())
}

const TSL_KEYWORDS: &[&str] = &[
    "like", "ilike", "and", "or", "between", "in", "is", "null", "not", "true", "false", "len",
    "any", "all", "sum",
];

/// Whether `word`, followed by `rest`, starts a clause (`select`, `where`,
/// `limit`, `order by`, `sort by`).
fn is_clause_word(word: &str, rest: &str) -> bool {
    let w = word.to_ascii_lowercase();
    match w.as_str() {
        "select" | "where" | "limit" => true,
        "order" | "sort" => {
            let after = rest.trim_start();
            after.len() < rest.len()
                && after.get(..2).is_some_and(|b| b.eq_ignore_ascii_case("by"))
                && !after[2..].starts_with(is_ident_char)
        }
        _ => false,
    }
}

/// A field path in the where clause (not a keyword).
fn field<'a>(i: &mut Input<'a>) -> PResult<Expr> {
    let start = i.checkpoint();
    let at = pos(i);
    let text = ident_text(i)?;
    let lower = text.to_ascii_lowercase();
    if TSL_KEYWORDS.contains(&lower.as_str()) || is_clause_word(text, i) {
        i.reset(&start);
        return Err(ErrMode::from_input(i));
    }
    Ok(Expr::new(ExprKind::Field(Path::new(text)), at))
}

// ------------------------------------------------------------------- literals

fn string_lit(i: &mut Input<'_>) -> PResult<String> {
    let open = pos(i);
    let quote = one_of(['\'', '"', '`']).parse_next(i)?;
    let body: String = repeat::<_, _, (), _, _>(
        0..,
        alt((
            take_till(1.., move |c: char| c == quote || c == '\\').map(str::to_string),
            preceded('\\', any).map(|c: char| match c {
                'n' => "\n".to_string(),
                't' => "\t".to_string(),
                'r' => "\r".to_string(),
                'b' => "\u{8}".to_string(),
                'f' => "\u{c}".to_string(),
                '\\' | '\'' | '"' | '`' => c.to_string(),
                // Unknown escapes stay as written, so `'\d+'` is a regex digit class.
                other => format!("\\{other}"),
            }),
        )),
    )
    .fold(String::new, |mut acc, part: String| {
        acc.push_str(&part);
        acc
    })
    .parse_next(i)?;
    if opt(quote).parse_next(i)?.is_none() {
        return cut(open, format!("unterminated string: no closing {quote}"));
    }
    Ok(body)
}

fn digits<'a>(i: &mut Input<'a>) -> PResult<&'a str> {
    take_while(1.., |c: char| c.is_ascii_digit()).parse_next(i)
}

/// `YYYY-MM-DD` or an RFC 3339 timestamp, checked to be a real date.
fn time_lit(i: &mut Input<'_>) -> PResult<Literal> {
    let at = pos(i);
    let date = (
        take_while(4, |c: char| c.is_ascii_digit()),
        '-',
        take_while(2, |c: char| c.is_ascii_digit()),
        '-',
        take_while(2, |c: char| c.is_ascii_digit()),
    )
        .take()
        .parse_next(i)?;
    let text = if peek(opt('T')).parse_next(i)?.is_some() {
        let time = take_while(1.., |c: char| {
            c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '+' | '-')
        })
        .parse_next(i)?;
        format!("{date}{time}")
    } else {
        date.to_string()
    };
    if opt(peek(one_of(is_ident_char))).parse_next(i)?.is_some() {
        return cut(at, format!("invalid date or timestamp starting '{text}'"));
    }
    match datetime::parse(&text) {
        Some(ts) => Ok(Literal::Time(ts, text)),
        None => cut(
            at,
            format!("invalid date or timestamp '{text}' (expected YYYY-MM-DD or RFC 3339 like 2024-01-31T10:00:00Z)"),
        ),
    }
}

/// A number with an optional size suffix: k M G T P (powers of 1000) or
/// Ki Mi Gi Ti Pi (powers of 1024), letters in either case as upstream.
fn number_lit(i: &mut Input<'_>) -> PResult<Literal> {
    let at = pos(i);
    let ((mantissa, suffix), written) = (
        (
            digits,
            opt(('.', digits)),
            opt((one_of(['e', 'E']), opt(one_of(['+', '-'])), digits)),
        )
            .take(),
        opt((
            one_of(['k', 'K', 'm', 'M', 'g', 'G', 't', 'T', 'p', 'P']),
            opt(one_of(['i', 'I'])),
        )),
    )
        .with_taken()
        .parse_next(i)?;
    if opt(peek(one_of(is_ident_char))).parse_next(i)?.is_some() {
        let rest: &str = i;
        let tail: String = rest.chars().take_while(|&c| is_ident_char(c)).collect();
        return cut(
            at,
            format!(
                "invalid number '{written}{tail}' (size suffixes are k M G T P and Ki Mi Gi Ti Pi)"
            ),
        );
    }
    let Ok(value) = mantissa.parse::<f64>() else {
        return cut(at, format!("invalid number '{written}'"));
    };
    let factor = match suffix {
        None => 1.0,
        Some((unit, binary)) => {
            let power = match unit.to_ascii_lowercase() {
                'k' => 1,
                'm' => 2,
                'g' => 3,
                't' => 4,
                _ => 5,
            };
            let base: f64 = if binary.is_some() { 1024.0 } else { 1000.0 };
            base.powi(power)
        }
    };
    Ok(Literal::Number(value * factor))
}

fn primary(i: &mut Input<'_>) -> PResult<Expr> {
    ws(i)?;
    let at = pos(i);
    let lit = alt((
        time_lit,
        number_lit,
        string_lit.map(Literal::String),
        kw("true").value(Literal::Bool(true)),
        kw("false").value(Literal::Bool(false)),
        kw("null").value(Literal::Null),
    ));
    alt((lit.map(move |l| Expr::new(ExprKind::Literal(l), at)), field)).parse_next(i)
}

// ---------------------------------------------------------------- expressions

fn unary(i: &mut Input<'_>) -> PResult<Expr> {
    ws(i)?;
    let at = pos(i);
    if opt(sym("-")).parse_next(i)?.is_some() {
        let operand = required(i, unary, "a value", "'-'")?;
        return Ok(Expr::new(
            ExprKind::Unary {
                op: UnaryOp::Neg,
                operand: Box::new(operand),
            },
            at,
        ));
    }
    if opt(sym("+")).parse_next(i)?.is_some() {
        return required(i, unary, "a value", "'+'");
    }
    if opt(sym("(")).parse_next(i)?.is_some() {
        let inner = required(i, or_expr, "an expression", "'('")?;
        if opt(sym(")")).parse_next(i)?.is_none() {
            ws(i)?;
            let found = found(i);
            return cut(
                pos(i),
                format!("expected ')' to close the '(' at position {at}, found {found}"),
            );
        }
        return Ok(inner);
    }
    if peek(opt(sym("["))).parse_next(i)?.is_some() {
        return array(i);
    }
    primary(i)
}

fn array(i: &mut Input<'_>) -> PResult<Expr> {
    let at = sym("[").parse_next(i)?;
    let mut items = Vec::new();
    loop {
        if opt(sym("]")).parse_next(i)?.is_some() {
            break;
        }
        let what = if items.is_empty() { "'['" } else { "','" };
        items.push(required(i, or_expr, "a value or ']'", what)?);
        if opt(sym(",")).parse_next(i)?.is_some() {
            continue;
        }
        if opt(sym("]")).parse_next(i)?.is_some() {
            break;
        }
        ws(i)?;
        let found = found(i);
        return cut(
            pos(i),
            format!("expected ',' or ']' in the array opened at position {at}, found {found}"),
        );
    }
    Ok(Expr::new(ExprKind::Array(items), at))
}

fn prefix(i: &mut Input<'_>) -> PResult<Expr> {
    ws(i)?;
    let at = pos(i);
    let op = opt(alt((
        kw("not").value(UnaryOp::Not),
        kw("len").value(UnaryOp::Len),
        kw("any").value(UnaryOp::Any),
        kw("all").value(UnaryOp::All),
        kw("sum").value(UnaryOp::Sum),
    )))
    .parse_next(i)?;
    match op {
        Some(op) => {
            let operand = required(i, prefix, "an operand", &format!("'{}'", op.symbol()))?;
            Ok(Expr::new(
                ExprKind::Unary {
                    op,
                    operand: Box::new(operand),
                },
                at,
            ))
        }
        None => unary(i),
    }
}

fn binary(op: BinaryOp, lhs: Expr, rhs: Expr, at: usize) -> PResult<Expr> {
    let pattern = match (&rhs.kind, op.is_pattern()) {
        (ExprKind::Literal(Literal::String(text)), true) => match compile_pattern(op, text) {
            Ok(re) => Some(re),
            Err(e) => return cut(rhs.pos, e),
        },
        _ => None,
    };
    Ok(Expr::new(
        ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
            pattern,
        },
        at,
    ))
}

fn negate(expr: Expr, at: usize) -> Expr {
    Expr::new(
        ExprKind::Unary {
            op: UnaryOp::Not,
            operand: Box::new(expr),
        },
        at,
    )
}

/// Left-associative levels: `operand (op operand)*`.
fn left_assoc<'a>(
    i: &mut Input<'a>,
    operand: fn(&mut Input<'a>) -> PResult<Expr>,
    ops: &mut impl Parser<Input<'a>, (usize, BinaryOp), ErrMode<SyntaxErr>>,
    what: &str,
) -> PResult<Expr> {
    let mut lhs = operand(i)?;
    while let Some((at, op)) = opt(ops.by_ref()).parse_next(i)? {
        let rhs = required(i, operand, what, &format!("'{}'", op.symbol()))?;
        lhs = binary(op, lhs, rhs, at)?;
    }
    Ok(lhs)
}

fn mul_expr(i: &mut Input<'_>) -> PResult<Expr> {
    let mut ops = alt((
        sym("*").map(|p| (p, BinaryOp::Mul)),
        sym("/").map(|p| (p, BinaryOp::Div)),
        sym("%").map(|p| (p, BinaryOp::Rem)),
    ));
    left_assoc(i, prefix, &mut ops, "a value")
}

fn add_expr(i: &mut Input<'_>) -> PResult<Expr> {
    let mut ops = alt((
        sym("+").map(|p| (p, BinaryOp::Add)),
        sym("-").map(|p| (p, BinaryOp::Sub)),
    ));
    left_assoc(i, mul_expr, &mut ops, "a value")
}

/// What follows the left operand of a comparison.
#[derive(Clone, Copy)]
enum Comparison {
    Binary(BinaryOp, &'static str),
    Like(BinaryOp, bool),
    In(bool),
    Between(bool),
    IsNull(bool),
}

fn comparison_op(i: &mut Input<'_>) -> PResult<(usize, Comparison)> {
    use Comparison as C;
    ws(i)?;
    let at = pos(i);
    let symbol = alt((
        "==".value(C::Binary(BinaryOp::Eq, "==")),
        "=".value(C::Binary(BinaryOp::Eq, "=")),
        "!=".value(C::Binary(BinaryOp::Ne, "!=")),
        "<>".value(C::Binary(BinaryOp::Ne, "<>")),
        "<=".value(C::Binary(BinaryOp::Le, "<=")),
        "<".value(C::Binary(BinaryOp::Lt, "<")),
        ">=".value(C::Binary(BinaryOp::Ge, ">=")),
        ">".value(C::Binary(BinaryOp::Gt, ">")),
        "~=".value(C::Binary(BinaryOp::RegexMatch, "~=")),
        "~!".value(C::Binary(BinaryOp::RegexNoMatch, "~!")),
    ));
    let word = alt((
        kw("like").value(C::Like(BinaryOp::Like, false)),
        kw("ilike").value(C::Like(BinaryOp::ILike, false)),
        kw("in").value(C::In(false)),
        kw("between").value(C::Between(false)),
    ));
    let op = alt((symbol, word, is_null, not_op)).parse_next(i)?;
    Ok((at, op))
}

fn is_null(i: &mut Input<'_>) -> PResult<Comparison> {
    kw("is").parse_next(i)?;
    let negated = opt(kw("not")).parse_next(i)?.is_some();
    if opt(kw("null")).parse_next(i)?.is_none() {
        ws(i)?;
        let found = found(i);
        let what = if negated { "'is not'" } else { "'is'" };
        return cut(
            pos(i),
            format!("expected 'null' after {what}, found {found}"),
        );
    }
    Ok(Comparison::IsNull(negated))
}

fn not_op(i: &mut Input<'_>) -> PResult<Comparison> {
    kw("not").parse_next(i)?;
    let op = opt(alt((
        kw("like").value(Comparison::Like(BinaryOp::Like, true)),
        kw("ilike").value(Comparison::Like(BinaryOp::ILike, true)),
        kw("in").value(Comparison::In(true)),
        kw("between").value(Comparison::Between(true)),
    )))
    .parse_next(i)?;
    match op {
        Some(op) => Ok(op),
        None => {
            ws(i)?;
            let found = found(i);
            cut(
                pos(i),
                format!(
                    "expected 'like', 'ilike', 'in' or 'between' after 'not', found {found} \
                     (to negate a condition write not (…))"
                ),
            )
        }
    }
}

fn cmp_expr(i: &mut Input<'_>) -> PResult<Expr> {
    let mut lhs = add_expr(i)?;
    while let Some((at, op)) = opt(comparison_op).parse_next(i)? {
        lhs = match op {
            Comparison::Binary(op, text) => {
                let rhs = required(i, add_expr, "a value", &format!("'{text}'"))?;
                binary(op, lhs, rhs, at)?
            }
            Comparison::Like(op, negated) => {
                let name = if negated {
                    format!("'not {}'", op.symbol())
                } else {
                    format!("'{}'", op.symbol())
                };
                let rhs = required(i, add_expr, "a pattern", &name)?;
                let e = binary(op, lhs, rhs, at)?;
                if negated {
                    negate(e, at)
                } else {
                    e
                }
            }
            Comparison::In(negated) => {
                let name = if negated { "'not in'" } else { "'in'" };
                let rhs = required(i, add_expr, "an array like ['a', 'b']", name)?;
                let e = binary(BinaryOp::In, lhs, rhs, at)?;
                if negated {
                    negate(e, at)
                } else {
                    e
                }
            }
            Comparison::Between(negated) => {
                let name = if negated {
                    "'not between'"
                } else {
                    "'between'"
                };
                let low = required(i, add_expr, "a lower bound", name)?;
                if opt(kw("and")).parse_next(i)?.is_none() {
                    ws(i)?;
                    let found = found(i);
                    return cut(
                        pos(i),
                        format!("expected 'and' after the lower bound of {name}, found {found}"),
                    );
                }
                let high = required(i, add_expr, "an upper bound", &format!("{name} … 'and'"))?;
                let e = Expr::new(
                    ExprKind::Between {
                        value: Box::new(lhs),
                        low: Box::new(low),
                        high: Box::new(high),
                    },
                    at,
                );
                if negated {
                    negate(e, at)
                } else {
                    e
                }
            }
            Comparison::IsNull(negated) => {
                let e = Expr::new(ExprKind::IsNull(Box::new(lhs)), at);
                if negated {
                    negate(e, at)
                } else {
                    e
                }
            }
        };
    }
    Ok(lhs)
}

fn and_expr(i: &mut Input<'_>) -> PResult<Expr> {
    let mut ops = kw("and").map(|p| (p, BinaryOp::And));
    left_assoc(i, cmp_expr, &mut ops, "a condition")
}

fn or_expr(i: &mut Input<'_>) -> PResult<Expr> {
    let mut ops = kw("or").map(|p| (p, BinaryOp::Or));
    left_assoc(i, and_expr, &mut ops, "a condition")
}

// -------------------------------------------------------------------- clauses

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clause {
    Select,
    Where,
    OrderBy,
    SortBy,
    Limit,
}

impl Clause {
    fn name(self) -> &'static str {
        match self {
            Clause::Select => "select",
            Clause::Where => "where",
            Clause::OrderBy => "order by",
            Clause::SortBy => "sort by",
            Clause::Limit => "limit",
        }
    }

    fn rank(self) -> u8 {
        match self {
            Clause::Select => 1,
            Clause::Where => 2,
            Clause::OrderBy | Clause::SortBy => 3,
            Clause::Limit => 4,
        }
    }
}

fn clause_keyword(i: &mut Input<'_>) -> PResult<(usize, Clause)> {
    alt((
        kw("select").map(|p| (p, Clause::Select)),
        kw("where").map(|p| (p, Clause::Where)),
        (kw("order"), kw("by")).map(|(p, _)| (p, Clause::OrderBy)),
        (kw("sort"), kw("by")).map(|(p, _)| (p, Clause::SortBy)),
        kw("limit").map(|p| (p, Clause::Limit)),
    ))
    .parse_next(i)
}

fn reducer(i: &mut Input<'_>) -> PResult<Reducer> {
    alt((
        kw("sum").value(Reducer::Sum),
        kw("len").value(Reducer::Len),
        kw("any").value(Reducer::Any),
        kw("all").value(Reducer::All),
    ))
    .parse_next(i)
}

/// A select or order-by field: an identifier, optionally with a leading `.`.
fn field_path(i: &mut Input<'_>) -> PResult<Path> {
    ws(i)?;
    let start = i.checkpoint();
    let text = (opt('.'), ident_text).take().parse_next(i)?;
    let bare = text.trim_start_matches('.');
    if is_clause_word(bare, i) || bare.eq_ignore_ascii_case("as") {
        i.reset(&start);
        return Err(ErrMode::from_input(i));
    }
    Ok(Path::new(text))
}

/// `field` or `reducer(field)`.
fn column(i: &mut Input<'_>) -> PResult<(Option<Reducer>, Path)> {
    let reduced = opt((reducer, sym("("))).parse_next(i)?;
    match reduced {
        Some((r, open)) => {
            ws(i)?;
            let at = pos(i);
            let Some(path) = opt(field_path).parse_next(i)? else {
                let found = found(i);
                return cut(
                    at,
                    format!("expected a field name after '{}(', found {found}", r.name()),
                );
            };
            if opt(sym(")")).parse_next(i)?.is_none() {
                ws(i)?;
                let found = found(i);
                return cut(
                    pos(i),
                    format!("expected ')' to close the '(' at position {open}, found {found}"),
                );
            }
            Ok((Some(r), path))
        }
        None => field_path.map(|p| (None, p)).parse_next(i),
    }
}

fn select_item(i: &mut Input<'_>) -> PResult<SelectItem> {
    let (reducer, path) = column(i)?;
    let alias = match opt(kw("as")).parse_next(i)? {
        None => None,
        Some(_) => {
            ws(i)?;
            let at = pos(i);
            match opt(ident_text).parse_next(i)? {
                Some(a) if !is_clause_word(a, i) => Some(a.to_string()),
                _ => {
                    let found = found(i);
                    return cut(
                        at,
                        format!("expected an alias name after 'as', found {found}"),
                    );
                }
            }
        }
    };
    Ok(SelectItem {
        path,
        reducer,
        alias,
    })
}

/// Comma-separated items, each required after a comma.
fn list<'a, T>(
    i: &mut Input<'a>,
    item: fn(&mut Input<'a>) -> PResult<T>,
    what: &str,
    after: &str,
) -> PResult<Vec<T>> {
    let mut items = Vec::new();
    loop {
        ws(i)?;
        let at = pos(i);
        match item(i) {
            Ok(v) => items.push(v),
            Err(ErrMode::Backtrack(_)) => {
                let found = found(i);
                let after = if items.is_empty() { after } else { "','" };
                return cut(at, format!("expected {what} after {after}, found {found}"));
            }
            Err(e) => return Err(e),
        }
        if opt(sym(",")).parse_next(i)?.is_none() {
            return Ok(items);
        }
    }
}

fn order_key(i: &mut Input<'_>) -> PResult<(SelectItem, bool)> {
    let (reducer, path) = column(i)?;
    let descending = opt(alt((kw("asc").value(false), kw("desc").value(true))))
        .parse_next(i)?
        .unwrap_or(false);
    Ok((
        SelectItem {
            path,
            reducer,
            alias: None,
        },
        descending,
    ))
}

fn limit_value(i: &mut Input<'_>) -> PResult<usize> {
    ws(i)?;
    let at = pos(i);
    match opt(digits).parse_next(i)? {
        Some(d) if opt(peek(one_of(is_ident_char))).parse_next(i)?.is_none() => match d.parse() {
            Ok(n) => Ok(n),
            Err(_) => cut(at, format!("limit {d} is too large")),
        },
        _ => {
            let found = found(i);
            cut(
                at,
                format!("expected a whole number after 'limit', found {found}"),
            )
        }
    }
}

/// Replaces where-clause fields named like a select alias by that column.
fn resolve_aliases(expr: &mut Expr, select: &[SelectItem]) {
    match &mut expr.kind {
        ExprKind::Field(path) => {
            if let Some(item) = select
                .iter()
                .find(|s| s.alias.as_deref() == Some(path.as_str()))
            {
                expr.kind = ExprKind::Column(Box::new(item.clone()));
            }
        }
        ExprKind::Literal(_) | ExprKind::Column(_) => {}
        ExprKind::Array(items) => items.iter_mut().for_each(|e| resolve_aliases(e, select)),
        ExprKind::Unary { operand, .. } | ExprKind::IsNull(operand) => {
            resolve_aliases(operand, select)
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            resolve_aliases(lhs, select);
            resolve_aliases(rhs, select);
        }
        ExprKind::Between { value, low, high } => {
            resolve_aliases(value, select);
            resolve_aliases(low, select);
            resolve_aliases(high, select);
        }
    }
}

/// What may follow a clause's body, for the error when something else does.
fn expected_after(clause: Clause) -> &'static str {
    match clause {
        Clause::Select => "',', 'as', 'where', 'order by', 'limit' or the end of the query",
        Clause::Where => "an operator, 'and', 'or', 'order by', 'limit' or the end of the query",
        Clause::OrderBy | Clause::SortBy => "',', 'asc', 'desc', 'limit' or the end of the query",
        Clause::Limit => "the end of the query",
    }
}

/// The where clause's expression; `implicit` when the query has no keyword.
fn where_body(i: &mut Input<'_>, implicit: bool) -> PResult<Expr> {
    if peek(opt(clause_keyword)).parse_next(i)?.is_some() {
        ws(i)?;
        let found = found(i);
        return cut(
            pos(i),
            format!("expected a condition after 'where', found {found}"),
        );
    }
    if !implicit {
        return required(i, or_expr, "a condition", "'where'");
    }
    let at = pos(i);
    let start = i.checkpoint();
    match or_expr(i) {
        Err(ErrMode::Backtrack(_)) => {
            i.reset(&start);
            let found = found(i);
            cut(
                at,
                format!(
                    "expected a condition or a clause (select, where, order by, limit), \
                     found {found}"
                ),
            )
        }
        other => other,
    }
}

/// An order-by key naming a select alias sorts on that select column.
fn alias_column(key: SelectItem, select: &[SelectItem]) -> SelectItem {
    if key.reducer.is_some() {
        return key;
    }
    let name = key.path.as_str().trim_start_matches('.');
    select
        .iter()
        .find(|s| s.alias.as_deref() == Some(name))
        .cloned()
        .unwrap_or(key)
}

fn query(i: &mut Input<'_>) -> PResult<Query> {
    let mut q = Query::default();
    let mut seen: Vec<Clause> = Vec::new();
    loop {
        ws(i)?;
        if i.eof_offset() == 0 {
            return Ok(q);
        }
        let at = pos(i);
        let clause = match opt(clause_keyword).parse_next(i)? {
            Some((_, c)) => c,
            None if seen.is_empty() => Clause::Where, // bare filter: `where` implied
            None => {
                let found = found(i);
                return cut(at, format!("unexpected {found}: expected a clause keyword"));
            }
        };
        if let Some(prev) = seen.iter().find(|c| c.rank() >= clause.rank()) {
            let message = if *prev == clause {
                format!("duplicate '{}' clause", clause.name())
            } else if prev.rank() == clause.rank() {
                format!(
                    "'{}' repeats the '{}' clause; sort with one of them",
                    clause.name(),
                    prev.name()
                )
            } else {
                format!(
                    "'{}' must come before '{}' (clauses go in the order select, where, order by, limit)",
                    clause.name(),
                    prev.name()
                )
            };
            return cut(at, message);
        }
        seen.push(clause);
        let keyword = format!("'{}'", clause.name());
        match clause {
            Clause::Select => {
                q.select = list(i, select_item, "a field name", &keyword)?;
            }
            Clause::Where => {
                let implicit = at == pos(i);
                let mut filter = where_body(i, implicit)?;
                resolve_aliases(&mut filter, &q.select);
                q.filter = Some(filter);
            }
            Clause::OrderBy | Clause::SortBy => {
                q.order = list(i, order_key, "a field name", &keyword)?
                    .into_iter()
                    .map(|(column, descending)| OrderKey {
                        column: alias_column(column, &q.select),
                        descending,
                    })
                    .collect();
            }
            Clause::Limit => {
                q.limit = Some(limit_value(i)?);
            }
        }
        ws(i)?;
        if i.eof_offset() > 0 && peek(opt(clause_keyword)).parse_next(i)?.is_none() {
            let found = found(i);
            return cut(
                pos(i),
                format!("unexpected {found}: expected {}", expected_after(clause)),
            );
        }
    }
}

/// Common misspellings of clause keywords, as kubectl-mtv's `validate.go` lists.
const TYPOS: &[(&str, &str)] = &[
    ("selct", "select"),
    ("slect", "select"),
    ("wher", "where"),
    ("were", "where"),
    ("whre", "where"),
    ("limt", "limit"),
    ("lmit", "limit"),
    ("oder", "order"),
    ("ordr", "order"),
    ("srot", "sort"),
    ("sotr", "sort"),
];

/// A "did you mean" hint for a misspelled clause keyword outside quotes.
fn typo_hint(text: &str) -> Option<String> {
    let mut quote: Option<char> = None;
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        let lower = word.to_ascii_lowercase();
        if let Some((_, right)) = TYPOS.iter().find(|(typo, _)| *typo == lower) {
            return Some(format!(" (did you mean '{right}' instead of '{word}'?)"));
        }
        word.clear();
        if matches!(c, '\'' | '"' | '`') {
            quote = Some(c);
        }
    }
    None
}

/// Parses a whole query.
pub(super) fn parse_query(text: &str) -> Result<Query, QueryError> {
    let mut input = LocatingSlice::new(text);
    match query(&mut input) {
        Ok(q) => Ok(q),
        Err(e) => {
            let e = match e {
                ErrMode::Backtrack(e) | ErrMode::Cut(e) => e,
                ErrMode::Incomplete(_) => SyntaxErr {
                    pos: text.len(),
                    message: None,
                },
            };
            let mut message = e.message.unwrap_or_else(|| {
                let mut at = LocatingSlice::new(text);
                let _ = at.next_slice(e.pos.min(text.len()));
                format!("unexpected {}", found(&at))
            });
            if let Some(hint) = typo_hint(text) {
                message.push_str(&hint);
            }
            Err(QueryError::syntax(e.pos, message))
        }
    }
}

/// Parses a where-clause expression alone (as a bare filter), for tests.
#[cfg(test)]
pub(super) fn parse_expr(text: &str) -> Result<Expr, QueryError> {
    let q = parse_query(text)?;
    q.filter
        .ok_or_else(|| QueryError::syntax(0, "empty expression"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The where clause, fully parenthesised.
    fn show(text: &str) -> String {
        parse_expr(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .to_string()
    }

    /// The error of a query that must fail: (position, message).
    fn error(text: &str) -> (usize, String) {
        match parse_query(text) {
            Ok(q) => panic!("{text} parsed: {:?}", q.filter.map(|f| f.to_string())),
            Err(e) => {
                assert_eq!(e.kind, super::super::ErrorKind::Syntax);
                (e.position, e.message)
            }
        }
    }

    fn number(text: &str) -> f64 {
        match parse_expr(text).unwrap().kind {
            ExprKind::Literal(Literal::Number(n)) => n,
            other => panic!("{text}: not a number: {other:?}"),
        }
    }

    #[test]
    fn precedence_levels() {
        assert_eq!(show("a or b and c"), "(a or (b and c))");
        assert_eq!(show("a and b or c"), "((a and b) or c)");
        assert_eq!(show("a = 1 and b = 2"), "((a = 1) and (b = 2))");
        assert_eq!(show("a = 1 + 2 * 3"), "(a = (1 + (2 * 3)))");
        assert_eq!(show("a - b - c"), "((a - b) - c)");
        assert_eq!(show("a / b % c * d"), "(((a / b) % c) * d)");
        assert_eq!(show("(a + b) * c"), "((a + b) * c)");
        assert_eq!(show("-a * -b"), "((- a) * (- b))");
        assert_eq!(show("+a"), "a");
        assert_eq!(show("- - 3"), "(- (- 3))");
        // Prefix operators bind tighter than everything but unary minus.
        assert_eq!(show("not a = 1 and b = 2"), "(((not a) = 1) and (b = 2))");
        assert_eq!(show("not (a = 1)"), "(not (a = 1))");
        assert_eq!(show("len disks > 0"), "((len disks) > 0)");
        assert_eq!(show("len(a) * 2"), "((len a) * 2)");
        assert_eq!(show("sum -x"), "(sum (- x))");
        assert_eq!(show("not not a"), "(not (not a))");
        // between's `and` is its own; comparisons chain left to right.
        assert_eq!(
            show("x between 1 and 10 and y = 5"),
            "((x between 1 and 10) and (y = 5))"
        );
        assert_eq!(
            show("x between 1 + 1 and 2 * 5"),
            "(x between (1 + 1) and (2 * 5))"
        );
        assert_eq!(show("a = b = c"), "((a = b) = c)");
        assert_eq!(show("a + 1 > b or c"), "(((a + 1) > b) or c)");
    }

    #[test]
    fn every_comparison_operator() {
        let cases = [
            ("a = 1", "(a = 1)"),
            ("a == 1", "(a = 1)"),
            ("a != 1", "(a != 1)"),
            ("a <> 1", "(a != 1)"),
            ("a < 1", "(a < 1)"),
            ("a <= 1", "(a <= 1)"),
            ("a > 1", "(a > 1)"),
            ("a >= 1", "(a >= 1)"),
            ("a ~= 'x'", "(a ~= 'x')"),
            ("a ~! 'x'", "(a ~! 'x')"),
            ("a like 'x%'", "(a like 'x%')"),
            ("a ilike 'x%'", "(a ilike 'x%')"),
            ("a not like 'x%'", "(not (a like 'x%'))"),
            ("a NOT ILIKE 'x%'", "(not (a ilike 'x%'))"),
            ("a is null", "(a is null)"),
            ("a IS NOT NULL", "(not (a is null))"),
            ("a between 1 and 2", "(a between 1 and 2)"),
            ("a not between 1 and 2", "(not (a between 1 and 2))"),
            ("a in [1, 2]", "(a in [1, 2])"),
            ("a not in ['x', 'y',]", "(not (a in ['x', 'y']))"),
            ("a in []", "(a in [])"),
            ("a in b", "(a in b)"),
        ];
        for (text, want) in cases {
            assert_eq!(show(text), want, "{text}");
        }
        // Operators need no spaces around them.
        assert_eq!(show("a>=1 and(b<>'x')"), "((a >= 1) and (b != 'x'))");
        assert_eq!(show("x in[1,2]"), "(x in [1, 2])");
    }

    #[test]
    fn size_suffixes() {
        assert_eq!(number("42"), 42.0);
        assert_eq!(number("1.5"), 1.5);
        assert_eq!(number("1e3"), 1000.0);
        assert_eq!(number("2.5E-1"), 0.25);
        assert_eq!(number("5k"), 5_000.0);
        assert_eq!(number("5K"), 5_000.0);
        assert_eq!(number("2M"), 2_000_000.0);
        assert_eq!(number("3G"), 3e9);
        assert_eq!(number("1T"), 1e12);
        assert_eq!(number("1P"), 1e15);
        assert_eq!(number("1Ki"), 1024.0);
        assert_eq!(number("2Mi"), 2.0 * 1024.0 * 1024.0);
        assert_eq!(number("100Gi"), 107_374_182_400.0);
        assert_eq!(number("1Ti"), 1024f64.powi(4));
        assert_eq!(number("1Pi"), 1024f64.powi(5));
        assert_eq!(number("1.5Gi"), 1.5 * 1024f64.powi(3));
        // Upstream also takes the lower-case letters (`m` is mega, not milli).
        assert_eq!(number("1gi"), 1024f64.powi(3));
        assert_eq!(number("1m"), 1e6);
    }

    #[test]
    fn strings_dates_and_keywords() {
        assert_eq!(show(r#"a = "x y""#), "(a = 'x y')");
        assert_eq!(show("a = `b`"), "(a = 'b')");
        assert_eq!(show(r"a = 'it\'s'"), r"(a = 'it\'s')");
        match parse_expr(r"a = 'tab\there\\ \d'").unwrap().kind {
            ExprKind::Binary { rhs, .. } => match rhs.kind {
                ExprKind::Literal(Literal::String(s)) => assert_eq!(s, "tab\there\\ \\d"),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
        match parse_expr("2024-02-29").unwrap().kind {
            ExprKind::Literal(Literal::Time(t, text)) => {
                assert_eq!(text, "2024-02-29");
                assert_eq!(t.to_string(), "2024-02-29T00:00:00Z");
            }
            other => panic!("{other:?}"),
        }
        match parse_expr("2024-02-29T10:00:00.5+02:00").unwrap().kind {
            ExprKind::Literal(Literal::Time(t, _)) => {
                assert_eq!(t.to_string(), "2024-02-29T08:00:00.5Z")
            }
            other => panic!("{other:?}"),
        }
        // Quoted dates stay strings (they still compare as times).
        assert_eq!(show("d = '2024-01-01'"), "(d = '2024-01-01')");
        // Spaced out, it is arithmetic.
        assert_eq!(show("2024 - 01 - 01"), "((2024 - 1) - 1)");
        assert_eq!(
            show("a = TRUE or b = False or c = NULL"),
            "(((a = true) or (b = false)) or (c = null))"
        );
        assert_eq!(show("AND_x = 1"), "(AND_x = 1)");
        assert_eq!(show("order = 1"), "(order = 1)");
    }

    #[test]
    fn identifiers() {
        assert_eq!(show("disks[*].capacity"), "disks[*].capacity");
        assert_eq!(show("_x.y/z[0]"), "_x.y/z[0]");
        assert_eq!(
            show("metadata.labels[app.kubernetes.io/name] = 'web'"),
            "(metadata.labels[app.kubernetes.io/name] = 'web')"
        );
        // `-` is not part of a name: this is a subtraction.
        assert_eq!(show("vm-name"), "(vm - name)");
        match parse_expr("disks[0].capacity").unwrap().kind {
            ExprKind::Field(p) => assert_eq!(
                p.segments(),
                &[
                    super::super::path::Segment::Field("disks".into()),
                    super::super::path::Segment::Index(0),
                    super::super::path::Segment::Field("capacity".into()),
                ]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn clauses() {
        let q = parse_query(
            "SELECT name, memoryMB AS mem, sum(disks[*].capacity) as total, len(nics) \
             WHERE mem > 4096 Order  By total DESC, name asc, cpuCount LIMIT 5",
        )
        .unwrap();
        let names: Vec<_> = q.select.iter().map(SelectItem::name).collect();
        assert_eq!(names, ["name", "mem", "total", "len(nics)"]);
        assert_eq!(q.select[2].reducer, Some(Reducer::Sum));
        assert_eq!(q.select[2].path.as_str(), "disks[*].capacity");
        // The alias in the where clause is the select column.
        assert_eq!(q.filter.as_ref().unwrap().to_string(), "(mem > 4096)");
        assert!(matches!(
            &q.filter.as_ref().unwrap().kind,
            ExprKind::Binary { lhs, .. } if matches!(&lhs.kind, ExprKind::Column(c) if c.path.as_str() == "memoryMB")
        ));
        let order: Vec<_> = q
            .order
            .iter()
            .map(|k| (k.column.name(), k.column.reducer, k.descending))
            .collect();
        assert_eq!(
            order,
            [
                ("total".to_string(), Some(Reducer::Sum), true),
                ("name".to_string(), None, false),
                ("cpuCount".to_string(), None, false),
            ]
        );
        assert_eq!(q.limit, Some(5));

        let q = parse_query("sort by sum(disks[*].capacity) desc").unwrap();
        assert!(q.filter.is_none() && q.select.is_empty());
        assert_eq!(q.order[0].column.reducer, Some(Reducer::Sum));

        let q = parse_query("limit 0").unwrap();
        assert_eq!(q.limit, Some(0));
        assert!(parse_query("").unwrap().is_empty());
        assert!(parse_query(" \n\t ").unwrap().is_empty());

        // No keyword: `where` is implied, and later clauses still work.
        let q = parse_query("memoryMB > 4096 order by name limit 2").unwrap();
        assert_eq!(q.filter.unwrap().to_string(), "(memoryMB > 4096)");
        assert_eq!(q.order.len(), 1);
        assert_eq!(q.limit, Some(2));
        // Keywords inside strings are just text.
        let q = parse_query("name = 'select where limit 5'").unwrap();
        assert_eq!(
            q.filter.unwrap().to_string(),
            "(name = 'select where limit 5')"
        );
        assert_eq!(q.limit, None);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases: &[(&str, usize, &str)] = &[
            ("where memoryMB > ", 17, "expected a value after '>'"),
            (
                "where powerState = 'on' and",
                27,
                "expected a condition after 'and'",
            ),
            ("memoryMB >= and x", 12, "expected a value after '>='"),
            ("x = 'abc", 4, "unterminated string"),
            (
                "x = 2024-13-01",
                4,
                "invalid date or timestamp '2024-13-01'",
            ),
            ("x = 10GiB", 4, "invalid number '10GiB'"),
            ("x = 1x", 4, "invalid number '1x'"),
            ("(a = 1", 6, "expected ')' to close the '(' at position 0"),
            ("a in [1, 2 3]", 11, "expected ',' or ']'"),
            ("a in [1,,2]", 8, "expected a value or ']' after ','"),
            ("x ~= '(' ", 5, "invalid regular expression '('"),
            (
                "a not b",
                6,
                "expected 'like', 'ilike', 'in' or 'between' after 'not'",
            ),
            ("a is 5", 5, "expected 'null' after 'is'"),
            ("a is not 5", 9, "expected 'null' after 'is not'"),
            (
                "a between 1 or 2",
                12,
                "expected 'and' after the lower bound",
            ),
            ("x = 1 y", 6, "unexpected 'y': expected an operator"),
            ("x = !", 4, "expected a value after '='"),
            ("x == ", 5, "expected a value after '=='"),
            ("x ! 1", 2, "unexpected '!'"),
            ("a[0 = 1", 1, "unterminated '[' in field name"),
            ("not", 3, "expected an operand after 'not'"),
            (")", 0, "expected a condition or a clause"),
            ("select", 6, "expected a field name after 'select'"),
            ("select a,", 9, "expected a field name after ','"),
            ("select a b", 9, "unexpected 'b'"),
            (
                "select sum(x as y",
                13,
                "expected ')' to close the '(' at position 10",
            ),
            ("select a as", 11, "expected an alias name after 'as'"),
            ("where", 5, "expected a condition after 'where'"),
            (
                "where limit 5",
                6,
                "expected a condition after 'where', found 'limit'",
            ),
            ("order by", 8, "expected a field name after 'order by'"),
            ("order by name sideways", 14, "unexpected 'sideways'"),
            ("limit x", 6, "expected a whole number after 'limit'"),
            ("limit -1", 6, "expected a whole number after 'limit'"),
            (
                "a = 1 limit 5 6",
                14,
                "unexpected '6': expected the end of the query",
            ),
            ("limit 5 where x = 1", 8, "'where' must come before 'limit'"),
            (
                "where a = 1 select a",
                12,
                "'select' must come before 'where'",
            ),
            ("where a = 1 where b = 2", 12, "duplicate 'where' clause"),
            ("limit 1 limit 2", 8, "duplicate 'limit' clause"),
            (
                "order by x sort by y",
                11,
                "'sort by' repeats the 'order by' clause",
            ),
            (
                "selct name where x = 1",
                6,
                "did you mean 'select' instead of 'selct'?",
            ),
        ];
        for (text, at, message) in cases {
            let (pos, got) = error(text);
            assert_eq!(pos, *at, "{text}: {got}");
            assert!(got.contains(message), "{text}: {got}");
        }
    }

    #[test]
    fn typo_hints_skip_quoted_text() {
        assert_eq!(typo_hint("x = 'were' and"), None);
        assert_eq!(
            typo_hint("wher x = 1").as_deref(),
            Some(" (did you mean 'where' instead of 'wher'?)")
        );
    }
}
