//! CURVE: only subscribers with the right keys receive anything; every
//! misconfiguration fails closed with one error that shows no secret.

mod common;

use common::{free_port, Mode, Setup, Subscriber};
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use zeek_zeromq_writer::dump::OwnedRecord;
use zeek_zeromq_writer::keys::{self, to_z85};
use zeek_zeromq_writer::report::{Collected, Level};
use zeek_zeromq_writer::{FieldSpec, Kind, Writer};

fn schema() -> Vec<FieldSpec> {
    vec![FieldSpec {
        name: "n".into(),
        kind: Kind::from_zeek_name("count"),
        sub: Kind::from_zeek_name(""),
        optional: false,
    }]
}

fn record(n: u64) -> OwnedRecord {
    OwnedRecord::from_values(&[json!({"t": "count", "v": n.to_string()})]).unwrap()
}

fn write(w: &mut Writer, report: &Collected, n: u64) {
    let rec = record(n);
    // SAFETY: an OwnedRecord's string slots point at its own bytes.
    unsafe { w.write(report, &rec.slots) };
}

fn writer(report: &Collected, opts: &[(&str, String)]) -> Writer {
    let mut w = Writer::new(
        opts.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    );
    w.init(report, b"conn", schema(), vec![]);
    w
}

struct Pair {
    public: [u8; 32],
    secret: [u8; 32],
}

fn pair() -> Pair {
    let p = zmq::CurveKeyPair::new().unwrap();
    Pair {
        public: p.public_key,
        secret: p.secret_key,
    }
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("zmqwriter-curve-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `secret` as a key file with `mode`.
fn secret_file(name: &str, secret: &[u8; 32], mode: u32) -> PathBuf {
    let f = dir().join(name);
    std::fs::write(&f, format!("{}\n", to_z85(secret))).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
    f
}

/// A subscriber binding `addr` as a CURVE server with `server`'s keys.
fn curve_server_sub(addr: &str, server: &Pair) -> Subscriber {
    let secret = server.secret;
    Subscriber::start_with(
        addr,
        Setup {
            mode: Mode::Bind,
            paused: false,
        },
        move |s| {
            s.set_curve_server(true).unwrap();
            s.set_curve_secretkey(&secret).unwrap();
        },
    )
}

/// A subscriber connecting to `addr` as a CURVE client of `server_public`.
fn curve_client_sub(addr: &str, server_public: [u8; 32], own: &Pair) -> Subscriber {
    let (public, secret) = (own.public, own.secret);
    Subscriber::start_with(
        addr,
        Setup {
            mode: Mode::Connect,
            paused: false,
        },
        move |s| {
            s.set_curve_serverkey(&server_public).unwrap();
            s.set_curve_publickey(&public).unwrap();
            s.set_curve_secretkey(&secret).unwrap();
        },
    )
}

fn number(frames: &[Vec<u8>]) -> u64 {
    let j: serde_json::Value = serde_json::from_slice(&frames[1]).unwrap();
    j["n"].as_u64().unwrap()
}

#[test]
fn client_mode_right_keys_receive_everything() {
    let server = pair();
    let sub = curve_server_sub("tcp://127.0.0.1:*", &server);
    let report = Collected::default();
    let mut w = writer(
        &report,
        &[
            ("endpoint", sub.endpoint.clone()),
            ("wait_for_subscribers", "10".into()),
            ("curve_server_public_key", to_z85(&server.public)),
        ],
    );
    assert!(w.is_active(), "{:?}", report.take());
    for n in 0..50 {
        write(&mut w, &report, n);
    }
    for n in 0..50 {
        assert_eq!(number(&sub.recv()), n);
    }
    w.finish(&report);
    assert!(report.take().is_empty());
}

#[test]
fn client_mode_plain_or_wrong_key_subscribers_receive_nothing() {
    let server = pair();
    let other = pair();
    let plain = Subscriber::bind("tcp://127.0.0.1:*");
    let wrong = curve_server_sub("tcp://127.0.0.1:*", &other);
    let report = Collected::default();
    for sub in [&plain, &wrong] {
        let mut w = writer(
            &report,
            &[
                ("endpoint", sub.endpoint.clone()),
                ("wait_for_subscribers", "0.5".into()),
                ("zmq_linger", "0".into()),
                ("curve_server_public_key", to_z85(&server.public)),
            ],
        );
        assert!(w.is_active());
        for n in 0..20 {
            write(&mut w, &report, n);
        }
        assert!(sub.nothing_more_within(300));
        // Nobody completed the handshake, so nobody subscribed.
        assert_eq!(w.stats().dropped_no_subscriber, 20);
        w.finish(&report);
    }
}

#[test]
fn server_mode_authenticates_clients_by_key() {
    let zeek = pair();
    let allowed = pair();
    let stranger = pair();
    let secret = secret_file("server-zeek.key", &zeek.secret, 0o600);
    let allowed_file = dir().join("allowed-clients");
    std::fs::write(
        &allowed_file,
        format!("# test\n{}\n", to_z85(&allowed.public)),
    )
    .unwrap();
    let port = free_port();
    let endpoint = format!("tcp://127.0.0.1:{port}");
    let report = Collected::default();
    let mut w = writer(
        &report,
        &[
            ("endpoint", endpoint.clone()),
            ("bind", "T".into()),
            ("zmq_linger", "0".into()),
            ("curve_secret_key_file", secret.display().to_string()),
            (
                "curve_allowed_clients_file",
                allowed_file.display().to_string(),
            ),
        ],
    );
    assert!(w.is_active(), "{:?}", report.take());
    let good = curve_client_sub(&endpoint, zeek.public, &allowed);
    let bad = curve_client_sub(&endpoint, zeek.public, &stranger);
    // Probe until the allowed client is connected and subscribed.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        write(&mut w, &report, 999);
        if good.recv_within(20).is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the allowed client never connected"
        );
    }
    while good.recv_within(100).is_some() {}
    // The stranger is rejected: reported (once per key) and counted.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut warnings = Vec::new();
    while Instant::now() < deadline {
        w.heartbeat(&report);
        warnings.extend(
            report
                .take()
                .into_iter()
                .filter(|(l, m)| *l == Level::Warning && m.starts_with("rejected")),
        );
        if !warnings.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].1.contains(&to_z85(&stranger.public)) && warnings[0].1.contains("127.0.0.1"),
        "{warnings:?}"
    );
    for n in 0..20 {
        write(&mut w, &report, n);
    }
    for n in 0..20 {
        assert_eq!(number(&good.recv()), n);
    }
    assert!(bad.nothing_more_within(300));
    // More rejected attempts: no second warning for the same key.
    std::thread::sleep(Duration::from_millis(300));
    w.heartbeat(&report);
    assert!(report.take().is_empty());
    // Adding the stranger's key to the file admits it at its next
    // connection (a rejected client does not retry by itself).
    std::fs::write(
        &allowed_file,
        format!(
            "{}\n{}\n",
            to_z85(&allowed.public),
            to_z85(&stranger.public)
        ),
    )
    .unwrap();
    drop(bad);
    let again = curve_client_sub(&endpoint, zeek.public, &stranger);
    let mut n = 100;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        write(&mut w, &report, n);
        n += 1;
        if again.recv_within(50).is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the added key was never admitted"
        );
    }
    w.finish(&report);
}

/// Heartbeats of `w` until one says a message containing `wanted`
/// (10 s at most); the messages said.
fn heartbeat_until(w: &mut Writer, report: &Collected, wanted: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut said = Vec::new();
    loop {
        w.heartbeat(report);
        said.extend(report.take().into_iter().map(|(_, m)| m));
        if said.iter().any(|m| m.contains(wanted)) {
            return said;
        }
        assert!(Instant::now() < deadline, "never said {wanted:?}: {said:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_failed_handshake_is_said_in_both_modes() {
    let (zeek, other, client) = (pair(), pair(), pair());
    // Connect mode: the subscriber is a CURVE server with another key.
    let sub = curve_server_sub("tcp://127.0.0.1:*", &other);
    let report = Collected::default();
    let mut w = writer(
        &report,
        &[
            ("endpoint", sub.endpoint.clone()),
            ("zmq_linger", "0".into()),
            ("wait_for_subscribers", "0".into()),
            ("curve_server_public_key", to_z85(&zeek.public)),
        ],
    );
    assert!(w.is_active(), "{:?}", report.take());
    // Named as the operator would: IPv4, not IPv4-mapped IPv6.
    let port = sub.endpoint.rsplit(':').next().unwrap();
    let said = heartbeat_until(
        &mut w,
        &report,
        &format!(
            "CURVE handshake failed: cannot talk to the subscriber at tcp://127.0.0.1:{port}: it \
             closed the connection during the handshake: it does not use CURVE, or the server \
             key this end was given is not the subscriber's"
        ),
    );
    assert_eq!(said.len(), 1, "said once: {said:?}");
    // The record nobody received: the drop warning names the handshake.
    write(&mut w, &report, 1);
    let said = heartbeat_until(&mut w, &report, "dropped 1 record");
    assert!(
        said[0].contains("(a subscriber is there, but the handshake with it failed: cannot talk"),
        "{said:?}"
    );
    w.finish(&report);

    // Bind mode: Zeek is the CURVE server, the subscriber was given
    // another server key.
    let secret = secret_file("handshake-zeek.key", &zeek.secret, 0o600);
    let endpoint = format!("tcp://127.0.0.1:{}", free_port());
    let report = Collected::default();
    let mut w = writer(
        &report,
        &[
            ("endpoint", endpoint.clone()),
            ("bind", "T".into()),
            ("zmq_linger", "0".into()),
            ("wait_for_subscribers", "0".into()),
            ("curve_secret_key_file", secret.display().to_string()),
        ],
    );
    assert!(w.is_active(), "{:?}", report.take());
    let _wrong = curve_client_sub(&endpoint, other.public, &client);
    heartbeat_until(
        &mut w,
        &report,
        &format!(
            "CURVE handshake failed: cannot talk to a subscriber connecting to {endpoint}: the \
             CURVE keys do not match: the subscriber was given another server key than this \
             end's public key"
        ),
    );
    w.finish(&report);
}

/// Asserts that `opts` give exactly one error, an inactive writer (whose
/// totals at finish say it never started), and no `secret` in any message.
fn fails_closed(opts: &[(&str, String)], why: &str, secret: &str) {
    let sub = Subscriber::bind("tcp://127.0.0.1:*");
    let report = Collected::default();
    let mut all = vec![("endpoint", sub.endpoint.clone())];
    all.extend(opts.iter().cloned());
    let mut w = writer(&report, &all);
    assert!(!w.is_active(), "{why}: writer active");
    write(&mut w, &report, 1);
    assert!(sub.nothing_more_within(200));
    w.finish(&report);
    let msgs = report.take();
    assert_eq!(msgs.len(), 2, "{why}: {msgs:?}");
    assert_eq!(msgs[0].0, Level::Error);
    assert!(msgs[0].1.contains(why), "{why}: {msgs:?}");
    assert_eq!(
        msgs[1],
        (
            Level::Info,
            "published 0 of 1 record, dropped 1 (the writer never started: see the error at its \
             start)"
                .to_string()
        ),
        "{why}"
    );
    assert!(
        !secret.is_empty() && !msgs.iter().any(|(_, m)| m.contains(secret)),
        "secret shown: {msgs:?}"
    );
}

#[test]
fn misconfigurations_fail_closed_without_showing_secrets() {
    let zeek = pair();
    let secret_z85 = to_z85(&zeek.secret);
    let public_z85 = to_z85(&zeek.public);
    let good_file = secret_file("good.key", &zeek.secret, 0o600);
    let open_file = secret_file("open.key", &zeek.secret, 0o644);
    let server = to_z85(&pair().public);
    let s = || secret_z85.clone();
    fails_closed(
        &[("curve_server_public_key", "not-a-key".into())],
        "curve_server_public_key: a key is 40 Z85 characters",
        &secret_z85,
    );
    fails_closed(
        &[("curve_server_public_key", format!("{}~", &server[..39]))],
        "outside the Z85 alphabet",
        &secret_z85,
    );
    fails_closed(
        &[
            ("curve_server_public_key", server.clone()),
            ("curve_secret_key_file", open_file.display().to_string()),
        ],
        "readable by group or others",
        &secret_z85,
    );
    fails_closed(
        &[
            ("curve_server_public_key", server.clone()),
            ("curve_secret_key_file", "/nonexistent/zeek.key".into()),
        ],
        "cannot read secret key file /nonexistent/zeek.key",
        &secret_z85,
    );
    fails_closed(
        &[
            ("curve_server_public_key", server.clone()),
            ("curve_secret_key", format!("{}x", s())),
        ],
        "curve_secret_key: a key is 40 Z85 characters",
        &secret_z85,
    );
    fails_closed(
        &[
            ("curve_server_public_key", server.clone()),
            ("curve_secret_key_file", good_file.display().to_string()),
            ("curve_public_key", server.clone()),
        ],
        "does not belong to the secret key",
        &secret_z85,
    );
    fails_closed(
        &[("curve_secret_key_file", good_file.display().to_string())],
        "needs the subscriber's public key",
        &secret_z85,
    );
    fails_closed(
        &[
            ("bind", "T".into()),
            ("curve_public_key", public_z85.clone()),
        ],
        "no secret key",
        &secret_z85,
    );
    fails_closed(
        &[
            ("bind", "T".into()),
            ("curve_allowed_clients", server.clone()),
        ],
        "needs Zeek's secret key",
        &secret_z85,
    );
    // The keygen output is accepted as is.
    let name = dir().join("generated");
    let (k, _) = keys::write_keypair(&name, true).unwrap();
    assert!(keys::read_secret_key_file(&k).is_ok());
}

/// Forwards one TCP connection from a listener to `to`, keeping a copy of
/// what the connecting side sent. Returns the listening port and the copy.
fn sniffing_proxy(to: u16) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        let (client, _) = listener.accept().unwrap();
        let server = TcpStream::connect(("127.0.0.1", to)).unwrap();
        let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        let (mut s_read, mut c_write) = (server, client);
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            while let Ok(n) = s_read.read(&mut buf) {
                if n == 0 || c_write.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        });
        let mut buf = [0u8; 65536];
        while let Ok(n) = c_read.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen2.lock().unwrap().extend_from_slice(&buf[..n]);
            if s_write.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    (port, seen)
}

#[test]
fn the_wire_carries_no_plaintext() {
    let server = pair();
    let port = free_port();
    let sub = curve_server_sub(&format!("tcp://127.0.0.1:{port}"), &server);
    let (proxy, seen) = sniffing_proxy(port);
    let report = Collected::default();
    let mut w = writer(
        &report,
        &[
            ("endpoint", format!("tcp://127.0.0.1:{proxy}")),
            ("wait_for_subscribers", "10".into()),
            ("curve_server_public_key", to_z85(&server.public)),
        ],
    );
    const MARK: u64 = 987_654_321_987_654;
    for _ in 0..20 {
        write(&mut w, &report, MARK);
    }
    for _ in 0..20 {
        assert_eq!(number(&sub.recv()), MARK);
    }
    w.finish(&report);
    let seen = seen.lock().unwrap();
    assert!(seen.len() > 20 * 20, "only {} bytes seen", seen.len());
    let text = String::from_utf8_lossy(&seen);
    assert!(!text.contains(&MARK.to_string()) && !text.contains("{\"n\":"));
    assert!(!seen.windows(4).any(|w| w == b"conn"), "path in plain text");
}
