#!/usr/bin/env python3
"""Times benches/zeek/bench.zeek with each writer and prints the cost per
record over Zeek's None writer.

    benches/zeek/run.py [--n 500000] [--runs 3] [--writers none,ascii,json,zeromq]

Needs `zeek` on PATH with the plugin installed (or ZEEK_PLUGIN_PATH pointing
at build/), GNU time at /usr/bin/time, and pyzmq for the zeromq run. Each
run is `zeek -b NCSA::ZeroMQWriter bench.zeek` in a scratch directory (the
plugin is activated in every run, so all pay the same start-up), timed by
/usr/bin/time: user + system CPU of the whole process (every thread), and
wall time. For zeromq, a subscriber thread here binds Bench::endpoint before
Zeek starts and counts frames; the run fails unless it received exactly
2 x --n (every record, nothing else). The zeromq writer uses hwm 0 and
linger -1, so Zeek exits only once the subscriber has everything: its wall
time includes delivery. The median of --runs is reported; per-record costs
are (writer - none) / n.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "bench.zeek")


def subscriber(endpoint, expected, result, ready):
    import zmq

    ctx = zmq.Context()
    sock = ctx.socket(zmq.SUB)
    sock.setsockopt(zmq.RCVHWM, 0)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    sock.setsockopt(zmq.RCVTIMEO, 1000)
    sock.bind(endpoint)
    ready.set()
    # Counting frames only (a per-message RCVMORE check costs more than
    # the receive itself in pyzmq): the run must end with exactly 2 per
    # record.
    frames = 0
    idle_since = time.monotonic()
    recv = sock.recv
    while frames < 2 * expected:
        try:
            recv()
        except zmq.Again:
            # Up to a minute of silence: Zeek starts, loads, then writes.
            if time.monotonic() - idle_since > 60:
                break
            continue
        frames += 1
        if frames % 1024 == 0:
            idle_since = time.monotonic()
    # Anything more within a second would be too many.
    try:
        recv()
        frames += 1
    except zmq.Again:
        pass
    result["frames"] = frames
    sock.close(linger=0)
    ctx.term()


def run_once(writer, n, plugin, endpoint):
    with tempfile.TemporaryDirectory() as tmp:
        timing = os.path.join(tmp, "time")
        cmd = ["/usr/bin/time", "-f", "%U %S %e", "-o", timing, "zeek", "-b"]
        if plugin:
            cmd.append("NCSA::ZeroMQWriter")
        cmd += [
            SCRIPT,
            "-e",
            f'redef Bench::n = {n}; redef Bench::writer = "{writer}"; '
            f'redef Bench::endpoint = "{endpoint}";',
        ]
        result, ready = {}, threading.Event()
        sub = None
        if writer == "zeromq":
            sub = threading.Thread(
                target=subscriber, args=(endpoint, n, result, ready), daemon=True
            )
            sub.start()
            ready.wait(10)
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"{writer}: zeek failed ({proc.returncode}):\n{proc.stderr}")
        if sub:
            sub.join(120)
            if result.get("frames") != 2 * n:
                sys.exit(f"zeromq: subscriber received {result} for {n} records")
        with open(timing) as f:
            user, system, wall = (float(x) for x in f.read().split()[-3:])
        return user + system, wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--writers", default="none,ascii,json,zeromq")
    ap.add_argument("--endpoint", default="tcp://127.0.0.1:5599")
    args = ap.parse_args()

    plugin = (
        subprocess.run(["zeek", "-N", "NCSA::ZeroMQWriter"], capture_output=True).returncode
        == 0
    )
    writers = args.writers.split(",")
    if "zeromq" in writers and not plugin:
        sys.exit("zeek -N NCSA::ZeroMQWriter fails: install the plugin or set ZEEK_PLUGIN_PATH")
    if "none" not in writers:
        writers.insert(0, "none")

    results = {}
    for w in writers:
        cpu, wall = [], []
        for r in range(args.runs):
            c, t = run_once(w, args.n, plugin, args.endpoint)
            cpu.append(c)
            wall.append(t)
            print(f"{w:7} run {r + 1}: cpu {c:.2f} s, wall {t:.2f} s", flush=True)
        results[w] = (statistics.median(cpu), statistics.median(wall))

    base_cpu, base_wall = results["none"]
    print(f"\n{args.n} records, median of {args.runs} runs")
    print("| writer | CPU s | wall s | CPU µs/record over none | wall / none |")
    print("|---|---|---|---|---|")
    for w, (c, t) in results.items():
        per = (c - base_cpu) / args.n * 1e6
        print(f"| {w} | {c:.2f} | {t:.2f} | {per:.2f} | {t / base_wall:.3f} |")


if __name__ == "__main__":
    main()
