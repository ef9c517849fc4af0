//! Strings exactly as Zeek's JSON formatter writes them.
//!
//! Zeek first passes the raw bytes through `util::json_escape_utf8`: if the
//! string is valid UTF-8 without "bad" code points it stays as it is;
//! otherwise every byte outside printable ASCII (and the five short-escaped
//! controls) becomes the four characters `\xNN`. rapidjson then applies
//! JSON string escaping. Both passes happen here in one scan of the bytes in
//! the common (valid) case.

use super::out::Cursor;

const HEX: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// What rapidjson writes for a byte: 0 = as is, else the escape letter.
const fn json_escape_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0A] = b'n';
    t[0x0C] = b'f';
    t[0x0D] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
}
static JSON_ESCAPE: [u8; 256] = json_escape_table();

/// Appends `bytes` as a JSON string body (no quotes) with rapidjson's
/// escaping; bytes >= 0x80 pass through.
pub fn push_json_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = JSON_ESCAPE[b as usize];
        if esc == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        out.push(b'\\');
        out.push(esc);
        if esc == b'u' {
            out.extend_from_slice(b"00");
            out.push(HEX_UPPER[(b >> 4) as usize]);
            out.push(HEX_UPPER[(b & 0xF) as usize]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

fn is_plain(b: u8) -> bool {
    (0x20..0x7F).contains(&b) || matches!(b, 0x08 | 0x0C | 0x0A | 0x0D | 0x09)
}

/// Length of the valid, acceptable UTF-8 sequence at the start of `s`, or
/// None if Zeek would call it bad (invalid, overlong, truncated, surrogate,
/// above U+10FFFF, or a code point Zeek escapes: controls, U+007F-009F,
/// U+E000-F8FF, U+FFF0-FFFF).
fn good_utf8_len(s: &[u8]) -> Option<usize> {
    let b0 = s[0];
    let (len, min, init) = match b0 {
        0x00..=0x7F => return None, // plain bytes are handled by the caller
        0xC2..=0xDF => (2, 0x80, (b0 & 0x1F) as u32),
        0xE0..=0xEF => (3, 0x800, (b0 & 0x0F) as u32),
        0xF0..=0xF4 => (4, 0x10000, (b0 & 0x07) as u32),
        _ => return None,
    };
    if s.len() < len {
        return None;
    }
    let mut cp = init;
    for &b in &s[1..len] {
        if b & 0xC0 != 0x80 {
            return None;
        }
        cp = (cp << 6) | (b & 0x3F) as u32;
    }
    let bad = cp < min
        || cp > 0x10FFFF
        || (0xD800..=0xDFFF).contains(&cp)
        || (0x7F..=0x9F).contains(&cp)
        || (0xE000..=0xF8FF).contains(&cp)
        || (0xFFF0..=0xFFFF).contains(&cp);
    if bad {
        None
    } else {
        Some(len)
    }
}

/// Bytes that pass unchanged in either pass: printable ASCII except `"` and
/// the backslash.
static PASS: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0x20;
    while i < 0x7F {
        t[i] = i != b'"' as usize && i != b'\\' as usize;
        i += 1;
    }
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of the 8 bytes in `w` is not a [`PASS`] byte (below 0x20,
/// above 0x7E, `"` or backslash). Exact: no false positives or negatives.
#[inline(always)]
fn word_needs_care(w: u64) -> bool {
    let below_0x20 = w.wrapping_sub(ONES * 0x20) & !w;
    let above_0x7e = w.wrapping_add(ONES) | w;
    let q = w ^ (ONES * b'"' as u64);
    let quote = q.wrapping_sub(ONES) & !q;
    let bs = w ^ (ONES * b'\\' as u64);
    let backslash = bs.wrapping_sub(ONES) & !bs;
    (below_0x20 | above_0x7e | quote | backslash) & HIGHS != 0
}

/// Index of the first byte at or after `i` that is not a [`PASS`] byte, or
/// `bytes.len()`.
#[inline(always)]
fn skip_pass(bytes: &[u8], mut i: usize) -> usize {
    let n = bytes.len();
    if n < 8 {
        if i == 0 && n > 0 {
            // Short strings in one test: every byte lands in the word at
            // least once (first, middle and last, or the first and last 4),
            // the rest is padded with a plain byte.
            let w = if n >= 4 {
                let head = u32::from_le_bytes(bytes[..4].try_into().unwrap());
                let tail = u32::from_le_bytes(bytes[n - 4..].try_into().unwrap());
                head as u64 | (tail as u64) << 32
            } else {
                u64::from_le_bytes([
                    bytes[0],
                    bytes[n / 2],
                    bytes[n - 1],
                    b'a',
                    b'a',
                    b'a',
                    b'a',
                    b'a',
                ])
            };
            if !word_needs_care(w) {
                return n;
            }
        }
        while i < n && PASS[bytes[i] as usize] {
            i += 1;
        }
        return i;
    }
    while i + 8 <= n {
        let w = u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap());
        if word_needs_care(w) {
            break;
        }
        i += 8;
    }
    if i < n && n >= 8 && i + 8 > n {
        // The last 8 bytes, overlapping what was checked already.
        let w = u64::from_le_bytes(bytes[n - 8..].try_into().unwrap());
        if !word_needs_care(w) {
            return n;
        }
    }
    while i < n && PASS[bytes[i] as usize] {
        i += 1;
    }
    i
}

/// Appends `"` + the Zeek JSON form of the raw string `bytes` + `"`.
pub fn push_zeek_string(out: &mut Vec<u8>, bytes: &[u8]) {
    write_zeek_string(&mut Cursor::new(out), bytes)
}

/// [`push_zeek_string`] at a cursor.
///
/// One pass in the common case: runs of plain ASCII are found 8 bytes at a
/// time and copied whole; valid UTF-8 sequences are checked and stay in the
/// run; `"`, backslash and the five short escapes are written as they come.
/// The first bad byte (which makes Zeek escape the whole string) restarts
/// the string in the escaped form.
#[inline(always)]
pub(crate) fn write_zeek_string(c: &mut Cursor, bytes: &[u8]) {
    let n = bytes.len();
    c.reserve(n + 2);
    // SAFETY: reserved above.
    unsafe { c.put_byte(b'"') };
    let mark = c.len();
    let mut start = 0;
    let mut i = 0;
    loop {
        i = skip_pass(bytes, i);
        if i == n {
            break;
        }
        let b = bytes[i];
        if b >= 0x80 {
            if let Some(k) = good_utf8_len(&bytes[i..]) {
                i += k;
                continue;
            }
        } else {
            let esc = JSON_ESCAPE[b as usize];
            // 0x7F and the controls without a short escape are bad bytes.
            if esc != 0 && esc != b'u' {
                // The run so far, the escape, and room for the rest.
                c.reserve((i - start) + 2 + (n - i) + 1);
                // SAFETY: reserved just above.
                unsafe {
                    c.put_var(&bytes[start..i]);
                    c.put(&[b'\\', esc]);
                }
                i += 1;
                start = i;
                continue;
            }
        }
        // One bad byte anywhere: redo the whole string escaped.
        c.truncate(mark);
        c.with_vec(|out| {
            push_all_escaped(out, bytes);
            out.push(b'"');
        });
        return;
    }
    c.reserve(n - start + 1);
    // SAFETY: reserved just above.
    unsafe {
        c.put_var(&bytes[start..]);
        c.put_byte(b'"');
    }
}

/// The fallback: every byte outside the plain set as `\xNN`, which JSON
/// escaping turns into `\\xNN`.
fn push_all_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        if is_plain(b) {
            let esc = JSON_ESCAPE[b as usize];
            if esc != 0 {
                out.push(b'\\');
                out.push(esc);
            } else {
                out.push(b);
            }
        } else {
            out.extend_from_slice(b"\\\\x");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xF) as usize]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{good_utf8_len, is_plain, push_all_escaped, push_zeek_string, JSON_ESCAPE};

    /// The byte-at-a-time form of the rules, to check the fast paths against.
    fn reference(bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![b'"'];
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if is_plain(b) {
                match JSON_ESCAPE[b as usize] {
                    0 => out.push(b),
                    esc => out.extend_from_slice(&[b'\\', esc]),
                }
                i += 1;
            } else if let Some(n) = good_utf8_len(&bytes[i..]) {
                out.extend_from_slice(&bytes[i..i + n]);
                i += n;
            } else {
                out.truncate(1);
                push_all_escaped(&mut out, bytes);
                break;
            }
        }
        out.push(b'"');
        out
    }

    #[test]
    fn fast_paths_match_the_byte_at_a_time_rules() {
        const ALPHABET: &[u8] = b"aZ ~/\"\\\n\t\x08\x0c\r\x00\x01\x1f\x7f\x80\xbf\xc3\xa9\xe2\x82\xac\xed\xa0\xf0\x9f\x98\x80\xf4\x90\xff";
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..300_000 {
            let len = (next() % 40) as usize;
            let plain = next() % 4 == 0;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if plain || r % 3 == 0 {
                        b'a' + (r % 26) as u8
                    } else {
                        ALPHABET[(r >> 8) as usize % ALPHABET.len()]
                    }
                })
                .collect();
            let mut out = b"prefix".to_vec();
            push_zeek_string(&mut out, &bytes);
            assert_eq!(&out[6..], &reference(&bytes)[..], "{bytes:?}");
        }
    }

    fn fmt(b: &[u8]) -> String {
        let mut out = Vec::new();
        push_zeek_string(&mut out, b);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn valid_and_bad() {
        assert_eq!(fmt(b"a\"b\\c/d"), r#""a\"b\\c/d""#);
        assert_eq!(fmt(b"tab\there\n"), r#""tab\there\n""#);
        assert_eq!(fmt("héllo ☃".as_bytes()), "\"héllo ☃\"");
        assert_eq!(fmt(b"h\xe9llo"), r#""h\\xe9llo""#);
        assert_eq!(fmt("é\x01".as_bytes()), r#""\\xc3\\xa9\\x01""#);
        assert_eq!(fmt(b"\x7f"), r#""\\x7f""#);
        assert_eq!(fmt(b""), r#""""#);
    }
}
