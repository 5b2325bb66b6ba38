//! The one error type of the query language: where in the query text the
//! problem is, and what was expected there.

/// Whether the query text could not be read, or could be read but not
/// applied to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is not a valid query (bad token, missing operand, clause
    /// order, …).
    Syntax,
    /// The query is valid but an operator got values it cannot work on, for
    /// example `name > 5` on a string or a division by zero.
    Evaluation,
}

/// A query error at a byte position of the query text.
///
/// Displays as `at position 23: expected a value after '>'`; use
/// [`QueryError::pointer`] to show the query with a caret under that spot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at position {position}: {message}")]
pub struct QueryError {
    /// Syntax or evaluation.
    pub kind: ErrorKind,
    /// Byte offset into the query text as the caller passed it.
    pub position: usize,
    /// What is wrong, or what was expected at `position`.
    pub message: String,
}

impl QueryError {
    pub(super) fn syntax(position: usize, message: impl Into<String>) -> Self {
        QueryError {
            kind: ErrorKind::Syntax,
            position,
            message: message.into(),
        }
    }

    pub(super) fn evaluation(position: usize, message: impl Into<String>) -> Self {
        QueryError {
            kind: ErrorKind::Evaluation,
            position,
            message: message.into(),
        }
    }

    /// The query on one line and a `^` under the error position on the next
    /// (the query's line breaks and tabs shown as spaces).
    pub fn pointer(&self, query: &str) -> String {
        let line: String = query
            .chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .collect();
        let column = query
            .char_indices()
            .take_while(|(i, _)| *i < self.position)
            .count();
        format!("{line}\n{}^", " ".repeat(column))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_pointer() {
        let e = QueryError::syntax(11, "expected a value after '>'");
        assert_eq!(e.to_string(), "at position 11: expected a value after '>'");
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!(e.pointer("memoryMB >\t"), "memoryMB > \n           ^");
        // Multi-byte characters count as one column.
        let e = QueryError::evaluation(8, "x");
        assert_eq!(e.pointer("name='é' y"), "name='é' y\n       ^");
    }
}
