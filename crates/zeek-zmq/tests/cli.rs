//! `zeek-zmq` end to end: the real binary, real sockets (ipc:// in a
//! temporary directory), real processes. Every wait is on a condition (a
//! line on a pipe, a stats count, a file's size) with a deadline.
//!
//! The corpus test replays every TSV and JSON log of `../shared/zeek-corpus`
//! (or `$ZEEK_CORPUS`) into `zeek-zmq sub --dir`: JSON logs must come out
//! byte for byte, TSV logs record by record as Zeek's JSON log of the same
//! record under the rule in `cli_support/compare.rs` (doubles, intervals and
//! times within the TSV's 6 decimals; everything else byte-identical). It
//! skips with a message where the corpus is absent, and fails then if
//! `REQUIRE_CORPUS` is set (CI sets it).

mod cli_support;

use cli_support::{compare, records_in, run, wait_until, Proc, TempDir, TestPub};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zeek_zeromq_writer::curve::{self, Security};
use zeek_zeromq_writer::keys;
use zeek_zeromq_writer::options::CurveOptions;
use zeek_zeromq_writer::FieldSpec;
use zeek_zmq::tsv::{Line, TsvParser, TsvRecord};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `replay -e ENDPOINT --quiet FILES...` to the end; asserts success.
fn replay(endpoint: &str, extra: &[&str], files: &[&Path]) -> cli_support::Finished {
    let mut args = vec!["replay", "-e", endpoint, "--quiet"];
    args.extend_from_slice(extra);
    args.extend(files.iter().map(|f| s(f)));
    let fin = run(&args, 120);
    fin.assert_success();
    fin
}

fn lines_of(p: &Path) -> usize {
    fs::read(p)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

/// A TSV log's path and schema, from its header.
fn tsv_schema(file: &Path) -> (String, Vec<FieldSpec>) {
    let text = fs::read(file).unwrap();
    let mut p = TsvParser::new();
    let mut rec = TsvRecord::default();
    for line in text.split(|&b| b == b'\n') {
        if line.first() != Some(&b'#') {
            break;
        }
        assert!(matches!(p.parse_line(line, &mut rec), Ok(Line::Header)));
    }
    (p.path().unwrap().to_string(), p.fields().to_vec())
}

/// Replays one corpus folder's JSON logs, then its TSV logs, each into a
/// fresh `sub --dir`; returns what differs, and how many JSON and TSV
/// records were compared.
fn check_corpus_case(case: &Path) -> (Vec<String>, usize, usize) {
    let mut problems = Vec::new();
    let mut tsv_records = 0;
    let mut json: Vec<PathBuf> = Vec::new();
    let mut tsv: Vec<PathBuf> = Vec::new();
    for e in fs::read_dir(case).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".json.log") {
            json.push(p);
        } else if name.ends_with(".log") {
            tsv.push(p);
        }
    }
    json.sort();
    tsv.sort();
    let name = case.file_name().unwrap().to_string_lossy().into_owned();

    // JSON logs: the output files equal the input files.
    let tmp = TempDir::new("corpus-json");
    let (ep, out) = (tmp.ipc("s"), tmp.join("out"));
    let sub = Proc::sub(&["-e", &ep, "--dir", s(&out)]);
    let refs: Vec<&Path> = json.iter().map(|p| p.as_path()).collect();
    let fin = replay(&ep, &[], &refs);
    let total: usize = json.iter().map(|p| lines_of(p)).sum();
    if !fin
        .stderr_text()
        .contains(&format!("{total} sent, 0 dropped"))
    {
        problems.push(format!("{name}: JSON replay: {}", fin.stderr_text()));
    }
    let expected: Vec<(PathBuf, PathBuf)> = json
        .iter()
        .map(|j| {
            let path = j
                .file_name()
                .unwrap()
                .to_string_lossy()
                .replace(".json.log", "");
            (j.clone(), out.join(format!("{path}.log")))
        })
        .collect();
    wait_until(30, &format!("{name}: every JSON log received"), || {
        expected.iter().all(|(j, o)| {
            let want = fs::metadata(j).unwrap().len();
            fs::metadata(o).map(|m| m.len()).unwrap_or(0) == want
        })
    });
    sub.terminate().assert_success();
    for (j, o) in &expected {
        if fs::read(j).unwrap() != fs::read(o).unwrap_or_default() {
            problems.push(format!("{}: output differs from the input", j.display()));
        }
    }

    // TSV logs: every record as Zeek's JSON log of the same record.
    let tmp = TempDir::new("corpus-tsv");
    let (ep, out) = (tmp.ipc("s"), tmp.join("out"));
    let sub = Proc::sub(&["-e", &ep, "--dir", s(&out)]);
    let refs: Vec<&Path> = tsv.iter().map(|p| p.as_path()).collect();
    replay(&ep, &[], &refs);
    let expected: Vec<(PathBuf, String, Vec<FieldSpec>, PathBuf)> = tsv
        .iter()
        .map(|t| {
            let (path, fields) = tsv_schema(t);
            let zeek = t.with_file_name(
                t.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .replace(".log", ".json.log"),
            );
            (t.clone(), path, fields, zeek)
        })
        .collect();
    wait_until(30, &format!("{name}: every TSV log received"), || {
        expected
            .iter()
            .all(|(_, path, _, zeek)| lines_of(&out.join(format!("{path}.log"))) == lines_of(zeek))
    });
    sub.terminate().assert_success();
    for (t, path, fields, zeek) in &expected {
        let ours = fs::read_to_string(out.join(format!("{path}.log"))).unwrap_or_default();
        let theirs = fs::read_to_string(zeek).unwrap();
        for (i, (o, z)) in ours.lines().zip(theirs.lines()).enumerate() {
            tsv_records += 1;
            if let Err(e) = compare::tsv_record_matches(o, z, fields) {
                problems.push(format!("{}, record {}: {e}", t.display(), i + 1));
            }
        }
    }
    (problems, total, tsv_records)
}

#[test]
fn replay_of_the_corpus_comes_out_as_zeeks_json_logs() {
    let Some(root) = zeek_zeromq_writer::dump::corpus_dir() else {
        return;
    };
    let mut cases: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {}", root.display());
    let count = cases.len();
    let queue = Arc::new(Mutex::new(cases));
    let problems = Arc::new(Mutex::new(Vec::new()));
    let compared = Arc::new(Mutex::new((0, 0)));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (queue, problems, compared) = (queue.clone(), problems.clone(), compared.clone());
            std::thread::spawn(move || loop {
                let Some(case) = queue.lock().unwrap().pop() else {
                    return;
                };
                let (found, json, tsv) = check_corpus_case(&case);
                problems.lock().unwrap().extend(found);
                let mut c = compared.lock().unwrap();
                c.0 += json;
                c.1 += tsv;
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let (json, tsv) = *compared.lock().unwrap();
    eprintln!("{count} cases: {json} JSON records byte for byte, {tsv} TSV records compared");
    assert!(json > 0 && tsv > 0);
    let problems = problems.lock().unwrap();
    assert!(
        problems.is_empty(),
        "{} problems in {count} cases, e.g.:\n{}",
        problems.len(),
        problems
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn sub_matches_paths_exactly_unless_prefix() {
    for prefix in [false, true] {
        let tmp = TempDir::new("paths");
        let ep = tmp.ipc("s");
        let mut args = vec!["-e", &ep, "--path", "conn", "--path", "dns", "--add-path"];
        if prefix {
            args.push("--prefix");
        }
        let sub = Proc::sub(&args);
        let publisher = TestPub::connect(&ep, |_| {});
        assert!(publisher.subscribed(2, 10_000), "no subscriptions");
        for (path, n) in [
            ("conn", 1),
            ("conn_long", 2),
            ("conn-2", 3),
            ("http", 4),
            ("dns", 5),
            ("dnsx", 6),
        ] {
            publisher.send(&[path.as_bytes(), format!("{{\"n\":{n}}}").as_bytes()]);
        }
        publisher.send(&[b"conn", b"{}"]);
        sub.stdout
            .wait_for(10, "the last record", |l| l == r#"{"_path":"conn"}"#);
        let fin = sub.terminate();
        fin.assert_success();
        let expected: &[&str] = if prefix {
            &[
                r#"{"_path":"conn","n":1}"#,
                r#"{"_path":"conn_long","n":2}"#,
                r#"{"_path":"conn-2","n":3}"#,
                r#"{"_path":"dns","n":5}"#,
                r#"{"_path":"dnsx","n":6}"#,
                r#"{"_path":"conn"}"#,
            ]
        } else {
            &[
                r#"{"_path":"conn","n":1}"#,
                r#"{"_path":"dns","n":5}"#,
                r#"{"_path":"conn"}"#,
            ]
        };
        assert_eq!(fin.stdout, expected, "prefix: {prefix}");
    }
}

/// `n` JSON records `{"seq":i,...}` of about 100 bytes in `path.json.log`.
fn numbered_records(dir: &TempDir, path: &str, n: usize) -> PathBuf {
    let f = dir.join(&format!("{path}.json.log"));
    let text: String = (0..n)
        .map(|i| format!("{{\"seq\":{i},\"pad\":\"{}\"}}\n", "x".repeat(80)))
        .collect();
    fs::write(&f, text).unwrap();
    f
}

fn seqs(records: &[String]) -> Vec<u64> {
    let mut v: Vec<u64> = records
        .iter()
        .map(|r| {
            let j: serde_json::Value = serde_json::from_str(r).unwrap();
            j["seq"].as_u64().unwrap()
        })
        .collect();
    v.sort();
    v
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn sub_rotates_by_size_and_gzips() {
    let tmp = TempDir::new("size");
    let (ep, out) = (tmp.ipc("s"), tmp.join("out"));
    let input = numbered_records(&tmp, "conn", 300); // 30,900 bytes
    let sub = Proc::sub(&[
        "-e",
        &ep,
        "--dir",
        s(&out),
        "--rotate-size",
        "4K",
        "--gzip",
        "--stats",
        "50ms",
    ]);
    replay(&ep, &[], &[&input]);
    wait_until(20, "300 records", || sub.records_in_all() == 300);
    let fin = sub.terminate();
    fin.assert_success();
    assert!(
        fin.stderr_text()
            .contains(": 300 records (conn 300); 0 malformed"),
        "{}",
        fin.stderr_text()
    );
    let names = file_names(&out);
    let rotated: Vec<&String> = names.iter().filter(|n| *n != "conn.log").collect();
    assert!(names.contains(&"conn.log".to_string()), "{names:?}");
    assert!(rotated.len() >= 7, "{names:?}");
    for r in &rotated {
        assert!(
            r.starts_with("conn.20") && r.ends_with(".log.gz"),
            "{names:?}"
        );
        let one = records_in_file(&out.join(r));
        assert!(one.iter().map(|l| l.len() + 1).sum::<usize>() <= 4096);
    }
    assert!(fs::metadata(out.join("conn.log")).unwrap().len() <= 4096);
    assert_eq!(
        seqs(&records_in(&out, "conn")),
        (0..300).collect::<Vec<_>>()
    );
}

fn records_in_file(f: &Path) -> Vec<String> {
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(fs::File::open(f).unwrap()),
        &mut text,
    )
    .unwrap();
    text.lines().map(String::from).collect()
}

#[test]
fn sub_rotates_by_interval_and_replay_keeps_its_rate() {
    let tmp = TempDir::new("interval");
    let (ep, out) = (tmp.ipc("s"), tmp.join("out"));
    let input = numbered_records(&tmp, "conn", 40);
    let sub = Proc::sub(&[
        "-e",
        &ep,
        "--dir",
        s(&out),
        "--rotate",
        "250ms",
        "--stats",
        "50ms",
    ]);
    let start = Instant::now();
    replay(&ep, &["--rate", "40/s"], &[&input]);
    let took = start.elapsed().as_secs_f64();
    // 40 records at 40/s: the last is due 39/40 s after the first.
    assert!(took >= 0.95, "replay took {took} s");
    wait_until(20, "40 records", || sub.records_in_all() == 40);
    sub.terminate().assert_success();
    let names = file_names(&out);
    let rotated = names.iter().filter(|n| *n != "conn.log").count();
    assert!(rotated >= 2, "{names:?}");
    assert!(names
        .iter()
        .all(|n| n.starts_with("conn.") && n.ends_with(".log")));
    assert_eq!(seqs(&records_in(&out, "conn")), (0..40).collect::<Vec<_>>());
}

/// The per-path counts of all periodic stats lines, summed.
fn stats_counts(stderr: &[String]) -> Vec<(String, u64)> {
    let mut counts: Vec<(String, u64)> = Vec::new();
    for l in stderr
        .iter()
        .filter(|l| l.contains(" records in all") || l.contains(" record in all"))
    {
        let Some((_, rest)) = l.split_once(" (") else {
            continue;
        };
        let group = rest.split_once(')').unwrap().0;
        for entry in group.split(", ") {
            let parts: Vec<&str> = entry.split(' ').collect();
            assert_eq!(parts.len(), 3, "{l}");
            assert!(
                parts[2].ends_with("/s") && parts[2][..parts[2].len() - 2].parse::<f64>().is_ok()
            );
            let n: u64 = parts[1].parse().unwrap();
            match counts.iter_mut().find(|(p, _)| p == parts[0]) {
                Some((_, c)) => *c += n,
                None => counts.push((parts[0].to_string(), n)),
            }
        }
    }
    counts.sort();
    counts
}

#[test]
fn stats_lines_and_sigterm_flush_every_file() {
    let tmp = TempDir::new("stats");
    let (ep, out) = (tmp.ipc("s"), tmp.join("out"));
    let sub = Proc::sub(&["-e", &ep, "--dir", s(&out), "--stats", "100ms"]);
    let publisher = TestPub::connect(&ep, |_| {});
    assert!(publisher.subscribed(1, 10_000));
    for (path, n) in [("conn", 10), ("dns", 5), ("http", 3)] {
        for i in 0..n {
            publisher.send(&[path.as_bytes(), format!("{{\"i\":{i}}}").as_bytes()]);
        }
    }
    wait_until(20, "18 records", || sub.records_in_all() == 18);
    let fin = sub.terminate();
    fin.assert_success();
    assert_eq!(
        stats_counts(&fin.stderr),
        [("conn".into(), 10), ("dns".into(), 5), ("http".into(), 3)]
    );
    let last = fin.stderr.last().unwrap();
    assert!(last.starts_with("zeek-zmq sub: exiting after "), "{last}");
    assert!(
        last.ends_with(": 18 records (conn 10, dns 5, http 3); 0 malformed"),
        "{last}"
    );
    for (path, n) in [("conn", 10), ("dns", 5), ("http", 3)] {
        let want: Vec<String> = (0..n).map(|i| format!("{{\"i\":{i}}}")).collect();
        assert_eq!(records_in(&out, path), want);
    }

    // stdout, and SIGINT.
    let ep = tmp.ipc("s2");
    let sub = Proc::sub(&["-e", &ep]);
    let publisher = TestPub::connect(&ep, |_| {});
    assert!(publisher.subscribed(1, 10_000));
    for i in 0..1000 {
        publisher.send(&[b"conn", format!("{{\"i\":{i}}}").as_bytes()]);
    }
    wait_until(20, "1000 lines", || sub.stdout.count() == 1000);
    sub.signal("INT");
    let fin = sub.wait(20);
    fin.assert_success();
    assert!(fin
        .stderr_text()
        .contains(": 1000 records (conn 1000); 0 malformed"));
}

#[test]
fn malformed_messages_are_counted_not_fatal() {
    let tmp = TempDir::new("malformed");
    let ep = tmp.ipc("s");
    let sub = Proc::sub(&["-e", &ep]);
    let publisher = TestPub::connect(&ep, |_| {});
    assert!(publisher.subscribed(1, 10_000));
    publisher.send(&[b"conn"]);
    publisher.send(&[b"conn", b"{}", b"1 0000000000000001", b"{}"]);
    publisher.send(&[b"conn", b"{}", b"{}"]);
    publisher.send(&[b"conn", b"not json"]);
    publisher.send(&[b"conn", b"{\"a\":1"]);
    publisher.send(&[b"conn", b"[1,2]"]);
    publisher.send(&[b"conn", b"{\"a\":\n1}"]);
    publisher.send(&[b"conn", b"{\"ok\":1}"]);
    sub.stdout
        .wait_for(10, "the good record", |l| l == r#"{"ok":1}"#);
    let fin = sub.terminate();
    fin.assert_success();
    assert_eq!(fin.stdout, [r#"{"ok":1}"#]);
    let err = fin.stderr_text();
    assert!(err.contains("malformed message: 1 frame, frame 1"), "{err}");
    assert!(
        err.contains("malformed message: 4 frames, frame 1"),
        "{err}"
    );
    assert!(
        err.contains("malformed message: path \"conn\": frame 3 is not a sequence number: \"{}\""),
        "{err}"
    );
    assert!(
        fin.stderr.last().unwrap().ends_with(
            ": 1 record (conn 1); 7 malformed (2 not two or three frames, \
             1 not a sequence number, 4 not a JSON object)"
        ),
        "{err}"
    );

    // With --dir, a path that cannot name a file in it.
    let out = tmp.join("out");
    let ep = tmp.ipc("s2");
    let sub = Proc::sub(&["-e", &ep, "--dir", s(&out)]);
    let publisher = TestPub::connect(&ep, |_| {});
    assert!(publisher.subscribed(1, 10_000));
    publisher.send(&[b"../escape", b"{}"]);
    publisher.send(&[b"", b"{}"]);
    publisher.send(&[b"..", b"{}"]);
    publisher.send(&[b"ok", b"{}"]);
    wait_until(10, "ok.log", || lines_of(&out.join("ok.log")) == 1);
    let fin = sub.terminate();
    fin.assert_success();
    assert!(
        fin.stderr_text()
            .contains("1 record (ok 1); 3 malformed (3 unusable path)"),
        "{}",
        fin.stderr_text()
    );
    assert_eq!(file_names(&out), ["ok.log"]);
    assert_eq!(
        file_names(&tmp.0)
            .iter()
            .filter(|n| n.contains("escape"))
            .count(),
        0
    );
}

/// A numbered message of `path`: `[path, {"n":seq}, "<seq> <writer>"]`.
fn send_numbered(publisher: &TestPub, path: &str, seq: u64, writer: u64) {
    publisher.send(&[
        path.as_bytes(),
        format!("{{\"n\":{seq}}}").as_bytes(),
        format!("{seq} {writer:016x}").as_bytes(),
    ]);
}

#[test]
fn sub_reports_gaps_in_sequence_numbers_per_path() {
    let tmp = TempDir::new("gaps");
    let ep = tmp.ipc("s");
    let sub = Proc::sub(&["-e", &ep]);
    let publisher = TestPub::connect(&ep, |_| {});
    assert!(publisher.subscribed(1, 10_000));
    // One gap at a time, each ending with the last message sent: the gap
    // is found however the messages are batched.
    for seq in [1, 2, 3, 7] {
        send_numbered(&publisher, "conn", seq, 0xa);
    }
    // The n-th gap report, once it came, and when.
    let gap_report = |n: usize| {
        let reports = || -> Vec<String> {
            let all = sub.stderr.all();
            all.into_iter().filter(|l| l.contains(" missed ")).collect()
        };
        wait_until(10, "a gap report", || reports().len() >= n);
        let at = Instant::now();
        let reports = reports();
        assert_eq!(reports.len(), n, "{reports:?}");
        (reports[n - 1].clone(), at)
    };
    let (first, first_at) = gap_report(1);
    assert_eq!(
        first,
        "zeek-zmq sub: missed 3 records since the last report, by sequence number \
         (conn 3 in 1 gap: 4-6)"
    );
    // The next gap is reported, but not within a second of the first.
    for seq in [8, 10] {
        send_numbered(&publisher, "conn", seq, 0xa);
    }
    let (second, second_at) = gap_report(2);
    assert!(second_at - first_at >= Duration::from_millis(900));
    assert_eq!(
        second,
        "zeek-zmq sub: missed 1 records since the last report, by sequence number \
         (conn 1 in 1 gap: 9)"
    );
    // Another writer on conn counts from 1 on its own; dns joins at 100:
    // what came before is not a gap.
    for seq in [1, 2, 3] {
        send_numbered(&publisher, "conn", seq, 0xc);
    }
    for seq in [100, 101, 103] {
        send_numbered(&publisher, "dns", seq, 0xb);
    }
    let (third, _) = gap_report(3);
    assert_eq!(
        third,
        "zeek-zmq sub: missed 1 records since the last report, by sequence number \
         (dns 1 in 1 gap: 102)"
    );
    wait_until(10, "12 records", || sub.stdout.count() == 12);
    let fin = sub.terminate();
    fin.assert_success();
    assert_eq!(fin.stdout[..3], [r#"{"n":1}"#, r#"{"n":2}"#, r#"{"n":3}"#]);
    assert!(
        fin.stderr[fin.stderr.len() - 2].ends_with(": 12 records (conn 9, dns 3); 0 malformed"),
        "{:?}",
        fin.stderr
    );
    assert_eq!(
        fin.stderr.last().unwrap(),
        "zeek-zmq sub: missed 5 records in all, by sequence number \
         (conn 4 in 2 gaps: 000000000000000a:4-6, 000000000000000a:9, 2 writers; \
         dns 1 in 1 gap: 102, 99 before the first received)"
    );
}

#[test]
fn keygen_keys_work_with_the_plugin_options_sub_and_replay() {
    let tmp = TempDir::new("keys");
    let (srv, cli, other) = (tmp.join("server"), tmp.join("client"), tmp.join("other"));
    for k in [&srv, &cli, &other] {
        let fin = run(&["keygen", s(k)], 10);
        fin.assert_success();
        assert!(
            fin.stdout[0].starts_with("wrote ")
                && fin.stdout[0].ends_with(".key (secret key, mode 0600)"),
            "{:?}",
            fin.stdout
        );
    }
    let key_file = tmp.join("server.key");
    let pub_file = tmp.join("server.pub");
    assert_eq!(
        fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let secret = keys::read_secret_key_file(&key_file).unwrap();
    assert_eq!(
        keys::read_public_keys_file(&pub_file).unwrap(),
        [keys::public_of(&secret).unwrap()]
    );
    let again = run(&["keygen", s(&srv)], 10);
    assert!(!again.status.success() && again.stderr_text().contains("--force"));
    run(&["keygen", s(&srv), "--force"], 10).assert_success();
    let secret = keys::read_secret_key_file(&key_file).unwrap();
    let server_public = keys::to_z85(&keys::public_of(&secret).unwrap());

    // The plugin's options accept the files.
    let plugin_server = CurveOptions {
        secret_key_file: s(&key_file).into(),
        allowed_clients_file: s(&tmp.join("client.pub")).into(),
        ..CurveOptions::default()
    };
    assert!(matches!(
        curve::resolve(&plugin_server, true),
        Ok(Security::Server { .. })
    ));
    let plugin_client = CurveOptions {
        server_public_key: server_public.clone(),
        secret_key_file: s(&tmp.join("client.key")).into(),
        ..CurveOptions::default()
    };
    assert!(matches!(
        curve::resolve(&plugin_client, false),
        Ok(Security::Client { .. })
    ));

    // sub as the CURVE server, allowing client.pub; replay as the client
    // through the plugin's publisher.
    let records = numbered_records(&tmp, "conn", 3);
    let ep = tmp.ipc("s");
    let sub = Proc::sub(&[
        "-e",
        &ep,
        "--curve-secret-key-file",
        s(&key_file),
        "--curve-allowed-clients",
        s(&tmp.join("client.pub")),
    ]);
    let fin = replay(
        &ep,
        &[
            "--curve-server-key",
            s(&pub_file),
            "--curve-secret-key-file",
            s(&tmp.join("client.key")),
        ],
        &[&records],
    );
    assert!(
        fin.stderr_text().contains("3 sent, 0 dropped"),
        "{}",
        fin.stderr_text()
    );
    wait_until(10, "3 records", || sub.stdout.count() == 3);
    // A client with another key, and one without CURVE, reach nobody: the
    // replay fails, saying so.
    for extra in [
        vec![
            "--curve-server-key",
            &server_public,
            "--curve-secret-key-file",
            s(&tmp.join("other.key")),
        ],
        vec![],
    ] {
        let mut args = vec![
            "replay",
            "-e",
            &ep,
            "--quiet",
            "--wait-for-subscribers",
            "500ms",
        ];
        args.extend(extra);
        args.push(s(&records));
        let fin = run(&args, 60);
        assert_eq!(fin.status.code(), Some(1), "{}", fin.stderr_text());
        assert!(
            fin.stderr_text().contains("0 sent, 3 dropped")
                && fin.stderr.last().unwrap().starts_with(
                    "zeek-zmq replay: nothing was delivered: no subscriber of any path at "
                ),
            "{}",
            fin.stderr_text()
        );
    }
    let other_public = keys::read_public_keys_file(&tmp.join("other.pub")).unwrap()[0];
    sub.stderr.wait_for(10, "the rejection", |l| {
        l.contains("rejected a publisher") && l.contains(&keys::to_z85(&other_public))
    });
    let fin = sub.terminate();
    assert_eq!(fin.stdout.len(), 3);

    // sub --connect as a CURVE client of a CURVE server (Zeek in bind mode).
    let ep = tmp.ipc("s2");
    let ctx = zmq::Context::new();
    let server = ctx.socket(zmq::XPUB).unwrap();
    server.set_curve_server(true).unwrap();
    server.set_curve_secretkey(&secret.0).unwrap();
    server.bind(&ep).unwrap();
    let sub = Proc::sub(&["-e", &ep, "--connect", "--curve-server-key", s(&pub_file)]);
    assert_eq!(
        server.poll(zmq::POLLIN, 10_000).unwrap(),
        1,
        "no subscription"
    );
    assert_eq!(server.recv_bytes(0).unwrap(), b"\x01");
    server
        .send_multipart([&b"dns"[..], b"{\"q\":1}"], 0)
        .unwrap();
    sub.stdout.wait_for(10, "the record", |l| l == r#"{"q":1}"#);
    sub.terminate().assert_success();
}

/// `replay` of `records` to `ep` with `extra` flags, nobody taking them:
/// it fails, saying nothing was delivered.
fn replay_delivering_nothing(ep: &str, extra: &[&str], records: &Path) {
    let mut args = vec![
        "replay",
        "-e",
        ep,
        "--quiet",
        "--wait-for-subscribers",
        "500ms",
    ];
    args.extend_from_slice(extra);
    args.push(s(records));
    let fin = run(&args, 60);
    assert_eq!(fin.status.code(), Some(1), "{}", fin.stderr_text());
    assert!(
        fin.stderr.last().unwrap().starts_with(&format!(
            "zeek-zmq replay: nothing was delivered: no subscriber of any path at {ep}: "
        )),
        "{}",
        fin.stderr_text()
    );
}

#[test]
fn sub_says_which_publishers_it_cannot_talk_to() {
    let tmp = TempDir::new("mismatch");
    for k in ["server", "other"] {
        run(&["keygen", s(&tmp.join(k))], 10).assert_success();
    }
    let (key, other_pub) = (tmp.join("server.key"), tmp.join("other.pub"));
    let records = numbered_records(&tmp, "conn", 3);
    // The line about a publisher at (or connecting to) `who`, with
    // everything `why` lists. Of two ends that find they do not both use
    // CURVE, libzmq tells one, and the other may only see the connection
    // closed: either line must say which end uses CURVE.
    let said = |sub: &Proc, who: &str, why: &[&str]| {
        let prefix = format!("zeek-zmq sub: cannot talk to {who}: ");
        sub.stderr
            .wait_for(10, &format!("{prefix}... {why:?}"), |l| {
                l.starts_with(&prefix) && why.iter().all(|w| l.contains(w))
            })
    };

    // A CURVE sub (server, any client key): a plain-text publisher, then a
    // CURVE one given another server key.
    let ep = tmp.ipc("curve");
    let publisher = format!("a publisher connecting to {ep}");
    let sub = Proc::sub(&["-e", &ep, "--curve-secret-key-file", s(&key)]);
    replay_delivering_nothing(&ep, &[], &records);
    said(
        &sub,
        &publisher,
        &["it does not use CURVE", ", and this end does"],
    );
    replay_delivering_nothing(&ep, &["--curve-server-key", s(&other_pub)], &records);
    said(
        &sub,
        &publisher,
        &[
            "the CURVE keys do not match: the publisher was given another server key than this \
           end's public key",
        ],
    );
    let fin = sub.terminate();
    fin.assert_success();
    assert!(fin.stdout.is_empty(), "{:?}", fin.stdout);

    // A plain-text sub: a CURVE publisher.
    let ep = tmp.ipc("plain");
    let sub = Proc::sub(&["-e", &ep]);
    replay_delivering_nothing(&ep, &["--curve-server-key", s(&other_pub)], &records);
    said(
        &sub,
        &format!("a publisher connecting to {ep}"),
        &[
            "it uses CURVE (or another security mechanism)",
            ", and this end does not",
        ],
    );
    let fin = sub.terminate();
    fin.assert_success();
    assert!(fin.stdout.is_empty(), "{:?}", fin.stdout);

    // sub --connect, a CURVE client, to a plain-text publisher.
    let ep = tmp.ipc("bound");
    let ctx = zmq::Context::new();
    let plain = ctx.socket(zmq::XPUB).unwrap();
    plain.set_linger(0).unwrap();
    plain.bind(&ep).unwrap();
    let other_public = keys::to_z85(&keys::read_public_keys_file(&other_pub).unwrap()[0]);
    let sub = Proc::sub(&["-e", &ep, "--connect", "--curve-server-key", &other_public]);
    said(
        &sub,
        &format!("the publisher at {ep}"),
        &["it does not use CURVE"],
    );
    sub.terminate().assert_success();
}

#[test]
fn replay_options_and_inputs() {
    let tmp = TempDir::new("replay");
    let out = tmp.join("out");
    let ep = tmp.ipc("s");
    let sub = Proc::sub(&["-e", &ep, "--dir", s(&out), "--stats", "50ms"]);

    // Malformed lines are reported with file:line and skipped.
    let bad = tmp.join("bad.json.log");
    fs::write(&bad, "{\"a\":1}\ngarbage\n{\"b\":2}\n\n{\"c\":3}\n").unwrap();
    let fin = replay(&ep, &[], &[&bad]);
    let err = fin.stderr_text();
    assert!(err.contains(&format!("{}:2: ", bad.display())), "{err}");
    assert!(err.contains(&format!("{}:4: ", bad.display())), "{err}");
    assert!(
        err.contains("3 sent, 0 dropped; 2 malformed lines skipped"),
        "{err}"
    );

    // gzip TSV with its own separators, under another path.
    let tsv = "#separator |\n#set_separator|;\n#empty_field|EMPTY\n#unset_field|NONE\n\
               #path|weird\n#fields|ts|tags|s\n#types|time|set[string]|string\n\
               1.000000|a;b\\x7cc|NONE\n2.500000|EMPTY|x\\x0ay\n";
    let gz = tmp.join("weird.log.gz");
    let mut enc =
        flate2::write::GzEncoder::new(fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, tsv.as_bytes()).unwrap();
    enc.finish().unwrap();
    replay(&ep, &["--path", "other"], &[&gz]);
    wait_until(10, "the other path", || {
        lines_of(&out.join("other.log")) == 2
    });
    assert_eq!(
        fs::read_to_string(out.join("bad.log")).unwrap(),
        "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n"
    );
    assert_eq!(
        fs::read_to_string(out.join("other.log")).unwrap(),
        "{\"ts\":1.0,\"tags\":[\"a\",\"b|c\"]}\n{\"ts\":2.5,\"tags\":[],\"s\":\"x\\ny\"}\n"
    );

    // --loop until SIGINT.
    let looped = numbered_records(&tmp, "loop", 3);
    let r = Proc::spawn(&[
        "replay",
        "-e",
        &ep,
        "--quiet",
        "--loop",
        "--rate",
        "500/s",
        s(&looped),
    ]);
    wait_until(20, "four passes", || lines_of(&out.join("loop.log")) >= 12);
    r.signal("INT");
    let fin = r.wait(20);
    fin.assert_success();
    assert!(
        fin.stderr_text().contains(" dropped; 0 malformed"),
        "{}",
        fin.stderr_text()
    );
    sub.terminate().assert_success();

    // Bind mode: replay binds, sub connects.
    let ep = tmp.ipc("bound");
    let sub = Proc::sub(&["-e", &ep, "--connect"]);
    let fin = run(
        &[
            "replay",
            "-e",
            &ep,
            "--bind",
            "--quiet",
            s(&numbered_records(&tmp, "b", 5)),
        ],
        60,
    );
    fin.assert_success();
    assert!(
        fin.stderr_text().contains("5 sent, 0 dropped"),
        "{}",
        fin.stderr_text()
    );
    wait_until(10, "5 records", || sub.stdout.count() == 5);
    sub.terminate().assert_success();
}

#[test]
fn replay_waits_once_for_all_paths_and_fails_when_nothing_is_delivered() {
    let tmp = TempDir::new("nobody");
    let ep = tmp.ipc("nobody");
    let files: Vec<PathBuf> = ["conn", "dns", "http"]
        .iter()
        .map(|p| numbered_records(&tmp, p, 2))
        .collect();
    let mut args = vec![
        "replay",
        "-e",
        &ep,
        "--quiet",
        "--wait-for-subscribers",
        "1s",
    ];
    args.extend(files.iter().map(|f| s(f)));
    let start = Instant::now();
    let fin = run(&args, 60);
    let took = start.elapsed().as_secs_f64();
    // One wait for the three paths, not one each.
    assert!((1.0..2.5).contains(&took), "took {took} s");
    assert_eq!(fin.status.code(), Some(1), "{}", fin.stderr_text());
    let err = fin.stderr_text();
    assert!(
        err.contains("no subscriber of \"conn\" after 1.0 s; publishing anyway")
            && err.contains("no subscriber of \"dns\" either")
            && err.contains("no subscriber of \"http\" either"),
        "{err}"
    );
    assert!(
        err.contains(": 6 records from 3 files in ") && err.contains(": 0 sent, 6 dropped"),
        "{err}"
    );
    assert_eq!(
        fin.stderr.last().unwrap(),
        &format!(
            "zeek-zmq replay: nothing was delivered: no subscriber of any path at {ep}: is a \
             subscriber bound to it (this end connects to it), subscribed to these paths, with \
             the same CURVE keys? --wait-for-subscribers waits for one"
        )
    );

    // One record, delivered: success, and "1 record".
    let sub = Proc::sub(&["-e", &ep]);
    let one = numbered_records(&tmp, "one", 1);
    let fin = replay(&ep, &[], &[&one]);
    assert!(
        fin.stderr_text().contains(": 1 record from 1 file in ")
            && fin
                .stderr_text()
                .contains(": 1 sent, 0 dropped; 0 malformed lines skipped"),
        "{}",
        fin.stderr_text()
    );
    sub.stdout
        .wait_for(10, "the record", |l| l.contains("\"seq\":0"));
    sub.terminate().assert_success();
}

#[test]
fn every_command_has_help() {
    for cmd in ["sub", "replay", "keygen"] {
        let fin = run(&[cmd, "--help"], 10);
        fin.assert_success();
        assert!(
            fin.stdout
                .iter()
                .any(|l| l.starts_with(&format!("Usage: zeek-zmq {cmd}"))),
            "{:?}",
            fin.stdout
        );
    }
    let fin = run(&["--help"], 10);
    fin.assert_success();
    let bad = run(&["sub", "--rotate", "1h"], 10);
    assert!(!bad.status.success(), "--rotate without --dir is refused");
}

#[test]
fn sigint_ends_a_replay_blocked_by_a_stalled_subscriber() {
    let tmp = TempDir::new("stalled");
    let (ep, out) = (tmp.ipc("s"), tmp.join("out"));
    let input = numbered_records(&tmp, "conn", 200_000);
    let sub = Proc::sub(&["-e", &ep, "--dir", s(&out)]);
    let r = Proc::spawn(&[
        "replay",
        "-e",
        &ep,
        "--quiet",
        "--hwm",
        "10",
        "--linger",
        "0",
        s(&input),
    ]);
    wait_until(20, "the first records", || {
        lines_of(&out.join("conn.log")) > 0
    });
    sub.signal("STOP");
    // The replay sleeps (clock_nanosleep) only while it waits for room.
    let nanosleep = if cfg!(target_arch = "aarch64") {
        "115 "
    } else {
        "230 "
    };
    let syscall = format!("/proc/{}/syscall", r.child.id());
    wait_until(20, "the replay to block", || {
        fs::read_to_string(&syscall).is_ok_and(|s| s.starts_with(nanosleep))
    });
    r.signal("INT");
    let fin = r.wait(10);
    sub.signal("CONT");
    fin.assert_success();
    let summary = fin.stderr.last().unwrap().clone();
    let records: u64 = summary
        .split_once("replay: ")
        .and_then(|(_, rest)| rest.split(' ').next()?.parse().ok())
        .unwrap();
    assert!(records < 200_000, "{summary}");
    sub.terminate().assert_success();
}

/// `replay --format json-with-path` sends one frame per record, Zeek's
/// line with `"_path"` first; `sub` writes the record without it to
/// `<path>.log` (the file replayed, byte for byte), prints the frames as
/// received, and selects them by --path.
#[test]
fn one_frame_messages_from_replay_to_sub() {
    let tmp = TempDir::new("oneframe");
    let conn = numbered_records(&tmp, "conn", 300);
    let conn_long = numbered_records(&tmp, "conn_long", 5);
    let empty = tmp.join("x.json.log");
    fs::write(&empty, "{}\n{\"a\":1}\n").unwrap();
    let out = tmp.join("out");
    let ep = tmp.ipc("dir");
    let sub = Proc::sub(&["-e", &ep, "--dir", s(&out)]);
    let files = [conn.as_path(), conn_long.as_path(), empty.as_path()];
    replay(&ep, &["--format", "json-with-path"], &files);
    wait_until(10, "every record", || {
        lines_of(&out.join("conn.log")) == 300 && lines_of(&out.join("x.log")) == 2
    });
    let fin = sub.terminate();
    fin.assert_success();
    assert!(
        fin.stderr_text().contains("0 malformed"),
        "{}",
        fin.stderr_text()
    );
    for (file, path) in [(&conn, "conn"), (&conn_long, "conn_long"), (&empty, "x")] {
        assert_eq!(
            fs::read(out.join(format!("{path}.log"))).unwrap(),
            fs::read(file).unwrap(),
            "{path}"
        );
    }

    // On stdout, as received; --path conn takes conn, not conn_long.
    let ep = tmp.ipc("stdout");
    let sub = Proc::sub(&["-e", &ep, "--path", "conn", "--path", "x"]);
    // (Nobody subscribes to conn_long: no long wait for one.)
    let args = ["--format", "json-with-path", "--wait-for-subscribers", "1s"];
    replay(&ep, &args, &files);
    sub.stdout
        .wait_for(10, "the last record", |l| l == r#"{"_path":"x","a":1}"#);
    let fin = sub.terminate();
    fin.assert_success();
    let want: Vec<String> = fs::read_to_string(&conn)
        .unwrap()
        .lines()
        .map(|l| format!("{{\"_path\":\"conn\",{}", &l[1..]))
        .chain([r#"{"_path":"x"}"#.into(), r#"{"_path":"x","a":1}"#.into()])
        .collect();
    assert_eq!(fin.stdout, want);

    // What sub printed replays as it was published, in either format: the
    // path from each line's "_path", the record without it.
    let printed = tmp.join("printed.json.log");
    fs::write(&printed, want.join("\n") + "\n").unwrap();
    for format in ["path-and-json", "json-with-path"] {
        let out = tmp.join(&format!("again-{format}"));
        let ep = tmp.ipc(&format!("again-{format}"));
        let sub = Proc::sub(&["-e", &ep, "--dir", s(&out)]);
        replay(&ep, &["--format", format], &[&printed]);
        wait_until(10, "every record again", || {
            lines_of(&out.join("conn.log")) == 300 && lines_of(&out.join("x.log")) == 2
        });
        sub.terminate().assert_success();
        assert_eq!(file_names(&out), ["conn.log", "x.log"], "{format}");
        assert_eq!(
            fs::read(out.join("conn.log")).unwrap(),
            fs::read(&conn).unwrap(),
            "{format}"
        );
        assert_eq!(
            fs::read(out.join("x.log")).unwrap(),
            fs::read(&empty).unwrap(),
            "{format}"
        );
    }
}
