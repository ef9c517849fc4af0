//! Delivery: counted drops, the BLOCK policy, reconnects, bind mode and
//! drop reports, with real ZeroMQ peers on the other side.

mod common;

use common::{free_port, Mode, Setup, Subscriber};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zeek_zeromq_writer::dump::OwnedRecord;
use zeek_zeromq_writer::report::{Collected, Level};
use zeek_zeromq_writer::sequence;
use zeek_zeromq_writer::writer::Stats;
use zeek_zeromq_writer::{FieldSpec, Kind, Writer};

fn schema() -> Vec<FieldSpec> {
    vec![
        FieldSpec {
            name: "n".into(),
            kind: Kind::from_zeek_name("count"),
            sub: Kind::from_zeek_name(""),
            optional: false,
        },
        FieldSpec {
            name: "pad".into(),
            kind: Kind::from_zeek_name("string"),
            sub: Kind::from_zeek_name(""),
            optional: false,
        },
    ]
}

/// Record `n` with `pad` bytes of padding.
fn record(n: u64, pad: usize) -> OwnedRecord {
    OwnedRecord::from_values(&[
        json!({"t": "count", "v": n.to_string()}),
        json!({"t": "string", "v": "61".repeat(pad)}),
    ])
    .unwrap()
}

fn number(frames: &[Vec<u8>]) -> u64 {
    let j: serde_json::Value = serde_json::from_slice(&frames[1]).unwrap();
    j["n"].as_u64().unwrap()
}

fn writer(report: &Collected, path: &str, opts: &[(&str, &str)]) -> Writer {
    let mut all = vec![("wait_for_subscribers", "10"), ("zmq_linger", "-1")];
    all.extend_from_slice(opts);
    let mut w = Writer::new(
        all.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    w.init(report, path.as_bytes(), schema(), vec![]);
    assert!(w.is_active(), "{:?}", report.take());
    w
}

fn write(w: &mut Writer, report: &Collected, rec: &OwnedRecord) {
    // SAFETY: an OwnedRecord's string slots point at its own bytes.
    unsafe { w.write(report, &rec.slots) };
}

fn paused_subscriber() -> Subscriber {
    Subscriber::start(
        "tcp://127.0.0.1:*",
        Setup {
            mode: Mode::Bind,
            paused: true,
        },
    )
}

/// Receives until `want` messages arrived; returns their record numbers.
fn receive(sub: &Subscriber, want: u64) -> Vec<u64> {
    (0..want).map(|_| number(&sub.recv())).collect()
}

#[test]
fn drop_policy_counts_every_record_exactly() {
    let sub = paused_subscriber();
    let report = Collected::default();
    let mut w = writer(
        &report,
        "conn",
        &[("endpoint", &sub.endpoint), ("zmq_hwm", "10")],
    );
    const N: u64 = 3000;
    for n in 0..N {
        write(&mut w, &report, &record(n, 1000));
    }
    let s = w.stats();
    assert_eq!(s.written, N);
    assert_eq!(s.sent + s.dropped, N, "{s:?}");
    assert!(s.dropped_full > 0, "nothing was dropped: {s:?}");
    assert_eq!(s.dropped, s.dropped_full);
    sub.resume();
    // Everything sent arrives, in order, and nothing else.
    let got = receive(&sub, s.sent);
    assert!(got.windows(2).all(|p| p[0] < p[1]), "out of order");
    assert_eq!(got[0], 0);
    assert!(sub.nothing_more_within(300));
    w.heartbeat(&report);
    w.heartbeat(&report);
    w.finish(&report);
    // One warning at the first heartbeat after the drops began (the
    // interval is 1 min: none at the second), and the totals at the end.
    let msgs = report.take();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_eq!(msgs[0].0, Level::Warning);
    assert!(msgs[0].1.starts_with(&format!(
        "dropped {} records since the last report",
        s.dropped
    )));
    assert!(msgs[0].1.contains("LogZeroMQ::zmq_hwm = 10"));
    // Behind, not absent: the advice is BLOCK's, and nothing about subscribers.
    assert!(
        msgs[0]
            .1
            .contains("LogZeroMQ::overflow_policy = LogZeroMQ::BLOCK makes Zeek wait for room"),
        "{msgs:?}"
    );
    assert!(!msgs[0].1.contains("no subscriber"), "{msgs:?}");
    assert_eq!(msgs[1].0, Level::Info);
    assert!(
        msgs[1].1.contains(&format!(
            "published {} of {N} records, dropped {}",
            s.sent, s.dropped
        )),
        "{msgs:?}"
    );
}

#[test]
fn sequence_numbers_count_every_record_so_gaps_are_the_drops() {
    let sub = paused_subscriber();
    let report = Collected::default();
    let mut w = writer(
        &report,
        "conn",
        &[
            ("endpoint", &sub.endpoint),
            ("zmq_hwm", "10"),
            ("sequence_numbers", "T"),
        ],
    );
    // An unencodable record first: it has its number too (1).
    let short = OwnedRecord::from_values(&[json!({"t": "count", "v": "1"})]).unwrap();
    write(&mut w, &report, &short);
    // Then records 1 to N-1, numbered 2 to N, most of them dropped.
    const N: u64 = 3000;
    for n in 1..N {
        write(&mut w, &report, &record(n, 1000));
    }
    let sent = w.stats().sent;
    sub.resume();
    let mut got: Vec<Vec<Vec<u8>>> = (0..sent).map(|_| sub.recv()).collect();
    // Read up, the subscriber has room again: record N gets through and
    // closes the last gap.
    write(&mut w, &report, &record(N, 1));
    got.push(sub.recv());
    let s = w.stats();
    assert_eq!((s.written, s.sent), (N + 1, sent + 1), "{s:?}");
    assert_eq!(s.dropped_bad_record, 1, "{s:?}");
    assert!(s.dropped_full > 0, "nothing was dropped: {s:?}");
    let (mut last, mut missed, mut ids) = (0, 0, Vec::new());
    for m in &got {
        assert_eq!(m.len(), 3, "{m:?}");
        let (seq, id) = sequence::parse(&m[2]).expect("a sequence frame");
        assert_eq!(seq, number(m) + 1, "a record's number is its place");
        assert!(seq > last, "out of order");
        missed += seq - last - 1;
        last = seq;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    assert_eq!(ids.len(), 1, "one writer id");
    assert_eq!(last, N + 1);
    assert_eq!(missed, s.dropped, "the gaps are the drops: {s:?}");
    w.finish(&report);
    let msgs = report.take();
    let totals = &msgs.last().unwrap().1;
    assert!(
        totals.ends_with(&format!(
            "; sequence numbers 1 to {} of writer {:016x}",
            N + 1,
            ids[0]
        )),
        "{msgs:?}"
    );
}

/// A connected writer (hwm 10, sndbuf 64 KiB, linger 300 ms, BLOCK for at
/// most 1 s: every buffer on the way fills) writes 3000 records of about
/// 1 KB to a subscriber that reads nothing until the writer finished (its socket set up by `configure`, after the paused
/// subscriber's small buffers). Returns the writer's totals, the
/// telemetry's sent count at a heartbeat before `finish`, and the record
/// numbers the subscriber then receives.
fn stalled_until_finish(
    configure: impl FnOnce(&zmq::Socket) + Send + 'static,
) -> (Stats, u64, Vec<u64>) {
    let sub = Subscriber::start_with(
        "tcp://127.0.0.1:*",
        Setup {
            mode: Mode::Bind,
            paused: true,
        },
        configure,
    );
    let report = Collected::default();
    let mut w = writer(
        &report,
        "conn",
        &[
            ("endpoint", &sub.endpoint),
            ("zmq_hwm", "10"),
            ("zmq_linger", "300"),
            ("sndbuf", "65536"),
            ("overflow_policy", "LogZeroMQ::BLOCK"),
            ("block_timeout", "1"),
        ],
    );
    const N: u64 = 3000;
    for n in 0..N {
        write(&mut w, &report, &record(n, 1000));
    }
    w.heartbeat(&report);
    let counted = w.take_counts();
    w.finish(&report);
    let s = w.stats();
    assert_eq!(s.sent + s.dropped, N, "{s:?}");
    let totals = report.take().pop().unwrap().1;
    assert!(totals.contains(&format!("{} unsent when", s.dropped_unsent)));
    // The counters agree with the totals.
    let last = w.take_counts();
    assert_eq!(counted.sent + last.sent, s.sent);
    assert_eq!(counted.dropped + last.dropped, s.dropped);
    sub.resume();
    let mut got = Vec::new();
    while let Some(m) = sub.recv_within(1000) {
        got.push(number(&m));
    }
    assert!(got.windows(2).all(|p| p[0] < p[1]), "out of order");
    eprintln!(
        "sent {}, dropped {} ({} unsent or unacknowledged at finish), received {} after",
        s.sent,
        s.dropped,
        s.dropped_unsent,
        got.len()
    );
    (s, counted.sent, got)
}

#[test]
fn records_the_subscriber_never_acknowledged_count_as_dropped_at_finish() {
    // The subscriber's kernel acknowledges at most its receive buffer (4 KiB
    // asked, 8 KiB given); its libzmq takes a batch of 8 KiB from it and
    // queues 1 message. The writer's kernel holds up to 128 KiB (twice
    // `sndbuf`), and libzmq 10 messages: those count as dropped.
    let (s, counted_sent, got) = stalled_until_finish(|_| {});
    assert!(s.sent <= 20, "{s:?}");
    assert!(s.dropped_unsent >= 10 + 50, "{s:?}");
    // The telemetry did not count them as sent either.
    assert!(counted_sent <= 20, "{counted_sent}");
    // What was counted as sent arrives once the subscriber reads again,
    // but for what libzmq's batch buffer held (8 KiB, about 8 records),
    // which counts as sent. So may what was not: the kernel goes on
    // sending after the socket closed.
    let received = got.len() as u64;
    assert!(
        received + 8 >= s.sent,
        "sent {} but received {received}",
        s.sent
    );
    assert!(received <= s.sent + s.dropped_unsent);
}

#[test]
fn a_stalled_subscriber_holds_its_queue_and_receive_buffer() {
    // What counts as sent to a subscriber that never reads again is what
    // it took: its own ZMQ_RCVHWM messages (1000) and what its kernel's
    // receive buffer holds: 256 KiB asked, which Linux doubles, about 500
    // of these records (unset, Linux grows it while the subscriber's libzmq
    // reads, up to `net.ipv4.tcp_rmem`'s maximum).
    let (s, _, got) = stalled_until_finish(|sock| {
        sock.set_rcvhwm(1000).unwrap();
        sock.set_rcvbuf(256 * 1024).unwrap();
    });
    assert!((1000..=1000 + 530).contains(&s.sent), "{s:?}");
    let received = got.len() as u64;
    assert!(
        received + 8 >= s.sent && received <= s.sent + s.dropped_unsent,
        "sent {} but received {received}",
        s.sent
    );
}

#[test]
fn a_cut_connection_drops_what_it_held_unacknowledged() {
    // A subscriber that reads nothing, not even heartbeats: the writer
    // cuts it after heartbeat_timeout (1 s), and what its kernel held for
    // it, as of the last heartbeat's reading, is lost with the connection.
    let sub = paused_subscriber();
    let report = Collected::default();
    let mut w = writer(
        &report,
        "conn",
        &[
            ("endpoint", &sub.endpoint),
            ("zmq_hwm", "10"),
            ("zmq_linger", "0"),
            ("sndbuf", "65536"),
            ("heartbeat_interval", "0.2"),
            ("heartbeat_timeout", "1"),
        ],
    );
    for n in 0..3000 {
        write(&mut w, &report, &record(n, 1000));
    }
    w.heartbeat(&report);
    let counted = w.take_counts();
    let held = w.stats().sent - counted.sent;
    assert!(held > 50, "the kernel held {held} records");
    let deadline = Instant::now() + Duration::from_secs(10);
    while w.stats().dropped_lost == 0 {
        assert!(Instant::now() < deadline, "never cut: {:?}", w.stats());
        std::thread::sleep(Duration::from_millis(100));
        w.heartbeat(&report);
    }
    let s = w.stats();
    // libzmq's queue (10 records) is kept for the next connection.
    assert!(
        (held - 10..=held).contains(&s.dropped_lost),
        "{held} held, {s:?}"
    );
    assert_eq!(s.sent + s.dropped, s.written, "{s:?}");
    let later = w.take_counts();
    w.finish(&report);
    let last = w.take_counts();
    let s = w.stats();
    assert_eq!(counted.sent + later.sent + last.sent, s.sent);
    assert_eq!(counted.dropped + later.dropped + last.dropped, s.dropped);
    let totals = report.take().pop().unwrap().1;
    assert!(
        totals.contains(&format!("{} lost with the connection", s.dropped_lost)),
        "{totals}"
    );
}

#[test]
fn drop_reports_come_once_per_interval() {
    let sub = paused_subscriber();
    let report = Collected::default();
    let mut w = writer(
        &report,
        "conn",
        &[
            ("endpoint", &sub.endpoint),
            ("zmq_hwm", "10"),
            ("drop_report_interval", "0.2"),
        ],
    );
    let rec = record(0, 1000);
    let start = Instant::now();
    let mut warnings = 0;
    while start.elapsed() < Duration::from_millis(1000) {
        write(&mut w, &report, &rec);
        // Zeek's heartbeats come about once a second; here after every
        // record, so that only the interval limits the reports.
        w.heartbeat(&report);
        warnings += report
            .take()
            .iter()
            .filter(|(l, _)| *l == Level::Warning)
            .count();
    }
    // Reports at 0, 0.2, 0.4, 0.6, 0.8 s (at most one per 0.2 s).
    assert!((2..=6).contains(&warnings), "{warnings} warnings");
    sub.resume();
    w.finish(&report);
}

#[test]
fn block_policy_loses_nothing_once_the_subscriber_resumes() {
    let sub = paused_subscriber();
    let report = Arc::new(Collected::default());
    let mut w = writer(
        &report,
        "conn",
        &[
            ("endpoint", &sub.endpoint),
            ("zmq_hwm", "10"),
            ("overflow_policy", "LogZeroMQ::BLOCK"),
        ],
    );
    const N: u64 = 3000;
    let progress = Arc::new(AtomicU64::new(0));
    let (p2, r2) = (progress.clone(), report.clone());
    let writing = std::thread::spawn(move || {
        for n in 0..N {
            write(&mut w, &r2, &record(n, 1000));
            p2.store(n + 1, Ordering::Relaxed);
        }
        w
    });
    // Wait until the writer is held back: no progress for 300 ms.
    let mut last = u64::MAX;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = progress.load(Ordering::Relaxed);
        if now == last || Instant::now() > deadline {
            break;
        }
        last = now;
        std::thread::sleep(Duration::from_millis(300));
    }
    let held_at = progress.load(Ordering::Relaxed);
    assert!(held_at < N, "the writer was never held back");
    sub.resume();
    let got = receive(&sub, N);
    assert_eq!(got, (0..N).collect::<Vec<_>>());
    let mut w = writing.join().unwrap();
    let s = w.stats();
    assert_eq!((s.sent, s.dropped), (N, 0), "{s:?}");
    w.finish(&*report);
    assert!(report.take().is_empty());
}

#[test]
fn block_timeout_bounds_the_wait() {
    let sub = paused_subscriber();
    let report = Collected::default();
    let mut w = writer(
        &report,
        "conn",
        &[
            ("endpoint", &sub.endpoint),
            ("zmq_hwm", "10"),
            ("overflow_policy", "LogZeroMQ::BLOCK"),
            ("block_timeout", "0.05"),
            ("zmq_linger", "0"),
        ],
    );
    let rec = record(1, 10_000);
    // The first record that finds no room waits about block_timeout, then
    // is dropped.
    let fill_until_a_record_times_out = |w: &mut Writer| {
        let dropped = w.stats().dropped;
        for _ in 0..100_000 {
            let start = Instant::now();
            write(w, &report, &rec);
            if w.stats().dropped > dropped {
                return start.elapsed();
            }
        }
        panic!("never full");
    };
    let took = fill_until_a_record_times_out(&mut w);
    assert!(took >= Duration::from_millis(45), "{took:?}");
    assert!(took < Duration::from_millis(1000), "{took:?}");
    assert_eq!(w.stats().dropped, 1);
    // Until a record can be queued again, the next ones do not wait: a
    // stalled subscriber costs one block_timeout, not one per record.
    let start = Instant::now();
    for _ in 0..20 {
        write(&mut w, &report, &rec);
    }
    assert!(
        start.elapsed() < Duration::from_millis(45),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(w.stats().dropped, 21);
    // Once the subscriber reads and a record is queued, waiting is back.
    sub.resume();
    let sent = w.stats().sent;
    for _ in 0..100_000 {
        write(&mut w, &report, &rec);
        if w.stats().sent > sent {
            break;
        }
    }
    assert!(w.stats().sent > sent, "nothing queued after resume");
    sub.pause();
    let took = fill_until_a_record_times_out(&mut w);
    assert!(took >= Duration::from_millis(45), "{took:?}");
    w.finish(&report);
}

#[test]
fn no_subscriber_is_a_counted_drop() {
    let port = free_port();
    let report = Collected::default();
    let mut w = Writer::new(vec![
        ("endpoint".to_string(), format!("tcp://127.0.0.1:{port}")),
        // Nobody listens: waiting would only make the test slower.
        ("wait_for_subscribers".to_string(), "0".to_string()),
    ]);
    w.init(&report, b"conn", schema(), vec![]);
    for n in 0..5 {
        write(&mut w, &report, &record(n, 1));
    }
    let s = w.stats();
    assert_eq!((s.sent, s.dropped_no_subscriber), (0, 5), "{s:?}");
    assert!(report.take().is_empty(), "reported outside a heartbeat");
    w.heartbeat(&report);
    let msgs = report.take();
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(
        msgs[0].1.starts_with(&format!(
            "dropped 5 records since the last report (5 of 5 records so far): 5 with no \
             subscriber of this path at tcp://127.0.0.1:{port} (is a subscriber bound to it?"
        )),
        "{msgs:?}"
    );
    // Absent, not behind: the advice is about subscribers, and says that
    // BLOCK does not help.
    assert!(
        msgs[0]
            .1
            .contains("LogZeroMQ::wait_for_subscribers, now 0.0 secs")
            && msgs[0]
                .1
                .ends_with("LogZeroMQ::BLOCK does not wait for subscribers)"),
        "{msgs:?}"
    );
    assert!(!msgs[0].1.contains("zmq_hwm"), "{msgs:?}");
    w.finish(&report);
}

#[test]
fn a_restarted_subscriber_gets_what_was_queued_and_everything_after() {
    let port = free_port();
    let endpoint = format!("tcp://127.0.0.1:{port}");
    let sub = Subscriber::bind(&endpoint);
    let report = Collected::default();
    const HWM: u64 = 50;
    let mut w = writer(
        &report,
        "conn",
        &[("endpoint", &endpoint), ("zmq_hwm", &HWM.to_string())],
    );
    // Before: each record delivered.
    for n in 0..100 {
        write(&mut w, &report, &record(n, 100));
        let f = sub.recv_within(3000);
        assert!(
            f.is_some(),
            "record {n} lost: {:?} {:?}",
            w.stats(),
            report.take()
        );
        assert_eq!(number(&f.unwrap()), n);
    }
    drop(sub);
    common::wait_until_no_connection_to(port);
    // During: queued up to the high-water mark, the rest dropped (counted).
    for n in 100..400 {
        write(&mut w, &report, &record(n, 100));
    }
    let during = w.stats();
    let queued = during.sent - 100;
    assert_eq!(during.sent + during.dropped, 400);
    assert!(queued > 0 && queued <= HWM, "{during:?}");
    assert_eq!(during.dropped, during.dropped_full, "{during:?}");
    // After: a new subscriber binds the same endpoint and the writer
    // reconnects by itself. What was queued arrives first, in order...
    let sub = Subscriber::bind(&endpoint);
    let got: Vec<u64> = (0..queued)
        .map(|i| {
            let f = sub.recv_within(10_000);
            assert!(
                f.is_some(),
                "queued record {i} of {queued} lost: {during:?}"
            );
            number(&f.unwrap())
        })
        .collect();
    assert_eq!(got, (100..100 + queued).collect::<Vec<_>>());
    // ... and every record written after it.
    for n in 400..500 {
        write(&mut w, &report, &record(n, 100));
        assert_eq!(number(&sub.recv()), n);
    }
    let s = w.stats();
    assert_eq!((s.written, s.sent + s.dropped), (500, 500));
    assert_eq!(s.dropped, during.dropped);
    w.finish(&report);
}

fn bind_mode_serves_two_subscribers(host: &str) {
    let port = free_port();
    let bind = format!("tcp://{host}:{port}");
    let subs = [Subscriber::connect(&bind), Subscriber::connect(&bind)];
    let report = Collected::default();
    let opts = [("endpoint", bind.as_str()), ("bind", "T")];
    let mut writers: Vec<Writer> = ["a", "b", "c"]
        .iter()
        .map(|p| writer(&report, p, &opts))
        .collect();
    // Both subscribers connect and subscribe on their own schedule: send
    // probes on "a" until each has received one, then the real records.
    let probe = record(u64::MAX, 0);
    let mut seen = [false, false];
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen != [true, true] {
        assert!(Instant::now() < deadline, "subscribers never connected");
        write(&mut writers[0], &report, &probe);
        for (i, s) in subs.iter().enumerate() {
            while s.recv_within(5).is_some() {
                seen[i] = true;
            }
        }
    }
    for sub in &subs {
        while sub.recv_within(100).is_some() {}
    }
    for n in 0..300u64 {
        let i = (n % 3) as usize;
        write(&mut writers[i], &report, &record(n, 10));
    }
    for sub in &subs {
        let got: Vec<(Vec<u8>, u64)> = (0..300)
            .map(|_| {
                let f = sub.recv();
                (f[0].clone(), number(&f))
            })
            .collect();
        for (n, (path, num)) in got.iter().enumerate() {
            assert_eq!(*num, n as u64);
            assert_eq!(path, [b"a", b"b", b"c"][n % 3]);
        }
        assert!(sub.nothing_more_within(100));
    }
    for w in &mut writers {
        w.finish(&report);
    }
    assert!(report.take().iter().all(|(l, _)| *l != Level::Error));
}

#[test]
fn bind_mode_three_writers_one_endpoint_two_subscribers() {
    bind_mode_serves_two_subscribers("127.0.0.1");
}

#[test]
fn bind_mode_ipv6_loopback() {
    bind_mode_serves_two_subscribers("[::1]");
}

#[test]
fn bind_mode_endpoint_is_released_after_the_last_writer() {
    let port = free_port();
    let bind = format!("tcp://127.0.0.1:{port}");
    let report = Collected::default();
    let opts = [
        ("endpoint", bind.as_str()),
        ("bind", "T"),
        ("zmq_linger", "0"),
        ("wait_for_subscribers", "0"),
    ];
    // The second round binds again: the first round's socket was closed.
    for _ in 0..2 {
        let mut a = writer(&report, "a", &opts);
        let mut b = writer(&report, "b", &opts);
        a.finish(&report);
        b.finish(&report);
    }
    assert!(report.take().is_empty());
}

#[test]
fn bind_conflict_is_one_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let report = Collected::default();
    let mut w = Writer::new(vec![
        ("endpoint".into(), format!("tcp://127.0.0.1:{port}")),
        ("bind".into(), "T".into()),
    ]);
    w.init(&report, b"conn", schema(), vec![]);
    assert!(!w.is_active());
    let msgs = report.take();
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(msgs[0].1.contains("cannot bind"), "{msgs:?}");
}

/// Sends records `from..to`, each with its own length, so that a frame
/// reused while libzmq still held it would show up as a wrong message.
fn write_distinct(w: &mut Writer, report: &Collected, from: u64, to: u64) {
    for n in from..to {
        write(w, report, &record(n, (n % 97) as usize));
    }
}

/// Receives `from..to` (as `write_distinct` sent them) and checks every
/// byte of every message.
fn receive_distinct(sub: &Subscriber, path: &[u8], from: u64, to: u64) {
    for n in from..to {
        let f = sub.recv();
        assert_eq!(f[0], path);
        let want = format!(r#"{{"n":{n},"pad":"{}"}}"#, "a".repeat((n % 97) as usize));
        assert_eq!(String::from_utf8_lossy(&f[1]), want, "message {n}");
    }
}

#[test]
fn queued_records_keep_their_bytes_until_sent() {
    // The JSON frames go to libzmq without a copy; while the subscriber
    // reads nothing they stay queued, and the writer must not reuse them.
    let sub = paused_subscriber();
    let report = Collected::default();
    let mut w = writer(
        &report,
        "conn",
        &[("endpoint", sub.endpoint.as_str()), ("zmq_hwm", "0")],
    );
    write_distinct(&mut w, &report, 0, 20_000);
    assert_eq!(w.stats().sent, 20_000);
    sub.resume();
    receive_distinct(&sub, b"conn", 0, 20_000);
    w.finish(&report);
    assert!(sub.nothing_more_within(100));
    assert!(report.take().is_empty());
}

#[test]
fn bind_mode_records_queued_by_a_finished_writer_arrive_intact() {
    // In bind mode the socket outlives a writer that finished: its frames
    // still queued come back to a pool that is gone.
    let port = free_port();
    let bind = format!("tcp://127.0.0.1:{port}");
    let sub = Subscriber::start(
        &bind,
        Setup {
            mode: Mode::Connect,
            paused: true,
        },
    );
    let report = Collected::default();
    // The kernel's own send buffer size (sndbuf 0), which holds all of
    // goes's 330 KB: with linger -1 its finish waits until its frames are
    // written out, and with the default 128 KiB the paused subscriber would
    // hold that up until the heartbeat cut it.
    let opts = [
        ("endpoint", bind.as_str()),
        ("bind", "T"),
        ("zmq_hwm", "0"),
        ("sndbuf", "0"),
    ];
    let mut stays = writer(&report, "stays", &opts);
    let mut goes = writer(&report, "goes", &opts);
    write_distinct(&mut goes, &report, 0, 5_000);
    goes.finish(&report);
    drop(goes);
    write_distinct(&mut stays, &report, 5_000, 6_000);
    sub.resume();
    receive_distinct(&sub, b"goes", 0, 5_000);
    receive_distinct(&sub, b"stays", 5_000, 6_000);
    stays.finish(&report);
    assert!(report.take().is_empty());
}

/// A bound writer with a live and a stalled subscriber, both connected
/// and subscribed (probes on the writer's path until each got one); the
/// stalled one with buffers as small as they go, so that it fills up soon.
fn bound_with_live_and_stalled(
    report: &Collected,
    opts: &[(&str, &str)],
) -> (Writer, Subscriber, Subscriber) {
    let port = free_port();
    let bind = format!("tcp://127.0.0.1:{port}");
    let live = Subscriber::connect(&bind);
    let stalled = Subscriber::start(
        &bind,
        Setup {
            mode: Mode::Connect,
            paused: true,
        },
    );
    stalled.resume();
    // The stalled subscriber must not be disconnected for answering no
    // heartbeat while it is paused (the heartbeat test is on its own).
    let mut all = vec![
        ("endpoint", bind.as_str()),
        ("bind", "T"),
        ("heartbeat_timeout", "600"),
    ];
    all.extend_from_slice(opts);
    let mut w = writer(report, "conn", &all);
    let probe = record(u64::MAX, 0);
    let mut seen = [false, false];
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen != [true, true] {
        assert!(Instant::now() < deadline, "subscribers never connected");
        write(&mut w, report, &probe);
        for (i, s) in [&live, &stalled].iter().enumerate() {
            while s.recv_within(5).is_some() {
                seen[i] = true;
            }
        }
    }
    for s in [&live, &stalled] {
        while s.recv_within(100).is_some() {}
    }
    stalled.pause();
    (w, live, stalled)
}

/// Writes records `0..n` of 10 KB, waiting for `live` to have every one of
/// each batch of 100 before the next (so that, with the default `zmq_hwm`
/// of 1000, it never falls behind itself: libzmq learns what a subscriber
/// read in steps of up to half the high-water mark); returns how long the
/// writes took.
fn write_paced(w: &mut Writer, report: &Collected, live: &Subscriber, n: u64) -> Duration {
    let mut took = Duration::ZERO;
    for batch in (0..n).collect::<Vec<_>>().chunks(100) {
        let start = Instant::now();
        for &i in batch {
            write(w, report, &record(i, 10_000));
        }
        took += start.elapsed();
        for &i in batch {
            assert_eq!(
                number(&live.recv()),
                i,
                "the live subscriber missed records"
            );
        }
    }
    took
}

#[test]
fn bind_mode_a_stalled_subscriber_does_not_hold_back_the_live_one() {
    let report = Collected::default();
    let (mut w, live, stalled) = bound_with_live_and_stalled(&report, &[]);
    let before = w.stats();
    const N: u64 = 3000;
    write_paced(&mut w, &report, &live, N);
    let s = w.stats().since(&before);
    assert_eq!(s.written, N);
    assert!(
        s.dropped_full > 0,
        "the stalled subscriber never filled up: {s:?}"
    );
    assert_eq!((s.sent + s.dropped_full, s.dropped), (N, s.dropped_full));
    // The stalled subscriber missed exactly the records counted dropped: it
    // gets the others once it reads.
    stalled.resume();
    let got: Vec<u64> = (0..s.sent).map(|_| number(&stalled.recv())).collect();
    assert!(got.windows(2).all(|p| p[0] < p[1]), "out of order");
    assert!(stalled.nothing_more_within(300));
    w.finish(&report);
    assert_eq!(w.stats().dropped_unsent, 0);
}

#[test]
fn bind_mode_block_waits_once_for_a_stalled_subscriber() {
    let report = Collected::default();
    let (mut w, live, stalled) = bound_with_live_and_stalled(
        &report,
        &[
            ("overflow_policy", "LogZeroMQ::BLOCK"),
            ("block_timeout", "0.3"),
        ],
    );
    let before = w.stats();
    const N: u64 = 3000;
    let took = write_paced(&mut w, &report, &live, N);
    let s = w.stats().since(&before);
    assert!(
        s.dropped_full > 0,
        "the stalled subscriber never filled up: {s:?}"
    );
    // One wait of block_timeout, not one per record the stalled one missed.
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?} for {s:?}");
    stalled.resume();
    for _ in 0..s.sent {
        stalled.recv();
    }
    assert!(stalled.nothing_more_within(300));
    w.finish(&report);
}

#[test]
fn linger_expiry_counts_what_is_still_queued_as_dropped() {
    let sub = paused_subscriber();
    let report = Collected::default();
    let mut w = writer(
        &report,
        "conn",
        &[
            ("endpoint", &sub.endpoint),
            ("zmq_hwm", "50"),
            ("zmq_linger", "200"),
        ],
    );
    for n in 0..2000 {
        write(&mut w, &report, &record(n, 10_000));
    }
    let during = w.stats();
    assert!(during.dropped_full > 0, "{during:?}");
    let start = Instant::now();
    w.finish(&report);
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(190), "{took:?}");
    assert!(took < Duration::from_millis(2000), "{took:?}");
    let s = w.stats();
    assert!(s.dropped_unsent > 0, "{s:?}");
    assert_eq!(s.sent + s.dropped, s.written, "{s:?}");
    assert_eq!(s.sent, during.sent - s.dropped_unsent);
    // What counts as sent had reached the subscriber's kernel: it gets
    // that. Perhaps more: libzmq gives a message back only when it fetches
    // the next one, so the last one written before the buffers filled can
    // still count as held (see `Publisher::close`); and what the writer's
    // kernel held unacknowledged counts as dropped, but the kernel goes on
    // sending it after the socket closed: at most twice `sndbuf` (256 KiB,
    // 26 of these records).
    sub.resume();
    for _ in 0..s.sent {
        sub.recv();
    }
    let extra = std::iter::from_fn(|| sub.recv_within(300)).count();
    assert!(extra <= 1 + 26, "{extra} more than counted as sent");
    let msgs = report.take();
    assert!(
        msgs.iter().any(|(l, m)| *l == Level::Info
            && m.contains(&format!(
                "{} unsent when the linger time ran out",
                s.dropped_unsent
            ))),
        "{msgs:?}"
    );
    // The telemetry counted each record once, as sent or as dropped.
    let c = w.take_counts();
    assert_eq!((c.sent, c.dropped), (s.sent, s.dropped));
}

#[test]
fn bind_mode_writers_with_other_socket_options_are_told_which_apply() {
    let port = free_port();
    let bind = format!("tcp://127.0.0.1:{port}");
    let report = Collected::default();
    let base = [
        ("endpoint", bind.as_str()),
        ("bind", "T"),
        ("wait_for_subscribers", "0"),
        ("zmq_linger", "0"),
    ];
    let mut first = writer(&report, "a", &[&base[..], &[("zmq_hwm", "10")]].concat());
    assert!(report.take().is_empty());
    let mut second = writer(&report, "b", &[&base[..], &[("zmq_hwm", "500")]].concat());
    let msgs = report.take();
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(msgs[0].0, Level::Warning);
    assert!(
        msgs[0]
            .1
            .contains(&format!("\"{bind}\" is bound by another writer"))
            && msgs[0].1.contains("zmq_hwm = 10 (not this writer's 500)"),
        "{msgs:?}"
    );
    // The same options: nothing to say.
    let mut third = writer(&report, "c", &[&base[..], &[("zmq_hwm", "10")]].concat());
    assert!(report.take().is_empty());
    for w in [&mut first, &mut second, &mut third] {
        w.finish(&report);
    }
}

/// Not a test of its own, but the child process of
/// `stopped_subscriber_is_disconnected`
/// (without `ZMQ_TEST_SUBSCRIBE_TO` it does nothing): a subscriber in a
/// process of its own, as on another host, that reads everything.
#[test]
fn child_subscriber() {
    let Ok(endpoint) = std::env::var("ZMQ_TEST_SUBSCRIBE_TO") else {
        return;
    };
    let ctx = zmq::Context::new();
    let sock = ctx.socket(zmq::SUB).unwrap();
    sock.set_subscribe(b"").unwrap();
    sock.connect(&endpoint).unwrap();
    while sock.recv_multipart(0).is_ok() {}
}

/// A child process, killed when this goes, whatever the test's outcome.
struct Child(std::process::Child);

impl Child {
    fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill")
            .args([sig, &self.0.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} failed");
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A subscriber in a child process, stopped (SIGSTOP) while records flow,
/// is disconnected about `heartbeat_timeout` (1 s) later, with PINGs every
/// `heartbeat_interval` or (interval 0) without: the TCP user timeout.
fn stopped_subscriber_is_disconnected(heartbeat_interval: &str) {
    let port = free_port();
    let bind = format!("tcp://127.0.0.1:{port}");
    let child = Child(
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_subscriber", "--test-threads=1"])
            .env("ZMQ_TEST_SUBSCRIBE_TO", &bind)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let report = Collected::default();
    // init waits (wait_for_subscribers) until the child has subscribed.
    let mut w = writer(
        &report,
        "conn",
        &[
            ("endpoint", &bind),
            ("bind", "T"),
            ("zmq_hwm", "100"),
            ("zmq_linger", "0"),
            ("heartbeat_interval", heartbeat_interval),
            ("heartbeat_timeout", "1"),
        ],
    );
    for n in 0..100 {
        write(&mut w, &report, &record(n, 100));
    }
    assert_eq!(w.stats().sent, 100, "{:?}", w.stats());
    // The child stops, as a hung host would: its kernel keeps the
    // connection up, it reads nothing, and its buffers fill.
    child.signal("-STOP");
    let stopped = Instant::now();
    let mut n = 100;
    while w.stats().dropped_no_subscriber == 0 {
        assert!(
            stopped.elapsed() < Duration::from_secs(10),
            "not disconnected after 10 s: {:?}",
            w.stats()
        );
        write(&mut w, &report, &record(n, 10_000));
        n += 1;
    }
    let took = stopped.elapsed();
    drop(child);
    // Its buffers filled within moments; then 1 s without a byte read.
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    w.finish(&report);
}

#[test]
fn a_stopped_subscriber_is_disconnected_within_the_heartbeat_timeout() {
    stopped_subscriber_is_disconnected("0.2");
}

#[test]
fn a_stopped_subscriber_is_disconnected_without_pings_too() {
    stopped_subscriber_is_disconnected("0");
}

/// Writes 10 KB records in a thread of its own until `n` are written; the
/// count so far is in the returned counter.
fn write_in_thread(
    mut w: Writer,
    report: Arc<Collected>,
    n: u64,
) -> (Arc<AtomicU64>, std::thread::JoinHandle<Writer>) {
    let progress = Arc::new(AtomicU64::new(0));
    let p2 = progress.clone();
    let writing = std::thread::spawn(move || {
        let rec = record(1, 10_000);
        for i in 0..n {
            write(&mut w, &report, &rec);
            p2.store(i + 1, Ordering::Release);
        }
        w
    });
    (progress, writing)
}

/// Waits until `progress` stood still for 300 ms (the writer is held
/// back); fails after 20 s.
fn wait_until_held(progress: &AtomicU64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = u64::MAX;
    loop {
        let now = progress.load(Ordering::Acquire);
        if now == last {
            return now;
        }
        assert!(Instant::now() < deadline, "the writer was never held back");
        last = now;
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Joins the writing thread, which must end within `within`.
fn join_within(writing: std::thread::JoinHandle<Writer>, within: Duration) -> Writer {
    let deadline = Instant::now() + within;
    while !writing.is_finished() {
        assert!(Instant::now() < deadline, "still writing after {within:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    writing.join().unwrap()
}

/// A `BLOCK` writer to `sub` with a 10-message high-water mark that waits
/// for room without a time limit (`block_timeout = 0`), with `zmq_linger`
/// `linger` (ms).
fn blocking_for_ever(report: &Collected, sub: &Subscriber, linger: &str) -> Writer {
    writer(
        report,
        "conn",
        &[
            ("endpoint", &sub.endpoint),
            ("zmq_hwm", "10"),
            ("overflow_policy", "LogZeroMQ::BLOCK"),
            ("block_timeout", "0"),
            ("zmq_linger", linger),
        ],
    )
}

#[test]
fn once_zeek_stops_a_blocked_writer_waits_no_longer_than_its_linger_time() {
    let sub = paused_subscriber();
    let report = Arc::new(Collected::default());
    // Without the stop, the writer would wait for ever.
    let w = blocking_for_ever(&report, &sub, "300");
    let stop = w.stop_signal();
    const N: u64 = 2000;
    let (progress, writing) = write_in_thread(w, report.clone(), N);
    let held_at = wait_until_held(&progress);
    assert!(held_at < N, "the writer was never held back");
    // Zeek's main thread stops the writer (OnSignalStop): the record
    // waiting now, and the ones Zeek queued after it, are done within the
    // linger time, the later ones without waiting.
    let stopped = Instant::now();
    stop.raise();
    let mut w = join_within(writing, Duration::from_secs(3));
    let took = stopped.elapsed();
    assert!(took >= Duration::from_millis(290), "{took:?}");
    let s = w.stats();
    assert_eq!((s.written, s.sent + s.dropped), (N, N), "{s:?}");
    assert!(s.dropped_shutdown >= N - held_at - 1, "{s:?}");
    // DoFinish: the linger time since the stop has passed, no more waiting
    // for what libzmq still holds.
    let start = Instant::now();
    w.finish(&*report);
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "{:?}",
        start.elapsed()
    );
    let s = w.stats();
    assert_eq!(s.sent + s.dropped, N, "{s:?}");
    let msgs = report.take();
    assert!(
        msgs.iter().any(|(l, m)| *l == Level::Info
            && m.contains(&format!("published {} of {N} records", s.sent))
            && m.contains(&format!("{} at shutdown", s.dropped_shutdown))),
        "{msgs:?}"
    );
    let c = w.take_counts();
    assert_eq!(c.sent + c.dropped, N, "{c:?}");
}

#[test]
fn a_killed_writer_stops_waiting_at_once_even_with_linger_forever() {
    let sub = paused_subscriber();
    let report = Arc::new(Collected::default());
    let w = blocking_for_ever(&report, &sub, "-1");
    let stop = w.stop_signal();
    let (progress, writing) = write_in_thread(w, report.clone(), 2000);
    wait_until_held(&progress);
    // With zmq_linger -1 a stop alone does not end the wait...
    stop.raise();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !writing.is_finished(),
        "the stop ended a wait of zmq_linger -1"
    );
    // ... a kill (Zeek's Kill, a second signal) does.
    stop.kill();
    let w = join_within(writing, Duration::from_secs(2));
    let s = w.stats();
    assert_eq!((s.written, s.sent + s.dropped), (2000, 2000), "{s:?}");
}

#[test]
fn a_stop_ends_the_wait_for_a_first_subscriber() {
    let port = free_port();
    let report = Arc::new(Collected::default());
    let mut w = Writer::new(vec![
        ("endpoint".to_string(), format!("tcp://127.0.0.1:{port}")),
        ("wait_for_subscribers".to_string(), "60".to_string()),
        ("zmq_linger".to_string(), "100".to_string()),
    ]);
    let stop = w.stop_signal();
    let r2 = report.clone();
    let start = Instant::now();
    let init = std::thread::spawn(move || {
        w.init(&*r2, b"conn", schema(), vec![]);
        w
    });
    std::thread::sleep(Duration::from_millis(200));
    stop.raise();
    let deadline = Instant::now() + Duration::from_secs(3);
    while !init.is_finished() {
        assert!(Instant::now() < deadline, "still waiting for a subscriber");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut w = init.join().unwrap();
    assert!(w.is_active());
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    write(&mut w, &report, &record(1, 1));
    assert_eq!(w.stats().dropped_no_subscriber, 1);
    w.finish(&*report);
}

/// A connected BLOCK writer whose subscriber hangs (its process reads
/// nothing; its ZeroMQ I/O thread runs): the heartbeat disconnects it every
/// `heartbeat_timeout`, the writer reconnects to it, the new connection
/// takes what fits in its buffers, and hangs again. The writer waits
/// `block_timeout` for it once, not once per reconnect.
#[test]
fn a_hung_subscriber_costs_one_block_timeout_across_reconnects() {
    let sub = paused_subscriber();
    let report = Collected::default();
    let mut w = writer(
        &report,
        "conn",
        &[
            ("endpoint", &sub.endpoint),
            ("zmq_hwm", "10"),
            ("zmq_linger", "0"),
            ("overflow_policy", "LogZeroMQ::BLOCK"),
            ("block_timeout", "1"),
            ("heartbeat_interval", "0.1"),
            ("heartbeat_timeout", "0.3"),
        ],
    );
    let rec = record(1, 10_000);
    // Fill the subscriber's buffers: the stall begins.
    let start = Instant::now();
    while w.stats().dropped == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "nothing dropped in 10 s: the writer waits across reconnects"
        );
        write(&mut w, &report, &rec);
    }
    let sent_at_first_stall = w.stats().sent;
    // Keep writing for 4 s: about ten reconnects. (A write that waited
    // took a good part of block_timeout; under load, one that did not may
    // take some milliseconds.)
    let mut waits = Vec::new();
    let writing = Instant::now();
    while writing.elapsed() < Duration::from_secs(4) {
        let t = Instant::now();
        write(&mut w, &report, &rec);
        let took = t.elapsed();
        if took > Duration::from_millis(100) {
            waits.push(took);
        }
    }
    let s = w.stats();
    // The reconnects took records (only a new connection has room).
    assert!(s.sent > sent_at_first_stall, "no reconnect: {s:?}");
    // The first stall's wait had spent the budget already.
    assert!(waits.is_empty(), "waited again: {waits:?}, {s:?}");
    w.finish(&report);
}
