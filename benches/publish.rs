//! The publish path: corpus conn records encoded and sent by a real
//! `Writer` to a live SUB subscriber over `ipc://` and `tcp://` loopback,
//! beside the floor: the same pre-encoded bytes sent on the same socket type.
//!
//! ```sh
//! cargo bench --bench publish                 # full run
//! BENCH_QUICK=1 cargo bench --bench publish   # smoke run
//! ```
//!
//! Groups `publish-ipc` and `publish-tcp`, each with:
//! - `writer_send`: `Writer::write` (encode + send), driven as the
//!   bridge drives it (and as `tests/publisher.rs` does), timed until the
//!   last call returned: the cost on Zeek's writer thread;
//! - `writer_delivered`: the same, timed until the subscriber received the
//!   last record: end-to-end throughput;
//! - `raw_send`, `raw_delivered`: the floor, the same records already
//!   encoded (Zeek's bytes), sent as `[path, json]` on a plain XPUB socket
//!   with the same high-water mark, connected to the same subscriber.
//!
//! The subscriber runs in its own thread sitting in `recv` (a bound SUB
//! attaches a peer only while its thread calls into libzmq) and counts
//! two-frame messages. After every timed batch the bench waits until it has
//! received the batch and asserts it received exactly as many as were
//! written; at the end it checks the writer's own counters (none dropped).
//! All sockets use `hwm = 0`, so nothing is ever dropped for being behind.
//!
//! `BENCH_SNDBUF=0,65536,131072 cargo bench --bench publish` compares send
//! buffer sizes instead (`LogZeroMQ::sndbuf`, 0 = the OS's own): see
//! [`sndbuf_paired`].

mod common;

use common::median;
use common::publishing::{thread_cpu, writer, writer_with, RawPublisher};
use common::Dump;
use criterion::{BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant, SystemTime};
use zeek_zeromq_writer::dump::OwnedRecord;
use zeek_zeromq_writer::encoder::{Encoder, JsonOptions};
use zeek_zeromq_writer::report::Collected;
use zeek_zeromq_writer::{FieldSpec, Kind, Writer};

/// A SUB socket bound in its own thread, counting `[path, json]` messages.
struct Subscriber {
    endpoint: String,
    received: Arc<AtomicU64>,
    malformed: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Subscriber {
    fn bind(addr: &str) -> Subscriber {
        let (ep_tx, ep_rx) = mpsc::channel();
        let received = Arc::new(AtomicU64::new(0));
        let malformed = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, m, s) = (received.clone(), malformed.clone(), stop.clone());
        let addr = addr.to_string();
        let thread = thread::spawn(move || {
            let ctx = zmq::Context::new();
            let sock = ctx.socket(zmq::SUB).unwrap();
            sock.set_subscribe(b"").unwrap();
            sock.set_rcvhwm(0).unwrap();
            sock.set_rcvtimeo(50).unwrap();
            sock.set_linger(0).unwrap();
            sock.bind(&addr).unwrap();
            ep_tx
                .send(sock.get_last_endpoint().unwrap().unwrap())
                .unwrap();
            let mut msg = zmq::Message::new();
            let mut parts = 0;
            while !s.load(Ordering::Relaxed) {
                if sock.recv(&mut msg, 0).is_err() {
                    continue;
                }
                parts += 1;
                if msg.get_more() {
                    continue;
                }
                if parts == 2 && !msg.is_empty() {
                    r.fetch_add(1, Ordering::Release);
                } else {
                    m.fetch_add(1, Ordering::Relaxed);
                }
                parts = 0;
            }
        });
        Subscriber {
            endpoint: ep_rx.recv().unwrap(),
            received,
            malformed,
            stop,
            thread: Some(thread),
        }
    }

    fn count(&self) -> u64 {
        self.received.load(Ordering::Acquire)
    }

    /// Waits until `n` messages in all have arrived; asserts no more than
    /// `n` and none malformed.
    fn wait_for(&self, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.count() < n {
            assert!(
                Instant::now() < deadline,
                "subscriber has {} of {n} messages after 60 s",
                self.count()
            );
            thread::sleep(Duration::from_micros(50));
        }
        assert_eq!(self.count(), n, "subscriber received more than was sent");
        assert_eq!(self.malformed.load(Ordering::Relaxed), 0);
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Times `iters` sends with `send(i)`, waits for the subscriber to have them
/// all; returns the time to the last send, or to the last delivery.
fn timed(
    sub: &Subscriber,
    total: &mut u64,
    iters: u64,
    delivered: bool,
    mut send: impl FnMut(usize),
) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        send(i as usize);
    }
    let sent = start.elapsed();
    *total += iters;
    sub.wait_for(*total);
    if delivered {
        start.elapsed()
    } else {
        sent
    }
}

fn bench_transport(c: &mut Criterion, d: &Dump, transport: &str, addr: &str) {
    let sub = Subscriber::bind(addr);
    let n = d.records.len();
    let mut g = c.benchmark_group(format!("publish-{transport}"));
    g.throughput(Throughput::ElementsAndBytes {
        elements: 1,
        bytes: d.json_bytes() / n as u64,
    });

    let report = Collected::default();
    let mut w = writer(&report, d, &sub.endpoint);
    let mut total = 0u64;
    for delivered in [false, true] {
        let name = if delivered {
            "writer_delivered"
        } else {
            "writer_send"
        };
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_custom(|iters| {
                // SAFETY: an OwnedRecord's string slots point at its own bytes.
                timed(&sub, &mut total, iters, delivered, |i| unsafe {
                    w.write(&report, black_box(&d.records[i % n].slots))
                })
            })
        });
    }
    w.finish(&report);
    let s = w.stats();
    assert_eq!(
        (s.written, s.sent, s.dropped),
        (total, total, 0),
        "writer counters"
    );
    assert!(report.take().is_empty());

    let raw = RawPublisher::connect(&sub.endpoint);
    let path = d.path.as_bytes();
    for delivered in [false, true] {
        let name = if delivered {
            "raw_delivered"
        } else {
            "raw_send"
        };
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_custom(|iters| {
                timed(&sub, &mut total, iters, delivered, |i| {
                    raw.send(path, black_box(&d.zeek[i % n]))
                })
            })
        });
    }
    g.finish();
}

/// `BENCH_LOOP=<ipc|tcp>:<records>:<writer|raw|encode_then_copy_send>`: no criterion, just
/// `records` sends and the wait for their delivery, for a profiler
/// (`perf record`, `strace -c`); prints the time and this thread's CPU.
/// One way to publish record `i` (of the cycled records).
type SendFn<'a> = &'a mut dyn FnMut(usize);

/// Time to the last send, time to the last delivery and the sending
/// thread's CPU, per record, for a block of `n` records.
fn block(sub: &Subscriber, total: &mut u64, n: u64, send: SendFn) -> [f64; 3] {
    let cpu = thread_cpu();
    let start = Instant::now();
    for i in 0..n {
        send(i as usize);
    }
    let sent = start.elapsed();
    let cpu = thread_cpu().saturating_sub(cpu);
    *total += n;
    sub.wait_for(*total);
    let delivered = start.elapsed();
    [sent, delivered, cpu].map(|t| t.as_nanos() as f64 / n as f64)
}

/// Ratios from alternating blocks: each round publishes a block of records
/// with each function in turn (the order rotating), every block waiting
/// for its delivery, all to the same subscriber; per round, each
/// function's time over the first one's. Returns, per function, the median
/// ns per record and the median ratio, for send / delivered / CPU.
fn paired(
    sub: &Subscriber,
    total: &mut u64,
    rounds: usize,
    n: u64,
    fns: &mut [SendFn],
) -> Vec<[(f64, f64); 3]> {
    let k = fns.len();
    let mut ns = vec![[const { Vec::new() }; 3]; k];
    let mut ratios = vec![[const { Vec::new() }; 3]; k];
    for round in 0..rounds {
        let mut got = vec![[0.0; 3]; k];
        for j in 0..k {
            let f = (round + j) % k;
            got[f] = block(sub, total, n, &mut *fns[f]);
        }
        for f in 0..k {
            for m in 0..3 {
                ns[f][m].push(got[f][m]);
                ratios[f][m].push(got[f][m] / got[0][m]);
            }
        }
    }
    (0..k)
        .map(|f| [0, 1, 2].map(|m| (median(&mut ns[f][m]), median(&mut ratios[f][m]))))
        .collect()
}

/// The paired comparison for one transport: the writer, the floor (raw
/// pre-encoded sends) and, to tell the encoder's share from the writer's
/// own bookkeeping, the encoder followed by a raw send.
fn paired_transport(d: &Dump, transport: &str, addr: &str) {
    let rounds = if common::quick() { 20 } else { 200 };
    let per_block = 2000;
    let sub = Subscriber::bind(addr);
    let m = d.records.len();
    let report = Collected::default();
    let mut w = writer(&report, d, &sub.endpoint);
    let raw = RawPublisher::connect(&sub.endpoint);
    let path = d.path.as_bytes();
    let enc = Encoder::new(&d.fields, JsonOptions::default());
    let mut buf = Vec::with_capacity(4096);
    let mut total = 0;
    let results = paired(
        &sub,
        &mut total,
        rounds,
        per_block,
        &mut [
            &mut |i| raw.send(path, black_box(&d.zeek[i % m])),
            // SAFETY: an OwnedRecord's string slots point at its own bytes.
            &mut |i| unsafe { w.write(&report, black_box(&d.records[i % m].slots)) },
            &mut |i| raw.encode_then_copy_send(path, &enc, &d.records[i % m], &mut buf),
        ],
    );
    w.finish(&report);
    assert_eq!(w.stats().dropped, 0);
    assert!(report.take().is_empty());
    for (name, r) in ["raw_send", "writer", "encode_then_copy_send"]
        .iter()
        .zip(&results)
    {
        println!(
            "| {transport} | {name} | {:.0} | {:.2}x | {:.0} | {:.2}x | {:.0} | {:.2}x |",
            r[0].0, r[0].1, r[1].0, r[1].1, r[2].0, r[2].1
        );
    }
}

fn plain_loop(d: &Dump, transports: &[(&str, String)], spec: &str) {
    let mut parts = spec.split(':');
    let transport = parts.next().unwrap_or_default();
    let n: u64 = parts
        .next()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000_000);
    let function = parts.next().unwrap_or("writer");
    let (_, addr) = transports
        .iter()
        .find(|(name, _)| *name == transport)
        .unwrap_or_else(|| panic!("BENCH_LOOP: no transport {transport}"));
    let sub = Subscriber::bind(addr);
    let m = d.records.len();
    let mut total = 0;
    let report = Collected::default();
    let cpu_before = thread_cpu();
    let elapsed = match function {
        "writer" => {
            let mut w = writer(&report, d, &sub.endpoint);
            // SAFETY: an OwnedRecord's string slots point at its own bytes.
            let t = timed(&sub, &mut total, n, true, |i| unsafe {
                w.write(&report, &d.records[i % m].slots)
            });
            w.finish(&report);
            assert_eq!(w.stats().sent, n);
            t
        }
        "raw" => {
            let raw = RawPublisher::connect(&sub.endpoint);
            let path = d.path.as_bytes();
            timed(&sub, &mut total, n, true, |i| {
                raw.send(path, &d.zeek[i % m])
            })
        }
        "encode_then_copy_send" => {
            let raw = RawPublisher::connect(&sub.endpoint);
            let path = d.path.as_bytes();
            let enc = Encoder::new(&d.fields, JsonOptions::default());
            let mut buf = Vec::with_capacity(4096);
            timed(&sub, &mut total, n, true, |i| {
                raw.encode_then_copy_send(path, &enc, &d.records[i % m], &mut buf)
            })
        }
        other => panic!("BENCH_LOOP: no function {other}"),
    };
    let cpu = thread_cpu().saturating_sub(cpu_before);
    println!(
        "{function} over {transport}: {n} records delivered in {elapsed:?} \
         ({:.0} ns/record; sending thread CPU {:.0} ns/record)",
        elapsed.as_nanos() as f64 / n as f64,
        cpu.as_nanos() as f64 / n as f64
    );
}

fn paired_summary(d: &Dump, transports: &[(&str, String)]) {
    println!(
        "\nPaired (median over rounds of alternating 2,000-record blocks, each \
         delivered before the next; ns per record, and the ratio to raw_send \
         in the same round):"
    );
    println!("| transport | function | send ns | vs raw | delivered ns | vs raw | sender CPU ns | vs raw |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, addr) in transports {
        paired_transport(d, name, addr);
    }
}

/// `BENCH_SNDBUF=<bytes>,<bytes>,...`: what the send buffer costs, over
/// tcp loopback. One writer per value (`$config["sndbuf"]`; 0 = the OS's
/// own, which Linux autotunes), all connected to one subscriber, publish
/// alternating blocks as [`paired`] does, each block delivered before the
/// next; for the corpus's conn records and for records of 8 KiB. Prints,
/// per value, the median ns per record delivered, the throughput, and the
/// median ratio to the first value's time in the same round.
fn sndbuf_paired(d: &Dump, values: &str) {
    let values: Vec<&str> = values.split(',').map(str::trim).collect();
    let rounds = if common::quick() { 20 } else { 100 };
    let big_fields = [
        FieldSpec::new("n", Kind::Count, Kind::Other, false),
        FieldSpec::new("s", Kind::String, Kind::Other, false),
    ];
    let big: Vec<OwnedRecord> = (0..16)
        .map(|n| {
            OwnedRecord::from_values(&[
                serde_json::json!({"t": "count", "v": n.to_string()}),
                serde_json::json!({"t": "string", "v": "61".repeat(8192)}),
            ])
            .unwrap()
        })
        .collect();
    let conn_bytes = d.zeek.iter().map(Vec::len).sum::<usize>() as f64 / d.zeek.len() as f64;
    let cases = [
        (
            "conn",
            d.path.as_str(),
            &d.fields[..],
            &d.records[..],
            conn_bytes,
            2000,
        ),
        (
            "8 KiB",
            "big",
            &big_fields[..],
            &big[..],
            8192.0 + 16.0,
            200,
        ),
    ];
    println!(
        "| records | sndbuf | delivered ns/record | MB/s | vs {} |",
        values[0]
    );
    println!("|---|---|---|---|---|");
    for (label, path, fields, records, bytes, per_block) in cases {
        let sub = Subscriber::bind("tcp://127.0.0.1:*");
        let report = Collected::default();
        let mut writers: Vec<Writer> = values
            .iter()
            .map(|v| writer_with(&report, path, fields, &sub.endpoint, &[("sndbuf", v)]))
            .collect();
        let m = records.len();
        let mut sends: Vec<Box<dyn FnMut(usize) + '_>> = writers
            .iter_mut()
            .map(|w| {
                let report = &report;
                Box::new(move |i: usize| {
                    // SAFETY: an OwnedRecord's string slots point at its
                    // own bytes.
                    unsafe { w.write(report, black_box(&records[i % m].slots)) }
                }) as Box<dyn FnMut(usize) + '_>
            })
            .collect();
        let mut fns: Vec<SendFn> = sends.iter_mut().map(|f| &mut **f as SendFn).collect();
        let mut total = 0;
        let results = paired(&sub, &mut total, rounds, per_block, &mut fns);
        drop(fns);
        drop(sends);
        for (w, (v, r)) in writers.iter_mut().zip(values.iter().zip(&results)) {
            w.finish(&report);
            assert_eq!(w.stats().dropped, 0);
            let (ns, ratio) = r[1];
            println!(
                "| {label} | {v} | {ns:.0} | {:.0} | {ratio:.2}x |",
                bytes / ns * 1000.0
            );
        }
        assert!(report.take().is_empty());
    }
}

fn main() {
    let Some(d) = common::conn_records() else {
        return;
    };
    let ipc_dir = std::env::temp_dir().join(format!("zmqwriter-bench-{}", std::process::id()));
    std::fs::create_dir_all(&ipc_dir).unwrap();
    let transports = [
        ("ipc", format!("ipc://{}/publish.sock", ipc_dir.display())),
        ("tcp", "tcp://127.0.0.1:*".to_string()),
    ];
    if let Ok(values) = std::env::var("BENCH_SNDBUF") {
        sndbuf_paired(&d, &values);
        return;
    }
    if let Ok(spec) = std::env::var("BENCH_LOOP") {
        plain_loop(&d, &transports, &spec);
        let _ = std::fs::remove_dir_all(&ipc_dir);
        return;
    }
    let started = SystemTime::now();
    let mut c = common::criterion();
    for (name, addr) in &transports {
        bench_transport(&mut c, &d, name, addr);
    }
    c.final_summary();
    paired_summary(&d, &transports);
    let _ = std::fs::remove_dir_all(&ipc_dir);

    println!(
        "\nSummary (this run, {} conn records cycled; ratio = writer time / raw time, lower is better):",
        d.records.len()
    );
    println!("| transport | writer_send ns/rec | raw_send ns/rec | ratio | writer_delivered ns/rec | raw_delivered ns/rec | ratio |");
    println!("|---|---|---|---|---|---|---|");
    for (name, _) in &transports {
        let group = format!("publish-{name}");
        let e = |f: &str| common::estimate_ns(&group, f, started);
        let cell = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0}"));
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.2}x", a / b),
            _ => "-".to_string(),
        };
        let (ws, rs) = (e("writer_send"), e("raw_send"));
        let (wd, rd) = (e("writer_delivered"), e("raw_delivered"));
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            cell(ws),
            cell(rs),
            ratio(ws, rs),
            cell(wd),
            cell(rd),
            ratio(wd, rd)
        );
    }
}
