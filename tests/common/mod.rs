//! Test peers: subscribers that behave as real ones do, each a thread
//! sitting in `recv` on its own SUB socket (a bound SUB only attaches a new
//! peer while its thread calls into libzmq), handing messages over a channel.

#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

pub struct Subscriber {
    /// For a bound subscriber: the endpoint a writer connects to.
    pub endpoint: String,
    rx: mpsc::Receiver<Vec<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    paused: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Bind,
    Connect,
}

/// How a subscriber is set up.
#[derive(Clone, Copy)]
pub struct Setup {
    pub mode: Mode,
    /// Start paused: connected and subscribed, reading nothing, with
    /// buffers as small as ZeroMQ and the kernel allow.
    pub paused: bool,
}

impl Subscriber {
    /// Binds `addr` (e.g. `tcp://127.0.0.1:*`), subscribed to everything.
    pub fn bind(addr: &str) -> Subscriber {
        Subscriber::start(
            addr,
            Setup {
                mode: Mode::Bind,
                paused: false,
            },
        )
    }

    /// Connects to `addr`, subscribed to everything.
    pub fn connect(addr: &str) -> Subscriber {
        Subscriber::start(
            addr,
            Setup {
                mode: Mode::Connect,
                paused: false,
            },
        )
    }

    pub fn start(addr: &str, setup: Setup) -> Subscriber {
        Subscriber::start_with(addr, setup, |_| {})
    }

    /// As `start`, with `configure` applied to the socket (e.g. CURVE
    /// options) before it binds or connects.
    pub fn start_with(
        addr: &str,
        setup: Setup,
        configure: impl FnOnce(&zmq::Socket) + Send + 'static,
    ) -> Subscriber {
        let (tx, rx) = mpsc::channel();
        let (ep_tx, ep_rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let paused = Arc::new(AtomicBool::new(setup.paused));
        let (stop2, paused2) = (stop.clone(), paused.clone());
        let addr = addr.to_string();
        let thread = thread::spawn(move || {
            let ctx = zmq::Context::new();
            let sock = ctx.socket(zmq::SUB).unwrap();
            sock.set_ipv6(true).unwrap();
            sock.set_subscribe(b"").unwrap();
            if setup.paused {
                sock.set_rcvhwm(1).unwrap();
                sock.set_rcvbuf(4096).unwrap();
            } else {
                sock.set_rcvhwm(0).unwrap();
            }
            sock.set_rcvtimeo(20).unwrap();
            sock.set_linger(0).unwrap();
            configure(&sock);
            match setup.mode {
                Mode::Bind => sock.bind(&addr).unwrap(),
                Mode::Connect => sock.connect(&addr).unwrap(),
            }
            ep_tx
                .send(sock.get_last_endpoint().unwrap().unwrap_or_default())
                .unwrap();
            while !stop2.load(Ordering::Relaxed) {
                if paused2.load(Ordering::Relaxed) {
                    // Processes ZeroMQ's commands (peers attach, the
                    // subscription goes out), reads nothing.
                    let _ = sock.get_events();
                    thread::park_timeout(Duration::from_millis(10));
                    continue;
                }
                if let Ok(frames) = sock.recv_multipart(0) {
                    if tx.send(frames).is_err() {
                        break;
                    }
                }
            }
        });
        Subscriber {
            endpoint: ep_rx.recv().unwrap(),
            rx,
            stop,
            paused,
            thread: Some(thread),
        }
    }

    pub fn resume(&self) {
        self.paused.store(false, Ordering::Relaxed);
    }

    /// Stops reading (what is read already stays in the channel).
    pub fn pause(&self) {
        self.paused.store(true, Ordering::Relaxed);
    }

    /// The next message's frames; panics after 10 s without one.
    pub fn recv(&self) -> Vec<Vec<u8>> {
        self.rx
            .recv_timeout(Duration::from_secs(10))
            .expect("no message within 10 s")
    }

    /// The next message within `ms`, if any.
    pub fn recv_within(&self, ms: u64) -> Option<Vec<Vec<u8>>> {
        self.rx.recv_timeout(Duration::from_millis(ms)).ok()
    }

    /// Whether no further message arrives within `ms`.
    pub fn nothing_more_within(&self, ms: u64) -> bool {
        self.recv_within(ms).is_none()
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

pub fn ipc_addr(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("zmqwriter-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    format!("ipc://{}/{name}.sock", dir.display())
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (up to 10 s) until this machine has no TCP connection to `port`
/// left in state ESTABLISHED or CLOSE_WAIT: the peer's close has been seen
/// by both ends.
pub fn wait_until_no_connection_to(port: u16) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let port_hex = format!(":{port:04X}");
    loop {
        let open = ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .any(|l| {
                    let cols: Vec<&str> = l.split_whitespace().collect();
                    cols.len() > 3
                        && cols[2].ends_with(&port_hex)
                        && (cols[3] == "01" || cols[3] == "08")
                })
        });
        if !open {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "connection to port {port} still open after 10 s"
        );
        thread::sleep(Duration::from_millis(10));
    }
}
