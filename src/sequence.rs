//! Sequence numbers (`LogZeroMQ::sequence_numbers`): an extra last frame
//! on every message, so that a subscriber can count exactly what it
//! missed.
//!
//! The frame is ASCII: the record's number in decimal, one space, and the
//! writer's id as 16 lowercase hex digits, e.g. `42 9f86d081884c7d65`
//! (at most 33 bytes below number 10^16, which libzmq then keeps inside
//! the message itself). Any language reads it with its string split and
//! integer parser; a number fits a JavaScript `Number` exactly up to 2^53.
//!
//! A writer (one log path of one filter, in one Zeek process) numbers the
//! records Zeek hands it 1, 2, 3, ... in order: every record, also the ones
//! it drops (no subscriber, a subscriber without room, unencodable), so a
//! number missing between two a subscriber received is a record it missed,
//! and the records before the first one it received are those written
//! before it was there. The id is drawn at random when the writer starts:
//! another id on the same path is another writer (Zeek or the writer
//! restarted, or another Zeek publishing the same path), whose numbers start
//! again at 1; not a gap.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The longest frame: 20 digits, a space, 16 hex digits.
const MAX_LEN: usize = 20 + 1 + 16;

/// One writer's numbers.
pub struct Numbering {
    writer: u64,
    last: u64,
}

impl Default for Numbering {
    fn default() -> Self {
        Numbering::new()
    }
}

impl Numbering {
    /// Numbers from 1, under a new random writer id.
    pub fn new() -> Numbering {
        Numbering::with_id(random_id())
    }

    pub fn with_id(writer: u64) -> Numbering {
        Numbering { writer, last: 0 }
    }

    pub fn writer_id(&self) -> u64 {
        self.writer
    }

    /// The next record's frame.
    pub fn next_frame(&mut self) -> SeqFrame {
        self.last += 1;
        SeqFrame::new(self.last, self.writer)
    }
}

/// A writer id: SipHash, keyed by the OS's randomness (std's
/// `RandomState`), of the time, the process id and a count, so that two
/// writers of one process differ too.
fn random_id() -> u64 {
    static WRITERS: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.write_u128(now);
    h.write_u32(std::process::id());
    h.write_u64(WRITERS.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

/// The bytes of one sequence frame.
#[derive(Clone, Copy)]
pub struct SeqFrame {
    len: u8,
    bytes: [u8; MAX_LEN],
}

impl SeqFrame {
    pub fn new(seq: u64, writer: u64) -> SeqFrame {
        let mut bytes = [0u8; MAX_LEN];
        let mut digits = [0u8; 20];
        let mut n = seq;
        let mut len = 0;
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for (to, from) in bytes.iter_mut().zip(digits[..len].iter().rev()) {
            *to = *from;
        }
        bytes[len] = b' ';
        for i in 0..16 {
            let nibble = (writer >> (60 - 4 * i)) & 0xf;
            bytes[len + 1 + i] = b"0123456789abcdef"[nibble as usize];
        }
        SeqFrame {
            len: (len + 17) as u8,
            bytes,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

/// Reads a sequence frame: `(number, writer id)`, or `None` if `frame` is
/// not one (exactly decimal digits, one space, 16 lowercase hex digits).
pub fn parse(frame: &[u8]) -> Option<(u64, u64)> {
    let text = std::str::from_utf8(frame).ok()?;
    let (seq, writer) = text.split_once(' ')?;
    let decimal = !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit());
    let hex = writer.len() == 16
        && writer
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !decimal || !hex {
        return None;
    }
    Some((seq.parse().ok()?, u64::from_str_radix(writer, 16).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_read_back() {
        let f = SeqFrame::new(42, 0x9f86_d081_884c_7d65);
        assert_eq!(f.as_bytes(), b"42 9f86d081884c7d65");
        assert_eq!(parse(f.as_bytes()), Some((42, 0x9f86_d081_884c_7d65)));
        let f = SeqFrame::new(u64::MAX, 1);
        assert_eq!(f.as_bytes(), b"18446744073709551615 0000000000000001");
        assert_eq!(parse(f.as_bytes()), Some((u64::MAX, 1)));
        assert_eq!(SeqFrame::new(0, 0).as_bytes(), b"0 0000000000000000");
        assert_eq!(SeqFrame::new(10u64.pow(16), 0).as_bytes().len(), 34);
    }

    #[test]
    fn anything_else_is_not_a_sequence_frame() {
        for bad in [
            &b""[..],
            b"42",
            b"42 ",
            b" 9f86d081884c7d65",
            b"42 9F86D081884C7D65",
            b"42 9f86d081884c7d6",
            b"42 9f86d081884c7d655",
            b"-1 9f86d081884c7d65",
            b"+1 9f86d081884c7d65",
            b"42  9f86d081884c7d65",
            b"18446744073709551616 9f86d081884c7d65",
            b"{}",
        ] {
            assert_eq!(parse(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn numbers_count_from_one_and_writers_differ() {
        let mut a = Numbering::new();
        let b = Numbering::new();
        assert_ne!(a.writer_id(), b.writer_id());
        let id = a.writer_id();
        assert_eq!(parse(a.next_frame().as_bytes()), Some((1, id)));
        assert_eq!(parse(a.next_frame().as_bytes()), Some((2, id)));
    }
}
