//! One ZeroMQ socket and what it knows about its subscribers.
//!
//! The socket is an XPUB with `ZMQ_XPUB_NODROP`: to subscribers it is a PUB
//! socket, but a send that would exceed a subscriber's high-water mark fails
//! with `EAGAIN` instead of being dropped silently, and subscriptions arrive
//! as messages. Without verbose mode, XPUB passes a subscription up when the
//! first subscriber of a topic arrives and an unsubscription when the last
//! one leaves (libzmq queues it when it terminates that subscriber's pipe),
//! so the set of topics kept here says whether anyone would receive a given
//! path. They are read before a record is counted as having no subscriber,
//! and otherwise about once a millisecond ([`READ_SUBSCRIPTIONS_EVERY`], by
//! a clock that ticks every 1 to 4 ms): about as often as libzmq itself,
//! while sending, takes note of a subscriber that left (in commands from
//! its I/O thread, at most every millisecond or so), so a record counted
//! as sent after the last subscriber left went out within a few
//! milliseconds of it. Reading them costs a system call (libzmq polls its
//! command pipe on a receive), which every send would pay otherwise.
//!
//! `EAGAIN` means some subscriber of the path has no room, but with several
//! subscribers (bind mode) not which, nor whether the others have room:
//! libzmq checks them together. [`Channel::try_send_lossy`] then sends with
//! `ZMQ_XPUB_NODROP` off for that one message: it is queued for every
//! subscriber with room and skipped for the ones without, so one stalled
//! subscriber never holds back the others.
//!
//! Skipping has a consequence to count: libzmq stops writing to the
//! subscriber it skipped (deactivates its pipe) until that subscriber's
//! queue has gone down to its low-water mark, and the `NODROP` check no
//! longer sees it meanwhile, so later sends would look queued for everyone
//! while it gets none of them. So after a skip the channel is *lagging*:
//! records still go out with the `NODROP` check (which now guards the
//! subscribers still active), but count as [`Sent::PartlyQueued`], until
//! every message queued (for everyone or for some) before the last skip
//! has left libzmq ([`Held`]). A skipped subscriber's queue holds only
//! such messages (nothing is queued for it after its skip), so each one
//! skipped has then been written all of its queue, or was disconnected and
//! its queue discarded. Having read its queue, its side of the pipe has
//! told ours so (libzmq's reader sends that every low-water-mark's worth of
//! messages, before the message is released to us), and processing the
//! socket's commands makes the pipe active again: only then does the lag
//! end. (That notice is visible by then because one thread sends all of
//! the socket's commands: a bound socket's own context has one I/O thread,
//! and the endpoints are tcp or ipc. With several command senders, as
//! inproc subscribers or more I/O threads would be, libzmq's mailbox may
//! wake the socket for one sender's command after another's is queued, and
//! a skipped pipe could stay inactive for a moment after the lag ended.)
//! A subscriber that stays stalled misses exactly the records counted
//! so; one that catches up within that time receives some of the last ones
//! counted (at most its queue's worth: the count errs towards "dropped").

use crate::frames::{self, Frame, Reach};
use crate::sequence::SeqFrame;
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Subscriptions are read once this much time passed on the coarse clock
/// (which moves in ticks of 1 to 4 ms, depending on the kernel).
pub const READ_SUBSCRIPTIONS_EVERY: Duration = Duration::from_millis(1);

/// A clock cheap enough to read on every send: CLOCK_MONOTONIC_COARSE (the
/// kernel's last tick, read from the vDSO without a system call), in ns.
fn coarse_now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime(2) writes a timespec to the pointer it is given,
    // which points at one.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000) + ts.tv_nsec as u64
}

/// How one send ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Queued for every matching subscriber.
    Queued,
    /// Queued for the subscribers with room; skipped for one or more that
    /// were `hwm` messages behind ([`Channel::try_send_lossy`]).
    PartlyQueued,
    /// A subscriber is `hwm` messages behind (`EAGAIN`); nothing was queued.
    Full,
    /// No subscriber's topic matches the path: nobody would receive it.
    NoSubscriber,
}

/// How a record goes out, and what subscriptions match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing<'a> {
    /// Two parts, `[path, record]`: subscriptions match the path.
    PathAndRecord(&'a [u8]),
    /// The record alone (which names its path): subscriptions match its
    /// first bytes.
    RecordOnly,
}

/// The socket options a channel is created with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketOptions {
    /// ZMQ_SNDHWM: messages queued per subscriber (0 = no limit).
    pub hwm: i32,
    /// ZMQ_LINGER in ms (-1 = until delivered).
    pub linger_ms: i32,
    /// ZMQ_HEARTBEAT_IVL in ms: a PING this often (0 = no heartbeats).
    pub heartbeat_ivl_ms: i32,
    /// ZMQ_HEARTBEAT_TIMEOUT and ZMQ_HEARTBEAT_TTL in ms: a peer that sent
    /// nothing for this long after a PING is disconnected, and tells the
    /// peer to do likewise. Also ZMQ_TCP_MAXRT (Linux's TCP_USER_TIMEOUT):
    /// a connection whose data stays unacknowledged (a dead host), or
    /// unsent because the peer reads nothing (a zero window), this long is
    /// closed. That is what finds a dead or stopped peer while records flow:
    /// a PING waits behind them in the full buffers (0 = neither).
    pub heartbeat_timeout_ms: i32,
    /// ZMQ_SNDBUF: the kernel's send buffer of each connection, in bytes
    /// (0 = the OS default, which Linux grows up to `net.ipv4.tcp_wmem`'s
    /// maximum, 4 MiB by default). What it holds counts as sent before the
    /// subscriber's kernel acknowledged it: this bounds that.
    pub sndbuf: i32,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            hwm: 1000,
            linger_ms: 3000,
            heartbeat_ivl_ms: 1000,
            heartbeat_timeout_ms: 30_000,
            sndbuf: 128 * 1024,
        }
    }
}

/// The longest subscription message accepted (ZMQ_MAXMSGSIZE): a topic is
/// a log path prefix, and a longer message could only be a peer trying to
/// make the writer hold it. The peer sending one is disconnected.
const MAX_SUBSCRIPTION_BYTES: i64 = 4096;

/// Distinct topics tracked at most (with the above, at most 4 MiB).
/// Beyond it a peer could grow the list, and the time each send spends in
/// it, without bound; so once full, every path counts as subscribed
/// ([`Topics::matches`]): records go to libzmq, which delivers them
/// exactly, but "no subscriber" drops are no longer told apart from sends.
const MAX_TOPICS: usize = 1024;

/// The subscription prefixes at least one subscriber has.
#[derive(Default)]
struct Topics {
    list: Vec<Vec<u8>>,
    /// A topic was not tracked (MAX_TOPICS reached).
    overflowed: bool,
}

impl Topics {
    fn add(&mut self, topic: &[u8]) {
        if self.list.len() < MAX_TOPICS {
            self.list.push(topic.to_vec());
        } else {
            self.overflowed = true;
        }
    }

    fn remove(&mut self, topic: &[u8]) {
        if let Some(i) = self.list.iter().position(|t| t == topic) {
            self.list.swap_remove(i);
        }
    }

    /// Whether some topic is a prefix of `path`.
    fn matches(&self, path: &[u8]) -> bool {
        // The empty topic (subscribe to everything, the usual case) is
        // tested first: comparing an empty slice still calls `memcmp`,
        // whose masked vector load of the empty Vec's dangling pointer
        // costs a microcode assist (about 100 ns) on AVX-512 machines.
        self.overflowed
            || self
                .list
                .iter()
                .any(|t| t.is_empty() || path.starts_with(t))
    }
}

/// The messages libzmq holds for a channel that may skip subscribers, by
/// when they were queued: since the last skip, or before it. Each message
/// carries the count it was queued under and takes itself off it when
/// libzmq gives it back ([`frames::send`]), so the counts of earlier
/// epochs only go down.
#[derive(Default)]
struct Held {
    since_skip: Arc<AtomicU64>,
    /// The counts of the epochs before the last skip that are not yet
    /// zero: at most one per message held, as an epoch is only kept while
    /// it holds one.
    before_skip: Vec<Arc<AtomicU64>>,
}

impl Held {
    /// A subscriber is skipped: what was queued so far is "before".
    fn skip(&mut self) {
        self.before_skip.retain(|c| c.load(Ordering::Acquire) > 0);
        if self.since_skip.load(Ordering::Acquire) > 0 {
            let earlier = std::mem::take(&mut self.since_skip);
            self.before_skip.push(earlier);
        }
    }

    /// Whether libzmq gave back every message queued before the last skip.
    fn released_before_skip(&mut self) -> bool {
        self.before_skip.retain(|c| c.load(Ordering::Acquire) > 0);
        self.before_skip.is_empty()
    }
}

pub struct Channel {
    socket: zmq::Socket,
    topics: Topics,
    /// When subscriptions were last read ([`coarse_now_ns`]).
    subscriptions_read_at: u64,
    /// What libzmq still holds of the messages queued before and since the
    /// last skip, for a channel that may skip subscribers
    /// ([`Channel::skipping`]).
    held: Option<Held>,
    /// A subscriber was skipped, and may still be (see the module comment).
    lagging: bool,
    /// Frame 2 failed and not even an empty final part went out: the socket
    /// is in the middle of a message, and every later send would become
    /// part of it. Nothing is sent any more.
    broken: bool,
    /// Tests: the next frame 2 fails as if libzmq had refused it.
    #[cfg(test)]
    fail_next_frame2: bool,
    /// Tests: the next sequence frame fails likewise.
    #[cfg(test)]
    fail_next_seq: bool,
}

/// Sets an int socket option the zmq crate does not wrap.
fn set_int_option(socket: &mut zmq::Socket, option: u32, value: c_int) -> zmq::Result<()> {
    // SAFETY: a live socket and a pointer to an int of the size given, which
    // is what zmq_setsockopt(3) reads for an int option.
    let rc = unsafe {
        zmq_sys::zmq_setsockopt(
            socket.as_mut_ptr(),
            option as c_int,
            (&value as *const c_int).cast::<c_void>(),
            std::mem::size_of::<c_int>(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(frames::last_errno())
    }
}

/// `ZMQ_XPUB_NODROP`: on, a send that would exceed a subscriber's
/// high-water mark fails with `EAGAIN`; off, that subscriber skips it.
fn set_xpub_nodrop(socket: &mut zmq::Socket, on: bool) -> zmq::Result<()> {
    set_int_option(socket, zmq_sys::ZMQ_XPUB_NODROP, c_int::from(on))
}

impl Channel {
    /// An XPUB socket in `ctx` with `opts` set, and TCP keepalive on: an
    /// idle connection is probed after the heartbeat timeout (at least 1 s),
    /// then every heartbeat interval (at least 1 s), 3 times.
    pub fn new(ctx: &zmq::Context, opts: &SocketOptions) -> Result<Channel, String> {
        let socket = ctx
            .socket(zmq::XPUB)
            .map_err(|e| format!("cannot create a ZeroMQ socket: {e}"))?;
        Channel::with_socket(socket, opts)
    }

    /// [`Channel::new`] with an XPUB socket made elsewhere (in the
    /// connected writers' context, [`crate::context`]).
    pub fn with_socket(mut socket: zmq::Socket, opts: &SocketOptions) -> Result<Channel, String> {
        let secs = |ms: i32| (ms / 1000).max(1);
        socket
            .set_sndhwm(opts.hwm)
            .and_then(|_| socket.set_linger(opts.linger_ms))
            .and_then(|_| socket.set_ipv6(true))
            .and_then(|_| socket.set_maxmsgsize(MAX_SUBSCRIPTION_BYTES))
            .and_then(|_| set_xpub_nodrop(&mut socket, true))
            .and_then(|_| socket.set_tcp_keepalive(1))
            .and_then(|_| socket.set_tcp_keepalive_idle(secs(opts.heartbeat_timeout_ms)))
            .and_then(|_| socket.set_tcp_keepalive_intvl(secs(opts.heartbeat_ivl_ms)))
            .and_then(|_| socket.set_tcp_keepalive_cnt(3))
            .map_err(|e| format!("cannot set socket options: {e}"))?;
        if opts.sndbuf > 0 {
            socket
                .set_sndbuf(opts.sndbuf)
                .map_err(|e| format!("cannot set the send buffer size: {e}"))?;
        }
        if opts.heartbeat_timeout_ms > 0 {
            set_int_option(
                &mut socket,
                zmq_sys::ZMQ_TCP_MAXRT,
                opts.heartbeat_timeout_ms,
            )
            .map_err(|e| format!("cannot set the TCP user timeout: {e}"))?;
        }
        if opts.heartbeat_ivl_ms > 0 && opts.heartbeat_timeout_ms > 0 {
            socket
                .set_heartbeat_ivl(opts.heartbeat_ivl_ms)
                .and_then(|_| socket.set_heartbeat_timeout(opts.heartbeat_timeout_ms))
                .and_then(|_| socket.set_heartbeat_ttl(opts.heartbeat_timeout_ms))
                .map_err(|e| format!("cannot set the heartbeat options: {e}"))?;
        }
        Ok(Channel {
            socket,
            topics: Topics::default(),
            subscriptions_read_at: 0,
            held: None,
            lagging: false,
            broken: false,
            #[cfg(test)]
            fail_next_frame2: false,
            #[cfg(test)]
            fail_next_seq: false,
        })
    }

    /// Makes this a channel that may skip subscribers without room
    /// ([`Channel::try_send_lossy`]): it counts the messages libzmq holds.
    pub fn skipping(mut self) -> Channel {
        self.held = Some(Held::default());
        self
    }

    pub fn socket(&self) -> &zmq::Socket {
        &self.socket
    }

    /// The socket, to set options on before it connects or binds.
    pub fn socket_mut(&mut self) -> &mut zmq::Socket {
        &mut self.socket
    }

    /// Whether the channel is lagging (see the module comment); stops when
    /// libzmq holds no message queued before the last skip, and has taken
    /// note of what the skipped subscribers read.
    fn lagging(&mut self) -> bool {
        if self.lagging && self.held.as_mut().is_none_or(Held::released_before_skip) {
            // The skipped subscribers' notices that they have room again
            // were sent before their last message came back (Acquire in
            // `released_before_skip`); processing the socket's commands
            // turns their pipes active again.
            let _ = self.socket.get_events();
            self.lagging = false;
        }
        self.lagging
    }

    /// Reads the subscription messages that arrived.
    pub fn drain_subscriptions(&mut self) {
        self.subscriptions_read_at = coarse_now_ns();
        while let Ok(msg) = self.socket.recv_bytes(zmq::DONTWAIT) {
            match msg.split_first() {
                Some((1, topic)) => self.topics.add(topic),
                Some((0, topic)) => self.topics.remove(topic),
                _ => {}
            }
        }
    }

    /// Whether some subscriber's topic is a prefix of `path` (as of the last
    /// drain).
    pub fn has_subscriber(&self, path: &[u8]) -> bool {
        self.topics.matches(path)
    }

    /// Before a send: whether a subscriber of `path` is there, with the
    /// subscriptions read if they were not for a tick of the clock, or if
    /// none matched (see the module comment).
    fn subscribed(&mut self, path: &[u8]) -> bool {
        let every = READ_SUBSCRIPTIONS_EVERY.as_nanos() as u64;
        if coarse_now_ns().wrapping_sub(self.subscriptions_read_at) >= every {
            self.drain_subscriptions();
        } else if self.has_subscriber(path) {
            return true;
        } else {
            self.drain_subscriptions();
        }
        self.has_subscriber(path)
    }

    /// Waits until a subscriber for `path` is there, `timeout` passed or
    /// `give_up()` (asked at least every 100 ms). With `one_peer` (a
    /// connected socket: its one peer sends all its subscriptions together,
    /// right after the handshake), also stops once subscriptions arrived
    /// that do not match `path`: none will.
    pub fn wait_for_subscriber(
        &mut self,
        path: &[u8],
        timeout: Duration,
        one_peer: bool,
        give_up: &dyn Fn() -> bool,
    ) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            self.drain_subscriptions();
            if self.has_subscriber(path) {
                return true;
            }
            if (one_peer && !self.topics.list.is_empty()) || give_up() {
                return false;
            }
            let left = deadline.map_or(Duration::MAX, |d| {
                d.saturating_duration_since(Instant::now())
            });
            if left.is_zero() {
                return false;
            }
            let ms = left.as_millis().clamp(1, 100) as i64;
            let _ = self.socket.poll(zmq::POLLIN, ms);
        }
    }

    /// Tries once to queue the record in `frame` for every subscriber, as
    /// `framing` says (`[path, frame]`, or `[frame]` alone), with its
    /// sequence number as the last part if it has one, without blocking.
    /// The frame is taken (handed to libzmq) when the message is queued,
    /// and left in place when it is not (`Full`, `NoSubscriber`, an error
    /// before the record's frame).
    pub fn try_send(
        &mut self,
        framing: Framing,
        frame: &mut Option<Box<Frame>>,
    ) -> Result<Sent, zmq::Error> {
        if !self.sendable(framing, frame)? {
            return Ok(Sent::NoSubscriber);
        }
        // Lagging, the subscriber left out is not seen by the NODROP check:
        // the check is for the others, and what they get counts as partly
        // queued.
        let (reach, sent) = match self.lagging() {
            false => (Reach::All, Sent::Queued),
            true => (Reach::Some, Sent::PartlyQueued),
        };
        let Framing::PathAndRecord(path) = framing else {
            return self.send_record_only(frame, reach, sent);
        };
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
        // With the first frame accepted, the others are too: the
        // high-water mark counts whole messages.
        self.send_frame2(frame, reach)?;
        Ok(sent)
    }

    /// `try_send` of a message whose first part is the frame (then its
    /// sequence number, if it has one): as frame 1 of two, tried again once
    /// after `EAGAIN` (see there); the frame stays in place unless queued.
    fn send_record_only(
        &mut self,
        frame: &mut Option<Box<Frame>>,
        reach: Reach,
        sent: Sent,
    ) -> Result<Sent, zmq::Error> {
        for attempt in 0..2 {
            let mut f = frame.take().ok_or(zmq::Error::EINVAL)?;
            let seq = f.seq.take();
            let more = if seq.is_some() { zmq::SNDMORE } else { 0 };
            let count = self.held.as_ref().map(|h| &h.since_skip);
            match frames::send_or_keep(&mut self.socket, f, reach, count, zmq::DONTWAIT | more) {
                Ok(()) => {
                    if let Some(seq) = seq {
                        self.send_seq(&seq)?;
                    }
                    return Ok(sent);
                }
                Err((e, mut f)) => {
                    f.seq = seq;
                    *frame = Some(f);
                    if e != zmq::Error::EAGAIN {
                        return Err(e);
                    }
                    if attempt == 0 {
                        let _ = self.socket.get_events();
                    }
                }
            }
        }
        Ok(Sent::Full)
    }

    /// Queues the record for the subscribers with room and skips the
    /// others (`PartlyQueued`), and makes the channel lag (see the module
    /// comment). For a [`Channel::skipping`] channel, after `try_send` said
    /// `Full`.
    pub fn try_send_lossy(
        &mut self,
        framing: Framing,
        frame: &mut Option<Box<Frame>>,
    ) -> Result<Sent, zmq::Error> {
        if !self.sendable(framing, frame)? {
            return Ok(Sent::NoSubscriber);
        }
        self.lagging = true;
        if let Some(held) = &mut self.held {
            held.skip();
        }
        self.send_lossy(framing, frame)
    }

    /// `ZMQ_XPUB_NODROP` off for one message.
    fn send_lossy(
        &mut self,
        framing: Framing,
        frame: &mut Option<Box<Frame>>,
    ) -> Result<Sent, zmq::Error> {
        // First what the peers have read (see `try_send`): a subscriber
        // that keeps up must not look full, and be skipped, for want of it.
        let _ = self.socket.get_events();
        set_xpub_nodrop(&mut self.socket, false)?;
        // Without NODROP libzmq never says EAGAIN: a subscriber without room
        // is left out of the whole message.
        let sent = match framing {
            Framing::PathAndRecord(path) => {
                frames::send_copy(&mut self.socket, path, zmq::SNDMORE | zmq::DONTWAIT)
                    .and_then(|()| self.send_frame2(frame, Reach::Some))
            }
            Framing::RecordOnly => self
                .send_record_only(frame, Reach::Some, Sent::PartlyQueued)
                .map(|_| ()),
        };
        let restored = set_xpub_nodrop(&mut self.socket, true);
        sent?;
        restored?;
        Ok(Sent::PartlyQueued)
    }

    /// Whether the record may go out, checked before frame 1 goes out
    /// alone: an error for no frame or a socket left in the middle of a
    /// message, `false` when no subscriber's topic matches the path (or,
    /// for a record alone, the record's first bytes).
    fn sendable(
        &mut self,
        framing: Framing,
        frame: &Option<Box<Frame>>,
    ) -> Result<bool, zmq::Error> {
        let Some(f) = frame else {
            return Err(zmq::Error::EINVAL);
        };
        if self.broken {
            return Err(zmq::Error::EFSM);
        }
        Ok(match framing {
            Framing::PathAndRecord(path) => self.subscribed(path),
            Framing::RecordOnly => self.subscribed(&f.buf),
        })
    }

    /// Sends the frame as the message's last part once frame 1 went out,
    /// or, if it carries a sequence number, the frame and then that
    /// ([`Channel::send_seq`]). If libzmq refuses the frame, an empty last
    /// part ends the message instead (subscribers get `[path, ""]`, never
    /// a record glued to the next one); if even that fails, the channel
    /// sends nothing more.
    fn send_frame2(
        &mut self,
        frame: &mut Option<Box<Frame>>,
        reach: Reach,
    ) -> Result<(), zmq::Error> {
        let Some(mut f) = frame.take() else {
            return Err(zmq::Error::EINVAL);
        };
        let seq = f.seq.take();
        #[cfg(test)]
        if std::mem::take(&mut self.fail_next_frame2) {
            frames::refuse(f);
            return self.end_message(zmq::Error::EINTR);
        }
        let more = if seq.is_some() { zmq::SNDMORE } else { 0 };
        let count = self.held.as_ref().map(|h| &h.since_skip);
        if let Err(e) = frames::send(&mut self.socket, f, reach, count, zmq::DONTWAIT | more) {
            return self.end_message(e);
        }
        match seq {
            Some(seq) => self.send_seq(&seq),
            None => Ok(()),
        }
    }

    /// Sends a record's sequence number as its message's last part, after
    /// the record. It is not refused once the record was taken (see
    /// `try_send`), but for a signal, which leaves it unsent (sent again
    /// here), or a terminating context: then an empty last part ends the
    /// message. Subscribers get `[path, json, ""]`, not a numbered record,
    /// and the record counts as dropped on an error; libzmq holds its frame
    /// all the same, which [`frames::FramePool::in_flight`] counts until the
    /// socket closes.
    fn send_seq(&mut self, seq: &SeqFrame) -> Result<(), zmq::Error> {
        #[cfg(test)]
        if std::mem::take(&mut self.fail_next_seq) {
            return self.end_message(zmq::Error::ETERM);
        }
        loop {
            match frames::send_copy(&mut self.socket, seq.as_bytes(), zmq::DONTWAIT) {
                Err(zmq::Error::EINTR) => continue,
                Err(e) => return self.end_message(e),
                Ok(()) => return Ok(()),
            }
        }
    }

    /// After frame 2 or 3 failed with `e`: ends the message with an empty
    /// part.
    fn end_message(&mut self, e: zmq::Error) -> Result<(), zmq::Error> {
        if frames::send_copy(&mut self.socket, b"", zmq::DONTWAIT).is_err() {
            self.broken = true;
        }
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frames::FramePool;

    fn pair(name: &str) -> (zmq::Context, Channel, zmq::Socket) {
        let ctx = zmq::Context::new();
        let mut channel = Channel::new(&ctx, &SocketOptions::default()).unwrap();
        let endpoint = format!("inproc://channel-{name}");
        channel.socket.bind(&endpoint).unwrap();
        let sub = ctx.socket(zmq::SUB).unwrap();
        sub.set_subscribe(b"").unwrap();
        sub.set_rcvtimeo(5000).unwrap();
        sub.connect(&endpoint).unwrap();
        assert!(channel.wait_for_subscriber(b"conn", Duration::from_secs(5), false, &|| false));
        (ctx, channel, sub)
    }

    fn frame(pool: &mut FramePool, json: &[u8]) -> Option<Box<Frame>> {
        let mut f = pool.take();
        f.buf.extend_from_slice(json);
        Some(f)
    }

    #[test]
    fn a_failed_frame_2_ends_its_message_and_the_next_one_is_whole() {
        let (_ctx, mut channel, sub) = pair("frame2");
        let mut pool = FramePool::new();
        channel.fail_next_frame2 = true;
        let mut first = frame(&mut pool, b"{\"n\":1}");
        assert_eq!(
            channel.try_send(Framing::PathAndRecord(b"conn"), &mut first),
            Err(zmq::Error::EINTR)
        );
        assert!(first.is_none(), "a refused frame goes back to its pool");
        assert_eq!(pool.in_flight(Reach::All), 0);
        let mut second = frame(&mut pool, b"{\"n\":2}");
        assert_eq!(
            channel.try_send(Framing::PathAndRecord(b"conn"), &mut second),
            Ok(Sent::Queued)
        );
        assert_eq!(
            sub.recv_multipart(0).unwrap(),
            vec![b"conn".to_vec(), Vec::new()]
        );
        assert_eq!(
            sub.recv_multipart(0).unwrap(),
            vec![b"conn".to_vec(), b"{\"n\":2}".to_vec()]
        );
    }

    fn numbered(pool: &mut FramePool, json: &[u8], seq: u64) -> Option<Box<Frame>> {
        let mut f = frame(pool, json);
        if let Some(f) = &mut f {
            f.seq = Some(SeqFrame::new(seq, 0xab));
        }
        f
    }

    #[test]
    fn a_sequence_number_is_the_last_frame_and_a_failed_part_ends_its_message() {
        let (_ctx, mut channel, sub) = pair("seq");
        let mut pool = FramePool::new();
        let mut send = |channel: &mut Channel, seq| {
            let mut record = numbered(&mut pool, format!("{{\"n\":{seq}}}").as_bytes(), seq);
            channel.try_send(Framing::PathAndRecord(b"conn"), &mut record)
        };
        assert_eq!(send(&mut channel, 1), Ok(Sent::Queued));
        channel.fail_next_frame2 = true;
        assert_eq!(send(&mut channel, 2), Err(zmq::Error::EINTR));
        channel.fail_next_seq = true;
        assert_eq!(send(&mut channel, 3), Err(zmq::Error::ETERM));
        assert_eq!(send(&mut channel, 4), Ok(Sent::Queued));
        let got: Vec<Vec<Vec<u8>>> = (0..4).map(|_| sub.recv_multipart(0).unwrap()).collect();
        let seq = |n: u64| SeqFrame::new(n, 0xab).as_bytes().to_vec();
        assert_eq!(
            got,
            [
                vec![b"conn".to_vec(), b"{\"n\":1}".to_vec(), seq(1)],
                vec![b"conn".to_vec(), Vec::new()],
                vec![b"conn".to_vec(), b"{\"n\":3}".to_vec(), Vec::new()],
                vec![b"conn".to_vec(), b"{\"n\":4}".to_vec(), seq(4)],
            ]
        );
        assert_eq!(seq(4), b"4 00000000000000ab");
    }

    /// Waits until a subscription message is ready on the channel's
    /// socket (libzmq has it; the channel has not read it yet).
    fn subscription_arrived(channel: &Channel) {
        assert_eq!(channel.socket.poll(zmq::POLLIN, 5000), Ok(1), "none came");
    }

    #[test]
    fn a_subscription_added_later_is_read_before_the_next_send() {
        let (_ctx, mut channel, sub) = pair("added");
        let mut pool = FramePool::new();
        sub.set_unsubscribe(b"").unwrap();
        sub.set_subscribe(b"dns").unwrap();
        subscription_arrived(&channel);
        channel.drain_subscriptions();
        assert!(!channel.has_subscriber(b"conn"));
        // The subscriber adds "conn" to its "dns": the next record counts.
        sub.set_subscribe(b"conn").unwrap();
        subscription_arrived(&channel);
        let mut record = frame(&mut pool, b"{}");
        assert_eq!(
            channel.try_send(Framing::PathAndRecord(b"conn"), &mut record),
            Ok(Sent::Queued)
        );
    }

    #[test]
    fn a_record_after_the_last_subscriber_left_is_not_sent() {
        let (ctx, mut channel, sub) = pair("left");
        let mut pool = FramePool::new();
        let mut record = frame(&mut pool, b"{}");
        assert_eq!(
            channel.try_send(Framing::PathAndRecord(b"conn"), &mut record),
            Ok(Sent::Queued)
        );
        drop(sub);
        subscription_arrived(&channel);
        // The subscriptions are read again once the clock moved on.
        let read_at = channel.subscriptions_read_at;
        let every = READ_SUBSCRIPTIONS_EVERY.as_nanos() as u64;
        let deadline = Instant::now() + Duration::from_secs(1);
        while coarse_now_ns() - read_at < every {
            assert!(Instant::now() < deadline, "the coarse clock stands still");
            std::thread::yield_now();
        }
        let mut record = frame(&mut pool, b"{}");
        assert_eq!(
            channel.try_send(Framing::PathAndRecord(b"conn"), &mut record),
            Ok(Sent::NoSubscriber)
        );
        drop(channel);
        drop(ctx);
    }

    /// A skipping channel (hwm 10) bound with two subscribers of "conn":
    /// `b` subscribed to "co", `c` to "conn" (two topics, so that both
    /// subscriptions reach the channel), each with room for one message of
    /// its own: their queues are the channel's.
    fn two_subscribers(name: &str) -> (zmq::Context, Channel, zmq::Socket, zmq::Socket) {
        let ctx = zmq::Context::new();
        let opts = SocketOptions {
            hwm: 10,
            ..SocketOptions::default()
        };
        let mut channel = Channel::new(&ctx, &opts).unwrap().skipping();
        let endpoint = format!("inproc://channel-{name}");
        channel.socket.bind(&endpoint).unwrap();
        let sub = |topic: &[u8]| {
            let s = ctx.socket(zmq::SUB).unwrap();
            s.set_rcvhwm(1).unwrap();
            s.set_subscribe(topic).unwrap();
            s.connect(&endpoint).unwrap();
            s
        };
        let (b, c) = (sub(b"co"), sub(b"conn"));
        let deadline = Instant::now() + Duration::from_secs(5);
        while channel.topics.list.len() < 2 {
            assert!(Instant::now() < deadline, "the subscriptions never came");
            subscription_arrived(&channel);
            channel.drain_subscriptions();
        }
        (ctx, channel, b, c)
    }

    /// Sends record `n` as the publisher does: lossy once the queue is full.
    fn send_lossy_when_full(channel: &mut Channel, pool: &mut FramePool, n: u64) -> Sent {
        let mut record = frame(pool, n.to_string().as_bytes());
        let mut sent = channel
            .try_send(Framing::PathAndRecord(b"conn"), &mut record)
            .unwrap();
        if sent == Sent::Full {
            sent = channel
                .try_send_lossy(Framing::PathAndRecord(b"conn"), &mut record)
                .unwrap();
        }
        sent
    }

    /// The record numbers `sub` has now, or gets within `wait_ms` of each.
    fn read_all(sub: &zmq::Socket, wait_ms: i32) -> Vec<u64> {
        sub.set_rcvtimeo(wait_ms).unwrap();
        let mut got = Vec::new();
        while let Ok(m) = sub.recv_multipart(0) {
            got.push(std::str::from_utf8(&m[1]).unwrap().parse().unwrap());
        }
        got
    }

    #[test]
    fn a_subscriber_skipped_while_lagging_keeps_the_channel_lagging() {
        let (_ctx, mut channel, b, c) = two_subscribers("lag");
        let mut pool = FramePool::new();
        let mut n = 0;
        // c stalls while b reads: c is skipped, the channel lags.
        while !channel.lagging {
            n += 1;
            assert!(n < 1000, "c was never skipped");
            send_lossy_when_full(&mut channel, &mut pool, n);
            read_all(&b, 0);
        }
        // b stalls too: its queue fills with records sent while lagging,
        // and it is skipped in turn.
        for _ in 0..100 {
            n += 1;
            assert_eq!(
                send_lossy_when_full(&mut channel, &mut pool, n),
                Sent::PartlyQueued
            );
        }
        // c reads all it has: everything queued for both has left libzmq,
        // but b's queue has not.
        assert!(!read_all(&c, 200).is_empty());
        let mut queued = Vec::new();
        for _ in 0..50 {
            n += 1;
            if send_lossy_when_full(&mut channel, &mut pool, n) == Sent::Queued {
                queued.push(n);
            }
        }
        let b_got = read_all(&b, 200);
        let missed: Vec<_> = queued.iter().filter(|q| !b_got.contains(q)).collect();
        assert!(
            missed.is_empty(),
            "counted as queued, b never got {missed:?}"
        );
        // Both read from now on: the lag ends, and what counts as queued
        // reaches both.
        read_all(&c, 200);
        let deadline = Instant::now() + Duration::from_secs(5);
        let first_queued = loop {
            assert!(Instant::now() < deadline, "the channel lags for ever");
            n += 1;
            let sent = send_lossy_when_full(&mut channel, &mut pool, n);
            if sent == Sent::Queued {
                break n;
            }
            read_all(&b, 1);
            read_all(&c, 1);
        };
        assert!(read_all(&b, 200).contains(&first_queued));
        assert!(read_all(&c, 200).contains(&first_queued));
    }

    #[test]
    fn a_record_alone_is_one_part_and_subscriptions_match_its_first_bytes() {
        let (_ctx, mut channel, all) = pair("alone");
        let mut pool = FramePool::new();
        all.set_unsubscribe(b"").unwrap();
        all.set_subscribe(br#"{"_path":"conn","#).unwrap();
        subscription_arrived(&channel);
        channel.drain_subscriptions();
        let mut dns = frame(&mut pool, br#"{"_path":"dns","n":1}"#);
        assert_eq!(
            channel.try_send(Framing::RecordOnly, &mut dns),
            Ok(Sent::NoSubscriber)
        );
        assert!(dns.is_some(), "a record not sent stays with the caller");
        // The path must end where the topic says: "conn_long" is not "conn".
        let mut longer = frame(&mut pool, br#"{"_path":"conn_long","n":2}"#);
        assert_eq!(
            channel.try_send(Framing::RecordOnly, &mut longer),
            Ok(Sent::NoSubscriber)
        );
        let mut conn = frame(&mut pool, br#"{"_path":"conn","n":3}"#);
        assert_eq!(
            channel.try_send(Framing::RecordOnly, &mut conn),
            Ok(Sent::Queued)
        );
        assert!(conn.is_none(), "taken by libzmq");
        assert_eq!(
            all.recv_multipart(0).unwrap(),
            vec![br#"{"_path":"conn","n":3}"#.to_vec()]
        );
        all.set_rcvtimeo(100).unwrap();
        assert!(all.recv_multipart(0).is_err(), "only conn, once");
    }

    #[test]
    fn a_record_alone_refused_for_want_of_room_keeps_its_bytes() {
        let ctx = zmq::Context::new();
        let opts = SocketOptions {
            hwm: 1,
            ..SocketOptions::default()
        };
        let mut channel = Channel::new(&ctx, &opts).unwrap();
        channel.socket.bind("inproc://channel-room").unwrap();
        let sub = ctx.socket(zmq::SUB).unwrap();
        sub.set_rcvhwm(1).unwrap();
        sub.set_subscribe(b"").unwrap();
        sub.connect("inproc://channel-room").unwrap();
        assert!(channel.wait_for_subscriber(b"", Duration::from_secs(5), false, &|| false));
        let mut pool = FramePool::new();
        // The subscriber reads nothing: its queues fill, and a send fails.
        let mut n = 0;
        let mut record = loop {
            n += 1;
            assert!(n < 1000, "the queue never filled");
            let mut record = frame(&mut pool, format!(r#"{{"_path":"x","n":{n}}}"#).as_bytes());
            match channel.try_send(Framing::RecordOnly, &mut record).unwrap() {
                Sent::Queued => assert!(record.is_none()),
                Sent::Full => break record,
                other => panic!("{other:?}"),
            }
        };
        let want = format!(r#"{{"_path":"x","n":{n}}}"#).into_bytes();
        assert_eq!(record.as_ref().unwrap().buf, want, "the frame is intact");
        let held = pool.in_flight(Reach::All);
        assert_eq!(held, n - 1, "the refused frame is not counted as held");
        // The subscriber reads: the same frame goes out, and arrives whole.
        sub.set_rcvtimeo(5000).unwrap();
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while record.is_some() {
            assert!(Instant::now() < deadline, "no room came");
            got.push(sub.recv_bytes(0).unwrap());
            let _ = channel.try_send(Framing::RecordOnly, &mut record).unwrap();
        }
        while got.last() != Some(&want) {
            got.push(sub.recv_bytes(0).unwrap());
        }
        assert_eq!(got.len() as u64, n, "every record once, in order");
    }

    #[test]
    fn topics_are_bounded_and_then_match_everything() {
        let mut topics = Topics::default();
        for i in 0..MAX_TOPICS {
            topics.add(format!("t{i}").as_bytes());
        }
        assert!(!topics.matches(b"conn"));
        topics.add(b"one-too-many");
        assert_eq!(topics.list.len(), MAX_TOPICS);
        assert!(topics.matches(b"conn"), "an untracked topic might match");
    }
}
