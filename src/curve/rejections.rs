//! What a ZAP handler has to say: rejected clients, each key once up to a
//! bound, and problems with the allowed-clients file, at most once per
//! interval. Its memory is bounded whatever keys clients try.

use crate::keys::{self, Key};
use crate::report::{count, Level};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// At most this many rejected client keys are remembered and reported one
/// by one; rejections with other keys beyond them are counted, and
/// reported as a number. A key takes 32 bytes in a set, plus its peer's
/// address until reported: well under 100 KiB, however many keys clients
/// try.
pub const MAX_REPORTED_KEYS: usize = 1000;

/// Rejected connection attempts and file problems not yet reported.
pub(super) struct Rejections {
    /// How often a problem that lasts (the file's, rejections of keys not
    /// reported one by one) is said again, at most.
    repeat_every: Duration,
    /// Connection attempts rejected in all.
    count: u64,
    /// The keys reported one by one (or about to be), at most
    /// [`MAX_REPORTED_KEYS`].
    reported: HashSet<Key>,
    /// Keys in `reported` not yet reported, with the peer's address.
    pending: Vec<(Key, String)>,
    /// Rejections of keys not in `reported` once it was full, since they
    /// were last reported.
    unreported: u64,
    /// Once `reported` is full: when the rejections of other keys were
    /// last reported (`None`: not yet, the notice that keys are no longer
    /// reported one by one is due).
    full_since: Option<Option<Instant>>,
    /// The file problem to report, and when one was last queued.
    file_message: Option<String>,
    file_message_at: Option<Instant>,
}

impl Rejections {
    pub(super) fn new(repeat_every: Duration) -> Rejections {
        Rejections {
            repeat_every,
            count: 0,
            reported: HashSet::new(),
            pending: Vec::new(),
            unreported: 0,
            full_since: None,
            file_message: None,
            file_message_at: None,
        }
    }

    /// Connection attempts rejected in all.
    #[cfg(test)]
    pub(super) fn count(&self) -> u64 {
        self.count
    }

    /// How many keys are remembered (at most [`MAX_REPORTED_KEYS`]).
    #[cfg(test)]
    pub(super) fn remembered(&self) -> usize {
        self.reported.len()
    }

    /// A rejected connection attempt: by a client with `key` (`None`: no
    /// CURVE key, or a request this handler does not serve) from `address`.
    pub(super) fn reject(&mut self, key: Option<&Key>, address: &[u8]) {
        self.count += 1;
        let Some(key) = key else { return };
        if self.reported.contains(key) {
            return;
        }
        if self.reported.len() < MAX_REPORTED_KEYS {
            self.reported.insert(*key);
            let address = String::from_utf8_lossy(address).into_owned();
            self.pending.push((*key, address));
        } else {
            self.unreported += 1;
            self.full_since.get_or_insert(None);
        }
    }

    /// A problem with the allowed-clients file, seen at `now`: to be
    /// reported if none was in the last `repeat_every`.
    pub(super) fn file_problem(&mut self, problem: &str, now: Instant) {
        if self.file_message_at.is_some_and(|t| !self.due(t, now)) {
            return;
        }
        self.file_message = Some(format!(
            "{problem}; allowing no client from that file (said again at most every {} \
             while it lasts)",
            seconds(self.repeat_every)
        ));
        self.file_message_at = Some(now);
    }

    /// What to report at `now`, calling a rejected client a `peer`: each
    /// rejected key once, then (beyond [`MAX_REPORTED_KEYS`] keys) how many
    /// attempts other keys made, at most once per `repeat_every` (warnings:
    /// the clients may be anyone's); and a file problem (an error: no
    /// client of that file gets in).
    pub(super) fn take_reports(&mut self, peer: &str, now: Instant) -> Vec<(Level, String)> {
        let mut out: Vec<(Level, String)> = self
            .take_key_messages(peer, now)
            .into_iter()
            .map(|m| (Level::Warning, m))
            .collect();
        out.extend(self.file_message.take().map(|m| (Level::Error, m)));
        out
    }

    /// The texts of [`Rejections::take_reports`].
    #[cfg(test)]
    pub(super) fn take_messages(&mut self, peer: &str, now: Instant) -> Vec<String> {
        let reports = self.take_reports(peer, now);
        reports.into_iter().map(|(_, m)| m).collect()
    }

    fn take_key_messages(&mut self, peer: &str, now: Instant) -> Vec<String> {
        let so_far = count(self.count, "rejected connection attempt");
        let mut out: Vec<String> = self
            .pending
            .drain(..)
            .map(|(key, addr)| {
                format!(
                    "rejected a {peer} with CURVE public key {} from {addr}: not an allowed \
                     client ({so_far} so far)",
                    keys::to_z85(&key)
                )
            })
            .collect();
        match self.full_since {
            Some(None) => {
                out.push(format!(
                    "rejected {peer}s with {MAX_REPORTED_KEYS} different CURVE public keys; \
                     further keys are counted, not reported one by one ({so_far} so far)"
                ));
                self.unreported = 0;
                self.full_since = Some(Some(now));
            }
            Some(Some(last)) if self.unreported > 0 && self.due(last, now) => {
                out.push(format!(
                    "rejected {} by {peer}s with keys not reported one by one ({so_far} so far)",
                    count(self.unreported, "more connection attempt")
                ));
                self.unreported = 0;
                self.full_since = Some(Some(now));
            }
            _ => {}
        }
        out
    }
}

impl Rejections {
    /// Whether a message said at `last` may be said again at `now`.
    /// (Never `last + repeat_every`: a huge interval would overflow.)
    fn due(&self, last: Instant, now: Instant) -> bool {
        now.saturating_duration_since(last) >= self.repeat_every
    }
}

/// `d` in seconds, as `60 s` or `0.25 s`.
fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> Key {
        let mut k = [0u8; 32];
        k[..4].copy_from_slice(&n.to_le_bytes());
        k
    }

    #[test]
    fn each_rejected_key_is_reported_once() {
        let mut r = Rejections::new(Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..3 {
            r.reject(Some(&key(1)), b"10.0.0.1");
        }
        r.reject(None, b"10.0.0.2");
        let m = r.take_messages("subscriber", now);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains(&keys::to_z85(&key(1))) && m[0].contains("10.0.0.1"));
        assert!(m[0].contains("(4 rejected connection attempts so far)"));
        r.reject(Some(&key(1)), b"10.0.0.1");
        assert!(r.take_messages("subscriber", now).is_empty());
        assert_eq!(r.count(), 5);
    }

    #[test]
    fn keys_beyond_the_bound_are_counted_not_remembered() {
        let every = Duration::from_secs(60);
        let mut r = Rejections::new(every);
        let t0 = Instant::now();
        let tries = MAX_REPORTED_KEYS as u32 * 5;
        for n in 0..tries {
            r.reject(Some(&key(n)), b"10.0.0.1");
            assert!(r.remembered() <= MAX_REPORTED_KEYS);
            assert!(r.pending.len() <= MAX_REPORTED_KEYS);
        }
        assert_eq!(r.remembered(), MAX_REPORTED_KEYS);
        assert_eq!(r.count(), u64::from(tries));
        let m = r.take_messages("subscriber", t0);
        // One message per remembered key, then one saying the rest are
        // only counted.
        assert_eq!(m.len(), MAX_REPORTED_KEYS + 1);
        let notice = &m[MAX_REPORTED_KEYS];
        assert!(
            notice.contains("not reported one by one") && notice.contains(&format!("{tries} ")),
            "{notice}"
        );
        // More new keys: counted; their number is said once per interval.
        for n in tries..tries + 7 {
            r.reject(Some(&key(n)), b"10.0.0.1");
        }
        assert!(r.take_messages("subscriber", t0 + every / 2).is_empty());
        let m = r.take_messages("subscriber", t0 + every);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with("rejected 7 more connection attempts"),
            "{m:?}"
        );
        assert!(r.take_messages("subscriber", t0 + every * 3).is_empty());
        assert_eq!(r.count(), u64::from(tries) + 7);
        assert_eq!(r.remembered(), MAX_REPORTED_KEYS);
    }

    #[test]
    fn a_file_problem_is_said_once_per_interval() {
        let every = Duration::from_secs(60);
        let mut r = Rejections::new(every);
        let t0 = Instant::now();
        // A handshake every 100 ms for a minute, and messages taken as
        // often: one message.
        let mut m = Vec::new();
        for i in 0..600 {
            let t = t0 + i * every / 600;
            r.file_problem("cannot read key file f: gone", t);
            m.extend(r.take_messages("subscriber", t));
        }
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].starts_with("cannot read key file f: gone; allowing no client"));
        assert!(m[0].contains("at most every 60 s"), "{m:?}");
        assert!(r.take_messages("subscriber", t0 + every).is_empty());
        // Still there after the interval: said again, once per interval.
        let mut again = |t: Instant| {
            r.file_problem("cannot read key file f: gone", t);
            r.take_messages("subscriber", t).len()
        };
        assert_eq!(again(t0 + every), 1);
        assert_eq!(again(t0 + every * 3 / 2), 0);
        assert_eq!(again(t0 + every * 2), 1);
        // An interval too large to add to an instant is no panic.
        let mut r = Rejections::new(Duration::MAX);
        for t in [t0, t0 + every] {
            r.file_problem("gone", t);
            r.reject(None, b"");
        }
        assert_eq!(r.take_messages("subscriber", t0 + every).len(), 1);
    }
}
