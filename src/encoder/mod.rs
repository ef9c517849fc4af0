//! One log record to the JSON line Zeek's own JSON formatter writes,
//! byte for byte (`src/threading/formatters/JSON.cc` in Zeek 8.0).
//!
//! The record arrives as the bridge's flat slot list (see
//! [`crate::bridge::ffi::Slot`]); the encoder walks it once and appends to a
//! buffer the caller reuses, so the hot path allocates nothing.

mod addr;
mod cached_powers;
mod double;
mod string;
mod time;

pub use addr::{push_ipv4, push_ipv6};
pub use double::push_double;
pub use string::{push_json_escaped, push_zeek_string};
pub use time::{push_time, TimestampFormat};

use crate::bridge::{FieldSpec, Kind, Slot};
use std::fmt;

/// Formatting choices: `json_timestamps` and `json_include_unset_fields`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonOptions {
    pub timestamps: TimestampFormat,
    pub include_unset: bool,
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions {
            timestamps: TimestampFormat::Epoch,
            include_unset: false,
        }
    }
}

/// The slot list does not describe a record of the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError(pub String);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Encodes records of one schema.
pub struct Encoder {
    /// `"name":` per field, escaped once at init.
    keys: Vec<Vec<u8>>,
    opts: JsonOptions,
}

impl Encoder {
    pub fn new(fields: &[FieldSpec], opts: JsonOptions) -> Encoder {
        let keys = fields
            .iter()
            .map(|f| {
                let mut k = Vec::with_capacity(f.name.len() + 3);
                k.push(b'"');
                push_json_escaped(&mut k, f.name.as_bytes());
                k.extend_from_slice(b"\":");
                k
            })
            .collect();
        Encoder { keys, opts }
    }

    pub fn num_fields(&self) -> usize {
        self.keys.len()
    }

    /// Appends the JSON object for one record (no newline) to `out`.
    ///
    /// # Safety
    /// Every string slot's `data`/`len` must point at `len` readable bytes
    /// for the duration of the call (the shim passes Zeek's own buffers).
    pub unsafe fn encode(&self, slots: &[Slot], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(b'{');
        let mut first = true;
        let mut pos = 0;
        for key in &self.keys {
            let slot = slots.get(pos).ok_or_else(|| {
                EncodeError(format!(
                    "record has fewer values than the schema's {} fields",
                    self.keys.len()
                ))
            })?;
            if !slot.present {
                pos += 1;
                if !self.opts.include_unset {
                    continue;
                }
            }
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(key);
            if slot.present {
                pos = self.value(slots, pos, out)?;
            } else {
                out.extend_from_slice(b"null");
            }
        }
        if pos != slots.len() {
            return Err(EncodeError(format!(
                "record has {} slots, the schema uses {pos}",
                slots.len()
            )));
        }
        out.push(b'}');
        Ok(())
    }

    /// Writes the value at `slots[pos]`; returns the position after it.
    unsafe fn value(
        &self,
        slots: &[Slot],
        pos: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, EncodeError> {
        let s = &slots[pos];
        if !s.present {
            out.extend_from_slice(b"null");
            return Ok(pos + 1);
        }
        let mut num = [0u8; 20];
        match s.kind {
            Kind::Bool => out.extend_from_slice(if s.a != 0 { b"true" } else { b"false" }),
            Kind::Int => {
                let v = s.a as i64;
                if v < 0 {
                    out.push(b'-');
                }
                out.extend_from_slice(double::format_u64(v.unsigned_abs(), &mut num));
            }
            Kind::Count | Kind::Port => {
                out.extend_from_slice(double::format_u64(s.a, &mut num));
            }
            Kind::Double | Kind::Interval => push_double(out, f64::from_bits(s.a)),
            Kind::Time => push_time(out, f64::from_bits(s.a), self.opts.timestamps),
            Kind::Addr => {
                out.push(b'"');
                addr::push_addr(out, s.aux == 4, &addr_bytes(s));
                out.push(b'"');
            }
            Kind::Subnet => {
                out.push(b'"');
                let v4 = s.aux == 4;
                addr::push_addr(out, v4, &addr_bytes(s));
                out.push(b'/');
                let len = if v4 { s.n.saturating_sub(96) } else { s.n };
                out.extend_from_slice(double::format_u64(len as u64, &mut num));
                out.push(b'"');
            }
            Kind::String | Kind::Enum | Kind::File | Kind::Func => {
                push_zeek_string(out, slot_bytes(s));
            }
            Kind::Set | Kind::Vector => {
                out.push(b'[');
                let mut next = pos + 1;
                for i in 0..s.n {
                    if i > 0 {
                        out.push(b',');
                    }
                    if next >= slots.len() {
                        return Err(EncodeError(format!(
                            "container announces {} elements, the record ends after {i}",
                            s.n
                        )));
                    }
                    next = self.value(slots, next, out)?;
                }
                out.push(b']');
                return Ok(next);
            }
            _ => out.extend_from_slice(b"null"),
        }
        Ok(pos + 1)
    }
}

/// The 16 address bytes carried in `a` and `b` (memory order).
fn addr_bytes(s: &Slot) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&s.a.to_ne_bytes());
    b[8..].copy_from_slice(&s.b.to_ne_bytes());
    b
}

/// Packs 16 address bytes into a slot's `a` and `b` (the shim's memcpy).
pub fn pack_addr(bytes: &[u8; 16]) -> (u64, u64) {
    (
        u64::from_ne_bytes(bytes[..8].try_into().unwrap()),
        u64::from_ne_bytes(bytes[8..].try_into().unwrap()),
    )
}

/// # Safety
/// See [`Encoder::encode`].
unsafe fn slot_bytes(s: &Slot) -> &[u8] {
    if s.len == 0 || s.data == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(s.data as *const u8, s.len)
    }
}
