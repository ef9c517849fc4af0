//! Appending to the output buffer without per-byte capacity checks, and
//! decimal integers without `fmt`.
//!
//! Each writer reserves the most it can write once (a compare and a rarely
//! taken branch), then stores through the unchecked methods of [`Cursor`].
//! In debug builds every store still checks the reservation.
//!
//! The contract of every unchecked `put*` method is the same: the caller has
//! reserved ([`Cursor::reserve`]) room for what it stores, since the last
//! reserve and counting everything put since. The stores stay inside the
//! vector's capacity because of that, and only there.

use std::ptr;

/// A write position in a `Vec<u8>`'s spare capacity.
///
/// The position and the end of the capacity live in locals (registers once
/// inlined) instead of the vector's length field, which every `push` would
/// read and write back. The vector's length is brought up to date when the
/// cursor is dropped, or around [`Cursor::with_vec`].
pub(crate) struct Cursor<'a> {
    out: &'a mut Vec<u8>,
    p: *mut u8,
    end: *mut u8,
}

impl<'a> Cursor<'a> {
    #[inline(always)]
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Cursor<'a> {
        let mut c = Cursor {
            out,
            p: ptr::null_mut(),
            end: ptr::null_mut(),
        };
        c.reload();
        c
    }

    #[inline(always)]
    fn reload(&mut self) {
        let len = self.out.len();
        let cap = self.out.capacity();
        let base = self.out.as_mut_ptr();
        // SAFETY: len <= cap, both within (or one past) the allocation.
        unsafe {
            self.p = base.add(len);
            self.end = base.add(cap);
        }
    }

    /// Brings the vector's length up to the cursor.
    #[inline(always)]
    fn sync(&mut self) {
        // SAFETY: p never passes end, and every byte before it was written.
        unsafe {
            let len = self.p.offset_from(self.out.as_ptr()) as usize;
            self.out.set_len(len);
        }
    }

    /// Bytes written so far into the vector (its length as of now).
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        // SAFETY: p points into (or one past) the vector's allocation.
        unsafe { self.p.offset_from(self.out.as_ptr()) as usize }
    }

    /// Makes room for `n` more bytes.
    #[inline(always)]
    pub(crate) fn reserve(&mut self, n: usize) {
        if (self.end as usize) - (self.p as usize) < n {
            self.grow(n);
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        self.sync();
        self.out.reserve(n);
        self.reload();
    }

    /// Runs `f` on the vector itself (length up to date), then continues
    /// after whatever it appended.
    #[inline(always)]
    pub(crate) fn with_vec<T>(&mut self, f: impl FnOnce(&mut Vec<u8>) -> T) -> T {
        self.sync();
        let r = f(self.out);
        self.reload();
        r
    }

    /// Moves the position back to `len` (dropping what was written after).
    #[inline(always)]
    pub(crate) fn truncate(&mut self, len: usize) {
        debug_assert!(len <= self.len());
        // SAFETY: len is within what was written.
        unsafe { self.p = self.out.as_mut_ptr().add(len) };
    }

    /// Overwrites the byte at `index` (below [`Cursor::len`]).
    #[inline(always)]
    pub(crate) fn set(&mut self, index: usize, b: u8) {
        assert!(index < self.len());
        // SAFETY: checked above.
        unsafe { *self.out.as_mut_ptr().add(index) = b };
    }

    #[inline(always)]
    fn room(&self) -> usize {
        (self.end as usize) - (self.p as usize)
    }

    /// Appends `s`.
    ///
    /// # Safety
    /// Room for `s.len()` bytes must have been reserved.
    #[inline(always)]
    pub(crate) unsafe fn put(&mut self, s: &[u8]) {
        debug_assert!(self.room() >= s.len());
        // SAFETY: `s.len()` bytes fit at `p` (the caller's reservation);
        // `s` is another allocation than the vector's spare capacity.
        unsafe {
            ptr::copy_nonoverlapping(s.as_ptr(), self.p, s.len());
            self.p = self.p.add(s.len());
        }
    }

    /// Appends `b`.
    ///
    /// # Safety
    /// Room for it must have been reserved.
    #[inline(always)]
    pub(crate) unsafe fn put_byte(&mut self, b: u8) {
        debug_assert!(self.room() >= 1);
        // SAFETY: one byte fits at `p` (the caller's reservation).
        unsafe {
            *self.p = b;
            self.p = self.p.add(1);
        }
    }

    /// Appends `n <= 24` zero digits (`'0'`).
    ///
    /// # Safety
    /// Room for 24 bytes must have been reserved (24 are stored, `n` kept).
    #[inline(always)]
    pub(crate) unsafe fn put_zeros(&mut self, n: usize) {
        debug_assert!(n <= 24 && self.room() >= 24);
        let zeros = [b'0'; 24];
        // SAFETY: 24 bytes fit at `p` (the caller's reservation), and
        // `n <= 24` of them are kept.
        unsafe {
            ptr::copy_nonoverlapping(zeros.as_ptr(), self.p, 24);
            self.p = self.p.add(n);
        }
    }

    /// Appends the `len` bytes at `src` by copying whole 16-byte blocks.
    /// For short strings in buffers padded for it (field names, digits),
    /// this avoids a call to `memcpy`.
    ///
    /// # Safety
    /// `src` must be readable, and room reserved, for `len` rounded up to a
    /// multiple of 16 (at least 16), and `src` must not point into the
    /// vector.
    #[inline(always)]
    pub(crate) unsafe fn put_blocks(&mut self, src: *const u8, len: usize) {
        debug_assert!(self.room() >= len.max(1).div_ceil(16) * 16);
        // SAFETY: every block read and written lies within the first
        // `len` rounded up to 16 (at least 16) bytes at `src` and `p`,
        // which the caller promises are readable and reserved.
        unsafe {
            ptr::copy_nonoverlapping(src, self.p, 16);
            let mut i = 16;
            while i < len {
                ptr::copy_nonoverlapping(src.add(i), self.p.add(i), 16);
                i += 16;
            }
            self.p = self.p.add(len);
        }
    }

    /// Appends `s` (any length; short ones without a call to `memcpy`).
    ///
    /// # Safety
    /// Room for `s.len()` bytes must have been reserved.
    #[inline(always)]
    pub(crate) unsafe fn put_var(&mut self, s: &[u8]) {
        let n = s.len();
        debug_assert!(self.room() >= n);
        let (src, dst) = (s.as_ptr(), self.p);
        // SAFETY: every branch reads only within `s` and writes only within
        // the `n` bytes reserved at `p`: two overlapping moves of width w
        // cover [0, w) and [n - w, n), and n >= w in their branch; the 1 to
        // 3 byte case touches indexes 0, n / 2 and n - 1.
        unsafe {
            if n >= 8 {
                if n > 32 {
                    ptr::copy_nonoverlapping(src, dst, n);
                } else if n > 16 {
                    // Two overlapping 16-byte moves.
                    let head = ptr::read_unaligned(src as *const u128);
                    let tail = ptr::read_unaligned(src.add(n - 16) as *const u128);
                    ptr::write_unaligned(dst as *mut u128, head);
                    ptr::write_unaligned(dst.add(n - 16) as *mut u128, tail);
                } else {
                    // Two overlapping 8-byte moves.
                    let head = ptr::read_unaligned(src as *const u64);
                    let tail = ptr::read_unaligned(src.add(n - 8) as *const u64);
                    ptr::write_unaligned(dst as *mut u64, head);
                    ptr::write_unaligned(dst.add(n - 8) as *mut u64, tail);
                }
            } else if n >= 4 {
                let head = ptr::read_unaligned(src as *const u32);
                let tail = ptr::read_unaligned(src.add(n - 4) as *const u32);
                ptr::write_unaligned(dst as *mut u32, head);
                ptr::write_unaligned(dst.add(n - 4) as *mut u32, tail);
            } else if n > 0 {
                // 1 to 3 bytes: first, middle and last (some the same).
                *dst = *src;
                *dst.add(n / 2) = *src.add(n / 2);
                *dst.add(n - 1) = *src.add(n - 1);
            }
            self.p = self.p.add(n);
        }
    }

    /// Stores the `N` bytes of `bytes` and keeps the first `len <= N`.
    ///
    /// # Safety
    /// Room for all `N` must have been reserved.
    #[inline(always)]
    pub(crate) unsafe fn put_prefix<const N: usize>(&mut self, bytes: &[u8; N], len: usize) {
        debug_assert!(self.room() >= N && len <= N);
        // SAFETY: `N` bytes fit at `p` (the caller's reservation), and
        // `len <= N` of them are kept.
        unsafe {
            ptr::copy_nonoverlapping(bytes.as_ptr(), self.p, N);
            self.p = self.p.add(len);
        }
    }

    /// Appends `n` in decimal.
    ///
    /// # Safety
    /// Room for 20 bytes must have been reserved (numbers below 10^8 store
    /// 8 bytes and keep their digits; larger ones have at most 20 digits).
    #[inline(always)]
    pub(crate) unsafe fn put_u64(&mut self, n: u64) {
        if n < 100_000_000 {
            debug_assert!(self.room() >= 8);
            let digits = eight_digits(n as u32);
            // Leading zero digits are the low zero bytes; 0 keeps one.
            let zeros = ((digits | (1 << 56)).trailing_zeros() / 8) as usize;
            let ascii = (digits | 0x3030_3030_3030_3030) >> (8 * zeros);
            // SAFETY: 8 of the 20 reserved bytes, of which 8 - zeros kept.
            unsafe {
                ptr::write_unaligned(self.p as *mut u64, ascii.to_le());
                self.p = self.p.add(8 - zeros);
            }
        } else {
            // SAFETY: width 1 takes the digits of `n`, at most 20: reserved.
            unsafe { self.put_u64_padded(n, 1) }
        }
    }

    /// Appends `n` in decimal, zero-padded to `width` digits (more if
    /// needed).
    ///
    /// # Safety
    /// Room for them must have been reserved: `width`, or the digits of `n`
    /// if more (20 at most).
    #[inline(always)]
    pub(crate) unsafe fn put_u64_padded(&mut self, n: u64, width: usize) {
        let len = decimal_len(n).max(width);
        debug_assert!(self.room() >= len);
        // SAFETY: the `len` bytes at `p` are reserved (the caller's
        // promise), and `write_digits_backwards` writes only those.
        unsafe {
            write_digits_backwards(self.p.add(len), n, len);
            self.p = self.p.add(len);
        }
    }

    /// Appends `n` in decimal.
    ///
    /// # Safety
    /// Room for 21 bytes must have been reserved (a sign and 20 digits).
    #[inline(always)]
    pub(crate) unsafe fn put_i64(&mut self, n: i64) {
        // SAFETY: one byte for the sign, then the 20 `put_u64` needs: 21.
        unsafe {
            if n < 0 {
                self.put_byte(b'-');
            }
            self.put_u64(n.unsigned_abs());
        }
    }
}

impl Drop for Cursor<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.sync();
    }
}

/// "00" "01" ... "99".
static DIGIT_PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

pub(crate) const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// The 8 decimal digits of `n < 10^8` as byte values 0-9, the most
/// significant in the lowest byte (first in memory), leading zeros
/// included: divisions by 10^4, 10^2 and 10 done in all lanes at once by
/// multiplications (exact for these ranges).
#[inline(always)]
pub(crate) fn eight_digits(n: u32) -> u64 {
    debug_assert!(n < 100_000_000);
    // Lanes of 32 bits: [n / 10^4, n % 10^4].
    let merged = (n / 10_000) as u64 | (((n % 10_000) as u64) << 32);
    // Per lane x < 10^4: x / 100 = (x * 10486) >> 20.
    let hundreds = ((merged * 10_486) >> 20) & ((0x7F << 32) | 0x7F);
    let below = merged - 100 * hundreds;
    // Lanes of 16 bits: [x / 100, x % 100] for both halves.
    let pairs = (below << 16) | hundreds;
    // Per lane y < 100: y / 10 = (y * 103) >> 10.
    let tens = ((pairs * 103) >> 10) & ((0xF << 48) | (0xF << 32) | (0xF << 16) | 0xF);
    // Lanes of 8 bits: [y / 10, y % 10].
    tens | ((pairs - 10 * tens) << 8)
}

/// Number of decimal digits of `n` (1 for 0).
#[inline(always)]
pub(crate) fn decimal_len(n: u64) -> usize {
    let m = n | 1;
    let t = (((64 - m.leading_zeros()) * 1233) >> 12) as usize;
    t + (m >= POW10[t]) as usize
}

/// Writes the `len` last decimal digits of `n` ending just before `end`.
///
/// # Safety
/// The `len` bytes before `end` must be writable.
#[inline(always)]
unsafe fn write_digits_backwards(mut end: *mut u8, mut n: u64, mut len: usize) {
    // SAFETY: each step moves `end` back by the bytes it writes, `len` in
    // all, which the caller promises are writable; `2 * r + 2 <= 200`
    // bytes of DIGIT_PAIRS are read.
    unsafe {
        while len >= 2 {
            let r = (n % 100) as usize;
            n /= 100;
            end = end.sub(2);
            ptr::copy_nonoverlapping(DIGIT_PAIRS.as_ptr().add(2 * r), end, 2);
            len -= 2;
        }
        if len == 1 {
            *end.sub(1) = b'0' + (n % 10) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appends `n` in decimal.
    fn push_u64(out: &mut Vec<u8>, n: u64) {
        let mut c = Cursor::new(out);
        c.reserve(20);
        // SAFETY: reserved just above.
        unsafe { c.put_u64(n) }
    }

    /// Appends `n` in decimal.
    fn push_i64(out: &mut Vec<u8>, n: i64) {
        let mut c = Cursor::new(out);
        c.reserve(21);
        // SAFETY: reserved just above.
        unsafe { c.put_i64(n) }
    }

    #[test]
    fn integers() {
        let mut cases: Vec<u64> = vec![0, 1, 9, 10, 99, 100, 101, u64::MAX, u64::MAX - 1];
        for p in POW10 {
            cases.extend([p - 1, p, p + 1]);
        }
        for n in cases {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
            assert_eq!(decimal_len(n), n.to_string().len());
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..1_000_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for n in [i, x % 100_000_000, x % 1_000_000, x >> (x % 64)] {
                let mut out = Vec::new();
                push_u64(&mut out, n);
                assert_eq!(out, n.to_string().as_bytes());
            }
        }
        for n in [0i64, -1, 1, i64::MIN, i64::MAX, -1234567] {
            let mut out = Vec::new();
            push_i64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
        let mut out = Vec::new();
        {
            let mut c = Cursor::new(&mut out);
            c.reserve(32);
            // SAFETY: 6 and 7 digits, 32 reserved just above.
            unsafe {
                c.put_u64_padded(42, 6);
                c.put_u64_padded(1_000_000, 6);
            }
        }
        assert_eq!(out, b"0000421000000");
    }
}
