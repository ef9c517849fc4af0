//! Strings exactly as Zeek's JSON formatter writes them.
//!
//! Zeek first passes the raw bytes through `util::json_escape_utf8`: if the
//! string is valid UTF-8 without "bad" code points it stays as it is;
//! otherwise every byte outside printable ASCII (and the five short-escaped
//! controls) becomes the four characters `\xNN`. rapidjson then applies
//! JSON string escaping. Both passes happen here in one scan of the bytes in
//! the common (valid) case.

mod scan;

use super::out::Cursor;
use scan::skip_pass;

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

/// Appends `"` + the Zeek JSON form of the raw string `bytes` + `"`.
pub fn push_zeek_string(out: &mut Vec<u8>, bytes: &[u8]) {
    write_zeek_string(&mut Cursor::new(out), bytes)
}

/// [`push_zeek_string`] at a cursor.
///
/// One pass in the common case: runs of plain ASCII are found by
/// [`skip_pass`] (16 or 32 bytes per compare on x86-64, see `string/scan.rs`)
/// and copied whole; valid UTF-8 sequences are checked and stay in the
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

    /// Lengths for the tests below: all up to 200, and longer ones around
    /// block multiples (fewer in debug builds).
    fn lengths() -> Vec<usize> {
        if cfg!(debug_assertions) {
            return (0..=70).chain([129, 257, 1025]).collect();
        }
        let mut v: Vec<usize> = (0..=200).collect();
        v.extend([255, 256, 257, 511, 512, 513, 1000, 1024, 1025, 4103, 10_000]);
        v
    }

    /// Plain text of `len` bytes that uses every plain byte.
    fn plain(len: usize) -> Vec<u8> {
        let plain: Vec<u8> = (0x20..0x7F).filter(|&b| b != b'"' && b != b'\\').collect();
        (0..len).map(|k| plain[(k * 7) % plain.len()]).collect()
    }

    /// Single bytes of every kind, and UTF-8 sequences Zeek keeps or calls
    /// bad, at every position of plain strings of every length up to 200
    /// (so at every offset in and across 16-, 32-, 64- and 128-byte
    /// blocks, and in the tails), and near block boundaries and the ends
    /// of longer ones.
    #[test]
    fn pieces_at_every_position_match_the_rules() {
        let mut pieces: Vec<Vec<u8>> = [
            0x00u8, 0x01, 0x08, 0x09, 0x0A, 0x0C, 0x0D, 0x1F, 0x20, 0x21, b'"', 0x23, 0x5B, b'\\',
            0x5D, 0x7E, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5,
            0xFF,
        ]
        .iter()
        .map(|&b| vec![b])
        .collect();
        for seq in [
            "é",
            "€",
            "☃",
            "😀",
            "\u{10FFFF}",
            "\u{A0}",
            "\u{D7FF}",
            "\u{E000}",
            "\u{F8FF}",
            "\u{F900}",
            "\u{FFEF}",
            "\u{FFF0}",
            "\u{80}",
            "\u{9F}",
        ] {
            pieces.push(seq.as_bytes().to_vec());
        }
        pieces.extend([
            b"\xe2\x82".to_vec(),         // truncated
            b"\xc0\xaf".to_vec(),         // overlong
            b"\xed\xa0\x80".to_vec(),     // surrogate
            b"\xf4\x90\x80\x80".to_vec(), // above U+10FFFF
            b"\xc3\x28".to_vec(),         // bad continuation
            b"\xf0\x9f\x98".to_vec(),     // 4-byte sequence cut short
            b"a\"b\\c\n".to_vec(),        // escapes back to back
        ]);
        for len in lengths() {
            let base = plain(len);
            let positions: Vec<usize> = if len <= 200 {
                (0..len).collect()
            } else {
                let near_ends = (0..70).chain(len.saturating_sub(70)..len);
                let near_blocks =
                    (0..len).filter(|p| matches!(p % 128, 0 | 13..=17 | 30..=33 | 127));
                let set: std::collections::BTreeSet<usize> =
                    near_ends.chain(near_blocks).filter(|&p| p < len).collect();
                set.into_iter().collect()
            };
            for &p in &positions {
                for piece in &pieces {
                    if p + piece.len() > len {
                        continue;
                    }
                    let mut bytes = base.clone();
                    bytes[p..p + piece.len()].copy_from_slice(piece);
                    let mut out = Vec::new();
                    push_zeek_string(&mut out, &bytes);
                    assert!(out == reference(&bytes), "{bytes:02x?}");
                }
            }
        }
    }

    /// Random strings of up to 3,000 bytes (a seeded xorshift): plain runs
    /// of random length between bytes of every kind and UTF-8 sequences,
    /// valid or not.
    #[test]
    fn random_long_strings_match_the_rules() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let text = plain(4096);
        // The first 9 are good (kept or short-escaped), the others bad.
        let specials: [&[u8]; 14] = [
            b"\"",
            b"\\",
            b"\n",
            b"\t",
            b"\r",
            "é".as_bytes(),
            "€".as_bytes(),
            "😀".as_bytes(),
            "\u{10FFFF}".as_bytes(),
            b"\x01",
            b"\x7f",
            b"\xe2\x82",
            b"\xff",
            "\u{FFF0}".as_bytes(),
        ];
        let rounds = if cfg!(debug_assertions) {
            2_000
        } else {
            30_000
        };
        let mut escaped = 0;
        for _ in 0..rounds {
            let len = (next() % 3000) as usize;
            let mut bytes = Vec::with_capacity(len + 4);
            while bytes.len() < len {
                let run = match next() % 3 {
                    0 => next() % 8,
                    1 => next() % 64,
                    _ => next() % 1024,
                } as usize;
                let from = (next() % 1000) as usize;
                bytes.extend_from_slice(&text[from..from + run]);
                // Mostly good pieces, so that some long strings stay valid.
                if next() % 16 != 0 {
                    bytes.extend_from_slice(specials[(next() % 9) as usize]);
                } else {
                    bytes.extend_from_slice(specials[(next() % 14) as usize]);
                }
            }
            bytes.truncate(len);
            let mut out = b"prefix".to_vec();
            push_zeek_string(&mut out, &bytes);
            assert!(out[6..] == reference(&bytes)[..], "{bytes:02x?}");
            escaped += out.windows(3).any(|w| w == b"\\\\x") as usize;
        }
        // Both outcomes, plenty of each.
        assert!(
            escaped > rounds / 10 && escaped < rounds * 9 / 10,
            "{escaped}"
        );
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
