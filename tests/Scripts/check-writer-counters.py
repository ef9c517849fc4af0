#!/usr/bin/env python3
"""Checks the ZeroMQ writer's telemetry counters a test printed against the
JSON logs.

Usage: check-writer-counters.py OUTPUT PATH...

OUTPUT holds lines "<path> sent=S dropped=D bytes=B" (as printed with
ZmqTelemetry::describe, Files/zmq-telemetry.zeek). For each PATH, with
nothing dropped, S must be the number of lines of PATH.log and B the sum of
their lengths without the newline (frame 2 of a message is exactly the log
line), and D must be 0 (the counter exists even when nothing was dropped).

Exits 0 if all match, 1 with a description of each mismatch (on stderr and
appended to $TEST_DIAGNOSTICS) if not.
"""

import os
import re
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.split("\n\n")[1])
    output, paths = sys.argv[1], sys.argv[2:]

    with open(output, encoding="utf-8") as f:
        printed = dict(re.findall(r"^(\S+) (sent=.*)$", f.read(), re.M))

    problems = []
    for path in paths:
        with open(f"{path}.log", "rb") as f:
            lines = f.read().splitlines()
        want = f"sent={len(lines)} dropped=0 bytes={sum(len(x) for x in lines)}"
        got = printed.get(path)
        if got != want:
            problems.append(f"{path}: counters {got!r}, expected {want!r} from {path}.log")

    if problems:
        text = "check-writer-counters.py: " + "; ".join(problems) + "\n"
        sys.stderr.write(text)
        # btest -d shows this file (a test's stderr is lost after btest-bg-wait).
        if os.environ.get("TEST_DIAGNOSTICS"):
            with open(os.environ["TEST_DIAGNOSTICS"], "a", encoding="utf-8") as f:
                f.write(text)
        return 1

    print("check-writer-counters.py: counters match the logs: "
          + ", ".join(f"{p} {printed[p]}" for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
