//! A writer's options: defaults, then the script-level `LogZeroMQ::*`
//! values, then the filter's `$config` table.
//!
//! A value that does not parse is reported with a warning that names the
//! option and the value used instead (the script-level value or, for a bad
//! script value, the default). An unknown `$config` key (a typo, most
//! likely) fails the writer ([`check_config_keys`]): what the key meant to
//! set is unknown, and a filter publishing without it, e.g. to the
//! script-level endpoint, or without the CURVE key it was given, puts
//! records where the operator does not expect them. The endpoint is
//! validated separately (see [`crate::endpoint`]).

use crate::channel::SocketOptions;
use crate::encoder::{JsonOptions, TimestampFormat};
use crate::report::{escaped, quoted};
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

/// `LogZeroMQ::MessageFormat`: how a record goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageFormat {
    /// Two frames, `[path, json]`: subscriptions match the path.
    PathAndJson,
    /// One frame, the JSON with `"_path":"<path>"` as its first key:
    /// subscriptions match the frame's first bytes (`{"_path":"conn",`).
    JsonWithPath,
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
    /// With `Block`: how long the records of one stall may wait in all
    /// (see [`crate::publisher`]); zero = until the subscriber reads or Zeek
    /// stops the writer.
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
    /// Two frames per record, or one with the path inside.
    pub message_format: MessageFormat,
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
            // Finite: a subscriber that reads nothing must not grow Zeek's
            // queue for ever (docs/notes-delivery.md).
            block_timeout: Duration::from_secs(10),
            drop_report_interval: Duration::from_secs(60),
            heartbeat_interval: Duration::from_secs(1),
            heartbeat_timeout: Duration::from_secs(30),
            bind: false,
            curve: CurveOptions::default(),
            message_format: MessageFormat::PathAndJson,
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
        expected: "0 (no wait) or an interval from 1 msec to 1 day \
                   (e.g. \"5 secs\" or seconds as a number)",
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
        script: "message_format",
        config: &["message_format"],
        expected: "LogZeroMQ::PATH_AND_JSON or LogZeroMQ::JSON_WITH_PATH",
        set: |o, v| {
            let format = match v.trim().trim_start_matches("LogZeroMQ::") {
                "PATH_AND_JSON" => MessageFormat::PathAndJson,
                "JSON_WITH_PATH" => MessageFormat::JsonWithPath,
                _ => return false,
            };
            o.message_format = format;
            true
        },
    },
    OptionDef {
        script: "block_timeout",
        config: &["block_timeout"],
        expected: "0 (no limit) or an interval from 1 msec to 1 day \
                   (e.g. \"5 secs\" or seconds as a number)",
        set: |o, v| set_interval(&mut o.block_timeout, v, MAX_INTERVAL),
    },
    OptionDef {
        script: "drop_report_interval",
        config: &["drop_report_interval"],
        expected: "0 (every heartbeat) or an interval from 1 msec to 1 day \
                   (e.g. \"1 min\" or seconds as a number)",
        set: |o, v| set_interval(&mut o.drop_report_interval, v, MAX_INTERVAL),
    },
    OptionDef {
        script: "heartbeat_interval",
        config: &["heartbeat_interval"],
        expected: "0 (no heartbeats) or an interval from 1 msec to 6553 secs (e.g. \"1 sec\")",
        set: |o, v| set_interval(&mut o.heartbeat_interval, v, MAX_HEARTBEAT_INTERVAL),
    },
    OptionDef {
        script: "heartbeat_timeout",
        config: &["heartbeat_timeout"],
        expected: "0 (never) or an interval from 1 msec to 6553 secs (e.g. \"30 secs\")",
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

/// The shortest interval an option takes, zero aside: libzmq counts in
/// milliseconds, and a shorter heartbeat interval or timeout would become
/// 0, silently turning it off.
const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// Sets `field` to the interval `v` if it parses and is 0 or from
/// [`MIN_INTERVAL`] to `max`.
fn set_interval(field: &mut Duration, v: &str, max: Duration) -> bool {
    match parse_interval(v) {
        Some(d) if d <= max && (d.is_zero() || d >= MIN_INTERVAL) => {
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

/// The options of a writer, and what was wrong with the values given, by
/// where they came from.
#[derive(Debug)]
pub struct Resolved {
    pub options: Options,
    /// About script-level values: the same for every writer of the
    /// process (the writer reports each once per process).
    pub script_warnings: Vec<String>,
    /// About the filter's `$config`: this writer's own.
    pub config_warnings: Vec<String>,
}

/// Resolves options; returns them with the warnings to report, those about
/// the script-level values first.
pub fn resolve(script: &[(String, String)], config: &[(String, String)]) -> (Options, Vec<String>) {
    let r = resolve_by_source(script, config);
    let mut warnings = r.script_warnings;
    warnings.extend(r.config_warnings);
    (r.options, warnings)
}

/// Resolves options: the defaults, then `script` (`LogZeroMQ::*`), then
/// `config` (the filter's `$config`). A value that does not parse leaves
/// the option as it was, and a warning names the value used instead. The
/// values are shown escaped ([`quoted`]).
pub fn resolve_by_source(script: &[(String, String)], config: &[(String, String)]) -> Resolved {
    let mut opts = Options::default();
    let mut script_warnings = Vec::new();
    // The script-level values that were used, to name them when a
    // `$config` value falls back to one.
    let mut used: Vec<(&str, &str)> = Vec::new();
    for (name, value) in script {
        match DEFS.iter().find(|d| d.script == name) {
            Some(def) => {
                if (def.set)(&mut opts, value) {
                    used.push((def.script, value));
                } else {
                    script_warnings.push(format!(
                        "LogZeroMQ::{name} = {} is not {}; using the default",
                        quoted(value),
                        def.expected
                    ));
                }
            }
            None => script_warnings.push(format!(
                "unknown script option LogZeroMQ::{} ignored",
                escaped(name)
            )),
        }
    }
    let mut config_warnings = Vec::new();
    for (key, value) in config {
        // Unknown keys are check_config_keys' to report.
        let Some(def) = DEFS.iter().find(|d| d.config.contains(&key.as_str())) else {
            continue;
        };
        if !(def.set)(&mut opts, value) {
            let instead = match used.iter().find(|(s, _)| *s == def.script) {
                Some((_, v)) => format!("LogZeroMQ::{} = {}", def.script, quoted(v)),
                None => format!("LogZeroMQ::{} (the default)", def.script),
            };
            config_warnings.push(format!(
                "$config[{}] = {} is not {}; using {instead}",
                quoted(key),
                quoted(value),
                def.expected
            ));
        }
    }
    Resolved {
        options: opts,
        script_warnings,
        config_warnings,
    }
}

/// `Err` with the message for the writer's error if `config` has a key no
/// option takes: each unknown key with the known one closest to it (by
/// edit distance) if one is close, and where the records would go without
/// the key (`opts`, as resolved).
pub fn check_config_keys(config: &[(String, String)], opts: &Options) -> Result<(), String> {
    let unknown: Vec<&str> = config
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !DEFS.iter().any(|d| d.config.contains(k)))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let described: Vec<String> = unknown
        .iter()
        .map(|k| match closest_config_key(k) {
            Some(known) => format!("{} (did you mean \"{known}\"?)", quoted(k)),
            None => quoted(k),
        })
        .collect();
    let mut text = format!(
        "unknown $config key{} {}",
        if unknown.len() == 1 { "" } else { "s" },
        described.join(", ")
    );
    if unknown.iter().any(|k| closest_config_key(k).is_none()) {
        let known: Vec<&str> = DEFS.iter().map(|d| d.config[0]).collect();
        text.push_str(&format!(" (known keys: {})", known.join(", ")));
    }
    let source = if config.iter().any(|(k, _)| k == "endpoint") {
        "$config[\"endpoint\"]"
    } else {
        "LogZeroMQ::endpoint"
    };
    let without = if opts.endpoint.is_empty() {
        format!("without the key it would have no endpoint ({source} is empty)")
    } else {
        format!(
            "without the key it would go to {} ({source})",
            escaped(&opts.endpoint)
        )
    };
    Err(format!("{text}: not publishing this log; {without}"))
}

/// The known `$config` key most like `key` (ignoring case), if one is
/// close enough to be what was meant: at most 2 edits away, or a quarter
/// of a long key's length.
fn closest_config_key(key: &str) -> Option<&'static str> {
    let key = key.to_ascii_lowercase();
    let limit = 2.max(key.len() / 4);
    DEFS.iter()
        .flat_map(|d| d.config.iter().copied())
        .map(|known| (edit_distance(&key, known), known))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, known)| known)
}

/// Levenshtein distance: the fewest single-character insertions,
/// deletions and substitutions that turn `a` into `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
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
        // The unknown key is check_config_keys' to report.
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].contains("JSON::TS_WHATEVER") && w[0].contains("using LogZeroMQ::json_timestamps")
        );
    }

    #[test]
    fn an_unknown_key_names_the_closest_known_one_and_the_endpoint_in_use() {
        let script = kv(&[("endpoint", "tcp://a:1")]);
        let config = kv(&[("endpont", "tcp://b:2")]);
        let (o, _) = resolve(&script, &config);
        assert_eq!(
            check_config_keys(&config, &o).unwrap_err(),
            "unknown $config key \"endpont\" (did you mean \"endpoint\"?): not publishing \
             this log; without the key it would go to tcp://a:1 (LogZeroMQ::endpoint)"
        );
        // The endpoint of the filter's own $config, and a key like none.
        let config = kv(&[
            ("endpoint", "tcp://b:2"),
            ("Curve_Secret_Key_Fil", "x"),
            ("colour", "red"),
        ]);
        let (o, _) = resolve(&script, &config);
        let e = check_config_keys(&config, &o).unwrap_err();
        assert!(
            e.starts_with(
                "unknown $config keys \"Curve_Secret_Key_Fil\" (did you mean \
                 \"curve_secret_key_file\"?), \"colour\" (known keys: endpoint, hwm, "
            ),
            "{e}"
        );
        assert!(
            e.ends_with(
                ": not publishing this log; without the key it would go to tcp://b:2 \
                 ($config[\"endpoint\"])"
            ),
            "{e}"
        );
        let (o, _) = resolve(&[], &kv(&[("bnd", "T")]));
        assert!(check_config_keys(&kv(&[("bnd", "T")]), &o)
            .unwrap_err()
            .contains(
                "(did you mean \"bind\"?): not publishing this log; without the key it \
                       would have no endpoint (LogZeroMQ::endpoint is empty)"
            ));
        assert_eq!(
            check_config_keys(&kv(&[("zmq_hwm", "5"), ("hwm", "6")]), &o),
            Ok(())
        );
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("endpont", "endpoint"), 1);
        assert_eq!(edit_distance("", "bind"), 4);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(closest_config_key("lingr"), Some("linger"));
        assert_eq!(closest_config_key("colour"), None);
    }

    #[test]
    fn message_format_by_script_and_config() {
        let (o, w) = resolve(&kv(&[("message_format", "LogZeroMQ::JSON_WITH_PATH")]), &[]);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(o.message_format, MessageFormat::JsonWithPath);
        let (o, w) = resolve(
            &kv(&[("message_format", "LogZeroMQ::JSON_WITH_PATH")]),
            &kv(&[("message_format", "LogZeroMQ::PATH_AND_JSON")]),
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(o.message_format, MessageFormat::PathAndJson);
        let (o, w) = resolve(&[], &kv(&[("message_format", "ONE_FRAME")]));
        assert_eq!(o.message_format, MessageFormat::PathAndJson);
        assert!(w[0].contains("LogZeroMQ::JSON_WITH_PATH"), "{w:?}");
    }

    #[test]
    fn intervals_below_a_millisecond_are_refused_zero_is_not() {
        let names = [
            "wait_for_subscribers",
            "block_timeout",
            "drop_report_interval",
            "heartbeat_interval",
            "heartbeat_timeout",
        ];
        for name in names {
            // Zeek renders `0.001 usec` as 1e-09.
            for tiny in ["1e-09", "0.999 msecs", "500 usecs"] {
                let r = resolve_by_source(&kv(&[(name, tiny)]), &[]);
                assert_eq!(r.options, Options::default(), "{name} = {tiny}");
                assert_eq!(r.script_warnings.len(), 1, "{name}: {r:?}");
                let w = &r.script_warnings[0];
                assert!(
                    w.starts_with(&format!("LogZeroMQ::{name} = \"{tiny}\" is not 0 ("))
                        && w.contains("an interval from 1 msec to")
                        && w.ends_with("; using the default"),
                    "{w}"
                );
                // In $config: the script-level value is used, and named.
                let r = resolve_by_source(&kv(&[(name, "2")]), &kv(&[(name, tiny)]));
                assert!(r.script_warnings.is_empty(), "{r:?}");
                let w = &r.config_warnings[0];
                assert!(
                    w.starts_with(&format!("$config[\"{name}\"] = \"{tiny}\" is not 0 ("))
                        && w.ends_with(&format!("; using LogZeroMQ::{name} = \"2\"")),
                    "{w}"
                );
                let r = resolve_by_source(&[], &kv(&[(name, tiny)]));
                assert!(
                    r.config_warnings[0]
                        .ends_with(&format!("; using LogZeroMQ::{name} (the default)")),
                    "{r:?}"
                );
            }
            for fine in ["0", "0.0", "0.001", "1 msec", "1.5 msecs"] {
                let (_, w) = resolve(&kv(&[(name, fine)]), &[]);
                assert!(w.is_empty(), "{name} = {fine}: {w:?}");
            }
        }
        let (o, _) = resolve(&kv(&[("heartbeat_timeout", "0")]), &[]);
        assert_eq!(o.heartbeat_timeout, Duration::ZERO);
        assert_eq!(o.socket_options().heartbeat_timeout_ms, 0);
        let (o, _) = resolve(&kv(&[("heartbeat_interval", "0.001")]), &[]);
        assert_eq!(o.socket_options().heartbeat_ivl_ms, 1);
    }

    #[test]
    fn warnings_show_values_escaped() {
        let r = resolve_by_source(
            &kv(&[("zmq_hwm", "1\0\n2"), ("no\u{7}such", "x")]),
            &kv(&[("hwm", "\u{1b}[2J"), ("col\0our", "red")]),
        );
        let all = [r.script_warnings, r.config_warnings].concat();
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(all[0].starts_with("LogZeroMQ::zmq_hwm = \"1\\0\\n2\" is not"));
        assert_eq!(
            all[1],
            "unknown script option LogZeroMQ::no\\u{7}such ignored"
        );
        assert!(all[2].starts_with("$config[\"hwm\"] = \"\\u{1b}[2J\" is not"));
        assert!(
            all.iter().all(|w| !w.chars().any(char::is_control)),
            "{all:?}"
        );
        // An unknown key is check_config_keys' error, escaped too.
        let config = kv(&[("col\0our", "red")]);
        let e = check_config_keys(&config, &resolve(&[], &config).0).unwrap_err();
        assert!(e.starts_with("unknown $config key \"col\\0our\""), "{e}");
        assert!(!e.chars().any(char::is_control), "{e}");
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
