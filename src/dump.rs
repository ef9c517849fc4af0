//! Reads the conformance corpus's `.dump.jsonl` format (the typed values a
//! writer receives, see `../shared/zeek-corpus/README.md`) into the same
//! slot lists the shim builds from `threading::Value`s. Used by the tests and
//! benchmarks to drive the real entry points without Zeek.

use crate::record::{FieldSpec, Kind, Proto, Slot};
use serde_json::Value as Json;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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

/// A dump's first line: the path and the schema.
pub fn parse_schema(line: &str) -> Result<(String, Vec<FieldSpec>), String> {
    let j: Json = serde_json::from_str(line).map_err(|e| format!("schema: {e}"))?;
    let path = j["path"].as_str().ok_or("schema: no path")?.to_string();
    let fields = j["fields"]
        .as_array()
        .ok_or("schema: no fields")?
        .iter()
        .map(|f| {
            FieldSpec::new(
                f["name"].as_str().unwrap_or_default(),
                Kind::from_zeek_name(f["type"].as_str().unwrap_or_default()),
                Kind::from_zeek_name(f["subtype"].as_str().unwrap_or_default()),
                f["optional"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    Ok((path, fields))
}

/// A record's slots plus the bytes its string slots point into.
pub struct OwnedRecord {
    pub slots: Vec<Slot>,
    _bytes: Vec<Box<[u8]>>,
}

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

    /// Appends the slot(s) of one value: `null`, or `{"t": TYPE, "v": X}`.
    fn push(&mut self, v: &Json) -> Result<(), String> {
        if v.is_null() {
            self.slots.push(Slot::unset(Kind::Other));
            return Ok(());
        }
        let t = v["t"].as_str().ok_or("value without type")?;
        let x = &v["v"];
        let kind = Kind::from_zeek_name(t);
        let bad = || format!("bad {t} value {x}");
        let number = || x.as_str().ok_or_else(bad);
        let slot = match kind {
            Kind::Bool => Slot::from_bool(x.as_bool().ok_or_else(bad)?),
            Kind::Int => Slot::from_int(number()?.parse().map_err(|_| bad())?),
            Kind::Count => Slot::from_count(number()?.parse().map_err(|_| bad())?),
            Kind::Double | Kind::Time | Kind::Interval => {
                let bits = u64::from_str_radix(number()?, 16).map_err(|_| bad())?;
                Slot::from_seconds(kind, f64::from_bits(bits))
            }
            Kind::Port => {
                let proto = match x["proto"].as_str() {
                    Some("tcp") => Proto::Tcp,
                    Some("udp") => Proto::Udp,
                    Some("icmp") => Proto::Icmp,
                    _ => Proto::Unknown,
                };
                Slot::from_port(x["port"].as_u64().ok_or_else(bad)?, proto)
            }
            Kind::Addr => Slot::from_addr(addr(x.as_str().ok_or_else(bad)?)?),
            Kind::Subnet => Slot::from_subnet_ipv6_bits(
                addr(x["prefix"].as_str().ok_or_else(bad)?)?,
                x["len"].as_u64().ok_or_else(bad)? as u32,
            ),
            Kind::String | Kind::Enum | Kind::File | Kind::Func => {
                let bytes: Box<[u8]> = hex(x.as_str().ok_or_else(bad)?)?.into();
                // The box's bytes stay where they are while `_bytes` holds it.
                let slot = Slot::from_bytes(kind, &bytes);
                self._bytes.push(bytes);
                slot
            }
            Kind::Set | Kind::Vector => {
                let elems = x.as_array().ok_or_else(bad)?;
                self.slots.push(Slot::container(kind, elems.len() as u32));
                return elems.iter().try_for_each(|e| self.push(e));
            }
            _ => Slot::no_data(kind),
        };
        self.slots.push(slot);
        Ok(())
    }
}

/// An address in the dump's form: `4:` and 8 hex digits, or `6:` and 32.
fn addr(s: &str) -> Result<IpAddr, String> {
    let bad = || format!("bad addr {s}");
    let (family, digits) = s.split_once(':').ok_or_else(bad)?;
    let raw = hex(digits)?;
    match (family, raw.len()) {
        ("4", 4) => Ok(IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))),
        ("6", 16) => Ok(IpAddr::V6(Ipv6Addr::from(
            <[u8; 16]>::try_from(raw).expect("16 bytes"),
        ))),
        _ => Err(bad()),
    }
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
