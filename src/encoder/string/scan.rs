//! The scan every string goes through: where the next byte that needs care
//! is.
//!
//! A plain byte ([`PASS`]) is printable ASCII (0x20-0x7E) other than `"`
//! and the backslash: it stays as it is in both of Zeek's passes. Anything
//! else (a control, 0x7F, a byte of a UTF-8 sequence, `"`, backslash) is for
//! the caller to look at. [`skip_pass`] returns the index of the first byte
//! at or after `i` that is not plain, so the cost of a long plain string is
//! this scan and one copy.
//!
//! Three ways to scan, all exact (no byte is flagged wrongly, none missed):
//!
//! - x86-64, strings of 16 bytes or more: SSE2 (part of x86-64 itself),
//!   16 bytes per compare, four blocks per loop iteration; and for runs of
//!   at least `AVX2_MIN` (64) bytes, AVX2, 32 bytes per compare and 256
//!   per loop iteration, where the CPU has it (checked at run time:
//!   `is_x86_feature_detected!` caches the answer in a static after the
//!   first call, so each check is a load and a bit test).
//! - Everywhere else, and for strings shorter than 16 bytes on x86-64:
//!   SWAR, 8 bytes in a `u64` ([`word_needs_care`]).
//!
//! None reads outside the slice. A remainder shorter than a block is
//! checked by loading the string's last whole block, which overlaps bytes
//! already checked, and dropping the mask bits of the bytes before `i`.

/// Bytes that pass unchanged in either pass: printable ASCII except `"` and
/// the backslash.
pub(super) static PASS: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0x20;
    while i < 0x7F {
        t[i] = i != b'"' as usize && i != b'\\' as usize;
        i += 1;
    }
    t
};

/// Index of the first byte at or after `i` that is not a [`PASS`] byte, or
/// `bytes.len()` if there is none. `i` must be at most `bytes.len()`.
#[inline(always)]
pub(super) fn skip_pass(bytes: &[u8], i: usize) -> usize {
    debug_assert!(i <= bytes.len());
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if bytes.len() >= 16 {
        // (With `i` past the end, which callers do not pass, the difference
        // wraps in release builds; either scan then returns the length.)
        if bytes.len() - i >= x86::AVX2_MIN && x86::has_avx2() {
            // SAFETY: the CPU has AVX2 (just checked).
            return unsafe { x86::skip_pass_avx2(bytes, i) };
        }
        return x86::skip_pass_sse2(bytes, i);
    }
    skip_pass_swar(bytes, i)
}

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

/// [`skip_pass`] 8 bytes at a time in a `u64`, for any length.
#[inline(always)]
fn skip_pass_swar(bytes: &[u8], mut i: usize) -> usize {
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

/// The vector scans.
///
/// SSE2's test of which bytes are plain: one signed compare and two
/// equality tests per block (AVX2's, cheaper, is described with its code
/// below). For a byte `b`, let `t = b + 1` (wrapping), read as a signed
/// byte. `b` is in 0x20..=0x7E exactly when `t` is in 0x21..=0x7F (no
/// wrap-around in that range), that is when `t > 0x20` as a signed byte:
/// every other `b` gives a `t` in 0x00..=0x20 (`b` = 0xFF or below 0x20)
/// or in 0x80..=0xFF, negative (`b` in 0x7F..=0xFE). So `0x21 > t` (signed)
/// flags exactly the bytes outside 0x20..=0x7E, and `b == '"'` and
/// `b == '\\'` the two others: the mask is exact. `movemask` then puts the
/// flag of byte `k` of a block in bit `k`, so `trailing_zeros` of the mask
/// is the offset of the first byte that needs care.
///
/// SSE2 is part of x86-64, so every x86-64 target enables it (the module's
/// cfg checks that at compile time) and its intrinsics can be used without
/// a run-time check; AVX2 is used only in functions that enable it, called
/// after `has_avx2`.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod x86 {
    use std::arch::x86_64::*;

    /// Runs at least this long (from `i` to the end of the string) are
    /// scanned with AVX2 where the CPU has it. Measured on the benchmark
    /// machine (each scan called through a pointer, plain strings), AVX2
    /// takes 2.6 / 2.2 / 3.0 / 2.9 / 4.9 ns for 48 / 64 / 96 / 128 / 256
    /// bytes, SSE2 3.2 / 3.1 / 4.4 / 5.6 / 11.1 ns: from 64 bytes on the
    /// gain is clear of the cost of the test and of a call that is not
    /// inlined.
    pub(super) const AVX2_MIN: usize = 64;

    /// Whether the CPU has AVX2 (and the OS saves its registers). std
    /// caches the answer in a static after the first call: a load and a
    /// bit test.
    #[inline(always)]
    pub(super) fn has_avx2() -> bool {
        is_x86_feature_detected!("avx2")
    }

    /// 0xFF in the lanes of the bytes of `v` that are not plain, 0 in the
    /// others (see the module's comment).
    #[inline(always)]
    fn not_plain(v: __m128i) -> __m128i {
        // SAFETY: SSE2 only, which this module is compiled with (its cfg).
        unsafe {
            let t = _mm_add_epi8(v, _mm_set1_epi8(1));
            let outside = _mm_cmpgt_epi8(_mm_set1_epi8(0x21), t);
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            _mm_or_si128(outside, _mm_or_si128(quote, backslash))
        }
    }

    /// Bit `k` set if lane `k` of `v` has its top bit set.
    #[inline(always)]
    fn movemask(v: __m128i) -> u32 {
        // SAFETY: SSE2 only, which this module is compiled with (its cfg).
        // The mask has 16 bits: the cast keeps it as it is.
        unsafe { _mm_movemask_epi8(v) as u32 }
    }

    /// `a | b`.
    #[inline(always)]
    fn or(a: __m128i, b: __m128i) -> __m128i {
        // SAFETY: SSE2 only, which this module is compiled with (its cfg).
        unsafe { _mm_or_si128(a, b) }
    }

    /// The 16 bytes at `p`.
    ///
    /// # Safety
    /// The 16 bytes at `p` must be readable.
    #[inline(always)]
    unsafe fn load(p: *const u8) -> __m128i {
        // SAFETY: the caller promises the 16 bytes at `p`; `loadu` takes
        // any alignment; SSE2 only, which this module is compiled with.
        unsafe { _mm_loadu_si128(p.cast()) }
    }

    /// Bit `k` set if byte `k` of the 16 at `p` is not plain.
    ///
    /// # Safety
    /// The 16 bytes at `p` must be readable.
    #[inline(always)]
    unsafe fn mask_at(p: *const u8) -> u32 {
        // SAFETY: the caller promises the 16 bytes at `p`.
        movemask(not_plain(unsafe { load(p) }))
    }

    /// [`super::skip_pass`] with SSE2: 16 bytes per compare, 64 per loop
    /// iteration. Any length and `i` (strings shorter than 16 bytes go to
    /// the SWAR scan; the caller has tested that already).
    #[inline(always)]
    pub(super) fn skip_pass_sse2(bytes: &[u8], mut i: usize) -> usize {
        let n = bytes.len();
        if n < 16 {
            return super::skip_pass_swar(bytes, i);
        }
        if i >= n {
            return n;
        }
        let p = bytes.as_ptr();
        while i + 64 <= n {
            // SAFETY: i + 64 <= n: the four blocks lie in `bytes`.
            let (a, b, c, d) = unsafe {
                (
                    load(p.add(i)),
                    load(p.add(i + 16)),
                    load(p.add(i + 32)),
                    load(p.add(i + 48)),
                )
            };
            let (a, b, c, d) = (not_plain(a), not_plain(b), not_plain(c), not_plain(d));
            if movemask(or(or(a, b), or(c, d))) != 0 {
                let m = movemask(a) as u64
                    | (movemask(b) as u64) << 16
                    | (movemask(c) as u64) << 32
                    | (movemask(d) as u64) << 48;
                return i + m.trailing_zeros() as usize;
            }
            i += 64;
        }
        while i + 16 <= n {
            // SAFETY: i + 16 <= n.
            let m = unsafe { mask_at(p.add(i)) };
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            i += 16;
        }
        if i == n {
            return n;
        }
        // 1 to 15 bytes left: the string's last 16 bytes, of which the
        // first `i - last` (1 to 15) were checked already.
        let last = n - 16;
        // SAFETY: n >= 16: the slice's last 16 bytes.
        let m = unsafe { mask_at(p.add(last)) } >> (i - last);
        if m != 0 {
            i + m.trailing_zeros() as usize
        } else {
            n
        }
    }

    // AVX2 has byte shuffles (`vpshufb`) and signed byte minimums, which
    // make the test cheaper than SSE2's. For a byte `b`, read as signed:
    //
    // - `b < 0x20` (signed) holds exactly for the controls 0x00-0x1F and
    //   for 0x80-0xFF (negative).
    // - `vpshufb(TABLE, b)` is 0 when `b >= 0x80`, else `TABLE[b & 0xF]`.
    //   `TABLE[k] = k`, except `TABLE[0x2] = '"'` (0x22),
    //   `TABLE[0xC] = '\\'` (0x5C) and `TABLE[0xF] = 0x7F`. So
    //   `vpshufb(TABLE, b) == b` holds for `"`, backslash, 0x7F, and the
    //   controls `b = k` below 0x10 other than 0x02, 0x0C and 0x0F, and
    //   for no other byte: a `b` below 0x80 equals `TABLE[b & 0xF]` only if
    //   it is that entry, and a `b` from 0x80 on meets 0.
    //
    // Together: the controls, 0x7F, 0x80-0xFF, `"` and backslash, exactly
    // the bytes that are not plain. Over several blocks, the first test
    // holds for some byte exactly when it holds for the signed minimum of
    // the blocks, lane by lane; so a long run costs per 32 bytes one
    // minimum, one shuffle, one compare and one OR.

    /// `TABLE` above (the shuffle looks up each 16-byte half in its own
    /// copy).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn table() -> __m256i {
        _mm256_setr_epi8(
            0, 1, 0x22, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x5C, 13, 14, 0x7F, //
            0, 1, 0x22, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x5C, 13, 14, 0x7F,
        )
    }

    /// 0xFF in the lanes of the bytes of `v` that are `"`, backslash, 0x7F
    /// or one of the controls below 0x10 that `TABLE` keeps, 0 in the
    /// others (the second test above).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn special_eq(table: __m256i, v: __m256i) -> __m256i {
        _mm256_cmpeq_epi8(_mm256_shuffle_epi8(table, v), v)
    }

    /// Bit `k` set if byte `k` of the 32 at `p` is not plain.
    ///
    /// # Safety
    /// The 32 bytes at `p` must be readable.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn mask_at_avx2(table: __m256i, p: *const u8) -> u32 {
        // SAFETY: the caller promises the 32 bytes at `p`; `loadu` takes
        // any alignment.
        let v = unsafe { _mm256_loadu_si256(p.cast()) };
        let low = _mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v);
        _mm256_movemask_epi8(_mm256_or_si256(low, special_eq(table, v))) as u32
    }

    /// Whether any of the `32 * K` bytes at `p` is not plain.
    ///
    /// # Safety
    /// The `32 * K` bytes at `p` must be readable.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn any_at_avx2<const K: usize>(table: __m256i, p: *const u8) -> bool {
        // SAFETY: block `k < K` is the 32 bytes at `p + 32 * k`, within
        // the `32 * K` the caller promises.
        let v: [__m256i; K] =
            std::array::from_fn(|k| unsafe { _mm256_loadu_si256(p.add(32 * k).cast()) });
        let (mut min, mut eq) = (v[0], special_eq(table, v[0]));
        for &b in &v[1..] {
            min = _mm256_min_epi8(min, b);
            eq = _mm256_or_si256(eq, special_eq(table, b));
        }
        let bad = _mm256_or_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), min), eq);
        _mm256_testz_si256(bad, bad) == 0
    }

    /// [`super::skip_pass`] with AVX2: 256 bytes per loop iteration; then,
    /// from the first 256 that hold a byte that is not plain, or for the
    /// rest, 128, 64 and 32 at a time, each step taken only over bytes
    /// found plain, so the 32-byte loop ends at the first byte that is not.
    /// Any length and `i` (strings shorter than 32 bytes go to the SWAR
    /// scan; the caller sends only long runs). Its `target_feature` makes
    /// the caller promise that the CPU has AVX2.
    #[inline(never)]
    #[target_feature(enable = "avx2")]
    pub(super) fn skip_pass_avx2(bytes: &[u8], mut i: usize) -> usize {
        let n = bytes.len();
        if n < 32 {
            return super::skip_pass_swar(bytes, i);
        }
        if i >= n {
            return n;
        }
        let p = bytes.as_ptr();
        let table = table();
        while i + 256 <= n {
            // SAFETY: i + 256 <= n: the 8 blocks lie in `bytes`.
            if unsafe { any_at_avx2::<8>(table, p.add(i)) } {
                break;
            }
            i += 256;
        }
        // SAFETY: i + 128 <= n (tested first): the 4 blocks lie in `bytes`.
        if i + 128 <= n && !unsafe { any_at_avx2::<4>(table, p.add(i)) } {
            i += 128;
        }
        // SAFETY: i + 64 <= n (tested first): the 2 blocks lie in `bytes`.
        if i + 64 <= n && !unsafe { any_at_avx2::<2>(table, p.add(i)) } {
            i += 64;
        }
        while i + 32 <= n {
            // SAFETY: i + 32 <= n.
            let m = unsafe { mask_at_avx2(table, p.add(i)) };
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            i += 32;
        }
        if i == n {
            return n;
        }
        // 1 to 31 bytes left: the string's last 32 bytes, of which the
        // first `i - last` (1 to 31) were checked already.
        let last = n - 32;
        // SAFETY: n >= 32 (tested above): the slice's last 32 bytes.
        let m = unsafe { mask_at_avx2(table, p.add(last)) } >> (i - last);
        if m != 0 {
            i + m.trailing_zeros() as usize
        } else {
            n
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Scan = fn(&[u8], usize) -> usize;

    /// Every scan this build has, by name: the dispatching one and each
    /// implementation on its own, whatever the length.
    fn scans() -> Vec<(&'static str, Scan)> {
        #[allow(unused_mut)] // added to on x86-64 only
        let mut v: Vec<(&'static str, Scan)> =
            vec![("skip_pass", skip_pass), ("swar", skip_pass_swar)];
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        {
            v.push(("sse2", x86::skip_pass_sse2));
            if x86::has_avx2() {
                // SAFETY: only added when the CPU has AVX2 (just checked).
                v.push(("avx2", |b, i| unsafe { x86::skip_pass_avx2(b, i) }));
            } else {
                eprintln!("no AVX2 on this CPU: its scan is not tested");
            }
        }
        v
    }

    /// The first byte at or after `i` that is not plain, by the rules.
    fn reference(bytes: &[u8], i: usize) -> usize {
        let plain = |b: u8| (0x20..=0x7E).contains(&b) && b != b'"' && b != b'\\';
        bytes[i..]
            .iter()
            .position(|&b| !plain(b))
            .map_or(bytes.len(), |k| i + k)
    }

    /// Checks every scan from each start in `starts` (those past the end
    /// are skipped).
    fn check(scans: &[(&str, Scan)], bytes: &[u8], starts: &[usize]) {
        for &i in starts.iter().filter(|&&i| i <= bytes.len()) {
            let want = reference(bytes, i);
            for (name, scan) in scans {
                let got = scan(bytes, i);
                assert!(
                    got == want,
                    "{name}: length {}, from {i}: {got}, want {want}; bytes {bytes:02x?}",
                    bytes.len()
                );
            }
        }
    }

    /// The plain bytes, each once, in an order that puts the two ends of
    /// the range (0x20, 0x7E) and the neighbours of `"` and backslash
    /// next to other values.
    fn plain_filler(len: usize) -> Vec<u8> {
        let plain: Vec<u8> = (0u8..=255).filter(|&b| PASS[b as usize]).collect();
        assert_eq!(plain.len(), 93);
        (0..len).map(|k| plain[(k * 7) % plain.len()]).collect()
    }

    /// Lengths to try: every one up to 200 (the SSE2 scan's loops and
    /// tail, the AVX2 scan's 128-, 64- and 32-byte steps and tail), and
    /// longer ones around multiples of 128 and 256 (the AVX2 scan's
    /// 256-byte loop, once or more). Fewer in debug builds.
    fn lengths() -> Vec<usize> {
        if cfg!(debug_assertions) {
            return (0..=80).chain([129, 257, 513, 1025]).collect();
        }
        let mut v: Vec<usize> = (0..=200).collect();
        v.extend([255, 256, 257, 383, 384, 385, 511, 512, 513, 767, 768, 769]);
        v.extend([1000, 1023, 1024, 1025, 4103, 10_000]);
        v
    }

    #[test]
    fn plain_table_is_the_rule() {
        for b in 0..=255u8 {
            let want = (0x20..=0x7E).contains(&b) && b != b'"' && b != b'\\';
            assert_eq!(PASS[b as usize], want, "{b:#04x}");
            // SWAR, one word of that byte and one with it among plain ones.
            assert_eq!(word_needs_care(u64::from_le_bytes([b; 8])), !want);
            for k in 0..8 {
                let mut w = *b"abcdefgh";
                w[k] = b;
                assert_eq!(word_needs_care(u64::from_le_bytes(w)), !want);
            }
        }
    }

    /// Every byte value at every position of strings of every length up
    /// to 200 (so at every offset in a 16-, 32-, 64- and 128-byte block,
    /// in each loop and in each tail), and at the positions near the ends
    /// and block boundaries of longer strings; scanned from the start,
    /// from just before the byte, from the byte, and from just after it
    /// (which checks the tail with no byte to find).
    #[test]
    fn every_byte_value_at_every_position() {
        let scans = scans();
        for len in lengths() {
            let filler = plain_filler(len);
            check(
                &scans,
                &filler,
                &[0, 1, len / 2, len.saturating_sub(1), len],
            );
            let every = if cfg!(debug_assertions) { 80 } else { 400 };
            let positions: Vec<usize> = if len <= every {
                (0..len).collect()
            } else {
                let near_ends = (0..130).chain(len.saturating_sub(130)..len);
                let near_blocks =
                    (0..len).filter(|p| matches!(p % 128, 0 | 1 | 15 | 16 | 31 | 32 | 127));
                let set: std::collections::BTreeSet<usize> =
                    near_ends.chain(near_blocks).filter(|&p| p < len).collect();
                set.into_iter().collect()
            };
            for p in positions {
                let mut bytes = filler.clone();
                for b in 0..=255u8 {
                    bytes[p] = b;
                    check(&scans, &bytes, &[0, p.saturating_sub(1), p, p + 1]);
                }
            }
        }
    }

    /// A byte that needs care among the last 33 bytes of a string, and
    /// every start before and after it: where an off-by-one in a tail
    /// (the overlapping last block, the bits dropped for bytes before the
    /// start) would show.
    #[test]
    fn special_near_the_end_from_every_start() {
        let scans = scans();
        for len in lengths() {
            let filler = plain_filler(len);
            // Every start; in long strings, the first 64 and the last 200.
            let starts: Vec<usize> = if len <= 400 {
                (0..=len).collect()
            } else {
                (0..64).chain(len - 200..=len).collect()
            };
            check(&scans, &filler, &starts);
            for p in len.saturating_sub(33)..len {
                for b in [0x00, 0x1F, b'"', b'\\', 0x7F, 0x80, 0xFF] {
                    let mut bytes = filler.clone();
                    bytes[p] = b;
                    check(&scans, &bytes, &starts);
                }
            }
        }
    }

    /// Random strings (a seeded xorshift): long plain runs with a few bytes
    /// that need care, every start.
    #[test]
    fn random_strings_from_every_start() {
        let scans = scans();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let rounds = if cfg!(debug_assertions) { 300 } else { 3_000 };
        for _ in 0..rounds {
            let len = match next() % 4 {
                0 => (next() % 16) as usize,
                1 | 2 => (next() % 300) as usize,
                _ => (next() % 3000) as usize,
            };
            let mut bytes = plain_filler(len);
            bytes.rotate_left((next() % 93) as usize % len.max(1));
            for _ in 0..next() % 4 {
                if len > 0 {
                    bytes[(next() % len as u64) as usize] = next() as u8;
                }
            }
            let starts: Vec<usize> = if len <= 300 {
                (0..=len).collect()
            } else {
                (0..40)
                    .map(|_| (next() % (len as u64 + 1)) as usize)
                    .collect()
            };
            check(&scans, &bytes, &starts);
        }
    }

    /// Not a test: the time of each scan over plain strings of some
    /// lengths, with `memcpy` beside it (BENCHMARKS.md, "The string scan").
    /// `cargo test --release --lib scan_speed -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn scan_speed() {
        use std::hint::black_box;
        use std::time::Instant;
        let scans = scans();
        for len in [16usize, 32, 48, 64, 96, 128, 256, 1024, 10_000] {
            let bytes = plain_filler(len);
            let mut dst = vec![0u8; len];
            let reps = 20_000_000 / len.max(64);
            let time = |f: &mut dyn FnMut()| {
                (0..7)
                    .map(|_| {
                        let t = Instant::now();
                        for _ in 0..reps {
                            f();
                        }
                        t.elapsed().as_nanos() as f64 / reps as f64
                    })
                    .fold(f64::MAX, f64::min)
            };
            let mut line = format!("{len:6} bytes:");
            for (name, scan) in &scans {
                let ns = time(&mut || {
                    black_box(scan(black_box(&bytes), 0));
                });
                line += &format!("  {name} {ns:.2}");
            }
            let ns = time(&mut || {
                dst.copy_from_slice(black_box(&bytes));
                black_box(&mut dst);
            });
            println!("{line}  memcpy {ns:.2} (ns, best of 7)");
        }
    }

    /// Strings right before and right after an inaccessible page: a scan
    /// that read one byte outside its slice would crash the test.
    #[test]
    fn no_read_outside_the_slice() {
        let scans = scans();
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        // SAFETY: a fresh anonymous private mapping of three pages,
        // unmapped below; nothing else refers to it.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                3 * page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED);
        let base = base as *mut u8;
        // SAFETY: the first and last page of the mapping made above.
        unsafe {
            assert_eq!(libc::mprotect(base.cast(), page, libc::PROT_NONE), 0);
            assert_eq!(
                libc::mprotect(base.add(2 * page).cast(), page, libc::PROT_NONE),
                0
            );
        }
        // SAFETY: the middle page is mapped read-write and only used
        // through this slice until the mapping is removed below.
        let mid = unsafe { std::slice::from_raw_parts_mut(base.add(page), page) };
        mid.copy_from_slice(&plain_filler(page));
        let mut lens: Vec<usize> = (0..=300).collect();
        lens.extend([page - 1, page]);
        for len in lens {
            for special in [None, Some(0), Some(len.saturating_sub(1))] {
                if let Some(p) = special.filter(|&p| p < len) {
                    mid[p] = b'"';
                    mid[page - len + p] = b'"';
                }
                let starts: Vec<usize> = (0..=len).collect();
                // At the start of the page (a guard page just before it),
                // and at its end (one just after it).
                check(&scans, &mid[..len], &starts);
                check(&scans, &mid[page - len..], &starts);
                mid.copy_from_slice(&plain_filler(page));
            }
        }
        // SAFETY: the mapping made above; `mid` is not used after this.
        unsafe { assert_eq!(libc::munmap(base.cast(), 3 * page), 0) };
    }
}
