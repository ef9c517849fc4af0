//! CPU of the whole publishing process per record: the in-Zeek method
//! (issue 6: CPU of the Zeek process over the `None` writer) without Zeek.
//!
//! ```sh
//! cargo bench --bench process_cpu                 # 100 rounds
//! BENCH_QUICK=1 cargo bench --bench process_cpu   # 10 rounds
//! BENCH_ONLY=writer cargo bench --bench process_cpu  # one function, for a profiler
//! ```
//!
//! The subscriber is another process (this binary, started again as a
//! child), so that the CPU counted here is only the publisher's: the
//! calling thread plus ZeroMQ's I/O thread, as `/usr/bin/time` counts a
//! Zeek process. Each round runs a block of the 218 corpus conn records
//! (cycled) through each of:
//!
//! - `none`: the records are only touched (Zeek's `None` writer);
//! - `encode_only`: the encoder, nothing sent;
//! - `writer`: `Writer::write` (encode + send), what the bridge calls;
//! - `raw_send`: the records pre-encoded (Zeek's bytes), sent on a plain
//!   XPUB socket: what the socket alone costs;
//! - `encode_then_copy_send`: the encoder, then the same plain send, which
//!   copies the JSON into a libzmq message (the straightforward way, and
//!   what the writer did before `src/frames.rs`).
//!
//! A block that sends waits (in a blocking read, using no CPU) until the
//! child has received all of it, so the I/O thread's work is in the block's
//! CPU (which is also given for ZeroMQ's I/O thread alone, from
//! `/proc/self/task/*/schedstat`). The order rotates every round; each function's CPU per record is
//! the median over rounds, the ratios are medians of the per-round ratios
//! (both sides measured seconds apart), and `writer - none` is the number
//! to hold against the target (≤ 1 µs per record; the shim, which turns Zeek's
//! values into slots, is not in it).

mod common;

use common::median;
use common::publishing::{io_threads_cpu, process_cpu, writer, RawPublisher};
use common::Dump;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use zeek_zeromq_writer::encoder::{Encoder, JsonOptions};
use zeek_zeromq_writer::report::Collected;

/// Records per block.
const BLOCK: u64 = 5_000;

/// The child: binds `addr`, prints the endpoint, then counts `[path, json]`
/// messages and prints the count after every `BLOCK` of them.
fn child_subscriber(addr: &str) {
    let ctx = zmq::Context::new();
    let sock = ctx.socket(zmq::SUB).unwrap();
    sock.set_subscribe(b"").unwrap();
    sock.set_rcvhwm(0).unwrap();
    sock.set_linger(0).unwrap();
    sock.bind(addr).unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", sock.get_last_endpoint().unwrap().unwrap()).unwrap();
    out.flush().unwrap();
    let mut msg = zmq::Message::new();
    let (mut parts, mut count) = (0, 0u64);
    loop {
        sock.recv(&mut msg, 0).unwrap();
        parts += 1;
        if msg.get_more() {
            continue;
        }
        assert_eq!(parts, 2, "a message of {parts} frames");
        parts = 0;
        count += 1;
        if count % BLOCK == 0 {
            writeln!(out, "{count}").unwrap();
            out.flush().unwrap();
        }
    }
}

struct Subscriber {
    child: Child,
    lines: BufReader<ChildStdout>,
    endpoint: String,
    received: u64,
}

impl Subscriber {
    fn start(addr: &str) -> Subscriber {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env("BENCH_CHILD_SUBSCRIBER", addr)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let mut endpoint = String::new();
        lines.read_line(&mut endpoint).unwrap();
        Subscriber {
            child,
            lines,
            endpoint: endpoint.trim().to_string(),
            received: 0,
        }
    }

    /// Blocks until the child has received another `BLOCK` messages.
    fn wait_for_block(&mut self) {
        let mut line = String::new();
        self.lines.read_line(&mut line).unwrap();
        self.received += BLOCK;
        assert_eq!(
            line.trim().parse::<u64>().ok(),
            Some(self.received),
            "the subscriber's count"
        );
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The functions compared, in the order of `run`'s match.
const FUNCTIONS: [&str; 5] = [
    "none",
    "encode_only",
    "writer",
    "raw_send",
    "encode_then_copy_send",
];

fn measure(d: &Dump, transport: &str, addr: &str, rounds: usize) {
    let mut sub = Subscriber::start(addr);
    let report = Collected::default();
    let mut w = writer(&report, d, &sub.endpoint);
    let raw = RawPublisher::connect(&sub.endpoint);
    let enc = Encoder::new(&d.fields, JsonOptions::default());
    let mut buf = Vec::with_capacity(4096);
    let (path, m) = (d.path.as_bytes(), d.records.len());
    // CPU per record of the whole process, and of ZeroMQ's I/O threads
    // (read outside the measured window).
    let mut run = |f: usize, sub: &mut Subscriber| {
        let io_start = io_threads_cpu();
        let start = process_cpu();
        for i in 0..BLOCK as usize {
            let r = &d.records[i % m];
            match f {
                0 => {
                    black_box(&r.slots);
                }
                1 => {
                    buf.clear();
                    // SAFETY: an OwnedRecord's string slots point at its own bytes.
                    unsafe { enc.encode(black_box(&r.slots), &mut buf) }.unwrap();
                    black_box(&buf);
                }
                // SAFETY: an OwnedRecord's string slots point at its own bytes.
                2 => unsafe { w.write(&report, black_box(&r.slots)) },
                3 => raw.send(path, black_box(&d.zeek[i % m])),
                _ => raw.encode_then_copy_send(path, &enc, r, &mut buf),
            }
        }
        if f >= 2 {
            sub.wait_for_block();
        }
        let cpu = process_cpu().saturating_sub(start);
        let io = io_threads_cpu().saturating_sub(io_start);
        [cpu, io].map(|t| t.as_nanos() as f64 / BLOCK as f64)
    };
    // `BENCH_ONLY=<function>`: just that one (for a profiler).
    let only = std::env::var("BENCH_ONLY").ok();
    let k = FUNCTIONS.len();
    let mut cpu = vec![Vec::new(); k];
    let mut io = vec![Vec::new(); k];
    let mut vs_raw = Vec::new();
    let mut vs_copy = Vec::new();
    for round in 0..rounds {
        let mut got = vec![0.0; k];
        for j in 0..k {
            let f = (round + j) % k;
            if only.as_ref().is_none_or(|o| o == FUNCTIONS[f]) {
                let [all, io_thread] = run(f, &mut sub);
                got[f] = all;
                io[f].push(io_thread);
            }
        }
        for f in 0..k {
            cpu[f].push(got[f]);
        }
        // Over `none`, as the in-Zeek method subtracts Zeek's None writer.
        vs_raw.push((got[2] - got[0]) / (got[3] - got[0]));
        vs_copy.push((got[2] - got[0]) / (got[4] - got[0]));
    }
    w.finish(&report);
    let s = w.stats();
    if only.is_none() {
        assert_eq!((s.sent, s.dropped), (rounds as u64 * BLOCK, 0));
    }
    let med: Vec<f64> = cpu.iter_mut().map(|v| median(v)).collect();
    for (f, name) in FUNCTIONS.iter().enumerate() {
        if io[f].is_empty() {
            continue;
        }
        println!(
            "| {transport} | {name} | {:.0} | {:.0} | {:.0} |",
            med[f],
            median(&mut io[f]),
            med[f] - med[0]
        );
    }
    if only.is_some() {
        return;
    }
    println!(
        "| {transport} | writer vs raw_send (median of per-round ratios, over none) | | | {:.2}x |",
        median(&mut vs_raw)
    );
    println!(
        "| {transport} | writer vs encode_then_copy_send (same) | | | {:.2}x |",
        median(&mut vs_copy)
    );
}

fn main() {
    if let Ok(addr) = std::env::var("BENCH_CHILD_SUBSCRIBER") {
        child_subscriber(&addr);
        return;
    }
    let Some(d) = common::conn_records() else {
        return;
    };
    let rounds = if common::quick() { 10 } else { 100 };
    let ipc_dir = std::env::temp_dir().join(format!("zmqwriter-cpu-{}", std::process::id()));
    std::fs::create_dir_all(&ipc_dir).unwrap();
    println!(
        "Process CPU per record (this process: the calling thread and ZeroMQ's I/O \
         thread; the subscriber is a child process), median of {rounds} rounds of \
         {BLOCK}-record blocks, {} conn records cycled:",
        d.records.len()
    );
    println!("| transport | function | CPU ns/record | of which I/O thread | over `none` |");
    println!("|---|---|---|---|---|");
    measure(
        &d,
        "ipc",
        &format!("ipc://{}/cpu.sock", ipc_dir.display()),
        rounds,
    );
    measure(&d, "tcp", "tcp://127.0.0.1:*", rounds);
    let _ = std::fs::remove_dir_all(&ipc_dir);
}
