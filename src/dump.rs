//! Reads the conformance corpus's `.dump.jsonl` format (the typed values a
//! writer receives, see `../shared/zeek-corpus/README.md`) into the same
//! slot lists the shim builds from `threading::Value`s. Used by the tests and
//! benchmarks to drive the real entry points without Zeek.

use crate::bridge::{FieldSpec, Kind, Slot};
use crate::encoder::pack_addr;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// Where the conformance corpus is: `$ZEEK_CORPUS`, else
/// `../shared/zeek-corpus` beside this crate. When it is absent: `None`
/// after a `SKIPPED` note on stderr, or a panic if `REQUIRE_CORPUS` is set
/// (CI sets it, so that nothing skips there).
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("ZEEK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/zeek-corpus"));
    if dir.is_dir() {
        Some(dir)
    } else if std::env::var_os("REQUIRE_CORPUS").is_some() {
        panic!(
            "corpus not found at {} (REQUIRE_CORPUS is set)",
            dir.display()
        );
    } else {
        eprintln!(
            "SKIPPED: corpus not found at {} (set ZEEK_CORPUS)",
            dir.display()
        );
        None
    }
}

/// Maps a Zeek type name (`count`, `table`, ...) to a slot kind.
pub fn kind_from_name(name: &str) -> Kind {
    match name {
        "bool" => Kind::Bool,
        "int" => Kind::Int,
        "count" => Kind::Count,
        "double" => Kind::Double,
        "time" => Kind::Time,
        "interval" => Kind::Interval,
        "port" => Kind::Port,
        "addr" => Kind::Addr,
        "subnet" => Kind::Subnet,
        "string" => Kind::String,
        "enum" => Kind::Enum,
        "file" => Kind::File,
        "func" => Kind::Func,
        "table" | "set" => Kind::Set,
        "vector" => Kind::Vector,
        _ => Kind::Other,
    }
}

/// A dump's first line: the path and the schema.
pub fn parse_schema(line: &str) -> Result<(String, Vec<FieldSpec>), String> {
    let j: Json = serde_json::from_str(line).map_err(|e| format!("schema: {e}"))?;
    let path = j["path"].as_str().ok_or("schema: no path")?.to_string();
    let fields = j["fields"]
        .as_array()
        .ok_or("schema: no fields")?
        .iter()
        .map(|f| FieldSpec {
            name: f["name"].as_str().unwrap_or_default().to_string(),
            kind: kind_from_name(f["type"].as_str().unwrap_or_default()),
            sub: kind_from_name(f["subtype"].as_str().unwrap_or_default()),
            optional: f["optional"].as_bool().unwrap_or(false),
        })
        .collect();
    Ok((path, fields))
}

/// A record's slots plus the bytes its string slots point into.
pub struct OwnedRecord {
    pub slots: Vec<Slot>,
    _bytes: Vec<Box<[u8]>>,
}

// The slots only point into `_bytes`, which the record owns and never mutates.
unsafe impl Send for OwnedRecord {}

impl OwnedRecord {
    /// Builds a record from typed values (`None` = not present).
    pub fn from_values(values: &[Json]) -> Result<OwnedRecord, String> {
        let mut rec = OwnedRecord {
            slots: Vec::new(),
            _bytes: Vec::new(),
        };
        for v in values {
            rec.push(v)?;
        }
        Ok(rec)
    }

    fn push(&mut self, v: &Json) -> Result<(), String> {
        let mut slot = Slot::new(Kind::Other, false);
        if v.is_null() {
            self.slots.push(slot);
            return Ok(());
        }
        let t = v["t"].as_str().ok_or("value without type")?;
        let x = &v["v"];
        slot.kind = kind_from_name(t);
        slot.present = true;
        let bad = || format!("bad {t} value {x}");
        match slot.kind {
            Kind::Bool => slot.a = x.as_bool().ok_or_else(bad)? as u64,
            Kind::Int => {
                slot.a = x
                    .as_str()
                    .and_then(|s| s.parse::<i64>().ok())
                    .ok_or_else(bad)? as u64
            }
            Kind::Count => slot.a = x.as_str().and_then(|s| s.parse().ok()).ok_or_else(bad)?,
            Kind::Double | Kind::Time | Kind::Interval => {
                slot.a = x
                    .as_str()
                    .and_then(|s| u64::from_str_radix(s, 16).ok())
                    .ok_or_else(bad)?
            }
            Kind::Port => {
                slot.a = x["port"].as_u64().ok_or_else(bad)?;
                slot.aux = match x["proto"].as_str() {
                    Some("tcp") => 1,
                    Some("udp") => 2,
                    Some("icmp") => 3,
                    _ => 0,
                };
            }
            Kind::Addr => set_addr(&mut slot, x.as_str().ok_or_else(bad)?)?,
            Kind::Subnet => {
                set_addr(&mut slot, x["prefix"].as_str().ok_or_else(bad)?)?;
                slot.n = x["len"].as_u64().ok_or_else(bad)? as u32;
            }
            Kind::String | Kind::Enum | Kind::File | Kind::Func => {
                let bytes: Box<[u8]> = hex(x.as_str().ok_or_else(bad)?)?.into();
                slot.data = bytes.as_ptr() as usize;
                slot.len = bytes.len();
                self._bytes.push(bytes);
            }
            Kind::Set | Kind::Vector => {
                let elems = x.as_array().ok_or_else(bad)?;
                slot.n = elems.len() as u32;
                self.slots.push(slot);
                for e in elems {
                    self.push(e)?;
                }
                return Ok(());
            }
            _ => {}
        }
        self.slots.push(slot);
        Ok(())
    }
}

fn set_addr(slot: &mut Slot, s: &str) -> Result<(), String> {
    let (fam, digits) = s.split_once(':').ok_or_else(|| format!("bad addr {s}"))?;
    let raw = hex(digits)?;
    let mut bytes = [0u8; 16];
    match (fam, raw.len()) {
        ("4", 4) => slot.aux = 4,
        ("6", 16) => slot.aux = 6,
        _ => return Err(format!("bad addr {s}")),
    }
    bytes[..raw.len()].copy_from_slice(&raw);
    (slot.a, slot.b) = pack_addr(&bytes);
    Ok(())
}

/// Decodes lowercase or uppercase hex.
pub fn hex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd-length hex {s}"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("hex {s}: {e}")))
        .collect()
}

/// One record line of a dump: the values and Zeek's JSON per mode.
pub struct DumpRecord {
    pub record: OwnedRecord,
    /// (mode name, Zeek's JSON) for `epoch`, `iso8601`, ...
    pub zeek: Vec<(String, String)>,
}

pub fn parse_record(line: &str) -> Result<DumpRecord, String> {
    let j: Json = serde_json::from_str(line).map_err(|e| format!("record: {e}"))?;
    let record = OwnedRecord::from_values(j["values"].as_array().ok_or("record: no values")?)?;
    let zeek = j["zeek"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Ok(DumpRecord { record, zeek })
}
