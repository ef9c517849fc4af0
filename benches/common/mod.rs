//! Shared by the benchmarks: the corpus, its records, the quick mode.
//!
//! `BENCH_QUICK=1` shortens every benchmark (0.3 s warm-up, 1 s of
//! measurement, 10 samples) for a smoke run; numbers from it are rough.
//! `ZEEK_CORPUS` points at the corpus (default `../shared/zeek-corpus`);
//! without it the benchmarks print `SKIPPED` and exit successfully.

#![allow(dead_code)] // each bench uses a different part

pub mod publishing;

use criterion::Criterion;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeek_zeromq_writer::dump::{hex, parse_record, parse_schema, OwnedRecord};
use zeek_zeromq_writer::FieldSpec;

pub fn quick() -> bool {
    std::env::var_os("BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Criterion configured for the full or the quick mode; command-line
/// arguments (a filter, `--sample-size`, ...) still apply on top.
pub fn criterion() -> Criterion {
    let c = Criterion::default();
    let c = if quick() {
        c.warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1))
            .sample_size(10)
    } else {
        c.warm_up_time(Duration::from_secs(2))
            .measurement_time(Duration::from_secs(5))
    };
    c.configure_from_args()
}

/// The records of one or more `.dump.jsonl` files of the same schema.
pub struct Dump {
    pub name: String,
    pub path: String,
    pub fields: Vec<FieldSpec>,
    /// The slots the shim would build.
    pub records: Vec<OwnedRecord>,
    /// The typed values of each record, as the dump holds them.
    pub values: Vec<Vec<Json>>,
    /// Zeek's JSON (`epoch` mode) for each record.
    pub zeek: Vec<Vec<u8>>,
}

impl Dump {
    /// Zeek's JSON bytes for all records together.
    pub fn json_bytes(&self) -> u64 {
        self.zeek.iter().map(|z| z.len() as u64).sum()
    }
}

/// Loads `files` (relative to the corpus) as one case; None when one is
/// missing or the schemas differ.
pub fn load(dir: &Path, name: &str, files: &[PathBuf]) -> Option<Dump> {
    let mut dump: Option<Dump> = None;
    for file in files {
        let text = std::fs::read_to_string(dir.join(file)).ok()?;
        let mut lines = text.lines();
        let schema_line = lines.next()?;
        let (path, fields) = parse_schema(schema_line).ok()?;
        let d = dump.get_or_insert_with(|| Dump {
            name: name.to_string(),
            path: path.clone(),
            fields: fields.clone(),
            records: Vec::new(),
            values: Vec::new(),
            zeek: Vec::new(),
        });
        let same = d.fields.len() == fields.len()
            && d.fields
                .iter()
                .zip(&fields)
                .all(|(a, b)| a.name == b.name && a.kind == b.kind);
        if !same {
            eprintln!("{name}: {} has another schema", file.display());
            return None;
        }
        for line in lines {
            let rec = parse_record(line).ok()?;
            let j: Json = serde_json::from_str(line).ok()?;
            let epoch = rec.zeek.iter().find(|(k, _)| k == "epoch")?;
            d.zeek.push(latin1_bytes(&epoch.1));
            d.records.push(rec.record);
            d.values.push(j["values"].as_array()?.clone());
        }
    }
    dump.filter(|d| !d.records.is_empty())
}

/// Every `<case>/<log>.dump.jsonl` of the corpus, sorted.
pub fn all_dumps_named(dir: &Path, log: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(cases) = std::fs::read_dir(dir) else {
        return out;
    };
    for case in cases.flatten() {
        let rel = PathBuf::from(case.file_name()).join(format!("{log}.dump.jsonl"));
        if dir.join(&rel).is_file() {
            out.push(rel);
        }
    }
    out.sort();
    out
}

/// The dump stores Zeek's bytes as code points U+0000-U+00FF.
fn latin1_bytes(s: &str) -> Vec<u8> {
    s.chars().map(|c| c as u32 as u8).collect()
}

/// A dump value's raw string bytes (`string`, `enum`, ...).
pub fn value_bytes(v: &Json) -> Vec<u8> {
    hex(v["v"].as_str().unwrap_or_default()).unwrap_or_default()
}

/// Criterion's estimate (ns per iteration: the slope where it has one, else
/// the mean) of `group/function`, if that benchmark ran in this process.
pub fn estimate_ns(group: &str, function: &str, since: std::time::SystemTime) -> Option<f64> {
    let home = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR").map(|t| PathBuf::from(t).join("criterion"))
        })
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion"));
    let safe = |s: &str| s.replace(['?', '"', '/', '\\', '*', '<', '>', ':', '|', '^'], "_");
    let file = home
        .join(safe(group))
        .join(safe(function))
        .join("new/estimates.json");
    let meta = std::fs::metadata(&file).ok()?;
    if meta.modified().ok()? < since {
        return None;
    }
    let j: Json = serde_json::from_str(&std::fs::read_to_string(&file).ok()?).ok()?;
    j["slope"]["point_estimate"]
        .as_f64()
        .or_else(|| j["mean"]["point_estimate"].as_f64())
}

/// The encoder's cases: a name and its dumps (`*/<log>` = that log of
/// every corpus case).
pub const ENCODER_CASES: [(&str, &[&str]); 7] = [
    ("conn-all", &["*/conn"]),
    ("get-conn", &["get/conn"]),
    ("get-http", &["get/http"]),
    ("dns53-dns", &["dns53/dns"]),
    ("ecdhe-ssl", &["ecdhe/ssl"]),
    ("get-files", &["get/files"]),
    ("alltypes", &["alltypes/alltypes"]),
];

/// Expands a case's dump names to files relative to the corpus.
pub fn case_files(dir: &Path, names: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for n in names {
        match n.strip_prefix("*/") {
            Some(log) => out.extend(all_dumps_named(dir, log)),
            None => out.push(PathBuf::from(format!("{n}.dump.jsonl"))),
        }
    }
    out
}

pub use zeek_zeromq_writer::dump::corpus_dir;

/// The median (sorts `v`).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// All conn records of the corpus as one case (`conn-all`), or None (with
/// the reason printed) when there is no corpus or no conn log in it.
pub fn conn_records() -> Option<Dump> {
    let dir = corpus_dir()?;
    let files = all_dumps_named(&dir, "conn");
    let d = load(&dir, "conn-all", &files);
    if d.is_none() {
        eprintln!("SKIPPED: no conn records in the corpus");
    }
    d
}
