//! A writer's options: defaults, then the script-level `LogZeroMQ::*`
//! values, then the filter's `$config` table.
//!
//! A value that does not parse is reported with a warning that names the
//! option and the value used instead (the script-level value or, for a bad
//! script value, the default); an unknown `$config` key is reported and
//! ignored. Nothing here fails a writer: the endpoint is validated separately
//! (see [`crate::endpoint`]).

use crate::channel::SocketOptions;
use crate::encoder::{JsonOptions, TimestampFormat};
use std::time::Duration;

/// `LogZeroMQ::OverflowPolicy`: what a writer does when a subscriber is
/// `zmq_hwm` messages behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverflowPolicy {
    /// Drop the record and count it.
    Drop,
    /// Wait until it can be queued (at most `block_timeout`).
    Block,
}

/// Everything a writer needs to know.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// ZeroMQ endpoint to connect to; empty = inactive.
    pub endpoint: String,
    /// ZMQ_SNDHWM: messages queued per subscriber before dropping (0 = no limit).
    pub hwm: i32,
    /// ZMQ_LINGER in ms: how long unsent messages are kept at shutdown (-1 = forever).
    pub linger_ms: i32,
    /// A fixed pause after connecting, in ms (the original plugin's remedy
    /// for the slow-joiner problem).
    pub connect_pause_ms: u64,
    /// Hold the first record until a subscription arrived or this passed.
    pub wait_for_subscribers: Duration,
    pub json: JsonOptions,
    pub overflow: OverflowPolicy,
    /// With `Block`: how long a record may wait; zero = forever.
    pub block_timeout: Duration,
    /// At most one drop warning per path per interval.
    pub drop_report_interval: Duration,
    /// ZeroMQ heartbeat: a PING this often (zero = no heartbeats).
    pub heartbeat_interval: Duration,
    /// A peer silent this long after a PING is disconnected.
    pub heartbeat_timeout: Duration,
    /// Bind the endpoint (subscribers connect) instead of connecting.
    pub bind: bool,
    /// The CURVE options, as given (checked by [`crate::curve`]).
    pub curve: CurveOptions,
    /// ZMQ_SNDBUF in bytes (0 = the OS default).
    pub sndbuf: i32,
    /// Number the records: a third frame on every message
    /// ([`crate::sequence`]).
    pub sequence_numbers: bool,
}

/// The CURVE options as text; empty = not set.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CurveOptions {
    pub server_public_key: String,
    pub secret_key_file: String,
    pub public_key: String,
    /// A literal secret key: never printed (see the `Debug` impl).
    pub secret_key: String,
    /// Public keys, separated by whitespace or commas.
    pub allowed_clients: String,
    pub allowed_clients_file: String,
}

impl CurveOptions {
    /// Whether any CURVE option is set (then the writer never sends plain text).
    pub fn any(&self) -> bool {
        [
            &self.server_public_key,
            &self.secret_key_file,
            &self.public_key,
            &self.secret_key,
            &self.allowed_clients,
            &self.allowed_clients_file,
        ]
        .iter()
        .any(|s| !s.trim().is_empty())
    }
}

impl std::fmt::Debug for CurveOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurveOptions")
            .field("server_public_key", &self.server_public_key)
            .field("secret_key_file", &self.secret_key_file)
            .field("public_key", &self.public_key)
            .field(
                "secret_key",
                &if self.secret_key.is_empty() {
                    ""
                } else {
                    "(set)"
                },
            )
            .field("allowed_clients", &self.allowed_clients)
            .field("allowed_clients_file", &self.allowed_clients_file)
            .finish()
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            endpoint: String::new(),
            hwm: 1000,
            linger_ms: 3000,
            connect_pause_ms: 0,
            wait_for_subscribers: Duration::from_secs(5),
            json: JsonOptions::default(),
            overflow: OverflowPolicy::Drop,
            block_timeout: Duration::ZERO,
            drop_report_interval: Duration::from_secs(60),
            heartbeat_interval: Duration::from_secs(1),
            heartbeat_timeout: Duration::from_secs(30),
            bind: false,
            curve: CurveOptions::default(),
            sndbuf: 128 * 1024,
            sequence_numbers: false,
        }
    }
}

impl Options {
    /// What the writer's socket is created with.
    pub fn socket_options(&self) -> SocketOptions {
        // Both intervals are at most MAX_HEARTBEAT_INTERVAL: they fit.
        let ms = |d: Duration| i32::try_from(d.as_millis()).unwrap_or(i32::MAX);
        SocketOptions {
            hwm: self.hwm,
            linger_ms: self.linger_ms,
            heartbeat_ivl_ms: ms(self.heartbeat_interval),
            heartbeat_timeout_ms: ms(self.heartbeat_timeout),
            sndbuf: self.sndbuf,
        }
    }
}

/// The longest interval an option takes (a day): longer waits are surely
/// typos, and no deadline computed from one can overflow.
const MAX_INTERVAL: Duration = Duration::from_secs(86_400);

/// The longest heartbeat interval or timeout: libzmq's limit for
/// ZMQ_HEARTBEAT_TTL is 6553.599 s.
const MAX_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(6553);

/// One option: its script name, the `$config` keys that set it, and how to
/// parse a value into [`Options`].
struct OptionDef {
    script: &'static str,
    config: &'static [&'static str],
    expected: &'static str,
    set: fn(&mut Options, &str) -> bool,
}

const DEFS: &[OptionDef] = &[
    OptionDef {
        script: "endpoint",
        config: &["endpoint"],
        expected: "a ZeroMQ endpoint",
        set: |o, v| {
            o.endpoint = v.trim().to_string();
            true
        },
    },
    OptionDef {
        script: "zmq_hwm",
        config: &["hwm", "zmq_hwm"],
        expected: "a count up to 2147483647",
        set: |o, v| {
            v.trim()
                .parse::<i32>()
                .ok()
                .filter(|n| *n >= 0)
                .map(|n| o.hwm = n)
                .is_some()
        },
    },
    OptionDef {
        script: "zmq_linger",
        config: &["linger", "zmq_linger"],
        expected: "milliseconds >= -1",
        set: |o, v| {
            v.trim()
                .parse::<i32>()
                .ok()
                .filter(|n| *n >= -1)
                .map(|n| o.linger_ms = n)
                .is_some()
        },
    },
    OptionDef {
        script: "zmq_connect_pause",
        config: &["connect_pause", "zmq_connect_pause"],
        expected: "milliseconds from 0 to 60000",
        set: |o, v| {
            v.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= 60_000)
                .map(|n| o.connect_pause_ms = n)
                .is_some()
        },
    },
    OptionDef {
        script: "wait_for_subscribers",
        config: &["wait_for_subscribers"],
        expected: "an interval up to 1 day (e.g. \"5 secs\" or seconds as a number)",
        set: |o, v| set_interval(&mut o.wait_for_subscribers, v, MAX_INTERVAL),
    },
    OptionDef {
        script: "json_timestamps",
        config: &["json_timestamps"],
        expected: "JSON::TS_EPOCH, JSON::TS_MILLIS, JSON::TS_MILLIS_UNSIGNED or JSON::TS_ISO8601",
        set: |o, v| {
            TimestampFormat::from_zeek_name(v.trim())
                .map(|t| o.json.timestamps = t)
                .is_some()
        },
    },
    OptionDef {
        script: "json_include_unset_fields",
        config: &["json_include_unset_fields"],
        expected: "T or F",
        set: |o, v| parse_bool(v).map(|b| o.json.include_unset = b).is_some(),
    },
    OptionDef {
        script: "overflow_policy",
        config: &["overflow_policy"],
        expected: "LogZeroMQ::DROP or LogZeroMQ::BLOCK",
        set: |o, v| {
            let policy = match v.trim().trim_start_matches("LogZeroMQ::") {
                "DROP" => OverflowPolicy::Drop,
                "BLOCK" => OverflowPolicy::Block,
                _ => return false,
            };
            o.overflow = policy;
            true
        },
    },
    OptionDef {
        script: "block_timeout",
        config: &["block_timeout"],
        expected: "an interval up to 1 day (e.g. \"5 secs\" or seconds as a number)",
        set: |o, v| set_interval(&mut o.block_timeout, v, MAX_INTERVAL),
    },
    OptionDef {
        script: "drop_report_interval",
        config: &["drop_report_interval"],
        expected: "an interval up to 1 day (e.g. \"1 min\" or seconds as a number)",
        set: |o, v| set_interval(&mut o.drop_report_interval, v, MAX_INTERVAL),
    },
    OptionDef {
        script: "heartbeat_interval",
        config: &["heartbeat_interval"],
        expected: "an interval up to 6553 secs (e.g. \"1 sec\"; 0 = no heartbeats)",
        set: |o, v| set_interval(&mut o.heartbeat_interval, v, MAX_HEARTBEAT_INTERVAL),
    },
    OptionDef {
        script: "heartbeat_timeout",
        config: &["heartbeat_timeout"],
        expected: "an interval up to 6553 secs (e.g. \"30 secs\")",
        set: |o, v| set_interval(&mut o.heartbeat_timeout, v, MAX_HEARTBEAT_INTERVAL),
    },
    OptionDef {
        script: "bind",
        config: &["bind"],
        expected: "T or F",
        set: |o, v| parse_bool(v).map(|b| o.bind = b).is_some(),
    },
    OptionDef {
        script: "sndbuf",
        config: &["sndbuf"],
        expected: "bytes up to 2147483647 (0 = the OS default)",
        set: |o, v| {
            v.trim()
                .parse::<i32>()
                .ok()
                .filter(|n| *n >= 0)
                .map(|n| o.sndbuf = n)
                .is_some()
        },
    },
    OptionDef {
        script: "sequence_numbers",
        config: &["sequence_numbers"],
        expected: "T or F",
        set: |o, v| parse_bool(v).map(|b| o.sequence_numbers = b).is_some(),
    },
    // CURVE values are taken as they are and checked when the writer starts
    // (so that a secret never appears in a warning about its format).
    OptionDef {
        script: "curve_server_public_key",
        config: &["curve_server_public_key"],
        expected: "a Z85 key",
        set: |o, v| set_text(&mut o.curve.server_public_key, v),
    },
    OptionDef {
        script: "curve_secret_key_file",
        config: &["curve_secret_key_file"],
        expected: "a file name",
        set: |o, v| set_text(&mut o.curve.secret_key_file, v),
    },
    OptionDef {
        script: "curve_public_key",
        config: &["curve_public_key"],
        expected: "a Z85 key",
        set: |o, v| set_text(&mut o.curve.public_key, v),
    },
    OptionDef {
        script: "curve_secret_key",
        config: &["curve_secret_key"],
        expected: "a Z85 key",
        set: |o, v| set_text(&mut o.curve.secret_key, v),
    },
    OptionDef {
        script: "curve_allowed_clients",
        config: &["curve_allowed_clients"],
        expected: "Z85 keys",
        set: |o, v| set_text(&mut o.curve.allowed_clients, v),
    },
    OptionDef {
        script: "curve_allowed_clients_file",
        config: &["curve_allowed_clients_file"],
        expected: "a file name",
        set: |o, v| set_text(&mut o.curve.allowed_clients_file, v),
    },
];

/// The script option names (module `LogZeroMQ`) the shim reads and passes
/// on: one per option in the table.
pub fn script_option_names() -> impl Iterator<Item = &'static str> {
    DEFS.iter().map(|d| d.script)
}

/// Sets `field` to the interval `v` if it parses and is at most `max`.
fn set_interval(field: &mut Duration, v: &str, max: Duration) -> bool {
    match parse_interval(v) {
        Some(d) if d <= max => {
            *field = d;
            true
        }
        _ => false,
    }
}

fn set_text(field: &mut String, v: &str) -> bool {
    *field = v.trim().to_string();
    true
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim() {
        "T" | "true" | "1" => Some(true),
        "F" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// Parses seconds (`2.5`) or Zeek's interval notation (`2.5 secs`,
/// `1.0 min 30.0 secs`, `500 msecs`).
pub fn parse_interval(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let words: Vec<&str> = v.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(2) {
        return None;
    }
    let mut total = 0.0;
    for pair in words.chunks(2) {
        let n: f64 = pair[0].parse().ok()?;
        let unit = match pair[1].trim_end_matches('s') {
            "usec" => 1e-6,
            "msec" => 1e-3,
            "sec" => 1.0,
            "min" => 60.0,
            "hr" => 3600.0,
            "day" => 86400.0,
            _ => return None,
        };
        total += n * unit;
    }
    Duration::try_from_secs_f64(total).ok()
}

/// Resolves options; returns them with the warnings to report.
pub fn resolve(script: &[(String, String)], config: &[(String, String)]) -> (Options, Vec<String>) {
    let mut opts = Options::default();
    let mut warnings = Vec::new();
    for (name, value) in script {
        match DEFS.iter().find(|d| d.script == name) {
            Some(def) => {
                if !(def.set)(&mut opts, value) {
                    warnings.push(format!(
                        "LogZeroMQ::{name} = \"{value}\" is not {}; using the default",
                        def.expected
                    ));
                }
            }
            None => warnings.push(format!("unknown script option LogZeroMQ::{name} ignored")),
        }
    }
    for (key, value) in config {
        match DEFS.iter().find(|d| d.config.contains(&key.as_str())) {
            Some(def) => {
                if !(def.set)(&mut opts, value) {
                    warnings.push(format!(
                        "$config[\"{key}\"] = \"{value}\" is not {}; using LogZeroMQ::{}",
                        def.expected, def.script
                    ));
                }
            }
            None => {
                let known: Vec<&str> = DEFS.iter().map(|d| d.config[0]).collect();
                warnings.push(format!(
                    "unknown $config key \"{key}\" ignored (known keys: {})",
                    known.join(", ")
                ));
            }
        }
    }
    (opts, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn config_overrides_script() {
        let (o, w) = resolve(
            &kv(&[
                ("endpoint", "tcp://a:1"),
                ("zmq_hwm", "5"),
                ("json_timestamps", "JSON::TS_EPOCH"),
            ]),
            &kv(&[
                ("endpoint", "tcp://b:2"),
                ("json_timestamps", "JSON::TS_ISO8601"),
                ("json_include_unset_fields", "T"),
            ]),
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(o.endpoint, "tcp://b:2");
        assert_eq!(o.hwm, 5);
        assert_eq!(o.json.timestamps, TimestampFormat::Iso8601);
        assert!(o.json.include_unset);
    }

    #[test]
    fn bad_values_fall_back_with_a_warning() {
        let (o, w) = resolve(
            &kv(&[("zmq_linger", "100")]),
            &kv(&[
                ("json_timestamps", "JSON::TS_WHATEVER"),
                ("linger", "-7"),
                ("colour", "red"),
            ]),
        );
        assert_eq!(o.json.timestamps, TimestampFormat::Epoch);
        assert_eq!(o.linger_ms, 100);
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(
            w[0].contains("JSON::TS_WHATEVER") && w[0].contains("using LogZeroMQ::json_timestamps")
        );
        assert!(w[2].contains("unknown $config key \"colour\""));
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("2.5"), Some(Duration::from_millis(2500)));
        assert_eq!(parse_interval("5.0 secs"), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_interval("500.0 msecs"),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_interval("1.0 min 30.0 secs"),
            Some(Duration::from_secs(90))
        );
        assert_eq!(parse_interval("soon"), None);
        assert_eq!(parse_interval("-1"), None);
    }
}
