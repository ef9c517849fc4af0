#!/usr/bin/env python3
"""Checks a run of a cluster test (zeromqwriter/cluster-*.sh).

Usage: check-cluster-run.py RECEIVED --loggers L1,L2 --others N1,N2,...
           [--require PATH,...] [--unpublished PATH,...] [--spread PATH]
           [--plugin-dir DIR]

RECEIVED is what one zmq-sub.py subscriber received from all loggers. Each
node ran in a directory named after it, with its stdout in "out" and its
stderr in "err" (Scripts/cluster-node); the loggers wrote their JSON logs
there. Checked:

- Records: every message has two frames, [path, json]; for every path, the
  json frames received are, as a multiset, exactly the lines of PATH.log in
  all logger directories together. So every record the loggers wrote was
  published once, by one of them, and nothing else was published. (With two
  loggers, the disk copy and the ZeroMQ copy of a record may be written by
  different loggers: Zeek sends each filter's write to a logger of its own.)
  Paths in --unpublished must have records on disk and none received. Paths
  in --require must have records.
- Nodes: no node's stderr mentions Log::WRITER_ZEROMQ (no error, warning or
  drop report of the writer anywhere). Each of --others printed
  "zeromq-writer-counters 0": it never constructed a ZeroMQ writer backend
  (the writer creates its telemetry counters in its constructor, so no
  counters means no writer and no socket); each logger printed a positive
  count.
- --spread PATH: each logger printed "published PATH N" with N > 0, and the
  Ns add up to the records received for PATH: both loggers published a share
  of PATH's records.
- --plugin-dir DIR: each node printed "zeromq-writer-script PATH" lines
  (Files/zmq-zeekctl/node-report.zeek), at least one, all in DIR: every node
  loaded the plugin's scripts from the plugin installed in DIR, and from no
  other copy of it.

Exits 0 if all holds, 1 with a description of each problem (on stderr, and
appended to $TEST_DIAGNOSTICS when btest sets it) if not.
"""

import argparse
import glob
import json
import os
import re
import sys
from collections import Counter

from diagnostics import report_problems

MAX_SHOWN = 200


def show(b):
    return repr(b if len(b) <= MAX_SHOWN else b[:MAX_SHOWN] + b"...")


def split_list(text):
    return [x for x in (text or "").split(",") if x]


def read_received(fname, problems):
    per_path = {}
    with open(fname, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            frames = [s.encode("utf-8", "surrogateescape") for s in json.loads(line)["frames"]]
            if len(frames) != 2:
                problems.append(f"{fname}:{n}: message has {len(frames)} frames, expected 2: "
                                + ", ".join(show(x) for x in frames))
                continue
            path = frames[0].decode("utf-8", "surrogateescape")
            per_path.setdefault(path, Counter())[frames[1]] += 1
    return per_path


def read_logs(logger, problems):
    """{path: Counter of lines} of one logger's *.log files."""
    logs = {}
    for fname in sorted(glob.glob(os.path.join(logger, "*.log"))):
        path = os.path.basename(fname)[:-4]
        with open(fname, "rb") as f:
            data = f.read()
        if not data:
            continue
        if not data.endswith(b"\n"):
            problems.append(f"{fname}: last line has no newline (log not complete?)")
            continue
        lines = data[:-1].split(b"\n")
        if not lines[0].startswith(b"{"):
            problems.append(f"{fname}: not a JSON log (first line {show(lines[0])})")
            continue
        logs[path] = Counter(lines)
    return logs


def read_text(fname):
    try:
        with open(fname, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return None


def check_records(args, problems, summary):
    received = read_received(args.received, problems)
    per_logger = {lg: read_logs(lg, problems) for lg in args.loggers}

    on_disk = {}
    for logs in per_logger.values():
        for path, lines in logs.items():
            on_disk.setdefault(path, Counter()).update(lines)

    for path in sorted(set(received) | set(on_disk)):
        got = received.get(path, Counter())
        want = on_disk.get(path, Counter())
        shares = ", ".join(f"{lg} {sum(per_logger[lg].get(path, Counter()).values())}"
                           for lg in args.loggers)

        if path in args.unpublished:
            if got:
                problems.append(f"{path}: {sum(got.values())} records received, but this path "
                                f"must not be published")
            if not want:
                problems.append(f"{path}: no records on disk: the test does not test much")
            continue

        missing = want - got
        extra = got - want
        if missing:
            problems.append(
                f"{path}: {sum(missing.values())} of the {sum(want.values())} records on disk "
                f"({shares}) were not received; e.g. {show(next(iter(missing)))}")
        if extra:
            twice = [r for r in extra if r in want]
            what = ("received more often than written (published twice?)" if twice
                    else "received but on no logger's disk")
            problems.append(f"{path}: {sum(extra.values())} records {what}; "
                            f"e.g. {show(next(iter(extra)))}")
        summary.append(f"{path}={sum(got.values())} ({shares})")

    for path in args.require:
        if not on_disk.get(path):
            problems.append(f"{path}: no {path}.log records on any logger "
                            f"({', '.join(args.loggers)})")

    return received


def node_output(node, problems):
    out = read_text(os.path.join(node, "out"))
    err = read_text(os.path.join(node, "err"))
    if out is None or err is None:
        problems.append(f"{node}: no out/err files: did the node run?")
        return "", ""
    return out, err


def check_plugin_dir(node, out, plugin_dir, problems):
    scripts = re.findall(r"^zeromq-writer-script (.*)$", out, re.M)
    if not scripts:
        problems.append(f"{node}: printed no 'zeromq-writer-script PATH' line: did it load "
                        f"the plugin's scripts?")
    top = os.path.join(os.path.realpath(plugin_dir), "")
    elsewhere = [s for s in scripts if not os.path.realpath(s).startswith(top)]
    if elsewhere:
        problems.append(f"{node}: loaded plugin scripts from outside {plugin_dir}: "
                        + ", ".join(elsewhere[:5]))


def check_nodes(args, received, problems):
    published = {}
    for node in args.loggers + args.others:
        out, err = node_output(node, problems)

        writer_lines = [x for x in err.splitlines() if "WRITER_ZEROMQ" in x]
        if writer_lines:
            problems.append(f"{node}: the ZeroMQ writer reported on stderr: "
                            + " | ".join(writer_lines[:5]))

        counts = re.findall(r"^zeromq-writer-counters (\d+)$", out, re.M)
        if not counts:
            problems.append(f"{node}: printed no 'zeromq-writer-counters N' line "
                            f"(did it reach zeek_done?); stdout: {out.strip()!r}")
        elif node in args.others and int(counts[-1]) != 0:
            problems.append(f"{node}: has {counts[-1]} ZeroMQ writer counters: a "
                            f"{'worker' if node.startswith('worker') else 'non-logger'} "
                            f"node constructed ZeroMQ writers")
        elif node in args.loggers and int(counts[-1]) == 0:
            problems.append(f"{node}: has no ZeroMQ writer counters: the logger "
                            f"constructed no ZeroMQ writer")

        if args.plugin_dir:
            check_plugin_dir(node, out, args.plugin_dir, problems)

        if args.spread and node in args.loggers:
            m = re.findall(rf"^published {re.escape(args.spread)} (\d+)$", out, re.M)
            if not m:
                problems.append(f"{node}: printed no 'published {args.spread} N' line")
            else:
                published[node] = int(m[-1])

    if args.spread and len(published) == len(args.loggers):
        got = sum(received.get(args.spread, Counter()).values())
        for node, n in published.items():
            if n == 0:
                problems.append(f"{node}: published none of the {args.spread} records "
                                f"(published: {published})")
        if sum(published.values()) != got:
            problems.append(f"{args.spread}: the loggers' sent counters add up to "
                            f"{sum(published.values())} ({published}), but {got} "
                            f"records were received")
    return published


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("received", help="output file of zmq-sub.py")
    p.add_argument("--loggers", required=True, type=split_list,
                   help="comma-separated logger node directories")
    p.add_argument("--others", default=[], type=split_list,
                   help="comma-separated directories of the other nodes")
    p.add_argument("--require", default=[], type=split_list,
                   help="comma-separated paths that must have records")
    p.add_argument("--unpublished", default=[], type=split_list,
                   help="comma-separated paths written to disk only")
    p.add_argument("--spread", help="path whose records both loggers must share")
    p.add_argument("--plugin-dir",
                   help="directory of the installed plugin every node must have loaded")
    args = p.parse_args()

    problems = []
    summary = []
    received = check_records(args, problems, summary)
    published = check_nodes(args, received, problems)

    if problems:
        return report_problems("check-cluster-run.py", problems)

    print("check-cluster-run.py: every record received once: " + " ".join(summary))
    if published:
        print(f"check-cluster-run.py: {args.spread} published by "
              + ", ".join(f"{k} {v}" for k, v in published.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
