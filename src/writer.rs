//! One Zeek writer (one log path of one filter): options -> encoder ->
//! publisher. The bridge calls these methods from the writer's own thread.

use crate::bridge::{Counts, FieldSpec, Slot};
use crate::encoder::{Encoder, TimestampFormat};
use crate::endpoint;
use crate::options::{self, Options};
use crate::publisher::Publisher;
use crate::report::Report;

/// Per-writer counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records Zeek handed to this writer.
    pub written: u64,
    /// Records queued on the socket.
    pub sent: u64,
    /// Records that could not be published (bad record, socket error,
    /// inactive writer).
    pub dropped: u64,
    /// JSON bytes queued (frame 2 only).
    pub bytes: u64,
}

enum State {
    /// Constructed, `init` not yet called.
    Created,
    /// Not publishing: the configuration was unusable (reported at init).
    Inactive,
    Active {
        encoder: Encoder,
        publisher: Publisher,
    },
    /// Finished, or stopped after an internal error.
    Stopped,
}

pub struct Writer {
    script_options: Vec<(String, String)>,
    /// Zeek before 8.0 wrote `JSON::TS_MILLIS` as an unsigned number.
    unsigned_millis: bool,
    state: State,
    path: Vec<u8>,
    buf: Vec<u8>,
    stats: Stats,
    /// `stats` as of the last `take_counts`.
    reported: Stats,
    /// A failure kind already reported (each is reported once per writer).
    reported_encode_error: bool,
    reported_send_error: bool,
}

impl Writer {
    /// Main thread: remembers the script-level option values.
    pub fn new(script_options: Vec<(String, String)>) -> Writer {
        Writer {
            script_options,
            unsigned_millis: false,
            state: State::Created,
            path: Vec::new(),
            buf: Vec::with_capacity(4096),
            stats: Stats::default(),
            reported: Stats::default(),
            reported_encode_error: false,
            reported_send_error: false,
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
        matches!(self.state, State::Active { .. })
    }

    /// `DoInit`: resolves options, validates the endpoint and connects.
    /// Problems are reported; a writer that cannot publish stays inactive.
    pub fn init_with(
        &mut self,
        report: &dyn Report,
        path: &[u8],
        fields: Vec<FieldSpec>,
        config: Vec<(String, String)>,
    ) {
        self.path = path.to_vec();
        let (mut opts, warnings) = options::resolve(&self.script_options, &config);
        if self.unsigned_millis && opts.json.timestamps == TimestampFormat::Millis {
            opts.json.timestamps = TimestampFormat::MillisUnsigned;
        }
        for w in &warnings {
            report.warning(w);
        }
        self.state = match Self::connect(&opts) {
            Ok(publisher) => State::Active {
                encoder: Encoder::new(&fields, opts.json),
                publisher,
            },
            Err(why) => {
                report.error(&why);
                State::Inactive
            }
        };
    }

    fn connect(opts: &Options) -> Result<Publisher, String> {
        if opts.endpoint.is_empty() {
            return Err("no endpoint: set LogZeroMQ::endpoint or the filter's \
                        $config[\"endpoint\"]; not publishing this log"
                .into());
        }
        endpoint::validate_connect(&opts.endpoint).map_err(|why| {
            format!(
                "bad endpoint \"{}\": {why}; not publishing this log",
                opts.endpoint
            )
        })?;
        Publisher::connect(opts).map_err(|why| format!("{why}; not publishing this log"))
    }

    /// `DoWrite`: encodes and publishes one record.
    ///
    /// # Safety
    /// The string slots must point at readable bytes (see
    /// [`Encoder::encode`]).
    pub unsafe fn write_with(&mut self, report: &dyn Report, slots: &[Slot]) {
        self.stats.written += 1;
        let State::Active { encoder, publisher } = &self.state else {
            self.stats.dropped += 1;
            return;
        };
        self.buf.clear();
        if let Err(e) = encoder.encode(slots, &mut self.buf) {
            self.stats.dropped += 1;
            if !self.reported_encode_error {
                self.reported_encode_error = true;
                report.error(&format!(
                    "cannot encode a record ({e}); dropping it and any further bad records"
                ));
            }
            return;
        }
        match publisher.send(&self.path, &self.buf) {
            Ok(()) => {
                self.stats.sent += 1;
                self.stats.bytes += self.buf.len() as u64;
            }
            Err(e) => {
                self.stats.dropped += 1;
                if !self.reported_send_error {
                    self.reported_send_error = true;
                    report.error(&format!(
                        "cannot send a record ({e}); dropping it and counting further failures"
                    ));
                }
            }
        }
    }

    /// `DoFinish`: closes the socket (waiting at most the linger time) and
    /// reports what could not be published.
    pub fn finish_with(&mut self, report: &dyn Report) {
        let state = std::mem::replace(&mut self.state, State::Stopped);
        let was_inactive = matches!(state, State::Inactive);
        if let State::Active { publisher, .. } = state {
            publisher.close();
        }
        let s = self.stats;
        // An inactive writer already said at init that it publishes nothing.
        if s.dropped > 0 && !was_inactive {
            report.warning(&format!(
                "{} of {} records were not published",
                s.dropped, s.written
            ));
        }
    }

    /// Counter increments since the previous call (for Zeek's telemetry).
    pub fn take_counts(&mut self) -> Counts {
        let s = self.stats;
        let r = self.reported;
        self.reported = s;
        Counts {
            sent: s.sent - r.sent,
            dropped: s.dropped - r.dropped,
            bytes: s.bytes - r.bytes,
        }
    }

    /// After a panic: stop publishing for good.
    pub fn stop_after_panic(&mut self) {
        self.state = State::Stopped;
    }
}
