//! Doubles exactly as Zeek's JSON formatter prints them.
//!
//! Zeek writes doubles through rapidjson's `Writer::Double`: Grisu2 digit
//! generation (Loitsch, "Printing Floating-Point Numbers Quickly and
//! Accurately with Integers", 2010) followed by a fixed set of layout rules
//! (`0.0`, `100000000000000000000.0`, `1e21`, `0.000001`, `1e-7`, ...).
//! Grisu2 is not always the shortest round-trip representation, so a
//! shortest-digits algorithm (Rust's own `Display`, ryu) differs on some
//! values; this module reproduces Grisu2's digits. NaN and infinities are
//! written as `null`, as Zeek's `NullDoubleWriter` does.

use super::cached_powers::CACHED_POWERS;
use super::out::{decimal_len, eight_digits, Cursor, POW10};

const SIGNIFICAND_BITS: u32 = 52;
const HIDDEN_BIT: u64 = 1 << SIGNIFICAND_BITS;
const SIGNIFICAND_MASK: u64 = HIDDEN_BIT - 1;
const EXPONENT_BIAS: i32 = 0x3FF + SIGNIFICAND_BITS as i32;
const DENORMAL_EXPONENT: i32 = 1 - EXPONENT_BIAS;

/// A "do-it-yourself floating point" number: `f * 2^e`.
#[derive(Clone, Copy)]
struct DiyFp {
    f: u64,
    e: i32,
}

impl DiyFp {
    fn from_f64(d: f64) -> DiyFp {
        let bits = d.to_bits();
        let biased = ((bits >> SIGNIFICAND_BITS) & 0x7FF) as i32;
        let significand = bits & SIGNIFICAND_MASK;
        if biased != 0 {
            DiyFp {
                f: significand | HIDDEN_BIT,
                e: biased - EXPONENT_BIAS,
            }
        } else {
            DiyFp {
                f: significand,
                e: DENORMAL_EXPONENT,
            }
        }
    }

    fn sub(self, rhs: DiyFp) -> DiyFp {
        DiyFp {
            f: self.f.wrapping_sub(rhs.f),
            e: self.e,
        }
    }

    /// Product rounded to the upper 64 bits.
    fn mul(self, rhs: DiyFp) -> DiyFp {
        let p = self.f as u128 * rhs.f as u128;
        let mut h = (p >> 64) as u64;
        if (p as u64) & (1 << 63) != 0 {
            h = h.wrapping_add(1);
        }
        DiyFp {
            f: h,
            e: self.e + rhs.e + 64,
        }
    }

    fn normalize(self) -> DiyFp {
        let s = self.f.leading_zeros();
        DiyFp {
            f: self.f << s,
            e: self.e - s as i32,
        }
    }

    fn normalize_boundary(self) -> DiyFp {
        let mut res = self;
        while res.f & (HIDDEN_BIT << 1) == 0 {
            res.f <<= 1;
            res.e -= 1;
        }
        let shift = 64 - SIGNIFICAND_BITS as i32 - 2;
        res.f <<= shift;
        res.e -= shift;
        res
    }

    /// The boundaries m- and m+ of the rounding interval, with a common exponent.
    fn normalized_boundaries(self) -> (DiyFp, DiyFp) {
        let plus = DiyFp {
            f: (self.f << 1) + 1,
            e: self.e - 1,
        }
        .normalize_boundary();
        let mut minus = if self.f == HIDDEN_BIT {
            DiyFp {
                f: (self.f << 2) - 1,
                e: self.e - 2,
            }
        } else {
            DiyFp {
                f: (self.f << 1) - 1,
                e: self.e - 1,
            }
        };
        minus.f <<= minus.e - plus.e;
        minus.e = plus.e;
        (minus, plus)
    }
}

/// The cached power c = 10^-K that brings `e` into Grisu's target range,
/// and K.
///
/// rapidjson computes K = ceil((-61 - e) * log10(2) + 347) in floating
/// point; this is the same in integers (log10(2) * 2^32, rounded; the test
/// `cached_power_k_matches_rapidjson` checks every exponent).
#[inline(always)]
fn cached_power(e: i32) -> (DiyFp, i32) {
    let k = cached_power_k(e);
    let index = ((k >> 3) + 1) as usize;
    let decimal_exponent = -(-348 + (index as i32) * 8);
    let (f, e) = CACHED_POWERS[index];
    (DiyFp { f, e: e as i32 }, decimal_exponent)
}

#[inline(always)]
fn cached_power_k(e: i32) -> i32 {
    const LOG10_2_Q32: i64 = 1_292_913_986; // log10(2) * 2^32
    let n = (-61 - e) as i64;
    (((n * LOG10_2_Q32 + (1 << 32) - 1) >> 32) + 347) as i32
}

/// rapidjson's floating-point K, for the test.
#[cfg(test)]
fn cached_power_k_float(e: i32) -> i32 {
    let dk = (-61 - e) as f64 * 0.301_029_995_663_981_14 + 347.0;
    let mut k = dk as i32;
    if dk - k as f64 > 0.0 {
        k += 1;
    }
    k
}

fn count_decimal_digits(n: u32) -> i32 {
    // Grisu never sees 10 digits here.
    match n {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1_000..=9_999 => 4,
        10_000..=99_999 => 5,
        100_000..=999_999 => 6,
        1_000_000..=9_999_999 => 7,
        10_000_000..=99_999_999 => 8,
        _ => 9,
    }
}

fn grisu_round(buf: &mut [u8], len: usize, delta: u64, mut rest: u64, ten_kappa: u64, wp_w: u64) {
    while rest < wp_w
        && delta - rest >= ten_kappa
        && (rest + ten_kappa < wp_w || wp_w - rest > rest + ten_kappa - wp_w)
    {
        buf[len - 1] -= 1;
        rest += ten_kappa;
    }
}

/// Grisu's digits (at most 20, in practice 17), and room to copy them out
/// in 16-byte blocks from any position.
type DigitBuf = [u8; 48];

/// Generates the digits of `w` into `buf`; returns their count and adjusts `k`.
///
/// rapidjson's `DigitGen`, except that the integer part's digits come from
/// divisions by the constant 10 up front instead of a division by
/// 10^(kappa-1) per digit: the same digits and remainders.
fn digit_gen(w: DiyFp, mp: DiyFp, delta: u64, buf: &mut DigitBuf, k: &mut i32) -> usize {
    let one_e = -mp.e;
    let p1 = (mp.f >> one_e) as u32;
    if p1 >= 1_000_000_000 {
        // rapidjson counts at most 9 digits here; keep its exact behaviour
        // should a 10-digit integer part ever occur.
        return digit_gen_reference(w, mp, delta, buf, k);
    }
    let one_f = 1u64 << one_e;
    let wp_w = mp.sub(w);
    let p2 = mp.f & (one_f - 1);
    let kd = decimal_len(p1 as u64) as i32; // p1 < 10^9: as rapidjson counts
    if p2 > delta {
        // The loop below cannot stop within the integer part (its test is
        // `(p1 % 10^kappa) * 2^one_e + p2 <= delta`): all of p1's digits.
        let len = if p1 == 0 { 0 } else { kd as usize };
        let (first, rest) = (p1 / 100_000_000, p1 % 100_000_000);
        let ascii = eight_digits(rest) | 0x3030_3030_3030_3030;
        if first > 0 {
            buf[0] = b'0' + first as u8;
            buf[1..9].copy_from_slice(&ascii.to_le_bytes());
        } else {
            // Drop the leading zeros (len <= 8 here; p1 = 0 keeps none).
            let kept = ascii.checked_shr(8 * (8 - len as u32)).unwrap_or(0);
            buf[..8].copy_from_slice(&kept.to_le_bytes());
        }
        return fraction_digits(wp_w, one_e, p2, delta, buf, len, 0, k);
    }
    let mut digits = [0u8; 9];
    let mut rest = p1;
    for d in digits[..kd as usize].iter_mut().rev() {
        *d = (rest % 10) as u8;
        rest /= 10;
    }
    let mut kappa = kd;
    let mut len = 0usize;
    let mut prefix = 0u64; // p1 / 10^kappa
    while kappa > 0 {
        let d = digits[(kd - kappa) as usize];
        prefix = prefix * 10 + d as u64;
        if d != 0 || len != 0 {
            buf[len] = b'0' + d;
            len += 1;
        }
        kappa -= 1;
        let rem = p1 as u64 - prefix * POW10[kappa as usize]; // p1 % 10^kappa
        let tmp = (rem << one_e) + p2;
        if tmp <= delta {
            *k += kappa;
            grisu_round(buf, len, delta, tmp, POW10[kappa as usize] << one_e, wp_w.f);
            return len;
        }
    }
    fraction_digits(wp_w, one_e, p2, delta, buf, len, kappa, k)
}

/// `DigitGen`'s second loop: the digits of the fractional part `p2`.
///
/// Split in two: while no digit was written yet (leading zeros are
/// skipped), then a loop that writes every digit.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn fraction_digits(
    wp_w: DiyFp,
    one_e: i32,
    mut p2: u64,
    mut delta: u64,
    buf: &mut DigitBuf,
    mut len: usize,
    mut kappa: i32,
    k: &mut i32,
) -> usize {
    let one_f = 1u64 << one_e;
    let mask = one_f - 1;
    while len == 0 {
        p2 = p2.wrapping_mul(10);
        delta = delta.wrapping_mul(10);
        let d = (p2 >> one_e) as u8;
        if d != 0 {
            buf[0] = b'0' + d;
            len = 1;
        }
        p2 &= mask;
        kappa -= 1;
        if p2 < delta {
            return fraction_done(wp_w, one_f, p2, delta, buf, len, kappa, k);
        }
    }
    loop {
        p2 = p2.wrapping_mul(10);
        delta = delta.wrapping_mul(10);
        buf[len] = b'0' + (p2 >> one_e) as u8;
        len += 1;
        p2 &= mask;
        kappa -= 1;
        if p2 < delta {
            return fraction_done(wp_w, one_f, p2, delta, buf, len, kappa, k);
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn fraction_done(
    wp_w: DiyFp,
    one_f: u64,
    p2: u64,
    delta: u64,
    buf: &mut DigitBuf,
    len: usize,
    kappa: i32,
    k: &mut i32,
) -> usize {
    *k += kappa;
    let index = (-kappa) as usize;
    let scale = if index < 20 { POW10[index] } else { 0 };
    grisu_round(buf, len, delta, p2, one_f, wp_w.f.wrapping_mul(scale));
    len
}

/// rapidjson's second loop as written, for [`digit_gen_reference`].
#[allow(clippy::too_many_arguments)]
fn fraction_digits_reference(
    wp_w: DiyFp,
    one_e: i32,
    mut p2: u64,
    mut delta: u64,
    buf: &mut DigitBuf,
    mut len: usize,
    mut kappa: i32,
    k: &mut i32,
) -> usize {
    let one_f = 1u64 << one_e;
    loop {
        p2 = p2.wrapping_mul(10);
        delta = delta.wrapping_mul(10);
        let d = (p2 >> one_e) as u8;
        if d != 0 || len != 0 {
            buf[len] = b'0' + d;
            len += 1;
        }
        p2 &= one_f - 1;
        kappa -= 1;
        if p2 < delta {
            *k += kappa;
            let index = (-kappa) as usize;
            let scale = if index < 20 { POW10[index] } else { 0 };
            grisu_round(buf, len, delta, p2, one_f, wp_w.f.wrapping_mul(scale));
            return len;
        }
    }
}

/// rapidjson's `DigitGen` as written (a division per integer digit).
fn digit_gen_reference(w: DiyFp, mp: DiyFp, delta: u64, buf: &mut DigitBuf, k: &mut i32) -> usize {
    let one_e = -mp.e;
    let one_f = 1u64 << one_e;
    let wp_w = mp.sub(w);
    let mut p1 = (mp.f >> one_e) as u32;
    let p2 = mp.f & (one_f - 1);
    let mut kappa = count_decimal_digits(p1);
    let mut len = 0usize;

    while kappa > 0 {
        let div = POW10[(kappa - 1) as usize] as u32;
        let d = p1 / div;
        p1 %= div;
        if d != 0 || len != 0 {
            buf[len] = b'0' + d as u8;
            len += 1;
        }
        kappa -= 1;
        let tmp = ((p1 as u64) << one_e) + p2;
        if tmp <= delta {
            *k += kappa;
            grisu_round(buf, len, delta, tmp, POW10[kappa as usize] << one_e, wp_w.f);
            return len;
        }
    }
    fraction_digits_reference(wp_w, one_e, p2, delta, buf, len, kappa, k)
}

/// Grisu2 digits of a positive, finite, non-zero `value`: (digits, count, K)
/// with value ~= digits * 10^K.
fn grisu2(value: f64, buf: &mut DigitBuf) -> (usize, i32) {
    grisu2_with(value, buf, digit_gen)
}

type DigitGen = fn(DiyFp, DiyFp, u64, &mut DigitBuf, &mut i32) -> usize;

#[inline(always)]
fn grisu2_with(value: f64, buf: &mut DigitBuf, digit_gen: DigitGen) -> (usize, i32) {
    let v = DiyFp::from_f64(value);
    let (w_m, w_p) = v.normalized_boundaries();
    let (c_mk, mut k) = cached_power(w_p.e);
    let w = v.normalize().mul(c_mk);
    let mut wp = w_p.mul(c_mk);
    let mut wm = w_m.mul(c_mk);
    wm.f = wm.f.wrapping_add(1);
    wp.f = wp.f.wrapping_sub(1);
    let len = digit_gen(w, wp, wp.f.wrapping_sub(wm.f), buf, &mut k);
    (len, k)
}

/// The digits of `value` (positive, finite) when it is the double nearest
/// to a decimal with at most six fraction digits and below 2^32, as Zeek's
/// timestamps are (microseconds): (digits, count, K) as [`grisu2`] returns
/// them, found without Grisu, or None for any other value.
///
/// Why these are Grisu2's digits. Let v = f * 2^e (f of 53 bits, not 2^52,
/// so the rounding interval is [v - 2^e/2, v + 2^e/2]) and D = m / 10^6
/// with |D - v| < (1 - 1/16) * 2^e/2 (checked exactly below). The interval
/// is narrower than 10^-6 (2^e <= 2^-21 below 2^32), so D is the only
/// number with six or fewer fraction digits in it, and any other number in
/// it has more fraction digits and so more significant digits: D, without
/// its trailing zeros, is the unique shortest decimal in the interval.
/// Grisu2 searches a slightly narrower interval (its boundaries are off by
/// a few units of 2^-62 relative, about 1% of 2^e/2; D is kept 6.25% of
/// 2^e/2 inside): it stops at the first length where the upper boundary,
/// truncated, lies in it, which is D's length (D is in it, nothing shorter
/// is), the truncation is then D (the only candidate of that length), and
/// its rounding step cannot move to another candidate. The test
/// `microsecond_fast_path_matches_grisu2` checks this on millions of values.
#[inline(always)]
fn microsecond_digits(value: f64, buf: &mut DigitBuf) -> Option<(usize, i32)> {
    if !(5e-7..4_294_967_296.0).contains(&value) {
        return None;
    }
    let bits = value.to_bits();
    let significand = bits & SIGNIFICAND_MASK;
    if significand == 0 {
        return None; // a power of two: the interval is lopsided
    }
    let f = significand | HIDDEN_BIT;
    // -73..=-21 in this range.
    let e = ((bits >> SIGNIFICAND_BITS) as i32) - EXPONENT_BIAS;
    // The nearest multiple of 10^-6, give or take one (checked next); below
    // 2^53, so the signed conversion (one instruction) is exact.
    let m = (value * 1e6 + 0.5) as i64 as u64;
    // (D - v) * 10^6 * 2^-e, exactly: m * 2^-e - f * 10^6 (< 2^125).
    let scaled_m = (m as u128) << (-e) as u32;
    let scaled_v = f as u128 * 1_000_000;
    let diff = scaled_m.abs_diff(scaled_v);
    // |D - v| < (15/16) * 2^e / 2  <=>  diff < (15/16) * 500_000.
    if diff >= 468_750 {
        return None;
    }
    // D's digits without trailing zeros, and K (m >= 1: D = 0 is no
    // closer to v than v itself, which the check above refuses).
    let mut digits = m;
    let mut k = -6;
    while digits.is_multiple_of(10) {
        digits /= 10;
        k += 1;
    }
    // At most 16 digits: two words of eight, the leading zeros shifted out
    // (the first byte in memory is the most significant digit); bytes past
    // `len` are left over, as `prettify` allows.
    let len = decimal_len(digits);
    let (high, low) = ((digits / 100_000_000) as u32, (digits % 100_000_000) as u32);
    let low_ascii = eight_digits(low) | 0x3030_3030_3030_3030;
    if len <= 8 {
        let word = low_ascii >> (8 * (8 - len));
        buf[..8].copy_from_slice(&word.to_le_bytes());
    } else {
        let high_len = len - 8;
        let high_ascii = eight_digits(high) | 0x3030_3030_3030_3030;
        let word = high_ascii >> (8 * (8 - high_len));
        buf[..8].copy_from_slice(&word.to_le_bytes());
        buf[high_len..high_len + 8].copy_from_slice(&low_ascii.to_le_bytes());
    }
    Some((len, k))
}

/// Lays out the `len` digits in `buf` times 10^k the way rapidjson's
/// `Prettify` does.
///
/// # Safety
/// `1 <= len <= 20` (Grisu2 and [`microsecond_digits`] give no more), and
/// room for `len + 28 + 16` bytes must have been reserved (the digits are
/// copied in 16-byte blocks, zeros stored 24 at a time).
#[inline(always)]
unsafe fn prettify(c: &mut Cursor, buf: &DigitBuf, len: usize, k: i32) {
    let digits = buf.as_ptr();
    let length = len as i32;
    let kk = length + k; // 10^(kk-1) <= v < 10^kk
                         // SAFETY: the block copies read `buf` from position 0, 1 or kk < len
                         // (the second branch has k < 0) up to at most len + 15 <= 35 of its 48
                         // bytes. The stores reach at most len + 24 bytes past the cursor (the
                         // first branch's 24 zeros after the digits), and the last branch's
                         // `put_i64` needs 21 bytes from len + 2: all within the len + 44
                         // reserved.
    unsafe {
        if 0 <= k && kk <= 21 {
            // dddd00.0 (at most 21 digits)
            c.put_blocks(digits, len);
            c.put_zeros(k as usize);
            c.put(b".0");
        } else if 0 < kk && kk <= 21 {
            // dd.dddd
            c.put_blocks(digits, kk as usize);
            c.put_byte(b'.');
            c.put_blocks(digits.add(kk as usize), len - kk as usize);
        } else if -6 < kk && kk <= 0 {
            // 0.00dddd (at most 5 zeros)
            c.put(b"0.");
            c.put_zeros((-kk) as usize);
            c.put_blocks(digits, len);
        } else {
            // 1e30, 1234e30 -> 1.234e33 (exponent at most 3 digits and a sign)
            c.put_byte(buf[0]);
            if length > 1 {
                c.put_byte(b'.');
                c.put_blocks(digits.add(1), len - 1);
            }
            c.put_byte(b'e');
            c.put_i64((kk - 1) as i64);
        }
    }
}

/// Appends `value` as Zeek's JSON formatter writes a double.
pub fn push_double(out: &mut Vec<u8>, value: f64) {
    write_double(&mut Cursor::new(out), value)
}

/// [`push_double`] at a cursor.
#[inline]
pub(crate) fn write_double(c: &mut Cursor, value: f64) {
    write_double_with(c, value, false)
}

/// [`write_double`] for a time in seconds (`JSON::TS_EPOCH`): the same
/// output, trying [`microsecond_digits`] first, as Zeek's timestamps come
/// from packets with microsecond resolution. (Intervals and other doubles,
/// often differences of such times, rarely qualify: they go to Grisu2
/// directly.)
#[inline]
pub(crate) fn write_epoch_time(c: &mut Cursor, value: f64) {
    write_double_with(c, value, true)
}

#[inline(always)]
fn write_double_with(c: &mut Cursor, value: f64, try_microseconds: bool) {
    // A sign, at most 20 digits, 28 bytes of layout, 16 of block-copy slack.
    c.reserve(1 + 20 + 28 + 16);
    // SAFETY: every branch writes within the room reserved: at most a
    // sign, then `prettify`'s len + 44 for len <= 20 digits.
    unsafe {
        if !value.is_finite() {
            c.put(b"null");
            return;
        }
        if value == 0.0 {
            if value.is_sign_negative() {
                c.put(b"-0.0");
            } else {
                c.put(b"0.0");
            }
            return;
        }
        let mut v = value;
        if v < 0.0 {
            c.put_byte(b'-');
            v = -v;
        }
        let mut buf: DigitBuf = [0u8; 48];
        let fast = if try_microseconds {
            microsecond_digits(v, &mut buf)
        } else {
            None
        };
        let (len, k) = match fast {
            Some(digits) => digits,
            None => grisu2(v, &mut buf),
        };
        prettify(c, &buf, len, k);
    }
}

#[cfg(test)]
mod tests {
    use super::{
        cached_power_k, cached_power_k_float, count_decimal_digits, digit_gen_reference, grisu2,
        grisu2_with, microsecond_digits, push_double, DigitBuf,
    };

    #[test]
    fn cached_power_k_matches_rapidjson() {
        // Every exponent a normalized boundary can have, and then some.
        for e in -1300..=1100 {
            assert_eq!(cached_power_k(e), cached_power_k_float(e), "e = {e}");
        }
    }

    #[test]
    fn decimal_len_counts_as_rapidjson_below_1e9() {
        let mut n = 0u32;
        while n < 1_000_000_000 {
            for m in [n, n.saturating_sub(1), n + 1] {
                let ours = super::decimal_len(m as u64) as i32;
                assert_eq!(ours, count_decimal_digits(m), "{m}");
            }
            n = if n == 0 { 1 } else { n * 10 };
        }
    }

    #[test]
    fn digit_gen_matches_rapidjsons_loop() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let check = |v: f64| {
            if !v.is_finite() || v <= 0.0 {
                return;
            }
            let (mut a, mut b) = ([0u8; 48], [0u8; 48]);
            let fast = grisu2(v, &mut a);
            let slow = grisu2_with(v, &mut b, digit_gen_reference);
            assert_eq!((fast, a), (slow, b), "{v:e} ({:016x})", v.to_bits());
        };
        for _ in 0..300_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            check(f64::from_bits(x));
            check(f64::from_bits(x >> 1));
            // Timestamps and durations with microsecond resolution.
            check(1.0e9 + (x % 2_000_000_000_000_000) as f64 * 1e-6);
            check((x % 100_000_000) as f64 * 1e-6);
            check((x % 1_000_000_000_000) as f64);
        }
        for e in -320..=308 {
            check(10f64.powi(e));
            check(1.5 * 10f64.powi(e));
        }
        check(f64::MAX);
        check(f64::MIN_POSITIVE);
        check(5e-324);
    }

    /// When the fast path answers, it answers what Grisu2 does.
    fn same_as_grisu2(v: f64) -> bool {
        let (mut a, mut b): (DigitBuf, DigitBuf) = ([0; 48], [0; 48]);
        let Some((len, k)) = microsecond_digits(v, &mut a) else {
            return false;
        };
        let (glen, gk) = grisu2(v, &mut b);
        assert_eq!(
            (&a[..len], k),
            (&b[..glen], gk),
            "{v:e} ({:016x}): fast path {:?} e{k}, Grisu2 {:?} e{gk}",
            v.to_bits(),
            std::str::from_utf8(&a[..len]),
            std::str::from_utf8(&b[..glen])
        );
        true
    }

    #[test]
    fn microsecond_fast_path_matches_grisu2() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut taken, mut near_edge) = (0u32, 0u32);
        for _ in 0..400_000 {
            let r = next();
            // Timestamps of this century, to the microsecond.
            let ts = (1_000_000_000_000_000 + r % 3_000_000_000_000_000) as f64 / 1e6;
            // Any multiple of 10^-6 up to 2^32, any magnitude.
            let digits = 1 + (r >> 12) % 4_294_967_295_999_999;
            let any = (digits >> (r % 52)) as f64 / 1e6;
            // Round numbers: trailing zeros, integers, halves.
            let round =
                ((r >> 20) % 100_000) as f64 * [1e-6, 1e-3, 0.5, 1.0, 1e4][(r % 5) as usize];
            // Random doubles near and in the range (mostly not answered).
            let raw = f64::from_bits(0x3E00_0000_0000_0000 + r % 0x0600_0000_0000_0000);
            for v in [ts, any, round, raw] {
                if same_as_grisu2(v) {
                    taken += 1;
                    // Close to the fast path's limit (the last 5% of it).
                    let m = (v * 1e6 + 0.5) as u64;
                    let e = ((v.to_bits() >> 52) as i32) - 1075;
                    let f = (v.to_bits() & ((1 << 52) - 1)) | (1 << 52);
                    let diff = ((m as u128) << (-e) as u32).abs_diff(f as u128 * 1_000_000);
                    if diff >= 445_000 {
                        near_edge += 1;
                    }
                }
            }
        }
        // It answers for microsecond values, and was tested near its limit.
        assert!(taken > 1_000_000, "fast path answered {taken} times");
        assert!(near_edge > 10_000, "only {near_edge} values near the limit");
        // What it must leave to Grisu2.
        for v in [
            4_294_967_296.0,       // 2^32: out of range
            1.0,                   // a power of two
            0.1 + 0.2,             // not a decimal of six digits
            4e-7,                  // below 10^-6
            1_294_814_876.6740381, // seven digits
        ] {
            assert!(microsecond_digits(v, &mut [0; 48]).is_none(), "{v:e}");
        }
        assert!(same_as_grisu2(1_294_814_876.674038));
        assert!(same_as_grisu2(0.000001));
        assert!(same_as_grisu2(4_294_967_295.999999));
    }

    #[test]
    fn epoch_times_print_as_doubles_do() {
        use crate::encoder::{push_time, TimestampFormat};
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for t in [
                (x % 4_300_000_000_000_000) as f64 / 1e6,
                (x % 1000) as f64 * 10f64.powi((x % 13) as i32 - 6),
                f64::from_bits(x >> 1),
                -((x % 2_000_000_000_000) as f64) / 1e6,
            ] {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                push_time(&mut a, t, TimestampFormat::Epoch);
                push_double(&mut b, t);
                assert_eq!(a, b, "{t:e}");
            }
        }
    }

    fn fmt(v: f64) -> String {
        let mut out = Vec::new();
        push_double(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn documented_examples() {
        assert_eq!(fmt(0.0), "0.0");
        assert_eq!(fmt(-0.0), "-0.0");
        assert_eq!(fmt(1.0), "1.0");
        assert_eq!(fmt(2.5e-3), "0.0025");
        assert_eq!(fmt(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(fmt(1e20), "100000000000000000000.0");
        assert_eq!(fmt(1e21), "1e21");
        assert_eq!(fmt(1e-6), "0.000001");
        assert_eq!(fmt(1e-7), "1e-7");
        assert_eq!(fmt(123456789012345678.0), "123456789012345680.0");
        assert_eq!(fmt(f64::NAN), "null");
        assert_eq!(fmt(f64::NEG_INFINITY), "null");
        assert_eq!(fmt(-1.5), "-1.5");
        assert_eq!(fmt(1.5e300), "1.5e300");
        assert_eq!(fmt(f64::MIN_POSITIVE), "2.2250738585072014e-308");
        assert_eq!(fmt(5e-324), "5e-324");
    }
}
