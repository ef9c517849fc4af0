//! Timestamps in the four `JSON::TimestampFormat`s, as Zeek writes them.

use super::double::{format_u64, push_double};
use std::io::Write;

/// `JSON::TimestampFormat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampFormat {
    /// `JSON::TS_EPOCH`: seconds as a double (Zeek's default).
    Epoch,
    /// `JSON::TS_MILLIS`: signed integer milliseconds, truncated.
    Millis,
    /// `JSON::TS_MILLIS_UNSIGNED`: the same bits as an unsigned integer.
    MillisUnsigned,
    /// `JSON::TS_ISO8601`: `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC.
    Iso8601,
}

impl TimestampFormat {
    /// Parses the enum's Zeek name, e.g. `JSON::TS_ISO8601`.
    pub fn from_zeek_name(s: &str) -> Option<Self> {
        match s {
            "JSON::TS_EPOCH" => Some(Self::Epoch),
            "JSON::TS_MILLIS" => Some(Self::Millis),
            "JSON::TS_MILLIS_UNSIGNED" => Some(Self::MillisUnsigned),
            "JSON::TS_ISO8601" => Some(Self::Iso8601),
            _ => None,
        }
    }
}

/// C++'s `(int64_t)d` as x86-64 computes it: truncation, and the
/// "integer indefinite" value for NaN and out-of-range inputs.
fn cvttsd2si(d: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if !(-LIMIT..LIMIT).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// Appends time `t` (seconds since the epoch) in format `fmt`.
pub fn push_time(out: &mut Vec<u8>, t: f64, fmt: TimestampFormat) {
    match fmt {
        TimestampFormat::Epoch => push_double(out, t),
        TimestampFormat::Millis => {
            let _ = write!(out, "{}", cvttsd2si(t * 1000.0));
        }
        TimestampFormat::MillisUnsigned => {
            let mut buf = [0u8; 20];
            out.extend_from_slice(format_u64(cvttsd2si(t * 1000.0) as u64, &mut buf));
        }
        TimestampFormat::Iso8601 => push_iso8601(out, t),
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn push_iso8601(out: &mut Vec<u8>, t: f64) {
    let secs = cvttsd2si(t.floor());
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    // gmtime_r fails once tm_year (year - 1900) leaves int's range; Zeek
    // then writes this placeholder (and reports an error).
    if !t.is_finite() || year - 1900 > i32::MAX as i64 || year - 1900 < i32::MIN as i64 {
        out.extend_from_slice(b"\"2000-01-01T00:00:00.000000\"");
        return;
    }
    let mut frac = t - t.trunc();
    if frac < 0.0 {
        frac += 1.0;
    }
    let micros = (frac.abs() * 1_000_000.0).round_ties_even();
    let _ = write!(
        out,
        "\"{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z\"",
        year,
        month,
        day,
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        micros as u64
    );
}
