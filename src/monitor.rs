//! The peers a socket cannot talk to, from libzmq's socket monitor: a
//! handshake that failed because one end uses CURVE and the other does not,
//! because the CURVE keys do not match, or because a key was refused. Each
//! failure is said once, with its cause; repeats (a peer retries every
//! reconnect interval) are counted and said again at most once per
//! interval.
//!
//! libzmq's monitor (version 1, the one Debian's libzmq 4.3 has) names the
//! endpoint of the connection: the peer's for a socket that connects, this
//! end's own for one that binds (the peer's address is only in the draft
//! API's version 2).

use crate::report::count;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The events that say a connection was made, or ended: the value is its
/// file descriptor ([`ConnectionEvent`], for [`crate::acks`]).
const CONNECTIONS: u32 =
    zmq_sys::ZMQ_EVENT_CONNECTED | zmq_sys::ZMQ_EVENT_ACCEPTED | zmq_sys::ZMQ_EVENT_DISCONNECTED;

/// A connection made or ended, as the monitor says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionEvent {
    /// Made (`ZMQ_EVENT_CONNECTED`, or `ZMQ_EVENT_ACCEPTED`: `accepted`),
    /// or ended (`ZMQ_EVENT_DISCONNECTED`).
    pub made: bool,
    pub accepted: bool,
    /// Its file descriptor.
    pub fd: i32,
    /// The endpoint the monitor names (see the module comment).
    pub endpoint: String,
}

/// A connection event from the two frames of a monitor event, if it is one.
fn decode_connection(first: &[u8], endpoint: &[u8]) -> Option<ConnectionEvent> {
    let event = u32::from(u16::from_ne_bytes(first.get(0..2)?.try_into().ok()?));
    let value = u32::from_ne_bytes(first.get(2..6)?.try_into().ok()?);
    if event & CONNECTIONS == 0 {
        return None;
    }
    Some(ConnectionEvent {
        made: event != zmq_sys::ZMQ_EVENT_DISCONNECTED,
        accepted: event == zmq_sys::ZMQ_EVENT_ACCEPTED,
        fd: value as i32,
        endpoint: String::from_utf8_lossy(endpoint).into_owned(),
    })
}

/// The events that say a peer could not be talked to.
const HANDSHAKE_FAILURES: u32 = zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
    | zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

/// Why a handshake failed, as libzmq says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cause {
    /// One end uses CURVE, the other plain text (or another mechanism).
    MechanismMismatch,
    /// A CURVE message could not be decrypted: the keys do not match.
    Cryptographic,
    /// Another ZMTP protocol error (`ZMQ_PROTOCOL_ERROR_*`).
    Protocol(u32),
    /// The authenticator (ZAP) refused the key, with this status code.
    Refused(u32),
    /// The connection closed during the handshake (an errno, or 0).
    Closed(u32),
}

/// One failed handshake: the endpoint the monitor names, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub endpoint: String,
    pub cause: Cause,
}

/// A failure from the two frames of a (version 1) monitor event: the event
/// and its value (6 bytes, native byte order), then the endpoint. `None`
/// for other events.
pub fn decode(first: &[u8], endpoint: &[u8]) -> Option<Failure> {
    let event = u32::from(u16::from_ne_bytes(first.get(0..2)?.try_into().ok()?));
    let value = u32::from_ne_bytes(first.get(2..6)?.try_into().ok()?);
    let cause = match event {
        zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL => match value {
            zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH => Cause::MechanismMismatch,
            zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC => Cause::Cryptographic,
            code => Cause::Protocol(code),
        },
        zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_AUTH => Cause::Refused(value),
        zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL => Cause::Closed(value),
        _ => return None,
    };
    Some(Failure {
        endpoint: unmapped(&String::from_utf8_lossy(endpoint)),
        cause,
    })
}

/// `endpoint` with an IPv4-mapped IPv6 address (`tcp://[::ffff:10.0.0.1]:5555`,
/// as libzmq names a connection of an IPv6-enabled socket to an IPv4
/// address) written as the IPv4 address: the name the operator gave.
fn unmapped(endpoint: &str) -> String {
    let mapped = endpoint.split_once("[::ffff:").and_then(|(scheme, rest)| {
        let (v4, tail) = rest.split_once(']')?;
        v4.parse::<std::net::Ipv4Addr>()
            .ok()
            .map(|_| format!("{scheme}{v4}{tail}"))
    });
    mapped.unwrap_or_else(|| endpoint.to_string())
}

/// What this end is, for saying a failure in its terms.
#[derive(Clone, Copy, Debug)]
pub struct Role {
    /// What the peer is to this end: "publisher" or "subscriber".
    pub peer: &'static str,
    /// This end uses CURVE.
    pub curve: bool,
    /// This end binds (the monitor then names this end's endpoint).
    pub bind: bool,
    /// A ZAP handler of this end reports the keys it refuses itself (with
    /// the peer's address): refusals are not said again here.
    pub zap_reports_refusals: bool,
}

/// The line for `f`: which peer, and why this end cannot talk to it.
pub fn describe(f: &Failure, role: &Role) -> String {
    let peer = role.peer;
    let who = if role.bind {
        format!("a {peer} connecting to {}", f.endpoint)
    } else {
        format!("the {peer} at {}", f.endpoint)
    };
    let why = match (f.cause, role.curve) {
        (Cause::MechanismMismatch, true) => {
            "it does not use CURVE (it sends plain text), and this end does".to_string()
        }
        (Cause::MechanismMismatch, false) => {
            "it uses CURVE (or another security mechanism), and this end does not".to_string()
        }
        (Cause::Cryptographic, _) if role.bind => format!(
            "the CURVE keys do not match: the {peer} was given another server key than this \
             end's public key"
        ),
        (Cause::Cryptographic, _) => {
            format!("the CURVE keys do not match: the server key this end was given is not the {peer}'s")
        }
        (Cause::Refused(status), _) if role.bind => {
            format!("its CURVE key is not an allowed client (status {status})")
        }
        (Cause::Refused(status), _) => {
            format!("it refused this end's CURVE key (status {status})")
        }
        (Cause::Protocol(code), _) => {
            format!("a protocol error in the handshake (ZMTP error {code:#x})")
        }
        // The end that finds a mechanism mismatch first closes the
        // connection, and the other may only see it closed: libzmq says
        // nothing more. (A CURVE server finds wrong keys itself.)
        (Cause::Closed(_), true) if role.bind => "it closed the connection during the \
                                                  handshake: it does not use CURVE, it seems, \
                                                  and this end does"
            .to_string(),
        (Cause::Closed(_), true) => format!(
            "it closed the connection during the handshake: it does not use CURVE, or the \
             server key this end was given is not the {peer}'s"
        ),
        (Cause::Closed(_), false) => "it closed the connection during the handshake: it uses \
                                      CURVE (or another security mechanism), it seems, and this \
                                      end does not"
            .to_string(),
    };
    format!("cannot talk to {who}: {why}")
}

/// Failures of one kind (endpoint and cause) and when they were said.
struct Seen {
    failure: Failure,
    /// Since it was last said.
    unsaid: u64,
    said: Option<Instant>,
}

/// A socket's monitor, reporting its handshake failures (and, if asked,
/// keeping its connection events: [`HandshakeMonitor::take_connections`]).
///
/// libzmq's I/O thread sends the events, without a timeout: were the
/// reading end full, or gone while the socket still has connections, it
/// would wait, and with it every socket of the context. So the reading end
/// has no high-water mark (events come with connections and failed
/// handshakes, and are read every heartbeat), and
/// [`HandshakeMonitor::stop`] ends the monitor before it goes.
pub struct HandshakeMonitor {
    pair: zmq::Socket,
    role: Role,
    repeat_every: Duration,
    seen: Vec<Seen>,
    /// The failure noted last.
    last: Option<Failure>,
    /// The connection events not yet taken, if they are kept.
    connections: Option<Vec<ConnectionEvent>>,
}

/// At most this many kinds of failure are told apart; others count with
/// the last.
const MAX_KINDS: usize = 64;

impl HandshakeMonitor {
    /// Monitors `socket` (in `ctx`); call it before the socket binds or
    /// connects. A failure said already is said again at most every
    /// `repeat_every`, with how often it happened since.
    pub fn start(
        ctx: &zmq::Context,
        socket: &zmq::Socket,
        role: Role,
        repeat_every: Duration,
    ) -> Result<HandshakeMonitor, String> {
        let pair = ctx
            .socket(zmq::PAIR)
            .map_err(|e| format!("cannot create the monitor socket: {e}"))?;
        HandshakeMonitor::with_pair(pair, socket, role, repeat_every)
            .map_err(|e| format!("cannot monitor the socket: {e}"))
    }

    /// [`HandshakeMonitor::start`] with the monitor's PAIR socket made
    /// elsewhere, in `socket`'s context. libzmq makes one more socket there
    /// (the monitor's other end): an error may be that the context is full
    /// (`EMFILE`).
    pub fn with_pair(
        pair: zmq::Socket,
        socket: &zmq::Socket,
        role: Role,
        repeat_every: Duration,
    ) -> zmq::Result<HandshakeMonitor> {
        HandshakeMonitor::watching(pair, socket, role, repeat_every, false)
    }

    /// [`HandshakeMonitor::with_pair`], keeping the socket's connection
    /// events too if `connections`.
    pub fn watching(
        pair: zmq::Socket,
        socket: &zmq::Socket,
        role: Role,
        repeat_every: Duration,
        connections: bool,
    ) -> zmq::Result<HandshakeMonitor> {
        static N: AtomicU64 = AtomicU64::new(0);
        let endpoint = format!(
            "inproc://zeromq-writer-monitor-{}",
            N.fetch_add(1, Ordering::Relaxed)
        );
        let events = HANDSHAKE_FAILURES | if connections { CONNECTIONS } else { 0 };
        socket
            .monitor(&endpoint, events as i32)
            .and_then(|()| pair.set_linger(0))
            .and_then(|()| pair.set_rcvhwm(0))
            .and_then(|()| pair.set_sndhwm(0))
            .and_then(|()| pair.connect(&endpoint))?;
        Ok(HandshakeMonitor {
            pair,
            role,
            repeat_every,
            seen: Vec::new(),
            last: None,
            connections: connections.then(Vec::new),
        })
    }

    /// Ends the monitor of `socket` (the one it was made for): libzmq sends
    /// no more events. Call before the socket, or this, goes.
    pub fn stop(&mut self, socket: &mut zmq::Socket) {
        // SAFETY: a live socket; a null address stops its monitor
        // (zmq_socket_monitor(3)).
        unsafe { zmq_sys::zmq_socket_monitor(socket.as_mut_ptr(), std::ptr::null(), 0) };
    }

    /// The connection events since the last call (if they are kept),
    /// noting the handshake failures that came with them.
    pub fn take_connections(&mut self) -> Vec<ConnectionEvent> {
        while let Some(failure) = self.next_failure() {
            self.note(failure);
        }
        self.connections
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The lines to say now: each failure new since the last call, and the
    /// repeats of one said at least `repeat_every` ago.
    pub fn take_reports(&mut self, now: Instant) -> Vec<String> {
        while let Some(failure) = self.next_failure() {
            self.note(failure);
        }
        let (role, every) = (self.role, self.repeat_every);
        let mut out = Vec::new();
        for s in &mut self.seen {
            let due = s
                .said
                .is_none_or(|t| now.saturating_duration_since(t) >= every);
            if s.unsaid == 0 || !due {
                continue;
            }
            let line = describe(&s.failure, &role);
            out.push(match s.said {
                None if s.unsaid == 1 => line,
                None => format!("{line} ({})", count(s.unsaid, "time")),
                Some(t) => format!(
                    "{line} (again, {} in the last {:.0} s)",
                    count(s.unsaid, "time"),
                    now.saturating_duration_since(t).as_secs_f64()
                ),
            });
            s.unsaid = 0;
            s.said = Some(now);
        }
        out
    }

    /// The line for the failure [`HandshakeMonitor::take_reports`] noted
    /// last, if any (said or not).
    pub fn last_failure(&self) -> Option<String> {
        self.last.as_ref().map(|f| describe(f, &self.role))
    }

    fn note(&mut self, failure: Failure) {
        if self.role.zap_reports_refusals && matches!(failure.cause, Cause::Refused(_)) {
            return;
        }
        // A connection closed during the handshake says less than the
        // cause said already for the endpoint (the other end closing after
        // it found the mismatch too, say).
        let known_cause = |s: &Seen| {
            s.failure.endpoint == failure.endpoint && !matches!(s.failure.cause, Cause::Closed(_))
        };
        if matches!(failure.cause, Cause::Closed(_)) && self.seen.iter().any(known_cause) {
            return;
        }
        // Likewise when the closing came first (either end may find the
        // mismatch first, and libzmq retries after a closed connection):
        // the cause says it, if it arrives before the closing was said.
        if !matches!(failure.cause, Cause::Closed(_)) {
            self.seen.retain(|s| {
                s.said.is_some()
                    || s.failure.endpoint != failure.endpoint
                    || !matches!(s.failure.cause, Cause::Closed(_))
            });
        }
        self.last = Some(failure.clone());
        let known = self.seen.iter().position(|s| s.failure == failure);
        match known.or_else(|| (self.seen.len() >= MAX_KINDS).then_some(MAX_KINDS - 1)) {
            Some(i) => self.seen[i].unsaid += 1,
            None => self.seen.push(Seen {
                failure,
                unsaid: 1,
                said: None,
            }),
        }
    }

    /// The next handshake failure the monitor has, if any (connection
    /// events are kept if asked for; other events and malformed ones are
    /// skipped).
    fn next_failure(&mut self) -> Option<Failure> {
        loop {
            let frames = self.pair.recv_multipart(zmq::DONTWAIT).ok()?;
            if let [first, endpoint] = frames.as_slice() {
                if let Some(f) = decode(first, endpoint) {
                    return Some(f);
                }
                if let (Some(kept), Some(c)) = (
                    self.connections.as_mut(),
                    decode_connection(first, endpoint),
                ) {
                    kept.push(c);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(event: u32, value: u32) -> Vec<u8> {
        let mut v = (event as u16).to_ne_bytes().to_vec();
        v.extend_from_slice(&value.to_ne_bytes());
        v
    }

    const SUB_BOUND: Role = Role {
        peer: "publisher",
        curve: true,
        bind: true,
        zap_reports_refusals: false,
    };

    #[test]
    fn events_decode_into_causes() {
        let ep = b"tcp://127.0.0.1:5555";
        let f = |e, v| decode(&event(e, v), ep).map(|f| f.cause);
        assert_eq!(
            f(
                zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
                zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
            ),
            Some(Cause::MechanismMismatch)
        );
        assert_eq!(
            f(
                zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
                zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC
            ),
            Some(Cause::Cryptographic)
        );
        assert_eq!(
            f(zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400),
            Some(Cause::Refused(400))
        );
        assert_eq!(
            f(zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, 104),
            Some(Cause::Closed(104))
        );
        assert_eq!(f(zmq_sys::ZMQ_EVENT_CONNECTED, 7), None);
        assert_eq!(decode(b"\x00", ep), None);
        let mapped = |e: &[u8]| {
            decode(&event(zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400), e).map(|f| f.endpoint)
        };
        assert_eq!(
            mapped(b"tcp://[::ffff:127.0.0.1]:5555").as_deref(),
            Some("tcp://127.0.0.1:5555")
        );
        assert_eq!(
            mapped(b"tcp://[::1]:5555").as_deref(),
            Some("tcp://[::1]:5555")
        );
        let failure = decode(
            &event(
                zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
                zmq_sys::ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH,
            ),
            ep,
        )
        .unwrap();
        assert_eq!(
            describe(&failure, &SUB_BOUND),
            "cannot talk to a publisher connecting to tcp://127.0.0.1:5555: it does not use \
             CURVE (it sends plain text), and this end does"
        );
        let plain_client = Role {
            peer: "subscriber",
            curve: false,
            bind: false,
            zap_reports_refusals: false,
        };
        assert_eq!(
            describe(&failure, &plain_client),
            "cannot talk to the subscriber at tcp://127.0.0.1:5555: it uses CURVE (or another \
             security mechanism), and this end does not"
        );
        // Closed during the handshake: what that means depends on this end.
        let closed = Failure {
            endpoint: "tcp://127.0.0.1:5555".into(),
            cause: Cause::Closed(32),
        };
        assert!(describe(&closed, &SUB_BOUND).ends_with(
            "it closed the connection during the handshake: it does not use CURVE, it seems, \
             and this end does"
        ));
        let curve_client = Role {
            curve: true,
            ..plain_client
        };
        assert!(describe(&closed, &curve_client).ends_with(
            "it does not use CURVE, or the server key this end was given is not the subscriber's"
        ));
    }

    #[test]
    fn a_cause_found_after_a_closed_connection_is_said_instead() {
        let ctx = zmq::Context::new();
        let socket = ctx.socket(zmq::XPUB).unwrap();
        let curve_client = Role {
            peer: "subscriber",
            curve: true,
            bind: false,
            zap_reports_refusals: false,
        };
        let mut m =
            HandshakeMonitor::start(&ctx, &socket, curve_client, Duration::from_secs(60)).unwrap();
        let at = |endpoint: &str, cause| Failure {
            endpoint: endpoint.into(),
            cause,
        };
        // The plain-text subscriber closed the first connection before this
        // end found the mismatch; the second attempt found it. Another
        // endpoint's closed connection stays.
        m.note(at("tcp://a:1", Cause::Closed(104)));
        m.note(at("tcp://b:2", Cause::Closed(104)));
        m.note(at("tcp://a:1", Cause::MechanismMismatch));
        m.note(at("tcp://a:1", Cause::Closed(104)));
        let now = Instant::now();
        let said = m.take_reports(now);
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(said[0].starts_with("cannot talk to the subscriber at tcp://b:2: it closed"));
        assert_eq!(
            said[1],
            "cannot talk to the subscriber at tcp://a:1: it does not use CURVE (it sends \
             plain text), and this end does"
        );
        // A closed connection said already is not unsaid by a later cause:
        // the cause is said too.
        m.note(at("tcp://b:2", Cause::Cryptographic));
        let said = m.take_reports(now);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("the CURVE keys do not match"), "{said:?}");
    }

    /// A SUB socket in `ctx`, a CURVE server with `curve` (its secret key)
    /// or plain text.
    fn server(ctx: &zmq::Context, curve: Option<&[u8]>) -> zmq::Socket {
        let s = ctx.socket(zmq::SUB).unwrap();
        if let Some(secret) = curve {
            s.set_curve_server(true).unwrap();
            s.set_curve_secretkey(secret).unwrap();
        }
        s
    }

    fn wait_for_reports(m: &mut HandshakeMonitor) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = m.take_reports(Instant::now());
            if !r.is_empty() || Instant::now() > deadline {
                return r;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_plain_text_peer_of_a_curve_server_is_said_once_then_counted() {
        let ctx = zmq::Context::new();
        let keys = zmq::CurveKeyPair::new().unwrap();
        let sub = server(&ctx, Some(&keys.secret_key));
        let mut m =
            HandshakeMonitor::start(&ctx, &sub, SUB_BOUND, Duration::from_millis(200)).unwrap();
        sub.bind("tcp://127.0.0.1:*").unwrap();
        let ep = sub.get_last_endpoint().unwrap().unwrap();
        let plain_publisher = || {
            let p = ctx.socket(zmq::XPUB).unwrap();
            p.set_linger(0).unwrap();
            p.connect(&ep).unwrap();
            p
        };
        let _first_publisher = plain_publisher();
        let first = wait_for_reports(&mut m);
        assert_eq!(
            first,
            [format!(
                "cannot talk to a publisher connecting to {ep}: it does not use CURVE (it \
                 sends plain text), and this end does"
            )]
        );
        // (libzmq does not reconnect after a protocol error.) Another one:
        // counted, and said with the count once the interval passed.
        let _second_publisher = plain_publisher();
        let again = wait_for_reports(&mut m);
        assert_eq!(again.len(), 1, "{again:?}");
        assert!(
            again[0].starts_with(&first[0]) && again[0].contains(" (again, 1 time in the last "),
            "{again:?}"
        );
    }

    #[test]
    fn a_curve_client_with_another_server_key_is_a_key_mismatch() {
        let ctx = zmq::Context::new();
        let (keys, other) = (
            zmq::CurveKeyPair::new().unwrap(),
            zmq::CurveKeyPair::new().unwrap(),
        );
        let sub = server(&ctx, Some(&keys.secret_key));
        let mut m =
            HandshakeMonitor::start(&ctx, &sub, SUB_BOUND, Duration::from_secs(60)).unwrap();
        sub.bind("tcp://127.0.0.1:*").unwrap();
        let ep = sub.get_last_endpoint().unwrap().unwrap();
        let client_keys = zmq::CurveKeyPair::new().unwrap();
        let publisher = ctx.socket(zmq::XPUB).unwrap();
        publisher.set_linger(0).unwrap();
        publisher.set_curve_serverkey(&other.public_key).unwrap();
        publisher
            .set_curve_publickey(&client_keys.public_key)
            .unwrap();
        publisher
            .set_curve_secretkey(&client_keys.secret_key)
            .unwrap();
        publisher.connect(&ep).unwrap();
        assert_eq!(
            wait_for_reports(&mut m),
            [format!(
                "cannot talk to a publisher connecting to {ep}: the CURVE keys do not match: \
                 the publisher was given another server key than this end's public key"
            )]
        );
    }
}
