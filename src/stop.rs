//! How a writer thread learns that Zeek wants it to stop, while it may be
//! waiting inside `DoWrite` for a subscriber to make room.
//!
//! Zeek stops a writer from its main thread: `SignalStop` when Zeek
//! terminates (or the writer's stream or filter is removed) queues the
//! writer's `DoFinish` behind the records already queued for it, and the
//! shim's `OnSignalStop` raises this signal first ([`StopSignal::raise`]);
//! `Kill` (a signal while Zeek waits for its threads) calls the shim's
//! `OnKill`, which kills it ([`StopSignal::kill`]). The writer thread reads
//! it between tries ([`StopSignal::past_deadline`]): from the stop on, it
//! has `zmq_linger` to get its records out, Zeek's queued ones included;
//! after that no wait goes on, and once killed none does at all.
//!
//! One `Arc` is shared by the shim's handle (main thread) and the writer
//! (writer thread): the stop time is set once (`OnceLock`, whose `get` is
//! an acquire load), the kill is an atomic flag (a store, nothing else: the
//! kill may come from a signal handler).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
pub struct StopSignal(Arc<Signal>);

#[derive(Default)]
struct Signal {
    /// When Zeek asked the writer to stop.
    since: OnceLock<Instant>,
    /// Zeek killed the writer's thread: give up at once.
    killed: AtomicBool,
}

impl StopSignal {
    /// Zeek asks the writer to stop (the first call counts). Any thread.
    pub fn raise(&self) {
        let _ = self.0.since.set(Instant::now());
    }

    /// Zeek kills the writer's thread: stop waiting now. Any thread, also a
    /// signal handler (one atomic store).
    pub fn kill(&self) {
        self.0.killed.store(true, Ordering::Release);
    }

    /// When the writer was asked to stop, if it was.
    pub fn raised_at(&self) -> Option<Instant> {
        self.0.since.get().copied()
    }

    /// Whether a wait must end: the thread was killed, or `grace` passed
    /// since the stop (`None`: no limit; then only a kill ends waits).
    pub fn past_deadline(&self, grace: Option<Duration>) -> bool {
        if self.0.killed.load(Ordering::Acquire) {
            return true;
        }
        match (self.raised_at(), grace) {
            (Some(since), Some(grace)) => since.elapsed() >= grace,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raised_signal_ends_waits_after_the_grace_time_and_a_kill_at_once() {
        let signal = StopSignal::default();
        let writer_side = signal.clone();
        assert!(!writer_side.past_deadline(Some(Duration::ZERO)));
        signal.raise();
        let first = writer_side.raised_at().expect("raised");
        signal.raise();
        assert_eq!(
            writer_side.raised_at(),
            Some(first),
            "the first stop counts"
        );
        assert!(writer_side.past_deadline(Some(Duration::ZERO)));
        assert!(!writer_side.past_deadline(Some(Duration::from_secs(3600))));
        assert!(!writer_side.past_deadline(None), "zmq_linger -1: no limit");
        signal.kill();
        assert!(writer_side.past_deadline(None));
        assert!(writer_side.past_deadline(Some(Duration::from_secs(3600))));
    }
}
