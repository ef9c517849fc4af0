//! Where a writer's messages go: its own connected socket, or the one
//! socket all writers share for a bound endpoint.
//!
//! - Connect mode (default): each writer has its own context and socket, so
//!   closing it in `DoFinish` waits for that writer's unsent messages for at
//!   most `zmq_linger`, and the write path takes no lock.
//! - Bind mode: an endpoint can be bound once per process, so the first
//!   writer to use it binds it and every writer with the same endpoint shares
//!   that socket behind a mutex (ZeroMQ sockets may move between threads
//!   with a full memory barrier, which the mutex provides). The socket closes,
//!   with linger, when the last of them finishes.
//!
//! Either way a record goes out in [`Publisher::publish`]: written into a
//! frame from the writer's own [`FramePool`], sent under the overflow
//! policy (retrying while a subscriber has no room, with `Block`), and the
//! frame taken back if it was not sent.

use crate::channel::{Channel, Sent};
use crate::curve::{self, Security, ZapHandler};
use crate::endpoint;
use crate::frames::{Frame, FramePool};
use crate::options::{Options, OverflowPolicy};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

pub struct Publisher {
    target: Target,
    policy: OverflowPolicy,
    block_timeout: Duration,
    /// Buffers for frame 2, sent without copies.
    frames: FramePool,
}

/// Why a record was not published: it could not be written, or the socket
/// failed. (What the overflow policy decides is a [`Sent`].)
#[derive(Debug)]
pub enum PublishError<E> {
    /// Writing the record into its frame failed; nothing was sent.
    Fill(E),
    /// The socket failed.
    Socket(zmq::Error),
}

enum Target {
    Connected(Channel),
    Bound(Arc<BoundEndpoint>),
}

/// A bound socket shared by every writer with the same endpoint.
struct BoundEndpoint {
    endpoint: String,
    security: Security,
    // Dropped in this order: the socket first, then the ZAP handler, whose
    // socket is the last one of the context; the context's termination then
    // waits (at most the linger time) for queued messages.
    channel: Mutex<Channel>,
    zap: Option<ZapHandler>,
}

impl BoundEndpoint {
    fn channel(&self) -> MutexGuard<'_, Channel> {
        // A panic elsewhere while holding the lock leaves the socket usable.
        self.channel.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The bound endpoints in use in this process.
static BOUND: Mutex<Vec<Weak<BoundEndpoint>>> = Mutex::new(Vec::new());

fn shared_bound(opts: &Options, security: Security) -> Result<Arc<BoundEndpoint>, String> {
    let mut registry = BOUND.lock().unwrap_or_else(|e| e.into_inner());
    registry.retain(|w| w.strong_count() > 0);
    if let Some(existing) = registry
        .iter()
        .filter_map(Weak::upgrade)
        .find(|b| b.endpoint == opts.endpoint)
    {
        if existing.security != security {
            return Err(format!(
                "\"{}\" is already bound by another writer with other CURVE settings",
                opts.endpoint
            ));
        }
        return Ok(existing);
    }
    let ctx = zmq::Context::new();
    // The ZAP handler must be there before a CURVE server socket binds.
    let zap = ZapHandler::for_security(&ctx, &security, opts.drop_report_interval)?;
    let mut channel = Channel::new(&ctx, opts.hwm, opts.linger_ms)?;
    curve::apply(channel.socket_mut(), &security)?;
    endpoint::attach(channel.socket(), &opts.endpoint, true)?;
    let bound = Arc::new(BoundEndpoint {
        endpoint: opts.endpoint.clone(),
        security,
        channel: Mutex::new(channel),
        zap,
    });
    registry.push(Arc::downgrade(&bound));
    Ok(bound)
}

impl Publisher {
    /// Connects to, or binds (`opts.bind`), `opts.endpoint` (already
    /// validated) with `security` (resolved from `opts.curve` by
    /// [`curve::resolve`]); then applies the connect pause and waits for a
    /// subscriber of `path` as the options say.
    pub fn open(opts: &Options, security: Security, path: &[u8]) -> Result<Publisher, String> {
        let target = if opts.bind {
            Target::Bound(shared_bound(opts, security)?)
        } else {
            let ctx = zmq::Context::new();
            ctx.set_io_threads(1)
                .map_err(|e| format!("cannot configure ZeroMQ: {e}"))?;
            let mut channel = Channel::new(&ctx, opts.hwm, opts.linger_ms)?;
            curve::apply(channel.socket_mut(), &security)?;
            endpoint::attach(channel.socket(), &opts.endpoint, false)?;
            Target::Connected(channel)
        };
        let mut publisher = Publisher {
            target,
            policy: opts.overflow,
            block_timeout: opts.block_timeout,
            frames: FramePool::new(),
        };
        if opts.connect_pause_ms > 0 {
            std::thread::sleep(Duration::from_millis(opts.connect_pause_ms));
        }
        if !opts.wait_for_subscribers.is_zero() {
            publisher.wait_for_subscriber(path, opts.wait_for_subscribers);
        }
        Ok(publisher)
    }

    fn with_channel<T>(&mut self, f: impl FnOnce(&mut Channel) -> T) -> T {
        match &mut self.target {
            Target::Connected(c) => f(c),
            Target::Bound(b) => f(&mut b.channel()),
        }
    }

    /// Waits until a subscriber of `path` is there or `timeout` passed.
    pub fn wait_for_subscriber(&mut self, path: &[u8], timeout: Duration) -> bool {
        match &mut self.target {
            Target::Connected(c) => c.wait_for_subscriber(path, timeout, true),
            Target::Bound(b) => {
                // Short turns, so that other writers can use the socket.
                let deadline = Instant::now() + timeout;
                loop {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if b.channel().wait_for_subscriber(
                        path,
                        left.min(Duration::from_millis(20)),
                        false,
                    ) {
                        return true;
                    }
                    if left.is_zero() {
                        return false;
                    }
                }
            }
        }
    }

    /// Messages to report about rejected CURVE clients (bind mode), each
    /// rejected key once, whichever writer of the endpoint asks first.
    pub fn take_reports(&mut self) -> Vec<String> {
        match &self.target {
            Target::Bound(b) => b
                .zap
                .as_ref()
                .map_or_else(Vec::new, |z| z.take_messages("subscriber")),
            Target::Connected(_) => Vec::new(),
        }
    }

    /// Reads pending subscription changes (call now and then when idle).
    pub fn refresh(&mut self) {
        self.with_channel(|c| c.drain_subscriptions());
    }

    /// Publishes one record, `[path, json]`: `fill` writes the JSON into
    /// an empty buffer (a frame of the pool), which then goes out under the
    /// overflow policy (see [`Publisher::publish_until`]).
    pub fn publish<E>(
        &mut self,
        path: &[u8],
        fill: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<Sent, PublishError<E>> {
        self.publish_until(path, fill, || false)
    }

    /// [`Publisher::publish`], where waiting for room ends early when
    /// `give_up()` says so (checked between tries, e.g. for a signal).
    ///
    /// With `Drop` the record is sent in one try; with `Block` the send is
    /// retried while a subscriber has no room, until it is queued,
    /// `block_timeout` passed or `give_up()`. A frame that was not sent
    /// (not filled, `Full`, `NoSubscriber`, an error) goes back to the pool.
    pub fn publish_until<E>(
        &mut self,
        path: &[u8],
        fill: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
        give_up: impl Fn() -> bool,
    ) -> Result<Sent, PublishError<E>> {
        let mut frame = self.frames.take();
        if let Err(e) = fill(&mut frame.buf) {
            self.frames.give_back(frame);
            return Err(PublishError::Fill(e));
        }
        // Taken by the send once the message is queued (see
        // [`Channel::try_send`]).
        let mut frame = Some(frame);
        let sent = self.send(path, &mut frame, give_up);
        if let Some(frame) = frame {
            self.frames.give_back(frame);
        }
        sent.map_err(PublishError::Socket)
    }

    /// The overflow policy's sends: see [`Publisher::publish_until`].
    fn send(
        &mut self,
        path: &[u8],
        frame: &mut Option<Box<Frame>>,
        give_up: impl Fn() -> bool,
    ) -> Result<Sent, zmq::Error> {
        let first = self.with_channel(|c| c.try_send(path, frame))?;
        if first != Sent::Full || self.policy == OverflowPolicy::Drop {
            return Ok(first);
        }
        let deadline = (!self.block_timeout.is_zero()).then(|| Instant::now() + self.block_timeout);
        let mut pause = Duration::from_micros(20);
        loop {
            if give_up() || deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(Sent::Full);
            }
            // XPUB never reports writability, so back off and retry.
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(5));
            let again = self.with_channel(|c| c.try_send(path, frame))?;
            if again != Sent::Full {
                return Ok(again);
            }
        }
    }

    /// Closes the socket: connect mode waits here (at most the linger time)
    /// for queued messages; a shared bound socket closes, the same way, when
    /// its last writer lets go of it.
    pub fn close(self) {
        drop(self.target);
    }
}
