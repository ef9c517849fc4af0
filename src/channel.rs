//! One ZeroMQ socket and what it knows about its subscribers.
//!
//! The socket is an XPUB with `ZMQ_XPUB_NODROP`: to subscribers it is a PUB
//! socket, but a send that would exceed a subscriber's high-water mark fails
//! with `EAGAIN` instead of being dropped silently, and subscriptions arrive
//! as messages. Without verbose mode, XPUB passes a subscription up when the
//! first subscriber of a topic arrives and an unsubscription when the last
//! one leaves, so the set of topics kept here says exactly whether anyone
//! would receive a given path.

use crate::frames::{self, Frame};
use std::time::{Duration, Instant};

/// How one send ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Queued for every matching subscriber.
    Queued,
    /// A subscriber is `hwm` messages behind (`EAGAIN`); nothing was queued.
    Full,
    /// No subscriber's topic matches the path: nobody would receive it.
    NoSubscriber,
}

pub struct Channel {
    socket: zmq::Socket,
    /// Topics (subscription prefixes) with at least one subscriber.
    topics: Vec<Vec<u8>>,
    /// Sends since subscriptions were last read.
    since_drain: u32,
}

/// Subscriptions are read at least this often while someone subscribes
/// (and always before a record is counted as having no subscriber).
const DRAIN_EVERY: u32 = 256;

/// `ZMQ_XPUB_NODROP = 1`, which the zmq crate does not wrap.
fn set_xpub_nodrop(socket: &mut zmq::Socket) -> zmq::Result<()> {
    let on: std::os::raw::c_int = 1;
    // SAFETY: a valid socket and a pointer to an int of the given size, as
    // zmq_setsockopt(3) requires for this option.
    let rc = unsafe {
        zmq_sys::zmq_setsockopt(
            socket.as_mut_ptr(),
            zmq_sys::ZMQ_XPUB_NODROP as std::os::raw::c_int,
            &on as *const _ as *const std::os::raw::c_void,
            std::mem::size_of_val(&on),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(frames::last_errno())
    }
}

impl Channel {
    /// An XPUB socket in `ctx` with the high-water mark and linger set.
    pub fn new(ctx: &zmq::Context, hwm: i32, linger_ms: i32) -> Result<Channel, String> {
        let mut socket = ctx
            .socket(zmq::XPUB)
            .map_err(|e| format!("cannot create a ZeroMQ socket: {e}"))?;
        socket
            .set_sndhwm(hwm)
            .and_then(|_| socket.set_linger(linger_ms))
            .and_then(|_| socket.set_ipv6(true))
            .and_then(|_| set_xpub_nodrop(&mut socket))
            .map_err(|e| format!("cannot set socket options: {e}"))?;
        Ok(Channel {
            socket,
            topics: Vec::new(),
            since_drain: 0,
        })
    }

    pub fn socket(&self) -> &zmq::Socket {
        &self.socket
    }

    /// The socket, to set options on before it connects or binds.
    pub fn socket_mut(&mut self) -> &mut zmq::Socket {
        &mut self.socket
    }

    /// Reads the subscription messages that arrived.
    pub fn drain_subscriptions(&mut self) {
        self.since_drain = 0;
        while let Ok(msg) = self.socket.recv_bytes(zmq::DONTWAIT) {
            match msg.split_first() {
                Some((1, topic)) => self.topics.push(topic.to_vec()),
                Some((0, topic)) => {
                    if let Some(i) = self.topics.iter().position(|t| t == topic) {
                        self.topics.swap_remove(i);
                    }
                }
                _ => {}
            }
        }
    }

    /// Whether some subscriber's topic is a prefix of `path` (as of the last
    /// drain).
    pub fn has_subscriber(&self, path: &[u8]) -> bool {
        // The empty topic (subscribe to everything, the usual case) is
        // tested first: comparing an empty slice still calls `memcmp`,
        // whose masked vector load of the empty Vec's dangling pointer
        // costs a microcode assist (about 100 ns) on AVX-512 machines.
        self.topics
            .iter()
            .any(|t| t.is_empty() || path.starts_with(t))
    }

    /// Waits until a subscriber for `path` is there or `timeout` passed.
    /// With `one_peer` (a connected socket: its one peer sends all its
    /// subscriptions together, right after the handshake), also stops once
    /// subscriptions arrived that do not match `path`: none will.
    pub fn wait_for_subscriber(&mut self, path: &[u8], timeout: Duration, one_peer: bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            self.drain_subscriptions();
            if self.has_subscriber(path) {
                return true;
            }
            if one_peer && !self.topics.is_empty() {
                return false;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let ms = left.as_millis().clamp(1, 100) as i64;
            let _ = self.socket.poll(zmq::POLLIN, ms);
        }
    }

    /// Tries once to queue `[path, frame]` without blocking. The frame is
    /// taken (handed to libzmq) when the message is queued, and left in
    /// place when it is not (`Full`, `NoSubscriber`).
    pub fn try_send(
        &mut self,
        path: &[u8],
        frame: &mut Option<Box<Frame>>,
    ) -> Result<Sent, zmq::Error> {
        if frame.is_none() {
            // Nothing to send: fail before frame 1 goes out alone.
            return Err(zmq::Error::EINVAL);
        }
        self.since_drain += 1;
        if self.since_drain >= DRAIN_EVERY || self.topics.is_empty() {
            self.drain_subscriptions();
        }
        if !self.has_subscriber(path) {
            return Ok(Sent::NoSubscriber);
        }
        match frames::send_copy(&mut self.socket, path, zmq::SNDMORE | zmq::DONTWAIT) {
            Ok(()) => {}
            Err(zmq::Error::EAGAIN) => {
                // libzmq learns what the peer has read through commands it
                // processes only now and then while sending; process them
                // now and try once more before calling the queue full.
                let _ = self.socket.get_events();
                match frames::send_copy(&mut self.socket, path, zmq::SNDMORE | zmq::DONTWAIT) {
                    Ok(()) => {}
                    Err(zmq::Error::EAGAIN) => return Ok(Sent::Full),
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
        // With the first frame accepted, the second one is too: the
        // high-water mark counts whole messages.
        if let Some(frame) = frame.take() {
            frames::send(&mut self.socket, frame, zmq::DONTWAIT)?;
        }
        Ok(Sent::Queued)
    }
}
