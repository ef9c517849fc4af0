//! The transport floor of the in-Zeek benchmark (`cargo run --release
//! --example zmq-floor`): sends the `[path, json]` messages a `zmq-count
//! --capture` file holds, cycled to `--n` messages, with bare libzmq and
//! nothing else, as the writer's socket would: XPUB, `ZMQ_SNDHWM` 0,
//! linger -1, connected to the subscriber, after its subscription arrived.
//! The process exits once libzmq has written every message (the context's
//! termination waits for that), so its whole CPU (user + system, every
//! thread, libzmq's I/O threads included) is what sending these bytes
//! costs.
//!
//! `--sockets S` sends from S threads, each with its own context (one I/O
//! thread) and socket, as S Zeek writers do; thread j sends the j-th path's
//! messages of the capture (there must be S paths). With one socket, one
//! thread sends them all, the paths in turn (as bench.zeek writes its
//! streams).
//!
//! `--mode`: how each frame is handed to libzmq.
//! - `copy`: `zmq_send` (libzmq copies the bytes; a frame over 33 bytes is
//!   a `malloc`ed message that the I/O thread frees).
//! - `zc`: the path with `zmq_send`, the JSON without a copy
//!   (`zmq_msg_init_data` with a free function that does nothing; libzmq
//!   still allocates its reference-counted header), as the writer sends.
//! - `const`: both frames with `zmq_send_const` (no copy, no allocation):
//!   the least libzmq can do per message.

use clap::{Parser, ValueEnum};
use std::ffi::c_void;
use std::fs;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Copy,
    Zc,
    Const,
}

#[derive(Parser)]
struct Args {
    /// Where the subscriber is bound.
    #[arg(long, default_value = "tcp://127.0.0.1:5599")]
    endpoint: String,
    /// Messages to send in all (0: connect, wait for the subscription, exit).
    #[arg(long)]
    n: u64,
    /// A `zmq-count --capture` file.
    #[arg(long)]
    capture: String,
    /// Sending threads, each with its own context and socket.
    #[arg(long, default_value_t = 1)]
    sockets: usize,
    #[arg(long, value_enum, default_value = "copy")]
    mode: Mode,
}

type Message = (&'static [u8], &'static [u8]);

/// The capture's messages. Leaked: `const` and `zc` messages point at these
/// bytes until libzmq has sent them, after the sockets are gone.
fn load(path: &str) -> Vec<Message> {
    let data: &'static [u8] = fs::read(path).expect("capture file").leak();
    let mut frames = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let len = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        frames.push(&data[at + 4..at + 4 + len]);
        at += 4 + len;
    }
    assert!(
        !frames.is_empty() && frames.len() % 2 == 0,
        "{path}: not a capture of two-frame messages"
    );
    frames.chunks(2).map(|f| (f[0], f[1])).collect()
}

extern "C" fn keep(_data: *mut c_void, _hint: *mut c_void) {}

fn send_frame(socket: &mut zmq::Socket, bytes: &'static [u8], mode: Mode, more: bool) {
    let flags = if more { zmq::SNDMORE } else { 0 };
    let s = socket.as_mut_ptr();
    let (ptr, len) = (bytes.as_ptr() as *mut c_void, bytes.len());
    // SAFETY: a live socket; the bytes are 'static, so they outlive any
    // message that points at them.
    let rc = unsafe {
        match mode {
            Mode::Copy => zmq_sys::zmq_send(s, ptr, len, flags),
            Mode::Const => zmq_sys::zmq_send_const(s, ptr, len, flags),
            Mode::Zc if more => zmq_sys::zmq_send(s, ptr, len, flags),
            Mode::Zc => {
                let mut msg = zmq_sys::zmq_msg_t { __: [0; 64] };
                let rc = zmq_sys::zmq_msg_init_data(&mut msg, ptr, len, Some(keep), ptr);
                assert_eq!(rc, 0, "zmq_msg_init_data");
                zmq_sys::zmq_msg_send(&mut msg, s, flags)
            }
        }
    };
    if rc < 0 {
        // SAFETY: zmq_errno(3) takes nothing and reads this thread's errno.
        let errno = unsafe { zmq_sys::zmq_errno() };
        panic!("send: {}", zmq::Error::from_raw(errno));
    }
}

/// Connects, waits for the subscription, sends `count` messages cycling
/// through `msgs`, and returns once libzmq has written them all.
fn publish(endpoint: &str, msgs: &[Message], count: u64, mode: Mode) {
    let ctx = zmq::Context::new();
    let mut socket = ctx.socket(zmq::XPUB).expect("XPUB socket");
    socket.set_sndhwm(0).expect("sndhwm");
    socket.set_linger(-1).expect("linger");
    socket.connect(endpoint).expect("connect");
    socket.set_rcvtimeo(10_000).expect("rcvtimeo");
    let sub = socket.recv_bytes(0).expect("no subscription within 10 s");
    assert_eq!(sub.first(), Some(&1), "not a subscription");
    let mut it = msgs.iter().cycle();
    for _ in 0..count {
        let (path, json) = it.next().unwrap();
        send_frame(&mut socket, path, mode, true);
        send_frame(&mut socket, json, mode, false);
    }
    drop(socket);
    // Terminating the context waits (linger -1) until every message is
    // written to the connection.
    drop(ctx);
}

fn main() {
    let args = Args::parse();
    let msgs = load(&args.capture);
    // The capture's paths, and each path's messages.
    let mut by_path: Vec<(&[u8], Vec<Message>)> = Vec::new();
    for &(p, j) in &msgs {
        match by_path.iter_mut().find(|(q, _)| *q == p) {
            Some((_, mine)) => mine.push((p, j)),
            None => by_path.push((p, vec![(p, j)])),
        }
    }
    if args.sockets <= 1 {
        // One socket for every path: the paths in turn, as bench.zeek
        // writes its streams.
        let shortest = by_path.iter().map(|(_, m)| m.len()).min().unwrap();
        let turns: Vec<Message> = (0..shortest)
            .flat_map(|i| by_path.iter().map(move |(_, m)| m[i]))
            .collect();
        publish(&args.endpoint, &turns, args.n, args.mode);
        return;
    }
    assert_eq!(
        by_path.len(),
        args.sockets,
        "--sockets {} needs a capture of as many paths",
        args.sockets
    );
    let s = args.sockets as u64;
    std::thread::scope(|scope| {
        for (j, (_, mine)) in by_path.iter().enumerate() {
            let count = args.n / s + u64::from((j as u64) < args.n % s);
            let (endpoint, mode) = (&args.endpoint, args.mode);
            scope.spawn(move || publish(endpoint, mine, count, mode));
        }
    });
}
