//! `zeek-zmq sub`: receives `[path, json]` messages, or one-frame ones
//! (`{"_path":"conn",...}`, `LogZeroMQ::JSON_WITH_PATH`), and writes the
//! records as JSON lines to stdout or as one log file per path. Messages
//! with a sequence number as their last frame (`[path, json, seq]` or
//! `[{"_path":...}, seq]`, `LogZeroMQ::sequence_numbers`) are checked for
//! gaps ([`crate::gaps`]).

use crate::curve_args::CurveArgs;
use crate::gaps::Gaps;
use crate::rotate::{usable_path, LogDir, Rotation};
use crate::signals;
use crate::stats::{Malformed, Stats};
use crate::units::{parse_duration, parse_size};
use clap::Args;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};
use zeek_zeromq_writer::curve::{self, Security, ZapHandler};
use zeek_zeromq_writer::encoder::{path_key, push_json_with_path, split_json_with_path};
use zeek_zeromq_writer::endpoint;
use zeek_zeromq_writer::monitor::{HandshakeMonitor, Role};
use zeek_zeromq_writer::report::count;
use zeek_zeromq_writer::sequence;

#[derive(Args, Debug)]
pub struct SubArgs {
    /// The endpoint to bind (default tcp://*:12345), or with --connect to
    /// connect to (default tcp://localhost:12345).
    #[arg(short, long)]
    pub endpoint: Option<String>,
    /// Connect to the endpoint (Zeek binds it: LogZeroMQ::bind = T).
    #[arg(long)]
    pub connect: bool,
    /// Only records of this path (frame 1 equal to NAME, or a one-frame
    /// message starting {"_path":"NAME"); repeatable. Default: every path.
    #[arg(short, long = "path", value_name = "NAME")]
    pub paths: Vec<String>,
    /// Match --path as ZeroMQ does, as a prefix (conn also takes conn_long
    /// and conn-2).
    #[arg(long, requires = "paths")]
    pub prefix: bool,
    /// Add a "_path" field first in each record.
    #[arg(long)]
    pub add_path: bool,
    /// Write DIR/<path>.log per path, instead of stdout.
    #[arg(short, long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Rotate every file at the end of each interval (e.g. 1h, 15m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "dir")]
    pub rotate: Option<Duration>,
    /// Rotate a file before it would grow beyond SIZE (e.g. 100M).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, requires = "dir")]
    pub rotate_size: Option<u64>,
    /// gzip rotated files (<path>.<time>.log.gz).
    #[arg(long, requires = "dir")]
    pub gzip: bool,
    /// Report records per second per path on stderr this often (e.g. 10s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub stats: Option<Duration>,
    /// Messages ZeroMQ queues before dropping (ZMQ_RCVHWM); 0 = no limit.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub hwm: i32,
    #[command(flatten)]
    pub curve: CurveArgs,
}

enum Output {
    Stdout(BufWriter<io::Stdout>),
    Dir(LogDir),
}

/// How many malformed messages are described one by one.
const SHOW_MALFORMED: u64 = 5;

/// Gaps in the sequence numbers are reported at most this often.
const GAP_REPORT_EVERY: Duration = Duration::from_secs(1);

struct Receiver {
    exact: Option<Vec<Vec<u8>>>,
    add_path: bool,
    output: Output,
    stats: Stats,
    gaps: Gaps,
    line: Vec<u8>,
    /// A one-frame message's record without its `_path`.
    record: Vec<u8>,
}

impl Receiver {
    fn malformed(&mut self, kind: Malformed, what: String) {
        self.stats.malformed(kind);
        if self.stats.malformed_total() <= SHOW_MALFORMED {
            eprintln!("zeek-zmq sub: malformed message: {what}");
            if self.stats.malformed_total() == SHOW_MALFORMED {
                eprintln!("zeek-zmq sub: (further malformed messages are only counted)");
            }
        }
    }

    /// Handles one message: `[path, json]`, or `[path, json, seq]` with
    /// `seq` read (number, writer id).
    fn message(&mut self, path: &[u8], json: &[u8], seq: Option<(u64, u64)>) -> io::Result<()> {
        self.write_record(path, json, self.add_path, seq)
    }

    /// Handles a one-frame message, `{"_path":"<path>",...}`: its record,
    /// without `_path`, goes to `<path>.log`; stdout gets the frame as
    /// received. `false` if it does not start with a plain path. `seq`:
    /// its sequence number, if it had one (a second frame).
    fn one_frame(&mut self, frame: &[u8], seq: Option<(u64, u64)>) -> io::Result<bool> {
        // The fields after the path, and the closing brace.
        let Some((path, fields)) = split_json_with_path(frame) else {
            return Ok(false);
        };
        let mut record = std::mem::take(&mut self.record);
        record.clear();
        record.push(b'{');
        record.extend_from_slice(fields);
        // Written back with its path, the record is the frame again.
        let with_path = self.add_path || matches!(self.output, Output::Stdout(_));
        let written = self.write_record(path, &record, with_path, seq);
        self.record = record;
        written.map(|()| true)
    }

    /// Checks the record `json` of `path` and writes it, with a `_path`
    /// first if `with_path`; notes its sequence number `seq` if it has one.
    fn write_record(
        &mut self,
        path: &[u8],
        json: &[u8],
        with_path: bool,
        seq: Option<(u64, u64)>,
    ) -> io::Result<()> {
        if let Some(exact) = &self.exact {
            if !exact.iter().any(|p| p == path) {
                return Ok(());
            }
        }
        // It arrived, whatever it holds.
        if let Some((seq, writer)) = seq {
            self.gaps.record(path, seq, writer);
        }
        let is_object = json.first() == Some(&b'{')
            && !json.contains(&b'\n')
            && serde_json::from_slice::<serde::de::IgnoredAny>(json).is_ok();
        if !is_object {
            let shown = String::from_utf8_lossy(&json[..json.len().min(60)]).into_owned();
            self.malformed(
                Malformed::NotJson,
                format!(
                    "path \"{}\": frame 2 is not a JSON object: {shown:?}",
                    String::from_utf8_lossy(path)
                ),
            );
            return Ok(());
        }
        let line: &[u8] = if with_path {
            self.line.clear();
            push_json_with_path(&mut self.line, path, json);
            &self.line
        } else {
            json
        };
        match &mut self.output {
            Output::Stdout(out) => {
                out.write_all(line)?;
                out.write_all(b"\n")?;
            }
            Output::Dir(dir) => {
                if !usable_path(path) {
                    self.malformed(
                        Malformed::BadPath,
                        format!(
                            "path {:?} cannot name a file",
                            String::from_utf8_lossy(path)
                        ),
                    );
                    return Ok(());
                }
                dir.write(path, line)?;
            }
        }
        self.stats.record(path);
        Ok(())
    }

    /// A message of `frames` frames, the first one `first`, that is
    /// neither `[path, json]` (with a sequence number or not) nor
    /// `{"_path":"<path>",...}` (the same).
    fn bad_frame_count(&mut self, frames: usize, first: &[u8]) {
        let shown = String::from_utf8_lossy(&first[..first.len().min(60)]).into_owned();
        self.malformed(
            Malformed::Frames,
            format!("{}, frame 1 {shown:?}", count(frames as u64, "frame")),
        );
    }

    /// A three-frame message whose frame 3 is not a sequence number.
    fn bad_sequence(&mut self, path: &[u8], frame: &[u8]) {
        let shown = String::from_utf8_lossy(&frame[..frame.len().min(60)]).into_owned();
        self.malformed(
            Malformed::BadSequence,
            format!(
                "path \"{}\": frame 3 is not a sequence number: {shown:?}",
                String::from_utf8_lossy(path)
            ),
        );
    }

    /// How long to wait for a message: until the next `--stats` line or
    /// rotation is due, at most 250 ms.
    fn wait_at_most(&self, next_stats: Option<Instant>) -> Duration {
        let mut wait = Duration::from_millis(250);
        if let Some(t) = next_stats {
            wait = wait.min(t.saturating_duration_since(Instant::now()));
        }
        if let Output::Dir(dir) = &self.output {
            if let Some(t) = dir.next_rotation() {
                let left = t
                    .duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO);
                wait = wait.min(left);
            }
        }
        wait
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.output {
            Output::Stdout(out) => out.flush(),
            Output::Dir(dir) => {
                for e in dir.take_errors() {
                    eprintln!("zeek-zmq sub: {e}");
                }
                dir.flush()
            }
        }
    }
}

/// The first three frames of a message (the others are only counted).
type Parts = (zmq::Message, zmq::Message, zmq::Message);

/// Reads one message into `parts`: `Ok(None)` when none is waiting,
/// `Ok(Some(frames))` with the number of frames.
fn recv_message(sock: &zmq::Socket, parts: &mut Parts) -> zmq::Result<Option<usize>> {
    match sock.recv(&mut parts.0, zmq::DONTWAIT) {
        Ok(()) => {}
        Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut frames = 1;
    let mut more = parts.0.get_more();
    // The rest of a message is there once its first frame is.
    if more {
        recv_retrying(sock, &mut parts.1)?;
        frames += 1;
        more = parts.1.get_more();
    }
    if more {
        recv_retrying(sock, &mut parts.2)?;
        frames += 1;
        more = parts.2.get_more();
    }
    let mut rest = zmq::Message::new();
    while more {
        recv_retrying(sock, &mut rest)?;
        frames += 1;
        more = rest.get_more();
    }
    Ok(Some(frames))
}

fn recv_retrying(sock: &zmq::Socket, msg: &mut zmq::Message) -> zmq::Result<()> {
    loop {
        match sock.recv(msg, 0) {
            Err(zmq::Error::EINTR) => continue,
            r => return r,
        }
    }
}

/// How often `--curve-allowed-clients` problems that last (the file
/// missing, more rejected keys than are reported one by one) are said
/// again, at most: as often as the plugin's default
/// `LogZeroMQ::drop_report_interval`.
const REPEAT_EVERY: Duration = Duration::from_secs(60);

/// What is said about publishers: the CURVE clients the ZAP handler
/// rejected, and the publishers whose handshake failed.
struct PeerReports {
    zap: Option<ZapHandler>,
    monitor: HandshakeMonitor,
}

impl PeerReports {
    fn take(&mut self) -> Vec<String> {
        let zap = self.zap.as_ref();
        let rejected = zap.map_or_else(Vec::new, |z| z.take_reports("publisher"));
        let mut lines: Vec<String> = rejected.into_iter().map(|(_, m)| m).collect();
        lines.extend(self.monitor.take_reports(Instant::now()));
        lines
    }
}

fn open_socket(
    args: &SubArgs,
    ctx: &zmq::Context,
    endpoint: &str,
) -> Result<(zmq::Socket, PeerReports), String> {
    let bind = !args.connect;
    let security = args.curve.security(bind)?;
    let zap = ZapHandler::for_security(ctx, &security, REPEAT_EVERY)?;
    let mut sock = ctx
        .socket(zmq::SUB)
        .map_err(|e| format!("cannot create a ZeroMQ socket: {e}"))?;
    sock.set_rcvhwm(args.hwm)
        .and_then(|_| sock.set_linger(0))
        .and_then(|_| sock.set_ipv6(true))
        .map_err(|e| format!("cannot set socket options: {e}"))?;
    curve::apply(&mut sock, &security)?;
    let role = Role {
        peer: "publisher",
        curve: security != Security::Plain,
        bind,
        zap_reports_refusals: zap.is_some(),
    };
    let monitor = HandshakeMonitor::start(ctx, &sock, role, REPEAT_EVERY)?;
    if args.paths.is_empty() {
        sock.set_subscribe(b"")
    } else {
        // Frame 1 of [path, json], and the start of a one-frame message:
        // {"_path":"conn" (its quote closed, unless --prefix).
        args.paths.iter().try_for_each(|p| {
            let mut one_frame = path_key(p.as_bytes());
            if args.prefix {
                one_frame.pop();
            }
            sock.set_subscribe(p.as_bytes())
                .and_then(|()| sock.set_subscribe(&one_frame))
        })
    }
    .map_err(|e| format!("cannot subscribe: {e}"))?;
    endpoint::validate(endpoint, bind).map_err(|e| endpoint::cannot_attach(endpoint, bind, e))?;
    endpoint::attach(&sock, endpoint, bind)?;
    if bind {
        let bound = sock
            .get_last_endpoint()
            .ok()
            .and_then(|e| e.ok())
            .unwrap_or_else(|| endpoint.to_string());
        eprintln!("zeek-zmq sub: bound to {bound}");
    } else {
        eprintln!("zeek-zmq sub: connecting to {endpoint}");
    }
    Ok((sock, PeerReports { zap, monitor }))
}

pub fn run(args: SubArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zeek-zmq sub: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_inner(args: SubArgs) -> Result<(), String> {
    let endpoint = args.endpoint.clone().unwrap_or_else(|| {
        if args.connect {
            "tcp://localhost:12345".into()
        } else {
            "tcp://*:12345".into()
        }
    });
    let output = match &args.dir {
        Some(dir) => Output::Dir(
            LogDir::new(
                dir,
                Rotation {
                    interval: args.rotate,
                    max_size: args.rotate_size,
                    gzip: args.gzip,
                },
            )
            .map_err(|e| format!("cannot use {}: {e}", dir.display()))?,
        ),
        None => Output::Stdout(BufWriter::with_capacity(1 << 16, io::stdout())),
    };
    signals::install();
    let ctx = zmq::Context::new();
    let (sock, mut peers) = open_socket(&args, &ctx, &endpoint)?;
    let start = Instant::now();
    let mut rx = Receiver {
        exact: (!args.prefix && !args.paths.is_empty())
            .then(|| args.paths.iter().map(|p| p.as_bytes().to_vec()).collect()),
        add_path: args.add_path,
        output,
        stats: Stats::new(start),
        gaps: Gaps::default(),
        line: Vec::new(),
        record: Vec::new(),
    };
    let result = receive(&sock, &mut rx, args.stats, &mut peers);
    // Shut down: flush every file, wait for gzip, report.
    let closed = match rx.output {
        Output::Stdout(mut out) => out.flush(),
        Output::Dir(dir) => dir.close(),
    };
    eprintln!("{}", rx.stats.final_line(Instant::now()));
    if rx.gaps.any() {
        eprintln!("{}", rx.gaps.final_line());
    }
    drop(sock);
    drop(peers);
    result?;
    match closed {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(format!("cannot write: {e}")),
        _ => Ok(()),
    }
}

/// The receive loop, until a signal (or stdout is closed). Between
/// batches of messages: rotation, publishers rejected or not understood,
/// `--stats`.
fn receive(
    sock: &zmq::Socket,
    rx: &mut Receiver,
    stats_every: Option<Duration>,
    peers: &mut PeerReports,
) -> Result<(), String> {
    let mut next_stats = stats_every.map(|d| Instant::now() + d);
    let mut next_gap_report = Instant::now();
    let mut message = (
        zmq::Message::new(),
        zmq::Message::new(),
        zmq::Message::new(),
    );
    while !signals::received() {
        let wait = rx.wait_at_most(next_stats);
        match sock.poll(zmq::POLLIN, wait.as_millis() as i64) {
            Ok(_) | Err(zmq::Error::EINTR) => {}
            Err(e) => return Err(format!("cannot receive: {e}")),
        }
        if !take_batch(sock, rx, &mut message)? {
            return Ok(());
        }
        if let Output::Dir(dir) = &mut rx.output {
            dir.tick(SystemTime::now())
                .map_err(|e| format!("cannot rotate: {e}"))?;
        }
        for m in peers.take() {
            eprintln!("zeek-zmq sub: {m}");
        }
        if rx.gaps.has_new() && Instant::now() >= next_gap_report {
            eprintln!("{}", rx.gaps.report_line());
            next_gap_report = Instant::now() + GAP_REPORT_EVERY;
        }
        if let (Some(t), Some(every)) = (next_stats, stats_every) {
            let now = Instant::now();
            if now >= t {
                eprintln!("{}", rx.stats.interval_line(now));
                next_stats = Some(t.max(now - every) + every);
            }
        }
    }
    Ok(())
}

/// Handles the messages waiting, at most a batch of them; if that was all,
/// flushes the output so that readers see what arrived. `Ok(false)` when
/// the reader of stdout is gone.
fn take_batch(sock: &zmq::Socket, rx: &mut Receiver, parts: &mut Parts) -> Result<bool, String> {
    const BATCH: usize = 4096;
    for _ in 0..BATCH {
        let frames = match recv_message(sock, parts) {
            Ok(Some(n)) => n,
            Ok(None) => return written(rx.flush()),
            Err(e) => return Err(format!("cannot receive: {e}")),
        };
        let (a, b, c) = (&parts.0[..], &parts.1[..], &parts.2[..]);
        let one_frame = a.starts_with(b"{\"_path\":\"");
        let handled = match (frames, one_frame) {
            (1, true) => rx.one_frame(a, None).map(|ok| {
                if !ok {
                    rx.bad_frame_count(frames, a);
                }
            }),
            (2, true) => match sequence::parse(b) {
                Some(seq) => rx.one_frame(a, Some(seq)).map(|ok| {
                    if !ok {
                        rx.bad_frame_count(frames, a);
                    }
                }),
                None => {
                    rx.bad_sequence(a, b);
                    Ok(())
                }
            },
            (2, false) => rx.message(a, b, None),
            (3, false) => match sequence::parse(c) {
                Some(seq) => rx.message(a, b, Some(seq)),
                None => {
                    rx.bad_sequence(a, c);
                    Ok(())
                }
            },
            _ => {
                rx.bad_frame_count(frames, a);
                Ok(())
            }
        };
        if !written(handled)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether writing went on (`Ok(true)`), or ended because the reader of
/// stdout is gone (`Ok(false)`: not an error).
fn written(r: io::Result<()>) -> Result<bool, String> {
    match r {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(format!("cannot write: {e}")),
    }
}
