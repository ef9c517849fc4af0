//! What a writer says about the records it dropped: the periodic warning,
//! each cause with the advice that fits it, and the totals at `finish`.

use super::Stats;
use crate::options::{Options, OverflowPolicy};
use crate::report::count;
use std::time::Duration;

/// The warning about `new` drops (counted since the last report; `total`
/// so far): how many, then each cause that occurred with what helps
/// against it. `hwm` is the socket's high-water mark (a shared bound
/// socket's may not be this writer's `zmq_hwm`); `handshake`, the last
/// failed handshake with the subscriber, if one was seen.
pub fn warning(
    new: &Stats,
    total: &Stats,
    opts: &Options,
    hwm: i32,
    handshake: Option<&str>,
) -> String {
    let mut causes = Vec::new();
    if new.dropped_no_subscriber > 0 {
        causes.push(format!(
            "{} with no subscriber of this path at {} ({})",
            new.dropped_no_subscriber,
            opts.endpoint,
            no_subscriber_advice(opts, handshake)
        ));
    }
    if new.dropped_full > 0 {
        causes.push(format!(
            "{} with a subscriber {hwm} messages behind (LogZeroMQ::zmq_hwm = {hwm}; {})",
            new.dropped_full,
            behind_advice(opts)
        ));
    }
    if new.dropped_shutdown > 0 {
        causes.push(format!(
            "{} at shutdown (no room once LogZeroMQ::zmq_linger had passed after Zeek stopped \
             the writer)",
            new.dropped_shutdown
        ));
    }
    if new.dropped_lost > 0 {
        causes.push(format!(
            "{} lost with the connection (written to a connection that ended before the \
             subscriber's kernel acknowledged them)",
            new.dropped_lost
        ));
    }
    if new.dropped_bad_record > 0 {
        causes.push(format!("{} unencodable", new.dropped_bad_record));
    }
    if new.dropped_error > 0 {
        causes.push(format!("{} on socket errors", new.dropped_error));
    }
    format!(
        "dropped {} since the last report ({} of {} so far): {}",
        count(new.dropped, "record"),
        total.dropped,
        count(total.written, "record"),
        causes.join(", ")
    )
}

/// Nobody subscribed to the path: a subscriber must be there, at the other
/// end of the endpoint (and the handshake with it succeed). `BLOCK` waits
/// for room, never for subscribers.
fn no_subscriber_advice(opts: &Options, handshake: Option<&str>) -> String {
    if let Some(failed) = handshake {
        return format!(
            "a subscriber is there, but the handshake with it failed: {failed}; the CURVE \
             settings of both ends must match"
        );
    }
    let start = if opts.bind {
        "is a subscriber connected to it? Zeek binds it"
    } else {
        "is a subscriber bound to it? Zeek connects to it"
    };
    format!(
        "{start}; LogZeroMQ::wait_for_subscribers, now {}, holds a writer's first record \
         until one subscribes; LogZeroMQ::BLOCK does not wait for subscribers",
        interval(opts.wait_for_subscribers)
    )
}

/// A subscriber had no room: it is slower than Zeek, or was for a while.
fn behind_advice(opts: &Options) -> String {
    match opts.overflow {
        OverflowPolicy::Drop => "LogZeroMQ::overflow_policy = LogZeroMQ::BLOCK makes Zeek \
                                 wait for room, a larger zmq_hwm absorbs longer bursts"
            .into(),
        OverflowPolicy::Block => format!(
            "LogZeroMQ::BLOCK waited LogZeroMQ::block_timeout = {} in vain: a longer \
             block_timeout (0 secs: no limit) or a larger zmq_hwm",
            interval(opts.block_timeout)
        ),
    }
}

/// An interval as Zeek writes one: `5.0 secs`.
fn interval(d: Duration) -> String {
    format!("{:.1} secs", d.as_secs_f64())
}

/// The totals at `finish`, when anything was dropped.
pub fn totals(s: &Stats) -> String {
    format!(
        "published {} of {}, dropped {} ({} with no subscriber, {} with a slow subscriber, \
         {} unsent when the linger time ran out, {} at shutdown, {} lost with the connection, \
         {} unencodable, {} on socket errors)",
        s.sent,
        count(s.written, "record"),
        s.dropped,
        s.dropped_no_subscriber,
        s.dropped_full,
        s.dropped_unsent,
        s.dropped_shutdown,
        s.dropped_lost,
        s.dropped_bad_record,
        s.dropped_error
    )
}

/// The totals at `finish` of a writer that never started (its
/// configuration was refused, or its socket could not be made): it
/// dropped every record.
pub fn totals_not_started(s: &Stats) -> String {
    format!(
        "published 0 of {}, dropped {} (the writer never started: see the error at its start)",
        count(s.written, "record"),
        s.dropped
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(written: u64, no_subscriber: u64, full: u64) -> Stats {
        Stats {
            written,
            sent: written - no_subscriber - full,
            dropped: no_subscriber + full,
            dropped_no_subscriber: no_subscriber,
            dropped_full: full,
            ..Stats::default()
        }
    }

    fn opts(bind: bool, overflow: OverflowPolicy) -> Options {
        Options {
            endpoint: "tcp://127.0.0.1:5555".into(),
            bind,
            overflow,
            block_timeout: Duration::from_secs(2),
            ..Options::default()
        }
    }

    #[test]
    fn no_subscriber_advice_is_about_subscribers_not_block() {
        let s = stats(1, 1, 0);
        let w = warning(&s, &s, &opts(false, OverflowPolicy::Drop), 1000, None);
        assert_eq!(
            w,
            "dropped 1 record since the last report (1 of 1 record so far): 1 with no \
             subscriber of this path at tcp://127.0.0.1:5555 (is a subscriber bound to it? \
             Zeek connects to it; LogZeroMQ::wait_for_subscribers, now 5.0 secs, holds a \
             writer's first record until one subscribes; LogZeroMQ::BLOCK does not wait for \
             subscribers)"
        );
        let w = warning(&s, &s, &opts(true, OverflowPolicy::Block), 1000, None);
        assert!(
            w.contains("is a subscriber connected to it? Zeek binds it"),
            "{w}"
        );
        assert!(
            !w.contains("zmq_hwm") && !w.contains("block_timeout"),
            "{w}"
        );
    }

    #[test]
    fn no_subscriber_advice_names_a_failed_handshake() {
        let s = stats(2, 2, 0);
        let failed = "cannot talk to the subscriber at tcp://127.0.0.1:5555: the CURVE keys do \
                      not match: the server key this end was given is not the subscriber's";
        let w = warning(
            &s,
            &s,
            &opts(false, OverflowPolicy::Drop),
            1000,
            Some(failed),
        );
        assert_eq!(
            w,
            format!(
                "dropped 2 records since the last report (2 of 2 records so far): 2 with no \
                 subscriber of this path at tcp://127.0.0.1:5555 (a subscriber is there, but the \
                 handshake with it failed: {failed}; the CURVE settings of both ends must \
                 match)"
            )
        );
    }

    #[test]
    fn behind_advice_is_about_block_and_the_high_water_mark() {
        let (new, total) = (stats(10, 0, 2), stats(30, 0, 5));
        let w = warning(&new, &total, &opts(false, OverflowPolicy::Drop), 10, None);
        assert_eq!(
            w,
            "dropped 2 records since the last report (5 of 30 records so far): 2 with a \
             subscriber 10 messages behind (LogZeroMQ::zmq_hwm = 10; \
             LogZeroMQ::overflow_policy = LogZeroMQ::BLOCK makes Zeek wait for room, a larger \
             zmq_hwm absorbs longer bursts)"
        );
        let w = warning(&new, &total, &opts(false, OverflowPolicy::Block), 10, None);
        assert!(
            w.contains("LogZeroMQ::BLOCK waited LogZeroMQ::block_timeout = 2.0 secs in vain"),
            "{w}"
        );
        assert!(!w.contains("no subscriber") && !w.contains("wait_for_subscribers"));
    }

    #[test]
    fn both_causes_each_with_its_advice() {
        let s = stats(9, 3, 4);
        let w = warning(&s, &s, &opts(false, OverflowPolicy::Drop), 10, None);
        let (no_sub, behind) = w.split_once("), ").unwrap();
        assert!(no_sub.contains("3 with no subscriber") && no_sub.contains("wait_for_subscribers"));
        assert!(behind.starts_with("4 with a subscriber 10 messages behind"));
        assert!(behind.contains("overflow_policy = LogZeroMQ::BLOCK"), "{w}");
    }

    #[test]
    fn a_writer_that_never_started_dropped_everything() {
        let s = Stats {
            written: 3,
            dropped: 3,
            ..Stats::default()
        };
        assert_eq!(
            totals_not_started(&s),
            "published 0 of 3 records, dropped 3 (the writer never started: see the error at \
             its start)"
        );
    }

    #[test]
    fn totals_count_records_in_the_singular_too() {
        assert!(totals(&stats(1, 1, 0)).starts_with("published 0 of 1 record, dropped 1 (1 with"));
        assert!(totals(&stats(3, 1, 0)).starts_with("published 2 of 3 records, dropped 1 ("));
    }
}
