//! Where a writer's messages go: its own connected socket, or the one
//! socket all writers share for a bound endpoint.
//!
//! - Connect mode (default): each writer has its own socket, in one context
//!   all connected writers share (one libzmq I/O thread for all of them),
//!   so the write path takes no lock; closing it in `DoFinish` waits for
//!   that writer's unsent messages for at most `zmq_linger`.
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
//!
//! A subscriber without room never holds back the others: when a record
//! cannot be queued for every subscriber (after waiting, with `Block`), a
//! bound socket queues it for those with room ([`Sent::PartlyQueued`]). A
//! connected socket has one subscriber, so the record is dropped (`Full`).
//!
//! With `Block`, waiting is budgeted per *stall* ([`Stall`]): a stall
//! begins when a record finds no room, and its records wait
//! `block_timeout` in all, not each; once that ran out they go out at once
//! to whoever has room. It ends when a record gets room again, at once or
//! after waiting: the subscribers read. Except after a *cut*: every
//! subscriber went away (a record found none), or no record found room
//! for half the `heartbeat_timeout` (ZeroMQ disconnects a peer that reads
//! nothing that long, and a connected writer reconnects to the same, maybe
//! hung, process, keeping its queue for the new connection). The room a new
//! connection has at first is its buffers, not a subscriber reading: the
//! stall goes on across the reconnect, and ends only when records still
//! find room `block_timeout` after the first one did.
//!
//! Waits also end when the caller's `give_up()` says so: the writer's, once
//! Zeek stopped it and `zmq_linger` passed (see [`crate::stop`]).

use crate::acks::{self, Connections, Recent};
use crate::channel::{Channel, Framing, Sent, SocketOptions};
use crate::context::{self, SharedContext};
use crate::curve::{self, Security, ZapHandler};
use crate::encoder;
use crate::endpoint;
use crate::frames::{Frame, FramePool, Reach};
use crate::monitor::{HandshakeMonitor, Role};
use crate::options::{MessageFormat, Options, OverflowPolicy};
use crate::report::{quoted, Level};
use crate::sequence::Numbering;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

pub struct Publisher {
    target: Target,
    policy: OverflowPolicy,
    block_timeout: Duration,
    /// ZeroMQ disconnects a peer that took nothing for this long (zero:
    /// never).
    heartbeat_timeout: Duration,
    /// With `Block`: the stall going on, if one is.
    stall: Option<Stall>,
    /// How long `close` waits for queued records (`None`: until
    /// delivered): the socket's ZMQ_LINGER.
    linger: Option<Duration>,
    /// Buffers for frame 2, sent without copies.
    frames: FramePool,
    /// `[path, record]`, or the record alone (which then starts with its
    /// path: the `fill` of [`Publisher::publish`] writes it).
    format: MessageFormat,
    /// With `sequence_numbers`: the next record's number.
    numbering: Option<Numbering>,
    /// Connect mode: the handshakes with the subscriber that failed (a
    /// CURVE server with another key, say). (A bound socket's are its
    /// [`BoundEndpoint`]'s.)
    handshakes: Option<HandshakeMonitor>,
    /// This end uses CURVE.
    curve: bool,
    /// Connect mode: what the subscriber has not acknowledged.
    acks: Option<Acks>,
}

/// A connected socket's connections and the writer's latest messages: the
/// records its subscriber has not acknowledged ([`crate::acks`]).
struct Acks {
    connections: Connections,
    recent: Recent,
}

/// Wire bytes of latest messages kept to tell records from unacknowledged
/// bytes: what the kernel holds at most (Linux doubles `sndbuf`; without
/// it, `net.ipv4.tcp_wmem`'s default maximum), and some.
fn recent_bytes(sndbuf: i32) -> u64 {
    let kernel = match u64::try_from(sndbuf) {
        Ok(b) if b > 0 => 2 * b,
        _ => 4 << 20,
    };
    kernel + (64 << 10)
}

impl Drop for Publisher {
    fn drop(&mut self) {
        // The monitor ends before its reading end, and the socket, go.
        if let (Some(m), Target::Connected(c)) = (&mut self.handshakes, &mut self.target) {
            m.stop(c.socket_mut());
        }
    }
}

/// A time in which records of a `Block` publisher found a subscriber
/// without room (see the module comment).
#[derive(Clone, Copy, Debug)]
struct Stall {
    /// When its first record found no room: its records wait until
    /// `since + block_timeout`.
    since: Instant,
    /// When a record last found room in it (at first: `since`).
    room_at: Instant,
    /// Every subscriber went away, or none had room for half the
    /// `heartbeat_timeout`: room from now on may be a new connection's.
    cut: bool,
    /// After the last cut: when a record first found room again.
    back: Option<Instant>,
}

/// What closing a publisher left undelivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unsent {
    /// Records queued for every subscriber that libzmq still held when the
    /// linger time ran out: discarded.
    pub queued: u64,
    /// Likewise, of records queued for only some subscribers.
    pub partly_queued: u64,
    /// Records of a connected writer that its subscriber's kernel had not
    /// acknowledged by then.
    pub unacknowledged: u64,
    /// Records a connection held unacknowledged when it ended, since the
    /// last [`Publisher::poll_acks`] (as of that reading).
    pub lost: u64,
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
    /// The options of the writer that bound it; they apply to all.
    socket_options: SocketOptions,
    // Dropped in this order: the socket first, then the ZAP handler, whose
    // socket is the last one of the context; then the context.
    channel: Mutex<Channel>,
    zap: Option<ZapHandler>,
    /// The handshakes with subscribers that failed, said by whichever
    /// writer of the endpoint asks first (keys the ZAP handler refuses it
    /// says itself).
    handshakes: Mutex<HandshakeMonitor>,
}

impl BoundEndpoint {
    fn channel(&self) -> MutexGuard<'_, Channel> {
        // A panic elsewhere while holding the lock leaves the socket usable.
        self.channel.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn handshakes(&self) -> MutexGuard<'_, HandshakeMonitor> {
        self.handshakes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for BoundEndpoint {
    fn drop(&mut self) {
        // Each writer waited its linger time for its records when it closed
        // (Publisher::close); what is left now would only wait once more.
        let mut channel = self.channel.lock().unwrap_or_else(|e| e.into_inner());
        let _ = channel.socket().set_linger(0);
        // The monitor ends before its reading end, and the socket, go.
        self.handshakes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .stop(channel.socket_mut());
    }
}

/// The bound endpoints in use in this process.
static BOUND: Mutex<Vec<Weak<BoundEndpoint>>> = Mutex::new(Vec::new());

/// The bound socket for `opts.endpoint`: the one another writer bound, or
/// a new one. With it, a warning if the socket's options are not `opts`'.
fn shared_bound(
    opts: &Options,
    security: Security,
) -> Result<(Arc<BoundEndpoint>, Option<String>), String> {
    let mut registry = BOUND.lock().unwrap_or_else(|e| e.into_inner());
    registry.retain(|w| w.strong_count() > 0);
    if let Some(existing) = registry
        .iter()
        .filter_map(Weak::upgrade)
        .find(|b| b.endpoint == opts.endpoint)
    {
        if existing.security != security {
            return Err(format!(
                "{} is already bound by another writer with other CURVE settings",
                quoted(&opts.endpoint)
            ));
        }
        let warning = options_conflict(&opts.endpoint, &existing.socket_options, opts);
        return Ok((existing, warning));
    }
    let ctx = zmq::Context::new();
    // The ZAP handler must be there before a CURVE server socket binds.
    let zap = ZapHandler::for_security(&ctx, &security, opts.drop_report_interval)?;
    let socket_options = opts.socket_options();
    let mut channel = Channel::new(&ctx, &socket_options)?.skipping();
    curve::apply(channel.socket_mut(), &security)?;
    let role = Role {
        peer: "subscriber",
        curve: security != Security::Plain,
        bind: true,
        zap_reports_refusals: zap.is_some(),
    };
    let handshakes =
        HandshakeMonitor::start(&ctx, channel.socket(), role, opts.drop_report_interval)?;
    endpoint::attach(channel.socket(), &opts.endpoint, true)?;
    let bound = Arc::new(BoundEndpoint {
        endpoint: opts.endpoint.clone(),
        security,
        socket_options,
        channel: Mutex::new(channel),
        zap,
        handshakes: Mutex::new(handshakes),
    });
    registry.push(Arc::downgrade(&bound));
    Ok((bound, None))
}

/// The warning for a writer whose socket options differ from those of the
/// bound socket it shares (`applied`): which values apply, and its own.
fn options_conflict(endpoint: &str, applied: &SocketOptions, opts: &Options) -> Option<String> {
    let own = opts.socket_options();
    let differences: Vec<String> = [
        ("zmq_hwm", applied.hwm, own.hwm, ""),
        ("zmq_linger", applied.linger_ms, own.linger_ms, " ms"),
        (
            "heartbeat_interval",
            applied.heartbeat_ivl_ms,
            own.heartbeat_ivl_ms,
            " ms",
        ),
        (
            "heartbeat_timeout",
            applied.heartbeat_timeout_ms,
            own.heartbeat_timeout_ms,
            " ms",
        ),
        ("sndbuf", applied.sndbuf, own.sndbuf, " bytes"),
    ]
    .into_iter()
    .filter(|(_, applied, own, _)| applied != own)
    .map(|(name, applied, own, unit)| {
        format!("{name} = {applied}{unit} (not this writer's {own}{unit})")
    })
    .collect();
    if differences.is_empty() {
        return None;
    }
    Some(format!(
        "{} is bound by another writer, and its socket's options apply to this \
         writer too: {}",
        quoted(endpoint),
        differences.join(", ")
    ))
}

/// The context of every connected writer: one libzmq I/O thread (and one
/// reaper thread) for all of them, where a context each took two threads a
/// writer (sixty for thirty log paths, on a sensor that may have two
/// cores). It lives as long as the process: a writer's `close` waits for
/// its records itself and then drops them (linger 0), so nothing needs the
/// context's termination to wait. Its socket limit follows the open files
/// limit ([`crate::context`]). A bound socket keeps a context of its own:
/// its ZAP handler (the CURVE allow list) is per context.
fn connect_context() -> &'static SharedContext {
    context::shared()
}

/// A connected writer's socket, with a monitor of its handshakes (which
/// the heartbeat reads: [`Publisher::take_reports`]) and connections
/// ([`Publisher::poll_acks`]).
fn connected(opts: &Options, security: &Security) -> Result<(Channel, HandshakeMonitor), String> {
    let ctx = connect_context();
    let socket = ctx.socket(context::Kind::Xpub).map_err(|e| e.to_string())?;
    let mut channel = Channel::with_socket(socket, &opts.socket_options())?;
    curve::apply(channel.socket_mut(), security)?;
    let role = Role {
        peer: "subscriber",
        curve: *security != Security::Plain,
        bind: false,
        zap_reports_refusals: false,
    };
    let pair = ctx.socket(context::Kind::Pair).map_err(|e| e.to_string())?;
    // libzmq makes the monitor's other end in the context too: when that
    // is the socket too many, the same message says so.
    let monitor = HandshakeMonitor::watching(
        pair,
        channel.socket(),
        role,
        opts.drop_report_interval,
        true,
    )
    .map_err(|e| ctx.cannot_create(e).to_string())?;
    endpoint::attach(channel.socket(), &opts.endpoint, false)?;
    Ok((channel, monitor))
}

impl Publisher {
    /// Connects to, or binds (`opts.bind`), `opts.endpoint` (already
    /// validated) with `security` (resolved from `opts.curve` by
    /// [`curve::resolve`]); then applies the connect pause and waits for a
    /// subscriber of `path` as the options say. Returns with it a warning
    /// to report, if any: a bound socket shared with a writer of other
    /// socket options keeps that writer's.
    pub fn open(
        opts: &Options,
        security: Security,
        path: &[u8],
    ) -> Result<(Publisher, Option<String>), String> {
        Publisher::open_until(opts, security, path, &|| false)
    }

    /// [`Publisher::open`], where waiting for a subscriber also ends when
    /// `give_up()` says so.
    pub fn open_until(
        opts: &Options,
        security: Security,
        path: &[u8],
        give_up: &dyn Fn() -> bool,
    ) -> Result<(Publisher, Option<String>), String> {
        let mut linger_ms = opts.linger_ms;
        let mut handshakes = None;
        let mut acks = None;
        let curve = security != Security::Plain;
        let (target, warning) = if opts.bind {
            let (bound, warning) = shared_bound(opts, security)?;
            linger_ms = bound.socket_options.linger_ms;
            (Target::Bound(bound), warning)
        } else {
            let (channel, monitor) = connected(opts, &security)?;
            handshakes = Some(monitor);
            acks = Some(Acks {
                connections: Connections::default(),
                recent: Recent::new(recent_bytes(opts.sndbuf)),
            });
            (Target::Connected(channel), None)
        };
        let mut publisher = Publisher {
            target,
            policy: opts.overflow,
            block_timeout: opts.block_timeout,
            heartbeat_timeout: opts.heartbeat_timeout,
            stall: None,
            linger: u64::try_from(linger_ms).ok().map(Duration::from_millis),
            frames: FramePool::new(),
            format: opts.message_format,
            numbering: opts.sequence_numbers.then(Numbering::new),
            handshakes,
            curve,
            acks,
        };
        if opts.connect_pause_ms > 0 {
            std::thread::sleep(Duration::from_millis(opts.connect_pause_ms));
        }
        if !opts.wait_for_subscribers.is_zero() {
            publisher.wait_for_subscriber_until(path, opts.wait_for_subscribers, give_up);
        }
        Ok((publisher, warning))
    }

    /// The high-water mark the socket has (a shared bound socket's may not
    /// be this writer's own `zmq_hwm`).
    pub fn hwm(&self, own: i32) -> i32 {
        match &self.target {
            Target::Connected(_) => own,
            Target::Bound(b) => b.socket_options.hwm,
        }
    }

    fn with_channel<T>(&mut self, f: impl FnOnce(&mut Channel) -> T) -> T {
        match &mut self.target {
            Target::Connected(c) => f(c),
            Target::Bound(b) => f(&mut b.channel()),
        }
    }

    /// How a record of `path` goes out.
    fn framing<'a>(&self, path: &'a [u8]) -> Framing<'a> {
        match self.format {
            MessageFormat::PathAndJson => Framing::PathAndRecord(path),
            MessageFormat::JsonWithPath => Framing::RecordOnly,
        }
    }

    /// Waits until a subscriber of `path` is there or `timeout` passed.
    /// With records alone, a subscriber of their first bytes,
    /// `{"_path":"<path>",`.
    pub fn wait_for_subscriber(&mut self, path: &[u8], timeout: Duration) -> bool {
        self.wait_for_subscriber_until(path, timeout, &|| false)
    }

    /// [`Publisher::wait_for_subscriber`], ending early when `give_up()`
    /// says so.
    pub fn wait_for_subscriber_until(
        &mut self,
        path: &[u8],
        timeout: Duration,
        give_up: &dyn Fn() -> bool,
    ) -> bool {
        let topic;
        let path = match self.format {
            MessageFormat::PathAndJson => path,
            MessageFormat::JsonWithPath => {
                topic = encoder::path_topic(path);
                &topic
            }
        };
        match &mut self.target {
            Target::Connected(c) => c.wait_for_subscriber(path, timeout, true, give_up),
            Target::Bound(b) => {
                // Short turns, so that other writers can use the socket.
                let deadline = Instant::now().checked_add(timeout);
                loop {
                    let left = deadline.map_or(Duration::MAX, |d| {
                        d.saturating_duration_since(Instant::now())
                    });
                    if b.channel().wait_for_subscriber(
                        path,
                        left.min(Duration::from_millis(20)),
                        false,
                        give_up,
                    ) {
                        return true;
                    }
                    if left.is_zero() || give_up() {
                        return false;
                    }
                }
            }
        }
    }

    /// What to report about rejected CURVE clients and the allowed-clients
    /// file (bind mode), each rejected key once, whichever writer of the
    /// endpoint asks first; in connect mode, about failed handshakes with
    /// the subscriber, each cause once and then at most every
    /// `drop_report_interval` (see [`crate::monitor`]). Does not block.
    pub fn take_reports(&mut self) -> Vec<(Level, String)> {
        let what = if self.curve {
            "CURVE handshake"
        } else {
            "handshake"
        };
        let failed = |lines: Vec<String>| {
            lines
                .into_iter()
                .map(move |l| (Level::Warning, format!("{what} failed: {l}")))
        };
        let now = Instant::now();
        match &self.target {
            Target::Bound(b) => {
                let mut out = b
                    .zap
                    .as_ref()
                    .map_or_else(Vec::new, |z| z.take_reports("subscriber"));
                out.extend(failed(b.handshakes().take_reports(now)));
                out
            }
            Target::Connected(_) => match &mut self.handshakes {
                Some(monitor) => failed(monitor.take_reports(now)).collect(),
                None => Vec::new(),
            },
        }
    }

    /// The last failed handshake [`Publisher::take_reports`] found, if
    /// any: why a subscriber that is there may not receive.
    pub fn handshake_failed(&self) -> Option<String> {
        match &self.target {
            Target::Bound(b) => b.handshakes().last_failure(),
            Target::Connected(_) => self.handshakes.as_ref()?.last_failure(),
        }
    }

    /// Reads pending subscription changes (call now and then when idle).
    pub fn refresh(&mut self) {
        self.with_channel(|c| c.drain_subscriptions());
    }

    /// Publishes one record, `[path, json]`: `fill` writes the JSON into
    /// an empty buffer (a frame of the pool), which then goes out under the
    /// overflow policy (see [`Publisher::publish_until`]). With
    /// `JSON_WITH_PATH` the frame goes out alone, and `fill` writes the
    /// path into it: `{"_path":"<path>",...}`.
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
    /// retried while a subscriber has no room, until it is queued, the
    /// stall's `block_timeout` passed or `give_up()`. Then a bound socket
    /// queues it for the subscribers with room (`PartlyQueued`; see the
    /// module comment). A frame that was not sent (not filled, `Full`,
    /// `NoSubscriber`, an error) goes back to the pool.
    pub fn publish_until<E>(
        &mut self,
        path: &[u8],
        fill: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
        give_up: impl Fn() -> bool,
    ) -> Result<Sent, PublishError<E>> {
        let mut frame = self.frames.take();
        // Numbered first: a record that is not sent has its number too.
        frame.seq = self.numbering.as_mut().map(Numbering::next_frame);
        if let Err(e) = fill(&mut frame.buf) {
            self.frames.give_back(frame);
            return Err(PublishError::Fill(e));
        }
        self.frames.note_len(frame.buf.len());
        let wire = self.acks.is_some().then(|| {
            let seq = frame.seq.map_or(0, |s| s.as_bytes().len());
            let path = match self.format {
                MessageFormat::PathAndJson => Some(path.len()),
                MessageFormat::JsonWithPath => None,
            };
            let frames: Vec<usize> = path
                .into_iter()
                .chain([frame.buf.len()])
                .chain((seq > 0).then_some(seq))
                .collect();
            acks::wire_size(&frames, self.curve)
        });
        // Taken by the send once the message is queued (see
        // [`Channel::try_send`]).
        let mut frame = Some(frame);
        let sent = self.send(path, &mut frame, give_up);
        if let (Some(a), Some(wire), Ok(Sent::Queued)) = (&mut self.acks, wire, &sent) {
            a.recent.push(wire);
        }
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
        let framing = self.framing(path);
        let first = self.with_channel(|c| c.try_send(framing, frame))?;
        if first != Sent::Full {
            self.stall_went_on(first);
            return Ok(first);
        }
        if self.policy == OverflowPolicy::Block {
            if self.stall.is_none() {
                let now = Instant::now();
                self.stall = Some(Stall {
                    since: now,
                    room_at: now,
                    cut: false,
                    back: None,
                });
            }
            if let Some(sent) = self.wait_for_room(path, frame, &give_up)? {
                return Ok(sent);
            }
        }
        match self.target {
            Target::Bound(_) => self.with_channel(|c| c.try_send_lossy(framing, frame)),
            Target::Connected(_) => Ok(Sent::Full),
        }
    }

    /// Notes how a send went for the stall, if one goes on (a record found
    /// room, or no subscriber): whether the stall ends (see the module
    /// comment).
    fn stall_went_on(&mut self, sent: Sent) {
        let Some(stall) = &mut self.stall else {
            return;
        };
        if sent == Sent::NoSubscriber {
            stall.cut = true;
            stall.back = None;
        }
        if !matches!(sent, Sent::Queued | Sent::PartlyQueued) {
            return;
        }
        // ZeroMQ disconnects a peer heartbeat_timeout after it last read;
        // it may have stopped reading a while before the writer last found
        // room (its buffers took more), so half of that silence is a cut.
        let now = Instant::now();
        let silent = now.duration_since(stall.room_at);
        if !self.heartbeat_timeout.is_zero() && silent >= self.heartbeat_timeout / 2 {
            stall.cut = true;
            stall.back = None;
        }
        stall.room_at = now;
        if !stall.cut {
            self.stall = None;
            return;
        }
        let back = *stall.back.get_or_insert(now);
        if now.duration_since(back) >= self.block_timeout {
            self.stall = None;
        }
    }

    /// `Block`: retries while a subscriber has no room. `None` once the
    /// stall's `block_timeout` passed (at once if it had before) or
    /// `give_up()`.
    fn wait_for_room(
        &mut self,
        path: &[u8],
        frame: &mut Option<Box<Frame>>,
        give_up: &impl Fn() -> bool,
    ) -> Result<Option<Sent>, zmq::Error> {
        let Some(since) = self.stall.map(|s| s.since) else {
            return Ok(None);
        };
        let deadline = (!self.block_timeout.is_zero())
            .then(|| since.checked_add(self.block_timeout))
            .flatten();
        let mut pause = Duration::from_micros(20);
        loop {
            if give_up() || deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
            // XPUB never reports writability, so back off and retry.
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(5));
            let framing = self.framing(path);
            let again = self.with_channel(|c| c.try_send(framing, frame))?;
            if again != Sent::Full {
                self.stall_went_on(again);
                return Ok(Some(again));
            }
        }
    }

    /// How long `close` waits for queued records (`None`: until
    /// delivered): the socket's ZMQ_LINGER (a shared bound socket's may not
    /// be this writer's own `zmq_linger`).
    pub fn linger(&self) -> Option<Duration> {
        self.linger
    }

    /// The id the writer's sequence numbers carry, if it numbers them.
    pub fn writer_id(&self) -> Option<u64> {
        self.numbering.as_ref().map(Numbering::writer_id)
    }

    /// Connect mode: what the subscriber has not acknowledged now, and
    /// what connections that ended since the last poll held, in records.
    /// (Bind mode: nothing; see `docs/notes-sndbuf.md`.)
    pub fn poll_acks(&mut self) -> acks::Poll {
        let skip = self.in_flight(Reach::All);
        match (&mut self.acks, &mut self.handshakes) {
            (Some(a), Some(m)) => a.connections.poll(m.take_connections(), &a.recent, skip),
            _ => acks::Poll::default(),
        }
    }

    /// Connect mode: whether the subscriber's kernel acknowledged all that
    /// was written to it.
    fn all_acknowledged(&mut self) -> bool {
        match (&mut self.acks, &mut self.handshakes) {
            (Some(a), Some(m)) => a.connections.all_acknowledged(m.take_connections()),
            _ => true,
        }
    }

    /// Records still in libzmq's hands (queued, or being written).
    pub fn in_flight(&self, reach: Reach) -> u64 {
        self.frames.in_flight(reach)
    }

    /// Closes the socket, first waiting up to the linger time (ZMQ_LINGER;
    /// -1: until delivered) for libzmq to deliver this writer's queued
    /// records; says how many it still held then, which are discarded.
    /// (With a shared bound socket, they stay queued while other writers
    /// use it, and may still be delivered; they count as undelivered all
    /// the same.) libzmq gives a message back when it fetches the next one
    /// for the connection, so one that was written whole just before the
    /// buffers filled counts as held: per connection, at most one record
    /// counted here may still arrive. A bind-mode subscriber that
    /// disconnects during the wait gives its queue back too: libzmq does
    /// not say that it discarded those, so they stay counted as sent.
    pub fn close(self) -> Unsent {
        self.close_until(&|| false)
    }

    /// [`Publisher::close`], where the wait also ends when `give_up()`
    /// says so (the writer's: `zmq_linger` after Zeek stopped it, so that
    /// waiting in `DoWrite` and here together take no longer).
    pub fn close_until(mut self, give_up: &dyn Fn() -> bool) -> Unsent {
        let deadline = self.linger.and_then(|l| Instant::now().checked_add(l));
        let mut pause = Duration::from_micros(100);
        let held = |p: &Publisher| p.in_flight(Reach::All) + p.in_flight(Reach::Some);
        while held(&self) > 0 && deadline.is_none_or(|d| Instant::now() < d) && !give_up() {
            // The socket must process its commands: a subscriber that went
            // away gives its queued messages back only once the socket has
            // taken note (libzmq ends a pipe with commands both ends handle).
            self.with_channel(|c| {
                let _ = c.socket().get_events();
            });
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
        // Connect mode: the same wait for the subscriber's kernel to
        // acknowledge what was written; what it did not counts as dropped.
        // (The kernel still tries to deliver it after the socket closed,
        // for up to heartbeat_timeout (ZMQ_TCP_MAXRT): a subscriber that
        // reads again by then gets it. Resetting the connection instead
        // would cost it what its own kernel holds, acknowledged: libzmq
        // does not read on after a reset.)
        let mut pause = Duration::from_micros(100);
        while !self.all_acknowledged() && deadline.is_none_or(|d| Instant::now() < d) && !give_up()
        {
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
        let acks = self.poll_acks();
        let unsent = Unsent {
            queued: self.in_flight(Reach::All),
            partly_queued: self.in_flight(Reach::Some),
            unacknowledged: acks.unacked,
            lost: acks.lost,
        };
        if let Target::Connected(channel) = &self.target {
            // Waited already: what is left goes now. (A shared bound socket
            // does the same when its last writer lets go of it.)
            let _ = channel.socket().set_linger(0);
        }
        unsent
    }
}
