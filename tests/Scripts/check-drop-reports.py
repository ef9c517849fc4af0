#!/usr/bin/env python3
"""Checks what the ZeroMQ writer reported about dropped records.

Usage: check-drop-reports.py --path PATH --written N --cause CAUSE [--hwm H]
                             [--pending P] OUTPUT STDERR

OUTPUT holds the line "PATH sent=S dropped=D bytes=B" (the telemetry
counters, printed with ZmqTelemetry::describe from Files/zmq-telemetry.zeek);
STDERR is Zeek's stderr, where the reporter prints the writer's messages as
"[<time> ][warning[ in <location>]: ]PATH/Log::WRITER_ZEROMQ: <message>".
Checks:
  - S + D == N and D > 0, but for at most P records (default 0) still
    pending while the counters were read: with a subscriber that reads
    nothing, libzmq's queue and the kernel's send buffer hold records that
    are neither sent nor dropped until the writer finishes;
  - at least one and at most two warnings "dropped <n> record(s) since the
    last report (<d> of <w> record(s) so far): ...": the test's
    drop_report_interval is longer than the run, so however many records
    were dropped, one report (plus at most one at the end). Each names the
    test's one CAUSE with the advice that fits it, and no other cause:
      behind          "<n> with a subscriber H messages behind
                      (LogZeroMQ::zmq_hwm = H; LogZeroMQ::overflow_policy =
                      LogZeroMQ::BLOCK makes Zeek wait for room, ...)"
                      (the DROP policy);
      no-subscriber   "<n> with no subscriber of this path at <endpoint>
                      (is a subscriber bound to it? ...
                      LogZeroMQ::wait_for_subscribers, now ..., holds ...;
                      LogZeroMQ::BLOCK does not wait for subscribers)"
                      (connect mode), and nothing about BLOCK helping;
    the counts agree with their nouns ("1 record", "2 records");
  - exactly one message, not a warning or error, "published S of N
    record(s), dropped D'" with S as in the counters and D' = N - S: D and
    the pending records (DoFinish's totals).

Exits 0 if all hold, 1 with a description of each problem (on stderr and
appended to $TEST_DIAGNOSTICS) if not.
"""

import argparse
import re
import sys

from diagnostics import report_problems


def level_of(head):
    """The reporter level from the part of a line before the writer's name:
    "[<time> ]warning[ in <location>]: " (error alike), else an info
    ("[<time> ][<location>: ]"; a location may contain any word)."""
    m = re.match(r"(?:\d+\.\d+ )?(warning|error)(?: in .*)?: $", head)
    return m.group(1) if m else "info"


def noun(n):
    return "record" if n == 1 else "records"


# What a drop report says, by cause: the cause, then its advice.
CAUSES = {
    "behind": r"(\d+) with a subscriber {hwm} messages behind \(LogZeroMQ::zmq_hwm = {hwm}; "
              r"LogZeroMQ::overflow_policy = LogZeroMQ::BLOCK makes Zeek wait for room, "
              r"a larger zmq_hwm absorbs longer bursts\)",
    "no-subscriber": r"(\d+) with no subscriber of this path at tcp://\S+ \(is a subscriber "
                     r"bound to it\? Zeek connects to it; LogZeroMQ::wait_for_subscribers, "
                     r"now [\d.]+ secs, holds a writer's first record until one subscribes; "
                     r"LogZeroMQ::BLOCK does not wait for subscribers\)",
}


def drop_report_problems(msg, args):
    """What is wrong with one drop report: its counts and nouns, its cause
    (the test's only one) and the advice for it."""
    m = re.fullmatch(r"dropped (\d+) (records?) since the last report "
                     r"\((\d+) of (\d+) (records?) so far\): (.*)", msg)
    if not m:
        return ["drop report is not 'dropped <n> record(s) since the last report "
                "(<d> of <w> record(s) so far): <causes>'"]
    problems = []
    new, total = int(m.group(1)), int(m.group(4))
    if m.group(2) != noun(new) or m.group(5) != noun(total):
        problems.append("drop report's nouns do not agree with its numbers")
    cause = CAUSES[args.cause].format(hwm=args.hwm)
    c = re.fullmatch(cause, m.group(6))
    if not c:
        problems.append(f"drop report does not give the cause '{args.cause}' (and only it) "
                        f"with its advice, /{cause}/")
    elif int(c.group(1)) != new:
        problems.append(f"drop report: {c.group(1)} {args.cause}, but {new} dropped")
    return problems


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--path", required=True)
    p.add_argument("--written", type=int, required=True)
    p.add_argument("--cause", choices=["behind", "no-subscriber"], required=True)
    p.add_argument("--hwm", type=int, help="the zmq_hwm (with --cause behind)")
    p.add_argument("--pending", type=int, default=0)
    p.add_argument("output")
    p.add_argument("stderr")
    args = p.parse_args()
    if args.cause == "behind" and args.hwm is None:
        p.error("--cause behind needs --hwm")

    problems = []

    with open(args.output, encoding="utf-8") as f:
        m = re.search(rf"^{re.escape(args.path)} sent=(-?\d+) dropped=(-?\d+) bytes=(-?\d+)$",
                      f.read(), re.M)
    if not m:
        problems.append(f"{args.output}: no counters line for {args.path}")
        sent = dropped = None
    else:
        sent, dropped = int(m.group(1)), int(m.group(2))
        if not 0 <= args.written - (sent + dropped) <= args.pending or dropped <= 0:
            problems.append(f"counters: sent {sent} + dropped {dropped} should be "
                            f"{args.written} written (but for at most {args.pending} "
                            f"pending), with something dropped")

    marker = f"{args.path}/Log::WRITER_ZEROMQ: "
    warnings, totals = [], []
    with open(args.stderr, encoding="utf-8", errors="replace") as f:
        for line in f:
            head, sep, msg = line.rstrip("\n").partition(marker)
            if not sep:
                continue
            level = level_of(head)
            if re.match(r"dropped \d+ records? since the last report", msg):
                if level != "warning":
                    problems.append(f"drop report is not a warning: {line.strip()}")
                problems.extend(f"{p}: {line.strip()}" for p in drop_report_problems(msg, args))
                warnings.append(msg)
            t = re.match(r"published (\d+) of (\d+) (records?), dropped (\d+)", msg)
            if t:
                if level != "info":
                    problems.append(f"totals are a {level}, not an info: {line.strip()}")
                if t.group(3) != noun(int(t.group(2))):
                    problems.append(f"totals: \"{t.group(2)} {t.group(3)}\": {line.strip()}")
                totals.append((int(t.group(1)), int(t.group(2)), int(t.group(4))))

    if not 1 <= len(warnings) <= 2:
        problems.append(f"{len(warnings)} drop warnings for {args.path}, expected 1 (or 2)")

    if len(totals) != 1:
        problems.append(f"{len(totals)} 'published S of N records, dropped D' messages for "
                        f"{args.path}, expected 1")
    elif sent is not None and totals[0] != (sent, args.written, args.written - sent):
        problems.append(f"totals published {totals[0][0]} of {totals[0][1]}, dropped "
                        f"{totals[0][2]}; expected published {sent} of {args.written}, "
                        f"dropped {args.written - sent} (the counters, {dropped} dropped, "
                        f"and the pending ones)")

    if problems:
        return report_problems("check-drop-reports.py", problems)

    print(f"check-drop-reports.py: {args.path}: sent {sent}, dropped {dropped}, "
          f"{len(warnings)} warning(s), totals at finish match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
