#!/usr/bin/env python3
"""Checks the sequence-gaps test: the records a subscriber missed by their
sequence numbers are the records the writer dropped.

Usage: check-sequence-gaps.py ZEEK_OUT ZEEK_ERR SUB_ERR

ZEEK_OUT holds "end sent=S dropped=D ..." (the writer's telemetry at the
end), ZEEK_ERR the writer's totals line for path zmq_seq, SUB_ERR the
stderr of `zeek-zmq sub`. Exits 0 if the totals match the telemetry, name
sequence numbers 1 to the records written, and the subscriber received the
records sent and missed, in its gaps, exactly those dropped; 1 with the
problems and both stderrs if not.
"""

import re
import sys


def fail(text):
    print(f"check-sequence-gaps.py: {text}", file=sys.stderr)
    return 1


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    out, err, sub_err = (open(f).read() for f in sys.argv[1:4])
    problems = []

    # The writer's telemetry at the end, and its totals line.
    end = re.search(r"^end sent=(\d+) dropped=(\d+) ", out, re.M)
    if not end:
        return fail(f"no end counts in Zeek's output:\n{out}")
    sent, dropped = map(int, end.groups())
    totals = re.search(
        r"zmq_seq/Log::WRITER_ZEROMQ: published (\d+) of (\d+) records, dropped (\d+) "
        r"\(0 with no subscriber, (\d+) with a slow subscriber, 0 unsent when the linger "
        r"time ran out, 0 at shutdown, 0 lost with the connection, 0 unencodable, 0 on socket errors\); sequence numbers 1 to (\d+) "
        r"of writer ([0-9a-f]{16})$", err, re.M)
    if not totals:
        return fail(f"no totals line with sequence numbers in Zeek's stderr:\n{err}")
    t_sent, written, t_dropped, full, last = map(int, totals.groups()[:5])
    if (t_sent, t_dropped) != (sent, dropped) or sent + dropped != written or last != written:
        problems.append(f"totals {totals.group(0)!r} vs. telemetry sent={sent} dropped={dropped}")
    if written != 5015 or full != dropped or dropped < 1000:
        problems.append(f"expected 5015 records, over 1000 dropped: {totals.group(0)!r}")

    # The subscriber's summary: records received, and the gaps.
    received = re.search(r": (\d+) records \(zmq_seq \d+\); 0 malformed$", sub_err, re.M)
    gaps = re.search(r"^zeek-zmq sub: missed (\d+) records in all, by sequence number "
                     r"\(zmq_seq (\d+) in (\d+) gaps?: [^;]*\)$", sub_err, re.M)
    if not received or not gaps:
        return fail(f"no summary in the subscriber's stderr:\n{sub_err}")
    if int(received.group(1)) != sent:
        problems.append(f"the subscriber received {received.group(1)} records, {sent} were sent")
    if int(gaps.group(1)) != dropped or int(gaps.group(2)) != dropped:
        problems.append(f"the subscriber missed {gaps.group(1)} records by its gaps, "
                        f"the writer dropped {dropped}")
    if not re.search(r"^zeek-zmq sub: missed \d+ records since the last report", sub_err, re.M):
        problems.append("no gap report while receiving")

    if problems:
        return fail("\n".join(problems) + f"\n--- zeek.err:\n{err}--- sub stderr:\n{sub_err}")
    print(f"sent {sent}, dropped {dropped} = missed by sequence number, in {gaps.group(3)} gap(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
