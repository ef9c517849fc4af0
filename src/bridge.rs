//! The FFI boundary: what the C++ shim (`shim/`) calls, and the three
//! reporter methods Rust calls back. Nothing about records is decided here:
//! each of [`ZeekWriter`]'s methods converts the bridge's types and calls
//! the [`Writer`] method of the same name.
//!
//! The shim owns one `Box<ZeekWriter>` per Zeek writer backend. Every entry
//! point here catches panics, so a panic never unwinds into C++: in a
//! method that gets the `Host`, it becomes an `Error` for that writer and
//! the writer stops publishing; `take_counts` stops the writer and counts
//! nothing; the free functions return a fallback (no script options, a
//! writer with default options, version 0).
//!
//! Values cross the boundary as a flat, pre-order list of [`Slot`]s that
//! the shim fills from `threading::Value`s into a buffer it reuses: one bridge
//! call per record, no per-field calls, no string copies (a slot points at
//! Zeek's bytes, valid for the duration of the call). [`Slot`] and
//! [`FieldSpec`] are the record model's (`crate::record`), reused here.
//!
//! One thing crosses from Zeek's main thread to a busy writer thread: the
//! stop. The shim takes the writer's [`StopSignal`] in the backend's
//! constructor (main thread, before the writer thread exists) as a box of
//! its own, and raises it from `OnSignalStop` / `OnKill` on the main
//! thread while the writer thread may be inside `write`: the two threads
//! share only the signal's atomics (see [`crate::stop`]), never the
//! `ZeekWriter`.

use crate::record::{FieldSpec, Slot};
use crate::report::Report;
use crate::writer::Writer;
use std::panic::{catch_unwind, AssertUnwindSafe};

#[cxx::bridge(namespace = "zeromq_writer")]
pub mod ffi {
    // Shared structs: plain data both languages see.

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

    // Rust functions and types the shim calls: `ZeekWriter` and
    // `StopSignal`, below.
    extern "Rust" {
        type ZeekWriter;
        type StopSignal;

        /// The script-level option names (without the `LogZeroMQ::`
        /// prefix) the shim must read on the main thread and pass to
        /// `new_writer`, each rendered with `ODesc` the way a `$config` value
        /// is written (`T`/`F`, `1000`, `JSON::TS_EPOCH`, raw string).
        fn script_option_names() -> Vec<String>;

        /// Main thread, in the backend's constructor. Never fails: options
        /// are validated by `init`. `zeek_version` is the shim's
        /// `ZEEK_VERSION_NUMBER` (80008 for 8.0.8): Zeek 7 wrote TS_MILLIS
        /// unsigned.
        fn new_writer(script_options: Vec<KeyValue>, zeek_version: u32) -> Box<ZeekWriter>;

        /// Main thread, in the backend's constructor: the writer's stop
        /// signal, for the shim to keep and raise from the main thread.
        fn stop_signal(self: &ZeekWriter) -> Box<StopSignal>;

        /// Main thread, `OnSignalStop` (Zeek terminates, or the writer's
        /// stream or filter was removed): from now on the writer waits at
        /// most `zmq_linger` for subscribers, in `DoWrite` and `DoFinish`.
        fn raise(self: &StopSignal);

        /// Main thread, `OnKill` (a signal while Zeek waits for its
        /// threads): the writer stops waiting at once.
        fn kill(self: &StopSignal);

        /// Writer thread, `DoInit`. A bad endpoint or option is reported as
        /// an `Error` and leaves the writer inactive (it drops and counts
        /// every record): Zeek's `DoInit` still succeeds.
        fn init(
            self: &mut ZeekWriter,
            host: &Host,
            path: &[u8],
            fields: Vec<FieldSpec>,
            config: Vec<KeyValue>,
        );

        /// Writer thread, `DoWrite`: one record as a pre-order slot list.
        fn write(self: &mut ZeekWriter, host: &Host, slots: &[Slot]);

        /// Writer thread, `DoHeartbeat` (about once a second).
        fn heartbeat(self: &mut ZeekWriter, host: &Host);

        /// Writer thread, `DoFinish`: closes the socket, waiting at most the
        /// linger time for unsent messages.
        fn finish(self: &mut ZeekWriter, host: &Host);

        /// Writer thread (`DoHeartbeat`, after `DoFinish`): what to add to
        /// the telemetry counters since the last call.
        fn take_counts(self: &mut ZeekWriter) -> Counts;

        /// The plugin version, from the VERSION file (`1.1.0` -> 1, 1, 0).
        fn version_major() -> i32;
        fn version_minor() -> i32;
        fn version_patch() -> i32;
    }

    // C++ types and functions Rust uses: the record model's types (declared
    // in `crate::record`'s own bridge) and the shim's reporter.
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

use ffi::{Counts, Host, KeyValue};

/// The [`Writer`] as the shim sees it.
pub struct ZeekWriter(Writer);

/// The writer's [`crate::stop::StopSignal`] as the shim sees it: raised on
/// Zeek's main thread, read on the writer's.
pub struct StopSignal(crate::stop::StopSignal);

impl StopSignal {
    fn raise(&self) {
        or_on_panic(|| self.0.raise(), || ());
    }

    fn kill(&self) {
        or_on_panic(|| self.0.kill(), || ());
    }
}

fn script_option_names() -> Vec<String> {
    let names = || {
        crate::options::script_option_names()
            .map(str::to_string)
            .collect()
    };
    or_on_panic(names, Vec::new)
}

fn new_writer(script_options: Vec<KeyValue>, zeek_version: u32) -> Box<ZeekWriter> {
    let make = || Writer::new(pairs(script_options)).for_zeek_version(zeek_version);
    Box::new(ZeekWriter(or_on_panic(make, || Writer::new(Vec::new()))))
}

impl ZeekWriter {
    fn stop_signal(&self) -> Box<StopSignal> {
        // Cloning an Arc does not panic; a default signal would only never
        // be raised.
        let signal = or_on_panic(|| self.0.stop_signal(), Default::default);
        Box::new(StopSignal(signal))
    }

    fn init(&mut self, host: &Host, path: &[u8], fields: Vec<FieldSpec>, config: Vec<KeyValue>) {
        self.guarded(host, |w, r| w.init(r, path, fields, pairs(config)));
    }

    fn write(&mut self, host: &Host, slots: &[Slot]) {
        self.guarded(host, |w, r| {
            // SAFETY: the shim's string slots point into the
            // `threading::Value`s of the `DoWrite` call we are in.
            unsafe { w.write(r, slots) }
        });
    }

    fn heartbeat(&mut self, host: &Host) {
        self.guarded(host, |w, r| w.heartbeat(r));
    }

    fn finish(&mut self, host: &Host) {
        self.guarded(host, |w, r| w.finish(r));
    }

    fn take_counts(&mut self) -> Counts {
        let taken = catch_unwind(AssertUnwindSafe(|| self.0.take_counts()));
        let Ok(c) = taken else {
            // No host to report through; the next guarded call will not
            // find the writer publishing either.
            let _ = catch_unwind(AssertUnwindSafe(|| self.0.stop_after_panic()));
            return Counts::default();
        };
        Counts {
            sent: c.sent,
            dropped: c.dropped,
            bytes: c.bytes,
        }
    }

    /// Runs `f` on the writer with `host` as its [`Report`]; a panic becomes
    /// an `Error` on `host` and a stopped writer.
    fn guarded(&mut self, host: &Host, f: impl FnOnce(&mut Writer, &HostReport)) {
        let report = HostReport(host);
        let Err(payload) = catch_unwind(AssertUnwindSafe(|| f(&mut self.0, &report))) else {
            return;
        };
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        // Reporting itself must not unwind either.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            self.0.stop_after_panic();
            report.error(&format!(
                "internal error, writer stopped: {what} (please report this)"
            ));
        }));
    }
}

/// Adapts the C++ host to the [`Report`] trait the writer uses.
struct HostReport<'a>(&'a Host);

impl Report for HostReport<'_> {
    fn error(&self, msg: &str) {
        self.0.error(&whole(msg));
    }
    fn warning(&self, msg: &str) {
        self.0.warning(&whole(msg));
    }
    fn info(&self, msg: &str) {
        self.0.info(&whole(msg));
    }
}

/// `msg` with any NUL byte written `\0`: Zeek's reporter takes a C string,
/// which would end there. (Values in messages are escaped already, see
/// [`crate::report::quoted`]; this keeps any other text whole too.)
fn whole(msg: &str) -> std::borrow::Cow<'_, str> {
    if msg.contains('\0') {
        msg.replace('\0', "\\0").into()
    } else {
        msg.into()
    }
}

fn pairs(kvs: Vec<KeyValue>) -> Vec<(String, String)> {
    kvs.into_iter().map(|kv| (kv.key, kv.value)).collect()
}

/// `f()`, or `fallback()` if `f` panics.
fn or_on_panic<T>(f: impl FnOnce() -> T, fallback: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| fallback())
}

fn version_part(i: usize) -> i32 {
    let part = || {
        crate::VERSION
            .split('.')
            .nth(i)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    };
    or_on_panic(part, || 0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeek_gets_the_version_file_in_three_numbers() {
        let file =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/VERSION")).unwrap();
        let parts = format!(
            "{}.{}.{}",
            version_major(),
            version_minor(),
            version_patch()
        );
        assert_eq!(parts, file.trim());
        assert_eq!(crate::VERSION, file.trim());
    }
}
