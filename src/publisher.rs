//! The ZeroMQ side: one socket per writer, sending `[path, json]`.
//!
//! Each writer gets its own context, so that closing it in `DoFinish` waits
//! for its unsent messages for at most `zmq_linger` and no longer. The socket
//! is an XPUB: to subscribers it is exactly a PUB socket, and it lets the
//! writer see subscriptions arrive (`wait_for_subscribers`).

use crate::options::Options;
use std::time::{Duration, Instant};

pub struct Publisher {
    socket: zmq::Socket,
}

impl Publisher {
    /// Creates the socket and connects it to `opts.endpoint` (already
    /// validated), applying hwm and linger, then the connect pause and the
    /// wait for subscribers.
    pub fn connect(opts: &Options) -> Result<Publisher, String> {
        let ctx = zmq::Context::new();
        ctx.set_io_threads(1)
            .map_err(|e| format!("cannot configure ZeroMQ: {e}"))?;
        let socket = ctx
            .socket(zmq::XPUB)
            .map_err(|e| format!("cannot create a ZeroMQ socket: {e}"))?;
        socket
            .set_sndhwm(opts.hwm)
            .and_then(|_| socket.set_linger(opts.linger_ms))
            .and_then(|_| socket.set_ipv6(true))
            .map_err(|e| format!("cannot set socket options: {e}"))?;
        socket
            .connect(&opts.endpoint)
            .map_err(|e| format!("cannot connect to \"{}\": {e}", opts.endpoint))?;
        let publisher = Publisher { socket };
        if opts.connect_pause_ms > 0 {
            std::thread::sleep(Duration::from_millis(opts.connect_pause_ms));
        }
        if !opts.wait_for_subscribers.is_zero() {
            publisher.wait_for_subscriber(opts.wait_for_subscribers);
        }
        Ok(publisher)
    }

    /// Waits until a subscription arrives or `timeout` passes; returns
    /// whether one arrived.
    pub fn wait_for_subscriber(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = left.as_millis().min(i64::MAX as u128) as i64;
            match self.socket.poll(zmq::POLLIN, ms) {
                Ok(n) if n > 0 => {
                    if let Ok(msg) = self.socket.recv_bytes(zmq::DONTWAIT) {
                        if msg.first() == Some(&1) {
                            return true;
                        }
                    }
                }
                Ok(_) => return false,
                Err(zmq::Error::EINTR) => {}
                Err(_) => return false,
            }
            if Instant::now() >= deadline {
                return false;
            }
        }
    }

    /// Queues one message `[path, json]`.
    pub fn send(&self, path: &[u8], json: &[u8]) -> Result<(), zmq::Error> {
        self.socket.send(path, zmq::SNDMORE)?;
        self.socket.send(json, 0)
    }

    /// Closes the socket and its context: returns once every queued message
    /// was handed to the network or the linger time passed.
    pub fn close(self) {
        // Dropping the socket drops the last reference to its context,
        // whose termination honours ZMQ_LINGER.
        drop(self.socket);
    }
}
