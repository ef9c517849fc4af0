//! Command-line values: durations (`10s`, `1h`, `250ms`), sizes (`100M`)
//! and rates (`1000/s`).

use std::time::Duration;

fn split_number(s: &str) -> Result<(f64, &str), String> {
    let s = s.trim();
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let n: f64 = s[..end]
        .parse()
        .map_err(|_| format!("\"{s}\" does not start with a number"))?;
    Ok((n, s[end..].trim()))
}

/// `1.5` (seconds), `250ms`, `10s`, `5m`/`5min`, `1h`, `1d`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (n, unit) = split_number(s)?;
    let secs = match unit {
        "us" | "usec" | "usecs" => 1e-6,
        "ms" | "msec" | "msecs" => 1e-3,
        "" | "s" | "sec" | "secs" => 1.0,
        "m" | "min" | "mins" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86400.0,
        _ => {
            return Err(format!(
                "unknown unit \"{unit}\" in \"{s}\" (use ms, s, m, h or d)"
            ))
        }
    };
    Duration::try_from_secs_f64(n * secs).map_err(|_| format!("bad duration \"{s}\""))
}

/// Bytes: `1000`, `64K`, `100M`, `2G` (powers of 1024; `KB`, `KiB`, ... too).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let (n, unit) = split_number(s)?;
    let unit = unit.trim_end_matches(['B', 'b']).trim_end_matches('i');
    let mult: u64 = match unit {
        "" => 1,
        "k" | "K" => 1 << 10,
        "m" | "M" => 1 << 20,
        "g" | "G" => 1 << 30,
        "t" | "T" => 1 << 40,
        _ => return Err(format!("unknown unit in \"{s}\" (use K, M, G or T)")),
    };
    let bytes = n * mult as f64;
    if bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(format!("bad size \"{s}\""));
    }
    Ok(bytes as u64)
}

/// Records per second: `1000`, `1000/s`, `60/m`, `3600/h`.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let (n, unit) = match s.split_once('/') {
        Some((n, unit)) => (n, unit.trim()),
        None => (s, "s"),
    };
    let n: f64 = n
        .trim()
        .parse()
        .map_err(|_| format!("bad rate \"{s}\" (e.g. 1000/s)"))?;
    let per = match unit {
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" | "hr" => 3600.0,
        _ => return Err(format!("bad rate \"{s}\": use /s, /m or /h")),
    };
    if !(n > 0.0 && n.is_finite()) {
        return Err(format!("bad rate \"{s}\": must be above 0"));
    }
    Ok(n / per)
}

/// `1.5 s`, `2 min 5 s`, ... for messages.
pub fn show_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1} s")
    } else if s < 3600.0 {
        format!("{} min {} s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!(
            "{} h {} min",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("5 min"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("s").is_err());
        assert_eq!(parse_size("100M"), Ok(100 << 20));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("3Q").is_err());
        assert_eq!(parse_rate("1000/s"), Ok(1000.0));
        assert_eq!(parse_rate("60/m"), Ok(1.0));
        assert_eq!(parse_rate("5"), Ok(5.0));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("3/y").is_err());
        assert_eq!(show_duration(Duration::from_secs(125)), "2 min 5 s");
    }
}
