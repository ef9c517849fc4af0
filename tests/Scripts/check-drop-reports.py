#!/usr/bin/env python3
"""Checks what the ZeroMQ writer reported about dropped records.

Usage: check-drop-reports.py --path PATH --written N --hwm H [--pending P] OUTPUT STDERR

OUTPUT holds the line "PATH sent=S dropped=D bytes=B" (the telemetry
counters, printed with ZmqTelemetry::describe from Files/zmq-telemetry.zeek);
STDERR is Zeek's stderr, where the reporter prints the writer's messages as
"[<time> ][warning[ in <location>]: ]PATH/Log::WRITER_ZEROMQ: <message>".
Checks:
  - S + D == N and D > 0, but for at most P records (default 0) still
    pending while the counters were read: with a subscriber that reads
    nothing, libzmq's queue and the kernel's send buffer hold records that
    are neither sent nor dropped until the writer finishes;
  - at least one and at most two warnings "dropped <n> records since the
    last report (<d> of <w> in all) ... LogZeroMQ::zmq_hwm = H ...": the
    test's drop_report_interval is longer than the run, so however many
    records were dropped, one report (plus at most one at the end);
  - exactly one message, not a warning or error, "published S of N records,
    dropped D'" with S as in the counters and D' - D the pending records, at
    most P (DoFinish's totals).

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


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--path", required=True)
    p.add_argument("--written", type=int, required=True)
    p.add_argument("--hwm", type=int, required=True)
    p.add_argument("--pending", type=int, default=0)
    p.add_argument("output")
    p.add_argument("stderr")
    args = p.parse_args()

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
                if f"LogZeroMQ::zmq_hwm = {args.hwm}" not in msg:
                    problems.append(f"drop report does not name LogZeroMQ::zmq_hwm = {args.hwm}: "
                                    f"{line.strip()}")
                warnings.append(msg)
            t = re.match(r"published (\d+) of (\d+) records, dropped (\d+)", msg)
            if t:
                if level != "info":
                    problems.append(f"totals are a {level}, not an info: {line.strip()}")
                totals.append(tuple(int(x) for x in t.groups()))

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
