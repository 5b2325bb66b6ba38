//! The syntax tree of a parsed query: where-clause expressions, select
//! columns and order-by keys.
//!
//! [`Expr`] displays fully parenthesised (`((a = 1) and (b > 2))`), which
//! shows how precedence grouped the operands.

use std::fmt;

use regex::Regex;

use super::datetime::Timestamp;
use super::path::Path;

/// A literal value written in the query.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, size suffixes already applied (`4Gi` is 4294967296).
    Number(f64),
    /// A quoted string.
    String(String),
    /// An unquoted `YYYY-MM-DD` date or RFC 3339 timestamp, with its text.
    Time(Timestamp, String),
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `not`: boolean negation (maps over arrays).
    Not,
    /// Unary `-` (maps over arrays).
    Neg,
    /// `len`: number of elements.
    Len,
    /// `any`: some element is `true`.
    Any,
    /// `all`: the array is non-empty and every element is `true`.
    All,
    /// `sum`: sum of the numbers.
    Sum,
}

impl UnaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            UnaryOp::Not => "not",
            UnaryOp::Neg => "-",
            UnaryOp::Len => "len",
            UnaryOp::Any => "any",
            UnaryOp::All => "all",
            UnaryOp::Sum => "sum",
        }
    }
}

/// Infix operators (the negated forms `not like`, `not in`, `not between`,
/// `is not null` are `not` around the positive form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `=` / `==`
    Eq,
    /// `!=` / `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `~=`: regular-expression match (unanchored).
    RegexMatch,
    /// `~!`: no regular-expression match.
    RegexNoMatch,
    /// `like`: SQL pattern, `%` any run, `_` one character.
    Like,
    /// `ilike`: case-insensitive `like`.
    ILike,
    /// `in`: equal to an element of the right-hand array.
    In,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`: remainder after truncating both sides to integers.
    Rem,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::RegexMatch => "~=",
            BinaryOp::RegexNoMatch => "~!",
            BinaryOp::Like => "like",
            BinaryOp::ILike => "ilike",
            BinaryOp::In => "in",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    /// Whether the right-hand side is a pattern (regex or SQL `like`).
    pub fn is_pattern(self) -> bool {
        matches!(
            self,
            BinaryOp::RegexMatch | BinaryOp::RegexNoMatch | BinaryOp::Like | BinaryOp::ILike
        )
    }
}

/// A where-clause expression and the byte position it is reported at
/// (the operator for operations, the start for operands).
#[derive(Debug, Clone)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Byte offset in the query text.
    pub pos: usize,
}

/// The kinds of [`Expr`].
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A literal.
    Literal(Literal),
    /// A field path of the item.
    Field(Path),
    /// A select alias used in the where clause: the select column's value
    /// (its reducer applied).
    Column(Box<SelectItem>),
    /// `[a, b, …]`.
    Array(Vec<Expr>),
    /// A prefix operator.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// Its operand.
        operand: Box<Expr>,
    },
    /// An infix operator.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
        /// For pattern operators with a literal pattern: compiled once at parse time.
        pattern: Option<Regex>,
    },
    /// `value between low and high` (inclusive).
    Between {
        /// Tested value.
        value: Box<Expr>,
        /// Lower bound.
        low: Box<Expr>,
        /// Upper bound.
        high: Box<Expr>,
    },
    /// `value is null`.
    IsNull(Box<Expr>),
}

impl Expr {
    pub(super) fn new(kind: ExprKind, pos: usize) -> Expr {
        Expr { kind, pos }
    }
}

/// A reducer applied to a select column or order-by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reducer {
    /// `sum(f)`
    Sum,
    /// `len(f)`
    Len,
    /// `any(f)`
    Any,
    /// `all(f)`
    All,
}

impl Reducer {
    /// The reducer's name.
    pub fn name(self) -> &'static str {
        match self {
            Reducer::Sum => "sum",
            Reducer::Len => "len",
            Reducer::Any => "any",
            Reducer::All => "all",
        }
    }
}

/// One `select` column: `f`, `f as alias`, `sum(f) as alias`, …
#[derive(Debug, Clone, PartialEq)]
pub struct SelectItem {
    /// The field path.
    pub path: Path,
    /// The reducer around it, if any.
    pub reducer: Option<Reducer>,
    /// The `as` alias, if any.
    pub alias: Option<String>,
}

impl SelectItem {
    /// The column name: the alias, else `sum(path)` for a reducer, else the
    /// path (without a leading `.`).
    pub fn name(&self) -> String {
        let path = self.path.as_str().trim_start_matches('.');
        match (&self.alias, self.reducer) {
            (Some(alias), _) => alias.clone(),
            (None, Some(r)) => format!("{}({path})", r.name()),
            (None, None) => path.to_string(),
        }
    }
}

/// One `order by` key.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    /// What to sort on: a select column when the key names its alias,
    /// otherwise a path (optionally with a reducer).
    pub column: SelectItem,
    /// `desc`.
    pub descending: bool,
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Number(n) => write!(f, "{n}"),
            Literal::String(s) => write!(f, "'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Literal::Time(_, text) => f.write_str(text),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(lit) => write!(f, "{lit}"),
            ExprKind::Field(path) => write!(f, "{path}"),
            ExprKind::Column(item) => f.write_str(&item.name()),
            ExprKind::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            ExprKind::Unary { op, operand } => write!(f, "({} {operand})", op.symbol()),
            ExprKind::Binary { op, lhs, rhs, .. } => write!(f, "({lhs} {} {rhs})", op.symbol()),
            ExprKind::Between { value, low, high } => {
                write!(f, "({value} between {low} and {high})")
            }
            ExprKind::IsNull(value) => write!(f, "({value} is null)"),
        }
    }
}
