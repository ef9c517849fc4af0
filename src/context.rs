//! The libzmq context all connected writers share, with room for as many
//! sockets as the process's open files allow.
//!
//! libzmq's default limit is 1,023 sockets per context, reached by a few
//! hundred log paths in connect mode (a writer's socket and its monitor's
//! two) although `ulimit -n` allows far more; the zmq crate cannot change
//! it (`ZMQ_MAX_SOCKETS`), so this module keeps the raw context and makes
//! its sockets itself. The limit is sized from the soft `RLIMIT_NOFILE`
//! ([`socket_limit`]) so that the sockets run out before the files do: a
//! socket that cannot be made is said with both limits and what to raise,
//! where Zeek, out of files, aborts (`fatal error: Pipe failure: Too many
//! open files`, when it makes the next writer thread).
//!
//! Measured with 2,000 connected writers (Zeek 8.0.10, 8.2.2): a writer
//! takes 3 sockets (its own, its monitor's two) and 4 files (their 3
//! eventfds, its TCP connection); its Zeek thread takes 2 more (pipes); a
//! disk log of the same path, 3 more (its thread's pipes, the file). Up to
//! 9 files a writer, 3 per socket.

use std::ffi::c_void;
use std::fmt;
use std::sync::OnceLock;

/// Files left to Zeek itself (logs, the trace or interface, its own
/// sockets) when sizing the socket limit from `RLIMIT_NOFILE`.
pub const ZEEK_FILES: u64 = 256;
/// The socket limit is at most this (libzmq allocates a slot per socket
/// up front); a process with an unlimited `RLIMIT_NOFILE` gets it.
pub const MOST_SOCKETS: u64 = 65_536;
/// libzmq's own default, the least the limit is.
pub const LEAST_SOCKETS: u64 = zmq_sys::ZMQ_MAX_SOCKETS_DFLT as u64;

/// Open files a socket of the shared context stands for, Zeek's own for
/// the same writer included (see the module comment).
pub const FILES_PER_SOCKET: u64 = 3;

/// The socket limit for a process that may open `open_files` files (the
/// soft `RLIMIT_NOFILE`; `None`: unlimited): a socket per
/// [`FILES_PER_SOCKET`] files, less [`ZEEK_FILES`]. (With `open_files` -
/// [`ZEEK_FILES`] sockets, the files ran out first: 2,000 paths at `ulimit
/// -n 8200` aborted Zeek.)
pub fn socket_limit(open_files: Option<u64>) -> u64 {
    open_files
        .map_or(MOST_SOCKETS, |n| {
            n.saturating_sub(ZEEK_FILES) / FILES_PER_SOCKET
        })
        .clamp(LEAST_SOCKETS, MOST_SOCKETS)
}

/// The soft `RLIMIT_NOFILE` (`None`: unlimited, or unknown).
pub fn open_files_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit(2) writes one rlimit into the struct it is given.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    (rc == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

/// The kinds of socket made here.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Xpub,
    /// The end of a socket monitor ([`crate::monitor`]).
    Pair,
}

/// A libzmq context that lives as long as the process (it is never
/// terminated: every socket closes itself, see `connect_context` in
/// [`crate::publisher`]).
pub struct SharedContext {
    raw: *mut c_void,
    /// Its `ZMQ_MAX_SOCKETS`, as libzmq says it.
    max_sockets: i64,
    /// The soft `RLIMIT_NOFILE` it was sized from.
    open_files: Option<u64>,
}

// SAFETY: a libzmq context is thread safe (zmq_ctx_new(3)); the pointer is
// only passed to libzmq.
unsafe impl Send for SharedContext {}
// SAFETY: as for Send.
unsafe impl Sync for SharedContext {}

/// Why a socket could not be made.
#[derive(Debug)]
pub struct CannotCreate {
    pub error: zmq::Error,
    max_sockets: i64,
    open_files: Option<u64>,
}

impl fmt::Display for CannotCreate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot create a ZeroMQ socket: {}", self.error)?;
        if self.error != zmq::Error::EMFILE {
            return Ok(());
        }
        let files = self
            .open_files
            .map_or_else(|| "unlimited".to_string(), |n| n.to_string());
        write!(
            f,
            " (the process may open {files} files, and the connected writers' ZeroMQ \
             context {} sockets, sized from that; each connected writer takes 3 sockets \
             and, with Zeek's own, up to 9 files: raise the open files limit Zeek starts \
             with, `ulimit -n`, now {files}, e.g. LimitNOFILE= in a systemd unit)",
            self.max_sockets
        )
    }
}

impl SharedContext {
    /// A new context, its socket limit sized from the soft
    /// `RLIMIT_NOFILE` ([`socket_limit`]).
    pub fn new() -> SharedContext {
        let open_files = open_files_limit();
        // SAFETY: zmq_ctx_new(3) takes nothing; it returns a context or
        // null.
        let raw = unsafe { zmq_sys::zmq_ctx_new() };
        let mut max_sockets = -1;
        if !raw.is_null() {
            let limit = i32::try_from(socket_limit(open_files)).unwrap_or(i32::MAX);
            // SAFETY: a live context, no socket made in it yet (the limit
            // applies from the first socket on).
            max_sockets = unsafe {
                zmq_sys::zmq_ctx_set(raw, zmq_sys::ZMQ_MAX_SOCKETS as i32, limit);
                zmq_sys::zmq_ctx_get(raw, zmq_sys::ZMQ_MAX_SOCKETS as i32)
            }
            .into();
        }
        SharedContext {
            raw,
            max_sockets,
            open_files,
        }
    }

    /// Its socket limit (`ZMQ_MAX_SOCKETS`).
    pub fn max_sockets(&self) -> i64 {
        self.max_sockets
    }

    /// Why a socket of this context could not be made: `error`.
    pub fn cannot_create(&self, error: zmq::Error) -> CannotCreate {
        CannotCreate {
            error,
            max_sockets: self.max_sockets,
            open_files: self.open_files,
        }
    }

    /// A new socket of `kind` in this context.
    pub fn socket(&self, kind: Kind) -> Result<zmq::Socket, CannotCreate> {
        let cannot = |error| self.cannot_create(error);
        if self.raw.is_null() {
            return Err(cannot(zmq::Error::EFAULT));
        }
        let kind = match kind {
            Kind::Xpub => zmq_sys::ZMQ_XPUB,
            Kind::Pair => zmq_sys::ZMQ_PAIR,
        };
        // SAFETY: a live context (never terminated), a valid socket type.
        let sock = unsafe { zmq_sys::zmq_socket(self.raw, kind as i32) };
        if sock.is_null() {
            // SAFETY: zmq_errno(3) only reads this thread's errno.
            return Err(cannot(zmq::Error::from_raw(unsafe {
                zmq_sys::zmq_errno()
            })));
        }
        // SAFETY: a socket just made, owned by nothing else; the
        // zmq::Socket closes it when dropped, and its context outlives it
        // (never terminated).
        Ok(unsafe { zmq::Socket::from_raw(sock) })
    }
}

impl Default for SharedContext {
    fn default() -> Self {
        SharedContext::new()
    }
}

/// The context of every connected writer (see `connect_context` in
/// [`crate::publisher`]).
pub fn shared() -> &'static SharedContext {
    static CONTEXT: OnceLock<SharedContext> = OnceLock::new();
    CONTEXT.get_or_init(SharedContext::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_limit_follows_the_open_files_limit_within_bounds() {
        assert_eq!(socket_limit(Some(20_000)), (20_000 - ZEEK_FILES) / 3);
        // 2,000 connected writers fit in 20,000 files.
        assert!(socket_limit(Some(20_000)) >= 3 * 2000);
        assert_eq!(socket_limit(Some(8_200)), 2648);
        assert_eq!(socket_limit(Some(1024)), 1023);
        assert_eq!(socket_limit(Some(100)), 1023);
        assert_eq!(socket_limit(Some(1 << 30)), MOST_SOCKETS);
        assert_eq!(socket_limit(Some(100_000)), 33_248);
        assert_eq!(socket_limit(None), MOST_SOCKETS);
    }

    #[test]
    fn a_context_has_the_limit_and_says_it_when_reached() {
        let ctx = SharedContext::new();
        assert_eq!(ctx.max_sockets(), socket_limit(open_files_limit()) as i64);
        let s = ctx.socket(Kind::Xpub).unwrap();
        s.set_linger(0).unwrap();
        s.bind("inproc://context-test").unwrap();
        let reached = CannotCreate {
            error: zmq::Error::EMFILE,
            max_sockets: 1023,
            open_files: Some(1024),
        }
        .to_string();
        assert_eq!(
            reached,
            "cannot create a ZeroMQ socket: Too many open files (the process may open 1024 \
             files, and the connected writers' ZeroMQ context 1023 sockets, sized from that; \
             each connected writer takes 3 sockets and, with Zeek's own, up to 9 files: raise \
             the open files limit Zeek starts with, `ulimit -n`, now 1024, e.g. LimitNOFILE= \
             in a systemd unit)"
        );
    }
}
