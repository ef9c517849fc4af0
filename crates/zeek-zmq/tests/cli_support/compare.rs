//! The rule by which a record replayed from a TSV log must equal Zeek's own
//! JSON log line for the same record.
//!
//! Both lines are split into their top-level `"key":value` members, each
//! value kept as its raw JSON text. Then:
//!
//! 1. The keys must be the same, in the same order.
//! 2. A value of any type but `double`, `interval` and `time` (and sets and
//!    vectors of those) must be byte-identical.
//! 3. A number `t` that the replay wrote for a double, interval or time
//!    (an element, for a vector of them) matches Zeek's `z` when both are the
//!    same text, or both parse (Rust's correctly rounded `str::parse::<f64>`)
//!    to values with |t - z| <= 0.5e-6 + 2 ulp(z): the TSV writer printed
//!    `z` rounded to 6 decimals (times with `%.6f`, doubles and intervals
//!    with up to 6 decimals, or in full when large), and the reader parsed
//!    that text back to the nearest double. `null` (NaN) matches only `null`.
//! 4. One loss the TSV format itself makes: a set or vector whose only
//!    element is the empty string is written as the empty field,
//!    `(empty)`, exactly as an empty one; so the replay's `[]` matches
//!    Zeek's `[""]`. Nothing else is accepted.

use zeek_zeromq_writer::{FieldSpec, Kind};

/// The top-level members of a one-line JSON object, as raw text.
pub fn members(line: &str) -> Result<Vec<(&str, &str)>, String> {
    let b = line.as_bytes();
    if b.first() != Some(&b'{') || b.last() != Some(&b'}') {
        return Err(format!("not an object: {line}"));
    }
    let mut out = Vec::new();
    let mut i = 1;
    if b.len() == 2 {
        return Ok(out);
    }
    loop {
        let key_start = i;
        i = skip_string(b, i)?;
        let key = &line[key_start..i];
        if b.get(i) != Some(&b':') {
            return Err(format!("no ':' after {key} in {line}"));
        }
        i += 1;
        let v_start = i;
        i = skip_value(b, i)?;
        out.push((key, &line[v_start..i]));
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') if i == b.len() - 1 => return Ok(out),
            _ => return Err(format!("bad object at byte {i}: {line}")),
        }
    }
}

fn skip_string(b: &[u8], mut i: usize) -> Result<usize, String> {
    if b.get(i) != Some(&b'"') {
        return Err(format!("expected a string at byte {i}"));
    }
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err("unterminated string".into())
}

fn skip_value(b: &[u8], mut i: usize) -> Result<usize, String> {
    match b.get(i) {
        Some(b'"') => skip_string(b, i),
        Some(b'[') | Some(b'{') => {
            let mut depth = 0;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = skip_string(b, i)?;
                        continue;
                    }
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            Err("unterminated container".into())
        }
        Some(_) => {
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']') {
                i += 1;
            }
            Ok(i)
        }
        None => Err("missing value".into()),
    }
}

fn ulp(z: f64) -> f64 {
    let z = z.abs();
    if !z.is_finite() {
        return 0.0;
    }
    f64::from_bits(z.to_bits() + 1) - z
}

/// Rule 3 for one number.
fn double_matches(ours: &str, zeek: &str) -> bool {
    if ours == zeek {
        return true;
    }
    match (ours.parse::<f64>(), zeek.parse::<f64>()) {
        (Ok(t), Ok(z)) => (t - z).abs() <= 0.5e-6 + 2.0 * ulp(z),
        _ => false,
    }
}

fn is_double(k: Kind) -> bool {
    k == Kind::Double || k == Kind::Interval || k == Kind::Time
}

/// Compares our line with Zeek's for a log of schema `fields` (from the
/// TSV header). `Err` says what differs.
pub fn tsv_record_matches(ours: &str, zeek: &str, fields: &[FieldSpec]) -> Result<(), String> {
    let (o, z) = (members(ours)?, members(zeek)?);
    let ok = o.len() == z.len()
        && o.iter().zip(&z).all(|((ok, ov), (zk, zv))| {
            if ok != zk {
                return false;
            }
            if ov == zv {
                return true;
            }
            let name = &ok[1..ok.len() - 1];
            let Some(f) = fields.iter().find(|f| f.name == name) else {
                return false;
            };
            let (kind, sub) = (f.kind, f.sub);
            if is_double(kind) {
                return double_matches(ov, zv);
            }
            if (kind == Kind::Set || kind == Kind::Vector) && *ov == "[]" && *zv == "[\"\"]" {
                return true;
            }
            if (kind == Kind::Set || kind == Kind::Vector) && is_double(sub) {
                let (oe, ze) = (&ov[1..ov.len() - 1], &zv[1..zv.len() - 1]);
                let (oe, ze): (Vec<&str>, Vec<&str>) =
                    (oe.split(',').collect(), ze.split(',').collect());
                return oe.len() == ze.len()
                    && oe.iter().zip(&ze).all(|(a, b)| double_matches(a, b));
            }
            false
        });
    if ok {
        Ok(())
    } else {
        Err(format!("\n  replayed: {ours}\n  zeek:     {zeek}"))
    }
}
