//! One log record to the JSON line Zeek's own JSON formatter writes,
//! byte for byte (`src/threading/formatters/JSON.cc` in Zeek 8.0).
//!
//! The record arrives as the flat slot list of the record model (see
//! [`crate::record::Slot`]); the encoder walks it once and appends to a
//! buffer the caller reuses, so the hot path allocates nothing.

mod addr;
mod cached_powers;
mod double;
mod out;
mod string;
mod time;

pub use addr::{push_ipv4, push_ipv6};
pub use double::push_double;
pub use string::{push_json_escaped, push_zeek_string};
pub use time::{push_time, TimestampFormat};

use crate::record::{FieldSpec, Kind, Slot};
use out::Cursor;
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

/// `{"_path":"<path>"`: what a one-frame message (`JSON_WITH_PATH`) starts
/// with, before the record's first field (the path JSON-escaped as keys
/// are).
pub fn path_key(path: &[u8]) -> Vec<u8> {
    let mut key = b"{\"_path\":\"".to_vec();
    push_json_escaped(&mut key, path);
    key.push(b'"');
    key
}

/// `{"_path":"<path>",`: the first bytes of every one-frame message of a
/// record with fields, which a subscriber of that path subscribes to.
pub fn path_topic(path: &[u8]) -> Vec<u8> {
    let mut topic = path_key(path);
    topic.push(b',');
    topic
}

/// Appends Zeek's JSON line `json` (an object) with `"_path":"<path>"`
/// as its first key: `{"_path":"conn","ts":...}`, or `{"_path":"x"}` for
/// `{}`.
pub fn push_json_with_path(out: &mut Vec<u8>, path: &[u8], json: &[u8]) {
    out.extend_from_slice(b"{\"_path\":\"");
    push_json_escaped(out, path);
    out.push(b'"');
    let fields = json.strip_prefix(b"{").unwrap_or(json);
    if !fields.starts_with(b"}") {
        out.push(b',');
    }
    out.extend_from_slice(fields);
}

/// The inverse of [`push_json_with_path`] for a path without escapes:
/// splits `{"_path":"<path>",<fields>}` into the path and `<fields>}` (a
/// record without fields gives `}`). `None` if the frame does not start
/// with such a `_path` key.
pub fn split_json_with_path(frame: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = frame.strip_prefix(b"{\"_path\":\"")?;
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    let (path, after) = (&rest[..end], &rest[end..]);
    match after.strip_prefix(b"\",") {
        Some(fields) => Some((path, fields)),
        None if after == b"\"}" => Some((path, b"}")),
        None => None,
    }
}

/// Encodes records of one schema.
pub struct Encoder {
    /// `,"name":` for every field (escaped once, here), back to back, then
    /// 16 bytes of padding so that keys can be copied in 16-byte blocks.
    keys: Vec<u8>,
    /// Each field's key in `keys`: offset and length, the comma included.
    spans: Vec<(u32, u32)>,
    opts: JsonOptions,
    /// Written before the first field instead of `{` ([`path_key`], for
    /// one-frame messages); empty: none.
    path_key: Vec<u8>,
}

impl Encoder {
    pub fn new(fields: &[FieldSpec], opts: JsonOptions) -> Encoder {
        let mut keys = Vec::new();
        let mut spans = Vec::with_capacity(fields.len());
        for f in fields {
            let start = keys.len();
            keys.extend_from_slice(b",\"");
            push_json_escaped(&mut keys, f.name.as_bytes());
            keys.extend_from_slice(b"\":");
            spans.push((start as u32, (keys.len() - start) as u32));
        }
        keys.resize(keys.len() + 16, 0);
        Encoder {
            keys,
            spans,
            opts,
            path_key: Vec::new(),
        }
    }

    /// Makes every record start with `"_path":"<path>"` as its first key
    /// (`{"_path":"conn","ts":...}`): the one-frame message format.
    pub fn with_path_key(mut self, path: &[u8]) -> Encoder {
        self.path_key = path_key(path);
        self
    }

    pub fn num_fields(&self) -> usize {
        self.spans.len()
    }

    /// Appends the JSON object for one record (no newline) to `out`.
    ///
    /// # Safety
    /// Every string slot's `data`/`len` must point at `len` readable bytes
    /// for the duration of the call (the shim passes Zeek's own buffers).
    pub unsafe fn encode(&self, slots: &[Slot], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        // With a path key, the fields follow it, each with its comma.
        out.extend_from_slice(&self.path_key);
        let mut c = Cursor::new(out);
        // Every field is written with a leading comma; without a path key
        // the first one's becomes the `{`.
        let mark = c.len();
        let mut pos = 0;
        for &(off, len) in &self.spans {
            let Some(slot) = slots.get(pos) else {
                return Err(EncodeError(format!(
                    "record has fewer values than the schema's {} fields",
                    self.spans.len()
                )));
            };
            if !slot.present {
                pos += 1;
                if !self.opts.include_unset {
                    continue;
                }
            }
            // The key (block-copied: `keys` is padded for it), and room for
            // any value but a string, address or container, which reserve
            // for themselves.
            c.reserve(len as usize + 16 + FIXED_VALUE_ROOM);
            // SAFETY: the key's bytes rounded up to 16 are inside `keys`
            // (16 bytes of padding follow the last key) and fit in the room
            // reserved, which leaves FIXED_VALUE_ROOM for the value; the
            // caller's promise covers the string slots.
            unsafe {
                c.put_blocks(self.keys.as_ptr().add(off as usize), len as usize);
                if slot.present {
                    pos = self.present_value(&mut c, slot, slots, pos)?;
                } else {
                    c.put(b"null");
                }
            }
        }
        if pos != slots.len() {
            return Err(EncodeError(format!(
                "record has {} slots, the schema uses {pos}",
                slots.len()
            )));
        }
        c.reserve(2);
        // SAFETY: reserved just above, for at most two bytes.
        unsafe {
            if self.path_key.is_empty() {
                if c.len() == mark {
                    c.put_byte(b'{');
                } else {
                    c.set(mark, b'{');
                }
            }
            c.put_byte(b'}');
        }
        Ok(())
    }

    /// Writes the value at `slots[pos]`; returns the position after it.
    ///
    /// # Safety
    /// Room for [`FIXED_VALUE_ROOM`] bytes must have been reserved, and
    /// the string slots must be readable (see [`Encoder::encode`]).
    #[inline(always)]
    unsafe fn value(
        &self,
        c: &mut Cursor,
        slots: &[Slot],
        pos: usize,
    ) -> Result<usize, EncodeError> {
        let s = &slots[pos];
        // SAFETY: "null" fits in the room reserved; otherwise the caller's
        // promises pass on unchanged.
        unsafe {
            if !s.present {
                c.put(b"null");
                return Ok(pos + 1);
            }
            self.present_value(c, s, slots, pos)
        }
    }

    /// [`Encoder::value`] for `s = &slots[pos]`, known to be present.
    ///
    /// # Safety
    /// As [`Encoder::value`].
    #[inline(always)]
    unsafe fn present_value(
        &self,
        c: &mut Cursor,
        s: &Slot,
        slots: &[Slot],
        pos: usize,
    ) -> Result<usize, EncodeError> {
        // SAFETY: every arm stores at most FIXED_VALUE_ROOM bytes before it
        // reserves more ("false", 20 digits or a sign and 20, "null", the
        // opening quote; the subnet's suffix reserves its 22 first); the
        // string slot's bytes are readable by the caller's promise, which
        // `container` gets too.
        unsafe {
            match s.kind {
                Kind::Bool => {
                    if s.boolean() {
                        c.put(b"true");
                    } else {
                        c.put(b"false");
                    }
                }
                Kind::Int => c.put_i64(s.int()),
                Kind::Count => c.put_u64(s.count()),
                Kind::Port => c.put_u64(s.port()),
                Kind::Double | Kind::Interval => double::write_double(c, s.seconds()),
                Kind::Time => time::write_time(c, s.seconds(), self.opts.timestamps),
                Kind::Addr => {
                    c.put_byte(b'"');
                    addr::write_addr(c, s.addr());
                    c.reserve(1);
                    c.put_byte(b'"');
                }
                Kind::Subnet => {
                    c.put_byte(b'"');
                    addr::write_addr(c, s.addr());
                    c.reserve(1 + 20 + 1);
                    c.put_byte(b'/');
                    c.put_u64(s.prefix_len() as u64);
                    c.put_byte(b'"');
                }
                Kind::String | Kind::Enum | Kind::File | Kind::Func => {
                    string::write_zeek_string(c, s.bytes());
                }
                Kind::Set | Kind::Vector => return self.container(c, slots, pos),
                _ => c.put(b"null"),
            }
        }
        Ok(pos + 1)
    }

    /// Writes the set or vector at `slots[pos]` and its elements.
    ///
    /// # Safety
    /// As [`Encoder::value`].
    #[inline(never)]
    unsafe fn container(
        &self,
        c: &mut Cursor,
        slots: &[Slot],
        pos: usize,
    ) -> Result<usize, EncodeError> {
        let s = &slots[pos];
        // SAFETY: the `[` is one byte of the room the caller reserved.
        unsafe { c.put_byte(b'[') };
        let mut next = pos + 1;
        for i in 0..s.elements() {
            c.reserve(1 + FIXED_VALUE_ROOM);
            if i > 0 {
                // SAFETY: reserved just above, leaving FIXED_VALUE_ROOM.
                unsafe { c.put_byte(b',') };
            }
            if next >= slots.len() {
                return Err(EncodeError(format!(
                    "container announces {} elements, the record ends after {i}",
                    s.elements()
                )));
            }
            // SAFETY: FIXED_VALUE_ROOM is left of the reservation above;
            // the caller's promise covers the string slots.
            next = unsafe { self.value(c, slots, next) }?;
        }
        c.reserve(1);
        // SAFETY: reserved just above.
        unsafe { c.put_byte(b']') };
        Ok(next)
    }
}

/// Room [`Encoder::value`] needs reserved: the longest bool, count, int,
/// `null`, `[` or `"` (strings, doubles, times, addresses and containers
/// reserve for the rest themselves).
const FIXED_VALUE_ROOM: usize = 24;

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(enc: &Encoder, slots: &[Slot]) -> String {
        let mut out = Vec::new();
        // SAFETY: no string slots.
        unsafe { enc.encode(slots, &mut out) }.unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_path_key_comes_first_and_the_fields_follow_it() {
        let fields = [
            FieldSpec::new("a", Kind::Count, Kind::Other, false),
            FieldSpec::new("b", Kind::Count, Kind::Other, true),
        ];
        let enc = Encoder::new(&fields, JsonOptions::default()).with_path_key(b"conn");
        let a = Slot::from_count(1);
        let b = Slot::from_count(2);
        assert_eq!(encode(&enc, &[a, b]), r#"{"_path":"conn","a":1,"b":2}"#);
        let unset = Slot::unset(Kind::Count);
        assert_eq!(encode(&enc, &[unset, unset]), r#"{"_path":"conn"}"#);
        let plain = Encoder::new(&fields, JsonOptions::default());
        assert_eq!(encode(&plain, &[unset, unset]), "{}");
        assert_eq!(encode(&plain, &[a, unset]), r#"{"a":1}"#);
    }

    #[test]
    fn the_path_is_escaped_and_its_topic_is_the_prefix() {
        assert_eq!(path_key(b"we\"ird\n"), br#"{"_path":"we\"ird\n""#.to_vec());
        assert_eq!(path_topic(b"dns"), br#"{"_path":"dns","#.to_vec());
        let mut out = Vec::new();
        push_json_with_path(&mut out, b"x", b"{}");
        push_json_with_path(&mut out, b"y", br#"{"a":1}"#);
        assert_eq!(out, br#"{"_path":"x"}{"_path":"y","a":1}"#.to_vec());
    }

    #[test]
    fn a_frame_splits_into_its_path_and_fields() {
        let split = split_json_with_path;
        assert_eq!(
            split(br#"{"_path":"conn","a":1}"#),
            Some((&b"conn"[..], &br#""a":1}"#[..]))
        );
        assert_eq!(split(br#"{"_path":"x"}"#), Some((&b"x"[..], &b"}"[..])));
        for not in [
            &br#"{"a":1,"_path":"conn"}"#[..],
            br#"{"_path":"we"ird","a":1}"#,
            br#"{"_path":"conn""#,
            br#"{"_path":"conn"]"#,
            b"",
        ] {
            assert_eq!(split(not), None, "{}", String::from_utf8_lossy(not));
        }
    }
}
