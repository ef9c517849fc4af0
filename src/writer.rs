//! One Zeek writer (one log path of one filter): options -> encoder ->
//! publisher, with the counters and the drop reports. The bridge
//! ([`crate::bridge::ZeekWriter`]) calls the methods of the same names from
//! the writer's own thread.

use crate::channel::Sent;
use crate::curve;
use crate::encoder::{Encoder, TimestampFormat};
use crate::endpoint;
use crate::frames::Reach;
use crate::options::{self, Options, OverflowPolicy};
use crate::publisher::{PublishError, Publisher};
use crate::record::{FieldSpec, Slot};
use crate::report::Report;
use std::fmt;
use std::time::Instant;

/// Per-writer counters. Always `written == sent + dropped`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records Zeek handed to this writer.
    pub written: u64,
    /// Records queued for every subscriber of the path (and, once the
    /// writer finished, delivered).
    pub sent: u64,
    /// Records not published, for whatever reason (the sum of the next
    /// six, plus those of an inactive writer).
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
    /// JSON bytes queued (frame 2 only).
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
    /// Drops reported so far, and when the last report was.
    drops_reported: u64,
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
            unsigned_millis: false,
            state: State::Created,
            path: Vec::new(),
            stats: Stats::default(),
            counted: Stats::default(),
            unacked: 0,
            drops_reported: 0,
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
        let (mut opts, warnings) = options::resolve(&self.script_options, &config);
        for w in &warnings {
            report.warning(w);
        }
        if self.unsigned_millis && opts.json.timestamps == TimestampFormat::Millis {
            opts.json.timestamps = TimestampFormat::MillisUnsigned;
        }
        self.state = match Self::open(&opts, path) {
            Ok((publisher, warning)) => {
                if let Some(w) = warning {
                    report.warning(&w);
                }
                State::Active(Box::new(Active {
                    encoder: Encoder::new(&fields, opts.json),
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

    fn open(opts: &Options, path: &[u8]) -> Result<(Publisher, Option<String>), String> {
        if opts.endpoint.is_empty() {
            return Err("no endpoint: set LogZeroMQ::endpoint or the filter's \
                        $config[\"endpoint\"]; not publishing this log"
                .into());
        }
        endpoint::validate(&opts.endpoint, opts.bind).map_err(|why| {
            format!(
                "bad endpoint \"{}\": {why}; not publishing this log",
                opts.endpoint
            )
        })?;
        let security = curve::resolve(&opts.curve, opts.bind)
            .map_err(|why| format!("{why}; not publishing this log"))?;
        Publisher::open(opts, security, path)
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
            encoder, publisher, ..
        } = &mut **active;
        let mut json_len = 0;
        #[cfg(test)]
        let panic_now = std::mem::take(&mut self.panic_in_next_encode);
        let published = publisher.publish(&self.path, |json| {
            #[cfg(test)]
            assert!(!panic_now, "a panic while encoding");
            // SAFETY: the caller promises readable string slots (above).
            let encoded = unsafe { encoder.encode(slots, json) };
            json_len = json.len();
            encoded
        });
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
                self.stats.dropped_full += 1;
                self.stats.bytes += json_len as u64;
            }
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
        let new = self.stats.dropped - self.drops_reported;
        if new == 0 {
            return;
        }
        let now = Instant::now();
        let due = self
            .last_drop_report
            .is_none_or(|t| now.duration_since(t) >= active.opts.drop_report_interval);
        if !due {
            return;
        }
        let o = &active.opts;
        let s = &self.stats;
        let advice = match o.overflow {
            OverflowPolicy::Drop => "; LogZeroMQ::overflow_policy = LogZeroMQ::BLOCK avoids this",
            OverflowPolicy::Block => "",
        };
        // A shared bound socket's high-water mark may not be this writer's.
        let hwm = active.publisher.hwm(o.hwm);
        report.warning(&format!(
            "dropped {new} records since the last report ({} of {} in all): \
             {} with no subscriber, {} with a subscriber {hwm} messages behind \
             (LogZeroMQ::zmq_hwm = {hwm}{advice})",
            s.dropped, s.written, s.dropped_no_subscriber, s.dropped_full,
        ));
        self.drops_reported = self.stats.dropped;
        self.last_drop_report = Some(now);
    }

    /// `DoHeartbeat` (about once a second): reads subscription changes,
    /// what the subscriber has not acknowledged (and what a connection
    /// that ended had not: dropped), and reports drops that are due.
    pub fn heartbeat(&mut self, report: &dyn Report) {
        if let State::Active(active) = &mut self.state {
            active.publisher.refresh();
            for (level, msg) in active.publisher.take_reports() {
                report.at(level, &msg);
            }
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

    /// `DoFinish`: closes the socket, waiting at most the linger time for
    /// queued records, counts those still queued then as dropped, and
    /// reports the totals if anything was dropped.
    pub fn finish(&mut self, report: &dyn Report) {
        let State::Active(active) = std::mem::replace(&mut self.state, State::Stopped) else {
            return;
        };
        // Records queued for only some subscribers count as dropped already.
        let writer_id = active.publisher.writer_id();
        let unsent = active.publisher.close();
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
            report.info(&format!(
                "published {} of {} records, dropped {} ({} with no subscriber, \
                 {} with a slow subscriber, {} unsent when the linger time ran out, \
                 {} lost with the connection, {} unencodable, {} on socket errors){numbered}",
                s.sent,
                s.written,
                s.dropped,
                s.dropped_no_subscriber,
                s.dropped_full,
                s.dropped_unsent,
                s.dropped_lost,
                s.dropped_bad_record,
                s.dropped_error
            ));
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
    use crate::report::Collected;
    use std::panic::{catch_unwind, AssertUnwindSafe};

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
