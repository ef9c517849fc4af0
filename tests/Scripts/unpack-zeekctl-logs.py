#!/usr/bin/env python3
"""Lays out what zeekctl archived as check-cluster-run.py reads a cluster run.

Usage: unpack-zeekctl-logs.py LOGDIR --logger NAME --nodes N1,N2,...

LOGDIR is zeekctl's LogDir after "zeekctl stop" with StopWait = 1: every
node's logs, stdout.log and stderr.log are archived there (gzip'ed or not),
as DATE/BASE.FROM-TO[-SUFFIX].log[.gz] (make-archive-name). Each node's
SUFFIX is its name (Files/zmq-zeekctl/node-report.zeek writes the
.log_suffix file that zeekctl's post-terminate reads); the logger's logs
that Zeek itself rotated at shutdown (archive-log) have none. Creates, in the
current directory:

  NODE/out, NODE/err   the node's archived stdout and stderr, for each of
                       --nodes (a directory for each, even if nothing was
                       archived, so that check-cluster-run.py says so);
  LOGGER/BASE.log      every archived file of log BASE concatenated (a log
                       that was rotated during the run has several; the
                       order does not matter to check-cluster-run.py).

There must be just one logger: then every log is the logger's. Fails on a
file it cannot place: a name it cannot parse, stdout or stderr without a
node's suffix, a log with the suffix of another node (only the logger
writes logs).
"""

import argparse
import gzip
import os
import re
import sys

from diagnostics import report_problems

ARCHIVED = re.compile(
    r"^(?P<base>[^.]+)\.\d\d:\d\d:\d\d-(?:\d\d:\d\d:\d\d|current)(?:-(?P<suffix>.+))?"
    r"\.log(?P<gz>\.gz)?$")


def read(fname, gzipped):
    with (gzip.open(fname, "rb") if gzipped else open(fname, "rb")) as f:
        return f.read()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("logdir", help="zeekctl's LogDir")
    p.add_argument("--logger", required=True, help="the logger's node name")
    p.add_argument("--nodes", required=True, help="comma-separated names of the other nodes")
    args = p.parse_args()
    nodes = [args.logger] + [n for n in args.nodes.split(",") if n]

    problems = []
    contents = {}  # (node, file name) -> [bytes, ...]
    for node in nodes:
        os.makedirs(node, exist_ok=True)

    archived = sorted(os.path.join(root, f) for root, _, files in os.walk(args.logdir)
                      for f in files)
    for fname in archived:
        m = ARCHIVED.match(os.path.basename(fname))
        if not m:
            problems.append(f"{fname}: not an archived log's name")
            continue
        base, suffix = m["base"], m["suffix"]
        if base in ("stdout", "stderr"):
            if suffix not in nodes:
                problems.append(f"{fname}: {base} of no known node (suffix {suffix!r}; "
                                f"did node-report.zeek write .log_suffix?)")
                continue
            target = (suffix, "out" if base == "stdout" else "err")
        else:
            if suffix not in (None, args.logger):
                problems.append(f"{fname}: a log archived by {suffix}, which is not the logger")
                continue
            target = (args.logger, base + ".log")
        contents.setdefault(target, []).append(read(fname, m["gz"]))

    for (node, name), parts in sorted(contents.items()):
        with open(os.path.join(node, name), "wb") as f:
            f.write(b"".join(parts))

    if problems:
        return report_problems("unpack-zeekctl-logs.py", problems)

    print(f"unpack-zeekctl-logs.py: {len(archived)} archived files: "
          + " ".join(f"{node}/{name}" for node, name in sorted(contents)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
