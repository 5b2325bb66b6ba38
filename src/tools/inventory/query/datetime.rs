//! Dates and RFC 3339 timestamps for the query language, without a date crate.
//!
//! TSL compares `YYYY-MM-DD` dates and RFC 3339 timestamps as points in time,
//! both as literals (`created > 2024-01-01`) and as string field values that
//! hold a timestamp (`metadata.creationTimestamp`). Like Go's
//! `time.Parse(time.RFC3339, …)` and `time.Parse("2006-01-02", …)`, which
//! upstream uses, a date alone means midnight UTC, the `T` and `Z` are upper
//! case, fractional seconds are optional and the offset is `Z` or `±HH:MM`.

use std::fmt;

/// A point in time: seconds since the Unix epoch (UTC) plus nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

impl Timestamp {
    /// Parses a date (`2024-01-31`) or an RFC 3339 timestamp
    /// (`2024-01-31T10:00:00Z`, `2024-01-31T10:00:00.5+02:00`).
    pub fn parse(text: &str) -> Option<Timestamp> {
        Self::parse_date(text).or_else(|| Self::parse_rfc3339(text))
    }

    /// Parses exactly `YYYY-MM-DD` as midnight UTC.
    pub fn parse_date(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        if b.len() != 10 {
            return None;
        }
        let days = parse_ymd(b)?;
        Some(Timestamp {
            secs: days * 86_400,
            nanos: 0,
        })
    }

    /// Parses exactly an RFC 3339 timestamp.
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        if b.len() < 20 || b[10] != b'T' {
            return None;
        }
        let days = parse_ymd(&b[..10])?;
        let hour = two_digits(&b[11..13])?;
        let minute = two_digits(&b[14..16])?;
        let second = two_digits(&b[17..19])?;
        if b[13] != b':' || b[16] != b':' || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let mut rest = &b[19..];
        let mut nanos: u32 = 0;
        if let Some((b'.', frac)) = rest.split_first() {
            let digits = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            for (i, d) in frac[..digits].iter().enumerate() {
                if i < 9 {
                    nanos += u32::from(d - b'0') * 10u32.pow(8 - i as u32);
                }
            }
            rest = &frac[digits..];
        }
        let offset_secs: i64 = match rest {
            [b'Z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let oh = two_digits(&[*h1, *h2])?;
                let om = two_digits(&[*m1, *m2])?;
                if oh > 23 || om > 59 {
                    return None;
                }
                let off = oh * 3600 + om * 60;
                if *sign == b'-' {
                    -off
                } else {
                    off
                }
            }
            _ => return None,
        };
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
        Some(Timestamp { secs, nanos })
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, with fractional seconds only when there are some.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(86_400);
        let of_day = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            of_day / 3600,
            of_day % 3600 / 60,
            of_day % 60
        )?;
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

fn two_digits(b: &[u8]) -> Option<i64> {
    match b {
        [a, c] if a.is_ascii_digit() && c.is_ascii_digit() => {
            Some(i64::from(a - b'0') * 10 + i64::from(c - b'0'))
        }
        _ => None,
    }
}

/// `YYYY-MM-DD` (exactly 10 bytes) to days since 1970-01-01, checking the
/// month and the day of the month.
fn parse_ymd(b: &[u8]) -> Option<i64> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = two_digits(&b[0..2])? * 100 + two_digits(&b[2..4])?;
    let month = two_digits(&b[5..7])?;
    let day = two_digits(&b[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_midnight_utc() {
        let d = Timestamp::parse("2024-03-01").unwrap();
        assert_eq!(d.to_string(), "2024-03-01T00:00:00Z");
        assert_eq!(Timestamp::parse("1970-01-01").unwrap().secs, 0);
        assert_eq!(Timestamp::parse("1970-01-02").unwrap().secs, 86_400);
        assert_eq!(
            Timestamp::parse("2024-03-01").unwrap(),
            Timestamp::parse("2024-03-01T00:00:00Z").unwrap()
        );
    }

    #[test]
    fn offsets_and_fractions() {
        let a = Timestamp::parse("2025-06-02T09:14:05Z").unwrap();
        let b = Timestamp::parse("2025-06-02T11:14:05+02:00").unwrap();
        let c = Timestamp::parse("2025-06-02T04:14:05-05:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        let f = Timestamp::parse("2025-06-02T09:14:05.25Z").unwrap();
        assert!(f > a);
        assert_eq!(f.to_string(), "2025-06-02T09:14:05.25Z");
        assert_eq!(a.secs, 1_748_855_645);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "2024-02-30",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-1-01",
            "2024-01-01T25:00:00Z",
            "2024-01-01T10:00:00",
            "2024-01-01t10:00:00Z",
            "2024-01-01T10:00:00.Z",
            "2024-01-01T10:00:00+0200",
            "20240101",
            "web-01",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
        assert!(Timestamp::parse("2024-02-29").is_some());
    }
}
