//! The FFI boundary: what the C++ shim (`shim/`) calls, and the three
//! reporter methods Rust calls back.
//!
//! The shim owns one `Box<Writer>` per Zeek writer backend. Every entry point
//! here catches panics: a panic never unwinds into C++, it becomes an `Error`
//! for that writer and the writer stops publishing.
//!
//! Values cross the boundary as a flat, pre-order list of [`ffi::Slot`]s that
//! the shim fills from `threading::Value`s into a buffer it reuses: one bridge
//! call per record, no per-field calls, no string copies (a slot points at
//! Zeek's bytes, valid for the duration of the call).

use crate::report::Report;
use crate::writer::Writer;
use std::panic::{catch_unwind, AssertUnwindSafe};

#[cxx::bridge(namespace = "zeromq_writer")]
pub mod ffi {
    /// The type of one value, mapped by the shim from `zeek::TypeTag`.
    #[derive(Debug)]
    #[repr(u8)]
    enum Kind {
        Bool,
        Int,
        Count,
        Double,
        Time,
        Interval,
        Port,
        Addr,
        Subnet,
        String,
        Enum,
        File,
        Func,
        /// A set (`TYPE_TABLE`): `n` element slots follow.
        Set,
        /// A vector: `n` element slots follow (a hole is a non-present slot).
        Vector,
        /// Any other type tag; encoded as JSON `null`.
        Other,
    }

    /// One value. Which members carry data depends on `kind`:
    /// - Bool, Int, Count: `a` (Int as the two's complement bits).
    /// - Double, Time, Interval: `a` = the IEEE-754 bits of the seconds.
    /// - Port: `a` = port number, `aux` = 0 unknown, 1 tcp, 2 udp, 3 icmp.
    /// - Addr: `aux` = 4 or 6; `a` and `b` = the 16 bytes of `in6` (for IPv4
    ///   the 4 bytes of `in4` first), copied with memcpy in memory order.
    /// - Subnet: as Addr for the prefix, `n` = length in IPv6 bits.
    /// - String, Enum, File, Func: `data`/`len` = address and length of the
    ///   raw bytes (not NUL-terminated).
    /// - Set, Vector: `n` = number of element slots that follow.
    #[derive(Clone, Copy, Debug)]
    struct Slot {
        kind: Kind,
        present: bool,
        aux: u8,
        n: u32,
        a: u64,
        b: u64,
        data: usize,
        len: usize,
    }

    /// One field of the log's schema, as `DoInit` receives it.
    #[derive(Clone, Debug)]
    struct FieldSpec {
        /// Flattened name, e.g. `id.orig_h`.
        name: String,
        kind: Kind,
        /// Element type of a set or vector, else `Kind::Other`.
        sub: Kind,
        optional: bool,
    }

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

pub use ffi::{Counts, FieldSpec, KeyValue, Kind, Slot};

impl Slot {
    /// A slot of `kind` with no value data yet.
    pub fn new(kind: Kind, present: bool) -> Slot {
        Slot {
            kind,
            present,
            aux: 0,
            n: 0,
            a: 0,
            b: 0,
            data: 0,
            len: 0,
        }
    }
}

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
    crate::options::SCRIPT_OPTIONS
        .iter()
        .map(|s| s.to_string())
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
