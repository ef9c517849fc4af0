//! The record model: what one log record looks like between the shim and
//! the encoder. A schema is a list of [`FieldSpec`]s; a record is a flat,
//! pre-order list of [`Slot`]s, one per value (a set or vector is followed
//! by its elements).
//!
//! The three types are shared with C++ (the shim fills them from Zeek's
//! `threading::Field`s and `threading::Value`s), so they are declared in a
//! `#[cxx::bridge]` of their own that declares nothing else; the FFI module
//! ([`crate::bridge`]) reuses them. Everything else here is plain Rust:
//!
//! - how a slot's members carry each kind of value is written down once, on
//!   [`Slot`], and decoded only by its accessors ([`Slot::addr`],
//!   [`Slot::prefix_len`], [`Slot::port`], [`Slot::bytes`], ...);
//! - the constructors ([`Slot::from_addr`], [`Slot::from_bytes`], ...) are what
//!   the readers that build records without Zeek (the corpus reader,
//!   `crate::dump`, and the CLI's TSV reader) use, so they fill the members
//!   exactly as the shim's `ZeroMQ::DoWrite` (`FillSlot`) does;
//! - [`Kind::from_zeek_name`] and [`Kind::zeek_name`] map kinds to Zeek's
//!   type names.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[cxx::bridge(namespace = "zeromq_writer")]
mod ffi {
    /// The type of one value, mapped by the shim from `zeek::TypeTag`.
    #[derive(Debug)]
    #[repr(u8)]
    enum Kind {
        Bool,
        Int,
        Count,
        Double,
        Time,
        Interval,
        Port,
        Addr,
        Subnet,
        String,
        Enum,
        File,
        Func,
        /// A set (`TYPE_TABLE`): `n` element slots follow.
        Set,
        /// A vector: `n` element slots follow (a hole is a non-present slot).
        Vector,
        /// Any other type tag; encoded as JSON `null`.
        Other,
    }

    /// One value. Which members carry data depends on `kind`:
    /// - Bool, Int, Count: `a` (Int as the two's complement bits).
    /// - Double, Time, Interval: `a` = the IEEE-754 bits of the seconds.
    /// - Port: `a` = port number, `aux` = 0 unknown, 1 tcp, 2 udp, 3 icmp.
    /// - Addr: `aux` = 4 or 6; `a` and `b` = the 16 bytes of `in6` (for IPv4
    ///   the 4 bytes of `in4` first), copied with memcpy in memory order.
    /// - Subnet: as Addr for the prefix, `n` = length in IPv6 bits.
    /// - String, Enum, File, Func: `data`/`len` = address and length of the
    ///   raw bytes (not NUL-terminated).
    /// - Set, Vector: `n` = number of element slots that follow.
    ///
    /// Read them through the accessors, write them through the
    /// constructors (in `impl Slot` below).
    #[derive(Clone, Copy, Debug)]
    struct Slot {
        kind: Kind,
        present: bool,
        aux: u8,
        n: u32,
        a: u64,
        b: u64,
        data: usize,
        len: usize,
    }

    /// One field of the log's schema, as `DoInit` receives it.
    #[derive(Clone, Debug)]
    struct FieldSpec {
        /// Flattened name, e.g. `id.orig_h`.
        name: String,
        kind: Kind,
        /// Element type of a set or vector, else `Kind::Other`.
        sub: Kind,
        optional: bool,
    }

    // The FFI module passes the schema as a `Vec<FieldSpec>`; cxx emits
    // the vector's glue where the element type is declared: here.
    impl Vec<FieldSpec> {}
}

pub use ffi::{FieldSpec, Kind, Slot};

impl Kind {
    /// The kind of a Zeek type name (`count`, `table`, `set`, ...); an
    /// unknown name is [`Kind::Other`].
    pub fn from_zeek_name(name: &str) -> Kind {
        match name {
            "bool" => Kind::Bool,
            "int" => Kind::Int,
            "count" => Kind::Count,
            "double" => Kind::Double,
            "time" => Kind::Time,
            "interval" => Kind::Interval,
            "port" => Kind::Port,
            "addr" => Kind::Addr,
            "subnet" => Kind::Subnet,
            "string" => Kind::String,
            "enum" => Kind::Enum,
            "file" => Kind::File,
            "func" => Kind::Func,
            "table" | "set" => Kind::Set,
            "vector" => Kind::Vector,
            _ => Kind::Other,
        }
    }

    /// Zeek's name of the type (`set` for [`Kind::Set`]; `other` for
    /// [`Kind::Other`]).
    pub fn zeek_name(self) -> &'static str {
        match self {
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Count => "count",
            Kind::Double => "double",
            Kind::Time => "time",
            Kind::Interval => "interval",
            Kind::Port => "port",
            Kind::Addr => "addr",
            Kind::Subnet => "subnet",
            Kind::String => "string",
            Kind::Enum => "enum",
            Kind::File => "file",
            Kind::Func => "func",
            Kind::Set => "set",
            Kind::Vector => "vector",
            _ => "other",
        }
    }
}

impl FieldSpec {
    pub fn new(name: impl Into<String>, kind: Kind, sub: Kind, optional: bool) -> FieldSpec {
        FieldSpec {
            name: name.into(),
            kind,
            sub,
            optional,
        }
    }
}

/// A port's transport protocol (JSON does not show it; the slot keeps it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Unknown,
    Tcp,
    Udp,
    Icmp,
}

/// `aux` of an IPv4 address or subnet (anything else is IPv6).
const AUX_IPV4: u8 = 4;
const AUX_IPV6: u8 = 6;
/// Zeek counts an IPv4 subnet's length in IPv6 bits: 96 more.
const IPV4_IN_IPV6_BITS: u32 = 96;

/// Constructors: each sets exactly the members the shim sets for its kind
/// (see [`Slot`]), the others zero.
impl Slot {
    /// A value of `kind` that is not present.
    pub fn unset(kind: Kind) -> Slot {
        Slot::empty(kind, false)
    }

    /// A present value of a kind that carries no data ([`Kind::Other`]).
    pub fn no_data(kind: Kind) -> Slot {
        Slot::empty(kind, true)
    }

    fn empty(kind: Kind, present: bool) -> Slot {
        Slot {
            kind,
            present,
            aux: 0,
            n: 0,
            a: 0,
            b: 0,
            data: 0,
            len: 0,
        }
    }

    fn with_a(kind: Kind, a: u64) -> Slot {
        Slot {
            a,
            ..Slot::no_data(kind)
        }
    }

    pub fn from_bool(b: bool) -> Slot {
        Slot::with_a(Kind::Bool, b as u64)
    }

    pub fn from_int(i: i64) -> Slot {
        Slot::with_a(Kind::Int, i as u64)
    }

    pub fn from_count(c: u64) -> Slot {
        Slot::with_a(Kind::Count, c)
    }

    /// A double, time or interval (`kind`).
    pub fn from_seconds(kind: Kind, seconds: f64) -> Slot {
        Slot::with_a(kind, seconds.to_bits())
    }

    pub fn from_port(number: u64, proto: Proto) -> Slot {
        Slot {
            aux: proto as u8,
            ..Slot::with_a(Kind::Port, number)
        }
    }

    pub fn from_addr(ip: IpAddr) -> Slot {
        Slot::with_ip(Kind::Addr, ip)
    }

    /// A subnet as it is written: `len` counts the bits of the prefix's
    /// own family (`10.0.0.0/8`: 8).
    pub fn from_subnet(prefix: IpAddr, len: u32) -> Slot {
        let ipv6_bits = match prefix {
            IpAddr::V4(_) => len + IPV4_IN_IPV6_BITS,
            IpAddr::V6(_) => len,
        };
        Slot::from_subnet_ipv6_bits(prefix, ipv6_bits)
    }

    /// A subnet as Zeek holds it: `ipv6_bits` is its length counted in IPv6
    /// bits (`10.0.0.0/8`: 104), as the shim and the corpus give it.
    pub fn from_subnet_ipv6_bits(prefix: IpAddr, ipv6_bits: u32) -> Slot {
        Slot {
            n: ipv6_bits,
            ..Slot::with_ip(Kind::Subnet, prefix)
        }
    }

    fn with_ip(kind: Kind, ip: IpAddr) -> Slot {
        // As the shim's memcpy of `in4` (then zeros) or `in6`: network
        // order, in memory order across `a` then `b`.
        let (aux, bytes) = match ip {
            IpAddr::V4(v4) => {
                let mut bytes = [0u8; 16];
                bytes[..4].copy_from_slice(&v4.octets());
                (AUX_IPV4, bytes)
            }
            IpAddr::V6(v6) => (AUX_IPV6, v6.octets()),
        };
        let (a, b) = bytes.split_at(8);
        Slot {
            aux,
            a: u64::from_ne_bytes(a.try_into().expect("8 bytes")),
            b: u64::from_ne_bytes(b.try_into().expect("8 bytes")),
            ..Slot::no_data(kind)
        }
    }

    /// A string, enum, file or func (`kind`) whose raw bytes are `bytes`.
    /// The slot only points at them: see [`Slot::bytes`] for how long they
    /// must stay.
    pub fn from_bytes(kind: Kind, bytes: &[u8]) -> Slot {
        Slot {
            data: bytes.as_ptr() as usize,
            len: bytes.len(),
            ..Slot::no_data(kind)
        }
    }

    /// A set or vector (`kind`) whose `elements` slots follow it.
    pub fn container(kind: Kind, elements: u32) -> Slot {
        Slot {
            n: elements,
            ..Slot::no_data(kind)
        }
    }
}

/// Accessors: each reads the members its kind uses (see [`Slot`]). On a
/// slot of another kind the result means nothing, but reading it is safe,
/// except with [`Slot::bytes`].
impl Slot {
    #[inline(always)]
    pub fn boolean(&self) -> bool {
        self.a != 0
    }

    #[inline(always)]
    pub fn int(&self) -> i64 {
        self.a as i64
    }

    #[inline(always)]
    pub fn count(&self) -> u64 {
        self.a
    }

    /// A double, time or interval, in seconds.
    #[inline(always)]
    pub fn seconds(&self) -> f64 {
        f64::from_bits(self.a)
    }

    /// A port's number.
    #[inline(always)]
    pub fn port(&self) -> u64 {
        self.a
    }

    /// An address, or a subnet's prefix.
    #[inline(always)]
    pub fn addr(&self) -> IpAddr {
        let (a, b) = (self.a.to_ne_bytes(), self.b.to_ne_bytes());
        if self.aux == AUX_IPV4 {
            IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
        } else {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&a);
            bytes[8..].copy_from_slice(&b);
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
    }

    /// A subnet's length in the bits of its prefix's family (as written:
    /// 8 for `10.0.0.0/8`).
    #[inline(always)]
    pub fn prefix_len(&self) -> u32 {
        if self.aux == AUX_IPV4 {
            self.n.saturating_sub(IPV4_IN_IPV6_BITS)
        } else {
            self.n
        }
    }

    /// How many element slots follow a set or vector.
    #[inline(always)]
    pub fn elements(&self) -> u32 {
        self.n
    }

    /// The raw bytes of a string, enum, file or func.
    ///
    /// # Safety
    /// `data`/`len` must point at `len` bytes that stay readable and
    /// unchanged while the returned slice lives: the shim's slots point
    /// into Zeek's `threading::Value`s, valid during the `DoWrite` call
    /// they are passed to; a [`Slot::from_bytes`] slot into the slice it
    /// was made from. (A length of 0 or a null `data` reads nothing.)
    #[inline(always)]
    pub unsafe fn bytes(&self) -> &[u8] {
        if self.len == 0 || self.data == 0 {
            &[]
        } else {
            // SAFETY: `data` is not null (checked above), and the caller
            // promises `len` readable bytes there for the slice's lifetime.
            unsafe { std::slice::from_raw_parts(self.data as *const u8, self.len) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_in_the_shims_layout() {
        let v4: IpAddr = "10.1.2.3".parse().unwrap();
        let s = Slot::from_addr(v4);
        assert_eq!((s.kind, s.aux), (Kind::Addr, 4));
        assert_eq!(s.a.to_ne_bytes(), [10, 1, 2, 3, 0, 0, 0, 0]);
        assert_eq!(s.b, 0);
        assert_eq!(s.addr(), v4);
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(Slot::from_addr(v6).addr(), v6);
    }

    #[test]
    fn subnet_lengths() {
        let v4: IpAddr = "10.0.0.0".parse().unwrap();
        let s = Slot::from_subnet(v4, 8);
        assert_eq!((s.n, s.prefix_len()), (104, 8));
        assert_eq!(Slot::from_subnet_ipv6_bits(v4, 104).prefix_len(), 8);
        let v6: IpAddr = "2001:db8::".parse().unwrap();
        assert_eq!(Slot::from_subnet(v6, 32).prefix_len(), 32);
    }

    #[test]
    fn kind_names() {
        for name in ["bool", "count", "set", "vector", "subnet", "func"] {
            assert_eq!(Kind::from_zeek_name(name).zeek_name(), name);
        }
        assert_eq!(Kind::from_zeek_name("table"), Kind::Set);
        assert_eq!(Kind::from_zeek_name("void"), Kind::Other);
    }
}
