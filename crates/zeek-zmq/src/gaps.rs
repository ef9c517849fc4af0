//! What `zeek-zmq sub` missed, by the sequence numbers of the messages it
//! received (the writer's `LogZeroMQ::sequence_numbers`): per path, the
//! numbers missing between two received from the same writer, as a count
//! and ranges; reported now and then while receiving, and at exit.
//!
//! A writer numbers every record it is given, the ones it drops too, so a
//! gap is exactly the records this subscriber did not get from it. The
//! numbers before the first one received from a writer are counted apart:
//! they were written before this subscriber was there (or are not for it),
//! and are not gaps. Each writer id counts on its own: a new id on a path
//! is a restarted Zeek or another Zeek, not a gap.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

/// Writers (path and id) tracked at most: beyond that, messages of new
/// writers are only counted ([`Gaps::untracked`]), so that a peer sending
/// made-up ids cannot grow the table without bound.
const MAX_WRITERS: usize = 100_000;

/// Gap ranges shown per path in one line (the rest are counted).
const SHOW_RANGES: usize = 5;

/// Numbers `first..=last` of `writer` never arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Range {
    writer: u64,
    first: u64,
    last: u64,
}

/// Gaps counted, with the first few ranges.
#[derive(Default)]
struct Missed {
    records: u64,
    gaps: u64,
    ranges: Vec<Range>,
}

impl Missed {
    fn add(&mut self, r: Range) {
        self.records += r.last - r.first + 1;
        self.gaps += 1;
        if self.ranges.len() < SHOW_RANGES {
            self.ranges.push(r);
        }
    }

    /// `1200 in 2 gaps: 5001-6100, 7001-7100` (writer ids only if the path
    /// had several writers).
    fn describe(&self, several_writers: bool) -> String {
        let mut text = self.records.to_string();
        if self.gaps == 0 {
            return text;
        }
        let s = if self.gaps == 1 { "" } else { "s" };
        let _ = write!(text, " in {} gap{s}: ", self.gaps);
        for (i, r) in self.ranges.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            if several_writers {
                let _ = write!(text, "{:016x}:", r.writer);
            }
            let _ = write!(text, "{}", r.first);
            if r.last != r.first {
                let _ = write!(text, "-{}", r.last);
            }
        }
        let more = self.gaps - self.ranges.len() as u64;
        if more > 0 {
            let _ = write!(text, " and {more} more");
        }
        text
    }
}

#[derive(Default)]
struct PathGaps {
    writers: u64,
    /// In all, and since the last report.
    missed: Missed,
    new: Missed,
    /// Numbers before the first one received, over its writers.
    before_first: u64,
    /// Messages whose number was not above the last one of their writer.
    out_of_order: u64,
}

#[derive(Default)]
pub struct Gaps {
    /// Each writer's highest number received, by path and writer id.
    last: HashMap<(Vec<u8>, u64), u64>,
    paths: BTreeMap<Vec<u8>, PathGaps>,
    /// Numbered messages of writers beyond [`MAX_WRITERS`].
    untracked: u64,
}

impl Gaps {
    /// A message of `path` numbered `seq` by `writer`.
    pub fn record(&mut self, path: &[u8], seq: u64, writer: u64) {
        let key = (path.to_vec(), writer);
        let Some(last) = self.last.get_mut(&key) else {
            if self.last.len() >= MAX_WRITERS {
                self.untracked += 1;
                return;
            }
            self.last.insert(key, seq);
            let p = self.paths.entry(path.to_vec()).or_default();
            p.writers += 1;
            p.before_first += seq.saturating_sub(1);
            return;
        };
        let p = self
            .paths
            .get_mut(path)
            .expect("a tracked writer's path is tracked");
        if seq <= *last {
            p.out_of_order += 1;
            return;
        }
        if seq > *last + 1 {
            let r = Range {
                writer,
                first: *last + 1,
                last: seq - 1,
            };
            p.missed.add(r);
            p.new.add(r);
        }
        *last = seq;
    }

    /// Whether a numbered message arrived at all.
    pub fn any(&self) -> bool {
        !self.paths.is_empty() || self.untracked > 0
    }

    /// Whether gaps were found since the last [`Gaps::report_line`].
    pub fn has_new(&self) -> bool {
        self.paths.values().any(|p| p.new.gaps > 0)
    }

    /// The report of the gaps found since the last one:
    ///
    /// `zeek-zmq sub: missed 1200 records since the last report, by sequence number (conn 1200 in 1 gap: 5001-6200)`
    pub fn report_line(&mut self) -> String {
        let mut total = 0;
        let mut per_path = Vec::new();
        for (path, p) in self.paths.iter_mut().filter(|(_, p)| p.new.gaps > 0) {
            let new = std::mem::take(&mut p.new);
            total += new.records;
            per_path.push(format!(
                "{} {}",
                String::from_utf8_lossy(path),
                new.describe(p.writers > 1)
            ));
        }
        format!(
            "zeek-zmq sub: missed {total} records since the last report, by sequence number ({})",
            per_path.join("; ")
        )
    }

    /// The report at exit, for every path with numbered records:
    ///
    /// `zeek-zmq sub: missed 1200 records in all, by sequence number (conn 1200 in 1 gap: 5001-6200; dns 0, 99 before the first received)`
    pub fn final_line(&self) -> String {
        let total: u64 = self.paths.values().map(|p| p.missed.records).sum();
        let per_path: Vec<String> = self
            .paths
            .iter()
            .map(|(path, p)| {
                let mut text = format!(
                    "{} {}",
                    String::from_utf8_lossy(path),
                    p.missed.describe(p.writers > 1)
                );
                if p.writers > 1 {
                    let _ = write!(text, ", {} writers", p.writers);
                }
                if p.before_first > 0 {
                    let _ = write!(text, ", {} before the first received", p.before_first);
                }
                if p.out_of_order > 0 {
                    let _ = write!(text, ", {} out of order", p.out_of_order);
                }
                text
            })
            .collect();
        let mut line = format!("zeek-zmq sub: missed {total} records in all, by sequence number");
        if !per_path.is_empty() {
            let _ = write!(line, " ({})", per_path.join("; "));
        }
        if self.untracked > 0 {
            let _ = write!(
                line,
                "; {} messages of writers beyond the first {MAX_WRITERS} not checked",
                self.untracked
            );
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_per_path_and_writer() {
        let mut g = Gaps::default();
        assert!(!g.any());
        for seq in [1, 2, 3, 7, 8, 10] {
            g.record(b"conn", seq, 0xa);
        }
        // dns joined late: 99 numbers before it, not gaps.
        g.record(b"dns", 100, 0xb);
        g.record(b"dns", 101, 0xb);
        assert!(g.has_new());
        assert_eq!(
            g.report_line(),
            "zeek-zmq sub: missed 4 records since the last report, by sequence number \
             (conn 4 in 2 gaps: 4-6, 9)"
        );
        assert!(!g.has_new());
        // A new writer on conn numbers from 1 again: no gap. Its own gap
        // shows with the writer ids; a repeated number is out of order.
        g.record(b"conn", 1, 0xc);
        g.record(b"conn", 3, 0xc);
        g.record(b"conn", 3, 0xc);
        assert_eq!(
            g.report_line(),
            "zeek-zmq sub: missed 1 records since the last report, by sequence number \
             (conn 1 in 1 gap: 000000000000000c:2)"
        );
        assert_eq!(
            g.final_line(),
            "zeek-zmq sub: missed 5 records in all, by sequence number \
             (conn 5 in 3 gaps: 000000000000000a:4-6, 000000000000000a:9, 000000000000000c:2, \
             2 writers, 1 out of order; dns 0, 99 before the first received)"
        );
    }

    #[test]
    fn ranges_shown_are_bounded() {
        let mut g = Gaps::default();
        for seq in (1..=20).step_by(2) {
            g.record(b"x", seq, 1);
        }
        assert_eq!(
            g.final_line(),
            "zeek-zmq sub: missed 9 records in all, by sequence number \
             (x 9 in 9 gaps: 2, 4, 6, 8, 10 and 4 more)"
        );
    }
}
