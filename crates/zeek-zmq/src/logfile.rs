//! Reads a Zeek log file, TSV or JSON lines, plain or gzip-compressed, as
//! the `[path, json]` messages the writer would have published for it.
//!
//! - The format is recognized by the first line: `#` starts a TSV header,
//!   `{` a JSON record. gzip is recognized by its magic bytes (so `.gz` is
//!   optional, and `conn.log` may be compressed).
//! - JSON lines are passed on as they are, after checking that each is one
//!   JSON object; a line that starts with a `_path` key (a one-frame
//!   message, as `zeek-zmq sub` prints it) gives its path and is passed on
//!   without that key.
//! - TSV records are parsed with [`crate::tsv`] and encoded with the
//!   writer's own [`Encoder`], so each comes out as Zeek's JSON for the
//!   values the TSV holds.
//! - The path is the one given, else the TSV's `#path` or the line's
//!   `_path`, else the file name up to its first dot (`conn.json.log.gz` ->
//!   `conn`).

use crate::tsv::{Line, TsvParser, TsvRecord};
use flate2::bufread::MultiGzDecoder;
use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use zeek_zeromq_writer::encoder::{split_json_with_path, Encoder, JsonOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Tsv,
    Json,
}

/// What [`LogFile::next_item`] found.
#[derive(Debug)]
pub enum Item<'a> {
    /// A record: its log path and JSON (no newline).
    Record { path: &'a [u8], json: &'a [u8] },
    /// A line that is not a record: its line number and why.
    Malformed { line: u64, reason: String },
    /// The end of the file.
    End,
}

/// Counts the bytes read from the file (compressed bytes for gzip).
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

pub struct LogFile {
    name: PathBuf,
    reader: Box<dyn BufRead>,
    format: Option<Format>,
    gzip: bool,
    /// The path given by the caller; else the TSV's `#path` or the name's.
    path_override: Option<Vec<u8>>,
    path_from_name: Vec<u8>,
    path: Vec<u8>,
    json_opts: JsonOptions,
    line_no: u64,
    line: Vec<u8>,
    out: Vec<u8>,
    tsv: TsvParser,
    rec: TsvRecord,
    /// The encoder for the TSV schema of this generation.
    encoder: Option<(u64, Encoder)>,
    read_bytes: Rc<Cell<u64>>,
    size: u64,
    /// Bytes of the lines read so far (decompressed), and how many the
    /// file holds, if known (for gzip, from its trailer).
    consumed: u64,
    content_size: Option<u64>,
}

/// A gzip file's ISIZE, its last 4 bytes: the size of its (last member's)
/// content, modulo 4 GiB. Leaves `file` at its start.
fn gzip_isize(file: &mut File, size: u64) -> io::Result<Option<u64>> {
    // The smallest gzip file: a 10-byte header, an empty deflate block,
    // CRC32 and ISIZE.
    if size < 18 {
        return Ok(None);
    }
    let mut isize = [0; 4];
    file.seek(SeekFrom::End(-4))?;
    file.read_exact(&mut isize)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(Some(u64::from(u32::from_le_bytes(isize))))
}

/// The path a file name implies: the name up to its first dot.
pub fn path_from_file_name(name: &Path) -> Vec<u8> {
    let base = name
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    base.split('.')
        .next()
        .unwrap_or_default()
        .as_bytes()
        .to_vec()
}

impl LogFile {
    /// Opens `name`; `path` overrides the log path of every record.
    pub fn open(name: &Path, path: Option<&str>, json_opts: JsonOptions) -> io::Result<LogFile> {
        let mut file = File::open(name)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let isize = gzip_isize(&mut file, size)?;
        let read_bytes = Rc::new(Cell::new(0));
        let counting = Counting {
            inner: file,
            count: read_bytes.clone(),
        };
        let mut raw = BufReader::with_capacity(1 << 16, counting);
        let gzip = raw.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        let content_size = if gzip { isize } else { Some(size) };
        let reader: Box<dyn BufRead> = if gzip {
            Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(raw)))
        } else {
            Box::new(raw)
        };
        Ok(LogFile {
            name: name.to_path_buf(),
            reader,
            format: None,
            gzip,
            path_override: path.map(|p| p.as_bytes().to_vec()),
            path_from_name: path_from_file_name(name),
            path: Vec::new(),
            json_opts,
            line_no: 0,
            line: Vec::with_capacity(4096),
            out: Vec::with_capacity(4096),
            tsv: TsvParser::new(),
            rec: TsvRecord::default(),
            encoder: None,
            read_bytes,
            size,
            consumed: 0,
            content_size,
        })
    }

    pub fn name(&self) -> &Path {
        &self.name
    }

    /// The format, once the first line was read.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// How far through the file reading is, from 0 to 1: the bytes of the
    /// lines read so far, of all the file holds, so that it follows the
    /// records (not the reads ahead of them). For a gzip file whose
    /// trailer does not say its size (several members, or 4 GiB or more),
    /// by the compressed bytes read instead.
    pub fn progress(&self) -> f64 {
        match self.content_size {
            _ if self.size == 0 => 1.0,
            Some(0) => 1.0,
            Some(total) if self.consumed <= total => self.consumed as f64 / total as f64,
            _ => (self.read_bytes.get() as f64 / self.size as f64).min(1.0),
        }
    }

    /// The next record, malformed line, or the end. A read error (an
    /// unreadable or truncated file) ends the file with an error.
    pub fn next_item(&mut self) -> io::Result<Item<'_>> {
        loop {
            self.line.clear();
            let n = self.reader.read_until(b'\n', &mut self.line)?;
            if n == 0 {
                return Ok(Item::End);
            }
            self.consumed += n as u64;
            self.line_no += 1;
            if self.line.last() == Some(&b'\n') {
                self.line.pop();
            }
            let format = match self.format {
                Some(f) => f,
                None => {
                    let f =
                        match self.line.first() {
                            Some(b'#') => Format::Tsv,
                            Some(b'{') => Format::Json,
                            _ => return Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                "not a Zeek log: the first line is neither a TSV header (#...) \
                                 nor a JSON record ({...})",
                            )),
                        };
                    self.format = Some(f);
                    f
                }
            };
            match format {
                Format::Json => return Ok(self.json_line()),
                Format::Tsv => match self.tsv_line() {
                    None => continue,
                    Some(Ok(())) => {
                        return Ok(Item::Record {
                            path: &self.path,
                            json: &self.out,
                        })
                    }
                    Some(Err(reason)) => {
                        return Ok(Item::Malformed {
                            line: self.line_no,
                            reason,
                        })
                    }
                },
            }
        }
    }

    fn json_line(&mut self) -> Item<'_> {
        let line = self.line.as_slice();
        if line.first() != Some(&b'{') {
            return Item::Malformed {
                line: self.line_no,
                reason: "not a JSON object".into(),
            };
        }
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(line) {
            return Item::Malformed {
                line: self.line_no,
                reason: format!("not JSON: {e}"),
            };
        }
        if let Some((path, fields)) = split_json_with_path(line) {
            // A line as a one-frame message holds it (`zeek-zmq sub`'s
            // stdout, json-streaming-logs): the record without `_path`.
            self.out.clear();
            self.out.push(b'{');
            self.out.extend_from_slice(fields);
            self.path.clear();
            self.path.extend_from_slice(path);
            let path = self.path_override.as_deref().unwrap_or(&self.path);
            return Item::Record {
                path,
                json: &self.out,
            };
        }
        let path = self
            .path_override
            .as_deref()
            .unwrap_or(&self.path_from_name);
        Item::Record { path, json: line }
    }

    /// Parses and encodes a TSV line into `out`: `None` for a header line,
    /// else whether it was a record.
    fn tsv_line(&mut self) -> Option<Result<(), String>> {
        let parsed = match self.tsv.parse_line(&self.line, &mut self.rec) {
            Ok(Line::Header) => return None,
            Ok(Line::Record(parsed)) => parsed,
            Err(reason) => return Some(Err(reason)),
        };
        let generation = self.tsv.generation();
        if self.encoder.as_ref().map(|(g, _)| *g) != Some(generation) {
            self.encoder = Some((generation, Encoder::new(self.tsv.fields(), self.json_opts)));
            self.path = match (&self.path_override, self.tsv.path()) {
                (Some(p), _) => p.clone(),
                (None, Some(p)) => p.as_bytes().to_vec(),
                (None, None) => self.path_from_name.clone(),
            };
        }
        let (_, encoder) = self.encoder.as_ref().expect("set above");
        self.out.clear();
        Some(parsed.encode(encoder, &mut self.out).map_err(|e| e.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("zmqwriter-logfile-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    fn records(f: &mut LogFile) -> Vec<Result<(String, String), (u64, String)>> {
        let mut v = Vec::new();
        loop {
            match f.next_item().unwrap() {
                Item::Record { path, json } => v.push(Ok((
                    String::from_utf8_lossy(path).into_owned(),
                    String::from_utf8_lossy(json).into_owned(),
                ))),
                Item::Malformed { line, reason } => v.push(Err((line, reason))),
                Item::End => return v,
            }
        }
    }

    #[test]
    fn json_plain_and_gzip() {
        let text = "{\"a\":1}\nnot json\n{\"b\":[1,\n{\"c\":\"x\"}\n";
        let plain = tmp("dns.json.log");
        std::fs::write(&plain, text).unwrap();
        let gz = tmp("http.2026-01-01.log.gz");
        let mut enc =
            flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap();
        for (file, path) in [(&plain, "dns"), (&gz, "http")] {
            let mut f = LogFile::open(file, None, JsonOptions::default()).unwrap();
            let r = records(&mut f);
            assert_eq!(f.format(), Some(Format::Json));
            assert_eq!(f.is_gzip(), file == &gz);
            assert_eq!(r[0], Ok((path.into(), "{\"a\":1}".into())));
            assert_eq!(r[1].as_ref().unwrap_err().0, 2);
            assert_eq!(r[2].as_ref().unwrap_err().0, 3);
            assert_eq!(r[3], Ok((path.into(), "{\"c\":\"x\"}".into())));
            assert_eq!(r.len(), 4);
            assert_eq!(f.progress(), 1.0);
        }
        let mut f = LogFile::open(&plain, Some("other"), JsonOptions::default()).unwrap();
        assert_eq!(records(&mut f)[0].as_ref().unwrap().0, "other");
    }

    #[test]
    fn progress_follows_the_records() {
        // 578 records of equal length (less than the reader's 64 KiB buffer).
        let text: String = (0..578)
            .map(|i| format!("{{\"n\":{}}}\n", 1000 + i))
            .collect();
        let plain = tmp("progress.json.log");
        std::fs::write(&plain, &text).unwrap();
        let gz = tmp("progress.json.log.gz");
        let mut enc =
            flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap();
        for file in [&plain, &gz] {
            let mut f = LogFile::open(file, None, JsonOptions::default()).unwrap();
            for n in 1..=578 {
                assert!(matches!(f.next_item().unwrap(), Item::Record { .. }));
                let expected = n as f64 / 578.0;
                assert!(
                    (f.progress() - expected).abs() < 1e-9,
                    "{}: record {n}: {} instead of {expected}",
                    file.display(),
                    f.progress()
                );
            }
            assert!(matches!(f.next_item().unwrap(), Item::End));
            assert_eq!(f.progress(), 1.0);
        }
    }

    #[test]
    fn json_path_from_a_leading_path_key() {
        let file = tmp("mixed.json.log");
        let text = "{\"_path\":\"conn\",\"n\":1}\n{\"_path\":\"x\"}\n{\"n\":2,\"_path\":\"y\"}\n";
        std::fs::write(&file, text).unwrap();
        let mut f = LogFile::open(&file, None, JsonOptions::default()).unwrap();
        assert_eq!(
            records(&mut f),
            [
                Ok(("conn".into(), "{\"n\":1}".into())),
                Ok(("x".into(), "{}".into())),
                Ok(("mixed".into(), "{\"n\":2,\"_path\":\"y\"}".into())),
            ]
        );
        let mut f = LogFile::open(&file, Some("other"), JsonOptions::default()).unwrap();
        assert_eq!(records(&mut f)[0], Ok(("other".into(), "{\"n\":1}".into())));
    }

    #[test]
    fn tsv_path_from_header() {
        let file = tmp("whatever.log");
        std::fs::write(
            &file,
            "#separator \\x09\n#path\tconn\n#fields\tn\n#types\tcount\n7\nx\n",
        )
        .unwrap();
        let mut f = LogFile::open(&file, None, JsonOptions::default()).unwrap();
        let r = records(&mut f);
        assert_eq!(r[0], Ok(("conn".into(), "{\"n\":7}".into())));
        assert_eq!(r[1].as_ref().unwrap_err().0, 6);
        let bad = tmp("bad.log");
        std::fs::write(&bad, "hello\n").unwrap();
        let mut f = LogFile::open(&bad, None, JsonOptions::default()).unwrap();
        assert!(f.next_item().is_err());
    }
}
