//! Conformance: every record of every `.dump.jsonl` in the Zeek corpus
//! (`../shared/zeek-corpus`, or `$ZEEK_CORPUS`), in every timestamp mode,
//! must encode to exactly the JSON Zeek 8.0 wrote.
//!
//! Where the corpus is absent the test says so and fails only if
//! `REQUIRE_CORPUS` is set (CI sets it).

use std::path::{Path, PathBuf};
use zeek_zeromq_writer::dump::{parse_record, parse_schema};
use zeek_zeromq_writer::encoder::{Encoder, JsonOptions, TimestampFormat};

fn dumps(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for case in std::fs::read_dir(dir).unwrap() {
        let case = case.unwrap().path();
        if !case.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&case).unwrap() {
            let f = f.unwrap().path();
            if f.to_string_lossy().ends_with(".dump.jsonl") {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

fn mode(name: &str) -> JsonOptions {
    let (timestamps, include_unset) = match name {
        "epoch" => (TimestampFormat::Epoch, false),
        "iso8601" => (TimestampFormat::Iso8601, false),
        "millis" => (TimestampFormat::Millis, false),
        "millis_unsigned" => (TimestampFormat::MillisUnsigned, false),
        "epoch_include_unset" => (TimestampFormat::Epoch, true),
        other => panic!("unknown mode {other}"),
    };
    JsonOptions {
        timestamps,
        include_unset,
    }
}

/// The dump stores Zeek's output bytes as a JSON string whose code points
/// are the bytes (U+0000-U+00FF); this undoes that.
fn latin1_bytes(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(c as u32).expect("dump strings hold bytes as U+0000-U+00FF"))
        .collect()
}

const MODES: [&str; 5] = [
    "epoch",
    "iso8601",
    "millis",
    "millis_unsigned",
    "epoch_include_unset",
];

#[test]
fn every_corpus_record_matches_zeek_in_every_mode() {
    let Some(dir) = zeek_zeromq_writer::dump::corpus_dir() else {
        return;
    };
    let files = dumps(&dir);
    assert!(files.len() > 50, "too few dumps in {}", dir.display());
    let mut checked = 0usize;
    let mut failures = Vec::new();
    let mut mismatches = 0usize;
    let mut out = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let mut lines = text.lines();
        let (_, fields) = parse_schema(lines.next().unwrap()).unwrap();
        let encoders: Vec<(&str, Encoder)> = MODES
            .iter()
            .map(|m| (*m, Encoder::new(&fields, mode(m))))
            .collect();
        for (n, line) in lines.enumerate() {
            let rec =
                parse_record(line).unwrap_or_else(|e| panic!("{}:{}: {e}", file.display(), n + 2));
            for (m, enc) in &encoders {
                let want = &rec
                    .zeek
                    .iter()
                    .find(|(k, _)| k == m)
                    .unwrap_or_else(|| panic!("{}:{}: no {m}", file.display(), n + 2))
                    .1;
                let want = latin1_bytes(want);
                out.clear();
                // SAFETY: an OwnedRecord's string slots point at its own bytes.
                unsafe { enc.encode(&rec.record.slots, &mut out) }.unwrap();
                checked += 1;
                if out != want {
                    mismatches += 1;
                }
                if out != want && failures.len() < 5 {
                    failures.push(format!(
                        "{}:{} [{m}]\n  zeek: {}\n  ours: {}",
                        file.display(),
                        n + 2,
                        String::from_utf8_lossy(&want),
                        String::from_utf8_lossy(&out)
                    ));
                }
            }
        }
    }
    assert!(
        mismatches == 0,
        "{mismatches} of {checked} encodings differ from Zeek's (first {}):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 50_000, "only {checked} encodings checked");
    eprintln!("{checked} record encodings identical to Zeek's");
}

/// The one-frame format (`JSON_WITH_PATH`): every corpus record, encoded
/// with the path key, is Zeek's JSON line with `"_path":"<path>"` first.
#[test]
fn every_corpus_record_with_its_path_key_is_zeeks_line_with_path_first() {
    let Some(dir) = zeek_zeromq_writer::dump::corpus_dir() else {
        return;
    };
    let mut checked = 0usize;
    let (mut out, mut want) = (Vec::new(), Vec::new());
    for file in &dumps(&dir) {
        let text = std::fs::read_to_string(file).unwrap();
        let mut lines = text.lines();
        let (_, fields) = parse_schema(lines.next().unwrap()).unwrap();
        let path = file.file_name().unwrap().to_string_lossy();
        let path = path.split('.').next().unwrap().as_bytes();
        let enc = Encoder::new(&fields, mode("epoch")).with_path_key(path);
        for (n, line) in lines.enumerate() {
            let rec =
                parse_record(line).unwrap_or_else(|e| panic!("{}:{}: {e}", file.display(), n + 2));
            let zeek = &rec.zeek.iter().find(|(k, _)| k == "epoch").unwrap().1;
            want.clear();
            zeek_zeromq_writer::encoder::push_json_with_path(&mut want, path, &latin1_bytes(zeek));
            out.clear();
            // SAFETY: an OwnedRecord's string slots point at its own bytes.
            unsafe { enc.encode(&rec.record.slots, &mut out) }.unwrap();
            assert!(
                out == want,
                "{}:{}\n  want: {}\n  ours: {}",
                file.display(),
                n + 2,
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(&out)
            );
            assert!(out.starts_with(&zeek_zeromq_writer::encoder::path_topic(path)));
            checked += 1;
        }
    }
    assert!(checked > 10_000, "only {checked} records checked");
}
