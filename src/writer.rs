//! One Zeek writer (one log path of one filter): options -> encoder ->
//! publisher, with the counters and the drop reports. The bridge
//! ([`crate::bridge::ZeekWriter`]) calls the methods of the same names from
//! the writer's own thread.

use crate::channel::Sent;
use crate::curve;
use crate::encoder::{Encoder, TimestampFormat};
use crate::endpoint;
use crate::frames::Reach;
use crate::options::{self, MessageFormat, Options, OverflowPolicy};
use crate::publisher::{PublishError, Publisher};
use crate::record::{FieldSpec, Slot};
use crate::report::{self, Report};
use crate::stop::StopSignal;
use std::fmt;
use std::time::{Duration, Instant};

mod drops;

/// Per-writer counters. Always `written == sent + dropped`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records Zeek handed to this writer.
    pub written: u64,
    /// Records queued for every subscriber of the path (and, once the
    /// writer finished, delivered).
    pub sent: u64,
    /// Records not published, for whatever reason (the sum of the next
    /// seven, plus those of an inactive writer).
    pub dropped: u64,
    /// ... because a subscriber was `zmq_hwm` messages behind (in bind
    /// mode, the other subscribers got them).
    pub dropped_full: u64,
    /// ... because no subscriber was there to receive them.
    pub dropped_no_subscriber: u64,
    /// ... because the record could not be encoded.
    pub dropped_bad_record: u64,
    /// ... because the socket failed.
    pub dropped_error: u64,
    /// ... because libzmq still held them, queued for a subscriber, or
    /// (connect mode) the subscriber's kernel had not acknowledged them,
    /// when the linger time ran out at `finish`.
    pub dropped_unsent: u64,
    /// ... because the connection they were written to ended before the
    /// subscriber's kernel acknowledged them (connect mode; as of the
    /// connection's last reading, at a heartbeat).
    pub dropped_lost: u64,
    /// ... because Zeek had stopped the writer and `zmq_linger` had passed
    /// since: with `Block`, a record that found a subscriber without room
    /// no longer waits for it.
    pub dropped_shutdown: u64,
    /// JSON bytes queued (frame 2 only; with `JSON_WITH_PATH`, the one
    /// frame, path included).
    pub bytes: u64,
}

impl Stats {
    /// What was counted since `earlier`.
    pub fn since(&self, earlier: &Stats) -> Stats {
        Stats {
            written: self.written - earlier.written,
            sent: self.sent - earlier.sent,
            dropped: self.dropped - earlier.dropped,
            dropped_full: self.dropped_full - earlier.dropped_full,
            dropped_no_subscriber: self.dropped_no_subscriber - earlier.dropped_no_subscriber,
            dropped_bad_record: self.dropped_bad_record - earlier.dropped_bad_record,
            dropped_error: self.dropped_error - earlier.dropped_error,
            dropped_unsent: self.dropped_unsent - earlier.dropped_unsent,
            dropped_lost: self.dropped_lost - earlier.dropped_lost,
            dropped_shutdown: self.dropped_shutdown - earlier.dropped_shutdown,
            bytes: self.bytes - earlier.bytes,
        }
    }
}

enum State {
    /// Constructed, `init` not yet called.
    Created,
    /// Not publishing: the configuration was unusable (reported at init).
    Inactive,
    Active(Box<Active>),
    /// Finished, or stopped after an internal error.
    Stopped,
}

struct Active {
    encoder: Encoder,
    publisher: Publisher,
    opts: Options,
}

/// The failures reported once per writer.
enum Failure {
    Encode,
    Send,
}

pub struct Writer {
    script_options: Vec<(String, String)>,
    /// Raised by Zeek's main thread when Zeek stops the writer.
    stop: StopSignal,
    /// Zeek before 8.0 wrote `JSON::TS_MILLIS` as an unsigned number.
    unsigned_millis: bool,
    state: State,
    path: Vec<u8>,
    stats: Stats,
    /// `stats` as of the last `take_counts`.
    counted: Stats,
    /// Records sent that the subscriber's kernel had not acknowledged at
    /// the last heartbeat (connect mode).
    unacked: u64,
    /// `stats` as of the last drop report, and when it was.
    drops_reported: Stats,
    last_drop_report: Option<Instant>,
    /// A failure kind already reported (each is reported once per writer).
    reported_encode_error: bool,
    reported_send_error: bool,
    /// Tests: the next record's encoding panics.
    #[cfg(test)]
    panic_in_next_encode: bool,
}

impl Writer {
    /// Main thread: remembers the script-level option values.
    pub fn new(script_options: Vec<(String, String)>) -> Writer {
        Writer {
            script_options,
            stop: StopSignal::default(),
            unsigned_millis: false,
            state: State::Created,
            path: Vec::new(),
            stats: Stats::default(),
            counted: Stats::default(),
            unacked: 0,
            drops_reported: Stats::default(),
            last_drop_report: None,
            reported_encode_error: false,
            reported_send_error: false,
            #[cfg(test)]
            panic_in_next_encode: false,
        }
    }

    /// Adapts the JSON to the Zeek the plugin runs in (`ZEEK_VERSION_NUMBER`,
    /// e.g. 70011 for 7.0.11; 0 = current).
    pub fn for_zeek_version(mut self, version: u32) -> Writer {
        self.unsigned_millis = version != 0 && version < 80000;
        self
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The signal Zeek's main thread raises when it stops this writer
    /// (see [`crate::stop`]). Call it before the writer thread starts.
    pub fn stop_signal(&self) -> StopSignal {
        self.stop.clone()
    }

    /// How long the writer may still wait once Zeek stopped it, before its
    /// socket exists: its `zmq_linger` (`None`: -1, no limit). Then it is
    /// the socket's ([`Publisher::linger`]).
    fn grace(opts: &Options) -> Option<Duration> {
        u64::try_from(opts.linger_ms)
            .ok()
            .map(Duration::from_millis)
    }

    /// True when init succeeded and the writer publishes.
    pub fn is_active(&self) -> bool {
        matches!(self.state, State::Active(_))
    }

    /// `DoInit`: resolves options, validates the endpoint, connects or binds.
    /// Problems are reported; a writer that cannot publish stays inactive.
    pub fn init(
        &mut self,
        report: &dyn Report,
        path: &[u8],
        fields: Vec<FieldSpec>,
        config: Vec<(String, String)>,
    ) {
        self.path = path.to_vec();
        let resolved = options::resolve_by_source(&self.script_options, &config);
        // Every writer has the same script-level options: one warning each
        // for all of them, by whichever writer starts first.
        for w in &resolved.script_warnings {
            if report::first_in_process(w) {
                report.warning(&format!("{w} (said once for all writers)"));
            }
        }
        for w in &resolved.config_warnings {
            report.warning(w);
        }
        let mut opts = resolved.options;
        if self.unsigned_millis && opts.json.timestamps == TimestampFormat::Millis {
            opts.json.timestamps = TimestampFormat::MillisUnsigned;
        }
        let stop = &self.stop;
        let grace = Self::grace(&opts);
        let give_up = || stop.past_deadline(grace);
        let opened = options::check_config_keys(&config, &opts)
            .and_then(|()| Self::open(&opts, path, &give_up));
        self.state = match opened {
            Ok((publisher, warning)) => {
                if let Some(w) = warning {
                    report.warning(&w);
                }
                let encoder = Encoder::new(&fields, opts.json);
                let encoder = match opts.message_format {
                    MessageFormat::PathAndJson => encoder,
                    // One frame: the path goes into it, before the fields.
                    MessageFormat::JsonWithPath => encoder.with_path_key(path),
                };
                State::Active(Box::new(Active {
                    encoder,
                    publisher,
                    opts,
                }))
            }
            Err(why) => {
                report.error(&why);
                State::Inactive
            }
        };
    }

    fn open(
        opts: &Options,
        path: &[u8],
        give_up: &dyn Fn() -> bool,
    ) -> Result<(Publisher, Option<String>), String> {
        if opts.endpoint.is_empty() {
            return Err("no endpoint: set LogZeroMQ::endpoint or the filter's \
                        $config[\"endpoint\"]; not publishing this log"
                .into());
        }
        endpoint::validate(&opts.endpoint, opts.bind).map_err(|why| {
            format!(
                "bad endpoint {}: {why}; not publishing this log",
                report::quoted(&opts.endpoint)
            )
        })?;
        let security = curve::resolve(&opts.curve, opts.bind)
            .map_err(|why| format!("{why}; not publishing this log"))?;
        Publisher::open_until(opts, security, path, give_up)
            .map_err(|why| format!("{why}; not publishing this log"))
    }

    /// `DoWrite`: encodes and publishes one record, and counts how that
    /// went.
    ///
    /// # Safety
    /// The string slots must point at readable bytes (see
    /// [`Encoder::encode`]).
    pub unsafe fn write(&mut self, report: &dyn Report, slots: &[Slot]) {
        self.stats.written += 1;
        let State::Active(active) = &mut self.state else {
            self.stats.dropped += 1;
            return;
        };
        let Active {
            encoder,
            publisher,
            opts,
        } = &mut **active;
        let mut json_len = 0;
        #[cfg(test)]
        let panic_now = std::mem::take(&mut self.panic_in_next_encode);
        let stop = &self.stop;
        let grace = publisher.linger();
        let give_up = || stop.past_deadline(grace);
        let fill = |json: &mut Vec<u8>| {
            #[cfg(test)]
            assert!(!panic_now, "a panic while encoding");
            // SAFETY: the caller promises readable string slots (above).
            let encoded = unsafe { encoder.encode(slots, json) };
            json_len = json.len();
            encoded
        };
        let published = publisher.publish_until(&self.path, fill, give_up);
        // With Block, a record not queued for every subscriber once Zeek had
        // stopped the writer and its linger time had passed did not wait
        // for room: dropped at shutdown.
        let at_shutdown = || opts.overflow == OverflowPolicy::Block && give_up();
        // Every record not queued is dropped, and counted by why.
        if !matches!(published, Ok(Sent::Queued)) {
            self.stats.dropped += 1;
        }
        match published {
            Ok(Sent::Queued) => {
                self.stats.sent += 1;
                self.stats.bytes += json_len as u64;
            }
            Ok(Sent::PartlyQueued) => {
                match at_shutdown() {
                    true => self.stats.dropped_shutdown += 1,
                    false => self.stats.dropped_full += 1,
                }
                self.stats.bytes += json_len as u64;
            }
            Ok(Sent::Full) if at_shutdown() => self.stats.dropped_shutdown += 1,
            Ok(Sent::Full) => self.stats.dropped_full += 1,
            Ok(Sent::NoSubscriber) => self.stats.dropped_no_subscriber += 1,
            Err(PublishError::Fill(e)) => {
                self.stats.dropped_bad_record += 1;
                self.report_once(report, Failure::Encode, &e);
            }
            Err(PublishError::Socket(e)) => {
                self.stats.dropped_error += 1;
                self.report_once(report, Failure::Send, &e);
            }
        }
    }

    /// Reports the first failure of each kind as an error (the others are
    /// only counted).
    fn report_once(&mut self, report: &dyn Report, failure: Failure, e: &dyn fmt::Display) {
        let reported = match failure {
            Failure::Encode => &mut self.reported_encode_error,
            Failure::Send => &mut self.reported_send_error,
        };
        if std::mem::replace(reported, true) {
            return;
        }
        report.error(&match failure {
            Failure::Encode => {
                format!("cannot encode a record ({e}); dropping it and any further bad records")
            }
            Failure::Send => {
                format!("cannot send a record ({e}); dropping it and counting further failures")
            }
        });
    }

    /// Warns about drops not yet reported, at most once per
    /// `drop_report_interval`. Called from `heartbeat` only, so that the
    /// per-record path does no reporting; the totals at `finish` cover drops
    /// no heartbeat reported.
    fn report_drops(&mut self, report: &dyn Report) {
        let State::Active(active) = &self.state else {
            return;
        };
        if self.stats.dropped == self.drops_reported.dropped {
            return;
        }
        let now = Instant::now();
        let due = self
            .last_drop_report
            .is_none_or(|t| now.duration_since(t) >= active.opts.drop_report_interval);
        if !due {
            return;
        }
        let new = self.stats.since(&self.drops_reported);
        // A shared bound socket's high-water mark may not be this writer's.
        let hwm = active.publisher.hwm(active.opts.hwm);
        let handshake = active.publisher.handshake_failed();
        report.warning(&drops::warning(
            &new,
            &self.stats,
            &active.opts,
            hwm,
            handshake.as_deref(),
        ));
        self.drops_reported = self.stats;
        self.last_drop_report = Some(now);
    }

    /// `DoHeartbeat` (about once a second): reads subscription changes,
    /// reports rejected clients and failed handshakes, and drops that are
    /// due.
    pub fn heartbeat(&mut self, report: &dyn Report) {
        if let State::Active(active) = &mut self.state {
            active.publisher.refresh();
            Self::report_publisher(&mut active.publisher, report);
            let acks = active.publisher.poll_acks();
            self.unacked = acks.unacked;
            let lost = self.uncount_sent(acks.lost);
            self.stats.dropped_lost += lost;
        }
        self.report_drops(report);
    }

    /// Counts up to `n` records counted as sent as dropped instead: at
    /// most those not yet given to Zeek's counters as sent (which only
    /// grow). Returns how many.
    fn uncount_sent(&mut self, n: u64) -> u64 {
        let n = n.min(self.stats.sent.saturating_sub(self.counted.sent));
        self.stats.sent -= n;
        self.stats.dropped += n;
        n
    }

    /// What the publisher has to say (rejected clients, failed
    /// handshakes); does not block.
    fn report_publisher(publisher: &mut Publisher, report: &dyn Report) {
        for (level, msg) in publisher.take_reports() {
            report.at(level, &msg);
        }
    }

    /// `DoFinish`: closes the socket, waiting at most the linger time for
    /// queued records, counts those still queued then as dropped, and
    /// reports the totals if anything was dropped (a writer that never
    /// started dropped every record).
    pub fn finish(&mut self, report: &dyn Report) {
        let mut active = match std::mem::replace(&mut self.state, State::Stopped) {
            State::Active(active) => active,
            // It dropped every record: said like any writer's totals.
            State::Inactive if self.stats.dropped > 0 => {
                report.info(&drops::totals_not_started(&self.stats));
                return;
            }
            _ => return,
        };
        // What no heartbeat said yet (a short run may have had none).
        Self::report_publisher(&mut active.publisher, report);
        // Records queued for only some subscribers count as dropped already.
        // Once Zeek stopped the writer, the wait ends zmq_linger after that,
        // however long DoWrite waited before. Finishing is a stop too (the
        // first one counts): a writer finished without Zeek's stop signal
        // (a stream removed by other means, the tests) still waits at most
        // zmq_linger.
        self.stop.raise();
        let stop = &self.stop;
        let grace = active.publisher.linger();
        let writer_id = active.publisher.writer_id();
        let unsent = active.publisher.close_until(&|| stop.past_deadline(grace));
        self.unacked = 0;
        let lost = self.uncount_sent(unsent.lost);
        self.stats.dropped_lost += lost;
        // (At most what counts as sent: libzmq may also hold a record
        // counted as dropped, see `Channel::send_seq`.)
        let unsent = self.uncount_sent(unsent.queued + unsent.unacknowledged);
        self.stats.dropped_unsent += unsent;
        let s = self.stats;
        if s.dropped > 0 {
            // With sequence numbers: which ones this writer's were.
            let numbered = writer_id.map_or_else(String::new, |id| {
                format!("; sequence numbers 1 to {} of writer {id:016x}", s.written)
            });
            report.info(&format!("{}{numbered}", drops::totals(&s)));
        }
    }

    /// Counter increments since the previous call (for Zeek's telemetry).
    /// Records libzmq still holds, or the subscriber's kernel had not
    /// acknowledged at the last heartbeat, count as sent only once they
    /// are given back and acknowledged, so that a record dropped at
    /// `finish` or with its connection is counted once, as dropped: the
    /// counters only grow, and sent + dropped = written once the writer
    /// finished.
    pub fn take_counts(&mut self) -> Stats {
        let mut now = self.stats;
        if let State::Active(active) = &self.state {
            let held = active.publisher.in_flight(Reach::All) + self.unacked;
            now.sent = now.sent.saturating_sub(held);
        }
        // An estimate of what is unacknowledged can shrink and grow again
        // (a heartbeat's bytes, libzmq's batch reaching the kernel): what
        // was counted as sent stays so (and `uncount_sent` leaves it).
        now.sent = now.sent.max(self.counted.sent);
        let earlier = std::mem::replace(&mut self.counted, now);
        now.since(&earlier)
    }

    /// After a panic: stop publishing for good. The record being written
    /// when it came counted as written only: it counts as dropped, so that
    /// sent + dropped = written holds in the counts and totals from here
    /// on. (What libzmq still holds stays counted as sent: the socket goes
    /// with its linger, and nobody is left to wait for it.)
    pub fn stop_after_panic(&mut self) {
        let counted = self.stats.sent + self.stats.dropped;
        self.stats.dropped += self.stats.written.saturating_sub(counted);
        self.state = State::Stopped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Kind;
    use crate::report::{Collected, Level};
    use std::panic::{catch_unwind, AssertUnwindSafe};

    #[test]
    fn a_script_option_is_warned_about_once_per_process_config_per_writer() {
        // A value no other test uses: the set of said messages is the
        // process's.
        let script = vec![
            ("endpoint".to_string(), "tcp://127.0.0.1:1".to_string()),
            ("wait_for_subscribers".into(), "0".into()),
            ("zmq_hwm".into(), "writer::tests once".into()),
        ];
        let config = || vec![("linger".to_string(), "-7".to_string())];
        let warnings: Vec<Vec<String>> = (0..5)
            .map(|_| {
                let report = Collected::default();
                let mut w = Writer::new(script.clone());
                w.init(&report, b"conn", vec![], config());
                w.finish(&report);
                report.take().into_iter().map(|(_, m)| m).collect()
            })
            .collect();
        let about_script = |m: &String| m.starts_with("LogZeroMQ::zmq_hwm");
        assert_eq!(warnings[0].iter().filter(|m| about_script(m)).count(), 1);
        assert!(
            warnings[0][0].ends_with("(said once for all writers)"),
            "{warnings:?}"
        );
        for w in &warnings {
            assert_eq!(w.iter().filter(|m| m.contains("$config[")).count(), 1);
        }
        for w in &warnings[1..] {
            assert!(!w.iter().any(about_script), "{warnings:?}");
        }
    }

    #[test]
    fn a_writer_that_never_started_says_its_totals_at_finish() {
        let report = Collected::default();
        let mut w = Writer::new(vec![("endpoint".into(), "localhost:1".into())]);
        w.init(
            &report,
            b"conn",
            vec![FieldSpec::new("n", Kind::Count, Kind::Other, false)],
            vec![],
        );
        assert!(!w.is_active());
        assert!(matches!(report.take()[..], [(Level::Error, _)]));
        let slots = [Slot::from_count(1)];
        for _ in 0..2 {
            // SAFETY: no string slots.
            unsafe { w.write(&report, &slots) };
        }
        w.finish(&report);
        assert_eq!(
            report.take(),
            [(
                Level::Info,
                "published 0 of 2 records, dropped 2 (the writer never started: see the error \
                 at its start)"
                    .to_string()
            )]
        );
    }

    #[test]
    fn the_record_a_panic_interrupted_counts_as_dropped() {
        let report = Collected::default();
        let mut w = Writer::new(vec![
            ("endpoint".into(), "tcp://127.0.0.1:1".into()),
            ("wait_for_subscribers".into(), "0".into()),
        ]);
        w.init(
            &report,
            b"conn",
            vec![FieldSpec::new("n", Kind::Count, Kind::Other, false)],
            vec![],
        );
        assert!(w.is_active(), "{:?}", report.take());
        let slots = [Slot::from_count(1)];
        // SAFETY: no string slots.
        unsafe { w.write(&report, &slots) };
        w.panic_in_next_encode = true;
        // As the bridge does: catch the panic, then stop the writer.
        // SAFETY: no string slots.
        let caught = catch_unwind(AssertUnwindSafe(|| unsafe { w.write(&report, &slots) }));
        assert!(caught.is_err());
        w.stop_after_panic();
        // SAFETY: no string slots.
        unsafe { w.write(&report, &slots) };
        let s = w.stats();
        assert_eq!(s.written, 3);
        assert_eq!(s.sent + s.dropped, s.written, "{s:?}");
        let counts = w.take_counts();
        assert_eq!(counts.sent + counts.dropped, 3, "{counts:?}");
    }
}
