//! Shared by the publishing benchmarks: a writer set up as the tests set
//! one up, the floor (pre-encoded sends on a plain socket), CPU clocks.

use super::Dump;
use std::hint::black_box;
use std::time::Duration;
use zeek_zeromq_writer::dump::OwnedRecord;
use zeek_zeromq_writer::encoder::Encoder;
use zeek_zeromq_writer::report::Collected;
use zeek_zeromq_writer::{FieldSpec, Writer};

pub fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The floor: a plain XPUB socket (the writer's socket type) with the same
/// high-water mark, sending pre-encoded `[path, json]`.
pub struct RawPublisher {
    _ctx: zmq::Context,
    socket: zmq::Socket,
}

impl RawPublisher {
    pub fn connect(endpoint: &str) -> RawPublisher {
        let ctx = zmq::Context::new();
        ctx.set_io_threads(1).unwrap();
        let socket = ctx.socket(zmq::XPUB).unwrap();
        socket.set_sndhwm(0).unwrap();
        socket.set_linger(2000).unwrap();
        socket.connect(endpoint).unwrap();
        // The subscription message says the subscriber is attached.
        socket.set_rcvtimeo(10_000).unwrap();
        let sub = socket.recv_bytes(0).expect("no subscription within 10 s");
        assert_eq!(sub.first(), Some(&1));
        RawPublisher { _ctx: ctx, socket }
    }

    pub fn send(&self, path: &[u8], json: &[u8]) {
        self.socket.send(path, zmq::SNDMORE).unwrap();
        self.socket.send(json, 0).unwrap();
    }

    /// `encode_then_copy_send`, the straightforward way (and the writer's
    /// before `src/frames.rs`): encodes `record` into `buf`, reused, then
    /// sends it with [`RawPublisher::send`], which copies it into a message.
    pub fn encode_then_copy_send(
        &self,
        path: &[u8],
        enc: &Encoder,
        record: &OwnedRecord,
        buf: &mut Vec<u8>,
    ) {
        buf.clear();
        // SAFETY: an OwnedRecord's string slots point at its own bytes.
        unsafe { enc.encode(black_box(&record.slots), buf) }.unwrap();
        self.send(path, buf);
    }
}

/// A writer for `d`'s schema connected to `endpoint` (`hwm = 0`), as the
/// tests set one up.
pub fn writer(report: &Collected, d: &Dump, endpoint: &str) -> Writer {
    writer_with(report, &d.path, &d.fields, endpoint, &[])
}

/// A writer of `path` with `fields` connected to `endpoint` (`hwm = 0`),
/// with `config` (`$config` keys) on top.
pub fn writer_with(
    report: &Collected,
    path: &str,
    fields: &[FieldSpec],
    endpoint: &str,
    config: &[(&str, &str)],
) -> Writer {
    let mut w = Writer::new(kv(&[
        ("endpoint", endpoint),
        ("zmq_linger", "2000"),
        ("wait_for_subscribers", "10"),
    ]));
    let mut all = vec![("hwm", "0")];
    all.extend_from_slice(config);
    w.init(report, path.as_bytes(), fields.to_vec(), kv(&all));
    assert!(w.is_active(), "writer not active: {:?}", report.take());
    w
}

const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

/// CPU time of the calling thread so far, exact to the nanosecond (Linux).
pub fn thread_cpu() -> Duration {
    cpu_clock(CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time of the whole process (all its threads, ZeroMQ's I/O threads
/// included) so far, as `/usr/bin/time` would count it.
pub fn process_cpu() -> Duration {
    cpu_clock(CLOCK_PROCESS_CPUTIME_ID)
}

/// CPU time so far of this process's ZeroMQ I/O threads (`ZMQbg/IO/*`),
/// from `/proc/self/task/*/schedstat` (exact for a thread that is not
/// running at the moment; zero where there is no `/proc`).
pub fn io_threads_cpu() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.starts_with("ZMQbg/IO"))
        })
        .filter_map(|t| {
            let s = std::fs::read_to_string(t.path().join("schedstat")).ok()?;
            s.split_whitespace().next()?.parse().ok()
        })
        .map(Duration::from_nanos)
        .sum()
}

fn cpu_clock(clock: i32) -> Duration {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a pointer to a timespec (64-bit Linux).
    if unsafe { clock_gettime(clock, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
