//! The writer end to end with real ZeroMQ peers: a `Writer` driven through
//! the same methods the bridge calls for `DoInit`/`DoWrite`/`DoFinish`,
//! and SUB sockets over tcp:// and ipc:// on the other side.

mod common;

use common::{free_port, ipc_addr, Mode, Setup, Subscriber};
use serde_json::json;
use std::time::{Duration, Instant};
use zeek_zeromq_writer::dump::OwnedRecord;
use zeek_zeromq_writer::report::{Collected, Level};
use zeek_zeromq_writer::{FieldSpec, Kind, Writer};

fn field(name: &str, ty: &str, sub: &str) -> FieldSpec {
    FieldSpec {
        name: name.into(),
        kind: Kind::from_zeek_name(ty),
        sub: Kind::from_zeek_name(sub),
        optional: true,
    }
}

fn schema() -> Vec<FieldSpec> {
    vec![
        field("ts", "time", ""),
        field("n", "count", ""),
        field("msg", "string", ""),
        field("tags", "table", "string"),
        field("v", "vector", "count"),
    ]
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Record number `n` of `schema()`, with a message of `msg` bytes.
fn record(n: u64, msg: &[u8]) -> OwnedRecord {
    OwnedRecord::from_values(&[
        json!({"t": "time", "v": format!("{:016x}", (1.7e9 + n as f64).to_bits())}),
        json!({"t": "count", "v": n.to_string()}),
        json!({"t": "string", "v": hex(msg)}),
        json!({"t": "table", "v": []}),
        json!({"t": "vector", "v": [{"t": "count", "v": "1"}, null, {"t": "count", "v": "3"}]}),
    ])
    .unwrap()
}

fn expected_json(n: u64, msg_json: &str) -> String {
    format!(
        r#"{{"ts":{}.0,"n":{n},"msg":"{msg_json}","tags":[],"v":[1,null,3]}}"#,
        1_700_000_000 + n
    )
}

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A writer initialized for `path`, connected to `endpoint`, holding its
/// first record until the subscription arrived.
fn writer(report: &Collected, path: &str, endpoint: &str, extra: &[(&str, &str)]) -> Writer {
    let mut w = Writer::new(kv(&[
        ("endpoint", endpoint),
        ("zmq_linger", "2000"),
        ("wait_for_subscribers", "10"),
    ]));
    w.init(report, path.as_bytes(), schema(), kv(extra));
    w
}

fn write(w: &mut Writer, report: &Collected, rec: &OwnedRecord) {
    // SAFETY: an OwnedRecord's string slots point at its own bytes.
    unsafe { w.write(report, &rec.slots) };
}

fn two_frames_in_order(addr: &str) {
    let sub = Subscriber::bind(addr);
    let report = Collected::default();
    let mut w = writer(&report, "conn", &sub.endpoint, &[]);
    assert!(w.is_active(), "{:?}", report.take());
    for n in 0..100 {
        write(&mut w, &report, &record(n, b"hello"));
    }
    for n in 0..100 {
        let frames = sub.recv();
        assert_eq!(frames.len(), 2, "message {n} has {} frames", frames.len());
        assert_eq!(frames[0], b"conn");
        assert_eq!(
            String::from_utf8_lossy(&frames[1]),
            expected_json(n, "hello")
        );
    }
    w.finish(&report);
    assert!(sub.nothing_more_within(100));
    assert!(report.take().is_empty());
    let s = w.stats();
    assert_eq!((s.written, s.sent, s.dropped), (100, 100, 0));
}

#[test]
fn tcp_two_frames_per_record_in_order() {
    two_frames_in_order("tcp://127.0.0.1:*");
}

#[test]
fn tcp_ipv6_loopback() {
    two_frames_in_order("tcp://[::1]:*");
}

#[test]
fn ipc_two_frames_per_record_in_order() {
    two_frames_in_order(&ipc_addr("order"));
}

#[test]
fn two_filters_reach_two_subscribers() {
    let sub1 = Subscriber::bind("tcp://127.0.0.1:*");
    let sub2 = Subscriber::bind(&ipc_addr("second"));
    let report = Collected::default();
    // The default filter uses the script endpoint; the second filter (path
    // renamed dns-2 by Zeek) overrides it through $config.
    let mut w1 = writer(&report, "dns", &sub1.endpoint, &[]);
    let mut w2 = writer(
        &report,
        "dns-2",
        "tcp://127.0.0.1:1",
        &[
            ("endpoint", &sub2.endpoint),
            ("json_timestamps", "JSON::TS_ISO8601"),
        ],
    );
    for n in 0..10 {
        write(&mut w1, &report, &record(n, b"a"));
        write(&mut w2, &report, &record(n, b"b"));
    }
    for n in 0..10 {
        let f1 = sub1.recv();
        assert_eq!(f1[0], b"dns");
        assert_eq!(String::from_utf8_lossy(&f1[1]), expected_json(n, "a"));
        let f2 = sub2.recv();
        assert_eq!(f2[0], b"dns-2");
        let j: serde_json::Value = serde_json::from_slice(&f2[1]).unwrap();
        assert_eq!(j["n"], n);
        assert_eq!(j["msg"], "b");
        assert!(j["ts"].as_str().unwrap().starts_with("2023-11-"), "{j}");
    }
    w1.finish(&report);
    w2.finish(&report);
    assert!(sub1.nothing_more_within(100) && sub2.nothing_more_within(100));
    assert!(report.take().is_empty());
}

#[test]
fn hundred_thousand_records_none_lost_with_hwm_0() {
    let sub = Subscriber::bind(&ipc_addr("bulk"));
    let report = Collected::default();
    let mut w = writer(&report, "conn", &sub.endpoint, &[("hwm", "0")]);
    const N: u64 = 100_000;
    let recs: Vec<OwnedRecord> = (0..16).map(|i| record(i, b"x")).collect();
    for n in 0..N {
        write(&mut w, &report, &recs[(n % 16) as usize]);
    }
    let mut got = 0u64;
    while got < N {
        let frames = sub.recv();
        assert_eq!(frames.len(), 2);
        let j: serde_json::Value = serde_json::from_slice(&frames[1]).unwrap();
        assert_eq!(j["n"], got % 16, "message {got} out of order");
        got += 1;
    }
    w.finish(&report);
    assert!(sub.nothing_more_within(100));
    assert_eq!(w.stats().sent, N);
    assert_eq!(w.stats().dropped, 0);
}

#[test]
fn large_records_and_arbitrary_bytes() {
    let sub = Subscriber::bind("tcp://127.0.0.1:*");
    let report = Collected::default();
    let mut w = writer(&report, "big", &sub.endpoint, &[]);
    let big = vec![b'a'; 3 << 20];
    write(&mut w, &report, &record(1, &big));
    write(&mut w, &report, &record(2, b"\x00\xff\"\\\n\xe2\x82\xac"));
    let f = sub.recv();
    assert_eq!(f[1].len(), expected_json(1, "").len() + big.len());
    assert_eq!(
        String::from_utf8_lossy(&sub.recv()[1]),
        expected_json(2, r#"\\x00\\xff\"\\\n\\xe2\\x82\\xac"#)
    );
    w.finish(&report);
}

#[test]
fn finish_returns_within_linger_when_messages_cannot_be_delivered() {
    // A subscriber that is connected and subscribed but reads nothing: what
    // does not fit into the socket buffers stays queued until linger expires.
    let sub = Subscriber::start(
        "tcp://127.0.0.1:*",
        Setup {
            mode: common::Mode::Bind,
            paused: true,
        },
    );
    let report = Collected::default();
    let mut w = writer(&report, "conn", &sub.endpoint, &[("linger", "500")]);
    let payload = vec![b'z'; 64 << 10];
    let rec = record(1, &payload);
    for _ in 0..300 {
        write(&mut w, &report, &rec);
    }
    assert!(w.stats().sent > 0, "{:?}", w.stats());
    let start = Instant::now();
    w.finish(&report);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(400),
        "did not wait for linger: {took:?}"
    );
    assert!(
        took < Duration::from_millis(1500),
        "waited past linger: {took:?}"
    );
}

#[test]
fn finish_is_immediate_when_everything_was_delivered() {
    let sub = Subscriber::bind("tcp://127.0.0.1:*");
    let report = Collected::default();
    let mut w = writer(&report, "conn", &sub.endpoint, &[("linger", "-1")]);
    write(&mut w, &report, &record(1, b"x"));
    assert_eq!(sub.recv().len(), 2);
    let start = Instant::now();
    w.finish(&report);
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn bad_endpoints_give_one_error_an_inactive_writer_and_its_totals() {
    for endpoint in [
        "localhost:12345",
        "tcp://",
        "foo://x",
        "tcp://no-such-host.invalid:5555",
    ] {
        let report = Collected::default();
        let mut w = Writer::new(kv(&[("endpoint", endpoint)]));
        w.init(&report, b"conn", schema(), vec![]);
        assert!(!w.is_active());
        write(&mut w, &report, &record(1, b"x"));
        let start = Instant::now();
        w.finish(&report);
        assert!(start.elapsed() < Duration::from_millis(100));
        let msgs = report.take();
        assert_eq!(msgs.len(), 2, "{endpoint}: {msgs:?}");
        assert_eq!(msgs[0].0, Level::Error);
        assert!(
            msgs[0].1.contains(&format!("bad endpoint \"{endpoint}\"")),
            "{msgs:?}"
        );
        // The totals: it never started.
        assert_eq!(msgs[1].0, Level::Info);
        assert!(
            msgs[1]
                .1
                .starts_with("published 0 of 1 record, dropped 1 (the writer never started"),
            "{msgs:?}"
        );
        assert_eq!(w.stats().dropped, 1);
    }
}

#[test]
fn bad_options_warn_and_fall_back() {
    let sub = Subscriber::bind("tcp://127.0.0.1:*");
    let report = Collected::default();
    let mut w = writer(
        &report,
        "conn",
        &sub.endpoint,
        &[("json_timestamps", "JSON::TS_WHATEVER")],
    );
    assert!(w.is_active());
    let msgs = report.take();
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(msgs[0].0, Level::Warning);
    assert!(msgs[0].1.contains("JSON::TS_WHATEVER"));
    write(&mut w, &report, &record(7, b"x"));
    // Fell back to the default: epoch timestamps.
    assert_eq!(
        String::from_utf8_lossy(&sub.recv()[1]),
        expected_json(7, "x")
    );
    w.finish(&report);
}

#[test]
fn an_unknown_config_key_stops_the_writer() {
    // The script-level endpoint has a subscriber; the filter's misspelt
    // "endpoint" would have sent its records there.
    let sub = Subscriber::bind("tcp://127.0.0.1:*");
    let report = Collected::default();
    let mut w = writer(
        &report,
        "conn",
        &sub.endpoint,
        &[("endpont", "tcp://127.0.0.1:1")],
    );
    assert!(!w.is_active());
    let msgs = report.take();
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(msgs[0].0, Level::Error);
    assert_eq!(
        msgs[0].1,
        format!(
            "unknown $config key \"endpont\" (did you mean \"endpoint\"?): not publishing \
             this log; without the key it would go to {} (LogZeroMQ::endpoint)",
            sub.endpoint
        )
    );
    write(&mut w, &report, &record(7, b"x"));
    let s = w.stats();
    assert_eq!((s.written, s.sent, s.dropped), (1, 0, 1), "{s:?}");
    assert!(
        sub.nothing_more_within(300),
        "a record reached the subscriber"
    );
    w.finish(&report);
}

#[test]
fn a_malformed_record_is_reported_once_and_counted() {
    let sub = Subscriber::bind("tcp://127.0.0.1:*");
    let report = Collected::default();
    let mut w = writer(&report, "conn", &sub.endpoint, &[]);
    let short = OwnedRecord::from_values(&[json!({"t": "count", "v": "1"})]).unwrap();
    write(&mut w, &report, &short);
    write(&mut w, &report, &short);
    write(&mut w, &report, &record(3, b"ok"));
    assert_eq!(
        String::from_utf8_lossy(&sub.recv()[1]),
        expected_json(3, "ok")
    );
    w.finish(&report);
    let msgs = report.take();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_eq!(msgs[0].0, Level::Error);
    assert!(msgs[0].1.contains("cannot encode"));
    assert_eq!(msgs[1].0, Level::Info);
    assert!(
        msgs[1].1.contains("published 1 of 3 records, dropped 2")
            && msgs[1].1.contains("2 unencodable"),
        "{msgs:?}"
    );
    assert_eq!(Kind::Count, Kind::from_zeek_name("count"));
}

#[test]
fn wait_for_subscribers_delivers_the_first_record() {
    // The subscriber is up before the writer starts; without the wait the
    // first records would be lost to the slow-joiner effect.
    for _ in 0..5 {
        let sub = Subscriber::bind("tcp://127.0.0.1:*");
        let report = Collected::default();
        let mut w = writer(&report, "first", &sub.endpoint, &[]);
        write(&mut w, &report, &record(0, b"first"));
        assert_eq!(
            String::from_utf8_lossy(&sub.recv()[1]),
            expected_json(0, "first")
        );
        w.finish(&report);
    }
}

#[test]
fn default_options_deliver_the_first_records() {
    // The subscriber is up before the writer starts, and the writer has
    // nothing but its endpoint: its first records are not lost to the
    // slow-joiner effect (wait_for_subscribers defaults to 5 s).
    for _ in 0..5 {
        let sub = Subscriber::bind("tcp://127.0.0.1:*");
        let report = Collected::default();
        let mut w = Writer::new(kv(&[("endpoint", &sub.endpoint)]));
        w.init(&report, b"conn", schema(), vec![]);
        for n in 0..50 {
            write(&mut w, &report, &record(n, b"early"));
        }
        for n in 0..50 {
            assert_eq!(
                String::from_utf8_lossy(&sub.recv()[1]),
                expected_json(n, "early")
            );
        }
        w.finish(&report);
        assert_eq!(w.stats().sent, 50);
    }
}

#[test]
fn connect_wait_ends_when_the_subscriber_wants_other_paths() {
    // The one peer of a connecting writer sends all its subscriptions at
    // once: when they arrive without "conn", waiting longer is pointless.
    let sub = Subscriber::start_with(
        "tcp://127.0.0.1:*",
        Setup {
            mode: Mode::Bind,
            paused: false,
        },
        |s| {
            s.set_unsubscribe(b"").unwrap();
            s.set_subscribe(b"dns").unwrap();
        },
    );
    let report = Collected::default();
    let start = Instant::now();
    let mut w = writer(&report, "conn", &sub.endpoint, &[]);
    let waited = start.elapsed();
    assert!(waited < Duration::from_secs(5), "init took {waited:?}");
    write(&mut w, &report, &record(0, b"unwanted"));
    w.finish(&report);
    let s = w.stats();
    assert_eq!((s.sent, s.dropped_no_subscriber), (0, 1));
}

#[test]
fn wait_for_subscribers_is_bounded_when_nobody_listens() {
    let port = free_port();
    let report = Collected::default();
    let mut w = Writer::new(kv(&[
        ("endpoint", &format!("tcp://127.0.0.1:{port}")),
        ("wait_for_subscribers", "0.3"),
    ]));
    let start = Instant::now();
    w.init(&report, b"conn", schema(), vec![]);
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "init took {waited:?}"
    );
    write(&mut w, &report, &record(0, b"lost"));
    w.finish(&report);
    assert_eq!(w.stats().dropped_no_subscriber, 1);
}

#[test]
fn finish_returns_within_linger_when_nobody_listens() {
    // A port nobody listens on, default linger (3 s): nothing was ever
    // subscribed, so nothing is queued and finish does not wait.
    let port = free_port();
    let report = Collected::default();
    let mut w = Writer::new(kv(&[
        ("endpoint", &format!("tcp://127.0.0.1:{port}")),
        ("wait_for_subscribers", "0"),
    ]));
    w.init(&report, b"conn", schema(), vec![]);
    assert!(w.is_active());
    for n in 0..10 {
        write(&mut w, &report, &record(n, b"lost"));
    }
    let start = Instant::now();
    w.finish(&report);
    assert!(
        start.elapsed() < Duration::from_millis(3000),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn zeek_7_writes_ts_millis_unsigned() {
    let sub = Subscriber::bind("tcp://127.0.0.1:*");
    let report = Collected::default();
    let mut w = Writer::new(kv(&[
        ("endpoint", &sub.endpoint),
        ("wait_for_subscribers", "10"),
        ("json_timestamps", "JSON::TS_MILLIS"),
    ]))
    .for_zeek_version(70011);
    w.init(&report, b"old", vec![field("ts", "time", "")], vec![]);
    let rec = OwnedRecord::from_values(&[
        json!({"t": "time", "v": format!("{:016x}", (-1.5f64).to_bits())}),
    ])
    .unwrap();
    write(&mut w, &report, &rec);
    assert_eq!(sub.recv()[1], br#"{"ts":18446744073709550116}"#);
    w.finish(&report);
}

#[test]
fn no_option_value_reaches_a_panic() {
    // What a user might type, or a script compute, for any option, as a
    // script option or in $config: each gives a warning or an error, never
    // a panic (which the bridge would report as an internal error).
    let long = "x".repeat(100_000);
    let long_host = format!("tcp://{}:1", "a".repeat(100_000));
    let values: &[&str] = &[
        "",
        " ",
        "\0",
        "a\0b",
        "-1",
        "-0",
        "0",
        "1e19",
        "1e300",
        "-1e19",
        "NaN",
        "nan",
        "inf",
        "-inf",
        "18446744073709551616",
        "9223372036854775808",
        "2147483648",
        "-2147483649",
        "1 day 1 day",
        "99999999999 days",
        "1e19 secs",
        "-1 secs",
        "5 fortnights",
        "sec",
        "1.5.5",
        "T\0",
        "LogZeroMQ::\0",
        "JSON::TS_\0",
        "tcp://a\0:1",
        "tcp://127.0.0.1:1\0",
        "ipc://\0",
        "tcp://*:99999",
        &long,
        &long_host,
        "ñ",
        "\u{202e}",
        "tcp://[::1",
        "tcp://[:1",
    ];
    let port = free_port();
    let base = vec![
        ("endpoint".to_string(), format!("tcp://127.0.0.1:{port}")),
        ("wait_for_subscribers".to_string(), "0".to_string()),
        ("zmq_linger".to_string(), "0".to_string()),
    ];
    let names: Vec<&str> = zeek_zeromq_writer::options::script_option_names().collect();
    assert!(names.len() > 10, "{names:?}");
    let mut tried = 0;
    for name in names.iter().copied().chain(["no_such_option", "\0"]) {
        for value in values {
            for as_config in [false, true] {
                let mut script = base.clone();
                let mut config = Vec::new();
                let pair = (name.to_string(), value.to_string());
                if as_config {
                    config.push(pair);
                } else {
                    script.push(pair);
                }
                let report = Collected::default();
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut w = Writer::new(script);
                    w.init(&report, b"conn", schema(), config);
                    write(&mut w, &report, &record(0, b"x"));
                    w.heartbeat(&report);
                    w.finish(&report);
                    w.stats()
                }));
                let stats = run.unwrap_or_else(|_| panic!("{name} = {value:?} panicked"));
                assert_eq!(stats.sent + stats.dropped, 1, "{name} = {value:?}");
                tried += 1;
            }
        }
    }
    assert!(tried > 1000, "{tried}");
}

#[test]
fn endpoints_with_a_nul_byte_are_refused() {
    for (endpoint, bind) in [("tcp://127.0.0.1:1\0", false), ("tcp://*:1\0", true)] {
        let report = Collected::default();
        let mut w = Writer::new(kv(&[
            ("endpoint", endpoint),
            ("bind", if bind { "T" } else { "F" }),
        ]));
        w.init(&report, b"conn", schema(), vec![]);
        assert!(!w.is_active());
        let msgs = report.take();
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert_eq!(msgs[0].0, Level::Error);
        assert!(msgs[0].1.contains("contains a NUL byte"), "{msgs:?}");
    }
}

#[test]
fn intervals_beyond_their_range_are_refused() {
    for (name, value) in [
        ("wait_for_subscribers", "1e19"),
        ("block_timeout", "1e19 secs"),
        ("drop_report_interval", "2 days"),
        ("heartbeat_interval", "2 hrs"),
        ("heartbeat_timeout", "-1"),
        ("zmq_connect_pause", "60001"),
    ] {
        let (_, warnings) = zeek_zeromq_writer::options::resolve(&kv(&[(name, value)]), &[]);
        assert_eq!(warnings.len(), 1, "{name} = {value}: {warnings:?}");
        assert!(
            warnings[0].contains(&format!("LogZeroMQ::{name} = \"{value}\" is not")),
            "{warnings:?}"
        );
    }
}
