//! `zeek-zmq replay`: publishes Zeek logs (TSV or JSON lines, plain or
//! gzip) as `[path, json]` messages through the writer's own publisher,
//! exactly as the plugin would have published the records.

use crate::curve_args::CurveArgs;
use crate::logfile::{Item, LogFile};
use crate::progress::Progress;
use crate::signals;
use crate::units::{parse_duration, parse_rate, show_duration};
use clap::{Args, ValueEnum};
use std::collections::HashSet;
use std::convert::Infallible;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use zeek_zeromq_writer::channel::Sent;
use zeek_zeromq_writer::encoder::{push_json_with_path, JsonOptions, TimestampFormat};
use zeek_zeromq_writer::endpoint;
use zeek_zeromq_writer::options::{MessageFormat, Options, OverflowPolicy};
use zeek_zeromq_writer::publisher::{PublishError, Publisher};
use zeek_zeromq_writer::report::count;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Overflow {
    /// Wait while a subscriber is --hwm messages behind.
    Block,
    /// Drop (and count) records a subscriber has no room for.
    Drop,
}

impl From<Overflow> for OverflowPolicy {
    fn from(o: Overflow) -> OverflowPolicy {
        match o {
            Overflow::Block => OverflowPolicy::Block,
            Overflow::Drop => OverflowPolicy::Drop,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Two frames, [path, json] (LogZeroMQ::PATH_AND_JSON).
    PathAndJson,
    /// One frame, the JSON with "_path" first (LogZeroMQ::JSON_WITH_PATH).
    JsonWithPath,
}

impl From<Format> for MessageFormat {
    fn from(f: Format) -> MessageFormat {
        match f {
            Format::PathAndJson => MessageFormat::PathAndJson,
            Format::JsonWithPath => MessageFormat::JsonWithPath,
        }
    }
}

fn parse_timestamps(s: &str) -> Result<TimestampFormat, String> {
    let name = s.trim().trim_start_matches("JSON::").to_ascii_uppercase();
    let name = if name.starts_with("TS_") {
        name
    } else {
        format!("TS_{name}")
    };
    TimestampFormat::from_zeek_name(&format!("JSON::{name}")).ok_or_else(|| {
        format!("\"{s}\": use JSON::TS_EPOCH, TS_MILLIS, TS_MILLIS_UNSIGNED or TS_ISO8601")
    })
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Zeek logs: TSV (with its #fields/#types header) or JSON lines, plain
    /// or gzip-compressed.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The endpoint to connect to (default tcp://localhost:12345), or with
    /// --bind to bind (default tcp://*:12345). LogZeroMQ::endpoint.
    #[arg(short, long)]
    pub endpoint: Option<String>,
    /// Bind the endpoint; subscribers connect (LogZeroMQ::bind).
    #[arg(long)]
    pub bind: bool,
    /// Publish every record under this path (default: the TSV's #path,
    /// else the file name up to its first dot: conn.json.log -> conn).
    #[arg(short, long, value_name = "NAME")]
    pub path: Option<String>,
    /// At most this many records per second (e.g. 1000/s, 60/m).
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Replay the files again and again until interrupted.
    #[arg(long = "loop")]
    pub repeat: bool,
    /// Before the first record of each path, wait for a subscriber of it,
    /// for all paths together this long at most (0: do not wait).
    /// LogZeroMQ::wait_for_subscribers.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    pub wait_for_subscribers: Duration,
    /// Messages queued per subscriber (LogZeroMQ::zmq_hwm); 0 = no limit.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub hwm: i32,
    /// Milliseconds to wait at exit for queued messages
    /// (LogZeroMQ::zmq_linger); -1 = until delivered.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 3000,
        allow_negative_numbers = true
    )]
    pub linger: i32,
    /// Milliseconds to pause after connecting (LogZeroMQ::zmq_connect_pause).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub connect_pause: u64,
    /// When a subscriber is --hwm messages behind (LogZeroMQ::overflow_policy).
    #[arg(long, value_enum, default_value_t = Overflow::Block)]
    pub overflow: Overflow,
    /// With --overflow block: the longest a record waits before it is
    /// dropped; 0 = forever (LogZeroMQ::block_timeout).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "0")]
    pub block_timeout: Duration,
    /// Timestamps of TSV records: JSON::TS_EPOCH, TS_MILLIS,
    /// TS_MILLIS_UNSIGNED or TS_ISO8601 (LogZeroMQ::json_timestamps).
    #[arg(long, value_name = "FORMAT", value_parser = parse_timestamps, default_value = "JSON::TS_EPOCH")]
    pub json_timestamps: TimestampFormat,
    /// Write unset fields of TSV records as null
    /// (LogZeroMQ::json_include_unset_fields).
    #[arg(long)]
    pub json_include_unset_fields: bool,
    /// The messages' format (LogZeroMQ::message_format).
    #[arg(long, value_enum, default_value_t = Format::PathAndJson)]
    pub format: Format,
    /// Replay a TSV log x.log also when its JSON twin x.json.log is given
    /// (by default only the JSON one is replayed: both hold the same records).
    #[arg(long)]
    pub all_files: bool,
    /// No progress line (it is shown only on a terminal anyway).
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub curve: CurveArgs,
}

#[derive(Default)]
struct Counts {
    records: u64,
    sent: u64,
    dropped_full: u64,
    dropped_no_subscriber: u64,
    /// Still queued when `--linger` ran out at the end.
    unsent: u64,
    malformed: u64,
    files: u64,
    failed_files: u64,
}

impl Counts {
    fn add(&mut self, sent: Sent) {
        match sent {
            Sent::Queued => self.sent += 1,
            // With --bind, the other subscribers got it.
            Sent::PartlyQueued | Sent::Full => self.dropped_full += 1,
            Sent::NoSubscriber => self.dropped_no_subscriber += 1,
        }
        self.records += 1;
    }

    fn summary(&self, elapsed: Duration) -> String {
        let dropped = self.dropped_full + self.dropped_no_subscriber + self.unsent;
        let mut s = format!(
            "zeek-zmq replay: {} from {} in {} ({:.0}/s): {} sent, {dropped} dropped",
            count(self.records, "record"),
            count(self.files, "file"),
            show_duration(elapsed),
            self.records as f64 / elapsed.as_secs_f64().max(1e-9),
            self.sent,
        );
        if dropped > 0 {
            s.push_str(&format!(
                " ({} with no subscriber, {} with a subscriber --hwm messages behind, \
                 {} unsent when --linger ran out)",
                self.dropped_no_subscriber, self.dropped_full, self.unsent
            ));
        }
        s.push_str(&format!(
            "; {} skipped",
            count(self.malformed, "malformed line")
        ));
        if self.failed_files > 0 {
            s.push_str(&format!(
                "; {} could not be read",
                count(self.failed_files, "file")
            ));
        }
        s
    }

    /// Why no record reached a subscriber, if there were records and none
    /// did: what the drops say about the cause, and what to do about it.
    fn nothing_delivered(&self, opts: &Options) -> Option<String> {
        if self.records == 0 || self.sent > 0 {
            return None;
        }
        let why = if self.dropped_no_subscriber == self.records {
            let (peer, verb) = if opts.bind {
                ("connected to", "binds it")
            } else {
                ("bound to", "connects to it")
            };
            format!(
                "no subscriber of any path at {}: is a subscriber {peer} it (this end {verb}), \
                 subscribed to these paths, with the same CURVE keys? --wait-for-subscribers \
                 waits for one",
                opts.endpoint
            )
        } else {
            format!(
                "the subscribers took none of them ({} with no subscriber, {} with a \
                 subscriber --hwm messages behind, {} unsent when --linger ran out)",
                self.dropped_no_subscriber, self.dropped_full, self.unsent
            )
        };
        Some(format!("zeek-zmq replay: nothing was delivered: {why}"))
    }
}

pub fn run(args: ReplayArgs) -> ExitCode {
    match run_inner(&args) {
        Ok((counts, opts)) => match counts.nothing_delivered(&opts) {
            Some(why) => {
                eprintln!("{why}");
                ExitCode::FAILURE
            }
            None if counts.failed_files > 0 => ExitCode::FAILURE,
            None => ExitCode::SUCCESS,
        },
        Err(e) => {
            eprintln!("zeek-zmq replay: {e}");
            ExitCode::FAILURE
        }
    }
}

fn options(args: &ReplayArgs) -> Result<Options, String> {
    let endpoint = args.endpoint.clone().unwrap_or_else(|| {
        if args.bind {
            "tcp://*:12345".into()
        } else {
            "tcp://localhost:12345".into()
        }
    });
    endpoint::validate(&endpoint, args.bind)
        .map_err(|e| format!("bad endpoint \"{endpoint}\": {e}"))?;
    Ok(Options {
        endpoint,
        hwm: args.hwm.max(0),
        linger_ms: args.linger.max(-1),
        connect_pause_ms: args.connect_pause,
        wait_for_subscribers: Duration::ZERO,
        json: JsonOptions {
            timestamps: args.json_timestamps,
            include_unset: args.json_include_unset_fields,
        },
        overflow: args.overflow.into(),
        block_timeout: args.block_timeout,
        bind: args.bind,
        message_format: args.format.into(),
        ..Options::default()
    })
}

/// Waiting for subscribers: once for all paths, each path's first record
/// waiting for a subscriber of it until `--wait-for-subscribers` after the
/// first one began to wait (so that N paths nobody subscribes to take one
/// wait, not N).
struct SubscriberWait {
    timeout: Duration,
    deadline: Option<Instant>,
    /// The paths whose first record waited.
    waited: HashSet<Vec<u8>>,
    /// A path had no subscriber by the deadline.
    missed: bool,
}

impl SubscriberWait {
    fn new(timeout: Duration) -> SubscriberWait {
        SubscriberWait {
            timeout,
            deadline: None,
            waited: HashSet::new(),
            missed: false,
        }
    }

    /// Before a record of `path`: if it is the path's first, waits (in
    /// short turns, so that a signal ends the wait) for a subscriber of it,
    /// until the deadline, and says so when none came. Returns how long it
    /// waited.
    fn before(
        &mut self,
        publisher: &mut Publisher,
        path: &[u8],
        progress: &mut Progress,
    ) -> Duration {
        if self.timeout.is_zero() || self.waited.contains(path) {
            return Duration::ZERO;
        }
        self.waited.insert(path.to_vec());
        let start = Instant::now();
        let deadline = *self.deadline.get_or_insert(start + self.timeout);
        while !signals::received() {
            let left = deadline.saturating_duration_since(Instant::now());
            if publisher.wait_for_subscriber(path, left.min(Duration::from_millis(100))) {
                break;
            }
            if left.is_zero() {
                progress.clear();
                let path = String::from_utf8_lossy(path);
                if std::mem::replace(&mut self.missed, true) {
                    eprintln!(
                        "zeek-zmq replay: no subscriber of \"{path}\" either; publishing anyway"
                    );
                } else {
                    eprintln!(
                        "zeek-zmq replay: no subscriber of \"{path}\" after {}; publishing \
                         anyway (records nobody subscribes to are dropped and counted; \
                         further paths do not wait)",
                        show_duration(self.timeout)
                    );
                }
                break;
            }
        }
        start.elapsed()
    }
}

/// Zeek's TSV log `x.log` next to its JSON twin `x.json.log` (as in a
/// folder where Zeek wrote both): the files to replay without such TSV
/// twins, and the twins left out (each with its JSON file).
pub fn without_tsv_twins(files: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, PathBuf)>) {
    let key = |p: &PathBuf| {
        let name = p.to_string_lossy();
        let name = name.strip_suffix(".gz").unwrap_or(&name).to_string();
        name
    };
    let names: HashSet<String> = files.iter().map(key).collect();
    let mut keep = Vec::new();
    let mut twins = Vec::new();
    for f in files {
        let name = key(f);
        let twin = name
            .strip_suffix(".log")
            .filter(|stem| !stem.ends_with(".json"))
            .map(|stem| format!("{stem}.json.log"));
        match twin.filter(|t| names.contains(t)) {
            Some(t) => twins.push((
                f.clone(),
                files
                    .iter()
                    .find(|g| key(g) == t)
                    .cloned()
                    .unwrap_or_default(),
            )),
            None => keep.push(f.clone()),
        }
    }
    (keep, twins)
}

fn run_inner(args: &ReplayArgs) -> Result<(Counts, Options), String> {
    let opts = options(args)?;
    let files = files_to_replay(args)?;
    signals::install();
    let security = args.curve.security(args.bind)?;
    // One publisher: no other writer's socket options to differ from.
    let (publisher, _) = Publisher::open(&opts, security, b"")?;
    let mut replay = Replay {
        args,
        json: opts.json,
        publisher,
        progress: Progress::new(!args.quiet && std::io::stderr().is_terminal()),
        counts: Counts::default(),
        wait: SubscriberWait::new(args.wait_for_subscribers),
        start: Instant::now(),
        paced_from: Instant::now(),
        last_reports: Instant::now(),
    };
    replay.passes(&files)?;
    Ok((replay.finish(), opts))
}

/// The files to replay with their sizes (for the progress line), saying
/// which TSV twins are left out.
fn files_to_replay(args: &ReplayArgs) -> Result<Vec<(PathBuf, u64)>, String> {
    let (files, twins) = if args.all_files {
        (args.files.clone(), Vec::new())
    } else {
        without_tsv_twins(&args.files)
    };
    for (tsv, json) in &twins {
        eprintln!(
            "zeek-zmq replay: leaving out {}: {} holds the same log as JSON (--all-files replays both)",
            tsv.display(),
            json.display()
        );
    }
    files
        .into_iter()
        .map(|f| match std::fs::metadata(&f) {
            Ok(m) => Ok((f, m.len())),
            Err(e) => Err(format!("cannot read {}: {e}", f.display())),
        })
        .collect()
}

/// A replay under way: where it publishes, and what it counted.
struct Replay<'a> {
    args: &'a ReplayArgs,
    /// How TSV records are written as JSON.
    json: JsonOptions,
    publisher: Publisher,
    progress: Progress,
    counts: Counts,
    wait: SubscriberWait,
    start: Instant,
    /// Where `--rate`'s schedule starts: `start`, plus the time spent
    /// waiting for subscribers.
    paced_from: Instant,
    /// When the publisher's reports were last shown.
    last_reports: Instant,
}

/// Whether publishing goes on, or a signal ended it.
#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Interrupted,
}

impl Replay<'_> {
    /// The files once, or again and again with `--loop`, until a signal.
    fn passes(&mut self, files: &[(PathBuf, u64)]) -> Result<(), String> {
        let total_size = files.iter().map(|(_, size)| size).sum::<u64>().max(1);
        loop {
            if self.pass(files, total_size)? == Flow::Interrupted
                || !self.args.repeat
                || self.counts.files == 0
            {
                return Ok(());
            }
        }
    }

    /// Every file once.
    fn pass(&mut self, files: &[(PathBuf, u64)], total_size: u64) -> Result<Flow, String> {
        let mut done_size = 0;
        for (name, size) in files {
            let mut log = match LogFile::open(name, self.args.path.as_deref(), self.json) {
                Ok(log) => log,
                Err(e) => {
                    self.note(&format!(
                        "zeek-zmq replay: cannot read {}: {e}",
                        name.display()
                    ));
                    self.counts.failed_files += 1;
                    continue;
                }
            };
            self.counts.files += 1;
            // How far through all input a part of this file is.
            let fraction = |part: f64| (done_size as f64 + part * *size as f64) / total_size as f64;
            if self.file(&mut log, fraction)? == Flow::Interrupted {
                return Ok(Flow::Interrupted);
            }
            done_size += size;
        }
        Ok(Flow::Continue)
    }

    /// Publishes the records of one file, says which lines are malformed.
    fn file(&mut self, log: &mut LogFile, fraction: impl Fn(f64) -> f64) -> Result<Flow, String> {
        loop {
            if signals::received() {
                return Ok(Flow::Interrupted);
            }
            match log.next_item() {
                Err(e) => {
                    self.note(&format!("zeek-zmq replay: {}: {e}", log.name().display()));
                    self.counts.failed_files += 1;
                    return Ok(Flow::Continue);
                }
                Ok(Item::End) => return Ok(Flow::Continue),
                Ok(Item::Malformed { line, reason }) => {
                    let name = log.name().display();
                    self.note(&format!("{name}:{line}: {reason}; skipped"));
                    self.counts.malformed += 1;
                }
                Ok(Item::Record { path, json }) => self.record(path, json)?,
            }
            let done = (!self.args.repeat).then(|| fraction(log.progress()));
            self.progress.update(self.counts.records, done);
            self.show_reports();
        }
    }

    /// Publishes one record: after waiting for a subscriber of a new path
    /// and for its turn under `--rate`, as the plugin would under the
    /// overflow policy (a signal ends waiting for room).
    fn record(&mut self, path: &[u8], json: &[u8]) -> Result<(), String> {
        let waited = self
            .wait
            .before(&mut self.publisher, path, &mut self.progress);
        self.progress.exclude(waited);
        self.paced_from += waited;
        if let Some(rate) = self.args.rate {
            let due = self.paced_from + Duration::from_secs_f64(self.counts.records as f64 / rate);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        let format = self.args.format;
        let copy = |frame: &mut Vec<u8>| {
            match format {
                Format::PathAndJson => frame.extend_from_slice(json),
                Format::JsonWithPath => push_json_with_path(frame, path, json),
            }
            Ok::<(), Infallible>(())
        };
        match self.publisher.publish_until(path, copy, signals::received) {
            Ok(sent) => self.counts.add(sent),
            Err(PublishError::Socket(e)) => return Err(format!("cannot send: {e}")),
            Err(PublishError::Fill(never)) => match never {},
        }
        Ok(())
    }

    /// What the publisher has to report (rejected CURVE clients), at most
    /// once a second.
    fn show_reports(&mut self) {
        if self.last_reports.elapsed() < Duration::from_secs(1) {
            return;
        }
        self.last_reports = Instant::now();
        for (_, m) in self.publisher.take_reports() {
            self.note(&format!("zeek-zmq replay: {m}"));
        }
    }

    /// A line on stderr, under the progress line.
    fn note(&mut self, line: &str) {
        self.progress.clear();
        eprintln!("{line}");
    }

    /// Waits (at most `--linger`) for what is still queued, or (connecting)
    /// not acknowledged by the subscriber's kernel; reports.
    fn finish(mut self) -> Counts {
        self.progress.clear();
        let u = self.publisher.close();
        let unsent = (u.queued + u.unacknowledged + u.lost).min(self.counts.sent);
        self.counts.sent -= unsent;
        self.counts.unsent = unsent;
        eprintln!("{}", self.counts.summary(self.start.elapsed()));
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_twins() {
        let files: Vec<PathBuf> = [
            "get/conn.log",
            "get/conn.json.log",
            "get/http.log",
            "old/dns.log.gz",
            "old/dns.json.log",
            "x/files.json.log",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let (keep, twins) = without_tsv_twins(&files);
        assert_eq!(
            keep,
            [
                "get/conn.json.log",
                "get/http.log",
                "old/dns.json.log",
                "x/files.json.log"
            ]
            .iter()
            .map(PathBuf::from)
            .collect::<Vec<_>>()
        );
        assert_eq!(twins.len(), 2);
        assert_eq!(
            twins[1],
            ("old/dns.log.gz".into(), "old/dns.json.log".into())
        );
    }
}
