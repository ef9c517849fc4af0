//! Helpers for the `zeek-zmq` tests: temporary directories, the real binary
//! as a child process with its output read line by line, a test publisher,
//! and waiting on conditions with deadlines.

#![allow(dead_code)]

pub mod compare;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_zeek-zmq");

/// Polls `cond` every 5 ms until it holds; panics with `what` after `secs`.
pub fn wait_until(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "zeek-zmq-test-{}-{tag}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// An ipc:// endpoint in this directory.
    pub fn ipc(&self, name: &str) -> String {
        format!("ipc://{}/{name}.sock", self.0.display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Lines read from a child's pipe, as they arrive.
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    fn read_from(&self, pipe: impl std::io::Read + Send + 'static) -> thread::JoinHandle<()> {
        let lines = self.0.clone();
        thread::spawn(move || {
            let mut r = BufReader::new(pipe);
            let mut buf = Vec::new();
            while r
                .read_until(b'\n', &mut buf)
                .map(|n| n > 0)
                .unwrap_or(false)
            {
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                }
                lines
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf).into_owned());
                buf.clear();
            }
        })
    }

    pub fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Waits for a line satisfying `pred`; returns it. Panics after `secs`
    /// with `what` and the lines there are.
    pub fn wait_for(&self, secs: u64, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(found) = self.0.lock().unwrap().iter().find(|l| pred(l)) {
                return found.clone();
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {secs} s waiting for {what}; the lines: {:#?}",
                self.all()
            );
            thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A running `zeek-zmq` process.
pub struct Proc {
    pub child: Child,
    pub stdout: Lines,
    pub stderr: Lines,
    readers: Vec<thread::JoinHandle<()>>,
}

impl Proc {
    pub fn spawn(args: &[&str]) -> Proc {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("zeek-zmq starts");
        let (stdout, stderr) = (Lines::default(), Lines::default());
        let readers = vec![
            stdout.read_from(child.stdout.take().unwrap()),
            stderr.read_from(child.stderr.take().unwrap()),
        ];
        Proc {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    /// Starts `zeek-zmq sub ARGS` and waits until it has bound or connected.
    pub fn sub(args: &[&str]) -> Proc {
        let mut all = vec!["sub"];
        all.extend_from_slice(args);
        let p = Proc::spawn(&all);
        p.stderr.wait_for(10, "sub to bind or connect", |l| {
            l.starts_with("zeek-zmq sub: bound to") || l.starts_with("zeek-zmq sub: connecting to")
        });
        p
    }

    /// The number of records a `sub --stats` reported receiving in all.
    pub fn records_in_all(&self) -> u64 {
        self.stderr
            .all()
            .iter()
            .filter_map(|l| {
                let (before, _) = l.split_once(" in all")?;
                let n = before
                    .strip_suffix(" records")
                    .or_else(|| before.strip_suffix(" record"))?;
                n.rsplit(' ').next()?.parse().ok()
            })
            .max()
            .unwrap_or(0)
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// Waits for the process to end (killing it after `secs`), and for its
    /// output to be read.
    pub fn wait(mut self, secs: u64) -> Finished {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "zeek-zmq did not exit within {secs} s; stderr: {:?}",
                    self.stderr.all()
                );
            }
            thread::sleep(Duration::from_millis(5));
        };
        for r in self.readers.drain(..) {
            r.join().unwrap();
        }
        Finished {
            status,
            stdout: self.stdout.all(),
            stderr: self.stderr.all(),
        }
    }

    /// SIGTERM, then [`Proc::wait`].
    pub fn terminate(self) -> Finished {
        self.signal("TERM");
        self.wait(20)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

impl Finished {
    pub fn stderr_text(&self) -> String {
        self.stderr.join("\n")
    }

    pub fn assert_success(&self) -> &Finished {
        assert!(
            self.status.success(),
            "exit status {:?}; stderr:\n{}",
            self.status,
            self.stderr_text()
        );
        self
    }
}

/// Runs `zeek-zmq ARGS` to the end (at most `secs`).
pub fn run(args: &[&str], secs: u64) -> Finished {
    Proc::spawn(args).wait(secs)
}

/// A publisher in the test: an XPUB socket that connects to a bound
/// `sub`, and learns when its subscription arrived.
pub struct TestPub {
    _ctx: zmq::Context,
    pub sock: zmq::Socket,
}

impl TestPub {
    pub fn connect(endpoint: &str, configure: impl FnOnce(&zmq::Socket)) -> TestPub {
        let ctx = zmq::Context::new();
        let sock = ctx.socket(zmq::XPUB).unwrap();
        sock.set_linger(2000).unwrap();
        configure(&sock);
        sock.connect(endpoint).unwrap();
        TestPub { _ctx: ctx, sock }
    }

    /// Waits for `n` subscription messages (at most `ms`).
    pub fn subscribed(&self, n: usize, ms: i64) -> bool {
        let deadline = Instant::now() + Duration::from_millis(ms as u64);
        let mut seen = 0;
        while seen < n {
            let left = deadline
                .saturating_duration_since(Instant::now())
                .as_millis() as i64;
            if left == 0 || self.sock.poll(zmq::POLLIN, left).unwrap_or(0) == 0 {
                return false;
            }
            if let Ok(m) = self.sock.recv_bytes(zmq::DONTWAIT) {
                if m.first() == Some(&1) {
                    seen += 1;
                }
            }
        }
        true
    }

    pub fn send(&self, frames: &[&[u8]]) {
        self.sock.send_multipart(frames, 0).unwrap();
    }
}

/// The records (lines) of a directory written by `sub --dir`: every file
/// whose name starts with `path.`, gzip or not, in name order.
pub fn records_in(dir: &Path, path: &str) -> Vec<String> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{path}."))
        })
        .collect();
    names.sort();
    let mut out = Vec::new();
    for n in names {
        let bytes = std::fs::read(&n).unwrap();
        let text = if n.extension().is_some_and(|e| e == "gz") {
            let mut s = String::new();
            std::io::Read::read_to_string(
                &mut flate2::read::MultiGzDecoder::new(&bytes[..]),
                &mut s,
            )
            .unwrap();
            s
        } else {
            String::from_utf8(bytes).unwrap()
        };
        out.extend(text.lines().map(String::from));
    }
    out
}
