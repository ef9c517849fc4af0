//! What a connected writer's subscriber has not acknowledged yet: the bytes
//! its TCP connection still holds in the kernel (`SIOCOUTQ`), and which of
//! the writer's records they are.
//!
//! libzmq gives a record's frame back once its I/O thread has copied the
//! record into its batch buffer for the kernel (8 KiB); the kernel's send
//! buffer (`LogZeroMQ::sndbuf`) then keeps it until the subscriber's kernel
//! acknowledges it. What is in there when the connection is cut (heartbeat
//! timeout, subscriber killed), or when Zeek exits while the subscriber
//! does not read, never arrives. [`Connections`] finds each connection's
//! file descriptor through libzmq's monitor, which reports it
//! (`ZMQ_EVENT_CONNECTED`), and reads what it holds (TCP only: over
//! `ipc://` the kernel puts what is written straight into the subscriber's
//! receive queue); [`Recent`] knows the
//! size of the writer's latest messages on the wire, newest last, so the
//! unacknowledged bytes at the end of the stream are a number of records.
//!
//! The descriptor is libzmq's: it is only read here (`ioctl`,
//! `getsockname`, `getpeername`). libzmq closes it when the
//! connection ends, and the monitor says so (`ZMQ_EVENT_DISCONNECTED`)
//! only afterwards, so by then the number may name another socket: it is
//! trusted only while it has the addresses it had when first seen, which
//! were those of the endpoint (its port or path). Once closed, it cannot
//! be read, so what a cut connection held is what it held at its last
//! reading ([`Connections::poll`], once a heartbeat).
//!
//! Not seen here: the batch libzmq's I/O thread took for the kernel but
//! could not write yet (at most 8 KiB, only while the kernel's buffer is
//! full); those records count as acknowledged.

use crate::monitor::ConnectionEvent;
use std::collections::VecDeque;
use std::os::raw::{c_int, c_void};

/// The bytes one message takes in a ZMTP 3 stream: each frame has a flags
/// byte and a length of 1 byte (up to 255) or 8; with CURVE, each frame is
/// a MESSAGE command, 33 bytes more (name, nonce, flags and MAC).
pub fn wire_size(frames: &[usize], curve: bool) -> u64 {
    frames
        .iter()
        .map(|&len| {
            let body = if curve { len + 33 } else { len };
            let header = if body > 255 { 9 } else { 2 };
            (body + header) as u64
        })
        .sum()
}

/// The wire sizes of the latest messages, newest last, as many as
/// together reach `keep` bytes.
pub struct Recent {
    sizes: VecDeque<u32>,
    bytes: u64,
    keep: u64,
}

impl Recent {
    pub fn new(keep: u64) -> Recent {
        Recent {
            sizes: VecDeque::new(),
            bytes: 0,
            keep,
        }
    }

    /// A message handed to libzmq, of `wire` bytes.
    pub fn push(&mut self, wire: u64) {
        let wire = u32::try_from(wire).unwrap_or(u32::MAX);
        self.sizes.push_back(wire);
        self.bytes += u64::from(wire);
        while self.sizes.len() > 1 {
            let oldest = u64::from(self.sizes[0]);
            if self.bytes - oldest < self.keep {
                break;
            }
            self.sizes.pop_front();
            self.bytes -= oldest;
        }
    }

    /// How many messages, going back from the newest but one skipping
    /// the `skip` newest (still libzmq's), it takes to cover `bytes`: the
    /// records those bytes belong to. Beyond the sizes kept, the rest is
    /// counted at their average size.
    pub fn covering(&self, skip: u64, bytes: u64) -> u64 {
        if bytes == 0 {
            return 0;
        }
        let mut left = bytes;
        let mut count = 0;
        let mut seen = 0u64;
        let mut seen_bytes = 0u64;
        for &size in self.sizes.iter().rev().skip(skip as usize) {
            seen += 1;
            seen_bytes += u64::from(size);
            count += 1;
            if left <= u64::from(size) {
                return count;
            }
            left -= u64::from(size);
        }
        if seen == 0 {
            // Nothing to measure by: at least one record.
            return count + 1;
        }
        count + left.div_ceil(seen_bytes.div_ceil(seen).max(1))
    }
}

/// A connection's addresses, as the kernel returns them.
#[derive(Clone, PartialEq, Eq, Debug)]
struct Addrs {
    local: Vec<u8>,
    peer: Vec<u8>,
}

struct Conn {
    fd: c_int,
    addrs: Addrs,
    /// The records it held unacknowledged at its last reading.
    unacked: u64,
}

/// What [`Connections::poll`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Poll {
    /// Records the open connections hold, not yet acknowledged.
    pub unacked: u64,
    /// Records held by connections that ended since the last poll (as of
    /// their last reading): lost with them.
    pub lost: u64,
}

/// A socket's connections, from its monitor's events.
#[derive(Default)]
pub struct Connections {
    live: Vec<Conn>,
    /// What connections that ended held, not yet returned by `poll`.
    pending_lost: u64,
}

impl Connections {
    /// Takes the monitor's connection events (connections made and ended;
    /// [`crate::monitor::HandshakeMonitor::take_connections`]). Returns the
    /// records the ended ones held at their last reading.
    fn update(&mut self, events: Vec<ConnectionEvent>) -> u64 {
        let mut lost = 0;
        for e in events {
            if e.made {
                self.live.retain(|c| c.fd != e.fd);
                if let Some(addrs) = addresses(e.fd).filter(|a| a.matches(&e.endpoint, e.accepted))
                {
                    self.live.push(Conn {
                        fd: e.fd,
                        addrs,
                        unacked: 0,
                    });
                }
            } else if let Some(i) = self.live.iter().position(|c| c.fd == e.fd) {
                lost += self.live.swap_remove(i).unacked;
            }
        }
        lost
    }

    /// After `events`: reads what each open connection holds
    /// unacknowledged, as records of `recent` (the `skip` newest of which
    /// libzmq still holds), and what the connections that ended since held
    /// at their last reading.
    pub fn poll(&mut self, events: Vec<ConnectionEvent>, recent: &Recent, skip: u64) -> Poll {
        let lost = self.update(events) + std::mem::take(&mut self.pending_lost);
        let mut unacked = 0;
        for c in &mut self.live {
            c.unacked = match outq(c.fd, &c.addrs) {
                Some(bytes) => recent.covering(skip, bytes),
                None => 0,
            };
            unacked += c.unacked;
        }
        Poll { unacked, lost }
    }

    /// After `events`: whether every open connection's data was
    /// acknowledged. (What ended connections held counts at the next
    /// `poll`.)
    pub fn all_acknowledged(&mut self, events: Vec<ConnectionEvent>) -> bool {
        let lost = self.update(events);
        self.pending_lost += lost;
        self.live
            .iter()
            .all(|c| outq(c.fd, &c.addrs).is_none_or(|b| b == 0))
    }
}

impl Addrs {
    /// Whether these are a connection to `endpoint` (`tcp://host:port`):
    /// its port is the peer's, or, for a connection accepted on a bound
    /// endpoint, the local one.
    fn matches(&self, endpoint: &str, bound: bool) -> bool {
        let ours = if bound { &self.local } else { &self.peer };
        let port = endpoint
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok());
        port.is_some_and(|p| inet_port(ours) == Some(p))
    }
}

/// The port of an AF_INET or AF_INET6 address.
fn inet_port(addr: &[u8]) -> Option<u16> {
    let family = c_int::from(u16::from_ne_bytes([*addr.first()?, *addr.get(1)?]));
    if family != libc::AF_INET && family != libc::AF_INET6 {
        return None;
    }
    Some(u16::from_be_bytes([*addr.get(2)?, *addr.get(3)?]))
}

/// The local and peer addresses of `fd`, if it is a TCP socket. (Over
/// `ipc://`, what a Unix socket holds is in the subscriber's own receive
/// queue already: as good as acknowledged.)
fn addresses(fd: c_int) -> Option<Addrs> {
    let mut kind: c_int = 0;
    let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: getsockopt(2) writes at most `len` bytes to `kind`, an int.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut kind as *mut c_int).cast::<c_void>(),
            &mut len,
        )
    };
    if rc != 0 || kind != libc::SOCK_STREAM {
        return None;
    }
    let addrs = Addrs {
        local: address(fd, libc::getsockname)?,
        peer: address(fd, libc::getpeername)?,
    };
    inet_port(&addrs.peer).map(|_| addrs)
}

type AddressFn = unsafe extern "C" fn(c_int, *mut libc::sockaddr, *mut libc::socklen_t) -> c_int;

/// One address of `fd` (`getsockname` or `getpeername`), as its bytes.
fn address(fd: c_int, get: AddressFn) -> Option<Vec<u8>> {
    // SAFETY: sockaddr_storage is plain data, valid when zeroed.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `get` writes at most `len` bytes to `storage` and sets `len`.
    let rc = unsafe {
        get(
            fd,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return None;
    }
    let len = (len as usize).min(std::mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: `storage` is `len` initialised bytes long at least.
    let bytes = unsafe { std::slice::from_raw_parts(&storage as *const _ as *const u8, len) };
    Some(bytes.to_vec())
}

/// The bytes `fd` holds that its peer has not acknowledged, if `fd` still
/// has the addresses `addrs`.
fn outq(fd: c_int, addrs: &Addrs) -> Option<u64> {
    if addresses(fd).as_ref() != Some(addrs) {
        return None;
    }
    outq_bytes(fd)
}

#[cfg(target_os = "linux")]
fn outq_bytes(fd: c_int) -> Option<u64> {
    let mut bytes: c_int = 0;
    // SAFETY: SIOCOUTQ (TIOCOUTQ) writes one int to the pointer.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut bytes as *mut c_int) };
    (rc == 0).then(|| u64::try_from(bytes).unwrap_or(0))
}

/// Elsewhere the kernel is not asked: nothing counts as unacknowledged.
#[cfg(not(target_os = "linux"))]
fn outq_bytes(_fd: c_int) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_sizes_follow_zmtp() {
        assert_eq!(wire_size(&[4, 100], false), 6 + 102);
        assert_eq!(wire_size(&[4, 300], false), 6 + 309);
        assert_eq!(wire_size(&[4, 100], true), 4 + 33 + 2 + 133 + 2);
        assert_eq!(wire_size(&[4, 250], true), 4 + 33 + 2 + 283 + 9);
    }

    #[test]
    fn unacknowledged_bytes_are_the_newest_records() {
        let mut r = Recent::new(1000);
        for size in [100, 200, 300, 400] {
            r.push(size);
        }
        assert_eq!(r.covering(0, 0), 0);
        assert_eq!(r.covering(0, 1), 1);
        assert_eq!(r.covering(0, 400), 1);
        assert_eq!(r.covering(0, 401), 2);
        assert_eq!(r.covering(1, 300), 1, "the newest is still libzmq's");
        assert_eq!(r.covering(1, 301), 2);
        // Enough kept for 1000 bytes: the oldest went. Beyond them, the
        // average size (400) counts.
        r.push(500);
        assert_eq!(r.sizes, [300, 400, 500]);
        assert_eq!(r.covering(0, 1200), 3);
        assert_eq!(r.covering(0, 1201), 4);
        assert_eq!(r.covering(0, 1200 + 401), 5);
        assert_eq!(Recent::new(10).covering(0, 5), 1);
    }
}
