//! What `zeek-zmq sub` received: records per path, malformed messages by
//! kind, and the one-line reports on stderr.

use crate::units::show_duration;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Instant;
use zeek_zeromq_writer::report::count;

/// Why a message was not a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// Neither two frames nor three.
    Frames,
    /// Three frames, the third not a sequence number.
    BadSequence,
    /// Frame 2 is not one JSON object on one line.
    NotJson,
    /// Frame 1 cannot be a file name (with `--dir`): empty, `.`, `..`, or
    /// holding `/` or NUL.
    BadPath,
}

#[derive(Default)]
struct Counter {
    total: u64,
    since: u64,
}

pub struct Stats {
    start: Instant,
    last: Instant,
    paths: BTreeMap<Vec<u8>, Counter>,
    frames: u64,
    bad_sequence: u64,
    not_json: u64,
    bad_path: u64,
}

impl Stats {
    pub fn new(now: Instant) -> Stats {
        Stats {
            start: now,
            last: now,
            paths: BTreeMap::new(),
            frames: 0,
            bad_sequence: 0,
            not_json: 0,
            bad_path: 0,
        }
    }

    pub fn record(&mut self, path: &[u8]) {
        let c = match self.paths.get_mut(path) {
            Some(c) => c,
            None => self.paths.entry(path.to_vec()).or_default(),
        };
        c.total += 1;
        c.since += 1;
    }

    pub fn malformed(&mut self, kind: Malformed) {
        match kind {
            Malformed::Frames => self.frames += 1,
            Malformed::BadSequence => self.bad_sequence += 1,
            Malformed::NotJson => self.not_json += 1,
            Malformed::BadPath => self.bad_path += 1,
        }
    }

    pub fn records(&self) -> u64 {
        self.paths.values().map(|c| c.total).sum()
    }

    pub fn malformed_total(&self) -> u64 {
        self.frames + self.bad_sequence + self.not_json + self.bad_path
    }

    fn malformed_text(&self) -> String {
        let total = self.malformed_total();
        if total == 0 {
            return "0 malformed".into();
        }
        let parts: Vec<String> = [
            (self.frames, "not two or three frames"),
            (self.bad_sequence, "not a sequence number"),
            (self.not_json, "not a JSON object"),
            (self.bad_path, "unusable path"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        format!("{total} malformed ({})", parts.join(", "))
    }

    /// The periodic report: records and rates per path since the last one.
    ///
    /// `zeek-zmq sub: 10.0 s: 1523 records, 152.3/s (conn 1200 120.0/s, dns 323 32.3/s); 45000 records in all; 0 malformed`
    pub fn interval_line(&mut self, now: Instant) -> String {
        let secs = now.duration_since(self.last).as_secs_f64().max(1e-9);
        self.last = now;
        let since: u64 = self.paths.values().map(|c| c.since).sum();
        let mut per_path = String::new();
        for (path, c) in self.paths.iter_mut().filter(|(_, c)| c.since > 0) {
            if !per_path.is_empty() {
                per_path.push_str(", ");
            }
            let _ = write!(
                per_path,
                "{} {} {:.1}/s",
                String::from_utf8_lossy(path),
                c.since,
                c.since as f64 / secs
            );
            c.since = 0;
        }
        let mut line = format!(
            "zeek-zmq sub: {}: {}, {:.1}/s",
            show_duration(now.duration_since(self.start)),
            count(since, "record"),
            since as f64 / secs
        );
        if !per_path.is_empty() {
            let _ = write!(line, " ({per_path})");
        }
        let _ = write!(
            line,
            "; {} in all; {}",
            count(self.records(), "record"),
            self.malformed_text()
        );
        line
    }

    /// The report at exit: totals per path.
    ///
    /// `zeek-zmq sub: exiting after 12.4 s: 2000 records (conn 1500, dns 500); 3 malformed (2 not two or three frames, 1 not a JSON object)`
    pub fn final_line(&self, now: Instant) -> String {
        let per_path: Vec<String> = self
            .paths
            .iter()
            .map(|(p, c)| format!("{} {}", String::from_utf8_lossy(p), c.total))
            .collect();
        let mut line = format!(
            "zeek-zmq sub: exiting after {}: {}",
            show_duration(now.duration_since(self.start)),
            count(self.records(), "record")
        );
        if !per_path.is_empty() {
            let _ = write!(line, " ({})", per_path.join(", "));
        }
        let _ = write!(line, "; {}", self.malformed_text());
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn lines() {
        let t0 = Instant::now();
        let mut s = Stats::new(t0);
        for _ in 0..20 {
            s.record(b"conn");
        }
        s.record(b"dns");
        s.malformed(Malformed::Frames);
        s.malformed(Malformed::NotJson);
        s.malformed(Malformed::NotJson);
        let line = s.interval_line(t0 + Duration::from_secs(2));
        assert_eq!(
            line,
            "zeek-zmq sub: 2.0 s: 21 records, 10.5/s (conn 20 10.0/s, dns 1 0.5/s); \
             21 records in all; 3 malformed (1 not two or three frames, 2 not a JSON object)"
        );
        s.record(b"dns");
        let line = s.interval_line(t0 + Duration::from_secs(4));
        assert!(
            line.contains(": 1 record, 0.5/s (dns 1 0.5/s); 22 records in all;"),
            "{line}"
        );
        assert_eq!(
            s.final_line(t0 + Duration::from_secs(5)),
            "zeek-zmq sub: exiting after 5.0 s: 22 records (conn 20, dns 2); \
             3 malformed (1 not two or three frames, 2 not a JSON object)"
        );
    }
}
