//! Dates and RFC 3339 timestamps for the query language, through jiff (the
//! time crate k8s-openapi uses for Kubernetes times).
//!
//! TSL compares `YYYY-MM-DD` dates and RFC 3339 timestamps as points in time,
//! both as literals (`created > 2024-01-01`) and as string field values that
//! hold a timestamp (`metadata.creationTimestamp`). As with Go's
//! `time.Parse(time.RFC3339, …)` and `time.Parse("2006-01-02", …)`, which
//! upstream uses, a date alone means midnight UTC.

use k8s_openapi::jiff::civil::Date;
use k8s_openapi::jiff::tz::TimeZone;

pub use k8s_openapi::jiff::Timestamp;

/// Parses a date (`2024-01-31`, midnight UTC) or an RFC 3339 timestamp
/// (`2024-01-31T10:00:00Z`, `2024-01-31T10:00:00.5+02:00`).
pub fn parse(text: &str) -> Option<Timestamp> {
    if text.len() == 10 {
        let date: Date = text.parse().ok()?;
        return date.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp());
    }
    // RFC 3339 only: a 'T' between date and time, and an offset.
    let b = text.as_bytes();
    if b.len() < 20 || b[10] != b'T' || !(text.ends_with('Z') || b[b.len() - 3] == b':') {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_midnight_utc() {
        assert_eq!(
            parse("2024-03-01").unwrap().to_string(),
            "2024-03-01T00:00:00Z"
        );
        assert_eq!(parse("1970-01-02").unwrap().as_second(), 86_400);
        assert!(parse("2024-02-29").is_some());
    }

    #[test]
    fn offsets_and_fractions() {
        let a = parse("2025-06-02T09:14:05Z").unwrap();
        assert_eq!(a, parse("2025-06-02T11:14:05+02:00").unwrap());
        let f = parse("2025-06-02T09:14:05.25Z").unwrap();
        assert!(f > a);
        assert_eq!(a.as_second(), 1_748_855_645);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "2024-13-01",
            "2024-02-30",
            "2023-02-29",
            "2024-1-01",
            "2024-01-01 10:00:00Z",
            "2024-01-01T10:00:00",
            "2024-01-01T25:00:00Z",
            "2024-00-10",
            "2024-01-01t10:00:00Z",
            "2024-01-01T10:00:00.Z",
            "2024-01-01T10:00:00+0200",
            "20240101",
            "yesterday",
            "web-01",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
