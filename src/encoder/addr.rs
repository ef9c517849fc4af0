//! Addresses and subnets as Zeek prints them (`zeek_inet_ntop`).
//!
//! IPv6 differs from Rust's `Ipv6Addr` Display: the first longest run of two
//! or more zero groups becomes `::`, and an embedded IPv4 address keeps its
//! dotted tail for `::a.b.c.d`, `::ffff:a.b.c.d` and `::ffff:0:a.b.c.d`.

use std::io::Write;

/// Appends the IPv4 address `b` as a dotted quad.
pub fn push_ipv4(out: &mut Vec<u8>, b: [u8; 4]) {
    let _ = write!(out, "{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
}

/// Appends the IPv6 address `b` (network byte order) in Zeek's form.
pub fn push_ipv6(out: &mut Vec<u8>, b: &[u8; 16]) {
    let mut words = [0u16; 8];
    for (i, w) in words.iter_mut().enumerate() {
        *w = u16::from_be_bytes([b[2 * i], b[2 * i + 1]]);
    }
    // First longest run of zero groups, if at least two long.
    let (mut best_base, mut best_len) = (usize::MAX, 0usize);
    let mut i = 0;
    while i < 8 {
        if words[i] == 0 {
            let start = i;
            while i < 8 && words[i] == 0 {
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
    if best_len < 2 {
        best_base = usize::MAX;
        best_len = 0;
    }
    let embedded_v4 = best_base == 0
        && (best_len == 6
            || (best_len == 5 && words[5] == 0xffff)
            || (best_len == 4 && words[4] == 0xffff && words[5] == 0));
    let mut i = 0;
    while i < 8 {
        if i == best_base {
            out.push(b':');
            i += best_len;
            if i == 8 {
                out.push(b':');
            }
            continue;
        }
        if i != 0 {
            out.push(b':');
        }
        if i == 6 && embedded_v4 {
            push_ipv4(out, [b[12], b[13], b[14], b[15]]);
            break;
        }
        let _ = write!(out, "{:x}", words[i]);
        i += 1;
    }
}

/// Appends an address: IPv4 from the first 4 bytes when `v4`, else IPv6.
pub fn push_addr(out: &mut Vec<u8>, v4: bool, b: &[u8; 16]) {
    if v4 {
        push_ipv4(out, [b[0], b[1], b[2], b[3]]);
    } else {
        push_ipv6(out, b);
    }
}

#[cfg(test)]
mod tests {
    use super::push_ipv6;
    use std::net::Ipv6Addr;

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
    }
}
