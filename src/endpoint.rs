//! Checks an endpoint before libzmq sees it, so a typo gives one clear
//! message instead of a silent socket that never connects; then binds or
//! connects a socket to it. Every socket that binds or connects (the
//! writer's, and `zeek-zmq`'s) goes through here.

use crate::report::quoted;
use std::fmt::Display;
use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

/// Validates an endpoint to bind (`bind`) or to connect to: see
/// `validate_bind` and `validate_connect` below.
pub fn validate(endpoint: &str, bind: bool) -> Result<(), String> {
    // libzmq takes a C string, and the zmq crate would panic making one.
    if let Some(at) = endpoint.find('\0') {
        return Err(format!("it contains a NUL byte at offset {at}"));
    }
    if bind {
        validate_bind(endpoint)
    } else {
        validate_connect(endpoint)
    }
}

/// Binds `socket` to `endpoint` (`bind`) or connects it there.
///
/// A bind that finds the address in use is tried again for up to
/// [`REBIND_WAIT`]: the socket that had it may still be closing (the last
/// writer of a bound endpoint just finished, and a new one binds it).
pub fn attach(socket: &zmq::Socket, endpoint: &str, bind: bool) -> Result<(), String> {
    let attached = if bind {
        bind_waiting(socket, endpoint, REBIND_WAIT)
    } else {
        socket.connect(endpoint)
    };
    attached.map_err(|e| cannot_attach(endpoint, bind, e))
}

/// How long a bind waits for an address in use to be released.
pub const REBIND_WAIT: Duration = Duration::from_secs(1);

/// Binds `socket` to `endpoint`, trying again while the address is in use,
/// with pauses from 5 ms doubling to 200 ms, until `wait` passed.
fn bind_waiting(socket: &zmq::Socket, endpoint: &str, wait: Duration) -> zmq::Result<()> {
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(5);
    loop {
        match socket.bind(endpoint) {
            Err(zmq::Error::EADDRINUSE) if Instant::now() < deadline => {
                let left = deadline.saturating_duration_since(Instant::now());
                std::thread::sleep(pause.min(left));
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            r => return r,
        }
    }
}

/// `cannot bind "ENDPOINT": WHY`, or `cannot connect to "ENDPOINT": WHY`.
pub fn cannot_attach(endpoint: &str, bind: bool, why: impl Display) -> String {
    let verb = if bind { "bind" } else { "connect to" };
    format!("cannot {verb} {}: {why}", quoted(endpoint))
}

/// Validates an endpoint Zeek connects to: `tcp://host:port` (host a name,
/// an IPv4 address or a bracketed IPv6 address; names must resolve) or
/// `ipc://path`. Returns why it is unusable.
fn validate_connect(endpoint: &str) -> Result<(), String> {
    let Some((transport, address)) = endpoint.split_once("://") else {
        return Err("no transport: expected tcp://host:port or ipc://path".into());
    };
    match transport {
        "tcp" => validate_tcp(address),
        "ipc" => {
            if address.is_empty() {
                Err("ipc:// needs a path".into())
            } else {
                Ok(())
            }
        }
        other => Err(format!(
            "unsupported transport {}: use tcp://host:port or ipc://path",
            quoted(other)
        )),
    }
}

/// Validates an endpoint Zeek binds: `tcp://host:port` (host `*`, an
/// address, a bracketed IPv6 address or an interface name; port a number)
/// or `ipc://path`. Whether the address is usable only `bind` can tell.
fn validate_bind(endpoint: &str) -> Result<(), String> {
    let Some((transport, address)) = endpoint.split_once("://") else {
        return Err("no transport: expected tcp://host:port or ipc://path".into());
    };
    match transport {
        "tcp" => {
            let Some((host, port)) = address.rsplit_once(':') else {
                return Err("tcp:// needs host:port (e.g. tcp://*:5555)".into());
            };
            if host.is_empty() {
                return Err("tcp:// needs a host or * (e.g. tcp://*:5555)".into());
            }
            match port.parse::<u16>() {
                Ok(p) if p > 0 => Ok(()),
                _ => Err(format!("bad port {}: expected 1-65535", quoted(port))),
            }
        }
        "ipc" if !address.is_empty() => Ok(()),
        "ipc" => Err("ipc:// needs a path".into()),
        other => Err(format!(
            "unsupported transport {}: use tcp://host:port or ipc://path",
            quoted(other)
        )),
    }
}

fn validate_tcp(address: &str) -> Result<(), String> {
    // libzmq accepts "source;destination"; the destination is what matters.
    let dest = address.rsplit(';').next().unwrap_or(address);
    let Some((host, port)) = dest.rsplit_once(':') else {
        return Err("tcp:// needs host:port".into());
    };
    let port: u16 = match port.parse() {
        Ok(p) if p > 0 => p,
        _ => return Err(format!("bad port {}: expected 1-65535", quoted(port))),
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() || host == "*" {
        return Err("tcp:// needs a host to connect to".into());
    }
    match (host, port).to_socket_addrs() {
        Ok(addrs) if addrs.len() > 0 => Ok(()),
        Ok(_) => Err(format!("host {} has no address", quoted(host))),
        Err(e) => Err(format!("cannot resolve host {}: {e}", quoted(host))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bind_waits_for_an_address_being_released() {
        let ctx = zmq::Context::new();
        let first = ctx.socket(zmq::XPUB).unwrap();
        first.bind("tcp://127.0.0.1:*").unwrap();
        let endpoint = first.get_last_endpoint().unwrap().unwrap();
        let second = ctx.socket(zmq::XPUB).unwrap();
        // Released a little after the bind began: the bind succeeds.
        let held = endpoint.clone();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            first.unbind(&held).unwrap();
        });
        let start = Instant::now();
        attach(&second, &endpoint, true).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(100));
        release.join().unwrap();
        // Held for good: it gives up after about REBIND_WAIT.
        let third = ctx.socket(zmq::XPUB).unwrap();
        let start = Instant::now();
        let e = attach(&third, &endpoint, true).unwrap_err();
        let waited = start.elapsed();
        assert!(e.contains("Address already in use"), "{e}");
        assert!(
            waited >= REBIND_WAIT && waited < REBIND_WAIT * 3,
            "{waited:?}"
        );
    }

    #[test]
    fn bind_endpoints() {
        for e in [
            "tcp://*:5555",
            "tcp://127.0.0.1:5555",
            "tcp://[::1]:5555",
            "tcp://eth0:5555",
            "ipc:///tmp/x",
        ] {
            assert_eq!(validate_bind(e), Ok(()), "{e}");
        }
        for (e, why) in [
            ("*:5555", "no transport"),
            ("tcp://*", "host:port"),
            ("tcp://:5555", "needs a host"),
            ("tcp://*:0", "bad port"),
            ("udp://*:1", "unsupported"),
        ] {
            let err = validate_bind(e).unwrap_err();
            assert!(err.contains(why), "{e}: {err}");
        }
    }

    #[test]
    fn a_nul_byte_is_named_with_its_offset() {
        for bind in [false, true] {
            assert_eq!(
                validate("tcp://127.0.0.1:30020\0junk", bind),
                Err("it contains a NUL byte at offset 21".to_string())
            );
        }
        // Other control characters are shown escaped.
        let e = validate_connect("tcp://ho\u{1b}st:1").unwrap_err();
        assert!(e.contains("\"ho\\u{1b}st\""), "{e}");
    }

    #[test]
    fn good() {
        for e in [
            "tcp://localhost:12345",
            "tcp://127.0.0.1:1",
            "tcp://[::1]:5555",
            "ipc:///tmp/zeek.sock",
        ] {
            assert_eq!(validate_connect(e), Ok(()), "{e}");
        }
    }

    #[test]
    fn bad() {
        for (e, why) in [
            ("localhost:12345", "no transport"),
            ("tcp://", "host:port"),
            ("foo://x", "unsupported transport \"foo\""),
            ("tcp://localhost", "host:port"),
            ("tcp://localhost:0", "bad port"),
            ("tcp://localhost:http", "bad port"),
            ("tcp://*:5555", "needs a host"),
            ("tcp://no-such-host.invalid:5555", "cannot resolve"),
            ("ipc://", "needs a path"),
        ] {
            let err = validate_connect(e).unwrap_err();
            assert!(err.contains(why), "{e}: {err}");
        }
    }
}
