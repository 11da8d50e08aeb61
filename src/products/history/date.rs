//! A run's date: a day of the proleptic Gregorian calendar, written
//! `YYYY-MM-DD` (ISO 8601), so that dates sort as text in the store and in
//! SQL.

use std::fmt;

use crate::error::{Error, Result};

/// A calendar day; ordered as time runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u32,
    day: u32,
}

impl Date {
    /// `YYYY-MM-DD` exactly (four-digit year 0001–9999, a day the month
    /// has), else `None`.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let s = &text[r];
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())?
        };
        let year = digits(0..4)? as i32;
        let month = digits(5..7)?;
        let day = digits(8..10)?;
        let ok = year >= 1 && (1..=12).contains(&month) && day >= 1 && day <= days_in(year, month);
        ok.then_some(Date { year, month, day })
    }

    /// `--as-of` as given, or an input error that says how to write it.
    pub fn parse_arg(flag: &str, text: &str) -> Result<Date> {
        Date::parse(text.trim()).ok_or_else(|| {
            Error::input(format!("{flag} '{text}' is not a date")).hint(format!(
                "give the day as YYYY-MM-DD, e.g. {flag} 2026-11-01"
            ))
        })
    }

    /// Today in UTC, from the system clock.
    pub fn today_utc() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Date::from_unix_days(secs.div_euclid(86_400))
    }

    /// The day `days` after 1970-01-01 (H. Hinnant's `civil_from_days`).
    pub fn from_unix_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Days since 1970-01-01 (`days_from_civil`).
    pub fn unix_days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The next day.
    pub fn succ(self) -> Date {
        Date::from_unix_days(self.unix_days() + 1)
    }
}

fn days_in(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iso_days_only() {
        assert_eq!(Date::parse("2026-11-01").unwrap().to_string(), "2026-11-01");
        assert_eq!(Date::parse("2024-02-29").unwrap().to_string(), "2024-02-29");
        for bad in [
            "2025-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "26-11-01",
            "2026/11/01",
            "2026-11-01T00:00",
            "yesterday",
            "",
            "+026-11-01",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_round_trip_and_order() {
        assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix_days(20_454).to_string(), "2026-01-01");
        for d in [-1000, 0, 59, 60, 11_016, 20_454, 40_000] {
            assert_eq!(Date::from_unix_days(d).unix_days(), d);
        }
        let a = Date::parse("2026-11-30").unwrap();
        assert_eq!(a.succ().to_string(), "2026-12-01");
        assert!(a < a.succ());
        assert!(Date::parse("2026-02-01") < Date::parse("2026-10-01"));
    }

    #[test]
    fn a_bad_as_of_says_how_to_write_it() {
        let e = Date::parse_arg("--as-of", "1/11/2026").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--as-of '1/11/2026' is not a date\n  hint: give the day as YYYY-MM-DD, e.g. --as-of 2026-11-01"
        );
        assert_eq!(e.exit_code(), 2);
    }
}
