//! The FFI boundary: what the C++ shim (`shim/`) calls, and the three
//! reporter methods Rust calls back.
//!
//! The shim owns one `Box<Writer>` per Zeek writer backend. Every entry point
//! here catches panics: a panic never unwinds into C++, it becomes an `Error`
//! for that writer and the writer stops publishing.
//!
//! Values cross the boundary as a flat, pre-order list of [`Slot`]s that
//! the shim fills from `threading::Value`s into a buffer it reuses: one bridge
//! call per record, no per-field calls, no string copies (a slot points at
//! Zeek's bytes, valid for the duration of the call).

use crate::report::Report;
use crate::writer::Writer;
use std::panic::{catch_unwind, AssertUnwindSafe};

#[cxx::bridge(namespace = "zeromq_writer")]
pub mod ffi {
    /// A key/value string pair: a script option (`LogZeroMQ::zmq_hwm` ->
    /// "1000", rendered as Zeek prints the value) or a `$config` entry.
    #[derive(Clone, Debug)]
    struct KeyValue {
        key: String,
        value: String,
    }

    /// Counter increments since the last `take_counts` call, for Zeek's
    /// telemetry (the shim adds them to its counters).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    struct Counts {
        /// Records queued on the socket.
        sent: u64,
        /// Records that could not be published.
        dropped: u64,
        /// JSON bytes queued (frame 2).
        bytes: u64,
    }

    extern "Rust" {
        type Writer;

        /// The script-level option names (without the `LogZeroMQ::`
        /// prefix) the shim must read on the main thread and pass to
        /// `new_writer`, each rendered with `ODesc` the way a `$config` value
        /// is written (`T`/`F`, `1000`, `JSON::TS_EPOCH`, raw string).
        fn script_option_names() -> Vec<String>;

        /// Main thread, in the backend's constructor. Never fails: options
        /// are validated by `init`. `zeek_version` is the shim's
        /// `ZEEK_VERSION_NUMBER` (80008 for 8.0.8): Zeek 7 wrote TS_MILLIS
        /// unsigned.
        fn new_writer(script_options: Vec<KeyValue>, zeek_version: u32) -> Box<Writer>;

        /// Writer thread, `DoInit`. Returns false only if the writer cannot
        /// exist at all; a bad endpoint or option is reported as an `Error`
        /// and leaves the writer inactive (it returns true).
        fn init(
            self: &mut Writer,
            host: &Host,
            path: &[u8],
            fields: Vec<FieldSpec>,
            config: Vec<KeyValue>,
        ) -> bool;

        /// Writer thread, `DoWrite`: one record as a pre-order slot list.
        fn write(self: &mut Writer, host: &Host, slots: &[Slot]) -> bool;

        /// Writer thread, `DoFlush` / `DoSetBuf` / `DoHeartbeat`.
        fn flush(self: &mut Writer, host: &Host, network_time: f64) -> bool;
        fn set_buf(self: &mut Writer, host: &Host, enabled: bool) -> bool;
        fn heartbeat(self: &mut Writer, host: &Host, network_time: f64, current_time: f64) -> bool;

        /// Writer thread, `DoFinish`: closes the socket, waiting at most the
        /// linger time for unsent messages.
        fn finish(self: &mut Writer, host: &Host, network_time: f64) -> bool;

        /// Writer thread (`DoHeartbeat`, after `DoFinish`): what to add to
        /// the telemetry counters since the last call.
        fn take_counts(self: &mut Writer) -> Counts;

        /// The plugin version, from Cargo.toml (`1.0.0-dev` -> 1, 0, 0).
        fn version_major() -> i32;
        fn version_minor() -> i32;
        fn version_patch() -> i32;
    }

    // The record model's types, declared in `crate::record`'s own bridge.
    extern "C++" {
        include!("zeek-zeromq-writer/src/record.rs.h");
        type Slot = crate::record::Slot;
        type FieldSpec = crate::record::FieldSpec;
    }

    unsafe extern "C++" {
        include!("shim/host.h");

        /// Implemented by the shim's backend: forwards to
        /// `MsgThread::Error/Warning/Info` on the writer thread.
        type Host;
        fn error(self: &Host, msg: &str);
        fn warning(self: &Host, msg: &str);
        fn info(self: &Host, msg: &str);
    }
}

use crate::record::{FieldSpec, Slot};
pub use ffi::{Counts, KeyValue};

/// Adapts the C++ host to the [`Report`] trait the core uses.
struct HostReport<'a>(&'a ffi::Host);

impl Report for HostReport<'_> {
    fn error(&self, msg: &str) {
        self.0.error(msg);
    }
    fn warning(&self, msg: &str) {
        self.0.warning(msg);
    }
    fn info(&self, msg: &str) {
        self.0.info(msg);
    }
}

/// Runs `f`, turning a panic into an `Error` on `host`, a stopped writer and
/// `on_panic` as the result.
fn guarded<T>(
    writer: &mut Writer,
    host: &ffi::Host,
    on_panic: T,
    f: impl FnOnce(&mut Writer, &HostReport) -> T,
) -> T {
    let report = HostReport(host);
    match catch_unwind(AssertUnwindSafe(|| f(writer, &report))) {
        Ok(v) => v,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            // Reporting itself must not unwind either.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                writer.stop_after_panic();
                report.error(&format!(
                    "internal error, writer stopped: {what} (please report this)"
                ));
            }));
            on_panic
        }
    }
}

fn script_option_names() -> Vec<String> {
    crate::options::script_option_names()
        .map(str::to_string)
        .collect()
}

fn new_writer(script_options: Vec<KeyValue>, zeek_version: u32) -> Box<Writer> {
    let pairs = script_options.into_iter().map(|kv| (kv.key, kv.value));
    let make = || Writer::new(pairs.collect()).for_zeek_version(zeek_version);
    match catch_unwind(AssertUnwindSafe(make)) {
        Ok(w) => Box::new(w),
        Err(_) => Box::new(Writer::new(Vec::new())),
    }
}

impl Writer {
    fn init(
        &mut self,
        host: &ffi::Host,
        path: &[u8],
        fields: Vec<FieldSpec>,
        config: Vec<KeyValue>,
    ) -> bool {
        let config = config.into_iter().map(|kv| (kv.key, kv.value)).collect();
        guarded(self, host, true, |w, r| {
            w.init_with(r, path, fields, config);
            true
        })
    }

    fn write(&mut self, host: &ffi::Host, slots: &[Slot]) -> bool {
        guarded(self, host, true, |w, r| {
            // SAFETY: the shim's string slots point into the `threading::Value`s
            // of the `DoWrite` call we are in.
            unsafe { w.write_with(r, slots) };
            true
        })
    }

    fn flush(&mut self, host: &ffi::Host, _network_time: f64) -> bool {
        guarded(self, host, true, |_, _| true)
    }

    fn set_buf(&mut self, host: &ffi::Host, _enabled: bool) -> bool {
        guarded(self, host, true, |_, _| true)
    }

    fn heartbeat(&mut self, host: &ffi::Host, _network_time: f64, _current_time: f64) -> bool {
        guarded(self, host, true, |w, r| {
            w.heartbeat_with(r);
            true
        })
    }

    fn finish(&mut self, host: &ffi::Host, _network_time: f64) -> bool {
        guarded(self, host, true, |w, r| {
            w.finish_with(r);
            true
        })
    }
}

fn version_part(i: usize) -> i32 {
    env!("CARGO_PKG_VERSION")
        .split(['.', '-'])
        .nth(i)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

fn version_major() -> i32 {
    version_part(0)
}
fn version_minor() -> i32 {
    version_part(1)
}
fn version_patch() -> i32 {
    version_part(2)
}
