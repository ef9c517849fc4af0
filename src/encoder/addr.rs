//! Addresses and subnets as Zeek prints them (`zeek_inet_ntop`).
//!
//! IPv6 differs from Rust's `Ipv6Addr` Display: the first longest run of two
//! or more zero groups becomes `::`, and an embedded IPv4 address keeps its
//! dotted tail for `::a.b.c.d`, `::ffff:a.b.c.d` and `::ffff:0:a.b.c.d`.

use super::out::Cursor;
use std::net::IpAddr;

/// Each octet's decimal digits (up to 3), and their count in byte 3.
static OCTETS: [[u8; 4]; 256] = {
    let mut t = [[0u8; 4]; 256];
    let mut i = 0;
    while i < 256 {
        let (h, d, u) = ((i / 100) as u8, (i / 10 % 10) as u8, (i % 10) as u8);
        t[i] = if i >= 100 {
            [b'0' + h, b'0' + d, b'0' + u, 3]
        } else if i >= 10 {
            [b'0' + d, b'0' + u, 0, 2]
        } else {
            [b'0' + u, 0, 0, 1]
        };
        i += 1;
    }
    t
};

/// Appends a dotted quad.
///
/// # Safety
/// Room for 16 bytes must have been reserved (15 written, and the last
/// octet's 4-byte store may reach one past them).
#[inline(always)]
unsafe fn put_ipv4(c: &mut Cursor, b: [u8; 4]) {
    for (i, &octet) in b.iter().enumerate() {
        let e = &OCTETS[octet as usize];
        // SAFETY: octet i starts at most 4 * i bytes in (3 digits and a
        // dot each) and stores 4: the last store ends by byte 16.
        unsafe {
            if i > 0 {
                c.put_byte(b'.');
            }
            c.put_prefix(e, e[3] as usize);
        }
    }
}

/// Appends the IPv4 address `b` as a dotted quad.
pub fn push_ipv4(out: &mut Vec<u8>, b: [u8; 4]) {
    let mut c = Cursor::new(out);
    c.reserve(16);
    // SAFETY: reserved just above.
    unsafe { put_ipv4(&mut c, b) }
}

/// Each byte as two lowercase hex digits.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX[i >> 4], HEX[i & 0xF]];
        i += 1;
    }
    t
};

/// Appends `w` in lowercase hex without leading zeros.
///
/// # Safety
/// Room for 4 bytes must have been reserved.
#[inline(always)]
unsafe fn put_hex16(c: &mut Cursor, w: u16) {
    let digits = if w == 0 {
        1
    } else {
        (19 - w.leading_zeros()) / 4
    };
    let [h0, h1] = HEX_PAIRS[(w >> 8) as usize];
    let [l0, l1] = HEX_PAIRS[(w & 0xFF) as usize];
    // All four digits, then the leading zeros shifted out.
    let all = u32::from_le_bytes([h0, h1, l0, l1]) >> (8 * (4 - digits));
    // SAFETY: 4 bytes stored, reserved by the caller.
    unsafe { c.put_prefix(&all.to_le_bytes(), digits as usize) }
}

/// For each set of zero groups (bit i: group i is zero), the first longest
/// run of at least two of them as (start, length), or (8, 0) for none.
static ZERO_RUNS: [(u8, u8); 256] = {
    let mut t = [(8u8, 0u8); 256];
    let mut m = 0;
    while m < 256 {
        let (mut best_base, mut best_len) = (8usize, 0usize);
        let mut i = 0;
        while i < 8 {
            if m & (1 << i) != 0 {
                let start = i;
                while i < 8 && m & (1 << i) != 0 {
                    i += 1;
                }
                if i - start > best_len {
                    best_base = start;
                    best_len = i - start;
                }
            } else {
                i += 1;
            }
        }
        if best_len >= 2 {
            t[m] = (best_base as u8, best_len as u8);
        }
        m += 1;
    }
    t
};

/// Appends the IPv6 address `b` (network byte order) in Zeek's form.
pub fn push_ipv6(out: &mut Vec<u8>, b: &[u8; 16]) {
    write_ipv6(&mut Cursor::new(out), b)
}

fn write_ipv6(c: &mut Cursor, b: &[u8; 16]) {
    // At most 39 characters ("ffff:" x 7 + "ffff"), plus slack for the
    // IPv4 tail's 4-byte stores.
    c.reserve(48);
    let mut words = [0u16; 8];
    for (i, w) in words.iter_mut().enumerate() {
        *w = u16::from_be_bytes([b[2 * i], b[2 * i + 1]]);
    }
    // First longest run of zero groups, if at least two long.
    let mut zeros = 0usize;
    for (i, w) in words.iter().enumerate() {
        zeros |= ((*w == 0) as usize) << i;
    }
    let (best_base, best_len) = ZERO_RUNS[zeros];
    let (best_base, best_len) = (best_base as usize, best_len as usize);
    let embedded_v4 = best_base == 0
        && (best_len == 6
            || (best_len == 5 && words[5] == 0xffff)
            || (best_len == 4 && words[4] == 0xffff && words[5] == 0));
    let mut i = 0;
    // SAFETY: reserved 48 above; the longest form writes 39, an IPv4 tail
    // needs 16 after at most 15 ("::ffff:0:").
    unsafe {
        while i < 8 {
            if i == best_base {
                c.put_byte(b':');
                i += best_len;
                if i == 8 {
                    c.put_byte(b':');
                }
                continue;
            }
            if i != 0 {
                c.put_byte(b':');
            }
            if i == 6 && embedded_v4 {
                put_ipv4(c, [b[12], b[13], b[14], b[15]]);
                break;
            }
            put_hex16(c, words[i]);
            i += 1;
        }
    }
}

/// Appends an address.
#[inline(always)]
pub(crate) fn write_addr(c: &mut Cursor, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            c.reserve(16);
            // SAFETY: reserved just above.
            unsafe { put_ipv4(c, v4.octets()) }
        }
        IpAddr::V6(v6) => write_ipv6(c, &v6.octets()),
    }
}

#[cfg(test)]
mod tests {
    use super::{push_ipv4, push_ipv6};
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// The straightforward form of Zeek's rules, to check the tables against.
    fn reference(b: &[u8; 16]) -> String {
        let w: Vec<u16> = (0..8)
            .map(|i| u16::from_be_bytes([b[2 * i], b[2 * i + 1]]))
            .collect();
        let (mut base, mut len) = (None, 0);
        let mut i = 0;
        while i < 8 {
            let start = i;
            while i < 8 && w[i] == 0 {
                i += 1;
            }
            if i - start > len.max(1) {
                (base, len) = (Some(start), i - start);
            }
            i = i.max(start + 1);
        }
        let v4 = base == Some(0)
            && (len == 6
                || (len == 5 && w[5] == 0xffff)
                || (len == 4 && w[4] == 0xffff && w[5] == 0));
        let mut s = String::new();
        let mut i = 0;
        while i < 8 {
            if Some(i) == base {
                s.push(':');
                i += len;
                if i == 8 {
                    s.push(':');
                }
                continue;
            }
            if i != 0 {
                s.push(':');
            }
            if i == 6 && v4 {
                s += &format!("{}.{}.{}.{}", b[12], b[13], b[14], b[15]);
                break;
            }
            s += &format!("{:x}", w[i]);
            i += 1;
        }
        s
    }

    #[test]
    fn ipv6_every_zero_pattern() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for zeros in 0..256u32 {
            for _ in 0..64 {
                let mut b = [0u8; 16];
                for g in 0..8 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let mut w = (x >> 16) as u16 >> (x % 16);
                    if zeros & (1 << g) != 0 {
                        w = 0;
                    } else if w == 0 {
                        w = 0xffff;
                    }
                    b[2 * g..2 * g + 2].copy_from_slice(&w.to_be_bytes());
                }
                let mut out = Vec::new();
                push_ipv6(&mut out, &b);
                assert_eq!(String::from_utf8(out).unwrap(), reference(&b), "{b:?}");
            }
        }
    }

    #[test]
    fn ipv4_every_octet() {
        for i in 0..=255u8 {
            for b in [[i, 0, 255, 9], [1, i, 10, 100], [255, 255, 255, i]] {
                let mut out = Vec::new();
                push_ipv4(&mut out, b);
                assert_eq!(out, Ipv4Addr::from(b).to_string().as_bytes());
            }
        }
    }

    fn fmt(s: &str) -> String {
        let mut out = Vec::new();
        push_ipv6(&mut out, &s.parse::<Ipv6Addr>().unwrap().octets());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn forms() {
        assert_eq!(fmt("::"), "::");
        assert_eq!(fmt("::1"), "::1");
        assert_eq!(fmt("::2"), "::2");
        assert_eq!(fmt("::102:304"), "::1.2.3.4");
        assert_eq!(fmt("::ffff:0:102:304"), "::ffff:0:1.2.3.4");
        assert_eq!(fmt("1:0:0:1::1"), "1:0:0:1::1");
        assert_eq!(fmt("2001:db8::"), "2001:db8::");
        assert_eq!(fmt("0:1:0:1:0:1:0:1"), "0:1:0:1:0:1:0:1");
        assert_eq!(fmt("fe80::1"), "fe80::1");
        assert_eq!(
            fmt("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
        );
        assert_eq!(fmt("::ffff:0:ffff:ffff"), "::ffff:0:255.255.255.255");
        assert_eq!(
            fmt("1:20:300:4000:a:b0:c00:d000"),
            "1:20:300:4000:a:b0:c00:d000"
        );
    }
}
