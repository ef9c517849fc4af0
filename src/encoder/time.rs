//! Timestamps in the four `JSON::TimestampFormat`s, as Zeek writes them.

use super::double::write_epoch_time;
use super::out::Cursor;

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
    write_time(&mut Cursor::new(out), t, fmt)
}

/// [`push_time`] at a cursor.
#[inline(always)]
pub(crate) fn write_time(c: &mut Cursor, t: f64, fmt: TimestampFormat) {
    match fmt {
        TimestampFormat::Epoch => write_epoch_time(c, t),
        TimestampFormat::Millis => {
            c.reserve(21);
            // SAFETY: reserved just above.
            unsafe { c.put_i64(cvttsd2si(t * 1000.0)) }
        }
        TimestampFormat::MillisUnsigned => {
            c.reserve(20);
            // SAFETY: reserved just above.
            unsafe { c.put_u64(cvttsd2si(t * 1000.0) as u64) }
        }
        TimestampFormat::Iso8601 => write_iso8601(c, t),
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

#[inline(never)]
fn write_iso8601(c: &mut Cursor, t: f64) {
    let secs = cvttsd2si(t.floor());
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    // gmtime_r fails once tm_year (year - 1900) leaves int's range; Zeek
    // then writes this placeholder (and reports an error).
    if !t.is_finite() || year - 1900 > i32::MAX as i64 || year - 1900 < i32::MIN as i64 {
        c.reserve(28);
        // SAFETY: reserved just above.
        unsafe { c.put(b"\"2000-01-01T00:00:00.000000\"") };
        return;
    }
    let mut frac = t - t.trunc();
    if frac < 0.0 {
        frac += 1.0;
    }
    let micros = (frac.abs() * 1_000_000.0).round_ties_even() as u64;
    // `"` + year (at most 11 characters) + 15 + `.` + 7 + `Z"`: 37 bytes.
    c.reserve(40);
    // SAFETY: reserved above; the year needs at most 11 of them.
    unsafe {
        c.put_byte(b'"');
        c.put_i64(year);
        for (sep, v) in [
            (b'-', month as u64),
            (b'-', day as u64),
            (b'T', (rem / 3600) as u64),
            (b':', (rem / 60 % 60) as u64),
            (b':', (rem % 60) as u64),
        ] {
            c.put_byte(sep);
            c.put_u64_padded(v, 2);
        }
        c.put_byte(b'.');
        // `%06.0f`: a fraction that rounds up to a whole second prints
        // 1000000, as Zeek does.
        c.put_u64_padded(micros, 6);
        c.put(b"Z\"");
    }
}
