#!/usr/bin/env python3
"""Checks what a subscriber received against Zeek's JSON logs of the same run.

RECEIVED is a file written by zmq-sub.py. Every message in it must have
exactly two frames, [path, json]. For each compared path, the json frames
received for it must equal, byte for byte and in order, the lines of
<logdir>/<path>.log (a log written with LogAscii::use_json=T): nothing
missing, nothing extra, nothing changed.

With --json-with-path (LogZeroMQ::JSON_WITH_PATH), every message must have
exactly one frame, {"_path":"<path>",...}: its path is read from there, and
it must equal the log's line with "_path":"<path>" inserted after the "{".
RECEIVED may then also be a directory of files a log shipper wrote, one
frame per line, in <path>.log (e.g. rsyslog, Scripts/check-trace-rsyslog):
each line must be in the file of its path. Without --json-with-path such a
directory holds frame 2 of each message, one per line, in the file named
after its frame 1 (Scripts/logstash-style-sub.py).

Which paths are compared:
  default          every path received and every JSON *.log file in logdir:
                   a log file nobody published, or a published path without
                   a log file, is an error;
  --paths a,b      exactly these: each must have received records and a log,
                   and no other path may have been received.
--map RECV=LOG compares the received path RECV with LOG.log (e.g. dns-2=dns
when a second filter's path was renamed but its records are those of dns.log).
--unpublished NAME: nothing may have been received for path NAME (its log
may exist; it is not compared).

Exits 0 if everything matches, 1 with a description of each mismatch if not
(on stderr, and appended to $TEST_DIAGNOSTICS when btest sets it).
"""

import argparse
import glob
import json
import os
import re
import sys
from collections import OrderedDict

from diagnostics import report_problems

MAX_SHOWN = 300


def show(b, at=0):
    """A bytes value for messages: whole if short, else a window around
    offset `at`."""
    if len(b) <= MAX_SHOWN:
        return repr(b)
    start = max(0, at - MAX_SHOWN // 3)
    window = repr(b[start:start + MAX_SHOWN])
    return (f"{'...' if start else ''}{window}{'...' if start + MAX_SHOWN < len(b) else ''}"
            f" ({len(b)} bytes, shown from byte {start})")


PATH_KEY = re.compile(rb'^\{"_path":("(?:[^"\\]|\\.)*")[,}]')


def with_path(path, line):
    """Zeek's JSON log line with "_path":"<path>" as its first key."""
    key = b'{"_path":' + json.dumps(path).encode()
    return key + (b"}" if line == b"{}" else b"," + line[1:])


def read_shipped(dirname, json_with_path):
    """The frames in DIR/<path>.log, one per line: as read_received (with
    the file's path as frame 1 unless json_with_path)."""
    messages, errors = [], []
    for fname in sorted(glob.glob(os.path.join(dirname, "*"))):
        with open(fname, "rb") as f:
            data = f.read()
        if data and not data.endswith(b"\n"):
            errors.append(f"{fname}: last line has no newline")
        file_path = os.path.basename(fname)[:-4] if fname.endswith(".log") else None
        for n, frame in enumerate(data.split(b"\n")[:-1], 1):
            if not json_with_path:
                if file_path is None:
                    errors.append(f"{fname}:{n}: not a <path>.log file: {show(frame)}")
                else:
                    messages.append([file_path.encode("utf-8", "surrogateescape"), frame])
                continue
            m = PATH_KEY.match(frame)
            if m is not None and json.loads(m.group(1)) != file_path:
                errors.append(f"{fname}:{n}: a record of another path: {show(frame)}")
            messages.append([frame])
    return messages, errors


def read_received(fname, json_with_path=False):
    per_path = OrderedDict()
    errors = []
    if os.path.isdir(fname):
        messages, errors = read_shipped(fname, json_with_path)
    else:
        with open(fname, encoding="utf-8") as f:
            messages = [[s.encode("utf-8", "surrogateescape") for s in json.loads(line)["frames"]]
                        for line in f]
    for n, frames in enumerate(messages, 1):
        if json_with_path:
            m = PATH_KEY.match(frames[0]) if len(frames) == 1 else None
            if m is None:
                errors.append(f"{fname}:{n}: expected one frame starting with "
                              f'{{"_path":"...", got {len(frames)}: '
                              + ", ".join(show(x) for x in frames))
                continue
            path = json.loads(m.group(1))
            per_path.setdefault(path, []).append(frames[0])
            continue
        if len(frames) != 2:
            errors.append(f"{fname}:{n}: message has {len(frames)} frames, expected 2: "
                          + ", ".join(show(x) for x in frames))
            continue
        path = frames[0].decode("utf-8", "surrogateescape")
        per_path.setdefault(path, []).append(frames[1])
    return per_path, errors


def read_log(fname):
    with open(fname, "rb") as f:
        data = f.read()
    if not data:
        return []
    if not data.endswith(b"\n"):
        raise ValueError(f"{fname}: last line has no newline (log not complete?)")
    lines = data[:-1].split(b"\n")
    if not lines[0].startswith(b"{"):
        raise ValueError(f"{fname}: not a JSON log (first line {show(lines[0])}); "
                         "was LogAscii::use_json=T set?")
    return lines


def compare(path, got, want, logname):
    """Returns a list of problems with one path."""
    if got == want:
        return []

    if len(got) < len(want):
        missing = len(want) - len(got)
        count = f"{path}: received {len(got)} records, {logname} has {len(want)}: {missing} missing"
        if not got:
            return [f"{path}: nothing received, {logname} has {len(want)} records"]
        if got == want[missing:]:
            return [count + " (exactly the FIRST ones: were they written before the ZeroMQ"
                    " filter existed, or before the subscriber was connected?)"]
        if got == want[:len(got)]:
            return [count + " (exactly the LAST ones: lost at shutdown?)"]
        problems = [count]
    elif len(got) > len(want):
        problems = [f"{path}: received {len(got)} records, {logname} has only {len(want)}"]
    else:
        problems = []

    for i in range(min(len(got), len(want))):
        if got[i] != want[i]:
            at = first_difference(got[i], want[i])
            problems.append(
                f"{path}: record {i + 1} differs from line {i + 1} of {logname} "
                f"(first difference at byte {at}):\n"
                f"    received: {show(got[i], at)}\n"
                f"    log:      {show(want[i], at)}")
            break
    else:
        problems.append(f"{path}: first extra record: {show(got[len(want)])}")
    return problems


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("received", help="output file of zmq-sub.py")
    p.add_argument("--logdir", default=".", help="directory of Zeek's JSON logs (default .)")
    p.add_argument("--paths", help="comma-separated list: compare exactly these paths")
    p.add_argument("--map", action="append", default=[], metavar="RECV=LOG",
                   help="compare received path RECV with LOG.log")
    p.add_argument("--unpublished", action="append", default=[], metavar="NAME",
                   help="path that must not have been published (repeatable)")
    p.add_argument("--json-with-path", action="store_true",
                   help="messages of one frame, {\"_path\":\"<path>\",...} (JSON_WITH_PATH)")
    p.add_argument("--min-records", type=int, default=1,
                   help="fewest records each compared path must have (default 1)")
    args = p.parse_args()

    mapping = {}
    for m in args.map:
        recv, sep, log = m.partition("=")
        if not sep or not recv or not log:
            p.error(f"--map wants RECV=LOG, got {m!r}")
        mapping[recv] = log

    received, problems = read_received(args.received, args.json_with_path)

    for name in args.unpublished:
        if name in received:
            problems.append(f"{name}: {len(received[name])} records received, but this path "
                            f"must not be published; first: {show(received[name][0])}")

    logs = {os.path.basename(f)[:-4] for f in glob.glob(os.path.join(args.logdir, "*.log"))}

    if args.paths is not None:
        paths = [x for x in args.paths.split(",") if x]
        for extra in received.keys() - set(paths):
            problems.append(f"{extra}: {len(received[extra])} records received for a path "
                            f"that should not have been published (expected only {', '.join(paths)})")
    else:
        mapped_logs = {mapping.get(r, r) for r in received}
        unpublished = logs - mapped_logs - set(args.unpublished)
        for log in sorted(unpublished):
            problems.append(f"{log}: {log}.log exists but nothing was received for it")
        paths = [r for r in received if r not in args.unpublished]

    summary = []
    for path in paths:
        logname = mapping.get(path, path) + ".log"
        logfile = os.path.join(args.logdir, logname)
        got = received.get(path, [])
        try:
            want = read_log(logfile)
        except FileNotFoundError:
            problems.append(f"{path}: {len(got)} records received, but there is no {logname}")
            continue
        except ValueError as e:
            problems.append(str(e))
            continue
        if args.json_with_path:
            want = [with_path(path, line) for line in want]
        problems += compare(path, got, want, logname)
        if len(want) < args.min_records:
            problems.append(f"{path}: only {len(want)} records in {logname}, expected at least "
                            f"{args.min_records}: the test does not test much")
        summary.append(f"{path}={len(got)}")

    if not paths:
        problems.append("nothing to compare: no message received and no path given")

    if problems:
        return report_problems(f"compare-json-logs.py: {args.received}", problems)

    print(f"compare-json-logs.py: all records match: {' '.join(sorted(summary))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
