//! The replay's progress line on a terminal: records, rate, how far, ETA.

use crate::units::show_duration;
use std::io::Write;
use std::time::{Duration, Instant};

pub struct Progress {
    enabled: bool,
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
        let elapsed = now.duration_since(self.start);
        let rate = records as f64 / elapsed.as_secs_f64().max(1e-9);
        let mut line = format!("\r\x1b[K{records} records, {rate:.0}/s");
        if let Some(f) = fraction.filter(|f| *f > 0.0) {
            let left = elapsed.as_secs_f64() * (1.0 - f) / f;
            line.push_str(&format!(
                ", {:.1}%, ETA {}",
                f * 100.0,
                show_duration(Duration::from_secs_f64(left.max(0.0)))
            ));
        }
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
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
