//! The in-Zeek benchmark's subscriber (`cargo run --release --example
//! zmq-count`): binds a SUB socket, receives `[path, json]` messages (or,
//! with `--frames 1`, one-frame `{"_path":"<path>",...}` messages) and
//! counts them, per path, as fast as libzmq delivers them, so that it takes
//! as little CPU as possible from the process being measured.
//!
//! It prints `ready` once bound, then, when `--expect` messages arrived and
//! `--idle-ms` passed without another one (or after `--timeout-s` without
//! any), one line of JSON:
//!
//! ```text
//! {"messages":500000,"bad":0,"bytes":200538852,"paths":{"bench":500000}}
//! ```
//!
//! `bad` counts messages that did not have exactly `--frames` frames (or,
//! in one frame, did not start with `{"_path":"`); `bytes` counts the JSON
//! frames (in one frame, the whole frame). The exit
//! status is 0 only if `messages == expect` and `bad == 0`. With
//! `--capture FILE` the first `--capture-max` messages are written to FILE
//! as they arrived, each frame as a little-endian u32 length and its bytes
//! (what `zmq-floor` sends).

use clap::Parser;
use std::fs::File;
use std::io::{BufWriter, Write};

#[derive(Parser)]
struct Args {
    /// Where to bind.
    #[arg(long, default_value = "tcp://127.0.0.1:5599")]
    endpoint: String,
    /// Messages to wait for.
    #[arg(long)]
    expect: u64,
    /// After the expected messages, how long to wait for one too many.
    #[arg(long, default_value_t = 300)]
    idle_ms: u64,
    /// Give up after this long without a message.
    #[arg(long, default_value_t = 120)]
    timeout_s: u64,
    /// Frames per message: 2 (`[path, json]`) or 1 (`{"_path":...}`).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=2))]
    frames: u8,
    /// Write the first messages to this file.
    #[arg(long)]
    capture: Option<String>,
    #[arg(long, default_value_t = 4096)]
    capture_max: usize,
}

struct Counts {
    messages: u64,
    bad: u64,
    bytes: u64,
    /// Messages per path, in order of first appearance (there are few).
    paths: Vec<(Vec<u8>, u64)>,
}

impl Counts {
    fn path(&mut self, path: &[u8]) {
        match self.paths.iter_mut().find(|(p, _)| p == path) {
            Some((_, n)) => *n += 1,
            None => self.paths.push((path.to_vec(), 1)),
        }
    }

    fn json(&self) -> String {
        let paths: Vec<String> = self
            .paths
            .iter()
            .map(|(p, n)| format!("\"{}\":{n}", String::from_utf8_lossy(p).escape_default()))
            .collect();
        format!(
            "{{\"messages\":{},\"bad\":{},\"bytes\":{},\"paths\":{{{}}}}}",
            self.messages,
            self.bad,
            self.bytes,
            paths.join(",")
        )
    }
}

/// The path a one-frame message names first: `{"_path":"<path>",...}`
/// (the benchmark's paths need no JSON escaping).
fn one_frame_path(frame: &[u8]) -> Option<&[u8]> {
    let rest = frame.strip_prefix(b"{\"_path\":\"")?;
    let end = rest.iter().position(|&b| b == b'"')?;
    Some(&rest[..end])
}

fn main() {
    let args = Args::parse();
    let ctx = zmq::Context::new();
    let sock = ctx.socket(zmq::SUB).expect("SUB socket");
    sock.set_rcvhwm(0).expect("rcvhwm");
    sock.set_subscribe(b"").expect("subscribe");
    sock.bind(&args.endpoint).expect("bind");
    let mut capture = args
        .capture
        .as_ref()
        .map(|p| BufWriter::new(File::create(p).expect("capture file")));
    println!("ready");
    std::io::stdout().flush().expect("stdout");

    let mut c = Counts {
        messages: 0,
        bad: 0,
        bytes: 0,
        paths: Vec::new(),
    };
    let mut first = zmq::Message::new();
    let mut frame = zmq::Message::new();
    let mut idle_ms = 0;
    loop {
        // Receive without blocking; only when nothing is queued, wait in
        // poll: 100 ms at a time while messages are due (up to
        // --timeout-s in all), then --idle-ms for one too many.
        match sock.recv(&mut first, zmq::DONTWAIT) {
            Ok(()) => idle_ms = 0,
            Err(zmq::Error::EAGAIN) => {
                let done = c.messages >= args.expect;
                let wait = if done { args.idle_ms } else { 100 };
                if sock.poll(zmq::POLLIN, wait as i64).expect("poll") == 0 {
                    idle_ms += wait;
                    if done || idle_ms > args.timeout_s * 1000 {
                        break;
                    }
                }
                continue;
            }
            Err(e) => panic!("recv: {e}"),
        }
        let mut frames = 1;
        while sock.get_rcvmore().expect("rcvmore") {
            sock.recv(&mut frame, 0).expect("recv");
            frames += 1;
        }
        c.messages += 1;
        // The frames this message holds, and its path.
        let parts: &[&[u8]] = match frames {
            1 => &[&first[..]],
            _ => &[&first[..], &frame[..]],
        };
        let path = match frames {
            1 => one_frame_path(&first),
            _ => Some(&first[..]),
        };
        let Some(path) = path.filter(|_| frames == usize::from(args.frames)) else {
            c.bad += 1;
            continue;
        };
        c.bytes += parts[parts.len() - 1].len() as u64;
        c.path(path);
        if let Some(w) = capture.as_mut() {
            if c.messages as usize <= args.capture_max {
                for f in parts {
                    w.write_all(&(f.len() as u32).to_le_bytes())
                        .expect("capture");
                    w.write_all(f).expect("capture");
                }
            }
        }
    }
    if let Some(mut w) = capture {
        w.flush().expect("capture");
    }
    println!("{}", c.json());
    let ok = c.messages == args.expect && c.bad == 0;
    std::process::exit(if ok { 0 } else { 1 });
}
