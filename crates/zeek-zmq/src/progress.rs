//! The replay's progress line on a terminal: records, rate, how far, ETA.

use crate::units::show_duration;
use std::io::Write;
use std::time::{Duration, Instant};
use zeek_zeromq_writer::report::count;

pub struct Progress {
    enabled: bool,
    /// When publishing began, moved on by the time spent waiting for
    /// subscribers ([`Progress::exclude`]), which says nothing about how
    /// fast records go.
    start: Instant,
    last_draw: Instant,
    shown: bool,
}

impl Progress {
    /// Draws only if `enabled` (stderr is a terminal and not `--quiet`).
    pub fn new(enabled: bool) -> Progress {
        let now = Instant::now();
        Progress {
            enabled,
            start: now,
            last_draw: now,
            shown: false,
        }
    }

    /// Leaves `waited` out of the rate and the ETA.
    pub fn exclude(&mut self, waited: Duration) {
        self.start = self.start.checked_add(waited).unwrap_or(self.start);
    }

    /// Redraws at most 5 times a second. `fraction` is how far through all
    /// input (0..1), `None` when there is no end (`--loop`).
    pub fn update(&mut self, records: u64, fraction: Option<f64>) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.last_draw) < Duration::from_millis(200) {
            return;
        }
        self.last_draw = now;
        let text = line(records, now.saturating_duration_since(self.start), fraction);
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(format!("\r\x1b[K{text}").as_bytes());
        let _ = err.flush();
        self.shown = true;
    }

    /// Erases the line (before other output, and at the end).
    pub fn clear(&mut self) {
        if self.shown {
            let _ = std::io::stderr().write_all(b"\r\x1b[K");
            self.shown = false;
        }
    }
}

/// The progress line after `records` in `elapsed`, `fraction` of the way:
/// `1200 records, 600/s, 41.5%, ETA 2.8 s`. The ETA assumes the rest goes
/// as fast as what went so far.
pub fn line(records: u64, elapsed: Duration, fraction: Option<f64>) -> String {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let mut line = format!(
        "{}, {:.0}/s",
        count(records, "record"),
        records as f64 / secs
    );
    if let Some(f) = fraction.filter(|f| *f > 0.0) {
        let left = secs * (1.0 - f.min(1.0)) / f;
        line.push_str(&format!(
            ", {:.1}%, ETA {}",
            f * 100.0,
            show_duration(Duration::from_secs_f64(left.max(0.0)))
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eta_of_a_steady_replay_counts_down() {
        // 578 records at 100/s, the fraction following them.
        let mut etas = Vec::new();
        for n in [82u64, 200, 400, 578] {
            let elapsed = Duration::from_millis(n * 10);
            let l = line(n, elapsed, Some(n as f64 / 578.0));
            let eta: f64 = l
                .rsplit("ETA ")
                .next()
                .unwrap()
                .trim_end_matches(" s")
                .parse()
                .unwrap();
            etas.push(eta);
        }
        assert_eq!(etas, [5.0, 3.8, 1.8, 0.0]);
        assert_eq!(line(1, Duration::from_secs(1), None), "1 record, 1/s");
        assert_eq!(
            line(200, Duration::from_secs(2), Some(0.5)),
            "200 records, 100/s, 50.0%, ETA 2.0 s"
        );
    }
}
