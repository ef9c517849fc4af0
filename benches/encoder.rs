//! Encoder throughput on real Zeek records (`../shared/zeek-corpus`), with
//! `serde_json` beside it as the reference point.
//!
//! ```sh
//! cargo bench --bench encoder                 # full run
//! BENCH_QUICK=1 cargo bench --bench encoder   # smoke run (~1 s per benchmark)
//! cargo bench --bench encoder -- conn         # only groups matching "conn"
//! ```
//!
//! Per case (a group `encode-<case>`), one iteration encodes every record of
//! the case once, each into a cleared, reused buffer (as the writer does):
//! - `zeek_encoder`: this crate's `Encoder::encode` from the slots the shim
//!   builds, output checked byte-identical to Zeek's before measuring;
//! - `serde_json_value`: `serde_json::to_writer` of a `serde_json::Value`
//!   object built beforehand from the same records (addresses and subnets
//!   already rendered to strings, doubles as `f64`, so serde_json only
//!   walks a tree and formats numbers and strings);
//! - `serde_json_struct` (conn only): `serde_json::to_writer` of a
//!   `#[derive(Serialize)]` struct with the conn log's fields (`IpAddr`,
//!   `u16` ports, `f64` times, `Option`s skipped when unset): what a
//!   straightforward Rust implementation costs.
//!
//! Besides the corpus's cases, `pad-1k` and `pad-10k` (see `padded`): 16
//! conn records, each with a 1,000- or 10,000-byte plain string field, for
//! the cost of long strings.
//!
//! The serde outputs are not Zeek's format (ryu doubles, sorted keys for the
//! `Value`); they are the cost reference, not a substitute. Throughput is in
//! records/s and in bytes/s of each function's own output.
//!
//! At the end a table of ratios measured in this run is printed.
//!
//! `BENCH_LOOP=conn-all:1000 cargo bench --bench encoder` skips criterion
//! and just encodes (see `plain_loop`), for profilers and instruction
//! counts.

mod common;

use common::{median, Dump, ENCODER_CASES};
use criterion::{BenchmarkId, Criterion, Throughput};
use serde::Serialize;
use serde_json::{Map, Value as Json};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};
use zeek_zeromq_writer::dump::{hex, OwnedRecord};
use zeek_zeromq_writer::encoder::{Encoder, JsonOptions};
use zeek_zeromq_writer::{FieldSpec, Kind};

/// A typed value as a straightforward Rust program would hold it.
#[derive(Clone, Debug)]
enum Val {
    Bool(bool),
    Int(i64),
    Count(u64),
    Double(f64),
    Addr(IpAddr),
    Subnet(IpAddr, u32),
    Str(String),
    List(Vec<Option<Val>>),
}

fn addr(s: &str) -> IpAddr {
    let (fam, digits) = s.split_once(':').unwrap();
    let raw = hex(digits).unwrap();
    if fam == "4" {
        IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
    } else {
        IpAddr::V6(Ipv6Addr::from(
            <[u8; 16]>::try_from(raw.as_slice()).unwrap(),
        ))
    }
}

/// A dump value (`{"t":..,"v":..}` or null) as a `Val`.
fn val(v: &Json) -> Option<Val> {
    if v.is_null() {
        return None;
    }
    let x = &v["v"];
    let f64_bits = || f64::from_bits(u64::from_str_radix(x.as_str().unwrap(), 16).unwrap());
    Some(match v["t"].as_str().unwrap() {
        "bool" => Val::Bool(x.as_bool().unwrap()),
        "int" => Val::Int(x.as_str().unwrap().parse().unwrap()),
        "count" => Val::Count(x.as_str().unwrap().parse().unwrap()),
        "double" | "time" | "interval" => Val::Double(f64_bits()),
        "port" => Val::Count(x["port"].as_u64().unwrap()),
        "addr" => Val::Addr(addr(x.as_str().unwrap())),
        "subnet" => {
            let a = addr(x["prefix"].as_str().unwrap());
            let len = x["len"].as_u64().unwrap() as u32;
            Val::Subnet(a, if a.is_ipv4() { len - 96 } else { len })
        }
        "table" | "set" | "vector" => Val::List(x.as_array().unwrap().iter().map(val).collect()),
        _ => Val::Str(String::from_utf8_lossy(&common::value_bytes(v)).into_owned()),
    })
}

fn to_json(v: &Option<Val>) -> Json {
    match v {
        None => Json::Null,
        Some(Val::Bool(b)) => Json::Bool(*b),
        Some(Val::Int(i)) => Json::from(*i),
        Some(Val::Count(c)) => Json::from(*c),
        Some(Val::Double(d)) => serde_json::Number::from_f64(*d).map_or(Json::Null, Json::Number),
        Some(Val::Addr(a)) => Json::String(a.to_string()),
        Some(Val::Subnet(a, l)) => Json::String(format!("{a}/{l}")),
        Some(Val::Str(s)) => Json::String(s.clone()),
        Some(Val::List(l)) => Json::Array(l.iter().map(to_json).collect()),
    }
}

/// The record as a `serde_json::Value` object (unset fields left out).
fn record_value(d: &Dump, values: &[Json]) -> Json {
    let mut m = Map::new();
    for (f, v) in d.fields.iter().zip(values) {
        let v = val(v);
        if v.is_some() {
            m.insert(f.name.clone(), to_json(&v));
        }
    }
    Json::Object(m)
}

/// The conn log as a Rust program would declare it.
#[derive(Serialize)]
struct ConnLog {
    ts: f64,
    uid: String,
    #[serde(rename = "id.orig_h")]
    orig_h: IpAddr,
    #[serde(rename = "id.orig_p")]
    orig_p: u16,
    #[serde(rename = "id.resp_h")]
    resp_h: IpAddr,
    #[serde(rename = "id.resp_p")]
    resp_p: u16,
    proto: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    orig_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resp_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conn_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    local_orig: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    local_resp: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    missed_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    orig_pkts: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    orig_ip_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resp_pkts: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resp_ip_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tunnel_parents: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_proto: Option<u64>,
}

const CONN_FIELDS: [&str; 22] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "local_orig",
    "local_resp",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
    "ip_proto",
];

/// The records as `ConnLog`s; None unless the schema is exactly conn's.
fn conn_logs(d: &Dump) -> Option<Vec<ConnLog>> {
    let names: Vec<&str> = d.fields.iter().map(|f| f.name.as_str()).collect();
    if names != CONN_FIELDS {
        return None;
    }
    let s = |v: &Option<Val>| match v {
        Some(Val::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let c = |v: &Option<Val>| match v {
        Some(Val::Count(c)) => Some(*c),
        _ => None,
    };
    let f = |v: &Option<Val>| match v {
        Some(Val::Double(d)) => Some(*d),
        _ => None,
    };
    let b = |v: &Option<Val>| match v {
        Some(Val::Bool(b)) => Some(*b),
        _ => None,
    };
    let a = |v: &Option<Val>| match v {
        Some(Val::Addr(a)) => *a,
        _ => panic!("conn address missing"),
    };
    let logs = d
        .values
        .iter()
        .map(|values| {
            let v: Vec<Option<Val>> = values.iter().map(val).collect();
            ConnLog {
                ts: f(&v[0]).unwrap(),
                uid: s(&v[1]).unwrap(),
                orig_h: a(&v[2]),
                orig_p: c(&v[3]).unwrap() as u16,
                resp_h: a(&v[4]),
                resp_p: c(&v[5]).unwrap() as u16,
                proto: s(&v[6]).unwrap(),
                service: s(&v[7]),
                duration: f(&v[8]),
                orig_bytes: c(&v[9]),
                resp_bytes: c(&v[10]),
                conn_state: s(&v[11]),
                local_orig: b(&v[12]),
                local_resp: b(&v[13]),
                missed_bytes: c(&v[14]),
                history: s(&v[15]),
                orig_pkts: c(&v[16]),
                orig_ip_bytes: c(&v[17]),
                resp_pkts: c(&v[18]),
                resp_ip_bytes: c(&v[19]),
                tunnel_parents: match &v[20] {
                    Some(Val::List(l)) => Some(l.iter().filter_map(s).collect()),
                    _ => None,
                },
                ip_proto: c(&v[21]),
            }
        })
        .collect();
    Some(logs)
}

/// Output bytes of serializing every item once.
fn serde_bytes<T: Serialize>(items: &[T]) -> u64 {
    items
        .iter()
        .map(|i| serde_json::to_vec(i).unwrap().len() as u64)
        .sum()
}

fn bench_serde<T: Serialize>(c: &mut Criterion, group: &str, name: &str, items: &[T]) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::ElementsAndBytes {
        elements: items.len() as u64,
        bytes: serde_bytes(items),
    });
    let mut out = Vec::with_capacity(1 << 16);
    g.bench_function(BenchmarkId::from_parameter(name), |b| {
        b.iter(|| {
            for item in items {
                out.clear();
                serde_json::to_writer(&mut out, black_box(item)).unwrap();
                black_box(&out);
            }
        })
    });
    g.finish();
}

fn bench_case(c: &mut Criterion, d: &Dump) {
    let group = format!("encode-{}", d.name);
    let enc = Encoder::new(&d.fields, JsonOptions::default());
    let mut out = Vec::with_capacity(1 << 16);
    for (r, want) in d.records.iter().zip(&d.zeek) {
        out.clear();
        // SAFETY: an OwnedRecord's string slots point at its own bytes.
        unsafe { enc.encode(&r.slots, &mut out) }.unwrap();
        assert!(
            out == *want,
            "{}: encoder output differs from Zeek's:\n  zeek: {}\n  ours: {}",
            d.name,
            String::from_utf8_lossy(want),
            String::from_utf8_lossy(&out)
        );
    }
    let mut g = c.benchmark_group(&group);
    g.throughput(Throughput::ElementsAndBytes {
        elements: d.records.len() as u64,
        bytes: d.json_bytes(),
    });
    g.bench_function(BenchmarkId::from_parameter("zeek_encoder"), |b| {
        b.iter(|| {
            for r in &d.records {
                out.clear();
                // SAFETY: an OwnedRecord's string slots point at its own bytes.
                unsafe { enc.encode(black_box(&r.slots), &mut out) }.unwrap();
                black_box(&out);
            }
        })
    });
    g.finish();

    let values: Vec<Json> = d.values.iter().map(|v| record_value(d, v)).collect();
    bench_serde(c, &group, "serde_json_value", &values);
    if let Some(logs) = conn_logs(d) {
        bench_serde(c, &group, "serde_json_struct", &logs);
    }
}

/// Long strings: the first 16 conn records, each with a `pad` string field
/// of `n` printable characters appended (`benches/zeek/bench.zeek`'s
/// `padding`: `"%02d "` of the record's index, then Lorem ipsum, cut at
/// `n`), as the in-Zeek benchmark's 1k and 10k records have. Nothing in it
/// needs escaping, so Zeek's JSON for a record is its conn JSON with
/// `,"pad":"<text>"` before the closing brace.
fn padded(conn: &Dump, name: &str, n: usize) -> Dump {
    const WORDS: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do \
                         eiusmod tempor incididunt ut labore et dolore magna aliqua. ";
    let mut fields = conn.fields.clone();
    fields.push(FieldSpec::new("pad", Kind::String, Kind::Other, true));
    let mut d = Dump {
        name: name.to_string(),
        path: conn.path.clone(),
        fields,
        records: Vec::new(),
        values: Vec::new(),
        zeek: Vec::new(),
    };
    for (i, (values, zeek)) in conn.values.iter().zip(&conn.zeek).take(16).enumerate() {
        let mut text = format!("{i:02} ");
        while text.len() < n {
            text.push_str(WORDS);
        }
        text.truncate(n);
        let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
        let mut values = values.clone();
        values.push(serde_json::json!({"t": "string", "v": hex}));
        let mut json = zeek[..zeek.len() - 1].to_vec();
        json.extend_from_slice(format!(",\"pad\":\"{text}\"}}").as_bytes());
        d.records.push(OwnedRecord::from_values(&values).unwrap());
        d.values.push(values);
        d.zeek.push(json);
    }
    d
}

/// `BENCH_LOOP=<case>:<rounds>[:<function>]`: no criterion, just `rounds`
/// passes of `function` (`zeek_encoder`, the default, `serde_json_value` or
/// `serde_json_struct`) over the case's records, for a profiler or an
/// instruction counter (`valgrind --tool=cachegrind`; two round counts and
/// the difference give instructions per record without the set-up). Prints
/// the time per record of the passes alone.
fn plain_loop(cases: &[Dump], spec: &str) {
    let mut parts = spec.split(':');
    let name = parts.next().unwrap_or_default();
    let rounds: u64 = parts.next().and_then(|r| r.parse().ok()).unwrap_or(1000);
    let function = parts.next().unwrap_or("zeek_encoder");
    let d = cases
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("BENCH_LOOP: no case {name}"));
    let mut out = Vec::with_capacity(1 << 16);
    let serde_loop = |items: &[&dyn erased::Serialize], out: &mut Vec<u8>| {
        let start = Instant::now();
        for _ in 0..rounds {
            for item in items {
                out.clear();
                erased::to_writer(out, *item);
                black_box(&out);
            }
        }
        start.elapsed()
    };
    let elapsed = match function {
        "zeek_encoder" => {
            let enc = Encoder::new(&d.fields, JsonOptions::default());
            let start = Instant::now();
            for _ in 0..rounds {
                for r in &d.records {
                    out.clear();
                    // SAFETY: an OwnedRecord's string slots point at its own bytes.
                    unsafe { enc.encode(black_box(&r.slots), &mut out) }.unwrap();
                    black_box(&out);
                }
            }
            start.elapsed()
        }
        "serde_json_value" => {
            let values: Vec<Json> = d.values.iter().map(|v| record_value(d, v)).collect();
            let items: Vec<&dyn erased::Serialize> = values.iter().map(|v| v as _).collect();
            serde_loop(&items, &mut out)
        }
        "serde_json_struct" => {
            let logs = conn_logs(d).expect("serde_json_struct: not a conn case");
            let items: Vec<&dyn erased::Serialize> = logs.iter().map(|v| v as _).collect();
            serde_loop(&items, &mut out)
        }
        other => panic!("BENCH_LOOP: unknown function {other}"),
    };
    println!(
        "{} rounds of {function} over {} {name} records: {:.1} ns/record",
        rounds,
        d.records.len(),
        elapsed.as_nanos() as f64 / (rounds * d.records.len() as u64) as f64
    );
}

/// Just enough type erasure to loop over either kind of serde item.
mod erased {
    pub trait Serialize {
        fn write(&self, out: &mut Vec<u8>);
    }

    impl<T: serde::Serialize> Serialize for T {
        fn write(&self, out: &mut Vec<u8>) {
            serde_json::to_writer(out, self).unwrap();
        }
    }

    pub fn to_writer(out: &mut Vec<u8>, item: &dyn Serialize) {
        item.write(out);
    }
}

fn main() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let started = SystemTime::now();
    let mut c = common::criterion();
    let mut cases = Vec::new();
    for (name, files) in ENCODER_CASES {
        let files = common::case_files(&dir, files);
        match common::load(&dir, name, &files) {
            Some(d) => cases.push(d),
            None => eprintln!("skipping {name}: not in the corpus"),
        }
    }
    if let Some(conn) = cases.iter().find(|d| d.name == "conn-all") {
        let pads = [
            padded(conn, "pad-1k", 1_000),
            padded(conn, "pad-10k", 10_000),
        ];
        cases.extend(pads);
    }
    if let Ok(spec) = std::env::var("BENCH_LOOP") {
        plain_loop(&cases, &spec);
        return;
    }
    for d in &cases {
        bench_case(&mut c, d);
    }
    c.final_summary();

    println!("\nSummary (this run; ratio = zeek_encoder throughput / reference throughput):");
    println!("| case | records | zeek_encoder rec/s | MB/s | ns/record | vs serde_json_value | vs serde_json_struct |");
    println!("|---|---|---|---|---|---|---|");
    for d in &cases {
        let group = format!("encode-{}", d.name);
        let Some(ours) = common::estimate_ns(&group, "zeek_encoder", started) else {
            continue;
        };
        let n = d.records.len() as f64;
        let ratio = |f: &str| {
            common::estimate_ns(&group, f, started)
                .map_or("-".to_string(), |t| format!("{:.2}x", t / ours))
        };
        println!(
            "| {} | {} | {:.2} M | {:.0} | {:.0} | {} | {} |",
            d.name,
            d.records.len(),
            n / ours * 1e3,
            d.json_bytes() as f64 / ours * 1e3,
            ours / n,
            ratio("serde_json_value"),
            ratio("serde_json_struct"),
        );
    }
    paired_summary(&cases);
}

/// Ratios from alternating short blocks of the encoder and a reference.
///
/// On a shared machine the speed available to one thread changes over
/// seconds (other tenants, frequency), so two criterion measurements taken
/// one after the other can disagree by more than the difference measured.
/// Here each round times ~2 ms of the encoder and ~2 ms of the reference
/// back to back (in alternating order), and the median of the per-round
/// ratios is reported: both sides of every ratio saw the same conditions.
fn paired_summary(cases: &[Dump]) {
    let rounds = if common::quick() { 50 } else { 500 };
    println!(
        "\nPaired ratios (median of {rounds} rounds of alternating ~2 ms blocks; \
         encoder time per record in the same rounds):"
    );
    println!(
        "| case | zeek_encoder ns/record (median) | vs serde_json_value | vs serde_json_struct |"
    );
    println!("|---|---|---|---|");
    for d in cases {
        let enc = Encoder::new(&d.fields, JsonOptions::default());
        let mut out = Vec::with_capacity(1 << 16);
        let mut ours = || {
            for r in &d.records {
                out.clear();
                // SAFETY: an OwnedRecord's string slots point at its own bytes.
                unsafe { enc.encode(black_box(&r.slots), &mut out) }.unwrap();
                black_box(&out);
            }
        };
        let values: Vec<Json> = d.values.iter().map(|v| record_value(d, v)).collect();
        let mut out2 = Vec::with_capacity(1 << 16);
        let mut serde_pass = |items: &[&dyn erased::Serialize]| {
            for item in items {
                out2.clear();
                erased::to_writer(&mut out2, *item);
                black_box(&out2);
            }
        };
        let value_items: Vec<&dyn erased::Serialize> = values.iter().map(|v| v as _).collect();
        let logs = conn_logs(d);
        let struct_items: Option<Vec<&dyn erased::Serialize>> = logs
            .as_ref()
            .map(|l| l.iter().map(|v| v as &dyn erased::Serialize).collect());
        let (ns, vs_value) = paired(rounds, &mut ours, &mut || serde_pass(&value_items));
        let vs_struct = struct_items
            .as_ref()
            .map(|items| paired(rounds, &mut ours, &mut || serde_pass(items)).1);
        println!(
            "| {} | {:.0} | {:.2}x | {} |",
            d.name,
            ns / d.records.len() as f64,
            vs_value,
            vs_struct.map_or("-".to_string(), |r| format!("{r:.2}x"))
        );
    }
}

/// Median ns per call of `ours`, and the median over rounds of
/// (reference time / ours time), from alternating blocks of ~2 ms.
fn paired(rounds: usize, ours: &mut dyn FnMut(), reference: &mut dyn FnMut()) -> (f64, f64) {
    let calls_for = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        let mut calls = 0u32;
        while start.elapsed() < Duration::from_millis(2) {
            f();
            calls += 1;
        }
        calls.max(1)
    };
    let (n_ours, n_ref) = (calls_for(ours), calls_for(reference));
    let time = |f: &mut dyn FnMut(), n: u32| {
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        start.elapsed().as_nanos() as f64 / n as f64
    };
    let mut ns = Vec::with_capacity(rounds);
    let mut ratios = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let (a, b) = if i % 2 == 0 {
            let a = time(ours, n_ours);
            (a, time(reference, n_ref))
        } else {
            let b = time(reference, n_ref);
            (time(ours, n_ours), b)
        };
        ns.push(a);
        ratios.push(b / a);
    }
    (median(&mut ns), median(&mut ratios))
}
