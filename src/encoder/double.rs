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
fn cached_power(e: i32) -> (DiyFp, i32) {
    let dk = (-61 - e) as f64 * 0.301_029_995_663_981_14 + 347.0;
    let mut k = dk as i32;
    if dk - k as f64 > 0.0 {
        k += 1;
    }
    let index = ((k >> 3) + 1) as usize;
    let decimal_exponent = -(-348 + (index as i32) * 8);
    let (f, e) = CACHED_POWERS[index];
    (DiyFp { f, e: e as i32 }, decimal_exponent)
}

const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

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

/// Generates the digits of `w` into `buf`; returns their count and adjusts `k`.
fn digit_gen(w: DiyFp, mp: DiyFp, mut delta: u64, buf: &mut [u8; 20], k: &mut i32) -> usize {
    let one_e = -mp.e;
    let one_f = 1u64 << one_e;
    let wp_w = mp.sub(w);
    let mut p1 = (mp.f >> one_e) as u32;
    let mut p2 = mp.f & (one_f - 1);
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

/// Grisu2 digits of a positive, finite, non-zero `value`: (digits, count, K)
/// with value ~= digits * 10^K.
fn grisu2(value: f64, buf: &mut [u8; 20]) -> (usize, i32) {
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

fn push_exponent(out: &mut Vec<u8>, mut k: i32) {
    if k < 0 {
        out.push(b'-');
        k = -k;
    }
    let mut tmp = itoa_buf();
    out.extend_from_slice(format_u64(k as u64, &mut tmp));
}

fn itoa_buf() -> [u8; 20] {
    [0u8; 20]
}

/// Decimal digits of `n`, written at the end of `buf`.
pub(crate) fn format_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Lays out `digits * 10^k` the way rapidjson's `Prettify` does.
fn prettify(out: &mut Vec<u8>, digits: &[u8], k: i32) {
    let length = digits.len() as i32;
    let kk = length + k; // 10^(kk-1) <= v < 10^kk
    if 0 <= k && kk <= 21 {
        // dddd00.0
        out.extend_from_slice(digits);
        out.resize(out.len() + k as usize, b'0');
        out.extend_from_slice(b".0");
    } else if 0 < kk && kk <= 21 {
        // dd.dddd
        out.extend_from_slice(&digits[..kk as usize]);
        out.push(b'.');
        out.extend_from_slice(&digits[kk as usize..]);
    } else if -6 < kk && kk <= 0 {
        // 0.00dddd
        out.extend_from_slice(b"0.");
        out.resize(out.len() + (-kk) as usize, b'0');
        out.extend_from_slice(digits);
    } else if length == 1 {
        // 1e30
        out.push(digits[0]);
        out.push(b'e');
        push_exponent(out, kk - 1);
    } else {
        // 1234e30 -> 1.234e33
        out.push(digits[0]);
        out.push(b'.');
        out.extend_from_slice(&digits[1..]);
        out.push(b'e');
        push_exponent(out, kk - 1);
    }
}

/// Appends `value` as Zeek's JSON formatter writes a double.
pub fn push_double(out: &mut Vec<u8>, value: f64) {
    if !value.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    if value == 0.0 {
        if value.is_sign_negative() {
            out.extend_from_slice(b"-0.0");
        } else {
            out.extend_from_slice(b"0.0");
        }
        return;
    }
    let mut v = value;
    if v < 0.0 {
        out.push(b'-');
        v = -v;
    }
    let mut buf = [0u8; 20];
    let (len, k) = grisu2(v, &mut buf);
    prettify(out, &buf[..len], k);
}

#[cfg(test)]
mod tests {
    use super::push_double;

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
