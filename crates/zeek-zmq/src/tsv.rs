//! Reads Zeek's TSV logs (the ASCII writer's default format) into the slot
//! lists the plugin's [`Encoder`] takes, so that a TSV record becomes
//! the JSON Zeek would have written for the same values.
//!
//! The header declares how the rest of the file is written:
//!
//! ```text
//! #separator \x09
//! #set_separator<TAB>,
//! #empty_field<TAB>(empty)
//! #unset_field<TAB>-
//! #path<TAB>conn
//! #fields<TAB>ts<TAB>uid<TAB>id.orig_h<TAB>...
//! #types<TAB>time<TAB>string<TAB>addr<TAB>...
//! ```
//!
//! (`<TAB>` is a tab.) `#separator` is followed by a space and the
//! separator, `\xNN`-escaped; every other header line uses the separator.
//! In values, the ASCII writer escapes bytes it does not print (and the
//! separators) as `\xNN` and a backslash as `\\`; the unset field (`-`) is
//! a value that is not present, the empty field (`(empty)`) an empty string
//! or an empty set/vector.
//! Elements of sets and vectors are joined with the set separator, and a
//! vector's hole is written as the unset field. A new `#separator` line
//! starts a new header, so concatenated logs read correctly.
//!
//! What the TSV form cannot hold is lost before this reader sees it: doubles
//! and intervals are written with (at most) 6 decimals, times with exactly 6;
//! a port's protocol is not written (JSON does not show it either).

use std::net::IpAddr;
use std::ops::Range;
use zeek_zeromq_writer::encoder::{EncodeError, Encoder};
use zeek_zeromq_writer::record::{FieldSpec, Kind, Proto, Slot};
use zeek_zeromq_writer::report::count;

/// What one line was.
#[derive(Debug, Clone, Copy)]
pub enum Line<'r> {
    /// A header line (`#fields`, `#close`, ...): nothing to publish.
    Header,
    /// A record, parsed into the [`TsvRecord`] passed in.
    Record(ParsedRecord<'r>),
}

/// The parser's state: the separators and the schema the header declared.
pub struct TsvParser {
    separator: Vec<u8>,
    set_separator: Vec<u8>,
    empty_field: Vec<u8>,
    unset_field: Vec<u8>,
    path: Option<String>,
    names: Vec<String>,
    types: Vec<String>,
    fields: Vec<FieldSpec>,
    /// Whether `fields` reflects `names`/`types`.
    fields_current: bool,
    /// Incremented whenever the schema changes.
    generation: u64,
}

impl Default for TsvParser {
    fn default() -> Self {
        TsvParser {
            separator: b"\t".to_vec(),
            set_separator: b",".to_vec(),
            empty_field: b"(empty)".to_vec(),
            unset_field: b"-".to_vec(),
            path: None,
            names: Vec::new(),
            types: Vec::new(),
            fields: Vec::new(),
            fields_current: false,
            generation: 0,
        }
    }
}

/// One record's slots and the decoded bytes its string slots point into.
/// Reused from record to record: parsing allocates only while it grows.
/// [`TsvParser::parse_line`] fills it and, if the whole line parsed, lends
/// it out as the [`ParsedRecord`] that can be encoded.
#[derive(Debug, Default)]
pub struct TsvRecord {
    slots: Vec<Slot>,
    bytes: Vec<u8>,
    /// The string slots (by index) and their bytes' place in `bytes`: they
    /// point into it only once `bytes` is complete (`parsed`), as it
    /// may move while it grows.
    strings: Vec<(usize, Range<usize>)>,
}

impl TsvRecord {
    fn clear(&mut self) {
        self.slots.clear();
        self.bytes.clear();
        self.strings.clear();
    }

    /// Points the string slots at their bytes, now that `bytes` is
    /// complete: the record is ready to encode.
    fn parsed(&mut self) -> ParsedRecord<'_> {
        for (i, range) in &self.strings {
            let slot = &mut self.slots[*i];
            *slot = Slot::from_bytes(slot.kind, &self.bytes[range.clone()]);
        }
        ParsedRecord { rec: self }
    }
}

/// A record that parsed completely: the only way to encode a
/// [`TsvRecord`], so that nothing can encode one whose string slots do not
/// (yet) point into its bytes, as after a failed parse. It borrows the
/// record, which cannot change while it lives.
///
/// A [`TsvRecord`] itself has no `encode`:
///
/// ```compile_fail
/// # use zeek_zeromq_writer::encoder::{Encoder, JsonOptions};
/// # use zeek_zmq::tsv::{TsvParser, TsvRecord};
/// let mut parser = TsvParser::new();
/// let mut rec = TsvRecord::default();
/// assert!(parser.parse_line(b"1\t2", &mut rec).is_err());
/// let encoder = Encoder::new(&[], JsonOptions::default());
/// rec.encode(&encoder, &mut Vec::new());
/// ```
///
/// only the record a successful parse returns has:
///
/// ```
/// # use zeek_zeromq_writer::encoder::{Encoder, JsonOptions};
/// # use zeek_zmq::tsv::{Line, TsvParser, TsvRecord};
/// let mut parser = TsvParser::new();
/// let mut rec = TsvRecord::default();
/// for header in ["#fields\tn", "#types\tcount"] {
///     parser.parse_line(header.as_bytes(), &mut rec).unwrap();
/// }
/// let encoder = Encoder::new(parser.fields(), JsonOptions::default());
/// let Ok(Line::Record(parsed)) = parser.parse_line(b"1", &mut rec) else {
///     panic!("a record");
/// };
/// let mut json = Vec::new();
/// parsed.encode(&encoder, &mut json).unwrap();
/// assert_eq!(json, br#"{"n":1}"#);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ParsedRecord<'r> {
    rec: &'r TsvRecord,
}

impl ParsedRecord<'_> {
    /// The record's slots; string slots point into the record.
    pub fn slots(&self) -> &[Slot] {
        &self.rec.slots
    }

    /// Encodes the record as Zeek's JSON into `out` (appended).
    pub fn encode(&self, encoder: &Encoder, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        // SAFETY: a ParsedRecord is made only by `TsvRecord::parsed`, after
        // the last byte was pushed, which pointed every string slot into
        // `bytes`; the shared borrow keeps `bytes` from changing or moving
        // while this value (and so this call) lives.
        unsafe { encoder.encode(&self.rec.slots, out) }
    }
}

/// Splits `s` at every occurrence of `sep` (non-empty).
fn split<'a>(s: &'a [u8], sep: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match find(r, sep) {
            Some(i) => {
                rest = Some(&r[i + sep.len()..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() == 1 {
        return hay.iter().position(|&b| b == needle[0]);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Undoes the ASCII writer's escaping, appending to `out`: `\xNN` is the
/// byte NN, `\\` a backslash; any other backslash stands for itself.
pub fn unescape_into(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() {
        let Some(off) = s[i..].iter().position(|&b| b == b'\\') else {
            out.extend_from_slice(&s[i..]);
            return;
        };
        out.extend_from_slice(&s[i..i + off]);
        i += off;
        match s.get(i + 1) {
            Some(b'x') => {
                let byte = s
                    .get(i + 2)
                    .and_then(|&h| hex_digit(h))
                    .zip(s.get(i + 3).and_then(|&l| hex_digit(l)));
                if let Some((h, l)) = byte {
                    out.push(h << 4 | l);
                    i += 4;
                } else {
                    out.push(b'\\');
                    i += 1;
                }
            }
            Some(b'\\') => {
                out.push(b'\\');
                i += 2;
            }
            _ => {
                out.push(b'\\');
                i += 1;
            }
        }
    }
}

fn unescape(s: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len());
    unescape_into(s, &mut v);
    v
}

fn text(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

/// A Zeek type name from `#types` (`count`, `set[string]`,
/// `vector[interval]`) as the kind and element kind of a field.
pub fn field_kind(type_name: &str) -> (Kind, Kind) {
    if let Some(open) = type_name.find('[') {
        let outer = Kind::from_zeek_name(&type_name[..open]);
        let inner = type_name[open + 1..].trim_end_matches(']');
        (outer, Kind::from_zeek_name(inner))
    } else {
        (Kind::from_zeek_name(type_name), Kind::Other)
    }
}

impl TsvParser {
    pub fn new() -> TsvParser {
        TsvParser::default()
    }

    /// The `#path` of the current header, if it declared one.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The current schema (empty until `#fields` and `#types` were read).
    pub fn fields(&mut self) -> &[FieldSpec] {
        self.build_fields();
        &self.fields
    }

    /// Changes whenever the header changes the schema or the path: rebuild
    /// the encoder when it does.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn build_fields(&mut self) {
        if self.fields_current {
            return;
        }
        self.fields = self
            .names
            .iter()
            .zip(&self.types)
            .map(|(name, ty)| {
                let (kind, sub) = field_kind(ty);
                FieldSpec::new(name.clone(), kind, sub, true)
            })
            .collect();
        self.fields_current = true;
    }

    /// Reads one line (without its newline). A record's values go into
    /// `rec`, which [`Line::Record`] then lends out for encoding; the error
    /// says why a line is not a record of the schema (and leaves nothing
    /// to encode).
    pub fn parse_line<'r>(
        &mut self,
        line: &[u8],
        rec: &'r mut TsvRecord,
    ) -> Result<Line<'r>, String> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'#') && self.header_line(line)? {
            return Ok(Line::Header);
        }
        self.record(line, rec).map(Line::Record)
    }

    /// Handles `line` if it is a header line (returns whether it was).
    fn header_line(&mut self, line: &[u8]) -> Result<bool, String> {
        if let Some(v) = line.strip_prefix(b"#separator ") {
            let sep = unescape(v);
            if sep.is_empty() {
                return Err("#separator is empty".into());
            }
            // A new header: concatenated logs start over.
            *self = TsvParser {
                separator: sep,
                generation: self.generation + 1,
                ..TsvParser::default()
            };
            return Ok(true);
        }
        let body = &line[1..];
        let (key, value) = match find(body, &self.separator) {
            Some(i) => (&body[..i], &body[i + self.separator.len()..]),
            None => (body, &b""[..]),
        };
        match key {
            b"set_separator" => {
                self.set_separator = unescape(value);
                if self.set_separator.is_empty() {
                    return Err("#set_separator is empty".into());
                }
            }
            b"empty_field" => self.empty_field = unescape(value),
            b"unset_field" => self.unset_field = unescape(value),
            b"path" => self.path = Some(text(&unescape(value))),
            b"fields" | b"types" => {
                let list: Vec<String> = split(value, &self.separator)
                    .map(|f| text(&unescape(f)))
                    .collect();
                if key == b"fields" {
                    self.names = list;
                } else {
                    self.types = list;
                }
                self.fields_current = false;
            }
            b"open" | b"close" => {}
            // Not a header line: a record whose first value starts with '#'.
            _ => return Ok(false),
        }
        self.generation += 1;
        Ok(true)
    }

    fn record<'r>(
        &mut self,
        line: &[u8],
        rec: &'r mut TsvRecord,
    ) -> Result<ParsedRecord<'r>, String> {
        self.build_fields();
        if self.fields.is_empty() {
            return Err("a record before the #fields and #types header lines".into());
        }
        if self.names.len() != self.types.len() {
            return Err(format!(
                "the header has {} #fields but {} #types",
                self.names.len(),
                self.types.len()
            ));
        }
        rec.clear();
        let mut values = split(line, &self.separator);
        for (i, f) in self.fields.iter().enumerate() {
            let Some(v) = values.next() else {
                return Err(format!(
                    "{}, the header has {}",
                    count(i as u64, "value"),
                    count(self.fields.len() as u64, "field")
                ));
            };
            self.value(f.kind, f.sub, v, rec)
                .map_err(|e| format!("field {}: {e}", f.name))?;
        }
        let extra = values.count();
        if extra > 0 {
            return Err(format!(
                "{}, the header has {}",
                count((self.fields.len() + extra) as u64, "value"),
                count(self.fields.len() as u64, "field")
            ));
        }
        Ok(rec.parsed())
    }

    /// Appends the slot(s) for one top-level value.
    fn value(&self, kind: Kind, sub: Kind, v: &[u8], rec: &mut TsvRecord) -> Result<(), String> {
        if v == self.unset_field.as_slice() {
            rec.slots.push(Slot::unset(kind));
            return Ok(());
        }
        if kind == Kind::Set || kind == Kind::Vector {
            let at = rec.slots.len();
            rec.slots.push(Slot::container(kind, 0));
            if v == self.empty_field.as_slice() {
                return Ok(());
            }
            let mut n = 0;
            for e in split(v, &self.set_separator) {
                if e == self.unset_field.as_slice() {
                    rec.slots.push(Slot::unset(sub));
                } else {
                    self.scalar(sub, e, rec)?;
                }
                n += 1;
            }
            rec.slots[at] = Slot::container(kind, n);
            return Ok(());
        }
        self.scalar(kind, v, rec)
    }

    fn scalar(&self, kind: Kind, v: &[u8], rec: &mut TsvRecord) -> Result<(), String> {
        let bad = || format!("bad {} value \"{}\"", kind.zeek_name(), text(v));
        let parsed = || std::str::from_utf8(v).ok().ok_or_else(bad);
        let slot = match kind {
            Kind::Bool => Slot::from_bool(match v {
                b"T" => true,
                b"F" => false,
                _ => return Err(bad()),
            }),
            Kind::Int => Slot::from_int(parsed()?.parse().map_err(|_| bad())?),
            Kind::Count => Slot::from_count(parsed()?.parse().map_err(|_| bad())?),
            // The ASCII writer does not write a port's protocol.
            Kind::Port => Slot::from_port(parsed()?.parse().map_err(|_| bad())?, Proto::Unknown),
            Kind::Double | Kind::Time | Kind::Interval => {
                Slot::from_seconds(kind, parsed()?.parse().map_err(|_| bad())?)
            }
            Kind::Addr => Slot::from_addr(parsed()?.parse().map_err(|_| bad())?),
            Kind::Subnet => {
                let (ip, len) = parsed()?
                    .split_once('/')
                    .and_then(|(a, l)| Some((a.parse::<IpAddr>().ok()?, l.parse::<u32>().ok()?)))
                    .ok_or_else(bad)?;
                let max = if ip.is_ipv4() { 32 } else { 128 };
                if len > max {
                    return Err(bad());
                }
                Slot::from_subnet(ip, len)
            }
            Kind::String | Kind::Enum | Kind::File | Kind::Func => {
                let start = rec.bytes.len();
                if v != self.empty_field.as_slice() {
                    unescape_into(v, &mut rec.bytes);
                }
                rec.strings.push((rec.slots.len(), start..rec.bytes.len()));
                // Points at its bytes once they are all there (`parsed`).
                Slot::from_bytes(kind, &[])
            }
            // Written as JSON null by the encoder, whatever the TSV holds.
            _ => Slot::no_data(kind),
        };
        rec.slots.push(slot);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeek_zeromq_writer::encoder::JsonOptions;

    fn parse(lines: &[&str]) -> (TsvParser, Vec<Result<String, String>>) {
        let mut p = TsvParser::new();
        let mut rec = TsvRecord::default();
        let mut out = Vec::new();
        for l in lines {
            match p.parse_line(l.as_bytes(), &mut rec) {
                Ok(Line::Header) => {}
                Ok(Line::Record(parsed)) => {
                    let enc = Encoder::new(p.fields(), JsonOptions::default());
                    let mut json = Vec::new();
                    parsed.encode(&enc, &mut json).unwrap();
                    out.push(Ok(String::from_utf8(json).unwrap()));
                }
                Err(e) => out.push(Err(e)),
            }
        }
        (p, out)
    }

    const HEADER: &[&str] = &[
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tx",
        "#open\t2026-01-01-00-00-00",
        "#fields\tts\tb\ti\ts\ta\tsn\tp\tss\tvc\tvd",
        "#types\ttime\tbool\tint\tstring\taddr\tsubnet\tport\tset[string]\tvector[count]\tvector[double]",
    ];

    #[test]
    fn values_of_every_kind() {
        let mut lines = HEADER.to_vec();
        lines.push(
            "1.500000\tT\t-3\ta\\x09b\\\\c\\x2d\t::1\t10.0.0.0/8\t80\ta\\x2cb,(empty),c\t1,-,3\t0.1,nan",
        );
        lines.push("-\t-\t-\t\\x2d\t-\t-\t-\t(empty)\t(empty)\t-");
        lines.push("#close\t2026-01-01-00-00-01");
        let (p, out) = parse(&lines);
        assert_eq!(p.path(), Some("x"));
        assert_eq!(
            out[0].as_deref().unwrap(),
            r#"{"ts":1.5,"b":true,"i":-3,"s":"a\tb\\c-","a":"::1","sn":"10.0.0.0/8","p":80,"ss":["a,b","","c"],"vc":[1,null,3],"vd":[0.1,null]}"#
        );
        assert_eq!(out[1].as_deref().unwrap(), r#"{"s":"-","ss":[],"vc":[]}"#);
    }

    #[test]
    fn other_separators_and_errors() {
        let (_, out) = parse(&[
            "#separator |",
            "#set_separator|;",
            "#empty_field|EMPTY",
            "#unset_field|NONE",
            "#fields|n|v",
            "#types|count|vector[string]",
            "5|a;EMPTY;NONE",
            "NONE|EMPTY",
            "x|y",
            "1",
            "1|2|3",
        ]);
        assert_eq!(out[0].as_deref().unwrap(), r#"{"n":5,"v":["a","",null]}"#);
        assert_eq!(out[1].as_deref().unwrap(), r#"{"v":[]}"#);
        assert!(out[2]
            .as_ref()
            .unwrap_err()
            .contains("bad count value \"x\""));
        assert!(out[3]
            .as_ref()
            .unwrap_err()
            .contains("1 value, the header has 2 fields"));
        assert!(out[4]
            .as_ref()
            .unwrap_err()
            .contains("3 values, the header has 2 fields"));
        let (_, out) = parse(&["1\t2"]);
        assert!(out[0].as_ref().unwrap_err().contains("before the #fields"));
    }

    #[test]
    fn a_failed_parse_leaves_nothing_to_encode() {
        let mut p = TsvParser::new();
        let mut rec = TsvRecord::default();
        for h in ["#fields\ts\tn", "#types\tstring\tcount"] {
            p.parse_line(h.as_bytes(), &mut rec).unwrap();
        }
        let enc = Encoder::new(p.fields(), JsonOptions::default());
        // Fails after the string's bytes went into the record, before any
        // slot pointed at them: the error is all there is (a ParsedRecord
        // is the only thing with `encode`; see its compile_fail example).
        match p.parse_line(b"abc\tx", &mut rec) {
            Err(e) => assert!(e.contains("bad count value \"x\""), "{e}"),
            Ok(_) => panic!("a bad count parsed"),
        }
        // The record is reused: the next line is encoded from its own bytes.
        let Ok(Line::Record(parsed)) = p.parse_line(b"de\t1", &mut rec) else {
            panic!("a record");
        };
        let mut json = Vec::new();
        parsed.encode(&enc, &mut json).unwrap();
        assert_eq!(json, br#"{"s":"de","n":1}"#);
    }

    #[test]
    fn unescaping() {
        assert_eq!(unescape(b"a\\x41\\\\\\x4"), b"aA\\\\x4");
        assert_eq!(unescape(b"\\"), b"\\");
        assert_eq!(unescape(b"\\y"), b"\\y");
    }
}
